"""Episodic problems with an instance per run (``instance = "per-run"``): each run draws its own
model of a random family from a child of its run seed, the same for every agent of the run;
everything downstream (V*_0, regret, readouts, samples to epsilon) is per run."""

import numpy as np
import pytest

from experiments.testing import check_agent
from mdp import envs
from mdp.loop import MDPJob, kernel_model, optimal_value, stacked_models
from tracking.rng import INSTANCE_TAG, TUNING_BRANCH, instance_seeds, run_seeds
from tracking.runner import execute
from tracking.validate import InputError

ARGS = {"n_states": 12, "n_actions": 3, "branching": 3}
AGENTS = "ce-greedy,psrl,reinforce"
CURVES = ("regret", "simple_regret_greedy", "simple_regret_behaviour")


def _job(runs=5, seed=4, instance="per-run", agents=AGENTS, env="garnet", args=ARGS, **kw):
    return MDPJob(env, agents, 6, 30, runs, seed, env_args=dict(args), instance=instance, **kw)


@pytest.fixture(scope="module")
def per_run():
    job = _job()
    return job, execute(job)


@pytest.mark.nojit
def test_instance_seeds_are_a_child_of_each_runs_own_key():
    """Run r's instance seed is the first word of SeedSequence(seed, spawn_key=run key +
    (INSTANCE_TAG,)), shifted to 63 bits; it does not depend on the other runs, and tuning runs
    (another branch) and other seeds draw other ones."""
    for branch in (None, TUNING_BRANCH):
        got = instance_seeds(7, 4, 2, branch)
        for i, r in enumerate(range(2, 6)):
            key = (r,) if branch is None else (branch, r)
            ss = np.random.SeedSequence(7, spawn_key=(*key, INSTANCE_TAG))
            assert got[i] == int(ss.generate_state(1, dtype=np.uint64)[0]) >> 1
        assert np.array_equal(got[1:], instance_seeds(7, 3, 3, branch))
    evaluation, tuning = instance_seeds(7, 50), instance_seeds(7, 50, branch=TUNING_BRANCH)
    assert len(set(evaluation) | set(tuning)) == 100
    assert not set(evaluation) & set(instance_seeds(8, 50))
    assert not set(evaluation) & {int(s) >> 1 for s in run_seeds(7, 50)}


def test_instances_differ_across_runs_and_every_agent_of_a_run_shares_its_own(per_run):
    """The saved seeds and V* are the same for every agent of a run, distinct across runs, and
    V*_0 is that of the instance its seed builds."""
    job, res = per_run
    seeds, v_star = res.extra["instance_seed"], res.extra["v_star"]
    assert seeds.shape == v_star.shape == (3, 5)
    assert np.array_equal(seeds, np.broadcast_to(seeds[0], seeds.shape))
    assert np.array_equal(v_star, np.broadcast_to(v_star[0], v_star.shape))
    assert np.array_equal(seeds[0], instance_seeds(4, 5))
    assert len(set(v_star[0])) == 5
    for s, v in zip(seeds[0], v_star[0]):
        assert v == optimal_value(envs.garnet(**ARGS, seed=int(s)), 6)
    assert res.info["v_star"] is None
    assert res.config["instance"] == "per-run" and "seed" not in res.config["args"]


def test_a_run_equals_a_fixed_instance_run_on_its_instance(per_run):
    """Bit for bit: run r of every agent is run r of a fixed-instance job on instance r (built by
    hand from the saved seed, with the same run seed: the first r + 1 runs, the last kept)."""
    job, res = per_run
    for r in range(res.runs):
        seed = int(res.extra["instance_seed"][0, r])
        fixed = execute(_job(r + 1, instance="fixed", args={**ARGS, "seed": seed}))
        assert fixed.info["v_star"] == res.extra["v_star"][0, r]
        for key in CURVES:
            assert np.array_equal(getattr(fixed, key)[:, r], getattr(res, key)[:, r]), (r, key)


def test_batches_and_a_later_start_give_the_same_runs(per_run, monkeypatch):
    """One run per batch gives the numbers of one batch of every run."""
    job, res = per_run
    monkeypatch.setenv("CELAB_BATCH_WORK", "1")
    again = execute(_job())
    for key in (*CURVES, "instance_seed", "v_star"):
        a = getattr(again, key) if key in CURVES else again.extra[key]
        b = getattr(res, key) if key in CURVES else res.extra[key]
        assert np.array_equal(a, b), key


def test_tuning_runs_draw_other_instances(per_run):
    """A job on the tuning branch draws the tuning runs' instance seeds."""
    job, res = per_run
    tuning = _job(agents="ce-greedy")
    tuning.set_branch(TUNING_BRANCH)
    got = execute(tuning)
    assert np.array_equal(got.extra["instance_seed"][0], instance_seeds(4, 5,
                                                                       branch=TUNING_BRANCH))
    assert not set(got.extra["instance_seed"][0]) & set(res.extra["instance_seed"][0])


def test_fixed_instance_numbers_are_the_kernels_on_the_one_model():
    """A fixed-instance job (the default) computes what the loop computes on the one model with
    its V*: the kernel called directly as before instances per run existed, bit for bit."""
    from mdp._episodic_loop import simulate

    args = {**ARGS, "seed": 11}
    job = _job(4, instance="fixed", args=args)
    assert job.config["instance"] == "fixed" and job.info["v_star"] is not None
    res = execute(job)
    assert not res.extra
    m = envs.garnet(**args)
    v_star = optimal_value(m, 6)
    for i, agent in enumerate(job.agent_objs):
        out = [np.zeros((4, job.checkpoints.size)) for _ in CURVES]
        simulate(agent.params(), kernel_model(m), np.ascontiguousarray(m.initial), 6, 30,
                 run_seeds(4, 4), job.checkpoints, v_star, False, False, *out,
                 np.zeros(1, dtype=np.uint8))
        for key, a in zip(CURVES, out):
            assert np.array_equal(getattr(res, key)[i], a), (agent.label, key)


def test_deep_sea_draws_an_instance_per_run():
    """deep-sea takes a seed too: runs differ in their right actions, not in V*."""
    job = _job(3, agents="ce-greedy", env="deep-sea", args={"n": 4})
    res = execute(job)
    assert len(set(res.extra["instance_seed"][0])) == 3
    assert np.allclose(res.extra["v_star"][0], 0.99)


@pytest.mark.nojit
def test_stacked_instances_keep_the_kernel_arrays_types():
    """Each row of the stacked arrays has the dtype and write flag of kernel_model's arrays, so
    that the loop's run compiles once for both; instances of different sizes are refused."""
    models = [envs.garnet(**ARGS, seed=s) for s in (1, 2)]
    stacked = stacked_models(models)
    for row, field in zip((a[1] for a in stacked), (*kernel_model(models[1]),
                                                    models[1].initial)):
        assert row.dtype == field.dtype and row.flags.writeable == field.flags.writeable
        assert np.array_equal(row, field)
    with pytest.raises(InputError, match="differ in size"):
        stacked_models([models[0], envs.garnet(12, 3, 2, seed=1)])


@pytest.mark.nojit
@pytest.mark.parametrize("env, args, words", [
    ("riverswim", {}, "'riverswim' has none"),
    ("garnet", {**ARGS, "seed": 3}, "leave seed out of args"),
])
def test_bad_per_run_problems_are_refused(env, args, words):
    with pytest.raises(InputError, match=words):
        _job(2, env=env, args=args)


@pytest.mark.nojit
def test_a_model_object_cannot_draw_instances():
    with pytest.raises(InputError, match="a model file is one instance"):
        MDPJob(envs.garnet(**ARGS), "ce-greedy", 3, 5, 2, instance="per-run")


@pytest.mark.slow
def test_per_run_instances_keep_the_contracts():
    """The contract checks (determinism, threads, batches, companions, bounds per run: each
    run's instance rebuilt from its seed, rerun from the configuration) with an instance per
    run."""
    check_agent("ce-greedy", "mdp", "garnet", args=ARGS, options={"instance": "per-run"})

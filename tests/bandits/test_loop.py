"""The shared bandit loop: exact agent definitions, determinism, common random numbers."""

import os
import subprocess
import sys

import numpy as np
import pytest

import bandits
from bandits.agents import REGISTRY
from tracking.rng import run_seeds

from .reference import reference_run

ENVS = {
    "bernoulli": bandits.Bernoulli([0.2, 0.5, 0.5, 0.45], name="b4"),
    "gaussian": bandits.Gaussian([0.1, 0.4, 0.4, -0.2], sigma=0.7, name="g4"),
}


VARIANTS = {"etc": {"m": 3}, "greedy-q0": {"round_robin": False, "q0": 0.3},
            "epsilon-greedy-q0": {"round_robin": False, "q0": -1.0, "epsilon": 0.2}}


@pytest.mark.nojit
@pytest.mark.parametrize("family", sorted(ENVS))
@pytest.mark.parametrize("name", sorted(REGISTRY) + ["greedy-q0", "epsilon-greedy-q0"])
def test_kernel_matches_the_definitions_step_by_step(name, family):
    """For every agent, the jitted loop equals a plain-Python reading of docs/algorithms.md."""
    env = ENVS[family]
    agent = REGISTRY[name.removesuffix("-q0")](**VARIANTS.get(name, {}))
    # six runs: ucb's loop advances runs in blocks of four, so a full and a partial block
    horizon, runs, seed = 300, 6, 11
    res = bandits.run(env, [agent], horizon, runs, seed=seed, checkpoints=[1, 2, 5, 17, 80, 299])
    seeds = run_seeds(seed, runs)
    for r in range(runs):
        regret, simple, pulls = reference_run(agent, env, horizon, seeds[r], set(res.steps))
        np.testing.assert_allclose(res.regret[0, r], regret, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(res.simple_regret[0, r], simple, rtol=1e-9, atol=1e-12)
        assert np.array_equal(res.extra["pulls"][0, r], pulls)


def test_result_layout():
    res = bandits.run("linspace10", "ucb,thompson", horizon=500, runs=4, seed=3)
    assert res.agents == ("ucb", "thompson")
    assert res.regret.shape == res.simple_regret.shape == (2, 4, res.steps.size)
    assert res.steps[-1] == 500 and res.steps[0] == 1
    assert res.extra["pulls"].shape == (2, 4, 10)
    assert np.all(res.extra["pulls"].sum(axis=2) == 500)
    # regret is cumulative: non-decreasing, between 0 and T * max gap
    assert np.all(np.diff(res.regret, axis=2) >= 0)
    assert np.all(res.regret[..., -1] <= 500 * 0.8)
    assert res.config["agents"] == ["ucb:c=2.0", "thompson"]
    assert res.config["env"] == "linspace10" and res.config["checkpoints"] == res.steps.tolist()


def test_same_seed_same_numbers_other_seed_other_numbers():
    a = bandits.run("close10", "ucb,thompson,reinforce", 2000, 6, seed=5)
    b = bandits.run("close10", "ucb,thompson,reinforce", 2000, 6, seed=5)
    c = bandits.run("close10", "ucb,thompson,reinforce", 2000, 6, seed=6)
    assert np.array_equal(a.regret, b.regret) and np.array_equal(a.simple_regret, b.simple_regret)
    assert not np.array_equal(a.regret[:, :, -1], c.regret[:, :, -1])


def test_common_random_numbers_companions_do_not_change_a_curve():
    alone = bandits.run("linspace10", "ucb", 3000, 8, seed=2)
    crowd = bandits.run("linspace10", "greedy,thompson,ucb,reinforce", 3000, 8, seed=2)
    assert np.array_equal(alone.regret[0], crowd.regret[2])
    assert np.array_equal(alone.extra["pulls"][0], crowd.extra["pulls"][2])


@pytest.mark.nojit
def test_runs_are_prefix_stable():
    """Run r depends on (seed, r) only: 3 runs equal the first 3 of 7 (what resuming needs)."""
    few = bandits.run("close10", "kl-ucb,reinforce", 1000, 3, seed=9)
    many = bandits.run("close10", "kl-ucb,reinforce", 1000, 7, seed=9)
    assert np.array_equal(few.regret, many.regret[:, :3])


@pytest.mark.nojit
def test_all_arms_equal_gives_exactly_zero_regret():
    env = bandits.Bernoulli([0.3, 0.3, 0.3])
    res = bandits.run(env, "greedy,ucb,thompson,reinforce", 1000, 4)
    assert np.all(res.regret == 0.0) and np.all(res.simple_regret == 0.0)


_THREADS_SCRIPT = """
import sys, numpy as np, bandits
res = bandits.run("linspace10", list(bandits.agents.REGISTRY), 3000, 5, seed=4)
np.save(sys.argv[1], np.stack([res.regret, res.simple_regret]))
"""


def test_bit_identical_across_thread_counts(tmp_path):
    out = {}
    for threads in ("1", "2"):
        path = tmp_path / f"t{threads}.npy"
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        subprocess.run([sys.executable, "-c", _THREADS_SCRIPT, str(path)], env=env, check=True)
        out[threads] = np.load(path)
    assert np.array_equal(out["1"], out["2"])


def test_memory_does_not_grow_with_the_horizon():
    short = bandits.run("linspace10", "greedy", 10**3, 2)
    long = bandits.run("linspace10", "greedy", 10**6, 2)
    assert long.regret.nbytes <= 2 * short.regret.nbytes


@pytest.mark.nojit
def test_validation_errors():
    with pytest.raises(ValueError, match="horizon must be >= 1"):
        bandits.run("close10", "ucb", 0, 1)
    with pytest.raises(ValueError, match="runs must be >= 1"):
        bandits.run("close10", "ucb", 10, 0)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        bandits.run("close10", "ucb", 10, 1, seed=-1)
    with pytest.raises(ValueError, match="unknown bandit environment"):
        bandits.run("nope", "ucb", 10, 1)
    with pytest.raises(ValueError, match="unknown bandit agent"):
        bandits.run("close10", "ucb,nope", 10, 1)

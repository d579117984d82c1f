"""The linear-bandit setting: exact agent definitions step by step, the basis reduction, OFUL's
sublinear regret, the sphere's instances, footprints, experiment files and bad input.

Determinism, thread counts, batch sizes, common random numbers and regret bounds of every
agent and environment: tests/test_contracts.py."""

import dataclasses
import json
import math
import re

import numpy as np
import pytest

import bandits
import bandits.linear as lin
from bandits._agents import linear as pieces
from bandits.linear_agents import REGISTRY
from experiments.testing import check_agent
from tests.cli_helpers import messages, run_main
from tracking import rng
from tracking.results import load_npz, save_npz
from tracking.rng import run_seeds

from .linear_reference import reference_run

#: A fixed instance: four arms of unequal norms in R^3, and theta*.
FIXED = lin.LinearBandit([[0.93, 0.11, 0.47], [0.21, 0.87, -0.33], [-0.41, 0.29, 0.81],
                          [0.63, 0.58, 0.12]],
                         [0.31, 0.52, -0.17], sigma=0.8, name="fixed4")
SPHERE = lin.RandomSphere(d=3, n_arms=5, sigma=0.5)

#: Variants checked besides every agent at its defaults: name -> (registry name, parameters).
VARIANTS = {
    "lin-greedy-epsilon-0.3": ("lin-greedy", {"lam": 0.5, "epsilon": 0.3}),
    "lin-greedy-uniform": ("lin-greedy", {"epsilon": 1.0}),
    "oful-tuned": ("oful", {"lam": 0.5, "delta": 0.2, "theta_norm": 2.0, "c": 0.3}),
    "lin-ts-scaled": ("lin-ts", {"lam": 2.0, "scale": 0.4}),
    "lin-reinforce-normalise": ("lin-reinforce", {"normalise": True, "alpha": 0.3}),
    "lin-reinforce-entropy-bonus": ("lin-reinforce", {"baseline": "none", "entropy": 0.5,
                                                      "bonus": 0.3}),
    "lin-rloo-bonus": ("lin-rloo", {"group": 3, "alpha": 0.5, "bonus": 0.2}),
    "lin-grpo-kl": ("lin-grpo", {"group": 5, "epochs": 3, "kl": 0.2, "clip": 0.1,
                                 "bonus": 0.1}),
    "lin-grpo-unclipped": ("lin-grpo", {"group": 2, "epochs": 1, "clip": math.inf,
                                        "alpha": 1.0}),
}
NAMES = sorted(REGISTRY) + sorted(VARIANTS)


def _agent(name):
    registry_name, params = VARIANTS.get(name, (name, {}))
    return REGISTRY[registry_name](**params)


def _instances(env, seed, runs):
    x, means = env.instances(seed, 0, runs)
    if x.shape[0] == 1:
        return np.repeat(x, runs, axis=0), np.repeat(means, runs, axis=0)
    return x, means


#: Rounding allowed between the kernel's rank-1 updates and the reference's direct solves.
RTOL, ATOL = 1e-9, 1e-12


@pytest.mark.nojit
@pytest.mark.parametrize("env", [FIXED, SPHERE], ids=["fixed", "sphere"])
@pytest.mark.parametrize("name", NAMES)
def test_kernel_matches_the_definitions_step_by_step(name, env):
    """The jitted loop against a plain-Python reading of docs/algorithms.md, with readouts after
    every round: the same arms (so the same regret to the last bit, and pulls), both readouts
    to rounding."""
    agent = _agent(name)
    horizon, runs, seed = 120, 3, 11
    res = lin.run(env, [agent], horizon, runs, seed=seed, checkpoints=range(1, horizon + 1))
    x, means = _instances(env, seed, runs)
    for r, s in enumerate(run_seeds(seed, runs)):
        ref = reference_run(agent, x[r], means[r], env.sigma, horizon, s, set(res.checkpoints))
        assert np.array_equal(res.regret[0, r], ref["regret"]), r
        assert np.array_equal(res.extra["pulls"][0, r], ref["pulls"]), r
        for key in ("greedy", "behaviour"):
            got = getattr(res, f"simple_regret_{key}")[0, r]
            assert np.allclose(got, ref[key], rtol=RTOL, atol=ATOL), (r, key)


@pytest.mark.nojit
@pytest.mark.parametrize("name", NAMES)
def test_pieces_match_the_estimates_step_by_step(name):
    """Driving the kernel's pieces round by round: the arm of every round is the reference's,
    and after every update theta_hat (CE agents) or w (softmax agents) is the reference's;
    OFUL's norms ||x_k||^2_{V^{-1}} and lin-ts's Cholesky factor of V are those of V itself."""
    agent = _agent(name)
    horizon, seed = 80, np.uint64(run_seeds(5, 1)[0])
    x = np.ascontiguousarray(FIXED.features)
    mu = np.ascontiguousarray(FIXED.means)
    ref = reference_run(agent, x, mu, FIXED.sigma, horizon, seed, set())
    params = agent.params(FIXED)
    state = pieces.lin_init(params, x)
    st = rng.new_state(seed, rng.SALT_AGENT)
    counts = np.zeros(FIXED.n_arms, dtype=np.int64)
    v = agent.get_params().get("lam", 0.0) * np.eye(FIXED.dim)
    for t in range(1, horizon + 1):
        a = pieces.lin_select(params, state, x, counts, t, st)
        assert a == ref["arms"][t - 1], t
        counts[a] += 1
        pieces.lin_update(params, state, x, counts, a, ref["rewards"][t - 1], t)
        estimate = state.w if hasattr(state, "w") else state.theta
        assert np.allclose(estimate, ref["estimates"][t - 1], rtol=RTOL, atol=ATOL), t
        v += np.outer(x[a], x[a])
        if hasattr(state, "norms"):
            direct = np.einsum("kj,jl,kl->k", x, np.linalg.inv(v), x)
            assert np.allclose(state.norms, direct, rtol=1e-9), t
        if hasattr(state, "chol"):
            assert np.allclose(state.chol, np.linalg.cholesky(v), rtol=1e-9, atol=1e-12), t


@pytest.mark.nojit
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_declared_footprints_are_what_the_pieces_allocate(name):
    """The memory guard's numbers (LinearJob.run_state_bytes) against lin_init's arrays."""
    record = REGISTRY[name]().params(FIXED)
    x = np.ascontiguousarray(FIXED.features)
    state = pieces.lin_init(record, x)
    assert pieces.footprint(record, FIXED.n_arms, FIXED.dim) == sum(a.nbytes for a in state)


#: Hyperparameters written as integers: the record must keep its field types.
AS_INTEGERS = {"lin-greedy": {"lam": 2, "epsilon": 1}, "oful": {"lam": 2, "theta_norm": 3, "c": 2},
               "lin-ts": {"lam": 2, "scale": 2}, "lin-reinforce": {"alpha": 1, "entropy": 1},
               "lin-rloo": {"group": 4.0, "alpha": 1},
               "lin-grpo": {"group": 4.0, "clip": 1, "epochs": 2.0, "alpha": 1}}


@pytest.mark.nojit
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_record_types_do_not_depend_on_how_numbers_are_written(name):
    default = REGISTRY[name]().params(FIXED)
    written = REGISTRY[name](**AS_INTEGERS[name]).params(FIXED)
    assert type(written) is type(default)
    assert tuple(map(type, written)) == tuple(map(type, default)) and written != default


def test_lin_greedy_on_basis_vectors_plays_as_greedy_on_gaussian_arms():
    """On the standard basis a ridge estimate is theta_hat_k = S_k / (lam + N_k): the
    unstructured sample mean as lam -> 0. With every mean far below 0 (each first reward is
    negative: P(N(-5, 1) > 0) < 3e-7 per arm), lin-greedy's lowest-index ties make it pull arms
    0..K-1 once, as greedy's round robin does, and the reward streams are shared: from then on
    both pull argmax of the same means, so their regret and pulls agree in every run."""
    means = [-5.0, -5.6, -5.3, -5.15, -6.0]
    horizon, runs, seed = 400, 20, 3
    linear = lin.run("basis", "lin-greedy:lam=1e-06", horizon, runs, seed=seed,
                     env_args={"means": means, "sigma": 1.0})
    greedy = bandits.run(bandits.Gaussian(means, 1.0), "greedy", horizon, runs, seed=seed)
    assert np.array_equal(linear.checkpoints, greedy.checkpoints)
    assert np.array_equal(linear.extra["pulls"], greedy.extra["pulls"])
    assert np.array_equal(linear.regret, greedy.regret)
    assert np.any(linear.extra["pulls"][0].max(axis=1) < horizon - len(means))  # it switches


def test_oful_regret_grows_sublinearly_on_the_sphere():
    """On sphere d = 5 (K = 50) OFUL's regret over rounds T/2..T is below that over 1..T/2:
    Z_r = R_r(T) - 2 R_r(T/2) has mean < 0 (a linear regret has E Z = 0). One-sided test on 32
    runs of a fixed seed: mean(Z) + 3 standard errors < 0 (a linear regret passes with
    probability about 0.1%)."""
    horizon, runs = 2000, 32
    res = lin.run("sphere", "oful", horizon, runs, seed=1, env_args={"d": 5},
                  checkpoints=[horizon // 2, horizon])
    z = res.regret[0, :, 1] - 2.0 * res.regret[0, :, 0]
    assert z.mean() + 3.0 * z.std(ddof=1) / math.sqrt(runs) < 0.0


@pytest.mark.nojit
def test_sphere_instances_are_unit_vectors_drawn_per_run_from_the_seed():
    x, means = SPHERE.instances(4, 0, 6)
    assert x.shape == (6, 5, 3) and means.shape == (6, 5)
    assert np.allclose(np.linalg.norm(x, axis=2), 1.0)
    assert not np.allclose(means[0], means[1])  # every run its own instance
    later, later_means = SPHERE.instances(4, 3, 6)  # a run's instance: its seed and index only
    assert np.array_equal(later, x[3:]) and np.array_equal(later_means, means[3:])
    assert not np.allclose(SPHERE.instances(5, 0, 1)[1], means[:1])
    tuning = SPHERE.instances(4, 0, 1, branch=rng.TUNING_BRANCH)[1]
    assert not np.allclose(tuning, means[:1])
    _, theta = SPHERE.draw(4, 2)
    assert np.isclose(np.linalg.norm(theta), 1.0)
    assert np.allclose(means[2], x[2] @ theta, rtol=1e-12)


@pytest.mark.nojit
def test_every_agent_of_a_run_faces_its_instance():
    res = lin.run(SPHERE, "lin-greedy,lin-rloo", 30, 3, seed=2)
    _, means = SPHERE.instances(2, 0, 3)
    assert np.array_equal(res.extra["means"][0], means)
    assert np.array_equal(res.extra["means"][1], means)
    assert res.info["means"] is None and res.info["dim"] == 3


# --- experiment files and the command line ----------------------------------------------------

EXPERIMENT = """\
seed = 4

[[problem]]
setting = "linear-bandit"
env = "sphere"
args = { d = 4, n_arms = 6 }
horizon = 300
runs = 4
agents = ["oful", "lin-ts", "lin-grpo:group=4"]

[[problem]]
setting = "linear-bandit"
name = "two-features"
features = [[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]]
theta = [0.2, 0.5]
sigma = 0.5
horizon = 200
runs = 3
agents = ["lin-greedy", "lin-reinforce"]
"""


def test_experiment_file_runs_resumes_and_reruns_to_the_same_numbers(tmp_path, monkeypatch,
                                                                      capsys):
    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT)
    code, _, err = run_main(monkeypatch, capsys, "run", str(exp), "--out", str(tmp_path / "out"),
                            "--no-plots")
    assert code == 0, err
    out = tmp_path / "out"
    saved = load_npz(out / "results" / "sphere.npz")
    api = lin.run("sphere", "oful,lin-ts,lin-grpo:group=4", 300, 4, seed=4,
                  env_args={"d": 4, "n_arms": 6})
    assert np.array_equal(saved.regret, api.regret)
    assert {k: v for k, v in saved.config.items() if k != "delta"} == api.config
    summary = json.loads((out / "summary.json").read_text())
    problems = {p["problem"]: p for p in summary["problems"]}
    assert problems["sphere"]["setting"] == "linear-bandit"
    assert {"best_arm_share", "regret_over_log_t"} <= set(problems["sphere"]["agents"][0])

    # an interrupted folder: the first two runs saved, no summary; --resume completes them
    full = load_npz(out / "results" / "two-features.npz")
    cut = {k: v[:, :2] for k, v in full.extra.items()}
    save_npz(dataclasses.replace(full, regret=full.regret[:, :2],
                                 simple_regret_greedy=full.simple_regret_greedy[:, :2],
                                 simple_regret_behaviour=full.simple_regret_behaviour[:, :2],
                                 extra=cut), out / "results" / "two-features.npz")
    (out / "summary.json").unlink()
    code, _, err = run_main(monkeypatch, capsys, "run", str(out / "config.toml"), "--resume",
                            "--no-plots")
    assert code == 0, err
    resumed = load_npz(out / "results" / "two-features.npz")
    assert resumed.runs == 3
    for key in ("regret", "simple_regret_greedy", "simple_regret_behaviour"):
        assert np.array_equal(getattr(resumed, key), getattr(full, key)), key
    assert np.array_equal(resumed.extra["pulls"], full.extra["pulls"])

    code, _, err = run_main(monkeypatch, capsys, "run", str(out / "config.toml"), "--out",
                            str(tmp_path / "again"), "--no-plots")
    assert code == 0, err
    for name in ("sphere", "two-features"):
        a = load_npz(out / "results" / f"{name}.npz")
        b = load_npz(tmp_path / "again" / "results" / f"{name}.npz")
        assert np.array_equal(a.regret, b.regret) and a.config == b.config


BAD = {
    "d < 1": ('env = "sphere"\nargs = { d = 0 }', "args", "d must be >= 1"),
    "n_arms < 2": ('env = "sphere"\nargs = { d = 3, n_arms = 1 }', "args", "n_arms must be >= 2"),
    "a missing d": ('env = "sphere"', "sphere needs the argument 'd'", "'d'"),
    "unknown arg": ('env = "sphere"\nargs = { d = 3, k = 4 }', "args", "no argument 'k'"),
    "sigma <= 0 in args": ('env = "basis"\nargs = { means = [0.1, 0.2], sigma = 0.0 }', "args",
                           "sigma must be > 0"),
    "unequal features": ("features = [[1.0, 0.0], [1.0]]\ntheta = [0.1, 0.2]", "features",
                         "equal length"),
    "theta of another length": ("features = [[1.0, 0.0], [0.0, 1.0]]\ntheta = [0.1]", "theta",
                                "must have 2 numbers"),
    "sigma <= 0": ("features = [[1.0, 0.0], [0.0, 1.0]]\ntheta = [0.1, 0.2]\nsigma = -1.0",
                   "sigma", "sigma must be > 0"),
    "one arm": ("features = [[1.0, 0.0]]\ntheta = [0.1, 0.2]", "features", "at least 2 rows"),
    "unknown env": ('env = "cube"', "env", "env must be one of"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys, case):
    source, _, rule = BAD[case]
    exp = tmp_path / "bad.toml"
    exp.write_text(f'[[problem]]\nsetting = "linear-bandit"\n{source}\nhorizon = 10\nruns = 2\n'
                   'agents = ["oful"]\n')
    code, out, err = run_main(monkeypatch, capsys, "run", str(exp), "--out", str(tmp_path / "out"))
    lines = messages(err)
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith(f"error: {exp}:") and rule in lines[0], lines[0]
    assert "Traceback" not in err and not (tmp_path / "out").exists()


@pytest.mark.nojit
@pytest.mark.parametrize("call,rule", [
    (lambda: lin.RandomSphere(0), "d must be >= 1"),
    (lambda: lin.RandomSphere(3, n_arms=1), "n_arms must be >= 2"),
    (lambda: lin.LinearBandit([[1.0, 0.0], [1.0]], [0.0, 0.0]), "equal length"),
    (lambda: lin.LinearBandit([[1.0], [0.0]], [0.5], sigma=0.0), "sigma must be > 0"),
    (lambda: lin.make("sphere", d=3, radius=2), "no argument 'radius'"),
    (lambda: lin.run("sphere", "oful", 10, 2, env_args={"d": "x"}), "must be an integer"),
    (lambda: REGISTRY["oful"](delta=1.0), "delta must lie in (0, 1)"),
    (lambda: REGISTRY["lin-ts"](scale=-1.0), "scale must be"),
    (lambda: REGISTRY["lin-greedy"](epsilon=1.5), "epsilon must be a number in [0, 1]"),
    (lambda: REGISTRY["lin-greedy"](epsilon=-0.1), "epsilon must be a number in [0, 1]"),
    (lambda: REGISTRY["lin-greedy"](epsilon=math.nan), "epsilon must be a number in [0, 1]"),
    (lambda: REGISTRY["lin-greedy"](epsilon="0.5"), "epsilon must be a number in [0, 1]"),
    (lambda: REGISTRY["lin-greedy"](epsilon=True), "epsilon must be a number in [0, 1]"),
    (lambda: lin.run(FIXED, "ucb", 10, 2), "unknown linear-bandit agent 'ucb'"),
])
def test_the_python_api_refuses_bad_input_by_name(call, rule):
    with pytest.raises(ValueError, match=re.escape(rule)):
        call()


TUNE = """\
seed = 3

[tune]
runs = 6
objective = "regret"
lin-reinforce = { alpha = [1e-09, 1.0] }

[[problem]]
setting = "linear-bandit"
name = "two-features"
features = [[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]]
theta = [0.2, 0.9]
horizon = 300
runs = 4
agents = ["oful", "lin-reinforce"]
"""


def test_tuning_runs_the_tuning_seeds_and_picks_the_better_step_size(tmp_path, monkeypatch,
                                                                     capsys):
    """alpha = 1e-9 leaves the linear softmax uniform (regret about 0.37 per round), alpha = 1
    learns the best arm within tens of rounds: on any seeds the second has the lower regret."""
    exp = tmp_path / "tune.toml"
    exp.write_text(TUNE)
    code, _, err = run_main(monkeypatch, capsys, "tune", str(exp), "--out", str(tmp_path / "t"))
    assert code == 0, err
    tuned = (tmp_path / "t" / "tuned.toml").read_text()
    assert '"lin-reinforce:alpha=1.0' in tuned


def test_the_dask_executor_gives_the_local_numbers():
    pytest.importorskip("distributed")
    from experiments import files
    from tracking.executors import DaskExecutor, ExecutorSpec
    from tracking.runner import arrays_of, execute

    job, fixed = files.build_jobs(files.parse(EXPERIMENT))
    with DaskExecutor(ExecutorSpec("dask", "local:2")) as ex:
        for j in (job, fixed):
            got, here = arrays_of(ex.execute(j)), arrays_of(execute(j))
            assert sorted(got) == sorted(here)
            assert all(np.array_equal(got[k], here[k]) for k in got)


@pytest.mark.parametrize("args,budget,words", [
    ("{ d = 100000 }", "horizon = 10\nruns = 2", "more than the memory limit"),  # V: d^2
    ("{ d = 50 }", "horizon = 100000000\nruns = 2000", "more than 24 hours"),
])
def test_the_memory_and_work_guards_refuse_what_cannot_run(tmp_path, monkeypatch, capsys, args,
                                                           budget, words):
    exp = tmp_path / "big.toml"
    exp.write_text(f'[[problem]]\nsetting = "linear-bandit"\nenv = "sphere"\nargs = {args}\n'
                   f'{budget}\nagents = ["oful"]\n')
    monkeypatch.setenv("CELAB_MEMORY_LIMIT", "4GiB")
    code, _, err = run_main(monkeypatch, capsys, "run", str(exp), "--out", str(tmp_path / "o"))
    lines = messages(err)
    assert code == 2 and len(lines) == 1 and words in lines[0], err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("name", ["reinforce", "rloo", "grpo"])
def test_linear_softmax_agents_on_basis_vectors_are_the_tabular_ones(name):
    """With X = I the logits are w and w moves by the tabular agent's step: on the same rewards
    and agent stream the linear agent pulls the tabular one's arms (rounding differs by an ulp:
    the kernel adds its step as one vector, so the curves agree to rounding)."""
    means, horizon, runs = [0.2, 0.8, 0.5, 0.45], 400, 6
    params = "alpha=0.3,bonus=0.1" if name == "reinforce" else "group=4,alpha=0.5"
    linear = lin.run("basis", f"lin-{name}:{params}", horizon, runs, seed=8,
                     env_args={"means": means, "sigma": 0.5})
    tabular = bandits.run(bandits.Gaussian(means, 0.5), f"{name}:{params}", horizon, runs, seed=8)
    assert np.array_equal(linear.extra["pulls"], tabular.extra["pulls"])
    assert np.array_equal(linear.regret, tabular.regret)
    for key in ("simple_regret_greedy", "simple_regret_behaviour"):
        assert np.allclose(getattr(linear, key), getattr(tabular, key), rtol=1e-9, atol=1e-12)


def test_the_linear_command_runs_a_named_linear_bandit(tmp_path, monkeypatch, capsys):
    code, out, err = run_main(monkeypatch, capsys, "linear", "--env", "basis", "--env-arg",
                              "means=0.1,0.5,0.3", "--horizon", "200", "--runs", "3",
                              "--algos", "oful,lin-rloo", "--json", "--out", str(tmp_path / "o"))
    assert code == 0, err
    problem, = json.loads(out)["problems"]
    assert problem["setting"] == "linear-bandit" and problem["info"]["means"] == [0.1, 0.5, 0.3]
    saved = load_npz(tmp_path / "o" / "results" / "basis.npz")
    api = lin.run("basis", "oful,lin-rloo", 200, 3, env_args={"means": [0.1, 0.5, 0.3]})
    assert np.array_equal(saved.regret, api.regret)
    code, _, err = run_main(monkeypatch, capsys, "linear", "--env-arg", "d=0", "--out",
                            str(tmp_path / "bad"))
    assert code == 2 and messages(err) == ["error: args: sphere: d must be >= 1, got 0"]
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("value", ["2", "-0.5", "nan", "often"])
def test_a_bad_lin_greedy_epsilon_exits_2_with_one_line(tmp_path, monkeypatch, capsys, value):
    code, _, err = run_main(monkeypatch, capsys, "linear", "--env", "basis", "--env-arg",
                            "means=0.1,0.5", "--algos", f"lin-greedy:epsilon={value}", "--out",
                            str(tmp_path / "o"))
    lines = messages(err)
    assert code == 2 and len(lines) == 1 and "epsilon" in lines[0], err
    assert "Traceback" not in err and not (tmp_path / "o").exists()


def test_lin_greedy_with_epsilon_one_has_its_own_label_and_explores_uniformly():
    """epsilon = 1 pulls uniform arms for ever: each arm's share of the R T pulls is Binomial(R
    T, 1/K) / (R T), so with this fixed seed it lies within 5 standard deviations of 1/K; the
    behaviour readout is a uniform arm's gap in every run."""
    horizon, runs, k_arms = 2000, 8, SPHERE.n_arms
    res = lin.run(SPHERE, "lin-greedy,lin-greedy:epsilon=1.0", horizon, runs, seed=4)
    assert res.agents == ("lin-greedy", "lin-greedy(epsilon=1.0)")
    share = res.extra["pulls"][1].sum(axis=0) / (runs * horizon)
    sd = math.sqrt((1 / k_arms) * (1 - 1 / k_arms) / (runs * horizon))
    assert np.all(np.abs(share - 1 / k_arms) < 5 * sd), share
    means = res.extra["means"][1]
    uniform = means.max(axis=1) - means.mean(axis=1)
    assert np.allclose(res.simple_regret_behaviour[1, :, -1], uniform, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("spec", ["lin-greedy:epsilon=0.3", "lin-greedy:epsilon=1.0,lam=0.5"])
def test_lin_greedy_with_epsilon_keeps_the_contracts(spec):
    """The registry's contract checks run lin-greedy at epsilon = 0, which draws nothing; with
    exploration it draws from the agent stream, which must keep determinism under threads and
    batches and leave the other agents' numbers alone."""
    check_agent(spec, "linear-bandit", env="sphere", args={"d": 3, "n_arms": 5})

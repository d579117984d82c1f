"""The continuing (average-reward) loop: exact pieces first, then regret against theory."""


import numpy as np
import pytest

import mdp
from experiments import files
from mdp.agents import CONTINUING_REGISTRY
from mdp.continuing import gain, optimal_gain
from tracking.stats import growth_exponent, mean_ci

AGENTS = sorted(CONTINUING_REGISTRY)


def _cesaro_gain(m, pi):
    """g = P* r_pi by brute force: P* = lim ((I + P) / 2)^n (the lazy chain is aperiodic and has
    the same Cesaro limit), by 64 squarings (rows renormalised against rounding drift),
    independent of the kernel's class decomposition."""
    P_pi = np.einsum("sa,sat->st", pi, m.P)
    r_pi = (pi * m.R).sum(axis=1)
    lazy = 0.5 * (np.eye(m.n_states) + P_pi)
    for _ in range(64):
        lazy = lazy @ lazy
        lazy /= lazy.sum(axis=1, keepdims=True)
    return lazy @ r_pi


@pytest.mark.nojit
def test_exact_gain_matches_the_cesaro_limit_on_multichain_and_unichain_policies():
    gen = np.random.default_rng(0)
    models = [mdp.envs.chain(6), mdp.envs.deep_sea(3, seed=1), mdp.envs.gridworld("4x4"),
              mdp.envs.riverswim(5), mdp.envs.garnet(8, 3, 2, seed=1)]
    for m in models:
        for _ in range(6):
            pol = gen.integers(0, m.n_actions, size=m.n_states)
            pi = np.eye(m.n_actions)[pol]
            if gen.random() < 0.5:  # stochastic policies too
                pi = 0.5 * pi + 0.5 * gen.dirichlet(np.ones(m.n_actions), size=m.n_states)
            np.testing.assert_allclose(gain(m, pi), _cesaro_gain(m, pi), atol=1e-9)
    # two recurrent classes: left end (0.001 per step) and right end (1 per step)
    m = mdp.envs.chain(6)
    g = gain(m, np.array([0, 0, 0, 1, 1, 1]))
    np.testing.assert_allclose(g, [0.001, 0.001, 0.001, 1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="actions in"):
        gain(m, np.array([0, 2, 0, 0, 0, 0]))


def test_optimal_gain():
    assert optimal_gain(mdp.envs.chain(6)) == pytest.approx(1.0, abs=1e-12)
    m = mdp.envs.riverswim(6)
    assert optimal_gain(m) == pytest.approx(mdp.relative_value_iteration(m).gain, abs=1e-8)
    # two absorbing states with different rewards: the gain depends on the start
    P = np.zeros((3, 1, 3))
    P[0, 0, 1] = P[0, 0, 2] = 0.5
    P[1, 0, 1] = P[2, 0, 2] = 1.0
    split = mdp.FiniteMDP(P, np.array([[0.0], [1.0], [0.0]]))
    with pytest.raises(ValueError, match="same from every state"):
        mdp.run_continuing(split, "psrl", 10, 1)


@pytest.mark.nojit
def test_pseudo_regret_on_one_state_is_steps_times_the_gap():
    """One state, two actions with means 0.25 and 0.75: every step adds 0 or 0.5 exactly."""
    m = mdp.FiniteMDP(np.ones((1, 2, 1)), np.array([[0.25, 0.75]]))
    res = mdp.run_continuing(m, AGENTS, 400, 6, seed=2, checkpoints=np.arange(1, 401))
    assert res.info["rho_star"] == 0.75
    bad_pulls = res.regret / 0.5
    assert np.array_equal(bad_pulls, np.rint(bad_pulls))
    steps = np.diff(np.concatenate([np.zeros(res.regret.shape[:2] + (1,)), bad_pulls], axis=2))
    assert set(np.unique(steps)) <= {0.0, 1.0}
    # ce-greedy plays its first (random) action once, then keeps it: regret t * gap or 0
    i = res.agents.index("ce-greedy")
    per_step = res.regret[i] / res.checkpoints
    assert np.all((per_step == 0.0) | (per_step == 0.5))
    assert np.all(per_step == per_step[:, :1])


def test_result_layout_episodes_and_bounds():
    res = mdp.run_continuing("riverswim", AGENTS, 3000, 3, seed=1)
    assert res.setting == "continuing" and res.samples_per_step == 1
    assert res.regret.shape == res.simple_regret.shape == (len(AGENTS), 3, res.checkpoints.size)
    assert res.checkpoints[-1] == 3000 and np.array_equal(res.samples, res.checkpoints)
    assert res.config["steps"] == 3000 and "horizon" not in res.config
    rho = res.info["rho_star"]
    assert np.all(res.regret <= res.checkpoints * rho + 1e-9)  # rewards are >= 0
    assert np.all(res.simple_regret >= -1e-12) and np.all(res.simple_regret <= rho + 1e-12)
    # JOA 2010, prop. 18: at most S A log2(8 T / (S A)) episodes in T >= S A steps
    ep = res.extra["episodes"]
    assert np.all(np.diff(ep, axis=2) >= 0) and np.all(ep >= 1)
    assert np.all(ep[..., -1] <= 12 * np.log2(8 * 3000 / 12))


def _run_kernel(name, cps, stop, runs=2):
    from mdp._continuing_loop import simulate
    from mdp.loop import kernel_model
    from tracking.rng import run_seeds

    m = mdp.envs.riverswim(4)
    shape = (runs, len(cps))
    regret, simple = np.full(shape, -1.0), np.full(shape, -1.0)
    done = simulate(CONTINUING_REGISTRY[name]().params(), kernel_model(m), m.initial,
                    run_seeds(0, runs), np.asarray(cps, dtype=np.int64), 0.5, False, 100, 1e-6,
                    regret, simple, simple.copy(), np.zeros(shape, dtype=np.int64), stop)
    return done, regret


@pytest.mark.parametrize("name", AGENTS)
def test_a_set_stop_flag_ends_every_run_at_once(name):
    done, regret = _run_kernel(name, [10, 50], np.ones(1, dtype=np.uint8))
    assert done.tolist() == [0, 0] and np.all(regret == -1.0)
    done, regret = _run_kernel(name, [10, 50], np.zeros(1, dtype=np.uint8))
    assert done.tolist() == [1, 1] and np.all(regret > -1.0)


def test_the_stop_flag_stops_runs_from_another_thread():
    """Runs of 10^15 steps are stopped after their first checkpoint (read every 4096 steps and
    at every sweep of value iteration): the kernel returns, every run marked incomplete."""
    import threading

    stop = np.zeros(1, dtype=np.uint8)
    shape = (2, 2)
    out = {}
    regret = np.full(shape, -1.0)

    def work():
        from mdp._continuing_loop import simulate
        from mdp.loop import kernel_model
        from tracking.rng import run_seeds

        m = mdp.envs.riverswim(4)
        out["done"] = simulate(CONTINUING_REGISTRY["ucrl2"]().params(), kernel_model(m),
                               m.initial, run_seeds(0, 2), np.array([100, 10**15]), 0.5, False,
                               100, 1e-6, regret, np.zeros(shape), np.zeros(shape),
                               np.zeros(shape, np.int64), stop)

    worker = threading.Thread(target=work)
    worker.start()
    while np.any(regret[:, 0] == -1.0) and worker.is_alive():
        worker.join(0.01)
    stop[0] = 1
    worker.join(120)
    assert not worker.is_alive()
    assert out["done"].tolist() == [0, 0]
    assert np.all(regret[:, 0] > -1.0) and np.all(regret[:, 1] == -1.0)


def test_bernoulli_rewards_and_validation():
    res = mdp.run_continuing("riverswim", "psrl,ucrl2", 500, 2, rewards="bernoulli")
    assert res.config["rewards"] == "bernoulli"
    with pytest.raises(ValueError, match="unknown continuing MDP agent 'q-learning'"):
        mdp.run_continuing("riverswim", "q-learning", 10, 1)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        mdp.run_continuing("riverswim", "psrl", 0, 1)
    with pytest.raises(ValueError, match="delta must be > 0"):
        mdp.run_continuing("riverswim", "ucrl2:delta=0", 10, 1)


def test_experiment_file_and_command(tmp_path):
    from typer.testing import CliRunner

    from cli import app

    text = """
seed = 2
[[problem]]
setting = "continuing"
env = "riverswim"
args = { n_states = 5 }
steps = 800
runs = 2
agents = ["psrl", { name = "ucrl2", delta = 0.1 }]
"""
    spec = files.parse(text)
    table = spec["problems"][0]
    assert table["steps"] == 800 and table["epsilon"] == 0.1 and "horizon" not in table
    with pytest.raises(files.FileError, match="unknown key 'horizon'"):
        files.parse(text.replace("steps = 800", "steps = 800\nhorizon = 5"))
    with pytest.raises(files.FileError, match="missing key 'steps'"):
        files.parse(text.replace("steps = 800", ""))
    path = tmp_path / "cont.toml"
    path.write_text(text)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out), "--no-plots",
                                      "--json"])
    assert result.exit_code == 0, result.output
    saved = files.read(out / "config.toml")["problems"][0]
    assert saved["setting"] == "continuing" and saved["agents"][1] == "ucrl2:delta=0.1"
    again = CliRunner().invoke(app, ["run", str(out / "config.toml"), "--out",
                                     str(tmp_path / "again"), "--no-plots", "--json"])
    assert again.exit_code == 0, again.output
    a = np.load(out / "results" / "riverswim.npz")
    b = np.load(tmp_path / "again" / "results" / "riverswim.npz")
    assert np.array_equal(a["regret"], b["regret"])


# --- against theory ------------------------------------------------------------------------
# Fixed seeds; tolerances come from the spread over runs (95% Student-t intervals, or the
# bootstrap interval of the growth exponent). The effects are large.


@pytest.fixture(scope="module")
def river_short():
    # Osband, Russo and Van Roy (2013), table 1's budget: RiverSwim(6), T = 10^4, 20 runs
    return mdp.run_continuing("riverswim", "psrl,ucrl2", 10_000, 20, seed=1)


@pytest.fixture(scope="module")
def river_long():
    return mdp.run_continuing("riverswim", "psrl,ucrl2", 1_000_000, 8, seed=1)


def test_psrl_regret_is_far_below_ucrl2s(river_short):
    """Osband et al.'s finding (106 against 3,640 there): here about 40 times smaller."""
    m_p, h_p = mean_ci(river_short.regret[0, :, -1])
    m_u, h_u = mean_ci(river_short.regret[1, :, -1])
    assert 10 * (m_p + h_p) < m_u - h_u


def test_ucrl2_regret_grows_sublinearly(river_long):
    """Over [10^5, 10^6] UCRL2's regret grows like t^0.30 (measured, interval [0.27, 0.34])."""
    growth = growth_exponent(river_long.samples, river_long.regret[1])
    assert growth.high < 0.6
    assert np.all(river_long.simple_regret[1, :, -1] < 1e-9)


def test_psrl_per_step_regret_falls_to_zero(river_long):
    """PSRL's regret stops growing: after 10^4 steps it gains nothing on rho* per step (its
    pseudo-regret still carries the transitions' noise, of order sqrt(t) / 20 per run, so it
    can go down; the check is on the mean slope with its interval)."""
    rho = river_long.info["rho_star"]
    i = np.searchsorted(river_long.checkpoints, 10_000)
    slope = (river_long.regret[0, :, -1] - river_long.regret[0, :, i]) / (
        river_long.checkpoints[-1] - river_long.checkpoints[i])
    m, h = mean_ci(slope)
    assert m + h < 0.001 * rho
    first = river_long.regret[0, :, i] / river_long.checkpoints[i]
    assert np.mean(first) > 10 * (m + h)
    assert np.all(river_long.simple_regret[0, :, -1] < 1e-9)

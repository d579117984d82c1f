"""celab's MDPs as Gymnasium environments (mdp/gym.py), and mdp.evaluate with a policy given as
a function (mdp/solvers.py)."""

import contextlib
import functools
import io
import re
import textwrap
import warnings

import numpy as np
import pytest

import mdp
from mdp import envs
from tests.gym_helpers import page, run_python, table_row


@pytest.fixture(scope="module")
def gym():
    """Gymnasium, an optional dependency (the tests that need it skip without it)."""
    return pytest.importorskip("gymnasium")


@pytest.fixture(scope="module")
def mgym(gym):
    import mdp.gym

    return mdp.gym


def _id(mgym, name):
    """The id of a registry name (KeyError: a registered environment without an id)."""
    return {n: env_id for env_id, n in mgym.IDS.items()}[name]


def _episode(env, actions, seed=None):
    """(observations, rewards, terminated, truncated) of one episode under ``actions``."""
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for a in actions:
        obs, r, terminated, truncated, _ = env.step(int(a))
        out += [obs, r, terminated, truncated]
        if terminated or truncated:
            break
    return out


# ---------------------------------------------------------------------------------------------
# every registered environment
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(envs.ENVS))
def test_every_registered_env_passes_gymnasiums_checker(gym, mgym, name):
    from gymnasium.utils.env_checker import check_env

    env = gym.make(_id(mgym, name))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the checker's warnings fail the test
        check_env(env.unwrapped)
    u = env.unwrapped
    assert (u.observation_space.n, u.action_space.n) == (u.model.n_states, u.model.n_actions)
    assert u.model.source["env"] == name
    assert env.spec.max_episode_steps is None  # celab truncates, no TimeLimit wrapper
    assert u.horizon == mgym.DEFAULT_HORIZON and u.gamma is None


def test_the_page_lists_every_id_with_its_arguments(mgym):
    text = page()
    for env_id, name in mgym.IDS.items():
        row = table_row(env_id, name, envs.ENVS[name], mgym.DEFAULT_ARGS.get(name, {}))
        assert row in text, row


@pytest.mark.nojit
def test_keyword_arguments_are_the_builders(gym, mgym):
    env = gym.make("celab/RiverSwim-v0", n_states="8", horizon=7)  # strings, as from a CLI
    assert env.unwrapped.model.n_states == 8 and env.unwrapped.horizon == 7
    garnet = gym.make("celab/Garnet-v0", n_states=5, seed=3).unwrapped.model
    assert garnet.source["args"] == {"n_states": 5, "n_actions": 3, "branching": 3, "seed": 3}
    with pytest.raises(ValueError, match="has no argument 'size'"):
        gym.make("celab/RiverSwim-v0", size=3)
    # li-chain depends on its discount: gamma is the builder's, and discounts unless H is given
    li = gym.make("celab/LiChain-v0", gamma=0.9).unwrapped
    assert li.model.source["args"]["gamma"] == 0.9 and li.gamma == 0.9 and li.horizon is None
    li = gym.make("celab/LiChain-v0", gamma=0.9, horizon=4).unwrapped
    assert li.model.source["args"]["gamma"] == 0.9 and li.gamma is None and li.horizon == 4


def test_make_with_the_module_prefix_registers_on_the_way_and_twice_is_silent(gym):
    code = textwrap.dedent("""
        import importlib, sys, warnings
        import gymnasium
        assert not [i for i in gymnasium.registry if i.startswith("celab/")]
        warnings.simplefilter("error")  # Gymnasium warns when an id is registered again
        env = gymnasium.make("mdp.gym:celab/RiverSwim-v0", n_states=4)
        assert env.unwrapped.model.n_states == 4
        import mdp.gym
        importlib.reload(mdp.gym)
        import mdp.gym
        print(gymnasium.make("celab/DeepSea-v0").unwrapped.model.n_states)
    """)
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["101"]


# ---------------------------------------------------------------------------------------------
# reset and step
# ---------------------------------------------------------------------------------------------


@pytest.mark.nojit
@pytest.mark.parametrize("m", [envs.riverswim(6), envs.garnet(8, 3, 4, seed=1)],
                         ids=["riverswim", "garnet"])
def test_the_same_seed_gives_the_same_episodes(mgym, m):
    actions = np.random.default_rng(5).integers(0, m.n_actions, size=(4, 30))
    runs = []
    for seed in (11, 11, 12):
        env = mgym.to_gymnasium(m, horizon=30)
        first = _episode(env, actions[0], seed=seed)
        runs.append([first] + [_episode(env, a) for a in actions[1:]])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]  # (the seed is used)
    env = mgym.to_gymnasium(m, horizon=30)  # reseeding an env that has run restarts its draws
    _episode(env, actions[0], seed=99)
    assert _episode(env, actions[0], seed=11) == runs[0][0]


def _dense(m):
    """``m`` rebuilt from its dense P with every row full (implicit successor lists)."""
    P = 0.5 * m.P + 0.5 / m.n_states
    return mdp.FiniteMDP(P, m.R, m.initial)


@pytest.mark.nojit
@pytest.mark.parametrize("m, s, a", [(envs.riverswim(6), 1, 1),
                                     (envs.garnet(10, 3, 4, seed=2), 4, 2),
                                     (envs.gridworld("4x4"), 4, 1),
                                     (_dense(envs.garnet(5, 2, 3, seed=4)), 3, 1)],
                         ids=["riverswim", "garnet", "gridworld", "dense"])
def test_step_samples_the_transition_probabilities(mgym, m, s, a):
    env = mgym.to_gymnasium(m, horizon=1, start=s)
    n = 20_000
    counts = np.zeros(m.n_states)
    env.reset(seed=0)
    for _ in range(n):
        env.reset()
        s2, r, *_ = env.step(a)
        counts[s2] += 1
        assert r == m.R[s, a]  # rewards = "mean": R itself
    p = m.P[s, a]
    # each count is Binomial(n, p): 5 standard errors sqrt(p (1 - p) / n), fixed seed
    assert np.all(np.abs(counts / n - p) <= 5 * np.sqrt(p * (1 - p) / n) + 1e-12)


@pytest.mark.nojit
def test_reset_samples_the_start_distribution_and_bernoulli_rewards_their_mean(mgym):
    m = envs.garnet(6, 2, 3, seed=7)
    start = np.array([0.1, 0.0, 0.3, 0.2, 0.15, 0.25])
    env = mgym.to_gymnasium(m, horizon=1, start=start, rewards="bernoulli")
    n = 20_000
    starts = np.zeros(6)
    ones = np.zeros((6, 2))
    visits = np.zeros((6, 2))
    env.reset(seed=1)
    for i in range(n):
        s, _ = env.reset()
        _, r, *_ = env.step(i % 2)
        starts[s] += 1
        ones[s, i % 2] += r
        visits[s, i % 2] += 1
        assert r in (0.0, 1.0)
    # binomial counts: 5 standard errors, fixed seed
    assert np.all(np.abs(starts / n - start) <= 5 * np.sqrt(start * (1 - start) / n))
    seen = visits > 0
    R = m.R[seen]
    assert np.all(np.abs(ones[seen] / visits[seen] - R) <= 5 * np.sqrt(R * (1 - R) / visits[seen]))


@pytest.mark.nojit
def test_episodes_truncate_at_the_horizon_and_must_then_be_reset(mgym):
    env = mgym.to_gymnasium(envs.riverswim(6), horizon=5)
    env.reset(seed=0)
    flags = [env.step(1)[2:] for _ in range(5)]
    assert flags == [(False, False, {"step": h}) for h in range(1, 5)] + [(False, True,
                                                                             {"step": 5})]
    with pytest.raises(ValueError, match="call reset"):
        env.step(1)
    assert env.reset()[1] == {"step": 0}
    env.step(0)
    discounted = mgym.to_gymnasium(envs.riverswim(6), gamma=0.9)
    discounted.reset(seed=0)
    assert not any(discounted.step(1)[3] for _ in range(500))  # never truncated


@pytest.mark.nojit
def test_episodes_terminate_on_absorbing_zero_reward_states(mgym):
    m = envs.deep_sea(3)
    env = mgym.to_gymnasium(m, horizon=10)
    assert env.terminal.tolist() == [False] * 9 + [True]
    assert not mgym.terminal_states(envs.riverswim(6)).any()
    env.reset(seed=0)
    out = [env.step(h % 2) for h in range(3)]
    assert [o[2:4] for o in out] == [(False, False), (False, False), (True, False)]
    assert out[-1][0] == 9
    # a state that stays but pays is not terminal, nor is one state of a full row
    stay = np.zeros((2, 1, 2))
    stay[:, 0, 1] = 1.0
    assert mgym.terminal_states(mdp.FiniteMDP(stay, [[0.0], [1.0]])).tolist() == [False, False]
    assert mgym.terminal_states(mdp.FiniteMDP(np.ones((1, 2, 1)), [[0.0, 0.0]])).tolist() == [
        True]


@pytest.mark.nojit
@pytest.mark.parametrize("kwargs, message", [
    ({}, "exactly one of horizon"),
    ({"horizon": 3, "gamma": 0.9}, "exactly one of horizon"),
    ({"gamma": 1.0}, "gamma must be in"),
    ({"horizon": 0}, "horizon must be >= 1"),
    ({"horizon": 3, "start": 6}, "start must be <= 5"),
    ({"horizon": 3, "start": [0.5, 0.6, 0, 0, 0, 0]}, "start .*sums to 1.1"),
    ({"horizon": 3, "rewards": "gauss"}, "rewards must be"),
    ({"horizon": 3, "render_mode": "human"}, "do not render"),
])
def test_bad_arguments_raise_one_clear_error(mgym, kwargs, message):
    with pytest.raises(ValueError, match=message):
        mgym.CelabMDPEnv(envs.riverswim(6), **kwargs)


@pytest.mark.nojit
def test_bad_steps_raise(mgym):
    env = mgym.to_gymnasium(envs.riverswim(6), horizon=3)
    with pytest.raises(ValueError, match="call reset"):
        env.step(0)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="not in Discrete"):
        env.step(2)
    with pytest.raises(ValueError, match="bernoulli needs every R"):
        mgym.to_gymnasium(envs.li_chain(3, 0.9), horizon=3, rewards="bernoulli")


# ---------------------------------------------------------------------------------------------
# the exact optimum
# ---------------------------------------------------------------------------------------------


def test_v_star_is_the_optimal_value_from_the_start(mgym):
    from mdp.loop import optimal_value

    m = envs.gridworld("4x4")
    env = mgym.to_gymnasium(m, horizon=12)
    assert "optimal" not in vars(env)  # computed on first access only
    assert np.array_equal(env.optimal.values, mdp.backward_induction(m, 12).values)
    assert env.v_star == pytest.approx(optimal_value(m, 12), rel=1e-14)  # the runs' V*_0
    start = np.array([0.5, 0.5] + [0.0] * (m.n_states - 2))
    from_two = mgym.to_gymnasium(m, horizon=12, start=start)
    assert from_two.v_star == pytest.approx(start @ env.optimal.values[0], rel=1e-14)
    discounted = mgym.to_gymnasium(m, gamma=0.9)
    assert discounted.v_star == pytest.approx(m.initial @ mdp.solve(m, 0.9).values, rel=1e-14)
    assert discounted.optimal.gamma == 0.9


def test_the_q_learning_example_of_the_page_runs_and_prints_what_it_says():
    """The page's example is executed as written; its greedy policy, scored exactly, is close to
    the optimum (but not above it) and the numbers it prints are the page's."""
    pytest.importorskip("gymnasium")
    text = page()
    marker = "<!-- run by tests/mdp/test_gym.py: the q-learning example -->"
    code = re.search(re.escape(marker) + r"\n```python\n(.*?)```", text, re.S).group(1)
    said = re.search(r"It prints `(.*?)`", text).group(1)
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "docs/gymnasium.md", "exec"), namespace)
    assert out.getvalue().strip() == said
    v_star, value = namespace["env"].unwrapped.v_star, namespace["value"]
    assert value <= v_star + 1e-12
    assert v_star - value < 0.01 * v_star
    # the same greedy policy as a table gives the same values
    q, H = namespace["q"], namespace["H"]
    table = q[:H].argmax(axis=2)
    assert np.array_equal(mdp.evaluate(namespace["env"].unwrapped.model, table, horizon=H),
                          namespace["values"])


# ---------------------------------------------------------------------------------------------
# mdp.evaluate with a function
# ---------------------------------------------------------------------------------------------


def _counting(f):
    """``f`` recording its calls (with f's signature, which evaluate reads)."""
    calls = []

    @functools.wraps(f)
    def policy(*args):
        calls.append(args)
        return f(*args)

    return policy, calls


@pytest.mark.nojit
def test_evaluate_takes_a_stationary_function_as_its_table():
    m = envs.garnet(7, 3, 3, seed=5)
    table = np.random.default_rng(0).integers(0, 3, size=7)
    policy, calls = _counting(lambda s: table[s])  # numpy integers are actions
    assert np.array_equal(mdp.evaluate(m, policy, gamma=0.9), mdp.evaluate(m, table, gamma=0.9))
    assert calls == [(s,) for s in range(7)]  # once per state
    assert np.array_equal(mdp.evaluate(m, lambda s: int(table[s]), horizon=4),
                          mdp.evaluate(m, table, horizon=4))
    probs = np.random.default_rng(1).dirichlet(np.ones(3), size=7)
    assert np.array_equal(mdp.evaluate(m, lambda s: probs[s], gamma=0.8),
                          mdp.evaluate(m, probs, gamma=0.8))
    # actions and probabilities mixed: the actions become one-hot rows
    mixed = probs.copy()
    mixed[2] = np.eye(3)[1]
    assert np.array_equal(mdp.evaluate(m, lambda s: 1 if s == 2 else probs[s], horizon=3),
                          mdp.evaluate(m, mixed, horizon=3))


@pytest.mark.nojit
def test_evaluate_takes_a_per_step_function():
    m = envs.riverswim(5)
    best = mdp.backward_induction(m, 6)
    policy, calls = _counting(lambda h, s: best.policy[h, s])
    assert np.array_equal(mdp.evaluate(m, policy, horizon=6), best.values)
    assert calls == [(h, s) for h in range(6) for s in range(5)]

    def with_default(h, s, scale=2.0):  # a parameter with a default is not counted
        return 0

    assert np.array_equal(mdp.evaluate(m, with_default, horizon=2),
                          mdp.evaluate(m, np.zeros((2, 5), dtype=int), horizon=2))


@pytest.mark.nojit
@pytest.mark.parametrize("policy, kwargs, message", [
    (lambda: 0, {"horizon": 2}, "takes 0 required positional"),
    (lambda h, s, t: 0, {"horizon": 2}, "takes 3 required positional"),
    (lambda h, s: 0, {"gamma": 0.9}, "policy\\(h, s\\) needs a horizon"),
    (lambda s: 5, {"gamma": 0.9}, r"policy\(0\) = 5 is not an action in \[0, 2\)"),
    (lambda h, s: -1, {"horizon": 2}, r"policy\(0, 0\) = -1 is not an action"),
    (lambda s: 1.0, {"gamma": 0.9}, r"policy\(0\) returned 1.0 \(must be an integer action"),
    (lambda s: True, {"gamma": 0.9}, r"policy\(0\) returned True"),
    (lambda s: [0.2, 0.2, 0.6], {"gamma": 0.9}, "or a vector of 2 probabilities"),
    (lambda s: [0.5, 0.6], {"gamma": 0.9}, "sums to 1.1"),
    (max, {"gamma": 0.9}, "signature cannot be read"),
])
def test_evaluate_refuses_other_functions_with_one_clear_error(policy, kwargs, message):
    with pytest.raises(ValueError, match=message):
        mdp.evaluate(envs.riverswim(4), policy, **kwargs)

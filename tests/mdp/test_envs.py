"""Built-in environments: dynamics against their published definitions, the registry, Gymnasium."""

from __future__ import annotations

import math
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import mdp
from mdp import envs

L, RIGHT = 0, 1


# --- RiverSwim and the chain -----------------------------------------------------------------


def test_riverswim_dynamics():
    m = envs.riverswim(6)
    P, R = m.P, m.R
    assert P.shape == (6, 2, 6)
    for s in range(6):
        assert P[s, L, max(s - 1, 0)] == 1.0
    np.testing.assert_array_equal(P[0, RIGHT, :2], [0.4, 0.6])
    for s in range(1, 5):
        expect = np.zeros(6)
        expect[[s - 1, s, s + 1]] = [0.05, 0.6, 0.35]
        np.testing.assert_allclose(P[s, RIGHT], expect, rtol=0, atol=0)
    np.testing.assert_array_equal(P[5, RIGHT, 4:], [0.4, 0.6])
    expect_R = np.zeros((6, 2))
    expect_R[0, L] = 0.005
    expect_R[5, RIGHT] = 1.0
    np.testing.assert_array_equal(R, expect_R)
    np.testing.assert_array_equal(m.initial, np.eye(6)[0])
    assert m.config() == {"env": "riverswim", "args": {"n_states": 6}}


def test_riverswim_two_states_and_limits():
    m = envs.riverswim(2)
    np.testing.assert_array_equal(m.P[0, RIGHT], [0.4, 0.6])
    np.testing.assert_array_equal(m.P[1, RIGHT], [0.4, 0.6])
    with pytest.raises(ValueError, match="n_states must be >= 2"):
        envs.riverswim(1)
    with pytest.raises(ValueError, match="n_states must be an integer"):
        envs.riverswim(2.5)


@pytest.mark.parametrize("n", [2, 3, 10])
def test_chain(n):
    m = envs.chain(n)
    for s in range(n):
        assert m.P[s, L, max(s - 1, 0)] == 1.0
        assert m.P[s, RIGHT, min(s + 1, n - 1)] == 1.0
    assert m.R[0, L] == 0.001 and m.R[n - 1, RIGHT] == 1.0
    assert m.R.sum() == pytest.approx(1.001)
    assert m.initial[1] == 1.0
    # always right from the start: n - 2 steps to the end, then 1 per step
    H = n + 3
    assert mdp.backward_induction(m, H).values[0] @ m.initial == pytest.approx(H - (n - 2))


# --- Deep Sea --------------------------------------------------------------------------------


def right_action(m, n, r, c):
    """Which action moves right from cell (r, c), read off the dynamics."""
    s = r * n + c
    target = (r + 1) * n + min(c + 1, n - 1)
    return int(np.flatnonzero(m.P[s, :, target] == 1.0)[0]) if c + 1 < n else None


@pytest.mark.parametrize("seed", [None, 0, 7])
def test_deep_sea(seed):
    n = 6
    m = envs.deep_sea(n, seed=seed)
    S = n * n + 1
    assert (m.n_states, m.n_actions) == (S, 2)
    end = n * n
    np.testing.assert_array_equal(m.P[end, :, end], [1.0, 1.0])
    np.testing.assert_array_equal(m.R[end], [0.0, 0.0])
    np.testing.assert_array_equal(m.P[(n - 1) * n:end, :, end], 1.0)  # last row ends it
    for r in range(n - 1):
        for c in range(n - 1):
            a = right_action(m, n, r, c)
            assert a in (0, 1)
            assert m.R[r * n + c, a] == pytest.approx(-0.01 / n)
            assert m.R[r * n + c, 1 - a] == 0.0
            assert m.P[r * n + c, 1 - a, (r + 1) * n + max(c - 1, 0)] == 1.0
    if seed is None:
        assert all(right_action(m, n, r, c) == 1 for r in range(n - 1) for c in range(n - 1))
    # the optimal return over the n steps of an episode is 1 - 0.01 (bsuite)
    res = mdp.backward_induction(m, n)
    assert res.values[0, 0] == pytest.approx(0.99)
    assert res.values[0, end] == 0.0


def test_deep_sea_mapping_depends_on_the_seed():
    a, b, c = envs.deep_sea(8, seed=1), envs.deep_sea(8, seed=1), envs.deep_sea(8, seed=2)
    np.testing.assert_array_equal(a.P, b.P)
    assert not np.array_equal(a.P, c.P)


# --- FrozenLake ------------------------------------------------------------------------------


def test_gridworld_4x4_slippery_transitions():
    m = envs.gridworld("4x4")
    assert (m.n_states, m.n_actions) == (17, 4)
    end = 16
    third = 1.0 / 3.0
    # state 0, left: left (wall, stays), down (to 4) or up (wall, stays), each 1/3
    np.testing.assert_allclose(m.P[0, 0, [0, 4]], [2 * third, third])
    # state 0, right (2): down (4), right (1), up (stays)
    np.testing.assert_allclose(m.P[0, 2, [0, 1, 4]], [third, third, third])
    # state 14, right: down (wall, stays), right into G (terminal, reward 1), up (to 10)
    np.testing.assert_allclose(m.P[14, 2, [10, 14, end]], [third, third, third])
    assert m.R[14, 2] == pytest.approx(third)
    # state 4, down (1): left (wall, stays at 4), down (8), right (5 is a hole: terminal)
    np.testing.assert_allclose(m.P[4, 1, [4, 8, end]], [third, third, third])
    assert m.R[4, 1] == 0.0
    # holes, the goal and the end state lead to the end state with reward 0
    for s in (5, 7, 11, 12, 15, end):
        np.testing.assert_array_equal(m.P[s, :, end], 1.0)
        np.testing.assert_array_equal(m.R[s], 0.0)
    np.testing.assert_array_equal(m.initial, np.eye(17)[0])


def test_gridworld_deterministic_and_custom_maps():
    m = envs.gridworld(["SFG"], slippery=False)
    assert m.n_states == 4
    assert m.P[0, 2, 1] == 1.0 and m.P[1, 2, 3] == 1.0 and m.R[1, 2] == 1.0
    assert m.P[0, 3, 0] == 1.0  # up into the wall
    two_starts = envs.gridworld("SF/FS")
    np.testing.assert_array_equal(two_starts.initial, [0.5, 0, 0, 0.5, 0])
    assert two_starts.config() == {"env": "gridworld", "args": {"map": ["SF", "FS"],
                                                                 "slippery": True}}


@pytest.mark.parametrize(
    ("bad", "pattern"),
    [
        (["SF", "F"], "same length"),
        (["SX"], "only the letters"),
        (["FFG"], "start cell"),
        ([], "non-empty rows"),
        ("9x9", "start cell|only the letters"),
        (3, "map must be"),
    ],
)
def test_gridworld_bad_maps(bad, pattern):
    with pytest.raises(ValueError, match=pattern):
        envs.gridworld(bad)


def test_gridworld_maps_match_gymnasium():
    frozen_lake = pytest.importorskip("gymnasium.envs.toy_text.frozen_lake")
    assert envs.MAPS == {k: list(v) for k, v in frozen_lake.MAPS.items()}


@pytest.mark.parametrize("name", ["4x4", "8x8"])
@pytest.mark.parametrize("slippery", [True, False])
def test_gridworld_equals_from_gymnasium(name, slippery):
    gymnasium = pytest.importorskip("gymnasium")
    ours = envs.gridworld(name, slippery=slippery)
    theirs = envs.from_gymnasium(gymnasium.make("FrozenLake-v1", map_name=name,
                                                is_slippery=slippery))
    np.testing.assert_array_equal(ours.P, theirs.P)
    np.testing.assert_array_equal(ours.R, theirs.R)
    np.testing.assert_array_equal(ours.initial, theirs.initial)
    a, b = mdp.policy_iteration(ours, 0.99), mdp.policy_iteration(theirs, 0.99)
    np.testing.assert_allclose(a.values, b.values, rtol=0, atol=1e-12)


def dense_from_toy_text(table, n_states, n_actions):
    """An independent conversion: terminal transitions to an extra absorbing state n_states."""
    S = n_states + 1
    P = np.zeros((S, n_actions, S))
    R = np.zeros((S, n_actions))
    for s in range(n_states):
        for a in range(n_actions):
            for prob, s2, r, done in table[s][a]:
                P[s, a, n_states if done else s2] += prob
                R[s, a] += prob * r
    P[n_states, :, n_states] = 1.0
    return P, R


@pytest.mark.parametrize("env_id", ["FrozenLake-v1", "Taxi-v4", "CliffWalking-v1"])
def test_from_gymnasium_toy_text(env_id):
    gymnasium = pytest.importorskip("gymnasium")
    env = gymnasium.make(env_id)
    table = env.unwrapped.P
    nS, nA = env.observation_space.n, env.action_space.n
    m = envs.from_gymnasium(env)
    P, R = dense_from_toy_text(table, nS, nA)
    assert (m.n_states, m.n_actions) == (nS + 1, nA)
    np.testing.assert_allclose(m.P, P, rtol=0, atol=1e-15)
    np.testing.assert_allclose(m.R, R, rtol=0, atol=1e-12)
    init = np.append(env.unwrapped.initial_state_distrib, 0.0)
    np.testing.assert_allclose(m.initial, init / init.sum())
    assert m.config()["env"] == "gymnasium" and m.config()["args"]["id"] == env_id
    assert np.isfinite(mdp.solve(m, 0.95).values).all()


def test_from_gymnasium_by_id_and_duplicates():
    pytest.importorskip("gymnasium")
    m = envs.from_gymnasium("FrozenLake-v1", map_name="4x4", is_slippery=False)
    assert m.config() == {"env": "gymnasium", "args": {"id": "FrozenLake-v1", "map_name": "4x4",
                                                        "is_slippery": False}}
    # a hand-made table with duplicate (prob, next_state) entries and a terminal transition
    table = {0: {0: [(0.25, 1, 1.0, False), (0.25, 1, 1.0, False), (0.5, 0, 2.0, True)]},
             1: {0: [(1.0, 1, 0.0, False)]}}
    fake = SimpleNamespace(unwrapped=SimpleNamespace(P=table))
    m = envs.from_gymnasium(fake)
    np.testing.assert_array_equal(m.P[0, 0], [0.0, 0.5, 0.5])
    assert m.R[0, 0] == pytest.approx(0.25 + 0.25 + 1.0)
    np.testing.assert_array_equal(m.initial, [1.0, 0.0, 0.0])


def test_from_gymnasium_errors(monkeypatch):
    with pytest.raises(ValueError, match="has no transition table"):
        envs.from_gymnasium(SimpleNamespace(unwrapped=SimpleNamespace()))
    bad = SimpleNamespace(unwrapped=SimpleNamespace(P={0: {0: [(1.0, 5, 0.0, False)]}}))
    with pytest.raises(ValueError, match=r"P\[0\]\[0\] must be a list"):
        envs.from_gymnasium(bad)
    monkeypatch.setitem(sys.modules, "gymnasium", None)  # as if not installed
    with pytest.raises(ValueError, match=r"celab\[gym\]"):
        envs.from_gymnasium("FrozenLake-v1")


# --- Garnet ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("S", "A", "b"), [(1, 1, 1), (10, 3, 4), (20, 2, 20), (50, 2, 1)])
def test_garnet_structure(S, A, b):
    m = envs.garnet(S, A, b, seed=3)
    assert (m.n_states, m.n_actions) == (S, A)
    np.testing.assert_array_equal(np.diff(m.indptr), b)
    for row in range(S * A):
        idx = m.indices[m.indptr[row]:m.indptr[row + 1]]
        assert np.all(np.diff(idx) > 0) and idx.min() >= 0 and idx.max() < S
    np.testing.assert_allclose(m.P.sum(axis=2), 1.0, rtol=0, atol=1e-12)
    assert m.R.min() >= 0.0 and m.R.max() < 1.0
    assert m.config() == {"env": "garnet", "args": {"n_states": S, "n_actions": A,
                                                     "branching": b, "seed": 3}}


def test_garnet_is_reproducible():
    a, b, c = envs.garnet(30, 2, 5, seed=1), envs.garnet(30, 2, 5, seed=1), envs.garnet(30, 2, 5)
    np.testing.assert_array_equal(a.P, b.P)
    np.testing.assert_array_equal(a.R, b.R)
    assert not np.array_equal(a.P, c.P)


def test_garnet_successors_are_uniform():
    # each of the 20 states is a successor of a row with probability b / S = 1/4; over 4000 rows
    # its count is Binomial(4000, 1/4). Six standard deviations either way fails ~1e-9.
    rows, p = 20 * 200, 5 / 20
    m = envs.garnet(20, 200, 5, seed=11)
    counts = np.bincount(m.indices, minlength=20)
    assert np.all(np.abs(counts - rows * p) < 6 * math.sqrt(rows * p * (1 - p)))
    # pairs of successors are uniform too: (0, 1) together in a row with prob 5*4/(20*19)
    together = sum(
        {0, 1} <= set(m.indices[m.indptr[r]:m.indptr[r + 1]].tolist()) for r in range(4000))
    p = 20 / 380
    assert abs(together - 4000 * p) < 6 * np.sqrt(4000 * p * (1 - p))
    # Dirichlet(1, ..., 1) on 5 successors: each probability is Beta(1, 4), so it is below 0.1
    # with probability 1 - 0.9^4; a loose bound, as the 5 entries of a row are dependent
    below = (m.probs < 0.1).mean()
    assert abs(below - (1 - 0.9**4)) < 0.02


def test_garnet_limits():
    with pytest.raises(ValueError, match="branching must be <= 5"):
        envs.garnet(5, 2, 6)
    with pytest.raises(ValueError, match="n_states must be >= 1"):
        envs.garnet(0, 2, 1)


def test_large_garnet_builds_and_solves():
    m = envs.garnet(100_000, 4, 10, seed=0)
    assert m.nnz == 4_000_000
    res = mdp.solve(m, 0.99)
    assert res.converged and res.bound < 1e-8
    # the Bellman residual of the returned values is consistent with the bound
    q = np.empty((m.n_states, m.n_actions))
    from mdp._solver_kernels import bellman_q

    bellman_q(m.indptr, m.indices, m.probs, m.R, res.values, 0.99, q)
    assert np.abs(q.max(axis=1) - res.values).max() <= 2 * res.bound


# --- the chain of Li, Wei, Chi, Gu and Chen (2021) --------------------------------------------


def test_li_chain_transitions_and_rewards_by_hand():
    g, p = 0.9, 0.1
    m = envs.li_chain(3, g)
    P, R = m.P, m.R
    assert (m.n_states, m.n_actions) == (7, 3)  # 0, then (1, 1-bar), (2, 2-bar), (3, 3-bar)
    np.testing.assert_array_equal(P[0, :, 0], 1.0)
    np.testing.assert_array_equal(R[0], 0.0)
    tau = [0.5 * g ** (2 * s / 3) for s in range(4)]
    r3 = 0.5 * g ** (2 + 5 / 6)
    for s in (1, 2):  # buffer states: +-gamma^(2s), then the episode ends
        np.testing.assert_array_equal(P[2 * s - 1, :, 0], 1.0)
        np.testing.assert_allclose(R[2 * s - 1], [-(g ** (2 * s)), g ** (2 * s), -(g ** (2 * s))])
    # primary state 3 (number 5): a0 ends, a1 -> 2-bar (4), a2 -> 1-bar (2) w.p. p, else ends
    np.testing.assert_array_equal(P[5, 0], np.eye(7)[0])
    np.testing.assert_array_equal(P[5, 1], np.eye(7)[4])
    np.testing.assert_allclose(P[5, 2], (1 - p) * np.eye(7)[0] + p * np.eye(7)[2], rtol=1e-15)
    np.testing.assert_allclose(R[5], [r3 + g**2 * p * tau[1], 0.0, r3], rtol=1e-15)
    for s in (1, 2, 3):  # adjoint s-bar (number 2s): a1 -> s, a0 and a2 end with gamma tau_s
        np.testing.assert_array_equal(P[2 * s, 1], np.eye(7)[2 * s - 1])
        np.testing.assert_array_equal(P[2 * s, [0, 2], 0], 1.0)
        np.testing.assert_allclose(R[2 * s], [g * tau[s], 0.0, g * tau[s]], rtol=1e-15)
    np.testing.assert_allclose(m.initial, np.full(7, 1 / 7))
    assert m.config() == {"env": "li-chain", "args": {"H": 3, "gamma": 0.9}}


@pytest.mark.parametrize(("H", "g"), [(3, 0.9), (4, 0.9), (9, 0.95), (20, 0.99)])
def test_li_chain_optimal_values(H, g):
    """a1 is optimal everywhere (state 0: all tied, lowest index), V*(s) = gamma^(2s) and
    V*(s-bar) = gamma^(2s+1): the paper's values. Policy iteration is exact."""
    m = envs.li_chain(H, g)
    res = mdp.policy_iteration(m, g)
    assert res.policy[0] == 0 and np.all(res.policy[1:] == 1)
    s = np.arange(1, H + 1)
    expect = np.zeros(2 * H + 1)
    expect[2 * s - 1] = g ** (2 * s)
    expect[2 * s] = g ** (2 * s + 1)
    np.testing.assert_allclose(res.values, expect, rtol=1e-12, atol=1e-13)
    # a strict optimum: a1 beats the other actions in every state but 0
    gaps = res.q[1:, 1] - np.delete(res.q[1:], 1, axis=1).max(axis=1)
    assert gaps.min() > 0


def test_li_chain_longest_chain():
    assert [envs.li_chain_max_levels(g) for g in (0.8, 0.9, 0.95, 0.97, 0.99)] == [2, 4, 9, 16,
                                                                                    51]
    # None takes the longest chain, which is still solved by a1 everywhere
    m = envs.li_chain(gamma=0.97)
    assert m.n_states == 33 and m.config()["args"] == {"H": 16, "gamma": 0.97}
    assert np.all(mdp.policy_iteration(m, 0.97).policy[1:] == 1)
    assert envs.li_chain(4, 0.9, p=0.05).P[7, 2, 4] == 0.05


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"H": 5, "gamma": 0.9}, r"H must be <= 4 for gamma = 0.9, p = 0.1 .*got 5"),
        ({"H": 2, "gamma": 0.9}, r"H must be >= 3"),
        ({"H": 3.5, "gamma": 0.9}, r"H must be an integer"),
        ({"gamma": 0.8}, r"li_chain needs gamma large enough for H >= 3 levels .*H <= 2"),
        ({"H": 3, "gamma": 1.0}, r"gamma must be in \(0, 1\)"),
        ({"H": 3, "gamma": 0.0}, r"gamma must be > 0"),
        ({"H": 3, "gamma": "0.9"}, r"gamma must be a number"),
        ({"H": 3, "gamma": 0.9, "p": 0.0}, r"p must be > 0"),
        ({"H": 3, "gamma": 0.9, "p": 1.5}, r"p must be <= 1"),
        ({"H": 3, "gamma": 0.9, "p": 1.0}, r"H must be <= 2 for gamma = 0.9, p = 1 "),
    ],
)
def test_li_chain_errors(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        envs.li_chain(**kwargs)


# --- registry --------------------------------------------------------------------------------


def test_registry_names():
    assert set(envs.ENVS) == {"riverswim", "chain", "deep-sea", "gridworld", "garnet",
                              "li-chain"}


def test_make_coerces_cli_strings():
    assert envs.make("riverswim", n_states="10").n_states == 10
    m = envs.make("gridworld", map="4x4", slippery="false")
    np.testing.assert_array_equal(m.P, envs.gridworld("4x4", slippery=False).P)
    assert envs.make("deep-sea", n="4", seed="none").config() == {"env": "deep-sea",
                                                                  "args": {"n": 4}}
    assert envs.make("deep-sea", n="4", seed="3").config()["args"]["seed"] == 3
    assert envs.make("garnet", n_states="5", n_actions="2", branching="2").n_states == 5
    assert envs.make("chain").n_states == 10
    m = envs.make("li-chain", H="3", gamma="0.9", p="none")
    assert m.config() == {"env": "li-chain", "args": {"H": 3, "gamma": 0.9}}
    assert envs.make("li-chain", gamma="0.95", p="0.05").config()["args"] == {
        "H": 9, "gamma": 0.95, "p": 0.05}


@pytest.mark.parametrize(
    ("name", "args", "pattern"),
    [
        ("nope", {}, r"unknown MDP environment 'nope' \(known: riverswim"),
        ("riverswim", {"size": "3"}, r"environment 'riverswim' has no argument 'size'"),
        ("riverswim", {"n_states": "abc"}, r"riverswim argument n_states must be an integer"),
        ("riverswim", {"n_states": "1"}, r"n_states must be >= 2"),
        ("riverswim", {"n_states": "2.5"}, r"must be an integer"),
        ("gridworld", {"slippery": "maybe"}, r"slippery must be true or false"),
        ("gridworld", {"slippery": 1}, r"slippery must be true or false"),
        ("garnet", {"n_states": "5", "n_actions": "2"}, r"needs argument 'branching'"),
        ("deep-sea", {"seed": "-1"}, r"seed must be >= 0"),
        ("li-chain", {"gamma": "high"}, r"li-chain argument gamma must be a number"),
    ],
)
def test_make_errors(name, args, pattern):
    with pytest.raises(ValueError, match=pattern):
        envs.make(name, **args)


@pytest.mark.parametrize("name", ["riverswim", "chain", "deep-sea", "gridworld", "garnet",
                                  "li-chain"])
def test_config_rebuilds_the_model(name):
    args = {"garnet": {"n_states": 12, "n_actions": 3, "branching": 4, "seed": 5},
            "deep-sea": {"n": 5, "seed": 2}, "li-chain": {"gamma": 0.93, "p": 0.03}}.get(name, {})
    m = envs.make(name, **args)
    cfg = m.config()
    again = envs.make(cfg["env"], **cfg["args"])
    np.testing.assert_array_equal(m.P, again.P)
    np.testing.assert_array_equal(m.R, again.R)
    np.testing.assert_array_equal(m.initial, again.initial)

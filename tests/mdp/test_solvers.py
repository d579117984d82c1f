"""Exact solvers: closed-form answers, agreement between solvers, guarantees and validation."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mdp
from mdp import FiniteMDP, envs
from mdp import _solver_kernels as K

DISCOUNTED = {
    "value_iteration": mdp.value_iteration,
    "policy_iteration": mdp.policy_iteration,
    "modified_policy_iteration": mdp.modified_policy_iteration,
    "linear_program": mdp.linear_program,
    "solve": mdp.solve,
}


def dense_values(P: np.ndarray, R: np.ndarray, pi: np.ndarray, gamma: float) -> np.ndarray:
    """V^pi by dense linear algebra on the (S, A, S) array, independently of celab's code."""
    P_pi = np.einsum("sa,sat->st", pi, P)
    r_pi = (pi * R).sum(axis=1)
    return np.linalg.solve(np.eye(len(r_pi)) - gamma * P_pi, r_pi)


def brute_force_optimum(P: np.ndarray, R: np.ndarray, gamma: float) -> np.ndarray:
    """V* as the best of all |A|^|S| deterministic policies' values (tiny MDPs only)."""
    S, A = R.shape
    best = np.full(S, -np.inf)
    for code in range(A**S):
        policy = [(code // A**s) % A for s in range(S)]
        best = np.maximum(best, dense_values(P, R, np.eye(A)[policy], gamma))
    return best


# --- a two-state MDP solved by hand ----------------------------------------------------------
#
# State 0: action 0 "stay" pays 1 and stays; action 1 "go" pays 0 and moves to state 1.
# State 1: action 0 "stay" pays 2 and stays; action 1 "back" pays 0 and moves to state 0.
# Staying in 1 for ever is worth V(1) = 2 / (1 - g) (backing off pays 0 now and is dominated).
# In 0: staying for ever is worth 1 / (1 - g); going is worth 0 + g V(1) = 2 g / (1 - g).
# So V(0) = max(1, 2 g) / (1 - g): go when g > 1/2, stay when g < 1/2.
# Q(0, stay) = 1 + g V(0), Q(0, go) = g V(1), Q(1, stay) = 2 + g V(1), Q(1, back) = g V(0).
# Average reward: the gain is 2 (go, then stay); bias h(0) = 0, and from
# g + h(0) = max(1 + h(0), h(1)) = h(1) we get h(1) = 2.


def two_state() -> FiniteMDP:
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[0, 1, 1] = P[1, 0, 1] = P[1, 1, 0] = 1.0
    return FiniteMDP(P, [[1.0, 0.0], [2.0, 0.0]])


@pytest.mark.nojit
@pytest.mark.parametrize("solver", DISCOUNTED.values(), ids=DISCOUNTED.keys())
@pytest.mark.parametrize("g", [0.3, 0.9])
def test_two_state_by_hand(solver, g):
    V1 = 2 / (1 - g)
    V0 = max(1, 2 * g) / (1 - g)
    res = solver(two_state(), g)
    # the span rule's guarantee at epsilon = 1e-8: within 5e-9
    np.testing.assert_allclose(res.values, [V0, V1], rtol=0, atol=1e-8)
    np.testing.assert_allclose(res.q, [[1 + g * V0, g * V1], [2 + g * V1, g * V0]], rtol=0,
                               atol=1e-8)
    np.testing.assert_array_equal(res.policy, [1 if g > 0.5 else 0, 0])
    assert res.gamma == g and res.converged and res.gain is None and res.bias is None


def test_two_state_average_reward():
    res = mdp.relative_value_iteration(two_state())
    assert res.gain == pytest.approx(2.0, abs=1e-8)
    np.testing.assert_allclose(res.bias, [0.0, 2.0], atol=1e-7)
    np.testing.assert_array_equal(res.policy, [1, 0])
    assert res.values is res.bias and res.gamma is None and res.converged


# --- Puterman (1994), section 3.1, fig. 3.1.1 -----------------------------------------------
#
# s1: a11 pays 5 and moves to s1 or s2 with probability 1/2 each; a12 pays 10 and moves to s2.
# s2: a single action a21 paying -1 and staying in s2 (here duplicated as a second action).
# With discount l: V(s2) = -1 / (1 - l); a11 gives V(s1) = (5 + l V(s2) / 2) / (1 - l / 2) and
# a12 gives 10 + l V(s2). For l = 0.95, the discount Puterman uses with this model in chapter 6:
# V(s2) = -20, a11: -4.5 / 0.525 = -8.571..., a12: -9, so a11 is optimal.


def puterman() -> FiniteMDP:
    P = np.zeros((2, 2, 2))
    P[0, 0] = [0.5, 0.5]
    P[0, 1] = [0.0, 1.0]
    P[1, :, 1] = 1.0
    return FiniteMDP(P, [[5.0, 10.0], [-1.0, -1.0]])


@pytest.mark.parametrize("solver", DISCOUNTED.values(), ids=DISCOUNTED.keys())
@pytest.mark.parametrize("lam", [0.95, 0.5, 0.0])
def test_puterman_example(solver, lam):
    V2 = -1 / (1 - lam)
    a11 = (5 + lam * V2 / 2) / (1 - lam / 2)
    a12 = 10 + lam * V2
    res = solver(puterman(), lam)
    np.testing.assert_allclose(res.values, [max(a11, a12), V2], rtol=0, atol=1e-8)
    assert res.policy[0] == (0 if a11 > a12 else 1)
    assert res.policy[1] == 0  # tied actions: the lowest index
    if lam == 0.95:
        np.testing.assert_allclose(res.values, [-8.571428571, -20.0], rtol=0, atol=1e-8)


def test_puterman_finite_horizon():
    # Puterman sec. 4.6.1 (same MDP, horizon 3, no terminal reward), by hand:
    # u_2 = max(5, 10), -1 -> (10, -1) with a12; u_1(s1) = max(5 + (10 - 1)/2, 10 - 1) = 9.5
    # (a11), u_1(s2) = -2; u_0(s1) = max(5 + (9.5 - 2)/2, 10 - 2) = 8.75 (a11), u_0(s2) = -3.
    res = mdp.backward_induction(puterman(), 3)
    np.testing.assert_allclose(res.values, [[8.75, -3], [9.5, -2], [10, -1], [0, 0]])
    np.testing.assert_array_equal(res.policy, [[0, 0], [0, 0], [1, 0]])


# --- RiverSwim backward induction by hand -----------------------------------------------------


@pytest.mark.nojit
def test_riverswim_backward_induction_by_hand():
    # riverswim(3), horizon 2. Last step: Q_1 = R, V_1 = (0.005, 0, 1), policy (left, left (tie,
    # lowest index), right). First step, Q_0 = R + P V_1:
    #   s0: left 0.005 + 0.005 = 0.01; right 0.4 * 0.005 + 0.6 * 0 = 0.002        -> 0.01, left
    #   s1: left V_1(0) = 0.005; right 0.05 * 0.005 + 0.6 * 0 + 0.35 * 1 = 0.35025 -> right
    #   s2: left V_1(1) = 0; right 1 + 0.4 * 0 + 0.6 * 1 = 1.6                    -> right
    res = mdp.backward_induction(envs.riverswim(3), 2)
    np.testing.assert_allclose(res.values, [[0.01, 0.35025, 1.6], [0.005, 0, 1], [0, 0, 0]],
                               rtol=1e-12)
    np.testing.assert_allclose(res.q[0], [[0.01, 0.002], [0.005, 0.35025], [0, 1.6]], rtol=1e-12)
    np.testing.assert_array_equal(res.policy, [[0, 1, 1], [0, 0, 1]])
    assert res.values.shape == (3, 3) and res.q.shape == (2, 3, 2) and res.policy.shape == (2, 3)
    assert res.policy.dtype == np.int64 and res.iterations == 2 and res.gamma is None


def test_backward_induction_against_dense_recursion():
    m = envs.garnet(12, 3, 4, seed=2)
    H = 7
    res = mdp.backward_induction(m, H)
    V = np.zeros(12)
    for h in range(H - 1, -1, -1):
        Q = m.R + m.P @ V
        np.testing.assert_allclose(res.q[h], Q, rtol=1e-12)
        V = Q.max(axis=1)
        np.testing.assert_allclose(res.values[h], V, rtol=1e-12)
        np.testing.assert_array_equal(res.policy[h], Q.argmax(axis=1))


# --- discount 0, degenerate MDPs ----------------------------------------------------------------


@pytest.mark.parametrize("solver", DISCOUNTED.values(), ids=DISCOUNTED.keys())
def test_gamma_zero_gives_max_reward(solver):
    m = envs.garnet(9, 4, 3, seed=5)
    res = solver(m, 0.0)
    np.testing.assert_allclose(res.values, m.R.max(axis=1), rtol=1e-12)
    np.testing.assert_allclose(res.q, m.R, rtol=1e-12)
    np.testing.assert_array_equal(res.policy, m.R.argmax(axis=1))


@pytest.mark.parametrize("solver", DISCOUNTED.values(), ids=DISCOUNTED.keys())
def test_one_state_one_action(solver):
    m = FiniteMDP(np.ones((1, 1, 1)), [[3.0]])
    res = solver(m, 0.9)
    np.testing.assert_allclose(res.values, [30.0], rtol=1e-9)
    np.testing.assert_array_equal(res.policy, [0])


def test_one_state_finite_horizon_and_average():
    m = FiniteMDP(np.ones((1, 1, 1)), [[3.0]])
    np.testing.assert_array_equal(mdp.backward_induction(m, 1).values, [[3.0], [0.0]])
    assert mdp.relative_value_iteration(m).gain == pytest.approx(3.0)
    np.testing.assert_array_equal(mdp.evaluate(m, [0], horizon=1), [[3.0], [0.0]])


@pytest.mark.parametrize("solver", DISCOUNTED.values(), ids=DISCOUNTED.keys())
def test_absorbing_and_unreachable_states(solver):
    # state 2 is absorbing with reward 0; state 3 is never reached and leads to state 2
    P = np.zeros((4, 2, 4))
    P[0, 0, 1] = P[0, 1, 2] = 1.0
    P[1, :, 0] = 1.0
    P[2, :, 2] = 1.0
    P[3, :, 2] = 1.0
    R = np.array([[1.0, 5.0], [1.0, 1.0], [0.0, 0.0], [7.0, 7.0]])
    g = 0.9
    res = solver(FiniteMDP(P, R), g)
    np.testing.assert_allclose(res.values, brute_force_optimum(P, R, g), rtol=0, atol=1e-8)
    assert res.values[2] == pytest.approx(0.0, abs=1e-8) and res.values[3] == pytest.approx(7.0)


@pytest.mark.parametrize("solver", DISCOUNTED.values(), ids=DISCOUNTED.keys())
def test_large_reward_magnitudes(solver):
    m = envs.garnet(15, 3, 4, seed=8)
    big = FiniteMDP(m.P, m.R * 1e9)
    kwargs = {"epsilon": 1.0} if solver in (mdp.value_iteration, mdp.solve,
                                            mdp.modified_policy_iteration) else {}
    res = solver(big, 0.95, **kwargs)
    ref = mdp.policy_iteration(m, 0.95).values * 1e9
    np.testing.assert_allclose(res.values, ref, rtol=1e-9)


def test_huge_rewards_at_default_epsilon_warn_instead_of_looping():
    # |V| ~ 1e12: float64 cannot resolve 1e-8, the solvers must say so and stop
    m = envs.garnet(10, 2, 3, seed=1)
    big = FiniteMDP(m.P, m.R * 1e10)
    with pytest.warns(RuntimeWarning, match=r"float64 resolution with bound"):
        res = mdp.value_iteration(big, 0.99)
    assert not res.converged and res.bound >= 1e-8
    ref = mdp.policy_iteration(m, 0.99).values * 1e10
    np.testing.assert_allclose(res.values, ref, rtol=1e-10)


# --- all solvers agree; the stopping rules' guarantees ----------------------------------------


@settings(max_examples=40, deadline=None)
@given(S=st.integers(1, 12), A=st.integers(1, 4), data=st.data(),
       seed=st.integers(0, 2**31 - 1), g=st.sampled_from([0.0, 0.5, 0.9, 0.99]))
def test_solvers_agree_on_random_garnets(S, A, data, seed, g):
    b = data.draw(st.integers(1, S))
    m = envs.garnet(S, A, b, seed=seed)
    ref = mdp.policy_iteration(m, g)
    V = ref.values
    np.testing.assert_allclose(V, dense_values(m.P, m.R, np.eye(A)[ref.policy], g), atol=1e-9)
    for name, solver in DISCOUNTED.items():
        res = solver(m, g)
        np.testing.assert_allclose(res.values, V, rtol=0, atol=1e-6, err_msg=name)
        assert res.converged, name
        # the documented guarantees: values within bound (within epsilon / 2 for the span rule),
        # and the returned policy loses at most bound
        err = np.abs(res.values - V).max()
        assert err <= res.bound + 1e-9 * (1 + np.abs(V).max()), name
        loss = (V - mdp.evaluate(m, res.policy, gamma=g)).max()
        assert loss <= res.bound + 1e-9 * (1 + np.abs(V).max()), name
        if name in ("value_iteration", "modified_policy_iteration", "solve"):
            assert err <= 0.5e-8 + 1e-10 * (1 + np.abs(V).max()), name
        # values = max_a q and the policy is greedy in q
        np.testing.assert_allclose(res.q.max(axis=1), res.values, rtol=1e-12, atol=1e-9)
        chosen = res.q[np.arange(S), res.policy]
        np.testing.assert_allclose(chosen, res.q.max(axis=1), rtol=1e-12, atol=1e-9)


def test_value_iteration_matches_brute_force():
    m = envs.garnet(4, 3, 2, seed=9)
    for g in (0.5, 0.95):
        np.testing.assert_allclose(mdp.value_iteration(m, g).values,
                                   brute_force_optimum(m.P, m.R, g), atol=1e-8)


def test_value_iteration_max_iter_warns():
    m = envs.riverswim(6)
    with pytest.warns(RuntimeWarning, match=r"value_iteration stopped at max_iter = 5 with bound"):
        res = mdp.value_iteration(m, 0.99, max_iter=5)
    assert not res.converged and res.iterations == 5 and res.bound > 1e-8
    # the values are extrapolated anyway, and the bound reached still holds
    v_star = mdp.policy_iteration(m, 0.99).values
    assert np.abs(res.values - v_star).max() <= res.bound / 2 * (1 + 1e-12)
    loss = (v_star - mdp.evaluate(m, res.policy, gamma=0.99)).max()
    assert loss <= res.bound * (1 + 1e-12)


def test_ties_take_the_lowest_action_index():
    # actions 0 and 2 identical and best, action 1 worse
    P = np.zeros((3, 3, 3))
    for s in range(3):
        P[s, :, (s + 1) % 3] = 1.0
    R = np.tile([1.0, 0.5, 1.0], (3, 1))
    m = FiniteMDP(P, R)
    for name, solver in DISCOUNTED.items():
        np.testing.assert_array_equal(solver(m, 0.9).policy, [0, 0, 0], err_msg=name)
    np.testing.assert_array_equal(mdp.backward_induction(m, 4).policy, 0)
    np.testing.assert_array_equal(mdp.relative_value_iteration(m).policy, [0, 0, 0])


# --- FrozenLake -----------------------------------------------------------------------------


def test_frozenlake_policy_iteration_terminates_quickly():
    m = envs.gridworld("8x8")
    res = mdp.policy_iteration(m, 0.99)
    assert res.converged and res.iterations <= 20
    for name, solver in DISCOUNTED.items():
        np.testing.assert_allclose(solver(m, 0.99).values, res.values, atol=1e-7, err_msg=name)
    # the values are those of the returned policy
    np.testing.assert_allclose(dense_values(m.P, m.R, np.eye(4)[res.policy], 0.99), res.values,
                               atol=1e-12)


def test_frozenlake_via_gymnasium_same_optimal_values():
    gymnasium = pytest.importorskip("gymnasium")
    ours = mdp.solve(envs.gridworld("8x8"), 0.99)
    theirs = mdp.solve(envs.from_gymnasium(gymnasium.make("FrozenLake-v1", map_name="8x8")), 0.99)
    np.testing.assert_allclose(ours.values, theirs.values, atol=1e-12)


# --- average reward ---------------------------------------------------------------------------


def stationary(P_pi: np.ndarray) -> np.ndarray:
    """The stationary distribution mu = mu P_pi of a unichain transition matrix."""
    S = P_pi.shape[0]
    A = np.vstack([P_pi.T - np.eye(S), np.ones(S)])
    b = np.zeros(S + 1)
    b[-1] = 1.0
    return np.linalg.lstsq(A, b, rcond=None)[0]


def test_riverswim_gain_against_stationary_distribution_and_discounting():
    m = envs.riverswim(6)  # unichain: state 0 is reachable from everywhere under any policy
    res = mdp.relative_value_iteration(m)
    assert res.converged and res.bound < 1e-8
    pi = np.eye(2)[res.policy]
    P_pi = np.einsum("sa,sat->st", pi, m.P)
    mu = stationary(P_pi)
    assert res.gain == pytest.approx(mu @ (pi * m.R).sum(axis=1), abs=1e-8)
    # no stationary deterministic policy does better (64 of them) than the gain's bound
    for code in range(64):
        other = np.eye(2)[[(code >> s) & 1 for s in range(6)]]
        P_o = np.einsum("sa,sat->st", other, m.P)
        assert stationary(P_o) @ (other * m.R).sum(axis=1) <= res.gain + res.bound / 2 + 1e-12
    # the Poisson equation g + h = max_a (R + P h), and h[0] = 0
    np.testing.assert_allclose(res.gain + res.bias, (m.R + m.P @ res.bias).max(axis=1),
                               atol=1e-7)
    assert res.bias[0] == 0.0
    np.testing.assert_allclose(res.q.max(axis=1), res.bias, atol=1e-7)
    # (1 - gamma) V_gamma -> gain as gamma -> 1
    # (1 - g) V_g = gain + (1 - g) (centred bias) + O((1 - g)^2), and |bias| < 7 here
    for g, tol in ((0.999, 1e-2), (0.99999, 2e-4)):
        v = mdp.solve(m, g, epsilon=1e-3).values
        np.testing.assert_allclose((1 - g) * v, res.gain, atol=tol)


def test_rvi_periodic_chain():
    # a deterministic 2-cycle paying 1 in state 0: periodic, so plain RVI would oscillate;
    # gain 1/2, and g + h(1) = 0 + h(0) gives h(1) = -1/2
    P = np.zeros((2, 1, 2))
    P[0, 0, 1] = P[1, 0, 0] = 1.0
    res = mdp.relative_value_iteration(FiniteMDP(P, [[1.0], [0.0]]))
    assert res.converged
    assert res.gain == pytest.approx(0.5, abs=1e-8)
    np.testing.assert_allclose(res.bias, [0.0, -0.5], atol=1e-8)


def test_rvi_max_iter_warns():
    with pytest.warns(RuntimeWarning, match="relative_value_iteration stopped at max_iter"):
        res = mdp.relative_value_iteration(envs.riverswim(6), max_iter=3)
    assert not res.converged


# --- evaluate -------------------------------------------------------------------------------


def test_evaluate_optimal_policy_gives_the_solver_values():
    m = envs.garnet(30, 4, 6, seed=4)
    for g in (0.0, 0.9, 0.99):
        res = mdp.policy_iteration(m, g)
        np.testing.assert_allclose(mdp.evaluate(m, res.policy, gamma=g), res.values,
                                   rtol=1e-12, atol=1e-12)
        fast = mdp.solve(m, g)
        np.testing.assert_allclose(mdp.evaluate(m, fast.policy, gamma=g), fast.values,
                                   atol=1e-8)
    bi = mdp.backward_induction(m, 6)
    np.testing.assert_allclose(mdp.evaluate(m, bi.policy, horizon=6), bi.values, rtol=1e-12)


def test_evaluate_stochastic_policy_by_dense_linear_algebra():
    m = envs.garnet(25, 3, 5, seed=6)
    pi = np.random.default_rng(0).dirichlet(np.ones(3), size=25)
    for g in (0.5, 0.97):
        np.testing.assert_allclose(mdp.evaluate(m, pi, gamma=g), dense_values(m.P, m.R, pi, g),
                                   rtol=1e-10)
    # finite horizon: a non-stationary stochastic policy, by the dense recursion
    H = 4
    pis = np.random.default_rng(1).dirichlet(np.ones(3), size=(H, 25))
    V = np.zeros(25)
    expect = [V]
    for h in range(H - 1, -1, -1):
        V = (pis[h] * (m.R + m.P @ V)).sum(axis=1)
        expect.insert(0, V)
    np.testing.assert_allclose(mdp.evaluate(m, pis, horizon=H), np.array(expect), rtol=1e-12)


def test_evaluate_stochastic_policy_by_monte_carlo():
    # RiverSwim(4), horizon 5, a fixed stochastic policy, 40000 episodes from state 0 simulated
    # with numpy's generator (seed 2024). The estimate's standard error is sd / sqrt(n); we allow
    # 5 standard errors (a false alarm about once in 1.7 million runs; the seed is fixed anyway).
    m = envs.riverswim(4)
    H, n = 5, 40_000
    pi = np.array([[0.3, 0.7], [0.5, 0.5], [0.2, 0.8], [0.1, 0.9]])
    rng = np.random.default_rng(2024)
    s = np.zeros(n, dtype=np.int64)
    ret = np.zeros(n)
    P, R = m.P, m.R
    for _ in range(H):
        a = (rng.random(n) < pi[s, 1]).astype(np.int64)
        ret += R[s, a]
        cum = P[s, a].cumsum(axis=1)
        s = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), 3)
    value = mdp.evaluate(m, pi, horizon=H)[0, 0]
    assert abs(ret.mean() - value) < 5 * ret.std() / np.sqrt(n)


def test_evaluate_sparse_solve_path():
    # S above the dense limit: the sparse LU path must give the same values
    m = envs.riverswim(2500)
    res = mdp.solve(m, 0.9)
    v = mdp.evaluate(m, res.policy, gamma=0.9)
    np.testing.assert_allclose(v, res.values, atol=1e-8)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"policy": [0, 1, 0], "gamma": 0.9, "horizon": 3}, "exactly one of gamma"),
        ({"policy": [0, 1, 0]}, "exactly one of gamma"),
        ({"policy": [0, 1], "gamma": 0.9}, r"policy must be \(S,\) = \(3,\) integer actions"),
        ({"policy": [0, 2, 0], "gamma": 0.9}, r"policy\[1\] = 2 is not an action in \[0, 2\)"),
        ({"policy": [-1, 0, 0], "horizon": 2}, r"policy\[0, 0\] = -1 is not an action"),
        ({"policy": [[0.5, 0.5], [1.0, 0.1], [1, 0]], "gamma": 0.9},
         r"policy\[1\] sums to 1\.1 \(must be 1 within 1e-8\)"),
        ({"policy": [[0.5, 0.5], [1.5, -0.5], [1, 0]], "gamma": 0.9},
         r"policy\[1, 1\] is -0\.5 \(must be >= 0\)"),
        ({"policy": [[0.5, 0.5], [np.nan, 1], [1, 0]], "gamma": 0.9}, r"must be finite"),
        ({"policy": [[0, 1, 0]] * 2, "horizon": 3}, r"policy must be \(H, S\) = \(3, 3\)"),
        ({"policy": [0.0, 1.0, 0.0], "gamma": 0.9}, r"\(S, A\) = \(3, 2\) probabilities"),
        ({"policy": ["a", "b", "c"], "gamma": 0.9}, r"integer actions or float probabilities"),
        ({"policy": [0, 1, 0], "gamma": 1.0}, r"gamma must be in \[0, 1\), got 1"),
        ({"policy": [0, 1, 0], "horizon": 0}, r"horizon must be >= 1"),
    ],
)
def test_evaluate_validation(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        mdp.evaluate(envs.riverswim(3), **kwargs)


# --- argument validation ----------------------------------------------------------------------


@pytest.mark.parametrize("solver", DISCOUNTED.values(), ids=DISCOUNTED.keys())
@pytest.mark.parametrize(
    ("gamma", "pattern"),
    [(1.0, r"gamma must be in \[0, 1\), got 1"), (-0.1, r"gamma must be >= 0"),
     (np.nan, "gamma must be finite"), ("0.9", "gamma must be a number"),
     (True, "gamma must be a number")],
)
def test_gamma_validation(solver, gamma, pattern):
    with pytest.raises(ValueError, match=pattern):
        solver(envs.riverswim(3), gamma)


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda m: mdp.value_iteration(m, 0.9, epsilon=0), r"epsilon must be > 0"),
        (lambda m: mdp.value_iteration(m, 0.9, epsilon=-1e-3), r"epsilon must be > 0"),
        (lambda m: mdp.value_iteration(m, 0.9, max_iter=0), r"max_iter must be >= 1"),
        (lambda m: mdp.modified_policy_iteration(m, 0.9, k=0), r"k must be >= 1"),
        (lambda m: mdp.modified_policy_iteration(m, 0.9, k=2.5), r"k must be an integer"),
        (lambda m: mdp.policy_iteration(m, 0.9, max_iter=0), r"max_iter must be >= 1"),
        (lambda m: mdp.solve(m, 0.9, epsilon=float("inf")), r"epsilon must be finite"),
        (lambda m: mdp.backward_induction(m, 0), r"horizon must be >= 1"),
        (lambda m: mdp.backward_induction(m, 2.5), r"horizon must be an integer"),
        (lambda m: mdp.relative_value_iteration(m, epsilon=0), r"epsilon must be > 0"),
        (lambda m: mdp.solve(m.P, 0.9), r"m must be a FiniteMDP"),
    ],
)
def test_argument_validation(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(envs.riverswim(3))


# --- result type and kernels -------------------------------------------------------------------


def test_result_is_frozen_with_documented_shapes():
    m = envs.riverswim(4)
    res = mdp.solve(m, 0.9)
    assert [f.name for f in dataclasses.fields(res)] == [
        "values", "q", "policy", "iterations", "method", "gamma", "gain", "bias", "converged",
        "bound"]
    assert res.values.shape == (4,) and res.q.shape == (4, 2) and res.policy.shape == (4,)
    assert res.policy.dtype == np.int64 and isinstance(res.iterations, int)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.values = None


@pytest.mark.nojit
@pytest.mark.parametrize("dense", [True, False])
def test_bellman_kernel_against_dense_numpy(dense):
    # full rows (implicit indices inside the model) and sparse rows take different kernel paths;
    # the finite-horizon and average-reward kernels are tested in test_stages.py
    m = envs.garnet(20, 3, 20 if dense else 4, seed=12)
    if dense:
        m = FiniteMDP(m.P, m.R)
    S, A = 20, 3
    v = np.random.default_rng(3).normal(size=S)
    q = np.empty((S, A))
    K.bellman_q(*m._csr(), m.R, v, 0.7, q)
    np.testing.assert_allclose(q, m.R + 0.7 * m.P @ v, rtol=1e-12, atol=1e-14)


def test_dense_and_sparse_storage_solve_alike():
    g = envs.garnet(40, 3, 40, seed=1)
    a = mdp.solve(FiniteMDP(g.P, g.R), 0.95)  # built from a dense array: implicit indices
    b = mdp.solve(g, 0.95)  # built from successor lists
    np.testing.assert_allclose(a.values, b.values, atol=1e-9)


def test_no_warnings_on_normal_solves():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for solver in DISCOUNTED.values():
            solver(envs.gridworld("4x4"), 0.95)
        mdp.relative_value_iteration(envs.riverswim(5))

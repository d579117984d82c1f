"""Exact softmax policy gradient: the gradient, the bandit case, rates, the Li et al. chain."""

from __future__ import annotations

import numpy as np
import pytest

import mdp
from mdp import envs
from mdp.policy_gradient import PGResult, policy_gradient, safe_step


def softmax(theta: np.ndarray) -> np.ndarray:
    e = np.exp(theta - theta.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def bandit(means) -> mdp.FiniteMDP:
    """A one-state MDP whose actions pay ``means`` and loop back."""
    return mdp.FiniteMDP(np.ones((1, len(means), 1)), [means])


def gradient(m, gamma, theta, rho):
    """The step taken with eta = 1: theta_1 - theta_0."""
    return policy_gradient(m, gamma, 1.0, 1, rho=rho, init=theta).theta - theta


def finite_differences(m, gamma, theta, rho, h=1e-6):
    """Central differences of theta -> V^pi(rho), with V^pi from mdp.evaluate."""
    def value(th):
        return float(rho @ mdp.evaluate(m, softmax(th), gamma=gamma))

    out = np.zeros_like(theta)
    for idx in np.ndindex(theta.shape):
        e = np.zeros_like(theta)
        e[idx] = h
        out[idx] = (value(theta + e) - value(theta - e)) / (2 * h)
    return out


# --- the gradient ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "m",
    [envs.garnet(6, 3, 3, seed=1),  # cycles: the dense LU path
     envs.deep_sea(3),  # acyclic into an absorbing state: the triangular path
     envs.li_chain(3, 0.9)],
    ids=["garnet", "deep-sea", "li-chain"],
)
def test_gradient_matches_finite_differences(m):
    """The update with eta = 1 is dV^pi(rho)/dtheta (1/(1-gamma) d pi A): central differences
    with h = 1e-6 have an error of order h^2 |V'''| + 1e-16 / h ~ 1e-10; we allow 1e-7."""
    rng = np.random.default_rng(3)
    theta = rng.normal(size=(m.n_states, m.n_actions))
    rho = rng.random(m.n_states)
    rho /= rho.sum()
    g = gradient(m, 0.9, theta, rho)
    np.testing.assert_allclose(g, finite_differences(m, 0.9, theta, rho), rtol=0, atol=1e-7)
    assert np.abs(g).max() > 1e-3  # not trivially zero


def test_dense_and_triangular_paths_agree():
    """A cycle added by a 1e-14 transition sends the chain to the LU path; the runs agree."""
    from mdp import _pg_kernels as K

    m = envs.li_chain(4, 0.95)
    P = m.P.copy()
    P[1, 1] = 0.0
    P[1, 1, [0, 8]] = [1.0 - 1e-14, 1e-14]  # 1 -> 4-bar -> 4 -> 3-bar -> 3 -> 1-bar -> 1
    cyclic = mdp.FiniteMDP(P, m.R, initial=m.initial)
    order = np.empty(m.n_states, dtype=np.int64)
    assert K.topological_order(m.indptr, m.indices, m.n_states, 3, order)
    assert not K.topological_order(cyclic.indptr, cyclic.indices, m.n_states, 3, order)
    res_tri = policy_gradient(m, 0.95, 0.1, 300)
    res_lu = policy_gradient(cyclic, 0.95, 0.1, 300)
    np.testing.assert_allclose(res_lu.theta, res_tri.theta, rtol=0, atol=1e-9)
    np.testing.assert_allclose(res_lu.suboptimality, res_tri.suboptimality, rtol=0, atol=1e-9)


# --- the bandit case ---------------------------------------------------------------------------


@pytest.mark.nojit
def test_bandit_is_the_pg_exact_update_step_by_step():
    """With gamma = 0 a one-state MDP runs H += eta pi (mu - pi . mu), the bandit pg-exact step."""
    mu = np.array([0.2, 0.9, 0.5, 0.7])
    eta = 0.4
    m = bandit(mu)
    H = np.zeros(4)
    theta = np.zeros((1, 4))
    for _ in range(30):
        pi = softmax(H)
        H = H + eta * pi * (mu - pi @ mu)
        theta = policy_gradient(m, 0.0, eta, 1, init=theta).theta
        np.testing.assert_allclose(theta[0], H, rtol=1e-13, atol=1e-15)
    # thirty steps in one call: the same parameters
    np.testing.assert_allclose(policy_gradient(m, 0.0, eta, 30).theta[0], H, rtol=1e-13)


def test_bandit_with_discount_has_the_one_over_one_minus_gamma_factor():
    mu = np.array([0.3, 0.8])
    m = bandit(mu)
    pi = np.full(2, 0.5)
    step = policy_gradient(m, 0.75, 1.0, 1).theta[0]
    np.testing.assert_allclose(step, pi * (mu - pi @ mu) / (1 - 0.75), rtol=1e-12)


@pytest.mark.parametrize(("eta", "gamma"), [(0.4, 0.0), (None, 0.0), (None, 0.5)])
def test_bandit_suboptimality_falls_like_one_over_t(eta, gamma):
    """Mei et al. (2020): Theta(1/t). More precisely, once pi(a*) ~ 1 each suboptimal arm has
    pi_a ~ c_a / t with eta' (c_a Delta_a + L) = 1, L = sum_b c_b Delta_b, eta' = eta / (1 - gamma),
    so t * (V* - V^pi_t) -> L / (1 - gamma) = (K - 1) / (K eta), whatever the gaps.

    The corrections are relative O(log t / t) terms: the fitted slope over t in [1e4, 1e5] is
    within 0.006 of -1 and t * suboptimality within 0.2% of the limit at t = 1e5 in these cases;
    we allow 0.02 and 1%.
    """
    mu = [0.9, 0.5, 0.2]
    res = policy_gradient(bandit(mu), gamma, eta, 100_000)
    t, sub = res.iterations, res.suboptimality
    late = t >= 10_000
    slope = np.polyfit(np.log(t[late]), np.log(sub[late]), 1)[0]
    assert abs(slope + 1.0) < 0.02, slope
    K = len(mu)
    assert t[-1] * sub[-1] == pytest.approx((K - 1) / (K * res.eta), rel=0.01)
    assert np.all(np.diff(sub) <= 0.0)


# --- monotone improvement, recording -----------------------------------------------------------


@pytest.mark.parametrize("m", [envs.garnet(8, 3, 4, seed=4), envs.riverswim(5)],
                         ids=["garnet", "riverswim"])
def test_safe_step_never_increases_the_suboptimality(m):
    """eta = (1 - gamma)^3 / 8 <= 1 / L for the 8 / (1 - gamma)^3-smooth objective: ascent."""
    T = 3000
    res = policy_gradient(m, 0.8, None, T, checkpoints=np.arange(T + 1))
    assert res.eta == safe_step(0.8) == pytest.approx(0.2**3 / 8)
    assert np.all(np.diff(res.suboptimality) <= 1e-13)
    assert res.suboptimality[-1] < res.suboptimality[0]
    assert res.suboptimality.min() >= -1e-12


def test_result_fields_and_iterations_to_epsilon():
    m = envs.riverswim(4)
    T = 20_000
    res = policy_gradient(m, 0.9, 0.5, T, epsilon=0.05, checkpoints=np.arange(T + 1))
    assert isinstance(res, PGResult)
    sub = res.suboptimality
    above = np.flatnonzero(sub > 0.05)
    expect = int(above[-1]) + 1 if above.size else 0
    assert res.iterations_to_epsilon == expect
    assert 0 < expect < T
    assert sub[expect] <= 0.05 < sub[expect - 1]
    # default checkpoints: log-spaced, ending at the budget
    short = policy_gradient(m, 0.9, 0.5, T, epsilon=0.05)
    assert short.iterations[0] == 1 and short.iterations[-1] == T
    assert 80 <= short.iterations.size <= 100
    np.testing.assert_allclose(short.suboptimality, sub[short.iterations], rtol=0, atol=0)
    assert short.iterations_to_epsilon == expect  # checked at every iteration, not checkpoints
    # the final policy, its values and V*(rho)
    np.testing.assert_allclose(res.policy, softmax(res.theta), rtol=1e-12)
    np.testing.assert_allclose(res.values, mdp.evaluate(m, res.policy, gamma=0.9), rtol=1e-10)
    assert res.optimal_value == pytest.approx(mdp.solve(m, 0.9).values @ m.initial, abs=1e-8)
    assert res.optimal_value - res.values @ m.initial == pytest.approx(sub[-1], abs=1e-12)
    # never within a too small budget; no epsilon, no count
    assert policy_gradient(m, 0.9, 0.5, 10, epsilon=1e-6).iterations_to_epsilon is None
    assert policy_gradient(m, 0.9, 0.5, 10).iterations_to_epsilon is None
    assert res.config["env"] == m.config() and res.config["eta"] == 0.5


def test_rho_and_init_are_used():
    m = envs.li_chain(3, 0.9)
    rho = np.zeros(m.n_states)
    rho[5] = 1.0  # start in primary state 3
    res = policy_gradient(m, 0.9, 0.1, 5, rho=rho)
    assert res.optimal_value == pytest.approx(0.9**6)
    # the absorbing state 0 and the adjoint of level 3 are never visited from state 5: unchanged
    np.testing.assert_array_equal(res.theta[[0, 6]], 0.0)
    init = np.zeros((m.n_states, 3))
    init[:, 1] = 5.0  # nearly optimal from the start
    near = policy_gradient(m, 0.9, 0.1, 5, rho=rho, init=init)
    assert near.suboptimality[-1] < res.suboptimality[-1]


# --- the Li et al. chain: iterations explode -----------------------------------------------------


def test_li_chain_iterations_grow_geometrically_with_the_chain():
    """gamma = 0.95, eta = 0.1, epsilon = 1% of V*(rho): 8162, 18960, 47180, 108913 iterations for
    H = 3, 5, 7, 9 (about 1.5x per level); we require a monotone increase by >= 2x per two levels.
    """
    counts = []
    for H in (3, 5, 7, 9):
        m = envs.li_chain(H, 0.95)
        vstar = policy_gradient(m, 0.95, 0.1, 1).optimal_value
        res = policy_gradient(m, 0.95, 0.1, 150_000, epsilon=0.01 * vstar)
        assert res.iterations_to_epsilon is not None
        counts.append(res.iterations_to_epsilon)
    ratios = np.array(counts[1:]) / np.array(counts[:-1])
    assert np.all(ratios >= 2.0), counts


def test_li_chain_iterations_grow_with_gamma():
    """On the longest chain each gamma allows (H = 4, 6, 9 for gamma = 0.9, 0.93, 0.95, as in the
    paper's H ~ 1 / (1 - gamma)), with the same eta = 0.1: 2935, 6381, 13640 iterations to 10% of
    V*(rho); with the safe step (1 - gamma)^3 / 8 the factor 1 / eta adds 8x per halving of
    1 - gamma on top. We require >= 1.6x per step, monotone (on one fixed chain, by contrast,
    the count hardly depends on gamma at a fixed eta: the growth comes from H ~ 1 / (1 - gamma))."""
    counts = []
    for gamma in (0.9, 0.93, 0.95):
        m = envs.li_chain(None, gamma)
        vstar = policy_gradient(m, gamma, 0.1, 1).optimal_value
        res = policy_gradient(m, gamma, 0.1, 40_000, epsilon=0.1 * vstar)
        assert res.iterations_to_epsilon is not None
        counts.append(res.iterations_to_epsilon)
    ratios = np.array(counts[1:]) / np.array(counts[:-1])
    assert np.all(ratios >= 1.6), counts


# --- the comparison with certainty equivalence ---------------------------------------------------


def test_generative_samples_to_epsilon():
    m = envs.li_chain(3, 0.95)
    res = mdp.generative_samples_to_epsilon(m, 0.95, 0.02, runs=5, seed=1,
                                            budgets=[1, 2, 4, 8, 16, 32])
    gap = res.result.value_gap.mean(axis=0)
    np.testing.assert_array_equal(res.mean_value_gap, gap)
    n = res.samples_per_pair
    assert n is not None and res.total_samples == n * 7 * 3
    k = list(res.budgets).index(n)
    assert np.all(gap[k:] <= 0.02) and (k == 0 or gap[k - 1] > 0.02)
    # deterministic a1 transitions: exact after one sample; only a2 (p = 0.05) is ever wrong
    assert gap[-1] <= 0.02
    never = mdp.generative_samples_to_epsilon(m, 0.95, 1e-9, runs=2, budgets=[1])
    assert (never.samples_per_pair is None) == (never.mean_value_gap[0] > 1e-9)
    with pytest.raises(ValueError, match="epsilon must be > 0"):
        mdp.generative_samples_to_epsilon(m, 0.95, 0.0)
    with pytest.raises(ValueError, match="m must be a FiniteMDP"):
        mdp.generative_samples_to_epsilon(None, 0.95, 0.1)


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"gamma": 1.0}, r"gamma must be in \[0, 1\)"),
        ({"gamma": -0.1}, r"gamma must be >= 0"),
        ({"eta": 0.0}, r"eta must be > 0"),
        ({"eta": float("nan")}, r"eta must be finite"),
        ({"iterations": 0}, r"iterations must be >= 1"),
        ({"iterations": 2.5}, r"iterations must be an integer"),
        ({"epsilon": 0.0}, r"epsilon must be > 0"),
        ({"rho": [1.0, 0.0]}, r"rho must have shape \(S,\) = \(4,\)"),
        ({"rho": [0.5, 0.5, 0.5, -0.5]}, r"rho must be finite and >= 0"),
        ({"rho": [0.5, 0.0, 0.0, 0.0]}, r"rho sums to 0.5"),
        ({"init": np.zeros((4, 3))}, r"init must have shape \(S, A\) = \(4, 2\)"),
        ({"init": np.full((4, 2), np.inf)}, r"init must be finite"),
        ({"checkpoints": [5, 3]}, r"checkpoints must be a non-empty increasing list"),
        ({"checkpoints": [11]}, r"checkpoints must be <= 10"),
        ({"checkpoints": np.arange(-1, 5)}, r"checkpoints must be >= 0"),
        ({"checkpoints": np.array([1, 3, 2])}, r"checkpoints must be a non-empty increasing"),
        ({"checkpoints": [1.5]}, r"checkpoints must be an integer"),
    ],
)
def test_validation(kwargs, pattern):
    args = {"m": envs.riverswim(4), "gamma": 0.9, "eta": 0.1, "iterations": 10, **kwargs}
    with pytest.raises(ValueError, match=pattern):
        policy_gradient(**args)


def test_validation_of_the_model():
    with pytest.raises(ValueError, match="m must be a FiniteMDP"):
        policy_gradient("riverswim", 0.9, 0.1, 10)

"""Softmax policy gradient with exact gradients on a discounted finite MDP.

The policy is ``pi_theta(a | s) = exp(theta[s, a]) / sum_b exp(theta[s, b])`` and the objective
``V^pi(rho) = sum_s rho(s) V^pi(s)``. Its gradient (Agarwal, Kakade, Lee and Mahajan 2021,
Lemma C.1; Mei, Xiao, Szepesvari and Schuurmans 2020, Lemma 1) is

    dV^pi(rho) / dtheta[s, a] = 1 / (1 - gamma) * d_rho^pi(s) * pi(a | s) * A^pi(s, a),

with ``d_rho^pi = (1 - gamma) rho^T (I - gamma P_pi)^{-1}`` the discounted state visitation and
``A^pi = Q^pi - V^pi`` the advantage. :func:`policy_gradient` runs ``theta <- theta + eta grad``
with both computed exactly every iteration (mdp/_pg_kernels.py), and records how far the policy
is from optimal. The definitions, the step size and what is recorded are in docs/solvers.md
("Exact policy gradient").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tracking import memory
from tracking.validate import InputError, as_float, as_int

from . import _pg_kernels as K
from .model import SUM_TOL, SUM_TOL_TEXT, FiniteMDP
from .solvers import _check_gamma, _check_mdp, evaluate, solve

#: Tolerance of the reference solve for V*, relative to ``max |R| / (1 - gamma)^2`` (the float64
#: resolution of its stopping rule); V* is then the exact value of the solver's policy.
VSTAR_RTOL = 1e3 * float(np.finfo(np.float64).eps)
#: Number of log-spaced checkpoints by default.
N_CHECKPOINTS = 100
#: MDPs whose transition graph has cycles are solved by a dense LU, up to this many states.
DENSE_MAX_STATES = 2000


@dataclass(frozen=True)
class PGResult:
    """The run of exact softmax policy gradient.

    Attributes
    ----------
    iterations : int64[C]
        Checkpoints t (number of gradient steps taken).
    suboptimality : float64[C]
        ``V*(rho) - V^{pi_t}(rho)`` at each checkpoint.
    iterations_to_epsilon : int or None
        The smallest t such that the suboptimality is ``<= epsilon`` at every iteration from t to
        the budget; None when it exceeds epsilon at the last iteration or no epsilon was given.
    eta, gamma, epsilon : float (epsilon may be None)
    optimal_value : float
        ``V*(rho)``.
    theta : float64[S, A]
        The final parameters; ``policy`` = ``softmax(theta)`` row by row.
    policy : float64[S, A]
    values : float64[S]
        ``V^pi`` of the final policy.
    config : dict
        The problem (``m.config()``), gamma, eta, iterations, epsilon and whether rho and the
        initial theta were the defaults.
    """

    iterations: np.ndarray
    suboptimality: np.ndarray
    iterations_to_epsilon: int | None
    eta: float
    gamma: float
    epsilon: float | None
    optimal_value: float
    theta: np.ndarray
    policy: np.ndarray
    values: np.ndarray
    config: dict[str, Any]


def safe_step(gamma: float) -> float:
    """``(1 - gamma)^3 / 8``: the step below which softmax PG improves ``V^pi(rho)`` monotonically.

    ``theta -> V^{pi_theta}(rho)`` is ``8 / (1 - gamma)^3``-smooth (Mei et al. 2020, Lemma 7),
    so gradient ascent with ``eta <= 1 / L`` never decreases it.
    """
    g = _check_gamma(gamma)
    return (1.0 - g) ** 3 / 8.0


def _default_checkpoints(n: int) -> np.ndarray:
    return np.unique(np.round(np.geomspace(1, n, N_CHECKPOINTS)).astype(np.int64))


def _check_checkpoints(checkpoints: Any, n: int) -> np.ndarray:
    if checkpoints is None:
        return _default_checkpoints(n)
    arr = np.asarray(checkpoints)
    if arr.ndim == 1 and arr.dtype.kind in "iu" and arr.size:  # vectorised: arange(T + 1) etc.
        if arr.min() < 0 or arr.max() > n:
            bad = int(arr[(arr < 0) | (arr > n)][0])
            as_int("checkpoints", bad, 0, n)  # raises, naming the rule
        out = arr.astype(np.int64)
    else:
        raw = [checkpoints] if np.isscalar(checkpoints) else list(checkpoints)
        out = np.array([as_int("checkpoints", c, 0, n) for c in raw], dtype=np.int64)
    if out.size == 0 or np.any(np.diff(out) <= 0):
        raise InputError("checkpoints must be a non-empty increasing list of iterations in "
                         f"[0, iterations = {n}]")
    return out


def _check_rho(rho: Any, m: FiniteMDP) -> np.ndarray:
    if rho is None:
        return np.ascontiguousarray(m.initial, dtype=np.float64)
    try:
        arr = np.asarray(rho, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"rho must be a distribution over the {m.n_states} states") from None
    if arr.shape != (m.n_states,):
        raise InputError(f"rho must have shape (S,) = ({m.n_states},), got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0.0):
        raise InputError("rho must be finite and >= 0")
    if abs(float(arr.sum()) - 1.0) > SUM_TOL:
        raise InputError(f"rho sums to {arr.sum():.12g} (must be 1 within {SUM_TOL_TEXT})")
    return np.ascontiguousarray(arr)


def _check_init(init: Any, m: FiniteMDP) -> np.ndarray:
    shape = (m.n_states, m.n_actions)
    if init is None:
        return np.zeros(shape)
    try:
        arr = np.asarray(init, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"init must be a float array of shape (S, A) = {shape}") from None
    if arr.shape != shape:
        raise InputError(f"init must have shape (S, A) = {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError("init must be finite")
    return np.array(arr, dtype=np.float64, order="C", copy=True)


def policy_gradient(
    m: FiniteMDP,
    gamma: float,
    eta: float | None,
    iterations: int,
    rho: Any = None,
    init: Any = None,
    epsilon: float | None = None,
    checkpoints: Sequence[int] | None = None,
) -> PGResult:
    """Softmax policy gradient ascent with exact gradients.

    From ``theta_0 = init`` (default zeros: the uniform policy), for t = 0, 1, ...::

        theta_{t+1}[s, a] = theta_t[s, a] + eta / (1 - gamma) d_rho^pi(s) pi(a|s) A^pi(s, a)

    with ``pi = pi_t = softmax(theta_t)``: ``V^pi`` solves ``(I - gamma P_pi) v = r_pi``,
    ``Q = R + gamma P V``,
    ``A(s, a) = Q(s, a) - sum_b pi(b|s) Q(s, b)`` and the unnormalised visitation
    ``d_rho^pi / (1 - gamma)`` solves ``(I - gamma P_pi)^T w = rho`` (linear solves, never an
    inverse). A one-state MDP is a bandit with mean rewards ``R[0]``: the update is then
    ``theta += eta / (1 - gamma) pi (r - pi . r)``, the bandit ``pg-exact`` step (with
    ``gamma = 0``, exactly it).

    Parameters
    ----------
    m : FiniteMDP
    gamma : float
        Discount factor in [0, 1).
    eta : float or None
        Step size > 0; None takes :func:`safe_step` ``(1 - gamma)^3 / 8``, for which the
        suboptimality never increases. Larger steps usually converge faster but may oscillate.
    iterations : int
        Gradient steps T >= 1.
    rho : array (S,), optional
        Start distribution of the objective; default ``m.initial``.
    init : array (S, A), optional
        Initial parameters; default zeros.
    epsilon : float, optional
        Target suboptimality (> 0) for ``iterations_to_epsilon``.
    checkpoints : list of int, optional
        Increasing iterations in [0, T] at which to record the suboptimality; default about 100
        log-spaced ones from 1 to T.

    Returns
    -------
    PGResult
        ``suboptimality[i] = V*(rho) - V^{pi_t}(rho)`` at ``t = iterations[i]``, with V* the
        exact value of the optimal policy of :func:`mdp.solve` (tight epsilon), and
        ``iterations_to_epsilon``: the first t after which the suboptimality stays
        ``<= epsilon`` up to T (checked at every iteration, not only at the checkpoints).

    Cost: O(nnz + S A) per iteration when the transition graph is acyclic apart from
    self-loops (chains into an absorbing state, bandits), else O(S^3 / 3) for a dense LU
    (refused above 2000 states). The whole loop is one jitted call.
    """
    m = _check_mdp(m)
    g = _check_gamma(gamma)
    step = safe_step(g) if eta is None else as_float("eta", eta, 0.0, strict_min=True)
    n = as_int("iterations", iterations, 1)
    eps = None if epsilon is None else as_float("epsilon", epsilon, 0.0, strict_min=True)
    r0 = _check_rho(rho, m)
    theta = _check_init(init, m)
    cps = _check_checkpoints(checkpoints, n)
    S, A = m.n_states, m.n_actions
    indptr, indices, probs = m.indptr, m.indices, m.probs
    order = np.empty(S, dtype=np.int64)
    triangular = bool(K.topological_order(indptr, indices, S, A, order))
    if not triangular:
        if S > DENSE_MAX_STATES:
            raise InputError(f"policy_gradient needs S <= {DENSE_MAX_STATES} states when the "
                             f"transition graph has cycles (a dense LU per iteration), got {S}")
        memory.check(8.0 * S * S, f"policy_gradient's {S} x {S} LU work array")
    scale = max(float(np.abs(m.R).max()), 1e-300) / (1.0 - g) ** 2
    sol = solve(m, g, epsilon=max(1e-12, VSTAR_RTOL * scale))
    v_star = float(r0 @ evaluate(m, sol.policy, gamma=g))
    sub = np.empty(cps.size)
    pi = np.empty((S, A))
    v = np.empty(S)
    last_bad = K.pg_kernel(indptr, indices, probs, np.ascontiguousarray(m.R), g, step, r0, theta,
                           order, triangular, n, cps, v_star,
                           np.inf if eps is None else eps, sub, pi, v)
    reached = None if eps is None or last_bad == n else int(last_bad) + 1
    config = {"problem": m.name, "env": m.config(), "gamma": g, "eta": step, "iterations": n,
              "epsilon": eps, "rho": "initial" if rho is None else "given",
              "init": "zeros" if init is None else "given"}
    return PGResult(cps, sub, reached, step, g, eps, v_star, theta, pi, v, config)

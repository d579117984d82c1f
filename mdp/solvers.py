"""Exact solvers for finite MDPs: finite horizon, discounted and average reward.

Every solver validates its arguments, runs a jitted kernel over the model's CSR arrays and
returns one :class:`SolverResult`: the discounted solvers' own kernels (mdp/_solver_kernels.py),
and for finite horizons, the average reward and exact evaluation the planning and linear-algebra
stages that the agents use too (mdp/_planning_kernels.py, mdp/_linalg_kernels.py). The exact
definitions, stopping rules and guarantees are in docs/solvers.md. Notation:
``T v = max_a (R + gamma P v)`` is the Bellman optimality operator, ``span(x) = max x - min x``,
``mid(x) = (max x + min x) / 2``.

Ties: every solver's policy takes the lowest action index among the maximisers of its ``q``
(policy iteration: among the actions within ``1e-12 (1 + |q|)`` of the maximum, since its
exact linear solves leave rounding-level differences between tied actions).
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tracking.validate import InputError, as_float, as_int

from . import _linalg_kernels as L
from . import _planning_kernels as plan
from . import _solver_kernels as K
from ._env_kernels import Tabular, VectorisedDense
from .model import SUM_TOL, SUM_TOL_TEXT, FiniteMDP

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

#: Relative tolerance under which policy iteration keeps its current action.
PI_TIE_RTOL = 1e-12
#: Aperiodicity transformation weight of relative value iteration: P' = tau I + (1 - tau) P.
RVI_TAU = 0.5
#: Default solver: at most this many partial-evaluation sweeps per improvement ...
SOLVE_K = 1000
#: ... or one dense LU solve when that is predicted cheaper, up to this many states.
SOLVE_DIRECT_MAX_STATES = 2000
#: Policy evaluation uses a dense LU solve up to this many states (or a dense P_pi), else SuperLU.
DENSE_SOLVE_MAX_STATES = 2000
#: Iterations also stop once the span of the differences is below RESOLUTION * max |values|.
RESOLUTION = 64.0 * float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class SolverResult:
    """The solution of an MDP by one of the exact solvers.

    Attributes
    ----------
    values : ndarray
        Discounted: V (S,). Average reward: the bias h (S,), ``h[0] = 0``. Finite horizon:
        V_h (H+1, S) with ``values[H] = 0``.
    q : ndarray
        ``R + gamma P V`` (S, A) (average reward: ``R + P h - gain``); finite horizon
        ``Q_h = R + P V_{h+1}`` (H, S, A).
    policy : ndarray of int64
        Greedy policy (S,), or (H, S) for finite horizon; lowest index among maximisers.
    iterations : int
        Bellman sweeps (VI, MPI, RVI), policy evaluations (PI), simplex/IPM iterations (LP),
        or the horizon (backward induction).
    method : str
        Name of the solver.
    gamma : float or None
        Discount factor (None for finite horizon and average reward).
    gain : float or None
        Optimal average reward (average reward only).
    bias : ndarray or None
        Bias h (average reward only; the same array as ``values``).
    converged : bool
        Whether the stopping rule was met (``bound < epsilon``; always True for backward
        induction and for PI/LP when they terminate normally).
    bound : float
        Guaranteed error bound reached. Discounted: ``||values - V*|| <= bound`` and
        ``||V* - V^policy|| <= bound`` (sup norms). Average reward: ``|gain - g*| <= bound/2``
        and the policy's gain is within ``bound`` of g*. 0 for backward induction.
    """

    values: np.ndarray
    q: np.ndarray
    policy: np.ndarray
    iterations: int
    method: str
    gamma: float | None = None
    gain: float | None = None
    bias: np.ndarray | None = None
    converged: bool = True
    bound: float = 0.0


# ---------------------------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------------------------


def _check_mdp(m: object) -> FiniteMDP:
    if not isinstance(m, FiniteMDP):
        raise InputError(f"m must be a FiniteMDP, got {type(m).__name__}")
    return m


def _check_gamma(gamma: object) -> float:
    g = as_float("gamma", gamma, 0.0)
    if g >= 1.0:
        raise InputError(f"gamma must be in [0, 1), got {g:g}")
    return g


def _check_epsilon(epsilon: object) -> float:
    return as_float("epsilon", epsilon, 0.0, strict_min=True)


def _warn_unconverged(method: str, status: int, bound: float, epsilon: float, max_iter: int,
                      scale: float) -> None:
    if status == 1:
        warnings.warn(f"{method} stopped at max_iter = {max_iter} with bound {bound:.3g} "
                      f">= epsilon {epsilon:g}", RuntimeWarning, stacklevel=3)
    elif status == 2:
        warnings.warn(f"{method} stopped at float64 resolution with bound {bound:.3g} >= "
                      f"epsilon {epsilon:g} (values of size {scale:.3g}); ask for a larger "
                      "epsilon", RuntimeWarning, stacklevel=3)


def _tabular(m: FiniteMDP) -> Tabular | VectorisedDense:
    """The kernels' record of ``m``: vectorised dense rows when every row holds all S states
    (their implicit indices left unbuilt), else CSR rows."""
    if m.nnz == m.n_states * m.n_actions * m.n_states:
        return VectorisedDense(m.probs, m.R)
    return Tabular(m.indptr, m.indices, m.probs, m.R)


_NO_STOP = np.zeros(1, dtype=np.uint8)


def _myopic(R: np.ndarray) -> np.ndarray:
    """argmax_a R[s, a], lowest index on ties."""
    return np.argmax(R, axis=1).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# finite horizon
# ---------------------------------------------------------------------------------------------


def backward_induction(m: FiniteMDP, horizon: int) -> SolverResult:
    """Optimal finite-horizon values by dynamic programming.

    ``V_H = 0``; for ``h = H-1, ..., 0``: ``Q_h = R + P V_{h+1}``, ``V_h = max_a Q_h``,
    ``policy_h = argmax_a Q_h`` (lowest index on ties). Exact up to rounding, in
    ``O(H * nnz)`` time: each ``Q_h(s, a)`` is summed from ``R(s, a)`` on in increasing s', as
    :func:`evaluate` sums, so ``evaluate(m, policy, horizon=H)`` gives these values to the bit.

    Returns values (H+1, S), q (H, S, A), policy (H, S).
    """
    m = _check_mdp(m)
    H = as_int("horizon", horizon, 1)
    S, A = m.n_states, m.n_actions
    values = np.empty((H + 1, S))
    q = np.empty((H, S, A))
    policy = np.empty((H, S), dtype=np.int64)
    plan.backward_induction(_tabular(m), H, plan.LowestIndex(policy), values, q, _NO_STOP)
    return SolverResult(values, q, policy, H, "backward_induction", converged=True, bound=0.0)


# ---------------------------------------------------------------------------------------------
# discounted: value iteration, modified policy iteration, the default solver
# ---------------------------------------------------------------------------------------------


_NO_PV = np.empty((0, 0))


def _mpi(m: FiniteMDP, gamma: float, k: int, epsilon: float, adaptive: bool, max_iter: int,
         v0: np.ndarray, method: str, pv0: np.ndarray = _NO_PV) -> SolverResult:
    S, A = m.n_states, m.n_actions
    v = v0
    u = np.empty(S)
    q = np.empty((S, A))
    policy = np.empty(S, dtype=np.int64)
    it, bound, status = K.mpi_kernel(*m._csr(), m.R, gamma, k, epsilon, adaptive, max_iter,
                                     SOLVE_DIRECT_MAX_STATES, pv0, v, u, q, policy)
    if status != 0:
        _warn_unconverged(method, status, bound, epsilon, max_iter, float(np.abs(v).max()))
    return SolverResult(v, q, policy, int(it), method, gamma=gamma, converged=status == 0,
                        bound=float(bound))


def value_iteration(m: FiniteMDP, gamma: float, epsilon: float = 1e-8,
                    max_iter: int = 100_000) -> SolverResult:
    """Value iteration ``v_{n+1} = T v_n`` from ``v_0 = 0`` with the span stopping rule.

    Stops at the first n with ``gamma / (1 - gamma) * span(v_{n+1} - v_n) < epsilon``
    (Puterman 1994, sec. 6.6.3) and returns the MacQueen-extrapolated values
    ``v_{n+1} + gamma / (1 - gamma) * mid(v_{n+1} - v_n)``, within ``epsilon / 2`` of V*;
    the greedy policy is epsilon-optimal. ``q = R + gamma P v_n`` shifted by the same constant.
    ``bound`` is ``gamma / (1 - gamma) * span(v_{n+1} - v_n)``.

    If ``max_iter`` sweeps do not meet the rule (or the differences reach float64 resolution
    first), a RuntimeWarning names the bound reached and ``converged`` is False; the values are
    extrapolated all the same and ``bound`` still bounds their error.
    """
    m = _check_mdp(m)
    g = _check_gamma(gamma)
    eps = _check_epsilon(epsilon)
    n = as_int("max_iter", max_iter, 1)
    return _mpi(m, g, 0, eps, False, n, np.zeros(m.n_states), "value_iteration")


def modified_policy_iteration(m: FiniteMDP, gamma: float, k: int = 20, epsilon: float = 1e-8,
                              max_iter: int = 100_000) -> SolverResult:
    """Modified policy iteration (Puterman 1994, sec. 6.5) with the span stopping rule.

    From ``v_0 = min R / (1 - gamma)`` (so that ``T v_0 >= v_0``), repeat: ``u = T v``
    (greedy policy pi), stop by the rule of :func:`value_iteration` on ``u - v``, else
    ``v = (T_pi)^m u`` with ``m <= k`` sweeps ``v <- R_pi + gamma P_pi v`` (stopping early
    once ``gamma / (1 - gamma) * span`` of their increments is below ``epsilon / 2``).
    Returns the extrapolated values, within ``epsilon / 2`` of V*, and ``iterations`` = the
    number of full Bellman sweeps.
    """
    m = _check_mdp(m)
    g = _check_gamma(gamma)
    kk = as_int("k", k, 1)
    eps = _check_epsilon(epsilon)
    n = as_int("max_iter", max_iter, 1)
    v0 = np.full(m.n_states, float(m.R.min()) / (1.0 - g))
    return _mpi(m, g, kk, eps, False, n, v0, "modified_policy_iteration")


def solve(m: FiniteMDP, gamma: float, epsilon: float = 1e-8) -> SolverResult:
    """celab's default discounted solver: values within ``epsilon / 2`` of V*, fast.

    Modified policy iteration (see :func:`modified_policy_iteration`) tuned on the solver
    benchmark, in one jitted call. It starts from ``v_0 = max_a R + gamma min R / (1 - gamma)``
    (``T`` of the constant ``min R / (1 - gamma)``, found without a sweep); its first Bellman
    sweep takes ``P v_0`` from the products ``P max_a R`` and ``P 1`` that the model's
    validation pass computed, so it does not read P either. After each Bellman
    sweep ``u = T v`` it evaluates the greedy policy pi by sweeps of ``T_pi`` whose number a cost
    model chooses from the contraction rate it observes: up to ``1e-3 * bound`` (pi will likely
    change), or on to ``epsilon / 2`` when that costs less than one more Bellman sweep; and, for
    S <= 2000, by one dense LU solve of ``(I - gamma P_pi) v = r_pi`` (a policy-iteration step)
    when that is predicted cheaper than the sweeps. It stops on the span rule of
    :func:`value_iteration`, so ``||values - V*|| <= bound / 2`` and
    ``||V* - V^policy|| <= bound < epsilon``; the choices above only affect speed.
    """
    m = _check_mdp(m)
    g = _check_gamma(gamma)
    eps = _check_epsilon(epsilon)
    # T applied to the constant min R / (1 - gamma), without a sweep (P c = c for a constant c);
    # P v0 comes from the model's validation pass, so the first sweep does not read P either
    c = g * float(m.R.min()) / (1.0 - g)
    v0 = m.R.max(axis=1) + c
    return _mpi(m, g, SOLVE_K, eps, True, 100_000, v0, "solve", m._first_products(c))


# ---------------------------------------------------------------------------------------------
# policy evaluation (linear solves) and policy iteration
# ---------------------------------------------------------------------------------------------


def _one_hot(policy: np.ndarray, n_actions: int) -> np.ndarray:
    pi = np.zeros((policy.shape[0], n_actions))
    pi[np.arange(policy.shape[0]), policy] = 1.0
    return pi


def _evaluate_discounted(m: FiniteMDP, pi: np.ndarray, gamma: float) -> np.ndarray:
    """Solve ``(I - gamma P_pi) v = r_pi`` for a stochastic policy ``pi`` (S, A).

    Dense LU (LAPACK, mdp/_linalg_kernels.py) up to DENSE_SOLVE_MAX_STATES states or when P_pi
    is more than 10% full; otherwise a sparse LU (scipy.sparse.linalg.spsolve). Never an inverse.
    """
    S = m.n_states
    indptr, indices, probs = m._csr()
    r = np.empty(S)
    if gamma == 0.0:
        return (pi * m.R).sum(axis=1)
    rows_nnz = np.diff(indptr).reshape(S, m.n_actions)
    nnz_pi = int((rows_nnz * (pi != 0.0)).sum())
    if S <= DENSE_SOLVE_MAX_STATES or (nnz_pi >= 0.1 * S * S and S * S * 8 <= 2**28):
        L.discounted_values_dense(indptr, indices, probs, m.R, pi, gamma, np.empty((S, S)), r)
        return r
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    rows = np.empty(nnz_pi, dtype=np.int64)
    cols = np.empty(nnz_pi, dtype=np.int64)
    data = np.empty(nnz_pi)
    n = L.policy_matrix_coo(indptr, indices, probs, m.R, pi, rows, cols, data, r)
    P_pi = sp.csc_matrix((data[:n], (rows[:n], cols[:n])), shape=(S, S))
    M = (sp.identity(S, format="csc") - gamma * P_pi).tocsc()
    return np.asarray(spsolve(M, r), dtype=np.float64)


def _canonical_policy(q: np.ndarray, rtol: float) -> np.ndarray:
    """Lowest action index within ``rtol * (1 + |max|)`` of each row's maximum."""
    best = q.max(axis=1, keepdims=True)
    ok = q >= best - rtol * (1.0 + np.abs(best))
    return np.argmax(ok, axis=1).astype(np.int64)


def policy_iteration(m: FiniteMDP, gamma: float, max_iter: int = 1000) -> SolverResult:
    """Howard's policy iteration with exact evaluation by a linear solve.

    From the myopic policy ``argmax_a R``: evaluate ``v = (I - gamma P_pi)^{-1} r_pi`` (an LU
    solve, dense or sparse, never an inverse), compute ``q = R + gamma P v`` and switch
    ``pi(s)`` only where some action beats ``q[s, pi(s)]`` by more than
    ``1e-12 (1 + |q[s, pi(s)]|)``, so tied actions cannot make it cycle. Stops when no state
    switches; ``iterations`` counts the evaluations. ``bound = max(T v - v)^+ / (1 - gamma)``
    bounds ``||V* - v||`` (v is the value of the returned policy).
    """
    m = _check_mdp(m)
    g = _check_gamma(gamma)
    n = as_int("max_iter", max_iter, 1)
    S, A = m.n_states, m.n_actions
    indptr, indices, probs = m._csr()
    policy = _myopic(m.R)
    q = np.empty((S, A))
    converged = False
    it = 0
    while it < n:
        it += 1
        v = _evaluate_discounted(m, _one_hot(policy, A), g)
        K.bellman_q(indptr, indices, probs, m.R, v, g, q)
        if K.improve_policy(q, policy, PI_TIE_RTOL) == 0:
            converged = True
            break
    bound = max(float((q.max(axis=1) - v).max()), 0.0) / (1.0 - g)
    if not converged:
        warnings.warn(f"policy_iteration stopped at max_iter = {n} with the policy still "
                      f"changing (bound {bound:.3g})", RuntimeWarning, stacklevel=2)
    return SolverResult(v, q, _canonical_policy(q, PI_TIE_RTOL), it, "policy_iteration",
                        gamma=g, converged=converged, bound=bound)


# ---------------------------------------------------------------------------------------------
# linear programming
# ---------------------------------------------------------------------------------------------


def linear_program(m: FiniteMDP, gamma: float) -> SolverResult:
    """V* as the solution of the primal linear program (HiGHS through scipy.optimize.linprog).

    minimise ``sum_s v_s`` subject to ``v_s >= R[s, a] + gamma sum_s' P[s, a, s'] v_s'`` for
    every (s, a), written as ``(gamma P - E) v <= -R`` with a sparse (S*A, S) constraint matrix
    (``E[(s, a), s] = 1``). Then ``q = R + gamma P v`` and the greedy policy.
    ``bound = max(||T v - v|| / (1 - gamma), gamma / (1 - gamma) span(T v - v))`` bounds
    ``||v - V*||`` and the greedy policy's loss.
    """
    m = _check_mdp(m)
    g = _check_gamma(gamma)
    import scipy.sparse as sp
    from scipy.optimize import linprog

    S, A = m.n_states, m.n_actions
    n_rows = S * A
    rows = np.repeat(np.arange(n_rows), np.diff(m.indptr))
    P_sa = sp.csr_matrix((g * m.probs, (rows, m.indices)), shape=(n_rows, S))
    E = sp.csr_matrix((np.ones(n_rows), (np.arange(n_rows), np.arange(n_rows) // A)),
                      shape=(n_rows, S))
    res = linprog(np.ones(S), A_ub=(P_sa - E).tocsr(), b_ub=-m.R.ravel(), bounds=(None, None),
                  method="highs")
    if res.x is None:
        raise RuntimeError(f"linear_program: HiGHS failed ({res.message})")
    v = np.ascontiguousarray(res.x, dtype=np.float64)
    q = np.empty((S, A))
    K.bellman_q(*m._csr(), m.R, v, g, q)
    d = q.max(axis=1) - v
    bound = float(np.abs(d).max()) / (1.0 - g)
    bound = max(bound, g / (1.0 - g) * float(d.max() - d.min()))
    return SolverResult(v, q, np.argmax(q, axis=1).astype(np.int64), int(res.nit),
                        "linear_program", gamma=g, converged=res.status == 0, bound=bound)


# ---------------------------------------------------------------------------------------------
# average reward
# ---------------------------------------------------------------------------------------------


def relative_value_iteration(m: FiniteMDP, epsilon: float = 1e-8,
                             max_iter: int = 100_000) -> SolverResult:
    """Optimal gain and bias of a unichain MDP by relative value iteration.

    Runs on the aperiodic transform ``P' = tau I + (1 - tau) P`` with ``tau = 0.5`` (same gain;
    its bias is the original bias divided by ``1 - tau``), so periodic chains converge:
    ``u = T' w``, ``d = u - w``, ``w <- u - u[0]``, until ``span(d) < epsilon``. Since
    ``min d <= g* <= max d``, ``gain = mid(d)`` is within ``epsilon / 2`` of g*. Returns
    ``bias = (1 - tau) w`` (``bias[0] = 0``, also as ``values``), ``q = R + P bias - gain``
    and the greedy policy (lowest index on ties), whose gain is within ``bound`` of g*.

    The sweeps are the agents' (mdp/_planning_kernels.py): ``T' w`` is computed as
    ``R + P ((1 - tau) w)`` summed from R on, plus ``tau w``. It also stops, with a warning,
    when ``span(d)`` has fallen to the float64 resolution of ``u`` (``64 eps max |u|``).

    Assumes the MDP is unichain (every deterministic stationary policy has one recurrent
    class); on multichain MDPs the span need not converge.
    """
    m = _check_mdp(m)
    eps = _check_epsilon(epsilon)
    n = as_int("max_iter", max_iter, 1)
    S, A = m.n_states, m.n_actions
    w, u, v, d = np.zeros(S), np.empty(S), np.empty(S), np.zeros(S)
    q = np.empty((S, A))
    indptr, indices, probs = m._csr()
    it, lo, hi, status = plan.relative_value_iteration(_tabular(m), RVI_TAU, eps, 0.0,
                                                       RESOLUTION, n, w, u, v, d, q, _NO_STOP)
    gain = 0.5 * (lo + hi)
    bound = float(hi - lo)
    if status != 0:
        _warn_unconverged("relative_value_iteration", status, bound, eps, n,
                          float(np.abs(u).max()))
    bias = (1.0 - RVI_TAU) * w
    K.bellman_q(indptr, indices, probs, m.R, bias, 1.0, q)
    q -= gain
    policy = np.argmax(q, axis=1).astype(np.int64)
    return SolverResult(bias, q, policy, int(it), "relative_value_iteration", gain=float(gain),
                        bias=bias, converged=status == 0, bound=bound)


# ---------------------------------------------------------------------------------------------
# exact evaluation of a given policy
# ---------------------------------------------------------------------------------------------


def _check_actions(name: str, policy: np.ndarray, n_actions: int) -> np.ndarray:
    bad = np.flatnonzero((policy.ravel() < 0) | (policy.ravel() >= n_actions))
    if bad.size:
        idx = np.unravel_index(bad[0], policy.shape)
        where = ", ".join(str(int(i)) for i in idx)
        raise InputError(f"{name}[{where}] = {policy[idx]} is not an action in [0, {n_actions})")
    return np.ascontiguousarray(policy, dtype=np.int64)


def _check_distributions(name: str, pi: np.ndarray) -> np.ndarray:
    pi = np.ascontiguousarray(pi, dtype=np.float64)
    if not np.all(np.isfinite(pi)):
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(pi))[0])
        where = ", ".join(map(str, idx))
        raise InputError(f"{name}[{where}] is {float(pi[idx])!r} (must be finite)")
    if np.any(pi < 0.0):
        idx = tuple(int(i) for i in np.argwhere(pi < 0.0)[0])
        raise InputError(f"{name}[{', '.join(map(str, idx))}] is {pi[idx]:.12g} (must be >= 0)")
    sums = pi.sum(axis=-1)
    bad = np.argwhere(np.abs(sums - 1.0) > SUM_TOL)
    if bad.size:
        idx = tuple(int(i) for i in bad[0])
        raise InputError(f"{name}[{', '.join(map(str, idx))}] sums to {sums[idx]:.12g} (must be "
                         f"1 within {SUM_TOL_TEXT})")
    return pi


def _callable_arity(policy: Callable[..., object]) -> int:
    """1 for ``policy(s)``, 2 for ``policy(h, s)``: its number of positional parameters
    without a default; anything else is refused."""
    try:
        params = inspect.signature(policy).parameters.values()
    except (TypeError, ValueError):
        raise InputError("policy is a callable whose signature cannot be read: wrap it as "
                         "lambda s: ... (stationary) or lambda h, s: ... (per step)") from None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in params if p.kind in kinds and p.default is inspect.Parameter.empty]
    if len(required) not in (1, 2):
        raise InputError(f"a callable policy must take one argument, policy(s), or two, "
                         f"policy(h, s); it takes {len(required)} required positional arguments")
    return len(required)


def _call_policy(policy: Callable[..., object], args: tuple[int, ...], n_actions: int
                 ) -> int | np.ndarray:
    """One answer of a callable policy: an action in [0, A) or A probabilities (unchecked)."""
    out = policy(*args)
    where = f"policy({', '.join(map(str, args))})"
    if isinstance(out, (bool, np.bool_)):
        raise InputError(f"{where} returned {out!r} (must be an integer action or {n_actions} "
                         "probabilities)")
    arr = np.asarray(out)
    if arr.ndim == 0 and arr.dtype.kind in "iu":
        if not 0 <= int(arr) < n_actions:
            raise InputError(f"{where} = {int(arr)} is not an action in [0, {n_actions})")
        return int(arr)
    if arr.shape == (n_actions,) and arr.dtype.kind in "fiu":
        return arr.astype(np.float64)
    raise InputError(f"{where} returned {out!r} (must be an integer action in [0, {n_actions}) "
                     f"or a vector of {n_actions} probabilities)")


def _policy_table(policy: Callable[..., object], m: FiniteMDP, horizon: int | None
                  ) -> np.ndarray:
    """The table of a callable policy, calling it once per state (per step and state for
    ``policy(h, s)``): integer actions (S,) / (H, S) when every answer is an action, else
    probabilities (S, A) / (H, S, A), actions then one-hot."""
    S, A = m.n_states, m.n_actions
    if _callable_arity(policy) == 1:
        keys: list[tuple[int, ...]] = [(s,) for s in range(S)]
        shape: tuple[int, ...] = (S,)
    elif horizon is None:
        raise InputError("a per-step policy(h, s) needs a horizon; with gamma give policy(s)")
    else:
        H = as_int("horizon", horizon, 1)
        keys = [(h, s) for h in range(H) for s in range(S)]
        shape = (H, S)
    answers = [_call_policy(policy, k, A) for k in keys]
    if all(isinstance(a, int) for a in answers):
        return np.array(answers, dtype=np.int64).reshape(shape)
    table = np.zeros((len(answers), A))
    for i, a in enumerate(answers):
        if isinstance(a, int):
            table[i, a] = 1.0
        else:
            table[i] = a
    return table.reshape(*shape, A)


def evaluate(m: FiniteMDP, policy: ArrayLike | Callable[..., object],
             gamma: float | None = None, horizon: int | None = None) -> np.ndarray:
    """Exact value of a policy, discounted (``gamma``) or over a finite ``horizon``.

    ``policy`` is deterministic (an integer array of actions) or stochastic (a float array of
    action probabilities, each row summing to 1 within 1e-8):

    * with ``gamma``: (S,) ints or (S, A) probabilities; returns V^pi (S,), the solution of
      ``(I - gamma P_pi) v = r_pi`` (LU, dense or sparse; never an inverse);
    * with ``horizon`` H: (H, S) ints or (H, S, A) probabilities (a stationary (S,) or (S, A)
      policy is used at every step); returns (H+1, S) with ``V_H = 0`` and
      ``V_h = r_{pi_h} + P_{pi_h} V_{h+1}``, i.e. ``V_h(s) = sum_a pi_h(a | s) (R(s, a) +
      sum_s' P(s' | s, a) V_{h+1}(s'))`` over the actions of positive probability, each term
      summed from R on in increasing s' (the episodic loop's evaluation of its agents).

    ``policy`` may also be a callable, turned into such a table once, before the evaluation:
    ``policy(s)`` (one positional parameter without a default: stationary) or ``policy(h, s)``
    (two: step ``h = 0 .. H-1``; with ``horizon`` only), returning an integer action or a
    vector of A probabilities. It is called once for every state (and step); the table holds
    integer actions when every answer is an action, else probabilities (actions as one-hot
    rows). So a Gymnasium user's ``lambda s: int(q[s].argmax())`` is scored exactly.

    Exactly one of ``gamma`` and ``horizon`` must be given.
    """
    m = _check_mdp(m)
    if (gamma is None) == (horizon is None):
        raise InputError("evaluate needs exactly one of gamma (discounted) and horizon")
    if callable(policy):
        policy = _policy_table(policy, m, horizon)
    S, A = m.n_states, m.n_actions
    try:
        pol = np.asarray(policy)
    except (TypeError, ValueError) as exc:
        raise InputError(f"policy must be an array of actions or probabilities ({exc})") from None
    integer = pol.dtype.kind in "iu"
    if not integer and pol.dtype.kind != "f":
        raise InputError(f"policy must hold integer actions or float probabilities, got dtype "
                         f"{pol.dtype}")
    if gamma is not None:
        g = _check_gamma(gamma)
        if integer and pol.shape == (S,):
            pi = _one_hot(_check_actions("policy", pol, A), A)
        elif not integer and pol.shape == (S, A):
            pi = _check_distributions("policy", pol)
        else:
            raise InputError(f"policy must be (S,) = ({S},) integer actions or (S, A) = ({S}, "
                             f"{A}) probabilities, got shape {pol.shape} and dtype {pol.dtype}")
        return _evaluate_discounted(m, pi, g)
    H = as_int("horizon", horizon, 1)
    values = np.empty((H + 1, S))
    if integer and pol.shape in ((S,), (H, S)):
        pol = _check_actions("policy", np.broadcast_to(pol, (H, S)), A)
        plan.evaluate_policy(plan.Deterministic(pol), _tabular(m), values, _NO_STOP)
    elif not integer and pol.shape in ((S, A), (H, S, A)):
        pi = _check_distributions("policy", np.broadcast_to(pol, (H, S, A)))
        plan.evaluate_policy(plan.Stochastic(pi), _tabular(m), values, _NO_STOP)
    else:
        raise InputError(f"policy must be (H, S) = ({H}, {S}) integer actions or (H, S, A) = "
                         f"({H}, {S}, {A}) probabilities (or a stationary (S,) / (S, A) one), got "
                         f"shape {pol.shape} and dtype {pol.dtype}")
    return values

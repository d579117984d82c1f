"""Jitted kernels of the exact MDP solvers, over the CSR arrays of a :class:`mdp.FiniteMDP`.

The model is stored as successor lists: the pair (s, a) is row ``s * A + a``; its successors are
``indices[indptr[row]:indptr[row + 1]]`` (strictly increasing) with probabilities ``probs`` on the
same slice. Every kernel here reads those arrays; none allocates inside its iteration loop.
When every row is full (``len(probs) == S * A * S``, a dense model), row ``r`` is the states
``0 .. S-1`` with probabilities ``probs[r*S:(r+1)*S]``: the kernels then read ``probs`` as a dense
matrix and never touch ``indices`` (``FiniteMDP._csr()`` leaves it empty for models built from a
fully dense P; the public ``m.indices`` is always complete).

Public kernel: :func:`bellman_q` -- ``q = R + gamma * P v``. :func:`mpi_kernel` runs a whole
discounted solver (value iteration, modified policy iteration, the default solver) in one call,
so a solve costs no Python overhead per iteration. Finite-horizon and average-reward solving and
exact evaluation use the planning and linear-algebra stages shared with the agents
(mdp/_planning_kernels.py, mdp/_linalg_kernels.py).

Sparse rows are summed in index order (plain IEEE arithmetic). Rows holding every state are
summed with reassociation allowed, so LLVM vectorises them (twice as fast); the order of their
additions depends on the row length and the machine's vector width only, so results are
bit-identical run to run on one machine (whatever the thread count) and may differ in the last
bits between CPU generations.
"""

from __future__ import annotations

import numpy as np

from tracking.jit import njit

from ._linalg_kernels import discounted_values_dense

_EPS = np.finfo(np.float64).eps
# Row sums may be reassociated (vectorised); no flag assumes away NaN or infinity.
_FASTMATH = {"reassoc", "nsz", "contract"}


@njit(cache=True, fastmath=_FASTMATH)
def _pv_full(probs, v, out):
    """``out[s, a] = sum_j probs[(s A + a) S + j] v[j]``: ``P v`` when every row is full."""
    n_states, n_actions = out.shape
    size = v.shape[0]
    for s in range(n_states):
        for a in range(n_actions):
            base = (s * n_actions + a) * size
            p = probs[base:base + size]
            total = 0.0
            for j in range(size):
                total += p[j] * v[j]
            out[s, a] = total


@njit(cache=True)
def _pv_sparse(indptr, indices, probs, v, out):
    """``out[s, a] = sum_j probs[j] v[indices[j]]`` over row ``s A + a``, in index order."""
    n_states, n_actions = out.shape
    for s in range(n_states):
        for a in range(n_actions):
            row = s * n_actions + a
            total = 0.0
            # unsigned indices spare numba's negative-index checks (3x faster on short rows)
            for j in range(np.uint64(indptr[row]), np.uint64(indptr[row + 1])):
                total += probs[j] * v[np.uint64(indices[j])]
            out[s, a] = total


@njit(cache=True)
def pv(indptr, indices, probs, v, out):
    """``out[s, a] = (P v)(s, a) = sum_s' P(s' | s, a) v(s')`` for every pair; out (S, A)."""
    n_states, n_actions = out.shape
    if probs.shape[0] == n_states * n_actions * v.shape[0]:
        _pv_full(probs, v, out)
    else:
        _pv_sparse(indptr, indices, probs, v, out)


@njit(cache=True, fastmath=_FASTMATH)
def _pv_policy_full(probs, n_actions, policy, v, out):
    size = v.shape[0]
    for s in range(out.shape[0]):
        base = (s * n_actions + policy[s]) * size
        p = probs[base:base + size]
        total = 0.0
        for j in range(size):
            total += p[j] * v[j]
        out[s] = total


@njit(cache=True)
def _pv_policy_sparse(indptr, indices, probs, n_actions, policy, v, out):
    for s in range(out.shape[0]):
        row = s * n_actions + policy[s]
        total = 0.0
        for j in range(np.uint64(indptr[row]), np.uint64(indptr[row + 1])):
            total += probs[j] * v[np.uint64(indices[j])]
        out[s] = total


@njit(cache=True)
def pv_policy(indptr, indices, probs, n_actions, policy, v, out):
    """``out[s] = (P_pi v)(s) = sum_s' P(s' | s, pi(s)) v(s')`` for a deterministic policy."""
    n_states = out.shape[0]
    if probs.shape[0] == n_states * n_actions * v.shape[0]:
        _pv_policy_full(probs, n_actions, policy, v, out)
    else:
        _pv_policy_sparse(indptr, indices, probs, n_actions, policy, v, out)


@njit(cache=True)
def bellman_q(indptr, indices, probs, R, v, gamma, q_out):
    """``q_out[s, a] = R[s, a] + gamma * sum_j probs[j] * v[indices[j]]`` over row ``s*A + a``."""
    pv(indptr, indices, probs, v, q_out)
    n_states, n_actions = R.shape
    for s in range(n_states):
        for a in range(n_actions):
            q_out[s, a] = R[s, a] + gamma * q_out[s, a]


@njit(cache=True)
def greedy_from_pv(R, gamma, q, u_out, policy_out):
    """Turn ``q = P v`` in place into ``q = R + gamma P v``; ``u = max_a q``, ``policy = argmax``.

    Ties go to the lowest action index (a later action must be strictly larger).
    """
    n_states, n_actions = R.shape
    for s in range(n_states):
        best = -np.inf
        arg = 0
        for a in range(n_actions):
            val = R[s, a] + gamma * q[s, a]
            q[s, a] = val
            if val > best:
                best = val
                arg = a
        u_out[s] = best
        policy_out[s] = arg


@njit(cache=True)
def greedy_sweep(indptr, indices, probs, R, v, gamma, q_out, u_out, policy_out):
    """One Bellman sweep: ``q = R + gamma P v``, ``u = max_a q``, ``policy = argmax_a q``
    (lowest index on ties)."""
    pv(indptr, indices, probs, v, q_out)
    greedy_from_pv(R, gamma, q_out, u_out, policy_out)


@njit(cache=True)
def policy_sweep(indptr, indices, probs, R, policy, v, gamma, u_out):
    """``u = r_pi + gamma P_pi v`` for a deterministic stationary policy."""
    n_actions = R.shape[1]
    pv_policy(indptr, indices, probs, n_actions, policy, v, u_out)
    for s in range(u_out.shape[0]):
        u_out[s] = R[s, policy[s]] + gamma * u_out[s]


@njit(cache=True)
def _diff_range(u, v):
    """``(min, max)`` of ``u - v`` and ``max |u|``."""
    lo = np.inf
    hi = -np.inf
    scale = 0.0
    for s in range(u.shape[0]):
        d = u[s] - v[s]
        if d < lo:
            lo = d
        if d > hi:
            hi = d
        a = abs(u[s])
        if a > scale:
            scale = a
    return lo, hi, scale


# Cost model (nanoseconds on a 2.4 GHz x86 core) deciding, in mpi_kernel, between more
# evaluation sweeps and one dense LU solve; it only affects speed, never the results' bounds.
_NS_PER_ENTRY = 2.0  # one probs * v[index] term of a sweep
_NS_PER_ROW = 5.0
_NS_LU_FIXED = 20_000.0
_NS_PER_LU_FLOP = 0.1  # per S^3 / 3
_NS_PER_DENSE_ENTRY = 1.0  # writing I - gamma P_pi


@njit(cache=True)
def _sweeps_to(target, now, rho):
    """Predicted sweeps for a geometric sequence at rate ``rho`` to fall from ``now`` to
    ``target``."""
    if now <= target:
        return 0.0
    if rho >= 1.0:
        return np.inf
    return np.log(target / now) / np.log(max(rho, 1e-3))


@njit(cache=True)
def mpi_kernel(indptr, indices, probs, R, gamma, k, epsilon, adaptive, max_iter,
               direct_max_states, pv_first, v, u, q, policy):
    """Modified policy iteration with the span stopping rule; ``k = 0`` is value iteration.

    From ``v`` (overwritten), repeat: ``u = T v`` (one Bellman sweep, greedy ``policy``),
    ``d = u - v``; stop if ``bound = gamma / (1 - gamma) * span(d) < epsilon``; otherwise
    ``v = u`` and up to ``k`` sweeps ``v <- r_pi + gamma P_pi v`` (partial evaluation of the
    greedy policy), leaving early once ``gamma / (1 - gamma) * span`` of their increments is
    below ``epsilon / 2``: further sweeps would mostly move ``v`` by a constant, which neither
    the greedy policy nor the span rule sees.

    ``adaptive`` (celab's default solver) chooses the evaluation's precision by a cost model
    (``_NS_*`` above), from the contraction rate observed between sweeps: it evaluates to
    ``1e-3 * bound`` only, unless finishing to ``epsilon / 2`` is predicted to cost less than
    one Bellman sweep (then the next sweep likely meets the stopping rule); and when reaching
    the chosen precision is predicted to cost more than a dense LU solve (``S <=
    direct_max_states``), it evaluates the policy exactly instead (LAPACK's LU),
    ``v = (I - gamma P_pi)^{-1} r_pi`` (a policy-iteration step). The choices only affect
    speed: every stopping decision is taken on a full Bellman sweep.

    A non-empty ``pv_first`` (S, A) is ``P v`` for the initial ``v``, computed beforehand (by
    the model's validation pass), which spares the first sweep its pass over P.

    On exit ``v`` holds the MacQueen-extrapolated values ``u + gamma/(1-gamma) * mid(d)``
    and ``q`` the matching ``R + gamma P v_n + gamma/(1-gamma) * mid(d)``, with
    ``mid(d) = (max d + min d) / 2``. Both are within ``bound / 2`` of V* and Q*, and the
    greedy ``policy`` loses at most ``bound``.

    The loop also stops when ``span(d)`` has fallen to the rounding noise of ``u``
    (``64 eps max|u|``), where more sweeps cannot lower it, or after ``max_iter`` sweeps; the
    values are extrapolated in every case, so ``bound`` is always valid.

    Returns
    -------
    (iterations, bound, status)
        Bellman sweeps done, ``bound`` at the last one, and the status: 0 converged,
        1 max_iter reached, 2 stopped at the float64 resolution.
    """
    n_states, n_actions = R.shape
    coef = gamma / (1.0 - gamma)
    fine = 0.5 * epsilon
    bound = np.inf
    direct = adaptive and 0 < n_states <= direct_max_states and k > 0
    # the direct evaluation's (S, S) work array and one-hot policy, allocated on first use
    M = np.empty((0, 0))
    one_hot = np.empty((0, 0))
    direct_ns = (_NS_LU_FIXED + _NS_PER_LU_FLOP * n_states**3 / 3.0
                 + _NS_PER_DENSE_ENTRY * n_states * n_states)
    full_ns = _NS_PER_ENTRY * probs.shape[0] + _NS_PER_ROW * n_states * n_actions
    it = 0
    while True:
        it += 1
        if it == 1 and pv_first.shape[0] == n_states:
            q[:, :] = pv_first
            greedy_from_pv(R, gamma, q, u, policy)
        else:
            greedy_sweep(indptr, indices, probs, R, v, gamma, q, u, policy)
        lo, hi, scale = _diff_range(u, v)
        span = hi - lo
        bound = coef * span
        stalled = span <= 64.0 * _EPS * scale
        if bound < epsilon or stalled or it >= max_iter:
            # the bounds hold for any v: extrapolate whatever stopped the loop
            mid = 0.5 * (lo + hi)
            for s in range(n_states):
                v[s] = u[s] + coef * mid
            q += coef * mid
            return it, bound, 0 if bound < epsilon else (2 if stalled else 1)
        # v <- u, then partial evaluation sweeps
        v[:] = u
        rough = max(fine, 1e-3 * bound)
        sweep_ns = _NS_PER_ROW * n_states
        if adaptive:
            for s in range(n_states):
                row = s * n_actions + policy[s]
                sweep_ns += _NS_PER_ENTRY * (indptr[row + 1] - indptr[row])
        prev = np.inf
        for j in range(k):
            policy_sweep(indptr, indices, probs, R, policy, v, gamma, u)
            lo, hi, scale = _diff_range(u, v)
            v[:] = u
            now = coef * (hi - lo)
            if now < fine or hi - lo <= 64.0 * _EPS * scale:
                break
            if adaptive and j >= 1:
                rho = (hi - lo) / prev
                left = k - j - 1
                cost_fine = min(_sweeps_to(fine, now, rho), left) * sweep_ns
                cost_rough = min(_sweeps_to(rough, now, rho), left) * sweep_ns
                want_fine = cost_fine - cost_rough <= full_ns
                if direct and (cost_fine if want_fine else cost_rough) > direct_ns:
                    if M.shape[0] != n_states:
                        M = np.empty((n_states, n_states))
                        one_hot = np.zeros((n_states, n_actions))
                    for s in range(n_states):
                        one_hot[s, :] = 0.0
                        one_hot[s, policy[s]] = 1.0
                    discounted_values_dense(indptr, indices, probs, R, one_hot, gamma, M, v)
                    break
                if not want_fine and now < rough:
                    break
            prev = hi - lo


@njit(cache=True)
def improve_policy(q, policy, rtol):
    """Keep ``policy[s]`` unless an action beats it by more than ``rtol * (1 + |q[s, pi(s)]|)``;
    then switch to the lowest-index maximiser of ``q[s]``. Returns the number of changes."""
    n_states, n_actions = q.shape
    changed = 0
    for s in range(n_states):
        cur = q[s, policy[s]]
        best = cur
        arg = policy[s]
        for a in range(n_actions):
            if q[s, a] > best:
                best = q[s, a]
                arg = a
        if arg != policy[s] and best > cur + rtol * (1.0 + abs(cur)):
            # the lowest index among the maximisers
            for a in range(n_actions):
                if q[s, a] == best:
                    arg = a
                    break
            policy[s] = arg
            changed += 1
    return changed

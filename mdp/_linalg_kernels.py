"""The linear-algebra stage of the MDP pipeline: a policy's chain, dense solves, exact gains.

* :func:`policy_matrix_dense`, :func:`policy_matrix_coo` -- P_pi and r_pi of a stochastic
  stationary policy (dense, or COO triplets for a sparse solver);
* :func:`lu_factor`, :func:`lu_solve`, :func:`lu_solve_transposed` -- Gaussian elimination with
  partial pivoting in plain IEEE arithmetic (the same bits on every machine), one factorisation
  for ``M x = b`` and ``M^T x = b``;
* :func:`discounted_values_dense` -- V^pi = (I - gamma P_pi)^{-1} r_pi by LAPACK (the solvers'
  fast path: LAPACK's blocked LU is 4-9x faster than :func:`lu_factor` from 500 states on, and
  its last bits depend on the machine's BLAS kernels);
* :func:`strong_components` and :func:`gain_vector` -- the exact gain of a stationary policy,
  multichain included.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tracking.jit import njit


@njit(cache=True)
def policy_matrix_dense(indptr, indices, probs, R, pi, out, r_out):
    """``out = P_pi`` (S, S) dense and ``r_out = r_pi`` for a stochastic policy ``pi`` (S, A).

    P_pi(s, s') = sum_a pi(a | s) P(s' | s, a) and r_pi(s) = sum_a pi(a | s) R(s, a), over the
    actions of positive probability in increasing a (rows holding all S states need no
    ``indices``).
    """
    n_states, n_actions = R.shape
    out[:, :] = 0.0
    for s in range(n_states):
        r = 0.0
        for a in range(n_actions):
            w = pi[s, a]
            if w != 0.0:
                r += w * R[s, a]
                row = s * n_actions + a
                start, end = indptr[row], indptr[row + 1]
                full = end - start == n_states
                for j in range(start, end):
                    out[s, j - start if full else indices[j]] += w * probs[j]
        r_out[s] = r


@njit(cache=True)
def policy_matrix_coo(indptr, indices, probs, R, pi, rows, cols, data, r_out):
    """``P_pi`` as COO triplets (duplicates to be summed) and ``r_pi``; returns the count."""
    n_states, n_actions = R.shape
    n = 0
    for s in range(n_states):
        r = 0.0
        for a in range(n_actions):
            w = pi[s, a]
            if w != 0.0:
                r += w * R[s, a]
                row = s * n_actions + a
                start, end = indptr[row], indptr[row + 1]
                full = end - start == n_states
                for j in range(start, end):
                    rows[n] = s
                    cols[n] = j - start if full else indices[j]
                    data[n] = w * probs[j]
                    n += 1
        r_out[s] = r
    return n


@njit(cache=True)
def discount_system(M, gamma):
    """Turn ``M = P_pi`` into ``I - gamma P_pi`` in place (its zeros stay +0)."""
    n = M.shape[0]
    for i in range(n):
        for j in range(n):
            if M[i, j] != 0.0:
                M[i, j] *= -gamma
        M[i, i] += 1.0


@njit(cache=True)
def discounted_values_dense(indptr, indices, probs, R, pi, gamma, M, v):
    """``v = (I - gamma P_pi)^{-1} r_pi`` for a stochastic policy ``pi`` (S, A) by LAPACK's LU
    (``numpy.linalg.solve``); ``M`` (S, S) is scratch."""
    policy_matrix_dense(indptr, indices, probs, R, pi, M, v)
    discount_system(M, gamma)
    v[:] = np.linalg.solve(M, v)


@njit(cache=True)
def lu_factor(G, n, perm, stop):
    """``P G = L U`` in place for the leading n x n block of G, with partial pivoting.

    Step k swaps row k with the row of largest |G[i, k]|, i >= k (the first one on ties; the
    swap recorded in ``perm[k]``), then subtracts f_ik = G[i, k] / G[k, k] times row k from
    every row i > k (skipped when f_ik = 0); the multipliers f_ik are kept below the diagonal.
    Reads ``stop[0]`` at every step k and returns False at once when it is set (G partial),
    True when complete.
    """
    for k in range(n):
        if stop[0] != 0:
            return False
        piv = k
        big = abs(G[k, k])
        for i in range(k + 1, n):
            if abs(G[i, k]) > big:
                big = abs(G[i, k])
                piv = i
        perm[k] = piv
        if piv != k:
            for j in range(n):
                G[k, j], G[piv, j] = G[piv, j], G[k, j]
        for i in range(k + 1, n):
            f = G[i, k] / G[k, k]
            G[i, k] = f
            if f != 0.0:
                for j in range(k + 1, n):
                    G[i, j] -= f * G[k, j]
    return True


@njit(cache=True)
def lu_solve(G, n, perm, b):
    """Solve ``M x = b[:n]`` in place, G and perm from :func:`lu_factor` of M.

    The row swaps are applied to b, then L y = P b column by column, then U x = y from the last
    row up: every entry of b goes through the subtractions of Gaussian elimination on (M | b),
    in the same order.
    """
    for k in range(n):
        piv = perm[k]
        if piv != k:
            b[k], b[piv] = b[piv], b[k]
    for k in range(n):
        for i in range(k + 1, n):
            f = G[i, k]
            if f != 0.0:
                b[i] -= f * b[k]
    for k in range(n - 1, -1, -1):
        acc = b[k]
        for j in range(k + 1, n):
            acc -= G[k, j] * b[j]
        b[k] = acc / G[k, k]


@njit(cache=True)
def lu_solve_transposed(G, n, perm, b):
    """Solve ``M^T x = b[:n]`` in place, G and perm from :func:`lu_factor` of M.

    M^T = U^T L^T P: U^T z = b from the first row down, L^T y = z from the last row up, then
    x = P^T y (the swaps undone in reverse order).
    """
    for i in range(n):
        acc = b[i]
        for k in range(i):
            acc -= G[k, i] * b[k]
        b[i] = acc / G[i, i]
    for i in range(n - 1, -1, -1):
        acc = b[i]
        for k in range(i + 1, n):
            acc -= G[k, i] * b[k]
        b[i] = acc
    for k in range(n - 1, -1, -1):
        piv = perm[k]
        if piv != k:
            b[k], b[piv] = b[piv], b[k]


@njit(cache=True)
def strong_components(M, comp, low, index, stack, onstack, cursor, call):
    """Tarjan's strongly connected components of the graph {s -> s' : M[s, s'] > 0}.

    Iterative; every argument after M is an int64 scratch vector of S entries. Writes
    comp[s] in 0 .. count - 1; returns count.
    """
    n = M.shape[0]
    for s in range(n):
        index[s] = -1
        onstack[s] = 0
    counter = 0
    count = 0
    top = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        index[root] = counter
        low[root] = counter
        counter += 1
        stack[top] = root
        top += 1
        onstack[root] = 1
        cursor[root] = 0
        call[0] = root
        depth = 1
        while depth > 0:
            x = call[depth - 1]
            descended = False
            while cursor[x] < n:
                y = cursor[x]
                cursor[x] += 1
                if M[x, y] > 0.0:
                    if index[y] < 0:
                        index[y] = counter
                        low[y] = counter
                        counter += 1
                        stack[top] = y
                        top += 1
                        onstack[y] = 1
                        cursor[y] = 0
                        call[depth] = y
                        depth += 1
                        descended = True
                        break
                    if onstack[y] == 1:
                        low[x] = min(low[x], index[y])
            if descended:
                continue
            if low[x] == index[x]:
                while True:
                    top -= 1
                    z = stack[top]
                    onstack[z] = 0
                    comp[z] = count
                    if z == x:
                        break
                count += 1
            depth -= 1
            if depth > 0:
                parent = call[depth - 1]
                low[parent] = min(low[parent], low[x])
    return count


class GainWork(NamedTuple):
    """Scratch of :func:`gain_vector` for S states: P_pi, the linear systems, r_pi, right-hand
    sides, Tarjan's vectors, the members of a class and the LU's row swaps."""

    chain: np.ndarray
    system: np.ndarray
    r_pi: np.ndarray
    rhs: np.ndarray
    comp: np.ndarray
    low: np.ndarray
    index: np.ndarray
    stack: np.ndarray
    onstack: np.ndarray
    cursor: np.ndarray
    call: np.ndarray
    members: np.ndarray
    perm: np.ndarray


@njit(cache=True)
def gain_work(n_states):
    """Fresh :class:`GainWork` for ``n_states`` states."""
    S = n_states
    ints = np.zeros((9, S), dtype=np.int64)  # one block, handed out as nine rows
    return GainWork(np.zeros((S, S)), np.zeros((S, S)), np.zeros(S), np.zeros(S), ints[0],
                    ints[1], ints[2], ints[3], ints[4], ints[5], ints[6], ints[7], ints[8])


@njit(cache=True)
def _solve(work, size, stop):
    """Solve system[:size, :size] x = rhs[:size] in place (rhs becomes x); False when stopped."""
    if not lu_factor(work.system, size, work.perm, stop):
        return False
    lu_solve(work.system, size, work.perm, work.rhs)
    return True


@njit(cache=True)
def gain_vector(indptr, indices, probs, R, pi, work, g, stop):
    """Exact gain g(s) = lim (1/T) E[sum_{t<T} r_pi(s_t) | s_0 = s] of a stationary policy.

    g = P* r_pi with P* the Cesaro limit of P_pi, for any chain (multichain included):

    1. the recurrent classes are the closed strongly connected components of P_pi's graph;
    2. in each class C, the stationary distribution mu_C solves mu (I - P_CC) = 0, sum mu = 1
       (the last balance equation replaced by the normalisation), and g = mu_C . r_pi on C;
    3. on the transient states T, g_T solves (I - P_TT) g_T = P_{T, rec} g_rec.

    ``pi`` is (S, A) action probabilities; ``work`` a :class:`GainWork`. Writes g (S,).
    Reads ``stop[0]`` at every pivot of the linear solves and returns False at once when it is
    set (g partial), True when complete.
    """
    n = R.shape[0]
    M, G, r, rhs, members, comp = (work.chain, work.system, work.r_pi, work.rhs, work.members,
                                   work.comp)
    policy_matrix_dense(indptr, indices, probs, R, pi, M, r)
    count = strong_components(M, comp, work.low, work.index, work.stack, work.onstack,
                              work.cursor, work.call)
    closed = work.low  # reused: closed[c] for c < count
    for c in range(count):
        closed[c] = 1
    for s in range(n):
        for s2 in range(n):
            if M[s, s2] > 0.0 and comp[s2] != comp[s]:
                closed[comp[s]] = 0
    for c in range(count):
        if closed[c] == 0:
            continue
        size = 0
        for s in range(n):
            if comp[s] == c:
                members[size] = s
                size += 1
        # (I - P_CC)^T mu = 0 with the last equation replaced by sum mu = 1
        for i in range(size):
            for j in range(size):
                G[i, j] = (1.0 if i == j else 0.0) - M[members[j], members[i]]
            rhs[i] = 0.0
        for j in range(size):
            G[size - 1, j] = 1.0
        rhs[size - 1] = 1.0
        if not _solve(work, size, stop):
            return False
        gc = 0.0
        for i in range(size):
            gc += rhs[i] * r[members[i]]
        for i in range(size):
            g[members[i]] = gc
    size = 0
    for s in range(n):
        if closed[comp[s]] == 0:
            members[size] = s
            size += 1
    if size > 0:
        for i in range(size):
            si = members[i]
            acc = 0.0
            for s2 in range(n):
                if closed[comp[s2]] == 1:
                    acc += M[si, s2] * g[s2]
            rhs[i] = acc
            for j in range(size):
                G[i, j] = (1.0 if i == j else 0.0) - M[si, members[j]]
        if not _solve(work, size, stop):
            return False
        for i in range(size):
            g[members[i]] = rhs[i]
    return True

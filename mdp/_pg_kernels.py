"""Jitted kernels of exact softmax policy gradient (mdp/policy_gradient.py).

One call of :func:`pg_kernel` runs the whole gradient ascent over the model's CSR arrays
(row ``s * A + a`` holds the successors of (s, a); ``indices`` must be complete). Every iteration
evaluates the current softmax policy exactly, by two linear solves with the matrix
``M = I - gamma P_pi``:

* values ``M v = r_pi`` and
* discounted visitation ``M^T w = rho`` (``w = rho^T (I - gamma P_pi)^{-1}``, so
  ``w = d_rho^pi / (1 - gamma)``).

Two solvers, chosen once per run:

* **triangular** (O(nnz) per solve): when the transition graph without its self-loops is
  acyclic (chains that end in an absorbing state, bandits, Deep Sea), ``M`` is triangular in a
  topological order of the states (:func:`topological_order`): ``v`` is found successors first
  and ``w`` predecessors first, by substitution.
* **dense LU** (O(S^3 / 3)): otherwise, mdp/_linalg_kernels.py's Gaussian elimination with
  partial pivoting, whose one factorisation ``P M = L U`` serves both systems
  (``M^T = U^T L^T P``).

No array is allocated inside the iteration loop.
"""

from __future__ import annotations

import math

import numpy as np

from tracking.jit import njit

from ._linalg_kernels import (
    discount_system,
    lu_factor,
    lu_solve,
    lu_solve_transposed,
    policy_matrix_dense,
)


@njit(cache=True)
def topological_order(indptr, indices, n_states, n_actions, order):
    """Fill ``order`` with the states, every state after all its successors (self-loops aside).

    Kahn's algorithm on the graph ``s -> s'`` over all actions with ``P[s, a, s'] > 0`` and
    ``s' != s``. Returns True when the graph is acyclic (``order`` is then complete), else False.
    """
    out_deg = np.zeros(n_states, dtype=np.int64)
    in_count = np.zeros(n_states + 1, dtype=np.int64)
    for s in range(n_states):
        for row in range(s * n_actions, (s + 1) * n_actions):
            for j in range(indptr[row], indptr[row + 1]):
                t = indices[j]
                if t != s:
                    out_deg[s] += 1
                    in_count[t + 1] += 1
    # predecessor lists (CSR by target), with multiplicity
    for t in range(n_states):
        in_count[t + 1] += in_count[t]
    fill = in_count[:-1].copy()
    preds = np.empty(in_count[n_states], dtype=np.int64)
    for s in range(n_states):
        for row in range(s * n_actions, (s + 1) * n_actions):
            for j in range(indptr[row], indptr[row + 1]):
                t = indices[j]
                if t != s:
                    preds[fill[t]] = s
                    fill[t] += 1
    n = 0
    for s in range(n_states):
        if out_deg[s] == 0:
            order[n] = s
            n += 1
    k = 0
    while k < n:
        t = order[k]
        k += 1
        for i in range(in_count[t], in_count[t + 1]):
            s = preds[i]
            out_deg[s] -= 1
            if out_deg[s] == 0:
                order[n] = s
                n += 1
    return n == n_states


@njit(cache=True)
def _solve_dense(indptr, indices, probs, R, pi, gamma, rho, M, perm, never, v, w):
    """The two solves through one LU factorisation (partial pivoting) of ``M = I - gamma P_pi``,
    O(S^3 / 3): ``M v = r_pi`` and ``M^T w = rho`` (``never`` is a stop flag left at 0)."""
    policy_matrix_dense(indptr, indices, probs, R, pi, M, v)
    discount_system(M, gamma)
    n_states = v.shape[0]
    lu_factor(M, n_states, perm, never)
    lu_solve(M, n_states, perm, v)
    w[:] = rho
    lu_solve_transposed(M, n_states, perm, w)


@njit(cache=True)
def _softmax_row(theta, pi, s):
    n_actions = theta.shape[1]
    top = theta[s, 0]
    for a in range(1, n_actions):
        top = max(top, theta[s, a])  # branch-free
    total = 0.0
    for a in range(n_actions):
        e = math.exp(theta[s, a] - top)
        pi[s, a] = e
        total += e
    inv = 1.0 / total
    for a in range(n_actions):
        pi[s, a] *= inv


@njit(cache=True)
def _record(rho, v, v_star, epsilon, t, checkpoints, nxt, sub_out, last_bad):
    """The suboptimality of iteration t: into ``sub_out`` at its checkpoints; returns the next
    checkpoint index and the last iteration above ``epsilon``."""
    value = 0.0
    for s in range(v.shape[0]):
        value += rho[s] * v[s]
    sub = v_star - value
    if sub > epsilon:
        last_bad = t
    while nxt < checkpoints.shape[0] and checkpoints[nxt] == t:
        sub_out[nxt] = sub
        nxt += 1
    return nxt, last_bad


@njit(cache=True)
def _run_triangular(indptr, indices, probs, R, gamma, eta, rho, theta, order, n_iter,
                    checkpoints, v_star, epsilon, sub_out, pi, v):
    """The loop of :func:`pg_kernel` when ``M`` is triangular along ``order``: two passes over
    the transitions per iteration.

    Pass 1 (successors first): ``v[s] = (r_pi + gamma sum_{s' != s} P_pi v) / (1 - gamma
    P_pi[s, s])`` and ``q[s, :]``. Pass 2 (predecessors first): ``w[s] = (rho[s] + gamma
    sum_{s' != s} w[s'] P_pi[s', s]) / (1 - gamma P_pi[s, s])``, scattered to the successors of s;
    then the step on ``theta[s, :]`` and the new ``pi[s, :]`` (s is not read again this pass).
    """
    n_states, n_actions = R.shape
    q = np.empty((n_states, n_actions))
    w = np.empty(n_states)
    selfp = np.empty(n_states)
    acc_a = np.empty(n_actions)
    self_a = np.empty(n_actions)
    last_bad = -1
    nxt = 0
    for s in range(n_states):
        _softmax_row(theta, pi, s)
    for t in range(n_iter + 1):
        for k in range(n_states):
            s = order[k]
            r = 0.0
            acc = 0.0
            diag = 0.0
            for a in range(n_actions):
                row = s * n_actions + a
                x = 0.0
                y = 0.0
                for j in range(indptr[row], indptr[row + 1]):
                    c = indices[j]
                    if c == s:
                        y += probs[j]
                    else:
                        x += probs[j] * v[c]
                acc_a[a] = x
                self_a[a] = y
                pa = pi[s, a]
                r += pa * R[s, a]
                acc += pa * x
                diag += pa * y
            vs = (r + gamma * acc) / (1.0 - gamma * diag)
            v[s] = vs
            selfp[s] = diag
            for a in range(n_actions):
                q[s, a] = R[s, a] + gamma * (acc_a[a] + self_a[a] * vs)
        nxt, last_bad = _record(rho, v, v_star, epsilon, t, checkpoints, nxt, sub_out, last_bad)
        if t == n_iter:
            break
        for s in range(n_states):
            w[s] = rho[s]
        for k in range(n_states - 1, -1, -1):
            s = order[k]
            ws = w[s] / (1.0 - gamma * selfp[s])
            if ws == 0.0:
                continue
            mean = 0.0
            for a in range(n_actions):
                pa = pi[s, a]
                mean += pa * q[s, a]
                c = gamma * ws * pa
                row = s * n_actions + a
                for j in range(indptr[row], indptr[row + 1]):
                    d = indices[j]
                    if d != s:
                        w[d] += c * probs[j]
            c = eta * ws
            for a in range(n_actions):
                theta[s, a] += c * pi[s, a] * (q[s, a] - mean)
            _softmax_row(theta, pi, s)
    return last_bad


@njit(cache=True)
def _run_dense(indptr, indices, probs, R, gamma, eta, rho, theta, n_iter, checkpoints,
               v_star, epsilon, sub_out, pi, v):
    """The loop of :func:`pg_kernel` with one dense LU of ``M`` per iteration."""
    n_states, n_actions = R.shape
    q = np.empty((n_states, n_actions))
    w = np.empty(n_states)
    M = np.empty((n_states, n_states))
    perm = np.empty(n_states, dtype=np.int64)
    never = np.zeros(1, dtype=np.uint8)
    last_bad = -1
    nxt = 0
    for s in range(n_states):
        _softmax_row(theta, pi, s)
    for t in range(n_iter + 1):
        _solve_dense(indptr, indices, probs, R, pi, gamma, rho, M, perm, never, v, w)
        nxt, last_bad = _record(rho, v, v_star, epsilon, t, checkpoints, nxt, sub_out, last_bad)
        if t == n_iter:
            break
        for s in range(n_states):
            ws = w[s]
            if ws == 0.0:
                continue
            mean = 0.0
            for a in range(n_actions):
                row = s * n_actions + a
                acc = 0.0
                for j in range(indptr[row], indptr[row + 1]):
                    acc += probs[j] * v[indices[j]]
                x = R[s, a] + gamma * acc
                q[s, a] = x
                mean += pi[s, a] * x
            c = eta * ws
            for a in range(n_actions):
                theta[s, a] += c * pi[s, a] * (q[s, a] - mean)
            _softmax_row(theta, pi, s)
    return last_bad


@njit(cache=True)
def pg_kernel(indptr, indices, probs, R, gamma, eta, rho, theta, order, triangular, n_iter,
              checkpoints, v_star, epsilon, sub_out, pi_out, v_out):
    """Exact softmax policy gradient ascent on ``V^pi(rho)``, ``n_iter`` steps from ``theta``.

    Iteration t (t = 0 .. n_iter) evaluates ``pi_t = softmax(theta_t)``: ``v``, ``w`` (see the
    module docstring), ``q = R + gamma P v``, the suboptimality ``v_star - rho . v`` (written to
    ``sub_out[i]`` when ``t == checkpoints[i]``; checkpoints increasing), then (t < n_iter)
    ``theta[s, a] += eta * w[s] * pi[s, a] * (q[s, a] - sum_b pi[s, b] q[s, b])``.

    ``theta`` is updated in place; ``pi_out`` and ``v_out`` receive the last policy and its
    values. Returns the last t whose suboptimality exceeded ``epsilon`` (-1 if none).
    """
    if triangular:
        return _run_triangular(indptr, indices, probs, R, gamma, eta, rho, theta, order, n_iter,
                               checkpoints, v_star, epsilon, sub_out, pi_out, v_out)
    return _run_dense(indptr, indices, probs, R, gamma, eta, rho, theta, n_iter, checkpoints,
                      v_star, epsilon, sub_out, pi_out, v_out)

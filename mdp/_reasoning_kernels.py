"""Kernels of the reasoning testbed (:mod:`mdp.reasoning`): exact passes over the layered
automaton of a task and the samplers of responses, jitted.

Arrays follow :class:`mdp.reasoning.Task`: ``nxt[p, h, z, v]`` (int32) is the state after token
v from state z at step h, ``pi[p, h, z, v]`` a policy, ``accept[p, z]`` the verifier. Every
kernel runs ``prange`` over prompts only and allocates nothing inside its loops over steps,
states and tokens.

Random numbers (tracking/rng.py): response j of prompt p under master word ``key`` reads the
counter-based stream ``stream_key(key, salt, p, j)``, its token at step h the h-th uniform of
that stream. The draws depend on (seed, p, j, h) alone, so two policies sampled under one seed
see the same uniforms (inverse-CDF coupling: common random numbers), a subset of prompts gets
the responses it would get among all of them, and nothing depends on NUMBA_NUM_THREADS. The
Metropolis-Hastings sampler reads a sequential stream per (p, j) instead, its length depending
on the accepted moves.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from tracking.jit import njit
from tracking.rng import counter_uniform, new_state, stream_key, uniform

#: Salt of the response streams of :func:`sample`.
SALT_RESPONSE = np.uint64(0x5EED0020)
#: Salt of the Metropolis-Hastings chains of :func:`mh_power`.
SALT_MH = np.uint64(0x5EED0021)


@njit(cache=True, parallel=True)
def occupancy(nxt, pi, d):
    """d[p, h, z] = Pr_pi(z_h = z) for h = 0 .. H, from d[p, 0, 0] = 1 (``d`` zeroed by the
    caller): d[p, h + 1, nxt[p, h, z, v]] += d[p, h, z] pi[p, h, z, v]."""
    P, H, Z, V = pi.shape
    for p in prange(P):
        d[p, 0, 0] = 1.0
        for h in range(H):
            for z in range(Z):
                w = d[p, h, z]
                if w == 0.0:
                    continue
                for v in range(V):
                    d[p, h + 1, nxt[p, h, z, v]] += w * pi[p, h, z, v]


@njit(cache=True, inline="always")
def soft_backward_prompt(nxt, log_a, log_terminal, log_w, policy):
    """:func:`soft_backward` for one prompt: ``nxt``, ``log_a``, ``policy`` [H, Z, V],
    ``log_terminal`` [Z], ``log_w`` [H + 1, Z] (the arrays of that prompt)."""
    H, Z, V = log_a.shape
    for z in range(Z):
        log_w[H, z] = log_terminal[z]
    for h in range(H - 1, -1, -1):
        for z in range(Z):
            row = policy[h, z]
            m = -np.inf
            for v in range(V):
                x = log_a[h, z, v] + log_w[h + 1, nxt[h, z, v]]
                row[v] = x
                m = x if x > m else m
            if m == -np.inf:
                log_w[h, z] = -np.inf
                for v in range(V):
                    row[v] = 1.0 / V
                continue
            s = 0.0
            for v in range(V):
                s += math.exp(row[v] - m)
            lw = m + math.log(s)
            log_w[h, z] = lw
            for v in range(V):
                row[v] = math.exp(row[v] - lw)


@njit(cache=True, parallel=True)
def soft_backward(nxt, log_a, log_terminal, log_w, policy):
    """Soft backward induction in log space.

    log_w[p, H, z] = log_terminal[p, z]; for h = H - 1 .. 0,
    log_w[p, h, z] = logsumexp_v (log_a[p, h, z, v] + log_w[p, h + 1, nxt[p, h, z, v]]) and
    policy[p, h, z, v] = exp(log_a[p, h, z, v] + log_w[p, h + 1, nxt] - log_w[p, h, z]).
    A state from which every term is -inf gets log_w = -inf and the uniform row.
    """
    for p in prange(log_a.shape[0]):
        soft_backward_prompt(nxt[p], log_a[p], log_terminal[p], log_w[p], policy[p])


@njit(cache=True, inline="always")
def draw(row, u):
    """The token of the probability row ``row`` at the uniform u in (0, 1] (inverse CDF: the
    first v whose cumulative sum reaches u times the row's total; a token of probability 0 is
    never drawn)."""
    V = row.shape[0]
    total = 0.0
    for v in range(V):
        total += row[v]
    target = u * total
    acc = 0.0
    last = 0
    for v in range(V):
        if row[v] > 0.0:
            acc += row[v]
            last = v
            if target <= acc:
                return v
    return last


@njit(cache=True, parallel=True)
def sample(nxt, pi, accept, prompts, key, tokens, states, correct):
    """tokens[i, j, :] ~ pi for prompt prompts[i], response j (uniform h of the stream
    (key, SALT_RESPONSE, p, j) draws step h); states[i, j] its final state, correct[i, j] the
    verifier's verdict."""
    H = pi.shape[1]
    n = tokens.shape[1]
    for i in prange(prompts.shape[0]):
        p = prompts[i]
        for j in range(n):
            k = stream_key(key, SALT_RESPONSE, p, j)
            z = 0
            for h in range(H):
                v = draw(pi[p, h, z], counter_uniform(k, h))
                tokens[i, j, h] = v
                z = nxt[p, h, z, v]
            states[i, j] = z
            correct[i, j] = accept[p, z]


@njit(cache=True, inline="always")
def _extend(nxt, q, log_q, log_t, p, st, start, stop, x, zs, lq, lt):
    """Draw x[start:stop] from the proposal q after the prefix x[:start] (states zs), writing
    zs[start + 1 : stop + 1] and the per-token log proposal lq and log target lt."""
    z = zs[start]
    for h in range(start, stop):
        v = draw(q[p, h, z], uniform(st))
        x[h] = v
        lq[h] = log_q[p, h, z, v]
        lt[h] = log_t[p, h, z, v]
        z = nxt[p, h, z, v]
        zs[h + 1] = z


@njit(cache=True, parallel=True)
def mh_power(nxt, q, log_q, log_t, accept, prompts, key, block, n_mcmc, tokens, states,
             correct, cost, accepted):
    """The Metropolis-Hastings power sampler (Karan and Du 2025, Algorithm 1) on the graph.

    For each (prompt p = prompts[i], chain j), with the sequential stream (key, SALT_MH, p, j):
    for blocks k = 1, 2, ..: extend the response from length t to t' = min(t + block, H) by the
    proposal q, then n_mcmc times: draw idx uniform in 0 .. t' - 1, resample x[idx:t'] from q,
    accept with probability min(1, exp(sum_{h=idx}^{t'-1} lt'_h - lt_h + lq_h - lq'_h)), where
    lt = log of the target's token factors (alpha log pi_ref) and lq = log q. cost[i, j] counts
    the tokens drawn (kept or not), accepted[i, j] the accepted moves.
    """
    H = q.shape[1]
    n = tokens.shape[1]
    for i in prange(prompts.shape[0]):
        p = prompts[i]
        st = new_state(key, SALT_MH)
        x = np.empty(H, dtype=np.int64)
        y = np.empty(H, dtype=np.int64)
        zx = np.zeros(H + 1, dtype=np.int64)
        zy = np.zeros(H + 1, dtype=np.int64)
        lqx = np.empty(H)
        ltx = np.empty(H)
        lqy = np.empty(H)
        lty = np.empty(H)
        for j in range(n):
            st[0] = stream_key(key, SALT_MH, p, j)
            drawn = 0
            moves = 0
            t = 0
            while t < H:
                stop = min(t + block, H)
                _extend(nxt, q, log_q, log_t, p, st, t, stop, x, zx, lqx, ltx)
                drawn += stop - t
                t = stop
                for _ in range(n_mcmc):
                    idx = min(int(uniform(st) * t), t - 1)
                    zy[idx] = zx[idx]
                    _extend(nxt, q, log_q, log_t, p, st, idx, t, y, zy, lqy, lty)
                    drawn += t - idx
                    log_r = 0.0
                    for h in range(idx, t):
                        log_r += lty[h] - ltx[h] + lqx[h] - lqy[h]
                    if log_r >= 0.0 or uniform(st) < math.exp(log_r):
                        moves += 1
                        for h in range(idx, t):
                            x[h] = y[h]
                            zx[h + 1] = zy[h + 1]
                            lqx[h] = lqy[h]
                            ltx[h] = lty[h]
            for h in range(H):
                tokens[i, j, h] = x[h]
            states[i, j] = zx[H]
            correct[i, j] = accept[p, zx[H]]
            cost[i, j] = drawn
            accepted[i, j] = moves

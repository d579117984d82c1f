"""The jitted loop of the reasoning setting: written once against the agents' hooks
(mdp/_reasoning_agents_kernels.py), parallel over runs only.

A run spends ``n_calls`` verifier calls in steps. Step s draws ``batch`` training prompts
uniformly with replacement, prompt b being train[floor(u_b n_train)], u_b the b-th uniform of
the counter-based stream (run word, SALT_PROMPT, s, 0); response g of slot b is response
j = (s B + b) G + g of its prompt p, whose token h reads the h-th uniform of the stream
(run word, SALT_RESPONSE, p, j) of :func:`mdp.reasoning.sample_responses` by inverse CDF.
Two agents with the same batch and group therefore see the same prompts and the same uniforms
(common random numbers), and nothing depends on the number of threads. Each response is one
call; after a full step (B G calls) the agent updates; a last partial step spends its calls
without an update.

The cumulative regret is the pseudo-regret sum over calls of 1 - p_correct(p | pi), pi the
behaviour policy that answers the call (exact, from the occupancy of prompt p). At checkpoint
t (calls) the readouts are exact: ``behaviour`` 1 - mean over training prompts of
p_correct(pi), ``greedy`` the same for greedy decoding (argmax token at each (h, z), ties to the
lowest token); a checkpoint on a step's last call reads the policy after that step's update.
The fixed agents sample nothing: the calls' prompts are drawn the same way (batch = group = 1)
for their pseudo-regret.

numba's cache is keyed by this file: after editing the pieces, ``make clean-cache``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from tracking.jit import njit
from tracking.rng import counter_uniform, stream_key

from ._reasoning_agents_kernels import Buffers, r_init, r_learns, r_prepare, r_row, r_update
from ._reasoning_kernels import SALT_RESPONSE, draw

#: Salt of the prompt draws of each step.
SALT_PROMPT = np.uint64(0x5EED0022)
#: The k of the recorded pass@k: 1, 2, 4, ..., 1024.
PASS_KS = np.array([2**i for i in range(11)], dtype=np.int64)
#: Probability threshold of a covered solution (mdp.reasoning.DEFAULT_TAU).
COVER_TAU = 1e-6
#: Columns of ``stats``: KL to pi_ref, entropy, coverage share (mean over training prompts).
STAT_KL, STAT_ENTROPY, STAT_COVERAGE = 0, 1, 2


@njit(cache=True)
def prompt_pass(params, state, ctx, p, d, row, want):
    """Exact p_correct of prompt p under the behaviour policy (occupancy d[H + 1, Z]); with
    ``want``, also (KL(pi || pi_ref), entropy) of its responses, else zeros."""
    H = ctx.nxt.shape[1]
    Z = ctx.nxt.shape[2]
    V = ctx.nxt.shape[3]
    r_prepare(params, state, ctx, p)
    d[:, :] = 0.0
    d[0, 0] = 1.0
    kl = 0.0
    ent = 0.0
    for h in range(H):
        for z in range(Z):
            w = d[h, z]
            if w == 0.0:
                continue
            r_row(params, state, ctx, p, h, z, row)
            for v in range(V):
                pv = row[v]
                d[h + 1, ctx.nxt[p, h, z, v]] += w * pv
                if want and pv > 0.0:
                    lp = math.log(pv)
                    kl += w * pv * (lp - ctx.log_ref[p, h, z, v])
                    ent -= w * pv * lp
    pc = 0.0
    for z in range(Z):
        if ctx.accept[p, z]:
            pc += d[H, z]
    return pc, kl, ent


@njit(cache=True)
def greedy_pass(params, state, ctx, p, row):
    """1.0 when greedy decoding (first argmax at each step) of prompt p is correct, else 0."""
    H = ctx.nxt.shape[1]
    r_prepare(params, state, ctx, p)
    z = 0
    for h in range(H):
        r_row(params, state, ctx, p, h, z, row)
        best = 0
        for v in range(1, row.shape[0]):
            if row[v] > row[best]:
                best = v
        z = ctx.nxt[p, h, z, best]
    return 1.0 if ctx.accept[p, z] else 0.0


@njit(cache=True)
def _readouts(params, state, ctx, d, row):
    """(greedy, behaviour) simple regret over the training prompts."""
    n = ctx.train.shape[0]
    g = 0.0
    b = 0.0
    for i in range(n):
        p = ctx.train[i]
        b += prompt_pass(params, state, ctx, p, d, row, False)[0]
        g += greedy_pass(params, state, ctx, p, row)
    return 1.0 - g / n, 1.0 - b / n


@njit(cache=True)
def _covered(params, state, ctx, p, row):
    """Share of prompt p's listed solutions y with pi(y) >= COVER_TAU (-1: none listed)."""
    m = ctx.solutions.shape[1]
    H = ctx.nxt.shape[1]
    r_prepare(params, state, ctx, p)
    listed = 0
    hit = 0
    for i in range(m):
        if ctx.solutions[p, i, 0] < 0:
            continue
        listed += 1
        z = 0
        lp = 0.0
        for h in range(H):
            y = ctx.solutions[p, i, h]
            r_row(params, state, ctx, p, h, z, row)
            lp += math.log(row[y]) if row[y] > 0.0 else -np.inf
            z = ctx.nxt[p, h, z, y]
        if lp >= math.log(COVER_TAU):
            hit += 1
    return hit / listed if listed > 0 else -1.0


@njit(cache=True)
def _mean_pass_at_k(params, state, ctx, prompts, d, row, out):
    """out[i] = mean over ``prompts`` of 1 - (1 - p_correct)^k_i, as -expm1(k log1p(-p))."""
    for i in range(out.shape[0]):
        out[i] = 0.0
    n = prompts.shape[0]
    for j in range(n):
        pc = prompt_pass(params, state, ctx, prompts[j], d, row, False)[0]
        lm = math.log1p(-pc) if pc < 1.0 else -np.inf
        for i in range(out.shape[0]):
            out[i] += -math.expm1(PASS_KS[i] * lm)
    for i in range(out.shape[0]):
        out[i] = out[i] / n + 0.0 if n > 0 else 0.0


@njit(cache=True)
def _final(params, state, ctx, d, row, pass_train, pass_held, stats):
    """pass@k on the training and held-out prompts, KL, entropy and coverage (training)."""
    _mean_pass_at_k(params, state, ctx, ctx.train, d, row, pass_train)
    _mean_pass_at_k(params, state, ctx, ctx.held, d, row, pass_held)
    n = ctx.train.shape[0]
    kl = 0.0
    ent = 0.0
    cov = 0.0
    n_cov = 0
    for i in range(n):
        p = ctx.train[i]
        _, k, e = prompt_pass(params, state, ctx, p, d, row, True)
        kl += k
        ent += e
        if ctx.solutions.shape[1] > 0:
            c = _covered(params, state, ctx, p, row)
            if c >= 0.0:
                cov += c
                n_cov += 1
    stats[STAT_KL] = kl / n
    stats[STAT_ENTROPY] = ent / n
    stats[STAT_COVERAGE] = cov / n_cov if n_cov > 0 else 0.0


@njit(cache=True)
def _sample(params, state, ctx, buf, b, g, p, key, j):
    """Response j of prompt p from the behaviour policy into slot (b, g) of ``buf``."""
    H = ctx.nxt.shape[1]
    r_prepare(params, state, ctx, p)
    k = stream_key(key, SALT_RESPONSE, p, j)
    z = 0
    for h in range(H):
        row = buf.rows[b, g, h]
        r_row(params, state, ctx, p, h, z, row)
        v = draw(row, counter_uniform(k, h))
        buf.tokens[b, g, h] = v
        buf.states[b, g, h] = z
        z = ctx.nxt[p, h, z, v]
    buf.states[b, g, H] = z
    buf.verdicts[b, g] = ctx.accept[p, z]


@njit(cache=True)
def new_buffers(B, G, H, V):
    return Buffers(np.zeros(B, dtype=np.int64), np.zeros((B, G, H), dtype=np.int64),
                   np.zeros((B, G, H + 1), dtype=np.int64), np.zeros((B, G), dtype=np.bool_),
                   np.zeros((B, G, H, V)), np.zeros((B, G, H, V)), np.zeros((B, G, H)))


@njit(cache=True, nogil=True)
def one_run(params, ctx, key, n_calls, checkpoints, regret, greedy, behaviour, pass_train,
            pass_held, stats, counts, stop):
    """One run of one agent; writes the curves at the checkpoints and the final numbers
    (``counts`` = [tokens sampled, calls learned from]). Returns (completed, state, buffers):
    the agent's state and the last step's group."""
    H = ctx.nxt.shape[1]
    Z = ctx.nxt.shape[2]
    V = ctx.nxt.shape[3]
    learns = r_learns(params)
    B = params.batch
    G = params.group
    # every array allocated here is counted by mdp.reasoning_run.ReasoningJob.run_state_bytes
    state = r_init(params, ctx, key)
    buf = new_buffers(B, G, H, V)
    d = np.zeros((H + 1, Z))
    row = np.empty(V)
    n_train = ctx.train.shape[0]
    C = checkpoints.shape[0]
    cum = 0.0
    calls = 0
    step = 0
    c = 0
    tokens = 0
    while calls < n_calls:
        if stop[0] != 0:
            return False, state, buf
        kp = stream_key(key, SALT_PROMPT, step, 0)
        for b in range(B):
            i = int(counter_uniform(kp, b) * n_train)
            buf.prompts[b] = ctx.train[min(i, n_train - 1)]
        full = calls + B * G <= n_calls
        pending = -1
        for b in range(B):
            p = buf.prompts[b]
            pc = prompt_pass(params, state, ctx, p, d, row, False)[0]
            for g in range(G):
                if calls == n_calls:
                    break
                if learns:
                    _sample(params, state, ctx, buf, b, g, p, key, (step * B + b) * G + g)
                    tokens += H
                calls += 1
                cum += 1.0 - pc
                if c < C and calls == checkpoints[c]:
                    regret[c] = cum
                    if learns and full and b == B - 1 and g == G - 1:
                        pending = c
                    else:
                        greedy[c], behaviour[c] = _readouts(params, state, ctx, d, row)
                    c += 1
        if learns and full:
            r_update(params, state, ctx, buf)
        if pending >= 0:
            greedy[pending], behaviour[pending] = _readouts(params, state, ctx, d, row)
        step += 1
    _final(params, state, ctx, d, row, pass_train, pass_held, stats)
    counts[0] = tokens
    counts[1] = n_calls if learns else 0
    return True, state, buf


@njit(cache=True, parallel=True, nogil=True)
def simulate(params, ctx, seeds, n_calls, checkpoints, regret, greedy, behaviour, pass_train,
             pass_held, stats, counts, stop):
    """Run the agent of record ``params`` on ``len(seeds)`` runs in parallel.

    Parameters
    ----------
    params : NamedTuple
        The agent's parameter record (mdp.reasoning_agents).
    ctx : Context
        The task (mdp._reasoning_agents_kernels.Context).
    seeds : uint64[R]
        Run words (tracking.rng.run_seeds).
    n_calls : int
        Verifier calls per run.
    checkpoints : int64[C]
        Increasing calls in 1 .. n_calls, the last equal to n_calls.
    regret, greedy, behaviour : float64[R, C]
        Out: cumulative pseudo-regret and both readouts of simple regret.
    pass_train, pass_held : float64[R, 11]
        Out: pass@k (k = 1, 2, 4, ..., 1024) on the training and held-out prompts at the end.
    stats : float64[R, 3]
        Out: KL to pi_ref, entropy, coverage share (training prompts) at the end.
    counts : int64[R, 2]
        Out: tokens sampled and verifier calls learned from.
    stop : uint8[1]
        Set to 1 by another thread to stop every run within a step.

    Returns
    -------
    uint8[R]
        1 for a run that completed, 0 for one cut short by ``stop``.
    """
    done = np.zeros(seeds.shape[0], dtype=np.uint8)
    for r in prange(seeds.shape[0]):
        ok, _, _ = one_run(params, ctx, seeds[r], n_calls, checkpoints, regret[r], greedy[r],
                        behaviour[r], pass_train[r], pass_held[r], stats[r], counts[r], stop)
        done[r] = 1 if ok else 0
    return done

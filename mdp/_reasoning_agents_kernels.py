"""Kernel pieces of the reasoning agents (mdp/reasoning_agents.py) and the hooks of their loop.

The loop (mdp/_reasoning_loop.py) is written once against five hooks, resolved at compile time
from the type of the agent's parameter record (:mod:`tracking.dispatch`):

- ``r_init(params, ctx, key)``: the run's state (a NamedTuple of arrays) for the task ``ctx``
  and the run word ``key``;
- ``r_learns(params)``: whether the agent samples responses and spends verifier calls;
- ``r_prepare(params, state, ctx, p)``: called before the rows of prompt p are read (nothing
  for most agents; ce-linear plans the prompt there when its model changed since);
- ``r_row(params, state, ctx, p, h, z, out)``: writes the behaviour policy's row
  pi(. | p, h, z) into ``out``;
- ``r_update(params, state, ctx, buf)``: learns from the step's group (``buf``: prompts,
  tokens, states, verdicts and the rows that sampled them).

Gradient agents keep the logits theta[p, h, z, v] (``tabular``, initialised at the reference
logits) or the weights w[h, v, k] of logits ref_logits[p, h, z, v] + sum_k w[h, v, k] f_p[k]
(``shared``, initialised at 0), and compute a row's softmax when it is read. An update runs in
two passes: the coefficient of every sampled token from the policy before the update, then
theta[p, h, z_h, :] += coef (onehot(y_h) - pi(. | p, h, z_h)) (or w[h, :, k] += ... f_p[k]),
so it touches only the visited rows. The certainty-equivalence agents keep the table of
verdicts per (p, z_H) and their plan pi[p, h, z, v], re-planned by soft backward induction for
the prompts of each batch; ce-linear keeps the Gram matrix of its verifier model, solves it
after each batch and plans a prompt when its rows are next read (every prompt's plan depends on
the shared model: planning all of them at every step would cost O(P) per step). The fixed
agents read their table.

numba's cache is keyed by the loop's file: after editing these pieces, ``make clean-cache``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from tracking.dispatch import hook, register
from tracking.jit import njit
from tracking.rng import counter_normal, stream_key

from ._reasoning_kernels import soft_backward_prompt
from .reasoning_agents import (
    CELinearParams,
    CEParams,
    FixedParams,
    GRPOParams,
    RLOOParams,
    RSFTParams,
)

__all__ = ["Buffers", "Context", "r_init", "r_learns", "r_prepare", "r_row", "r_update"]

#: GRPO's constant in the advantages' denominator (Shao et al. 2024).
GRPO_EPS = 1e-8
#: Salt of ce-linear's posterior draws.
SALT_POSTERIOR = np.uint64(0x5EED0023)


class Context(NamedTuple):
    """The task as the kernels read it (mdp.reasoning_run.ReasoningJob builds it)."""

    nxt: np.ndarray         # int32[P, H, Z, V]
    accept: np.ndarray      # bool[P, Z]
    ref_logits: np.ndarray  # float64[P, H, Z, V]
    log_ref: np.ndarray     # float64[P, H, Z, V], log softmax(ref_logits)
    ref: np.ndarray         # float64[P, H, Z, V], softmax(ref_logits)
    features: np.ndarray    # float64[P, q] (q = 0 without features)
    fixed: np.ndarray       # float64[P, H, Z, V]: a fixed agent's policy (else [1, 1, 1, 1])
    train: np.ndarray       # int64[n_train]: the training prompts
    held: np.ndarray        # int64[n_held]: the held-out prompts
    solutions: np.ndarray   # int64[P, m, H]: the listed solutions (-1 padding; m may be 0)


class Buffers(NamedTuple):
    """One step's group: prompts[b], tokens[b, g, h], states[b, g, h] (z_h, h = 0 .. H),
    verdicts[b, g], the sampling rows[b, g, h, :], the current rows cur[b, g, h, :] and the
    coefficients coef[b, g, h] of an update."""

    prompts: np.ndarray
    tokens: np.ndarray
    states: np.ndarray
    verdicts: np.ndarray
    rows: np.ndarray
    cur: np.ndarray
    coef: np.ndarray


r_init = hook("r_init", ("params", "ctx", "key"))
r_learns = hook("r_learns", ("params",))
r_prepare = hook("r_prepare", ("params", "state", "ctx", "p"))
#: The pieces called for every row a run reads: inlined into the hook's call, compiled without
#: numba's reference counting (tracking.dispatch), so passing the state and the task's arrays
#: costs no atomic update; they cannot allocate.
hot = njit(inline="always", _nrt=False)

r_row = hook("r_row", ("params", "state", "ctx", "p", "h", "z", "out"),
             jit_options={"_nrt": False})
r_update = hook("r_update", ("params", "state", "ctx", "buf"))

HOOKS = {"init": r_init, "learns": r_learns, "prepare": r_prepare, "row": r_row,
         "update": r_update}


def _register(cls: type, **pieces) -> None:
    for name, impl in pieces.items():
        register(HOOKS[name], cls, impl)


@njit(cache=True)
def _yes(params):
    return True


@njit(cache=True)
def _no(params):
    return False


@njit(cache=True)
def _nothing(params, state, ctx, buf):
    return None


@njit(cache=True, inline="always")
def _ready(params, state, ctx, p):
    return None


@njit(cache=True, inline="always", _nrt=False)
def softmax_inplace(out):
    """out <- softmax(out): m = max, e_v = exp(out_v - m), out_v = e_v / sum e (in order)."""
    m = out[0]
    for v in range(1, out.shape[0]):
        if out[v] > m:
            m = out[v]
    s = 0.0
    for v in range(out.shape[0]):
        e = math.exp(out[v] - m)
        out[v] = e
        s += e
    for v in range(out.shape[0]):
        out[v] /= s


# --- fixed policies --------------------------------------------------------------------------


class FixedState(NamedTuple):
    pi: np.ndarray


@njit(cache=True)
def _fixed_init(params, ctx, key):
    return FixedState(ctx.fixed)


@hot
def _table_row(params, state, ctx, p, h, z, out):
    for v in range(out.shape[0]):
        out[v] = state.pi[p, h, z, v]


_register(FixedParams, init=_fixed_init, learns=_no, prepare=_ready, row=_table_row,
          update=_nothing)


# --- softmax policies: tabular logits or shared feature weights ------------------------------


class GradState(NamedTuple):
    """theta[P, H, Z, V] (tabular; [0, 0, 0, 0] when shared), w[H, V, q] (shared; [0, 0, 0]
    when tabular) and the advantages adv[B, G]."""

    theta: np.ndarray
    w: np.ndarray
    adv: np.ndarray


@njit(cache=True)
def _grad_init(params, ctx, key):
    P, H, Z, V = ctx.ref_logits.shape
    q = ctx.features.shape[1]
    if params.shared:
        theta = np.zeros((0, 0, 0, 0))
        w = np.zeros((H, V, q))
    else:
        theta = ctx.ref_logits.copy()
        w = np.zeros((0, 0, 0))
    return GradState(theta, w, np.zeros((params.batch, params.group)))


@hot
def _softmax_row(params, state, ctx, p, h, z, out):
    """softmax(theta[p, h, z]) or softmax(ref_logits[p, h, z, v] + sum_k w[h, v, k] f_p[k]):
    the logits are written into ``out``, then turned into probabilities in place."""
    if params.shared:
        for v in range(out.shape[0]):
            acc = 0.0
            for k in range(state.w.shape[2]):
                acc += state.w[h, v, k] * ctx.features[p, k]
            out[v] = ctx.ref_logits[p, h, z, v] + acc
    else:
        for v in range(out.shape[0]):
            out[v] = state.theta[p, h, z, v]
    softmax_inplace(out)


@njit(cache=True)
def current_rows(params, state, ctx, buf):
    """cur[b, g, h] = the policy's row at (p_b, h, z_h) before the update's pass."""
    B, G, H = buf.tokens.shape
    for b in range(B):
        p = buf.prompts[b]
        r_prepare(params, state, ctx, p)
        for g in range(G):
            for h in range(H):
                r_row(params, state, ctx, p, h, buf.states[b, g, h], buf.cur[b, g, h])


@njit(cache=True)
def apply_step(params, state, ctx, buf):
    """theta[p, h, z_h, v] += coef (1[v = y_h] - cur_v) for every sampled token (b, g, h) in
    order, or w[h, v, k] += coef (1[v = y_h] - cur_v) f_p[k]; coefficients 0 are skipped."""
    B, G, H = buf.tokens.shape
    V = buf.cur.shape[3]
    for b in range(B):
        p = buf.prompts[b]
        for g in range(G):
            for h in range(H):
                c = buf.coef[b, g, h]
                if c == 0.0:
                    continue
                z = buf.states[b, g, h]
                y = buf.tokens[b, g, h]
                for v in range(V):
                    gv = c * ((1.0 if v == y else 0.0) - buf.cur[b, g, h, v])
                    if params.shared:
                        for k in range(state.w.shape[2]):
                            state.w[h, v, k] += gv * ctx.features[p, k]
                    else:
                        state.theta[p, h, z, v] += gv


@njit(cache=True)
def grpo_advantages(buf, adv):
    """adv[b, g] = (r_g - mean r) / (std r + 1e-8) per group (std with ddof 0)."""
    B, G = buf.verdicts.shape
    for b in range(B):
        m = 0.0
        for g in range(G):
            m += 1.0 if buf.verdicts[b, g] else 0.0
        m /= G
        var = 0.0
        for g in range(G):
            d = (1.0 if buf.verdicts[b, g] else 0.0) - m
            var += d * d
        sd = math.sqrt(var / G)
        for g in range(G):
            adv[b, g] = ((1.0 if buf.verdicts[b, g] else 0.0) - m) / (sd + GRPO_EPS)


@njit(cache=True)
def _grpo_update(params, state, ctx, buf):
    """``epochs`` ascent steps: coef = alpha / (B G H) [rho A 1(unclipped) + beta (pi_ref / pi
    - 1)] at the sampled token, rho = pi / pi_old, pi the policy before the step."""
    B, G, H = buf.tokens.shape
    grpo_advantages(buf, state.adv)
    scale = params.alpha / (B * G * H)
    lo, hi = 1.0 - params.clip, 1.0 + params.clip
    for _ in range(params.epochs):
        current_rows(params, state, ctx, buf)
        for b in range(B):
            p = buf.prompts[b]
            for g in range(G):
                a = state.adv[b, g]
                for h in range(H):
                    y = buf.tokens[b, g, h]
                    pi = buf.cur[b, g, h, y]
                    rho = pi / buf.rows[b, g, h, y]
                    clipped = min(max(rho, lo), hi)
                    s = rho * a if rho * a <= clipped * a else 0.0
                    k = 0.0
                    if params.beta > 0.0:
                        k = params.beta * (ctx.ref[p, h, buf.states[b, g, h], y] / pi - 1.0)
                    buf.coef[b, g, h] = scale * (s + k)
        apply_step(params, state, ctx, buf)


@njit(cache=True)
def _rloo_update(params, state, ctx, buf):
    """r'_g = r_g - beta sum_h log(pi_old / pi_ref)(y_h) (beta > 0), A_g = r'_g - mean of the
    others' r', then one step: coef = alpha A_g / (B G) at every token of response g."""
    B, G, H = buf.tokens.shape
    adv = state.adv
    for b in range(B):
        p = buf.prompts[b]
        total = 0.0
        for g in range(G):
            r = 1.0 if buf.verdicts[b, g] else 0.0
            if params.beta > 0.0:
                lr = 0.0
                for h in range(H):
                    y = buf.tokens[b, g, h]
                    lr += math.log(buf.rows[b, g, h, y]) - ctx.log_ref[p, h, buf.states[b, g, h], y]
                r -= params.beta * lr
            adv[b, g] = r
            total += r
        for g in range(G):
            adv[b, g] = adv[b, g] - (total - adv[b, g]) / (G - 1)
    scale = params.alpha / (B * G)
    for b in range(B):
        for g in range(G):
            for h in range(H):
                buf.coef[b, g, h] = scale * adv[b, g]
    current_rows(params, state, ctx, buf)
    apply_step(params, state, ctx, buf)


@njit(cache=True)
def _rsft_update(params, state, ctx, buf):
    """With K > 0 correct responses in the batch, ``steps`` steps of coef = alpha / K at every
    token of each correct response (0 for the others); nothing when K = 0."""
    B, G, H = buf.tokens.shape
    kept = 0
    for b in range(B):
        for g in range(G):
            if buf.verdicts[b, g]:
                kept += 1
    if kept == 0:
        return
    scale = params.alpha / kept
    for b in range(B):
        for g in range(G):
            for h in range(H):
                buf.coef[b, g, h] = scale if buf.verdicts[b, g] else 0.0
    for _ in range(params.steps):
        current_rows(params, state, ctx, buf)
        apply_step(params, state, ctx, buf)


for _cls, _update in ((GRPOParams, _grpo_update), (RLOOParams, _rloo_update),
                      (RSFTParams, _rsft_update)):
    _register(_cls, init=_grad_init, learns=_yes, prepare=_ready, row=_softmax_row,
              update=_update)


# --- certainty equivalence -------------------------------------------------------------------


class CEState(NamedTuple):
    """The plan pi[P, H, Z, V], the counts n[P, Z] and successes s[P, Z] of final states, and
    the scratch log_w[H + 1, Z] and term[Z] of a re-plan."""

    plan: np.ndarray
    n: np.ndarray
    s: np.ndarray
    log_w: np.ndarray
    term: np.ndarray


@njit(cache=True)
def fitted_reward(params, n, s, r0):
    """r_hat = s / n (r0 when n = 0); plus c sqrt(1 / max(1, n)), capped at 1, when c > 0."""
    r = s / n if n > 0 else r0
    if params.c > 0.0:
        r = min(1.0, r + params.c * math.sqrt(1.0 / max(1, n)))
    return r


@njit(cache=True)
def replan(params, state, ctx, p):
    """plan[p] = the KL-regularised optimum for the fitted rewards of prompt p: soft backward
    induction with a = pi_ref and log W_H(z) = r_hat(p, z) / beta."""
    for z in range(state.term.shape[0]):
        state.term[z] = fitted_reward(params, state.n[p, z], state.s[p, z], params.r0) \
            / params.beta
    soft_backward_prompt(ctx.nxt[p], ctx.log_ref[p], state.term, state.log_w, state.plan[p])


@njit(cache=True)
def _ce_init(params, ctx, key):
    """Counts 0 and every prompt planned for the prior table (r0 everywhere)."""
    P, H, Z, V = ctx.ref_logits.shape
    state = CEState(np.empty((P, H, Z, V)), np.zeros((P, Z), dtype=np.int64), np.zeros((P, Z)),
                    np.empty((H + 1, Z)), np.empty(Z))
    for p in range(P):
        replan(params, state, ctx, p)
    return state


@njit(cache=True)
def _ce_update(params, state, ctx, buf):
    """n[p, z_H] += 1, s[p, z_H] += verdict for every response, then re-plan the batch's
    prompts."""
    B, G, H = buf.tokens.shape
    for b in range(B):
        p = buf.prompts[b]
        for g in range(G):
            z = buf.states[b, g, H]
            state.n[p, z] += 1
            if buf.verdicts[b, g]:
                state.s[p, z] += 1.0
    for b in range(B):
        replan(params, state, ctx, buf.prompts[b])


@hot
def _plan_row(params, state, ctx, p, h, z, out):
    for v in range(out.shape[0]):
        out[v] = state.plan[p, h, z, v]


_register(CEParams, init=_ce_init, learns=_yes, prepare=_ready, row=_plan_row,
          update=_ce_update)


# --- certainty equivalence with a linear verifier model -------------------------------------


class LinearState(NamedTuple):
    """ce-linear: the plan pi[P, H, Z, V], the model inputs x[P, k] of the prompts, the Gram
    matrix gram[D, D] = lam I + sum Phi Phi^T, its Cholesky factor chol[D, D], b[D] =
    sum r Phi, theta_hat[D], the planned theta[D] and a draw's scratch xi[D], the re-plan's
    scratch log_a[H, Z, V], log_w[H + 1, Z] and term[Z], the run word key[1], the number of
    model solves made version[1], and the version each prompt's plan was made for stamp[P]
    (-1: none yet)."""

    plan: np.ndarray
    x: np.ndarray
    gram: np.ndarray
    chol: np.ndarray
    b: np.ndarray
    theta_hat: np.ndarray
    theta: np.ndarray
    xi: np.ndarray
    log_a: np.ndarray
    log_w: np.ndarray
    term: np.ndarray
    key: np.ndarray
    version: np.ndarray
    stamp: np.ndarray


@njit(cache=True)
def cholesky(a, c):
    """c <- the lower Cholesky factor L of the symmetric positive definite a (a = L L^T), by
    the Cholesky-Banachiewicz order (row i, then column j <= i, sums over k in order)."""
    d = a.shape[0]
    for i in range(d):
        for j in range(i + 1):
            acc = a[i, j]
            for k in range(j):
                acc -= c[i, k] * c[j, k]
            if i == j:
                c[i, i] = math.sqrt(acc)
            else:
                c[i, j] = acc / c[j, j]
        for j in range(i + 1, d):
            c[i, j] = 0.0


@njit(cache=True)
def linear_solve(params, state):
    """Factor the Gram matrix, theta_hat = G^{-1} b by two triangular solves; theta =
    theta_hat, or theta_hat + v L^{-T} xi with xi_i the i-th normal of the stream (run word,
    SALT_POSTERIOR, c, 0), c the solves made before (0 at the start); then a new version, so
    that every prompt is re-planned before its rows are next read."""
    L, th, D = state.chol, state.theta_hat, state.b.shape[0]
    cholesky(state.gram, L)
    for i in range(D):  # L y = b
        acc = state.b[i]
        for j in range(i):
            acc -= L[i, j] * th[j]
        th[i] = acc / L[i, i]
    for i in range(D - 1, -1, -1):  # L^T theta_hat = y
        acc = th[i]
        for j in range(i + 1, D):
            acc -= L[j, i] * th[j]
        th[i] = acc / L[i, i]
    if params.v > 0.0:
        key = stream_key(state.key[0], SALT_POSTERIOR, state.version[0], 0)
        xi = state.xi
        for i in range(D):
            xi[i] = counter_normal(key, i)
        for i in range(D - 1, -1, -1):  # L^T u = xi, u in place of xi
            acc = xi[i]
            for j in range(i + 1, D):
                acc -= L[j, i] * xi[j]
            xi[i] = acc / L[i, i]
        for i in range(D):
            state.theta[i] = th[i] + params.v * xi[i]
    else:
        for i in range(D):
            state.theta[i] = th[i]
    state.version[0] += 1


@njit(cache=True)
def linear_plan_prompt(params, state, ctx, p):
    """Prompt p's plan for the current theta: soft backward induction with log a =
    log pi_ref + g / beta, g(p, h, v) = sum_j theta[(h V + v) k + j] x_p[j], and log W_H = 0."""
    _, H, Z, V = ctx.ref_logits.shape
    k = state.x.shape[1]
    for z in range(Z):
        state.term[z] = 0.0
    for h in range(H):
        for v in range(V):
            g = 0.0
            base = (h * V + v) * k
            for j in range(k):
                g += state.theta[base + j] * state.x[p, j]
            g /= params.beta
            for z in range(Z):
                state.log_a[h, z, v] = ctx.log_ref[p, h, z, v] + g
    soft_backward_prompt(ctx.nxt[p], state.log_a, state.term, state.log_w, state.plan[p])
    state.stamp[p] = state.version[0]


@njit(cache=True)
def _linear_prepare(params, state, ctx, p):
    """Plan prompt p if its plan is older than the model."""
    if state.stamp[p] != state.version[0]:
        linear_plan_prompt(params, state, ctx, p)


@njit(cache=True)
def _linear_init(params, ctx, key):
    """x_p = (1, f_p) (prompt features) or (1), G = lam I, b = 0, and the first solve."""
    P, H, Z, V = ctx.ref_logits.shape
    q = ctx.features.shape[1] if params.prompt else 0
    k = 1 + q
    D = H * V * k
    x = np.ones((P, k))
    for p in range(P):
        for j in range(q):
            x[p, 1 + j] = ctx.features[p, j]
    gram = np.zeros((D, D))
    for i in range(D):
        gram[i, i] = params.lam
    words = np.empty(1, dtype=np.uint64)
    words[0] = key
    state = LinearState(np.empty((P, H, Z, V)), x, gram, np.zeros((D, D)), np.zeros(D),
                        np.zeros(D), np.zeros(D), np.zeros(D), np.empty((H, Z, V)),
                        np.empty((H + 1, Z)), np.empty(Z), words, np.zeros(1, dtype=np.int64),
                        np.full(P, -1, dtype=np.int64))
    linear_solve(params, state)
    return state


@njit(cache=True)
def _linear_update(params, state, ctx, buf):
    """G += Phi Phi^T and b += r Phi for every response of the step (in order b, g), Phi the
    H k entries (h V + y_h) k + j = x_p[j]; then the solve (the prompts are re-planned when
    next read)."""
    B, G, H = buf.tokens.shape
    V = ctx.ref_logits.shape[3]
    k = state.x.shape[1]
    for b in range(B):
        p = buf.prompts[b]
        for g in range(G):
            r = 1.0 if buf.verdicts[b, g] else 0.0
            for h in range(H):
                i0 = (h * V + buf.tokens[b, g, h]) * k
                for i in range(k):
                    xi = state.x[p, i]
                    state.b[i0 + i] += r * xi
                    for h2 in range(H):
                        j0 = (h2 * V + buf.tokens[b, g, h2]) * k
                        for j in range(k):
                            state.gram[i0 + i, j0 + j] += xi * state.x[p, j]
    linear_solve(params, state)


_register(CELinearParams, init=_linear_init, learns=_yes, prepare=_linear_prepare,
          row=_plan_row, update=_linear_update)

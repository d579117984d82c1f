"""Kernel pieces of the linear-bandit agents, and the hooks of the linear loop.

The linear loop (bandits/_linear_kernels.py) is written once against five hooks resolved, as
the bandit loop's are (``hooks``), from the type of the agent's parameter record:

- ``lin_init(params, x)``: the run's state (a NamedTuple of arrays) for the features ``x``
  (K, d);
- ``lin_select(params, state, x, counts, t, st)``: the arm of round t (``counts`` the pulls
  before it, ``st`` the agent's stream);
- ``lin_update(params, state, x, counts, a, r, t)``: learn from reward ``r`` of arm ``a``
  (``counts`` includes this pull);
- ``lin_greedy(params, state, x, counts, t, mu, best, st)`` and ``lin_behaviour``: the simple
  regret mu* - (mean of the greedy / behaviour policy) after round t, ``st`` the readouts'
  stream of (run, t).

The certainty-equivalence agents keep V^{-1} by Sherman-Morrison rank-1 updates (O(d^2) per
pull) and theta_hat = V^{-1} b; OFUL keeps ||x_k||^2_{V^{-1}} of every arm by the same rank-1
update (O(K d) per pull); linear Thompson sampling also keeps the Cholesky factor of V, updated
by rank one (O(d^2)), to draw N(theta_hat, v^2 V^{-1}) by one triangular solve. The softmax
agents compute their logits h = X w and move w by X^T times the step of the tabular agents of
the same name (``softmax``, ``policy_gradient``): the gradient of a function of the logits with
respect to w is X^T times its gradient with respect to the logits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from tracking.dispatch import hook, register
from tracking.jit import njit
from tracking.rng import normal, randint, uniform

from ..linear_agents import (
    LinGreedyParams,
    LinGRPOParams,
    LinReinforceParams,
    LinRLOOParams,
    LinTSParams,
    OFULParams,
)
from .common import WORD, greedy_gap, hot, mean_gap, sample, seen_reward, softmax, softmax_gap
from .policy_gradient import (
    _ascend,
    _kl_descent,
    _record,
    _surrogate,
    _zero,
    grpo_advantages,
    rloo_weights,
)
from .softmax import entropy_ascent, reinforce_coefficient

__all__ = ["LIN_HOOKS", "footprint", "lin_behaviour", "lin_greedy", "lin_init", "lin_select",
           "lin_update"]

_HOT = {"_nrt": False}
_READOUT = ("params", "state", "x", "counts", "t", "mu", "best", "st")
lin_init = hook("lin_init", ("params", "x"))
lin_select = hook("lin_select", ("params", "state", "x", "counts", "t", "st"), jit_options=_HOT)
lin_update = hook("lin_update", ("params", "state", "x", "counts", "a", "r", "t"),
                  jit_options=_HOT)
lin_greedy = hook("lin_greedy", _READOUT, jit_options=_HOT)
lin_behaviour = hook("lin_behaviour", _READOUT, jit_options=_HOT)

LIN_HOOKS = {"lin_init": lin_init, "lin_select": lin_select, "lin_update": lin_update,
             "lin_greedy": lin_greedy, "lin_behaviour": lin_behaviour}

#: Parameter-record class -> ``f(params, k_arms, dim) -> bytes of one run's state``.
FOOTPRINTS: dict[type, Callable[[tuple, int, int], int]] = {}


def _register(cls: type, footprint: Callable[[tuple, int, int], int], **pieces: Callable
              ) -> None:
    for name, impl in pieces.items():
        register(LIN_HOOKS[f"lin_{name}"], cls, impl)
    FOOTPRINTS[cls] = footprint


def footprint(params: tuple, k_arms: int, dim: int) -> int:
    """Bytes of one run's state of the agent with record ``params`` (K arms in R^dim)."""
    return FOOTPRINTS[type(params)](params, k_arms, dim)


# --- shared linear algebra ------------------------------------------------------------------


@njit(cache=True, inline="always")
def first_argmax(values):
    """The index of the largest value, ties to the lowest index."""
    idx = 0
    for k in range(1, values.shape[0]):
        if values[k] > values[idx]:
            idx = k
    return idx


@njit(cache=True, inline="always")
def scores(x, theta, out):
    """out_k = <x_k, theta>, summed over the coordinates in order."""
    for k in range(x.shape[0]):
        acc = 0.0
        for j in range(x.shape[1]):
            acc += x[k, j] * theta[j]
        out[k] = acc


@njit(cache=True, inline="always")
def add_features(w, x, g):
    """w <- w + X^T g: w_j += sum_k g_k x_kj, the arms in order."""
    for k in range(x.shape[0]):
        gk = g[k]
        for j in range(x.shape[1]):
            w[j] += gk * x[k, j]


@njit(cache=True, inline="always")
def ridge_update(state, xa, r):
    """Sherman-Morrison: u = V^{-1} x_a, V^{-1} <- V^{-1} - u u^T / (1 + x_a . u), b <- b + r
    x_a, theta_hat = V^{-1} b; returns 1 + x_a . u (``state.u`` keeps u)."""
    vinv, u, d = state.vinv, state.u, xa.shape[0]
    denom = 1.0
    for i in range(d):
        acc = 0.0
        for j in range(d):
            acc += vinv[i, j] * xa[j]
        u[i] = acc
        denom += xa[i] * acc
    for i in range(d):
        ui = u[i] / denom
        for j in range(d):
            vinv[i, j] -= ui * u[j]
        state.b[i] += r * xa[i]
    for i in range(d):
        acc = 0.0
        for j in range(d):
            acc += vinv[i, j] * state.b[j]
        state.theta[i] = acc
    return denom


@njit(cache=True, inline="always")
def scaled_identity(d, c):
    """c I (d x d), scaled in place: no temporary matrix."""
    out = np.eye(d)
    for i in range(d):
        out[i, i] *= c
    return out


# --- lin-greedy -----------------------------------------------------------------------------


class RidgeState(NamedTuple):
    """V^{-1}, b, theta_hat, the scratch u = V^{-1} x_a and the arms' scores."""

    vinv: np.ndarray
    b: np.ndarray
    theta: np.ndarray
    u: np.ndarray
    scores: np.ndarray


@njit(cache=True)
def _ridge_init(params, x):
    """V^{-1} = I / lam, b = 0, theta_hat = 0."""
    k_arms, d = x.shape
    return RidgeState(scaled_identity(d, 1.0 / params.lam), np.zeros(d), np.zeros(d),
                      np.zeros(d), np.zeros(k_arms))


@hot
def _greedy_select(params, state, x, counts, t, st):
    """argmax_k <x_k, theta_hat>, ties to the lowest index."""
    scores(x, state.theta, state.scores)
    return first_argmax(state.scores)


@hot
def _epsilon_select(params, state, x, counts, t, st):
    """With probability epsilon a uniform arm (one uniform of ``st``, then the arm from a
    second), else the argmax; at epsilon = 0 nothing is drawn."""
    if params.epsilon > 0.0 and uniform(st) < params.epsilon:
        return randint(st, x.shape[0])
    return _greedy_select(params, state, x, counts, t, st)


@hot
def _ridge_update(params, state, x, counts, a, r, t):
    ridge_update(state, x[a], r)


@hot
def _ce_greedy_readout(params, state, x, counts, t, mu, best, st):
    """argmax_k <x_k, theta_hat> over all arms, ties mixed evenly."""
    scores(x, state.theta, state.scores)
    return greedy_gap(state.scores, counts, mu, best, True)


@hot
def _greedy_behaviour(params, state, x, counts, t, mu, best, st):
    """The policy of round t + 1: (1 - epsilon) times the gap of argmax_k <x_k, theta_hat>
    (ties to the lowest index) plus epsilon times a uniform arm's; that gap alone at epsilon =
    0."""
    gap = best - mu[_greedy_select(params, state, x, counts, t + 1, st)]
    if params.epsilon == 0.0:
        return gap
    return (1.0 - params.epsilon) * gap + params.epsilon * mean_gap(mu, best)


def _ridge_bytes(params: tuple, k_arms: int, dim: int) -> int:
    return WORD * (dim * dim + 3 * dim + k_arms)


_register(LinGreedyParams, _ridge_bytes, init=_ridge_init, select=_epsilon_select,
          update=_ridge_update, greedy=_ce_greedy_readout, behaviour=_greedy_behaviour)


# --- OFUL -----------------------------------------------------------------------------------


class OFULState(NamedTuple):
    """The ridge state, the squared norms ||x_k||^2_{V^{-1}} and L^2 = max_k ||x_k||^2."""

    vinv: np.ndarray
    b: np.ndarray
    theta: np.ndarray
    u: np.ndarray
    scores: np.ndarray
    norms: np.ndarray
    bound: np.ndarray


@njit(cache=True)
def _oful_init(params, x):
    k_arms, d = x.shape
    norms = np.zeros(k_arms)
    top = 0.0
    for k in range(k_arms):
        acc = 0.0
        for j in range(d):
            acc += x[k, j] * x[k, j]
        norms[k] = acc / params.lam
        top = max(top, acc)
    return OFULState(scaled_identity(d, 1.0 / params.lam), np.zeros(d), np.zeros(d),
                     np.zeros(d), np.zeros(k_arms), norms, np.full(1, top))


@njit(cache=True, inline="always")
def oful_beta(params, n, d, l2):
    """beta after n pulls: sigma sqrt(2 ln(1/delta) + d ln(1 + n L^2 / (lam d))) + sqrt(lam) S
    (Abbasi-Yadkori et al. 2011, Theorem 2, with det V_n <= (lam + n L^2 / d)^d)."""
    return (params.sigma * math.sqrt(2.0 * math.log(1.0 / params.delta)
                                     + d * math.log(1.0 + n * l2 / (params.lam * d)))
            + math.sqrt(params.lam) * params.theta_norm)


@hot
def _oful_select(params, state, x, counts, t, st):
    """argmax_k <x_k, theta_hat> + c beta_{t-1} ||x_k||_{V^{-1}}, ties to the lowest index."""
    width = params.c * oful_beta(params, t - 1, x.shape[1], state.bound[0])
    scores(x, state.theta, state.scores)
    for k in range(x.shape[0]):
        state.scores[k] += width * math.sqrt(state.norms[k])
    return first_argmax(state.scores)


@hot
def _oful_update(params, state, x, counts, a, r, t):
    """The ridge update, then ||x_k||^2_{V^{-1}} <- ||x_k||^2_{V^{-1}} - (x_k . u)^2 / (1 + x_a .
    u) (Sherman-Morrison applied to each arm), kept >= 0 against rounding."""
    denom = ridge_update(state, x[a], r)
    u = state.u
    for k in range(x.shape[0]):
        acc = 0.0
        for j in range(x.shape[1]):
            acc += x[k, j] * u[j]
        state.norms[k] = max(state.norms[k] - acc * acc / denom, 0.0)


@hot
def _oful_behaviour(params, state, x, counts, t, mu, best, st):
    """The arm of round t + 1 (beta_t)."""
    return best - mu[_oful_select(params, state, x, counts, t + 1, st)]


_register(OFULParams, lambda params, k_arms, dim: WORD * (dim * dim + 3 * dim + 2 * k_arms + 1),
          init=_oful_init, select=_oful_select, update=_oful_update, greedy=_ce_greedy_readout,
          behaviour=_oful_behaviour)


# --- linear Thompson sampling ---------------------------------------------------------------


class LinTSState(NamedTuple):
    """The ridge state, the lower Cholesky factor C of V (V = C C^T), a scratch copy of x_a
    and the current sample theta~."""

    vinv: np.ndarray
    b: np.ndarray
    theta: np.ndarray
    u: np.ndarray
    scores: np.ndarray
    chol: np.ndarray
    work: np.ndarray
    sample: np.ndarray


@njit(cache=True)
def _ts_init(params, x):
    k_arms, d = x.shape
    return LinTSState(scaled_identity(d, 1.0 / params.lam), np.zeros(d), np.zeros(d),
                      np.zeros(d), np.zeros(k_arms), scaled_identity(d, math.sqrt(params.lam)),
                      np.zeros(d), np.zeros(d))


@njit(cache=True, inline="always")
def cholesky_update(c, v):
    """C <- the lower Cholesky factor of C C^T + v v^T, by Givens rotations; ``v`` is
    overwritten."""
    d = v.shape[0]
    for k in range(d):
        r = math.sqrt(c[k, k] * c[k, k] + v[k] * v[k])
        cos = r / c[k, k]
        sin = v[k] / c[k, k]
        c[k, k] = r
        for i in range(k + 1, d):
            c[i, k] = (c[i, k] + sin * v[i]) / cos
            v[i] = cos * v[i] - sin * c[i, k]


@hot
def _ts_draw(params, state, x, st):
    """theta~ = theta_hat + v C^{-T} z, z ~ N(0, I) (d normals from ``st`` in order), which has
    covariance v^2 (C C^T)^{-1} = v^2 V^{-1}; then the arms' scores <x_k, theta~>."""
    c, s, d = state.chol, state.sample, x.shape[1]
    for i in range(d):
        s[i] = normal(st)
    for i in range(d - 1, -1, -1):  # back substitution: C^T y = z, y in place of z
        acc = s[i]
        for j in range(i + 1, d):
            acc -= c[j, i] * s[j]
        s[i] = acc / c[i, i]
    for i in range(d):
        s[i] = state.theta[i] + params.v * s[i]
    scores(x, s, state.scores)


@hot
def _ts_select(params, state, x, counts, t, st):
    """argmax_k <x_k, theta~> of one posterior sample, ties to the lowest index."""
    _ts_draw(params, state, x, st)
    return first_argmax(state.scores)


@hot
def _ts_update(params, state, x, counts, a, r, t):
    """The ridge update and C <- chol(C C^T + x_a x_a^T)."""
    ridge_update(state, x[a], r)
    for j in range(x.shape[1]):
        state.work[j] = x[a, j]
    cholesky_update(state.chol, state.work)


@hot
def _ts_behaviour(params, state, x, counts, t, mu, best, st):
    """The arm of one posterior sample drawn from the readout stream ``st``."""
    return best - mu[_ts_select(params, state, x, counts, t + 1, st)]


_register(LinTSParams, lambda params, k_arms, dim: WORD * (2 * dim * dim + 5 * dim + k_arms),
          init=_ts_init, select=_ts_select, update=_ts_update, greedy=_ce_greedy_readout,
          behaviour=_ts_behaviour)


# --- the linear softmax policies ------------------------------------------------------------


class SoftmaxState(NamedTuple):
    """REINFORCE: the weights w, the logits h = X w, the policy pi of the current round, the
    logits' step g and the reward statistics of the bandit REINFORCE."""

    w: np.ndarray
    h: np.ndarray
    pi: np.ndarray
    g: np.ndarray
    stats: np.ndarray


class GroupState(NamedTuple):
    """RLOO and GRPO: w, h, the policy pi that samples the group, pi_theta of an epoch, the
    per-arm weights acc, the logits' step g, the group's arms and rewards (then advantages)."""

    w: np.ndarray
    h: np.ndarray
    pi: np.ndarray
    now: np.ndarray
    acc: np.ndarray
    g: np.ndarray
    arms: np.ndarray
    returns: np.ndarray


@njit(cache=True)
def _softmax_init(params, x):
    k_arms, d = x.shape
    return SoftmaxState(np.zeros(d), np.zeros(k_arms), np.zeros(k_arms), np.zeros(k_arms),
                        np.zeros(3))


@njit(cache=True)
def _group_init(params, x):
    k_arms, d = x.shape
    z = np.zeros
    return GroupState(z(d), z(k_arms), z(k_arms), z(k_arms), z(k_arms), z(k_arms),
                      np.zeros(params.group, dtype=np.int64), z(params.group))


@hot
def _softmax_select(params, state, x, counts, t, st):
    """A_t ~ pi = softmax(X w) (written into ``state.pi``), by inversion of one uniform."""
    scores(x, state.w, state.h)
    softmax(state.h, state.pi)
    return sample(state.pi, st)


@hot
def _argmax_readout(params, state, x, counts, t, mu, best, st):
    """argmax_k <x_k, w> over all arms, ties mixed evenly."""
    scores(x, state.w, state.h)
    return greedy_gap(state.h, counts, mu, best, True)


@hot
def _softmax_readout(params, state, x, counts, t, mu, best, st):
    """pi = softmax(X w), the policy of the next round."""
    scores(x, state.w, state.h)
    return softmax_gap(state.h, state.pi, mu, best)


@hot
def _reinforce_update(params, state, x, counts, a, r, t):
    """w <- w + X^T g with g the bandit REINFORCE's step of the logits: alpha A (onehot(a) -
    pi), plus alpha beta grad E(pi) with ``entropy`` = beta; so w moves by alpha A (x_a -
    sum_j pi_j x_j), the gradient of ln pi_w(a)."""
    coef = reinforce_coefficient(params, state.stats, seen_reward(params, counts, a, r), t)
    g = state.g
    for k in range(g.shape[0]):
        g[k] = -coef * state.pi[k]
    g[a] += coef
    if params.entropy > 0.0:
        entropy_ascent(g, state.pi, params.alpha * params.entropy)
    add_features(state.w, x, g)


@hot
def _rloo_update(params, state, x, counts, a, r, t):
    """At the group's last pull: w <- w + X^T g, g = (alpha / G) sum_i D_i (onehot(a_i) - pi),
    D_i the leave-one-out advantages."""
    if not _record(params, state, counts, a, r, t):
        return
    total = rloo_weights(state)
    _zero(state.g)
    _ascend(state.g, state.pi, state.acc, total, params.alpha / params.group)
    add_features(state.w, x, state.g)


@hot
def _grpo_update(params, state, x, counts, a, r, t):
    """At the group's last pull: the group-normalised advantages, then E times: pi_theta =
    softmax(X w), g = the bandit GRPO's step of the logits at pi_theta (clipped surrogate, then
    the KL to the uniform policy), w <- w + X^T g."""
    if not _record(params, state, counts, a, r, t):
        return
    grpo_advantages(state.returns)
    for _ in range(params.epochs):
        scores(x, state.w, state.h)
        softmax(state.h, state.now)
        total = _surrogate(state, params.clip)
        _zero(state.g)
        _ascend(state.g, state.now, state.acc, total, params.alpha / params.group)
        if params.kl > 0.0:
            _kl_descent(state.g, state.now, params.alpha * params.kl)
        add_features(state.w, x, state.g)


_SOFTMAX = {"select": _softmax_select, "greedy": _argmax_readout, "behaviour": _softmax_readout}
_register(LinReinforceParams, lambda params, k_arms, dim: WORD * (dim + 3 * k_arms + 3),
          init=_softmax_init, update=_reinforce_update, **_SOFTMAX)


def _group_bytes(params: tuple, k_arms: int, dim: int) -> int:
    return WORD * (dim + 5 * k_arms + 2 * params.group)


_register(LinRLOOParams, _group_bytes, init=_group_init, update=_rloo_update, **_SOFTMAX)
_register(LinGRPOParams, _group_bytes, init=_group_init, update=_grpo_update, **_SOFTMAX)

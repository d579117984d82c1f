"""Kernel pieces of the policy-gradient agents beyond REINFORCE: RLOO, GRPO, PPO, one-step
actor-critic and the sample-based natural policy gradient.

Every one acts by A_t ~ pi = softmax(H) and reads out as REINFORCE does (``softmax``: greedy
argmax_k H_k, behaviour pi), and sees the reward x + c / sqrt(N_a) (``common.seen_reward``).
RLOO, GRPO and PPO pull a group of G arms from one policy (H changes only at the group's last
pull, so the softmax that ``select`` computes at every round is the same within a group) and
update at the group's last pull from the group's arms and rewards, which their state buffers.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from tracking.jit import njit

from ..agents import ActorCriticParams, GRPOParams, NPGParams, PPOParams, RLOOParams
from .common import WORD, hot, seen_reward, softmax
from .hooks import register_agent
from .softmax import deploy_argmax, deploy_softmax, select_softmax

#: GRPO's constant in A_i = (r_i - mean r) / (std r + GRPO_EPS) (Shao et al. 2024).
GRPO_EPS = 1e-8


class GroupState(NamedTuple):
    """Preferences H, the policy pi that samples the current group, the policy pi_theta of an
    epoch, per-arm sums, the group's arms and rewards (then advantages), and PPO's critic V
    (unused by RLOO and GRPO)."""

    h: np.ndarray
    pi: np.ndarray
    now: np.ndarray
    acc: np.ndarray
    arms: np.ndarray
    returns: np.ndarray
    value: np.ndarray


class CriticState(NamedTuple):
    """Preferences H, the policy pi of the current round, the critic V."""

    h: np.ndarray
    pi: np.ndarray
    value: np.ndarray


class PolicyState(NamedTuple):
    """Preferences H and the policy pi of the current round."""

    h: np.ndarray
    pi: np.ndarray


def _group_footprint(params: tuple, k_arms: int, horizon: int) -> tuple[int, int]:
    return 0, WORD * (4 * k_arms + 2 * params.group + 1)


@njit(cache=True)
def _group_init(params, table, mu):
    k_arms, g = mu.shape[0], params.group
    z = np.zeros
    return GroupState(z(k_arms), z(k_arms), z(k_arms), z(k_arms), np.zeros(g, dtype=np.int64),
                      z(g), z(1))


@njit(cache=True, inline="always")
def _record(params, state, counts, a, x, t):
    """Buffer pull t's arm and seen reward; True at the group's last pull."""
    i = (t - 1) % params.group
    state.arms[i] = a
    state.returns[i] = seen_reward(params, counts, a, x)
    return i == params.group - 1


@njit(cache=True, inline="always")
def _zero(x):
    for i in range(x.shape[0]):
        x[i] = 0.0


@njit(cache=True, inline="always")
def _mean(x):
    total = 0.0
    for i in range(x.shape[0]):
        total += x[i]
    return total / x.shape[0]


@njit(cache=True, inline="always")
def _std(x, m):
    """sqrt(mean_i (x_i - m)^2), the standard deviation (ddof 0) about ``m``."""
    total = 0.0
    for i in range(x.shape[0]):
        total += (x[i] - m) * (x[i] - m)
    return math.sqrt(total / x.shape[0])


@njit(cache=True, inline="always")
def _ascend(h, pi, acc, total, step):
    """H_k <- H_k + step (acc_k - pi_k total): with acc_k = sum_{i: a_i = k} w_i and total =
    sum_i w_i, the step along sum_i w_i grad ln pi(a_i) = sum_i w_i (onehot(a_i) - pi)."""
    for k in range(h.shape[0]):
        h[k] += step * (acc[k] - pi[k] * total)


@njit(cache=True, inline="always")
def _surrogate(state, clip):
    """The clipped surrogate's weights at pi_theta = ``state.now``: acc_k = sum_{i: a_i = k}
    rho_i A_i over the samples where min(rho_i A_i, clip(rho_i, 1 - eps, 1 + eps) A_i) takes
    its unclipped branch (rho_i A_i <= the clipped term), rho_i = pi_theta(a_i) / pi(a_i);
    returns their sum. A sample whose arm had probability 0 (possible only by rounding)
    contributes 0."""
    _zero(state.acc)
    total = 0.0
    for i in range(state.arms.shape[0]):
        a = state.arms[i]
        if state.pi[a] > 0.0:
            rho = state.now[a] / state.pi[a]
            adv = state.returns[i]
            if rho * adv <= min(max(rho, 1.0 - clip), 1.0 + clip) * adv:
                state.acc[a] += rho * adv
                total += rho * adv
    return total


@njit(cache=True, inline="always")
def _kl_descent(h, pi, step):
    """H_k <- H_k - step * dKL(pi || uniform)/dH_k = H_k - step pi_k (ln(K pi_k) - KL), with
    KL = sum_k pi_k ln(K pi_k) exact over the arms; an arm with pi_k = 0 contributes 0."""
    k_arms = pi.shape[0]
    kl = 0.0
    for k in range(k_arms):
        if pi[k] > 0.0:
            kl += pi[k] * math.log(k_arms * pi[k])
    for k in range(k_arms):
        if pi[k] > 0.0:
            h[k] -= step * pi[k] * (math.log(k_arms * pi[k]) - kl)


@njit(cache=True, inline="always")
def _clipped_epochs(params, state, kl):
    """E ascent steps of size alpha on (1/G) sum_i min(rho_i A_i, clip(rho_i) A_i) - kl KL,
    the advantages A_i in ``state.returns``; pi_theta = softmax(H) anew at every epoch."""
    g = state.arms.shape[0]
    for _ in range(params.epochs):
        softmax(state.h, state.now)
        total = _surrogate(state, params.clip)
        _ascend(state.h, state.now, state.acc, total, params.alpha / g)
        if kl > 0.0:
            _kl_descent(state.h, state.now, params.alpha * kl)


@njit(cache=True, inline="always")
def rloo_weights(state):
    """acc_k = sum_{i: a_i = k} D_i with the leave-one-out advantages D_i = R_i - (S - R_i) /
    (G - 1), S = sum_i R_i, of the group in ``state.returns``; returns sum_i D_i."""
    r, g = state.returns, state.returns.shape[0]
    s = 0.0
    for i in range(g):
        s += r[i]
    _zero(state.acc)
    total = 0.0
    for i in range(g):
        adv = r[i] - (s - r[i]) / (g - 1)
        state.acc[state.arms[i]] += adv
        total += adv
    return total


@njit(cache=True, inline="always")
def grpo_advantages(r):
    """r_i <- (r_i - mean r) / (std r + GRPO_EPS), in place: GRPO's group-normalised
    advantages."""
    m = _mean(r)
    sd = _std(r, m)
    for i in range(r.shape[0]):
        r[i] = (r[i] - m) / (sd + GRPO_EPS)


@hot
def _rloo_update(params, state, counts, a, x, t):
    """At the group's last pull: H += (alpha / G) sum_i (R_i - (S - R_i) / (G - 1)) (onehot(a_i)
    - pi), S = sum_i R_i, pi the policy that sampled the group."""
    if not _record(params, state, counts, a, x, t):
        return
    total = rloo_weights(state)
    _ascend(state.h, state.pi, state.acc, total, params.alpha / params.group)


@hot
def _grpo_update(params, state, counts, a, x, t):
    """At the group's last pull: A_i = (r_i - mean r) / (std r + 1e-8), then the clipped
    epochs with the exact KL to the uniform policy."""
    if not _record(params, state, counts, a, x, t):
        return
    grpo_advantages(state.returns)
    _clipped_epochs(params, state, params.kl)


@hot
def _ppo_update(params, state, counts, a, x, t):
    """At the batch's last pull: A_i = r_i - V normalised in the batch (mean 0; std 1 when the
    A_i are not all equal), the clipped epochs, then V += alpha_v (mean r - V)."""
    if not _record(params, state, counts, a, x, t):
        return
    r = state.returns
    v = state.value[0]
    r_mean = _mean(r)
    equal = True
    for i in range(r.shape[0]):
        r[i] -= v
        equal = equal and r[i] == r[0]
    m = _mean(r)
    for i in range(r.shape[0]):
        r[i] = 0.0 if equal else r[i] - m  # all equal: exactly 0, whatever m's rounding
    sd = _std(r, 0.0)
    if sd > 0.0:
        for i in range(r.shape[0]):
            r[i] /= sd
    _clipped_epochs(params, state, 0.0)
    state.value[0] = v + params.alpha_v * (r_mean - v)


@njit(cache=True)
def _critic_init(params, table, mu):
    k_arms = mu.shape[0]
    return CriticState(np.zeros(k_arms), np.zeros(k_arms), np.zeros(1))


@hot
def _actor_critic_update(params, state, counts, a, x, t):
    """delta = x - V; V <- V + alpha_v delta; H <- H + alpha delta (onehot(a) - pi)."""
    x = seen_reward(params, counts, a, x)
    delta = x - state.value[0]
    state.value[0] += params.alpha_v * delta
    g = params.alpha * delta
    h = state.h
    for k in range(h.shape[0]):
        h[k] -= g * state.pi[k]
    h[a] += g


@njit(cache=True)
def _policy_init(params, table, mu):
    k_arms = mu.shape[0]
    return PolicyState(np.zeros(k_arms), np.zeros(k_arms))


@hot
def _npg_update(params, state, counts, a, x, t):
    """H_a <- H_a + alpha x / pi_a (Exp3's importance-weighted reward, no mixing); nothing
    when pi_a = 0 (an arm of probability 0 is drawn only by rounding)."""
    x = seen_reward(params, counts, a, x)
    if state.pi[a] > 0.0:
        state.h[a] += params.alpha * x / state.pi[a]


_SOFTMAX_PIECES = {"select": select_softmax, "deploy_greedy": deploy_argmax,
                   "deploy_behaviour": deploy_softmax}

for _cls, _update in ((RLOOParams, _rloo_update), (GRPOParams, _grpo_update),
                      (PPOParams, _ppo_update)):
    register_agent(_cls, init=_group_init, update=_update, footprint=_group_footprint,
                   **_SOFTMAX_PIECES)
register_agent(ActorCriticParams, init=_critic_init, update=_actor_critic_update,
               footprint=lambda params, k_arms, horizon: (0, WORD * (2 * k_arms + 1)),
               **_SOFTMAX_PIECES)
register_agent(NPGParams, init=_policy_init, update=_npg_update,
               footprint=lambda params, k_arms, horizon: (0, WORD * 2 * k_arms), **_SOFTMAX_PIECES)

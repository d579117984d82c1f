"""Kernel pieces of the episodic policy-gradient agents: reinforce, rloo, grpo, ppo,
actor-critic and npg (definitions in docs/algorithms.md).

Every one is a tabular softmax policy: ``theta`` has H rows (theta[h, s, a]), or one row
shared by every step with ``stationary`` (the row of step h is :func:`_row`). The policy of an
episode is a :class:`Softmax` record of theta: acting at step h in state s computes
pi_h(. | s) there, into ``steps`` (G, H, A: the row of step h of the group's episode i, G = 1
but for the group methods), and draws the action from it (one uniform of the agent's stream);
the updates read those rows, so an episode costs O(H A) and no row it does not visit is
computed. Its exact evaluation (the loop's exact regret) writes softmax(theta) at every (h, s)
into ``probs`` (H, S, A) first, the array the readouts write too (the even mix over argmax
theta, the softmax). theta changes only in ``learn``: the group methods (rloo, grpo, ppo)
store the G episodes of a group and update after the G-th, so every episode of a group acts
with the same policy, and the behaviour readout in the middle of a group is the group's
policy.

A state's arrays that its parameters leave unused (the bonus's counts without a bonus, the
critic without a value baseline, ...) have size 0; :func:`_words` and the footprints count
what is allocated.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from tracking.dispatch import register
from tracking.jit import njit
from tracking.rng import uniform

from . import _hooks as hooks
from ._planning_kernels import Stochastic, act, evaluate_policy, evaluate_probs, even_ties, invert
from .agents import (
    BASELINE_MEAN,
    BASELINE_VALUE,
    ActorCriticParams,
    GRPOParams,
    NPGParams,
    PPOParams,
    ReinforceParams,
    RLOOParams,
)

#: Added to the standard deviation that normalises the advantages of grpo and ppo.
STD_EPS = 1e-8


# --- the softmax policy, shared ------------------------------------------------------------


@njit(cache=True, inline="always")
def _row(theta, h):
    """The row of theta that step h uses: h, or 0 when theta is stationary (one row)."""
    return h if theta.shape[0] > 1 else 0


@njit(cache=True, inline="always")
def _softmax_at(theta, hh, s, out, h, o):
    """out[h, o, :] = softmax(theta[hh, s, :]): exp(theta - max), divided by their sum (the
    maximum by a loop, which allocates nothing: the loop's hot hooks call this)."""
    n_actions = theta.shape[2]
    m = theta[hh, s, 0]
    for a in range(1, n_actions):
        m = max(m, theta[hh, s, a])
    total = 0.0
    for a in range(n_actions):
        out[h, o, a] = math.exp(theta[hh, s, a] - m)
        total += out[h, o, a]
    for a in range(n_actions):
        out[h, o, a] /= total


@njit(cache=True, inline="always")
def _softmax_policy(theta, probs):
    """probs[h, s] = softmax(theta[h, s]) for every (h, s); a stationary theta's rows are
    computed once (h = 0) and copied to the other steps."""
    horizon, n_states, n_actions = probs.shape
    for h in range(theta.shape[0]):
        for s in range(n_states):
            _softmax_at(theta, h, s, probs, h, s)
    for h in range(theta.shape[0], horizon):
        for s in range(n_states):
            for a in range(n_actions):
                probs[h, s, a] = probs[0, s, a]
    return Stochastic(probs)


@njit(cache=True, inline="always")
def _greedy_policy(theta, probs):
    """probs[h, s] = the even mix over argmax_a theta[row(h), s, a], for every (h, s)."""
    horizon, n_states, _ = probs.shape
    for h in range(horizon):
        for s in range(n_states):
            even_ties(theta[_row(theta, h), s], probs[h, s])
    return Stochastic(probs)


class Softmax(NamedTuple):
    """The softmax policy of ``theta``, computed where it is needed: ``act`` at (h, s) writes
    pi_h(. | s) into ``steps[slot, h]`` and draws from it; ``evaluate_policy`` writes every
    row into ``probs`` (H, S, A), then evaluates that :class:`Stochastic` policy."""

    theta: np.ndarray
    probs: np.ndarray
    steps: np.ndarray
    slot: int


@njit(cache=True, inline="always")
def _act_softmax(policy, h, s, st):
    """pi_h(. | s) into the step's row, then inversion of one uniform (as a Stochastic
    policy's action, to the bit)."""
    theta, steps, i = policy.theta, policy.steps, policy.slot
    _softmax_at(theta, _row(theta, h), s, steps, i, h)
    return invert(steps, i, h, uniform(st))


@njit(cache=True, inline="always")
def _evaluate_softmax(policy, model, values, stop):
    return evaluate_probs(model, _softmax_policy(policy.theta, policy.probs).probs, values, stop)


register(act, Softmax, _act_softmax)
register(evaluate_policy, Softmax, _evaluate_softmax)


@njit(cache=True, inline="always")
def _episode_policy(params, state, k, st, stop):
    """The softmax policy of theta, its rows computed where the episode goes (the actions
    drawn by the loop, one uniform per step)."""
    return Softmax(state.theta, state.probs, state.steps, 0)


@njit(cache=True, inline="always")
def _group_episode_policy(params, state, k, st, stop):
    """The group's softmax policy, the rows of its episode i (``filled``) into steps[i]."""
    return Softmax(state.theta, state.probs, state.steps, state.filled[0])


@njit(cache=True, inline="always")
def _greedy(params, state, stop):
    """Argmax of theta per (h, s), ties split evenly."""
    return _greedy_policy(state.theta, state.probs)


@njit(cache=True, inline="always")
def _behaviour(params, state, k, readout, stop):
    """The softmax policy of theta, which the next episode acts with (the current group's
    policy, in the middle of a group)."""
    return _softmax_policy(state.theta, state.probs)


@njit(cache=True, inline="always")
def _score_step(target, hh, s, action, g, pi, i, o):
    """target[hh, s] += g (onehot(action) - pi[i, o]): target -= g pi for every action first,
    then target[action] += g (g grad log pi(action) of a softmax)."""
    for a in range(target.shape[2]):
        target[hh, s, a] -= g * pi[i, o, a]
    target[hh, s, action] += g


def _theta_rows(params, horizon: int) -> int:
    return 1 if params.stationary else horizon


# --- the count bonus -------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _bonus_reward(bonus, visits, s, a, r):
    """r + bonus / sqrt(N(s, a)), N counting this visit (r itself without a bonus)."""
    if bonus > 0.0:
        visits[s, a] += 1
        return r + bonus / math.sqrt(visits[s, a])
    return r


@njit(cache=True, inline="always")
def _episode_rewards(bonus, visits, trajectory, n, out):
    """The rewards the update sees, step by step in order: the observed ones without a bonus,
    else r_h + bonus / sqrt(N(s_h, a_h)) written into ``out``."""
    states, actions, _, observed, _ = trajectory
    if bonus == 0.0:
        return observed
    for h in range(n):
        out[h] = _bonus_reward(bonus, visits, states[h], actions[h], observed[h])
    return out


def _bonus_words(params, s: int, a: int, h: int, per_step: bool) -> float:
    """N(s, a), and the episode's rewards (H) when ``per_step``, with a bonus; else 0."""
    if params.bonus == 0.0:
        return 0.0
    return float(s) * a + (h if per_step else 0)


def _policy_words(params, s: int, a: int, h: int, g: int = 1) -> float:
    """theta (H or 1 rows of S A), probs (H S A) and the steps' rows (G H A)."""
    return float(_theta_rows(params, h)) * s * a + float(h) * s * a + float(g) * h * a


@njit(cache=True, inline="always")
def _steps(group, horizon, n_actions):
    """The rows of the policy at the steps of the group's episodes: (G, H, A)."""
    return np.zeros((group, horizon, n_actions))


# --- reinforce -------------------------------------------------------------------------------


class ReinforceState(NamedTuple):
    """theta, the policy's probs (H, S, A) and its rows at the episode's steps (1, H, A), the
    bonus's visits (S, A) and rewards (H), the baseline's sums and counts per (h, s), the
    returns' running mean and sum of squared deviations per (h, s) (normalise) and the critic
    V[h, s] (baseline = value)."""

    theta: np.ndarray
    probs: np.ndarray
    steps: np.ndarray
    visits: np.ndarray
    rewards: np.ndarray
    base_sum: np.ndarray
    base_n: np.ndarray
    ret_mean: np.ndarray
    ret_m2: np.ndarray
    value: np.ndarray


@njit(cache=True, inline="always")
def _hs(on, horizon, n_states):
    """A zero (H, S) array, of size 0 when ``on`` is false."""
    return np.zeros((horizon, n_states) if on else (0, 0))


@njit(cache=True, inline="always")
def _reinforce_init(params, model, horizon, episodes):
    n_states, n_actions = model.rewards.shape
    shape = (horizon, n_states, n_actions)
    theta = np.zeros((1 if params.stationary else horizon, n_states, n_actions))
    visits = np.zeros((n_states, n_actions) if params.bonus > 0.0 else (0, 0), dtype=np.int64)
    rewards = np.zeros(horizon if params.bonus > 0.0 else 0)
    return ReinforceState(theta, np.zeros(shape), _steps(1, horizon, n_actions), visits, rewards,
                          np.zeros((horizon, n_states)), np.zeros((horizon, n_states)),
                          _hs(params.normalise, horizon, n_states),
                          _hs(params.normalise, horizon, n_states),
                          _hs(params.baseline == BASELINE_VALUE, horizon, n_states))


@njit(cache=True, inline="always")
def _return_std(state, h, s, ret):
    """Welford's update of the returns at (h, s) with ``ret`` (the count is base_n + 1); their
    standard deviation (ddof 0), this return included."""
    n = state.base_n[h, s] + 1.0
    d = ret - state.ret_mean[h, s]
    state.ret_mean[h, s] += d / n
    state.ret_m2[h, s] += d * (ret - state.ret_mean[h, s])
    return math.sqrt(state.ret_m2[h, s] / n)


@njit(cache=True, inline="always")
def _entropy_step(theta, hh, s, coef, pi, i, o):
    """theta[hh, s] += coef grad H(pi[i, o]), grad_k H = -pi_k (log pi_k + H) (0 where
    pi_k = 0), H = -sum_k pi_k log pi_k summed in increasing k."""
    n_actions = theta.shape[2]
    ent = 0.0
    for a in range(n_actions):
        p = pi[i, o, a]
        if p > 0.0:
            ent -= p * math.log(p)
    for a in range(n_actions):
        p = pi[i, o, a]
        if p > 0.0:
            theta[hh, s, a] -= coef * (p * (math.log(p) + ent))


@njit(cache=True, inline="always")
def _reinforce_learn(params, state, trajectory, n):
    """For h = H-1..0, with G_h the return-to-go of the rewards the update sees:
    A = G_h - b(h, s_h) (b = 0, the mean of the earlier returns at (h, s_h) (0 before the
    first), or V_h(s_h)), A /= std of the returns at (h, s_h) so far when normalising and it is
    > 0, theta[row(h), s_h] += alpha A (onehot(a_h) - pi_h(. | s_h)), then alpha entropy
    grad H(pi_h(. | s_h)); then the baseline's statistics take G_h, and V_h(s_h) += alpha_v
    (G_h - V_h(s_h)) (each (h, s) occurs once in an episode: this is the update after the
    episode's).
    """
    states, actions = trajectory.states, trajectory.actions
    rewards = _episode_rewards(params.bonus, state.visits, trajectory, n, state.rewards)
    theta, pi, base_sum, base_n, value = (state.theta, state.steps, state.base_sum,
                                          state.base_n, state.value)
    alpha = params.alpha
    ret = 0.0
    for h in range(n - 1, -1, -1):
        ret += rewards[h]
        s = states[h]
        b = 0.0
        if params.baseline == BASELINE_MEAN and base_n[h, s] > 0.0:
            b = base_sum[h, s] / base_n[h, s]
        elif params.baseline == BASELINE_VALUE:
            b = value[h, s]
        adv = ret - b
        if params.normalise:
            std = _return_std(state, h, s, ret)
            if std > 0.0:
                adv = adv / std
        hh = _row(theta, h)
        _score_step(theta, hh, s, actions[h], alpha * adv, pi, 0, h)
        if params.entropy > 0.0:
            _entropy_step(theta, hh, s, alpha * params.entropy, pi, 0, h)
        base_sum[h, s] += ret
        base_n[h, s] += 1.0
        if params.baseline == BASELINE_VALUE:
            value[h, s] += params.alpha_v * (ret - value[h, s])


def _reinforce_words(params, s, a, nnz, h):
    """theta, probs, the steps' rows, the baseline's sums and counts (H S each), the returns'
    statistics with normalise, the critic with baseline = value, the bonus's visits and
    rewards."""
    hs = float(h) * s
    return (_policy_words(params, s, a, h) + 2.0 * hs + (2.0 * hs if params.normalise else 0.0)
            + (hs if params.baseline == BASELINE_VALUE else 0.0)
            + _bonus_words(params, s, a, h, True))


# --- the group methods: rloo, grpo, ppo ------------------------------------------------------


@njit(cache=True, inline="always")
def _store_episode(params, state, trajectory, n):
    """Episode i = filled of the group into the group's arrays (its rewards with the bonus);
    True when it is the G-th (filled back to 0)."""
    states, actions, observed = trajectory.states, trajectory.actions, trajectory.rewards
    i = state.filled[0]
    for h in range(n):
        s, a = states[h], actions[h]
        state.g_states[i, h] = s
        state.g_actions[i, h] = a
        state.g_rewards[i, h] = _bonus_reward(params.bonus, state.visits, s, a, observed[h])
    if i + 1 < state.g_states.shape[0]:
        state.filled[0] = i + 1
        return False
    state.filled[0] = 0
    return True


@njit(cache=True, inline="always")
def _episode_return(rewards, i):
    """R_i = G_0 of episode i, summed h = H-1..0 (as the return-to-go)."""
    ret = 0.0
    for h in range(rewards.shape[1] - 1, -1, -1):
        ret += rewards[i, h]
    return ret


@njit(cache=True, inline="always")
def _group_returns(rewards, out):
    """out[i] = R_i for every episode of the group; returns their sum (in increasing i)."""
    total = 0.0
    for i in range(out.shape[0]):
        out[i] = _episode_return(rewards, i)
        total += out[i]
    return total


def _group_words(params, s, a, h):
    """The group's states, actions and rewards (G H each) and its fill count."""
    return 3.0 * params.group * h + 1.0


class RLOOState(NamedTuple):
    """theta, probs, the policy's rows at the group's steps (G, H, A), the bonus's visits, the
    group's states, actions and rewards (G, H), the number of its episodes stored, and the
    episodes' returns (G)."""

    theta: np.ndarray
    probs: np.ndarray
    steps: np.ndarray
    visits: np.ndarray
    g_states: np.ndarray
    g_actions: np.ndarray
    g_rewards: np.ndarray
    filled: np.ndarray
    returns: np.ndarray


@njit(cache=True, inline="always")
def _rloo_init(params, model, horizon, episodes):
    n_states, n_actions = model.rewards.shape
    g = params.group
    return RLOOState(np.zeros((1 if params.stationary else horizon, n_states, n_actions)),
                     np.zeros((horizon, n_states, n_actions)), _steps(g, horizon, n_actions),
                     np.zeros((n_states, n_actions) if params.bonus > 0.0 else (0, 0),
                              dtype=np.int64),
                     np.zeros((g, horizon), dtype=np.int64),
                     np.zeros((g, horizon), dtype=np.int64), np.zeros((g, horizon)),
                     np.zeros(1, dtype=np.int64), np.zeros(g))


@njit(cache=True, inline="always")
def _rloo_learn(params, state, trajectory, n):
    """After the G-th episode of a group: for i = 0..G-1, g_i = (alpha / G) (R_i - (sum_j R_j
    - R_i) / (G - 1)), then theta[row(h), s_ih] += g_i (onehot(a_ih) - pi_h(. | s_ih)) for
    h = 0..H-1, pi the group's policy."""
    if not _store_episode(params, state, trajectory, n):
        return
    g_count = state.returns.shape[0]
    total = _group_returns(state.g_rewards, state.returns)
    c = params.alpha / g_count
    theta, pi = state.theta, state.steps
    for i in range(g_count):
        r_i = state.returns[i]
        g = c * (r_i - (total - r_i) / (g_count - 1))
        for h in range(n):
            s = state.g_states[i, h]
            _score_step(theta, _row(theta, h), s, state.g_actions[i, h], g, pi, i, h)


def _rloo_words(params, s, a, nnz, h):
    return (_policy_words(params, s, a, h, params.group) + _group_words(params, s, a, h)
            + params.group + _bonus_words(params, s, a, h, False))


class ClippedState(NamedTuple):
    """grpo's and ppo's state: theta, probs, the group's policy pi_old at its steps (G, H, A),
    the bonus's visits, the group's states, actions and rewards (G, H), its fill count, the
    episodes' returns (G; grpo) or the critic V[h, s] (ppo), the advantages (G, H), the
    gradient (theta's shape, zero between updates) and one row of the current policy
    (1, 1, A)."""

    theta: np.ndarray
    probs: np.ndarray
    steps: np.ndarray
    visits: np.ndarray
    g_states: np.ndarray
    g_actions: np.ndarray
    g_rewards: np.ndarray
    filled: np.ndarray
    returns: np.ndarray
    value: np.ndarray
    adv: np.ndarray
    grad: np.ndarray
    row: np.ndarray


@njit(cache=True, inline="always")
def _clipped_init(params, model, horizon, episodes, critic):
    n_states, n_actions = model.rewards.shape
    g = params.group
    shape = (1 if params.stationary else horizon, n_states, n_actions)
    return ClippedState(np.zeros(shape), np.zeros((horizon, n_states, n_actions)),
                        _steps(g, horizon, n_actions),
                        np.zeros((n_states, n_actions) if params.bonus > 0.0 else (0, 0),
                                 dtype=np.int64),
                        np.zeros((g, horizon), dtype=np.int64),
                        np.zeros((g, horizon), dtype=np.int64), np.zeros((g, horizon)),
                        np.zeros(1, dtype=np.int64), np.zeros(0 if critic else g),
                        np.zeros((horizon, n_states) if critic else (0, 0)),
                        np.zeros((g, horizon)), np.zeros(shape), np.zeros((1, 1, n_actions)))


@njit(cache=True, inline="always")
def _kl_step(grad, hh, s, coef, pi):
    """grad[hh, s] -= coef grad KL(pi || uniform), grad_k KL = pi_k (log(A pi_k) - KL) (0 where
    pi_k = 0), KL = sum_k pi_k log(A pi_k) summed in increasing k; pi = pi[0, 0]."""
    n_actions = grad.shape[2]
    kl = 0.0
    for a in range(n_actions):
        p = pi[0, 0, a]
        if p > 0.0:
            kl += p * math.log(n_actions * p)
    for a in range(n_actions):
        p = pi[0, 0, a]
        if p > 0.0:
            grad[hh, s, a] -= coef * (p * (math.log(n_actions * p) - kl))


@njit(cache=True, inline="always")
def _clipped_epoch(state, clip, kl, alpha):
    """One ascent step theta += alpha grad L on L = (1/G) sum_i sum_h [min(rho A, clip(rho,
    1 - clip, 1 + clip) A) - kl KL(pi_theta(. | s_ih) || uniform)], A = adv[i, h], rho =
    pi_theta(a_ih | s_ih) / pi_old(a_ih | s_ih) (pi_old the group's policy at the step,
    steps[i, h]).

    In order i = 0..G-1, h = 0..H-1: pi_theta(. | s_ih) from the current theta; where the min
    picks the unclipped term (rho A <= clip(rho) A) and pi_old(a_ih) > 0, grad += (rho A / G)
    (onehot(a_ih) - pi_theta); with kl > 0, grad -= (kl / G) grad KL. Then, over the same steps,
    theta[row] += alpha grad[row] and grad[row] = 0 (a row seen again adds 0).
    """
    theta, old, grad, row, adv = state.theta, state.steps, state.grad, state.row, state.adv
    g_count, horizon = adv.shape
    lo, hi = 1.0 - clip, 1.0 + clip
    for i in range(g_count):
        for h in range(horizon):
            s, a = state.g_states[i, h], state.g_actions[i, h]
            hh = _row(theta, h)
            _softmax_at(theta, hh, s, row, 0, 0)
            p_old = old[i, h, a]
            if p_old > 0.0:
                rho = row[0, 0, a] / p_old
                x = adv[i, h]
                if rho * x <= min(max(rho, lo), hi) * x:
                    _score_step(grad, hh, s, a, rho * x / g_count, row, 0, 0)
            if kl > 0.0:
                _kl_step(grad, hh, s, kl / g_count, row)
    for i in range(g_count):
        for h in range(horizon):
            s = state.g_states[i, h]
            hh = _row(theta, h)
            for b in range(theta.shape[2]):
                theta[hh, s, b] += alpha * grad[hh, s, b]
                grad[hh, s, b] = 0.0


@njit(cache=True, inline="always")
def _normalise(adv):
    """adv = (adv - mean) / (std + STD_EPS) over all its entries, mean and std (ddof 0) summed
    in row-major order."""
    g_count, horizon = adv.shape
    total = 0.0
    for i in range(g_count):
        for h in range(horizon):
            total += adv[i, h]
    mean = total / (g_count * horizon)
    sq = 0.0
    for i in range(g_count):
        for h in range(horizon):
            d = adv[i, h] - mean
            sq += d * d
    scale = math.sqrt(sq / (g_count * horizon)) + STD_EPS
    for i in range(g_count):
        for h in range(horizon):
            adv[i, h] = (adv[i, h] - mean) / scale


def _clipped_words(params, s, a, h, critic: bool):
    """theta, probs, the steps' rows (G H A), the group, the returns (G) or the critic (H S),
    the advantages (G H), the gradient (theta's size), the policy row (A) and the bonus's
    visits."""
    return (_policy_words(params, s, a, h, params.group) + float(_theta_rows(params, h)) * s * a
            + _group_words(params, s, a, h) + (float(h) * s if critic else params.group)
            + float(params.group) * h + a + _bonus_words(params, s, a, h, False))


# grpo


@njit(cache=True, inline="always")
def _grpo_init(params, model, horizon, episodes):
    return _clipped_init(params, model, horizon, episodes, False)


@njit(cache=True, inline="always")
def _grpo_learn(params, state, trajectory, n):
    """After the G-th episode of a group: A_i = (R_i - mean R) / (std R + 1e-8) (std ddof 0,
    sums in increasing i) at every step of episode i, then ``epochs`` clipped ascent steps."""
    if not _store_episode(params, state, trajectory, n):
        return
    returns, adv = state.returns, state.adv
    g_count = returns.shape[0]
    mean = _group_returns(state.g_rewards, returns) / g_count
    sq = 0.0
    for i in range(g_count):
        d = returns[i] - mean
        sq += d * d
    scale = math.sqrt(sq / g_count) + STD_EPS
    for i in range(g_count):
        x = (returns[i] - mean) / scale
        for h in range(n):
            adv[i, h] = x
    for _ in range(params.epochs):
        _clipped_epoch(state, params.clip, params.kl, params.alpha)


# ppo


@njit(cache=True, inline="always")
def _ppo_init(params, model, horizon, episodes):
    return _clipped_init(params, model, horizon, episodes, True)


@njit(cache=True, inline="always")
def _ppo_learn(params, state, trajectory, n):
    """After the G-th episode of a batch: GAE(lam) advantages from the critic, for h = H-1..0,
    delta = r_ih + V_{h+1}(s_i,h+1) - V_h(s_ih) (V_H = 0), A_ih = delta + lam A_i,h+1
    (A_iH = 0); normalised over the batch; ``epochs`` clipped ascent steps; then for i =
    0..G-1 and h = H-1..0, V_h(s_ih) += alpha_v (G_ih - V_h(s_ih)), G_ih the return-to-go."""
    if not _store_episode(params, state, trajectory, n):
        return
    value, adv, rewards, g_states = state.value, state.adv, state.g_rewards, state.g_states
    g_count = adv.shape[0]
    for i in range(g_count):
        a_next = 0.0
        for h in range(n - 1, -1, -1):
            v_next = value[h + 1, g_states[i, h + 1]] if h + 1 < n else 0.0
            delta = rewards[i, h] + v_next - value[h, g_states[i, h]]
            a_next = delta + params.lam * a_next
            adv[i, h] = a_next
    _normalise(adv)
    for _ in range(params.epochs):
        _clipped_epoch(state, params.clip, 0.0, params.alpha)
    for i in range(g_count):
        ret = 0.0
        for h in range(n - 1, -1, -1):
            ret += rewards[i, h]
            s = g_states[i, h]
            value[h, s] += params.alpha_v * (ret - value[h, s])


# --- actor-critic ----------------------------------------------------------------------------


class ActorCriticState(NamedTuple):
    """theta, probs, the steps' rows (1, H, A), the bonus's visits (S, A) and rewards (H), the
    critic V[h, s]."""

    theta: np.ndarray
    probs: np.ndarray
    steps: np.ndarray
    visits: np.ndarray
    rewards: np.ndarray
    value: np.ndarray


@njit(cache=True, inline="always")
def _ac_init(params, model, horizon, episodes):
    n_states, n_actions = model.rewards.shape
    return ActorCriticState(
        np.zeros((1 if params.stationary else horizon, n_states, n_actions)),
        np.zeros((horizon, n_states, n_actions)), _steps(1, horizon, n_actions),
        np.zeros((n_states, n_actions) if params.bonus > 0.0 else (0, 0), dtype=np.int64),
        np.zeros(horizon if params.bonus > 0.0 else 0), np.zeros((horizon, n_states)))


@njit(cache=True, inline="always")
def _ac_learn(params, state, trajectory, n):
    """For h = 0..H-1 in order: delta = r_h + V_{h+1}(s_{h+1}) - V_h(s_h) (V_H = 0),
    V_h(s_h) += alpha_v delta, theta[row(h), s_h] += alpha delta (onehot(a_h) - pi_h(. | s_h))
    (pi the episode's policy)."""
    states, actions, next_states = trajectory.states, trajectory.actions, trajectory.next_states
    rewards = _episode_rewards(params.bonus, state.visits, trajectory, n, state.rewards)
    theta, pi, value = state.theta, state.steps, state.value
    for h in range(n):
        s = states[h]
        v_next = value[h + 1, next_states[h]] if h + 1 < n else 0.0
        delta = rewards[h] + v_next - value[h, s]
        value[h, s] += params.alpha_v * delta
        _score_step(theta, _row(theta, h), s, actions[h], params.alpha * delta, pi, 0, h)


def _ac_words(params, s, a, nnz, h):
    return _policy_words(params, s, a, h) + float(h) * s + _bonus_words(params, s, a, h, True)


# --- npg -------------------------------------------------------------------------------------


class NPGState(NamedTuple):
    """theta, probs, the steps' rows (1, H, A), the bonus's visits (S, A) and rewards (H), the
    sums and counts of the returns-to-go per (h, s, a)."""

    theta: np.ndarray
    probs: np.ndarray
    steps: np.ndarray
    visits: np.ndarray
    rewards: np.ndarray
    q_sum: np.ndarray
    q_n: np.ndarray


@njit(cache=True, inline="always")
def _npg_init(params, model, horizon, episodes):
    n_states, n_actions = model.rewards.shape
    shape = (horizon, n_states, n_actions)
    return NPGState(np.zeros((1 if params.stationary else horizon, n_states, n_actions)),
                    np.zeros(shape), _steps(1, horizon, n_actions),
                    np.zeros((n_states, n_actions) if params.bonus > 0.0 else (0, 0),
                             dtype=np.int64),
                    np.zeros(horizon if params.bonus > 0.0 else 0), np.zeros(shape),
                    np.zeros(shape, dtype=np.int64))


@njit(cache=True, inline="always")
def _npg_learn(params, state, trajectory, n):
    """For h = H-1..0: the return-to-go G_h joins Q_hat_h(s_h, a_h) (sum and count), then
    theta[row(h), s_h, b] += alpha Q_hat_h(s_h, b) for every b with a count, Q_hat = sum /
    count (each (h, s) occurs once in an episode: its row is then final)."""
    states, actions = trajectory.states, trajectory.actions
    rewards = _episode_rewards(params.bonus, state.visits, trajectory, n, state.rewards)
    theta, q_sum, q_n = state.theta, state.q_sum, state.q_n
    ret = 0.0
    for h in range(n - 1, -1, -1):
        ret += rewards[h]
        s, a = states[h], actions[h]
        q_sum[h, s, a] += ret
        q_n[h, s, a] += 1
        hh = _row(theta, h)
        for b in range(theta.shape[2]):
            if q_n[h, s, b] > 0:
                theta[hh, s, b] += params.alpha * (q_sum[h, s, b] / q_n[h, s, b])


def _npg_words(params, s, a, nnz, h):
    return (_policy_words(params, s, a, h) + 2.0 * h * s * a
            + _bonus_words(params, s, a, h, True))


# --- registration ----------------------------------------------------------------------------

_PIECES = (
    (ReinforceParams, _reinforce_init, _episode_policy, _reinforce_learn, _reinforce_words),
    (RLOOParams, _rloo_init, _group_episode_policy, _rloo_learn, _rloo_words),
    (GRPOParams, _grpo_init, _group_episode_policy, _grpo_learn,
     lambda params, s, a, nnz, h: _clipped_words(params, s, a, h, False)),
    (PPOParams, _ppo_init, _group_episode_policy, _ppo_learn,
     lambda params, s, a, nnz, h: _clipped_words(params, s, a, h, True)),
    (ActorCriticParams, _ac_init, _episode_policy, _ac_learn, _ac_words),
    (NPGParams, _npg_init, _episode_policy, _npg_learn, _npg_words),
)

for _cls, _init, _policy, _learn, _words in _PIECES:
    register(hooks.init_episodic, _cls, _init)
    register(hooks.episode_policy, _cls, _policy)
    register(hooks.learn, _cls, _learn)
    register(hooks.greedy_policy, _cls, _greedy)
    register(hooks.behaviour_policy, _cls, _behaviour)
    hooks.register_footprint(_cls, "episodic", _words)

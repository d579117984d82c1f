"""Kernel pieces of the softmax policy-gradient agents: REINFORCE and the exact gradient.

Both act by A_t ~ pi = softmax(H): their behaviour readout is pi, their greedy readout
argmax_k H_k (ties mixed evenly); they differ in how H moves. The pieces every softmax agent
shares (``select_softmax``, ``deploy_argmax``, ``deploy_softmax``, ``entropy_ascent``) are
defined here; the other policy-gradient agents are in ``policy_gradient``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from tracking.jit import njit

from ..agents import PGExactParams, ReinforceParams
from .common import WORD, greedy_gap, hot, sample, seen_reward, softmax, softmax_gap
from .hooks import register_agent


class ReinforceState(NamedTuple):
    """Preferences H, the policy pi of the current round, and ``stats``: the sum of the rewards
    seen so far, and their running mean and sum of squared deviations (Welford's, kept with
    ``normalise`` only)."""

    h: np.ndarray
    pi: np.ndarray
    stats: np.ndarray


class PGExactState(NamedTuple):
    """Preferences H, the policy pi of the current round, and the run's true means."""

    h: np.ndarray
    pi: np.ndarray
    mu: np.ndarray


@hot
def select_softmax(params, state, counts, t, st):
    """A_t ~ pi = softmax(H) (written into ``state.pi``), by inversion of one uniform."""
    softmax(state.h, state.pi)
    return sample(state.pi, st)


@hot
def deploy_argmax(params, state, counts, t, mu, best, st):
    """argmax_k H_k, over all arms, ties mixed evenly."""
    return greedy_gap(state.h, counts, mu, best, True)


@hot
def deploy_softmax(params, state, counts, t, mu, best, st):
    """pi = softmax(H), the policy of the next round."""
    return softmax_gap(state.h, state.pi, mu, best)


@njit(cache=True, inline="always")
def entropy_ascent(h, pi, step):
    """H_k <- H_k + step * dH(pi)/dH_k = H_k - step pi_k (ln pi_k + H(pi)), with the entropy
    H(pi) = -sum_k pi_k ln pi_k; an arm with pi_k = 0 contributes 0 (the limit)."""
    ent = 0.0
    for k in range(pi.shape[0]):
        if pi[k] > 0.0:
            ent -= pi[k] * math.log(pi[k])
    for k in range(pi.shape[0]):
        if pi[k] > 0.0:
            h[k] -= step * pi[k] * (math.log(pi[k]) + ent)


@njit(cache=True, inline="always")
def reinforce_coefficient(params, stats, x, t):
    """alpha A of round t's REINFORCE step, A = x - b, b the mean of the rewards before round
    t (0 without ``baseline``); with ``normalise``, A divided by the standard deviation of the
    rewards of rounds 1..t (Welford's running mean and squared deviations, ``stats[1:]``).
    Adds x to the sum of the rewards seen, ``stats[0]``."""
    b = stats[0] / (t - 1) if (params.baseline and t > 1) else 0.0
    if params.normalise:
        delta = x - stats[1]  # Welford: the mean and squared deviations of rounds 1..t
        stats[1] += delta / t
        stats[2] += delta * (x - stats[1])
        sd = math.sqrt(stats[2] / t)
        g = params.alpha * ((x - b) / sd if sd > 0.0 else x - b)
    else:
        g = params.alpha * (x - b)
    stats[0] += x
    return g


@njit(cache=True)
def _reinforce_init(params, table, mu):
    k_arms = mu.shape[0]
    return ReinforceState(np.zeros(k_arms), np.zeros(k_arms), np.zeros(3))


@hot
def _reinforce_update(params, state, counts, a, x, t):
    """H <- H + alpha A (onehot(a) - pi), A = x - b, b the mean of the rewards before round t;
    with ``normalise``, A divided by the standard deviation of the rewards of rounds 1..t; with
    ``entropy`` = beta > 0, plus alpha beta grad H(pi). x is the reward seen (``seen_reward``).
    """
    g = reinforce_coefficient(params, state.stats, seen_reward(params, counts, a, x), t)
    h = state.h
    for k in range(h.shape[0]):
        h[k] -= g * state.pi[k]
    h[a] += g
    if params.entropy > 0.0:
        entropy_ascent(h, state.pi, params.alpha * params.entropy)


@njit(cache=True)
def _pg_exact_init(params, table, mu):
    k_arms = mu.shape[0]
    return PGExactState(np.zeros(k_arms), np.zeros(k_arms), mu)


@hot
def _pg_exact_update(params, state, counts, a, x, t):
    """The exact gradient of pi . mu: H_k <- H_k + alpha pi_k (mu_k - pi . mu)."""
    pi, mu, h = state.pi, state.mu, state.h
    value = 0.0
    for k in range(h.shape[0]):
        value += pi[k] * mu[k]
    for k in range(h.shape[0]):
        h[k] += params.alpha * pi[k] * (mu[k] - value)


register_agent(ReinforceParams, init=_reinforce_init, select=select_softmax,
               update=_reinforce_update, deploy_greedy=deploy_argmax,
               deploy_behaviour=deploy_softmax,
               footprint=lambda params, k_arms, horizon: (0, WORD * (2 * k_arms + 3)))
register_agent(PGExactParams, init=_pg_exact_init, select=select_softmax,
               update=_pg_exact_update, deploy_greedy=deploy_argmax,
               deploy_behaviour=deploy_softmax,
               footprint=lambda params, k_arms, horizon: (0, WORD * 2 * k_arms))

"""Kernel pieces of the softmax policy-gradient agents: REINFORCE and the exact gradient.

Both act by A_t ~ pi = softmax(H) and deploy pi; they differ in how H moves.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tracking.jit import njit

from ..agents import PGExactParams, ReinforceParams
from .common import WORD, hot, sample, softmax, softmax_gap
from .hooks import register_agent


class ReinforceState(NamedTuple):
    """Preferences H, the policy pi of the current round, and the sum of the rewards so far."""

    h: np.ndarray
    pi: np.ndarray
    total: np.ndarray


class PGExactState(NamedTuple):
    """Preferences H, the policy pi of the current round, and the run's true means."""

    h: np.ndarray
    pi: np.ndarray
    mu: np.ndarray


@hot
def _select_softmax(params, state, counts, t, st):
    softmax(state.h, state.pi)
    return sample(state.pi, st)


@hot
def _deploy_softmax(params, state, counts, mu, best):
    return softmax_gap(state.h, state.pi, mu, best)


@njit(cache=True)
def _reinforce_init(params, table, mu):
    k_arms = mu.shape[0]
    return ReinforceState(np.zeros(k_arms), np.zeros(k_arms), np.zeros(1))


@hot
def _reinforce_update(params, state, counts, a, x, t):
    """H <- H + alpha (x - b)(onehot(a) - pi), b the mean of the rewards before round t."""
    b = state.total[0] / (t - 1) if (params.baseline and t > 1) else 0.0
    g = params.alpha * (x - b)
    h = state.h
    for k in range(h.shape[0]):
        h[k] -= g * state.pi[k]
    h[a] += g
    state.total[0] += x


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


register_agent(ReinforceParams, init=_reinforce_init, select=_select_softmax,
               update=_reinforce_update, deploy=_deploy_softmax,
               footprint=lambda params, k_arms, horizon: (0, WORD * (2 * k_arms + 1)))
register_agent(PGExactParams, init=_pg_exact_init, select=_select_softmax,
               update=_pg_exact_update, deploy=_deploy_softmax,
               footprint=lambda params, k_arms, horizon: (0, WORD * 2 * k_arms))

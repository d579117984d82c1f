"""Kernel pieces of the sample-mean agents that act greedily: greedy, epsilon-greedy, etc.

Their state is the sample means (S_k and mu_hat_k; etc adds the arm it commits to); they
differ in ``select`` only.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tracking.jit import njit
from tracking.rng import argmax_random, randint, uniform

from ..agents import EpsilonGreedyParams, ETCParams, GreedyParams
from .common import WORD, deploy_pulled, greedy_gap, hot, round_robin, update_means, vectors
from .hooks import register_agent


class MeansState(NamedTuple):
    """S_k and mu_hat_k (greedy and epsilon-greedy)."""

    sums: np.ndarray
    est: np.ndarray


class CommitState(NamedTuple):
    """S_k, mu_hat_k and the committed arm (-1 before the commitment) of etc."""

    sums: np.ndarray
    est: np.ndarray
    commit: np.ndarray


@njit(cache=True)
def _init_means(params, table, mu):
    """Estimates 0, or q0 for every arm when there is no round robin."""
    k_arms = mu.shape[0]
    est = np.zeros(k_arms)
    if not params.round_robin:
        est[:] = params.q0
    return MeansState(np.zeros(k_arms), est)


@njit(cache=True, inline="always")
def _exploring(params, t, k_arms):
    return params.round_robin and t <= k_arms


@hot
def _select_greedy(params, state, counts, t, st):
    k_arms = state.est.shape[0]
    if _exploring(params, t, k_arms):
        return round_robin(t, k_arms)
    return argmax_random(state.est, st)


@hot
def _select_epsilon_greedy(params, state, counts, t, st):
    k_arms = state.est.shape[0]
    if _exploring(params, t, k_arms):
        return round_robin(t, k_arms)
    if uniform(st) < params.epsilon:
        return randint(st, k_arms)
    return argmax_random(state.est, st)


@hot
def _deploy_means(params, state, counts, mu, best):
    """argmax of mu_hat over the arms pulled, or over all arms when started from q0."""
    return greedy_gap(state.est, counts, mu, best, not params.round_robin)


@njit(cache=True)
def _init_commit(params, table, mu):
    k_arms = mu.shape[0]
    return CommitState(np.zeros(k_arms), np.zeros(k_arms), np.full(1, -1, dtype=np.int64))


@hot
def _select_etc(params, state, counts, t, st):
    k_arms = state.est.shape[0]
    if t <= k_arms * params.m:
        return round_robin(t, k_arms)
    if state.commit[0] < 0:
        state.commit[0] = argmax_random(state.est, st)
    return state.commit[0]


register_agent(GreedyParams, init=_init_means, select=_select_greedy, update=update_means,
               deploy=_deploy_means, footprint=vectors(2))
register_agent(EpsilonGreedyParams, init=_init_means, select=_select_epsilon_greedy,
               update=update_means, deploy=_deploy_means, footprint=vectors(2))
register_agent(ETCParams, init=_init_commit, select=_select_etc, update=update_means,
               deploy=deploy_pulled,
               footprint=lambda params, k_arms, horizon: (0, WORD * (2 * k_arms + 1)))

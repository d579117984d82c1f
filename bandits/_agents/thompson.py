"""Kernel pieces of Thompson sampling: Beta posteriors on Bernoulli arms, Gaussian ones on
Gaussian arms (known sigma, flat prior)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from tracking.jit import njit
from tracking.rng import argmax_random, gamma_mt, normal

from ..agents import ThompsonBernoulliParams, ThompsonGaussianParams
from .common import (
    deploy_pulled,
    greedy_gap,
    hot,
    round_robin,
    round_robin_gap,
    update_means,
    vectors,
)
from .hooks import register_agent


class BetaState(NamedTuple):
    """Marsaglia-Tsang constants (d_a, c_a, d_b, c_b) of each arm's Beta(a0 + S_k, b0 + N_k -
    S_k) posterior, updated only for the arm pulled; S_k; the current samples."""

    post: np.ndarray
    sums: np.ndarray
    work: np.ndarray


class GaussianState(NamedTuple):
    """S_k, mu_hat_k and the current samples."""

    sums: np.ndarray
    est: np.ndarray
    work: np.ndarray


@njit(cache=True, inline="always")
def _set_posterior(row, a, b):
    """row = (d_a, c_a, d_b, c_b): Marsaglia-Tsang constants of Gamma(a) and Gamma(b), a, b >= 1."""
    row[0] = a - 1.0 / 3.0
    row[1] = 1.0 / math.sqrt(9.0 * row[0])
    row[2] = b - 1.0 / 3.0
    row[3] = 1.0 / math.sqrt(9.0 * row[2])


@njit(cache=True)
def _beta_init(params, table, mu):
    k_arms = mu.shape[0]
    post = np.empty((k_arms, 4))
    for k in range(k_arms):
        _set_posterior(post[k], params.a0, params.b0)
    return BetaState(post, np.zeros(k_arms), np.zeros(k_arms))


@hot
def _beta_sample(state, st):
    """work_k = theta_k = X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b): one posterior sample."""
    post = state.post
    for k in range(post.shape[0]):
        x = gamma_mt(st, post[k, 0], post[k, 1])
        y = gamma_mt(st, post[k, 2], post[k, 3])
        state.work[k] = x / (x + y)


@hot
def _beta_select(params, state, counts, t, st):
    """From round 1: theta drawn from the posterior (``_beta_sample``); argmax theta."""
    _beta_sample(state, st)
    return argmax_random(state.work, st)


@hot
def _beta_behaviour(params, state, counts, t, mu, best, st):
    """argmax of one posterior sample drawn from the readout stream ``st``, ties mixed evenly."""
    _beta_sample(state, st)
    return greedy_gap(state.work, counts, mu, best, True)


@hot
def _beta_update(params, state, counts, a, x, t):
    state.sums[a] += x
    _set_posterior(state.post[a], params.a0 + state.sums[a],
                   params.b0 + counts[a] - state.sums[a])


@hot
def _beta_deploy(params, state, counts, t, mu, best, st):
    """argmax of the posterior means (a0 + S_k) / (a0 + b0 + N_k) over all arms."""
    for k in range(mu.shape[0]):
        state.work[k] = (params.a0 + state.sums[k]) / (params.a0 + params.b0 + counts[k])
    return greedy_gap(state.work, counts, mu, best, True)


register_agent(ThompsonBernoulliParams, init=_beta_init, select=_beta_select,
               update=_beta_update, deploy_greedy=_beta_deploy, deploy_behaviour=_beta_behaviour,
               footprint=vectors(6))


@njit(cache=True)
def _gaussian_init(params, table, mu):
    k_arms = mu.shape[0]
    return GaussianState(np.zeros(k_arms), np.zeros(k_arms), np.zeros(k_arms))


@hot
def _gaussian_sample(params, state, counts, st):
    """work_k = theta_k ~ N(mu_hat_k, sigma^2 / N_k): one posterior sample."""
    for k in range(counts.shape[0]):
        state.work[k] = state.est[k] + params.sigma / math.sqrt(counts[k]) * normal(st)


@hot
def _gaussian_select(params, state, counts, t, st):
    """One pull each, then theta drawn from the posterior (``_gaussian_sample``); argmax theta."""
    k_arms = counts.shape[0]
    if t <= k_arms:
        return round_robin(t, k_arms)
    _gaussian_sample(params, state, counts, st)
    return argmax_random(state.work, st)


@hot
def _gaussian_behaviour(params, state, counts, t, mu, best, st):
    """The round-robin arm, then the argmax of one posterior sample drawn from the readout
    stream ``st``, ties mixed evenly."""
    if t < counts.shape[0]:
        return round_robin_gap(t, mu, best)
    _gaussian_sample(params, state, counts, st)
    return greedy_gap(state.work, counts, mu, best, True)


register_agent(ThompsonGaussianParams, init=_gaussian_init, select=_gaussian_select,
               update=update_means, deploy_greedy=deploy_pulled,
               deploy_behaviour=_gaussian_behaviour, footprint=vectors(3))

"""Kernel pieces of Thompson sampling: Beta posteriors on Bernoulli arms, Gaussian ones on
Gaussian arms (known sigma, flat prior)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from tracking.jit import njit
from tracking.rng import argmax_random, gamma_mt, normal

from ..agents import ThompsonBernoulliParams, ThompsonGaussianParams
from .common import deploy_pulled, greedy_gap, hot, round_robin, update_means, vectors
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
def _beta_select(params, state, counts, t, st):
    """From round 1: theta_k = X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b); argmax theta."""
    post = state.post
    for k in range(post.shape[0]):
        x = gamma_mt(st, post[k, 0], post[k, 1])
        y = gamma_mt(st, post[k, 2], post[k, 3])
        state.work[k] = x / (x + y)
    return argmax_random(state.work, st)


@hot
def _beta_update(params, state, counts, a, x, t):
    state.sums[a] += x
    _set_posterior(state.post[a], params.a0 + state.sums[a],
                   params.b0 + counts[a] - state.sums[a])


@hot
def _beta_deploy(params, state, counts, mu, best):
    """argmax of the posterior means (a0 + S_k) / (a0 + b0 + N_k) over all arms."""
    for k in range(mu.shape[0]):
        state.work[k] = (params.a0 + state.sums[k]) / (params.a0 + params.b0 + counts[k])
    return greedy_gap(state.work, counts, mu, best, True)


register_agent(ThompsonBernoulliParams, init=_beta_init, select=_beta_select,
               update=_beta_update, deploy=_beta_deploy, footprint=vectors(6))


@njit(cache=True)
def _gaussian_init(params, table, mu):
    k_arms = mu.shape[0]
    return GaussianState(np.zeros(k_arms), np.zeros(k_arms), np.zeros(k_arms))


@hot
def _gaussian_select(params, state, counts, t, st):
    """One pull each, then theta_k ~ N(mu_hat_k, sigma^2 / N_k); argmax theta."""
    k_arms = counts.shape[0]
    if t <= k_arms:
        return round_robin(t, k_arms)
    for k in range(k_arms):
        state.work[k] = state.est[k] + params.sigma / math.sqrt(counts[k]) * normal(st)
    return argmax_random(state.work, st)


register_agent(ThompsonGaussianParams, init=_gaussian_init, select=_gaussian_select,
               update=update_means, deploy=deploy_pulled, footprint=vectors(3))

"""Kernel pieces of the optimistic agents: UCB1 and KL-UCB (Bernoulli and Gaussian arms).

UCB1's index mu_hat_k + sqrt(c ln t) / sqrt(N_k) reads both square roots from a table shared
read-only by the runs of a kernel call (``shared``), and finds the maximum in the same pass as
the indices (``tracking.rng.argmax_of_max``). KL-UCB scans the arms once from the empirical
leader; its per-arm index is a second, private hook resolved from the record type: the
Bernoulli index by Newton's method with exact pruning, the Gaussian one in closed form.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from tracking.dispatch import hook, register
from tracking.jit import njit
from tracking.rng import argmax_of_max, uniform

from ..agents import KLUCBBernoulliParams, KLUCBGaussianParams, UCBParams
from .common import (
    KLUCB_TOL,
    WORD,
    bernoulli_kl,
    deploy_pulled,
    hot,
    klucb_index,
    record_mean,
    round_robin,
    update_means,
    vectors,
)
from .hooks import register_agent

#: Rows of UCB1's table at most: sqrt(c ln t) and 1 / sqrt(t) for t < 2^20 (16 MiB).
UCB_TABLE_ROWS = 1 << 20


class UCBState(NamedTuple):
    """S_k, mu_hat_k, 1 / sqrt(N_k), the indices of the current round, and the shared table."""

    sums: np.ndarray
    est: np.ndarray
    inv_sqrt: np.ndarray
    work: np.ndarray
    roots: np.ndarray


class KLUCBState(NamedTuple):
    """S_k and mu_hat_k."""

    sums: np.ndarray
    est: np.ndarray


def _ucb_rows(horizon: int) -> int:
    return min(horizon + 1, UCB_TABLE_ROWS)


@njit(cache=True)
def _ucb_table(params, horizon):
    """roots[t] = (sqrt(c ln t), 1 / sqrt(t)) for 1 <= t < min(T + 1, 2^20)."""
    roots = np.empty((min(horizon + 1, UCB_TABLE_ROWS), 2))
    for t in range(1, roots.shape[0]):
        roots[t, 0] = math.sqrt(params.c * math.log(t))
        roots[t, 1] = 1.0 / math.sqrt(t)
    return roots


@njit(cache=True)
def _ucb_init(params, table, mu):
    k_arms = mu.shape[0]
    z = np.zeros
    return UCBState(z(k_arms), z(k_arms), z(k_arms), z(k_arms), table)


@hot
def _ucb_select(params, state, counts, t, st):
    k_arms = state.est.shape[0]
    if t <= k_arms:
        return round_robin(t, k_arms)
    est, inv_sqrt, work, roots = state.est, state.inv_sqrt, state.work, state.roots
    root = roots[t, 0] if t < roots.shape[0] else math.sqrt(params.c * math.log(t))
    m = -np.inf
    for k in range(k_arms):
        v = est[k] + root * inv_sqrt[k]
        work[k] = v
        m = v if v > m else m
    return argmax_of_max(work, m, st)


@hot
def _ucb_update(params, state, counts, a, x, t):
    record_mean(state.sums, state.est, counts, a, x)
    n = counts[a]
    roots = state.roots
    state.inv_sqrt[a] = roots[n, 1] if n < roots.shape[0] else 1.0 / math.sqrt(n)


register_agent(UCBParams, shared=_ucb_table, init=_ucb_init, select=_ucb_select,
               update=_ucb_update, deploy=deploy_pulled,
               footprint=lambda params, k_arms, horizon: (2 * WORD * _ucb_rows(horizon),
                                                          4 * WORD * k_arms))

#: KL-UCB's index of one arm, or -inf when the arm provably cannot beat ``best``:
#: ``arm_index(params, mean, d, best)`` with d = (ln t + c ln ln t) / N_k.
arm_index = hook("arm_index", ("params", "mean", "d", "best"))


@njit(cache=True, inline="always")
def _bernoulli_index(params, mean, d, best):
    # Pinsker: KL(p, q) >= 2 (q - p)^2, so the index is at most p + sqrt(d / 2).
    hi = min(1.0, mean + math.sqrt(0.5 * d))
    if hi < best:
        return -np.inf
    # KL(p, .) increases on [p, 1]: KL(p, best - tol) > d means the exact index is below
    # best - tol, so even its computed value (at most tol above) loses to best.
    low = best - KLUCB_TOL
    if mean < low and bernoulli_kl(mean, low) > d:
        return -np.inf
    return klucb_index(mean, d, hi)


@njit(cache=True, inline="always")
def _gaussian_index(params, mean, d, best):
    return mean + params.sigma * math.sqrt(2.0 * d)


register(arm_index, KLUCBBernoulliParams, _bernoulli_index)
register(arm_index, KLUCBGaussianParams, _gaussian_index)


@njit(cache=True)
def _klucb_init(params, table, mu):
    return KLUCBState(np.zeros(mu.shape[0]), np.zeros(mu.shape[0]))


@hot
def _klucb_select(params, state, counts, t, st):
    """One scan from the empirical leader, so that the others are pruned early; a reservoir
    draw at each tie with the running maximum. A pruned arm (index -inf) never ties: the
    first arm scanned is never pruned and every index is finite."""
    k_arms = counts.shape[0]
    if t <= k_arms:
        return round_robin(t, k_arms)
    est = state.est
    lt = math.log(t)
    if params.c > 0.0 and t > 1:
        lt += params.c * math.log(max(lt, 1e-300))
    lead = 0
    for k in range(1, k_arms):
        if est[k] > est[lead]:
            lead = k
    best = -np.inf
    idx = 0
    ties = 0
    for j in range(k_arms):
        k = (lead + j) % k_arms
        v = arm_index(params, est[k], lt / counts[k], best)
        if v > best:
            best = v
            idx = k
            ties = 1
        elif v == best:
            ties += 1
            if uniform(st) * ties <= 1.0:
                idx = k
    return idx


for _cls in (KLUCBBernoulliParams, KLUCBGaussianParams):
    register_agent(_cls, init=_klucb_init, select=_klucb_select, update=update_means,
                   deploy=deploy_pulled, footprint=vectors(2))

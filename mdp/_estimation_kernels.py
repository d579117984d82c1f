"""The estimation stage of the MDP pipeline: counts of observed transitions and their models.

:class:`Counts` holds what a model-based learner knows: per slot of a support's CSR rows, the
number N(s, a, s') of observed transitions; per pair, the visits N(s, a) and the sum of the
observed rewards. The support is the true model's (every observed successor is in it, so these
are the dense counts N[s, a, s'] without their zeros) or, for :mod:`mdp.estimators`, the
observed successors themselves.

From the counts, the one-step backups that the agents plan with (mdp/_planning_kernels.py):

* plug-in: R_hat(s, a) + sum_s' P_hat(s' | s, a) v(s') = (Rsum + sum_s' N(s, a, s') v(s')) / N,
  summed in increasing s' and divided once; an unvisited pair is a self-loop with reward 0, so
  its value is v(s);
* posterior mean (PSRL's Dirichlet(1/S) rows, Beta(1, 1) rewards on the range [r_lo, r_lo +
  r_scale]): r_lo + r_scale (1 + Rsum) / (2 + N) + (sum_s v(s) / S + sum_s' N v(s')) / (N + 1);

and PSRL's posterior draw (:func:`sample_posterior`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from tracking.jit import njit
from tracking.rng import TINY, beta, gamma_mt, gamma_small, small_shape


class Counts(NamedTuple):
    """Observed transitions, per CSR slot of a support.

    Attributes
    ----------
    indptr, indices : int64 arrays
        The support's CSR rows (row ``s * A + a``) and successor states.
    transitions : int64[nnz]
        N(s, a, s') for the successor in each slot.
    visits : int64[S*A]
        N(s, a).
    reward_sums : float64[S*A]
        The sum of the rewards stored for (s, a) (PSRL stores them mapped to [0, 1]).
    """

    indptr: np.ndarray
    indices: np.ndarray
    transitions: np.ndarray
    visits: np.ndarray
    reward_sums: np.ndarray


@njit(cache=True)
def new_counts(indptr, indices):
    """Zero counts over the support ``(indptr, indices)``."""
    n_rows = indptr.shape[0] - 1
    return Counts(indptr, indices, np.zeros(indices.shape[0], dtype=np.int64),
                  np.zeros(n_rows, dtype=np.int64), np.zeros(n_rows))


@njit(cache=True, inline="always")
def observe(counts, row, slot, reward):
    """Count one transition of pair ``row`` to the successor in ``slot``, with ``reward``."""
    counts.transitions[slot] += 1
    counts.visits[row] += 1
    counts.reward_sums[row] += reward


@njit(cache=True)
def observe_all(counts, rows, slots, rewards):
    """:func:`observe` for every transition i = 0, 1, ... in order."""
    for i in range(rows.shape[0]):
        observe(counts, rows[i], slots[i], rewards[i])


@njit(cache=True, inline="always")
def _count_weighted(indptr, indices, transitions, row, v, acc):
    """acc + sum over the observed successors s' of ``row`` of N(s, a, s') v(s'), increasing s'."""
    for j in range(indptr[row], indptr[row + 1]):
        c = transitions[j]
        if c > 0:
            acc += c * v[indices[j]]
    return acc


@njit(cache=True, inline="always")
def plug_in_backup(counts, v, q):
    """q(s, a) = R_hat + P_hat v = (Rsum + sum_s' N(s, a, s') v(s')) / N for every pair, or
    v(s) for an unvisited one; q is (S, A)."""
    indptr, indices, transitions, visits, reward_sums = counts
    n_states, n_actions = q.shape
    for s in range(n_states):
        for a in range(n_actions):
            row = s * n_actions + a
            n = visits[row]
            if n == 0:  # unvisited: a self-loop with reward 0
                q[s, a] = v[s]
            else:
                ev = _count_weighted(indptr, indices, transitions, row, v, 0.0)
                q[s, a] = (reward_sums[row] + ev) / n


@njit(cache=True, inline="always")
def posterior_mean_backup(counts, v, v_sum, r_lo, r_scale, q):
    """q(s, a) = R_bar + P_bar v under PSRL's posterior mean, for every pair; q is (S, A).

    P_bar = (N(s, a, .) + 1/S) / (N(s, a) + 1), R_bar = r_lo + r_scale (1 + Rsum) / (2 + N),
    with Rsum the sum of the rewards mapped to [0, 1]; ``v_sum`` = sum_s v(s). The prior's
    share v_sum / S comes first, then the counts in increasing s'.
    """
    indptr, indices, transitions, visits, reward_sums = counts
    n_states, n_actions = q.shape
    prior = v_sum / v.shape[0]
    for s in range(n_states):
        for a in range(n_actions):
            row = s * n_actions + a
            n = visits[row]
            ev = _count_weighted(indptr, indices, transitions, row, v, prior)
            q[s, a] = r_lo + r_scale * (1.0 + reward_sums[row]) / (2.0 + n) + ev / (n + 1.0)


@njit(cache=True, inline="always")
def _normalise_row(probs, base, n, total):
    """probs[base : base + n] holds Gamma variates X (or ln X below TINY, as gamma_small gives
    them) and ``total`` the sum of the X >= TINY in increasing order (0 when there are none):
    divide them by their sum.

    Each X >= TINY is multiplied by 1 / total (the others are below its rounding), an entry
    below TINY becomes exp(ln X - ln total). When every entry is below TINY, in logs:
    exp(ln X - max ln X), summed, times 1 / sum.
    """
    if total > 0.0:
        inv = 1.0 / total
        log_total = math.log(total)
        for i in range(base, base + n):
            x = probs[i]
            probs[i] = x * inv if x > 0.0 else math.exp(x - log_total)
        return
    top = -np.inf
    for i in range(base, base + n):
        top = max(top, probs[i])
    total = 0.0
    for i in range(base, base + n):
        p = math.exp(probs[i] - top)
        probs[i] = p
        total += p
    inv = 1.0 / total
    for i in range(base, base + n):
        probs[i] *= inv


@njit(cache=True)
def sample_posterior(counts, r_lo, r_scale, st, sample, stop):
    """PSRL's draw into ``sample`` (a DenseTabular): one MDP from the posterior.

    Rows ~ Dirichlet(N(s, a, .) + 1/S) over all S states, mean rewards r_lo + r_scale *
    Beta(1 + Rsum, 1 + N - Rsum) with Rsum the sum of the rewards mapped to [0, 1]. The
    Dirichlet is sampled as Gamma variates divided by their sum (:func:`_normalise_row`): a
    state observed N > 0 times takes Gamma(N + 1/S) by Marsaglia and Tsang (2000), every other
    state (most of them) Gamma(1/S) by :func:`tracking.rng.gamma_small` (Liu, Martin and Syring
    2017), whose constants the whole draw shares and whose power 1/(1/S) = S is taken by
    repeated multiplication (with S = 1 the one state's shape 1 takes Marsaglia and Tsang).
    Pairs in row order, states in increasing order, then the row's Beta (the order of the
    draws). Reads ``stop[0]`` at every row and returns at once when it
    is set (the sample partial).
    """
    n_states, n_actions = sample.rewards.shape
    indptr, indices, transitions = counts.indptr, counts.indices, counts.transitions
    probs = sample.probs
    prior = 1.0 / n_states
    shape = small_shape(prior if n_states > 1 else 0.5, n_states)  # (unused when S = 1)
    for row in range(n_states * n_actions):
        if stop[0] != 0:
            return
        j = indptr[row]
        end = indptr[row + 1]
        base = row * n_states
        total = 0.0
        for s2 in range(n_states):
            n = 0
            if j < end and indices[j] == s2:
                n = transitions[j]
                j += 1
            if n > 0 or n_states == 1:
                d = prior + n - 1.0 / 3.0
                x = gamma_mt(st, d, 1.0 / math.sqrt(9.0 * d))
                x = x if x >= TINY else math.log(x)
            else:  # the prior's shape: the most common case
                x = gamma_small(st, shape)
            probs[base + s2] = x
            if x > 0.0:
                total += x
        _normalise_row(probs, base, n_states, total)
        rsum = counts.reward_sums[row]
        sample.rewards[row // n_actions, row % n_actions] = r_lo + r_scale * beta(
            st, 1.0 + rsum, 1.0 + counts.visits[row] - rsum)

"""The environment stage of the MDP pipeline: a tabular model and its simulator, jitted.

:class:`Tabular` is a finite MDP as every kernel reads it: CSR successor rows (row ``s * A + a``
holds the successors ``indices[indptr[row]:indptr[row + 1]]`` of (s, a), strictly increasing,
with probabilities ``probs`` on the same slice) and the mean rewards ``rewards[s, a]``. A row
that holds every state may leave ``indices`` unread (the kernels then read it as the states
``0 .. S - 1``), so ``indices`` may be empty when every row is full (``FiniteMDP._csr()``).
The same record holds the true model, PSRL's sampled models and the solvers' inputs.

Simulation uses common random numbers (tracking/rng.py): the n-th visit of (s, a) in a run
reads the n-th uniform of the counter-based stream keyed by (run seed, s, a) for its successor
and of another stream for a Bernoulli reward; the start state of episode k reads the k-th
uniform of the run's start stream. Every agent therefore sees the same outcomes.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tracking.jit import njit
from tracking.rng import SALT_REWARD, SALT_TRANSITION, counter_uniform, stream_key

#: Salt of the start-state stream.
SALT_START = np.uint64(0x5EED0003)


class Tabular(NamedTuple):
    """A tabular MDP for the kernels: CSR transition rows and mean rewards.

    Attributes
    ----------
    indptr : int64[S*A + 1]
        Row pointers; row ``s * A + a`` belongs to the pair (s, a).
    indices : int64[nnz]
        Successor states (may be empty when every row holds all S states).
    probs : float64[nnz]
        Their probabilities.
    rewards : float64[S, A]
        Mean rewards R(s, a).
    """

    indptr: np.ndarray
    indices: np.ndarray
    probs: np.ndarray
    rewards: np.ndarray


@njit
def sample_row(indptr, probs, row, u):
    """Slot j of CSR row ``row`` chosen by inversion of the uniform ``u``.

    The first slot whose cumulative probability reaches ``u``; the row's last slot when
    rounding leaves the cumulative sum below ``u``.
    """
    acc = 0.0
    last = indptr[row + 1] - 1
    for j in range(indptr[row], last):
        acc += probs[j]
        if u <= acc:
            return j
    return last


@njit
def env_step(model, bernoulli, seed, visits, s, a):
    """The environment's answer to the next visit of (s, a): (CSR slot of s', observed reward).

    The n-th visit (``n = visits[s A + a]``, then incremented) reads the n-th uniform of the
    streams keyed by (run seed, s, a), whatever the agent; the reward is R[s, a], or a
    Bernoulli(R[s, a]) draw when ``bernoulli``. ``model.indices`` must be complete here.
    """
    row = s * model.rewards.shape[1] + a
    n = visits[row]
    visits[row] = n + 1
    j = sample_row(model.indptr, model.probs, row,
                   counter_uniform(stream_key(seed, SALT_TRANSITION, s, a), n))
    if bernoulli:
        u_r = counter_uniform(stream_key(seed, SALT_REWARD, s, a), n)
        return j, 1.0 if u_r <= model.rewards[s, a] else 0.0
    return j, model.rewards[s, a]


@njit
def sample_start(cdf, u):
    """The first state whose cumulative start probability ``cdf[s]`` reaches ``u`` (else S - 1)."""
    for s in range(cdf.shape[0] - 1):
        if u <= cdf[s]:
            return s
    return cdf.shape[0] - 1


@njit
def start_state(cdf, seed, k):
    """The start state of episode k of the run with seed ``seed`` (``cdf`` = cumsum(initial))."""
    return sample_start(cdf, counter_uniform(stream_key(seed, SALT_START, 0, 0), k))


@njit
def start_average(initial, values):
    """sum_s initial(s) values(s), in increasing s: a value from the start distribution."""
    total = 0.0
    for s in range(values.shape[0]):
        total += initial[s] * values[s]
    return total

"""The environment stage of the MDP pipeline: a tabular model and its simulator, jitted.

:class:`Tabular` is a finite MDP as the kernels read it: CSR successor rows (row ``s * A + a``
holds the successors ``indices[indptr[row]:indptr[row + 1]]`` of (s, a), strictly increasing,
with probabilities ``probs`` on the same slice) and the mean rewards ``rewards[s, a]``.
:class:`DenseTabular` is one whose every row holds all S states, stored as the dense rows
``probs[(s A + a) S : (s A + a + 1) S]`` (PSRL's sampled models); :class:`VectorisedDense`
the same for the solvers' dense inputs, summed vectorised. The loops' true model is always a
Tabular, its ``indices`` complete.

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
        Successor states, strictly increasing within each row.
    probs : float64[nnz]
        Their probabilities.
    rewards : float64[S, A]
        Mean rewards R(s, a).
    """

    indptr: np.ndarray
    indices: np.ndarray
    probs: np.ndarray
    rewards: np.ndarray


class DenseTabular(NamedTuple):
    """A tabular MDP whose every row holds all S states (PSRL's sampled models).

    Attributes
    ----------
    probs : float64[S*A*S]
        Row ``s * A + a``, P(. | s, a), is ``probs[(s A + a) S : (s A + a + 1) S]``.
    rewards : float64[S, A]
        Mean rewards R(s, a).
    """

    probs: np.ndarray
    rewards: np.ndarray


class VectorisedDense(NamedTuple):
    """A :class:`DenseTabular` whose rows the planning stage sums as vectorised dot products
    (reassociated, as the discounted solvers do): the solvers' fully dense inputs. Its sums
    may differ in the last bits between machines; the agents never plan on it.
    """

    probs: np.ndarray
    rewards: np.ndarray


class Trajectory(NamedTuple):
    """Observed steps, entry i = (s_i, a_i, CSR slot of s'_i, r_i, s'_i): what the loops hand to
    an agent to learn from (episodic: entry h is step h of the episode)."""

    states: np.ndarray
    actions: np.ndarray
    slots: np.ndarray
    rewards: np.ndarray
    next_states: np.ndarray


@njit(cache=True)
def new_trajectory(length):
    """Room for ``length`` steps (uninitialised: a step is recorded before it is read)."""
    ints = np.empty((4, length), dtype=np.int64)
    return Trajectory(ints[0], ints[1], ints[2], np.empty(length), ints[3])


@njit(cache=True, inline="always")
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


@njit(cache=True, inline="always")
def env_step(indptr, probs, rewards, bernoulli, seed, visits, s, a):
    """The environment's answer to the next visit of (s, a): (CSR slot of s', observed reward).

    The n-th visit (``n = visits[s A + a]``, then incremented) reads the n-th uniform of the
    streams keyed by (run seed, s, a), whatever the agent; the reward is R[s, a], or a
    Bernoulli(R[s, a]) draw when ``bernoulli``. ``indptr``, ``probs`` and ``rewards`` are a
    Tabular's arrays.
    """
    row = s * rewards.shape[1] + a
    n = visits[row]
    visits[row] = n + 1
    j = sample_row(indptr, probs, row, counter_uniform(stream_key(seed, SALT_TRANSITION, s, a), n))
    if bernoulli:
        u_r = counter_uniform(stream_key(seed, SALT_REWARD, s, a), n)
        return j, 1.0 if u_r <= rewards[s, a] else 0.0
    return j, rewards[s, a]


@njit(cache=True, inline="always")
def sample_start(cdf, u):
    """The first state whose cumulative start probability ``cdf[s]`` reaches ``u`` (else S - 1)."""
    for s in range(cdf.shape[0] - 1):
        if u <= cdf[s]:
            return s
    return cdf.shape[0] - 1


@njit(cache=True, inline="always")
def start_state(cdf, seed, k):
    """The start state of episode k of the run with seed ``seed`` (``cdf`` = cumsum(initial))."""
    return sample_start(cdf, counter_uniform(stream_key(seed, SALT_START, 0, 0), k))


@njit(cache=True, inline="always")
def start_average(initial, values):
    """sum_s initial(s) values(s), in increasing s: a value from the start distribution."""
    total = 0.0
    for s in range(values.shape[0]):
        total += initial[s] * values[s]
    return total

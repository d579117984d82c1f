"""Plug-in estimators: transition counts and the empirical model (P_hat, R_hat).

From observed transitions (s, a, r, s'), N(s, a, s') counts the transitions, N(s, a) the visits
and the reward sums give

    P_hat(s' | s, a) = N(s, a, s') / N(s, a),    R_hat(s, a) = sum of rewards / N(s, a).

A pair (s, a) never visited gets the convention of every celab agent: a self-loop with reward 0
(P_hat(s | s, a) = 1, R_hat(s, a) = 0). Counts are kept sparse (CSR over the S * A rows), so
estimators of very large MDPs stay small.

The counting and the one-step backups are the agents' own kernels (mdp/_estimation_kernels.py,
mdp/_planning_kernels.py): :meth:`TransitionCounts.plug_in_backup` and
:meth:`TransitionCounts.posterior_mean_backup` compute, to the bit, what ce-greedy and psrl
plan with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tracking.validate import InputError

from .model import FiniteMDP

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from ._estimation_kernels import Counts


@dataclass(frozen=True)
class TransitionCounts:
    """Counts of observed transitions.

    Attributes
    ----------
    n_states, n_actions : int
    indptr, indices, counts : CSR of N(s, a, s'): row s * A + a holds the observed successors
        ``indices[indptr[row]:indptr[row + 1]]`` (increasing) and their counts.
    visits : int64[S, A]
        N(s, a).
    reward_sums : float64[S, A]
        Sum of the rewards observed after (s, a).
    """

    n_states: int
    n_actions: int
    indptr: np.ndarray
    indices: np.ndarray
    counts: np.ndarray
    visits: np.ndarray
    reward_sums: np.ndarray

    def dense(self) -> np.ndarray:
        """N(s, a, s') as a dense (S, A, S) int64 array."""
        out = np.zeros((self.n_states * self.n_actions, self.n_states), dtype=np.int64)
        rows = np.repeat(np.arange(self.n_states * self.n_actions), np.diff(self.indptr))
        out[rows, self.indices] = self.counts
        return out.reshape(self.n_states, self.n_actions, self.n_states)

    def _kernel_counts(self) -> Counts:
        """The counts as the kernels' :class:`~mdp._estimation_kernels.Counts` record."""
        from ._estimation_kernels import Counts

        return Counts(self.indptr, self.indices, self.counts, self.visits.reshape(-1),
                      self.reward_sums.reshape(-1))

    def _values(self, v: ArrayLike) -> np.ndarray:
        v = np.ascontiguousarray(v, dtype=np.float64)
        if v.shape != (self.n_states,):
            raise InputError(f"v must have shape (S,) = ({self.n_states},), got {v.shape}")
        return v

    def plug_in_backup(self, v: ArrayLike) -> np.ndarray:
        """Q(s, a) = R_hat(s, a) + sum_s' P_hat(s' | s, a) v(s'), (S, A).

        Computed as the agents do: (sum of rewards + sum_s' N(s, a, s') v(s')) / N(s, a), the
        successors in increasing order, one division; v(s) for an unvisited pair.
        """
        from ._planning_kernels import PlugIn, backup_all

        q = np.empty((self.n_states, self.n_actions))
        backup_all(PlugIn(self._kernel_counts(), 0.0), self._values(v), q)
        return q

    def posterior_mean_backup(self, v: ArrayLike, r_lo: float = 0.0,
                              r_scale: float = 1.0) -> np.ndarray:
        """Q(s, a) = R_bar(s, a) + sum_s' P_bar(s' | s, a) v(s') under PSRL's posterior, (S, A).

        P_bar = (N(s, a, .) + 1/S) / (N(s, a) + 1) (Dirichlet(1/S) prior), R_bar = r_lo +
        r_scale (1 + sum u) / (2 + N(s, a)) (Beta(1, 1) prior on the rewards u mapped to [0, 1]:
        the reward sums must hold such u when r_scale != 1 or r_lo != 0).
        """
        from ._planning_kernels import PosteriorMean, backup_all

        q = np.empty((self.n_states, self.n_actions))
        backup_all(PosteriorMean(self._kernel_counts(), float(r_lo), float(r_scale)),
                   self._values(v), q)
        return q

    def model(self, name: str = "plug-in") -> FiniteMDP:
        """The plug-in model (P_hat, R_hat); unvisited pairs are zero-reward self-loops."""
        S, A = self.n_states, self.n_actions
        visits = self.visits.reshape(-1)
        unvisited = np.flatnonzero(visits == 0)
        rows = np.repeat(np.arange(S * A), np.diff(self.indptr))
        all_rows = np.concatenate([rows, unvisited])
        all_cols = np.concatenate([self.indices, unvisited // A])
        all_p = np.concatenate([self.counts / visits[rows], np.ones(unvisited.size)])
        order = np.lexsort((all_cols, all_rows))
        indptr = np.zeros(S * A + 1, dtype=np.int64)
        np.cumsum(np.bincount(all_rows, minlength=S * A), out=indptr[1:])
        r_hat = np.divide(self.reward_sums, self.visits, out=np.zeros((S, A)),
                          where=self.visits > 0)
        return FiniteMDP.from_successors(indptr, all_cols[order], all_p[order], r_hat, name=name)


def _int_column(name: str, x: ArrayLike, upper: int) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise InputError(f"{name} must be a 1-D array of integers")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise InputError(f"{name} must hold integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= upper):
        raise InputError(f"{name} must lie in 0 .. {upper - 1}")
    return arr


def count(n_states: int, n_actions: int, states: ArrayLike, actions: ArrayLike,
          next_states: ArrayLike, rewards: ArrayLike | None = None) -> TransitionCounts:
    """Count the transitions (states[i], actions[i], rewards[i], next_states[i]).

    Parameters
    ----------
    n_states, n_actions : int
        S and A.
    states, actions, next_states : 1-D integer arrays of equal length
    rewards : 1-D float array of the same length, optional (zeros when omitted)
    """
    from tracking.validate import as_int

    S = as_int("n_states", n_states, minimum=1)
    A = as_int("n_actions", n_actions, minimum=1)
    s = _int_column("states", states, S)
    a = _int_column("actions", actions, A)
    s2 = _int_column("next_states", next_states, S)
    r = np.zeros(s.size) if rewards is None else np.asarray(rewards, dtype=np.float64)
    if not (s.size == a.size == s2.size == r.size) or r.ndim != 1:
        raise InputError("states, actions, next_states and rewards must have the same length")
    if not np.all(np.isfinite(r)):
        raise InputError("rewards must be finite")
    from ._estimation_kernels import new_counts, observe_all

    rows = s * A + a
    keys, slots = np.unique(rows * S + s2, return_inverse=True)
    indptr = np.zeros(S * A + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys // S, minlength=S * A), out=indptr[1:])
    counts = new_counts(indptr, (keys % S).astype(np.int64))
    observe_all(counts, rows, slots.astype(np.int64).reshape(-1), np.ascontiguousarray(r))
    return TransitionCounts(S, A, counts.indptr, counts.indices, counts.transitions,
                            counts.visits.reshape(S, A), counts.reward_sums.reshape(S, A))


def plug_in(n_states: int, n_actions: int, states: ArrayLike, actions: ArrayLike,
            next_states: ArrayLike, rewards: ArrayLike | None = None,
            name: str = "plug-in") -> FiniteMDP:
    """The plug-in model (P_hat, R_hat) of observed transitions; see :func:`count`."""
    return count(n_states, n_actions, states, actions, next_states, rewards).model(name)

"""The tabular MDP model: :class:`FiniteMDP`, stored as CSR successor lists.

A finite MDP is a transition kernel ``P[s, a, s']``, an expected reward ``R[s, a]`` and a start
distribution ``initial[s]``. Whatever the input, the kernel is stored sparse: the pair (s, a) is
row ``s * A + a`` of a CSR matrix with ``S * A`` rows and ``S`` columns,

    successors of (s, a)    = indices[indptr[row]:indptr[row + 1]]   (strictly increasing)
    their probabilities     = probs[indptr[row]:indptr[row + 1]]     (all > 0, summing to 1)

so an MDP with 10^5 states and 10 successors per pair takes tens of megabytes, and celab's
kernels read exactly these arrays. Construction validates the input in one pass (the field
checks of mdp/_validation.py, the jitted checks of mdp/_model_kernels.py, imported when a model
is built, so that this module imports without numba); the file formats are in mdp/formats.py.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from tracking import memory
from tracking.validate import InputError

from ._validation import (
    _OK,
    SUM_TOL,
    SUM_TOL_TEXT,
    _check_initial,
    _check_name,
    _check_R,
    _float_array,
    _int_array,
    _owned,
    _raise,
    _readonly,
)

__all__ = ["DENSE_LIMIT_BYTES", "SUM_TOL", "SUM_TOL_TEXT", "FiniteMDP"]

#: The dense ``P`` is refused above this many bytes.
DENSE_LIMIT_BYTES = 2 * 1024**3

_NO_INDICES = np.empty(0, dtype=np.int64)
_NO_INDICES.setflags(write=False)


class FiniteMDP:
    """A finite MDP ``(P, R, initial)`` with S states and A actions, stored as CSR rows.

    Parameters
    ----------
    P : array-like, shape (S, A, S)
        ``P[s, a, s']`` = probability of moving to ``s'`` when taking ``a`` in ``s``; every
        row ``P[s, a]`` is a distribution (non-negative, summing to 1 within 1e-8).
    R : array-like, shape (S, A)
        Expected reward ``R[s, a]`` of taking ``a`` in ``s``.
    initial : array-like, shape (S,), optional
        Start distribution; default all mass on state 0.
    name : str, optional
        Display name; default ``"mdp"``.

    Attributes
    ----------
    n_states, n_actions : int
        S and A.
    indptr : int64[S*A + 1]
        Row pointers; row ``s * A + a`` belongs to the pair (s, a).
    indices : int64[nnz]
        Successor states, strictly increasing within each row.
    probs : float64[nnz]
        Their probabilities (all > 0).
    R : float64[S, A]
        Expected rewards (C-contiguous).
    initial : float64[S]
        Start distribution.
    P : float64[S, A, S]
        Dense transition array, built on first access and cached (refused above 2 GiB).
    source : dict or None
        How the MDP was built, e.g. ``{"env": "riverswim", "args": {"n_states": 6}}``; used by
        :meth:`config`.

    All arrays are read-only. Construction validates everything (shapes, finiteness, P >= 0,
    row sums, the start distribution) in one jitted pass over P and raises ValueError naming the
    first bad field. That pass also keeps the row sums ``P 1`` and ``P (max_a R)`` (S*A numbers
    each), from which :func:`mdp.solve` takes its first Bellman sweep without reading P again.
    """

    def __init__(self, P: Any, R: Any, initial: Any = None, name: str | None = None) -> None:
        from ._model_kernels import _dense_check, _dense_fill

        P = _float_array("P", P)
        if P.ndim != 3 or P.shape[0] < 1 or P.shape[1] < 1 or P.shape[2] != P.shape[0]:
            raise InputError(f"P must have shape (S, A, S) with S, A >= 1, got {P.shape}")
        n_states, n_actions = int(P.shape[0]), int(P.shape[1])
        R = _check_R(R, n_states, n_actions)
        P2 = np.ascontiguousarray(P).reshape(n_states * n_actions, n_states)
        indptr = np.empty(n_states * n_actions + 1, dtype=np.int64)
        # A full first row suggests a dense P: copy it while validating (one read of P).
        # Otherwise validate, then gather the nonzeros in a second pass (no S*A*S buffer).
        full = P2.size if bool(np.all(P2[0] > 0.0)) else 0
        probs = np.empty(full, dtype=np.float64)
        rmax = R.max(axis=1)
        row_sums = np.empty(n_states * n_actions)
        p_rmax = np.empty(n_states * n_actions)
        nnz, code, row, j, value = _dense_check(P2, SUM_TOL, rmax, indptr, probs, row_sums,
                                                p_rmax)
        if code != _OK:
            _raise(code, row // n_actions, row % n_actions, j, value)
        if nnz == P2.size:  # (then the first row was full and probs holds the copy)
            # every row is full: the successor lists are 0..S-1, built only if asked for
            indices = None
        else:
            indices = np.empty(nnz, dtype=np.int64)
            probs = np.empty(nnz, dtype=np.float64)
            _dense_fill(P2, indptr, indices, probs)
        self._set(n_states, n_actions, indptr, indices, probs, R,
                  _check_initial(initial, n_states), _check_name(name), row_sums, p_rmax)

    @classmethod
    def from_successors(cls, indptr: Any, indices: Any, probs: Any, R: Any, initial: Any = None,
                        name: str | None = None, *, copy: bool = True) -> FiniteMDP:
        """Build from CSR successor lists directly (no dense array is ever formed).

        ``R`` (S, A) fixes S and A; ``indptr`` (S*A + 1,) gives row ``s*A + a`` as the slice
        ``indptr[row]:indptr[row + 1]`` of ``indices`` (successors, strictly increasing within
        a row, in ``[0, S)``) and ``probs`` (their probabilities, >= 0, each row summing to 1
        within 1e-8). Zero probabilities are dropped. The arrays are copied, unless
        ``copy=False``: then arrays that already are contiguous int64/float64 are kept (and made
        read-only), which saves memory for large models the caller will not modify.
        """
        from ._model_kernels import _check_csr, _drop_zeros

        R_arr = _float_array("R", R)
        if R_arr.ndim != 2 or R_arr.shape[0] < 1 or R_arr.shape[1] < 1:
            raise InputError(f"R must have shape (S, A) with S, A >= 1, got {R_arr.shape}")
        n_states, n_actions = int(R_arr.shape[0]), int(R_arr.shape[1])
        R_arr = _check_R(R_arr, n_states, n_actions)
        indptr_in, indices_in, probs_in = indptr, indices, probs
        indptr = _int_array("indptr", indptr)
        indices = _int_array("indices", indices)
        probs = _float_array("probs", probs)
        if probs.ndim != 1:
            raise InputError(f"probs must be 1-D, got shape {probs.shape}")
        n_rows = n_states * n_actions
        if indptr.shape[0] != n_rows + 1:
            raise InputError(f"indptr must have length S*A + 1 = {n_rows + 1}, got "
                             f"{indptr.shape[0]}")
        if indices.shape[0] != probs.shape[0]:
            raise InputError(f"indices and probs must have the same length, got "
                             f"{indices.shape[0]} and {probs.shape[0]}")
        if indptr[0] != 0 or indptr[-1] != indices.shape[0] or np.any(np.diff(indptr) < 0):
            raise InputError(f"indptr must start at 0, never decrease and end at len(indices) = "
                             f"{indices.shape[0]}")
        probs = np.ascontiguousarray(probs, dtype=np.float64)
        row_sums = np.empty(n_rows)
        p_rmax = np.empty(n_rows)
        zeros, code, s, a, j, value = _check_csr(indptr, indices, probs, n_states, n_actions,
                                                 SUM_TOL, R_arr.max(axis=1), row_sums, p_rmax)
        if code != _OK:
            _raise(code, s, a, j, value)
        if zeros:
            nnz = indices.shape[0] - zeros
            new = (np.empty_like(indptr), np.empty(nnz, np.int64), np.empty(nnz, np.float64))
            _drop_zeros(indptr, indices, probs, *new)
            indptr, indices, probs = new
        elif copy:
            # private copies, so that the caller's arrays may change without touching the model
            indptr, indices, probs = (_owned(x, orig) for x, orig in
                                      ((indptr, indptr_in), (indices, indices_in),
                                       (probs, probs_in)))
        self = cls.__new__(cls)
        self._set(n_states, n_actions, indptr, indices, probs, R_arr,
                  _check_initial(initial, n_states), _check_name(name), row_sums, p_rmax)
        return self

    def _set(self, n_states: int, n_actions: int, indptr: np.ndarray,
             indices: np.ndarray | None, probs: np.ndarray, R: np.ndarray, initial: np.ndarray,
             name: str, row_sums: np.ndarray, p_rmax: np.ndarray) -> None:
        self._n_states = n_states
        self._n_actions = n_actions
        self._indptr = _readonly(indptr)
        # None when every row holds all S states (dense input): see the ``indices`` property
        self._indices = None if indices is None else _readonly(indices)
        self._probs = _readonly(probs)
        self._R = R
        self._initial = initial
        self.name = name
        self.source: dict | None = None
        self._P: np.ndarray | None = None
        # P 1 and P (max_a R), by-products of the validation pass: see _first_products
        self._row_sums = _readonly(row_sums.reshape(n_states, n_actions))
        self._p_rmax = _readonly(p_rmax.reshape(n_states, n_actions))

    # read-only views ---------------------------------------------------------------------
    @property
    def n_states(self) -> int:
        """Number of states S."""
        return self._n_states

    @property
    def n_actions(self) -> int:
        """Number of actions A."""
        return self._n_actions

    @property
    def indptr(self) -> np.ndarray:
        """int64[S*A + 1]: row pointers of the successor lists (row of (s, a) is s*A + a)."""
        return self._indptr

    @property
    def indices(self) -> np.ndarray:
        """int64[nnz]: successor states, strictly increasing within each row.

        When every row holds all S states (a fully dense P), this is ``0..S-1`` repeated S*A
        times; it is then built on first access, since the kernels read full rows without it.
        """
        if self._indices is None:
            self._indices = _readonly(np.tile(np.arange(self._n_states, dtype=np.int64),
                                              self._n_states * self._n_actions))
        return self._indices

    def _csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(indptr, indices, probs)`` for celab's own kernels, without building implicit
        indices: ``indices`` is empty when every row is full, and the kernels read a row of
        length S as the states ``0..S-1`` without touching ``indices``."""
        indices = self._indices if self._indices is not None else _NO_INDICES
        return self._indptr, indices, self._probs

    @property
    def probs(self) -> np.ndarray:
        """float64[nnz]: transition probabilities (> 0) aligned with :attr:`indices`."""
        return self._probs

    @property
    def R(self) -> np.ndarray:
        """float64[S, A]: expected rewards."""
        return self._R

    @property
    def initial(self) -> np.ndarray:
        """float64[S]: start distribution."""
        return self._initial

    @property
    def nnz(self) -> int:
        """Number of stored transitions (nonzero entries of P)."""
        return int(self._probs.shape[0])

    @property
    def P(self) -> np.ndarray:
        """float64[S, A, S]: the dense transition array (built on first access, then cached).

        Raises ValueError when it would take more than 2 GiB.
        """
        if self._P is None:
            S, A = self._n_states, self._n_actions
            size = S * A * S * 8
            if size > DENSE_LIMIT_BYTES:
                raise InputError(f"dense P of shape ({S}, {A}, {S}) would take {size / 2**30:.1f} "
                                 "GiB (limit 2 GiB); use the CSR arrays indptr/indices/probs")
            memory.check(size, f"dense P of shape ({S}, {A}, {S})")
            if self._indices is None:  # full rows: probs is P in row-major order
                self._P = self._probs.reshape(S, A, S)
            else:
                from ._model_kernels import _csr_to_dense

                dense = np.zeros((S * A, S))
                _csr_to_dense(self._indptr, self._indices, self._probs, dense)
                self._P = _readonly(dense.reshape(S, A, S))
        return self._P

    def _first_products(self, c: float) -> np.ndarray:
        """``P (max_a R + c)`` as (S, A), from the validation pass's by-products ``P max_a R``
        and ``P 1``: the first Bellman sweep of :func:`mdp.solve`, without reading P again."""
        return self._p_rmax + c * self._row_sums

    def successors(self, s: int, a: int) -> tuple[np.ndarray, np.ndarray]:
        """``(states, probabilities)`` reachable from (s, a)."""
        row = int(s) * self._n_actions + int(a)
        lo, hi = self._indptr[row], self._indptr[row + 1]
        return self.indices[lo:hi], self._probs[lo:hi]

    def config(self) -> dict:
        """A TOML-able description: ``{"env": name, "args": {...}}`` for built-in environments,
        ``{"file": path}`` for loaded files, else the name and sizes."""
        if self.source is not None:
            return json.loads(json.dumps(self.source))
        return {"name": self.name, "n_states": self._n_states, "n_actions": self._n_actions,
                "nnz": self.nnz}

    def __repr__(self) -> str:
        return (f"FiniteMDP(name={self.name!r}, n_states={self._n_states}, "
                f"n_actions={self._n_actions}, nnz={self.nnz})")


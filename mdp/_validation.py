"""Input validation of :class:`mdp.FiniteMDP`: jitted one-pass checks and field checks.

The jitted kernels read a transition array once (dense ``P`` or CSR successor lists), checking
finiteness, signs, row sums and successor order while they gather what the model keeps (CSR
rows, row sums ``P 1`` and products ``P max_a R``); :func:`_raise` turns their error codes into
one-line ValueErrors naming the entry. The field checks validate ``R``, ``initial``, the name
and the integer arrays shared by both constructors.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tracking.jit import njit

#: Tolerance on the sum of every probability row and of the start distribution.
SUM_TOL = 1e-8
SUM_TOL_TEXT = "1e-8"

# Error codes of the validation kernels.
_OK, _NONFINITE, _NEGATIVE, _BADSUM, _RANGE, _ORDER = range(6)


# --------------------------------------------------------------------------------------------
# jitted validation and conversion: one pass over the input
# --------------------------------------------------------------------------------------------


@njit(cache=True, fastmath={"reassoc", "nsz"})
def _row_stats(row, rmax, out, copy):
    """Sum, dot product with ``rmax``, numbers of positive and of negative entries of ``row``
    (vectorised; copied to ``out`` when ``copy``). No finiteness test here: fastmath code may not
    see NaN."""
    total = 0.0
    dot = 0.0
    pos = 0
    neg = 0
    if copy:
        for j in range(row.shape[0]):
            x = row[j]
            out[j] = x
            total += x
            dot += x * rmax[j]
            pos += x > 0.0
            neg += x < 0.0
    else:
        for j in range(row.shape[0]):
            x = row[j]
            total += x
            dot += x * rmax[j]
            pos += x > 0.0
            neg += x < 0.0
    return total, dot, pos, neg


@njit(cache=True)
def _dense_check(P2, tol, rmax, indptr, copy_out, row_sums, p_rmax):
    """Validate the dense rows ``P2`` (S*A, S) and fill ``indptr`` with their nonzero counts.

    Reads P once: row sums (kept in ``row_sums``), products ``P rmax`` (kept in ``p_rmax``, see
    FiniteMDP._first_products) and counts of positive and negative entries, copying P to
    ``copy_out`` on the way when that has S*A*S entries (else pass an empty array). A NaN or an
    infinity makes the row sum non-finite, and only then is the row searched for it. Returns
    ``(nnz, code, row, j, value)``: code 0 on success, else the first offending row (and entry).
    """
    n_rows, n_states = P2.shape
    copy = copy_out.shape[0] == n_rows * n_states
    k = 0
    indptr[0] = 0
    for r in range(n_rows):
        row = P2[r]
        out = copy_out[r * n_states:(r + 1) * n_states] if copy else copy_out
        total, dot, pos, neg = _row_stats(row, rmax, out, copy)
        if neg > 0 or not math.isfinite(total):
            for j in range(n_states):
                if not math.isfinite(row[j]):
                    return k, _NONFINITE, r, j, row[j]
            for j in range(n_states):
                if row[j] < 0.0:
                    return k, _NEGATIVE, r, j, row[j]
        if not abs(total - 1.0) <= tol:
            return k, _BADSUM, r, -1, total
        row_sums[r] = total
        p_rmax[r] = dot
        k += pos
        indptr[r + 1] = k
    return k, _OK, -1, -1, 0.0


@njit(cache=True)
def _dense_fill(P2, indptr, indices, probs):
    """Write the positive entries of each row of ``P2`` into the CSR buffers (sized by indptr)."""
    n_rows, n_states = P2.shape
    for r in range(n_rows):
        row = P2[r]
        k = indptr[r]
        for j in range(n_states):
            x = row[j]
            if x > 0.0:
                indices[k] = j
                probs[k] = x
                k += 1


@njit(cache=True)
def _check_csr(indptr, indices, probs, n_states, n_actions, tol, rmax, row_sums, p_rmax):
    """Validate CSR successor lists in one pass; returns ``(zeros, code, s, a, j, value)``.

    ``zeros`` counts the entries equal to 0 (to be dropped). For code ``_RANGE``/``_ORDER``
    ``j`` is the position in ``indices``; otherwise (s, a) names the row. Also fills
    ``row_sums`` and ``p_rmax = P rmax`` (see FiniteMDP._first_products).
    """
    zeros = 0
    for s in range(n_states):
        for a in range(n_actions):
            row = s * n_actions + a
            total = 0.0
            dot = 0.0
            prev = -1
            for j in range(indptr[row], indptr[row + 1]):
                c = indices[j]
                if c < 0 or c >= n_states:
                    return zeros, _RANGE, s, a, j, float(c)
                if c <= prev:
                    return zeros, _ORDER, s, a, j, float(c)
                prev = c
                x = probs[j]
                if not math.isfinite(x):
                    return zeros, _NONFINITE, s, a, c, x
                if x < 0.0:
                    return zeros, _NEGATIVE, s, a, c, x
                if x == 0.0:
                    zeros += 1
                total += x
                dot += x * rmax[c]
            if not abs(total - 1.0) <= tol:
                return zeros, _BADSUM, s, a, -1, total
            row_sums[row] = total
            p_rmax[row] = dot
    return zeros, _OK, -1, -1, -1, 0.0


@njit(cache=True)
def _drop_zeros(indptr, indices, probs, new_indptr, new_indices, new_probs):
    """Copy the CSR arrays without their zero entries."""
    k = 0
    new_indptr[0] = 0
    for row in range(indptr.shape[0] - 1):
        for j in range(indptr[row], indptr[row + 1]):
            if probs[j] != 0.0:
                new_indices[k] = indices[j]
                new_probs[k] = probs[j]
                k += 1
        new_indptr[row + 1] = k


@njit(cache=True)
def _csr_to_dense(indptr, indices, probs, out):
    """Scatter the CSR rows into the dense (S*A, S) ``out`` (zeroed)."""
    for row in range(indptr.shape[0] - 1):
        for j in range(indptr[row], indptr[row + 1]):
            out[row, indices[j]] = probs[j]


def _raise(code: int, s: int, a: int, j: int, value: float) -> None:
    if code == _NONFINITE:
        raise ValueError(f"P[{s}, {a}, {j}] is {value!r} (must be finite)")
    if code == _NEGATIVE:
        raise ValueError(f"P[{s}, {a}, {j}] is {value:.12g} (must be >= 0)")
    if code == _BADSUM:
        raise ValueError(f"P[{s}, {a}] sums to {value:.12g} (must be 1 within {SUM_TOL_TEXT})")
    if code == _RANGE:
        raise ValueError(f"indices[{j}] = {int(value)} (successor of ({s}, {a})) is out of "
                         "range [0, S)")
    if code == _ORDER:
        raise ValueError(f"indices must be strictly increasing within each row: indices[{j}] = "
                         f"{int(value)} (successor of ({s}, {a})) repeats or goes back")


# --------------------------------------------------------------------------------------------
# field checks shared by both constructors
# --------------------------------------------------------------------------------------------


def _float_array(name: str, value: Any) -> np.ndarray:
    """``value`` as a float64 ndarray, or ValueError naming ``name``."""
    if isinstance(value, np.ndarray) and value.dtype == np.float64:
        return value
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array of numbers ({exc})") from None
    if arr.dtype == np.bool_ or arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be an array of numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def _int_array(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-D array of integers ({exc})") from None
    if arr.ndim != 1 or not (arr.dtype.kind in "iu" or (arr.size == 0 and arr.dtype.kind == "f")):
        raise ValueError(f"{name} must be a 1-D array of integers, got dtype {arr.dtype} and "
                         f"shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _first_nonfinite(name: str, arr: np.ndarray) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = ", ".join(str(i) for i in idx)
        raise ValueError(f"{name}[{where}] is {float(arr[idx])!r} (must be finite)")


def _check_R(R: Any, n_states: int, n_actions: int) -> np.ndarray:
    arr = _float_array("R", R)
    if arr.shape != (n_states, n_actions):
        raise ValueError(f"R must have shape (S, A) = ({n_states}, {n_actions}), got {arr.shape}")
    _first_nonfinite("R", arr)
    out = np.array(arr, dtype=np.float64, order="C", copy=True)
    out.setflags(write=False)
    return out


def _check_initial(initial: Any, n_states: int) -> np.ndarray:
    if initial is None:
        out = np.zeros(n_states)
        out[0] = 1.0
    else:
        arr = _float_array("initial", initial)
        if arr.ndim != 1 or arr.shape[0] != n_states:
            raise ValueError(f"initial must be a distribution of length S = {n_states}, got shape "
                             f"{arr.shape}")
        _first_nonfinite("initial", arr)
        neg = np.flatnonzero(arr < 0.0)
        if neg.size:
            raise ValueError(f"initial[{neg[0]}] is {arr[neg[0]]:.12g} (must be >= 0)")
        total = float(arr.sum())
        if abs(total - 1.0) > SUM_TOL:
            raise ValueError(f"initial sums to {total:.12g} (must be 1 within {SUM_TOL_TEXT})")
        out = np.array(arr, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


def _check_name(name: Any) -> str:
    if name is None:
        return "mdp"
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    return name


def _owned(arr: np.ndarray, original: Any) -> np.ndarray:
    """``arr``, copied if it may share memory with the caller's ``original``."""
    if isinstance(original, np.ndarray) and np.may_share_memory(arr, original):
        return arr.copy()
    return arr


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


"""Input validation of :class:`mdp.FiniteMDP`, without numba: the field checks and the errors.

The jitted kernels of mdp/_model_kernels.py read a transition array once (dense ``P`` or CSR
successor lists), checking finiteness, signs, row sums and successor order, and report the
first offending entry by an error code of this module; :func:`_raise` turns it into a one-line
ValueError naming the entry. The field checks validate ``R``, ``initial``, the name and the
integer arrays shared by both constructors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tracking.validate import InputError

#: Tolerance on the sum of every probability row and of the start distribution.
SUM_TOL = 1e-8
SUM_TOL_TEXT = "1e-8"

# Error codes of the validation kernels (mdp/_model_kernels.py).
_OK, _NONFINITE, _NEGATIVE, _BADSUM, _RANGE, _ORDER = range(6)


def _raise(code: int, s: int, a: int, j: int, value: float) -> None:
    if code == _NONFINITE:
        raise InputError(f"P[{s}, {a}, {j}] is {value!r} (must be finite)")
    if code == _NEGATIVE:
        raise InputError(f"P[{s}, {a}, {j}] is {value:.12g} (must be >= 0)")
    if code == _BADSUM:
        raise InputError(f"P[{s}, {a}] sums to {value:.12g} (must be 1 within {SUM_TOL_TEXT})")
    if code == _RANGE:
        raise InputError(f"indices[{j}] = {int(value)} (successor of ({s}, {a})) is out of "
                         "range [0, S)")
    if code == _ORDER:
        raise InputError(f"indices must be strictly increasing within each row: indices[{j}] = "
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
        raise InputError(f"{name} must be a rectangular array of numbers ({exc})") from None
    if arr.dtype == np.bool_ or arr.dtype.kind not in "iuf":
        raise InputError(f"{name} must be an array of numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def _int_array(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a 1-D array of integers ({exc})") from None
    if arr.ndim != 1 or not (arr.dtype.kind in "iu" or (arr.size == 0 and arr.dtype.kind == "f")):
        raise InputError(f"{name} must be a 1-D array of integers, got dtype {arr.dtype} and "
                         f"shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _first_nonfinite(name: str, arr: np.ndarray) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = ", ".join(str(i) for i in idx)
        raise InputError(f"{name}[{where}] is {float(arr[idx])!r} (must be finite)")


def _check_R(R: Any, n_states: int, n_actions: int) -> np.ndarray:
    arr = _float_array("R", R)
    if arr.shape != (n_states, n_actions):
        raise InputError(f"R must have shape (S, A) = ({n_states}, {n_actions}), got {arr.shape}")
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
            raise InputError(f"initial must be a distribution of length S = {n_states}, got shape "
                             f"{arr.shape}")
        _first_nonfinite("initial", arr)
        neg = np.flatnonzero(arr < 0.0)
        if neg.size:
            raise InputError(f"initial[{neg[0]}] is {arr[neg[0]]:.12g} (must be >= 0)")
        total = float(arr.sum())
        if abs(total - 1.0) > SUM_TOL:
            raise InputError(f"initial sums to {total:.12g} (must be 1 within {SUM_TOL_TEXT})")
        out = np.array(arr, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


def _check_name(name: Any) -> str:
    if name is None:
        return "mdp"
    if not isinstance(name, str) or not name:
        raise InputError(f"name must be a non-empty string, got {name!r}")
    return name


def _owned(arr: np.ndarray, original: Any) -> np.ndarray:
    """``arr``, copied if it may share memory with the caller's ``original``."""
    if isinstance(original, np.ndarray) and np.may_share_memory(arr, original):
        return arr.copy()
    return arr


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


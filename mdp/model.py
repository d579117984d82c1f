"""The tabular MDP model: :class:`FiniteMDP`, stored as CSR successor lists, and its file formats.

A finite MDP is a transition kernel ``P[s, a, s']``, an expected reward ``R[s, a]`` and a start
distribution ``initial[s]``. Whatever the input, the kernel is stored sparse: the pair (s, a) is
row ``s * A + a`` of a CSR matrix with ``S * A`` rows and ``S`` columns,

    successors of (s, a)    = indices[indptr[row]:indptr[row + 1]]   (strictly increasing)
    their probabilities     = probs[indptr[row]:indptr[row + 1]]     (all > 0, summing to 1)

so an MDP with 10^5 states and 10 successors per pair takes tens of megabytes, and the solvers'
kernels (mdp/_solver_kernels.py) read exactly these arrays.

Files (see docs/solvers.md): JSON, dense ``{"P", "R", "initial", "name"}`` or sparse
``{"n_states", "n_actions", "transitions": [[s, a, s_next, p], ...], "R", "initial", "name"}``,
and ``.npz`` holding ``P`` or ``indptr``/``indices``/``probs`` with ``R``, ``initial``, ``name``
(read without pickle).
"""

from __future__ import annotations

import json
import numbers
from pathlib import Path
from typing import Any

import numpy as np

from tracking import memory
from tracking.validate import existing_file

#: Tolerance on the sum of every probability row and of the start distribution.
SUM_TOL = 1e-8
SUM_TOL_TEXT = "1e-8"
#: The dense ``P`` is refused above this many bytes.
DENSE_LIMIT_BYTES = 2 * 1024**3
#: ``save`` writes the dense forms up to this many entries of P, the sparse ones above.
DENSE_SAVE_LIMIT = 65_536

_NO_INDICES = np.empty(0, dtype=np.int64)
_NO_INDICES.setflags(write=False)

# Error codes of the validation kernels (mdp/_model_kernels.py, imported when a model is built,
# so that this module imports without numba).
_OK, _NONFINITE, _NEGATIVE, _BADSUM, _RANGE, _ORDER = range(6)


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
            raise ValueError(f"P must have shape (S, A, S) with S, A >= 1, got {P.shape}")
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
            raise ValueError(f"R must have shape (S, A) with S, A >= 1, got {R_arr.shape}")
        n_states, n_actions = int(R_arr.shape[0]), int(R_arr.shape[1])
        R_arr = _check_R(R_arr, n_states, n_actions)
        indptr_in, indices_in, probs_in = indptr, indices, probs
        indptr = _int_array("indptr", indptr)
        indices = _int_array("indices", indices)
        probs = _float_array("probs", probs)
        if probs.ndim != 1:
            raise ValueError(f"probs must be 1-D, got shape {probs.shape}")
        n_rows = n_states * n_actions
        if indptr.shape[0] != n_rows + 1:
            raise ValueError(f"indptr must have length S*A + 1 = {n_rows + 1}, got "
                             f"{indptr.shape[0]}")
        if indices.shape[0] != probs.shape[0]:
            raise ValueError(f"indices and probs must have the same length, got "
                             f"{indices.shape[0]} and {probs.shape[0]}")
        if indptr[0] != 0 or indptr[-1] != indices.shape[0] or np.any(np.diff(indptr) < 0):
            raise ValueError(f"indptr must start at 0, never decrease and end at len(indices) = "
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

    def _set(self, n_states, n_actions, indptr, indices, probs, R, initial, name, row_sums,
             p_rmax) -> None:
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
                raise ValueError(f"dense P of shape ({S}, {A}, {S}) would take {size / 2**30:.1f} "
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


# --------------------------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------------------------

_DENSE_KEYS = {"P", "R"}
_SPARSE_JSON_KEYS = {"n_states", "n_actions", "transitions", "R"}
_SPARSE_NPZ_KEYS = {"indptr", "indices", "probs", "R"}
_OPTIONAL_KEYS = {"initial", "name"}


def save(m: FiniteMDP, path: str | Path, *, sparse: bool | None = None) -> Path:
    """Write ``m`` to ``path`` (``.json`` or ``.npz``) atomically (temporary file + rename).

    ``sparse=None`` writes the dense form (``P`` as an S x A x S array) when S*A*S <= 65536 and
    the sparse form (transition list / CSR arrays) above.
    """
    from tracking.results import write_atomic

    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".json", ".npz"):
        raise ValueError(f"{path.name}: unknown model file extension {path.suffix!r} (use .json "
                         "or .npz)")
    S, A = m.n_states, m.n_actions
    if sparse is None:
        sparse = S * A * S > DENSE_SAVE_LIMIT
    if ext == ".json":
        doc: dict[str, Any]
        if sparse:
            rows = np.repeat(np.arange(S * A), np.diff(m.indptr))
            transitions = [[int(r // A), int(r % A), int(c), float(p)]
                           for r, c, p in zip(rows.tolist(), m.indices.tolist(), m.probs.tolist())]
            doc = {"n_states": S, "n_actions": A, "transitions": transitions}
        else:
            doc = {"P": m.P.tolist()}
        doc.update({"R": m.R.tolist(), "initial": m.initial.tolist(), "name": m.name})
        write_atomic(path, json.dumps(doc, allow_nan=False) + "\n")
    else:
        import io

        arrays: dict[str, np.ndarray]
        if sparse:
            arrays = {"indptr": m.indptr, "indices": m.indices, "probs": m.probs}
        else:
            arrays = {"P": m.P}
        arrays.update({"R": m.R, "initial": m.initial, "name": np.array(m.name, dtype=np.str_)})
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        write_atomic(path, buf.getvalue())
    return path


def load(path: str | Path) -> FiniteMDP:
    """Read a model saved by :func:`save` (or written by hand) from ``.json`` or ``.npz``.

    Any problem -- unreadable or non-UTF-8 file, invalid JSON, missing or unknown keys, wrong
    types, ragged lists, pickled objects, an invalid MDP -- raises ValueError with a one-line
    message starting with the file name.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext in (".json", ".npz"):
        existing_file(path)
    try:
        if ext == ".json":
            m = _load_json(path)
        elif ext == ".npz":
            m = _load_npz(path)
        else:
            raise ValueError(f"unknown model file extension {path.suffix!r} (use .json or .npz)")
    except ValueError as exc:
        msg = " ".join(str(exc).split())
        raise ValueError(f"{path.name}: {msg}") from None
    m.source = {"file": str(path)}
    return m


def _check_keys(keys: set[str], required: set[str], form: str) -> None:
    missing = sorted(required - keys)
    if missing:
        raise ValueError(f"missing key {missing[0]!r} for the {form} form")
    extra = sorted(keys - required - _OPTIONAL_KEYS)
    if extra:
        allowed = ", ".join(sorted(required | _OPTIONAL_KEYS))
        raise ValueError(f"unknown key {extra[0]!r} (allowed in the {form} form: {allowed})")


def _nested(name: str, obj: Any, depth: int) -> np.ndarray:
    """A rectangular nested list of numbers (JSON) of the given depth as a float64 array."""
    shape: list[int] = []
    probe = obj
    for d in range(depth):
        if not isinstance(probe, list) or not probe:
            where = "[0]" * d
            raise ValueError(f"{name}{where} must be a non-empty list (expected {depth} levels of "
                             "nested lists)")
        shape.append(len(probe))
        probe = probe[0]

    def walk(x: Any, d: int, where: str) -> None:
        if d == depth:
            if isinstance(x, bool) or not isinstance(x, numbers.Real):
                raise ValueError(f"{name}{where} must be a number, got {x!r}")
            return
        if not isinstance(x, list):
            raise ValueError(f"{name}{where} must be a list, got {x!r}")
        if len(x) != shape[d]:
            raise ValueError(f"{name}{where} has length {len(x)}, expected {shape[d]} (ragged "
                             "lists)")
        for i, y in enumerate(x):
            walk(y, d + 1, f"{where}[{i}]")

    walk(obj, 0, "")
    try:
        return np.array(obj, dtype=np.float64)
    except OverflowError:
        raise ValueError(f"{name} holds a number too large for a float") from None


def _json_int(name: str, x: Any, minimum: int = 0) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or x < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
    return x


def _load_json(path: Path) -> FiniteMDP:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read the file ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at line {exc.lineno}, column "
                         f"{exc.colno})") from None
    except RecursionError:
        raise ValueError("not valid JSON (nested too deeply)") from None
    if not isinstance(doc, dict):
        raise ValueError(f"must hold a JSON object, got {type(doc).__name__}")
    keys = set(doc)
    sparse = "transitions" in keys or "n_states" in keys
    _check_keys(keys, _SPARSE_JSON_KEYS if sparse else _DENSE_KEYS, "sparse" if sparse else "dense")
    name = doc.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError(f"name must be a string, got {name!r}")
    initial = None if doc.get("initial") is None else _nested("initial", doc["initial"], 1)
    if sparse:
        S = _json_int("n_states", doc["n_states"], 1)
        A = _json_int("n_actions", doc["n_actions"], 1)
        R = _nested("R", doc["R"], 2)
        trans = doc["transitions"]
        if not isinstance(trans, list):
            raise ValueError("transitions must be a list of [s, a, s_next, p]")
        n = len(trans)
        rows = np.empty(n, dtype=np.int64)
        cols = np.empty(n, dtype=np.int64)
        data = np.empty(n, dtype=np.float64)
        for i, t in enumerate(trans):
            if not isinstance(t, list) or len(t) != 4:
                raise ValueError(f"transitions[{i}] must be a list [s, a, s_next, p], got {t!r}")
            s, a, s2, p = t
            if (isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < S
                    or isinstance(a, bool) or not isinstance(a, int) or not 0 <= a < A
                    or isinstance(s2, bool) or not isinstance(s2, int) or not 0 <= s2 < S):
                raise ValueError(f"transitions[{i}] = {t!r}: s, s_next must be integers in "
                                 f"[0, {S}) and a an integer in [0, {A})")
            if isinstance(p, bool) or not isinstance(p, numbers.Real):
                raise ValueError(f"transitions[{i}] = {t!r}: p must be a number")
            rows[i] = s * A + a
            cols[i] = s2
            try:
                data[i] = p
            except OverflowError:
                raise ValueError(f"transitions[{i}]: p is too large for a float") from None
        return _from_triplets(rows, cols, data, S, A, R, initial, name)
    P = _nested("P", doc["P"], 3)
    R = _nested("R", doc["R"], 2)
    return FiniteMDP(P, R, initial=initial, name=name)


def _from_triplets(rows, cols, data, S, A, R, initial, name) -> FiniteMDP:
    """CSR from (row, column, probability) triplets; duplicate (row, column) pairs are summed."""
    if R.shape != (S, A):
        raise ValueError(f"R must have shape (n_states, n_actions) = ({S}, {A}), got {R.shape}")
    order = np.lexsort((cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    if rows.size:
        first = np.ones(rows.size, dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        starts = np.flatnonzero(first)
        data = np.add.reduceat(data, starts)
        rows, cols = rows[starts], cols[starts]
    indptr = np.zeros(S * A + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=S * A), out=indptr[1:])
    return FiniteMDP.from_successors(indptr, cols, data, R, initial=initial, name=name)


def _load_npz(path: Path) -> FiniteMDP:
    from tracking.results import read_npz

    arrays = read_npz(path)
    for key, arr in arrays.items():
        if arr.dtype.kind not in "biuf" and not (key == "name" and arr.dtype.kind == "U"):
            raise ValueError(f"{key} has dtype {arr.dtype}, expected numbers")
    keys = set(arrays)
    name = None
    if "name" in arrays:
        if arrays["name"].dtype.kind != "U" or arrays["name"].ndim != 0:
            raise ValueError("name must be a 0-d string array")
        name = str(arrays["name"])
    initial = arrays.get("initial")
    if "P" in keys:
        _check_keys(keys, _DENSE_KEYS, "dense")
        return FiniteMDP(arrays["P"], arrays["R"], initial=initial, name=name)
    _check_keys(keys, _SPARSE_NPZ_KEYS, "sparse")
    return FiniteMDP.from_successors(arrays["indptr"], arrays["indices"], arrays["probs"],
                                     arrays["R"], initial=initial, name=name)

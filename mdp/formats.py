"""Model files: :func:`save` and :func:`load` for :class:`mdp.FiniteMDP`.

Formats (see docs/solvers.md): JSON, dense ``{"P", "R", "initial", "name"}`` or sparse
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

from tracking.validate import InputError, existing_file

from .model import FiniteMDP

__all__ = ["DENSE_SAVE_LIMIT", "load", "save"]

#: ``save`` writes the dense forms up to this many entries of P, the sparse ones above.
DENSE_SAVE_LIMIT = 65_536

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
        raise InputError(f"{path.name}: unknown model file extension {path.suffix!r} (use .json "
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
            raise InputError(f"unknown model file extension {path.suffix!r} (use .json or .npz)")
    except ValueError as exc:
        msg = " ".join(str(exc).split())
        raise InputError(f"{path.name}: {msg}") from None
    m.source = {"file": str(path)}
    return m


def _check_keys(keys: set[str], required: set[str], form: str) -> None:
    missing = sorted(required - keys)
    if missing:
        raise InputError(f"missing key {missing[0]!r} for the {form} form")
    extra = sorted(keys - required - _OPTIONAL_KEYS)
    if extra:
        allowed = ", ".join(sorted(required | _OPTIONAL_KEYS))
        raise InputError(f"unknown key {extra[0]!r} (allowed in the {form} form: {allowed})")


def _nested(name: str, obj: Any, depth: int) -> np.ndarray:
    """A rectangular nested list of numbers (JSON) of the given depth as a float64 array."""
    shape: list[int] = []
    probe = obj
    for d in range(depth):
        if not isinstance(probe, list) or not probe:
            where = "[0]" * d
            raise InputError(f"{name}{where} must be a non-empty list (expected {depth} levels of "
                             "nested lists)")
        shape.append(len(probe))
        probe = probe[0]

    def walk(x: Any, d: int, where: str) -> None:
        if d == depth:
            if isinstance(x, bool) or not isinstance(x, numbers.Real):
                raise InputError(f"{name}{where} must be a number, got {x!r}")
            return
        if not isinstance(x, list):
            raise InputError(f"{name}{where} must be a list, got {x!r}")
        if len(x) != shape[d]:
            raise InputError(f"{name}{where} has length {len(x)}, expected {shape[d]} (ragged "
                             "lists)")
        for i, y in enumerate(x):
            walk(y, d + 1, f"{where}[{i}]")

    walk(obj, 0, "")
    try:
        return np.array(obj, dtype=np.float64)
    except OverflowError:
        raise InputError(f"{name} holds a number too large for a float") from None


def _json_int(name: str, x: Any, minimum: int = 0) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or x < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {x!r}")
    return x


def _load_json(path: Path) -> FiniteMDP:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg} at line {exc.lineno}, column "
                         f"{exc.colno})") from None
    except RecursionError:
        raise InputError("not valid JSON (nested too deeply)") from None
    if not isinstance(doc, dict):
        raise InputError(f"must hold a JSON object, got {type(doc).__name__}")
    keys = set(doc)
    sparse = "transitions" in keys or "n_states" in keys
    _check_keys(keys, _SPARSE_JSON_KEYS if sparse else _DENSE_KEYS, "sparse" if sparse else "dense")
    name = doc.get("name")
    if name is not None and not isinstance(name, str):
        raise InputError(f"name must be a string, got {name!r}")
    initial = None if doc.get("initial") is None else _nested("initial", doc["initial"], 1)
    if sparse:
        S = _json_int("n_states", doc["n_states"], 1)
        A = _json_int("n_actions", doc["n_actions"], 1)
        R = _nested("R", doc["R"], 2)
        trans = doc["transitions"]
        if not isinstance(trans, list):
            raise InputError("transitions must be a list of [s, a, s_next, p]")
        n = len(trans)
        rows = np.empty(n, dtype=np.int64)
        cols = np.empty(n, dtype=np.int64)
        data = np.empty(n, dtype=np.float64)
        for i, t in enumerate(trans):
            if not isinstance(t, list) or len(t) != 4:
                raise InputError(f"transitions[{i}] must be a list [s, a, s_next, p], got {t!r}")
            s, a, s2, p = t
            if (isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < S
                    or isinstance(a, bool) or not isinstance(a, int) or not 0 <= a < A
                    or isinstance(s2, bool) or not isinstance(s2, int) or not 0 <= s2 < S):
                raise InputError(f"transitions[{i}] = {t!r}: s, s_next must be integers in "
                                 f"[0, {S}) and a an integer in [0, {A})")
            if isinstance(p, bool) or not isinstance(p, numbers.Real):
                raise InputError(f"transitions[{i}] = {t!r}: p must be a number")
            rows[i] = s * A + a
            cols[i] = s2
            try:
                data[i] = p
            except OverflowError:
                raise InputError(f"transitions[{i}]: p is too large for a float") from None
        return _from_triplets(rows, cols, data, S, A, R, initial, name)
    P = _nested("P", doc["P"], 3)
    R = _nested("R", doc["R"], 2)
    return FiniteMDP(P, R, initial=initial, name=name)


def _from_triplets(rows: np.ndarray, cols: np.ndarray, data: np.ndarray, S: int, A: int,
                   R: np.ndarray, initial: np.ndarray | None, name: str | None) -> FiniteMDP:
    """CSR from (row, column, probability) triplets; duplicate (row, column) pairs are summed."""
    if R.shape != (S, A):
        raise InputError(f"R must have shape (n_states, n_actions) = ({S}, {A}), got {R.shape}")
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
            raise InputError(f"{key} has dtype {arr.dtype}, expected numbers")
    keys = set(arrays)
    name = None
    if "name" in arrays:
        if arrays["name"].dtype.kind != "U" or arrays["name"].ndim != 0:
            raise InputError("name must be a 0-d string array")
        name = str(arrays["name"])
    initial = arrays.get("initial")
    if "P" in keys:
        _check_keys(keys, _DENSE_KEYS, "dense")
        return FiniteMDP(arrays["P"], arrays["R"], initial=initial, name=name)
    _check_keys(keys, _SPARSE_NPZ_KEYS, "sparse")
    return FiniteMDP.from_successors(arrays["indptr"], arrays["indices"], arrays["probs"],
                                     arrays["R"], initial=initial, name=name)

"""Jitted kernels that check and convert models in one pass over their arrays (FiniteMDP's
constructors) and build random ones (Garnet successor lists). Imported when a model is built,
so that :mod:`mdp.model` and :mod:`mdp.envs` import without numba."""

from __future__ import annotations

import math

import numpy as np

from tracking.jit import njit

from ._validation import _BADSUM, _NEGATIVE, _NONFINITE, _OK, _ORDER, _RANGE


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


@njit(cache=True)
def floyd_rows(uniforms, n_states, out):
    """Row i of ``out`` (rows, b): a uniform b-subset of ``0..n_states-1``, increasing.

    Floyd's algorithm: for ``j = S - b, ..., S - 1`` draw ``t`` uniform in ``0..j`` (from
    ``uniforms[i, j - (S - b)]``) and take ``t``, or ``j`` if ``t`` was taken already.
    """
    n_rows, b = uniforms.shape
    mark = np.full(n_states, -1, dtype=np.int64)
    for i in range(n_rows):
        row = out[i]
        for k in range(b):
            j = n_states - b + k
            t = min(int(uniforms[i, k] * (j + 1)), j)
            if mark[t] == i:
                t = j
            mark[t] = i
            row[k] = t
        row.sort()

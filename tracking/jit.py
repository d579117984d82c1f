"""celab's kernel decorator: ``numba.njit`` with the on-disk cache, or in memory without one.

Every kernel is compiled with ``cache=True``, so a warm process loads it from numba's on-disk
cache in a fraction of a second. When no cache location is writable (a read-only install with
a read-only home), numba refuses to define a ``cache=True`` function; :func:`njit` then compiles
that kernel in memory instead, in every process, and it runs normally. Nothing in numba is
patched: the choice is made here, for celab's own kernels only.

With ``NUMBA_DISABLE_JIT=1`` the kernels run as plain Python on NumPy ``uint64`` scalars, whose
intended 64-bit wraparound (the hashes of :mod:`tracking.rng`) makes NumPy warn about
overflow; importing this module silences exactly that warning, from that module, then.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numba
from numba.core import config

__all__ = ["njit"]


def _compile(func: Callable, cache: bool, options: dict[str, Any]) -> Callable:
    if cache:
        try:
            return numba.njit(cache=True, **options)(func)
        except RuntimeError as e:  # "cannot cache function ...: no locator available ..."
            if "no locator available" not in str(e):
                raise
    return numba.njit(**options)(func)


def njit(func: Callable | None = None, *, cache: bool = True, **options: Any) -> Callable:
    """``numba.njit(cache=True, **options)``, falling back to in-memory compilation when no
    cache location is writable. Usable bare (``@njit``) or with options (``@njit(parallel=True)``).
    """
    if func is not None:
        return _compile(func, cache, options)
    return lambda f: _compile(f, cache, options)


if config.DISABLE_JIT:
    warnings.filterwarnings("ignore", "overflow encountered in scalar", RuntimeWarning,
                            r"tracking\.rng")

"""What celab's bandit and MDP labs share: random streams, jobs and results, experiment files,
output folders, statistics, reports and plots.

Importing this package also makes numba's on-disk cache optional for every celab kernel: when
no cache location is writable (a read-only install with a read-only home), numba would refuse
to define a ``cache=True`` function; celab's kernels are then compiled in memory instead, in
every process, and run normally.
"""

from __future__ import annotations


def _compile_in_memory_without_a_cache_location() -> None:
    from numba.core import caching, dispatcher

    original = dispatcher.Dispatcher.enable_caching
    if getattr(original, "_celab_fallback", False):
        return

    def enable_caching(self) -> None:
        try:
            original(self)
        except RuntimeError as e:  # "cannot cache function ...: no locator available ..."
            if "no locator available" not in str(e):
                raise
            self._cache = caching.NullCache()

    enable_caching._celab_fallback = True
    dispatcher.Dispatcher.enable_caching = enable_caching


def _quiet_pure_python_wraparound() -> None:
    """With NUMBA_DISABLE_JIT=1 the kernels run as Python on NumPy uint64 scalars, whose
    intended 64-bit wraparound (hashing) makes NumPy warn about overflow; silence that only."""
    import warnings

    from numba.core import config

    if config.DISABLE_JIT:
        warnings.filterwarnings("ignore", "overflow encountered in scalar", RuntimeWarning,
                                r"experiments\.rng")


_compile_in_memory_without_a_cache_location()
_quiet_pure_python_wraparound()

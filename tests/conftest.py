"""Shared test settings."""

import os

from hypothesis import settings

# Property-based tests: a fixed, modest budget keeps the suite fast and reproducible.
settings.register_profile("celab", max_examples=30, deadline=None, derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "celab"))


def pytest_collection_modifyitems(config, items):
    """Tests marked ``python_only`` measure the pure-Python path (tracemalloc sees what the
    kernels allocate only there): with the JIT on they are deselected, not skipped; the
    NUMBA_DISABLE_JIT=1 pass of ``make test`` runs them."""
    import numba

    if numba.config.DISABLE_JIT:
        return
    keep = [item for item in items if item.get_closest_marker("python_only") is None]
    if len(keep) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep

"""Shared test settings."""

import os

from hypothesis import settings

# pytest-xdist's workers get COLUMNS=80 and LINES=24; the CLI sizes its tables to a terminal
# only when it has one (else 120 columns), as under plain pytest, whatever the runner.
if "PYTEST_XDIST_WORKER" in os.environ:
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)

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

"""Versions recorded with every result."""

from __future__ import annotations

import platform
from importlib import metadata


def celab_version() -> str:
    try:
        return metadata.version("celab")
    except metadata.PackageNotFoundError:  # running from a source tree without install
        return "0+unknown"


def versions() -> dict[str, str]:
    """celab's, Python's, NumPy's and Numba's versions."""
    import numba
    import numpy

    return {
        "celab": celab_version(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "numba": numba.__version__,
    }

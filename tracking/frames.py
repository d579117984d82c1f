"""Tables of results as data frames, pandas or polars, built from columns of NumPy arrays.

Both libraries are optional: pandas comes with the ``frames`` extra, polars with the ``polars``
extra, and each is imported only when a frame of it is asked for
(:meth:`tracking.results.Result.to_frame`, :func:`experiments.data.summary`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import import_module
from typing import Any

import numpy as np

from .validate import InputError

__all__ = ["BACKENDS", "backend_module", "frame"]

#: Each backend: the module it imports and the extra that installs it.
BACKENDS = {"pandas": ("pandas", "frames"), "polars": ("polars", "polars")}


def backend_module(backend: str) -> Any:
    """The module of ``backend`` (``"pandas"`` or ``"polars"``), imported.

    Raises InputError for another name and ImportError naming the extra to install when the
    library is missing.
    """
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    module, extra = BACKENDS[backend]
    try:
        return import_module(module)
    except ImportError:
        raise ImportError(f"data frames of backend {backend!r} need {module}, which is not "
                          f"installed: pip install celab[{extra}]") from None


def frame(columns: Mapping[str, np.ndarray], categories: Mapping[str, Sequence[str]],
          backend: str = "pandas") -> Any:
    """A data frame of ``columns`` (1-D arrays of one length), in their order.

    A column named in ``categories`` holds integer codes into its list of names (distinct):
    the frame's column is categorical over those names in that order (pandas ``category``,
    polars ``Enum``); the other columns keep their dtypes.
    """
    lib = backend_module(backend)
    if backend == "pandas":
        return lib.DataFrame({
            k: (lib.Categorical.from_codes(v, categories=list(categories[k]))
                if k in categories else v) for k, v in columns.items()})
    return lib.DataFrame([
        (lib.Series(k, np.asarray(categories[k], dtype=np.str_)[v],
                    dtype=lib.Enum(list(categories[k])))
         if k in categories else lib.Series(k, v)) for k, v in columns.items()])

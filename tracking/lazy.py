"""Package attributes imported on first use, so that a package's light parts (agents,
environments) import without its heavy ones (numba, the jitted loops).

:func:`lazy_package` gives a package PEP 562-style lazy attributes through its module class,
which also keeps a function named like its own submodule (``mdp.generative`` the function,
in ``mdp/generative.py``) from being replaced by the submodule when the import system binds
it on the package.
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import Any

__all__ = ["lazy_package"]


class _LazyPackage(ModuleType):
    """A package whose attributes ``_lazy`` (attribute -> ``"submodule"`` or
    ``"submodule:name"``) are imported on first access."""

    def __getattr__(self, attr: str) -> Any:
        lazy = self.__dict__.get("_lazy", {})
        if attr not in lazy:
            raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r}")
        submodule, _, name = lazy[attr].partition(":")
        module = import_module(f"{self.__name__}.{submodule}")
        value = getattr(module, name) if name else module
        self.__dict__[attr] = value
        return value

    def __setattr__(self, attr: str, value: Any) -> None:
        target = self.__dict__.get("_lazy", {}).get(attr, "")
        if ":" in target and isinstance(value, ModuleType):
            return  # the import system binding a submodule over the function named like it
        super().__setattr__(attr, value)

    def __dir__(self) -> list[str]:
        return sorted(set(self.__dict__) | set(self.__dict__.get("_lazy", {})))


def lazy_package(name: str, lazy: dict[str, str]) -> None:
    """Make the imported package ``name`` import the attributes ``lazy`` on first access.

    ``lazy`` maps an attribute to ``"submodule"`` (the submodule itself) or to
    ``"submodule:name"`` (a name defined there). Call it at the end of the package's
    ``__init__``: ``lazy_package(__name__, {"run": "loop:run", "loop": "loop"})``.
    """
    package = sys.modules[name]
    package.__class__ = _LazyPackage
    package.__dict__["_lazy"] = dict(lazy)

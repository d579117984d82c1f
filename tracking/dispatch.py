"""Typed agent pieces behind one dispatch: hooks that numba resolves from an argument's type.

A lab's loop is written once, against *hooks* such as ``select(params, state, t, st)``. Every
agent declares a typed parameter record (a ``typing.NamedTuple`` class) and registers, for that
class, the small jitted functions that implement the hooks (its ``init``, ``select``,
``update``, ...). When numba compiles the loop for an agent, each hook call is resolved at
compile time, through ``numba.extending.overload``, to the function registered for the type of
its *key* argument (the parameter record); the loop is compiled once per agent type and served
from numba's on-disk cache like any ``cache=True`` function. On the pure-Python path
(``NUMBA_DISABLE_JIT=1``) the same hook dispatches on ``type(key)`` at run time, so both paths
run one definition of the loop.

Why this design: a loop that receives the
agent's functions as arguments is recompiled in every process (first-class function types are
not cached), a closure over jitted functions gets a new cache key in every process (numba keys
closures by their pickled cell contents, which hold a random id per process), and an integer
agent kind with a float vector of parameters needs magic indices and placeholder state. Here
every agent's state is its own NamedTuple of arrays, and no agent's code depends on another's.

Numba's cache is keyed by the loop's own source file: after editing an agent's pieces in
another file, drop the cache (``make clean-cache``). An agent defined outside celab names its
record with :func:`record`, whose class name carries a hash of the source of the module that
defines its pieces: an edited module gives a new type, so the loop is compiled anew for it and
the machine code cached for the old source is never served (docs/extending.md).

A loop can also run with plain-Python pieces, for a record whose implementations are Python
functions (:func:`compiled` tells which): :func:`plain` gives the loop's own Python body, the
jitted functions it calls with the record rebound to theirs, so the Python path runs the same
definition of the loop.

>>> from typing import NamedTuple
>>> select = hook("select", ("params", "t"))
>>> class Twice(NamedTuple):
...     k: int
>>> register(select, Twice, lambda params, t: params.k * t)
>>> select(Twice(3), 2)
6
"""

from __future__ import annotations

import hashlib
import re
import sys
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .validate import InputError

__all__ = ["Hook", "compiled", "hook", "plain", "record", "register"]

#: Hex digits of the source hash in a record's class name: ``MOSSParams__1a2b3c4d5e6f``.
HASH_DIGITS = 12
_RECORD_NAME = re.compile(rf"[A-Za-z_][A-Za-z0-9_]*__[0-9a-f]{{{HASH_DIGITS}}}")
#: The records of :func:`record` by class name, and placeholders for names no module defines in
#: this process (the stale entries of numba's cache index, which must still unpickle).
_RECORDS: dict[str, type] = {}


class Hook:
    """A generic function of a loop, implemented per parameter-record type.

    Calling it runs the implementation registered for ``type(args[key])`` (the pure-Python
    path); inside a jitted function numba resolves the call from the argument's numba type.
    """

    def __init__(self, name: str, args: Sequence[str], key: int = 0) -> None:
        self.name = name
        self.args = tuple(args)
        self.key = key
        self.impls: dict[type, Callable[..., Any]] = {}

    def implementation(self, cls: type) -> Callable[..., Any]:
        try:
            return self.impls[cls]
        except KeyError:
            raise TypeError(f"no {self.name} registered for {cls.__name__}") from None

    def __repr__(self) -> str:
        return f"<hook {self.name}({', '.join(self.args)})>"


def hook(name: str, args: Sequence[str], key: int = 0,
         jit_options: dict[str, Any] | None = None) -> Callable[..., Any]:
    """A new hook ``name(*args)`` dispatching on the type of argument ``args[key]``.

    Returns the stub function (callable from Python and from jitted code); its ``hook``
    attribute holds the :class:`Hook` with the registered implementations.

    ``jit_options`` are numba options for the compiled call of an implementation. A hook
    called at every step of a time loop takes ``{"_nrt": False}``: without numba's reference
    counting, reading the arrays of a state record costs no atomic update (with it, UCB1's
    loop runs at a third of its speed), and an implementation that allocates fails to compile.
    Its implementations should then be ``inline="always"``, so that their code is compiled
    into that call.
    """
    from numba.extending import overload

    spec = Hook(name, args, key)
    arglist = ", ".join(spec.args)
    # A stub with the hook's own argument names: numba's overload matches them by name.
    namespace: dict[str, Any] = {"_spec": spec}
    exec(f"def {name}({arglist}):\n"  # noqa: S102 - a signature built from identifiers
         f"    return _spec.implementation(type({spec.args[key]}))({arglist})\n", namespace)
    stub = namespace[name]
    stub.__doc__ = f"Hook {name}({arglist}): the implementation registered for the type of " \
                   f"{spec.args[key]}."
    stub.__module__ = __name__
    stub.hook = spec

    def typer(*types: Any) -> Callable[..., Any] | None:
        cls = getattr(types[key], "instance_class", None)
        impl = spec.impls.get(cls)
        if impl is None:
            return None
        scope: dict[str, Any] = {"_impl": impl}
        exec(f"def call({arglist}):\n    return _impl({arglist})\n", scope)  # noqa: S102
        return scope["call"]

    # overload inspects the typing function's signature: give it the hook's argument names.
    scope: dict[str, Any] = {"_typer": typer}
    exec(f"def typing_{name}({arglist}):\n    return _typer({arglist})\n", scope)  # noqa: S102
    overload(stub, jit_options=dict(jit_options or {}))(scope[f"typing_{name}"])
    return stub


def register(stub: Callable[..., Any], cls: type, impl: Callable[..., Any]) -> None:
    """Implement hook ``stub`` for parameter records of class ``cls`` with ``impl``.

    ``impl`` is a jitted function (or, on the pure-Python path, a plain one) taking the hook's
    arguments in order.
    """
    stub.hook.impls[cls] = impl


def source_hash(modules: Iterable[str]) -> str:
    """The first HASH_DIGITS hex digits of sha256 over the source files of ``modules``."""
    digest = hashlib.sha256()
    for name in modules:
        path = getattr(sys.modules.get(name), "__file__", None)
        if path is None:
            raise InputError(f"record: module {name!r} is not imported or has no source file")
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:HASH_DIGITS]


def record(name: str, fields: Mapping[str, type] | Sequence[tuple[str, type]],
           module: str | Sequence[str]) -> type:
    """A parameter-record class (a ``typing.NamedTuple``) for an agent defined outside celab.

    The class is named ``{name}__{hash}``, the hash taken over the source files of ``module``
    (the module defining the agent's pieces, usually ``__name__``; a list when the pieces span
    several modules). numba compiles a loop once per record type and caches it under the
    type's name: a changed source gives a new name, hence a new compilation, so no machine code
    compiled from an older source is served. The class lives in this module (pickled by
    reference, as numba's cache index stores it).

    Parameters
    ----------
    name : str
        The record's name, an identifier.
    fields : mapping or sequence of (str, type)
        Field names and types (float, int, bool: numba compiles one loop per record type).
    module : str or sequence of str
        Names of the imported modules whose source the hash covers.
    """
    modules = [module] if isinstance(module, str) else list(module)
    full = f"{name}__{source_hash(modules)}"
    items = list(fields.items()) if isinstance(fields, Mapping) else list(fields)
    cls = NamedTuple(full, items)
    cls.__module__ = __name__
    cls.__qualname__ = full
    _RECORDS[full] = cls
    return cls


def __getattr__(name: str) -> type:
    """A record by its class name; for a record name defined by no module in this process (an
    older source's, in numba's cache index), a placeholder class no live record equals."""
    if name in _RECORDS:
        return _RECORDS[name]
    if _RECORD_NAME.fullmatch(name):
        return _RECORDS.setdefault(name, type(name, (tuple,), {"__module__": __name__}))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _is_jitted(func: Any) -> bool:
    from numba.core.registry import CPUDispatcher

    return isinstance(func, CPUDispatcher)


def compiled(stubs: Iterable[Callable[..., Any]], cls: type, what: str) -> bool:
    """Whether the implementations of ``stubs`` for records of ``cls`` are jitted (the loop
    is compiled for ``cls``) or plain Python (the loop runs as Python: :func:`plain`).

    Raises
    ------
    ValueError
        Naming ``what`` (the agent) when a hook has no implementation for ``cls``, or when some
        are jitted and others not.
    """
    impls = {}
    for stub in stubs:
        if cls not in stub.hook.impls:
            raise InputError(f"agent {what!r}: no {stub.hook.name} registered for its record "
                             f"{cls.__name__}")
        impls[stub.hook.name] = stub.hook.impls[cls]
    jitted = {name for name, impl in impls.items() if _is_jitted(impl)}
    if jitted and len(jitted) < len(impls):
        python = ", ".join(sorted(set(impls) - jitted))
        raise InputError(f"agent {what!r}: its pieces mix jitted and plain Python functions "
                         f"(plain: {python})")
    return bool(jitted)


def plain(func: Callable[..., Any], **calls: Callable[..., Any]) -> Callable[..., Any]:
    """The plain-Python body of jitted ``func`` (``func`` itself under NUMBA_DISABLE_JIT),
    the names ``calls`` of its module rebound to the given functions (plain ones in turn).

    The other jitted functions it calls stay compiled (numba dispatchers callable from Python);
    ``prange`` is Python's ``range`` outside numba.
    """
    body = getattr(func, "py_func", func)
    if not calls:
        return body
    scope = {**body.__globals__, **calls}
    out = types.FunctionType(body.__code__, scope, body.__name__, body.__defaults__,
                             body.__closure__)
    out.__doc__, out.__qualname__ = body.__doc__, body.__qualname__
    return out

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
another file, drop the cache (``make clean-cache``).

>>> from typing import NamedTuple
>>> select = hook("select", ("params", "t"))
>>> class Twice(NamedTuple):
...     k: int
>>> register(select, Twice, lambda params, t: params.k * t)
>>> select(Twice(3), 2)
6
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Hook", "hook", "register"]


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

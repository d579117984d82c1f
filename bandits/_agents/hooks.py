"""The hooks of the bandit loop, and how an agent's kernel pieces are registered for them.

The loop (bandits/_kernels.py) is written once against five hooks, each resolved at compile
time from the type of the agent's parameter record (``tracking.dispatch``):

- ``shared(params, horizon)``: a read-only array computed once per kernel call and seen by
  every run (UCB1's table of square roots); agents that need none return an empty array.
- ``init(params, table, mu)``: the run's state, a NamedTuple of arrays, allocated once per run
  (``table`` is ``shared``'s array, ``mu`` the run's arm means).
- ``select(params, state, counts, t, st)``: the arm pulled at round t; ``counts`` are the pulls
  N_k before round t, ``st`` the run's agent random stream.
- ``update(params, state, counts, a, x, t)``: learn from reward ``x`` of arm ``a`` (``counts``
  already includes this pull).
- ``deploy(params, state, counts, mu, best)``: simple regret mu* - (mean of the policy the
  agent would deploy now), ``best`` = mu*.

Besides its pieces, an agent declares its footprint (:data:`FOOTPRINTS`): the bytes its
``shared`` table and its per-run state take, for the memory guard (bandits/loop.py).
"""

from __future__ import annotations

from collections.abc import Callable

from tracking.dispatch import hook, register

__all__ = ["FOOTPRINTS", "HOOKS", "deploy", "footprint", "init", "register_agent", "select",
           "shared", "update"]

#: select, update and deploy run at every round or checkpoint: compiled without reference
#: counting (tracking.dispatch.hook), their pieces allocate nothing and read the arrays of the
#: state record without atomic updates; ``common.hot`` inlines a piece into that call.
_HOT = {"_nrt": False}

shared = hook("shared", ("params", "horizon"))
init = hook("init", ("params", "table", "mu"))
select = hook("select", ("params", "state", "counts", "t", "st"), jit_options=_HOT)
update = hook("update", ("params", "state", "counts", "a", "x", "t"), jit_options=_HOT)
deploy = hook("deploy", ("params", "state", "counts", "mu", "best"), jit_options=_HOT)

HOOKS = {"shared": shared, "init": init, "select": select, "update": update, "deploy": deploy}

#: Parameter-record class -> ``f(params, k_arms, horizon) -> (table bytes, state bytes)``.
FOOTPRINTS: dict[type, Callable[[tuple, int, int], tuple[int, int]]] = {}


def register_agent(cls: type, *, init: Callable, select: Callable, update: Callable,
                   deploy: Callable, footprint: Callable[[tuple, int, int], tuple[int, int]],
                   shared: Callable | None = None) -> None:
    """Register an agent's pieces for parameter records of class ``cls``.

    ``shared`` defaults to the empty table (``common.no_table``); ``footprint`` gives the
    bytes the table and one run's state take.
    """
    from .common import no_table

    impls = {"shared": shared or no_table, "init": init, "select": select, "update": update,
             "deploy": deploy}
    for name, impl in impls.items():
        register(HOOKS[name], cls, impl)
    FOOTPRINTS[cls] = footprint


def footprint(params: tuple, k_arms: int, horizon: int) -> tuple[int, int]:
    """Bytes of the shared table and of one run's state of the agent with record ``params``."""
    return FOOTPRINTS[type(params)](params, k_arms, horizon)

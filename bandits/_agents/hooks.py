"""The hooks of the bandit loop, and how an agent's kernel pieces are registered for them.

The loop (bandits/_kernels.py) is written once against six hooks, each resolved at compile
time from the type of the agent's parameter record (``tracking.dispatch``):

- ``shared(params, horizon)``: a read-only array computed once per kernel call and seen by
  every run (UCB1's table of square roots); agents that need none return an empty array.
- ``init(params, table, mu)``: the run's state, a NamedTuple of arrays, allocated once per run
  (``table`` is ``shared``'s array, ``mu`` the run's arm means).
- ``select(params, state, counts, t, st)``: the arm pulled at round t; ``counts`` are the pulls
  N_k before round t, ``st`` the run's agent random stream.
- ``update(params, state, counts, a, x, t)``: learn from reward ``x`` of arm ``a`` (``counts``
  already includes this pull).
- ``deploy_greedy(params, state, counts, t, mu, best, st)`` and ``deploy_behaviour`` (same
  arguments): at the checkpoint after round t, the simple regret mu* - (mean of a policy),
  ``best`` = mu*: the greedy readout (the deterministic policy of what the agent has
  learned, ties mixed evenly) and the behaviour readout (the policy it would act with at round
  t + 1). ``st`` is a stream of the readouts' own (``tracking.rng.SALT_READOUT``, keyed by
  the run seed and t), never the agent's, so reading a policy never changes what the agent
  does next. docs/algorithms.md defines both readouts of every agent.

Besides its pieces, an agent declares its footprint (:data:`FOOTPRINTS`): the bytes its
``shared`` table and its per-run state take, for the memory guard (bandits/loop.py).
"""

from __future__ import annotations

from collections.abc import Callable

from tracking.dispatch import hook, register

__all__ = ["FOOTPRINTS", "HOOKS", "deploy_behaviour", "deploy_greedy", "footprint", "init",
           "register_agent", "select", "shared", "update"]

#: select, update and the readouts run at every round or checkpoint: compiled without reference
#: counting (tracking.dispatch.hook), their pieces allocate nothing and read the arrays of the
#: state record without atomic updates; ``common.hot`` inlines a piece into that call.
_HOT = {"_nrt": False}

shared = hook("shared", ("params", "horizon"))
init = hook("init", ("params", "table", "mu"))
select = hook("select", ("params", "state", "counts", "t", "st"), jit_options=_HOT)
update = hook("update", ("params", "state", "counts", "a", "x", "t"), jit_options=_HOT)
_READOUT = ("params", "state", "counts", "t", "mu", "best", "st")
deploy_greedy = hook("deploy_greedy", _READOUT, jit_options=_HOT)
deploy_behaviour = hook("deploy_behaviour", _READOUT, jit_options=_HOT)

HOOKS = {"shared": shared, "init": init, "select": select, "update": update,
         "deploy_greedy": deploy_greedy, "deploy_behaviour": deploy_behaviour}

#: Parameter-record class -> ``f(params, k_arms, horizon) -> (table bytes, state bytes)``.
FOOTPRINTS: dict[type, Callable[[tuple, int, int], tuple[int, int]]] = {}


def register_agent(cls: type, *, init: Callable, select: Callable, update: Callable,
                   deploy_greedy: Callable, deploy_behaviour: Callable,
                   footprint: Callable[[tuple, int, int], tuple[int, int]],
                   shared: Callable | None = None) -> None:
    """Register an agent's pieces for parameter records of class ``cls``.

    ``shared`` defaults to the empty table (``common.no_table``); ``footprint`` gives the
    bytes the table and one run's state take. An agent whose two readouts coincide at every
    checkpoint registers one function for both.
    """
    from .common import no_table

    impls = {"shared": shared or no_table, "init": init, "select": select, "update": update,
             "deploy_greedy": deploy_greedy, "deploy_behaviour": deploy_behaviour}
    for name, impl in impls.items():
        register(HOOKS[name], cls, impl)
    FOOTPRINTS[cls] = footprint


def footprint(params: tuple, k_arms: int, horizon: int) -> tuple[int, int]:
    """Bytes of the shared table and of one run's state of the agent with record ``params``."""
    return FOOTPRINTS[type(params)](params, k_arms, horizon)

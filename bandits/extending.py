"""Bandit agents defined outside celab, run by celab's own loop (docs/extending.md).

An agent is a :class:`~bandits.agents.BanditAgent` subclass (constructor storing its
hyperparameters, ``params(env)`` returning its record) plus six pieces registered for its
record type: ``shared``, ``init``, ``select``, ``update``, ``deploy_greedy`` and
``deploy_behaviour``, with the arguments of the hooks (bandits/_agents/hooks.py). Written as
plain Python functions, they run through the loop's Python body, slowly; registered with
``jit=True``, the same functions are compiled by numba into the loop, at a built-in agent's
speed. Either way the loop is the one every built-in agent runs: the same rewards (the n-th
pull of arm k reads the n-th number of the stream keyed by (run seed, k)), checkpoints,
readouts and results.

The record is made by :func:`record`, whose class name carries a hash of the source of the
module defining the pieces, so numba's cache never serves a loop compiled from an older source.

The helpers below are celab's own, callable from Python and from jitted code alike.
"""

from __future__ import annotations

from collections.abc import Callable

from tracking.dispatch import record
from tracking.jit import njit
from tracking.rng import argmax_of_max, uniform

from ._agents.common import WORD, greedy_gap, no_table, round_robin, round_robin_gap, vectors
from ._agents.hooks import register_agent as _register_agent
from .agents import BanditAgent

__all__ = ["WORD", "BanditAgent", "argmax_of_max", "greedy_gap", "record", "register_agent",
           "round_robin", "round_robin_gap", "uniform", "vectors"]

#: The hooks called at every round or checkpoint: jitted without reference counting and
#: inlined into the hook's call, as celab's own pieces are (``bandits._agents.common.hot``).
_HOT = ("select", "update", "deploy_greedy", "deploy_behaviour")


def register_agent(cls: type, *, init: Callable, select: Callable, update: Callable,
                   deploy_greedy: Callable, deploy_behaviour: Callable,
                   footprint: Callable[[tuple, int, int], tuple[int, int]],
                   shared: Callable | None = None, jit: bool = False) -> None:
    """Register an agent's pieces for its record class ``cls`` (made by :func:`record`).

    Parameters
    ----------
    cls : type
        The record class.
    init, select, update, deploy_greedy, deploy_behaviour, shared : callable
        The pieces, with the hooks' arguments (bandits/_agents/hooks.py); ``shared`` defaults
        to the empty table (one array, ``np.empty(0)``).
    footprint : callable
        ``footprint(params, k_arms, horizon) -> (table bytes, state bytes)``, for the memory
        guard (``vectors(n)``: a state of n arrays of K numbers).
    jit : bool
        Compile the pieces with numba (``select``, ``update`` and the readouts inlined and
        without reference counting: they must not allocate). Without it they run as Python.
    """
    pieces = {"init": init, "select": select, "update": update,
              "deploy_greedy": deploy_greedy, "deploy_behaviour": deploy_behaviour,
              "shared": shared or getattr(no_table, "py_func", no_table)}
    if jit:
        pieces = {name: njit(f, inline="always", _nrt=False) if name in _HOT else njit(f)
                  for name, f in pieces.items()}
    _register_agent(cls, footprint=footprint, **pieces)

"""Episodic MDP agents defined outside celab, run by celab's episodic loop (docs/extending.md).

An agent is an :class:`~mdp.agents.MDPAgent` subclass (constructor storing its
hyperparameters, ``params()`` returning its record, made by :func:`record`) plus five pieces
registered for its record type, with the arguments of the episodic hooks (mdp/_hooks.py):
``init_episodic``, ``episode_policy``, ``learn``, ``greedy_policy`` and ``behaviour_policy``.
A policy is a :class:`Deterministic` (int64[H, S] actions) or :class:`Stochastic`
(float64[H, S, A] probabilities) record, which the loop acts with and evaluates exactly. As
plain Python functions the pieces run through the loop's Python body; registered with
``jit=True`` the same functions are compiled by numba into the loop. Either way every agent
runs the one loop: the same transitions and rewards (the n-th visit of (s, a) gives the same
outcome whichever agent asks), checkpoints, readouts and results.

The continuing (average-reward) loop takes celab's own agents only.
"""

from __future__ import annotations

from collections.abc import Callable

from tracking.dispatch import record, register
from tracking.jit import njit
from tracking.rng import argmax_random, uniform

from . import _episodic_loop  # noqa: F401  (registers celab's own pieces first)
from . import _hooks as hooks
from ._planning_kernels import Deterministic, Stochastic, even_ties
from .agents import MDPAgent

__all__ = ["Deterministic", "MDPAgent", "Stochastic", "argmax_random", "even_ties", "record",
           "register_agent", "uniform"]


def register_agent(cls: type, *, init_episodic: Callable, episode_policy: Callable,
                   learn: Callable, greedy_policy: Callable, behaviour_policy: Callable,
                   footprint: Callable[[tuple, int, int, int, int], float],
                   jit: bool = False) -> None:
    """Register an episodic agent's pieces for its record class ``cls``.

    Parameters
    ----------
    cls : type
        The record class (:func:`record`).
    init_episodic, episode_policy, learn, greedy_policy, behaviour_policy : callable
        The pieces, with the episodic hooks' arguments (mdp/_hooks.py).
    footprint : callable
        ``footprint(params, n_states, n_actions, nnz, horizon)``: the 8-byte words of the
        agent's state, for the memory guard.
    jit : bool
        Compile the pieces with numba (inlined into the loop, as celab's own are); without it
        they run as Python.
    """
    pieces = {hooks.init_episodic: init_episodic, hooks.episode_policy: episode_policy,
              hooks.learn: learn, hooks.greedy_policy: greedy_policy,
              hooks.behaviour_policy: behaviour_policy}
    for stub, piece in pieces.items():
        register(stub, cls, njit(piece, inline="always") if jit else piece)
    hooks.register_footprint(cls, "episodic", footprint)

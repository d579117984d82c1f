"""MOSS (Audibert and Bubeck 2009) as a user's agent, at both speeds, from one definition.

Each arm is pulled once (rounds 1..K, in order); then, at round t, the arm of largest index

    U_k = mu_hat_k + sqrt(c max(ln(T / (K N_k)), 0) / N_k),

T the horizon, K the arms, N_k the pulls of arm k so far (c = 1 is the paper's), ties broken
uniformly at random. ``MOSSPython`` runs the pieces below as plain Python; ``MOSS`` registers
the same functions with ``jit=True``, so numba compiles them into the loop.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from bandits.extending import (
    BanditAgent,
    argmax_of_max,
    greedy_gap,
    record,
    register_agent,
    round_robin,
    round_robin_gap,
)
from tracking.jit import njit
from tracking.validate import InputError


class MOSSState(NamedTuple):
    """S_k, mu_hat_k, the indices U_k of the current round, and the shared table [T]."""

    sums: np.ndarray
    est: np.ndarray
    work: np.ndarray
    table: np.ndarray


# One record per speed: numba compiles the loop once per record type. The class names carry a
# hash of this file's source, so an edit here gives new types and a new compilation.
MOSSParams = record("MOSSParams", {"c": float}, __name__)
MOSSPythonParams = record("MOSSPythonParams", {"c": float}, __name__)


def shared(params, horizon):
    """The table every run of a kernel call reads: [T]."""
    table = np.empty(1)
    table[0] = horizon
    return table


def init(params, table, mu):
    k_arms = mu.shape[0]
    return MOSSState(np.zeros(k_arms), np.zeros(k_arms), np.zeros(k_arms), table)


@njit(inline="always")
def indices(params, state, counts):
    """work_k = U_k (every arm pulled at least once); returns max_k U_k.

    A helper of jitted pieces must be jitted too; numba's functions are callable from Python.
    """
    est, work = state.est, state.work
    k_arms = est.shape[0]
    horizon = state.table[0]
    m = -np.inf
    for k in range(k_arms):
        n = counts[k]
        bonus = max(math.log(horizon / (k_arms * n)), 0.0)
        v = est[k] + math.sqrt(params.c * bonus / n)
        work[k] = v
        m = v if v > m else m
    return m


def select(params, state, counts, t, st):
    k_arms = counts.shape[0]
    if t <= k_arms:
        return round_robin(t, k_arms)
    return argmax_of_max(state.work, indices(params, state, counts), st)


def update(params, state, counts, a, x, t):
    state.sums[a] += x
    state.est[a] = state.sums[a] / counts[a]


def deploy_greedy(params, state, counts, t, mu, best, st):
    """mu* minus the mean of argmax mu_hat over the arms pulled, ties mixed evenly."""
    return greedy_gap(state.est, counts, mu, best, False)


def deploy_behaviour(params, state, counts, t, mu, best, st):
    """The round-robin arm of round t + 1, then argmax U_k (ties mixed evenly)."""
    k_arms = counts.shape[0]
    if t < k_arms:
        return round_robin_gap(t, mu, best)
    indices(params, state, counts)
    return greedy_gap(state.work, counts, mu, best, True)


PIECES = {"shared": shared, "init": init, "select": select, "update": update,
          "deploy_greedy": deploy_greedy, "deploy_behaviour": deploy_behaviour,
          "footprint": lambda params, k_arms, horizon: (8, 3 * 8 * k_arms)}
register_agent(MOSSParams, jit=True, **PIECES)
register_agent(MOSSPythonParams, jit=False, **PIECES)


class MOSS(BanditAgent):
    """MOSS (Audibert and Bubeck 2009), jitted: argmax mu_hat_k + sqrt(c ln+(T / (K N_k)) / N_k)."""

    name = "moss"

    def __init__(self, c: float = 1.0) -> None:
        self.c = c
        if not (isinstance(c, (int, float)) and not isinstance(c, bool)
                and math.isfinite(c) and c >= 0.0):
            raise InputError(f"c must be a finite number >= 0, got {c!r}")

    def params(self, env: Any) -> tuple:
        return MOSSParams(float(self.c))


class MOSSPython(MOSS):
    """The same agent, its pieces run as plain Python."""

    name = "moss-python"

    def params(self, env: Any) -> tuple:
        return MOSSPythonParams(float(self.c))

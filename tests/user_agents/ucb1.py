"""UCB1 (Auer et al. 2002) as a user's agent, at both speeds: celab's ``ucb`` rule written again
with the extension API (benchmarks/user_agents.py times it against the built-in agent).

Each arm once (rounds 1..K), then argmax mu_hat_k + sqrt(c ln t) (1 / sqrt(N_k)), ties at
random. As celab's own, it reads sqrt(c ln t) and 1 / sqrt(n) from a table shared by the runs
(for t, n < 2^20) and keeps 1 / sqrt(N_k) per arm, so that the two do the same work.
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

#: Rows of the shared table at most.
ROWS = 1 << 20


class UCB1State(NamedTuple):
    """S_k, mu_hat_k, 1 / sqrt(N_k), the indices of the current round, the shared table."""

    sums: np.ndarray
    est: np.ndarray
    inv_sqrt: np.ndarray
    work: np.ndarray
    roots: np.ndarray


UCB1Params = record("UCB1Params", {"c": float}, __name__)
UCB1PythonParams = record("UCB1PythonParams", {"c": float}, __name__)


def shared(params, horizon):
    """roots[t] = (sqrt(c ln t), 1 / sqrt(t)) for 1 <= t < min(T + 1, 2^20)."""
    roots = np.empty((min(horizon + 1, ROWS), 2))
    for t in range(1, roots.shape[0]):
        roots[t, 0] = math.sqrt(params.c * math.log(t))
        roots[t, 1] = 1.0 / math.sqrt(t)
    return roots


def init(params, table, mu):
    k_arms = mu.shape[0]
    z = np.zeros
    return UCB1State(z(k_arms), z(k_arms), z(k_arms), z(k_arms), table)


@njit(inline="always")
def indices(params, state, counts, t):
    """work_k = mu_hat_k + sqrt(c ln t) (1 / sqrt(N_k)); returns their max."""
    roots = state.roots
    root = roots[t, 0] if t < roots.shape[0] else math.sqrt(params.c * math.log(t))
    m = -np.inf
    for k in range(counts.shape[0]):
        v = state.est[k] + root * state.inv_sqrt[k]
        state.work[k] = v
        m = v if v > m else m
    return m


def select(params, state, counts, t, st):
    k_arms = counts.shape[0]
    if t <= k_arms:
        return round_robin(t, k_arms)
    return argmax_of_max(state.work, indices(params, state, counts, t), st)


def update(params, state, counts, a, x, t):
    state.sums[a] += x
    n = counts[a]
    state.est[a] = state.sums[a] / n
    roots = state.roots
    state.inv_sqrt[a] = roots[n, 1] if n < roots.shape[0] else 1.0 / math.sqrt(n)


def deploy_greedy(params, state, counts, t, mu, best, st):
    return greedy_gap(state.est, counts, mu, best, False)


def deploy_behaviour(params, state, counts, t, mu, best, st):
    if t < counts.shape[0]:
        return round_robin_gap(t, mu, best)
    indices(params, state, counts, t + 1)
    return greedy_gap(state.work, counts, mu, best, True)


PIECES = {"shared": shared, "init": init, "select": select, "update": update,
          "deploy_greedy": deploy_greedy, "deploy_behaviour": deploy_behaviour,
          "footprint": lambda params, k_arms, horizon: (16 * min(horizon + 1, ROWS), 32 * k_arms)}
register_agent(UCB1Params, jit=True, **PIECES)
register_agent(UCB1PythonParams, jit=False, **PIECES)


class UCB1(BanditAgent):
    """UCB1, jitted pieces."""

    name = "ucb1"

    def __init__(self, c: float = 2.0) -> None:
        self.c = c

    def params(self, env: Any) -> tuple:
        return UCB1Params(float(self.c))


class UCB1Python(UCB1):
    """UCB1, plain-Python pieces."""

    name = "ucb1-python"

    def params(self, env: Any) -> tuple:
        return UCB1PythonParams(float(self.c))

"""Q-learning as a user's episodic MDP agent, at both speeds, from one definition.

The rule is celab's own ``q-learning`` (docs/algorithms.md): Q = H at the start; each episode
acts greedily in Q (ties at random, h then s); after it, for each step h in order,
n <- n + 1, alpha = (H + 1) / (H + n) and
Q[h, s, a] <- (1 - alpha) Q[h, s, a] + alpha (r + min(H, max_a Q[h + 1, s']) + b / sqrt(n)),
b = c sqrt(H^3 ln(S A H K / delta)). Written again here with the extension API only, so its
numbers must equal the built-in agent's.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from mdp.extending import (
    Deterministic,
    MDPAgent,
    Stochastic,
    argmax_random,
    even_ties,
    record,
    register_agent,
)
from tracking.jit import njit
from tracking.validate import as_float


class QState(NamedTuple):
    """Q[h, s, a], the visits n[h, s, a], b, the episode's actions (H, S), the readout (H, S, A)."""

    q: np.ndarray
    visits: np.ndarray
    bonus: float
    actions: np.ndarray
    probs: np.ndarray


UserQParams = record("UserQParams", {"c": float, "delta": float}, __name__)
UserQPythonParams = record("UserQPythonParams", {"c": float, "delta": float}, __name__)


def init_episodic(params, model, horizon, episodes):
    n_states, n_actions = model.rewards.shape
    shape = (horizon, n_states, n_actions)
    log_term = math.log(n_states * n_actions * horizon * episodes / params.delta)
    bonus = params.c * math.sqrt(horizon**3 * log_term)
    return QState(np.full(shape, float(horizon)), np.zeros(shape, dtype=np.int64), bonus,
                  np.zeros((horizon, n_states), dtype=np.int64), np.zeros(shape))


def episode_policy(params, state, k, st, stop):
    horizon, n_states, _ = state.q.shape
    for h in range(horizon):
        for s in range(n_states):
            state.actions[h, s] = argmax_random(state.q[h, s], st)
    return Deterministic(state.actions)


def learn(params, state, trajectory, n):
    states, actions, _, rewards, next_states = trajectory
    q, visits, bonus = state.q, state.visits, state.bonus
    horizon = q.shape[0]
    for h in range(n):
        s, a, r, s_next = states[h], actions[h], rewards[h], next_states[h]
        visits[h, s, a] += 1
        t = visits[h, s, a]
        alpha = (horizon + 1.0) / (horizon + t)
        v_next = 0.0
        if h < horizon - 1:
            v_next = min(float(horizon), q[h + 1, s_next].max())
        target = r + v_next + bonus / math.sqrt(t)
        q[h, s, a] = (1.0 - alpha) * q[h, s, a] + alpha * target


@njit(inline="always")
def greedy_rows(q, probs):
    """probs[h, s] = the even mix over argmax_a q[h, s, a] (a helper of jitted pieces must be
    jitted too; numba's functions are callable from Python)."""
    horizon, n_states, _ = q.shape
    for h in range(horizon):
        for s in range(n_states):
            even_ties(q[h, s], probs[h, s])
    return Stochastic(probs)


def greedy_policy(params, state, stop):
    """Greedy in Q, ties split evenly."""
    return greedy_rows(state.q, state.probs)


def behaviour_policy(params, state, k, readout, stop):
    """The next episode's policy, its random ties split evenly: the greedy readout."""
    return greedy_rows(state.q, state.probs)


PIECES = {"init_episodic": init_episodic, "episode_policy": episode_policy, "learn": learn,
          "greedy_policy": greedy_policy, "behaviour_policy": behaviour_policy,
          "footprint": lambda p, s, a, nnz, h: 3.0 * h * s * a + float(h) * s}
register_agent(UserQParams, jit=True, **PIECES)
register_agent(UserQPythonParams, jit=False, **PIECES)


class UserQ(MDPAgent):
    """Q-learning (jitted pieces), celab's ``q-learning`` rule written as a user's agent."""

    name = "user-q"
    family = "model-free"

    def __init__(self, c: float = 0.0, delta: float = 0.1) -> None:
        self.c = c
        self.delta = delta
        as_float("c", c, minimum=0.0)
        as_float("delta", delta, minimum=0.0, maximum=1.0, strict_min=True)

    def params(self) -> tuple:
        return UserQParams(float(self.c), float(self.delta))


class UserQPython(UserQ):
    """The same agent, its pieces run as plain Python."""

    name = "user-q-python"

    def params(self) -> tuple:
        return UserQPythonParams(float(self.c), float(self.delta))

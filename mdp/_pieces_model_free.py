"""Kernel pieces of the episodic agents without a model: q-learning (the policy-gradient agents,
which have no model either, are in mdp/_pieces_policy_gradient.py)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from tracking.dispatch import register
from tracking.jit import njit
from tracking.rng import argmax_random

from . import _hooks as hooks
from ._planning_kernels import Deterministic, Stochastic, even_ties
from .agents import QLearningParams

# --- q-learning ------------------------------------------------------------------------------


class QLearningState(NamedTuple):
    """Q[h, s, a] (from H), visits n[h, s, a], the bonus constant, the episode's greedy policy
    actions (H, S) and the deployed policy probs (H, S, A)."""

    q: np.ndarray
    visits: np.ndarray
    bonus: float
    actions: np.ndarray
    probs: np.ndarray


@njit(cache=True, inline="always")
def _q_init(params, model, horizon, episodes):
    """Q = H everywhere; bonus c sqrt(H^3 ln(S A H K / delta)) (divided by sqrt(n) per update)."""
    n_states, n_actions = model.rewards.shape
    shape = (horizon, n_states, n_actions)
    log_term = math.log(n_states * n_actions * horizon * episodes / params.delta)
    bonus = params.c * math.sqrt(horizon**3 * log_term)
    return QLearningState(np.full(shape, float(horizon)), np.zeros(shape, dtype=np.int64), bonus,
                          np.zeros((horizon, n_states), dtype=np.int64), np.zeros(shape))


@njit(cache=True, inline="always")
def _q_episode_policy(params, state, k, st, stop):
    """Greedy in Q, ties at random, h then s (the order of the draws)."""
    horizon, n_states, _ = state.q.shape
    for h in range(horizon):
        for s in range(n_states):
            state.actions[h, s] = argmax_random(state.q[h, s], st)
    return Deterministic(state.actions)


@njit(cache=True, inline="always")
def _q_learn(params, state, trajectory, n):
    """For each step h of the episode in order: n <- n + 1, alpha = (H + 1) / (H + n),
    Q <- (1 - alpha) Q + alpha (r + min(H, max_a Q[h + 1, s']) + bonus / sqrt(n)), Q[H] = 0.
    (The episode's actions came from its greedy policy fixed at its start, so learning after
    it equals learning at every step.)"""
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


@njit(cache=True, inline="always")
def _greedy_rows(values, probs):
    """probs[h, s] = the even mix over argmax_a values[h, s, a], for every (h, s)."""
    horizon, n_states, _ = values.shape
    for h in range(horizon):
        for s in range(n_states):
            even_ties(values[h, s], probs[h, s])
    return Stochastic(probs)


@njit(cache=True, inline="always")
def _q_deploy(params, state, stop):
    """Greedy in Q, ties split evenly."""
    return _greedy_rows(state.q, state.probs)


@njit(cache=True, inline="always")
def _q_behaviour(params, state, k, readout, stop):
    """The next episode's policy, greedy in Q (its bonus is in Q), its random ties split
    evenly: the greedy readout."""
    return _q_deploy(params, state, stop)


register(hooks.init_episodic, QLearningParams, _q_init)
register(hooks.episode_policy, QLearningParams, _q_episode_policy)
register(hooks.learn, QLearningParams, _q_learn)
register(hooks.greedy_policy, QLearningParams, _q_deploy)
register(hooks.behaviour_policy, QLearningParams, _q_behaviour)
# Q, visits and probs (H, S, A each), actions (H, S)
hooks.register_footprint(QLearningParams, "episodic",
                         lambda p, s, a, nnz, h: 3.0 * h * s * a + float(h) * s)

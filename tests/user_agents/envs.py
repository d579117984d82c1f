"""A user's environments: a bandit builder and a random MDP family, named by import path
(``env = "tests.user_agents.envs:staircase"``, with ``args``)."""

from __future__ import annotations

import numpy as np

from bandits.envs import Bernoulli
from mdp.model import FiniteMDP


def staircase(seed: int, n_arms: int = 5, step: float = 0.1) -> Bernoulli:
    """Bernoulli arms 0.9, 0.9 - step, 0.9 - 2 step, ... (``seed`` unused: a fixed instance)."""
    return Bernoulli(0.9 - step * np.arange(n_arms), name="staircase")


def random_mdp(seed: int = 0, n_states: int = 4, n_actions: int = 2) -> FiniteMDP:
    """P[s, a] ~ Dirichlet(1, ..., 1), R[s, a] ~ U(0, 1), start in state 0: a random family
    (with ``instance = "per-run"`` each run draws its own instance from its seed)."""
    gen = np.random.default_rng(seed)
    P = gen.dirichlet(np.ones(n_states), size=(n_states, n_actions))
    R = gen.uniform(size=(n_states, n_actions))
    initial = np.zeros(n_states)
    initial[0] = 1.0
    return FiniteMDP(P, R, initial, name="random-mdp")

"""celab's bandit lab: environments, agents and the jitted regret loop.

>>> import bandits
>>> res = bandits.run("linspace10", "ucb,thompson,reinforce", horizon=1000, runs=8)
>>> res.regret.shape
(3, 8, 73)
"""

from . import agents, envs
from .envs import Bernoulli, Gaussian, lai_robbins, testbed
from .loop import run

__all__ = ["Bernoulli", "Gaussian", "agents", "envs", "lai_robbins", "run", "testbed"]

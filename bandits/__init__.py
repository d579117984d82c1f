"""celab's bandit lab: environments, agents and the jitted regret loop.

>>> import bandits
>>> res = bandits.run("linspace10", "ucb,thompson,reinforce", horizon=1000, runs=8)
>>> res.regret.shape
(3, 8, 73)

The environments, the agents and the setting import without numba; the loop (``run``,
``bandits.loop``) is imported on first use, so that ``import bandits.agents`` stays light.
Linear bandits (``bandits.linear``, the setting ``"linear-bandit"``) are imported on first
use too.
"""

from tracking.lazy import lazy_package

from . import agents, envs, setting
from .envs import Bernoulli, Gaussian, lai_robbins, testbed

__all__ = ["Bernoulli", "Gaussian", "agents", "envs", "lai_robbins", "linear", "run", "setting",
           "testbed"]

lazy_package(__name__, {"run": "loop:run", "loop": "loop", "linear": "linear"})

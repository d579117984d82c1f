"""celab's MDP lab: the tabular model, built-in environments and exact solvers.

>>> import mdp
>>> m = mdp.envs.riverswim(6)
>>> res = mdp.solve(m, gamma=0.9)
>>> res.values.shape, res.policy.tolist()
((6,), [1, 1, 1, 1, 1, 1])
"""

from . import agents, envs, estimators
from .generative import GenerativeResult, generative
from .loop import MDPJob, run
from .model import FiniteMDP, load, save
from .solvers import (
    SolverResult,
    backward_induction,
    evaluate,
    linear_program,
    modified_policy_iteration,
    policy_iteration,
    relative_value_iteration,
    solve,
    value_iteration,
)

__all__ = [
    "FiniteMDP",
    "GenerativeResult",
    "MDPJob",
    "SolverResult",
    "agents",
    "backward_induction",
    "envs",
    "estimators",
    "evaluate",
    "generative",
    "linear_program",
    "load",
    "modified_policy_iteration",
    "policy_iteration",
    "relative_value_iteration",
    "run",
    "save",
    "solve",
    "value_iteration",
]

"""celab's MDP lab: the tabular model, built-in environments and exact solvers.

>>> import mdp
>>> m = mdp.envs.riverswim(6)
>>> res = mdp.solve(m, gamma=0.9)
>>> res.values.shape, res.policy.tolist()
((6,), [1, 1, 1, 1, 1, 1])
"""

from . import agents, continuing, envs, estimators, formats
from .continuing import ContinuingJob, run_continuing
from .formats import load, save
from .generative import (
    GenerativeResult,
    SamplesToEpsilon,
    generative,
    generative_samples_to_epsilon,
)
from .loop import MDPJob, run
from .model import FiniteMDP
from .policy_gradient import PGResult, policy_gradient
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
    "ContinuingJob",
    "FiniteMDP",
    "GenerativeResult",
    "MDPJob",
    "PGResult",
    "SamplesToEpsilon",
    "SolverResult",
    "agents",
    "backward_induction",
    "continuing",
    "envs",
    "estimators",
    "evaluate",
    "formats",
    "generative",
    "generative_samples_to_epsilon",
    "linear_program",
    "load",
    "modified_policy_iteration",
    "policy_gradient",
    "policy_iteration",
    "relative_value_iteration",
    "run",
    "run_continuing",
    "save",
    "solve",
    "value_iteration",
]

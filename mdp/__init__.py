"""celab's MDP lab: the tabular model, built-in environments and exact solvers.

>>> import mdp
>>> m = mdp.envs.riverswim(6)
>>> res = mdp.solve(m, gamma=0.9)
>>> res.values.shape, res.policy.tolist()
((6,), [1, 1, 1, 1, 1, 1])

The model and its file formats, the environments, the estimators, the agents and the settings
import without numba; the solvers, the loops and the rest are imported on first use, so that
``import mdp.agents`` and ``import mdp.envs`` stay light.
"""

from tracking.lazy import lazy_package

from . import agents, envs, estimators, formats, setting
from .formats import load, save
from .model import FiniteMDP

#: Attributes imported on first use -> "submodule" or "submodule:name".
_LAZY = {
    "continuing": "continuing",
    "ContinuingJob": "continuing:ContinuingJob",
    "run_continuing": "continuing:run_continuing",
    "generative": "generative:generative",
    "GenerativeResult": "generative:GenerativeResult",
    "loop": "loop",
    "MDPJob": "loop:MDPJob",
    "run": "loop:run",
    "policy_gradient": "policy_gradient:policy_gradient",
    "reasoning": "reasoning",
    "PGResult": "policy_gradient:PGResult",
    "SamplesToEpsilon": "generative:SamplesToEpsilon",
    "generative_samples_to_epsilon": "generative:generative_samples_to_epsilon",
    "solvers": "solvers",
}
_LAZY.update({name: f"solvers:{name}" for name in (
    "SolverResult", "backward_induction", "evaluate", "linear_program",
    "modified_policy_iteration", "policy_iteration", "relative_value_iteration", "solve",
    "value_iteration")})

lazy_package(__name__, _LAZY)

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
    "reasoning",
    "relative_value_iteration",
    "run",
    "run_continuing",
    "save",
    "setting",
    "solve",
    "value_iteration",
]

"""MDP agents: hyperparameters only; the learned state lives in the jitted kernels.

Exact definitions in docs/algorithms.md. Every agent has a registry name usable from the CLI
(``ce-optimistic:c=1``) and stores its constructor arguments unchanged under their own names.
``REGISTRY`` holds the agents of the episodic loop (mdp.run); ``CONTINUING_REGISTRY`` the
subset that the continuing, average-reward loop (mdp.run_continuing) implements.

For the kernels, :meth:`MDPAgent.params` gives a typed parameter record (a ``NamedTuple`` of
this module); the agent's kernel pieces (its state and the functions the loops call, in
mdp/_pieces_*.py) are registered for that record's type. This module imports neither numba
nor the kernels, so that the command line can list the agents without compiling anything.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tracking.specs import Agent
from tracking.validate import InputError, as_float


class CEGreedyParams(NamedTuple):
    """ce-greedy has no hyperparameters."""


class CEOptimisticParams(NamedTuple):
    c: float
    delta: float


class CEDitherParams(NamedTuple):
    epsilon: float
    sqrt_decay: bool


class PSRLParams(NamedTuple):
    """psrl has no hyperparameters."""


class UCRL2Params(NamedTuple):
    delta: float


class QLearningParams(NamedTuple):
    c: float
    delta: float


class ReinforceParams(NamedTuple):
    alpha: float
    baseline: bool


class MDPAgent(Agent):
    """Base of the MDP agents: :meth:`params` is the record the kernels dispatch on."""

    def params(self) -> tuple:
        """The hyperparameters as the agent's typed parameter record."""
        raise NotImplementedError


class CEGreedy(MDPAgent):
    """Certainty equivalence: backward induction on the plug-in model after every episode."""

    name = "ce-greedy"

    def __init__(self) -> None:
        pass

    def params(self) -> CEGreedyParams:
        return CEGreedyParams()


class CEOptimistic(MDPAgent):
    """Plug-in model plus a Hoeffding bonus c H sqrt(ln(S A H K / delta) / max(1, N(s, a)))."""

    name = "ce-optimistic"

    def __init__(self, c: float = 0.1, delta: float = 0.1) -> None:
        self.c = c
        self.delta = delta
        as_float("c", c, minimum=0.0)
        as_float("delta", delta, minimum=0.0, maximum=1.0, strict_min=True)

    def params(self) -> CEOptimisticParams:
        return CEOptimisticParams(float(self.c), float(self.delta))


class CEDither(MDPAgent):
    """Certainty equivalence with undirected exploration: ce-greedy's plan, acted epsilon-greedily.

    In episode k (from 1) the policy is (1 - eps_k) times the plug-in plan plus eps_k times the
    uniform policy, eps_k = epsilon (``decay="none"``) or epsilon / sqrt(k) (``decay="sqrt"``).
    ``epsilon=1`` explores uniformly for ever and reads out the plug-in plan.
    """

    name = "ce-dither"
    DECAYS = ("none", "sqrt")

    def __init__(self, epsilon: float = 0.1, decay: str = "none") -> None:
        self.epsilon = epsilon
        self.decay = decay
        as_float("epsilon", epsilon, minimum=0.0, maximum=1.0)
        if decay not in self.DECAYS:
            raise InputError(f"decay must be one of {', '.join(self.DECAYS)}, got {decay!r}")

    def params(self) -> CEDitherParams:
        return CEDitherParams(float(self.epsilon), self.decay == "sqrt")


class PSRL(MDPAgent):
    """Posterior sampling: Dirichlet(1/S) rows, Beta(1, 1) rewards; one sampled MDP per episode."""

    name = "psrl"

    def __init__(self) -> None:
        pass

    def params(self) -> PSRLParams:
        return PSRLParams()


class UCRL2(MDPAgent):
    """UCRL2 (Jaksch, Ortner and Auer 2010): optimistic planning over L1 confidence sets.

    Transition rows within sqrt(14 S ln(2 A t_k / delta) / max(1, N)) of P_hat in L1, mean
    rewards within sqrt(7 ln(2 S A t_k / delta) / (2 max(1, N))) of R_hat, t_k the steps so far.
    """

    name = "ucrl2"

    def __init__(self, delta: float = 0.05) -> None:
        self.delta = delta
        as_float("delta", delta, minimum=0.0, maximum=1.0, strict_min=True)

    def params(self) -> UCRL2Params:
        return UCRL2Params(float(self.delta))


class QLearning(MDPAgent):
    """Q-learning with optimistic initialisation Q = H and step size (H + 1) / (H + n).

    ``c > 0`` adds Jin et al.'s (2018) Hoeffding bonus c sqrt(H^3 ln(S A H K / delta) / n).
    """

    name = "q-learning"
    family = "model-free"

    def __init__(self, c: float = 0.0, delta: float = 0.1) -> None:
        self.c = c
        self.delta = delta
        as_float("c", c, minimum=0.0)
        as_float("delta", delta, minimum=0.0, maximum=1.0, strict_min=True)

    def params(self) -> QLearningParams:
        return QLearningParams(float(self.c), float(self.delta))


class Reinforce(MDPAgent):
    """Tabular softmax REINFORCE: theta[h, s, a], return-to-go, running baseline per (h, s)."""

    name = "reinforce"
    family = "policy-gradient"

    def __init__(self, alpha: float = 0.1, baseline: bool = True) -> None:
        self.alpha = alpha
        self.baseline = baseline
        as_float("alpha", alpha, minimum=0.0, strict_min=True)
        if not isinstance(baseline, (bool, np.bool_)):
            raise InputError(f"baseline must be true or false, got {baseline!r}")

    def params(self) -> ReinforceParams:
        return ReinforceParams(float(self.alpha), bool(self.baseline))


#: Registry name -> agent class (the episodic loop, mdp.run).
REGISTRY: dict[str, type[MDPAgent]] = {
    cls.name: cls for cls in (CEGreedy, CEOptimistic, CEDither, PSRL, UCRL2, QLearning,
                               Reinforce)
}

#: The agents of the continuing, average-reward loop (mdp.run_continuing).
CONTINUING_REGISTRY: dict[str, type[MDPAgent]] = {
    cls.name: cls for cls in (CEGreedy, CEOptimistic, PSRL, UCRL2)
}

"""MDP agents: hyperparameters only; the learned state lives in the jitted kernels.

Exact definitions in docs/algorithms.md. Every agent has a registry name usable from the CLI
(``ce-optimistic:c=1``) and stores its constructor arguments unchanged under their own names.
``REGISTRY`` holds the agents of the episodic loop (mdp.run); ``CONTINUING_REGISTRY`` the
subset that the continuing, average-reward loop (mdp.run_continuing) implements.
"""

from __future__ import annotations

import numpy as np

from tracking.specs import Agent
from tracking.validate import as_float

(
    KIND_CE_GREEDY,
    KIND_CE_OPTIMISTIC,
    KIND_PSRL,
    KIND_Q_LEARNING,
    KIND_REINFORCE,
    KIND_UCRL2,
) = range(6)


class MDPAgent(Agent):
    """Base of the episodic agents: ``kind`` picks the kernel's branch, ``vector`` packs params."""

    kind: int = -1

    def vector(self) -> np.ndarray:
        """The hyperparameters as the float64 vector the kernel reads."""
        return np.zeros(4)


class CEGreedy(MDPAgent):
    """Certainty equivalence: backward induction on the plug-in model after every episode."""

    name = "ce-greedy"
    kind = KIND_CE_GREEDY

    def __init__(self) -> None:
        pass


class CEOptimistic(MDPAgent):
    """Plug-in model plus a Hoeffding bonus c H sqrt(ln(S A H K / delta) / max(1, N(s, a)))."""

    name = "ce-optimistic"
    kind = KIND_CE_OPTIMISTIC

    def __init__(self, c: float = 0.1, delta: float = 0.1) -> None:
        self.c = c
        self.delta = delta
        as_float("c", c, minimum=0.0)
        as_float("delta", delta, minimum=0.0, maximum=1.0, strict_min=True)

    def vector(self) -> np.ndarray:
        return np.array([self.c, self.delta, 0.0, 0.0])


class PSRL(MDPAgent):
    """Posterior sampling: Dirichlet(1/S) rows, Beta(1, 1) rewards; one sampled MDP per episode."""

    name = "psrl"
    kind = KIND_PSRL

    def __init__(self) -> None:
        pass


class UCRL2(MDPAgent):
    """UCRL2 (Jaksch, Ortner and Auer 2010): optimistic planning over L1 confidence sets.

    Transition rows within sqrt(14 S ln(2 A t_k / delta) / max(1, N)) of P_hat in L1, mean
    rewards within sqrt(7 ln(2 S A t_k / delta) / (2 max(1, N))) of R_hat, t_k the steps so far.
    """

    name = "ucrl2"
    kind = KIND_UCRL2

    def __init__(self, delta: float = 0.05) -> None:
        self.delta = delta
        as_float("delta", delta, minimum=0.0, maximum=1.0, strict_min=True)

    def vector(self) -> np.ndarray:
        return np.array([self.delta, 0.0, 0.0, 0.0])


class QLearning(MDPAgent):
    """Q-learning with optimistic initialisation Q = H and step size (H + 1) / (H + n).

    ``c > 0`` adds Jin et al.'s (2018) Hoeffding bonus c sqrt(H^3 ln(S A H K / delta) / n).
    """

    name = "q-learning"
    kind = KIND_Q_LEARNING
    family = "model-free"

    def __init__(self, c: float = 0.0, delta: float = 0.1) -> None:
        self.c = c
        self.delta = delta
        as_float("c", c, minimum=0.0)
        as_float("delta", delta, minimum=0.0, maximum=1.0, strict_min=True)

    def vector(self) -> np.ndarray:
        return np.array([self.c, self.delta, 0.0, 0.0])


class Reinforce(MDPAgent):
    """Tabular softmax REINFORCE: theta[h, s, a], return-to-go, running baseline per (h, s)."""

    name = "reinforce"
    kind = KIND_REINFORCE
    family = "policy-gradient"

    def __init__(self, alpha: float = 0.1, baseline: bool = True) -> None:
        self.alpha = alpha
        self.baseline = baseline
        as_float("alpha", alpha, minimum=0.0, strict_min=True)
        if not isinstance(baseline, (bool, np.bool_)):
            raise ValueError(f"baseline must be true or false, got {baseline!r}")

    def vector(self) -> np.ndarray:
        return np.array([self.alpha, 1.0 if self.baseline else 0.0, 0.0, 0.0])


#: Registry name -> agent class (the episodic loop, mdp.run).
REGISTRY: dict[str, type[MDPAgent]] = {
    cls.name: cls for cls in (CEGreedy, CEOptimistic, PSRL, UCRL2, QLearning, Reinforce)
}

#: The agents of the continuing, average-reward loop (mdp.run_continuing).
CONTINUING_REGISTRY: dict[str, type[MDPAgent]] = {
    cls.name: cls for cls in (CEGreedy, CEOptimistic, PSRL, UCRL2)
}

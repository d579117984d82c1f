"""Bandit agents: hyperparameters only; the learned state lives in the jitted kernel.

Every agent has a registry name (used by the CLI: ``ucb``, ``reinforce:alpha=0.4``), stores
its constructor arguments unchanged under their own names, and validates them on construction.
The exact definitions are in docs/algorithms.md.
"""

from __future__ import annotations

import math

import numpy as np

from tracking.specs import Agent

# Agent kinds understood by the kernel (bandits/_kernels.py).
(
    KIND_GREEDY,
    KIND_EPSILON_GREEDY,
    KIND_ETC,
    KIND_UCB,
    KIND_KLUCB,
    KIND_THOMPSON,
    KIND_REINFORCE,
    KIND_PG_EXACT,
) = range(8)


def _positive(name: str, value: float, allow_zero: bool = False) -> float:
    v = float(value)
    ok = math.isfinite(v) and (v >= 0.0 if allow_zero else v > 0.0)
    if not ok:
        rule = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {rule}, got {value!r}")
    return v


class BanditAgent(Agent):
    """Base of the bandit agents: ``kind`` selects the kernel's branch, ``vector`` packs params."""

    kind: int = -1

    def vector(self) -> np.ndarray:
        """The hyperparameters as the float64 vector the kernel reads."""
        return np.zeros(4)


def _check_start(round_robin: bool, q0: float) -> None:
    if not isinstance(round_robin, (bool, np.bool_)):
        raise ValueError(f"round_robin must be true or false, got {round_robin!r}")
    _positive("q0", abs(float(q0)), allow_zero=True)


class Greedy(BanditAgent):
    """Certainty-equivalence greedy: one pull per arm, then argmax of the empirical means.

    With ``round_robin=False`` there is no initial round: every estimate starts at ``q0``
    (Sutton and Barto's sample-average method) and is replaced by the sample mean.
    """

    name = "greedy"
    kind = KIND_GREEDY

    def __init__(self, round_robin: bool = True, q0: float = 0.0) -> None:
        self.round_robin = round_robin
        self.q0 = q0
        _check_start(round_robin, q0)

    def vector(self) -> np.ndarray:
        return np.array([0.0, 0.0, 1.0 if self.round_robin else 0.0, self.q0])


class EpsilonGreedy(BanditAgent):
    """One pull per arm; then a uniform arm with probability ``epsilon``, else greedy.

    ``round_robin=False`` starts from estimates ``q0`` instead, as :class:`Greedy`.
    """

    name = "epsilon-greedy"
    kind = KIND_EPSILON_GREEDY

    def __init__(self, epsilon: float = 0.1, round_robin: bool = True, q0: float = 0.0) -> None:
        self.epsilon = epsilon
        self.round_robin = round_robin
        self.q0 = q0
        if not 0.0 <= float(epsilon) <= 1.0:
            raise ValueError(f"epsilon must lie in [0, 1], got {epsilon!r}")
        _check_start(round_robin, q0)

    def vector(self) -> np.ndarray:
        return np.array([self.epsilon, 0.0, 1.0 if self.round_robin else 0.0, self.q0])


class ExploreThenCommit(BanditAgent):
    """``m`` pulls per arm in round robin, then the empirically best arm for ever."""

    name = "etc"
    long_name = "explore-then-commit"
    kind = KIND_ETC

    def __init__(self, m: int = 10) -> None:
        self.m = m
        if isinstance(m, bool) or int(m) != m or m < 1:
            raise ValueError(f"m must be an integer >= 1, got {m!r}")

    def vector(self) -> np.ndarray:
        return np.array([float(self.m), 0.0, 0.0, 0.0])


class UCB(BanditAgent):
    """UCB1 (Auer et al. 2002): argmax mu_hat_k + sqrt(c ln t / N_k), c = 2."""

    name = "ucb"
    kind = KIND_UCB

    def __init__(self, c: float = 2.0) -> None:
        self.c = c
        _positive("c", c, allow_zero=True)

    def vector(self) -> np.ndarray:
        return np.array([self.c, 0.0, 0.0, 0.0])


class KLUCB(BanditAgent):
    """KL-UCB (Garivier and Cappe 2011): argmax max{q : N_k KL(mu_hat_k, q) <= ln t + c ln ln t}."""

    name = "kl-ucb"
    kind = KIND_KLUCB

    def __init__(self, c: float = 0.0) -> None:
        self.c = c
        _positive("c", c, allow_zero=True)

    def vector(self) -> np.ndarray:
        return np.array([self.c, 0.0, 0.0, 0.0])


class Thompson(BanditAgent):
    """Posterior sampling: Beta(1, 1) prior for Bernoulli arms, flat prior for Gaussian arms."""

    name = "thompson"
    kind = KIND_THOMPSON

    def __init__(self) -> None:
        pass


class Reinforce(BanditAgent):
    """Softmax gradient bandit (REINFORCE): H += alpha (R - b)(onehot(A) - pi)."""

    name = "reinforce"
    kind = KIND_REINFORCE
    family = "policy-gradient"

    def __init__(self, alpha: float = 0.1, baseline: bool = True) -> None:
        self.alpha = alpha
        self.baseline = baseline
        _positive("alpha", alpha)
        if not isinstance(baseline, (bool, np.bool_)):
            raise ValueError(f"baseline must be true or false, got {baseline!r}")

    def vector(self) -> np.ndarray:
        return np.array([self.alpha, 1.0 if self.baseline else 0.0, 0.0, 0.0])


class PGExact(BanditAgent):
    """Softmax policy gradient with the exact gradient: H += alpha pi (mu - pi . mu).

    It knows the true means (it is the idealised limit of REINFORCE with infinitely many
    samples per step, Mei et al. 2020); actions are still sampled from pi, so its regret counts
    the pulls it makes while it converges.
    """

    name = "pg-exact"
    kind = KIND_PG_EXACT
    family = "policy-gradient"

    def __init__(self, alpha: float = 0.4) -> None:
        self.alpha = alpha
        _positive("alpha", alpha)

    def vector(self) -> np.ndarray:
        return np.array([self.alpha, 0.0, 0.0, 0.0])


#: Registry name -> agent class.
REGISTRY: dict[str, type[BanditAgent]] = {
    cls.name: cls
    for cls in (Greedy, EpsilonGreedy, ExploreThenCommit, UCB, KLUCB, Thompson, Reinforce, PGExact)
}

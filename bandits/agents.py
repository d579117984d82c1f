"""Bandit agents: hyperparameters only; the learned state lives in the jitted kernel.

Every agent has a registry name (used by the CLI: ``ucb``, ``reinforce:alpha=0.4``), stores
its constructor arguments unchanged under their own names, and validates them on construction.
The exact definitions are in docs/algorithms.md.

:meth:`BanditAgent.params` turns an agent into the typed parameter record its kernel pieces
are registered for (bandits/_agents/): a ``typing.NamedTuple`` of plain numbers. Where the
kernel differs between Bernoulli and Gaussian arms (KL-UCB, Thompson sampling) the record type
differs too, so no kernel piece asks which family it runs on. This module does not import
numba: the CLI reads the registry for its help.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from tracking.specs import Agent
from tracking.validate import InputError


def _positive(name: str, value: float, allow_zero: bool = False) -> float:
    v = float(value)
    ok = math.isfinite(v) and (v >= 0.0 if allow_zero else v > 0.0)
    if not ok:
        rule = ">= 0" if allow_zero else "> 0"
        raise InputError(f"{name} must be a finite number {rule}, got {value!r}")
    return v


class BanditAgent(Agent):
    """Base of the bandit agents."""

    def params(self, env: Any) -> tuple:
        """The agent's parameter record on environment ``env`` (``bandits.Bernoulli``,
        ``bandits.Gaussian`` or a per-run testbed): a NamedTuple the kernel dispatches on."""
        raise NotImplementedError


def _check_start(round_robin: bool, q0: float) -> None:
    if not isinstance(round_robin, (bool, np.bool_)):
        raise InputError(f"round_robin must be true or false, got {round_robin!r}")
    _positive("q0", abs(float(q0)), allow_zero=True)


def _gaussian(env: Any) -> bool:
    return env.family == "gaussian"


# --- parameter records (field types are fixed: numba compiles one loop per record type) --------


class GreedyParams(NamedTuple):
    """Greedy: ``round_robin`` (one pull each first), else estimates start at ``q0``."""

    round_robin: bool
    q0: float


class EpsilonGreedyParams(NamedTuple):
    """Epsilon-greedy: the exploration probability, and the start as for greedy."""

    epsilon: float
    round_robin: bool
    q0: float


class ETCParams(NamedTuple):
    """Explore then commit: ``m`` pulls per arm."""

    m: int


class UCBParams(NamedTuple):
    """UCB1: the exploration constant ``c``."""

    c: float


class KLUCBBernoulliParams(NamedTuple):
    """KL-UCB on Bernoulli arms: the ``c ln ln t`` constant."""

    c: float


class KLUCBGaussianParams(NamedTuple):
    """KL-UCB on Gaussian arms of known scale ``sigma``: the closed-form index."""

    c: float
    sigma: float


class ThompsonBernoulliParams(NamedTuple):
    """Thompson sampling on Bernoulli arms from the prior Beta(``a0``, ``b0``)."""

    a0: float
    b0: float


class ThompsonGaussianParams(NamedTuple):
    """Thompson sampling on Gaussian arms of known scale ``sigma``, flat prior."""

    sigma: float


class ReinforceParams(NamedTuple):
    """REINFORCE: step size ``alpha``; ``baseline``: subtract the mean of earlier rewards."""

    alpha: float
    baseline: bool


class PGExactParams(NamedTuple):
    """Exact softmax policy gradient: step size ``alpha``."""

    alpha: float


# --- agents ----------------------------------------------------------------------------------


class Greedy(BanditAgent):
    """Certainty-equivalence greedy: one pull per arm, then argmax of the empirical means.

    With ``round_robin=False`` there is no initial round: every estimate starts at ``q0``
    (Sutton and Barto's sample-average method) and is replaced by the sample mean.
    """

    name = "greedy"

    def __init__(self, round_robin: bool = True, q0: float = 0.0) -> None:
        self.round_robin = round_robin
        self.q0 = q0
        _check_start(round_robin, q0)

    def params(self, env: Any) -> GreedyParams:
        return GreedyParams(bool(self.round_robin), float(self.q0))


class EpsilonGreedy(BanditAgent):
    """One pull per arm; then a uniform arm with probability ``epsilon``, else greedy.

    ``round_robin=False`` starts from estimates ``q0`` instead, as :class:`Greedy`.
    """

    name = "epsilon-greedy"

    def __init__(self, epsilon: float = 0.1, round_robin: bool = True, q0: float = 0.0) -> None:
        self.epsilon = epsilon
        self.round_robin = round_robin
        self.q0 = q0
        if not 0.0 <= float(epsilon) <= 1.0:
            raise InputError(f"epsilon must lie in [0, 1], got {epsilon!r}")
        _check_start(round_robin, q0)

    def params(self, env: Any) -> EpsilonGreedyParams:
        return EpsilonGreedyParams(float(self.epsilon), bool(self.round_robin), float(self.q0))


class ExploreThenCommit(BanditAgent):
    """``m`` pulls per arm in round robin, then the empirically best arm for ever."""

    name = "etc"
    long_name = "explore-then-commit"

    def __init__(self, m: int = 10) -> None:
        self.m = m
        if isinstance(m, bool) or int(m) != m or m < 1:
            raise InputError(f"m must be an integer >= 1, got {m!r}")

    def params(self, env: Any) -> ETCParams:
        return ETCParams(int(self.m))


class UCB(BanditAgent):
    """UCB1 (Auer et al. 2002): argmax mu_hat_k + sqrt(c ln t / N_k), c = 2."""

    name = "ucb"

    def __init__(self, c: float = 2.0) -> None:
        self.c = c
        _positive("c", c, allow_zero=True)

    def params(self, env: Any) -> UCBParams:
        return UCBParams(float(self.c))


class KLUCB(BanditAgent):
    """KL-UCB (Garivier and Cappe 2011): argmax max{q : N_k KL(mu_hat_k, q) <= ln t + c ln ln t}."""

    name = "kl-ucb"

    def __init__(self, c: float = 0.0) -> None:
        self.c = c
        _positive("c", c, allow_zero=True)

    def params(self, env: Any) -> KLUCBBernoulliParams | KLUCBGaussianParams:
        if _gaussian(env):
            return KLUCBGaussianParams(float(self.c), float(env.sigma))
        return KLUCBBernoulliParams(float(self.c))


class Thompson(BanditAgent):
    """Posterior sampling: Beta(1, 1) prior for Bernoulli arms, flat prior for Gaussian arms."""

    name = "thompson"

    def __init__(self) -> None:
        pass

    def params(self, env: Any) -> ThompsonBernoulliParams | ThompsonGaussianParams:
        if _gaussian(env):
            return ThompsonGaussianParams(float(env.sigma))
        return ThompsonBernoulliParams(1.0, 1.0)


class Reinforce(BanditAgent):
    """Softmax gradient bandit (REINFORCE): H += alpha (R - b)(onehot(A) - pi)."""

    name = "reinforce"
    family = "policy-gradient"

    def __init__(self, alpha: float = 0.1, baseline: bool = True) -> None:
        self.alpha = alpha
        self.baseline = baseline
        _positive("alpha", alpha)
        if not isinstance(baseline, (bool, np.bool_)):
            raise InputError(f"baseline must be true or false, got {baseline!r}")

    def params(self, env: Any) -> ReinforceParams:
        return ReinforceParams(float(self.alpha), bool(self.baseline))


class PGExact(BanditAgent):
    """Softmax policy gradient with the exact gradient: H += alpha pi (mu - pi . mu).

    It knows the true means (it is the idealised limit of REINFORCE with infinitely many
    samples per step, Mei et al. 2020); actions are still sampled from pi, so its regret counts
    the pulls it makes while it converges.
    """

    name = "pg-exact"
    family = "policy-gradient"

    def __init__(self, alpha: float = 0.4) -> None:
        self.alpha = alpha
        _positive("alpha", alpha)

    def params(self, env: Any) -> PGExactParams:
        return PGExactParams(float(self.alpha))


#: Registry name -> agent class.
REGISTRY: dict[str, type[BanditAgent]] = {
    cls.name: cls
    for cls in (Greedy, EpsilonGreedy, ExploreThenCommit, UCB, KLUCB, Thompson, Reinforce, PGExact)
}

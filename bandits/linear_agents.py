"""Linear-bandit agents: hyperparameters only; the learned state lives in the jitted kernel.

The certainty-equivalence agents fit the ridge estimate theta_hat = V^{-1} b of the reward
parameter and plan on it greedily (``lin-greedy``), optimistically (``oful``) or by posterior
sampling (``lin-ts``); the policy-gradient agents train a softmax policy pi_w(k) proportional
to exp(<x_k, w>), linear in the same features, by REINFORCE, RLOO or GRPO, with the parameters
(and the validation) of the bandit agents of those names. The exact definitions are in
docs/algorithms.md. This module does not import numba.
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

from tracking.specs import registry
from tracking.validate import InputError

from .agents import GRPO, RLOO, BanditAgent, Reinforce, _positive

__all__ = ["OFUL", "REGISTRY", "LinGRPO", "LinGreedy", "LinRLOO", "LinReinforce", "LinTS"]


def _delta(delta: float) -> float:
    """A confidence level delta in (0, 1)."""
    v = _positive("delta", delta)
    if v >= 1.0:
        raise InputError(f"delta must lie in (0, 1), got {delta!r}")
    return v


def _probability(name: str, value: Any) -> float:
    """A probability: a number in [0, 1]."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not 0.0 <= float(value) <= 1.0):
        raise InputError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


# --- parameter records (field types are fixed: numba compiles one loop per record type) --------


class LinGreedyParams(NamedTuple):
    """Ridge greedy: the ridge lambda and the probability epsilon of a uniform arm."""

    lam: float
    epsilon: float


class OFULParams(NamedTuple):
    """OFUL: ridge lambda, confidence delta, the bound S on ||theta*||, the multiplier c of
    beta_t, and the noise scale sigma of the environment."""

    lam: float
    delta: float
    theta_norm: float
    c: float
    sigma: float


class LinTSParams(NamedTuple):
    """Linear Thompson sampling: ridge lambda and the posterior scale v = sigma * scale."""

    lam: float
    v: float


class LinReinforceParams(NamedTuple):
    """Linear-softmax REINFORCE: the fields of ``bandits.agents.ReinforceParams``."""

    alpha: float
    baseline: bool
    normalise: bool
    entropy: float
    bonus: float


class LinRLOOParams(NamedTuple):
    """Linear-softmax RLOO: the fields of ``bandits.agents.RLOOParams``."""

    alpha: float
    group: int
    bonus: float


class LinGRPOParams(NamedTuple):
    """Linear-softmax GRPO: the fields of ``bandits.agents.GRPOParams``."""

    alpha: float
    group: int
    clip: float
    epochs: int
    kl: float
    bonus: float


# --- agents ----------------------------------------------------------------------------------


class LinGreedy(BanditAgent):
    """Ridge-regression greedy: argmax_k <x_k, theta_hat>, theta_hat = V^{-1} b,
    V = lam I + sum x x^T, b = sum r x; ties to the lowest index. With probability
    ``epsilon`` a uniform arm instead (``epsilon=1``: uniform exploration for ever, the greedy
    readout planning on what was seen)."""

    name = "lin-greedy"
    long_name = "ridge-regression greedy"

    def __init__(self, lam: float = 1.0, epsilon: float = 0.0) -> None:
        self.lam = lam
        self.epsilon = epsilon
        _positive("lam", lam)
        _probability("epsilon", epsilon)

    def params(self, env: Any) -> LinGreedyParams:
        return LinGreedyParams(float(self.lam), float(self.epsilon))


class OFUL(BanditAgent):
    """OFUL (Abbasi-Yadkori, Pal and Szepesvari 2011), the LinUCB family: argmax_k
    <x_k, theta_hat> + c beta_t ||x_k||_{V^{-1}}, beta_t from their Theorem 2."""

    name = "oful"
    long_name = "optimism in the face of uncertainty for linear bandits"

    def __init__(self, lam: float = 1.0, delta: float = 0.05, theta_norm: float = 1.0,
                 c: float = 1.0) -> None:
        self.lam = lam
        self.delta = delta
        self.theta_norm = theta_norm
        self.c = c
        _positive("lam", lam)
        _delta(delta)
        _positive("theta_norm", theta_norm)
        _positive("c", c, allow_zero=True)

    def params(self, env: Any) -> OFULParams:
        return OFULParams(float(self.lam), float(self.delta), float(self.theta_norm),
                          float(self.c), float(env.sigma))


class LinTS(BanditAgent):
    """Linear Thompson sampling (Agrawal and Goyal 2013): theta~ ~ N(theta_hat, v^2 V^{-1}),
    argmax_k <x_k, theta~>, with v = sigma * scale."""

    name = "lin-ts"
    long_name = "linear Thompson sampling"

    def __init__(self, lam: float = 1.0, scale: float = 1.0) -> None:
        self.lam = lam
        self.scale = scale
        _positive("lam", lam)
        _positive("scale", scale, allow_zero=True)

    def params(self, env: Any) -> LinTSParams:
        return LinTSParams(float(self.lam), float(env.sigma) * float(self.scale))


class LinReinforce(Reinforce):
    """REINFORCE on the linear softmax policy pi_w(k) ~ exp(<x_k, w>): w += alpha A
    (x_{A_t} - sum_j pi_j x_j), A = R - b; the options of ``reinforce``."""

    name = "lin-reinforce"
    long_name = "REINFORCE on a linear softmax policy"

    def params(self, env: Any) -> LinReinforceParams:
        return LinReinforceParams(*super().params(env))


class LinRLOO(RLOO):
    """RLOO on the linear softmax policy: groups of G pulls, leave-one-out advantages."""

    name = "lin-rloo"
    long_name = "REINFORCE leave-one-out on a linear softmax policy"

    def params(self, env: Any) -> LinRLOOParams:
        return LinRLOOParams(*super().params(env))


class LinGRPO(GRPO):
    """GRPO on the linear softmax policy: groups of G pulls, group-normalised advantages, E
    ascent steps on the clipped surrogate minus kl KL(pi || uniform)."""

    name = "lin-grpo"
    long_name = "group relative policy optimisation on a linear softmax policy"

    def params(self, env: Any) -> LinGRPOParams:
        return LinGRPOParams(*super().params(env))


#: Registry name -> agent class.
REGISTRY: dict[str, type[BanditAgent]] = registry(
    (LinGreedy, OFUL, LinTS, LinReinforce, LinRLOO, LinGRPO))

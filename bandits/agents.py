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
import numbers
from typing import Any, NamedTuple

import numpy as np

from tracking.specs import Agent, registry
from tracking.validate import InputError, as_choice, as_int


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
    """REINFORCE: step size ``alpha``; ``baseline``: subtract the mean of earlier rewards;
    ``normalise``: divide by the running standard deviation; the entropy weight and the count
    bonus (0: off)."""

    alpha: float
    baseline: bool
    normalise: bool
    entropy: float
    bonus: float


class RLOOParams(NamedTuple):
    """REINFORCE leave-one-out: step size, group size G, count bonus."""

    alpha: float
    group: int
    bonus: float


class GRPOParams(NamedTuple):
    """GRPO: step size, group size G, clip range epsilon, epochs E, KL weight, count bonus."""

    alpha: float
    group: int
    clip: float
    epochs: int
    kl: float
    bonus: float


class PPOParams(NamedTuple):
    """PPO: actor and critic step sizes, batch size G, clip range, epochs E, count bonus."""

    alpha: float
    alpha_v: float
    group: int
    clip: float
    epochs: int
    bonus: float


class ActorCriticParams(NamedTuple):
    """One-step actor-critic: actor and critic step sizes, count bonus."""

    alpha: float
    alpha_v: float
    bonus: float


class NPGParams(NamedTuple):
    """Sample-based natural policy gradient (Exp3 without mixing): step size, count bonus."""

    alpha: float
    bonus: float


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


#: The baselines of the bandit REINFORCE, and the booleans earlier versions wrote for them.
BASELINES = ("none", "mean")
BASELINE_ALIASES = {True: "mean", False: "none"}


def _bonus(bonus: float) -> float:
    return _positive("bonus", bonus, allow_zero=True)


def _step(name: str, value: float) -> float:
    """A critic's step size, in (0, 1]: a fraction of the way to the target."""
    v = _positive(name, value)
    if v > 1.0:
        raise InputError(f"{name} must lie in (0, 1], got {value!r}")
    return v


def _clip(clip: float) -> float:
    """The clip range epsilon of PPO and GRPO: > 0, inf allowed (no clipping)."""
    if isinstance(clip, bool) or not isinstance(clip, numbers.Real) or not clip > 0.0:
        raise InputError(f"clip must be a number > 0 (inf: no clipping), got {clip!r}")
    return float(clip)


def _group(group: int) -> int:
    """A group of G >= 2 samples: with G = 1 every group-relative advantage is 0."""
    g = as_int("group", group)
    if g < 2:
        raise InputError(f"group must be an integer >= 2 (a sample alone in its group has no "
                         f"other to compare with: its advantage would be 0), got {group!r}")
    return g


class Reinforce(BanditAgent):
    """Softmax gradient bandit (REINFORCE): H += alpha A (onehot(A_t) - pi), A = R - b.

    ``baseline``: ``mean`` (b = the mean of the earlier rewards) or ``none`` (b = 0); true and
    false, which earlier versions took, are stored as ``mean`` and ``none``. ``normalise``
    divides A by the running standard deviation of the rewards, ``entropy`` = beta adds
    alpha beta times the gradient of the entropy of pi, ``bonus`` = c adds c / sqrt(N_k) to the
    reward the update sees.
    """

    name = "reinforce"
    family = "policy-gradient"

    def __init__(self, alpha: float = 0.1, baseline: str | bool = "mean", normalise: bool = False,
                 entropy: float = 0.0, bonus: float = 0.0) -> None:
        self.alpha = alpha
        self.baseline = as_choice("baseline", baseline, BASELINES, BASELINE_ALIASES)
        self.normalise = normalise
        self.entropy = entropy
        self.bonus = bonus
        _positive("alpha", alpha)
        if not isinstance(normalise, (bool, np.bool_)):
            raise InputError(f"normalise must be true or false, got {normalise!r}")
        _positive("entropy", entropy, allow_zero=True)
        _bonus(bonus)

    def params(self, env: Any) -> ReinforceParams:
        return ReinforceParams(float(self.alpha), self.baseline == "mean", bool(self.normalise),
                               float(self.entropy), float(self.bonus))


class RLOO(BanditAgent):
    """REINFORCE leave-one-out (Kool et al. 2019): G pulls from one policy, then
    H += (alpha / G) sum_i (R_i - mean_{j != i} R_j)(onehot(A_i) - pi)."""

    name = "rloo"
    long_name = "REINFORCE leave-one-out"
    family = "policy-gradient"

    def __init__(self, group: int = 8, alpha: float = 0.1, bonus: float = 0.0) -> None:
        self.group = group
        self.alpha = alpha
        self.bonus = bonus
        _group(group)
        _positive("alpha", alpha)
        _bonus(bonus)

    def params(self, env: Any) -> RLOOParams:
        return RLOOParams(float(self.alpha), int(self.group), float(self.bonus))


class GRPO(BanditAgent):
    """Group relative policy optimisation (Shao et al. 2024): G pulls from one policy,
    advantages normalised within the group, E ascent steps on the clipped surrogate minus
    kl KL(pi || uniform)."""

    name = "grpo"
    long_name = "group relative policy optimisation"
    family = "policy-gradient"
    unbounded = ("clip",)

    def __init__(self, group: int = 8, clip: float = 0.2, epochs: int = 4, kl: float = 0.0,
                 alpha: float = 0.1, bonus: float = 0.0) -> None:
        self.group = group
        self.clip = clip
        self.epochs = epochs
        self.kl = kl
        self.alpha = alpha
        self.bonus = bonus
        _group(group)
        _clip(clip)
        as_int("epochs", epochs, minimum=1)
        _positive("kl", kl, allow_zero=True)
        _positive("alpha", alpha)
        _bonus(bonus)

    def params(self, env: Any) -> GRPOParams:
        return GRPOParams(float(self.alpha), int(self.group), float(self.clip),
                          int(self.epochs), float(self.kl), float(self.bonus))


class PPO(BanditAgent):
    """Proximal policy optimisation (Schulman et al. 2017) with a scalar critic V: G pulls
    from one policy, advantages R_i - V normalised in the batch, E ascent steps on the clipped
    surrogate, then V += alpha_v (mean R - V)."""

    name = "ppo"
    long_name = "proximal policy optimisation"
    family = "policy-gradient"
    unbounded = ("clip",)

    def __init__(self, group: int = 8, clip: float = 0.2, epochs: int = 4, alpha: float = 0.1,
                 alpha_v: float = 0.1, bonus: float = 0.0) -> None:
        self.group = group
        self.clip = clip
        self.epochs = epochs
        self.alpha = alpha
        self.alpha_v = alpha_v
        self.bonus = bonus
        _group(group)
        _clip(clip)
        as_int("epochs", epochs, minimum=1)
        _positive("alpha", alpha)
        _step("alpha_v", alpha_v)
        _bonus(bonus)

    def params(self, env: Any) -> PPOParams:
        return PPOParams(float(self.alpha), float(self.alpha_v), int(self.group),
                         float(self.clip), int(self.epochs), float(self.bonus))


class ActorCritic(BanditAgent):
    """One-step actor-critic (Sutton and Barto 2018, section 13.5) with a scalar critic:
    delta = R - V, V += alpha_v delta, H += alpha delta (onehot(A_t) - pi)."""

    name = "actor-critic"
    family = "policy-gradient"

    def __init__(self, alpha: float = 0.1, alpha_v: float = 0.1, bonus: float = 0.0) -> None:
        self.alpha = alpha
        self.alpha_v = alpha_v
        self.bonus = bonus
        _positive("alpha", alpha)
        _step("alpha_v", alpha_v)
        _bonus(bonus)

    def params(self, env: Any) -> ActorCriticParams:
        return ActorCriticParams(float(self.alpha), float(self.alpha_v), float(self.bonus))


class NPG(BanditAgent):
    """Sample-based softmax natural policy gradient (Kakade 2001; Agarwal et al. 2021):
    H_A += alpha R / pi_A, which is Exp3 (Auer et al. 2002) with learning rate alpha and no
    uniform mixing."""

    name = "npg"
    long_name = "natural policy gradient"
    family = "policy-gradient"

    def __init__(self, alpha: float = 0.1, bonus: float = 0.0) -> None:
        self.alpha = alpha
        self.bonus = bonus
        _positive("alpha", alpha)
        _bonus(bonus)

    def params(self, env: Any) -> NPGParams:
        return NPGParams(float(self.alpha), float(self.bonus))


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
REGISTRY: dict[str, type[BanditAgent]] = registry(
    (Greedy, EpsilonGreedy, ExploreThenCommit, UCB, KLUCB, Thompson, Reinforce, RLOO, GRPO, PPO,
     ActorCritic, NPG, PGExact))

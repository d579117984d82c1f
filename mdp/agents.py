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

import math
import numbers
from typing import NamedTuple

import numpy as np

from tracking.specs import Agent, registry
from tracking.validate import FALSE_WORDS, TRUE_WORDS, InputError, as_float, as_int


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
    baseline: int  # BASELINE_NONE, BASELINE_MEAN or BASELINE_VALUE
    alpha_v: float
    normalise: bool
    entropy: float
    bonus: float
    stationary: bool


class RLOOParams(NamedTuple):
    group: int
    alpha: float
    bonus: float
    stationary: bool


class GRPOParams(NamedTuple):
    group: int
    clip: float
    epochs: int
    kl: float
    alpha: float
    bonus: float
    stationary: bool


class PPOParams(NamedTuple):
    clip: float
    epochs: int
    group: int
    lam: float
    alpha: float
    alpha_v: float
    bonus: float
    stationary: bool


class ActorCriticParams(NamedTuple):
    alpha: float
    alpha_v: float
    bonus: float
    stationary: bool


class NPGParams(NamedTuple):
    alpha: float
    bonus: float
    stationary: bool


class MDPAgent(Agent):
    """Base of the MDP agents: :meth:`params` is the record the kernels dispatch on."""

    def params(self) -> tuple:
        """The hyperparameters as the agent's typed parameter record."""
        raise NotImplementedError

    def episode_work(self, n_states: int, n_actions: int, nnz: int, horizon: int,
                     sampled: bool) -> float:
        """Elementary operations of one episode in the episodic loop, for the work guard: one
        pass over the model per step h, H (nnz + S A), which a plan and an exact evaluation
        each take (the agents that plan, and every agent when the regret is exact)."""
        return float(horizon) * (nnz + n_states * n_actions)


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

    def episode_work(self, n_states: int, n_actions: int, nnz: int, horizon: int,
                     sampled: bool) -> float:
        """A pass over the model per step, plus a dense sample (S^2 A Gamma variates) and the
        plan on it (H S^2 A)."""
        sa = n_states * n_actions
        return (super().episode_work(n_states, n_actions, nnz, horizon, sampled)
                + (20.0 + horizon) * sa * n_states)


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


# --- the policy-gradient family ----------------------------------------------------------------

#: reinforce's baselines, in the order of their codes in :class:`ReinforceParams`.
BASELINES = ("none", "mean", "value")
BASELINE_NONE, BASELINE_MEAN, BASELINE_VALUE = range(3)


def _baseline(value: object) -> str:
    """reinforce's baseline by its canonical name; true and false (the switch of earlier
    versions, which saved configurations hold) are aliases of mean and none."""
    if isinstance(value, (bool, np.bool_)):
        return "mean" if value else "none"
    if isinstance(value, str):
        word = value.strip().lower()
        if word in BASELINES:
            return word
        if word in TRUE_WORDS + FALSE_WORDS:
            return "mean" if word in TRUE_WORDS else "none"
    raise InputError(f"baseline must be none, mean or value (true and false: aliases of mean "
                     f"and none), got {value!r}")


def _switch(name: str, value: object) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"{name} must be true or false, got {value!r}")


def _clip(value: object) -> None:
    """The clip range epsilon of grpo and ppo: > 0, inf (no clipping) allowed."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value) \
            or value <= 0.0:
        raise InputError(f"clip must be a number > 0 (inf: no clipping), got {value!r}")


def _group(value: object, minimum: int, why: str) -> None:
    g = as_int("group", value)
    if g < minimum:
        raise InputError(f"group must be >= {minimum}{why}, got {g}")


def _step_v(value: object) -> None:
    as_float("alpha_v", value, minimum=0.0, maximum=1.0, strict_min=True)


class PolicyGradientAgent(MDPAgent):
    """Base of the tabular softmax policy-gradient agents: pi_h(. | s) = softmax(theta[h, s])
    (theta[s] shared by every step h with ``stationary = true``), trained by gradient ascent
    with the constant step ``alpha``; ``bonus = c`` adds c / sqrt(N(s, a)) to every reward the
    update sees, N(s, a) counting the visits of (s, a) up to the current one."""

    family = "policy-gradient"
    alpha: float
    bonus: float
    stationary: bool

    def episode_work(self, n_states: int, n_actions: int, nnz: int, horizon: int,
                     sampled: bool) -> float:
        """With sampled regret only the visited rows: H (A + nnz / (S A)), the actions and the
        successors (on average) of the H steps; else a pass over the model per step."""
        if sampled:
            return float(horizon) * (n_actions + nnz / (n_states * n_actions))
        return super().episode_work(n_states, n_actions, nnz, horizon, sampled)

    def _check_shared(self) -> None:
        as_float("alpha", self.alpha, minimum=0.0, strict_min=True)
        as_float("bonus", self.bonus, minimum=0.0)
        _switch("stationary", self.stationary)


class Reinforce(PolicyGradientAgent):
    """REINFORCE: theta[h, s_h] += alpha A_h (onehot(a_h) - pi_h(. | s_h)) after each episode,
    A_h the return-to-go minus the baseline (none, the running mean of earlier returns at
    (h, s_h), or a Monte-Carlo critic V_h(s_h)), optionally divided by the running standard
    deviation of the returns at (h, s_h), plus alpha entropy times the entropy's gradient."""

    name = "reinforce"

    def __init__(self, alpha: float = 0.1, baseline: str | bool = "mean", alpha_v: float = 0.1,
                 normalise: bool = False, entropy: float = 0.0, bonus: float = 0.0,
                 stationary: bool = False) -> None:
        self.alpha = alpha
        self.baseline = _baseline(baseline)
        self.alpha_v = alpha_v
        self.normalise = normalise
        self.entropy = entropy
        self.bonus = bonus
        self.stationary = stationary
        self._check_shared()
        _step_v(alpha_v)
        _switch("normalise", normalise)
        as_float("entropy", entropy, minimum=0.0)

    def params(self) -> ReinforceParams:
        return ReinforceParams(float(self.alpha), BASELINES.index(self.baseline),
                               float(self.alpha_v), bool(self.normalise), float(self.entropy),
                               float(self.bonus), bool(self.stationary))


class RLOO(PolicyGradientAgent):
    """REINFORCE leave-one-out (Kool, van Hoof and Welling 2019): G episodes of one policy,
    then theta += (alpha / G) sum_i (R_i - mean_{j != i} R_j) grad log pi(episode i)."""

    name = "rloo"
    long_name = "REINFORCE leave-one-out"

    def __init__(self, group: int = 8, alpha: float = 0.1, bonus: float = 0.0,
                 stationary: bool = False) -> None:
        self.group = group
        self.alpha = alpha
        self.bonus = bonus
        self.stationary = stationary
        _group(group, 2, " (the leave-one-out baseline needs another episode)")
        self._check_shared()

    def params(self) -> RLOOParams:
        return RLOOParams(int(self.group), float(self.alpha), float(self.bonus),
                          bool(self.stationary))


class GRPO(PolicyGradientAgent):
    """Group relative policy optimisation (Shao et al. 2024): G episodes of one policy, their
    returns normalised within the group, then ``epochs`` ascent steps on the clipped surrogate
    minus kl times the exact KL divergence to the initial, uniform policy."""

    name = "grpo"
    unbounded = ("clip",)
    long_name = "group relative policy optimisation"

    def __init__(self, group: int = 8, clip: float = 0.2, epochs: int = 4, kl: float = 0.0,
                 alpha: float = 0.1, bonus: float = 0.0, stationary: bool = False) -> None:
        self.group = group
        self.clip = clip
        self.epochs = epochs
        self.kl = kl
        self.alpha = alpha
        self.bonus = bonus
        self.stationary = stationary
        _group(group, 2, " (with one episode per group every advantage is 0)")
        _clip(clip)
        as_int("epochs", epochs, minimum=1)
        as_float("kl", kl, minimum=0.0)
        self._check_shared()

    def params(self) -> GRPOParams:
        return GRPOParams(int(self.group), float(self.clip), int(self.epochs), float(self.kl),
                          float(self.alpha), float(self.bonus), bool(self.stationary))


class PPO(PolicyGradientAgent):
    """Proximal policy optimisation (Schulman et al. 2017): G episodes of one policy,
    GAE(lam) advantages from a tabular critic V_h(s), normalised per batch, ``epochs`` ascent
    steps on the clipped surrogate, then the critic a step alpha_v towards the returns."""

    name = "ppo"
    unbounded = ("clip",)
    long_name = "proximal policy optimisation"

    def __init__(self, clip: float = 0.2, epochs: int = 4, group: int = 8, lam: float = 0.95,
                 alpha: float = 0.1, alpha_v: float = 0.1, bonus: float = 0.0,
                 stationary: bool = False) -> None:
        self.clip = clip
        self.epochs = epochs
        self.group = group
        self.lam = lam
        self.alpha = alpha
        self.alpha_v = alpha_v
        self.bonus = bonus
        self.stationary = stationary
        _clip(clip)
        as_int("epochs", epochs, minimum=1)
        _group(group, 1, "")
        as_float("lam", lam, minimum=0.0, maximum=1.0)
        _step_v(alpha_v)
        self._check_shared()

    def params(self) -> PPOParams:
        return PPOParams(float(self.clip), int(self.epochs), int(self.group), float(self.lam),
                         float(self.alpha), float(self.alpha_v), float(self.bonus),
                         bool(self.stationary))


class ActorCritic(PolicyGradientAgent):
    """One-step actor-critic (Sutton and Barto 2018, section 13.5) with a tabular critic:
    delta = r + V_{h+1}(s') - V_h(s), V_h(s) += alpha_v delta, theta += alpha delta grad log
    pi_h(a | s), at every step in order."""

    name = "actor-critic"

    def __init__(self, alpha: float = 0.1, alpha_v: float = 0.1, bonus: float = 0.0,
                 stationary: bool = False) -> None:
        self.alpha = alpha
        self.alpha_v = alpha_v
        self.bonus = bonus
        self.stationary = stationary
        self._check_shared()
        _step_v(alpha_v)

    def params(self) -> ActorCriticParams:
        return ActorCriticParams(float(self.alpha), float(self.alpha_v), float(self.bonus),
                                 bool(self.stationary))


class NPG(PolicyGradientAgent):
    """Sample-based softmax natural policy gradient (Kakade 2001; Agarwal et al. 2021):
    theta_h(s, .) += alpha Q_hat_h(s, .) at the states of the episode, Q_hat the running
    Monte-Carlo mean of the returns-to-go per (h, s, a)."""

    name = "npg"
    long_name = "natural policy gradient"

    def __init__(self, alpha: float = 0.1, bonus: float = 0.0, stationary: bool = False
                 ) -> None:
        self.alpha = alpha
        self.bonus = bonus
        self.stationary = stationary
        self._check_shared()

    def params(self) -> NPGParams:
        return NPGParams(float(self.alpha), float(self.bonus), bool(self.stationary))

#: Registry name -> agent class (the episodic loop, mdp.run).
REGISTRY: dict[str, type[MDPAgent]] = registry(
    (CEGreedy, CEOptimistic, CEDither, PSRL, UCRL2, QLearning, Reinforce, RLOO, GRPO, PPO,
     ActorCritic, NPG))

#: The agents of the continuing, average-reward loop (mdp.run_continuing).
CONTINUING_REGISTRY: dict[str, type[MDPAgent]] = registry(
    (CEGreedy, CEOptimistic, PSRL, UCRL2))

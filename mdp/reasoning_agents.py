"""Agents of the reasoning setting: hyperparameters only; the learned state lives in the kernels.

The trained agents sample groups of responses to training prompts, spend one verifier call per
response, and learn from the verdicts: ``grpo``, ``rloo`` and ``rsft`` move a softmax policy
(tabular logits per prompt, or logits shared across prompts through their features) by
gradient steps; ``ce`` and ``ce-optimistic`` fit a table of the verifier's verdicts per final
state and plan the exact KL-regularised optimum on it; ``ce-linear`` fits a ridge regression of
the verdicts on features of the response's tokens (and of the prompt), shared across responses
and prompts, and plans the same optimum for it, optionally on a posterior sample. The
inference-only agents ``base``, ``power`` and ``low-temp`` learn nothing and spend no calls:
their policy is fixed (the reference, the power distribution of whole responses, the
token-level power). The exact
definitions are in docs/algorithms.md ("Reasoning agents"). This module imports no numba.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, ClassVar, NamedTuple

from tracking.specs import Agent
from tracking.validate import InputError, as_float, as_int

__all__ = ["CE", "CELinear", "GRPO", "REGISTRY", "RLOO", "RSFT", "Base", "CEOptimistic",
           "LowTemperature", "Power", "ReasoningAgent"]

#: The policies a trained gradient agent can move.
POLICIES = ("tabular", "shared")

#: The prompt features of ce-linear's verifier model: none (one table of steps and tokens for
#: every prompt) or the task's prompt features.
MODEL_FEATURES = ("none", "prompt")

#: Fixed-policy kinds of :class:`FixedParams`.
FIXED_BASE, FIXED_POWER, FIXED_LOW_TEMP = 0, 1, 2


# --- parameter records (field types are fixed: numba compiles one loop per record type) ------


class FixedParams(NamedTuple):
    """An inference-only agent: its policy table is built by the job (``kind``, ``alpha``);
    batch and group are 1 (one prompt per step, for the pseudo-regret)."""

    kind: int
    alpha: float
    batch: int
    group: int


class GRPOParams(NamedTuple):
    batch: int
    group: int
    alpha: float
    beta: float
    clip: float
    epochs: int
    shared: bool


class RLOOParams(NamedTuple):
    batch: int
    group: int
    alpha: float
    beta: float
    shared: bool


class RSFTParams(NamedTuple):
    batch: int
    group: int
    alpha: float
    steps: int
    shared: bool


class CEParams(NamedTuple):
    """ce (c = 0) and ce-optimistic (c > 0)."""

    batch: int
    group: int
    beta: float
    r0: float
    c: float


class CELinearParams(NamedTuple):
    """ce-linear: ridge ``lam``, posterior scale ``v`` (0: the plug-in estimate), and whether
    the prompt features enter the model (``prompt``)."""

    batch: int
    group: int
    beta: float
    lam: float
    v: float
    prompt: bool


# --- validation --------------------------------------------------------------------------


def _positive(name: str, value: Any, allow_zero: bool = False) -> float:
    return as_float(name, value, minimum=0.0, strict_min=not allow_zero)


def _count(name: str, value: Any, minimum: int = 1) -> int:
    return as_int(name, value, minimum=minimum)


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InputError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def _check_plan(batch: Any, group: Any, beta: Any) -> None:
    """The CE agents' batch, group and KL strength."""
    _count("batch", batch)
    _count("group", group)
    _positive("beta", beta)


def _clip(value: Any) -> None:
    """grpo's clip range: > 0, inf (no clipping) allowed."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value) \
            or value <= 0.0:
        raise InputError(f"clip must be a number > 0 (inf: no clipping), got {value!r}")


def _unit(name: str, value: Any) -> float:
    return as_float(name, value, minimum=0.0, maximum=1.0)


# --- agents ------------------------------------------------------------------------------


class ReasoningAgent(Agent):
    """Base of the reasoning agents: :meth:`params` is the record the kernels dispatch on."""

    #: Whether the agent samples responses and spends verifier calls.
    learns: ClassVar[bool] = True

    def params(self) -> tuple:
        """The parameter record the kernels dispatch on (one loop is compiled per type)."""
        raise NotImplementedError

    #: The parameter setting by which the agent reads the task's prompt features (None: it
    #: reads none), for the job's message on a task without them.
    feature_option: str | None = None
    #: Operations per (prompt, step, state, token) of a readout: its exact passes.
    readout_work: ClassVar[float] = 2.0

    def call_work(self, horizon: int, n_states: int, vocab: int) -> float:
        """Elementary operations per verifier call, for the work guard: the exact pass@1 of
        the sampled prompt (H Z V), the response's rows (H V) and its update (H V, times the
        passes over the group)."""
        return float(horizon) * vocab * (n_states + 2)

    @property
    def needs_features(self) -> bool:
        """Whether the agent needs the task's prompt features."""
        return self.feature_option is not None

    def step_work(self, n_prompts: int, horizon: int, n_states: int, vocab: int,
                  n_features: int) -> float:
        """Elementary operations per learning step beyond :meth:`call_work` (0 here)."""
        return 0.0

    def state_bytes(self, n_prompts: int, horizon: int, n_states: int, vocab: int,
                    n_features: int) -> float:
        """Bytes of a run's state beyond the policy table (P H Z V numbers) and the counts,
        for the memory guard (0 here)."""
        return 0.0


class Base(ReasoningAgent):
    """The reference policy pi_ref itself: nothing learned, no calls spent."""

    name = "base"
    long_name = "the reference policy"
    family = "inference"
    learns = False

    def __init__(self) -> None:
        pass

    def params(self) -> FixedParams:
        """The FixedParams record of this agent."""
        return FixedParams(FIXED_BASE, 1.0, 1, 1)


class _Sharpened(ReasoningAgent):
    """Base of the fixed policies that sharpen pi_ref by a power ``alpha``: no calls spent."""

    family = "inference"
    learns = False
    #: The FixedParams kind of the policy.
    KIND: ClassVar[int]

    def __init__(self, alpha: float = 4.0) -> None:
        self.alpha = alpha
        _positive("alpha", alpha)

    def params(self) -> FixedParams:
        """The FixedParams record of this agent."""
        return FixedParams(self.KIND, float(self.alpha), 1, 1)


class Power(_Sharpened):
    """The exact power distribution pi_ref(y)^alpha / Z over whole responses (Karan and Du
    2025), as a Markov policy: no calls spent."""

    name = "power"
    long_name = "the power distribution of whole responses"
    KIND = FIXED_POWER


class LowTemperature(_Sharpened):
    """Token-level power pi_ref(v | h, z)^alpha, renormalised per row (temperature 1 / alpha):
    no calls spent."""

    name = "low-temp"
    long_name = "token-level power (low temperature)"
    KIND = FIXED_LOW_TEMP


class _Gradient(ReasoningAgent):
    """Base of the gradient agents: ``batch`` prompts a step, ``group`` responses each, step
    ``alpha`` on the logits (``policy = "tabular"``) or on the shared weights
    (``"shared"``)."""

    family = "policy-gradient"
    #: Operations counted per softmax entry (an exponential and its share of the sums).
    SOFTMAX_WORK: ClassVar[float] = 20.0
    batch: int
    group: int
    alpha: float
    policy: str

    def _check_common(self, min_group: int) -> None:
        _count("batch", self.batch)
        g = _count("group", self.group)
        if g < min_group:
            raise InputError(f"group must be >= {min_group} (the advantages of a group of one "
                             f"are 0), got {g}")
        _positive("alpha", self.alpha)
        _choice("policy", self.policy, POLICIES)

    @property
    def shared(self) -> bool:
        return self.policy == "shared"

    @property
    def feature_option(self) -> str | None:  # type: ignore[override]
        """``policy = "shared"`` when the logits read the prompt features, else None."""
        return 'policy = "shared"' if self.shared else None

    def passes(self) -> int:
        """Passes over the group's rows per update (each recomputes their softmax)."""
        return 1

    def call_work(self, horizon: int, n_states: int, vocab: int) -> float:
        """The sampled prompt's exact pass@1 (H Z V) and the softmax of every row the
        response reads, when sampled and at each pass of the update."""
        return float(horizon) * vocab * (n_states + self.SOFTMAX_WORK * (1 + self.passes()))


class GRPO(_Gradient):
    """GRPO (Shao et al. 2024): group-normalised advantages, ``epochs`` ascent steps on the
    clipped surrogate minus beta times the k3 estimate of KL(pi || pi_ref) per token."""

    name = "grpo"
    long_name = "group relative policy optimisation"
    unbounded = ("clip",)

    def __init__(self, batch: int = 4, group: int = 8, alpha: float = 20.0,
                 beta: float = 0.04, clip: float = 0.2, epochs: int = 1,
                 policy: str = "tabular") -> None:
        self.batch = batch
        self.group = group
        self.alpha = alpha
        self.beta = beta
        self.clip = clip
        self.epochs = epochs
        self.policy = policy
        self._check_common(2)
        _positive("beta", beta, allow_zero=True)
        _clip(clip)
        _count("epochs", epochs)

    def params(self) -> GRPOParams:
        """The GRPOParams record of this agent."""
        return GRPOParams(int(self.batch), int(self.group), float(self.alpha), float(self.beta),
                          float(self.clip), int(self.epochs), self.shared)

    def passes(self) -> int:
        return int(self.epochs)


class RLOO(_Gradient):
    """RLOO (Ahmadian et al. 2024; Kool et al. 2019): leave-one-out advantages times the
    gradient of log pi(y), optionally on rewards shaped by -beta log(pi / pi_ref)(y)."""

    name = "rloo"
    long_name = "REINFORCE leave-one-out"

    def __init__(self, batch: int = 4, group: int = 8, alpha: float = 5.0,
                 beta: float = 0.0, policy: str = "tabular") -> None:
        self.batch = batch
        self.group = group
        self.alpha = alpha
        self.beta = beta
        self.policy = policy
        self._check_common(2)
        _positive("beta", beta, allow_zero=True)

    def params(self) -> RLOOParams:
        """The RLOOParams record of this agent."""
        return RLOOParams(int(self.batch), int(self.group), float(self.alpha), float(self.beta),
                          self.shared)


class RSFT(_Gradient):
    """Rejection-sampling fine-tuning (STaR, RAFT, expert iteration): ``steps`` maximum
    likelihood steps on the verified-correct responses of the batch."""

    name = "rsft"
    long_name = "rejection-sampling fine-tuning"

    def __init__(self, batch: int = 4, group: int = 8, alpha: float = 1.0, steps: int = 1,
                 policy: str = "tabular") -> None:
        self.batch = batch
        self.group = group
        self.alpha = alpha
        self.steps = steps
        self.policy = policy
        self._check_common(1)
        _count("steps", steps)

    def params(self) -> RSFTParams:
        """The RSFTParams record of this agent."""
        return RSFTParams(int(self.batch), int(self.group), float(self.alpha), int(self.steps),
                          self.shared)

    def passes(self) -> int:
        return int(self.steps)


class CE(ReasoningAgent):
    """Certainty equivalence: the table r_hat(p, z) of mean verdicts per final state (r0 where
    unobserved) and the exact optimum pi(y) ~ pi_ref(y) exp(r_hat(y) / beta), re-planned for
    the batch's prompts after every batch."""

    name = "ce"
    long_name = "certainty equivalence"
    family = "certainty-equivalence"

    def __init__(self, batch: int = 4, group: int = 8, beta: float = 0.1,
                 r0: float = 0.0) -> None:
        self.batch = batch
        self.group = group
        self.beta = beta
        self.r0 = r0
        _check_plan(batch, group, beta)
        _unit("r0", r0)

    def params(self) -> CEParams:
        """The CEParams record of this agent."""
        return CEParams(int(self.batch), int(self.group), float(self.beta), float(self.r0), 0.0)

    def call_work(self, horizon: int, n_states: int, vocab: int) -> float:
        """The sampled prompt's exact pass@1 and the re-plan of its prompt (per group)."""
        return float(horizon) * vocab * (n_states + 1) + \
            float(horizon) * n_states * vocab * 3.0 / max(1, self.group)


class CEOptimistic(CE):
    """Optimistic certainty equivalence: r_hat(p, z) + c sqrt(1 / max(1, N(p, z))), capped
    at 1, in place of r_hat."""

    name = "ce-optimistic"
    long_name = "optimistic certainty equivalence"

    def __init__(self, batch: int = 4, group: int = 8, beta: float = 0.1, r0: float = 0.0,
                 c: float = 0.5) -> None:
        super().__init__(batch, group, beta, r0)
        self.c = c
        _positive("c", c)

    def params(self) -> CEParams:
        """The CEParams record of this agent."""
        return CEParams(int(self.batch), int(self.group), float(self.beta), float(self.r0),
                        float(self.c))


class CELinear(ReasoningAgent):
    """Certainty equivalence with a structured verifier model: the ridge regression
    r_hat(p, y) = theta_hat . Phi(p, y) of the verdicts on Phi(p, y) = sum_h e_h (x) e_{y_h} (x)
    x_p (x_p = (1, f_p) with ``features = "prompt"``, (1) with ``"none"``), fitted on every call
    so far, shared across prompts; after every batch every prompt is re-planned to the exact
    optimum pi(y) ~ pi_ref(y) exp(theta . Phi(p, y) / beta), theta = theta_hat (``v = 0``) or
    a posterior sample theta_hat + v L^{-T} xi (linear Thompson sampling, ``v > 0``)."""

    name = "ce-linear"
    long_name = "certainty equivalence with a linear verifier model"
    family = "certainty-equivalence"
    #: The exact passes and the re-plan of every prompt the readout reads.
    readout_work: ClassVar[float] = 5.0

    def __init__(self, batch: int = 4, group: int = 8, beta: float = 0.1, lam: float = 1.0,
                 v: float = 0.0, features: str = "none") -> None:
        self.batch = batch
        self.group = group
        self.beta = beta
        self.lam = lam
        self.v = v
        self.features = features
        _check_plan(batch, group, beta)
        _positive("lam", lam)
        _positive("v", v, allow_zero=True)
        _choice("features", features, MODEL_FEATURES)

    @property
    def feature_option(self) -> str | None:  # type: ignore[override]
        """``features = "prompt"`` when the model reads the prompt features, else None."""
        return 'features = "prompt"' if self.features == "prompt" else None

    def params(self) -> CELinearParams:
        """The CELinearParams record of this agent."""
        return CELinearParams(int(self.batch), int(self.group), float(self.beta),
                              float(self.lam), float(self.v), self.needs_features)

    def dim(self, horizon: int, vocab: int, n_features: int) -> int:
        """D = H V k, k = 1 + q with prompt features, else 1: the model's parameters."""
        return horizon * vocab * (1 + (n_features if self.needs_features else 0))

    def call_work(self, horizon: int, n_states: int, vocab: int) -> float:
        """The sampled prompt's exact pass@1 and its response's rows."""
        return float(horizon) * vocab * (n_states + 2)

    def step_work(self, n_prompts: int, horizon: int, n_states: int, vocab: int,
                  n_features: int) -> float:
        """The step's Gram entries (B G (H k)^2), the Cholesky factorisation and solves of the
        D x D system, and the re-plan of the next batch's prompts (B soft backward
        inductions; the readouts' re-plans are in :attr:`readout_work`)."""
        k = 1 + (n_features if self.needs_features else 0)
        d = float(self.dim(horizon, vocab, n_features))
        return (float(self.batch * self.group) * (horizon * k) ** 2 + d ** 3 / 6.0
                + 4.0 * d * d + float(self.batch) * horizon * vocab * (3.0 * n_states + k))

    def state_bytes(self, n_prompts: int, horizon: int, n_states: int, vocab: int,
                    n_features: int) -> float:
        """The Gram matrix and its factor (2 D^2 numbers), four vectors of D, the prompts'
        model inputs and plan stamps, and the re-plan's scratch."""
        d = float(self.dim(horizon, vocab, n_features))
        k = 1 + (n_features if self.needs_features else 0)
        return 8.0 * (2 * d * d + 4 * d + n_prompts * (k + 1) + horizon * n_states * vocab
                      + (horizon + 1) * n_states + 2)


#: Registry name -> agent class.
REGISTRY: dict[str, type[ReasoningAgent]] = {
    cls.name: cls for cls in (GRPO, RLOO, RSFT, CE, CEOptimistic, CELinear, Base, Power,
                              LowTemperature)
}

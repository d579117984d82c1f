"""The MDP lab's settings, declared once (:class:`tracking.settings.Setting`).

- ``"mdp"`` (episodic): ``runs`` runs of ``episodes`` episodes of ``horizon`` steps. With
  ``regret = "exact"`` (the default) the regret of episode k is V*_0(start) - V^{pi_k}_0(start),
  computed exactly, so it lies in [0, V* - V_min], V_min = min over policies of V^pi_0(start);
  with ``regret = "sampled"`` it is V*_0(start) - G_k, G_k the episode's realised return, which
  lies in [V* - H r_max, V* - H r_min] (r the observed rewards) and may be negative. The simple
  regret is exact in both, in [0, V* - V_min].
- ``"continuing"``: one run of ``steps`` steps without resets. The pseudo-regret of a step is
  rho* - R(s_t, a_t), in [rho* - max R, rho* - min R]: it may be negative. The simple regret
  rho* - g^pi(start) lies in [0, rho* - min R], since every gain is an average of rewards.

Both take their environment from a built-in name (``env``, with ``args``) or a model file
(``file``, resolved against the experiment file's folder), and observe ``rewards`` ``mean``
(R itself) or ``bernoulli`` (draws). The generative model (``mdp.generative``) is no setting:
it measures the error of a plug-in model against samples per pair, not an agent's regret over
time, so it has no job; the generative-model study computes it beside its regret runs.

This module imports neither numba nor the loops.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tracking import paths, settings
from tracking.settings import Bounds, Key, Setting, fail

if TYPE_CHECKING:
    from tracking.results import Result

    from .continuing import ContinuingJob
    from .loop import MDPJob

__all__ = ["CONTINUING", "EPISODIC", "REGRET", "REWARDS"]

#: How observed rewards are drawn: R itself, or Bernoulli(R) draws.
REWARDS = Key("rewards", "string", default="mean", choices=("mean", "bernoulli"))
#: How an episode's regret is computed: exactly on the true model, or from its realised return.
REGRET = Key("regret", "string", default="exact", choices=("exact", "sampled"))


def _model_source(problem: str) -> Callable[[Mapping[str, Any], Path],
                                            tuple[dict[str, Any], str]]:
    """The source validator of ``problem`` ("an mdp problem"): a built-in env or a file."""

    def source(data: Mapping[str, Any], base: Path) -> tuple[dict[str, Any], str]:
        if ("env" in data) == ("file" in data):
            fail("env", f"{problem} needs exactly one of 'env' or 'file'")
        if "env" in data:
            env = settings.string(data, "env")
            return {"env": env, "args": settings.table(data, "args", "{ n_states = 10 }")}, \
                env or "custom"
        if "args" in data:
            fail("args", "args applies to a built-in env, not to a file")
        path = Path(settings.string(data, "file"))
        path = path if path.is_absolute() else (base / path).resolve()
        if "name" not in data and not paths.valid_name(path.stem):  # it would name files
            fail("file", f"the default name {path.stem!r} (the file's stem) is not a valid name "
                         f"({paths.NAME_RULE}); give the problem a 'name'")
        return {"file": str(path)}, path.stem

    return source


def _stochastic(job: MDPJob | ContinuingJob) -> bool:
    """Some pair has two successors, or Bernoulli rewards draw from some R strictly in (0, 1)."""
    m = job.model
    if m.nnz > m.n_states * m.n_actions:
        return True
    return job.rewards == "bernoulli" and bool(np.any((m.R > 0.0) & (m.R < 1.0)))


def _validate(job: MDPJob | ContinuingJob) -> None:
    """The model rebuilt from its successor lists passes FiniteMDP's checks (rows are
    distributions over increasing successors, finite rewards, a start distribution)."""
    from .model import FiniteMDP

    m = job.model
    FiniteMDP.from_successors(m.indptr, m.indices, m.probs, m.R, m.initial, name=m.name)


def _episodic_bounds(job: MDPJob, result: Result) -> Bounds:
    """Simple regret: [0, V* - V_min], V_min by backward induction on -R (the worst policy's
    value). Per episode: the same with exact regret; with sampled regret [V* - H r_max,
    V* - H r_min], r ranging over the observed rewards (R's range, or [0, 1] with Bernoulli
    rewards)."""
    from .loop import optimal_value
    from .model import FiniteMDP

    m = job.model
    worst = FiniteMDP.from_successors(m.indptr, m.indices, m.probs, -m.R, m.initial)
    spread = job.v_star + optimal_value(worst, job.horizon)
    step = (0.0, spread)
    if job.regret == "sampled":
        r_lo, r_hi = (0.0, 1.0) if job.rewards == "bernoulli" else (m.R.min(), m.R.max())
        step = (job.v_star - job.horizon * float(r_hi), job.v_star - job.horizon * float(r_lo))
    return Bounds(step=step, simple=(0.0, spread))


def _continuing_bounds(job: ContinuingJob, result: Result) -> Bounds:
    """Per step [rho* - max R, rho* - min R]; simple regret [0, rho* - min R]."""
    r = job.model.R
    rho = job.rho_star
    return Bounds(step=(rho - float(r.max()), rho - float(r.min())),
                  simple=(0.0, rho - float(r.min())))


def _episodes_to_epsilon(result: Result, i: int, entry: dict[str, Any]) -> dict[str, Any]:
    """``episodes_to_epsilon``: samples to epsilon, n(epsilon, delta), in episodes (its
    estimate and interval divided by the samples of an episode)."""
    s2e = entry["samples_to_epsilon"]
    if s2e is None:
        return {"episodes_to_epsilon": None}
    per = result.samples_per_step
    return {"episodes_to_epsilon": {
        **s2e, **{k: s2e[k] / per for k in ("estimate", "low", "high") if s2e[k] is not None}}}


_COMMON: dict[str, Any] = {
    "agents": "mdp.agents:REGISTRY",
    "envs": "mdp.envs:ENVS",
    "source_keys": ("env", "args", "file"),
    "option_keys": (REWARDS,),
    "epsilon": 0.1,
    "sample_unit": "steps",
    "axis_unit": "environment steps",
    "stochastic": _stochastic,
    "validate": _validate,
}

EPISODIC = settings.register(Setting(
    name="mdp",
    job="mdp.loop:MDPJob",
    budget_keys=(Key("horizon", "integer", minimum=1), Key("episodes", "integer", minimum=1)),
    source=_model_source("an mdp problem"),
    length="episodes",
    smoke={"episodes": 10},
    example={"env": "riverswim", "horizon": 10, "episodes": 20},
    budget="H = {horizon}, K = {episodes:,} episodes",
    regret_label="sum of V* - V^pi_k",
    summary_keys=("episodes", "regret"),
    agent_extras=_episodes_to_epsilon,
    bounds=_episodic_bounds,
    work_rate=1e9,
    **{**_COMMON, "option_keys": (REWARDS, REGRET)},
))

CONTINUING = settings.register(Setting(
    name="continuing",
    job="mdp.continuing:ContinuingJob",
    budget_keys=(Key("steps", "integer", minimum=1),),
    source=_model_source("a continuing problem"),
    length="steps",
    smoke={"steps": 300},
    example={"env": "riverswim", "steps": 300},
    budget="T = {budget_samples:,} steps without resets",
    regret_label="pseudo-regret",
    bounds=_continuing_bounds,
    work_rate=2e11,  # its work counts planning sweeps generously
    **{**_COMMON, "agents": "mdp.agents:CONTINUING_REGISTRY"},
))

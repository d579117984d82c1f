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
(R itself) or ``bernoulli`` (draws). An episodic problem whose built-in env takes a ``seed``
(a random family: garnet, deep-sea) may draw an instance per run (``instance = "per-run"``):
each run then has its own model, V*_0 and regret. Both may measure samples to epsilon at
``epsilon_share`` times the optimal value of each run's instance (V*_0; rho*) instead of at
one ``epsilon``. The generative model (``mdp.generative``) is no setting:
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
from tracking.specs import short_name

if TYPE_CHECKING:
    from tracking.results import Result

    from .continuing import ContinuingJob
    from .loop import MDPJob

__all__ = ["CONTINUING", "EPISODIC", "INSTANCE", "REGRET", "REWARDS"]

#: How observed rewards are drawn: R itself, or Bernoulli(R) draws.
REWARDS = Key("rewards", "string", default="mean", choices=("mean", "bernoulli"))
#: How an episode's regret is computed: exactly on the true model, or from its realised return.
REGRET = Key("regret", "string", default="exact", choices=("exact", "sampled"))
#: Whether every run shares one instance of the environment (``fixed``) or draws its own from
#: its run seed (``per-run``: a built-in env with a ``seed`` argument; mdp/loop.py).
INSTANCE = Key("instance", "string", default="fixed", choices=("fixed", "per-run"))


def _model_source(problem: str) -> Callable[[Mapping[str, Any], Path],
                                            tuple[dict[str, Any], str]]:
    """The source validator of ``problem`` ("an mdp problem"): a built-in env or a file."""

    def source(data: Mapping[str, Any], base: Path) -> tuple[dict[str, Any], str]:
        if ("env" in data) == ("file" in data):
            fail("env", f"{problem} needs exactly one of 'env' or 'file'")
        if "env" in data:
            env = settings.string(data, "env")
            return {"env": env, "args": settings.table(data, "args", "{ n_states = 10 }")}, \
                short_name(env) or "custom"
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
    rewards). With an instance per run, each run's bounds are its own instance's (rebuilt
    from its saved seed), arrays (1, runs)."""
    if not job.per_run:
        lo, hi, spread = _instance_bounds(job, job.model, job.v_star)
        return Bounds(step=(lo, hi), simple=(0.0, spread))
    per_run = np.array([_instance_bounds(job, job.build_instance(int(s)), float(v)) for s, v in
                        zip(result.extra["instance_seed"][0], result.extra["v_star"][0])])
    lo, hi, spread = (per_run[None, :, j] if per_run.size else 0.0 for j in range(3))
    return Bounds(step=(lo, hi), simple=(0.0, spread))


def _instance_bounds(job: MDPJob, m: Any, v_star: float) -> tuple[float, float, float]:
    """One instance's bounds (:func:`_episodic_bounds`): the regret of an episode in [lo, hi],
    the simple regret in [0, spread]."""
    from .loop import optimal_value
    from .model import FiniteMDP

    worst = FiniteMDP.from_successors(m.indptr, m.indices, m.probs, -m.R, m.initial)
    spread = v_star + optimal_value(worst, job.horizon)
    if job.regret != "sampled":
        return 0.0, spread, spread
    r_lo, r_hi = (0.0, 1.0) if job.rewards == "bernoulli" else (m.R.min(), m.R.max())
    return v_star - job.horizon * float(r_hi), v_star - job.horizon * float(r_lo), spread


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


def _v_star(result: Result) -> Any:
    """V*_0 of each run's instance: the saved per-run values (runs,) with an instance per run
    (none before a run completed), else the one V*_0 of the problem."""
    if "v_star" in result.extra:
        return result.extra["v_star"][0]
    v_star = result.info["v_star"]
    return np.empty(0) if v_star is None else float(v_star)


def _rho_star(result: Result) -> float:
    """rho*, the optimal gain of the problem."""
    return float(result.info["rho_star"])


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
    optimum=_v_star,
    optimum_label="V*_0",
    **{**_COMMON, "option_keys": (REWARDS, REGRET, INSTANCE)},
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
    optimum=_rho_star,
    optimum_label="rho*",
    **{**_COMMON, "agents": "mdp.agents:CONTINUING_REGISTRY"},
))

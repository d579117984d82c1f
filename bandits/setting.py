"""The bandit lab's setting, declared once (:class:`tracking.settings.Setting`).

``"bandit"``: ``runs`` runs of ``horizon`` pulls; the environment is a named bandit (``env``,
with ``args``) or arm means (``means``, with ``family`` and, for Gaussian arms, ``sigma``).
Pseudo-regret sum_t (mu* - mu_{A_t}) grows by at least 0 and at most the largest gap
max_k (mu* - mu_k) per pull; simple regret lies in the same range.

This module imports neither numba nor the bandit loop: the command line and experiment files
read it as they start.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tracking import settings
from tracking.settings import Bounds, Key, Setting, fail
from tracking.specs import short_name
from tracking.validate import InputError

if TYPE_CHECKING:
    from tracking.results import Result

    from .loop import BanditJob

__all__ = ["BANDIT"]


def _source(data: Mapping[str, Any], base: Path) -> tuple[dict[str, Any], str]:
    """A named bandit (``env``, ``args``) or arm means (``means``, ``family``, ``sigma``)."""
    if ("env" in data) == ("means" in data):
        fail("env", "a bandit problem needs exactly one of 'env' or 'means'")
    out: dict[str, Any] = {}
    if "env" in data:
        out["env"] = settings.string(data, "env")
        for key in ("family", "sigma"):
            if key in data:
                fail(key, f"'{key}' applies to 'means', not to a named env")
        if "args" in data:
            out["args"] = settings.table(data, "args", "{ n_arms = 100 }")
        return out, short_name(out["env"]) or "custom"
    if "args" in data:
        fail("args", "args applies to a named env, not to 'means'")
    means = data["means"]
    if not isinstance(means, list) or not all(
            isinstance(m, (int, float)) and not isinstance(m, bool) for m in means):
        fail("means", "means must be a list of numbers")
    out["means"] = [float(m) for m in means]
    out["family"] = settings.string(data, "family", default="bernoulli",
                                    choices=("bernoulli", "gaussian"))
    if "sigma" in data and out["family"] != "gaussian":
        fail("sigma", "sigma applies to gaussian arms only")
    if out["family"] == "gaussian":
        out["sigma"] = settings.number(data, "sigma", default=1.0, positive=True)
    return out, "custom"


def _largest_gap(result: Result) -> float | np.ndarray:
    """max_k mu* - mu_k: one number, or per (agent, run) when every run draws its instance."""
    if "means" in result.extra:
        per_run = result.extra["means"]
        return per_run.max(axis=2) - per_run.min(axis=2)
    means = np.asarray(result.info["means"])
    return float(means.max() - means.min())


def _bounds(job: BanditJob, result: Result) -> Bounds:
    gap = _largest_gap(result)
    return Bounds(step=(0.0, gap), simple=(0.0, gap))


def _stochastic(job: BanditJob) -> bool:
    """Gaussian arms always; Bernoulli arms when some mean lies strictly inside (0, 1)."""
    env = job.env
    if env.family == "gaussian":
        return True
    return bool(np.any((env.means > 0.0) & (env.means < 1.0)))


def _validate(job: BanditJob) -> None:
    """The arms rebuilt from their configuration pass the families' checks (finite means, two
    arms or more, Bernoulli means in [0, 1]); per-run instances draw finite means."""
    from . import envs

    env = job.env
    if isinstance(env, envs.RandomTestbed):
        means = env.run_means(job.seed, 0, job.runs)
        if means.shape != (job.runs, env.n_arms) or not np.all(np.isfinite(means)):
            raise InputError(f"{env.name}: the runs' means are not {job.runs} finite rows of "
                             f"{env.n_arms}")
        return
    again = envs.from_config(env.config())
    if not np.array_equal(again.means, env.means):
        raise InputError(f"{env.name}: its configuration rebuilds other means")


def _extras(result: Result, i: int, entry: dict[str, Any]) -> dict[str, Any]:
    """``regret_over_log_t`` (final regret / ln T) and ``best_arm_share`` (runs whose most
    pulled arm is optimal)."""
    horizon = int(result.checkpoints[-1])
    out: dict[str, Any] = {
        "regret_over_log_t": entry["regret_mean"] / math.log(horizon) if horizon > 1 else None}
    if "pulls" in result.extra:
        most = result.extra["pulls"][i].argmax(axis=1)
        if "means" in result.extra:  # an instance per run
            per_run = result.extra["means"][i]
            hit = per_run[np.arange(per_run.shape[0]), most] == per_run.max(axis=1)
        else:
            means = np.asarray(result.info["means"])
            hit = means[most] == means.max()
        out["best_arm_share"] = float(hit.mean())
    return out


def _lai_robbins_curve(result: Result, x: np.ndarray) -> tuple[np.ndarray, str] | None:
    """C ln t, C the Lai-Robbins constant (an asymptotic reference, not a bound at finite t)."""
    lr = result.info.get("lai_robbins")
    if lr is None or not math.isfinite(lr) or lr <= 0:
        return None
    return lr * np.log(np.maximum(x, 1.0)), f"Lai-Robbins C ln t (asymptotic), C = {lr:.3g}"


BANDIT = settings.register(Setting(
    name="bandit",
    job="bandits.loop:BanditJob",
    agents="bandits.agents:REGISTRY",
    envs="bandits.envs:NAMED",
    budget_keys=(Key("horizon", "integer", minimum=1),),
    source_keys=("env", "args", "means", "family", "sigma"),
    source=_source,
    epsilon=0.01,
    length="horizon",
    smoke={"horizon": 300},
    example={"env": "close10", "horizon": 300},
    budget="T = {horizon:,}",
    sample_unit="pulls",
    axis_unit="arm pulls",
    regret_label="pseudo-regret",
    agent_extras=_extras,
    reference=_lai_robbins_curve,
    bounds=_bounds,
    stochastic=_stochastic,
    validate=_validate,
    work_rate=1e9,
))

"""The bandit lab's linear-bandit setting, declared once (:class:`tracking.settings.Setting`).

``"linear-bandit"``: ``runs`` runs of ``horizon`` pulls of K arms with features x_k in R^d and
mean rewards mu_k = <x_k, theta*>, Gaussian noise of scale sigma. The environment is a named one
(``env``, with ``args``: ``sphere`` draws a new instance in every run, ``basis`` is K
unstructured Gaussian arms) or a fixed instance (``features``, ``theta``, ``sigma``). Regret,
its bounds and the summary's extras are the bandit setting's: per pull the pseudo-regret grows
by at least 0 and at most the (run's) largest gap.

This module imports neither numba nor the loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tracking import settings
from tracking.settings import Key, Setting, fail
from tracking.validate import InputError

from .setting import _bounds, _extras

if TYPE_CHECKING:
    from .linear import LinearJob

__all__ = ["LINEAR"]


def _source(data: Mapping[str, Any], base: Path) -> tuple[dict[str, Any], str]:
    """A named environment (``env``, ``args``) or a fixed instance (``features``, ``theta``,
    ``sigma``)."""
    from . import linear

    if ("env" in data) == ("features" in data):
        fail("env", "a linear-bandit problem needs exactly one of 'env' or 'features'")
    if "env" in data:
        for key in ("theta", "sigma"):
            if key in data:
                fail(key, f"'{key}' applies to 'features', not to a named env (give it in "
                          "args)")
        env = settings.string(data, "env", choices=tuple(linear.NAMED))
        args = settings.table(data, "args", "{ d = 10 }")
        try:
            args = linear.coerce_args(env, args)
            linear.make(env, **args)  # the builder's rules (d >= 1, n_arms >= 2, sigma > 0)
        except InputError as e:
            fail("args", str(e))
        return {"env": env, "args": args}, env
    if "args" in data:
        fail("args", "args applies to a named env, not to 'features'")
    if "theta" not in data:
        fail("features", "a linear-bandit problem with 'features' needs 'theta'")
    out: dict[str, Any] = {}
    try:
        out["features"] = linear.check_features(data["features"]).tolist()
    except InputError as e:
        fail("features", str(e))
    try:
        out["theta"] = linear.check_vector("theta", data["theta"],
                                           len(out["features"][0])).tolist()
    except InputError as e:
        fail("theta", str(e))
    out["sigma"] = settings.number(data, "sigma", default=1.0, positive=True)
    return out, "custom"


def _validate(job: LinearJob) -> None:
    """A fixed instance rebuilt from its configuration has the same means; the sphere's
    instances are finite, of unit norm (theta* and the arms), for every run."""
    from . import linear

    env = job.env
    if isinstance(env, linear.RandomSphere):
        for r in range(job.runs):
            x, theta = env.draw(job.seed, r)
            norms = np.linalg.norm(np.vstack([x, theta[None]]), axis=1)
            if not np.allclose(norms, 1.0):
                raise InputError(f"{env.name}: run {r}'s arms or theta* are not unit vectors")
        return
    cfg = env.config()
    again = linear.LinearBandit(cfg["features"], cfg["theta"], cfg["sigma"])
    if not np.array_equal(again.means, env.means):
        raise InputError(f"{env.name}: its configuration rebuilds other means")


LINEAR = settings.register(Setting(
    name="linear-bandit",
    job="bandits.linear:LinearJob",
    agents="bandits.linear_agents:REGISTRY",
    envs="bandits.linear:NAMED",
    budget_keys=(Key("horizon", "integer", minimum=1),),
    source_keys=("env", "args", "features", "theta", "sigma"),
    source=_source,
    epsilon=0.01,
    length="horizon",
    smoke={"horizon": 300},
    example={"env": "sphere", "args": {"d": 3, "n_arms": 5}, "horizon": 200},
    budget="T = {horizon:,}",
    sample_unit="pulls",
    axis_unit="arm pulls",
    regret_label="pseudo-regret",
    agent_extras=_extras,
    bounds=_bounds,
    stochastic=lambda job: True,
    validate=_validate,
    work_rate=1e9,
))

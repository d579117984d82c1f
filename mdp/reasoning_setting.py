"""The MDP lab's reasoning setting, declared once (:class:`tracking.settings.Setting`).

``"reasoning"``: ``runs`` runs of ``calls`` verifier calls on a task of the reasoning testbed
(:mod:`mdp.reasoning`): a built-in task (``env`` = ``"trie"`` or ``"shared"``, with ``args``:
make_task's parameters) or a task file (``task``, resolved against the experiment file's
folder). ``held_out`` (a share in [0, 1) or a whole count; default 0.2) of the prompts, the
last ones, are never trained on. The cumulative regret is the pseudo-regret of the calls,
sum of 1 - p_correct of the answering policy, so it grows by 0 to 1 per call; the simple
regret 1 - mean pass@1 over the training prompts lies in [0, 1]. The summary adds, per agent,
the final pass@1 of both readouts, pass@k, held-out pass@1, KL to pi_ref, tokens and calls.

This module imports neither numba nor the loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tracking import paths, settings
from tracking.settings import Bounds, Key, Setting, fail
from tracking.validate import InputError

if TYPE_CHECKING:
    from tracking.results import Result

    from .reasoning_run import ReasoningJob

__all__ = ["HELD_OUT", "REASONING"]

#: The held-out prompts: a share in [0, 1) of the task's prompts, or a whole count.
HELD_OUT = Key("held_out", "number", default=0.2)

#: The k of pass@k the summary reports (of the recorded 1, 2, 4, ..., 1024).
SUMMARY_KS = (1, 16, 256)


def _source(data: Mapping[str, Any], base: Path) -> tuple[dict[str, Any], str]:
    """A built-in task (``env``, ``args``) or a task file (``task``)."""
    from . import reasoning
    from .reasoning_run import coerce_args

    if ("env" in data) == ("task" in data):
        fail("env", "a reasoning problem needs exactly one of 'env' or 'task'")
    if "env" in data:
        env = settings.string(data, "env", choices=tuple(reasoning.TASKS))
        args = settings.table(data, "args", "{ n_prompts = 100 }")
        try:
            task = reasoning.make_task(env, **coerce_args(env, args))
        except InputError as e:
            fail("args", str(e) if str(e).startswith("args") else f"args: {e}")
        return {"env": env, "args": dict(task.source["args"])}, env
    if "args" in data:
        fail("args", "args applies to a built-in env, not to a task file")
    path = Path(settings.string(data, "task"))
    path = path if path.is_absolute() else (base / path).resolve()
    try:
        reasoning.load_task(path)
    except InputError as e:
        fail("task", str(e))
    if "name" not in data and not paths.valid_name(path.stem):
        fail("task", f"the default name {path.stem!r} (the file's stem) is not a valid name "
                     f"({paths.NAME_RULE}); give the problem a 'name'")
    return {"task": str(path)}, path.stem


def _bounds(job: ReasoningJob, result: Result) -> Bounds:
    """Per call the pseudo-regret grows by 1 - p_correct in [0, 1]; simple regret in [0, 1]."""
    return Bounds(step=(0.0, 1.0), simple=(0.0, 1.0))


def _validate(job: ReasoningJob) -> None:
    """The task rebuilt from its configuration has the same arrays."""
    from . import reasoning

    cfg = job.config
    again = (reasoning.load_task(cfg["task"]) if "task" in cfg
             else reasoning.make_task(cfg["env"], **cfg["args"]))
    for key in ("next", "accept", "ref_logits"):
        if not np.array_equal(getattr(again, key), getattr(job.task, key)):
            raise InputError(f"{job.task.name}: its configuration rebuilds another {key}")


def _mean(values: np.ndarray) -> float | None:
    return float(np.mean(values)) if values.size else None


def _extras(result: Result, i: int, entry: dict[str, Any]) -> dict[str, Any]:
    """Final pass@1 of both readouts, pass@k at SUMMARY_KS (training and held-out), KL to
    pi_ref, entropy, coverage, tokens and verifier calls, means over runs."""
    out: dict[str, Any] = {}
    for name in ("greedy", "behaviour"):
        simple = result.readout(name)[i]
        out[f"pass_at_1_{name}"] = _mean(1.0 - simple[:, -1]) if simple.size else None
    ks = list(result.info.get("pass_ks", []))
    for key, label in (("pass_at_k", "pass_at"), ("pass_at_k_held_out", "held_out_pass_at")):
        if key in result.extra:
            arr = result.extra[key][i]
            for k in SUMMARY_KS:
                if k in ks:
                    out[f"{label}_{k}"] = _mean(arr[:, ks.index(k)])
    for key in ("kl", "entropy", "coverage", "tokens", "calls"):
        if key in result.extra:
            out[key] = _mean(result.extra[key][i].astype(float))
    return out


REASONING = settings.register(Setting(
    name="reasoning",
    job="mdp.reasoning_run:ReasoningJob",
    agents="mdp.reasoning_agents:REGISTRY",
    envs="mdp.reasoning:TASKS",
    budget_keys=(Key("calls", "integer", minimum=1),),
    option_keys=(HELD_OUT,),
    source_keys=("env", "args", "task"),
    source=_source,
    epsilon=0.1,
    length="calls",
    smoke={"calls": 256},
    example={"env": "trie", "args": {"n_prompts": 6, "horizon": 3, "vocab": 3,
                                     "n_solutions": 2, "p_min": 0.05, "p_max": 0.5},
             "calls": 128},
    budget="{calls:,} verifier calls",
    sample_unit="calls",
    axis_unit="verifier calls",
    regret_label="pseudo-regret (sum of 1 - pass@1)",
    summary_keys=("calls", "held_out"),
    agent_extras=_extras,
    bounds=_bounds,
    stochastic=lambda job: True,
    validate=_validate,
    readout="behaviour",  # pass@k is a property of the sampling policy
    work_rate=6e8,  # benchmarks/work_rates.py: 4e8 (gradient agents) to 8e8 per CPU-second
))

"""Results as data, for notebooks and scripts: a results folder read back, summaries as frames.

Example::

    from experiments import load, summary

    results = load("celab-results/run-20260101-120000")   # {"close10": Result, ...}
    df = results["close10"].to_frame()                    # the rows of curves.csv
    summary(results["close10"])                           # one row per agent

:func:`load` returns the :class:`tracking.results.Result` objects the experiment returned, by
problem. :func:`summary` is the per-agent part of summary.json as a frame; it lives here, not as
a method of the Result, because its numbers come from :func:`experiments.report.summarize`
(one definition of them), which needs each setting's rules from the labs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from tracking.frames import frame
from tracking.results import READOUTS, Result
from tracking.validate import InputError

from . import report, session

__all__ = ["load", "summary", "summary_columns"]


def load(folder: str | Path, partial: bool = False) -> dict[str, Result]:
    """The results of the results folder ``folder``, by problem name, in the order of its
    config.toml: the Result objects the experiment returned (``results/<problem>.npz``).

    Every file is checked as ``celab report`` checks it: the folder's config.toml, and each
    result against its problem's configuration; a damaged file raises DamagedFile naming it,
    a file of a newer celab NewerSchema. The tries of a ``budget = "until"`` problem
    (``tries/``) are not returned: its result is the final try. The tuning runs of
    ``celab tune`` and ``celab compare`` are a results folder of their own, ``folder/tuning``.

    Parameters
    ----------
    folder : path
        A folder written by ``celab bandit``, ``mdp``, ``run``, ``compare``.
    partial : bool
        False (default): every problem must be saved with all its runs, else InputError naming
        the file and the runs missing. True: the problems saved so far, those interrupted
        with fewer runs (``result.complete`` false); problems without a file are left out.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    config = folder / "config.toml"
    out: dict[str, Result] = {}
    for job, res in session.saved_jobs(folder, session.read_config(config)):
        if not partial and (res is None or not res.complete):
            path = session.result_file(folder, job.problem)
            what = "missing" if res is None else \
                f"incomplete ({res.runs} of {res.runs_requested} runs)"
            raise InputError(f"{path}: {what}, the experiment did not finish; complete it "
                             f"with: celab run {config} --resume, or load(..., partial=True) "
                             "for the runs saved")
        if res is not None:
            out[job.problem] = res
    return out


def summary_columns(summarized: dict[str, Any]) -> dict[str, list[Any]]:
    """The agents of a problem's summary (:func:`experiments.report.summarize`) as columns,
    one row per agent.

    ``problem``, ``agent``, ``name``, ``family``, ``runs``; ``regret_mean``, ``regret_ci95``;
    ``growth``, ``growth_low``, ``growth_high``; for each readout r (``greedy``,
    ``behaviour``): ``simple_regret_<r>_mean``, ``simple_regret_<r>_ci95``,
    ``samples_to_epsilon_<r>`` (n(epsilon, delta)) with ``_low``, ``_high`` and ``_censored``
    (true: the estimate is the budget, a lower bound), ``reached_<r>``; ``readouts_coincide``;
    the setting's numbers (bandits ``regret_over_log_t``, ``best_arm_share``); ``epsilon``
    and ``delta``. A null of summary.json is NaN (``_censored`` is false without runs).
    """
    rows = [_summary_row(summarized, agent) for agent in summarized["agents"]]
    return {k: [row[k] for row in rows] for k in rows[0]} if rows else {}


def _summary_row(summarized: dict[str, Any], agent: dict[str, Any]) -> dict[str, Any]:
    growth = agent["growth"] or {}
    row = {"problem": summarized["problem"], "agent": agent["agent"], "name": agent["name"],
           "family": agent["family"], "runs": summarized["runs"],
           "regret_mean": agent["regret_mean"], "regret_ci95": agent["regret_ci95"],
           "growth": _number(growth.get("estimate")), "growth_low": _number(growth.get("low")),
           "growth_high": _number(growth.get("high"))}
    for readout in READOUTS:
        numbers = agent["readouts"][readout]
        samples = numbers["samples_to_epsilon"] or {}
        key = f"samples_to_epsilon_{readout}"
        row.update({f"simple_regret_{readout}_mean": numbers["simple_regret_mean"],
                    f"simple_regret_{readout}_ci95": numbers["simple_regret_ci95"],
                    key: _number(samples.get("estimate")),
                    f"{key}_low": _number(samples.get("low")),
                    f"{key}_high": _number(samples.get("high")),
                    f"{key}_censored": bool(samples.get("censored", False)),
                    f"reached_{readout}": numbers["reached"]})
    row["readouts_coincide"] = agent["readouts_coincide"]
    row.update({k: v for k, v in agent.items() if k not in row and _is_number(v)
                and k not in _TOP_LEVEL})
    row.update(epsilon=_number(summarized["epsilon"]), delta=summarized["delta"])
    return row


#: An agent's top-level numbers of one readout (in its columns per readout instead).
_TOP_LEVEL = ("simple_regret_mean", "simple_regret_ci95", "reached")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _number(v: float | None) -> float:
    return math.nan if v is None else float(v)


def summary(result: Result, epsilon: float | None = None, delta: float | None = None,
            backend: str = "pandas") -> Any:
    """The per-agent summary of ``result`` as a data frame, one row per agent: the numbers
    summary.json holds for it (:func:`summary_columns`), computed by
    :func:`experiments.report.summarize` with ``epsilon`` and ``delta`` (default: the
    result's configuration's, else its setting's).

    ``problem``, ``agent`` and ``family`` are categorical, ``runs`` int64, the
    ``_censored`` flags and ``readouts_coincide`` bool, the other numbers float64.
    ``backend`` is ``"pandas"`` (the ``frames`` extra) or ``"polars"`` (the ``polars``
    extra).
    """
    columns = summary_columns(report.summarize(result, epsilon, delta))
    categories = {k: list(dict.fromkeys(columns[k])) for k in ("problem", "agent", "family")}
    arrays = {k: (np.array([categories[k].index(x) for x in v], dtype=np.int64)
                  if k in categories else _array(k, v)) for k, v in columns.items()}
    return frame(arrays, categories, backend)


def _array(key: str, values: list[Any]) -> np.ndarray:
    if key == "name":
        return np.array(values, dtype=np.str_)
    if key == "runs":
        return np.array(values, dtype=np.int64)
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.bool_)
    return np.array(values, dtype=np.float64)

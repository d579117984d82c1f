"""Summaries of results (plain dictionaries, the numbers of summary.json) and rich tables."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .results import Result
from .stats import mean_ci


def bandit_summary(result: Result) -> dict[str, Any]:
    """Final-round numbers of a bandit result, one entry per agent.

    For each agent: the mean final pseudo-regret with its 95% Student-t half-width, the regret
    divided by ln T, the mean final simple regret, and the share of runs whose most-pulled arm
    is an optimal arm.
    """
    lai_robbins = result.info["lai_robbins"]
    horizon = int(result.steps[-1])
    log_t = math.log(horizon) if horizon > 1 else float("nan")
    means = np.asarray(result.config["env"]["means"])
    best = set(np.flatnonzero(means == means.max()).tolist())
    agents = []
    for i, label in enumerate(result.agents):
        final = result.regret[i, :, -1]
        m, half = mean_ci(final)
        s_mean, s_half = mean_ci(result.simple_regret[i, :, -1])
        most = result.extra["pulls"][i].argmax(axis=1)
        agents.append({
            "agent": label,
            "regret_mean": float(m),
            "regret_ci95": float(half),
            "regret_over_log_t": float(m / log_t) if horizon > 1 else None,
            "simple_regret_mean": float(s_mean),
            "simple_regret_ci95": float(s_half),
            "best_arm_share": float(np.mean([int(a) in best for a in most])),
        })
    return {
        "problem": result.problem,
        "setting": "bandit",
        "horizon": horizon,
        "runs": result.runs,
        "seed": result.config["experiment"]["seed"],
        "lai_robbins": lai_robbins,
        "lai_robbins_log_t": lai_robbins * log_t if horizon > 1 else None,
        "agents": agents,
    }


def _num(x: float | None, digits: int = 3) -> str:
    """A number for a table: ``digits`` significant digits, no exponent between 1e-3 and 1e15."""
    if x is None or not math.isfinite(x):
        return "-"
    if x == 0:
        return "0"
    if abs(x) >= 10**digits:
        return f"{x:,.0f}"
    if abs(x) >= 1e-3:
        return f"{x:.{digits}g}"
    return f"{x:.2e}"


def _pm(mean: float, half: float) -> str:
    return f"{_num(mean, 4)} ± {_num(half, 2)}"


def bandit_table(summary: dict[str, Any]):
    """A rich table of :func:`bandit_summary`."""
    from rich.table import Table

    lr = summary["lai_robbins"]
    table = Table(
        title=f"{summary['problem']}: T = {summary['horizon']:,}, {summary['runs']} runs, "
        f"seed {summary['seed']}",
        caption=f"Lai-Robbins constant {lr:.3f}: asymptotic lower bound on regret / ln T "
        f"(regret >= {_num(summary['lai_robbins_log_t'], 4)} at this T). "
        "Simple regret: mu* minus the mean of the arm the agent would deploy now. "
        "Best arm: share of runs whose most-pulled arm is optimal.",
    )
    table.add_column("agent", style="bold", no_wrap=True)
    table.add_column("regret ± 95% CI", justify="right", no_wrap=True)
    table.add_column("regret/ln T", justify="right")
    table.add_column("L-R const", justify="right")
    table.add_column("simple regret", justify="right")
    table.add_column("best arm", justify="right")
    for a in summary["agents"]:
        table.add_row(
            a["agent"],
            _pm(a["regret_mean"], a["regret_ci95"]),
            _num(a["regret_over_log_t"], 3),
            f"{lr:.3f}",
            _num(a["simple_regret_mean"], 3),
            f"{100 * a['best_arm_share']:.0f}%",
        )
    return table

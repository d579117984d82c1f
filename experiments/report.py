"""Summaries of results (plain dictionaries: the numbers of summary.json) and rich tables.

A report never simulates: everything here is computed from saved :class:`Result` arrays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tracking import stats
from tracking.results import Result

CE = "certainty-equivalence"
#: Share of runs that must reach epsilon for a CE agent to be the headline's "best CE agent"
#: (when any agent qualifies): the fastest median among agents that fail rarely.
RELIABLE = 0.9


def _float(x: float) -> float | None:
    """JSON-safe: None for NaN, keeps +-inf as None too (JSON has neither)."""
    return float(x) if math.isfinite(x) else None


def _interval(iv: stats.Interval | None) -> dict[str, float | None] | None:
    if iv is None:
        return None
    return {"estimate": _float(iv.estimate), "low": _float(iv.low), "high": _float(iv.high)}


def summarize(result: Result, epsilon: float | None = None) -> dict[str, Any]:
    """Numbers of one problem: per agent, regret, growth exponent, simple regret, samples.

    For each agent:

    - ``regret_mean`` and ``regret_ci95``: final cumulative regret, mean over runs and the
      half-width of its 95% Student-t interval;
    - ``growth``: exponent b of regret ~ t^b fitted on the last decade of the log-log curve of
      the mean regret, with a 95% bootstrap interval over runs (None when undefined);
    - ``simple_regret_mean`` and ``simple_regret_ci95``: at the last checkpoint;
    - ``samples_to_epsilon``: median over runs of the samples (pulls or steps) after which the
      deployed policy's simple regret stays <= epsilon (None when more than half the runs never
      got there), its 95% bootstrap interval, and ``reached``, the share of runs that got there;
    - bandits: ``regret_over_log_t``, ``best_arm_share``; MDPs: ``episodes_to_epsilon``.
    """
    cfg = result.config
    eps = float(epsilon if epsilon is not None else cfg.get("epsilon", 0.01))
    samples = result.samples
    budget = int(samples[-1])
    names = result.info.get("agent_names", [a.split("(")[0] for a in result.agents])
    families = result.info.get("families", [CE] * len(result.agents))
    agents = []
    for i, label in enumerate(result.agents):
        final = result.regret[i, :, -1]
        m, half = stats.mean_ci(final)
        sm, shalf = stats.mean_ci(result.simple_regret[i, :, -1])
        s2e = stats.samples_to_epsilon(samples, result.simple_regret[i], eps)
        med = stats.median_ci(s2e, seed=i) if result.runs else None
        entry: dict[str, Any] = {
            "agent": label,
            "name": names[i],
            "family": families[i],
            "regret_mean": float(m),
            "regret_ci95": float(half),
            "growth": _interval(stats.growth_exponent(samples, result.regret[i], seed=i)),
            "simple_regret_mean": float(sm),
            "simple_regret_ci95": float(shalf),
            "samples_to_epsilon": _interval(med),
            "reached": float(np.mean(np.isfinite(s2e))) if s2e.size else 0.0,
        }
        if result.setting == "bandit":
            horizon = int(result.steps[-1])
            entry["regret_over_log_t"] = float(m) / math.log(horizon) if horizon > 1 else None
            if "pulls" in result.extra:
                most = result.extra["pulls"][i].argmax(axis=1)
                if "means" in result.extra:  # an instance per run
                    per_run = result.extra["means"][i]
                    hit = per_run[np.arange(per_run.shape[0]), most] == per_run.max(axis=1)
                else:
                    means = np.asarray(result.info["means"])
                    hit = means[most] == means.max()
                entry["best_arm_share"] = float(hit.mean())
        elif result.setting == "mdp":
            h = result.samples_per_step
            e2e = entry["samples_to_epsilon"]
            entry["episodes_to_epsilon"] = (None if e2e is None or e2e["estimate"] is None
                                            else e2e["estimate"] / h)
        agents.append(entry)
    out = {
        "problem": result.problem,
        "setting": result.setting,
        "runs": result.runs,
        "runs_requested": result.runs_requested,
        "seed": cfg.get("seed"),
        "horizon": cfg.get("horizon"),
        "epsilon": eps,
        "budget_samples": budget,
        "sample_unit": "pulls" if result.setting == "bandit" else "steps",
        "agents": agents,
        "info": {k: v for k, v in result.info.items() if k not in ("agent_names", "families")},
    }
    if result.setting == "mdp":
        out["episodes"] = cfg.get("episodes")
    return out


def headline(result: Result, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """REINFORCE against the best certainty-equivalence agent on one problem.

    The best CE agent is the one with the smallest median samples-to-epsilon among the CE agents
    that reach epsilon in at least 90% of the runs (among all CE agents when none does). The
    ratio is
    median(REINFORCE) / median(best CE) with a paired bootstrap interval over runs. When more
    than half of REINFORCE's runs never reach epsilon within the budget, its median is unknown
    but at least the budget: the row gives ``ratio_lower_bound`` = budget / median(best CE)
    instead of a ratio.
    """
    eps = summary["epsilon"]
    samples = result.samples
    budget = summary["budget_samples"]
    agents = summary["agents"]
    ce = [i for i, a in enumerate(agents) if a["family"] == CE]
    reached_ce = [i for i in ce if agents[i]["samples_to_epsilon"]
                  and agents[i]["samples_to_epsilon"]["estimate"] is not None]
    # an agent that fails in many runs is not "best" for a fast median: prefer reliable ones
    reliable = [i for i in reached_ce if agents[i]["reached"] >= RELIABLE]
    reached_ce = reliable or reached_ce
    rows = []
    for j, a in enumerate(agents):
        if a["name"] != "reinforce":
            continue
        row: dict[str, Any] = {"problem": summary["problem"], "reinforce": a["agent"],
                               "epsilon": eps, "budget_samples": budget,
                               "reinforce_samples": a["samples_to_epsilon"],
                               "reinforce_reached": a["reached"]}
        if not reached_ce:
            row.update(best_ce=None, ratio=None, ratio_lower_bound=None,
                       note="no certainty-equivalence agent reached epsilon")
            rows.append(row)
            continue
        best = min(reached_ce, key=lambda i: agents[i]["samples_to_epsilon"]["estimate"])
        best_med = agents[best]["samples_to_epsilon"]["estimate"]
        row.update(best_ce=agents[best]["agent"],
                   best_ce_samples=agents[best]["samples_to_epsilon"],
                   best_ce_reached=agents[best]["reached"])
        rf = a["samples_to_epsilon"]
        if rf is not None and rf["estimate"] is not None:
            num = stats.samples_to_epsilon(samples, result.simple_regret[j], eps)
            den = stats.samples_to_epsilon(samples, result.simple_regret[best], eps)
            row["ratio"] = _interval(stats.ratio_of_medians(num, den, seed=j))
            row["ratio_lower_bound"] = None
        else:
            row["ratio"] = None
            row["ratio_lower_bound"] = budget / best_med
        rows.append(row)
    return rows


# --- rich tables -----------------------------------------------------------------------------

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


def _iv(iv: dict | None, digits: int = 3) -> str:
    if iv is None or iv["estimate"] is None:
        return "-"
    low = _num(iv["low"], digits) if iv["low"] is not None else "-"
    high = _num(iv["high"], digits) if iv["high"] is not None else "∞"
    return f"{_num(iv['estimate'], digits)} [{low}, {high}]"


def _samples(entry: dict[str, Any], budget: int) -> str:
    s = entry["samples_to_epsilon"]
    share = f"{100 * entry['reached']:.0f}%"
    if s is None or s["estimate"] is None:
        return f"> {_num(budget)} ({share})"
    return f"{_num(s['estimate'])} ({share})"


def _title(summary: dict[str, Any]) -> str:
    runs = summary["runs"]
    partial = "" if runs >= summary["runs_requested"] else f" of {summary['runs_requested']}"
    if summary["setting"] == "bandit":
        budget = f"T = {summary['horizon']:,}"
    elif summary["setting"] == "continuing":
        budget = f"T = {summary['budget_samples']:,} steps without resets"
    else:
        budget = f"H = {summary['horizon']}, K = {summary['episodes']:,} episodes"
    return f"{summary['problem']}: {budget}, {runs}{partial} runs, seed {summary['seed']}"


def _agent_names(summary: dict[str, Any]) -> str:
    """A caption's note spelling out the registry names that read as words ("etc")."""
    return ("etc: explore-then-commit. "
            if any(a["name"] == "etc" for a in summary["agents"]) else "")


def bandit_table(summary: dict[str, Any]):
    """`celab bandit`'s table: regret, regret / ln T, Lai-Robbins, simple regret, best arm,
    pulls to epsilon."""
    from rich.table import Table

    lr = summary["info"]["lai_robbins"]
    eps = summary["epsilon"]
    log_t = math.log(summary["horizon"]) if summary["horizon"] > 1 else float("nan")
    bound = ("every run draws its own instance, so no single Lai-Robbins constant applies. "
             if lr is None else
             f"Lai-Robbins constant {lr:.3f}: asymptotic lower bound on regret / ln T "
             f"(regret >= {_num(lr * log_t, 4)} at this T). ")
    table = Table(
        title=_title(summary),
        caption=_agent_names(summary) + bound +
        "Simple regret: mu* minus the mean of the arm the agent would deploy now. "
        "Best arm: share of runs whose most-pulled arm is optimal. "
        f"Pulls to {eps:g}: median pulls after which the deployed arm stays within {eps:g} of "
        "mu* (share of runs that got there; > T when more than half never did). "
        "± is the half-width of the 95% confidence interval over runs.",
    )
    table.add_column("agent", style="bold", no_wrap=True)
    table.add_column("regret ± 95% CI", justify="right", no_wrap=True)
    table.add_column("regret/ln T", justify="right")
    table.add_column("L-R const", justify="right")
    table.add_column("simple regret", justify="right")
    table.add_column("best arm", justify="right")
    table.add_column(f"pulls to {eps:g}", justify="right", no_wrap=True)
    for a in summary["agents"]:
        table.add_row(
            a["agent"],
            _pm(a["regret_mean"], a["regret_ci95"]),
            _num(a["regret_over_log_t"], 3),
            "-" if lr is None else f"{lr:.3f}",
            _num(a["simple_regret_mean"], 3),
            f"{100 * a['best_arm_share']:.0f}%",
            _samples(a, summary["budget_samples"]),
        )
    return table


def mdp_table(summary: dict[str, Any]):
    """`celab mdp`'s table: regret, simple regret, episodes until epsilon-optimal."""
    from rich.table import Table

    eps = summary["epsilon"]
    table = Table(
        title=_title(summary),
        caption=f"Regret: sum over episodes of V*(start) - V^pi_k(start) (V* = "
        f"{_num(summary['info']['v_star'], 4)}), exact on the true model. Simple regret: the "
        f"same gap for the policy the agent would deploy now. Episodes to {eps:g}: median over "
        "runs of the episodes after which the deployed policy stays within "
        f"{eps:g} of optimal (share of runs that got there).",
    )
    table.add_column("agent", style="bold", no_wrap=True)
    table.add_column("regret ± 95% CI", justify="right", no_wrap=True)
    table.add_column("simple regret", justify="right")
    table.add_column(f"episodes to {eps:g}", justify="right")
    budget = summary["episodes"]
    for a in summary["agents"]:
        e = a["episodes_to_epsilon"]
        share = f"{100 * a['reached']:.0f}%"
        episodes = f"> {_num(budget)} ({share})" if e is None else f"{_num(e)} ({share})"
        table.add_row(a["agent"], _pm(a["regret_mean"], a["regret_ci95"]),
                      _num(a["simple_regret_mean"], 3), episodes)
    return table


def problem_table(summary: dict[str, Any]):
    """The compare/run table: regret, growth exponent, simple regret, samples to epsilon."""
    from rich.table import Table

    unit = summary["sample_unit"]
    eps = summary["epsilon"]
    table = Table(
        title=_title(summary),
        caption=_agent_names(summary) +
        f"Growth: exponent b of regret ~ samples^b on the last decade (1 linear, 0.5 "
        f"square root, ~0 logarithmic), [95% CI]. Samples to {eps:g}: median {unit} after "
        f"which the deployed policy stays within {eps:g} of optimal (share of runs).",
    )
    table.add_column("agent", style="bold", no_wrap=True)
    table.add_column("regret ± 95% CI", justify="right", no_wrap=True)
    table.add_column("growth [CI]", justify="right", no_wrap=True)
    table.add_column("simple regret", justify="right")
    table.add_column(f"{unit} to {eps:g}", justify="right", no_wrap=True)
    for a in summary["agents"]:
        table.add_row(a["agent"], _pm(a["regret_mean"], a["regret_ci95"]), _iv(a["growth"], 2),
                      _num(a["simple_regret_mean"], 3), _samples(a, summary["budget_samples"]))
    return table


def headline_table(rows: list[dict[str, Any]]):
    """Samples to epsilon: REINFORCE against the best certainty-equivalence agent."""
    from rich.table import Table

    table = Table(
        title="How many more samples does REINFORCE need than certainty equivalence?",
        caption="Samples (pulls or steps) until the deployed policy stays within epsilon of "
        "optimal: median over runs (share of runs that got there). Ratio: REINFORCE / best "
        "certainty-equivalence agent, [95% bootstrap CI over runs]; '>' where REINFORCE's "
        "median lies beyond the budget, so only a lower bound is known.",
    )
    table.add_column("problem", style="bold", no_wrap=True)
    table.add_column("epsilon", justify="right")
    table.add_column("best CE agent", no_wrap=True)
    table.add_column("its samples", justify="right")
    table.add_column("REINFORCE", no_wrap=True)
    table.add_column("its samples", justify="right")
    table.add_column("ratio", justify="right", no_wrap=True)
    for r in rows:
        budget = r["budget_samples"]
        rf = {"samples_to_epsilon": r["reinforce_samples"], "reached": r["reinforce_reached"]}
        if r.get("best_ce") is None:
            table.add_row(r["problem"], f"{r['epsilon']:g}", "-", "-", r["reinforce"],
                          _samples(rf, budget), "-")
            continue
        ce = {"samples_to_epsilon": r["best_ce_samples"], "reached": r["best_ce_reached"]}
        ratio = (f"> {_num(r['ratio_lower_bound'])}" if r["ratio"] is None
                 else _iv(r["ratio"], 3))
        table.add_row(r["problem"], f"{r['epsilon']:g}", r["best_ce"], _samples(ce, budget),
                      r["reinforce"], _samples(rf, budget), ratio)
    return table

"""Summaries of results (plain dictionaries: the numbers of summary.json) and rich tables.

A report never simulates: everything here is computed from saved :class:`Result` arrays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tracking import settings, stats
from tracking.results import Result

CE = "certainty-equivalence"


def _float(x: float) -> float | None:
    """JSON-safe: None for NaN, keeps +-inf as None too (JSON has neither)."""
    return float(x) if math.isfinite(x) else None


def _interval(iv: stats.Interval | None) -> dict[str, float | None] | None:
    if iv is None:
        return None
    return {"estimate": _float(iv.estimate), "low": _float(iv.low), "high": _float(iv.high)}


def checkpoint_grid(samples: np.ndarray) -> dict[str, Any]:
    """The checkpoint grid in samples: ``count``, ``first`` and ``per_decade``.

    ``per_decade`` = (count - 1) / log10(last / first), the grid's mean density on a log scale
    (None for a single checkpoint): samples-to-epsilon can only take checkpoint values.
    """
    first, last = float(samples[0]), float(samples[-1])
    spread = math.log10(last / first) if first > 0 and last > first else 0.0
    return {"count": int(samples.size), "first": int(samples[0]),
            "per_decade": (samples.size - 1) / spread if spread > 0 else None}


def best_agent(reached: list[float], medians: list[float]) -> int | None:
    """Index of the agent reaching epsilon in the largest share of runs, then fastest.

    Among the agents with a finite median samples-to-epsilon: the highest share of runs that
    reached epsilon, then the smallest median; ties go to the first listed. None when no median
    is finite.
    """
    finite = [i for i, m in enumerate(medians) if m is not None and math.isfinite(m)]
    if not finite:
        return None
    return min(finite, key=lambda i: (-reached[i], medians[i]))  # min keeps the first on ties


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
    - the setting's extras (its ``agent_extras``): bandits ``regret_over_log_t`` and
      ``best_arm_share``, episodic MDPs ``episodes_to_epsilon``.

    The problem's entry adds the setting's ``summary_keys`` (episodic MDPs: ``episodes``);
    ``checkpoints`` describes the grid samples-to-epsilon is read on (:func:`checkpoint_grid`).
    """
    cfg = result.config
    setting = settings.get(result.setting)
    eps = float(epsilon if epsilon is not None else cfg.get("epsilon", setting.epsilon))
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
        entry.update(setting.agent_extras(result, i, entry))
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
        "sample_unit": setting.sample_unit,
        "checkpoints": checkpoint_grid(samples),
        "agents": agents,
        "info": {k: v for k, v in result.info.items() if k not in ("agent_names", "families")},
    }
    out.update({key: cfg.get(key) for key in setting.summary_keys})
    return out


def headline(result: Result, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """REINFORCE against the best certainty-equivalence agent on one problem.

    The best CE agent (:func:`best_agent`) is, among the CE agents with a finite median
    samples-to-epsilon, the one that reaches epsilon in the largest share of runs; among equal
    shares, the one with the smallest median; among equal medians, the first listed. The ratio
    is median(REINFORCE) / median(best CE) with a paired bootstrap interval over runs. When
    more than half of REINFORCE's runs never reach epsilon within the budget, its median is
    unknown but at least the budget: the row gives ``ratio_lower_bound`` = budget /
    median(best CE) instead of a ratio. Each row carries the problem's ``checkpoints``.
    """
    eps = summary["epsilon"]
    samples = result.samples
    budget = summary["budget_samples"]
    agents = summary["agents"]
    ce = [i for i, a in enumerate(agents) if a["family"] == CE]
    pick = best_agent([agents[i]["reached"] for i in ce],
                      [(agents[i]["samples_to_epsilon"] or {}).get("estimate") for i in ce])
    rows = []
    for j, a in enumerate(agents):
        if a["name"] != "reinforce":
            continue
        row: dict[str, Any] = {"problem": summary["problem"], "reinforce": a["agent"],
                               "epsilon": eps, "budget_samples": budget,
                               "reinforce_samples": a["samples_to_epsilon"],
                               "reinforce_reached": a["reached"],
                               "checkpoints": summary["checkpoints"]}
        if pick is None:
            row.update(best_ce=None, ratio=None, ratio_lower_bound=None,
                       note="no certainty-equivalence agent reached epsilon")
            rows.append(row)
            continue
        best = ce[pick]
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

#: Below this share of the problem's scale (and below this absolute size) a regret is rounding
#: error: tables print it as 0.
ZERO = 1e-12


def zero_level(info: dict[str, Any]) -> float:
    """The size under which a regret of a problem is rounding error: ``ZERO * max(1, scale)``.

    ``info`` is a result's (or summary's) ``info``; the scale is the largest magnitude among
    the problem's optimal value (``v_star``, ``rho_star``) and its arm means, 1 when none is
    known.
    """
    values = [info.get("v_star"), info.get("rho_star"), *(info.get("means") or [])]
    scale = max([1.0] + [abs(float(v)) for v in values if v is not None and math.isfinite(v)])
    return ZERO * scale


def _num(x: float | None, digits: int = 3, zero: float = ZERO) -> str:
    """A number for a table: ``digits`` significant digits, thousands separators from 1,000 on.

    ``|x| < zero`` prints as ``0`` (rounding error where 0 is meant); magnitudes below 1e-3 take
    an exponent; a number with ``digits`` or more integer digits, or from 1,000 on, is rounded
    to a whole one, never to an exponent: ``3741.2`` -> ``3,741``, ``110`` (2 digits) -> ``110``.
    """
    if x is None or not math.isfinite(x):
        return "-"
    if x == 0 or abs(x) < zero:
        return "0"
    if abs(float(f"{x:.{digits}g}")) >= min(10**digits, 1000):  # 999.96 at 4 digits: "1,000"
        return f"{x:,.0f}"
    if abs(x) >= 1e-3:
        return f"{x:.{digits}g}"
    return f"{x:.2e}"


def _pm(mean: float, half: float, zero: float = ZERO) -> str:
    """``mean ± half`` (4 and 2 significant digits), both parts formatted by :func:`_num`."""
    return f"{_num(mean, 4, zero)} ± {_num(half, 2, zero)}"


def _iv(iv: dict | None, digits: int = 3) -> str:
    if iv is None or iv["estimate"] is None:
        return "-"
    low = _num(iv["low"], digits) if iv["low"] is not None else "-"
    high = _num(iv["high"], digits) if iv["high"] is not None else "∞"
    return f"{_num(iv['estimate'], digits)} [{low}, {high}]"


def _at_first(entry: dict[str, Any], first: int) -> bool:
    """Whether the median samples-to-epsilon sits on the first checkpoint (an upper bound)."""
    s = entry["samples_to_epsilon"]
    return s is not None and s["estimate"] is not None and s["estimate"] <= first


def _samples(entry: dict[str, Any], budget: int, first: int, per_step: int = 1) -> str:
    """Median samples (or episodes, ``per_step`` samples each) to epsilon, with the share of
    runs that got there: ``> budget`` when unknown, ``<= first`` on the first checkpoint."""
    s = entry["samples_to_epsilon"]
    share = f"{100 * entry['reached']:.0f}%"
    if s is None or s["estimate"] is None:
        return f"> {_num(budget / per_step)} ({share})"
    mark = "<= " if _at_first(entry, first) else ""
    return f"{mark}{_num(s['estimate'] / per_step)} ({share})"


def _grid_note(grids: list[dict[str, Any]], marked: bool) -> str:
    """Caption text: samples to epsilon are read on the checkpoint grid (its resolution), and
    what ``<=`` means when a value is marked."""
    density = sorted(g["per_decade"] for g in grids if g["per_decade"])
    counts = sorted(g["count"] for g in grids)
    if density and round(density[0]) == round(density[-1]):
        res = f", ~{density[0]:.0f} per decade"
    elif density:
        res = f", ~{density[0]:.0f} to {density[-1]:.0f} per decade"
    else:
        res = ""
    count = f"{counts[0]}" if counts[0] == counts[-1] else f"{counts[0]} to {counts[-1]}"
    note = f" Values to epsilon can only be checkpoints ({count} checkpoints{res})."
    if marked:
        note += (" '<= x': at least half of the runs were within epsilon already at the first "
                 "checkpoint x, so the median is at most x.")
    return note


def _title(summary: dict[str, Any]) -> str:
    runs = summary["runs"]
    partial = "" if runs >= summary["runs_requested"] else f" of {summary['runs_requested']}"
    budget = settings.get(summary["setting"]).budget.format(**summary)
    return f"{summary['problem']}: {budget}, {runs}{partial} runs, seed {summary['seed']}"


def _agent_names(summary: dict[str, Any]) -> str:
    """A caption's note spelling out the registry names that read as words ("etc")."""
    return ("etc: explore-then-commit. "
            if any(a["name"] == "etc" for a in summary["agents"]) else "")


def lai_robbins_note(lr: float | None, horizon: int) -> str:
    """What the Lai-Robbins constant C says: an asymptotic statement, not a bound at T."""
    if lr is None:
        return "every run draws its own instance, so no single Lai-Robbins constant applies."
    reference = (f"; C ln T = {_num(lr * math.log(horizon), 4)} is a reference curve, not a bound "
                 "at this T" if horizon > 1 else "")
    return (f"Lai-Robbins constant {lr:.3f} (asymptotic: liminf E[regret] / ln T >= C = "
            f"{lr:.3f} for every uniformly good agent{reference}).")


def bandit_table(summary: dict[str, Any]):
    """`celab bandit`'s table: regret, regret / ln T, Lai-Robbins, simple regret, best arm,
    pulls to epsilon."""
    from rich.markup import escape
    from rich.table import Table

    lr = summary["info"]["lai_robbins"]
    eps = summary["epsilon"]
    zero = zero_level(summary["info"])
    grid = summary["checkpoints"]
    marked = any(_at_first(a, grid["first"]) for a in summary["agents"])
    table = Table(
        title=_title(summary),
        caption=_agent_names(summary) + escape(lai_robbins_note(lr, summary["horizon"])) +
        " Simple regret: mu* minus the mean of the arm the agent would deploy now. "
        "Best arm: share of runs whose most-pulled arm is optimal. "
        f"Pulls to {eps:g}: median pulls after which the deployed arm stays within {eps:g} of "
        "mu* (share of runs that got there; > T when more than half never did)."
        + _grid_note([grid], marked) +
        " ± is the half-width of the 95% confidence interval over runs.",
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
            _pm(a["regret_mean"], a["regret_ci95"], zero),
            _num(a["regret_over_log_t"], 3, zero),
            "-" if lr is None else f"{lr:.3f}",
            _num(a["simple_regret_mean"], 3, zero),
            f"{100 * a['best_arm_share']:.0f}%",
            _samples(a, summary["budget_samples"], grid["first"]),
        )
    return table


def mdp_table(summary: dict[str, Any]):
    """`celab mdp`'s table: regret, simple regret, episodes until epsilon-optimal."""
    from rich.table import Table

    eps = summary["epsilon"]
    zero = zero_level(summary["info"])
    grid = summary["checkpoints"]
    per_step = summary["budget_samples"] // summary["episodes"]
    marked = any(_at_first(a, grid["first"]) for a in summary["agents"])
    table = Table(
        title=_title(summary),
        caption=f"Regret: sum over episodes of V*(start) - V^pi_k(start) (V* = "
        f"{_num(summary['info']['v_star'], 4)}), exact on the true model. Simple regret: the "
        f"same gap for the policy the agent would deploy now. Episodes to {eps:g}: median over "
        "runs of the episodes after which the deployed policy stays within "
        f"{eps:g} of optimal (share of runs that got there)." + _grid_note([grid], marked),
    )
    table.add_column("agent", style="bold", no_wrap=True)
    table.add_column("regret ± 95% CI", justify="right", no_wrap=True)
    table.add_column("simple regret", justify="right")
    table.add_column(f"episodes to {eps:g}", justify="right")
    for a in summary["agents"]:
        table.add_row(a["agent"], _pm(a["regret_mean"], a["regret_ci95"], zero),
                      _num(a["simple_regret_mean"], 3, zero),
                      _samples(a, summary["budget_samples"], grid["first"], per_step))
    return table


def problem_table(summary: dict[str, Any]):
    """The compare/run table: regret, growth exponent, simple regret, samples to epsilon."""
    from rich.table import Table

    unit = summary["sample_unit"]
    eps = summary["epsilon"]
    zero = zero_level(summary["info"])
    grid = summary["checkpoints"]
    marked = any(_at_first(a, grid["first"]) for a in summary["agents"])
    table = Table(
        title=_title(summary),
        caption=_agent_names(summary) +
        f"Growth: exponent b of regret ~ samples^b on the last decade (1 linear, 0.5 "
        f"square root, ~0 logarithmic), [95% CI]. Samples to {eps:g}: median {unit} after "
        f"which the deployed policy stays within {eps:g} of optimal (share of runs)."
        + _grid_note([grid], marked),
    )
    table.add_column("agent", style="bold", no_wrap=True)
    table.add_column("regret ± 95% CI", justify="right", no_wrap=True)
    table.add_column("growth [CI]", justify="right", no_wrap=True)
    table.add_column("simple regret", justify="right")
    table.add_column(f"{unit} to {eps:g}", justify="right", no_wrap=True)
    for a in summary["agents"]:
        table.add_row(a["agent"], _pm(a["regret_mean"], a["regret_ci95"], zero),
                      _iv(a["growth"], 2), _num(a["simple_regret_mean"], 3, zero),
                      _samples(a, summary["budget_samples"], grid["first"]))
    return table


def _ratio(r: dict[str, Any], ce_first: bool, rf_first: bool) -> str:
    """The headline's ratio cell: a lower bound when best CE's median is only an upper bound."""
    if r["ratio"] is None:
        return f"> {_num(r['ratio_lower_bound'])}"
    if ce_first and rf_first:
        return "- (both <= first checkpoint)"
    if ce_first:
        return f">= {_num(r['ratio']['estimate'])}"
    return _iv(r["ratio"], 3)


def headline_table(rows: list[dict[str, Any]]):
    """Samples to epsilon: REINFORCE against the best certainty-equivalence agent."""
    from rich.table import Table

    cells, marked, lower = [], False, False
    for r in rows:
        budget, first = r["budget_samples"], r["checkpoints"]["first"]
        rf = {"samples_to_epsilon": r["reinforce_samples"], "reached": r["reinforce_reached"]}
        if r.get("best_ce") is None:
            cells.append([r["problem"], f"{r['epsilon']:g}", "-", "-", r["reinforce"],
                          _samples(rf, budget, first), "-"])
            marked = marked or _at_first(rf, first)
            continue
        ce = {"samples_to_epsilon": r["best_ce_samples"], "reached": r["best_ce_reached"]}
        ce_first, rf_first = _at_first(ce, first), _at_first(rf, first)
        marked = marked or ce_first or rf_first
        lower = lower or (ce_first and r["ratio"] is not None)
        cells.append([r["problem"], f"{r['epsilon']:g}", r["best_ce"], _samples(ce, budget, first),
                      r["reinforce"], _samples(rf, budget, first),
                      _ratio(r, ce_first, rf_first)])
    table = Table(
        title="How many more samples does REINFORCE need than certainty equivalence?",
        caption="Samples (pulls or steps) until the deployed policy stays within epsilon of "
        "optimal: median over runs (share of runs that got there). Best CE agent: the "
        "certainty-equivalence agent reaching epsilon in the most runs, then the fastest. Ratio: "
        "REINFORCE / best CE agent, [95% bootstrap CI over runs]; '>' where REINFORCE's "
        "median lies beyond the budget, so only a lower bound is known."
        + (" '>=': best CE's median is only an upper bound, so the ratio is a lower bound."
           if lower else "") + _grid_note([r["checkpoints"] for r in rows], marked),
    )
    table.add_column("problem", style="bold", no_wrap=True)
    table.add_column("epsilon", justify="right")
    table.add_column("best CE agent", no_wrap=True)
    table.add_column("its samples", justify="right")
    table.add_column("REINFORCE", no_wrap=True)
    table.add_column("its samples", justify="right")
    table.add_column("ratio", justify="right", no_wrap=True)
    for row in cells:
        table.add_row(*row)
    return table

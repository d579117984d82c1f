"""Summaries of results (plain dictionaries: the numbers of summary.json) and rich tables.

A report never simulates: everything here is computed from saved :class:`Result` arrays.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from tracking import settings, stats
from tracking.results import LEGACY_READOUTS, READOUTS, Result, readout_key

if TYPE_CHECKING:
    from rich.table import Table

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


def best_agent(reached: list[float], samples: list[dict[str, Any] | None]) -> int | None:
    """Index of the agent reaching epsilon in the largest share of runs, then fastest.

    ``samples`` are the agents' ``samples_to_epsilon`` (:meth:`tracking.stats.Quantile.as_dict`).
    Among the agents with a run that reached epsilon: the highest share of runs that reached
    it, then a measured n(epsilon, delta) before a censored one, then the smallest; ties go to
    the first listed. None when no run of any agent reached epsilon.
    """
    known = [i for i, s in enumerate(samples) if s is not None and reached[i] > 0]
    if not known:
        return None
    return min(known, key=lambda i: (-reached[i], samples[i]["censored"],  # min keeps the
                                     samples[i]["estimate"]))              # first on ties


def exit_times(result: Result, i: int, epsilon: float | np.ndarray | None,
               readout: str = "greedy") -> stats.ExitTimes:
    """Agent ``i``'s last-exit times at ``epsilon`` of its ``readout`` (``"greedy"`` or
    ``"behaviour"``; every run's budget the last checkpoint). ``epsilon`` is one level, one
    per run (runs,), or None: the result's own (:func:`measure`, per run under a share of
    V*_0)."""
    if epsilon is None:
        epsilon = measure(result)[0]
    return stats.last_exit_times(result.samples, result.readout(readout)[i], epsilon)


def readout_numbers(result: Result, i: int, epsilon: float | np.ndarray, delta: float,
                    readout: str) -> dict[str, Any]:
    """Agent ``i``'s numbers of one readout of simple regret: ``simple_regret_mean`` and
    ``simple_regret_ci95`` at the last checkpoint, ``samples_to_epsilon`` (n(epsilon, delta),
    :meth:`tracking.stats.Quantile.as_dict`, None without runs) and ``reached``."""
    sm, shalf = stats.mean_ci(result.readout(readout)[i, :, -1])
    exits = exit_times(result, i, epsilon, readout)
    quantile = stats.km_quantile(exits, delta)
    return {"simple_regret_mean": float(sm), "simple_regret_ci95": float(shalf),
            "samples_to_epsilon": None if quantile is None else quantile.as_dict(),
            "reached": exits.reached}


def _top_level(result: Result, i: int, entry: dict[str, Any], numbers: dict[str, Any]
               ) -> dict[str, Any]:
    """Agent ``i``'s ``entry`` with one readout's ``numbers`` (:func:`readout_numbers`) at its
    top level, and the setting's extras computed from them (``episodes_to_epsilon``)."""
    out = {**entry, **numbers}
    out.update(settings.get(result.setting).agent_extras(result, i, out))
    return out


def measure(result: Result, epsilon: float | None = None, delta: float | None = None
            ) -> tuple[float | np.ndarray, float]:
    """epsilon and delta of samples to epsilon: the arguments, else the result's
    configuration, else its setting's defaults.

    A configuration's ``epsilon_share`` (when no ``epsilon`` argument is given) makes epsilon
    that share of the optimal value of each run's instance (the setting's ``optimum``):
    epsilon_r = share * V*_0(instance r), an array (runs,) with an instance per run, one number
    otherwise.
    """
    cfg = result.config
    setting = settings.get(result.setting)
    dlt = setting.key("delta").check(delta if delta is not None else
                                     cfg.get("delta", setting.delta))
    share = epsilon_share(result, epsilon)
    if share is not None:
        eps = share * np.asarray(setting.optimum(result), dtype=np.float64)
        return (float(eps) if eps.ndim == 0 else eps), dlt
    return float(epsilon if epsilon is not None else cfg.get("epsilon", setting.epsilon)), dlt


def epsilon_share(result: Result, epsilon: float | None = None) -> float | None:
    """The share of the optimal value that sets epsilon (the configuration's
    ``epsilon_share``), None when epsilon is one number (an ``epsilon`` argument overrides
    the share)."""
    share = result.config.get("epsilon_share") if epsilon is None else None
    return None if share is None else float(share)


def epsilon_rule(result: Result, eps: float | np.ndarray, epsilon: float | None = None
                 ) -> dict[str, Any] | None:
    """How epsilon was set, for summaries (``epsilon_rule``): None for one given number, else
    ``share``, ``of`` (the setting's name of the optimal value, ``"V*_0"``), ``per_run``
    (each run has its own instance, hence its own epsilon), ``median`` (of the runs'
    epsilons; None without runs) and ``text``: ``"epsilon = 10% of V*_0 per run; median
    1.23"``."""
    share = epsilon_share(result, epsilon)
    if share is None:
        return None
    of = settings.get(result.setting).optimum_label
    per_run = np.ndim(eps) == 1
    values = np.atleast_1d(np.asarray(eps, dtype=np.float64))
    median = float(np.median(values)) if values.size else None
    text = f"epsilon = {100 * share:g}% of {of}"
    if per_run:
        text += " per run" + ("" if median is None else f"; median {median:.3g}")
    else:
        text += f" = {float(eps):.3g}"
    return {"share": share, "of": of, "per_run": per_run, "median": median, "text": text}


def epsilon_text(summary: dict[str, Any]) -> str:
    """epsilon for headings: ``0.1``, or its rule ``10% of V*_0`` (a summary's or a headline
    row's ``epsilon`` and ``epsilon_rule``)."""
    rule = summary.get("epsilon_rule")
    if rule is None:
        return f"{summary['epsilon']:g}"
    return f"{100 * rule['share']:g}% of {rule['of']}"


def optimum_runs(result: Result) -> dict[str, Any] | None:
    """The optimal values of the runs' instances (the setting's ``optimum``) when they differ
    per run: ``of``, ``median``, ``min`` and ``max`` (None without runs); None for one
    instance."""
    setting = settings.get(result.setting)
    if setting.optimum is None:
        return None
    values = np.asarray(setting.optimum(result), dtype=np.float64)
    if values.ndim == 0:
        return None
    stat = {k: (float(f(values)) if values.size else None)
            for k, f in (("median", np.median), ("min", np.min), ("max", np.max))}
    return {"of": setting.optimum_label, **stat}


def summarize(result: Result, epsilon: float | None = None, delta: float | None = None,
              readout: str | None = None) -> dict[str, Any]:
    """Numbers of one problem: per agent, regret, growth exponent, simple regret, samples.

    For each agent:

    - ``regret_mean`` and ``regret_ci95``: final cumulative regret, mean over runs and the
      half-width of its 95% Student-t interval;
    - ``growth``: exponent b of regret ~ t^b fitted on the last decade of the log-log curve of
      the mean regret, with a 95% bootstrap interval over runs (None when undefined);
    - ``simple_regret_mean`` and ``simple_regret_ci95``: at the last checkpoint;
    - ``samples_to_epsilon``: n(epsilon, delta), the Kaplan-Meier (1 - delta) quantile over
      runs of the samples (pulls or steps) after which the deployed policy's simple regret
      stays <= epsilon, with its 95% interval (:func:`tracking.stats.km_quantile`; None without
      runs), and ``reached``, the share of runs that got there;
    - the setting's extras (its ``agent_extras``): bandits ``regret_over_log_t`` and
      ``best_arm_share``, episodic MDPs ``episodes_to_epsilon``;
    - ``readouts``: ``{"greedy": {...}, "behaviour": {...}}``, the simple-regret numbers of
      each readout (:func:`readout_numbers`), and ``readouts_coincide``, whether the agent's
      two readouts are the same arrays.

    The simple-regret numbers at the top level, and the extras computed from them, are those
    of ``readout`` (``"greedy"`` or ``"behaviour"``, InputError otherwise; default the
    setting's, :attr:`tracking.settings.Setting.readout`), which the problem's entry names
    (``readout``). epsilon and delta are the arguments, else the
    result's configuration's, else the setting's defaults; with a configuration's
    ``epsilon_share`` each run has its own epsilon (:func:`measure`): ``epsilon`` is then None
    when the runs' instances differ (else the one value), and ``epsilon_rule`` states the rule
    (:func:`epsilon_rule`; None for one given epsilon). With an instance per run,
    ``optimum_runs`` gives the median and range of the runs' optimal values
    (:func:`optimum_runs`). The problem's entry adds the setting's ``summary_keys`` (episodic
    MDPs: ``episodes``); ``checkpoints`` describes the grid samples-to-epsilon is read on
    (:func:`checkpoint_grid`).
    """
    cfg = result.config
    setting = settings.get(result.setting)
    readout = setting.readout if readout is None else readout
    readout_key(readout)
    eps, dlt = measure(result, epsilon, delta)
    samples = result.samples
    budget = int(samples[-1])
    names = result.info.get("agent_names", [a.split("(")[0] for a in result.agents])
    families = result.info.get("families", [CE] * len(result.agents))
    agents = []
    for i, label in enumerate(result.agents):
        final = result.regret[i, :, -1]
        m, half = stats.mean_ci(final)
        numbers = {name: readout_numbers(result, i, eps, dlt, name) for name in READOUTS}
        entry: dict[str, Any] = {
            "agent": label,
            "name": names[i],
            "family": families[i],
            "regret_mean": float(m),
            "regret_ci95": float(half),
            "growth": _interval(stats.growth_exponent(samples, result.regret[i], seed=i)),
        }
        entry = _top_level(result, i, entry, numbers[readout])
        entry["readouts"] = numbers
        entry["readouts_coincide"] = bool(np.array_equal(result.simple_regret_greedy[i],
                                                         result.simple_regret_behaviour[i]))
        agents.append(entry)
    out = {
        "problem": result.problem,
        "setting": result.setting,
        "runs": result.runs,
        "runs_requested": result.runs_requested,
        "seed": cfg.get("seed"),
        "horizon": cfg.get("horizon"),
        "epsilon": eps if np.ndim(eps) == 0 else None,
        "epsilon_rule": epsilon_rule(result, eps, epsilon),
        "optimum_runs": optimum_runs(result),
        "delta": dlt,
        "readout": readout,
        "budget_samples": budget,
        "sample_unit": setting.sample_unit,
        "checkpoints": checkpoint_grid(samples),
        "agents": agents,
        "info": {k: v for k, v in result.info.items() if k not in ("agent_names", "families")},
    }
    out.update({key: cfg.get(key) for key in setting.summary_keys})
    return out


def with_readout(result: Result, summary: dict[str, Any], readout: str) -> dict[str, Any]:
    """The summary of ``result`` (:func:`summarize`) with the numbers of ``readout`` at the
    top level of every agent, taken from its ``readouts`` (nothing is computed again but the
    setting's extras); ``summary`` itself is not changed."""
    readout_key(readout)
    agents = [_top_level(result, i, a, a["readouts"][readout])
              for i, a in enumerate(summary["agents"])]
    return {**summary, "readout": readout, "agents": agents}


def choose_readout(results: list[Result], summary: dict[str, Any], readout: str
                   ) -> dict[str, Any]:
    """An experiment's summary (``{"problems": [...], "headline": [...], ...}``, the problems
    those of ``results`` in order) with ``readout`` at the top level: every problem by
    :func:`with_readout`, the headline computed again from them; other keys kept. Returned as
    it is when every problem shows ``readout`` already."""
    readout_key(readout)
    if all(p["readout"] == readout for p in summary["problems"]):
        return summary
    problems = [with_readout(r, p, readout) for r, p in zip(results, summary["problems"])]
    head = [row for r, p in zip(results, problems) for row in headline(r, p)]
    return {**summary, "problems": problems, "headline": head}


def headline(result: Result, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """REINFORCE against the best certainty-equivalence agent on one problem.

    The best CE agent is :func:`best_agent` among the CE agents (the largest share of runs
    reaching epsilon, then a measured n(epsilon, delta) before a censored one, then the
    smallest, then the first listed). The ratio n(REINFORCE) / n(best CE) is
    :func:`tracking.stats.quantile_ratio` over the paired runs (bootstrap seed: REINFORCE's
    index among the agents): measured, a lower bound (REINFORCE's quantile censored), an upper
    bound (best CE's censored) or none (both). Every agent is read with the summary's
    ``readout``, which each row names. Each row carries the problem's ``checkpoints``.
    """
    eps, dlt, readout = summary["epsilon"], summary["delta"], summary["readout"]
    agents = summary["agents"]
    ce = [i for i, a in enumerate(agents) if a["family"] == CE]
    pick = best_agent([agents[i]["reached"] for i in ce],
                      [agents[i]["samples_to_epsilon"] for i in ce])
    rows = []
    for j, a in enumerate(agents):
        if a["name"] != "reinforce":
            continue
        row: dict[str, Any] = {"problem": summary["problem"], "reinforce": a["agent"],
                               "epsilon": eps, "epsilon_rule": summary.get("epsilon_rule"),
                               "delta": dlt, "readout": readout,
                               "budget_samples": summary["budget_samples"],
                               "reinforce_samples": a["samples_to_epsilon"],
                               "reinforce_reached": a["reached"],
                               "checkpoints": summary["checkpoints"]}
        if pick is None:
            row.update(best_ce=None, ratio=None,
                       note="no run of a certainty-equivalence agent reached epsilon")
            rows.append(row)
            continue
        best = ce[pick]
        row.update(best_ce=agents[best]["agent"],
                   best_ce_samples=agents[best]["samples_to_epsilon"],
                   best_ce_reached=agents[best]["reached"])
        ratio = stats.quantile_ratio(exit_times(result, j, eps, readout),
                                     exit_times(result, best, eps, readout), dlt, seed=j)
        row["ratio"] = ratio.as_dict()
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
    """Whether a measured n(epsilon, delta) sits on the first checkpoint (an upper bound)."""
    s = entry["samples_to_epsilon"]
    return s is not None and not s["censored"] and s["estimate"] <= first


def samples_text(s: dict[str, Any] | None, per_step: int = 1) -> str:
    """n(epsilon, delta) in samples (or in steps of ``per_step`` samples) for a table: a
    censored one as ``> budget`` (a lower bound), ``-`` without runs."""
    if s is None:
        return "-"
    value = _num(s["estimate"] / per_step)
    return f"> {value}" if s["censored"] else value


def _samples(entry: dict[str, Any], first: int, per_step: int = 1) -> str:
    """n(epsilon, delta) (:func:`samples_text`) with the share of runs that got there;
    ``<= first`` on the first checkpoint."""
    mark = "<= " if _at_first(entry, first) else ""
    return f"{mark}{samples_text(entry['samples_to_epsilon'], per_step)} " \
           f"({100 * entry['reached']:.0f}%)"


def runs_share(delta: float) -> str:
    """The share of runs n(epsilon, delta) covers, for a heading: ``90% of runs``."""
    return f"{100 * (1 - delta):.4g}% of runs"


def samples_note(unit: str, epsilon: float | str, delta: float, what: str) -> str:
    """Caption text defining a table's n(epsilon, delta) column: the ``unit`` (pulls, steps,
    episodes) by which 1 - delta of the runs have ``what`` (``the deployed arm within 0.01 of
    mu*``) for good; ``epsilon`` a number or its text (:func:`epsilon_text`)."""
    share = runs_share(delta)
    level = epsilon if isinstance(epsilon, str) else f"{epsilon:g}"
    return (f"{unit.capitalize()} to {level} ({share}): the {unit} by which {share} have "
            f"{what} for good (Kaplan-Meier quantile over runs; in brackets the share of runs "
            f"that got there within the budget); '> x': fewer than {share} got there within "
            "the budget x, so only this lower bound is known.")


def epsilon_note(summary: dict[str, Any]) -> str:
    """Caption text stating a share-of-optimum epsilon's rule (with a leading space): ``
    Epsilon = 10% of V*_0 per run; median 1.23.``; empty for one given epsilon."""
    rule = summary.get("epsilon_rule")
    return "" if rule is None else f" {rule['text'][0].upper()}{rule['text'][1:]}."


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
        note += (" '<= x': enough runs were within epsilon already at the first checkpoint x, "
                 "so the value is at most x.")
    return note


#: What each readout of simple regret reads, for captions and reports.
READOUT_WORDS = {"greedy": "the argmax of what the agent has learned",
                 "behaviour": "the policy the agent would act with next"}


def readout_phrase(readouts: Iterable[str]) -> str:
    """The readout(s) of a table or a report, each named once: ``the greedy readout of every
    agent (the argmax of what the agent has learned)``."""
    names = sorted(set(readouts), key=READOUTS.index)
    return ("the " + " and the ".join(f"{name} readout" for name in names) + " of every agent ("
            + "; ".join(READOUT_WORDS[name] for name in names) + ")")


def readout_note(readouts: Iterable[str], legacy: bool = False) -> str:
    """Caption text naming the readout(s) shown: ``Simple regret and samples to epsilon: the
    greedy readout of every agent (...).``; ``legacy``: the result holds one simple regret of
    an earlier celab version as both readouts (``info["readouts"] == "legacy"``)."""
    text = f"Simple regret and samples to epsilon: {readout_phrase(readouts)}."
    if legacy:
        text += (" This result, of an earlier celab version, holds one simple regret as both "
                 "readouts (greedy for certainty-equivalence agents, the softmax for "
                 "policy-gradient ones).")
    return text


def _readout_note(summary: dict[str, Any]) -> str:
    """:func:`readout_note` of one problem's summary, with a leading space."""
    legacy = summary["info"].get("readouts") == LEGACY_READOUTS
    return " " + readout_note([summary["readout"]], legacy)


#: The words of a sampled regret (an episodic MDP problem's ``regret = "sampled"``), for
#: captions and plots.
SAMPLED_REGRET = "regret: realised returns (sampled)"


def sampled(summary: dict[str, Any]) -> bool:
    """Whether a problem's regret was sampled from realised returns: its summary's (or
    configuration's) ``regret``; absent, as in the bandits and the continuing setting, it is
    not."""
    return summary.get("regret") == "sampled"


def regret_note(summary: dict[str, Any]) -> str:
    """Caption text of a problem whose regret was sampled (with a leading space); empty
    otherwise."""
    if not sampled(summary):
        return ""
    return (f" {SAMPLED_REGRET[0].upper()}{SAMPLED_REGRET[1:]}: V*(start) minus each episode's "
            "return, summed over episodes (unbiased for the exact regret; noisier, and it can "
            "decrease).")


def budget_rule_note(summary: dict[str, Any]) -> str:
    """Caption text of a problem whose budget was chosen by doubling (``budget = "until"``,
    its ``info["budget_rule"]``); empty for a fixed budget."""
    rule = summary["info"].get("budget_rule")
    if not rule:
        return ""
    length = settings.get(summary["setting"]).length
    tried = ", ".join(f"{b:,}" for b in rule["tried"])
    whose = "some" if rule.get("stop") == "any" else "every"
    note = (f" Budget chosen by doubling ({length} {tried}, each try run from the start) "
            f"until {whose} agent's n(epsilon, delta) of the greedy readout was measured")
    if rule["all_measured"]:
        return note + "."
    if whose == "some" and rule["final"] < rule["cap"]:
        return note + " (the others: censored, '> x')."
    return note + f"; the cap {rule['cap']:,} was reached with some still censored ('> x')."


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


def bandit_table(summary: dict[str, Any]) -> Table:
    """`celab bandit`'s table: regret, regret / ln T, Lai-Robbins, simple regret, best arm,
    pulls to epsilon."""
    from rich.markup import escape
    from rich.table import Table

    lr = summary["info"]["lai_robbins"]
    eps, dlt = epsilon_text(summary), summary["delta"]
    zero = zero_level(summary["info"])
    grid = summary["checkpoints"]
    marked = any(_at_first(a, grid["first"]) for a in summary["agents"])
    table = Table(
        title=_title(summary),
        caption=_agent_names(summary) + escape(lai_robbins_note(lr, summary["horizon"])) +
        " Simple regret: mu* minus the mean of the arm the agent would deploy now. "
        "Best arm: share of runs whose most-pulled arm is optimal. "
        + samples_note("pulls", eps, dlt, f"the deployed arm within {eps} of mu*")
        + _grid_note([grid], marked) +
        " ± is the half-width of the 95% confidence interval over runs." + _readout_note(summary),
    )
    table.add_column("agent", style="bold", no_wrap=True)
    table.add_column("regret ± 95% CI", justify="right", no_wrap=True)
    table.add_column("regret/ln T", justify="right")
    table.add_column("L-R const", justify="right")
    table.add_column("simple regret", justify="right")
    table.add_column("best arm", justify="right")
    table.add_column(f"pulls to {eps} ({runs_share(dlt)})", justify="right", no_wrap=True)
    for a in summary["agents"]:
        table.add_row(
            a["agent"],
            _pm(a["regret_mean"], a["regret_ci95"], zero),
            _num(a["regret_over_log_t"], 3, zero),
            "-" if lr is None else f"{lr:.3f}",
            _num(a["simple_regret_mean"], 3, zero),
            f"{100 * a['best_arm_share']:.0f}%",
            _samples(a, grid["first"]),
        )
    return table


def mdp_table(summary: dict[str, Any]) -> Table:
    """`celab mdp`'s table: regret, simple regret, episodes until epsilon-optimal."""
    from rich.table import Table

    eps, dlt = epsilon_text(summary), summary["delta"]
    zero = zero_level(summary["info"])
    grid = summary["checkpoints"]
    per_step = summary["budget_samples"] // summary["episodes"]
    marked = any(_at_first(a, grid["first"]) for a in summary["agents"])
    v_star = _num(summary["info"]["v_star"], 4)
    spread = summary.get("optimum_runs")
    if spread is not None and spread["median"] is not None:  # an instance per run
        v_star = (f"each run's own instance's: median {_num(spread['median'], 4)}, from "
                  f"{_num(spread['min'], 4)} to {_num(spread['max'], 4)}")
    regret = (f"Regret: sum over episodes of V*(start) - G_k (V* = {v_star}), G_k the "
              f"episode's realised return ({SAMPLED_REGRET}; unbiased for the exact regret). "
              "Simple regret: V*(start) - V^pi(start) exact on the true model, for the policy "
              "the agent would deploy now. " if sampled(summary) else
              f"Regret: sum over episodes of V*(start) - V^pi_k(start) (V* = {v_star}), exact "
              "on the true model. Simple regret: the same gap for the policy the agent would "
              "deploy now. ")
    table = Table(
        title=_title(summary),
        caption=regret
        + samples_note("episodes", eps, dlt, f"the deployed policy within {eps} of optimal")
        + epsilon_note(summary) + _grid_note([grid], marked) + _readout_note(summary),
    )
    table.add_column("agent", style="bold", no_wrap=True)
    table.add_column("regret ± 95% CI", justify="right", no_wrap=True)
    table.add_column("simple regret", justify="right")
    table.add_column(f"episodes to {eps} ({runs_share(dlt)})", justify="right")
    for a in summary["agents"]:
        table.add_row(a["agent"], _pm(a["regret_mean"], a["regret_ci95"], zero),
                      _num(a["simple_regret_mean"], 3, zero),
                      _samples(a, grid["first"], per_step))
    return table


def problem_table(summary: dict[str, Any]) -> Table:
    """The compare/run table: regret, growth exponent, simple regret, samples to epsilon."""
    from rich.table import Table

    unit = summary["sample_unit"]
    eps, dlt = epsilon_text(summary), summary["delta"]
    zero = zero_level(summary["info"])
    grid = summary["checkpoints"]
    marked = any(_at_first(a, grid["first"]) for a in summary["agents"])
    table = Table(
        title=_title(summary),
        caption=_agent_names(summary) +
        "Growth: exponent b of regret ~ samples^b on the last decade (1 linear, 0.5 "
        "square root, ~0 logarithmic), [95% CI]. "
        + samples_note(unit, eps, dlt, f"the deployed policy within {eps} of optimal")
        + epsilon_note(summary) + _grid_note([grid], marked) + _readout_note(summary)
        + budget_rule_note(summary)
        + regret_note(summary),
    )
    table.add_column("agent", style="bold", no_wrap=True)
    table.add_column("regret ± 95% CI", justify="right", no_wrap=True)
    table.add_column("growth [CI]", justify="right", no_wrap=True)
    table.add_column("simple regret", justify="right")
    table.add_column(f"{unit} to {eps} ({runs_share(dlt)})", justify="right",
                     no_wrap=True)
    for a in summary["agents"]:
        table.add_row(a["agent"], _pm(a["regret_mean"], a["regret_ci95"], zero),
                      _iv(a["growth"], 2), _num(a["simple_regret_mean"], 3, zero),
                      _samples(a, grid["first"]))
    return table


def ratio_text(ratio: dict[str, Any] | None, ce_first: bool = False,
               rf_first: bool = False) -> str:
    """A ratio of n(epsilon, delta) (:meth:`tracking.stats.Ratio.as_dict`) for a table:
    ``r [low, high]`` when measured, ``> r`` or ``< r`` for a bound (its 95% limit in
    brackets), ``-`` when both quantiles are censored. ``ce_first`` (``rf_first``): the
    denominator's (numerator's) quantile is on the first checkpoint, only an upper bound."""
    if ratio is None or ratio["kind"] == "none":
        return "- (both censored)"
    est = _num(ratio["estimate"])
    if ratio["kind"] == "lower_bound":
        return f"> {est}" + (f" [> {_num(ratio['low'])}]" if ratio["low"] is not None else "")
    if ratio["kind"] == "upper_bound":
        return f"< {est}" + (f" [< {_num(ratio['high'])}]" if ratio["high"] is not None else "")
    if ce_first and rf_first:
        return "- (both <= first checkpoint)"
    if ce_first:
        return f">= {est}"
    return _iv(ratio, 3)


def _headline_cells(r: dict[str, Any], column: bool) -> tuple[list[str], bool, bool]:
    """One row of the headline table; whether a value sits on the first checkpoint, and
    whether the ratio is a lower bound for that reason."""
    first = r["checkpoints"]["first"]
    eps = epsilon_text(r) + (f" / {r['delta']:g}" if column else "")
    rf = {"samples_to_epsilon": r["reinforce_samples"], "reached": r["reinforce_reached"]}
    if r.get("best_ce") is None:
        return ([r["problem"], eps, "-", "-", r["reinforce"], _samples(rf, first), "-"],
                _at_first(rf, first), False)
    ce = {"samples_to_epsilon": r["best_ce_samples"], "reached": r["best_ce_reached"]}
    ce_first, rf_first = _at_first(ce, first), _at_first(rf, first)
    cells = [r["problem"], eps, r["best_ce"], _samples(ce, first), r["reinforce"],
             _samples(rf, first), ratio_text(r["ratio"], ce_first, rf_first)]
    return cells, ce_first or rf_first, ce_first and r["ratio"]["kind"] == "measured"


def headline_table(rows: list[dict[str, Any]]) -> Table:
    """Samples to epsilon: REINFORCE against the best certainty-equivalence agent."""
    from rich.table import Table

    deltas = sorted({r["delta"] for r in rows})
    column = len(deltas) > 1  # deltas differ: each row says its own
    share = "1 - delta of runs" if column else runs_share(deltas[0]) if deltas else ""
    cells, marked, lower = [], False, False
    for r in rows:
        row, at_first, bound = _headline_cells(r, column)
        cells.append(row)
        marked, lower = marked or at_first, lower or bound
    table = Table(
        title="How many more samples does REINFORCE need than certainty equivalence?",
        caption="Samples (pulls or steps) until the deployed policy stays within epsilon of "
        f"optimal, in {share}: the Kaplan-Meier quantile over runs, '> x' when fewer runs got "
        "there within the budget x (share of runs that got there in brackets). Best CE agent: "
        "the certainty-equivalence agent reaching epsilon in the most runs, then the fastest. "
        "Ratio: REINFORCE / best CE agent, [95% paired bootstrap CI over runs]; '> r': "
        "REINFORCE's value is censored, so the ratio is at least r ([> 95% lower limit]); "
        "'< r': best CE's is, so the ratio is at most r."
        + (" '>=': best CE's value is only an upper bound, so the ratio is a lower bound."
           if lower else "") + _grid_note([r["checkpoints"] for r in rows], marked)
        + (" " + readout_note([r["readout"] for r in rows]) if rows else ""),
    )
    table.add_column("problem", style="bold", no_wrap=True)
    table.add_column("epsilon / delta" if column else "epsilon", justify="right")
    table.add_column("best CE agent", no_wrap=True)
    table.add_column("its samples" + ("" if column else f" ({share})"), justify="right")
    table.add_column("REINFORCE", no_wrap=True)
    table.add_column("its samples" + ("" if column else f" ({share})"), justify="right")
    table.add_column("ratio", justify="right", no_wrap=True)
    for row in cells:
        table.add_row(*row)
    return table

"""The held-out headline of ``celab compare``: the best certainty-equivalence (CE) and the best
policy-gradient (PG) agent of each problem, chosen on the tuning seeds, reported on the
evaluation seeds.

``celab compare`` tunes its suite first (experiments.tune, ``every = true``: every agent runs
on the tuning seeds, the tuned ones as the candidate their grid chose), then evaluates the
chosen agents. Per problem, :func:`row` ranks each side's agents on their tuning runs
(:func:`experiments.scaling.select_best`, samples to epsilon of the greedy readout) and reports
the chosen ones on the evaluation runs: n(epsilon, delta) of both readouts, the ratio best PG /
best CE (:func:`tracking.stats.quantile_ratio`), its split into a planning factor (best PG /
the CE agent that explores uniformly) and an exploration factor (that agent / best CE), each
side's mean cumulative regret at the budget, whether the two measures disagree, and one
sentence. Nothing here simulates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tracking import settings, specs, stats
from tracking.results import Result

from . import report, scaling

if TYPE_CHECKING:
    from rich.table import Table

    from .tune import Plan

PG = "policy-gradient"
#: Per setting, the CE agent that explores uniformly: its greedy readout plans on uniformly
#: collected data (the denominator of the planning factor).
UNIFORM = {"bandit": "epsilon-greedy:epsilon=1.0", "mdp": "ce-dither:epsilon=1.0",
           "linear-bandit": "lin-greedy:epsilon=1.0"}
SIDES = {"ce": report.CE, "pg": PG}
READOUTS = ("greedy", "behaviour")


def uniform_label(setting: str) -> str | None:
    """The label of the setting's uniformly exploring CE agent (None when it has none)."""
    spec = UNIFORM.get(setting)
    if spec is None:
        return None
    return specs.build(settings.get(setting).agent_registry(), spec, setting).label


def _cell(problem: str, label: str, result: Result, i: int) -> scaling.Cell:
    """Agent ``i`` of ``result`` as a cell: its last-exit times of the greedy readout at the
    result's epsilon, and its delta."""
    eps, delta = report.measure(result)
    return scaling.Cell(problem, 1.0, label, report.exit_times(result, i, eps), delta, eps)


def tuning_cells(plan: Plan, record: dict[str, Any], results: Mapping[str, Result],
                 problem: int, labels: Sequence[str]) -> dict[int, scaling.Cell]:
    """The tuning cell of every agent of problem ``problem`` that ran on the tuning seeds, by
    its place k in the problem: its chosen candidate's runs in its tuning job, under the
    agent's evaluation label ``labels[k]``."""
    name = plan.parsed["problems"][problem]["name"]
    cells = {}
    for entry, rec in zip(plan.entries, record["agents"]):
        if entry.problem != problem:
            continue
        chosen = [c["chosen"] for c in rec["candidates"]].index(True)
        cells[entry.agent] = _cell(name, labels[entry.agent], results[entry.job.problem],
                                   chosen)
    return cells


def _side(result: Result, summary: dict[str, Any], k: int, selection: scaling.Selection
          ) -> dict[str, Any]:
    """A chosen agent's numbers: its tuning n(epsilon, delta), both readouts' on the
    evaluation runs, and its final cumulative regret."""
    agent = summary["agents"][k]
    tuned = selection.tuning.quantile()
    return {"agent": agent["agent"], "index": k, "ranking": list(selection.ranking),
            "tuning": {"samples_to_epsilon": None if tuned is None else tuned.as_dict(),
                       "reached": selection.tuning.exits.reached,
                       "runs": selection.tuning.runs},
            **{r: {key: agent["readouts"][r][key] for key in ("samples_to_epsilon", "reached")}
               for r in READOUTS},
            "regret_mean": agent["regret_mean"], "regret_ci95": agent["regret_ci95"]}


def samples_winner(ratio: dict[str, Any] | None) -> str | None:
    """Which side needs fewer samples by the ratio PG / CE (point estimate): ``"pg"``,
    ``"ce"``, or None (equal, or unknown: both censored, or a bound that allows either)."""
    if ratio is None or ratio["estimate"] is None:
        return None
    est, kind = ratio["estimate"], ratio["kind"]
    if est > 1 and kind in ("measured", "lower_bound"):
        return "ce"
    if est < 1 and kind in ("measured", "upper_bound"):
        return "pg"
    return None


def regret_winner(pg: float, ce: float) -> str | None:
    """The side with the smaller mean cumulative regret at the budget (None when equal)."""
    return "pg" if pg < ce else "ce" if ce < pg else None


def row(result: Result, summary: dict[str, Any], tuning: Mapping[int, scaling.Cell]
        ) -> dict[str, Any]:
    """The held-out headline of one problem (keys: docs/results.md, "held_out").

    ``summary`` is the problem's :func:`report.summarize` on the evaluation runs, ``tuning``
    the agents' tuning cells by place (:func:`tuning_cells`). Each side (CE, PG: the agents'
    families) chooses among its agents with a tuning cell by :func:`scaling.select_best`; the
    ratios are :func:`tracking.stats.quantile_ratio` over the paired evaluation runs,
    bootstrap seed the chosen PG agent's place among the agents.
    """
    name, agents = summary["problem"], summary["agents"]
    out: dict[str, Any] = {key: summary[key] for key in (
        "problem", "setting", "epsilon", "delta", "budget_samples", "sample_unit",
        "checkpoints")}
    places = {}
    for side, family in SIDES.items():
        mine = [k for k, a in enumerate(agents) if a["family"] == family and k in tuning]
        if not mine:
            out[side] = None
            continue
        evaluation = {agents[k]["agent"]: _cell(name, agents[k]["agent"], result, k)
                      for k in mine}
        pick = scaling.select_best({agents[k]["agent"]: tuning[k] for k in mine}, evaluation)
        places[side] = next(k for k in mine if agents[k]["agent"] == pick.agent)
        out[side] = _side(result, summary, places[side], pick)
    uniform = uniform_label(summary["setting"])
    labels = [a["agent"] for a in agents]
    out["ce_uniform"] = uniform if uniform in labels else None
    out.update(ratio=None, ratio_behaviour=None, planning=None, exploration=None,
               samples_winner=None, regret_winner=None, disagree=False)
    if out["ce"] is not None and out["pg"] is not None:
        pg, ce = places["pg"], places["ce"]
        eps, dlt = summary["epsilon"], summary["delta"]

        def ratio(num: int, den: int, readout: str = "greedy") -> dict[str, Any]:
            return stats.quantile_ratio(report.exit_times(result, num, eps, readout),
                                        report.exit_times(result, den, eps, readout), dlt,
                                        seed=pg).as_dict()

        out["ratio"] = ratio(pg, ce)
        out["ratio_behaviour"] = ratio(pg, ce, "behaviour")
        if out["ce_uniform"] is not None:
            u = labels.index(out["ce_uniform"])
            out["planning"], out["exploration"] = ratio(pg, u), ratio(u, ce)
        out["samples_winner"] = samples_winner(out["ratio"])
        out["regret_winner"] = regret_winner(out["pg"]["regret_mean"],
                                             out["ce"]["regret_mean"])
        out["disagree"] = None not in (out["samples_winner"], out["regret_winner"]) \
            and out["samples_winner"] != out["regret_winner"]
    out["sentence"] = sentence(out)
    return out


def held_out(plan: Plan, tuning: dict[str, Any], results: Sequence[Result],
             summaries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The held-out headline, one :func:`row` per problem of the plan: ``tuning`` is the
    tuning phase's (``record``, ``results`` by job name: experiments.tune.tuning_phase),
    ``results`` and ``summaries`` the evaluation's, in the plan's order of problems."""
    rows = []
    for i, (result, summary) in enumerate(zip(results, summaries)):
        cells = tuning_cells(plan, tuning["record"], tuning["results"], i, result.agents)
        rows.append(row(result, summary, cells))
    return rows


# --- words -------------------------------------------------------------------------------------

def _factor(ratio: dict[str, Any]) -> str:
    """A ratio for a sentence: ``4.5 [1.4, 41]``, ``at least 57``, ``at most 0.3``,
    ``unknown (both censored)``."""
    if ratio["kind"] == "none":
        return "unknown (both censored)"
    est = report._num(ratio["estimate"])
    if ratio["kind"] == "lower_bound":
        return f"at least {est}"
    if ratio["kind"] == "upper_bound":
        return f"at most {est}"
    return report._iv(ratio)


def sentence(r: dict[str, Any]) -> str:
    """One sentence on a problem's held-out headline, from its numbers alone."""
    p = r["problem"]
    if r["ce"] is None or r["pg"] is None:
        missing = "certainty-equivalence" if r["ce"] is None else "policy-gradient"
        return f"{p}: no {missing} agent ran on the tuning seeds, so no side-by-side choice."
    pg, ce, unit = r["pg"], r["ce"], r["sample_unit"]
    share = report.runs_share(r["delta"])
    if r["ratio"]["kind"] == "none":
        text = (f"{p}: neither the best PG agent, {pg['agent']}, nor the best CE agent, "
                f"{ce['agent']} (both chosen on the tuning seeds), got its greedy readout "
                f"within {r['epsilon']:g} of optimal for good in {share} within the budget, so "
                "there is no ratio")
    else:
        n = [report.samples_text(side["greedy"]["samples_to_epsilon"]) for side in (pg, ce)]
        text = (f"{p}: the best PG agent chosen on the tuning seeds, {pg['agent']}, needs "
                f"{_factor(r['ratio'])} times the {unit} of the best CE agent, {ce['agent']}, "
                f"before its greedy readout stays within {r['epsilon']:g} of optimal in "
                f"{share} ({n[0]} against {n[1]} {unit})")
        if r["planning"] is not None:
            text += (f"; planning factor {_factor(r['planning'])} (against "
                     f"{r['ce_uniform']}), exploration factor {_factor(r['exploration'])}")
    regrets = f"{report._num(pg['regret_mean'], 4)} against {report._num(ce['regret_mean'], 4)}"
    if r["disagree"]:
        more = "more" if r["samples_winner"] == "ce" else "fewer"
        lower = "lower" if r["regret_winner"] == "pg" else "higher"
        return (f"{text}; yet its mean regret at the budget is {lower} ({regrets}), although "
                f"it needs {more} samples: the two measures disagree.")
    return f"{text}; mean regret at the budget {regrets}."


# --- tables ------------------------------------------------------------------------------------

def _samples(part: dict[str, Any], first: int) -> str:
    """n(epsilon, delta) [95% CI] (share of runs that settled), ``<=`` on the first
    checkpoint, ``> x`` when censored."""
    s = part["samples_to_epsilon"]
    if s is None:
        return "-"
    if s["censored"]:
        text = report.samples_text(s)
    else:
        text = ("<= " if s["estimate"] <= first else "") + report._iv(s)
    return f"{text} ({100 * part['reached']:.0f}%)"


def agents_table(rows: Sequence[dict[str, Any]]) -> Table:
    """The chosen agents of every problem: side, agent, n(epsilon, delta) [95% CI] of the
    greedy and of the behaviour readout on the evaluation runs, final regret."""
    from rich.markup import escape
    from rich.table import Table

    deltas = sorted({r["delta"] for r in rows})
    share = report.runs_share(deltas[0]) if len(deltas) == 1 else "1 - delta of runs"
    table = Table(
        title="The best agents, chosen on the tuning seeds, on the evaluation seeds",
        caption="Each side's agent is the one with the smallest samples to epsilon of the "
        "greedy readout on the tuning runs (measured before censored; censored ones by the "
        "share of runs that settled), then reported on the evaluation runs, which it was not "
        f"chosen on. Samples (pulls or steps) to epsilon, in {share}: the Kaplan-Meier "
        "quantile over runs [95% CI] (share of runs that settled), '> x' when fewer runs "
        "settled within the budget x, '<=' on the first checkpoint; greedy: the argmax of what "
        "the agent has learned, behaviour: the policy it acts with next. Regret: mean final "
        "cumulative regret ± the half-width of its 95% interval. Under each problem its "
        "epsilon.",
    )
    table.add_column("problem", style="bold", no_wrap=True)
    table.add_column("side")
    table.add_column("agent", no_wrap=True)
    table.add_column(f"greedy ({share})", justify="right")
    table.add_column("behaviour", justify="right")
    table.add_column("regret ± 95% CI", justify="right", no_wrap=True)
    for r in rows:
        first = r["checkpoints"]["first"]
        for j, side in enumerate(("ce", "pg")):
            s = r[side]
            cells = ([escape(s["agent"]), _samples(s["greedy"], first),
                      _samples(s["behaviour"], first), report._pm(s["regret_mean"],
                                                                   s["regret_ci95"])]
                     if s is not None else ["-", "-", "-", "-"])
            table.add_row(r["problem"] if j == 0 else f"[dim]epsilon {r['epsilon']:g}[/dim]",
                          side.upper(), *cells)
        table.add_section()
    return table


def _regret_cell(r: dict[str, Any]) -> str:
    """PG's mean final regret / CE's; where CE's 95% interval reaches 0, which side's is
    lower; ``†`` where the two measures disagree."""
    if r["ce"] is None or r["pg"] is None:
        return "-"
    pg, ce = r["pg"]["regret_mean"], r["ce"]["regret_mean"]
    if ce - r["ce"]["regret_ci95"] > 0:
        text = report._num(pg / ce)
    else:
        text = {"pg": "PG lower", "ce": "PG higher", None: "equal"}[r["regret_winner"]]
    return text + (" †" if r["disagree"] else "")


def ratios_table(rows: Sequence[dict[str, Any]]) -> Table:
    """Per problem: best PG / best CE of both readouts, the planning and exploration factors
    (greedy readout) and the ratio of the mean regrets, marked where the measures
    disagree."""
    from rich.table import Table

    table = Table(
        title="How many more samples does the best policy gradient need than the best "
              "certainty equivalence?",
        caption="Ratios of samples to epsilon, best PG / best CE (both chosen on the tuning "
        "seeds), over the paired evaluation runs [95% paired bootstrap CI]; '> r': PG's value "
        "is censored, so the ratio is at least r ([> 95% lower limit]); '< r': CE's is, so at "
        "most r. Planning: best PG / the CE agent exploring uniformly (plans on uniformly "
        "collected data); exploration: that agent / best CE; planning x exploration = the "
        "greedy ratio. Regret: PG's mean final cumulative regret / CE's (where CE's 95% interval "
        "reaches 0, whether PG's is lower or higher); '†': the two measures disagree (PG's "
        "regret is lower but it needs more samples, or the reverse).",
    )
    table.add_column("problem", style="bold", no_wrap=True)
    table.add_column("PG / CE greedy", justify="right")
    table.add_column("behaviour", justify="right")
    table.add_column("planning", justify="right")
    table.add_column("exploration", justify="right")
    table.add_column("regret PG / CE", justify="right")
    for r in rows:
        table.add_row(r["problem"], *(report.ratio_text(r[k]) if r[k] is not None else "-"
                                      for k in ("ratio", "ratio_behaviour", "planning",
                                                "exploration")), _regret_cell(r))
    return table

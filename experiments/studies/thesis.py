"""celab's thesis: samples to epsilon of policy gradient against certainty equivalence, family
by family, as scaling laws in the problem's size.

The design (families, sizes, agents, tuning grids, budgets) is experiments/studies/
thesis_design.py; the statistics are experiments/scaling.py. This module turns a completed
study into cells (one per family, size and agent: the runs' last-exit times at epsilon), chooses
each side's best agent on the tuning seeds, reports it on the evaluation seeds, and writes the
report: every sentence with a figure in it is generated from the numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tracking import specs, stats

from .. import scaling
from ..report import ratio_text
from . import Context, budget_note, figure, md_table, measure_note, num
from .thesis_design import (
    ALPHAS,
    APART,
    CE,
    DELTA,
    EPSILON_SHARE,
    FAMILIES,
    PG,
    SENSITIVITY_DELTAS,
    SENSITIVITY_SHARES,
    UNIFORM,
    VARIANTS,
    agents_of,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from tracking.results import Result

#: Bootstrap resamples of the fits and ratios of the report.
RESAMPLES = 500
#: The claim the study measures: certainty equivalence 100 to 1000 times more sample-efficient.
CLAIM = (100.0, 1000.0)
_NAME = re.compile(r"(?P<family>.+)-(?P<axis>[A-Za-z]+)(?P<size>\d+)(?:\.(?P<group>.+))?")


def parse_name(problem: str) -> tuple[str, int, str | None]:
    """(family, size, group) of a problem name written by thesis_design.problem_name."""
    m = _NAME.fullmatch(problem)
    if m is None or m["family"] not in FAMILIES:
        raise ValueError(f"not a thesis problem: {problem!r}")
    return m["family"], int(m["size"]), m["group"]


def labels(family: str, group: str | None) -> list[str]:
    """The design's labels of a problem's agents, in the problem's order."""
    agents = agents_of(family)
    if group is not None:
        return [group]
    return [label for label in agents if label not in APART]


def epsilons(result: Result, family: str, share: float | None = None) -> float | np.ndarray:
    """Epsilon of a family's problem: bandits the problem's epsilon; MDP families ``share``
    (default: the file's ``epsilon_share``, EPSILON_SHARE) of V*_0 of each run's instance (an
    array over runs)."""
    from tracking import settings

    from ..report import measure

    if FAMILIES[family].setting != "mdp" or share is None:
        return measure(result)[0]
    return share * np.asarray(settings.get(result.setting).optimum(result), dtype=np.float64)


def _exits(result: Result, i: int, eps: float | np.ndarray, readout: str) -> stats.ExitTimes:
    return stats.last_exit_times(result.samples, result.readout(readout)[i], eps)


@dataclass
class Cells:
    """Every family's cells: family -> size -> label -> Cell, on the evaluation runs and on
    the tuning runs (the chosen candidate of each agent), and each cell's agent spec."""

    evaluation: dict[str, dict[int, dict[str, scaling.Cell]]]
    tuning: dict[str, dict[int, dict[str, scaling.Cell]]]
    specs: dict[tuple[str, int, str], str]
    regret: dict[tuple[str, int, str], float]
    budget: dict[tuple[str, int, str], int]


def _tuned(ctx: Context) -> dict[tuple[str, int], tuple[Result, int]]:
    """(problem, agent index) -> (its tuning result, the chosen candidate's index)."""
    from .. import tune

    if ctx.tuning is None:
        return {}
    out = {}
    seen: dict[str, int] = {}
    for entry in ctx.tuning["record"]["agents"]:
        problem = entry["problem"]
        k = seen.get(problem, 0)
        seen[problem] = k + 1
        name = specs.parse_spec(entry["agent"])[0]
        result = ctx.tuning["results"][tune.job_name(problem, k, name)]
        chosen = next(i for i, c in enumerate(entry["candidates"]) if c["chosen"])
        out[(problem, k)] = (result, chosen)
    return out


def cells_of(ctx: Context, share: float | None = None, delta: float = DELTA,
             readout: str = "greedy") -> Cells:
    """The cells of a completed study at an epsilon share (MDP families) and delta."""
    tuned = _tuned(ctx)
    ev: dict[str, dict[int, dict[str, scaling.Cell]]] = {}
    tu: dict[str, dict[int, dict[str, scaling.Cell]]] = {}
    spec_of, regret, budget = {}, {}, {}
    for problem, res in ctx.results.items():
        family, size, group = parse_name(problem)
        eps = epsilons(res, family, share)
        label = (f"{num(share or EPSILON_SHARE)} V*" if FAMILIES[family].setting == "mdp"
                 else eps)
        for k, name in enumerate(labels(family, group)):
            ev.setdefault(family, {}).setdefault(size, {})[name] = scaling.Cell(
                family, size, name, _exits(res, k, eps, readout), delta, label)
            spec_of[(family, size, name)] = res.agents[k]
            regret[(family, size, name)] = float(res.regret[k, :, -1].mean())
            budget[(family, size, name)] = int(res.samples[-1])
            if (problem, k) in tuned:
                t_res, i = tuned[(problem, k)]
                tu.setdefault(family, {}).setdefault(size, {})[name] = scaling.Cell(
                    family, size, name, _exits(t_res, i, epsilons(t_res, family, share),
                                               readout), delta, label)
    return Cells(ev, tu, spec_of, regret, budget)


def _sides(family: str) -> dict[str, list[str]]:
    agents = agents_of(family)
    return {side: [label for label, (_, s) in agents.items() if s == side]
            for side in (CE, UNIFORM, PG)}


@dataclass
class Analysis:
    """One family's analysis: the choices per size (on tuning runs), the scaling fits, the
    spread of the ratio over the choices, and the sensitivity rows."""

    family: str
    choices: dict[int, dict[str, scaling.Selection]]
    scaling: scaling.FamilyScaling
    spread: dict[int, scaling.ChoiceSpread]
    sensitivity: list[scaling.SensitivityRow]


def _choose(cells: Cells, family: str) -> dict[int, dict[str, scaling.Selection]]:
    """Each side's best agent at every size, chosen on the tuning runs (on the evaluation
    runs' cells when the study was not tuned, which the report then says)."""
    sides = _sides(family)
    out = {}
    for size, row in cells.evaluation[family].items():
        pool = cells.tuning.get(family, {}).get(size) or row
        out[size] = {side: scaling.select_best({n: pool[n] for n in sides[side] if n in pool},
                                               {n: row[n] for n in sides[side] if n in row})
                     for side in (CE, PG)}
    return out


def analyse(ctx: Context, family: str, cells: Cells) -> Analysis:
    choices = _choose(cells, family)
    rows = cells.evaluation[family]
    all_cells = [c for size in sorted(rows) for c in rows[size].values()]
    pg = {float(s): choices[s][PG].agent for s in rows}
    ce = {float(s): choices[s][CE].agent for s in rows}
    uniform = "uniform" if _sides(family)[UNIFORM] else None
    fs = scaling.analyse_family(all_cells, pg, ce, uniform,
                                FAMILIES[family].size_name, seed=0, resamples=RESAMPLES)
    sides = _sides(family)
    spread = {s: scaling.choice_spread({n: rows[s][n] for n in sides[PG]},
                                       {n: rows[s][n] for n in sides[CE]},
                                       pg[float(s)], ce[float(s)], seed=s, resamples=RESAMPLES)
              for s in sorted(rows)}
    setting = FAMILIES[family].setting
    rules = (EPSILON_SHARE, *SENSITIVITY_SHARES) if setting == "mdp" else (None,)

    def pairs(rule: float | None, delta: float) -> dict[float, tuple[scaling.Cell, scaling.Cell]]:
        other = cells_of(ctx, rule, delta).evaluation[family]
        return {float(s): (other[s][pg[float(s)]], other[s][ce[float(s)]]) for s in other}

    sens = scaling.sensitivity(pairs, rules, (DELTA, *SENSITIVITY_DELTAS), resamples=RESAMPLES,
                               size_name=FAMILIES[family].size_name)
    return Analysis(family, choices, fs, spread, sens)


# --- the report --------------------------------------------------------------------------------

def _q(cell: scaling.Cell) -> str:
    """n(epsilon, delta) of a cell for a table: ``1,234 [1,000, 1,500]``, ``> 5,000`` when
    censored, with the share of runs that settled."""
    q = cell.quantile()
    if q is None:
        return "-"
    share = f" ({100 * cell.exits.reached:.0f}%)"
    if q.censored:
        return f"> {num(q.estimate)}{share}"
    high = "inf" if not np.isfinite(q.high) else num(q.high)
    return f"{num(q.estimate)} [{num(q.low)}, {high}]{share}"


def _ratio(r: stats.Ratio | None) -> str:
    return "-" if r is None else ratio_text(r.as_dict())


def _laws_table(a: Analysis) -> str:
    s = a.scaling.size_name
    rows = []
    for name, fit in a.scaling.laws.items():
        rows.append([name, fit.text(), f"{fit.measured} of {fit.cells}",
                     fit.reason or ""])
    for fit, what in ((a.scaling.best_pg, "best PG"), (a.scaling.best_ce, "best CE"),
                      (a.scaling.ratio, "ratio best PG / best CE"),
                      (a.scaling.planning, "planning factor"),
                      (a.scaling.exploration, "exploration factor")):
        if fit is not None:
            rows.append([f"**{what}**", fit.text(), f"{fit.measured} of {fit.cells}",
                         fit.reason or ""])
    return md_table(["agent", f"exponent of {s} [95% CI]", "measured sizes", "note"], rows)


def _disagreements(a: Analysis, cells: Cells) -> list[str]:
    """Sentences for the sizes where the best PG agent needs more samples to epsilon than the
    best CE agent but has the lower regret at their common budget, or the reverse."""
    s = FAMILIES[a.family].size_name
    out = []
    for r in a.scaling.rows:
        size, pg, ce = int(r.size), r.pg, r.ce
        key_pg, key_ce = (a.family, size, pg), (a.family, size, ce)
        if cells.budget[key_pg] != cells.budget[key_ce] or r.ratio.kind == "none":
            continue  # regrets at different budgets, or no order by samples
        more = r.ratio.kind == "lower_bound" or (r.ratio.kind == "measured"
                                                  and r.ratio.estimate > 1)
        fewer = r.ratio.kind == "upper_bound" or (r.ratio.kind == "measured"
                                                   and r.ratio.estimate < 1)
        g_pg, g_ce = cells.regret[key_pg], cells.regret[key_ce]
        if (more and g_pg < g_ce) or (fewer and g_pg > g_ce):
            out.append(f"At {s} = {size} the two measures disagree: {pg} needs "
                       f"{'more' if more else 'fewer'} samples to epsilon than {ce} (ratio "
                       f"{_ratio(r.ratio)}) but has the {'lower' if more else 'higher'} mean "
                       f"regret at the budget ({num(g_pg)} against {num(g_ce)}).")
    return out


def _family_section(ctx: Context, a: Analysis, cells: Cells) -> list[str]:
    fam = FAMILIES[a.family]
    s = fam.size_name
    rows = cells.evaluation[a.family]
    behaviour = cells_of(ctx, readout="behaviour").evaluation[a.family]
    sides = _sides(a.family)
    agents = [n for side in (CE, UNIFORM, PG) for n in sides[side]]
    lines = [f"## {fam.title}", ""]
    head = [s, f"budget ({fam.unit})", "best CE (tuning seeds)", "its n", "CE uniform n",
            "best PG (tuning seeds)", "its n", "ratio PG / CE", "planning", "exploration",
            "ratio, behaviour readout"]
    table = []
    for r in a.scaling.rows:
        size = int(r.size)
        ch = a.choices[size]
        b_pg, b_ce = behaviour[size][ch[PG].agent], behaviour[size][ch[CE].agent]
        b_ratio = stats.quantile_ratio(b_pg.exits, b_ce.exits, b_pg.delta, seed=r.seed,
                                       resamples=RESAMPLES)
        table.append([size, num(cells.budget[(a.family, size, ch[PG].agent)]),
                      ch[CE].agent, _q(rows[size][ch[CE].agent]),
                      _q(rows[size]["uniform"]) if "uniform" in rows[size] else "-",
                      ch[PG].agent, _q(rows[size][ch[PG].agent]), _ratio(r.ratio),
                      _ratio(r.planning), _ratio(r.exploration), _ratio(b_ratio)])
    lines += [md_table(head, table), "",
              "n(epsilon, delta) of the greedy readout on the evaluation seeds, its 95% interval "
              "and the share of runs that settled; `>`: censored at the budget (fewer than "
              "1 - delta of the runs settled), a lower bound. The best agent of each side is "
              "chosen on the tuning seeds and reported on the evaluation seeds. The last column "
              "reads the same two agents by their behaviour readout (the policy each acts "
              "with).", ""]
    lines += ["Every agent, n(epsilon, delta) on the evaluation seeds, greedy readout:", "",
              md_table([s, *agents], [[size, *(_q(rows[size][n]) if n in rows[size] else "-"
                                               for n in agents)] for size in sorted(rows)]), ""]
    lines += ["The same by the behaviour readout:", "",
              md_table([s, *agents], [[size, *(_q(behaviour[size][n]) if n in behaviour[size]
                                               else "-" for n in agents)]
                                      for size in sorted(behaviour)]), ""]
    lines += ["Mean cumulative regret at the budget (the agents of one size share it, except "
              "those run apart: " + ", ".join(APART) + "):", "",
              md_table([s, *agents], [[size, *(num(cells.regret[(a.family, size, n)])
                                               if n in rows[size] else "-" for n in agents)]
                                      for size in sorted(rows)]), ""]
    lines += [_laws_table(a), ""]
    theory = scaling.theory_rows([s])
    if theory:
        lines += ["Theory beside the fits: " + "; ".join(
            f"{t['setting']}: {t['formula']} (exponent of {s}: {num(t['exponents'][s])}; "
            f"{t['source']})" for t in theory) + ".", ""]
    spread = []
    for size, sp in a.spread.items():
        lo, hi = sp.pg_range
        clo, chi = sp.ce_range
        spread.append([size, f"{num(lo)} to {num(hi)}", f"{num(clo)} to {num(chi)}"])
    lines += ["Does the choice decide the verdict? The ratio's estimate with every PG agent in "
              "turn (against the chosen CE agent), and with every CE agent in turn (under the "
              "chosen PG agent):", "",
              md_table([s, "over the PG agents", "over the CE agents"], spread), ""]
    sens = []
    for row in a.sensitivity:
        rule = "epsilon as in the file" if row.rule is None else f"epsilon = {num(row.rule)} V*"
        sens.append([rule, num(row.delta), row.exponent.text(),
                     "; ".join(f"{int(k)}: {_ratio(v)}" for k, v in row.ratios.items())])
    lines += ["Sensitivity: the ratio and its exponent under other epsilons and deltas (the "
              "same chosen agents, the same runs):", "",
              md_table(["epsilon", "delta", f"exponent of {s}", "ratio per size"], sens), ""]
    lines += ["**What the numbers say.** " + " ".join(scaling.verdict(a.scaling, CLAIM)
                                                   + _disagreements(a, cells)
                                                   + _li_sentence(a, cells)), ""]
    return lines


def _li_curve(a: Analysis, cells: Cells) -> tuple[np.ndarray, np.ndarray] | None:
    """On a chain family: the sizes and Li et al.'s bound (scaling.li_chain_curve) anchored at
    the best PG agent's n at the smallest size (a lower bound when that is censored)."""
    fam = FAMILIES[a.family]
    rows = cells.evaluation[a.family]
    if not fam.chain or not rows:
        return None
    sizes = sorted(rows)
    q = rows[sizes[0]][a.choices[sizes[0]][PG].agent].quantile()
    if q is None or not math.isfinite(q.estimate):
        return None
    horizon = lambda n: fam.table(n)["horizon"]  # noqa: E731
    return np.array(sizes), scaling.li_chain_curve(sizes, q.estimate, horizon)


def _li_sentence(a: Analysis, cells: Cells) -> list[str]:
    """The generated sentence setting the best PG agent's growth beside Li et al.'s bound."""
    li = _li_curve(a, cells)
    if li is None or len(li[0]) < 2:
        return []
    rows = cells.evaluation[a.family]
    s = FAMILIES[a.family].size_name
    first, last = int(li[0][0]), int(li[0][-1])
    q0 = rows[first][a.choices[first][PG].agent].quantile()
    q1 = rows[last][a.choices[last][PG].agent].quantile()
    grew = q1.estimate / q0.estimate
    how = ("" if not (q0.censored or q1.censored) else
           " (censored sizes enter as lower bounds, so this factor is not a measurement)")
    return [f"Li et al. (2021)'s lower bound for softmax policy gradient on a chain, in "
            f"samples at {s} = {first}, ..., {last} (its constants are unknown: the shape, "
            f"anchored at the best PG agent's n at {s} = {first}; it bounds their "
            f"construction, not these chains), grows by {num(li[1][-1] / li[1][0])}x from "
            f"{s} = {first} to {last}; the best PG agent's n(epsilon, delta) grew by "
            f"{num(grew)}x{how}."]


def _figure(analyses: list[Analysis], cells: Cells) -> Figure:
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    from ..plots import COLOURS

    cols = min(3, len(analyses))
    rows_ = -(-len(analyses) // cols)
    fig = Figure(figsize=(5.0 * cols, 4.2 * rows_), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows_, cols)).ravel()
    for ax in axes[len(analyses):]:
        ax.set_visible(False)
    for ax, a in zip(axes, analyses):
        rows = cells.evaluation[a.family]
        for j, (what, pick) in enumerate((("best CE", CE), ("best PG", PG))):
            xs, ys, cens = [], [], []
            for size in sorted(rows):
                q = rows[size][a.choices[size][pick].agent].quantile()
                if q is not None:
                    xs.append(size)
                    ys.append(q.estimate)
                    cens.append(q.censored)
            xs_, ys_, c_ = np.array(xs, float), np.array(ys), np.array(cens, bool)
            ax.plot(xs_, ys_, "-", color=COLOURS[j], alpha=0.6)
            ax.plot(xs_[~c_], ys_[~c_], "o", color=COLOURS[j], label=f"{what} (measured)")
            if c_.any():
                ax.plot(xs_[c_], ys_[c_], "^", color=COLOURS[j], fillstyle="none",
                        label=f"{what} (censored: at least)")
        uni = [(size, rows[size]["uniform"].quantile()) for size in sorted(rows)
               if "uniform" in rows[size]]
        uni = [(s_, q) for s_, q in uni if q is not None]
        if uni:
            ax.plot([u[0] for u in uni], [u[1].estimate for u in uni], ":", color=COLOURS[2],
                    label="CE, uniform exploration")
        li = _li_curve(a, cells)
        if li is not None:
            ax.plot(li[0], li[1], "--", color="grey",
                    label="Li et al. 2021 bound, shape (anchored at best PG)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        sizes = sorted(rows)
        ax.set_xticks(sizes, [str(x) for x in sizes])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(FAMILIES[a.family].size_name)
        ax.set_ylabel(f"n(epsilon, {num(DELTA)}) in {FAMILIES[a.family].unit}")
        ax.set_title(a.family, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Samples to epsilon against problem size: best policy gradient and best "
                 "certainty equivalence")
    return fig


def report(ctx: Context) -> str:
    cells = cells_of(ctx)
    families = [f for f in FAMILIES if f in cells.evaluation]
    analyses = [analyse(ctx, f, cells) for f in families]
    note = ctx.spec.get("study", {}).get("budget_note")
    tuned = ctx.tuning is not None
    lines = [
        "# thesis: samples to epsilon, policy gradient against certainty equivalence",
        "",
        (f"Budget: {note}; `celab reproduce thesis --full` runs the full budget."
         if note and ctx.budget != "smoke" else budget_note(ctx)),
        "",
        measure_note(ctx),
        "",
        "For each problem family, celab runs every certainty-equivalence (CE) agent and every "
        "policy-gradient (PG) agent, the same list at every size, on the same random numbers, "
        "and measures n(epsilon, delta): the samples after which 1 - delta of the runs have "
        f"their greedy readout within epsilon of optimal for good (delta = {num(DELTA)}; "
        f"MDP families: epsilon = {num(EPSILON_SHARE)} V*_0 of each run's instance; bandits: "
        "half the gap). Budgets double until every agent's n(epsilon, delta) is measured or "
        "the cap is reached; a value still censored at the cap is shown as a lower bound. "
        + (_tuning_sentence() if tuned else "The study ran without tuning: the best agents "
           "are chosen on the evaluation seeds themselves, which favours both sides equally.")
        + " The ratio best PG / best CE splits into a planning factor (best PG / CE with "
        "uniform exploration) and an exploration factor (CE uniform / best CE); the agent "
        "`uniform` is that CE agent: `epsilon-greedy:epsilon=1.0` on bandits, "
        "`lin-greedy:epsilon=1.0` on linear bandits, `ce-dither:epsilon=1.0` on MDPs, which "
        "act uniformly at random for ever and plan on what they saw for their greedy "
        "readout. "
        "Exponents are "
        "fitted on log n against log size by censored maximum likelihood (docs/results.md, "
        "\"Scaling laws\"), with 95% bootstrap intervals over runs.",
        "",
        figure(ctx, _figure(analyses, cells), "thesis-scaling",
               "n(epsilon, delta) against size, best CE and best PG of each family"),
        "",
    ]
    summary = []
    for a in analyses:
        lines += _family_section(ctx, a, cells)
        said = scaling.verdict(a.scaling, CLAIM)
        at = [x for x in said if x.startswith(("The ratio at", "Censored from"))]
        summary.append(f"- {FAMILIES[a.family].title}: " + " ".join(at[:1] + said[-1:]))
    lines += ["## What celab measured about the claim", "",
              "The claim: certainty equivalence is 100 to 1000 times more sample-efficient "
              "than policy gradient. Family by family (generated from the numbers above):", "",
              *summary, "",
              "## Caveats", "",
              "Samples to epsilon are read on each problem's checkpoint grid (about 10% "
              "resolution). The PG agents' step sizes were tuned over four values (with their "
              "variants); a schedule, "
              "a critic with features or a larger grid could do better, and the CE agents' "
              "constants were tuned the same way. A ratio whose numerator is censored is a "
              "lower bound set by the cap: it says how far the PG agent was from epsilon, not "
              "how far it would go with more samples. The theory column gives rates up to "
              "constants and logarithms; it is a guide to the slopes, not a prediction of the "
              "values.", ""]
    return "\n".join(lines) + "\n"


#: The smoke budget's families: enough sizes for every fit, and the tuning of every kind.
SMOKE_FAMILIES = ("bandit-gap0.1", "garnet")


def _tuning_sentence() -> str:
    """How the agents were tuned, from the design (thesis_design.GRIDS, VARIANTS)."""
    variants = "; ".join(
        f"{setting}: " + " x ".join(f"{p} in {{{', '.join(_value_text(v) for v in vs)}}}"
                                    for p, vs in grid.items())
        for setting, grid in VARIANTS.items())
    return ("Agents with parameters were tuned on held-out seeds: every CE kind with a "
            "parameter over four values, every PG kind over its step size alpha in "
            f"{{{', '.join(num(a) for a in ALPHAS)}}} times its variants ({variants}; "
            "linear bandits: none; "
            "bonus: c / sqrt(N) added to each reward; stationary: one policy for every step), "
            "every kind with the same tuning samples (budget = \"equal\"), each kind's "
            "tuning doubling its budget until one of its candidates settles; each side's best "
            "agent is chosen on those seeds and reported on the evaluation seeds. The "
            "baselines are the kinds themselves (running mean: reinforce; leave-one-out: "
            "rloo; group: grpo; learned values: actor-critic, ppo).")


def _value_text(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else num(v)


def smoke(parsed: dict[str, Any]) -> dict[str, Any]:
    """The smoke budget checks the pipeline on two families (bandits and garnets, three sizes
    each) with two candidates per tuning grid, the study's other steps unchanged."""
    problems = [t for t in parsed["problems"] if parse_name(t["name"])[0] in SMOKE_FAMILIES]
    used = {specs.parse_spec(a)[0] for t in problems for a in t["agents"]}
    def two(grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return {p: v[:2] for p, v in grid.items()}

    tune = {k: (two(g) if isinstance(g, dict) else g)
            for k, g in parsed["tune"].items() if not isinstance(g, dict) or k in used}
    names = {t["name"] for t in problems}
    own = {name: {k: two(g) for k, g in grids.items()}
           for name, grids in (parsed.get("problem_tune") or {}).items() if name in names}
    return dict(parsed, problems=problems, tune=tune, problem_tune=own)


def family_analyses(ctx: Context) -> Mapping[str, Analysis]:
    """Every family's analysis (for tests and notebooks)."""
    cells = cells_of(ctx)
    return {f: analyse(ctx, f, cells) for f in FAMILIES if f in cells.evaluation}


__all__ = ["Analysis", "Cells", "analyse", "cells_of", "epsilons", "family_analyses",
           "labels", "parse_name", "report"]

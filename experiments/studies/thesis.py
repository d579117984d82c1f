"""celab's thesis: samples to epsilon for REINFORCE against certainty equivalence, by size."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from tracking import stats

from ..report import CE, best_agent, exit_times, ratio_text, samples_text
from . import Context, budget_note, deltas_text, figure, md_table, measure_note, num

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from tracking.results import Result

FAMILIES = {
    "bandit": ("bandits: one arm at 0.5, K - 1 at 0.4 (epsilon 0.01)", "arms K", "pulls"),
    "garnet": ("garnets: S states, 4 actions, 5 successors, H = 10 (epsilon 0.1)", "states S",
               "steps"),
    "chain": ("RiverSwim chains of S states, H = 5S (epsilon 10% of V*)", "states S", "steps"),
}
RESAMPLES = 500


def _bounds(rows: list[dict]) -> list[float]:
    """The ratio lower bounds of the rows (REINFORCE's value censored)."""
    return [r["ratio"].estimate for r in rows if r["ratio"].kind == "lower_bound"]


def _size(problem: str) -> tuple[str, int]:
    family, size = re.fullmatch(r"(bandit|garnet|chain)-[KS](\d+)", problem).groups()
    return family, int(size)


def _best(res: Result, eps: float, delta: float, readout: str,
          family_filter: Callable[[str, str], bool]
          ) -> tuple[int | None, stats.ExitTimes | None, dict | None]:
    """The agent of a family chosen as the headline's (:func:`report.best_agent`: the largest
    share of runs reaching epsilon, then a measured n(epsilon, delta) before a censored one,
    then the smallest, first on ties), its exit times and its n(epsilon, delta), every agent
    read with ``readout``; when no run of the family reached epsilon, the first member."""
    names = res.info["agent_names"]
    fams = res.info["families"]
    members = [i for i in range(len(res.agents)) if family_filter(names[i], fams[i])]
    if not members:
        return None, None, None
    exits = [exit_times(res, i, eps, readout) for i in members]
    quantiles = [stats.km_quantile(x, delta).as_dict() for x in exits]
    pick = best_agent([x.reached for x in exits], quantiles)
    pick = 0 if pick is None else pick
    return members[pick], exits[pick], quantiles[pick]


def rows_of(ctx: Context) -> list[dict]:
    """One row per problem: best CE agent, best REINFORCE, the ratio of their n(epsilon,
    delta) (:func:`tracking.stats.quantile_ratio`, bootstrap seed: the problem size)."""
    rows = []
    for name, res in ctx.results.items():
        family, size = _size(name)
        summary = ctx.summaries[name]
        eps, delta, readout = summary["epsilon"], summary["delta"], summary["readout"]
        ce_i, ce_x, ce_q = _best(res, eps, delta, readout, lambda n, f: f == CE)
        pg_i, pg_x, pg_q = _best(res, eps, delta, readout, lambda n, f: n == "reinforce")
        rows.append({"problem": name, "family": family, "size": size, "delta": delta,
                     "budget": int(res.samples[-1]), "ce": res.agents[ce_i], "ce_samples": ce_q,
                     "ce_reached": ce_x.reached, "pg": res.agents[pg_i], "pg_samples": pg_q,
                     "pg_reached": pg_x.reached, "ce_x": ce_x, "pg_x": pg_x,
                     "ratio": stats.quantile_ratio(pg_x, ce_x, delta, seed=size)})
    return rows


def _measured(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["ratio"].kind == "measured"]


def growth(rows: list[dict]) -> stats.Interval | None:
    """Slope of log(ratio) against log(size) over the sizes with a measured ratio, with a
    bootstrap interval: the paired draws of every size's ratio (:func:`stats.ratio_draws`,
    runs resampled within the size, seed: the size), fitted draw by draw; draws with a
    censored quantile at some size are left out."""
    pts = _measured(rows)
    if len(pts) < 3:
        return None
    x = np.log([r["size"] for r in pts])
    est = float(np.polyfit(x, np.log([r["ratio"].estimate for r in pts]), 1)[0])
    draws = np.array([stats.ratio_draws(r["pg_x"], r["ce_x"], r["delta"], seed=r["size"],
                                        resamples=RESAMPLES) for r in pts])
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(draws)
    y = y[:, np.all(np.isfinite(y), axis=0)]
    if y.shape[1] == 0:
        return stats.Interval(est, float("nan"), float("nan"))
    slopes = np.polyfit(x, y, 1)[0]
    low, high = np.quantile(slopes, [0.025, 0.975])
    return stats.Interval(est, float(low), float(high))


def _figure(rows: list[dict]) -> Figure:
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    from ..plots import COLOURS, draw_bounds

    fams = [f for f in FAMILIES if any(r["family"] == f for r in rows)]
    fig = Figure(figsize=(5.2 * len(fams), 4.4))
    axes = np.atleast_1d(fig.subplots(1, len(fams)))
    for ax, fam in zip(axes, fams):
        title, xlabel, _ = FAMILIES[fam]
        pts = [r for r in rows if r["family"] == fam]
        meas = _measured(pts)
        bounds = [r for r in pts if r["ratio"].kind in ("lower_bound", "upper_bound")]
        if meas:
            x = np.array([r["size"] for r in meas], float)
            est = np.array([r["ratio"].estimate for r in meas])
            lo = np.array([r["ratio"].low for r in meas])
            hi = np.array([np.nan if r["ratio"].high is None else r["ratio"].high
                           for r in meas])
            err = np.vstack([est - lo, np.where(np.isfinite(hi), hi - est, 0.0)])
            ax.errorbar(x, est, yerr=err, fmt="o-", color=COLOURS[0], capsize=3,
                        label="measured ratio, 95% CI")
            for xi, e, h in zip(x, est, hi):
                if not np.isfinite(h):  # the interval has no finite upper end
                    ax.annotate("", xy=(xi, e * 8), xytext=(xi, e),
                                arrowprops={"arrowstyle": "->", "color": COLOURS[0]})
        for kind, direction, colour, label in (
                ("lower_bound", "up", COLOURS[1], "lower bound (REINFORCE's value censored)"),
                ("upper_bound", "down", COLOURS[2], "upper bound (best CE's value censored)")):
            part = [r for r in bounds if r["ratio"].kind == kind]
            if part:
                draw_bounds(ax, [r["size"] for r in part], [r["ratio"].estimate for r in part],
                            direction, colour, label)
        ax.axhline(1.0, color="#777777", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        # Every problem size is a labelled tick; the legend gets room above the data.
        sizes = sorted({r["size"] for r in pts})
        ax.set_xticks(sizes, [str(s) for s in sizes], minor=False)
        ax.xaxis.set_minor_formatter(NullFormatter())
        tops = [r["ratio"].estimate for r in bounds]
        tops += [r["ratio"].estimate if r["ratio"].high is None else r["ratio"].high
                 for r in meas]
        bottoms = [r["ratio"].low for r in meas if r["ratio"].low > 0] + [1.0]
        bottoms += [r["ratio"].estimate for r in bounds]
        ax.set_ylim(min(bottoms) / 2, max(tops + [1.0]) * 12)
        ax.set_xlim(sizes[0] / 1.5, sizes[-1] * 1.5)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("samples REINFORCE / samples best CE")
        ax.set_title(title, fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle("How many more samples policy gradient needs than certainty equivalence")
    return fig


def _samples(samples: dict, reached: float) -> str:
    return f"{samples_text(samples)} ({100 * reached:.0f}%)"


def report(ctx: Context) -> str:
    rows = rows_of(ctx)
    lines = [
        "# thesis: how many more samples does REINFORCE need than certainty equivalence?",
        "",
        budget_note(ctx),
        "",
        measure_note(ctx),
        "",
        "For every problem, celab runs certainty-equivalence agents (bandits: greedy, UCB, "
        "KL-UCB, Thompson sampling; MDPs: optimistic CE and PSRL) and REINFORCE (step sizes 0.1 "
        "and 0.4) on the same random numbers, and measures the samples (pulls, or environment "
        "steps) by which 1 - delta of the runs have their deployed policy within epsilon of "
        "optimal for good: n(epsilon, delta), the Kaplan-Meier quantile over runs, "
        f"{deltas_text(r['delta'] for r in rows)}. The ratio compares the best REINFORCE "
        "variant with the best CE agent (each: the variant that gets there in the largest "
        "share of runs, then the one with the smallest n(epsilon, delta)), with a 95% paired "
        "bootstrap interval over runs. "
        "Where REINFORCE's value is censored (fewer than 1 - delta of its runs got there "
        "within the budget), only a lower bound is known: budget / n(best CE); where best "
        "CE's is, only an upper bound.",
        "",
        figure(ctx, _figure(rows), "thesis-ratio",
               "samples-to-epsilon ratio REINFORCE / best CE against problem size"),
        "",
    ]
    summary_lines = []
    for fam, (title, xlabel, unit) in FAMILIES.items():
        fam_rows = sorted([r for r in rows if r["family"] == fam], key=lambda r: r["size"])
        if not fam_rows:
            continue
        lines += [f"## {title}", "",
                  md_table([xlabel, f"budget ({unit})", "best CE agent", "its samples",
                            "best REINFORCE", "its samples", "ratio [95% CI]"],
                           [[r["size"], num(r["budget"]), r["ce"],
                             _samples(r["ce_samples"], r["ce_reached"]), r["pg"],
                             _samples(r["pg_samples"], r["pg_reached"]),
                             ratio_text(r["ratio"].as_dict())]
                            for r in fam_rows]), ""]
        g = growth(fam_rows)
        measured = [r["ratio"].estimate for r in _measured(fam_rows)]
        bounds = _bounds(fam_rows)
        if g is not None:
            lines.append(f"Fitted growth: ratio ~ size^{num(g.estimate, 2)} (95% bootstrap CI "
                         f"[{num(g.low, 2)}, {num(g.high, 2)}]) over the sizes with a measured "
                         "ratio.")
        else:
            lines.append("Too few sizes with a measured ratio to fit a growth rate.")
        lines.append("")
        part = []
        if measured:
            part.append(f"measured ratios from {num(min(measured))} to {num(max(measured))}")
        if bounds:
            part.append(f"too few of REINFORCE's runs got within epsilon in the budget on "
                        f"{len(bounds)} size(s), ratio lower bounds up to {num(max(bounds))}")
        summary_lines.append(f"- {title}: " + ("; ".join(part) if part else "no data") + ".")
    all_measured = [r["ratio"].estimate for r in _measured(rows)]
    all_bounds = _bounds(rows)
    verdict = []
    if all_measured:
        big = sum(v >= 100 for v in all_measured)
        verdict.append(f"where both were measured, REINFORCE needed {num(min(all_measured))} to "
                       f"{num(max(all_measured))} times the samples of the best CE agent "
                       f"({big} of {len(all_measured)} measured ratios are 100 or more)")
    if all_bounds:
        verdict.append(f"on {len(all_bounds)} problem(s) too few of its runs got there within "
                       "the budget, "
                       f"where the factor is at least {num(min(all_bounds))} to "
                       f"{num(max(all_bounds))} (lower bounds set by the budget)")
    lines += [
        "## What celab measured about the claim",
        "",
        "The claim: certainty equivalence can be 100 to 1000 times more sample-efficient than "
        "policy gradient. celab's measurement, family by family:",
        "",
        *summary_lines,
        "",
        "In one sentence: " + ("; ".join(verdict) if verdict else "no comparison was possible")
        + ". Ratios reported as lower bounds grow with the budget: they say how far REINFORCE "
        "is from epsilon, not how far it would go with more samples.",
        "",
        "## Caveats",
        "",
        "The ratio depends on epsilon, on the step size (REINFORCE here has two fixed step "
        "sizes and its running-average baseline; a tuned schedule or a critic would do "
        "better), and on the problem family: in bandits with a large gap REINFORCE's softmax "
        "concentrates quickly, while in MDPs it learns only from returns of whole episodes and "
        "must discover rewarding states by chance. Samples to epsilon are read on the "
        "checkpoint grid (about 10% resolution), and a 95% interval of a (1 - delta) "
        "quantile has no upper end when there are too few runs beyond it (with delta = 0.1 "
        "and no censoring: 35 runs or fewer; docs/results.md).",
    ]
    return "\n".join(lines) + "\n"

"""Chapelle and Li 2011: Thompson sampling against UCB, regret / ln T against Lai-Robbins."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import Context, budget_note, figure, md_table, measure_note, num

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SOURCE = ("O. Chapelle and L. Li, \"An empirical evaluation of Thompson sampling\", NIPS 2011, "
          "section 3 (simulations): Bernoulli arms, the best at 0.5 and K - 1 at 0.5 - eps, "
          "K in {10, 100}, eps in {0.02, 0.1}, horizon 10^7, 100 repetitions; figure 1 compares "
          "Thompson sampling, UCB and the asymptotic lower bound.")

#: The Lai-Robbins constants of the four problems, as the study's brief states them.
QUOTED = {"K10-eps0.1": 44.7, "K10-eps0.02": 225, "K100-eps0.1": 492, "K100-eps0.02": 2474}


def _figure(ctx: Context) -> Figure:
    from matplotlib.figure import Figure

    from ..plots import COLOURS

    fig = Figure(figsize=(11, 8))
    axes = fig.subplots(2, 2).ravel()
    for ax, (name, res) in zip(axes, ctx.results.items()):
        t = res.checkpoints.astype(float)
        lr = res.info["lai_robbins"]
        with np.errstate(divide="ignore", invalid="ignore"):
            for i, agent in enumerate(res.agents):
                ax.plot(t, res.regret[i].mean(axis=0) / np.log(t), color=COLOURS[i],
                        label=agent)
        ax.axhline(lr, color="#555555", linestyle=":", label=f"Lai-Robbins constant {lr:.1f}")
        ax.set_xscale("log")
        ax.set_xlim(left=max(10.0, t[0]))
        ax.set_xlabel("samples (arm pulls)")
        ax.set_ylabel("regret / ln t")
        ax.set_title(name, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"regret / ln t against the Lai-Robbins constant, mean over "
                 f"{next(iter(ctx.results.values())).runs} runs")
    return fig


def report(ctx: Context) -> str:
    rows, better, below = [], [], []
    for name, summary in ctx.summaries.items():
        lr = summary["info"]["lai_robbins"]
        by = {a["agent"]: a for a in summary["agents"]}
        ts, ucb = by["thompson"], by["ucb"]
        rows.append([name, f"{lr:.1f}", QUOTED.get(name, "-"), num(ts["regret_over_log_t"]),
                     num(ts["regret_over_log_t"] / lr), num(ucb["regret_over_log_t"]),
                     num(ucb["regret_mean"] / ts["regret_mean"])])
        if ts["regret_mean"] + ts["regret_ci95"] < ucb["regret_mean"] - ucb["regret_ci95"]:
            better.append(name)
        if ts["regret_over_log_t"] < lr:
            below.append(name)
    horizon = next(iter(ctx.summaries.values()))["horizon"]
    runs = next(iter(ctx.summaries.values()))["runs"]
    names = list(ctx.summaries)
    tied = [n for n in names if n not in better]
    ordering = (f"Thompson sampling's regret is below UCB's, beyond the 95% intervals, on "
                f"{len(better)} of {len(names)} problems"
                + (f"; on {', '.join(tied)} the two are not separated at this horizon"
                   if tied else "") + ".")
    lines = [
        "# thompson-chapelle-li: Thompson sampling against UCB (Chapelle and Li 2011)",
        "",
        f"Source: {SOURCE}",
        "",
        budget_note(ctx) + f" Horizon T = {horizon:,}, {runs} runs per problem.",
        "",
        measure_note(ctx),
        "",
        "## celab's numbers",
        "",
        md_table(["problem", "Lai-Robbins C (celab)", "C (quoted)", "Thompson regret / ln T",
                  "Thompson / C", "UCB regret / ln T", "UCB / Thompson regret"], rows),
        "",
        figure(ctx, _figure(ctx), "regret-over-log-t",
               "regret / ln t of Thompson sampling and UCB, with the Lai-Robbins constant"),
        "",
        "## Beside the paper",
        "",
        "The Lai-Robbins constants computed by celab (sum over suboptimal arms of "
        "gap / KL(0.5 - eps, 0.5)) agree with the quoted ones to the rounding. The paper "
        "reports its simulations as curves (figure 1), with Thompson sampling below UCB and "
        "close to the asymptotic lower bound at T = 10^7; we do not transcribe values read off "
        f"the figure. celab: {ordering}",
        "",
        "## Where the numbers differ, and why",
        "",
        "regret / ln T converges to the Lai-Robbins constant only as T grows without bound. At "
        f"T = {horizon:,} Thompson sampling's regret / ln T is below the constant on "
        f"{len(below)} of {len(names)} problems: the constant binds only once every suboptimal "
        "arm has been pulled about ln T / KL(0.5 - eps, 0.5) times, which for eps = 0.02 is "
        "about 1,250 ln T pulls per arm, so with K = 100 the logarithmic regime starts after "
        "millions of pulls and the ratio keeps rising with T. At short horizons both agents "
        "are still exploring and their regrets can coincide. The paper's horizon, T = 10^7 "
        "with 100 runs, is the --full budget. celab's UCB is UCB1 (sqrt(2 ln t / N)); the "
        "paper's UCB variant may use other constants, which changes UCB's level.",
    ]
    return "\n".join(lines) + "\n"

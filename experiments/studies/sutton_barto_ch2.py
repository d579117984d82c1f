"""Sutton and Barto, chapter 2: average reward and % optimal action on the 10-armed testbed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from . import Context, budget_note, figure, md_table, measure_note, num

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from tracking.results import Result

SOURCE = ("R. S. Sutton and A. G. Barto, \"Reinforcement Learning: An Introduction\", 2nd "
          "edition, MIT Press 2018, section 2.3 (figure 2.2), section 2.7 (figure 2.4) and "
          "section 2.8 (figure 2.5): 2000 random 10-armed problems (means ~ N(0, 1), or N(4, 1) "
          "for figure 2.5; unit-variance Gaussian rewards), 1000 steps each.")

#: Values at step 1000 as we read them off the book's figures (approximate):
#: agent label -> (average reward, % optimal action); None where not read.
READ_OFF = {
    "greedy(round_robin=false)": (1.0, 36),
    "epsilon-greedy(epsilon=0.01, round_robin=false)": (1.3, 55),
    "epsilon-greedy(round_robin=false)": (1.4, 80),
    "ucb(c=4.0)": (1.55, None),
}


def per_step(res: Result) -> tuple[np.ndarray, np.ndarray]:
    """Per agent: mean reward E[mu_{A_t}] and share of optimal actions at every step t."""
    regret = res.regret  # cumulative, every step is a checkpoint
    step_regret = np.diff(regret, axis=2, prepend=0.0)
    best = res.extra["means"].max(axis=2)  # (agents, runs)
    reward = (best[:, :, None] - step_regret).mean(axis=1)
    optimal = (np.abs(step_regret) < 1e-12).mean(axis=1) * 100.0
    return reward, optimal


def _curves(res: Result, title: str, which: str) -> Figure:
    from matplotlib.figure import Figure

    from ..plots import COLOURS

    reward, optimal = per_step(res)
    t = res.checkpoints
    fig = Figure(figsize=(11, 4.2))
    axes = fig.subplots(1, 2) if which == "both" else [fig.subplots()]
    panels = [(reward, "average reward"), (optimal, "% optimal action")]
    if which == "optimal":
        panels = panels[1:]
    for ax, (data, label) in zip(axes, panels):
        for i, agent in enumerate(res.agents):
            ax.plot(t, data[i], color=COLOURS[i], label=agent, linewidth=1.2)
        ax.set_xlabel("steps")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{title} ({res.runs} runs)")
    return fig


def report(ctx: Context) -> str:
    base, grad = ctx.results["testbed"], ctx.results["testbed-mean4"]
    r_base, o_base = per_step(base)
    r_grad, o_grad = per_step(grad)
    last = int(base.checkpoints[-1])
    rows = []
    for i, agent in enumerate(base.agents):
        book = READ_OFF.get(agent, (None, None))
        rows.append([agent, num(r_base[i, -1]), num(book[0]) if book[0] else "-",
                     f"{o_base[i, -1]:.0f}%", f"{book[1]}%" if book[1] else "-"])
    at_100 = min(99, o_grad.shape[1] - 1)
    grad_rows = [[agent, f"{o_grad[i, -1]:.0f}%", f"{o_grad[i, at_100]:.0f}%"]
                 for i, agent in enumerate(grad.agents)]
    gi = {a: i for i, a in enumerate(grad.agents)}
    with_b = min(o_grad[gi["reinforce"], -1], o_grad[gi["reinforce(alpha=0.4)"], -1])
    without_b = max(o_grad[gi["reinforce(baseline=none)"], -1],
                    o_grad[gi["reinforce(alpha=0.4, baseline=none)"], -1])
    lines = [
        "# sutton-barto-ch2: the 10-armed testbed (Sutton and Barto, chapter 2)",
        "",
        f"Source: {SOURCE}",
        "",
        budget_note(ctx) + f" {base.runs} runs of {int(base.checkpoints[-1])} steps; every run "
        "draws its own problem.",
        "",
        measure_note(ctx),
        "",
        "## Figures 2.2 and 2.4: greedy, epsilon-greedy and UCB",
        "",
        md_table(["agent", f"average reward at step {last}", "book at step 1000 (read off the "
                  "figure)", f"% optimal action at step {last}", "book at step 1000 (read off "
                  "the figure)"], rows),
        "",
        figure(ctx, _curves(base, "10-armed testbed: figures 2.2 and 2.4", "both"),
               "testbed-reward-optimal", "average reward and % optimal action per step"),
        "",
        "## Figure 2.5: the gradient bandit with and without a baseline (means ~ N(4, 1))",
        "",
        md_table(["agent", f"% optimal action at step {last}", "at step 100"], grad_rows),
        "",
        figure(ctx, _curves(grad, "gradient bandit, means ~ N(4, 1): figure 2.5", "optimal"),
               "gradient-bandit", "% optimal action per step, with and without baseline"),
        "",
        "## Beside the book",
        "",
        "The book gives these results as figures; the 'book' columns are our reading of them at "
        "step 1000, approximate (a few hundredths in average reward, a few points in % "
        "optimal action). " + _orderings(r_base, o_base, base.agents, with_b, without_b),
        "",
        "## Where the numbers differ, and why",
        "",
        "The agents follow docs/algorithms.md; for this study greedy and epsilon-greedy start, as "
        "in the book, from estimates Q = 0 without a round of pulls (`round_robin=false`), and "
        "the book's UCB, Q + c sqrt(ln t / N) with c = 2, is celab's `ucb:c=4`. celab's default "
        "greedy, with one pull of every arm first, is shown as well (`greedy`): that single "
        "round is enough to lift greedy's performance close to epsilon-greedy's on this "
        "testbed, because with Q = 0 and mostly positive means the book's greedy locks onto "
        "the first arm that pays anything. The gradient bandit's baseline is the average of "
        "the earlier rewards, 0 at the first step (the book uses R_1 there); this changes only "
        "the first update. Average reward here is the expected reward of the arm pulled, "
        "E[mu_{A_t}], averaged over runs (the book averages the realised rewards R_t: the same "
        "mean, with more noise).",
    ]
    return "\n".join(lines) + "\n"


def _orderings(reward: np.ndarray, optimal: np.ndarray, agents: Sequence[str], with_b: float,
               without_b: float) -> str:
    """The book's orderings at the last step, checked one by one on celab's numbers."""
    idx = {a: i for i, a in enumerate(agents)}
    g, e1, e01 = (idx["greedy(round_robin=false)"], idx["epsilon-greedy(round_robin=false)"],
                  idx["epsilon-greedy(epsilon=0.01, round_robin=false)"])
    u = idx["ucb(c=4.0)"]
    checks = [
        ("epsilon = 0.1 above greedy in average reward", reward[e1, -1] > reward[g, -1]),
        ("epsilon = 0.01 above greedy in average reward", reward[e01, -1] > reward[g, -1]),
        ("epsilon = 0.1 above epsilon = 0.01 in % optimal action",
         optimal[e1, -1] > optimal[e01, -1]),
        ("UCB above epsilon = 0.1 in average reward", reward[u, -1] > reward[e1, -1]),
        ("gradient bandit: with a baseline above without, for both step sizes",
         with_b > without_b),
    ]
    held = [text for text, ok in checks if ok]
    failed = [text for text, ok in checks if not ok]
    out = f"Of the book's orderings, {len(held)} of {len(checks)} hold in celab's numbers"
    out += (": " + "; ".join(held) + "." if held else ".")
    if failed:
        out += " Not reproduced: " + "; ".join(failed) + "."
    return out

"""The reasoning setting's figure: exact pass@k against k (log axis), training and held-out
prompts, at the end of the runs (experiments.plots draws it beside the others)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tracking.stats import mean_ci

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from tracking.results import Result

__all__ = ["pass_at_k_figure"]


def pass_at_k_figure(result: Result) -> Figure | None:
    """pass@k (k = 1, 2, 4, .., 1024) per agent, mean and 95% CI over runs, on the training
    prompts and (when some are held out) the held-out ones; None for a result without
    ``pass_at_k`` (another setting)."""
    if "pass_at_k" not in result.extra or result.runs == 0:
        return None
    from matplotlib.figure import Figure

    from .plots import COLOURS, _style

    ks = np.array(result.info.get("pass_ks", [2**i for i in range(11)]), dtype=float)
    panels = [("training prompts", result.extra["pass_at_k"])]
    if "pass_at_k_held_out" in result.extra:
        panels.append(("held-out prompts", result.extra["pass_at_k_held_out"]))
    fig = Figure(figsize=(5.5 * len(panels), 4.2))
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    for ax, (title, arr) in zip(axes, panels):
        for i, agent in enumerate(result.agents):
            mean, half = mean_ci(arr[i], axis=0)
            ax.plot(ks, mean, label=agent, marker="o", markersize=3, **_style(i))
            ax.fill_between(ks, np.clip(mean - half, 0, 1), np.clip(mean + half, 0, 1),
                            color=COLOURS[i % len(COLOURS)], alpha=0.18, linewidth=0)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("k (responses per prompt)")
        ax.set_ylabel("pass@k (exact)")
        ax.set_ylim(0, 1.02)
        ax.grid(True, alpha=0.3)
        ax.set_title(title, fontsize=10)
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle(f"{result.problem}: pass@k at the end, mean and 95% CI over {result.runs} runs")
    return fig

"""Plots of saved results (matplotlib, the optional ``plot`` extra).

Per problem, two figures, each saved as PNG and SVG:

- ``<problem>-regret``: cumulative regret against samples, mean over runs with its 95% band
  (Student t), on a linear and on a log x axis; bandit plots add the Lai-Robbins curve C ln t;
- ``<problem>-simple``: simple regret of the policy each agent would deploy, against samples,
  on log-log axes (a mean of exactly 0 cannot be drawn on a log axis and leaves the curve).

Only matplotlib's object-oriented API is used (no pyplot, no global backend switch).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .paths import inside
from .results import Result, write_atomic
from .stats import mean_ci

# Okabe and Ito's colour-blind-safe palette (yellow last: weak on white), with line styles.
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442"]
STYLES = ["-", "--", "-.", ":"]

INSTALL_HINT = "plots need matplotlib: pip install 'celab[plot]'"


def available() -> bool:
    """Whether matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _unit(result: Result) -> str:
    return "arm pulls" if result.setting == "bandit" else "environment steps"


def _style(i: int) -> dict:
    return {"color": COLOURS[i % len(COLOURS)], "linestyle": STYLES[(i // len(COLOURS)) % 4],
            "linewidth": 1.8}


def _save(fig, folder: Path, stem: str) -> list[Path]:
    import io

    from matplotlib import rc_context

    out = []
    for ext in ("png", "svg"):
        buf = io.BytesIO()
        # SVG text stays text (no glyph outlines): smaller files, faster to write
        with rc_context({"svg.fonttype": "none"}):
            fig.savefig(buf, format=ext, dpi=110, bbox_inches="tight")
        path = inside(folder, f"{stem}.{ext}")
        write_atomic(path, buf.getvalue())
        out.append(path)
    return out


def regret_figure(result: Result):
    """Cumulative regret against samples: linear and log-x panels, 95% bands."""
    from matplotlib.figure import Figure

    x = result.samples.astype(float)
    fig = Figure(figsize=(11, 4.2))
    axes = fig.subplots(1, 2)
    for i, agent in enumerate(result.agents):
        mean, half = mean_ci(result.regret[i], axis=0)
        for ax in axes:
            ax.plot(x, mean, label=agent, **_style(i))
            ax.fill_between(x, mean - half, mean + half, color=COLOURS[i % len(COLOURS)],
                            alpha=0.18, linewidth=0)
    lr = result.info.get("lai_robbins")
    if result.setting == "bandit" and lr:
        curve = lr * np.log(np.maximum(x, 1.0))
        for ax in axes:
            ax.plot(x, curve, color="#555555", linestyle=(0, (1, 1)), linewidth=1.4,
                    label=f"Lai-Robbins bound {lr:.3g} ln t")
    unit = _unit(result)
    for ax, scale in zip(axes, ("linear", "log")):
        ax.set_xscale(scale)
        ax.set_xlabel(f"samples ({unit})")
        ax.set_ylabel("cumulative regret" + (" (sum of V* - V^pi_k)" if result.setting == "mdp"
                                             else " (pseudo-regret)"))
        ax.grid(True, alpha=0.3)
        ax.set_title(f"{scale} x axis", fontsize=10)
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(f"{result.problem}: cumulative regret, mean and 95% CI over {result.runs} runs")
    return fig


def simple_figure(result: Result):
    """Simple regret of the deployed policy against samples, log-log, 95% bands."""
    from matplotlib.figure import Figure

    x = result.samples.astype(float)
    fig = Figure(figsize=(6.5, 4.5))
    ax = fig.subplots()
    for i, agent in enumerate(result.agents):
        mean, half = mean_ci(result.simple_regret[i], axis=0)
        shown = np.where(mean > 0, mean, np.nan)
        ax.plot(x, shown, label=agent, **_style(i))
        low = mean - half
        ax.fill_between(x, np.where(low > 0, low, np.nan), np.where(mean > 0, mean + half, np.nan),
                        color=COLOURS[i % len(COLOURS)], alpha=0.18, linewidth=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"samples ({_unit(result)})")
    ax.set_ylabel("simple regret of the deployed policy")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"{result.problem}: simple regret, mean and 95% CI over {result.runs} runs",
                 fontsize=10)
    return fig


def plot_result(result: Result, folder: str | Path) -> list[Path]:
    """Write both figures of ``result`` into ``folder`` (PNG and SVG); the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = _save(regret_figure(result), folder, f"{result.problem}-regret")
    paths += _save(simple_figure(result), folder, f"{result.problem}-simple")
    return paths

"""Plots of saved results (matplotlib, the optional ``plot`` extra).

Per problem, two figures, each saved as PNG and SVG:

- ``<problem>-regret``: cumulative regret against samples, mean over runs with its 95% band
  (Student t), on a linear and on a log x axis, with the setting's reference curve if it has
  one (bandits: the Lai-Robbins curve C ln t, an asymptotic reference, not a bound at finite t);
- ``<problem>-simple``: simple regret of one readout (greedy unless asked: the same for every
  agent) of the policy each agent would deploy, against samples, on a log x axis; the y axis
  is logarithmic when every mean is positive, symmetric-log (linear near 0) when some means
  are 0, linear when none is positive. Means below the problem's rounding level
  (:func:`report.zero_level`) count as 0. A dotted line marks epsilon, and a marker on it each
  agent's samples to epsilon, n(epsilon, delta): a filled dot where it is measured, an open
  triangle with an arrow to the right at the budget where it is censored (:func:`draw_bounds`:
  a censored value is never drawn as a point).

A figure that cannot be drawn or written is skipped with a warning (:func:`plot_result`); the
others are still written. Only matplotlib's object-oriented API is used (no pyplot, no global
backend switch).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tracking import settings
from tracking.paths import inside
from tracking.results import Result, readout_key, write_atomic
from tracking.stats import km_quantile, mean_ci

from .report import (
    SAMPLED_REGRET,
    epsilon_rule,
    exit_times,
    measure,
    runs_share,
    sampled,
    zero_level,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

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
    """What a sample of the result's setting is called on an axis."""
    return settings.get(result.setting).axis_unit


def _style(i: int) -> dict:
    return {"color": COLOURS[i % len(COLOURS)], "linestyle": STYLES[(i // len(COLOURS)) % 4],
            "linewidth": 1.8}


def _x_axis(ax: Axes, x: np.ndarray, scale: str) -> None:
    """The x scale with limits from the checkpoints themselves, so that an axis whose curves are
    all undefined (NaN) is still drawn (matplotlib's default limits (0, 1) are not log-scalable)."""
    ax.set_xscale(scale)
    low, high = (x[0], x[-1]) if x.size and x[-1] > x[0] else (x[0] / 2, x[0] * 2)
    ax.set_xlim(low, high)


def _save(fig: Figure, folder: Path, stem: str) -> list[Path]:
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


def regret_figure(result: Result) -> Figure:
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
    setting = settings.get(result.setting)
    reference = setting.reference(result, x)
    if reference is not None:
        curve, label = reference
        for ax in axes:
            ax.plot(x, curve, color="#555555", linestyle=(0, (1, 1)), linewidth=1.4,
                    label=label)
    for ax, scale in zip(axes, ("linear", "log")):
        _x_axis(ax, x, scale)
        ax.set_xlabel(f"samples ({setting.axis_unit})")
        label = SAMPLED_REGRET.partition(": ")[2] if sampled(result.config) \
            else setting.regret_label
        ax.set_ylabel(f"cumulative regret ({label})")
        ax.grid(True, alpha=0.3)
        ax.set_title(f"{scale} x axis", fontsize=10)
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(f"{result.problem}: cumulative regret, mean and 95% CI over {result.runs} runs")
    return fig


#: Marker and arrow offset (points) of a bound, by the direction it leaves open.
_BOUNDS = {"up": ("^", (0, 22)), "down": ("v", (0, -22)), "right": (">", (22, 0))}


def draw_bounds(ax: Axes, x: Sequence[float], y: Sequence[float], direction: str, colour: str,
                label: str | None = None) -> None:
    """Values known only as bounds: open triangles at (x, y) with an arrow towards the open
    side (``"up"``: lower bounds, ``"down"``: upper bounds, ``"right"``: a censored sample
    count, at its budget)."""
    marker, offset = _BOUNDS[direction]
    ax.plot(x, y, marker, color=colour, markerfacecolor="none", markersize=9,
            markeredgewidth=1.6, linestyle="none", label=label, zorder=3)
    for xi, yi in zip(x, y):
        ax.annotate("", xy=(xi, yi), xytext=offset, textcoords="offset points",
                    annotation_clip=False,
                    arrowprops={"arrowstyle": "<-", "color": colour, "linewidth": 1.4})


def _samples_marks(ax: Axes, result: Result, readout: str) -> None:
    """epsilon as a dotted line, and each agent's n(epsilon, delta) of ``readout`` on it: a
    filled dot when measured, an open triangle pointing right at the budget when censored.
    With one epsilon per run (a share of each run's V*_0) the line and the marks sit at the
    runs' median epsilon; the quantiles read every run at its own."""
    eps, delta = measure(result)
    rule = epsilon_rule(result, eps)
    level = float(np.median(eps)) if np.size(eps) else math.nan  # no runs: nothing to mark
    text = rule["text"] if rule is not None else f"epsilon = {level:g}"
    ax.axhline(level, color="#555555", linestyle=":", linewidth=1.0,
               label=f"{text}; dots: samples to epsilon ({runs_share(delta)}), "
                     "open >: censored")
    for i in range(len(result.agents)):
        q = km_quantile(exit_times(result, i, eps, readout), delta)
        colour = COLOURS[i % len(COLOURS)]
        if q is None:
            continue
        if q.censored:
            draw_bounds(ax, [q.estimate], [level], "right", colour)
        else:
            ax.plot([q.estimate], [level], "o", color=colour, markersize=6, zorder=3)


def y_scale(means: np.ndarray, zero: float = 0.0) -> tuple[str, dict]:
    """The y scale for non-negative curves, and its keyword arguments.

    ``log`` when every finite mean is > ``zero``; ``symlog`` (linear up to the decade of the
    smallest such mean, logarithmic above) when some are 0 and others positive; ``linear``
    when none is positive (all 0, or no finite value), where flat curves stay visible.
    """
    finite = means[np.isfinite(means)]
    positive = finite[finite > zero]
    if positive.size == 0:
        return "linear", {}
    if positive.size < finite.size:
        return "symlog", {"linthresh": 10.0 ** math.floor(math.log10(positive.min()))}
    return "log", {}


def simple_figure(result: Result, readout: str = "greedy") -> Figure:
    """Simple regret of the deployed policy, read out by ``readout`` (``"greedy"`` or
    ``"behaviour"``) for every agent, against samples (log x, see :func:`y_scale`), 95% bands."""
    from matplotlib.figure import Figure

    x = result.samples.astype(float)
    zero = zero_level(result.info)
    fig = Figure(figsize=(6.5, 4.5))
    ax = fig.subplots()
    curves = []
    for i in range(len(result.agents)):
        mean, half = mean_ci(result.readout(readout)[i], axis=0)
        curves.append((np.where(np.abs(mean) <= zero, 0.0, mean), half))
    scale, kwargs = y_scale(np.array([m for m, _ in curves]), zero)
    for i, (agent, (mean, half)) in enumerate(zip(result.agents, curves)):
        low, high = np.maximum(mean - half, 0.0), mean + half
        if scale == "log":  # a band reaching 0 cannot be drawn on a log axis: cut there
            low = np.where(low > 0, low, np.nan)
        ax.plot(x, mean, label=agent, **_style(i))
        ax.fill_between(x, low, high, color=COLOURS[i % len(COLOURS)], alpha=0.18, linewidth=0)
    _samples_marks(ax, result, readout)
    _x_axis(ax, x, "log")
    ax.set_yscale(scale, **kwargs)
    if scale == "linear":
        ax.text(0.5, 0.95, "no mean simple regret above 0: every curve is flat at 0 or undefined",
                transform=ax.transAxes, ha="center", va="top", fontsize=8)
    ax.set_xlabel(f"samples ({_unit(result)})")
    ax.set_ylabel(f"simple regret of the deployed policy ({readout} readout)"
                  + (" (symlog: linear near 0)" if scale == "symlog" else ""))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"{result.problem}: simple regret ({readout} readout), mean and 95% CI over "
                 f"{result.runs} runs", fontsize=10)
    return fig


#: The figures of a result: file-name suffix and drawing function ``draw(result, readout)``.
def _pass_at_k(result: Result, readout: str) -> Figure | None:
    from .reasoning_plots import pass_at_k_figure

    return pass_at_k_figure(result)


#: The figures of a result: (file suffix, draw(result, readout) -> Figure, or None where the
#: figure does not apply to the result's setting).
FIGURES = (("regret", lambda result, readout: regret_figure(result)),
           ("simple", simple_figure), ("pass-at-k", _pass_at_k))


def plot_result(result: Result, folder: str | Path, readout: str = "greedy") -> list[Path]:
    """Write the figures of ``result`` into ``folder`` (PNG and SVG); the paths written.
    Simple regret is that of ``readout`` (``"greedy"`` or ``"behaviour"``) for every agent.

    A figure that cannot be drawn or written is not a failure: a RuntimeWarning names it and
    the reason, and the other figures are still written.
    """
    readout_key(readout)
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        warnings.warn(f"plots of {result.problem} not written: cannot create {folder}: "
                      f"{e.strerror or e}", RuntimeWarning, stacklevel=2)
        return []
    paths: list[Path] = []
    for suffix, draw in FIGURES:
        stem = f"{result.problem}-{suffix}"
        try:
            fig = draw(result, readout)
            if fig is not None:
                paths += _save(fig, folder, stem)
        except Exception as e:  # noqa: BLE001 - any failure of one figure becomes a warning
            reason = (e.strerror if isinstance(e, OSError) and e.strerror else str(e)) or ""
            warnings.warn(f"plot {stem} not drawn: {type(e).__name__}: {reason}",
                          RuntimeWarning, stacklevel=2)
    return paths

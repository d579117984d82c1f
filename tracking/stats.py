"""Statistics over runs: confidence intervals, growth exponents, samples-to-epsilon.

Runs are independent and identically distributed, so every interval here is over runs: the
Student t interval for means, and the percentile bootstrap (resampling runs) for medians,
ratios and fitted exponents. Bootstrap draws use ``numpy.random.default_rng(seed)``: the same
inputs give the same interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_RESAMPLES = 2000


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval [low, high]."""

    estimate: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


def t_quantile(p: float, df: int) -> float:
    """Quantile of Student's t with ``df`` degrees of freedom."""
    from scipy.special import stdtrit  # scipy.special imports far faster than scipy.stats

    return float(stdtrit(df, p))


def mean_ci(x, level: float = 0.95, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Mean over ``axis`` and the half-width of its Student-t confidence interval.

    half = t_{(1 + level) / 2, n - 1} * s / sqrt(n), with s the sample standard deviation;
    0 when n = 1 (no spread can be estimated from one run).
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[axis]
    mean = x.mean(axis=axis)
    if n < 2:
        return mean, np.zeros_like(mean)
    sd = x.std(axis=axis, ddof=1)
    return mean, t_quantile(0.5 + level / 2.0, n - 1) * sd / math.sqrt(n)


def _resamples(n: int, seed: int, resamples: int) -> np.ndarray:
    """Bootstrap indices (resamples, n) from ``numpy.random.default_rng(seed)``."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def summary_bytes(runs: int, checkpoints: int) -> float:
    """Bytes the statistics of one agent (experiments.report.summarize and its headline) hold
    at once: three bootstrap arrays (BOOTSTRAP_RESAMPLES, runs), the indices, the resampled
    values and the copy that np.median sorts (or the weights of growth_exponent); four arrays
    (BOOTSTRAP_RESAMPLES, checkpoints) of resampled mean curves and their logs in
    growth_exponent; and copies of the curves (runs, checkpoints)."""
    return 8.0 * BOOTSTRAP_RESAMPLES * (3 * runs + 4 * checkpoints) + 32.0 * runs * checkpoints


def _percentile_interval(estimate: float, draws: np.ndarray, level: float) -> Interval:
    alpha = (1.0 - level) / 2.0
    with np.errstate(invalid="ignore"):  # infinite statistics (censored runs) are allowed
        low, high = np.quantile(draws, [alpha, 1.0 - alpha])
    return Interval(float(estimate), float(low), float(high))


def bootstrap(statistic, samples: tuple[np.ndarray, ...], level: float = 0.95, seed: int = 0,
              resamples: int = BOOTSTRAP_RESAMPLES) -> Interval:
    """Percentile bootstrap interval of ``statistic(*samples)``, resampling runs.

    All arrays in ``samples`` are indexed by run along their first axis and are resampled with
    the same indices (paired: the agents of one experiment share their runs).
    """
    samples = tuple(np.asarray(s) for s in samples)
    n = samples[0].shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = float(statistic(*samples))
        if n < 2:
            return Interval(estimate, estimate, estimate)
        idx = _resamples(n, seed, resamples)
        draws = np.array([statistic(*(s[i] for s in samples)) for i in idx], dtype=np.float64)
    return _percentile_interval(estimate, draws, level)


def median_ci(x, level: float = 0.95, seed: int = 0,
              resamples: int = BOOTSTRAP_RESAMPLES) -> Interval:
    """Median with a percentile-bootstrap interval (infinite values allowed: censored runs)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 2:
        return Interval(float(np.median(x)), float(np.median(x)), float(np.median(x)))
    draws = np.median(x[_resamples(x.size, seed, resamples)], axis=1)
    return _percentile_interval(float(np.median(x)), draws, level)


def growth_exponent(steps, curves, level: float = 0.95, seed: int = 0,
                    decades: float = 1.0, resamples: int = BOOTSTRAP_RESAMPLES) -> Interval | None:
    """Slope of log(mean regret) against log(t) over the last ``decades`` of the checkpoints.

    Regret growing like t^b gives b: 1 for linear regret, 0.5 for sqrt(t), near 0 for log t.
    The slope is the least-squares fit over the checkpoints in [T / 10^decades, T] of the curve
    averaged over runs; its interval bootstraps the runs. None when fewer than 3 checkpoints
    fall in the window or the mean curve is not positive there.
    """
    steps = np.asarray(steps, dtype=np.float64)
    curves = np.asarray(curves, dtype=np.float64)
    window = steps >= steps[-1] / 10.0**decades
    if window.sum() < 3 or curves.shape[0] == 0:
        return None
    x = np.log(steps[window])
    xc = x - x.mean()
    part = curves[:, window]

    def slopes(means: np.ndarray) -> np.ndarray:  # rows of mean curves -> fitted slopes
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.where(means > 0.0, np.log(np.where(means > 0.0, means, 1.0)), np.nan)
        return (y - y.mean(axis=-1, keepdims=True)) @ xc / (xc @ xc)

    estimate = float(slopes(part.mean(axis=0)[None, :])[0])
    if not math.isfinite(estimate):
        return None
    n = part.shape[0]
    if n < 2:
        return Interval(estimate, estimate, estimate)
    idx = _resamples(n, seed, resamples)
    weights = np.zeros((resamples, n))
    np.add.at(weights, (np.arange(resamples)[:, None], idx), 1.0)
    draws = slopes(weights @ part / n)
    return _percentile_interval(estimate, draws[np.isfinite(draws)], level)


def samples_to_epsilon(samples, simple_regret, epsilon: float) -> np.ndarray:
    """Per run: the first checkpoint (in samples) from which simple regret stays <= epsilon.

    ``simple_regret`` has shape (runs, checkpoints); a run whose final simple regret exceeds
    epsilon never got there within the budget: ``inf``.
    """
    samples = np.asarray(samples, dtype=np.float64)
    sr = np.asarray(simple_regret, dtype=np.float64)
    above = sr > epsilon
    # index of the last checkpoint above epsilon; the next one starts the good stretch
    last_above = np.where(above.any(axis=1), sr.shape[1] - 1 - np.argmax(above[:, ::-1], axis=1),
                          -1)
    out = np.full(sr.shape[0], np.inf)
    reached = last_above < sr.shape[1] - 1
    out[reached] = samples[last_above[reached] + 1]
    return out


def ratio_of_medians(num, den, level: float = 0.95, seed: int = 0,
                     resamples: int = BOOTSTRAP_RESAMPLES) -> Interval:
    """median(num) / median(den) with a paired bootstrap interval over runs.

    Infinite entries (runs that never reached epsilon) are kept: a resample whose numerator
    median is infinite gives an infinite ratio (the interval's upper end is then unbounded).
    """
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = float(np.median(num) / np.median(den))
        if num.size < 2:
            return Interval(estimate, estimate, estimate)
        idx = _resamples(num.size, seed, resamples)
        draws = np.median(num[idx], axis=1) / np.median(den[idx], axis=1)
    return _percentile_interval(estimate, draws, level)

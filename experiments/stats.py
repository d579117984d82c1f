"""Statistics over runs: confidence intervals, growth exponents, samples-to-epsilon."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


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
    from scipy.stats import t as student_t

    return float(student_t.ppf(p, df))


def mean_ci(x, level: float = 0.95, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Mean over ``axis`` and the half-width of its Student-t confidence interval.

    half = t_{(1 + level) / 2, n - 1} * s / sqrt(n), with s the sample standard deviation;
    0 when n = 1 (no spread can be estimated from one run, which the report says).
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[axis]
    mean = x.mean(axis=axis)
    if n < 2:
        return mean, np.zeros_like(mean)
    sd = x.std(axis=axis, ddof=1)
    return mean, t_quantile(0.5 + level / 2.0, n - 1) * sd / math.sqrt(n)

"""Statistics over runs: confidence intervals, growth exponents, samples-to-epsilon.

Runs are independent and identically distributed, so every interval here is over runs: the
Student t interval for means; the percentile bootstrap (resampling runs) for fitted exponents
and ratios; for samples to epsilon, n(epsilon, delta), the Kaplan-Meier (1 - delta) quantile
of the runs' right-censored last-exit times, with a test-inversion interval (Brookmeyer and
Crowley's construction with an exact binomial test; docs/results.md). Bootstrap draws use
``numpy.random.default_rng(seed)``: the same inputs give the same interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .validate import InputError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

BOOTSTRAP_RESAMPLES = 2000


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval [low, high]."""

    estimate: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        """``{"estimate", "low", "high"}``, as the summaries write it."""
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


def t_quantile(p: float, df: int) -> float:
    """Quantile of Student's t with ``df`` degrees of freedom."""
    from scipy.special import stdtrit  # scipy.special imports far faster than scipy.stats

    return float(stdtrit(df, p))


def mean_ci(x: ArrayLike, level: float = 0.95, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
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
    at once: three bootstrap arrays (BOOTSTRAP_RESAMPLES, runs), the indices and the weights
    of growth_exponent (or the indices of ratio_draws); four arrays (BOOTSTRAP_RESAMPLES,
    checkpoints) of resampled mean curves and their logs in growth_exponent; copies of the
    curves (runs, checkpoints); and the arrays of one chunk of ratio_draws' resamples."""
    return (8.0 * BOOTSTRAP_RESAMPLES * (3 * runs + 4 * checkpoints) + 32.0 * runs * checkpoints
            + 8.0 * CHUNK_ARRAYS * min(BOOTSTRAP_RESAMPLES * runs, max(CHUNK_NUMBERS, runs)))


def _percentile_interval(estimate: float, draws: np.ndarray, level: float) -> Interval:
    alpha = (1.0 - level) / 2.0
    with np.errstate(invalid="ignore"):  # infinite statistics (censored runs) are allowed
        low, high = np.quantile(draws, [alpha, 1.0 - alpha])
    return Interval(float(estimate), float(low), float(high))


def bootstrap(statistic: Callable[..., float], samples: tuple[np.ndarray, ...],
              level: float = 0.95, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES) -> Interval:
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


def growth_exponent(steps: ArrayLike, curves: ArrayLike, level: float = 0.95, seed: int = 0,
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


# --- samples to epsilon: (epsilon, delta) sample sizes of censored last-exit times ----------

#: Rounding allowed when a product-limit estimate is compared with delta (S(t) <= delta + this):
#: a product of ratios that is exactly delta in exact arithmetic may round a little above it.
KM_ROUNDING = 1e-12

#: Numbers one chunk of bootstrap resamples of exit times holds per array (bounds the memory of
#: :func:`ratio_draws` whatever the number of runs).
CHUNK_NUMBERS = 2**16

#: Arrays of CHUNK_NUMBERS numbers alive at once while a chunk of resamples is estimated.
CHUNK_ARRAYS = 16


@dataclass(frozen=True)
class ExitTimes:
    """Right-censored last-exit times of runs, in samples.

    ``time[r]`` is run r's last-exit time T_r when ``settled[r]``, else its budget, the last
    checkpoint it simulated (the run is right-censored there: T_r > budget).
    """

    time: np.ndarray
    settled: np.ndarray

    @property
    def runs(self) -> int:
        """The number of runs (settled or censored)."""
        return int(self.time.size)

    @property
    def reached(self) -> float:
        """The share of runs that settled (0 without runs)."""
        return float(self.settled.mean()) if self.runs else 0.0

    @property
    def observed(self) -> float:
        """The largest time observed (a censored quantile lies beyond it): with equal budgets
        and a censored run, the budget."""
        return float(self.time.max())


def last_exit_times(samples: ArrayLike, simple_regret: ArrayLike, epsilon: ArrayLike,
                    budgets: ArrayLike | None = None) -> ExitTimes:
    """Per run: the first checkpoint T from which simple regret stays <= epsilon to the end of
    what the run simulated; a run above epsilon at its last checkpoint is censored there.

    ``simple_regret`` has shape (runs, checkpoints), read at ``samples`` (increasing).
    ``epsilon`` is one level for every run, or one per run, shape (runs,): run r is read at
    epsilon_r (a share of its own instance's optimal value).
    ``budgets`` (runs,) gives each run's last simulated checkpoint, in samples (a run resumed,
    extended or stopped early); checkpoints beyond a run's budget are ignored. Default: every
    run simulated every checkpoint.
    """
    samples = np.asarray(samples, dtype=np.float64)
    sr = np.asarray(simple_regret, dtype=np.float64)
    runs = sr.shape[0]
    if budgets is None:
        budgets = np.full(runs, samples[-1] if samples.size else 0.0)
    budgets = np.asarray(budgets, dtype=np.float64)
    if budgets.shape != (runs,) or not np.all(np.isin(budgets, samples)):
        raise InputError(f"budgets must be {runs} checkpoints (in samples), one per run")
    eps = np.asarray(epsilon, dtype=np.float64)
    if eps.ndim > 1 or (eps.ndim == 1 and eps.shape != (runs,)):
        raise InputError(f"epsilon must be one number or {runs} numbers, one per run; got "
                         f"shape {eps.shape}")
    simulated = samples[None, :] <= budgets[:, None]  # a prefix of the checkpoints per run
    last = simulated.sum(axis=1) - 1
    above = (sr > (eps[:, None] if eps.ndim else eps)) & simulated
    # index of the last simulated checkpoint above epsilon; the next one starts the good stretch
    last_above = np.where(above.any(axis=1),
                          sr.shape[1] - 1 - np.argmax(above[:, ::-1], axis=1), -1)
    settled = last_above < last
    time = budgets.copy()
    time[settled] = samples[last_above[settled] + 1]
    return ExitTimes(time, settled)


def _check_delta(delta: float) -> float:
    if not 0.0 < delta < 1.0:
        raise InputError(f"delta must be in (0, 1), got {delta}")
    return float(delta)


def _product_limit(time: np.ndarray, settled: np.ndarray) -> dict[str, np.ndarray]:
    """The Kaplan-Meier estimate of every row of (datasets, runs) exit times.

    Each row is sorted by time, settled runs (events) before censored ones at equal times (a
    run censored at t is still at risk at t). Taking the events one at a time, with r runs at
    risk before each, S = prod (1 - 1 / r) is after the last event of a time the product-limit
    estimate S(t) = prod_{t_i <= t} (1 - d_i / r_i) (the factors of tied events telescope).
    Returns the sorted ``t``; ``end``, True at the last event of each time (where S(t) is
    read); ``S``; ``at_risk``, the runs at risk at t (r_i, before its events) and ``before``,
    S just before t.
    """
    n = time.shape[-1]
    order = np.lexsort((~settled, time), axis=-1)
    t = np.take_along_axis(time, order, axis=-1)
    event = np.take_along_axis(settled, order, axis=-1)
    risk = n - np.arange(n, dtype=np.float64)
    S = np.cumprod(np.where(event, 1.0 - 1.0 / risk, 1.0), axis=-1)
    end = event.copy()
    end[..., :-1] &= ~((t[..., 1:] == t[..., :-1]) & event[..., 1:])
    first = np.ones(t.shape, dtype=bool)
    first[..., 1:] = t[..., 1:] != t[..., :-1]
    group = np.maximum.accumulate(np.where(first, np.arange(n), 0), axis=-1)
    shifted = np.concatenate([np.ones(t.shape[:-1] + (1,)), S[..., :-1]], axis=-1)
    return {"t": t, "end": end, "S": S, "at_risk": (n - group).astype(np.float64),
            "before": np.take_along_axis(shifted, group, axis=-1)}


def _first(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: whether ``mask`` holds somewhere, and the index of its first True."""
    return mask.any(axis=-1), np.argmax(mask, axis=-1)


def _at(t: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Per row: ``t`` at ``index``."""
    return np.take_along_axis(t, index[..., None], axis=-1)[..., 0]


def _last(mask: np.ndarray) -> np.ndarray:
    """Per row: the index of the last True of ``mask`` (0 when none)."""
    return mask.shape[-1] - 1 - np.argmax(mask[..., ::-1], axis=-1)


def _estimates(km: dict[str, np.ndarray], delta: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the quantile (the smallest event time with S(t) <= delta, else the largest
    time observed), whether it is censored, and its index in the sorted row."""
    reached, at = _first(km["end"] & (km["S"] <= delta + KM_ROUNDING))
    return np.where(reached, _at(km["t"], at), km["t"][..., -1]), ~reached, at


def _in_set(km: dict[str, np.ndarray], delta: float, level: float) -> np.ndarray:
    """Event times t at which the hypothesis S(t) = delta is not rejected at ``level``: delta
    lies in the Clopper-Pearson interval of S(t) computed from m(t) = r(t) / S(t-) trials, of
    which x(t) = m(t) S(t) = r(t) - d(t) 'survive' (m(t) is the number of runs the estimate is
    worth: every run without censoring before t)."""
    from scipy.special import betaincinv

    end = km["end"]
    m = km["at_risk"][end] / km["before"][end]
    x = m * km["S"][end]
    alpha = 1.0 - level
    low = np.zeros_like(m)
    pos = x > 0.5  # x is a whole number of runs
    low[pos] = betaincinv(x[pos], m[pos] - x[pos] + 1.0, alpha / 2.0)
    high = betaincinv(x + 1.0, m - x, 1.0 - alpha / 2.0)
    out = np.zeros(end.shape, dtype=bool)
    out[end] = (low <= delta + KM_ROUNDING) & (delta <= high + KM_ROUNDING)
    return out


def quantile_rows(time: ArrayLike, settled: ArrayLike, delta: float, level: float = 0.95
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`km_quantile` of every row of (datasets, runs) arrays at once (``time`` and
    ``settled`` as in :class:`ExitTimes`): arrays of the estimates, lows, highs (inf:
    unbounded) and whether censored."""
    delta = _check_delta(delta)
    time = np.asarray(time, dtype=np.float64)
    settled = np.asarray(settled, dtype=bool)
    km = _product_limit(time, settled)
    estimate, censored, at = _estimates(km, delta)
    ok = _in_set(km, delta, level)
    n = time.shape[-1]
    index = np.arange(n)
    measured = ~censored[..., None] & (index == at[..., None])
    t = km["t"]
    any_low, first = _first(ok | measured)
    low = np.where(any_low, _at(t, first), t[..., -1])
    top = np.where(ok.any(axis=-1), _last(ok), -1)  # the last event time in the set
    after = km["end"] & (index > top[..., None])
    has_next, nxt = _first(after)
    beyond = np.where(has_next, _at(t, nxt), np.inf)
    # the set holds [t_top, next event): its closure ends at the next event (inf: none)
    high = np.where(top >= 0, np.maximum(beyond, estimate), estimate)
    high = np.where(censored, np.inf, high)
    return estimate, low, high, censored


@dataclass(frozen=True)
class Quantile:
    """n(epsilon, delta): the (1 - delta) quantile of the last-exit times, its 95% interval.

    ``censored``: the product-limit estimate never falls to delta within the budgets, so
    ``estimate`` is the largest time observed (the budget), a lower bound. ``high`` is inf
    when the interval has no upper end within the data (unbounded).
    """

    estimate: float
    low: float
    high: float
    censored: bool
    delta: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: ``high`` null and ``unbounded`` true when the upper end is unbounded."""
        bounded = math.isfinite(self.high)
        return {"estimate": self.estimate, "low": self.low,
                "high": self.high if bounded else None, "censored": self.censored,
                "delta": self.delta, "unbounded": not bounded}


def km_quantile(exits: ExitTimes, delta: float, level: float = 0.95) -> Quantile | None:
    """The (1 - delta) quantile of the runs' last-exit times, by Kaplan-Meier, with its interval.

    With S(t) the product-limit estimate of P(T > t) (events before censorings at equal
    times), the estimate is the smallest event time t with S(t) <= delta; when S never falls to
    delta within the budgets, it is censored: the largest time observed (with equal budgets,
    the budget), a lower bound. The interval inverts tests over t, as Brookmeyer and
    Crowley's: the set J of event times at which S(t) = delta is not rejected
    (:func:`_in_set`, an exact binomial test with the runs the estimate is worth); ``low`` is
    the smallest time in J or the estimate, whichever comes first (the largest time observed
    when both are missing); ``high`` is the end of J's closure, the first event time after the
    last one in J (at least the estimate; inf when no event follows, or when the estimate is
    censored). Without censoring this is the distribution-free interval of a quantile between
    two order statistics. None without runs.
    """
    delta = _check_delta(delta)
    if exits.runs == 0:
        return None
    est, low, high, cens = quantile_rows(exits.time[None, :], exits.settled[None, :], delta,
                                         level)
    return Quantile(float(est[0]), float(low[0]), float(high[0]), bool(cens[0]), delta)


def _resampled_estimates(exits: ExitTimes, idx: np.ndarray, delta: float
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Quantile estimates (and whether censored) of the resamples ``idx`` (resamples, runs)."""
    est, censored, _ = _estimates(_product_limit(exits.time[idx], exits.settled[idx]), delta)
    return est, censored


def resample_indices(runs: int, seed: int, resamples: int = BOOTSTRAP_RESAMPLES) -> np.ndarray:
    """Bootstrap run indices, shape (resamples, runs), drawn with
    ``numpy.random.default_rng(seed)``: those of :func:`ratio_draws` with the same seed."""
    return _resamples(runs, seed, resamples)


def quantile_draws(exits: ExitTimes, delta: float, idx: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """n(epsilon, delta) of every resample of the runs, row ``idx[i]`` (resamples, runs) being
    resample i: the estimates and whether each is censored (then the estimate is the largest
    time observed in the resample, a lower bound). Computed CHUNK_NUMBERS numbers at a time."""
    delta = _check_delta(delta)
    idx = np.asarray(idx)
    est = np.empty(idx.shape[0])
    censored = np.empty(idx.shape[0], dtype=bool)
    step = max(1, CHUNK_NUMBERS // max(exits.runs, 1))
    for start in range(0, idx.shape[0], step):
        part = slice(start, start + step)
        est[part], censored[part] = _resampled_estimates(exits, idx[part], delta)
    return est, censored


def ratio_draws(num: ExitTimes, den: ExitTimes, delta: float, seed: int = 0,
                resamples: int = BOOTSTRAP_RESAMPLES) -> np.ndarray:
    """Paired bootstrap draws of n_num(epsilon, delta) / n_den(epsilon, delta).

    Run indices are resampled with ``numpy.random.default_rng(seed)``, the same for both (run r
    of both saw the same random numbers). A resample whose numerator quantile is censored
    draws +inf, whose denominator quantile is censored 0, both: NaN.
    """
    delta = _check_delta(delta)
    if num.runs != den.runs:
        raise InputError(f"a paired ratio needs the same runs, got {num.runs} and {den.runs}")
    idx = _resamples(num.runs, seed, resamples)
    qn, cn = quantile_draws(num, delta, idx)
    qd, cd = quantile_draws(den, delta, idx)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cn, np.inf, qn) / np.where(cd, np.inf, qd)


@dataclass(frozen=True)
class Ratio:
    """A ratio of two agents' n(epsilon, delta) and its 95% interval.

    ``kind`` is ``"measured"`` (neither quantile censored), ``"lower_bound"`` (the numerator
    censored: the ratio is at least ``estimate``), ``"upper_bound"`` (the denominator
    censored: at most ``estimate``) or ``"none"`` (both censored: no ratio). None marks an end
    with no bound.
    """

    estimate: float | None
    low: float | None
    high: float | None
    kind: str

    def as_dict(self) -> dict[str, Any]:
        """``{"estimate", "low", "high", "kind"}``, as the summaries write it."""
        return {"estimate": self.estimate, "low": self.low, "high": self.high,
                "kind": self.kind}


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def quantile_ratio(num: ExitTimes, den: ExitTimes, delta: float, level: float = 0.95,
                   seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES) -> Ratio:
    """n_num(epsilon, delta) / n_den(epsilon, delta) over paired runs, with a 95% interval.

    - measured: the ratio of the estimates, with the percentile interval of
      :func:`ratio_draws` (a draw of NaN counts as 0 for the lower end and +inf for the upper;
      the ends are order statistics of the draws, never interpolated);
    - lower_bound (numerator censored): estimate = numerator's censored estimate (its budget)
      / denominator's estimate; low = numerator's lower limit / denominator's upper limit
      (null when that is unbounded), high null;
    - upper_bound (denominator censored): estimate = numerator's estimate / denominator's
      censored estimate (its budget); high = numerator's upper limit / denominator's lower
      limit (null when unbounded), low null;
    - none: both censored, every number null.
    """
    q_num, q_den = km_quantile(num, delta, level), km_quantile(den, delta, level)
    if q_num is None or q_den is None:
        return Ratio(None, None, None, "none")
    if q_num.censored and q_den.censored:
        return Ratio(None, None, None, "none")
    if q_num.censored:
        low = None if math.isinf(q_den.high) else q_num.low / q_den.high
        return Ratio(q_num.estimate / q_den.estimate, low, None, "lower_bound")
    if q_den.censored:
        return Ratio(q_num.estimate / q_den.estimate, None, _finite(q_num.high / q_den.low),
                     "upper_bound")
    draws = ratio_draws(num, den, delta, seed, resamples)
    alpha = (1.0 - level) / 2.0
    nan = np.isnan(draws)
    low = np.quantile(np.where(nan, 0.0, draws), alpha, method="lower")
    high = np.quantile(np.where(nan, np.inf, draws), 1.0 - alpha, method="higher")
    return Ratio(q_num.estimate / q_den.estimate, float(low), _finite(float(high)), "measured")

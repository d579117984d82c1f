"""Scaling laws of samples to epsilon, n(epsilon, delta), against problem size.

A family of problems (bandits with K arms, MDPs with S states, ...) is measured at several
sizes; at each size every agent has a :class:`Cell`: its runs' right-censored last-exit times
and delta. From the cells this module fits, by censored maximum likelihood (a Tobit model on
the log scale), how n(epsilon, delta) grows with the size for each agent and for the ratio of
the best policy-gradient (PG) agent to the best certainty-equivalence (CE) agent; splits that
ratio into a planning and an exploration factor; chooses the best agents on tuning runs and
reports them on evaluation runs; prints the exponents theory gives beside the fitted ones; and
turns the numbers into sentences. Every interval bootstraps the runs within each cell, with
the same resample indices for every agent of a size (paired: they share their runs), and a
resample whose quantile is censored stays censored at its value, never dropped. The methods
and their formulas: docs/results.md, "Scaling laws".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tracking import stats
from tracking.validate import InputError

from .report import _num

#: Bootstrap resamples of the fits (runs resampled within each cell).
RESAMPLES = 1000

#: Censoring codes of an observation on the log scale: measured, right-censored (the true value
#: is larger than the one given) and left-censored (smaller). A value NaN carries no
#: information (a ratio of two censored quantiles) and is left out of a fit.
MEASURED, RIGHT, LEFT = 0, 1, -1

#: The smallest residual standard deviation of an iterative (censored) fit, on the log scale:
#: when the measured cells lie on a line that every censored cell agrees with, the likelihood
#: grows without bound as sigma -> 0, and the fit stops at this sigma.
SIGMA_MIN = 1e-3

#: Newton iterations of a censored fit, at most; the fit stops when no parameter moves by more
#: than TOLERANCE.
ITERATIONS = 100
TOLERANCE = 1e-10


# --- cells ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Draws:
    """Bootstrap draws of a censored quantity (a quantile or a ratio of quantiles).

    ``value[i]`` is draw i; ``censor[i]`` says what it is: MEASURED, RIGHT (the quantity is
    larger than ``value[i]``) or LEFT (smaller); a NaN value carries no information.
    """

    value: np.ndarray
    censor: np.ndarray


@dataclass(frozen=True)
class Cell:
    """One (family, size, agent) cell: the runs' last-exit times at epsilon, and delta.

    ``exits`` may hold per-run budgets (a censored run's time is its own budget).
    ``epsilon`` only labels the sentences (a number, or a rule such as "10% of V*").
    """

    family: str
    size: float
    agent: str
    exits: stats.ExitTimes
    delta: float
    epsilon: float | str | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.size) and self.size > 0):
            raise InputError(f"cell {self.family}/{self.agent}: size must be positive and "
                             f"finite, got {self.size}")
        stats._check_delta(self.delta)

    @property
    def runs(self) -> int:
        return self.exits.runs

    def quantile(self, level: float = 0.95) -> stats.Quantile | None:
        """n(epsilon, delta) by Kaplan-Meier (:func:`tracking.stats.km_quantile`)."""
        return stats.km_quantile(self.exits, self.delta, level)

    def draws(self, seed: int = 0, resamples: int = RESAMPLES,
              idx: np.ndarray | None = None) -> Draws:
        """Bootstrap draws of n(epsilon, delta): the runs resampled with
        :func:`tracking.stats.resample_indices` (``seed``), or with the given indices ``idx``
        (resamples, runs); a censored draw is RIGHT-censored at its value (the largest time
        observed in the resample)."""
        if idx is None:
            idx = stats.resample_indices(self.runs, seed, resamples)
        value, censored = stats.quantile_draws(self.exits, self.delta, idx)
        return Draws(value, np.where(censored, RIGHT, MEASURED).astype(np.int8))


def _point(cell: Cell) -> tuple[float, int]:
    """A cell's n(epsilon, delta) and its censoring code (NaN without runs)."""
    q = cell.quantile()
    if q is None:
        return math.nan, MEASURED
    return q.estimate, RIGHT if q.censored else MEASURED


def ratio_draws(num: Draws, den: Draws) -> Draws:
    """Draw by draw, num / den with its censoring: a RIGHT-censored numerator over a measured
    denominator is RIGHT-censored (the ratio is at least the value), a measured numerator over
    a RIGHT-censored denominator LEFT-censored (at most), both censored NaN. Mapping RIGHT to
    +inf, LEFT to 0 and NaN kept gives :func:`tracking.stats.ratio_draws` exactly."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = num.value / den.value
    nc, dc = num.censor != MEASURED, den.censor != MEASURED
    censor = np.where(nc & ~dc, RIGHT, np.where(dc & ~nc, LEFT, MEASURED)).astype(np.int8)
    return Draws(np.where(nc & dc, np.nan, value), censor)


def _ratio_point(num: Cell, den: Cell) -> tuple[float, int]:
    (vn, cn), (vd, cd) = _point(num), _point(den)
    d = ratio_draws(Draws(np.array([vn]), np.array([cn])), Draws(np.array([vd]), np.array([cd])))
    return float(d.value[0]), int(d.censor[0])


# --- the censored log-log fit (Tobit) ------------------------------------------------------

@dataclass(frozen=True)
class TobitFit:
    """Maximum-likelihood line y = a + b x + N(0, sigma^2) of every row (arrays, one entry per
    row; NaN where a row cannot be fitted) and whether its iterations converged."""

    a: np.ndarray
    b: np.ndarray
    sigma: np.ndarray
    converged: np.ndarray


def _ols(x: np.ndarray, y: np.ndarray, w: np.ndarray
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted (0/1) least squares of every row of y on x: a, b, sqrt(RSS / n)."""
    n = w.sum(axis=1)
    xm = (w * x).sum(axis=1) / n
    yv = np.where(w > 0, y, 0.0)
    ym = yv.sum(axis=1) / n
    dx = np.where(w > 0, x - xm[:, None], 0.0)
    sxx = (dx * dx).sum(axis=1)
    b = (dx * (yv - ym[:, None])).sum(axis=1) / sxx
    a = ym - b * xm
    res = np.where(w > 0, yv - a[:, None] - b[:, None] * x, 0.0)
    return a, b, np.sqrt((res * res).sum(axis=1) / n)


def _loglik(theta: np.ndarray, x: np.ndarray, y: np.ndarray, code: np.ndarray,
            use: np.ndarray, derivatives: bool = False) -> Any:
    """The Tobit log-likelihood (without its constant) of every row in Olsen's parameters
    theta = (g0, g1, h) = (a / sigma, b / sigma, 1 / sigma), concave in them; with
    ``derivatives`` also its gradient (rows, 3) and Hessian (rows, 3, 3)."""
    from scipy.special import log_ndtr

    g0, g1, h = theta[:, 0:1], theta[:, 1:2], theta[:, 2:3]
    meas = use & (code == MEASURED)
    cens = use & (code != MEASURED)
    sign = np.where(code == LEFT, -1.0, 1.0)
    yy = np.where(use, y, 0.0)
    z = h * yy - g0 - g1 * x                   # measured: standardised residual
    w = sign * (g0 + g1 * x - h * yy)          # censored: P = Phi(w)
    with np.errstate(divide="ignore", invalid="ignore"):
        logh = np.log(h[:, 0])
    ll = (np.where(meas, -0.5 * z * z, 0.0).sum(axis=1) + meas.sum(axis=1) * logh
          + np.where(cens, log_ndtr(np.where(cens, w, 0.0)), 0.0).sum(axis=1))
    ll = np.where(h[:, 0] > 0, ll, -np.inf)
    if not derivatives:
        return ll
    ones = np.ones_like(x) * np.ones_like(yy)
    m = np.stack([-ones, -x * ones, yy], axis=-1)           # dz / dtheta
    v = sign[..., None] * np.stack([ones, x * ones, -yy], axis=-1)  # dw / dtheta
    lam = np.exp(-0.5 * w * w - 0.5 * math.log(2 * math.pi) - log_ndtr(w))  # phi / Phi
    cw = np.where(cens, lam, 0.0)
    cz = np.where(meas, z, 0.0)
    grad = (-cz[..., None] * m + cw[..., None] * v).sum(axis=1)
    grad[:, 2] += meas.sum(axis=1) / h[:, 0]
    curv = np.where(cens, lam * (lam + w), 0.0)
    hess = -(np.einsum("rn,rni,rnj->rij", meas.astype(float), m, m)
             + np.einsum("rn,rni,rnj->rij", curv, v, v))
    hess[:, 2, 2] -= meas.sum(axis=1) / h[:, 0] ** 2
    return ll, grad, hess


def _newton(theta: np.ndarray, x: np.ndarray, y: np.ndarray, code: np.ndarray,
            use: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximise the concave log-likelihood of every row by Newton steps with backtracking
    (Armijo), h kept at most 1 / SIGMA_MIN (projected: h frozen there while the gradient
    pushes it up). Returns theta and whether each row converged."""
    h_max = 1.0 / SIGMA_MIN
    done = np.zeros(theta.shape[0], dtype=bool)
    for _ in range(ITERATIONS):
        active = np.flatnonzero(~done)
        if active.size == 0:
            break
        t = theta[active]
        xa, ya, ca, ua = x, y[active], code[active], use[active]
        ll, grad, hess = _loglik(t, xa, ya, ca, ua, derivatives=True)
        frozen = (t[:, 2] >= h_max) & (grad[:, 2] > 0)
        grad[frozen, 2] = 0.0
        hess[frozen, 2, :] = 0.0
        hess[frozen, :, 2] = 0.0
        hess[frozen, 2, 2] = -1.0
        step = -np.linalg.solve(hess, grad[..., None])[..., 0]
        slope = (grad * step).sum(axis=1)
        scale = np.ones(active.size)
        accepted = np.zeros(active.size, dtype=bool)
        new = t.copy()
        for _ in range(60):
            todo = ~accepted
            cand = t[todo] + scale[todo, None] * step[todo]
            cand[:, 2] = np.minimum(cand[:, 2], h_max)
            ok = _loglik(cand, xa, ya[todo], ca[todo], ua[todo]) >= (
                ll[todo] + 1e-4 * scale[todo] * slope[todo] - 1e-12 * np.abs(ll[todo]))
            rows = np.flatnonzero(todo)
            new[rows[ok]] = cand[ok]
            accepted[rows[ok]] = True
            scale[rows[~ok]] *= 0.5
            if accepted.all():
                break
        moved = np.abs(new - t).max(axis=1)
        theta[active] = new
        done[active] = (moved <= TOLERANCE * (1.0 + np.abs(t).max(axis=1))) | ~accepted
    return theta, done


def tobit_fit(x: np.ndarray, y: np.ndarray, censor: np.ndarray) -> TobitFit:
    """Fit y = a + b x + e, e ~ N(0, sigma^2), with censored observations, to every row.

    ``x`` (n,) is shared; ``y`` and ``censor`` are (rows, n) or (n,). An observation with
    code MEASURED contributes log phi((y - mu) / sigma) - log sigma to the log-likelihood, a
    RIGHT-censored one (the true value exceeds y) log Phi((mu - y) / sigma), a LEFT-censored
    one log Phi((y - mu) / sigma), with mu = a + b x; NaN values are left out. A row without
    censoring is ordinary least squares, in closed form (sigma^2 = RSS / n, the maximum
    likelihood); a row with censoring is maximised by Newton's method in Olsen's
    reparametrisation (a / sigma, b / sigma, 1 / sigma), where the log-likelihood is concave,
    started from least squares on the values as given, with sigma >= SIGMA_MIN. A row with
    fewer than 3 observations or fewer than 2 measured ones at distinct x gets NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.atleast_2d(np.asarray(y, dtype=np.float64))
    code = np.atleast_2d(np.asarray(censor)).astype(np.int8)
    use = np.isfinite(y)
    meas = use & (code == MEASURED)
    distinct = np.array([np.unique(x[r]).size for r in meas]) if meas.size else np.zeros(0)
    ok = (use.sum(axis=1) >= 3) & (distinct >= 2)
    rows = y.shape[0]
    a, b, sigma = np.full(rows, np.nan), np.full(rows, np.nan), np.full(rows, np.nan)
    converged = np.zeros(rows, dtype=bool)
    plain = ok & ~(use & (code != MEASURED)).any(axis=1)
    if plain.any():
        a[plain], b[plain], sigma[plain] = _ols(x, y[plain], meas[plain].astype(float))
        converged[plain] = True
    cens = ok & ~plain
    if cens.any():
        a0, b0, s0 = _ols(x, y[cens], use[cens].astype(float))
        s0 = np.maximum(s0, 0.1)
        theta = np.stack([a0 / s0, b0 / s0, 1.0 / s0], axis=1)
        theta, conv = _newton(theta, x, y[cens], code[cens], use[cens])
        sigma[cens] = 1.0 / theta[:, 2]
        a[cens], b[cens] = theta[:, 0] * sigma[cens], theta[:, 1] * sigma[cens]
        converged[cens] = conv
    return TobitFit(a, b, sigma, converged)


@dataclass(frozen=True)
class Fit:
    """The exponent b of n (or of a ratio) ~ size^b, fitted over a family's sizes.

    ``estimate`` is the Tobit fit of the cells' point estimates; [``low``, ``high``] its
    percentile bootstrap interval (None: unbounded on that side). ``bound`` is
    ``"two_sided"``, ``"lower_bound"`` (the cells are RIGHT-censored from some size to the
    largest: only ``b >= low`` is claimed, ``high`` None), ``"upper_bound"`` (LEFT-censored
    from some size on: ``b <= high``) or ``"none"`` (no fit: ``estimate`` None, ``reason``
    says why). ``censored`` counts the censored cells of the point estimate, ``excluded`` the
    cells without information (a ratio of two censored quantiles); ``failed_draws`` the
    bootstrap draws that could not be fitted (counted as unbounded in the interval).
    """

    estimate: float | None
    low: float | None
    high: float | None
    intercept: float | None
    sigma: float | None
    bound: str
    reason: str | None
    cells: int
    measured: int
    censored: int
    excluded: int
    failed_draws: int
    draws: int
    sizes: tuple[float, ...]

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def text(self, digits: int = 2) -> str:
        """``b [low, high]``, ``>= low``, ``<= high`` or ``no fit (reason)``."""
        if self.estimate is None:
            return f"no fit ({self.reason})"

        def f(v: float | None, inf: str) -> str:
            return inf if v is None else f"{v:.{digits}f}"

        if self.bound == "lower_bound":
            return f">= {f(self.low, '-inf')}"
        if self.bound == "upper_bound":
            return f"<= {f(self.high, 'inf')}"
        return f"{self.estimate:.{digits}f} [{f(self.low, '-inf')}, {f(self.high, 'inf')}]"


def _no_fit(reason: str, sizes: np.ndarray, code: np.ndarray, value: np.ndarray,
            draws: int) -> Fit:
    info = np.isfinite(value)
    return Fit(None, None, None, None, None, "none", reason, int(info.sum()),
               int((info & (code == MEASURED)).sum()), int((info & (code != MEASURED)).sum()),
               int((~info).sum()), 0, draws, tuple(float(s) for s in sizes))


def _tail_bound(sizes: np.ndarray, value: np.ndarray, code: np.ndarray, name: str,
                size_name: str) -> tuple[str, str | None]:
    """Whether the cells are censored in one direction from some size to the largest one with
    information: then the fit bounds the exponent on one side only."""
    info = np.flatnonzero(np.isfinite(value))
    top = code[info[-1]]
    if top == MEASURED:
        return "two_sided", None
    k = info.size - 1
    while k > 0 and code[info[k - 1]] == top:
        k -= 1
    start = f"{size_name} = {_num(float(sizes[info[k]]))}"
    if top == RIGHT:
        return "lower_bound", (f"{name} is censored from {start} on (known only to "
                               "exceed its value there): any steeper growth fits as well")
    return "upper_bound", (f"{name} is censored from {start} on (known only to be "
                           "below its value there): any slower growth fits as well")


def fit_exponent(sizes: Sequence[float], value: Sequence[float], censor: Sequence[int],
                 draws: Sequence[Draws], level: float = 0.95, name: str = "n",
                 size_name: str = "size") -> Fit:
    """The censored log-log fit of ``value`` (one per size, codes ``censor``) against size.

    log value = a + b log size + N(0, sigma^2), by :func:`tobit_fit`; ``draws[k]`` are the
    bootstrap draws of size k (the same count for every size), refitted draw by draw with
    their own censoring. The interval is the percentile one at ``level``: the order
    statistics at ranks (1 -+ level) / 2, a draw that cannot be fitted counted as -inf for
    the lower end and +inf for the upper. No fit with fewer than 3 sizes with information or
    fewer than 2 measured.
    """
    sizes = np.asarray(sizes, dtype=np.float64)
    order = np.argsort(sizes, kind="stable")
    sizes = sizes[order]
    value = np.asarray(value, dtype=np.float64)[order]
    code = np.asarray(censor, dtype=np.int8)[order]
    dv = np.stack([np.asarray(draws[i].value, dtype=np.float64) for i in order], axis=1)
    dc = np.stack([np.asarray(draws[i].censor) for i in order], axis=1)
    info = np.isfinite(value)
    n_draws = dv.shape[0]
    if info.sum() < 3:
        return _no_fit(f"{int(info.sum())} size(s) with a value, 3 needed", sizes, code,
                       value, n_draws)
    measured = int((info & (code == MEASURED)).sum())
    if measured < 2:
        return _no_fit(f"{measured} measured size(s), 2 needed (the rest censored)", sizes,
                       code, value, n_draws)
    x = np.log(sizes)
    with np.errstate(divide="ignore", invalid="ignore"):
        point = tobit_fit(x, np.log(value)[None, :], code[None, :])
        fits = tobit_fit(x, np.log(dv), dc)
    b = fits.b
    alpha = (1.0 - level) / 2.0
    failed = ~np.isfinite(b)
    low = float(np.quantile(np.where(failed, -np.inf, b), alpha, method="lower"))
    high = float(np.quantile(np.where(failed, np.inf, b), 1.0 - alpha, method="higher"))
    bound, reason = _tail_bound(sizes, value, code, name, size_name)
    low_v = low if math.isfinite(low) and bound != "upper_bound" else None
    high_v = high if math.isfinite(high) and bound != "lower_bound" else None
    return Fit(float(point.b[0]), low_v, high_v, float(point.a[0]), float(point.sigma[0]),
               bound, reason, int(info.sum()), measured, int((info & (code != MEASURED)).sum()),
               int((~info).sum()), int(failed.sum()), n_draws, tuple(float(s) for s in sizes))


# --- families: paired draws per size, per-agent laws, ratios and their split ----------------

def _by_size(cells: Sequence[Cell]) -> dict[float, dict[str, Cell]]:
    """The cells by size (increasing) and agent; one family and one delta."""
    if not cells:
        raise InputError("no cells")
    families = {c.family for c in cells}
    deltas = {c.delta for c in cells}
    if len(families) > 1 or len(deltas) > 1:
        raise InputError(f"cells of one family and one delta expected, got families "
                         f"{sorted(families)} and deltas {sorted(deltas)}")
    out: dict[float, dict[str, Cell]] = {}
    for c in cells:
        row = out.setdefault(float(c.size), {})
        if c.agent in row:
            raise InputError(f"two cells for agent {c.agent} at size {c.size}")
        row[c.agent] = c
    return dict(sorted(out.items()))


def size_seed(seed: int, k: int) -> int:
    """The bootstrap seed of the k-th size (in increasing order) of a family: seed + k, so
    that the sizes' resamples are not the same indices."""
    return int(seed) + int(k)


def paired_draws(cells: Mapping[str, Cell], seed: int, resamples: int = RESAMPLES
                 ) -> dict[str, Draws]:
    """Bootstrap draws of every agent's n(epsilon, delta) at one size, the same run indices
    for all (:func:`tracking.stats.resample_indices`, ``seed``): the agents share their runs."""
    runs = {c.runs for c in cells.values()}
    if len(runs) != 1:
        raise InputError(f"the agents of one size must share their runs, got run counts "
                         f"{sorted(runs)}")
    idx = stats.resample_indices(runs.pop(), seed, resamples)
    return {name: c.draws(idx=idx) for name, c in cells.items()}


@dataclass(frozen=True)
class SizeRatios:
    """At one size: best PG / best CE (:class:`tracking.stats.Ratio`), the planning factor
    PG / CE-uniform and the exploration factor CE-uniform / best CE (None without a
    CE-uniform agent), the agents they compare, and the seed of their bootstrap."""

    size: float
    pg: str
    ce: str
    ratio: stats.Ratio
    planning: stats.Ratio | None
    exploration: stats.Ratio | None
    seed: int


@dataclass(frozen=True)
class FamilyScaling:
    """A family's scaling analysis: every agent's law, the best PG / best CE ratio per size
    with its split, and the exponents of the ratio and of its factors."""

    family: str
    size_name: str
    delta: float
    epsilon: float | str | None
    pg: dict[float, str]
    ce: dict[float, str]
    ce_uniform: str | None
    laws: dict[str, Fit]
    best_pg: Fit
    best_ce: Fit
    rows: tuple[SizeRatios, ...]
    ratio: Fit
    planning: Fit | None
    exploration: Fit | None


def _choices(choice: str | Mapping[float, str], sizes: Sequence[float]) -> dict[float, str]:
    if isinstance(choice, str):
        return {s: choice for s in sizes}
    return {float(s): choice[s] for s in sizes}


def _pair_ratio(num: Cell, den: Cell, seed: int, resamples: int, level: float) -> stats.Ratio:
    return stats.quantile_ratio(num.exits, den.exits, num.delta, level, seed, resamples)


def _fit_of(points: list[tuple[float, float, int]], draws: list[Draws], level: float,
            name: str, size_name: str) -> Fit:
    sizes, value, code = zip(*points)
    return fit_exponent(sizes, value, code, draws, level, name, size_name)


def analyse_family(cells: Sequence[Cell], pg: str | Mapping[float, str],
                   ce: str | Mapping[float, str], ce_uniform: str | None = None,
                   size_name: str = "size", seed: int = 0, resamples: int = RESAMPLES,
                   level: float = 0.95) -> FamilyScaling:
    """Fit the laws of a family and its best PG / best CE ratio.

    ``cells``: every (size, agent) cell of one family (one delta). ``pg`` and ``ce``: the
    best agent of each side, one name or one per size (:func:`select_best`, on tuning runs);
    ``ce_uniform``: the CE agent that explores uniformly, for the factor split
    n(PG) / n(CE) = [n(PG) / n(CE uniform)] * [n(CE uniform) / n(CE)] (planning times
    exploration). Size k's draws use seed :func:`size_seed` (seed, k), the same indices for
    every agent of the size (:func:`paired_draws`); its ratios are
    :func:`tracking.stats.quantile_ratio` with that seed. Laws: every agent present at 3 sizes
    or more, and the chosen agents (``best_pg``, ``best_ce``, their cells size by size).
    """
    table = _by_size(cells)
    sizes = list(table)
    pgs, ces = _choices(pg, sizes), _choices(ce, sizes)
    any_cell = next(iter(table[sizes[0]].values()))
    names = list(dict.fromkeys(c.agent for row in table.values() for c in row.values()))
    points: dict[str, list] = {}
    pulls: dict[str, list[Draws]] = {}
    rows = []
    for k, size in enumerate(sizes):
        row = table[size]
        for needed in (pgs[size], ces[size], ce_uniform):
            if needed is not None and needed not in row:
                raise InputError(f"no cell for agent {needed} at size {size:g}")
        s = size_seed(seed, k)
        d = paired_draws(row, s, resamples)
        for name in row:
            points.setdefault(name, []).append((size, *_point(row[name])))
            pulls.setdefault(name, []).append(d[name])
        p, c = row[pgs[size]], row[ces[size]]
        series = {"best_pg": (_point(p), d[pgs[size]]), "best_ce": (_point(c), d[ces[size]]),
                  "ratio": (_ratio_point(p, c), ratio_draws(d[pgs[size]], d[ces[size]]))}
        planning = exploration = None
        if ce_uniform is not None:
            u = row[ce_uniform]
            planning = _pair_ratio(p, u, s, resamples, level)
            exploration = _pair_ratio(u, c, s, resamples, level)
            series["planning"] = (_ratio_point(p, u), ratio_draws(d[pgs[size]], d[ce_uniform]))
            series["exploration"] = (_ratio_point(u, c),
                                     ratio_draws(d[ce_uniform], d[ces[size]]))
        for key, (pt, dr) in series.items():
            points.setdefault(f"#{key}", []).append((size, *pt))
            pulls.setdefault(f"#{key}", []).append(dr)
        rows.append(SizeRatios(size, pgs[size], ces[size],
                               _pair_ratio(p, c, s, resamples, level), planning, exploration, s))
    laws = {n: _fit_of(points[n], pulls[n], level, f"n({n})", size_name) for n in names
            if len(points[n]) >= 3}

    def fit(key: str, label: str) -> Fit | None:
        return (_fit_of(points[key], pulls[key], level, label, size_name) if key in points
                else None)

    return FamilyScaling(any_cell.family, size_name, any_cell.delta, any_cell.epsilon, pgs,
                         ces, ce_uniform, laws, fit("#best_pg", "n(best PG)"),
                         fit("#best_ce", "n(best CE)"), tuple(rows),
                         fit("#ratio", "the ratio"), fit("#planning", "the planning factor"),
                         fit("#exploration", "the exploration factor"))


# --- best-agent selection on held-out seeds -----------------------------------------------

def rank_key(cell: Cell) -> tuple:
    """The order of :func:`select_best` (smaller is better): a measured n(epsilon, delta)
    before a censored one; measured ones by their estimate; censored ones by the larger share
    of settled runs, then the smaller lower bound (a larger one says the agent stayed above
    epsilon longer); a cell without runs last."""
    q = cell.quantile()
    if q is None:
        return (2, 0.0, 0.0)
    if not q.censored:
        return (0, q.estimate, 0.0)
    return (1, -cell.exits.reached, q.estimate)


@dataclass(frozen=True)
class Selection:
    """The agent chosen on tuning runs, its cells on tuning and evaluation runs, and the
    tuning ranking (best first)."""

    agent: str
    tuning: Cell
    evaluation: Cell
    ranking: tuple[str, ...]


def select_best(tuning: Mapping[str, Cell], evaluation: Mapping[str, Cell]) -> Selection:
    """Choose, among one side's agents, the smallest n(epsilon, delta) on the *tuning* runs
    (order :func:`rank_key`; ties: the first listed), and report its *evaluation* cell, so
    that the reported number is not the minimum of noisy numbers it was chosen by."""
    if not tuning:
        raise InputError("no agents to choose from")
    ranking = sorted(tuning, key=lambda n: rank_key(tuning[n]))  # stable: first on ties
    best = ranking[0]
    if best not in evaluation:
        raise InputError(f"agent {best} has no evaluation cell")
    return Selection(best, tuning[best], evaluation[best], tuple(ranking))


@dataclass(frozen=True)
class ChoiceSpread:
    """How much the verdict depends on the choice: the ratio with every agent of one side in
    turn (the other side's choice fixed), and the smallest and largest estimates."""

    by_pg: dict[str, stats.Ratio]
    by_ce: dict[str, stats.Ratio]
    pg_range: tuple[float | None, float | None]
    ce_range: tuple[float | None, float | None]


def _range(ratios: Mapping[str, stats.Ratio]) -> tuple[float | None, float | None]:
    est = [r.estimate for r in ratios.values() if r.estimate is not None]
    return (min(est), max(est)) if est else (None, None)


def choice_spread(pg_cells: Mapping[str, Cell], ce_cells: Mapping[str, Cell], pg: str,
                  ce: str, seed: int = 0, resamples: int = RESAMPLES,
                  level: float = 0.95) -> ChoiceSpread:
    """The ratio n(PG) / n(CE) on evaluation cells of one size with each PG agent against the
    chosen CE agent ``ce``, and with each CE agent under the chosen PG agent ``pg``
    (:func:`tracking.stats.quantile_ratio`, ``seed``); min and max of each side's estimates
    (bounds included as their values, a ratio of two censored quantiles left out)."""
    by_pg = {n: _pair_ratio(c, ce_cells[ce], seed, resamples, level)
             for n, c in pg_cells.items()}
    by_ce = {n: _pair_ratio(pg_cells[pg], c, seed, resamples, level)
             for n, c in ce_cells.items()}
    return ChoiceSpread(by_pg, by_ce, _range(by_pg), _range(by_ce))


# --- theory beside the fits ----------------------------------------------------------------

@dataclass(frozen=True)
class Law:
    """A known sample-complexity law: its setting, formula, exponents and source."""

    setting: str
    formula: str
    exponents: dict[str, float]
    source: str
    note: str


THEORY = (
    Law("bandits, best-arm identification", "K / gap^2 * log(1 / delta)", {"K": 1.0},
        "Mannor and Tsitsiklis 2004 (JMLR 5, lower bound); Even-Dar, Mannor and Mansour 2006 "
        "(JMLR 7, median elimination, upper bound)",
        "pulls to an epsilon-optimal arm with probability 1 - delta; gap-dependent form "
        "sum over arms of 1 / gap_a^2, K / gap^2 with K - 1 arms at one gap"),
    Law("episodic MDPs, optimism", "S A H^3 / epsilon^2", {"S": 1.0, "A": 1.0, "H": 3.0},
        "Azar, Osband and Munos 2017 (ICML, UCBVI)",
        "environment steps: regret O(sqrt(H S A T)) over T steps, turned into an "
        "epsilon-optimal policy (values in [0, H]) by averaging, up to logs and lower-order "
        "terms"),
    Law("linear bandits, best-arm identification", "d / epsilon^2", {"d": 1.0},
        "Soare, Lazaric and Munos 2014 (NeurIPS)",
        "pulls, up to logs and the geometry of the arms (G-optimal allocation); regret-based "
        "(OFUL, regret d sqrt(T)) gives d^2 / epsilon^2 instead"),
)


def theory_rows(variables: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The theory table: one row per law (of those with an exponent in one of ``variables``,
    default all), with its formula, exponents, source and note, to print beside the fits."""
    return [{"setting": law.setting, "formula": law.formula, "exponents": dict(law.exponents),
             "source": law.source, "note": law.note} for law in THEORY
            if variables is None or set(variables) & set(law.exponents)]


def li_lower_bound(states: Sequence[float] | float, gamma: float, eta: float, c1: float = 1.0,
                   c2: float = 1.0, log: bool = False) -> np.ndarray:
    """The iteration lower bound of exact-gradient softmax policy gradient, as a curve in the
    number of states.

    Li, Wei, Chi, Gu and Chen (2021, Mathematical Programming 201, 2023), Theorem 1: for
    0.96 < gamma < 1, step size 0 < eta < (1 - gamma)^2 / 5 and |S| >= c3 (1 - gamma)^-6,
    there is an MDP with |S| states and at most three actions on which softmax PG (exact
    gradients, uniform initial policy and start distribution) needs at least
    t = (c1 / eta) |S|^(2^(c2 / (1 - gamma))) iterations before its average value error falls
    to 0.07. c1, c2, c3 are universal constants the theorem does not give; the defaults 1 are
    placeholders, so the curve shows the shape (a power of |S| whose degree doubles with every
    c2 of effective horizon), not the level. Returns t, or ln t with ``log`` (t overflows
    float64 soon); NaN outside the theorem's range of gamma, eta or |S| >= (1 - gamma)^-6
    (with c3 = 1).
    """
    s = np.asarray(states, dtype=np.float64)
    valid = (0.96 < gamma < 1.0) and (0.0 < eta < (1.0 - gamma) ** 2 / 5.0)
    ln_t = math.log(c1 / eta) + 2.0 ** (c2 / (1.0 - gamma)) * np.log(s)
    ln_t = np.where(valid & (s >= (1.0 - gamma) ** -6), ln_t, np.nan)
    if log:
        return ln_t
    with np.errstate(over="ignore"):
        return np.exp(ln_t)


def li_level_bound(levels: Sequence[int] | int, states: float, eta: float, c1: float = 1.0,
                   c2: float = 1.0) -> np.ndarray:
    """The paper's bound level by level, the curve along a chain: the iteration at which
    primary state s first reaches value 0.5 is at least
    c1 |S|^(2/3) / eta * (c2 |S|)^((1/3) 1.5^floor(s/2)) (their induction over the levels
    s = 3 .. H, H = c_h / (1 - gamma)): it grows by a power of 1.5 every two levels. Constants
    as in :func:`li_lower_bound` (unknown; placeholders 1). Returns ln t per level."""
    s = np.asarray(levels)
    return (math.log(c1) + (2.0 / 3.0) * math.log(states) - math.log(eta)
            + (1.0 / 3.0) * 1.5 ** np.floor(s / 2) * math.log(c2 * states))


def li_chain_curve(sizes: Sequence[int], anchor: float, horizon: Callable[[int], int]
                   ) -> np.ndarray:
    """Li et al.'s bound along chains of ``sizes`` states, in samples, anchored at ``anchor``
    samples at the first size: the last level's ln t of :func:`li_level_bound` (level = |S|
    = the size), one episode of ``horizon(size)`` steps per iteration, so that
    n(S) = anchor * t(S) / t(S_0) * H(S) / H(S_0). The theorem's constants are unknown, so
    only the shape (how fast it grows with S) is meaningful; it bounds their construction, not
    these chains, and is drawn beside the measurements, never fitted."""
    sizes_ = np.asarray(sizes, dtype=np.int64)
    ln_t = np.array([float(li_level_bound(int(n), float(n), 1.0)) for n in sizes_])
    steps = np.array([float(horizon(int(n))) for n in sizes_])
    return anchor * np.exp(ln_t - ln_t[0]) * steps / steps[0]


# --- generated verdict sentences -----------------------------------------------------------

def _label(choice: Mapping[float, str], side: str) -> str:
    names = set(choice.values())
    return next(iter(names)) if len(names) == 1 else f"the best {side} agent (chosen per size)"


def _growth(fit: Fit, s: str) -> str:
    """How a fitted quantity grows, as a predicate: ``grows as K^1.02 [0.95, 1.10]``,
    ``grows at least as fast as K^0.80 (95% lower end)``, ... or ``cannot be fitted (why)``."""
    if fit.estimate is None:
        return f"cannot be fitted ({fit.reason})"
    if fit.bound == "lower_bound":
        return (f"grows at least as fast as {s}^{fit.text()[3:]} (95% lower end; the fit's "
                f"estimate is {fit.estimate:.2f})")
    if fit.bound == "upper_bound":
        return (f"grows at most as fast as {s}^{fit.text()[3:]} (95% upper end; the fit's "
                f"estimate is {fit.estimate:.2f})")
    return f"grows as {s}^{fit.text()}"


def _n_label(result: FamilyScaling) -> str:
    eps = "epsilon" if result.epsilon is None else (
        result.epsilon if isinstance(result.epsilon, str) else _num(result.epsilon))
    return f"n({eps}, {_num(result.delta)})"


def _ratio_text(r: stats.Ratio) -> str:
    """A ratio in words: ``12.3 [9.8, 15.0]``, ``at least 40 (95% lower end 30)``, ..."""
    if r.kind == "measured":
        high = "unbounded" if r.high is None else _num(r.high)
        return f"{_num(r.estimate)} [{_num(r.low)}, {high}]"
    if r.kind == "lower_bound":
        end = "" if r.low is None else f" (95% lower end {_num(r.low)})"
        return f"at least {_num(r.estimate)}{end}"
    if r.kind == "upper_bound":
        end = "" if r.high is None else f" (95% upper end {_num(r.high)})"
        return f"at most {_num(r.estimate)}{end}"
    return "unknown (both censored)"


def _claim(result: FamilyScaling, low: float, high: float) -> str:
    """Whether the ratios support a low-to-high advantage: supported where a ratio's 95%
    lower end reaches ``low``; not supported when at every size the ratio has a 95% upper end
    below ``low``; otherwise undecided."""
    claim = f"the claim of a {_num(low)}x to {_num(high)}x advantage"
    s = result.size_name
    strong = [r for r in result.rows if r.ratio.kind in ("measured", "lower_bound")
              and r.ratio.low is not None and r.ratio.low >= low]
    if strong:
        r = max(strong, key=lambda r: r.ratio.low)
        return (f"{claim} is supported here: at {s} = {_num(r.size)} the ratio's 95% lower end "
                f"is {_num(r.ratio.low)}")
    below = [r for r in result.rows if r.ratio.kind in ("measured", "upper_bound")
             and r.ratio.high is not None and r.ratio.high < low]
    if len(below) == len(result.rows):
        top = max(below, key=lambda r: r.ratio.high)
        return (f"{claim} is not supported here: at every size the ratio's 95% upper end is "
                f"below {_num(low)} (the largest, {_num(top.ratio.high)}, at {s} = "
                f"{_num(top.size)})")
    parts = []
    for kind, what in (("measured", "estimate"), ("lower_bound", "lower bound"),
                       ("upper_bound", "upper bound")):
        v = [r.ratio.estimate for r in result.rows if r.ratio.kind == kind]
        if v:
            parts.append(f"{what}{'s are' if len(v) > 1 else ' is'} {_num(min(v))}"
                         + (f" to {_num(max(v))}" if len(v) > 1 else ""))
    spread = f"the ratio's {', its '.join(parts)}, but " if parts else ""
    open_ = [r for r in result.rows if r.ratio.kind in ("measured", "upper_bound")
             and r.ratio.high is None]
    why = (f" (at {s} = {', '.join(_num(r.size) for r in open_)} the 95% interval has no upper "
           "end: too few runs beyond the quantile)" if open_ else "")
    return (f"{claim} is neither supported nor excluded here: {spread}no size has a 95% lower "
            f"end of {_num(low)} or more, and not every size has a 95% upper end below it"
            f"{why}")


def verdict(result: FamilyScaling, claim: tuple[float, float] = (100.0, 1000.0)) -> list[str]:
    """Sentences on a family in which every figure is computed from ``result``: the laws of
    the best PG and best CE agents, the ratio at the largest size where it is measured (with
    its planning and exploration factors), where PG's value is censored, the ratio's growth,
    and whether the ratios support the claimed advantage ``claim`` (low, high)."""
    s, n = result.size_name, _n_label(result)
    pg, ce = _label(result.pg, "PG"), _label(result.ce, "CE")
    out = [f"The {n} of {pg} {_growth(result.best_pg, s)}; that of the best CE ({ce}) "
           f"{_growth(result.best_ce, s)}."]
    measured = [r for r in result.rows if r.ratio.kind == "measured"]
    if measured:
        r = measured[-1]
        text = f"The ratio at {s} = {_num(r.size)} is {_ratio_text(r.ratio)}"
        if r.planning is not None and r.exploration is not None:
            text += (f", of which planning {_ratio_text(r.planning)} and exploration "
                     f"{_ratio_text(r.exploration)}")
        out.append(text + ".")
    tail = []
    for r in reversed(result.rows):
        if r.ratio.kind != "lower_bound":
            break
        tail.append(r)
    if tail:
        bounds = ", ".join(f"{_num(r.ratio.estimate)}x at {s} = {_num(r.size)}"
                           for r in reversed(tail))
        out.append(f"Censored from {s} = {_num(tail[-1].size)} on (the {n} of {pg} exceeds "
                   f"its budget): the ratio is at least {bounds}.")
    out.append(f"The ratio {_growth(result.ratio, s)}."
               + (f" ({result.ratio.reason[0].upper()}{result.ratio.reason[1:]}.)"
                  if result.ratio.reason and result.ratio.estimate is not None else ""))
    for fit, what in ((result.planning, "planning"), (result.exploration, "exploration")):
        if fit is not None:
            out.append(f"The {what} factor {_growth(fit, s)}.")
    text = _claim(result, *claim)
    out.append(text[0].upper() + text[1:] + ".")
    return out


# --- sensitivity -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SensitivityRow:
    """The ratio at every size and its exponent under one (epsilon rule, delta)."""

    rule: Any
    delta: float
    ratios: dict[float, stats.Ratio]
    exponent: Fit


def ratio_fit(pairs: Mapping[float, tuple[Cell, Cell]], seed: int = 0,
              resamples: int = RESAMPLES, level: float = 0.95, size_name: str = "size"
              ) -> tuple[dict[float, stats.Ratio], Fit]:
    """The ratio n(num) / n(den) per size (``pairs``: size -> (num, den) cells on shared
    runs) and its exponent, with the seeds of :func:`analyse_family` (size k: seed + k)."""
    ratios, points, pulls = {}, [], []
    for k, size in enumerate(sorted(pairs)):
        num, den = pairs[size]
        s = size_seed(seed, k)
        d = paired_draws({"num": num, "den": den}, s, resamples)
        ratios[float(size)] = _pair_ratio(num, den, s, resamples, level)
        points.append((float(size), *_ratio_point(num, den)))
        pulls.append(ratio_draws(d["num"], d["den"]))
    return ratios, _fit_of(points, pulls, level, "the ratio", size_name)


def sensitivity(cells_for: Callable[[Any, float], Mapping[float, tuple[Cell, Cell]]],
                rules: Sequence[Any], deltas: Sequence[float], seed: int = 0,
                resamples: int = RESAMPLES, level: float = 0.95, size_name: str = "size"
                ) -> list[SensitivityRow]:
    """The ratio and its exponent recomputed under every epsilon rule and delta:
    ``cells_for(rule, delta)`` returns size -> (PG cell, CE cell) (the study's choice of the
    agents and of epsilon); one row per (rule, delta), rules outer."""
    rows = []
    for rule in rules:
        for delta in deltas:
            ratios, fit = ratio_fit(cells_for(rule, delta), seed, resamples, level, size_name)
            rows.append(SensitivityRow(rule, float(delta), ratios, fit))
    return rows

"""Statistics: intervals checked for coverage on synthetic data with known answers."""

import math

import numpy as np
import pytest

from tracking import stats


def test_mean_ci_covers_the_true_mean_95_percent_of_the_time():
    # 4000 experiments of 10 normal draws each; the coverage estimate has standard error
    # sqrt(0.95 * 0.05 / 4000) = 0.0034, so [0.935, 0.965] is +-4.4 standard errors.
    gen = np.random.default_rng(0)
    x = gen.normal(3.0, 2.0, size=(4000, 10))
    mean, half = stats.mean_ci(x, axis=1)
    coverage = np.mean(np.abs(mean - 3.0) <= half)
    assert 0.935 <= coverage <= 0.965


def test_mean_ci_half_width_formula():
    x = np.array([1.0, 2.0, 4.0])
    mean, half = stats.mean_ci(x)
    assert mean == 7 / 3
    assert math.isclose(half, stats.t_quantile(0.975, 2) * x.std(ddof=1) / math.sqrt(3))
    assert stats.mean_ci(np.array([5.0]))[1] == 0.0


def test_bootstrap_median_interval_coverage():
    # 300 experiments of 60 exponential draws (true median ln 2); standard error of the coverage
    # estimate 0.0126, and the percentile bootstrap of a median is a little conservative or
    # liberal at this n: accept [0.90, 0.99].
    gen = np.random.default_rng(1)
    hits = 0
    for i in range(300):
        x = gen.exponential(1.0, size=60)
        iv = stats.bootstrap(np.median, (x,), seed=i, resamples=400)
        hits += iv.low <= math.log(2) <= iv.high
    assert 0.90 <= hits / 300 <= 0.99


def test_growth_exponent_recovers_known_powers():
    steps = np.unique(np.logspace(0, 5, 100).astype(int))
    gen = np.random.default_rng(2)
    noise = np.exp(gen.normal(0.0, 0.05, size=(40, steps.size)))
    for power in (0.5, 1.0):
        iv = stats.growth_exponent(steps, steps**power * noise)
        assert iv.low <= power <= iv.high
        assert abs(iv.estimate - power) < 0.02
    # logarithmic growth: over the last decade d ln(ln t) / d ln t is about 1 / ln t ~ 0.09
    iv = stats.growth_exponent(steps, np.log(steps + 1.0) * noise)
    assert 0.05 < iv.estimate < 0.12
    assert stats.growth_exponent(steps[:2], noise[:, :2]) is None




# --- samples to epsilon: last-exit times, Kaplan-Meier quantiles, intervals, ratios ---------

def _exits(times, settled) -> stats.ExitTimes:
    return stats.ExitTimes(np.asarray(times, dtype=float), np.asarray(settled, dtype=bool))


def _km(times, settled, delta):
    return stats.km_quantile(_exits(times, settled), delta)


def test_last_exit_times_are_censored_at_each_runs_budget():
    samples = np.array([10, 20, 30, 40])
    sr = np.array([
        [0.5, 0.0, 0.0, 0.0],   # good from 20 on
        [0.5, 0.0, 0.3, 0.0],   # dips, comes back above, good only from 40
        [0.5, 0.5, 0.5, 0.5],   # never: censored at the budget 40
        [0.0, 0.0, 0.0, 0.0],   # from the first checkpoint
    ])
    out = stats.last_exit_times(samples, sr, 0.1)
    assert out.time.tolist() == [20, 40, 40, 10]
    assert out.settled.tolist() == [True, True, False, True] and out.reached == 0.75
    # per-run budgets: run 0 simulated up to 20 (settled there), run 1 up to 30 (above epsilon
    # at its last checkpoint: censored at 30), run 2 up to 20 (censored at 20)
    out = stats.last_exit_times(samples, sr, 0.1, budgets=[20, 30, 20, 40])
    assert out.time.tolist() == [20, 30, 20, 10]
    assert out.settled.tolist() == [True, False, False, True]
    with pytest.raises(ValueError, match="budgets must be 4 checkpoints"):
        stats.last_exit_times(samples, sr, 0.1, budgets=[25, 30, 20, 40])


def test_km_quantile_without_censoring_is_an_order_statistic():
    x = np.arange(1.0, 11.0)  # 10 runs settled at 1, ..., 10: S(k) = (10 - k) / 10
    settled = [True] * 10
    q = _km(x, settled, 0.1)
    assert (q.estimate, q.censored, q.delta) == (9.0, False, 0.1)  # S(9) = 0.1 up to rounding
    assert _km(x, settled, 0.5).estimate == 5.0  # S(5) = 0.5: the lower median
    assert _km(x, settled, 0.45).estimate == 6.0  # S(5) = 0.5 > 0.45 >= S(6) = 0.4
    assert _km(x[::-1], settled, 0.45).estimate == 6.0  # the order of the runs does not matter


def test_km_quantile_with_ties():
    t = [2, 2, 2, 4, 4, 8, 8, 8, 8, 16]  # S(2) = 0.7, S(4) = 0.5, S(8) = 0.1, S(16) = 0
    got = [_km(t, [True] * 10, d).estimate for d in (0.7, 0.6, 0.5, 0.3, 0.1, 0.05)]
    assert got == [2, 4, 4, 8, 8, 16]


def test_km_quantile_counts_events_before_censorings_at_the_same_time():
    # settled at 2; censored at 2 (its budget); settled at 3 and at 4. At t = 2 both runs are
    # at risk: S(2) = 1 - 1/4 = 0.75 (censoring first would give 1 - 1/3 = 0.667, <= 0.7);
    # S(3) = 0.75 * (1 - 1/2) = 0.375; S(4) = 0
    for times, settled in (([2, 2, 3, 4], [True, False, True, True]),
                           ([2, 2, 3, 4], [False, True, True, True])):
        assert _km(times, settled, 0.75).estimate == 2.0
        assert _km(times, settled, 0.7).estimate == 3.0
        assert _km(times, settled, 0.3).estimate == 4.0


def test_km_quantile_of_runs_that_all_failed_is_a_lower_bound_at_the_budget():
    q = _km([512.0] * 5, [False] * 5, 0.1)
    assert q.as_dict() == {"estimate": 512.0, "low": 512.0, "high": None, "censored": True,
                           "delta": 0.1, "unbounded": True}
    assert stats.km_quantile(_exits([], []), 0.1) is None


def test_km_quantile_with_unequal_budgets():
    # settled at 10, 20, 30; censored at 15 and 40 (their budgets): S(10) = 4/5,
    # S(20) = 4/5 * 2/3 = 0.533, S(30) = 0.533 * 1/2 = 0.267, then no event up to 40
    times, settled = [10, 15, 20, 30, 40], [True, False, True, True, False]
    assert _km(times, settled, 0.6).estimate == 20
    assert _km(times, settled, 0.5).estimate == 30
    q = _km(times, settled, 0.2)  # (counting the censored runs as settled would give 30)
    assert q.censored and q.estimate == 40 and math.isinf(q.high)


def test_delta_must_be_in_the_open_unit_interval():
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match=r"delta must be in \(0, 1\)"):
            _km([1.0], [True], bad)


def test_interval_without_censoring_is_the_order_statistic_interval():
    # 10 runs settled at 1, ..., 10, delta 0.5. At t = k, S(k) = (10 - k) / 10, and the exact
    # binomial test of S(k) = 0.5 keeps it for 10 - k survivors in 2..8 (P(Bin(10, 1/2) <= 1) =
    # 11/1024 < 0.025 < P(<= 2) = 56/1024): the set is k = 2..8, [2, 9), closed at 9. This is
    # the interval [X_(2), X_(9)] of coverage 1 - 2 * 11/1024 = 0.979.
    q = _km(np.arange(1.0, 11.0), [True] * 10, 0.5)
    assert (q.estimate, q.low, q.high) == (5.0, 2.0, 9.0)


@pytest.mark.parametrize("n", [10, 35, 36, 50])
def test_no_upper_end_when_too_few_runs_can_lie_beyond_the_quantile(n):
    # without censoring, the largest run bounds the (1 - delta) quantile from above only if all
    # n runs falling below it is unlikely: (1 - delta)^n < 0.025, n >= 36 for delta = 0.1
    q = _km(np.arange(1.0, n + 1.0), [True] * n, 0.1)
    assert math.isinf(q.high) == ((1 - 0.1) ** n >= 0.025)
    assert q.low <= q.estimate <= q.high


#: 100 log-spaced checkpoints over 4 decades, as celab's default grids.
GRID = np.unique(np.round(np.logspace(0, 4, 100)))
#: Simulated datasets per case. A coverage estimate has standard error
#: sqrt(0.95 * 0.05 / 2000) = 0.0049; a case passes when its coverage is at least
#: 0.95 - 3 standard errors = 0.935. Seeds are fixed: the test is deterministic.
DATASETS = 2000
FLOOR = 0.95 - 3 * math.sqrt(0.95 * 0.05 / DATASETS)


def _next_checkpoint(x: np.ndarray) -> np.ndarray:
    return GRID[np.minimum(np.searchsorted(GRID, x), GRID.size - 1)]


def interval_coverage(n: int, grid: bool, censored: bool, delta: float, seed: int) -> float:
    """Share of DATASETS datasets of n runs whose interval covers the true (1 - delta) quantile:
    exponential last-exit times of mean 100 (continuous, or read on GRID: the next checkpoint);
    with ``censored``, each run's budget is 0.6 q, 1.2 q or 10 q at random (q the quantile),
    else the runs are never censored."""
    gen = np.random.default_rng(seed)
    t = gen.exponential(100.0, size=(DATASETS, n))
    q = -math.log(delta) * 100.0  # P(T > q) = delta
    if grid:  # P(T_grid > g) = P(T > g) on the grid
        t, q = _next_checkpoint(t), GRID[np.argmax(np.exp(-GRID / 100.0) <= delta)]
    budgets = np.full(t.shape, np.inf)
    if censored:
        budgets = gen.choice([0.6 * q, 1.2 * q, 10.0 * q], size=t.shape)
        budgets = _next_checkpoint(budgets) if grid else budgets
    settled = t <= budgets
    _, low, high, _ = stats.quantile_rows(np.where(settled, t, budgets), settled, delta)
    return float(np.mean((low <= q) & (q <= high)))


@pytest.mark.parametrize("delta", [0.1, 0.5])
@pytest.mark.parametrize("censored", [False, True], ids=["uncensored", "censored"])
@pytest.mark.parametrize("grid", [False, True], ids=["continuous", "grid"])
@pytest.mark.parametrize("n", [20, 30, 50])
def test_interval_coverage_at_20_to_50_runs(n, grid, censored, delta):
    seed = 1000 * n + 100 * grid + 10 * censored + int(10 * delta)
    assert interval_coverage(n, grid, censored, delta, seed) >= FLOOR


def test_ratio_of_paired_quantiles_measured():
    x = np.arange(1.0, 41.0)  # 40 runs
    den = _exits(x, [True] * 40)
    r = stats.quantile_ratio(_exits(30.0 * x, [True] * 40), den, 0.1)
    # perfectly paired: every resample's ratio is 30 (a quantile scales with its times)
    assert r.kind == "measured" and r.estimate == pytest.approx(30.0)
    assert r.low == pytest.approx(30.0) and r.high == pytest.approx(30.0)
    # 36 of 40 runs settle, 4 are censored: S falls to exactly 0.1 at the last event, but many
    # resamples hold more than 4 censored runs, a censored numerator: the upper end is open
    num = _exits(np.r_[x[:36], [1000.0] * 4], [True] * 36 + [False] * 4)
    r = stats.quantile_ratio(num, den, 0.1)
    assert r.kind == "measured" and r.high is None and r.low is not None
    with pytest.raises(ValueError, match="same runs"):
        stats.quantile_ratio(num, _exits(x[:10], [True] * 10), 0.1)


def test_ratio_with_a_censored_quantile_is_a_bound():
    x = np.arange(1.0, 41.0)
    measured = _exits(x, [True] * 40)
    never = _exits([1000.0] * 40, [False] * 40)
    qm, qn = stats.km_quantile(measured, 0.1), stats.km_quantile(never, 0.1)
    lower = stats.quantile_ratio(never, measured, 0.1)
    assert lower.as_dict() == {"estimate": qn.estimate / qm.estimate,
                               "low": qn.low / qm.high, "high": None, "kind": "lower_bound"}
    upper = stats.quantile_ratio(measured, never, 0.1)
    assert upper.as_dict() == {"estimate": qm.estimate / qn.estimate, "low": None,
                               "high": qm.high / qn.low, "kind": "upper_bound"}
    few = _exits(x[:20], [True] * 20)  # 20 runs: best CE's upper limit is unbounded
    assert stats.quantile_ratio(_exits([1000.0] * 20, [False] * 20), few, 0.1).low is None
    both = stats.quantile_ratio(never, never, 0.1)
    assert both.as_dict() == {"estimate": None, "low": None, "high": None, "kind": "none"}


def test_delta_one_half_is_the_old_median_where_numpy_does_not_interpolate():
    gen = np.random.default_rng(4)
    odd = gen.exponential(size=21)  # an odd number of runs: the median is a run's time
    assert _km(odd, [True] * 21, 0.5).estimate == np.median(odd)
    tied = np.array([1.0, 2.0, 3.0, 3.0, 4.0, 5.0])  # even, the middle two equal (a grid's ties)
    assert _km(tied, [True] * 6, 0.5).estimate == np.median(tied)
    # even with distinct middle values numpy interpolates; the Kaplan-Meier quantile is the
    # lower median
    even = np.array([1.0, 2.0, 3.0, 4.0])
    assert np.median(even) == 2.5 and _km(even, [True] * 4, 0.5).estimate == 2.0


def test_quantile_draws_are_the_km_quantiles_of_the_resamples_across_chunks():
    # 200 runs: a chunk holds CHUNK_NUMBERS // 200 = 327 resamples, so 700 span three chunks
    gen = np.random.default_rng(40)
    t = gen.exponential(100.0, 200)
    exits = stats.ExitTimes(np.minimum(t, 200.0), t <= 200.0)
    idx = stats.resample_indices(200, 3, 700)
    assert np.array_equal(idx, np.random.default_rng(3).integers(0, 200, size=(700, 200)))
    est, censored = stats.quantile_draws(exits, 0.1, idx)
    assert censored.any() and not censored.all()
    for i in (0, 326, 327, 328, 653, 654, 699):
        q = stats.km_quantile(stats.ExitTimes(exits.time[idx[i]], exits.settled[idx[i]]), 0.1)
        assert (est[i], censored[i]) == (q.estimate, q.censored)


@pytest.mark.nojit
def test_last_exit_times_read_each_run_at_its_own_epsilon():
    """epsilon (runs,): run r is compared with epsilon_r, as its own call with that number would
    compare it; a wrong number of levels is refused."""
    samples = np.array([10, 20, 30, 40])
    sr = np.array([
        [0.5, 0.3, 0.2, 0.2],   # at 0.25: good from 30 on; at 0.1 never
        [0.5, 0.3, 0.2, 0.2],   # the same curve at 0.4: from 20
        [0.5, 0.5, 0.5, 0.05],  # at 0.1: from 40
    ])
    eps = np.array([0.25, 0.4, 0.1])
    out = stats.last_exit_times(samples, sr, eps)
    assert out.time.tolist() == [30, 20, 40] and out.settled.tolist() == [True, True, True]
    for r in range(3):
        one = stats.last_exit_times(samples, sr[r:r + 1], float(eps[r]))
        assert (one.time[0], one.settled[0]) == (out.time[r], out.settled[r])
    assert stats.last_exit_times(samples, sr, 0.1).settled.tolist() == [False, False, True]
    for bad in (eps[:2], np.ones((3, 1))):
        with pytest.raises(ValueError, match="one per run"):
            stats.last_exit_times(samples, sr, bad)

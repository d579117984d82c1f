"""Statistics: intervals checked for coverage on synthetic data with known answers."""

import math

import numpy as np

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


def test_samples_to_epsilon():
    samples = np.array([10, 20, 30, 40])
    sr = np.array([
        [0.5, 0.0, 0.0, 0.0],   # good from 20 on
        [0.5, 0.0, 0.3, 0.0],   # dips, comes back above, good only from 40
        [0.5, 0.5, 0.5, 0.5],   # never
        [0.0, 0.0, 0.0, 0.0],   # from the first checkpoint
    ])
    out = stats.samples_to_epsilon(samples, sr, 0.1)
    assert out.tolist() == [20.0, 40.0, math.inf, 10.0]


def test_ratio_of_medians_paired_bootstrap():
    gen = np.random.default_rng(3)
    base = gen.exponential(100.0, size=400)
    iv = stats.ratio_of_medians(30.0 * base, base)
    assert math.isclose(iv.estimate, 30.0)
    assert iv.low <= 30.0 <= iv.high and iv.high - iv.low < 1e-9  # perfectly paired
    other = gen.exponential(100.0, size=400)
    iv = stats.ratio_of_medians(10.0 * other, base)
    assert iv.low < 10.0 < iv.high

"""Random streams: distributions, determinism, independence of streams."""

import numpy as np
import pytest
from numba import njit
from scipy import special, stats

from tracking import rng

# Distribution checks use fixed seeds and 50,000 draws; a correct sampler fails a
# Kolmogorov-Smirnov test at level 1e-4 with probability 1e-4, a wrong one (wrong parameters,
# swapped arguments, missing boost) gives p-values that are 0 to machine precision.
N = 50_000
ALPHA = 1e-4


@njit(cache=True)
def _draw(which, a, b, n, seed):
    st = rng.new_state(seed, 7)
    out = np.empty(n)
    for i in range(n):
        if which == 0:
            out[i] = rng.uniform(st)
        elif which == 1:
            out[i] = rng.normal(st)
        elif which == 2:
            out[i] = rng.gamma(st, a)
        else:
            out[i] = rng.beta(st, a, b)
    return out


@njit(cache=True)
def _counter(key, n):
    out = np.empty(n)
    norm = np.empty(n)
    for i in range(n):
        out[i] = rng.counter_uniform(key, i)
        norm[i] = rng.counter_normal(key, i)
    return out, norm


@pytest.mark.nojit
def test_uniform_is_uniform_and_never_zero():
    x = _draw(0, 0.0, 0.0, N, 1)
    assert x.min() > 0.0 and x.max() <= 1.0
    assert stats.kstest(x, "uniform").pvalue > ALPHA


def test_normal_including_tails():
    x = _draw(1, 0.0, 0.0, 400_000, 2)
    assert stats.kstest(x, "norm").pvalue > ALPHA
    # the ziggurat's tail branch (|z| > 3.4426) must be hit at the right rate: binomial count,
    # mean n p = 230, sd 15; allow 5 sd.
    p_tail = 2 * stats.norm.sf(3.442619855899)
    count = np.sum(np.abs(x) > 3.442619855899)
    assert abs(count - x.size * p_tail) < 5 * np.sqrt(x.size * p_tail)


@pytest.mark.nojit
@pytest.mark.parametrize("shape", [0.05, 0.5, 1.0, 2.5, 40.0])
def test_gamma(shape):
    x = _draw(2, shape, 0.0, N, 3)
    assert stats.kstest(x, stats.gamma(shape).cdf).pvalue > ALPHA


@njit(cache=True)
def _log_gammas(shape, k, n, seed):
    """n values of log X, X ~ Gamma(shape), as PSRL's posterior draws them: shape < 1 by
    gamma_small (k the integer 1 / shape, or 0), else by Marsaglia-Tsang; and the share of
    gamma_small's values returned as a logarithm (below TINY)."""
    st = rng.new_state(seed, 11)
    out = np.empty(n)
    logs = 0
    if shape < 1.0:
        constants = rng.small_shape(shape, k)
        for i in range(n):
            v = rng.gamma_small(st, constants)
            logs += v <= 0.0
            out[i] = np.log(v) if v > 0.0 else v
    else:
        d = shape - 1.0 / 3.0
        for i in range(n):
            out[i] = np.log(rng.gamma_mt(st, d, 1.0 / np.sqrt(9.0 * d)))
    return out, logs / n


def _log_gamma_cdf(t, a):
    """P(log X <= t), X ~ Gamma(a), from scipy.stats.gamma; where exp(t) underflows (t < -700)
    the CDF's series x^a / Gamma(a + 1) (1 - a x / (a + 1) + ...) is its first term to 1e-300."""
    t = np.asarray(t, dtype=float)
    low = t < -700.0
    out = np.empty_like(t)
    out[~low] = stats.gamma(a).cdf(np.exp(t[~low]))
    out[low] = np.exp(a * t[low] - special.gammaln(a + 1.0))
    return out


#: Shapes of PSRL's posterior: 1/200 is the prior of a 200-state model (an integer power), 0.3
#: takes the float power, 1, 2.5 and 40 counts plus 1/S (Marsaglia-Tsang).
SHAPES = [(1 / 200, 200), (0.3, 0), (1.0, 0), (2.5, 0), (40.0, 0)]


@pytest.mark.parametrize("shape,k", SHAPES)
def test_gamma_for_psrl_on_the_log_scale(shape, k):
    """Mean and variance of X against Gamma(a)'s a and a, within 5 standard errors of the
    estimates (se of the mean sqrt(a / n); of the variance sqrt((mu4 - a^2) / n), mu4 = 3 a^2 +
    6 a the central fourth moment), and a Kolmogorov-Smirnov test of log X against
    scipy.stats.gamma at level 1e-4 (fixed seeds: a correct sampler fails one of them with
    probability about 1e-4)."""
    n = 200_000
    logs, _ = _log_gammas(shape, k, n, 17)
    x = np.exp(logs)
    assert abs(x.mean() - shape) < 5 * np.sqrt(shape / n)
    mu4 = 3 * shape**2 + 6 * shape
    assert abs(x.var() - shape) < 5 * np.sqrt((mu4 - shape**2) / n)
    assert stats.kstest(logs, lambda t: _log_gamma_cdf(t, shape)).pvalue > ALPHA


@pytest.mark.nojit
def test_small_gamma_returns_logs_below_tiny_at_their_rate():
    """Shape 1/200: P(X < TINY) = TINY^a / Gamma(a + 1) (the CDF at ln TINY); those are the
    values returned as logarithms. Binomial count over 50,000 draws, within 5 sd."""
    a = 1 / 200
    _, share = _log_gammas(a, 200, N, 19)
    p = float(_log_gamma_cdf(np.array([np.log(rng.TINY)]), a)[0])
    assert abs(share - p) < 5 * np.sqrt(p * (1 - p) / N)
    assert 0.01 < p < 0.1  # the test reads a real share, not an empty tail


@pytest.mark.nojit
@pytest.mark.parametrize("a,b", [(1.0, 1.0), (0.5, 3.0), (3.0, 0.5), (1.0, 7.0), (60.0, 900.0)])
def test_beta(a, b):
    x = _draw(3, a, b, N, 4)
    assert stats.kstest(x, stats.beta(a, b).cdf).pvalue > ALPHA


@pytest.mark.nojit
def test_counter_streams_are_pure_functions_of_key_and_index():
    key = rng.stream_key(np.uint64(123), rng.SALT_REWARD, 3, 0)
    u1, z1 = _counter(key, N)
    u2, z2 = _counter(key, N)
    assert np.array_equal(u1, u2) and np.array_equal(z1, z2)
    assert stats.kstest(u1, "uniform").pvalue > ALPHA
    assert stats.kstest(z1, "norm").pvalue > ALPHA
    other = rng.stream_key(np.uint64(123), rng.SALT_REWARD, 4, 0)
    u3, _ = _counter(other, N)
    # independent streams: correlation ~ N(0, 1/N); 5 sd
    assert abs(np.corrcoef(u1, u3)[0, 1]) < 5 / np.sqrt(N)


def test_run_seeds_prefix_stable_and_distinct():
    a = rng.run_seeds(0, 5)
    b = rng.run_seeds(0, 50)
    assert np.array_equal(a, b[:5])
    assert np.array_equal(rng.run_seeds(0, 3, start=2), b[2:5])
    assert len(set(b.tolist())) == 50
    # seed 1's run 0 is not seed 0's run 1
    assert rng.run_seeds(1, 1)[0] != b[1]


@njit(cache=True)
def _tie_counts(values, n, seed):
    st = rng.new_state(seed, 9)
    counts = np.zeros(values.size, dtype=np.int64)
    for _ in range(n):
        counts[rng.argmax_random(values, st)] += 1
    return counts


@pytest.mark.nojit
def test_argmax_breaks_ties_uniformly():
    values = np.array([0.3, 0.7, 0.1, 0.7, 0.7])
    counts = _tie_counts(values, 30_000, 5)
    assert counts[0] == counts[2] == 0
    # chi-square test of uniformity over the three tied maximisers, level 1e-4
    assert stats.chisquare(counts[[1, 3, 4]]).pvalue > ALPHA


@pytest.mark.nojit
def test_every_salt_is_distinct():
    """The salts of all streams, the labs' own included: two streams of a run with one salt
    would be the same numbers (SALT_READOUT must not repeat the MDP lab's start stream)."""
    import importlib
    import pkgutil

    salts = {}
    for package in ("tracking", "bandits", "mdp"):
        path = importlib.import_module(package).__path__
        for info in pkgutil.walk_packages(path, f"{package}."):
            for attr, value in vars(importlib.import_module(info.name)).items():
                if attr.startswith("SALT_") and isinstance(value, np.uint64):
                    salts.setdefault(int(value), set()).add(attr)
    names = set().union(*salts.values())
    assert {"SALT_AGENT", "SALT_REWARD", "SALT_TRANSITION", "SALT_READOUT"} < names
    assert all(len(same) == 1 for same in salts.values()), salts

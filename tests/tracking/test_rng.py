"""Random streams: distributions, determinism, independence of streams."""

import numpy as np
import pytest
from numba import njit
from scipy import stats

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

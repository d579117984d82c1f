"""Numerical pieces of the bandit kernel."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import brentq

from bandits._agents.common import KLUCB_TOL, klucb_index
from bandits.envs import bernoulli_kl


def _exact_index(p, d):
    top = 1.0 - 1e-15
    if bernoulli_kl(p, top) <= d:
        return 1.0
    return brentq(lambda q: bernoulli_kl(p, q) - d, p, top, xtol=1e-15, rtol=1e-15)


@given(
    p=st.one_of(st.just(0.0), st.floats(0.0, 1.0)),
    d=st.one_of(st.floats(1e-8, 1e-3), st.floats(1e-3, 30.0)),
)
@pytest.mark.nojit
def test_klucb_index_is_within_tolerance_above_the_exact_index(p, d):
    hi = min(1.0, p + math.sqrt(d / 2.0))
    q = klucb_index(p, d, hi)
    exact = _exact_index(p, d)
    assert exact - 1e-12 <= q <= exact + KLUCB_TOL + 1e-12


@pytest.mark.nojit
def test_klucb_index_far_from_the_pinsker_bound():
    # mean 0 and a large budget: the index is 1 - exp(-d), far below Pinsker's bound of 1
    for d in (0.5, 2.3, 9.0):
        q = klucb_index(0.0, d, 1.0)
        assert abs(q - (1.0 - math.exp(-d))) <= KLUCB_TOL

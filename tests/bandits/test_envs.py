"""Bandit environments and the Lai-Robbins constant."""

import math

import numpy as np
import pytest

import bandits
from bandits import envs


def test_properties():
    env = bandits.Bernoulli([0.2, 0.7, 0.5])
    assert env.n_arms == 3 and env.best_mean == 0.7
    np.testing.assert_allclose(env.gaps, [0.5, 0.0, 0.2])
    g = bandits.Gaussian([1.0, -1.0], sigma=2.0)
    assert g.sigma == 2.0 and g.n_arms == 2


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: bandits.Bernoulli([0.5]), "at least 2 arms"),
        (lambda: bandits.Bernoulli([0.5, 1.2]), r"in \[0, 1\]; arm 1"),
        (lambda: bandits.Bernoulli([0.5, -0.1]), r"in \[0, 1\]; arm 1"),
        (lambda: bandits.Bernoulli([0.5, float("nan")]), "finite"),
        (lambda: bandits.Bernoulli([[0.5, 0.2]]), "1-D"),
        (lambda: bandits.Bernoulli(["a", "b"]), "numbers"),
        (lambda: bandits.Gaussian([0.0, 1.0], sigma=0.0), "sigma must be"),
        (lambda: bandits.Gaussian([0.0, 1.0], sigma=float("inf")), "sigma must be"),
        (lambda: bandits.Gaussian([0.0, float("inf")]), "finite"),
    ],
)
def test_validation(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_means_are_read_only():
    env = bandits.Bernoulli([0.1, 0.2])
    with pytest.raises(ValueError):
        env.means[0] = 0.9


def test_named_instances():
    gc = envs.make("garivier-cappe")
    assert gc.means.tolist() == [0.1, 0.05, 0.05, 0.05, 0.02, 0.02, 0.02, 0.01, 0.01, 0.01]
    np.testing.assert_allclose(envs.make("linspace10").means, np.linspace(0.1, 0.9, 10))
    assert envs.make("close10").means.tolist() == [0.5] + [0.4] * 9
    a, b, c = envs.make("testbed10", 0), envs.make("testbed10", 0), envs.make("testbed10", 1)
    assert isinstance(a, bandits.Gaussian) and a.sigma == 1.0 and a.n_arms == 10
    assert np.array_equal(a.means, b.means) and not np.array_equal(a.means, c.means)
    with pytest.raises(ValueError, match="unknown bandit environment 'x'"):
        envs.make("x")


def test_testbed_means_are_standard_normal():
    # 200 instances x 10 arms = 2000 draws: mean within 4 standard errors of 0, sd within 0.1 of 1
    draws = np.concatenate([bandits.testbed(seed).means for seed in range(200)])
    assert abs(draws.mean()) < 4 / math.sqrt(draws.size)
    assert abs(draws.std() - 1.0) < 0.1


def test_lai_robbins_garivier_cappe():
    # the value quoted for this instance (Garivier and Cappe 2011): 17.445
    assert round(bandits.lai_robbins(envs.make("garivier-cappe")), 3) == 17.445


def test_lai_robbins_by_hand():
    # two Bernoulli arms 0.5 and 0.4: gap 0.1 / KL(0.4, 0.5)
    kl = 0.4 * math.log(0.4 / 0.5) + 0.6 * math.log(0.6 / 0.5)
    assert math.isclose(bandits.lai_robbins(bandits.Bernoulli([0.5, 0.4])), 0.1 / kl)
    # Gaussian: gap / (gap^2 / (2 sigma^2)) = 2 sigma^2 / gap per suboptimal arm
    g = bandits.Gaussian([1.0, 0.5, 0.0], sigma=2.0)
    assert math.isclose(bandits.lai_robbins(g), 2 * 4 / 0.5 + 2 * 4 / 1.0)
    # all arms optimal: nothing to pay
    assert bandits.lai_robbins(bandits.Bernoulli([0.3, 0.3])) == 0.0


def test_bernoulli_kl_edges():
    assert envs.bernoulli_kl(0.0, 0.5) == pytest.approx(math.log(2))
    assert envs.bernoulli_kl(1.0, 0.5) == pytest.approx(math.log(2))
    assert envs.bernoulli_kl(0.3, 0.3) == 0.0
    assert envs.bernoulli_kl(0.3, 1.0) == math.inf


def test_config_round_trip():
    for env in (envs.make("close10"), bandits.Gaussian([0.0, 2.0], sigma=0.5, name="g")):
        again = envs.from_config(env.config())
        assert type(again) is type(env) and np.array_equal(again.means, env.means)
        assert again.sigma == env.sigma and again.name == env.name

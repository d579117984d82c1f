"""Agents against theory, at fixed seeds.

Every tolerance below comes from the sampling error of the runs: a quantity is compared through
its mean and the half-width of its 95% (Student t) confidence interval over independent runs,
and the margins are wide compared with those half-widths, so that a correct agent passes at
these seeds with room to spare and a wrong one (linear instead of logarithmic regret, a broken
index, a missing baseline) fails by a large factor.
"""

import math

import numpy as np
import pytest

import bandits
from bandits import envs
from tracking.stats import mean_ci

T = 10**5


@pytest.fixture(scope="module")
def close10():
    return bandits.run("close10", "ucb,kl-ucb,thompson,greedy", T, 60, seed=1,
                       checkpoints=[10**3, 10**4, T])


@pytest.fixture(scope="module")
def garivier_cappe():
    return bandits.run("garivier-cappe", "ucb,kl-ucb,thompson", 10**4, 60, seed=2)


@pytest.fixture(scope="module")
def linspace10():
    return bandits.run("linspace10", "ucb,kl-ucb,epsilon-greedy", T, 60, seed=3,
                       checkpoints=[10**4, T // 2, T])


def _row(res, agent):
    return res.regret[res.agents.index(agent)]


@pytest.mark.parametrize("agent", ["ucb", "kl-ucb"])
def test_regret_grows_like_log_t(linspace10, agent):
    """regret / ln T barely moves while T grows 10x: per run, the ratio of
    (R(10^5) / ln 10^5) to (R(10^4) / ln 10^4). Linear regret would make it 8, sqrt(T) 2.5."""
    reg = _row(linspace10, agent)
    growth = (reg[:, 2] / math.log(T)) / (reg[:, 0] / math.log(10**4))
    mean, half = mean_ci(growth)
    assert mean + half < 2.0


@pytest.mark.parametrize("fixture", ["close10", "garivier_cappe"])
@pytest.mark.parametrize("agent", ["kl-ucb", "thompson"])
def test_kl_ucb_and_thompson_beat_ucb_by_a_wide_margin(fixture, agent, request):
    res = request.getfixturevalue(fixture)
    m_agent, h_agent = mean_ci(_row(res, agent)[:, -1])
    m_ucb, h_ucb = mean_ci(_row(res, "ucb")[:, -1])
    # the upper end of the agent's CI stays below 60% of the lower end of UCB's
    assert m_agent + h_agent < 0.6 * (m_ucb - h_ucb)


@pytest.mark.parametrize("agent", ["kl-ucb", "thompson"])
def test_regret_over_log_t_is_of_the_order_of_lai_robbins(close10, agent):
    """At T = 10^4 and 10^5 on close10, regret / ln T against the Lai-Robbins constant (an
    asymptotic lower bound, 44.7 here): of its order, never 3x above it."""
    lr = bandits.lai_robbins(envs.make("close10"))
    reg = _row(close10, agent)
    for c, t in ((1, 10**4), (2, T)):
        mean, half = mean_ci(reg[:, c])
        assert 0.15 * lr < (mean - half) / math.log(t)
        assert (mean + half) / math.log(t) < 3.0 * lr


def test_epsilon_greedy_regret_is_linear(linspace10):
    """Once the best arm is known, epsilon-greedy still explores: regret grows by
    epsilon * mean(gaps) per round. Per-run slopes between T/2 and T, compared with it."""
    reg = _row(linspace10, "epsilon-greedy")
    slope = (reg[:, 2] - reg[:, 1]) / (T - T // 2)
    expected = 0.1 * envs.make("linspace10").gaps.mean()
    mean, half = mean_ci(slope)
    assert abs(mean - expected) < half + 0.05 * expected


def test_greedy_is_stuck_on_a_bad_arm_in_some_runs(close10):
    """Greedy certainty equivalence can lock onto a suboptimal arm: in some runs the regret
    at T is at least half the regret of always pulling a 0.4 arm (0.1 T)."""
    final = _row(close10, "greedy")[:, -1]
    stuck = final >= 0.5 * 0.1 * T
    assert 0 < stuck.sum() < stuck.size
    # and such runs have linear regret: regret / ln T of stuck runs dwarfs the Lai-Robbins bound
    assert final[stuck].min() / math.log(T) > 10 * bandits.lai_robbins(envs.make("close10"))


def test_reinforce_baseline_helps_when_rewards_are_far_from_zero():
    """Sutton and Barto, figure 2.5: testbed means around 4 (N(4, 1)); with the running-average
    baseline the gradient bandit learns, without it the preferences of whatever arm is pulled
    rise and it commits early. Two instances, 100 runs each, alpha 0.1 and 0.4."""
    for seed in (0, 1):
        env = bandits.testbed(seed, loc=4.0)
        res = bandits.run(env, "reinforce,reinforce:baseline=false,reinforce:alpha=0.4,"
                               "reinforce:alpha=0.4,baseline=false", 1000, 100, seed=seed)
        final = res.regret[:, :, -1]
        for with_b, without_b in ((0, 1), (2, 3)):
            m1, h1 = mean_ci(final[with_b])
            m2, h2 = mean_ci(final[without_b])
            assert m1 + h1 < m2 - h2
            assert np.mean(final[with_b]) < 0.7 * np.mean(final[without_b])

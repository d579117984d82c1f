"""Degenerate but valid problems: they work, and give the answers theory says."""

import math
import warnings

import numpy as np
import pytest

import bandits
import mdp

#: Agents whose first pull is drawn from a uniform distribution (docs/algorithms.md: Thompson's
#: Beta(1, 1) samples, the softmax agents' pi = softmax(0)); every other agent starts with its
#: round robin (or, started from q0, with a uniform tie among equal estimates).
SAMPLING_FIRST = {"thompson", "reinforce", "rloo", "grpo", "ppo", "actor-critic", "npg",
                  "pg-exact"}


def test_bandit_horizon_one_on_two_arms():
    # arm 0 pays 0 and arm 1 pays 1: the regret of round 1 is 1 when arm 0 is pulled, else 0
    runs = 400
    agents = list(bandits.agents.REGISTRY)
    res = bandits.run(bandits.Bernoulli([0.0, 1.0]), agents, 1, runs)
    assert res.regret.shape == (len(agents), runs, 1)
    for i, name in enumerate(agents):
        regret = res.regret[i, :, 0]
        if name in SAMPLING_FIRST:
            # a fair coin per run: mean 0.5, standard error sqrt(0.25 / 400) = 0.025; 5 se
            assert abs(regret.mean() - 0.5) < 5 * math.sqrt(0.25 / runs), name
        else:
            assert np.all(regret == 1.0), name  # round robin: arm 0 first


@pytest.mark.parametrize("family", ["bernoulli", "gaussian"])
def test_all_arms_equal_regret_exactly_zero(family):
    env = (bandits.Bernoulli([0.4] * 5) if family == "bernoulli"
           else bandits.Gaussian([2.0] * 5, sigma=3.0))
    res = bandits.run(env, list(bandits.agents.REGISTRY), 2000, 3)
    assert np.all(res.regret == 0.0) and np.all(res.simple_regret == 0.0)


def test_gaussian_rewards_of_large_magnitude():
    env = bandits.Gaussian([1e6, 1e6 + 1.0, 1e6 - 5.0], sigma=1.0)
    res = bandits.run(env, list(bandits.agents.REGISTRY), 3000, 3)
    assert np.all(np.isfinite(res.regret)) and np.all(np.isfinite(res.simple_regret))
    # the mean-based agents find the best arm despite the offset: regret per round falls
    i = res.agents.index("kl-ucb")
    assert res.regret[i, :, -1].mean() < 0.5 * 3000


@pytest.mark.nojit
def test_mdp_one_state_one_action_has_zero_regret():
    m = mdp.FiniteMDP(np.ones((1, 1, 1)), np.array([[0.3]]))
    res = mdp.run(m, list(mdp.agents.REGISTRY), 1, 1, 1)
    assert res.regret.shape == (len(mdp.agents.REGISTRY), 1, 1)
    assert np.all(res.regret == 0.0) and np.all(res.simple_regret == 0.0)
    assert np.isclose(res.info["v_star"], 0.3)


@pytest.mark.nojit
def test_mdp_horizon_one_is_a_bandit():
    # from state 0, actions pay 0.2 / 0.9 and end: regret per episode 0.7 for the bad action
    P = np.zeros((2, 2, 2))
    P[:, :, 1] = 1.0
    m = mdp.FiniteMDP(P, np.array([[0.2, 0.9], [0.0, 0.0]]))
    res = mdp.run(m, list(mdp.agents.REGISTRY), 1, 200, 4)
    per_episode = np.diff(res.regret, axis=2, prepend=0.0)
    assert np.all(np.isclose(per_episode, 0.0) | (per_episode > 0.0))
    ce = res.agents.index("ce-greedy")
    # greedy tries a random action first; after two episodes it has seen both only if
    # needed: its regret is at most 0.7 per episode and stops growing once it plays 0.9
    assert res.regret[ce, :, -1].max() <= 0.7 * 200 + 1e-9


def test_mdp_absorbing_and_unreachable_states():
    # state 2 is unreachable from the start; state 1 absorbing with reward 1 for action 1
    P = np.zeros((3, 2, 3))
    P[0, 0, 0] = 1.0
    P[0, 1, 1] = 1.0
    P[1, :, 1] = 1.0
    P[2, :, 0] = 1.0
    R = np.array([[0.1, 0.0], [0.0, 1.0], [0.9, 0.9]])
    m = mdp.FiniteMDP(P, R)
    res = mdp.run(m, list(mdp.agents.REGISTRY), 5, 300, 3)
    assert np.isclose(res.info["v_star"], 4.0)  # move (0), then 4 x 1
    assert np.all(res.regret >= -1e-9) and np.all(res.regret <= 300 * 4.0 + 1e-9)
    i = res.agents.index("psrl")
    assert np.all(res.simple_regret[i, :, -1] < 1e-9)


@pytest.mark.filterwarnings("ignore:solve stopped at float64 resolution")
def test_mdp_rewards_of_large_magnitude():
    m = mdp.envs.riverswim(4)
    big = mdp.FiniteMDP(m.P, m.R * 1e6 - 3e5)
    res = mdp.run(big, list(mdp.agents.REGISTRY), 10, 50, 2)
    assert np.all(np.isfinite(res.regret)) and np.all(res.regret >= -1e-3)
    sol = mdp.solve(big, 0.9)
    np.testing.assert_allclose(sol.values, mdp.policy_iteration(big, 0.9).values, rtol=1e-9)


def test_gamma_zero_and_gamma_next_to_one():
    m = mdp.envs.riverswim(5)
    np.testing.assert_allclose(mdp.solve(m, 0.0).values, m.R.max(axis=1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = mdp.value_iteration(m, 1 - 1e-9)
    assert not res.converged and np.isfinite(res.bound) and res.bound > 0
    assert any("bound" in str(w.message) for w in caught)
    # policy iteration's linear solve is exact there
    assert mdp.policy_iteration(m, 1 - 1e-9).converged


def test_psrl_maps_rewards_outside_the_unit_interval():
    """PSRL's Beta posterior is on [0, 1]; rewards in [-3, 7] are mapped affinely from the
    reward range. With R -> 10 R - 3 on RiverSwim it sees the same unit-scale data, so it acts
    identically and its regret is exactly 10 times the original's."""
    m = mdp.envs.riverswim(5)
    shifted = mdp.FiniteMDP(m.P, 10.0 * m.R - 3.0)
    a = mdp.run(m, "psrl", 15, 300, 4, seed=2)
    b = mdp.run(shifted, "psrl", 15, 300, 4, seed=2)
    np.testing.assert_allclose(b.regret, 10.0 * a.regret, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(b.simple_regret, 10.0 * a.simple_regret, rtol=1e-9, atol=1e-9)
    assert a.regret[0, :, -1].mean() < 0.2 * 300 * a.info["v_star"]  # it learns

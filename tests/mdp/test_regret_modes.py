"""The episodic regret's two modes (docs/algorithms.md, Regret): exact, V* - V^{pi_k} by policy
evaluation on the true model, and sampled, V* - G_k from the episode's realised return.

The exact mode's numbers are those of test_reference.py (bit for bit); here the sampled mode
against it: the same runs, the same readouts, an unbiased regret.
"""

import numpy as np
import pytest

import mdp
from mdp.agents import REGISTRY
from mdp.loop import MDPJob
from tracking.specs import build_all

#: Every agent, the group methods with small groups so that they update within the budget.
AGENTS = [name for name in sorted(REGISTRY) if name not in ("rloo", "grpo", "ppo")] + [
    "rloo:group=2", "grpo:group=3,epochs=2", "ppo:group=2"]
GARNET = mdp.envs.garnet(6, 3, 3, seed=4)


def _both(m, agents, horizon, episodes, runs, **kwargs):
    return tuple(mdp.run(m, agents, horizon, episodes, runs, regret=mode, **kwargs)
                 for mode in ("exact", "sampled"))


def test_the_readouts_are_the_same_in_both_modes_and_the_configuration_says_which():
    """The regret mode changes what is recorded, never what an agent does: both readouts of
    simple regret are equal to the bit, at every checkpoint, for every agent."""
    exact, sampled = _both(GARNET, AGENTS, 4, 30, 3, seed=2, rewards="bernoulli")
    assert exact.config["regret"] == "exact" and sampled.config["regret"] == "sampled"
    for name in ("greedy", "behaviour"):
        assert np.array_equal(exact.readout(name), sampled.readout(name)), name
    assert not np.array_equal(exact.regret, sampled.regret)


def test_sampled_regret_is_an_unbiased_estimate_of_the_exact_regret():
    """Paired runs (the same seeds, hence the same policies): per run, sampled - exact =
    sum_k (V^{pi_k}_0(start) - G_k) has mean 0, each G_k the return of one episode of pi_k from
    a start drawn from the start distribution. Runs are independent, so the mean difference
    over 400 runs divided by its standard error (sd / sqrt(400)) is about standard normal: a
    correct loop exceeds 5 of them at a checkpoint with probability below 1e-6 (fixed seed);
    a sampled regret missing a step's reward, or counting the exact one twice, is off by
    hundreds of them."""
    runs = 400
    exact, sampled = _both(GARNET, ["reinforce", "psrl", "ce-dither", "grpo:group=2"], 5, 40,
                           runs, seed=7, rewards="bernoulli", checkpoints=[10, 40])
    diff = sampled.regret - exact.regret
    se = diff.std(axis=1, ddof=1) / np.sqrt(runs)
    assert np.all(se > 0.0)
    assert np.all(np.abs(diff.mean(axis=1)) < 5.0 * se), diff.mean(axis=1) / se


def _dyadic_chain():
    """Four states, deterministic transitions (s, a) -> (s + a + 1) mod 4, start state 0, and
    rewards that are multiples of 1/8: every return is summed exactly, in any order."""
    P = np.zeros((4, 2, 4))
    for s in range(4):
        for a in range(2):
            P[s, a, (s + a + 1) % 4] = 1.0
    R = np.array([[0.25, 0.5], [0.75, 0.0], [0.5, 0.125], [1.0, 0.375]])
    return mdp.FiniteMDP(P, R, initial=[1.0, 0.0, 0.0, 0.0], name="dyadic")


@pytest.mark.parametrize("name", ["ce-greedy", "ce-optimistic", "ucrl2", "psrl", "q-learning"])
def test_sampled_regret_is_v_star_minus_the_episode_return(name):
    """A deterministic model, start and policy: the episode's return is V^{pi_k}_0(start)
    itself, so both modes give the same curve to the bit (the sampled one sums the H rewards
    the episode observed)."""
    exact, sampled = _both(_dyadic_chain(), name, 6, 25, 2, seed=1)
    assert np.array_equal(exact.regret, sampled.regret)
    assert exact.regret[0, :, -1].max() > 0.0  # the agents do lose something


def test_sampled_regret_of_one_state_is_the_binomial_shortfall():
    """One state and action paying Bernoulli(1/2): V* = H / 2 and the sampled regret of an
    episode is H / 2 minus its number of successes, negative in about half the episodes (the
    exact regret is 0)."""
    m = mdp.FiniteMDP(np.ones((1, 1, 1)), np.array([[0.5]]), name="coin")
    exact, sampled = _both(m, "reinforce", 4, 50, 3, seed=5, rewards="bernoulli",
                           checkpoints=list(range(1, 51)))
    assert not exact.regret.any()
    per_episode = np.diff(sampled.regret[0], axis=1, prepend=0.0)
    assert set(np.unique(per_episode)) <= {-2.0, -1.0, 0.0, 1.0, 2.0}
    assert 0.25 < np.mean(per_episode < 0.0) < 0.6  # P(more than 2 successes in 4) = 5/16


def test_the_work_guard_counts_only_the_visited_rows_of_sampled_policy_gradient():
    """Policy-gradient agents with sampled regret: H (A + nnz / (S A)) operations per episode;
    every other agent, and every agent with exact regret, a pass over the model per step."""
    m = mdp.envs.garnet(20, 4, 5, seed=0)
    H, K = 10, 100
    for agent in build_all(REGISTRY, ",".join(AGENTS), "MDP"):
        exact = MDPJob(m, [agent], H, K, 1).work_per_run
        sampled = MDPJob(m, [agent], H, K, 1, regret="sampled").work_per_run
        if agent.family == "policy-gradient":
            assert sampled == K * H * (4 + 5) < exact
        else:
            assert sampled == exact >= K * H * (m.nnz + 80)


@pytest.mark.parametrize("bad", ["nope", "Sampled", 1, None])
def test_a_bad_regret_mode_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="regret must be one of exact, sampled"):
        mdp.run("riverswim", "psrl", 3, 2, 1, regret=bad)

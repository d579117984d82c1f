"""The shared bandit loop: exact agent definitions, layout, degenerate problems, validation.

Determinism, thread counts, batch sizes and common random numbers: tests/test_contracts.py."""

import math

import numpy as np
import pytest

import bandits
from bandits.agents import REGISTRY
from tracking.checkpoints import log_grid
from tracking.rng import run_seeds

from .reference import reference_run

ENVS = {
    "bernoulli": bandits.Bernoulli([0.2, 0.5, 0.5, 0.45], name="b4"),
    "gaussian": bandits.Gaussian([0.1, 0.4, 0.4, -0.2], sigma=0.7, name="g4"),
}


#: Variants checked besides every agent at its defaults: name -> (registry name, parameters).
#: Each shares its agent's parameter record type, so numba compiles no other loop for it.
VARIANTS = {
    "etc": ("etc", {"m": 3}),
    "greedy-q0": ("greedy", {"round_robin": False, "q0": 0.3}),
    "epsilon-greedy-q0": ("epsilon-greedy", {"round_robin": False, "q0": -1.0, "epsilon": 0.2}),
    "reinforce-normalise": ("reinforce", {"normalise": True, "alpha": 0.3}),
    "reinforce-entropy-bonus": ("reinforce", {"baseline": "none", "entropy": 0.5, "bonus": 0.3}),
    "rloo-bonus": ("rloo", {"group": 3, "alpha": 0.5, "bonus": 0.2}),
    "grpo-kl": ("grpo", {"group": 5, "epochs": 3, "kl": 0.2, "clip": 0.1, "bonus": 0.1}),
    "grpo-unclipped": ("grpo", {"group": 2, "epochs": 1, "clip": math.inf, "alpha": 1.0}),
    "ppo-bonus": ("ppo", {"group": 3, "epochs": 2, "alpha_v": 0.5, "clip": 0.05,
                          "bonus": 0.2}),
    "actor-critic-bonus": ("actor-critic", {"alpha": 0.4, "alpha_v": 0.3, "bonus": 0.5}),
    "npg-bonus": ("npg", {"alpha": 0.05, "bonus": 0.2}),
}


@pytest.mark.nojit
@pytest.mark.parametrize("family", sorted(ENVS))
@pytest.mark.parametrize("name", sorted(REGISTRY) + sorted(set(VARIANTS) - set(REGISTRY)))
def test_kernel_matches_the_definitions_step_by_step(name, family):
    """For every agent, the jitted loop equals a plain-Python reading of docs/algorithms.md
    bit for bit: regret, pulls and both readouts of simple regret."""
    env = ENVS[family]
    registry_name, params = VARIANTS.get(name, (name, {}))
    agent = REGISTRY[registry_name](**params)
    # six runs: ucb's loop advances runs in blocks of four, so a full and a partial block
    horizon, runs, seed = 300, 6, 11
    # readouts after every round: in the round robin and after it, before and after etc's
    # commitment, and wherever round t + 1's indices pick other arms than round t's
    res = bandits.run(env, [agent], horizon, runs, seed=seed, checkpoints=range(1, horizon + 1))
    seeds = run_seeds(seed, runs)
    for r in range(runs):
        regret, greedy, behaviour, pulls = reference_run(agent, env, horizon, seeds[r],
                                                         set(res.checkpoints))
        assert np.array_equal(res.regret[0, r], regret), r
        assert np.array_equal(res.simple_regret_greedy[0, r], greedy), r
        assert np.array_equal(res.simple_regret_behaviour[0, r], behaviour), r
        assert np.array_equal(res.extra["pulls"][0, r], pulls), r


def test_result_layout():
    res = bandits.run("linspace10", "ucb,thompson", horizon=500, runs=4, seed=3)
    assert res.agents == ("ucb", "thompson")
    assert res.regret.shape == res.simple_regret.shape == (2, 4, res.checkpoints.size)
    assert res.checkpoints[-1] == 500 and res.checkpoints[0] == 1
    assert res.extra["pulls"].shape == (2, 4, 10)
    assert np.all(res.extra["pulls"].sum(axis=2) == 500)
    # regret is cumulative: non-decreasing, between 0 and T * max gap
    assert np.all(np.diff(res.regret, axis=2) >= 0)
    assert np.all(res.regret[..., -1] <= 500 * 0.8)
    assert res.config["agents"] == ["ucb:c=2.0", "thompson"]
    assert res.config["env"] == "linspace10"
    assert res.config["checkpoints"] == res.checkpoints.tolist()


@pytest.mark.nojit
def test_runs_are_prefix_stable():
    """Run r depends on (seed, r) only: 3 runs equal the first 3 of 7 (what resuming needs)."""
    few = bandits.run("close10", "kl-ucb,reinforce", 1000, 3, seed=9)
    many = bandits.run("close10", "kl-ucb,reinforce", 1000, 7, seed=9)
    assert np.array_equal(few.regret, many.regret[:, :3])


@pytest.mark.nojit
def test_all_arms_equal_gives_exactly_zero_regret():
    env = bandits.Bernoulli([0.3, 0.3, 0.3])
    res = bandits.run(env, "greedy,ucb,thompson,reinforce", 1000, 4)
    assert np.all(res.regret == 0.0) and np.all(res.simple_regret == 0.0)


def test_results_hold_the_checkpoints_only():
    """Memory does not grow with the horizon: one number per checkpoint of the log grid."""
    for horizon in (10**3, 10**6):
        res = bandits.run("linspace10", "greedy", horizon, 2)
        assert res.regret.shape == res.simple_regret.shape == (1, 2, log_grid(horizon).size)
        assert res.extra["pulls"].shape == (1, 2, 10)


@pytest.mark.nojit
def test_validation_errors():
    with pytest.raises(ValueError, match="horizon must be >= 1"):
        bandits.run("close10", "ucb", 0, 1)
    with pytest.raises(ValueError, match="runs must be >= 1"):
        bandits.run("close10", "ucb", 10, 0)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        bandits.run("close10", "ucb", 10, 1, seed=-1)
    with pytest.raises(ValueError, match="unknown bandit environment"):
        bandits.run("nope", "ucb", 10, 1)
    with pytest.raises(ValueError, match="unknown bandit agent"):
        bandits.run("close10", "ucb,nope", 10, 1)

"""The episodic MDP loop against a plain-Python reading of docs/algorithms.md, bit for bit."""

import math

import numpy as np
import pytest

import mdp
from mdp.agents import REGISTRY
from tracking.rng import run_seeds

from .reference import optimal_value, reference_run


def _wide_garnet():
    """A garnet with rewards in [-0.5, 2] and a spread start distribution: it exercises the
    mapped reward range of psrl and ucrl2, the clipping of ce-optimistic and the start draws."""
    g = mdp.envs.garnet(5, 3, 3, seed=7)
    return mdp.FiniteMDP.from_successors(g.indptr, g.indices, g.probs, 2.5 * g.R - 0.5,
                                         initial=[0.3, 0.0, 0.25, 0.45, 0.0], name="wide")


MODELS = {"riverswim4": mdp.envs.riverswim(4), "garnet": mdp.envs.garnet(5, 3, 3, seed=2),
          "wide": _wide_garnet(),
          "dense": mdp.envs.garnet(4, 2, 4, seed=3)}  # every row holds every state
CASES = [("riverswim4", "mean"), ("riverswim4", "bernoulli"), ("garnet", "mean"),
         ("garnet", "bernoulli"), ("wide", "mean"), ("dense", "bernoulli")]

# Parameters that take each branch: ce-optimistic's bonus clipped at H - h or not and c = 0 (no
# bonus, no clipping), ce-dither's constant, uniform and decaying rates, q-learning with and
# without its bonus; for the policy-gradient agents
# every option: reinforce's three baselines (and the alias false), normalise, entropy, and
# for every one the count bonus and a stationary theta; grpo and ppo with a clip range small
# enough for the clipped branch and several epochs, with clip = inf, grpo with and without its
# KL penalty, ppo with lam = 0, 1 and between, groups of 1 (ppo) to 4. An agent missing here
# runs with its defaults (and fails if the reference does not know it).
VARIANTS = {
    "ce-optimistic": [{}, {"c": 0.02, "delta": 0.5}, {"c": 0.0}],
    "ce-dither": [{}, {"epsilon": 1.0}, {"epsilon": 0.5, "decay": "sqrt"}],
    "ucrl2": [{}, {"delta": 0.5}],
    "q-learning": [{}, {"c": 0.05}],
    "reinforce": [{"alpha": 0.5}, {"alpha": 0.5, "baseline": False},
                  {"alpha": 0.5, "baseline": "value", "alpha_v": 0.3, "normalise": True},
                  {"alpha": 0.3, "entropy": 0.2, "bonus": 0.5, "stationary": True},
                  {"alpha": 0.5, "baseline": "none", "normalise": True, "stationary": True}],
    "rloo": [{"group": 2, "alpha": 0.5}, {"group": 3, "alpha": 0.4, "bonus": 0.3,
                                          "stationary": True}],
    "grpo": [{"group": 3, "clip": 0.05, "epochs": 3, "alpha": 0.3},
             {"group": 2, "clip": math.inf, "epochs": 1},
             {"group": 4, "kl": 0.3, "epochs": 2, "alpha": 0.3, "bonus": 0.2,
              "stationary": True}],
    "ppo": [{"group": 2, "clip": 0.05, "epochs": 3, "alpha": 0.3},
            {"group": 1, "lam": 0.0, "alpha_v": 0.5},
            {"group": 3, "lam": 1.0, "clip": math.inf, "bonus": 0.3, "stationary": True}],
    "actor-critic": [{"alpha": 0.5, "alpha_v": 0.5}, {"bonus": 0.3, "stationary": True}],
    "npg": [{}, {"alpha": 0.5, "bonus": 0.3, "stationary": True}],
}
HORIZON = 4


def _check(name, model_name, rewards, runs, seed, episodes):
    """mdp.run's curves and both readouts equal the reference's, run by run, for every variant
    of ``name``."""
    model = MODELS[model_name]
    agents = [REGISTRY[name](**p) for p in VARIANTS.get(name, [{}])]
    checkpoints = list(range(1, episodes + 1))  # every episode: the deployed policy each time
    res = mdp.run(model, agents, HORIZON, episodes, runs, seed=seed, checkpoints=checkpoints,
                  rewards=rewards)
    v_star = res.info["v_star"]
    assert optimal_value(model, HORIZON) == v_star  # the kernel's own sums, dense rows too
    seeds = run_seeds(seed, runs)
    for i, agent in enumerate(agents):
        for r in range(runs):
            regret, greedy, behaviour = reference_run(agent, model, HORIZON, episodes,
                                                      seeds[r], set(checkpoints),
                                                      rewards == "bernoulli", v_star)
            assert np.array_equal(res.regret[i, r], regret), (agent.label, r)
            assert np.array_equal(res.readout("greedy")[i, r], greedy), (agent.label, r)
            assert np.array_equal(res.readout("behaviour")[i, r], behaviour), (agent.label, r)


@pytest.mark.parametrize(("model_name", "rewards"), CASES)
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_kernel_matches_the_definitions_step_by_step(name, model_name, rewards):
    """Every agent, every branch: the jitted loop equals the reference to the last bit."""
    _check(name, model_name, rewards, runs=3, seed=5, episodes=30)


@pytest.mark.nojit
@pytest.mark.parametrize(("model_name", "rewards"), [("garnet", "bernoulli"), ("wide", "mean")])
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_kernel_matches_the_definitions_without_jit(name, model_name, rewards):
    """The same on the kernel's pure-Python path (one run, fewer episodes)."""
    _check(name, model_name, rewards, runs=1, seed=8, episodes=12)

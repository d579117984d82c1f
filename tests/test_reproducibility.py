"""Reproducible everywhere, for every agent and environment of both registries.

Same seed: bit-identical results across NUMBA_NUM_THREADS = 1 and 2, across repeated calls and
across different sets of companion agents (common random numbers); the pure-Python path
(NUMBA_DISABLE_JIT=1) computes the same numbers as the compiled kernels. Different seeds give
different results. A new agent or environment in a registry is covered automatically.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bandits
import mdp

BANDIT_AGENTS = sorted(bandits.agents.REGISTRY)
MDP_AGENTS = sorted(mdp.agents.REGISTRY)
BANDIT_ENVS = sorted(bandits.envs.NAMED)
MDP_ENVS = {  # every built-in environment, at a small size
    "riverswim": {"n_states": 5},
    "chain": {"n": 6},
    "deep-sea": {"n": 4, "seed": 1},
    "gridworld": {"map": "4x4"},
    "garnet": {"n_states": 8, "n_actions": 3, "branching": 3, "seed": 2},
    "li-chain": {"H": 3, "gamma": 0.9},
}


def test_every_mdp_environment_is_covered():
    assert set(MDP_ENVS) == set(mdp.envs.ENVS)


def _bandit(env, agents, seed=3, runs=3):
    return bandits.run(env, agents, 400, runs, seed=seed)


def _mdp(env, agents, seed=3, runs=3):
    return mdp.run(mdp.envs.make(env, **MDP_ENVS[env]), agents, 6, 25, runs, seed=seed)


@pytest.mark.parametrize("env", BANDIT_ENVS)
def test_bandit_repeat_companions_and_seeds(env):
    crowd = _bandit(env, BANDIT_AGENTS)
    again = _bandit(env, BANDIT_AGENTS)
    other = _bandit(env, BANDIT_AGENTS, seed=4)
    assert np.array_equal(crowd.regret, again.regret)
    assert np.array_equal(crowd.simple_regret, again.simple_regret)
    for i, name in enumerate(BANDIT_AGENTS):
        alone = _bandit(env, name)
        assert np.array_equal(alone.regret[0], crowd.regret[i]), name
        assert np.array_equal(alone.simple_regret[0], crowd.simple_regret[i]), name
        assert not np.array_equal(other.extra["pulls"][i], crowd.extra["pulls"][i]), name


@pytest.mark.parametrize("env", sorted(MDP_ENVS))
def test_mdp_repeat_companions_and_seeds(env):
    crowd = _mdp(env, MDP_AGENTS)
    again = _mdp(env, MDP_AGENTS)
    assert np.array_equal(crowd.regret, again.regret)
    assert np.array_equal(crowd.simple_regret, again.simple_regret)
    for i, name in enumerate(MDP_AGENTS):
        alone = _mdp(env, name)
        assert np.array_equal(alone.regret[0], crowd.regret[i]), name
        assert np.array_equal(alone.simple_regret[0], crowd.simple_regret[i]), name


@pytest.mark.parametrize("name", MDP_AGENTS)
def test_mdp_other_seed_other_numbers(name):
    # riverswim's transitions are random, so every agent's curve depends on the seed
    a = mdp.run("riverswim", name, 10, 40, 3, seed=1)
    b = mdp.run("riverswim", name, 10, 40, 3, seed=2)
    assert not np.array_equal(a.regret, b.regret)


_SCRIPT = """
import sys, warnings
import numpy as np
warnings.simplefilter("ignore")
sys.path.insert(0, sys.argv[2])
import bandits, mdp
from tests.test_reproducibility import BANDIT_AGENTS, BANDIT_ENVS, MDP_AGENTS, MDP_ENVS
out = {}
for env in BANDIT_ENVS:
    r = bandits.run(env, BANDIT_AGENTS, 300, 4, seed=5)
    out["b-" + env] = np.stack([r.regret, r.simple_regret])
for env, args in MDP_ENVS.items():
    r = mdp.run(mdp.envs.make(env, **args), MDP_AGENTS, 5, 20, 4, seed=5)
    out["m-" + env] = np.stack([r.regret, r.simple_regret])
g = mdp.generative(mdp.envs.garnet(8, 2, 3, seed=1), 0.9, [5, 20], 3, seed=5)
out["generative"] = np.stack([g.model_error, g.q_error])
np.savez(sys.argv[1], **out)
"""

ROOT = str(Path(__file__).resolve().parents[1])


def _run_script(tmp_path, name, **env):
    path = tmp_path / f"{name}.npz"
    subprocess.run([sys.executable, "-c", _SCRIPT, str(path), ROOT],
                   env=dict(os.environ, **env), check=True)
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def test_thread_counts_and_the_pure_python_path_agree_bit_for_bit(tmp_path):
    one = _run_script(tmp_path, "t1", NUMBA_NUM_THREADS="1")
    two = _run_script(tmp_path, "t2", NUMBA_NUM_THREADS="2")
    pure = _run_script(tmp_path, "py", NUMBA_DISABLE_JIT="1")
    assert one.keys() == two.keys() == pure.keys()
    for key in one:
        assert np.array_equal(one[key], two[key]), key
        assert np.array_equal(one[key], pure[key]), key

"""Contract checks (experiments.testing) over every registry entry, and the checks themselves.

Every agent of every setting's registry passes check_agent (determinism under a seed, thread
counts, batch sizes, common random numbers, regret bounds, parameters, errors), every named
environment of every setting passes check_env: a new agent, environment or setting is checked
here without a new test. The pure-Python path (NUMBA_DISABLE_JIT=1) computes the same numbers
as the compiled kernels, for every agent of every setting.
"""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

import bandits
import experiments  # noqa: F401 - registers the settings
from experiments import testing
from experiments.testing import check_agent, check_env
from tracking import settings
from tracking.specs import Agent

#: Arguments of the environments that need some (or are large by default): small instances.
ENV_ARGS = {
    "riverswim": {"n_states": 5},
    "chain": {"n": 6},
    "deep-sea": {"n": 4, "seed": 1},
    "gridworld": {"map": "4x4"},
    "garnet": {"n_states": 8, "n_actions": 3, "branching": 3, "seed": 2},
    "li-chain": {"H": 3, "gamma": 0.9},
    "sphere": {"d": 3, "n_arms": 5},
    "basis": {"means": [0.1, 0.5, 0.45]},
    "trie": {"n_prompts": 6, "horizon": 3, "vocab": 3, "n_solutions": 2, "p_min": 0.05},
    "shared": {"n_prompts": 6, "horizon": 3, "vocab": 3, "n_solutions": 2, "p_min": 0.05},
}

AGENTS = [(s, a) for s in settings.names() for a in settings.get(s).agent_registry()]
#: Environments whose checks compile loops for arrays no other test uses (Gaussian arms, the
#: shared policy's features): make test-slow runs them.
SLOW_ENVS = {("bandit", "sutton-barto"), ("reasoning", "shared")}
ENVS = [pytest.param(s, e, marks=pytest.mark.slow) if (s, e) in SLOW_ENVS else (s, e)
        for s in settings.names() for e in settings.get(s).env_registry()]


@pytest.mark.parametrize("setting,agent", AGENTS)
def test_every_agent_keeps_the_contracts(setting, agent):
    check_agent(agent, setting=setting)


@pytest.mark.parametrize("setting,env", ENVS)
def test_every_environment_keeps_the_contracts(setting, env):
    check_env(env, setting=setting, args=ENV_ARGS.get(env))


def test_bandit_agents_keep_the_contracts_with_their_parameters_and_own_arms():
    check_agent("reinforce:alpha=0.4,baseline=false", "bandit", env={"means": [0.2, 0.5, 0.45]})
    check_agent("reinforce:normalise=true,entropy=0.1,bonus=0.2", "bandit",
                env={"means": [0.0, 1.0, 0.5], "family": "gaussian", "sigma": 2.0})
    check_agent("grpo:group=3,clip=inf,epochs=2,kl=0.1,bonus=0.2", "bandit",
                env={"means": [0.2, 0.5, 0.45]})
    check_agent("etc:m=3", "bandit",
                env={"means": [0.0, 1.0, 0.5], "family": "gaussian", "sigma": 2.0})
    check_agent(bandits.agents.Greedy(round_robin=False, q0=0.3), "bandit", env="sutton-barto")


# --- each check can fail, and names what failed ---------------------------------------------

class _Doubling(Agent):
    name = "doubling"

    def __init__(self, c: float = 2.0) -> None:
        self.c = 2 * c  # not stored unchanged: build(spec) gives another agent


class _Lax(Agent):
    name = "lax"

    def __init__(self, c: float = 2.0) -> None:
        self.c = c  # no validation: nan is accepted


@pytest.mark.parametrize("cls,prop", [(_Doubling, "parameters"), (_Lax, "errors")])
def test_check_agent_refuses_bad_parameter_handling(monkeypatch, cls, prop):
    monkeypatch.setitem(bandits.agents.REGISTRY, cls.name, cls)
    with pytest.raises(AssertionError, match=f"check_agent.*: {prop}: "):
        check_agent(cls.name, "bandit")


def _perturb(monkeypatch, change):
    """Every execution of the checks adds ``change(result)`` to the regret curves."""
    execute = testing.execute

    def run(job, *args, **kwargs):
        res = execute(job, *args, **kwargs)
        return dataclasses.replace(res, regret=res.regret + change(res))

    monkeypatch.setattr(testing, "execute", run)


def _one_seed(monkeypatch):
    """Every job of the checks runs under seed 3, whatever it asks."""
    job = testing._job
    monkeypatch.setattr(testing, "_job", lambda s, table: job(s, {**table, "seed": 3}))


_CALLS = iter(range(10**6))

BROKEN = {
    "determinism": lambda mp: _perturb(mp, lambda res: next(_CALLS)),  # new numbers every time
    "determinism (seeds)": _one_seed,
    "threads": lambda mp: _perturb(mp, lambda res: numba.get_num_threads()),
    "batches": lambda mp: _perturb(mp, lambda res: float(os.environ.get("CELAB_BATCH_WORK", 0))),
    "batches (prefix)": lambda mp: _perturb(mp, lambda res: res.runs),
    "common random numbers": lambda mp: _perturb(mp, lambda res: len(res.agents)),
    "regret bounds": lambda mp: _perturb(mp, lambda res: -1.0),
}


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_check_agent_finds_each_broken_property(monkeypatch, broken):
    BROKEN[broken](monkeypatch)
    prop = broken.split(" (")[0]
    with pytest.raises(AssertionError, match=f"check_agent\\('ucb:c=2.0', setting='bandit'\\)"
                                             f": {prop}: "):
        check_agent("ucb", "bandit")


def _shift_readout(monkeypatch, readout, change):
    """Every execution of the checks adds ``change()`` to one readout of simple regret."""
    execute = testing.execute
    key = f"simple_regret_{readout}"

    def run(job, *args, **kwargs):
        res = execute(job, *args, **kwargs)
        return dataclasses.replace(res, **{key: getattr(res, key) + change()})

    monkeypatch.setattr(testing, "execute", run)


READOUT_CASES = [("bandit", "ucb"), ("mdp", "psrl"), ("mdp", "reinforce"),
                 ("continuing", "ucrl2")]


@pytest.mark.parametrize("readout", ["greedy", "behaviour"])
@pytest.mark.parametrize("setting,agent", READOUT_CASES)
def test_check_agent_finds_a_simple_regret_out_of_bounds(monkeypatch, readout, setting, agent):
    _shift_readout(monkeypatch, readout, lambda: 1.0)
    with pytest.raises(AssertionError, match=f"regret bounds: .*{readout} simple regret"):
        check_agent(agent, setting=setting)


@pytest.mark.parametrize("readout", ["greedy", "behaviour"])
@pytest.mark.parametrize("setting,agent", READOUT_CASES)
def test_check_agent_compares_both_readouts(monkeypatch, readout, setting, agent):
    _shift_readout(monkeypatch, readout, lambda: next(_CALLS))  # new numbers every time
    with pytest.raises(AssertionError, match=f"determinism: the same seed gave other "
                                             f"simple_regret_{readout}"):
        check_agent(agent, setting)


def test_check_env_finds_an_invalid_model_and_a_configuration_that_does_not_rerun(monkeypatch):
    env = bandits.Bernoulli([0.2, 0.5], name="broken")
    env.means = np.array([0.2, 1.5])  # past the constructor's check
    with pytest.raises(AssertionError, match="valid model: .*must lie in \\[0, 1\\]"):
        check_env(env, "bandit")
    build_jobs = testing.files.build_jobs
    monkeypatch.setattr(testing.files, "build_jobs", lambda parsed: build_jobs(
        {**parsed, "problems": [{**parsed["problems"][0], "seed": 99}]}))
    with pytest.raises(AssertionError, match="configuration: "):
        check_env("close10", "bandit")


def test_continuing_regret_bounds_allow_negative_regret():
    """A state paying more than rho* makes the continuing regret fall: its per-step bound below
    is rho* - max R < 0, which the check allows, while the episodic bound below is 0."""
    from mdp.setting import CONTINUING

    job = CONTINUING.job_class()(bandit_like_mdp(), "ce-greedy", 50, 2)
    bounds = CONTINUING.bounds(job, None)
    assert bounds.step[0] < 0 < bounds.step[1]
    check_agent("ce-greedy", setting="continuing", env=bandit_like_mdp())


@pytest.mark.parametrize("agent", ["reinforce", "grpo:group=2", "ce-dither", "psrl"])
def test_sampled_episodic_regret_keeps_the_contracts(agent):
    """regret = "sampled" on the setting's example: determinism, threads, batches, common random
    numbers and the bounds it declares."""
    check_agent(agent, setting="mdp", options={"regret": "sampled"})


def test_sampled_episodic_regret_bounds_allow_negative_regret():
    """With sampled regret an episode that returns more than V* lowers the curve: the bound
    below is V* - H max r < 0 (the exact regret's is 0), and the check passes on a coin whose
    episodes do."""
    import mdp
    from mdp.setting import EPISODIC

    coin = mdp.FiniteMDP(np.ones((1, 1, 1)), np.array([[0.5]]), name="coin")
    sampled = EPISODIC.job_class()(coin, "reinforce", 4, 30, 2, rewards="bernoulli",
                                   regret="sampled")
    exact = EPISODIC.job_class()(coin, "reinforce", 4, 30, 2, rewards="bernoulli")
    assert EPISODIC.bounds(sampled, None).step == (-2.0, 2.0)
    assert EPISODIC.bounds(exact, None).step == (0.0, 0.0)
    result = testing.execute(sampled)
    assert np.any(np.diff(result.regret, axis=2) < 0.0)
    check_agent("reinforce", setting="mdp", env=coin,
                options={"regret": "sampled", "rewards": "bernoulli"})


def test_check_agent_refuses_options_its_setting_lacks():
    with pytest.raises(ValueError, match="options: regret: not a key of the bandit setting"):
        check_agent("ucb", setting="bandit", options={"regret": "sampled"})
    with pytest.raises(ValueError, match="regret must be one of exact, sampled"):
        check_agent("psrl", setting="mdp", options={"regret": "often"})


def bandit_like_mdp():
    """Two states: state 0 pays 1 and leads to state 1 whatever the action; state 1 pays 0.2
    or 0.6 and stays or returns to 0 with probability 1/2: rho* < 1 = max R."""
    import mdp

    P = np.zeros((2, 2, 2))
    P[0, :, 1] = 1.0
    P[1, 0] = [0.5, 0.5]
    P[1, 1] = [0.5, 0.5]
    R = np.array([[1.0, 1.0], [0.2, 0.6]])
    return mdp.FiniteMDP(P, R, name="two-state")


# --- the pure-Python path computes the same numbers ---------------------------------------

_SCRIPT = """
import sys, warnings
import numpy as np
warnings.simplefilter("ignore")
sys.path.insert(0, sys.argv[2])
import experiments, mdp
from experiments import testing
from tracking import settings
from tracking.runner import execute
from tests.test_contracts import ENV_ARGS, PURE
out = {}
for name in settings.names():
    s = settings.get(name)
    agents = [cls().spec for cls in s.agent_registry().values()]
    envs = PURE[name].get("envs") or s.env_registry()
    for env in envs:
        source = testing._source(s, env, ENV_ARGS.get(env))
        table = testing._table(s, source, agents, 4, 5)
        table.update(PURE[name].get("budget", {}))
        r = execute(s.job_class().from_table(table))
        out[f"{name}-{env}"] = np.stack([r.regret, r.simple_regret_greedy,
                                         r.simple_regret_behaviour])
g = mdp.generative(mdp.envs.garnet(8, 2, 3, seed=1), 0.9, [5, 20], 3, seed=5)
out["generative"] = np.stack([g.model_error, g.q_error])
np.savez(sys.argv[1], **out)
"""

#: What the pure-Python comparison runs per setting (default: every environment at the
#: setting's example budget); the continuing loop's plannings are slow in pure Python.
PURE = {"bandit": {}, "linear-bandit": {}, "mdp": {}, "continuing": {"envs": ["riverswim", "chain"],
                                                "budget": {"steps": 120}}, "reasoning": {}}

ROOT = str(Path(__file__).resolve().parents[1])


def _run_script(tmp_path, name, **env):
    path = tmp_path / f"{name}.npz"
    subprocess.run([sys.executable, "-c", _SCRIPT, str(path), ROOT],
                   env=dict(os.environ, **env), check=True)
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def test_every_setting_is_compared_on_the_pure_python_path():
    assert set(PURE) == set(settings.names())


@pytest.mark.slow
def test_the_pure_python_path_agrees_bit_for_bit(tmp_path):
    compiled = _run_script(tmp_path, "jit")
    pure = _run_script(tmp_path, "py", NUMBA_DISABLE_JIT="1")
    assert compiled.keys() == pure.keys()
    for key in compiled:
        assert np.array_equal(compiled[key], pure[key]), key

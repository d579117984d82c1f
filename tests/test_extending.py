"""A user's own agents and environments in celab's loops (docs/extending.md).

The example package tests/user_agents holds MOSS and UCB1 (bandits) and Q-learning (episodic
MDPs), each at both speeds (plain-Python pieces, and the same functions jitted), and two
environments; docs/extending.md shows these very files (checked below).
"""

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

import bandits
import mdp
import tracking.dispatch as dispatch
from bandits.agents import REGISTRY
from experiments.testing import check_agent, check_env
from tests.bandits.reference import _argmax, _gap_of_argmax
from tests.cli_helpers import (
    _in_tmp,  # noqa: F401
    messages,
)
from tests.cli_helpers import run_main as _main
from tests.user_agents import moss, qlearning, ucb1
from tracking import rng
from tracking.runner import execute
from tracking.specs import build, parse_spec

ROOT = Path(__file__).resolve().parents[1]
MOSS = "tests.user_agents.moss:MOSS"
MOSS_PY = "tests.user_agents.moss:MOSSPython"
USER_Q = "tests.user_agents.qlearning:UserQ"
USER_Q_PY = "tests.user_agents.qlearning:UserQPython"


def _arrays(result, i):
    """Agent i's per-run arrays: regret, both readouts, and the pulls of a bandit result."""
    out = [result.regret[i], result.readout("greedy")[i], result.readout("behaviour")[i]]
    return out + ([result.extra["pulls"][i]] if "pulls" in result.extra else [])


def _same(result, i, j):
    return all(np.array_equal(a, b) for a, b in zip(_arrays(result, i), _arrays(result, j)))


# --- specifications ----------------------------------------------------------------------------

@pytest.mark.nojit
def test_import_path_specs_parse_beside_registry_names():
    assert parse_spec("tests.user_agents.moss:MOSS:c=2") == (MOSS, {"c": "2"})
    assert parse_spec("mymod:Moss") == ("mymod:Moss", {})
    assert parse_spec("ucb:c=1.5") == ("ucb", {"c": "1.5"})
    with pytest.raises(ValueError, match="not key=value"):  # a registry name, a bad parameter
        parse_spec("ucb:c")


@pytest.mark.nojit
def test_user_agent_spec_label_and_rebuild():
    agent = build(REGISTRY, f"{MOSS}:c=2")
    assert isinstance(agent, moss.MOSS) and agent.c == 2.0
    assert agent.spec == f"{MOSS}:c=2.0" and agent.label == "moss(c=2.0)"
    assert build(REGISTRY, agent.spec) == agent
    assert build(REGISTRY, moss.MOSS) == moss.MOSS()  # a class: its defaults
    assert REGISTRY["ucb"]().spec == "ucb:c=2.0"  # built-in names unchanged


@pytest.mark.nojit
@pytest.mark.parametrize("spec,message", [
    ("nosuch.module:Agent", "agent 'nosuch.module:Agent': cannot import module 'nosuch.module'"),
    ("tests.user_agents.moss:Nope", "module 'tests.user_agents.moss' has no attribute 'Nope'"),
    ("tests.user_agents.moss:MOSSState", "is not a bandit agent class"),
    (USER_Q, "is not a bandit agent class"),
    (f"{MOSS}:d=1", "has no parameter 'd'"),
    ("nope", "or module:Class"),
])
def test_bad_import_paths_raise_one_line(spec, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        bandits.run("close10", spec, 10, 2)


@pytest.mark.parametrize("algos,message", [
    ("nosuch.module:Agent", "cannot import module 'nosuch.module'"),
    ("tests.user_agents.moss:Nope", "has no attribute 'Nope'"),
    ("tests.user_agents.envs:staircase", "is not a bandit agent class"),
])
def test_cli_bad_import_path_is_one_line_exit_2(monkeypatch, capsys, algos, message):
    code, out, err = _main(monkeypatch, capsys, "bandit", "--env", "close10", "--algos", algos,
                           "--horizon", "10", "--runs", "2")
    lines = messages(err)
    assert code == 2 and len(lines) == 1 and message in lines[0] and "Traceback" not in err


def _agent_of(record_name):
    """A new record and an agent class whose ``params`` gives it."""
    cls = dispatch.record(record_name, {"x": float}, __name__)

    class Agent(bandits.agents.BanditAgent):
        def params(self, env):
            return cls(0.0)

    return cls, Agent


@pytest.mark.nojit
def test_an_agent_without_its_pieces_is_refused_by_name():
    _, agent = _agent_of("Bare")
    with pytest.raises(ValueError, match="no shared registered for its record Bare__"):
        bandits.run("close10", [agent()], 10, 2)


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="every piece is plain Python then")
def test_pieces_mixing_jitted_and_plain_functions_are_refused():
    from bandits._agents import common, hooks
    from bandits.extending import register_agent

    cls, agent = _agent_of("Mixed")
    register_agent(cls, jit=False, **moss.PIECES)
    dispatch.register(hooks.update, cls, common.update_means)  # a jitted piece
    with pytest.raises(ValueError, match="pieces mix jitted and plain Python functions "
                                         r"\(plain: deploy_behaviour, deploy_greedy, init"):
        bandits.run("close10", [agent()], 10, 2)


# --- the record type and numba's cache -------------------------------------------------------

@pytest.mark.nojit
def test_record_name_carries_the_source_hash(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    names = []
    for i, constant in enumerate((1, 2)):
        (tmp_path / f"hashed_{i}.py").write_text(
            "from tracking.dispatch import record\n"
            f"X = {constant}\n"
            "P = record('P', {'c': float}, __name__)\n")
        module = __import__(f"hashed_{i}")
        names.append(module.P.__name__)
        assert getattr(dispatch, module.P.__name__) is module.P  # pickled by reference
        assert module.P(1.5).c == 1.5
    assert names[0] != names[1] and all(n.startswith("P__") for n in names)
    assert names[0].removeprefix("P__") == dispatch.source_hash(["hashed_0"])


@pytest.mark.nojit
def test_an_older_sources_record_name_unpickles_to_a_placeholder():
    stale = "MOSSParams__" + "0" * dispatch.HASH_DIGITS
    placeholder = getattr(dispatch, stale)
    assert placeholder is getattr(dispatch, stale) and placeholder is not moss.MOSSParams
    with pytest.raises(AttributeError):
        dispatch.no_such_name  # noqa: B018


STALE_AGENT = '''
from typing import Any, NamedTuple

import numpy as np

from bandits.extending import BanditAgent, record, register_agent, vectors

OFFSET = {offset}


class State(NamedTuple):
    sums: np.ndarray


Params = record("Params", {{"unused": float}}, __name__)


def init(params, table, mu):
    return State(np.zeros(mu.shape[0]))


def select(params, state, counts, t, st):
    return (t + OFFSET) % counts.shape[0]


def update(params, state, counts, a, x, t):
    state.sums[a] += x


def deploy(params, state, counts, t, mu, best, st):
    return best - mu[(t + 1 + OFFSET) % mu.shape[0]]


register_agent(Params, init=init, select=select, update=update, deploy_greedy=deploy,
               deploy_behaviour=deploy, footprint=vectors(1), jit=True)


class Cycle(BanditAgent):
    def params(self, env: Any) -> tuple:
        return Params(0.0)
'''

STALE_MAIN = '''
import json
import bandits
from bandits import _kernels
r = bandits.run(bandits.Bernoulli({means}), "stale_agent:Cycle", {horizon}, 2)
s = _kernels.simulate.stats
print(json.dumps({{"regret": r.regret[0, 0].tolist(), "hits": sum(s.cache_hits.values()),
                   "misses": sum(s.cache_misses.values())}}))
'''


@pytest.mark.slow  # compiles the loop afresh, twice, in processes of their own
@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="numba's cache: the compiled path only")
def test_editing_a_user_module_recompiles_the_loop(tmp_path):
    """The agent pulls arm (t + OFFSET) mod K; OFFSET is a global, which numba freezes into
    the machine code: with a record named without the source hash, the edited module would be
    served the loop compiled for OFFSET = 0 from the cache."""
    means, horizon = [0.9, 0.5, 0.1], 10
    (tmp_path / "main.py").write_text(STALE_MAIN.format(means=means, horizon=horizon))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}

    def run(offset):
        (tmp_path / "stale_agent.py").write_text(STALE_AGENT.format(offset=offset))
        done = subprocess.run([sys.executable, "main.py"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    def expected(offset):
        gaps = [max(means) - means[(t + offset) % len(means)] for t in range(1, horizon + 1)]
        return np.cumsum(gaps)

    first, again, edited = run(0), run(0), run(1)
    assert (first["misses"], again["hits"], again["misses"]) == (1, 1, 0)  # cached, then served
    assert edited["misses"] == 1 and edited["hits"] == 0  # the edit compiled anew
    np.testing.assert_allclose(first["regret"], expected(0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(edited["regret"], expected(1), rtol=0, atol=1e-12)
    assert not np.allclose(expected(0), expected(1))


# --- bandits ------------------------------------------------------------------------------------

def moss_reference(means, horizon, seed, checkpoints, c=1.0):
    """MOSS as docs/algorithms.md writes it, from scratch, on the loop's random streams: the
    n-th pull of arm k reads the n-th number of the stream keyed by (run seed, k); ties of the
    index draw from the agent stream. Returns regret, greedy and behaviour at the checkpoints
    and the final pulls."""
    mu = np.asarray(means, dtype=float)
    k_arms, best = len(mu), mu.max()
    keys = [np.uint64(rng.stream_key(np.uint64(seed), rng.SALT_REWARD, k, 0))
            for k in range(k_arms)]
    st = rng.new_state(np.uint64(seed), rng.SALT_AGENT)
    n, s = np.zeros(k_arms, dtype=np.int64), np.zeros(k_arms)

    def index(k):
        return s[k] / n[k] + math.sqrt(c * max(math.log(horizon / (k_arms * n[k])), 0.0) / n[k])

    cum, regret, greedy, behaviour = 0.0, [], [], []
    for t in range(1, horizon + 1):
        a = t - 1 if t <= k_arms else _argmax([index(k) for k in range(k_arms)], st)
        x = 1.0 if rng.counter_uniform(keys[a], n[a]) <= mu[a] else 0.0
        n[a] += 1
        s[a] += x
        cum += best - mu[a]
        if t in checkpoints:
            regret.append(cum)
            pulled = [k for k in range(k_arms) if n[k] > 0]
            est = [s[k] / n[k] if n[k] else 0.0 for k in range(k_arms)]
            greedy.append(_gap_of_argmax(est, mu, pulled))
            if t < k_arms:
                behaviour.append(best - mu[t])
            else:
                behaviour.append(_gap_of_argmax([index(k) for k in range(k_arms)], mu,
                                                range(k_arms)))
    return np.array(regret), np.array(greedy), np.array(behaviour), n


@pytest.mark.nojit
def test_moss_both_speeds_beside_built_ins_equal_the_reference():
    means, horizon, runs = [0.5, 0.45, 0.45, 0.3], 400, 3
    env = bandits.Bernoulli(means)
    result = bandits.run(env, ["ucb", MOSS, f"{MOSS_PY}:c=1.0"], horizon, runs, seed=7)
    alone = bandits.run(env, "ucb", horizon, runs, seed=7)
    assert result.agents == ("ucb", "moss", "moss-python")
    assert _same(result, 1, 2)  # the same definition at both speeds: bit for bit
    assert all(np.array_equal(a, b) for a, b in zip(_arrays(result, 0), _arrays(alone, 0)))
    seeds = rng.run_seeds(7, runs)
    for r in range(runs):
        ref = moss_reference(means, horizon, seeds[r], set(result.checkpoints.tolist()))
        for got, want in zip(_arrays(result, 1), ref):
            assert np.array_equal(got[r], want)


@pytest.mark.nojit
def test_user_ucb1_equals_the_built_in_ucb():
    result = bandits.run("close10", ["ucb", "tests.user_agents.ucb1:UCB1",
                                     "tests.user_agents.ucb1:UCB1Python"], 600, 3, seed=2)
    assert _same(result, 0, 1) and _same(result, 0, 2)
    assert isinstance(build(REGISTRY, "tests.user_agents.ucb1:UCB1"), ucb1.UCB1)


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="numba's threads")
def test_user_agents_do_not_depend_on_the_thread_count():
    out = []
    for threads in (1, 2):
        numba.set_num_threads(threads)
        try:
            out.append(bandits.run("close10", [MOSS, MOSS_PY], 300, 4, seed=1))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert all(np.array_equal(a, b) for i in range(2)
               for a, b in zip(_arrays(out[0], i), _arrays(out[1], i)))


@pytest.mark.parametrize("agent", [MOSS, f"{MOSS_PY}:c=0.5", moss.MOSS])
def test_check_agent_passes_user_bandit_agents(agent):
    check_agent(agent, setting="bandit")


def test_user_bandit_environment(tmp_path):
    env = bandits.envs.make("tests.user_agents.envs:staircase", 0, n_arms="3")
    assert np.allclose(env.means, [0.9, 0.8, 0.7])
    check_env("tests.user_agents.envs:staircase", setting="bandit", args={"n_arms": 4})
    with pytest.raises(ValueError, match="built FiniteMDP, not a Bernoulli"):
        bandits.envs.make("tests.user_agents.envs:random_mdp")
    with pytest.raises(ValueError, match="has no argument 'gap'"):
        bandits.envs.make("tests.user_agents.envs:staircase", gap=1)


# --- episodic MDPs ---------------------------------------------------------------------------

@pytest.mark.nojit
def test_user_q_learning_both_speeds_equal_the_built_in():
    result = mdp.run("riverswim", ["q-learning:c=0.1", f"{USER_Q}:c=0.1", f"{USER_Q_PY}:c=0.1"],
                     8, 25, 3, seed=2)
    assert result.agents == ("q-learning(c=0.1)", "user-q(c=0.1)", "user-q-python(c=0.1)")
    assert _same(result, 0, 1) and _same(result, 0, 2)


@pytest.mark.nojit
def test_user_mdp_environment_per_run_instances():
    """A user's random family draws an instance per run, as the built-in families do."""
    result = mdp.loop.MDPJob("tests.user_agents.envs:random_mdp", ["q-learning", USER_Q_PY],
                             4, 10, 3, env_args={"n_states": 3}, instance="per-run")
    out = execute(result)
    assert out.config["env"] == "tests.user_agents.envs:random_mdp" and out.problem == "random_mdp"
    assert _same(out, 0, 1)
    assert len(set(out.extra["instance_seed"][0].tolist())) == 3


@pytest.mark.parametrize("agent", [USER_Q, f"{USER_Q_PY}:c=0.1", qlearning.UserQ])
def test_check_agent_passes_user_mdp_agents(agent):
    check_agent(agent, setting="mdp")


def test_check_env_passes_the_user_mdp():
    check_env("tests.user_agents.envs:random_mdp", setting="mdp", args={"n_states": 4})


# --- experiment files, resume and tuning ----------------------------------------------------

EXPERIMENT = """
seed = 0

[[problem]]
setting = "bandit"
env = "tests.user_agents.envs:staircase"
args = { n_arms = 4 }
horizon = 300
runs = 3
agents = ["ucb", "tests.user_agents.moss:MOSS", "tests.user_agents.moss:MOSSPython"]

[[problem]]
setting = "mdp"
env = "tests.user_agents.envs:random_mdp"
args = { n_states = 3 }
horizon = 4
episodes = 10
runs = 2
agents = ["q-learning", "tests.user_agents.qlearning:UserQ",
          "tests.user_agents.qlearning:UserQPython"]
"""


def test_celab_run_and_rerun_from_config(monkeypatch, capsys, tmp_path):
    (tmp_path / "exp.toml").write_text(EXPERIMENT)
    code, out, err = _main(monkeypatch, capsys, "run", "exp.toml", "--out", "out",
                           "--no-plots")
    assert code == 0, err
    config = (tmp_path / "out" / "config.toml").read_text()
    assert '"tests.user_agents.moss:MOSS:c=1.0"' in config
    code, out, err = _main(monkeypatch, capsys, "run", "out/config.toml", "--out", "again",
                           "--no-plots")
    assert code == 0, err
    for name in ("staircase", "random_mdp"):
        first = np.load(tmp_path / "out" / "results" / f"{name}.npz")
        second = np.load(tmp_path / "again" / "results" / f"{name}.npz")
        assert all(np.array_equal(first[k], second[k]) for k in first.files
                   if first[k].dtype != object)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert "moss-python" in json.dumps(summary)


def test_resume_finishes_an_experiment_of_user_agents(monkeypatch, capsys, tmp_path):
    """A folder whose second problem's results are missing (the run stopped after the first)
    is finished by --resume, with the numbers of an uninterrupted run."""
    (tmp_path / "exp.toml").write_text(EXPERIMENT)
    code, out, err = _main(monkeypatch, capsys, "run", "exp.toml", "--out", "out",
                           "--no-plots")
    assert code == 0, err
    whole = np.load(tmp_path / "out" / "results" / "random_mdp.npz")
    whole = {k: whole[k] for k in whole.files if whole[k].dtype != object}
    (tmp_path / "out" / "results" / "random_mdp.npz").unlink()
    code, out, err = _main(monkeypatch, capsys, "run", "out/config.toml", "--resume",
                           "--no-plots")
    assert code == 0, err
    again = np.load(tmp_path / "out" / "results" / "random_mdp.npz")
    assert all(np.array_equal(whole[k], again[k]) for k in whole)


def test_celab_tune_by_import_path(monkeypatch, capsys, tmp_path):
    bandit_problem = EXPERIMENT.split('[[problem]]\nsetting = "mdp"')[0]
    grid = '[tune]\n"tests.user_agents.moss:MOSS" = { c = [0.5, 1.0] }\n'
    (tmp_path / "exp.toml").write_text(bandit_problem + grid)
    code, out, err = _main(monkeypatch, capsys, "tune", "exp.toml", "--out", "tuned")
    assert code == 0, err
    tuned = (tmp_path / "tuned" / "tuned.toml").read_text()
    assert re.search(r'"tests\.user_agents\.moss:MOSS:c=(0\.5|1\.0)"', tuned)


def test_experiment_file_bad_import_path_names_the_file(monkeypatch, capsys, tmp_path):
    (tmp_path / "exp.toml").write_text(EXPERIMENT.replace("moss:MOSSPython", "moss:Missing"))
    code, out, err = _main(monkeypatch, capsys, "run", "exp.toml", "--out", "out")
    lines = messages(err)
    assert code == 2 and len(lines) == 1 and "exp.toml" in lines[0]
    assert "has no attribute 'Missing'" in lines[0] and not (tmp_path / "out").exists()


# --- docs/extending.md shows the example package itself ----------------------------------------

def test_the_pages_code_is_the_example_package():
    """Every ```python block of docs/extending.md headed ``# tests/user_agents/<file>.py`` is
    that file, whole; the worked example is thus the tested code."""
    page = (ROOT / "docs" / "extending.md").read_text()
    blocks = re.findall(r"```python\n# (tests/user_agents/\w+\.py)\n(.*?)```", page, re.S)
    assert {path for path, _ in blocks} >= {"tests/user_agents/moss.py",
                                             "tests/user_agents/envs.py"}
    for path, code in blocks:
        assert code == (ROOT / path).read_text(), path

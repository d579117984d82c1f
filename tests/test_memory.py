"""The memory guard counts what celab allocates: measured with tracemalloc, compared with the
estimates, and requests larger than the limit refused before anything is allocated."""

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numba
import numpy as np
import pytest

import bandits
import mdp
from bandits import _kernels as bk
from bandits import _linear_kernels as lk
from bandits._agents.hooks import shared
from bandits.agents import REGISTRY as BANDIT_AGENTS
from bandits.linear import LinearBandit, LinearJob
from bandits.linear_agents import REGISTRY as LINEAR_AGENTS
from bandits.loop import BanditJob
from bandits.loop import run_state_bytes as bandit_state
from mdp import _continuing_loop as ck
from mdp import _episodic_loop as ek
from mdp.agents import CONTINUING_REGISTRY, REGISTRY
from mdp.continuing import optimal_gain
from mdp.continuing import run_state_bytes as continuing_state
from mdp.loop import kernel_model, optimal_value
from mdp.loop import run_state_bytes as episodic_state
from tracking import memory
from tracking.rng import run_seeds
from tracking.specs import build_all

ROOT = Path(__file__).resolve().parents[1]
CELAB = [sys.executable, "-c", "import cli; cli.main()"]
SEED = run_seeds(0, 1)[0]


def _peak(call) -> int:
    """Peak bytes NumPy and Python allocate during ``call()`` (with the JIT, run once before,
    so that compiling the functions it calls is not counted)."""
    if not numba.config.DISABLE_JIT:
        call()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    call()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def _python(kernel):
    """The kernel as Python, so that tracemalloc sees its arrays: the function itself under
    NUMBA_DISABLE_JIT=1 (then the functions it calls are Python too), else its py_func."""
    return getattr(kernel, "py_func", kernel)


def _assert_counted(measured: int, estimate: float, calls: int = 1) -> None:
    """The estimate covers the measured allocation and exceeds it by at most memory.SCRATCH
    per kernel call (array headers): an array left out of the estimate, or one counted that
    the kernel no longer allocates, fails when it is larger than the slack (a few KB; the
    sizes below are chosen so that the large arrays are well above it)."""
    assert measured <= estimate <= measured + calls * memory.SCRATCH, (measured, estimate)


AGENTS = ",".join(BANDIT_AGENTS)


#: The kernels' stop flag, never set here.
STOP = np.zeros(1, np.uint8)

@pytest.mark.nojit
@pytest.mark.python_only  # with the JIT on, boxing between Python and jitted hooks allocates
@pytest.mark.parametrize("agent", build_all(BANDIT_AGENTS, AGENTS, "bandit"),
                         ids=lambda a: a.name)
def test_bandit_run_state_is_what_the_kernel_allocates(agent):
    k = 4000  # one forgotten array of K numbers: 32 KB, four times the slack
    mu = np.linspace(0.1, 0.9, k)
    steps = np.array([1, 2, 3])
    params = agent.params(bandits.envs.Bernoulli(mu))
    table = shared(params, 3)  # allocated once per call by simulate: test_ucb_table_is_counted
    out = (np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(k, np.int64))
    measured = _peak(lambda: _python(bk._one_run)(params, table, 0, mu, 0.5, 3, SEED, steps,
                                                  *out, STOP))
    _assert_counted(measured, bandit_state([params], k, 3))


@pytest.mark.nojit
@pytest.mark.python_only  # with the JIT on, boxing between Python and jitted hooks allocates
@pytest.mark.parametrize("agent", build_all(LINEAR_AGENTS, ",".join(LINEAR_AGENTS),
                                            "linear-bandit"), ids=lambda a: a.name)
def test_linear_run_state_is_what_the_kernel_allocates(agent):
    k, d = 2000, 64  # a forgotten array of K numbers: 16 KB; V^{-1}: 32 KB; both above the slack
    x = np.random.default_rng(0).standard_normal((k, d))
    env = LinearBandit(x, np.full(d, 0.1), name="wide")
    job = LinearJob(env, [agent], 3, 1)
    features, means = env.instances(0, 0, 1)
    out = (np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(k, np.int64))
    measured = _peak(lambda: _python(lk._one_run)(job._params[0], features[0], means[0], 1.0, 3,
                                                  SEED, np.array([1, 2, 3]), *out, STOP))
    _assert_counted(measured, job.run_state_bytes())


@pytest.mark.nojit
def test_ucb_table_is_counted():
    """UCB1's shared table of simulate (and, without the JIT, one run's state)."""
    horizon = 5000
    job = BanditJob("close10", "ucb", horizon, 1)
    params = job.agent_objs[0].params(job.env)
    curves = [np.zeros((1, job.checkpoints.size)) for _ in range(3)]  # regret and both readouts
    pulls = np.zeros((1, 10), np.int64)
    seeds = job.run_seeds(0, job.runs)
    measured = _peak(lambda: _python(bk.simulate)(params, 0, job._means, 0.5, horizon,
                                                  seeds, job.checkpoints, *curves, pulls,
                                                  STOP))
    if hasattr(bk.simulate, "py_func"):
        _assert_counted(measured, job.call_bytes())
    else:  # without the JIT, the run is Python as well
        _assert_counted(measured, job.call_bytes() + job.run_state_bytes(), calls=2)


#: The MDP loops allocate their state inside the agents' jitted ``init`` hooks, which
#: tracemalloc sees only on the pure-Python path (NUMBA_DISABLE_JIT=1, the nojit pass); with
#: the JIT on, tests/conftest.py deselects these tests.
needs_python_kernels = pytest.mark.python_only


@pytest.fixture(scope="module")
def garnet():
    return mdp.envs.garnet(120, 3, 3, 1)  # arrays of S A numbers: 2.9 KB


@pytest.mark.nojit
@needs_python_kernels
@pytest.mark.parametrize("agent", build_all(REGISTRY, "ce-greedy,ce-optimistic,ce-dither,"
                                                      "psrl,ucrl2,q-learning,reinforce,rloo,"
                                                      "grpo,ppo,"
                                                      "actor-critic,npg,"
                                                      "reinforce:baseline=value,normalise=true,"
                                                      "bonus=1.0,stationary=true", "MDP"),
                         ids=lambda a: a.label)
@pytest.mark.parametrize("sampled", [False, True], ids=["exact", "sampled"])
def test_episodic_run_state_is_what_the_kernel_allocates(agent, sampled, garnet):
    m, horizon = garnet, 6
    model, initial = kernel_model(m), np.ascontiguousarray(m.initial)
    v_star = optimal_value(m, horizon)
    out = (np.zeros(1), np.zeros(1), np.zeros(1))  # regret and the two readouts
    measured = _peak(lambda: _python(ek._one_run)(
        agent.params(), model, initial, horizon, 1, SEED, np.array([1]), v_star, False,
        sampled, *out, STOP))
    _assert_counted(measured, episodic_state(agent, m.n_states, m.n_actions, m.nnz, horizon))


@pytest.mark.nojit
@needs_python_kernels
@pytest.mark.parametrize("agent", build_all(CONTINUING_REGISTRY, "ce-greedy,ce-optimistic,"
                                                                 "psrl,ucrl2", "continuing"),
                         ids=lambda a: a.name)
def test_continuing_run_state_is_what_the_kernel_allocates(agent, garnet):
    m = garnet
    model, initial = kernel_model(m), np.ascontiguousarray(m.initial)
    rho = optimal_gain(m)
    out = (np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1, np.int64))
    measured = _peak(lambda: _python(ck._one_run)(
        agent.params(), model, initial, SEED, np.array([8]), rho, False, 20, 1e-6, *out, STOP))
    _assert_counted(measured, continuing_state(agent, m.n_states, m.n_actions, m.nnz))


# A whole experiment without the JIT, so that tracemalloc sees every allocation (kernels
# included) on one thread; the job's estimate is taken with one thread too. The estimate is
# what the guard compares with the limit: it is captured from memory.check.
MEASURE = """
import json, sys, tempfile, tracemalloc, warnings
from pathlib import Path
import numba, numpy as np
numba.get_num_threads = lambda: 1
import bandits, mdp
from experiments import session
from tracking import memory
from bandits.loop import BanditJob
from mdp.loop import MDPJob
from mdp.continuing import ContinuingJob
from bandits.linear import LinearBandit, LinearJob
CASES = {
    "sphere": lambda: LinearJob("sphere", "oful,lin-ts,lin-grpo", 8, 3,
                                env_args={"d": 30, "n_arms": 500}),
    "features": lambda: LinearJob(LinearBandit(np.eye(200)[:, :150], np.full(150, 0.1),
                                               name="f"), "lin-greedy,lin-reinforce", 8, 2),
    "two-level": lambda: BanditJob("two-level", "ucb,greedy", 8, 2, env_args={"n_arms": 3000}),
    "sutton-barto": lambda: BanditJob("sutton-barto", "ucb,reinforce", 8, 2,
                                      env_args={"n_arms": 3000}),
    "means": lambda: BanditJob(bandits.Bernoulli(np.linspace(0.1, 0.9, 3000), name="lin"),
                               "greedy", 8, 2),
    "runs": lambda: BanditJob("close10", "ucb,reinforce", 10, 150),
    "mdp": lambda: MDPJob(mdp.envs.garnet(40, 3, 3), "psrl,q-learning,reinforce", 4, 3, 2,
                          name="g"),
    "continuing": lambda: ContinuingJob(mdp.envs.garnet(20, 2, 2), "psrl,ucrl2", 8, 2,
                                        name="c"),
}
make = CASES[sys.argv[1]]
checked = []
real_check = memory.check
def record(nbytes, what):
    checked.append(nbytes)
    real_check(nbytes, what)
memory.check = record
warnings.simplefilter("ignore")
tmp = Path(tempfile.mkdtemp())
with session.Folder(tmp / "warm") as f:
    session.run_experiment([make()], f, plots=False)
checked.clear()
job = make()
estimate = max(checked)
tracemalloc.start()
base = tracemalloc.get_traced_memory()[0]
with session.Folder(tmp / "measured") as f:
    session.run_experiment([job], f, plots=False)
print(json.dumps({"measured": tracemalloc.get_traced_memory()[1] - base,
                  "estimate": estimate}))
"""


@pytest.mark.parametrize("case, batch", [
    ("two-level", "1"), ("sutton-barto", "1"), ("means", "1"), ("runs", "1"), ("mdp", "1"),
    ("continuing", "1"), ("two-level", None), ("sutton-barto", None),
    # the linear bandits' cases compile the linear loop in a process of their own
    pytest.param("sphere", "1", marks=pytest.mark.slow),
    pytest.param("sphere", None, marks=pytest.mark.slow),
    pytest.param("features", "1", marks=pytest.mark.slow)])
def test_the_estimate_covers_a_whole_experiment(case, batch):
    """Arms, runs (the bootstrap of the summary), states, per-run instances, means given as
    numbers, batches of one run or of all: the estimate the guard uses is at least the bytes
    an experiment allocates."""
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    env.pop("CELAB_BATCH_WORK", None)
    if batch is not None:
        env["CELAB_BATCH_WORK"] = batch
    proc = subprocess.run([sys.executable, "-c", MEASURE, case], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["measured"] <= got["estimate"], got


def test_a_hundred_million_arms_are_refused_before_allocating(tmp_path):
    out = tmp_path / "o"
    proc = subprocess.run([*CELAB, "--memory-limit", "1G", "bandit", "--env", "sutton-barto",
                           "--env-arg", "n_arms=100000000", "--horizon", "100", "--runs", "2",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "sutton-barto: 5 agents x 2 runs x 100000000 arms" in proc.stderr
    assert "more than the memory limit of 1.0 GiB" in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("limit, code", [("100M", 2), ("1G", 0)])
def test_arms_enter_the_estimate(tmp_path, limit, code):
    """A million arms, one agent, two runs: each thread's state alone is 80 MB (the results
    are 32 MB), so 100 MB is refused and 1 GB is enough."""
    out = tmp_path / "o"
    proc = subprocess.run([*CELAB, "--memory-limit", limit, "bandit", "--env", "sutton-barto",
                           "--env-arg", "n_arms=1000000", "--horizon", "20", "--runs", "2",
                           "--algos", "ucb", "--no-plots", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, NUMBA_NUM_THREADS="2"))
    assert proc.returncode == code, proc.stderr
    assert out.exists() == (code == 0)
    if code == 2:
        assert proc.stderr.count("\n") == 1 and "simulating on 2 threads" in proc.stderr


def test_two_level_means_are_checked_before_they_are_built(monkeypatch):
    monkeypatch.setenv("CELAB_MEMORY_LIMIT", "1G")
    with pytest.raises(memory.MemoryLimitError, match="two-level with 1000000000 arms"):
        bandits.envs.make("two-level", n_arms=10**9)

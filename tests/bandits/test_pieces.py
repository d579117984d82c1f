"""The agents' typed pieces behind the loop's hooks: records, footprints, the stop flag."""

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import bandits
from bandits import _kernels as K
from bandits._agents.hooks import HOOKS, footprint, init, shared
from bandits.agents import REGISTRY
from tracking import memory
from tracking.batching import STOP_EVERY
from tracking.rng import run_seeds

BERNOULLI = bandits.Bernoulli([0.2, 0.5, 0.45], name="b3")
GAUSSIAN = bandits.Gaussian([0.1, 0.4, -0.2], sigma=0.7, name="g3")
TESTBED = bandits.envs.RandomTestbed(n_arms=3)

# hyperparameters written as integers (as an experiment file may): the record must not change
# type, or numba would compile (and cache) another loop for the same agent
AS_INTEGERS = {"greedy": {"q0": 1}, "epsilon-greedy": {"epsilon": 1, "q0": -1},
               "etc": {"m": 5.0}, "ucb": {"c": 1}, "kl-ucb": {"c": 3},
               "reinforce": {"alpha": 1, "entropy": 1, "bonus": 2},
               "rloo": {"group": 4.0, "alpha": 1, "bonus": 1},
               "grpo": {"group": 4.0, "clip": 1, "epochs": 2.0, "kl": 1, "alpha": 1},
               "ppo": {"group": 4.0, "clip": 1, "epochs": 2.0, "alpha": 1, "alpha_v": 1},
               "actor-critic": {"alpha": 1, "alpha_v": 1, "bonus": 1},
               "npg": {"alpha": 1, "bonus": 1}, "pg-exact": {"alpha": 1}}


def _field_types(record):
    return type(record), tuple(type(v) for v in record)


@pytest.mark.nojit
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_agent_has_its_pieces_on_both_families(name):
    agent = REGISTRY[name]()
    for env in (BERNOULLI, GAUSSIAN, TESTBED):
        record = agent.params(env)
        assert all(type(record) in stub.hook.impls for stub in HOOKS.values()), (name, env)
    assert _field_types(agent.params(GAUSSIAN)) == _field_types(agent.params(TESTBED))
    # Bernoulli and Gaussian arms need different kernels exactly for these two agents
    differs = type(agent.params(BERNOULLI)) is not type(agent.params(GAUSSIAN))
    assert differs == (name in ("kl-ucb", "thompson"))


@pytest.mark.nojit
@pytest.mark.parametrize("name", sorted(AS_INTEGERS))
def test_record_types_do_not_depend_on_how_numbers_are_written(name):
    default = REGISTRY[name]().params(BERNOULLI)
    written = REGISTRY[name](**AS_INTEGERS[name]).params(BERNOULLI)
    assert _field_types(written) == _field_types(default)
    assert written != default


@pytest.mark.parametrize("name", sorted(REGISTRY))
@pytest.mark.parametrize("env", [BERNOULLI, GAUSSIAN], ids=["bernoulli", "gaussian"])
def test_declared_footprints_are_what_the_pieces_allocate(name, env):
    """The memory guard's numbers (bandits/loop.py) against the arrays init and shared make."""
    record = REGISTRY[name]().params(env)
    for horizon in (50, (1 << 20) + 7):  # UCB1's table stops growing at 2^20 rows
        mu = env.means.copy()
        table = shared(record, horizon)
        state = init(record, table, mu)  # may hold the table and the means: not its own
        own = [a for a in state if not (np.shares_memory(a, table) or np.shares_memory(a, mu))]
        assert footprint(record, env.n_arms, horizon) == (table.nbytes,
                                                         sum(a.nbytes for a in own))


def _call(record, horizon, runs, stop):
    means = np.ascontiguousarray(BERNOULLI.means[None, :])
    cps = np.array([1, horizon], dtype=np.int64)
    regret, greedy, behaviour = np.zeros((runs, 2)), np.zeros((runs, 2)), np.zeros((runs, 2))
    pulls = np.zeros((runs, BERNOULLI.n_arms), dtype=np.int64)
    done = K.simulate(record, BERNOULLI.kind, means, BERNOULLI.sigma, horizon,
                      run_seeds(0, runs), cps, regret, greedy, behaviour, pulls, stop)
    return done, pulls


@pytest.mark.nojit
@pytest.mark.parametrize("name", ["ucb", "thompson"])
def test_a_raised_stop_flag_ends_every_run_at_its_next_check(name):
    record = REGISTRY[name]().params(BERNOULLI)
    raised = np.ones(1, dtype=np.uint8)
    done, pulls = _call(record, STOP_EVERY + 10, 3, raised)
    assert done.dtype == np.uint8 and not done.any()
    assert np.all(pulls.sum(axis=1) == STOP_EVERY - 1)  # stopped before round STOP_EVERY
    done, pulls = _call(record, STOP_EVERY - 1, 3, raised)  # no check before the end
    assert done.all() and np.all(pulls.sum(axis=1) == STOP_EVERY - 1)
    done, _ = _call(record, STOP_EVERY + 10, 3, np.zeros(1, dtype=np.uint8))
    assert done.all()


def test_a_flag_raised_by_another_thread_stops_a_running_call():
    """A call of several seconds in a worker thread. The main thread sleeps, so that the
    worker enters the kernel, then raises the flag, which it can do only while the kernel runs
    without the GIL (nogil=True), and the call returns with every run incomplete."""
    horizon = 5 * 10**7
    record = REGISTRY["ucb"]().params(BERNOULLI)
    _call(record, 10, 2, np.zeros(1, dtype=np.uint8))  # compiled before the thread starts
    stop = np.zeros(1, dtype=np.uint8)
    out = {}
    worker = threading.Thread(target=lambda: out.update(r=_call(record, horizon, 2, stop)))
    worker.start()
    time.sleep(0.1)
    stop[0] = 1
    worker.join()
    done, pulls = out["r"]
    assert not done.any() and np.all(pulls.sum(axis=1) < horizon)


def test_memory_guard_counts_the_shared_table(monkeypatch):
    # horizon > 2^20: UCB1's table takes 16 MiB, the results a few KiB
    horizon = (1 << 20) + 1
    monkeypatch.setenv("CELAB_MEMORY_LIMIT", "8M")
    bandits.loop.BanditJob("close10", "greedy", horizon, 2)
    with pytest.raises(memory.MemoryLimitError, match="close10"):
        bandits.loop.BanditJob("close10", "ucb", horizon, 2)


_WARM_SCRIPT = """
import json, numpy as np, bandits
from bandits import _kernels as K
from tracking.rng import run_seeds
env = bandits.envs.make("linspace10")
record = bandits.agents.REGISTRY["thompson"]().params(env)
K.simulate(record, env.kind, np.array(env.means[None, :]), env.sigma, 10, run_seeds(0, 2),
           np.array([1, 10]), np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 2)),
           np.zeros((2, 10), np.int64), np.zeros(1, np.uint8))
print(json.dumps([sum(K.simulate.stats.cache_hits.values()),
                  sum(K.simulate.stats.cache_misses.values())]))
"""


@pytest.mark.slow  # compiles the loop afresh in a process of its own
def test_a_new_process_loads_the_loop_from_the_disk_cache(tmp_path):
    """The hooks must not defeat numba's cache (first-class functions and closures would): a
    second process finds the loop compiled by the first."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", _WARM_SCRIPT], env=env, check=True,
                           capture_output=True, text=True).stdout for _ in range(2)]
    assert json.loads(runs[0]) == [0, 1] and json.loads(runs[1]) == [1, 0]

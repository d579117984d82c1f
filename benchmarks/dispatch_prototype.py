"""Prototype of typed agent pieces behind one dispatch, measured against celab's bandit kernel.

celab's loops dispatched on an integer agent kind with a float[4] parameter vector; the bandit
loop now follows the design prototyped here (bandits/_kernels.py, bandits/_agents/). Each agent
has a typed parameter record and a typed state (NamedTuples of arrays) with its own ``init`` /
``select`` / ``update`` / ``deploy`` functions; the one generic loop calls four hook functions
that ``numba.extending.overload`` resolves at compile time from the parameter record's type,
so numba compiles one specialisation of the loop per agent type, and the pure-Python path
(NUMBA_DISABLE_JIT=1) dispatches the same hooks on ``type(params)``.

The script writes the prototype (UCB1, REINFORCE, Bernoulli Thompson, ported from the
integer-kind kernel with the same arithmetic and draw order) into a temporary package and
measures, for each agent:

- that its regret and simple-regret curves equal celab's kernel's bit for bit;
- cold compile: the first call in a fresh process with an empty NUMBA_CACHE_DIR;
- warm start: the first call in a second fresh process (served from the on-disk cache);
- speed: pulls per second of both kernels in one process, interleaved, after a warm-up.

    python benchmarks/dispatch_prototype.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import load, log  # noqa: E402

HOOKS = '''
from numba.extending import overload

IMPLS = {}


def register(params_cls, impl):
    IMPLS[params_cls] = impl


def _impl(params):
    return IMPLS[type(params)]


def init(params, k_arms):
    return _impl(params).init(params, k_arms)


def select(params, state, t, st):
    return _impl(params).select(params, state, t, st)


def update(params, state, a, x, t):
    return _impl(params).update(params, state, a, x, t)


def deploy(params, state, mu, best):
    return _impl(params).deploy(params, state, mu, best)


def _lookup(params):
    return IMPLS.get(getattr(params, "instance_class", None))


@overload(init)
def _ov_init(params, k_arms):
    impl = _lookup(params)
    if impl is not None:
        f = impl.init
        return lambda params, k_arms: f(params, k_arms)


@overload(select)
def _ov_select(params, state, t, st):
    impl = _lookup(params)
    if impl is not None:
        f = impl.select
        return lambda params, state, t, st: f(params, state, t, st)


@overload(update)
def _ov_update(params, state, a, x, t):
    impl = _lookup(params)
    if impl is not None:
        f = impl.update
        return lambda params, state, a, x, t: f(params, state, a, x, t)


@overload(deploy)
def _ov_deploy(params, state, mu, best):
    impl = _lookup(params)
    if impl is not None:
        f = impl.deploy
        return lambda params, state, mu, best: f(params, state, mu, best)
'''

LOOP = '''
import numpy as np
from numba import njit, prange

from tracking.rng import SALT_AGENT, SALT_REWARD, counter_uniform, new_state, stream_key

from . import agents  # noqa: F401  (registers the agents' pieces)
from .hooks import deploy, init, select, update


@njit(cache=True, nogil=True)
def one_run(params, mu, horizon, seed, checkpoints, regret, simple, counts, stop):
    k_arms = mu.shape[0]
    best = mu.max()
    keys = np.empty(k_arms, dtype=np.uint64)
    for k in range(k_arms):
        keys[k] = stream_key(seed, SALT_REWARD, k, 0)
    st = new_state(seed, SALT_AGENT)
    state = init(params, k_arms)
    counts[:] = 0
    cum = 0.0
    nxt = 0
    for t in range(1, horizon + 1):
        if (t & 4095) == 0 and stop[0] != 0:
            return False
        a = select(params, state, t, st)
        x = 1.0 if counter_uniform(keys[a], counts[a]) <= mu[a] else 0.0
        counts[a] += 1
        update(params, state, a, x, t)
        cum += best - mu[a]
        if t == checkpoints[nxt]:
            regret[nxt] = cum
            simple[nxt] = deploy(params, state, mu, best)
            nxt += 1
    return True


@njit(cache=True, parallel=True, nogil=True)
def simulate(params, means, horizon, seeds, checkpoints, regret, simple, counts, stop):
    for r in prange(seeds.shape[0]):
        one_run(params, means, horizon, seeds[r], checkpoints, regret[r], simple[r], counts[r],
                stop)
'''

AGENTS = '''
import math
from typing import NamedTuple

import numpy as np
from numba import njit

from tracking.rng import argmax_of_max, argmax_random, gamma_mt, uniform

from .hooks import register


@njit(cache=True, inline="always")
def _greedy_gap(values, counts, mu, best, all_arms):
    m = -np.inf
    acc = 0.0
    ties = 0
    for k in range(mu.shape[0]):
        if counts[k] == 0 and not all_arms:
            continue
        v = values[k]
        if v > m:
            m = v
            acc = best - mu[k]
            ties = 1
        elif v == m:
            acc += best - mu[k]
            ties += 1
    if ties == 0:
        for k in range(mu.shape[0]):
            acc += best - mu[k]
        return acc / mu.shape[0]
    return acc / ties


class UCBParams(NamedTuple):
    c: float


class UCBState(NamedTuple):
    counts: np.ndarray
    sums: np.ndarray
    est: np.ndarray
    inv_sqrt: np.ndarray
    work: np.ndarray


class UCB:
    @staticmethod
    @njit(cache=True)
    def init(params, k_arms):
        z = np.zeros
        return UCBState(z(k_arms, dtype=np.int64), z(k_arms), z(k_arms), z(k_arms), z(k_arms))

    @staticmethod
    @njit(cache=True, inline="always")
    def select(params, state, t, st):
        k_arms = state.est.shape[0]
        if t <= k_arms:
            return t - 1
        root = math.sqrt(params.c * math.log(t))
        m = -np.inf
        for k in range(k_arms):
            v = state.est[k] + root * state.inv_sqrt[k]
            state.work[k] = v
            m = v if v > m else m
        return argmax_of_max(state.work, m, st)

    @staticmethod
    @njit(cache=True, inline="always")
    def update(params, state, a, x, t):
        state.counts[a] += 1
        state.sums[a] += x
        state.est[a] = state.sums[a] / state.counts[a]
        state.inv_sqrt[a] = 1.0 / math.sqrt(state.counts[a])

    @staticmethod
    @njit(cache=True)
    def deploy(params, state, mu, best):
        return _greedy_gap(state.est, state.counts, mu, best, False)


register(UCBParams, UCB)


class ReinforceParams(NamedTuple):
    alpha: float
    baseline: bool


class ReinforceState(NamedTuple):
    h: np.ndarray
    pi: np.ndarray
    total: np.ndarray


@njit(cache=True, inline="always")
def _softmax(h, pi):
    m = h.max()
    total = 0.0
    for k in range(h.shape[0]):
        pi[k] = math.exp(h[k] - m)
        total += pi[k]
    for k in range(h.shape[0]):
        pi[k] /= total


class Reinforce:
    @staticmethod
    @njit(cache=True)
    def init(params, k_arms):
        return ReinforceState(np.zeros(k_arms), np.zeros(k_arms), np.zeros(1))

    @staticmethod
    @njit(cache=True, inline="always")
    def select(params, state, t, st):
        _softmax(state.h, state.pi)
        u = uniform(st)
        acc = 0.0
        last = state.pi.shape[0] - 1
        for k in range(last):
            acc += state.pi[k]
            if u <= acc:
                return k
        return last

    @staticmethod
    @njit(cache=True, inline="always")
    def update(params, state, a, x, t):
        b = state.total[0] / (t - 1) if (params.baseline and t > 1) else 0.0
        g = params.alpha * (x - b)
        for k in range(state.h.shape[0]):
            state.h[k] -= g * state.pi[k]
        state.h[a] += g
        state.total[0] += x

    @staticmethod
    @njit(cache=True)
    def deploy(params, state, mu, best):
        _softmax(state.h, state.pi)
        total = 0.0
        for k in range(mu.shape[0]):
            total += state.pi[k] * (best - mu[k])
        return total


register(ReinforceParams, Reinforce)


class ThompsonParams(NamedTuple):
    prior_a: float
    prior_b: float


class ThompsonState(NamedTuple):
    post: np.ndarray
    counts: np.ndarray
    sums: np.ndarray
    work: np.ndarray


@njit(cache=True, inline="always")
def _set_posterior(row, a, b):
    row[0] = a - 1.0 / 3.0
    row[1] = 1.0 / math.sqrt(9.0 * row[0])
    row[2] = b - 1.0 / 3.0
    row[3] = 1.0 / math.sqrt(9.0 * row[2])


class Thompson:
    @staticmethod
    @njit(cache=True)
    def init(params, k_arms):
        post = np.empty((k_arms, 4))
        for k in range(k_arms):
            _set_posterior(post[k], params.prior_a, params.prior_b)
        return ThompsonState(post, np.zeros(k_arms), np.zeros(k_arms), np.zeros(k_arms))

    @staticmethod
    @njit(cache=True, inline="always")
    def select(params, state, t, st):
        post = state.post
        for k in range(post.shape[0]):
            x = gamma_mt(st, post[k, 0], post[k, 1])
            y = gamma_mt(st, post[k, 2], post[k, 3])
            state.work[k] = x / (x + y)
        return argmax_random(state.work, st)

    @staticmethod
    @njit(cache=True, inline="always")
    def update(params, state, a, x, t):
        state.counts[a] += 1
        state.sums[a] += x
        _set_posterior(state.post[a], params.prior_a + state.sums[a],
                       params.prior_b + state.counts[a] - state.sums[a])

    @staticmethod
    @njit(cache=True)
    def deploy(params, state, mu, best):
        for k in range(mu.shape[0]):
            state.work[k] = (1.0 + state.sums[k]) / (2.0 + state.counts[k])
        return _greedy_gap(state.work, state.counts, mu, best, True)


register(ThompsonParams, Thompson)
'''

# Run in a fresh process: time the first call of one agent (compile or cache load).
FIRST_CALL = '''
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from proto import agents, loop
from tracking.rng import run_seeds
t1 = time.perf_counter()
params = {"ucb": agents.UCBParams(2.0), "reinforce": agents.ReinforceParams(0.1, True),
          "thompson": agents.ThompsonParams(1.0, 1.0)}[sys.argv[1]]
seeds = run_seeds(0, 4)
cps = np.array([1, 10, 100, 1000], dtype=np.int64)
z = np.zeros((4, 4))
loop.simulate(params, np.linspace(0.1, 0.9, 10), 1000, seeds, cps, z, z.copy(),
              np.zeros((4, 10), dtype=np.int64), np.zeros(1, dtype=np.uint8))
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first_call": t2 - t1}))
'''

# celab's agents for the same prototype agents, and the readout of celab's that the
# prototype's one simple regret is (the greedy policy, REINFORCE's softmax)
CELAB_AGENTS = {"ucb": ("ucb", {"c": 2.0}), "thompson": ("thompson", {}),
                "reinforce": ("reinforce", {"alpha": 0.1, "baseline": True})}
CELAB_READOUT = {"ucb": 0, "thompson": 0, "reinforce": 1}  # 0 greedy, 1 behaviour


def write_package(folder: Path) -> None:
    pkg = folder / "proto"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "hooks.py").write_text(textwrap.dedent(HOOKS))
    (pkg / "loop.py").write_text(textwrap.dedent(LOOP))
    (pkg / "agents.py").write_text(textwrap.dedent(AGENTS))


def first_call(folder: Path, cache: Path, agent: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache),
               PYTHONPATH=os.pathsep.join([str(folder), str(ROOT)]))
    out = subprocess.run([sys.executable, "-c", FIRST_CALL, agent], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller budgets")
    args = parser.parse_args(argv)
    horizon, runs, reps = (10**4, 200, 2) if args.quick else (10**5, 1000, 3)
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_package(folder)
        sys.path.insert(0, str(folder))
        from proto import agents, loop

        from bandits._kernels import simulate as celab_simulate
        from bandits.agents import REGISTRY
        from bandits.envs import Bernoulli
        from tracking.checkpoints import log_grid
        from tracking.rng import run_seeds

        params = {"ucb": agents.UCBParams(2.0), "reinforce": agents.ReinforceParams(0.1, True),
                  "thompson": agents.ThompsonParams(1.0, 1.0)}
        means = np.linspace(0.1, 0.9, 10)
        cps = log_grid(horizon)
        seeds = run_seeds(0, runs)
        print(f"# dispatch prototype: {horizon:,} rounds x {runs:,} runs, linspace10, "
              f"load {load()} at the start\n")
        print("| agent | same curves as celab's kernel | cold first call (s) | warm first "
              "call (s) | celab M pulls/s | prototype M pulls/s | prototype / celab |")
        print("|---|---|---|---|---|---|---|")
        for name, p in params.items():
            log(f"{name}: start-up in fresh processes")
            cache = folder / f"cache-{name}"
            cold = first_call(folder, cache, name)["first_call"]
            warm = first_call(folder, cache, name)["first_call"]
            agent_name, agent_args = CELAB_AGENTS[name]
            record = REGISTRY[agent_name](**agent_args).params(Bernoulli(means))
            shape = (runs, cps.size)

            def today(record=record, shape=shape, readout=CELAB_READOUT[name]):
                reg, sims = np.zeros(shape), (np.zeros(shape), np.zeros(shape))
                celab_simulate(record, 0, means[None, :], 0.5, horizon, seeds, cps, reg, *sims,
                               np.zeros((runs, 10), dtype=np.int64), np.zeros(1, np.uint8))
                return reg, sims[readout]

            def typed(p=p, shape=shape):
                reg, sim = np.zeros(shape), np.zeros(shape)
                loop.simulate(p, means, horizon, seeds, cps, reg, sim,
                              np.zeros((runs, 10), dtype=np.int64), np.zeros(1, np.uint8))
                return reg, sim

            a, b = today(), typed()  # warm-up, and the equality check
            same = np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
            times = {"today": [], "typed": []}
            for _ in range(reps):
                for key, fn in (("today", today), ("typed", typed)):
                    log(f"{name}: timing {key}")
                    t0 = time.perf_counter()
                    fn()
                    times[key].append(time.perf_counter() - t0)
            rate = {k: horizon * runs / np.median(v) / 1e6 for k, v in times.items()}
            print(f"| {name} | {'yes' if same else 'NO'} | {cold:.2f} | {warm:.2f} | "
                  f"{rate['today']:.1f} | {rate['typed']:.1f} | "
                  f"{rate['typed'] / rate['today']:.2f} |")
    print(f"\nload {load()} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

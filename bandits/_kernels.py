"""The jitted bandit loop: written once against the agents' hooks, parallel over runs.

``simulate`` runs one agent on a batch of runs. The agent is its typed parameter record
(bandits/agents.py); the loop calls the hooks ``shared``, ``init``, ``select``, ``update`` and
``deploy`` (bandits/_agents/hooks.py), which numba resolves at compile time to the pieces
registered for the record's type. numba compiles the loop once per record type and serves it
from its on-disk cache in later processes. Nothing is allocated inside the time loop: an
agent's state is allocated once per run, its shared table once per call.

Randomness (tracking/rng.py): the n-th pull of arm k in a run reads the n-th number of the
counter-based stream keyed by (run seed, k), so every agent sees the same rewards (common random
numbers); the agent's own draws come from a sequential stream keyed by the run seed alone.

Stopping: every run reads a one-byte flag every STOP_EVERY rounds (tracking.batching) and ends
when another thread has set it, reporting that it did not complete (tracking/runner.py).

numba's cache is keyed by this file: after editing the pieces in bandits/_agents/, drop the
cache (``make clean-cache``).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from tracking.batching import STOP_MASK
from tracking.jit import njit
from tracking.rng import (
    SALT_AGENT,
    SALT_REWARD,
    counter_normal,
    counter_uniform,
    new_state,
    stream_key,
)

from . import _agents  # noqa: F401  (registers every agent's pieces)
from ._agents.hooks import deploy, init, select, shared, update
from .envs import BERNOULLI


@njit(cache=True, nogil=True)
def _one_run(params, table, env_kind, mu, sigma, horizon, seed, checkpoints, regret, simple,
             counts, stop):
    """One run of one agent; writes the curves at the checkpoints and the final pull counts.

    Returns True when the run completed, False when ``stop[0]`` was set first (its arrays are
    then incomplete).
    """
    k_arms = mu.shape[0]
    best_mean = mu.max()
    # every array allocated here is counted by bandits.loop.run_state_bytes (the memory guard)
    keys = np.empty(k_arms, dtype=np.uint64)
    for k in range(k_arms):
        keys[k] = stream_key(seed, SALT_REWARD, k, 0)
    st = new_state(seed, SALT_AGENT)
    counts[:] = 0
    state = init(params, table, mu)
    cum = 0.0
    nxt = 0
    for t in range(1, horizon + 1):
        if (t & STOP_MASK) == 0 and stop[0] != 0:
            return False
        a = select(params, state, counts, t, st)
        # the reward: the counts[a]-th pull of arm a
        if env_kind == BERNOULLI:
            x = 1.0 if counter_uniform(keys[a], counts[a]) <= mu[a] else 0.0
        else:
            x = mu[a] + sigma * counter_normal(keys[a], counts[a])
        counts[a] += 1
        update(params, state, counts, a, x, t)
        cum += best_mean - mu[a]
        if t == checkpoints[nxt]:
            regret[nxt] = cum
            simple[nxt] = deploy(params, state, counts, mu, best_mean)
            nxt += 1
    return True


@njit(cache=True, parallel=True, nogil=True)
def simulate(params, env_kind, means, sigma, horizon, seeds, checkpoints, regret, simple, counts,
             stop):
    """Run the agent of record ``params`` on ``len(seeds)`` runs in parallel.

    It releases the GIL, so it can run in a worker thread while the calling program waits
    (tracking.runner.run_interruptible).

    Parameters
    ----------
    params : NamedTuple
        The agent's parameter record (``BanditAgent.params``).
    env_kind : int
        0 Bernoulli, 1 Gaussian.
    means : float64[M, K]
        Arm means; row r is run r's instance when M == len(seeds), else row 0 serves every run.
    sigma : float
        Gaussian noise scale.
    horizon : int
        Rounds per run, T.
    seeds : uint64[R]
        Run seeds.
    checkpoints : int64[C]
        Increasing rounds in 1..T, the last equal to T.
    regret, simple : float64[R, C]
        Out: cumulative pseudo-regret sum_t (mu* - mu_{A_t}) and simple regret at checkpoints.
    counts : int64[R, K]
        Out: pulls of each arm at the end of each run.
    stop : uint8[1]
        Set to 1 by another thread to stop every run within STOP_EVERY rounds.

    Returns
    -------
    uint8[R]
        1 for a run that completed, 0 for one cut short by ``stop`` (its arrays are partial).
    """
    per_run = means.shape[0] > 1
    table = shared(params, horizon)
    done = np.zeros(seeds.shape[0], dtype=np.uint8)
    for r in prange(seeds.shape[0]):
        mu = means[r] if per_run else means[0]
        done[r] = _one_run(params, table, env_kind, mu, sigma, horizon, seeds[r], checkpoints,
                           regret[r], simple[r], counts[r], stop)
    return done

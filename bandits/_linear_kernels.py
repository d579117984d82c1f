"""The jitted linear-bandit loop: written once against the linear agents' hooks, parallel over
runs.

``simulate`` runs one agent on a batch of runs; the hooks (bandits/_agents/linear.py) resolve
at compile time to the pieces of the agent's parameter record, as in the bandit loop
(bandits/_kernels.py), whose random streams it shares: the n-th pull of arm k in a run reads
the n-th normal of the counter-based stream keyed by (run seed, k), so the reward is mu_k +
sigma Z exactly as for a Gaussian arm of the bandit loop (common random numbers, with the
bandit agents too); the agent's draws come from the run's agent stream, the readouts' from the
stream of (run seed, checkpoint round).

numba's cache is keyed by this file: after editing the pieces in bandits/_agents/linear.py,
drop the cache (``make clean-cache``).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from tracking.batching import STOP_MASK
from tracking.jit import njit
from tracking.rng import (
    SALT_AGENT,
    SALT_READOUT,
    SALT_REWARD,
    counter_normal,
    new_state,
    stream_key,
)

from ._agents.linear import lin_behaviour, lin_greedy, lin_init, lin_select, lin_update


@njit(cache=True, nogil=True)
def _one_run(params, x, mu, sigma, horizon, seed, checkpoints, regret, greedy, behaviour,
             counts, stop):
    """One run of one agent on features ``x`` (K, d) with means ``mu`` (K); writes the curves
    at the checkpoints and the final pull counts. False when ``stop[0]`` was set first."""
    k_arms = mu.shape[0]
    best = mu.max()
    # every array allocated here is counted by bandits.linear.LinearJob.run_state_bytes
    keys = np.empty(k_arms, dtype=np.uint64)
    for k in range(k_arms):
        keys[k] = stream_key(seed, SALT_REWARD, k, 0)
    st = new_state(seed, SALT_AGENT)
    readout = np.empty(1, dtype=np.uint64)
    counts[:] = 0
    state = lin_init(params, x)
    cum = 0.0
    nxt = 0
    for t in range(1, horizon + 1):
        if (t & STOP_MASK) == 0 and stop[0] != 0:
            return False
        a = lin_select(params, state, x, counts, t, st)
        r = mu[a] + sigma * counter_normal(keys[a], counts[a])  # the counts[a]-th pull of a
        counts[a] += 1
        lin_update(params, state, x, counts, a, r, t)
        cum += best - mu[a]
        if t == checkpoints[nxt]:
            regret[nxt] = cum
            readout[0] = stream_key(seed, SALT_READOUT, t, 0)
            greedy[nxt] = lin_greedy(params, state, x, counts, t, mu, best, readout)
            behaviour[nxt] = lin_behaviour(params, state, x, counts, t, mu, best, readout)
            nxt += 1
    return True


@njit(cache=True, parallel=True, nogil=True)
def simulate(params, features, means, sigma, horizon, seeds, checkpoints, regret, greedy,
             behaviour, counts, stop):
    """Run the agent of record ``params`` on ``len(seeds)`` runs in parallel.

    Parameters
    ----------
    params : NamedTuple
        The agent's parameter record (``bandits.linear_agents``).
    features : float64[M, K, d]
        The arms' feature vectors; M == len(seeds): run r's instance, else M == 1 for all.
    means : float64[M, K]
        mu_k = <x_k, theta*> of the same instances.
    sigma : float
        Gaussian noise scale.
    horizon : int
        Rounds per run, T.
    seeds : uint64[R]
        Run seeds.
    checkpoints : int64[C]
        Increasing rounds in 1..T, the last equal to T.
    regret, greedy, behaviour : float64[R, C]
        Out: cumulative pseudo-regret and both readouts of simple regret at the checkpoints.
    counts : int64[R, K]
        Out: pulls of each arm at the end of each run.
    stop : uint8[1]
        Set to 1 by another thread to stop every run within STOP_EVERY rounds.

    Returns
    -------
    uint8[R]
        1 for a run that completed, 0 for one cut short by ``stop``.
    """
    per_run = means.shape[0] > 1
    done = np.zeros(seeds.shape[0], dtype=np.uint8)
    for r in prange(seeds.shape[0]):
        x = features[r] if per_run else features[0]
        mu = means[r] if per_run else means[0]
        done[r] = _one_run(params, x, mu, sigma, horizon, seeds[r], checkpoints, regret[r],
                           greedy[r], behaviour[r], counts[r], stop)
    return done

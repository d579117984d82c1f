"""The jitted continuing (average-reward, no resets) loop, parallel over runs.

``simulate`` runs one agent for T steps from a start state drawn from the start distribution,
never resetting. Time is cut into UCRL2's episodes (Jaksch, Ortner and Auer 2010): episode k
starts at step t_k and ends before the first step whose pair (s, a) has been visited during the
episode as often as max(1, N_k(s, a)), its visits before the episode (the doubling trick). At
the start of each episode the agent computes a stationary policy (``stationary_policy``, to
tolerance 1 / sqrt(max(1, t_k))) and follows it; its pieces (mdp/_pieces_model_based.py) plan
by relative value iteration (mdp/_planning_kernels.py):

* ``ucrl2``: extended value iteration over the L1 confidence sets (JOA 2010, sec. 3.1);
* ``psrl``: relative value iteration on one MDP sampled from its posterior;
* ``ce-greedy``, ``ce-optimistic``: relative value iteration on the plug-in model (plus the
  optimistic reward bonus).

Regret is pseudo-regret: sum over steps of rho* - R(s_t, a_t) with the true mean rewards. At
checkpoints the agent's two readouts are evaluated exactly on the true model, their gain from
the start distribution (mdp/_linalg_kernels.py, :func:`gain_vector`): the greedy policy of its
plug-in or posterior-mean model (``greedy_stationary``, no random draw) and the policy of an
episode that would start now (``behaviour_stationary``), both planned to tolerance
``deploy_epsilon``, ties split evenly.

Randomness is the episodic loop's: the n-th visit of (s, a) reads the n-th number of the
counter-based streams keyed by (run seed, s, a); the start state is the episodic loop's first
start state; the agent's own draws come from its sequential stream; the behaviour readout's
(PSRL's posterior sample) from the readout stream of (run seed, t) (salt SALT_READOUT).

Stopping: a run reads the flag ``stop[0]`` at every episode start, every STOP_EVERY steps
(tracking.batching), at every sweep of its value iterations, every row of PSRL's posterior
sample and every pivot of an exact gain; when another thread has set it, the run ends and
reports that it did not complete.

Numba's on-disk cache of this loop is keyed by this file: after editing an agent's pieces or a
stage in another file, drop the cache (``make clean-cache``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from tracking.batching import STOP_MASK
from tracking.jit import njit
from tracking.rng import SALT_AGENT, SALT_READOUT, new_state, stream_key

from . import _pieces_model_based  # noqa: F401  (registers the pieces)
from ._env_kernels import env_step, new_trajectory, start_average, start_state
from ._hooks import (
    behaviour_stationary,
    greedy_stationary,
    init_continuing,
    learn,
    stationary_policy,
)
from ._linalg_kernels import gain_vector, gain_work

#: Steps the loop records before handing them to the agent (it also hands them over before
#: every planning and deployment).
PENDING = 1024


@njit(cache=True, nogil=True)
def _one_run(params, model, initial, seed, checkpoints, rho_star, bernoulli, max_sweeps,
             deploy_epsilon, regret, greedy, behaviour, episodes, stop):
    """One run; True when it completed, False when ``stop[0]`` was set."""
    indptr, indices, probs, rewards = model
    n_states, n_actions = rewards.shape
    n_rows = n_states * n_actions
    steps = checkpoints[-1]
    st = new_state(seed, SALT_AGENT)
    readout = np.empty(1, dtype=np.uint64)
    visits = np.zeros(n_rows, dtype=np.int64)  # the environment's N(s, a)
    before = np.zeros(n_rows, dtype=np.int64)  # N_k(s, a): visits before the episode
    during = np.zeros(n_rows, dtype=np.int64)  # v_k(s, a): visits during the episode
    trajectory = new_trajectory(PENDING)  # the steps the agent has not learned from yet
    states, actions, slots, observed, next_states = trajectory
    pending = 0
    work = gain_work(n_states)
    g = np.zeros(n_states)
    state = init_continuing(params, model, steps, max_sweeps)
    s = start_state(np.cumsum(initial), seed, 0)
    t = 0
    cum = 0.0
    nxt = 0
    k = 0
    while t < steps:
        if stop[0] != 0:
            return False
        # a new episode: its stationary policy, from every step so far
        learn(params, state, trajectory, pending)
        pending = 0
        k += 1
        t_k = max(1.0, float(t))
        before[:] = visits
        during[:] = 0
        policy = stationary_policy(params, state, t_k, 1.0 / math.sqrt(t_k), st, stop)
        if stop[0] != 0:  # the planning was cut short
            return False
        # follow it until a pair's visits in the episode reach max(1, its visits before)
        while t < steps:
            if (t & STOP_MASK) == 0 and stop[0] != 0:
                return False
            a = policy[s]
            row = s * n_actions + a
            if during[row] >= max(1, before[row]):
                break
            slot, r = env_step(indptr, probs, rewards, bernoulli, seed, visits, s, a)
            during[row] += 1
            s_next = indices[slot]
            if pending == PENDING:
                learn(params, state, trajectory, pending)
                pending = 0
            states[pending] = s
            actions[pending] = a
            slots[pending] = slot
            observed[pending] = r
            next_states[pending] = s_next
            pending += 1
            cum += rho_star - rewards[s, a]
            s = s_next
            t += 1
            if t == checkpoints[nxt]:
                regret[nxt] = cum
                episodes[nxt] = k
                # the two readouts (they leave the episode's policy alone)
                learn(params, state, trajectory, pending)
                pending = 0
                deployed = greedy_stationary(params, state, deploy_epsilon, stop)
                if stop[0] != 0:
                    return False
                if not gain_vector(indptr, indices, probs, rewards, deployed, work, g, stop):
                    return False
                greedy[nxt] = rho_star - start_average(initial, g)
                readout[0] = stream_key(seed, SALT_READOUT, t, 0)
                deployed = behaviour_stationary(params, state, float(t), deploy_epsilon, readout,
                                                stop)
                if stop[0] != 0:
                    return False
                if not gain_vector(indptr, indices, probs, rewards, deployed, work, g, stop):
                    return False
                behaviour[nxt] = rho_star - start_average(initial, g)
                nxt += 1
    return True


@njit(cache=True, parallel=True, nogil=True)
def simulate(params, model, initial, seeds, checkpoints, rho_star, bernoulli, max_sweeps,
             deploy_epsilon, regret, greedy, behaviour, episodes, stop):
    """Run the agent of ``params`` for T = checkpoints[-1] steps without resets on each run.

    Parameters
    ----------
    params : NamedTuple
        The agent's parameter record (``MDPAgent.params()``): ce-greedy, ce-optimistic, psrl or
        ucrl2.
    model : Tabular
        The true model (mdp/_env_kernels.py), its ``indices`` complete.
    initial : float64[S]
        Start distribution (one start state per run).
    seeds : uint64[runs]
        Run seeds.
    checkpoints : int64[C]
        Increasing steps in 1..T, the last equal to T.
    rho_star : float
        Optimal gain of the true model.
    bernoulli : bool
        Observed rewards Bernoulli(R[s, a]) instead of R[s, a].
    max_sweeps : int
        Cap on the sweeps of every value iteration.
    deploy_epsilon : float
        Span tolerance of the value iterations of both readouts.
    regret, greedy, behaviour : float64[runs, C]
        Out: cumulative pseudo-regret sum_t (rho* - R(s_t, a_t)) and the simple regret
        rho* - gain from the start distribution of the greedy and the behaviour readout, at the
        checkpoints.
    episodes : int64[runs, C]
        Out: the number of the episode in progress at each checkpoint (from 1).
    stop : uint8[1]
        Set to 1 by another thread to stop every run within STOP_EVERY steps or one sweep.

    Returns
    -------
    uint8[runs]
        1 for a run that completed, 0 for one cut short by ``stop`` (its arrays are partial).

    It releases the GIL, so it can run in a worker thread while the calling one waits.
    """
    done = np.zeros(seeds.shape[0], dtype=np.uint8)
    for r in prange(seeds.shape[0]):
        done[r] = _one_run(params, model, initial, seeds[r], checkpoints, rho_star, bernoulli,
                           max_sweeps, deploy_epsilon, regret[r], greedy[r], behaviour[r],
                           episodes[r], stop)
    return done

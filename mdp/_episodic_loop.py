"""The jitted episodic loop: one definition for every MDP agent, parallel over runs.

``simulate`` runs one agent for K episodes of H steps on a batch of runs. The agent is its
typed parameter record (mdp/agents.py); numba compiles the loop once per record type, each
hook (mdp/_hooks.py) resolved to that agent's pieces (mdp/_pieces_*.py). Each episode:

1. the agent fixes its policy for the episode (``episode_policy``);
2. with exact regret, the episode's regret V*_0(initial) - V^pi_0(initial) is computed exactly
   by policy evaluation on the true model;
3. the episode is simulated (mdp/_env_kernels.py) and the agent learns from its steps
   (``learn``; the episode's actions depend on its policy only, so handing the steps over at
   the end is learning from every step); with sampled regret, the episode's regret is
   V*_0(initial) - G, G the sum of the rewards observed in the episode (in step order), and
   the policy is never evaluated: an episode then costs what the agent's own policy and
   update cost;
4. at checkpoints, the simple regret of its two readouts is computed exactly: the greedy
   policy of what it has learned (``greedy_policy``), then the policy it would act with in the
   next episode (``behaviour_policy``).

The agent's own draws (ties, posterior samples, softmax actions) come from the run's
sequential agent stream, in this order; the environment's from the counter-based streams; the
behaviour readout's (PSRL's posterior sample) from the readout stream of (run seed, k), k the
episodes done (salt SALT_READOUT), so recording never changes what the agent does next.

Stopping: a run reads the flag ``stop[0]`` at the start of every episode, every STOP_EVERY
steps of an episode (tracking.batching), every 16 steps of its plans and evaluations, every
row of PSRL's posterior sample and after the episode's policy (so that a plan cut short is
never evaluated or acted with); when another thread has set it, the run ends there and reports
that it did not complete.

Numba's on-disk cache of this loop is keyed by this file: after editing an agent's pieces or a
stage in another file, drop the cache (``make clean-cache``).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from tracking.batching import STOP_MASK
from tracking.jit import njit
from tracking.rng import SALT_AGENT, SALT_READOUT, new_state, stream_key

from . import (  # noqa: F401  (register the pieces)
    _pieces_model_based,
    _pieces_model_free,
    _pieces_policy_gradient,
)
from ._env_kernels import Tabular, env_step, new_trajectory, start_average, start_state
from ._hooks import behaviour_policy, episode_policy, greedy_policy, init_episodic, learn
from ._planning_kernels import act, evaluate_policy


@njit(cache=True, nogil=True)
def _one_run(params, model, initial, horizon, episodes, seed, checkpoints, v_star, bernoulli,
             sampled, regret, greedy, behaviour, stop):
    """One run; True when it completed, False when ``stop[0]`` was set."""
    indptr, indices, probs, rewards = model
    n_states, n_actions = rewards.shape
    st = new_state(seed, SALT_AGENT)
    readout = np.empty(1, dtype=np.uint64)
    cdf = np.cumsum(initial)
    visits = np.zeros(n_states * n_actions, dtype=np.int64)  # the environment's N(s, a)
    values = np.zeros((2, n_states))  # V_h of the evaluations, the last two (V_0 in row 0)
    trajectory = new_trajectory(horizon)
    states, actions, slots, observed, next_states = trajectory
    state = init_episodic(params, model, horizon, episodes)
    cum = 0.0
    nxt = 0
    for k in range(episodes):
        if stop[0] != 0:
            return False
        # 1. the episode's policy
        policy = episode_policy(params, state, k, st, stop)
        if stop[0] != 0:  # a plan cut short is never evaluated or acted with
            return False
        # 2. its regret, exactly
        if not sampled:
            if not evaluate_policy(policy, model, values, stop):
                return False
            cum += v_star - start_average(initial, values[0])
        # 3. the episode, then the agent learns from it
        s = start_state(cdf, seed, k)
        ret = 0.0
        for h in range(horizon):
            if (h & STOP_MASK) == STOP_MASK and stop[0] != 0:
                return False
            a = act(policy, h, s, st)
            slot, r = env_step(indptr, probs, rewards, bernoulli, seed, visits, s, a)
            s_next = indices[slot]
            states[h] = s
            actions[h] = a
            slots[h] = slot
            observed[h] = r
            next_states[h] = s_next
            ret += r
            s = s_next
        if sampled:
            cum += v_star - ret
        learn(params, state, trajectory, horizon)
        # 4. checkpoint: the two readouts
        if k + 1 == checkpoints[nxt]:
            regret[nxt] = cum
            if not evaluate_policy(greedy_policy(params, state, stop), model, values, stop):
                return False
            greedy[nxt] = v_star - start_average(initial, values[0])
            readout[0] = stream_key(seed, SALT_READOUT, k + 1, 0)
            if not evaluate_policy(behaviour_policy(params, state, k + 1, readout, stop), model,
                                   values, stop):
                return False
            behaviour[nxt] = v_star - start_average(initial, values[0])
            nxt += 1
    return True


@njit(cache=True, parallel=True, nogil=True)
def simulate(params, model, initial, horizon, episodes, seeds, checkpoints, v_star, bernoulli,
             sampled, regret, greedy, behaviour, stop):
    """Run the agent of ``params`` for ``episodes`` episodes of ``horizon`` steps on each run.

    Parameters
    ----------
    params : NamedTuple
        The agent's parameter record (``MDPAgent.params()``).
    model : Tabular
        The true model (mdp/_env_kernels.py), its ``indices`` complete.
    initial : float64[S]
        Start distribution.
    horizon, episodes : int
        H and K.
    seeds : uint64[runs]
        Run seeds.
    checkpoints : int64[C]
        Increasing episodes in 1..K, the last equal to K.
    v_star : float
        V*_0(initial) of the true model for horizon H.
    bernoulli : bool
        Observed rewards Bernoulli(R[s, a]) instead of R[s, a].
    sampled : bool
        Each episode's regret is V* - G_k, G_k the episode's realised return, instead of
        V* - V^{pi_k} (exact): the per-episode policy evaluation is skipped.
    regret, greedy, behaviour : float64[runs, C]
        Out: cumulative regret sum_k (V* - V^{pi_k}), or sum_k (V* - G_k) when ``sampled``,
        and the simple regret V* - V^pi of the greedy and the behaviour readout (exact in both
        modes), at the checkpoints.
    stop : uint8[1]
        Set to 1 by another thread to stop every run within milliseconds.

    Returns
    -------
    uint8[runs]
        1 for a run that completed, 0 for one cut short by ``stop`` (its arrays are partial).

    It releases the GIL, so it can run in a worker thread while the calling one waits.
    """
    done = np.zeros(seeds.shape[0], dtype=np.uint8)
    for r in prange(seeds.shape[0]):
        done[r] = _one_run(params, model, initial, horizon, episodes, seeds[r], checkpoints,
                           v_star, bernoulli, sampled, regret[r], greedy[r], behaviour[r], stop)
    return done


@njit(cache=True, parallel=True, nogil=True)
def simulate_instances(params, indptr, indices, probs, rewards, initial, horizon, episodes,
                       seeds, checkpoints, v_star, bernoulli, sampled, regret, greedy,
                       behaviour, stop):
    """:func:`simulate` with an instance per run: run r on the model of row r of the stacked
    arrays, with its own V*.

    ``indptr`` (runs, S A + 1), ``indices`` and ``probs`` (runs, nnz), ``rewards`` (runs, S, A),
    ``initial`` (runs, S) and ``v_star`` (runs,) hold the instances (of one family: the same S,
    A and nnz); the other arguments are :func:`simulate`'s. Run r computes exactly what
    :func:`simulate` computes for a batch of that one run on its instance.
    """
    done = np.zeros(seeds.shape[0], dtype=np.uint8)
    for r in prange(seeds.shape[0]):
        model = Tabular(indptr[r], indices[r], probs[r], rewards[r])
        done[r] = _one_run(params, model, initial[r], horizon, episodes, seeds[r], checkpoints,
                           v_star[r], bernoulli, sampled, regret[r], greedy[r], behaviour[r],
                           stop)
    return done

"""Kernel pieces of the model-based agents: ce-greedy, ce-optimistic, ce-dither, ucrl2, psrl.

Each agent counts its observations (:class:`~mdp._estimation_kernels.Counts`) and plans on a
model of them (mdp/_planning_kernels.py): backward induction in the episodic loop, relative
value iteration in the continuing one. Its state holds the counts, the constants of its model
and a *plan*, the arrays it plans into: :class:`Horizon` (episodic) or :class:`Stationary`
(continuing). The same functions serve both loops wherever only the counts matter.

Rewards: psrl's Beta posterior lives on [0, 1], so psrl stores rewards mapped from the known
reward range [r_lo, r_hi] = [min(0, min R), max(1, max R)] by r -> (r - r_lo) / r_scale
(r_scale = r_hi - r_lo; the identity when R lies in [0, 1]); the others store them as observed.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from tracking.dispatch import register
from tracking.jit import njit
from tracking.rng import argmax_random, uniform

from . import _hooks as hooks
from ._env_kernels import DenseTabular
from ._estimation_kernels import Counts, new_counts, observe, sample_posterior
from ._planning_kernels import (
    Deterministic,
    EvenTies,
    Optimistic,
    PlugIn,
    PosteriorMean,
    RandomTies,
    Stochastic,
    act,
    backward_induction,
    evaluate_policy,
    evaluate_probs,
    even_ties,
    invert,
    relative_value_iteration,
    ucrl2_constants,
)
from .agents import CEDitherParams, CEGreedyParams, CEOptimisticParams, PSRLParams, UCRL2Params

#: Weight of the aperiodicity transform P' = tau I + (1 - tau) P in the agents' relative value
#: iteration (mdp.solvers.RVI_TAU).
TAU = 0.5
#: Relative value iteration also stops once d = T'w - w changes by less than STALL * epsilon
#: in a sweep: d has converged, to a gain vector that is not constant (a multichain model).
STALL = 1e-3


# --- what a model-based agent plans into ------------------------------------------------------


class Horizon(NamedTuple):
    """Episodic planning: the last two V_h (2, S), Q_h (H, S, A) (the deployed policy's
    probabilities replace them in place), a row of scratch (A,) and the episode's policy actions
    (H, S)."""

    values: np.ndarray
    q: np.ndarray
    row: np.ndarray
    actions: np.ndarray


class Stationary(NamedTuple):
    """Continuing planning: relative value iteration's vectors w, u, v, d (S,), its action
    values q (S, A), a row of scratch (A,), the episode's policy actions (S,), the deployed
    policy probs (S, A) and the cap on sweeps."""

    w: np.ndarray
    u: np.ndarray
    v: np.ndarray
    d: np.ndarray
    q: np.ndarray
    row: np.ndarray
    actions: np.ndarray
    probs: np.ndarray
    max_sweeps: int


@njit(cache=True, inline="always")
def _horizon(n_states, n_actions, horizon):
    # Q_h and the actions are written before they are read: left uninitialised, so that a run
    # with a huge horizon does not spend seconds zeroing them before it can be stopped
    return Horizon(np.zeros((2, n_states)), np.empty((horizon, n_states, n_actions)),
                   np.zeros(n_actions), np.empty((horizon, n_states), dtype=np.int64))


@njit(cache=True, inline="always")
def _stationary(n_states, n_actions, max_sweeps):
    z = np.zeros((4, n_states))
    return Stationary(z[0], z[1], z[2], z[3], np.zeros((n_states, n_actions)),
                      np.zeros(n_actions), np.zeros(n_states, dtype=np.int64),
                      np.zeros((n_states, n_actions)), max_sweeps)


@njit(cache=True, inline="always")
def _reward_range(rewards):
    """(r_lo, r_hi) = (min(0, min R), max(1, max R))."""
    return min(0.0, rewards.min()), max(1.0, rewards.max())


@njit(cache=True, inline="always")
def _plan_episode(model, plan, st, stop):
    """Greedy backward induction on ``model``, random ties: the episode's policy."""
    backward_induction(model, plan.actions.shape[0], RandomTies(st, plan.actions, plan.row),
                       plan.values, plan.q, stop)
    return Deterministic(plan.actions)


@njit(cache=True, inline="always")
def _plan_deployed(model, plan, stop):
    """Backward induction on ``model``, ties split evenly: the deployed policy (in ``plan.q``)."""
    backward_induction(model, plan.actions.shape[0], EvenTies(plan.q), plan.values, plan.q,
                       stop)
    return Stochastic(plan.q)


@njit(cache=True, inline="always")
def _plan_stationary(model, tau, stall, epsilon, plan, st, stop):
    """Relative value iteration on ``model``, then greedy in its q with random ties."""
    w, u, v, d, q, row, actions, probs, max_sweeps = plan
    relative_value_iteration(model, tau, epsilon, stall, 0.0, max_sweeps, w, u, v, d, q, stop)
    n_states, n_actions = q.shape
    for s in range(n_states):
        for a in range(n_actions):
            row[a] = q[s, a]
        actions[s] = argmax_random(row, st)
    return actions


@njit(cache=True, inline="always")
def _deploy_stationary(model, tau, stall, epsilon, plan, stop):
    """Relative value iteration on ``model``, then greedy in its q with ties split evenly (in
    ``plan.probs``; the episode's policy actions are left alone)."""
    w, u, v, d, q, _, _, probs, max_sweeps = plan
    relative_value_iteration(model, tau, epsilon, stall, 0.0, max_sweeps, w, u, v, d, q, stop)
    for s in range(q.shape[0]):
        even_ties(q[s], probs[s])
    return probs


@njit(cache=True, inline="always")
def _learn_counts(params, state, trajectory, n):
    """Count the transitions, rewards as observed."""
    states, actions, slots, rewards, _ = trajectory
    n_actions = state.plan.q.shape[-1]
    counts = state.counts
    for i in range(n):
        observe(counts, states[i] * n_actions + actions[i], slots[i], rewards[i])


@njit(cache=True, inline="always")
def _deploy_plug_in(params, state, stop):
    return _plan_deployed(PlugIn(state.counts, 0.0), state.plan, stop)


@njit(cache=True, inline="always")
def _deploy_plug_in_stationary(params, state, epsilon, stop):
    return _deploy_stationary(PlugIn(state.counts, 0.0), TAU, STALL * epsilon, epsilon,
                              state.plan, stop)


# --- ce-greedy and ce-optimistic: the plug-in model, plus an optional bonus -------------------


class CEState(NamedTuple):
    """Counts, the bonus b of b / sqrt(max(1, N)) (0 for ce-greedy) and the plan."""

    counts: Counts
    bonus: float
    plan: tuple


@njit(cache=True, inline="always")
def _ce_greedy_init(params, model, horizon, episodes):
    n_states, n_actions = model.rewards.shape
    return CEState(new_counts(model.indptr, model.indices), 0.0,
                   _horizon(n_states, n_actions, horizon))


@njit(cache=True, inline="always")
def _ce_optimistic_init(params, model, horizon, episodes):
    """b = c H sqrt(ln(S A H K / delta))."""
    n_states, n_actions = model.rewards.shape
    log_term = math.log(n_states * n_actions * horizon * episodes / params.delta)
    bonus = params.c * horizon * math.sqrt(log_term)
    return CEState(new_counts(model.indptr, model.indices), bonus,
                   _horizon(n_states, n_actions, horizon))


@njit(cache=True, inline="always")
def _ce_greedy_init_continuing(params, model, steps, max_sweeps):
    n_states, n_actions = model.rewards.shape
    return CEState(new_counts(model.indptr, model.indices), 0.0,
                   _stationary(n_states, n_actions, max_sweeps))


@njit(cache=True, inline="always")
def _ce_optimistic_init_continuing(params, model, steps, max_sweeps):
    """b = c sqrt(ln(S A T / delta))."""
    n_states, n_actions = model.rewards.shape
    bonus = params.c * math.sqrt(math.log(n_states * n_actions * steps / params.delta))
    return CEState(new_counts(model.indptr, model.indices), bonus,
                   _stationary(n_states, n_actions, max_sweeps))


@njit(cache=True, inline="always")
def _ce_episode_policy(params, state, k, st, stop):
    return _plan_episode(PlugIn(state.counts, state.bonus), state.plan, st, stop)


@njit(cache=True, inline="always")
def _ce_stationary_policy(params, state, t, epsilon, st, stop):
    return _plan_stationary(PlugIn(state.counts, state.bonus), TAU, STALL * epsilon, epsilon,
                            state.plan, st, stop)


@njit(cache=True, inline="always")
def _ce_behaviour(params, state, k, readout, stop):
    """Backward induction on the plug-in model with the bonus, ties split evenly (ce-greedy's
    bonus is 0: its greedy readout)."""
    return _plan_deployed(PlugIn(state.counts, state.bonus), state.plan, stop)


@njit(cache=True, inline="always")
def _ce_behaviour_stationary(params, state, t, epsilon, readout, stop):
    return _deploy_stationary(PlugIn(state.counts, state.bonus), TAU, STALL * epsilon, epsilon,
                              state.plan, stop)


# --- ce-dither: the plug-in plan, mixed with the uniform policy -------------------------------


@njit(cache=True, inline="always")
def _dither_rate(params, k):
    """eps_k of episode k (0-based): epsilon, or epsilon / sqrt(k + 1) with the sqrt decay."""
    return params.epsilon / math.sqrt(k + 1.0) if params.sqrt_decay else params.epsilon


@njit(cache=True, inline="always")
def _mix_uniform(probs, eps):
    """probs <- (1 - eps) probs + eps / A, in place, row by row."""
    n_actions = probs.shape[-1]
    share = eps / n_actions
    for h in range(probs.shape[0]):
        for s in range(probs.shape[1]):
            for a in range(n_actions):
                probs[h, s, a] = (1.0 - eps) * probs[h, s, a] + share


class Dithered(NamedTuple):
    """The plan ``actions`` (H, S) mixed with the uniform policy: (1 - eps) onehot(actions[h,
    s]) + eps / A at every (h, s), each row written into ``probs`` (H, S, A) where it is
    needed: ``act`` writes the visited row and draws from it, ``evaluate_policy`` writes every
    row, then evaluates that :class:`Stochastic` policy."""

    actions: np.ndarray
    eps: float
    probs: np.ndarray


@njit(cache=True, inline="always")
def _dither_row(policy, h, s):
    """probs[h, s, a] = (1 - eps) onehot + eps / A, the onehot of actions[h, s]."""
    probs, eps = policy.probs, policy.eps
    share = eps / probs.shape[2]
    best = policy.actions[h, s]
    for a in range(probs.shape[2]):
        probs[h, s, a] = (1.0 - eps) * (1.0 if a == best else 0.0) + share


@njit(cache=True, inline="always")
def _act_dithered(policy, h, s, st):
    _dither_row(policy, h, s)
    return invert(policy.probs, h, s, uniform(st))


@njit(cache=True, inline="always")
def _evaluate_dithered(policy, model, values, stop):
    for h in range(policy.probs.shape[0]):
        for s in range(policy.probs.shape[1]):
            _dither_row(policy, h, s)
    return evaluate_probs(model, policy.probs, values, stop)


register(act, Dithered, _act_dithered)
register(evaluate_policy, Dithered, _evaluate_dithered)


@njit(cache=True, inline="always")
def _dither_episode_policy(params, state, k, st, stop):
    """ce-greedy's plan (random ties) mixed with the uniform policy, its rows written over Q_h
    (plan.q) where they are needed."""
    plan = state.plan
    actions = _plan_episode(PlugIn(state.counts, 0.0), plan, st, stop).actions
    return Dithered(actions, _dither_rate(params, k), plan.q)


@njit(cache=True, inline="always")
def _dither_behaviour(params, state, k, readout, stop):
    """The policy of episode k: the plug-in plan with ties split evenly, mixed."""
    policy = _plan_deployed(PlugIn(state.counts, 0.0), state.plan, stop)
    _mix_uniform(policy.probs, _dither_rate(params, k))
    return policy


# --- ucrl2: optimism over L1 confidence sets ------------------------------------------------


class UCRL2State(NamedTuple):
    """Counts, the reward scale and ceiling, the extended model's scratch (a row, and the
    order of states its sorts carry from episode to episode), a copy of that order for the
    behaviour readout (which leaves the agent's own alone) and the plan."""

    counts: Counts
    r_scale: float
    r_hi: float
    row: np.ndarray
    order: np.ndarray
    readout_order: np.ndarray
    plan: tuple


@njit(cache=True, inline="always")
def _ucrl2_state(model, plan):
    n_states = model.rewards.shape[0]
    r_lo, r_hi = _reward_range(model.rewards)
    return UCRL2State(new_counts(model.indptr, model.indices), r_hi - r_lo, r_hi,
                      np.zeros(n_states), np.arange(n_states), np.arange(n_states), plan)


@njit(cache=True, inline="always")
def _ucrl2_init(params, model, horizon, episodes):
    n_states, n_actions = model.rewards.shape
    return _ucrl2_state(model, _horizon(n_states, n_actions, horizon))


@njit(cache=True, inline="always")
def _ucrl2_init_continuing(params, model, steps, max_sweeps):
    n_states, n_actions = model.rewards.shape
    return _ucrl2_state(model, _stationary(n_states, n_actions, max_sweeps))


@njit(cache=True, inline="always")
def _ucrl2_model(params, state, t, order):
    """The extended model at time t (t_k, the steps before the episode), sorting ``order``."""
    n_states, n_actions = state.plan.q.shape[-2], state.plan.q.shape[-1]
    c_p, c_r = ucrl2_constants(n_states, n_actions, t, params.delta)
    return Optimistic(state.counts, c_p, c_r, state.r_scale, state.r_hi, state.row, order)


@njit(cache=True, inline="always")
def _ucrl2_readout_model(params, state, t):
    """The extended model at time t on a copy of the agent's order of states."""
    state.readout_order[:] = state.order
    return _ucrl2_model(params, state, t, state.readout_order)


@njit(cache=True, inline="always")
def _ucrl2_episode_policy(params, state, k, st, stop):
    t = float(k * state.plan.actions.shape[0])
    return _plan_episode(_ucrl2_model(params, state, t, state.order), state.plan, st, stop)


@njit(cache=True, inline="always")
def _ucrl2_stationary_policy(params, state, t, epsilon, st, stop):
    """Extended value iteration: relative value iteration with tau = 0, no stall test."""
    return _plan_stationary(_ucrl2_model(params, state, t, state.order), 0.0, 0.0, epsilon,
                            state.plan, st, stop)


@njit(cache=True, inline="always")
def _ucrl2_behaviour(params, state, k, readout, stop):
    """Episode k's extended model (t = k H), ties split evenly."""
    t = float(k * state.plan.actions.shape[0])
    return _plan_deployed(_ucrl2_readout_model(params, state, t), state.plan, stop)


@njit(cache=True, inline="always")
def _ucrl2_behaviour_stationary(params, state, t, epsilon, readout, stop):
    return _deploy_stationary(_ucrl2_readout_model(params, state, t), 0.0, 0.0, epsilon,
                              state.plan, stop)


# --- psrl: posterior sampling --------------------------------------------------------------


class PSRLState(NamedTuple):
    """Counts (rewards mapped to [0, 1]), the reward range, the sampled model and the plan."""

    counts: Counts
    r_lo: float
    r_scale: float
    inv_scale: float
    sample: DenseTabular
    plan: tuple


@njit(cache=True, inline="always")
def _psrl_state(model, plan):
    n_states, n_actions = model.rewards.shape
    n_rows = n_states * n_actions
    r_lo, r_hi = _reward_range(model.rewards)
    r_scale = r_hi - r_lo
    sample = DenseTabular(np.zeros(n_rows * n_states), np.zeros((n_states, n_actions)))
    return PSRLState(new_counts(model.indptr, model.indices), r_lo, r_scale, 1.0 / r_scale,
                     sample, plan)


@njit(cache=True, inline="always")
def _psrl_init(params, model, horizon, episodes):
    n_states, n_actions = model.rewards.shape
    return _psrl_state(model, _horizon(n_states, n_actions, horizon))


@njit(cache=True, inline="always")
def _psrl_init_continuing(params, model, steps, max_sweeps):
    n_states, n_actions = model.rewards.shape
    return _psrl_state(model, _stationary(n_states, n_actions, max_sweeps))


@njit(cache=True, inline="always")
def _psrl_learn(params, state, trajectory, n):
    """Count the transitions, rewards mapped to [0, 1]."""
    states, actions, slots, rewards, _ = trajectory
    n_actions = state.plan.q.shape[-1]
    counts, r_lo, inv_scale = state.counts, state.r_lo, state.inv_scale
    for i in range(n):
        observe(counts, states[i] * n_actions + actions[i], slots[i],
                (rewards[i] - r_lo) * inv_scale)


@njit(cache=True, inline="always")
def _psrl_draw(state, st, stop):
    sample_posterior(state.counts, state.r_lo, state.r_scale, st, state.sample, stop)
    return state.sample


@njit(cache=True, inline="always")
def _psrl_posterior_mean(state):
    return PosteriorMean(state.counts, state.r_lo, state.r_scale)


@njit(cache=True, inline="always")
def _psrl_episode_policy(params, state, k, st, stop):
    return _plan_episode(_psrl_draw(state, st, stop), state.plan, st, stop)


@njit(cache=True, inline="always")
def _psrl_stationary_policy(params, state, t, epsilon, st, stop):
    return _plan_stationary(_psrl_draw(state, st, stop), TAU, STALL * epsilon, epsilon,
                            state.plan, st, stop)


@njit(cache=True, inline="always")
def _psrl_deploy(params, state, stop):
    return _plan_deployed(_psrl_posterior_mean(state), state.plan, stop)


@njit(cache=True, inline="always")
def _psrl_deploy_stationary(params, state, epsilon, stop):
    return _deploy_stationary(_psrl_posterior_mean(state), TAU, STALL * epsilon, epsilon,
                              state.plan, stop)


@njit(cache=True, inline="always")
def _psrl_behaviour(params, state, k, readout, stop):
    """One posterior sample drawn from the readout stream (into the sample the next episode
    redraws), ties split evenly."""
    return _plan_deployed(_psrl_draw(state, readout, stop), state.plan, stop)


@njit(cache=True, inline="always")
def _psrl_behaviour_stationary(params, state, t, epsilon, readout, stop):
    return _deploy_stationary(_psrl_draw(state, readout, stop), TAU, STALL * epsilon, epsilon,
                              state.plan, stop)


# --- registration ----------------------------------------------------------------------------


def _counts_words(n_states, n_actions, nnz):
    """Counts: transitions (nnz), visits and reward sums (S A each)."""
    return nnz + 2.0 * n_states * n_actions


def _horizon_words(n_states, n_actions, horizon):
    """:class:`Horizon`: two rows of values (S each), Q_h (H, S, A), a row (A), the actions
    (H, S)."""
    return 2.0 * n_states + float(horizon) * n_states * n_actions + n_actions \
        + float(horizon) * n_states


def _stationary_words(n_states, n_actions):
    """:class:`Stationary`: w, u, v, d and the actions (S each), q and the probs (S A each), a
    row (A)."""
    return 5.0 * n_states + 2.0 * n_states * n_actions + n_actions


def _register(cls, *, init, episode_policy, learn, greedy, behaviour, init_continuing,
              stationary_policy, greedy_stationary, behaviour_stationary, extra_words) -> None:
    """Register a model-based agent's pieces for both loops, and its footprints: the counts,
    the plan and ``extra_words(n_states, n_actions)`` of its own."""
    hooks.register_footprint(cls, "episodic", lambda p, s, a, nnz, h: _counts_words(s, a, nnz)
                             + _horizon_words(s, a, h) + extra_words(s, a))
    hooks.register_footprint(cls, "continuing", lambda p, s, a, nnz, h: _counts_words(s, a, nnz)
                             + _stationary_words(s, a) + extra_words(s, a))
    register(hooks.init_episodic, cls, init)
    register(hooks.episode_policy, cls, episode_policy)
    register(hooks.learn, cls, learn)
    register(hooks.greedy_policy, cls, greedy)
    register(hooks.behaviour_policy, cls, behaviour)
    register(hooks.init_continuing, cls, init_continuing)
    register(hooks.stationary_policy, cls, stationary_policy)
    register(hooks.greedy_stationary, cls, greedy_stationary)
    register(hooks.behaviour_stationary, cls, behaviour_stationary)


_register(CEGreedyParams, init=_ce_greedy_init, episode_policy=_ce_episode_policy,
          learn=_learn_counts, greedy=_deploy_plug_in, behaviour=_ce_behaviour,
          init_continuing=_ce_greedy_init_continuing, stationary_policy=_ce_stationary_policy,
          greedy_stationary=_deploy_plug_in_stationary,
          behaviour_stationary=_ce_behaviour_stationary,
          extra_words=lambda s, a: 0.0)
_register(CEOptimisticParams, init=_ce_optimistic_init, episode_policy=_ce_episode_policy,
          learn=_learn_counts, greedy=_deploy_plug_in, behaviour=_ce_behaviour,
          init_continuing=_ce_optimistic_init_continuing,
          stationary_policy=_ce_stationary_policy, greedy_stationary=_deploy_plug_in_stationary,
          behaviour_stationary=_ce_behaviour_stationary,
          extra_words=lambda s, a: 0.0)
register(hooks.init_episodic, CEDitherParams, _ce_greedy_init)
register(hooks.episode_policy, CEDitherParams, _dither_episode_policy)
register(hooks.learn, CEDitherParams, _learn_counts)
register(hooks.greedy_policy, CEDitherParams, _deploy_plug_in)
register(hooks.behaviour_policy, CEDitherParams, _dither_behaviour)
hooks.register_footprint(CEDitherParams, "episodic",
                         lambda p, s, a, nnz, h: _counts_words(s, a, nnz) + _horizon_words(s, a, h))
_register(UCRL2Params, init=_ucrl2_init, episode_policy=_ucrl2_episode_policy,
          learn=_learn_counts, greedy=_deploy_plug_in, behaviour=_ucrl2_behaviour,
          init_continuing=_ucrl2_init_continuing, stationary_policy=_ucrl2_stationary_policy,
          greedy_stationary=_deploy_plug_in_stationary,
          behaviour_stationary=_ucrl2_behaviour_stationary,
          extra_words=lambda s, a: 3.0 * s)
_register(PSRLParams, init=_psrl_init, episode_policy=_psrl_episode_policy,
          learn=_psrl_learn, greedy=_psrl_deploy, behaviour=_psrl_behaviour,
          init_continuing=_psrl_init_continuing, stationary_policy=_psrl_stationary_policy,
          greedy_stationary=_psrl_deploy_stationary,
          behaviour_stationary=_psrl_behaviour_stationary,
          extra_words=lambda s, a: float(s) * a * s + float(s) * a)

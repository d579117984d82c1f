"""The planning stage of the MDP pipeline: exact dynamic programming on a model, jitted.

A *model* is any record with a one-step backup: ``backup(model, s, v, cap, q)`` writes
q(a) = R~(s, a) + sum_s' P~(s' | s, a) v(s') for every action (clipped at ``cap`` where the
model says so), after ``prepare(model, v)`` has seen the next values once per sweep. Models:

* :class:`~mdp._env_kernels.Tabular` -- a given MDP (the true model, a solver's input, PSRL's
  sample): R(s, a) + P(s_1 | s, a) v(s_1) + ..., summed from R on in increasing s';
* :class:`PlugIn` -- the empirical model of :class:`~mdp._estimation_kernels.Counts`, plus an
  optional bonus b / sqrt(max(1, N)) clipped at ``cap`` (ce-optimistic);
* :class:`PosteriorMean` -- PSRL's posterior mean model of the counts;
* :class:`Optimistic` -- UCRL2's extended model: the optimistic reward plus the inner maximum
  over the L1 ball around P_hat (Jaksch, Ortner and Auer 2010, fig. 2).

On every model: :func:`backward_induction` (finite horizon, the choice at each (h, s) made by a
tie *rule*: random ties, even ties, lowest index) and :func:`relative_value_iteration`
(average reward, with the aperiodicity weight tau; tau = 0 is extended value iteration).
Policies are records too (:class:`Deterministic`, :class:`Stochastic`), with ``act`` (the
action at (h, s)) and ``evaluate_policy`` (its exact finite-horizon values on a Tabular).

The dispatch is tracking.dispatch's: each backup, rule and policy is resolved at compile time
from its record's type, so a loop is compiled once per model type it plans on.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from tracking.dispatch import hook, register
from tracking.jit import njit
from tracking.rng import argmax_random, uniform

from ._env_kernels import Tabular
from ._estimation_kernels import Counts, plug_in_value, posterior_mean_value

# relative_value_iteration's outcomes
CONVERGED, MAX_ITER, RESOLUTION, STALLED, STOPPED = range(5)

prepare = hook("prepare", ("model", "v"))
backup = hook("backup", ("model", "s", "v", "cap", "q"))
choose = hook("choose", ("rule", "h", "s", "q"))
act = hook("act", ("policy", "h", "s", "st"))
evaluate_policy = hook("evaluate_policy", ("policy", "model", "values"))


# --- models ----------------------------------------------------------------------------------


class PlugIn(NamedTuple):
    """The plug-in model of ``counts``, plus ``bonus`` / sqrt(max(1, N)) when bonus > 0."""

    counts: Counts
    bonus: float


class PosteriorMean(NamedTuple):
    """PSRL's posterior mean model of ``counts`` on the reward range [r_lo, r_lo + r_scale].

    ``v_sum`` (float64[1]) is scratch: sum_s v(s) of the current sweep.
    """

    counts: Counts
    r_lo: float
    r_scale: float
    v_sum: np.ndarray


class Optimistic(NamedTuple):
    """UCRL2's extended model of ``counts``: radii sqrt(c_p / m) in L1 and sqrt(c_r / m) for
    rewards (m = max(1, N)), rewards scaled by ``r_scale`` and clipped at ``r_hi``.

    Scratch: ``row`` (S zeros, kept zero between calls) and ``order`` (a permutation of the
    states, kept sorted by the values of the last sweep, carried over between calls).
    """

    counts: Counts
    c_p: float
    c_r: float
    r_scale: float
    r_hi: float
    row: np.ndarray
    order: np.ndarray


@njit
def expect(model, row, v, acc):
    """acc + sum_s' P(s' | row) v(s') over the successors of ``row``, in increasing s'.

    A row that holds all S states is read as the states 0 .. S - 1 (``indices`` unread).
    """
    start, end = model.indptr[row], model.indptr[row + 1]
    if end - start == v.shape[0]:
        for j in range(start, end):
            acc += model.probs[j] * v[j - start]
    else:
        for j in range(start, end):
            acc += model.probs[j] * v[model.indices[j]]
    return acc


@njit
def _nothing_to_prepare(model, v):
    pass


@njit
def _tabular_backup(model, s, v, cap, q):
    n_actions = q.shape[0]
    for a in range(n_actions):
        q[a] = expect(model, s * n_actions + a, v, model.rewards[s, a])


@njit
def _plug_in_backup(model, s, v, cap, q):
    n_actions = q.shape[0]
    visits = model.counts.visits
    for a in range(n_actions):
        row = s * n_actions + a
        x = plug_in_value(model.counts, row, s, v)
        if model.bonus > 0.0:
            x = min(x + model.bonus / math.sqrt(max(1.0, visits[row])), cap)
        q[a] = x


@njit
def _posterior_mean_prepare(model, v):
    total = 0.0
    for s in range(v.shape[0]):
        total += v[s]
    model.v_sum[0] = total


@njit
def _posterior_mean_backup(model, s, v, cap, q):
    n_actions = q.shape[0]
    for a in range(n_actions):
        q[a] = posterior_mean_value(model.counts, s * n_actions + a, v, model.v_sum[0],
                                    model.r_lo, model.r_scale)


@njit
def sort_descending(v, order):
    """Sort the permutation ``order`` so that v[order] decreases: insertion sort, in place.

    It starts from the current ``order`` (successive value vectors are nearly sorted the same
    way, so this is close to linear) and keeps the current relative order of tied entries.
    """
    for i in range(1, order.shape[0]):
        x = order[i]
        key = v[x]
        j = i - 1
        while j >= 0 and v[order[j]] < key:
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = x


@njit
def l1_optimistic(p, d, v, order):
    """max of q . v over distributions q with ||q - p||_1 <= d, and the maximiser (in place).

    Jaksch, Ortner and Auer (2010), fig. 2, with ``order`` the states sorted by v decreasing:
    q(order[0]) = min(1, p(order[0]) + d / 2), then the added mass is removed from the states
    of smallest v first (order[S - 1], order[S - 2], ...), each down to at most 0. ``p`` is
    overwritten by q; returns q . v.
    """
    best = order[0]
    add = min(0.5 * d, 1.0 - p[best])
    if add > 0.0:
        p[best] += add
        excess = add
        i = order.shape[0] - 1
        while excess > 0.0 and i > 0:
            s2 = order[i]
            take = min(p[s2], excess)
            p[s2] -= take
            excess -= take
            i -= 1
    total = 0.0
    for s2 in range(v.shape[0]):
        total += p[s2] * v[s2]
    return total


@njit
def ucrl2_constants(n_states, n_actions, t, delta):
    """(c_p, c_r) of UCRL2's radii at time t: 14 S ln(2 A t / delta) and 3.5 ln(2 S A t / delta).

    The radii are sqrt(c_p / m) for the L1 distance of transition rows and sqrt(c_r / m) for
    mean rewards in [0, 1], m = max(1, N(s, a)); t is taken as at least 1.
    """
    t = max(1.0, t)
    c_p = 14.0 * n_states * math.log(2.0 * n_actions * t / delta)
    c_r = 3.5 * math.log(2.0 * n_states * n_actions * t / delta)
    return c_p, c_r


@njit
def _optimistic_prepare(model, v):
    sort_descending(v, model.order)


@njit
def _optimistic_backup(model, s, v, cap, q):
    """Q(s, a) = min(R_hat + r_scale sqrt(c_r / m), r_hi) + max {p . v : ||p - P_hat||_1 <=
    sqrt(c_p / m)}, m = max(1, N(s, a)); an unvisited pair has the plug-in self-loop with
    reward 0. (The optimistic rewards are clipped, the values not: ``cap`` is unused.)"""
    counts, p = model.counts, model.row
    n_actions = q.shape[0]
    for a in range(n_actions):
        row = s * n_actions + a
        n = counts.visits[row]
        if n == 0:
            p[s] = 1.0
            r_hat = 0.0
        else:
            for j in range(counts.indptr[row], counts.indptr[row + 1]):
                p[counts.indices[j]] = counts.transitions[j] / n
            r_hat = counts.reward_sums[row] / n
        m = max(1.0, float(n))
        r_opt = min(r_hat + model.r_scale * math.sqrt(model.c_r / m), model.r_hi)
        q[a] = r_opt + l1_optimistic(p, math.sqrt(model.c_p / m), v, model.order)
        p[:] = 0.0


register(prepare, Tabular, _nothing_to_prepare)
register(backup, Tabular, _tabular_backup)
register(prepare, PlugIn, _nothing_to_prepare)
register(backup, PlugIn, _plug_in_backup)
register(prepare, PosteriorMean, _posterior_mean_prepare)
register(backup, PosteriorMean, _posterior_mean_backup)
register(prepare, Optimistic, _optimistic_prepare)
register(backup, Optimistic, _optimistic_backup)


@njit
def backup_all(model, v, q):
    """q(s, a) = backup(model, s, v) for every state (no cap): one Bellman backup, q (S, A)."""
    prepare(model, v)
    for s in range(q.shape[0]):
        backup(model, s, v, np.inf, q[s])


# --- tie rules -------------------------------------------------------------------------------


class RandomTies(NamedTuple):
    """Greedy, ties broken uniformly at random from the agent stream ``st``, into ``actions``
    (H, S)."""

    st: np.ndarray
    actions: np.ndarray


class EvenTies(NamedTuple):
    """Uniform over the greedy actions, into ``probs`` (H, S, A): no random draw."""

    probs: np.ndarray


class LowestIndex(NamedTuple):
    """Greedy, the lowest action index among the maximisers, into ``actions`` (H, S); the
    action values go to ``q`` (H, S, A)."""

    q: np.ndarray
    actions: np.ndarray


@njit
def even_ties(q, out):
    """out = the uniform distribution over argmax q; returns max q."""
    best = q.max()
    ties = 0
    for a in range(q.shape[0]):
        if q[a] == best:
            ties += 1
    for a in range(q.shape[0]):
        out[a] = 1.0 / ties if q[a] == best else 0.0
    return best


@njit
def _choose_random(rule, h, s, q):
    a = argmax_random(q, rule.st)
    rule.actions[h, s] = a
    return q[a]


@njit
def _choose_even(rule, h, s, q):
    return even_ties(q, rule.probs[h, s])


@njit
def _choose_lowest(rule, h, s, q):
    best = -np.inf
    arg = 0
    for a in range(q.shape[0]):
        rule.q[h, s, a] = q[a]
        if q[a] > best:
            best = q[a]
            arg = a
    rule.actions[h, s] = arg
    return best


register(choose, RandomTies, _choose_random)
register(choose, EvenTies, _choose_even)
register(choose, LowestIndex, _choose_lowest)


# --- the planners ----------------------------------------------------------------------------


@njit
def backward_induction(model, horizon, rule, values, q):
    """Finite-horizon dynamic programming on ``model``.

    V_H = 0 and, for h = H - 1, ..., 0 and s = 0, ..., S - 1 (the order of the rule's draws):
    Q_h(s, .) = backup(model, s, V_{h+1}, cap = H - h) and V_h(s) = choose(rule, h, s, Q_h(s,
    .)), the value of the action(s) the rule picks. ``values`` is (H + 1, S); ``q`` is scratch
    of A entries.
    """
    n_states = values.shape[1]
    values[horizon, :] = 0.0
    for h in range(horizon - 1, -1, -1):
        v = values[h + 1]
        prepare(model, v)
        cap = float(horizon - h)
        for s in range(n_states):
            backup(model, s, v, cap, q)
            values[h, s] = choose(rule, h, s, q)


@njit
def relative_value_iteration(model, tau, epsilon, stall, resolution, max_iter, w, u, v, d, q,
                             stop):
    """Relative value iteration on ``model``, on the aperiodic transform P' = tau I + (1 - tau) P.

    From w = 0, sweep i: v = (1 - tau) w, q(s, .) = backup(model, s, v) (R~ + P~ v),
    u(s) = max_a q(s, a) + tau w(s), d_i = u - w (min d_i <= gain <= max d_i). Stops, in this
    order of tests, when

    * span(d_i) < epsilon (CONVERGED);
    * i > 1 and max_s |d_i(s) - d_{i-1}(s)| < ``stall``: d has converged to a gain that differs
      between states, a multichain model (STALLED; ``stall`` = 0 never stops here);
    * span(d_i) <= ``resolution`` max_s |u(s)|: the float64 resolution of u (RESOLUTION;
      ``resolution`` = 0 never stops here before CONVERGED);

    else w <- u - u(0), and after ``max_iter`` sweeps it stops (MAX_ITER). tau = 0 is value
    iteration in relative form: UCRL2's extended value iteration on an :class:`Optimistic`
    model (Jaksch, Ortner and Auer 2010, sec. 3.1.2). It also returns (STOPPED) before a sweep
    when ``stop[0]`` is set. On return ``q`` (S, A) holds the last sweep's values, ``u`` its
    maxima, ``w`` the relative values it was applied to (moved on to u - u(0) after the last
    sweep only at MAX_ITER); ``v`` and ``d`` are scratch (S,), ``d`` kept between calls.

    Returns
    -------
    (sweeps, lo, hi, outcome)
        ``min d``, ``max d`` of the last sweep and the outcome code.
    """
    n_states = w.shape[0]
    w[:] = 0.0
    lo = -np.inf
    hi = np.inf
    it = 0
    while True:
        if stop[0] != 0:
            return it, lo, hi, STOPPED
        it += 1
        for s in range(n_states):
            v[s] = (1.0 - tau) * w[s]
        prepare(model, v)
        for s in range(n_states):
            backup(model, s, v, np.inf, q[s])
            u[s] = q[s].max() + tau * w[s]
        lo = np.inf
        hi = -np.inf
        change = 0.0
        scale = 0.0
        for s in range(n_states):
            ds = u[s] - w[s]
            lo = min(lo, ds)
            hi = max(hi, ds)
            change = max(change, abs(ds - d[s]))
            d[s] = ds
            scale = max(scale, abs(u[s]))
        if hi - lo < epsilon:
            return it, lo, hi, CONVERGED
        if it > 1 and change < stall:
            return it, lo, hi, STALLED
        if hi - lo <= resolution * scale:
            return it, lo, hi, RESOLUTION
        ref = u[0]
        for s in range(n_states):
            w[s] = u[s] - ref
        if it >= max_iter:
            return it, lo, hi, MAX_ITER


# --- policies and their exact values -------------------------------------------------------


class Deterministic(NamedTuple):
    """The non-stationary deterministic policy ``actions[h, s]``."""

    actions: np.ndarray


class Stochastic(NamedTuple):
    """The non-stationary stochastic policy ``probs[h, s, a]``."""

    probs: np.ndarray


@njit
def _act_deterministic(policy, h, s, st):
    return policy.actions[h, s]


@njit
def _act_stochastic(policy, h, s, st):
    """Inversion of one uniform: the first a with u <= pi(0) + ... + pi(a), else A - 1."""
    probs = policy.probs[h, s]
    last = probs.shape[0] - 1
    u = uniform(st)
    acc = 0.0
    for a in range(last):
        acc += probs[a]
        if u <= acc:
            return a
    return last


@njit
def _evaluate_deterministic(policy, model, values):
    """V_H = 0, V_h(s) = R(s, a) + sum_s' P(s' | s, a) V_{h+1}(s') with a = actions[h, s]."""
    horizon, n_states = policy.actions.shape
    n_actions = model.rewards.shape[1]
    values[horizon, :] = 0.0
    for h in range(horizon - 1, -1, -1):
        for s in range(n_states):
            a = policy.actions[h, s]
            values[h, s] = expect(model, s * n_actions + a, values[h + 1], model.rewards[s, a])


@njit
def _evaluate_stochastic(policy, model, values):
    """V_H = 0, V_h(s) = sum_a pi(a | h, s) (R(s, a) + sum_s' P(s' | s, a) V_{h+1}(s')), over
    the actions of positive probability in increasing a."""
    horizon, n_states, n_actions = policy.probs.shape
    values[horizon, :] = 0.0
    for h in range(horizon - 1, -1, -1):
        for s in range(n_states):
            acc = 0.0
            for a in range(n_actions):
                p = policy.probs[h, s, a]
                if p == 0.0:
                    continue
                acc += p * expect(model, s * n_actions + a, values[h + 1], model.rewards[s, a])
            values[h, s] = acc


register(act, Deterministic, _act_deterministic)
register(act, Stochastic, _act_stochastic)
register(evaluate_policy, Deterministic, _evaluate_deterministic)
register(evaluate_policy, Stochastic, _evaluate_stochastic)

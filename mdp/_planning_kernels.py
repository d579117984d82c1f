"""The planning stage of the MDP pipeline: exact dynamic programming on a model, jitted.

A *model* is a record with a one-step backup of every state: ``backup(model, v, cap, q)``
writes q(s, a) = R~(s, a) + sum_s' P~(s' | s, a) v(s') (clipped at ``cap`` where the model
says so). Models:

* :class:`~mdp._env_kernels.Tabular` and :class:`~mdp._env_kernels.DenseTabular` -- a given
  MDP (the true model, a solver's sparse input, PSRL's sample): R(s, a) + P(s_1 | s, a) v(s_1)
  + ..., summed from R on in increasing s'; :class:`~mdp._env_kernels.VectorisedDense` (a
  solver's dense input) adds R to the row's vectorised dot product;
* :class:`PlugIn` -- the empirical model of :class:`~mdp._estimation_kernels.Counts`, plus an
  optional bonus b / sqrt(max(1, N)) clipped at ``cap`` (ce-optimistic);
* :class:`PosteriorMean` -- PSRL's posterior mean model of the counts;
* :class:`Optimistic` -- UCRL2's extended model: the optimistic reward plus the inner maximum
  over the L1 ball around P_hat (Jaksch, Ortner and Auer 2010, fig. 2).

On every model: :func:`backward_induction` (finite horizon; which maximising actions it records
is a tie *rule*: random ties, even ties, lowest index) and :func:`relative_value_iteration`
(average reward, with the aperiodicity weight tau; tau = 0 is extended value iteration).
Policies are records too (:class:`Deterministic`, :class:`Stochastic`), with ``act`` (the
action at (h, s)) and ``evaluate_policy`` (their exact finite-horizon values on a given MDP);
agents' pieces register records of their own that compute a policy's probabilities where they
are needed (the softmax of the policy-gradient agents, ce-dither's mixture): ``act`` then
costs the visited row only, ``evaluate_policy`` fills every row first.

The dispatch is tracking.dispatch's: each hook is resolved at compile time from its record's
type. Hooks work on whole sweeps: a record crosses a function boundary once per sweep, never
once per state (each crossing costs atomic reference counts of its arrays).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from tracking.dispatch import hook, register
from tracking.jit import njit
from tracking.rng import argmax_random, uniform

from ._env_kernels import DenseTabular, Tabular, VectorisedDense
from ._estimation_kernels import Counts, plug_in_backup, posterior_mean_backup

# relative_value_iteration's outcomes
CONVERGED, MAX_ITER, RESOLUTION, STALLED, STOPPED = range(5)

#: The hooks called once per sweep (or per step: act) of a plan, an evaluation or an episode are
#: compiled without reference counting (tracking.dispatch.hook): their implementations allocate
#: nothing, and reading the arrays of a record then costs no atomic update, which on small
#: models would be a large share of a sweep.
_HOT = {"_nrt": False}

backup = hook("backup", ("model", "v", "cap", "q"), jit_options=_HOT)
choose = hook("choose", ("rule", "q", "stop"))
evaluate_actions = hook("evaluate_actions", ("model", "actions", "values", "stop"),
                        jit_options=_HOT)
evaluate_probs = hook("evaluate_probs", ("model", "probs", "values", "stop"), jit_options=_HOT)
act = hook("act", ("policy", "h", "s", "st"), jit_options=_HOT)
evaluate_policy = hook("evaluate_policy", ("policy", "model", "values", "stop"),
                       jit_options=_HOT)


# --- models ----------------------------------------------------------------------------------


class PlugIn(NamedTuple):
    """The plug-in model of ``counts``, plus ``bonus`` / sqrt(max(1, N)) when bonus > 0."""

    counts: Counts
    bonus: float


class PosteriorMean(NamedTuple):
    """PSRL's posterior mean model of ``counts`` on the reward range [r_lo, r_lo + r_scale]."""

    counts: Counts
    r_lo: float
    r_scale: float


class Optimistic(NamedTuple):
    """UCRL2's extended model of ``counts``: radii sqrt(c_p / m) in L1 and sqrt(c_r / m) for
    rewards (m = max(1, N)), rewards scaled by ``r_scale`` and clipped at ``r_hi``.

    Scratch: ``row`` (S zeros, kept zero between calls) and ``order`` (a permutation of the
    states, kept sorted by the values of the last backup, carried over between calls).
    """

    counts: Counts
    c_p: float
    c_r: float
    r_scale: float
    r_hi: float
    row: np.ndarray
    order: np.ndarray


# Row sums R(s, a) + sum_s' P(s' | s, a) v(s'), from R on in increasing s', on the arrays of a
# given model.


@njit(cache=True, inline="always")
def _sum_sparse(indptr, indices, probs, row, v, acc):
    # unsigned indices spare numba's negative-index checks (the same sums, faster)
    for j in range(np.uint64(indptr[row]), np.uint64(indptr[row + 1])):
        acc += probs[j] * v[np.uint64(indices[j])]
    return acc


@njit(cache=True, inline="always")
def _sum_dense(probs, row, v, acc):
    base = row * v.shape[0]
    for s2 in range(v.shape[0]):
        acc += probs[base + s2] * v[s2]
    return acc


@njit(cache=True, fastmath={"reassoc", "nsz", "contract"})
def _row_dot(probs, row, v):
    """sum_j P(j | row) v(j) of a full row, reassociated (vectorised); never inlined, so that
    its fastmath flags stay its own."""
    n = v.shape[0]
    p = probs[row * n:(row + 1) * n]
    total = 0.0
    for j in range(n):
        total += p[j] * v[j]
    return total


@njit(cache=True, inline="always")
def _sparse_backup(model, v, cap, q):
    indptr, indices, probs, rewards = model
    n_states, n_actions = rewards.shape
    for s in range(n_states):
        for a in range(n_actions):
            q[s, a] = _sum_sparse(indptr, indices, probs, s * n_actions + a, v, rewards[s, a])


@njit(cache=True, inline="always")
def _dense_backup(model, v, cap, q):
    probs, rewards = model
    n_states, n_actions = rewards.shape
    for s in range(n_states):
        for a in range(n_actions):
            q[s, a] = _sum_dense(probs, s * n_actions + a, v, rewards[s, a])


@njit(cache=True, inline="always")
def _vectorised_backup(model, v, cap, q):
    probs, rewards = model
    n_states, n_actions = rewards.shape
    for s in range(n_states):
        for a in range(n_actions):
            q[s, a] = rewards[s, a] + _row_dot(probs, s * n_actions + a, v)


@njit(cache=True, inline="always")
def _plug_in_backup(model, v, cap, q):
    counts, bonus = model
    plug_in_backup(counts, v, q)
    if bonus > 0.0:
        visits = counts.visits
        n_states, n_actions = q.shape
        for s in range(n_states):
            for a in range(n_actions):
                n = visits[s * n_actions + a]
                q[s, a] = min(q[s, a] + bonus / math.sqrt(max(1.0, n)), cap)


@njit(cache=True, inline="always")
def _posterior_mean_backup(model, v, cap, q):
    total = 0.0
    for s in range(v.shape[0]):
        total += v[s]
    posterior_mean_backup(model.counts, v, total, model.r_lo, model.r_scale, q)


@njit(cache=True, inline="always")
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


@njit(cache=True, inline="always")
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


@njit(cache=True)
def ucrl2_constants(n_states, n_actions, t, delta):
    """(c_p, c_r) of UCRL2's radii at time t: 14 S ln(2 A t / delta) and 3.5 ln(2 S A t / delta).

    The radii are sqrt(c_p / m) for the L1 distance of transition rows and sqrt(c_r / m) for
    mean rewards in [0, 1], m = max(1, N(s, a)); t is taken as at least 1.
    """
    t = max(1.0, t)
    c_p = 14.0 * n_states * math.log(2.0 * n_actions * t / delta)
    c_r = 3.5 * math.log(2.0 * n_states * n_actions * t / delta)
    return c_p, c_r


@njit(cache=True, inline="always")
def _optimistic_backup(model, v, cap, q):
    """Q(s, a) = min(R_hat + r_scale sqrt(c_r / m), r_hi) + max {p . v : ||p - P_hat||_1 <=
    sqrt(c_p / m)}, m = max(1, N(s, a)), the states first sorted by v; an unvisited pair has
    the plug-in self-loop with reward 0. (The optimistic rewards are clipped, the values not:
    ``cap`` is unused.)"""
    counts, c_p, c_r, r_scale, r_hi, p, order = model
    indptr, indices, transitions, visits, reward_sums = counts
    sort_descending(v, order)
    n_states, n_actions = q.shape
    for s in range(n_states):
        for a in range(n_actions):
            row = s * n_actions + a
            n = visits[row]
            if n == 0:
                p[s] = 1.0
                r_hat = 0.0
            else:
                for j in range(indptr[row], indptr[row + 1]):
                    p[indices[j]] = transitions[j] / n
                r_hat = reward_sums[row] / n
            m = max(1.0, float(n))
            r_opt = min(r_hat + r_scale * math.sqrt(c_r / m), r_hi)
            q[s, a] = r_opt + l1_optimistic(p, math.sqrt(c_p / m), v, order)
            p[:] = 0.0


register(backup, Tabular, _sparse_backup)
register(backup, DenseTabular, _dense_backup)
register(backup, VectorisedDense, _vectorised_backup)
register(backup, PlugIn, _plug_in_backup)
register(backup, PosteriorMean, _posterior_mean_backup)
register(backup, Optimistic, _optimistic_backup)


@njit(cache=True)
def backup_all(model, v, q):
    """q(s, a) = R~(s, a) + sum_s' P~(s' | s, a) v(s') for every pair (no cap): one Bellman
    backup of the model, q (S, A)."""
    backup(model, v, np.inf, q)


# --- tie rules: which maximisers backward induction records --------------------------------


class RandomTies(NamedTuple):
    """Greedy, ties broken uniformly at random from the agent stream ``st``, into ``actions``
    (H, S); ``row`` is scratch of A entries."""

    st: np.ndarray
    actions: np.ndarray
    row: np.ndarray


class EvenTies(NamedTuple):
    """Uniform over the greedy actions, into ``probs`` (H, S, A): no random draw. ``probs`` may
    be the Q_h array itself, each row replaced by its probabilities."""

    probs: np.ndarray


class LowestIndex(NamedTuple):
    """Greedy, the lowest action index among the maximisers, into ``actions`` (H, S)."""

    actions: np.ndarray


@njit(cache=True, inline="always")
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


@njit(cache=True, inline="always")
def _choose_random(rule, q, stop):
    # each row is copied to ``row``: a view q[h, s] handed to argmax_random would cost two
    # atomic reference counts per state
    st, actions, row = rule
    horizon, n_states, n_actions = q.shape
    for h in range(horizon - 1, -1, -1):
        if (h & 15) == 0 and stop[0] != 0:
            return
        for s in range(n_states):
            for a in range(n_actions):
                row[a] = q[h, s, a]
            actions[h, s] = argmax_random(row, st)


@njit(cache=True, inline="always")
def _choose_even(rule, q, stop):
    probs = rule.probs
    horizon, n_states, _ = q.shape
    for h in range(horizon):
        if (h & 15) == 0 and stop[0] != 0:
            return
        for s in range(n_states):
            even_ties(q[h, s], probs[h, s])


@njit(cache=True, inline="always")
def _choose_lowest(rule, q, stop):
    actions = rule.actions
    horizon, n_states, n_actions = q.shape
    for h in range(horizon):
        if (h & 15) == 0 and stop[0] != 0:
            return
        for s in range(n_states):
            best = -np.inf
            arg = 0
            for a in range(n_actions):
                if q[h, s, a] > best:
                    best = q[h, s, a]
                    arg = a
            actions[h, s] = arg


register(choose, RandomTies, _choose_random)
register(choose, EvenTies, _choose_even)
register(choose, LowestIndex, _choose_lowest)


# --- the planners ----------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _row(values, h):
    """Row of V_h in ``values``: (H + 1, S) holds every V_h, (2, S) only the last two (V_h in
    row h mod 2, so V_0 ends in row 0)."""
    return h & 1 if values.shape[0] == 2 else h


@njit(cache=True, inline="always")
def _induction_step(model, v_next, cap, q, v_out):
    """Q = backup(model, v_next, cap) into q (S, A) and v_out(s) = max_a Q(s, a)."""
    backup(model, v_next, cap, q)
    n_states, n_actions = q.shape
    for s in range(n_states):
        best = q[s, 0]
        for a in range(1, n_actions):
            best = max(best, q[s, a])
        v_out[s] = best


@njit(cache=True)
def backward_induction(model, horizon, rule, values, q, stop):
    """Finite-horizon dynamic programming on ``model``.

    V_H = 0 and, for h = H - 1, ..., 0: Q_h = backup(model, V_{h+1}, cap = H - h) and
    V_h(s) = max_a Q_h(s, a); then the rule records the maximising actions of every Q_h, for
    h = H - 1, ..., 0 and s = 0, ..., S - 1 (the order of its draws). ``values`` is
    (H + 1, S) for every V_h, or (2, S) for the last two (V_0 in row 0); ``q`` (H, S, A)
    receives the Q_h. Reads ``stop[0]`` every 16 steps h (of the
    induction and of the rule) and returns False at once when it is set (the plan partial),
    True when complete.
    """
    values[_row(values, horizon), :] = 0.0
    for h in range(horizon - 1, -1, -1):
        if (h & 15) == 0 and stop[0] != 0:
            return False
        _induction_step(model, values[_row(values, h + 1)], float(horizon - h), q[h],
                        values[_row(values, h)])
    choose(rule, q, stop)
    return stop[0] == 0


@njit(cache=True, nogil=True)
def optimal_values(model, horizon, q, v_out, stop):
    """V*_0 of :func:`backward_induction` into ``v_out`` (S,), bit for bit, in O(S A) memory.

    The same steps on two value vectors and one Q (``q``, S x A, scratch). Releases the GIL;
    reads ``stop[0]`` every 16 steps h and returns False at once when it is set (``v_out``
    partial), True when complete.
    """
    n_states = v_out.shape[0]
    v_next = np.zeros(n_states)
    v = np.empty(n_states)
    for h in range(horizon - 1, -1, -1):
        if (h & 15) == 0 and stop[0] != 0:
            return False
        _induction_step(model, v_next, float(horizon - h), q, v)
        v_next, v = v, v_next
    v_out[:] = v_next
    return True


@njit(cache=True)
def relative_value_iteration(model, tau, epsilon, stall, resolution, max_iter, w, u, v, d, q,
                             stop):
    """Relative value iteration on ``model``, on the aperiodic transform P' = tau I + (1 - tau) P.

    From w = 0, sweep i: v = (1 - tau) w, q = backup(model, v) (R~ + P~ v),
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
        backup(model, v, np.inf, q)
        for s in range(n_states):
            best = q[s, 0]
            for a in range(1, q.shape[1]):
                best = max(best, q[s, a])
            u[s] = best + tau * w[s]
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


@njit(cache=True, inline="always")
def _act_deterministic(policy, h, s, st):
    return policy.actions[h, s]


@njit(cache=True, inline="always")
def invert(probs, i, j, u):
    """The action of the uniform ``u`` under the distribution ``probs[i, j, :]``, by inversion:
    the first a with u <= p(0) + ... + p(a), else A - 1."""
    last = probs.shape[2] - 1
    acc = 0.0
    for a in range(last):
        acc += probs[i, j, a]
        if u <= acc:
            return a
    return last


@njit(cache=True, inline="always")
def _act_stochastic(policy, h, s, st):
    """Inversion of one uniform (:func:`invert`) under pi_h(. | s)."""
    return invert(policy.probs, h, s, uniform(st))


@njit(cache=True, inline="always")
def _evaluate_actions(policy, model, values, stop):
    return evaluate_actions(model, policy.actions, values, stop)


@njit(cache=True, inline="always")
def _evaluate_probs(policy, model, values, stop):
    return evaluate_probs(model, policy.probs, values, stop)


register(act, Deterministic, _act_deterministic)
register(act, Stochastic, _act_stochastic)
register(evaluate_policy, Deterministic, _evaluate_actions)
register(evaluate_policy, Stochastic, _evaluate_probs)


# V_H = 0 and, for h = H - 1, ..., 0, V_h(s) = R(s, a) + sum_s' P(s' | s, a) V_{h+1}(s') with
# a = actions[h, s] (deterministic), or sum_a pi(a | h, s) (R(s, a) + ...) over the actions of
# positive probability in increasing a (stochastic): one implementation per model type, into
# ``values`` (H + 1, S), or (2, S) for the last two V_h (V_0 in row 0). Each reads stop[0]
# every 16 steps h and returns False at once when it is set, True when complete.


@njit(cache=True)
def _sparse_actions(model, actions, values, stop):
    indptr, indices, probs, rewards = model
    horizon, n_states = actions.shape
    n_actions = rewards.shape[1]
    values[_row(values, horizon), :] = 0.0
    for h in range(horizon - 1, -1, -1):
        if (h & 15) == 0 and stop[0] != 0:
            return False
        v = values[_row(values, h + 1)]
        out = values[_row(values, h)]
        for s in range(n_states):
            a = actions[h, s]
            out[s] = _sum_sparse(indptr, indices, probs, s * n_actions + a, v, rewards[s, a])
    return True


@njit(cache=True)
def _sparse_probs(model, pi, values, stop):
    indptr, indices, probs, rewards = model
    horizon, n_states, n_actions = pi.shape
    values[_row(values, horizon), :] = 0.0
    for h in range(horizon - 1, -1, -1):
        if (h & 15) == 0 and stop[0] != 0:
            return False
        v = values[_row(values, h + 1)]
        out = values[_row(values, h)]
        for s in range(n_states):
            acc = 0.0
            for a in range(n_actions):
                p = pi[h, s, a]
                if p != 0.0:
                    acc += p * _sum_sparse(indptr, indices, probs, s * n_actions + a, v,
                                           rewards[s, a])
            out[s] = acc
    return True


@njit(cache=True)
def _dense_actions(model, actions, values, stop):
    probs, rewards = model
    horizon, n_states = actions.shape
    n_actions = rewards.shape[1]
    values[_row(values, horizon), :] = 0.0
    for h in range(horizon - 1, -1, -1):
        if (h & 15) == 0 and stop[0] != 0:
            return False
        v = values[_row(values, h + 1)]
        out = values[_row(values, h)]
        for s in range(n_states):
            a = actions[h, s]
            out[s] = _sum_dense(probs, s * n_actions + a, v, rewards[s, a])
    return True


@njit(cache=True)
def _dense_probs(model, pi, values, stop):
    probs, rewards = model
    horizon, n_states, n_actions = pi.shape
    values[_row(values, horizon), :] = 0.0
    for h in range(horizon - 1, -1, -1):
        if (h & 15) == 0 and stop[0] != 0:
            return False
        v = values[_row(values, h + 1)]
        out = values[_row(values, h)]
        for s in range(n_states):
            acc = 0.0
            for a in range(n_actions):
                p = pi[h, s, a]
                if p != 0.0:
                    acc += p * _sum_dense(probs, s * n_actions + a, v, rewards[s, a])
            out[s] = acc
    return True


@njit(cache=True)
def _vectorised_actions(model, actions, values, stop):
    probs, rewards = model
    horizon, n_states = actions.shape
    n_actions = rewards.shape[1]
    values[_row(values, horizon), :] = 0.0
    for h in range(horizon - 1, -1, -1):
        if (h & 15) == 0 and stop[0] != 0:
            return False
        v = values[_row(values, h + 1)]
        out = values[_row(values, h)]
        for s in range(n_states):
            a = actions[h, s]
            out[s] = rewards[s, a] + _row_dot(probs, s * n_actions + a, v)
    return True


@njit(cache=True)
def _vectorised_probs(model, pi, values, stop):
    probs, rewards = model
    horizon, n_states, n_actions = pi.shape
    values[_row(values, horizon), :] = 0.0
    for h in range(horizon - 1, -1, -1):
        if (h & 15) == 0 and stop[0] != 0:
            return False
        v = values[_row(values, h + 1)]
        out = values[_row(values, h)]
        for s in range(n_states):
            acc = 0.0
            for a in range(n_actions):
                p = pi[h, s, a]
                if p != 0.0:
                    acc += p * (rewards[s, a] + _row_dot(probs, s * n_actions + a, v))
            out[s] = acc
    return True


register(evaluate_actions, Tabular, _sparse_actions)
register(evaluate_probs, Tabular, _sparse_probs)
register(evaluate_actions, DenseTabular, _dense_actions)
register(evaluate_probs, DenseTabular, _dense_probs)
register(evaluate_actions, VectorisedDense, _vectorised_actions)
register(evaluate_probs, VectorisedDense, _vectorised_probs)

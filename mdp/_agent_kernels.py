"""The jitted episodic loop: one kernel for every MDP agent, parallel over runs.

``simulate`` runs one agent for K episodes of H steps on a batch of runs. The agent is an
integer ``kind`` (mdp/agents.py) with a float vector of hyperparameters. Each episode:

1. the agent fixes its policy for the episode (backward induction on its model, a posterior
   sample or UCRL2's confidence sets, greedy in Q, or its softmax policy);
2. the episode's regret V*_0(initial) - V^pi_0(initial) is computed exactly by policy
   evaluation on the true model;
3. the episode is simulated and the agent learns from it;
4. at checkpoints, the simple regret of the policy it would deploy is computed exactly.

Randomness (tracking/rng.py): the n-th visit of (s, a) in a run reads the n-th number of the
counter-based stream keyed by (run seed, s, a) for the next state, and of another stream for
a Bernoulli reward; the start state of episode k reads the k-th number of the run's start
stream. Every agent sees the same outcomes: common random numbers. The agent's own draws
(ties, posterior samples, softmax actions) come from the run's sequential agent stream.

Stopping: every run reads a one-byte flag at every episode, every few thousand steps and
every 16 steps h of its plans and evaluations, and ends when another thread has set it,
reporting that it did not complete (tracking/runner.py).

Observed transition counts are stored per successor slot of the true model's CSR rows (an
observed successor is always in the support): this is the dense count N[s, a, s'] without its
zeros, and the plug-in model built from it is exactly the empirical one.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from tracking.batching import STOP_MASK
from tracking.jit import njit
from tracking.rng import (
    SALT_AGENT,
    SALT_REWARD,
    SALT_TRANSITION,
    argmax_random,
    beta,
    counter_uniform,
    gamma,
    gamma_mt,
    new_state,
    stream_key,
    uniform,
)

from .agents import (
    KIND_CE_GREEDY,
    KIND_CE_OPTIMISTIC,
    KIND_PSRL,
    KIND_Q_LEARNING,
    KIND_REINFORCE,
    KIND_UCRL2,
)

SALT_START = np.uint64(0x5EED0003)

# How a model-based agent turns its data into Q values.
EMPIRICAL = 0  # plug-in P_hat, R_hat (+ optional bonus)
POSTERIOR_MEAN = 1  # PSRL's posterior mean model
SAMPLED = 2  # PSRL's sampled model


@njit(cache=True)
def sample_row(indptr, indices, probs, row, u):
    """Slot j of CSR row ``row`` chosen by inversion of the uniform ``u``."""
    acc = 0.0
    last = indptr[row + 1] - 1
    for j in range(indptr[row], last):
        acc += probs[j]
        if u <= acc:
            return j
    return last


@njit(cache=True)
def env_step(seed, indptr, indices, probs, R, s, a, n, bernoulli):
    """The environment's answer to the n-th visit of (s, a): (CSR slot of s', reward).

    Common random numbers: the n-th visit reads the n-th uniform of the streams keyed by
    (run seed, s, a), whatever the agent; Bernoulli(R[s, a]) rewards when ``bernoulli``.
    """
    row = s * R.shape[1] + a
    j = sample_row(indptr, indices, probs, row,
                   counter_uniform(stream_key(seed, SALT_TRANSITION, s, a), n))
    if bernoulli:
        u_r = counter_uniform(stream_key(seed, SALT_REWARD, s, a), n)
        return j, 1.0 if u_r <= R[s, a] else 0.0
    return j, R[s, a]


@njit(cache=True)
def sample_start(cdf, u):
    for s in range(cdf.shape[0] - 1):
        if u <= cdf[s]:
            return s
    return cdf.shape[0] - 1


@njit(cache=True)
def evaluate_deterministic(indptr, indices, probs, R, pol, initial, v, w, stop=None):
    """V^pi_0(initial) of the non-stationary deterministic policy pol[h, s] (v, w scratch).

    Returns 0.0 at once when ``stop[0]`` is set (read every 16 steps h).
    """
    horizon, n_states = pol.shape
    n_actions = R.shape[1]
    v[:] = 0.0
    for h in range(horizon - 1, -1, -1):
        if stop is not None and (h & 15) == 0 and stop[0] != 0:
            return 0.0
        for s in range(n_states):
            a = pol[h, s]
            row = s * n_actions + a
            acc = R[s, a]
            for j in range(indptr[row], indptr[row + 1]):
                acc += probs[j] * v[indices[j]]
            w[s] = acc
        v, w = w, v
    total = 0.0
    for s in range(n_states):
        total += initial[s] * v[s]
    return total


@njit(cache=True)
def evaluate_stochastic(indptr, indices, probs, R, pi, initial, v, w, stop=None):
    """V^pi_0(initial) of the non-stationary stochastic policy pi[h, s, a] (v, w scratch).

    Returns 0.0 at once when ``stop[0]`` is set (read every 16 steps h).
    """
    horizon, n_states, n_actions = pi.shape
    v[:] = 0.0
    for h in range(horizon - 1, -1, -1):
        if stop is not None and (h & 15) == 0 and stop[0] != 0:
            return 0.0
        for s in range(n_states):
            acc = 0.0
            for a in range(n_actions):
                p = pi[h, s, a]
                if p == 0.0:
                    continue
                row = s * n_actions + a
                q = R[s, a]
                for j in range(indptr[row], indptr[row + 1]):
                    q += probs[j] * v[indices[j]]
                acc += p * q
            w[s] = acc
        v, w = w, v
    total = 0.0
    for s in range(n_states):
        total += initial[s] * v[s]
    return total


@njit(cache=True)
def q_row(mode, s, h, horizon, indptr, indices, cnt, n_sa, rsum, psamp, rsamp, bonus, r_lo,
           r_scale, v, v_sum, qrow):
    """Q_h(s, .) of the agent's model given V_{h+1} = v (see the module's modes).

    For PSRL's posterior mean, ``rsum`` holds rewards mapped to [0, 1] by
    r -> (r - r_lo) / r_scale, and the mean reward is mapped back.
    """
    n_states = v.shape[0]
    n_actions = qrow.shape[0]
    for a in range(n_actions):
        row = s * n_actions + a
        n = n_sa[row]
        if mode == SAMPLED:
            acc = rsamp[row]
            for s2 in range(n_states):
                acc += psamp[row, s2] * v[s2]
        elif mode == POSTERIOR_MEAN:
            ev = v_sum / n_states
            for j in range(indptr[row], indptr[row + 1]):
                if cnt[j] > 0:
                    ev += cnt[j] * v[indices[j]]
            acc = r_lo + r_scale * (1.0 + rsum[row]) / (2.0 + n) + ev / (n + 1.0)
        else:
            if n == 0:  # unvisited: a self-loop with reward 0
                acc = v[s]
            else:
                ev = 0.0
                for j in range(indptr[row], indptr[row + 1]):
                    if cnt[j] > 0:
                        ev += cnt[j] * v[indices[j]]
                acc = (rsum[row] + ev) / n
            if bonus > 0.0:
                acc = min(acc + bonus / math.sqrt(max(1.0, n)), horizon - h)
        qrow[a] = acc


@njit(cache=True)
def even_ties(qrow, out):
    """out = the uniform distribution over argmax qrow; returns max qrow."""
    best = qrow.max()
    ties = 0
    for a in range(qrow.shape[0]):
        if qrow[a] == best:
            ties += 1
    for a in range(qrow.shape[0]):
        out[a] = 1.0 / ties if qrow[a] == best else 0.0
    return best


@njit(cache=True)
def plan(mode, deploy, horizon, indptr, indices, cnt, n_sa, rsum, psamp, rsamp, bonus, r_lo,
         r_scale, st, pol, pi, v, w, qrow, stop=None):
    """Backward induction on the agent's model.

    With ``deploy`` False, writes the greedy policy pol[h, s] with ties broken at random
    (draws from ``st``); with ``deploy`` True, writes pi[h, s, :] uniform over the tied greedy
    actions (no draws, so recording a checkpoint never changes what the agent does next).
    Returns at once, the policy partly written, when ``stop[0]`` is set (read every 16 steps h).
    """
    n_states = v.shape[0]
    v[:] = 0.0
    for h in range(horizon - 1, -1, -1):
        if stop is not None and (h & 15) == 0 and stop[0] != 0:
            return
        v_sum = 0.0
        if mode == POSTERIOR_MEAN:
            for s in range(n_states):
                v_sum += v[s]
        for s in range(n_states):
            q_row(mode, s, h, horizon, indptr, indices, cnt, n_sa, rsum, psamp, rsamp, bonus,
                   r_lo, r_scale, v, v_sum, qrow)
            if deploy:
                w[s] = even_ties(qrow, pi[h, s])
            else:
                a = argmax_random(qrow, st)
                pol[h, s] = a
                w[s] = qrow[a]
        v, w = w, v


@njit(cache=True)
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


@njit(cache=True)
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
def ucrl2_q_row(s, indptr, indices, cnt, n_sa, rsum, c_p, c_r, r_scale, r_hi, v, order, p,
                qrow):
    """UCRL2's optimistic Q(s, .) given the next values v (``order`` sorts v decreasing).

    Q(s, a) = min(R_hat + r_scale sqrt(c_r / m), r_hi) + max {q . v : ||q - P_hat||_1 <=
    sqrt(c_p / m)}, m = max(1, N(s, a)); an unvisited pair has the plug-in self-loop with
    reward 0. ``p`` is a zeroed scratch vector of S entries, zeroed again on return.
    """
    n_actions = qrow.shape[0]
    for a in range(n_actions):
        row = s * n_actions + a
        n = n_sa[row]
        if n == 0:
            p[s] = 1.0
            r_hat = 0.0
        else:
            for j in range(indptr[row], indptr[row + 1]):
                p[indices[j]] = cnt[j] / n
            r_hat = rsum[row] / n
        m = max(1.0, float(n))
        r_opt = min(r_hat + r_scale * math.sqrt(c_r / m), r_hi)
        qrow[a] = r_opt + l1_optimistic(p, math.sqrt(c_p / m), v, order)
        p[:] = 0.0


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


@njit(cache=True)
def plan_ucrl2(horizon, indptr, indices, cnt, n_sa, rsum, c_p, c_r, r_scale, r_hi, st, pol, v,
               w, qrow, p, order, stop=None):
    """UCRL2's optimistic backward induction: pol[h, s] greedy in ucrl2_q_row, random ties.

    V_H = 0 and V_h(s) = max_a Q_h(s, a); the states are sorted by V_{h+1} once per step h.
    Optimistic rewards are clipped at r_hi, so V_h <= (H - h) r_hi without further clipping.
    Returns at once when ``stop[0]`` is set (read at every step h).
    """
    n_states = v.shape[0]
    v[:] = 0.0
    for h in range(horizon - 1, -1, -1):
        if stop is not None and stop[0] != 0:
            return
        sort_descending(v, order)
        for s in range(n_states):
            ucrl2_q_row(s, indptr, indices, cnt, n_sa, rsum, c_p, c_r, r_scale, r_hi, v, order,
                        p, qrow)
            a = argmax_random(qrow, st)
            pol[h, s] = a
            w[s] = qrow[a]
        v, w = w, v


@njit(cache=True)
def _log_gamma_variate(st, shape):
    """log of a Gamma(shape) variate, finite even when the variate underflows (shape << 1)."""
    if shape < 1.0:
        return math.log(gamma(st, shape + 1.0)) + math.log(uniform(st)) / shape
    return math.log(gamma(st, shape))


@njit(cache=True)
def sample_posterior(indptr, indices, cnt, n_sa, rsum, r_lo, r_scale, st, psamp, rsamp, logs,
                     stop=None):
    """PSRL's draw: rows ~ Dirichlet(N(s, a, .) + 1/S), rewards ~ Beta(1 + sum u, 1 + n - sum u).

    u = (r - r_lo) / r_scale are the rewards mapped to [0, 1] (``rsum`` holds their sums); the
    sampled mean reward is mapped back: r_lo + r_scale * Beta draw. The Dirichlet is sampled as
    normalised Gamma variates, in logs (shapes 1/S underflow): a Gamma(1/S) variate is
    Gamma(1 + 1/S) * U^S, whose Marsaglia-Tsang constants are computed once per call.
    Returns at once, the sample partly drawn, when ``stop[0]`` is set (read at every row).
    """
    n_rows, n_states = psamp.shape
    prior = 1.0 / n_states
    d1 = 1.0 + prior - 1.0 / 3.0
    c1 = 1.0 / math.sqrt(9.0 * d1)
    for row in range(n_rows):
        if stop is not None and stop[0] != 0:
            return
        j = indptr[row]
        end = indptr[row + 1]
        top = -np.inf
        for s2 in range(n_states):
            if j < end and indices[j] == s2:
                lg = _log_gamma_variate(st, prior + cnt[j])
                j += 1
            else:  # the prior's shape: the most common case
                lg = math.log(gamma_mt(st, d1, c1)) + math.log(uniform(st)) * n_states
            logs[s2] = lg
            top = max(top, lg)
        total = 0.0
        for s2 in range(n_states):
            p = math.exp(logs[s2] - top)
            psamp[row, s2] = p
            total += p
        inv = 1.0 / total
        for s2 in range(n_states):
            psamp[row, s2] *= inv
        rsamp[row] = r_lo + r_scale * beta(st, 1.0 + rsum[row], 1.0 + n_sa[row] - rsum[row])


@njit(cache=True)
def _softmax_rows(theta, pi):
    """pi[h, s, :] = softmax(theta[h, s, :]), computed stably."""
    horizon, n_states, n_actions = theta.shape
    for h in range(horizon):
        for s in range(n_states):
            m = theta[h, s].max()
            total = 0.0
            for a in range(n_actions):
                pi[h, s, a] = math.exp(theta[h, s, a] - m)
                total += pi[h, s, a]
            for a in range(n_actions):
                pi[h, s, a] /= total


@njit(cache=True)
def _greedy_q(q, st, pol, pi, deploy):
    """Greedy policy of Q[h, s, a]: random ties into pol, or even ties into pi (deploy)."""
    horizon, n_states, _ = q.shape
    for h in range(horizon):
        for s in range(n_states):
            if deploy:
                even_ties(q[h, s], pi[h, s])
            else:
                pol[h, s] = argmax_random(q[h, s], st)


@njit(cache=True)
def _one_run(kind, params, indptr, indices, probs, R, initial, horizon, episodes, seed,
             checkpoints, v_star, bernoulli, regret, simple, stop):
    """One run of one agent; True when it completed, False when ``stop[0]`` was set.

    The flag is read at every episode, every STOP_EVERY steps of an episode, and at every
    step h of the plans and evaluations; a helper cut short leaves partial arrays, so a run
    reports completion only when the flag is still clear at its end.
    """
    n_states, n_actions = R.shape
    n_rows = n_states * n_actions
    st = new_state(seed, SALT_AGENT)
    start_key = stream_key(seed, SALT_START, 0, 0)
    # every array allocated here is counted by mdp.loop.run_state_bytes (the memory guard)
    cdf = np.cumsum(initial)
    cnt = np.zeros(indices.shape[0], dtype=np.int64)
    n_sa = np.zeros(n_rows, dtype=np.int64)
    rsum = np.zeros(n_rows)
    pol = np.zeros((horizon, n_states), dtype=np.int64)
    pi = np.zeros((horizon, n_states, n_actions))
    v = np.zeros(n_states)
    w = np.zeros(n_states)
    qrow = np.zeros(n_actions)
    traj_s = np.zeros(horizon, dtype=np.int64)
    traj_a = np.zeros(horizon, dtype=np.int64)
    traj_r = np.zeros(horizon)
    model_based = (kind == KIND_CE_GREEDY or kind == KIND_CE_OPTIMISTIC or kind == KIND_PSRL
                   or kind == KIND_UCRL2)
    # per-agent state (size 1 when unused)
    big = (horizon, n_states, n_actions)
    tiny = (1, 1, 1)
    q = np.full(big if kind == KIND_Q_LEARNING else tiny, float(horizon))
    visits = np.zeros(big if kind == KIND_Q_LEARNING else tiny, dtype=np.int64)
    theta = np.zeros(big if kind == KIND_REINFORCE else tiny)
    base_sum = np.zeros((horizon, n_states) if kind == KIND_REINFORCE else (1, 1))
    base_n = np.zeros((horizon, n_states) if kind == KIND_REINFORCE else (1, 1))
    psamp = np.zeros((n_rows, n_states) if kind == KIND_PSRL else (1, 1))
    rsamp = np.zeros(n_rows if kind == KIND_PSRL else 1)
    logs = np.zeros(n_states)
    p_opt = np.zeros(n_states)  # UCRL2's scratch: an optimistic row, the sorted states
    order = np.arange(n_states)
    log_term = math.log(n_states * n_actions * horizon * episodes / params[1]) \
        if (kind == KIND_CE_OPTIMISTIC or kind == KIND_Q_LEARNING) else 0.0
    bonus = params[0] * horizon * math.sqrt(log_term) if kind == KIND_CE_OPTIMISTIC else 0.0
    q_bonus = params[0] * math.sqrt(horizon**3 * log_term) if kind == KIND_Q_LEARNING else 0.0
    # PSRL's Beta posterior lives on [0, 1]: rewards are mapped from the known reward range
    # [min(0, min R), max(1, max R)] (the identity when R lies in [0, 1])
    r_lo = min(0.0, R.min())
    r_hi = max(1.0, R.max())
    r_scale = r_hi - r_lo
    psrl_scale = 1.0 / r_scale if kind == KIND_PSRL else 1.0
    psrl_lo = r_lo if kind == KIND_PSRL else 0.0
    cum = 0.0
    nxt = 0
    for k in range(episodes):
        if stop[0] != 0:
            return False
        # 1. the episode's policy
        if kind == KIND_PSRL:
            sample_posterior(indptr, indices, cnt, n_sa, rsum, r_lo, r_scale, st, psamp, rsamp,
                             logs, stop)
            plan(SAMPLED, False, horizon, indptr, indices, cnt, n_sa, rsum, psamp, rsamp, 0.0,
                 r_lo, r_scale, st, pol, pi, v, w, qrow, stop)
        elif kind == KIND_UCRL2:
            c_p, c_r = ucrl2_constants(n_states, n_actions, float(k * horizon), params[0])
            plan_ucrl2(horizon, indptr, indices, cnt, n_sa, rsum, c_p, c_r, r_scale, r_hi, st,
                       pol, v, w, qrow, p_opt, order, stop)
        elif model_based:
            plan(EMPIRICAL, False, horizon, indptr, indices, cnt, n_sa, rsum, psamp, rsamp, bonus,
                 0.0, 1.0, st, pol, pi, v, w, qrow, stop)
        elif kind == KIND_Q_LEARNING:
            _greedy_q(q, st, pol, pi, False)
        else:
            _softmax_rows(theta, pi)
        # 2. its regret, exactly
        if kind == KIND_REINFORCE:
            value = evaluate_stochastic(indptr, indices, probs, R, pi, initial, v, w, stop)
        else:
            value = evaluate_deterministic(indptr, indices, probs, R, pol, initial, v, w, stop)
        cum += v_star - value
        # 3. the episode
        s = sample_start(cdf, counter_uniform(start_key, k))
        for h in range(horizon):
            if (h & STOP_MASK) == STOP_MASK and stop[0] != 0:
                return False
            if kind == KIND_REINFORCE:
                u = uniform(st)
                a = n_actions - 1
                acc = 0.0
                for b in range(n_actions - 1):
                    acc += pi[h, s, b]
                    if u <= acc:
                        a = b
                        break
            else:
                a = pol[h, s]
            row = s * n_actions + a
            n = n_sa[row]
            j, r = env_step(seed, indptr, indices, probs, R, s, a, n, bernoulli)
            s_next = indices[j]
            cnt[j] += 1
            n_sa[row] = n + 1
            rsum[row] += (r - psrl_lo) * psrl_scale
            if kind == KIND_Q_LEARNING:
                visits[h, s, a] += 1
                t = visits[h, s, a]
                alpha = (horizon + 1.0) / (horizon + t)
                v_next = 0.0
                if h < horizon - 1:
                    v_next = min(float(horizon), q[h + 1, s_next].max())
                target = r + v_next + q_bonus / math.sqrt(t)
                q[h, s, a] = (1.0 - alpha) * q[h, s, a] + alpha * target
            traj_s[h] = s
            traj_a[h] = a
            traj_r[h] = r
            s = s_next
        if kind == KIND_REINFORCE:
            ret = 0.0
            for h in range(horizon - 1, -1, -1):
                ret += traj_r[h]
                s = traj_s[h]
                b = 0.0
                if params[1] > 0.0 and base_n[h, s] > 0.0:
                    b = base_sum[h, s] / base_n[h, s]
                g = params[0] * (ret - b)
                for a in range(n_actions):
                    theta[h, s, a] -= g * pi[h, s, a]
                theta[h, s, traj_a[h]] += g
                base_sum[h, s] += ret
                base_n[h, s] += 1.0
        # 4. checkpoint: the policy it would deploy now
        if k + 1 == checkpoints[nxt]:
            regret[nxt] = cum
            if kind == KIND_PSRL:
                plan(POSTERIOR_MEAN, True, horizon, indptr, indices, cnt, n_sa, rsum, psamp,
                     rsamp, 0.0, r_lo, r_scale, st, pol, pi, v, w, qrow, stop)
            elif model_based:
                plan(EMPIRICAL, True, horizon, indptr, indices, cnt, n_sa, rsum, psamp, rsamp,
                     0.0, 0.0, 1.0, st, pol, pi, v, w, qrow, stop)
            elif kind == KIND_Q_LEARNING:
                _greedy_q(q, st, pol, pi, True)
            else:
                _softmax_rows(theta, pi)
            simple[nxt] = v_star - evaluate_stochastic(indptr, indices, probs, R, pi, initial,
                                                       v, w, stop)
            nxt += 1
    return stop[0] == 0


@njit(cache=True, parallel=True, nogil=True)
def simulate(kind, params, indptr, indices, probs, R, initial, horizon, episodes, seeds,
             checkpoints, v_star, bernoulli, regret, simple, stop):
    """Run agent ``kind`` for ``episodes`` episodes of ``horizon`` steps on each run.

    Returns which runs completed. It releases the GIL, so it can run in a worker thread while
    the calling program waits (tracking.runner.run_interruptible).

    Parameters
    ----------
    kind : int
        Agent kind (mdp.agents).
    params : float64[4]
        The agent's hyperparameter vector.
    indptr, indices, probs : CSR arrays of the true model (FiniteMDP).
    R : float64[S, A]
        Mean rewards.
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
    regret, simple : float64[runs, C]
        Out: cumulative regret sum_k (V* - V^{pi_k}) and simple regret at the checkpoints.
    stop : uint8[1]
        Set to 1 by another thread to stop every run within milliseconds.

    Returns
    -------
    uint8[runs]
        1 for a run that completed, 0 for one cut short by ``stop`` (its arrays are partial).
    """
    done = np.zeros(seeds.shape[0], dtype=np.uint8)
    for r in prange(seeds.shape[0]):
        done[r] = _one_run(kind, params, indptr, indices, probs, R, initial, horizon, episodes,
                           seeds[r], checkpoints, v_star, bernoulli, regret[r], simple[r], stop)
    return done

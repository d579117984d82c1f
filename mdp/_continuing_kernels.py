"""The jitted continuing (average-reward, no resets) loop, parallel over runs.

``simulate`` runs one agent for T steps from a start state drawn from the start distribution,
never resetting. Time is cut into UCRL2's episodes (Jaksch, Ortner and Auer 2010): episode k
starts at step t_k and ends before the first step whose pair (s, a) has been visited during the
episode as often as max(1, N_k(s, a)), its visits before the episode (the doubling trick). At
the start of each episode the agent computes a stationary policy and follows it:

* ``ucrl2``: extended value iteration over the L1 confidence sets (JOA 2010, sec. 3.1), stopped
  at span(u_{i+1} - u_i) < 1 / sqrt(t_k);
* ``psrl``: relative value iteration on one MDP sampled from its posterior;
* ``ce-greedy``, ``ce-optimistic``: relative value iteration on the plug-in model (plus the
  optimistic reward bonus).

Relative value iteration runs on the aperiodic transform P' = tau I + (1 - tau) P of the
agent's model (as mdp.relative_value_iteration) and stops at span(T'w - w) < epsilon; plug-in
models are often multichain early on, with a gain that differs between states, so that the span
never falls below epsilon: it then stops once T'w - w no longer changes (below STALL epsilon),
or after ``max_iter`` sweeps.

Regret is pseudo-regret: sum over steps of rho* - R(s_t, a_t) with the true mean rewards. At
checkpoints the policy the agent would deploy (greedy in its plug-in or posterior-mean model,
ties split evenly, no random draw) is evaluated exactly on the true model: its gain from the
start distribution, by linear algebra on the policy's chain (:func:`gain_vector`).

Randomness is the episodic loop's (mdp/_agent_kernels.py): the n-th visit of (s, a) reads the
n-th number of the counter-based streams keyed by (run seed, s, a); the start state is the
episodic loop's first start state; the agent's own draws come from its sequential stream.

Stopping: every run reads a one-byte flag every few thousand steps, at every episode and at
every sweep of its value iterations, and ends when another thread has set it, reporting that
it did not complete (tracking/runner.py).
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from tracking.batching import STOP_MASK
from tracking.jit import njit
from tracking.rng import (
    SALT_AGENT,
    argmax_random,
    counter_uniform,
    new_state,
    stream_key,
)

from ._agent_kernels import (
    EMPIRICAL,
    POSTERIOR_MEAN,
    SALT_START,
    SAMPLED,
    env_step,
    even_ties,
    q_row,
    sample_posterior,
    sample_start,
    sort_descending,
    ucrl2_constants,
    ucrl2_q_row,
)
from ._solver_kernels import policy_matrix_dense
from .agents import KIND_CE_OPTIMISTIC, KIND_PSRL, KIND_UCRL2

#: Weight of the aperiodicity transform P' = tau I + (1 - tau) P (mdp.solvers.RVI_TAU).
TAU = 0.5
#: Relative value iteration also stops once d = T'w - w changes by less than STALL * epsilon
#: in a sweep: d has converged, to a gain vector that is not constant (a multichain model).
STALL = 1e-3


@njit(cache=True)
def rvi_plan(mode, indptr, indices, cnt, n_sa, rsum, psamp, rsamp, bonus, r_lo, r_scale,
             epsilon, max_iter, w, u, v, d, q, stop=None):
    """Relative value iteration on the agent's model (modes of mdp/_agent_kernels.py).

    On the aperiodic transform: q(s, a) = R~(s, a) + (1 - tau) (P~ w)(s, a), u(s) = max_a
    q(s, a) + tau w(s), d_i = u - w. Stops when span(d_i) < epsilon (the gain is known within
    epsilon), or when max_s |d_i(s) - d_{i-1}(s)| < epsilon * STALL (d has converged to a gain
    that differs between states: a multichain model), or after ``max_iter`` sweeps; else
    w <- u - u[0]. On return ``q`` holds the last sweep's action values (the policy is greedy
    in them). Returns the number of sweeps; returns at once when ``stop[0]`` is set (read at
    every sweep).
    """
    n_states = w.shape[0]
    w[:] = 0.0
    it = 0
    while True:
        if stop is not None and stop[0] != 0:
            return it
        it += 1
        v_sum = 0.0
        for s in range(n_states):
            v[s] = (1.0 - TAU) * w[s]
            v_sum += v[s]
        for s in range(n_states):
            q_row(mode, s, 0, np.inf, indptr, indices, cnt, n_sa, rsum, psamp, rsamp, bonus,
                  r_lo, r_scale, v, v_sum, q[s])
            u[s] = q[s].max() + TAU * w[s]
        lo = np.inf
        hi = -np.inf
        change = 0.0
        for s in range(n_states):
            ds = u[s] - w[s]
            lo = min(lo, ds)
            hi = max(hi, ds)
            change = max(change, abs(ds - d[s]))
            d[s] = ds
        if hi - lo < epsilon or (it > 1 and change < STALL * epsilon) or it >= max_iter:
            return it
        ref = u[0]
        for s in range(n_states):
            w[s] = u[s] - ref


@njit(cache=True)
def evi_plan(indptr, indices, cnt, n_sa, rsum, c_p, c_r, r_scale, r_hi, epsilon, max_iter, w,
             u, q, p, order, stop=None):
    """UCRL2's extended value iteration (JOA 2010, sec. 3.1.2), relative form.

    u_0 = 0, u_{i+1}(s) = max_a q_i(s, a) with q_i = ucrl2_q_row on u_i (optimistic reward
    plus the L1 inner maximum, states sorted by u_i once per sweep); stop when
    span(u_{i+1} - u_i) < epsilon or after ``max_iter`` sweeps. The iterate is kept relative
    (w_i = u_i - u_i(0), which changes neither the differences nor the maximisers). On return
    ``q`` holds the last sweep's values. Returns the number of sweeps; returns at once when
    ``stop[0]`` is set (read at every sweep).
    """
    n_states = w.shape[0]
    w[:] = 0.0
    it = 0
    while True:
        if stop is not None and stop[0] != 0:
            return it
        it += 1
        sort_descending(w, order)
        for s in range(n_states):
            ucrl2_q_row(s, indptr, indices, cnt, n_sa, rsum, c_p, c_r, r_scale, r_hi, w, order,
                        p, q[s])
            u[s] = q[s].max()
        lo = np.inf
        hi = -np.inf
        for s in range(n_states):
            d = u[s] - w[s]
            lo = min(lo, d)
            hi = max(hi, d)
        if hi - lo < epsilon or it >= max_iter:
            return it
        ref = u[0]
        for s in range(n_states):
            w[s] = u[s] - ref


# --- exact gain of a stationary policy -------------------------------------------------------


@njit(cache=True)
def strong_components(M, comp, low, index, stack, onstack, cursor, call):
    """Tarjan's strongly connected components of the graph {s -> s' : M[s, s'] > 0}.

    Iterative; every argument after M is an int64 scratch vector of S entries. Writes
    comp[s] in 0 .. count - 1; returns count.
    """
    n = M.shape[0]
    for s in range(n):
        index[s] = -1
        onstack[s] = 0
    counter = 0
    count = 0
    top = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        index[root] = counter
        low[root] = counter
        counter += 1
        stack[top] = root
        top += 1
        onstack[root] = 1
        cursor[root] = 0
        call[0] = root
        depth = 1
        while depth > 0:
            x = call[depth - 1]
            descended = False
            while cursor[x] < n:
                y = cursor[x]
                cursor[x] += 1
                if M[x, y] > 0.0:
                    if index[y] < 0:
                        index[y] = counter
                        low[y] = counter
                        counter += 1
                        stack[top] = y
                        top += 1
                        onstack[y] = 1
                        cursor[y] = 0
                        call[depth] = y
                        depth += 1
                        descended = True
                        break
                    if onstack[y] == 1:
                        low[x] = min(low[x], index[y])
            if descended:
                continue
            if low[x] == index[x]:
                while True:
                    top -= 1
                    z = stack[top]
                    onstack[z] = 0
                    comp[z] = count
                    if z == x:
                        break
                count += 1
            depth -= 1
            if depth > 0:
                parent = call[depth - 1]
                low[parent] = min(low[parent], low[x])
    return count


@njit(cache=True)
def solve_in_place(G, b, n, stop=None):
    """Solve G[:n, :n] x = b[:n] by Gaussian elimination with partial pivoting; x into b.

    Returns at once, b partial, when ``stop[0]`` is set (read at every pivot).
    """
    for k in range(n):
        if stop is not None and stop[0] != 0:
            return
        piv = k
        big = abs(G[k, k])
        for i in range(k + 1, n):
            if abs(G[i, k]) > big:
                big = abs(G[i, k])
                piv = i
        if piv != k:
            for j in range(k, n):
                G[k, j], G[piv, j] = G[piv, j], G[k, j]
            b[k], b[piv] = b[piv], b[k]
        for i in range(k + 1, n):
            f = G[i, k] / G[k, k]
            if f != 0.0:
                for j in range(k, n):
                    G[i, j] -= f * G[k, j]
                b[i] -= f * b[k]
    for k in range(n - 1, -1, -1):
        acc = b[k]
        for j in range(k + 1, n):
            acc -= G[k, j] * b[j]
        b[k] = acc / G[k, k]


@njit(cache=True)
def gain_vector(indptr, indices, probs, R, pi, M, G, fw, iw, g, stop=None):
    """Exact gain g(s) = lim (1/T) E[sum_{t<T} r_pi(s_t) | s_0 = s] of a stationary policy.

    g = P* r_pi with P* the Cesaro limit of P_pi, for any chain (multichain included):

    1. the recurrent classes are the closed strongly connected components of P_pi's graph;
    2. in each class C, the stationary distribution mu_C solves mu (I - P_CC) = 0, sum mu = 1
       (the last balance equation replaced by the normalisation), and g = mu_C . r_pi on C;
    3. on the transient states T, g_T solves (I - P_TT) g_T = P_{T, rec} g_rec.

    Scratch: M, G (S, S); fw (2, S) floats; iw (8, S) int64. Writes g (S,), partly when
    ``stop[0]`` is set during the linear solves (they return at once).
    """
    n = R.shape[0]
    r = fw[0]
    rhs = fw[1]
    comp, low, index, stack, onstack, cursor, call, members = (
        iw[0], iw[1], iw[2], iw[3], iw[4], iw[5], iw[6], iw[7])
    policy_matrix_dense(indptr, indices, probs, R, pi, M, r)
    count = strong_components(M, comp, low, index, stack, onstack, cursor, call)
    closed = low  # reuse: closed[c] for c < count
    for c in range(count):
        closed[c] = 1
    for s in range(n):
        for s2 in range(n):
            if M[s, s2] > 0.0 and comp[s2] != comp[s]:
                closed[comp[s]] = 0
    for c in range(count):
        if closed[c] == 0:
            continue
        size = 0
        for s in range(n):
            if comp[s] == c:
                members[size] = s
                size += 1
        # (I - P_CC)^T mu = 0 with the last equation replaced by sum mu = 1
        for i in range(size):
            for j in range(size):
                G[i, j] = (1.0 if i == j else 0.0) - M[members[j], members[i]]
            rhs[i] = 0.0
        for j in range(size):
            G[size - 1, j] = 1.0
        rhs[size - 1] = 1.0
        solve_in_place(G, rhs, size, stop)
        gc = 0.0
        for i in range(size):
            gc += rhs[i] * r[members[i]]
        for i in range(size):
            g[members[i]] = gc
    size = 0
    for s in range(n):
        if closed[comp[s]] == 0:
            members[size] = s
            size += 1
    if size > 0:
        for i in range(size):
            si = members[i]
            acc = 0.0
            for s2 in range(n):
                if closed[comp[s2]] == 1:
                    acc += M[si, s2] * g[s2]
            rhs[i] = acc
            for j in range(size):
                G[i, j] = (1.0 if i == j else 0.0) - M[si, members[j]]
        solve_in_place(G, rhs, size, stop)
        for i in range(size):
            g[members[i]] = rhs[i]


# --- the loop --------------------------------------------------------------------------------


@njit(cache=True)
def _one_run(kind, params, indptr, indices, probs, R, initial, seed, checkpoints, rho_star,
             bernoulli, max_iter, deploy_epsilon, regret, simple, episodes, stop):
    """One run of one agent; True when it completed, False when ``stop[0]`` was set.

    The flag is read at every episode, every STOP_EVERY steps, at every sweep of the value
    iterations and at every pivot of the exact gain; a helper cut short leaves partial arrays,
    so a run reports completion only when the flag is still clear at its end.
    """
    n_states, n_actions = R.shape
    n_rows = n_states * n_actions
    steps = checkpoints[-1]
    st = new_state(seed, SALT_AGENT)
    start_key = stream_key(seed, SALT_START, 0, 0)
    # every array allocated here is counted by mdp.continuing.run_state_bytes (the memory guard)
    cdf = np.cumsum(initial)
    cnt = np.zeros(indices.shape[0], dtype=np.int64)
    n_sa = np.zeros(n_rows, dtype=np.int64)
    rsum = np.zeros(n_rows)
    n_start = np.zeros(n_rows, dtype=np.int64)  # N_k(s, a): visits before the episode
    nu = np.zeros(n_rows, dtype=np.int64)  # v_k(s, a): visits during the episode
    pol = np.zeros(n_states, dtype=np.int64)
    pi = np.zeros((n_states, n_actions))
    w = np.zeros(n_states)
    u = np.zeros(n_states)
    v = np.zeros(n_states)
    dvec = np.zeros(n_states)
    q = np.zeros((n_states, n_actions))
    p_opt = np.zeros(n_states)
    order = np.arange(n_states)
    psamp = np.zeros((n_rows, n_states) if kind == KIND_PSRL else (1, 1))
    rsamp = np.zeros(n_rows if kind == KIND_PSRL else 1)
    logs = np.zeros(n_states)
    M = np.zeros((n_states, n_states))
    G = np.zeros((n_states, n_states))
    fw = np.zeros((2, n_states))
    iw = np.zeros((8, n_states), dtype=np.int64)
    g = np.zeros(n_states)
    r_lo = min(0.0, R.min())
    r_hi = max(1.0, R.max())
    r_scale = r_hi - r_lo
    psrl_scale = 1.0 / r_scale if kind == KIND_PSRL else 1.0
    psrl_lo = r_lo if kind == KIND_PSRL else 0.0
    bonus = 0.0
    if kind == KIND_CE_OPTIMISTIC:
        bonus = params[0] * math.sqrt(math.log(n_rows * steps / params[1]))
    s = sample_start(cdf, counter_uniform(start_key, 0))
    t = 0
    cum = 0.0
    nxt = 0
    k = 0
    while t < steps:
        if stop[0] != 0:
            return False
        # a new episode: its stationary policy
        k += 1
        t_k = max(1.0, float(t))
        eps = 1.0 / math.sqrt(t_k)
        for row in range(n_rows):
            n_start[row] = n_sa[row]
            nu[row] = 0
        if kind == KIND_PSRL:
            sample_posterior(indptr, indices, cnt, n_sa, rsum, r_lo, r_scale, st, psamp, rsamp,
                             logs, stop)
            rvi_plan(SAMPLED, indptr, indices, cnt, n_sa, rsum, psamp, rsamp, 0.0, r_lo,
                     r_scale, eps, max_iter, w, u, v, dvec, q, stop)
        elif kind == KIND_UCRL2:
            c_p, c_r = ucrl2_constants(n_states, n_actions, t_k, params[0])
            evi_plan(indptr, indices, cnt, n_sa, rsum, c_p, c_r, r_scale, r_hi, eps, max_iter,
                     w, u, q, p_opt, order, stop)
        else:
            rvi_plan(EMPIRICAL, indptr, indices, cnt, n_sa, rsum, psamp, rsamp, bonus, 0.0, 1.0,
                     eps, max_iter, w, u, v, dvec, q, stop)
        if stop[0] != 0:  # the plan was cut short: q is partial
            return False
        for s2 in range(n_states):
            pol[s2] = argmax_random(q[s2], st)
        # follow it until a pair's visits in the episode reach max(1, its visits before)
        while t < steps:
            if (t & STOP_MASK) == 0 and stop[0] != 0:
                return False
            a = pol[s]
            row = s * n_actions + a
            if nu[row] >= max(1, n_start[row]):
                break
            n = n_sa[row]
            j, r = env_step(seed, indptr, indices, probs, R, s, a, n, bernoulli)
            cnt[j] += 1
            n_sa[row] = n + 1
            nu[row] += 1
            rsum[row] += (r - psrl_lo) * psrl_scale
            cum += rho_star - R[s, a]
            s = indices[j]
            t += 1
            if t == checkpoints[nxt]:
                regret[nxt] = cum
                episodes[nxt] = k
                # the policy it would deploy now (leaves pol, the episode's policy, alone)
                if kind == KIND_PSRL:
                    rvi_plan(POSTERIOR_MEAN, indptr, indices, cnt, n_sa, rsum, psamp, rsamp,
                             0.0, r_lo, r_scale, deploy_epsilon, max_iter, w, u, v, dvec, q,
                             stop)
                else:
                    rvi_plan(EMPIRICAL, indptr, indices, cnt, n_sa, rsum, psamp, rsamp, 0.0,
                             0.0, 1.0, deploy_epsilon, max_iter, w, u, v, dvec, q, stop)
                for s2 in range(n_states):
                    even_ties(q[s2], pi[s2])
                gain_vector(indptr, indices, probs, R, pi, M, G, fw, iw, g, stop)
                gain = 0.0
                for s2 in range(n_states):
                    gain += initial[s2] * g[s2]
                simple[nxt] = rho_star - gain
                nxt += 1
    return stop[0] == 0


@njit(cache=True, parallel=True, nogil=True)
def simulate(kind, params, indptr, indices, probs, R, initial, seeds, checkpoints, rho_star,
             bernoulli, max_iter, deploy_epsilon, regret, simple, episodes, stop):
    """Run agent ``kind`` for T = checkpoints[-1] steps without resets on each run.

    Returns which runs completed. It releases the GIL, so it can run in a worker thread while
    the calling program waits (tracking.runner.run_interruptible).

    Parameters
    ----------
    kind : int
        Agent kind (mdp.agents): ce-greedy, ce-optimistic, psrl or ucrl2.
    params : float64[4]
        The agent's hyperparameter vector.
    indptr, indices, probs : CSR arrays of the true model (FiniteMDP).
    R : float64[S, A]
        Mean rewards.
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
    max_iter : int
        Cap on the sweeps of every value iteration.
    deploy_epsilon : float
        Span tolerance of the value iteration that finds the deployed policy.
    regret, simple : float64[runs, C]
        Out: cumulative pseudo-regret sum_t (rho* - R(s_t, a_t)) and the simple regret
        rho* - gain of the deployed policy from the start distribution, at the checkpoints.
    episodes : int64[runs, C]
        Out: the number of the episode in progress at each checkpoint (from 1).
    stop : uint8[1]
        Set to 1 by another thread to stop every run within milliseconds.

    Returns
    -------
    uint8[runs]
        1 for a run that completed, 0 for one cut short by ``stop`` (its arrays are partial).
    """
    done = np.zeros(seeds.shape[0], dtype=np.uint8)
    for r in prange(seeds.shape[0]):
        done[r] = _one_run(kind, params, indptr, indices, probs, R, initial, seeds[r],
                           checkpoints, rho_star, bernoulli, max_iter, deploy_epsilon,
                           regret[r], simple[r], episodes[r], stop)
    return done

"""The jitted bandit loop: one kernel for every agent, parallel over runs.

``simulate`` runs one agent on a batch of runs. The agent is an integer ``kind`` (see
bandits/agents.py) with a float vector of hyperparameters; the time loop dispatches on it to small
functions that numba inlines, so the loop is compiled once, cached on disk, and serves every
agent. Nothing is allocated inside the time loop.

Randomness (tracking/rng.py): the n-th pull of arm k in a run reads the n-th number of the
counter-based stream keyed by (run seed, k), so every agent sees the same rewards (common random
numbers); the agent's own draws come from a sequential stream keyed by the run seed alone.

Stopping: every run reads a one-byte flag every few thousand rounds and ends when another
thread has set it, reporting that it did not complete (tracking/runner.py).
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
    argmax_of_max,
    argmax_random,
    counter_normal,
    counter_uniform,
    gamma_mt,
    new_state,
    normal,
    randint,
    stream_key,
    uniform,
)

from .agents import (
    KIND_EPSILON_GREEDY,
    KIND_ETC,
    KIND_GREEDY,
    KIND_KLUCB,
    KIND_PG_EXACT,
    KIND_REINFORCE,
    KIND_THOMPSON,
    KIND_UCB,
)
from .envs import BERNOULLI

KLUCB_TOL = 1e-6


@njit(cache=True, inline="always")
def _bernoulli_kl(p, q):
    """KL(Bernoulli(p), Bernoulli(q)) with p, q clipped to [1e-15, 1 - 1e-15]."""
    eps = 1e-15
    p = min(max(p, eps), 1.0 - eps)
    q = min(max(q, eps), 1.0 - eps)
    return p * math.log(p / q) + (1.0 - p) * math.log((1.0 - p) / (1.0 - q))


@njit(cache=True)
def klucb_index(mean, d, hi):
    """max{q in [mean, 1] : KL(mean, q) <= d}, from above, to KLUCB_TOL.

    ``hi`` is an upper bound of the answer (Pinsker's). q -> KL(mean, q) - d is convex and
    increasing on [mean, 1], so Newton's iterates from ``hi`` decrease monotonically to the
    root and never pass it. The iteration stops once KL(mean, q - KLUCB_TOL) <= d certifies
    that the root lies in [q - KLUCB_TOL, q]: the index returned is at most KLUCB_TOL above
    the exact one, never below it.
    """
    q = min(hi, 1.0 - 1e-12)
    f = _bernoulli_kl(mean, q) - d
    if f <= 0.0:
        return hi
    for _ in range(200):
        q -= f * q * (1.0 - q) / (q - mean)
        f = _bernoulli_kl(mean, q) - d
        if f <= 0.0:
            break
        low = q - KLUCB_TOL
        if low <= mean or _bernoulli_kl(mean, low) <= d:
            break
    return q


@njit(cache=True, inline="always")
def _softmax(h, pi):
    """pi = softmax(h), computed stably (shifted by max h)."""
    m = h.max()
    total = 0.0
    for k in range(h.shape[0]):
        pi[k] = math.exp(h[k] - m)
        total += pi[k]
    for k in range(h.shape[0]):
        pi[k] /= total


@njit(cache=True, inline="always")
def _sample(pi, st):
    """An index drawn from the distribution pi by inversion."""
    u = uniform(st)
    acc = 0.0
    last = pi.shape[0] - 1
    for k in range(last):
        acc += pi[k]
        if u <= acc:
            return k
    return last


@njit(cache=True)
def _select_klucb(c, t, env_kind, sigma, counts, est, st):
    """KL-UCB's arm; arms whose Pinsker bound is below the running best are skipped exactly."""
    lt = math.log(t)
    if c > 0.0 and t > 1:
        lt += c * math.log(max(lt, 1e-300))
    k_arms = counts.shape[0]
    lead = 0  # start from the empirically best arm, so that the others are pruned early
    for k in range(1, k_arms):
        if est[k] > est[lead]:
            lead = k
    best = -np.inf
    idx = 0
    ties = 0
    for j in range(k_arms):
        k = (lead + j) % k_arms
        d = lt / counts[k]
        if env_kind == BERNOULLI:
            # Pinsker: KL(p, q) >= 2 (q - p)^2, so the index is at most p + sqrt(d / 2).
            hi = min(1.0, est[k] + math.sqrt(0.5 * d))
            if hi < best:
                continue
            # KL(p, .) increases on [p, 1]: KL(p, best - tol) > d means the exact index is
            # below best - tol, so even its computed value (at most tol above) loses to best.
            low = best - KLUCB_TOL
            if est[k] < low and _bernoulli_kl(est[k], low) > d:
                continue
            v = klucb_index(est[k], d, hi)
        else:
            v = est[k] + sigma * math.sqrt(2.0 * d)
        if v > best:
            best = v
            idx = k
            ties = 1
        elif v == best:
            ties += 1
            if uniform(st) * ties <= 1.0:
                idx = k
    return idx


@njit(cache=True)
def _deployed_gap(kind, env_kind, mu, best_mean, counts, sums, est, h, work, from_q0):
    """Simple regret: mu* minus the expected mean of the policy the agent would deploy now.

    The model-based agents deploy argmax of their fitted means over the arms pulled so far
    (posterior means for Bernoulli Thompson), ties split evenly; the softmax agents deploy
    pi = softmax(H). Agents started from estimates q0 deploy argmax of their estimates over all
    arms. Computed as an average of gaps mu* - mu_k, so it is exactly 0 when every arm is
    optimal and never negative.
    """
    k_arms = mu.shape[0]
    if kind == KIND_REINFORCE or kind == KIND_PG_EXACT:
        _softmax(h, work)
        total = 0.0
        for k in range(k_arms):
            total += work[k] * (best_mean - mu[k])
        return total
    best = -np.inf
    acc = 0.0
    ties = 0
    for k in range(k_arms):
        if kind == KIND_THOMPSON and env_kind == BERNOULLI:
            v = (1.0 + sums[k]) / (2.0 + counts[k])
        elif counts[k] > 0 or from_q0:
            v = est[k]
        else:
            continue
        if v > best:
            best = v
            acc = best_mean - mu[k]
            ties = 1
        elif v == best:
            acc += best_mean - mu[k]
            ties += 1
    if ties == 0:  # nothing pulled yet: a uniform arm
        for k in range(k_arms):
            acc += best_mean - mu[k]
        return acc / k_arms
    return acc / ties


@njit(cache=True, inline="always")
def _set_posterior(row, a, b):
    """row = (d_a, c_a, d_b, c_b): Marsaglia-Tsang constants of Gamma(a) and Gamma(b), a, b >= 1."""
    row[0] = a - 1.0 / 3.0
    row[1] = 1.0 / math.sqrt(9.0 * row[0])
    row[2] = b - 1.0 / 3.0
    row[3] = 1.0 / math.sqrt(9.0 * row[2])


@njit(cache=True)
def _one_run(kind, params, env_kind, mu, sigma, horizon, seed, checkpoints, regret, simple, counts,
             roots, stop):
    """One run of one agent; writes the curves at the checkpoints and the final pull counts.

    ``roots[t] = (sqrt(c ln t), 1 / sqrt(t))`` for t < len(roots): UCB1's index terms, shared
    read-only by the runs (computed here past the table). Every STOP_EVERY rounds
    (tracking.batching) it reads
    ``stop[0]``: when another thread has set it, the run ends there and returns False (its
    arrays are then incomplete); True when the run is complete.
    """
    k_arms = mu.shape[0]
    best_mean = mu.max()
    # every array allocated here is counted by bandits.loop.run_state_bytes (the memory guard)
    keys = np.empty(k_arms, dtype=np.uint64)
    for k in range(k_arms):
        keys[k] = stream_key(seed, SALT_REWARD, k, 0)
    st = new_state(seed, SALT_AGENT)
    counts[:] = 0
    sums = np.zeros(k_arms)
    est = np.zeros(k_arms)
    work = np.zeros(k_arms)
    h = np.zeros(k_arms)
    inv_sqrt = np.zeros(k_arms)  # 1 / sqrt(N_k), for UCB1
    # Marsaglia-Tsang constants (d, c) of the Beta(1 + S_k, 1 + N_k - S_k) posteriors' two
    # Gamma variates, updated only for the arm pulled
    post = np.empty((k_arms, 4))
    for k in range(k_arms):
        _set_posterior(post[k], 1.0, 1.0)
    p0 = params[0]
    explore = k_arms * int(p0) if kind == KIND_ETC else k_arms
    # greedy and epsilon-greedy may start from estimates q0 instead of a round of pulls
    from_q0 = (kind == KIND_GREEDY or kind == KIND_EPSILON_GREEDY) and params[2] == 0.0
    if from_q0:
        explore = 0
        est[:] = params[3]
    baseline = params[1] > 0.0
    reward_total = 0.0
    commit = -1
    cum = 0.0
    nxt = 0
    for t in range(1, horizon + 1):
        if (t & STOP_MASK) == 0 and stop[0] != 0:
            return False
        # --- select -------------------------------------------------------------------
        if kind == KIND_REINFORCE:
            _softmax(h, work)
            a = _sample(work, st)
        elif kind == KIND_PG_EXACT:
            _softmax(h, work)
            a = _sample(work, st)
        elif kind == KIND_THOMPSON and env_kind == BERNOULLI:
            for k in range(k_arms):
                x = gamma_mt(st, post[k, 0], post[k, 1])
                y = gamma_mt(st, post[k, 2], post[k, 3])
                work[k] = x / (x + y)
            a = argmax_random(work, st)
        elif t <= explore:
            a = (t - 1) % k_arms
        elif kind == KIND_GREEDY:
            a = argmax_random(est, st)
        elif kind == KIND_EPSILON_GREEDY:
            if uniform(st) < p0:
                a = randint(st, k_arms)
            else:
                a = argmax_random(est, st)
        elif kind == KIND_ETC:
            if commit < 0:
                commit = argmax_random(est, st)
            a = commit
        elif kind == KIND_UCB:
            root = roots[t, 0] if t < roots.shape[0] else math.sqrt(p0 * math.log(t))
            m = -np.inf
            for k in range(k_arms):
                v = est[k] + root * inv_sqrt[k]
                work[k] = v
                m = v if v > m else m
            a = argmax_of_max(work, m, st)
        elif kind == KIND_KLUCB:
            a = _select_klucb(p0, t, env_kind, sigma, counts, est, st)
        else:  # KIND_THOMPSON, Gaussian arms: flat prior, N(mu_hat, sigma^2 / N)
            for k in range(k_arms):
                work[k] = est[k] + sigma / math.sqrt(counts[k]) * normal(st)
            a = argmax_random(work, st)
        # --- reward: the counts[a]-th pull of arm a ------------------------------------
        if env_kind == BERNOULLI:
            x = 1.0 if counter_uniform(keys[a], counts[a]) <= mu[a] else 0.0
        else:
            x = mu[a] + sigma * counter_normal(keys[a], counts[a])
        # --- update ---------------------------------------------------------------------
        counts[a] += 1
        sums[a] += x
        est[a] = sums[a] / counts[a]
        if kind == KIND_UCB:
            n = counts[a]
            inv_sqrt[a] = roots[n, 1] if n < roots.shape[0] else 1.0 / math.sqrt(n)
        elif kind == KIND_THOMPSON and env_kind == BERNOULLI:
            _set_posterior(post[a], 1.0 + sums[a], 1.0 + counts[a] - sums[a])
        elif kind == KIND_REINFORCE:
            b = reward_total / (t - 1) if (baseline and t > 1) else 0.0
            g = p0 * (x - b)
            for k in range(k_arms):
                h[k] -= g * work[k]
            h[a] += g
            reward_total += x
        elif kind == KIND_PG_EXACT:
            # exact gradient of pi . mu: dJ/dH_k = pi_k (mu_k - pi . mu)
            value = 0.0
            for k in range(k_arms):
                value += work[k] * mu[k]
            for k in range(k_arms):
                h[k] += p0 * work[k] * (mu[k] - value)
        cum += best_mean - mu[a]
        if t == checkpoints[nxt]:
            regret[nxt] = cum
            simple[nxt] = _deployed_gap(kind, env_kind, mu, best_mean, counts, sums, est, h, work,
                                        from_q0)
            nxt += 1
    return True


@njit(cache=True, parallel=True, nogil=True)
def simulate(kind, params, env_kind, means, sigma, horizon, seeds, checkpoints, regret, simple,
             counts, stop):
    """Run agent ``kind`` on ``len(seeds)`` runs in parallel; returns which runs completed.

    It releases the GIL, so it can run in a worker thread while the calling program waits
    (tracking.runner.run_interruptible).

    Parameters
    ----------
    kind : int
        Agent kind (bandits.agents).
    params : float64[4]
        The agent's hyperparameter vector.
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
    # UCB1's sqrt(c ln t) and 1 / sqrt(t) for t < min(T + 1, 2^20), shared read-only by the runs
    # (counted by bandits.loop.BanditJob.call_bytes)
    roots = np.empty((min(horizon + 1, 1 << 20) if kind == KIND_UCB else 0, 2))
    for t in range(1, roots.shape[0]):
        roots[t, 0] = math.sqrt(params[0] * math.log(t))
        roots[t, 1] = 1.0 / math.sqrt(t)
    done = np.zeros(seeds.shape[0], dtype=np.uint8)
    for r in prange(seeds.shape[0]):
        mu = means[r] if per_run else means[0]
        done[r] = _one_run(kind, params, env_kind, mu, sigma, horizon, seeds[r], checkpoints,
                           regret[r], simple[r], counts[r], roots, stop)
    return done

"""Kernel pieces shared by several bandit agents.

Round robin, sample means, the greedy policy's simple regret with ties split evenly, the
softmax policy and sampling from it by inversion, the count bonus of the policy-gradient
agents, and KL-UCB's Bernoulli index. They take
arrays, or any state with the fields they name (``update_means`` and ``deploy_pulled`` read
``state.sums`` and ``state.est``), so one definition serves every agent that uses it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from tracking.jit import njit
from tracking.rng import uniform

KLUCB_TOL = 1e-6

#: The decorator of the pieces the loop calls at every round (``select``, ``update``) and at
#: checkpoints (the readouts ``deploy_greedy`` and ``deploy_behaviour``): inlined into the
#: hook's compiled call, which runs without numba's reference counting (hooks.py), so they
#: read their state's arrays at no atomic cost and cannot allocate.
hot = njit(inline="always", _nrt=False)

#: Bytes of one float64 or int64 number.
WORD = 8


def vectors(n: int) -> Callable[[tuple, int, int], tuple[int, int]]:
    """The footprint of an agent without a shared table whose state is ``n`` arrays of K
    numbers (see ``hooks.register_agent``)."""
    return lambda params, k_arms, horizon: (0, WORD * n * k_arms)


@njit(cache=True)
def no_table(params, horizon):
    """The empty shared table of the agents that need none."""
    return np.empty(0)


@njit(cache=True, inline="always")
def round_robin(t, k_arms):
    """Arm t - 1 (mod K) at round t: the initial pulls of the agents marked "one pull each"."""
    return (t - 1) % k_arms


@njit(cache=True, inline="always")
def record_mean(sums, est, counts, a, x):
    """S_a += x and mu_hat_a = S_a / N_a (``counts`` already includes this pull)."""
    sums[a] += x
    est[a] = sums[a] / counts[a]


@hot
def update_means(params, state, counts, a, x, t):
    """``update`` of the agents whose state is the sample means (``state.sums``, ``state.est``)."""
    record_mean(state.sums, state.est, counts, a, x)


@njit(cache=True, inline="always")
def mean_gap(mu, best):
    """mu* minus the mean of a uniform arm, as an average of the gaps mu* - mu_k."""
    acc = 0.0
    for k in range(mu.shape[0]):
        acc += best - mu[k]
    return acc / mu.shape[0]


@njit(cache=True)
def greedy_gap(values, counts, mu, best, all_arms):
    """mu* minus the mean of argmax_k values_k, tied arms mixed evenly.

    The argmax runs over the arms pulled at least once, or over all arms when ``all_arms``;
    before any pull, a uniform arm. Computed as an average of gaps mu* - mu_k, so it is exactly
    0 when every arm is optimal and never negative.
    """
    k_arms = mu.shape[0]
    top = -np.inf
    acc = 0.0
    ties = 0
    for k in range(k_arms):
        if counts[k] == 0 and not all_arms:
            continue
        v = values[k]
        if v > top:
            top = v
            acc = best - mu[k]
            ties = 1
        elif v == top:
            acc += best - mu[k]
            ties += 1
    if ties == 0:  # nothing pulled yet: a uniform arm
        return mean_gap(mu, best)
    return acc / ties


@hot
def deploy_pulled(params, state, counts, t, mu, best, st):
    """``deploy_greedy`` of the sample-mean agents: argmax of mu_hat over the arms pulled."""
    return greedy_gap(state.est, counts, mu, best, False)


@njit(cache=True, inline="always")
def round_robin_gap(t, mu, best):
    """mu* - mu_k of the arm k the round robin pulls at round t + 1 (the behaviour readout at
    round t of an agent still in its round robin)."""
    return best - mu[round_robin(t + 1, mu.shape[0])]


@njit(cache=True, inline="always")
def softmax(h, pi):
    """pi = softmax(h), computed stably (shifted by max h)."""
    # max h by a loop, not h.max(): numba fails to compile ndarray.max inside this inlined
    # function when it is first compiled from a pure-Python caller
    m = h[0]
    for k in range(1, h.shape[0]):
        m = h[k] if h[k] > m else m
    total = 0.0
    for k in range(h.shape[0]):
        pi[k] = math.exp(h[k] - m)
        total += pi[k]
    for k in range(h.shape[0]):
        pi[k] /= total


@njit(cache=True, inline="always")
def sample(pi, st):
    """An index drawn from the distribution pi by inversion of one uniform."""
    u = uniform(st)
    acc = 0.0
    last = pi.shape[0] - 1
    for k in range(last):
        acc += pi[k]
        if u <= acc:
            return k
    return last


@njit(cache=True, inline="always")
def seen_reward(params, counts, a, x):
    """The reward a policy-gradient update sees: x + c / sqrt(N_a) with c = ``params.bonus``
    (``counts`` including this pull), or x itself when c = 0."""
    if params.bonus > 0.0:
        return x + params.bonus / math.sqrt(counts[a])
    return x


@njit(cache=True)
def softmax_gap(h, pi, mu, best):
    """sum_k pi_k (mu* - mu_k) for pi = softmax(h) (written into ``pi``)."""
    softmax(h, pi)
    total = 0.0
    for k in range(mu.shape[0]):
        total += pi[k] * (best - mu[k])
    return total


@njit(cache=True, inline="always")
def bernoulli_kl(p, q):
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
    f = bernoulli_kl(mean, q) - d
    if f <= 0.0:
        return hi
    for _ in range(200):
        q -= f * q * (1.0 - q) / (q - mean)
        f = bernoulli_kl(mean, q) - d
        if f <= 0.0:
            break
        low = q - KLUCB_TOL
        if low <= mean or bernoulli_kl(mean, low) <= d:
            break
    return q

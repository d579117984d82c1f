"""A plain-Python reading of docs/algorithms.md, for checking the jitted loop step by step.

It draws from the same random streams as the kernel (tracking/rng.py: the reward of the n-th
pull of arm k is the n-th number of the stream keyed by (run seed, k); the agent's own draws come
from the run's agent stream, in the same order), so for a given run it must reproduce the
kernel's regret curve exactly. Everything else (the agents' rules, the bookkeeping, regret) is
written again here from the definitions, as directly as possible.
"""

from __future__ import annotations

import math

import numpy as np

from bandits._agents.common import klucb_index
from tracking import rng


def _argmax(values, st):
    """The maximum's index; ties: uniform draw over the tied indices, in index order."""
    best = max(values)
    tied = [k for k, v in enumerate(values) if v == best]
    idx = tied[0]
    for i, k in enumerate(tied[1:], start=2):
        if rng.uniform(st) * i <= 1.0:
            idx = k
    return idx


def _argmax_scan(values, st, order):
    """KL-UCB's single scan in ``order``: a reservoir draw at each tie with the running max."""
    best, idx, ties = -math.inf, -1, 0
    for k in order:
        v = values[k]
        if v > best:
            best, idx, ties = v, k, 1
        elif v == best:
            ties += 1
            if rng.uniform(st) * ties <= 1.0:
                idx = k
    return idx


def _softmax(h):
    """Stable softmax, summed left to right as the kernel does (bit-for-bit comparisons)."""
    e = [math.exp(v - max(h)) for v in h]
    total = 0.0
    for v in e:
        total += v
    return np.array([v / total for v in e])


def reference_run(agent, env, horizon, seed, checkpoints):
    """Regret and simple regret at ``checkpoints`` and final pulls, for one run."""
    mu = env.means
    k_arms = len(mu)
    best_mean = mu.max()
    gaussian = env.family == "gaussian"
    keys = [np.uint64(rng.stream_key(np.uint64(seed), rng.SALT_REWARD, k, 0))
            for k in range(k_arms)]
    st = rng.new_state(np.uint64(seed), rng.SALT_AGENT)
    n = np.zeros(k_arms, dtype=np.int64)
    s = np.zeros(k_arms)
    h = np.zeros(k_arms)
    name = agent.name
    p = agent.get_params()
    rewards_seen = []
    commit = None
    cum = 0.0
    regret, simple = [], []
    from_q0 = name in ("greedy", "epsilon-greedy") and not p["round_robin"]
    q0 = p.get("q0", 0.0)
    for t in range(1, horizon + 1):
        # estimates: sample means; unpulled arms q0 (no round robin) or 0 (never used)
        est = np.where(n > 0, s / np.maximum(n, 1), q0 if from_q0 else 0.0)
        pi = None
        if name in ("reinforce", "pg-exact"):
            pi = _softmax(h)
            u, acc, a = rng.uniform(st), 0.0, k_arms - 1
            for k in range(k_arms - 1):  # inversion: the first k with u <= pi_0 + ... + pi_k
                acc += pi[k]
                if u <= acc:
                    a = k
                    break
        elif name == "thompson" and not gaussian:
            samples = [rng.beta(st, 1.0 + s[k], 1.0 + n[k] - s[k]) for k in range(k_arms)]
            a = _argmax(samples, st)
        elif t <= (p["m"] * k_arms if name == "etc" else 0 if from_q0 else k_arms):
            a = (t - 1) % k_arms
        elif name == "greedy":
            a = _argmax(est, st)
        elif name == "epsilon-greedy":
            a = rng.randint(st, k_arms) if rng.uniform(st) < p["epsilon"] else _argmax(est, st)
        elif name == "etc":
            if commit is None:
                commit = _argmax(est, st)
            a = commit
        elif name == "ucb":
            root = math.sqrt(p["c"] * math.log(t))  # sqrt(c ln t / N_k) = root / sqrt(N_k)
            a = _argmax([est[k] + root * (1.0 / math.sqrt(n[k])) for k in range(k_arms)], st)
        elif name == "kl-ucb":
            d = math.log(t) + (p["c"] * math.log(math.log(t)) if p["c"] > 0 else 0.0)
            if gaussian:
                idx = [est[k] + env.sigma * math.sqrt(2 * d / n[k]) for k in range(k_arms)]
            else:
                idx = [klucb_index(est[k], d / n[k], min(1.0, est[k] + math.sqrt(d / n[k] / 2)))
                       for k in range(k_arms)]
            lead = int(np.argmax(est))  # the kernel scans from the empirical leader
            a = _argmax_scan(idx, st, [(lead + j) % k_arms for j in range(k_arms)])
        elif name == "thompson":
            a = _argmax([est[k] + env.sigma / math.sqrt(n[k]) * rng.normal(st)
                         for k in range(k_arms)], st)
        else:
            raise AssertionError(name)
        if gaussian:
            x = mu[a] + env.sigma * rng.counter_normal(keys[a], n[a])
        else:
            x = 1.0 if rng.counter_uniform(keys[a], n[a]) <= mu[a] else 0.0
        n[a] += 1
        s[a] += x
        if name == "reinforce":
            # H <- H + alpha (R - b)(onehot(A) - pi), b the mean of the earlier rewards
            b = sum(rewards_seen) / len(rewards_seen) if (p["baseline"] and rewards_seen) else 0.0
            g = p["alpha"] * (x - b)
            h = h - g * pi
            h[a] += g
        elif name == "pg-exact":
            value = sum(pi[k] * mu[k] for k in range(k_arms))
            h = h + p["alpha"] * pi * (mu - value)
        rewards_seen.append(x)
        cum += best_mean - mu[a]
        if t in checkpoints:
            regret.append(cum)
            simple.append(best_mean - _deployed_mean(name, gaussian, mu, n, s, h,
                                                     q0 if from_q0 else None))
    return np.array(regret), np.array(simple), n


def _deployed_mean(name, gaussian, mu, n, s, h, q0=None):
    if name in ("reinforce", "pg-exact"):
        return float(_softmax(h) @ mu)
    if name == "thompson" and not gaussian:
        values = (1 + s) / (2 + n)
    elif q0 is not None:  # estimates started at q0: every arm has one
        values = np.where(n > 0, s / np.maximum(n, 1), q0)
    else:
        if not np.any(n > 0):
            return float(mu.mean())
        values = np.where(n > 0, s / np.maximum(n, 1), -np.inf)
    return float(mu[values == values.max()].mean())

"""A plain-Python reading of docs/algorithms.md, for checking the jitted loop step by step.

It draws from the same random streams as the kernel (tracking/rng.py: the reward of the n-th
pull of arm k is the n-th number of the stream keyed by (run seed, k); the agent's own draws come
from the run's agent stream, in the same order; a Thompson agent's behaviour readout at round t
from the readout stream keyed by (run seed, t)), so for a given run it must reproduce the
kernel's regret curve and both readouts of simple regret exactly. Everything else (the agents'
rules, the bookkeeping, regret, the readouts) is written again here from the definitions, as
directly as possible; sums run in the kernel's order, so that the numbers agree to the last bit.
"""

from __future__ import annotations

import math

import numpy as np

from bandits._agents.common import klucb_index
from tracking import rng

#: The agents that act by A_t ~ softmax(H) from round 1, without a round robin.
SOFTMAX = ("reinforce", "pg-exact", "rloo", "grpo", "ppo", "actor-critic", "npg")


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


def _gap_of_argmax(values, mu, order):
    """mu* minus the mean of the arms of largest value, an even mix of the tied ones: the
    average of their gaps, added up in ``order`` (the indices considered)."""
    best = mu.max()
    top = max(values[k] for k in order)
    tied = [k for k in order if values[k] == top]
    acc = best - mu[tied[0]]
    for k in tied[1:]:
        acc += best - mu[k]
    return acc / len(tied)


def _uniform_gap(mu):
    """mu* minus the mean of a uniform arm (the average of the gaps, in index order)."""
    return _gap_of_argmax(np.zeros(len(mu)), mu, range(len(mu)))


def _round_robin_rounds(name, p, gaussian, k_arms, from_q0):
    """Rounds 1..L of the initial round robin: mK for etc, K for the agents marked "one pull
    each", 0 for the others."""
    if name == "etc":
        return p["m"] * k_arms
    if from_q0 or name in SOFTMAX or (name == "thompson" and not gaussian):
        return 0
    return k_arms


def _klucb_indices(est, n, t, p, env, gaussian):
    d = math.log(t) + (p["c"] * math.log(math.log(t)) if p["c"] > 0 else 0.0)
    if gaussian:
        return [est[k] + env.sigma * math.sqrt(2 * d / n[k]) for k in range(len(est))]
    return [klucb_index(est[k], d / n[k], min(1.0, est[k] + math.sqrt(d / n[k] / 2)))
            for k in range(len(est))]


def _leader_order(est):
    """KL-UCB's scan order: from the empirically best arm (the first of them), cyclically."""
    lead = int(np.argmax(est))
    return [(lead + j) % len(est) for j in range(len(est))]


def reference_run(agent, env, horizon, seed, checkpoints):
    """Regret, the greedy and the behaviour readout of simple regret at ``checkpoints`` and
    the final pulls, for one run."""
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
    # the policy-gradient agents' bookkeeping: the sum of the rewards seen so far, their
    # running mean and sum of squared deviations (Welford), a critic, the current group
    pg = {"total": 0.0, "mean": 0.0, "m2": 0.0, "value": 0.0, "arms": [], "rewards": []}
    commit = None
    cum = 0.0
    regret, greedy, behaviour = [], [], []
    from_q0 = name in ("greedy", "epsilon-greedy") and not p["round_robin"]
    q0 = p.get("q0", 0.0)
    rounds_rr = _round_robin_rounds(name, p, gaussian, k_arms, from_q0)
    for t in range(1, horizon + 1):
        # estimates: sample means; unpulled arms q0 (no round robin) or 0 (never used)
        est = np.where(n > 0, s / np.maximum(n, 1), q0 if from_q0 else 0.0)
        pi = None
        if t <= rounds_rr:
            a = (t - 1) % k_arms
        elif name in SOFTMAX:
            pi = _softmax(h)
            u, acc, a = rng.uniform(st), 0.0, k_arms - 1
            for k in range(k_arms - 1):  # inversion: the first k with u <= pi_0 + ... + pi_k
                acc += pi[k]
                if u <= acc:
                    a = k
                    break
        elif name == "thompson" and not gaussian:
            a = _argmax(_beta_sample(s, n, st), st)
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
            idx = _klucb_indices(est, n, t, p, env, gaussian)
            a = _argmax_scan(idx, st, _leader_order(est))  # the kernel scans from the leader
        elif name == "thompson":
            a = _argmax(_gaussian_sample(est, n, env.sigma, st), st)
        else:
            raise AssertionError(name)
        if gaussian:
            x = mu[a] + env.sigma * rng.counter_normal(keys[a], n[a])
        else:
            x = 1.0 if rng.counter_uniform(keys[a], n[a]) <= mu[a] else 0.0
        n[a] += 1
        s[a] += x
        if name == "pg-exact":
            value = 0.0
            for k in range(k_arms):
                value += pi[k] * mu[k]
            h = h + p["alpha"] * pi * (mu - value)
        elif name in SOFTMAX:
            h = _policy_gradient_step(name, p, pg, h, pi, a, x, t, n[a])
        cum += best_mean - mu[a]
        if t in checkpoints:
            regret.append(cum)
            greedy.append(_greedy_gap(name, gaussian, mu, n, s, h, q0 if from_q0 else None))
            readout = np.array([rng.stream_key(np.uint64(seed), rng.SALT_READOUT, t, 0)],
                               dtype=np.uint64)  # the readouts' stream of round t
            if t < rounds_rr:  # round t + 1 is in the round robin
                behaviour.append(best_mean - mu[t % k_arms])
            else:
                behaviour.append(_behaviour_gap(name, p, env, t, n, s, h, commit, readout,
                                                q0 if from_q0 else None))
    return np.array(regret), np.array(greedy), np.array(behaviour), n


def _beta_sample(s, n, st):
    """theta_k ~ Beta(1 + S_k, 1 + N_k - S_k), in arm order."""
    return [rng.beta(st, 1.0 + s[k], 1.0 + n[k] - s[k]) for k in range(len(s))]


def _gaussian_sample(est, n, sigma, st):
    """theta_k ~ N(mu_hat_k, sigma^2 / N_k), in arm order."""
    return [est[k] + sigma / math.sqrt(n[k]) * rng.normal(st) for k in range(len(est))]


def _greedy_gap(name, gaussian, mu, n, s, h, q0=None):
    """The greedy readout: argmax of H (softmax agents), of the posterior means (Bernoulli
    Thompson), or of the sample means over the arms pulled (over all arms from q0)."""
    every = range(len(mu))
    if name in SOFTMAX:
        return _gap_of_argmax(h, mu, every)
    if name == "thompson" and not gaussian:
        return _gap_of_argmax((1 + s) / (2 + n), mu, every)
    if q0 is not None:  # estimates started at q0: every arm has one
        return _gap_of_argmax(np.where(n > 0, s / np.maximum(n, 1), q0), mu, every)
    pulled = [k for k in every if n[k] > 0]
    if not pulled:
        return _uniform_gap(mu)
    return _gap_of_argmax(s / np.maximum(n, 1), mu, pulled)


def _behaviour_gap(name, p, env, t, n, s, h, commit, readout, q0=None):
    """The behaviour readout after the round robin: the policy of round t + 1."""
    mu = env.means
    gaussian = env.family == "gaussian"
    every = range(len(mu))
    est = np.where(n > 0, s / np.maximum(n, 1), 0.0)
    if name in SOFTMAX:
        pi, gap = _softmax(h), 0.0
        for k in every:
            gap += pi[k] * (mu.max() - mu[k])
        return gap
    if name == "greedy":
        return _greedy_gap(name, gaussian, mu, n, s, h, q0)
    if name == "epsilon-greedy":
        eps = p["epsilon"]
        return (1.0 - eps) * _greedy_gap(name, gaussian, mu, n, s, h, q0) + eps * _uniform_gap(mu)
    if name == "etc":
        return _greedy_gap(name, gaussian, mu, n, s, h) if commit is None \
            else mu.max() - mu[commit]
    if name == "ucb":
        root = math.sqrt(p["c"] * math.log(t + 1))
        return _gap_of_argmax([est[k] + root * (1.0 / math.sqrt(n[k])) for k in every], mu, every)
    if name == "kl-ucb":
        return _gap_of_argmax(_klucb_indices(est, n, t + 1, p, env, gaussian), mu,
                              _leader_order(est))
    if name == "thompson":
        theta = (_gaussian_sample(est, n, env.sigma, readout) if gaussian
                 else _beta_sample(s, n, readout))
        return _gap_of_argmax(theta, mu, every)
    raise AssertionError(name)


# --- the policy-gradient agents' updates (docs/algorithms.md) ---------------------------------

def _policy_gradient_step(name, p, pg, h, pi, a, x, t, n_a):
    """H after round t's update; x the reward, n_a the pulls of arm a including this one."""
    if p["bonus"] > 0:  # the reward the update sees
        x = x + p["bonus"] / math.sqrt(n_a)
    if name == "reinforce":
        return _reinforce_step(p, pg, h, pi, a, x, t)
    if name == "actor-critic":
        delta = x - pg["value"]  # delta = r - V; V <- V + alpha_v delta
        pg["value"] += p["alpha_v"] * delta
        g = p["alpha"] * delta
        h = h - g * pi
        h[a] += g
        return h
    if name == "npg":
        h = h.copy()
        if pi[a] > 0:  # H_a <- H_a + alpha r / pi_a
            h[a] += p["alpha"] * x / pi[a]
        return h
    # a group of G pulls from one policy, the update at its last pull
    pg["arms"].append(a)
    pg["rewards"].append(x)
    if len(pg["arms"]) < p["group"]:
        return h
    arms, rewards = pg["arms"], pg["rewards"]
    pg["arms"], pg["rewards"] = [], []
    if name == "rloo":
        return _rloo_step(p, h, pi, arms, rewards)
    if name == "grpo":
        m = _mean(rewards)
        sd = math.sqrt(_mean([(r - m) * (r - m) for r in rewards]))
        adv = [(r - m) / (sd + 1e-8) for r in rewards]
        return _clipped_steps(p, h, pi, arms, adv, p["kl"])
    if name == "ppo":
        v = pg["value"]
        adv = [r - v for r in rewards]  # GAE on one-step episodes: A = r - V
        m = _mean(adv)
        # normalised in the batch: mean 0, and std 1 unless every advantage is the same
        adv = [0.0] * len(adv) if all(d == adv[0] for d in adv) else [d - m for d in adv]
        sd = math.sqrt(_mean([d * d for d in adv]))
        if sd > 0:
            adv = [d / sd for d in adv]
        h = _clipped_steps(p, h, pi, arms, adv, 0.0)
        pg["value"] = v + p["alpha_v"] * (_mean(rewards) - v)  # after the policy epochs
        return h
    raise AssertionError(name)


def _mean(values):
    total = 0.0
    for v in values:
        total += v
    return total / len(values)


def _reinforce_step(p, pg, h, pi, a, x, t):
    # H <- H + alpha A (onehot(A) - pi), A = R - b, b the mean of the earlier rewards
    b = pg["total"] / (t - 1) if (p["baseline"] == "mean" and t > 1) else 0.0
    adv = x - b
    if p["normalise"]:  # divided by the std (ddof 0) of the rewards of rounds 1..t (Welford)
        d = x - pg["mean"]
        pg["mean"] += d / t
        pg["m2"] += d * (x - pg["mean"])
        sd = math.sqrt(pg["m2"] / t)
        if sd > 0:
            adv = adv / sd
    g = p["alpha"] * adv
    h = h - g * pi
    h[a] += g
    if p["entropy"] > 0:  # + alpha beta grad H(pi), grad_k H = -pi_k (ln pi_k + H)
        ent = 0.0
        for q in pi:
            if q > 0:
                ent -= q * math.log(q)
        step = p["alpha"] * p["entropy"]
        h = np.array([h[k] - step * pi[k] * (math.log(pi[k]) + ent) if pi[k] > 0 else h[k]
                      for k in range(len(h))])
    pg["total"] += x
    return h


def _rloo_step(p, h, pi, arms, rewards):
    """H + (alpha / G) sum_i (R_i - mean_{j != i} R_j)(onehot(a_i) - pi)."""
    g = len(arms)
    s = 0.0
    for r in rewards:
        s += r
    adv = [r - (s - r) / (g - 1) for r in rewards]
    return _ascent(h, pi, arms, adv, p["alpha"] / g)


def _ascent(h, pi, arms, weights, step):
    """H + step sum_i w_i (onehot(a_i) - pi), summed per arm first (the kernel's order)."""
    acc = np.zeros(len(h))
    total = 0.0
    for a, w in zip(arms, weights, strict=True):
        acc[a] += w
        total += w
    return h + step * (acc - pi * total)


def _clipped_steps(p, h, pi_old, arms, adv, kl):
    """E ascent steps on (1/G) sum_i min(rho_i A_i, clip(rho_i, 1 - eps, 1 + eps) A_i)
    - kl KL(pi || uniform), rho_i = pi(a_i) / pi_old(a_i)."""
    eps, k_arms = p["clip"], len(h)
    for _ in range(p["epochs"]):
        pi = _softmax(h)
        used_arms, weights = [], []
        for a, A in zip(arms, adv, strict=True):
            if pi_old[a] > 0:
                rho = pi[a] / pi_old[a]
                if rho * A <= min(max(rho, 1 - eps), 1 + eps) * A:  # the unclipped branch
                    used_arms.append(a)
                    weights.append(rho * A)
        h = _ascent(h, pi, used_arms, weights, p["alpha"] / len(arms))
        if kl > 0:  # grad_k KL = pi_k (ln(pi_k / (1/K)) - KL)
            div = 0.0
            for q in pi:
                if q > 0:
                    div += q * math.log(k_arms * q)
            step = p["alpha"] * kl
            h = np.array([h[k] - step * pi[k] * (math.log(k_arms * pi[k]) - div)
                          if pi[k] > 0 else h[k] for k in range(k_arms)])
    return h

"""A plain-Python reading of docs/algorithms.md's linear-bandit agents, for checking the jitted
loop step by step.

It draws from the same random streams as the kernel (the n-th pull of arm k reads the n-th
normal of the stream keyed by (run seed, k); the agent's own draws come from the run's agent
stream, in the same order (lin-greedy's: a uniform against epsilon, when epsilon > 0, then the
uniform arm's); the behaviour readout of lin-ts from the readout stream of (run, t)),
and computes everything else from the definitions with NumPy's linear algebra: V and b
directly, theta_hat = solve(V, b), ||x||_{V^{-1}} from inv(V), the posterior factor by
``numpy.linalg.cholesky``, the softmax gradients in feature space, x_a - sum_j pi_j x_j. It
therefore agrees with the kernel (Sherman-Morrison updates, rank-1 Cholesky updates, logit
steps mapped through X^T) to rounding, not to the last bit: the tests compare arms exactly and
numbers to a relative 1e-9.
"""

from __future__ import annotations

import math

import numpy as np

from tracking import rng

from .reference import _gap_of_argmax, _mean, _softmax, _uniform_gap

#: GRPO's constant in A_i = (r_i - mean r) / (std r + 1e-8).
GRPO_EPS = 1e-8


def oful_beta(p, n, d, l2, sigma):
    """sigma sqrt(2 ln(1/delta) + d ln(1 + n L^2 / (lam d))) + sqrt(lam) S."""
    return sigma * math.sqrt(2 * math.log(1 / p["delta"]) + d * math.log(
        1 + n * l2 / (p["lam"] * d))) + math.sqrt(p["lam"]) * p["theta_norm"]


class _Ridge:
    """V = lam I + sum x x^T, b = sum r x, theta_hat = V^{-1} b."""

    def __init__(self, lam, d):
        self.v = lam * np.eye(d)
        self.b = np.zeros(d)

    def add(self, x, r):
        self.v += np.outer(x, x)
        self.b += r * x

    @property
    def theta(self):
        return np.linalg.solve(self.v, self.b)


def _ce_index(name, p, ridge, x, n, sigma, st):
    """The values whose argmax (lowest index on ties) is the arm, after n pulls."""
    theta = ridge.theta
    if name == "lin-greedy":
        return x @ theta
    if name == "oful":
        d = x.shape[1]
        l2 = max(float(np.dot(row, row)) for row in x)
        norms = np.einsum("kj,jl,kl->k", x, np.linalg.inv(ridge.v), x)
        return x @ theta + p["c"] * oful_beta(p, n, d, l2, sigma) * np.sqrt(norms)
    if name == "lin-ts":
        z = np.array([rng.normal(st) for _ in range(x.shape[1])])
        c = np.linalg.cholesky(ridge.v)  # V = C C^T; C^{-T} z ~ N(0, V^{-1})
        return x @ (theta + sigma * p["scale"] * np.linalg.solve(c.T, z))
    raise AssertionError(name)


def _sample(pi, st):
    """Inversion of one uniform: the first k with u <= pi_0 + ... + pi_k."""
    u, acc = rng.uniform(st), 0.0
    for k in range(len(pi) - 1):
        acc += pi[k]
        if u <= acc:
            return k
    return len(pi) - 1


def _grad_log_pi(x, pi, a):
    """x_a - sum_j pi_j x_j."""
    return x[a] - pi @ x


class _Softmax:
    """pi_w(k) proportional to exp(<x_k, w>), trained by REINFORCE, RLOO or GRPO."""

    def __init__(self, name, p, d):
        self.name, self.p = name, p
        self.w = np.zeros(d)
        self.total = self.mean = self.m2 = 0.0
        self.arms, self.rewards = [], []

    def policy(self, x):
        return _softmax(list(x @ self.w))

    def update(self, x, pi, a, r, t, n_a):
        p = self.p
        if p["bonus"] > 0:
            r = r + p["bonus"] / math.sqrt(n_a)
        if self.name == "lin-reinforce":
            self._reinforce(x, pi, a, r, t)
            return
        self.arms.append(a)
        self.rewards.append(r)
        if len(self.arms) < p["group"]:
            return
        arms, rewards = self.arms, self.rewards
        self.arms, self.rewards = [], []
        g = len(arms)
        if self.name == "lin-rloo":
            s = sum(rewards)
            for a_i, r_i in zip(arms, rewards, strict=True):
                self.w = self.w + p["alpha"] / g * (r_i - (s - r_i) / (g - 1)) * \
                    _grad_log_pi(x, pi, a_i)
            return
        m = _mean(rewards)
        sd = math.sqrt(_mean([(v - m) ** 2 for v in rewards]))
        adv = [(v - m) / (sd + GRPO_EPS) for v in rewards]
        eps, k_arms = p["clip"], x.shape[0]
        for _ in range(p["epochs"]):
            now = self.policy(x)
            step = np.zeros_like(self.w)
            for a_i, d_i in zip(arms, adv, strict=True):
                rho = now[a_i] / pi[a_i]
                if rho * d_i <= min(max(rho, 1 - eps), 1 + eps) * d_i:  # unclipped branch
                    step += rho * d_i * _grad_log_pi(x, now, a_i)  # grad rho = rho grad ln pi
            step *= p["alpha"] / g
            if p["kl"] > 0:  # KL(pi || uniform) = sum_k pi_k ln(K pi_k)
                kl = sum(q * math.log(k_arms * q) for q in now if q > 0)
                dkl = np.array([q * (math.log(k_arms * q) - kl) if q > 0 else 0.0 for q in now])
                step -= p["alpha"] * p["kl"] * (dkl @ x)
            self.w = self.w + step

    def _reinforce(self, x, pi, a, r, t):
        p = self.p
        b = self.total / (t - 1) if (p["baseline"] == "mean" and t > 1) else 0.0
        adv = r - b
        if p["normalise"]:
            d = r - self.mean
            self.mean += d / t
            self.m2 += d * (r - self.mean)
            sd = math.sqrt(self.m2 / t)
            if sd > 0:
                adv /= sd
        self.w = self.w + p["alpha"] * adv * _grad_log_pi(x, pi, a)
        if p["entropy"] > 0:  # grad_w E(pi) = -sum_k pi_k (ln pi_k + E) x_k
            ent = -sum(q * math.log(q) for q in pi if q > 0)
            de = np.array([-q * (math.log(q) + ent) if q > 0 else 0.0 for q in pi])
            self.w = self.w + p["alpha"] * p["entropy"] * (de @ x)
        self.total += r


def reference_run(agent, x, mu, sigma, horizon, seed, checkpoints):
    """One run on features ``x`` (K, d) with means ``mu``: a dict of the arms played, the
    rewards, the estimate after each round (theta_hat, or w for the softmax agents), the
    regret and both readouts of simple regret at ``checkpoints``, and the final pulls."""
    k_arms, d = x.shape
    best = mu.max()
    keys = [np.uint64(rng.stream_key(np.uint64(seed), rng.SALT_REWARD, k, 0))
            for k in range(k_arms)]
    st = rng.new_state(np.uint64(seed), rng.SALT_AGENT)
    name, p = agent.name, agent.get_params()
    softmax_agent = name.startswith("lin-") and name not in ("lin-greedy", "lin-ts")
    model = _Softmax(name, p, d) if softmax_agent else _Ridge(p["lam"], d)
    n = np.zeros(k_arms, dtype=np.int64)
    out = {"arms": [], "rewards": [], "estimates": [], "regret": [], "greedy": [],
           "behaviour": []}
    cum = 0.0
    for t in range(1, horizon + 1):
        if softmax_agent:
            pi = model.policy(x)
            a = _sample(pi, st)
        elif name == "lin-greedy" and p["epsilon"] > 0 and rng.uniform(st) < p["epsilon"]:
            a = rng.randint(st, k_arms)
        else:
            a = int(np.argmax(_ce_index(name, p, model, x, t - 1, sigma, st)))
        r = mu[a] + sigma * rng.counter_normal(keys[a], n[a])
        n[a] += 1
        if softmax_agent:
            model.update(x, pi, a, r, t, n[a])
            out["estimates"].append(model.w.copy())
        else:
            model.add(x[a], r)
            out["estimates"].append(model.theta)
        out["arms"].append(a)
        out["rewards"].append(r)
        cum += best - mu[a]
        if t in checkpoints:
            out["regret"].append(cum)
            readout = np.array([rng.stream_key(np.uint64(seed), rng.SALT_READOUT, t, 0)],
                               dtype=np.uint64)
            out["greedy"].append(_greedy_gap(softmax_agent, model, x, mu))
            out["behaviour"].append(_behaviour_gap(name, p, softmax_agent, model, x, mu, t,
                                                   sigma, readout))
    out["pulls"] = n
    return {k: np.array(v) if isinstance(v, list) else v for k, v in out.items()}


def _greedy_gap(softmax_agent, model, x, mu):
    """argmax <x_k, theta_hat> (CE) or <x_k, w> (softmax) over all arms, ties mixed evenly."""
    values = x @ (model.w if softmax_agent else model.theta)
    return _gap_of_argmax(values, mu, range(len(mu)))


def _behaviour_gap(name, p, softmax_agent, model, x, mu, t, sigma, readout):
    """The policy of round t + 1: the CE agents' next arm (lin-ts': of one sample from the
    readout stream; lin-greedy's: mixed with a uniform arm, weights 1 - epsilon and epsilon),
    the softmax policy's mean gap."""
    best = mu.max()
    if softmax_agent:
        pi = model.policy(x)
        return float(sum(pi[k] * (best - mu[k]) for k in range(len(mu))))
    a = int(np.argmax(_ce_index(name, p, model, x, t, sigma, readout)))
    eps = p.get("epsilon", 0.0)
    return (1.0 - eps) * (best - mu[a]) + eps * _uniform_gap(mu)

"""Plain-Python references of the reasoning agents, written from their definitions in
docs/algorithms.md ("Reasoning agents"), to check the jitted loop step by step.

One run: step s draws the batch's prompts from the stream (run word, SALT_PROMPT, s, 0),
samples response j = (s B + b) G + g of prompt p from the stream (run word, SALT_RESPONSE, p, j)
by inverse CDF, counts one call per response (pseudo-regret 1 - p_correct of the answering
policy), and after a full step applies the agent's update. Every step is recorded: prompts,
tokens, final states, verdicts and the parameters after the update.
"""

from __future__ import annotations

import math

import numpy as np

from mdp import reasoning
from mdp.reasoning_agents import (
    CE,
    GRPO,
    RLOO,
    RSFT,
    Base,
    CELinear,
    LowTemperature,
    Power,
)
from tracking.rng import counter_normal, counter_uniform, run_seeds, stream_key

SALT_RESPONSE = np.uint64(0x5EED0020)
SALT_PROMPT = np.uint64(0x5EED0022)
SALT_POSTERIOR = np.uint64(0x5EED0023)
GRPO_EPS = 1e-8


def softmax(x):
    """softmax of a list of logits: max, exponentials summed in order, then divided."""
    m = max(x)
    e = [math.exp(v - m) for v in x]
    s = 0.0
    for v in e:
        s += v
    return [v / s for v in e]


def draw(row, u):
    """The first token whose cumulative probability reaches u times the row's total."""
    total = 0.0
    for p in row:
        total += p
    acc, last = 0.0, 0
    for v, p in enumerate(row):
        if p > 0.0:
            acc += p
            last = v
            if u * total <= acc:
                return v
    return last


# --- policies -------------------------------------------------------------------------------


class Softmax:
    """Tabular logits theta[p, h, z, v] (from the reference logits) or shared weights
    w[h, v, k] (from 0) with logits ref_logits + sum_k w[h, v, k] f_p[k]."""

    def __init__(self, task, shared):
        self.task = task
        self.shared = shared
        P, H, Z, V = task.shape
        if shared:
            self.w = np.zeros((H, V, task.features.shape[1]))
        else:
            self.theta = np.array(task.ref_logits, dtype=float)

    def row(self, p, h, z):
        V = self.task.vocab
        if self.shared:
            x = []
            for v in range(V):
                acc = 0.0
                for k in range(self.w.shape[2]):
                    acc += self.w[h, v, k] * self.task.features[p, k]
                x.append(float(self.task.ref_logits[p, h, z, v]) + acc)
            return softmax(x)
        return softmax([float(t) for t in self.theta[p, h, z]])

    def step(self, p, h, z, y, coef, cur):
        """The ascent step of one token: coef (onehot(y) - cur) on the logits of (p, h, z)."""
        for v in range(self.task.vocab):
            gv = coef * ((1.0 if v == y else 0.0) - cur[v])
            if self.shared:
                for k in range(self.w.shape[2]):
                    self.w[h, v, k] += gv * self.task.features[p, k]
            else:
                self.theta[p, h, z, v] += gv

    def params(self):
        return self.w.copy() if self.shared else self.theta.copy()


def policy_array(row, task):
    """The full policy [P, H, Z, V] of a row function."""
    P, H, Z, V = task.shape
    out = np.empty(task.shape)
    for p in range(P):
        for h in range(H):
            for z in range(Z):
                out[p, h, z] = row(p, h, z)
    return out


# --- the gradient agents' updates ----------------------------------------------------------


def grpo_token_objective(logits, old, ref, y, adv, beta, clip):
    """min(rho A, clip(rho, 1 - eps, 1 + eps) A) - beta (ref / pi - log(ref / pi) - 1) at the
    token y of a row with logits ``logits``, rho = pi(y) / old(y)."""
    pi = softmax(list(logits))[y]
    rho = pi / old[y]
    clipped = min(max(rho, 1.0 - clip), 1.0 + clip)
    ratio = ref[y] / pi
    return min(rho * adv, clipped * adv) - beta * (ratio - math.log(ratio) - 1.0)


def grpo_token_gradient(logits, old, ref, y, adv, beta, clip):
    """The analytic gradient of :func:`grpo_token_objective` with respect to the logits:
    [rho A 1(unclipped) + beta (ref(y) / pi(y) - 1)] (onehot(y) - pi)."""
    pi = softmax(list(logits))
    rho = pi[y] / old[y]
    clipped = min(max(rho, 1.0 - clip), 1.0 + clip)
    s = rho * adv if rho * adv <= clipped * adv else 0.0
    c = s + beta * (ref[y] / pi[y] - 1.0)
    return np.array([c * ((1.0 if v == y else 0.0) - pi[v]) for v in range(len(pi))])


def _verdict(r):
    return 1.0 if r else 0.0


def grpo_update(agent, pol, task, ref, group):
    B, G, H = len(group["prompts"]), agent.group, task.horizon
    adv = []
    for b in range(B):
        r = [_verdict(x) for x in group["verdicts"][b]]
        m = 0.0
        for x in r:
            m += x
        m /= G
        var = 0.0
        for x in r:
            var += (x - m) * (x - m)
        sd = math.sqrt(var / G)
        adv.append([(x - m) / (sd + GRPO_EPS) for x in r])
    scale = agent.alpha / (B * G * H)
    lo, hi = 1.0 - agent.clip, 1.0 + agent.clip
    for _ in range(agent.epochs):
        terms = []
        for b, p in enumerate(group["prompts"]):
            for g in range(G):
                for h in range(H):
                    z, y = group["path"][b][g][h], group["tokens"][b][g][h]
                    cur = pol.row(p, h, z)
                    rho = cur[y] / group["rows"][b][g][h][y]
                    clipped = min(max(rho, lo), hi)
                    a = adv[b][g]
                    s = rho * a if rho * a <= clipped * a else 0.0
                    k = agent.beta * (ref[p, h, z, y] / cur[y] - 1.0) if agent.beta > 0 else 0.0
                    terms.append((p, h, z, y, scale * (s + k), cur))
        for p, h, z, y, c, cur in terms:
            if c != 0.0:
                pol.step(p, h, z, y, c, cur)


def rloo_update(agent, pol, task, log_ref, group):
    B, G, H = len(group["prompts"]), agent.group, task.horizon
    terms = []
    adv = []
    for b, p in enumerate(group["prompts"]):
        shaped = []
        for g in range(G):
            r = _verdict(group["verdicts"][b][g])
            if agent.beta > 0:
                lr = 0.0
                for h in range(H):
                    z, y = group["path"][b][g][h], group["tokens"][b][g][h]
                    lr += math.log(group["rows"][b][g][h][y]) - log_ref[p, h, z, y]
                r -= agent.beta * lr
            shaped.append(r)
        total = 0.0
        for r in shaped:
            total += r
        adv.append([r - (total - r) / (G - 1) for r in shaped])
    scale = agent.alpha / (B * G)
    for b, p in enumerate(group["prompts"]):
        for g in range(G):
            for h in range(H):
                z, y = group["path"][b][g][h], group["tokens"][b][g][h]
                terms.append((p, h, z, y, scale * adv[b][g], pol.row(p, h, z)))
    for p, h, z, y, c, cur in terms:
        if c != 0.0:
            pol.step(p, h, z, y, c, cur)


def rsft_update(agent, pol, task, group):
    B, G, H = len(group["prompts"]), agent.group, task.horizon
    kept = sum(1 for b in range(B) for g in range(G) if group["verdicts"][b][g])
    if kept == 0:
        return
    scale = agent.alpha / kept
    for _ in range(agent.steps):
        terms = []
        for b, p in enumerate(group["prompts"]):
            for g in range(G):
                if not group["verdicts"][b][g]:
                    continue
                for h in range(H):
                    z, y = group["path"][b][g][h], group["tokens"][b][g][h]
                    terms.append((p, h, z, y, scale, pol.row(p, h, z)))
        for p, h, z, y, c, cur in terms:
            pol.step(p, h, z, y, c, cur)


# --- certainty equivalence -------------------------------------------------------------------


class Plan:
    """The CE agents' table n[p, z], s[p, z] and plan = kl_optimum of the fitted rewards."""

    def __init__(self, agent, task, ref):
        self.agent, self.task, self.ref = agent, task, ref
        self.n = np.zeros((task.n_prompts, task.n_states), dtype=np.int64)
        self.s = np.zeros((task.n_prompts, task.n_states))
        self.plan = reasoning.kl_optimum(task, ref, self.fitted(), agent.beta)

    def fitted(self):
        """r_hat = s / n (r0 unobserved), plus c sqrt(1 / max(1, n)) capped at 1 (optimistic)."""
        c = getattr(self.agent, "c", 0.0)
        out = np.empty(self.n.shape)
        for p in range(out.shape[0]):
            for z in range(out.shape[1]):
                n = int(self.n[p, z])
                r = self.s[p, z] / n if n > 0 else self.agent.r0
                if c > 0:
                    r = min(1.0, r + c * math.sqrt(1.0 / max(1, n)))
                out[p, z] = r
        return out

    def row(self, p, h, z):
        return list(self.plan[p, h, z])

    def update(self, group):
        for b, p in enumerate(group["prompts"]):
            for g in range(len(group["verdicts"][b])):
                z = group["path"][b][g][-1]
                self.n[p, z] += 1
                self.s[p, z] += _verdict(group["verdicts"][b][g])
        # re-planning the batch's prompts = the optimum of the new table (other prompts'
        # tables are unchanged)
        self.plan = reasoning.kl_optimum(self.task, self.ref, self.fitted(), self.agent.beta)

    def params(self):
        return self.plan.copy()


class LinearPlan:
    """ce-linear: G = lam I + sum Phi Phi^T, b = sum r Phi over every call so far, theta_hat =
    G^{-1} b, theta = theta_hat + v L^{-T} xi (L L^T = G), and the plan
    pi(y) ~ pi_ref(y) exp(theta . Phi(p, y) / beta) for every prompt."""

    def __init__(self, agent, task, ref, key):
        self.agent, self.task, self.ref, self.key = agent, task, ref, key
        P, H, Z, V = task.shape
        f = task.features if agent.features == "prompt" else np.zeros((P, 0))
        self.x = np.hstack([np.ones((P, 1)), f])
        self.k = self.x.shape[1]
        D = H * V * self.k
        self.gram = agent.lam * np.eye(D)
        self.b = np.zeros(D)
        self.count = 0
        self.replan()

    def phi(self, p, tokens):
        """Phi(p, y): x_p at entries (h V + y_h) k + j."""
        H, V = self.task.horizon, self.task.vocab
        out = np.zeros(self.b.size)
        for h in range(H):
            start = (h * V + tokens[h]) * self.k
            out[start:start + self.k] = self.x[p]
        return out

    def replan(self):
        task, agent = self.task, self.agent
        self.theta_hat = np.linalg.solve(self.gram, self.b)
        theta = self.theta_hat.copy()
        if agent.v > 0:
            key = np.uint64(stream_key(self.key, SALT_POSTERIOR, self.count, 0))
            xi = np.array([counter_normal(key, i) for i in range(self.b.size)])
            L = np.linalg.cholesky(self.gram)
            theta = theta + agent.v * np.linalg.solve(L.T, xi)
        self.theta = theta
        self.count += 1
        P, H, Z, V = task.shape
        g = np.einsum("hvk,pk->phv", theta.reshape(H, V, self.k), self.x)
        with np.errstate(divide="ignore"):
            log_a = np.log(self.ref) + g[:, :, None, :] / agent.beta
        self.plan, _ = reasoning.soft_backward_induction(task, log_a, np.zeros((P, Z)))

    def row(self, p, h, z):
        return list(self.plan[p, h, z])

    def update(self, group):
        for b, p in enumerate(group["prompts"]):
            for g in range(len(group["verdicts"][b])):
                f = self.phi(p, group["tokens"][b][g])
                self.gram += np.outer(f, f)
                self.b += _verdict(group["verdicts"][b][g]) * f
        self.replan()

    def params(self):
        return self.plan.copy()


# --- one run ---------------------------------------------------------------------------------


def _exact(task, row, train):
    """(mean p_correct, mean greedy correctness) over the training prompts, and p_correct."""
    pi = policy_array(row, task)
    pc = reasoning.p_correct(task, pi)
    greedy = []
    for p in train:
        z = 0
        for h in range(task.horizon):
            r = pi[p, h, z]
            best = 0
            for v in range(1, task.vocab):
                if r[v] > r[best]:
                    best = v
            z = task.next[p, h, z, best]
        greedy.append(1.0 if task.accept[p, z] else 0.0)
    return float(np.mean(pc[train])), float(np.mean(greedy)), pc


def reference_run(task, agent, n_calls, seed, run, n_held):
    """One run of ``agent`` (an agent object) on ``task``: per call the pseudo-regret and the
    readouts (1 - pass@1 of the behaviour and greedy policies after that call), and the
    record of every step."""
    P = task.n_prompts
    train = list(range(P - n_held))
    ref = reasoning.reference_policy(task)
    with np.errstate(divide="ignore"):
        log_ref = np.log(ref)
    key = run_seeds(seed, 1, start=run)[0]
    learns = agent.learns
    if isinstance(agent, (GRPO, RLOO, RSFT)):
        pol = Softmax(task, agent.policy == "shared")
    elif isinstance(agent, CE):
        pol = Plan(agent, task, ref)
    elif isinstance(agent, CELinear):
        pol = LinearPlan(agent, task, ref, key)
    else:
        table = {Base: lambda: ref, Power: lambda: reasoning.power_policy(task, ref, agent.alpha),
                 LowTemperature: lambda: reasoning.low_temperature_policy(ref, agent.alpha)
                 }[type(agent)]()
        pol = type("Fixed", (), {"row": lambda self, p, h, z: list(table[p, h, z])})()
    B, G = (agent.batch, agent.group) if learns else (1, 1)
    calls, step, cum = 0, 0, 0.0
    regret, greedy, behaviour, steps = [], [], [], []
    while calls < n_calls:
        kp = np.uint64(stream_key(key, SALT_PROMPT, step, 0))
        prompts = [train[min(int(counter_uniform(kp, b) * len(train)), len(train) - 1)]
                   for b in range(B)]
        full = calls + B * G <= n_calls
        group = {"prompts": prompts, "tokens": [], "path": [], "verdicts": [], "rows": []}
        _, _, pc = _exact(task, pol.row, train)
        deferred = 0
        for b, p in enumerate(prompts):
            toks, paths, verdicts, rows = [], [], [], []
            for g in range(G):
                if calls == n_calls:
                    break
                if learns:
                    k = np.uint64(stream_key(key, SALT_RESPONSE, p, (step * B + b) * G + g))
                    z, ys, zs, rs = 0, [], [0], []
                    for h in range(task.horizon):
                        r = pol.row(p, h, z)
                        y = draw(r, counter_uniform(k, h))
                        ys.append(y)
                        rs.append(r)
                        z = int(task.next[p, h, z, y])
                        zs.append(z)
                    toks.append(ys)
                    paths.append(zs)
                    verdicts.append(bool(task.accept[p, z]))
                    rows.append(rs)
                calls += 1
                cum += 1.0 - pc[p]
                regret.append(cum)
                if learns and full and b == B - 1 and g == G - 1:
                    deferred = 1
                else:
                    b_mean, g_mean, _ = _exact(task, pol.row, train)
                    behaviour.append(1.0 - b_mean)
                    greedy.append(1.0 - g_mean)
            group["tokens"].append(toks)
            group["path"].append(paths)
            group["verdicts"].append(verdicts)
            group["rows"].append(rows)
        if learns and full:
            if isinstance(agent, GRPO):
                grpo_update(agent, pol, task, ref, group)
            elif isinstance(agent, RLOO):
                rloo_update(agent, pol, task, log_ref, group)
            elif isinstance(agent, RSFT):
                rsft_update(agent, pol, task, group)
            else:
                pol.update(group)
        if deferred:
            b_mean, g_mean, _ = _exact(task, pol.row, train)
            behaviour.append(1.0 - b_mean)
            greedy.append(1.0 - g_mean)
        if learns:
            group["params"] = pol.params()
            if isinstance(pol, Plan):
                group["n"], group["s"] = pol.n.copy(), pol.s.copy()
            if isinstance(pol, LinearPlan):
                group["gram"], group["theta"] = pol.gram.copy(), pol.theta.copy()
            steps.append(group)
        step += 1
    return {"regret": np.array(regret), "greedy": np.array(greedy),
            "behaviour": np.array(behaviour), "steps": steps}

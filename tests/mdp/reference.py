"""A plain-Python reading of docs/algorithms.md (episodic MDPs), for checking the jitted loop.

It draws from the same random streams as the kernel (tracking/rng.py): the n-th visit of
(s, a) reads the n-th uniform of the counter-based streams keyed by (run seed, s, a) for the
next state and the Bernoulli reward, episode k's start state the k-th uniform of the run's start
stream, and the agent's own draws (ties, posterior samples, softmax actions) come from the run's
agent stream in the same order; the behaviour readout's (PSRL's posterior sample) from the
readout stream of (run seed, episodes done). So for a given run it must reproduce the kernel's
regret curve and both readouts of simple regret exactly. Everything else (the agents' rules,
counts, planning, exact policy evaluation) is written again here from the definitions, on dense
tables P[s][a][s'] and N[s][a][s'] (nested lists), with plain loops over h, s, a. Where a
definition can be written in several floating-point orders, the comments say which one the
kernel uses and this file follows it: a difference in the last bit of an agent's values changes
its actions only where it decides an exact tie, but the curves must match wherever it does.
"""

from __future__ import annotations

import math
from collections.abc import Collection

import numpy as np

from mdp._env_kernels import SALT_START
from mdp.agents import MDPAgent
from mdp.model import FiniteMDP
from tracking import rng

from ..bandits.reference import _argmax, _softmax


def reference_run(agent: MDPAgent, model: FiniteMDP, horizon: int, episodes: int, seed: int,
                  checkpoints: Collection[int], bernoulli: bool,
                  v_star: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Regret and the two readouts of simple regret of ``agent`` at the ``checkpoints``
    (episodes), for one run.

    Parameters
    ----------
    agent : mdp.agents.MDPAgent
        The agent (its registry name and hyperparameters).
    model : mdp.FiniteMDP
        The true model.
    horizon, episodes : int
        H and K.
    seed : int
        The run seed (``tracking.rng.run_seeds``).
    checkpoints : collection of int
        Episodes (1-based) after which the curves are recorded.
    bernoulli : bool
        Observed rewards Bernoulli(R[s, a]) instead of R[s, a].
    v_star : float, optional
        V*_0(initial) to subtract; by default :func:`optimal_value`.

    Returns
    -------
    regret, greedy, behaviour : numpy.ndarray
        Cumulative regret and the simple regret of the greedy and the behaviour readout at the
        checkpoints, in increasing order.
    """
    # nested lists: plain Python floats and ints, the same IEEE arithmetic as the kernel's
    P = model.P.tolist()
    R = model.R.tolist()
    initial = model.initial.tolist()
    S, A = model.n_states, model.n_actions
    H, K = horizon, episodes
    name = agent.name
    params = agent.get_params()
    seed = np.uint64(seed)
    st = rng.new_state(seed, rng.SALT_AGENT)
    if v_star is None:
        v_star = optimal_value(model, H)
    data = _Data(S, A)
    if name not in _LEARNERS:
        raise KeyError(f"no reference for the MDP agent {name!r}")
    learner = _LEARNERS[name](params, P, R, H, K, st)
    cum = 0.0
    regret, greedy, behaviour = [], [], []
    for k in range(K):
        learner.episode = k  # 0-based, for the agents whose policy depends on it
        pi = learner.policy(data)  # pi[h][s]: a distribution over actions (one-hot if greedy)
        cum += v_star - _policy_value(P, R, initial, pi)
        start = _draw(initial, rng.counter_uniform(_key(seed, SALT_START, 0, 0), k))
        trajectory = _play(learner, pi, data, P, R, seed, start, bernoulli, st)
        learner.after_episode(trajectory)
        if k + 1 in checkpoints:
            regret.append(cum)
            greedy.append(v_star - _policy_value(P, R, initial, learner.greedy(data)))
            readout = np.array([_key(seed, rng.SALT_READOUT, k + 1, 0)], dtype=np.uint64)
            pi = learner.behaviour(data, k + 1, readout)  # episode k + 1's, draws averaged out
            behaviour.append(v_star - _policy_value(P, R, initial, pi))
    return np.array(regret), np.array(greedy), np.array(behaviour)


# ---------------------------------------------------------------------------------------------
# the environment, exact values
# ---------------------------------------------------------------------------------------------


def _key(seed, salt, a, b):
    """The stream key as a uint64 (from Python, numba returns it as an int)."""
    return np.uint64(rng.stream_key(seed, salt, a, b))


def _draw(probabilities, u):
    """Inversion: the first state whose cumulative probability reaches ``u``.

    States of probability 0 are never drawn; if rounding leaves the cumulative sum below ``u``,
    the last state of positive probability is drawn. This is env_step's rule for successors;
    the kernel's start draw (sample_start) falls back to state S - 1 instead, even when its start
    probability is 0, which only a u above the rounded total of the start distribution reaches.
    """
    support = [s for s, p in enumerate(probabilities) if p > 0.0]
    acc = 0.0
    for s in support[:-1]:
        acc += probabilities[s]
        if u <= acc:
            return s
    return support[-1]


def _env_step(P, R, seed, s, a, n, bernoulli):
    """The n-th visit of (s, a): next state and observed reward (common random numbers)."""
    u = rng.counter_uniform(_key(seed, rng.SALT_TRANSITION, s, a), n)
    s_next = _draw(P[s][a], u)
    if bernoulli:
        u_r = rng.counter_uniform(_key(seed, rng.SALT_REWARD, s, a), n)
        return s_next, 1.0 if u_r <= R[s][a] else 0.0
    return s_next, R[s][a]


def _policy_value(P, R, initial, pi):
    """V^pi_0(initial) of the non-stationary policy pi[h][s][a], by backward recursion.

    Summed as the kernel does: Q(s, a) = R(s, a) + P(s_1 | s, a) V(s_1) + ... from R(s, a) on,
    in increasing s'; V(s) = sum_a pi(a | s) Q(s, a) over the actions of positive probability
    from 0 (a one-hot pi gives Q(s, a) itself, as the kernel's deterministic evaluation).
    """
    S, A = len(R), len(R[0])
    v = [0.0] * S
    for h in range(len(pi) - 1, -1, -1):
        w = [0.0] * S
        for s in range(S):
            for a in range(A):
                if pi[h][s][a] != 0.0:
                    q = R[s][a]
                    for s2 in range(S):
                        if P[s][a][s2] > 0.0:
                            q += P[s][a][s2] * v[s2]
                    w[s] += pi[h][s][a] * q
        v = w
    return _start_average(initial, v)


def optimal_value(model: FiniteMDP, horizon: int) -> float:
    """V*_0(initial) of ``model`` for horizon H, by backward induction.

    Summed as the kernel evaluates every policy (see :func:`_policy_value`): Q(s, a) =
    R(s, a) + P(s_1 | s, a) V(s_1) + ... from R(s, a) on, in increasing s', whether or not the
    row holds every state. V* is then the kernel's own value of an optimal policy, to the bit
    (mdp.backward_induction and mdp.evaluate share that sum), so an optimal policy has regret
    exactly 0.
    """
    P, R, initial = model.P.tolist(), model.R.tolist(), model.initial.tolist()
    S, A = len(R), len(R[0])
    v = [0.0] * S
    for _ in range(horizon):
        w = []
        for s in range(S):
            q = []
            for a in range(A):
                x = R[s][a]
                for s2 in range(S):
                    if P[s][a][s2] > 0.0:
                        x += P[s][a][s2] * v[s2]
                q.append(x)
            w.append(max(q))
        v = w
    return _start_average(initial, v)


def _start_average(initial, v):
    """sum_s initial(s) V(s), in increasing s (the kernel's order)."""
    total = 0.0
    for s in range(len(v)):
        total += initial[s] * v[s]
    return total


def _play(learner, pi, data, P, R, seed, s, bernoulli, st):
    """One episode of H steps from state ``s``; returns the (s_h, a_h, r_h) and learns."""
    trajectory = []
    for h in range(len(pi)):
        a = learner.act(pi, h, s, st)
        s_next, r = _env_step(P, R, seed, s, a, data.n[s][a], bernoulli)
        data.observe(s, a, s_next, learner.stored_reward(r))
        learner.step(h, s, a, r, s_next)
        trajectory.append((s, a, r))
        s = s_next
    return trajectory


class _Data:
    """N(s, a), N(s, a, s') and Rsum(s, a) before the current step."""

    def __init__(self, S, A):
        self.n = [[0] * A for _ in range(S)]
        self.N = [[[0] * S for _ in range(A)] for _ in range(S)]
        self.rsum = [[0.0] * A for _ in range(S)]

    def observe(self, s, a, s_next, r):
        self.n[s][a] += 1
        self.N[s][a][s_next] += 1
        self.rsum[s][a] += r


# ---------------------------------------------------------------------------------------------
# policies from Q values
# ---------------------------------------------------------------------------------------------


def _one_hot(a, A):
    row = [0.0] * A
    row[a] = 1.0
    return row


def _even_split(q):
    """Uniform over the maximisers of q (the deployed policy: no draw)."""
    best = max(q)
    ties = sum(1 for x in q if x == best)
    return [1.0 / ties if x == best else 0.0 for x in q]


def _backward_induction(S, H, q_row, choose, before_step=None):
    """V_H = 0; for h = H - 1, ..., 0 and s = 0, ..., S - 1 (the order of the tie draws):
    Q_h(s, .) = q_row(h, s, V_{h+1}), pi_h(. | s) = choose(Q_h(s, .)), V_h(s) = Q_h(s, a)
    for an action a that pi_h(. | s) plays (all of them have the maximum)."""
    v = [0.0] * S
    pi = [None] * H
    for h in range(H - 1, -1, -1):
        if before_step is not None:
            before_step(v)
        pi[h] = []
        w = []
        for s in range(S):
            q = q_row(h, s, v)
            row = choose(q)
            pi[h].append(row)
            w.append(q[row.index(max(row))])
        v = w
    return pi


def _greedy(st):
    """Greedy with ties broken uniformly at random (reservoir draws, as argmax_random)."""
    return lambda q: _one_hot(_argmax(q, st), len(q))


# ---------------------------------------------------------------------------------------------
# the agents
# ---------------------------------------------------------------------------------------------


class _Learner:
    """An agent: the policy of an episode, its actions, its learning, its two readouts."""

    def __init__(self, params, P, R, H, K, st):
        self.params = params
        self.S, self.A = len(R), len(R[0])
        self.H, self.K = H, K
        self.st = st
        # the known reward range [min(0, min R), max(1, max R)]
        self.r_lo = min(0.0, min(min(row) for row in R))
        self.r_hi = max(1.0, max(max(row) for row in R))
        self.r_scale = self.r_hi - self.r_lo

    def policy(self, data):
        raise NotImplementedError

    def greedy(self, data):
        """The greedy readout: what it has learned, ties split evenly."""
        raise NotImplementedError

    def behaviour(self, data, k, readout):
        """The behaviour readout: the policy of episode k (0-based), its own draws averaged
        out (ties split evenly) but PSRL's sample, drawn from the stream ``readout``."""
        raise NotImplementedError

    def act(self, pi, h, s, st):
        return pi[h][s].index(1.0)

    def stored_reward(self, r):
        """What Rsum adds up: the observed reward itself."""
        return r

    def step(self, h, s, a, r, s_next):
        pass

    def after_episode(self, trajectory):
        pass

    def plug_in_row(self, data, bonus=0.0):
        """Q_h(s, .) of the plug-in model (+ the optional bonus, then clipped at H - h)."""

        def q_row(h, s, v):
            q = []
            for a in range(self.A):
                n, counts = data.n[s][a], data.N[s][a]
                if n == 0:  # unvisited: the self-loop with reward 0
                    x = v[s]
                else:
                    # R_hat + sum_s' P_hat V = (Rsum + sum_s' N(s, a, s') V(s')) / N, summed in
                    # increasing s' and divided once, as the kernel does
                    ev = 0.0
                    for s2 in range(self.S):
                        if counts[s2] > 0:
                            ev += counts[s2] * v[s2]
                    x = (data.rsum[s][a] + ev) / n
                if bonus > 0.0:
                    # the kernel's b = (c H sqrt(ln(S A H K / delta))) / sqrt(max(1, N))
                    x = min(x + bonus / math.sqrt(max(1.0, n)), float(self.H - h))
                q.append(x)
            return q

        return q_row

    def deploy_plug_in(self, data):
        return _backward_induction(self.S, self.H, self.plug_in_row(data), _even_split)


class _CEGreedy(_Learner):
    def policy(self, data):
        return _backward_induction(self.S, self.H, self.plug_in_row(data), _greedy(self.st))

    greedy = _Learner.deploy_plug_in

    def behaviour(self, data, k, readout):
        """The episode's plan with its ties split evenly: the greedy readout."""
        return self.deploy_plug_in(data)


class _CEOptimistic(_Learner):
    def bonus(self):
        p = self.params
        log_term = math.log(self.S * self.A * self.H * self.K / p["delta"])
        return p["c"] * self.H * math.sqrt(log_term)

    def policy(self, data):
        return _backward_induction(self.S, self.H, self.plug_in_row(data, self.bonus()),
                                   _greedy(self.st))

    greedy = _Learner.deploy_plug_in

    def behaviour(self, data, k, readout):
        """The optimistic plan, ties split evenly."""
        return _backward_induction(self.S, self.H, self.plug_in_row(data, self.bonus()),
                                   _even_split)


def _dithered(pi, eps):
    """(1 - eps) pi + eps / A, entry by entry (the kernel's arithmetic)."""
    return [[[(1.0 - eps) * x + eps / len(row) for x in row] for row in pi_h] for pi_h in pi]


class _CEDither(_Learner):
    """ce-greedy's plan mixed with the uniform policy: eps_k = epsilon, or epsilon / sqrt(k)
    in episode k from 1 with the sqrt decay; actions by inversion of one uniform."""

    def rate(self, k):
        eps = self.params["epsilon"]
        return eps / math.sqrt(k + 1.0) if self.params["decay"] == "sqrt" else eps

    def policy(self, data):
        plan = _backward_induction(self.S, self.H, self.plug_in_row(data), _greedy(self.st))
        return _dithered(plan, self.rate(self.episode))

    greedy = _Learner.deploy_plug_in

    def behaviour(self, data, k, readout):
        """The plug-in plan with ties split evenly, mixed with eps of episode k."""
        return _dithered(self.deploy_plug_in(data), self.rate(k))


class _UCRL2(_Learner):
    def __init__(self, params, P, R, H, K, st):
        super().__init__(params, P, R, H, K, st)
        self.k = 0
        # the states sorted by V_{h+1}, decreasing; tied states keep their previous relative
        # order, carried over from step to step and from episode to episode
        self.order = list(range(self.S))

    def policy(self, data):
        order = [self.order]
        pi = self.plan(data, self.k, order, _greedy(self.st))
        self.k += 1
        self.order = order[0]
        return pi

    def behaviour(self, data, k, readout):
        """Episode k's optimistic plan, ties split evenly, on a copy of the order of states
        (the agent's own is left as it is)."""
        return self.plan(data, k, [list(self.order)], _even_split)

    def plan(self, data, k, order, choose):
        """Backward induction on episode k's extended model, sorting ``order[0]``."""
        S, A, delta = self.S, self.A, self.params["delta"]
        t = max(1.0, float(k * self.H))  # t_k: the steps before episode k
        log_p = math.log(2.0 * A * t / delta)
        log_r = math.log(2.0 * S * A * t / delta)

        def sort(v):
            order[0] = sorted(order[0], key=lambda x: v[x], reverse=True)  # stable

        def q_row(h, s, v):
            q = []
            for a in range(A):
                n = data.n[s][a]
                if n == 0:
                    p_hat, r_hat = _one_hot(s, S), 0.0
                else:
                    p_hat = [x / n for x in data.N[s][a]]
                    r_hat = data.rsum[s][a] / n
                m = max(1.0, float(n))
                d_p = math.sqrt(14.0 * S * log_p / m)
                # sqrt(7 L / (2 m)) is bit for bit the kernel's sqrt(3.5 L / m): the two differ
                # by factors of two, which round exactly
                d_r = math.sqrt(7.0 * log_r / (2.0 * m))
                r_opt = min(r_hat + self.r_scale * d_r, self.r_hi)
                q.append(r_opt + _l1_optimistic(p_hat, d_p, v, order[0]))
            return q

        return _backward_induction(S, self.H, q_row, choose, before_step=sort)

    greedy = _Learner.deploy_plug_in


def _l1_optimistic(p, d, v, order):
    """max p~ . v over ||p~ - p||_1 <= d (Jaksch, Ortner and Auer 2010, fig. 2).

    The best state order[0] gains min(d / 2, 1 - p) and the same mass leaves the states of
    smallest v first (order[S - 1], order[S - 2], ...), each down to 0 at most; p~ . v is summed
    in increasing state.
    """
    p = list(p)
    best = order[0]
    add = min(0.5 * d, 1.0 - p[best])
    if add > 0.0:
        p[best] += add
        excess = add
        for s2 in reversed(order[1:]):
            if excess <= 0.0:
                break
            take = min(p[s2], excess)
            p[s2] -= take
            excess -= take
    total = 0.0
    for s2 in range(len(v)):
        total += p[s2] * v[s2]
    return total


def _dirichlet_row(x):
    """Gamma variates (log X below rng.TINY, negative) divided by their sum, in the kernel's
    order: the sum of the X >= TINY in increasing s', each times 1 / sum, the others
    exp(log X - log sum); when every one is below TINY, exp(log X - max log X) summed, times
    1 / sum."""
    if max(x) > 0.0:
        total = 0.0
        for e in x:
            if e > 0.0:
                total += e
        inv, log_total = 1.0 / total, math.log(total)
        return [e * inv if e > 0.0 else math.exp(e - log_total) for e in x]
    top = max(x)
    p = [math.exp(e - top) for e in x]
    total = 0.0
    for e in p:
        total += e
    inv = 1.0 / total
    return [e * inv for e in p]


class _PSRL(_Learner):
    """Rewards mapped to [0, 1] by u = (r - r_lo) / r_scale (Rsum sums u); samples mapped back."""

    def stored_reward(self, r):
        return (r - self.r_lo) * (1.0 / self.r_scale)  # the kernel multiplies by 1 / r_scale

    def policy(self, data):
        return self.sample_plan(data, self.st, _greedy(self.st))

    def behaviour(self, data, k, readout):
        """The plan of one posterior sample drawn from the readout stream, ties split evenly."""
        return self.sample_plan(data, readout, _even_split)

    def sample_plan(self, data, st, choose):
        """Backward induction on one posterior sample drawn from ``st``."""
        S, A = self.S, self.A
        prior_shape = rng.small_shape(1.0 / S, S)  # Gamma(1/S) as (U / r)^S, S an integer
        p_s = [[None] * A for _ in range(S)]
        r_s = [[0.0] * A for _ in range(S)]
        for s in range(S):  # one (s, a) after the other: S Gamma variates, then the Beta
            for a in range(A):
                x = [self.gamma_variate(st, data.N[s][a][s2], prior_shape) for s2 in range(S)]
                p_s[s][a] = _dirichlet_row(x)
                n, u_sum = data.n[s][a], data.rsum[s][a]
                r_s[s][a] = self.r_lo + self.r_scale * rng.beta(st, 1.0 + u_sum, 1.0 + n - u_sum)

        def q_row(h, s, v):
            q = []
            for a in range(A):
                x = r_s[s][a]
                for s2 in range(S):  # over every state: the sample's support is all of them
                    x += p_s[s][a][s2] * v[s2]
                q.append(x)
            return q

        return _backward_induction(S, self.H, q_row, choose)

    def gamma_variate(self, st, n, prior_shape):
        """X ~ Gamma(n + 1/S): Marsaglia-Tsang for n > 0 (or S = 1), else the small-shape
        sampler, which returns log X instead of X below rng.TINY (the kernel stores that form as
        well)."""
        if n == 0 and self.S > 1:
            return rng.gamma_small(st, prior_shape)
        d = 1.0 / self.S + n - 1.0 / 3.0
        x = rng.gamma_mt(st, d, 1.0 / math.sqrt(9.0 * d))
        return x if x >= rng.TINY else math.log(x)

    def greedy(self, data):
        """Greedy (even ties) in the posterior mean: P_bar = (N + 1/S) / (N + 1),
        R_bar = r_lo + r_scale (1 + Rsum) / (2 + N)."""
        S = self.S
        v_sum = [0.0]

        def total(v):
            v_sum[0] = 0.0
            for s2 in range(S):
                v_sum[0] += v[s2]

        def q_row(h, s, v):
            q = []
            for a in range(self.A):
                n, counts = data.n[s][a], data.N[s][a]
                # sum_s' P_bar V = (sum_s V(s) / S + sum_s' N(s, a, s') V(s')) / (N + 1), in
                # the kernel's order: the prior's share first, then the counts in increasing s'
                ev = v_sum[0] / S
                for s2 in range(S):
                    if counts[s2] > 0:
                        ev += counts[s2] * v[s2]
                r_bar = self.r_lo + self.r_scale * (1.0 + data.rsum[s][a]) / (2.0 + n)
                q.append(r_bar + ev / (n + 1.0))
            return q

        return _backward_induction(S, self.H, q_row, _even_split, before_step=total)


class _QLearning(_Learner):
    def __init__(self, params, P, R, H, K, st):
        super().__init__(params, P, R, H, K, st)
        S, A = self.S, self.A
        self.q = [[[float(H)] * A for _ in range(S)] for _ in range(H)]
        self.visits = [[[0] * A for _ in range(S)] for _ in range(H)]
        log_term = math.log(S * A * H * K / params["delta"])
        # the kernel's bonus: (c sqrt(H^3 ln(S A H K / delta))) / sqrt(n)
        self.bonus = params["c"] * math.sqrt(H**3 * log_term)

    def policy(self, data):  # greedy in Q at the episode's start, h then s (tie draws)
        return [[_one_hot(_argmax(self.q[h][s], self.st), self.A) for s in range(self.S)]
                for h in range(self.H)]

    def step(self, h, s, a, r, s_next):
        H = self.H
        self.visits[h][s][a] += 1
        n = self.visits[h][s][a]
        alpha = (H + 1.0) / (H + n)
        v_next = min(float(H), max(self.q[h + 1][s_next])) if h < H - 1 else 0.0
        target = r + v_next + self.bonus / math.sqrt(n)
        self.q[h][s][a] = (1.0 - alpha) * self.q[h][s][a] + alpha * target

    def greedy(self, data):
        return [[_even_split(self.q[h][s]) for s in range(self.S)] for h in range(self.H)]

    def behaviour(self, data, k, readout):
        """The next episode's greedy policy in Q (its bonus is in Q), ties split evenly: the
        greedy readout."""
        return self.greedy(data)


class _Softmax(_Learner):
    """The policy-gradient agents: a softmax policy of theta[h][s] (one row theta[0][s] for
    every h with ``stationary``), theta = 0 at the start; the bonus's visits N(s, a)."""

    def __init__(self, params, P, R, H, K, st):
        super().__init__(params, P, R, H, K, st)
        S, A = self.S, self.A
        self.rows = 1 if params["stationary"] else H
        self.theta = [[[0.0] * A for _ in range(S)] for _ in range(self.rows)]
        self.visits = [[0] * A for _ in range(S)]
        self.pi = None

    def row(self, h):
        """theta's row of step h."""
        return 0 if self.rows == 1 else h

    def softmax_policy(self):
        # _softmax: exp(theta - max), summed left to right, divided by the sum (the kernel's)
        return [[[float(x) for x in _softmax(self.theta[self.row(h)][s])] for s in range(self.S)]
                for h in range(self.H)]

    def policy(self, data):
        self.pi = self.softmax_policy()
        return self.pi

    def act(self, pi, h, s, st):
        """Inversion of one uniform: the first a with u <= pi(0) + ... + pi(a), else A - 1."""
        u = rng.uniform(st)
        acc = 0.0
        for a in range(self.A - 1):
            acc += pi[h][s][a]
            if u <= acc:
                return a
        return self.A - 1

    def greedy(self, data):
        """Argmax of theta per (h, s), ties split evenly."""
        return [[_even_split(self.theta[self.row(h)][s]) for s in range(self.S)]
                for h in range(self.H)]

    def behaviour(self, data, k, readout):
        """The softmax policy the next episode acts with (the group's, within a group)."""
        return self.softmax_policy()

    def rewards(self, trajectory):
        """The rewards the update sees, in step order: r + c / sqrt(N(s, a)), N counting this
        visit (r itself when c = 0)."""
        c = self.params["bonus"]
        out = []
        for s, a, r in trajectory:
            if c > 0.0:
                self.visits[s][a] += 1
                r = r + c / math.sqrt(self.visits[s][a])
            out.append(r)
        return out

    def score(self, target, a_h, g, pi):
        """target += g (onehot(a_h) - pi): first -= g pi for every action, then [a_h] += g."""
        for a in range(self.A):
            target[a] -= g * pi[a]
        target[a_h] += g


def _zeros(H, S):
    return [[0.0] * S for _ in range(H)]


class _Reinforce(_Softmax):
    def __init__(self, params, P, R, H, K, st):
        super().__init__(params, P, R, H, K, st)
        S = self.S
        self.base_sum, self.base_n = _zeros(H, S), [[0] * S for _ in range(H)]
        self.ret_mean, self.ret_m2, self.value = _zeros(H, S), _zeros(H, S), _zeros(H, S)

    def after_episode(self, trajectory):
        """theta[h, s_h] += alpha A (onehot(a_h) - pi_h(. | s_h)), h = H-1..0, A = G_h - b,
        b = 0, the mean of the earlier returns at (h, s_h) or V_h(s_h); divided by the std of
        the returns at (h, s_h) so far (normalise); then alpha beta grad H(pi_h(. | s_h))."""
        p = self.params
        alpha, baseline = p["alpha"], p["baseline"]
        rewards = self.rewards(trajectory)
        ret = 0.0
        for h in range(self.H - 1, -1, -1):
            s, a_h, _ = trajectory[h]
            ret += rewards[h]
            b = 0.0
            if baseline == "mean" and self.base_n[h][s] > 0:
                b = self.base_sum[h][s] / self.base_n[h][s]
            elif baseline == "value":
                b = self.value[h][s]
            adv = ret - b
            if p["normalise"]:
                # Welford: mean and sum of squared deviations, this return included
                n = self.base_n[h][s] + 1
                d = ret - self.ret_mean[h][s]
                self.ret_mean[h][s] += d / n
                self.ret_m2[h][s] += d * (ret - self.ret_mean[h][s])
                std = math.sqrt(self.ret_m2[h][s] / n)
                if std > 0.0:
                    adv = adv / std
            theta, pi = self.theta[self.row(h)][s], self.pi[h][s]
            self.score(theta, a_h, alpha * adv, pi)
            if p["entropy"] > 0.0:
                # grad_k H = -pi_k (log pi_k + H), H = -sum_k pi_k log pi_k (0 where pi_k = 0)
                ent = 0.0
                for x in pi:
                    if x > 0.0:
                        ent -= x * math.log(x)
                coef = alpha * p["entropy"]
                for a in range(self.A):
                    if pi[a] > 0.0:
                        theta[a] -= coef * (pi[a] * (math.log(pi[a]) + ent))
            self.base_sum[h][s] += ret
            self.base_n[h][s] += 1
            if baseline == "value":
                self.value[h][s] += p["alpha_v"] * (ret - self.value[h][s])


def _episode_return(rewards):
    """R = r_0 + ... + r_{H-1}, summed from the last step (as a return-to-go)."""
    ret = 0.0
    for r in reversed(rewards):
        ret += r
    return ret


def _total(values):
    total = 0.0
    for x in values:
        total += x
    return total


class _Group(_Softmax):
    """G episodes of one policy (states, actions, rewards with the bonus), then ``update``."""

    def __init__(self, params, P, R, H, K, st):
        super().__init__(params, P, R, H, K, st)
        self.episodes = []

    def after_episode(self, trajectory):
        rewards = self.rewards(trajectory)
        self.episodes.append(([s for s, _, _ in trajectory], [a for _, a, _ in trajectory],
                              rewards))
        if len(self.episodes) == self.params["group"]:
            self.update(self.episodes)
            self.episodes = []

    def clipped_steps(self, episodes, adv, kl):
        """``epochs`` full-batch ascent steps on the clipped surrogate minus kl times the KL to
        the uniform policy, (1/G) sum over the G H steps; pi_old = the group's policy."""
        p = self.params
        G, A = len(episodes), self.A
        lo, hi = 1.0 - p["clip"], 1.0 + p["clip"]
        for _ in range(p["epochs"]):
            grad = {}
            for i, (states, actions, _) in enumerate(episodes):
                for h in range(self.H):
                    s, a, r = states[h], actions[h], self.row(h)
                    cur = [float(x) for x in _softmax(self.theta[r][s])]
                    g = grad.setdefault((r, s), [0.0] * A)
                    p_old = self.pi[h][s][a]
                    if p_old > 0.0:
                        rho, x = cur[a] / p_old, adv[i][h]
                        if rho * x <= min(max(rho, lo), hi) * x:  # the unclipped term
                            self.score(g, a, rho * x / G, cur)
                    if kl > 0.0:
                        # grad_k KL(pi || uniform) = pi_k (log(A pi_k) - KL)
                        div = _total([c * math.log(A * c) for c in cur if c > 0.0])
                        for b in range(A):
                            if cur[b] > 0.0:
                                g[b] -= kl / G * (cur[b] * (math.log(A * cur[b]) - div))
            for states, _, _ in episodes:  # theta += alpha grad, each row once
                for h in range(self.H):
                    r, s = self.row(h), states[h]
                    g = grad[(r, s)]
                    for b in range(A):
                        self.theta[r][s][b] += p["alpha"] * g[b]
                        g[b] = 0.0


class _RLOO(_Group):
    def update(self, episodes):
        """theta += (alpha / G) sum_i (R_i - mean_{j != i} R_j) sum_h grad log pi_h(a_ih)."""
        G = len(episodes)
        returns = [_episode_return(e[2]) for e in episodes]
        total = _total(returns)
        c = self.params["alpha"] / G
        for (states, actions, _), r_i in zip(episodes, returns):
            g = c * (r_i - (total - r_i) / (G - 1))
            for h in range(self.H):
                s = states[h]
                self.score(self.theta[self.row(h)][s], actions[h], g, self.pi[h][s])


class _GRPO(_Group):
    def update(self, episodes):
        """A_i = (R_i - mean R) / (std R + 1e-8) at every step of episode i, then the clipped
        steps with the KL penalty."""
        G = len(episodes)
        returns = [_episode_return(e[2]) for e in episodes]
        mean = _total(returns) / G
        scale = math.sqrt(_total([(r - mean) * (r - mean) for r in returns]) / G) + 1e-8
        adv = [[(r - mean) / scale] * self.H for r in returns]
        self.clipped_steps(episodes, adv, self.params["kl"])


class _PPO(_Group):
    def __init__(self, params, P, R, H, K, st):
        super().__init__(params, P, R, H, K, st)
        self.value = _zeros(H, self.S)

    def update(self, episodes):
        """GAE(lam) from V (V_H = 0), normalised over the batch, the clipped steps, then V_h(s)
        += alpha_v (G_h - V_h(s)) along every episode (h = H-1..0)."""
        p, H, V = self.params, self.H, self.value
        adv = []
        for states, _, rewards in episodes:
            row, a_next = [0.0] * H, 0.0
            for h in range(H - 1, -1, -1):
                v_next = V[h + 1][states[h + 1]] if h + 1 < H else 0.0
                delta = rewards[h] + v_next - V[h][states[h]]
                a_next = delta + p["lam"] * a_next
                row[h] = a_next
            adv.append(row)
        flat = [x for row in adv for x in row]
        mean = _total(flat) / len(flat)
        scale = math.sqrt(_total([(x - mean) * (x - mean) for x in flat]) / len(flat)) + 1e-8
        adv = [[(x - mean) / scale for x in row] for row in adv]
        self.clipped_steps(episodes, adv, 0.0)
        for states, _, rewards in episodes:
            ret = 0.0
            for h in range(H - 1, -1, -1):
                ret += rewards[h]
                V[h][states[h]] += p["alpha_v"] * (ret - V[h][states[h]])


class _ActorCritic(_Softmax):
    def __init__(self, params, P, R, H, K, st):
        super().__init__(params, P, R, H, K, st)
        self.value = _zeros(H, self.S)

    def after_episode(self, trajectory):
        """For h = 0..H-1: delta = r_h + V_{h+1}(s_{h+1}) - V_h(s_h) (V_H = 0), V_h(s_h) +=
        alpha_v delta, theta[h, s_h] += alpha delta (onehot(a_h) - pi_h(. | s_h))."""
        p, V = self.params, self.value
        rewards = self.rewards(trajectory)
        for h, (s, a, _) in enumerate(trajectory):
            v_next = V[h + 1][trajectory[h + 1][0]] if h + 1 < self.H else 0.0
            delta = rewards[h] + v_next - V[h][s]
            V[h][s] += p["alpha_v"] * delta
            self.score(self.theta[self.row(h)][s], a, p["alpha"] * delta, self.pi[h][s])


class _NPG(_Softmax):
    def __init__(self, params, P, R, H, K, st):
        super().__init__(params, P, R, H, K, st)
        S, A = self.S, self.A
        self.q_sum = [[[0.0] * A for _ in range(S)] for _ in range(H)]
        self.q_n = [[[0] * A for _ in range(S)] for _ in range(H)]

    def after_episode(self, trajectory):
        """For h = H-1..0: G_h joins the mean Q_hat_h(s_h, a_h), then theta[h, s_h] += alpha
        Q_hat_h(s_h, .) over the actions seen at (h, s_h)."""
        rewards = self.rewards(trajectory)
        ret = 0.0
        for h in range(self.H - 1, -1, -1):
            s, a, _ = trajectory[h]
            ret += rewards[h]
            q_sum, q_n = self.q_sum[h][s], self.q_n[h][s]
            q_sum[a] += ret
            q_n[a] += 1
            theta = self.theta[self.row(h)][s]
            for b in range(self.A):
                if q_n[b] > 0:
                    theta[b] += self.params["alpha"] * (q_sum[b] / q_n[b])


_CEDither.act = _Reinforce.act  # inversion of one uniform, as every stochastic policy acts

_LEARNERS = {
    "ce-greedy": _CEGreedy,
    "ce-dither": _CEDither,
    "ce-optimistic": _CEOptimistic,
    "psrl": _PSRL,
    "ucrl2": _UCRL2,
    "q-learning": _QLearning,
    "reinforce": _Reinforce,
    "rloo": _RLOO,
    "grpo": _GRPO,
    "ppo": _PPO,
    "actor-critic": _ActorCritic,
    "npg": _NPG,
}

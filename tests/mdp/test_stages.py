"""The MDP pipeline's kernel stages, each against its definition (written again with NumPy).

Environment stepping (mdp/_env_kernels.py), estimation from counts (mdp/_estimation_kernels.py),
planning on a model (mdp/_planning_kernels.py) and linear algebra (mdp/_linalg_kernels.py):
the solvers, the estimators and every agent call these, so each operation is tested here once.
"""

import numpy as np
import pytest
from scipy.optimize import linprog

import mdp
from mdp import _env_kernels as env
from mdp import _estimation_kernels as est
from mdp import _linalg_kernels as la
from mdp import _planning_kernels as plan
from mdp.loop import kernel_model
from tracking import rng

NO_STOP = np.zeros(1, dtype=np.uint8)


def _key(seed, salt, a, b):
    """A stream key as a uint64 (from Python, numba returns it as an int)."""
    return np.uint64(rng.stream_key(seed, salt, a, b))


def _random_counts(m, n_obs, seed, skip_rows=()):
    """Counts of ``n_obs`` transitions drawn from m (pairs uniformly, rewards uniform), with
    their dense N[s, a, s'] and the list of observations."""
    gen = np.random.default_rng(seed)
    S, A = m.n_states, m.n_actions
    counts = est.new_counts(m.indptr, m.indices)
    dense = np.zeros((S, A, S), dtype=np.int64)
    rows = [r for r in range(S * A) if r not in skip_rows]
    obs = []
    for row in gen.choice(rows, size=n_obs):
        j = env.sample_row(m.indptr, m.probs, row, gen.random())
        r = gen.random()
        est.observe(counts, row, j, r)
        dense[row // A, row % A, m.indices[j]] += 1
        obs.append((row // A, row % A, m.indices[j], r))
    return counts, dense, obs


def _plug_in_dense(counts, dense, S, A):
    """(P_hat, R_hat) as dense arrays; an unvisited pair is a self-loop with reward 0."""
    n = counts.visits.reshape(S, A)
    P = np.where(n[:, :, None] > 0, dense / np.maximum(n, 1)[:, :, None], 0.0)
    for s, a in zip(*np.nonzero(n == 0)):
        P[s, a, s] = 1.0
    R = np.where(n > 0, counts.reward_sums.reshape(S, A) / np.maximum(n, 1), 0.0)
    return P, R


# --- environment ------------------------------------------------------------------------------


@pytest.mark.nojit
def test_sample_row_inverts_the_cumulative_row():
    m = mdp.envs.garnet(6, 2, 4, seed=1)
    for row in range(12):
        lo, hi = m.indptr[row], m.indptr[row + 1]
        cdf = np.cumsum(m.probs[lo:hi])
        for u in np.concatenate([np.linspace(0, 1, 41), cdf, [1.0 + 1e-9]]):
            first = np.flatnonzero(u <= cdf)
            expected = lo + (first[0] if first.size else hi - lo - 1)
            assert env.sample_row(m.indptr, m.probs, row, u) == expected


@pytest.mark.nojit
def test_env_step_reads_the_visit_counters_streams():
    """The n-th visit of (s, a): the n-th uniform of the streams keyed by (seed, s, a)."""
    m = mdp.envs.garnet(5, 2, 3, seed=2)
    seed = np.uint64(rng.run_seeds(4, 1)[0])
    visits = np.zeros(10, dtype=np.int64)
    for n in range(6):
        for bernoulli in (False, True):
            visits[7] = n
            slot, r = env.env_step(m.indptr, m.probs, m.R, bernoulli, seed, visits, 3, 1)
            assert visits[7] == n + 1
            u = rng.counter_uniform(_key(seed, rng.SALT_TRANSITION, 3, 1), n)
            assert slot == env.sample_row(m.indptr, m.probs, 7, u)
            u_r = rng.counter_uniform(_key(seed, rng.SALT_REWARD, 3, 1), n)
            assert r == ((1.0 if u_r <= m.R[3, 1] else 0.0) if bernoulli else m.R[3, 1])
    cdf = np.cumsum([0.2, 0.0, 0.5, 0.3])
    for k in range(20):
        u = rng.counter_uniform(_key(seed, env.SALT_START, 0, 0), k)
        assert env.start_state(cdf, seed, k) == np.flatnonzero(u <= cdf)[0]


# --- estimation ------------------------------------------------------------------------------


@pytest.mark.nojit
def test_counts_and_the_plug_in_and_posterior_mean_backups():
    m = mdp.envs.garnet(8, 3, 4, seed=5)
    S, A = 8, 3
    counts, dense, _ = _random_counts(m, 40, seed=1, skip_rows=(0, 5))
    assert np.array_equal(counts.visits, dense.sum(axis=2).reshape(-1))
    rows = np.repeat(np.arange(S * A), np.diff(m.indptr))
    assert np.array_equal(counts.transitions, dense.reshape(S * A, S)[rows, m.indices])
    v = np.random.default_rng(2).normal(size=S)
    P, R = _plug_in_dense(counts, dense, S, A)
    q = np.empty((S, A))
    plan.backup_all(plan.PlugIn(counts, 0.0), v, q)
    np.testing.assert_allclose(q, R + P @ v, rtol=1e-13, atol=1e-13)
    # the posterior mean: Dirichlet(N + 1/S) rows, Beta(1 + Rsum, 1 + N - Rsum) rewards
    n = counts.visits.reshape(S, A)
    P_bar = (dense + 1.0 / S) / (n + 1.0)[:, :, None]
    r_lo, r_scale = -0.5, 2.0
    R_bar = r_lo + r_scale * (1.0 + counts.reward_sums.reshape(S, A)) / (2.0 + n)
    plan.backup_all(plan.PosteriorMean(counts, r_lo, r_scale), v, q)
    np.testing.assert_allclose(q, R_bar + P_bar @ v, rtol=1e-13, atol=1e-13)


@pytest.mark.nojit
def test_psrl_posterior_draws_have_the_dirichlet_and_beta_means():
    """Average of 4000 posterior draws against (N + 1/S) / (n + 1) and (1 + sum r) / (2 + n).

    Each coordinate's draw has standard deviation at most 0.5, so the mean of 4000 draws is
    within 5 / sqrt(4000) = 0.08 of its expectation with overwhelming probability; the checks
    use that bound divided by the actual spread, i.e. 5 standard errors.
    """
    m = mdp.envs.garnet(5, 2, 3, seed=2)
    transitions = np.arange(m.nnz, dtype=np.int64) % 4
    visits = np.add.reduceat(transitions, m.indptr[:-1])
    counts = est.Counts(m.indptr, m.indices, transitions, visits, 0.5 * visits)
    st = rng.new_state(np.uint64(9), rng.SALT_AGENT)
    sample = env.DenseTabular(np.zeros(50), np.zeros((5, 2)))
    draws, rdraws = [], []
    for _ in range(4000):
        est.sample_posterior(counts, 0.0, 1.0, st, sample, NO_STOP)
        draws.append(sample.probs.reshape(10, 5).copy())
        rdraws.append(sample.rewards.reshape(10).copy())
    draws, rdraws = np.array(draws), np.array(rdraws)
    prior = np.full((10, 5), 1 / 5)
    for row in range(10):
        for j in range(m.indptr[row], m.indptr[row + 1]):
            prior[row, m.indices[j]] += transitions[j]
    expected = prior / prior.sum(axis=1, keepdims=True)
    se = draws.std(axis=0) / np.sqrt(4000)
    assert np.all(np.abs(draws.mean(axis=0) - expected) <= 5 * se + 1e-12)
    np.testing.assert_allclose(draws.sum(axis=2), 1.0)
    r_expected = (1 + 0.5 * visits) / (2 + visits)
    assert np.all(np.abs(rdraws.mean(axis=0) - r_expected) <= 5 * rdraws.std(axis=0) / 63.2)


@pytest.mark.nojit
@pytest.mark.parametrize("row", [
    [0.5, -700.0, 2.0, -800.0, 1e-3],  # variates and logarithms of variates below TINY
    [-700.0, -701.5, -800.0, -690.0],  # every one below TINY: normalised in logs
])
def test_a_dirichlet_row_mixes_variates_and_their_logarithms(row):
    """PSRL's rows hold X, or ln X (negative) where X < TINY underflows: dividing by the sum
    gives exp(ln X - ln sum X) for each, summing to 1 with no 0 / 0."""
    logs = np.array([np.log(x) if x > 0.0 else x for x in row])
    expected = np.exp(logs - logs.max())
    expected /= expected.sum()
    probs = np.concatenate([[9.0], row, [9.0]])  # the row sits at base 1 of a larger array
    est._normalise_row(probs, 1, len(row), sum(x for x in row if x > 0.0))
    np.testing.assert_allclose(probs[1:-1], expected, rtol=1e-12, atol=0.0)
    assert probs[0] == probs[-1] == 9.0 and probs[1:-1].sum() == pytest.approx(1.0, abs=1e-15)


# --- planning --------------------------------------------------------------------------------


@pytest.mark.nojit
@pytest.mark.parametrize("record", ["Tabular", "DenseTabular", "VectorisedDense"])
def test_backward_induction_and_evaluation_on_a_tabular_model(record):
    """V_h = max_a (R + P V_{h+1}), lowest index on ties; evaluation of a (stochastic) policy
    by the same recursion; and the optimal policy's evaluation equals V* to the bit."""
    m = mdp.envs.garnet(20, 3, 4 if record == "Tabular" else 20, seed=12)
    if record != "Tabular":
        m = mdp.FiniteMDP(m.P, m.R)  # implicit indices: full rows read without them
    S, A, H = 20, 3, 6
    if record == "Tabular":
        model = env.Tabular(*m._csr(), m.R)
    else:
        model = getattr(env, record)(m.probs, m.R)
    values, q, actions = np.empty((H + 1, S)), np.empty((H, S, A)), np.empty((H, S), np.int64)
    plan.backward_induction(model, H, plan.LowestIndex(actions), values, q, NO_STOP)
    V = np.zeros(S)
    for h in range(H - 1, -1, -1):
        Q = m.R + m.P @ V
        np.testing.assert_allclose(q[h], Q, rtol=1e-13)
        assert np.array_equal(actions[h], np.argmax(q[h], axis=1))
        V = Q.max(axis=1)
        np.testing.assert_allclose(values[h], V, rtol=1e-13)
    ev = np.empty((H + 1, S))
    plan.evaluate_policy(plan.Deterministic(actions), model, ev, NO_STOP)
    assert np.array_equal(ev, values)  # the same sums, in the same order
    pi = np.random.default_rng(3).dirichlet(np.ones(A), size=(H, S))
    plan.evaluate_policy(plan.Stochastic(pi), model, ev, NO_STOP)
    V = np.zeros(S)
    for h in range(H - 1, -1, -1):
        V = (pi[h] * (m.R + m.P @ V)).sum(axis=1)
        np.testing.assert_allclose(ev[h], V, rtol=1e-13)


@pytest.mark.nojit
def test_planning_on_counts_equals_backward_induction_on_the_plug_in_model():
    """Plug-in planning (ce-greedy) on counts = the solver on estimators.plug_in's model, and
    with a bonus: min(Q + b / sqrt(max(1, N)), H - h) at every step."""
    m = mdp.envs.garnet(12, 3, 4, seed=5)
    S, A, H = 12, 3, 6
    counts, dense, obs = _random_counts(m, 120, seed=1)
    hat = mdp.estimators.plug_in(S, A, *map(list, zip(*[(s, a, s2) for s, a, s2, _ in obs])),
                                 [r for *_, r in obs])
    values, probs = np.empty((H + 1, S)), np.empty((H, S, A))
    plan.backward_induction(plan.PlugIn(counts, 0.0), H, plan.EvenTies(probs), values,
                            np.empty((H, S, A)), NO_STOP)
    expected = mdp.backward_induction(hat, H)
    np.testing.assert_allclose(values, expected.values, rtol=1e-12, atol=1e-12)
    # the deployed policy mixes evenly over the greedy actions of the plug-in model
    best = expected.q == expected.q.max(axis=2, keepdims=True)
    np.testing.assert_allclose(probs, best / best.sum(axis=2, keepdims=True))
    bonus = 0.8
    st = rng.new_state(np.uint64(1), rng.SALT_AGENT)
    actions = np.empty((H, S), np.int64)
    ties = plan.RandomTies(st, actions, np.empty(A))
    plan.backward_induction(plan.PlugIn(counts, bonus), H, ties, values, np.empty((H, S, A)),
                            NO_STOP)
    P, R = _plug_in_dense(counts, dense, S, A)
    extra = bonus / np.sqrt(np.maximum(1, counts.visits.reshape(S, A)))
    V = np.zeros(S)
    for h in range(H - 1, -1, -1):
        Q = np.minimum(R + P @ V + extra, H - h)
        assert np.all(Q[np.arange(S), actions[h]] == Q.max(axis=1))
        V = Q.max(axis=1)
        np.testing.assert_allclose(values[h], V, rtol=1e-12)


def _l1_max_lp(p, d, v):
    """max q . v over the simplex with ||q - p||_1 <= d: an LP in (q, e), e >= |q - p|."""
    n = p.size
    c = np.concatenate([-v, np.zeros(n)])
    eye = np.eye(n)
    a_ub = np.block([[eye, -eye], [-eye, -eye], [np.zeros((1, n)), np.ones((1, n))]])
    b_ub = np.concatenate([p, -p, [d]])
    a_eq = np.concatenate([np.ones(n), np.zeros(n)])[None, :]
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0], bounds=(0, None),
                  method="highs")
    assert res.status == 0
    return -res.fun


@pytest.mark.nojit
def test_l1_inner_maximisation_matches_a_linear_program():
    """JOA 2010 fig. 2 (sort once, mass onto the best state, off the worst) = the exact LP."""
    gen = np.random.default_rng(7)
    for _ in range(60):
        n = int(gen.integers(1, 8))
        p = gen.dirichlet(np.ones(n) * gen.choice([0.2, 1.0]))
        p[gen.random(n) < 0.3] = 0.0  # unobserved successors
        if p.sum() == 0:
            p[0] = 1.0
        p /= p.sum()
        v = gen.choice([gen.normal(size=n), gen.integers(0, 3, size=n).astype(float)])  # ties
        d = float(gen.choice([0.0, gen.uniform(0, 0.5), gen.uniform(0, 2.5), 5.0]))
        order = np.arange(n)
        plan.sort_descending(v, order)
        assert np.all(np.diff(v[order]) <= 0)
        q = p.copy()
        value = plan.l1_optimistic(q, d, v, order)
        assert np.isclose(value, _l1_max_lp(p, d, v), rtol=1e-9, atol=1e-9)
        assert np.isclose(value, q @ v, rtol=1e-12, atol=1e-12)
        assert np.all(q >= 0) and np.isclose(q.sum(), 1.0, atol=1e-12)
        assert np.abs(q - p).sum() <= d + 1e-12


@pytest.mark.nojit
def test_optimistic_planning_equals_backward_induction_by_linear_programs():
    """UCRL2's extended model against a plain reading of docs/algorithms.md, one LP per row."""
    m = mdp.envs.garnet(5, 2, 3, seed=4)
    S, A, H = 5, 2, 3
    counts, _, _ = _random_counts(m, 40, seed=3, skip_rows=(8, 9))  # two pairs unvisited
    t, delta = 40.0, 0.05
    c_p, c_r = plan.ucrl2_constants(S, A, t, delta)
    assert np.isclose(c_p, 14 * S * np.log(2 * A * t / delta))
    assert np.isclose(c_r, 7 * np.log(2 * S * A * t / delta) / 2)
    st = rng.new_state(np.uint64(1), rng.SALT_AGENT)
    actions, values = np.zeros((H, S), dtype=np.int64), np.zeros((H + 1, S))
    model = plan.Optimistic(counts, c_p, c_r, 1.0, 1.0, np.zeros(S), np.arange(S))
    ties = plan.RandomTies(st, actions, np.empty(A))
    plan.backward_induction(model, H, ties, values, np.zeros((H, S, A)), NO_STOP)
    # the reference: P_hat, R_hat (self-loop, 0 when unvisited), radii, LP per row, clip at 1
    v_ref = np.zeros(S)
    for h in range(H - 1, -1, -1):
        q = np.zeros((S, A))
        for s in range(S):
            for a in range(A):
                row = s * A + a
                n = counts.visits[row]
                p_hat = np.zeros(S)
                if n == 0:
                    p_hat[s], r_hat = 1.0, 0.0
                else:
                    for j in range(m.indptr[row], m.indptr[row + 1]):
                        p_hat[m.indices[j]] = counts.transitions[j] / n
                    r_hat = counts.reward_sums[row] / n
                m_ = max(1, n)
                r_opt = min(r_hat + np.sqrt(7 * np.log(2 * S * A * t / delta) / (2 * m_)), 1.0)
                d = np.sqrt(14 * S * np.log(2 * A * t / delta) / m_)
                q[s, a] = r_opt + _l1_max_lp(p_hat, d, v_ref)
        assert np.all(q[np.arange(S), actions[h]] >= q.max(axis=1) - 1e-9)
        v_ref = q.max(axis=1)
        np.testing.assert_allclose(values[h], v_ref, rtol=1e-9, atol=1e-9)
    assert np.all(v_ref <= H + 1e-12)  # optimistic rewards are clipped at 1
    assert np.all(model.row == 0.0)  # the scratch row is left zeroed


def _rvi(model, S, A, tau=0.5, epsilon=1e-10, stall=0.0, resolution=0.0, max_iter=10_000,
         stop=NO_STOP):
    w, u, v, d, q = np.zeros(S), np.zeros(S), np.zeros(S), np.zeros(S), np.zeros((S, A))
    out = plan.relative_value_iteration(model, tau, epsilon, stall, resolution, max_iter, w, u,
                                        v, d, q, stop)
    return out, w, q


@pytest.mark.nojit
@pytest.mark.parametrize("tau", [0.5, 0.0])
def test_relative_value_iteration_brackets_the_optimal_gain(tau):
    """min d <= g* <= max d at the last sweep; the greedy policy's exact gain is within the
    span of g*; q = R + P ((1 - tau) w) with u = max q + tau w (tau = 0: plain relative VI)."""
    m = mdp.envs.riverswim(6)
    S, A = 6, 2
    (it, lo, hi, outcome), w, q = _rvi(kernel_model(m), S, A, tau=tau)
    assert outcome == plan.CONVERGED and hi - lo < 1e-10
    g_star = mdp.continuing.optimal_gain(m)
    assert lo - 1e-12 <= g_star <= hi + 1e-12
    greedy = np.argmax(q, axis=1)
    assert abs(mdp.continuing.gain(m, greedy) @ m.initial - g_star) <= 1e-9
    np.testing.assert_allclose(q, m.R + m.P @ ((1.0 - tau) * w), rtol=1e-12)


@pytest.mark.nojit
def test_relative_value_iteration_outcomes():
    m = mdp.envs.garnet(6, 2, 3, seed=1)
    model = kernel_model(m)
    assert _rvi(model, 6, 2, epsilon=1e-300, max_iter=7)[0][0::3] == (7, plan.MAX_ITER)
    assert _rvi(model, 6, 2, epsilon=1e-300, resolution=64 * 2.2e-16)[0][3] == plan.RESOLUTION
    assert _rvi(model, 6, 2, stop=np.ones(1, np.uint8))[0][0::3] == (0, plan.STOPPED)
    # a multichain plug-in model: state 0 seen once looping to itself with reward 1, the other
    # pairs unvisited (self-loops with reward 0): the gain is (1, 0, 0), d converges to it
    support = (np.array([0, 3, 6, 9]), np.tile(np.arange(3), 3))
    counts = est.new_counts(*support)
    est.observe(counts, 0, 0, 1.0)
    (it, lo, hi, outcome), _, _ = _rvi(plan.PlugIn(counts, 0.0), 3, 1, epsilon=1e-6, stall=1e-9)
    assert outcome == plan.STALLED and hi - lo > 0.99


# --- linear algebra --------------------------------------------------------------------------


@pytest.mark.nojit
def test_lu_solves_with_partial_pivoting():
    """One factorisation of the leading block solves M x = b and M^T x = b (rows need swaps:
    the first column's largest entry is below the diagonal)."""
    gen = np.random.default_rng(4)
    for n in (1, 2, 5, 9):
        M = gen.normal(size=(n, n))
        M[0, 0] = 1e-3
        G = np.zeros((n + 3, n + 3))  # a larger work array: only its leading block is used
        G[:n, :n] = M
        perm = np.empty(n + 3, dtype=np.int64)
        assert la.lu_factor(G, n, perm, NO_STOP)
        b = gen.normal(size=n + 3)
        x = b.copy()
        la.lu_solve(G, n, perm, x)
        np.testing.assert_allclose(x[:n], np.linalg.solve(M, b[:n]), rtol=1e-9, atol=1e-12)
        y = b.copy()
        la.lu_solve_transposed(G, n, perm, y)
        np.testing.assert_allclose(y[:n], np.linalg.solve(M.T, b[:n]), rtol=1e-9, atol=1e-12)


@pytest.mark.nojit
@pytest.mark.parametrize("dense", [True, False])
def test_policy_matrices_and_the_discounted_values(dense):
    m = mdp.envs.garnet(9, 3, 9 if dense else 3, seed=6)
    if dense:
        m = mdp.FiniteMDP(m.P, m.R)
    S, A = 9, 3
    pi = np.random.default_rng(5).dirichlet(np.ones(A), size=S)
    pi[0] = [0.0, 1.0, 0.0]
    indptr, indices, probs = m._csr()
    M, r = np.empty((S, S)), np.empty(S)
    la.policy_matrix_dense(indptr, indices, probs, m.R, pi, M, r)
    np.testing.assert_allclose(M, np.einsum("sa,sat->st", pi, m.P), rtol=1e-14)
    np.testing.assert_allclose(r, (pi * m.R).sum(axis=1), rtol=1e-14)
    size = S * A * S
    rows, cols, data = np.empty(size, np.int64), np.empty(size, np.int64), np.empty(size)
    n = la.policy_matrix_coo(indptr, indices, probs, m.R, pi, rows, cols, data, r)
    coo = np.zeros((S, S))
    np.add.at(coo, (rows[:n], cols[:n]), data[:n])
    np.testing.assert_allclose(coo, M, rtol=1e-14)
    v = np.empty(S)
    la.discounted_values_dense(indptr, indices, probs, m.R, pi, 0.9, np.empty((S, S)), v)
    np.testing.assert_allclose(v, np.linalg.solve(np.eye(S) - 0.9 * M, r), rtol=1e-12)


@pytest.mark.nojit
def test_long_stages_return_at_once_when_the_stop_flag_is_set():
    """Planning, evaluation, posterior sampling and the exact gain read the flag and return
    False (or leave their outputs untouched) before doing the work."""
    m = mdp.envs.garnet(6, 2, 3, seed=3)
    S, A, H = 6, 2, 40
    stop = np.ones(1, dtype=np.uint8)
    values = np.full((H + 1, S), -7.0)
    rule = plan.LowestIndex(np.zeros((H, S), np.int64))
    assert not plan.backward_induction(kernel_model(m), H, rule, values, np.zeros((H, S, A)),
                                       stop)
    # the flag is read every 16 steps: steps 39 .. 33 are done, 32 and below are not
    assert np.all(values[:33] == -7.0) and np.all(values[33:H] != -7.0)
    assert not plan.evaluate_policy(plan.Deterministic(np.zeros((H, S), np.int64)),
                                    kernel_model(m), values, stop)
    sample = env.DenseTabular(np.full(S * A * S, -1.0), np.zeros((S, A)))
    est.sample_posterior(est.new_counts(m.indptr, m.indices), 0.0, 1.0,
                         rng.new_state(np.uint64(1), rng.SALT_AGENT), sample, stop)
    assert np.all(sample.probs == -1.0)
    g = np.full(S, -1.0)
    pi = np.full((S, A), 0.5)
    assert not la.gain_vector(m.indptr, m.indices, m.probs, m.R, pi, la.gain_work(S), g, stop)
    assert la.gain_vector(m.indptr, m.indices, m.probs, m.R, pi, la.gain_work(S), g, NO_STOP)
    np.testing.assert_allclose(g, mdp.continuing.gain(m, pi))

"""The reasoning testbed: exact quantities against enumeration of all V^H responses, the soft
backward induction's closed forms, the samplers against plain-Python references and their
target distributions, the built-in tasks, validation and files."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from mdp import reasoning as R
from mdp._reasoning_kernels import SALT_MH, SALT_RESPONSE
from tracking.rng import counter_uniform, run_seeds, stream_key, uniform

# ---------------------------------------------------------------------------------------------
# helpers: random tasks and policies, enumeration
# ---------------------------------------------------------------------------------------------


def random_task(seed, P=3, H=4, Z=3, V=3, solutions=False):
    """A task with a random automaton (an accepting state reachable for every prompt)."""
    rng = np.random.default_rng(seed)
    while True:
        nxt = rng.integers(0, Z, size=(P, H, Z, V))
        accept = rng.random((P, Z)) < 0.4
        try:
            task = R.Task("random", nxt, accept, 1.5 * rng.standard_normal((P, H, Z, V)))
            break
        except ValueError:
            continue
    if not solutions:
        return task
    # list the accepted responses of each prompt, padded with -1
    sols = [[y for y, _, z in enumerate_responses(task, R.reference_policy(task), p)
             if task.accept[p, z]] for p in range(P)]
    m = max(len(s) for s in sols)
    arr = -np.ones((P, m, H), dtype=np.int64)
    for p, s in enumerate(sols):
        arr[p, :len(s)] = s
    return R.Task("random", task.next, task.accept, task.ref_logits, solutions=arr)


def random_policy(task, seed, zeros=False):
    rng = np.random.default_rng(seed)
    pi = R.softmax_policy(2.0 * rng.standard_normal(task.shape))
    if zeros:  # some tokens of probability 0 (0 log 0 = 0), never a whole row
        pi[..., 0] = np.where(rng.random(task.shape[:3]) < 0.3, 0.0, pi[..., 0])
        pi /= pi.sum(axis=-1, keepdims=True)
    return pi


def enumerate_responses(task, pi, p):
    """[(y, pi(y), z_H)] over all V^H responses y of prompt p."""
    _, H, _, V = task.shape
    out = []
    for y in itertools.product(range(V), repeat=H):
        prob, z = 1.0, 0
        for h, v in enumerate(y):
            prob *= pi[p, h, z, v]
            z = task.next[p, h, z, v]
        out.append((y, prob, z))
    return out


def response_distribution(task, pi, p):
    """pi(y) over the V^H responses of prompt p, in itertools.product order."""
    return np.array([prob for _, prob, _ in enumerate_responses(task, pi, p)])


def response_index(tokens, V):
    """Index of each response (rows of ``tokens`` [..., H]) in itertools.product order."""
    H = tokens.shape[-1]
    return tokens.astype(np.int64) @ (V ** np.arange(H - 1, -1, -1))


# ---------------------------------------------------------------------------------------------
# exact quantities
# ---------------------------------------------------------------------------------------------


@pytest.mark.nojit
@pytest.mark.parametrize("seed", [0, 1])
def test_exact_quantities_match_enumeration(seed):
    task = random_task(seed, solutions=True)
    pi = random_policy(task, seed + 10, zeros=True)
    ref = R.reference_policy(task)
    pc, kl, ent = R.p_correct(task, pi), R.kl(task, pi, ref), R.entropy(task, pi)
    d = R.occupancy(task, pi)
    cov = R.coverage(task, pi, tau=0.01)
    for p in range(task.n_prompts):
        rows = enumerate_responses(task, pi, p)
        probs = np.array([prob for _, prob, _ in rows])
        ends = np.array([z for _, _, z in rows])
        refs = response_distribution(task, ref, p)
        pos = probs > 0
        assert probs.sum() == pytest.approx(1.0, abs=1e-12)
        assert pc[p] == pytest.approx(probs[task.accept[p, ends]].sum(), abs=1e-12)
        assert kl[p] == pytest.approx(np.sum(probs[pos] * np.log(probs[pos] / refs[pos])),
                                      abs=1e-10)
        assert ent[p] == pytest.approx(-np.sum(probs[pos] * np.log(probs[pos])), abs=1e-10)
        np.testing.assert_allclose(d[p, -1], np.bincount(ends, probs, task.n_states),
                                   atol=1e-12)
        correct = probs[task.accept[p, ends]]
        assert cov.count[p] == np.sum(correct >= 0.01)
        assert cov.share[p] == pytest.approx(np.sum(correct >= 0.01) / correct.size)
        listed = np.sort(cov.log_probs[p][~np.isnan(cov.log_probs[p])])
        with np.errstate(divide="ignore"):
            np.testing.assert_allclose(listed, np.sort(np.log(correct)), rtol=1e-12)
    # the KL of a policy to itself is 0, its entropy at most H log V
    assert np.allclose(R.kl(task, pi, pi), 0.0, atol=1e-12)
    assert np.all(ent <= task.horizon * math.log(task.vocab) + 1e-12)


def test_kl_is_infinite_off_the_reference_support():
    task = random_task(3)
    pi = random_policy(task, 4)
    ref = pi.copy()
    ref[:, 0, 0, :] = np.eye(task.vocab)[0]  # the first token is forced under ref
    assert np.all(np.isinf(R.kl(task, pi, ref)))
    assert np.all(np.isfinite(R.kl(task, ref, pi)))


def test_pass_at_k_matches_the_closed_form_and_stays_accurate_for_tiny_p():
    p = np.array([0.0, 0.01, 0.3, 1.0])
    k = np.array([1, 2, 7, 50])
    np.testing.assert_allclose(R.pass_at_k(p, k), 1.0 - (1.0 - p[:, None]) ** k, atol=1e-14)
    assert R.pass_at_k(p, k).shape == (4, 4)
    # p = 1e-12, k = 10^6: 1 - (1 - p)^k = k p - C(k, 2) p^2 + ..., which the naive formula
    # gets wrong in the fourth digit
    tiny, big = 1e-12, 10**6
    series = big * tiny - big * (big - 1) / 2 * tiny**2
    assert R.pass_at_k(tiny, big) == pytest.approx(series, rel=1e-12)
    assert R.pass_at_k(0.0, 5) == 0.0 and not np.signbit(R.pass_at_k(0.0, 5))
    with pytest.raises(ValueError, match="k must"):
        R.pass_at_k(0.5, 0)
    with pytest.raises(ValueError, match="p must"):
        R.pass_at_k(1.5, 1)


@pytest.mark.nojit
def test_unbiased_estimator_matches_subsets_and_is_unbiased():
    for n in range(1, 8):
        for k in range(1, n + 1):
            est = R.pass_at_k_unbiased(n, np.arange(n + 1), k)
            for c in range(n + 1):
                samples = [1] * c + [0] * (n - c)
                subsets = list(itertools.combinations(samples, k))
                brute = sum(any(s) for s in subsets) / len(subsets)
                assert est[c] == pytest.approx(brute, abs=1e-13)
            # E over c ~ Binomial(n, p) of the estimator is pass@k(p)
            for p in (0.05, 0.5):
                mean = np.sum(stats.binom.pmf(np.arange(n + 1), n, p) * est)
                assert mean == pytest.approx(float(R.pass_at_k(p, k)), abs=1e-12)
    assert R.pass_at_k_unbiased(10, 3, 2).shape == ()
    with pytest.raises(ValueError, match="c must"):
        R.pass_at_k_unbiased(4, 5, 1)
    with pytest.raises(ValueError, match="k must"):
        R.pass_at_k_unbiased(4, 1, 5)


# ---------------------------------------------------------------------------------------------
# soft backward induction
# ---------------------------------------------------------------------------------------------


@pytest.mark.nojit
@pytest.mark.parametrize("alpha", [0.5, 4.0])
def test_power_policy_is_the_power_distribution(alpha):
    task = random_task(5)
    ref = R.reference_policy(task)
    pw = R.power_policy(task, ref, alpha)
    _, log_w = R.soft_backward_induction(task, alpha * np.log(ref),
                                         np.zeros((task.n_prompts, task.n_states)))
    for p in range(task.n_prompts):
        target = response_distribution(task, ref, p) ** alpha
        np.testing.assert_allclose(response_distribution(task, pw, p), target / target.sum(),
                                   rtol=1e-10, atol=1e-15)
        assert log_w[p, 0, 0] == pytest.approx(math.log(target.sum()), rel=1e-12)


def objective(task, pi, ref, reward, beta):
    """E_pi[r(z_H)] - beta KL(pi || ref) per prompt."""
    d = R.occupancy(task, pi)
    return np.sum(d[:, -1] * reward, axis=1) - beta * R.kl(task, pi, ref)


@pytest.mark.nojit
@pytest.mark.parametrize("beta", [0.3, 2.0])
def test_kl_optimum_is_the_tilted_reference_and_maximises_the_objective(beta):
    task = random_task(6)
    rng = np.random.default_rng(7)
    ref = R.reference_policy(task)
    reward = rng.standard_normal((task.n_prompts, task.n_states))
    opt = R.kl_optimum(task, ref, reward, beta)
    _, log_w = R.soft_backward_induction(task, np.log(ref), reward / beta)
    for p in range(task.n_prompts):
        rows = enumerate_responses(task, ref, p)
        tilted = np.array([prob * math.exp(reward[p, z] / beta) for _, prob, z in rows])
        np.testing.assert_allclose(response_distribution(task, opt, p), tilted / tilted.sum(),
                                   rtol=1e-10, atol=1e-15)
    best = objective(task, opt, ref, reward, beta)
    np.testing.assert_allclose(best, beta * log_w[:, 0, 0], rtol=1e-10)
    for i in range(20):  # random perturbations of the optimum's logits never do better
        scale = 0.01 if i < 10 else 1.0
        other = R.softmax_policy(np.log(opt) + scale * rng.standard_normal(task.shape))
        assert np.all(objective(task, other, ref, reward, beta) <= best + 1e-12)
    # the verifier is the default reward
    np.testing.assert_allclose(R.kl_optimum(task, ref, beta=beta),
                               R.kl_optimum(task, ref, task.accept.astype(float), beta))


def pivot_task():
    """Karan and Du's pivotal token: 'a' (0.4) leads to a near-certain continuation, 'b' (0.6)
    to an even split, so a response starting with 'a' is the likeliest one (0.396)."""
    nxt = np.zeros((1, 2, 3, 2), dtype=np.int32)
    nxt[0, 0, 0] = [1, 2]
    probs = np.full((1, 2, 3, 2), 0.5)
    probs[0, 0, 0] = [0.4, 0.6]
    probs[0, 1, 1] = [0.01, 0.99]
    return R.Task("pivot", nxt, np.ones((1, 3), dtype=bool), np.log(probs))


def test_low_temperature_differs_from_power_on_a_branching_task_and_agrees_on_a_chain():
    branching = pivot_task()
    ref = R.reference_policy(branching)
    # power: W(a) = 0.4^4 (0.01^4 + 0.99^4) > W(b) = 0.6^4 (2 x 0.5^4); low temperature: 0.6^4
    # against 0.4^4
    w_a, w_b = 0.4**4 * (0.01**4 + 0.99**4), 0.6**4 * 2 * 0.5**4
    assert R.power_policy(branching, ref, 4.0)[0, 0, 0, 0] == pytest.approx(w_a / (w_a + w_b))
    assert R.low_temperature_policy(ref, 4.0)[0, 0, 0, 0] == pytest.approx(
        0.4**4 / (0.4**4 + 0.6**4))
    lt = response_distribution(branching, R.low_temperature_policy(ref, 4.0), 0)
    pw = response_distribution(branching, R.power_policy(branching, ref, 4.0), 0)
    assert 0.5 * np.abs(lt - pw).sum() > 0.2
    # a chain: every token leads to the same next state, so W_{h+1} does not depend on v
    P, H, Z, V = branching.shape
    nxt = np.broadcast_to(np.minimum(np.arange(H)[None, :, None, None] + 1, Z - 1),
                          (P, H, Z, V))
    accept = np.ones((P, Z), dtype=bool)
    chain = R.Task("chain", nxt, accept, branching.ref_logits)
    ref = R.reference_policy(chain)
    np.testing.assert_allclose(R.power_policy(chain, ref, 4.0),
                               R.low_temperature_policy(ref, 4.0), atol=1e-13)


# ---------------------------------------------------------------------------------------------
# sampling
# ---------------------------------------------------------------------------------------------


def reference_sample(task, pi, prompts, n, seed, run=0):
    """Plain-Python :func:`sample_responses`: inverse CDF on the h-th uniform of the stream
    (run seed, SALT_RESPONSE, p, j)."""
    word = run_seeds(seed, 1, start=run)[0]
    tokens = np.empty((len(prompts), n, task.horizon), dtype=np.int64)
    for i, p in enumerate(prompts):
        for j in range(n):
            key = np.uint64(stream_key(word, SALT_RESPONSE, p, j))
            z = 0
            for h in range(task.horizon):
                row = pi[p, h, z]
                u = counter_uniform(key, h)
                v = int(np.flatnonzero(np.cumsum(row) >= u * row.sum())[0])
                tokens[i, j, h] = v
                z = task.next[p, h, z, v]
    return tokens


@pytest.mark.nojit
def test_sampler_matches_its_reference_and_uses_common_random_numbers():
    task = random_task(9)
    pi = random_policy(task, 10)
    prompts = np.array([2, 0, 2])
    s = R.sample_responses(task, pi, prompts, 5, seed=3)
    assert s.tokens.dtype == np.int8
    np.testing.assert_array_equal(s.tokens, reference_sample(task, pi, prompts, 5, 3))
    ends = np.array([[_final(task, p, y) for y in s.tokens[i]] for i, p in enumerate(prompts)])
    np.testing.assert_array_equal(s.states, ends)
    np.testing.assert_array_equal(s.correct, task.accept[prompts[:, None], ends])
    # a prompt's draws do not depend on the other prompts asked for, nor on the run count
    whole = R.sample_responses(task, pi, None, 5, seed=3)
    np.testing.assert_array_equal(whole.tokens[2], s.tokens[0])
    np.testing.assert_array_equal(s.tokens[0], s.tokens[2])
    assert not np.array_equal(R.sample_responses(task, pi, None, 5, seed=4).tokens, whole.tokens)
    assert not np.array_equal(R.sample_responses(task, pi, None, 5, seed=3, run=1).tokens,
                              whole.tokens)
    # log_prob reads the same probabilities the sampler drew from
    lp = R.log_prob(task, pi, s.tokens, prompts)
    np.testing.assert_allclose(
        lp, [[math.log(_prob(task, pi, p, y)) for y in s.tokens[i]]
             for i, p in enumerate(prompts)], rtol=1e-12)


def _final(task, p, y):
    z = 0
    for h, v in enumerate(y):
        z = task.next[p, h, z, v]
    return z


def _prob(task, pi, p, y):
    prob, z = 1.0, 0
    for h, v in enumerate(y):
        prob *= pi[p, h, z, v]
        z = task.next[p, h, z, v]
    return prob


def test_sampled_frequency_of_correct_responses_matches_p_correct():
    task = R.trie(n_prompts=20, horizon=6, vocab=4, n_solutions=3, p_min=0.01, p_max=0.5,
                  seed=1)
    pi = R.reference_policy(task)
    n = 20000
    freq = R.sample_responses(task, pi, None, n, seed=5).correct.mean(axis=1)
    pc = R.p_correct(task, pi)
    # binomial standard error sqrt(p (1 - p) / n); 4.5 of them, over 20 prompts, fails with
    # probability below 1e-4 under a correct sampler (fixed seed: the test is deterministic)
    assert np.all(np.abs(freq - pc) <= 4.5 * np.sqrt(pc * (1 - pc) / n))


def test_power_policy_samples_follow_the_power_distribution():
    task = random_task(11, P=1, H=3, V=3)
    ref = R.reference_policy(task)
    pw = R.power_policy(task, ref, 4.0)
    n = 40000
    s = R.sample_responses(task, pw, None, n, seed=2)
    observed = np.bincount(response_index(s.tokens[0], 3), minlength=27)
    expected = n * response_distribution(task, pw, 0)
    assert _chi_square_p(observed, expected) > 1e-3


def _chi_square_p(observed, expected):
    """p-value of Pearson's chi-square test, cells of expected count below 5 pooled."""
    small = expected < 5
    obs = np.append(observed[~small], observed[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    return stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue


# ---------------------------------------------------------------------------------------------
# the Metropolis-Hastings power sampler
# ---------------------------------------------------------------------------------------------


class _Stream:
    """tracking.rng's sequential stream, stepped from Python."""

    def __init__(self, key):
        self.state = np.array([key], dtype=np.uint64)

    def uniform(self):
        return uniform(self.state)


def reference_mh(task, ref, q, alpha, p, j, seed, block, n_mcmc):
    """Plain-Python chain j of prompt p of :func:`mh_power_sample`: (tokens, cost, accepted)."""
    word = run_seeds(seed, 1)[0]
    st = _Stream(stream_key(word, SALT_MH, p, j))
    H = task.horizon
    x, zs = [0] * H, [0] * (H + 1)

    def extend(x, zs, start, stop):
        for h in range(start, stop):
            row = q[p, h, zs[h]]
            u = st.uniform()
            v = int(np.flatnonzero(np.cumsum(row) >= u * row.sum())[0])
            x[h] = v
            zs[h + 1] = task.next[p, h, zs[h], v]

    log_t, log_q = alpha * np.log(ref), np.log(q)  # the kernel's factors, summed in its order

    def log_ratio(x, zs, y, zy, start, stop):
        out = 0.0
        for h in range(start, stop):
            out += (log_t[p, h, zy[h], y[h]] - log_t[p, h, zs[h], x[h]]
                    + log_q[p, h, zs[h], x[h]] - log_q[p, h, zy[h], y[h]])
        return out

    t, cost, moves = 0, 0, 0
    while t < H:
        stop = min(t + block, H)
        extend(x, zs, t, stop)
        cost += stop - t
        t = stop
        for _ in range(n_mcmc):
            idx = min(int(st.uniform() * t), t - 1)
            y, zy = list(x), list(zs)
            extend(y, zy, idx, t)
            cost += t - idx
            log_r = log_ratio(x, zs, y, zy, idx, t)
            if log_r >= 0.0 or st.uniform() < math.exp(log_r):
                moves += 1
                x, zs = y, zy
    return x, cost, moves


@pytest.mark.nojit
def test_mh_sampler_matches_its_plain_python_reference():
    task = random_task(12, P=2, H=4, V=3)
    ref = R.reference_policy(task)
    q = R.low_temperature_policy(ref, 4.0)
    for block, n_mcmc in ((1, 3), (4, 5), (3, 0)):
        out = R.mh_power_sample(task, ref, 4.0, None, 3, seed=7, n_mcmc=n_mcmc, block=block)
        for p in range(2):
            for j in range(3):
                x, cost, moves = reference_mh(task, ref, q, 4.0, p, j, 7, block, n_mcmc)
                np.testing.assert_array_equal(out.tokens[p, j], x)
                assert (out.cost[p, j], out.accepted[p, j]) == (cost, moves)
                assert out.states[p, j] == _final(task, p, x)
                assert out.correct[p, j] == task.accept[p, out.states[p, j]]
    assert np.all(out.cost == task.horizon) and np.all(out.accepted == 0)


def exact_mh_distribution(task, ref, q, alpha, p, block, n_mcmc):
    """The exact distribution of the sampler's output for prompt p, by propagating the
    distribution of the current prefix through every extension and every move."""
    V, H = task.vocab, task.horizon

    def walk(x):
        zs = [0]
        for h, v in enumerate(x):
            zs.append(task.next[p, h, zs[-1], v])
        return zs

    def q_suffix(x, start):
        zs = walk(x)
        return math.prod(q[p, h, zs[h], x[h]] for h in range(start, len(x)))

    def target(x):
        zs = walk(x)
        return math.prod(ref[p, h, zs[h], x[h]] ** alpha for h in range(len(x)))

    dist = {(): 1.0}
    t = 0
    while t < H:
        stop = min(t + block, H)
        new = {}
        for x, w in dist.items():
            for s in itertools.product(range(V), repeat=stop - t):
                y = x + s
                new[y] = new.get(y, 0.0) + w * q_suffix(y, t)
        dist, t = new, stop
        for _ in range(n_mcmc):
            new = {}
            for x, w in dist.items():
                for idx in range(t):
                    for s in itertools.product(range(V), repeat=t - idx):
                        y = x[:idx] + s
                        qy, qx = q_suffix(y, idx), q_suffix(x, idx)
                        if qy == 0.0:
                            continue
                        acc = min(1.0, target(y) * qx / (target(x) * qy))
                        mass = w / t * qy
                        new[y] = new.get(y, 0.0) + mass * acc
                        new[x] = new.get(x, 0.0) + mass * (1.0 - acc)
            dist = new
    order = list(itertools.product(range(V), repeat=H))
    return np.array([dist.get(y, 0.0) for y in order])


@pytest.mark.parametrize("block,n_mcmc,use_ref", [(1, 4, False), (3, 6, True)])
def test_mh_sampler_follows_its_exact_distribution_which_approaches_the_power(block, n_mcmc,
                                                                              use_ref):
    task = random_task(13, P=1, H=3, V=3)
    ref = R.reference_policy(task)
    q = ref if use_ref else R.low_temperature_policy(ref, 4.0)
    n = 30000
    out = R.mh_power_sample(task, ref, 4.0, None, n, seed=1, n_mcmc=n_mcmc, block=block,
                            proposal=q if use_ref else None)
    exact = exact_mh_distribution(task, ref, q, 4.0, 0, block, n_mcmc)
    observed = np.bincount(response_index(out.tokens[0], 3), minlength=27)
    # fixed seed; a correct sampler fails this with probability 1e-3
    assert _chi_square_p(observed, n * exact) > 1e-3
    # more moves bring the exact distribution to ref^alpha / Z (the chain's invariant law) ...
    power = response_distribution(task, ref, 0) ** 4.0
    power /= power.sum()
    tv = [0.5 * np.abs(exact_mh_distribution(task, ref, q, 4.0, 0, 3, k) - power).sum()
          for k in (0, 5, 40)]
    assert tv[0] > tv[1] > tv[2] and tv[2] < 1e-3, tv
    # ... and the samples of a long chain with it: E TV(empirical, law) <= 1/2 sum sqrt(p / n)
    # (Jensen); allow three times that plus the exact law's distance to the power
    long = R.mh_power_sample(task, ref, 4.0, None, n, seed=2, n_mcmc=40, block=3,
                             proposal=q if use_ref else None)
    freq = np.bincount(response_index(long.tokens[0], 3), minlength=27) / n
    bound = 0.5 * np.sum(np.sqrt(power / n))
    assert 0.5 * np.abs(freq - power).sum() <= 3.0 * bound + tv[2]
    # the cost: H tokens to build the response, then t - idx per move
    assert np.all(long.cost >= task.horizon)
    assert np.all(long.cost <= task.horizon * (1 + 40))


# ---------------------------------------------------------------------------------------------
# built-in tasks
# ---------------------------------------------------------------------------------------------


@pytest.mark.nojit
def test_trie_task_difficulty_structure_and_seeding():
    kw = {"n_prompts": 60, "horizon": 5, "vocab": 4, "n_solutions": 5, "p_min": 1e-3,
          "p_max": 0.2}
    task = R.trie(seed=3, **kw)
    P, H, Z, V = task.shape
    assert Z == 6 and task.solutions.shape == (60, 5, 5)
    base = R.p_correct(task, R.reference_policy(task))
    # q_p^H is the target up to floating-point rounding
    assert np.all((base >= 1e-3 * (1 - 1e-9)) & (base <= 0.2 * (1 + 1e-9)))
    # log-uniform: the mean of log pass@1 near the midpoint (sd of the mean: range / sqrt(12 P))
    span = math.log(0.2 / 1e-3)
    assert abs(np.mean(np.log(base)) - math.log(1e-3) - span / 2) < 4 * span / math.sqrt(12 * P)
    # the listed solutions are distinct, correct, each of probability pass@1 / m
    for p in range(P):
        assert len({tuple(s) for s in task.solutions[p]}) == 5
    cov = R.coverage(task, R.reference_policy(task), tau=1e-300)
    assert np.all(cov.count == 5)
    np.testing.assert_allclose(np.exp(cov.log_probs), np.repeat(base[:, None] / 5, 5, axis=1),
                               rtol=1e-9)
    # only the listed responses are correct: pass@1 of the uniform policy is m / V^H
    uniform = np.full(task.shape, 1.0 / V)
    np.testing.assert_allclose(R.p_correct(task, uniform), 5 / V**H, rtol=1e-12)
    same = R.trie(seed=3, **kw)
    for key in ("next", "accept", "ref_logits", "solutions"):
        np.testing.assert_array_equal(getattr(same, key), getattr(task, key))
    other = R.trie(seed=4, **kw)
    assert not np.array_equal(other.solutions, task.solutions)
    assert task.source == {"task": "trie", "args": {**kw, "seed": 3}}


@pytest.mark.nojit
@pytest.mark.parametrize("weight,lo,hi", [(0.5, 0.2, 0.4), (3.0, 0.05, 0.15)])
def test_trie_distractors_take_the_weighted_share_of_the_references_mass(weight, lo, hi):
    m, d, H, V = 2, 3, 3, 3
    task = R.trie(n_prompts=4, horizon=H, vocab=V, n_solutions=m, n_distractors=d,
                  distractor_weight=weight, p_min=lo, p_max=hi, seed=5)
    assert task.shape == (4, H, m + d + 1, V) and task.solutions.shape == (4, m, H)
    ref = R.reference_policy(task)
    base = R.p_correct(task, ref)
    assert np.all((base >= lo * (1 - 1e-9)) & (base <= hi * (1 + 1e-9)))
    for p in range(4):
        probs = response_distribution(task, ref, p)
        ends = np.array([z for _, _, z in enumerate_responses(task, ref, p)])
        correct = task.accept[p, ends]
        on_trie = ends != m + d  # the dead state is the last
        # m solutions of base / m each, d distractors of weight x base / m each
        assert correct.sum() == m and (on_trie & ~correct).sum() == d
        np.testing.assert_allclose(probs[correct], base[p] / m, rtol=1e-9)
        np.testing.assert_allclose(probs[on_trie & ~correct], weight * base[p] / m, rtol=1e-9)
    # sharpening the reference helps when the solutions are its most likely responses and
    # hurts when the distractors are (power alpha = 4: m / (m + d w^4) of the trie's mass)
    power = R.p_correct(task, R.power_policy(task, ref, 4.0))
    assert np.all(power > base) if weight < 1 else np.all(power < base)
    # the arguments rebuild the task; without distractors they are the old ones
    again = R.make_task("trie", **task.source["args"])
    np.testing.assert_array_equal(again.ref_logits, task.ref_logits)
    assert "n_distractors" not in R.trie(n_prompts=2, horizon=3, vocab=3).source["args"]
    with pytest.raises(ValueError, match="mass on the trie"):
        R.trie(n_prompts=2, horizon=3, vocab=3, n_solutions=1, n_distractors=2,
               distractor_weight=3.0, p_max=0.2)
    with pytest.raises(ValueError, match="n_solutions \\+ n_distractors must be <= .*= 8, got 9"):
        R.trie(n_prompts=2, horizon=3, vocab=3, n_solutions=4, n_distractors=5, p_max=0.05)


@pytest.mark.nojit
def test_shared_distractors_ignore_the_rule_and_leave_the_solutions_as_they_were():
    """The shared task with distractors keeps the solutions, features and reference mass law of
    the task without them, and adds d wrong responses of weight w per prompt (enumerated)."""
    m, d, H, V, w = 2, 3, 3, 3, 2.0
    kw = {"n_prompts": 4, "horizon": H, "vocab": V, "n_solutions": m, "n_features": 2,
          "p_min": 0.05, "p_max": 0.1, "seed": 2}
    plain = R.shared(**kw)
    task = R.shared(**kw, n_distractors=d, distractor_weight=w)
    np.testing.assert_array_equal(task.solutions, plain.solutions)
    np.testing.assert_array_equal(task.features, plain.features)
    assert task.shape == (4, H, m + d + 1, V)
    ref = R.reference_policy(task)
    base = R.p_correct(task, ref)
    np.testing.assert_allclose(base, R.p_correct(plain, R.reference_policy(plain)), rtol=1e-9)
    for p in range(4):
        probs = response_distribution(task, ref, p)
        ends = np.array([z for _, _, z in enumerate_responses(task, ref, p)])
        correct = task.accept[p, ends]
        wrong_leaf = (ends != m + d) & ~correct
        assert correct.sum() == m and wrong_leaf.sum() == d
        np.testing.assert_allclose(probs[wrong_leaf], w * base[p] / m, rtol=1e-9)
    again = R.make_task("shared", **task.source["args"])
    np.testing.assert_array_equal(again.next, task.next)
    assert "n_distractors" not in plain.source["args"]


@pytest.mark.nojit
def test_shared_task_follows_its_hidden_rule_and_feature_map():
    task = R.shared(n_prompts=40, horizon=6, vocab=5, n_solutions=3, n_features=3, noise=0.5,
                    seed=2)
    assert task.features.shape == (40, 3)
    _, _, U, F = R._shared_rule(2, 40, 6, 5, 3, 1e-4, 0.5)
    np.testing.assert_array_equal(task.features, F)
    best = np.argmax(np.einsum("hvk,pk->phv", U, F), axis=2)
    agree = np.mean(task.solutions == best[:, None, :])
    assert agree > 0.6  # chance is 1 / (V - 1) = 0.25
    base = R.p_correct(task, R.reference_policy(task))
    assert np.all((base >= 1e-4 * (1 - 1e-9)) & (base <= 0.5 * (1 + 1e-9)))
    theta = np.random.default_rng(0).standard_normal((6, 5, 3))
    logits = R.feature_logits(task, theta)
    for p, h, z, v in ((0, 0, 0, 0), (7, 3, 2, 4), (39, 5, 3, 1)):
        phi = R.shared_features(task, p, h, z, v)
        assert logits[p, h, z, v] == pytest.approx(theta.ravel() @ phi)
    with pytest.raises(ValueError, match="raise noise"):
        R.shared(n_prompts=2, horizon=3, vocab=3, n_solutions=6, noise=0.0)


def test_make_task_and_its_errors():
    task = R.make_task("trie", n_prompts=3, horizon=3, vocab=3, n_solutions=2)
    assert task.shape == (3, 3, 3, 3)
    with pytest.raises(ValueError, match="unknown reasoning task 'x'"):
        R.make_task("x")
    with pytest.raises(ValueError, match="no argument 'gamma'"):
        R.make_task("trie", gamma=1)


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------


def _parts(task):
    return {"name": task.name, "next": np.array(task.next), "accept": np.array(task.accept),
            "ref_logits": np.array(task.ref_logits)}


def _bad_next(parts):
    parts["next"][0, 0, 0, 0] = 99


def _unreachable(parts):
    parts["accept"][1] = False


def _nan_logits(parts):
    parts["ref_logits"][0, 1, 0, 0] = np.nan


@pytest.mark.nojit
@pytest.mark.parametrize("change,message", [
    (_bad_next, r"next must hold states in \[0, 3\)"),
    (lambda q: q.update(next=q["next"].astype(float)), "next must be an integer array"),
    (lambda q: q.update(accept=q["accept"].astype(int)), "accept must be a boolean array"),
    (lambda q: q.update(accept=q["accept"][:, :2]), "accept must have shape"),
    (_unreachable, "accept: no accepting state is reachable at step H = 4 for prompt 1"),
    (_nan_logits, "ref_logits must be finite"),
    (lambda q: q.update(ref_logits=q["ref_logits"][:, :2]), "ref_logits must have shape"),
    (lambda q: q.update(features=np.zeros((2, 4))), "features must have 3 rows"),
    (lambda q: q.update(solutions=np.zeros((3, 1, 3), dtype=int)), "solutions must have shape"),
    (lambda q: q.update(solutions=np.full((3, 1, 4), 3)), r"solutions must hold tokens in"),
    (lambda q: q.update(solutions=np.array([[[0, -1, 0, 0]]] * 3)), "mixes tokens and padding"),
    (lambda q: q.update(name=3), "name must be a string"),
])
def test_task_validation_names_the_field(change, message):
    parts = _parts(random_task(0))
    change(parts)
    with pytest.raises(ValueError, match=message):
        R.Task(**parts)


@pytest.mark.nojit
def test_unaccepted_solution_is_refused_and_arrays_are_frozen():
    task = random_task(0)
    wrong = next(y for y, _, z in enumerate_responses(task, R.reference_policy(task), 0)
                 if not task.accept[0, z])
    sols = -np.ones((3, 1, 4), dtype=int)
    sols[0, 0] = wrong
    with pytest.raises(ValueError, match=r"solutions\[0, 0\] is not accepted"):
        R.Task("t", task.next, task.accept, task.ref_logits, solutions=sols)
    with pytest.raises(ValueError, match="read-only"):
        task.next[0, 0, 0, 0] = 1


@pytest.mark.parametrize("kwargs,message", [
    ({"p_max": 1.0}, "p_max must be < 1"), ({"p_min": 0.0}, "p_min must be > 0"),
    ({"p_min": 0.5, "p_max": 0.1}, "p_max must be >= 0.5"),
    ({"vocab": 3, "horizon": 2, "n_solutions": 5}, "n_solutions must be <= 4"),
    ({"vocab": 1}, "vocab must be >= 2"), ({"horizon": 0}, "horizon must be >= 1"),
    ({"seed": -1}, "seed must be >= 0"), ({"horizon": 40}, "horizon x log2"),
])
def test_builder_parameters_are_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        R.trie(**kwargs)


def test_policies_and_arguments_are_validated():
    task = random_task(0)
    pi = random_policy(task, 0)
    with pytest.raises(ValueError, match="pi must have shape"):
        R.p_correct(task, pi[:, :2])
    with pytest.raises(ValueError, match=r"pi: every row pi\[p, h, z, :\] must sum to 1"):
        R.p_correct(task, 2 * pi)
    with pytest.raises(ValueError, match="pi must be >= 0"):
        R.entropy(task, pi - 0.5)
    with pytest.raises(ValueError, match="ref must have shape"):
        R.kl(task, pi, pi[0])
    with pytest.raises(ValueError, match="beta must be > 0"):
        R.kl_optimum(task, pi, beta=0.0)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        R.power_policy(task, pi, alpha=-1)
    with pytest.raises(ValueError, match=r"prompts must hold indices in \[0, 3\)"):
        R.sample_responses(task, pi, [3])
    with pytest.raises(ValueError, match="block must be <= 4"):
        R.mh_power_sample(task, pi, block=5)
    with pytest.raises(ValueError, match="lists no solutions"):
        R.coverage(task, pi)


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------


@pytest.mark.nojit
def test_save_load_round_trip(tmp_path):
    task = R.shared(n_prompts=4, horizon=3, vocab=4, n_solutions=2, seed=1)
    path = R.save_task(task, tmp_path / "t.npz")
    back = R.load_task(path)
    for key in ("next", "accept", "ref_logits", "features", "solutions"):
        np.testing.assert_array_equal(getattr(back, key), getattr(task, key))
        assert getattr(back, key).dtype == getattr(task, key).dtype
    assert back.name == task.name
    assert back.source == {**task.source, "file": str(path)}
    # np.load without pickle reads it too
    with np.load(path, allow_pickle=False) as f:
        assert int(f["format_version"]) == R.FORMAT_VERSION


def test_damaged_or_wrong_files_give_one_clear_error(tmp_path):
    task = R.trie(n_prompts=3, horizon=3, vocab=3, n_solutions=2)
    good = R.save_task(task, tmp_path / "good.npz")
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"^cut.npz: not a valid .npz file") as err:
        R.load_task(cut)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="no such file"):
        R.load_task(tmp_path / "none.npz")
    arrays = dict(np.load(good, allow_pickle=False))
    for name, change, message in [
        ("missing.npz", lambda a: a.pop("ref_logits"), "missing array 'ref_logits'"),
        ("extra.npz", lambda a: a.update(junk=np.zeros(1)), "unknown array 'junk'"),
        ("version.npz", lambda a: a.update(format_version=np.array(99)), "format_version must"),
        ("bad.npz", lambda a: a.update(accept=a["accept"][:, :1]), "accept must have shape"),
    ]:
        a = dict(arrays)
        change(a)
        np.savez(tmp_path / name, **a)
        with pytest.raises(ValueError, match=f"^{name}: {message}"):
            R.load_task(tmp_path / name)
    with pytest.raises(ValueError, match="must end in .npz"):
        R.save_task(task, tmp_path / "t.json")


def test_the_user_page_example_runs_as_written(tmp_path, monkeypatch, capsys):
    """docs/reasoning.md's example runs and prints what the page shows."""
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "reasoning.md").read_text("utf-8")
    code = page.split("```python\n")[1].split("```")[0]
    shown = page.split("```python\n")[1].split("```\n")[2]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "docs/reasoning.md", "exec"), {})
    assert capsys.readouterr().out.strip() == shown.strip()

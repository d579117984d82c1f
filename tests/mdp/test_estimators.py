"""Plug-in estimators: counts, the empirical model, its 1/sqrt(N) convergence."""

import numpy as np
import pytest

import mdp
from mdp import estimators


def test_counts_and_model_by_hand():
    # S = 3, A = 2; transitions (s, a, r, s'): (0,1,1,2) (0,1,0,1) (0,0,.5,2) (1,0,2,0)
    c = estimators.count(3, 2, [0, 0, 0, 1], [1, 1, 0, 0], [2, 1, 2, 0], [1.0, 0.0, 0.5, 2.0])
    dense = c.dense()
    assert dense[0, 1].tolist() == [0, 1, 1] and dense[0, 0].tolist() == [0, 0, 1]
    assert dense[1, 0].tolist() == [1, 0, 0] and dense.sum() == 4
    assert c.visits.tolist() == [[1, 2], [1, 0], [0, 0]]
    m = c.model()
    np.testing.assert_allclose(m.P[0, 1], [0, 0.5, 0.5])
    np.testing.assert_allclose(m.R, [[0.5, 0.5], [2.0, 0.0], [0.0, 0.0]])
    # unvisited pairs: a self-loop with reward 0
    np.testing.assert_allclose(m.P[1, 1], [0, 1, 0])
    np.testing.assert_allclose(m.P[2, 0], [0, 0, 1])
    np.testing.assert_allclose(m.P[2, 1], [0, 0, 1])


@pytest.mark.parametrize(
    "args,message",
    [
        ((3, 2, [0], [2], [0]), "actions must lie in 0 .. 1"),
        ((3, 2, [0], [0], [3]), "next_states must lie in 0 .. 2"),
        ((3, 2, [0, 1], [0], [0, 1]), "same length"),
        ((3, 2, [0.5], [0], [0]), "integers"),
        ((0, 2, [], [], []), "n_states must be >= 1"),
    ],
)
def test_validation(args, message):
    with pytest.raises(ValueError, match=message):
        estimators.count(*args)


def test_nan_rewards_refused():
    with pytest.raises(ValueError, match="rewards must be finite"):
        estimators.count(2, 1, [0], [0], [1], [float("nan")])


def test_plug_in_converges_at_the_root_n_rate():
    """Mean L1 error of P_hat rows times sqrt(N) stays constant while N grows 100x.

    Each (s, a) of a garnet(40, 3, 6) gets N transitions drawn from P; the mean over the 120
    rows of ||P_hat - P||_1 is averaged over 8 seeds. For multinomial rows, E||P_hat - P||_1
    is asymptotically sum_j sqrt(2 p_j (1 - p_j) / (pi N)), so sqrt(N) * error converges; its
    estimate here has a relative standard error below 3%, and 1/N or 1/N^0.25 rates would
    change it by a factor of 10 over the range.
    """
    m = mdp.envs.garnet(40, 3, 6, seed=4)
    P = m.P
    scaled = []
    for n in (100, 1000, 10_000):
        errs = []
        for seed in range(8):
            gen = np.random.default_rng(seed)
            s = np.repeat(np.arange(40), 3 * n)
            a = np.tile(np.repeat(np.arange(3), n), 40)
            # n draws per (s, a) by inversion of uniforms
            cdf = np.cumsum(P.reshape(120, 40), axis=1)
            u = gen.random((120, n))
            nxt = (u[:, :, None] > cdf[:, None, :]).sum(axis=2).reshape(-1)
            nxt = np.minimum(nxt, 39)
            hat = estimators.plug_in(40, 3, s, a, nxt).P
            errs.append(np.abs(hat - P).sum(axis=2).mean())
        scaled.append(np.sqrt(n) * np.mean(errs))
    scaled = np.array(scaled)
    assert np.all(np.abs(scaled / scaled[-1] - 1.0) < 0.12), scaled


def test_backups_are_those_of_the_plug_in_model_and_the_posterior_mean():
    """plug_in_backup(v) = R_hat + P_hat v of count(...).model(); posterior_mean_backup(v) =
    R_bar + P_bar v with P_bar = (N + 1/S) / (N + 1), R_bar = r_lo + r_scale (1 + sum r) /
    (2 + N)."""
    gen = np.random.default_rng(3)
    S, A, n = 6, 2, 25
    s, a, s2 = gen.integers(0, S, n), gen.integers(0, A, n), gen.integers(0, S, n)
    r = gen.random(n)
    c = estimators.count(S, A, s, a, s2, r)
    v = gen.normal(size=S)
    m = c.model()
    np.testing.assert_allclose(c.plug_in_backup(v), m.R + m.P @ v, rtol=1e-13)
    N = c.dense()
    P_bar = (N + 1.0 / S) / (c.visits + 1.0)[:, :, None]
    R_bar = -1.0 + 3.0 * (1.0 + c.reward_sums) / (2.0 + c.visits)
    np.testing.assert_allclose(c.posterior_mean_backup(v, r_lo=-1.0, r_scale=3.0),
                               R_bar + P_bar @ v, rtol=1e-13)
    with pytest.raises(ValueError, match="v must have shape"):
        c.plug_in_backup(np.zeros(S + 1))


def test_backups_are_the_agents_own_to_the_bit():
    """The loop's plug-in planning (ce-greedy) and count()'s backup give the same numbers."""
    from mdp import _estimation_kernels as est
    from mdp import _planning_kernels as plan

    m = mdp.envs.garnet(7, 2, 3, seed=1)
    gen = np.random.default_rng(5)
    counts = est.new_counts(m.indptr, m.indices)
    obs = []
    for row in gen.integers(0, 14, 30):
        j = int(gen.integers(m.indptr[row], m.indptr[row + 1]))
        reward = float(gen.random())
        est.observe(counts, row, j, reward)
        obs.append((row // 2, row % 2, m.indices[j], reward))
    s, a, s2, r = (np.array(x) for x in zip(*obs))
    v = gen.normal(size=7)
    q = np.empty((7, 2))
    plan.backup_all(plan.PlugIn(counts, 0.0), v, q)
    assert np.array_equal(estimators.count(7, 2, s, a, s2, r).plug_in_backup(v), q)

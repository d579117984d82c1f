"""The two readouts of simple regret: greedy (what the agent has learned) and behaviour (what
it would act with next). Their exact definitions are checked step by step in test_loop.py;
here, what follows from them."""

import numpy as np
import pytest

import bandits
from bandits.agents import REGISTRY

ENVS = {
    "bernoulli": bandits.Bernoulli([0.2, 0.5, 0.5, 0.45], name="b4"),
    "gaussian": bandits.Gaussian([0.1, 0.4, 0.4, -0.2], sigma=0.7, name="g4"),
}
AGENTS = sorted(REGISTRY) + ["greedy:round_robin=false,q0=0.3", "etc:m=3"]


@pytest.mark.nojit
@pytest.mark.parametrize("family", sorted(ENVS))
@pytest.mark.parametrize("agent", AGENTS)
def test_recording_the_readouts_changes_nothing_the_agent_does(agent, family):
    """A readout at every round against one at the horizon only: the same regret and pulls at
    the end, and the same readouts there (Thompson's behaviour is drawn from a stream of its
    own, keyed by the round, never from the agent's)."""
    env, horizon = ENVS[family], 120
    dense = bandits.run(env, agent, horizon, 5, seed=4, checkpoints=range(1, horizon + 1))
    last = bandits.run(env, agent, horizon, 5, seed=4, checkpoints=[horizon])
    assert np.array_equal(dense.regret[..., -1:], last.regret)
    assert np.array_equal(dense.extra["pulls"], last.extra["pulls"])
    for name in ("greedy", "behaviour"):
        assert np.array_equal(dense.readout(name)[..., -1:], last.readout(name)), name


@pytest.mark.parametrize("agent", AGENTS)
def test_the_behaviour_readout_is_the_mean_gap_of_the_next_pull(agent):
    """E[behaviour readout at t] = E[Delta of the arm pulled at t + 1], which the regret
    curve records as regret(t + 1) - regret(t). Per run the difference of the two has mean 0;
    its mean over 3000 runs must lie within 5 standard errors of 0 (fixed seed: the tolerance
    is the sampling error, exceeded by chance with probability below 1e-6 per checkpoint)."""
    env = ENVS["bernoulli"]
    rounds = [1, 3, 4, 12, 13, 40]
    cps = sorted({t for r in rounds for t in (r, r + 1)})
    res = bandits.run(env, agent, 41, 3000, seed=8, checkpoints=cps)
    at = [cps.index(t) for t in rounds]
    step = res.regret[0][:, [i + 1 for i in at]] - res.regret[0][:, at]
    diff = res.simple_regret_behaviour[0][:, at] - step
    se = diff.std(axis=0, ddof=1) / np.sqrt(diff.shape[0])
    assert np.all(np.abs(diff.mean(axis=0)) <= 5 * se + 1e-12), (diff.mean(axis=0), se)


def test_pg_exact_prefers_the_best_arm_before_its_softmax_does():
    """After one exact-gradient step from H = 0, H_k = alpha / K (mu_k - mean mu): the best
    arm has the largest preference (greedy readout 0) while the softmax still spreads its mass
    (behaviour readout sum_k pi_k Delta_k > 0, pi of the best arm below 1/2)."""
    env = bandits.Bernoulli(np.linspace(0.9, 0.0, 10), name="line10")
    alpha = 0.4
    res = bandits.run(env, f"pg-exact:alpha={alpha}", 1, 3, checkpoints=[1])
    mu = env.means
    h = alpha * (mu - mu.mean()) / mu.size
    pi = np.exp(h - h.max()) / np.exp(h - h.max()).sum()
    assert pi[0] < 0.5
    assert np.all(res.simple_regret_greedy == 0.0)
    np.testing.assert_allclose(res.simple_regret_behaviour, pi @ (mu.max() - mu), rtol=1e-12)
    assert np.all(res.simple_regret_behaviour > 0.0)


def test_reinforce_can_prefer_the_best_arm_while_its_softmax_does_not():
    """Three arms that never pay and one that always does: every gap is 1, so the behaviour
    readout is 1 - pi_best, above 1/2 exactly when the softmax puts less than half of its mass
    on the best arm. Until REINFORCE first pulls the best arm every reward and baseline is 0,
    so H stays 0: both readouts are 3/4. From that pull on H_best is the largest preference
    (every later step raises it more than any other), so the greedy readout is 0, and pi_best
    only grows. Early in some runs the greedy readout is therefore 0 while the behaviour
    readout is still above 1/2."""
    env = bandits.Bernoulli([0.0, 0.0, 0.0, 1.0], name="one-pays")
    res = bandits.run(env, "reinforce", 30, 20, seed=2, checkpoints=range(1, 31))
    greedy, behaviour = res.simple_regret_greedy[0], res.simple_regret_behaviour[0]
    before = behaviour == 0.75
    assert np.all(greedy[before] == 0.75)
    assert np.all(greedy[~before] == 0.0) and np.all(behaviour[~before] < 0.75)
    assert np.all(np.diff(behaviour, axis=1) <= 0.0)
    assert np.any((greedy == 0.0) & (behaviour > 0.5))

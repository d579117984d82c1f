"""The policy-gradient agents against what their definitions imply: GRPO's special cases and
its KL to the reference policy, NPG as Exp3, the groups' fixed policy, REINFORCE's aliases and
refused parameters. The step-by-step checks of every definition are in test_loop.py."""

import math

import numpy as np
import pytest

import bandits
from bandits._agents.hooks import HOOKS, init, shared
from bandits.agents import GRPO, NPG, PPO, REGISTRY, RLOO, Reinforce
from experiments import files
from tracking import rng
from tracking.rng import run_seeds
from tracking.specs import build
from tracking.stats import mean_ci

ENV = bandits.Bernoulli([0.2, 0.5, 0.45, 0.3], name="b4")


def _piece(name, params):
    """The kernel piece of hook ``name`` registered for ``params``, as plain Python (its
    ``py_func``; the jitted helpers it calls stay compiled)."""
    impl = HOOKS[name].hook.implementation(type(params))
    return getattr(impl, "py_func", impl)


def _preferences(agent, env, horizon, seed):
    """H after every round of one run, from the agent's own select and update pieces called
    round by round with the kernel's random streams (bandits/_kernels.py)."""
    params = agent.params(env)
    select, update = _piece("select", params), _piece("update", params)
    mu = env.means
    keys = [np.uint64(rng.stream_key(np.uint64(seed), rng.SALT_REWARD, k, 0))
            for k in range(mu.size)]
    st = rng.new_state(np.uint64(seed), rng.SALT_AGENT)
    counts = np.zeros(mu.size, np.int64)
    state = init(params, shared(params, horizon), mu)
    out = np.empty((horizon, mu.size))
    for t in range(1, horizon + 1):
        a = select(params, state, counts, t, st)
        x = 1.0 if rng.counter_uniform(keys[a], counts[a]) <= mu[a] else 0.0
        counts[a] += 1
        update(params, state, counts, a, x, t)
        out[t - 1] = state.h
    return out


def _softmax(h):
    e = np.exp(h - h.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _kl_to_uniform(h):
    """KL(softmax(H) || uniform) = sum_k pi_k ln(K pi_k), per row of H."""
    pi = _softmax(h)
    k = h.shape[-1]
    return np.sum(pi * np.log(k * np.where(pi > 0, pi, 1.0)), axis=-1)


@pytest.mark.nojit
@pytest.mark.parametrize("clip", [math.inf, 0.2])
def test_grpo_with_one_epoch_and_no_kl_is_a_group_normalised_reinforce_step(clip):
    """A hand-computed group: K = 3 arms, pi uniform, G = 4 pulls of arms 0, 1, 0, 2 paying
    1, 0, 1, 0. mean 1/2, std 1/2, so A_i = +-a with a = 0.5 / (0.5 + 1e-8); sum_i A_i = 0,
    and the REINFORCE step with these advantages, (alpha / G) sum_i A_i (onehot(a_i) - pi), is
    (alpha / 4)(2a, -a, -a), exactly (a power of two scales without rounding). With one epoch
    rho = 1, so clipping never binds: clip = inf and 0.2 give this step. A second epoch moves
    further."""
    alpha = 0.3
    a = 0.5 / (0.5 + 1e-8)
    step = (alpha / 4) * np.array([2 * a, -a, -a])
    pulls = [(0, 1.0), (1, 0.0), (0, 1.0), (2, 0.0)]
    for epochs in (1, 2):
        params = GRPO(group=4, clip=clip, epochs=epochs, kl=0.0, alpha=alpha).params(ENV)
        state = init(params, shared(params, 4), np.array([0.2, 0.5, 0.3]))
        state.pi[:] = 1.0 / 3.0  # softmax(0), which select writes
        counts = np.zeros(3, np.int64)
        update = _piece("update", params)
        for t, (arm, x) in enumerate(pulls, start=1):
            counts[arm] += 1
            update(params, state, counts, arm, x, t)
            assert np.all(state.h == 0.0) or t == 4  # nothing moves before the last pull
        assert np.array_equal(state.h, step) == (epochs == 1), (epochs, state.h, step)


def test_grpo_kl_to_the_reference_stays_bounded_and_shrinks_with_kl():
    """KL(pi || pi_ref) to the uniform reference after every group, over 3000 pulls of 8
    runs. Without the penalty the policy concentrates (KL near its maximum ln K); with kl =
    0.2 and 1 it stays far below. The comparisons use the 95% confidence intervals over the
    runs (fixed seeds): at these seeds the intervals are separated by several half-widths, so
    a penalty of the wrong sign or scale fails. The driver is checked against the kernel: its
    final H gives the kernel's final behaviour readout."""
    horizon, runs, group = 3000, 8, 8
    seeds = run_seeds(4, runs)
    final, peak = {}, {}
    for kl in (0.0, 0.2, 1.0):
        agent = GRPO(group=group, kl=kl)
        res = bandits.run(ENV, agent, horizon, runs, seed=4, checkpoints=[horizon])
        curves = []
        for r in range(runs):
            h = _preferences(agent, ENV, horizon, seeds[r])
            gap = _softmax(h[-1]) @ (ENV.means.max() - ENV.means)
            assert math.isclose(gap, res.simple_regret_behaviour[0, r, -1], rel_tol=1e-12)
            curves.append(_kl_to_uniform(h[group - 1::group]))
        final[kl] = mean_ci(np.array([c[-1] for c in curves]))
        peak[kl] = mean_ci(np.array([c.max() for c in curves]))
    ln_k = math.log(ENV.n_arms)
    assert final[0.0][0] - final[0.0][1] > 0.5 * ln_k  # unpenalised: concentrated
    assert peak[1.0][0] + peak[1.0][1] < 0.2 * ln_k  # bounded throughout training
    for weak, strong in ((0.0, 0.2), (0.2, 1.0)):
        assert final[strong][0] + final[strong][1] < final[weak][0] - final[weak][1]
        assert peak[strong][0] + peak[strong][1] < peak[weak][0] - peak[weak][1]


def _exp3(eta, env, horizon, seed):
    """Exp3 (Auer et al. 2002) without uniform mixing, on the kernel's random streams:
    P_t(k) proportional to exp(eta S_k), S_k the sum of the importance-weighted rewards
    X_s 1{A_s = k} / P_s(k); A_t by inversion of one uniform. Returns the arms pulled and the
    gap sum_k P_{t+1}(k) Delta_k of the next policy after every round."""
    mu = env.means
    gaps = mu.max() - mu
    keys = [np.uint64(rng.stream_key(np.uint64(seed), rng.SALT_REWARD, k, 0))
            for k in range(mu.size)]
    st = rng.new_state(np.uint64(seed), rng.SALT_AGENT)
    pulls = np.zeros(mu.size, np.int64)
    s = np.zeros(mu.size)
    arms, nxt = [], []

    def policy():
        w = np.exp(eta * (s - s.max()))
        return w / w.sum()

    for _ in range(horizon):
        p = policy()
        a = min(int(np.searchsorted(np.cumsum(p), rng.uniform(st))), mu.size - 1)
        x = mu[a] + env.sigma * rng.counter_normal(keys[a], pulls[a])
        pulls[a] += 1
        s[a] += x / p[a]
        arms.append(a)
        nxt.append(policy() @ gaps)
    return np.array(arms), np.array(nxt)


@pytest.mark.parametrize("eta", [0.05, 0.2])
def test_npg_on_a_bandit_is_exp3_without_mixing(eta):
    """npg:alpha=eta against an Exp3 written from its own definition (exp of eta times the
    summed estimates, not npg's preferences): the same arms in every round, hence the same
    regret curve, and the same next policy up to rounding (the two sum the same terms in
    another order and scale)."""
    env = bandits.Gaussian([0.1, 0.4, 0.35, -0.2], sigma=0.5, name="g4")
    horizon, runs = 1500, 4
    res = bandits.run(env, NPG(alpha=eta), horizon, runs, seed=3,
                      checkpoints=range(1, horizon + 1))
    gaps = env.means.max() - env.means
    for r, seed in enumerate(run_seeds(3, runs)):
        arms, nxt = _exp3(eta, env, horizon, seed)
        assert np.array_equal(res.regret[0, r], np.cumsum(gaps[arms])), r
        np.testing.assert_allclose(res.simple_regret_behaviour[0, r], nxt, rtol=1e-9,
                                   atol=1e-12)


@pytest.mark.nojit
@pytest.mark.parametrize("agent", [RLOO(group=3), GRPO(group=5, epochs=2), PPO(group=4)])
def test_a_group_is_pulled_from_one_policy_updated_at_its_last_pull(agent):
    """The behaviour readout (the policy of the next pull) after every round changes only
    after a group's last pull (rounds G, 2G, ...), and does change there in some runs."""
    g, horizon = agent.group, 60
    res = bandits.run(ENV, agent, horizon, 6, seed=5, checkpoints=range(1, horizon + 1))
    moved = np.diff(res.simple_regret_behaviour[0], axis=1) != 0.0  # after rounds 2..T
    last = (np.arange(2, horizon + 1) % g) == 0
    assert not np.any(moved[:, ~last])
    assert np.any(moved[:, last])


@pytest.mark.nojit
def test_baseline_true_and_false_are_aliases_of_mean_and_none(tmp_path):
    """Saved configurations with baseline = true / false still run, to the numbers of mean /
    none; the agent (and so its spec in results) stores the canonical word."""
    for alias, word in ((True, "mean"), (False, "none")):
        agent = Reinforce(baseline=alias)
        assert agent == Reinforce(baseline=word) and agent.baseline == word
        assert build(REGISTRY, f"reinforce:baseline={str(alias).lower()}") == agent
        assert f"baseline={word}" in agent.spec
    text = ('[[problem]]\nsetting = "bandit"\nmeans = [0.2, 0.6]\nhorizon = 50\nruns = 3\n'
            'agents = [{ name = "reinforce", baseline = false }, "reinforce:alpha=0.4,'
            'baseline=true"]\n')
    job, = files.build_jobs(files.parse(text, "old.toml", tmp_path))
    assert [s.split(":")[1].split(",")[1] for s in job.config["agents"]] == ["baseline=none",
                                                                              "baseline=mean"]
    old = bandits.run(ENV, "reinforce:baseline=false,reinforce:alpha=0.4,baseline=true", 200, 3)
    new = bandits.run(ENV, "reinforce:baseline=none,reinforce:alpha=0.4,baseline=mean", 200, 3)
    assert old.agents == new.agents
    assert np.array_equal(old.regret, new.regret)
    assert not np.array_equal(old.regret[0], old.regret[1])


@pytest.mark.nojit
@pytest.mark.parametrize("cls", [GRPO, RLOO, PPO])
def test_a_group_of_one_is_refused(cls):
    with pytest.raises(ValueError, match="group must be an integer >= 2 .*its advantage "
                                         "would be 0"):
        cls(group=1)
    with pytest.raises(ValueError, match="group must be an integer >= 2"):
        build(REGISTRY, f"{cls.name}:group=1")

"""celab's bandits as Gymnasium environments (bandits/gym.py)."""

import textwrap
import warnings

import numpy as np
import pytest

from bandits import envs
from tests.gym_helpers import page, run_python, table_row


@pytest.fixture(scope="module")
def gym():
    """Gymnasium, an optional dependency (the tests that need it skip without it)."""
    return pytest.importorskip("gymnasium")


@pytest.fixture(scope="module")
def bgym(gym):
    import bandits.gym

    return bandits.gym


def _pulls(env, arms, seed=None):
    """The rewards and infos of pulling ``arms`` in one episode."""
    env.reset(seed=seed)
    return [env.step(int(k))[1:] for k in arms]


@pytest.mark.parametrize("name", [None, *envs.NAMED])
def test_every_registered_bandit_passes_gymnasiums_checker(gym, bgym, name):
    from gymnasium.utils.env_checker import check_env

    env_id = {n: i for i, n in bgym.IDS.items()}[name]  # KeyError: a bandit without an id
    env = gym.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the checker's warnings fail the test
        check_env(env.unwrapped)
    u = env.unwrapped
    assert u.observation_space.n == 1 and u.action_space.n == u.bandit.n_arms
    assert u.horizon == bgym.DEFAULT_HORIZON and env.spec.max_episode_steps is None
    assert u.bandit.name == (bgym.DEFAULT_ENV if name is None else envs.make(name).name)
    assert u.best == u.means.max()


def test_the_page_lists_every_id_with_its_arguments(bgym):
    text = page()
    for env_id, name in bgym.IDS.items():
        if name is not None:
            row = table_row(env_id, name, envs.NAMED[name][0], {}, skip=("seed",))
            assert row in text, row


@pytest.mark.nojit
def test_bandit_v0_takes_a_problem_as_an_experiment_file_does(gym, bgym):
    env = gym.make("celab/Bandit-v0", env="two-level", n_arms="4", gap=0.2, horizon=9).unwrapped
    assert env.means.tolist() == pytest.approx([0.5, 0.3, 0.3, 0.3]) and env.horizon == 9
    env = gym.make("celab/Bandit-v0", means=[0.1, 2.0], family="gaussian", sigma=0.5).unwrapped
    assert env.bandit.family == "gaussian" and env.bandit.sigma == 0.5 and env.best == 2.0
    seeded = [gym.make("celab/Testbed10-v0", seed=s).unwrapped.means for s in (0, 0, 1)]
    assert np.array_equal(seeded[0], seeded[1]) and not np.array_equal(seeded[0], seeded[2])
    for kwargs, message in [({"env": "close10", "means": [0.1, 0.2]}, "not both"),
                            ({"means": [0.1, 0.2], "sigma": 2.0}, "gaussian arms only"),
                            ({"env": "close10", "sigma": 2.0}, "apply to means"),
                            ({"means": [0.1, 0.2], "n_arms": 3}, "apply to a named env"),
                            ({"means": [0.5]}, "at least 2 arms"),
                            ({"render_mode": "human"}, "do not render")]:
        with pytest.raises(ValueError, match=message):
            gym.make("celab/Bandit-v0", **kwargs)


def test_make_with_the_module_prefix_registers_on_the_way_and_twice_is_silent(gym):
    code = textwrap.dedent("""
        import importlib, warnings
        import gymnasium
        assert not [i for i in gymnasium.registry if i.startswith("celab/")]
        warnings.simplefilter("error")  # Gymnasium warns when an id is registered again
        print(gymnasium.make("bandits.gym:celab/Close10-v0").unwrapped.best)
        import bandits.gym
        importlib.reload(bandits.gym)
        assert "mdp" not in __import__("sys").modules  # the labs stay apart
    """)
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0.5"]


@pytest.mark.nojit
@pytest.mark.parametrize("bandit", [envs.Bernoulli([0.2, 0.7, 0.5]),
                                    envs.Gaussian([0.0, 1.0], sigma=2.0),
                                    envs.RandomTestbed(4)], ids=["bernoulli", "gaussian", "random"])
def test_the_same_seed_gives_the_same_pulls(bgym, bandit):
    arms = np.random.default_rng(3).integers(0, bandit.n_arms, size=40)
    first, again, other = (_pulls(bgym.to_gymnasium(bandit, 40), arms, seed=s)
                           for s in (5, 5, 6))
    assert first == again and first != other


@pytest.mark.nojit
def test_rewards_are_draws_of_the_arm_and_gaps_sum_to_the_pseudo_regret(bgym):
    n = 20_000
    bern = bgym.to_gymnasium(envs.Bernoulli([0.2, 0.7]), n)
    out = _pulls(bern, [0] * n, seed=0)
    rewards = np.array([o[0] for o in out])
    assert set(rewards) == {0.0, 1.0}
    # binomial mean: 5 standard errors sqrt(p (1 - p) / n), fixed seed
    assert abs(rewards.mean() - 0.2) <= 5 * np.sqrt(0.2 * 0.8 / n)
    assert sum(o[3]["gap"] for o in out) == pytest.approx(0.5 * n)
    gauss = bgym.to_gymnasium(envs.Gaussian([0.0, 1.0], sigma=2.0), n)
    rewards = np.array([o[0] for o in _pulls(gauss, [1] * n, seed=0)])
    # normal sample mean and variance: 5 standard errors (sigma / sqrt(n), sigma^2 sqrt(2 / n))
    assert abs(rewards.mean() - 1.0) <= 5 * 2.0 / np.sqrt(n)
    assert abs(rewards.var() - 4.0) <= 5 * 4.0 * np.sqrt(2.0 / n)


@pytest.mark.nojit
def test_a_random_testbed_draws_new_means_at_every_reset(bgym):
    env = bgym.to_gymnasium(envs.RandomTestbed(5, loc=3.0), 2)
    assert env.means is None and env.best is None
    draws = []
    env.reset(seed=0)
    for _ in range(2000):
        env.reset()
        draws.append(env.means)
    draws = np.array(draws)
    assert len({tuple(d) for d in draws}) == 2000
    # normal N(3, 1) means: 5 standard errors 1 / sqrt(n) of the grand mean, fixed seed
    assert abs(draws.mean() - 3.0) <= 5 / np.sqrt(draws.size)


@pytest.mark.nojit
def test_episodes_truncate_at_the_horizon_and_bad_steps_raise(bgym):
    env = bgym.to_gymnasium(envs.Bernoulli([0.2, 0.7]), 3)
    with pytest.raises(ValueError, match="call reset"):
        env.step(0)
    out = _pulls(env, [1, 0, 1], seed=0)
    assert [(o[1], o[2]) for o in out] == [(False, False), (False, False), (False, True)]
    assert [o[3]["step"] for o in out] == [1, 2, 3]
    with pytest.raises(ValueError, match="call reset"):
        env.step(0)
    env.reset()
    with pytest.raises(ValueError, match="not in Discrete"):
        env.step(2)
    with pytest.raises(ValueError, match="horizon must be >= 1"):
        bgym.to_gymnasium(envs.Bernoulli([0.2, 0.7]), 0)
    with pytest.raises(ValueError, match="bandit must be"):
        bgym.to_gymnasium([0.2, 0.7], 3)

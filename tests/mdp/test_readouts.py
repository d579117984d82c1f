"""The two readouts of simple regret in the MDP lab (docs/algorithms.md, "Readouts"): recording
them never changes what an agent does, REINFORCE's greedy and softmax readouts differ, and the
continuing readouts equal their definitions on a one-state model."""

import math

import numpy as np
import pytest

import mdp
from mdp import _hooks as hooks
from mdp import (  # noqa: F401  (register the pieces)
    _pieces_model_based,
    _pieces_model_free,
    _pieces_policy_gradient,
)
from mdp._env_kernels import new_trajectory
from mdp._planning_kernels import evaluate_policy
from mdp.agents import CONTINUING_REGISTRY, REGISTRY
from mdp.loop import kernel_model

from .reference import _softmax

STOP = np.zeros(1, dtype=np.uint8)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_recording_the_readouts_never_changes_an_episodic_run(name):
    """Regret (and the readouts at the last episode) with checkpoints at every episode equal
    those with one checkpoint at the end: PSRL's readout sample has a stream of its own, UCRL2's
    readout sorts a copy of its order of states, every readout plans in arrays the next
    episode writes afresh."""
    m, episodes = mdp.envs.garnet(6, 3, 3, seed=4), 40
    every = mdp.run(m, name, 5, episodes, 3, seed=9, checkpoints=range(1, episodes + 1),
                    rewards="bernoulli")
    end = mdp.run(m, name, 5, episodes, 3, seed=9, checkpoints=[episodes], rewards="bernoulli")
    assert np.array_equal(every.regret[..., -1], end.regret[..., 0])
    for readout in ("greedy", "behaviour"):
        assert np.array_equal(every.readout(readout)[..., -1], end.readout(readout)[..., 0])


@pytest.mark.parametrize("name", sorted(CONTINUING_REGISTRY))
def test_recording_the_readouts_never_changes_a_continuing_run(name):
    m, steps = mdp.envs.garnet(6, 3, 3, seed=4), 600
    every = mdp.run_continuing(m, name, steps, 2, seed=3, checkpoints=range(1, steps + 1))
    end = mdp.run_continuing(m, name, steps, 2, seed=3, checkpoints=[steps])
    assert np.array_equal(every.regret[..., -1], end.regret[..., 0])
    for readout in ("greedy", "behaviour"):
        assert np.array_equal(every.readout(readout)[..., -1], end.readout(readout)[..., 0])


def test_psrl_behaviour_readout_is_a_posterior_sample():
    """Read from one sample, PSRL's behaviour readout is not its posterior mean's (greedy):
    after few episodes the two differ in some run (fixed seed; on this garnet they differ in
    most checkpoints)."""
    res = mdp.run(mdp.envs.garnet(6, 3, 3, seed=4), "psrl", 5, 20, 4, seed=1)
    assert not np.array_equal(res.readout("greedy"), res.readout("behaviour"))


def test_reinforce_whose_argmax_is_optimal_but_whose_softmax_is_not():
    """One state, three actions of rewards 1, 0, 0, H = 1: theta = (0.1, 0, 0) favours the
    optimal action, its softmax puts e^0.1 / (e^0.1 + 2) < 1/2 on it. Greedy readout 0,
    behaviour readout 1 - that probability."""
    m = mdp.FiniteMDP(np.ones((1, 3, 1)), np.array([[1.0, 0.0, 0.0]]), name="one-state")
    agent = REGISTRY["reinforce"]()
    params, model = agent.params(), kernel_model(m)
    state = hooks.init_episodic(params, model, 1, 1)
    state.theta[0, 0] = [0.1, 0.0, 0.0]
    values = np.zeros((2, 1))

    def regret(policy):
        assert evaluate_policy(policy, model, values, STOP)
        return 1.0 - values[0, 0]  # V* = 1

    assert regret(hooks.greedy_policy(params, state, STOP)) == 0.0
    readout = np.zeros(1, dtype=np.uint64)
    pi0 = _softmax([0.1, 0.0, 0.0])[0]
    assert pi0 < 0.5
    assert regret(hooks.behaviour_policy(params, state, 1, readout, STOP)) == \
        pytest.approx(1.0 - pi0, rel=1e-12)
    # the loop's theta is untouched by the readouts
    assert state.theta[0, 0].tolist() == [0.1, 0.0, 0.0]


# --- the continuing readouts on one state: relative value iteration's q is R~ + a constant --

ONE_STATE = mdp.FiniteMDP(np.ones((1, 3, 1)), np.array([[0.5, 0.6, 0.55]]), name="arms")
#: (action, reward) steps the agent learns from: action 0 once, action 1 twice, action 2 never
STEPS = [(1, 0.6), (0, 0.5), (1, 0.6)]
T, EPSILON = 3, 1e-9


def _learned(name, **kwargs):
    agent = CONTINUING_REGISTRY[name](**kwargs)
    params, model = agent.params(), kernel_model(ONE_STATE)
    state = hooks.init_continuing(params, model, 1000, 10_000)
    trajectory = new_trajectory(len(STEPS))
    for i, (a, r) in enumerate(STEPS):
        states, actions, slots, observed, next_states = trajectory
        states[i], actions[i], slots[i], observed[i], next_states[i] = 0, a, a, r, 0
    hooks.learn(params, state, trajectory, len(STEPS))
    return agent, params, state


def _one_hot(a):
    return [1.0 if b == a else 0.0 for b in range(3)]


def _argmax(values):
    return int(np.argmax(values))


N = np.array([1.0, 2.0, 0.0])
R_HAT = np.array([0.5, 0.6, 0.0])  # an unvisited pair: reward 0 (a self-loop)


def test_continuing_ce_readouts_are_the_plug_in_and_the_optimistic_argmax():
    for name, kwargs in (("ce-greedy", {}), ("ce-optimistic", {"c": 0.5})):
        agent, params, state = _learned(name, **kwargs)
        greedy = hooks.greedy_stationary(params, state, EPSILON, STOP)
        assert greedy[0].tolist() == _one_hot(1)  # argmax of R_hat
        bonus = 0.0  # b = c sqrt(ln(S A T / delta)), T = 1000
        if kwargs:
            bonus = agent.c * math.sqrt(math.log(3 * 1000 / agent.delta))
        want = _argmax(R_HAT + bonus / np.sqrt(np.maximum(1.0, N)))
        behaviour = hooks.behaviour_stationary(params, state, float(T), 1.0 / math.sqrt(T),
                                               np.zeros(1, np.uint64), STOP)
        assert behaviour[0].tolist() == _one_hot(want), name
    assert want == 0  # ce-optimistic's bonus favours the action visited once over the best



def test_continuing_ucrl2_readouts_are_the_plug_in_and_the_optimistic_reward_argmax():
    agent, params, state = _learned("ucrl2")
    assert hooks.greedy_stationary(params, state, EPSILON, STOP)[0].tolist() == _one_hot(1)
    c_r = 3.5 * math.log(2.0 * 1 * 3 * T / agent.delta)
    optimistic = np.minimum(R_HAT + np.sqrt(c_r / np.maximum(1.0, N)), 1.0)  # r_scale = r_hi = 1
    behaviour = hooks.behaviour_stationary(params, state, float(T), 1.0 / math.sqrt(T),
                                           np.zeros(1, np.uint64), STOP)
    ties = optimistic == optimistic.max()
    assert behaviour[0].tolist() == (ties / ties.sum()).tolist()
    order = state.order.copy()
    hooks.behaviour_stationary(params, state, float(T), 1e-3, np.zeros(1, np.uint64), STOP)
    assert np.array_equal(state.order, order)  # the agent's order of states is left alone


def test_continuing_psrl_readouts_are_the_posterior_mean_and_one_sample():
    _, params, state = _learned("psrl")
    # posterior means (1 + Rsum) / (2 + N): 0.5, 0.55, 0.5
    assert hooks.greedy_stationary(params, state, EPSILON, STOP)[0].tolist() == _one_hot(1)
    draws = []
    for key in range(40):
        readout = np.array([key], dtype=np.uint64)
        pi = hooks.behaviour_stationary(params, state, float(T), EPSILON, readout, STOP)[0]
        again = hooks.behaviour_stationary(params, state, float(T), EPSILON,
                                           np.array([key], dtype=np.uint64), STOP)[0]
        assert pi.tolist() == again.tolist()  # one stream, one sample: the same policy
        assert sorted(pi.tolist()) == [0.0, 0.0, 1.0]  # a sample has no ties
        draws.append(int(np.argmax(pi)))
    # every action wins some sample: under Beta(1.5, 1.5), Beta(2.2, 1.8), Beta(1, 1) each is
    # the best with probability about 0.30, 0.36, 0.34 (Monte Carlo), so 40 draws miss one with
    # probability below 3 (0.71)^40 < 1e-5 (and the streams are fixed)
    assert set(draws) == {0, 1, 2}


def test_ce_greedy_and_q_learning_readouts_coincide():
    """Their behaviour readout is their greedy readout bit for bit; ce-optimistic's is not."""
    m = mdp.envs.riverswim(5)
    res = mdp.run(m, "ce-greedy,q-learning,ce-optimistic", 6, 60, 3, seed=2)
    for i in range(2):
        assert np.array_equal(res.readout("greedy")[i], res.readout("behaviour")[i])
    assert not np.array_equal(res.readout("greedy")[2], res.readout("behaviour")[2])
    cont = mdp.run_continuing(m, "ce-greedy,ce-optimistic", 3000, 2, seed=2)
    assert np.array_equal(cont.readout("greedy")[0], cont.readout("behaviour")[0])
    assert not np.array_equal(cont.readout("greedy")[1], cont.readout("behaviour")[1])

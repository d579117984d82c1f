"""The footprints the MDP agents' pieces declare (mdp/_hooks.py) against what their init makes.

The memory guard adds an agent's footprint to its loop's own arrays; a footprint that forgets
an array of the state (or counts one twice) is caught here for every registered agent.
"""

import numpy as np
import pytest

import mdp
from mdp import (
    _continuing_loop,  # noqa: F401 - registers the pieces of both loops
    _episodic_loop,  # noqa: F401
)
from mdp._hooks import FOOTPRINTS, footprint, init_continuing, init_episodic
from mdp.agents import CONTINUING_REGISTRY, REGISTRY
from mdp.loop import kernel_model
from tracking.specs import build


def _arrays(value):
    """Every array in a (nested) state record."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _arrays(item)


def _own_bytes(state, model):
    """Bytes of the state's arrays, those sharing memory with the model (its support) left out."""
    shared = list(_arrays(tuple(model)))
    return sum(a.nbytes for a in _arrays(tuple(state))
               if not any(np.shares_memory(a, b) for b in shared))


MODELS = [mdp.envs.garnet(6, 3, 2, seed=1), mdp.envs.riverswim(4)]


@pytest.mark.parametrize("name", sorted(REGISTRY))
@pytest.mark.parametrize("m", MODELS, ids=["garnet", "riverswim"])
@pytest.mark.parametrize("horizon", [1, 7])
def test_episodic_footprint_is_what_init_allocates(name, m, horizon):
    params = REGISTRY[name]().params()
    model = kernel_model(m)
    state = init_episodic(params, model, horizon, 10)
    words = footprint("episodic", params, m.n_states, m.n_actions, m.nnz, horizon)
    assert 8 * words == _own_bytes(state, model)


#: Parameters that change what the policy-gradient agents allocate: one row of theta
#: (stationary), the bonus's counts, reinforce's returns statistics and critic, groups.
SIZED = ["reinforce:stationary=true,bonus=0.5", "reinforce:normalise=true,baseline=value",
         "rloo:group=3,bonus=1.0,stationary=true", "grpo:group=5,stationary=true",
         "ppo:group=2,bonus=0.5", "ppo:group=1,stationary=true",
         "actor-critic:bonus=0.5,stationary=true", "npg:bonus=0.5,stationary=true"]


@pytest.mark.parametrize("spec", SIZED)
@pytest.mark.parametrize("horizon", [1, 7])
def test_policy_gradient_footprints_follow_their_parameters(spec, horizon):
    m = MODELS[0]
    params = build(REGISTRY, spec).params()
    model = kernel_model(m)
    state = init_episodic(params, model, horizon, 10)
    words = footprint("episodic", params, m.n_states, m.n_actions, m.nnz, horizon)
    assert 8 * words == _own_bytes(state, model)


@pytest.mark.parametrize("name", sorted(CONTINUING_REGISTRY))
@pytest.mark.parametrize("m", MODELS, ids=["garnet", "riverswim"])
def test_continuing_footprint_is_what_init_allocates(name, m):
    params = CONTINUING_REGISTRY[name]().params()
    model = kernel_model(m)
    state = init_continuing(params, model, 100, 20)
    words = footprint("continuing", params, m.n_states, m.n_actions, m.nnz)
    assert 8 * words == _own_bytes(state, model)


def test_every_agent_declares_a_footprint_for_each_loop_it_runs_in():
    # <=: user agents registered by other tests of the process (tests/user_agents) add theirs
    assert {type(a().params()) for a in REGISTRY.values()} <= set(FOOTPRINTS["episodic"])
    assert {type(a().params()) for a in CONTINUING_REGISTRY.values()} \
        <= set(FOOTPRINTS["continuing"])
    with pytest.raises(TypeError, match="no continuing footprint"):
        footprint("continuing", REGISTRY["reinforce"]().params(), 2, 2, 4)

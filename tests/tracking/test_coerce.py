"""One rule for parameters written as strings (command line) or TOML values, everywhere."""

import numpy as np
import pytest

import bandits
import mdp
from tracking.specs import build
from tracking.validate import InputError, coerce


@pytest.mark.parametrize("value, kind, expected", [
    ("3", int, 3), (" 3 ", int, 3), ("2.0", int, 2), (4.0, int, 4), (7, int, 7),
    ("0.5", float, 0.5), (2, float, 2.0), ("yes", bool, True), ("False", bool, False),
    (True, bool, True), ("riverswim", str, "riverswim"),
])
def test_values_are_read_as_their_kind(value, kind, expected):
    got = coerce(value, kind, "x")
    assert got == expected and type(got) is kind


@pytest.mark.parametrize("value, kind, message", [
    ("2.5", int, "x must be an integer, got '2.5'"), (True, int, "x must be an integer"),
    ("inf", int, "x must be an integer"), ("abc", float, "x must be a number, got 'abc'"),
    (False, float, "x must be a number"), ("maybe", bool, "x must be true or false"),
    (1, bool, "x must be true or false"),
])
def test_a_bad_value_names_where_and_the_kind(value, kind, message):
    with pytest.raises(InputError, match=message):
        coerce(value, kind, "x")


def test_optional_values_may_be_none():
    assert coerce("none", int, "x", optional=True) is None
    assert coerce("", float, "x", optional=True) is None
    with pytest.raises(InputError):
        coerce("none", int, "x")


def test_agents_and_both_labs_environments_share_the_rule():
    """The same bad integer gets the same message from an agent parameter, a bandit
    argument and an MDP argument; a whole float is an integer for all three."""
    for call, where in [(lambda v: build(bandits.agents.REGISTRY, f"etc:m={v}"), "etc parameter m"),
                        (lambda v: bandits.envs.coerce_args("sutton-barto", {"n_arms": v}),
                         "sutton-barto argument n_arms"),
                        (lambda v: mdp.envs.coerce_args("riverswim", {"n_states": v}),
                         "riverswim argument n_states")]:
        with pytest.raises(InputError, match=f"{where} must be an integer, got '2.5'"):
            call("2.5")
        call("6.0")


@pytest.mark.parametrize("value", [2**53 + 1, 2**63 - 1, np.int64(2**62 + 3)])
def test_large_integers_are_read_exactly(value):
    """An integer (a TOML value, an instance seed) is kept as it is: read through a float,
    2**53 + 1 would become 2**53."""
    assert coerce(value, int, "seed") == int(value)
    assert mdp.envs.coerce_args("garnet", {"n_states": 2, "n_actions": 1, "branching": 1,
                                       "seed": value})["seed"] == int(value)

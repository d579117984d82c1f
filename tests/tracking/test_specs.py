"""Agent specification strings and registries."""

import pytest

from bandits.agents import REGISTRY, UCB, Reinforce
from tracking.specs import build, build_all, parse_spec, split_specs


def test_split_keeps_parameters_with_their_agent():
    assert split_specs("greedy,reinforce:alpha=0.4,baseline=false,ucb") == [
        "greedy",
        "reinforce:alpha=0.4,baseline=false",
        "ucb",
    ]


def test_parse_spec():
    assert parse_spec("ucb:c=1.5") == ("ucb", {"c": "1.5"})
    assert parse_spec("greedy") == ("greedy", {})
    with pytest.raises(ValueError, match="not key=value"):
        parse_spec("ucb:c")


def test_build_coerces_types_from_defaults():
    agent = build(REGISTRY, "reinforce:alpha=0.4,baseline=none")
    assert agent == Reinforce(alpha=0.4, baseline="none")
    assert agent.alpha == 0.4 and agent.baseline == "none"
    assert build(REGISTRY, "etc:m=3").m == 3
    assert build(REGISTRY, "grpo:clip=inf,epochs=2").clip == float("inf")


def test_spec_round_trip_for_every_agent():
    for name, cls in REGISTRY.items():
        agent = cls()
        assert build(REGISTRY, agent.spec) == agent
        assert agent.label == name


def test_label_names_changed_parameters():
    assert UCB(c=1.0).label == "ucb(c=1.0)"
    assert Reinforce(baseline="none").label == "reinforce(baseline=none)"


@pytest.mark.parametrize(
    "spec,message",
    [
        ("nope", "unknown bandit agent 'nope'"),
        ("ucb:d=1", "has no parameter 'd'"),
        ("ucb:c=abc", "must be a number"),
        ("etc:m=2.5", "must be an integer"),
        ("reinforce:baseline=maybe", "baseline must be none or mean"),
        ("reinforce:normalise=maybe", "normalise must be true or false"),
        ("reinforce:entropy=-0.1", "entropy must be a finite number >= 0"),
        ("npg:bonus=-1", "bonus must be a finite number >= 0"),
        ("grpo:group=1", "group must be an integer >= 2"),
        ("rloo:group=0", "group must be an integer >= 2"),
        ("ppo:group=2.5", "must be an integer"),
        ("grpo:epochs=0", "epochs must be >= 1"),
        ("grpo:clip=0", "clip must be a number > 0"),
        ("ppo:clip=nan", "clip must be a number > 0"),
        ("grpo:kl=-0.04", "kl must be a finite number >= 0"),
        ("actor-critic:alpha_v=1.5", "alpha_v must lie in"),
        ("ucb:c=-1", "c must be a finite number >= 0"),
        ("reinforce:alpha=0", "alpha must be a finite number > 0"),
        ("epsilon-greedy:epsilon=1.5", "epsilon must lie in"),
    ],
)
def test_bad_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        build(REGISTRY, spec, "bandit")


def test_duplicates_refused_but_same_agent_with_other_parameters_allowed():
    with pytest.raises(ValueError, match="given twice"):
        build_all(REGISTRY, "ucb,ucb")
    assert len(build_all(REGISTRY, "ucb,ucb:c=1")) == 2
    with pytest.raises(ValueError, match="before any agent"):
        build_all(REGISTRY, "c=1,ucb")

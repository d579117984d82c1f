"""Experiment files: validation with file and line, normalisation, round trip."""

from pathlib import Path

import pytest

from experiments import files

GOOD = """\
seed = 3

[[problem]]
setting = "bandit"
env = "close10"
horizon = 500
runs = 4
agents = ["greedy", { name = "reinforce", alpha = 0.4, baseline = false }]

[[problem]]
setting = "mdp"
name = "river"
env = "riverswim"
args = { n_states = 8 }
horizon = 10
episodes = 20
runs = 2
agents = "psrl"
"""


def test_parse_normalises():
    spec = files.parse(GOOD, "exp.toml")
    b, m = spec["problems"]
    assert b["name"] == "close10" and b["seed"] == 3 and b["epsilon"] == 0.01
    assert b["agents"] == ["greedy", "reinforce:alpha=0.4,baseline=false"]
    assert m["name"] == "river" and m["args"] == {"n_states": 8} and m["rewards"] == "mean"
    assert m["regret"] == "exact" and "regret" not in b  # an episodic MDP key only
    assert m["agents"] == ["psrl"] and m["epsilon"] == 0.1


def test_dumps_round_trip():
    spec = files.parse(GOOD, "exp.toml")
    text = files.dumps(spec["problems"], {"celab": "0"}, "t", spec["seed"])
    again = files.parse(text, "again.toml")
    assert again["problems"] == spec["problems"] and again["title"] == "t"


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("runs = 4", "runs = \"ten\"", "exp.toml:7: runs must be an integer, got 'ten'"),
        ("runs = 4", "runs = 0", "exp.toml:7: runs must be >= 1, got 0"),
        ("horizon = 500", "horizn = 500", "exp.toml:6: unknown key 'horizn'"),
        ("horizon = 500\n", "", "exp.toml:3: missing key 'horizon'"),
        ('setting = "bandit"', 'setting = "band"', "exp.toml:4: setting must be one of"),
        ('env = "close10"', 'means = "x"', "exp.toml:5: means must be a list of numbers"),
        ('env = "close10"', 'env = "close10"\nmeans = [0.1, 0.2]', "exactly one of"),
        ("seed = 3", "seed = -1", "exp.toml:1: seed must be >= 0"),
        ("seed = 3", "sed = 3", "exp.toml:1: unknown key 'sed'"),
        ('agents = "psrl"', "agents = []", "exp.toml:18: agents must be a non-empty list"),
        ('agents = "psrl"', "agents = [3]", "exp.toml:18: agents must be names or tables"),
        ("episodes = 20\n", "", "exp.toml:10: missing key 'episodes'"),
        ('name = "river"', 'name = "close10"', "two problems are named 'close10'"),
        ("args = { n_states = 8 }", "args = 3", "exp.toml:14: args must be a table"),
        ("horizon = 10\n", "horizon = 10\nmeans = [0.5]\n", "unknown key 'means' in a mdp"),
        ("seed = 3", "seed = [", "not valid TOML"),
        ("episodes = 20", 'episodes = 20\nregret = "often"',
         "exp.toml:17: regret must be one of exact, sampled, got 'often'"),
        ("episodes = 20", "episodes = 20\nregret = 1", "exp.toml:17: regret must be a string"),
        ("runs = 4", 'runs = 4\nregret = "sampled"', "exp.toml:8: unknown key 'regret' in a "
                                                     "bandit problem"),
    ],
)
def test_errors_name_file_line_key_and_rule(old, new, message):
    text = GOOD.replace(old, new, 1)
    assert text != GOOD
    with pytest.raises(files.FileError) as err:
        files.parse(text, "exp.toml")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_no_problem():
    with pytest.raises(files.FileError, match="no \\[\\[problem\\]\\] table"):
        files.parse("seed = 1\n", "e.toml")


def test_read_errors(tmp_path):
    with pytest.raises(files.FileError, match="missing.toml: no such file$"):
        files.read(tmp_path / "missing.toml")
    with pytest.raises(files.FileError, match="cannot read"):
        files.read(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"seed = 1\n\xff\xfe")
    with pytest.raises(files.FileError, match="not UTF-8"):
        files.read(bad)


def test_relative_model_file_resolves_against_the_experiment(tmp_path):
    text = GOOD.replace('env = "riverswim"\nargs = { n_states = 8 }', 'file = "m.json"')
    spec = files.parse(text, "exp.toml", tmp_path)
    assert spec["problems"][1]["file"] == str((tmp_path / "m.json").resolve())


EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.toml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_shipped_examples_are_valid(path):
    import cli

    spec = files.read(path)
    assert len(cli._jobs(spec)) == len(spec["problems"]) >= 1

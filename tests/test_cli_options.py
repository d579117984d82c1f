"""Consistency of the command line: --version, option help, the JSON document, --out, repeated
keys, typed environment arguments, missing files, read-only folders, the lock file, progress
lines in logs."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import cli
from experiments import files, report, session
from experiments import plots as plotting
from tests.cli_helpers import _in_tmp  # noqa: F401
from tests.cli_helpers import run_main as _main
from tracking import specs
from tracking.results import SCHEMA
from tracking.tomlio import loads as toml_loads

runner = CliRunner()
COMMANDS = ["bandit", "mdp", "run", "solve", "reproduce", "report", "compare"]
SMALL_SUITE = """\
title = "a small suite"
seed = 3

[[problem]]
setting = "bandit"
env = "close10"
horizon = 300
runs = 3
agents = ["greedy", "reinforce"]

[[problem]]
setting = "mdp"
env = "riverswim"
args = { n_states = 4 }
horizon = 6
episodes = 20
runs = 2
agents = ["psrl", "reinforce"]

[tune]
runs = 2
every = true
"""




def _one_error(code, out, err) -> str:
    assert code == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def _config(folder: Path) -> dict:
    return toml_loads((folder / "config.toml").read_text("utf-8"))


# --- --version ----------------------------------------------------------------------------

def test_version_prints_celabs_version_without_importing_numba():
    from tracking.versions import celab_version

    code = ("import sys; sys.argv = ['celab', '--version']; import cli\n"
            "try:\n    cli.main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            "assert 'numba' not in sys.modules, 'numba imported'\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"celab {celab_version()}\n"


# --- help ---------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_has_no_type_placeholders(command):
    args = ["--help"] if command is None else [command, "--help"]
    result = runner.invoke(cli.app, args, env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    text = result.output
    for placeholder in ("<bool>", "BOOLEAN", "<str>", "TEXT", "<path>", "<int>", "<float>"):
        assert placeholder not in text, (placeholder, text)
    assert not re.search(r"<[a-z][a-z_\[\]]*>", text), text
    if command in ("bandit", "mdp", "run", "report", "compare"):
        assert "--plots" in text and "--no-plots" in text


def test_explore_then_commit_is_spelled_out():
    result = runner.invoke(cli.app, ["bandit", "--help"], env={"COLUMNS": "120"})
    assert "etc (explore-then-commit)" in " ".join(result.output.split())
    result = runner.invoke(cli.app, ["bandit", "--env", "close10", "--horizon", "200", "--runs",
                                     "2", "--algos", "etc,ucb", "--no-plots"])
    assert result.exit_code == 0, result.output
    assert "etc: explore-then-commit" in " ".join(result.output.split())


# --- bandit --epsilon and its column ------------------------------------------------------

def test_bandit_epsilon_is_saved_and_tabled(tmp_path):
    result = runner.invoke(cli.app, ["bandit", "--env", "close10", "--horizon", "3000", "--runs",
                                     "6", "--algos", "greedy,ucb,thompson", "--epsilon", "0.05",
                                     "--out", "o", "--no-plots"])
    assert result.exit_code == 0, result.output
    assert _config(tmp_path / "o")["problem"][0]["epsilon"] == 0.05
    summary, = json.loads((tmp_path / "o" / "summary.json").read_text())["problems"]
    assert summary["epsilon"] == 0.05
    assert "pulls to 0.05" in result.output
    for a in summary["agents"]:  # every agent's cell, from the saved summary
        row = next(line for line in result.output.splitlines() if f" {a['agent']} " in line)
        assert report._samples(a, summary["checkpoints"]["first"]) in row


def test_bandit_epsilon_default_is_the_experiment_files_default(tmp_path):
    result = runner.invoke(cli.app, ["bandit", "--env", "close10", "--horizon", "100", "--runs",
                                     "2", "--algos", "ucb", "--out", "o", "--no-plots"])
    assert result.exit_code == 0, result.output
    parsed = files.parse('[[problem]]\nsetting = "bandit"\nenv = "close10"\nhorizon = 100\n'
                         'runs = 2\nagents = ["ucb"]\n')
    assert _config(tmp_path / "o")["problem"][0]["epsilon"] == parsed["problems"][0]["epsilon"]


# --- --delta ------------------------------------------------------------------------------

def test_bandit_delta_is_saved_and_headed(tmp_path):
    result = runner.invoke(cli.app, ["bandit", "--env", "close10", "--horizon", "300", "--runs",
                                     "4", "--algos", "ucb,reinforce", "--delta", "0.25",
                                     "--out", "o", "--no-plots"])
    assert result.exit_code == 0, result.output
    problem = _config(tmp_path / "o")["problem"][0]
    assert problem["delta"] == 0.25 and list(problem).index("delta") == \
        list(problem).index("epsilon") + 1
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    (p,) = summary["problems"]
    assert p["delta"] == 0.25 and all(a["samples_to_epsilon"]["delta"] == 0.25
                                      for a in p["agents"])
    assert summary["headline"][0]["delta"] == 0.25
    assert "pulls to 0.01 (75% of runs)" in result.output
    # rerunning the saved configuration reads the same delta
    again = runner.invoke(cli.app, ["run", str(tmp_path / "o" / "config.toml"), "--out", "p",
                                    "--no-plots"])
    assert again.exit_code == 0, again.output
    rerun = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert rerun["problems"][0]["delta"] == 0.25


def test_report_reads_saved_runs_with_another_delta(tmp_path, monkeypatch, capsys):
    code, _, err = _main(monkeypatch, capsys, "bandit", "--env", "close10", "--horizon", "300",
                         "--runs", "3", "--algos", "ucb,reinforce", "--out", "o", "--no-plots")
    assert code == 0, err
    code, out, err = _main(monkeypatch, capsys, "report", "o", "--delta", "0.5", "--json",
                           "--no-plots")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["problems"][0]["delta"] == 0.5 and doc["headline"][0]["delta"] == 0.5
    assert _config(tmp_path / "o")["problem"][0]["delta"] == 0.1  # the folder is unchanged


@pytest.mark.parametrize("command", [
    ["bandit", "--horizon", "10", "--runs", "1", "--algos", "ucb", "--out", "o"],
    ["mdp", "--env", "chain", "--horizon", "3", "--episodes", "2", "--runs", "1", "--out", "o"],
    ["compare", "--out", "o"],
    ["report", "o"],
])
@pytest.mark.parametrize("delta, rule", [("0", "in (0, 1), got 0"), ("1", "in (0, 1), got 1"),
                                         ("1.5", "in (0, 1), got 1.5"),
                                         ("nan", "finite, got nan")])
def test_delta_must_be_in_the_open_unit_interval(tmp_path, monkeypatch, capsys, command, delta,
                                                 rule):
    line = _one_error(*_main(monkeypatch, capsys, *command, "--delta", delta))
    assert line == f"error: --delta must be {rule}"
    assert not (tmp_path / "o").exists()


# --- --readout ----------------------------------------------------------------------------

READOUT_RUN = ["bandit", "--env", "close10", "--horizon", "300", "--runs", "4", "--algos",
               "ucb,reinforce", "--no-plots"]


def _cells(out: str, agent: str) -> list[str]:
    """The cells of ``agent``'s row in a printed table."""
    (row,) = [line for line in out.splitlines() if line.startswith(f"│ {agent} ")]
    return [cell.strip() for cell in row.strip("│").split("│")]


def test_readout_behaviour_changes_the_table_not_the_files(tmp_path, monkeypatch, capsys):
    code, greedy_out, err = _main(monkeypatch, capsys, *READOUT_RUN, "--out", "g")
    assert code == 0, err
    code, behaviour_out, err = _main(monkeypatch, capsys, *READOUT_RUN, "--out", "b",
                                     "--readout", "behaviour")
    assert code == 0, err
    # the files are the same whatever the option: both readouts, greedy at the top level
    assert (tmp_path / "b" / "summary.json").read_text() == \
        (tmp_path / "g" / "summary.json").read_text()
    (problem,) = json.loads((tmp_path / "g" / "summary.json").read_text())["problems"]
    assert problem["readout"] == "greedy"
    zero = report.zero_level(problem["info"])
    rf = {a["agent"]: a for a in problem["agents"]}["reinforce"]
    assert not rf["readouts_coincide"]
    shown = {name: report._num(rf["readouts"][name]["simple_regret_mean"], 3, zero)
             for name in ("greedy", "behaviour")}
    assert shown["greedy"] != shown["behaviour"]  # REINFORCE's softmax is not its argmax
    for out, name in ((greedy_out, "greedy"), (behaviour_out, "behaviour")):
        assert _cells(out, "reinforce")[4] == shown[name]  # the simple-regret column
        assert f"the {name} readout of every agent" in " ".join(out.split())


def test_readout_chooses_the_json_top_level_and_report_recomputes_it(tmp_path, monkeypatch,
                                                                     capsys):
    code, out, err = _main(monkeypatch, capsys, *READOUT_RUN, "--out", "b", "--readout",
                           "behaviour", "--json")
    assert code == 0, err
    doc = json.loads(out)
    (problem,) = doc["problems"]
    assert problem["readout"] == "behaviour" and doc["headline"][0]["readout"] == "behaviour"
    for agent in problem["agents"]:
        assert {k: agent[k] for k in agent["readouts"]["behaviour"]} == \
            agent["readouts"]["behaviour"]
    saved = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert saved["problems"][0]["readout"] == "greedy"
    assert saved["problems"][0]["agents"] != problem["agents"]
    # celab report reads the saved arrays again with the behaviour readout: the same numbers
    code, again, err = _main(monkeypatch, capsys, "report", "b", "--readout", "behaviour",
                             "--json", "--no-plots")
    assert code == 0, err
    again = json.loads(again)
    assert again["problems"] == doc["problems"] and again["headline"] == doc["headline"]
    code, table, err = _main(monkeypatch, capsys, "report", "b", "--readout", "behaviour",
                             "--no-plots")
    assert code == 0, err
    assert "the behaviour readout of every agent" in " ".join(table.split())


REASONING_FILE = """
[[problem]]
setting = "reasoning"
env = "trie"
args = { n_prompts = 6, horizon = 3, vocab = 3, n_solutions = 2, p_min = 0.05 }
calls = 64
runs = 2
agents = ["grpo", "base"]
"""


def test_run_and_report_read_each_problems_setting_readout(tmp_path, monkeypatch, capsys):
    """A reasoning problem's summary, tables and --json read the behaviour readout unless
    --readout says greedy; bandit problems keep greedy."""
    (tmp_path / "exp.toml").write_text(REASONING_FILE + """
[[problem]]
setting = "bandit"
env = "close10"
horizon = 50
runs = 2
agents = ["ucb"]
""")
    code, out, err = _main(monkeypatch, capsys, "run", "exp.toml", "--out", "o", "--json",
                           "--no-plots")
    assert code == 0, err
    shown = [p["readout"] for p in json.loads(out)["problems"]]
    saved = [p["readout"] for p in
             json.loads((tmp_path / "o" / "summary.json").read_text())["problems"]]
    assert shown == saved == ["behaviour", "greedy"]
    code, out, err = _main(monkeypatch, capsys, "report", "o", "--readout", "greedy", "--json",
                           "--no-plots")
    assert code == 0, err
    assert [p["readout"] for p in json.loads(out)["problems"]] == ["greedy", "greedy"]


@pytest.mark.parametrize("command", [
    ["bandit", "--horizon", "10", "--runs", "1", "--algos", "ucb", "--out", "o"],
    ["mdp", "--env", "chain", "--horizon", "3", "--episodes", "2", "--runs", "1", "--out", "o"],
    ["compare", "--out", "o"],
    ["run", "exp.toml", "--out", "o"],
    ["report", "o"],
])
def test_an_unknown_readout_is_one_line(tmp_path, monkeypatch, capsys, command):
    (tmp_path / "exp.toml").write_text('[[problem]]\nsetting = "bandit"\nenv = "close10"\n'
                                       'horizon = 10\nruns = 1\nagents = ["ucb"]\n')
    line = _one_error(*_main(monkeypatch, capsys, *command, "--readout", "softmax"))
    assert line == "error: --readout must be one of greedy, behaviour, got 'softmax'"
    assert not (tmp_path / "o").exists()


# --- one JSON document --------------------------------------------------------------------

def _assert_document(doc: dict, folder: Path, problems: list[str], *more: str) -> None:
    assert set(doc) == {"schema", "problems", "headline", "folder", "plots", *more}
    assert doc["schema"] == SCHEMA
    assert doc["folder"] == str(folder)
    assert [p["problem"] for p in doc["problems"]] == problems
    assert all("agents" in p and "epsilon" in p for p in doc["problems"])
    saved = json.loads((folder / "summary.json").read_text())
    assert doc["problems"] == saved["problems"] and doc["headline"] == saved["headline"] \
        and doc["schema"] == saved["schema"]


def test_every_command_prints_the_same_json_document(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_suite_text", lambda name: SMALL_SUITE)
    runs = {
        "bandit": ["bandit", "--env", "close10", "--horizon", "300", "--runs", "3", "--algos",
                   "greedy,reinforce"],
        "mdp": ["mdp", "--env", "riverswim", "--env-arg", "n_states=4", "--horizon", "6",
                "--episodes", "20", "--runs", "2", "--algos", "psrl,reinforce"],
        "compare": ["compare"],
    }
    expected = {"bandit": ["close10"], "mdp": ["riverswim"], "compare": ["close10", "riverswim"]}
    for name, args in runs.items():
        code, out, err = _main(monkeypatch, capsys, *args, "--out", name, "--json",
                               "--no-plots")
        assert code == 0, err
        doc = json.loads(out)
        _assert_document(doc, Path(name), expected[name],
                         *(["held_out"] if name == "compare" else []))
        assert doc["headline"], name  # every run has a REINFORCE row
    code, out, err = _main(monkeypatch, capsys, "run", "compare/config.toml", "--out", "again",
                           "--json", "--no-plots")
    assert code == 0, err
    _assert_document(json.loads(out), Path("again"), expected["compare"])
    code, out, err = _main(monkeypatch, capsys, "report", "mdp", "--json", "--no-plots")
    assert code == 0, err
    _assert_document(json.loads(out), Path("mdp"), expected["mdp"])


# --- --out --------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [
    ["bandit", "--horizon", "10", "--runs", "1", "--algos", "ucb", "--no-plots"],
    ["mdp", "--env", "chain", "--horizon", "3", "--episodes", "2", "--runs", "1", "--no-plots"],
    ["reproduce", "kl-ucb", "--smoke"],
])
@pytest.mark.parametrize("out", ["", "  ", "afile"])
def test_out_must_name_a_folder(tmp_path, monkeypatch, capsys, command, out):
    (tmp_path / "afile").write_text("keep me")
    line = _one_error(*_main(monkeypatch, capsys, *command, "--out", out))
    assert "--out" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # nothing written
    assert (tmp_path / "afile").read_text() == "keep me"


# --- repeated keys ------------------------------------------------------------------------

@pytest.mark.parametrize("args,key", [
    (["bandit", "--env", "two-level", "--env-arg", "n_arms=4", "--env-arg", "n_arms=5"],
     "n_arms"),
    (["mdp", "--env", "riverswim", "--env-arg", "n_states=4", "--env-arg", "n_states=5"],
     "n_states"),
    (["solve", "--env", "riverswim", "--gamma", "0.9", "--env-arg", "n_states=4",
      "--env-arg", "n_states=5"], "n_states"),
    (["bandit", "--algos", "greedy,ucb:c=1,c=2"], "'c'"),
    (["mdp", "--env", "chain", "--algos", "reinforce:alpha=0.1,baseline=true,alpha=0.2"],
     "'alpha'"),
])
def test_a_key_given_twice_is_refused(tmp_path, monkeypatch, capsys, args, key):
    line = _one_error(*_main(monkeypatch, capsys, *args))
    assert key in line and "twice" in line
    assert list(tmp_path.iterdir()) == []


def test_parse_spec_refuses_a_repeated_parameter():
    assert specs.parse_spec("ucb:c=1,d=2") == ("ucb", {"c": "1", "d": "2"})
    with pytest.raises(ValueError, match="parameter 'c' is given twice"):
        specs.parse_spec("ucb:c=1,c=2")


# --- typed environment arguments ----------------------------------------------------------

@pytest.mark.parametrize("args,expected", [
    (["bandit", "--env", "two-level", "--env-arg", "n_arms=4", "--env-arg", "gap=0.2",
      "--horizon", "300", "--runs", "3", "--algos", "ucb,thompson"], {"n_arms": 4, "gap": 0.2}),
    (["mdp", "--env", "riverswim", "--env-arg", "n_states=10", "--horizon", "5", "--episodes",
      "10", "--runs", "2", "--algos", "psrl,q-learning"], {"n_states": 10}),
    (["mdp", "--env", "gridworld", "--env-arg", "map=4x4", "--env-arg", "slippery=false",
      "--horizon", "5", "--episodes", "10", "--runs", "2", "--algos", "psrl"],
     {"map": "4x4", "slippery": False}),
])
def test_env_args_are_saved_with_their_types(tmp_path, monkeypatch, capsys, args, expected):
    code, _, err = _main(monkeypatch, capsys, *args, "--out", "a", "--no-plots")
    assert code == 0, err
    problem, = _config(tmp_path / "a")["problem"]
    assert problem["args"] == expected
    assert [type(v) for v in problem["args"].values()] == [type(v) for v in expected.values()]
    code, _, err = _main(monkeypatch, capsys, "run", "a/config.toml", "--out", "b",
                         "--no-plots")
    assert code == 0, err
    name = problem["name"]
    a = np.load(tmp_path / "a" / "results" / f"{name}.npz")
    b = np.load(tmp_path / "b" / "results" / f"{name}.npz")
    assert np.array_equal(a["regret"], b["regret"])
    assert np.array_equal(a["simple_regret_greedy"], b["simple_regret_greedy"])
    assert np.array_equal(a["simple_regret_behaviour"], b["simple_regret_behaviour"])


# --- missing files ------------------------------------------------------------------------

@pytest.mark.parametrize("args,missing", [
    (["solve", "missing.npz", "--gamma", "0.9"], "missing.npz: no such file"),
    (["solve", "missing.json", "--horizon", "5"], "missing.json: no such file"),
    (["mdp", "--file", "missing.json"], "missing.json: no such file"),
    (["mdp", "--file", "missing.npz"], "missing.npz: no such file"),
    (["run", "missing.toml"], "missing.toml: no such file"),
    (["report", "missing-dir"], "missing-dir: no such folder"),
    (["report", "."], "not a celab results folder (it has no config.toml)"),
])
def test_a_missing_file_is_reported_as_missing(tmp_path, monkeypatch, capsys, args, missing):
    line = _one_error(*_main(monkeypatch, capsys, *args))
    assert line.endswith(missing), line
    assert list(tmp_path.iterdir()) == []


# --- celab report on a read-only folder ---------------------------------------------------

def test_report_on_a_read_only_folder_prints_tables_and_warns(tmp_path, monkeypatch, capsys):
    if not plotting.available():
        pytest.skip("plots need matplotlib")
    code, _, err = _main(monkeypatch, capsys, "bandit", "--env", "close10", "--horizon", "200",
                         "--runs", "2", "--algos", "ucb,reinforce", "--out", "r", "--no-plots")
    assert code == 0, err
    folder = tmp_path / "r"
    os.chmod(folder, 0o555)
    try:
        if os.access(folder, os.W_OK):  # root writes anyway: make the plot writer refuse
            def refuse(result, where, readout):
                raise PermissionError(13, "Permission denied", str(where))

            monkeypatch.setattr(plotting, "plot_result", refuse)
        code, out, err = _main(monkeypatch, capsys, "report", "r")
    finally:
        os.chmod(folder, 0o755)
    assert code == 0, err
    assert "close10: T = 200" in out and "REINFORCE" in out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: cannot write the plots"), err
    assert "Permission denied" in lines[0]
    assert not (folder / "plots").exists()


# --- the lock file ------------------------------------------------------------------------

def test_the_lock_file_is_removed_when_a_run_finishes(tmp_path):
    result = runner.invoke(cli.app, ["bandit", "--horizon", "50", "--runs", "2", "--algos",
                                     "ucb", "--out", "o", "--no-plots"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "config.toml").exists()
    assert not (tmp_path / "o" / ".lock").exists()
    with session.Folder(tmp_path / "p"):
        assert (tmp_path / "p" / ".lock").exists()
    assert not (tmp_path / "p" / ".lock").exists()


def test_a_lock_removed_by_its_holder_is_not_taken(tmp_path):
    """A process that opened .lock just before its holder removed it must not lock that
    orphan: _same_file tells the orphan from the folder's current .lock."""
    path = tmp_path / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        assert session._same_file(fd, path)
        path.unlink()
        assert not session._same_file(fd, path)
        path.write_text("")
        assert not session._same_file(fd, path)
    finally:
        os.close(fd)


# --- progress in logs ---------------------------------------------------------------------

PROGRESS = re.compile(r"^celab: (\S+) (\d+)% \((\S+) of (\S+) samples\), (\S+) elapsed"
                      r"(, about (\S+) left)?$")


def test_progress_is_plain_lines_when_stderr_is_not_a_terminal(tmp_path):
    env = dict(os.environ, CELAB_PROGRESS_INTERVAL="0", CELAB_BATCH_WORK="1")
    for key in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(key, None)
    proc = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "bandit", "--env",
                           "close10", "--horizon", "2000", "--runs", "8", "--algos", "ucb,greedy",
                           "--out", str(tmp_path / "o"), "--no-plots"],
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    matches = [PROGRESS.match(line) for line in lines]
    assert len(lines) >= 2 and all(matches), proc.stderr
    assert all(m.group(1) == "close10" for m in matches)
    shares = [int(m.group(2)) for m in matches]
    assert shares == sorted(shares) and shares[-1] == 100
    total = 2 * 8 * 2000  # agents x runs x pulls
    assert all(m.group(4) == cli._count(total) for m in matches)
    assert all(m.group(6) for m in matches[:-1]), "an estimate of the time left"
    assert matches[-1].group(6) is None  # nothing left at the end
    assert "\x1b[" not in proc.stderr  # no terminal control codes in a log


def test_progress_line_formats():
    assert cli._duration(5.4) == "5s"
    assert cli._duration(62) == "1m02s"
    assert cli._duration(7380) == "2h03m"
    assert cli._count(4_200) == "4200"
    assert cli._count(420_000_000) == "4.2e8"
    assert cli._count(10**12) == "1.0e12"

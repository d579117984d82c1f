"""The command line, through typer's CliRunner and through the console entry point."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import bandits
import cli
from tests.cli_helpers import _in_tmp  # noqa: F401
from tests.cli_helpers import run_main as _main

runner = CliRunner()




def test_bandit_table(tmp_path):
    result = runner.invoke(cli.app, ["bandit", "--env", "close10", "--horizon", "500",
                                     "--runs", "4", "--algos", "greedy,ucb,reinforce:alpha=0.4",
                                     "--no-plots"])
    assert result.exit_code == 0, result.output
    for text in ("close10", "greedy", "ucb", "reinforce(alpha=0.4)", "regret ± 95% CI",
                 f"Lai-Robbins constant {bandits.lai_robbins(bandits.envs.make('close10')):.3f}",
                 "results saved in celab-results/bandit-"):
        assert text in result.output
    assert len(list((tmp_path / "celab-results").iterdir())) == 1


def test_bandit_json_is_the_only_stdout(tmp_path):
    result = runner.invoke(cli.app, ["bandit", "--means", "0.2,0.8", "--horizon", "300",
                                     "--runs", "3", "--algos", "ucb,thompson", "--json",
                                     "--out", str(tmp_path / "res"), "--no-plots"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["folder"] == str(tmp_path / "res")
    summary, = doc["problems"]
    assert [a["agent"] for a in summary["agents"]] == ["ucb", "thompson"]
    assert summary["horizon"] == 300 and summary["runs"] == 3
    assert {"regret_mean", "regret_ci95", "regret_over_log_t", "simple_regret_mean",
            "best_arm_share"} <= set(summary["agents"][0])
    saved = json.loads((tmp_path / "res" / "summary.json").read_text())
    assert saved["problems"] == [summary] and saved["headline"] == doc["headline"]
    assert (tmp_path / "res" / "results" / "custom-bernoulli.npz").exists()
    assert (tmp_path / "res" / "config.toml").exists()
    assert (tmp_path / "res" / "curves.csv").read_text().startswith("problem,agent,run,step")


def test_gaussian_means(monkeypatch, capsys):
    code, out, _ = _main(monkeypatch, capsys, "bandit", "--means", "0,1.5", "--gaussian",
                         "--sigma", "2", "--horizon", "200", "--runs", "2", "--json",
                         "--no-plots")
    assert code == 0
    assert json.loads(out)["problems"][0]["problem"] == "custom-gaussian"


@pytest.mark.parametrize(
    "args,message",
    [
        (["--means", "0.1,2"], "Bernoulli means must lie in [0, 1]"),
        (["--means", "0.5"], "at least 2 arms"),
        (["--means", "0.5,x"], "--means must be comma-separated numbers"),
        (["--algos", "ucb,nope"], "unknown bandit agent 'nope'"),
        (["--algos", "reinforce:alpha=-1"], "alpha must be"),
        (["--algos", "grpo:group=1"], "group must be an integer >= 2 (a sample alone"),
        (["--algos", "reinforce:baseline=value"], "baseline must be none or mean"),
        (["--horizon", "0"], "--horizon must be >= 1"),
        (["--horizon", "-5"], "--horizon must be >= 1"),
        (["--runs", "0"], "--runs must be >= 1"),
        (["--horizon", "abc"], "--horizon"),
        (["--env", "nope"], "unknown bandit environment 'nope'"),
        (["--env", "close10", "--means", "0.1,0.2"], "either --env or --means"),
        (["--sigma", "0", "--means", "0,1", "--gaussian"], "sigma must be"),
        (["--bogus"], "No such option"),
    ],
)
def test_bad_input_is_one_red_line_and_exit_2(monkeypatch, capsys, args, message):
    code, out, err = _main(monkeypatch, capsys, "bandit", "--runs", "1", "--horizon", "10", *args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in err


def test_help_does_not_import_numba():
    code = ("import sys; sys.argv = ['celab', '--help']; import cli\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
            "assert 'numba' not in sys.modules, 'numba imported'\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "bandit" in proc.stdout


@pytest.mark.parametrize("error, code", [(ValueError("numbers out of line"), 1),
                                         (KeyError("x"), 1),
                                         (cli.InputError("--runs must be >= 1"), 2)])
def test_only_celab_input_errors_exit_2(monkeypatch, capsys, error, code):
    """celab's own input errors (InputError and its subclasses) are one line and exit code 2;
    any other exception raised inside a command, a ValueError from NumPy included, is a bug:
    one line that says so, exit code 1, no traceback."""
    def fail(*args):
        raise error

    monkeypatch.setattr(cli, "_guard_work", fail)
    got, _, err = _main(monkeypatch, capsys, "bandit", "--horizon", "10", "--runs", "1",
                        "--no-plots")
    lines = [x for x in err.strip().splitlines() if not x.startswith("celab: ")]
    assert got == code and len(lines) == 1 and "Traceback" not in err, err
    assert ("internal error" in lines[0]) == (code == 1)

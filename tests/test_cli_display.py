"""What the commands show: tables before plots, plots that fail as warnings, solve's timing."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

import cli
from experiments import plots
from tests.cli_helpers import _in_tmp  # noqa: F401
from tests.cli_helpers import run_main as _main

EXPERIMENT = """seed = 3

[[problem]]
setting = "bandit"
name = "two-arms"
means = [0.6, 0.4]
horizon = 200
runs = 2
agents = ["ucb", "reinforce"]
"""




@pytest.mark.parametrize("args,problem,column", [
    (["bandit", "--means", "0.5,0.5", "--horizon", "100", "--runs", "2"], "custom-bernoulli",
     "L-R const"),
    (["mdp", "--env", "gridworld", "--horizon", "5", "--episodes", "5", "--runs", "2"],
     "gridworld", "episodes to 0.1"),
])
def test_zero_regret_runs_print_tables_and_plots(monkeypatch, capsys, tmp_path, args, problem,
                                                 column):
    # equal arms, and a gridworld whose V* is 0 at this horizon: every regret is exactly 0
    out_dir = tmp_path / "out"
    code, out, err = _main(monkeypatch, capsys, *args, "--out", str(out_dir))
    assert code == 0, err
    # no error, and no warning either (progress lines aside): these curves can be drawn
    assert [x for x in err.splitlines() if not x.startswith("celab: ")] == []
    assert column in out and "0 ± 0" in out and f"results saved in {out_dir}" in out
    assert sorted(p.name for p in (out_dir / "plots").iterdir()) == [
        f"{problem}-{kind}.{ext}" for kind in ("regret", "simple") for ext in ("png", "svg")]


@pytest.fixture
def broken_simple(monkeypatch, capsys):
    """The simple-regret figure fails; what stdout held when it was attempted is recorded."""
    printed_before = []

    def broken(result, readout):
        printed_before.append(capsys.readouterr().out)
        raise ValueError("cannot draw this")

    regret = dict(plots.FIGURES)["regret"]
    monkeypatch.setattr(plots, "FIGURES", (("regret", regret), ("simple", broken)))
    return printed_before


def _check_warned(err: str, problem: str) -> None:
    lines = err.strip().splitlines()
    assert lines == [f"warning: plot {problem}-simple not drawn: ValueError: cannot draw this"]


def test_bandit_prints_its_table_before_plotting(monkeypatch, capsys, tmp_path, broken_simple):
    code, out, err = _main(monkeypatch, capsys, "bandit", "--env", "close10", "--horizon", "200",
                           "--runs", "2", "--algos", "ucb,reinforce", "--out", str(tmp_path / "b"))
    assert code == 0, err
    (before,) = broken_simple
    assert "regret ± 95% CI" in before and "results saved" not in before
    assert "results saved in" in out
    _check_warned(err, "close10")
    assert sorted(p.name for p in (tmp_path / "b" / "plots").iterdir()) == [
        "close10-regret.png", "close10-regret.svg"]


def test_run_and_report_print_tables_before_plotting(monkeypatch, capsys, tmp_path,
                                                     broken_simple):
    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT)
    code, out, err = _main(monkeypatch, capsys, "run", str(exp), "--out", str(tmp_path / "r"))
    assert code == 0, err
    (before,) = broken_simple
    assert "two-arms" in before and "How many more samples" in before  # both tables
    assert "plots in" in out
    _check_warned(err, "two-arms")
    code, out, err = _main(monkeypatch, capsys, "report", str(tmp_path / "r"))
    assert code == 0, err
    assert len(broken_simple) == 2 and "How many more samples" in broken_simple[1]
    _check_warned(err, "two-arms")


def test_json_stays_the_only_stdout_when_a_figure_fails(monkeypatch, capsys, tmp_path,
                                                        broken_simple):
    code, out, err = _main(monkeypatch, capsys, "bandit", "--means", "0.2,0.8", "--horizon",
                           "100", "--runs", "2", "--algos", "ucb", "--json", "--out",
                           str(tmp_path / "j"))
    assert code == 0, err
    assert broken_simple == [""]  # nothing printed before the plots with --json
    assert json.loads(out)["problems"][0]["problem"] == "custom-bernoulli"
    _check_warned(err, "custom-bernoulli")


def test_solve_times_the_solve_apart_from_the_warm_up(monkeypatch):
    """The first call (compilation, imports) is made on a 1-state model before the clock of
    the solve starts; a fake clock makes the durations exact."""
    clock = [0.0]
    monkeypatch.setattr("time.perf_counter", lambda: clock[0])
    calls = []

    def solver(m):
        calls.append(m.n_states)
        clock[0] += 9.0 if m.n_states == 1 else 0.02  # compiling, then solving
        return "solution"

    model = SimpleNamespace(n_states=6)
    res, seconds, compile_seconds = cli._timed_solve(solver, model)
    assert calls == [1, 6] and res == "solution"
    assert seconds == pytest.approx(0.02) and compile_seconds == pytest.approx(9.0)


def test_solve_json_has_the_solve_seconds_and_the_compile_seconds(monkeypatch, capsys):
    code, out, _ = _main(monkeypatch, capsys, "solve", "--env", "riverswim", "--gamma", "0.9",
                         "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["seconds"] >= 0 and doc["compile_seconds"] >= 0


def test_solution_table_title_and_values():
    import mdp
    from mdp.solvers import SolverResult

    m = mdp.envs.riverswim()
    res = SolverResult(np.array([8.88e-16, 1.0, 2.5, 3.0, 4.0, 5.0]), np.zeros((6, 2)),
                       np.zeros(6, dtype=np.int64), 1, "solve", gamma=0.9, bound=2.7e-9)
    table = cli._solution_table(m, res, 0.0012, 0.5)
    assert "1 iteration in 1.2 ms" in table.title and "1 iterations" not in table.title
    assert "compile 0.50 s" in table.title and "error bound 2.7e-09)" in table.title
    assert list(table.columns[1].cells)[:2] == ["0", "1"]  # rounding error where 0 is meant
    exact = mdp.backward_induction(m, 3)
    assert "error bound 0)" in cli._solution_table(m, exact, 0.001, 0.0).title

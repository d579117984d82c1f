"""celab compare: the built-in suite tuned on held-out seeds, then evaluated; the held-out
headline (experiments/compare.py) chooses on the tuning runs and reports on the evaluation
runs; both phases resume; the JSON document."""

import contextlib
import io
import json
import os
import re
import signal
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import cli
from experiments import compare as comparing
from experiments import files, report, session, tune
from tests.cli_helpers import (
    _in_tmp,  # noqa: F401
    messages,
)
from tests.cli_helpers import run_main as _main
from tracking import settings, specs, stats
from tracking.tomlio import loads as toml_loads

SUITE = cli._suite_text("compare")
PG_AGENTS = ["reinforce", "rloo", "grpo", "ppo", "actor-critic", "npg"]


def _smoke(text: str) -> str:
    """The suite at a smoke budget: bandits 300 rounds, MDPs 30 episodes, 2 runs (the tuning's
    2 per candidate); everything else as shipped."""
    text = re.sub(r"horizon = \d{4,}", "horizon = 300", text)  # the bandits' horizons only
    text = re.sub(r"episodes = \d+", "episodes = 30", text)
    return re.sub(r"(?m)^runs = \d+", "runs = 2", text)


SMOKE = _smoke(SUITE)


def _cli(*args: str) -> tuple[int, str, str]:
    """The console entry point in-process, for module-scoped fixtures: (code, out, err)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["celab", *args])
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                pytest.raises(SystemExit) as exc:
            cli.main()
    return exc.value.code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """celab compare at the smoke budget, with its tables and plots, once: (folder, stdout)."""
    root = tmp_path_factory.mktemp("compare")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli, "_suite_text", lambda name: SMOKE)
        mp.chdir(root)
        code, out, err = _cli("compare", "--out", "c")
    assert code == 0, err
    return root / "c", out


@pytest.fixture
def small(monkeypatch):
    monkeypatch.setattr(cli, "_suite_text", lambda name: SMOKE)


# --- the shipped suite ---------------------------------------------------------------------

def test_the_suite_runs_both_sides_and_tunes_them_alike():
    """Every problem has CE agents, the CE agent exploring uniformly and every PG agent; every
    agent runs on the tuning seeds with equal tuning samples, every grid has 4 candidates."""
    parsed = files.parse(SUITE, "compare.toml")
    plan = tune.plan(parsed)
    assert plan.options.every and plan.options.budget == "equal"
    assert {len(tune.points(g)) for g in plan.options.grids.values()} == {4}
    assert set(PG_AGENTS) <= set(plan.options.grids)
    for i, table in enumerate(parsed["problems"]):
        setting = settings.get(table["setting"])
        built = [specs.build(setting.agent_registry(), s, setting.name) for s in table["agents"]]
        names = [a.name for a in built]
        assert [n for n in names if n in PG_AGENTS] == PG_AGENTS, table["name"]
        ce = [a for a in built if a.family == report.CE]
        assert comparing.uniform_label(setting.name) in [a.label for a in ce]
        assert len(ce) >= 5, table["name"]
        mine = [e for e in plan.entries if e.problem == i]
        assert [e.agent for e in mine] == list(range(len(table["agents"])))
        assert len({e.runs * len(e.candidates) for e in mine}) == 1  # equal tuning samples


# --- both phases, end to end ---------------------------------------------------------------

def test_compare_tunes_then_evaluates_and_prints_the_held_out_headline(smoke):
    folder, out = smoke
    text = " ".join(out.split())
    for phrase in ("linspace10", "close10", "riverswim", "garnet-20", "growth",
                   "The best agents, chosen on the tuning seeds, on the evaluation seeds",
                   "How many more samples does the best policy gradient need",
                   f"results saved in {folder.name}"):
        assert phrase in text, phrase
    # the tuning phase: every agent of every problem ran on the tuning seeds
    tuning = session.read_config(folder / "tuning" / "config.toml")
    suite = files.parse(SMOKE, "compare.toml")["problems"]
    assert len(tuning["problems"]) == sum(len(p["agents"]) for p in suite)
    assert all(p["branch"] == tune.TUNING_BRANCH for p in tuning["problems"])
    assert (folder / "tuned.toml").exists()
    # the evaluation phase: the chosen candidates, on the evaluation seeds
    evaluated = session.read_config(folder / "config.toml")
    record = toml_loads((folder / "tuned.toml").read_text())["tuning"]
    chosen = [a["chosen"] for a in record["agents"]]
    assert [s for p in evaluated["problems"] for s in p["agents"]] == chosen
    assert all("branch" not in p for p in evaluated["problems"])
    saved = json.loads((folder / "summary.json").read_text())
    assert set(saved) == {"schema", "problems", "headline", "held_out"}
    assert [r["problem"] for r in saved["held_out"]] == [p["problem"] for p in saved["problems"]]
    for r in saved["held_out"]:
        assert r["sentence"].startswith(r["problem"] + ":") and r["sentence"] in text
    assert len(list((folder / "plots").glob("*.svg"))) == 8


def _load(folder: Path):
    """The plan of the smoke suite, its tuning (record, results by job name) and the
    evaluation results, as saved in ``folder``."""
    plan = tune.plan(files.parse(SMOKE, "compare.toml"))
    tuned = session.saved_results(folder / "tuning",
                                  session.read_config(folder / "tuning" / "config.toml"))
    record = toml_loads((folder / "tuned.toml").read_text())["tuning"]
    results = session.saved_results(folder, session.read_config(folder / "config.toml"))
    return plan, {"record": record, "results": {r.problem: r for r in tuned}}, results


def test_the_saved_headline_is_the_one_computed_from_the_saved_runs(smoke):
    folder, _ = smoke
    plan, tuning, results = _load(folder)
    rows = comparing.held_out(plan, tuning, results, [report.summarize(r) for r in results])
    assert json.loads(json.dumps(rows)) == json.loads((folder / "summary.json").read_text())[
        "held_out"]


def _settle(shape: tuple[int, ...], at: int | None) -> np.ndarray:
    """Simple regret of runs that settle within epsilon at checkpoint ``at`` (never: None)
    for good: 1 before, 0 from it on."""
    sr = np.ones(shape)
    if at is not None:
        sr[..., at:] = 0.0
    return sr


def test_the_choice_is_made_on_the_tuning_runs_not_on_the_evaluation_runs(smoke):
    """Planted: on linspace10 the agent best on the tuning runs (epsilon-greedy(0.1), grpo) is
    not the best on the evaluation runs (kl-ucb, actor-critic); the headline takes the first
    and reports its evaluation numbers, where choosing on the evaluation runs would take the
    second. Its regret is planted below CE's while it needs more samples: marked."""
    folder, _ = smoke
    plan, tuning, results = _load(folder)
    res = results[0]
    names = [specs.parse_spec(s)[0] for s in plan.parsed["problems"][0]["agents"]]
    tuned_best = {"ce": 1, "pg": names.index("grpo")}
    eval_best = {"ce": names.index("kl-ucb"), "pg": names.index("actor-critic")}
    uniform = res.agents.index(comparing.uniform_label("bandit"))
    c = res.checkpoints.size
    at = {tuned_best["ce"]: c // 4, uniform: c // 3, tuned_best["pg"]: c // 2,
          eval_best["ce"]: 0, eval_best["pg"]: 0}
    for e in plan.entries:
        if e.problem == 0:
            t = tuning["results"][e.job.problem]
            best = e.agent in tuned_best.values()
            tuning["results"][e.job.problem] = replace(t, simple_regret_greedy=_settle(
                t.simple_regret_greedy.shape, 0 if best else None))
    greedy = np.stack([_settle(res.simple_regret_greedy.shape[1:], at.get(k))
                       for k in range(len(res.agents))])
    regret = res.regret.copy()
    regret[tuned_best["pg"]], regret[tuned_best["ce"]] = 0.0, 1.0
    results[0] = res = replace(res, simple_regret_greedy=greedy, regret=regret)
    summary = report.summarize(res)
    (row, *_) = comparing.held_out(plan, tuning, results, [summary] + [
        report.summarize(r) for r in results[1:]])
    agents = summary["agents"]
    for side in ("ce", "pg"):
        k = tuned_best[side]
        assert row[side]["agent"] == res.agents[k] == row[side]["ranking"][0]
        assert row[side]["greedy"] == {key: agents[k]["readouts"]["greedy"][key]
                                       for key in ("samples_to_epsilon", "reached")}
        assert row[side]["behaviour"]["samples_to_epsilon"] == \
            agents[k]["readouts"]["behaviour"]["samples_to_epsilon"]
        # chosen on the evaluation runs, the other one would have been
        family = [i for i, a in enumerate(agents) if a["family"] == comparing.SIDES[side]]
        same_runs = report.best_agent([agents[i]["reached"] for i in family],
                                      [agents[i]["samples_to_epsilon"] for i in family])
        assert family[same_runs] == eval_best[side] != k
    samples = res.samples
    n = {k: float(samples[v]) for k, v in at.items()}
    expected = {"ratio": n[tuned_best["pg"]] / n[tuned_best["ce"]],
                "planning": n[tuned_best["pg"]] / n[uniform],
                "exploration": n[uniform] / n[tuned_best["ce"]]}
    for key, value in expected.items():  # every run alike: the bootstrap interval is a point
        assert row[key]["kind"] == "measured"
        assert row[key]["estimate"] == pytest.approx(value, rel=1e-12)
        assert row[key]["low"] == pytest.approx(value) and row[key]["high"] == pytest.approx(value)
    assert row["ce_uniform"] == res.agents[uniform]
    assert (row["samples_winner"], row["regret_winner"], row["disagree"]) == ("ce", "pg", True)
    assert "the two measures disagree" in row["sentence"]
    ratio = stats.quantile_ratio(report.exit_times(res, tuned_best["pg"], summary["epsilon"]),
                                 report.exit_times(res, tuned_best["ce"], summary["epsilon"]),
                                 summary["delta"], seed=tuned_best["pg"])
    assert row["ratio"] == ratio.as_dict()


@pytest.mark.parametrize("ratio, winner", [
    ({"estimate": 3.0, "kind": "measured"}, "ce"), ({"estimate": 0.5, "kind": "measured"}, "pg"),
    ({"estimate": 3.0, "kind": "lower_bound"}, "ce"),
    ({"estimate": 0.5, "kind": "lower_bound"}, None),  # at least 0.5: either side
    ({"estimate": 0.5, "kind": "upper_bound"}, "pg"),
    ({"estimate": 3.0, "kind": "upper_bound"}, None),  # at most 3: either side
    ({"estimate": None, "kind": "none"}, None), (None, None),
    ({"estimate": 1.0, "kind": "measured"}, None)])
def test_who_needs_fewer_samples(ratio, winner):
    assert comparing.samples_winner(ratio) == winner


# --- JSON, resume, folders -----------------------------------------------------------------

def test_json_carries_the_held_out_headline(smoke, small, monkeypatch, capsys):
    folder, _ = smoke
    code, out, err = _main(monkeypatch, capsys, "compare", "--out", "j", "--json",
                           "--no-plots")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == {"schema", "problems", "headline", "folder", "plots", "held_out"}
    saved = json.loads((folder / "summary.json").read_text())
    assert doc["held_out"] == saved["held_out"]  # the same seeds, the same numbers
    assert doc["problems"] == saved["problems"] and doc["folder"] == "j"
    row = doc["held_out"][0]
    assert set(row) == {"problem", "setting", "epsilon", "delta", "budget_samples",
                        "sample_unit", "checkpoints", "ce", "pg", "ce_uniform", "ratio",
                        "ratio_behaviour", "planning", "exploration", "samples_winner",
                        "regret_winner", "disagree", "sentence"}
    assert set(row["ce"]) == {"agent", "index", "ranking", "tuning", "greedy", "behaviour",
                              "regret_mean", "regret_ci95"}
    assert set(row["ce"]["greedy"]) == {"samples_to_epsilon", "reached"}
    assert set(row["ratio"]) == {"estimate", "low", "high", "kind"}


def _interrupting(monkeypatch, after: int) -> None:
    """SIGINT to this process as the ``after``-th job (counting both phases) starts."""
    real = cli._experiment_progress
    started = []

    def progress(jobs):
        bar, for_job = real(jobs)

        def hooked(job):
            started.append(job.problem)
            if len(started) == after:
                os.kill(os.getpid(), signal.SIGINT)
            return for_job(job)

        return bar, hooked

    monkeypatch.setattr(cli, "_experiment_progress", progress)


@pytest.mark.parametrize("after, phase", [(6, "tuning"), (50, "evaluation")])
def test_interrupted_then_resumed_equals_the_uninterrupted_comparison(
        smoke, small, monkeypatch, capsys, tmp_path, after, phase):
    folder, _ = smoke
    with monkeypatch.context() as mp:
        _interrupting(mp, after)
        code, _, err = _main(monkeypatch, capsys, "compare", "--out", "r", "--no-plots")
    assert code == 130
    (line,) = [m for m in messages(err) if not m.startswith("warning: ")]  # the grids' edges
    assert line.startswith("error: interrupted by SIGINT") and \
        line.endswith("finish with: celab compare --out r --resume")
    out = tmp_path / "r"
    if phase == "tuning":
        assert not json.loads((out / "tuning" / "status.json").read_text())["complete"]
        assert not (out / "tuned.toml").exists() and not (out / "config.toml").exists()
    else:
        assert json.loads((out / "tuning" / "status.json").read_text())["complete"]
        assert not json.loads((out / "status.json").read_text())["complete"]
    code, stdout, err = _main(monkeypatch, capsys, "compare", "--out", "r", "--resume",
                              "--json", "--no-plots")
    assert code == 0, err
    whole = json.loads((folder / "summary.json").read_text())
    assert json.loads(stdout)["held_out"] == whole["held_out"]
    for name in ("linspace10.6.reinforce", "garnet-20.11.q-learning"):
        a = np.load(out / "tuning" / "results" / f"{name}.npz")
        b = np.load(folder / "tuning" / "results" / f"{name}.npz")
        assert np.array_equal(a["simple_regret_greedy"], b["simple_regret_greedy"])


def test_folders_a_comparison_needs(smoke, small, monkeypatch, capsys, tmp_path):
    code, _, err = _main(monkeypatch, capsys, "compare", "--resume")
    assert code == 2 and messages(err) == [
        "error: --resume needs --out DIR, the folder of the interrupted comparison"]
    code, _, err = _main(monkeypatch, capsys, "compare", "--out", "none", "--resume")
    assert code == 2 and "none: holds no comparison to resume" in messages(err)[0]
    assert not (tmp_path / "none").exists()
    folder, _ = smoke
    code, _, err = _main(monkeypatch, capsys, "compare", "--out", str(folder))
    assert code == 2 and "already holds a comparison" in messages(err)[0]
    assert f"celab compare --out {folder} --resume" in messages(err)[0]

"""Studies with a [tune] table: agents tuned on the tuning seeds, then evaluated on the
evaluation seeds, both phases saved and resumable, the tuning handed to the report."""

from types import SimpleNamespace

import numpy as np
import pytest

from experiments import files, studies
from tracking.results import load_npz
from tracking.validate import InputError

STUDY = """\
title = "a tuned study"
seed = 4

[[problem]]
setting = "bandit"
name = "two-arms"
means = [0.2, 0.8]
horizon = 300
runs = 6
agents = ["greedy", "reinforce"]

[tune]
objective = "regret"
runs = 3
every = true
reinforce = { alpha = [1e-9, 0.5] }
"""


@pytest.fixture
def study(monkeypatch):
    """The study "thesis" made of STUDY, its report recording the context it was given."""
    seen = []

    def report(ctx):
        seen.append(ctx)
        return "# tuned\n"

    monkeypatch.setattr(studies, "spec", lambda name, full=False, smoke=False:
                        files.parse(STUDY, "study.toml"))
    monkeypatch.setattr(studies, "module", lambda name: SimpleNamespace(report=report))
    return seen


def test_a_study_tunes_then_evaluates_the_chosen_agents(tmp_path, study):
    out = tmp_path / "out"
    outcome, ctx = studies.run("thesis", out, plots=False)
    assert outcome.status["complete"] and study == [ctx]
    record = ctx.tuning["record"]
    # every agent ran on the tuning seeds; alpha = 1e-9 leaves the softmax uniform (regret
    # about 0.3 per round), alpha = 0.5 learns the better arm: the second is chosen
    assert [a["agent"] for a in record["agents"]] == ["greedy", "reinforce"]
    chosen = record["agents"][1]["chosen"]
    assert "alpha=0.5" in chosen
    assert sorted(ctx.tuning["results"]) == ["two-arms.0.greedy", "two-arms.1.reinforce"]
    assert ctx.tuning["results"]["two-arms.1.reinforce"].runs == 3
    # the evaluation ran the chosen agents, on the evaluation seeds: the same numbers as
    # celab run on the tuned file
    (res,) = ctx.results.values()
    assert res.agents[1] == ctx.tuning["results"]["two-arms.1.reinforce"].agents[1]
    tuned = files.parse((out / "tuned.toml").read_text(), "tuned.toml")
    (job,) = files.build_jobs(tuned)
    direct = job.run_batch(0, job.runs, None)
    assert np.array_equal(direct["regret"], res.regret)
    tuning_regret = ctx.tuning["results"]["two-arms.0.greedy"].regret[0]
    assert not np.array_equal(tuning_regret, res.regret[0, :3])  # other seeds


def test_resume_finishes_the_evaluation_without_tuning_again(tmp_path, study):
    out = tmp_path / "out"
    _, whole = studies.run("thesis", out, plots=False)
    saved = out / "tuning" / "results" / "two-arms.1.reinforce.npz"
    stamp = saved.stat().st_mtime_ns
    # as if interrupted after the tuning: no evaluation yet
    (out / "config.toml").unlink()
    for f in (out / "results").iterdir():
        f.unlink()
    outcome, ctx = studies.run("thesis", out, resume=True, plots=False)
    assert outcome.status["complete"] and saved.stat().st_mtime_ns == stamp
    (a,), (b,) = whole.results.values(), ctx.results.values()
    assert np.array_equal(a.regret, b.regret) and a.agents == b.agents
    assert np.array_equal(load_npz(saved).regret, whole.tuning["results"][
        "two-arms.1.reinforce"].regret)


def test_resume_needs_a_started_study(tmp_path, study):
    with pytest.raises(InputError, match="holds no study to resume"):
        studies.run("thesis", tmp_path / "empty", resume=True, plots=False)


def test_the_smoke_budget_shrinks_the_tuning_runs():
    parsed = studies.shrink(files.parse(STUDY, "study.toml"))
    assert parsed["tune"]["runs"] == 2 and parsed["problems"][0]["runs"] == 2

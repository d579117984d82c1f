"""Every study runs end to end at a tiny budget: results, report and figures.

The comparisons with published numbers live in the reports (docs/experiments/), with their
tolerance reasoning; here only the pipeline is checked.
"""

import numpy as np
import pytest

from experiments import files, studies
from tracking import settings
from tracking.validate import InputError


@pytest.mark.parametrize("name", sorted(studies.STUDIES))
def test_study_files_are_valid_at_every_budget(name):
    for budget in studies.budgets(name):
        parsed = studies.spec(name, budget)
        assert len(studies.jobs_of(parsed)) == len(parsed["problems"])
    with pytest.raises(InputError, match=f"study '{name}' has no budget 'huge' "
                                         r"\(its budgets: default, smoke, full"):
        studies.spec(name, "huge")


#: Studies whose smoke run compiles many agents' loops (a minute or more on 2 cores): make
#: test-slow runs them.
HEAVY = ("reasoning", "thesis")


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY else n
                                  for n in sorted(studies.STUDIES)])
def test_study_runs_end_to_end_at_a_tiny_budget(tmp_path, name):
    outcome, ctx = studies.run(name, tmp_path / "out", budget="smoke", plots=False)
    assert ctx is not None and outcome.status["complete"]
    text = (tmp_path / "out" / "report.md").read_text()
    assert text.startswith("# ") and "Smoke budget" in text
    # a reproduction sets celab beside the source and explains the differences; the thesis
    # states what celab measured about its claim
    sections = (("What celab measured", "Caveats") if name == "thesis"
                else ("Beside", "differ"))
    for section in sections:
        assert section.lower() in text.lower(), section
    # every report says which readout and which delta its numbers use
    assert studies.measure_note(ctx) in text
    if ctx.summaries:
        deltas = {s["delta"] for s in ctx.summaries.values()}
        # each problem reads its setting's default readout (greedy but for reasoning)
        for problem, summary in ctx.summaries.items():
            setting = settings.get(ctx.results[problem].setting)
            assert summary["readout"] == setting.readout, problem
        assert all(f"delta = {d:g}" in studies.measure_note(ctx) for d in deltas)
    figures = sorted((tmp_path / "out" / "figures").glob("*.png"))
    assert figures, "a report without figures"
    for fig in figures:
        assert f"figures/{fig.name}" in text, fig.name
    # the saved configuration reruns the same problems
    config = files.read(tmp_path / "out" / "config.toml")
    assert [p["name"] for p in config["problems"]] == list(ctx.results)
    for res in ctx.results.values():
        assert np.all(np.isfinite(res.regret))


def test_docs_copy(tmp_path):
    outcome, ctx = studies.run("kl-ucb", tmp_path / "out", budget="smoke", plots=False)
    path = studies.write_docs(ctx, (tmp_path / "out" / "report.md").read_text(),
                              tmp_path / "docs")
    text = path.read_text()
    assert path.name == "kl-ucb.md" and "](kl-ucb/" in text and "](figures/" not in text
    assert list((tmp_path / "docs" / "kl-ucb").glob("*.png"))


def test_unknown_study():
    with pytest.raises(ValueError, match="unknown study 'nope'"):
        studies.module("nope")

"""The reasoning study: its files are what its design writes, and its report's judgements
(Yue et al.'s crossover, best-of-n, the calls-to-target ratio and its fit) are right on planted
results whose answers are known."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from experiments import files, studies
from experiments.studies import reasoning, reasoning_design
from experiments.studies.reasoning_design import CALL_AGENTS, EPSILON
from tracking.results import Result

pytestmark = pytest.mark.nojit

FOLDER = Path(studies.__file__).parent
KS = [2 ** i for i in range(11)]


@pytest.mark.parametrize("budget", reasoning_design.BUDGETS)
def test_the_shipped_files_are_what_the_design_writes(budget):
    stem = "reasoning" if budget == "default" else f"reasoning-{budget}"
    assert (FOLDER / f"{stem}.toml").read_text() == reasoning_design.text(budget)
    assert budget in studies.budgets("reasoning")


def test_every_question_has_its_problems_and_the_same_agents_per_axis():
    parsed = files.parse(reasoning_design.text("default"), "reasoning.toml")
    names = [t["name"] for t in parsed["problems"]]
    assert {"passk-m1", "passk-m4", "passk-m16", "passk-shared"} <= set(names)
    assert {f"power-{k}" for k in reasoning_design.POWER_CONDITIONS} <= set(names)
    calls = [t for t in parsed["problems"] if t["name"].startswith("calls-")]
    assert {reasoning._parse(t["name"])[0] for t in calls} == set(reasoning_design.AXES)
    for t in calls:
        axis = reasoning_design.AXES[reasoning._parse(t["name"])[0]]
        assert t["agents"] == list(axis.sides()) and t["budget"] == "until"
        assert t["env"] == axis.env
        assert t["epsilon"] == EPSILON and t["held_out"] == 0
    # every trained kind has a grid of the same size: equal tuning budgets
    assert {len(next(iter(g.values()))) for g in reasoning_design.GRIDS.values()} == {5}
    assert parsed["tune"]["every"] is True


def test_problem_names_parse_back():
    for key in reasoning_design.AXES:
        assert reasoning._parse(f"calls-{key}16") == (key, 16)
    with pytest.raises(ValueError, match="not a question-3 problem"):
        reasoning._parse("calls-x3")


# --- planted pass@k ----------------------------------------------------------------------------


def _fake(rows: dict[str, np.ndarray], families: dict[str, str]) -> SimpleNamespace:
    """A result-like object holding pass@k per agent, run and k."""
    names = list(rows)
    return SimpleNamespace(agents=tuple(names),
                           info={"pass_ks": KS, "agent_names": names,
                                 "families": [families[n] for n in names]},
                           extra={"pass_at_k": np.stack([rows[n] for n in names])})


def _runs(curve, runs=20, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    curve = np.asarray(curve, dtype=float)
    return np.clip(curve[None, :] + noise * rng.standard_normal((runs, len(curve))), 0, 1)


def test_yue_crossover_is_found_where_the_base_overtakes_and_not_elsewhere():
    base_p = 0.01
    base = 1 - (1 - base_p) ** np.array(KS, dtype=float)
    # "collapsed": pass@1 0.6 on 60% of the prompts, nothing on the rest: pass@k stays 0.6
    collapsed = np.full(len(KS), 0.6)
    better = base + 0.5 * (1 - base)  # above the base at every k
    res = _fake({"base": _runs(base), "rl": _runs(collapsed, noise=0.01),
                 "good": _runs(better), "same": _runs(base + 1e-12)},
                {"base": "inference", "rl": "policy-gradient", "good": "policy-gradient",
                 "same": "policy-gradient"})
    b = reasoning._index(res, "base")
    # the base's pass@k first exceeds 0.6 (by more than the interval) at k = 128:
    # 1 - 0.99^128 = 0.724, 1 - 0.99^64 = 0.474
    assert reasoning._crossover(res, 1, b) == 128
    assert "Yue et al.'s pattern" in reasoning._yue(res, 1, b)
    assert reasoning._crossover(res, 2, b) is None
    assert "not below the base at any k" in reasoning._yue(res, 2, b)
    # exactly the base (rounding apart): level, never a win or a crossover
    assert reasoning._crossover(res, 3, b) is None
    assert "level with the base" in reasoning._yue(res, 3, b)


def test_best_of_n_is_the_smallest_n_whose_base_pass_at_n_reaches_the_target():
    base = 1 - (1 - 0.05) ** np.array(KS, dtype=float)
    res = _fake({"base": _runs(base)}, {"base": "inference"})
    # 1 - 0.95^16 = 0.56, 1 - 0.95^8 = 0.34
    assert reasoning._best_of_n(res, 0, 0.5) == 16
    rare = _fake({"base": _runs(1 - (1 - 1e-5) ** np.array(KS, dtype=float))},
                 {"base": "inference"})
    assert reasoning._best_of_n(rare, 0, 0.5) is None  # pass@1024 = 0.01


def test_order_needs_the_intervals_apart():
    a = _runs(np.full(3, 0.5), noise=0.05, seed=1)
    assert reasoning._order(a, a + 0.2) == -1 and reasoning._order(a + 0.2, a) == 1
    assert reasoning._order(a, a + 0.001) == 0


# --- planted calls to target -------------------------------------------------------------------

CHECKPOINTS = np.unique(np.geomspace(1, 10 ** 6, 200).astype(np.int64))


def _calls_result(axis: str, size: int, runs: int, seed: int) -> Result:
    """A question-3 problem whose agents reach the target at known calls: grpo 50 size^2
    (the fastest gradient agent), rloo and rsft 3 times later, ce 5 size, ce-optimistic twice
    later, times a lognormal factor."""
    rng = np.random.default_rng(seed)
    base = {"grpo": 50.0 * size ** 2, "rloo": 150.0 * size ** 2, "rsft": 150.0 * size ** 2,
            "ce": 5.0 * size, "ce-optimistic": 10.0 * size}
    curves = []
    for name in CALL_AGENTS:
        t = base[name] * rng.lognormal(0.0, 0.2, runs)
        # simple regret (1 - pass@1) 0.9 until the exit, 0.1 after: epsilon 0.5 splits them
        curves.append(np.where(CHECKPOINTS[None, :] < t[:, None], 0.9, 0.1))
    sr = np.array(curves)
    names = list(CALL_AGENTS)
    return Result(f"calls-{axis}{size}", "reasoning", tuple(names), CHECKPOINTS,
                  np.cumsum(sr, axis=2), sr, sr.copy(),
                  {"runs": runs, "epsilon": EPSILON, "delta": 0.1},
                  info={"agent_names": names, "families": ["policy-gradient"] * 3
                        + ["certainty-equivalence"] * 2, "pass_ks": KS})


def test_calls_to_target_ratio_and_exponents_on_planted_results(tmp_path):
    sizes = (2, 4, 8, 16)
    results = {r.problem: r for r in (_calls_result("H", s, 40, s) for s in sizes)}
    ctx = studies.Context("reasoning", "default", {"study": {}}, results,
                          {p: {"readout": "behaviour"} for p in results}, tmp_path)
    lines, sentences, analyses = reasoning._question3(ctx)
    fs = analyses["H"]
    # chosen on the (here: evaluation) cells: grpo and ce, at every size
    assert set(fs.pg.values()) == {"grpo"} and set(fs.ce.values()) == {"ce"}
    # n(grpo) ~ size^2, n(ce) ~ size^1, the ratio 10 size: exponents 2, 1, 1 within the
    # bootstrap interval (40 runs, lognormal sd 0.2: the interval is a few tenths wide)
    assert fs.best_pg.low <= 2.0 <= fs.best_pg.high
    assert fs.best_ce.low <= 1.0 <= fs.best_ce.high
    assert fs.ratio.low <= 1.0 <= fs.ratio.high
    for row, size in zip(fs.rows, sizes):
        assert row.ratio.kind == "measured"
        assert row.ratio.low <= 10.0 * size <= row.ratio.high
    # the claim of 100x: at size 16 the ratio is 160, its lower end above 100
    assert "is supported here" in sentences[0]
    assert any("ratio best PG / best CE" in line for line in lines)


def test_the_readmes_reasoning_sentences_are_the_committed_reports():
    """The README states what the committed report generated: the same sentences."""
    root = FOLDER.parents[1]
    readme = (root / "README.md").read_text("utf-8")
    report = (root / "docs" / "experiments" / "reasoning.md").read_text("utf-8")

    def bullets(text, start):
        section = text.split(start, 1)[1].split("\n## ", 1)[0]
        return [line for line in section.splitlines() if line.startswith("- ")]

    ours = bullets(readme, "## Reasoning models, measured on token trees")
    assert ours and ours == bullets(report, "## What celab measured")


def test_the_verifier_model_sentence_reads_the_well_and_misspecified_agents():
    """On planted pass@1 (training, held out) per agent of passk-shared, the sentence names the
    well-specified model above the misspecified one on the held-out prompts, with their
    figures, and the best shared-policy gradient agent by held-out pass@1."""
    specs = reasoning._design_agents("passk-shared")
    train = {"ce-linear:features=prompt": 0.6, "ce-linear": 0.2, "ce": 0.9,
             "grpo:policy=shared": 0.3, "rloo:policy=shared": 0.4, "rsft:policy=shared": 0.35}
    held = {"ce-linear:features=prompt": 0.5, "ce-linear": 0.1, "ce": 0.05,
            "grpo:policy=shared": 0.2, "rloo:policy=shared": 0.25, "rsft:policy=shared": 0.3}

    def rows(table):
        return np.stack([_runs(np.full(len(KS), table.get(sp, 0.05)))
                         for sp in specs])

    res = SimpleNamespace(agents=tuple(specs), config={"calls": 1000},
                          info={"pass_ks": KS, "agent_names": [s.split(":")[0] for s in specs],
                                "families": ["x"] * len(specs)},
                          extra={"pass_at_k": rows(train), "pass_at_k_held_out": rows(held)})
    ctx = SimpleNamespace(results={"passk-shared": res})
    (text,) = reasoning._model_lines(ctx)
    assert "0.600 on the training prompts and 0.500 on the held-out ones, above" in text
    assert "(0.200 on the training prompts and 0.100 on the held-out ones)" in text
    assert "best shared-policy gradient agent (rsft:policy=shared)" in text
    held["ce-linear"] = 0.5
    res.extra["pass_at_k_held_out"] = rows(held)
    assert "level with the misspecified" in reasoning._model_lines(ctx)[0]


def test_the_claims_table_sets_the_yue_sentence_beside_yue():
    """The committed report's row for Yue et al. holds the Yue sentence of the summary."""
    report = (FOLDER.parents[1] / "docs" / "experiments" / "reasoning.md").read_text("utf-8")
    row = next(line for line in report.splitlines() if line.startswith("| Yue et al. 2025"))
    assert "Yue et al.'s pattern" in row.split("|")[2]

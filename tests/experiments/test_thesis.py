"""The thesis study: its files are what its design writes, and its report's numbers are right
on planted results whose answers are known."""

import re
from pathlib import Path

import numpy as np
import pytest

from experiments import files, scaling, studies
from experiments.studies import thesis, thesis_design
from experiments.studies.thesis_design import AGENTS, APART, CE, PG, UNIFORM
from tracking.results import Result

pytestmark = pytest.mark.nojit

FOLDER = Path(studies.__file__).parent


@pytest.mark.parametrize("budget", thesis_design.BUDGETS)
def test_the_shipped_files_are_what_the_design_writes(budget):
    stem = "thesis" if budget == "default" else f"thesis-{budget}"
    assert (FOLDER / f"{stem}.toml").read_text() == thesis_design.text(budget)
    assert budget in studies.budgets("thesis")


def test_the_local_budget_reaches_the_sizes_and_caps_every_run():
    """The committed report's budget: K = 200, d = 20, S = 50 at least, and no run's cap above
    10^7 samples (pulls, or episodes of H steps)."""
    parsed = files.parse(thesis_design.text("local"), "thesis-local.toml")
    largest: dict[str, int] = {}
    for table in parsed["problems"]:
        family, size, _ = thesis.parse_name(table["name"])
        largest[family] = max(largest.get(family, 0), size)
        unit = table["horizon"] if table["setting"] == "mdp" else 1
        assert table["cap"] * unit <= 10 ** 7 and table["cap"] >= table[
            "episodes" if table["setting"] == "mdp" else "horizon"]
    assert largest["bandit-gap0.1"] >= 200 and largest["linear"] >= 20
    assert largest["garnet"] >= 50


def test_policy_gradient_variants_are_tuned_choices_with_equal_budgets():
    """Every PG kind of a bandit problem tunes its step size and bonus, of an MDP problem also
    stationarity; with budget = "equal" each kind gets the same tuning runs x candidates."""
    from experiments import tune

    parsed = files.parse(thesis_design.text("default"), "thesis.toml")
    plan = tune.plan(parsed)
    for table in parsed["problems"]:
        entries = {e.name: e for e in plan.entries
                   if parsed["problems"][e.problem]["name"] == table["name"]}
        variants = thesis_design.VARIANTS.get(table["setting"])
        if variants is None or thesis.parse_name(table["name"])[2] is not None:
            continue
        for kind in thesis_design.PG_KINDS:
            assert entries[kind].grid == {"alpha": thesis_design.ALPHAS, **variants}
        budgets = {e.runs * len(e.candidates) for e in entries.values()}
        assert len(budgets) == 1, (table["name"], budgets)


def test_the_same_agents_at_every_size():
    parsed = files.parse(thesis_design.text("full"), "thesis-full.toml")
    by_family: dict[str, set] = {}
    for table in parsed["problems"]:
        family, size, group = thesis.parse_name(table["name"])
        agents = tuple(table["agents"])
        assert len(agents) == len(thesis.labels(family, group))
        by_family.setdefault((family, group), set()).add(agents)
    assert all(len(v) == 1 for v in by_family.values()), by_family
    # every setting's list holds both sides and the uniform-exploration reference of the
    # factor split
    for agents in AGENTS.values():
        sides = {side for _, side in agents.values()}
        assert {PG, CE, UNIFORM} <= sides


def test_problem_names_parse_back():
    for family in thesis_design.FAMILIES:
        for group in (None, *APART):
            name = thesis_design.problem_name(family, 20, group)
            assert thesis.parse_name(name) == (family, 20, group)
    with pytest.raises(ValueError, match="not a thesis problem"):
        thesis.parse_name("close10")


# --- planted results ---------------------------------------------------------------------------

CHECKPOINTS = np.unique(np.geomspace(1, 10 ** 6, 200).astype(np.int64))
SIZES = (2, 10, 50)


def _curves(times: np.ndarray) -> np.ndarray:
    """Simple regret 1 until each run's exit time (rounded up to a checkpoint), 0 after."""
    return (CHECKPOINTS[None, :] < times[:, None]).astype(np.float64)


def _planted(size: int, runs: int, seed: int, family: str = "bandit-gap0.1") -> Result:
    """A bandit-gap0.1 problem at K = size whose agents' exit times are known: PG agents
    100 K^2 (reinforce the fastest), CE agents 10 K (ucb the fastest), uniform 30 K^1.5,
    each times a lognormal factor; the cap 10^6 censors what lies beyond it."""
    rng = np.random.default_rng(seed)
    labels = thesis.labels(family, None)
    agents = thesis_design.agents_of(family)
    base = {"ucb": 10.0 * size, "uniform": 30.0 * size ** 1.5, "reinforce": 100.0 * size ** 2}
    curves = []
    for label in labels:
        side = agents[label][1]
        t = base.get(label, {PG: 300.0 * size ** 2, UNIFORM: 0}.get(side, 40.0 * size))
        curves.append(_curves(t * rng.lognormal(0.0, 0.3, runs)))
    sr = np.array(curves)
    regret = np.cumsum(sr, axis=2)
    setting = thesis_design.FAMILIES[family].setting
    return Result(thesis_design.problem_name(family, size), setting,
                  tuple(agents[label][0] for label in labels), CHECKPOINTS,
                  regret, sr, sr.copy(), {"runs": runs, "epsilon": 0.05, "delta": 0.1},
                  info={"v_star": 1.0} if setting == "mdp" else {})


def _apart(family: str, size: int, runs: int, seed: int) -> dict[str, Result]:
    """The problems of the agents run apart (thesis_design.APART) at one size: exit times
    40 x size (CE agents)."""
    out = {}
    setting = thesis_design.FAMILIES[family].setting
    for label in APART:
        if label not in thesis_design.agents_of(family):
            continue
        sr = _curves(40.0 * size * np.random.default_rng(seed).lognormal(0.0, 0.3, runs))[None]
        name = thesis_design.problem_name(family, size, label)
        out[name] = Result(name, setting, (thesis_design.agents_of(family)[label][0],),
                           CHECKPOINTS, np.cumsum(sr, axis=2), sr, sr.copy(),
                           {"runs": runs, "epsilon": 0.05, "delta": 0.1},
                           info={"v_star": 1.0} if setting == "mdp" else {})
    return out


def _ctx(tmp_path, runs=40) -> studies.Context:
    results = {r.problem: r for r in (_planted(k, runs, k) for k in SIZES)}
    for k in SIZES:
        results.update(_apart("bandit-gap0.1", k, runs, k))
    return studies.Context("thesis", "default", {"study": {}}, results, {}, tmp_path)


def test_planted_laws_choices_and_ratios(tmp_path):
    """Untuned (choices on the evaluation seeds): ucb and reinforce are chosen; reinforce's
    exponent is 2 and ucb's 1 within the sampling error (lognormal sigma 0.3 over 40 runs: the
    0.9 quantile's log has a standard error near 0.3 * 1.7 / sqrt(40) = 0.08, so the slope over
    sizes 2..50 (log range 3.2) is within 0.1 of the truth; the interval must cover it)."""
    a = thesis.family_analyses(_ctx(tmp_path))["bandit-gap0.1"]
    assert {c["pg"].agent for c in a.choices.values()} == {"reinforce"}
    assert {c["ce"].agent for c in a.choices.values()} == {"ucb"}
    laws = a.scaling.laws
    assert abs(laws["reinforce"].estimate - 2.0) < 0.1 and abs(laws["ucb"].estimate - 1.0) < 0.1
    assert laws["reinforce"].low < 2.0 < laws["reinforce"].high
    assert abs(a.scaling.ratio.estimate - 1.0) < 0.15
    # the split: planning (reinforce / uniform) grows as K^0.5, exploration (uniform / ucb) too
    assert abs(a.scaling.planning.estimate - 0.5) < 0.15
    assert abs(a.scaling.exploration.estimate - 0.5) < 0.15
    r = a.scaling.rows[-1]  # K = 50: ratio 100 K^2 / 10 K = 500
    assert r.ratio.kind == "measured" and r.ratio.low < 500 < r.ratio.high


def test_the_report_prints_the_computed_numbers(tmp_path):
    ctx = _ctx(tmp_path)
    text = thesis.report(ctx)
    a = thesis.family_analyses(ctx)["bandit-gap0.1"]
    ratio = a.scaling.rows[-1].ratio
    assert f"{thesis.num(ratio.estimate)}" in text
    exponent = re.search(r"\*\*ratio best PG / best CE\*\* \| ([0-9.]+) \[", text)
    assert exponent and abs(float(exponent[1]) - a.scaling.ratio.estimate) < 0.006
    assert "is supported here" in text  # every ratio's lower end is above 100 at K = 50
    assert "What celab measured about the claim" in text and "Caveats" in text


def test_a_censored_pg_is_a_lower_bound_never_a_number(tmp_path):
    """With 10x the PG exit times, reinforce at K = 50 (250,000 x 10 > the 10^6 cap) is
    censored: its cell, the ratio and the verdict say "at least"."""
    ctx = _ctx(tmp_path)
    big = ctx.results["bandit-gap0.1-K50"]
    i = thesis.labels("bandit-gap0.1", None).index("reinforce")
    sr = big.simple_regret_greedy.copy()
    sr[i] = 1.0
    ctx.results["bandit-gap0.1-K50"] = Result(big.problem, big.setting, big.agents,
                                              big.checkpoints, big.regret, sr, sr.copy(),
                                              big.config)
    a = thesis.family_analyses(ctx)["bandit-gap0.1"]
    row = a.scaling.rows[-1]
    assert row.pg != "reinforce" or row.ratio.kind == "lower_bound"
    assert a.choices[50]["pg"].agent != "reinforce"  # a censored agent is never the best


def test_regret_and_samples_disagreeing_is_said(tmp_path):
    """Planted: reinforce needs more samples than ucb at every size (ratio about 10 K), but its
    regret at the budget is set to 0 at K = 10: the verdict says the measures disagree there,
    with both regrets, and nowhere else."""
    ctx = _ctx(tmp_path)
    res = ctx.results["bandit-gap0.1-K10"]
    i = thesis.labels("bandit-gap0.1", None).index("reinforce")
    regret = res.regret.copy()
    regret[i] = 0.0
    ctx.results[res.problem] = Result(res.problem, res.setting, res.agents, res.checkpoints,
                                      regret, res.simple_regret_greedy,
                                      res.simple_regret_behaviour, res.config)
    text = thesis.report(ctx)
    said = re.findall(r"At K = (\d+) the two measures disagree: reinforce needs more samples "
                      r"to epsilon than ucb .* mean regret at the budget \(0 against ([\d,.]+)\)",
                      text)
    ucb = thesis.labels("bandit-gap0.1", None).index("ucb")
    assert said == [("10", thesis.num(float(res.regret[ucb, :, -1].mean())))]


def test_on_a_chain_the_li_bound_is_drawn_and_set_beside_the_best_pg(tmp_path):
    """Planted RiverSwim cells (PG: 300 S^2 exit times; reinforce is in the MDP list as well):
    the report's sentence gives the bound's growth from scaling.li_chain_curve and the best
    PG agent's measured growth, from the same cells."""
    sizes = (4, 6, 8)
    results = {r.problem: r for r in (_planted(n, 40, n, "riverswim") for n in sizes)}
    for n in sizes:
        results.update(_apart("riverswim", n, 40, n))
    ctx = studies.Context("thesis", "default", {"study": {}}, results, {}, tmp_path)
    a = thesis.family_analyses(ctx)["riverswim"]
    cells = thesis.cells_of(ctx)
    xs, curve = thesis._li_curve(a, cells)
    assert list(xs) == list(sizes)
    pg = [cells.evaluation["riverswim"][n][a.choices[n]["pg"].agent].quantile().estimate
          for n in sizes]
    assert curve[0] == pg[0]
    assert np.allclose(curve, scaling.li_chain_curve(sizes, pg[0], lambda n: 5 * n))
    text = thesis.report(ctx)
    assert (f"grows by {thesis.num(curve[-1] / curve[0])}x from S = 4 to 8; the best PG "
            f"agent's n(epsilon, delta) grew by {thesis.num(pg[-1] / pg[0])}x.") in text
    assert "Li et al. (2021)" not in "".join(
        thesis._li_sentence(thesis.family_analyses(_ctx(tmp_path))["bandit-gap0.1"],
                            thesis.cells_of(_ctx(tmp_path))))  # bandits are no chain


def _bullets(text: str, start: str, end: str) -> list[str]:
    section = text.split(start, 1)[1].split(end, 1)[0]
    return [line for line in section.splitlines() if line.startswith("- ")]


def test_the_readmes_thesis_sentences_are_the_committed_reports():
    """The README states, family by family, what the committed report generated: the same
    sentences, so that neither can say what the numbers do not."""
    root = FOLDER.parents[1]
    readme = (root / "README.md").read_text("utf-8")
    report = (root / "docs" / "experiments" / "thesis.md").read_text("utf-8")
    ours = _bullets(readme, "## The thesis, measured", "\n## ")
    theirs = _bullets(report, "## What celab measured about the claim", "\n## ")
    assert ours and ours == theirs

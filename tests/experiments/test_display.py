"""What celab shows: number formats, table wording and marks, the headline's choice, figures.

Every result here is planted: arrays chosen so that the right answer is known by construction.
"""

import io
import json
import math
import warnings

import numpy as np
import pytest
from rich.console import Console

from experiments import plots, report
from experiments.report import CE, _num, _pm, zero_level
from tracking.results import Result

STEPS = 2 ** np.arange(10)  # checkpoints 1, 2, 4, ..., 512
RUNS = 10
EPS = 0.01


def _reach(at: list[int | None]) -> np.ndarray:
    """Simple regret of one agent: run r is 0.1 before checkpoint index at[r], 0 from there on
    (None: never within epsilon)."""
    sr = np.full((len(at), STEPS.size), 0.1)
    for r, k in enumerate(at):
        if k is not None:
            sr[r, k:] = 0.0
    return sr


def _planted(agents: dict[str, list[int | None]], setting: str = "bandit",
             info: dict | None = None, regret: np.ndarray | None = None) -> Result:
    """A Result whose agents (label -> per-run checkpoint index of reaching epsilon) are CE
    agents, except those named ``reinforce...``."""
    labels = tuple(agents)
    sr = np.stack([_reach(at) for at in agents.values()])
    names = [label.split("-")[0] if label.startswith("reinforce") else label for label in labels]
    families = ["policy-gradient" if n == "reinforce" else CE for n in names]
    base = {"lai_robbins": None, "means": [0.5, 0.4]} if setting == "bandit" else {"v_star": 2.0}
    config = {"runs": sr.shape[1], "seed": 0, "horizon": int(STEPS[-1]), "epsilon": EPS}
    if setting == "mdp":  # H = 5 steps per episode
        config.update(horizon=5, episodes=int(STEPS[-1]))
    return Result("planted", setting, labels, STEPS.copy(),
                  np.zeros_like(sr) if regret is None else regret, sr, sr.copy(), config,
                  samples_per_step=5 if setting == "mdp" else 1,
                  extra={"pulls": np.tile([500, 12], (*sr.shape[:2], 1))} if setting == "bandit"
                  else {},
                  info={**base, **(info or {}), "agent_names": names, "families": families})


def _text(table) -> str:
    console = Console(file=io.StringIO(), width=250, color_system=None)
    console.print(table)
    return console.file.getvalue()


def _best(agents: dict[str, list[int | None]]) -> str:
    res = _planted(agents)
    (row,) = report.headline(res, report.summarize(res))
    return row["best_ce"]


# --- numbers -------------------------------------------------------------------------------

@pytest.mark.parametrize("x,digits,expected", [
    (3741.2, 4, "3,741"), (3741.2, 3, "3,741"), (1465, 2, "1,465"), (999.96, 4, "1,000"),
    (0.0302, 3, "0.0302"), (12.345, 3, "12.3"), (0.000123, 3, "1.23e-04"), (0.0, 3, "0"),
    (-3741.2, 4, "-3,741"), (110, 2, "110"), (776.4, 2, "776"), (52.96, 4, "52.96"),
    (float("nan"), 3, "-"), (None, 3, "-"),
])
def test_number_format(x, digits, expected):
    assert _num(x, digits) == expected


def test_plus_minus_formats_both_parts_alike():
    assert _pm(3741.2, 1465) == "3,741 ± 1,465"
    assert _pm(1649.3, 0.0098) == "1,649 ± 0.0098"
    assert _pm(1211.8, 110.2) == "1,212 ± 110"


def test_rounding_error_prints_as_zero_at_the_problem_scale():
    assert _num(8.88e-16, 3, zero_level({"v_star": 0.0})) == "0"
    assert _num(8.88e-16) == "0"  # below 1e-12 absolute
    # 1e-10 is rounding error for values of size 1e3, not for values of size 1
    assert _num(1e-10, 3, zero_level({"v_star": 1e3})) == "0"
    assert _num(1e-10, 3, zero_level({"v_star": 1.0})) == "1.00e-10"
    assert _pm(8.88e-16, 4e-16, zero_level({"means": [0.5, 0.5]})) == "0 ± 0"


def test_tables_print_rounding_error_as_zero():
    res = _planted({"ce-greedy": [0] * RUNS}, setting="mdp",
                   regret=np.full((1, RUNS, STEPS.size), 8.88e-16))
    res.simple_regret[:] = 8.88e-16
    summary = report.summarize(res)
    for table in (report.mdp_table(summary), report.problem_table(summary)):
        text = _text(table)
        assert "e-16" not in text and "0 ± 0" in text


# --- the Lai-Robbins wording ---------------------------------------------------------------

def test_lai_robbins_is_worded_as_asymptotic_not_a_bound_at_this_horizon():
    res = _planted({"ucb": [3] * RUNS}, info={"lai_robbins": 44.697})
    text = " ".join(_text(report.bandit_table(report.summarize(res))).split())
    assert "regret >=" not in text and "bound on regret" not in text
    assert "liminf E[regret] / ln T >= C" in text  # the brackets survive rich's markup
    log_t = math.log(int(STEPS[-1]))
    assert f"C ln T = {44.697 * log_t:.1f} is a reference curve, not a bound at this T" in text


def test_lai_robbins_legend_says_asymptotic():
    res = _planted({"ucb": [3] * RUNS}, info={"lai_robbins": 44.697})
    fig = plots.regret_figure(res)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    (lr,) = [label for label in labels if label.startswith("Lai-Robbins")]
    assert lr.startswith("Lai-Robbins C ln t (asymptotic)") and "bound" not in lr


# --- the headline's best CE agent ----------------------------------------------------------

def test_best_ce_prefers_every_run_reaching_over_90_percent_at_equal_median():
    # both medians are checkpoint 8 (index 3); the first listed misses epsilon in one run
    assert _best({"ce90": [3] * 9 + [None], "ce100": [3] * RUNS,
                  "reinforce": [6] * RUNS}) == "ce100"


def test_best_ce_share_first_then_median_then_first_listed():
    # a higher share beats a faster median
    assert _best({"fast90": [2] * 9 + [None], "slow100": [4] * RUNS,
                  "reinforce": [6] * RUNS}) == "slow100"
    # at equal share, the smaller median
    assert _best({"slow": [4] * RUNS, "fast": [2] * RUNS, "reinforce": [6] * RUNS}) == "fast"
    # all equal: the first listed
    assert _best({"b": [3] * RUNS, "a": [3] * RUNS, "reinforce": [6] * RUNS}) == "b"
    # no CE median is finite: no best agent
    res = _planted({"never": [None] * RUNS, "reinforce": [6] * RUNS})
    (row,) = report.headline(res, report.summarize(res))
    assert row["best_ce"] is None


def _n(estimate: float, censored: bool = False) -> dict:
    return {"estimate": estimate, "censored": censored}


def test_best_agent_rule():
    assert report.best_agent([0.9, 1.0], [_n(8.0), _n(8.0)]) == 1
    assert report.best_agent([1.0, 1.0], [_n(8.0), _n(8.0)]) == 0
    assert report.best_agent([1.0, 1.0], [_n(8.0), _n(4.0)]) == 1
    # at an equal share (unequal budgets), a measured value beats a censored one
    assert report.best_agent([0.8, 0.8], [_n(512.0, True), _n(64.0)]) == 1
    # some run settled: a censored agent is still a candidate (its ratio is then a bound)
    assert report.best_agent([0.0, 0.5], [_n(512.0, True), _n(512.0, True)]) == 1
    assert report.best_agent([0.0, 1.0], [_n(512.0, True), None]) is None


def test_best_agent_reads_the_quantile_not_the_median():
    # a settles at checkpoint 4 in 8 runs of 10 and never in 2; b at 16 in every run; the
    # share comes first: b. Among equal shares, the (1 - delta) quantile decides, not the
    # median: c has the smaller median (2 against 8) but the larger 90% quantile (256 > 8)
    assert _best({"a": [2] * 8 + [None] * 2, "b": [4] * RUNS, "reinforce": [6] * RUNS}) == "b"
    assert _best({"c": [1] * 8 + [8] * 2, "d": [3] * RUNS, "reinforce": [6] * RUNS}) == "d"


# --- marks: the first checkpoint and the grid ----------------------------------------------

def test_first_checkpoint_is_marked_as_an_upper_bound():
    res = _planted({"ce-greedy": [0] * RUNS, "ucb": [3] * RUNS, "reinforce": [6] * RUNS})
    summary = report.summarize(res)
    assert summary["checkpoints"] == {"count": STEPS.size, "first": 1,
                                      "per_decade": (STEPS.size - 1) / math.log10(512)}
    text = " ".join(_text(report.problem_table(summary)).split())
    assert "<= 1 (100%)" in text  # ce-greedy: within epsilon at the first checkpoint
    assert "<= 8" not in text and " 8 (100%)" in text  # ucb: an ordinary checkpoint value
    assert "at most x" in text and "~3 per decade" in text
    head = report.headline(res, summary)
    assert head[0]["best_ce"] == "ce-greedy"
    text = _text(report.headline_table(head))
    assert "<= 1 (100%)" in text and ">= 64" in text  # the ratio over an upper bound


def test_mdp_table_marks_the_first_checkpoint_in_episodes():  # first checkpoint: 5 steps
    res = _planted({"ce-greedy": [0] * RUNS, "psrl": [2] * RUNS}, setting="mdp")
    text = " ".join(_text(report.mdp_table(report.summarize(res))).split())
    assert "<= 1 (100%)" in text and " 4 (100%)" in text and "per decade" in text


@pytest.mark.parametrize("mode", [None, "exact", "sampled"])
def test_tables_and_the_regret_figure_say_when_the_regret_is_sampled(mode):
    """A sampled regret is named in the caption of both MDP tables and on the regret figure's
    axis; an exact one (or a result saved before the key) is not."""
    res = _planted({"psrl": [2] * RUNS}, setting="mdp")
    if mode is not None:
        res.config["regret"] = mode
    summary = report.summarize(res)
    assert summary["regret"] == mode
    for table in (report.mdp_table(summary), report.problem_table(summary)):
        text = " ".join(_text(table).split())
        assert ("regret: realised returns (sampled)" in text.lower()) == (mode == "sampled")
    labels = {ax.get_ylabel() for ax in plots.regret_figure(res).axes}
    assert labels == {"cumulative regret (realised returns (sampled))" if mode == "sampled"
                      else "cumulative regret (sum of V* - V^pi_k)"}


def test_no_mark_without_a_value_on_the_first_checkpoint():
    res = _planted({"ucb": [3] * RUNS, "reinforce": [6] * RUNS})
    summary = report.summarize(res)
    for table in (report.problem_table(summary),
                  report.headline_table(report.headline(res, summary))):
        text = " ".join(_text(table).split())
        assert "<=" not in text and "at most x" not in text and "per decade" in text


# --- Result's repr -------------------------------------------------------------------------

def test_result_repr_is_compact():
    agents = {f"agent{i}": [3] * 200 for i in range(9)}
    res = _planted(agents)
    text = repr(res)
    assert len(text) < 500 and "array(" not in text and "\n" not in text
    assert "(9, 200, 10)" in text and "planted" in text and "runs=200" in text
    assert "10 checkpoints (1..512)" in text and "seed=0" in text and "agent0" in text


# --- figures -------------------------------------------------------------------------------

def _curves(sr: np.ndarray) -> Result:
    """A one-agent-per-row MDP result with the given simple regret (agents, runs, C)."""
    a, r, c = sr.shape
    return Result("p", "mdp", tuple(f"a{i}" for i in range(a)), np.arange(1, c + 1),
                  np.nan_to_num(sr.cumsum(axis=2)), sr, sr.copy(), {"runs": r}, 5,
                  info={"v_star": 1.0})


ZEROS = np.zeros((2, 3, 8))
CONSTANT = np.full((2, 3, 8), 0.3)
MIXED = np.concatenate([np.zeros((1, 3, 8)), np.full((1, 3, 8), 0.2)])
WITH_NAN = np.where(np.arange(8) % 2, np.nan, 0.5) * np.ones((2, 3, 8))
ALL_NAN = np.full((2, 3, 8), np.nan)


@pytest.mark.parametrize("sr,scale", [(ZEROS, "linear"), (CONSTANT, "log"), (MIXED, "symlog"),
                                      (WITH_NAN, "log"), (ALL_NAN, "linear")])
def test_figures_of_zero_constant_and_nan_curves(tmp_path, sr, scale):
    res = _curves(sr)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # drawn and written without a warning
        paths = plots.plot_result(res, tmp_path)
    assert sorted(p.name for p in paths) == ["p-regret.png", "p-regret.svg", "p-simple.png",
                                             "p-simple.svg"]
    ax = plots.simple_figure(res).axes[0]
    assert ax.get_yscale() == scale
    lines = {line.get_label(): np.asarray(line.get_ydata(), float) for line in ax.get_lines()}
    for i in range(sr.shape[0]):
        if np.all(np.isfinite(sr[i])):
            # every defined curve is drawn whole: a mean of exactly 0 is not left out
            np.testing.assert_allclose(lines[f"a{i}"], sr[i].mean(axis=0))


def test_tiny_means_count_as_zero_on_the_simple_regret_axis():
    ax = plots.simple_figure(_curves(np.full((2, 3, 8), 8.88e-16))).axes[0]
    assert ax.get_yscale() == "linear"


def test_a_figure_that_fails_is_a_warning_and_the_others_are_written(tmp_path, monkeypatch):
    def broken(result, readout):
        raise ValueError("no such axis")

    regret = dict(plots.FIGURES)["regret"]
    monkeypatch.setattr(plots, "FIGURES", (("simple", broken), ("regret", regret)))
    with pytest.warns(RuntimeWarning, match="plot p-simple not drawn: ValueError: no such axis"):
        paths = plots.plot_result(_curves(CONSTANT), tmp_path)
    assert sorted(p.name for p in paths) == ["p-regret.png", "p-regret.svg"]
    assert not list(tmp_path.glob("p-simple*"))


# --- samples to epsilon: n(epsilon, delta), censored values, ratios --------------------------

def test_summary_samples_to_epsilon_is_a_kaplan_meier_quantile():
    # ucb: every run within epsilon from checkpoint 8 on; reinforce: 2 runs from 32 on, 8 never
    res = _planted({"ucb": [3] * RUNS, "reinforce": [5] * 2 + [None] * 8})
    summary = report.summarize(res)
    assert summary["delta"] == 0.1  # the setting's default: the config has no delta
    ucb, rf = summary["agents"]
    # 10 runs: no finite upper end for the 90% quantile ((1 - 0.1)^10 >= 0.025)
    assert ucb["samples_to_epsilon"] == {"estimate": 8.0, "low": 8.0, "high": None,
                                         "censored": False, "delta": 0.1, "unbounded": True}
    assert ucb["reached"] == 1.0
    assert rf["samples_to_epsilon"]["censored"] and rf["samples_to_epsilon"]["estimate"] == 512
    assert rf["reached"] == 0.2
    (row,) = report.headline(res, summary)
    assert row["ratio"] == {"estimate": 512 / 8, "low": None, "high": None,
                            "kind": "lower_bound"}
    assert row["delta"] == 0.1 and "ratio_lower_bound" not in row
    json.dumps({"problems": [summary], "headline": [row]}, allow_nan=False)  # JSON-safe


def test_a_censored_value_is_printed_as_a_lower_bound_never_as_a_number():
    res = _planted({"ucb": [3] * RUNS, "reinforce": [5] * 2 + [None] * 8})
    summary = report.summarize(res)
    text = " ".join(_text(report.problem_table(summary)).split())
    assert "pulls to 0.01 (90% of runs)" in text
    assert "> 512 (20%)" in text and " 8 (100%)" in text
    assert " 512 (20%)" not in text.replace("> 512 (20%)", "")
    head = " ".join(_text(report.headline_table(report.headline(res, summary))).split())
    assert "> 64" in head and "its samples (90% of runs)" in head


def test_delta_comes_from_the_configuration_or_the_argument():
    # 8 runs within epsilon from checkpoint 2 on, 2 from 256 on: the 90% quantile is 256, the
    # 80% quantile 2 (S(2) = 0.2)
    res = _planted({"ucb": [1] * 8 + [8] * 2})
    assert report.summarize(res)["agents"][0]["samples_to_epsilon"]["estimate"] == 256
    assert report.summarize(res, delta=0.2)["agents"][0]["samples_to_epsilon"]["estimate"] == 2
    res.config["delta"] = 0.2
    summary = report.summarize(res)
    assert summary["delta"] == 0.2 and summary["agents"][0]["samples_to_epsilon"]["delta"] == 0.2
    assert "(80% of runs)" in _text(report.bandit_table(summary))
    with pytest.raises(ValueError, match=r"delta must be in \(0, 1\)"):
        report.summarize(res, delta=1.0)


def test_delta_one_half_reproduces_the_old_median():
    # last-exit checkpoints 2, 4, 8, 8, 8, 8, 16, 32, 64, 128: numpy's median (8 + 8) / 2 = 8,
    # the number the median reports printed
    at = [1, 2, 3, 3, 3, 3, 4, 5, 6, 7]
    res = _planted({"ucb": at})
    s2e = report.summarize(res, delta=0.5)["agents"][0]["samples_to_epsilon"]
    assert s2e["estimate"] == np.median(STEPS[at]) == 8


def test_episodes_to_epsilon_is_the_same_quantile_in_episodes():
    res = _planted({"psrl": [3] * 8 + [None] * 2}, setting="mdp")  # censored: 20% never
    (a,) = report.summarize(res)["agents"]
    s, e = a["samples_to_epsilon"], a["episodes_to_epsilon"]
    assert s["censored"] and e["censored"] and e["delta"] == s["delta"]
    assert e["estimate"] == s["estimate"] / 5 and e["low"] == s["low"] / 5
    assert "> 512 (80%)" in _text(report.mdp_table(report.summarize(res)))


@pytest.mark.parametrize("ratio, text", [
    ({"estimate": 30.0, "low": 20.0, "high": 45.0, "kind": "measured"}, "30 [20, 45]"),
    ({"estimate": 30.0, "low": 20.0, "high": None, "kind": "measured"}, "30 [20, ∞]"),
    ({"estimate": 64.0, "low": 12.0, "high": None, "kind": "lower_bound"}, "> 64 [> 12]"),
    ({"estimate": 64.0, "low": None, "high": None, "kind": "lower_bound"}, "> 64"),
    ({"estimate": 0.5, "low": None, "high": 2.0, "kind": "upper_bound"}, "< 0.5 [< 2]"),
    ({"estimate": None, "low": None, "high": None, "kind": "none"}, "- (both censored)"),
])
def test_ratio_cells(ratio, text):
    assert report.ratio_text(ratio) == text


def test_simple_figure_marks_a_censored_samples_to_epsilon_as_a_bound():
    res = _planted({"ucb": [3] * RUNS, "reinforce": [None] * RUNS})
    ax = plots.simple_figure(res).axes[0]
    marks = [(float(line.get_xdata()[0]), line.get_marker(), line.get_markerfacecolor())
             for line in ax.lines if line.get_marker() not in ("None", None, "")]
    assert (8.0, "o", plots.COLOURS[0]) in marks  # ucb: measured, a point at 8
    assert (512.0, ">", "none") in marks  # reinforce: censored, an open triangle at the budget
    assert not any(x == 512.0 and m == "o" for x, m, _ in marks)
    assert len(ax.texts) == 1  # one arrow, reinforce's

"""What celab shows: number formats, table wording and marks, the headline's choice, figures.

Every result here is planted: arrays chosen so that the right answer is known by construction.
"""

import io
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
                  np.zeros_like(sr) if regret is None else regret, sr, config,
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


def test_best_agent_rule():
    assert report.best_agent([0.9, 1.0], [8.0, 8.0]) == 1
    assert report.best_agent([1.0, 1.0], [8.0, 8.0]) == 0
    assert report.best_agent([1.0, 1.0], [8.0, 4.0]) == 1
    assert report.best_agent([0.4, 1.0], [math.inf, None]) is None


# --- marks: the first checkpoint and the grid ----------------------------------------------

def test_first_checkpoint_is_marked_as_an_upper_bound():
    res = _planted({"ce-greedy": [0] * RUNS, "ucb": [3] * RUNS, "reinforce": [6] * RUNS})
    summary = report.summarize(res)
    assert summary["checkpoints"] == {"count": STEPS.size, "first": 1,
                                      "per_decade": (STEPS.size - 1) / math.log10(512)}
    text = _text(report.problem_table(summary))
    assert "<= 1 (100%)" in text  # ce-greedy: within epsilon at the first checkpoint
    assert "<= 8" not in text and " 8 (100%)" in text  # ucb: an ordinary checkpoint value
    assert "at most x" in text and "~3 per decade" in text
    head = report.headline(res, summary)
    assert head[0]["best_ce"] == "ce-greedy"
    text = _text(report.headline_table(head))
    assert "<= 1 (100%)" in text and ">= 64" in text  # the ratio over an upper bound


def test_mdp_table_marks_the_first_checkpoint_in_episodes():  # first checkpoint: 5 steps
    res = _planted({"ce-greedy": [0] * RUNS, "psrl": [2] * RUNS}, setting="mdp")
    text = _text(report.mdp_table(report.summarize(res)))
    assert "<= 1 (100%)" in text and " 4 (100%)" in text and "per decade" in text


def test_no_mark_without_a_value_on_the_first_checkpoint():
    res = _planted({"ucb": [3] * RUNS, "reinforce": [6] * RUNS})
    summary = report.summarize(res)
    for table in (report.problem_table(summary),
                  report.headline_table(report.headline(res, summary))):
        text = _text(table)
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
                  np.nan_to_num(sr.cumsum(axis=2)), sr, {"runs": r}, 5,
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
    def broken(result):
        raise ValueError("no such axis")

    monkeypatch.setattr(plots, "FIGURES", (("simple", broken), ("regret", plots.regret_figure)))
    with pytest.warns(RuntimeWarning, match="plot p-simple not drawn: ValueError: no such axis"):
        paths = plots.plot_result(_curves(CONSTANT), tmp_path)
    assert sorted(p.name for p in paths) == ["p-regret.png", "p-regret.svg"]
    assert not list(tmp_path.glob("p-simple*"))

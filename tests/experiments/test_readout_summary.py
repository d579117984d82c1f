"""Both readouts of simple regret in the summary, the headline and the plots, the readout shown
at the top level chosen by name.

The results here are planted: each agent's greedy and behaviour arrays are chosen by hand, and
every expected number is computed again from those arrays (numpy and scipy), not through
celab's summary code.
"""

import io
import math

import numpy as np
import pytest
from rich.console import Console
from scipy import stats as scipy_stats

from experiments import plots, report
from experiments.report import CE
from tracking import stats
from tracking.results import Result, load_npz, read_npz, save_npz

STEPS = 2 ** np.arange(10)  # checkpoints 1, 2, 4, ..., 512
RUNS = 12
EPS = 0.01
DELTA = 0.1
FIELDS = ("simple_regret_mean", "simple_regret_ci95", "samples_to_epsilon", "reached")


def _settles(at: list[int | None], level: float = 0.1) -> np.ndarray:
    """One agent's simple regret (runs, checkpoints): run r is ``level + r / 1000`` before
    checkpoint index at[r] and 0 from there on (None: never within epsilon)."""
    sr = np.array([np.full(STEPS.size, level + r / 1000) for r in range(len(at))])
    for r, k in enumerate(at):
        if k is not None:
            sr[r, k:] = 0.0
    return sr


#: Per agent: (greedy, behaviour) settling indices per run; "same" agents share one array.
GREEDY_AT = [1, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 8]
PLANTED = {
    # greedy settles in every run; behaviour (a softmax, say) never does: censored
    "ucb": (GREEDY_AT, [None] * RUNS),
    # both readouts the same arrays
    "ce-greedy": ([2] * RUNS, "same"),
    # policy gradient: greedy settles late, behaviour in half of the runs
    "reinforce": ([8] * RUNS, [5] * 6 + [None] * 6),
}


def _planted(setting: str = "bandit", agents: dict | None = None) -> Result:
    agents = PLANTED if agents is None else agents
    greedy = np.stack([_settles(g) for g, _ in agents.values()])
    behaviour = np.stack([greedy[i].copy() if b == "same" else _settles(b, 0.2)
                          for i, (_, b) in enumerate(agents.values())])
    names = list(agents)
    families = ["policy-gradient" if n == "reinforce" else CE for n in names]
    config = {"runs": RUNS, "seed": 0, "horizon": int(STEPS[-1]), "epsilon": EPS,
              "name": "planted", "setting": setting, "checkpoints": STEPS.tolist(),
              "agents": names}
    if setting == "mdp":  # H = 5 steps per episode
        config.update(horizon=5, episodes=int(STEPS[-1]))
    base = {"lai_robbins": None, "means": [0.5, 0.4]} if setting == "bandit" else {"v_star": 2.0}
    regret = np.cumsum(greedy + behaviour, axis=2)
    extra = {"pulls": np.tile([500, 12], (len(names), RUNS, 1))} if setting == "bandit" else {}
    return Result("planted", setting, tuple(names), STEPS.copy(), regret, greedy, behaviour,
                  config, samples_per_step=5 if setting == "mdp" else 1, extra=extra,
                  info={**base, "agent_names": names, "families": families})


def _expected(sr: np.ndarray, per_step: int = 1) -> dict:
    """The numbers of one readout (runs, checkpoints), from the arrays alone: the mean and the
    Student-t half-width at the last checkpoint; the last-exit time of each run (the first
    checkpoint from which it stays <= epsilon); with every run settled, n(epsilon, delta) is the
    ceil((1 - delta) runs)-th smallest of them; with more than delta of the runs never
    settled, the budget, censored."""
    last = sr[:, -1]
    half = scipy_stats.t.ppf(0.975, RUNS - 1) * last.std(ddof=1) / math.sqrt(RUNS)
    samples = STEPS * per_step
    within = sr <= EPS
    reached = float(within[:, -1].mean())
    if reached == 1.0:
        # every run settled: its last-exit time is the checkpoint after its last one above
        exits = []
        for row in within:
            above = np.flatnonzero(~row)
            exits.append(samples[above[-1] + 1] if above.size else samples[0])
        k = math.ceil(round((1 - DELTA) * RUNS, 9))
        estimate, censored = float(np.sort(exits)[k - 1]), False
    else:
        assert 1 - reached > DELTA  # these plants: too few settle, the quantile is censored
        estimate, censored = float(samples[-1]), True
    return {"mean": float(last.mean()), "half": float(half), "estimate": estimate,
            "censored": censored, "reached": reached}


def _check(entry: dict, sr: np.ndarray, per_step: int = 1) -> None:
    want = _expected(sr, per_step)
    assert entry["simple_regret_mean"] == pytest.approx(want["mean"], rel=1e-12)
    assert entry["simple_regret_ci95"] == pytest.approx(want["half"], rel=1e-9)
    s2e = entry["samples_to_epsilon"]
    assert (s2e["estimate"], s2e["censored"], s2e["delta"]) == \
        (want["estimate"], want["censored"], DELTA)
    assert entry["reached"] == want["reached"]


def test_the_summary_holds_both_readouts_computed_from_the_arrays():
    res = _planted()
    summary = report.summarize(res)
    assert summary["readout"] == "greedy"
    for i, agent in enumerate(summary["agents"]):
        assert set(agent["readouts"]) == {"greedy", "behaviour"}
        for name in ("greedy", "behaviour"):
            assert set(agent["readouts"][name]) == set(FIELDS)
            _check(agent["readouts"][name], res.readout(name)[i])
    ucb = summary["agents"][0]["readouts"]
    # the planted case: greedy settles in every run, behaviour in none (censored at 512)
    assert not ucb["greedy"]["samples_to_epsilon"]["censored"] and ucb["greedy"]["reached"] == 1
    assert ucb["behaviour"]["samples_to_epsilon"]["censored"]
    assert ucb["behaviour"]["samples_to_epsilon"]["estimate"] == 512
    assert ucb["behaviour"]["reached"] == 0


@pytest.mark.parametrize("readout", ["greedy", "behaviour"])
def test_the_top_level_is_the_chosen_readout(readout):
    res = _planted()
    summary = report.summarize(res, readout=readout)
    other = report.summarize(res, readout="behaviour" if readout == "greedy" else "greedy")
    assert summary["readout"] == readout
    for i, agent in enumerate(summary["agents"]):
        assert {k: agent[k] for k in FIELDS} == agent["readouts"][readout]
        _check(agent, res.readout(readout)[i])
        # what does not depend on the readout is the same either way
        for key in ("regret_mean", "regret_ci95", "growth", "regret_over_log_t",
                    "best_arm_share", "readouts", "readouts_coincide"):
            assert agent[key] == other["agents"][i][key], key


def test_readouts_coincide_only_where_the_arrays_are_identical():
    res = _planted()
    flags = {a["agent"]: a["readouts_coincide"] for a in report.summarize(res)["agents"]}
    assert flags == {"ucb": False, "ce-greedy": True, "reinforce": False}
    # one value apart is enough to differ
    behaviour = res.simple_regret_behaviour.copy()
    behaviour[1, 3, 0] += 1e-9
    from dataclasses import replace

    nudged = report.summarize(replace(res, simple_regret_behaviour=behaviour))
    assert not nudged["agents"][1]["readouts_coincide"]


def test_episodes_to_epsilon_follow_the_chosen_readout():
    res = _planted("mdp")
    for readout in ("greedy", "behaviour"):
        for i, agent in enumerate(report.summarize(res, readout=readout)["agents"]):
            _check(agent, res.readout(readout)[i], per_step=5)
            assert agent["episodes_to_epsilon"]["estimate"] == \
                agent["readouts"][readout]["samples_to_epsilon"]["estimate"] / 5


def test_an_unknown_readout_is_refused():
    res = _planted()
    with pytest.raises(ValueError, match="readout must be one of greedy, behaviour, got 'soft'"):
        report.summarize(res, readout="soft")
    summary = report.summarize(res)
    with pytest.raises(ValueError, match="readout must be one of greedy, behaviour"):
        report.with_readout(res, summary, "Greedy")
    with pytest.raises(ValueError, match="readout must be one of greedy, behaviour"):
        plots.plot_result(res, "unused", readout="mean")


@pytest.mark.parametrize("setting", ["bandit", "mdp"])
def test_with_readout_equals_summarizing_with_that_readout(setting):
    res = _planted(setting)
    greedy = report.summarize(res)
    behaviour = report.summarize(res, readout="behaviour")
    assert report.with_readout(res, greedy, "behaviour") == behaviour
    assert report.with_readout(res, behaviour, "greedy") == greedy
    assert greedy["readout"] == "greedy"  # not changed in place
    whole = {"problems": [greedy], "headline": report.headline(res, greedy), "plots": ["x"]}
    assert report.choose_readout([res], whole, "greedy") is whole
    chosen = report.choose_readout([res], whole, "behaviour")
    assert chosen == {"problems": [behaviour], "headline": report.headline(res, behaviour),
                      "plots": ["x"]}


def test_the_headline_reads_every_agent_with_the_chosen_readout():
    # greedy: "fast" is the best CE agent; behaviour: only "slow" settles in every run
    res = _planted(agents={"fast": ([2] * RUNS, [3] * 6 + [None] * 6),
                           "slow": ([5] * RUNS, [6] * RUNS),
                           "reinforce": ([7] * RUNS, [8] * RUNS)})
    for readout, best in (("greedy", "fast"), ("behaviour", "slow")):
        summary = report.summarize(res, readout=readout)
        (row,) = report.headline(res, summary)
        assert row["readout"] == readout and row["best_ce"] == best
        by = {a["agent"]: a for a in summary["agents"]}
        assert row["reinforce_samples"] == by["reinforce"]["readouts"][readout][
            "samples_to_epsilon"]
        assert row["best_ce_samples"] == by[best]["readouts"][readout]["samples_to_epsilon"]
        j, b = res.agent_index("reinforce"), res.agent_index(best)
        exits = [stats.last_exit_times(res.samples, res.readout(readout)[k], EPS) for k in (j, b)]
        assert row["ratio"] == stats.quantile_ratio(*exits, DELTA, seed=j).as_dict()
    assert row["ratio"]["estimate"] == 2 ** 8 / 2 ** 6  # behaviour: 256 / 64


def _text(table) -> str:
    console = Console(file=io.StringIO(), width=250, color_system=None)
    console.print(table)
    return " ".join(console.file.getvalue().split())


def test_tables_name_the_readout_they_show():
    res = _planted()
    for readout in ("greedy", "behaviour"):
        summary = report.summarize(res, readout=readout)
        for table in (report.problem_table(summary), report.bandit_table(summary),
                      report.headline_table(report.headline(res, summary))):
            text = _text(table)
            assert f"the {readout} readout of every agent" in text
            other = "behaviour" if readout == "greedy" else "greedy"
            assert f"{other} readout" not in text
    mdp = report.summarize(_planted("mdp"), readout="behaviour")
    assert "the behaviour readout of every agent" in _text(report.mdp_table(mdp))
    # the numbers shown are the chosen readout's: 11 of ucb's 12 greedy runs have settled by
    # 128 pulls, none of its behaviour runs ever does
    greedy_text = _text(report.problem_table(report.summarize(res)))
    behaviour_text = _text(report.problem_table(report.summarize(res, readout="behaviour")))
    assert "128 (100%)" in greedy_text and "> 512 (0%)" not in greedy_text
    assert "> 512 (0%)" in behaviour_text and "128 (100%)" not in behaviour_text


def test_the_simple_regret_figure_draws_the_chosen_readout():
    pytest.importorskip("matplotlib")
    res = _planted()
    for readout in ("greedy", "behaviour"):
        ax = plots.simple_figure(res, readout).axes[0]
        assert f"{readout} readout" in ax.get_ylabel()
        lines = {line.get_label(): np.asarray(line.get_ydata(), float)
                 for line in ax.get_lines()}
        for i, agent in enumerate(res.agents):
            np.testing.assert_allclose(lines[agent], res.readout(readout)[i].mean(axis=0))


def test_a_result_of_an_earlier_version_loads_and_summarises(tmp_path):
    """One ``simple_regret`` (an earlier version's file): both readouts are that array, every
    agent's readouts coincide, the summary and the tables say the result is of that kind."""
    res = _planted()
    path = save_npz(res, tmp_path / "old.npz")
    arrays = read_npz(path)
    one = arrays.pop("simple_regret_behaviour")  # the one array: here the behaviour readout
    del arrays["simple_regret_greedy"]
    np.savez(path, simple_regret=one, **arrays)
    old = load_npz(path)
    for readout in ("greedy", "behaviour"):
        summary = report.summarize(old, readout=readout)
        assert summary["info"]["readouts"] == "legacy"
        for i, agent in enumerate(summary["agents"]):
            assert agent["readouts_coincide"]
            assert agent["readouts"]["greedy"] == agent["readouts"]["behaviour"]
            _check(agent, one[i])
        assert "earlier celab version" in _text(report.problem_table(summary))
    assert "earlier celab version" not in _text(report.problem_table(report.summarize(res)))

"""celab tune: the [tune] table, the tuning seeds, the ranking, equal budgets, the command."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import bandits
from bandits.agents import UCB, Reinforce
from bandits.envs import RandomTestbed
from bandits.loop import BanditJob
from experiments import files
from experiments import tune as tuning
from tests.cli_helpers import messages, run_main
from tracking import tomlio
from tracking.results import Result, load_npz
from tracking.rng import TUNING_BRANCH, run_seeds

ROOT = Path(__file__).resolve().parents[2]

PROBLEM = """\
seed = 3

[[problem]]
setting = "bandit"
name = "two-arms"
means = [0.2, 0.8]
horizon = 300
runs = 6
agents = ["ucb", "reinforce"]
"""
#: alpha = 1e-9 leaves REINFORCE's softmax uniform over the horizon (regret about 0.3 per
#: round, ~90 in all), alpha = 0.5 learns the better arm within tens of rounds: on any seeds
#: the second is far better.
TUNE = """
[tune]
objective = "regret"
runs = 5
reinforce = { alpha = [1e-9, 0.5] }
"""


def _result(greedy: np.ndarray, regret: np.ndarray, checkpoints=(1, 10, 100),
            epsilon=0.1, delta=0.25) -> Result:
    """A bandit result of hand-made curves: greedy (agents, runs, checkpoints) simple regret,
    regret (agents, runs) final cumulative regret (spread evenly over the checkpoints)."""
    cps = np.array(checkpoints, dtype=np.int64)
    greedy = np.asarray(greedy, dtype=np.float64)
    final = np.asarray(regret, dtype=np.float64)[..., None]
    curves = final * (cps / cps[-1])
    agents = tuple(f"ucb(c={i + 1}.0)" for i in range(greedy.shape[0]))
    return Result("planted", "bandit", agents, cps, curves, greedy, greedy.copy(),
                  {"runs": greedy.shape[1], "epsilon": epsilon, "delta": delta})


# --- ranking on planted results ----------------------------------------------------------------

def test_samples_rank_measured_first_then_censored_by_share_then_simple_regret():
    """Four runs each, checkpoints 1, 10, 100, epsilon 0.1, delta 0.25 (n is the 75% quantile
    of the last-exit times). Candidate 0 settles at 100 in every run, 1 at 10; 2 at 10 in 3 of
    4 runs (1 - delta of them: measured, 10, a tie with 1); 3 and 4 in 2 runs only (censored),
    4 with the smaller final simple regret; 5 never; 6 in one run, its other runs' final simple
    regret small."""
    hi, lo = 1.0, 0.0
    greedy = [
        [[hi, hi, lo]] * 4,                                             # settles at 100
        [[hi, lo, lo]] * 4,                                             # settles at 10
        [[hi, lo, lo]] * 3 + [[hi, hi, hi]],                            # 75%: measured, 10
        [[hi, lo, lo]] * 2 + [[hi, hi, hi]] * 2,                        # 50%, censored
        [[hi, lo, lo]] * 2 + [[hi, hi, 0.5]] * 2,                       # 50%, smaller regret
        [[hi, hi, hi]] * 4,                                             # never
        [[hi, lo, lo]] + [[hi, hi, 0.2]] * 3,                           # 25%, smallest regret
    ]
    res = _result(greedy, np.zeros((7, 4)))
    scores = [tuning.score(res, i, "samples") for i in range(7)]
    assert [s.censored for s in scores] == [False, False, False, True, True, True, True]
    assert [s.reached for s in scores] == [1.0, 1.0, 0.75, 0.5, 0.5, 0.0, 0.25]
    assert scores[0].objective == 100 and scores[1].objective == 10 == scores[2].objective
    assert scores[6].simple_regret < scores[4].simple_regret < scores[3].simple_regret
    # measured by n (2 before 0 despite its smaller share), 1 and 2 tie at 10: the first in
    # grid order wins; then the censored, by share first (6 after 3 and 4), then regret
    assert tuning.rank(scores, "samples") == [1, 2, 0, 4, 3, 6, 5]


def test_ties_go_to_the_first_in_grid_order():
    same = tuning.Score(50.0, 40.0, 60.0, False, 1.0, 0.0, 3.0)
    censored = tuning.Score(100.0, 100.0, np.inf, True, 0.5, 0.2, 3.0)
    assert tuning.rank([censored, same, same, censored], "samples") == [1, 2, 0, 3]
    assert tuning.rank([censored, same, same, censored], "regret") == [0, 1, 2, 3]


def test_regret_objective_ranks_by_final_mean_regret():
    res = _result(np.zeros((3, 4, 3)), [[5, 7, 6, 6], [1, 2, 9, 0], [4, 4, 4, 4]])
    scores = [tuning.score(res, i, "regret") for i in range(3)]
    assert [s.objective for s in scores] == [6.0, 3.0, 4.0]
    assert not any(s.censored for s in scores)
    assert scores[2].low == scores[2].high == 4.0  # no spread: a zero-width interval
    assert tuning.rank(scores, "regret") == [1, 2, 0]
    # a censored candidate (never settled) is not ranked last when the objective is regret
    greedy = np.zeros((3, 4, 3))
    greedy[1] = 1.0
    assert tuning.rank([tuning.score(_result(greedy, [[5] * 4, [1] * 4, [3] * 4]), i,
                                     "regret") for i in range(3)], "regret") == [1, 2, 0]


def test_edges_of_numeric_grids_only():
    grid = {"alpha": [0.1, 0.3, 1.0], "baseline": [True, False], "c": [2.0]}
    assert tuning.edges(grid, {"alpha": 0.3, "baseline": True, "c": 2.0}) == []
    assert tuning.edges(grid, {"alpha": 1.0, "baseline": False, "c": 2.0}) == [
        ("alpha", 0.1, 1.0)]
    assert tuning.edges({"m": [5, 1, 3]}, {"m": 1}) == [("m", 1, 5)]


# --- budgets -----------------------------------------------------------------------------------

@pytest.mark.parametrize("counts", [[2, 5], [3, 5], [4], [7, 1, 3]])
def test_equal_runs_give_the_largest_budget_to_everyone(counts):
    runs = 4
    got = tuning.equal_runs(counts, runs)
    budget = max(c * runs for c in counts)
    for c, r in zip(counts, got):
        assert c * r <= budget < c * (r + 1)  # floor(budget / c)
    assert got[counts.index(max(counts))] == runs


def test_equal_budget_file(tmp_path):
    text = PROBLEM + """
[tune]
runs = 3
budget = "equal"
ucb = { c = [0.5, 1.0, 2.0, 4.0] }
reinforce = { alpha = [0.1, 0.5] }
"""
    plan = tuning.plan(files.parse(text, "exp.toml"))
    (ucb, rf) = plan.entries
    assert (ucb.runs, rf.runs) == (3, 6)
    assert ucb.job.total_samples == rf.job.total_samples == 4 * 3 * 300
    plain = tuning.plan(files.parse(text.replace('budget = "equal"\n', ""), "exp.toml"))
    assert [e.runs for e in plain.entries] == [3, 3]


def test_every_runs_the_agents_without_a_grid_as_their_one_candidate():
    """every = true: ucb (no grid) is an entry with one candidate, itself, and with equal
    budgets it gets as many tuning samples as reinforce's two candidates."""
    text = PROBLEM + TUNE.replace('objective = "regret"', 'every = true\nbudget = "equal"')
    ucb, rf = tuning.plan(files.parse(text, "exp.toml")).entries
    assert (ucb.spec, ucb.candidates, ucb.grid) == ("ucb", [UCB().spec], {})
    assert (ucb.runs, rf.runs) == (10, 5)
    assert ucb.job.total_samples == rf.job.total_samples
    only = tuning.plan(files.parse(PROBLEM + "\n[tune]\nevery = true\n", "exp.toml"))
    assert [e.candidates for e in only.entries] == [[UCB().spec], [Reinforce().spec]]
    default = tuning.plan(files.parse(PROBLEM + TUNE, "exp.toml"))
    assert [e.spec for e in default.entries] == ["reinforce"]


def test_a_problems_own_tune_table_replaces_the_grid_of_its_agent_there_only():
    """A problem's ``tune`` grid (here with bonus) replaces [tune]'s grid of reinforce in
    that problem; the other problem keeps [tune]'s; equal budgets see the larger grid."""
    own = PROBLEM.replace('agents = ["ucb", "reinforce"]', 'agents = ["ucb", "reinforce"]\n'
                          'tune = { reinforce = { alpha = [0.1, 0.5], bonus = [0.0, 1.0] } }')
    other = PROBLEM.split("[[problem]]")[1].replace('"two-arms"', '"other"')
    text = own + "\n[[problem]]" + other + TUNE.replace('objective = "regret"',
                                                         'budget = "equal"')
    parsed = files.parse(text, "exp.toml")
    assert "tune" not in parsed["problems"][0]  # not part of the problem's configuration
    mine, theirs = tuning.plan(parsed).entries
    assert mine.grid == {"alpha": [0.1, 0.5], "bonus": [0.0, 1.0]}
    assert mine.candidates == [Reinforce(alpha=a, bonus=b).spec
                               for a in (0.1, 0.5) for b in (0.0, 1.0)]
    assert theirs.grid == {"alpha": [1e-9, 0.5]} and len(theirs.candidates) == 2
    alone = own + "\n[tune]\nruns = 2\n"  # a problem's grid alone is a [tune] to run
    assert [len(e.candidates) for e in tuning.plan(files.parse(alone, "exp.toml")).entries] == [4]


def test_the_tuning_runs_of_an_until_problem_stop_once_some_candidate_is_measured():
    text = PROBLEM.replace("horizon = 300", 'horizon = 300\nbudget = "until"\ncap = 1200')
    entry, = tuning.plan(files.parse(text + TUNE, "exp.toml")).entries
    assert entry.job.stop == "any" and entry.job.config["stop"] == "any"
    evaluation, = files.build_jobs(files.parse(text, "exp.toml"))
    assert evaluation.stop == "all" and "stop" not in evaluation.config
    # [tune] stop = "all": the tuning runs double until every candidate settles, as the
    # evaluation does; a bad value names the key
    strict, = tuning.plan(files.parse(text + TUNE + 'stop = "all"\n', "exp.toml")).entries
    assert strict.job.stop == "all"
    with pytest.raises(files.FileError, match="stop must be one of all, any"):
        tuning.plan(files.parse(text + TUNE + 'stop = "some"\n', "exp.toml"))


@pytest.mark.parametrize("grid, words", [
    ("{ thompson = { c = [1.0] } }",
     "tune: agent 'thompson' is not an agent of problem 'two-arms'"),
    ("{ reinforce = { alpha = [] } }", "tune.reinforce.alpha is an empty grid"),
    ("3", "a problem's tune must be a table of agent names"),
])
def test_a_bad_problem_tune_table_points_at_its_line(grid, words):
    text = PROBLEM.replace("runs = 6", f"runs = 6\ntune = {grid}") + TUNE
    with pytest.raises(files.FileError, match=rf"^exp.toml:9: {words}"):
        tuning.plan(files.parse(text, "exp.toml"))


# --- seeds ---------------------------------------------------------------------------------------

def test_tuning_and_evaluation_seeds_never_meet():
    n = 100_000
    evaluation = run_seeds(0, n)
    tuning_seeds = run_seeds(0, n, branch=TUNING_BRANCH)
    assert np.unique(evaluation).size == n and np.unique(tuning_seeds).size == n
    assert np.intersect1d(evaluation, tuning_seeds).size == 0
    # the evaluation branch is the formula of every earlier version: its numbers are unchanged
    old = [np.random.SeedSequence(0, spawn_key=(r,)).generate_state(1, np.uint64)[0]
           for r in (0, 1, 999, n - 1)]
    assert list(evaluation[[0, 1, 999, n - 1]]) == old
    assert np.array_equal(run_seeds(0, 5, start=10, branch=TUNING_BRANCH), tuning_seeds[10:15])


def test_a_job_on_the_tuning_branch_runs_other_seeds_and_says_so():
    job = BanditJob("close10", "ucb", 50, 3, seed=4)
    assert np.array_equal(job.run_seeds(0, 3), run_seeds(4, 3))
    assert "branch" not in job.config
    job.set_branch(TUNING_BRANCH)
    assert np.array_equal(job.run_seeds(1, 3), run_seeds(4, 2, start=1, branch=TUNING_BRANCH))
    assert list(job.config)[list(job.config).index("seed") + 1] == "branch"
    from tracking.runner import execute

    tuned = execute(job)
    evaluation = bandits.run("close10", "ucb", 50, 3, seed=4)
    assert not np.array_equal(tuned.regret, evaluation.regret)


def test_per_run_instances_take_the_branch_too():
    testbed = RandomTestbed(4)
    plain = testbed.run_means(1, 0, 3)
    old = np.random.default_rng(np.random.SeedSequence(1, spawn_key=(2, 2**31))).normal(0, 1, 4)
    assert np.array_equal(plain[2], old)
    other = testbed.run_means(1, 0, 3, TUNING_BRANCH)
    assert not np.any(np.isin(other, plain))


def test_every_candidate_of_a_problem_sees_the_same_tuning_seeds():
    text = PROBLEM + '\n[tune]\nruns = 4\nucb = { c = [1.0, 2.0] }\nreinforce = { alpha = [0.5] }\n'
    plan = tuning.plan(files.parse(text, "exp.toml"))
    seeds = [e.job.run_seeds(0, 4) for e in plan.entries]
    assert np.array_equal(seeds[0], seeds[1])
    assert np.array_equal(seeds[0], run_seeds(3, 4, branch=TUNING_BRANCH))


# --- the file ------------------------------------------------------------------------------------

def test_run_accepts_and_ignores_tune_and_tuning():
    text = PROBLEM + TUNE + '\n[tuning]\nobjective = "regret"\n'
    assert files.parse(text)["problems"] == files.parse(PROBLEM)["problems"]


def test_candidates_keep_the_other_parameters():
    text = PROBLEM.replace('"reinforce"', '"reinforce:baseline=false"') + TUNE
    (entry,) = tuning.plan(files.parse(text, "exp.toml")).entries
    # every candidate is the agent of the problem with alpha set: baseline stays none
    expected = [Reinforce(alpha=a, baseline=False).spec for a in (1e-9, 0.5)]
    assert entry.candidates == expected
    assert all("baseline=none" in c for c in entry.candidates)
    grid = {"c": [0.1, 1.0], "delta": [0.05, 0.1]}
    assert tuning.points(grid) == [{"c": 0.1, "delta": 0.05}, {"c": 0.1, "delta": 0.1},
                                   {"c": 1.0, "delta": 0.05}, {"c": 1.0, "delta": 0.1}]


BAD = [
    ('reinforce = { alpha = [] }', 12, "empty grid"),
    ('reinforce = { alpa = [0.1] }', 12, "no parameter 'alpa'"),
    ('reinforce = { alpha = [0.1, -1.0] }', 12, "alpha must be"),
    ('thompson = { x = [1] }', 12, "'thompson' is in no problem"),
    ('horizon = 5', 12, "unknown key 'horizon' in [tune]"),
    ('objective = "speed"', 12, "objective must be one of samples, regret"),
    ('runs = 0', 12, "runs must be >= 1"),
    ('budget = "more"', 12, "budget must be one of"),
    ('reinforce = { alpha = 0.1 }', 12, "must be a list"),
    ('reinforce = { alpha = [1, 1.0] }', 12, "the same candidate"),
    ('ucb = 2', 12, "must be a table"),
    ('objective = "regret"', 11, "names no agent to tune"),
    ('every = 1', 12, "every must be true or false"),
]


@pytest.mark.parametrize("line, number, words", BAD)
def test_bad_tune_tables_are_one_line_with_the_file_line(monkeypatch, capsys, tmp_path, line,
                                                         number, words):
    exp = tmp_path / "exp.toml"
    exp.write_text(PROBLEM + f"\n[tune]\n{line}\n")
    code, out, err = run_main(monkeypatch, capsys, "tune", str(exp), "--out",
                              str(tmp_path / "out"))
    assert code == 2 and out == ""
    lines = messages(err)
    assert len(lines) == 1 and lines[0].startswith(f"error: {exp}:{number}: "), lines
    assert words in lines[0]
    assert not (tmp_path / "out").exists()


def test_a_subtable_grid_points_at_its_header(tmp_path):
    text = PROBLEM + "\n[tune.reinforce]\nalpha = []\n"
    with pytest.raises(files.FileError, match=r"^exp.toml:11: tune.reinforce.alpha is an empty"):
        tuning.plan(files.parse(text, "exp.toml"))


def test_no_tune_table_and_candidates_that_collide(tmp_path):
    with pytest.raises(files.FileError, match="no \\[tune\\] table"):
        tuning.plan(files.parse(PROBLEM, "exp.toml"))
    two = PROBLEM.replace('["ucb", "reinforce"]', '["reinforce:alpha=0.2", "reinforce"]')
    with pytest.raises(files.FileError, match="must stay distinct"):
        tuning.plan(files.parse(two + TUNE, "exp.toml"))


# --- the command ---------------------------------------------------------------------------------

def test_tune_picks_the_learning_candidate_warns_at_the_edge_and_runs(monkeypatch, capsys,
                                                                      tmp_path):
    exp = tmp_path / "exp.toml"
    exp.write_text(PROBLEM + TUNE)
    out = tmp_path / "out"
    code, stdout, err = run_main(monkeypatch, capsys, "tune", str(exp), "--out", str(out))
    assert code == 0, err
    assert messages(err) == ["warning: two-arms: reinforce: alpha = 0.5 is at the edge of its "
                             "grid [1e-09, 0.5]; the best value may lie beyond it"]
    assert "✓" in stdout and "celab run" in stdout
    text = (out / "tuned.toml").read_text()
    record = tomlio.loads(text)["tuning"]
    assert record["branch"] == TUNING_BRANCH and record["objective"] == "regret"
    (agent,) = record["agents"]
    assert agent["chosen"] == Reinforce(alpha=0.5).spec
    assert agent["samples"] == 2 * 5 * 300 and agent["at_edge"] == ["alpha"]
    # the record's numbers are those of the saved tuning runs, which are runs on the tuning seeds
    saved = load_npz(out / "tuning" / "results" / "two-arms.1.reinforce.npz")
    assert saved.config["branch"] == TUNING_BRANCH and saved.runs == 5
    job = BanditJob(bandits.envs.Bernoulli([0.2, 0.8], name="x"),
                    ["reinforce:alpha=1e-9", "reinforce:alpha=0.5"], 300, 5, seed=3)
    job.set_branch(TUNING_BRANCH)
    from tracking.runner import execute

    direct = execute(job)
    assert np.array_equal(saved.regret, direct.regret)
    regrets = [c["regret"] for c in agent["candidates"]]
    assert regrets == [float(x) for x in direct.regret[:, :, -1].mean(axis=1)]
    assert regrets[1] < regrets[0] / 3
    # the tuned file evaluates on the evaluation seeds
    code, _, err = run_main(monkeypatch, capsys, "run", str(out / "tuned.toml"), "--out",
                            str(tmp_path / "eval"), "--no-plots")
    assert code == 0, err
    evaluated = load_npz(tmp_path / "eval" / "results" / "two-arms.npz")
    assert evaluated.agents == ("ucb", "reinforce(alpha=0.5)")
    ref = bandits.run(bandits.envs.Bernoulli([0.2, 0.8]), ["ucb", "reinforce:alpha=0.5"], 300,
                      6, seed=3)
    assert np.array_equal(evaluated.regret, ref.regret)


def test_tune_json_and_a_second_tuning_into_the_same_folder(monkeypatch, capsys, tmp_path):
    exp = tmp_path / "exp.toml"
    exp.write_text(PROBLEM + TUNE)
    out = tmp_path / "out"
    code, stdout, _ = run_main(monkeypatch, capsys, "tune", str(exp), "--out", str(out),
                               "--json", "--delta", "0.2")
    assert code == 0
    doc = json.loads(stdout)
    assert doc["tuned"] == str(out / "tuned.toml") and doc["agents"][0]["delta"] == 0.2
    assert [c["chosen"] for c in doc["agents"][0]["candidates"]] == [False, True]
    assert files.read(out / "tuned.toml")["problems"][0]["delta"] == 0.2
    code, _, err = run_main(monkeypatch, capsys, "tune", str(exp), "--out", str(out))
    assert code == 2 and "already holds a tuning" in messages(err)[0]
    code, _, err = run_main(monkeypatch, capsys, "tune", str(exp), "--out", str(tmp_path / "new"),
                            "--resume")
    assert code == 2 and "holds no tuning to resume" in messages(err)[0]


def test_interrupted_tuning_resumes_to_the_uninterrupted_numbers(tmp_path):
    """Two runs per batch (CELAB_BATCH_WORK=1), each batch a second or so: SIGINT once the
    first batch is saved keeps the completed runs; --resume finishes them, with the numbers of
    a tuning in one go."""
    exp = tmp_path / "exp.toml"
    exp.write_text(PROBLEM.replace("horizon = 300", "horizon = 5000000") + TUNE.replace(
        "runs = 5", "runs = 8"))
    env = dict(os.environ, CELAB_BATCH_WORK="1", NUMBA_NUM_THREADS="2")
    celab = [sys.executable, "-m", "cli", "tune", str(exp), "--out", str(tmp_path / "out")]
    proc = subprocess.Popen(celab, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    saved = tmp_path / "out" / "tuning" / "results" / "two-arms.1.reinforce.npz"
    deadline = time.monotonic() + 120
    while not saved.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert saved.exists(), proc.communicate()[1]
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    (line,) = messages(err)
    assert line.startswith("error: interrupted by SIGINT") and "--resume" in line
    assert 0 < load_npz(saved).runs < 8
    assert not (tmp_path / "out" / "tuned.toml").exists()
    done = subprocess.run([*celab, "--resume", "--json"], cwd=ROOT, env=env, text=True,
                          capture_output=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    again = subprocess.run([sys.executable, "-m", "cli", "tune", str(exp), "--out",
                            str(tmp_path / "again"), "--json"], cwd=ROOT, env=env, text=True,
                           capture_output=True, stdin=subprocess.DEVNULL)
    assert again.returncode == 0, again.stderr
    resumed, whole = json.loads(done.stdout), json.loads(again.stdout)
    assert resumed["agents"] == whole["agents"]
    assert np.array_equal(load_npz(saved).regret, load_npz(
        tmp_path / "again" / "tuning" / "results" / "two-arms.1.reinforce.npz").regret)


def test_branch_key_marks_tuning_runs_and_takes_one_value():
    tuned = files.parse(PROBLEM.replace("runs = 6", f"runs = 6\nbranch = {TUNING_BRANCH}"))
    (job,) = files.build_jobs(tuned)
    assert job.branch == TUNING_BRANCH
    assert np.array_equal(job.run_seeds(0, 6), run_seeds(3, 6, branch=TUNING_BRANCH))
    with pytest.raises(files.FileError, match=f"^exp.toml:9: branch must be {TUNING_BRANCH}"):
        files.parse(PROBLEM.replace("runs = 6", "runs = 6\nbranch = 5"), "exp.toml")


def test_tuned_problems_run_on_the_evaluation_seeds():
    """Tuning a tuning folder's config.toml (problems with ``branch``): the tuned file's
    problems have no branch."""
    text = PROBLEM.replace("runs = 6", f"runs = 6\nbranch = {TUNING_BRANCH}") + TUNE
    plan = tuning.plan(files.parse(text, "exp.toml"))
    record = {"agents": [{"chosen": plan.entries[0].candidates[1]}]}
    (table,) = tuning.tuned_tables(plan, record)
    assert "branch" not in table and table["agents"][1] == Reinforce(alpha=0.5).spec
    assert plan.entries[0].job.branch == TUNING_BRANCH


def test_the_tuning_folder_is_a_results_folder(monkeypatch, capsys, tmp_path):
    exp = tmp_path / "exp.toml"
    exp.write_text(PROBLEM + TUNE)
    out = tmp_path / "out"
    assert run_main(monkeypatch, capsys, "tune", str(exp), "--out", str(out))[0] == 0
    code, stdout, err = run_main(monkeypatch, capsys, "report", str(out / "tuning"), "--json",
                                 "--no-plots")
    assert code == 0, err
    (problem,) = json.loads(stdout)["problems"]
    assert problem["problem"] == "two-arms.1.reinforce" and problem["runs"] == 5
    # rerunning its config.toml gives the tuning runs again, bit for bit
    code, _, err = run_main(monkeypatch, capsys, "run", str(out / "tuning" / "config.toml"),
                            "--out", str(tmp_path / "again"), "--no-plots")
    assert code == 0, err
    name = "results/two-arms.1.reinforce.npz"
    assert np.array_equal(load_npz(out / "tuning" / name).regret,
                          load_npz(tmp_path / "again" / name).regret)


def test_the_shipped_example_plans():
    plan = tuning.plan(files.read(ROOT / "examples" / "tune.toml"))
    assert [(e.name, len(e.candidates), e.runs) for e in plan.entries] == [
        ("ucb", 5, 32), ("reinforce", 8, 20)]

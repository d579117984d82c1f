"""Adaptive budgets, ``budget = "until"``: the doubling rule, its files, resume, guards and
reports."""

import json
from contextlib import contextmanager

import numpy as np
import pytest

from experiments import files, report, session, studies, until
from tests.cli_helpers import messages, run_main
from tracking import executors, workguard
from tracking.results import READOUT_KEYS, load_npz
from tracking.runner import execute

#: A planted easy bandit: greedy agents find the 0.9 arm within a few pulls in every run.
EASY = """\
seed = 3

[[problem]]
setting = "bandit"
name = "easy"
means = [0.9, 0.1]
horizon = 2
budget = "until"
cap = 4096
runs = 20
agents = ["greedy", "greedy:q0=1"]
"""

#: An episodic MDP with an agent that learns nothing in these budgets: REINFORCE with a tiny
#: step size leaves its greedy readout (argmax of preferences near 0) far from optimal.
HOPELESS = """\
seed = 1

[[problem]]
setting = "mdp"
env = "riverswim"
args = { n_states = 4 }
horizon = 10
episodes = 5
budget = "until"
cap = 20
runs = 8
agents = ["ce-optimistic", "reinforce:alpha=1e-6"]
"""

#: One problem of each setting, each needing a few doublings.
SETTINGS = {
    "bandit": EASY.replace("runs = 20", "runs = 6"),
    "mdp": HOPELESS.replace('"reinforce:alpha=1e-6"', '"psrl"').replace("cap = 20", "cap = 80"),
    "continuing": """\
seed = 2

[[problem]]
setting = "continuing"
env = "riverswim"
args = { n_states = 4 }
steps = 25
budget = "until"
cap = 1600
runs = 4
agents = ["psrl", "ce-optimistic"]
""",
    "linear-bandit": """\
seed = 2

[[problem]]
setting = "linear-bandit"
env = "basis"
args = { means = [0.9, 0.1, 0.5], sigma = 0.5 }
horizon = 4
budget = "until"
cap = 4096
runs = 6
agents = ["lin-ts", "oful:c=0.2"]
""",
    "reasoning": """\
seed = 2

[[problem]]
setting = "reasoning"
env = "trie"
args = { n_prompts = 4, horizon = 2, vocab = 3, n_solutions = 2, p_min = 0.1, p_max = 0.5 }
held_out = 1
calls = 8
budget = "until"
cap = 4096
epsilon = 0.2
runs = 4
agents = ["ce:batch=1", "ce-optimistic:batch=1"]
""",
}


def _run(tmp_path, text, out="out", resume=False, progress_for=None):
    """Run an experiment file's text into ``tmp_path/out`` in-process; (outcome, folder)."""
    folder = tmp_path / out
    if resume:
        spec = session.read_config(folder / "config.toml")
    else:
        path = tmp_path / "exp.toml"
        path.write_text(text)
        spec = files.read(path)
    jobs = files.build_jobs(spec)
    with session.Folder(folder, resume=resume) as f:
        outcome = session.run_experiment(jobs, f, spec["title"], spec["seed"], resume,
                                         progress_for, plots=False)
    return outcome, folder


def _fixed_text(text, length, budget):
    """The same problem with a fixed budget ``budget``."""
    lines = [x for x in text.splitlines() if not x.startswith(("budget =", "cap ="))]
    lines = [f"{length} = {budget}" if x.startswith(f"{length} =") else x for x in lines]
    return "\n".join(lines) + "\n"


def _fixed_run(text, length, budget):
    job, = files.build_jobs(files.parse(_fixed_text(text, length, budget)))
    return execute(job)


def _arrays(result):
    return {"regret": result.regret, **{k: getattr(result, k) for k in READOUT_KEYS},
            **result.extra}


def _assert_same_arrays(a, b):
    x, y = _arrays(a), _arrays(b)
    assert x.keys() == y.keys()
    for key in x:
        assert x[key].dtype == y[key].dtype and np.array_equal(x[key], y[key]), key
    assert np.array_equal(a.checkpoints, b.checkpoints)


def _censored(result):
    """Whether some agent's n(epsilon, delta) is censored, read from the summary."""
    return any(a["samples_to_epsilon"]["censored"] for a in report.summarize(result)["agents"])


@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_final_result_equals_a_fixed_run_of_the_final_budget(tmp_path, setting):
    text = SETTINGS[setting]
    outcome, folder = _run(tmp_path, text)
    res, = outcome.results
    rule = res.info["budget_rule"]
    length = {"bandit": "horizon", "linear-bandit": "horizon", "mdp": "episodes",
              "continuing": "steps", "reasoning": "calls"}[setting]
    assert len(rule["tried"]) >= 2  # the rule did double
    fixed = _fixed_run(text, length, rule["final"])
    _assert_same_arrays(res, fixed)
    assert res.config == fixed.config  # the final try's configuration is the fixed run's
    assert {k: v for k, v in res.info.items() if k != "budget_rule"} == fixed.info
    # the saved result and the final try's file hold it too
    _assert_same_arrays(load_npz(folder / "results" / f"{res.problem}.npz"), fixed)
    _assert_same_arrays(load_npz(folder / "tries" / f"{res.problem}-{rule['final']}.npz"), fixed)
    # every try is a fixed run of its budget, saved under its budget
    saved = sorted((folder / "tries").iterdir())
    assert [p.name for p in saved] == sorted(f"{res.problem}-{b}.npz" for b in rule["tried"])


def test_rerun_of_the_saved_config_keeps_the_rule_and_the_numbers(tmp_path):
    first, folder = _run(tmp_path, EASY)
    config = (folder / "config.toml").read_text()
    assert 'budget = "until"' in config and "cap = 4096" in config and "horizon = 2\n" in config
    assert "checkpoints" not in config  # each try builds its own grid
    again, _ = _run(tmp_path, config, out="again")
    _assert_same_arrays(first.results[0], again.results[0])
    assert first.results[0].info == again.results[0].info


def test_given_checkpoints_are_kept_for_every_try(tmp_path):
    text = EASY.replace("runs = 20", "checkpoints = [1]\nruns = 20")
    outcome, folder = _run(tmp_path, text)
    res, = outcome.results
    assert "checkpoints = [1]" in (folder / "config.toml").read_text()
    fixed = _fixed_run(text, "horizon", res.info["budget_rule"]["final"])
    _assert_same_arrays(res, fixed)
    assert res.checkpoints.tolist() == [1, res.info["budget_rule"]["final"]]


def test_doubling_stops_as_soon_as_every_agent_is_measured(tmp_path):
    outcome, folder = _run(tmp_path, EASY)
    res, = outcome.results
    rule = res.info["budget_rule"]
    tried = rule["tried"]
    assert tried == until.doubling(2, 4096)[:len(tried)] and rule["final"] == tried[-1]
    assert rule["final"] < rule["cap"] and rule["all_measured"] is True
    assert rule["start"] == 2 and rule["kind"] == "until"
    tries = [load_npz(folder / "tries" / f"easy-{b}.npz") for b in tried]
    assert all(_censored(t) for t in tries[:-1])  # every earlier try left one censored
    assert not _censored(tries[-1])
    assert len(list((folder / "tries").iterdir())) == len(tried)  # no try beyond
    summary = json.loads((folder / "summary.json").read_text())["problems"][0]
    assert summary["info"]["budget_rule"] == rule
    caption = str(report.problem_table(summary).caption)
    assert "chosen by doubling" in caption and "cap" not in caption


def test_the_cap_is_run_when_an_agent_stays_censored(tmp_path):
    outcome, folder = _run(tmp_path, HOPELESS)
    res, = outcome.results
    rule = res.info["budget_rule"]
    assert rule["tried"] == until.doubling(5, 20) == [5, 10, 20]
    assert rule["final"] == 20 and rule["all_measured"] is False
    summary = report.summarize(res)
    censored = [a["agent"] for a in summary["agents"] if a["samples_to_epsilon"]["censored"]]
    assert censored == ["reinforce(alpha=1e-06)"]
    assert until.censored_agents(res) == censored
    caption = str(report.problem_table(summary).caption)
    assert "the cap 20 was reached with some still censored" in caption


def test_stop_any_ends_at_the_first_try_where_some_agent_is_measured(tmp_path):
    """HOPELESS's ce-optimistic settles within 10 episodes and its reinforce never: with
    stop = "any" the try where ce-optimistic settles ends the doubling, before the cap that
    the default rule runs (test_the_cap_is_run_when_an_agent_stays_censored)."""
    text = HOPELESS.replace('cap = 20', 'cap = 20\nstop = "any"')
    outcome, folder = _run(tmp_path, text)
    rule = outcome.results[0].info["budget_rule"]
    assert rule["tried"] == [5, 10] and rule["stop"] == "any" and rule["all_measured"] is False
    assert until.censored_agents(outcome.results[0]) == ["reinforce(alpha=1e-06)"]
    caption = str(report.problem_table(report.summarize(outcome.results[0])).caption)
    assert "until some agent's n(epsilon, delta)" in caption and "cap" not in caption
    assert 'stop = "any"' in (folder / "config.toml").read_text()  # the rerun keeps the rule
    with pytest.raises(files.FileError, match='stop applies to budget = "until" only'):
        files.parse(EASY.replace('budget = "until"\ncap = 4096\n', 'stop = "any"\n'))
    with pytest.raises(files.FileError, match="stop must be"):
        files.parse(EASY.replace("cap = 4096", 'cap = 4096\nstop = "some"'))


@pytest.mark.parametrize("start,cap,budgets", [
    (1, 1, [1]), (3, 24, [3, 6, 12, 24]), (100, 500, [100, 200, 400, 500])])
def test_doubling_ends_at_the_cap(start, cap, budgets):
    assert until.doubling(start, cap) == budgets


RULE_ERRORS = [
    ('cap = 4096\n', '', 'exp.toml:8: budget = "until" needs a cap: the largest horizon it may '
                         'try'),
    ('budget = "until"', 'budget = "twice"', 'exp.toml:8: budget must be "until"'),
    ("cap = 4096", "cap = 0", "exp.toml:9: cap must be an integer >= the starting horizon (2), "
                              "got 0"),
    ("cap = 4096", 'cap = "big"', "exp.toml:9: cap must be an integer >= the starting horizon"),
    ("cap = 4096", "cap = 2.5", "exp.toml:9: cap must be an integer >= the starting horizon"),
    ('budget = "until"\n', "", 'exp.toml:8: cap applies to budget = "until" only'),
]


@pytest.mark.parametrize("old,new,message", RULE_ERRORS)
def test_rule_errors(monkeypatch, capsys, tmp_path, old, new, message):
    text = EASY.replace(old, new, 1)
    assert text != EASY
    (tmp_path / "exp.toml").write_text(text)
    code, out, err = run_main(monkeypatch, capsys, "run", str(tmp_path / "exp.toml"), "--out",
                              str(tmp_path / "out"), "--no-plots")
    assert code == 2 and out == ""
    lines = messages(err)
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_an_mdp_cap_is_in_episodes(tmp_path):
    with pytest.raises(files.FileError, match="cap must be an integer >= the starting episodes "
                                              r"\(5\), got 4"):
        files.parse(HOPELESS.replace("cap = 20", "cap = 4"), "exp.toml")


def test_resume_after_an_interruption_between_tries_redoes_no_finished_try(tmp_path,
                                                                            monkeypatch):
    flag = session.StopFlag()

    @contextmanager
    def stop_flag():
        yield flag

    monkeypatch.setattr(session, "stop_on_signals", stop_flag)
    run = []
    real = executors.execute

    def counted(job, *args, **kwargs):
        run.append((int(job.config["episodes"]), 0 if args[2] is None else args[2].runs))
        return real(job, *args, **kwargs)

    monkeypatch.setattr(executors, "execute", counted)

    def progress_for(job):  # a stop request as the second try starts: between the tries
        if job.config["episodes"] == 10:
            flag.signal = "SIGINT"
        return None

    outcome, folder = _run(tmp_path, HOPELESS, progress_for=progress_for)
    assert outcome.stopped_by == "SIGINT" and outcome.results == []
    status = json.loads((folder / "status.json").read_text())
    assert status["complete"] is False
    assert status["missing"]["riverswim"] == {"runs_done": 0, "runs": 8, "missing_runs": "0..7",
                                              "budget_try": 10}
    assert run == [(5, 0), (10, 0)]
    first = (folder / "tries" / "riverswim-5.npz").read_bytes()
    assert not (folder / "results" / "riverswim.npz").exists()

    flag.signal = None
    run.clear()
    outcome, _ = _run(tmp_path, None, resume=True)
    assert run == [(10, 0), (20, 0)]  # the finished try at 5 episodes is not run again
    assert (folder / "tries" / "riverswim-5.npz").read_bytes() == first
    res, = outcome.results
    assert res.info["budget_rule"]["tried"] == [5, 10, 20]
    _assert_same_arrays(res, _fixed_run(HOPELESS, "episodes", 20))
    assert json.loads((folder / "status.json").read_text())["complete"] is True

    run.clear()  # a complete folder: nothing runs
    _run(tmp_path, None, resume=True)
    assert run == []


def test_resume_completes_the_try_it_was_in(tmp_path, monkeypatch):
    monkeypatch.setenv("CELAB_BATCH_WORK", "1")  # one batch per thread count of runs
    flag = session.StopFlag()

    @contextmanager
    def stop_flag():
        yield flag

    monkeypatch.setattr(session, "stop_on_signals", stop_flag)
    real_save = session.save_npz

    def save(result, path):  # stop after the first batch of the second try
        real_save(result, path)
        if path.name == "riverswim-10.npz":
            flag.signal = "SIGTERM"

    monkeypatch.setattr(session, "save_npz", save)
    outcome, folder = _run(tmp_path, HOPELESS)
    part = load_npz(folder / "tries" / "riverswim-10.npz")
    assert outcome.stopped_by == "SIGTERM" and 0 < part.runs < 8
    status = json.loads((folder / "status.json").read_text())
    assert status["missing"]["riverswim"]["runs_done"] == part.runs
    assert status["missing"]["riverswim"]["budget_try"] == 10

    flag.signal = None
    monkeypatch.setattr(session, "save_npz", real_save)
    resumed = []
    real = executors.execute

    def counted(job, *args, **kwargs):
        resumed.append((job.config["episodes"], 0 if args[2] is None else args[2].runs))
        return real(job, *args, **kwargs)

    monkeypatch.setattr(executors, "execute", counted)
    outcome, _ = _run(tmp_path, None, resume=True)
    assert resumed == [(10, part.runs), (20, 0)]
    _assert_same_arrays(outcome.results[0], _fixed_run(HOPELESS, "episodes", 20))


def test_the_work_guard_counts_every_try_up_to_the_cap():
    text = EASY.replace("cap = 4096", "cap = 1000")
    job, = files.build_jobs(files.parse(text))
    fixed = [files.build_jobs(files.parse(_fixed_text(text, "horizon", b)))[0]
             for b in until.doubling(2, 1000)]
    assert workguard.estimate_seconds([job]) == pytest.approx(workguard.estimate_seconds(fixed),
                                                              rel=1e-12)


def test_the_work_guard_refuses_a_cap_beyond_a_day(monkeypatch, capsys, tmp_path):
    text = EASY.replace("cap = 4096", "cap = 100000000000000")
    (tmp_path / "exp.toml").write_text(text)
    code, _, err = run_main(monkeypatch, capsys, "run", str(tmp_path / "exp.toml"), "--out",
                            str(tmp_path / "out"), "--no-plots")
    assert code == 2 and "would take at least" in messages(err)[0]
    assert not (tmp_path / "out").exists()
    # its start alone is small
    fixed, = files.build_jobs(files.parse(_fixed_text(text, "horizon", 2)))
    assert workguard.refusal([fixed]) is None


def test_the_memory_guard_checks_the_try_at_the_cap(monkeypatch, capsys, tmp_path):
    # summarizing 2000 runs needs about 101 MiB on 2 checkpoints (horizon 2) and 120 MiB on the
    # 92 of horizon 10^6: a limit between them refuses the cap only
    text = EASY.replace("cap = 4096", "cap = 1000000").replace("runs = 20", "runs = 2000")
    monkeypatch.setenv("CELAB_MEMORY_LIMIT", "110M")
    job, = files.build_jobs(files.parse(_fixed_text(text, "horizon", 2)))  # the start fits
    (tmp_path / "exp.toml").write_text(text)
    code, _, err = run_main(monkeypatch, capsys, "run", str(tmp_path / "exp.toml"), "--out",
                            str(tmp_path / "out"), "--no-plots")
    line, = messages(err)
    assert code == 2 and line.startswith("error: ")
    assert "exp.toml:9: the try at the cap (horizon = 1,000,000): easy:" in line
    assert "memory limit" in line and not (tmp_path / "out").exists()


def test_delta_decides_for_every_try():
    job, = files.build_jobs(files.parse(HOPELESS))
    job.set_delta(0.5)
    assert job.config["delta"] == 0.5 and job.config["budget"] == "until"
    assert all(job.at(b).config["delta"] == 0.5 for b in job.budgets)


def test_cli_shows_each_try_and_the_rule(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("CELAB_PROGRESS_INTERVAL", "1000")  # one line at the end of each try
    (tmp_path / "exp.toml").write_text(HOPELESS + EASY.split("\n", 2)[2])  # then a bandit
    code, out, err = run_main(monkeypatch, capsys, "run", str(tmp_path / "exp.toml"), "--out",
                              str(tmp_path / "out"), "--no-plots", "--json")
    assert code == 0
    doc = json.loads(out)
    rules = [p["info"]["budget_rule"] for p in doc["problems"]]
    assert rules[0]["tried"] == [5, 10, 20]
    lines = [x for x in err.splitlines() if x.startswith("celab: ")]
    assert [x.split(") ")[0] for x in lines] == \
        [f"celab: riverswim (1 of 2, episodes = {b}" for b in rules[0]["tried"]] + \
        [f"celab: easy (2 of 2, horizon = {b}" for b in rules[1]["tried"]]
    code, out, _ = run_main(monkeypatch, capsys, "report", str(tmp_path / "out"), "--no-plots")
    assert code == 0
    assert "Budget chosen by doubling (episodes 5, 10, 20, each try" in " ".join(out.split())


def test_smoke_budget_caps_the_cap_too():
    parsed = files.parse(HOPELESS.replace("episodes = 5", "episodes = 50")
                         .replace("cap = 20", "cap = 400"))
    table, = studies.shrink(parsed)["problems"]
    assert table["episodes"] == 10 and table["cap"] == 10
    job, = files.build_jobs({**parsed, "problems": [table]})
    assert job.budgets == [10]


def test_a_damaged_try_is_computed_again_on_resume(tmp_path, monkeypatch):
    flag = session.StopFlag()

    @contextmanager
    def stop_flag():
        yield flag

    monkeypatch.setattr(session, "stop_on_signals", stop_flag)

    def progress_for(job):
        if job.config["episodes"] == 10:
            flag.signal = "SIGINT"

    _, folder = _run(tmp_path, HOPELESS, progress_for=progress_for)
    (folder / "tries" / "riverswim-5.npz").write_bytes(b"cut short")
    flag.signal = None
    run = []
    real = executors.execute

    def counted(job, *args, **kwargs):
        run.append(job.config["episodes"])
        return real(job, *args, **kwargs)

    monkeypatch.setattr(executors, "execute", counted)
    with pytest.warns(UserWarning, match="riverswim-5.npz: damaged.*computed again"):
        outcome, _ = _run(tmp_path, None, resume=True)
    assert run == [5, 10, 20]
    _assert_same_arrays(outcome.results[0], _fixed_run(HOPELESS, "episodes", 20))


def test_the_interruption_message_names_the_try():
    import cli

    status = {"missing": {"a": {"runs_done": 3, "runs": 8, "missing_runs": "3..7",
                                "budget_try": 2000},
                          "b": {"runs_done": 0, "runs": 4, "missing_runs": "0..3"}}}
    assert cli._missing(status) == ("a: 3 of 8 runs done, in the try at budget 2,000; "
                                    "b: 0 of 4 runs done")

"""Output folders: atomic saves, interruption by a real signal, resume, the lock."""

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
from experiments import session
from tracking.results import load_npz

EXPERIMENT = """\
seed = 7

[[problem]]
setting = "bandit"
env = "linspace10"
horizon = 20000
runs = 24
agents = ["ucb", "thompson"]

[[problem]]
setting = "bandit"
name = "two-arms"
means = [0.4, 0.5]
horizon = 5000
runs = 6
agents = ["kl-ucb"]
"""

CELAB = [sys.executable, "-c", "import cli; cli.main()"]


def _env():
    # two runs per batch, so that a run of this size has many save points
    return dict(os.environ, CELAB_BATCH_WORK="1", NUMBA_NUM_THREADS="2")


def _celab(*args, cwd=None, check=True):
    proc = subprocess.run([*CELAB, *args], capture_output=True, text=True, env=_env(), cwd=cwd)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_keeps_completed_runs_and_resume_matches(tmp_path, sig):
    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT)
    out = tmp_path / "out"
    proc = subprocess.Popen([*CELAB, "run", str(exp), "--out", str(out), "--no-plots"], env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    saved = out / "results" / "linspace10.npz"
    deadline = time.time() + 120
    while not saved.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert saved.exists(), "no batch was saved"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == (130 if sig == signal.SIGINT else 143)
    assert "Traceback" not in err
    lines = [x for x in err.strip().splitlines() if not x.startswith("celab: ")]  # progress
    assert len(lines) == 1 and "--resume" in lines[0] and lines[0].startswith("error: interrupted")
    status = json.loads((out / "status.json").read_text())
    assert status["complete"] is False and "linspace10" in status["missing"]
    partial = load_npz(saved)
    assert 0 < partial.runs < 24
    assert not (out / "summary.json").exists()
    # no half-written file anywhere
    assert not list(out.rglob("*.tmp"))

    _celab("run", str(out / "config.toml"), "--resume", "--no-plots")
    status = json.loads((out / "status.json").read_text())
    assert status["complete"] is True
    resumed = load_npz(saved)
    reference = bandits.run("linspace10", ["ucb", "thompson"], 20000, 24, seed=7)
    assert np.array_equal(resumed.regret, reference.regret)
    assert np.array_equal(resumed.simple_regret_greedy, reference.simple_regret_greedy)
    assert np.array_equal(resumed.simple_regret_behaviour, reference.simple_regret_behaviour)
    assert np.array_equal(resumed.extra["pulls"], reference.extra["pulls"])
    assert (out / "summary.json").exists() and (out / "curves.csv").exists()


def test_rerun_of_saved_config_is_bit_identical(tmp_path):
    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT.replace("runs = 24", "runs = 4"))
    _celab("run", str(exp), "--out", str(tmp_path / "a"), "--no-plots")
    _celab("run", str(tmp_path / "a" / "config.toml"), "--out", str(tmp_path / "b"), "--no-plots")
    for name in ("linspace10", "two-arms"):
        a = load_npz(tmp_path / "a" / "results" / f"{name}.npz")
        b = load_npz(tmp_path / "b" / "results" / f"{name}.npz")
        assert np.array_equal(a.regret, b.regret) and a.config == b.config
    curves = [(tmp_path / d / "curves.csv").read_text() for d in "ab"]
    assert curves[0] == curves[1]


def test_second_process_refuses_a_locked_folder(tmp_path):
    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT.replace("runs = 24", "runs = 2"))
    out = tmp_path / "busy"
    with session.Folder(out):
        proc = _celab("run", str(exp), "--out", str(out), check=False)
    assert proc.returncode == 2
    assert "another celab process is writing this folder" in proc.stderr
    assert not (out / "config.toml").exists()


def test_existing_results_are_not_overwritten(tmp_path):
    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT.replace("runs = 24", "runs = 2"))
    out = tmp_path / "o"
    _celab("run", str(exp), "--out", str(out), "--no-plots")
    before = (out / "results" / "linspace10.npz").read_bytes()
    proc = _celab("run", str(exp), "--out", str(out), "--no-plots", check=False)
    assert proc.returncode == 2 and "already holds results" in proc.stderr
    assert (out / "results" / "linspace10.npz").read_bytes() == before


def test_report_rerenders_without_simulating(tmp_path):
    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT.replace("runs = 24", "runs = 3"))
    out = tmp_path / "r"
    _celab("run", str(exp), "--out", str(out), "--json")
    saved = json.loads((out / "summary.json").read_text())
    for p in (out / "plots").glob("*"):
        p.unlink()
    proc = _celab("report", str(out), "--json")
    doc = json.loads(proc.stdout)
    assert {k: doc[k] for k in ("schema", "problems", "headline")} == saved
    assert doc["folder"] == str(out)
    assert sorted(p.name for p in (out / "plots").glob("*.png")) == [
        "linspace10-regret.png", "linspace10-simple.png", "two-arms-regret.png",
        "two-arms-simple.png"]


def test_default_folder_is_new(tmp_path):
    a = session.default_folder("x", tmp_path)
    a.mkdir(parents=True)
    b = session.default_folder("x", tmp_path)
    assert a != b and Path(b).parent == tmp_path


def test_a_folder_saved_without_regret_reads_as_exact_regret(tmp_path):
    """Episodic results saved before the regret mode was a key read back and resume as exact
    regret (the default); sampled regret is another configuration."""
    from mdp.loop import MDPJob

    job = MDPJob("riverswim", "ce-greedy", 4, 5, 2)
    del job.config["regret"]  # as saved before
    with session.Folder(tmp_path / "old") as folder:
        session.run_experiment([job], folder, plots=False)
    spec = session.read_config(tmp_path / "old" / "config.toml")
    assert spec["problems"][0]["regret"] == "exact"  # the parsed file fills the default in
    (res,) = session.saved_results(tmp_path / "old", spec)
    assert "regret" not in res.config
    spec["problems"][0]["regret"] = "sampled"
    with pytest.raises(ValueError, match="another configuration"):
        session.saved_results(tmp_path / "old", spec)


def test_a_folder_saved_without_delta_reads_with_the_default_delta(tmp_path):
    """Results saved before delta was a key (config.toml and the .npz configuration without
    it) still read back and resume: a missing delta is the setting's default; another delta
    is another configuration."""
    from bandits.loop import BanditJob

    job = BanditJob("close10", "ucb", 50, 2)  # built without delta, as before
    assert "delta" not in job.config
    with session.Folder(tmp_path / "old") as folder:
        session.run_experiment([job], folder, plots=False)
    spec = session.read_config(tmp_path / "old" / "config.toml")
    assert spec["problems"][0]["delta"] == 0.1  # the parsed file fills the default in
    (res,) = session.saved_results(tmp_path / "old", spec)
    assert "delta" not in res.config
    spec["problems"][0]["delta"] = 0.2
    with pytest.raises(ValueError, match="another configuration"):
        session.saved_results(tmp_path / "old", spec)

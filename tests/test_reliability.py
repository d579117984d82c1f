"""Nothing lost, nothing corrupted: signals at random moments, two writers, read-only caches,
the memory guard and version warnings, all through real celab processes."""

import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import bandits
import mdp
from bandits.loop import BanditJob
from mdp.continuing import ContinuingJob
from mdp.loop import MDPJob
from tracking import memory
from tracking.results import load_npz

ROOT = Path(__file__).resolve().parents[1]
CELAB = [sys.executable, "-c", "import cli; cli.main()"]
EXPERIMENT = """\
seed = 11

[[problem]]
setting = "bandit"
env = "close10"
horizon = 30000
runs = 16
agents = ["ucb", "thompson"]

[[problem]]
setting = "mdp"
env = "riverswim"
horizon = 10
episodes = 400
runs = 8
agents = ["psrl", "reinforce"]
"""


def _env(**extra):
    return dict(os.environ, CELAB_BATCH_WORK="1", **extra)  # a save point every 2 runs


def _reference():
    return {
        "close10": bandits.run("close10", ["ucb", "thompson"], 30000, 16, seed=11),
        "riverswim": mdp.run("riverswim", ["psrl", "reinforce"], 10, 400, 8, seed=11),
    }


@pytest.fixture(scope="module")
def reference():
    return _reference()


def _no_partial_files(folder: Path):
    assert not [p for p in folder.rglob("*.tmp")], "a half-written file was left"


@pytest.mark.parametrize("trial", range(4))
def test_signal_at_a_random_moment_then_resume(tmp_path, reference, trial):
    gen = random.Random(trial)
    sig = gen.choice([signal.SIGINT, signal.SIGTERM])
    delay = gen.uniform(0.2, 4.0)
    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT)
    out = tmp_path / "out"
    proc = subprocess.Popen([*CELAB, "run", str(exp), "--out", str(out), "--no-plots"],
                            env=_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(delay)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=180)
    assert "Traceback" not in err
    # 130 / 143: stopped by celab; a negative code: the signal came while Python could not
    # handle it (interpreter start-up or shutdown); 0: it had finished
    assert proc.returncode in (0, 130, 143, -sig), err
    if out.exists():
        _no_partial_files(out)
    if not (out / "config.toml").exists():
        assert proc.returncode != 0
        return  # stopped before anything was written: nothing to resume
    status = json.loads((out / "status.json").read_text())
    if not status["complete"]:
        assert proc.returncode != 0
        done = subprocess.run([*CELAB, "run", str(out / "config.toml"), "--resume",
                               "--no-plots"], env=_env(), cwd=ROOT, capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stderr
    _no_partial_files(out)
    for name, ref in reference.items():
        res = load_npz(out / "results" / f"{name}.npz")
        assert np.array_equal(res.regret, ref.regret), name
        assert np.array_equal(res.simple_regret_greedy, ref.simple_regret_greedy), name
        assert np.array_equal(res.simple_regret_behaviour, ref.simple_regret_behaviour), name


def test_two_processes_on_one_folder(tmp_path):
    """While one celab process writes a folder (a long run), a second one, fresh or resuming,
    is refused by the lock; the first one is unharmed and stops cleanly."""
    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT.replace("horizon = 30000", "horizon = 3000000"))
    out = tmp_path / "shared"
    first = subprocess.Popen([*CELAB, "run", str(exp), "--out", str(out), "--no-plots"],
                             env=_env(), cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not (out / "results" / "close10.npz").exists() and time.time() < deadline:
        time.sleep(0.05)
    for extra in ([str(exp), "--out", str(out)], [str(out / "config.toml"), "--resume"]):
        second = subprocess.run([*CELAB, "run", *extra, "--no-plots"], env=_env(), cwd=ROOT,
                                capture_output=True, text=True)
        assert second.returncode == 2, second.stderr
        assert second.stderr.count("\n") == 1 and "another celab process" in second.stderr
    assert first.poll() is None, "the first process should still be running"
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 130 and "--resume" in err
    _no_partial_files(out)
    partial = load_npz(out / "results" / "close10.npz")
    assert 0 < partial.runs < 16


@pytest.mark.slow  # compiles the loop afresh in a process without a cache
def test_runs_without_a_writable_numba_cache(tmp_path):
    """A read-only install and a read-only home: numba has nowhere to write its cache. The
    package's __pycache__ folders are made regular files and NUMBA_CACHE_DIR and HOME point at
    a file, which blocks every cache location even for root; celab compiles in memory."""
    src = tmp_path / "src"
    for pkg in ("bandits", "mdp", "experiments"):
        shutil.copytree(ROOT / pkg, src / pkg, ignore=shutil.ignore_patterns("__pycache__"))
        (src / pkg / "__pycache__").write_text("not a folder")
    shutil.copy(ROOT / "cli.py", src / "cli.py")
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    env = dict(os.environ, PYTHONPATH=str(src), NUMBA_CACHE_DIR=str(blocker),
               HOME=str(blocker), XDG_CACHE_HOME=str(blocker))
    code = ("import bandits, mdp; r = bandits.run('close10', 'ucb', 200, 2); "
            "s = mdp.solve(mdp.envs.riverswim(), 0.9); print(bandits.__file__)")
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert str(src) in proc.stdout
    assert "Warning" not in proc.stderr and "Error" not in proc.stderr


def test_memory_guard(monkeypatch):
    """The limit (80% of the available memory by default, a share or a size otherwise) is
    compared with the largest phase of a job's estimate: one byte less refuses the job."""
    monkeypatch.setattr(memory, "available_bytes", lambda: 10 * 2**30)
    monkeypatch.delenv("CELAB_MEMORY_LIMIT", raising=False)
    assert memory.limit_bytes() == 8 * 2**30
    assert memory.parse_limit("50%") == (0.5, None)
    assert memory.parse_limit("2G") == (None, 2 * 2**30)
    assert memory.parse_limit("1024") == (None, 1024)
    for bad in ("0", "-1G", "150%", "lots", "1Q"):
        with pytest.raises(ValueError, match="memory limit"):
            memory.parse_limit(bad)
    monkeypatch.setenv("CELAB_MEMORY_LIMIT", "50%")
    assert memory.limit_bytes() == 5 * 2**30
    monkeypatch.setenv("CELAB_MEMORY_LIMIT", "1.5G")
    assert memory.limit_bytes() == 3 * 2**29
    for make in (lambda: BanditJob("sutton-barto", "ucb,thompson", 1000, 50,
                                   env_args={"n_arms": 500}),
                 lambda: MDPJob(mdp.envs.garnet(50, 3, 4), "psrl,reinforce", 20, 10, 30,
                                name="g"),
                 lambda: ContinuingJob(mdp.envs.garnet(50, 3, 4), "psrl", 100, 30, name="c")):
        monkeypatch.delenv("CELAB_MEMORY_LIMIT")
        need = max(make().memory_phases().values())
        monkeypatch.setenv("CELAB_MEMORY_LIMIT", str(math.ceil(need)))
        make()
        monkeypatch.setenv("CELAB_MEMORY_LIMIT", str(math.floor(need) - 1))
        with pytest.raises(memory.MemoryLimitError, match="more than the memory limit"):
            make()
    monkeypatch.setenv("CELAB_MEMORY_LIMIT", "1M")
    with pytest.raises(memory.MemoryLimitError, match="more than the memory limit of 1.0 MiB"):
        bandits.run("close10", "ucb", 10, 100_000)
    with pytest.raises(memory.MemoryLimitError, match="garnet"):
        mdp.envs.garnet(100_000, 4, 10)
    with pytest.raises(memory.MemoryLimitError, match="dense P"):
        _ = mdp.envs.garnet(1000, 4, 2).P


def test_memory_limit_option_refuses_before_writing(tmp_path):
    proc = subprocess.run([*CELAB, "--memory-limit", "1M", "bandit", "--runs", "100000",
                           "--out", str(tmp_path / "o")], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "memory limit" in proc.stderr and not (tmp_path / "o").exists()


def test_run_warns_when_saved_versions_differ(tmp_path):
    out = tmp_path / "a"
    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT.replace("runs = 16", "runs = 2").replace("runs = 8", "runs = 2"))
    subprocess.run([*CELAB, "run", str(exp), "--out", str(out), "--no-plots"], cwd=ROOT,
                   check=True, capture_output=True)
    config = (out / "config.toml").read_text()
    assert '[versions]\ncelab = "' in config and "numpy = " in config and "numba = " in config
    old = tmp_path / "old.toml"
    old.write_text(config.replace('numpy = "', 'numpy = "0.0-', 1))
    proc = subprocess.run([*CELAB, "run", str(old), "--out", str(tmp_path / "b"), "--no-plots"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = [x for x in proc.stderr.strip().splitlines() if not x.startswith("celab: ")]
    assert len(lines) == 1 and lines[0].startswith("warning: ") and "numpy 0.0-" in lines[0]
    a = load_npz(out / "results" / "close10.npz")
    b = load_npz(tmp_path / "b" / "results" / "close10.npz")
    assert np.array_equal(a.regret, b.regret)

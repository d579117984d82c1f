"""Interruption within about a second at any budget, and the work guard, through real celab
processes.

A kernel call can last minutes (one batch of long runs), so celab runs each one in a worker
thread and stops it through a flag the kernel reads every few thousand steps. The budgets below
would take minutes to hours; every process must stop within STOP_WAIT seconds of the signal
(the point is seconds against minutes, so the bound is generous for a loaded machine).
"""

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
import cli
import mdp
from tests.cli_helpers import messages as _messages
from tests.cli_helpers import run_main
from tracking.results import load_npz

ROOT = Path(__file__).resolve().parents[1]
CELAB = [sys.executable, "-m", "cli"]
#: Seconds a signalled process gets to exit (an uninterruptible kernel takes minutes).
STOP_WAIT = 10.0
#: Seconds from the configuration being written to the first kernel running.
KERNEL_START = 1.5
LONG = {
    "bandit": ["bandit", "--horizon", "1000000000", "--runs", "4", "--algos", "ucb"],
    "mdp": ["mdp", "--env", "riverswim", "--horizon", "1000000", "--episodes", "1000000",
            "--runs", "4", "--algos", "ce-greedy"],
    "continuing": ["run", "{file}"],
}
CONTINUING = """\
[[problem]]
setting = "continuing"
env = "riverswim"
steps = 100000000000
runs = 4
agents = ["ucrl2"]
"""
GUARDED = ["bandit", "--horizon", "100000000000000", "--runs", "100000", "--no-plots"]



WARM = """\
import bandits, mdp
bandits.run("linspace10", "ucb", 10, 2)
mdp.run("riverswim", "ce-greedy", 5, 3, 2)
mdp.run_continuing("riverswim", "ucrl2", 50, 2)
mdp.run(mdp.envs.make("garnet", n_states=6, n_actions=2, branching=6), "ce-greedy", 5, 3, 2)
"""


@pytest.fixture(scope="module", autouse=True)
def warm_kernels():
    """Load (or compile and cache) the kernels the processes below use, here and in a fresh
    process as they are, so that they start their first kernel within KERNEL_START of writing
    their configuration (a signal that arrives while numba still compiles waits for it)."""
    bandits.run("linspace10", "ucb", 10, 2)
    mdp.run("riverswim", "ce-greedy", 5, 3, 2)
    mdp.run_continuing("riverswim", "ucrl2", 50, 2)
    subprocess.run([sys.executable, "-c", WARM], cwd=ROOT, check=True, timeout=600,
                   capture_output=True)


def _default_signals() -> None:
    """In the child, before it starts: SIGINT and SIGTERM unblocked and at their defaults, as
    in a shell, whatever signal mask or ignored signals the test runner's thread holds (a
    child inherits both)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _start(args, out: Path, **env) -> subprocess.Popen:
    return subprocess.Popen([*CELAB, *args, "--no-plots", "--out", str(out)], cwd=ROOT,
                            env=dict(os.environ, **env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_signals)


def _wait_for(proc: subprocess.Popen, path: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"exited with {proc.returncode} first: {proc.communicate()[1]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"{path} did not appear within {timeout} s")
        time.sleep(0.02)


def _stop(proc: subprocess.Popen, *signals: signal.Signals) -> tuple[str, str]:
    """Send ``signals`` one after the other; the process's (stdout, stderr) once it exited."""
    for sig in signals:
        proc.send_signal(sig)
    try:
        return proc.communicate(timeout=STOP_WAIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"still running {STOP_WAIT} s after {[s.name for s in signals]}")


def _long_args(setting: str, tmp_path: Path) -> list[str]:
    exp = tmp_path / "long.toml"
    exp.write_text(CONTINUING)
    return [a.format(file=exp) for a in LONG[setting]] + ["--yes"]


@pytest.mark.parametrize("setting, sig", [("bandit", signal.SIGINT), ("bandit", signal.SIGTERM),
                                          ("mdp", signal.SIGINT),
                                          ("continuing", signal.SIGTERM)])
def test_a_signal_stops_a_long_kernel_within_seconds(tmp_path, setting, sig):
    """One batch of these runs takes minutes to hours; the signal stops it in seconds, the
    partial batch is dropped (no run completed) and the folder says how to resume."""
    out = tmp_path / "out"
    proc = _start(_long_args(setting, tmp_path), out)
    _wait_for(proc, out / "config.toml")
    time.sleep(KERNEL_START)
    _, err = _stop(proc, sig)
    assert proc.returncode == (130 if sig == signal.SIGINT else 143), err
    assert "Traceback" not in err and "--resume" in err and len(_messages(err)) == 1
    status = json.loads((out / "status.json").read_text())
    assert status["stopped_by"] == sig.name and not status["complete"]
    assert [m["runs_done"] for m in status["missing"].values()] == [0]
    assert not list(out.rglob("*.tmp")) and not list((out / "results").glob("*.npz"))


def test_a_second_sigint_stops_at_once(tmp_path):
    out = tmp_path / "out"
    proc = _start(_long_args("bandit", tmp_path), out)
    _wait_for(proc, out / "config.toml")
    time.sleep(KERNEL_START)
    _, err = _stop(proc, signal.SIGINT, signal.SIGINT)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and len(_messages(err)) == 1
    assert not list(out.rglob("*.tmp"))


def test_an_interrupt_inside_a_command_is_said(monkeypatch, capsys):
    """typer turns a KeyboardInterrupt raised inside a command into exit code 130 without a
    word; a second Ctrl-C during an experiment lands there, and celab still says why it
    stopped (the test above hits this case only when both signals arrive before the first
    is handled)."""
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_guard_work", interrupted)
    code, _, err = run_main(monkeypatch, capsys, "bandit", "--horizon", "10", "--runs", "1",
                            "--no-plots")
    assert code == 130
    assert _messages(err) == ["error: interrupted"]


def test_interrupted_mid_batch_then_resumed_equals_an_uninterrupted_run(tmp_path):
    """Batches of 2 runs that take a second or two each: SIGINT during the second batch keeps
    the first (2 runs) and drops the second; --resume computes runs 2 and 3 again, and the
    result equals an uninterrupted run's bit for bit."""
    horizon, runs = 20_000_000, 4
    env = {"CELAB_BATCH_WORK": "1", "NUMBA_NUM_THREADS": "2"}  # 2 runs per batch
    out = tmp_path / "out"
    proc = _start(["bandit", "--horizon", str(horizon), "--runs", str(runs), "--algos", "ucb",
                   "--env", "linspace10"], out, **env)
    _wait_for(proc, out / "results" / "linspace10.npz")
    time.sleep(0.2)  # well inside the second batch
    _, err = _stop(proc, signal.SIGINT)
    assert proc.returncode == 130, err
    status = json.loads((out / "status.json").read_text())
    assert status["missing"]["linspace10"]["runs_done"] == 2
    assert load_npz(out / "results" / "linspace10.npz").runs == 2
    done = subprocess.run([*CELAB, "run", str(out / "config.toml"), "--resume", "--no-plots"],
                          cwd=ROOT, env=dict(os.environ, **env), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    res = load_npz(out / "results" / "linspace10.npz")
    ref = bandits.run("linspace10", "ucb", horizon, runs)
    assert res.runs == runs
    assert np.array_equal(res.regret, ref.regret)
    assert np.array_equal(res.simple_regret_greedy, ref.simple_regret_greedy)
    assert np.array_equal(res.simple_regret_behaviour, ref.simple_regret_behaviour)
    assert np.array_equal(res.extra["pulls"], ref.extra["pulls"])


def test_ctrl_c_while_the_optimal_value_is_computed(tmp_path):
    """Before its first batch an episodic job computes V*_0 by backward induction over the
    horizon (here 60,000 steps of a garnet whose 1000 rows hold all 500 states: 3 * 10^10
    products, many seconds): Ctrl-C stops that too, before anything is written."""
    out = tmp_path / "out"
    proc = _start(["mdp", "--env", "garnet", "--env-arg", "n_states=500", "--env-arg",
                   "n_actions=2", "--env-arg", "branching=500", "--horizon", "60000",
                   "--episodes", "1", "--runs", "2", "--algos", "ce-greedy", "--yes"], out)
    time.sleep(3.0)  # start-up takes 1-2 s; then the backward induction runs
    _, err = _stop(proc, signal.SIGINT)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and not out.exists()


@pytest.mark.parametrize("name", ["riverswim", "garnet", "deep-sea", "gridworld"])
def test_optimal_value_equals_backward_induction(name):
    """The stoppable V*_0 (two value vectors) gives the number of backward induction on the
    episodic loop's model bit for bit (then averaged over the start distribution in increasing
    state), on sparse and on full rows (the garnet with 30 successors of 30 states)."""
    from mdp import _planning_kernels as plan
    from mdp._env_kernels import start_average
    from mdp.loop import kernel_model, optimal_value

    m = mdp.envs.garnet(30, 3, 30, seed=1) if name == "garnet" else mdp.envs.make(name)
    S, A = m.n_states, m.n_actions
    for horizon in (1, 2, 16, 17, 300):
        values = np.empty((horizon + 1, S))
        rule = plan.LowestIndex(np.empty((horizon, S), dtype=np.int64))
        plan.backward_induction(kernel_model(m), horizon, rule, values,
                                np.empty((horizon, S, A)), np.zeros(1, np.uint8))
        assert optimal_value(m, horizon) == float(start_average(m.initial, values[0]))


NOTEBOOK = """\
import threading
import bandits
bandits.run("linspace10", "ucb", 10, 2)  # load the kernel first: the signal must find it running
print("started", flush=True)
try:
    bandits.run("linspace10", "ucb", 10**10, 2)
except KeyboardInterrupt:
    alive = [t for t in threading.enumerate() if t.name == "celab-kernel"]
    small = bandits.run("linspace10", "ucb", 1000, 4)
    print("interrupted", len(alive), small.runs, flush=True)
"""


@pytest.mark.parametrize("layer", ["default", "workqueue"])
def test_ctrl_c_stops_the_python_api(tmp_path, layer):
    """In a notebook or script, Ctrl-C (a KeyboardInterrupt in the main thread) stops the
    kernel too, and the next call works: with numba's default threading layer and with
    workqueue, which aborts on concurrent parallel calls."""
    proc = subprocess.Popen([sys.executable, "-c", NOTEBOOK], cwd=ROOT, text=True,
                            env=dict(os.environ, NUMBA_THREADING_LAYER=layer),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_default_signals)
    assert proc.stdout.readline() == "started\n"
    time.sleep(KERNEL_START)
    rest, err = _stop(proc, signal.SIGINT)
    assert proc.returncode == 0, err
    assert rest == "interrupted 0 4\n"


def test_work_guard_refuses_an_absurd_request_without_a_terminal(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([*CELAB, *GUARDED, "--out", str(out)], cwd=ROOT, timeout=60,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert len(_messages(proc.stderr)) == 1
    assert "would take at least" in proc.stderr and "years" in proc.stderr
    assert "pass --yes" in proc.stderr
    assert not out.exists()


def test_work_guard_asks_at_a_terminal(tmp_path):
    """At a terminal the estimate is shown and the question defaults to No."""
    out = tmp_path / "out"
    main, child = os.openpty()
    os.write(main, b"\n")  # Enter: the default answer
    proc = subprocess.run([*CELAB, *GUARDED, "--out", str(out)], cwd=ROOT, stdin=child,
                          timeout=60, capture_output=True, text=True)
    os.close(main)
    os.close(child)
    assert proc.returncode == 2, proc.stderr
    assert "would take at least" in proc.stderr and "Run it anyway? [y/N]" in proc.stderr
    assert "not run" in proc.stderr
    assert not out.exists()


def test_work_guard_yes_runs_it(tmp_path):
    out = tmp_path / "out"
    proc = _start([*GUARDED[:-1], "--yes"], out)
    _wait_for(proc, out / "config.toml")
    time.sleep(KERNEL_START)
    _, err = _stop(proc, signal.SIGINT)
    assert proc.returncode == 130, err
    assert "--resume --yes" in err

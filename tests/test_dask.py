"""The Dask executor (tracking/executors.py): the numbers of the local executor whatever the
workers, the cut into tasks and the completion order; batches saved as they complete (parts
beyond a gap included), Ctrl-C, resume, SIGKILL, a killed worker, an unreachable scheduler,
other celab versions, dask missing, damaged part files.

One LocalCluster of two worker processes serves the module (``dask2``); the command-line
processes connect to its scheduler, except those that test ``--dask local:N`` itself.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from experiments import files, session
from tests.cli_helpers import messages, run_main
from tracking import executors
from tracking.batching import task_ranges
from tracking.executors import (
    Completed,
    DaskExecutor,
    ExecutorError,
    ExecutorSpec,
    LocalExecutor,
    Parts,
)
from tracking.results import load_npz
from tracking.runner import arrays_of, call_interruptible, execute

ROOT = Path(__file__).resolve().parents[1]
CELAB = [sys.executable, "-c", "import cli; cli.main()"]
#: Seconds a process gets to exit, or its workers to go, once told (it takes under a few).
WAIT = 30.0
EXPERIMENT = """\
seed = 3

[[problem]]
setting = "bandit"
env = "close10"
horizon = 3000
runs = 7
agents = ["ucb", "thompson", "reinforce"]

[[problem]]
name = "testbed"
setting = "bandit"
env = "sutton-barto"
horizon = 500
runs = 5
agents = ["greedy"]

[[problem]]
setting = "mdp"
env = "riverswim"
horizon = 10
episodes = 60
runs = 5
agents = ["psrl", "ce-optimistic"]

[[problem]]
name = "river-avg"
setting = "continuing"
env = "riverswim"
steps = 400
runs = 3
agents = ["ucrl2"]

[[problem]]
name = "until"
setting = "bandit"
env = "two-level"
args = { n_arms = 2, best = 0.5, gap = 0.2 }
horizon = 20
budget = "until"
cap = 160
runs = 4
epsilon = 0.01
agents = ["ucb", "greedy"]
"""
#: One long bandit problem: each run takes about a fifth of a second on one thread.
LONG = """\
[[problem]]
setting = "bandit"
env = "close10"
horizon = 3000000
runs = 6
agents = ["ucb"]
"""


@pytest.fixture(scope="module")
def dask2():
    """A LocalCluster of two worker processes (one thread each), started by the executor."""
    pytest.importorskip("distributed")
    with DaskExecutor(ExecutorSpec("dask", "local:2")) as ex:
        yield ex


def _address(ex: DaskExecutor) -> str:
    return ex.cluster.scheduler_address


def _same(a, b) -> None:
    arrays_a, arrays_b = arrays_of(a), arrays_of(b)
    assert sorted(arrays_a) == sorted(arrays_b)
    for key in arrays_a:
        assert arrays_a[key].dtype == arrays_b[key].dtype, key
        assert np.array_equal(arrays_a[key], arrays_b[key]), key
    assert a.info == b.info and a.config == b.config


def _jobs(text: str = EXPERIMENT) -> list:
    return files.build_jobs(files.parse(text))


def _env(**extra) -> dict:
    env = dict(os.environ, **extra)
    env.pop("CELAB_MEMORY_LIMIT", None)
    return env


# --- the numbers ------------------------------------------------------------------------------

@pytest.mark.parametrize("work", ["3e8", "2e4"])
@pytest.mark.parametrize("slots", [1, 2])
def test_every_setting_gives_the_local_numbers(dask2, monkeypatch, work, slots):
    """Bit for bit, with few tasks (one per worker) and with one run per task, cut for one
    worker or two (a run on one worker process: test_ctrl_c_on_a_local_cluster_then_resume),
    and progress counts every sample once."""
    monkeypatch.setenv("CELAB_BATCH_WORK", work)
    monkeypatch.setattr(dask2, "slots", lambda: slots)
    for job in _jobs()[:4]:
        counted = []
        got = dask2.execute(job, counted.append)
        _same(got, execute(job))
        assert sum(counted) == job.total_samples


PER_RUN = """\
[[problem]]
setting = "mdp"
env = "garnet"
args = { n_states = 10, n_actions = 2, branching = 3 }
instance = "per-run"
horizon = 6
episodes = 40
runs = 5
epsilon_share = 0.1
agents = ["psrl", "reinforce"]
"""


@pytest.mark.parametrize("work", ["3e8", "2e4"])
def test_instances_per_run_give_the_local_numbers(dask2, monkeypatch, work):
    """Each task draws its runs' instances from their run seeds: bit for bit the local numbers,
    with few tasks and with one run per task; tuning runs too."""
    from tracking.rng import TUNING_BRANCH

    monkeypatch.setenv("CELAB_BATCH_WORK", work)
    for branch in (None, TUNING_BRANCH):
        job, = _jobs(PER_RUN)
        job.set_branch(branch)
        got = dask2.execute(job)
        _same(got, execute(job))
        assert sorted(got.extra) == ["instance_seed", "v_star"]


def test_an_experiment_on_dask_equals_the_local_one(dask2, tmp_path, monkeypatch):
    """Through the session: every result, every try of the budget = "until" problem and a model
    read from a file (which the workers read from the folder's copy); no parts are left."""
    monkeypatch.setenv("CELAB_BATCH_WORK", "1e5")
    import mdp

    mdp.save(mdp.envs.make("riverswim", n_states=4), tmp_path / "chain.json")
    text = EXPERIMENT + """
[[problem]]
setting = "mdp"
file = "chain.json"
horizon = 8
episodes = 40
runs = 3
agents = ["psrl"]
"""
    (tmp_path / "exp.toml").write_text(text)
    outcomes = {}
    for name, ex in (("local", LocalExecutor()), ("dask", dask2)):
        jobs = files.build_jobs(files.read(tmp_path / "exp.toml"))
        with session.Folder(tmp_path / name) as folder:
            outcomes[name] = session.run_experiment(jobs, folder, plots=False, executor=ex)
    assert outcomes["dask"].status["complete"]
    for a, b in zip(outcomes["local"].results, outcomes["dask"].results):
        _same(a, b)
    tries = sorted(p.name for p in (tmp_path / "local" / "tries").iterdir())
    assert len(tries) > 1  # the rule doubled the budget
    assert tries == sorted(p.name for p in (tmp_path / "dask" / "tries").iterdir())
    for name in tries:
        _same(load_npz(tmp_path / "local" / "tries" / name),
              load_npz(tmp_path / "dask" / "tries" / name))
    assert not (tmp_path / "dask" / "parts").exists()


@pytest.mark.slow
def test_user_agents_on_dask_give_the_local_numbers(dask2, tmp_path):
    """Agents named by import path, compiled and plain Python, run on the workers (which
    import them as the client does) with the local numbers."""
    from tests.test_extending import EXPERIMENT as USER

    outcomes = {}
    for name, ex in (("local", LocalExecutor()), ("dask", dask2)):
        with session.Folder(tmp_path / name) as folder:
            outcomes[name] = session.run_experiment(_jobs(USER), folder, plots=False,
                                                    executor=ex)
    assert outcomes["dask"].status["complete"]
    for a, b in zip(outcomes["local"].results, outcomes["dask"].results):
        _same(a, b)


def test_tasks_share_the_runs_evenly(monkeypatch):
    """A multiple of the slots, sizes within one, every run once, at most about BATCH_WORK
    operations per task (at least one run)."""
    monkeypatch.delenv("CELAB_BATCH_WORK", raising=False)
    for n, work, slots in ((10, 1.0, 2), (7, 1e8, 2), (5, 1e9, 4), (3, 1.0, 8), (100, 7e6, 3)):
        ranges = task_ranges(4, 4 + n, work, slots)
        sizes = [b - a for a, b in ranges]
        assert [a for a, _ in ranges][1:] == [b for _, b in ranges][:-1]
        assert ranges[0][0] == 4 and ranges[-1][1] == 4 + n
        assert len(ranges) % slots == 0 or len(ranges) == n
        assert max(sizes) - min(sizes) <= 1
        assert max(sizes) == 1 or max(sizes) * work <= 3e8 * 1.01
    assert task_ranges(5, 5, 1.0, 2) == []


def test_a_kernel_runs_on_the_callers_number_of_threads():
    """numba.set_num_threads holds per thread: the kernel's thread takes the caller's (a Dask
    task runs on one thread), not numba's default."""
    import numba

    seen = []
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        call_interruptible(lambda stop: seen.append(numba.get_num_threads()))
    finally:
        numba.set_num_threads(before)
    assert seen == [1]


# --- saving as tasks complete -----------------------------------------------------------------

def _slices(result, start, stop):
    return {k: v[:, start:stop].copy() for k, v in arrays_of(result).items()}


def test_tasks_completed_out_of_order_are_saved_as_parts(tmp_path):
    """A task beyond a gap is saved as a part at once; when the gap is filled the runs are
    saved, then the parts removed; a part inside the saved runs (a kill in between) is removed
    on reading."""
    job = _jobs()[0]
    ref = execute(job)
    parts = Parts(tmp_path / "parts")
    saved = []
    runs = Completed(job, None, parts, None, saved.append)
    runs.add(4, 7, _slices(ref, 4, 7))
    runs.add(2, 4, _slices(ref, 2, 4))
    assert sorted(p.name for p in parts.folder.iterdir()) == ["2-4.npz", "4-7.npz"]
    assert saved == [] and list(runs.gaps()) == [(0, 2)]
    runs.add(0, 2, _slices(ref, 0, 2))
    assert [r.runs for r in saved] == [7]
    _same(saved[0], ref)
    assert not parts.folder.exists()
    parts.save(job, 0, 3, _slices(ref, 0, 3))  # joined and saved, not yet removed
    parts.save(job, 5, 7, _slices(ref, 5, 7))
    runs = Completed(job, job.result(_slices(ref, 0, 3)), parts, None, None)
    assert sorted(p.name for p in parts.folder.iterdir()) == ["5-7.npz"]
    assert list(runs.gaps()) == [(3, 5)]


def _interrupted(tmp_path: Path, damage=None) -> tuple[Path, object]:
    """A folder as an interrupted Dask run leaves it: runs 0..1 saved, a part of runs 2..3
    contiguous with them, one of runs 5..6 beyond a gap, both holding the reference numbers
    plus one (so that a part used is told from one recomputed), and runs 4 missing; ``damage``
    is applied to the part of runs 5..6. Returns the folder and the reference result."""
    job = _jobs()[0]
    ref = execute(job)
    out = tmp_path / "out"
    with session.Folder(out) as folder:
        folder.write_config(session.config_text([job.config], None, 3))
        folder.save_result(job.result(_slices(ref, 0, 2)))
        parts = folder.parts(folder.result_path(job.problem))
        for a, b in ((2, 4), (5, 7)):
            marked = _slices(ref, a, b)
            marked["regret"] += 1.0
            parts.save(job, a, b, marked)
        if damage is not None:
            damage(parts.path(5, 7))
    return out, ref


def _resume(out: Path, executor) -> tuple[object, list[str]]:
    spec = session.read_config(out / "config.toml")
    jobs = files.build_jobs(spec)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with session.Folder(out, resume=True) as folder:
            outcome = session.run_experiment(jobs, folder, resume=True, plots=False,
                                             executor=executor)
    return outcome, [str(w.message) for w in caught]


def _marked(result, ref, runs) -> None:
    """Runs ``runs`` of ``result`` hold the marked numbers, the others the reference."""
    assert np.array_equal(result.regret[:, runs], ref.regret[:, runs] + 1.0)
    others = [r for r in range(ref.runs) if r not in runs]
    assert np.array_equal(result.regret[:, others], ref.regret[:, others])
    assert np.array_equal(result.simple_regret_greedy, ref.simple_regret_greedy)


def test_resume_on_dask_takes_the_parts_and_computes_the_rest(dask2, tmp_path):
    out, ref = _interrupted(tmp_path)
    outcome, caught = _resume(out, dask2)
    assert caught == [] and outcome.status["complete"]
    _marked(load_npz(out / "results" / "close10.npz"), ref, [2, 3, 5, 6])
    assert not (out / "parts").exists()


def test_resume_here_takes_the_parts_contiguous_with_the_saved_runs(tmp_path):
    out, ref = _interrupted(tmp_path)
    outcome, caught = _resume(out, LocalExecutor())
    assert caught == [] and outcome.status["complete"]
    _marked(load_npz(out / "results" / "close10.npz"), ref, [2, 3])
    assert not (out / "parts").exists()


DAMAGE = {
    "cut": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "random bytes": lambda p: p.write_bytes(np.random.default_rng(0).bytes(p.stat().st_size)),
    "other runs": lambda p: p.rename(p.with_name("4-6.npz")),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_part_is_computed_again(dask2, tmp_path, damage):
    out, ref = _interrupted(tmp_path, DAMAGE[damage])
    outcome, caught = _resume(out, dask2)
    assert len(caught) == 1 and "parts" in caught[0] and "computed again" in caught[0]
    assert outcome.status["complete"]
    _marked(load_npz(out / "results" / "close10.npz"), ref, [2, 3])


# --- faults -----------------------------------------------------------------------------------

def test_a_worker_killed_under_a_task_costs_a_retry(dask2, monkeypatch):
    """SIGKILL to a worker process that holds a task, once the first task completed: the task
    runs again elsewhere and the numbers are unchanged."""
    monkeypatch.setenv("CELAB_BATCH_WORK", "2e6")
    job = _jobs("""\
[[problem]]
setting = "bandit"
env = "close10"
horizon = 200000
runs = 16
agents = ["ucb"]
""")[0]
    client = dask2.client
    pids = client.run(os.getpid)
    killed = []

    def kill_a_busy_worker(samples: int) -> None:
        if not killed:
            busy = sorted(w for w, keys in client.processing().items() if keys)
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])

    try:
        got = dask2.execute(job, kill_a_busy_worker)
    finally:
        client.wait_for_workers(2, timeout=WAIT)  # the nanny starts another process
    assert killed
    _same(got, execute(job))


def test_a_task_lost_on_every_try_is_one_line():
    """dask's KilledWorker (a task whose workers kept dying) and a lost connection become an
    ExecutorError naming the problem; a task's own error stays itself."""
    job = _jobs()[0]

    class KilledWorker(Exception):
        pass

    class Failed:
        def __init__(self, error):
            self.error = error

        def result(self):
            raise self.error

    for error in (KilledWorker("task celab-close10-0-2 marked as failed"), OSError("closed")):
        with pytest.raises(ExecutorError, match="close10: a task failed on the cluster"):
            executors._task_result(Failed(error), job)
    for error in (files.FileError("exp.toml:3: bad"), RuntimeError("a bug")):
        with pytest.raises(type(error), match=str(error)):
            executors._task_result(Failed(error), job)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CELAB_DASK_TIMEOUT", "1")
    (tmp_path / "exp.toml").write_text(LONG)
    address = f"tcp://127.0.0.1:{_free_port()}"
    code, out, err = run_main(monkeypatch, capsys, "run", "exp.toml", "--dask", address,
                              "--out", "o")
    assert code == 2, err
    lines = messages(err)
    assert len(lines) == 1 and address in lines[0] and "no scheduler answered within 1 s" in \
        lines[0], err
    assert not (tmp_path / "o").exists()


def test_without_dask_the_option_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed: ImportError
    (tmp_path / "exp.toml").write_text(LONG)
    code, out, err = run_main(monkeypatch, capsys, "run", "exp.toml", "--dask", "local:2",
                              "--out", "o")
    assert code == 2
    lines = messages(err)
    assert len(lines) == 1 and executors.INSTALL_HINT in lines[0], err
    assert not (tmp_path / "o").exists()


def test_workers_of_another_version_are_named(dask2, tmp_path, monkeypatch, capsys):
    """The probe's answers (faked: every worker claims another celab, or none) stop the run
    before anything is written, naming a worker and both versions."""
    address = _address(dask2)
    workers = sorted(dask2.client.scheduler_info()["workers"])
    mine = executors.celab_version()
    for answer, words in (({"celab": "0.0.0-other"}, ["0.0.0-other", mine]),
                          ({"celab": None}, ["cannot import celab", mine])):
        with pytest.raises(ExecutorError) as e:
            DaskExecutor(ExecutorSpec("dask", address), probe=lambda a=answer: a).open()
        assert workers[0] in str(e.value) and all(w in str(e.value) for w in words)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(executors, "version_probe", lambda: lambda: {"celab": "0.0.0-other"})
    (tmp_path / "exp.toml").write_text(LONG)
    code, out, err = run_main(monkeypatch, capsys, "run", "exp.toml", "--dask", address,
                              "--out", "o")
    assert code == 2
    lines = messages(err)
    assert len(lines) == 1 and "0.0.0-other" in lines[0] and workers[0] in lines[0], err
    assert not (tmp_path / "o").exists()


def test_a_task_checks_the_version_and_the_rebuilt_job():
    """A worker that joins later is checked by its first task; a table its job class does not
    rebuild exactly is an error, not other numbers."""
    job = _jobs()[0]
    path = f"{type(job).__module__}:{type(job).__qualname__}"
    table = json.dumps(job.task_table())
    with pytest.raises(ExecutorError, match="runs celab .*, the client celab 0.0.0-other"):
        executors.run_task(path, table, "0.0.0-other", 0, 1)
    got = executors.run_task(path, table, executors.celab_version(), 2, 4)
    assert all(np.array_equal(v, arrays_of(execute(job))[k][:, 2:4]) for k, v in got.items())
    partial = {k: v for k, v in job.task_table().items() if k != "checkpoints"}
    with pytest.raises(RuntimeError, match="differs in checkpoints"):
        executors.cached_job(path, json.dumps(partial))


# --- the command line: options, Ctrl-C, SIGKILL -----------------------------------------------

@pytest.mark.parametrize("value, rule", [("local:0", "N >= 1"), ("http://host:1", "local:N"),
                                         ("two words", "local:N"), ("", "local:N")])
def test_a_bad_dask_option_is_one_line(tmp_path, monkeypatch, capsys, value, rule):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exp.toml").write_text(LONG)
    code, out, err = run_main(monkeypatch, capsys, "run", "exp.toml", "--dask", value)
    assert code == 2
    lines = messages(err)
    assert len(lines) == 1 and lines[0].startswith("error: --dask must be") and rule in lines[0]


@pytest.mark.parametrize("table, line, words", [
    ('kind = "dask"', 2, "needs an address"),
    ('kind = "dask"\naddress = "two words"', 3, "executor address must be"),
    ('kind = "cluster"', 2, "kind must be"),
    ('kind = "local"\naddress = "local:2"', 3, 'applies to kind = "dask"'),
    ('kind = "dask"\nworkers = 2', 3, "unknown key 'workers'"),
])
def test_the_executor_table_of_a_file_is_checked(table, line, words):
    with pytest.raises(files.FileError) as e:
        files.parse(f"[executor]\n{table}\n\n{LONG}", "exp.toml")
    assert str(e.value).startswith(f"exp.toml:{line}: ") and words in str(e.value)
    spec = files.parse(f'[executor]\nkind = "dask"\naddress = "local:3"\n\n{LONG}')
    assert spec["executor"] == ExecutorSpec("dask", "local:3")
    assert files.parse(LONG)["executor"] is None


def _start(args: list[str], **env) -> subprocess.Popen:
    return subprocess.Popen([*CELAB, *args, "--no-plots"], cwd=ROOT, env=_env(**env),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for(proc: subprocess.Popen, path: Path) -> None:
    deadline = time.monotonic() + 120.0
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"exited with {proc.returncode} first: {proc.communicate()[1]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"{path} did not appear")
        time.sleep(0.02)


def _children(pid: int) -> list:
    import psutil

    return psutil.Process(pid).children(recursive=True)


def _gone(processes: list) -> bool:
    import psutil

    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in processes):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def long_reference():
    """LONG's result from the local executor."""
    return execute(_jobs(LONG)[0])


def test_ctrl_c_on_a_local_cluster_then_resume(dask2, long_reference, tmp_path):
    """``--dask local:1``: SIGINT once the first runs are saved exits with 130, prints the
    resume command with its --dask, leaves no worker process; the resume (on the module's
    cluster) ends with the local numbers."""
    (tmp_path / "exp.toml").write_text(LONG)
    out = tmp_path / "out"
    proc = _start(["run", str(tmp_path / "exp.toml"), "--dask", "local:1", "--out", str(out)],
                  CELAB_BATCH_WORK="1e7")  # one run per task
    _wait_for(proc, out / "results" / "close10.npz")
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 130, err
    assert "--resume --dask local:1" in messages(err)[-1], err
    assert workers and _gone(workers)
    status = json.loads((out / "status.json").read_text())
    assert 0 < status["missing"]["close10"]["runs_done"] < 6
    done = subprocess.run([*CELAB, "run", str(out / "config.toml"), "--resume", "--dask",
                           _address(dask2), "--no-plots"], cwd=ROOT, env=_env(),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr
    _same(load_npz(out / "results" / "close10.npz"), long_reference)
    assert not (out / "parts").exists() and not (out / ".lock").exists()


def test_sigkill_of_the_client_leaves_no_worker(dask2, long_reference, tmp_path):
    """kill -9 of ``celab run --dask local:2``: its worker processes exit with it (they
    watch their parent); the stale lock does not block the resume, which ends with the local
    numbers."""
    (tmp_path / "exp.toml").write_text(LONG)
    out = tmp_path / "out"
    proc = _start(["run", str(tmp_path / "exp.toml"), "--dask", "local:2", "--out", str(out)],
                  CELAB_BATCH_WORK="1e7")
    _wait_for(proc, out / "results" / "close10.npz")
    workers = _children(proc.pid)
    proc.kill()
    proc.communicate(timeout=WAIT)
    assert len(workers) >= 2 and _gone(workers)
    done = subprocess.run([*CELAB, "run", str(out / "config.toml"), "--resume", "--dask",
                           _address(dask2), "--no-plots"], cwd=ROOT, env=_env(),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    _same(load_npz(out / "results" / "close10.npz"), long_reference)


TUNE = """\
seed = 2
[[problem]]
setting = "bandit"
env = "linspace10"
horizon = 200
runs = 4
agents = ["ucb", "reinforce"]
[tune]
objective = "regret"
runs = 3
reinforce = { alpha = [0.03, 0.3] }
"""


def test_tuning_on_dask_runs_the_tuning_seeds_and_chooses_as_here(dask2, tmp_path, monkeypatch):
    """celab tune's candidates on the workers: the jobs rebuilt there keep the tuning branch, so
    the saved candidate runs and the record equal the local tuning's."""
    from experiments import tune as tuning

    monkeypatch.setenv("CELAB_BATCH_WORK", "1e3")
    done = {}
    for name, ex in (("local", LocalExecutor()), ("dask", dask2)):
        plan = tuning.plan(files.parse(TUNE, "tune.toml"))
        done[name] = tuning.run(plan, tmp_path / name, executor=ex)
    assert done["dask"].record == done["local"].record
    for a, b in zip(done["local"].outcome.results, done["dask"].outcome.results):
        _same(a, b)

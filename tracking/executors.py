"""Executors: where the batches of a job run (docs/scaling.md).

:class:`LocalExecutor`, the default, is the batched runner itself (:func:`tracking.runner.execute`):
one batch after the other in this process, each kernel call spread over every core.
:class:`DaskExecutor` sends the batches to the worker processes of a dask.distributed cluster
instead. A task is (job, runs ``start:stop``) and calls :func:`run_task`, a pure function of the
job's problem table (:meth:`tracking.runner.Job.task_table`, sent as JSON) and the run indices
that returns the batch's arrays; only those arrays travel back. Each worker process rebuilds a
job from its table once and keeps it (the problem, its optimal value, the loaded kernels). Run
r depends on (seed, r) only, so the numbers equal the local executor's bit for bit, whatever the
number of workers, the cut into tasks and the order in which they complete.

Tasks complete in any order. The runs contiguous with the saved ones join them and are saved
(``on_batch``, as locally); a task completed beyond a gap is saved at once as a *part*,
``parts/<file>/<start>-<stop>.npz`` beside the file its runs join (:class:`Parts`, one
atomic file per task), and joins the runs once the gap is filled: the runs are saved first,
the part file removed after. So an interruption (Ctrl-C, SIGTERM, SIGKILL) loses no completed
task; a resume reads the saved runs and the sound parts back (a part that cannot be read is
damage: one warning, its runs are computed again) and computes only what neither holds.

dask is imported by :class:`DaskExecutor` only: celab without it works as before.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
import uuid
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .batching import task_ranges
from .memory import MemoryLimitError
from .paths import inside
from .results import DamagedFile, Result, load_npz, save_npz
from .runner import (
    POLL_SECONDS,
    Job,
    Progress,
    StopRequest,
    arrays_of,
    execute,
    job_from_table,
    no_runs,
    resumed_arrays,
)
from .settings import fail
from .validate import InputError
from .versions import celab_version

#: What to install for ``--dask``.
INSTALL_HINT = 'pip install "celab[dask]"'
#: Seconds to wait for a scheduler to answer (CELAB_DASK_TIMEOUT overrides it).
CONNECT_TIMEOUT = 5.0
#: Times a failed task is submitted again (a worker that died under it, say).
RETRIES = 3
#: Seconds a LocalCluster's worker waits for its scheduler (starting, or after losing it)
#: before it exits.
DEATH_TIMEOUT = 60.0
#: Jobs a worker process keeps built (each try of a ``budget = "until"`` problem is a job).
CACHED_JOBS = 4
#: The executor kinds of ``[executor] kind``.
KINDS = ("local", "dask")
#: Schemes of a scheduler's address that dask.distributed connects to.
SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")

_LOCAL = re.compile(r"local:(\d+)")
_ADDRESS = re.compile(r"(?:(?P<scheme>[a-z]+)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)"
                      r"(?::(?P<port>\d{1,5}))?")
ADDRESS_RULE = "local:N (N worker processes on this machine) or a scheduler's address such " \
               "as tcp://host:8786"


class ExecutorError(InputError):
    """The cluster cannot serve: unreachable, without celab, another version, tasks lost."""


# --- which executor ------------------------------------------------------------------------

@dataclass(frozen=True)
class ExecutorSpec:
    """Where to run: ``kind`` ``"local"``, or ``"dask"`` with ``address`` a scheduler's address
    or ``local:N`` (a LocalCluster of N worker processes, one thread each)."""

    kind: str = "local"
    address: str | None = None

    @property
    def local_workers(self) -> int | None:
        """N of ``local:N``, else None."""
        match = _LOCAL.fullmatch(self.address or "")
        return int(match.group(1)) if match else None

    def option(self) -> str:
        """The command-line option that chooses this executor (``""`` for the local one), for
        the resume command an interruption prints."""
        return f" --dask {self.address}" if self.kind == "dask" else ""


def dask_address(text: str) -> str:
    """``text`` checked as ``local:N`` (N >= 1) or a scheduler's address; ValueError naming
    the rule."""
    text = text.strip()
    local = _LOCAL.fullmatch(text)
    if local:
        if int(local.group(1)) < 1:
            raise InputError(f"must be local:N with N >= 1 worker processes, got {text!r}")
        return text
    match = _ADDRESS.fullmatch(text)
    if not text or match is None or text.startswith("local") or (
            match.group("scheme") not in (None, *SCHEMES)):
        raise InputError(f"must be {ADDRESS_RULE}, got {text!r}")
    return text


def spec_from_table(table: Mapping[str, Any]) -> ExecutorSpec:
    """The ``[executor]`` table of an experiment file: ``kind`` ``"local"`` (the default) or
    ``"dask"``, which needs ``address``. A bad key raises
    :class:`tracking.settings.TableError` naming it."""
    for key in table:
        if key not in ("kind", "address"):
            fail(key, f"unknown key '{key}' in [executor] (allowed: address, kind)")
    kind = table.get("kind", "local")
    if kind not in KINDS:
        fail("kind", f"executor kind must be \"local\" or \"dask\", got {kind!r}")
    address = table.get("address")
    if kind == "local":
        if address is not None:
            fail("address", 'executor address applies to kind = "dask" only')
        return ExecutorSpec()
    if address is None:
        fail("kind", f'executor kind = "dask" needs an address: {ADDRESS_RULE}')
    if not isinstance(address, str):
        fail("address", f"executor address must be a string, got {address!r}")
    try:
        return ExecutorSpec("dask", dask_address(address))
    except ValueError as e:
        fail("address", f"executor address {e}")


def open_executor(spec: ExecutorSpec | None) -> Executor:
    """The executor of ``spec`` (local without one), to be used as a context manager."""
    if spec is None or spec.kind == "local":
        return LocalExecutor()
    return DaskExecutor(spec)


# --- completed runs: the saved prefix, the parts ---------------------------------------------

class Parts:
    """Completed batches of a job not (yet) contiguous with its saved runs: one file each,
    ``<start>-<stop>.npz`` in ``folder`` (a Result over runs start:stop, its info recording
    them under ``part``), written atomically."""

    _NAME = re.compile(r"(\d+)-(\d+)\.npz")

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, start: int, stop: int) -> Path:
        """``folder/<start>-<stop>.npz``, checked to lie inside the folder."""
        return inside(self.folder, f"{int(start)}-{int(stop)}.npz")

    def save(self, job: Job, start: int, stop: int, arrays: dict[str, np.ndarray]) -> None:
        """Save runs ``start:stop`` of ``job``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        res = job.result(arrays)
        save_npz(replace(res, info={**res.info, "part": [start, stop]}), self.path(start, stop))

    def load(self, job: Job) -> dict[int, tuple[int, dict[str, np.ndarray]]]:
        """The sound parts of ``job``: start -> (stop, arrays). A part that cannot be read, is
        not a batch of ``job`` (its configuration, arrays, agents, checkpoints, runs) or does
        not hold the runs its name says is left out with one warning: its runs are computed
        again (and its file replaced when they complete)."""
        found: dict[int, tuple[int, dict[str, np.ndarray]]] = {}
        if not self.folder.is_dir():
            return found
        config = json.loads(json.dumps(job.config))
        for path in sorted(self.folder.iterdir()):
            name = self._NAME.fullmatch(path.name)
            if name is None:
                continue
            start, stop = int(name.group(1)), int(name.group(2))
            try:
                res = load_npz(path)
                if res.config != config:
                    raise InputError("made with another configuration")
                job.check_saved(res)
                if res.info.get("part") != [start, stop] or res.runs != stop - start or \
                        not 0 <= start < stop <= job.runs:
                    raise InputError(f"it does not hold runs {start}..{stop - 1}")
            except MemoryLimitError:
                raise
            except ValueError as e:
                text = str(e) if isinstance(e, DamagedFile) else f"{path}: damaged ({e})"
                warnings.warn(f"{text}; its runs are computed again", UserWarning, stacklevel=2)
                continue
            found[start] = (stop, arrays_of(res))
        return found

    def remove(self, start: int, stop: int) -> None:
        self.path(start, stop).unlink(missing_ok=True)

    def clear(self) -> None:
        """Remove the folder of parts (the job's runs are all saved)."""
        shutil.rmtree(self.folder, ignore_errors=True)


class Completed:
    """The runs of a job completed so far: the saved prefix (runs 0:done) and pieces beyond
    it, which join the prefix as soon as it reaches them.

    ``resume`` holds saved runs; ``parts`` (optional) the saved pieces, read at once (those
    already inside the prefix are removed). ``on_batch`` is called with the prefix's Result
    each time it grows; ``progress`` with the samples of every run counted in.
    """

    def __init__(self, job: Job, resume: Result | None, parts: Parts | None,
                 progress: Progress | None, on_batch: Callable[[Result], None] | None) -> None:
        self.job = job
        self.parts = parts
        self.progress = progress
        self.on_batch = on_batch
        self.arrays = resumed_arrays(job, resume)
        self.done = 0 if resume is None else resume.runs
        self.pieces: dict[int, tuple[int, dict[str, np.ndarray]]] = {}
        self.saved_parts: set[int] = set()
        loaded = parts.load(job) if parts is not None else {}
        end = self.done
        for start in sorted(loaded):
            stop, arrays = loaded[start]
            if start < end:  # inside the prefix or another part: joined before, or another cut
                parts.remove(start, stop)
                continue
            self.pieces[start] = (stop, arrays)
            self.saved_parts.add(start)
            end = stop
        counted = self.done + sum(stop - start for start, (stop, _) in self.pieces.items())
        if progress is not None and counted:
            progress(job.samples_of(counted))
        self._join()

    def gaps(self) -> Iterator[tuple[int, int]]:
        """The runs neither the prefix nor a piece holds, as ``(start, stop)`` ranges."""
        at = self.done
        for start in sorted(self.pieces):
            if start > at:
                yield at, start
            at = self.pieces[start][0]
        if at < self.job.runs:
            yield at, self.job.runs

    def add(self, start: int, stop: int, arrays: dict[str, np.ndarray]) -> None:
        """Runs ``start:stop`` completed: joined to the prefix (saved) when it reaches them,
        else saved as a part."""
        self.pieces[start] = (stop, arrays)
        if start == self.done:
            self._join()
        elif self.parts is not None:
            self.parts.save(self.job, start, stop, arrays)
            self.saved_parts.add(start)
        if self.progress is not None:
            self.progress(self.job.samples_of(stop - start))

    def _join(self) -> None:
        """Move the pieces contiguous with the prefix into it; save it, then remove their part
        files (a kill in between leaves parts inside the prefix, removed on resume)."""
        joined = []
        while self.done in self.pieces:
            start = self.done
            stop, arrays = self.pieces.pop(start)
            for key, value in arrays.items():
                self.arrays[key] = (np.concatenate([self.arrays[key], value], axis=1)
                                    if key in self.arrays else value)
            joined.append((start, stop))
            self.done = stop
        if not joined:
            return
        if self.on_batch is not None:
            self.on_batch(self.result())
        for start, stop in joined:
            if start in self.saved_parts:
                self.saved_parts.discard(start)
                self.parts.remove(start, stop)
        if self.done >= self.job.runs and self.parts is not None:
            self.parts.clear()

    def result(self) -> Result:
        """The Result of the prefix."""
        return self.job.result(self.arrays) if self.arrays else no_runs(self.job)


# --- executors -------------------------------------------------------------------------------

class Executor:
    """Runs jobs: :meth:`execute` has the signature of :func:`tracking.runner.execute`, plus
    the job's :class:`Parts`. Used as a context manager (a cluster is connected inside)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release what the executor holds (nothing locally)."""

    def execute(self, job: Job, progress: Progress | None = None,
                should_stop: StopRequest | None = None, resume: Result | None = None,
                on_batch: Callable[[Result], None] | None = None,
                parts: Parts | None = None) -> Result:
        raise NotImplementedError


class LocalExecutor(Executor):
    """The batched runner in this process (:func:`tracking.runner.execute`). Parts another
    executor saved join the saved runs when contiguous with them; the others' runs are
    computed again."""

    def execute(self, job: Job, progress: Progress | None = None,
                should_stop: StopRequest | None = None, resume: Result | None = None,
                on_batch: Callable[[Result], None] | None = None,
                parts: Parts | None = None) -> Result:
        if parts is not None and parts.folder.is_dir():
            resume = Completed(job, resume, parts, None, on_batch).result()
        return execute(job, progress, should_stop, resume, on_batch)


def connect_timeout() -> float:
    """Seconds to wait for a scheduler: CELAB_DASK_TIMEOUT when it is a number > 0, else
    CONNECT_TIMEOUT."""
    try:
        value = float(os.environ.get("CELAB_DASK_TIMEOUT", CONNECT_TIMEOUT))
    except ValueError:
        return CONNECT_TIMEOUT
    return value if value > 0 else CONNECT_TIMEOUT


def _distributed() -> Any:
    """The dask.distributed module; ExecutorError saying how to install it when missing."""
    try:
        import distributed
    except ImportError:
        raise ExecutorError(f"--dask needs dask.distributed, which is not installed: "
                            f"{INSTALL_HINT}") from None
    return distributed


def version_probe() -> Callable[[], dict[str, Any]]:
    """The function a worker runs to say which celab it has. It is made here, inside a
    function, so that it travels by value: a worker without celab runs it too."""

    def probe() -> dict[str, Any]:
        try:
            from tracking.versions import celab_version
        except ImportError:
            return {"celab": None}
        return {"celab": celab_version()}

    return probe


def version_problem(answers: Mapping[str, Mapping[str, Any]], mine: str) -> str | None:
    """The line that names the first worker whose celab is missing or not ``mine``, None when
    every worker runs ``mine``."""
    for worker, answer in sorted(answers.items()):
        theirs = answer.get("celab")
        if theirs is None:
            return (f"dask worker {worker} cannot import celab (this process runs celab {mine}); "
                    f"install celab {mine} on every worker")
        if theirs != mine:
            return (f"dask worker {worker} runs celab {theirs}, this process celab {mine}; "
                    f"install celab {mine} on every worker")
    return None


class DaskExecutor(Executor):
    """Tasks on a dask.distributed cluster: a running scheduler (``spec.address``) or a
    LocalCluster of ``local:N`` worker processes with one thread each, started here and shut
    down on :meth:`close`.

    Opening connects within :func:`connect_timeout` seconds (else ExecutorError) and asks
    every worker for its celab version (``probe``, default :func:`version_probe`); a worker
    without celab or with another version is an ExecutorError naming it. Tasks are submitted
    with RETRIES retries: a worker that dies under a task costs a retry, not a result.
    """

    def __init__(self, spec: ExecutorSpec, probe: Callable[[], dict[str, Any]] | None = None,
                 timeout: float | None = None) -> None:
        self.spec = spec
        self.probe = probe if probe is not None else version_probe()
        self.timeout = connect_timeout() if timeout is None else timeout
        self.client: Any = None
        self.cluster: Any = None

    def __enter__(self) -> DaskExecutor:
        self.open()
        return self

    def open(self) -> None:
        """Start or connect to the cluster and check its workers."""
        distributed = _distributed()
        try:
            self._connect(distributed)
            self.check_workers()
        except BaseException:
            self.close()
            raise

    def _connect(self, distributed: Any) -> None:
        import logging

        workers = self.spec.local_workers
        where = f"--dask {self.spec.address}"
        try:
            if workers is not None:
                self.cluster = distributed.LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True,
                    dashboard_address=":0", silence_logs=logging.ERROR,
                    env={"NUMBA_NUM_THREADS": "1"}, death_timeout=DEATH_TIMEOUT)
                self.client = distributed.Client(self.cluster, timeout=self.timeout)
            else:
                self.client = distributed.Client(self.spec.address, timeout=self.timeout)
        except (OSError, TimeoutError) as e:
            what = "could not start its workers" if workers is not None else \
                f"no scheduler answered within {self.timeout:g} s"
            raise ExecutorError(f"{where}: {what} ({' '.join(str(e).split())})") from None

    def check_workers(self) -> None:
        """ExecutorError when a worker lacks celab or runs another version; a warning for a
        worker of several threads (its tasks run one at a time)."""
        answers = self.client.run(self.probe)
        problem = version_problem(answers, celab_version())
        if problem is not None:
            raise ExecutorError(problem)
        for address, info in sorted(self.client.scheduler_info()["workers"].items()):
            if info.get("nthreads", 1) > 1:
                warnings.warn(f"dask worker {address} has {info['nthreads']} threads and runs "
                              "celab's tasks one at a time: start workers with --nthreads 1 "
                              "(and more processes)", UserWarning, stacklevel=2)

    def slots(self) -> int:
        """Tasks the cluster runs at once: its worker processes (at least 1)."""
        return max(1, len(self.client.scheduler_info()["workers"]))

    def close(self) -> None:
        """Disconnect; shut down the LocalCluster started here."""
        client, cluster = self.client, self.cluster
        self.client = self.cluster = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if client is not None:
                client.close(timeout=self.timeout)
            if cluster is not None:
                cluster.close(timeout=self.timeout)

    def execute(self, job: Job, progress: Progress | None = None,
                should_stop: StopRequest | None = None, resume: Result | None = None,
                on_batch: Callable[[Result], None] | None = None,
                parts: Parts | None = None) -> Result:
        """Run the runs of ``job`` that ``resume`` and ``parts`` do not hold as tasks; return
        the Result of the runs completed from the first on (fewer than asked when stopped).

        A stop request cancels the tasks not completed; the completed ones are saved already
        (``on_batch`` for the runs that join the prefix, ``parts`` for the others).
        """
        from distributed import as_completed

        runs = Completed(job, resume, parts, progress, on_batch)
        slots = self.slots()
        ranges = [r for gap in runs.gaps() for r in task_ranges(*gap, job.work_per_run, slots)]
        if not ranges or (should_stop is not None and should_stop()):
            return runs.result()
        cls = type(job)
        task = (f"{cls.__module__}:{cls.__qualname__}", json.dumps(job.task_table()),
                celab_version())
        token = uuid.uuid4().hex[:12]
        pending = {}
        for start, stop in ranges:
            future = self.client.submit(run_task, *task, start, stop, retries=RETRIES,
                                        priority=-start, pure=False,
                                        key=f"celab-{job.problem}-{start}-{stop}-{token}")
            pending[future] = (start, stop)
        finished = as_completed(list(pending))
        try:
            while pending:
                if should_stop is not None and should_stop():
                    break
                ready = finished.next_batch(block=False)
                if not ready:
                    time.sleep(POLL_SECONDS)
                for future in ready:
                    start, stop = pending.pop(future)
                    arrays = _task_result(future, job)
                    runs.add(start, stop, arrays)
        finally:
            if pending:
                self.client.cancel(list(pending))
        return runs.result()


def _task_result(future: Any, job: Job) -> dict[str, np.ndarray]:
    """A completed task's arrays; a task that failed on every try is an ExecutorError (its
    own InputError as it is)."""
    try:
        return future.result()
    except InputError:
        raise
    except ModuleNotFoundError as e:
        raise ExecutorError(f"a dask worker cannot import celab ({e}); install celab "
                            f"{celab_version()} on every worker") from None
    except Exception as e:
        name = type(e).__name__
        if name in ("KilledWorker", "CancelledError", "FutureCancelledError") or \
                isinstance(e, OSError):
            raise ExecutorError(f"{job.problem}: a task failed on the cluster ({name}: "
                                f"{' '.join(str(e).split())}); the completed runs are saved, "
                                "--resume computes the others") from None
        raise


# --- the worker's side -------------------------------------------------------------------------

_JOBS: OrderedDict[tuple[str, str], Job] = OrderedDict()
#: One task at a time in a worker process: numba's default threading layer aborts on
#: concurrent parallel calls, and every task runs on one numba thread.
_TASK_LOCK = threading.Lock()


def run_task(job_class: str, table: str, version: str, start: int, stop: int
             ) -> dict[str, np.ndarray]:
    """The arrays of runs ``start:stop`` of the job of ``table`` (JSON), on one numba thread.

    ``job_class`` is the job class's import path (``module:Class``); the job is built from the
    table once per process (:func:`tracking.runner.job_from_table`) and kept (the last
    CACHED_JOBS). ``version`` is the client's celab version: another one here is an
    ExecutorError naming this worker and both versions.
    """
    from numba import set_num_threads

    mine = celab_version()
    if mine != version:
        raise ExecutorError(f"dask worker {_worker_name()} runs celab {mine}, the client celab "
                            f"{version}; install celab {version} on every worker")
    with _TASK_LOCK:
        set_num_threads(1)
        return cached_job(job_class, table).batch(start, stop, None, None)


def cached_job(job_class: str, table: str) -> Job:
    """The job of ``table`` (JSON) built by ``job_class`` (``module:Class``), once per
    process. RuntimeError when the rebuilt job's configuration is not the table's: its runs
    would not be the client's."""
    key = (job_class, table)
    job = _JOBS.get(key)
    if job is not None:
        _JOBS.move_to_end(key)
        return job
    import importlib

    module, _, name = job_class.partition(":")
    cls = getattr(importlib.import_module(module), name)
    config = json.loads(table)
    job = job_from_table(cls, config)
    rebuilt = json.loads(json.dumps(job.task_table()))
    if rebuilt != config:
        differ = sorted(k for k in set(rebuilt) | set(config) if rebuilt.get(k) != config.get(k))
        raise RuntimeError(f"{job.problem}: the job rebuilt from its table differs in "
                           f"{', '.join(differ)}")
    _JOBS[key] = job
    while len(_JOBS) > CACHED_JOBS:
        _JOBS.popitem(last=False)
    return job


def _worker_name() -> str:
    """This dask worker's address (the process id outside a worker)."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"process {os.getpid()}"

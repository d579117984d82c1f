"""Running a job in batches of runs: progress, interruption, resumption.

A :class:`Job` is one problem of an experiment, fully validated: its agents, checkpoints and run
count. :func:`execute` runs it batch by batch (a batch is a slice of runs for every agent), so
that a progress bar advances and every completed batch can be saved. Each kernel call runs in a
worker thread (:func:`run_interruptible`) while the main thread watches the stop request
(Ctrl-C, SIGTERM): the kernel stops within milliseconds, the unfinished batch is discarded and
the completed ones are kept. Runs depend on (seed, run index) only, so a job resumed from its
first ``n`` completed runs ends with exactly the numbers of an uninterrupted one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .batching import batch_size
from .results import LEGACY_READOUTS, READOUT_KEYS, Result
from .validate import InputError

Progress = Callable[[int], None]
StopRequest = Callable[[], bool]

#: Seconds between two looks at the stop request while a kernel runs.
POLL_SECONDS = 0.05
#: Seconds a kernel told to stop gets to return before an exception leaves it behind.
STOP_GRACE_SECONDS = 2.0


class BatchInterrupted(Exception):
    """A kernel stopped on request before all its runs completed: the batch is discarded."""


def call_interruptible(kernel: Callable[..., Any], *args: Any,
                       should_stop: StopRequest | None = None) -> Any:
    """``kernel(*args, stop)`` in a worker thread, stopped within milliseconds on request.

    ``kernel`` is a jitted function that releases the GIL (``nogil=True``), takes a flag
    ``stop`` (uint8[1]) as its last argument and reads it every few thousand steps, returning
    early once it is set. The calling thread waits in steps of POLL_SECONDS, so that it keeps
    handling signals; when ``should_stop()`` turns true it sets the flag (the kernel's result
    then says what it completed). A KeyboardInterrupt while waiting (a second Ctrl-C, or Ctrl-C
    in a notebook or before a session handles signals) sets the flag too, lets the kernel
    return, and propagates. The kernel runs on the calling thread's number of numba threads
    (``numba.set_num_threads`` holds per thread, and a new thread has numba's default).
    Returns the kernel's result.
    """
    from numba import get_num_threads, set_num_threads

    threads = get_num_threads()
    stop = np.zeros(1, dtype=np.uint8)
    if should_stop is not None and should_stop():
        stop[0] = 1
    outcome: dict[str, Any] = {}
    # completion is signalled by an Event, not by Thread.join: a KeyboardInterrupt inside
    # join can leave a thread that still runs marked as stopped
    finished = threading.Event()

    def work() -> None:
        try:
            set_num_threads(threads)
            outcome["result"] = kernel(*args, stop)
        except BaseException as e:  # re-raised in the calling thread
            outcome["error"] = e
        finally:
            finished.set()

    worker = threading.Thread(target=work, name="celab-kernel", daemon=True)
    try:
        worker.start()
        while not finished.wait(POLL_SECONDS):
            if should_stop is not None and should_stop():
                stop[0] = 1
    except BaseException:
        stop[0] = 1
        if worker.ident is not None:  # started: let the kernel return
            finished.wait(STOP_GRACE_SECONDS)
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def run_interruptible(kernel: Callable[..., np.ndarray], *args: Any,
                      should_stop: StopRequest | None = None) -> np.ndarray:
    """A batch kernel through :func:`call_interruptible`; it returns one uint8 per run, 1 when
    the run completed.

    Returns
    -------
    numpy.ndarray
        The kernel's per-run completion flags, all 1.

    Raises
    ------
    BatchInterrupted
        When some run did not complete (the stop request came first).
    """
    if should_stop is not None and should_stop():
        raise BatchInterrupted
    done = call_interruptible(kernel, *args, should_stop=should_stop)
    if not np.all(done):
        raise BatchInterrupted
    return done


class Job:
    """One problem to run. Subclasses fill the attributes and implement :meth:`run_batch`."""

    problem: str
    setting: str
    seed: int
    #: The spawn branch of the run seeds: None for evaluation runs, TUNING_BRANCH for tuning
    #: runs (:meth:`set_branch`, tracking.rng.run_seeds).
    branch: int | None = None
    agents: tuple[str, ...]
    checkpoints: np.ndarray
    runs: int
    samples_per_step: int
    config: dict[str, Any]
    info: dict[str, Any]
    work_per_run: float

    @property
    def total_samples(self) -> int:
        """Environment samples of the whole job (all agents, all runs)."""
        return self.samples_of(self.runs)

    def samples_of(self, runs: int) -> int:
        """Environment samples of ``runs`` runs of every agent."""
        return len(self.agents) * runs * int(self.checkpoints[-1]) * self.samples_per_step

    def task_table(self) -> dict[str, Any]:
        """The table another process rebuilds this job from (:func:`job_from_table`): the
        configuration (default), with whatever it names in the output folder made absolute."""
        return self.config

    def layout(self, runs: int) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        """Shape and dtype of every array of a Result over ``runs`` runs: ``regret`` and the
        two readouts ``simple_regret_greedy`` and ``simple_regret_behaviour`` (agents, runs,
        checkpoints) float64 (a job of one readout holds it twice), then
        :meth:`extra_layout`."""
        shape = (len(self.agents), runs, self.checkpoints.size)
        f64 = np.dtype(np.float64)
        curves = {key: (shape, f64) for key in ("regret", *READOUT_KEYS)}
        return {**curves, **self.extra_layout(runs)}

    def extra_layout(self, runs: int) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        """Shape and dtype of the other arrays :meth:`run_batch` returns (default: none)."""
        return {}

    def check_saved(self, result: Result) -> None:
        """ValueError unless ``result`` holds the first runs of this job: the same problem,
        setting, agents, checkpoints and samples per step, at most :attr:`runs` runs, and
        exactly the arrays of :meth:`layout`."""
        same = (result.problem == self.problem and result.setting == self.setting
                and result.agents == self.agents and result.samples_per_step
                == self.samples_per_step and np.array_equal(result.checkpoints, self.checkpoints))
        if not same:
            raise InputError("its problem, agents or checkpoints differ from the configuration's")
        if result.runs > self.runs:
            raise InputError(f"it holds {result.runs} runs, more than the {self.runs} asked")
        arrays = arrays_of(result)
        for key, (shape, dtype) in self.layout(result.runs).items():
            if key not in arrays:
                raise InputError(f"it lacks the array {key!r}")
            if arrays[key].shape != shape or arrays[key].dtype != dtype:
                raise InputError(f"{key} has dtype {arrays[key].dtype} and shape "
                                 f"{arrays[key].shape}, not {dtype} and {shape}")
        unknown = sorted(set(arrays) - set(self.layout(0)))
        if unknown:
            raise InputError(f"it holds an unknown array {unknown[0]!r}")

    def check_resume(self, result: Result) -> None:
        """ValueError unless runs can be added to ``result``: it must hold two readouts, not
        the one simple regret of an earlier version's file held twice (tracking/results.py)."""
        if result.info.get("readouts") == LEGACY_READOUTS:
            raise InputError(f"saved runs of {self.problem!r} hold one simple regret as both "
                             "readouts, and runs of this version record two: they cannot be "
                             "completed")

    # --- the memory guard: what each phase of the job holds at once ------------------------
    def model_bytes(self) -> float:
        """Bytes the problem holds while the job lives (means, model, JSON lists)."""
        return 0.0

    def solve_bytes(self) -> float:
        """Bytes the constructor's exact solution of the problem allocates (default: none)."""
        return 0.0

    def run_state_bytes(self) -> float:
        """Bytes one kernel run allocates (every thread runs one at a time), the largest over
        the agents."""
        return 0.0

    def call_bytes(self) -> float:
        """Bytes a kernel call shares between its runs (e.g. tables), the largest over the
        agents."""
        return 0.0

    def batch_scratch_bytes(self, runs: int) -> float:
        """Bytes :meth:`run_batch` allocates besides the arrays it returns."""
        return 0.0

    def json_numbers(self) -> int:
        """Numbers in the JSON lists of ``config`` and ``info`` (written at every save)."""
        return 0

    def memory_phases(self) -> dict[str, float]:
        """Bytes alive at once in each phase of the job; the memory guard takes the largest.

        With ``full`` the arrays of all runs (:meth:`layout`), ``batch`` those of one batch and
        ``done`` those of the runs before the last batch: simulating holds ``done``, a batch
        and every thread's kernel state; joining a batch to the runs done (np.concatenate)
        ``done``, the batch and their union ``full``; saving
        the runs, their compressed copy (at most 1.125 ``full``, plus NumPy's 16 MiB write
        chunk) and the JSON text; the summary the runs and its bootstrap resamples. Every
        phase adds the problem (:meth:`model_bytes`) and the Python objects of the bookkeeping.
        """
        from numba import get_num_threads

        from .memory import BOOKKEEPING, JSON_NUMBER, layout_bytes
        from .stats import summary_bytes

        base = self.model_bytes() + BOOKKEEPING
        full = layout_bytes(self.layout(self.runs))
        n = batch_size(self.work_per_run, self.runs)
        batch = layout_bytes(self.layout(n)) + self.batch_scratch_bytes(n)
        done = layout_bytes(self.layout(self.runs - n))
        threads = min(get_num_threads(), n)
        kernel = threads * self.run_state_bytes() + self.call_bytes()
        saving = 1.125 * full + min(full, 16.0 * 2**20) + JSON_NUMBER * self.json_numbers()
        return {
            "solving the problem": base + self.solve_bytes(),
            f"simulating on {threads} thread{'s' if threads > 1 else ''}":
                base + done + batch + kernel,
            "joining batches": base + done + batch + full,
            "saving": base + full + saving,
            "summarizing": base + full + summary_bytes(self.runs, self.checkpoints.size),
        }

    def check_memory(self, size: str) -> None:
        """MemoryLimitError when a phase of the job needs more than the memory limit."""
        from .memory import check_phases

        n = len(self.agents)
        check_phases(self.memory_phases(), f"{self.problem}: {n} agent{'s' if n > 1 else ''} x "
                                           f"{self.runs} runs x {size}")

    def attach_files(self, folder: Path) -> None:
        """Write into ``folder`` whatever the configuration needs to be rerun (default: none)."""

    def set_delta(self, delta: float) -> None:
        """Record ``delta`` of samples to epsilon in :attr:`config`, after ``epsilon``.

        delta is read by the summaries only (n(epsilon, delta), tracking.stats.km_quantile),
        never by the runs; its rule is its setting's. A configuration without it means the
        setting's default.
        """
        from .settings import get

        value = get(self.setting).key("delta").check(delta)
        self.config = _with_key(self.config, "delta", value, after="epsilon")

    def set_epsilon_share(self, share: float) -> None:
        """Measure samples to epsilon at ``share`` times the optimal value of each run's
        instance (its setting's ``optimum``: V*_0, rho*) instead of at one ``epsilon``:
        ``epsilon_share`` takes the place of ``epsilon`` in :attr:`config`. Like delta it is
        read by the summaries only; ValueError when the setting has no optimum."""
        from .settings import EPSILON_SHARE, get

        if get(self.setting).optimum is None:
            raise InputError(f"epsilon_share applies to settings with an optimal value per run, "
                             f"not to {self.setting!r}; give epsilon")
        value = EPSILON_SHARE.check(share)
        self.config = dict(("epsilon_share", value) if k == "epsilon" else (k, v)
                           for k, v in self.config.items())
        self.config["epsilon_share"] = value  # set again already, or without an epsilon

    def set_branch(self, branch: int | None) -> None:
        """Run on the seeds of spawn branch ``branch`` (None: the evaluation seeds,
        :data:`tracking.rng.TUNING_BRANCH`: the tuning seeds); recorded as ``branch`` in
        :attr:`config`, after ``seed``, when not None."""
        from .rng import check_branch

        self.branch = check_branch(branch)
        self.config = _with_key(self.config, "branch", self.branch, after="seed")

    def run_seeds(self, start: int, stop: int) -> np.ndarray:
        """The seeds of runs ``start .. stop - 1``: ``tracking.rng.run_seeds`` of the job's
        seed on its branch (spawn key ``(r,)``, or ``(branch, r)`` for tuning runs)."""
        from .rng import run_seeds

        return run_seeds(self.seed, stop - start, start, self.branch)

    def run_batch(self, start: int, stop: int, progress: Progress | None,
                  should_stop: StopRequest | None = None) -> dict[str, np.ndarray]:
        """Arrays for runs ``start:stop``, each with agents on axis 0 and runs on axis 1.

        Must hold ``regret`` and the readouts ``simple_regret_greedy`` and
        ``simple_regret_behaviour`` (agents, runs, checkpoints); may hold other per-run arrays
        (agents, runs, ...). Kernels run through :func:`run_interruptible` with
        ``should_stop``, which raises BatchInterrupted when a stop request cut the batch short.
        """
        raise NotImplementedError

    def batch(self, start: int, stop: int, progress: Progress | None,
              should_stop: StopRequest | None = None) -> dict[str, np.ndarray]:
        """:meth:`run_batch`'s arrays; RuntimeError when they do not hold both readouts."""
        arrays = self.run_batch(start, stop, progress, should_stop)
        if not all(k in arrays for k in READOUT_KEYS):
            raise RuntimeError(f"{type(self).__name__}.run_batch returned "
                               f"{', '.join(sorted(arrays))}, not {' and '.join(READOUT_KEYS)}")
        return arrays

    def result(self, arrays: dict[str, np.ndarray]) -> Result:
        """A Result from arrays over the completed runs."""
        arrays = dict(arrays)
        info = dict(self.info)
        return Result(
            problem=self.problem,
            setting=self.setting,
            agents=self.agents,
            checkpoints=self.checkpoints,
            regret=arrays.pop("regret"),
            simple_regret_greedy=arrays.pop(READOUT_KEYS[0]),
            simple_regret_behaviour=arrays.pop(READOUT_KEYS[1]),
            config=self.config,
            samples_per_step=self.samples_per_step,
            extra=arrays,
            info=info,
        )


def _with_key(config: dict[str, Any], key: str, value: Any, after: str) -> dict[str, Any]:
    """``config`` with ``key`` set to ``value`` right after the key ``after`` (at the end
    without it); without ``key`` when ``value`` is None."""
    items = [(k, v) for k, v in config.items() if k != key]
    keys = [k for k, _ in items]
    at = keys.index(after) + 1 if after in keys else len(items)
    extra = [] if value is None else [(key, value)]
    return dict([*items[:at], *extra, *items[at:]])


def arrays_of(result: Result) -> dict[str, np.ndarray]:
    """The arrays of ``result`` by their keys in :meth:`Job.layout`."""
    return {"regret": result.regret, READOUT_KEYS[0]: result.simple_regret_greedy,
            READOUT_KEYS[1]: result.simple_regret_behaviour, **result.extra}


def job_from_table(job_class: type[Job], table: dict[str, Any]) -> Job:
    """The job of a normalised problem table (``job_class.from_table``), with the table's
    ``delta`` and ``epsilon_share`` recorded (:meth:`Job.set_delta`,
    :meth:`Job.set_epsilon_share`) and its ``branch`` setting the seeds' spawn branch
    (:meth:`Job.set_branch`: celab tune's runs, on a worker too)."""
    job = job_class.from_table(table)
    if "delta" in table:
        job.set_delta(table["delta"])
    if table.get("epsilon_share") is not None:
        job.set_epsilon_share(table["epsilon_share"])
    if "branch" in table:
        job.set_branch(table["branch"])
    return job


def resumed_arrays(job: Job, resume: Result | None) -> dict[str, np.ndarray]:
    """The arrays of the runs ``resume`` holds, checked to be completable runs of ``job``
    (``{}`` without them)."""
    if resume is None:
        return {}
    if resume.agents != job.agents or not np.array_equal(resume.checkpoints, job.checkpoints):
        raise InputError(f"saved runs of {job.problem!r} do not match its configuration")
    job.check_resume(resume)
    return arrays_of(resume)


def no_runs(job: Job) -> Result:
    """The Result of ``job`` before any run completed."""
    empty = np.zeros((len(job.agents), 0, job.checkpoints.size))
    return job.result({"regret": empty, **{k: empty.copy() for k in READOUT_KEYS}})


def execute(
    job: Job,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    resume: Result | None = None,
    on_batch: Callable[[Result], None] | None = None,
) -> Result:
    """Run ``job``; return its Result (over fewer runs than asked when stopped early).

    Parameters
    ----------
    progress : callable, optional
        Called with the number of environment samples done since its previous call.
    should_stop : callable, optional
        Watched while a batch runs; when it returns True the batch in progress stops within
        milliseconds and is discarded, and the runs of the completed batches are returned.
    resume : Result, optional
        Completed runs of an earlier, interrupted execution of the same job.
    on_batch : callable, optional
        Called with the Result of all runs completed so far after every batch (to save it).
    """
    parts = {k: [v] for k, v in resumed_arrays(job, resume).items()}
    done = 0 if resume is None else resume.runs
    if progress is not None and done:
        progress(job.samples_of(done))
    size = batch_size(job.work_per_run, job.runs)
    while done < job.runs:
        if should_stop is not None and should_stop():
            break
        stop = min(job.runs, done + size)
        try:
            batch = job.batch(done, stop, progress, should_stop)
        except BatchInterrupted:
            break
        for key, value in batch.items():
            parts.setdefault(key, []).append(value)
        done = stop
        if on_batch is not None or done >= job.runs or (should_stop and should_stop()):
            current = job.result({k: np.concatenate(v, axis=1) for k, v in parts.items()})
            parts = {k: [v] for k, v in arrays_of(current).items()}
            if on_batch is not None:
                on_batch(current)
    if not parts:
        return no_runs(job)
    return job.result({k: np.concatenate(v, axis=1) for k, v in parts.items()})

"""Output folders: one celab process writing one experiment, safely.

Layout of a folder (docs/results.md)::

    config.toml         complete, rerunnable configuration (+ the versions that made it)
    results/<name>.npz  each problem's arrays (runs completed so far), no pickle
    tries/<name>-<B>.npz  the tries of a budget = "until" problem, at budget B
    parts/<file>/<a>-<b>.npz  runs a..b-1 of results/ or tries/ <file>.npz, completed by a
                        Dask task beyond a gap in the runs saved (tracking/executors.py)
    status.json         complete or not, and which runs are missing
    summary.json        the numbers of the tables (when complete)
    curves.csv          tidy long format: problem, agent, run, step, samples, regret, ...
    plots/              <name>-regret.{png,svg}, <name>-simple.{png,svg}
    .lock               held (flock) while a celab process writes the folder, then removed

Every file is written to a temporary file and renamed, so an interruption never leaves half
a file. Results are saved after every batch of runs; on SIGINT or SIGTERM the kernel in
progress stops within milliseconds, its unfinished batch is discarded, and the experiment
stops with a note of what is missing; ``celab run DIR/config.toml --resume`` completes it
with the numbers of an uninterrupted run: results files it cannot read back are computed
again. A ``budget = "until"`` problem (experiments/until.py) saves each try the same way in
``tries/``, and its final try as its result; a resume completes the try it was in and redoes no
finished one. On Dask, tasks complete in any order: one completed beyond a gap in the runs
saved is kept in ``parts/`` until the gap is filled (:class:`tracking.executors.Parts`); a
complete experiment has no ``parts/``. Every path written is checked to lie inside the folder
(tracking/paths.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracking import paths, settings
from tracking.executors import Executor, LocalExecutor, Parts
from tracking.results import (
    SCHEMA,
    DamagedFile,
    NoSpaceError,
    Result,
    load_npz,
    save_npz,
    write_atomic,
    write_curves,
)
from tracking.runner import Job, Progress
from tracking.validate import InputError

from . import files, report
from .until import UntilJob, censored_agents

if TYPE_CHECKING:
    from types import FrameType


class FolderBusy(InputError):
    """Another process holds the folder's lock."""


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    fst = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (fst.st_dev, fst.st_ino)


def default_folder(command: str, root: str | Path = "celab-results") -> Path:
    """A new folder ``celab-results/<command>-<YYYYmmdd-HHMMSS>`` (suffixed if it exists)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{command}-{stamp}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


class Folder:
    """An output folder opened for writing by this process (holds its lock until closed)."""

    def __init__(self, path: str | Path, resume: bool = False) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise InputError(f"{self.path}: exists and is not a folder")
        if resume and not (self.path / "config.toml").exists():
            raise InputError(f"{self.path}: holds no experiment to resume (no config.toml)")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"{self.path}: cannot create the folder: {e.strerror or e}") from None
        self._lock_fd = self._lock()  # first: a folder in use is refused as such
        if not resume and (self.path / "config.toml").exists():
            self.close()
            raise InputError(f"{self.path}: already holds results; choose another --out, or "
                             f"resume with: celab run {self.path / 'config.toml'} --resume")
        self.inside("results").mkdir(exist_ok=True)
        self._remove_stale_temporaries()

    def _remove_stale_temporaries(self) -> None:
        """Delete the temporary files (``.<name>.<random>.tmp``) a killed writer left: this
        process holds the lock, so none of them is being written."""
        parts = self.inside("parts")
        folders = [self.path] + [self.inside(sub) for sub in ("results", "tries", "plots",
                                                              "models", "tasks", "figures")]
        folders += [parts, *parts.rglob("*")] if parts.is_dir() else []
        for folder in folders:
            if folder.is_dir():
                for tmp in folder.glob(".*.tmp"):
                    tmp.unlink(missing_ok=True)

    def inside(self, relative: str | Path) -> Path:
        """``path / relative``, refused (ValueError) when it resolves outside the folder."""
        return paths.inside(self.path, relative)

    def _lock(self) -> int:
        """Open and flock ``.lock``. A lock left by a killed process is no obstacle: flock
        locks end with their process. A lock file unlinked by a finishing writer between our
        open and our flock is detected (another inode at the path) and opened afresh."""
        import fcntl

        lock = self.inside(".lock")
        while True:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise FolderBusy(f"{self.path}: another celab process is writing this folder "
                                 "(its .lock is held); wait for it or choose another --out"
                                 ) from None
            if _same_file(fd, lock):
                break
            os.close(fd)  # its holder removed that .lock on closing: lock the current one
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd

    def close(self) -> None:
        """Remove ``.lock`` and release it (in that order: whoever locks the path next locks
        a new file, see :meth:`_lock`)."""
        if self._lock_fd >= 0:
            try:
                os.unlink(self.path / ".lock")
            except OSError:
                pass  # already gone, or a read-only folder: the flock is released anyway
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = -1

    def __enter__(self) -> Folder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------------------
    def result_path(self, problem: str) -> Path:
        return result_file(self.path, problem)

    def write_config(self, text: str) -> None:
        write_atomic(self.inside("config.toml"), text)

    def save_result(self, result: Result) -> None:
        save_npz(result, self.result_path(result.problem))

    def try_path(self, problem: str, budget: int) -> Path:
        """``tries/<problem>-<budget>.npz``, the try of a ``budget = "until"`` problem at
        ``budget`` (the folder created)."""
        self.inside("tries").mkdir(exist_ok=True)
        return self.inside(Path("tries") / f"{paths.check_name(problem, 'problem name')}-"
                                           f"{int(budget)}.npz")

    def parts(self, path: Path) -> Parts:
        """The parts of the runs saved in ``path`` (``results/<name>.npz`` or
        ``tries/<name>-<B>.npz``): the folder ``parts/results/<name>`` or
        ``parts/tries/<name>-<B>``."""
        relative = Path(path).resolve().relative_to(self.path.resolve()).with_suffix("")
        return Parts(self.inside(Path("parts") / relative))

    def clear_parts(self) -> None:
        """Remove ``parts/`` (every run is saved in results/ or tries/)."""
        shutil.rmtree(self.inside("parts"), ignore_errors=True)

    def write_status(self, results: dict[str, Result], jobs: list[Job | UntilJob],
                     stopped: str | None, trying: dict[str, tuple[int, int]] | None = None
                     ) -> dict[str, Any]:
        """status.json; ``trying`` maps a ``budget = "until"`` problem without its final
        result to (budget, runs done) of its try in progress."""
        missing = {}
        trying = trying or {}
        for job in jobs:
            budget, done = trying.get(job.problem, (None, 0))
            if job.problem in results:
                budget, done = None, results[job.problem].runs
            if done < job.runs or budget is not None:
                missing[job.problem] = {"runs_done": done, "runs": job.runs,
                                        "missing_runs": f"{done}..{job.runs - 1}"}
                if budget is not None:
                    missing[job.problem]["budget_try"] = budget
        status = {"complete": not missing, "missing": missing,
                  "stopped_by": stopped, "updated": datetime.now().isoformat(timespec="seconds")}
        write_atomic(self.inside("status.json"), json.dumps(status, indent=2) + "\n")
        return status

    def load_results(self, jobs: list[Job]) -> dict[str, Result]:
        """The saved runs of every job, as far as they can be read back.

        A results file that cannot be read, or whose arrays are not those of its job (keys,
        shapes, dtypes, agents, checkpoints), is damaged: it is left out, with one warning
        line, and its runs are computed again; so is an incomplete one whose runs cannot be
        completed (one simple regret as both readouts, from an earlier version:
        ``Job.check_resume``). A readable file made with another configuration than the
        folder's config.toml stops the resume (ValueError).
        """
        out = {}
        for job in jobs:
            res = self.load(job)
            if res is not None:
                out[job.problem] = res
        return out

    def load(self, job: Job | UntilJob, path: Path | None = None) -> Result | None:
        """The saved runs of ``job`` in ``path`` (default its results file) that can be
        completed, None when there are none (see :meth:`load_results`)."""
        path = result_file(self.path, job.problem) if path is None else path
        try:
            res = read_saved(self.path, job, path)
        except DamagedFile as e:
            warnings.warn(f"{e}; its runs are computed again", UserWarning, stacklevel=3)
            return None
        if res is not None and res.runs < job.runs:
            try:
                job.check_resume(res)
            except ValueError as e:
                warnings.warn(f"{path}: {e}; its runs are computed again", UserWarning,
                              stacklevel=3)
                return None
        return res

    def finish(self, results: list[Result], plots: bool = True) -> dict[str, Any]:
        """summary.json, curves.csv, then the plots of complete results; returns the summary.

        With ``plots=False`` the caller may draw them later with :meth:`plot` (after printing
        its tables, say).
        """
        summaries = [report.summarize(r) for r in results]
        head = [row for r, s in zip(results, summaries) for row in report.headline(r, s)]
        summary = {"schema": SCHEMA, "problems": summaries, "headline": head}
        write_atomic(self.inside("summary.json"), json.dumps(summary, indent=2) + "\n")
        write_curves(results, self.inside("curves.csv"))
        summary["plots"] = self.plot(results) if plots else []
        return summary

    def plot(self, results: list[Result]) -> list[str]:
        """Draw the figures of ``results`` into ``plots/``; the paths written.

        None without matplotlib. A figure that cannot be drawn is a warning, not a failure
        (:func:`experiments.plots.plot_result`).
        """
        from . import plots as plotting

        if not plotting.available():
            return []
        return [str(p) for r in results for p in plotting.plot_result(r, self.inside("plots"))]


def read_config(path: str | Path) -> dict[str, Any]:
    """The parsed config.toml of a results folder (experiments.files.parse).

    A file that does not parse, or lacks the ``[versions]`` table celab writes last (a file cut
    short), raises DamagedFile naming it and what to do.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path.parent}: not a celab results folder (it has no {path.name})")
    advice = ("celab wrote this file: restore it, or run the original experiment file again "
              "with --out a new folder")
    try:
        spec = files.read(path)
    except files.FileError as e:
        raise DamagedFile(f"{e}; {advice}") from None
    if not isinstance(spec.get("versions"), dict):
        raise DamagedFile(f"{path}: damaged, it lacks the [versions] table celab writes last "
                          f"(cut short?); {advice}")
    return spec


def result_file(folder: str | Path, problem: str) -> Path:
    """``folder/results/<problem>.npz``, the name and the path checked (ValueError)."""
    return paths.inside(folder, Path("results") / f"{paths.check_name(problem, 'problem name')}"
                                                  ".npz")


def read_saved(folder: str | Path, job: Job | UntilJob, path: Path | None = None
               ) -> Result | None:
    """The runs of ``job`` saved in ``folder`` (``path``, default ``results/<problem>.npz``),
    None if absent. The result of a ``budget = "until"`` problem is checked against the job of
    its final try (:meth:`experiments.until.UntilJob.saved_job`).

    Raises DamagedFile when the file cannot be read or its arrays are not those of the job
    (keys, shapes, dtypes, agents, checkpoints: Job.check_saved), and ValueError when it is a
    sound result made with another configuration than the job's (config.toml).
    """
    folder = Path(folder)
    path = result_file(folder, job.problem) if path is None else path
    if not path.exists():
        return None
    res = load_npz(path)
    if isinstance(job, UntilJob):
        job = job.saved_job(res)
    if job is None or not _same_config(res.config, job.config, folder):
        raise InputError(f"{path}: was made with another configuration than "
                         f"{folder / 'config.toml'}; restore the config.toml it was made with, "
                         f"or move {path.name} away to compute it again")
    try:
        job.check_saved(res)
    except ValueError as e:
        raise DamagedFile(f"{path}: damaged, not the result of its configuration ({e})"
                          ) from None
    return res


def _same_config(saved: dict[str, Any], config: dict[str, Any], folder: Path) -> bool:
    """Whether a saved configuration is ``config``; model ``file`` and reasoning ``task`` paths
    are compared as files (relative ones are relative to the folder), and a configuration
    without ``delta`` or one of its setting's other keys (saved before celab had them:
    ``regret``) has the key's default."""
    config = json.loads(json.dumps(config))
    saved, config = _with_defaults(saved), _with_defaults(config)
    for key in ("file", "task"):  # a model file, a reasoning task file
        if key in saved and key in config:
            if (folder / saved[key]).resolve() != (folder / config[key]).resolve():
                return False
            saved, config = {**saved, key: ""}, {**config, key: ""}
    return saved == config


def _with_defaults(config: dict[str, Any]) -> dict[str, Any]:
    if config.get("setting") not in settings.names():
        return config
    setting = settings.get(config["setting"])
    keys = (*setting.option_keys, settings.delta_key(setting.delta))
    return {**{k.name: k.default for k in keys}, **config}


def saved_results(folder: str | Path, spec: dict[str, Any]) -> list[Result]:
    """The saved results of the problems of ``spec`` (the folder's read_config), in order.

    Problems without a results file are skipped; a damaged one raises DamagedFile saying how
    to compute it again, one made with another configuration ValueError (see read_saved).
    """
    return [res for _, res in saved_jobs(folder, spec) if res is not None]


def saved_jobs(folder: str | Path, spec: dict[str, Any]
               ) -> Iterator[tuple[Job | UntilJob, Result | None]]:
    """Each job of ``spec`` (the folder's read_config), in order, with its saved runs (None
    without a results file); the errors of :func:`saved_results`."""
    folder = Path(folder)
    for job in files.build_jobs(spec):
        try:
            yield job, read_saved(folder, job)
        except DamagedFile as e:
            raise DamagedFile(f"{e}; compute it again with: celab run "
                              f"{folder / 'config.toml'} --resume") from None


@dataclass
class StopFlag:
    """Set by SIGINT or SIGTERM; a second SIGINT interrupts at once."""

    signal: str | None = None
    _restore: dict = field(default_factory=dict)

    def __call__(self) -> bool:
        return self.signal is not None


@contextmanager
def stop_on_signals() -> Iterator[StopFlag]:
    """Within the block, SIGINT and SIGTERM ask for a stop (the running kernel stops within
    milliseconds, tracking.runner.run_interruptible); a second SIGINT raises
    KeyboardInterrupt."""
    flag = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if flag.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        flag.signal = signal.Signals(signum).name

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@dataclass
class Outcome:
    """What an experiment produced."""

    results: list[Result]
    stopped_by: str | None
    status: dict[str, Any]
    summary: dict[str, Any] | None


def run_experiment(
    jobs: list[Job],
    folder: Folder,
    title: str | None = None,
    seed: int = 0,
    resume: bool = False,
    progress_for: Callable[[Job], Progress | None] | None = None,
    plots: bool = True,
    study: dict[str, Any] | None = None,
    executor: Executor | None = None,
) -> Outcome:
    """Run ``jobs`` into ``folder``, saving after every batch; stop cleanly on a signal.

    The batches run on ``executor`` (default :class:`tracking.executors.LocalExecutor`, this
    process), which the caller opened. A full disk stops the experiment with NoSpaceError:
    every file saved before is intact.
    """
    executor = LocalExecutor() if executor is None else executor
    try:
        return _run_experiment(jobs, folder, title, seed, resume, progress_for, plots, study,
                               executor)
    except NoSpaceError as e:
        config = folder.path / "config.toml"
        then = (f"finish with: celab run {config} --resume" if config.exists()
                else "run the experiment again")
        raise NoSpaceError(e.path, f"no space left on device while saving {e.path}; the "
                                   f"previous results are intact; free some space, then {then}"
                           ) from None


def _run_experiment(jobs: list[Job], folder: Folder, title: str | None, seed: int,
                    resume: bool, progress_for: Callable[[Job], Progress | None] | None,
                    plots: bool, study: dict[str, Any] | None, executor: Executor) -> Outcome:
    for job in jobs:
        job.attach_files(folder.path)
    done = folder.load_results(jobs) if resume else {}
    folder.write_config(config_text([job.config for job in jobs], title, seed, study))
    results: dict[str, Result] = dict(done)
    trying: dict[str, tuple[int, int]] = {}
    stopped = None
    with stop_on_signals() as flag:
        for job in jobs:
            previous = done.get(job.problem)
            if previous is not None and previous.runs >= job.runs:
                continue
            if isinstance(job, UntilJob):
                results.pop(job.problem, None)  # an until problem's result is its final try
                final = _run_tries(job, folder, jobs, results, trying, resume, flag,
                                   progress_for, executor)
                if final is not None:
                    results[job.problem] = final
            else:
                def save(res: Result) -> None:
                    results[res.problem] = res
                    folder.save_result(res)
                    folder.write_status(results, jobs, None, trying)

                progress = progress_for(job) if progress_for else None
                parts = folder.parts(folder.result_path(job.problem))
                results[job.problem] = executor.execute(job, progress, flag, previous, save,
                                                        parts)
            if flag():
                stopped = flag.signal
                break
    status = folder.write_status(results, jobs, stopped, trying)
    if status["complete"]:
        folder.clear_parts()
    ordered = [results[j.problem] for j in jobs if j.problem in results]
    summary = folder.finish(ordered, plots) if status["complete"] else None
    return Outcome(ordered, stopped, status, summary)


def _run_tries(job: UntilJob, folder: Folder, jobs: list[Job | UntilJob],
               results: dict[str, Result], trying: dict[str, tuple[int, int]], resume: bool,
               flag: StopFlag, progress_for: Callable[[Job], Progress | None] | None,
               executor: Executor) -> Result | None:
    """The tries of a ``budget = "until"`` problem, each saved in ``tries/`` after every batch;
    its final result (saved in ``results/``), None when a stop request came first.

    With ``resume`` the saved tries are read first: a complete one is not run again, an
    incomplete one is completed. ``trying`` records the try in progress for status.json.
    """
    tried: list[int] = []
    budget: int | None = job.start_budget
    while budget is not None:
        tried.append(budget)
        fixed = job.at(budget)
        path = folder.try_path(job.problem, budget)
        res = folder.load(fixed, path) if resume else None
        if res is None or res.runs < fixed.runs:
            trying[job.problem] = (budget, 0 if res is None else res.runs)

            def save(part: Result, at: int = budget, to: Path = path) -> None:
                trying[part.problem] = (at, part.runs)
                save_npz(part, to)
                folder.write_status(results, jobs, None, trying)

            progress = progress_for(fixed) if progress_for else None
            res = executor.execute(fixed, progress, flag, res, save, folder.parts(path))
            if flag():
                return None
        censored = censored_agents(res)
        budget = None if job.settled(censored) else job.next_budget(budget)
    final = job.final(res, tried, not censored)
    folder.save_result(final)
    trying.pop(job.problem, None)
    return final


def config_text(problems: list[dict[str, Any]], title: str | None, seed: int,
                study: dict[str, Any] | None = None) -> str:
    """The config.toml of an experiment: its problems, seed and the running versions."""
    from tracking.versions import versions

    return files.dumps(problems, versions(), title, seed, study)

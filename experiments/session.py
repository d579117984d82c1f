"""Output folders: one celab process writing one experiment, safely.

Layout of a folder (docs/results.md)::

    config.toml         complete, rerunnable configuration (+ the versions that made it)
    results/<name>.npz  each problem's arrays (runs completed so far), no pickle
    status.json         complete or not, and which runs are missing
    summary.json        the numbers of the tables (when complete)
    curves.csv          tidy long format: problem, agent, run, step, samples, regret, ...
    plots/              <name>-regret.{png,svg}, <name>-simple.{png,svg}
    .lock               held (flock) while a celab process writes the folder, then removed

Every file is written to a temporary file and renamed, so an interruption never leaves half
a file. Results are saved after every batch of runs; on SIGINT or SIGTERM the kernel in
progress stops within milliseconds, its unfinished batch is discarded, and the experiment
stops with a note of what is missing; ``celab run DIR/config.toml --resume`` completes it
with the numbers of an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tracking.results import Result, load_npz, save_npz, write_atomic, write_curves
from tracking.runner import Job, Progress, execute

from . import files, report


class FolderBusy(ValueError):
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
            raise ValueError(f"{self.path}: exists and is not a folder")
        if resume and not (self.path / "config.toml").exists():
            raise ValueError(f"{self.path}: holds no experiment to resume (no config.toml)")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ValueError(f"{self.path}: cannot create the folder: {e.strerror or e}") from None
        self._lock_fd = self._lock()  # first: a folder in use is refused as such
        if not resume and (self.path / "config.toml").exists():
            self.close()
            raise ValueError(f"{self.path}: already holds results; choose another --out, or "
                             f"resume with: celab run {self.path / 'config.toml'} --resume")
        (self.path / "results").mkdir(exist_ok=True)

    def _lock(self) -> int:
        import fcntl

        path = self.path / ".lock"
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise FolderBusy(f"{self.path}: another celab process is writing this folder "
                                 "(its .lock is held); wait for it or choose another --out"
                                 ) from None
            if _same_file(fd, path):
                break
            os.close(fd)  # its holder removed that .lock on closing: lock the current one
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd

    def close(self) -> None:
        if self._lock_fd >= 0:
            (self.path / ".lock").unlink(missing_ok=True)  # still ours: we hold the flock
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = -1

    def __enter__(self) -> Folder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------------------
    def result_path(self, problem: str) -> Path:
        return self.path / "results" / f"{problem}.npz"

    def write_config(self, text: str) -> None:
        write_atomic(self.path / "config.toml", text)

    def save_result(self, result: Result) -> None:
        save_npz(result, self.result_path(result.problem))

    def write_status(self, results: dict[str, Result], jobs: list[Job], stopped: str | None
                     ) -> dict[str, Any]:
        missing = {}
        for job in jobs:
            done = results[job.problem].runs if job.problem in results else 0
            if done < job.runs:
                missing[job.problem] = {"runs_done": done, "runs": job.runs,
                                        "missing_runs": f"{done}..{job.runs - 1}"}
        status = {"complete": not missing, "missing": missing,
                  "stopped_by": stopped, "updated": datetime.now().isoformat(timespec="seconds")}
        write_atomic(self.path / "status.json", json.dumps(status, indent=2) + "\n")
        return status

    def load_results(self, jobs: list[Job]) -> dict[str, Result]:
        out = {}
        for job in jobs:
            path = self.result_path(job.problem)
            if path.exists():
                res = load_npz(path)
                if res.config != json.loads(json.dumps(job.config)):
                    raise ValueError(f"{path}: was made with another configuration than "
                                     f"{self.path / 'config.toml'}; cannot resume")
                out[job.problem] = res
        return out

    def finish(self, results: list[Result], plots: bool = True) -> dict[str, Any]:
        """summary.json, curves.csv, then the plots of complete results; returns the summary.

        With ``plots=False`` the caller may draw them later with :meth:`plot` (after printing
        its tables, say).
        """
        summaries = [report.summarize(r) for r in results]
        head = [row for r, s in zip(results, summaries) for row in report.headline(r, s)]
        summary = {"problems": summaries, "headline": head}
        write_atomic(self.path / "summary.json", json.dumps(summary, indent=2) + "\n")
        write_curves(results, self.path / "curves.csv")
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
        return [str(p) for r in results for p in plotting.plot_result(r, self.path / "plots")]


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

    def handler(signum, frame):
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
) -> Outcome:
    """Run ``jobs`` into ``folder``, saving after every batch; stop cleanly on a signal."""
    for job in jobs:
        job.attach_files(folder.path)
    done = folder.load_results(jobs) if resume else {}
    folder.write_config(config_text([job.config for job in jobs], title, seed, study))
    results: dict[str, Result] = dict(done)
    stopped = None
    with stop_on_signals() as flag:
        for job in jobs:
            previous = done.get(job.problem)
            if previous is not None and previous.runs >= job.runs:
                continue

            def save(res: Result) -> None:
                results[res.problem] = res
                folder.save_result(res)
                folder.write_status(results, jobs, None)

            progress = progress_for(job) if progress_for else None
            res = execute(job, progress, flag, previous, save)
            results[job.problem] = res
            if flag():
                stopped = flag.signal
                break
    status = folder.write_status(results, jobs, stopped)
    ordered = [results[j.problem] for j in jobs if j.problem in results]
    summary = folder.finish(ordered, plots) if status["complete"] else None
    return Outcome(ordered, stopped, status, summary)


def config_text(problems: list[dict[str, Any]], title: str | None, seed: int,
                study: dict[str, Any] | None = None) -> str:
    """The config.toml of an experiment: its problems, seed and the running versions."""
    from tracking.versions import versions

    return files.dumps(problems, versions(), title, seed, study)

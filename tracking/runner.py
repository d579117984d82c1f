"""Running a job in batches of runs: progress, interruption, resumption.

A :class:`Job` is one problem of an experiment, fully validated: its agents, checkpoints and run
count. :func:`execute` runs it batch by batch (a batch is a slice of runs for every agent), so
that a progress bar advances, a stop request (Ctrl-C, SIGTERM) is honoured at the next batch
boundary, and every completed batch can be saved. Runs depend on (seed, run index) only, so a
job resumed from its first ``n`` completed runs ends with exactly the numbers of an
uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .batching import batch_size
from .results import Result

Progress = Callable[[int], None]


class Job:
    """One problem to run. Subclasses fill the attributes and implement :meth:`run_batch`."""

    problem: str
    setting: str
    agents: tuple[str, ...]
    steps: np.ndarray
    runs: int
    samples_per_step: int
    config: dict[str, Any]
    info: dict[str, Any]
    work_per_run: float

    @property
    def total_samples(self) -> int:
        """Environment samples of the whole job (all agents, all runs)."""
        return len(self.agents) * self.runs * int(self.steps[-1]) * self.samples_per_step

    def attach_files(self, folder: Path) -> None:
        """Write into ``folder`` whatever the configuration needs to be rerun (default: none)."""

    def run_batch(self, start: int, stop: int, progress: Progress | None) -> dict[str, np.ndarray]:
        """Arrays for runs ``start:stop``, each with agents on axis 0 and runs on axis 1.

        Must hold ``regret`` and ``simple_regret`` (agents, runs, checkpoints); may hold other
        per-run arrays (agents, runs, ...).
        """
        raise NotImplementedError

    def result(self, arrays: dict[str, np.ndarray]) -> Result:
        """A Result from arrays over the completed runs."""
        arrays = dict(arrays)
        return Result(
            problem=self.problem,
            setting=self.setting,
            agents=self.agents,
            steps=self.steps,
            regret=arrays.pop("regret"),
            simple_regret=arrays.pop("simple_regret"),
            config=self.config,
            samples_per_step=self.samples_per_step,
            extra=arrays,
            info=dict(self.info),
        )


def _arrays_of(result: Result) -> dict[str, np.ndarray]:
    return {"regret": result.regret, "simple_regret": result.simple_regret, **result.extra}


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
        Checked after every batch; when it returns True the runs done so far are returned.
    resume : Result, optional
        Completed runs of an earlier, interrupted execution of the same job.
    on_batch : callable, optional
        Called with the Result of all runs completed so far after every batch (to save it).
    """
    done = 0
    parts: dict[str, list[np.ndarray]] = {}
    if resume is not None:
        if resume.agents != job.agents or not np.array_equal(resume.steps, job.steps):
            raise ValueError(f"saved runs of {job.problem!r} do not match its configuration")
        done = resume.runs
        parts = {k: [v] for k, v in _arrays_of(resume).items()}
        if progress is not None and done:
            progress(len(job.agents) * done * int(job.steps[-1]) * job.samples_per_step)
    size = batch_size(job.work_per_run, job.runs)
    while done < job.runs:
        if should_stop is not None and should_stop():
            break
        stop = min(job.runs, done + size)
        for key, value in job.run_batch(done, stop, progress).items():
            parts.setdefault(key, []).append(value)
        done = stop
        if on_batch is not None or done >= job.runs or (should_stop and should_stop()):
            current = job.result({k: np.concatenate(v, axis=1) for k, v in parts.items()})
            parts = {k: [v] for k, v in _arrays_of(current).items()}
            if on_batch is not None:
                on_batch(current)
    if not parts:
        empty = np.zeros((len(job.agents), 0, job.steps.size))
        return job.result({"regret": empty, "simple_regret": empty.copy()})
    return job.result({k: np.concatenate(v, axis=1) for k, v in parts.items()})

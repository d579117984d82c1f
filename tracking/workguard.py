"""The work guard: a request whose computing time is absurd is refused before anything starts.

Every job states its work in elementary operations (``Job.work_per_run``: an arm examined, a
transition backed up, a row of a planning sweep). Each setting declares the operations one
thread does per second (``Setting.work_rate``, :mod:`tracking.settings`), measured by
``benchmarks/work_rates.py`` on a 2-core x86-64 machine (work divided by CPU time, every agent
on a few problems): the fastest agent's rate, rounded up. The time of a job is taken as
``work_per_run * runs / (rate * min(threads, runs))``: a lower bound, so that a request that
fits in a day at that speed is not refused. Slower agents take longer (Thompson sampling about
35 times, KL-UCB and UCRL2 about 20 times); the continuing setting's work counts its planning
sweeps generously, so its rate is high and its estimate loose (about 60 times below the time
of a long run).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import settings

#: Requests estimated above this many seconds need confirmation (one day).
LIMIT_SECONDS = 86400.0


def _threads() -> int:
    from numba import get_num_threads

    return get_num_threads()


def estimate_seconds(jobs: Sequence[Any]) -> float:
    """Lower estimate of the wall time of ``jobs`` (Job objects), in seconds."""
    threads = _threads()
    return sum(float(job.work_per_run) * job.runs
               / (settings.get(job.setting).work_rate * min(threads, job.runs)) for job in jobs)


def duration(seconds: float) -> str:
    """A duration in the largest unit that keeps it above 2: "90 s", "3.2 hours", "41 years"."""
    for unit, size in (("years", 365.25 * 86400), ("days", 86400.0), ("hours", 3600.0),
                       ("minutes", 60.0)):
        if seconds >= 2 * size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.2g} s"


def refusal(jobs: Sequence[Any], limit: float = LIMIT_SECONDS) -> str | None:
    """One line stating the estimate when it exceeds ``limit`` seconds, else None."""
    seconds = estimate_seconds(jobs)
    if seconds <= limit:
        return None
    work = sum(float(job.work_per_run) * job.runs for job in jobs)
    return (f"this request would take at least {duration(seconds)} ({work:.2g} elementary "
            f"operations on {_threads()} threads), more than {duration(limit)}")

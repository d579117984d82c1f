"""Runs per kernel call: large enough to keep every thread busy, small enough that a progress
bar advances and an interruption is honoured within about a second."""

from __future__ import annotations

import os

#: Work per kernel call, in elementary operations (an arm examined, a transition backed up).
#: The environment variable CELAB_BATCH_WORK overrides it (smaller: more frequent progress and
#: save points; the numbers do not depend on it).
BATCH_WORK = 3e8

#: Inside a kernel, every run reads its stop flag every STOP_EVERY steps (rounds, environment
#: steps), at every episode and within long plans: a predictable branch that costs under 1%
#: of the time, and a stop within milliseconds. STOP_MASK = STOP_EVERY - 1 (a power of two).
STOP_EVERY = 4096
STOP_MASK = STOP_EVERY - 1


def batch_work() -> float:
    """Operations per kernel call: CELAB_BATCH_WORK when it is a number, else BATCH_WORK."""
    try:
        return float(os.environ.get("CELAB_BATCH_WORK", BATCH_WORK))
    except ValueError:
        return BATCH_WORK


def batch_size(work_per_run: float, runs: int) -> int:
    """Runs per batch: about BATCH_WORK operations, a multiple of the thread count, at most runs."""
    from numba import get_num_threads

    threads = get_num_threads()
    size = max(threads, int(batch_work() // max(work_per_run, 1.0)) // threads * threads)
    return min(runs, size)


def task_ranges(start: int, stop: int, work_per_run: float, slots: int) -> list[tuple[int, int]]:
    """Runs ``start:stop`` cut into tasks of one thread each, for ``slots`` tasks at a time.

    Every task does at most about BATCH_WORK operations on its thread (at least one run); their
    count is rounded up to a multiple of ``slots`` (at most one task per run) and the runs are
    shared out evenly (sizes differ by one at most), so that no slot idles at the end of a job
    while another runs a long task. The numbers do not depend on the cut.
    """
    n = stop - start
    if n <= 0:
        return []
    per_task = max(1, int(batch_work() // max(work_per_run, 1.0)))
    slots = max(1, int(slots))
    tasks = -(-n // per_task)  # ceil(n / per_task)
    count = min(n, -(-tasks // slots) * slots)
    edges = [start + n * i // count for i in range(count + 1)]
    return list(zip(edges[:-1], edges[1:]))

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


def batch_size(work_per_run: float, runs: int) -> int:
    """Runs per batch: about BATCH_WORK operations, a multiple of the thread count, at most runs."""
    from numba import get_num_threads

    threads = get_num_threads()
    try:
        work = float(os.environ.get("CELAB_BATCH_WORK", BATCH_WORK))
    except ValueError:
        work = BATCH_WORK
    size = max(threads, int(work // max(work_per_run, 1.0)) // threads * threads)
    return min(runs, size)

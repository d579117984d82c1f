"""The memory guard: refuse a request that would not fit, before allocating it.

celab estimates the memory a request needs (result arrays runs x checkpoints, per-thread agent
state, S x A x S models, ...) and refuses it with a clear message when it exceeds the limit,
instead of being killed by the kernel's out-of-memory killer halfway through.

The limit is 80% of the memory available when the check runs (``MemAvailable`` of
/proc/meminfo), or what the environment variable ``CELAB_MEMORY_LIMIT`` says: a number of
bytes, a size such as ``512M`` or ``16G``, or a share of the available memory such as ``50%``
(``celab --memory-limit`` sets it for one command).
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

from .validate import InputError

DEFAULT_SHARE = 0.8
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kKmMgGtT]?)(i?[bB])?\s*$")
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


class MemoryLimitError(InputError):
    """A request larger than the memory limit."""


def available_bytes() -> int | None:
    """Memory available to new allocations (Linux: MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def parse_limit(text: str) -> tuple[float | None, int | None]:
    """``"50%"`` -> (0.5, None); ``"4G"`` -> (None, 4 * 2**30). ValueError when malformed."""
    text = text.strip()
    if text.endswith("%"):
        try:
            share = float(text[:-1]) / 100.0
        except ValueError:
            share = -1.0
        if not 0.0 < share <= 1.0:
            raise InputError(f"memory limit {text!r}: a percentage must lie in (0, 100]")
        return share, None
    m = _SIZE.match(text)
    if not m or float(m.group(1)) <= 0:
        raise InputError(f"memory limit {text!r}: give bytes, a size like 512M or 16G, "
                         "or a percentage like 50%")
    return None, int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def limit_bytes() -> int | None:
    """The current limit in bytes (None when the available memory cannot be known)."""
    share, size = DEFAULT_SHARE, None
    env = os.environ.get("CELAB_MEMORY_LIMIT")
    if env:
        share, size = parse_limit(env)
    if size is not None:
        return size
    avail = available_bytes()
    return None if avail is None else int(share * avail)


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


#: Bytes allowed, per array-holding call, for array headers and small scratch values.
SCRATCH = 8 * 2**10
#: Bytes of the Python objects of a job's bookkeeping (tables, JSON texts, file names).
BOOKKEEPING = 2**20
#: Bytes of one number in a JSON list held in memory: a float object and its pointer (32),
#: its text in the JSON string (up to 25) and in NumPy's UTF-32 string array (up to 100).
JSON_NUMBER = 160


def layout_bytes(layout: dict[str, tuple[tuple[int, ...], Any]]) -> float:
    """Bytes of arrays given as ``{key: (shape, dtype)}``."""
    import numpy as np

    return float(sum(math.prod(shape) * np.dtype(dtype).itemsize
                     for shape, dtype in layout.values()))


def check_phases(phases: dict[str, float], what: str) -> None:
    """:func:`check` the largest of the bytes alive at once in each phase of a request."""
    phase = max(phases, key=lambda k: phases[k])
    check(phases[phase], f"{what} ({phase})")


def check(nbytes: float, what: str) -> None:
    """Raise MemoryLimitError when ``what`` needs more than the limit."""
    limit = limit_bytes()
    if limit is not None and nbytes > limit:
        source = ("CELAB_MEMORY_LIMIT" if os.environ.get("CELAB_MEMORY_LIMIT")
                  else f"{DEFAULT_SHARE:.0%} of the available memory")
        raise MemoryLimitError(
            f"{what} needs about {human(nbytes)}, more than the memory limit of {human(limit)} "
            f"({source}); reduce the request or raise the limit with --memory-limit")

"""A user's agents against the same agents built in: the cost of the two extension paths.

docs/extending.md's example package (tests/user_agents) holds UCB1 and Q-learning written again
with the extension API, each twice: plain-Python pieces run by the loop's Python body, and the
same functions registered with ``jit=True``. Their numbers equal the built-in ``ucb`` and
``q-learning`` bit for bit (tests/test_extending.py), so the script times one algorithm three
ways, in one process (ratios hold on a noisy machine):

1. bandits, ``linspace10`` (ten Bernoulli arms): celab's ``ucb``, the user's jitted UCB1 and
   the user's Python UCB1, in arm pulls per second (after a warm-up call: compilation
   excluded); MOSS at both speeds beside them;
2. episodic MDPs, ``riverswim`` (6 states, H = 20): celab's ``q-learning``, the user's jitted and
   Python Q-learning, in environment steps per second;
3. compilation: a fresh process running the user's jitted UCB1 with an empty numba cache (the
   loop compiled for its record, and every helper it calls), then again with the cache filled.

    python benchmarks/user_agents.py            # full budgets (a few minutes)
    python benchmarks/user_agents.py --quick    # smoke run

It prints a markdown report.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the example package lives in tests/

import numba  # noqa: E402
from _common import cpu_name, load, log, version  # noqa: E402

import bandits  # noqa: E402
import mdp  # noqa: E402

UCB1, UCB1_PY = "tests.user_agents.ucb1:UCB1", "tests.user_agents.ucb1:UCB1Python"
MOSS, MOSS_PY = "tests.user_agents.moss:MOSS", "tests.user_agents.moss:MOSSPython"
USER_Q, USER_Q_PY = "tests.user_agents.qlearning:UserQ", "tests.user_agents.qlearning:UserQPython"

COLD = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
t = time.perf_counter()
import bandits
bandits.run("linspace10", {UCB1!r}, 100, 2)
print(time.perf_counter() - t)
"""


def _rates(calls: dict[str, tuple[Callable[[], object], float]], repeats: int
           ) -> list[tuple[str, float]]:
    """Samples per second of each call (name -> (call, samples)): the best of ``repeats``
    timings, taken in turns (every call once per turn, so that a change of the machine's
    load hits all alike), after one warm-up call each."""
    best = dict.fromkeys(calls, float("inf"))
    for name, (call, _) in calls.items():
        log(f"warm-up: {name}")
        call()
    for turn in range(repeats):
        log(f"turn {turn + 1} of {repeats}")
        for name, (call, _) in calls.items():
            t = time.perf_counter()
            call()
            best[name] = min(best[name], time.perf_counter() - t)
    return [(name, samples / best[name]) for name, (_, samples) in calls.items()]


def bandit_rates(quick: bool) -> list[tuple[str, float]]:
    fast = (20, 2_000) if quick else (200, 100_000)  # runs, horizon
    slow = (2, 500) if quick else (4, 5_000)
    budgets = {"ucb": fast, UCB1: fast, UCB1_PY: slow, MOSS: fast, MOSS_PY: slow}
    return _rates({agent: (lambda a=agent, r=runs, h=horizon: bandits.run("linspace10", a, h, r),
                           runs * horizon) for agent, (runs, horizon) in budgets.items()},
                  1 if quick else 5)


def mdp_rates(quick: bool) -> list[tuple[str, float]]:
    horizon = 20
    fast = (4, 50) if quick else (50, 2_000)  # runs, episodes
    slow = (2, 5) if quick else (2, 50)
    budgets = {"q-learning": fast, USER_Q: fast, USER_Q_PY: slow}
    return _rates({agent: (lambda a=agent, r=runs, k=episodes:
                           mdp.run("riverswim", a, horizon, k, r, regret="sampled"),
                           runs * episodes * horizon)
                   for agent, (runs, episodes) in budgets.items()}, 1 if quick else 5)


def compile_times() -> tuple[float, float]:
    """Seconds of a fresh process running the user's jitted UCB1: empty cache, then filled."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        times = []
        for _ in range(2):
            done = subprocess.run([sys.executable, "-c", COLD], env=env, capture_output=True,
                                  text=True, check=True)
            times.append(float(done.stdout.strip().splitlines()[-1]))
    return times[0], times[1]


def _table(title: str, unit: str, rows: list[tuple[str, float]], base: str) -> list[str]:
    ref = dict(rows)[base]
    lines = [f"### {title}", "", f"| agent | {unit} per second | slowdown against {base} |",
             "|---|---|---|"]
    lines += [f"| {name} | {rate:,.0f} | {ref / rate:,.1f} |" for name, rate in rows]
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny budgets: checks the script")
    quick = parser.parse_args().quick
    started = datetime.now().isoformat(timespec="minutes")
    bandit = bandit_rates(quick)
    episodic = mdp_rates(quick)
    log("compilation in fresh processes")
    cold, warm = compile_times()
    report = [f"Measured {started}, {cpu_name()}, {platform.python_version()}, numba "
              f"{version('numba')}, {numba.config.NUMBA_NUM_THREADS} threads, load {load()}"
              + (" (--quick)" if quick else ""), ""]
    report += _table("Bandits, linspace10", "arm pulls", bandit, "ucb")
    report += _table("Episodic MDPs, riverswim, H = 20", "steps", episodic, "q-learning")
    report += ["### Compilation of the user's jitted UCB1 (fresh process)", "",
               "| numba cache | seconds |", "|---|---|",
               f"| empty (compiles the loop and its helpers) | {cold:.1f} |",
               f"| filled | {warm:.1f} |", ""]
    print("\n".join(report))


if __name__ == "__main__":
    main()

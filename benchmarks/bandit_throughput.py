"""Bandit throughput: celab's jitted loop against SMPyBandits, NumPy and a hand-written @njit UCB1.

Everything runs in one process (start-up, compilation and memory in subprocesses started from
it), so the ratios hold although a 2-core shared machine is noisy from one run to the next.
The problem is always ``linspace10``: ten Bernoulli arms with means linspace(0.1, 0.9, 10).

    benchmarks/.venv/bin/python benchmarks/bandit_throughput.py           # full budgets
    benchmarks/.venv/bin/python benchmarks/bandit_throughput.py --quick   # smoke run

Measured, in arm pulls per second:

1. celab ``bandits.run`` for ucb, thompson and the policy-gradient agents reinforce, rloo,
   grpo, ppo, actor-critic and npg (after a warm-up call, so numba's
   compilation is excluded; cold compilation and warm start are timed in fresh subprocesses);
2. SMPyBandits 0.9.7's UCB and Thompson policy objects driven in a Python loop;
3. a plain NumPy UCB1 loop vectorised over runs (Python time loop, arrays of runs x arms);
4. a hand-written single-purpose ``@njit(parallel=True)`` UCB1 loop, prange over runs: the
   practical limit for this machine;
5. start-up: ``celab --help`` (which must not import numba) and a warm ``celab bandit``;
6. memory: peak RSS of a long run (memory must not grow with the horizon).

The script prints a markdown report and exits with status 1 when a floor fails.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

import numba
import numpy as np
from _common import cpu_name, load, log, version
from numba import njit, prange

import bandits

ENV = "linspace10"
MEANS = np.linspace(0.1, 0.9, 10)
GAPS = MEANS.max() - MEANS
CELAB_AGENTS = ("ucb", "thompson", "reinforce", "rloo", "grpo", "ppo", "actor-critic", "npg")
CELAB_BIN = Path(sys.executable).parent / "celab"


@dataclass(frozen=True)
class Budget:
    """Horizons, runs and repetitions of every measurement."""

    horizon: int  # celab and the hand-written @njit loop
    runs: int
    reps: int  # repetitions of each timing (the median is reported)
    peer_horizon: int  # SMPyBandits and the NumPy loop
    smpy_runs: int
    numpy_runs: int  # the floor's NumPy loop; also timed at numpy_runs // 10 for context
    mem_horizon: int
    mem_runs: int
    startup_reps: int


FULL = Budget(horizon=10**5, runs=1000, reps=3, peer_horizon=10**4, smpy_runs=5,
              numpy_runs=1000, mem_horizon=10**7, mem_runs=100, startup_reps=5)
QUICK = Budget(horizon=10**4, runs=20, reps=2, peer_horizon=1000, smpy_runs=2,
               numpy_runs=100, mem_horizon=10**5, mem_runs=4, startup_reps=2)


@dataclass
class Row:
    """One timed implementation: the median wall time of ``reps`` repetitions."""

    label: str
    horizon: int
    runs: int
    seconds: float
    regret: float  # mean pseudo-regret at the horizon (a check that the work is the same)
    reps: int
    cpu: float  # process CPU time / wall time: about 2 for prange on 2 free cores, less if busy

    @property
    def rate(self) -> float:
        """Arm pulls per second."""
        return self.horizon * self.runs / self.seconds




# --- the implementations ------------------------------------------------------------------------


def celab_case(agent: str, horizon: int, runs: int) -> Callable[[], float]:
    """celab's shared loop: ``bandits.run`` on linspace10 (default log-spaced checkpoints)."""

    def case() -> float:
        result = bandits.run(ENV, agent, horizon, runs, seed=0)
        return float(result.regret[0, :, -1].mean())

    return case


@njit(parallel=True, cache=True)
def _ucb1_njit(means, horizon, seeds, regret):
    """UCB1 (c = 2) on Bernoulli arms, one run per prange iteration; np.random seeded per run."""
    k_arms = means.shape[0]
    best = means.max()
    for r in prange(seeds.shape[0]):
        np.random.seed(seeds[r])  # noqa: NPY002 (numba's per-thread generator, seeded per run)
        counts = np.zeros(k_arms)
        sums = np.zeros(k_arms)
        cum = 0.0
        for t in range(1, horizon + 1):
            if t <= k_arms:
                a = t - 1
            else:
                lt = 2.0 * math.log(t)
                a = 0
                top = -np.inf
                for k in range(k_arms):
                    v = sums[k] / counts[k] + math.sqrt(lt / counts[k])
                    if v > top:
                        top = v
                        a = k
            x = 1.0 if np.random.random() < means[a] else 0.0  # noqa: NPY002
            counts[a] += 1.0
            sums[a] += x
            cum += best - means[a]
        regret[r] = cum


def njit_case(horizon: int, runs: int) -> Callable[[], float]:
    """The hand-written single-purpose @njit UCB1 loop, seeds from SeedSequence(0)."""
    seeds = np.random.SeedSequence(0).generate_state(runs).astype(np.int64)
    regret = np.zeros(runs)

    def case() -> float:
        _ucb1_njit(MEANS, horizon, seeds, regret)
        return float(regret.mean())

    return case


def numpy_ucb1(horizon: int, runs: int, seed: int = 0) -> float:
    """UCB1 (c = 2) vectorised over runs: a Python loop over t, arrays of shape (runs, arms)."""
    rng = np.random.default_rng(seed)
    k_arms = MEANS.size
    rows = np.arange(runs)
    counts = np.zeros((runs, k_arms))
    sums = np.zeros((runs, k_arms))
    regret = np.zeros(runs)
    for t in range(1, horizon + 1):
        if t <= k_arms:
            a = np.full(runs, t - 1)
        else:
            index = sums / counts + np.sqrt(2.0 * math.log(t) / counts)
            a = index.argmax(axis=1)
        x = rng.random(runs) < MEANS[a]
        counts[rows, a] += 1.0
        sums[rows, a] += x
        regret += GAPS[a]
    return float(regret.mean())


def import_smpybandits():
    """SMPyBandits' UCB and Thompson, with the import fixes for current SciPy and NumPy.

    Its import prints warnings about its (dead) numba path; they are swallowed here.
    """
    import scipy.special

    scipy.special.btdtri = scipy.special.betaincinv
    np.in1d = np.isin  # noqa: NPY201 (SMPyBandits' Evaluator still calls it)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        from SMPyBandits.Policies import UCB, Thompson
    return {"ucb": UCB, "thompson": Thompson}


def smpy_run(policy_cls, horizon: int, rng: np.random.Generator) -> float:
    """One run of an SMPyBandits policy object; Bernoulli rewards from pre-drawn uniforms."""
    policy = policy_cls(MEANS.size)
    policy.startGame()
    uniforms = rng.random(horizon)
    regret = 0.0
    for t in range(horizon):
        a = policy.choice()
        policy.getReward(a, float(uniforms[t] < MEANS[a]))
        regret += GAPS[a]
    return regret


# --- the measurements ---------------------------------------------------------------------------


def time_interleaved(cases: dict[str, tuple[int, int, Callable[[], float]]], reps: int,
                     ) -> dict[str, Row]:
    """Median wall time of each case over ``reps`` rounds, the cases taking turns in each round.

    Taking turns spreads the machine's slow spells over every case instead of one.
    """
    times: dict[str, list[float]] = {label: [] for label in cases}
    cpu: dict[str, list[float]] = {label: [] for label in cases}
    regrets: dict[str, float] = {}
    for rep in range(reps):
        for label, (horizon, runs, case) in cases.items():
            log(f"  [{rep + 1}/{reps}] {label}: {horizon} x {runs}")
            start, start_cpu = time.perf_counter(), time.process_time()
            regrets[label] = case()
            times[label].append(time.perf_counter() - start)
            cpu[label].append((time.process_time() - start_cpu) / times[label][-1])
    return {
        label: Row(label, horizon, runs, statistics.median(times[label]), regrets[label], reps,
                   statistics.median(cpu[label]))
        for label, (horizon, runs, _) in cases.items()
    }


def measure_jitted(budget: Budget) -> dict[str, Row]:
    """celab's agents, the hand-written @njit loop and the NumPy loop, after warm-ups."""
    log("warming up (numba compilation or cache load) ...")
    for agent in CELAB_AGENTS:
        celab_case(agent, 100, 2)()
    njit_case(100, 2)()
    numpy_ucb1(100, 2)
    h, r, hp = budget.horizon, budget.runs, budget.peer_horizon
    cases = {f"celab {agent}": (h, r, celab_case(agent, h, r)) for agent in CELAB_AGENTS}
    cases["hand-written @njit UCB1 (prange)"] = (h, r, njit_case(h, r))
    for n in (budget.numpy_runs, budget.numpy_runs // 10):
        cases[f"NumPy UCB1, vectorised over {n} runs"] = (hp, n, partial(numpy_ucb1, hp, n))
    for agent in ("ucb", "thompson"):  # celab at the peers' horizon: a check of their regret
        cases[f"celab {agent} (peer horizon)"] = (hp, r, celab_case(agent, hp, r))
    return time_interleaved(cases, budget.reps)


def measure_smpybandits(budget: Budget) -> dict[str, Row]:
    """SMPyBandits' UCB and Thompson: the median of the runs' own times (a run is a repetition)."""
    policies = import_smpybandits()
    # SMPyBandits draws its tie-breaks and posterior samples from NumPy's global generator
    np.random.seed(0)  # noqa: NPY002
    rng = np.random.default_rng(0)
    rows = {}
    for name, cls in policies.items():
        log(f"  SMPyBandits {cls.__name__}: {budget.peer_horizon} x {budget.smpy_runs}")
        smpy_run(cls, 100, rng)  # warm-up
        times, cpu, regrets = [], [], []
        for _ in range(budget.smpy_runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            regrets.append(smpy_run(cls, budget.peer_horizon, rng))
            times.append(time.perf_counter() - start)
            cpu.append((time.process_time() - start_cpu) / times[-1])
        label = f"SMPyBandits {cls.__name__} (a run per rep)"
        # one run per repetition: the row's rate is horizon / median time of a run
        rows[name] = Row(label, budget.peer_horizon, 1, statistics.median(times),
                         float(np.mean(regrets)), budget.smpy_runs, statistics.median(cpu))
    return rows


_FIRST_CALL = """
import json, time
t0 = time.perf_counter()
import bandits
t1 = time.perf_counter()
bandits.run("linspace10", "ucb", horizon=1000, runs=10)
t2 = time.perf_counter()
bandits.run("linspace10", "ucb", horizon=1000, runs=10)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first": t2 - t1, "second": t3 - t2}))
"""


def run_python(code: str, cache_dir: str, *args: str) -> tuple[dict, float]:
    """Run ``code`` in a fresh interpreter with NUMBA_CACHE_DIR=cache_dir: (its JSON, wall s)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                         text=True, check=True)
    wall = time.perf_counter() - start
    return json.loads(out.stdout.strip().splitlines()[-1]), wall


def wall_time(cmd: list[str], env: dict[str, str]) -> float:
    """Wall time of one command (which must succeed)."""
    start = time.perf_counter()
    subprocess.run(cmd, env=env, capture_output=True, check=True)
    return time.perf_counter() - start


def help_imports_numba() -> list[str]:
    """Modules of numba or llvmlite that ``celab --help`` imports (``python -X importtime``)."""
    out = subprocess.run([sys.executable, "-X", "importtime", str(CELAB_BIN), "--help"],
                         capture_output=True, text=True, check=True)
    found = []
    for line in out.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            module = line.rsplit("|", 1)[1].strip()
            if module.split(".")[0] in ("numba", "llvmlite"):
                found.append(module)
    return found


def measure_startup(budget: Budget, cache_dir: str) -> dict[str, float | list[str]]:
    """Cold compilation, warm start, ``celab --help`` and a warm ``celab bandit``.

    ``cache_dir`` starts empty: the first subprocess compiles the kernel and fills it, the next
    ones load from it.
    """
    log("  cold start (empty NUMBA_CACHE_DIR) ...")
    cold, cold_wall = run_python(_FIRST_CALL, cache_dir)
    log("  warm start ...")
    warm, warm_wall = run_python(_FIRST_CALL, cache_dir)
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    log("  celab --help ...")
    help_times = [wall_time([str(CELAB_BIN), "--help"], env) for _ in range(budget.startup_reps)]
    out = tempfile.mkdtemp(prefix="celab-bench-")
    bandit_cmd = [str(CELAB_BIN), "bandit", "--env", ENV, "--horizon", "1000", "--runs", "10"]

    def bandit(*extra: str) -> float:
        folder = os.path.join(out, f"run{len(os.listdir(out))}")
        return wall_time([*bandit_cmd, "--out", folder, *extra], env)

    log("  celab bandit (warm) ...")
    bandit()  # fills the cache for anything the command needs
    bandit_times, bare_times = [], []
    for _ in range(budget.startup_reps):  # interleaved: the two see the same machine load
        bandit_times.append(bandit())
        bare_times.append(bandit("--no-plots"))
    shutil.rmtree(out, ignore_errors=True)
    return {
        "cold_import": cold["import"], "cold_first": cold["first"], "cold_wall": cold_wall,
        "warm_import": warm["import"], "warm_first": warm["first"], "warm_wall": warm_wall,
        "second_call": warm["second"],
        "help": statistics.median(help_times),
        "bandit": statistics.median(bandit_times),
        "bandit_no_plots": statistics.median(bare_times),
        "help_numba_modules": help_imports_numba(),
    }


_MEMORY = """
import json, resource, sys, time
import bandits
horizon, runs = int(sys.argv[1]), int(sys.argv[2])
bandits.run("linspace10", "ucb", horizon=1000, runs=2)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
result = bandits.run("linspace10", "ucb", horizon=horizon, runs=runs)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"base_kb": base, "peak_kb": peak, "seconds": seconds,
                  "checkpoints": int(result.checkpoints.size)}))
"""


def measure_memory(budget: Budget, cache_dir: str) -> dict[str, float]:
    """Peak RSS (ru_maxrss) of a subprocess running ucb for mem_horizon x mem_runs."""
    log(f"  ucb {budget.mem_horizon} x {budget.mem_runs} in a subprocess ...")
    out, _ = run_python(_MEMORY, cache_dir, str(budget.mem_horizon), str(budget.mem_runs))
    out["rate"] = budget.mem_horizon * budget.mem_runs / out["seconds"]
    return out


# --- the report ---------------------------------------------------------------------------------




def machine(started: str, load_at_start: str) -> list[str]:
    """Date, CPU, cores, numba threads and versions."""
    cpu = cpu_name()

    return [
        f"date: {started} (start)",
        f"machine: {cpu}; nproc {len(os.sched_getaffinity(0))}; "
        f"numba threads {numba.get_num_threads()} ({numba.threading_layer()} layer); "
        f"{platform.system()} {platform.release()}",
        f"load average (1, 5, 15 min): {load_at_start} at the start, {load()} at the end",
        f"versions: python {platform.python_version()}, numpy {np.__version__}, "
        f"numba {numba.__version__}, scipy {version('scipy')}, celab {version('celab')}, "
        f"SMPyBandits {version('SMPyBandits')}",
    ]


def power(n: int) -> str:
    """``10^5`` for a power of ten, else the number itself."""
    e = round(math.log10(n)) if n > 0 else 0
    return f"10^{e}" if 10**e == n else str(n)


def rate_table(rows: list[Row], ref: Row) -> list[str]:
    """Markdown table of the rows, with each rate relative to the hand-written @njit loop."""
    lines = [
        "| implementation | horizon x runs | reps | median time (s) | M pulls/s "
        "| / @njit UCB1 | mean regret(T) | CPU / wall |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.label} | {power(row.horizon)} x {row.runs} | {row.reps} | {row.seconds:.3g} "
            f"| {row.rate / 1e6:.4g} | {row.rate / ref.rate:.3g} | {row.regret:.1f} "
            f"| {row.cpu:.2f} |"
        )
    return lines


def floors(budget: Budget, rows: dict[str, Row], smpy: dict[str, Row], start: dict,
           memory: dict) -> list[tuple[str, str, bool]]:
    """The floors: (what, measured, passed)."""
    ucb, ts = rows["celab ucb"].rate, rows["celab thompson"].rate
    vs_ucb = ucb / smpy["ucb"].rate
    vs_ts = ts / smpy["thompson"].rate
    vs_numpy = ucb / rows[f"NumPy UCB1, vectorised over {budget.numpy_runs} runs"].rate
    ref = rows["hand-written @njit UCB1 (prange)"].rate / ucb
    peak_mb = memory["peak_kb"] / 1024
    numba_mods = start["help_numba_modules"]
    return [
        ("celab ucb >= 100x SMPyBandits UCB", f"{vs_ucb:.0f}x", vs_ucb >= 100),
        ("celab thompson >= 100x SMPyBandits Thompson", f"{vs_ts:.0f}x", vs_ts >= 100),
        (f"celab ucb >= 5x NumPy UCB1 over {budget.numpy_runs} runs", f"{vs_numpy:.2f}x",
         vs_numpy >= 5),
        ("hand-written @njit / celab ucb <= 1.5", f"{ref:.2f}", ref <= 1.5),
        ("celab thompson >= 2 M pulls/s", f"{ts / 1e6:.2f} M", ts >= 2e6),
        ("`celab --help` < 2 s", f"{start['help']:.2f} s", start["help"] < 2.0),
        ("`celab --help` imports no numba", ", ".join(numba_mods[:3]) or "none",
         not numba_mods),
        ("warm `celab bandit` (1000 x 10, --no-plots) < 2 s", f"{start['bandit_no_plots']:.2f} s",
         start["bandit_no_plots"] < 2.0),
        ("peak RSS of the long run < 1 GB", f"{peak_mb:.0f} MB", peak_mb < 1024),
    ]


def report(budget: Budget, started: str, load_at_start: str, rows: dict[str, Row],
           smpy: dict[str, Row], start: dict, memory: dict,
           checks: list[tuple[str, str, bool]]) -> list[str]:
    """The markdown report: machine, rates, floors, start-up and memory."""
    ref = rows["hand-written @njit UCB1 (prange)"]
    ordered = [rows[f"celab {a}"] for a in CELAB_AGENTS] + [ref]
    ordered += [rows[f"NumPy UCB1, vectorised over {n} runs"]
                for n in (budget.numpy_runs, budget.numpy_runs // 10)]
    ordered += [smpy["ucb"], smpy["thompson"]]
    ordered += [rows["celab ucb (peer horizon)"], rows["celab thompson (peer horizon)"]]
    flag = " --quick" if budget == QUICK else ""
    out = [f"command: benchmarks/.venv/bin/python benchmarks/bandit_throughput.py{flag}"]
    out += machine(started, load_at_start)
    out += ["", f"problem: {ENV} (Bernoulli, means linspace(0.1, 0.9, 10))", ""]
    out += rate_table(ordered, ref)
    out += ["", "| floor | measured | result |", "|---|---|---|"]
    out += [f"| {what} | {value} | {'PASS' if ok else 'FAIL'} |" for what, value, ok in checks]
    out += [
        "",
        "| start-up (celab ucb, 1000 x 10, fresh process) | import bandits (s) | first call (s) "
        "| process wall (s) |",
        "|---|---|---|---|",
        f"| cold: empty NUMBA_CACHE_DIR (compiles) | {start['cold_import']:.2f} "
        f"| {start['cold_first']:.2f} | {start['cold_wall']:.2f} |",
        f"| warm: on-disk cache filled | {start['warm_import']:.2f} | {start['warm_first']:.2f} "
        f"| {start['warm_wall']:.2f} |",
        "",
        f"second call in the same process: {start['second_call'] * 1e3:.1f} ms; "
        f"`celab --help`: {start['help']:.2f} s; warm `celab bandit --env {ENV} --horizon 1000 "
        f"--runs 10` (the whole command: simulation, saved results, tables): "
        f"{start['bandit_no_plots']:.2f} s with --no-plots, {start['bandit']:.2f} s with its "
        f"four plot files (medians of {budget.startup_reps})",
        f"memory: ucb, horizon {power(budget.mem_horizon)} x {budget.mem_runs} runs "
        f"({memory['checkpoints']} checkpoints): peak RSS {memory['peak_kb'] / 1024:.0f} MB "
        f"(after import and a warm-up run: {memory['base_kb'] / 1024:.0f} MB), "
        f"{memory['seconds']:.2f} s, {memory['rate'] / 1e6:.4g} M pulls/s",
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny budgets, a smoke run")
    args = parser.parse_args(argv)
    budget = QUICK if args.quick else FULL
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    load_at_start = load()

    log("1, 3, 4: celab, the hand-written @njit loop and the NumPy loop")
    rows = measure_jitted(budget)
    log("2: SMPyBandits")
    smpy = measure_smpybandits(budget)
    with tempfile.TemporaryDirectory(prefix="celab-numba-cache-") as cache_dir:
        log("5: start-up")
        start = measure_startup(budget, cache_dir)
        log("6: memory")
        memory = measure_memory(budget, cache_dir)

    checks = floors(budget, rows, smpy, start, memory)
    print("\n".join(report(budget, started, load_at_start, rows, smpy, start, memory, checks)))
    return 0 if all(ok for _, _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())

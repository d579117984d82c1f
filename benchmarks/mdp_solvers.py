"""MDP solvers: celab's exact discounted solvers against pymdptoolbox and QuantEcon.

Everything is timed in one process (compilation and the large Garnet's memory in subprocesses
started from it), the methods taking turns in every round, so the ratios hold although a 2-core
shared machine is noisy from one run to the next.

    benchmarks/.venv/bin/python benchmarks/mdp_solvers.py            # full run
    benchmarks/.venv/bin/python benchmarks/mdp_solvers.py --quick    # smoke run
    benchmarks/.venv/bin/python benchmarks/mdp_solvers.py --write    # also update docs/

Cases, all at gamma = 0.99:

* ``garnet(500, 8, 500)``: every row full (2M transition probabilities), given as dense arrays;
* ``garnet(2000, 4, 10)``: 10 successors per row, given in each library's sparse input format
  (celab: CSR arrays to ``FiniteMDP.from_successors``; QuantEcon: a scipy.sparse (S*A, S)
  matrix with state/action indices; pymdptoolbox: A scipy.sparse (S, S) matrices). celab is
  also timed from the 128 MB dense array, for reference;
* FrozenLake 8x8, slippery (``mdp.envs.gridworld("8x8")``, 65 states), given as dense arrays.

Every timing includes building the library's model object from the input arrays (celab:
``FiniteMDP`` construction, with its full validation). Each method's values are compared with
V*, computed by celab's policy iteration and cross-checked against its linear program. Time is
the median over the rounds (each method is warmed up first, so numba's compilation is
excluded; it is measured separately in fresh processes).

BLAS runs single-threaded (OPENBLAS_NUM_THREADS=1 etc., set before numpy is imported): on this
shared 2-core machine OpenBLAS's two threads made a 500x4000 matrix-vector product 15x slower
(12 ms against 0.8 ms) whenever the other core was busy, which would penalise the peers.

The script prints a markdown report and exits with status 1 when a floor fails.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from _common import cpu_name, load, log, version  # noqa: E402

import mdp  # noqa: E402

GAMMA = 0.99
EPSILON = 1e-8
DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
SECTION = "## MDP solvers"


@dataclass
class Case:
    """One MDP, its inputs in every library's format, and V*."""

    label: str
    P: np.ndarray | None  # dense (S, A, S), when the case is given densely
    R: np.ndarray
    csr: tuple[np.ndarray, np.ndarray, np.ndarray]
    v_star: np.ndarray = field(default_factory=lambda: np.empty(0))
    lp_gap: float = 0.0

    @property
    def sparse(self) -> bool:
        return self.P is None

    @property
    def shape(self) -> tuple[int, int]:
        return self.R.shape


@dataclass
class Row:
    case: str
    method: str
    seconds: float
    error: float
    iterations: int | str
    reps: int




# --- cases ---------------------------------------------------------------------------------------


def make_cases(quick: bool) -> list[Case]:
    dense = mdp.envs.garnet(200 if quick else 500, 8, 200 if quick else 500, seed=0)
    sparse = mdp.envs.garnet(500 if quick else 2000, 4, 10, seed=0)
    lake = mdp.envs.gridworld("8x8", slippery=True)
    cases = [
        Case(f"garnet({dense.n_states}, 8, {dense.n_states}), dense", np.array(dense.P),
             np.array(dense.R), (dense.indptr, dense.indices, dense.probs)),
        Case(f"garnet({sparse.n_states}, 4, 10), sparse", None, np.array(sparse.R),
             (np.array(sparse.indptr), np.array(sparse.indices), np.array(sparse.probs))),
        Case("FrozenLake 8x8 slippery", np.array(lake.P), np.array(lake.R),
             (lake.indptr, lake.indices, lake.probs)),
    ]
    for case in cases:
        m = build_celab(case)
        pi = mdp.policy_iteration(m, GAMMA)
        lp = mdp.linear_program(m, GAMMA)
        case.v_star = pi.values
        case.lp_gap = float(np.abs(pi.values - lp.values).max())
    return cases


def build_celab(case: Case) -> mdp.FiniteMDP:
    if case.sparse:
        return mdp.FiniteMDP.from_successors(*case.csr, case.R)
    return mdp.FiniteMDP(case.P, case.R)


def sparse_rows(case: Case) -> sp.csr_matrix:
    S, A = case.shape
    return sp.csr_matrix(case.csr[::-1], shape=(S * A, S))


# --- the methods: each returns (values, iterations) ----------------------------------------------


def celab_methods(case: Case) -> dict[str, Callable[[], tuple[np.ndarray, int]]]:
    def run(solver: Callable[..., mdp.SolverResult], **kw) -> Callable[[], tuple]:
        def call() -> tuple[np.ndarray, int]:
            res = solver(build_celab(case), GAMMA, **kw)
            return res.values, res.iterations
        return call

    out = {
        "celab solve (default)": run(mdp.solve, epsilon=EPSILON),
        "celab value_iteration": run(mdp.value_iteration, epsilon=EPSILON),
        "celab policy_iteration": run(mdp.policy_iteration),
        "celab modified_policy_iteration (k=20)": run(mdp.modified_policy_iteration,
                                                      epsilon=EPSILON),
    }
    if case.sparse:
        S, A = case.shape
        dense_P = sparse_rows(case).toarray().reshape(S, A, S)

        def from_dense() -> tuple[np.ndarray, int]:
            res = mdp.solve(mdp.FiniteMDP(dense_P, case.R), GAMMA, epsilon=EPSILON)
            return res.values, res.iterations

        out[f"celab solve, from the dense P ({dense_P.nbytes / 2**20:.0f} MB)"] = from_dense
    return out


def quantecon_methods(case: Case) -> dict[str, Callable[[], tuple[np.ndarray, int]]]:
    import quantecon as qe

    S, A = case.shape
    if case.sparse:
        Q = sparse_rows(case)
        args = (case.R.ravel(), Q, GAMMA, np.repeat(np.arange(S), A), np.tile(np.arange(A), S))
    else:
        args = (case.R, case.P, GAMMA)
    settings = {
        "value_iteration": {"epsilon": EPSILON, "max_iter": 10**6},
        "policy_iteration": {"max_iter": 1000},
        "modified_policy_iteration": {"epsilon": EPSILON, "max_iter": 10**6, "k": 20},
    }

    def run(method: str) -> Callable[[], tuple]:
        def call() -> tuple[np.ndarray, int]:
            res = qe.markov.DiscreteDP(*args).solve(method=method, **settings[method])
            return res.v, res.num_iter
        return call

    return {f"QuantEcon {m}": run(m) for m in settings}


def mdptoolbox_methods(case: Case) -> dict[str, Callable[[], tuple[np.ndarray, int]]]:
    from mdptoolbox import mdp as mtb

    S, A = case.shape
    if case.sparse:
        rows = sparse_rows(case)
        transitions = [rows[a::A].tocsr() for a in range(A)]  # rows s*A + a for each a
    else:
        transitions = np.ascontiguousarray(case.P.transpose(1, 0, 2))  # (A, S, S)

    def vi() -> tuple[np.ndarray, int]:
        solver = mtb.ValueIteration(transitions, case.R, GAMMA, epsilon=EPSILON, max_iter=10**6)
        solver.run()
        return np.asarray(solver.V), solver.iter

    def pi() -> tuple[np.ndarray, int]:
        solver = mtb.PolicyIteration(transitions, case.R, GAMMA, max_iter=1000, eval_type=0)
        solver.run()
        return np.asarray(solver.V), solver.iter

    return {"pymdptoolbox ValueIteration": vi, "pymdptoolbox PolicyIteration": pi}


# --- the measurements ----------------------------------------------------------------------------


def time_case(case: Case, quick: bool) -> list[Row]:
    methods = {**celab_methods(case), **quantecon_methods(case), **mdptoolbox_methods(case)}
    first: dict[str, float] = {}
    results: dict[str, tuple[np.ndarray, int]] = {}
    for label, call in methods.items():  # warm-up: compiles numba kernels, fills caches
        log(f"  warm-up {label}")
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results[label] = call()
        first[label] = time.perf_counter() - start
    budget = 0.5 if quick else 3.0  # seconds per method at most, besides the warm-up
    reps = {label: max(1, min(3 if quick else 25, int(budget / max(t, 1e-9))))
            for label, t in first.items()}
    times: dict[str, list[float]] = {label: [] for label in methods}
    for rnd in range(max(reps.values())):
        for label, call in methods.items():
            if rnd >= reps[label]:
                continue
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results[label] = call()
            times[label].append(time.perf_counter() - start)
    rows = []
    for label in methods:
        values, iterations = results[label]
        err = float(np.abs(np.asarray(values, dtype=float) - case.v_star).max())
        rows.append(Row(case.label, label, statistics.median(times[label]), err, iterations,
                        len(times[label])))
    return rows


def run_python(code: str, env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


COMPILE_CODE = """
import json, time
t0 = time.perf_counter()
import mdp
t1 = time.perf_counter()
m = mdp.envs.riverswim(6)
t2 = time.perf_counter()
mdp.solve(m, 0.99)
t3 = time.perf_counter()
mdp.solve(m, 0.99)
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "build": t2 - t1, "first": t3 - t2, "second": t4 - t3}))
"""

MEMORY_HELPERS = """
def rss_kb(field):
    # VmRSS / VmHWM of this process (ru_maxrss would include the parent's peak, which a child
    # inherits at fork)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        pass
"""

GARNET_CODE = MEMORY_HELPERS + """
import json, time
import numpy as np
import mdp
mdp.solve(mdp.envs.riverswim(6), 0.99)   # load the kernels (and the imports) first
base = rss_kb("VmRSS")
reset_peak()
t0 = time.perf_counter()
g = mdp.envs.garnet(%(S)d, 4, 10, seed=0)
t1 = time.perf_counter()
peak = rss_kb("VmHWM")
np.savez(%(path)r, indptr=g.indptr, indices=g.indices, probs=g.probs, R=g.R)
print(json.dumps({"seconds": t1 - t0, "base_kb": base, "peak_kb": peak}))
"""

SOLVE_BIG_CODE = MEMORY_HELPERS + """
import json, time
import numpy as np
import mdp
mdp.solve(mdp.envs.riverswim(6), 0.99)   # load the kernels (and the imports) first
with np.load(%(path)r, allow_pickle=False) as z:
    csr = (z["indptr"], z["indices"], z["probs"]); R = z["R"]
base = rss_kb("VmRSS")
reset_peak()
t0 = time.perf_counter()
m = mdp.FiniteMDP.from_successors(*csr, R)
t1 = time.perf_counter()
res = mdp.solve(m, 0.99)
t2 = time.perf_counter()
print(json.dumps({"construct": t1 - t0, "solve": t2 - t1, "iterations": res.iterations,
                  "bound": res.bound, "base_kb": base, "peak_kb": rss_kb("VmHWM"),
                  "input_mb": sum(a.nbytes for a in (*csr, R)) / 2**20}))
"""


def measure_compile() -> dict[str, dict]:
    with tempfile.TemporaryDirectory(prefix="celab-numba-cache-") as cache_dir:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
        cold = run_python(COMPILE_CODE, env)
        warm = run_python(COMPILE_CODE, env)
    return {"cold": cold, "warm": warm}


def measure_big(quick: bool) -> dict:
    """garnet(S, 4, 10): the builder, then from_successors + solve, each in a fresh process."""
    S = 10_000 if quick else 100_000
    with tempfile.TemporaryDirectory(prefix="celab-garnet-") as tmp:
        path = str(Path(tmp) / "garnet.npz")
        build = run_python(GARNET_CODE % {"S": S, "path": path}, dict(os.environ))
        big = run_python(SOLVE_BIG_CODE % {"path": path}, dict(os.environ))
    big["build"] = build
    big["n_states"] = S
    return big


# --- the report ----------------------------------------------------------------------------------




def machine(started: str, load_at_start: str) -> list[str]:
    cpu = cpu_name()

    return [
        f"date: {started} (start)",
        f"machine: {cpu}; nproc {len(os.sched_getaffinity(0))}; {platform.system()} "
        f"{platform.release()}; BLAS threads {os.environ.get('OPENBLAS_NUM_THREADS')}",
        f"load average (1, 5, 15 min): {load_at_start} at the start, {load()} at the end",
        f"versions: python {platform.python_version()}, numpy {np.__version__}, "
        f"numba {numba.__version__}, scipy {version('scipy')}, celab {version('celab')}, "
        f"pymdptoolbox {version('pymdptoolbox')}, quantecon {version('quantecon')}",
    ]


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds < 1.0 else f"{seconds:.3g} s"


def table(cases: list[Case], rows: list[Row]) -> list[str]:
    out = []
    for case in cases:
        S, A = case.shape
        mine = [r for r in rows if r.case == case.label]
        default = next(r for r in mine if r.method == "celab solve (default)")
        out += [
            "",
            f"**{case.label}** (S = {S}, A = {A}; V* by celab's policy iteration, "
            f"|PI - LP| = {case.lp_gap:.1e})",
            "",
            "| method | median time | / celab solve | max abs(V - V*) | iterations | reps |",
            "|---|---|---|---|---|---|",
        ]
        for r in mine:
            out.append(f"| {r.method} | {fmt_time(r.seconds)} | {r.seconds / default.seconds:.2f}"
                       f" | {r.error:.1e} | {r.iterations} | {r.reps} |")
    return out


def floors(cases: list[Case], rows: list[Row], big: dict, quick: bool
           ) -> list[tuple[str, str, bool]]:
    checks = []
    for case in cases:
        mine = {r.method: r for r in rows if r.case == case.label}
        default = mine["celab solve (default)"]
        peers = [r for r in mine.values() if not r.method.startswith("celab") and r.error <= 1e-6]
        fastest = min(peers, key=lambda r: r.seconds) if peers else None
        mtb = [r for r in mine.values() if r.method.startswith("pymdptoolbox")]
        fastest_mtb = min(mtb, key=lambda r: r.seconds)
        checks.append((f"{case.label}: celab solve within 1e-6 of V*", f"{default.error:.1e}",
                       default.error <= 1e-6))
        if fastest is not None:
            ratio = fastest.seconds / default.seconds
            checks.append((f"{case.label}: celab solve at least as fast as the fastest peer "
                           f"within 1e-6 ({fastest.method})", f"{ratio:.2f}x", ratio >= 1.0))
        ratio = fastest_mtb.seconds / default.seconds
        checks.append((f"{case.label}: celab solve >= 3x faster than pymdptoolbox "
                       f"({fastest_mtb.method})", f"{ratio:.1f}x", ratio >= 3.0))
    total = big["construct"] + big["solve"]
    mb = max(big["peak_kb"], big["build"]["peak_kb"]) / 1024
    checks.append(("garnet(100000, 4, 10): from_successors + solve in seconds",
                   f"{total:.2f} s", quick or total < 10.0))
    checks.append(("garnet(100000, 4, 10): peak RSS within a few hundred MB", f"{mb:.0f} MB",
                   quick or mb < 500))
    return checks


def report(args: argparse.Namespace, started: str, load_at_start: str, cases: list[Case],
           rows: list[Row], compile_: dict, big: dict, checks: list[tuple[str, str, bool]]
           ) -> list[str]:
    flag = " --quick" if args.quick else ""
    out = [f"command: `benchmarks/.venv/bin/python benchmarks/mdp_solvers.py{flag}`", ""]
    out += [f"- {line}" for line in machine(started, load_at_start)]
    out += [
        "",
        f"gamma = {GAMMA}; epsilon = {EPSILON:g} for the methods that take one (celab's rules "
        "guarantee values within epsilon / 2 of V*; pymdptoolbox's and QuantEcon's epsilon is "
        "their own stopping parameter). Every time includes building the library's model from "
        "the input arrays; celab validates the whole model on construction. Medians over the "
        "reps, after a warm-up call.",
    ]
    out += [
        "",
        "Reading the tables: celab's construction copies the transition probabilities into the "
        "model (16 MB for the dense case, which costs about one memcpy, 2-3 ms here) so that the "
        "model cannot change under the solver; the peers keep references to their inputs. "
        "pymdptoolbox's ValueIteration stops with the right policy but values off by a constant "
        "(no extrapolation), hence its errors. QuantEcon's policy iteration starts from the "
        "greedy policy of max_a R, which is already optimal on the dense Garnet (1 iteration).",
    ]
    out += table(cases, rows)
    b = big["build"]
    out += [
        "",
        f"**garnet({big['n_states']}, 4, 10)** ({big['input_mb']:.0f} MB of CSR arrays), each "
        "step in a fresh process after `import mdp` and a warm-up solve:",
        "",
        "| step | time | peak RSS during the step | RSS before the step |",
        "|---|---|---|---|",
        f"| `mdp.envs.garnet({big['n_states']}, 4, 10)` | {fmt_time(b['seconds'])} "
        f"| {b['peak_kb'] / 1024:.0f} MB | {b['base_kb'] / 1024:.0f} MB |",
        f"| `FiniteMDP.from_successors` (arrays loaded from .npz) + `solve(m, 0.99)` | "
        f"{fmt_time(big['construct'])} + {fmt_time(big['solve'])} ({big['iterations']} sweeps, "
        f"bound {big['bound']:.1e}) | {big['peak_kb'] / 1024:.0f} MB | "
        f"{big['base_kb'] / 1024:.0f} MB (with the input) |",
        "",
        "numba compilation (`import mdp`, `riverswim(6)`, `solve` twice, fresh process):",
        "",
        "| numba cache | import mdp | build riverswim | first solve | second solve |",
        "|---|---|---|---|---|",
    ]
    for label, key in (("empty (compiles)", "cold"), ("filled (loads)", "warm")):
        c = compile_[key]
        out.append(f"| {label} | {fmt_time(c['import'])} | {fmt_time(c['build'])} | "
                   f"{fmt_time(c['first'])} | {fmt_time(c['second'])} |")
    out += ["", "| floor | measured | result |", "|---|---|---|"]
    out += [f"| {what} | {value} | {'PASS' if ok else 'FAIL'} |" for what, value, ok in checks]
    return out


def write_docs(lines: list[str]) -> None:
    from tracking.results import write_atomic

    text = DOCS.read_text(encoding="utf-8")
    start = text.index(SECTION)
    nxt = text.find("\n## ", start + len(SECTION))
    end = len(text) if nxt < 0 else nxt + 1
    body = "\n".join([SECTION, "", "(benchmarks/mdp_solvers.py)", "", *lines, ""])
    write_atomic(DOCS, text[:start] + body + ("\n" + text[end:] if nxt >= 0 else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small cases, a smoke run")
    parser.add_argument("--write", action="store_true",
                        help=f"replace the '{SECTION}' section of docs/benchmarks.md")
    args = parser.parse_args(argv)
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    load_at_start = load()
    log("cases and V*")
    cases = make_cases(args.quick)
    rows: list[Row] = []
    for case in cases:
        log(case.label)
        rows += time_case(case, args.quick)
    log("compilation")
    compile_ = measure_compile()
    log("large garnet")
    big = measure_big(args.quick)
    checks = floors(cases, rows, big, args.quick)
    lines = report(args, started, load_at_start, cases, rows, compile_, big, checks)
    print("\n".join(lines))
    if args.write:
        write_docs(lines)
    return 0 if all(ok for _, _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())

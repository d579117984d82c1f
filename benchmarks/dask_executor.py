"""The Dask executor against the local one: the thesis study's wall time, and identical results.

Runs ``celab reproduce thesis`` (its default budget) twice in fresh folders, with the local
executor and with ``--dask local:N`` (a LocalCluster of N worker processes, one thread each,
started and shut down by the run itself, so its start-up is counted), after a smoke run and a
run of every problem and agent of the study at its smoke budget that load or compile the
kernels. Every array of every results file must be equal, bit for bit; the ratio of the wall
times is reported against the floor of docs/scaling.md (at most 1.25 on 2 cores with N = 2).

    .venv/bin/python benchmarks/dask_executor.py            # about 35 minutes on 2 idle cores
    .venv/bin/python benchmarks/dask_executor.py --smoke    # tiny budget: checks the script
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import cpu_name, load, log, version

ROOT = Path(__file__).resolve().parents[1]
CELAB = [sys.executable, "-c", "import cli; cli.main()"]
#: The largest wall-time ratio, Dask over local, that docs/scaling.md promises on 2 cores.
FLOOR = 1.25


def _reproduce(out: Path, *options: str) -> float:
    """Wall seconds of ``celab reproduce thesis`` into ``out``."""
    start = time.perf_counter()
    done = subprocess.run([*CELAB, "reproduce", "thesis", "--out", str(out), *options],
                          cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"celab reproduce thesis {' '.join(options)} failed:\n{done.stderr}")
    return seconds


def _warm_up(folder: Path) -> None:
    """Load (or compile) every kernel the study's default budget uses, so that neither timed
    run pays for compiling: every problem of the study, every agent, at the smoke budget of its
    setting, without the tuning, through ``celab run``."""
    sys.path.insert(0, str(ROOT))
    from experiments import files, session, studies

    parsed = studies.shrink(studies.spec("thesis"))
    jobs = files.build_jobs(parsed)
    path = folder / "warm-up.toml"
    folder.mkdir(parents=True)
    path.write_text(session.config_text([j.config for j in jobs], "warm-up", 0), "utf-8")
    done = subprocess.run([*CELAB, "run", str(path), "--out", str(folder / "out"), "--no-plots"],
                          cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, text=True)
    if done.returncode != 0:
        sys.exit(f"the warm-up failed:\n{done.stderr}")


def _differences(a: Path, b: Path) -> list[str]:
    """The results files of two folders whose arrays differ (or that only one holds)."""
    names = sorted({p.name for p in (a / "results").glob("*.npz")}
                   | {p.name for p in (b / "results").glob("*.npz")})
    out = []
    for name in names:
        try:
            x, y = np.load(a / "results" / name), np.load(b / "results" / name)
        except OSError:
            out.append(name)
            continue
        arrays = set(x.files) | set(y.files)
        if any(k not in x.files or k not in y.files or not np.array_equal(x[k], y[k])
               for k in arrays):
            out.append(name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny budget (checks the script)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args()
    budget = ["--smoke"] if args.smoke else []
    log(f"load before: {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        log("warm-up: loading (or compiling) the kernels of every problem and agent")
        _reproduce(root / "warm-up", "--smoke")
        _warm_up(root / "every-kernel")
        log("the local executor")
        local = _reproduce(root / "local", *budget)
        log(f"--dask local:{args.workers}")
        dask = _reproduce(root / "dask", *budget, "--dask", f"local:{args.workers}")
        differ = _differences(root / "local", root / "dask")
        count = len(list((root / "local" / "results").glob("*.npz")))
    ratio = dask / local
    print(f"# celab reproduce thesis{' --smoke' if args.smoke else ''}: Dask against local\n")
    print(f"CPU: {cpu_name()}; dask {version('dask')}, distributed {version('distributed')}; "
          f"load after: {load()}\n")
    print("| executor | wall time (s) | ratio |")
    print("|---|---|---|")
    print(f"| local (one process, every core) | {local:.1f} | 1 |")
    print(f"| --dask local:{args.workers} | {dask:.1f} | {ratio:.2f} |")
    print(f"\nresults: {count} files, "
          + ("identical bit for bit" if not differ else f"DIFFERENT: {', '.join(differ)}"))
    if not args.smoke:
        print(f"floor: at most {FLOOR}x: {'holds' if ratio <= FLOOR else 'FAILS'}")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()

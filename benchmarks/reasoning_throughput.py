"""Throughput of the reasoning loop: sampled and trained tokens per second of GRPO and CE.

The design target is 10^6 tokens per second on P = 10^4 prompts, H = 8, V = 8, groups of 16,
on 2 cores. Tokens per second = runs x calls x H / wall seconds of the second execution (the
first compiles or loads the kernels; building the task is not timed); the readouts at the
checkpoints (exact pass@1 over every training prompt) are part of the time, so a sparse grid
(``--checkpoints``) isolates the sampling and the updates.

    .venv/bin/python benchmarks/reasoning_throughput.py            # a few minutes on 2 cores
    .venv/bin/python benchmarks/reasoning_throughput.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import time

from _common import load, log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="P = 1000, fewer calls")
    parser.add_argument("--checkpoints", type=int, default=4,
                        help="checkpoints per run (each reads every training prompt exactly)")
    opts = parser.parse_args()
    from mdp.reasoning_run import ReasoningJob
    from tracking.runner import execute

    P = 1000 if opts.quick else 10_000
    calls = 20_000 if opts.quick else 200_000
    args = {"n_prompts": P, "horizon": 8, "vocab": 8}
    grid = [calls * (i + 1) // opts.checkpoints for i in range(opts.checkpoints)]
    log(f"load before: {load()}")
    print("| agent | prompts | calls per run | runs | tokens per second | wall (s) |")
    print("|---|---|---|---|---|---|")
    for agent in ("grpo:group=16", "ce:group=16", "rloo:group=16"):
        execute(ReasoningJob("trie", agent, calls, 2, env_args=args, checkpoints=grid))
        job = ReasoningJob("trie", agent, calls, 2, env_args=args, checkpoints=grid)
        wall = time.perf_counter()
        execute(job)
        wall = time.perf_counter() - wall
        rate = 2 * calls * args["horizon"] / wall
        print(f"| {agent} | {P} | {calls} | 2 | {rate:.3g} | {wall:.2f} |", flush=True)
    log(f"load after: {load()}")


if __name__ == "__main__":
    main()

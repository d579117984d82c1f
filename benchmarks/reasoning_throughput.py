"""Throughput of the reasoning loop: sampled and trained tokens per second of GRPO and CE.

CE comes as the table of verdicts (``ce``) and as the linear verifier model (``ce-linear``,
without prompt features on the trie: D = H V = 64 parameters, one Cholesky factorisation a
step, the batch's prompts re-planned when read).

The design target is 10^6 tokens per second on P = 10^4 prompts, H = 8, V = 8, groups of 16,
on 2 cores. Tokens per second = runs x calls x H / wall seconds of the second execution (the
first compiles or loads the kernels; building the task is not timed); the readouts at the
checkpoints (exact pass@1 over every training prompt) are part of the time, so a sparse grid
(``--checkpoints``) isolates the sampling and the updates. The last row is the same GRPO step
(tabular logits, batch 4, group 16, one epoch, beta = 0.04) written in plain NumPy, vectorised
over the batch's responses, one run, without readouts: the reference loop of the ratio.

    .venv/bin/python benchmarks/reasoning_throughput.py            # a few minutes on 2 cores
    .venv/bin/python benchmarks/reasoning_throughput.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import time

from _common import load, log


def numpy_grpo(task, calls: int, batch: int = 4, group: int = 16, alpha: float = 20.0,
               beta: float = 0.04, seed: int = 0) -> float:
    """Plain NumPy GRPO on ``task`` for ``calls`` calls (docs/algorithms.md, "grpo", with one
    epoch, so rho = 1 inside the clip range); returns the wall seconds. The training prompts
    are the first 80% (the job's default held_out = 0.2)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    P, H, Z, V = task.shape
    n_train = P - int(0.2 * P)
    theta = np.array(task.ref_logits)
    ref = np.exp(theta - theta.max(axis=3, keepdims=True))
    ref /= ref.sum(axis=3, keepdims=True)
    n = batch * group
    steps = np.arange(H)
    start = time.perf_counter()
    for _ in range(calls // n):
        p = np.repeat(rng.integers(0, n_train, batch), group)
        z = np.zeros(n, dtype=np.int64)
        states = np.empty((n, H), dtype=np.int64)
        tokens = np.empty((n, H), dtype=np.int64)
        rows = np.empty((n, H, V))
        for h in range(H):
            logits = theta[p, h, z]
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            pi = e / e.sum(axis=1, keepdims=True)
            y = np.minimum((np.cumsum(pi, axis=1) < rng.random(n)[:, None]).sum(axis=1), V - 1)
            states[:, h], tokens[:, h], rows[:, h] = z, y, pi
            z = task.next[p, h, z, y]
        r = task.accept[p, z].astype(np.float64).reshape(batch, group)
        adv = ((r - r.mean(axis=1, keepdims=True)) / (r.std(axis=1, keepdims=True) + 1e-8))
        pi_y = np.take_along_axis(rows, tokens[:, :, None], axis=2)[:, :, 0]
        ref_y = ref[p[:, None], steps[None, :], states, tokens]
        coef = alpha / (n * H) * (adv.reshape(n)[:, None] + beta * (ref_y / pi_y - 1.0))
        grad = -coef[:, :, None] * rows
        grad[np.arange(n)[:, None], steps[None, :], tokens] += coef
        np.add.at(theta, (p[:, None], steps[None, :], states), grad)
    return time.perf_counter() - start


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
    for agent in ("grpo:group=16", "ce:group=16", "rloo:group=16", "ce-linear:group=16"):
        execute(ReasoningJob("trie", agent, calls, 2, env_args=args, checkpoints=grid))
        job = ReasoningJob("trie", agent, calls, 2, env_args=args, checkpoints=grid)
        wall = time.perf_counter()
        execute(job)
        wall = time.perf_counter() - wall
        rate = 2 * calls * args["horizon"] / wall
        print(f"| {agent} | {P} | {calls} | 2 | {rate:.3g} | {wall:.2f} |", flush=True)
    from mdp import reasoning

    task = reasoning.make_task("trie", **args)
    np_calls = calls // 10
    wall = numpy_grpo(task, np_calls)
    print(f"| grpo:group=16, plain NumPy | {P} | {np_calls} | 1 | "
          f"{np_calls * args['horizon'] / wall:.3g} | {wall:.2f} |", flush=True)
    log(f"load after: {load()}")


if __name__ == "__main__":
    main()

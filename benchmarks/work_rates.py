"""Work rates: elementary operations per CPU-second of each setting, for the work guard.

Every job states its work in elementary operations (``Job.work_per_run``: an arm examined, a
transition backed up, ...). This script runs each agent on a few problems and divides the
job's work by the CPU time the process spent (summed over its threads), so the rate is per
thread and holds on a loaded machine too. Each setting's ``work_rate`` (bandits/setting.py,
mdp/setting.py, mdp/reasoning_setting.py) takes about the fastest agent's rate, so that its
estimates are lower bounds on the time.

    .venv/bin/python benchmarks/work_rates.py           # about a minute on 2 cores
    .venv/bin/python benchmarks/work_rates.py --quick   # smoke run
"""

from __future__ import annotations

import argparse
import time

from _common import load, log


def _rate(job) -> tuple[float, float]:
    """(operations per CPU-second, wall seconds) of one execution of ``job``."""
    from tracking.runner import execute

    cpu, wall = time.process_time(), time.perf_counter()
    execute(job)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return job.work_per_run * job.runs / cpu, wall


def _cases(scale: float):
    import mdp
    from bandits.agents import REGISTRY as BANDIT_AGENTS
    from bandits.loop import BanditJob
    from mdp.agents import CONTINUING_REGISTRY, REGISTRY
    from mdp.continuing import ContinuingJob
    from mdp.loop import MDPJob
    from mdp.reasoning_agents import REGISTRY as REASONING_AGENTS
    from mdp.reasoning_run import ReasoningJob

    garnet = mdp.envs.garnet(100, 5, 10, seed=0)
    for agent in BANDIT_AGENTS:
        yield "bandit", "linspace10", agent, lambda a=agent: BanditJob(
            "linspace10", a, int(2e5 * scale), 8)
    for agent in REGISTRY:
        yield "mdp", "riverswim", agent, lambda a=agent: MDPJob(
            "riverswim", a, 20, int(2000 * scale), 8)
        yield "mdp", "garnet(100, 5, 10)", agent, lambda a=agent: MDPJob(
            garnet, a, 20, int(100 * scale), 4)
    for agent, cls in REGISTRY.items():  # sampled regret: their episodes touch visited rows
        if cls.family == "policy-gradient":
            yield "mdp", "garnet(100, 5, 10), sampled regret", agent, lambda a=agent: MDPJob(
                garnet, a, 20, int(20000 * scale), 4, regret="sampled")
    for agent in CONTINUING_REGISTRY:
        yield "continuing", "riverswim", agent, lambda a=agent: ContinuingJob(
            "riverswim", a, int(2e6 * scale), 4)
        yield "continuing", "garnet(100, 5, 10)", agent, lambda a=agent: ContinuingJob(
            garnet, a, int(2e5 * scale), 4)
    for agent in REASONING_AGENTS:
        yield "reasoning", "trie(100, 8, 8)", agent, lambda a=agent: ReasoningJob(
            "trie", a, int(40000 * scale), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny budgets (a smoke run)")
    scale = 0.05 if parser.parse_args().quick else 1.0
    log(f"load before: {load()}")
    best: dict[str, float] = {}
    print("| setting | problem | agent | operations per CPU-second | wall (s) |")
    print("|---|---|---|---|---|")
    for setting, problem, agent, make in _cases(scale):
        _rate(make())  # warm-up: loads or compiles the kernel
        rate, wall = _rate(make())
        best[setting] = max(best.get(setting, 0.0), rate)
        print(f"| {setting} | {problem} | {agent} | {rate:.3g} | {wall:.2f} |", flush=True)
    print()
    for setting, rate in best.items():
        print(f"- {setting}: fastest {rate:.3g} operations per CPU-second")
    log(f"load after: {load()}")


if __name__ == "__main__":
    main()

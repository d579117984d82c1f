"""The shared bandit regret loop: every agent on the same runs and the same random numbers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from experiments import checkpoints as cp
from experiments.results import Result
from experiments.rng import run_seeds
from experiments.specs import build_all
from experiments.validate import as_int

from . import envs
from .agents import REGISTRY, BanditAgent

#: Work per kernel call, in agent-arm operations, so that a batch takes a fraction of a second
#: and a progress bar or an interruption is served between batches.
BATCH_WORK = 3e8

Progress = Callable[[int], None]


def as_env(env: str | envs.Bandit, seed: int = 0) -> envs.Bandit:
    """A bandit environment from a name (see ``bandits.envs.NAMED``) or an environment object."""
    if isinstance(env, str):
        return envs.make(env, seed)
    if isinstance(env, (envs.Bernoulli, envs.Gaussian)):
        return env
    raise ValueError(f"env must be a bandit name or a Bernoulli/Gaussian object, got {env!r}")


def batch_size(horizon: int, n_arms: int, runs: int) -> int:
    """Runs per kernel call: about BATCH_WORK arm-operations, at least one per thread."""
    from numba import get_num_threads

    threads = get_num_threads()
    per_run = float(horizon) * max(n_arms, 4)
    size = max(threads, int(BATCH_WORK // per_run) // threads * threads)
    return min(runs, size)


def run(
    env: str | envs.Bandit,
    agents: str | Sequence[str | BanditAgent] | BanditAgent,
    horizon: int,
    runs: int,
    seed: int = 0,
    checkpoints: Sequence[int] | np.ndarray | None = None,
    progress: Progress | None = None,
) -> Result:
    """Run every agent on ``runs`` independent runs of ``horizon`` rounds of ``env``.

    Parameters
    ----------
    env : str or Bernoulli or Gaussian
        The bandit (a name from ``bandits.envs.NAMED`` is built under ``seed``).
    agents : str or list
        Agent names with optional parameters (``"ucb,reinforce:alpha=0.4"``) or agent objects.
    horizon : int
        Rounds T per run.
    runs : int
        Independent runs R. Run r uses the seed ``SeedSequence(seed, spawn_key=(r,))``.
    seed : int
        Master seed (a non-negative integer).
    checkpoints : list of int, optional
        Rounds at which curves are recorded; default ``experiments.checkpoints.log_grid``.
    progress : callable, optional
        Called with the number of pulls done since the previous call.

    Returns
    -------
    Result
        ``regret[i, r, c]`` is agent i's pseudo-regret sum_{t <= T_c} (mu* - mu_{A_t}) in run r
        at round ``steps[c]``; ``simple_regret`` is mu* minus the expected mean of the arm the
        agent would deploy at that round; ``extra["pulls"]`` the final pull counts (A, R, K).
    """
    from ._kernels import simulate

    seed = as_int("seed", seed, minimum=0)
    horizon = as_int("horizon", horizon, minimum=1)
    runs = as_int("runs", runs, minimum=1)
    env = as_env(env, seed)
    agent_objs = build_all(REGISTRY, agents, "bandit")
    grid = cp.as_grid(checkpoints, horizon)
    seeds = run_seeds(seed, runs)
    n_agents, k_arms = len(agent_objs), env.n_arms
    regret = np.zeros((n_agents, runs, grid.size))
    simple = np.zeros((n_agents, runs, grid.size))
    pulls = np.zeros((n_agents, runs, k_arms), dtype=np.int64)
    means = np.ascontiguousarray(env.means[None, :], dtype=np.float64)
    step = batch_size(horizon, k_arms, runs)
    for start in range(0, runs, step):
        stop = min(runs, start + step)
        for i, agent in enumerate(agent_objs):
            simulate(agent.kind, agent.vector(), env.kind, means, float(env.sigma), horizon,
                     seeds[start:stop], grid, regret[i, start:stop], simple[i, start:stop],
                     pulls[i, start:stop])
            if progress is not None:
                progress((stop - start) * horizon)
    config = config_for(env, agent_objs, horizon, runs, seed, grid)
    return Result(
        problem=env.name,
        setting="bandit",
        agents=tuple(a.label for a in agent_objs),
        steps=grid,
        regret=regret,
        simple_regret=simple,
        config=config,
        samples_per_step=1,
        extra={"pulls": pulls},
    )


def config_for(env, agents, horizon, runs, seed, grid) -> dict[str, Any]:
    """The complete configuration of a bandit experiment (what config.toml holds)."""
    from experiments.versions import versions

    return {
        "experiment": {
            "setting": "bandit",
            "problem": env.name,
            "horizon": horizon,
            "runs": runs,
            "seed": seed,
            "checkpoints": [int(s) for s in grid],
            "agents": [a.spec for a in agents],
        },
        "env": env.config(),
        "versions": versions(),
    }

"""The shared bandit regret loop: every agent on the same runs and the same random numbers."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tracking import checkpoints as cp
from tracking import memory
from tracking.paths import check_name
from tracking.results import Result
from tracking.runner import Job, Progress, StopRequest, execute, run_interruptible
from tracking.settings import RUNS, SEED
from tracking.specs import build_all
from tracking.validate import InputError

from . import envs
from .agents import REGISTRY, BanditAgent
from .setting import BANDIT

#: Work of drawing one run's instance of a per-run environment (about 25 microseconds of
#: Python), so that a batch of many short runs still takes about a second.
RUN_MEANS_WORK = 2.5e4


def as_env(env: str | envs.Bandit | envs.RandomTestbed, seed: int = 0,
           **args: Any) -> envs.Bandit | envs.RandomTestbed:
    """A bandit environment from a name (see ``bandits.envs.NAMED``, with its arguments) or an
    environment object."""
    if isinstance(env, str):
        return envs.make(env, seed, **args)
    if args:
        raise InputError("environment arguments apply to a named environment only")
    if isinstance(env, (envs.Bernoulli, envs.Gaussian, envs.RandomTestbed)):
        return env
    raise InputError(f"env must be a bandit name or a Bernoulli/Gaussian object, got {env!r}")


class BanditJob(Job):
    """A validated bandit experiment, run batch by batch by ``tracking.runner.execute``.

    Its ``config`` is the problem's complete table in an experiment file (docs/experiments.md).
    """

    setting = BANDIT.name
    samples_per_step = 1

    def __init__(self, env: str | envs.Bandit | envs.RandomTestbed,
                 agents: str | Sequence[str | BanditAgent] | BanditAgent, horizon: int,
                 runs: int, seed: int = 0, checkpoints: Sequence[int] | np.ndarray | None = None,
                 name: str | None = None, epsilon: float = BANDIT.epsilon,
                 env_args: dict[str, Any] | None = None) -> None:
        self.seed = SEED.check(seed)
        self.horizon = BANDIT.key("horizon").check(horizon)
        self.runs = RUNS.check(runs)
        if name is not None:
            check_name(name)  # before building anything
        self.env = as_env(env, self.seed, **(env_args or {}))
        self.per_run = isinstance(self.env, envs.RandomTestbed)
        self.agent_objs = build_all(REGISTRY, agents, "bandit")
        self._params = [a.params(self.env) for a in self.agent_objs]
        self._jitted = [agent_is_jitted(a, p) for a, p in zip(self.agent_objs, self._params)]
        self.checkpoints = cp.as_grid(checkpoints, self.horizon)
        self.problem = check_name(name if name is not None else self.env.name)
        self.agents = tuple(a.label for a in self.agent_objs)
        self.work_per_run = float(self.horizon) * max(self.env.n_arms, 4) * len(self.agents)
        self._means_in_config = not isinstance(env, str) and not self.per_run
        self.check_memory(f"{self.env.n_arms} arms x {self.checkpoints.size} checkpoints")
        agent_info = {"agent_names": [a.name for a in self.agent_objs],
                      "families": [a.family for a in self.agent_objs]}
        if isinstance(env, str):
            env_keys: dict[str, Any] = {"env": env}
            if env_args:
                env_keys["args"] = envs.coerce_args(env, env_args)
        elif self.per_run:
            env_keys = {"env": "sutton-barto",
                        "args": {"n_arms": self.env.n_arms, "loc": self.env.loc}}
        else:
            env_keys = {"means": [float(m) for m in self.env.means], "family": self.env.family}
        if isinstance(self.env, envs.Gaussian) and not isinstance(env, str):
            env_keys["sigma"] = float(self.env.sigma)
        self.config = {
            "name": self.problem,
            "setting": self.setting,
            **env_keys,
            "horizon": self.horizon,
            "runs": self.runs,
            "seed": self.seed,
            "epsilon": BANDIT.key("epsilon").check(epsilon),
            "checkpoints": [int(s) for s in self.checkpoints],
            "agents": [a.spec for a in self.agent_objs],
        }
        if self.per_run:  # every run has its own instance: no single constant or means
            self.info = {"lai_robbins": None, "means": None, **agent_info}
        else:
            self.info = {"lai_robbins": envs.lai_robbins(self.env),
                         "means": [float(m) for m in self.env.means], **agent_info}
        self.work_per_run = float(self.horizon) * max(self.env.n_arms, 4) * len(self.agents)
        if self.per_run:  # each run's instance is drawn in Python (run_means), in the batch
            self.work_per_run += RUN_MEANS_WORK
        if not self.per_run:
            self._means = np.ascontiguousarray(self.env.means[None, :], dtype=np.float64)

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> BanditJob:
        """The job of a normalised problem table (experiments.files.parse)."""
        args = None
        if "env" in table:
            env: Any = table["env"]
            args = table.get("args")
        elif table.get("family") == "gaussian":
            env = envs.Gaussian(table["means"], table.get("sigma", 1.0), name=table["name"])
        else:
            env = envs.Bernoulli(table["means"], name=table["name"])
        return cls(env, table["agents"], table["horizon"], table["runs"], table["seed"],
                   table.get("checkpoints"), table["name"],
                   table.get("epsilon", BANDIT.epsilon), args)

    def extra_layout(self, runs: int) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        """``pulls`` (agents, runs, K) int64; with an instance per run, ``means`` (agents, runs,
        K) float64 too."""
        shape = (len(self.agents), runs, self.env.n_arms)
        out = {"pulls": (shape, np.dtype(np.int64))}
        if self.per_run:
            out["means"] = (shape, np.dtype(np.float64))
        return out

    # --- the memory guard (tracking.runner.Job.memory_phases) ------------------------------
    def model_bytes(self) -> float:
        """The means (twice: the environment's and the kernel's copy) and their JSON lists."""
        k = self.env.n_arms
        return (0.0 if self.per_run else 16.0 * k) + 32.0 * self.json_numbers()

    def json_numbers(self) -> int:
        """``info["means"]`` (one instance) and ``config["means"]`` (means given as numbers)."""
        k = self.env.n_arms
        return (0 if self.per_run else k) + (k if self._means_in_config else 0)

    def run_state_bytes(self) -> float:
        """The largest run state of the job's agents (their footprints), plus the K reward
        stream keys of ``bandits._kernels._one_run``."""
        return run_state_bytes(self._params, self.env.n_arms, self.horizon)

    def call_bytes(self) -> float:
        """The largest shared table of the job's agents (UCB1's sqrt(c ln t) and 1 / sqrt(t)),
        which ``bandits._kernels.simulate`` allocates once per call."""
        from ._agents.hooks import footprint

        table = max(footprint(p, self.env.n_arms, self.horizon)[0] for p in self._params)
        return table + memory.SCRATCH if table else 0.0

    def batch_scratch_bytes(self, runs: int) -> float:
        """With an instance per run, the batch's means (runs, K) and one run's draw (K)."""
        return 8.0 * (runs + 1) * self.env.n_arms if self.per_run else 0.0

    def run_batch(self, start: int, stop: int, progress: Progress | None,
                  should_stop: StopRequest | None = None) -> dict[str, np.ndarray]:
        n, c, k_arms = stop - start, self.checkpoints.size, self.env.n_arms
        regret = np.zeros((len(self.agents), n, c))
        greedy = np.zeros((len(self.agents), n, c))
        behaviour = np.zeros((len(self.agents), n, c))
        pulls = np.zeros((len(self.agents), n, k_arms), dtype=np.int64)
        means = (self.env.run_means(self.seed, start, stop, self.branch) if self.per_run
                 else self._means)
        seeds = self.run_seeds(start, stop)
        for i, params in enumerate(self._params):
            run_interruptible(kernel(self._jitted[i]), params, self.env.kind, means,
                              float(self.env.sigma), self.horizon, seeds, self.checkpoints,
                              regret[i], greedy[i], behaviour[i], pulls[i],
                              should_stop=should_stop)
            if progress is not None:
                progress(n * self.horizon)
        out = {"regret": regret, "simple_regret_greedy": greedy,
               "simple_regret_behaviour": behaviour, "pulls": pulls}
        if self.per_run:  # each run's instance, for per-run statistics (one copy per agent)
            out["means"] = np.broadcast_to(means, (len(self.agents), n, k_arms)).copy()
        return out


def agent_is_jitted(agent: BanditAgent, params: tuple) -> bool:
    """Whether the pieces of ``agent`` (of record ``params``) are jitted, so that the loop is
    compiled for its record, or plain Python (the loop's Python body runs them: the agent of a
    user who writes no numba). ValueError naming the agent when a hook lacks its piece."""
    from tracking.dispatch import compiled

    from ._agents.hooks import HOOKS

    return compiled(HOOKS.values(), type(params), agent.spec)


def kernel(jitted: bool) -> Callable[..., Any]:
    """``bandits._kernels.simulate``, compiled or as its plain-Python body (which calls the
    Python body of ``_one_run``): one definition of the loop for both kinds of agents."""
    from . import _kernels

    return _kernels.simulate if jitted else _python_simulate()


@functools.cache
def _python_simulate() -> Callable[..., Any]:
    from tracking.dispatch import plain

    from . import _kernels

    return plain(_kernels.simulate, _one_run=plain(_kernels._one_run))


def run_state_bytes(params: Sequence[tuple], n_arms: int, horizon: int) -> float:
    """Bytes one run of ``bandits._kernels._one_run`` allocates, which every thread holds: the
    reward stream keys (K uint64), the readouts' stream (one uint64) and the largest state of
    the agents of records ``params`` (their footprints). (counts is the caller's ``pulls``.)"""
    from ._agents.hooks import footprint

    state = max(footprint(p, n_arms, horizon)[1] for p in params)
    return 8.0 * (n_arms + 1) + state + memory.SCRATCH


def run(
    env: str | envs.Bandit,
    agents: str | Sequence[str | BanditAgent] | BanditAgent,
    horizon: int,
    runs: int,
    seed: int = 0,
    checkpoints: Sequence[int] | np.ndarray | None = None,
    progress: Progress | None = None,
    name: str | None = None,
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
        Rounds at which curves are recorded; default ``tracking.checkpoints.log_grid``.
    progress : callable, optional
        Called with the number of pulls done since the previous call.
    name : str, optional
        The problem's name (default: the environment's), which names its files when saved:
        see ``tracking.paths.NAME_RULE``.

    Returns
    -------
    Result
        ``regret[i, r, c]`` is agent i's pseudo-regret sum_{t <= T_c} (mu* - mu_{A_t}) in run r
        at round ``steps[c]``; ``simple_regret_greedy`` and ``simple_regret_behaviour`` are mu*
        minus the expected mean of the arm of the agent's greedy readout (the argmax of what it
        has learned) and of its behaviour readout (the policy it would act with next) at that
        round (docs/algorithms.md); ``extra["pulls"]`` the final pull counts (A, R, K);
        ``info["lai_robbins"]`` the problem's Lai-Robbins constant.
    """
    return execute(BanditJob(env, agents, horizon, runs, seed, checkpoints, name), progress)

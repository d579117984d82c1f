"""The shared episodic regret loop: every agent on the same runs and the same random numbers."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tracking import checkpoints as cp
from tracking import memory
from tracking.paths import check_name, inside
from tracking.results import Result
from tracking.rng import instance_seeds
from tracking.runner import (
    Job,
    Progress,
    StopRequest,
    call_interruptible,
    execute,
    run_interruptible,
)
from tracking.settings import RUNS, SEED
from tracking.specs import build_all, short_name
from tracking.validate import InputError, as_int

from .agents import REGISTRY, MDPAgent
from .model import FiniteMDP
from .setting import EPISODIC, INSTANCE, REGRET, REWARDS


def as_mdp(m: str | FiniteMDP, **args: Any) -> FiniteMDP:
    """An MDP from a built-in name (with builder arguments) or a FiniteMDP."""
    if isinstance(m, FiniteMDP):
        if args:
            raise InputError("environment arguments apply to a built-in environment name only")
        return m
    if isinstance(m, str):
        from . import envs

        return envs.make(m, **args)
    raise InputError(f"env must be a built-in MDP name or a FiniteMDP, got {m!r}")


def optimal_value(m: FiniteMDP, horizon: int) -> float:
    """V*_0(initial) for horizon H, by backward induction on the episodic loop's own model, in
    O(S A) memory; Ctrl-C stops it at once.

    Summed as the loop evaluates its agents' policies (Q = R + P V from R on, in increasing s';
    then sum_s initial(s) V_0(s) in increasing s), so that an optimal deterministic policy has
    regret exactly 0.
    """
    from ._env_kernels import start_average
    from ._planning_kernels import optimal_values

    v = np.empty(m.n_states)
    call_interruptible(optimal_values, kernel_model(m), as_int("horizon", horizon, minimum=1),
                       np.empty((m.n_states, m.n_actions)), v)
    return float(start_average(m.initial, v))


def kernel_model(m: FiniteMDP):
    """The loops' :class:`~mdp._env_kernels.Tabular` record of ``m`` (complete indices)."""
    from ._env_kernels import Tabular

    return Tabular(m.indptr, m.indices, m.probs, np.ascontiguousarray(m.R))


def per_run_args(m: Any, env_args: dict[str, Any] | None) -> dict[str, Any]:
    """``env_args`` when ``m`` can draw an instance per run: a built-in env whose builder
    takes a ``seed``, without one in ``env_args`` (each run draws its own); InputError
    naming the rule otherwise."""
    from . import envs

    seeded = envs.seeded()
    if not isinstance(m, str):
        raise InputError("instance = per-run draws each run's model from a built-in env with a "
                         f"seed ({', '.join(seeded)}); a model file is one instance")
    if "seed" not in inspect.signature(envs.builder(m)).parameters:
        raise InputError(f"instance = per-run needs an env with a seed argument "
                         f"({', '.join(seeded)}); {m!r} has none")
    env_args = dict(env_args or {})
    if "seed" in env_args:
        raise InputError("args.seed and instance = per-run exclude each other: each run draws "
                         "its instance's seed from its run seed; leave seed out of args")
    return env_args


def instance_work(n_states: int, n_actions: int, nnz: int, horizon: int) -> float:
    """Work of one run's instance: building it (a few operations per successor and pair) and
    its V*_0 by backward induction (H sweeps over the successors)."""
    return float(nnz) * (horizon + 4) + 4.0 * n_states * n_actions


def stacked_models(models: Sequence[FiniteMDP]) -> tuple[np.ndarray, ...]:
    """The instances of a batch as :func:`mdp._episodic_loop.simulate_instances` reads them:
    ``indptr``, ``indices``, ``probs``, ``R`` and ``initial`` stacked on a first axis of runs,
    each row of the type (and write flag) of :func:`kernel_model`'s arrays, so that the loop's
    run compiles once for both. Instances of one family share S, A and nnz; ValueError
    otherwise."""
    first = models[0]
    shapes = {(m.n_states, m.n_actions, m.nnz) for m in models}
    if len(shapes) > 1:
        raise InputError(f"{first.name}: instances of one family differ in size: {shapes}")
    out = []
    for fields in zip(*((*kernel_model(m), m.initial) for m in models)):
        stacked = np.stack(fields)
        stacked.setflags(write=fields[0].flags.writeable)
        out.append(stacked)
    return tuple(out)


class ModelJob(Job):
    """What the episodic and the continuing MDP jobs share: the true model and its files."""

    model: FiniteMDP
    copy_model: bool

    def _set_model(self, m, env_args, rewards: str, name: str | None) -> dict[str, Any]:
        """Build and check the model, set ``problem``; return the configuration's model keys."""
        if name is not None:
            check_name(name)  # before building anything
        self.model = as_mdp(m, **(env_args or {}))
        in_unit = bool(np.all((self.model.R >= 0.0) & (self.model.R <= 1.0)))
        if rewards == "bernoulli" and not in_unit:
            raise InputError("rewards = bernoulli needs every R[s, a] in [0, 1]")
        if name is None:
            name = short_name(m) if isinstance(m, str) else self.model.name
        self.problem = check_name(name)
        source = self.model.source or {}
        self.copy_model = False
        self._model_file: Path | None = None
        if isinstance(m, str):
            from . import envs

            return {"env": m, "args": envs.coerce_args(m, env_args or {})}
        if "env" in source:
            return {"env": source["env"], "args": dict(source.get("args", {}))}
        # a model file, or a model built in Python: copied beside the results
        self.copy_model = True
        return {"file": source.get("file", "")}

    @staticmethod
    def _model_of(table: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
        """The model (or built-in name) and its arguments from a normalised problem table."""
        if "file" in table:
            from .formats import load

            return load(table["file"]), None
        return table["env"], table.get("args", {})

    def model_bytes(self) -> float:
        """The model's CSR arrays: indptr (S A + 1), indices and probs (nnz each), R (S, A),
        initial (S)."""
        m = self.model
        return 8.0 * (2 * m.n_states * m.n_actions + 1 + 2 * m.nnz + m.n_states)

    def attach_files(self, folder: Path) -> None:
        """Copy a model that is not a built-in environment into ``folder/models`` and point the
        configuration at the copy (relative to the folder), so that the folder is complete."""
        if self.copy_model:
            from .formats import save

            relative = Path("models") / f"{self.problem}.npz"
            inside(folder, "models").mkdir(parents=True, exist_ok=True)
            save(self.model, inside(folder, relative))
            self.config["file"] = relative.as_posix()
            self._model_file = inside(folder, relative)

    def task_table(self) -> dict[str, Any]:
        """The configuration, its model file an absolute path: the folder's copy once
        :meth:`attach_files` made it, else the file the model was read from."""
        if "file" not in self.config:
            return self.config
        path = self._model_file or (Path(self.config["file"]) if self.config["file"] else None)
        if path is None:
            raise InputError(f"{self.problem}: a model built in Python is read by other "
                             "processes from its copy in an output folder; run it into one")
        return {**self.config, "file": str(path.resolve())}


class MDPJob(ModelJob):
    """A validated episodic experiment, run batch by batch by ``tracking.runner.execute``.

    Its ``config`` is the problem's complete table in an experiment file (docs/experiments.md).
    """

    setting = EPISODIC.name

    def __init__(self, m, agents, horizon, episodes, runs, seed=0, checkpoints=None,
                 rewards: str = REWARDS.default, name: str | None = None,
                 epsilon: float = EPISODIC.epsilon,
                 env_args: dict[str, Any] | None = None, regret: str = REGRET.default,
                 instance: str = INSTANCE.default) -> None:
        self.seed = SEED.check(seed)
        self.horizon = EPISODIC.key("horizon").check(horizon)
        self.episodes = EPISODIC.key("episodes").check(episodes)
        self.runs = RUNS.check(runs)
        self.rewards = REWARDS.check(rewards)
        self.regret = REGRET.check(regret)
        self.per_run = INSTANCE.check(instance) == "per-run"
        if self.per_run:  # the guards and checks read the instance of evaluation run 0
            env_args = {**per_run_args(m, env_args),
                        "seed": int(instance_seeds(self.seed, 1)[0])}
        env_keys = self._set_model(m, env_args, rewards, name)
        if self.per_run:  # the configuration names the family, each run draws its seed
            env_keys["args"].pop("seed")
        self.agent_objs = build_all(REGISTRY, agents, "MDP")
        self._jitted = [agent_is_jitted(a) for a in self.agent_objs]
        self.checkpoints = cp.as_grid(checkpoints, self.episodes)
        self.samples_per_step = self.horizon
        self.agents = tuple(a.label for a in self.agent_objs)
        agent_info = {"agent_names": [a.name for a in self.agent_objs],
                      "families": [a.family for a in self.agent_objs]}
        self.config = {
            "name": self.problem,
            "setting": self.setting,
            **env_keys,
            "horizon": self.horizon,
            "episodes": self.episodes,
            "runs": self.runs,
            "seed": self.seed,
            "rewards": rewards,
            "regret": self.regret,
            "instance": instance,
            "epsilon": EPISODIC.key("epsilon").check(epsilon),
            "checkpoints": [int(s) for s in self.checkpoints],
            "agents": [a.spec for a in self.agent_objs],
        }
        m_ = self.model
        sampled = self.regret == "sampled"
        self.work_per_run = float(self.episodes) * sum(
            a.episode_work(m_.n_states, m_.n_actions, m_.nnz, self.horizon, sampled)
            for a in self.agent_objs)
        if self.per_run:  # building each run's instance and its V*
            self.work_per_run += instance_work(m_.n_states, m_.n_actions, m_.nnz, self.horizon)
        self.check_memory(f"{m_.n_states} states x {m_.n_actions} actions, horizon "
                          f"{self.horizon}" + (", an instance per run" if self.per_run else ""))
        # V*_0 of the problem; with an instance per run, each run's (the array v_star) instead
        self.v_star = None if self.per_run else optimal_value(self.model, self.horizon)
        self.info = {"v_star": self.v_star, "n_states": self.model.n_states,
                     "n_actions": self.model.n_actions, **agent_info}

    def build_instance(self, instance_seed: int) -> FiniteMDP:
        """The instance of the problem's family with seed ``instance_seed`` (its env with the
        configuration's args and this seed)."""
        return as_mdp(self.config["env"], **{**self.config["args"], "seed": int(instance_seed)})

    def instances(self, start: int, stop: int) -> tuple[np.ndarray, list[FiniteMDP]]:
        """The instance seeds of runs ``start .. stop - 1`` (on the job's branch:
        :func:`tracking.rng.instance_seeds`) and their instances."""
        seeds = instance_seeds(self.seed, stop - start, start, self.branch)
        return seeds, [self.build_instance(s) for s in seeds]

    def extra_layout(self, runs: int) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        """With an instance per run, each run's ``instance_seed`` (agents, runs) int64 and
        ``v_star`` (agents, runs) float64, V*_0 of its instance (one copy per agent)."""
        if not self.per_run:
            return {}
        shape = (len(self.agents), runs)
        return {"instance_seed": (shape, np.dtype(np.int64)),
                "v_star": (shape, np.dtype(np.float64))}

    def batch_scratch_bytes(self, runs: int) -> float:
        """With an instance per run, the batch's stacked instances (:meth:`model_bytes` each),
        one instance being built (its model twice: the builder's and its FiniteMDP) and
        solved (:meth:`solve_bytes`), and the seeds and V* (runs each)."""
        if not self.per_run:
            return 0.0
        return (runs + 2) * self.model_bytes() + self.solve_bytes() + 16.0 * runs

    # --- the memory guard (tracking.runner.Job.memory_phases) ------------------------------
    def solve_bytes(self) -> float:
        """Backward induction for V* (optimal_value): q (S, A), v and two value vectors (S
        each)."""
        m = self.model
        return 8.0 * m.n_states * (m.n_actions + 3) + memory.SCRATCH

    def run_state_bytes(self) -> float:
        m = self.model
        return max(run_state_bytes(a, m.n_states, m.n_actions, m.nnz, self.horizon)
                   for a in self.agent_objs)

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> MDPJob:
        """The job of a normalised problem table (experiments.files.parse)."""
        m, args = cls._model_of(table)
        return cls(m, table["agents"], table["horizon"], table["episodes"], table["runs"],
                   table["seed"], table.get("checkpoints"),
                   table.get("rewards", REWARDS.default), table["name"],
                   table.get("epsilon", EPISODIC.epsilon), args,
                   table.get("regret", REGRET.default),
                   table.get("instance", INSTANCE.default))

    def run_batch(self, start: int, stop: int, progress: Progress | None,
                  should_stop: StopRequest | None = None) -> dict[str, np.ndarray]:
        n, c = stop - start, self.checkpoints.size
        regret = np.zeros((len(self.agents), n, c))
        greedy = np.zeros((len(self.agents), n, c))
        behaviour = np.zeros((len(self.agents), n, c))
        seeds = self.run_seeds(start, stop)
        if self.per_run:
            instance_seed, models = self.instances(start, stop)
            v_star = np.array([optimal_value(m, self.horizon) for m in models])
            name, problem, v = "simulate_instances", stacked_models(models), v_star
        else:
            m = self.model
            name, v = "simulate", self.v_star
            problem = (kernel_model(m), np.ascontiguousarray(m.initial))
        for i, agent in enumerate(self.agent_objs):
            run_interruptible(kernel(name, self._jitted[i]), agent.params(), *problem,
                              self.horizon, self.episodes, seeds, self.checkpoints, v,
                              self.rewards == "bernoulli", self.regret == "sampled", regret[i],
                              greedy[i], behaviour[i], should_stop=should_stop)
            if progress is not None:
                progress(n * self.episodes * self.horizon)
        out = {"regret": regret, "simple_regret_greedy": greedy,
               "simple_regret_behaviour": behaviour}
        if self.per_run:  # each run's instance (one copy per agent: per-run arrays)
            k = len(self.agents)
            out["instance_seed"] = np.broadcast_to(instance_seed, (k, n)).copy()
            out["v_star"] = np.broadcast_to(v_star, (k, n)).copy()
        return out


def agent_is_jitted(agent: MDPAgent) -> bool:
    """Whether the episodic pieces of ``agent`` are jitted (the loop is compiled for its
    record) or plain Python (the loop's Python body runs them); ValueError naming the agent
    when a hook lacks its piece."""
    from tracking.dispatch import compiled

    from . import _episodic_loop  # noqa: F401 (registers the pieces)
    from ._hooks import EPISODIC_HOOKS

    return compiled(EPISODIC_HOOKS, type(agent.params()), agent.spec)


def kernel(name: str, jitted: bool) -> Callable[..., Any]:
    """The episodic loop's ``simulate`` or ``simulate_instances`` (``name``), compiled or as
    its plain-Python body calling the Python body of ``_one_run``: one definition of the loop
    for both kinds of agents."""
    from . import _episodic_loop

    return getattr(_episodic_loop, name) if jitted else _python_kernel(name)


@functools.cache
def _python_kernel(name: str) -> Callable[..., Any]:
    from tracking.dispatch import plain

    from . import _episodic_loop as loop

    return plain(getattr(loop, name), _one_run=plain(loop._one_run))


def run_state_bytes(agent: MDPAgent, n_states: int, n_actions: int, nnz: int,
                    horizon: int) -> float:
    """Bytes one run of ``mdp._episodic_loop._one_run`` allocates for ``agent``, which every
    thread holds: the loop's cdf (S), the readout stream (one word), the environment's visits
    (S A), two rows of values (S each) and the trajectory (five arrays of H), plus the agent's
    state, the footprint its pieces declare (mdp/_hooks.py ``register_footprint``). The
    readouts plan and evaluate in these arrays."""
    from . import (  # noqa: F401 (the footprints)
        _pieces_model_based,
        _pieces_model_free,
        _pieces_policy_gradient,
    )
    from ._hooks import footprint

    S, H = n_states, horizon
    n = S + 1 + float(S) * n_actions + 2 * S + 5 * H
    n += footprint("episodic", agent.params(), n_states, n_actions, nnz, horizon)
    return 8.0 * n + memory.SCRATCH


def run(
    m: str | FiniteMDP,
    agents: str | Sequence[str | MDPAgent] | MDPAgent,
    horizon: int,
    episodes: int,
    runs: int,
    seed: int = 0,
    checkpoints: Sequence[int] | np.ndarray | None = None,
    rewards: str = REWARDS.default,
    progress: Progress | None = None,
    name: str | None = None,
    regret: str = REGRET.default,
    instance: str = INSTANCE.default,
) -> Result:
    """Run every agent for ``episodes`` episodes of ``horizon`` steps, ``runs`` times.

    Parameters
    ----------
    m : FiniteMDP or str
        The true model (a built-in name such as ``"riverswim"`` is built with its defaults).
    agents : str or list
        Agent names with optional parameters (``"ce-greedy,ce-optimistic:c=1"``) or objects.
    horizon : int
        Steps per episode, H.
    episodes : int
        Episodes per run, K.
    runs : int
        Independent runs. Run r uses the seed ``SeedSequence(seed, spawn_key=(r,))``.
    seed : int
        Master seed.
    checkpoints : list of int, optional
        Episodes at which curves are recorded; default a log-spaced grid ending at K.
    rewards : {"mean", "bernoulli"}
        Observed rewards: R[s, a] itself, or Bernoulli(R[s, a]) draws (R must lie in [0, 1]).
    progress : callable, optional
        Called with the number of environment steps done since the previous call.
    name : str, optional
        The problem's name (default: the environment's or the model's), which names its files
        when saved: see ``tracking.paths.NAME_RULE``.
    regret : {"exact", "sampled"}
        How each episode's regret is computed: exactly, V*_0(initial) - V^{pi_k}_0(initial)
        by policy evaluation on the true model, or from the episode's realised return G_k,
        V*_0(initial) - G_k (unbiased for the exact regret; no evaluation per episode, so an
        episode costs what the agent's own policy and update cost). The readouts of simple
        regret are exact in both.
    instance : {"fixed", "per-run"}
        One model for every run, or (``m`` a built-in env with a ``seed`` argument, given
        without it) an instance per run, seeded by :func:`tracking.rng.instance_seeds`: the
        same instance for every agent of a run, each run's regret and simple regret against
        its own instance.

    Returns
    -------
    Result
        ``regret[i, r, c]``: agent i's cumulative regret sum_{k <= K_c} (V*_0(initial) -
        V^{pi_k}_0(initial)) in run r, computed exactly on the true model (with ``regret =
        "sampled"``, sum_{k <= K_c} (V*_0(initial) - G_k));
        ``simple_regret_greedy`` and ``simple_regret_behaviour`` the same gap for the agent's
        two readouts (docs/algorithms.md); ``steps`` in episodes and
        ``samples_per_step`` = H; ``info["v_star"]`` = V*_0(initial). With an instance per run
        ``info["v_star"]`` is None and ``extra["v_star"]`` and ``extra["instance_seed"]``
        (agents, runs) hold each run's V*_0 and instance seed.
    """
    job = MDPJob(m, agents, horizon, episodes, runs, seed, checkpoints, rewards, name,
                 regret=regret, instance=instance)
    return execute(job, progress)

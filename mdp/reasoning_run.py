"""The reasoning setting's job and :func:`run`: agents compared on a task of the reasoning
testbed (:mod:`mdp.reasoning`) by verifier calls.

>>> from mdp.reasoning_run import run
>>> res = run("trie", "grpo,ce,base", calls=2000, runs=4, env_args={"n_prompts": 20})
>>> res.regret.shape
(3, 4, 69)

A run spends ``calls`` verifier calls (one scored response each) on the training prompts; the
held-out prompts (``held_out``: the last share, or count, of the task's prompts) are never
trained on. The curves are over calls (mdp/_reasoning_loop.py): the pseudo-regret
sum over calls of 1 - p_correct of the answering policy, and the exact simple regret
1 - mean pass@1 over the training prompts of the behaviour policy and of its greedy decoding.
The extras at the end of each run are pass@k (k = 1, 2, ..., 1024) on the training and
held-out prompts, KL(pi || pi_ref), entropy and coverage share on the training prompts, and
the tokens sampled and calls learned from. The task is fixed by its arguments (its ``seed``):
every run faces the same task with its own random numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tracking import checkpoints as cp
from tracking import memory
from tracking.paths import check_name, inside
from tracking.results import Result
from tracking.runner import Job, Progress, StopRequest, execute, run_interruptible
from tracking.settings import RUNS, SEED
from tracking.specs import Agent, build_all
from tracking.validate import InputError, coerce

from . import reasoning
from .reasoning_agents import (
    FIXED_BASE,
    FIXED_LOW_TEMP,
    FIXED_POWER,
    REGISTRY,
    FixedParams,
    ReasoningAgent,
)
from .reasoning_setting import HELD_OUT, REASONING

__all__ = ["PASS_KS", "ReasoningJob", "held_out_count", "run"]

#: The k of the recorded pass@k (the columns of ``extra["pass_at_k"]``).
PASS_KS = tuple(2**i for i in range(11))


def held_out_count(held_out: float, n_prompts: int) -> int:
    """The number of held-out prompts: floor(held_out P) for a share in [0, 1), the count
    itself for a whole number >= 1; at least one training prompt must remain."""
    if held_out < 0.0:
        raise InputError(f"held_out must be >= 0 (a share in [0, 1) or a whole count), got "
                         f"{held_out:g}")
    if held_out < 1.0:
        n = int(math.floor(held_out * n_prompts))
    elif held_out == int(held_out):
        n = int(held_out)
    else:
        raise InputError(f"held_out must be a share in [0, 1) or a whole count, got {held_out:g}")
    if n > n_prompts - 1:
        raise InputError(f"held_out leaves no training prompt: {n} of {n_prompts} prompts held "
                         "out")
    return n


def _task_of(env: str | reasoning.Task | None, env_args: dict[str, Any] | None,
             task_file: str | Path | None) -> tuple[reasoning.Task, dict[str, Any]]:
    """The task and the configuration keys that rebuild it."""
    if isinstance(env, reasoning.Task):
        if env_args or task_file is not None:
            raise InputError("env arguments and a task file apply to a named env only")
        return env, {"env": env.source.get("task", env.name),
                     "args": dict(env.source.get("args", {}))}
    if (env is None) == (task_file is None):
        raise InputError("give exactly one of env (a built-in task) or task (a task file)")
    if task_file is not None:
        path = Path(task_file).resolve()
        return reasoning.load_task(path), {"task": str(path)}
    task = reasoning.make_task(env, **coerce_args(env, env_args or {}))
    return task, {"env": env, "args": dict(task.source["args"])}


def coerce_args(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """The arguments of the built-in task ``name`` converted to the types of its builder's
    defaults (strings from the command line too); unknown tasks and arguments raise
    ValueError naming them."""
    import inspect

    if name not in reasoning.TASKS:
        raise InputError(f"unknown reasoning task {name!r} (known: {', '.join(reasoning.TASKS)})")
    params = inspect.signature(reasoning.TASKS[name]).parameters
    out: dict[str, Any] = {}
    for key, value in args.items():
        if key not in params:
            raise InputError(f"args: task {name!r} has no argument {key!r} (arguments: "
                             f"{', '.join(params)})")
        out[key] = coerce(value, type(params[key].default), f"args: {name}'s {key}")
    return out


class ReasoningJob(Job):
    """A validated reasoning experiment, run batch by batch by ``tracking.runner.execute``.

    Its ``config`` is the problem's complete table in an experiment file (docs/reasoning.md).
    """

    setting = REASONING.name
    samples_per_step = 1
    _task_file: Path | None = None

    def __init__(self, env: str | reasoning.Task | None,
                 agents: str | Sequence[str | Agent] | Agent, calls: int, runs: int,
                 seed: int = 0, checkpoints: Sequence[int] | np.ndarray | None = None,
                 name: str | None = None, epsilon: float = REASONING.epsilon,
                 env_args: dict[str, Any] | None = None, held_out: float = HELD_OUT.default,
                 task: str | Path | None = None) -> None:
        self.seed = SEED.check(seed)
        self.calls = REASONING.key("calls").check(calls)
        self.runs = RUNS.check(runs)
        if name is not None:
            check_name(name)
        self.task, env_keys = _task_of(env, env_args, task)
        self.held_out = HELD_OUT.check(held_out)
        P, H, Z, V = self.task.shape
        n_held = held_out_count(self.held_out, P)
        self.train = np.arange(P - n_held, dtype=np.int64)
        self.held = np.arange(P - n_held, P, dtype=np.int64)
        self.agent_objs: list[ReasoningAgent] = build_all(REGISTRY, agents, "reasoning")
        for a in self.agent_objs:
            if a.needs_features and self.task.features is None:
                raise InputError(f"{a.label}: {a.feature_option} needs prompt features, and task "
                                 f"{self.task.name!r} has none (use env = \"shared\")")
        self._params = [a.params() for a in self.agent_objs]
        q = 0 if self.task.features is None else self.task.features.shape[1]
        self.checkpoints = cp.as_grid(checkpoints, self.calls)
        default = env_keys.get("env") or Path(env_keys.get("task", "task")).stem
        self.problem = check_name(name if name is not None else default)
        self.agents = tuple(a.label for a in self.agent_objs)
        per_call = sum(a.call_work(H, Z, V) + a.step_work(P, H, Z, V, q) / (p.batch * p.group)
                       for a, p in zip(self.agent_objs, self._params))
        readouts = float(self.checkpoints.size + 4) * self.train.size * H * Z * V
        self.work_per_run = float(self.calls) * per_call + readouts * sum(
            a.readout_work for a in self.agent_objs)
        self.check_memory(f"{P} prompts x {H} steps x {Z} states x {V} tokens")
        self.config = {
            "name": self.problem,
            "setting": self.setting,
            **env_keys,
            "held_out": self.held_out,
            "calls": self.calls,
            "runs": self.runs,
            "seed": self.seed,
            "epsilon": REASONING.key("epsilon").check(epsilon),
            "checkpoints": [int(s) for s in self.checkpoints],
            "agents": [a.spec for a in self.agent_objs],
        }
        ref = reasoning.reference_policy(self.task)
        base = reasoning.p_correct(self.task, ref)
        self.info = {"n_prompts": P, "horizon": H, "n_states": Z, "vocab": V,
                     "n_train": int(self.train.size), "n_held_out": int(self.held.size),
                     "base_pass_at_1": float(base[self.train].mean()),
                     "base_pass_at_1_held_out": (float(base[self.held].mean())
                                                 if self.held.size else None),
                     "pass_ks": list(PASS_KS),
                     "agent_names": [a.name for a in self.agent_objs],
                     "families": [a.family for a in self.agent_objs]}

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> ReasoningJob:
        """The job of a normalised problem table (experiments.files.parse)."""
        return cls(table.get("env"), table["agents"], table["calls"], table["runs"],
                   table["seed"], table.get("checkpoints"), table["name"],
                   table.get("epsilon", REASONING.epsilon), table.get("args"),
                   table.get("held_out", HELD_OUT.default), table.get("task"))

    def attach_files(self, folder: Path) -> None:
        """Copy a task read from a file into ``folder/tasks`` and point the configuration at
        the copy (relative to the folder), so that the folder is complete."""
        if "task" in self.config:
            relative = Path("tasks") / f"{self.problem}.npz"
            inside(folder, "tasks").mkdir(parents=True, exist_ok=True)
            reasoning.save_task(self.task, inside(folder, relative))
            self.config["task"] = relative.as_posix()
            self._task_file = inside(folder, relative)

    def task_table(self) -> dict[str, Any]:
        """The configuration, its task file an absolute path: the folder's copy once
        :meth:`attach_files` made it, else the file the task was read from."""
        if "task" not in self.config:
            return self.config
        path = self._task_file or Path(self.config["task"])
        return {**self.config, "task": str(path.resolve())}

    def extra_layout(self, runs: int) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        """``pass_at_k`` (agents, runs, 11), ``pass_at_k_held_out`` (when prompts are held
        out), ``kl``, ``entropy``, ``coverage`` (when the task lists solutions) (agents, runs)
        float64, and ``tokens``, ``calls`` (agents, runs) int64."""
        a = len(self.agents)
        f64, i64 = np.dtype(np.float64), np.dtype(np.int64)
        out = {"pass_at_k": ((a, runs, len(PASS_KS)), f64)}
        if self.held.size:
            out["pass_at_k_held_out"] = ((a, runs, len(PASS_KS)), f64)
        out.update({"kl": ((a, runs), f64), "entropy": ((a, runs), f64)})
        if self.task.solutions is not None:
            out["coverage"] = ((a, runs), f64)
        out.update({"tokens": ((a, runs), i64), "calls": ((a, runs), i64)})
        return out

    # --- the memory guard (tracking.runner.Job.memory_phases) ------------------------------
    def _table_bytes(self) -> float:
        P, H, Z, V = self.task.shape
        return 8.0 * P * H * Z * V

    def model_bytes(self) -> float:
        """The task (next, ref_logits) and the kernels' copies: log pi_ref and pi_ref."""
        return self._table_bytes() * 3.5 + 16.0 * self.task.n_prompts * self.task.n_states

    def solve_bytes(self) -> float:
        """The exact pass@1 of pi_ref (its policy and occupancy) in the constructor."""
        return self._table_bytes() * 2.0

    def call_bytes(self) -> float:
        """A fixed agent's policy table, shared by the runs of its kernel call."""
        return self._table_bytes()

    def run_state_bytes(self) -> float:
        """The largest run state: the logits or the plan (P H Z V numbers), the counts, what
        the agent keeps beside (ReasoningAgent.state_bytes: ce-linear's Gram matrix), and the
        step's buffers (B G H (V + 3) numbers)."""
        P, H, Z, V = self.task.shape
        q = 0 if self.task.features is None else self.task.features.shape[1]
        state = self._table_bytes() + 16.0 * P * Z + max(
            a.state_bytes(P, H, Z, V, q) for a in self.agent_objs)
        bufs = max(8.0 * p.batch * p.group * (H + 1) * (2 * V + 4) for p in self._params)
        return state + bufs + memory.SCRATCH

    def json_numbers(self) -> int:
        return 0

    def _context(self, params: tuple, base: tuple) -> Any:
        from ._reasoning_agents_kernels import Context

        nxt, accept, logits, log_ref, ref, features, solutions = base
        fixed = np.zeros((1, 1, 1, 1))
        if isinstance(params, FixedParams):
            fixed = {FIXED_BASE: lambda: ref,
                     FIXED_POWER: lambda: reasoning.power_policy(self.task, ref, params.alpha),
                     FIXED_LOW_TEMP: lambda: reasoning.low_temperature_policy(ref, params.alpha),
                     }[params.kind]()
        return Context(nxt, accept, logits, log_ref, ref, features, np.ascontiguousarray(fixed),
                       self.train, self.held, solutions)

    def _arrays(self) -> tuple:
        t = self.task
        ref = reasoning.reference_policy(t)
        with np.errstate(divide="ignore"):
            log_ref = np.log(ref)
        features = (t.features if t.features is not None
                    else np.zeros((t.n_prompts, 0)))
        solutions = (t.solutions.astype(np.int64) if t.solutions is not None
                     else np.zeros((t.n_prompts, 0, t.horizon), dtype=np.int64))
        return (t.next, t.accept, t.ref_logits, log_ref, ref,
                np.ascontiguousarray(features, dtype=np.float64), solutions)

    def run_batch(self, start: int, stop: int, progress: Progress | None,
                  should_stop: StopRequest | None = None) -> dict[str, np.ndarray]:
        from ._reasoning_loop import simulate

        n, c, a, k = stop - start, self.checkpoints.size, len(self.agents), len(PASS_KS)
        regret, greedy, behaviour = np.zeros((a, n, c)), np.zeros((a, n, c)), np.zeros((a, n, c))
        pass_train, pass_held = np.zeros((a, n, k)), np.zeros((a, n, k))
        stats = np.zeros((a, n, 3))
        counts = np.zeros((a, n, 2), dtype=np.int64)
        seeds = self.run_seeds(start, stop)
        base = self._arrays()
        for i, params in enumerate(self._params):
            run_interruptible(simulate, params, self._context(params, base), seeds, self.calls,
                              self.checkpoints, regret[i], greedy[i], behaviour[i],
                              pass_train[i], pass_held[i], stats[i], counts[i],
                              should_stop=should_stop)
            if progress is not None:
                progress(n * self.calls)
        out = {"regret": regret, "simple_regret_greedy": greedy,
               "simple_regret_behaviour": behaviour, "pass_at_k": pass_train}
        if self.held.size:
            out["pass_at_k_held_out"] = pass_held
        out.update({"kl": stats[:, :, 0].copy(), "entropy": stats[:, :, 1].copy()})
        if self.task.solutions is not None:
            out["coverage"] = stats[:, :, 2].copy()
        out.update({"tokens": counts[:, :, 0].copy(), "calls": counts[:, :, 1].copy()})
        return out


def run(
    env: str | reasoning.Task | None,
    agents: str | Sequence[str | Agent] | Agent,
    calls: int,
    runs: int,
    seed: int = 0,
    checkpoints: Sequence[int] | np.ndarray | None = None,
    progress: Progress | None = None,
    name: str | None = None,
    env_args: dict[str, Any] | None = None,
    held_out: float = HELD_OUT.default,
    task: str | Path | None = None,
) -> Result:
    """Run every agent on ``runs`` independent runs of ``calls`` verifier calls on a task.

    Parameters
    ----------
    env : str, Task or None
        A built-in task (``"trie"``, ``"shared"``, with ``env_args``: make_task's
        parameters) or a Task; None with ``task``.
    agents : str or list
        Agent names with optional parameters (``"grpo:alpha=10,ce:beta=0.2"``) or agent
        objects of ``mdp.reasoning_agents.REGISTRY``.
    calls : int
        Verifier calls per run (the checkpoints count them).
    runs, seed, checkpoints, progress, name
        As for :func:`bandits.run`.
    held_out : float
        Held-out prompts: a share in [0, 1) of the task's prompts or a whole count (the last
        prompts of the task), never trained on.
    task : path, optional
        A task file (mdp.reasoning.save_task) instead of ``env``.

    Returns
    -------
    Result
        ``regret[i, r, c]`` the pseudo-regret after checkpoints[c] calls, both readouts of
        simple regret, and the extras of :meth:`ReasoningJob.extra_layout`.
    """
    return execute(ReasoningJob(env, agents, calls, runs, seed, checkpoints, name,
                                env_args=env_args, held_out=held_out, task=task), progress)

"""Linear bandits: K arms with features x_k in R^d, mean rewards mu_k = <x_k, theta*>.

>>> import bandits.linear as lin
>>> res = lin.run("sphere", "oful,lin-ts,lin-reinforce", horizon=1000, runs=8, env_args={"d": 5})
>>> res.regret.shape
(3, 8, 73)

The reward of arm k is mu_k + sigma Z, Z standard normal, drawn as the bandit loop draws a
Gaussian arm's (docs/algorithms.md): the n-th pull of arm k in run r reads the n-th normal of
the stream keyed by (run seed, k), whichever agent pulls it.

Environments: a fixed instance (:class:`LinearBandit`, features and theta* given) or the
``sphere`` family (:class:`RandomSphere`), of which every run draws its own instance from its
seed (theta* and the arms uniform on the unit sphere), the same for every agent of the run.
Named ones are in :data:`NAMED`. This module imports no numba: the kernel is imported by
:meth:`LinearJob.run_batch`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tracking import checkpoints as cp
from tracking import memory
from tracking.paths import check_name
from tracking.results import Result
from tracking.runner import Job, Progress, StopRequest, execute, run_interruptible
from tracking.settings import RUNS, SEED
from tracking.specs import Agent, build_all
from tracking.validate import InputError, as_float, as_int, coerce

from .linear_agents import REGISTRY
from .linear_setting import LINEAR

__all__ = ["NAMED", "LinearBandit", "LinearJob", "RandomSphere", "make", "run"]

#: The last element of the spawn key of a run's instance (after the run's own key), so that
#: the instance's stream is apart from the run seed's and from the Sutton-Barto testbed's.
INSTANCE_KEY = 2**31 + 1

#: Work of drawing one run's instance in Python (about 25 microseconds plus its numbers).
RUN_INSTANCE_WORK = 2.5e4


def check_sigma(sigma: Any) -> float:
    """The noise scale sigma, a finite number > 0."""
    if isinstance(sigma, bool):
        raise InputError(f"sigma must be a number > 0, got {sigma!r}")
    return as_float("sigma", sigma, minimum=0.0, strict_min=True)


def check_features(features: Any) -> np.ndarray:
    """The features as a read-only (K, d) float64 array: K >= 2 rows of d >= 1 finite numbers,
    all of equal length."""
    rows = features.tolist() if isinstance(features, np.ndarray) else features
    if not isinstance(rows, (list, tuple)) or not all(isinstance(r, (list, tuple)) for r in rows):
        raise InputError("features must be a list of rows (one list of numbers per arm)")
    if len(rows) < 2:
        raise InputError(f"features must have at least 2 rows (arms), got {len(rows)}")
    lengths = sorted({len(r) for r in rows})
    if len(lengths) > 1:
        raise InputError(f"features' rows must have equal length, got lengths "
                         f"{', '.join(map(str, lengths))}")
    if lengths[0] < 1:
        raise InputError("features' rows must have at least 1 number (d >= 1)")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for r in rows for v in r):
        raise InputError("features must be numbers")
    arr = np.array(rows, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise InputError("features must be finite (no NaN or infinity)")
    arr.setflags(write=False)
    return arr


def check_vector(name: str, values: Any, size: int | None = None) -> np.ndarray:
    """``values`` as a read-only 1-D float64 array of finite numbers (of ``size`` when given)."""
    items = values.tolist() if isinstance(values, np.ndarray) else values
    if not isinstance(items, (list, tuple)) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
        raise InputError(f"{name} must be a list of numbers")
    arr = np.array(items, dtype=np.float64)
    if size is not None and arr.size != size:
        raise InputError(f"{name} must have {size} numbers (the features' length d), got "
                         f"{arr.size}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} must be finite (no NaN or infinity)")
    arr.setflags(write=False)
    return arr


def row_dot(x: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """mu[..., k] = sum_j x[..., k, j] theta[..., j], the coordinates added in order (the same
    numbers whatever the batch's shape)."""
    out = x[..., 0] * theta[..., None, 0]
    for j in range(1, x.shape[-1]):
        out = out + x[..., j] * theta[..., None, j]
    return out


class LinearBandit:
    """A fixed linear bandit: features x_k (rows of ``features``, shape (K, d)), parameter
    theta* (d) and Gaussian noise scale sigma; mu_k = <x_k, theta*>."""

    family = "linear"
    per_run = False

    def __init__(self, features: Any, theta: Any, sigma: float = 1.0,
                 name: str = "linear") -> None:
        self.features = check_features(features)
        self.theta = check_vector("theta", theta, self.features.shape[1])
        self.sigma = check_sigma(sigma)
        self.name = name
        self.means = row_dot(self.features, self.theta)
        self.means.setflags(write=False)

    @property
    def n_arms(self) -> int:
        """K."""
        return int(self.features.shape[0])

    @property
    def dim(self) -> int:
        """d."""
        return int(self.features.shape[1])

    def instances(self, seed: int, start: int, stop: int, branch: int | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Features (1, K, d) and means (1, K): one instance for every run (writable copies, so
        that the kernel is compiled for the arrays of the sphere's instances too)."""
        return self.features[None].copy(), self.means[None].copy()

    def config(self) -> dict[str, Any]:
        """The problem keys that rebuild it: ``features``, ``theta``, ``sigma``."""
        return {"features": self.features.tolist(), "theta": self.theta.tolist(),
                "sigma": self.sigma}

    def __repr__(self) -> str:
        return (f"LinearBandit(features={self.features.tolist()}, theta={self.theta.tolist()}, "
                f"sigma={self.sigma}, name={self.name!r})")


class RandomSphere:
    """The sphere family: in every run, theta* and K arms drawn uniformly on the unit sphere
    of R^d (normalised standard normal vectors), rewards mu_k + sigma Z.

    Run r's instance comes from ``default_rng(SeedSequence(seed, spawn_key=(r, INSTANCE_KEY)))``
    (a tuning run's: ``(branch, r, INSTANCE_KEY)``): theta* from its first d normals, then the
    arms row by row. It depends on the experiment's seed and the run index only, so every agent
    of a run faces the same instance.
    """

    family = "linear"
    per_run = True

    def __init__(self, d: int, n_arms: int = 50, sigma: float = 1.0,
                 name: str = "sphere") -> None:
        self.d = as_int("d", d, minimum=1)
        self.n_arms = as_int("n_arms", n_arms, minimum=2)
        self.sigma = check_sigma(sigma)
        self.name = name

    @property
    def dim(self) -> int:
        """d."""
        return self.d

    def draw(self, seed: int, run: int, branch: int | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
        """Run ``run``'s features (K, d) and theta* (d)."""
        from tracking.rng import spawn_key

        key = (*spawn_key(run, branch), INSTANCE_KEY)
        gen = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))
        theta = gen.standard_normal(self.d)
        x = gen.standard_normal((self.n_arms, self.d))
        return x / np.linalg.norm(x, axis=1)[:, None], theta / np.linalg.norm(theta)

    def instances(self, seed: int, start: int, stop: int, branch: int | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Features (stop - start, K, d) and means (stop - start, K) of runs start..stop - 1."""
        x = np.empty((stop - start, self.n_arms, self.d))
        theta = np.empty((stop - start, self.d))
        for i, r in enumerate(range(start, stop)):
            x[i], theta[i] = self.draw(seed, r, branch)
        return x, row_dot(x, theta)

    def args(self) -> dict[str, Any]:
        """Its constructor's arguments, ``{"d", "n_arms", "sigma"}``, as in ``[[problem]].args``."""
        return {"d": self.d, "n_arms": self.n_arms, "sigma": self.sigma}

    def __repr__(self) -> str:
        return (f"RandomSphere(d={self.d}, n_arms={self.n_arms}, sigma={self.sigma}, "
                f"name={self.name!r})")


LinearEnv = LinearBandit | RandomSphere

#: An argument without a default.
REQUIRED = object()


def _sphere(d: int, n_arms: int = 50, sigma: float = 1.0) -> RandomSphere:
    return RandomSphere(d, n_arms, sigma)


def _basis(means: list[float], sigma: float = 1.0) -> LinearBandit:
    mu = check_vector("means", means)
    return LinearBandit(np.eye(mu.size), mu, sigma, name="basis")


#: Named environments: name -> (builder, its arguments' types and defaults, description).
NAMED: dict[str, tuple[Callable[..., LinearEnv], dict[str, tuple[type, Any]], str]] = {
    "sphere": (_sphere, {"d": (int, REQUIRED), "n_arms": (int, 50), "sigma": (float, 1.0)},
               "a new instance in every run: theta* and K arms uniform on the unit sphere "
               "of R^d (args d, n_arms = 50, sigma = 1)"),
    "basis": (_basis, {"means": (list, REQUIRED), "sigma": (float, 1.0)},
              "the d standard basis vectors as arms, theta* = means: K = d unstructured "
              "Gaussian arms (args means, sigma = 1)"),
}


def coerce_args(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """The arguments of the named environment ``name``, converted to their types (strings from
    the command line too); unknown names and arguments, missing ones and ill-typed values raise
    ValueError. The result is what an experiment file stores as ``args``."""
    if name not in NAMED:
        raise InputError(f"unknown linear-bandit environment {name!r} (known: "
                         f"{', '.join(NAMED)})")
    schema = NAMED[name][1]
    out: dict[str, Any] = {}
    for key, value in args.items():
        if key not in schema:
            raise InputError(f"args: {name} has no argument {key!r} (arguments: "
                             f"{', '.join(schema)})")
        kind = schema[key][0]
        if kind is list:  # a list, or numbers separated by commas (the command line)
            items = ([coerce(v, float, f"args: {name}'s {key}") for v in value.split(",")]
                     if isinstance(value, str) else value)
            out[key] = check_vector(f"args: {name}'s {key}", items).tolist()
        else:
            out[key] = coerce(value, kind, f"args: {name}'s {key}")
    missing = [k for k, (_, default) in schema.items() if default is REQUIRED and k not in out]
    if missing:
        raise InputError(f"args: {name} needs the argument {missing[0]!r}")
    return out


def make(name: str, **args: Any) -> LinearEnv:
    """The named environment ``name`` (see :data:`NAMED`) with its arguments."""
    kwargs = coerce_args(name, args)
    try:
        return NAMED[name][0](**kwargs)
    except InputError as e:
        raise InputError(f"args: {name}: {e}") from None


def as_env(env: str | LinearEnv, **args: Any) -> LinearEnv:
    """A linear-bandit environment from a name (with its arguments) or an environment."""
    if isinstance(env, str):
        return make(env, **args)
    if args:
        raise InputError("environment arguments apply to a named environment only")
    if isinstance(env, (LinearBandit, RandomSphere)):
        return env
    raise InputError(f"env must be a linear-bandit name or a LinearBandit or RandomSphere, "
                     f"got {env!r}")


def _pull_work(k_arms: int, dim: int) -> float:
    """Operations of one pull of the costliest agent: a rank-1 update of a d x d matrix and
    the K scores (and OFUL's K norms)."""
    return 2.0 * dim * dim + 2.0 * k_arms * dim + k_arms


class LinearJob(Job):
    """A validated linear-bandit experiment, run batch by batch by ``tracking.runner.execute``.

    Its ``config`` is the problem's complete table in an experiment file (docs/experiments.md).
    """

    setting = LINEAR.name
    samples_per_step = 1

    def __init__(self, env: str | LinearEnv, agents: str | Sequence[str | Agent] | Agent,
                 horizon: int, runs: int, seed: int = 0,
                 checkpoints: Sequence[int] | np.ndarray | None = None, name: str | None = None,
                 epsilon: float = LINEAR.epsilon, env_args: dict[str, Any] | None = None
                 ) -> None:
        self.seed = SEED.check(seed)
        self.horizon = LINEAR.key("horizon").check(horizon)
        self.runs = RUNS.check(runs)
        if name is not None:
            check_name(name)
        self.env = as_env(env, **(env_args or {}))
        self.per_run = self.env.per_run
        self.agent_objs = build_all(REGISTRY, agents, "linear-bandit")
        self._params = [a.params(self.env) for a in self.agent_objs]
        self.checkpoints = cp.as_grid(checkpoints, self.horizon)
        self.problem = check_name(name if name is not None else self.env.name)
        self.agents = tuple(a.label for a in self.agent_objs)
        k, d = self.env.n_arms, self.env.dim
        self.work_per_run = float(self.horizon) * _pull_work(k, d) * len(self.agents)
        if self.per_run:
            self.work_per_run += RUN_INSTANCE_WORK + 10.0 * k * d
        self._given = not isinstance(env, str) and not self.per_run
        self.check_memory(f"{k} arms in R^{d} x {self.checkpoints.size} checkpoints")
        if isinstance(env, str):
            env_keys: dict[str, Any] = {"env": env, "args": coerce_args(env, env_args or {})}
        elif self.per_run:
            env_keys = {"env": "sphere", "args": self.env.args()}
        else:
            env_keys = self.env.config()
        self.config = {
            "name": self.problem,
            "setting": self.setting,
            **env_keys,
            "horizon": self.horizon,
            "runs": self.runs,
            "seed": self.seed,
            "epsilon": LINEAR.key("epsilon").check(epsilon),
            "checkpoints": [int(s) for s in self.checkpoints],
            "agents": [a.spec for a in self.agent_objs],
        }
        self.info = {"means": None if self.per_run else [float(m) for m in self.env.means],
                     "n_arms": k, "dim": d, "sigma": self.env.sigma,
                     "agent_names": [a.name for a in self.agent_objs],
                     "families": [a.family for a in self.agent_objs]}

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> LinearJob:
        """The job of a normalised problem table (experiments.files.parse)."""
        args = None
        if "env" in table:
            env: Any = table["env"]
            args = table.get("args")
        else:
            env = LinearBandit(table["features"], table["theta"], table.get("sigma", 1.0),
                               name=table["name"])
        return cls(env, table["agents"], table["horizon"], table["runs"], table["seed"],
                   table.get("checkpoints"), table["name"], table.get("epsilon", LINEAR.epsilon),
                   args)

    def extra_layout(self, runs: int) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        """``pulls`` (agents, runs, K) int64; with an instance per run, ``means`` (agents, runs,
        K) float64 too (each run's mu_k, for its regret's scale)."""
        shape = (len(self.agents), runs, self.env.n_arms)
        out = {"pulls": (shape, np.dtype(np.int64))}
        if self.per_run:
            out["means"] = (shape, np.dtype(np.float64))
        return out

    # --- the memory guard (tracking.runner.Job.memory_phases) ------------------------------
    def model_bytes(self) -> float:
        """A fixed instance: its features, theta*, means and the kernel's copies; the JSON
        lists."""
        k, d = self.env.n_arms, self.env.dim
        own = 0.0 if self.per_run else 16.0 * (k * d + k + d)
        return own + 32.0 * self.json_numbers()

    def json_numbers(self) -> int:
        """``info["means"]`` (a fixed instance) and ``config``'s features and theta (given as
        numbers)."""
        k, d = self.env.n_arms, self.env.dim
        return (0 if self.per_run else k) + ((k * d + d) if self._given else 0)

    def run_state_bytes(self) -> float:
        """The largest run state of the job's agents (their footprints), plus the K reward
        stream keys and the readouts' stream of ``bandits._linear_kernels._one_run``."""
        from ._agents.linear import footprint

        k, d = self.env.n_arms, self.env.dim
        state = max(footprint(p, k, d) for p in self._params)
        return 8.0 * (k + 1) + state + memory.SCRATCH

    def batch_scratch_bytes(self, runs: int) -> float:
        """With an instance per run, the batch's features, theta* and means, and one run's
        draw."""
        k, d = self.env.n_arms, self.env.dim
        return 8.0 * (runs + 1) * (2 * k * d + d + k) if self.per_run else 0.0

    def run_batch(self, start: int, stop: int, progress: Progress | None,
                  should_stop: StopRequest | None = None) -> dict[str, np.ndarray]:
        from ._linear_kernels import simulate

        n, c, k_arms = stop - start, self.checkpoints.size, self.env.n_arms
        shape = (len(self.agents), n, c)
        regret, greedy, behaviour = np.zeros(shape), np.zeros(shape), np.zeros(shape)
        pulls = np.zeros((len(self.agents), n, k_arms), dtype=np.int64)
        features, means = self.env.instances(self.seed, start, stop, self.branch)
        seeds = self.run_seeds(start, stop)
        for i, params in enumerate(self._params):
            run_interruptible(simulate, params, features, means, float(self.env.sigma),
                              self.horizon, seeds, self.checkpoints, regret[i], greedy[i],
                              behaviour[i], pulls[i], should_stop=should_stop)
            if progress is not None:
                progress(n * self.horizon)
        out = {"regret": regret, "simple_regret_greedy": greedy,
               "simple_regret_behaviour": behaviour, "pulls": pulls}
        if self.per_run:
            out["means"] = np.broadcast_to(means, (len(self.agents), n, k_arms)).copy()
        return out


def run(
    env: str | LinearEnv,
    agents: str | Sequence[str | Agent] | Agent,
    horizon: int,
    runs: int,
    seed: int = 0,
    checkpoints: Sequence[int] | np.ndarray | None = None,
    progress: Progress | None = None,
    name: str | None = None,
    env_args: dict[str, Any] | None = None,
) -> Result:
    """Run every agent on ``runs`` independent runs of ``horizon`` rounds of a linear bandit.

    Parameters
    ----------
    env : str, LinearBandit or RandomSphere
        A name of :data:`NAMED` (with ``env_args``), a fixed instance or the sphere family.
    agents : str or list
        Agent names with optional parameters (``"oful:c=0.5,lin-ts"``) or agent objects of
        ``bandits.linear_agents.REGISTRY``.
    horizon, runs, seed, checkpoints, progress, name
        As for :func:`bandits.run`.
    env_args : dict, optional
        Arguments of a named environment (``{"d": 10}``).

    Returns
    -------
    Result
        As :func:`bandits.run`'s: ``regret[i, r, c]`` = sum_{t <= T_c} (mu* - mu_{A_t}) of
        agent i in run r, relative to run r's instance; both readouts of simple regret;
        ``extra["pulls"]`` the final pull counts (A, R, K) and, for the sphere family,
        ``extra["means"]`` every run's mu_k.
    """
    return execute(LinearJob(env, agents, horizon, runs, seed, checkpoints, name,
                             env_args=env_args), progress)


"""Settings: what a lab declares, in one record, about each kind of problem it runs.

A *setting* (``"bandit"``, ``"mdp"``, ``"continuing"``) is a kind of problem with its own job,
budget and regret. Each lab declares its settings once, as :class:`Setting` records registered
here (:func:`register`): the job class (an import path, imported on first use), the keys of a
``[[problem]]`` table with their defaults and rules, the function that validates the
environment's source keys, the defaults of samples to epsilon (epsilon, delta), the smoke
budget of the studies, the summary's extra numbers, the wording of tables and plots, and the
bounds its regrets obey. Experiment files, reports, plots, studies and the contract checks read the
records; nothing above the labs names a setting.

The key rules serve both doors: :meth:`Key.read` reads a value from a TOML table (strict TOML
types; :class:`TableError` names the key, for the file's line) and :meth:`Key.check` validates
a Python argument of a job (ValueError naming the key), with the same default and rule.

This module imports no lab and no numba; registering is the labs' act (their ``setting``
modules), importing this module registers nothing.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from .validate import InputError, as_float, as_int

__all__ = ["Bounds", "Key", "Setting", "TableError", "get", "names", "register"]


class TableError(InputError):
    """A bad key of a problem table; ``key`` names it (None: the table itself)."""

    def __init__(self, key: str | None, message: str) -> None:
        super().__init__(message)
        self.key = key


def fail(key: str | None, message: str) -> NoReturn:
    """Raise :class:`TableError` about ``key``."""
    raise TableError(key, message)


def integer(data: Mapping[str, Any], key: str, minimum: int | None = None,
            default: int | None = None, required: bool = False) -> int | None:
    """``data[key]`` as a TOML integer (booleans refused), ``default`` when absent."""
    if key not in data:
        if required:
            fail(None, f"missing key '{key}'")
        return default
    v = data[key]
    if isinstance(v, bool) or not isinstance(v, int):
        fail(key, f"{key} must be an integer, got {v!r}")
    if minimum is not None and v < minimum:
        fail(key, f"{key} must be >= {minimum}, got {v}")
    return v


def number(data: Mapping[str, Any], key: str, default: float | None = None,
           positive: bool = False, below: float | None = None) -> float | None:
    """``data[key]`` as a finite float (booleans refused), ``default`` when absent; > 0 with
    ``positive``, < ``below`` when given."""
    if key not in data:
        return default
    v = data[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        fail(key, f"{key} must be a number, got {v!r}")
    v = float(v)
    if not math.isfinite(v):
        fail(key, f"{key} must be finite, got {v}")
    if below is not None and (v >= below or (positive and v <= 0)):
        fail(key, _interval_rule(key, v, positive, below))
    if positive and v <= 0:
        fail(key, f"{key} must be > 0, got {v}")
    return v


def _interval_rule(key: str, v: float, positive: bool, below: float) -> str:
    """The message of a number outside (0, below) (``positive``) or (-inf, below)."""
    return f"{key} must be in ({0 if positive else '-inf'}, {below:g}), got {v:g}"


def string(data: Mapping[str, Any], key: str, default: str | None = None,
           choices: tuple[str, ...] | None = None) -> str | None:
    """``data[key]`` as a string (one of ``choices`` when given), ``default`` when absent."""
    if key not in data:
        return default
    v = data[key]
    if not isinstance(v, str):
        fail(key, f"{key} must be a string, got {v!r}")
    if choices is not None and v not in choices:
        fail(key, f"{key} must be one of {', '.join(choices)}, got {v!r}")
    return v


def table(data: Mapping[str, Any], key: str, example: str) -> dict[str, Any]:
    """``data[key]`` as a TOML table (``{}`` when absent); ``example`` shows one in the error."""
    v = data.get(key, {})
    if not isinstance(v, dict):
        fail(key, f"{key} must be a table, e.g. {example}")
    return v


@dataclass(frozen=True)
class Key:
    """One key of a problem table: its type, default and rule, written once.

    ``kind`` is ``"integer"``, ``"number"`` or ``"string"``; a key without a default is
    required. ``minimum`` bounds an integer from below, ``positive`` a number (> 0), ``below``
    a number strictly from above, ``choices`` a string.
    """

    name: str
    kind: str
    default: Any = None
    minimum: int | None = None
    positive: bool = False
    choices: tuple[str, ...] | None = None
    below: float | None = None
    optional: bool = False

    @property
    def required(self) -> bool:
        """Whether a problem table must give the key: no default, and not optional."""
        return self.default is None and not self.optional

    def read(self, data: Mapping[str, Any]) -> Any:
        """The key's value in a TOML table (its default when absent); TableError otherwise."""
        if self.kind == "integer":
            return integer(data, self.name, self.minimum, self.default, self.required)
        if self.kind == "number":
            return number(data, self.name, self.default, self.positive, self.below)
        if self.required and self.name not in data:
            fail(None, f"missing key '{self.name}'")
        return string(data, self.name, self.default, self.choices)

    def check(self, value: Any) -> Any:
        """A job's Python argument checked by the same rule; ValueError naming the key."""
        if self.kind == "integer":
            return as_int(self.name, value, minimum=self.minimum)
        if self.kind == "number":
            v = as_float(self.name, value)
            if self.below is not None and (v >= self.below or (self.positive and v <= 0)):
                raise InputError(_interval_rule(self.name, v, self.positive, self.below))
            return as_float(self.name, v, minimum=0.0 if self.positive else None,
                            strict_min=self.positive)
        if self.choices is not None and value not in self.choices:
            raise InputError(f"{self.name} must be one of {', '.join(self.choices)}, "
                             f"got {value!r}")
        return value


#: The keys every setting shares (their rules; epsilon's default is the setting's).
SEED = Key("seed", "integer", default=0, minimum=0)
RUNS = Key("runs", "integer", minimum=1)


def epsilon_key(default: float) -> Key:
    """The simple-regret level of "samples to epsilon", with a setting's default."""
    return Key("epsilon", "number", default=default, positive=True)


#: epsilon as a share of the optimal value of each run's instance (V*_0, rho*): the
#: alternative to ``epsilon`` in the settings that declare an ``optimum``; in (0, 1).
EPSILON_SHARE = Key("epsilon_share", "number", positive=True, below=1.0, optional=True)


def delta_key(default: float) -> Key:
    """The share of runs "samples to epsilon" may leave unsettled (n(epsilon, delta) is the
    (1 - delta) quantile over runs), with a setting's default; in (0, 1)."""
    return Key("delta", "number", default=default, positive=True, below=1.0)


@dataclass(frozen=True)
class Bounds:
    """What a setting's regrets must satisfy, per unit of its checkpoints.

    ``step`` bounds the regret added by one checkpoint unit (a pull, an episode, a step):
    between checkpoints ``t`` and ``t'`` the cumulative regret grows by at least ``(t' - t)
    low`` and at most ``(t' - t) high`` (from 0 before the first). ``simple`` bounds the simple
    regret at every checkpoint. Each bound is a float or an array broadcasting against
    (agents, runs).
    """

    step: tuple[Any, Any]
    simple: tuple[Any, Any]


@dataclass(frozen=True)
class Setting:
    """A kind of problem, as its lab declares it (see the module docstring).

    Parameters
    ----------
    name : str
        The value of ``setting`` in an experiment file and of ``Result.setting``.
    job : str
        Import path ``"package.module:Class"`` of its job; the class has ``from_table(table)``.
    agents : str
        Import path ``"package.module:NAME"`` of its agent registry (name -> class).
    envs : str
        Import path of its named environments (name -> builder).
    budget_keys : tuple of Key
        The run-length keys (``horizon``, ``episodes``, ``steps``), in table order.
    option_keys : tuple of Key
        Other keys of its own (``rewards``; the episodic MDPs' ``regret``).
    source_keys : tuple of str
        The keys naming its environment (``env``, ``args``, ``means``, ``file``, ...).
    source : callable
        ``source(data, base) -> (keys, default_name)``: validates the source keys of a TOML
        table (relative files resolved against the folder ``base``); raises TableError.
    epsilon : float
        Default simple-regret level of "samples to epsilon".
    delta : float
        Default share of runs "samples to epsilon" may leave unsettled: n(epsilon, delta) is
        the (1 - delta) quantile over runs (tracking.stats.km_quantile).
    length : str
        The key whose value the checkpoints count up to (``horizon``, ``episodes``, ``steps``).
    smoke : mapping of str to int
        Caps of the smoke budget (``celab reproduce --smoke``), per budget key.
    example : mapping
        A small stochastic problem (source and budget keys) the contract checks run on.
    budget : str
        Table titles' budget, formatted with a summary's keys (``"T = {horizon:,}"``).
    sample_unit : str
        What a sample is called in tables (``"pulls"``, ``"steps"``).
    axis_unit : str
        What a sample is called on plot axes (``"arm pulls"``).
    regret_label : str
        The plots' name for its regret (``"pseudo-regret"``).
    summary_keys : tuple of str
        Configuration keys copied into a problem's summary.
    agent_extras : callable
        ``agent_extras(result, i, entry) -> dict``: extra summary numbers of agent ``i``
        (``entry`` holds the common ones).
    reference : callable
        ``reference(result, x) -> (curve, label)`` or None: a reference curve for the regret
        plot at the samples ``x``.
    bounds : callable
        ``bounds(job, result) -> Bounds``: what its regrets must satisfy (contract checks).
    stochastic : callable
        ``stochastic(job) -> bool``: whether another seed must give other numbers.
    validate : callable
        ``validate(job)``: raises ValueError when the job's environment breaks its model's
        invariants (contract checks).
    work_rate : float
        Elementary operations (``Job.work_per_run``'s unit) one thread does per second, for
        the work guard (:mod:`tracking.workguard`; measured by benchmarks/work_rates.py).
    optimum : callable, optional
        ``optimum(result) -> float or array (runs,)``: the optimal value of each run's
        instance (V*_0, rho*), which ``epsilon_share`` multiplies; None (the default): the
        setting has no ``epsilon_share``.
    optimum_label : str
        How tables and reports name that value (``"V*_0"``).
    readout : str
        The readout of simple regret its summaries, samples to epsilon and tuning use by
        default: ``"greedy"`` (what the agent has learned, the default) or ``"behaviour"``
        (the reasoning setting, where pass@k is a property of the sampling policy).
    """

    name: str
    job: str
    agents: str
    envs: str
    budget_keys: tuple[Key, ...]
    source_keys: tuple[str, ...]
    source: Callable[[Mapping[str, Any], Path], tuple[dict[str, Any], str]]
    epsilon: float
    length: str
    smoke: Mapping[str, int]
    example: Mapping[str, Any]
    budget: str
    sample_unit: str
    axis_unit: str
    regret_label: str
    bounds: Callable[[Any, Any], Bounds]
    stochastic: Callable[[Any], bool]
    validate: Callable[[Any], None]
    work_rate: float
    option_keys: tuple[Key, ...] = ()
    delta: float = 0.1
    summary_keys: tuple[str, ...] = ()
    agent_extras: Callable[[Any, int, dict[str, Any]], dict[str, Any]] = \
        field(default=lambda result, i, entry: {})
    reference: Callable[[Any, Any], tuple[Any, str] | None] = \
        field(default=lambda result, x: None)
    optimum: Callable[[Any], Any] | None = None
    optimum_label: str = ""
    readout: str = "greedy"

    @property
    def keys(self) -> tuple[Key, ...]:
        """Its own keys with rules: budget keys, options, epsilon and delta (with their
        defaults)."""
        return (*self.budget_keys, *self.option_keys, *self.measure_keys)

    @property
    def measure_keys(self) -> tuple[Key, ...]:
        """The keys of samples to epsilon, which read the runs and never change them:
        ``epsilon`` and ``delta``, and ``epsilon_share`` where the setting declares an
        ``optimum``."""
        share = (EPSILON_SHARE,) if self.optimum is not None else ()
        return (epsilon_key(self.epsilon), delta_key(self.delta), *share)

    def key(self, name: str) -> Key:
        """Its key ``name`` (budget, option, ``epsilon``, ``delta``, ``seed`` or ``runs``)."""
        for k in (*self.keys, SEED, RUNS):
            if k.name == name:
                return k
        raise KeyError(f"setting {self.name!r} has no key {name!r}")

    def job_class(self) -> type:
        """Its job class (imported on first use)."""
        return _load(self.job)

    def agent_registry(self) -> dict[str, type]:
        """Its agent registry (imported on first use)."""
        return _load(self.agents)

    def env_registry(self) -> dict[str, Callable[..., Any]]:
        """Its named environments (imported on first use)."""
        return _load(self.envs)


def _load(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


#: Registered settings, in registration order.
REGISTRY: dict[str, Setting] = {}


def register(setting: Setting) -> Setting:
    """Register a lab's setting under its name; returns it. A name already taken by another job
    is refused."""
    known = REGISTRY.get(setting.name)
    if known is not None and known.job != setting.job:
        raise InputError(f"setting {setting.name!r} is registered twice")
    REGISTRY[setting.name] = setting
    return setting


def names() -> tuple[str, ...]:
    """The registered settings' names, sorted (whichever lab was imported first)."""
    return tuple(sorted(REGISTRY))


def get(name: str) -> Setting:
    """The registered setting ``name``; ValueError naming the known ones otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise InputError(f"unknown setting {name!r} (known: {', '.join(names())})") from None

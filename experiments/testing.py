"""Contract checks for agents and environments, in the manner of scikit-learn's
``check_estimator`` and Gymnasium's ``check_env``.

>>> from experiments.testing import check_agent, check_env
>>> check_agent("ucb:c=1.5", setting="bandit")          # doctest: +SKIP
>>> check_env("riverswim", setting="mdp", args={"n_states": 5})  # doctest: +SKIP

:func:`check_agent` runs an agent (of a setting's registry, or a user's: docs/extending.md) on a
small problem (the setting's ``example``, or ``env``) and checks, in this order:

1. ``parameters``: ``build(agent.spec) == agent``, and the same agent back from its label and
   its repr;
2. ``errors``: a bad value of each parameter (and an unknown parameter) raises ValueError
   naming the parameter;
3. ``determinism``: the same seed gives the same arrays, another seed other arrays (when the
   environment is stochastic: ``Setting.stochastic``);
4. ``threads``: the same arrays with 1 and 2 numba threads (in process);
5. ``batches``: the same arrays with one run per batch (``CELAB_BATCH_WORK=1``) and with the
   default batches, and ``runs - 1`` runs equal to the first ``runs - 1`` of ``runs`` (what
   resuming needs);
6. ``common random numbers``: the same arrays alone and beside every other agent of the
   registry;
7. ``regret bounds``: every curve within the bounds its setting declares (``Setting.bounds``).

:func:`check_env` builds an environment through a setting's job, with every agent of the
setting, and checks ``valid model`` (``Setting.validate``), ``optimum`` (the job's ``info`` is
finite), ``determinism`` (the same seed builds the same environment and gives the same arrays,
another seed other arrays when it is stochastic), ``threads``, ``common random numbers`` (each
agent alone and beside the others), ``regret bounds`` and ``configuration`` (the job's
configuration, saved as an experiment file and read back, reruns to the same numbers).

Each check raises AssertionError whose message names the property that failed. The test suite
runs both over every registry entry (tests/test_contracts.py), so a new agent or environment
is checked without a new test.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from tracking import settings
from tracking.results import READOUTS, Result, readout_key
from tracking.runner import Job, execute
from tracking.specs import Agent, build
from tracking.validate import InputError

from . import files

__all__ = ["check_agent", "check_env"]

#: Bad values tried for each parameter type (the agent must refuse each one by name); "inf"
#: is not tried on the parameters an agent declares ``unbounded``.
BAD_VALUES = {bool: ("maybe",), int: ("1.5", "x"), float: ("nan", "inf", "x"),
              str: ("maybe",)}

#: Rounding allowed on a bound, relative to the bound's scale and the checkpoint.
RTOL = 1e-9


class _Failure:
    """Raises AssertionError naming the check and the property that failed."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __call__(self, prop: str, detail: str) -> NoReturn:
        raise AssertionError(f"{self.what}: {prop}: {detail}")

    def that(self, ok: bool, prop: str, detail: str) -> None:
        if not ok:
            self(prop, detail)


# --- problem tables and runs -------------------------------------------------------------------

def _source(setting: settings.Setting, env: Any, args: Mapping[str, Any] | None
            ) -> dict[str, Any]:
    """The source keys of a problem table: the setting's example (``env`` None), a name with
    ``args``, a table of source keys (validated by the setting), or an environment object."""
    if env is None:
        return {k: v for k, v in setting.example.items() if k in setting.source_keys}
    if isinstance(env, str):
        env = {"env": env, "args": dict(args or {})}
    elif args:
        raise InputError("args apply to an environment name only")
    if isinstance(env, Mapping):
        source, _ = setting.source(dict(env), Path.cwd())
        return source
    return {"env": env}


def _table(setting: settings.Setting, source: dict[str, Any], agents: list[str],
           runs: int, seed: int) -> dict[str, Any]:
    budget = {k: v for k, v in setting.example.items() if k not in setting.source_keys}
    return {"setting": setting.name, "name": "check", "seed": seed, "runs": runs,
            "epsilon": setting.epsilon, "delta": setting.delta, "agents": agents, **budget,
            **source}


def _job(setting: settings.Setting, table: dict[str, Any]) -> Job:
    return files.job_of(dict(table))


def _run(setting: settings.Setting, table: dict[str, Any], **changes: Any) -> tuple[Job, Result]:
    job = _job(setting, {**table, **changes})
    return job, execute(job)


def _arrays(result: Result, i: int | None = None) -> dict[str, np.ndarray]:
    """Every per-run array of a result (of agent ``i`` only, when given)."""
    readouts = {readout_key(name): result.readout(name) for name in READOUTS}
    out = {"regret": result.regret, **readouts, **result.extra}
    return out if i is None else {k: v[i] for k, v in out.items()}


def _differences(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> list[str]:
    """The arrays that differ between ``a`` and ``b`` (bit for bit)."""
    return sorted(k for k in a.keys() | b.keys()
                  if k not in a or k not in b or not np.array_equal(a[k], b[k]))


@contextmanager
def _threads(n: int) -> Iterator[None]:
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _set_environ(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


@contextmanager
def _batch_work(value: str | None) -> Iterator[None]:
    """``CELAB_BATCH_WORK`` set to ``value`` (None: unset) inside, restored after."""
    before = os.environ.get("CELAB_BATCH_WORK")
    _set_environ("CELAB_BATCH_WORK", value)
    try:
        yield
    finally:
        _set_environ("CELAB_BATCH_WORK", before)


def _at(bound: Any, shape: tuple[int, int], a: int, r: int) -> float:
    """A bound (a float, or an array broadcasting against (agents, runs)) at agent a, run r."""
    return float(np.broadcast_to(np.asarray(bound, dtype=float), shape)[a, r])


def _scale(*bounds: Any) -> float:
    return max([1.0] + [float(np.max(np.abs(np.asarray(b, dtype=float)))) for b in bounds])


def _check_bounds(fail: _Failure, setting: settings.Setting, job: Job, result: Result) -> None:
    """Every curve finite and within the setting's bounds, to rounding (RTOL of their scale,
    times the checkpoint for the cumulative regret); both readouts of simple regret."""
    curves = {"regret": result.regret,
              **{f"{name} simple regret": result.readout(name) for name in READOUTS}}
    for key, arr in curves.items():
        fail.that(bool(np.all(np.isfinite(arr))), "regret bounds", f"{key} is not finite")
    bounds = setting.bounds(job, result)
    fail.that(np.isfinite(_scale(*bounds.step, *bounds.simple)), "regret bounds",
              f"the {setting.name} bounds are not finite: {bounds}")
    shape = result.regret.shape[:2]
    t = result.checkpoints.astype(float)
    dt = np.diff(t, prepend=0.0)
    growth = np.diff(result.regret, axis=2, prepend=0.0)
    low, high = (np.asarray(b, dtype=float)[..., None] for b in bounds.step)
    tol = RTOL * _scale(*bounds.step) * (1.0 + t)
    for side, bound, bad in (("below", bounds.step[0], growth < dt * low - tol),
                             ("above", bounds.step[1], growth > dt * high + tol)):
        if np.any(bad):
            a, r, c = np.argwhere(bad)[0]
            fail("regret bounds", f"{result.agents[a]}, run {r}: the regret grew by "
                 f"{growth[a, r, c]:.6g} from checkpoint {int(t[c] - dt[c])} to {int(t[c])}, "
                 f"{side} {int(dt[c])} x {_at(bound, shape, a, r):.6g} (the {setting.name} "
                 f"bound per unit of {setting.length})")
    s_low, s_high = (np.asarray(b, dtype=float)[..., None] for b in bounds.simple)
    tol = RTOL * _scale(*bounds.simple)
    for name in READOUTS:
        simple = result.readout(name)
        bad = (simple < s_low - tol) | (simple > s_high + tol)
        if np.any(bad):
            a, r, c = np.argwhere(bad)[0]
            fail("regret bounds", f"{result.agents[a]}, run {r}: {name} simple regret "
                 f"{simple[a, r, c]:.6g} at checkpoint {int(t[c])} outside "
                 f"[{_at(bounds.simple[0], shape, a, r):.6g}, "
                 f"{_at(bounds.simple[1], shape, a, r):.6g}]")


def _check_determinism(fail: _Failure, setting: settings.Setting, table: dict[str, Any], job: Job,
                       first: Result) -> None:
    """The same seed gives the same arrays; another seed others, on a stochastic problem."""
    _, again = _run(setting, table)
    diff = _differences(_arrays(first), _arrays(again))
    fail.that(not diff, "determinism", f"the same seed gave other {', '.join(diff)}")
    if setting.stochastic(job):
        seed = table["seed"]
        _, other = _run(setting, table, seed=seed + 1)
        fail.that(bool(_differences(_arrays(first), _arrays(other))), "determinism",
                  f"seeds {seed} and {seed + 1} gave the same arrays on a stochastic "
                  "environment")


def _check_threads(fail: _Failure, setting: settings.Setting, table: dict[str, Any]) -> None:
    """The same arrays with 1 and 2 numba threads (skipped when numba has one thread)."""
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        return
    by_threads = {}
    for n in (1, 2):
        with _threads(n):
            by_threads[n] = _arrays(_run(setting, table)[1])
    diff = _differences(by_threads[1], by_threads[2])
    fail.that(not diff, "threads", f"1 and 2 numba threads gave other {', '.join(diff)}")


def _check_batches(fail: _Failure, setting: settings.Setting, table: dict[str, Any],
                   first: Result) -> None:
    """The same arrays with one run per batch and default batches; the first runs - 1 runs
    alone equal the first runs - 1 of all."""
    with _batch_work("1"):
        _, tiny = _run(setting, table)
    with _batch_work(None):
        _, default = _run(setting, table)
    diff = _differences(_arrays(tiny), _arrays(default))
    fail.that(not diff, "batches", f"one run per batch and default batches gave other "
                                   f"{', '.join(diff)}")
    n = table["runs"] - 1
    _, fewer = _run(setting, table, runs=n)
    diff = _differences(_arrays(fewer), {k: v[:, :n] for k, v in _arrays(first).items()})
    fail.that(not diff, "batches", f"{n} runs are not the first {n} of {n + 1}: "
                                   f"other {', '.join(diff)}")


def _check_companions(fail: _Failure, setting: settings.Setting, crowd_table: dict[str, Any],
                      alone: dict[str, Result]) -> None:
    """Common random numbers: each agent of ``alone`` (label -> its result run alone) gives the
    same arrays beside the other agents of ``crowd_table``."""
    _, crowd = _run(setting, crowd_table)
    for label, result in alone.items():
        others = [a for a in crowd.agents if a != label]
        diff = _differences(_arrays(result, 0), _arrays(crowd, crowd.agents.index(label)))
        fail.that(not diff, "common random numbers",
                  f"{label} beside {', '.join(others)} gave other {', '.join(diff)}")


# --- agents --------------------------------------------------------------------------------------

def _label_spec(agent: Agent) -> str:
    """The agent's label ``name(k=v, k2=v2)`` as a spec ``name:k=v,k2=v2``, ``name`` replaced
    by the import path of an agent outside the registries."""
    match = re.fullmatch(r"([^()]+)\((.*)\)", agent.label)
    if match is None:
        return agent.spec_name() if agent.label == agent.name else agent.label
    name = agent.spec_name() if match.group(1) == agent.name else match.group(1)
    return f"{name}:{match.group(2).replace(', ', ',')}"


def _check_parameters(fail: _Failure, agent: Agent, registry: dict[str, type]) -> None:
    """The agent back from its spec, its label and its repr."""
    name = type(agent).__name__
    again = build(registry, agent.spec)
    fail.that(again == agent, "parameters", f"build({agent.spec!r}) gives {again!r}, "
                                            f"not {agent!r}")
    fail.that(again.spec == agent.spec and again.label == agent.label, "parameters",
              f"spec or label changed through build: {again.spec!r}, {again.label!r}")
    from_label = build(registry, _label_spec(agent))
    fail.that(from_label == agent, "parameters",
              f"label {agent.label!r} reads back as {from_label!r}")
    try:
        # the agent's own repr; a float parameter may be inf, which repr writes as such
        from_repr = eval(repr(agent), {name: type(agent), "inf": math.inf})  # noqa: S307
    except Exception as e:  # noqa: BLE001 - any failure to read the repr back is the finding
        fail("parameters", f"repr {agent!r} does not evaluate: {type(e).__name__}: {e}")
    fail.that(from_repr == agent, "parameters", f"repr {agent!r} gives {from_repr!r}")


def _check_errors(fail: _Failure, agent: Agent, registry: dict[str, type]) -> None:
    """A bad value of every parameter, and an unknown parameter, raise ValueError naming it
    (inf is not bad for the parameters the agent declares ``unbounded``)."""
    trials = [(p, bad) for p, default in agent.defaults().items()
              for bad in BAD_VALUES.get(type(default), ())
              if not (bad == "inf" and p in agent.unbounded)]
    trials.append(("no_such_parameter", "1"))
    for param, bad in trials:
        spec = f"{agent.spec_name()}:{param}={bad}"
        try:
            build(registry, spec)
        except ValueError as e:
            fail.that(param in str(e), "errors",
                      f"{spec!r} raises ValueError without naming {param!r}: {e}")
        else:
            fail("errors", f"{spec!r} is accepted: {param} = {bad} should raise ValueError")


def check_agent(agent: str | Agent | type[Agent], setting: str, env: Any = None, *,
                args: Mapping[str, Any] | None = None, runs: int = 4, seed: int = 3,
                options: Mapping[str, Any] | None = None) -> None:
    """Check that ``agent`` keeps celab's contracts in ``setting`` (module docstring).

    Parameters
    ----------
    agent : str, Agent or agent class
        A specification (``"reinforce:alpha=0.4"``, or an import path
        ``"mypkg.agents:MOSS:c=2"``), an agent object, or an agent class (built with its
        defaults): of the setting's registry, or a user's agent of the setting's lab
        (docs/extending.md).
    setting : str
        A registered setting (``"bandit"``, ``"mdp"``, ``"continuing"``).
    env : str, mapping or environment, optional
        The problem: a name of the setting's environments (with ``args``), a table of source
        keys (``{"means": [0.2, 0.5]}``), or an environment object; default the setting's
        stochastic example.
    args : mapping, optional
        Arguments of a named environment.
    runs, seed : int
        Runs of every execution (at least 2), and the seed ("another seed" is ``seed + 1``).
    options : mapping, optional
        Values of the setting's other keys for every execution (``{"regret": "sampled"}``),
        read by the setting's rules.

    Raises
    ------
    AssertionError
        Naming the property that failed.
    """
    if runs < 2:
        raise InputError(f"runs must be >= 2 (the prefix check drops one), got {runs}")
    s = settings.get(setting)
    registry = s.agent_registry()
    obj = build(registry, agent, setting)
    fail = _Failure(f"check_agent({obj.spec!r}, setting={setting!r})")
    _check_parameters(fail, obj, registry)
    _check_errors(fail, obj, registry)
    table = _table(s, _source(s, env, args), [obj.spec], runs, seed)
    options = dict(options or {})
    unknown = sorted(set(options) - {k.name for k in s.option_keys})
    if unknown:
        raise InputError(f"options: {', '.join(unknown)}: not a key of the {s.name} setting")
    table.update({k.name: k.read(options) for k in s.option_keys if k.name in options})

    job, first = _run(s, table)
    _check_determinism(fail, s, table, job, first)
    _check_threads(fail, s, table)
    _check_batches(fail, s, table, first)
    companions = [cls().spec for cls in registry.values() if cls().label != obj.label]
    half = len(companions) // 2
    _check_companions(fail, s, {**table, "agents": companions[:half] + [obj.spec]
                                + companions[half:]}, {obj.label: first})
    _check_bounds(fail, s, job, first)


# --- environments -----------------------------------------------------------------------------

def _rerun_from_config(fail: _Failure, setting: settings.Setting, job: Job, result: Result) -> None:
    """The job's configuration, written as an experiment file and read back, reruns to the
    same configuration and the same arrays."""
    with tempfile.TemporaryDirectory() as folder:
        job.attach_files(Path(folder))
        text = files.dumps([job.config], {}, None, job.config["seed"])
        parsed = files.parse(text, "check.toml", Path(folder))
        rebuilt, = files.build_jobs(parsed)
        again = execute(rebuilt)
    fail.that(rebuilt.config == job.config, "configuration",
              f"the saved configuration reads back as {rebuilt.config}, not {job.config}")
    diff = _differences(_arrays(result), _arrays(again))
    fail.that(not diff, "configuration", f"the saved configuration reruns to other "
                                         f"{', '.join(diff)}")


def _finite_info(fail: _Failure, info: Mapping[str, Any]) -> None:
    for key, value in info.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, float) and not np.isfinite(v):
                fail("optimum", f"info[{key!r}] is not finite: {value}")


def check_env(env: Any, setting: str, *, args: Mapping[str, Any] | None = None,
              runs: int = 3, seed: int = 0) -> None:
    """Check that an environment keeps celab's contracts in ``setting`` (module docstring).

    Parameters
    ----------
    env : str, mapping or environment
        A name of the setting's environments (with ``args``), a table of source keys, or an
        environment object (``bandits.Bernoulli``, ``mdp.FiniteMDP``).
    setting : str
        A registered setting.
    args : mapping, optional
        Arguments of a named environment.
    runs, seed : int
        Runs of every execution, and the seed.

    Raises
    ------
    AssertionError
        Naming the property that failed.
    """
    s = settings.get(setting)
    fail = _Failure(f"check_env({env!r}, setting={setting!r})")
    agents = [cls().spec for cls in s.agent_registry().values()]
    table = _table(s, _source(s, env, args), agents, runs, seed)
    try:
        job = _job(s, table)
    except ValueError as e:
        fail("valid model", f"the environment cannot be built: {e}")
    try:
        s.validate(job)
    except ValueError as e:
        fail("valid model", str(e))
    _finite_info(fail, job.info)

    result = execute(job)
    twin = _job(s, table)
    fail.that(twin.info == job.info and twin.config == job.config, "determinism",
              "the same seed built another environment")
    _check_determinism(fail, s, table, job, result)
    _check_threads(fail, s, table)
    _check_companions(fail, s, table, {label: _run(s, table, agents=[spec])[1]
                                       for label, spec in zip(job.agents, agents)})
    _check_bounds(fail, s, job, result)
    _rerun_from_config(fail, s, job, result)

"""Tuning agents' parameters on held-out seeds: ``celab tune`` (docs/experiments.md, "Tuning").

An experiment file's ``[tune]`` table gives a grid over the parameters of some of its agents::

    [tune]
    objective = "samples"          # or "regret"
    runs = 20                      # tuning runs per candidate
    budget = "equal"               # optional: equal tuning samples for a problem's agents
    every = true                   # optional: agents without a grid run on the tuning seeds too
    stop = "all"                   # optional: until-budget tuning doubles until every
                                   # candidate settles (default "any": until one does)
    reinforce = { alpha = [0.01, 0.1, 1.0] }

For each problem and each agent of it whose name has a grid, every candidate (the agent with
the grid's parameters set, its other parameters kept) runs on the problem's budget, on the
tuning seeds: run r of tuning uses ``SeedSequence(seed, spawn_key=(TUNING_BRANCH, r))``
(tracking.rng), never an evaluation seed, and every candidate of every agent of a problem the
same ones (common random numbers). The best candidate (:func:`rank`) replaces the agent in the
tuned experiment, ``DIR/tuned.toml``, which also holds the ``[tuning]`` record of every
candidate; ``celab run DIR/tuned.toml`` then evaluates it on the evaluation seeds.

The candidates' runs are jobs like any experiment's, one per tuned agent of a problem, named
``<problem>.<k>.<agent>`` (k: the agent's place in the problem's list, from 0), run into
``DIR/tuning`` by the output-folder machinery (experiments.session): saved after every batch,
the folder locked, Ctrl-C keeps what completed and ``--resume`` finishes it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tracking import paths, settings, specs, stats
from tracking.results import Result, write_atomic
from tracking.rng import TUNING_BRANCH
from tracking.validate import InputError

from . import files, report, session, until

if TYPE_CHECKING:
    from rich.table import Table

    from tracking.runner import Job, Progress

OBJECTIVES = ("samples", "regret")
#: ``runs``: every candidate runs ``runs`` times; ``equal``: every tuned agent of a problem gets
#: the same tuning samples (:func:`equal_runs`).
BUDGETS = ("runs", "equal")
#: The keys of [tune] besides the grids (one per agent name).
TUNE_KEYS = ("objective", "runs", "budget", "every", "stop")
DEFAULT_RUNS = 20
TUNING_FOLDER = "tuning"
TUNED_FILE = "tuned.toml"
EXAMPLE = "reinforce = { alpha = [0.1, 0.3, 1.0] }"


@dataclass(frozen=True)
class Options:
    """The validated ``[tune]`` table: objective, runs per candidate, budget rule, the grid of
    each agent name (parameter -> values, in the file's order), and ``every``: whether the
    agents without a grid run on the tuning seeds too, each as its one candidate (so that a
    choice among agents, not only among an agent's parameters, can be made on held-out
    seeds)."""

    objective: str = "samples"
    runs: int = DEFAULT_RUNS
    budget: str = "runs"
    grids: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    every: bool = False
    problem_grids: dict[str, dict[str, dict[str, list[Any]]]] = field(default_factory=dict)
    #: The doubling rule of the tuning runs of an until-budget problem (experiments.until).
    stop: str = "any"

    def grid(self, problem: str, name: str) -> dict[str, list[Any]] | None:
        """The grid of agent ``name`` in the problem named ``problem``: the problem's own
        ``tune`` table when it names the agent, else ``[tune]``'s; None when neither has one."""
        return self.problem_grids.get(problem, {}).get(name, self.grids.get(name))


def points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """The grid's points in grid order: the product of the parameters' values, the first
    parameter varying slowest."""
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*grid.values())]


@dataclass
class Entry:
    """One tuned agent of one problem: its candidates (complete specs, with their grid points)
    and the job that runs them on the tuning seeds."""

    problem: int
    agent: int
    spec: str
    name: str
    grid: dict[str, list[Any]]
    candidates: list[str]
    values: list[dict[str, Any]]
    runs: int = 0
    job: Job | None = None


@dataclass
class Plan:
    """What ``celab tune`` runs: the parsed experiment, the [tune] options and the entries."""

    parsed: dict[str, Any]
    options: Options
    entries: list[Entry]
    delta: float | None = None

    @property
    def jobs(self) -> list[Job]:
        return [e.job for e in self.entries]


# --- reading [tune] ----------------------------------------------------------------------------

def _fail_at(check: files._Checker, name: str, message: str) -> None:
    """FileError at the line of ``[tune]``'s key ``name`` (or of a ``[tune.name]`` header)."""
    if (("tune",), name) in check.lines or (("tune." + name,), None) not in check.lines:
        check.fail(("tune",), name, message)
    check.fail(("tune." + name,), None, message)


def _used_names(parsed: dict[str, Any]) -> list[str]:
    """The agent names of the problems, in order of appearance."""
    names = [specs.parse_spec(s)[0] for t in parsed["problems"] for s in t["agents"]]
    return list(dict.fromkeys(names))


def _grid(name: str, value: Any, fail: Callable[[str], None]) -> dict[str, list[Any]]:
    """One agent's grid, its types checked (``fail(message)`` raises at the grid's line): a
    non-empty table of non-empty lists of numbers, booleans or strings."""
    if not isinstance(value, dict) or not value:
        fail(f"tune.{name} must be a table of parameters, each with a list of values, "
             f"e.g. {EXAMPLE}")
    for param, values in value.items():
        where = f"tune.{name}.{param}"
        if not isinstance(values, list):
            fail(f"{where} must be a list of values, got {values!r}")
        if not values:
            fail(f"{where} is an empty grid: give at least one value")
        for v in values:
            if not isinstance(v, (bool, int, float, str)):
                fail(f"{where} values must be numbers, booleans or strings, got {v!r}")
    return value


def read_options(parsed: dict[str, Any]) -> Options:
    """The validated ``[tune]`` table of a parsed experiment file (files.parse); FileError at
    the offending line otherwise."""
    check = files._Checker(parsed.get("path", "<experiment>"), parsed.get("lines", {}))
    data = parsed.get("tune")
    if data is None:
        check.fail((), None, f"no [tune] table: celab tune needs one, e.g. [tune] with {EXAMPLE}")
    if not isinstance(data, dict):
        check.fail((), "tune", f"tune must be a table, e.g. [tune] with {EXAMPLE}")
    with check.at(("tune",)):
        objective = settings.string(data, "objective", "samples", OBJECTIVES)
        runs = settings.integer(data, "runs", 1, DEFAULT_RUNS)
        budget = settings.string(data, "budget", "runs", BUDGETS)
        every = data.get("every", False)
        if not isinstance(every, bool):
            check.fail(("tune",), "every", f"every must be true or false, got {every!r}")
        stop = settings.string(data, "stop", "any", until.STOPS)
    used = _used_names(parsed)
    known = {n for s in settings.names() for n in settings.get(s).agent_registry()}
    grids = {}
    for name, value in data.items():
        if name in TUNE_KEYS:
            continue
        if name not in used:
            agents = ", ".join(used)
            if name in known:
                _fail_at(check, name, f"tune: agent {name!r} is in no problem (the problems' "
                                      f"agents: {agents})")
            _fail_at(check, name, f"unknown key {name!r} in [tune] (allowed: "
                                  f"{', '.join(TUNE_KEYS)}, or an agent of the problems: "
                                  f"{agents})")
        grids[name] = _grid(name, value, lambda m, name=name: _fail_at(check, name, m))
    problem_grids = _problem_grids(parsed, check)
    if not grids and not any(problem_grids) and not every:
        check.fail(("tune",), None, f"[tune] names no agent to tune: give a grid, e.g. {EXAMPLE}"
                                    ", or every = true")
    return Options(objective, runs, budget, grids, every, problem_grids, stop)


def _problem_grids(parsed: dict[str, Any], check: files._Checker
                   ) -> dict[str, dict[str, dict[str, list[Any]]]]:
    """Each problem's own grids, by problem name (its ``tune`` table: agent name -> grid, for
    that problem only, in place of ``[tune]``'s grid of the same name), checked like
    ``[tune]``'s."""
    own_of = parsed.get("problem_tune") or {}
    out = {}
    for i, table in enumerate(parsed["problems"]):
        own = own_of.get(table["name"])
        if own is None:
            continue
        at = ("problem", i)
        if not isinstance(own, dict) or not own:
            check.fail(at, "tune", f"a problem's tune must be a table of agent names, each with "
                                   f"its grid, e.g. tune = {{ {EXAMPLE} }}")
        names = [specs.parse_spec(s)[0] for s in table["agents"]]
        grids = {}
        for name, value in own.items():
            if name not in names:
                check.fail(at, "tune", f"tune: agent {name!r} is not an agent of problem "
                                       f"{table['name']!r} (its agents: {', '.join(names)})")
            grids[name] = _grid(name, value, lambda m, at=at: check.fail(at, "tune", m))
        out[table["name"]] = grids
    return out


# --- candidates and their jobs -----------------------------------------------------------------

def _candidate(name: str, raw: dict[str, str], point: dict[str, Any]) -> str:
    """The spec of an agent ``name`` with parameters ``raw`` (strings) and ``point`` set."""
    return files._agent_spec({"name": name, **raw, **point})


def _entries(parsed: dict[str, Any], options: Options, check: files._Checker) -> list[Entry]:
    """Every tuned agent of every problem, its candidates built through the lab's registry (so
    that the agent's own rules speak), distinct from each other and from the problem's other
    agents (they must stay distinct once chosen)."""
    entries = []
    for i, table in enumerate(parsed["problems"]):
        setting = settings.get(table["setting"])
        registry = setting.agent_registry()
        taken: dict[str, str] = {}  # label -> the tuned agent of the problem it belongs to
        for k, spec in enumerate(table["agents"]):
            name, raw = specs.parse_spec(spec)
            grid = options.grid(table["name"], name)
            if grid is None and not options.every:
                continue  # its label starts with another name than any candidate's
            grid = grid or {}  # no grid (every = true): one candidate
            values = points(grid)
            agents = []
            for point in values:
                try:
                    agents.append(specs.build(registry, _candidate(name, raw, point),
                                              setting.name))
                except ValueError as e:
                    _fail_at(check, name, f"tune.{name}: {e} (problem {table['name']!r})")
            entries.append(Entry(i, k, spec, name, grid, [a.spec for a in agents], values))
            labels = [a.label for a in agents]
            for j, label in enumerate(labels):
                if label in labels[:j]:
                    _fail_at(check, name, f"tune.{name}: two points of its grid give the same "
                                          f"candidate {label} (problem {table['name']!r})")
                if label in taken:
                    _fail_at(check, name, f"tune.{name}: the candidate {label} of "
                                          f"{spec!r} in problem {table['name']!r} is also "
                                          f"{taken[label]!r}: the agents of a problem must "
                                          "stay distinct")
            taken.update(dict.fromkeys(labels, spec))
    return entries


def equal_runs(candidates: Sequence[int], runs: int) -> list[int]:
    """Runs per candidate of a problem's tuned agents with equal tuning budgets.

    The largest ``candidates x runs`` among the agents sets the budget B; an agent with c
    candidates gets ``floor(B / c)`` runs per candidate (the one that sets B: ``runs``).
    """
    most = max(c * runs for c in candidates)
    return [most // c for c in candidates]


def job_name(problem: str, agent: int, name: str) -> str:
    """The name of a tuned agent's job: ``<problem>.<k>.<agent name>`` (the class name of an
    agent named by its import path)."""
    return f"{problem}.{agent}.{specs.short_name(name)}"


def _job(parsed: dict[str, Any], entry: Entry, delta: float | None,
         check: files._Checker, stop: str = "any") -> Job:
    """The job of an entry's candidates on the tuning seeds."""
    table = parsed["problems"][entry.problem]
    name = job_name(table["name"], entry.agent, entry.name)
    if not paths.valid_name(name):
        check.fail(("problem", entry.problem), "name",
                   f"the tuning files of problem {table['name']!r} would be named {name!r}, "
                   f"not {paths.NAME_RULE}: give the problem a shorter 'name'")
    table = {**table, "name": name, "branch": TUNING_BRANCH, "agents": entry.candidates,
             "runs": entry.runs, **({} if delta is None else {"delta": delta}),
             **({"stop": stop} if table.get("budget") == until.UNTIL else {})}
    return files.job_at(parsed, entry.problem, table)


def plan(parsed: dict[str, Any], delta: float | None = None) -> Plan:
    """Validate the ``[tune]`` table of a parsed experiment file and build the tuning jobs.

    ``delta`` overrides every problem's delta (of the ranking and of the tuned file). Raises
    FileError (file:line) for any bad [tune] key, grid or candidate.
    """
    check = files._Checker(parsed.get("path", "<experiment>"), parsed.get("lines", {}))
    if not parsed["problems"]:
        check.fail((), None, "no [[problem]] table: celab tune needs at least one problem")
    options = read_options(parsed)
    files.build_jobs(parsed)  # the experiment itself, as celab run would check it
    entries = _entries(parsed, options, check)
    for i in range(len(parsed["problems"])):
        mine = [e for e in entries if e.problem == i]
        counts = [len(e.candidates) for e in mine]
        runs = (equal_runs(counts, options.runs) if options.budget == "equal" and mine
                else [options.runs] * len(mine))
        for e, r in zip(mine, runs):
            e.runs = r
    for e in entries:
        e.job = _job(parsed, e, delta, check, options.stop)
    return Plan(parsed, options, entries, delta)


# --- ranking -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Score:
    """A candidate's numbers over its tuning runs.

    ``objective`` with its 95% interval (``low``, ``high``; ``high`` inf when unbounded): for
    ``samples`` n(epsilon, delta) of the greedy readout (``censored``: only a lower bound), for
    ``regret`` the mean final cumulative regret (never censored). ``reached``: the share of runs
    whose greedy readout settled within epsilon; ``simple_regret`` and ``regret``: the means of
    the final simple regret (greedy readout) and of the final cumulative regret.
    """

    objective: float
    low: float
    high: float
    censored: bool
    reached: float
    simple_regret: float
    regret: float


def score(result: Result, i: int, objective: str) -> Score:
    """Candidate ``i``'s Score in a tuning result (epsilon and delta: the result's,
    report.measure; one epsilon per run under an ``epsilon_share``), on its setting's readout
    (:attr:`tracking.settings.Setting.readout`: greedy but for the reasoning setting)."""
    eps, delta = report.measure(result)
    simple_regret = result.readout(settings.get(result.setting).readout)[i]
    exits = stats.last_exit_times(result.samples, simple_regret, eps)
    regret, half = (float(x) for x in stats.mean_ci(result.regret[i, :, -1]))
    simple = float(np.mean(simple_regret[:, -1]))
    if objective == "regret":
        return Score(regret, regret - half, regret + half, False, exits.reached, simple, regret)
    q = stats.km_quantile(exits, delta)
    if q is None:  # no runs
        return Score(math.inf, math.inf, math.inf, True, 0.0, math.inf, math.inf)
    return Score(q.estimate, q.low, q.high, q.censored, exits.reached, simple, regret)


def _key(s: Score, objective: str) -> tuple[float, ...]:
    if objective == "regret":
        return (s.regret,)
    if not s.censored:
        return (0.0, s.objective, 0.0)
    return (1.0, -s.reached, s.simple_regret)


def rank(scores: Sequence[Score], objective: str) -> list[int]:
    """The candidates' indices, best first.

    ``samples``: the measured n(epsilon, delta) first, smallest first; then the censored ones,
    by the share of runs that settled (largest first), then by the final simple regret
    (smallest first). ``regret``: the final mean cumulative regret, smallest first. Ties keep
    the grid's order (the sort is stable).
    """
    if objective not in OBJECTIVES:
        raise InputError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    return sorted(range(len(scores)), key=lambda i: _key(scores[i], objective))


def edges(grid: dict[str, list[Any]], chosen: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """The parameters whose chosen value is the smallest or largest of its grid, for the
    parameters with at least two numeric values: ``(parameter, low, high)``."""
    out = []
    for param, values in grid.items():
        nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        v = chosen[param]
        if len(nums) >= 2 and v in nums and not isinstance(v, bool) \
                and v in (min(nums), max(nums)):
            out.append((param, min(nums), max(nums)))
    return out


# --- running -----------------------------------------------------------------------------------

@dataclass
class Tuned:
    """What ``celab tune`` produced: the tuning session's outcome and, once complete, the
    record, the tuned file and the edge warnings (one line each)."""

    outcome: session.Outcome
    record: dict[str, Any] | None = None
    tuned: Path | None = None
    warnings: list[str] = field(default_factory=list)


def _float(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _entry_record(plan_: Plan, entry: Entry, result: Result) -> tuple[dict[str, Any], list[str]]:
    """An entry's part of the [tuning] record, and its edge warnings."""
    objective = plan_.options.objective
    scores = [score(result, i, objective) for i in range(len(entry.candidates))]
    best = rank(scores, objective)[0]
    eps, delta = report.measure(result)
    problem = plan_.parsed["problems"][entry.problem]["name"]
    at_edge = edges(entry.grid, entry.values[best])
    lines = [f"{problem}: {entry.spec}: {p} = {files._value(entry.values[best][p])} is at the "
             f"edge of its grid [{files._value(lo)}, {files._value(hi)}]; the best value may "
             "lie beyond it" for p, lo, hi in at_edge]
    candidates = [{"params": entry.values[i], "agent": result.agents[i],
                   "objective": _float(s.objective), "low": _float(s.low),
                   "high": _float(s.high), "censored": s.censored, "reached": s.reached,
                   "simple_regret": s.simple_regret, "regret": s.regret, "chosen": i == best}
                  for i, s in enumerate(scores)]
    share = report.epsilon_share(result)  # epsilon per run: the share, and no one number
    level = {"epsilon": float(eps)} if np.ndim(eps) == 0 else {}
    record = {"problem": problem, "agent": entry.spec, "grid": entry.grid,
              **level, **({} if share is None else {"epsilon_share": share}),
              "delta": delta, "runs": entry.runs,
              "samples": int(entry.job.total_samples), "chosen": entry.candidates[best],
              "at_edge": [p for p, _, _ in at_edge], "candidates": candidates}
    return record, lines


def _record(plan_: Plan, results: dict[str, Result]) -> tuple[dict[str, Any], list[str]]:
    """The [tuning] record of complete results, and the edge warnings."""
    o = plan_.options
    agents, lines = [], []
    for e in plan_.entries:
        rec, warn = _entry_record(plan_, e, results[e.job.problem])
        agents.append(rec)
        lines += warn
    return {"objective": o.objective, "runs": o.runs, "budget": o.budget,
            "branch": TUNING_BRANCH, "agents": agents}, lines


def _check_out(out: Path, resume: bool) -> None:
    """A new tuning needs a folder without one; --resume one with it."""
    config = out / TUNING_FOLDER / "config.toml"
    if resume and not config.exists():
        raise InputError(f"{out}: holds no tuning to resume (no {TUNING_FOLDER}/config.toml)")
    if not resume and (config.exists() or (out / TUNED_FILE).exists()):
        raise InputError(f"{out}: already holds a tuning; choose another --out, or finish it "
                         f"with: celab tune FILE --out {out} --resume")


def tuned_tables(plan_: Plan, record: dict[str, Any]) -> list[dict[str, Any]]:
    """The problems' tables with each tuned agent replaced by its chosen candidate (and the
    plan's delta, when given), on the evaluation seeds (no ``branch``)."""
    tables = [{**{k: v for k, v in t.items() if k != "branch"}, "agents": list(t["agents"])}
              for t in plan_.parsed["problems"]]
    for e, rec in zip(plan_.entries, record["agents"]):
        tables[e.problem]["agents"][e.agent] = rec["chosen"]
    if plan_.delta is not None:
        tables = [dict(t, delta=plan_.delta) for t in tables]
    return tables


def record_text(record: dict[str, Any]) -> str:
    """The [tuning] record as TOML tables (``[[tuning.agents]]``, each with its
    ``[[tuning.agents.candidates]]``); values that are None are left out."""
    def keys(d: dict[str, Any], skip: str = "") -> list[str]:
        return [files._wrap(k, files._value(v)) for k, v in d.items()
                if v is not None and k != skip]

    lines = ["", "# The tuning that chose the agents' parameters (celab tune): every candidate's",
             "# numbers on the tuning seeds, SeedSequence(seed, spawn_key=(branch, r)).",
             "[tuning]", *keys(record, "agents")]
    for agent in record["agents"]:
        lines += ["", "[[tuning.agents]]", *keys(agent, "candidates")]
        for c in agent["candidates"]:
            lines += ["", "[[tuning.agents.candidates]]", *keys(c)]
    return "\n".join(lines) + "\n"


def _write_tuned(plan_: Plan, record: dict[str, Any], out: Path) -> Path:
    """DIR/tuned.toml: the tuned experiment (complete, like a config.toml; models that are not
    built-in environments copied into DIR/models) and the [tuning] record."""
    parsed = plan_.parsed
    jobs = [files.job_at(parsed, i, table) for i, table in enumerate(tuned_tables(plan_, record))]
    for job in jobs:
        job.attach_files(out)
    text = session.config_text([job.config for job in jobs], parsed["title"], parsed["seed"],
                               parsed.get("study"))
    path = paths.inside(out, TUNED_FILE)
    write_atomic(path, text + record_text(record))
    return path


def run(plan_: Plan, out: str | Path, resume: bool = False,
        progress_for: Callable[[Job], Progress | None] | None = None,
        executor: Any = None) -> Tuned:
    """Run the plan's candidates into ``out/tuning`` and, once all are complete, choose each
    tuned agent's candidate and write ``out/tuned.toml``.

    Interrupted (SIGINT, SIGTERM), the completed batches stay saved and ``record`` is None;
    ``resume=True`` finishes them (with the numbers of an uninterrupted tuning). ``executor``
    runs the batches (tracking.executors; None: this process).
    """
    out = Path(out)
    _check_out(out, resume)
    parsed = plan_.parsed
    with session.Folder(paths.inside(out, TUNING_FOLDER), resume=resume) as folder:
        outcome = session.run_experiment(plan_.jobs, folder, parsed["title"], parsed["seed"],
                                         resume, progress_for, plots=False, executor=executor)
        if outcome.summary is None:
            return Tuned(outcome)
        record, lines = _record(plan_, {r.problem: r for r in outcome.results})
        tuned = _write_tuned(plan_, record, out)
    return Tuned(outcome, record, tuned, lines)


def started(out: str | Path) -> tuple[bool, bool]:
    """Which phases of a tune-then-evaluate folder (a study's, ``celab compare``'s) have
    begun: (the evaluation: ``out/config.toml``, the tuning: ``out/tuning/config.toml``)."""
    out = Path(out)
    return (out / "config.toml").exists(), (out / TUNING_FOLDER / "config.toml").exists()


def tuning_phase(plan_: Plan, out: str | Path, resume: bool = False,
                 progress_for: Callable[[Job], Progress | None] | None = None,
                 executor: Any = None
                 ) -> tuple[session.Outcome, dict[str, Any], dict[str, Any] | None]:
    """The tuning phase of a tune-then-evaluate run: :func:`run` into ``out/tuning`` and
    ``out/tuned.toml``, then the experiment with its tuned agents on the evaluation seeds.

    Returns the tuning's outcome, the parsed experiment to evaluate (the plan's with the
    problems of :func:`tuned_tables`) and the tuning: ``record``, ``results`` on the tuning
    seeds by job name (:func:`job_name`) and ``warnings`` (the edge warnings); the tuning is
    None, and the experiment the plan's own, when the tuning was interrupted.
    """
    tuned = run(plan_, out, resume, progress_for, executor)
    if tuned.record is None:
        return tuned.outcome, plan_.parsed, None
    evaluation = dict(plan_.parsed, problems=tuned_tables(plan_, tuned.record))
    results = {r.problem: r for r in tuned.outcome.results}
    return tuned.outcome, evaluation, {"record": tuned.record, "results": results,
                                       "warnings": tuned.warnings}


# --- the table ---------------------------------------------------------------------------------

def _objective_text(c: dict[str, Any], objective: str) -> str:
    if objective == "regret":
        half = (c["high"] - c["objective"]) if c["high"] is not None else None
        return report._pm(c["objective"], half) if half is not None else \
            report._num(c["objective"], 4)
    shown = {"estimate": c["objective"], "low": c["low"], "high": c["high"]}
    text = report.samples_text({**shown, "censored": True}) if c["censored"] \
        else report._iv(shown)
    return f"{text} ({100 * c['reached']:.0f}%)"


def _point_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={specs._fmt(v)}" for k, v in params.items())


def table(record: dict[str, Any]) -> Table:
    """The candidates of every tuned agent: problem, agent (with its runs per candidate and its
    tuning samples), candidate, objective, final simple and cumulative regret, chosen mark."""
    from rich.markup import escape
    from rich.table import Table

    objective = record["objective"]
    if objective == "samples":
        what = ("Objective: samples to epsilon of the greedy readout, n(epsilon, delta) [95% "
                "interval] (share of runs that settled); '> x': censored, fewer runs settled "
                "within the budget x. Ranked: measured values first, smallest first; then the "
                "censored, by the share of runs that settled, then by the final simple regret.")
    else:
        what = ("Objective: final cumulative regret, mean ± half-width of its 95% interval; "
                "ranked smallest first.")
    table_ = Table(
        title=f"Tuning on held-out seeds ({record['runs']} runs per candidate"
              + (", equal budgets per problem)" if record["budget"] == "equal" else ")"),
        caption=f"{what} Ties go to the first in grid order. Under each agent: its runs per "
                "candidate and its tuning samples (candidates x runs x the problem's budget), "
                "on seeds that are never evaluation seeds.",
    )
    table_.add_column("problem", style="bold")
    table_.add_column("agent", overflow="fold")
    table_.add_column("candidate", no_wrap=True)
    table_.add_column("objective", justify="right", no_wrap=True)
    table_.add_column("simple regret", justify="right")
    table_.add_column("regret", justify="right")
    table_.add_column("chosen", justify="center")
    for agent in record["agents"]:
        budget = f"[dim]{agent['runs']} runs each, {agent['samples']:,} samples[/dim]"
        rows, spec = agent["candidates"], escape(agent["agent"])
        cells = [spec, budget] if len(rows) > 1 else [f"{spec}\n{budget}"]
        for j, c in enumerate(rows):
            table_.add_row(agent["problem"] if j == 0 else "", cells[j] if j < len(cells) else "",
                           escape(_point_text(c["params"])), _objective_text(c, objective),
                           report._num(c["simple_regret"]), report._num(c["regret"], 4),
                           "✓" if c["chosen"] else "")
        table_.add_section()
    return table_

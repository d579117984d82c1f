"""Experiment files: TOML describing problems, agents and budgets (docs/experiments.md).

```toml
seed = 0

[[problem]]
setting = "bandit"
env = "close10"
horizon = 10000
runs = 100
agents = ["greedy", "ucb", { name = "reinforce", alpha = 0.4 }]
```

:func:`parse` checks every key and type and returns normalised problem tables (every default
filled in, agents as complete specification strings); an error names the file, the line, the
key and the rule, for instance ``exp.toml:7: runs must be an integer >= 1, got 'ten'``.
The keys of a problem, their defaults and rules, and the job that runs it come from its
setting, as its lab registered it (:mod:`tracking.settings`); :func:`build_jobs` asks each
problem's job class for its job (``from_table``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracking import paths, settings, tomlio
from tracking.executors import ExecutorSpec, spec_from_table
from tracking.settings import TableError
from tracking.validate import InputError, existing_file

from . import until

if TYPE_CHECKING:
    from tracking.runner import Job

#: ``tune`` is read by ``celab tune`` (experiments/tune.py), ``tuning`` is its record in a
#: tuned file: the other commands accept and ignore both.
TOP_KEYS = {"seed", "title", "problem", "versions", "study", "tune", "tuning", "executor"}
#: The keys of every problem; each setting adds its own (tracking.settings.Setting).
COMMON_KEYS = {"name", "setting", "runs", "checkpoints", "agents", "epsilon", "seed",
               *until.RULE_KEYS}
#: Keys that celab writes in the problems it records and reads back, which experiment files
#: leave out (not listed in messages): ``branch``, celab tune's tuning runs.
WRITTEN_KEYS = {"branch"}


class FileError(InputError):
    """A problem in an experiment file; the message starts with ``file:line:``."""


_KEY = re.compile(r'^\s*("(?:[^"\\]|\\.)*"|[A-Za-z0-9_-]+)\s*=')
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?")


def locate(text: str) -> dict[tuple, int]:
    """Line numbers (1-based) of keys: ``(table, key) -> line``.

    The root table is ``()``, the i-th ``[[problem]]`` is ``("problem", i)`` (i from 0) and any
    other table ``(name,)``. Keys inside inline tables are not listed: their key's line serves.
    """
    lines: dict[tuple, int] = {}
    table: tuple = ()
    counts: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            name = header.group(2)
            if header.group(1) == "[[":
                counts[name] = counts.get(name, -1) + 1
                table = (name, counts[name])
            else:
                table = (name,)
            lines.setdefault((table, None), number)
            continue
        key = _KEY.match(line)
        if key:
            lines.setdefault((table, key.group(1).strip('"')), number)
    return lines


class _Checker:
    """Raises FileError with the file name and the line of the offending key."""

    def __init__(self, path: str, lines: dict[tuple, int]) -> None:
        self.path = path
        self.lines = lines

    def fail(self, table: tuple, key: str | None, message: str) -> None:
        line = self.lines.get((table, key)) or self.lines.get((table, None))
        where = f"{self.path}:{line}" if line else self.path
        raise FileError(f"{where}: {message}")

    @contextmanager
    def at(self, table: tuple) -> Iterator[None]:
        """Key errors raised inside (TableError) as FileErrors at the key's line in ``table``."""
        try:
            yield
        except TableError as e:
            self.fail(table, e.key, str(e))


def _agent_spec(item: Any) -> str:
    """An agent entry (a spec string or an inline table with ``name``) as a spec string."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        if "name" not in item or not isinstance(item["name"], str):
            settings.fail("agents", "an agent table needs a string 'name'")
        params = []
        for k, v in item.items():
            if k == "name":
                continue
            if isinstance(v, bool):
                v = "true" if v else "false"
            elif not isinstance(v, (int, float, str)):
                settings.fail("agents", f"agent parameter {k} must be a number or a string")
            params.append(f"{k}={v}")
        return item["name"] + (":" + ",".join(params) if params else "")
    settings.fail("agents", f"agents must be names or tables, got {item!r}")


def _setting(data: dict[str, Any]) -> settings.Setting:
    """The problem's registered setting."""
    known = settings.names()
    name = settings.string(data, "setting", choices=known)
    if name is None:
        listed = ", ".join(known[:-1]) + f" or {known[-1]}" if len(known) > 1 else known[0]
        settings.fail(None, f"missing key 'setting' ({listed})")
    return settings.get(name)


def _problem(data: dict[str, Any], seed: int, base: Path) -> dict[str, Any]:
    """A problem table normalised: its setting's keys with their defaults, the agents as
    complete specification strings, the environment's source keys, the name."""
    setting = _setting(data)
    allowed = COMMON_KEYS | {k.name for k in setting.keys} | set(setting.source_keys)
    for key in data:
        if key not in allowed | WRITTEN_KEYS:
            settings.fail(key, f"unknown key '{key}' in a {setting.name} problem "
                               f"(allowed: {', '.join(sorted(allowed))})")
    out: dict[str, Any] = {"setting": setting.name, "seed": settings.integer(
        data, "seed", settings.SEED.minimum, default=seed)}
    if "branch" in data:  # tuning runs (celab tune writes it in its tuning/config.toml)
        from tracking.rng import check_branch

        out["branch"] = settings.integer(data, "branch")
        try:
            check_branch(out["branch"])
        except ValueError as e:
            settings.fail("branch", str(e))
    for key in setting.budget_keys:
        out[key.name] = key.read(data)
    out.update(_budget_rule(data, setting.length, out[setting.length]))
    out["runs"] = settings.RUNS.read(data)
    for key in (*setting.option_keys, *setting.measure_keys):
        out[key.name] = key.read(data)
    _epsilon_rule(data, out)
    if "checkpoints" in data:
        cps = data["checkpoints"]
        if not isinstance(cps, list) or not all(
                isinstance(c, int) and not isinstance(c, bool) for c in cps):
            settings.fail("checkpoints", "checkpoints must be a list of integers")
        out["checkpoints"] = cps
    agents = data.get("agents")
    if agents is None:
        settings.fail(None, "missing key 'agents'")
    if isinstance(agents, str):
        agents = [agents]
    if not isinstance(agents, list) or not agents:
        settings.fail("agents", "agents must be a non-empty list")
    out["agents"] = [_agent_spec(a) for a in agents]
    source, default_name = setting.source(data, base)
    out.update(source)
    out["name"] = settings.string(data, "name", default=default_name)
    if "name" in data and not paths.valid_name(out["name"]):
        settings.fail("name", f"name must be {paths.NAME_RULE} (it names files), "
                              f"got {out['name']!r}")
    return out


def _epsilon_rule(data: dict[str, Any], out: dict[str, Any]) -> None:
    """Keep one rule of samples to epsilon in ``out``: ``epsilon`` (given or its default), or
    ``epsilon_share`` when given (both given: TableError)."""
    if out.get("epsilon_share") is None:
        out.pop("epsilon_share", None)
        return
    if "epsilon" in data:
        settings.fail("epsilon_share", "give epsilon or epsilon_share, not both (epsilon_share: "
                                       "epsilon is that share of each run's optimal value)")
    del out["epsilon"]


def _budget_rule(data: dict[str, Any], length: str, start: int) -> dict[str, Any]:
    """``budget`` and ``cap`` of a problem table (``{}`` for a fixed budget): ``budget`` is
    ``"until"`` or absent; ``"until"`` needs ``cap``, an integer >= the starting budget
    ``start`` (the value of the budget key ``length``); ``cap`` needs ``"until"``."""
    rule = data.get("budget")
    if rule is None:
        if "stop" in data:
            settings.fail("stop", f'stop applies to budget = "{until.UNTIL}" only')
        if "cap" in data:
            settings.fail("cap", f'cap applies to budget = "{until.UNTIL}" only (the largest '
                                 f"{length} it may try)")
        return {}
    if rule != until.UNTIL:
        settings.fail("budget", f'budget must be "{until.UNTIL}" (double {length} until every '
                                f"agent's samples to epsilon are measured) or absent, got {rule!r}")
    if "cap" not in data:
        settings.fail("budget", f'budget = "{until.UNTIL}" needs a cap: the largest {length} '
                                "it may try")
    cap = data["cap"]
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < start:
        settings.fail("cap", f"cap must be an integer >= the starting {length} ({start}), "
                             f"got {cap!r}")
    stop = settings.string(data, "stop", until.STOPS[0], until.STOPS)
    return {"budget": until.UNTIL, "cap": cap, **({} if stop == until.STOPS[0] else
                                                  {"stop": stop})}


def parse(text: str, path: str = "<experiment>", base: Path | None = None) -> dict[str, Any]:
    """Validate an experiment file's text; return ``{"seed", "title", "problems": [...]}``.

    Relative model files are resolved against ``base`` (the file's folder).
    """
    base = Path(".") if base is None else base
    try:
        data = tomlio.loads(text)
    except tomlio.TOMLDecodeError as e:
        raise FileError(f"{path}: not valid TOML: {e}") from None
    check = _Checker(path, locate(text))
    for key in data:
        if key not in TOP_KEYS:
            check.fail((), key, f"unknown key '{key}' (allowed: {', '.join(sorted(TOP_KEYS))})")
    with check.at(()):
        seed = settings.SEED.read(data)
        title = settings.string(data, "title")
    problems = data.get("problem", [])
    study = data.get("study")
    if study is not None and not isinstance(study, dict):
        check.fail((), "study", "study must be a table")
    executor = _executor(data, check)
    if not isinstance(problems, list) or (not problems and study is None):
        check.fail((), None, "no [[problem]] table: an experiment needs at least one problem")
    tables, grids = [], {}
    for i, p in enumerate(problems):
        if not isinstance(p, dict):
            check.fail(("problem", i), None, "[[problem]] must be a table")
        with check.at(("problem", i)):
            tables.append(_problem({k: v for k, v in p.items() if k != "tune"}, seed, base))
        if "tune" in p:
            grids[tables[-1]["name"]] = p["tune"]
    names = [t["name"].casefold() for t in tables]  # one file each, even where case is lost
    for i, name in enumerate(names):
        first = names.index(name)
        if first != i:
            this, other = tables[i]["name"], tables[first]["name"]
            case = "" if this == other else f" (and {other!r}: names differing only in case)"
            check.fail(("problem", i), "name", f"two problems are named {this!r}{case}; "
                                               "give each a distinct 'name'")
    return {"seed": seed, "title": title, "problems": tables, "study": study or {},
            "versions": data.get("versions"), "tune": data.get("tune"), "problem_tune": grids,
            "executor": executor, "lines": check.lines, "path": path}


def _executor(data: dict[str, Any], check: _Checker) -> ExecutorSpec | None:
    """The ``[executor]`` table (where the batches run, tracking/executors.py), None when
    absent; it is not part of the results' configuration (config.toml does not keep it)."""
    if "executor" not in data:
        return None
    if not isinstance(data["executor"], dict):
        check.fail((), "executor", "executor must be a table: [executor] kind = \"dask\", "
                                   "address = \"tcp://host:8786\"")
    with check.at(("executor",)):
        return spec_from_table(data["executor"])


def read(path: str | Path) -> dict[str, Any]:
    """Read and validate an experiment file (see :func:`parse`)."""
    path = existing_file(path, FileError)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise FileError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FileError(f"{path}: not UTF-8 text") from None
    return parse(text, str(path), path.parent)


def problem_error(spec: dict[str, Any], i: int, key: str | None, error: Exception) -> FileError:
    """A lab's ValueError about problem i, as a FileError pointing at the file and line."""
    lines = spec.get("lines", {})
    line = lines.get((("problem", i), key)) or lines.get((("problem", i), None))
    where = f"{spec.get('path', '<experiment>')}:{line}" if line else spec.get("path", "")
    return FileError(f"{where}: {error}")


def _value(v: Any) -> str:
    """A TOML value for the types experiment files hold."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if v == v and v not in (float("inf"), float("-inf")) else str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }" \
            if v else "{}"
    raise TypeError(f"cannot write {v!r} to TOML")


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def _wrap(key: str, value: str, width: int = 100) -> str:
    """``key = value``, long arrays broken after commas."""
    line = f"{_key(key)} = {value}"
    if len(line) <= width or not value.startswith("["):
        return line
    items = value[1:-1].split(", ")
    out, current = [f"{_key(key)} = ["], "   "
    for item in items:
        if len(current) + len(item) + 2 > width:
            out.append(current.rstrip())
            current = "   "
        current += f" {item},"
    out.append(current.rstrip())
    out.append("]")
    return "\n".join(out)


def dumps(problems: list[dict[str, Any]], versions: dict[str, str], title: str | None = None,
          seed: int = 0, study: dict[str, Any] | None = None) -> str:
    """A complete, rerunnable experiment file for ``problems`` (normalised tables)."""
    lines = ["# celab experiment: the complete configuration; rerun with `celab run <this file>`.",
             "# [versions] records what produced the results: celab warns when they differ.", ""]
    if title:
        lines.append(_wrap("title", _value(title)))
    lines.append(f"seed = {int(seed)}")
    if study:
        lines += ["", "[study]"]
        lines += [_wrap(k, _value(v)) for k, v in study.items() if v is not None]
    for table in problems:
        lines += ["", "[[problem]]"]
        lines += [_wrap(k, _value(v)) for k, v in table.items() if v is not None]
    lines += ["", "[versions]"]
    lines += [_wrap(k, _value(v)) for k, v in versions.items()]
    return "\n".join(lines) + "\n"


def _keys_in_messages() -> list[str]:
    """The problem keys a lab's error message may name, in the order they are looked for:
    agents, the environment's source keys, checkpoints, the budget keys, runs, seed, the other
    keys of the settings, epsilon."""
    registered = [settings.get(name) for name in settings.names()]
    keys = ["agent", "env"]
    keys += [k for s in registered for k in s.source_keys]
    keys += ["checkpoints"] + [k.name for s in registered for k in s.budget_keys]
    keys += ["runs", "seed"] + [k.name for s in registered for k in s.option_keys]
    keys.append("epsilon")
    return list(dict.fromkeys(keys))


def _key_of(message: str) -> str | None:
    """The problem key a lab's error message is about (for the line number)."""
    for key in _keys_in_messages():
        if key in message:
            return "agents" if key == "agent" else key
    return None


def job_of(table: dict[str, Any]) -> Job | until.UntilJob:
    """The job of a normalised problem table: with ``budget = "until"`` an
    :class:`experiments.until.UntilJob`, whose tries are fixed-budget jobs
    (:func:`fixed_job`), else the fixed-budget job itself."""
    if table.get("budget") == until.UNTIL:
        return until.UntilJob(table, fixed_job)
    return fixed_job(table)


def fixed_job(table: dict[str, Any]) -> Job:
    """The job of a fixed-budget problem table, built by the lab (its setting names the job
    class); the table's ``delta`` is recorded in the job's configuration
    (:func:`tracking.runner.job_from_table`)."""
    from tracking.runner import job_from_table

    return job_from_table(settings.get(table["setting"]).job_class(), table)


def job_at(parsed: dict[str, Any], i: int, table: dict[str, Any] | None = None
           ) -> Job | until.UntilJob:
    """The job (:func:`job_of`) of problem i of a parsed experiment file, or of ``table`` made
    from it; a lab's ValueError becomes a FileError pointing at the problem's line (a
    TableError's key's line)."""
    try:
        return job_of(parsed["problems"][i] if table is None else table)
    except FileError:
        raise
    except ValueError as e:
        key = e.key if isinstance(e, TableError) else _key_of(str(e))
        raise problem_error(parsed, i, key, e) from None


def build_jobs(parsed: dict[str, Any]) -> list[Job | until.UntilJob]:
    """The jobs of a parsed experiment file (:func:`job_at`)."""
    return [job_at(parsed, i) for i in range(len(parsed["problems"]))]

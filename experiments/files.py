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
The labs build their jobs from the tables (``bandits.loop.BanditJob.from_table``,
``mdp.loop.MDPJob.from_table``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tracking import paths, tomlio
from tracking.defaults import EPSILON
from tracking.validate import existing_file

SETTINGS = ("bandit", "mdp", "continuing")
TOP_KEYS = {"seed", "title", "problem", "versions", "study"}
COMMON_KEYS = {"name", "setting", "env", "horizon", "runs", "checkpoints", "agents", "epsilon",
               "seed"}
SETTING_KEYS = {
    "bandit": {"means", "family", "sigma", "args"},
    "mdp": {"args", "file", "episodes", "rewards"},
    "continuing": {"args", "file", "steps", "rewards"},
}


class FileError(ValueError):
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

    def integer(self, table, data, key, minimum=None, default=None, required=False):
        if key not in data:
            if required:
                self.fail(table, None, f"missing key '{key}'")
            return default
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(table, key, f"{key} must be an integer, got {v!r}")
        if minimum is not None and v < minimum:
            self.fail(table, key, f"{key} must be >= {minimum}, got {v}")
        return v

    def number(self, table, data, key, default=None, positive=False):
        if key not in data:
            return default
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.fail(table, key, f"{key} must be a number, got {v!r}")
        v = float(v)
        if v != v or v in (float("inf"), float("-inf")):
            self.fail(table, key, f"{key} must be finite, got {v}")
        if positive and v <= 0:
            self.fail(table, key, f"{key} must be > 0, got {v}")
        return v

    def string(self, table, data, key, default=None, choices=None):
        if key not in data:
            return default
        v = data[key]
        if not isinstance(v, str):
            self.fail(table, key, f"{key} must be a string, got {v!r}")
        if choices is not None and v not in choices:
            self.fail(table, key, f"{key} must be one of {', '.join(choices)}, got {v!r}")
        return v


def _agent_spec(check: _Checker, table: tuple, item: Any) -> str:
    """An agent entry (a spec string or an inline table with ``name``) as a spec string."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        if "name" not in item or not isinstance(item["name"], str):
            check.fail(table, "agents", "an agent table needs a string 'name'")
        params = []
        for k, v in item.items():
            if k == "name":
                continue
            if isinstance(v, bool):
                v = "true" if v else "false"
            elif not isinstance(v, (int, float, str)):
                check.fail(table, "agents", f"agent parameter {k} must be a number or a string")
            params.append(f"{k}={v}")
        return item["name"] + (":" + ",".join(params) if params else "")
    check.fail(table, "agents", f"agents must be names or tables, got {item!r}")
    return ""  # unreachable


def _problem(check: _Checker, i: int, data: Any, seed: int, base: Path) -> dict[str, Any]:
    table = ("problem", i)
    if not isinstance(data, dict):
        check.fail(table, None, "[[problem]] must be a table")
    setting = check.string(table, data, "setting", choices=SETTINGS)
    if setting is None:
        check.fail(table, None, "missing key 'setting' (bandit, mdp or continuing)")
    allowed = COMMON_KEYS | SETTING_KEYS[setting]
    if setting == "continuing":  # one long run of `steps` steps: no horizon
        allowed = allowed - {"horizon"}
    for key in data:
        if key not in allowed:
            check.fail(table, key, f"unknown key '{key}' in a {setting} problem "
                                   f"(allowed: {', '.join(sorted(allowed))})")
    out: dict[str, Any] = {"setting": setting}
    out["seed"] = check.integer(table, data, "seed", minimum=0, default=seed)
    if setting == "continuing":
        out["steps"] = check.integer(table, data, "steps", minimum=1, required=True)
    else:
        out["horizon"] = check.integer(table, data, "horizon", minimum=1, required=True)
    out["runs"] = check.integer(table, data, "runs", minimum=1, required=True)
    if setting == "mdp":
        out["episodes"] = check.integer(table, data, "episodes", minimum=1, required=True)
    if setting in ("mdp", "continuing"):
        out["rewards"] = check.string(table, data, "rewards", default="mean",
                                      choices=("mean", "bernoulli"))
    out["epsilon"] = check.number(table, data, "epsilon", positive=True,
                                  default=EPSILON[setting])
    if "checkpoints" in data:
        cps = data["checkpoints"]
        if not isinstance(cps, list) or not all(
                isinstance(c, int) and not isinstance(c, bool) for c in cps):
            check.fail(table, "checkpoints", "checkpoints must be a list of integers")
        out["checkpoints"] = cps
    agents = data.get("agents")
    if agents is None:
        check.fail(table, None, "missing key 'agents'")
    if isinstance(agents, str):
        agents = [agents]
    if not isinstance(agents, list) or not agents:
        check.fail(table, "agents", "agents must be a non-empty list")
    out["agents"] = [_agent_spec(check, table, a) for a in agents]
    # environment
    if setting == "bandit":
        if ("env" in data) == ("means" in data):
            check.fail(table, "env", "a bandit problem needs exactly one of 'env' or 'means'")
        if "env" in data:
            out["env"] = check.string(table, data, "env")
            for key in ("family", "sigma"):
                if key in data:
                    check.fail(table, key, f"'{key}' applies to 'means', not to a named env")
            if "args" in data:
                if not isinstance(data["args"], dict):
                    check.fail(table, "args", "args must be a table, e.g. { n_arms = 100 }")
                out["args"] = data["args"]
        else:
            if "args" in data:
                check.fail(table, "args", "args applies to a named env, not to 'means'")
            means = data["means"]
            if not isinstance(means, list) or not all(
                    isinstance(m, (int, float)) and not isinstance(m, bool) for m in means):
                check.fail(table, "means", "means must be a list of numbers")
            out["means"] = [float(m) for m in means]
            out["family"] = check.string(table, data, "family", default="bernoulli",
                                         choices=("bernoulli", "gaussian"))
            if "sigma" in data and out["family"] != "gaussian":
                check.fail(table, "sigma", "sigma applies to gaussian arms only")
            if out["family"] == "gaussian":
                out["sigma"] = check.number(table, data, "sigma", default=1.0, positive=True)
    else:
        if ("env" in data) == ("file" in data):
            check.fail(table, "env", f"a{'n' if setting == 'mdp' else ''} {setting} problem "
                                     "needs exactly one of 'env' or 'file'")
        if "env" in data:
            out["env"] = check.string(table, data, "env")
            args = data.get("args", {})
            if not isinstance(args, dict):
                check.fail(table, "args", "args must be a table, e.g. { n_states = 10 }")
            out["args"] = args
        else:
            if "args" in data:
                check.fail(table, "args", "args applies to a built-in env, not to a file")
            name = check.string(table, data, "file")
            path = Path(name)
            out["file"] = str(path if path.is_absolute() else (base / path).resolve())
    default_name = out.get("env") or Path(out.get("file", "custom")).stem
    out["name"] = check.string(table, data, "name", default=default_name)
    if "name" in data and not paths.valid_name(out["name"]):
        check.fail(table, "name", f"name must be {paths.NAME_RULE} (it names files), "
                                  f"got {out['name']!r}")
    if "file" in data and not paths.valid_name(out["name"]):  # an env's name: by its lab
        check.fail(table, "file", f"the default name {out['name']!r} (the file's stem) is not "
                                  f"a valid name ({paths.NAME_RULE}); give the problem a 'name'")
    return out


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
    seed = check.integer((), data, "seed", minimum=0, default=0)
    title = check.string((), data, "title", default=None)
    problems = data.get("problem", [])
    study = data.get("study")
    if study is not None and not isinstance(study, dict):
        check.fail((), "study", "study must be a table")
    if not isinstance(problems, list) or (not problems and study is None):
        check.fail((), None, "no [[problem]] table: an experiment needs at least one problem")
    tables = [_problem(check, i, p, seed, base) for i, p in enumerate(problems)]
    names = [t["name"].casefold() for t in tables]  # one file each, even where case is lost
    for i, name in enumerate(names):
        first = names.index(name)
        if first != i:
            this, other = tables[i]["name"], tables[first]["name"]
            case = "" if this == other else f" (and {other!r}: names differing only in case)"
            check.fail(("problem", i), "name", f"two problems are named {this!r}{case}; "
                                               "give each a distinct 'name'")
    return {"seed": seed, "title": title, "problems": tables, "study": study or {},
            "versions": data.get("versions"), "lines": check.lines, "path": path}


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


_KEYS_IN_MESSAGES = ("agent", "env", "means", "sigma", "args", "file", "checkpoints", "horizon",
                     "episodes", "steps", "runs", "seed", "rewards", "epsilon")


def _key_of(message: str) -> str | None:
    """The problem key a lab's error message is about (for the line number)."""
    for key in _KEYS_IN_MESSAGES:
        if key in message:
            return "agents" if key == "agent" else key
    return None


def build_jobs(parsed: dict[str, Any]) -> list:
    """The jobs of a parsed experiment file, built by the labs; a lab's ValueError becomes a
    FileError pointing at the problem's line."""
    jobs = []
    for i, table in enumerate(parsed["problems"]):
        try:
            if table["setting"] == "bandit":
                from bandits.loop import BanditJob

                jobs.append(BanditJob.from_table(table))
            elif table["setting"] == "continuing":
                from mdp.continuing import ContinuingJob

                jobs.append(ContinuingJob.from_table(table))
            else:
                from mdp.loop import MDPJob

                jobs.append(MDPJob.from_table(table))
        except FileError:
            raise
        except ValueError as e:
            raise problem_error(parsed, i, _key_of(str(e)), e) from None
    return jobs

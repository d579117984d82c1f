"""The result of an experiment: regret curves plus the complete configuration.

A :class:`Result` is what both labs return. It is saved as an .npz file without pickle
(:func:`save_npz`) and as tidy CSV rows (:func:`curves_csv`); experiments/session.py writes
whole output folders.

Simple regret is read out twice at every checkpoint (:data:`READOUTS`): ``greedy``, the
deterministic policy of what the agent has learned, and ``behaviour``, the policy it would act
with next (docs/algorithms.md defines both for every agent). Earlier celab versions recorded
one ``simple_regret`` (certainty-equivalence agents read greedily, policy-gradient agents by
their softmax); such files load with that array as both readouts, marked
``info["readouts"] == "legacy"`` (:func:`one_readout_as_two`); runs are not added to them
(``tracking.runner.Job.check_resume``).

Every file :func:`save_npz` writes carries the integer :data:`SCHEMA`, the version of its
layout; a file without one is of version 1 (every earlier layout), one of a newer version than
:data:`SCHEMA` is refused (:class:`NewerSchema`). :meth:`Result.to_frame` gives the rows of
curves.csv as a pandas or polars data frame.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from .memory import MemoryLimitError
from .memory import check as check_memory
from .validate import InputError

#: The readouts of simple regret a Result holds, each in the array ``simple_regret_<name>``.
READOUTS = ("greedy", "behaviour")
#: ``info["readouts"]`` of a result whose two readouts are one earlier ``simple_regret``.
LEGACY_READOUTS = "legacy"
#: The name of the one simple-regret array of earlier files.
ONE_READOUT = "simple_regret"
#: The version of the layout of the results files this code writes, and the newest it reads:
#: 2 added the ``schema`` array itself; files without it are of version 1.
SCHEMA = 2
#: The version of a results file without a ``schema`` array.
UNVERSIONED_SCHEMA = 1


def readout_key(name: str) -> str:
    """The array name of readout ``name`` (``"greedy"`` -> ``"simple_regret_greedy"``);
    ValueError naming the readouts for any other name."""
    if name not in READOUTS:
        raise InputError(f"readout must be one of {', '.join(READOUTS)}, got {name!r}")
    return f"{ONE_READOUT}_{name}"


#: The arrays of the two readouts, in the order of :data:`READOUTS`.
READOUT_KEYS = tuple(readout_key(name) for name in READOUTS)


def one_readout_as_two(arrays: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], bool]:
    """``arrays`` with one ``simple_regret`` replaced by both readouts (the second a copy),
    and whether it held one; other arrays unchanged. Arrays that hold a readout already are
    returned as they are (a mix of both forms is the caller's to refuse)."""
    if ONE_READOUT not in arrays or any(k in arrays for k in READOUT_KEYS):
        return arrays, False
    out = dict(arrays)
    one = out.pop(ONE_READOUT)
    out[READOUT_KEYS[0]], out[READOUT_KEYS[1]] = one, one.copy()
    return out, True


@dataclass(frozen=True)
class Result:
    """Regret curves of several agents on one problem, recorded at checkpoints.

    Attributes
    ----------
    problem : str
        Name of the environment.
    setting : str
        The name of its setting (:mod:`tracking.settings`): ``"bandit"``, ``"mdp"``,
        ``"continuing"``.
    agents : tuple of str
        Agent labels, in the order of the first axis of the arrays.
    checkpoints : int64[C]
        The checkpoint grid: the rounds (bandits), episodes (episodic MDPs) or steps
        (continuing MDPs) after which the curves are recorded, increasing.
    regret : float64[A, R, C]
        Cumulative pseudo-regret of each agent in each run at each checkpoint.
    simple_regret_greedy, simple_regret_behaviour : float64[A, R, C]
        Optimal value minus the value of the agent's greedy policy (what it has learned) and
        of its behaviour policy (what it would act with next) at the checkpoint: the two
        readouts (:meth:`readout`). Both hold one earlier ``simple_regret`` when
        ``info["readouts"] == "legacy"`` (module docstring).
    config : dict
        Everything needed to rerun the experiment (TOML-serialisable).
    samples_per_step : int
        Environment samples per checkpoint unit: 1 for bandits (pulls), H for episodic MDPs.
    extra : dict of str to ndarray
        Other per-run arrays (agents on axis 0, runs on axis 1), e.g. ``pulls`` (A, R, K).
    info : dict
        JSON-able facts about the problem, e.g. ``v_star``, ``lai_robbins``, ``means``.
    """

    problem: str
    setting: str
    agents: tuple[str, ...]
    checkpoints: np.ndarray
    regret: np.ndarray
    simple_regret_greedy: np.ndarray
    simple_regret_behaviour: np.ndarray
    config: dict[str, Any]
    samples_per_step: int = 1
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def readout(self, name: str) -> np.ndarray:
        """The simple regret (A, R, C) of readout ``name``, ``"greedy"`` or ``"behaviour"``."""
        return getattr(self, readout_key(name))

    @property
    def simple_regret(self) -> np.ndarray:
        """The greedy readout (``readout("greedy")``), the one the summaries' top level and
        the plots read unless another is chosen (experiments.report.summarize)."""
        return self.simple_regret_greedy

    @property
    def runs(self) -> int:
        """Runs completed (fewer than asked when the experiment was interrupted)."""
        return int(self.regret.shape[1])

    @property
    def runs_requested(self) -> int:
        """Runs the configuration asks for (``config["runs"]``)."""
        return int(self.config["runs"])

    @property
    def complete(self) -> bool:
        """Whether every requested run is in (``runs >= runs_requested``)."""
        return self.runs >= self.runs_requested

    @property
    def samples(self) -> np.ndarray:
        """Checkpoints in environment samples (pulls or steps)."""
        return self.checkpoints * self.samples_per_step

    def agent_index(self, label: str) -> int:
        """The index along the agents axis of the agent labelled ``label`` (ValueError if none)."""
        return self.agents.index(label)

    def to_frame(self, backend: str = "pandas") -> Any:
        """The rows of curves.csv for this result as a data frame: one per (agent, run,
        checkpoint), in the file's order, with its columns (:data:`CURVES_COLUMNS`).

        ``problem`` and ``agent`` are categorical (the agents in their order), ``run``,
        ``step`` and ``samples`` int64, ``regret`` and the two readouts float64, the very
        numbers of the arrays.

        Parameters
        ----------
        backend : {"pandas", "polars"}
            The library of the frame: ``pandas.DataFrame`` (the ``frames`` extra) or
            ``polars.DataFrame`` (the ``polars`` extra); ImportError naming the extra when it
            is not installed.
        """
        from .frames import frame

        return frame(*curves_columns(self), backend=backend)

    def final_figures(self) -> list[dict[str, Any]]:
        """Per agent, the figures at the last checkpoint: ``agent``, ``regret_mean`` and
        ``regret_ci95`` (the mean over runs of the final cumulative regret and the half-width
        of its 95% Student-t interval, as in summary.json) and the mean simple regret of each
        readout, ``simple_regret_greedy_mean`` and ``simple_regret_behaviour_mean`` (NaN
        without runs)."""
        from .stats import mean_ci

        if self.runs == 0:
            nan = np.full(len(self.agents), np.nan)
            mean, half, readouts = nan, nan, {k: nan for k in READOUT_KEYS}
        else:
            mean, half = mean_ci(self.regret[:, :, -1])
            readouts = {k: getattr(self, k)[:, :, -1].mean(axis=1) for k in READOUT_KEYS}
        return [{"agent": agent, "regret_mean": float(mean[i]), "regret_ci95": float(half[i]),
                 **{f"{k}_mean": float(v[i]) for k, v in readouts.items()}}
                for i, agent in enumerate(self.agents)]

    def _caption(self) -> str:
        runs = f"{self.runs}" if self.complete else f"{self.runs} of {self.runs_requested}"
        budget = int(self.samples[-1]) if self.samples.size else 0
        return f"{self.problem} ({self.setting}): {runs} runs, {budget} samples per run"

    def _repr_html_(self) -> str:
        """A small HTML table for notebooks: one row per agent with its final figures
        (:meth:`final_figures`)."""
        from html import escape

        head = "".join(f"<th>{escape(h)}</th>" for h in DISPLAY_HEADERS)
        rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"
                       for cells in self._display_rows())
        return (f"<table><caption>{escape(self._caption())}</caption><thead><tr>{head}</tr>"
                f"</thead><tbody>{rows}</tbody></table>")

    def __rich__(self) -> Any:
        """A rich Table of the same rows as :meth:`_repr_html_`."""
        from rich.table import Table

        table = Table(*DISPLAY_HEADERS, title=self._caption())
        for cells in self._display_rows():
            table.add_row(*cells)
        return table

    def _display_rows(self) -> list[tuple[str, ...]]:
        return [(f["agent"], f"{f['regret_mean']:.4g} ± {f['regret_ci95']:.2g}",
                 *(f"{f[f'{k}_mean']:.4g}" for k in READOUT_KEYS))
                for f in self.final_figures()]

    def __repr__(self) -> str:
        """One line: problem, setting, agents, runs, checkpoints, array shapes, main settings.

        The arrays themselves are not printed (a default dataclass repr would print them all).
        """
        agents = ", ".join(self.agents[:REPR_AGENTS])
        if len(self.agents) > REPR_AGENTS:
            agents += f", ... ({len(self.agents)} agents)"
        runs = f"{self.runs}" if self.complete else f"{self.runs} of {self.config.get('runs')}"
        extra = "".join(f", extra_{k}={_shape(v)}" for k, v in self.extra.items())
        settings = ", ".join(f"{k}={self.config[k]!r}" for k in REPR_CONFIG if k in self.config)
        c = self.checkpoints
        grid = f"{c.size} checkpoints ({c[0]}..{c[-1]})" if c.size else "0 checkpoints"
        return (f"Result(problem={self.problem!r}, setting={self.setting!r}, agents=[{agents}], "
                f"runs={runs}, {grid}, regret={_shape(self.regret)}, "
                f"simple_regret_greedy={_shape(self.simple_regret_greedy)}, "
                f"simple_regret_behaviour={_shape(self.simple_regret_behaviour)}{extra}, "
                f"config={{{settings}; {len(self.config)} keys}})")


#: Agents named by a Result's repr before "..."; config keys it shows.
REPR_AGENTS = 6
REPR_CONFIG = ("env", "seed", "horizon", "episodes", "steps", "epsilon", "rewards")
#: The columns of a Result's HTML and rich tables.
DISPLAY_HEADERS = ("agent", "final regret (95% CI)", "simple regret, greedy",
                   "simple regret, behaviour")


def _shape(a: Any) -> str:
    shape = getattr(a, "shape", None)
    return str(tuple(shape)) if shape is not None else type(a).__name__


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class NoSpaceError(OSError):
    """The disk (or the quota) filled up while ``path`` was being saved; the file it was to
    replace is intact. ``strerror`` is the whole message."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(errno.ENOSPC, message)
        self.path = path


@contextmanager
def atomic_file(path: str | Path, binary: bool = False) -> Iterator[IO]:
    """A file object whose content replaces ``path`` only when the block ends without error.

    The data goes to a temporary file in the same folder, flushed to disk, then renamed over
    ``path``: readers see the old file or the complete new one, never half a file. On any
    error the temporary file is removed; a full disk raises :class:`NoSpaceError`.
    """
    path = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})
                       ) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise NoSpaceError(path, f"no space left on device while saving {path}; the "
                                     "previous file is intact") from None
        raise


def write_atomic(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (never half-written)."""
    with atomic_file(path, binary=isinstance(data, bytes)) as f:
        f.write(data)


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def save_npz(result: Result, path: str | Path) -> Path:
    """Write ``result`` as one .npz readable without celab and without pickle.

    Arrays: schema (:data:`SCHEMA`), checkpoints, regret, simple_regret_greedy,
    simple_regret_behaviour, agents (strings), samples_per_step, extra_<key>; and two JSON
    strings: ``config`` (the problem's table) and ``info``.
    """
    arrays = {
        "schema": np.array(SCHEMA, dtype=np.int64),
        "checkpoints": result.checkpoints,
        "regret": result.regret,
        "simple_regret_greedy": result.simple_regret_greedy,
        "simple_regret_behaviour": result.simple_regret_behaviour,
        "agents": np.array(result.agents, dtype=np.str_),
        "samples_per_step": np.array(result.samples_per_step),
        "problem": np.array(result.problem),
        "setting": np.array(result.setting),
        "config": np.array(json.dumps(result.config)),
        "info": np.array(json.dumps(result.info)),
    }
    for key, value in result.extra.items():
        arrays[f"extra_{key}"] = value
    path = Path(path)
    write_atomic(path, _npz_bytes(arrays))
    return path


class DamagedFile(InputError):
    """A file celab wrote that cannot be read back as it was written (cut short by a crash,
    overwritten, edited): the message names the file and what is wrong."""


class NewerSchema(InputError):
    """A results file of a newer layout than this celab reads (its ``schema`` is greater than
    :data:`SCHEMA`): not damaged, so never computed again over; the message names the file."""


def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of an .npz archive, read without pickle.

    Raises ValueError, ``holds object arrays, which would need unpickling (refused)`` or
    ``not a valid .npz file (...)``, for anything else than a complete zip archive of ``.npy``
    arrays with plain dtypes: a missing, cut or overwritten file (zip and CRC errors), a member
    that is not an array, two members with one name. What the archive declares it holds is
    checked against the memory guard before it is read.
    """
    import zipfile

    from numpy.lib import format as npy

    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            check_memory(sum(m.file_size for m in members), f"reading {path}")
            for member in members:
                key = member.filename.removesuffix(".npy")
                if key == member.filename or key in arrays:
                    raise InputError(f"member {member.filename!r} is not an array of its own")
                with archive.open(member) as f:
                    arrays[key] = npy.read_array(f, allow_pickle=False)
    except MemoryLimitError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InputError("holds object arrays, which would need unpickling (refused)") from None
        raise InputError(f"not a valid .npz file ({exc})") from None
    except Exception as exc:  # zipfile, zlib, OS and format errors of a damaged archive
        raise InputError(f"not a valid .npz file ({type(exc).__name__}: {exc})") from None
    return arrays


_NPZ_KEYS = {"checkpoints", "regret", *READOUT_KEYS, "agents", "samples_per_step", "problem",
             "setting", "config", "info"}
#: The settings a result may hold (each lab's registered ones; a result file is read without
#: importing the labs, so the names are listed here).
SETTINGS = ("bandit", "linear-bandit", "mdp", "continuing", "reasoning")


def _text(arrays: dict[str, np.ndarray], key: str) -> str:
    a = arrays[key]
    if a.dtype.kind != "U" or a.ndim != 0:
        raise InputError(f"{key} must be a 0-d string, got dtype {a.dtype} and shape {a.shape}")
    return str(a)


def _json_table(arrays: dict[str, np.ndarray], key: str) -> dict[str, Any]:
    try:
        value = json.loads(_text(arrays, key))
    except json.JSONDecodeError as exc:
        raise InputError(f"{key} is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise InputError(f"{key} must be a JSON object")
    return value


def schema_of(arrays: dict[str, np.ndarray]) -> int:
    """The layout version of a results file's arrays: its ``schema``, a positive 0-d integer
    (ValueError otherwise), :data:`UNVERSIONED_SCHEMA` without one; :class:`NewerSchema` when
    it is newer than :data:`SCHEMA`."""
    if "schema" not in arrays:
        return UNVERSIONED_SCHEMA
    a = arrays["schema"]
    if a.dtype.kind not in "iu" or a.ndim != 0 or a < 1:
        raise InputError(f"schema must be a positive integer, got dtype {a.dtype} and shape "
                         f"{a.shape}")
    if a > SCHEMA:
        raise NewerSchema(f"written by a newer celab: schema {int(a)}, this celab reads up to "
                          f"{SCHEMA}; upgrade celab to read it")
    return int(a)


def _result_of(arrays: dict[str, np.ndarray]) -> Result:
    """The Result the arrays of :func:`save_npz` describe; ValueError when they are not one:
    the schema (:func:`schema_of`; :class:`NewerSchema` first, whatever else the file holds),
    keys, dtypes, shapes (agents x runs x checkpoints), finiteness and their agreement with the
    saved configuration are all checked. The one ``simple_regret`` of an earlier version's
    file loads as both readouts, marked ``info["readouts"] = "legacy"``."""
    from .paths import valid_name

    schema_of(arrays)
    arrays = {k: v for k, v in arrays.items() if k != "schema"}
    arrays, legacy = one_readout_as_two(arrays)
    if "steps" in arrays and "checkpoints" not in arrays:  # the grid's name before 0.2
        arrays = {("checkpoints" if k == "steps" else k): v for k, v in arrays.items()}
    missing = sorted(_NPZ_KEYS - set(arrays))
    unknown = sorted(k for k in set(arrays) - _NPZ_KEYS if not k.startswith("extra_"))
    if missing or unknown:
        raise InputError(f"missing array {missing[0]!r}" if missing
                         else f"unknown array {unknown[0]!r}")
    problem, setting = _text(arrays, "problem"), _text(arrays, "setting")
    if not valid_name(problem) or setting not in SETTINGS:
        raise InputError(f"problem {problem!r} or setting {setting!r} is not valid")
    agents, steps, per = arrays["agents"], arrays["checkpoints"], arrays["samples_per_step"]
    if agents.dtype.kind != "U" or agents.ndim != 1 or agents.size == 0:
        raise InputError("agents must be a 1-D array of strings")
    if steps.dtype.kind not in "iu" or steps.ndim != 1 or steps.size == 0 or steps[0] < 1 \
            or np.any(np.diff(steps) <= 0):
        raise InputError("checkpoints must be increasing positive integers")
    if per.dtype.kind not in "iu" or per.ndim != 0 or per < 1:
        raise InputError("samples_per_step must be a positive integer")
    runs = _check_curves(arrays, agents.size, steps.size)
    extra = {k[len("extra_"):]: v for k, v in arrays.items() if k.startswith("extra_")}
    for key, a in extra.items():
        if a.dtype.kind not in "iuf" or a.ndim < 2 or a.shape[:2] != (agents.size, runs):
            raise InputError(f"extra_{key} must be numbers over (agents, runs) = "
                             f"{(agents.size, runs)}, got dtype {a.dtype} and shape {a.shape}")
    config = _json_table(arrays, "config")
    _check_config(config, problem, setting, agents.size, steps, runs)
    info = _json_table(arrays, "info")
    if legacy:
        info["readouts"] = LEGACY_READOUTS
    return Result(problem=problem, setting=setting, agents=tuple(str(a) for a in agents),
                  checkpoints=steps.astype(np.int64), regret=arrays["regret"],
                  simple_regret_greedy=arrays[READOUT_KEYS[0]],
                  simple_regret_behaviour=arrays[READOUT_KEYS[1]], config=config,
                  samples_per_step=int(per), extra=extra, info=info)


def _check_curves(arrays: dict[str, np.ndarray], agents: int, checkpoints: int) -> int:
    """The number of runs of finite float64 ``regret`` and readouts (agents, runs,
    checkpoints); ValueError otherwise."""
    runs = arrays["regret"].shape[1] if arrays["regret"].ndim == 3 else -1
    for key in ("regret", *READOUT_KEYS):
        a = arrays[key]
        if a.dtype != np.float64 or a.shape != (agents, runs, checkpoints):
            raise InputError(f"{key} must be float64 (agents, runs, checkpoints) = ({agents}, "
                             f"runs, {checkpoints}), got dtype {a.dtype} and shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise InputError(f"{key} holds NaN or infinite values")
    return runs


def _check_config(config: dict[str, Any], problem: str, setting: str, agents: int,
                  steps: np.ndarray, runs: int) -> None:
    """ValueError unless the saved configuration is that of these arrays."""
    if config.get("name") != problem or config.get("setting") != setting:
        raise InputError("its configuration names another problem or setting")
    specs = config.get("agents")
    if not isinstance(specs, list) or len(specs) != agents \
            or config.get("checkpoints") != steps.tolist():
        raise InputError("its agents or checkpoints differ from its configuration's")
    asked = config.get("runs")
    if isinstance(asked, bool) or not isinstance(asked, int) or not 0 <= runs <= asked:
        raise InputError(f"it holds {runs} runs, but its configuration asks for {asked!r}")


def load_npz(path: str | Path) -> Result:
    """Read a result written by :func:`save_npz` (without pickle), checking all of it.

    Raises
    ------
    NewerSchema
        When a newer celab wrote the file (:func:`schema_of`); the message names the file.
    DamagedFile
        When the file is missing, not a complete archive, or its arrays are not those of a
        result (see :func:`_result_of`); the message names the file and the first problem.
    """
    path = Path(path)
    try:
        return _result_of(read_npz(path))
    except MemoryLimitError:
        raise
    except NewerSchema as e:
        raise NewerSchema(f"{path}: {e}") from None
    except ValueError as e:
        raise DamagedFile(f"{path}: damaged, not the celab result it should be ({e})") from None


#: The columns of curves.csv and of :meth:`Result.to_frame`, in order.
CURVES_COLUMNS = ("problem", "agent", "run", "step", "samples", "regret", *READOUT_KEYS)
CSV_HEADER = ",".join(CURVES_COLUMNS)
#: Bytes per row of the curves' columns (six 8-byte numbers and two codes), for the memory
#: guard of :func:`curves_columns`.
_ROW_BYTES = 8 * 8


def curves_columns(result: Result) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    """The rows of :func:`curves_rows` of ``result`` as columns (:data:`CURVES_COLUMNS`), and
    the names of the categorical ones: ``problem`` and ``agent`` hold int64 codes into their
    lists of names (:func:`tracking.frames.frame`); the numbers are the arrays' own."""
    agents, runs, steps = result.regret.shape
    rows = agents * runs * steps
    check_memory(rows * _ROW_BYTES, f"the curves of {result.problem} as columns")
    names = list(dict.fromkeys(result.agents))
    codes = np.array([names.index(a) for a in result.agents], dtype=np.int64)
    columns = {
        "problem": np.zeros(rows, dtype=np.int64),
        "agent": np.repeat(codes, runs * steps),
        "run": np.tile(np.repeat(np.arange(runs, dtype=np.int64), steps), agents),
        "step": np.tile(result.checkpoints.astype(np.int64), agents * runs),
        "samples": np.tile(result.samples.astype(np.int64), agents * runs),
        **{k: np.asarray(getattr(result, k), dtype=np.float64).reshape(rows)
           for k in ("regret", *READOUT_KEYS)},
    }
    return columns, {"problem": [result.problem], "agent": names}


def curves_rows(results: list[Result]) -> Iterator[str]:
    """Tidy long-format CSV lines (with the header first), one per agent, run and checkpoint."""
    yield CSV_HEADER
    for result in results:
        steps = result.checkpoints.tolist()
        samples = result.samples.tolist()
        for i, agent in enumerate(result.agents):
            prefix = f"{_csv(result.problem)},{_csv(agent)}"
            for r in range(result.runs):
                rows = zip(steps, samples, result.regret[i, r].tolist(),
                           result.simple_regret_greedy[i, r].tolist(),
                           result.simple_regret_behaviour[i, r].tolist())
                yield from (f"{prefix},{r},{s},{n},{g!r},{q!r},{b!r}" for s, n, g, q, b in rows)


def curves_csv(results: list[Result]) -> str:
    """The whole CSV as one string (see :func:`curves_rows`)."""
    return "\n".join(curves_rows(results)) + "\n"


def write_curves(results: list[Result], path: str | Path) -> None:
    """Stream the CSV to ``path`` atomically, without building it in memory."""
    with atomic_file(path) as f:
        for line in curves_rows(results):
            f.write(line)
            f.write("\n")


def _csv(text: str) -> str:
    if any(c in text for c in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text

"""The result of an experiment: regret curves plus the complete configuration.

A :class:`Result` is what both labs return. It is saved as an .npz file without pickle
(:func:`save_npz`) and as tidy CSV rows (:func:`curves_csv`); experiments/session.py writes
whole output folders.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from .validate import existing_file


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
    steps : int64[C]
        Checkpoints: rounds (bandits) or episodes (MDPs).
    regret : float64[A, R, C]
        Cumulative pseudo-regret of each agent in each run at each checkpoint.
    simple_regret : float64[A, R, C]
        Optimal value minus the value of the policy the agent would deploy at the checkpoint.
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
    steps: np.ndarray
    regret: np.ndarray
    simple_regret: np.ndarray
    config: dict[str, Any]
    samples_per_step: int = 1
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def runs(self) -> int:
        """Runs completed (fewer than asked when the experiment was interrupted)."""
        return int(self.regret.shape[1])

    @property
    def runs_requested(self) -> int:
        return int(self.config["runs"])

    @property
    def complete(self) -> bool:
        return self.runs >= self.runs_requested

    @property
    def samples(self) -> np.ndarray:
        """Checkpoints in environment samples (pulls or steps)."""
        return self.steps * self.samples_per_step

    def agent_index(self, label: str) -> int:
        return self.agents.index(label)

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
        grid = (f"{self.steps.size} checkpoints ({self.steps[0]}..{self.steps[-1]})"
                if self.steps.size else "0 checkpoints")
        return (f"Result(problem={self.problem!r}, setting={self.setting!r}, agents=[{agents}], "
                f"runs={runs}, {grid}, regret={_shape(self.regret)}, "
                f"simple_regret={_shape(self.simple_regret)}{extra}, "
                f"config={{{settings}; {len(self.config)} keys}})")


#: Agents named by a Result's repr before "..."; config keys it shows.
REPR_AGENTS = 6
REPR_CONFIG = ("env", "seed", "horizon", "episodes", "steps", "epsilon", "rewards")


def _shape(a: Any) -> str:
    shape = getattr(a, "shape", None)
    return str(tuple(shape)) if shape is not None else type(a).__name__


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(path: str | Path, binary: bool = False) -> Iterator[IO]:
    """A file object whose content replaces ``path`` only when the block ends without error.

    The data goes to a temporary file in the same folder, flushed to disk, then renamed over
    ``path``: readers see the old file or the complete new one, never half a file.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})
                       ) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
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

    Arrays: steps, regret, simple_regret, agents (strings), samples_per_step, extra_<key>;
    and two JSON strings: ``config`` (the problem's table) and ``info``.
    """
    arrays = {
        "steps": result.steps,
        "regret": result.regret,
        "simple_regret": result.simple_regret,
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


def load_npz(path: str | Path) -> Result:
    """Read a result written by :func:`save_npz` (allow_pickle=False)."""
    path = existing_file(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        return Result(
            problem=str(arrays["problem"]),
            setting=str(arrays["setting"]),
            agents=tuple(str(a) for a in arrays["agents"]),
            steps=arrays["steps"].astype(np.int64),
            regret=arrays["regret"].astype(np.float64),
            simple_regret=arrays["simple_regret"].astype(np.float64),
            config=json.loads(str(arrays["config"])),
            samples_per_step=int(arrays["samples_per_step"]),
            extra={k[len("extra_"):]: v for k, v in arrays.items() if k.startswith("extra_")},
            info=json.loads(str(arrays["info"])),
        )
    except (OSError, KeyError, ValueError, TypeError) as e:
        raise ValueError(f"{path}: not a celab result file ({e})") from None


CSV_HEADER = "problem,agent,run,step,samples,regret,simple_regret"


def curves_rows(results: list[Result]) -> Iterator[str]:
    """Tidy long-format CSV lines (with the header first), one per agent, run and checkpoint."""
    yield CSV_HEADER
    for result in results:
        steps = result.steps.tolist()
        samples = result.samples.tolist()
        for i, agent in enumerate(result.agents):
            prefix = f"{_csv(result.problem)},{_csv(agent)}"
            for r in range(result.runs):
                rows = zip(steps, samples, result.regret[i, r].tolist(),
                           result.simple_regret[i, r].tolist())
                yield from (f"{prefix},{r},{s},{n},{g!r},{q!r}" for s, n, g, q in rows)


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

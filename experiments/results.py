"""The result of an experiment: regret curves plus the complete configuration.

A :class:`Result` is what both labs return. Saved to a folder it becomes open files readable
without celab: ``result.npz`` (the arrays; no pickle), ``config.toml`` (the complete,
rerunnable configuration), ``curves.csv`` (tidy: problem, agent, run, step, regret,
simple_regret) and ``summary.json`` (the numbers of the tables).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import tomlio


@dataclass(frozen=True)
class Result:
    """Regret curves of several agents on one problem, recorded at checkpoints.

    Attributes
    ----------
    problem : str
        Name of the environment.
    setting : str
        ``"bandit"`` or ``"mdp"``.
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
    info : dict of str to float
        Scalars of the problem, e.g. ``v_star`` or ``lai_robbins``.
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
    info: dict[str, float] = field(default_factory=dict)

    @property
    def runs(self) -> int:
        """Runs completed (fewer than asked when the experiment was interrupted)."""
        return int(self.regret.shape[1])

    @property
    def runs_requested(self) -> int:
        return int(self.config["experiment"]["runs"])

    @property
    def complete(self) -> bool:
        return self.runs >= self.runs_requested

    @property
    def samples(self) -> np.ndarray:
        """Checkpoints in environment samples (pulls or steps)."""
        return self.steps * self.samples_per_step

    def agent_index(self, label: str) -> int:
        return self.agents.index(label)


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (never half-written)."""
    path = Path(path)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def save_arrays(result: Result, folder: Path) -> Path:
    """Write ``result.npz``: steps, regret, simple_regret, agents and the extra arrays."""
    arrays = {
        "steps": result.steps,
        "regret": result.regret,
        "simple_regret": result.simple_regret,
        "agents": np.array(result.agents, dtype=np.str_),
        "samples_per_step": np.array(result.samples_per_step),
    }
    for key, value in result.extra.items():
        arrays[f"extra_{key}"] = value
    path = Path(folder) / "result.npz"
    write_atomic(path, _npz_bytes(arrays))
    return path


def curves_csv(result: Result) -> str:
    """Tidy long-format CSV: problem, agent, run, step, samples, regret, simple_regret."""
    lines = ["problem,agent,run,step,samples,regret,simple_regret"]
    steps = result.steps
    samples = result.samples
    for i, agent in enumerate(result.agents):
        for r in range(result.runs):
            reg = result.regret[i, r]
            simple = result.simple_regret[i, r]
            prefix = f"{_csv(result.problem)},{_csv(agent)},{r}"
            rows = zip(steps.tolist(), samples.tolist(), reg.tolist(), simple.tolist())
            lines.extend(f"{prefix},{s},{n},{g!r},{q!r}" for s, n, g, q in rows)
    return "\n".join(lines) + "\n"


def _csv(text: str) -> str:
    return f'"{text}"' if ("," in text or '"' in text) else text


def save(result: Result, folder: str | Path, summary: dict | None = None) -> Path:
    """Save a result to ``folder`` (created if needed): npz, config.toml, curves.csv, summary."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_arrays(result, folder)
    write_atomic(folder / "config.toml", tomlio.dumps(_toml_clean(result.config)))
    write_atomic(folder / "curves.csv", curves_csv(result))
    if summary is not None:
        write_atomic(folder / "summary.json", json.dumps(summary, indent=2) + "\n")
    return folder


def _toml_clean(obj: Any) -> Any:
    """Drop None values (TOML has no null) and turn numpy scalars into Python ones."""
    if isinstance(obj, dict):
        return {k: _toml_clean(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, (list, tuple)):
        return [_toml_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return obj


def load(folder: str | Path) -> Result:
    """Read a result saved by :func:`save`."""
    folder = Path(folder)
    with np.load(folder / "result.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    config = tomlio.loads((folder / "config.toml").read_text(encoding="utf-8"))
    extra = {k[len("extra_"):]: v for k, v in arrays.items() if k.startswith("extra_")}
    return Result(
        problem=str(config["experiment"]["problem"]),
        setting=str(config["experiment"]["setting"]),
        agents=tuple(str(a) for a in arrays["agents"]),
        steps=arrays["steps"],
        regret=arrays["regret"],
        simple_regret=arrays["simple_regret"],
        config=config,
        samples_per_step=int(arrays["samples_per_step"]),
        extra=extra,
    )

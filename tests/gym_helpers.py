"""Shared by the tests of mdp/gym.py and bandits/gym.py: the page docs/gymnasium.md and its
table of ids, rebuilt from the registries."""

import inspect
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

PAGE = Path(__file__).resolve().parents[1] / "docs" / "gymnasium.md"


def page() -> str:
    """The text of docs/gymnasium.md."""
    return PAGE.read_text("utf-8")


def table_row(env_id: str, name: str, builder: Callable[..., Any],
              defaults: dict[str, Any], skip: tuple[str, ...] = ()) -> str:
    """The row of the page's id table for ``env_id``: id, celab name, the builder's arguments
    with their defaults (``defaults`` overriding), ``none`` when there are none."""
    params = {k: p.default for k, p in inspect.signature(builder).parameters.items()
              if k not in skip}
    params.update(defaults)
    args = ", ".join(f"`{k}={v!r}`" for k, v in params.items()) or "none"
    return f"| `{env_id}` | `{name}` | {args} |"


def run_python(code: str) -> subprocess.CompletedProcess:
    """``code`` run by a fresh interpreter (an empty Gymnasium registry, nothing imported)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)

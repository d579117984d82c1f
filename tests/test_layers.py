"""The floors of celab import only downwards: tracking <- the labs <- experiments <- cli.

Read from the sources (every import statement, at any depth, lazy ones included), so that a
new module cannot reach up a floor unnoticed."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Each package and the packages of celab it may import.
ALLOWED = {
    "tracking": {"tracking"},
    "bandits": {"tracking", "bandits"},
    "mdp": {"tracking", "mdp"},
    "experiments": {"tracking", "bandits", "mdp", "experiments"},
}
CELAB = {"tracking", "bandits", "mdp", "experiments", "cli"}


def _imported(path: Path) -> set[str]:
    """The top-level celab packages that a module imports."""
    tree = ast.parse(path.read_text("utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    # string import paths (lazy attributes, settings' job classes) count as imports too
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            head = node.value.split(".")[0].split(":")[0]
            if head in CELAB and ":" in node.value and "." in node.value.split(":")[0]:
                names.add(head)
    return names & CELAB


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_floor_imports_only_the_floors_below(package):
    wrong = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        up = _imported(path) - ALLOWED[package]
        if up:
            wrong[str(path.relative_to(ROOT))] = sorted(up)
    assert not wrong, f"imports that point up a floor: {wrong}"


def test_the_check_sees_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from experiments import report\n")
    assert _imported(bad) == {"experiments"}


@pytest.mark.parametrize("package", ["mdp", "bandits"])
def test_a_lab_imports_gymnasium_only_from_its_gym_module(package):
    """Gymnasium is optional: importing a lab (and its lazy attributes) neither imports it nor
    registers the lab's environments; ``<lab>.gym`` does both."""
    code = (f"import sys, {package}\n"
            f"for name in {package}.__all__:\n"
            f"    if name not in ('run', 'run_continuing', 'linear'):  # (the loops: slow)\n"
            f"        getattr({package}, name)\n"
            "assert 'gymnasium' not in sys.modules, 'gymnasium imported'\n"
            "try:\n    import gymnasium\nexcept ImportError:\n    raise SystemExit(0)\n"
            "assert not [i for i in gymnasium.registry if i.startswith('celab/')]\n"
            f"import {package}.gym\n"
            "assert [i for i in gymnasium.registry if i.startswith('celab/')]\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr

"""The documentation site's inputs: the API pages' modules document every public name, and the
site's hooks make the links of README.md and the headings' anchors GitHub's.

``make docs`` builds the site strictly (broken links and anchors, pages outside the
navigation, docstrings it cannot parse); an object without a docstring would silently be left
out of the API reference, which this test refuses.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import mkdocs_hooks

ROOT = Path(__file__).resolve().parents[1]
API = sorted((ROOT / "docs" / "api").glob("*.md"))


def api_modules() -> list[str]:
    """The modules the API pages render (``::: module`` lines)."""
    return [m for page in API for m in re.findall(r"^::: (\S+)$", page.read_text("utf-8"), re.M)]


def public(module) -> list[tuple[str, object]]:
    """The public functions and classes of ``module``: its ``__all__``, else the names it
    defines without a leading underscore."""
    names = getattr(module, "__all__", None) or [
        k for k, v in vars(module).items()
        if not k.startswith("_") and getattr(v, "__module__", None) == module.__name__]
    return [(k, v) for k in names if inspect.isfunction(v := getattr(module, k))
            or inspect.isclass(v)]


def undocumented(module) -> list[str]:
    """Public functions, classes, and their public methods and properties, without a docstring
    (an override inherits its base's, as ``inspect.getdoc`` and mkdocstrings show it)."""
    missing = []
    for name, obj in public(module):
        if not inspect.getdoc(obj):
            missing.append(name)
        if not inspect.isclass(obj):
            continue
        for attr, member in vars(obj).items():
            method = isinstance(member, (property, classmethod, staticmethod)) or (
                inspect.isfunction(member) and member.__name__ == attr)
            if not attr.startswith("_") and method and not inspect.getdoc(getattr(obj, attr)):
                missing.append(f"{name}.{attr}")
    return missing


def test_the_api_pages_name_modules():
    """Every page of docs/api renders a module (a renamed module would not go unnoticed)."""
    assert len(api_modules()) == len(API) > 0


@pytest.mark.nojit
@pytest.mark.parametrize("name", api_modules())
def test_every_public_name_of_an_api_module_has_a_docstring(name):
    """The module, its public functions and classes and their methods have docstrings."""
    if name.endswith(".gym"):
        pytest.importorskip("gymnasium")
    module = importlib.import_module(name)
    assert inspect.getdoc(module), f"{name} has no docstring"
    assert not undocumented(module), f"{name}: no docstring: {', '.join(undocumented(module))}"


class _Base:
    """A base."""

    def f(self):
        """Documented."""


class _Child(_Base):
    """A child: ``f`` inherits its docstring, ``p`` has none."""

    def f(self):
        return 1

    @property
    def p(self):
        return 2


@pytest.mark.nojit
def test_a_public_method_without_a_docstring_is_found():
    """The check sees a property without a docstring, and takes an inherited one."""
    module = type(inspect)("fake")
    module.__all__ = ["_Child"]
    module._Child = _Child
    assert undocumented(module) == ["_Child.p"]


@pytest.mark.nojit
@pytest.mark.parametrize("heading, anchor", [
    ("summary.json and --json", "summaryjson-and---json"),
    ("results/<problem>.npz", "resultsproblemnpz"),
    ("Samples to epsilon: n(epsilon, delta)", "samples-to-epsilon-nepsilon-delta"),
    ("held_out (celab compare)", "held_out-celab-compare"),
])
def test_headings_get_githubs_anchors(heading, anchor):
    """The anchors GitHub gives these headings, which the pages link to."""
    assert mkdocs_hooks.github_slug(heading) == anchor


@pytest.mark.nojit
def test_the_api_pages_show_sphinx_roles_as_code():
    """A role before inline code goes, the code stays; a role elsewhere is text and stays."""
    html = "see :func:<code>solve</code> and :class:<code>FiniteMDP</code>, not :func: alone"
    assert mkdocs_hooks.drop_roles(html) == \
        "see <code>solve</code> and <code>FiniteMDP</code>, not :func: alone"


@pytest.mark.nojit
def test_the_home_page_is_the_readme_with_links_into_docs():
    """README.md's links into docs/ lose their prefix on the site; no other link changes."""
    text = (ROOT / "README.md").read_text("utf-8")
    index = mkdocs_hooks.readme_as_index(text)
    assert "](docs/" in text and "](docs/" not in index
    assert "](cli.md)" in index and "](experiments/thesis/thesis-scaling.png)" in index
    assert index.count("](") == text.count("](")

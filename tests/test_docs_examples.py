"""Every code example of README.md and docs/ runs, so that none can go stale.

The fenced blocks of each page, in order, in a temporary working folder holding a copy of
``examples/``: a ```` ```python ```` block is executed (one namespace per page, shared by its
blocks in order), a ```` ```bash ```` block runs its ``celab`` commands through the console
entry point, which must exit with 0. A block right after ``<!-- not run: why -->`` is only
checked for syntax (``compile``, ``bash -n``); one right after ``<!-- run by tests/FILE: ... -->``
is executed by that test module, which reads the page. A fence without a language holds output
or a listing, never a command. The plots of the commands are drawn, not rendered.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli_helpers import run_main

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

#: what a page's fenced code is, by the fence's language: executed, or not code at all
RUN = ("python", "bash")
NOT_CODE = ("", "text", "toml", "json")

_FENCE = re.compile(r"^```(?P<lang>[^\s`]*)[^\n]*\n(?P<code>.*?)^```[ \t]*$", re.M | re.S)
_MARKER = re.compile(r"<!-- (?P<kind>not run|run by) ?(?P<where>[^:>]*): (?P<why>[^>]+) -->")


@dataclass(frozen=True)
class Block:
    """One fenced block: its page (relative to the repository), the line of its code's first
    line, its language, its code and the marker right before it (``""``, ``"not run"``,
    ``"run by"``) with the marker's test module (``run by``)."""

    page: str
    line: int
    lang: str
    code: str
    marker: str
    where: str

    @property
    def name(self) -> str:
        """``page:line``, as failures name the block."""
        return f"{self.page}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of page ``path``, in order."""
    text = path.read_text("utf-8")
    out = []
    for fence in _FENCE.finditer(text):
        before = text[:fence.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = _MARKER.fullmatch(before.strip())
        out.append(Block(str(path.relative_to(ROOT)), text.count("\n", 0, fence.start()) + 2,
                         fence["lang"], fence["code"],
                         marker["kind"] if marker else "", marker["where"] if marker else ""))
    return out


ALL = [b for page in PAGES for b in blocks(page)]


def commands(block: Block) -> list[list[str]]:
    """A shell block's commands as argument lists: lines joined over trailing backslashes,
    ``#`` comments dropped."""
    joined = block.code.replace("\\\n", " ")
    return [argv for line in joined.splitlines() if (argv := shlex.split(line, comments=True))]


def test_the_pages_have_code_blocks():
    """The parsing finds the blocks (a page of the repository holds at least each kind)."""
    langs = {b.lang for b in ALL}
    assert {"python", "bash", ""} <= langs
    assert any(b.marker == "not run" for b in ALL) and any(b.marker == "run by" for b in ALL)


@pytest.mark.nojit
@pytest.mark.parametrize("block", ALL, ids=lambda b: b.name)
def test_every_block_says_what_it_is(block):
    """A fence's language is one the examples test knows; command blocks say ``bash``; a
    ``run by`` marker names an existing test module that reads the page."""
    assert block.lang in RUN + NOT_CODE, f"{block.name}: unknown fence language {block.lang!r}"
    if block.lang in NOT_CODE:
        assert not re.search(r"^\s*celab ", block.code, re.M), \
            f"{block.name}: a block of celab commands is a ```bash block"
        assert not block.marker, f"{block.name}: a marker on a block that is not code"
    if block.marker == "run by":
        test = ROOT / block.where.strip()
        assert test.is_file(), f"{block.name}: no test module {block.where!r}"
        assert Path(block.page).name in test.read_text("utf-8"), \
            f"{block.name}: {block.where} does not read {block.page}"


@pytest.mark.nojit
@pytest.mark.parametrize("block", [b for b in ALL if b.marker and b.lang in RUN],
                         ids=lambda b: b.name)
def test_blocks_not_run_here_are_valid_syntax(block):
    """What is not executed here still parses: Python compiles, shell passes ``bash -n``."""
    if block.lang == "python":
        compile(block.code, block.name, "exec")
    else:
        done = subprocess.run(["bash", "-n"], input=block.code, capture_output=True, text=True)
        assert done.returncode == 0, f"{block.name}: {done.stderr.strip()}"


def _runnable(page: Path) -> list[Block]:
    return [b for b in blocks(page) if b.lang in RUN and not b.marker]


#: Pages whose examples compile loops no other test needs (a minute or more on 2 cores): make
#: test-slow runs them.
SLOW_PAGES = ("docs/reasoning.md", "docs/extending.md")


@pytest.mark.parametrize("page", [pytest.param(p, marks=pytest.mark.slow)
                                  if str(p.relative_to(ROOT)) in SLOW_PAGES else p
                                  for p in PAGES if _runnable(p)],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_the_examples_of_the_page_run(page, tmp_path, monkeypatch, capsys):
    """The page's runnable blocks, in order, in a folder holding ``examples/``: Python blocks
    raise nothing, every ``celab`` command exits with 0. The plots are drawn but not rendered
    to files (matplotlib's rendering is most of a small command's time; the plot tests write
    them)."""
    monkeypatch.setattr("experiments.plots._save", lambda fig, folder, stem: [])
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__main__"}
    for block in _runnable(page):
        if block.lang == "python":
            # blank lines first, so that a traceback gives the page's line numbers
            code = "\n" * (block.line - 1) + block.code
            exec(compile(code, block.page, "exec"), namespace)
            continue
        for argv in commands(block):
            assert argv[0] == "celab", \
                f"{block.name}: {argv[0]!r} is not celab: mark the block <!-- not run: ... -->"
            code, out, err = run_main(monkeypatch, capsys, *argv[1:])
            assert code == 0, f"{block.name}: {shlex.join(argv)} exited {code}: {err.strip()}"

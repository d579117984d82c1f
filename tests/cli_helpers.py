"""What the command-line tests share: running the entry point in-process, a temporary working
folder, and stderr without its progress lines."""

import sys

import pytest

import cli


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Every command writes an output folder: keep them out of the source tree."""
    monkeypatch.chdir(tmp_path)


def run_main(monkeypatch, capsys, *args):
    """Run the console entry point (with its error handling) in-process: (code, out, err)."""
    monkeypatch.setattr(sys, "argv", ["celab", *args])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def messages(err: str) -> list[str]:
    """stderr's lines other than progress lines (``celab: ...``, printed when not a terminal)."""
    return [x for x in err.strip().splitlines() if not x.startswith("celab: ")]

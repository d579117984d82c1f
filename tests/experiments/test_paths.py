"""Names that become file names are checked where they enter; every file celab writes is
checked to lie inside its output folder."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bandits
import mdp
from bandits.loop import BanditJob
from experiments import files, session
from mdp.continuing import ContinuingJob
from mdp.loop import MDPJob
from tests.cli_helpers import messages as _messages
from tracking import paths
from tracking.results import save_npz

ROOT = Path(__file__).resolve().parents[2]
CELAB = [sys.executable, "-c", "import cli; cli.main()"]
BAD_NAMES = ["../../escaped", "a/b c", "..", ".hidden", "-rf", "", "a\\b", "a\x00b",
             "x" * 101, "é", "a b", "a:b", "a*b", "ab\n"]
GOOD_NAMES = ["close10", "K10-eps0.1", "two-level-10-0.1", "a+b=c,d", "_x", "1e-05", "A.b_c",
              "x" * 100]

EXPERIMENT = """\
[[problem]]
name = {name}
setting = "bandit"
env = "close10"
horizon = 100
runs = 2
agents = ["ucb"]
"""



def _tree(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


@pytest.mark.parametrize("name", ['"../../escaped"', '"a/b c"'])
def test_a_bad_problem_name_writes_nothing(tmp_path, name):
    """An experiment file naming its problem ../../escaped or 'a/b c': one line, exit 2, and
    nothing written anywhere (no output folder, nothing above it)."""
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    exp = deep / "exp.toml"
    exp.write_text(EXPERIMENT.format(name=name))
    before = _tree(tmp_path)
    proc = subprocess.run([*CELAB, "run", str(exp), "--out", str(deep / "out"), "--no-plots"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    lines = _messages(proc.stderr)
    assert len(lines) == 1 and lines[0].startswith(f"error: {exp}:2: name must be "), lines
    assert "letters, digits" in lines[0]
    assert _tree(tmp_path) == before  # no folder created, nothing escaped
    assert not list(tmp_path.rglob("*.npz"))


@pytest.mark.parametrize("name", BAD_NAMES)
def test_check_name_refuses(name):
    assert not paths.valid_name(name)
    with pytest.raises(ValueError, match="name must be 1 to 100 characters"):
        paths.check_name(name)


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_check_name_accepts(name):
    assert paths.check_name(name) == name


@pytest.mark.parametrize("name", ["../x", "a/b", ".x"])
def test_python_api_refuses_bad_names(name):
    with pytest.raises(ValueError, match="name must be"):
        bandits.run("close10", "ucb", 10, 1, name=name)
    with pytest.raises(ValueError, match="name must be"):
        mdp.run("riverswim", "ce-greedy", 3, 2, 1, name=name)
    with pytest.raises(ValueError, match="name must be"):
        mdp.run_continuing("riverswim", "ce-greedy", 10, 1, name=name)
    with pytest.raises(ValueError, match="name must be"):
        BanditJob("close10", "ucb", 10, 1, name=name)
    with pytest.raises(ValueError, match="name must be"):
        MDPJob("riverswim", "ce-greedy", 3, 2, 1, name=name)
    with pytest.raises(ValueError, match="name must be"):
        ContinuingJob("riverswim", "ce-greedy", 10, 1, name=name)
    # a name taken from the environment or the model is checked too
    with pytest.raises(ValueError, match="name must be"):
        bandits.run(bandits.Bernoulli([0.1, 0.2], name=name), "ucb", 10, 1)
    with pytest.raises(ValueError, match="name must be"):
        mdp.run(mdp.FiniteMDP(np.ones((1, 1, 1)), np.zeros((1, 1)), name=name), "ce-greedy",
                2, 2, 1)


def test_python_api_keeps_a_good_name():
    assert bandits.run("close10", "ucb", 10, 1, name="mine").problem == "mine"
    assert mdp.run("riverswim", "ce-greedy", 3, 2, 1, name="r+1").problem == "r+1"


def test_experiment_files_check_names_with_their_line(tmp_path):
    with pytest.raises(files.FileError, match=r"^e\.toml:2: name must be .*got '\.\./x'"):
        files.parse(EXPERIMENT.format(name='"../x"'), "e.toml")
    # a model file whose stem is not a valid name needs an explicit name
    model = tmp_path / "my model.json"
    mdp.save(mdp.envs.riverswim(), model)
    text = (f'[[problem]]\nsetting = "mdp"\nfile = "{model}"\nhorizon = 3\nepisodes = 2\n'
            'runs = 1\nagents = ["psrl"]\n')
    with pytest.raises(files.FileError, match=r"^e\.toml:3: the default name 'my model'"):
        files.parse(text, "e.toml")
    assert files.parse(text + 'name = "mine"\n', "e.toml")["problems"][0]["name"] == "mine"
    # names that differ only in case would share one file where case is lost
    two = EXPERIMENT.format(name='"Close"') + "\n" + EXPERIMENT.format(name='"close"')
    with pytest.raises(files.FileError, match=r"^e\.toml:10: two problems are named 'close'"):
        files.parse(two, "e.toml")


def test_mdp_command_refuses_a_model_file_named_badly(tmp_path):
    model = tmp_path / "my model.json"
    mdp.save(mdp.envs.riverswim(), model)
    out = tmp_path / "o"
    proc = subprocess.run([*CELAB, "mdp", "--file", str(model), "--runs", "1", "--episodes",
                           "2", "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and len(_messages(proc.stderr)) == 1
    assert "--file: the problem is named after the file" in proc.stderr
    assert not out.exists()


def test_inside(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    assert paths.inside(folder, "results/x.npz") == folder / "results" / "x.npz"
    assert paths.inside(folder, "a/../b") == folder / "a" / ".." / "b"  # still inside
    for escape in ("../x", "results/../../x", "/etc/passwd", ".", "", "a/../.."):
        with pytest.raises(ValueError, match="outside the folder"):
            paths.inside(folder, escape)
    with pytest.raises(ValueError, match="not a usable path"):
        paths.inside(folder, "a\x00b")
    # a symbolic link that leads out of the folder is refused too
    os.symlink(tmp_path, folder / "results")
    with pytest.raises(ValueError, match="outside the folder"):
        paths.inside(folder, "results/x.npz")


def test_every_writer_checks_inside(tmp_path):
    """A results/ or plots/ link that leads out of the folder stops the writers before they
    write: nothing appears outside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    res = bandits.run("close10", "ucb", 20, 2)
    with session.Folder(tmp_path / "f") as folder:
        (folder.path / "results").rmdir()
        os.symlink(outside, folder.path / "results")
        with pytest.raises(ValueError, match="outside the folder"):
            folder.save_result(res)
        os.symlink(outside, folder.path / "plots")
        with pytest.raises(ValueError, match="outside the folder"):
            folder.finish([res], plots=True)
        os.symlink(outside / "c.toml", folder.path / "config.toml")
        with pytest.raises(ValueError, match="outside the folder"):
            folder.write_config("x = 1\n")
    assert list(outside.iterdir()) == []
    # a model copied beside the results, and a results file named by a damaged Result
    job = MDPJob(mdp.FiniteMDP(np.ones((1, 1, 1)), np.zeros((1, 1))), "ce-greedy", 3, 2, 1,
                 name="r")
    (tmp_path / "g").mkdir()
    os.symlink(outside, tmp_path / "g" / "models")
    with pytest.raises(ValueError, match="outside the folder"):
        job.attach_files(tmp_path / "g")
    assert list(outside.iterdir()) == []
    with session.Folder(tmp_path / "h") as folder:
        with pytest.raises(ValueError, match="problem name must be"):
            folder.result_path("../../x")
    save_npz(res, tmp_path / "ok.npz")  # the low-level writer itself writes where it is told


def test_the_lock_is_removed_when_a_run_ends(tmp_path):
    with session.Folder(tmp_path / "f") as folder:
        assert (folder.path / ".lock").exists()
    assert not (tmp_path / "f" / ".lock").exists()
    # a .lock left behind (a process killed with SIGKILL) does not block the next writer
    (tmp_path / "f" / ".lock").write_text("12345\n")
    with session.Folder(tmp_path / "f", resume=False):
        pass

"""Files damaged by a crash, a full disk or a person: SIGKILL at random moments, results files
cut, overwritten or rewritten with other arrays, damaged status.json and config.toml, and a
disk that fills up while saving. Resume recomputes what it cannot read and ends with the
numbers of an uninterrupted run; report names the damaged file."""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bandits
import cli
import mdp
from tests.cli_helpers import messages as _messages
from tracking import results as results_module
from tracking.results import load_npz, read_npz

ROOT = Path(__file__).resolve().parents[1]
CELAB = [sys.executable, "-c", "import cli; cli.main()"]
EXPERIMENT = """\
seed = 5

[[problem]]
setting = "bandit"
env = "close10"
horizon = 20000
runs = 12
agents = ["ucb", "thompson"]

[[problem]]
setting = "mdp"
env = "riverswim"
horizon = 10
episodes = 200
runs = 6
agents = ["psrl", "reinforce"]

[[problem]]
name = "river-avg"
setting = "continuing"
env = "riverswim"
steps = 2000
runs = 4
agents = ["ucrl2"]
"""
NAMES = ("close10", "riverswim", "river-avg")



def _env():
    # a batch of two runs (two threads): every problem has several save points
    return dict(os.environ, CELAB_BATCH_WORK="1", NUMBA_NUM_THREADS="2")


@pytest.fixture(scope="module")
def reference():
    return {
        "close10": bandits.run("close10", ["ucb", "thompson"], 20000, 12, seed=5),
        "riverswim": mdp.run("riverswim", ["psrl", "reinforce"], 10, 200, 6, seed=5),
        "river-avg": mdp.run_continuing("riverswim", ["ucrl2"], 2000, 4, seed=5),
    }


def _assert_equal_to(folder: Path, reference) -> None:
    for name, ref in reference.items():
        res = load_npz(folder / "results" / f"{name}.npz")
        assert np.array_equal(res.regret, ref.regret), name
        assert np.array_equal(res.simple_regret_greedy, ref.simple_regret_greedy), name
        assert np.array_equal(res.simple_regret_behaviour, ref.simple_regret_behaviour), name
        assert res.extra.keys() == ref.extra.keys(), name
        for key in ref.extra:
            assert np.array_equal(res.extra[key], ref.extra[key]), (name, key)
    assert not list(folder.rglob("*.tmp")), "a temporary file was left"
    assert not (folder / ".lock").exists(), "the lock file was left"
    assert json.loads((folder / "status.json").read_text())["complete"] is True


def _main(monkeypatch, capsys, *args):
    """The console entry point in this process (warnings and SIGTERM handler restored)."""
    monkeypatch.setattr(sys, "argv", ["celab", *args])
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    for key, value in _env().items():
        monkeypatch.setenv(key, value)
    term = signal.getsignal(signal.SIGTERM)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            with pytest.raises(SystemExit) as exc:
                cli.main()
    finally:
        signal.signal(signal.SIGTERM, term)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.fixture(scope="module")
def complete(tmp_path_factory, reference):
    """A folder of the experiment, run to completion once."""
    tmp = tmp_path_factory.mktemp("complete")
    exp = tmp / "exp.toml"
    exp.write_text(EXPERIMENT)
    proc = subprocess.run([*CELAB, "run", str(exp), "--out", str(tmp / "out"), "--no-plots"],
                          env=_env(), cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    _assert_equal_to(tmp / "out", reference)
    return tmp / "out"


@pytest.fixture
def folder(complete, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(complete, out)
    return out


# --- SIGKILL -------------------------------------------------------------------------------

#: Ten times the budget: about 2 s of simulation after 1.5 s of start-up, 2 cores.
LONGER = (EXPERIMENT.replace("horizon = 20000", "horizon = 200000")
          .replace("episodes = 200", "episodes = 2000").replace("steps = 2000", "steps = 20000"))


@pytest.fixture(scope="module")
def longer():
    return {
        "close10": bandits.run("close10", ["ucb", "thompson"], 200000, 12, seed=5),
        "riverswim": mdp.run("riverswim", ["psrl", "reinforce"], 10, 2000, 6, seed=5),
        "river-avg": mdp.run_continuing("riverswim", ["ucrl2"], 20000, 4, seed=5),
    }


@pytest.mark.parametrize("trial", range(4))
def test_sigkill_at_a_random_moment_then_resume(tmp_path, longer, trial):
    """kill -9 at a moment drawn from a seeded generator (from start-up to the end): nothing
    can be tidied then, yet the folder resumes (the stale .lock does not block it, temporary
    files are removed) to the numbers of an uninterrupted run."""
    delay = np.random.default_rng(trial).uniform(0.2, 3.5)
    exp = tmp_path / "exp.toml"
    exp.write_text(LONGER)
    out = tmp_path / "out"
    proc = subprocess.Popen([*CELAB, "run", str(exp), "--out", str(out), "--no-plots"],
                            env=_env(), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.kill()
    code = proc.wait(timeout=60)
    assert code in (0, -signal.SIGKILL)
    # a process killed while it held the folder leaves its .lock behind (not one killed before
    # locking, nor one killed after it closed the folder): the resume below must not be blocked
    if (out / "config.toml").exists():
        args = ["run", str(out / "config.toml"), "--resume"]
    else:  # killed before anything was saved: run again into the same folder
        args = ["run", str(exp), "--out", str(out)]
    done = subprocess.run([*CELAB, *args, "--no-plots"], env=_env(), cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr  # a kill damages nothing: every write is atomic
    _assert_equal_to(out, longer)


# --- damaged results files -------------------------------------------------------------------

def _rewrite(path: Path, change) -> None:
    arrays = read_npz(path)
    change(arrays)
    np.savez_compressed(path, **arrays)


def _cut(path: Path, rng) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw[: int(rng.integers(0, len(raw)))])


def _random_bytes(path: Path, rng) -> None:
    path.write_bytes(rng.bytes(path.stat().st_size))


DAMAGE = {
    "cut": _cut,
    "random bytes": _random_bytes,
    "empty": lambda p, rng: p.write_bytes(b""),
    "a missing array": lambda p, rng: _rewrite(p, lambda a: a.pop("simple_regret_behaviour")),
    "both readouts and the one of earlier files": lambda p, rng: _rewrite(p, lambda a: a.update(
        simple_regret=a["simple_regret_greedy"])),
    "an unknown array": lambda p, rng: _rewrite(p, lambda a: a.update(junk=np.zeros(1))),
    "a renamed array": lambda p, rng: _rewrite(p, lambda a: a.update(regrets=a.pop("regret"))),
    "fewer checkpoints": lambda p, rng: _rewrite(p, lambda a: a.update(
        regret=a["regret"][:, :, 1:], simple_regret_greedy=a["simple_regret_greedy"][:, :, 1:])),
    "a checkpoint changed": lambda p, rng: _rewrite(p, lambda a: a.update(
        checkpoints=a["checkpoints"] + 1)),
    "float32 regret": lambda p, rng: _rewrite(p, lambda a: a.update(
        regret=a["regret"].astype(np.float32))),
    "1-d regret": lambda p, rng: _rewrite(p, lambda a: a.update(regret=a["regret"].ravel())),
    "NaN": lambda p, rng: _rewrite(p, lambda a: a["regret"].__setitem__((0, 0, 0), np.nan)),
    "other agents": lambda p, rng: _rewrite(p, lambda a: a.update(
        agents=np.array(["greedy"] * a["agents"].size))),
    "one agent less": lambda p, rng: _rewrite(p, lambda a: a.update(
        agents=a["agents"][:1], regret=a["regret"][:1],
        simple_regret_behaviour=a["simple_regret_behaviour"][:1])),
    "more runs than asked": lambda p, rng: _rewrite(p, lambda a: a.update(
        regret=np.concatenate([a["regret"]] * 3, axis=1),
        simple_regret_greedy=np.concatenate([a["simple_regret_greedy"]] * 3, axis=1))),
    "pulls of other arms": lambda p, rng: _rewrite(p, lambda a: a.update(
        extra_pulls=a["extra_pulls"][:, :, :3])),
    "pulls of fewer runs": lambda p, rng: _rewrite(p, lambda a: a.update(
        extra_pulls=a["extra_pulls"][:, :1])),
    "no pulls": lambda p, rng: _rewrite(p, lambda a: a.pop("extra_pulls")),
    "config not JSON": lambda p, rng: _rewrite(p, lambda a: a.update(config=np.array("{"))),
    "problem escaping": lambda p, rng: _rewrite(p, lambda a: a.update(
        problem=np.array("../../x"))),
    "object array": lambda p, rng: np.savez(p, allow_pickle=True,
                                            regret=np.array([None], dtype=object)),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_results_file(folder, reference, monkeypatch, capsys, damage):
    path = folder / "results" / "close10.npz"
    DAMAGE[damage](path, np.random.default_rng(sorted(DAMAGE).index(damage)))
    before = path.read_bytes()
    # report: one line naming the file and what to do, exit 2, nothing changed
    code, out, err = _main(monkeypatch, capsys, "report", str(folder), "--no-plots")
    lines = _messages(err)
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith(f"error: {path}: damaged") and "--resume" in lines[0]
    assert path.read_bytes() == before and not (folder / "plots").exists()
    # resume: one warning line for the damaged file, the others kept, the numbers complete
    kept = {n: (folder / "results" / f"{n}.npz").stat().st_mtime_ns for n in NAMES[1:]}
    code, out, err = _main(monkeypatch, capsys, "run", str(folder / "config.toml"),
                           "--resume", "--no-plots")
    assert code == 0, err
    lines = _messages(err)
    assert len(lines) == 1 and lines[0].startswith(f"warning: {path}: damaged"), err
    assert lines[0].endswith("its runs are computed again")
    assert {n: (folder / "results" / f"{n}.npz").stat().st_mtime_ns for n in NAMES[1:]} == kept
    _assert_equal_to(folder, reference)
    code, out, err = _main(monkeypatch, capsys, "report", str(folder), "--no-plots")
    assert code == 0 and _messages(err) == []


@pytest.mark.parametrize("seed", range(6))
def test_bytes_changed_anywhere_are_detected_or_harmless(folder, reference, monkeypatch,
                                                         capsys, seed):
    """A few bytes overwritten at random places of a results file: either the file is
    refused as damaged, or what is read is exactly what was written."""
    rng = np.random.default_rng(100 + seed)
    name = NAMES[seed % 3]
    path = folder / "results" / f"{name}.npz"
    raw = bytearray(path.read_bytes())
    for at in rng.integers(0, len(raw), size=int(rng.integers(1, 8))):
        raw[at] = int(rng.integers(0, 256))
    path.write_bytes(bytes(raw))
    code, out, err = _main(monkeypatch, capsys, "report", str(folder), "--json", "--no-plots")
    assert code in (0, 2) and len(_messages(err)) == (code == 2)
    if code == 0:
        res = load_npz(path)
        assert np.array_equal(res.regret, reference[name].regret)
        assert np.array_equal(res.simple_regret_greedy, reference[name].simple_regret_greedy)
        assert np.array_equal(res.simple_regret_behaviour, reference[name].simple_regret_behaviour)
    code, out, err = _main(monkeypatch, capsys, "run", str(folder / "config.toml"),
                           "--resume", "--no-plots")
    assert code == 0, err
    _assert_equal_to(folder, reference)


def test_damaged_files_of_an_interrupted_run(tmp_path, reference, monkeypatch, capsys):
    """Partly done: one problem's file readable (kept: its runs are not recomputed), one cut,
    one missing; resume warns once, for the cut file, and completes."""
    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT)
    out = tmp_path / "out"
    proc = subprocess.Popen([*CELAB, "run", str(exp), "--out", str(out), "--no-plots"],
                            env=_env(), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (out / "results" / "riverswim.npz").exists() and time.time() < deadline:
        time.sleep(0.02)
    proc.kill()
    proc.wait(timeout=60)
    cut = out / "results" / "close10.npz"
    cut.write_bytes(cut.read_bytes()[:100])
    (out / "results" / "river-avg.npz").unlink(missing_ok=True)
    partial = load_npz(out / "results" / "riverswim.npz")
    code, _, err = _main(monkeypatch, capsys, "run", str(out / "config.toml"), "--resume",
                         "--no-plots")
    assert code == 0, err
    lines = _messages(err)
    assert len(lines) == 1 and lines[0].startswith(f"warning: {cut}: damaged"), err
    final = load_npz(out / "results" / "riverswim.npz")
    assert np.array_equal(final.regret[:, :partial.runs], partial.regret)
    _assert_equal_to(out, reference)


def test_damaged_status_is_rewritten(folder, reference, monkeypatch, capsys):
    (folder / "status.json").write_bytes(b"\x00{not json")
    (folder / "results" / "river-avg.npz").unlink()  # something left to do
    code, _, err = _main(monkeypatch, capsys, "run", str(folder / "config.toml"), "--resume",
                         "--no-plots")
    assert code == 0 and _messages(err) == [], err
    _assert_equal_to(folder, reference)


@pytest.mark.parametrize("damage", ["cut", "random bytes", "no versions", "empty"])
def test_damaged_config(folder, monkeypatch, capsys, damage):
    path = folder / "config.toml"
    text = path.read_text()
    if damage == "cut":  # anywhere up to the end of the [versions] line, celab's last table
        end = text.index("[versions]") + len("[versions]")
        path.write_text(text[: int(np.random.default_rng(3).integers(0, end))])
    elif damage == "random bytes":
        path.write_bytes(np.random.default_rng(4).bytes(len(text)))
    elif damage == "no versions":  # cut at a line boundary: still valid TOML
        path.write_text(text[: text.index("[versions]")])
    else:
        path.write_text("")
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    for args in (["run", str(path), "--resume", "--no-plots"],
                 ["report", str(folder), "--no-plots"]):
        code, _, err = _main(monkeypatch, capsys, *args)
        lines = _messages(err)
        assert code == 2 and len(lines) == 1, err
        assert lines[0].startswith(f"error: {path}") and "restore it" in lines[0]
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


def test_results_of_another_configuration_stop_the_resume(folder, monkeypatch, capsys):
    """A readable results file made with another configuration is not damage: resume stops
    (one line, nothing changed) instead of overwriting it."""
    path = folder / "config.toml"
    path.write_text(path.read_text().replace("runs = 12", "runs = 16"))
    saved = (folder / "results" / "close10.npz").read_bytes()
    code, _, err = _main(monkeypatch, capsys, "run", str(path), "--resume", "--no-plots")
    assert code == 2 and len(_messages(err)) == 1 and "another configuration" in err, err
    code, _, err = _main(monkeypatch, capsys, "report", str(folder), "--no-plots")
    assert code == 2 and len(_messages(err)) == 1 and "another configuration" in err, err
    assert (folder / "results" / "close10.npz").read_bytes() == saved


def test_a_problem_read_from_a_model_file(tmp_path, monkeypatch, capsys):
    """Its configuration points at the model copied into the folder (a relative path): report
    and resume compare it as a file, from any working folder."""
    shutil.copy(ROOT / "examples" / "two-state.json", tmp_path)
    exp = tmp_path / "exp.toml"
    exp.write_text('seed = 1\n\n[[problem]]\nsetting = "mdp"\nname = "two"\n'
                   'file = "two-state.json"\nhorizon = 5\nepisodes = 50\nruns = 4\n'
                   'agents = ["psrl"]\n')
    out = tmp_path / "out"
    code, _, err = _main(monkeypatch, capsys, "run", str(exp), "--out", str(out), "--no-plots")
    assert code == 0, err
    path = out / "results" / "two.npz"
    reference = load_npz(path)
    monkeypatch.chdir(ROOT)
    for args in (["report", str(out), "--no-plots"],
                 ["run", str(out / "config.toml"), "--resume", "--no-plots"]):
        code, _, err = _main(monkeypatch, capsys, *args)
        assert code == 0 and _messages(err) == [], err
    path.write_bytes(path.read_bytes()[:200])
    code, _, err = _main(monkeypatch, capsys, "run", str(out / "config.toml"), "--resume",
                         "--no-plots")
    assert code == 0 and err.startswith(f"warning: {path}: damaged"), err
    assert np.array_equal(load_npz(path).regret, reference.regret)


# --- a full disk -----------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["replace", "fsync"])
def test_full_disk_while_saving(tmp_path, reference, monkeypatch, capsys, where):
    """ENOSPC on the second save of a results file: one line, exit 2, the first save intact,
    no temporary file; resume then completes."""
    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT)
    out = tmp_path / "out"
    target = out / "results" / "close10.npz"
    real = {"replace": os.replace, "fsync": os.fsync}[where]
    seen = {"saves": 0, "bytes": None}

    def failing(*args):
        if where == "fsync" or Path(args[1]) == target:
            writing_target = where == "replace" or any(
                p.name.startswith(".close10.npz.") for p in target.parent.glob(".*.tmp"))
            if writing_target:
                seen["saves"] += 1
                if seen["saves"] == 2:
                    seen["bytes"] = target.read_bytes()
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args)

    monkeypatch.setattr(results_module.os, where, failing)
    code, _, err = _main(monkeypatch, capsys, "run", str(exp), "--out", str(out), "--no-plots")
    monkeypatch.setattr(results_module.os, where, real)
    lines = _messages(err)
    assert code == 2 and len(lines) == 1, err
    assert lines[0] == (f"error: no space left on device while saving {target}; the previous "
                        f"results are intact; free some space, then finish with: celab run "
                        f"{out / 'config.toml'} --resume")
    assert target.read_bytes() == seen["bytes"]
    assert 0 < load_npz(target).runs < 12  # the first batch
    assert not list(out.rglob("*.tmp")) and not (out / ".lock").exists()
    code, _, err = _main(monkeypatch, capsys, "run", str(out / "config.toml"), "--resume",
                         "--no-plots")
    assert code == 0 and _messages(err) == [], err
    _assert_equal_to(out, reference)


# --- any archive ----------------------------------------------------------------------------

ARRAYS = st.one_of(
    st.sampled_from([np.zeros(0), np.zeros((2, 3)), np.zeros((1, 1, 1)), np.array(1),
                     np.array(["a"]), np.array("x"), np.array('{"a": 1}'), np.array("[1]"),
                     np.array(-1), np.array([3, 2, 1]), np.array([np.inf]),
                     np.zeros((2, 2, 3), np.float32), np.array([1 + 2j])]),
    st.lists(st.floats(allow_nan=True), min_size=1, max_size=4).map(np.array),
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(changes=st.dictionaries(st.sampled_from([
    "steps", "regret", "simple_regret", "simple_regret_greedy", "simple_regret_behaviour",
    "agents", "samples_per_step", "problem", "setting", "config", "info", "extra_pulls", "schema",
    "junk"]), st.one_of(st.none(), ARRAYS), max_size=3),
       cut=st.one_of(st.none(), st.integers(0, 2000)))
def test_any_archive_is_a_result_or_damaged(tmp_path_factory, changes, cut):
    """Arrays replaced, removed or added, the archive cut: load_npz returns a result whose
    arrays are consistent, or raises DamagedFile; never another exception."""
    res = bandits.run("close10", ["ucb", "greedy"], 50, 3, seed=1)
    path = tmp_path_factory.mktemp("any") / "r.npz"
    results_module.save_npz(res, path)
    arrays = read_npz(path)
    for key, value in changes.items():
        if value is None:
            arrays.pop(key, None)
        else:
            arrays[key] = value
    np.savez(path, **arrays)
    if cut is not None:
        path.write_bytes(path.read_bytes()[:cut])
    try:
        got = load_npz(path)
    except results_module.DamagedFile as e:
        assert str(e).startswith(f"{path}: damaged")
        return
    assert got.regret.shape == got.simple_regret_greedy.shape \
        == got.simple_regret_behaviour.shape == (len(got.agents), got.runs, got.checkpoints.size)
    assert np.all(np.isfinite(got.regret))

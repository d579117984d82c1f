"""The results format: two readouts of simple regret, files of earlier versions (one
``simple_regret``), jobs that must record both readouts, the CSV columns."""

import json

import numpy as np
import pytest

import bandits
from tests.cli_helpers import run_main
from tracking import results
from tracking.results import curves_csv, load_npz, read_npz, save_npz
from tracking.runner import Job, execute


@pytest.fixture(scope="module")
def result():
    return bandits.run("close10", "ucb,reinforce", 200, 3, seed=2)


def _as_earlier_version(path, res):
    """The file an earlier celab wrote for ``res``: one ``simple_regret`` (the softmax of the
    policy-gradient agents, the greedy readout of the others), no readouts."""
    arrays = read_npz(path)
    families = res.info.get("families", ())
    arrays["simple_regret"] = np.stack([
        res.simple_regret_behaviour[i] if i < len(families) and families[i] == "policy-gradient"
        else res.simple_regret_greedy[i] for i in range(len(res.agents))])
    del arrays["simple_regret_greedy"], arrays["simple_regret_behaviour"]
    arrays["steps"] = arrays.pop("checkpoints")  # the grid's name in earlier versions
    del arrays["schema"]  # earlier versions wrote none
    np.savez(path, **arrays)
    return arrays["simple_regret"]


def test_readouts_by_name(result):
    assert result.readout("greedy") is result.simple_regret_greedy
    assert result.readout("behaviour") is result.simple_regret_behaviour
    assert result.simple_regret is result.simple_regret_greedy
    with pytest.raises(ValueError, match="readout must be one of greedy, behaviour, got 'softmax'"):
        result.readout("softmax")
    assert "readouts" not in result.info


def test_both_readouts_are_saved_and_read_back(result, tmp_path):
    path = save_npz(result, tmp_path / "r.npz")
    with np.load(path, allow_pickle=False) as z:
        assert {"simple_regret_greedy", "simple_regret_behaviour"} <= set(z.files)
        assert "simple_regret" not in z.files
    back = load_npz(path)
    for name in results.READOUTS:
        assert np.array_equal(back.readout(name), result.readout(name))
    assert back.info == result.info


def test_a_file_of_an_earlier_version_loads_its_one_simple_regret_as_both_readouts(result,
                                                                                     tmp_path):
    path = save_npz(result, tmp_path / "old.npz")
    one = _as_earlier_version(path, result)
    old = load_npz(path)
    assert np.array_equal(old.simple_regret_greedy, one)
    assert np.array_equal(old.simple_regret_behaviour, one)
    assert not np.shares_memory(old.simple_regret_greedy, old.simple_regret_behaviour)
    assert old.info == {**result.info, "readouts": "legacy"}
    assert np.array_equal(old.regret, result.regret)
    assert np.array_equal(old.checkpoints, result.checkpoints)
    # saved again, it stays marked
    again = load_npz(save_npz(old, tmp_path / "again.npz"))
    assert again.info["readouts"] == "legacy"


def test_the_curves_csv_has_a_column_per_readout(result):
    lines = curves_csv([result]).splitlines()
    assert lines[0] == ("problem,agent,run,step,samples,regret,simple_regret_greedy,"
                        "simple_regret_behaviour")
    problem, agent, run, step, samples, regret, greedy, behaviour = lines[1 + 5].split(",")
    assert (agent, run) == ("ucb", "0")
    c = int(np.flatnonzero(result.checkpoints == int(step))[0])
    assert float(greedy) == result.simple_regret_greedy[0, 0, c]
    assert float(behaviour) == result.simple_regret_behaviour[0, 0, c]
    assert len(lines) == 1 + 2 * 3 * result.checkpoints.size


class ReadoutJob(Job):
    """A job whose run_batch returns both readouts (behaviour twice greedy)."""

    setting = "bandit"
    samples_per_step = 1

    def __init__(self, runs=4):
        self.problem, self.runs, self.agents = "one", runs, ("a", "b")
        self.checkpoints = np.array([1, 3, 9])
        self.config = {"name": "one", "setting": "bandit", "runs": runs,
                       "checkpoints": self.checkpoints.tolist(), "agents": ["a", "b"]}
        self.info, self.work_per_run = {"fact": 1}, 1.0

    def run_batch(self, start, stop, progress, should_stop=None):
        shape = (len(self.agents), stop - start, self.checkpoints.size)
        runs = np.arange(start, stop, dtype=float)[None, :, None]
        one = np.broadcast_to(runs / self.checkpoints, shape).copy()
        return {"regret": np.broadcast_to(runs + self.checkpoints, shape).copy(),
                "simple_regret_greedy": one, "simple_regret_behaviour": 2 * one}


class OneReadoutJob(ReadoutJob):
    """A job whose run_batch returns one ``simple_regret``, as jobs did before the readouts."""

    def run_batch(self, start, stop, progress, should_stop=None):
        arrays = super().run_batch(start, stop, progress, should_stop)
        arrays["simple_regret"] = arrays.pop("simple_regret_greedy")
        del arrays["simple_regret_behaviour"]
        return arrays


def test_a_job_of_two_readouts_keeps_them_apart(tmp_path):
    job = ReadoutJob()
    res = execute(job)
    assert np.array_equal(res.simple_regret_behaviour, 2 * res.simple_regret_greedy)
    assert res.simple_regret_greedy[0, 3, 1] == 3 / 3
    assert "readouts" not in res.info
    # the memory guard counts the two arrays the result holds
    assert set(job.layout(2)) == {"regret", "simple_regret_greedy", "simple_regret_behaviour"}
    job.check_saved(load_npz(save_npz(res, tmp_path / "two.npz")))


def test_a_job_must_return_both_readouts():
    """Every job records two readouts: one ``simple_regret`` is an internal error."""
    with pytest.raises(RuntimeError, match="OneReadoutJob.run_batch returned regret, "
                                           "simple_regret, not simple_regret_greedy and "
                                           "simple_regret_behaviour"):
        execute(OneReadoutJob())


def test_runs_of_an_earlier_version_are_not_completed(tmp_path):
    path = save_npz(execute(ReadoutJob(runs=2)), tmp_path / "part.npz")
    _as_earlier_version(path, load_npz(path))  # families unknown: the greedy readout
    part = load_npz(path)
    assert part.info["readouts"] == "legacy"
    with pytest.raises(ValueError, match="saved runs of 'one' hold one simple regret as both "
                                         "readouts, and runs of this version record two"):
        execute(ReadoutJob(), resume=part)
    done = execute(ReadoutJob(), resume=execute(ReadoutJob(runs=2)))
    assert np.array_equal(done.simple_regret_behaviour,
                          execute(ReadoutJob()).simple_regret_behaviour)


EXPERIMENT = """\
[[problem]]
setting = "bandit"
env = "close10"
horizon = 300
runs = 3
seed = 3
agents = ["thompson", "reinforce"]
"""


def test_a_folder_of_an_earlier_version_is_reported_and_resumed(tmp_path, monkeypatch, capsys):
    """An interrupted folder an earlier version wrote (one ``simple_regret``, 2 of 3 runs):
    ``celab report`` reads it as it is; ``--resume`` does not add runs of two readouts to
    runs of one: it warns and computes the problem's runs again."""
    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT)
    out = tmp_path / "out"
    code, _, err = run_main(monkeypatch, capsys, "run", str(exp), "--out", str(out),
                            "--no-plots")
    assert code == 0, err
    saved = out / "results" / "close10.npz"
    full = load_npz(saved)
    one = _as_earlier_version(saved, full)
    arrays = read_npz(saved)
    np.savez(saved, **{k: v[:, :2] if k in ("regret", "simple_regret", "extra_pulls") else v
                       for k, v in arrays.items()})
    code, text, err = run_main(monkeypatch, capsys, "report", str(out), "--no-plots", "--json")
    assert code == 0, err
    problem, = json.loads(text)["problems"]
    assert problem["runs"] == 2 and problem["info"]["readouts"] == "legacy"
    assert np.array_equal(load_npz(saved).simple_regret_behaviour, one[:, :2])
    # either readout shows the one array: both readouts of every agent coincide
    code, text, err = run_main(monkeypatch, capsys, "report", str(out), "--no-plots", "--json",
                               "--readout", "behaviour")
    assert code == 0, err
    behaviour, = json.loads(text)["problems"]
    assert behaviour["readout"] == "behaviour" and behaviour["agents"] == [
        {**a, "readouts_coincide": True} for a in problem["agents"]]
    assert all(a["readouts"]["greedy"] == a["readouts"]["behaviour"]
               for a in behaviour["agents"])

    code, _, err = run_main(monkeypatch, capsys, "run", str(out / "config.toml"), "--resume",
                            "--no-plots")
    assert code == 0, err
    assert "hold one simple regret as both readouts" in err
    assert "its runs are computed again" in err
    again = load_npz(saved)
    assert "readouts" not in again.info
    for name in results.READOUTS:
        assert np.array_equal(again.readout(name), full.readout(name)), name

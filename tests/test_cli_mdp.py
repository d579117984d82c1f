"""celab mdp, celab solve, celab run and celab report from the command line (celab compare:
test_compare.py)."""

import json

import numpy as np
import pytest

import mdp
from tests.cli_helpers import _in_tmp  # noqa: F401
from tests.cli_helpers import run_main as _main


def test_mdp_table_and_json(monkeypatch, capsys, tmp_path):
    code, out, err = _main(monkeypatch, capsys, "mdp", "--env", "riverswim", "--env-arg",
                           "n_states=5", "--horizon", "10", "--episodes", "40", "--runs", "3",
                           "--algos", "psrl,reinforce", "--no-plots")
    assert code == 0, err
    assert "episodes to 0.1" in out and "psrl" in out and "riverswim" in out
    code, out, err = _main(monkeypatch, capsys, "mdp", "--env", "chain", "--horizon", "12",
                           "--episodes", "30", "--runs", "2", "--algos", "ce-optimistic:c=1",
                           "--json", "--out", "o", "--no-plots")
    assert code == 0, err
    summary, = json.loads(out)["problems"]
    assert summary["agents"][0]["agent"] == "ce-optimistic(c=1.0)"
    assert summary["episodes"] == 30 and summary["horizon"] == 12
    assert (tmp_path / "o" / "results" / "chain.npz").exists()


def test_mdp_sampled_regret_is_recorded_and_said(monkeypatch, capsys, tmp_path):
    """--regret sampled: the table's caption says so, the saved configuration records it and
    reruns to the same numbers; a bad mode writes nothing."""
    args = ["mdp", "--env", "riverswim", "--horizon", "6", "--episodes", "30", "--runs", "2",
            "--algos", "psrl,reinforce", "--no-plots"]
    code, out, err = _main(monkeypatch, capsys, *args, "--regret", "sampled", "--out", "s")
    assert code == 0, err
    assert "regret: realised returns (sampled)" in " ".join(out.split())
    assert 'regret = "sampled"' in (tmp_path / "s" / "config.toml").read_text()
    code, _, err = _main(monkeypatch, capsys, "run", "s/config.toml", "--out", "again",
                         "--no-plots")
    assert code == 0, err
    a = np.load(tmp_path / "s" / "results" / "riverswim.npz")
    b = np.load(tmp_path / "again" / "results" / "riverswim.npz")
    assert np.array_equal(a["regret"], b["regret"])
    code, out, err = _main(monkeypatch, capsys, *args, "--out", "e")
    assert code == 0, err
    assert "realised returns" not in out
    assert 'regret = "exact"' in (tmp_path / "e" / "config.toml").read_text()
    code, _, err = _main(monkeypatch, capsys, *args, "--regret", "x", "--out", "bad")
    assert code == 2 and "--regret must be one of" in err and not (tmp_path / "bad").exists()


def test_mdp_from_a_model_file_is_rerunnable(monkeypatch, capsys, tmp_path):
    mdp.save(mdp.envs.garnet(6, 2, 3, seed=1), tmp_path / "g.json")
    code, _, err = _main(monkeypatch, capsys, "mdp", "--file", "g.json", "--horizon", "5",
                         "--episodes", "20", "--runs", "2", "--algos", "psrl", "--out", "a",
                         "--no-plots")
    assert code == 0, err
    code, _, err = _main(monkeypatch, capsys, "run", "a/config.toml", "--out", "b", "--no-plots")
    assert code == 0, err
    a = np.load(tmp_path / "a" / "results" / "g.npz")
    b = np.load(tmp_path / "b" / "results" / "g.npz")
    assert np.array_equal(a["regret"], b["regret"])


def test_solve_json_matches_the_library(monkeypatch, capsys):
    code, out, _ = _main(monkeypatch, capsys, "solve", "--env", "riverswim", "--gamma", "0.9",
                         "--json")
    assert code == 0
    doc = json.loads(out)
    expected = mdp.policy_iteration(mdp.envs.riverswim(), 0.9)
    np.testing.assert_allclose(doc["values"], expected.values, atol=1e-7)
    assert doc["policy"] == expected.policy.tolist()
    assert set(doc) >= {"values", "policy", "q", "iterations", "method", "seconds"}
    for args in (["--gamma", "0.9", "--method", "lp"], ["--horizon", "4"], ["--average"]):
        code, out, err = _main(monkeypatch, capsys, "solve", "--env", "riverswim", *args)
        assert code == 0, err
        assert "state" in out


@pytest.mark.parametrize(
    "args,message",
    [
        (["mdp", "--env", "nope"], "unknown MDP environment 'nope'"),
        (["mdp", "--env", "riverswim", "--env-arg", "n_states=1"], "n_states"),
        (["mdp", "--env", "riverswim", "--env-arg", "bogus"], "--env-arg must be key=value"),
        (["mdp", "--env", "riverswim", "--algos", "ucb"], "unknown MDP agent 'ucb'"),
        (["mdp", "--env", "riverswim", "--horizon", "-1"], "--horizon must be >= 1"),
        (["mdp", "--env", "riverswim", "--rewards", "x"], "--rewards must be one of"),
        (["mdp", "--env", "riverswim", "--regret", "often"],
         "--regret must be one of exact, sampled, got 'often'"),
        (["mdp"], "exactly one of --env"),
        (["solve", "--env", "riverswim"], "exactly one of --gamma"),
        (["solve", "--env", "riverswim", "--gamma", "1.0"], "gamma"),
        (["solve", "--env", "riverswim", "--gamma", "0.9", "--method", "x"], "--method"),
        (["solve", "--env", "riverswim", "--horizon", "3", "--method", "vi"], "backward"),
        (["solve", "missing.json", "--gamma", "0.9"], "missing.json"),
        (["run", "missing.toml"], "missing.toml: no such file"),
        (["report", "nowhere"], "nowhere"),
    ],
)
def test_bad_input_is_one_red_line_and_exit_2(monkeypatch, capsys, args, message):
    code, out, err = _main(monkeypatch, capsys, *args)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert message in lines[0]


BAD_FILES = {
    "not json": b"{\"P\": [[[1.0]]",
    "rows": b'{"P": [[[0.5, 0.4], [1, 0]], [[0, 1], [0, 1]]], "R": [[0, 0], [0, 0]]}',
    "nan": b'{"P": [[[NaN]]], "R": [[0]]}',
    "negative": b'{"P": [[[1.5, -0.5], [1, 0]], [[0, 1], [0, 1]]], "R": [[0, 0], [0, 0]]}',
    "bytes": b"\xff\xfe\x00",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_model_files(monkeypatch, capsys, tmp_path, name):
    path = tmp_path / "m.json"
    path.write_bytes(BAD_FILES[name])
    code, _, err = _main(monkeypatch, capsys, "solve", str(path), "--gamma", "0.9")
    assert code == 2 and err.count("\n") == 1 and "m.json" in err and "Traceback" not in err

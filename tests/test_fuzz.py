"""Fuzzing every entry point that reads user input (hypothesis).

The invariant everywhere: either a correct result, or a ValueError (from the CLI: exit code 2
and exactly one line on stderr) whose message names the file or option and the rule; never
another exception, never a traceback, never a partly written output folder.
"""

import io
import json
import math
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cli
import mdp
from experiments import files

FUZZ = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
FUZZ_CLI = settings(FUZZ, max_examples=40)

# --- values that break things --------------------------------------------------------------

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(-(10**30), 10**30),
    st.sampled_from([0, 1, 0.5, -0.0, 1e308, -1e-308, 1.0000001]),
)
scalars = st.one_of(numbers, st.booleans(), st.none(), st.text(max_size=5))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                           max_leaves=25)


def _probability_row(n):
    return st.lists(st.floats(0, 1), min_size=n, max_size=n).map(
        lambda xs: [x / sum(xs) for x in xs] if sum(xs) > 0 else [1.0] + [0.0] * (n - 1))


@st.composite
def mdp_documents(draw):
    """Valid dense or sparse MDP documents, then damaged in one random way (or not)."""
    S = draw(st.integers(1, 3))
    A = draw(st.integers(1, 3))
    if draw(st.booleans()):
        doc = {"P": [[draw(_probability_row(S)) for _ in range(A)] for _ in range(S)],
               "R": [[draw(st.floats(-2, 2)) for _ in range(A)] for _ in range(S)]}
    else:
        trans = [[s, a, s2, p] for s in range(S) for a in range(A)
                 for s2, p in enumerate(draw(_probability_row(S))) if p > 0]
        doc = {"n_states": S, "n_actions": A, "transitions": trans,
               "R": [[draw(st.floats(0, 1)) for _ in range(A)] for _ in range(S)]}
    if draw(st.booleans()):
        doc["initial"] = draw(_probability_row(S))
    damage = draw(st.sampled_from(["none", "replace", "drop", "extra", "ragged", "huge"]))
    key = draw(st.sampled_from(sorted(doc)))
    if damage == "replace":
        doc[key] = draw(json_values)
    elif damage == "drop":
        del doc[key]
    elif damage == "extra":
        doc[draw(st.text(min_size=1, max_size=6))] = draw(json_values)
    elif damage == "ragged" and isinstance(doc.get("R"), list) and doc["R"]:
        doc["R"][0] = doc["R"][0] + [0.1]
    elif damage == "huge":
        doc["n_states"] = draw(st.integers(10**6, 10**15))
    return doc


def _dump(doc) -> bytes:
    return json.dumps(doc, allow_nan=True).encode()


def _check_model(m):
    P = m.P
    assert np.all(np.isfinite(P)) and np.all(P >= 0)
    np.testing.assert_allclose(P.sum(axis=2), 1.0, atol=1e-8)
    assert np.all(np.isfinite(m.R))
    assert math.isclose(m.initial.sum(), 1.0, abs_tol=1e-8)


@FUZZ
@given(doc=mdp_documents(), cut=st.one_of(st.none(), st.integers(0, 400)))
def test_mdp_json_files(tmp_path, doc, cut):
    raw = _dump(doc)
    if cut is not None:
        raw = raw[:cut]
    path = tmp_path / "model.json"
    path.write_bytes(raw)
    try:
        m = mdp.load(path)
    except ValueError as e:
        assert str(e).startswith("model.json: ") or str(e).startswith(str(path))
        assert "\n" not in str(e)
        return
    _check_model(m)


@FUZZ
@given(raw=st.binary(max_size=200))
def test_mdp_files_of_random_bytes(tmp_path, raw):
    for name in ("m.json", "m.npz"):
        path = tmp_path / name
        path.write_bytes(raw)
        with pytest.raises(ValueError, match=name):
            mdp.load(path)


arrays = st.one_of(
    st.builds(lambda s: np.full(s, 0.5), st.lists(st.integers(0, 3), max_size=3).map(tuple)),
    st.builds(np.array, st.lists(numbers, max_size=6)),
    st.just(np.array(["a", "b"])),
    st.just(np.array([1 + 2j])),
    st.just(np.array([object()], dtype=object)),
    st.just(np.array([[1.0]])),
    st.just(np.array([[[1.0]]])),
)


@FUZZ
@given(content=st.dictionaries(st.sampled_from(["P", "R", "initial", "name", "indptr", "indices",
                                                "probs", "junk"]), arrays, max_size=5),
       cut=st.one_of(st.none(), st.integers(0, 300)))
def test_mdp_npz_files(tmp_path, content, cut):
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=True, **content) if content else zipfile.ZipFile(buf, "w").close()
    raw = buf.getvalue()
    if cut is not None:
        raw = raw[:cut]
    path = tmp_path / "m.npz"
    path.write_bytes(raw)
    try:
        m = mdp.load(path)
    except ValueError as e:
        assert str(e).startswith("m.npz: ") or str(path) in str(e)
        return
    _check_model(m)


def test_npz_with_a_pickle_is_refused_without_unpickling(tmp_path):
    class Boom:
        def __reduce__(self):
            return (sys.exit, ("unpickled!",))

    path = tmp_path / "evil.npz"
    np.savez(path, P=np.array([Boom()], dtype=object), R=np.zeros((1, 1)))
    with pytest.raises(ValueError, match="evil.npz"):
        mdp.load(path)


# --- experiment files ------------------------------------------------------------------------

BASE = {
    "bandit": {"setting": "bandit", "env": "close10", "horizon": 50, "runs": 2,
               "agents": ["ucb", "reinforce:alpha=0.4"]},
    "mdp": {"setting": "mdp", "env": "riverswim", "args": {"n_states": 4}, "horizon": 5,
            "episodes": 4, "runs": 2, "agents": ["psrl", {"name": "reinforce", "alpha": 0.2}]},
    "linear-bandit": {"setting": "linear-bandit", "env": "sphere", "args": {"d": 3},
                      "horizon": 50, "runs": 2, "agents": ["oful", "lin-reinforce:alpha=0.4"]},
}
KEYS = ["setting", "env", "means", "family", "sigma", "args", "file", "horizon", "episodes",
        "runs", "rewards", "checkpoints", "agents", "epsilon", "seed", "name", "features",
        "theta", "bogus"]
toml_scalars = st.one_of(
    st.integers(-5, 10**12), st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(), st.text(max_size=8),
    st.sampled_from(["close10", "riverswim", "garnet", "nope", "ucb", "psrl", "ucb:c=-1",
                     "reinforce:alpha=x", "etc:m=0", "bernoulli", "gaussian", "mean", "sphere",
                     "basis", "oful:delta=1", "lin-ts"]))
toml_values = st.one_of(toml_scalars, st.lists(toml_scalars, max_size=3),
                        st.dictionaries(st.sampled_from(["n_states", "n", "name", "c", "x", "d",
                                                         "n_arms", "means"]),
                                        toml_scalars, max_size=2))


@st.composite
def experiment_texts(draw):
    table = dict(BASE[draw(st.sampled_from(sorted(BASE)))])
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(KEYS))
        if draw(st.integers(0, 3)) == 0:
            table.pop(key, None)
        else:
            table[key] = draw(toml_values)
    problem = files.dumps([table], {}, None, draw(st.integers(0, 3)))
    return problem.replace("[versions]\n", "")


def _small(table) -> bool:
    """Budgets small enough to run in a test (the fuzzer may make valid but long runs)."""
    steps = table["horizon"] * table.get("episodes", 1) * table["runs"]
    args = table.get("args", {})
    return (steps <= 50_000 and args.get("n_states", 4) <= 50 and args.get("d", 3) <= 50
            and args.get("n_arms", 50) <= 1000)


@FUZZ
@given(text=experiment_texts())
def test_experiment_files_validate_with_file_and_line(tmp_path, text):
    path = tmp_path / "exp.toml"
    path.write_text(text)
    try:
        spec = files.read(path)
        jobs = cli._jobs(spec)
    except ValueError as e:
        assert str(e).startswith(f"{path}:"), str(e)
        assert "\n" not in str(e)
        return
    assert len(jobs) == 1


@FUZZ_CLI
@given(text=experiment_texts())
def test_celab_run_on_fuzzed_files(tmp_path, monkeypatch, capsys, text):
    path = tmp_path / "exp.toml"
    path.write_text(text)
    try:
        spec = files.read(path)
        cli._jobs(spec)
        if not _small(spec["problems"][0]):
            return  # valid, and too long to run here
    except ValueError:
        pass
    out = _fresh(tmp_path) / "out"
    code, stdout, err = _main(monkeypatch, capsys, "run", str(path), "--out", str(out),
                              "--no-plots")
    _assert_contract(code, err)
    if code == 2:
        assert not out.exists(), "a refused request left an output folder"
    else:
        assert json.loads((out / "status.json").read_text())["complete"]


# --- CLI options -----------------------------------------------------------------------------

option_text = st.one_of(st.text(max_size=6), st.sampled_from(
    ["-1", "0", "1", "3", "2.5", "1e3", "nan", "inf", "-inf", "", " ", "10000000000000000000000"]))
algos_text = st.lists(st.one_of(
    st.sampled_from(["greedy", "ucb", "kl-ucb", "thompson", "reinforce", "etc:m=2",
                     "reinforce:alpha=0.4,baseline=false", "ucb:c=nan", "epsilon-greedy:epsilon=2",
                     "psrl", "ce-greedy", "q-learning:c=1", "x", "", ":", "ucb:", "=1"]),
    st.text(max_size=4)), min_size=1, max_size=3).map(",".join)
means_text = st.lists(st.one_of(st.floats(-1, 2), st.sampled_from([float("nan"), float("inf")])),
                      min_size=0, max_size=4).map(lambda xs: ",".join(repr(x) for x in xs))


def _fresh(tmp_path: Path) -> Path:
    """A new folder per hypothesis example (tmp_path is shared by all examples of a test)."""
    return Path(tempfile.mkdtemp(dir=tmp_path))


def _main(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["celab", *args])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def _assert_contract(code, err):
    assert code in (0, 2), (code, err)
    assert "Traceback" not in err
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err


@FUZZ_CLI
@given(horizon=option_text | st.integers(-3, 60).map(str),
       runs=option_text | st.integers(-1, 3).map(str),
       algos=algos_text, means=st.one_of(st.none(), means_text), gaussian=st.booleans(),
       sigma=option_text)
def test_bandit_options(tmp_path, monkeypatch, capsys, horizon, runs, algos, means, gaussian,
                        sigma):
    out = _fresh(tmp_path) / "o"
    args = ["bandit", "--horizon", horizon, "--runs", runs, "--algos", algos, "--no-plots",
            "--out", str(out)]
    if means is not None:
        args += ["--means", means]
        if gaussian:
            args += ["--gaussian", "--sigma", sigma]
    try:
        if int(horizon) * int(runs) > 20_000:
            return  # valid budgets too long for a test
    except ValueError:
        pass
    code, _, err = _main(monkeypatch, capsys, *args)
    _assert_contract(code, err)
    if code == 2:
        assert not out.exists()


@FUZZ_CLI
@given(env=st.sampled_from(["riverswim", "chain", "deep-sea", "gridworld", "garnet", "nope"]),
       env_args=st.lists(st.one_of(st.sampled_from(
           ["n_states=3", "n=3", "map=4x4", "slippery=no", "n_states=0", "branching=2",
            "n_actions=2", "seed=1", "seed=-1", "map=9x9", "x=1", "n_states", "=3"]),
           st.text(max_size=5)), max_size=3),
       horizon=option_text | st.integers(-1, 8).map(str),
       episodes=st.integers(-1, 6).map(str), algos=algos_text,
       gamma=st.one_of(option_text, st.floats(-1, 2).map(repr)),
       method=st.sampled_from(["auto", "vi", "pi", "mpi", "lp", "rvi", "bi", "x"]))
def test_mdp_and_solve_options(tmp_path, monkeypatch, capsys, env, env_args, horizon, episodes,
                               algos, gamma, method):
    extra = [x for a in env_args for x in ("--env-arg", a)]
    out = _fresh(tmp_path) / "o"
    code, _, err = _main(monkeypatch, capsys, "mdp", "--env", env, *extra, "--horizon", horizon,
                         "--episodes", episodes, "--runs", "2", "--algos", algos, "--no-plots",
                         "--out", str(out))
    _assert_contract(code, err)
    if code == 2:
        assert not out.exists()
    code, _, err = _main(monkeypatch, capsys, "solve", "--env", env, *extra, "--gamma", gamma,
                         "--method", method)
    _assert_contract(code, err)


def test_report_on_a_folder_without_results(tmp_path, monkeypatch, capsys):
    (tmp_path / "config.toml").write_text(files.dumps([dict(BASE["bandit"], name="b",
                                                            seed=0)], {}))
    code, _, err = _main(monkeypatch, capsys, "report", str(tmp_path))
    assert code == 2 and "no saved results" in err
    code, _, err = _main(monkeypatch, capsys, "report", str(Path(tmp_path) / "absent"))
    assert code == 2 and err.count("\n") == 1

"""Results as data: a results folder loaded back (experiments.load), a result's summary as a
frame (experiments.summary)."""

import math
import shutil
import warnings
from dataclasses import replace

import numpy as np
import pytest

import experiments
from experiments import data, files, report, session
from tracking.results import READOUT_KEYS, DamagedFile, load_npz, save_npz

EXPERIMENT = """\
seed = 5

[[problem]]
setting = "mdp"
env = "riverswim"
horizon = 5
episodes = 6
runs = 3
agents = ["ce-optimistic", "reinforce"]

[[problem]]
setting = "bandit"
name = "two-arms"
means = [0.3, 0.6]
horizon = 80
runs = 4
agents = ["ucb", "thompson"]
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A results folder of two problems and the results ``run_experiment`` returned."""
    out = tmp_path_factory.mktemp("data") / "out"
    jobs = files.build_jobs(files.parse(EXPERIMENT))
    with session.Folder(out) as f:
        outcome = session.run_experiment(jobs, f, seed=5, plots=False)
    assert outcome.status["complete"]
    return out, outcome.results


def _bit_identical(a, b):
    assert (a.problem, a.setting, a.agents, a.samples_per_step) == \
        (b.problem, b.setting, b.agents, b.samples_per_step)
    for key in ("checkpoints", "regret", *READOUT_KEYS):
        x, y = getattr(a, key), getattr(b, key)
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), key
    assert a.extra.keys() == b.extra.keys()
    for key in a.extra:
        assert a.extra[key].dtype == b.extra[key].dtype
        assert a.extra[key].tobytes() == b.extra[key].tobytes(), key
    assert (a.config, a.info) == (b.config, b.info)


@pytest.mark.nojit
def test_load_returns_what_run_returned_by_problem_in_order(folder):
    out, returned = folder
    loaded = experiments.load(out)
    assert list(loaded) == ["riverswim", "two-arms"]  # the experiment's order
    assert [r.problem for r in returned] == list(loaded)
    for res in returned:
        _bit_identical(loaded[res.problem], res)


def test_load_and_summary_are_the_data_module_s():
    from experiments import load, summary

    assert load is data.load and summary is data.summary


@pytest.mark.nojit
def test_a_missing_or_incomplete_result_is_one_error_unless_partial(folder, tmp_path):
    out, returned = folder
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    missing = copy / "results" / "two-arms.npz"
    missing.unlink()
    with pytest.raises(ValueError) as e:
        data.load(copy)
    assert str(e.value) == (f"{missing}: missing, the experiment did not finish; complete it "
                            f"with: celab run {copy / 'config.toml'} --resume, or "
                            "load(..., partial=True) for the runs saved")
    assert list(data.load(copy, partial=True)) == ["riverswim"]
    # two of the three runs of the first problem: incomplete
    first = returned[0]
    two = replace(first, regret=first.regret[:, :2],
                  simple_regret_greedy=first.simple_regret_greedy[:, :2],
                  simple_regret_behaviour=first.simple_regret_behaviour[:, :2],
                  extra={k: v[:, :2] for k, v in first.extra.items()})
    save_npz(two, copy / "results" / "riverswim.npz")
    with pytest.raises(ValueError, match=r"riverswim.npz: incomplete \(2 of 3 runs\), the "
                                         "experiment did not finish"):
        data.load(copy)
    (partial,) = data.load(copy, partial=True).values()
    assert partial.runs == 2 and not partial.complete
    _bit_identical(partial, load_npz(copy / "results" / "riverswim.npz"))


@pytest.mark.nojit
def test_a_damaged_file_is_named(folder, tmp_path):
    out, _ = folder
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    damaged = copy / "results" / "riverswim.npz"
    damaged.write_bytes(damaged.read_bytes()[:100])
    with pytest.raises(DamagedFile, match=rf"^{damaged}: damaged.*compute it again with: "
                                          rf"celab run {copy / 'config.toml'} --resume$"):
        data.load(copy)


def test_a_folder_that_is_not_one_is_named(tmp_path):
    with pytest.raises(ValueError, match=rf"^{tmp_path / 'none'}: no such folder$"):
        data.load(tmp_path / "none")
    with pytest.raises(ValueError, match=rf"^{tmp_path}: not a celab results folder \(it has "
                                         r"no config.toml\)$"):
        data.load(tmp_path)


# --- summary frames ------------------------------------------------------------------------

def _nan_or(v):
    return math.nan if v is None else v


def _expected_rows(res):
    """The rows the frame must hold, read from summarize's output by their documented names."""
    s = report.summarize(res)
    rows = []
    for a in s["agents"]:
        g = a["growth"] or {}
        row = {"problem": res.problem, "agent": a["agent"], "runs": res.runs,
               "regret_mean": a["regret_mean"], "regret_ci95": a["regret_ci95"],
               "growth": _nan_or(g.get("estimate"))}
        for r in ("greedy", "behaviour"):
            n = a["readouts"][r]
            q = n["samples_to_epsilon"]
            row.update({f"simple_regret_{r}_mean": n["simple_regret_mean"],
                        f"samples_to_epsilon_{r}": q["estimate"],
                        f"samples_to_epsilon_{r}_high": _nan_or(q["high"]),
                        f"samples_to_epsilon_{r}_censored": q["censored"],
                        f"reached_{r}": n["reached"]})
        row.update(readouts_coincide=a["readouts_coincide"], epsilon=s["epsilon"],
                   delta=s["delta"])
        rows.append(row)
    return rows


def _same_value(x, y):
    if isinstance(y, float) and math.isnan(y):
        return isinstance(x, float) and math.isnan(x)
    return x == y


@pytest.mark.nojit
@pytest.mark.parametrize("backend", ["pandas", "polars"])
def test_the_summary_frame_holds_summary_json_s_numbers(folder, backend):
    pytest.importorskip(backend)
    _, returned = folder
    for res in returned:
        frame = data.summary(res, backend=backend)
        rows = frame.to_dict("records") if backend == "pandas" else frame.to_dicts()
        expected = _expected_rows(res)
        assert len(rows) == len(res.agents)
        for got, want in zip(rows, expected):
            for key, value in want.items():
                assert _same_value(got[key], value), (res.problem, key, got[key], value)


@pytest.mark.nojit
def test_the_summary_frame_s_columns_and_types(folder):
    pytest.importorskip("pandas")
    _, returned = folder
    bandit = returned[1]
    df = data.summary(bandit)
    assert list(df["agent"].cat.categories) == list(bandit.agents)
    assert str(df["family"].dtype) == "category" and str(df["runs"].dtype) == "int64"
    assert str(df["samples_to_epsilon_greedy_censored"].dtype) == "bool"
    assert {"regret_over_log_t", "best_arm_share"} <= set(df.columns)  # the setting's numbers
    assert "simple_regret_mean" not in df.columns  # only per readout
    # epsilon and delta are passed to summarize
    other = data.summary(bandit, epsilon=0.2, delta=0.5)
    assert set(other["epsilon"]) == {0.2} and set(other["delta"]) == {0.5}
    want = report.summarize(bandit, 0.2, 0.5)["agents"][0]["readouts"]["greedy"]
    assert other["reached_greedy"][0] == want["reached"]


def test_an_unknown_summary_backend_is_refused(folder):
    _, returned = folder
    with pytest.raises(ValueError, match="backend must be one of pandas, polars"):
        data.summary(returned[0], backend="arrow")


def test_a_result_without_runs_summarises_to_nan(folder):
    pytest.importorskip("pandas")
    res = folder[1][1]
    empty = replace(res, regret=res.regret[:, :0],
                    simple_regret_greedy=res.simple_regret_greedy[:, :0],
                    simple_regret_behaviour=res.simple_regret_behaviour[:, :0],
                    extra={k: v[:, :0] for k, v in res.extra.items()})
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # means of no runs
        df = data.summary(empty)
    assert len(df) == len(res.agents)
    assert df["samples_to_epsilon_greedy"].isna().all()
    assert not df["samples_to_epsilon_greedy_censored"].any()
    assert all(math.isnan(f["regret_mean"]) for f in empty.final_figures())

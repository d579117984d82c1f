"""Results as data: the curves as frames (pandas, polars), the schema version of results files,
the displays of a Result (repr, HTML, rich)."""

import csv
import io
import json
import sys

import numpy as np
import pytest

import bandits
from tests.cli_helpers import messages, run_main
from tracking import results
from tracking.results import (
    CSV_HEADER,
    SCHEMA,
    DamagedFile,
    NewerSchema,
    curves_csv,
    load_npz,
    read_npz,
    save_npz,
)


@pytest.fixture(scope="module")
def result():
    return bandits.run("close10", "ucb,reinforce", 200, 3, seed=2)


def _csv_rows(text):
    """curves.csv parsed by the csv module, each field typed as the header says."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    types = (str, str, int, int, int, float, float, float)
    return header, [tuple(t(x) for t, x in zip(types, row)) for row in reader]


@pytest.mark.nojit
def test_the_pandas_frame_is_curves_csv_row_by_row(result):
    pytest.importorskip("pandas")
    df = result.to_frame()
    header, rows = _csv_rows(curves_csv([result]))
    assert list(df.columns) == header == CSV_HEADER.split(",")
    assert [tuple(r) for r in df.itertuples(index=False)] == rows
    assert len(rows) == len(result.agents) * result.runs * result.checkpoints.size
    assert {c: str(t) for c, t in df.dtypes.items()} == {
        "problem": "category", "agent": "category", "run": "int64", "step": "int64",
        "samples": "int64", "regret": "float64", "simple_regret_greedy": "float64",
        "simple_regret_behaviour": "float64"}
    assert list(df["agent"].cat.categories) == list(result.agents)
    # the numbers are the arrays' own, in (agent, run, checkpoint) order
    assert np.array_equal(df["regret"].to_numpy(), result.regret.reshape(-1))
    assert np.array_equal(df["simple_regret_behaviour"].to_numpy(),
                          result.simple_regret_behaviour.reshape(-1))


@pytest.mark.nojit
def test_the_polars_frame_holds_the_same_rows(result):
    pl = pytest.importorskip("polars")
    df = result.to_frame("polars")
    assert isinstance(df, pl.DataFrame)
    _, rows = _csv_rows(curves_csv([result]))
    assert df.columns == CSV_HEADER.split(",")
    assert df.rows() == rows
    assert df.schema["agent"] == pl.Enum(list(result.agents))
    assert df.schema["run"] == pl.Int64 and df.schema["regret"] == pl.Float64


@pytest.mark.parametrize("backend,extra", [("pandas", "frames"), ("polars", "polars")])
def test_a_missing_library_names_its_extra(result, monkeypatch, backend, extra):
    monkeypatch.setitem(sys.modules, backend, None)  # import raises ImportError
    with pytest.raises(ImportError, match=rf"need {backend}, which is not installed: "
                                          rf"pip install celab\[{extra}\]$"):
        result.to_frame(backend)


def test_an_unknown_backend_is_refused(result):
    with pytest.raises(ValueError, match="backend must be one of pandas, polars, got 'arrow'"):
        result.to_frame("arrow")


# --- schema --------------------------------------------------------------------------------

def _rewrite(path, **changes):
    arrays = read_npz(path)
    for key, value in changes.items():
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    np.savez(path, **arrays)


def _same(a, b):
    for key in ("checkpoints", "regret", *results.READOUT_KEYS):
        x, y = getattr(a, key), getattr(b, key)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), key
    assert a.extra.keys() == b.extra.keys()
    assert all(a.extra[k].tobytes() == b.extra[k].tobytes() for k in a.extra)
    assert (a.config, a.info, a.agents) == (b.config, b.info, b.agents)


@pytest.mark.nojit
def test_results_files_carry_their_schema(result, tmp_path):
    path = save_npz(result, tmp_path / "r.npz")
    with np.load(path, allow_pickle=False) as z:
        assert z["schema"].ndim == 0 and int(z["schema"]) == SCHEMA == 2
    _same(load_npz(path), result)


@pytest.mark.nojit
def test_a_file_without_a_schema_is_of_the_first_version_and_loads(result, tmp_path):
    path = save_npz(result, tmp_path / "r.npz")
    _rewrite(path, schema=None)
    assert results.schema_of(read_npz(path)) == 1
    _same(load_npz(path), result)


@pytest.mark.nojit
def test_a_file_of_a_newer_schema_is_refused_not_damaged(result, tmp_path):
    path = save_npz(result, tmp_path / "r.npz")
    _rewrite(path, schema=np.array(SCHEMA + 1), regret=None, junk=np.zeros(2))  # new layout
    with pytest.raises(NewerSchema) as e:
        load_npz(path)
    assert str(e.value) == (f"{path}: written by a newer celab: schema {SCHEMA + 1}, this celab "
                            f"reads up to {SCHEMA}; upgrade celab to read it")
    assert not isinstance(e.value, DamagedFile)


@pytest.mark.parametrize("schema", [np.array(0), np.array(-3), np.array("2"), np.array([2]),
                                    np.array(2.0)])
def test_a_schema_that_is_not_a_positive_integer_is_damage(result, tmp_path, schema):
    path = save_npz(result, tmp_path / "r.npz")
    _rewrite(path, schema=schema)
    with pytest.raises(DamagedFile, match="schema must be a positive integer"):
        load_npz(path)


EXPERIMENT = """\
[[problem]]
setting = "bandit"
env = "close10"
horizon = 200
runs = 2
seed = 3
agents = ["ucb"]
"""


@pytest.mark.nojit
def test_a_newer_file_stops_report_and_resume_and_is_kept(tmp_path, monkeypatch, capsys):
    """A file of a newer celab is not damage: ``celab report`` and ``--resume`` stop with one
    line naming it (exit 2) and the file is not computed again over."""
    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT)
    out = tmp_path / "out"
    code, text, err = run_main(monkeypatch, capsys, "run", str(exp), "--out", str(out),
                               "--no-plots", "--json")
    assert code == 0, err
    assert json.loads(text)["schema"] == SCHEMA
    assert json.loads((out / "summary.json").read_text())["schema"] == SCHEMA
    saved = out / "results" / "close10.npz"
    _rewrite(saved, schema=np.array(SCHEMA + 5))
    raw = saved.read_bytes()
    expected = (f"error: {saved}: written by a newer celab: schema {SCHEMA + 5}, this celab "
                f"reads up to {SCHEMA}; upgrade celab to read it")
    for args in (["report", str(out), "--no-plots"],
                 ["run", str(out / "config.toml"), "--resume", "--no-plots"]):
        code, _, err = run_main(monkeypatch, capsys, *args)
        assert code == 2 and messages(err) == [expected], err
    assert saved.read_bytes() == raw


# --- displays ------------------------------------------------------------------------------

def test_the_repr_is_one_line(result):
    text = repr(result)
    assert "\n" not in text and text.startswith("Result(problem='close10'")


def test_the_html_table_has_a_row_per_agent_with_its_final_mean_regret(result):
    html = result._repr_html_()
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    rows = body.split("</tr>")[:-1]
    assert len(rows) == len(result.agents)
    for i, (agent, row) in enumerate(zip(result.agents, rows)):
        cells = row.removeprefix("<tr><td>").removesuffix("</td>").split("</td><td>")
        assert cells[0] == agent
        assert cells[1].split(" ± ")[0] == f"{result.regret[i, :, -1].mean():.4g}"
        assert cells[2] == f"{result.simple_regret_greedy[i, :, -1].mean():.4g}"
        assert cells[3] == f"{result.simple_regret_behaviour[i, :, -1].mean():.4g}"
    assert "<caption>close10 (bandit): 3 runs, 200 samples per run</caption>" in html


def test_the_html_table_escapes_labels(result):
    from dataclasses import replace

    odd = replace(result, agents=("a<b>", "c&d"))
    html = odd._repr_html_()
    assert "<td>a&lt;b&gt;</td>" in html and "<td>c&amp;d</td>" in html


def test_the_rich_table_has_a_row_per_agent_with_its_final_mean_regret(result):
    from rich.console import Console
    from rich.table import Table

    table = result.__rich__()
    assert isinstance(table, Table) and table.row_count == len(result.agents)
    agents, regret = (list(c.cells) for c in table.columns[:2])
    assert agents == list(result.agents)
    assert [r.split(" ± ")[0] for r in regret] == [
        f"{result.regret[i, :, -1].mean():.4g}" for i in range(len(result.agents))]
    console = Console(file=io.StringIO(), width=120)
    console.print(result)  # rich renders a Result through __rich__
    assert "reinforce" in console.file.getvalue()


def test_final_figures_are_the_summary_numbers(result):
    """The displays' regret interval is summary.json's (one definition of the numbers)."""
    from experiments import report

    agents = report.summarize(result)["agents"]
    for figures, entry in zip(result.final_figures(), agents):
        assert figures["regret_mean"] == entry["regret_mean"]
        assert figures["regret_ci95"] == entry["regret_ci95"]
        assert figures["simple_regret_greedy_mean"] == pytest.approx(
            entry["readouts"]["greedy"]["simple_regret_mean"], rel=1e-15)

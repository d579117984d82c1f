"""FiniteMDP: CSR storage, validation at construction, and the file formats."""

from __future__ import annotations

import json
import re
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mdp
from mdp import FiniteMDP


def random_dense(S: int, A: int, seed: int = 0, zeros: float = 0.5) -> tuple[np.ndarray, ...]:
    """A random (S, A, S) kernel with about ``zeros`` of its entries zero, and rewards."""
    rng = np.random.default_rng(seed)
    P = rng.random((S, A, S)) * (rng.random((S, A, S)) >= zeros)
    P[:, :, 0] += 1e-3  # every row has a positive entry
    P /= P.sum(axis=2, keepdims=True)
    return P, rng.normal(size=(S, A))


def csr_of(P: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays of the dense kernel, computed independently with numpy.nonzero."""
    S, A, _ = P.shape
    rows, cols = np.nonzero(P.reshape(S * A, S))
    indptr = np.zeros(S * A + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=S * A), out=indptr[1:])
    return indptr, cols.astype(np.int64), P.reshape(S * A, S)[rows, cols]


# --- storage ---------------------------------------------------------------------------------


@pytest.mark.parametrize("zeros", [0.0, 0.5, 0.9])
def test_dense_input_is_stored_as_csr(zeros):
    P, R = random_dense(7, 3, zeros=zeros)
    m = FiniteMDP(P, R)
    indptr, indices, probs = csr_of(P)
    assert (m.n_states, m.n_actions) == (7, 3)
    assert m.indptr.dtype == np.int64 and m.indices.dtype == np.int64
    assert m.probs.dtype == np.float64
    np.testing.assert_array_equal(m.indptr, indptr)
    np.testing.assert_array_equal(m.indices, indices)
    np.testing.assert_array_equal(m.probs, probs)
    np.testing.assert_array_equal(m.P, P)
    np.testing.assert_array_equal(m.R, R)
    assert m.R.flags.c_contiguous
    np.testing.assert_array_equal(m.initial, np.eye(7)[0])
    assert m.name == "mdp"
    assert m.nnz == probs.size


def test_successor_lists_increase_and_are_positive():
    P, R = random_dense(9, 4, zeros=0.6, seed=3)
    m = FiniteMDP(P, R)
    for row in range(9 * 4):
        idx = m.indices[m.indptr[row]:m.indptr[row + 1]]
        assert np.all(np.diff(idx) > 0)
        assert np.all(m.probs[m.indptr[row]:m.indptr[row + 1]] > 0)
    states, probs = m.successors(2, 1)
    np.testing.assert_array_equal(states, np.flatnonzero(P[2, 1]))
    np.testing.assert_array_equal(probs, P[2, 1][P[2, 1] > 0])


@pytest.mark.nojit
def test_from_successors_equals_dense_construction():
    P, R = random_dense(6, 2, zeros=0.5, seed=1)
    a = FiniteMDP(P, R, name="x")
    b = FiniteMDP.from_successors(*csr_of(P), R, name="x")
    for attr in ("indptr", "indices", "probs", "R", "initial", "P"):
        np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))


def test_from_successors_drops_zero_probabilities():
    indptr = np.array([0, 2, 4])
    indices = np.array([0, 1, 0, 1])
    probs = np.array([0.0, 1.0, 0.5, 0.5])
    m = FiniteMDP.from_successors(indptr, indices, probs, np.zeros((2, 1)))
    np.testing.assert_array_equal(m.indptr, [0, 1, 3])
    np.testing.assert_array_equal(m.indices, [1, 0, 1])
    np.testing.assert_array_equal(m.probs, [1.0, 0.5, 0.5])


def test_full_rows_give_complete_indices():
    # a dense kernel without zeros: the kernels never read the indices, the attribute is complete
    P, R = random_dense(5, 3, zeros=0.0)
    m = FiniteMDP(P, R)
    np.testing.assert_array_equal(m.indices, np.tile(np.arange(5), 15))
    np.testing.assert_array_equal(m.P, P)


def test_arrays_are_read_only_and_private():
    P, R = random_dense(4, 2)
    indptr, indices, probs = csr_of(P)
    m = FiniteMDP.from_successors(indptr, indices, probs, R)
    for arr in (m.indptr, m.indices, m.probs, m.R, m.initial, m.P):
        with pytest.raises(ValueError):
            arr[0] = 0
    for attr in ("indptr", "indices", "probs", "R", "initial", "P", "n_states", "n_actions"):
        with pytest.raises(AttributeError):
            setattr(m, attr, None)
    # the caller's arrays stay writable and changing them does not touch the model
    before = m.probs.copy()
    probs[:] = 0.5
    P[:] = 0.0
    np.testing.assert_array_equal(m.probs, before)
    m2 = FiniteMDP(np.full((2, 1, 2), 0.5), np.zeros((2, 1)))
    assert m2.probs.base is None or not np.shares_memory(m2.probs, P)


def test_dense_P_is_refused_above_two_gib():
    S, A = 10_000, 4  # S * A * S * 8 bytes = 3.2 GB
    m = FiniteMDP.from_successors(np.arange(S * A + 1), np.repeat(np.arange(S), A),
                                  np.ones(S * A), np.zeros((S, A)))
    with pytest.raises(ValueError, match=r"GiB"):
        _ = m.P


def test_config_of_a_custom_model():
    P, R = random_dense(3, 2)
    m = FiniteMDP(P, R, name="mine")
    assert m.config() == {"name": "mine", "n_states": 3, "n_actions": 2, "nnz": m.nnz}


def test_single_state_single_action():
    m = FiniteMDP(np.ones((1, 1, 1)), [[2.5]])
    assert (m.n_states, m.n_actions, m.nnz) == (1, 1, 1)


# --- validation ------------------------------------------------------------------------------


def good() -> tuple[np.ndarray, np.ndarray]:
    P = np.zeros((4, 2, 4))
    P[:, 0, 0] = 1.0
    P[:, 1, :] = 0.25
    return P, np.zeros((4, 2))


@pytest.mark.nojit
def test_row_sum_message_names_the_first_bad_row():
    P, R = good()
    P[3, 1, :] = [0.3, 0.3, 0.3, 0.0]  # sums to 0.9
    P[3, 0, 0] = 0.5  # a later bad row must not be reported first... (3, 0) comes first
    with pytest.raises(ValueError, match=r"^P\[3, 0\] sums to 0\.5 \(must be 1 within 1e-8\)$"):
        FiniteMDP(P, R)
    P[3, 0, 0] = 1.0
    with pytest.raises(ValueError, match=r"^P\[3, 1\] sums to 0\.9 \(must be 1 within 1e-8\)$"):
        FiniteMDP(P, R)


def test_row_sum_tolerance_is_1e8():
    P, R = good()
    P[1, 0, 0] = 1.0 + 5e-9
    FiniteMDP(P, R)  # within the tolerance
    P[1, 0, 0] = 1.0 + 2e-8
    with pytest.raises(ValueError, match=r"P\[1, 0\] sums to"):
        FiniteMDP(P, R)


@pytest.mark.parametrize(
    ("edit", "pattern"),
    [
        (lambda P, R: (P[:, :, :3], R), r"P must have shape \(S, A, S\)"),
        (lambda P, R: (P[0], R), r"P must have shape \(S, A, S\)"),
        (lambda P, R: (np.zeros((0, 2, 0)), R), r"P must have shape \(S, A, S\) with S, A >= 1"),
        (lambda P, R: (np.zeros((4, 0, 4)), R), r"P must have shape \(S, A, S\) with S, A >= 1"),
        (lambda P, R: (P, R[:, :1]), r"R must have shape \(S, A\) = \(4, 2\), got \(4, 1\)"),
        (lambda P, R: (P, R.ravel()), r"R must have shape"),
        (lambda P, R: (P.astype(object), R), r"P must be an array of numbers"),
        (lambda P, R: ([[[1.0], [1.0, 0.0]]], R), r"P must be a rectangular array"),
        (lambda P, R: (P > 0, R), r"P must be an array of numbers, got dtype bool"),
    ],
)
def test_shape_and_type_errors(edit, pattern):
    with pytest.raises(ValueError, match=pattern):
        FiniteMDP(*edit(*good()))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_probabilities(bad):
    P, R = good()
    P[2, 1, 3] = bad
    with pytest.raises(ValueError, match=r"^P\[2, 1, 3\] is .* \(must be finite\)$"):
        FiniteMDP(P, R)


def test_negative_probability():
    P, R = good()
    P[1, 1, :] = [0.5, 0.5, 0.25, -0.25]
    with pytest.raises(ValueError, match=r"^P\[1, 1, 3\] is -0\.25 \(must be >= 0\)$"):
        FiniteMDP(P, R)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_rewards(bad):
    P, R = good()
    R[3, 1] = bad
    with pytest.raises(ValueError, match=r"^R\[3, 1\] is .* \(must be finite\)$"):
        FiniteMDP(P, R)


@pytest.mark.parametrize(
    ("initial", "pattern"),
    [
        ([1.0, 0.0, 0.0], r"initial must be a distribution of length S = 4"),
        ([0.5, 0.5, 0.5, -0.5], r"^initial\[3\] is -0\.5 \(must be >= 0\)$"),
        ([0.5, 0.2, 0.0, 0.0], r"^initial sums to 0\.7 \(must be 1 within 1e-8\)$"),
        ([np.nan, 0, 0, 1], r"initial\[0\] is nan \(must be finite\)"),
        ([[1.0, 0, 0, 0]], r"initial must be a distribution"),
    ],
)
def test_initial_distribution_errors(initial, pattern):
    with pytest.raises(ValueError, match=pattern):
        FiniteMDP(*good(), initial=initial)


def test_name_must_be_a_string():
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        FiniteMDP(*good(), name=3)


def sparse_good():
    # 2 states, 2 actions: rows (0,0) (0,1) (1,0) (1,1)
    return (np.array([0, 1, 3, 4, 6]), np.array([0, 0, 1, 1, 0, 1]),
            np.array([1.0, 0.5, 0.5, 1.0, 0.25, 0.75]), np.zeros((2, 2)))


@pytest.mark.parametrize(
    ("edit", "pattern"),
    [
        (lambda ip, ix, pr, R: (ip[:-1], ix, pr, R), r"indptr must have length S\*A \+ 1 = 5"),
        (lambda ip, ix, pr, R: (ip, ix[:-1], pr, R), r"indices and probs must have the same"),
        (lambda ip, ix, pr, R: (ip - 1, ix, pr, R), r"indptr must start at 0"),
        (lambda ip, ix, pr, R: (np.array([0, 3, 1, 4, 6]), ix, pr, R), r"never decrease"),
        (lambda ip, ix, pr, R: (ip, np.array([0, 0, 1, 1, 0, 2]), pr, R),
         r"indices\[5\] = 2 \(successor of \(1, 1\)\) is out of range \[0, S\)"),
        (lambda ip, ix, pr, R: (ip, np.array([0, 0, 1, 1, 0, -1]), pr, R),
         r"indices\[5\] = -1 .* out of range"),
        (lambda ip, ix, pr, R: (ip, np.array([0, 1, 0, 1, 0, 1]), pr, R),
         r"strictly increasing within each row: indices\[2\] = 0"),
        (lambda ip, ix, pr, R: (ip, np.array([0, 1, 1, 1, 0, 1]), pr, R),
         r"strictly increasing"),
        (lambda ip, ix, pr, R: (ip, ix, np.array([1.0, 0.5, 0.5, 1.0, 0.25, 0.5]), R),
         r"^P\[1, 1\] sums to 0\.75 \(must be 1 within 1e-8\)$"),
        (lambda ip, ix, pr, R: (ip, ix, np.array([1.0, 1.5, -0.5, 1.0, 0.25, 0.75]), R),
         r"^P\[0, 1, 1\] is -0\.5 \(must be >= 0\)$"),
        (lambda ip, ix, pr, R: (ip, ix, np.array([1.0, 0.5, np.nan, 1.0, 0.25, 0.75]), R),
         r"P\[0, 1, 1\] is nan \(must be finite\)"),
        (lambda ip, ix, pr, R: (ip, ix.astype(float) + 0.5, pr, R), r"indices must be a 1-D array"),
        (lambda ip, ix, pr, R: (ip, ix, pr, R[0]), r"R must have shape \(S, A\)"),
        (lambda ip, ix, pr, R: (np.array([0, 1, 1, 4, 6]), np.array([0, 0, 1, 1, 0, 1]),
                                np.array([1.0, 0.5, 0.5, 1.0, 0.25, 0.75]), R),
         r"^P\[0, 1\] sums to 0 \(must be 1 within 1e-8\)$"),
    ],
)
def test_sparse_validation(edit, pattern):
    with pytest.raises(ValueError, match=pattern):
        FiniteMDP.from_successors(*edit(*sparse_good()))


# --- files -----------------------------------------------------------------------------------


def assert_same(a: FiniteMDP, b: FiniteMDP) -> None:
    for attr in ("indptr", "indices", "probs", "R", "initial"):
        np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))
    assert a.name == b.name


@pytest.mark.parametrize("ext", [".json", ".npz"])
@pytest.mark.parametrize("sparse", [False, True])
def test_round_trip(tmp_path, ext, sparse):
    P, R = random_dense(6, 3, zeros=0.5, seed=4)
    initial = np.array([0.5, 0.25, 0.25, 0, 0, 0])
    m = FiniteMDP(P, R, initial=initial, name="trip")
    path = mdp.save(m, tmp_path / f"model{ext}", sparse=sparse)
    back = mdp.load(path)
    assert_same(m, back)
    assert back.config() == {"file": str(path)}
    if ext == ".json":
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert ("transitions" in doc) == sparse
        assert set(doc) == ({"n_states", "n_actions", "transitions", "R", "initial", "name"}
                            if sparse else {"P", "R", "initial", "name"})
    else:
        with np.load(path, allow_pickle=False) as z:
            assert ("indptr" in z.files) == sparse


def test_save_picks_the_sparse_form_for_large_models(tmp_path):
    m = mdp.envs.garnet(50, 30, 2)  # 50 * 30 * 50 = 75000 entries > 65536
    doc = json.loads(mdp.save(m, tmp_path / "g.json").read_text(encoding="utf-8"))
    assert "transitions" in doc and len(doc["transitions"]) == 50 * 30 * 2
    small = mdp.envs.riverswim(4)
    assert "P" in json.loads(mdp.save(small, tmp_path / "r.json").read_text(encoding="utf-8"))


def test_hand_written_sparse_json_sums_duplicates(tmp_path):
    doc = {"n_states": 2, "n_actions": 1,
           "transitions": [[0, 0, 1, 0.25], [0, 0, 1, 0.25], [0, 0, 0, 0.5], [1, 0, 1, 1.0]],
           "R": [[1.0], [0.0]]}
    path = tmp_path / "h.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    m = mdp.load(path)
    np.testing.assert_array_equal(m.P, [[[0.5, 0.5]], [[0.0, 1.0]]])
    assert m.name == "mdp"


def test_save_is_atomic_and_checks_the_extension(tmp_path):
    m = mdp.envs.riverswim(3)
    with pytest.raises(ValueError, match=r"^model\.txt: unknown model file extension"):
        mdp.save(m, tmp_path / "model.txt")
    mdp.save(m, tmp_path / "m.json")
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temporary file left


def dense_doc() -> dict:
    P, R = good()
    return {"P": P.tolist(), "R": R.tolist(), "initial": [1, 0, 0, 0], "name": "g"}


def sparse_doc() -> dict:
    return {"n_states": 2, "n_actions": 1, "transitions": [[0, 0, 1, 1.0], [1, 0, 0, 1.0]],
            "R": [[0.0], [1.0]]}


def edited(doc: dict, **changes) -> str:
    out = dict(doc)
    for key, value in changes.items():
        if value is KeyError:
            del out[key]
        else:
            out[key] = value
    return json.dumps(out)


BAD_JSON = [
    ("truncated", json.dumps(dense_doc())[:40], r"not valid JSON"),
    ("empty", "", r"not valid JSON"),
    ("not an object", "[1, 2, 3]", r"must hold a JSON object"),
    ("missing R", edited(dense_doc(), R=KeyError), r"missing key 'R'"),
    ("extra key", edited(dense_doc(), gamma=0.9), r"unknown key 'gamma'"),
    ("ragged P", edited(dense_doc(), P=[[[1, 0, 0, 0], [1, 0, 0]]] * 4), r"ragged"),
    ("P not nested", edited(dense_doc(), P=[1, 2]), r"P\[0\] must be a non-empty list"),
    ("string entry", edited(dense_doc(), P=[[["a", 1, 0, 0], [1, 0, 0, 0]]] * 4),
     r"must be a number, got 'a'"),
    ("bool entry", edited(dense_doc(), R=[[True, 0]] * 4), r"R\[0\]\[0\] must be a number"),
    ("null entry", edited(dense_doc(), R=[[None, 0]] * 4), r"must be a number, got None"),
    ("NaN", json.dumps(dense_doc()).replace('"R": [[0.0', '"R": [[NaN'),
     r"R\[0, 0\] is nan \(must be finite\)"),
    ("negative", edited(dense_doc(), P=[[[1.5, -0.5, 0, 0], [1, 0, 0, 0]]] * 4),
     r"P\[0, 0, 1\] is -0\.5 \(must be >= 0\)"),
    ("row sum", edited(dense_doc(), P=[[[0.5, 0, 0, 0], [1, 0, 0, 0]]] * 4),
     r"P\[0, 0\] sums to 0\.5 \(must be 1 within 1e-8\)"),
    ("name type", edited(dense_doc(), name=5), r"name must be a string"),
    ("initial", edited(dense_doc(), initial=[0.5, 0, 0, 0]), r"initial sums to 0\.5"),
    ("sparse missing", edited(sparse_doc(), n_actions=KeyError), r"missing key 'n_actions'"),
    ("sparse bad n", edited(sparse_doc(), n_states=0), r"n_states must be an integer >= 1"),
    ("sparse bad n type", edited(sparse_doc(), n_states="2"), r"n_states must be an integer"),
    ("sparse entry", edited(sparse_doc(), transitions=[[0, 0, 1]]),
     r"transitions\[0\] must be a list \[s, a, s_next, p\]"),
    ("sparse range", edited(sparse_doc(), transitions=[[0, 0, 2, 1.0], [1, 0, 0, 1.0]]),
     r"transitions\[0\] = \[0, 0, 2, 1\.0\]: s, s_next must be integers in \[0, 2\)"),
    ("sparse float index", edited(sparse_doc(), transitions=[[0.0, 0, 1, 1.0], [1, 0, 0, 1]]),
     r"transitions\[0\]"),
    ("sparse p type", edited(sparse_doc(), transitions=[[0, 0, 1, "1"], [1, 0, 0, 1.0]]),
     r"p must be a number"),
    ("sparse row sum", edited(sparse_doc(), transitions=[[0, 0, 1, 1.0]]),
     r"P\[1, 0\] sums to 0 \(must be 1 within 1e-8\)"),
    ("sparse R shape", edited(sparse_doc(), R=[[0.0, 1.0]]), r"R must have shape"),
]


@pytest.mark.parametrize(("label", "text", "pattern"), BAD_JSON, ids=[b[0] for b in BAD_JSON])
def test_malformed_json(tmp_path, label, text, pattern):
    path = tmp_path / "model.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"^model\.json: .*" + pattern) as info:
        mdp.load(path)
    assert "\n" not in str(info.value)


def test_non_utf8_and_missing_files(tmp_path):
    path = tmp_path / "model.json"
    path.write_bytes(b'{"P": "\xff\xfe"}')
    with pytest.raises(ValueError, match=r"^model\.json: not UTF-8 text$"):
        mdp.load(path)
    for name in ("absent.json", "absent.npz"):  # missing, not "not a valid .npz file"
        with pytest.raises(ValueError, match=f"^{re.escape(str(tmp_path / name))}: no such file$"):
            mdp.load(tmp_path / name)
    (tmp_path / "folder.json").mkdir()
    with pytest.raises(ValueError, match=r"^folder\.json: cannot read the file"):
        mdp.load(tmp_path / "folder.json")
    with pytest.raises(ValueError, match=r"^m\.yaml: unknown model file extension"):
        mdp.load(tmp_path / "m.yaml")


def test_npz_with_object_arrays_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "evil.npz"
    P, R = good()
    np.savez(path, P=np.array([P, "x"], dtype=object), R=R)  # needs pickle to load
    with pytest.raises(ValueError, match=r"^evil\.npz: holds object arrays"):
        mdp.load(path)


def test_npz_problems(tmp_path):
    P, R = good()
    cases = {
        "truncated.npz": None,
        "missing.npz": {"P": P},
        "extra.npz": {"P": P, "R": R, "gamma": np.array(0.9)},
        "strings.npz": {"P": P.astype(str), "R": R},
        "badname.npz": {"P": P, "R": R, "name": np.array([1, 2])},
        "rowsum.npz": {"P": P * 0.5, "R": R},
        "sparse.npz": {"indptr": np.arange(9), "indices": np.zeros(8, np.int64),
                       "probs": np.ones(8), "R": np.zeros((4, 2)), "initial": np.ones(4)},
    }
    good_path = tmp_path / "good.npz"
    np.savez(good_path, P=P, R=R)
    for name, arrays in cases.items():
        path = tmp_path / name
        if arrays is None:
            path.write_bytes(good_path.read_bytes()[:100])
        else:
            np.savez(path, **arrays)
        with pytest.raises(ValueError, match="^" + re.escape(name) + ": ") as info:
            mdp.load(path)
        assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match=r"initial sums to 4"):
        mdp.load(tmp_path / "sparse.npz")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_corrupted_files_raise_value_error_only(tmp_path, data):
    """Random byte edits of valid JSON and npz files: a model or a ValueError, nothing else."""
    m = mdp.envs.riverswim(3)
    for ext in (".json", ".npz"):
        path = mdp.save(m, tmp_path / f"c{ext}")
        raw = bytearray(path.read_bytes())
        edits = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 255)),
                                   min_size=1, max_size=4))
        for pos, byte in edits:
            raw[pos] = byte
        cut = data.draw(st.integers(1, len(raw)))
        path.write_bytes(bytes(raw[:cut]))
        try:
            back = mdp.load(path)
        except ValueError as exc:
            assert str(exc).startswith(f"c{ext}: ")
        else:
            assert isinstance(back, FiniteMDP)


def test_npz_is_a_zip_of_plain_arrays(tmp_path):
    path = mdp.save(mdp.envs.riverswim(3), tmp_path / "r.npz")
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["P.npy", "R.npy", "initial.npy", "name.npy"]


@pytest.mark.parametrize("zeros", [0.0, 0.6])
def test_validation_by_products(zeros):
    # the validation pass also computes P (max_a R) and P 1, from which mdp.solve takes its
    # first Bellman sweep; both constructors must give them
    P, R = random_dense(8, 3, zeros=zeros, seed=5)
    P[0, 0] = np.eye(8)[3]  # a row with a single successor
    for m in (FiniteMDP(P, R), FiniteMDP.from_successors(*csr_of(P), R)):
        np.testing.assert_allclose(m._first_products(-2.5), P @ (R.max(axis=1) - 2.5),
                                   rtol=1e-12, atol=1e-14)

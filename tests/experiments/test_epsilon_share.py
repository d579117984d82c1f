"""epsilon as a share of each run's optimal value (``epsilon_share``) and instances per run
(``instance = "per-run"``) through experiment files, celab run, --resume, celab report and
celab mdp; bad input as one line."""

import json
from dataclasses import replace

import numpy as np
import pytest

from experiments import files, report
from tests.cli_helpers import _in_tmp, messages, run_main  # noqa: F401 (_in_tmp: a fixture)
from tracking import stats
from tracking.results import load_npz, save_npz

FAMILY = """\
seed = 5

[[problem]]
name = "family"
setting = "mdp"
env = "garnet"
args = { n_states = 8, n_actions = 2, branching = 3 }
instance = "per-run"
horizon = 5
episodes = 40
runs = 6
epsilon_share = 0.2
agents = ["ce-greedy", "reinforce"]
"""


def _summary(folder):
    return json.loads((folder / "summary.json").read_text())["problems"][0]


def test_epsilon_share_round_trip_through_run_resume_and_report(monkeypatch, capsys, tmp_path):
    """The summary reads run r at 0.2 V*_0(instance r) (the numbers by hand from the saved V*
    per run), states the rule, and the same after --resume from the first runs and after celab
    report; config.toml keeps the rule and the instances."""
    (tmp_path / "exp.toml").write_text(FAMILY)
    code, _, err = run_main(monkeypatch, capsys, "run", "exp.toml", "--out", "a", "--no-plots")
    assert code == 0, err
    config = (tmp_path / "a" / "config.toml").read_text()
    assert 'instance = "per-run"' in config and "epsilon_share = 0.2" in config
    assert "\nepsilon = " not in config
    res = load_npz(tmp_path / "a" / "results" / "family.npz")
    eps = 0.2 * res.extra["v_star"][0]
    assert len(set(eps)) == res.runs
    summary = _summary(tmp_path / "a")
    assert summary["epsilon"] is None
    rule = summary["epsilon_rule"]
    assert (rule["share"], rule["of"], rule["per_run"]) == (0.2, "V*_0", True)
    assert rule["median"] == float(np.median(eps)) and "20% of V*_0 per run" in rule["text"]
    assert summary["optimum_runs"]["max"] == float(res.extra["v_star"][0].max())
    for i, entry in enumerate(summary["agents"]):
        exits = stats.last_exit_times(res.samples, res.simple_regret_greedy[i], eps)
        assert entry["reached"] == exits.reached
        assert entry["samples_to_epsilon"] == stats.km_quantile(exits, 0.1).as_dict()
    # the first 2 runs saved, then --resume: the same numbers
    first = replace(res, regret=res.regret[:, :2], simple_regret_greedy=res.simple_regret_greedy
                    [:, :2], simple_regret_behaviour=res.simple_regret_behaviour[:, :2],
                    extra={k: v[:, :2] for k, v in res.extra.items()})
    save_npz(first, tmp_path / "a" / "results" / "family.npz")
    code, _, err = run_main(monkeypatch, capsys, "run", "a/config.toml", "--resume",
                            "--no-plots")
    assert code == 0, err
    resumed = load_npz(tmp_path / "a" / "results" / "family.npz")
    for key in ("regret", "simple_regret_greedy", "simple_regret_behaviour"):
        assert np.array_equal(getattr(resumed, key), getattr(res, key)), key
    for key in ("v_star", "instance_seed"):
        assert np.array_equal(resumed.extra[key], res.extra[key]), key
    assert _summary(tmp_path / "a") == summary
    code, out, err = run_main(monkeypatch, capsys, "report", "a", "--json")
    assert code == 0, err
    assert json.loads(out)["problems"][0] == summary
    code, out, err = run_main(monkeypatch, capsys, "report", "a")
    assert code == 0, err
    assert "Epsilon = 20% of V*_0 per run; median" in " ".join(out.split())


def test_an_epsilon_argument_overrides_the_share():
    """report.measure with an epsilon reads every run at it; without, at the share of each
    run's V*_0, or of the one V*_0 of a fixed instance."""
    res = _family_result()
    eps, _ = report.measure(res)
    assert np.array_equal(eps, 0.2 * res.extra["v_star"][0])
    assert report.measure(res, epsilon=0.3)[0] == 0.3
    assert report.summarize(res, epsilon=0.3)["epsilon_rule"] is None
    # one instance (one V*_0 = 2): one epsilon, 0.2 * 2, stated as such
    fixed = replace(res, extra={}, info={**res.info, "v_star": 2.0})
    assert report.measure(fixed)[0] == 0.2 * 2.0
    summary = report.summarize(fixed)
    assert summary["epsilon"] == 0.2 * 2.0 and summary["optimum_runs"] is None
    assert summary["epsilon_rule"]["text"] == "epsilon = 20% of V*_0 = 0.4"


def _family_result():
    from tracking.runner import execute

    job, = files.build_jobs(files.parse(FAMILY))
    return execute(job)


def test_celab_mdp_per_run_and_share(monkeypatch, capsys, tmp_path):
    """celab mdp --instance per-run --epsilon-share: the saved configuration says both, the table
    the rule; its rerun gives the same numbers."""
    args = ["mdp", "--env", "garnet", "--env-arg", "n_states=6", "--env-arg", "n_actions=2",
            "--env-arg", "branching=2", "--horizon", "4", "--episodes", "20", "--runs", "3",
            "--algos", "ce-greedy", "--no-plots", "--instance", "per-run",
            "--epsilon-share", "0.1"]
    code, out, err = run_main(monkeypatch, capsys, *args, "--out", "m")
    assert code == 0, err
    assert "episodes to 10% of V*_0" in out
    code, _, err = run_main(monkeypatch, capsys, "run", "m/config.toml", "--out", "again",
                            "--no-plots")
    assert code == 0, err
    a, b = (load_npz(tmp_path / d / "results" / "garnet.npz") for d in ("m", "again"))
    assert np.array_equal(a.regret, b.regret) and a.config == b.config
    assert a.config["instance"] == "per-run" and a.config["epsilon_share"] == 0.1


@pytest.mark.nojit
@pytest.mark.parametrize("args, message", [
    (["--env", "riverswim", "--instance", "per-run"], "'riverswim' has none"),
    (["--env", "garnet", "--env-arg", "n_states=4", "--env-arg", "n_actions=2", "--env-arg",
      "branching=2", "--env-arg", "seed=1", "--instance", "per-run"], "leave seed out of args"),
    (["--env", "riverswim", "--instance", "often"], "--instance must be one of fixed, per-run"),
    (["--env", "riverswim", "--epsilon", "0.1", "--epsilon-share", "0.1"],
     "give --epsilon or --epsilon-share, not both"),
    (["--env", "riverswim", "--epsilon-share", "1.5"], "--epsilon-share must be in (0, 1)"),
])
def test_bad_celab_mdp_options_are_one_line(monkeypatch, capsys, tmp_path, args, message):
    code, _, err = run_main(monkeypatch, capsys, "mdp", *args, "--episodes", "3", "--runs", "2")
    assert code == 2, err
    lines = messages(err)
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
    assert not (tmp_path / "celab-results").exists()


@pytest.mark.nojit
@pytest.mark.parametrize("change, line, message", [
    (("epsilon_share = 0.2", "epsilon_share = 0.2\nepsilon = 0.1"), 12,
     "give epsilon or epsilon_share, not both"),
    (("epsilon_share = 0.2", "epsilon_share = 1.0"), 12, "epsilon_share must be in (0, 1)"),
    (('instance = "per-run"', 'instance = "each"'), 8, "instance must be one of"),
    (('env = "garnet"\nargs = { n_states = 8, n_actions = 2, branching = 3 }',
      'env = "garnet"\nargs = { n_states = 8, n_actions = 2, branching = 3, seed = 2 }'), 7,
     "leave seed out of args"),
    (('env = "garnet"\nargs = { n_states = 8, n_actions = 2, branching = 3 }',
      'env = "chain"'), 6, "'chain' has none"),
    (('setting = "mdp"', 'setting = "bandit"'), 5, "unknown key"),
])
def test_bad_experiment_files_are_one_line(monkeypatch, capsys, tmp_path, change, line,
                                           message):
    """Each problem named by its file and line, exit 2, nothing written."""
    (tmp_path / "exp.toml").write_text(FAMILY.replace(*change))
    code, _, err = run_main(monkeypatch, capsys, "run", "exp.toml", "--out", "x")
    assert code == 2, err
    lines = messages(err)
    assert len(lines) == 1 and message in lines[0], err
    if "unknown key" not in message:
        assert lines[0].startswith(f"error: exp.toml:{line}:"), err
    assert not (tmp_path / "x").exists()


def test_a_model_file_cannot_draw_instances(monkeypatch, capsys, tmp_path):
    import mdp

    mdp.save(mdp.envs.make("riverswim", n_states=3), tmp_path / "m.json")
    text = FAMILY.replace('env = "garnet"\nargs = { n_states = 8, n_actions = 2, branching = 3 }',
                          'file = "m.json"')
    (tmp_path / "exp.toml").write_text(text)
    code, _, err = run_main(monkeypatch, capsys, "run", "exp.toml", "--out", "x")
    assert code == 2, err
    lines = messages(err)
    assert len(lines) == 1 and "a model file is one instance" in lines[0], err
    assert not (tmp_path / "x").exists()

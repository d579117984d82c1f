"""The setting protocol: a setting declared in one module is run, reported, plotted and shrunk
by the top floor, which finds it through the registry."""

import subprocess
import sys

import numpy as np
import pytest

import experiments  # noqa: F401 - registers the labs' settings
from experiments import files, plots, report, studies
from tracking import results, settings
from tracking.runner import Job, execute
from tracking.settings import Bounds, Key, Setting, TableError


class ToyJob(Job):
    """A setting's job: regret t per agent and run (t the checkpoint in rounds)."""

    setting = "toy"
    samples_per_step = 1

    @classmethod
    def from_table(cls, table):
        job = cls()
        job.problem, job.runs = table["name"], table["runs"]
        job.agents = tuple(table["agents"])
        job.checkpoints = np.arange(1, table["rounds"] + 1)
        job.config, job.info, job.work_per_run = dict(table), {}, 1.0
        return job

    def run_batch(self, start, stop, progress, should_stop=None):
        curve = np.broadcast_to(self.checkpoints.astype(float), (len(self.agents), stop - start,
                                                           self.checkpoints.size))
        return {"regret": curve.copy(), "simple_regret_greedy": np.zeros_like(curve),
                "simple_regret_behaviour": np.zeros_like(curve)}


def _toy_source(data, base):
    if "level" not in data:
        settings.fail(None, "a toy problem needs 'level'")
    return {"level": settings.number(data, "level")}, "toy-problem"


TOY = Setting(
    name="toy", job=f"{__name__}:ToyJob", agents="bandits.agents:REGISTRY",
    envs="bandits.envs:NAMED", budget_keys=(Key("rounds", "integer", minimum=1),),
    source_keys=("level",), source=_toy_source, epsilon=0.5, length="rounds",
    smoke={"rounds": 3}, example={"level": 1.0, "rounds": 5}, budget="R = {budget_samples}",
    sample_unit="rounds", axis_unit="toy rounds", regret_label="toy regret",
    bounds=lambda job, result: Bounds(step=(1.0, 1.0), simple=(0.0, 0.0)),
    stochastic=lambda job: False, validate=lambda job: None, work_rate=1e9,
    summary_keys=("rounds",), agent_extras=lambda result, i, entry: {"twice": 2 * i})

TEXT = """
[[problem]]
setting = "toy"
level = 0.5
rounds = 8
runs = 2
agents = ["a", "b"]
checkpoints = [2, 8]
"""


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(settings.REGISTRY, "toy", TOY)
    return TOY


def test_a_setting_declared_in_one_place_runs_through_files_reports_plots_and_studies(toy):
    parsed = files.parse(TEXT, "toy.toml")
    table, = parsed["problems"]
    assert table == {"setting": "toy", "seed": 0, "rounds": 8, "runs": 2, "epsilon": 0.5,
                     "delta": 0.1, "checkpoints": [2, 8], "agents": ["a", "b"], "level": 0.5,
                     "name": "toy-problem"}
    job, = files.build_jobs(parsed)
    assert isinstance(job, ToyJob)
    result = execute(job)
    summary = report.summarize(result)
    assert summary["sample_unit"] == "rounds" and summary["rounds"] == 8
    assert [a["twice"] for a in summary["agents"]] == [0, 2]
    assert report._title(summary).startswith("toy-problem: R = 8, 2 runs")
    assert plots._unit(result) == "toy rounds"
    small = studies.shrink(parsed)["problems"][0]
    assert small["rounds"] == 3 and "checkpoints" in small and small["checkpoints"] == [2]


def test_a_settings_keys_give_the_rules_and_messages(toy):
    with pytest.raises(files.FileError, match=r"toy.toml:5: rounds must be >= 1, got 0"):
        files.parse(TEXT.replace("rounds = 8", "rounds = 0"), "toy.toml")
    with pytest.raises(files.FileError, match=r"unknown key 'horizon' in a toy problem \(allowed"
                                              r": agents, budget, cap, checkpoints, delta, "
                                              r"epsilon, level, "
                                              r"name, "
                                              r"rounds, runs, seed, setting, stop\)"):
        files.parse(TEXT + "horizon = 3\n", "toy.toml")
    with pytest.raises(files.FileError, match="toy.toml:2: a toy problem needs 'level'"):
        files.parse(TEXT.replace("level = 0.5\n", ""), "toy.toml")
    with pytest.raises(files.FileError, match=r"missing key 'setting' \(bandit, continuing, "
                                              r"linear-bandit, mdp, reasoning or toy\)"):
        files.parse(TEXT.replace('setting = "toy"\n', ""), "toy.toml")


def test_key_rules_serve_files_and_jobs_alike():
    horizon = Key("horizon", "integer", minimum=1)
    assert horizon.read({"horizon": 3}) == horizon.check(3.0) == 3
    for bad in ({"horizon": 0}, {"horizon": True}, {}):
        with pytest.raises(TableError):
            horizon.read(bad)
    with pytest.raises(ValueError, match="horizon must be >= 1, got 0"):
        horizon.check(0)
    rewards = settings.get("mdp").key("rewards")
    assert rewards.read({}) == "mean"
    with pytest.raises(ValueError, match="rewards must be one of mean, bernoulli, got 'x'"):
        rewards.check("x")
    assert settings.get("bandit").key("epsilon").read({}) == 0.01


def test_delta_is_a_key_of_every_setting_in_the_open_unit_interval():
    for name in settings.names():
        key = settings.get(name).key("delta")
        assert key.read({}) == settings.get(name).delta == 0.1
        assert key.read({"delta": 0.5}) == key.check(0.5) == 0.5
        for bad in (0, 1, 1.5, -0.1):
            with pytest.raises(TableError, match=rf"delta must be in \(0, 1\), got {bad:g}"):
                key.read({"delta": bad})
            with pytest.raises(ValueError, match=rf"delta must be in \(0, 1\), got {bad:g}"):
                key.check(bad)


def test_every_registered_setting_is_complete():
    for name in settings.names():
        s = settings.get(name)
        assert s.name == name
        assert s.length in {k.name for k in s.budget_keys}
        assert set(s.smoke) <= {k.name for k in s.budget_keys}
        assert set(s.example) <= set(s.source_keys) | {k.name for k in s.budget_keys}
        assert s.job_class().setting == name
        assert s.agent_registry() and s.env_registry()
        assert name in results.SETTINGS  # its saved results read back (tracking.results)


def test_registering_another_job_under_a_taken_name_is_refused():
    import dataclasses

    with pytest.raises(ValueError, match="registered twice"):
        settings.register(dataclasses.replace(settings.get("bandit"), job="x:Y"))
    with pytest.raises(ValueError, match="unknown setting 'nope' \\(known: bandit, continuing, "
                                         "linear-bandit, mdp, reasoning\\)"):
        settings.get("nope")


def test_the_registries_and_settings_import_without_numba():
    code = ("import sys\n"
            "import bandits.agents, bandits.envs, bandits.setting\n"
            "import bandits.linear, bandits.linear_agents, bandits.linear_setting\n"
            "import mdp.agents, mdp.envs, mdp.setting\n"
            "import mdp.reasoning_agents, mdp.reasoning_run, mdp.reasoning_setting\n"
            "import experiments, experiments.files, experiments.report\n"
            "assert 'numba' not in sys.modules, 'numba imported'\n"
            "import bandits, mdp\n"
            "assert callable(bandits.run) and callable(mdp.solve) and callable(mdp.generative)\n"
            "assert 'numba' in sys.modules\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr

"""Every bandit policy-gradient agent, tuned with celab tune on held-out seeds, learns: its
regret on the evaluation seeds is below that of a uniformly random policy."""

import numpy as np

from experiments import files, session
from experiments import tune as tuning
from tracking import stats

PG = ["reinforce", "rloo", "grpo", "ppo", "actor-critic", "npg"]
EXPERIMENT = """\
seed = 0
[[problem]]
setting = "bandit"
env = "{env}"
horizon = {horizon}
runs = 24
agents = {agents}
[tune]
objective = "regret"
runs = 6
{grids}
"""


def test_tuned_policy_gradient_agents_beat_the_uniform_policy(tmp_path):
    """linspace10 (T = 1000) and close10 (T = 20,000: its gaps are small, and npg, which is
    Exp3 without mixing, needs long to beat the uniform policy there), 24 evaluation runs, step
    sizes 0.01 to 1 tuned on 6 runs per candidate. A uniformly random policy's pseudo-regret is
    exactly T times the mean gap (0.4 on linspace10, 0.09 on close10); each tuned agent's mean
    regret plus its 95% interval's half-width (Student t over the runs) must stay below it."""
    grids = "\n".join(f'{name} = {{ alpha = [0.01, 0.03, 0.1, 0.3, 1.0] }}' for name in PG)
    agents = "[" + ", ".join(f'"{name}"' for name in PG) + "]"
    for env, horizon in (("linspace10", 1000), ("close10", 20000)):
        text = EXPERIMENT.format(env=env, horizon=horizon, agents=agents, grids=grids)
        plan = tuning.plan(files.parse(text, f"{env}.toml"))
        tuned = tuning.run(plan, tmp_path / env)
        parsed = files.read(tuned.tuned)
        jobs = files.build_jobs(parsed)
        with session.Folder(tmp_path / f"{env}-eval") as folder:
            (result,) = session.run_experiment(jobs, folder, plots=False).results
        means = np.asarray(result.info["means"])
        uniform = result.checkpoints[-1] * float(np.mean(means.max() - means))
        for i, label in enumerate(result.agents):
            mean, half = stats.mean_ci(result.regret[i, :, -1])
            assert mean + half < uniform, (env, label, mean, half, uniform)

"""The reasoning agents (mdp/reasoning_agents.py) against their plain-Python references, their
exact properties, learning, common random numbers, validation and the command line."""

import numba
import numpy as np
import pytest

from mdp import reasoning
from mdp._reasoning_loop import one_run
from mdp.reasoning_agents import REGISTRY
from mdp.reasoning_run import PASS_KS, ReasoningJob, held_out_count, run
from tests.cli_helpers import (
    _in_tmp,  # noqa: F401 - every test runs in a temporary folder
    messages,
    run_main,
)
from tests.mdp import reasoning_reference as ref_impl
from tracking.specs import build

TRIE = {"n_prompts": 5, "horizon": 3, "vocab": 3, "n_solutions": 2, "p_min": 0.05,
        "p_max": 0.5, "seed": 1}
SHARED = {"n_prompts": 5, "horizon": 3, "vocab": 3, "n_solutions": 2, "n_features": 2,
          "p_min": 0.05, "p_max": 0.5, "seed": 1}
SEED, RUN, HELD = 7, 2, 1


def _job(spec, env="trie", args=None, calls=8, **kw):
    return ReasoningJob(env, spec, calls, 4, SEED, env_args=args or TRIE, held_out=HELD, **kw)


def kernel_run(job, n_calls, run=RUN):
    """One run of the job's first agent through the jitted loop, a checkpoint at every call:
    (curves, final numbers, state, last step's buffers)."""
    params = job._params[0]
    ctx = job._context(params, job._arrays())
    key = job.run_seeds(run, run + 1)[0]
    grid = np.arange(1, n_calls + 1, dtype=np.int64)
    curves = [np.zeros(n_calls) for _ in range(3)]
    pt, ph, stats = np.zeros(len(PASS_KS)), np.zeros(len(PASS_KS)), np.zeros(3)
    counts = np.zeros(2, dtype=np.int64)
    ok, state, buf = one_run(params, ctx, key, n_calls, grid, *curves, pt, ph, stats, counts,
                             np.zeros(1, dtype=np.uint8))
    assert ok
    return curves, (pt, ph, stats, counts), state, buf


CASES = [
    ("grpo:batch=2,group=4,alpha=5.0,beta=0.1,epochs=3", "trie"),
    ("grpo:batch=2,group=3,alpha=8.0,clip=inf,policy=shared", "shared"),
    ("rloo:batch=2,group=3,alpha=2.0,beta=0.2", "trie"),
    ("rloo:batch=3,group=2,alpha=3.0,policy=shared", "shared"),
    ("rsft:batch=2,group=4,alpha=0.7,steps=2", "trie"),
    ("ce:batch=2,group=3,beta=0.3,r0=0.2", "trie"),
    ("ce-optimistic:batch=2,group=3,beta=0.2,c=0.5", "trie"),
    ("ce-linear:batch=2,group=3,beta=0.3,lam=0.5", "trie"),
    ("ce-linear:batch=2,group=3,beta=0.2,v=0.5,features=prompt", "shared"),
]
STEPS = 4


def _args(env):
    return TRIE if env == "trie" else SHARED


def _params_of(state, agent):
    if agent.name.startswith("ce"):
        return state.plan
    return state.w if agent.policy == "shared" else state.theta


@pytest.mark.nojit
@pytest.mark.parametrize("spec,env", CASES)
def test_each_trained_agent_follows_its_reference_step_by_step(spec, env):
    """Same prompts, tokens, states and verdicts at every step, and the same parameters after
    every update (to 1e-12: the reference sums in the same order; numpy's exponentials may
    differ in the last bit), on a tiny task."""
    agent = build(REGISTRY, spec)
    per_step = agent.batch * agent.group
    task = reasoning.make_task(env, **_args(env))
    ref = ref_impl.reference_run(task, agent, STEPS * per_step, SEED, RUN, HELD)
    for k in range(1, STEPS + 1):
        _, _, state, buf = kernel_run(_job(spec, env, _args(env)), k * per_step)
        step = ref["steps"][k - 1]
        assert buf.prompts.tolist() == step["prompts"]
        assert buf.tokens.tolist() == step["tokens"]
        assert buf.states.tolist() == step["path"]
        assert buf.verdicts.tolist() == step["verdicts"]
        np.testing.assert_allclose(_params_of(state, agent), step["params"], rtol=0,
                                   atol=1e-12)
        if agent.name in ("ce", "ce-optimistic"):
            assert np.array_equal(state.n, step["n"]) and np.array_equal(state.s, step["s"])
        if agent.name == "ce-linear":  # the Gram matrix sums the same products in order
            assert np.array_equal(state.gram, step["gram"])
            np.testing.assert_allclose(state.theta, step["theta"], rtol=0, atol=1e-12)


@pytest.mark.nojit
@pytest.mark.parametrize("spec,env", [CASES[0], CASES[1], CASES[5],
                                      ("base", "trie"), ("power:alpha=2.0", "trie")])
def test_curves_follow_the_reference_at_every_call(spec, env):
    """Pseudo-regret and both readouts after every call, a last partial step included."""
    agent = build(REGISTRY, spec)
    n_calls = (3 * agent.batch * agent.group + 2) if agent.learns else 9
    task = reasoning.make_task(env, **_args(env))
    ref = ref_impl.reference_run(task, agent, n_calls, SEED, RUN, HELD)
    (regret, greedy, behaviour), (pt, ph, stats, counts), _, _ = kernel_run(
        _job(spec, env, _args(env)), n_calls)
    np.testing.assert_allclose(regret, ref["regret"], rtol=1e-12)
    np.testing.assert_allclose(behaviour, ref["behaviour"], rtol=0, atol=1e-12)
    assert np.array_equal(greedy, ref["greedy"])
    assert counts.tolist() == ([n_calls * task.horizon, n_calls] if agent.learns else [0, 0])


def test_the_grpo_token_gradient_is_the_derivative_of_its_objective():
    """The analytic per-token gradient of the clipped surrogate minus beta k3 against central
    differences (step 1e-6: truncation ~1e-12, rounding ~1e-10), unclipped and clipped."""
    rng = np.random.default_rng(0)
    for adv, shift in ((1.3, 0.0), (-0.7, 0.0), (1.3, 2.0), (-0.7, -2.0)):
        logits = rng.standard_normal(4)
        old = ref_impl.softmax(list(logits - shift * np.eye(4)[2]))
        ref = ref_impl.softmax(list(rng.standard_normal(4)))
        args = (old, ref, 2, adv, 0.3, 0.2)
        g = ref_impl.grpo_token_gradient(logits, *args)
        num = np.array([(ref_impl.grpo_token_objective(logits + 1e-6 * e, *args)
                         - ref_impl.grpo_token_objective(logits - 1e-6 * e, *args)) / 2e-6
                        for e in np.eye(4)])
        np.testing.assert_allclose(g, num, atol=1e-7)


def test_ce_plan_is_the_kl_optimum_of_its_fitted_table():
    """Exactly (the same soft backward induction), with the optimistic bonus too."""
    task = reasoning.make_task("trie", **TRIE)
    pi_ref = reasoning.reference_policy(task)
    for spec in ("ce:batch=2,group=3,beta=0.3,r0=0.2", "ce-optimistic:beta=0.2,c=0.5"):
        agent = build(REGISTRY, spec)
        _, _, state, _ = kernel_run(_job(spec), 5 * agent.batch * agent.group)
        fitted = ref_impl.Plan(agent, task, pi_ref)
        fitted.n, fitted.s = state.n, state.s
        assert state.n.sum() == 5 * agent.batch * agent.group
        assert np.array_equal(state.plan,
                              reasoning.kl_optimum(task, pi_ref, fitted.fitted(), agent.beta))


def test_ce_with_a_huge_beta_stays_at_the_reference():
    res = run("trie", "ce:beta=1e9,base", calls=200, runs=3, seed=1, env_args=TRIE,
              held_out=HELD)
    np.testing.assert_allclose(res.simple_regret_behaviour[0], res.simple_regret_behaviour[1],
                               rtol=0, atol=1e-8)
    assert res.extra["kl"][0].max() < 1e-8


@pytest.mark.slow  # thousands of calls of every trained agent: make test-slow
def test_every_trained_agent_learns_on_a_small_trie():
    """Final exact pass@1 (behaviour) on the training prompts: every trained agent's mean over
    8 runs exceeds the base's (exact, the same in every run) by more than 3 standard errors
    of that mean (the runs are independent: the tolerance is their sampling error)."""
    args = {"n_prompts": 8, "horizon": 3, "vocab": 4, "n_solutions": 2, "p_min": 0.02,
            "p_max": 0.3, "seed": 3}
    agents = ("grpo,rloo,rsft,ce,ce-optimistic,grpo:policy=shared,ce-linear:features=prompt,"
              "ce-linear:features=prompt,v=0.5,base")
    res = run("shared", agents, calls=1500, runs=8, seed=5,
              env_args={**args, "n_features": 2}, held_out=2)
    final = 1.0 - res.simple_regret_behaviour[:, :, -1]
    base = final[-1]
    assert np.ptp(base) == 0.0
    for i, label in enumerate(res.agents[:-1]):
        se = final[i].std(ddof=1) / np.sqrt(final.shape[1])
        assert final[i].mean() - base[0] > 3 * se, (label, final[i].mean(), base[0], se)


def test_held_out_prompts_stay_at_the_reference_with_a_tabular_policy():
    res = run("shared", "grpo,rloo,ce,base,grpo:policy=shared", calls=400, runs=2,
              env_args=SHARED, held_out=2)
    held = res.extra["pass_at_k_held_out"]
    for i in range(4):
        np.testing.assert_allclose(held[i], held[3], rtol=0, atol=1e-12)
    assert not np.allclose(held[4], held[3])


def test_pass_at_k_is_exact_from_p_correct():
    """pass@k of the base policy: the mean over training prompts of 1 - (1 - p)^k."""
    task = reasoning.make_task("trie", **TRIE)
    res = run("trie", "base", calls=5, runs=1, env_args=TRIE, held_out=HELD)
    pc = reasoning.p_correct(task, reasoning.reference_policy(task))
    want = reasoning.pass_at_k(pc[:-HELD], np.array(PASS_KS)).mean(axis=0)
    np.testing.assert_allclose(res.extra["pass_at_k"][0, 0], want, rtol=1e-12)
    np.testing.assert_allclose(res.extra["pass_at_k_held_out"][0, 0],
                               reasoning.pass_at_k(pc[-HELD:], np.array(PASS_KS)).mean(axis=0),
                               rtol=1e-12)


def test_agents_of_one_policy_sample_the_same_first_group():
    """Common random numbers: grpo and rloo at pi_ref draw the same first group, and its
    first slot is what sample_responses draws for that prompt under the same seed and run."""
    spec = "batch=2,group=4"
    bufs = [kernel_run(_job(f"{name}:{spec}"), 8)[3] for name in ("grpo", "rloo", "rsft", "ce")]
    for buf in bufs[1:]:
        assert np.array_equal(buf.tokens, bufs[0].tokens)
        assert np.array_equal(buf.verdicts, bufs[0].verdicts)
    task = reasoning.make_task("trie", **TRIE)
    p = int(bufs[0].prompts[0])
    s = reasoning.sample_responses(task, reasoning.reference_policy(task), np.array([p]), 4,
                                   SEED, RUN)
    assert np.array_equal(s.tokens[0], bufs[0].tokens[0])
    assert np.array_equal(s.correct[0], bufs[0].verdicts[0])


def test_runs_are_deterministic_and_independent_of_the_thread_count():
    spec = "grpo:batch=2,ce,rsft:policy=shared"
    results = []
    for threads in (1, 2, 2):
        if threads > numba.config.NUMBA_NUM_THREADS:
            pytest.skip("one numba thread")
        before = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            results.append(run("shared", spec, calls=120, runs=3, seed=4, env_args=SHARED))
        finally:
            numba.set_num_threads(before)
    for other in results[1:]:
        for key in ("regret", "simple_regret_greedy", "simple_regret_behaviour"):
            assert np.array_equal(getattr(results[0], key), getattr(other, key))
        for key, value in results[0].extra.items():
            assert np.array_equal(value, other.extra[key]), key


@pytest.mark.parametrize("spec,field", [
    ("grpo:policy=maybe", "policy"), ("grpo:group=1", "group"), ("rloo:alpha=0", "alpha"),
    ("rsft:steps=0", "steps"), ("ce:beta=0", "beta"), ("ce:r0=2", "r0"),
    ("ce-optimistic:c=-1", "c"), ("power:alpha=-1", "alpha"), ("grpo:clip=0", "clip"),
    ("grpo:epochs=0", "epochs"), ("rloo:beta=-1", "beta"), ("base:alpha=1", "alpha"),
])
def test_bad_agent_parameters_name_the_field(spec, field):
    with pytest.raises(ValueError, match=field):
        build(REGISTRY, spec, "reasoning")


def test_the_job_validates_its_problem():
    with pytest.raises(ValueError, match="held_out"):
        ReasoningJob("trie", "base", 8, 1, env_args=TRIE, held_out=1.5)
    with pytest.raises(ValueError, match="held_out leaves no training prompt"):
        ReasoningJob("trie", "base", 8, 1, env_args=TRIE, held_out=5)
    with pytest.raises(ValueError, match="policy"):
        ReasoningJob("trie", "grpo:policy=shared", 8, 1, env_args=TRIE)
    with pytest.raises(ValueError, match="n_prompts"):
        ReasoningJob("trie", "base", 8, 1, env_args={"n_prompts": "x"})
    with pytest.raises(ValueError, match="calls"):
        ReasoningJob("trie", "base", 0, 1, env_args=TRIE)
    assert held_out_count(0.2, 5) == 1 and held_out_count(0.0, 5) == 0
    assert held_out_count(3, 5) == 3


def test_a_task_file_runs_as_its_task(tmp_path):
    task = reasoning.make_task("trie", **TRIE)
    path = reasoning.save_task(task, tmp_path / "tiny.npz")
    a = run(None, "grpo,ce", calls=40, runs=2, task=path, held_out=HELD)
    b = run("trie", "grpo,ce", calls=40, runs=2, env_args=TRIE, held_out=HELD)
    assert a.problem == "tiny" and a.config["task"] == str(path)
    assert np.array_equal(a.regret, b.regret)


@pytest.mark.parametrize("args,words", [
    (["--held-out", "1.5"], "held_out"),
    (["--agents", "grpo:policy=shared"], "policy"),
    (["--env-arg", "n_prompts=x"], "n_prompts"),
    (["--agents", "grpo:group=1"], "group"),
    (["--env", "maze"], "unknown reasoning task"),
    (["--calls", "0"], "--calls"),
])
def test_the_command_line_refuses_bad_input_in_one_line(monkeypatch, capsys, args, words):
    code, out, err = run_main(monkeypatch, capsys, "reasoning", "--calls", "16", *args)
    lines = messages(err)
    assert code == 2 and len(lines) == 1 and words in lines[0], err


def test_the_command_line_runs_and_shows_the_table(monkeypatch, capsys):
    code, out, err = run_main(monkeypatch, capsys, "reasoning", "--env-arg", "n_prompts=6",
                              "--env-arg", "horizon=3", "--env-arg", "vocab=3", "--calls",
                              "64", "--runs", "2", "--agents", "grpo,ce,base", "--no-plots")
    assert code == 0, err
    assert "pass@1" in out and "ce" in out and "results saved in" in out


def test_an_experiment_file_runs_resumes_and_rebuilds_its_job(tmp_path, monkeypatch, capsys):
    """A reasoning problem with a task file beside the experiment file: celab run writes a
    result that reads back and copies the task into the folder; a worker's job rebuilt from
    the task table gives the same numbers; resuming a folder that holds 2 of its 3 runs gives
    the numbers of 3 runs at once."""
    from experiments import files, session
    from tracking.results import load_npz
    from tracking.runner import execute, job_from_table

    reasoning.save_task(reasoning.make_task("trie", **TRIE), tmp_path / "tiny.npz")
    text = ('[[problem]]\nsetting = "reasoning"\ntask = "tiny.npz"\nheld_out = 1\n'
            'calls = 48\nruns = {runs}\nagents = ["grpo:batch=2", "ce", "base"]\n')
    exp = tmp_path / "exp.toml"
    exp.write_text(text.format(runs=3))
    code, out, err = run_main(monkeypatch, capsys, "run", str(exp), "--out", "full",
                              "--no-plots")
    assert code == 0, err
    full = load_npz(tmp_path / "full" / "results" / "tiny.npz")
    assert full.setting == "reasoning" and full.runs == 3
    assert full.config["task"] == "tasks/tiny.npz"  # the folder holds its copy of the task
    copy = reasoning.load_task(tmp_path / "full" / "tasks" / "tiny.npz")
    assert np.array_equal(copy.ref_logits, reasoning.make_task("trie", **TRIE).ref_logits)
    job, = files.build_jobs(files.read(exp))
    again = execute(job_from_table(type(job), job.task_table()))
    assert np.array_equal(again.regret, full.regret)
    # a folder whose results hold the first 2 of 3 runs (as an interruption leaves it)
    import dataclasses

    from tracking.results import save_npz

    exp_part = tmp_path / "part.toml"
    exp_part.write_text(text.format(runs=3))
    jobs = files.build_jobs(files.read(exp_part))
    with session.Folder(tmp_path / "part", resume=False) as f:
        session.run_experiment(jobs, f, None, 0, False, None, plots=False)
    saved = tmp_path / "part" / "results" / "tiny.npz"
    first = load_npz(saved)
    save_npz(dataclasses.replace(
        first, regret=first.regret[:, :2],
        simple_regret_greedy=first.simple_regret_greedy[:, :2],
        simple_regret_behaviour=first.simple_regret_behaviour[:, :2],
        extra={k: v[:, :2] for k, v in first.extra.items()}), saved)
    assert load_npz(saved).runs == 2
    spec = session.read_config(tmp_path / "part" / "config.toml")
    with session.Folder(tmp_path / "part", resume=True) as f:
        outcome = session.run_experiment(files.build_jobs(spec), f, None, 0, True, None,
                                         plots=False)
    res, = outcome.results
    assert res.runs == 3 and np.array_equal(res.regret, full.regret)
    for key, value in full.extra.items():
        assert np.array_equal(res.extra[key], value), key


def test_the_pass_at_k_figure_is_drawn_for_reasoning_results_only(tmp_path):
    import bandits
    from experiments import plots

    res = run("trie", "ce,base", calls=24, runs=2, env_args=TRIE, held_out=HELD)
    names = {p.name for p in plots.plot_result(res, tmp_path / "r")}
    assert {"trie-pass-at-k.png", "trie-regret.png", "trie-simple.png"} <= names
    other = bandits.run("close10", "ucb", 50, 2)
    assert not any("pass-at-k" in p.name for p in plots.plot_result(other, tmp_path / "b"))


def _arrays_of(value):
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _arrays_of(item)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_the_declared_run_state_covers_what_a_run_allocates(name):
    """The memory guard's run state (ReasoningJob.run_state_bytes) is at least the bytes of
    the arrays a run makes (state and buffers; those shared with the task left out) and not
    more than four times them plus the scratch allowance."""
    from tracking import memory

    env, args = ("shared", SHARED) if name in ("grpo", "rloo", "rsft") else ("trie", TRIE)
    spec = f"{name}:policy=shared" if env == "shared" else name
    job = _job(spec, env, args)
    ctx = job._context(job._params[0], job._arrays())
    _, _, state, buf = kernel_run(job, 8)
    shared = list(_arrays_of(tuple(ctx)))
    made = sum(a.nbytes for a in _arrays_of((state, buf))
               if not any(np.shares_memory(a, b) for b in shared))
    declared = job.run_state_bytes()
    assert made <= declared <= 4 * made + memory.SCRATCH + job._table_bytes()

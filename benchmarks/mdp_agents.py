"""MDP agents: celab's episodic loop against rlberry-scool's UCBVIAgent, in environment steps/s.

Everything is timed in one process (numba's cold compilation in subprocesses started from it),
the cases taking turns in every round, so the ratios hold although a 2-core shared machine is
noisy from one run to the next.

    benchmarks/.venv/bin/python benchmarks/mdp_agents.py            # full budgets
    benchmarks/.venv/bin/python benchmarks/mdp_agents.py --quick    # smoke run

An environment step is one sampled transition (s, a) -> s'. celab's ``mdp.run(m, agent, H, K,
runs)`` takes K * H * runs of them, whatever the agent; rlberry's ``agent.fit(budget=K)`` takes
K * H (its FiniteMDP never terminates, so every episode lasts H steps: checked after every fit
from the agent's visit counts). Measured:

1. celab ``mdp.run`` on ``garnet(100, 5, 10)`` (seed 0), H = 20, for ce-greedy and psrl, with
   numba's default threads (prange over runs) and with one thread, and for ce-optimistic,
   q-learning and the policy-gradient agents (reinforce, rloo, grpo, ppo, actor-critic, npg)
   for context; after a warm-up call, so compilation is excluded. Each
   call includes everything ``mdp.run`` does: the exact per-episode regret (policy evaluation
   on the true model) and the checkpoint plans;
2. rlberry-scool's ``UCBVIAgent`` on the same P and R (``rlberry.envs.finite_mdp.FiniteMDP``,
   start state 0 as celab's garnet), H = 20, gamma = 1, with ``real_time_dp=False`` (a full
   backward induction after every episode, like celab's model-based agents) and ``True`` (a
   Bellman update of the visited state at every step). ``fit`` ends with one more full backward
   induction for the recommended policy; the episodes are timed on their own too (a timer
   around ``agent._run_episode``), and the rate without that final induction, the higher one, is
   the one compared;
3. the floor: celab ce-greedy and psrl at least 50x rlberry's full-DP UCBVI (the like-for-like
   comparison); the ratios to real-time DP are reported beside it;
4. celab on ``riverswim(6)`` (all the agents of 1.) and ``garnet(500, 4, 10)`` (ce-greedy, psrl),
   H = 20, with psrl's per-episode cost split into posterior sampling and planning;
5. compilation: ``import mdp``, building the garnet and the first ``mdp.run`` calls in fresh
   processes, with an empty and with a filled NUMBA_CACHE_DIR;
6. long budgets, H = 10: ``reinforce`` on ``garnet(200, 4, 5)`` with exact and with sampled
   regret (``regret = "sampled"``: no policy evaluation per episode, the softmax computed at
   the visited rows only), floor sampled >= 20x exact; every policy-gradient agent on
   ``garnet(50, 4, 5)`` with sampled regret on one thread, floor 1 M steps/s each;
   ``ce-greedy`` with sampled regret beside its plan alone (a planning agent pays its plan);
   ``psrl`` on ``garnet(200, 4, 5)``, its posterior sampling timed beside the previous
   sampler (Marsaglia-Tsang with the U^(1/a) boost, in logs, kept here as a reference) and
   beside numpy's ``Generator.gamma`` drawing as many variates of shape 1/S in one vectorised
   call, floor psrl >= 2x its rate with the previous sampler (the one-thread episode time
   with the previous sampling time in place of the new); peak memory of sampled ``reinforce``
   in fresh processes at K = 10^4 and 10^6 episodes, floor within 10 MB of each other.

The script prints a markdown report and exits with status 1 when a floor fails.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numba
import numpy as np
from _common import cpu_name, load, log, version

import mdp
from tracking.rng import beta, gamma, gamma_mt, uniform

H = 20
SEED = 0
BONUS_SCALE = 1.0  # UCBVI's bonus_scale_factor (its default); the cost does not depend on it
FLOOR = 50.0
PG_AGENTS = ("reinforce", "rloo", "grpo", "ppo", "actor-critic", "npg")
ALL_AGENTS = ("ce-greedy", "psrl", "ce-optimistic", "q-learning") + PG_AGENTS
PROBLEMS: dict[str, Callable[[], mdp.FiniteMDP]] = {
    "garnet(100, 5, 10)": lambda: mdp.envs.garnet(100, 5, 10, seed=SEED),
    "riverswim(6)": lambda: mdp.envs.riverswim(6),
    "garnet(500, 4, 10)": lambda: mdp.envs.garnet(500, 4, 10, seed=SEED),
    "garnet(200, 4, 5)": lambda: mdp.envs.garnet(200, 4, 5, seed=SEED),
    "garnet(50, 4, 5)": lambda: mdp.envs.garnet(50, 4, 5, seed=SEED),
}
MAIN = "garnet(100, 5, 10)"
LONG = "garnet(200, 4, 5)"  # the long-budget rows (6.), H = H_LONG
SMALL = "garnet(50, 4, 5)"
H_LONG = 10
LONG_FLOOR = 20.0  # reinforce: sampled / exact regret
PG_FLOOR = 1e6  # steps/s on one thread, every policy-gradient agent with sampled regret
PSRL_FLOOR = 2.0  # psrl / psrl with the previous sampler
MEMORY_FLOOR = 10.0  # MB between the peak RSS at K = 10^4 and 10^6
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class CelabCase:
    """One timed ``mdp.run`` call: one agent, K episodes x runs, on ``threads`` numba threads."""

    problem: str
    agent: str
    episodes: int
    runs: int
    threads: int  # 0: numba's default
    horizon: int = H
    regret: str = "exact"

    @property
    def label(self) -> str:
        mode = ", sampled regret" if self.regret == "sampled" else ""
        one = ", 1 thread" if self.threads == 1 else ""
        return f"celab {self.agent}{mode}{one}"


@dataclass(frozen=True)
class Budget:
    """Every measurement's size."""

    main: tuple[CelabCase, ...]  # garnet(100, 5, 10), interleaved with rlberry
    full_dp_episodes: int  # rlberry UCBVI, real_time_dp=False
    rtdp_episodes: int  # rlberry UCBVI, real_time_dp=True
    scaling: tuple[CelabCase, ...]  # riverswim(6) and garnet(500, 4, 10)
    reps: int
    breakdown_reps: int
    long: tuple[CelabCase, ...]  # 6.: garnet(200, 4, 5) and garnet(50, 4, 5), H = 10
    memory_episodes: tuple[int, int]  # 6.: sampled reinforce in fresh processes


def _main_cases(k: int, runs: dict[str, int], one: dict[str, int]) -> tuple[CelabCase, ...]:
    cases = [CelabCase(MAIN, a, k, runs[a], 0) for a in ALL_AGENTS]
    cases[2:2] = [CelabCase(MAIN, a, k, n, 1) for a, n in one.items()]
    return tuple(cases)


def _scaling_cases(k_river: int, river_runs: int, k_big: dict[str, int],
                   big_runs: dict[str, int]) -> tuple[CelabCase, ...]:
    river = [CelabCase("riverswim(6)", a, k_river, river_runs, 0) for a in ALL_AGENTS]
    big = [CelabCase("garnet(500, 4, 10)", a, k_big[a], big_runs[a], 0) for a in k_big]
    return tuple(river + big)


def _long_cases(k_exact: int, k_sampled: int, k_small: int, k_plan: int, k_psrl: int,
                runs: int) -> tuple[CelabCase, ...]:
    """6.: reinforce exact and sampled, every policy-gradient agent sampled on one thread,
    ce-greedy sampled, psrl (default threads and one thread)."""
    def case(problem, agent, k, n, threads=0, regret="exact"):
        return CelabCase(problem, agent, k, n, threads, H_LONG, regret)

    return (case(LONG, "reinforce", k_exact, runs),
            case(LONG, "reinforce", k_sampled, runs, regret="sampled"),
            *(case(SMALL, a, k_small, 1, 1, "sampled") for a in PG_AGENTS),
            case(LONG, "ce-greedy", k_plan, 1, 1, "sampled"),
            case(LONG, "psrl", k_psrl, runs), case(LONG, "psrl", k_psrl, 1, 1))


FULL = Budget(
    main=_main_cases(1000, {"ce-greedy": 24, "psrl": 2, "ce-optimistic": 12, "q-learning": 24,
                            **dict.fromkeys(PG_AGENTS, 12)}, {"ce-greedy": 12, "psrl": 1}),
    full_dp_episodes=20,
    rtdp_episodes=1000,
    scaling=_scaling_cases(10_000, 20, {"ce-greedy": 200, "psrl": 50},
                           {"ce-greedy": 20, "psrl": 2}),
    reps=3,
    breakdown_reps=10,
    long=_long_cases(2000, 500_000, 200_000, 2000, 1000, 2),
    memory_episodes=(10_000, 1_000_000),
)
QUICK = Budget(
    main=_main_cases(50, {"ce-greedy": 2, "psrl": 2, "ce-optimistic": 2, "q-learning": 2,
                          **dict.fromkeys(PG_AGENTS, 2)}, {"ce-greedy": 2, "psrl": 1}),
    full_dp_episodes=1,
    rtdp_episodes=20,
    scaling=_scaling_cases(500, 2, {"ce-greedy": 10, "psrl": 4}, {"ce-greedy": 2, "psrl": 2}),
    reps=1,
    breakdown_reps=2,
    long=_long_cases(50, 2000, 2000, 50, 20, 2),
    memory_episodes=(100, 10_000),
)


@dataclass
class Row:
    """One implementation's timings over the rounds (medians are reported)."""

    label: str
    problem: str
    episodes: int
    runs: int
    seconds: list[float]  # wall time of each repetition (celab: mdp.run; rlberry: fit)
    cpu: list[float]  # process CPU time / wall time of each repetition
    regret: float = float("nan")  # mean cumulative regret at K (celab)
    simple: float = float("nan")  # mean simple regret of the deployed policy at K
    episode_seconds: list[float] | None = None  # rlberry: the episodes alone, without fit's end
    horizon: int = H

    @property
    def steps(self) -> int:
        return self.episodes * self.horizon * self.runs

    @property
    def time(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rate(self) -> float:
        """Environment steps per second of wall time (rlberry: the episodes alone)."""
        if self.episode_seconds is not None:
            return self.steps / statistics.median(self.episode_seconds)
        return self.steps / self.time

    @property
    def fit_rate(self) -> float:
        """Steps per second of the whole call (rlberry: fit including its final induction)."""
        return self.steps / self.time




# --- celab ----------------------------------------------------------------------------------------


def celab_call(m: mdp.FiniteMDP, case: CelabCase) -> tuple[float, float]:
    """One ``mdp.run``: (mean regret at K, mean simple regret at K) over the runs."""
    default = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(case.threads or default)
    try:
        res = mdp.run(m, case.agent, case.horizon, case.episodes, case.runs, seed=SEED,
                      regret=case.regret)
    finally:
        numba.set_num_threads(default)
    return float(res.regret[0, :, -1].mean()), float(res.simple_regret[0, :, -1].mean())


def warm_up(models: dict[str, mdp.FiniteMDP]) -> float:
    """Call every agent once on every problem; returns the first call's time (cache load or
    compilation of the loop's kernel, which serves every agent)."""
    first = 0.0
    for problem, m in models.items():
        for agent in ALL_AGENTS:
            start = time.perf_counter()
            celab_call(m, CelabCase(problem, agent, 5, 2, 0))
            if not first:
                first = time.perf_counter() - start
    return first


# --- rlberry --------------------------------------------------------------------------------------


def import_rlberry():
    """rlberry's FiniteMDP and rlberry-scool's UCBVIAgent, with gymnasium 1.x's missing
    ``logger.set_level`` replaced by a no-op; returns (FiniteMDP, UCBVIAgent, import seconds)."""
    import gymnasium

    if not hasattr(gymnasium.logger, "set_level"):
        gymnasium.logger.set_level = lambda *args, **kwargs: None
    start = time.perf_counter()
    from rlberry.envs.finite_mdp import FiniteMDP
    from rlberry_scool.agents import UCBVIAgent

    return FiniteMDP, UCBVIAgent, time.perf_counter() - start


def rlberry_env(finite_mdp_cls, m: mdp.FiniteMDP):
    """rlberry's FiniteMDP with celab's dense P and R; start state 0, as celab's garnet."""
    if not (m.initial[0] == 1.0 and m.initial.sum() == 1.0):
        raise ValueError("rlberry_env needs a model that starts in state 0")
    return finite_mdp_cls(np.array(m.R), np.array(m.P), initial_state_distribution=0)


def greedy_value(m: mdp.FiniteMDP, q: np.ndarray) -> float:
    """V_0(initial) of the non-stationary greedy policy argmax_a q[h, s, a], on the true model."""
    pol = q.argmax(axis=2).astype(np.int64)
    return float(mdp.evaluate(m, pol, horizon=H)[0] @ m.initial)


def rlberry_fit(agent_cls, env, m: mdp.FiniteMDP, rtdp: bool, episodes: int, seed: int,
                ) -> tuple[float, float, float, float]:
    """A fresh UCBVIAgent fitted for ``episodes`` episodes.

    Returns (fit seconds, seconds inside the episodes, CPU / wall, simple regret of the greedy
    policy of its final Q_policy). Checks that it took exactly episodes * H steps.
    """
    agent = agent_cls(env, gamma=1.0, horizon=H, bonus_scale_factor=BONUS_SCALE,
                      real_time_dp=rtdp, seeder=seed)
    run_episode = agent._run_episode
    in_episodes = [0.0]

    def timed_episode():
        start = time.perf_counter()
        out = run_episode()
        in_episodes[0] += time.perf_counter() - start
        return out

    agent._run_episode = timed_episode  # fit calls self._run_episode()
    start, start_cpu = time.perf_counter(), time.process_time()
    agent.fit(budget=episodes)
    seconds = time.perf_counter() - start
    cpu = (time.process_time() - start_cpu) / seconds
    steps = int(agent.N_sa.sum())
    if agent.episode != episodes or steps != episodes * H:
        raise RuntimeError(f"rlberry ran {agent.episode} episodes and {steps} steps, expected "
                           f"{episodes} and {episodes * H}")
    v_star = float(mdp.backward_induction(m, H).values[0] @ m.initial)
    return seconds, in_episodes[0], cpu, v_star - greedy_value(m, agent.Q_policy)


# --- the measurements -----------------------------------------------------------------------------


def measure(budget: Budget, models: dict[str, mdp.FiniteMDP], cases: tuple[CelabCase, ...],
            peers: dict | None) -> list[Row]:
    """Every case once per round, ``budget.reps`` rounds; ``peers`` adds rlberry's two modes."""
    rows = {c.label + c.problem: Row(c.label, c.problem, c.episodes, c.runs, [], [],
                                     horizon=c.horizon) for c in cases}
    modes: dict[str, tuple[bool, int]] = {}
    if peers is not None:
        modes = {"rlberry-scool UCBVI, full DP": (False, budget.full_dp_episodes),
                 "rlberry-scool UCBVI, real-time DP": (True, budget.rtdp_episodes)}
        for label, (_, k) in modes.items():
            rows[label] = Row(label, MAIN, k, 1, [], [], episode_seconds=[])
    for rep in range(budget.reps):
        for c in cases:
            log(f"  [{rep + 1}/{budget.reps}] {c.label} on {c.problem}: {c.episodes} x {c.runs}")
            row = rows[c.label + c.problem]
            start, start_cpu = time.perf_counter(), time.process_time()
            row.regret, row.simple = celab_call(models[c.problem], c)
            row.seconds.append(time.perf_counter() - start)
            row.cpu.append((time.process_time() - start_cpu) / row.seconds[-1])
        for label, (rtdp, k) in modes.items():
            log(f"  [{rep + 1}/{budget.reps}] {label}: {k} episodes")
            row = rows[label]
            seconds, inside, cpu, simple = rlberry_fit(peers["agent"], peers["env"],
                                                       models[MAIN], rtdp, k, seed=rep)
            row.seconds.append(seconds)
            assert row.episode_seconds is not None
            row.episode_seconds.append(inside)
            row.cpu.append(cpu)
            row.simple = (row.simple * rep + simple) / (rep + 1) if rep else simple
    return list(rows.values())


def _median_time(fn: Callable[[], None], reps: int) -> float:
    """Median wall time of ``reps`` calls of ``fn``, after one warm-up call."""
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@numba.njit(cache=True)
def previous_sample_posterior(counts, r_lo, r_scale, st, sample, logs):
    """psrl's posterior draw as celab drew it before ``tracking.rng.gamma_small``: every Gamma
    variate by Marsaglia and Tsang, a shape a < 1 as Gamma(1 + a) U^(1/a), in logs; the same
    Dirichlet(N + 1/S) rows and Beta rewards (a reference for the timing, not used by celab)."""
    n_states, n_actions = sample.rewards.shape
    indptr, indices = counts.indptr, counts.indices
    prior = 1.0 / n_states
    d1 = 1.0 + prior - 1.0 / 3.0
    c1 = 1.0 / math.sqrt(9.0 * d1)
    for row in range(n_states * n_actions):
        j = indptr[row]
        end = indptr[row + 1]
        top = -np.inf
        for s2 in range(n_states):
            if j < end and indices[j] == s2:
                shape = prior + counts.transitions[j]
                if shape < 1.0:
                    lg = math.log(gamma(st, shape + 1.0)) + math.log(uniform(st)) / shape
                else:
                    lg = math.log(gamma(st, shape))
                j += 1
            else:
                lg = math.log(gamma_mt(st, d1, c1)) + math.log(uniform(st)) * n_states
            logs[s2] = lg
            top = max(top, lg)
        base = row * n_states
        total = 0.0
        for s2 in range(n_states):
            p = math.exp(logs[s2] - top)
            sample.probs[base + s2] = p
            total += p
        inv = 1.0 / total
        for s2 in range(n_states):
            sample.probs[base + s2] *= inv
        rsum = counts.reward_sums[row]
        sample.rewards[row // n_actions, row % n_actions] = r_lo + r_scale * beta(
            st, 1.0 + rsum, 1.0 + counts.visits[row] - rsum)


def psrl_costs(m: mdp.FiniteMDP, reps: int, horizon: int = H) -> dict[str, float]:
    """Per-episode cost of psrl's two steps, and of ce-greedy's plan, from counts of zero.

    Calls the pipeline's private stages directly: ``sample_posterior``
    (mdp/_estimation_kernels.py) draws S*A Dirichlet rows over all S states (S*A*S Gamma
    variates); ``backward_induction`` (mdp/_planning_kernels.py) on the sampled dense model
    reads H*S*A*S probabilities, on ce-greedy's plug-in model the CSR successors only. Beside
    them, the same draw by the previous sampler, and numpy's ``Generator.gamma`` drawing
    S*A*S variates of shape 1/S in one vectorised call (no normalisation, no Beta).
    """
    from mdp import _env_kernels as env
    from mdp import _estimation_kernels as est
    from mdp import _planning_kernels as plan
    from tracking.rng import SALT_AGENT, new_state

    S, A = m.n_states, m.n_actions
    counts = est.new_counts(m.indptr, m.indices)
    sample = env.DenseTabular(np.zeros(S * A * S), np.zeros((S, A)))
    st = new_state(np.uint64(12345), SALT_AGENT)
    values, q = np.zeros((horizon + 1, S)), np.zeros((horizon, S, A))
    ties = plan.RandomTies(st, np.zeros((horizon, S), dtype=np.int64), np.zeros(A))
    never = np.zeros(1, dtype=np.uint8)
    gen = np.random.default_rng(SEED)
    return {"S": S, "A": A, "H": horizon,
            "sample": _median_time(
                lambda: est.sample_posterior(counts, 0.0, 1.0, st, sample, never), reps),
            "previous": _median_time(
                lambda: previous_sample_posterior(counts, 0.0, 1.0, st, sample, np.zeros(S)),
                reps),
            "numpy": _median_time(lambda: gen.gamma(1.0 / S, size=S * A * S), reps),
            "plan_sampled": _median_time(
                lambda: plan.backward_induction(sample, horizon, ties, values, q, never), reps),
            "plan_empirical": _median_time(
                lambda: plan.backward_induction(plan.PlugIn(counts, 0.0), horizon, ties, values,
                                                q, never), reps)}


def psrl_breakdown(models: dict[str, mdp.FiniteMDP], reps: int) -> list[dict]:
    """psrl_costs on the two garnets of 4., and on the long-budget garnet (6.) with H = 10."""
    return [{"problem": p, **psrl_costs(models[p], reps, h)}
            for p, h in (("garnet(100, 5, 10)", H), ("garnet(500, 4, 10)", H),
                         (LONG, H_LONG))]


MEMORY_CODE = """
import json, resource, sys
import mdp
m = mdp.envs.garnet(200, 4, 5, seed=0)
mdp.run(m, "reinforce", 10, 5, 1, regret="sampled")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
mdp.run(m, "reinforce", 10, int(sys.argv[1]), 1, regret="sampled")
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before": before / 1024, "after": after / 1024}))
"""


def measure_memory(episodes: tuple[int, int]) -> dict[int, dict]:
    """Peak RSS (MB) of sampled reinforce on garnet(200, 4, 5), H = 10, one run of each number
    of episodes in a fresh process, after a warm-up run of 5 episodes."""
    out = {}
    for k in episodes:
        log(f"  sampled reinforce, {k} episodes (fresh process)")
        proc = subprocess.run([sys.executable, "-c", MEMORY_CODE, str(k)], capture_output=True,
                              text=True, check=True)
        out[k] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


COMPILE_CODE = """
import json, time
t0 = time.perf_counter()
import mdp
t1 = time.perf_counter()
m = mdp.envs.garnet(100, 5, 10, seed=0)
t2 = time.perf_counter()
mdp.run(m, "ce-greedy", 20, 10, 2)
t3 = time.perf_counter()
mdp.run(m, "psrl", 20, 10, 2)
t4 = time.perf_counter()
mdp.run(m, "ce-greedy", 20, 10, 2)
t5 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "build": t2 - t1, "first": t3 - t2, "psrl": t4 - t3,
                  "again": t5 - t4}))
"""


def run_python(code: str, env: dict[str, str]) -> tuple[dict, float]:
    """Run ``code`` in a fresh interpreter: (its JSON, process wall seconds)."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    wall = time.perf_counter() - start
    return json.loads(out.stdout.strip().splitlines()[-1]), wall


def measure_compile() -> dict[str, dict]:
    """The compile script with an empty, then with the filled, NUMBA_CACHE_DIR."""
    with tempfile.TemporaryDirectory(prefix="celab-numba-cache-") as cache_dir:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
        out = {}
        for key in ("cold", "warm"):
            log(f"  {key} start (fresh process)")
            out[key], out[key]["wall"] = run_python(COMPILE_CODE, env)
    return out


# --- the report -----------------------------------------------------------------------------------


def sources() -> dict[str, float]:
    """Modification times of the celab modules this process has imported. The repository is
    shared: a change on disk during the run does not touch the code already imported here, but
    the fresh processes of the compile measurement would load it."""
    out = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if name.split(".")[0] in ("mdp", "experiments") and path:
            out[str(Path(path).resolve().relative_to(ROOT))] = Path(path).stat().st_mtime
    return out


def git_state() -> str:
    """HEAD's short hash and the number of uncommitted changes in the packages."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                              check=False).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "mdp", "experiments", "bandits").splitlines()
    return head + (f" + {len(dirty)} uncommitted changes in mdp/, experiments/, bandits/"
                   if dirty else "")





def machine(started: str, load_at_start: str) -> list[str]:
    """Date, CPU, cores, numba threads and versions, as a markdown list."""
    cpu = cpu_name()
    return [
        f"- date: {started} (start)",
        f"- machine: {cpu}; nproc {len(os.sched_getaffinity(0))}; numba threads "
        f"{numba.get_num_threads()} ({numba.threading_layer()} threading layer); "
        f"{platform.system()} {platform.release()}",
        f"- load average (1, 5, 15 min): {load_at_start} at the start, {load()} at the end",
        f"- versions: python {platform.python_version()}, numpy {np.__version__}, "
        f"numba {numba.__version__}, celab {version('celab')}, rlberry {version('rlberry')}, "
        f"rlberry-scool {version('rlberry-scool')}, gymnasium {version('gymnasium')}",
        f"- celab source: git {git_state()}",
    ]


def fmt_rate(rate: float) -> str:
    return f"{rate:,.0f}" if rate >= 100 else f"{rate:.3g}"


def fmt_ratio(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def fmt(x: float, digits: int = 4) -> str:
    return "-" if x != x else f"{x:.{digits}g}"


def rate_table(rows: list[Row], refs: tuple[Row, Row] | None) -> list[str]:
    """Markdown table of the rows; with ``refs`` (full DP, real-time DP) the ratios to them."""
    head = "| implementation | episodes x runs | reps | median time (s) | steps/s "
    rule = "|---|---|---|---|---|"
    if refs is not None:
        head += "| / rlberry full DP | / rlberry real-time DP "
        rule += "---|---|"
    head += "| mean regret(K) | simple regret(K) | CPU / wall |"
    rule += "---|---|---|"
    lines = [head, rule]
    for r in rows:
        line = (f"| {r.label} | {r.episodes} x {r.runs} | {len(r.seconds)} | {r.time:.3g} "
                f"| {fmt_rate(r.rate)} ")
        if refs is not None:
            line += f"| {fmt_ratio(r.rate / refs[0].rate)} | {fmt_ratio(r.rate / refs[1].rate)} "
        line += (f"| {fmt(r.regret)} | {fmt(r.simple, 3)} | "
                 f"{statistics.median(r.cpu):.2f} |")
        lines.append(line)
    return lines


def floors(main: list[Row], refs: tuple[Row, Row]) -> list[tuple[str, str, bool]]:
    """celab ce-greedy and psrl (default threads) >= FLOOR x rlberry UCBVI with full DP."""
    checks = []
    for agent in ("ce-greedy", "psrl"):
        row = next(r for r in main if r.label == f"celab {agent}")
        ratio = row.rate / refs[0].rate
        checks.append((f"celab {agent} >= {FLOOR:.0f}x rlberry-scool UCBVI, full DP "
                       f"(steps/s, {MAIN}, H = {H})", f"{fmt_ratio(ratio)}x", ratio >= FLOOR))
    return checks


def long_floors(rows: list[Row], breakdown: list[dict], memory: dict[int, dict]
                ) -> list[tuple[str, str, bool]]:
    """6.'s floors: sampled reinforce >= LONG_FLOOR x exact; every policy-gradient agent
    >= PG_FLOOR steps/s on one thread; psrl >= PSRL_FLOOR x psrl with the previous sampler;
    the peak RSS of the longer sampled run within MEMORY_FLOOR MB of the shorter one's."""
    by = {r.label: r for r in rows}
    ratio = by["celab reinforce, sampled regret"].rate / by["celab reinforce"].rate
    checks = [(f"celab reinforce, sampled regret >= {LONG_FLOOR:.0f}x exact regret (steps/s, "
               f"{LONG}, H = {H_LONG})", f"{fmt_ratio(ratio)}x", ratio >= LONG_FLOOR)]
    for agent in PG_AGENTS:
        rate = by[f"celab {agent}, sampled regret, 1 thread"].rate
        checks.append((f"celab {agent}, sampled regret, 1 thread >= {PG_FLOOR / 1e6:.0f} M "
                       f"steps/s ({SMALL}, H = {H_LONG})", f"{rate / 1e6:.3g} M",
                       rate >= PG_FLOOR))
    speedup = psrl_speedup(by["celab psrl, 1 thread"], breakdown)
    checks.append((f"celab psrl >= {PSRL_FLOOR:.0f}x psrl with the previous sampler (1 thread, "
                   f"{LONG}, H = {H_LONG})", f"{speedup:.3g}x", speedup >= PSRL_FLOOR))
    (short, a), (long, b) = sorted(memory.items())
    grew = b["after"] - a["after"]
    checks.append((f"peak RSS of sampled reinforce, {long:,} episodes within "
                   f"{MEMORY_FLOOR:.0f} MB of {short:,}", f"{grew:+.1f} MB",
                   abs(grew) <= MEMORY_FLOOR))
    return checks


def psrl_speedup(row: Row, breakdown: list[dict]) -> float:
    """psrl's one-thread rate over its rate with the previous sampler: the measured time of an
    episode, its posterior sampling replaced by the previous sampler's (6.)."""
    b = next(b for b in breakdown if b["problem"] == LONG)
    episode = row.horizon / row.rate
    return (episode - b["sample"] + b["previous"]) / episode


def long_report(rows: list[Row], breakdown: list[dict], memory: dict[int, dict],
                checks: list[tuple[str, str, bool]], v_star: dict[str, float]) -> list[str]:
    """6.'s section of the report."""
    b = next(b for b in breakdown if b["problem"] == LONG)
    by = {r.label: r for r in rows}
    plan_row = by["celab ce-greedy, sampled regret, 1 thread"]
    draws = b["S"] * b["A"] * b["S"]
    out = ["", f"**Long budgets**, H = {H_LONG}: {LONG} (V*_0 = {v_star[LONG]:.4g}) and {SMALL} "
           f"(V*_0 = {v_star[SMALL]:.4g}); the `sampled regret` rows run with regret = "
           "\"sampled\" (V* minus each episode's realised return: no policy evaluation per "
           "episode; the readouts at the checkpoints stay exact)", ""]
    out += rate_table(rows, None)
    out += ["", "| floor | measured | result |", "|---|---|---|"]
    out += [f"| {what} | {value} | {'PASS' if ok else 'FAIL'} |" for what, value, ok in checks]
    out += [
        "",
        f"psrl on {LONG} (S^2 A = {draws:,} Gamma variates per posterior sample, one thread): "
        f"sample_posterior {b['sample'] * 1e3:.3g} ms, the previous sampler "
        f"{b['previous'] * 1e3:.3g} ms, numpy's Generator.gamma for {draws:,} variates of shape "
        f"1/{b['S']} in one vectorised call {b['numpy'] * 1e3:.3g} ms (sample_posterior / "
        f"numpy: {b['sample'] / b['numpy']:.3g}); the plan on the sample "
        f"{b['plan_sampled'] * 1e3:.3g} ms. ce-greedy with sampled regret: "
        f"{plan_row.horizon / plan_row.rate * 1e3:.3g} ms per episode against "
        f"{b['plan_empirical'] * 1e3:.3g} ms for its plan on zero counts (its plan grows with "
        "the pairs it has visited).",
        "",
        "| sampled reinforce, fresh process | peak RSS after a 5-episode warm-up | peak RSS after "
        "the run |",
        "|---|---|---|",
    ]
    out += [f"| {k:,} episodes | {m['before']:.1f} MB | {m['after']:.1f} MB |"
            for k, m in sorted(memory.items())]
    return out


def report(budget: Budget, started: str, load_at_start: str, first_call: float,
           rl_import: float, main: list[Row], scaling: list[Row], breakdown: list[dict],
           compile_: dict, checks: list[tuple[str, str, bool]], v_star: dict[str, float],
           changed: list[str]) -> list[str]:
    """The markdown report."""
    refs = (main[-2], main[-1])
    full, rtdp = refs
    flag = " --quick" if budget == QUICK else ""
    out = [f"command: `benchmarks/.venv/bin/python benchmarks/mdp_agents.py{flag}`", ""]
    out += machine(started, load_at_start)
    if changed:
        out.append(f"- note: celab sources imported by this process changed on disk during the "
                   f"run ({', '.join(changed)}); the in-process rows timed the code imported at "
                   f"the start, the fresh-process compile rows may have loaded the new code")
    out += [
        "",
        f"Steps/s are environment steps (sampled transitions) per second of wall time, the "
        f"median of the repetitions: K x H x runs for celab's `mdp.run` (H = {H}, after a "
        f"warm-up, so compilation is excluded; each call includes the exact per-episode regret "
        f"and the checkpoint plans), K x H for rlberry's `fit(budget=K)` (every episode checked "
        f"to last H steps). rlberry's rate counts the episodes only: `fit` also ends with one "
        f"more full backward induction for its recommended policy, which is left out, so "
        f"rlberry gets its higher rate (with it: full DP {fmt_rate(full.fit_rate)}, real-time "
        f"DP {fmt_rate(rtdp.fit_rate)} steps/s). Simple regret: V*_0 minus the value of the "
        f"deployed policy at K on the true model (rlberry: the greedy policy of its final "
        f"Q_policy, per step h, mean over the repetitions, seeds 0, 1, ...). celab's "
        f"`1 thread` rows set numba to one thread; the others use prange over runs on every "
        f"core (CPU / wall about 2 when both cores are free and busy with the runs).",
        "",
        f"**{MAIN}**, seed {SEED}, H = {H}, V*_0 = {v_star[MAIN]:.4g}; UCBVI with gamma = 1, "
        f"bonus_scale_factor = {BONUS_SCALE}",
        "",
    ]
    out += rate_table(main, refs)
    out += ["", "| floor (against full DP, the like-for-like mode) | measured | result |",
            "|---|---|---|"]
    out += [f"| {what} | {value} | {'PASS' if ok else 'FAIL'} |" for what, value, ok in checks]
    by = {r.label: r for r in main}
    info = []
    for label in ("celab ce-greedy", "celab psrl", "celab ce-greedy, 1 thread",
                  "celab psrl, 1 thread"):
        r = by[label]
        info.append(f"{label} {fmt_ratio(r.rate / full.rate)}x full DP, "
                    f"{fmt_ratio(r.rate / rtdp.rate)}x real-time DP")
    out += ["", "Ratios: " + "; ".join(info) + "."]
    for problem in ("riverswim(6)", "garnet(500, 4, 10)"):
        mine = [r for r in scaling if r.problem == problem]
        out += ["", f"**{problem}**, H = {H}, V*_0 = {v_star[problem]:.4g} (celab only)", ""]
        out += rate_table(mine, None)
    out += [
        "",
        "psrl's cost per episode (median of calls on zero counts, one thread): posterior "
        "sampling draws S*A Dirichlet rows over all S states (S^2 A Gamma variates), planning "
        "reads the dense sampled model (H S^2 A); ce-greedy's plan reads the CSR successors "
        "only (at most H S A x branching).",
        "",
        "| problem | psrl: sample_posterior | psrl: plan on the sample | sum -> steps/s per "
        "thread | ce-greedy: plan |",
        "|---|---|---|---|---|",
    ]
    if not breakdown:
        out.append("| skipped: the private kernels' signatures changed | | | | |")
    for b in breakdown:
        total = b["sample"] + b["plan_sampled"]
        out.append(f"| {b['problem']}, H = {b['H']} | {b['sample'] * 1e3:.3g} ms | "
                   f"{b['plan_sampled'] * 1e3:.3g} ms | {total * 1e3:.3g} ms -> "
                   f"{fmt_rate(b['H'] / total)} | {b['plan_empirical'] * 1e3:.3g} ms |")
    out += [
        "",
        f"First `mdp.run` call in this process (loads the on-disk cache, or compiles when the "
        f"sources changed since it was written): "
        f"{first_call:.2f} s; `import rlberry` + `rlberry_scool.agents`: {rl_import:.2f} s.",
        "",
        "| fresh process, `garnet(100, 5, 10)`, 10 x 2 | import mdp | build garnet | first run "
        "(ce-greedy) | then psrl | ce-greedy again | process wall |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, key in (("empty NUMBA_CACHE_DIR (compiles)", "cold"),
                       ("filled cache (loads)", "warm")):
        c = compile_[key]
        out.append(f"| {label} | {c['import']:.2f} s | {c['build']:.2f} s | {c['first']:.2f} s "
                   f"| {c['psrl'] * 1e3:.3g} ms | {c['again'] * 1e3:.3g} ms | {c['wall']:.2f} s |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny budgets, a smoke run")
    args = parser.parse_args(argv)
    budget = QUICK if args.quick else FULL
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    load_at_start = load()

    models = {name: build() for name, build in PROBLEMS.items()}
    log("warm-up (numba cache load or compilation)")
    first_call = warm_up(models)
    at_start = sources()
    log("rlberry import")
    finite_mdp_cls, agent_cls, rl_import = import_rlberry()
    peers = {"agent": agent_cls, "env": rlberry_env(finite_mdp_cls, models[MAIN])}
    rlberry_fit(agent_cls, peers["env"], models[MAIN], True, 2, seed=0)  # warm-up
    log(f"1-3: celab and rlberry on {MAIN}")
    main_rows = measure(budget, models, budget.main, peers)
    log("4: riverswim(6) and garnet(500, 4, 10)")
    scaling = measure(budget, models, budget.scaling, None)
    log("4: psrl's cost per episode")
    breakdown = psrl_breakdown(models, budget.breakdown_reps)
    log("5: compilation")
    compile_ = measure_compile()
    log("6: long budgets")
    long_rows = measure(budget, models, budget.long, None)
    memory = measure_memory(budget.memory_episodes)

    refs = (main_rows[-2], main_rows[-1])
    checks = floors(main_rows, refs)
    long_checks = long_floors(long_rows, breakdown, memory)
    v_star = {name: float(mdp.backward_induction(m, H).values[0] @ m.initial)
              for name, m in models.items()}
    v_star.update({name: float(mdp.backward_induction(models[name], H_LONG).values[0]
                               @ models[name].initial) for name in (LONG, SMALL)})
    at_end = sources()
    changed = sorted(f for f in at_start if at_end.get(f) != at_start[f])
    print("\n".join(report(budget, started, load_at_start, first_call, rl_import, main_rows,
                           scaling, breakdown, compile_, checks, v_star, changed)
                    + long_report(long_rows, breakdown, memory, long_checks, v_star)))
    return 0 if all(ok for _, _, ok in checks + long_checks) else 1


if __name__ == "__main__":
    sys.exit(main())

"""The thesis study's design: problem families, their sizes, the agents, the tuning, the budgets.

The study's experiment files (``thesis.toml``, ``thesis-full.toml``) are written from this
module (``python -m experiments.studies.thesis_design``), and the tests check that the shipped
files are what it writes, so that the report (experiments/studies/thesis.py) and the files
cannot drift apart.

Every family is measured at several sizes. At each size one problem holds every agent of the
family's setting, the same list at every size, so that all of them see the same random numbers
(common random numbers: run r's seed does not depend on the problem) and the same budget;
``psrl``, whose posterior sample costs O(S^2 A) per episode, runs in a problem of its own at the
same size and on the same seeds (name suffix ``.psrl``), so that it does not carry the others'
budget. Budgets double until every agent's n(epsilon, delta) is measured or the cap is reached
(``budget = "until"``), and ``[tune]`` tunes every agent with parameters on held-out seeds with
the same number of candidates for every tuned kind, before the evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The MDP families' epsilon: this share of V*_0 of each run's instance; the sensitivity table
#: of the report recomputes the numbers at the other shares and deltas.
EPSILON_SHARE = 0.1
SENSITIVITY_SHARES = (0.05, 0.2)
DELTA = 0.1
SENSITIVITY_DELTAS = (0.05, 0.2)

#: The sides of the comparison. ``uniform`` is certainty equivalence with uniform exploration
#: (the planning factor's reference: the data REINFORCE's initial policy collects, planned on).
CE, UNIFORM, PG = "ce", "uniform", "pg"

#: Agents of each setting: problem label -> (spec, side). The same list at every size.
AGENTS: dict[str, dict[str, tuple[str, str]]] = {
    "bandit": {
        "greedy": ("greedy", CE),
        "uniform": ("epsilon-greedy:epsilon=1.0", UNIFORM),
        "epsilon-greedy": ("epsilon-greedy:epsilon=0.1", CE),
        "ucb": ("ucb", CE),
        "kl-ucb": ("kl-ucb", CE),
        "thompson": ("thompson", CE),
        "reinforce": ("reinforce", PG),
        "rloo": ("rloo", PG),
        "grpo": ("grpo", PG),
        "ppo": ("ppo", PG),
        "actor-critic": ("actor-critic", PG),
        "npg": ("npg", PG),
    },
    "mdp": {
        "ce-greedy": ("ce-greedy", CE),
        "uniform": ("ce-dither:epsilon=1.0", UNIFORM),
        "ce-dither": ("ce-dither:epsilon=0.1", CE),
        "ce-optimistic": ("ce-optimistic", CE),
        "psrl": ("psrl", CE),
        "reinforce": ("reinforce", PG),
        "rloo": ("rloo", PG),
        "grpo": ("grpo", PG),
        "ppo": ("ppo", PG),
        "actor-critic": ("actor-critic", PG),
        "npg": ("npg", PG),
    },
    "linear-bandit": {
        "lin-greedy": ("lin-greedy", CE),
        "uniform": ("lin-greedy:epsilon=1.0", UNIFORM),
        "oful": ("oful", CE),
        "lin-ts": ("lin-ts", CE),
        "lin-reinforce": ("lin-reinforce", PG),
        "lin-rloo": ("lin-rloo", PG),
        "lin-grpo": ("lin-grpo", PG),
    },
}
#: Agents only some families run (UCRL2 on the chains, as Jaksch et al. and Osband et al. did).
EXTRA = {"riverswim": {"ucrl2": ("ucrl2", CE)}}
#: Agents in a problem of their own at each size, on the same seeds: psrl, whose cost per
#: episode grows as S^2 A, and the greedy CE agents (greedy, ce-greedy), which often never
#: settle (they can stop trying an arm or an action for good), so that their doubling to the
#: cap does not carry every other agent's budget with it.
APART = ("psrl", "greedy", "ce-greedy")

#: The tuning grids shared by every problem, by agent name: four candidates for every tuned
#: kind; the other agents run on the tuning seeds as their one candidate (``every = true``),
#: for the choice of each side's best on held-out seeds.
ALPHAS = [0.03, 0.1, 0.3, 1.0]
GRIDS: dict[str, dict[str, list[Any]]] = {
    "lin-reinforce": {"alpha": ALPHAS},
    "lin-rloo": {"alpha": ALPHAS},
    "lin-grpo": {"alpha": ALPHAS},
    "oful": {"c": [0.25, 0.5, 1.0, 2.0]},
    "lin-ts": {"scale": [0.25, 0.5, 1.0, 2.0]},
    "ucb": {"c": [0.25, 0.5, 1.0, 2.0]},
    "ce-optimistic": {"c": [0.01, 0.03, 0.1, 0.3]},
}
#: The policy-gradient kinds' variants, tuned with their step size in each problem of a
#: setting (a problem's own ``tune`` table): the count bonus c / sqrt(N) or none, and on MDPs
#: a stationary policy (theta[s] shared by every step) or one per step. Baselines are the
#: kinds themselves (running mean: reinforce; leave-one-out: rloo; group: grpo; learned
#: value: actor-critic and ppo's GAE). With ``budget = "equal"`` every kind gets the tuning
#: samples of the largest grid, spread over its candidates.
VARIANTS: dict[str, dict[str, list[Any]]] = {
    "bandit": {"bonus": [0.0, 1.0]},
    "mdp": {"stationary": [False, True], "bonus": [0.0, 1.0]},
}
PG_KINDS = ("reinforce", "rloo", "grpo", "ppo", "actor-critic", "npg")


def problem_grids(setting: str) -> dict[str, dict[str, list[Any]]]:
    """The grids of a problem of ``setting`` that replace or add to :data:`GRIDS`: every
    policy-gradient kind's step size times its variants."""
    variants = VARIANTS.get(setting)
    return {} if variants is None else {k: {"alpha": ALPHAS, **variants} for k in PG_KINDS}


@dataclass(frozen=True)
class Budget:
    """One budget of the study: runs (evaluation and tuning), sizes per family, and the
    factor from each problem's starting budget to its cap."""

    name: str
    runs: int
    tune_runs: int
    cap_factor: int
    sizes: dict[str, tuple[int, ...]]
    note: str
    cap_samples: int | None = None  # and at most this many samples (pulls, steps) per run

    def cap(self, start: int, unit: int) -> int:
        """The cap of a problem starting at ``start`` (rounds or episodes of ``unit``
        samples): ``cap_factor`` times the start, at most ``cap_samples`` samples, at least
        the start."""
        cap = start * self.cap_factor
        if self.cap_samples is not None:
            cap = min(cap, self.cap_samples // unit)
        return max(start, cap)


@dataclass(frozen=True)
class Family:
    """A problem family: its setting, what its size is, and each size's problem table (the
    starting budget included); ``theory`` names the law of experiments.scaling.THEORY beside
    which its fitted exponents are printed."""

    key: str
    setting: str
    title: str
    size_name: str
    table: Callable[[int], dict[str, Any]]
    theory: str | None
    unit: str
    chain: bool = False  # a chain: Li et al.'s lower bound for softmax PG is drawn beside


def _bandit(gap: float) -> Callable[[int], dict[str, Any]]:
    def table(k: int) -> dict[str, Any]:
        return {"setting": "bandit", "env": "two-level",
                "args": {"n_arms": k, "best": 0.5, "gap": gap},
                "horizon": int(round(20 * k / gap ** 2)), "epsilon": gap / 2}
    return table


def _linear(d: int) -> dict[str, Any]:
    return {"setting": "linear-bandit", "env": "sphere",
            "args": {"d": d, "n_arms": 50, "sigma": 1.0}, "horizon": 500 * d, "epsilon": 0.1}


def _mdp(env: str, args: Callable[[int], dict[str, Any]], horizon: Callable[[int], int],
         episodes: Callable[[int], int], per_run: bool) -> Callable[[int], dict[str, Any]]:
    def table(n: int) -> dict[str, Any]:
        out: dict[str, Any] = {"setting": "mdp", "env": env, "args": args(n),
                               "horizon": horizon(n), "episodes": episodes(n),
                               "epsilon_share": EPSILON_SHARE, "regret": "sampled"}
        if per_run:
            out["instance"] = "per-run"
        return out
    return table


FAMILIES: dict[str, Family] = {f.key: f for f in (
    Family("bandit-gap0.3", "bandit", "Bernoulli bandits, one arm at 0.5, K - 1 at 0.2 "
           "(gap 0.3, epsilon 0.15)", "K", _bandit(0.3), "bandit", "pulls"),
    Family("bandit-gap0.1", "bandit", "Bernoulli bandits, one arm at 0.5, K - 1 at 0.4 "
           "(gap 0.1, epsilon 0.05)", "K", _bandit(0.1), "bandit", "pulls"),
    Family("bandit-gap0.03", "bandit", "Bernoulli bandits, one arm at 0.5, K - 1 at 0.47 "
           "(gap 0.03, epsilon 0.015)", "K", _bandit(0.03), "bandit", "pulls"),
    Family("linear", "linear-bandit", "linear bandits: 50 arms and theta* uniform on the unit "
           "sphere of R^d, drawn per run, Gaussian noise sigma = 1 (epsilon 0.1)", "d", _linear,
           "linear", "pulls"),
    Family("garnet", "mdp", "garnets: S states, 4 actions, 5 successors, H = 10, an instance "
           "per run", "S",
           _mdp("garnet", lambda s: {"n_states": s, "n_actions": 4, "branching": 5},
                lambda s: 10, lambda s: 200 * s, True), "episodic", "steps"),
    Family("garnet-H", "mdp", "garnets with S = 20, 4 actions, 5 successors, horizon H, an "
           "instance per run", "H",
           _mdp("garnet", lambda h: {"n_states": 20, "n_actions": 4, "branching": 5},
                lambda h: h, lambda h: 4000, True), "episodic-H", "steps"),
    Family("garnet-A", "mdp", "garnets with S = 20, A actions, 5 successors, H = 10, an "
           "instance per run", "A",
           _mdp("garnet", lambda a: {"n_states": 20, "n_actions": a, "branching": 5},
                lambda a: 10, lambda a: 1000 * a, True), "episodic-A", "steps"),
    Family("riverswim", "mdp", "RiverSwim chains of S states, H = 5 S", "S",
           _mdp("riverswim", lambda s: {"n_states": s}, lambda s: 5 * s, lambda s: 100, False),
           None, "steps", chain=True),
    Family("deep-sea", "mdp", "deep sea of size N (N^2 + 1 states, H = N), its action map "
           "drawn per run", "N",
           _mdp("deep-sea", lambda n: {"n": n}, lambda n: n, lambda n: 50 * n, True),
           None, "steps"),
)}

BUDGETS = {
    "default": Budget(
        "default", runs=20, tune_runs=8, cap_factor=8,
        sizes={"bandit-gap0.1": (2, 10, 50), "linear": (2, 5, 10), "garnet": (5, 10, 20),
               "riverswim": (4, 6, 8), "deep-sea": (4, 6, 8)},
        note="celab's default for this study, about a quarter of an hour on 2 cores: fewer "
             "families and sizes, 20 runs (8 per tuning candidate), caps of 8 times each "
             "problem's starting budget"),
    "local": Budget(
        "local", runs=20, tune_runs=8, cap_factor=16, cap_samples=10 ** 7,
        sizes={"bandit-gap0.1": (2, 10, 50, 200), "linear": (2, 5, 10, 20),
               "garnet": (5, 10, 20, 50), "riverswim": (4, 6, 8), "deep-sea": (4, 6, 8)},
        note="the largest budget run on this project's 2-core machine (celab reproduce thesis "
             "--budget local --dask local:2): the default's families up to K = 200, d = 20 "
             "and S = 50, 20 runs (8 per tuning candidate), caps of 16 times each problem's "
             "starting budget and at most 10^7 samples per run"),
    "full": Budget(
        "full", runs=50, tune_runs=20, cap_factor=256,
        sizes={"bandit-gap0.3": (2, 5, 10, 20, 50, 100, 200, 500, 1000),
               "bandit-gap0.1": (2, 5, 10, 20, 50, 100, 200, 500, 1000),
               "bandit-gap0.03": (2, 5, 10, 20, 50, 100, 200),
               "linear": (2, 5, 10, 20, 50),
               "garnet": (5, 10, 20, 50, 100, 200), "garnet-H": (5, 10, 20, 40),
               "garnet-A": (2, 4, 8, 16), "riverswim": (5, 10, 20, 40),
               "deep-sea": (5, 10, 20, 40)},
        note="the full budget: every size, 50 runs (20 per tuning candidate), caps of 256 "
             "times each problem's starting budget"),
}


def problem_name(family: str, size: int, group: str | None = None) -> str:
    """``<family>-<size name><size>``, and ``.<group>`` for agents run apart."""
    fam = FAMILIES[family]
    return f"{family}-{fam.size_name}{size}" + (f".{group}" if group else "")


def agents_of(family: str) -> dict[str, tuple[str, str]]:
    """The family's agents: label -> (spec, side)."""
    return {**AGENTS[FAMILIES[family].setting], **EXTRA.get(family, {})}


def problems(budget: Budget) -> list[dict[str, Any]]:
    """The problem tables of a budget, family by family, size by size."""
    out = []
    for key, sizes in budget.sizes.items():
        fam = FAMILIES[key]
        agents = agents_of(key)
        for size in sizes:
            table = fam.table(size)
            length, unit = (("episodes", table["horizon"]) if fam.setting == "mdp"
                            else ("horizon", 1))
            rule = {"budget": "until", "cap": budget.cap(table[length], unit)}
            grids = problem_grids(fam.setting)
            own = {"tune": grids} if grids else {}
            together = [spec for label, (spec, _) in agents.items() if label not in APART]
            out.append({"name": problem_name(key, size), **table, "runs": budget.runs,
                        **rule, "agents": together, **own})
            for label in APART:
                if label in agents:
                    out.append({"name": problem_name(key, size, label), **table,
                                "runs": budget.runs, **rule, "agents": [agents[label][0]]})
    return out


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return str(v)


def text(budget: str) -> str:
    """The experiment file of ``budget`` (a key of :data:`BUDGETS`)."""
    b = BUDGETS[budget]
    title = ("thesis: samples to epsilon, policy gradient against certainty equivalence, "
             "family by family" + ("" if budget == "default" else f" ({budget} budget)"))
    lines = [
        "# celab's thesis: how many samples do policy-gradient agents need against certainty",
        "# equivalence, and how does the factor grow with the size of the problem? Written by",
        "# python -m experiments.studies.thesis_design; edit that module, not this file.",
        f'title = "{title}"', "seed = 0", "",
        "[study]", f'budget_note = "{b.note}"', "",
        "[tune]", 'objective = "samples"', f"runs = {b.tune_runs}", 'budget = "equal"',
        "every = true",
        *(f"{name} = {_value(grid)}" for name, grid in GRIDS.items()),
    ]
    for table in problems(b):
        lines += ["", "[[problem]]", *(f"{k} = {_value(v)}" for k, v in table.items())]
    return "\n".join(lines) + "\n"


def write(folder: Path | None = None) -> list[Path]:
    """Write thesis.toml and thesis-BUDGET.toml for the other budgets (into this package's
    folder by default)."""
    folder = Path(__file__).parent if folder is None else folder
    out = []
    for budget in BUDGETS:
        path = folder / ("thesis.toml" if budget == "default" else f"thesis-{budget}.toml")
        path.write_text(text(budget), encoding="utf-8")
        out.append(path)
    return out


if __name__ == "__main__":
    for p in write():
        print(p)

"""The reasoning study's design: its three questions, their problems, agents, tuning and budgets.

The study's experiment files (``reasoning.toml``, ``reasoning-full.toml``) are written from this
module (``python -m experiments.studies.reasoning_design``), and the tests check that the
shipped files are what it writes, so that the report (experiments/studies/reasoning.py) and
the files cannot drift apart.

1. **pass@k after the same verifier budget** (Yue et al. 2025): problems ``passk-<condition>``
   at a fixed number of calls, the conditions being the number of solutions per prompt, the
   tabular or the shared policy, and (agents of the same problem) GRPO's KL strength.
2. **power sampling against GRPO** (Karan and Du 2025): problems ``power-<condition>`` on tries
   with no distractors and with distractors the reference favours less than, as much as and
   more than the solutions.
3. **verifier calls until pass@1 reaches the target** (n(epsilon, delta) with epsilon = 1 -
   target): families ``calls-<axis><size>`` over depth H, vocabulary V and the base pass@1
   (size 1 / a) of tries, and over the number of prompts P of the shared task (where a model
   of the verifier or a policy shared across prompts can carry what one prompt teaches to the
   others), each problem's budget doubled until every agent settles or the cap.

Every trained agent is tuned on held-out seeds (``[tune]``, five candidates per kind) before
the evaluation; the inference-only agents (base, power, low-temp) have nothing to tune.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .thesis_design import _value  # TOML values of the study files, written alike

#: The target: pass@1 (mean over the training prompts) of at least 0.5, so epsilon = 0.5 on the
#: simple regret 1 - pass@1; delta as everywhere in celab.
TARGET = 0.5
EPSILON = 1.0 - TARGET
DELTA = 0.1

#: Sides of question 3: policy gradient (and rejection sampling, which learns by gradient steps)
#: against certainty equivalence.
PG, CE = "pg", "ce"
CALL_AGENTS = {"grpo": PG, "rloo": PG, "rsft": PG, "ce": CE, "ce-optimistic": CE}
#: Question 3's agents on the shared task: the gradient agents with the policy shared across
#: prompts, the table CE agents, and CE with the linear verifier model well specified (in the
#: prompt features) and misspecified (without them).
SHARED_CALL_AGENTS = {"grpo:policy=shared": PG, "rloo:policy=shared": PG,
                      "rsft:policy=shared": PG, "ce": CE, "ce-optimistic": CE,
                      "ce-linear:features=prompt": CE, "ce-linear": CE}

#: The tuning runs of question 3 double their budget until every candidate settles (or the
#: cap), not until the first does: an agent can pass the target early and fall back later
#: (GRPO with a policy shared across prompts does), which a short horizon would not show.
TUNE_STOP = "all"

#: Tuning grids by agent name: five candidates per trained kind, a factor of 4 (steps) or
#: about 3 (beta, c) apart, wide enough that the choices of the default budget fall inside
#: them for most problems (a choice at an edge is shown in the tuning table).
GRIDS: dict[str, dict[str, list[float]]] = {
    "grpo": {"alpha": [1.25, 5.0, 20.0, 80.0, 320.0]},
    "rloo": {"alpha": [1.25, 5.0, 20.0, 80.0, 320.0]},
    "rsft": {"alpha": [0.25, 1.0, 4.0, 16.0, 64.0]},
    "ce": {"beta": [0.001, 0.003, 0.01, 0.03, 0.1]},
    "ce-optimistic": {"c": [0.03, 0.1, 0.3, 1.0, 3.0]},
    "ce-linear": {"beta": [0.003, 0.01, 0.03, 0.1, 0.3]},
}

#: The base task of questions 1 and 2: 40 prompts, responses of 6 tokens from 6.
TRIE = {"n_prompts": 40, "horizon": 6, "vocab": 6, "p_min": 1e-3}

#: Question 1's agents on the tries (tabular policies) and on the shared task.
PASSK_AGENTS = ["base", "power", "grpo", "grpo:beta=0.0", "grpo:beta=0.4", "rloo", "rsft",
                "ce", "ce-optimistic"]
SHARED_AGENTS = ["base", "power", "grpo:policy=shared", "rloo:policy=shared",
                 "rsft:policy=shared", "grpo", "ce", "ce-linear:features=prompt", "ce-linear"]
#: Question 2's agents.
POWER_AGENTS = ["base", "power", "low-temp", "grpo", "rsft", "ce"]
#: Question 2's conditions: distractors per prompt and their weight (a solution weighs 1).
POWER_CONDITIONS = {"none": (0, 1.0), "w0.25": (4, 0.25), "w1": (4, 1.0), "w4": (4, 4.0)}

#: Question 3's axes: the size's name, the problem's task arguments at a size, and the base
#: task (8 prompts, none held out: every prompt must be learned). Every prompt has 4
#: distractors as likely as its 2 solutions, so that the automaton's final states (which every
#: agent's policy and the CE agents' tables are indexed by) do not reveal which responses are
#: correct: a CE agent must still find out, leaf by leaf.
CALLS_BASE = {"n_prompts": 8, "horizon": 4, "vocab": 4, "n_solutions": 2, "n_distractors": 4,
              "distractor_weight": 1.0}


def _depth(h: int) -> dict[str, Any]:
    return {**CALLS_BASE, "horizon": h, "p_min": 0.05, "p_max": 0.05}


def _vocab(v: int) -> dict[str, Any]:
    return {**CALLS_BASE, "vocab": v, "p_min": 0.05, "p_max": 0.05}


def _rarity(inv: int) -> dict[str, Any]:
    return {**CALLS_BASE, "p_min": 1.0 / inv, "p_max": 1.0 / inv}


#: The shared task of question 3's prompt axis: its 2 solutions per prompt follow a linear
#: rule of 4 prompt features, its 4 distractors (as likely as a solution) do not, so the final
#: states do not name the correct responses, as on the other axes.
CALLS_SHARED = {"horizon": 4, "vocab": 4, "n_solutions": 2, "n_features": 4, "p_min": 0.05,
                "p_max": 0.05, "n_distractors": 4, "distractor_weight": 1.0}


def _prompts(n: int) -> dict[str, Any]:
    return {**CALLS_SHARED, "n_prompts": n}


@dataclass(frozen=True)
class Axis:
    """A family of question 3: what its size is, the task at each size, and its agents (spec
    -> side; the same at every size)."""

    key: str
    size_name: str
    title: str
    args: Any
    env: str = "trie"
    agents: Any = None

    def sides(self) -> dict[str, str]:
        return CALL_AGENTS if self.agents is None else self.agents


AXES = {a.key: a for a in (
    Axis("H", "H", "depth H (V = 4, base pass@1 0.05)", _depth),
    Axis("V", "V", "vocabulary V (H = 4, base pass@1 0.05)", _vocab),
    Axis("rare", "1/a", "rarity 1 / a of a correct response under the base (H = 4, V = 4)",
         _rarity),
    Axis("P", "P", "prompts P of the shared task (H = 4, V = 4, base pass@1 0.05, 4 "
         "distractors per prompt)",
         _prompts, "shared", SHARED_CALL_AGENTS),
)}


@dataclass(frozen=True)
class Budget:
    name: str
    runs: int
    tune_runs: int
    calls: int  # questions 1 and 2
    start: int  # question 3: the first budget and the cap
    cap: int
    sizes: dict[str, tuple[int, ...]]
    note: str


BUDGETS = {
    "default": Budget(
        "default", runs=20, tune_runs=8, calls=2 ** 15, start=256, cap=2 ** 17,
        sizes={"H": (2, 4, 6, 8), "V": (3, 4, 8, 16), "rare": (4, 16, 64), "P": (4, 16, 64)},
        note="celab's default for this study, a few minutes on 2 cores once compiled: 20 "
             "runs (8 per tuning candidate), 32,768 calls for questions 1 and 2, caps of "
             "131,072 calls for question 3"),
    "full": Budget(
        "full", runs=50, tune_runs=20, calls=2 ** 17, start=256, cap=2 ** 20,
        sizes={"H": (2, 4, 6, 8, 12), "V": (3, 4, 8, 16, 32), "rare": (4, 16, 64, 256),
               "P": (4, 16, 64, 256)},
        note="the full budget: 50 runs (20 per tuning candidate), 131,072 calls for "
             "questions 1 and 2, caps of 1,048,576 calls for question 3"),
}


def passk_problems(b: Budget) -> list[dict[str, Any]]:
    common = {"setting": "reasoning", "calls": b.calls, "runs": b.runs, "epsilon": EPSILON}
    out = []
    for m in (1, 4, 16):
        out.append({"name": f"passk-m{m}", **common, "env": "trie",
                    "args": {**TRIE, "n_solutions": m, "p_max": 0.3}, "held_out": 0,
                    "agents": PASSK_AGENTS})
    out.append({"name": "passk-shared", **common, "env": "shared",
                "args": {**TRIE, "n_prompts": 100, "n_solutions": 4, "p_max": 0.3},
                "held_out": 0.2, "agents": SHARED_AGENTS})
    return out


def power_problems(b: Budget) -> list[dict[str, Any]]:
    common = {"setting": "reasoning", "calls": b.calls, "runs": b.runs, "epsilon": EPSILON}
    out = []
    for key, (d, w) in POWER_CONDITIONS.items():
        args = {**TRIE, "n_solutions": 4, "p_max": 0.15}
        if d:
            args.update(n_distractors=d, distractor_weight=w)
        out.append({"name": f"power-{key}", **common, "env": "trie", "args": args,
                    "held_out": 0, "agents": POWER_AGENTS})
    return out


def call_problems(b: Budget) -> list[dict[str, Any]]:
    out = []
    for key, sizes in b.sizes.items():
        axis = AXES[key]
        for size in sizes:
            out.append({"name": f"calls-{key}{size}", "setting": "reasoning", "env": axis.env,
                        "args": axis.args(size), "held_out": 0, "calls": b.start,
                        "budget": "until", "cap": b.cap, "runs": b.runs, "epsilon": EPSILON,
                        "agents": list(axis.sides())})
    return out


def problems(b: Budget) -> list[dict[str, Any]]:
    return passk_problems(b) + power_problems(b) + call_problems(b)


def text(budget: str) -> str:
    """The experiment file of ``budget`` (a key of :data:`BUDGETS`)."""
    b = BUDGETS[budget]
    title = ("reasoning: GRPO, RLOO, rejection sampling, power sampling and certainty "
             "equivalence on verifiable-reward token trees"
             + ("" if budget == "default" else f" ({budget} budget)"))
    lines = [
        "# celab's reasoning study: pass@k after the same verifier budget, power sampling",
        "# against GRPO, and verifier calls until pass@1 reaches the target. Written by",
        "# python -m experiments.studies.reasoning_design; edit that module, not this file.",
        f'title = "{title}"', "seed = 0", "",
        "[study]", f'budget_note = "{b.note}"', "",
        "[tune]", 'objective = "samples"', f"runs = {b.tune_runs}", "every = true",
        f'stop = "{TUNE_STOP}"',
        *(f"{name} = {_value(grid)}" for name, grid in GRIDS.items()),
    ]
    for table in problems(b):
        lines += ["", "[[problem]]", *(f"{k} = {_value(v)}" for k, v in table.items())]
    return "\n".join(lines) + "\n"


def write(folder: Path | None = None) -> list[Path]:
    """Write reasoning.toml and reasoning-BUDGET.toml for the other budgets (into this
    package's folder by default)."""
    folder = Path(__file__).parent if folder is None else folder
    out = []
    for budget in BUDGETS:
        path = folder / ("reasoning.toml" if budget == "default" else f"reasoning-{budget}.toml")
        path.write_text(text(budget), encoding="utf-8")
        out.append(path)
    return out


if __name__ == "__main__":
    for p in write():
        print(p)

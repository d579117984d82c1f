"""The reasoning study: GRPO, RLOO, rejection sampling, power sampling and certainty equivalence
on the verifiable-reward token trees of mdp.reasoning, set beside the published claims.

Three questions (experiments/studies/reasoning_design.py holds the problems): pass@k after the
same verifier budget (Yue et al. 2025), power sampling against GRPO (Karan and Du 2025), and
the verifier calls until pass@1 reaches the target (n(epsilon, delta), the censored log-log
fits and the ratio of the best gradient agent to the best certainty-equivalence agent, chosen on
the tuning seeds). Every sentence with a figure is generated from the results.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from tracking import stats

from .. import scaling
from . import Context, budget_note, md_table, measure_note, num
from .reasoning_design import AXES, CE, DELTA, EPSILON, PG, POWER_CONDITIONS, TARGET

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SOURCES = [
    "Y. Yue et al., \"Does reinforcement learning really incentivize reasoning capacity in LLMs "
    "beyond the base model?\", 2025 (arXiv:2504.13837): RLVR-trained models beat their base "
    "at small k and lose to it at large k (pass@256).",
    "A. Karan and Y. Du, \"Reasoning with sampling: your base model is smarter than you "
    "think\", 2025 (arXiv:2510.14901): sampling from p^alpha (alpha = 4) by Metropolis-Hastings, "
    "no training, near GRPO's single-shot accuracy on MATH500 and above it on HumanEval.",
    "W. Xiong et al., \"A minimalist approach to LLM reasoning: from rejection sampling to "
    "reinforce\", 2025 (arXiv:2504.11343): rejection-sampling fine-tuning (RAFT) is "
    "competitive with GRPO.",
    "Z. Shao et al., \"DeepSeekMath\", 2024 (arXiv:2402.03300): GRPO's definition (group "
    "advantages, clipped ratio, k3 KL penalty to the reference).",
]

#: The k of pass@k the tables show (of the recorded 1, 2, 4, .., 1024).
TABLE_KS = (1, 16, 256, 1024)
#: The k Yue et al. read their crossover at.
YUE_K = 256
#: Differences of exact pass@k below this are rounding, not an order.
EXACT = 1e-9


def _ks(res: Any) -> list[int]:
    return [int(k) for k in res.info["pass_ks"]]


def _passk(res: Any, i: int, held: bool = False) -> np.ndarray:
    """pass@k of agent i per run and k: (runs, len(pass_ks))."""
    return res.extra["pass_at_k_held_out" if held else "pass_at_k"][i]


def _mean_half(x: np.ndarray) -> tuple[float, float]:
    """Mean over runs and the half-width of its normal 95% interval (0 for one run)."""
    n = x.shape[0]
    m = float(np.mean(x))
    return m, (1.96 * float(np.std(x, ddof=1)) / math.sqrt(n) if n > 1 else 0.0)


def _pm(x: np.ndarray) -> str:
    m, h = _mean_half(x)
    return f"{m:.3f} ± {h:.3f}" if h > 0 else f"{m:.3f}"


def _order(a: np.ndarray, b: np.ndarray) -> int:
    """+1 when agent a's mean is above b's by more than both 95% half-widths together, -1 when
    below by as much, 0 otherwise (b may be one value, a fixed policy's exact pass@k)."""
    ma, ha = _mean_half(a)
    mb, hb = _mean_half(b)
    gap = ha + hb + EXACT
    if ma - mb > gap:
        return 1
    if mb - ma > gap:
        return -1
    return 0


def _label(res: Any, i: int) -> str:
    return res.agents[i]


def _trained(res: Any) -> list[int]:
    return [i for i, f in enumerate(res.info["families"]) if f != "inference"]


def _index(res: Any, name: str) -> int | None:
    names = res.info["agent_names"]
    return names.index(name) if name in names else None


# --- question 1 ---------------------------------------------------------------------------------

def _crossover(res: Any, i: int, base: int, held: bool = False) -> int | None:
    """The smallest k at which the base's pass@k is above agent i's (outside the intervals),
    None when there is none."""
    for j, k in enumerate(_ks(res)):
        if _order(_passk(res, i, held)[:, j], _passk(res, base, held)[:, j]) < 0:
            return k
    return None


def _yue(res: Any, i: int, base: int, held: bool = False) -> str:
    """What agent i does against the base: wins at k = 1 and loses from k = K (Yue et al.'s
    pattern), wins at every k, ..., in words with the figures."""
    ks = _ks(res)
    p, b = _passk(res, i, held), _passk(res, base, held)
    at1 = _order(p[:, 0], b[:, 0])
    big = ks.index(max(ks))
    cross = _crossover(res, i, base, held)
    f1 = f"pass@1 {_mean_half(p[:, 0])[0]:.4f} against {_mean_half(b[:, 0])[0]:.4f}"
    fk = (f"pass@{ks[big]} {_mean_half(p[:, big])[0]:.4f} against "
          f"{_mean_half(b[:, big])[0]:.4f}")
    if at1 > 0 and cross is not None:
        return f"wins at k = 1 ({f1}) and loses from k = {cross} on ({fk}): Yue et al.'s pattern"
    if at1 > 0:
        return f"wins at k = 1 ({f1}) and is not below the base at any k ({fk})"
    if at1 < 0:
        return f"loses already at k = 1 ({f1}; {fk})"
    return f"is level with the base at k = 1 ({f1}; {fk})"


def _passk_table(res: Any, summary: dict[str, Any], held: bool) -> str:
    ks = _ks(res)
    cols = [k for k in TABLE_KS if k in ks]
    by = {a["agent"]: a for a in summary["agents"]}
    rows = []
    for i, name in enumerate(res.agents):
        p = _passk(res, i)
        row = [name, *(_pm(p[:, ks.index(k)]) for k in cols),
               num(by[name].get("pass_at_1_greedy")), num(by[name].get("kl")),
               num(by[name].get("coverage"))]
        if held:
            h = _passk(res, i, held=True)
            row += [_pm(h[:, 0]), _pm(h[:, ks.index(YUE_K)])]
        rows.append(row)
    head = ["agent", *(f"pass@{k}" for k in cols), "pass@1 (greedy)", "KL to pi_ref",
            "coverage"]
    if held:
        head += ["held-out pass@1", f"held-out pass@{YUE_K}"]
    return md_table(head, rows)


def _condition(problem: str, res: Any) -> str:
    args = res.config.get("args", {})
    policy = "shared" if problem.endswith("shared") else "tabular"
    return (f"{args.get('n_solutions')} solution(s) per prompt, {policy} policies, "
            f"{res.info['n_train']} training prompts (H = {res.info['horizon']}, "
            f"V = {res.info['vocab']}, base pass@1 {num(res.info['base_pass_at_1'])})")


def _question1(ctx: Context) -> tuple[list[str], list[str]]:
    """The section and the summary sentences of question 1."""
    lines = ["## 1. pass@k after the same verifier budget", ""]
    pattern, other = [], []
    for problem in sorted(p for p in ctx.results if p.startswith("passk-")):
        res, summary = ctx.results[problem], ctx.summaries[problem]
        base = _index(res, "base")
        held = "pass_at_k_held_out" in res.extra
        lines += [f"### {problem}: {_condition(problem, res)}", "",
                  f"{res.config['calls']:,} verifier calls per run, {res.runs} runs; pass@k "
                  "is exact for the final policy (mean over runs ± 95% interval).", "",
                  _passk_table(res, summary, held), ""]
        for i in _trained(res):
            for h in ((False, True) if held else (False,)):
                text = _yue(res, i, base, h)
                where = f"{problem}{' (held-out prompts)' if h else ''}"
                lines.append(f"- {_label(res, i)} {text}.")
                (pattern if "Yue et al.'s pattern" in text else other).append(
                    f"{_label(res, i)} on {where}")
        lines.append("")
    summary_lines: list[str] = []  # the first is the Yue sentence (the claims table reads it)
    if pattern:
        summary_lines.append(f"Yue et al.'s pattern (a trained policy above the base at k = 1, "
                             f"below it at large k) appears for {len(pattern)} of "
                             f"{len(pattern) + len(other)} (agent, condition) pairs: "
                             f"{'; '.join(pattern)}.")
    else:
        summary_lines.append(f"Yue et al.'s pattern (a trained policy above the base at k = 1, "
                             f"below it at large k) appears for none of the "
                             f"{len(other)} (agent, condition) pairs.")
    return lines, summary_lines + _model_lines(ctx)


def _model_lines(ctx: Context) -> list[str]:
    """What the structured verifier model does on the shared task, well specified (the prompt
    features) and misspecified (none), beside the table and the shared gradient agents: pass@1
    on the training and held-out prompts."""
    res = ctx.results.get("passk-shared")
    if res is None or "pass_at_k_held_out" not in res.extra:
        return []
    specs = _design_agents("passk-shared")  # tuned labels carry the chosen parameters
    idx = {sp: i for i, sp in enumerate(specs) if i < len(res.agents)}
    need = ("ce-linear:features=prompt", "ce-linear", "ce")
    if not all(n in idx for n in need):
        return []

    def both(sp: str) -> str:
        i = idx[sp]
        return (f"{_mean_half(_passk(res, i)[:, 0])[0]:.3f} on the training prompts and "
                f"{_mean_half(_passk(res, i, True)[:, 0])[0]:.3f} on the held-out ones")

    pg = [sp for sp in specs if sp.endswith("policy=shared") and sp in idx]
    best = max(pg, key=lambda sp: _mean_half(_passk(res, idx[sp], True)[:, 0])[0]) if pg \
        else None
    well, mis = idx["ce-linear:features=prompt"], idx["ce-linear"]
    order = _order(_passk(res, well, True)[:, 0], _passk(res, mis, True)[:, 0])
    word = {1: "above", 0: "level with", -1: "below"}[order]
    text = (f"On the shared task after {res.config['calls']:,} calls, certainty equivalence "
            f"with the linear verifier model in the prompt features (well specified) reaches "
            f"pass@1 {both('ce-linear:features=prompt')}, {word} the misspecified model without "
            f"them ({both('ce-linear')}) on the held-out prompts; the per-prompt table ce "
            f"reaches {both('ce')}")
    if best is not None:
        text += f", and the best shared-policy gradient agent ({best}) {both(best)}"
    base = _index(res, "base")
    if base is not None:
        text += f" (the base: {_mean_half(_passk(res, base, True)[:, 0])[0]:.3f} held out)"
    return [text + "."]


def _candidates() -> int:
    """The candidates per trained kind of the design's tuning grids (the same for all)."""
    from .reasoning_design import GRIDS

    return max(len(values) for grid in GRIDS.values() for values in grid.values())


def _design_agents(problem: str) -> list[str]:
    """The agents of ``problem`` as the design writes them (the same at every budget)."""
    from .reasoning_design import BUDGETS, problems

    for table in problems(BUDGETS["default"]):
        if table["name"] == problem:
            return list(table["agents"])
    return []


# --- question 2 ---------------------------------------------------------------------------------

def _best_of_n(res: Any, base: int, target: float) -> int | None:
    """The smallest recorded n whose base pass@n (best-of-n: n calls per prompt at evaluation)
    reaches ``target``."""
    b = _passk(res, base).mean(axis=0)
    for j, k in enumerate(_ks(res)):
        if b[j] >= target:
            return k
    return None


def _question2(ctx: Context) -> tuple[list[str], list[str]]:
    lines = ["## 2. Power sampling against GRPO", "",
             "pass@1 (mean over runs ± 95% interval) on tries of 4 solutions per prompt beside "
             "d distractors: wrong responses the reference gives w times a solution's "
             "probability (mdp.reasoning.trie). Power sampling (alpha = 4, exact) and low "
             "temperature (token-level alpha = 4) spend no verifier call; best-of-n of the base "
             "spends n calls per prompt at evaluation.", ""]
    rows, sentences = [], []
    for key, (d, w) in POWER_CONDITIONS.items():
        problem = f"power-{key}"
        if problem not in ctx.results:
            continue
        res = ctx.results[problem]
        idx = {n: _index(res, n) for n in ("base", "power", "low-temp", "grpo", "rsft", "ce")}
        p1 = {n: _passk(res, i)[:, 0] for n, i in idx.items() if i is not None}
        grpo = _mean_half(p1["grpo"])[0]
        bon = _best_of_n(res, idx["base"], grpo)
        rows.append([problem, "none" if d == 0 else f"{d}, w = {w:g}",
                     *(_pm(p1[n]) if n in p1 else "-" for n in
                       ("base", "power", "low-temp", "grpo", "rsft", "ce")),
                     num(_mean_half(p1["power"])[0] / grpo) if grpo > 0 else "-",
                     "-" if bon is None else f"{bon}"])
        order = _order(p1["power"], p1["grpo"])
        word = {1: "above", 0: "level with", -1: "below"}[order]
        sentences.append(
            f"With {'no distractors' if d == 0 else f'{d} distractors of weight {w:g}'}, power "
            f"sampling's pass@1 is {_mean_half(p1['power'])[0]:.3f}, {word} GRPO's "
            f"{grpo:.3f} after {res.config['calls']:,} calls (the base: "
            f"{_mean_half(p1['base'])[0]:.3f})"
            + ("" if bon is None else f"; best-of-n of the base needs n = {bon} verifier calls "
               f"per prompt at evaluation to match GRPO's pass@1") + ".")
    lines += [md_table(["problem", "distractors", "base", "power", "low-temp", "grpo", "rsft",
                        "ce", "power / grpo", "best-of-n matching grpo"], rows), "",
              *(f"- {s}" for s in sentences), ""]
    return lines, sentences


# --- question 3 ---------------------------------------------------------------------------------

def _parse(problem: str) -> tuple[str, int]:
    """``calls-<axis><size>`` -> (axis, size)."""
    rest = problem[len("calls-"):]
    for key in sorted(AXES, key=len, reverse=True):
        if rest.startswith(key) and rest[len(key):].isdigit():
            return key, int(rest[len(key):])
    raise ValueError(f"not a question-3 problem name: {problem}")


def _specs(axis: str) -> list[str]:
    """The agents of an axis's problems, in their order: the keys of its cells."""
    return list(AXES[axis].sides())


def _cell(res: Any, i: int, axis: str, size: int, readout: str) -> scaling.Cell:
    exits = stats.last_exit_times(res.samples, res.readout(readout)[i], EPSILON)
    return scaling.Cell(axis, size, _specs(axis)[i], exits, DELTA, EPSILON)


def _tuned_cells(ctx: Context, readout: str) -> dict[tuple[str, int], dict[str, scaling.Cell]]:
    """(axis, size) -> agent name -> the chosen candidate's cell on the tuning runs."""
    from .thesis import _tuned

    out: dict[tuple[str, int], dict[str, scaling.Cell]] = {}
    for (problem, k), (res, chosen) in _tuned(ctx).items():
        if not problem.startswith("calls-"):
            continue
        axis, size = _parse(problem)
        out.setdefault((axis, size), {})[_specs(axis)[k]] = _cell(res, chosen, axis, size,
                                                                    readout)
    return out


def _q(cell: scaling.Cell) -> str:
    from .thesis import _q as q

    return q(cell)


def _question3(ctx: Context) -> tuple[list[str], list[str], dict[str, scaling.FamilyScaling]]:
    lines = ["## 3. Verifier calls until pass@1 reaches the target", "",
             f"n(epsilon, delta): the verifier calls after which a run's pass@1 (mean over its "
             f"training prompts) stays at or above {TARGET:g} (epsilon = {EPSILON:g} on the "
             f"simple regret), reached by {100 * (1 - DELTA):.0f}% of runs (delta = "
             f"{DELTA:g}), Kaplan-Meier over the runs, '>' where censored at the cap. Each "
             "problem's budget doubles until every agent settles or the cap. The best gradient "
             "agent (grpo, rloo, rsft: PG below; on the shared task with the policy shared "
             "across prompts) and the best certainty-equivalence agent (ce, ce-optimistic and, "
             "on the shared task, ce-linear with and without the prompt features: CE) are "
             "chosen per size on the tuning seeds.", ""]
    readout = next(iter(ctx.summaries.values()))["readout"] if ctx.summaries else "behaviour"
    tuned = _tuned_cells(ctx, readout)
    by_axis: dict[str, dict[int, dict[str, scaling.Cell]]] = {}
    for problem, res in ctx.results.items():
        if not problem.startswith("calls-"):
            continue
        axis, size = _parse(problem)
        by_axis.setdefault(axis, {})[size] = {
            _specs(axis)[i]: _cell(res, i, axis, size, readout) for i in range(len(res.agents))}
    analyses, sentences = {}, []
    for axis, rows in by_axis.items():
        ax = AXES[axis]
        sides = {side: [n for n, s in ax.sides().items() if s == side] for side in (PG, CE)}
        choice = {}
        for size, row in rows.items():
            pool = tuned.get((axis, size)) or row
            choice[size] = {side: scaling.select_best(
                {n: pool[n] for n in names if n in pool},
                {n: row[n] for n in names if n in row}).agent
                for side, names in sides.items()}
        cells = [c for size in sorted(rows) for c in rows[size].values()]
        fs = scaling.analyse_family(cells, {float(s): choice[s][PG] for s in rows},
                                    {float(s): choice[s][CE] for s in rows}, None, ax.size_name)
        analyses[axis] = fs
        names = _specs(axis)
        table = []
        for r, size in zip(fs.rows, sorted(rows)):
            table.append([f"{ax.size_name} = {size}", *(_q(rows[size][n]) for n in names),
                          f"{r.pg} / {r.ce}", scaling._ratio_text(r.ratio)])
        laws = [[n, f.text(), f"{f.measured} of {f.cells}", f.reason or ""]
                for n, f in fs.laws.items()]
        laws += [[f"**{w}**", f.text(), f"{f.measured} of {f.cells}", f.reason or ""]
                 for f, w in ((fs.best_pg, "best PG"), (fs.best_ce, "best CE"),
                              (fs.ratio, "ratio best PG / best CE")) if f is not None]
        verdict = scaling.verdict(fs)
        sentences += [f"Over the {ax.title}: " + verdict[-1]]
        lines += [f"### Over the {ax.title}", "",
                  md_table(["size", *(f"n({n})" for n in names), "best PG / best CE",
                            "ratio [95% CI]"], table), "",
                  md_table(["agent", f"exponent of {ax.size_name} [95% CI]", "measured sizes",
                            "note"], laws), "",
                  *verdict, ""]
    return lines, sentences, analyses


def _figure(ctx: Context) -> Figure | None:
    """pass@k against k (log scale) for every agent of every question-1 problem."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problems = sorted(p for p in ctx.results if p.startswith("passk-"))
    if not problems:
        return None
    fig, axes = plt.subplots(1, len(problems), figsize=(4.2 * len(problems), 3.6),
                             squeeze=False)
    for ax, problem in zip(axes[0], problems):
        res = ctx.results[problem]
        ks = _ks(res)
        for i, name in enumerate(res.agents):
            style = "--" if res.info["families"][i] == "inference" else "-"
            ax.plot(ks, _passk(res, i).mean(axis=0), style, marker=".", label=name)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("k")
        ax.set_ylim(0, 1.02)
        ax.set_title(problem)
    axes[0][0].set_ylabel("pass@k")
    for ax in axes[0]:  # each panel's agents (the shared task's differ from the tries')
        ax.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    return fig


def _pairs(ctx: Context, a: str, b: str) -> tuple[list[str], list[str], list[str]]:
    """The fixed-budget problems where agent kind ``a``'s pass@1 is above, level with and
    below kind ``b``'s (the first agent of each kind in the problem's list)."""
    above, level, below = [], [], []
    for problem in sorted(ctx.results):
        if problem.startswith("calls-"):
            continue
        res = ctx.results[problem]
        i, j = _index(res, a), _index(res, b)
        if i is None or j is None:
            continue
        order = _order(_passk(res, i)[:, 0], _passk(res, j)[:, 0])
        (above if order > 0 else below if order < 0 else level).append(problem)
    return above, level, below


def _count(names: list[str]) -> str:
    return f"{len(names)} ({', '.join(names)})" if names else "0"


def _beside(ctx: Context, s1: list[str], s2: list[str]) -> list[str]:
    """The published claims and what the numbers say of each; why they may differ."""
    rs_up, rs_level, rs_down = _pairs(ctx, "rsft", "grpo")
    ce_up, ce_level, ce_down = _pairs(ctx, "ce", "grpo")
    pw_up, pw_level, pw_down = _pairs(ctx, "power", "grpo")
    return [
        "## Beside the published claims",
        "",
        md_table(["claim", "celab"], [
            ["Yue et al. 2025: the RL-trained policy wins at k = 1 and loses to the base at "
             "large k", s1[0]],
            ["Karan and Du 2025: power sampling of the base nearly matches GRPO's pass@1",
             f"power sampling's pass@1 is above GRPO's on {_count(pw_up)}, level on "
             f"{_count(pw_level)} and below on {_count(pw_down)} of the fixed-budget "
             "problems"],
            ["Xiong et al. 2025: rejection-sampling fine-tuning is competitive with GRPO",
             f"rsft's pass@1 is above GRPO's on {_count(rs_up)}, level on {_count(rs_level)} "
             f"and below on {_count(rs_down)} of the fixed-budget problems"],
            ["celab's question: a model of the verifier (certainty equivalence) learns from "
             "fewer calls", f"ce's pass@1 is above GRPO's on {_count(ce_up)}, level on "
             f"{_count(ce_level)} and below on {_count(ce_down)} of the fixed-budget "
             "problems; the ratios of calls to the target are in section 3"],
        ]),
        "",
        "## Where the numbers differ from the papers, and why",
        "",
        "The testbed is a tree of responses, not a language model, and each difference below "
        "is a property of that construction, stated in docs/algorithms.md: a tabular policy "
        "changes only the prompts it is trained on (its held-out prompts stay at the base), so "
        "a collapse onto some solutions can only lower pass@k of the trained prompts; a policy "
        "shared across prompts moves the held-out ones too. Power sampling sharpens the base "
        "toward its likeliest responses: on a trie whose likeliest responses are correct that "
        "is what training on the verifier would find, and with distractors of weight w > 1 "
        "it is not (mdp.reasoning.trie). The papers' models have neither exact pass@k nor a "
        "verifier model to plan on; the certainty-equivalence agents here plan exactly on a "
        "table of the verifier's verdicts per final state of the automaton, which a language "
        "model's verifier does not offer. Every agent's policy is indexed by those states, and "
        "on a trie they number m + d + 1 per prompt (its solutions, its distractors and the "
        "dead state of every other response): an optimistic CE agent tries each final state "
        "once, which a model over the V^H whole responses could not. Question 3's tasks carry "
        "4 distractors per prompt as likely as the solutions so that the states do not name "
        "the correct responses; still, the table CE agents' advantage on the tries is that of "
        "a per-state table. ce-linear has no such table: its model of the verifier sees the "
        "(step, token) pairs of a response and the prompt's features, shared across "
        "responses and prompts, and it runs well specified (the prompt features, in which "
        "the shared task's rule is linear) and misspecified (without them) in section 1 and "
        "on the prompt axis of section 3. Section 1's shared task has no distractors, so "
        "there its final states do name the correct responses, to the table agents' "
        "benefit; the prompt axis adds 4 distractors per prompt that ignore the rule.",
        "",
    ]


def report(ctx: Context) -> str:
    from . import figure

    q1, s1 = _question1(ctx)
    q2, s2 = _question2(ctx)
    q3, s3, _ = _question3(ctx)
    note = ctx.spec.get("study", {}).get("budget_note")
    lines = [
        "# reasoning: verifiable-reward token trees",
        "",
        "GRPO, RLOO, rejection-sampling fine-tuning (rsft), power sampling and certainty "
        "equivalence (ce, ce-optimistic, ce-linear) on tries of responses whose every quantity "
        "is exact (docs/reasoning.md, docs/algorithms.md). Sources:",
        "",
        *(f"- {s}" for s in SOURCES),
        "",
        budget_note(ctx) + (f" This budget: {note}." if note else ""),
        "",
        measure_note(ctx) + " The trained agents were tuned on held-out seeds (`[tune]`: "
        f"{_candidates()} candidates per kind, the same tuning runs); the inference-only agents "
        "have nothing to tune.",
        "",
        "## What celab measured",
        "",
        *(f"- {s}" for s in (*s1, *s2, *s3)),
        "",
    ]
    fig = _figure(ctx)
    if fig is not None:
        q1 = q1[:2] + [figure(ctx, fig, "passk", "pass@k against k after the same verifier "
                              "budget (dashed: no training)"), ""] + q1[2:]
    lines += q1 + q2 + q3
    lines += _beside(ctx, s1, s2)
    return "\n".join(lines) + "\n"

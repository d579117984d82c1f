"""Named studies: reproductions of published results, and celab's own thesis measurement.

A study is an experiment file shipped here (``NAME.toml``, ``NAME-full.toml`` for the
paper's full budget, ``NAME-BUDGET.toml`` for any other budget it offers) plus a Python
module with the same name (dashes become underscores) that turns the saved results into a
report: ``report.md`` with figures, celab's numbers beside the published ones (with the
source), and a paragraph on where they differ and why. Some studies
also compute things that are not regret runs (errors of a plug-in policy against samples,
iterations of exact policy gradient); their module's ``extra`` function does that, from the
``[study]`` table of the file, and saves its arrays beside the results.

``celab reproduce NAME`` runs a study (``--full`` for the paper's budget, ``--smoke`` for a
tiny one that only checks the pipeline, ``--budget BUDGET`` for another of its files).
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from tracking import settings
from tracking.paths import check_name, inside
from tracking.validate import InputError

from .. import files

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from tracking.executors import Executor
    from tracking.runner import Job, Progress

#: Study name -> one-line description.
STUDIES = {
    "riverswim-psrl": "Osband, Russo, Van Roy 2013, Table 1: PSRL against UCRL2 on RiverSwim "
                      "and random MDPs",
    "kl-ucb": "Garivier and Cappe 2011: UCB, KL-UCB, Thompson, greedy, epsilon-greedy on ten "
              "Bernoulli arms, against the Lai-Robbins curve",
    "thompson-chapelle-li": "Chapelle and Li 2011: Thompson sampling against UCB, regret / ln T "
                            "against the Lai-Robbins constants",
    "sutton-barto-ch2": "Sutton and Barto, figures 2.2, 2.4, 2.5: the 10-armed testbed",
    "policy-gradient-rates": "Mei et al. 2020 and Li et al. 2021: exact softmax policy gradient "
                             "rates, beside certainty equivalence's sample counts",
    "generative-model": "Azar et al. 2013, Agarwal et al. 2020: plug-in error against samples "
                        "per pair and against 1 / (1 - gamma)",
    "thesis": "celab's question: samples REINFORCE needs against certainty equivalence, as the "
              "problem grows",
    "reasoning": "Yue et al. 2025, Karan and Du 2025, Xiong et al. 2025: pass@k, power sampling "
                 "and verifier calls to a target on token trees, GRPO against certainty "
                 "equivalence",
}


@dataclass
class Context:
    """What a study's report works from."""

    name: str
    budget: str  # "default", "full", "smoke" or another of the study's (budgets())
    spec: dict[str, Any]
    results: dict[str, Any]  # problem name -> Result
    summaries: dict[str, dict[str, Any]]  # problem name -> report.summarize(...)
    folder: Path
    extra: dict[str, Any] = field(default_factory=dict)
    #: With a ``[tune]`` table: the tuning's ``record`` (experiments.tune), its ``results``
    #: on the tuning seeds, by job name (``<problem>.<k>.<agent>``, tune.job_name), and its
    #: edge ``warnings`` (tune.tuning_phase).
    tuning: dict[str, Any] | None = None

    @property
    def figures(self) -> Path:
        path = inside(self.folder, "figures")
        path.mkdir(parents=True, exist_ok=True)
        return path


def module(name: str) -> ModuleType:
    if name not in STUDIES:
        raise InputError(f"unknown study {name!r} (known: {', '.join(STUDIES)})")
    return importlib.import_module(f"{__name__}.{name.replace('-', '_')}")


#: The budgets every study has: its default file (``smoke`` shrinks it) and its full one.
BUDGETS = ("default", "smoke", "full")


def _stem(name: str, budget: str) -> str:
    return name if budget in ("default", "smoke") else f"{name}-{budget}"


def budgets(name: str) -> list[str]:
    """The budgets of study ``name``: default, smoke, full, and those of its other files."""
    module(name)  # validates the name
    prefix = f"{name}-"
    extra = sorted(p.name[len(prefix):-len(".toml")]
                   for p in resources.files(__name__).iterdir()
                   if p.name.startswith(prefix) and p.name.endswith(".toml"))
    return list(BUDGETS) + [b for b in extra if b not in BUDGETS]


def text(name: str, budget: str = "default") -> str:
    """The experiment file of study ``name`` at ``budget`` (InputError for a budget the study
    does not have)."""
    known = budgets(name)
    if budget not in known:
        raise InputError(f"study {name!r} has no budget {budget!r} (its budgets: "
                         f"{', '.join(known)})")
    return resources.files(__name__).joinpath(f"{_stem(name, budget)}.toml").read_text("utf-8")


def spec(name: str, budget: str = "default") -> dict[str, Any]:
    """The parsed experiment file of a study at ``budget`` (``smoke``: the default file
    shrunk to a tiny budget)."""
    parsed = files.parse(text(name, budget), f"{_stem(name, budget)}.toml")
    if budget == "smoke":
        parsed = shrink(parsed)
        mod = module(name)
        if hasattr(mod, "smoke"):  # a study may check its pipeline on fewer problems
            parsed = mod.smoke(parsed)
    return parsed


def shrink(parsed: dict[str, Any]) -> dict[str, Any]:
    """A tiny budget that exercises every step of a study: 2 runs, and each budget key (and the
    cap of ``budget = "until"``) capped at its setting's smoke budget (checkpoints beyond the
    new length dropped)."""
    out = dict(parsed)
    problems = []
    for table in parsed["problems"]:
        t = dict(table)
        t["runs"] = min(t["runs"], 2)
        setting = settings.get(t["setting"])
        for key, cap in setting.smoke.items():
            t[key] = min(t[key], cap)
        limit = t[setting.length]
        if "cap" in t:  # budget = "until": its cap too
            t["cap"] = min(t["cap"], setting.smoke.get(setting.length, t["cap"]))
        if "checkpoints" in t:
            t["checkpoints"] = [c for c in t["checkpoints"] if c <= limit] or None
            if t["checkpoints"] is None:
                del t["checkpoints"]
        problems.append(t)
    out["problems"] = problems
    out["study"] = dict(parsed.get("study", {}), smoke=True)
    if parsed.get("tune") is not None:  # tuning runs too
        out["tune"] = dict(parsed["tune"], runs=min(parsed["tune"].get("runs", 2), 2))
    return out


# --- helpers for the report modules -----------------------------------------------------------

def md_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A markdown table."""
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def num(x: float | None, digits: int = 3, zero: float | None = None) -> str:
    """A number as celab's tables print it (``|x| < zero`` as 0; default 1e-12)."""
    from ..report import ZERO, _num

    return _num(x, digits, ZERO if zero is None else zero)


def pm(mean: float, half: float, zero: float | None = None) -> str:
    """``mean ± half`` as celab's tables print it."""
    from ..report import ZERO, _pm

    return _pm(mean, half, ZERO if zero is None else zero)


def figure(ctx: Context, fig: Figure, stem: str, caption: str) -> str:
    """Save a matplotlib figure as PNG and SVG in the figures folder; markdown for the PNG."""
    from ..plots import _save

    _save(fig, ctx.figures, stem)
    return f"![{caption}](figures/{stem}.png)\n\n*{caption}*"


def result_figures(ctx: Context, problem: str) -> list[str]:
    """The standard regret and simple-regret figures of one problem (simple regret of the
    readout of its summary), as markdown."""
    from .. import plots

    res = ctx.results[problem]
    paths = plots.plot_result(res, ctx.figures, ctx.summaries[problem]["readout"])
    return [f"![{p.stem}](figures/{p.name})" for p in paths if p.suffix == ".png"]


def budget_note(ctx: Context) -> str:
    if ctx.budget == "smoke":
        return ("**Smoke budget**: a tiny run that checks the pipeline; the numbers mean "
                "nothing.")
    if ctx.budget == "full":
        return "Budget: the full budget (`celab reproduce " + ctx.name + " --full`)."
    if ctx.budget != "default":
        return (f"Budget: the {ctx.budget} budget (`celab reproduce {ctx.name} --budget "
                f"{ctx.budget}`).")
    return ("Budget: celab's default for this study (a few minutes on 2 cores); "
            f"`celab reproduce {ctx.name} --full` runs the full budget.")


def deltas_text(deltas: Iterable[float]) -> str:
    """Deltas for a report's text: ``delta = 0.1 (90% of runs)``, each value once."""
    from ..report import runs_share

    return ", ".join(f"delta = {d:g} ({runs_share(d)})" for d in sorted(set(deltas)))


def measure_note(ctx: Context) -> str:
    """The sentence of a report naming the readout of simple regret and the delta of samples
    to epsilon its numbers and figures use (those of the study's summaries)."""
    from ..report import readout_phrase

    if not ctx.summaries:
        return "This study records no regret runs: no readout of simple regret or delta applies."
    summaries = ctx.summaries.values()
    return ("Simple regret and samples to epsilon use "
            f"{readout_phrase([s['readout'] for s in summaries])} and "
            f"{deltas_text(s['delta'] for s in summaries)}.")


def write_docs(ctx: Context, report_text: str, docs: Path) -> Path:
    """Copy the report and its PNG figures into ``docs/NAME.md`` and ``docs/NAME/``."""
    docs.mkdir(parents=True, exist_ok=True)
    fig_dir = inside(docs, check_name(ctx.name, "study name"))
    if fig_dir.exists():
        shutil.rmtree(fig_dir)
    fig_dir.mkdir()
    for png in sorted((ctx.folder / "figures").glob("*.png")):
        shutil.copy(png, inside(fig_dir, png.name))
    from tracking.results import write_atomic

    path = inside(docs, f"{ctx.name}.md")
    write_atomic(path, report_text.replace("](figures/", f"]({ctx.name}/"))
    return path


def run(name: str, folder_path: Path, budget: str = "default", resume: bool = False,
        progress_for: Callable[[Job], Progress | None] | None = None,
        plots: bool = True, executor: Executor | None = None) -> tuple[Any, Context | None]:
    """Run study ``name`` into ``folder_path``; write ``report.md`` when it completes.

    A study with a ``[tune]`` table first tunes its agents on the tuning seeds, as ``celab
    tune`` does (``folder_path/tuning``, ``folder_path/tuned.toml``), then evaluates the tuned
    agents on the evaluation seeds; ``resume`` finishes whichever phase was interrupted. The
    batches run on ``executor`` (default: this process). Returns the session outcome and the
    report context (None when interrupted).
    """
    from .. import report as rep
    from .. import session, tune

    mod = module(name)
    parsed = spec(name, budget)
    folder_path = Path(folder_path)
    evaluating, tuning_started = tune.started(folder_path)
    if resume and not evaluating and not tuning_started:
        raise InputError(f"{folder_path}: holds no study to resume (no config.toml)")
    with session.Folder(folder_path, resume=resume and evaluating) as folder:
        tuning = None
        if parsed.get("tune") is not None:
            outcome, parsed, tuning = tune.tuning_phase(tune.plan(parsed), folder.path,
                                                        resume and tuning_started,
                                                        progress_for, executor)
            if tuning is None:
                return outcome, None
        outcome = session.run_experiment(jobs_of(parsed), folder, parsed["title"],
                                         parsed["seed"], resume and evaluating, progress_for,
                                         plots, parsed["study"], executor)
        if outcome.stopped_by is not None:
            return outcome, None
        results = {r.problem: r for r in outcome.results}
        ctx = Context(name, budget, parsed, results,
                      {r.problem: rep.summarize(r) for r in outcome.results}, folder.path,
                      tuning=tuning)
        if hasattr(mod, "extra"):
            ctx.extra = mod.extra(ctx)
        from tracking.results import write_atomic

        write_atomic(folder.inside("report.md"), mod.report(ctx))
    return outcome, ctx


def tuning_jobs(parsed: dict[str, Any]) -> list:
    """The tuning jobs of a parsed study file with a ``[tune]`` table (none without one), for
    the work guard and the progress display."""
    if parsed.get("tune") is None:
        return []
    from .. import tune

    return tune.plan(parsed).jobs


def jobs_of(parsed: dict[str, Any]) -> list:
    """The jobs of a parsed study file."""
    return files.build_jobs(parsed)

"""celab's command line: parse, call the library, report. No algorithm code lives here.

Help texts take agent and environment names from the labs' registries and defaults from their
settings, which import without numba; numba and the loops are imported inside the commands,
so ``celab --help`` starts fast.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO

import typer
from typer.core import TyperCommand, TyperGroup

from bandits import agents as bandit_agents
from bandits import envs as bandit_envs
from bandits import linear as bandit_linear
from bandits import linear_agents
from bandits.linear_setting import LINEAR
from bandits.setting import BANDIT
from mdp import agents as mdp_agents
from mdp import envs as mdp_envs
from mdp import reasoning_agents
from mdp.reasoning_setting import HELD_OUT, REASONING
from mdp.setting import EPISODIC, INSTANCE, REGRET, REWARDS
from tracking.validate import InputError
from tracking.versions import celab_version

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from contextlib import AbstractContextManager
    from types import FrameType

    from rich.console import Console
    from rich.progress import Progress as RichProgress
    from rich.table import Table

    from experiments.session import Outcome
    from experiments.tune import Plan as TunePlan
    from mdp.model import FiniteMDP
    from mdp.solvers import SolverResult
    from tracking.executors import ExecutorSpec
    from tracking.runner import Job, Progress


class _PlainHelp:
    """Help without typer's type placeholders where they say nothing: none after on/off flags
    (``<bool>``), none after an argument named by its metavar (``FILE <path>``)."""

    # ctx and the parameters are click's classes, which recent typer versions vendor privately
    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
            elif param.param_type_name == "argument" and param.metavar is not None:
                param.display_type_rich = _no_type
        return params


def _no_type(ctx: Any) -> None:
    return None


class _Command(_PlainHelp, TyperCommand):
    pass


class _Group(_PlainHelp, TyperGroup):
    pass


app = typer.Typer(
    name="celab",
    cls=_Group,
    help="Certainty-equivalence lab: bandit and tabular MDP agents compared by regret.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _known(registry: dict) -> str:
    """The names of a registry for a help text; an abbreviated agent name is followed by its
    spelled-out name (``etc (explore-then-commit)``)."""
    return ", ".join(f"{name} ({entry.long_name})" if getattr(entry, "long_name", "") else name
                     for name, entry in registry.items())


SOLVE_METHODS = "auto, vi, pi, mpi, lp (discounted); rvi (average); bi (finite horizon)"


class UserError(Exception):
    """A problem with the user's input: reported as one red line, exit code 2."""


def _console(stderr: bool = False) -> Console:
    """A rich console; when output is not a terminal, tables get 120 columns, not 80."""
    from rich.console import Console

    console = Console(stderr=stderr, soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(stderr=stderr, soft_wrap=True, width=120)
    return console


def _progress_bar(console: Console, total: int, description: str
                  ) -> tuple[RichProgress, Progress]:
    """A rich progress bar on ``console`` (a terminal)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    task = progress.add_task(description, total=total)
    return progress, lambda n: progress.advance(task, n)


def _parse_floats(text: str, name: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UserError(f"{name} must be comma-separated numbers, got {text!r}") from None


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"celab {celab_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    memory_limit: Annotated[
        str | None, typer.Option(metavar="SIZE",
                                 help="Refuse requests needing more memory than this: bytes, "
                                      "a size (512M, 16G) or a share of the available memory "
                                      "(50%). Default 80%.")
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", help="Print celab's version and exit.", is_eager=True,
                           callback=_print_version)
    ] = False,
) -> None:
    """Certainty-equivalence lab: bandit and tabular MDP agents compared by regret."""
    if memory_limit is not None:
        from tracking.memory import parse_limit

        parse_limit(memory_limit)
        os.environ["CELAB_MEMORY_LIMIT"] = memory_limit


def _experiment_progress(jobs: Sequence[Job]
                         ) -> tuple[AbstractContextManager[Any], Callable[[Job], Progress]]:
    """Progress over all jobs on stderr: a rich bar on a terminal, else plain lines
    (:class:`_ProgressLines`); returns (context manager, per-job callback factory). The
    callback is called with each job as it starts, and with each try of a ``budget =
    "until"`` problem (:class:`_Tries`)."""
    console = _console(stderr=True)
    if not console.is_terminal:
        lines = _ProgressLines(jobs)
        return lines, lines.for_job
    progress, advance = _progress_bar(console, sum(j.total_samples for j in jobs), "celab")
    task = progress.task_ids[0]
    tries = _Tries(jobs)

    def for_job(job: Job) -> Progress:
        total = progress.tasks[0].total + tries.start(job)
        budget = tries.budget(job)
        progress.update(task, description=f"{job.problem} ({budget})" if budget else job.problem,
                        total=total)
        return advance

    return progress, for_job


class _Tries:
    """What progress shows of the tries of ``budget = "until"`` problems: each later try adds
    its samples to the total planned (which counts a problem's first try), and a try is named
    by its budget."""

    def __init__(self, jobs: Sequence[Job]) -> None:
        from experiments.until import UntilJob

        self.planned = {j.problem: j.total_samples for j in jobs}
        self.adaptive = {j.problem for j in jobs if isinstance(j, UntilJob)}
        self.started: set[str] = set()

    def start(self, job: Job) -> int:
        """The samples ``job`` adds to the total as it starts: none for a fixed-budget job, a
        later try's all; the first try run (a later one on resume) replaces the plan."""
        if job.problem in self.started:
            return job.total_samples
        self.started.add(job.problem)
        return job.total_samples - self.planned.get(job.problem, job.total_samples)

    def budget(self, job: Job) -> str:
        """``horizon = 2,000`` for a try, empty for a fixed-budget job."""
        if job.problem not in self.adaptive:
            return ""
        from experiments.until import try_budget

        return try_budget(job)


class _ProgressLines:
    """Progress as plain lines on stderr, for logs (CI, nohup): one every
    ``CELAB_PROGRESS_INTERVAL`` seconds (default 10) and one at the end of each problem (of
    each try of a ``budget = "until"`` problem, whose budget joins the parentheses), e.g.
    ``celab: close10 42% (4.2e8 of 1.0e9 samples), 1m02s elapsed, about 1m25s left``: the
    problem's share of its samples, then the time of the whole experiment and an estimate of
    what remains (from the mean rate so far)."""

    def __init__(self, jobs: Sequence[Job]) -> None:
        text = os.environ.get("CELAB_PROGRESS_INTERVAL", "10")
        try:
            self.interval = float(text)
        except ValueError:
            raise UserError(f"CELAB_PROGRESS_INTERVAL must be a number of seconds, "
                            f"got {text!r}") from None
        self.total = sum(j.total_samples for j in jobs)
        self.count = len(jobs)
        self.tries = _Tries(jobs)
        self.index = 0
        self.done = 0
        self.job: Job | None = None
        self.job_done = 0
        self.shown: int | None = None  # the samples of the job's last line
        self.start = self.last = time.monotonic()

    def __enter__(self) -> _ProgressLines:
        self.start = self.last = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self._end_job()

    def for_job(self, job: Job) -> Progress:
        self._end_job()
        self.job, self.job_done, self.shown = job, 0, None
        self.index += job.problem not in self.tries.started
        self.total += self.tries.start(job)
        return self.advance

    def advance(self, n: int) -> None:
        self.done += n
        self.job_done += n
        if time.monotonic() - self.last >= self.interval:
            self._line()

    def _end_job(self) -> None:
        if self.job is not None and self.shown != self.job_done:
            self._line()
        self.job = None

    def _line(self) -> None:
        self.last = time.monotonic()
        self.shown = self.job_done
        elapsed = self.last - self.start
        total = self.job.total_samples
        notes = [f"{self.index} of {self.count}"] if self.count > 1 else []
        notes += [self.tries.budget(self.job)] if self.tries.budget(self.job) else []
        where = self.job.problem + (f" ({', '.join(notes)})" if notes else "")
        text = (f"celab: {where} {100 * self.job_done / total:.0f}% ({_count(self.job_done)} "
                f"of {_count(total)} samples), {_duration(elapsed)} elapsed")
        if 0 < self.done < self.total:
            text += f", about {_duration(elapsed * (self.total - self.done) / self.done)} left"
        print(text, file=sys.stderr, flush=True)


def _count(n: int) -> str:
    """A sample count for a progress line: exact below 10,000, else 4.2e8."""
    return str(n) if n < 10_000 else f"{n:.1e}".replace("e+0", "e").replace("e+", "e")


def _duration(seconds: float) -> str:
    """45s, 1m02s, 2h03m."""
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


PLOTS_HELP = "Draw the plots (PNG and SVG; needs the plot extra)."


def _out_folder(text: str) -> Path:
    """--out: a folder's path; empty, or an existing file, is refused before anything runs."""
    if not text.strip():
        raise typer.BadParameter("must name a folder, got ''")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise typer.BadParameter(f"{text} exists and is not a folder")
    return path


# Options that several commands share.
Seed = Annotated[int, typer.Option(metavar="N", help="Master seed.")]
JsonFlag = Annotated[bool, typer.Option(
    "--json", help="Print the results as JSON on stdout (layout: docs/results.md).")]
OutDir = Annotated[
    Path | None, typer.Option(metavar="DIR", parser=_out_folder,
                              help="Output folder (default: a new one under ./celab-results/).")
]
PlotsFlag = Annotated[bool, typer.Option(help=PLOTS_HELP)]
Runs = Annotated[int, typer.Option(metavar="N", help="Independent runs.")]
EnvArg = Annotated[
    list[str] | None, typer.Option(metavar="KEY=VALUE",
                                   help="Environment argument (repeatable), e.g. n_states=10.")
]
DELTA_HELP = ("Share of runs samples to epsilon may leave unsettled, in (0, 1): the column is "
              "the (1 - D) quantile over runs")
Delta = Annotated[float, typer.Option(
    metavar="D", help=f"{DELTA_HELP} (the default of experiment files).")]
DeltaOverride = Annotated[float | None, typer.Option(
    metavar="D", help=f"{DELTA_HELP} (default: each problem's delta).")]


def _check_delta(delta: float | None) -> None:
    """--delta by the rule of the settings' delta key, as one line naming the option."""
    from tracking.settings import delta_key

    if delta is not None:
        try:
            delta_key(BANDIT.delta).check(delta)
        except ValueError as e:
            raise UserError(f"--{e}") from None


ReadoutOption = Annotated[str, typer.Option(
    "--readout", metavar="greedy|behaviour",
    help="The readout of simple regret the tables, the headline and --json show, the same for "
         "every agent: greedy (the argmax of what it has learned) or behaviour (the policy it "
         "acts with next); summary.json holds both.")]


FileReadoutOption = Annotated[str | None, typer.Option(
    "--readout", metavar="greedy|behaviour",
    help="The readout of simple regret the tables, the headline and --json show, the same for "
         "every agent: greedy (the argmax of what it has learned) or behaviour (the policy it "
         "acts with next); default each problem's setting's (behaviour for reasoning, greedy "
         "for the others); summary.json holds both.")]


def _check_choices(**options: str) -> None:
    """Options read by the episodic setting's key of the same name (``--rewards``,
    ``--regret``, ``--instance``), each refused as one line naming the option."""
    keys = {key.name: key for key in (REWARDS, REGRET, INSTANCE)}
    for name, value in options.items():
        try:
            keys[name].check(value)
        except ValueError as e:
            raise UserError(f"--{e}") from None


def _check_readout(readout: str | None) -> None:
    """--readout: one of the results' readouts, as one line naming the option (None: each
    problem's setting's own, :attr:`tracking.settings.Setting.readout`)."""
    from tracking.results import readout_key

    if readout is None:
        return
    try:
        readout_key(readout)
    except ValueError as e:
        raise UserError(f"--{e}") from None


def _shown(outcome: Outcome, readout: str | None) -> dict[str, Any]:
    """The outcome's summary with ``readout`` at the top level (summary.json's is each
    problem's setting's readout, which None keeps)."""
    from experiments import report

    if readout is None:
        return outcome.summary
    return report.choose_readout(outcome.results, outcome.summary, readout)


def _print_json(summary: dict, folder: Path, **more: Any) -> None:
    """--json of every command that simulates or reports: one document (docs/results.md);
    ``more``: the keys a command adds (celab compare: ``held_out``)."""
    from tracking.results import SCHEMA

    doc = {"schema": SCHEMA, "problems": summary["problems"], "headline": summary["headline"],
           "folder": str(folder), "plots": summary.get("plots", []), **more}
    typer.echo(json.dumps(doc, indent=2))


YesFlag = Annotated[
    bool, typer.Option("--yes", help="Run even a request estimated to take more than a day.")
]


DaskOption = Annotated[str | None, typer.Option(
    "--dask", metavar="ADDRESS",
    help="Run the batches on Dask: local:N starts N worker processes here, or give a running "
         "scheduler's address (tcp://host:8786); needs the dask extra (docs/scaling.md).")]


def _executor(dask: str | None, from_file: ExecutorSpec | None = None) -> ExecutorSpec | None:
    """Where the batches run: ``--dask`` (checked) over an experiment file's ``[executor]``;
    None runs them here. Every command that simulates takes ``--dask`` through this."""
    if dask is None:
        return from_file
    from tracking.executors import ExecutorSpec, dask_address

    try:
        return ExecutorSpec("dask", dask_address(dask))
    except ValueError as e:
        raise UserError(f"--dask {e}") from None


def _guard_work(jobs: Sequence[Job], yes: bool) -> None:
    """Refuse jobs estimated at more than a day (tracking.workguard) unless --yes is given
    or, at a terminal, the user confirms."""
    from tracking import workguard

    message = None if yes else workguard.refusal(jobs)
    if message is None:
        return
    if sys.stdin.isatty():
        _console(stderr=True).print(f"[yellow]{message}[/yellow]", highlight=False)
        if typer.confirm("Run it anyway?", default=False, err=True):
            return
        raise UserError("not run; pass --yes to run it without asking")
    raise UserError(f"{message}; pass --yes to run it anyway")


def _run(jobs: list[Job], out: Path | None, command: str, title: str | None = None,
         seed: int = 0, resume: bool = False, plots: bool = True,
         show: Callable[[Outcome], None] | None = None,
         yes: bool = False, executor: ExecutorSpec | None = None) -> tuple[Outcome, Path]:
    """Run jobs into an output folder; on interruption, report what is kept and exit.

    When the experiment completes, ``show(outcome)`` (the tables) runs before the plots are
    drawn: a slow or failing plot never holds back or hides the tables. The batches run on
    ``executor`` (here without one), connected before the folder is created.
    """
    from experiments import session
    from tracking.executors import open_executor

    _guard_work(jobs, yes)
    folder_path = out if out is not None else session.default_folder(command)
    with open_executor(executor) as ex, session.Folder(folder_path, resume=resume) as folder:
        progress, for_job = _experiment_progress(jobs)
        with progress:
            outcome = session.run_experiment(jobs, folder, title, seed, resume, for_job,
                                             plots=False, executor=ex)
        if outcome.summary is not None:
            if show is not None:
                show(outcome)
            if plots:
                outcome.summary["plots"] = folder.plot(outcome.results)
    if outcome.stopped_by is not None:
        _error(f"interrupted by {outcome.stopped_by}: kept the completed runs in {folder_path} "
               f"({_missing(outcome.status)}); finish with: "
               f"celab run {folder_path / 'config.toml'} --resume"
               + (executor.option() if executor else "") + (" --yes" if yes else ""))
        raise typer.Exit(130 if outcome.stopped_by == "SIGINT" else 143)
    return outcome, folder_path


def _missing(status: dict[str, Any]) -> str:
    """What an interrupted experiment lacks: ``close10: 40 of 100 runs done`` per problem
    (``, in the try at budget 2,000`` for a ``budget = "until"`` problem)."""
    return "; ".join(f"{k}: {v['runs_done']} of {v['runs']} runs done"
                     + (f", in the try at budget {v['budget_try']:,}" if "budget_try" in v else "")
                     for k, v in status["missing"].items())


def _print_tables(outcome: Outcome, console: Console) -> None:
    """The tables of a finished experiment: one per problem, then the headline."""
    from experiments import report

    for summary in outcome.summary["problems"]:
        console.print(report.problem_table(summary))
        console.print()
    if outcome.summary["headline"]:
        console.print(report.headline_table(outcome.summary["headline"]))


def _tables(as_json: bool, print_tables: Callable[[Outcome, Console], None],
            readout: str | None = "greedy") -> Callable[[Outcome], None] | None:
    """``_run``'s ``show``: the tables of ``readout`` on stdout, unless ``--json`` keeps
    stdout for JSON."""
    if as_json:
        return None
    return lambda outcome: print_tables(replace(outcome, summary=_shown(outcome, readout)),
                                        _console())


def _print_saved(outcome: Outcome, folder_path: Path, console: Console) -> None:
    """Where the results and the plots went (after the plots are drawn)."""
    from experiments import plots

    console.print(f"results saved in {folder_path}")
    if not outcome.summary["plots"] and not plots.available():
        console.print(f"[yellow]no plots: {plots.INSTALL_HINT}[/yellow]")
    elif outcome.summary["plots"]:
        console.print(f"plots in {folder_path / 'plots'}")


@app.command(cls=_Command)
def bandit(
    env: Annotated[
        str | None, typer.Option(metavar="NAME", help=f"Named bandit: {_known(bandit_envs.NAMED)}.")
    ] = None,
    env_arg: Annotated[
        list[str] | None, typer.Option(metavar="KEY=VALUE",
                                       help="Argument of a named bandit (repeatable), "
                                            "e.g. n_arms=100.")
    ] = None,
    means: Annotated[
        str | None, typer.Option(metavar="M1,M2,...",
                                 help="Arm means, comma-separated (instead of --env).")
    ] = None,
    gaussian: Annotated[
        bool, typer.Option("--gaussian", help="With --means: Gaussian arms (default Bernoulli).")
    ] = False,
    sigma: Annotated[float, typer.Option(
        metavar="X", help="With --gaussian: noise standard deviation.")] = 1.0,
    horizon: Annotated[int, typer.Option(metavar="T", help="Rounds T per run.")] = 10_000,
    runs: Runs = 100,
    algos: Annotated[
        str, typer.Option(metavar="AGENTS",
                          help=f"Agents, comma-separated, with parameters as name:key=value. "
                               f"Known: {_known(bandit_agents.REGISTRY)}.")
    ] = "greedy,ucb,kl-ucb,thompson,reinforce",
    epsilon: Annotated[
        float, typer.Option(metavar="X", help="Simple-regret level of the 'pulls to epsilon' "
                                              "column (the default of experiment files).")
    ] = BANDIT.epsilon,
    delta: Delta = BANDIT.delta,
    readout: ReadoutOption = "greedy",
    seed: Seed = 0,
    as_json: JsonFlag = False,
    out: OutDir = None,
    plots: PlotsFlag = True,
    yes: YesFlag = False,
    dask: DaskOption = None,
) -> None:
    """Compare bandit agents by regret on the same random numbers."""
    if env is not None and means is not None:
        raise UserError("give either --env or --means, not both")
    if env_arg and env is None:
        raise UserError("--env-arg applies to --env only")
    if gaussian and means is None:
        raise UserError("--gaussian applies to --means only")
    _check_counts(seed, delta, readout, horizon=horizon, runs=runs)
    executor = _executor(dask)

    import bandits
    from bandits.loop import BanditJob
    from experiments import report

    if means is not None:
        values = _parse_floats(means, "--means")
        problem = (
            bandits.Gaussian(values, sigma, name="custom-gaussian")
            if gaussian
            else bandits.Bernoulli(values, name="custom-bernoulli")
        )
    else:
        problem = env or "linspace10"
    job = BanditJob(problem, algos, horizon, runs, seed, epsilon=epsilon,
                    env_args=_env_args(env_arg) or None)
    job.set_delta(delta)
    _run_one(job, "bandit", report.bandit_table, seed, out, plots, yes, executor, as_json, readout)


@app.command(cls=_Command)
def linear(
    env: Annotated[str, typer.Option(
        metavar="NAME", help=f"Named linear bandit: {_known(bandit_linear.NAMED)}.")] = "sphere",
    env_arg: Annotated[
        list[str] | None, typer.Option(metavar="KEY=VALUE",
                                       help="Argument of the linear bandit (repeatable), e.g. "
                                            "d=10, n_arms=50, sigma=1, means=0.1,0.5 (basis).")
    ] = None,
    horizon: Annotated[int, typer.Option(metavar="T", help="Rounds T per run.")] = 10_000,
    runs: Runs = 100,
    algos: Annotated[
        str, typer.Option(metavar="AGENTS",
                          help=f"Agents, comma-separated, with parameters as name:key=value. "
                               f"Known: {_known(linear_agents.REGISTRY)}.")
    ] = "lin-greedy,oful,lin-ts,lin-reinforce",
    epsilon: Annotated[
        float, typer.Option(metavar="X", help="Simple-regret level of the 'pulls to epsilon' "
                                              "column (the default of experiment files).")
    ] = LINEAR.epsilon,
    delta: Delta = LINEAR.delta,
    readout: ReadoutOption = "greedy",
    seed: Seed = 0,
    as_json: JsonFlag = False,
    out: OutDir = None,
    plots: PlotsFlag = True,
    yes: YesFlag = False,
    dask: DaskOption = None,
) -> None:
    """Compare linear-bandit agents (features x_k, mean rewards <x_k, theta*>) by regret."""
    _check_counts(seed, delta, readout, horizon=horizon, runs=runs)
    executor = _executor(dask)

    from bandits.linear import LinearJob
    from experiments import report

    job = LinearJob(env, algos, horizon, runs, seed, epsilon=epsilon,
                    env_args=_env_args(env_arg))
    job.set_delta(delta)
    _run_one(job, "linear", report.problem_table, seed, out, plots, yes, executor, as_json, readout)


@app.command(cls=_Command)
def reasoning(
    env: Annotated[
        str | None, typer.Option(metavar="NAME", help="Built-in task: trie or shared "
                                                      "(default trie without --task).")
    ] = None,
    env_arg: Annotated[
        list[str] | None, typer.Option(metavar="KEY=VALUE",
                                       help="Argument of the task (repeatable), e.g. "
                                            "n_prompts=100, horizon=8, vocab=8, seed=0.")
    ] = None,
    task: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Task file (.npz) instead of --env.")
    ] = None,
    held_out: Annotated[
        float, typer.Option(metavar="X", help="Held-out prompts (the last ones, never trained "
                                              "on): a share in [0, 1) or a whole count.")
    ] = HELD_OUT.default,
    calls: Annotated[int, typer.Option(metavar="N", help="Verifier calls per run.")] = 4096,
    runs: Runs = 8,
    algos: Annotated[
        str, typer.Option("--algos", "--agents", metavar="AGENTS",
                          help=f"Agents, comma-separated, with parameters as name:key=value. "
                               f"Known: {_known(reasoning_agents.REGISTRY)}.")
    ] = "grpo,rloo,rsft,ce,base,power",
    epsilon: Annotated[
        float, typer.Option(metavar="X", help="Level of the 'calls to epsilon' column: "
                                              "pass@1 within X of 1.")
    ] = REASONING.epsilon,
    delta: Delta = REASONING.delta,
    readout: ReadoutOption = "behaviour",
    seed: Seed = 0,
    as_json: JsonFlag = False,
    out: OutDir = None,
    plots: PlotsFlag = True,
    yes: YesFlag = False,
    dask: DaskOption = None,
) -> None:
    """Compare reasoning agents (GRPO, RLOO, RSFT, CE, inference-time policies) by verifier
    calls on a task with exact pass@1."""
    _check_counts(seed, delta, readout, calls=calls, runs=runs)
    if task is not None and (env is not None or env_arg):
        raise UserError("--task replaces --env and --env-arg: give one or the other")
    executor = _executor(dask)

    from experiments.reasoning_report import reasoning_table
    from mdp.reasoning_run import ReasoningJob

    job = ReasoningJob(None if task is not None else (env or "trie"), algos, calls, runs, seed,
                       epsilon=epsilon, env_args=_env_args(env_arg), held_out=held_out,
                       task=task)
    job.set_delta(delta)
    _run_one(job, "reasoning", reasoning_table, seed, out, plots, yes, executor, as_json,
             readout)


def _check_counts(seed: int, delta: float, readout: str, **counts: int) -> None:
    """The options every single-problem command shares: counts >= 1, a seed >= 0, delta and
    the readout; one line and exit 2 for the first bad one."""
    for name, value in counts.items():
        if value < 1:
            raise UserError(f"--{name} must be >= 1, got {value}")
    if seed < 0:
        raise UserError(f"--seed must be >= 0, got {seed}")
    _check_delta(delta)
    _check_readout(readout)


def _run_one(job: Job, command: str, table: Callable[[dict[str, Any]], Any], seed: int,
             out: Path | None, plots: bool, yes: bool, executor: ExecutorSpec | None,
             as_json: bool, readout: str) -> None:
    """Run one problem's job into its folder, show ``table`` of its summary (or the JSON
    document), and say where the results are."""
    show = _tables(as_json, lambda o, console: console.print(
        table(o.summary["problems"][0])), readout)
    outcome, folder = _run([job], out, command, seed=seed, plots=plots, show=show, yes=yes,
                           executor=executor)
    if as_json:
        _print_json(_shown(outcome, readout), folder)
        return
    _console().print(f"results saved in {folder}")


def _env_args(pairs: list[str] | None) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise UserError(f"--env-arg must be key=value, got {pair!r}")
        if key.strip() in out:
            raise UserError(f"--env-arg {key.strip()} is given twice")
        out[key.strip()] = value.strip()
    return out


def _load_model(env: str | None, env_arg: list[str] | None, file: Path | None
                ) -> tuple[FiniteMDP, str | None]:
    """An MDP from --env (with --env-arg) or a file; exactly one of the two."""
    import mdp

    if (env is None) == (file is None):
        raise UserError("give exactly one of --env NAME or a model file")
    if file is not None:
        if env_arg:
            raise UserError("--env-arg applies to --env only")
        return mdp.load(file), None
    return mdp.envs.make(env, **_env_args(env_arg)), env


@app.command("mdp", cls=_Command)
def mdp_command(
    env: Annotated[
        str | None, typer.Option(metavar="NAME", help=f"Built-in MDP: {_known(mdp_envs.ENVS)}.")
    ] = None,
    env_arg: EnvArg = None,
    file: Annotated[
        Path | None, typer.Option(metavar="FILE",
                                  help="Model file (.json or .npz) instead of --env.")
    ] = None,
    horizon: Annotated[int, typer.Option(metavar="H", help="Steps per episode H.")] = 20,
    episodes: Annotated[int, typer.Option(metavar="K", help="Episodes K per run.")] = 500,
    runs: Runs = 20,
    algos: Annotated[
        str, typer.Option(metavar="AGENTS",
                          help=f"Agents, comma-separated, with parameters as name:key=value. "
                               f"Known: {_known(mdp_agents.REGISTRY)}.")
    ] = "ce-greedy,ce-optimistic,psrl,q-learning,reinforce",
    rewards: Annotated[
        str, typer.Option(metavar="mean|bernoulli",
                          help="Observed rewards: mean (R itself) or bernoulli (draws).")
    ] = REWARDS.default,
    regret: Annotated[
        str, typer.Option(metavar="exact|sampled",
                          help="Each episode's regret: exact (the policy evaluated on the true "
                               "model) or sampled (V* minus the episode's realised return: no "
                               "evaluation per episode).")
    ] = REGRET.default,
    instance: Annotated[
        str, typer.Option(metavar="fixed|per-run",
                          help="fixed: one model for every run; per-run: each run draws its own "
                               "instance of a random family (an env with a seed argument, "
                               "given without it), the same for every agent of the run.")
    ] = INSTANCE.default,
    epsilon: Annotated[
        float | None, typer.Option(metavar="X", help="Simple-regret level for 'episodes to "
                                                     f"epsilon' [default: {EPISODIC.epsilon}].")
    ] = None,
    epsilon_share: Annotated[
        float | None, typer.Option(metavar="X",
                                   help="Instead of --epsilon: epsilon = X times V*_0 of each "
                                        "run's instance, X in (0, 1).")
    ] = None,
    delta: Delta = EPISODIC.delta,
    readout: ReadoutOption = "greedy",
    seed: Seed = 0,
    as_json: JsonFlag = False,
    out: OutDir = None,
    plots: PlotsFlag = True,
    yes: YesFlag = False,
    dask: DaskOption = None,
) -> None:
    """Compare episodic MDP agents by regret on the same random numbers."""
    _check_counts(seed, delta, readout, horizon=horizon, episodes=episodes, runs=runs)
    _check_choices(rewards=rewards, regret=regret, instance=instance)
    if epsilon is not None and epsilon_share is not None:
        raise UserError("give --epsilon or --epsilon-share, not both")
    if epsilon_share is not None:
        from tracking.settings import EPSILON_SHARE

        try:
            EPSILON_SHARE.check(epsilon_share)
        except ValueError as e:
            raise UserError(f"--{e}".replace("epsilon_share", "epsilon-share", 1)) from None
    executor = _executor(dask)
    from experiments import report
    from mdp.loop import MDPJob
    from tracking import paths
    from tracking.specs import short_name

    model, env_name = _load_model(env, env_arg, file)
    if env_name is None and not paths.valid_name(file.stem):
        raise UserError(f"--file: the problem is named after the file, and {file.stem!r} is not "
                        f"a valid name ({paths.NAME_RULE}); rename the file")
    job = MDPJob(env_name or model, algos, horizon, episodes, runs, seed, None, rewards,
                 name=short_name(env_name) if env_name else file.stem,
                 epsilon=EPISODIC.epsilon if epsilon is None else epsilon,
                 env_args=_env_args(env_arg) if env_name else None, regret=regret,
                 instance=instance)
    job.set_delta(delta)
    if epsilon_share is not None:
        job.set_epsilon_share(epsilon_share)
    _run_one(job, "mdp", report.mdp_table, seed, out, plots, yes, executor, as_json, readout)


@app.command(cls=_Command)
def solve(
    file: Annotated[Path | None, typer.Argument(metavar="FILE",
                                                help="Model file (.json or .npz).")] = None,
    env: Annotated[
        str | None, typer.Option(metavar="NAME", help=f"Built-in MDP: {_known(mdp_envs.ENVS)}.")
    ] = None,
    env_arg: EnvArg = None,
    gamma: Annotated[float | None, typer.Option(metavar="G",
                                                help="Discount factor in [0, 1).")] = None,
    horizon: Annotated[int | None, typer.Option(metavar="H", help="Finite horizon H.")] = None,
    average: Annotated[
        bool, typer.Option("--average", help="Average reward (relative value iteration).")
    ] = False,
    method: Annotated[str, typer.Option(metavar="NAME",
                                        help=f"Solver: {SOLVE_METHODS}.")] = "auto",
    epsilon: Annotated[float, typer.Option(metavar="X",
                                           help="Accuracy of iterative solvers.")] = 1e-8,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the solution as JSON on stdout.")
    ] = False,
) -> None:
    """Solve an MDP exactly: optimal values, policy and Q."""
    import mdp

    settings = (gamma is not None) + (horizon is not None) + bool(average)
    if settings != 1:
        raise UserError("give exactly one of --gamma G, --horizon H or --average")
    model, _ = _load_model(env, env_arg, file)
    methods = {
        "auto": lambda m: mdp.solve(m, gamma, epsilon=epsilon),
        "vi": lambda m: mdp.value_iteration(m, gamma, epsilon=epsilon),
        "pi": lambda m: mdp.policy_iteration(m, gamma),
        "mpi": lambda m: mdp.modified_policy_iteration(m, gamma, epsilon=epsilon),
        "lp": lambda m: mdp.linear_program(m, gamma),
    }
    if horizon is not None:
        if method not in ("auto", "bi"):
            raise UserError(f"--horizon is solved by backward induction (bi), not {method!r}")

        # the warm-up model needs one step (a bad horizon still fails there)
        def run(m: FiniteMDP) -> SolverResult:
            return mdp.backward_induction(m, horizon if m is model else min(horizon, 1))
    elif average:
        if method not in ("auto", "rvi"):
            raise UserError(f"--average is solved by relative value iteration (rvi), "
                            f"not {method!r}")
        run = lambda m: mdp.relative_value_iteration(m, epsilon=epsilon)  # noqa: E731
    else:
        if method not in methods:
            raise UserError(f"--method must be one of {', '.join(methods)} with --gamma, "
                            f"got {method!r}")
        run = methods[method]
    res, seconds, compile_seconds = _timed_solve(run, model)
    doc = {"values": res.values.tolist(), "policy": res.policy.tolist(), "q": res.q.tolist(),
           "iterations": int(res.iterations), "method": res.method, "seconds": seconds,
           "compile_seconds": compile_seconds}
    if res.gain is not None:
        doc["gain"] = res.gain
    doc["converged"] = bool(res.converged)
    doc["bound"] = float(res.bound)
    if as_json:
        typer.echo(json.dumps(doc))
        return
    _console().print(_solution_table(model, res, seconds, compile_seconds))


def _timed_solve(solver: Callable[[FiniteMDP], SolverResult], model: FiniteMDP
                 ) -> tuple[SolverResult, float, float]:
    """``solver(model)`` timed alone: the first call is made on a 1-state, 1-action model of the
    same array types, so numba's compilation (or loading from its cache) and first imports are
    timed apart. Returns the result, the solve's seconds and the warm-up's seconds."""
    import time
    import warnings

    import numpy as np

    import mdp

    tiny = mdp.FiniteMDP(np.ones((1, 1, 1)), np.zeros((1, 1)), name="warm-up")
    start = time.perf_counter()
    with warnings.catch_warnings():  # the tiny model's own warnings (if any) are not the user's
        warnings.simplefilter("ignore")
        solver(tiny)
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    res = solver(model)
    return res, time.perf_counter() - start, compile_seconds


def _solution_table(model: FiniteMDP, res: SolverResult, seconds: float, compile_seconds: float,
                    limit: int = 40) -> Table:
    from rich.table import Table

    from experiments.report import ZERO

    setting = (f"gamma = {res.gamma:g}" if res.gamma is not None else
               "average reward" if res.gain is not None else f"horizon {res.policy.shape[0]}")
    extra = f", gain {res.gain:.6g}" if res.gain is not None else ""
    its = f"{res.iterations} iteration{'' if res.iterations == 1 else 's'}"
    bound = f"error bound {res.bound:.3g}" + ("" if res.converged else ", not converged")
    table = Table(
        title=f"{model.name}: {setting}{extra} ({res.method}, {its} in {seconds * 1000:.3g} ms, "
              f"compile {compile_seconds:.2f} s; {bound})",
    )
    table.add_column("state", justify="right")
    table.add_column("V* (at h = 0)" if res.values.ndim == 2 else
                     "bias" if res.gain is not None else "V*", justify="right")
    table.add_column("action (at h = 0)" if res.policy.ndim == 2 else "action", justify="right")
    values = res.values[0] if res.values.ndim == 2 else res.values
    policy = res.policy[0] if res.policy.ndim == 2 else res.policy
    zero = ZERO * max(1.0, float(abs(values).max()))  # rounding error where 0 is meant
    for s in range(min(limit, values.shape[0])):
        v = 0.0 if abs(values[s]) < zero else values[s]
        table.add_row(str(s), f"{v:.6g}", str(int(policy[s])))
    if values.shape[0] > limit:
        table.caption = f"first {limit} of {values.shape[0]} states; --json gives all"
    return table


@app.command(cls=_Command)
def compare(
    out: OutDir = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish the interrupted comparison in --out.")
    ] = False,
    delta: DeltaOverride = None,
    readout: ReadoutOption = "greedy",
    as_json: JsonFlag = False,
    plots: PlotsFlag = True,
    yes: YesFlag = False,
    dask: DaskOption = None,
) -> None:
    """The built-in suite: certainty equivalence against policy gradient, tuned on held-out
    seeds, on bandits and MDPs."""
    _check_delta(delta)
    _check_readout(readout)
    executor = _executor(dask)
    from experiments import files, session
    from experiments import tune as tuning

    if resume and out is None:
        raise UserError("--resume needs --out DIR, the folder of the interrupted comparison")
    spec = files.parse(_suite_text("compare"), "compare.toml")
    plan = tuning.plan(spec, delta)
    _guard_work(plan.jobs + _jobs(spec), yes)
    folder = out if out is not None else session.default_folder("compare")
    _check_compare_folder(folder, resume)
    outcome, rows = _compare_phases(plan, folder, resume, executor, plots,
                                    None if as_json else readout)
    if outcome.stopped_by is not None:
        _error(f"interrupted by {outcome.stopped_by}: kept the completed runs in {folder} "
               f"({_missing(outcome.status)}); finish with: celab compare --out {folder} "
               "--resume" + (f" --delta {delta:g}" if delta is not None else "")
               + (executor.option() if executor else "") + (" --yes" if yes else ""))
        raise typer.Exit(130 if outcome.stopped_by == "SIGINT" else 143)
    if as_json:
        _print_json(_shown(outcome, readout), folder, held_out=rows)
        return
    _print_saved(outcome, folder, _console())


def _check_compare_folder(folder: Path, resume: bool) -> None:
    """A new comparison needs a folder without one; --resume one with one begun."""
    from experiments import tune as tuning

    begun = any(tuning.started(folder))
    if resume and not begun:
        raise UserError(f"{folder}: holds no comparison to resume (no config.toml, no "
                        f"{tuning.TUNING_FOLDER}/config.toml)")
    if not resume and (begun or (folder / tuning.TUNED_FILE).exists()):
        raise UserError(f"{folder}: already holds a comparison; choose another --out, or "
                        f"finish it with: celab compare --out {folder} --resume")


def _compare_phases(plan: TunePlan, folder_path: Path, resume: bool,
                    executor: ExecutorSpec | None, plots: bool, readout: str | None
                    ) -> tuple[Outcome, list[dict[str, Any]] | None]:
    """celab compare's two phases, each with its progress: the tuning into DIR/tuning
    (experiments.tune.tuning_phase), then the chosen agents on the evaluation seeds into DIR;
    once complete, the held-out headline (experiments.compare) joins summary.json, the tables
    of ``readout`` are printed (None: none, for --json) and the plots drawn. Returns the
    outcome of the phase that ran last and the headline rows (None when interrupted)."""
    from experiments import compare as comparing
    from experiments import session
    from experiments import tune as tuning
    from tracking.executors import open_executor
    from tracking.results import write_atomic

    parsed = plan.parsed
    evaluating, tuning_started = tuning.started(folder_path)
    with open_executor(executor) as ex, \
            session.Folder(folder_path, resume=resume and evaluating) as folder:
        progress, for_job = _experiment_progress(plan.jobs)
        with progress:
            outcome, evaluation, tuned = tuning.tuning_phase(
                plan, folder.path, resume and tuning_started, for_job, ex)
        if tuned is None:
            return outcome, None
        for line in tuned["warnings"]:
            _warn(line)
        jobs = _jobs(evaluation)
        progress, for_job = _experiment_progress(jobs)
        with progress:
            outcome = session.run_experiment(jobs, folder, parsed["title"], parsed["seed"],
                                             resume and evaluating, for_job, plots=False,
                                             executor=ex)
        if outcome.summary is None:
            return outcome, None
        rows = comparing.held_out(plan, tuned, outcome.results, outcome.summary["problems"])
        outcome.summary["held_out"] = rows
        write_atomic(folder.inside("summary.json"),
                     json.dumps({k: outcome.summary[k] for k in ("schema", "problems",
                                                                 "headline", "held_out")},
                                indent=2)
                     + "\n")
        if readout is not None:
            _print_compare_tables(replace(outcome, summary=_shown(outcome, readout)), rows,
                                  _console())
        if plots:
            outcome.summary["plots"] = folder.plot(outcome.results)
    return outcome, rows


def _print_compare_tables(outcome: Outcome, rows: list[dict[str, Any]],
                          console: Console) -> None:
    """celab compare's tables: one per problem, then the held-out headline (the chosen agents,
    the ratios) and its sentences."""
    from experiments import compare as comparing
    from experiments import report

    for summary in outcome.summary["problems"]:
        console.print(report.problem_table(summary))
        console.print()
    console.print(comparing.agents_table(rows))
    console.print()
    console.print(comparing.ratios_table(rows))
    console.print()
    for r in rows:
        console.print(r["sentence"], highlight=False, markup=False)


def _suite_text(name: str) -> str:
    """A built-in experiment file shipped in experiments/suites/."""
    from importlib import resources

    return resources.files("experiments").joinpath(f"suites/{name}.toml").read_text("utf-8")


def _jobs(spec: dict[str, Any]) -> list[Job]:
    """Jobs of a parsed experiment file; a lab's ValueError points at the file and line."""
    from experiments import files

    return files.build_jobs(spec)


@app.command("run", cls=_Command)
def run_file(
    file: Annotated[Path, typer.Argument(metavar="FILE",
                                         help="Experiment file (TOML), or a results folder's "
                                              "config.toml.")],
    resume: Annotated[
        bool, typer.Option("--resume", help="Complete the interrupted experiment saved beside "
                                            "FILE (its folder).")
    ] = False,
    out: OutDir = None,
    readout: FileReadoutOption = None,
    as_json: JsonFlag = False,
    plots: PlotsFlag = True,
    yes: YesFlag = False,
    dask: DaskOption = None,
) -> None:
    """Run an experiment file; with --resume, finish an interrupted one."""
    _check_readout(readout)
    executor = _executor(dask)
    from experiments import files, session
    from tracking import versions

    spec = session.read_config(file) if resume else files.read(file)
    executor = executor or spec["executor"]
    if resume:
        if out is not None and out.resolve() != file.parent.resolve():
            raise UserError("--resume writes into the folder of FILE; do not give --out")
        out = file.parent
    _warn_versions(file, versions.versions())
    jobs = _jobs(spec)
    outcome, folder = _run(jobs, out, file.stem, spec["title"], spec["seed"], resume,
                           plots, show=_tables(as_json, _print_tables, readout), yes=yes,
                           executor=executor)
    if as_json:
        _print_json(_shown(outcome, readout), folder)
        return
    _print_saved(outcome, folder, _console())


@app.command(cls=_Command)
def tune(
    file: Annotated[Path, typer.Argument(metavar="FILE",
                                         help="Experiment file (TOML) whose tune table gives the "
                                              "grids.")],
    out: OutDir = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish the interrupted tuning in --out.")
    ] = False,
    delta: DeltaOverride = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the tuning record as JSON on stdout (docs/results.md).")] = False,
    yes: YesFlag = False,
    dask: DaskOption = None,
) -> None:
    """Tune agents' parameters on held-out seeds; write DIR/tuned.toml for celab run."""
    _check_delta(delta)
    from experiments import files, session
    from experiments import tune as tuning
    from tracking.executors import open_executor

    if resume and out is None:
        raise UserError("--resume needs --out DIR, the folder of the interrupted tuning")
    parsed = files.read(file)
    executor = _executor(dask, parsed.get("executor"))
    plan = tuning.plan(parsed, delta)
    _guard_work(plan.jobs, yes)
    folder = out if out is not None else session.default_folder("tune")
    with open_executor(executor) as ex:
        progress, for_job = _experiment_progress(plan.jobs)
        with progress:
            done = tuning.run(plan, folder, resume, for_job, executor=ex)
    if done.record is None:
        missing = "; ".join(f"{k}: {v['runs_done']} of {v['runs']} runs done"
                            for k, v in done.outcome.status["missing"].items())
        _error(f"interrupted by {done.outcome.stopped_by}: kept the completed runs in "
               f"{folder / tuning.TUNING_FOLDER} ({missing}); finish with: celab tune {file} "
               f"--out {folder} --resume" + (f" --delta {delta:g}" if delta is not None else "")
               + (executor.option() if executor else "") + (" --yes" if yes else ""))
        raise typer.Exit(130 if done.outcome.stopped_by == "SIGINT" else 143)
    for line in done.warnings:
        _warn(line)
    if as_json:
        typer.echo(json.dumps({**done.record, "tuned": str(done.tuned), "folder": str(folder)},
                              indent=2))
        return
    console = _console()
    console.print(tuning.table(done.record))
    console.print(f"tuned experiment: {done.tuned}; evaluate it with: celab run {done.tuned}",
                  highlight=False)


def _warn_versions(file: Path, current: dict) -> None:
    from tracking import tomlio

    try:
        saved = tomlio.loads(file.read_text("utf-8")).get("versions")
    except (OSError, ValueError):
        return
    if not isinstance(saved, dict):
        return
    diff = [f"{k} {saved[k]} -> {current[k]}" for k in ("celab", "numpy", "numba")
            if k in saved and saved[k] != current.get(k)]
    if diff:
        import warnings

        warnings.warn(f"{file} was made with other versions ({', '.join(diff)}); numbers may "
                      "differ from the saved ones", UserWarning, stacklevel=2)


@app.command(cls=_Command)
def reproduce(
    name: Annotated[str | None, typer.Argument(metavar="NAME",
                                               help="The study to run (see --list).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the studies and exit.")] = False,
    full: Annotated[bool, typer.Option(
        "--full", help="The full budget (the paper's, for a published result).")] = False,
    smoke: Annotated[
        bool, typer.Option("--smoke", help="A tiny budget that only checks the pipeline.")
    ] = False,
    budget: Annotated[
        str | None, typer.Option("--budget", metavar="BUDGET",
                                 help="Another budget of the study (default, smoke, full, or "
                                      "one its files offer, e.g. thesis: local).")
    ] = None,
    out: OutDir = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish an interrupted study in --out.")
    ] = False,
    docs: Annotated[
        Path | None, typer.Option(metavar="DIR", parser=_out_folder,
                                  help="Also write the report as DIR/NAME.md, figures in "
                                       "DIR/NAME/ (e.g. docs/experiments).")
    ] = None,
    yes: YesFlag = False,
    dask: DaskOption = None,
) -> None:
    """Reproduce a published result, or celab's thesis, and write a report."""
    from experiments import session, studies
    from tracking.executors import open_executor

    if list_:
        console = _console()
        for key, text in studies.STUDIES.items():
            console.print(f"[bold]{key}[/bold]: {text}", highlight=False)
        return
    if name is None:
        raise UserError("give a study name, or --list")
    if sum((full, smoke, budget is not None)) > 1:
        raise UserError("give one of --full, --smoke and --budget")
    if resume and out is None:
        raise UserError("--resume needs --out DIR, the folder of the interrupted study")
    studies.module(name)  # unknown names fail before anything is written
    executor = _executor(dask)
    budget = budget or ("full" if full else "smoke" if smoke else "default")
    parsed = studies.spec(name, budget)
    jobs = studies.tuning_jobs(parsed) + studies.jobs_of(parsed)  # tuning first, if any
    _guard_work(jobs, yes)
    folder_path = out if out is not None else session.default_folder(f"reproduce-{name}")
    with open_executor(executor) as ex:
        progress, for_job = _experiment_progress(jobs)
        with progress:
            outcome, ctx = studies.run(name, folder_path, budget, resume, for_job,
                                       executor=ex)
    if ctx is None:
        _error(f"interrupted by {outcome.stopped_by}: kept the completed runs in {folder_path} "
               f"({_missing(outcome.status)}); finish with: "
               f"celab reproduce {name} --out {folder_path} --resume"
               + {"default": "", "full": " --full", "smoke": " --smoke"}.get(
                   budget, f" --budget {budget}")
               + (executor.option() if executor else "")
               + (" --yes" if yes else ""))
        raise typer.Exit(130 if outcome.stopped_by == "SIGINT" else 143)
    console = _console()
    console.print(f"report: {folder_path / 'report.md'}")
    if docs is not None:
        path = studies.write_docs(ctx, (folder_path / "report.md").read_text("utf-8"), docs)
        console.print(f"report copied to {path}")


@app.command(cls=_Command)
def report(
    folder: Annotated[Path, typer.Argument(metavar="DIR",
                                           help="A results folder written by celab.")],
    delta: DeltaOverride = None,
    readout: FileReadoutOption = None,
    as_json: JsonFlag = False,
    plots: PlotsFlag = True,
) -> None:
    """Re-render the tables and plots of saved results, without simulating."""
    _check_delta(delta)
    _check_readout(readout)
    if not folder.exists():
        raise UserError(f"{folder}: no such folder")
    from experiments import plots as plotting
    from experiments import report as rep
    from experiments import session
    from tracking import paths, settings

    spec = session.read_config(folder / "config.toml")
    results = session.saved_results(folder, spec)
    if not results:
        raise UserError(f"{folder}: no saved results (results/*.npz)")
    if delta is not None:  # the saved runs read with another delta (tables and plots)
        results = [replace(r, config={**r.config, "delta": delta}) for r in results]
    summaries = [rep.summarize(r, readout=readout) for r in results]
    head = [row for r, s in zip(results, summaries) for row in rep.headline(r, s)]
    drawn: list[str] = []
    console = _console()
    if not as_json:  # the tables first, then the plots (a figure that fails is a warning)
        for r, summary in zip(results, summaries):
            console.print(rep.problem_table(summary))
            if not r.complete:
                console.print(f"[yellow]{r.problem}: {r.runs} of {r.runs_requested} runs "
                              "(interrupted; resume with celab run ... --resume)[/yellow]")
            console.print()
        if head:
            console.print(rep.headline_table(head))
    if plots and plotting.available():
        try:
            for r in results:
                drawn += [str(p) for p in plotting.plot_result(
                    r, paths.inside(folder, "plots"),
                    readout or settings.get(r.setting).readout)]
        except OSError as e:  # a read-only folder still has tables to show
            _warn(f"cannot write the plots in {folder / 'plots'} ({e.strerror or e}); "
                  "tables only")
    if as_json:
        _print_json({"problems": summaries, "headline": head, "plots": drawn}, folder)
        return
    if plots and not plotting.available():
        console.print(f"[yellow]no plots: {plotting.INSTALL_HINT}[/yellow]")


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    """Warnings (a solver that stopped at its cap, versions that differ) as one yellow line."""
    _warn(str(message))


def _warn(message: str) -> None:
    """One yellow line on stderr."""
    from rich.markup import escape

    text = " ".join(message.split())
    _console(stderr=True).print(f"[yellow]warning: {escape(text)}[/yellow]", highlight=False)


def main() -> None:
    """Entry point: run the app; user errors become one red line on stderr and exit code 2."""
    import signal
    import warnings

    warnings.showwarning = _show_warning
    _ERRORS_SHOWN.clear()

    # SIGTERM outside an experiment: stop like Ctrl-C
    def terminated(signum: int, frame: FrameType | None) -> NoReturn:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
    try:
        code = app(prog_name="celab", standalone_mode=False)
        if code == 130 and not _ERRORS_SHOWN:
            # typer turns a KeyboardInterrupt inside a command (a second Ctrl-C during an
            # experiment, Ctrl-C during a solve) into exit code 130 without a word
            _error("interrupted")
    except typer.Exit as e:
        code = e.exit_code
    except typer.Abort:
        _error("interrupted")
        code = 130
    except typer.TyperException as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # bare `celab`: the help, not an error
            typer.echo(e.format_message())
            code = 0
        else:
            _error(e.format_message())
            code = 2
    except (UserError, InputError) as e:
        _error(str(e))
        code = 2
    except MemoryError:
        _error("out of memory: the request does not fit; reduce it (runs, horizon, states) "
               "or see --memory-limit")
        code = 2
    except OSError as e:
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        _error(f"{where}{e.strerror or e}")
        code = 2
    except KeyboardInterrupt:
        _error("interrupted")
        code = 130
    except Exception as e:  # a bug in celab: one line for the user, the traceback on request
        if os.environ.get("CELAB_DEBUG"):
            raise
        _error(f"internal error ({type(e).__name__}: {e}); please report it; "
               "CELAB_DEBUG=1 shows the traceback")
        code = 1
    sys.exit(code if isinstance(code, int) else 0)


#: The error lines printed so far (main prints "interrupted" for a silent exit code 130).
_ERRORS_SHOWN: list[str] = []


def _error(message: str) -> None:
    from rich.markup import escape

    line = " ".join(str(message).split())
    _ERRORS_SHOWN.append(line)
    _console(stderr=True).print(f"[red]error: {escape(line)}[/red]", highlight=False)


if __name__ == "__main__":
    main()

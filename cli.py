"""celab's command line: parse, call the library, report. No algorithm code lives here.

Imports of numba and of the labs happen inside the commands, so ``celab --help`` starts fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="celab",
    help="Certainty-equivalence lab: bandit and tabular MDP agents compared by regret.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

BANDIT_ENVS = "garivier-cappe, linspace10, close10, testbed10, two-level, sutton-barto"
BANDIT_AGENTS = "greedy, epsilon-greedy, etc, ucb, kl-ucb, thompson, reinforce, pg-exact"
MDP_ENVS = "riverswim, chain, deep-sea, gridworld, garnet, li-chain"
MDP_AGENTS = "ce-greedy, ce-optimistic, psrl, ucrl2, q-learning, reinforce"
SOLVE_METHODS = "auto, vi, pi, mpi, lp (discounted); rvi (average); bi (finite horizon)"


class UserError(Exception):
    """A problem with the user's input: reported as one red line, exit code 2."""


def _console(stderr: bool = False):
    """A rich console; when output is not a terminal, tables get 120 columns, not 80."""
    from rich.console import Console

    console = Console(stderr=stderr, soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(stderr=stderr, soft_wrap=True, width=120)
    return console


def _progress_bar(total: int, description: str):
    """A rich progress bar on stderr (hidden when stderr is not a terminal)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = _console(stderr=True)
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    task = progress.add_task(description, total=total)
    return progress, lambda n: progress.advance(task, n)


def _parse_floats(text: str, name: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UserError(f"{name} must be comma-separated numbers, got {text!r}") from None


@app.callback()
def _root(
    memory_limit: Annotated[
        str | None, typer.Option(help="Refuse requests needing more memory than this: bytes, "
                                      "a size (512M, 16G) or a share of the available memory "
                                      "(50%). Default 80%.")
    ] = None,
) -> None:
    """Certainty-equivalence lab: bandit and tabular MDP agents compared by regret."""
    if memory_limit is not None:
        from experiments.memory import parse_limit

        parse_limit(memory_limit)
        os.environ["CELAB_MEMORY_LIMIT"] = memory_limit


def _experiment_progress(jobs):
    """One progress bar over all jobs; returns (progress, per-job callback factory)."""
    progress, advance = _progress_bar(sum(j.total_samples for j in jobs), "celab")
    task = progress.task_ids[0]

    def for_job(job):
        progress.update(task, description=job.problem)
        return advance

    return progress, for_job


PLOTS_HELP = "Draw the plots (PNG and SVG; needs the plot extra)."

# Options that several commands share.
Seed = Annotated[int, typer.Option(help="Master seed.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout.")]
OutDir = Annotated[
    Path | None, typer.Option(help="Output folder (default: a new one under ./celab-results/).")
]
PlotsFlag = Annotated[bool, typer.Option(help=PLOTS_HELP)]


def _run(jobs, out: Path | None, command: str, title: str | None = None, seed: int = 0,
         resume: bool = False, plots: bool = True):
    """Run jobs into an output folder; on interruption, report what is kept and exit."""
    from experiments import session

    folder_path = out if out is not None else session.default_folder(command)
    with session.Folder(folder_path, resume=resume) as folder:
        progress, for_job = _experiment_progress(jobs)
        with progress:
            outcome = session.run_experiment(jobs, folder, title, seed, resume, for_job, plots)
    if outcome.stopped_by is not None:
        missing = "; ".join(f"{k}: {v['runs_done']} of {v['runs']} runs done"
                            for k, v in outcome.status["missing"].items())
        _error(f"interrupted by {outcome.stopped_by}: kept the completed runs in {folder_path} "
               f"({missing}); finish with: celab run {folder_path / 'config.toml'} --resume")
        raise typer.Exit(130 if outcome.stopped_by == "SIGINT" else 143)
    return outcome, folder_path


def _print_experiment(outcome, folder_path: Path, console) -> None:
    from experiments import plots, report

    for summary in outcome.summary["problems"]:
        console.print(report.problem_table(summary))
        console.print()
    if outcome.summary["headline"]:
        console.print(report.headline_table(outcome.summary["headline"]))
    console.print(f"results saved in {folder_path}")
    if not outcome.summary["plots"] and not plots.available():
        console.print(f"[yellow]no plots: {plots.INSTALL_HINT}[/yellow]")
    elif outcome.summary["plots"]:
        console.print(f"plots in {folder_path / 'plots'}")


@app.command()
def bandit(
    env: Annotated[
        str | None, typer.Option(help=f"Named bandit: {BANDIT_ENVS}.")
    ] = None,
    env_arg: Annotated[
        list[str] | None, typer.Option(help="Argument of a named bandit, key=value "
                                            "(repeatable), e.g. n_arms=100.")
    ] = None,
    means: Annotated[
        str | None, typer.Option(help="Arm means, comma-separated (instead of --env).")
    ] = None,
    gaussian: Annotated[
        bool, typer.Option("--gaussian", help="With --means: Gaussian arms (default Bernoulli).")
    ] = False,
    sigma: Annotated[float, typer.Option(help="With --gaussian: noise standard deviation.")] = 1.0,
    horizon: Annotated[int, typer.Option(help="Rounds T per run.")] = 10_000,
    runs: Annotated[int, typer.Option(help="Independent runs.")] = 100,
    algos: Annotated[
        str, typer.Option(help=f"Agents, comma-separated, with parameters as name:key=value. "
                               f"Known: {BANDIT_AGENTS}.")
    ] = "greedy,ucb,kl-ucb,thompson,reinforce",
    seed: Seed = 0,
    as_json: JsonFlag = False,
    out: OutDir = None,
    plots: PlotsFlag = True,
) -> None:
    """Compare bandit agents by regret on the same random numbers."""
    if env is not None and means is not None:
        raise UserError("give either --env or --means, not both")
    if env_arg and env is None:
        raise UserError("--env-arg applies to --env only")
    if gaussian and means is None:
        raise UserError("--gaussian applies to --means only")
    for name, value in (("horizon", horizon), ("runs", runs)):
        if value < 1:
            raise UserError(f"--{name} must be >= 1, got {value}")
    if seed < 0:
        raise UserError(f"--seed must be >= 0, got {seed}")

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
    job = BanditJob(problem, algos, horizon, runs, seed, env_args=_env_args(env_arg) or None)
    outcome, folder = _run([job], out, "bandit", seed=seed, plots=plots)
    summary = outcome.summary["problems"][0]
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    console = _console()
    console.print(report.bandit_table(summary))
    console.print(f"results saved in {folder}")


def _env_args(pairs: list[str] | None) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise UserError(f"--env-arg must be key=value, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


def _load_model(env: str | None, env_arg: list[str] | None, file: Path | None):
    """An MDP from --env (with --env-arg) or a file; exactly one of the two."""
    import mdp

    if (env is None) == (file is None):
        raise UserError("give exactly one of --env NAME or a model file")
    if file is not None:
        if env_arg:
            raise UserError("--env-arg applies to --env only")
        return mdp.load(file), None
    return mdp.envs.make(env, **_env_args(env_arg)), env


@app.command("mdp")
def mdp_command(
    env: Annotated[str | None, typer.Option(help=f"Built-in MDP: {MDP_ENVS}.")] = None,
    env_arg: Annotated[
        list[str] | None, typer.Option(help="Environment argument key=value (repeatable), "
                                            "e.g. n_states=10.")
    ] = None,
    file: Annotated[
        Path | None, typer.Option(help="Model file (.json or .npz) instead of --env.")
    ] = None,
    horizon: Annotated[int, typer.Option(help="Steps per episode H.")] = 20,
    episodes: Annotated[int, typer.Option(help="Episodes K per run.")] = 500,
    runs: Annotated[int, typer.Option(help="Independent runs.")] = 20,
    algos: Annotated[
        str, typer.Option(help=f"Agents, comma-separated, with parameters as name:key=value. "
                               f"Known: {MDP_AGENTS}.")
    ] = "ce-greedy,ce-optimistic,psrl,q-learning,reinforce",
    rewards: Annotated[
        str, typer.Option(help="Observed rewards: mean (R itself) or bernoulli (draws).")
    ] = "mean",
    epsilon: Annotated[
        float, typer.Option(help="Simple-regret level for 'episodes to epsilon'.")
    ] = 0.1,
    seed: Seed = 0,
    as_json: JsonFlag = False,
    out: OutDir = None,
    plots: PlotsFlag = True,
) -> None:
    """Compare episodic MDP agents by regret on the same random numbers."""
    for name, value in (("horizon", horizon), ("episodes", episodes), ("runs", runs)):
        if value < 1:
            raise UserError(f"--{name} must be >= 1, got {value}")
    if seed < 0:
        raise UserError(f"--seed must be >= 0, got {seed}")
    from experiments import paths, report
    from mdp.loop import MDPJob

    model, env_name = _load_model(env, env_arg, file)
    if env_name is None and not paths.valid_name(file.stem):
        raise UserError(f"--file: the problem is named after the file, and {file.stem!r} is not "
                        f"a valid name ({paths.NAME_RULE}); rename the file")
    job = MDPJob(env_name or model, algos, horizon, episodes, runs, seed, None, rewards,
                 name=env_name or file.stem, epsilon=epsilon,
                 env_args=_env_args(env_arg) if env_name else None)
    outcome, folder = _run([job], out, "mdp", seed=seed, plots=plots)
    summary = outcome.summary["problems"][0]
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    console = _console()
    console.print(report.mdp_table(summary))
    console.print(f"results saved in {folder}")


@app.command()
def solve(
    file: Annotated[Path | None, typer.Argument(help="Model file (.json or .npz).")] = None,
    env: Annotated[str | None, typer.Option(help=f"Built-in MDP: {MDP_ENVS}.")] = None,
    env_arg: Annotated[
        list[str] | None, typer.Option(help="Environment argument key=value (repeatable).")
    ] = None,
    gamma: Annotated[float | None, typer.Option(help="Discount factor in [0, 1).")] = None,
    horizon: Annotated[int | None, typer.Option(help="Finite horizon H.")] = None,
    average: Annotated[
        bool, typer.Option("--average", help="Average reward (relative value iteration).")
    ] = False,
    method: Annotated[str, typer.Option(help=f"Solver: {SOLVE_METHODS}.")] = "auto",
    epsilon: Annotated[float, typer.Option(help="Accuracy of iterative solvers.")] = 1e-8,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the solution as JSON on stdout.")
    ] = False,
) -> None:
    """Solve an MDP exactly: optimal values, policy and Q."""
    import time

    import mdp

    settings = (gamma is not None) + (horizon is not None) + bool(average)
    if settings != 1:
        raise UserError("give exactly one of --gamma G, --horizon H or --average")
    model, _ = _load_model(env, env_arg, file)
    methods = {
        "auto": lambda: mdp.solve(model, gamma, epsilon=epsilon),
        "vi": lambda: mdp.value_iteration(model, gamma, epsilon=epsilon),
        "pi": lambda: mdp.policy_iteration(model, gamma),
        "mpi": lambda: mdp.modified_policy_iteration(model, gamma, epsilon=epsilon),
        "lp": lambda: mdp.linear_program(model, gamma),
    }
    if horizon is not None:
        if method not in ("auto", "bi"):
            raise UserError(f"--horizon is solved by backward induction (bi), not {method!r}")
        run = lambda: mdp.backward_induction(model, horizon)  # noqa: E731
    elif average:
        if method not in ("auto", "rvi"):
            raise UserError(f"--average is solved by relative value iteration (rvi), "
                            f"not {method!r}")
        run = lambda: mdp.relative_value_iteration(model, epsilon=epsilon)  # noqa: E731
    else:
        if method not in methods:
            raise UserError(f"--method must be one of {', '.join(methods)} with --gamma, "
                            f"got {method!r}")
        run = methods[method]
    start = time.perf_counter()
    res = run()
    seconds = time.perf_counter() - start
    doc = {"values": res.values.tolist(), "policy": res.policy.tolist(), "q": res.q.tolist(),
           "iterations": int(res.iterations), "method": res.method, "seconds": seconds}
    if res.gain is not None:
        doc["gain"] = res.gain
    doc["converged"] = bool(res.converged)
    doc["bound"] = float(res.bound)
    if as_json:
        typer.echo(json.dumps(doc))
        return
    _console().print(_solution_table(model, res, seconds))


def _solution_table(model, res, seconds: float, limit: int = 40):
    from rich.table import Table

    setting = (f"gamma = {res.gamma:g}" if res.gamma is not None else
               "average reward" if res.gain is not None else f"horizon {res.policy.shape[0]}")
    extra = f", gain {res.gain:.6g}" if res.gain is not None else ""
    table = Table(
        title=f"{model.name}: {setting}{extra} ({res.method}, {res.iterations} iterations, "
              f"{seconds * 1000:.1f} ms, error bound {res.bound:.1e})",
    )
    table.add_column("state", justify="right")
    table.add_column("V* (at h = 0)" if res.values.ndim == 2 else
                     "bias" if res.gain is not None else "V*", justify="right")
    table.add_column("action (at h = 0)" if res.policy.ndim == 2 else "action", justify="right")
    values = res.values[0] if res.values.ndim == 2 else res.values
    policy = res.policy[0] if res.policy.ndim == 2 else res.policy
    for s in range(min(limit, values.shape[0])):
        table.add_row(str(s), f"{values[s]:.6g}", str(int(policy[s])))
    if values.shape[0] > limit:
        table.caption = f"first {limit} of {values.shape[0]} states; --json gives all"
    return table


@app.command()
def compare(
    out: OutDir = None,
    as_json: JsonFlag = False,
    plots: PlotsFlag = True,
) -> None:
    """The built-in suite: certainty equivalence against REINFORCE on bandits and MDPs."""
    from experiments import files

    spec = files.parse(_suite_text("compare"), "compare.toml")
    jobs = _jobs(spec)
    outcome, folder = _run(jobs, out, "compare", spec["title"], spec["seed"], plots=plots)
    if as_json:
        typer.echo(json.dumps(outcome.summary, indent=2))
        return
    _print_experiment(outcome, folder, _console())


def _suite_text(name: str) -> str:
    """A built-in experiment file shipped in experiments/suites/."""
    from importlib import resources

    return resources.files("experiments").joinpath(f"suites/{name}.toml").read_text("utf-8")


def _jobs(spec):
    """Jobs of a parsed experiment file; a lab's ValueError points at the file and line."""
    from experiments import files

    return files.build_jobs(spec)


@app.command("run")
def run_file(
    file: Annotated[Path, typer.Argument(help="Experiment file (TOML), or a results folder's "
                                              "config.toml.")],
    resume: Annotated[
        bool, typer.Option("--resume", help="Complete the interrupted experiment saved beside "
                                            "FILE (its folder).")
    ] = False,
    out: OutDir = None,
    as_json: JsonFlag = False,
    plots: PlotsFlag = True,
) -> None:
    """Run an experiment file; with --resume, finish an interrupted one."""
    from experiments import files, session, versions

    spec = session.read_config(file) if resume else files.read(file)
    if resume:
        if out is not None and out.resolve() != file.parent.resolve():
            raise UserError("--resume writes into the folder of FILE; do not give --out")
        out = file.parent
    _warn_versions(file, versions.versions())
    jobs = _jobs(spec)
    outcome, folder = _run(jobs, out, file.stem, spec["title"], spec["seed"], resume,
                           plots)
    if as_json:
        typer.echo(json.dumps(outcome.summary, indent=2))
        return
    _print_experiment(outcome, folder, _console())


def _warn_versions(file: Path, current: dict) -> None:
    from experiments import tomlio

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


@app.command()
def reproduce(
    name: Annotated[str | None, typer.Argument(help="The study to run (see --list).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the studies and exit.")] = False,
    full: Annotated[bool, typer.Option(
        "--full", help="The full budget (the paper's, for a published result).")] = False,
    smoke: Annotated[
        bool, typer.Option("--smoke", help="A tiny budget that only checks the pipeline.")
    ] = False,
    out: OutDir = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish an interrupted study in --out.")
    ] = False,
    docs: Annotated[
        Path | None, typer.Option(help="Also write the report as DOCS/NAME.md, figures in "
                                       "DOCS/NAME/ (e.g. docs/experiments).")
    ] = None,
) -> None:
    """Reproduce a published result, or celab's thesis, and write a report."""
    from experiments import session, studies

    if list_:
        console = _console()
        for key, text in studies.STUDIES.items():
            console.print(f"[bold]{key}[/bold]: {text}", highlight=False)
        return
    if name is None:
        raise UserError("give a study name, or --list")
    if full and smoke:
        raise UserError("give --full or --smoke, not both")
    if resume and out is None:
        raise UserError("--resume needs --out DIR, the folder of the interrupted study")
    studies.module(name)  # unknown names fail before anything is written
    budget = "full" if full else "smoke" if smoke else "default"
    parsed = studies.spec(name, full, smoke)
    jobs = studies.jobs_of(parsed)
    folder_path = out if out is not None else session.default_folder(f"reproduce-{name}")
    progress, for_job = _experiment_progress(jobs)
    with progress:
        outcome, ctx = studies.run(name, folder_path, budget, resume, for_job)
    if ctx is None:
        missing = "; ".join(f"{k}: {v['runs_done']} of {v['runs']} runs done"
                            for k, v in outcome.status["missing"].items())
        _error(f"interrupted by {outcome.stopped_by}: kept the completed runs in {folder_path} "
               f"({missing}); finish with: celab reproduce {name} --out {folder_path} --resume"
               + (" --full" if full else ""))
        raise typer.Exit(130 if outcome.stopped_by == "SIGINT" else 143)
    console = _console()
    console.print(f"report: {folder_path / 'report.md'}")
    if docs is not None:
        path = studies.write_docs(ctx, (folder_path / "report.md").read_text("utf-8"), docs)
        console.print(f"report copied to {path}")


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="A results folder written by celab.")],
    as_json: JsonFlag = False,
    plots: PlotsFlag = True,
) -> None:
    """Re-render the tables and plots of saved results, without simulating."""
    from experiments import paths, session
    from experiments import plots as plotting
    from experiments import report as rep

    spec = session.read_config(folder / "config.toml")
    results = session.saved_results(folder, spec)
    if not results:
        raise UserError(f"{folder}: no saved results (results/*.npz)")
    summaries = [rep.summarize(r) for r in results]
    head = [row for r, s in zip(results, summaries) for row in rep.headline(r, s)]
    if plots and plotting.available():
        for r in results:
            plotting.plot_result(r, paths.inside(folder, "plots"))
    if as_json:
        typer.echo(json.dumps({"problems": summaries, "headline": head}, indent=2))
        return
    console = _console()
    for r, summary in zip(results, summaries):
        console.print(rep.problem_table(summary))
        if not r.complete:
            console.print(f"[yellow]{r.problem}: {r.runs} of {r.runs_requested} runs "
                          "(interrupted; resume with celab run ... --resume)[/yellow]")
        console.print()
    if head:
        console.print(rep.headline_table(head))
    if plots and not plotting.available():
        console.print(f"[yellow]no plots: {plotting.INSTALL_HINT}[/yellow]")


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings (a solver that stopped at its cap, versions that differ) as one yellow line."""
    from rich.markup import escape

    text = " ".join(str(message).split())
    _console(stderr=True).print(f"[yellow]warning: {escape(text)}[/yellow]", highlight=False)


def main() -> None:
    """Entry point: run the app; user errors become one red line on stderr and exit code 2."""
    import signal
    import warnings

    warnings.showwarning = _show_warning

    def terminated(signum, frame):  # SIGTERM outside an experiment: stop like Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
    try:
        code = app(prog_name="celab", standalone_mode=False)
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
    except (UserError, ValueError) as e:
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


def _error(message: str) -> None:
    from rich.markup import escape

    line = " ".join(str(message).split())
    _console(stderr=True).print(f"[red]error: {escape(line)}[/red]", highlight=False)


if __name__ == "__main__":
    main()

"""celab's command line: parse, call the library, report. No algorithm code lives here.

Imports of numba and of the labs happen inside the commands, so ``celab --help`` starts fast.
"""

from __future__ import annotations

import json
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

BANDIT_ENVS = "garivier-cappe, linspace10, close10, testbed10"
BANDIT_AGENTS = "greedy, epsilon-greedy, etc, ucb, kl-ucb, thompson, reinforce, pg-exact"


class UserError(Exception):
    """A problem with the user's input: reported as one red line, exit code 2."""


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=True)


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
def _root() -> None:
    """Certainty-equivalence lab: bandit and tabular MDP agents compared by regret."""


@app.command()
def bandit(
    env: Annotated[
        str | None, typer.Option(help=f"Named bandit: {BANDIT_ENVS}.")
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
    seed: Annotated[int, typer.Option(help="Master seed.")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on stdout.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="Save the results (config, curves, summary) here.")
    ] = None,
) -> None:
    """Compare bandit agents by regret on the same random numbers."""
    if env is not None and means is not None:
        raise UserError("give either --env or --means, not both")
    if gaussian and means is None:
        raise UserError("--gaussian applies to --means only")
    for name, value in (("horizon", horizon), ("runs", runs)):
        if value < 1:
            raise UserError(f"--{name} must be >= 1, got {value}")
    if seed < 0:
        raise UserError(f"--seed must be >= 0, got {seed}")

    import bandits
    from experiments import report
    from experiments.results import save
    from experiments.specs import build_all

    if means is not None:
        values = _parse_floats(means, "--means")
        problem = (
            bandits.Gaussian(values, sigma, name="custom-gaussian")
            if gaussian
            else bandits.Bernoulli(values, name="custom-bernoulli")
        )
    else:
        problem = bandits.envs.make(env or "linspace10", seed)
    agents = build_all(bandits.agents.REGISTRY, algos, "bandit")

    progress, advance = _progress_bar(runs * horizon * len(agents), f"{problem.name}")
    with progress:
        result = bandits.run(problem, agents, horizon, runs, seed=seed, progress=advance)
    summary = report.bandit_summary(result)
    if out is not None:
        save(result, out, summary)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    console = _console()
    console.print(report.bandit_table(summary))
    if out is not None:
        console.print(f"saved to {out}")


def main() -> None:
    """Entry point: run the app; user errors become one red line on stderr and exit code 2."""
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
    except KeyboardInterrupt:
        _error("interrupted")
        code = 130
    sys.exit(code if isinstance(code, int) else 0)


def _error(message: str) -> None:
    from rich.markup import escape

    line = " ".join(str(message).split())
    _console(stderr=True).print(f"[red]error: {escape(line)}[/red]", highlight=False)


if __name__ == "__main__":
    main()

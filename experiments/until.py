"""Adaptive budgets: ``budget = "until"`` doubles a problem's budget until its sample sizes
are measured (docs/experiments.md).

A problem with ``budget = "until"`` and ``cap = C`` is run at its budget key's value B0 (the
setting's ``length``: ``horizon`` for bandits, ``episodes`` for episodic MDPs, ``steps`` for
continuing ones). When some agent's n(epsilon, delta) of the greedy readout is censored, the
problem is run again from the start at min(2 B, C), and so on, until every agent's is
measured or the cap was run. Each try is a fixed-budget job built from the same table with
its own budget, run from the start (the checkpoint grid depends on the budget, and so may an
agent's constants), so the final try holds exactly the arrays of a fixed-budget run of the
final length.

:class:`UntilJob` stands for such a problem among an experiment's jobs (its configuration is
the table of config.toml, with ``budget`` and ``cap``); experiments/session.py runs its tries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracking import settings

if TYPE_CHECKING:
    from tracking.results import Result
    from tracking.runner import Job

#: The value of ``budget`` that chooses the budget by doubling.
UNTIL = "until"
#: The keys of the rule in a problem table; a try's table has none of them.
RULE_KEYS = ("budget", "cap", "stop")
#: When the doubling stops (``stop``): ``all``, once every agent's n(epsilon, delta) is
#: measured (the default); ``any``, once some agent's is (celab tune's rule for a tuned agent's
#: candidates: a candidate still censored at budget B needs more than B samples, more than the
#: measured one, so the choice is made at the first budget where some candidate settles).
STOPS = ("all", "any")


def doubling(start: int, cap: int) -> list[int]:
    """The budgets of the tries, ``start, 2 start, 4 start, ...``, the last one ``cap``:
    B_{k+1} = min(2 B_k, cap)."""
    budgets = [start]
    while budgets[-1] < cap:
        budgets.append(min(2 * budgets[-1], cap))
    return budgets


def censored_agents(result: Result) -> list[str]:
    """The agents of ``result`` whose n(epsilon, delta) of its setting's readout (greedy but
    for the reasoning setting: :attr:`tracking.settings.Setting.readout`) is censored (or
    undefined, without runs), with the result's epsilon and delta
    (:func:`experiments.report.measure`: one epsilon per run under an ``epsilon_share``)."""
    from tracking import settings, stats

    from .report import measure

    eps, dlt = measure(result)
    readout = settings.get(result.setting).readout
    out = []
    for i, label in enumerate(result.agents):
        exits = stats.last_exit_times(result.samples, result.readout(readout)[i], eps)
        quantile = stats.km_quantile(exits, dlt)
        if quantile is None or quantile.censored:
            out.append(label)
    return out


class UntilJob:
    """A ``budget = "until"`` problem: its tries' jobs, its rule and its guards' estimates.

    Parameters
    ----------
    table : dict
        The normalised problem table (experiments.files.parse), with ``budget`` and ``cap``.
    build : callable
        ``build(table) -> Job``: the fixed-budget job of a table without the rule's keys
        (experiments.files builds it, so that a lab's error points at the file's line).

    The job at the starting budget is built at once (it validates the problem), and the job
    at the cap too, for the memory guard, then dropped. The work guard's estimate counts every
    try up to the cap (the worst case): :attr:`work_per_run` is the sum of the tries', taken
    affine in the budget between the two jobs built.
    """

    def __init__(self, table: dict[str, Any], build: Callable[[dict[str, Any]], Job]) -> None:
        self.table = dict(table)
        self._build = build
        self.length = settings.get(table["setting"]).length
        self.start_budget = int(table[self.length])
        self.cap = int(table["cap"])
        self.stop = table.get("stop", STOPS[0])
        self.budgets = doubling(self.start_budget, self.cap)
        self.start = build(self._table_at(self.start_budget))
        self.problem = self.start.problem
        self.setting = self.start.setting
        self.agents = self.start.agents
        self.runs = self.start.runs
        low = self.start.work_per_run
        high = self._at_cap().work_per_run if len(self.budgets) > 1 else low
        span = max(self.cap - self.start_budget, 1)
        self.work_per_run = sum(low + (high - low) * (b - self.start_budget) / span
                                for b in self.budgets)
        self._folder: Path | None = None
        self.config = self._config()

    def _at_cap(self) -> Job:
        """The job of the try at the cap; its refusal (the memory guard's) is about ``cap``."""
        try:
            return self._build(self._table_at(self.cap))
        except ValueError as e:
            raise settings.TableError("cap", f"the try at the cap ({self.length} = "
                                             f"{self.cap:,}): {e}") from None

    def _table_at(self, budget: int) -> dict[str, Any]:
        """The table of the fixed-budget problem of ``budget``."""
        table = {k: v for k, v in self.table.items() if k not in RULE_KEYS}
        table[self.length] = budget
        return table

    def _config(self) -> dict[str, Any]:
        """The table of config.toml: the starting job's, with ``budget`` and ``cap`` after the
        budget key and the checkpoints only as given (every try builds its own grid)."""
        out: dict[str, Any] = {}
        for key, value in self.start.config.items():
            if key == "checkpoints":
                if "checkpoints" in self.table:
                    out[key] = list(self.table["checkpoints"])
                continue
            out[key] = value
            if key == self.length:
                out.update(budget=UNTIL, cap=self.cap)
                if self.stop != STOPS[0]:
                    out["stop"] = self.stop
        return out

    @property
    def total_samples(self) -> int:
        """Environment samples of the first try (progress bars grow as tries follow)."""
        return self.start.total_samples

    def at(self, budget: int) -> Job:
        """The job of the try of ``budget``, with the folder's files attached (the starting
        one is built once)."""
        if budget == self.start_budget:
            return self.start
        job = self._build(self._table_at(budget))
        if self._folder is not None:
            job.attach_files(self._folder)
        return job

    def settled(self, censored: list[str]) -> bool:
        """Whether a try whose censored agents are ``censored`` ends the doubling
        (:data:`STOPS`)."""
        return not censored if self.stop == "all" else len(censored) < len(self.agents)

    def next_budget(self, budget: int) -> int | None:
        """The budget of the try after ``budget``'s, None after the cap's."""
        return min(2 * budget, self.cap) if budget < self.cap else None

    def rule(self, tried: list[int], all_measured: bool) -> dict[str, Any]:
        """The ``budget_rule`` recorded in the final result's info."""
        return {"kind": UNTIL, "start": self.start_budget, "cap": self.cap,
                "tried": list(tried), "final": tried[-1], "all_measured": all_measured,
                **({} if self.stop == STOPS[0] else {"stop": self.stop})}

    def final(self, result: Result, tried: list[int], all_measured: bool) -> Result:
        """The problem's result: the last try's, its info recording the rule."""
        rule = self.rule(tried, all_measured)
        return replace(result, info={**result.info, "budget_rule": rule})

    def saved_job(self, result: Result) -> Job | None:
        """The try's job a saved final result belongs to (its ``budget_rule``'s final
        budget), None when the result was not made by this rule."""
        rule = result.info.get("budget_rule")
        if not isinstance(rule, dict) or rule.get("final") not in self.budgets:
            return None
        tried = self.budgets[:self.budgets.index(rule["final"]) + 1]
        if {k: rule.get(k) for k in ("kind", "start", "cap", "tried")} != \
                {"kind": UNTIL, "start": self.start_budget, "cap": self.cap, "tried": tried}:
            return None
        return self.at(rule["final"])

    def check_resume(self, result: Result) -> None:
        """ValueError unless runs can be added to ``result`` (the starting job's rule)."""
        self.start.check_resume(result)

    def attach_files(self, folder: Path) -> None:
        """Write what the configuration needs into ``folder`` (the starting job's files) and
        attach them to every later try."""
        self._folder = folder
        self.start.attach_files(folder)
        self.config = self._config()

    def set_delta(self, delta: float) -> None:
        """Record ``delta`` of samples to epsilon (:meth:`tracking.runner.Job.set_delta`): it
        also decides when the doubling stops."""
        self.start.set_delta(delta)
        self.table["delta"] = self.start.config["delta"]
        self.config = self._config()


def try_budget(job: Job) -> str:
    """A try's budget for progress: ``horizon = 2,000``."""
    length = settings.get(job.setting).length
    return f"{length} = {int(job.config[length]):,}"

"""The reasoning setting's table: per agent the exact pass@1 of both readouts, pass@k, held-out
pass@1, KL to pi_ref, verifier calls, tokens and calls to epsilon (``celab reasoning``).

It reads a problem's summary (experiments.report.summarize), whose agents carry the setting's
extras (mdp/reasoning_setting.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .report import _num, _samples, _title, epsilon_text, runs_share, samples_note

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["reasoning_table"]


def _held_out_note(summary: dict[str, Any]) -> str:
    info = summary["info"]
    n = info.get("n_held_out", 0)
    if not n:
        return "No prompt is held out. "
    base = info.get("base_pass_at_1_held_out")
    return (f"Held out: {n} of {info['n_prompts']} prompts, never trained on; a tabular policy "
            f"leaves them at pi_ref (base pass@1 there {_num(base)}), so only a model shared "
            "across prompts (a shared policy, ce-linear) can move them. ")


def reasoning_table(summary: dict[str, Any]) -> Table:
    """The ``celab reasoning`` table of one problem's summary."""
    from rich.table import Table

    from mdp.reasoning_setting import SUMMARY_KS

    eps, dlt = epsilon_text(summary), summary["delta"]
    first = summary["checkpoints"]["first"]
    table = Table(
        title=_title(summary),
        caption=("Exact numbers on the training prompts at the end of the runs (means over "
                 "runs): pass@1 of the behaviour policy and of its greedy decoding, pass@k = "
                 "1 - (1 - p_correct)^k averaged over prompts, KL(pi || pi_ref) of whole "
                 "responses, held-out pass@1 of the behaviour policy. Calls: verifier calls "
                 "the agent learned from (base, power and low-temp spend none; their regret "
                 "is that of answering the same calls' prompts). Regret: the pseudo-regret, "
                 "sum over calls of 1 - pass@1 of the answering policy (in the JSON summary "
                 "and the plots). "
                 + _held_out_note(summary)
                 + samples_note("calls", eps, dlt, f"the {summary['readout']} policy's pass@1 "
                                f"within {eps} of 1")),
    )
    table.add_column("agent", style="bold", no_wrap=True)
    for head in ("pass@1", "greedy", *(f"pass@{k}" for k in SUMMARY_KS[1:]), "held-out",
                 "KL", "calls", "tokens"):
        table.add_column(head, justify="right", no_wrap=True)
    table.add_column(f"calls to {eps} ({runs_share(dlt)})", justify="right")
    for a in summary["agents"]:
        table.add_row(a["agent"], _num(a.get("pass_at_1_behaviour")),
                      _num(a.get("pass_at_1_greedy")),
                      *(_num(a.get(f"pass_at_{k}")) for k in SUMMARY_KS[1:]),
                      _num(a.get("held_out_pass_at_1")), _num(a.get("kl")),
                      _num(a.get("calls")), _num(a.get("tokens")), _samples(a, first))
    return table

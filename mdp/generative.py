"""Certainty equivalence with a generative model (Azar, Munos and Kappen 2013; Agarwal,
Kakade and Yang 2020).

For every pair (s, a), draw N next states from P(. | s, a); build the plug-in model P_hat
(rewards R known); solve it exactly for its optimal policy pi_hat; measure pi_hat on the true
model. The theory: with N samples per pair, ||Q* - Q^{pi_hat}||_inf is of order
sqrt(1 / ((1 - gamma)^3 N)) up to logarithmic factors. :func:`generative_samples_to_epsilon`
reads off the budget from which on the plug-in policy is epsilon-optimal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import prange

from tracking import memory
from tracking.jit import njit
from tracking.rng import SALT_TRANSITION, counter_uniform, run_seeds, stream_key
from tracking.validate import InputError, as_float, as_int

from ._env_kernels import sample_row
from .model import FiniteMDP


@njit(cache=True, parallel=True)
def _sample_counts(indptr, indices, probs, n_actions, seeds, budgets, out):
    """out[r, b, j]: how many of the first budgets[b] draws from row(j) landed on slot j.

    Draw n of pair (s, a) in run r is the n-th number of the stream (run seed, s, a), so the
    samples of a smaller budget are the first ones of a larger budget (nested designs).
    """
    n_rows = indptr.shape[0] - 1
    for r in prange(seeds.shape[0]):
        for row in range(n_rows):
            key = stream_key(seeds[r], SALT_TRANSITION, row // n_actions, row % n_actions)
            b = 0
            for n in range(budgets[-1]):
                j = sample_row(indptr, probs, row, counter_uniform(key, n))
                out[r, b:, j] += 1
                while b < budgets.shape[0] and n + 1 == budgets[b]:
                    b += 1
                if b == budgets.shape[0]:
                    break


#: Accuracy the true and the plug-in models are solved to: errors below it are solver noise.
EPSILON = 1e-10


@dataclass(frozen=True)
class GenerativeResult:
    """Errors of the plug-in optimal policy, per run and per sample budget.

    Attributes
    ----------
    samples_per_pair : int64[B]
        N, the next states drawn per (s, a).
    q_error : float64[runs, B]
        ||Q* - Q^{pi_hat}||_inf, the loss of deploying the plug-in policy.
    value_gap : float64[runs, B]
        max_s V*(s) - V^{pi_hat}(s).
    model_error : float64[runs, B]
        ||Q* - Q_hat*||_inf, the error of the plug-in model's own optimal values.
    gamma : float
    config : dict
    """

    samples_per_pair: np.ndarray
    q_error: np.ndarray
    value_gap: np.ndarray
    model_error: np.ndarray
    gamma: float
    config: dict[str, Any]


def generative(
    m: FiniteMDP,
    gamma: float,
    samples_per_pair: Sequence[int] | int,
    runs: int,
    seed: int = 0,
) -> GenerativeResult:
    """Plug-in certainty equivalence from N samples per pair, for each N given.

    Parameters
    ----------
    m : FiniteMDP
        The true model (R is known to the learner; P is sampled).
    gamma : float
        Discount factor in [0, 1).
    samples_per_pair : int or list of int
        Budgets N (increasing); the samples are nested: a larger budget extends a smaller one.
    runs : int
        Independent runs.
    seed : int
        Master seed.
    """
    from .solvers import evaluate, solve

    gamma = as_float("gamma", gamma, minimum=0.0)
    if gamma >= 1.0:
        raise InputError(f"gamma must be < 1, got {gamma}")
    runs = as_int("runs", runs, minimum=1)
    seed = as_int("seed", seed, minimum=0)
    raw = [samples_per_pair] if np.isscalar(samples_per_pair) else list(samples_per_pair)
    budgets = np.array([as_int("samples_per_pair", n, minimum=1) for n in raw], dtype=np.int64)
    if budgets.size == 0 or np.any(np.diff(budgets) <= 0):
        raise InputError("samples_per_pair must be a non-empty increasing list")
    S, A = m.n_states, m.n_actions
    true = solve(m, gamma, epsilon=EPSILON)
    memory.check(8.0 * runs * budgets.size * m.nnz, f"{runs} runs x {budgets.size} budgets of "
                 f"counts over {m.nnz} transitions")
    counts = np.zeros((runs, budgets.size, m.nnz), dtype=np.int64)
    _sample_counts(m.indptr, m.indices, m.probs, A, run_seeds(seed, runs), budgets, counts)
    q_err = np.zeros((runs, budgets.size))
    gap = np.zeros((runs, budgets.size))
    model_err = np.zeros((runs, budgets.size))
    rows = np.repeat(np.arange(S * A), np.diff(m.indptr))
    for r in range(runs):
        for b, n in enumerate(budgets):
            keep = counts[r, b] > 0
            indptr = np.zeros(S * A + 1, dtype=np.int64)
            np.cumsum(np.bincount(rows[keep], minlength=S * A), out=indptr[1:])
            hat = FiniteMDP.from_successors(indptr, m.indices[keep], counts[r, b, keep] / n,
                                            m.R, m.initial, name=f"{m.name}-plug-in")
            sol = solve(hat, gamma, epsilon=EPSILON)
            v_pi = evaluate(m, sol.policy, gamma=gamma)
            q_pi = _q_of(m, v_pi, gamma)
            q_err[r, b] = np.abs(true.q - q_pi).max()
            gap[r, b] = (true.values - v_pi).max()
            model_err[r, b] = np.abs(true.q - sol.q).max()
    config = {"problem": m.name, "env": m.config(), "gamma": gamma,
              "samples_per_pair": budgets.tolist(), "runs": runs, "seed": seed}
    return GenerativeResult(budgets, q_err, gap, model_err, gamma, config)


def _q_of(m: FiniteMDP, v: np.ndarray, gamma: float) -> np.ndarray:
    """Q(s, a) = R(s, a) + gamma sum_s' P(s' | s, a) v(s')."""
    from ._solver_kernels import bellman_q

    q = np.empty((m.n_states, m.n_actions))
    bellman_q(m.indptr, m.indices, m.probs, np.ascontiguousarray(m.R), v, gamma, q)
    return q


# ---------------------------------------------------------------------------------------------
# the samples a plug-in policy needs for an epsilon-optimal policy (compared with policy gradient)
# ---------------------------------------------------------------------------------------------

#: Default sample budgets per pair: 1, 2, 4, ..., 2^14.
DEFAULT_BUDGETS = tuple(2**k for k in range(15))


@dataclass(frozen=True)
class SamplesToEpsilon:
    """How many generative-model samples certainty equivalence needs for an epsilon-optimal policy.

    Attributes
    ----------
    samples_per_pair : int or None
        The smallest budget N of the grid from which on the run-averaged value gap
        ``mean_r max_s (V*(s) - V^{pi_hat}(s))`` is ``<= epsilon`` (at N and every larger budget
        of the grid); None if it exceeds epsilon at the largest one.
    total_samples : int or None
        ``N * S * A``: next states drawn in all.
    budgets : int64[B]
    mean_value_gap : float64[B]
    epsilon : float
    result : GenerativeResult
        The full run of :func:`generative`.
    """

    samples_per_pair: int | None
    total_samples: int | None
    budgets: np.ndarray
    mean_value_gap: np.ndarray
    epsilon: float
    result: GenerativeResult


def generative_samples_to_epsilon(
    m: FiniteMDP,
    gamma: float,
    epsilon: float,
    runs: int = 20,
    seed: int = 0,
    budgets: Sequence[int] = DEFAULT_BUDGETS,
) -> SamplesToEpsilon:
    """Samples per pair the plug-in (certainty-equivalence) policy needs to be epsilon-optimal.

    Runs :func:`mdp.generative` (N next states per pair for every N in ``budgets``, nested, R
    known, the plug-in model solved exactly) and returns the smallest N from which on the value
    gap averaged over ``runs`` stays ``<= epsilon``. The gap is the sup over start states,
    ``max_s V*(s) - V^{pi_hat}(s)``, which bounds ``V*(rho) - V^{pi_hat}(rho)`` for every rho:
    compared with :func:`mdp.policy_gradient`'s ``iterations_to_epsilon`` (measured at rho) the
    criterion is, if anything, stricter for certainty equivalence.
    """
    from .solvers import _check_mdp

    m = _check_mdp(m)
    eps = as_float("epsilon", epsilon, 0.0, strict_min=True)
    res = generative(m, gamma, budgets, runs, seed)
    gap = res.value_gap.mean(axis=0)
    above = np.flatnonzero(gap > eps)
    k = 0 if above.size == 0 else int(above[-1]) + 1
    if k == gap.size:
        n_pair = total = None
    else:
        n_pair = int(res.samples_per_pair[k])
        total = n_pair * m.n_states * m.n_actions
    return SamplesToEpsilon(n_pair, total, res.samples_per_pair, gap, eps, res)

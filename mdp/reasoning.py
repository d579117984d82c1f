"""The reasoning testbed: responses as paths in a layered automaton, every quantity exact.

A :class:`Task` holds P prompts. A response to prompt p is a string of H tokens from a
vocabulary of V; its prefixes are summarised by a layered deterministic automaton (state z_0 = 0,
z_{h+1} = next[p, h, z_h, y_h]) and the verifier accepts the response iff z_H is accepting
(``accept[p, z_H]``), reward 1, else 0. A policy is Markov in (h, z): an array
``pi[p, h, z, v]`` whose rows sum to one, so the V^H responses are never tabulated. The reference
(base-model) policy is ``softmax(ref_logits)``.

On that graph this module computes exactly: state occupancies, the probability of a correct
response, pass@k, the KL divergence and the entropy of whole responses, the coverage of the
listed solutions; by one soft backward induction the KL-regularised optimum
pi*(y) ~ pi_ref(y) exp(r(y) / beta) and the power distribution pi_ref(y)^alpha / Z (Karan and
Du 2025) as Markov policies; and it samples responses (common random numbers) and runs the
Metropolis-Hastings power sampler of Karan and Du, counting the tokens it draws. The built-in
tasks (:data:`TASKS`) are the tries of random solutions (``"trie"``) and of solutions that follow
a hidden linear rule of prompt features (``"shared"``). The definitions are written out in
docs/algorithms.md ("Reasoning testbed").
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from tracking import memory
from tracking.validate import InputError, as_float, as_int

# numba loads with the kernels (and tracking.rng) on the first exact pass or draw: building,
# saving and reading tasks stays light.

__all__ = [
    "DEFAULT_TAU",
    "FORMAT_VERSION",
    "TASKS",
    "Coverage",
    "MHSamples",
    "Samples",
    "Task",
    "coverage",
    "entropy",
    "feature_logits",
    "kl",
    "kl_optimum",
    "load_task",
    "log_prob",
    "low_temperature_policy",
    "make_task",
    "mh_power_sample",
    "occupancy",
    "p_correct",
    "pass_at_k",
    "pass_at_k_unbiased",
    "power_policy",
    "reachable",
    "reference_policy",
    "sample_responses",
    "save_task",
    "shared",
    "shared_features",
    "soft_backward_induction",
    "softmax_policy",
    "trie",
]

#: Version of the .npz task format written by :func:`save_task`.
FORMAT_VERSION = 1
#: Default probability threshold of :func:`coverage`: a solution of probability at least 1e-6
#: is drawn with probability at least 1 - 1/e within 10^6 samples, the largest k of pass@k the
#: testbed reports; below it a solution is out of reach of any sampling budget it considers.
DEFAULT_TAU = 1e-6
#: Largest vocabulary (tokens are stored as int16).
MAX_VOCAB = 32767
#: Rows of a policy must sum to one within this absolute tolerance.
ROW_TOLERANCE = 1e-8


# ---------------------------------------------------------------------------------------------
# the task
# ---------------------------------------------------------------------------------------------


def _int_array(name: str, value: Any, ndim: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu":
        raise InputError(f"{name} must be an integer array, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise InputError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    return arr


def _float_array(name: str, value: Any, shape: tuple[int, ...] | None, ndim: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise InputError(f"{name} must be a float array, got dtype {arr.dtype}")
    if arr.ndim != ndim or (shape is not None and arr.shape != shape):
        want = shape if shape is not None else f"{ndim} dimensions"
        raise InputError(f"{name} must have shape {want}, got {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} must be finite (no NaN or infinity)")
    return arr


def _frozen(arr: np.ndarray, dtype: Any = None) -> np.ndarray:
    """A read-only C-contiguous copy of ``arr`` (as ``dtype``)."""
    arr = np.array(arr, dtype=dtype, copy=True, order="C")
    arr.setflags(write=False)
    return arr


def _token_dtype(V: int) -> type:
    return np.int8 if V <= 127 else np.int16


@dataclass(frozen=True, eq=False)
class Task:
    """A reasoning task: P prompts, responses of H tokens from V, a layered automaton over Z
    states per step and its accepting states.

    Attributes
    ----------
    name : str
    next : int32[P, H, Z, V]
        ``next[p, h, z, v]``, the state after token v from state z at step h (z_0 = 0).
    accept : bool[P, Z]
        The verifier: a response is correct iff its state at step H is accepting.
    ref_logits : float64[P, H, Z, V]
        Logits of the reference policy pi_ref(v | p, h, z) (finite).
    features : float64[P, q] or None
        Features of the prompts.
    solutions : int[P, m, H] or None
        The correct responses the task lists (rows of -1 pad prompts with fewer than m); each
        must be accepted.
    source : dict
        How the task was built (``{"task": name, "args": {...}}``) or read.

    The constructor copies the arrays, makes them read-only and checks every rule, raising
    ValueError naming the field: shapes, ``next`` in [0, Z), an accepting state reachable at
    step H for every prompt, finite logits and features, solutions in [0, V) and accepted.
    """

    name: str
    next: np.ndarray
    accept: np.ndarray
    ref_logits: np.ndarray
    features: np.ndarray | None = None
    solutions: np.ndarray | None = None
    source: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise InputError(f"name must be a string, got {self.name!r}")
        nxt = _int_array("next", self.next, 4)
        P, H, Z, V = nxt.shape
        if min(nxt.shape) < 1:
            raise InputError(f"next must have a positive size in every dimension, got "
                             f"{nxt.shape} (P, H, Z, V)")
        if V > MAX_VOCAB:
            raise InputError(f"next: the vocabulary V = {V} exceeds {MAX_VOCAB}")
        if nxt.min() < 0 or nxt.max() >= Z:
            raise InputError(f"next must hold states in [0, {Z}), got values in "
                             f"[{nxt.min()}, {nxt.max()}]")
        accept = np.asarray(self.accept)
        if accept.dtype != np.bool_:
            raise InputError(f"accept must be a boolean array, got dtype {accept.dtype}")
        if accept.shape != (P, Z):
            raise InputError(f"accept must have shape {(P, Z)} (P, Z), got {accept.shape}")
        logits = _float_array("ref_logits", self.ref_logits, (P, H, Z, V), 4)
        set_ = object.__setattr__
        set_(self, "next", _frozen(nxt, np.int32))
        set_(self, "accept", _frozen(accept))
        set_(self, "ref_logits", _frozen(logits))
        reach = reachable(self)[:, H]
        bad = np.flatnonzero(~np.any(reach & accept, axis=1))
        if bad.size:
            raise InputError(f"accept: no accepting state is reachable at step H = {H} for "
                             f"prompt {bad[0]}")
        if self.features is not None:
            f = _float_array("features", self.features, None, 2)
            if f.shape[0] != P:
                raise InputError(f"features must have {P} rows (one per prompt), got {f.shape}")
            set_(self, "features", _frozen(f))
        if self.solutions is not None:
            set_(self, "solutions", _frozen(self._checked_solutions()))
        if not isinstance(self.source, Mapping):
            raise InputError(f"source must be a mapping, got {self.source!r}")
        set_(self, "source", dict(self.source))

    def _checked_solutions(self) -> np.ndarray:
        P, H, _, V = self.shape
        sol = _int_array("solutions", self.solutions, 3)
        if sol.shape[0] != P or sol.shape[2] != H:
            raise InputError(f"solutions must have shape ({P}, m, {H}), got {sol.shape}")
        pad = sol == -1
        if np.any((sol < -1) | (sol >= V)):
            raise InputError(f"solutions must hold tokens in [0, {V}) or -1 (padding)")
        partial = np.flatnonzero((pad.any(axis=2) & ~pad.all(axis=2)).reshape(-1))
        if partial.size:
            p, i = divmod(int(partial[0]), sol.shape[1])
            raise InputError(f"solutions[{p}, {i}] mixes tokens and padding (-1): a row is "
                             "all tokens or all -1")
        sol = sol.astype(_token_dtype(V))
        listed = ~pad[:, :, 0]
        ends = _walk(self.next, sol)
        wrong = np.argwhere(listed & ~np.take_along_axis(self.accept, ends, axis=1))
        if wrong.size:
            p, i = wrong[0]
            raise InputError(f"solutions[{p}, {i}] is not accepted by the automaton")
        return sol

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(P, H, Z, V): prompts, horizon, states per step, vocabulary."""
        return tuple(int(n) for n in self.next.shape)  # type: ignore[return-value]

    @property
    def n_prompts(self) -> int:
        """P, the number of prompts (``shape[0]``)."""
        return self.shape[0]

    @property
    def horizon(self) -> int:
        """H, the tokens of a response (``shape[1]``)."""
        return self.shape[1]

    @property
    def n_states(self) -> int:
        """Z, the automaton's states per step (``shape[2]``)."""
        return self.shape[2]

    @property
    def vocab(self) -> int:
        """V, the vocabulary's size (``shape[3]``)."""
        return self.shape[3]

    def n_solutions(self) -> np.ndarray:
        """int64[P]: the number of listed solutions of each prompt (zeros without a list)."""
        if self.solutions is None:
            return np.zeros(self.n_prompts, dtype=np.int64)
        return np.sum(self.solutions[:, :, 0] >= 0, axis=1).astype(np.int64)


def _walk(nxt: np.ndarray, tokens: np.ndarray, prompts: np.ndarray | None = None) -> np.ndarray:
    """Final states [len(prompts), n] of the responses ``tokens`` [len(prompts), n, H]; padding
    (-1) is read as token 0."""
    rows = np.arange(nxt.shape[0]) if prompts is None else prompts
    pp = rows[:, None]
    z = np.zeros(tokens.shape[:2], dtype=np.int64)
    for h in range(tokens.shape[2]):
        z = nxt[pp, h, z, np.maximum(tokens[:, :, h], 0)]
    return z


def reachable(task: Task) -> np.ndarray:
    """bool[P, H + 1, Z]: the states reachable at each step by some response."""
    P, H, Z, V = task.shape
    reach = np.zeros((P, H + 1, Z), dtype=bool)
    reach[:, 0, 0] = True
    pp = np.broadcast_to(np.arange(P)[:, None, None], (P, Z, V))
    for h in range(H):
        mask = np.broadcast_to(reach[:, h, :, None], (P, Z, V))
        reach[pp[mask], h + 1, task.next[:, h][mask]] = True
    return reach


# ---------------------------------------------------------------------------------------------
# policies
# ---------------------------------------------------------------------------------------------


def softmax_policy(logits: np.ndarray) -> np.ndarray:
    """The policy softmax(logits) over the last axis (rows sum to one), float64, C-contiguous."""
    x = np.asarray(logits, dtype=np.float64)
    x = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(x)
    return np.ascontiguousarray(e / e.sum(axis=-1, keepdims=True))


def reference_policy(task: Task) -> np.ndarray:
    """pi_ref = softmax(ref_logits), float64[P, H, Z, V]."""
    return softmax_policy(task.ref_logits)


def _policy(task: Task, pi: Any, name: str = "pi") -> np.ndarray:
    """``pi`` checked as a policy of ``task``: shape (P, H, Z, V), finite, >= 0, rows summing
    to one within :data:`ROW_TOLERANCE`."""
    arr = np.asarray(pi)
    if arr.shape != task.shape:
        raise InputError(f"{name} must have shape {task.shape} (P, H, Z, V), got {arr.shape}")
    arr = _float_array(name, arr, task.shape, 4)
    if np.any(arr < 0.0):
        raise InputError(f"{name} must be >= 0 (a probability array)")
    err = np.max(np.abs(arr.sum(axis=-1) - 1.0))
    if err > ROW_TOLERANCE:
        raise InputError(f"{name}: every row pi[p, h, z, :] must sum to 1 (off by {err:.3g})")
    return arr


def low_temperature_policy(ref: np.ndarray, alpha: float = 4.0) -> np.ndarray:
    """The token-level power pi(v | h, z) = pi_ref(v | h, z)^alpha / sum_u pi_ref(u | h, z)^alpha
    (sampling at temperature 1 / alpha), which is not the power distribution of whole
    responses (:func:`power_policy`)."""
    alpha = as_float("alpha", alpha, minimum=0.0, strict_min=True)
    ref = np.asarray(ref, dtype=np.float64)
    if ref.ndim != 4:
        raise InputError(f"ref must have shape (P, H, Z, V), got {ref.shape}")
    with np.errstate(divide="ignore"):
        return softmax_policy(alpha * np.log(ref))


# ---------------------------------------------------------------------------------------------
# exact quantities
# ---------------------------------------------------------------------------------------------


def occupancy(task: Task, pi: np.ndarray) -> np.ndarray:
    """d[p, h, z] = Pr_pi(z_h = z | p) for h = 0 .. H, float64[P, H + 1, Z]:
    d_0 = e_0, d_{h+1}(z') = sum_{z, v: next(z, v) = z'} d_h(z) pi(v | h, z)."""
    from ._reasoning_kernels import occupancy as kernel

    pi = _policy(task, pi)
    P, H, Z, _ = task.shape
    d = np.zeros((P, H + 1, Z))
    kernel(task.next, pi, d)
    return d


def p_correct(task: Task, pi: np.ndarray) -> np.ndarray:
    """float64[P]: Pr_pi(response correct | p) = sum_z d_H(z) accept(z), the pass@1."""
    d = occupancy(task, pi)
    return np.sum(d[:, -1] * task.accept, axis=1)


def pass_at_k(p: np.ndarray | float, k: np.ndarray | int) -> np.ndarray:
    """pass@k = 1 - (1 - p)^k for independent draws, as -expm1(k log1p(-p)) (accurate for tiny
    p and k up to 10^6 and beyond).

    Parameters
    ----------
    p : array of float in [0, 1]
        Probabilities of a correct response (e.g. :func:`p_correct`).
    k : int or array of int >= 1

    Returns
    -------
    float64 array of shape ``p.shape + k.shape``.
    """
    p = np.asarray(p, dtype=np.float64)
    k = np.asarray(k)
    if k.dtype.kind not in "iu" or np.any(k < 1):
        raise InputError("k must hold integers >= 1")
    if not np.all((p >= 0.0) & (p <= 1.0)):
        raise InputError("p must hold probabilities in [0, 1]")
    with np.errstate(divide="ignore"):
        log_miss = np.log1p(-p)
    return -np.expm1(np.multiply.outer(log_miss, k.astype(np.float64))) + 0.0


def _unbiased(n: int, c: int, k: int) -> float:
    if n - c < k:
        return 1.0
    i = np.arange(n - c + 1, n + 1, dtype=np.float64)
    return float(-np.expm1(np.sum(np.log1p(-k / i)))) + 0.0


def pass_at_k_unbiased(n: int, c: np.ndarray | int, k: int) -> np.ndarray:
    """The unbiased estimator of pass@k from n samples of which c are correct (Chen et al.
    2021): 1 - C(n - c, k) / C(n, k) = 1 - prod_{i = n - c + 1}^{n} (1 - k / i), the product
    summed in log space; 1 when n - c < k.

    ``c`` may be an array (one count per prompt); the result has its shape.
    """
    n = as_int("n", n, minimum=1)
    k = as_int("k", k, minimum=1, maximum=n)
    c_arr = np.asarray(c)
    if c_arr.dtype.kind not in "iu" or np.any((c_arr < 0) | (c_arr > n)):
        raise InputError(f"c must hold integers in [0, n = {n}]")
    out = np.array([_unbiased(n, int(ci), k) for ci in c_arr.reshape(-1)])
    return out.reshape(c_arr.shape)


def _row_terms(pi: np.ndarray, ref: np.ndarray | None) -> np.ndarray:
    """Per row (p, h, z): sum_v pi log(pi / ref) (KL) or -sum_v pi log pi (ref None), with
    0 log 0 = 0 and pi > 0 = ref giving +inf."""
    pos = pi > 0.0
    with np.errstate(divide="ignore"):
        log_pi = np.where(pos, np.log(np.where(pos, pi, 1.0)), 0.0)
        if ref is None:
            return -np.sum(pi * log_pi, axis=-1)
        log_ref = np.log(ref)
    with np.errstate(invalid="ignore"):  # 0 x inf where pi = 0 = ref, discarded by the mask
        terms = np.where(pos, pi * (log_pi - log_ref), 0.0)
    return np.sum(terms, axis=-1)


def _weighted(d: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """sum_h sum_z d_h(z) rows[h, z] per prompt, states of occupancy 0 ignored."""
    d = d[:, :-1]
    return np.sum(np.where(d > 0.0, d * rows, 0.0), axis=(1, 2))


def kl(task: Task, pi: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """float64[P]: KL(pi || ref) of whole responses,
    sum_h sum_z d_h(z) sum_v pi(v | h, z) log(pi(v | h, z) / ref(v | h, z)), d under pi
    (the chain rule of KL; +inf where pi puts mass on a token ref excludes)."""
    pi = _policy(task, pi)
    ref = _policy(task, ref, "ref")
    return _weighted(occupancy(task, pi), _row_terms(pi, ref))


def entropy(task: Task, pi: np.ndarray) -> np.ndarray:
    """float64[P]: the entropy of the response distribution (nats),
    sum_h sum_z d_h(z) H(pi(. | h, z)): a response determines its path, so the chain rule
    applies."""
    pi = _policy(task, pi)
    return _weighted(occupancy(task, pi), _row_terms(pi, None))


def _prompts(task: Task, prompts: Any) -> np.ndarray:
    if prompts is None:
        return np.arange(task.n_prompts, dtype=np.int64)
    arr = np.asarray(prompts)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise InputError("prompts must be a 1-d array of prompt indices")
    if arr.size and (arr.min() < 0 or arr.max() >= task.n_prompts):
        raise InputError(f"prompts must hold indices in [0, {task.n_prompts})")
    return np.ascontiguousarray(arr, dtype=np.int64)


def log_prob(task: Task, pi: np.ndarray, tokens: np.ndarray, prompts: Any = None
             ) -> np.ndarray:
    """float64[len(prompts), n]: log pi(y) = sum_h log pi(y_h | h, z_h) of the responses
    ``tokens[i, j]`` (int [len(prompts), n, H]) to prompts ``prompts[i]`` (default: all);
    padded rows (-1) give NaN."""
    pi = _policy(task, pi)
    rows = _prompts(task, prompts)
    tok = _int_array("tokens", tokens, 3)
    if tok.shape[0] != rows.size or tok.shape[2] != task.horizon:
        raise InputError(f"tokens must have shape ({rows.size}, n, {task.horizon}), got "
                         f"{tok.shape}")
    if np.any((tok < -1) | (tok >= task.vocab)):
        raise InputError(f"tokens must hold tokens in [0, {task.vocab}) or -1 (padding)")
    pp = rows[:, None]
    z = np.zeros(tok.shape[:2], dtype=np.int64)
    out = np.zeros(tok.shape[:2])
    with np.errstate(divide="ignore"):
        for h in range(task.horizon):
            v = np.maximum(tok[:, :, h], 0)
            out += np.log(pi[pp, h, z, v])
            z = task.next[pp, h, z, v]
    out[tok[:, :, 0] < 0] = np.nan
    return out


class Coverage(NamedTuple):
    """What :func:`coverage` returns.

    Attributes
    ----------
    count : int64[P]
        Listed solutions of probability >= tau.
    share : float64[P]
        count / number listed (NaN for a prompt that lists none).
    log_probs : float64[P, m]
        log pi(y) of every listed solution (NaN for padding).
    """

    count: np.ndarray
    share: np.ndarray
    log_probs: np.ndarray


def coverage(task: Task, pi: np.ndarray, tau: float = DEFAULT_TAU) -> Coverage:
    """Per prompt, how many of the listed solutions y have pi(y) >= tau (absolute; default
    :data:`DEFAULT_TAU` = 1e-6), and their share of the listed ones."""
    if task.solutions is None:
        raise InputError(f"task {task.name!r} lists no solutions: coverage needs them")
    tau = as_float("tau", tau, minimum=0.0, maximum=1.0, strict_min=True)
    lp = log_prob(task, pi, task.solutions)
    count = np.sum(lp >= math.log(tau), axis=1).astype(np.int64)
    listed = task.n_solutions()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(listed > 0, count / np.maximum(listed, 1), np.nan)
    return Coverage(count, share, lp)


# ---------------------------------------------------------------------------------------------
# soft backward induction: the KL-regularised optimum and the power distribution
# ---------------------------------------------------------------------------------------------


def soft_backward_induction(task: Task, log_a: np.ndarray, log_terminal: np.ndarray
                            ) -> tuple[np.ndarray, np.ndarray]:
    """The Markov policy of the distribution over responses proportional to
    prod_h a(y_h | h, z_h) W_H(z_H), by soft backward induction in log space.

    log W_h(z) = logsumexp_v (log a(v | h, z) + log W_{h+1}(next(z, v))),
    pi(v | h, z) = a(v | h, z) W_{h+1}(next(z, v)) / W_h(z).

    Parameters
    ----------
    log_a : float64[P, H, Z, V]
        Log weights of the tokens (-inf allowed, NaN and +inf not).
    log_terminal : float64[P, Z]
        log W_H(z) (-inf allowed).

    Returns
    -------
    policy : float64[P, H, Z, V]
        A state with W_h(z) = 0 gets the uniform row.
    log_w : float64[P, H + 1, Z]
        log W_h(z); log W_0(0) is the log normaliser of the response distribution.
    """
    from ._reasoning_kernels import soft_backward

    P, H, Z, V = task.shape
    log_a = np.ascontiguousarray(log_a, dtype=np.float64)
    log_terminal = np.ascontiguousarray(log_terminal, dtype=np.float64)
    if log_a.shape != task.shape:
        raise InputError(f"log_a must have shape {task.shape}, got {log_a.shape}")
    if log_terminal.shape != (P, Z):
        raise InputError(f"log_terminal must have shape {(P, Z)}, got {log_terminal.shape}")
    for name, arr in (("log_a", log_a), ("log_terminal", log_terminal)):
        if np.any(np.isnan(arr) | (arr == np.inf)):
            raise InputError(f"{name} must not hold NaN or +inf")
    policy = np.empty(task.shape)
    log_w = np.empty((P, H + 1, Z))
    soft_backward(task.next, log_a, log_terminal, log_w, policy)
    return policy, log_w


def _log(ref: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(ref)


def kl_optimum(task: Task, ref: np.ndarray, reward: np.ndarray | None = None, beta: float = 1.0
               ) -> np.ndarray:
    """The maximiser of E_pi[r(z_H)] - beta KL(pi || ref) over response distributions,
    pi*(y) = ref(y) exp(r(z_H(y)) / beta) / Z, as a Markov policy (soft backward induction with
    a = ref and W_H(z) = exp(r(z) / beta)).

    Parameters
    ----------
    ref : float64[P, H, Z, V]
        The reference policy.
    reward : float64[P, Z] or None
        Terminal reward r(z) of the final state; None: the verifier, accept as 0 / 1. A fitted
        model of the verifier goes here.
    beta : float > 0
    """
    ref = _policy(task, ref, "ref")
    beta = as_float("beta", beta, minimum=0.0, strict_min=True)
    P, _, Z, _ = task.shape
    r = task.accept.astype(np.float64) if reward is None else _float_array(
        "reward", reward, (P, Z), 2)
    return soft_backward_induction(task, _log(ref), r / beta)[0]


def power_policy(task: Task, ref: np.ndarray, alpha: float = 4.0) -> np.ndarray:
    """The power distribution pi(y) = ref(y)^alpha / sum_y' ref(y')^alpha over whole responses
    (Karan and Du 2025), exactly, as a Markov policy (soft backward induction with
    a = ref^alpha and W_H = 1)."""
    ref = _policy(task, ref, "ref")
    alpha = as_float("alpha", alpha, minimum=0.0, strict_min=True)
    P, _, Z, _ = task.shape
    return soft_backward_induction(task, alpha * _log(ref), np.zeros((P, Z)))[0]


# ---------------------------------------------------------------------------------------------
# sampling
# ---------------------------------------------------------------------------------------------


class Samples(NamedTuple):
    """Responses drawn by :func:`sample_responses`.

    Attributes
    ----------
    tokens : int8 or int16 [len(prompts), n, H]
    states : int32[len(prompts), n]
        Final states z_H.
    correct : bool[len(prompts), n]
        The verifier's verdicts.
    """

    tokens: np.ndarray
    states: np.ndarray
    correct: np.ndarray


class MHSamples(NamedTuple):
    """Responses of :func:`mh_power_sample`: :class:`Samples`' fields plus the cost.

    Attributes
    ----------
    tokens, states, correct
        As in :class:`Samples`.
    cost : int64[len(prompts), n]
        Tokens drawn from the proposal by each chain (kept or rejected).
    accepted : int64[len(prompts), n]
        Accepted Metropolis-Hastings moves of each chain.
    """

    tokens: np.ndarray
    states: np.ndarray
    correct: np.ndarray
    cost: np.ndarray
    accepted: np.ndarray


def _outputs(task: Task, rows: np.ndarray, n: int, extra: int, what: str
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dtype = _token_dtype(task.vocab)
    shape = (rows.size, n)
    per = task.horizon * np.dtype(dtype).itemsize + 4 + 1 + extra
    memory.check(float(rows.size) * n * per, what)
    return (np.empty((*shape, task.horizon), dtype=dtype), np.empty(shape, dtype=np.int32),
            np.empty(shape, dtype=np.bool_))


def _key(seed: int, run: int) -> np.uint64:
    from tracking.rng import run_seeds

    seed = as_int("seed", seed, minimum=0)
    run = as_int("run", run, minimum=0)
    return run_seeds(seed, 1, start=run)[0]


def sample_responses(task: Task, pi: np.ndarray, prompts: Any = None, n: int = 1,
                     seed: int = 0, run: int = 0) -> Samples:
    """Draw n responses per prompt from the policy pi.

    Response j of prompt p reads the counter-based stream (word, p, j), ``word`` the seed of
    run ``run`` under ``seed`` (:func:`tracking.rng.run_seeds`), and its token at step h the
    h-th uniform of it, by inverse CDF: common random numbers across policies and prompt
    subsets, and the same draws whatever NUMBA_NUM_THREADS is.

    Parameters
    ----------
    prompts : 1-d int array or None
        Prompt indices (repeats allowed); None: every prompt.
    n : int >= 1
        Responses per prompt.
    seed, run : int >= 0
    """
    from ._reasoning_kernels import sample

    pi = _policy(task, pi)
    rows = _prompts(task, prompts)
    n = as_int("n", n, minimum=1)
    key = _key(seed, run)
    tokens, states, correct = _outputs(task, rows, n, 0, f"{rows.size} x {n} responses")
    sample(task.next, pi, task.accept, rows, key, tokens, states, correct)
    return Samples(tokens, states, correct)


def mh_power_sample(task: Task, ref: np.ndarray, alpha: float = 4.0, prompts: Any = None,
                    n: int = 1, seed: int = 0, run: int = 0, n_mcmc: int = 10,
                    block: int | None = None, proposal: np.ndarray | None = None
                    ) -> MHSamples:
    """The Metropolis-Hastings power sampler (Karan and Du 2025, Algorithm 1), one chain per
    response, targeting ref(y)^alpha.

    The response grows by blocks of ``block`` tokens drawn from ``proposal``; after each block
    (prefix length t), ``n_mcmc`` moves each pick idx uniform in 0 .. t - 1, redraw the suffix
    x[idx:t] from the proposal and accept it with probability
    min(1, [ref(x')^alpha q(x_suffix | prefix)] / [ref(x)^alpha q(x'_suffix | prefix)]),
    the target on a prefix being the product of its token factors ref(x_h | h, z_h)^alpha.

    Parameters
    ----------
    ref : float64[P, H, Z, V]
        The reference policy.
    alpha : float > 0
        The power (4 in Karan and Du's experiments).
    n_mcmc : int >= 0
        Moves per block (10 in Karan and Du).
    block : int >= 1 or None
        Tokens per block; None: ceil(H / 16), Karan and Du's 16 blocks when H allows.
    proposal : float64[P, H, Z, V] or None
        The proposal policy; None: :func:`low_temperature_policy` (ref, alpha), theirs.
    prompts, n, seed, run
        As in :func:`sample_responses` (stream salt of its own, per (p, j), sequential).
    """
    from ._reasoning_kernels import mh_power

    ref = _policy(task, ref, "ref")
    alpha = as_float("alpha", alpha, minimum=0.0, strict_min=True)
    H = task.horizon
    block = -(-H // 16) if block is None else as_int("block", block, minimum=1, maximum=H)
    n_mcmc = as_int("n_mcmc", n_mcmc, minimum=0)
    q = low_temperature_policy(ref, alpha) if proposal is None else _policy(task, proposal,
                                                                            "proposal")
    rows = _prompts(task, prompts)
    n = as_int("n", n, minimum=1)
    key = _key(seed, run)
    tokens, states, correct = _outputs(task, rows, n, 16, f"{rows.size} x {n} MH chains")
    cost = np.empty((rows.size, n), dtype=np.int64)
    accepted = np.empty((rows.size, n), dtype=np.int64)
    mh_power(task.next, q, _log(q), alpha * _log(ref), task.accept, rows, key, block, n_mcmc,
             tokens, states, correct, cost, accepted)
    return MHSamples(tokens, states, correct, cost, accepted)


# ---------------------------------------------------------------------------------------------
# built-in tasks
# ---------------------------------------------------------------------------------------------


def _difficulty(rng: np.random.Generator, P: int, p_min: float, p_max: float) -> np.ndarray:
    """Target base pass@1 per prompt, log-uniform on [p_min, p_max]."""
    u = rng.random(P)
    return np.exp(math.log(p_min) + u * (math.log(p_max) - math.log(p_min)))


def _check_sizes(n_prompts: int, horizon: int, vocab: int, n_solutions: int, p_min: float,
                 p_max: float, seed: int) -> tuple[int, int, int, int, float, float, int]:
    P = as_int("n_prompts", n_prompts, minimum=1)
    H = as_int("horizon", horizon, minimum=1)
    V = as_int("vocab", vocab, minimum=2, maximum=MAX_VOCAB)
    if H * math.log2(V) > 62:
        raise InputError(f"horizon x log2(vocab) must be <= 62 (prefixes are coded in 64 "
                         f"bits), got {H} x log2({V})")
    m = as_int("n_solutions", n_solutions, minimum=1, maximum=(V - 1) ** H)
    lo = as_float("p_min", p_min, minimum=0.0, maximum=1.0, strict_min=True)
    hi = as_float("p_max", p_max, minimum=lo)
    if hi >= 1.0:
        raise InputError(f"p_max must be < 1, got {hi:g}")
    seed = as_int("seed", seed, minimum=0)
    memory.check(8.0 * P * H * (m + 1) * V * 3, f"a task of {P} prompts x {H} steps x "
                 f"{m + 1} states x {V} tokens")
    return P, H, V, m, lo, hi, seed


def _trie_task(name: str, strings: np.ndarray, target: np.ndarray, V: int,
               features: np.ndarray | None, source: dict[str, Any], m: int | None = None,
               weight: float = 1.0) -> Task:
    """The trie of ``strings`` [P, n, H] (distinct per prompt; no node with all V tokens
    continuing), the first ``m`` of them (default all) the solutions and the others
    distractors, plus a dead state Z - 1 = n. At every node the reference puts q_p on the
    tokens that continue a string, shared in proportion to the weight of the strings below each
    (a solution 1, a distractor ``weight``), and 1 - q_p evenly on the other tokens (uniform
    rows off the trie). A string's probability is q_p^H times its weight over the total weight
    W = m + (n - m) weight, so q_p^H = target_p W / m makes the pass@1 target_p."""
    P, n, H = strings.shape
    m = n if m is None else m
    Z, dead = n + 1, n
    pp = np.arange(P)[:, None]
    w = np.where(np.arange(n) < m, 1.0, weight)
    nxt = np.full((P, H, Z, V), dead, dtype=np.int32)
    count = np.zeros((P, H, Z, V))
    ids = np.zeros((P, n), dtype=np.int64)  # node of each string's prefix at step h
    code = np.zeros((P, n), dtype=np.int64)
    ww = np.broadcast_to(w, (P, n))
    for h in range(H):
        tok = strings[:, :, h].astype(np.int64)
        code = code * V + tok
        order = np.argsort(code, axis=1, kind="stable")
        sorted_code = np.take_along_axis(code, order, axis=1)
        new = np.ones((P, n), dtype=bool)
        new[:, 1:] = sorted_code[:, 1:] != sorted_code[:, :-1]
        child = np.empty_like(ids)
        np.put_along_axis(child, order, np.cumsum(new, axis=1) - 1, axis=1)
        nxt[pp, h, ids, tok] = child
        np.add.at(count, (pp, h, ids, tok), ww)
        ids = child
    accept = np.zeros((P, Z), dtype=bool)
    accept[pp, ids[:, :m]] = True
    total = m + (n - m) * weight
    q = ((target * total / m) ** (1.0 / H))[:, None, None, None]
    node = count.sum(axis=3, keepdims=True)
    cont = count > 0
    off = V - cont.sum(axis=3, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        prob = np.where(cont, q * count / np.maximum(node, 1e-300),
                        (1.0 - q) / np.maximum(off, 1))
    prob = np.where(node > 0, prob, 1.0 / V)
    return Task(name, nxt, accept, np.log(prob), features, strings[:, :m], source)


def _decode(codes: np.ndarray, forbidden: np.ndarray, V: int) -> np.ndarray:
    """Strings [m, H] of the integers ``codes`` written in base V - 1 (most significant digit
    first), digit d at step h read as token d, or d + 1 when d >= forbidden[h]."""
    H = forbidden.shape[0]
    powers = (V - 1) ** np.arange(H - 1, -1, -1, dtype=np.int64)
    digits = (codes[:, None] // powers[None, :]) % (V - 1)
    return digits + (digits >= forbidden[None, :])


def _check_distractors(P: int, H: int, V: int, m: int, hi: float, n_distractors: Any,
                       distractor_weight: Any) -> tuple[int, float]:
    """The distractors' count and weight, checked: m + d strings fit among the (V - 1)^H that
    avoid the excluded tokens, and the reference's mass on the trie stays below 1."""
    d = as_int("n_distractors", n_distractors, minimum=0)
    w = as_float("distractor_weight", distractor_weight, minimum=0.0, strict_min=True)
    n_strings = (V - 1) ** H
    if m + d > n_strings:
        raise InputError(f"n_solutions + n_distractors must be <= (vocab - 1)^horizon = "
                         f"{n_strings}, got {m + d}")
    if hi * (m + d * w) / m >= 1.0:
        raise InputError(f"p_max x (n_solutions + n_distractors x distractor_weight) / "
                         f"n_solutions must be < 1 (the reference's mass on the trie), got "
                         f"{hi * (m + d * w) / m:g}")
    if d:
        memory.check(8.0 * P * H * (m + d + 1) * V * 3, f"a task of {P} prompts x {H} steps "
                     f"x {m + d + 1} states x {V} tokens")
    return d, w


def trie(n_prompts: int = 100, horizon: int = 8, vocab: int = 8, n_solutions: int = 4,
         p_min: float = 1e-4, p_max: float = 0.5, seed: int = 0, n_distractors: int = 0,
         distractor_weight: float = 1.0) -> Task:
    """Tries of random solutions, optionally beside distractors the reference favours.

    Prompt p has m = ``n_solutions`` distinct solutions and d = ``n_distractors`` distinct
    wrong responses (distractors), uniform without replacement among the strings whose token at
    step h is not the prompt's excluded token e_{p,h} (so every trie node leaves a token off
    them). The automaton is the trie of the m + d strings (state ids per level in the order of
    the prefixes; the solutions' leaves accepting) plus the dead state m + d. The reference
    puts q_p on the tokens that continue a string, shared in proportion to the weight of the
    strings below each (a solution 1, a distractor w = ``distractor_weight``), and 1 - q_p
    evenly on the others (uniform rows off the trie). A solution has probability a_p / m and a
    distractor w a_p / m, with q_p^H = a_p (m + d w) / m: the pass@1 a_p is log-uniform on
    [p_min, p_max] across prompts (p_max (m + d w) / m must be < 1). With w > 1 the
    reference's most likely responses are wrong, so sharpening it (power sampling, low
    temperature) moves mass to the distractors.

    Draws, from ``numpy.random.default_rng(SeedSequence(seed))`` in this order: the P uniforms
    of a_p, the excluded tokens integers(0, V, (P, H)), then per prompt
    ``choice((V - 1)^H, m + d, replace=False)``, the solutions' codes then the distractors'.
    """
    P, H, V, m, lo, hi, seed = _check_sizes(n_prompts, horizon, vocab, n_solutions, p_min,
                                            p_max, seed)
    d, w = _check_distractors(P, H, V, m, hi, n_distractors, distractor_weight)
    n_strings = (V - 1) ** H
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    target = _difficulty(rng, P, lo, hi)
    excluded = rng.integers(0, V, size=(P, H))
    strings = np.empty((P, m + d, H), dtype=_token_dtype(V))
    for p in range(P):
        strings[p] = _decode(rng.choice(n_strings, m + d, replace=False), excluded[p], V)
    args = {"n_prompts": P, "horizon": H, "vocab": V, "n_solutions": m, "p_min": lo,
            "p_max": hi, "seed": seed}
    name = f"trie{P}x{H}x{V}x{m}"
    if d:  # the arguments of a task without distractors stay as they were
        args.update(n_distractors=d, distractor_weight=w)
        name += f"d{d}"
    return _trie_task(name, strings, target, V, None, {"task": "trie", "args": args}, m, w)


#: Batches of candidate solutions :func:`shared` draws per prompt before giving up.
SHARED_MAX_BATCHES = 64


def _shared_rule(seed: int, P: int, H: int, V: int, q: int, lo: float, hi: float
                 ) -> tuple[np.random.Generator, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    target = _difficulty(rng, P, lo, hi)
    U = rng.standard_normal((H, V, q))
    F = rng.standard_normal((P, q))
    return rng, target, U, F


def shared(n_prompts: int = 100, horizon: int = 8, vocab: int = 8, n_solutions: int = 4,
           n_features: int = 4, noise: float = 1.0, p_min: float = 1e-4, p_max: float = 0.5,
           seed: int = 0, n_distractors: int = 0, distractor_weight: float = 1.0) -> Task:
    """Tries whose solutions follow a hidden linear rule of the prompts' features.

    Features f_p ~ N(0, I_q) (q = ``n_features``) and a hidden U_h ~ N(0, 1)^{V x q} per step
    give scores s_{p,h} = U_h f_p. A candidate solution takes at step h the token
    argmax_v (s_{p,h,v} + noise eps_{h,v}), eps ~ N(0, 1) fresh per candidate, among the tokens
    other than argmin_v s_{p,h,v} (excluded, as in :func:`trie`); prompt p keeps its first m
    distinct candidates. The automaton and the reference are :func:`trie`'s, with the same
    difficulty law. A policy with logits theta_h f_p (:func:`feature_logits`) can therefore
    represent the rule and carry it to held-out prompts. With d = ``n_distractors`` > 0, each
    prompt also has d wrong responses that ignore the rule: uniform among the strings that
    avoid its excluded tokens, as :func:`trie`'s, and weighted ``distractor_weight`` by the
    reference, so that the automaton's final states no longer tell the correct responses from
    the others.

    Draws, from ``default_rng(SeedSequence(seed))`` in this order: the P uniforms of a_p, U
    (H, V, q), F (P, q), then per prompt batches of standard normals (4 m, H, V) until m
    distinct candidates are found (at most :data:`SHARED_MAX_BATCHES` batches, else ValueError:
    raise ``noise`` or lower ``n_solutions``), then (distractors) per prompt
    ``choice((V - 1)^H, m + d, replace=False)``, decoded as in :func:`trie`, the first d of
    them that are not solutions.
    """
    P, H, V, m, lo, hi, seed = _check_sizes(n_prompts, horizon, vocab, n_solutions, p_min,
                                            p_max, seed)
    q = as_int("n_features", n_features, minimum=1)
    noise = as_float("noise", noise, minimum=0.0)
    d, w = _check_distractors(P, H, V, m, hi, n_distractors, distractor_weight)
    rng, target, U, F = _shared_rule(seed, P, H, V, q, lo, hi)
    scores = np.einsum("hvk,pk->phv", U, F)
    excluded = np.argmin(scores, axis=2)
    powers = V ** np.arange(H - 1, -1, -1, dtype=np.int64)
    sol = np.empty((P, m, H), dtype=_token_dtype(V))
    for p in range(P):
        found: list[np.ndarray] = []
        seen: set[int] = set()
        for _ in range(SHARED_MAX_BATCHES):
            x = scores[p][None] + noise * rng.standard_normal((4 * m, H, V))
            x[:, np.arange(H), excluded[p]] = -np.inf
            cand = np.argmax(x, axis=2)
            for c, row in zip((cand @ powers).tolist(), cand):
                if c not in seen and len(found) < m:
                    seen.add(c)
                    found.append(row)
            if len(found) == m:
                break
        else:
            raise InputError(f"shared: prompt {p} has only {len(found)} distinct solutions "
                             f"after {SHARED_MAX_BATCHES} batches; raise noise or lower "
                             "n_solutions")
        sol[p] = np.array(found)
    args = {"n_prompts": P, "horizon": H, "vocab": V, "n_solutions": m, "n_features": q,
            "noise": noise, "p_min": lo, "p_max": hi, "seed": seed}
    name = f"shared{P}x{H}x{V}x{m}"
    if d == 0:  # the arguments and draws of a task without distractors stay as they were
        return _trie_task(name, sol, target, V, F, {"task": "shared", "args": args})
    strings = np.empty((P, m + d, H), dtype=sol.dtype)
    strings[:, :m] = sol
    n_strings = (V - 1) ** H
    for p in range(P):
        cand = _decode(rng.choice(n_strings, m + d, replace=False), excluded[p], V)
        mine = {row.tobytes() for row in sol[p].astype(np.int64)}
        other = [row for row in cand.astype(np.int64) if row.tobytes() not in mine]
        strings[p, m:] = np.array(other[:d])
    args.update(n_distractors=d, distractor_weight=w)
    return _trie_task(name + f"d{d}", strings, target, V, F, {"task": "shared", "args": args},
                      m, w)


def shared_features(task: Task, p: int, h: int, z: int, v: int) -> np.ndarray:
    """phi(p, h, z, v) = e_h (x) e_v (x) f_p, float64[H V q]: entry (h V + v) q + k is f_p[k],
    the rest 0 (z plays no part). Logits theta . phi are :func:`feature_logits`."""
    if task.features is None:
        raise InputError(f"task {task.name!r} has no features")
    P, H, Z, V = task.shape
    for name, x, size in (("p", p, P), ("h", h, H), ("z", z, Z), ("v", v, V)):
        as_int(name, x, minimum=0, maximum=size - 1)
    q = task.features.shape[1]
    phi = np.zeros(H * V * q)
    start = (h * V + v) * q
    phi[start:start + q] = task.features[p]
    return phi


def feature_logits(task: Task, theta: np.ndarray) -> np.ndarray:
    """logits[p, h, z, v] = theta[h, v] . f_p = theta.ravel() . shared_features(task, p, h, z, v),
    float64[P, H, Z, V], for parameters theta[H, V, q]."""
    if task.features is None:
        raise InputError(f"task {task.name!r} has no features")
    P, H, Z, V = task.shape
    theta = _float_array("theta", theta, (H, V, task.features.shape[1]), 3)
    per_step = np.einsum("hvk,pk->phv", theta, task.features)
    return np.ascontiguousarray(np.broadcast_to(per_step[:, :, None, :], (P, H, Z, V)))


#: Registry of built-in tasks: name -> builder.
TASKS: dict[str, Callable[..., Task]] = {"trie": trie, "shared": shared}


def make_task(name: str, **args: Any) -> Task:
    """Build the registered task ``name`` (:data:`TASKS`) with ``args``; unknown names and
    arguments raise ValueError naming them."""
    if name not in TASKS:
        raise InputError(f"unknown reasoning task {name!r} (known: {', '.join(TASKS)})")
    params = inspect.signature(TASKS[name]).parameters
    for key in args:
        if key not in params:
            raise InputError(f"task {name!r} has no argument {key!r} (arguments: "
                             f"{', '.join(params)})")
    return TASKS[name](**args)


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------

_REQUIRED = ("format_version", "name", "next", "accept", "ref_logits")
_OPTIONAL = ("features", "solutions", "source")


def save_task(task: Task, path: str | Path) -> Path:
    """Write ``task`` to ``path`` (.npz, compressed, no pickle) atomically: the arrays under
    their names, ``format_version`` (:data:`FORMAT_VERSION`), ``name`` and ``source`` (JSON) as
    0-d strings."""
    import io

    from tracking.results import write_atomic

    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise InputError(f"{path.name}: a task file must end in .npz")
    arrays = {"format_version": np.array(FORMAT_VERSION, dtype=np.int64),
              "name": np.array(task.name, dtype=np.str_), "next": task.next,
              "accept": task.accept, "ref_logits": task.ref_logits,
              "source": np.array(json.dumps(task.source, sort_keys=True), dtype=np.str_)}
    for key in ("features", "solutions"):
        if getattr(task, key) is not None:
            arrays[key] = getattr(task, key)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    write_atomic(path, buf.getvalue())
    return path


def _string(arrays: dict[str, np.ndarray], key: str) -> str:
    arr = arrays[key]
    if arr.dtype.kind != "U" or arr.ndim != 0:
        raise InputError(f"{key} must be a 0-d string array")
    return str(arr)


def _read_task(path: Path) -> Task:
    from tracking.results import read_npz

    arrays = read_npz(path)
    for key in _REQUIRED:
        if key not in arrays:
            raise InputError(f"missing array {key!r}")
    extra = sorted(set(arrays) - set(_REQUIRED) - set(_OPTIONAL))
    if extra:
        raise InputError(f"unknown array {extra[0]!r} (allowed: "
                         f"{', '.join(_REQUIRED + _OPTIONAL)})")
    version = arrays["format_version"]
    if version.ndim != 0 or version.dtype.kind not in "iu" or int(version) != FORMAT_VERSION:
        raise InputError(f"format_version must be {FORMAT_VERSION}, got {version!r}")
    source: dict[str, Any] = {}
    if "source" in arrays:
        try:
            source = json.loads(_string(arrays, "source"))
        except json.JSONDecodeError as exc:
            raise InputError(f"source is not valid JSON ({exc.msg})") from None
        if not isinstance(source, dict):
            raise InputError("source must hold a JSON object")
    source["file"] = str(path)
    return Task(_string(arrays, "name"), arrays["next"], arrays["accept"],
                arrays["ref_logits"], arrays.get("features"), arrays.get("solutions"), source)


def load_task(path: str | Path) -> Task:
    """Read a task written by :func:`save_task` (np.load semantics without pickle).

    Any problem -- no such file, not a complete .npz archive, object arrays, a missing or
    unknown array, another format version, an invalid task -- raises ValueError with one line
    starting with the file name.
    """
    from tracking.validate import existing_file

    path = existing_file(path)
    try:
        return _read_task(path)
    except ValueError as exc:
        msg = " ".join(str(exc).split())
        raise InputError(f"{path.name}: {msg}") from None

"""Hooks resolved from a parameter record's type: in jitted loops and on the pure-Python path."""

from typing import NamedTuple

import numpy as np
import pytest

from tracking.dispatch import hook, register
from tracking.jit import njit

step = hook("step", ("params", "state", "t"))
start = hook("start", ("params", "n"))


class Add(NamedTuple):
    c: float


class AddState(NamedTuple):
    total: np.ndarray


class Count(NamedTuple):
    k: int
    odd_only: bool


class CountState(NamedTuple):
    hits: np.ndarray
    scratch: np.ndarray


@njit
def _add_start(params, n):
    return AddState(np.zeros(n))


@njit
def _add_step(params, state, t):
    state.total[t % state.total.shape[0]] += params.c
    return params.c * t


@njit
def _count_start(params, n):
    return CountState(np.zeros(n, dtype=np.int64), np.zeros(2))


@njit
def _count_step(params, state, t):
    if params.odd_only and t % 2 == 0:
        return 0.0
    state.hits[0] += params.k
    return float(state.hits[0])


register(start, Add, _add_start)
register(step, Add, _add_step)
register(start, Count, _count_start)
register(step, Count, _count_step)


@njit
def _loop(params, n, horizon):
    state = start(params, n)
    acc = 0.0
    for t in range(horizon):
        acc += step(params, state, t)
    return acc


def _python_loop(params, n, horizon):
    """The same loop written without hooks, from the definitions above."""
    acc = 0.0
    if isinstance(params, Add):
        return sum(params.c * t for t in range(horizon))
    hits = 0
    for t in range(horizon):
        if params.odd_only and t % 2 == 0:
            continue
        hits += params.k
        acc += hits
    return acc


@pytest.mark.nojit
@pytest.mark.parametrize("params", [Add(1.5), Count(2, True), Count(3, False)])
def test_one_loop_serves_every_record_type(params):
    assert _loop(params, 4, 50) == _python_loop(params, 4, 50)


def test_each_record_type_gets_its_own_compiled_loop():
    _loop(Add(1.0), 3, 5)
    _loop(Count(1, True), 3, 5)
    assert len(_loop.signatures) >= 2


@pytest.mark.nojit
def test_unregistered_record_type_is_refused():
    class Other(NamedTuple):
        x: float

    with pytest.raises(Exception, match="Other|step|No implementation"):
        _loop(Other(1.0), 3, 5)


lean = hook("lean", ("params", "state"), jit_options={"_nrt": False})


@njit(inline="always")
def _add_lean(params, state):
    state.total[0] += params.c
    return state.total[0]


@njit(inline="always")
def _count_lean(params, state):
    return np.zeros(params.k)[0]  # allocates: refused without reference counting


register(lean, Add, _add_lean)
register(lean, Count, _count_lean)


@njit
def _lean_loop(params, n):
    state = start(params, 3)
    acc = 0.0
    for _ in range(n):
        acc += lean(params, state)
    return acc


def test_a_hook_without_reference_counting_runs_and_refuses_allocation():
    assert _lean_loop(Add(0.5), 4) == 0.5 + 1.0 + 1.5 + 2.0
    with pytest.raises(Exception, match="zeros"):
        _lean_loop(Count(2, False), 4)

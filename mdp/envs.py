"""Built-in tabular environments, each a function returning a :class:`FiniteMDP`.

``ENVS`` maps registry names (used by the CLI and in configurations) to builders, and
:func:`make` builds one from a name and arguments, which may be strings (``n_states=10``).
Every model remembers how it was built in ``m.source = {"env": name, "args": {...}}``, so
``make(**m.config())``-style round trips rebuild it. Sources are given in each docstring and in
docs/solvers.md.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tracking import memory
from tracking.specs import is_import_path, resolve_callable
from tracking.validate import InputError, as_float, as_int, coerce

from .model import FiniteMDP

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

LEFT, RIGHT = 0, 1


def _tag(m: FiniteMDP, env: str, args: dict[str, Any]) -> FiniteMDP:
    m.source = {"env": env, "args": {k: v for k, v in args.items() if v is not None}}
    return m


# ---------------------------------------------------------------------------------------------
# chains
# ---------------------------------------------------------------------------------------------


def riverswim(n_states: int = 6) -> FiniteMDP:
    """RiverSwim (Strehl and Littman 2008; the variant of Osband, Russo and Van Roy 2013).

    States ``0 .. n_states - 1`` along a river, start in state 0; action 0 swims left (with
    the current), action 1 right (against it).

    * left: to ``max(s - 1, 0)`` with probability 1;
    * right, in state 0: stay 0.4, right 0.6; in a middle state: left 0.05, stay 0.6,
      right 0.35; in the last state: left 0.4, stay 0.6.

    Rewards: ``R[0, left] = 0.005``, ``R[last, right] = 1``, all others 0.
    """
    n = as_int("n_states", n_states, 2)
    P = np.zeros((n, 2, n))
    R = np.zeros((n, 2))
    for s in range(n):
        P[s, LEFT, max(s - 1, 0)] = 1.0
    P[0, RIGHT, 0] = 0.4
    P[0, RIGHT, 1] = 0.6
    for s in range(1, n - 1):
        P[s, RIGHT, s - 1] = 0.05
        P[s, RIGHT, s] = 0.6
        P[s, RIGHT, s + 1] = 0.35
    P[n - 1, RIGHT, n - 2] = 0.4
    P[n - 1, RIGHT, n - 1] = 0.6
    R[0, LEFT] = 0.005
    R[n - 1, RIGHT] = 1.0
    return _tag(FiniteMDP(P, R, name=f"riverswim{n}"), "riverswim", {"n_states": n})


def chain(n: int = 10) -> FiniteMDP:
    """The deterministic chain of Osband, Blundell, Pritzel and Van Roy (2016), "Deep
    exploration via bootstrapped DQN", fig. 3.

    States ``0 .. n-1``; action 0 moves left, action 1 right, deterministically, clipped at
    the ends. Taking left in state 0 pays 0.001, taking right in state ``n - 1`` pays 1, all
    else 0. The start is state 1, the second from the left, as in the paper (whose states
    are numbered from 1 and start in s_2); for ``n = 2`` state 1 is the rewarding end itself.
    """
    size = as_int("n", n, 2)
    P = np.zeros((size, 2, size))
    R = np.zeros((size, 2))
    for s in range(size):
        P[s, LEFT, max(s - 1, 0)] = 1.0
        P[s, RIGHT, min(s + 1, size - 1)] = 1.0
    R[0, LEFT] = 0.001
    R[size - 1, RIGHT] = 1.0
    initial = np.zeros(size)
    initial[1] = 1.0
    return _tag(FiniteMDP(P, R, initial=initial, name=f"chain{size}"), "chain", {"n": size})


def deep_sea(n: int = 10, seed: int | None = None) -> FiniteMDP:
    """bsuite's Deep Sea (Osband et al. 2019, "Behaviour Suite for Reinforcement Learning";
    deterministic version).

    An ``n x n`` grid; cell (row r, column c) is state ``r * n + c`` and state ``n * n`` is an
    absorbing, zero-reward end state (``n * n + 1`` states). The start is the top-left cell,
    state 0. Every step goes one row down: "right" moves to column ``min(c + 1, n - 1)`` and
    costs 0.01 / n; "left" moves to ``max(c - 1, 0)`` for free. Going right from the
    bottom-right cell pays 1 (minus the move cost). From the last row every action leads to the
    end state, so an episode lasts n steps and the optimal return is 0.99.

    bsuite draws, per cell, which action index means "right". With ``seed=None`` action 1 is
    right everywhere; with a seed the right action of cell (r, c) is
    ``numpy.random.default_rng(seed).integers(0, 2, size=(n, n))[r, c]``.
    """
    size = as_int("n", n, 1)
    if seed is None:
        right_action = np.ones((size, size), dtype=np.int64)
    else:
        seed = as_int("seed", seed, 0)
        right_action = np.random.default_rng(seed).integers(0, 2, size=(size, size))
    end = size * size
    S = end + 1
    P = np.zeros((S, 2, S))
    R = np.zeros((S, 2))
    cost = 0.01 / size
    for r in range(size):
        for c in range(size):
            s = r * size + c
            for a in range(2):
                right = a == right_action[r, c]
                col = min(c + 1, size - 1) if right else max(c - 1, 0)
                P[s, a, end if r == size - 1 else (r + 1) * size + col] = 1.0
                if right:
                    R[s, a] = -cost + (1.0 if c == size - 1 else 0.0)
    P[end, :, end] = 1.0
    return _tag(FiniteMDP(P, R, name=f"deep-sea{size}"), "deep-sea", {"n": size, "seed": seed})


def _li_levels_ok(gamma: float, p: float, n: int) -> np.ndarray:
    """For s = 1 .. n: whether a1 is strictly optimal in s and in s-bar (see :func:`li_chain`).

    With V*(s) = gamma^(2s): a1 beats a0 in s-bar iff ``gamma^(2s+1) > gamma tau_s``, and in a
    primary s >= 3 iff ``gamma^(2s) > r_s + p max(gamma^(2s-2), gamma^2 tau_(s-2))`` (a2's and
    a0's values). Both sides decay in s, the left faster: the levels that pass are 1 .. H_max.
    """
    s = np.arange(1, n + 1, dtype=np.float64)
    tau = 0.5 * gamma ** (2 * s / 3)
    adjoint = gamma ** (2 * s) > tau
    tau_below = 0.5 * gamma ** (2 * (s - 2) / 3)
    trap = 0.5 * gamma ** (2 * s / 3 + 5 / 6) + p * np.maximum(gamma ** (2 * s - 2),
                                                                gamma**2 * tau_below)
    primary = (gamma ** (2 * s) > trap) | (s <= 2)  # buffers: +gamma^(2s) against -gamma^(2s)
    return adjoint & primary


def li_chain_max_levels(gamma: float, p: float | None = None) -> int:
    """The largest ``H`` for which :func:`li_chain` keeps a1 optimal in every state (about
    ``0.52 / (1 - gamma)``: the paper's ``H = c_h / (1 - gamma)``), at most 10^6; 0 if none."""
    g = as_float("gamma", gamma, 0.0, strict_min=True)
    if g >= 1.0:
        raise InputError(f"gamma must be in (0, 1), got {g:g}")
    q = 1.0 - g if p is None else as_float("p", p, 0.0, 1.0, strict_min=True)
    n = int(min(np.ceil(2.0 / (1.0 - g)) + 3, 10**6))
    ok = _li_levels_ok(g, q, n)
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if bad.size else n


def li_chain(H: int | None = None, gamma: float = 0.95, p: float | None = None) -> FiniteMDP:
    """The chain of Li, Wei, Chi, Gu and Chen (2021), "Softmax policy gradient methods can take
    exponential time to converge" (COLT 2021; Mathematical Programming 201, 2023; arXiv
    2102.11270): the hard MDP of their lower bound, with its primary, adjoint, buffer and
    absorbing states, without the booster states.

    ``2H + 1`` states: the absorbing state 0 (number 0), and for each level s = 1 .. H a
    primary state s (number ``2s - 1``) and an adjoint state s-bar (number ``2s``). Three
    actions a0, a1, a2 (0, 1, 2). With ``tau_s = 0.5 gamma^(2s/3)`` (the paper's thresholds),
    ``r_s = 0.5 gamma^(2s/3 + 5/6)`` and ``p`` (the paper's ``c_p (1 - gamma)``; default
    ``1 - gamma``), every transition that ends the episode goes to state 0 (reward 0 there):

    * buffer states s = 1, 2: a1 pays ``gamma^(2s)``, a0 and a2 pay ``-gamma^(2s)``; all end;
    * primary states s >= 3: a0 pays ``r_s + gamma^2 p tau_(s-2)`` and ends; a1 pays 0 and
      moves to (s-1)-bar; a2 pays ``r_s``, then moves to (s-2)-bar with probability p, else ends;
    * adjoint states s-bar: a1 pays 0 and moves to s; a0 and a2 pay ``gamma tau_s`` and end.

    The start distribution is uniform over all ``2H + 1`` states, as in the paper (with the
    uniform initial policy ``theta = 0``). The MDP depends on ``gamma``: solve and run policy
    gradient with the same discount. Then a1 is optimal in every state,
    ``V*(s) = gamma^(2s)`` and ``V*(s-bar) = gamma^(2s+1)``, provided H is at most
    :func:`li_chain_max_levels` (about ``0.52 / (1 - gamma)``; 4 for gamma = 0.9, 9 for 0.95),
    which is checked (ValueError); ``H=None`` takes that largest H. The trap: a0 (and a2) pay at
    once, a1 pays only once the states below have learned, so softmax PG first pushes a1 down
    in every primary state and must then climb back, level after level; with exact gradients the
    number of iterations grows geometrically with H (by about 1.5x per level at gamma = 0.95).

    How this relates to the paper. Taken from it: the state classes, the three actions and
    which states they lead to (a1 from s to (s-1)-bar and from s-bar back to s; a2 to
    (s-2)-bar with probability p; a0 ends), ``tau_s``, ``r_s``, ``p = c_p (1 - gamma)``, the
    buffer rewards ``+-gamma^(2s)``, the optimal values above and the uniform start. Simplified
    here, so that small chains exist: each buffer set S1, S2 is one state (the paper uses
    ``c_b (1 - gamma) |S|`` of them to shape the visitation), the booster sets (which only
    lift one slow state to a slow average) are left out, the states the paper gives two
    actions have a third one equal to a0, and ``c_p = 1``. Our reconstruction, not read from the
    paper's tables: the adjoint's a0 reward ``gamma tau_s`` and the split of the primary
    rewards between a0 and a2 (chosen so that a2 overtakes a0 in s when ``V(s-2)`` crosses
    ``tau_(s-2)``, and a1 overtakes a0 in s-bar when ``V(s)`` crosses ``tau_s``, the paper's
    crossing times). The paper's bound, ``(1/eta) |S|^(2^Omega(1/(1-gamma)))`` iterations for
    gamma > 0.96, needs ``|S| >= c (1 - gamma)^-6`` states; these small chains show the
    mechanism (geometric growth in H), not the constants.
    """
    g = as_float("gamma", gamma, 0.0, strict_min=True)
    if g >= 1.0:
        raise InputError(f"gamma must be in (0, 1), got {g:g}")
    q = 1.0 - g if p is None else as_float("p", p, 0.0, 1.0, strict_min=True)
    h_max = li_chain_max_levels(g, q)
    if H is None:
        levels = h_max
        if levels < 3:
            raise InputError(f"li_chain needs gamma large enough for H >= 3 levels (gamma = "
                             f"{g:g} allows H <= {h_max})")
    else:
        levels = as_int("H", H, 3)
        if levels > h_max:
            raise InputError(f"H must be <= {h_max} for gamma = {g:g}, p = {q:g} (about "
                             f"0.52 / (1 - gamma); beyond it a1 is no longer optimal), got "
                             f"{levels}")
    # successor lists (row s * 3 + a), built sparse: a long chain stays small
    S = 2 * levels + 1
    R = np.zeros((S, 3))
    end = [(0, 1.0)]
    rows: list[list[tuple[int, float]]] = [end] * 3  # state 0 is absorbing
    for s in range(1, levels + 1):
        tau_s = 0.5 * g ** (2 * s / 3)
        r_s = 0.5 * g ** (2 * s / 3 + 5 / 6)
        i, bar = 2 * s - 1, 2 * s
        if s <= 2:  # buffer: a0, a1, a2 all end
            rows += [end] * 3
            R[i] = [-(g ** (2 * s)), g ** (2 * s), -(g ** (2 * s))]
        else:
            a2 = [(0, 1.0 - q), (2 * (s - 2), q)] if q < 1.0 else [(2 * (s - 2), 1.0)]
            rows += [end, [(2 * (s - 1), 1.0)], a2]
            R[i] = [r_s + g**2 * q * 0.5 * g ** (2 * (s - 2) / 3), 0.0, r_s]
        rows += [end, [(i, 1.0)], end]  # adjoint: a1 back to s, a0 and a2 end
        R[bar] = [g * tau_s, 0.0, g * tau_s]
    indptr = np.zeros(3 * S + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=indptr[1:])
    indices = np.array([c for r in rows for c, _ in r], dtype=np.int64)
    probs = np.array([x for r in rows for _, x in r])
    m = FiniteMDP.from_successors(indptr, indices, probs, R, initial=np.full(S, 1.0 / S),
                                  name=f"li-chain{levels}")
    return _tag(m, "li-chain", {"H": levels, "gamma": g, "p": None if p is None else q})


# ---------------------------------------------------------------------------------------------
# FrozenLake grid worlds and Gymnasium's toy_text environments
# ---------------------------------------------------------------------------------------------

#: FrozenLake's maps, copied from Gymnasium's envs/toy_text/frozen_lake.py (MAPS).
MAPS = {
    "4x4": ["SFFF", "FHFH", "FFFH", "HFFG"],
    "8x8": [
        "SFFFFFFF",
        "FFFFFFFF",
        "FFFHFFFF",
        "FFFFFHFF",
        "FFFHFFFF",
        "FHHFFFHF",
        "FHFFHFHF",
        "FFFHFFFG",
    ],
}

# FrozenLake's actions
_GRID_MOVES = ((0, -1), (1, 0), (0, 1), (-1, 0))  # 0 left, 1 down, 2 right, 3 up


def _from_transition_lists(table: Any, n_states: int, n_actions: int,
                           initial: ArrayLike | None, name: str) -> FiniteMDP:
    """A FiniteMDP from Gymnasium-style lists ``table[s][a] = [(p, s', r, terminated), ...]``.

    ``R[s, a] = sum p r``; terminated transitions go to one extra absorbing zero-reward state,
    number ``n_states``; duplicate successors are summed.
    """
    end = n_states
    S = n_states + 1
    R = np.zeros((S, n_actions))
    indptr = np.zeros(S * n_actions + 1, dtype=np.int64)
    indices: list[int] = []
    probs: list[float] = []
    for s in range(n_states):
        for a in range(n_actions):
            row: dict[int, float] = {}
            reward = 0.0
            try:
                entries = table[s][a]
                for entry in entries:
                    p, s2, r, terminated = entry
                    p, r = float(p), float(r)
                    s2 = end if terminated else int(s2)
                    if not 0 <= s2 <= end:
                        raise InputError(f"next state {s2} is out of range")
                    row[s2] = row.get(s2, 0.0) + p
                    reward += p * r
            except (KeyError, IndexError, TypeError, ValueError) as exc:
                raise InputError(f"P[{s}][{a}] must be a list of (prob, next_state, reward, "
                                 f"terminated) tuples ({exc})") from None
            R[s, a] = reward
            for s2 in sorted(row):
                indices.append(s2)
                probs.append(row[s2])
            indptr[s * n_actions + a + 1] = len(indices)
    for a in range(n_actions):
        indices.append(end)
        probs.append(1.0)
        indptr[end * n_actions + a + 1] = len(indices)
    init = np.zeros(S)
    if initial is None:
        init[0] = 1.0
    else:
        init[:n_states] = np.asarray(initial, dtype=np.float64)
    return FiniteMDP.from_successors(indptr, np.array(indices, dtype=np.int64),
                                     np.array(probs), R, initial=init, name=name)


def _parse_map(map: str | Sequence[str]) -> list[str]:
    """A map name ("4x4", "8x8"), a list of rows, or one string of rows separated by ``/``,
    ``,``, ``;`` or spaces, as a validated list of rows."""
    if isinstance(map, str):
        if map in MAPS:
            return list(MAPS[map])
        rows = map.replace("/", " ").replace(",", " ").replace(";", " ").split()
    elif isinstance(map, Sequence):
        rows = list(map)
    else:
        raise InputError(f"map must be '4x4', '8x8' or a list of rows, got {map!r}")
    if not rows or not all(isinstance(r, str) and r for r in rows):
        raise InputError(f"map must be '4x4', '8x8' or non-empty rows of S/F/H/G, got {map!r}")
    if len({len(r) for r in rows}) != 1:
        raise InputError(f"map rows must all have the same length, got {[len(r) for r in rows]}")
    bad = sorted(set("".join(rows)) - set("SFHG"))
    if bad:
        raise InputError(f"map may hold only the letters S, F, H, G, got {bad[0]!r}")
    if "S" not in "".join(rows):
        raise InputError("map needs at least one start cell 'S'")
    return rows


def gridworld(map: str | Sequence[str] = "8x8", slippery: bool = True) -> FiniteMDP:
    """FrozenLake (Gymnasium's FrozenLake-v1), built without Gymnasium.

    ``map`` is ``"4x4"`` or ``"8x8"`` (Gymnasium's maps) or a custom map: a list of equal-length
    strings (or one string with rows separated by ``/`` or ``,``) of S (start), F (frozen),
    H (hole), G (goal). Cell (row, col) is state ``row * ncol + col``; the start distribution is
    uniform over the S cells. Actions: 0 left, 1 down, 2 right, 3 up; a move into a wall stays.
    With ``slippery`` the agent moves in the intended direction or in either perpendicular one,
    each with probability 1/3. Entering G pays 1. H and G are terminal.

    Terminal handling is that of :func:`from_gymnasium` (the model is built by the same code
    from Gymnasium-style transition lists): a transition that enters H or G goes to one extra
    absorbing zero-reward state, number ``nrow * ncol``, and the H and G cells themselves lead
    there with reward 0. So the two constructions give identical models.
    """
    rows = _parse_map(map)
    if not isinstance(slippery, (bool, np.bool_)):
        raise InputError(f"slippery must be true or false, got {slippery!r}")
    nrow, ncol = len(rows), len(rows[0])
    n_states = nrow * ncol
    table: list[list[list[tuple[float, int, float, bool]]]] = []
    for r in range(nrow):
        for c in range(ncol):
            cell = rows[r][c]
            s_rows: list[list[tuple[float, int, float, bool]]] = []
            for a in range(4):
                if cell in "GH":
                    s_rows.append([(1.0, r * ncol + c, 0.0, True)])
                    continue
                # Gymnasium's probabilities, bit for bit: success_rate 1/3, (1 - 1/3) / 2 else
                dirs = [(a - 1) % 4, a, (a + 1) % 4] if slippery else [a]
                entries = []
                for b in dirs:
                    p = (1.0 / 3.0 if b == a else (1.0 - 1.0 / 3.0) / 2.0) if slippery else 1.0
                    dr, dc = _GRID_MOVES[b]
                    r2 = min(max(r + dr, 0), nrow - 1)
                    c2 = min(max(c + dc, 0), ncol - 1)
                    letter = rows[r2][c2]
                    entries.append((p, r2 * ncol + c2, float(letter == "G"), letter in "GH"))
                s_rows.append(entries)
            table.append(s_rows)
    start = np.array([ch == "S" for row in rows for ch in row], dtype=np.float64)
    label = map if isinstance(map, str) and map in MAPS else f"{nrow}x{ncol}"
    m = _from_transition_lists(table, n_states, 4, start / start.sum(), f"gridworld{label}")
    args: dict[str, Any] = {"map": map if isinstance(map, str) and map in MAPS else rows,
                            "slippery": bool(slippery)}
    return _tag(m, "gridworld", args)


def from_gymnasium(env: Any, **make_kwargs: Any) -> FiniteMDP:
    """A Gymnasium toy_text environment (FrozenLake-v1, Taxi-v4, CliffWalking-v1, ...) as a
    FiniteMDP.

    ``env`` is an environment whose ``env.unwrapped.P[s][a]`` is a list of
    ``(prob, next_state, reward, terminated)``, or an environment id, then made with
    ``gymnasium.make(env, **make_kwargs)`` (Gymnasium is imported only then: install
    ``celab[gym]``). ``R[s, a]`` is the expected reward ``sum prob * reward``; duplicate
    ``(prob, next_state)`` entries are summed; every terminated transition goes to one extra
    absorbing zero-reward state, number ``nS`` (so the model has ``nS + 1`` states). The start
    distribution is the environment's ``initial_state_distrib`` when it has one, else state 0.
    """
    args: dict[str, Any] = {}
    if isinstance(env, str):
        try:
            import gymnasium
        except ImportError:
            raise InputError("from_gymnasium needs Gymnasium: pip install 'celab[gym]'") from None
        env_id = env
        env = gymnasium.make(env_id, **make_kwargs)
        args = {"id": env_id, **make_kwargs}
    elif make_kwargs:
        raise InputError("make_kwargs are only used with an environment id")
    unwrapped = getattr(env, "unwrapped", env)
    table = getattr(unwrapped, "P", None)
    if table is None:
        raise InputError(f"{type(unwrapped).__name__} has no transition table env.unwrapped.P "
                         "(a Gymnasium toy_text environment is needed)")
    try:
        n_states = len(table)
        n_actions = len(table[0])
    except (TypeError, KeyError, IndexError):
        raise InputError("env.unwrapped.P must map every state to a list of actions") from None
    initial = getattr(unwrapped, "initial_state_distrib", None)
    spec = getattr(env, "spec", None)
    if not args and spec is not None:
        args = {"id": spec.id, **{k: v for k, v in (spec.kwargs or {}).items()
                                  if isinstance(v, (int, float, str, bool))}}
    name = args.get("id", type(unwrapped).__name__)
    m = _from_transition_lists(table, n_states, n_actions, initial, str(name))
    return _tag(m, "gymnasium", args)


# ---------------------------------------------------------------------------------------------
# random MDPs
# ---------------------------------------------------------------------------------------------


def garnet(n_states: int, n_actions: int, branching: int, seed: int = 0) -> FiniteMDP:
    """A Garnet random MDP (Archibald, McKinnon and Thomas 1995; Bhatnagar et al. 2009).

    For every pair (s, a): ``branching`` distinct successors drawn uniformly without
    replacement (Floyd's algorithm), probabilities ``Dirichlet(1, ..., 1)`` on them, reward
    uniform on [0, 1). Start in state 0. The draws come from
    ``numpy.random.default_rng(seed)`` in this order: uniforms (S*A, branching) for the
    successors, standard exponentials (S*A, branching) normalised to the probabilities, then
    the rewards (S, A). Built directly as CSR (``garnet(100000, 4, 10)`` takes well under a
    second and about 150 MB).
    """
    S = as_int("n_states", n_states, 1)
    A = as_int("n_actions", n_actions, 1)
    b = as_int("branching", branching, 1, S)
    seed = as_int("seed", seed, 0)
    memory.check(8.0 * S * A * (2 * b + 2), f"garnet({S}, {A}, {b})")
    rng = np.random.default_rng(seed)
    n_rows = S * A
    uniforms = rng.random((n_rows, b))
    indices = np.empty((n_rows, b), dtype=np.int64)
    from ._model_kernels import floyd_rows

    floyd_rows(uniforms, S, indices)
    del uniforms
    probs = rng.standard_exponential((n_rows, b))
    probs /= probs.sum(axis=1, keepdims=True)
    R = rng.random((S, A))
    indptr = np.arange(0, n_rows * b + 1, b, dtype=np.int64)
    m = FiniteMDP.from_successors(indptr, indices.reshape(-1), probs.reshape(-1), R,
                                  name=f"garnet{S}x{A}x{b}", copy=False)
    return _tag(m, "garnet", {"n_states": S, "n_actions": A, "branching": b, "seed": seed})


# ---------------------------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------------------------

ENVS: dict[str, Callable[..., FiniteMDP]] = {
    "riverswim": riverswim,
    "chain": chain,
    "deep-sea": deep_sea,
    "gridworld": gridworld,
    "garnet": garnet,
    "li-chain": li_chain,
}


def seeded() -> tuple[str, ...]:
    """The registered environments whose builder takes a ``seed``: random families, whose
    instances an episodic problem may draw per run (``instance = "per-run"``)."""
    return tuple(name for name, builder in ENVS.items()
                 if "seed" in inspect.signature(builder).parameters)


def _coerce(env: str, key: str, value: Any, annotation: str) -> Any:
    """A CLI string (or TOML value) converted after the builder's annotation ("int",
    "float | None", "bool", "str", ...)."""
    kinds = {"bool": bool, "int": int, "float": float}
    kind = kinds.get(annotation.split("|")[0].strip(), str)
    return coerce(value, kind, f"{env} argument {key}", optional="None" in annotation)


def coerce_args(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """The arguments of the registered environment ``name``, converted to the builder's types.

    Strings (from the CLI, e.g. ``n_states="10"``) are converted after the builder's signature
    (int, bool, optional int, string); an optional argument given as ``none`` is left out (its
    default). Unknown environments, unknown or missing arguments and ill-typed values raise
    ValueError naming them. The result is what an experiment file stores as ``args``.
    """
    params = inspect.signature(builder(name)).parameters
    for key in args:
        if key not in params:
            raise InputError(f"environment {name!r} has no argument {key!r} (arguments: "
                             f"{', '.join(params)})")
    for key, p in params.items():
        if p.default is inspect.Parameter.empty and key not in args:
            raise InputError(f"environment {name!r} needs argument {key!r}")
    kwargs = {k: _coerce(name, k, v, str(params[k].annotation)) for k, v in args.items()}
    return {k: v for k, v in kwargs.items() if v is not None}


def make(name: str, **args: Any) -> FiniteMDP:
    """Build the registered environment ``name`` (see :data:`ENVS`) with ``args``.

    Arguments may be strings (from the CLI); see :func:`coerce_args`. Out-of-range values raise
    ValueError naming them.
    """
    kwargs = coerce_args(name, args)
    m = builder(name)(**kwargs)
    if not isinstance(m, FiniteMDP):
        raise InputError(f"MDP environment {name!r} built {type(m).__name__}, not a FiniteMDP")
    return m


def builder(name: str) -> Callable[..., FiniteMDP]:
    """The builder of environment ``name``: a registered one's (:data:`ENVS`), or the function
    at import path ``module:function`` returning a FiniteMDP (with a ``seed`` argument, a
    random family that may draw an instance per run); ValueError naming ``name`` otherwise."""
    if name in ENVS:
        return ENVS[name]
    if is_import_path(name):
        return resolve_callable(name, "MDP environment")
    raise InputError(f"unknown MDP environment {name!r} (known: {', '.join(ENVS)}, or "
                     f"module:function)")

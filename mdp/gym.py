"""celab's MDPs as Gymnasium environments, with their exact optimum attached.

:func:`to_gymnasium` wraps a :class:`~mdp.model.FiniteMDP` as a ``gymnasium.Env``
(:class:`CelabMDPEnv`) whose steps sample the model itself; importing this module registers
every environment of :data:`mdp.envs.ENVS` as ``celab/<CamelName>-v0`` (see :data:`IDS`), so

>>> import gymnasium, mdp.gym
>>> env = gymnasium.make("celab/RiverSwim-v0", n_states=6, horizon=20)
>>> obs, info = env.reset(seed=0)

or, without importing it first, ``gymnasium.make("mdp.gym:celab/RiverSwim-v0")``. Gymnasium is
an optional dependency (``pip install 'celab[gym]'``): ``import mdp`` never imports it, and this
module is not among the lab's lazy attributes. The page docs/gymnasium.md describes it all.
"""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any

import numpy as np

from tracking.gym import DiscreteEnv, gym_id, register
from tracking.validate import InputError, as_float, as_int

from . import envs
from .model import FiniteMDP

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .solvers import SolverResult

__all__ = ["DEFAULT_ARGS", "DEFAULT_HORIZON", "IDS", "CelabMDPEnv", "make_env",
           "terminal_states", "to_gymnasium"]

#: Episode length of the registered ids when neither ``horizon`` nor ``gamma`` is given.
DEFAULT_HORIZON = 100

#: Gymnasium id -> celab registry name, for every environment of :data:`mdp.envs.ENVS`.
IDS = {gym_id(name, {"riverswim": "RiverSwim", "gridworld": "GridWorld"}): name
       for name in envs.ENVS}
_KWARGS = {env_id: {"env": name} for env_id, name in IDS.items()}

#: Default arguments of the registered ids for builders whose arguments have no default.
DEFAULT_ARGS: dict[str, dict[str, Any]] = {
    "garnet": {"n_states": 10, "n_actions": 3, "branching": 3},
}


def terminal_states(m: FiniteMDP) -> np.ndarray:
    """bool[S]: the absorbing zero-reward states, where every action stays with probability 1
    and pays 0 (the end states of deep-sea, gridworld and li-chain). Nothing happens after
    reaching one, so an episode may end there without changing any value."""
    S, A = m.n_states, m.n_actions
    indptr, indices, _ = m._csr()
    stays = (np.diff(indptr) == 1).reshape(S, A)
    if indices.size:  # (full rows have implicit successors: a row of length 1 then means S = 1)
        successor = indices[np.minimum(indptr[:-1], indices.size - 1)].reshape(S, A)
        stays &= successor == np.arange(S)[:, None]
    return stays.all(axis=1) & (m.R == 0.0).all(axis=1)


def _start_distribution(m: FiniteMDP, start: int | ArrayLike | None) -> np.ndarray:
    """``m.initial``, the point mass on state ``start``, or a given distribution."""
    S = m.n_states
    if start is None:
        return np.asarray(m.initial, dtype=np.float64)
    if isinstance(start, (int, np.integer)) and not isinstance(start, bool):
        s = as_int("start", start, 0, S - 1)
        dist = np.zeros(S)
        dist[s] = 1.0
        return dist
    from ._validation import _check_initial

    try:
        return _check_initial(start, S)
    except InputError as exc:
        raise InputError(f"start (the start distribution): {exc}") from None


class CelabMDPEnv(DiscreteEnv):
    """A finite MDP as a Gymnasium environment: build it with :func:`to_gymnasium`.

    Observations are states ``0 .. S-1`` (``Discrete(S)``), actions ``0 .. A-1``
    (``Discrete(A)``). ``reset`` draws the start state from the start distribution, ``step(a)``
    the next state from ``P(. | s, a)``, each by inversion of one uniform of ``self.np_random``
    (the first state whose cumulative probability reaches it), and returns the reward
    ``R(s, a)`` (``rewards="mean"``) or a Bernoulli(``R(s, a)``) draw (``rewards="bernoulli"``,
    one more uniform). ``terminated`` is True on entering an absorbing zero-reward state
    (:func:`terminal_states`); ``truncated`` is True at step ``horizon`` of the episode. The
    info of reset and step is ``{"step": h}``, the number of steps taken in the episode.

    Attributes
    ----------
    model : FiniteMDP
        The MDP stepped.
    horizon : int or None
        Episode length H (None: a discounted environment, never truncated).
    gamma : float or None
        Discount factor of the objective (None: the undiscounted H-step return).
    start : float64[S]
        Start distribution.
    terminal : bool[S]
        The absorbing zero-reward states, on which episodes terminate.
    rewards : str
        ``"mean"`` or ``"bernoulli"``.
    optimal : SolverResult
        The exact solution, computed on first access and kept: ``mdp.backward_induction(model,
        horizon)`` (values (H+1, S), q (H, S, A), policy (H, S)) or ``mdp.solve(model, gamma)``
        (values (S,), q (S, A), policy (S,)).
    v_star : float
        The optimal expected return from the start distribution, from :attr:`optimal`:
        ``sum_s start(s) V*_0(s)`` (undiscounted over H steps) or ``sum_s start(s) V*(s)``
        (discounted).
    """

    def __init__(self, model: FiniteMDP, horizon: int | None = None,
                 gamma: float | None = None, start: int | ArrayLike | None = None,
                 rewards: str = "mean", render_mode: str | None = None) -> None:
        if not isinstance(model, FiniteMDP):
            raise InputError(f"model must be a FiniteMDP, got {type(model).__name__}")
        if (horizon is None) == (gamma is None):
            raise InputError("give exactly one of horizon (episodic, undiscounted) and gamma "
                             "(discounted; wrap in gymnasium.wrappers.TimeLimit to truncate)")
        super().__init__(model.n_states, model.n_actions, horizon, render_mode)
        self.gamma = None if gamma is None else as_float("gamma", gamma, 0.0)
        if self.gamma is not None and self.gamma >= 1.0:
            raise InputError(f"gamma must be in [0, 1), got {self.gamma:g}")
        if rewards not in ("mean", "bernoulli"):
            raise InputError(f"rewards must be 'mean' or 'bernoulli', got {rewards!r}")
        if rewards == "bernoulli" and np.any((model.R < 0.0) | (model.R > 1.0)):
            raise InputError("rewards = bernoulli needs every R[s, a] in [0, 1]")
        self.model = model
        self.rewards = rewards
        self.start = _start_distribution(model, start)
        self.terminal = terminal_states(model)
        self._start_cdf = np.cumsum(self.start)
        self._indptr, self._indices, self._probs = model._csr()
        self._state = 0

    @functools.cached_property
    def optimal(self) -> SolverResult:
        """The exact solution (see the class docstring), computed once."""
        from .solvers import backward_induction, solve

        if self.horizon is not None:
            return backward_induction(self.model, self.horizon)
        return solve(self.model, self.gamma)

    @functools.cached_property
    def v_star(self) -> float:
        """The optimal expected return from the start distribution (see the class docstring)."""
        values = self.optimal.values
        return float(self.start @ (values[0] if self.horizon is not None else values))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[int, dict[str, Any]]:
        """Start an episode: ``(state, {"step": 0})``, the state drawn from :attr:`start`.

        ``seed`` reseeds ``self.np_random`` (Gymnasium's rule: seed the first reset, then leave
        it None); ``options`` are accepted and ignored.
        """
        info = self._begin(seed)
        self._state = self._inverse(self._start_cdf)
        return self._state, info

    def step(self, action: Any) -> tuple[int, float, bool, bool, dict[str, Any]]:
        """Take ``action``: ``(next state, reward, terminated, truncated, {"step": h})``."""
        a = self._take(action)
        s = self._state
        row = s * self.model.n_actions + a
        lo, hi = self._indptr[row], self._indptr[row + 1]
        j = self._inverse(np.cumsum(self._probs[lo:hi]))
        s2 = int(self._indices[lo + j]) if self._indices.size else j  # full rows: 0 .. S-1
        reward = float(self.model.R[s, a])
        if self.rewards == "bernoulli":
            reward = self._bernoulli(reward)
        self._state = s2
        terminated = bool(self.terminal[s2])
        truncated, info = self._end(terminated)
        return s2, reward, terminated, truncated, info


def to_gymnasium(m: FiniteMDP, horizon: int | None = None, gamma: float | None = None,
                 start: int | ArrayLike | None = None, rewards: str = "mean") -> CelabMDPEnv:
    """The finite MDP ``m`` as a Gymnasium environment (:class:`CelabMDPEnv`).

    Parameters
    ----------
    m : FiniteMDP
        The model stepped.
    horizon : int, optional
        Episodic: episodes are truncated after ``horizon`` steps, and the objective is the
        undiscounted H-step return (``v_star`` = V*_0 from the start distribution).
    gamma : float, optional
        Discounted: episodes never truncate (only terminate), and ``v_star`` is the discounted
        V* from the start distribution. Exactly one of ``horizon`` and ``gamma``.
    start : int or array-like, optional
        A start state, or a start distribution (S,); default ``m.initial``.
    rewards : {"mean", "bernoulli"}
        Observed rewards: ``R(s, a)`` itself, or Bernoulli(``R(s, a)``) draws (R in [0, 1]).
    """
    return CelabMDPEnv(m, horizon=horizon, gamma=gamma, start=start, rewards=rewards)


def make_env(env: str, horizon: int | None = None, gamma: float | None = None,
             start: int | ArrayLike | None = None, rewards: str = "mean",
             render_mode: str | None = None, **args: Any) -> CelabMDPEnv:
    """The environment ``env`` of :data:`mdp.envs.ENVS` built with ``args`` (the names of an
    experiment file's ``args``; :data:`DEFAULT_ARGS` fills those without a default) as a
    Gymnasium environment: the entry point of the ids of :data:`IDS`.

    With neither ``horizon`` nor ``gamma``, ``horizon`` is :data:`DEFAULT_HORIZON`. A builder
    that takes a ``gamma`` itself (``li-chain``, which depends on its discount) receives
    ``gamma``; the environment is then discounted with it unless a ``horizon`` is given.
    """
    builder = envs.ENVS.get(env)
    if gamma is not None and builder and "gamma" in inspect.signature(builder).parameters:
        args["gamma"] = gamma
        gamma = None if horizon is not None else gamma
    if horizon is None and gamma is None:
        horizon = DEFAULT_HORIZON
    m = envs.make(env, **{**DEFAULT_ARGS.get(env, {}), **args})
    return CelabMDPEnv(m, horizon=horizon, gamma=gamma, start=start, rewards=rewards,
                       render_mode=render_mode)


register(_KWARGS, "mdp.gym:make_env")

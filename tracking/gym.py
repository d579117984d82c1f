"""What the labs' Gymnasium environments share (mdp/gym.py, bandits/gym.py).

:class:`DiscreteEnv` holds the episode bookkeeping of a ``gymnasium.Env`` with ``Discrete``
observation and action spaces (the render-mode refusal, the step counter, truncation at the
horizon, the order of reset and step, sampling by inversion of ``self.np_random``'s
uniforms); :func:`gym_id` and :func:`register` name and register the labs' environments.
This module imports Gymnasium, an optional dependency: only those two modules import it.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from .validate import InputError, as_int

__all__ = ["DiscreteEnv", "gym_id", "register"]


def gym_id(name: str, camel: dict[str, str] | None = None) -> str:
    """The Gymnasium id of a celab registry name: ``"deep-sea"`` -> ``"celab/DeepSea-v0"``
    (its words capitalised and joined), or ``"celab/<camel[name]>-v0"``."""
    words = (camel or {}).get(name) or "".join(w[:1].upper() + w[1:] for w in name.split("-"))
    return f"celab/{words}-v0"


def register(ids: dict[str, dict[str, Any]], entry_point: str) -> None:
    """Register ``id -> kwargs`` with Gymnasium, skipping ids its registry holds already, so
    that importing or reloading a module twice neither raises nor warns. ``max_episode_steps``
    is left None: the environments truncate their episodes themselves (no TimeLimit wrapper)."""
    for env_id, kwargs in ids.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=entry_point, kwargs=kwargs)


class DiscreteEnv(gymnasium.Env):
    """A Gymnasium environment with ``Discrete(n_obs)`` observations and ``Discrete(n_actions)``
    actions whose episodes are truncated after ``horizon`` steps (never when None).

    Subclasses call :meth:`_begin` in ``reset`` and :meth:`_take` / :meth:`_end` in ``step``.
    Stepping before the first reset, or after an episode ended, raises ValueError; so does an
    action outside the action space. No render modes: a ``render_mode`` other than None raises.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, n_obs: int, n_actions: int, horizon: int | None,
                 render_mode: str | None) -> None:
        if render_mode is not None:
            raise InputError(f"render_mode {render_mode!r}: celab's environments do not render "
                             "(their render_modes are empty); leave render_mode None")
        self.render_mode = None
        self.horizon = None if horizon is None else as_int("horizon", horizon, 1)
        self.observation_space = spaces.Discrete(n_obs)
        self.action_space = spaces.Discrete(n_actions)
        self._running = False
        self._step = 0

    def _begin(self, seed: int | None) -> dict[str, Any]:
        """Reseed (Gymnasium's rule: only when ``seed`` is given) and start an episode; the
        reset's info ``{"step": 0}``."""
        super().reset(seed=seed)
        self._running = True
        self._step = 0
        return {"step": 0}

    def _take(self, action: Any) -> int:
        """``action`` as an int, checked, and the step counted."""
        if not self._running:
            raise InputError("the episode is over or not started: call reset() before step()")
        if not self.action_space.contains(action):
            raise InputError(f"action {action!r} is not in {self.action_space}")
        self._step += 1
        return int(action)

    def _end(self, terminated: bool) -> tuple[bool, dict[str, Any]]:
        """``(truncated, info)`` of the step just taken; the episode ends when terminated or
        truncated (at step ``horizon``)."""
        truncated = self.horizon is not None and self._step >= self.horizon
        self._running = not (terminated or truncated)
        return truncated, {"step": self._step}

    def _inverse(self, cdf: np.ndarray) -> int:
        """The first index whose cumulative probability ``cdf`` reaches a uniform of
        ``self.np_random`` (the last index when rounding leaves ``cdf[-1]`` below it)."""
        u = self.np_random.random()
        return min(int(np.searchsorted(cdf, u, side="left")), cdf.shape[0] - 1)

    def _bernoulli(self, p: float) -> float:
        """1.0 with probability ``p`` (a uniform of ``self.np_random`` below it), else 0.0."""
        return 1.0 if self.np_random.random() < p else 0.0

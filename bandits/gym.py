"""celab's bandits as Gymnasium environments, with their optimum attached.

:func:`to_gymnasium` wraps a bandit of :mod:`bandits.envs` as a one-state ``gymnasium.Env``
(:class:`CelabBanditEnv`); importing this module registers ``celab/Bandit-v0`` (any named bandit
or arm means) and one id per named bandit of :data:`bandits.envs.NAMED` (see :data:`IDS`):

>>> import gymnasium, bandits.gym
>>> env = gymnasium.make("celab/Close10-v0", horizon=1000)
>>> obs, info = env.reset(seed=0)

or, without importing it first, ``gymnasium.make("bandits.gym:celab/Close10-v0")``. Gymnasium
is an optional dependency (``pip install 'celab[gym]'``): ``import bandits`` never imports it.
The page docs/gymnasium.md describes it all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tracking.gym import DiscreteEnv, gym_id, register
from tracking.validate import InputError

from . import envs

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["DEFAULT_ENV", "DEFAULT_HORIZON", "IDS", "CelabBanditEnv", "make_env",
           "to_gymnasium"]

#: Episode length (pulls) of the registered ids unless ``horizon`` is given.
DEFAULT_HORIZON = 1000
#: The bandit of ``celab/Bandit-v0`` when neither ``env`` nor ``means`` is given.
DEFAULT_ENV = "close10"

#: Gymnasium id -> celab bandit name (None: ``celab/Bandit-v0``, the name or means given).
IDS: dict[str, str | None] = {"celab/Bandit-v0": None,
                              **{gym_id(name): name for name in envs.NAMED}}


class CelabBanditEnv(DiscreteEnv):
    """A stochastic bandit as a Gymnasium environment: build it with :func:`to_gymnasium`.

    One state (``Discrete(1)``: the observation is always 0), K arms (``Discrete(K)``).
    ``step(k)`` pays a draw of arm k, from ``self.np_random``: Bernoulli(``means[k]``) (1.0
    when a uniform falls below the mean) or ``means[k] + sigma * z`` with z a standard normal;
    ``terminated`` is always False, ``truncated`` True at pull ``horizon``. The info of reset is
    ``{"step": 0}``, of step ``{"step": t, "gap": best - means[k]}``: summed over an episode, the
    gaps are celab's pseudo-regret.

    A ``RandomTestbed`` (``sutton-barto``) draws new means N(loc, 1) at every reset, from
    ``self.np_random``: an episode is one of its runs.

    Attributes
    ----------
    bandit : Bernoulli, Gaussian or RandomTestbed
        The celab environment.
    horizon : int
        Pulls per episode.
    means : float64[K]
        The arm means (of the current episode; None before the first reset for a
        ``RandomTestbed``).
    best : float
        The optimal mean ``max_k means[k]`` (None when :attr:`means` is).
    """

    def __init__(self, bandit: envs.Bandit | envs.RandomTestbed, horizon: int,
                 render_mode: str | None = None) -> None:
        if not isinstance(bandit, (envs.Bernoulli, envs.Gaussian, envs.RandomTestbed)):
            raise InputError(f"bandit must be a Bernoulli, Gaussian or RandomTestbed bandit of "
                             f"bandits.envs, got {type(bandit).__name__}")
        super().__init__(1, bandit.n_arms, horizon, render_mode)
        self.bandit = bandit
        self.means: np.ndarray | None = None
        if not isinstance(bandit, envs.RandomTestbed):
            self.means = bandit.means

    @property
    def best(self) -> float | None:
        """mu* = max_k means[k] (None before a RandomTestbed's first reset)."""
        return None if self.means is None else float(self.means.max())

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[int, dict[str, Any]]:
        """Start an episode: ``(0, {"step": 0})``. ``seed`` reseeds ``self.np_random``
        (Gymnasium's rule: seed the first reset, then leave it None); ``options`` are ignored."""
        info = self._begin(seed)
        if isinstance(self.bandit, envs.RandomTestbed):
            means = self.np_random.normal(self.bandit.loc, 1.0, size=self.bandit.n_arms)
            means.setflags(write=False)
            self.means = means
        return 0, info

    def step(self, action: Any) -> tuple[int, float, bool, bool, dict[str, Any]]:
        """Pull arm ``action``: ``(0, reward, False, truncated, {"step": t, "gap": gap})``."""
        k = self._take(action)
        mean = float(self.means[k])
        if self.bandit.family == "bernoulli":
            reward = self._bernoulli(mean)
        else:
            reward = mean + self.bandit.sigma * float(self.np_random.standard_normal())
        truncated, info = self._end(False)
        info["gap"] = self.best - mean
        return 0, reward, False, truncated, info


def to_gymnasium(bandit: envs.Bandit | envs.RandomTestbed, horizon: int) -> CelabBanditEnv:
    """The bandit ``bandit`` (``bandits.envs.Bernoulli``, ``Gaussian``, ``RandomTestbed``) as a
    Gymnasium environment whose episodes last ``horizon`` pulls (:class:`CelabBanditEnv`)."""
    return CelabBanditEnv(bandit, horizon)


def make_env(env: str | None = None, means: ArrayLike | None = None,
             family: str = "bernoulli", sigma: float | None = None, seed: int = 0,
             horizon: int = DEFAULT_HORIZON, render_mode: str | None = None,
             **args: Any) -> CelabBanditEnv:
    """A bandit as an experiment file's bandit problem names it, as a Gymnasium environment:
    the entry point of the ids of :data:`IDS`.

    ``env`` is a named bandit of :data:`bandits.envs.NAMED` with its ``args`` (built under
    ``seed``, on which ``testbed10``'s means depend), or ``means`` gives the arms, of
    ``family`` ``"bernoulli"`` or ``"gaussian"`` (with ``sigma``, default 1). With neither,
    ``env`` is :data:`DEFAULT_ENV`.
    """
    if env is not None and means is not None:
        raise InputError("a bandit needs one of env (a name) or means, not both")
    if means is None:
        if sigma is not None or family != "bernoulli":
            raise InputError("family and sigma apply to means, not to a named env")
        bandit = envs.make(DEFAULT_ENV if env is None else env, seed, **args)
    else:
        if args:
            raise InputError(f"arguments {', '.join(args)} apply to a named env, not to means")
        if sigma is not None and family != "gaussian":
            raise InputError("sigma applies to gaussian arms only")
        config = {"family": family, "means": means, "sigma": 1.0 if sigma is None else sigma}
        bandit = envs.from_config(config)
    return CelabBanditEnv(bandit, horizon, render_mode)


register({env_id: {} if name is None else {"env": name} for env_id, name in IDS.items()},
         "bandits.gym:make_env")

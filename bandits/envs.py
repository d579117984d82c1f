"""Stochastic bandit environments: Bernoulli and Gaussian arms, and named instances."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tracking.specs import is_import_path, resolve_callable
from tracking.validate import InputError, coerce

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

BERNOULLI = 0
GAUSSIAN = 1


def _check_means(means: ArrayLike) -> np.ndarray:
    try:
        arr = np.array(means, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"means must be numbers, got {means!r}") from None
    if arr.ndim != 1:
        raise InputError(f"means must be a 1-D list of arm means, got shape {arr.shape}")
    if arr.size < 2:
        raise InputError(f"a bandit needs at least 2 arms, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise InputError("means must be finite (no NaN or infinity)")
    arr.setflags(write=False)
    return arr


class _Bandit:
    """Shared read-only properties of the bandit families."""

    family: str = ""
    kind: int = -1
    means: np.ndarray
    name: str
    sigma: float

    @property
    def n_arms(self) -> int:
        """Number of arms K."""
        return int(self.means.shape[0])

    @property
    def best_mean(self) -> float:
        """mu* = max_k mu_k."""
        return float(self.means.max())

    @property
    def gaps(self) -> np.ndarray:
        """Delta_k = mu* - mu_k."""
        return self.best_mean - self.means

    def kl(self, p: float, q: float) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def config(self) -> dict:
        """Everything needed to rebuild the environment."""
        out = {"family": self.family, "means": [float(m) for m in self.means], "name": self.name}
        if self.family == "gaussian":
            out["sigma"] = float(self.sigma)
        return out


class Bernoulli(_Bandit):
    """Bernoulli arms: arm k pays 1 with probability ``means[k]``, else 0."""

    family = "bernoulli"
    kind = BERNOULLI

    def __init__(self, means: ArrayLike, name: str = "bernoulli") -> None:
        arr = _check_means(means)
        if np.any((arr < 0.0) | (arr > 1.0)):
            bad = int(np.flatnonzero((arr < 0.0) | (arr > 1.0))[0])
            raise InputError(f"Bernoulli means must lie in [0, 1]; arm {bad} has {arr[bad]:g}")
        self.means = arr
        self.name = name
        self.sigma = 0.5  # sub-Gaussian scale of any [0, 1] reward

    def kl(self, p: float, q: float) -> float:
        """Bernoulli KL divergence KL(p, q) = p ln(p/q) + (1-p) ln((1-p)/(1-q))."""
        return bernoulli_kl(p, q)

    def __repr__(self) -> str:
        return f"Bernoulli(means={self.means.tolist()}, name={self.name!r})"


class Gaussian(_Bandit):
    """Gaussian arms: arm k pays N(``means[k]``, ``sigma`` ** 2)."""

    family = "gaussian"
    kind = GAUSSIAN

    def __init__(self, means: ArrayLike, sigma: float = 1.0, name: str = "gaussian") -> None:
        arr = _check_means(means)
        try:
            s = float(sigma)
        except (TypeError, ValueError):
            raise InputError(f"sigma must be a number, got {sigma!r}") from None
        if not (math.isfinite(s) and s > 0.0):
            raise InputError(f"sigma must be a finite number > 0, got {sigma!r}")
        self.means = arr
        self.sigma = s
        self.name = name

    def kl(self, p: float, q: float) -> float:
        """Gaussian KL divergence with known variance: (p - q)^2 / (2 sigma^2)."""
        return (p - q) ** 2 / (2.0 * self.sigma**2)

    def __repr__(self) -> str:
        return f"Gaussian(means={self.means.tolist()}, sigma={self.sigma}, name={self.name!r})"


Bandit = Bernoulli | Gaussian


def bernoulli_kl(p: float, q: float) -> float:
    """KL(Bernoulli(p), Bernoulli(q)), with 0 ln 0 = 0; infinite when q is 0 or 1 and p is not."""
    out = 0.0
    if p > 0.0:
        out += p * math.log(p / q) if q > 0.0 else math.inf
    if p < 1.0:
        out += (1.0 - p) * math.log((1.0 - p) / (1.0 - q)) if q < 1.0 else math.inf
    return out


def lai_robbins(env: Bandit) -> float:
    """Lai-Robbins constant C = sum over suboptimal arms of Delta_k / KL(mu_k, mu*).

    Every uniformly good algorithm has ``liminf E[regret(T)] / ln T >= C``.
    """
    best = env.best_mean
    return float(sum(g / env.kl(m, best) for m, g in zip(env.means, env.gaps) if g > 0.0))


def testbed(seed: int = 0, n_arms: int = 10, loc: float = 0.0) -> Gaussian:
    """The Sutton-Barto 10-armed testbed: means drawn from N(loc, 1) under ``seed``, sigma = 1.

    The means are ``numpy.random.default_rng(SeedSequence(seed, spawn_key=(2**31,)))``'s
    normals, a stream kept apart from the runs' own seeds.
    """
    gen = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31,)))
    return Gaussian(gen.normal(loc, 1.0, size=n_arms), 1.0, name=f"testbed{n_arms}")


class RandomTestbed:
    """The Sutton-Barto testbed as a distribution of problems: every run draws its own arm
    means from N(loc, 1) (Gaussian arms, sigma 1), as in Sutton and Barto's figures 2.2-2.5.

    Run r's means are ``default_rng(SeedSequence(seed, spawn_key=(r, 2**31))).normal(loc, 1,
    n_arms)``: they depend on the experiment's seed and the run index only; a tuning run's
    (spawn branch ``branch``, tracking.rng.TUNING_BRANCH) on ``spawn_key=(branch, r, 2**31)``.
    """

    family = "gaussian"
    kind = GAUSSIAN
    sigma = 1.0

    def __init__(self, n_arms: int = 10, loc: float = 0.0, name: str = "sutton-barto") -> None:
        from tracking.validate import as_float, as_int

        self.n_arms = as_int("n_arms", n_arms, minimum=2)
        self.loc = as_float("loc", loc)
        self.name = name

    def run_means(self, seed: int, start: int, stop: int, branch: int | None = None
                  ) -> np.ndarray:
        """Means of runs ``start .. stop - 1`` (of spawn branch ``branch``: None for
        evaluation runs), shape (stop - start, n_arms)."""
        from tracking.rng import spawn_key

        out = np.empty((stop - start, self.n_arms))
        for i, r in enumerate(range(start, stop)):
            key = (*spawn_key(r, branch), 2**31)
            gen = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))
            out[i] = gen.normal(self.loc, 1.0, size=self.n_arms)
        return out

    def __repr__(self) -> str:
        return f"RandomTestbed(n_arms={self.n_arms}, loc={self.loc}, name={self.name!r})"


def two_level(n_arms: int = 10, best: float = 0.5, gap: float = 0.1) -> Bernoulli:
    """Bernoulli arms: one at ``best`` and ``n_arms - 1`` at ``best - gap`` (Chapelle and Li
    2011's problems; ``close10`` is ``two_level(10, 0.5, 0.1)``)."""
    from tracking.validate import as_float, as_int

    k = as_int("n_arms", n_arms, minimum=2)
    b = as_float("best", best, minimum=0.0, maximum=1.0)
    g = as_float("gap", gap, minimum=0.0, strict_min=True)
    if b - g < 0.0:
        raise InputError(f"best - gap must be >= 0, got {b - g:g}")
    from tracking import memory

    memory.check(8.0 * k * 3, f"two-level with {k} arms")  # these means, a checked copy, temps
    means = np.full(k, b - g)
    means[0] = b
    return Bernoulli(means, name=f"two-level-{k}-{g:g}")


def _garivier_cappe(seed: int) -> Bernoulli:
    return Bernoulli(
        [0.1, 0.05, 0.05, 0.05, 0.02, 0.02, 0.02, 0.01, 0.01, 0.01], name="garivier-cappe"
    )


def _linspace10(seed: int) -> Bernoulli:
    return Bernoulli(np.linspace(0.1, 0.9, 10), name="linspace10")


def _close10(seed: int) -> Bernoulli:
    return Bernoulli([0.5] + [0.4] * 9, name="close10")


def _testbed10(seed: int) -> Gaussian:
    return testbed(seed)


def _two_level(seed: int, n_arms: int = 10, best: float = 0.5, gap: float = 0.1) -> Bernoulli:
    return two_level(n_arms, best, gap)


def _sutton_barto(seed: int, n_arms: int = 10, loc: float = 0.0) -> RandomTestbed:
    return RandomTestbed(n_arms, loc)


#: Named instances: name -> (builder taking the experiment's seed and optional arguments,
#: one-line description).
NAMED = {
    "garivier-cappe": (
        _garivier_cappe,
        "Bernoulli 0.1, 0.05 x3, 0.02 x3, 0.01 x3 (Garivier-Cappe 2011)",
    ),
    "linspace10": (_linspace10, "Bernoulli, means linspace(0.1, 0.9, 10)"),
    "close10": (_close10, "Bernoulli, best 0.5 and nine arms at 0.4"),
    "testbed10": (_testbed10, "Gaussian sigma 1, means ~ N(0, 1) under the seed (Sutton-Barto)"),
    "two-level": (_two_level, "Bernoulli, one arm at best, the others at best - gap "
                              "(args n_arms, best, gap)"),
    "sutton-barto": (_sutton_barto, "Gaussian sigma 1, new means ~ N(loc, 1) in every run "
                                    "(args n_arms, loc)"),
}


def make(name: str, seed: int = 0, **args: Any) -> Bandit | RandomTestbed:
    """A named instance (see :data:`NAMED`) with its optional arguments.

    ``testbed10``'s means depend on ``seed``; ``sutton-barto`` draws new means in every run.
    Arguments may be strings (from the CLI); they are converted to the builder's types
    (:func:`coerce_args`).
    """
    kwargs = coerce_args(name, args)
    env = builder(name)(seed, **kwargs)
    if not isinstance(env, (Bernoulli, Gaussian, RandomTestbed)):
        raise InputError(f"bandit environment {name!r} built {type(env).__name__}, not a "
                         f"Bernoulli, Gaussian or RandomTestbed")
    return env


def builder(name: str) -> Callable[..., Any]:
    """The builder of environment ``name``: a named instance's (:data:`NAMED`), or the function
    at import path ``module:function`` (``f(seed, **args)`` returning a bandit, as the named
    builders do); ValueError naming ``name`` otherwise."""
    if name in NAMED:
        return NAMED[name][0]
    if is_import_path(name):
        return resolve_callable(name, "bandit environment")
    raise InputError(f"unknown bandit environment {name!r} (known: {', '.join(NAMED)}, or "
                     f"module:function)")


def coerce_args(name: str, args: dict) -> dict:
    """The arguments of the named instance ``name``, converted to its builder's types.

    Strings (from the CLI, e.g. ``n_arms="4"``) and TOML numbers become the int or float of the
    builder's default; unknown names and arguments and ill-typed values raise ValueError. The
    result is what an experiment file stores as ``args``.
    """
    import inspect

    params = {k: p for k, p in inspect.signature(builder(name)).parameters.items()
              if k != "seed"}
    kwargs = {}
    for key, value in args.items():
        if key not in params:
            allowed = ", ".join(params) or "none"
            raise InputError(f"bandit environment {name!r} has no argument {key!r} "
                             f"(arguments: {allowed})")
        default = params[key].default
        kind = type(default) if isinstance(default, (bool, int, str)) else float
        kwargs[key] = coerce(value, kind, f"{name} argument {key}")
    return kwargs


def from_config(cfg: dict) -> Bandit:
    """Rebuild an environment from :meth:`config`'s dictionary."""
    family = cfg.get("family")
    name = cfg.get("name", family)
    if family == "bernoulli":
        return Bernoulli(cfg["means"], name=name)
    if family == "gaussian":
        return Gaussian(cfg["means"], cfg.get("sigma", 1.0), name=name)
    raise InputError(f"bandit family must be 'bernoulli' or 'gaussian', got {family!r}")

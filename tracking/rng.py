"""Random streams for celab's kernels: counter-based and sequential, never global.

Two kinds of randomness live in a simulation and they are kept apart:

* **Environment randomness** is counter-based. The outcome of the n-th pull of arm k (or the
  n-th visit of the pair (s, a)) in run r is a pure function of ``(run seed, k, n)``:
  ``mix64(key(run seed, k) + (n + 1) * GOLDEN)``, the n-th output of a SplitMix64 stream keyed
  by the run and the arm. Every agent that asks for that pull sees the same reward, whatever it
  did before: common random numbers.
* **Agent randomness** (tie-breaking, exploration coins, posterior samples) is a sequential
  SplitMix64 stream per (run, stream id), held in a one-element ``uint64`` array that the kernel
  owns. It depends on the run seed only, so an agent's draws do not depend on which other agents
  run beside it.
* **Readout randomness** (the posterior sample a Thompson or PSRL agent's behaviour readout is
  read from) is a sequential stream of its own per (run, checkpoint: the round, episode or
  step), salt ``SALT_READOUT``: recording a readout never draws from the agent's stream, so it
  never changes what the agent does next, and a readout at a checkpoint does not depend on the
  other checkpoints.

Run seeds come from :func:`run_seeds`, which spawns ``numpy.random.SeedSequence(seed)``
children (spawn key ``(r,)`` for run r): run r's seed does not depend on how many runs there
are, so a run can be resumed or extended, and seed 1's run 0 is unrelated to seed 0's run 1.
Tuning runs (``celab tune``) take another branch of the same tree, spawn key
``(TUNING_BRANCH, r)``, so that they are never evaluation runs. A problem that draws an
instance of a random family per run takes run r's instance seed from a child of run r's own
key, ``run key + (INSTANCE_TAG,)`` (:func:`instance_seeds`): tuning runs get other instances
than evaluation runs, and no agent's stream changes.

All functions here are ``@njit`` and are inlined into the kernels that call them.
"""

from __future__ import annotations

import math

import numpy as np

from .jit import njit
from .validate import InputError

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_ONE = np.uint64(1)
_TWO53_INV = 1.0 / 9007199254740992.0  # 2 ** -53

# Salts that separate the streams derived from one run seed.
SALT_AGENT = np.uint64(0xA5A5A5A5)
SALT_REWARD = np.uint64(0x5EED0001)
SALT_TRANSITION = np.uint64(0x5EED0002)
SALT_READOUT = np.uint64(0x5EED0010)  # distinct from every salt, the MDP lab's too


#: The spawn branch of tuning runs: tuning run r's seed comes from
#: ``SeedSequence(seed, spawn_key=(TUNING_BRANCH, r))``, evaluation run r's from ``(r,)``.
#: SeedSequence reads a spawn key as 32-bit words, so a tuning key (two words) could only
#: equal an evaluation key (one word below 2**32) for an evaluation run index of 2**32 or
#: more, beyond any array of runs celab can hold. The value spells "tune" in ASCII.
TUNING_BRANCH = 0x74756E65


#: The last spawn-key word of a run's instance child: run r's instance (an environment drawn
#: from a random family for that run alone) is seeded by ``SeedSequence(seed,
#: spawn_key=spawn_key(r, branch) + (INSTANCE_TAG,))``, a key of two or three words that is no
#: run's key (run keys end with the run index, and no run index reaches 2**31). The bandit
#: testbed's per-run means come from the same child.
INSTANCE_TAG = 2**31


def check_branch(branch: int | None) -> int | None:
    """``branch`` when it is a spawn branch of run seeds: None (evaluation runs) or
    :data:`TUNING_BRANCH`; ValueError otherwise."""
    if branch is not None and (isinstance(branch, bool) or branch != TUNING_BRANCH):
        raise InputError(f"branch must be {TUNING_BRANCH} (the tuning seeds), got {branch!r}")
    return branch


def spawn_key(run: int, branch: int | None = None) -> tuple[int, ...]:
    """The spawn key of run ``run``: ``(run,)`` for evaluation runs (``branch`` None), else
    ``(branch, run)``."""
    return (run,) if branch is None else (branch, run)


def run_seeds(seed: int, runs: int, start: int = 0, branch: int | None = None) -> np.ndarray:
    """Seeds of runs ``start .. start + runs - 1`` of an experiment with master ``seed``.

    Run r's seed is the first 64-bit word of ``SeedSequence(seed, spawn_key=(r,))``, the same
    child that ``SeedSequence(seed).spawn(...)[r]`` gives; with ``branch`` (tuning runs:
    :data:`TUNING_BRANCH`) that of ``SeedSequence(seed, spawn_key=(branch, r))``.
    """
    out = np.empty(runs, dtype=np.uint64)
    for i in range(runs):
        ss = np.random.SeedSequence(seed, spawn_key=spawn_key(start + i, branch))
        out[i] = ss.generate_state(1, dtype=np.uint64)[0]
    return out


def instance_seeds(seed: int, runs: int, start: int = 0, branch: int | None = None
                   ) -> np.ndarray:
    """Instance seeds of runs ``start .. start + runs - 1``: run r's is the first 64-bit word of
    ``SeedSequence(seed, spawn_key=spawn_key(r, branch) + (INSTANCE_TAG,))`` shifted right by
    one bit, an integer in [0, 2**63) that an environment builder takes as its ``seed``."""
    out = np.empty(runs, dtype=np.int64)
    for i in range(runs):
        key = (*spawn_key(start + i, branch), INSTANCE_TAG)
        word = np.random.SeedSequence(seed, spawn_key=key).generate_state(1, dtype=np.uint64)[0]
        out[i] = np.int64(word >> np.uint64(1))
    return out


@njit(cache=True, inline="always")
def mix64(z):
    """SplitMix64 finaliser (Stafford's variant 13): a bijective 64-bit hash.

    Arguments must be uint64: numba turns int64 op uint64 into float64.
    """
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def stream_key(run_seed, salt, a, b):
    """Key of the stream of run ``run_seed`` for the labels ``(salt, a, b)``."""
    h = mix64(np.uint64(salt) + GOLDEN)
    h = mix64(h ^ (np.uint64(a) * _M1))
    h = mix64(h ^ (np.uint64(b) * _M2))
    return mix64(np.uint64(run_seed) ^ h)


@njit(cache=True, inline="always")
def to_unit(x):
    """A 64-bit word to a double in (0, 1]: never 0, so ``log`` is always finite."""
    return (np.float64(x >> _S11) + 1.0) * _TWO53_INV


@njit(cache=True, inline="always")
def counter_uniform(key, n):
    """The n-th uniform (n >= 0) of the counter-based stream ``key``, in (0, 1]."""
    return to_unit(mix64(np.uint64(key) + (np.uint64(n) + _ONE) * GOLDEN))


@njit(cache=True, inline="always")
def counter_normal(key, n):
    """The n-th standard normal of the stream ``key`` (Box-Muller on uniforms 2n and 2n + 1)."""
    u1 = counter_uniform(key, 2 * n)
    u2 = counter_uniform(key, 2 * n + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True)
def new_state(run_seed, salt):
    """A sequential stream for the run: a one-element uint64 array the kernel owns."""
    st = np.empty(1, dtype=np.uint64)
    st[0] = stream_key(run_seed, salt, 0, 0)
    return st


@njit(cache=True, inline="always")
def uniform(st):
    """Next uniform in (0, 1] of the sequential stream ``st`` (SplitMix64)."""
    st[0] += GOLDEN
    return to_unit(mix64(st[0]))


@njit(cache=True, inline="always")
def randint(st, n):
    """Uniform integer in ``0 .. n - 1``."""
    k = int(uniform(st) * n)
    return k if k < n else n - 1


def _ziggurat_tables(layers: int = 128, r: float = 3.442619855899,
                     v: float = 9.91256303526217e-3) -> tuple[np.ndarray, np.ndarray, float]:
    """Layer edges x[0..C] and ratios x[i+1] / x[i] of the normal ziggurat (Doornik 2005)."""
    x = np.empty(layers + 1)
    f = math.exp(-0.5 * r * r)
    x[0] = v / f
    x[1] = r
    x[layers] = 0.0
    for i in range(2, layers):
        x[i] = math.sqrt(-2.0 * math.log(v / x[i - 1] + f))
        f = math.exp(-0.5 * x[i] * x[i])
    return x, x[1:] / x[:-1], r


_ZIG_X, _ZIG_RATIO, _ZIG_R = _ziggurat_tables()
_LAYER_MASK = np.uint64(127)


@njit(cache=True)
def _normal_slow(st, i, u):
    """The ziggurat's rare branches for layer i and abscissa u; NaN means draw again."""
    xs = _ZIG_X
    if i == 0:
        # the tail beyond R, by Marsaglia's method
        while True:
            x = math.log(uniform(st)) / _ZIG_R
            y = math.log(uniform(st))
            if -2.0 * y >= x * x:
                return x - _ZIG_R if u < 0.0 else _ZIG_R - x
    x = u * xs[i]
    f0 = math.exp(-0.5 * (xs[i] * xs[i] - x * x))
    f1 = math.exp(-0.5 * (xs[i + 1] * xs[i + 1] - x * x))
    if f1 + uniform(st) * (f0 - f1) < 1.0:
        return x
    return np.nan


@njit(cache=True, inline="always")
def normal(st):
    """Standard normal by the ziggurat method (Marsaglia and Tsang 2000; Doornik's ZIGNOR).

    One 64-bit word per draw in about 99% of cases: the high 53 bits give the abscissa, the low
    7 bits (independent of them) the layer.
    """
    while True:
        st[0] += GOLDEN
        w = mix64(st[0])
        i = np.int64(w & _LAYER_MASK)
        u = 2.0 * to_unit(w) - 1.0
        if abs(u) < _ZIG_RATIO[i]:
            return u * _ZIG_X[i]
        z = _normal_slow(st, i, u)
        if z == z:
            return z


@njit(cache=True, inline="always")
def gamma_mt(st, d, c):
    """Gamma(d + 1/3) for d >= 2/3 by Marsaglia and Tsang (2000), with c = 1 / sqrt(9 d).

    Callers that draw many variates of one shape compute (d, c) once.
    """
    while True:
        x = normal(st)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = uniform(st)
        x2 = x * x
        if u < 1.0 - 0.0331 * x2 * x2 or math.log(u) < 0.5 * x2 + d * (1.0 - v + math.log(v)):
            return d * v


@njit(cache=True)
def gamma(st, shape):
    """Gamma(shape, 1) by Marsaglia and Tsang (2000); shape < 1 through the U^(1/shape) boost."""
    if shape < 1.0:
        d = shape + 1.0 - 1.0 / 3.0
        return gamma_mt(st, d, 1.0 / math.sqrt(9.0 * d)) * uniform(st) ** (1.0 / shape)
    d = shape - 1.0 / 3.0
    return gamma_mt(st, d, 1.0 / math.sqrt(9.0 * d))


#: :func:`gamma_small` returns the logarithm of a variate below TINY = 2^-960 instead of the
#: variate (a number below ln TINY < -665, so the two are told apart by their sign).
TINY = 2.0 ** -960
_LOW11 = np.uint64(2047)
_INV_2048 = 1.0 / 2048.0


@njit(cache=True, inline="always")
def _powi(y, k):
    """y^k for an integer k >= 0, by repeated squaring."""
    out = 1.0
    while k:
        if k & 1:
            out *= y
        y *= y
        k >>= 1
    return out


@njit(cache=True, inline="always")
def small_shape(a, k):
    """The constants of :func:`gamma_small` for the shape ``a`` in (0, 1): ``(k, 1 / a, r,
    1 / r, -1 / (1 - a))`` with w = a / (e (1 - a)) and r = 1 / (1 + w). ``k`` is the integer
    1 / a when a is the reciprocal of one (PSRL's prior 1/S: pass S), whose power is then
    taken by repeated squaring, else 0 (the power 1 / a by ``**``).

    Callers that draw many variates of one shape compute them once.
    """
    w = a / (math.e * (1.0 - a))
    r = 1.0 / (1.0 + w)
    return k, 1.0 / a, r, 1.0 / r, -1.0 / (1.0 - a)


@njit(cache=True, inline="always")
def gamma_small(st, shape):
    """Gamma(a) for a in (0, 1) by the rejection sampler of Liu, Martin and Syring (2017) on
    the scale z = -a ln X; ``shape`` = :func:`small_shape`'s constants of a.

    z has density exp(-z - exp(-z / a)) / Gamma(a + 1), under the envelope exp(-z) (z >= 0)
    and w lambda exp(lambda z) (z < 0, lambda = 1/a - 1), a mixture that puts r = 1 / (1 + w)
    on z >= 0. Each try reads one 64-bit word W: U = its high 53 bits as a uniform
    (:func:`to_unit`), B = its low 11 bits. With U <= r: X = (U / r)^(1/a) (z = -ln(U / r)),
    accepted when V < exp(-X), V = (B + U') / 2048 and U' the next uniform, drawn only when
    needed: X <= 1/2048 and B < 2047 give V <= 2047/2048 < exp(-X) without it (most tries when
    a is small). Otherwise X = U'^(-1 / (1 - a)) (z = ln(U') / lambda < 0), accepted when the
    next uniform is below X exp(1 - X). The share of tries accepted is Gamma(a + 1) / (1 + w):
    0.995 for a = 1/200, 0.78 for a = 0.3.

    Returns X, or ln X when X < TINY (computed as (1/a) ln(U / r), so it stays finite where X
    underflows).
    """
    k, power, r, inv_r, tail = shape
    while True:
        st[0] += GOLDEN
        word = mix64(st[0])
        u = to_unit(word)
        if u <= r:
            y = u * inv_r
            x = _powi(y, k) if k > 0 else y**power
            b = np.float64(word & _LOW11)
            if (x <= _INV_2048 and b < 2047.0) or (b + uniform(st)) * _INV_2048 < math.exp(-x):
                return x if x >= TINY else power * math.log(y)
        else:
            x = uniform(st) ** tail
            if uniform(st) < x * math.exp(1.0 - x):
                return x


@njit(cache=True)
def beta(st, a, b):
    """Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b) independent."""
    x = gamma(st, a)
    y = gamma(st, b)
    return x / (x + y)


@njit(cache=True, inline="always")
def argmax_of_max(values, m, st):
    """Index of an entry equal to the maximum ``m`` of ``values``, uniformly among the tied.

    A branch-free pass finds the first maximal entry and counts them; only when the maximum is
    tied does a reservoir pass draw from ``st`` (for the second tied entry onwards), so loops
    whose maximum is usually unique (UCB-like indices) take no draw and no mispredicted branch.
    """
    n = values.shape[0]
    idx = n
    ties = 0
    for k in range(n - 1, -1, -1):
        hit = values[k] == m
        ties += hit
        idx = k if hit else idx
    if ties <= 1:
        return idx if ties == 1 else 0  # no maximal entry: all NaN
    ties = 0
    for k in range(n):
        if values[k] == m:
            ties += 1
            if ties == 1 or uniform(st) * ties <= 1.0:
                idx = k
    return idx


@njit(cache=True)
def argmax_random(values, st):
    """Index of the largest entry, ties broken uniformly at random (see argmax_of_max)."""
    m = values[0]
    for k in range(1, values.shape[0]):
        v = values[k]
        m = v if v > m else m
    return argmax_of_max(values, m, st)

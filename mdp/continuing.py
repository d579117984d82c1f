"""The continuing (infinite-horizon, average-reward) setting: one long run per seed, no resets.

>>> import mdp
>>> res = mdp.run_continuing("riverswim", "psrl,ucrl2", steps=2000, runs=2)
>>> res.regret.shape[:2], res.samples_per_step
((2, 2), 1)

Agents (``CONTINUING_REGISTRY``): ``ce-greedy``, ``ce-optimistic``, ``psrl`` and ``ucrl2``.
Time is cut into UCRL2's episodes (the doubling trick); at each episode start the agent solves
its model (plug-in, sampled, or UCRL2's extended MDP) for the average reward and follows the
greedy stationary policy. Exact definitions in docs/algorithms.md.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from tracking import checkpoints as cp
from tracking import memory
from tracking.results import Result
from tracking.runner import Progress, StopRequest, execute, run_interruptible
from tracking.settings import RUNS, SEED
from tracking.specs import build_all
from tracking.validate import InputError

from .agents import CONTINUING_REGISTRY, MDPAgent
from .loop import ModelJob, kernel_model
from .model import FiniteMDP
from .setting import CONTINUING, REWARDS

#: Cap on the sweeps of every value iteration the agents run (planning and deployment).
MAX_SWEEPS = 10_000
#: Span tolerance of the value iterations of both readouts of simple regret.
DEPLOY_EPSILON = 1e-6
#: Tolerance of the relative value iteration that gives the true model's optimal gain.
RHO_EPSILON = 1e-10


def optimal_gain(m: FiniteMDP) -> float:
    """rho*, the optimal average reward of ``m``.

    Relative value iteration (mdp.relative_value_iteration, epsilon 1e-10) gives g* within
    5e-11 and a greedy policy whose gain is within 1e-10 of it; rho* is that policy's exact gain
    from the start distribution (:func:`gain`), so that an optimal policy has simple regret 0
    to rounding (it is optimal whenever the gains of the policies differ by more than 1e-10).

    Raises ValueError when relative value iteration does not converge: the optimal gain then
    depends on the start state (the MDP is not weakly communicating) and the continuing regret
    T rho* - sum R is not defined by one rho*.
    """
    from .solvers import relative_value_iteration

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = relative_value_iteration(m, epsilon=RHO_EPSILON)
    if not res.converged:
        raise InputError(f"{m.name}: the continuing setting needs an MDP whose optimal gain is "
                         "the same from every state (relative value iteration did not converge "
                         f"to epsilon {RHO_EPSILON:g})")
    exact = float(gain(m, res.policy) @ m.initial)
    if abs(exact - res.gain) > res.bound:  # cannot happen when the MDP is weakly communicating
        raise InputError(f"{m.name}: the optimal gain depends on the start state; the "
                         "continuing setting needs a weakly communicating MDP")
    return exact


def gain(m: FiniteMDP, policy) -> np.ndarray:
    """Exact gain g(s) of a stationary policy from every start state s, multichain included.

    ``policy`` is (S,) integer actions or (S, A) action probabilities. g = P* r_pi, with P* the
    Cesaro limit of the policy's chain: each closed class's stationary distribution, and on the
    transient states (I - P_TT) g_T = P_{T, rec} g_rec (docs/algorithms.md). The gain from the
    start distribution is ``gain(m, policy) @ m.initial``.
    """
    from ._linalg_kernels import gain_vector, gain_work

    if not isinstance(m, FiniteMDP):
        raise InputError(f"m must be a FiniteMDP, got {type(m).__name__}")
    S, A = m.n_states, m.n_actions
    pol = np.asarray(policy)
    if pol.dtype.kind in "iu":
        if pol.shape != (S,) or np.any((pol < 0) | (pol >= A)):
            raise InputError(f"policy must hold S = {S} actions in [0, {A})")
        pi = np.zeros((S, A))
        pi[np.arange(S), pol] = 1.0
    else:
        pi = np.ascontiguousarray(pol, dtype=np.float64)
        if pi.shape != (S, A) or np.any(pi < 0) or not np.allclose(pi.sum(axis=1), 1.0):
            raise InputError(f"policy must be (S, A) = ({S}, {A}) action probabilities")
    g = np.zeros(S)
    gain_vector(m.indptr, m.indices, m.probs, np.ascontiguousarray(m.R), pi, gain_work(S), g,
                np.zeros(1, dtype=np.uint8))
    return g


class ContinuingJob(ModelJob):
    """A validated continuing experiment, run batch by batch by ``tracking.runner.execute``.

    Its ``config`` is the problem's complete table in an experiment file (setting
    ``"continuing"``, docs/experiments.md).
    """

    setting = CONTINUING.name

    def __init__(self, m, agents, steps, runs, seed=0, checkpoints=None,
                 rewards: str = REWARDS.default, name: str | None = None,
                 epsilon: float = CONTINUING.epsilon,
                 env_args: dict[str, Any] | None = None) -> None:
        self.seed = SEED.check(seed)
        self.horizon = CONTINUING.key("steps").check(steps)
        self.runs = RUNS.check(runs)
        self.rewards = REWARDS.check(rewards)
        env_keys = self._set_model(m, env_args, rewards, name)
        self.agent_objs = build_all(CONTINUING_REGISTRY, agents, "continuing MDP")
        self.checkpoints = cp.as_grid(checkpoints, self.horizon)
        self.samples_per_step = 1
        self.agents = tuple(a.label for a in self.agent_objs)
        self.config = {
            "name": self.problem,
            "setting": self.setting,
            **env_keys,
            "steps": self.horizon,
            "runs": self.runs,
            "seed": self.seed,
            "rewards": rewards,
            "epsilon": CONTINUING.key("epsilon").check(epsilon),
            "checkpoints": [int(s) for s in self.checkpoints],
            "agents": [a.spec for a in self.agent_objs],
        }
        m_ = self.model
        # steps, plus about S A log T plannings of a few hundred sweeps each
        sweeps = 300.0 * m_.n_states * m_.n_actions * np.log2(self.horizon + 1.0)
        self.work_per_run = ((float(self.horizon) + sweeps) * (m_.nnz + m_.n_states *
                             m_.n_actions) * len(self.agents))
        self.check_memory(f"{m_.n_states} states x {m_.n_actions} actions, {self.horizon} steps")
        self.rho_star = optimal_gain(self.model)
        self.info = {"rho_star": self.rho_star, "n_states": m_.n_states,
                     "n_actions": m_.n_actions,
                     "agent_names": [a.name for a in self.agent_objs],
                     "families": [a.family for a in self.agent_objs]}

    # --- the memory guard (tracking.runner.Job.memory_phases) ------------------------------
    def solve_bytes(self) -> float:
        """rho* (optimal_gain): relative value iteration's w, u, v, d, bias, policy, |u| (S each),
        q and its argmax (S, A each); then gain's pi (S, A), its work (mdp/_linalg_kernels.py,
        GainWork: two (S, S), 11 of S), g and an index (S each)."""
        S, A = self.model.n_states, self.model.n_actions
        return 8.0 * (2.0 * S * S + 3.0 * S * A + 20.0 * S) + memory.SCRATCH

    def run_state_bytes(self) -> float:
        m = self.model
        return max(run_state_bytes(a, m.n_states, m.n_actions, m.nnz) for a in self.agent_objs)

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> ContinuingJob:
        """The job of a normalised problem table (experiments.files.parse)."""
        m, args = cls._model_of(table)
        return cls(m, table["agents"], table["steps"], table["runs"], table["seed"],
                   table.get("checkpoints"), table.get("rewards", REWARDS.default),
                   table["name"], table.get("epsilon", CONTINUING.epsilon), args)

    def extra_layout(self, runs: int) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        """``episodes`` (agents, runs, checkpoints) int64."""
        return {"episodes": ((len(self.agents), runs, self.checkpoints.size), np.dtype(np.int64))}

    def run_batch(self, start: int, stop: int, progress: Progress | None,
                  should_stop: StopRequest | None = None) -> dict[str, np.ndarray]:
        from ._continuing_loop import simulate

        m = self.model
        n, c = stop - start, self.checkpoints.size
        regret = np.zeros((len(self.agents), n, c))
        greedy = np.zeros((len(self.agents), n, c))
        behaviour = np.zeros((len(self.agents), n, c))
        episodes = np.zeros((len(self.agents), n, c), dtype=np.int64)
        model = kernel_model(m)
        initial = np.ascontiguousarray(m.initial)
        seeds = self.run_seeds(start, stop)
        for i, agent in enumerate(self.agent_objs):
            run_interruptible(simulate, agent.params(), model, initial, seeds,
                              self.checkpoints, self.rho_star, self.rewards == "bernoulli",
                              MAX_SWEEPS, DEPLOY_EPSILON, regret[i], greedy[i], behaviour[i],
                              episodes[i], should_stop=should_stop)
            if progress is not None:
                progress(n * self.horizon)
        return {"regret": regret, "simple_regret_greedy": greedy,
                "simple_regret_behaviour": behaviour, "episodes": episodes}


def run_state_bytes(agent: MDPAgent, n_states: int, n_actions: int, nnz: int) -> float:
    """Bytes one run of ``mdp._continuing_loop._one_run`` allocates for ``agent``, which every
    thread holds: the start cdf and g (S each), the readout stream (one word), the visit counts
    before, during and in all (S A each), the pending steps (five arrays of PENDING), the exact
    gain's work (two dense (S, S), 11 of S), plus the agent's state, the footprint its pieces
    declare (mdp/_hooks.py ``register_footprint``). The readouts plan and evaluate in these
    arrays."""
    from . import _pieces_model_based  # noqa: F401 (the footprints)
    from ._continuing_loop import PENDING
    from ._hooks import footprint

    S, sa = float(n_states), float(n_states) * n_actions
    n = 2 * S + 1 + 3 * sa + 5 * PENDING + 2 * S * S + 11 * S
    n += footprint("continuing", agent.params(), n_states, n_actions, nnz)
    return 8.0 * n + memory.SCRATCH


def run_continuing(
    m: str | FiniteMDP,
    agents: str | Sequence[str | MDPAgent] | MDPAgent,
    steps: int,
    runs: int,
    seed: int = 0,
    checkpoints: Sequence[int] | np.ndarray | None = None,
    rewards: str = REWARDS.default,
    progress: Progress | None = None,
    name: str | None = None,
) -> Result:
    """Run every agent for ``steps`` steps without resets, ``runs`` times (average reward).

    Parameters
    ----------
    m : FiniteMDP or str
        The true model (a built-in name such as ``"riverswim"`` is built with its defaults). Its
        optimal gain must not depend on the start state (weakly communicating MDPs).
    agents : str or list
        Names with optional parameters (``"psrl,ucrl2:delta=0.1"``) or objects, from
        ``mdp.agents.CONTINUING_REGISTRY``.
    steps : int
        T, the number of steps of each run.
    runs : int
        Independent runs. Run r uses the seed ``SeedSequence(seed, spawn_key=(r,))``.
    seed : int
        Master seed.
    checkpoints : list of int, optional
        Steps at which curves are recorded; default a log-spaced grid ending at T.
    rewards : {"mean", "bernoulli"}
        Observed rewards: R[s, a] itself, or Bernoulli(R[s, a]) draws (R must lie in [0, 1]).
    progress : callable, optional
        Called with the number of environment steps done since the previous call.
    name : str, optional
        The problem's name (default: the environment's or the model's), which names its files
        when saved: see ``tracking.paths.NAME_RULE``.

    Returns
    -------
    Result
        ``regret[i, r, c]``: agent i's pseudo-regret t rho* - sum_{u < t} R(s_u, a_u) after
        t = steps[c] steps of run r (R the true mean rewards); ``simple_regret_greedy`` and
        ``simple_regret_behaviour`` rho* minus the exact gain, from the start distribution, of
        the agent's two readouts (docs/algorithms.md);
        ``extra["episodes"]`` the episode in progress at each checkpoint; ``steps`` in steps,
        ``samples_per_step`` = 1; ``info["rho_star"]`` = rho*.
    """
    job = ContinuingJob(m, agents, steps, runs, seed, checkpoints, rewards, name)
    return execute(job, progress)

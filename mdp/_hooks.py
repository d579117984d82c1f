"""The functions the MDP loops call on an agent, implemented per parameter record.

Each hook dispatches on the type of its first argument, the agent's parameter record
(mdp/agents.py); an agent's pieces (mdp/_pieces_*.py) register an implementation for each hook
of the loops it runs in (tracking.dispatch.register). ``state`` is the agent's own typed state,
made by its ``init`` once per run. ``st`` is the run's agent stream (every random draw of the
agent), ``stop`` the loop's stop flag (planners that may take long return early when it is set).
The agent learns from :class:`~mdp._env_kernels.Trajectory` records of observed steps, handed
over in the order they happened; acting never depends on a step it has not yet been handed.

Episodic loop (mdp/_episodic_loop.py), in the order of an episode:

* ``init_episodic(params, model, horizon, episodes)`` -> state;
* ``episode_policy(params, state, k, st, stop)`` -> the policy of episode k, a policy record
  (:class:`~mdp._planning_kernels.Deterministic`, :class:`~mdp._planning_kernels.Stochastic`,
  or an agent's own with ``act`` and ``evaluate_policy`` registered): the loop acts with it
  and, with exact regret, evaluates it exactly;
* ``learn(params, state, trajectory, n)`` once the episode is over: its n = H steps (entry h is
  step h);
* the two readouts of simple regret at a checkpoint, after k episodes, each a Stochastic
  record (ties split evenly): ``greedy_policy(params, state, stop)``, the greedy policy of
  what it has learned (no random draw), and ``behaviour_policy(params, state, k, readout,
  stop)``, the policy it would act with in episode k (0-based), its own draws averaged out
  but PSRL's posterior sample, drawn from ``readout``, a stream of the readouts' own (keyed by
  the run seed and the checkpoint), so recording never changes what the agent does next. A
  readout may overwrite the agent's planning arrays: the next episode plans afresh.

Continuing loop (mdp/_continuing_loop.py), whose policies are stationary:

* ``init_continuing(params, model, steps, max_sweeps)`` -> state;
* ``stationary_policy(params, state, t, epsilon, st, stop)`` -> int64[S], the policy of the
  episode that starts after t steps (t at least 1), planned to tolerance ``epsilon``;
* ``learn`` as above, the first n entries being the steps since the last call (handed over
  before every planning and deployment, and whenever the record is full);
* the two readouts at a checkpoint after t steps, float64[S, A] each:
  ``greedy_stationary(params, state, epsilon, stop)``, planned to tolerance ``epsilon``, and
  ``behaviour_stationary(params, state, t, epsilon, readout, stop)``, the policy of an
  episode that would start now (t at least 1), planned as ``stationary_policy`` plans it but
  to tolerance ``epsilon`` and with ties split evenly; ``readout`` as above.

Beside its pieces, an agent declares its footprint in each loop (:func:`register_footprint`):
the number of 8-byte words its state holds (what its ``init`` allocates, the model's support
arrays, which the state only refers to, excluded), as a function of (params, n_states,
n_actions, nnz, horizon); the continuing loop passes horizon 0. The memory guard adds it to the
loop's own arrays (``run_state_bytes`` in mdp/loop.py and mdp/continuing.py).
"""

from __future__ import annotations

from collections.abc import Callable

from tracking.dispatch import hook

#: ``FOOTPRINTS[loop][Record](params, n_states, n_actions, nnz, horizon)``: words of the state
#: of an agent of record ``params``.
FOOTPRINTS: dict[str, dict[type, Callable[[tuple, int, int, int, int], float]]] = {
    "episodic": {}, "continuing": {}}

init_episodic = hook("init_episodic", ("params", "model", "horizon", "episodes"))
episode_policy = hook("episode_policy", ("params", "state", "k", "st", "stop"))
learn = hook("learn", ("params", "state", "trajectory", "n"))
greedy_policy = hook("greedy_policy", ("params", "state", "stop"))
behaviour_policy = hook("behaviour_policy", ("params", "state", "k", "readout", "stop"))
#: The hooks of the episodic loop, which every agent of mdp.run implements.
EPISODIC_HOOKS = (init_episodic, episode_policy, learn, greedy_policy, behaviour_policy)

init_continuing = hook("init_continuing", ("params", "model", "steps", "max_sweeps"))
stationary_policy = hook("stationary_policy", ("params", "state", "t", "epsilon", "st", "stop"))
greedy_stationary = hook("greedy_stationary", ("params", "state", "epsilon", "stop"))
behaviour_stationary = hook("behaviour_stationary",
                            ("params", "state", "t", "epsilon", "readout", "stop"))


def register_footprint(cls: type, loop: str,
                       words: Callable[[tuple, int, int, int, int], float]) -> None:
    """Declare the words of the state of agents of record ``cls`` in ``loop`` ("episodic" or
    "continuing"): ``words(params, n_states, n_actions, nnz, horizon)``, ``params`` the
    agent's record (an instance of ``cls``)."""
    FOOTPRINTS[loop][cls] = words


def footprint(loop: str, params: tuple, n_states: int, n_actions: int, nnz: int,
              horizon: int = 0) -> float:
    """Words of the state of the agent of record ``params`` in ``loop``."""
    try:
        words = FOOTPRINTS[loop][type(params)]
    except KeyError:
        raise TypeError(f"no {loop} footprint registered for {type(params).__name__}") from None
    return float(words(params, n_states, n_actions, nnz, horizon))

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
* ``episode_policy(params, state, k, st, stop)`` -> the policy of episode k, a
  :class:`~mdp._planning_kernels.Deterministic` or :class:`~mdp._planning_kernels.Stochastic`
  record (the loop evaluates it exactly and acts with it);
* ``learn(params, state, trajectory, n)`` once the episode is over: its n = H steps (entry h is
  step h);
* ``deploy(params, state, stop)`` -> the policy it would deploy now (Stochastic; no random
  draw).

Continuing loop (mdp/_continuing_loop.py), whose policies are stationary:

* ``init_continuing(params, model, steps, max_sweeps)`` -> state;
* ``stationary_policy(params, state, t, epsilon, st, stop)`` -> int64[S], the policy of the
  episode that starts after t steps (t at least 1), planned to tolerance ``epsilon``;
* ``learn`` as above, the first n entries being the steps since the last call (handed over
  before every planning and deployment, and whenever the record is full);
* ``deploy_stationary(params, state, epsilon, stop)`` -> float64[S, A], the deployed policy.
"""

from __future__ import annotations

from tracking.dispatch import hook

init_episodic = hook("init_episodic", ("params", "model", "horizon", "episodes"))
episode_policy = hook("episode_policy", ("params", "state", "k", "st", "stop"))
learn = hook("learn", ("params", "state", "trajectory", "n"))
deploy = hook("deploy", ("params", "state", "stop"))

init_continuing = hook("init_continuing", ("params", "model", "steps", "max_sweeps"))
stationary_policy = hook("stationary_policy", ("params", "state", "t", "epsilon", "st", "stop"))
deploy_stationary = hook("deploy_stationary", ("params", "state", "epsilon", "stop"))

"""The bandit agents' kernel pieces, grouped by family; importing this package registers
every agent's pieces for its parameter records (see ``hooks``)."""

from . import greedy, policy_gradient, softmax, thompson, ucb  # noqa: F401  (registration)

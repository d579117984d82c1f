"""Defaults shared by experiment files, the labs' jobs and the command line.

This module imports nothing: the command line reads it without importing numba.
"""

from __future__ import annotations

#: Simple-regret level of "samples to epsilon" per setting, when a problem gives none.
EPSILON = {"bandit": 0.01, "mdp": 0.1, "continuing": 0.1}

"""Checkpoint grids: the rounds (or episodes) at which regret curves are recorded."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .validate import InputError


def log_grid(horizon: int, points: int = 100) -> np.ndarray:
    """About ``points`` log-spaced rounds in ``1 .. horizon``, always ending at ``horizon``.

    The rounds are ``round(horizon ** (i / (points - 1)))`` for ``i = 0 .. points - 1``,
    deduplicated, so small horizons give fewer points (every round when ``horizon <= points``).
    """
    if horizon < 1:
        raise InputError(f"horizon must be >= 1, got {horizon}")
    if points < 2:
        raise InputError(f"points must be >= 2, got {points}")
    grid = np.unique(np.rint(np.logspace(0.0, np.log10(horizon), points)).astype(np.int64))
    grid = grid[(grid >= 1) & (grid <= horizon)]
    if grid[-1] != horizon:
        grid = np.append(grid, horizon)
    return grid


def as_grid(checkpoints: Sequence[int] | np.ndarray | None, horizon: int) -> np.ndarray:
    """Validate user checkpoints (or build the default grid): increasing, in ``1 .. horizon``.

    The horizon is appended when missing, so every curve ends at the horizon.
    """
    if checkpoints is None:
        return log_grid(horizon)
    grid = np.asarray(checkpoints)
    if grid.ndim != 1 or grid.size == 0:
        raise InputError("checkpoints must be a non-empty list of rounds")
    if not np.issubdtype(grid.dtype, np.integer):
        if not np.all(np.isfinite(grid)) or np.any(grid != np.rint(grid)):
            raise InputError("checkpoints must be whole numbers")
        grid = grid.astype(np.int64)
    grid = grid.astype(np.int64)
    if grid[0] < 1 or grid[-1] > horizon:
        raise InputError(f"checkpoints must lie in 1 .. horizon ({horizon})")
    if np.any(np.diff(grid) <= 0):
        raise InputError("checkpoints must be strictly increasing")
    if grid[-1] != horizon:
        grid = np.append(grid, horizon)
    return grid

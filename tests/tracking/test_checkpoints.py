import numpy as np
import pytest

from tracking.checkpoints import as_grid, log_grid


@pytest.mark.parametrize("horizon", [1, 2, 7, 100, 101, 12345, 10**7])
def test_log_grid_ends_at_horizon_and_is_increasing(horizon):
    g = log_grid(horizon)
    assert g[0] == 1 and g[-1] == horizon
    assert np.all(np.diff(g) > 0)
    assert g.size <= 101
    if horizon <= 50:
        assert g.size == horizon


def test_as_grid_validates_and_appends_horizon():
    assert as_grid([1, 5], 10).tolist() == [1, 5, 10]
    for bad, msg in [([0, 3], "lie in"), ([3, 3], "strictly"), ([11], "lie in"), ([], "non-empty"),
                     ([1.5], "whole")]:
        with pytest.raises(ValueError, match=msg):
            as_grid(bad, 10)

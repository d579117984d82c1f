"""Certainty equivalence with a generative model."""

import numpy as np
import pytest

import mdp


def test_model_error_falls_like_one_over_root_n():
    """||Q* - Q_hat*||_inf for N = 16 .. 4096 samples per pair on a garnet, 20 runs.

    Each 4x step in N should halve the error (the sqrt(1 / N) rate). The run-averaged error has
    a relative standard error of a few percent here; we require every 4x step to divide the
    error by between 1.5 and 2.7 (a 1/N rate would divide it by 4, a 1/N^0.25 rate by 1.4),
    and the fitted log-log slope to lie within 0.1 of -1/2.
    """
    res = mdp.generative(mdp.envs.garnet(30, 3, 5, seed=2), 0.9, [16, 64, 256, 1024, 4096], 20)
    err = res.model_error.mean(axis=0)
    steps = err[:-1] / err[1:]
    assert np.all((steps > 1.5) & (steps < 2.7)), steps
    slope = np.polyfit(np.log(res.samples_per_pair), np.log(err), 1)[0]
    assert abs(slope + 0.5) < 0.1
    # the deployed policy's loss falls too, and is never negative
    assert np.all(res.q_error >= -1e-9) and np.all(res.value_gap >= -1e-9)
    assert res.q_error[:, -1].mean() < res.q_error[:, 0].mean()


@pytest.mark.nojit
def test_nested_samples_and_determinism():
    m = mdp.envs.riverswim(5)
    a = mdp.generative(m, 0.95, [5, 50], 3, seed=1)
    b = mdp.generative(m, 0.95, [50], 3, seed=1)
    np.testing.assert_array_equal(a.model_error[:, 1], b.model_error[:, 0])


@pytest.mark.parametrize(
    "kwargs,message",
    [({"gamma": 1.0}, "gamma must be < 1"), ({"samples_per_pair": [10, 5]}, "increasing"),
     ({"samples_per_pair": 0}, ">= 1"), ({"runs": 0}, "runs must be >= 1")],
)
def test_validation(kwargs, message):
    args = {"m": mdp.envs.riverswim(4), "gamma": 0.9, "samples_per_pair": [4], "runs": 1}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        mdp.generative(**args)

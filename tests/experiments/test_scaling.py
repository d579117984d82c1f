"""Scaling laws of n(epsilon, delta): fits, ratios, selection and verdicts on planted data.

Planted data: per-run last-exit times T = c * size^b * exp(sigma Z), Z standard normal, so the
(1 - delta) quantile is c * size^b * exp(sigma z_{1-delta}) and log n is linear in log size
with slope b. The Kaplan-Meier quantile of n runs estimates it with a standard deviation, on
the log scale, of about sigma sqrt(delta (1 - delta) / n) / phi(z_{1-delta}) (the asymptotic
sd of a sample quantile), so a slope fitted over sizes with sum (x - mean x)^2 = Sxx has a
standard error se = that sd / sqrt(Sxx). Tolerances are 4 se (seeds fixed).
"""

import math
import re

import numpy as np
import pytest

from experiments import scaling as sc
from tracking import stats

pytestmark = pytest.mark.nojit

DELTA = 0.1
SIGMA = 0.3
RUNS = 400
SIZES = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
RESAMPLES = 300


def _z(p: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(p))


def _se(sizes, runs=RUNS, sigma=SIGMA, delta=DELTA) -> float:
    """The standard error of the fitted slope from the quantiles' sampling error."""
    z = _z(1 - delta)
    sd = sigma * math.sqrt(delta * (1 - delta) / runs) / (math.exp(-z * z / 2)
                                                         / math.sqrt(2 * math.pi))
    x = np.log(np.asarray(sizes, float))
    return sd / math.sqrt(((x - x.mean()) ** 2).sum())


def _exits(gen, size, c, b, runs=RUNS, cap=None, sigma=SIGMA) -> stats.ExitTimes:
    t = c * size**b * np.exp(sigma * gen.standard_normal(runs))
    if cap is None:
        return stats.ExitTimes(t, np.ones(runs, bool))
    return stats.ExitTimes(np.minimum(t, cap), t <= cap)


def _cells(agent, c, b, seed, sizes=SIZES, cap=None, runs=RUNS, family="bandit"):
    gen = np.random.default_rng(seed)
    return [sc.Cell(family, s, agent, _exits(gen, s, c, b, runs, cap), DELTA, 0.01)
            for s in sizes]


def _fit(cells, seed=0, censor=None, **kw):
    points = [sc._point(c) for c in cells]
    draws = [c.draws(seed + k, RESAMPLES) for k, c in enumerate(cells)]
    value = [p[0] for p in points]
    codes = [p[1] for p in points] if censor is None else censor
    return sc.fit_exponent([c.size for c in cells], value, codes, draws, **kw)


# --- the Tobit fit -----------------------------------------------------------------------

def test_without_censoring_the_fit_is_ordinary_least_squares():
    gen = np.random.default_rng(0)
    x = np.log(np.array(SIZES, float))
    y = 1.0 + 0.7 * x + gen.normal(0, 0.2, (5, x.size))
    fit = sc.tobit_fit(x, y, np.zeros(y.shape, int))
    for r in range(5):
        b, a = np.polyfit(x, y[r], 1)
        rss = ((y[r] - a - b * x) ** 2).sum()
        assert fit.b[r] == pytest.approx(b, rel=1e-12)
        assert fit.a[r] == pytest.approx(a, rel=1e-12)
        assert fit.sigma[r] == pytest.approx(math.sqrt(rss / x.size), rel=1e-12)


def test_the_censored_fit_is_a_maximum_of_the_likelihood():
    # the gradient in Olsen's parameters vanishes at the returned point, and moving any
    # parameter lowers the log-likelihood (it is concave there)
    gen = np.random.default_rng(1)
    x = np.log(np.array(SIZES, float))
    y = 2.0 + 1.1 * x + gen.normal(0, 0.3, (4, x.size))
    code = np.zeros(y.shape, int)
    code[:, -3:] = sc.RIGHT
    y[:, -3:] = np.minimum(y[:, -3:], 2.0 + 1.1 * x[-4])
    code[1, 0] = sc.LEFT
    fit = sc.tobit_fit(x, y, code)
    assert fit.converged.all()
    theta = np.stack([fit.a / fit.sigma, fit.b / fit.sigma, 1 / fit.sigma], axis=1)
    use = np.isfinite(y)
    ll, grad, _ = sc._loglik(theta, x, y, code, use, derivatives=True)
    assert np.abs(grad).max() < 1e-6
    for j in range(3):
        for step in (-1e-3, 1e-3):
            moved = theta.copy()
            moved[:, j] += step
            assert (sc._loglik(moved, x, y, code, use) < ll).all()


def test_fewer_than_three_cells_or_two_measured_gives_no_fit():
    cells = _cells("pg", 10.0, 1.0, seed=2, sizes=(10, 20))
    fit = _fit(cells)
    assert fit.estimate is None and fit.bound == "none" and "3 needed" in fit.reason
    cells = _cells("pg", 10.0, 1.0, seed=2, sizes=(10, 20, 50, 100), cap=1.0)  # all censored
    fit = _fit(cells)
    assert fit.estimate is None and "0 measured" in fit.reason and fit.censored == 4
    assert "no fit" in fit.text()


# --- planted laws ------------------------------------------------------------------------

def test_the_fit_recovers_a_planted_exponent():
    b = 1.3
    fit = _fit(_cells("pg", 50.0, b, seed=3))
    tol = 4 * _se(SIZES)
    assert abs(fit.estimate - b) < tol
    assert fit.bound == "two_sided" and fit.censored == 0 and fit.failed_draws == 0
    assert fit.low <= fit.estimate <= fit.high
    assert fit.low < b < fit.high  # the bootstrap interval covers the planted exponent


def test_with_the_largest_sizes_censored_tobit_recovers_the_exponent_and_naive_ols_does_not():
    b, c = 1.2, 20.0
    # 1.3 times the true quantile at size 1000: there about 1.5% of the runs exceed the cap,
    # from 2000 on more than delta of them do (the quantile at 2000 is 2^1.2 / 1.3 = 1.8 caps)
    cap = 1.3 * c * 1000**b * math.exp(SIGMA * _z(1 - DELTA))
    cells = _cells("pg", c, b, seed=4, cap=cap)
    fit = _fit(cells)
    assert fit.censored == 3 and fit.measured == 7
    # the censored cells add information: the measured cells' standard error is conservative
    tol = 4 * _se(SIZES[:7])
    assert abs(fit.estimate - b) < tol
    naive = _fit(cells, censor=[sc.MEASURED] * len(cells))  # censored values read as measured
    assert naive.estimate < b - tol  # the capped values flatten the line
    # every cell beyond 1000 is censored: the exponent is only bounded below
    assert fit.bound == "lower_bound" and fit.high is None and fit.low <= fit.estimate
    assert "K = 2,000" not in fit.reason and "2,000" in fit.reason
    assert fit.text().startswith(">= ")


def test_left_censored_tail_gives_an_upper_bound_flag():
    b = 0.8
    cells = _cells("pg", 5.0, b, seed=5)
    value = [sc._point(c)[0] for c in cells]
    draws = [c.draws(k, RESAMPLES) for k, c in enumerate(cells)]
    # cells from 2000 on known only to be below a value that is above their truth
    codes = [sc.MEASURED] * 7 + [sc.LEFT] * 3
    value[7:] = [v * 1.5 for v in value[7:]]
    draws = draws[:7] + [sc.Draws(d.value * 1.5, np.full(d.value.size, sc.LEFT))
                         for d in draws[7:]]
    fit = sc.fit_exponent(SIZES, value, codes, draws)
    assert fit.bound == "upper_bound" and fit.low is None and fit.high >= fit.estimate
    assert abs(fit.estimate - b) < 4 * _se(SIZES[:7])


# --- draws and ratios --------------------------------------------------------------------

def test_cell_draws_are_censored_at_their_value_never_dropped():
    gen = np.random.default_rng(6)
    cap = 100.0 * math.exp(SIGMA * _z(1 - DELTA))  # the true quantile: resamples either way
    exits = _exits(gen, 100, 1.0, 1.0, runs=60, cap=cap)
    cell = sc.Cell("bandit", 100, "pg", exits, DELTA)
    d = cell.draws(seed=7, resamples=500)
    assert d.value.size == 500 and np.isfinite(d.value).all()
    censored = d.censor == sc.RIGHT
    assert 0 < censored.sum() < 500
    assert (d.value[censored] == cap).all()  # the largest time observed in the resample
    idx = stats.resample_indices(60, 7, 500)
    for i in np.flatnonzero(censored)[:3].tolist() + np.flatnonzero(~censored)[:3].tolist():
        q = stats.km_quantile(stats.ExitTimes(exits.time[idx[i]], exits.settled[idx[i]]), DELTA)
        assert q.estimate == d.value[i] and q.censored == censored[i]


def test_ratio_draws_map_to_tracking_stats_ratio_draws_and_kinds_follow_censoring():
    gen = np.random.default_rng(8)
    q = math.exp(SIGMA * _z(1 - DELTA))  # caps at the true quantiles: every kind of draw
    pg = sc.Cell("bandit", 10, "pg", _exits(gen, 10, 10.0, 1.0, runs=50, cap=100 * q), DELTA)
    ce = sc.Cell("bandit", 10, "ce", _exits(gen, 10, 1.0, 1.0, runs=50, cap=10 * q), DELTA)
    d = sc.paired_draws({"pg": pg, "ce": ce}, seed=9, resamples=800)
    r = sc.ratio_draws(d["pg"], d["ce"])
    mapped = np.where(r.censor == sc.RIGHT, np.inf, np.where(r.censor == sc.LEFT, 0.0, r.value))
    ref = stats.ratio_draws(pg.exits, ce.exits, DELTA, seed=9, resamples=800)
    assert np.array_equal(mapped, ref, equal_nan=True)
    kinds = {sc.RIGHT, sc.LEFT, sc.MEASURED} & set(r.censor[np.isfinite(r.value)].tolist())
    assert kinds == {sc.RIGHT, sc.LEFT, sc.MEASURED} and np.isnan(r.value).any()


@pytest.mark.parametrize("pg_cap, ce_cap, kind, code", [
    (None, None, "measured", sc.MEASURED), (1.0, None, "lower_bound", sc.RIGHT),
    (None, 1.0, "upper_bound", sc.LEFT), (1.0, 1.0, "none", None)])
def test_ratio_kinds_under_censoring(pg_cap, ce_cap, kind, code):
    gen = np.random.default_rng(10)
    pg = sc.Cell("bandit", 10, "pg", _exits(gen, 10, 10.0, 1.0, 100, pg_cap), DELTA)
    ce = sc.Cell("bandit", 10, "ce", _exits(gen, 10, 1.0, 1.0, 100, ce_cap), DELTA)
    ratio = stats.quantile_ratio(pg.exits, ce.exits, DELTA, resamples=200)
    value, got = sc._ratio_point(pg, ce)
    assert ratio.kind == kind
    if code is None:
        assert math.isnan(value)
    else:
        assert got == code and value == pytest.approx(ratio.estimate, rel=1e-15)


def _family(pg_c, pg_b, ce_c, ce_b, u_c, u_b, seed, cap=None, sizes=SIZES[:7], runs=RUNS):
    return (_cells("reinforce", pg_c, pg_b, seed, sizes, cap, runs)
            + _cells("ucb", ce_c, ce_b, seed + 1, sizes, None, runs)
            + _cells("ce-uniform", u_c, u_b, seed + 2, sizes, None, runs))


def test_the_factor_split_multiplies_to_the_ratio_draw_by_draw():
    cells = _family(100.0, 1.3, 10.0, 1.0, 20.0, 1.1, seed=11, sizes=(10, 100, 1000))
    row = {c.agent: c for c in cells if c.size == 100}
    d = sc.paired_draws(row, seed=12, resamples=500)
    ratio = sc.ratio_draws(d["reinforce"], d["ucb"])
    planning = sc.ratio_draws(d["reinforce"], d["ce-uniform"])
    exploration = sc.ratio_draws(d["ce-uniform"], d["ucb"])
    assert (ratio.censor == sc.MEASURED).all()
    np.testing.assert_allclose(planning.value * exploration.value, ratio.value, rtol=1e-13)
    res = sc.analyse_family(cells, "reinforce", "ucb", "ce-uniform", "K", resamples=200)
    for r in res.rows:
        assert r.planning.estimate * r.exploration.estimate == pytest.approx(r.ratio.estimate,
                                                                             rel=1e-13)


def test_family_laws_recover_each_agents_planted_exponent():
    cells = _family(100.0, 1.3, 10.0, 1.0, 20.0, 1.1, seed=13)
    res = sc.analyse_family(cells, "reinforce", "ucb", "ce-uniform", "K", resamples=RESAMPLES)
    tol = 4 * _se(SIZES[:7])
    for agent, b in (("reinforce", 1.3), ("ucb", 1.0), ("ce-uniform", 1.1)):
        assert abs(res.laws[agent].estimate - b) < tol
    assert res.best_pg.estimate == res.laws["reinforce"].estimate
    # the ratio's exponent is the difference of the laws (to the sampling error of both)
    assert abs(res.ratio.estimate - 0.3) < tol * math.sqrt(2)
    assert abs(res.planning.estimate - 0.2) < tol * math.sqrt(2)
    assert abs(res.exploration.estimate - 0.1) < tol * math.sqrt(2)
    assert [r.seed for r in res.rows] == list(range(7))


# --- best-agent selection ------------------------------------------------------------------

def test_selection_picks_the_planted_best_on_tuning_runs_not_the_lucky_one():
    gen = np.random.default_rng(14)
    tuning = {"pg-a": sc.Cell("b", 100, "pg-a", _exits(gen, 100, 1.0, 1.0), DELTA),
              "pg-b": sc.Cell("b", 100, "pg-b", _exits(gen, 100, 1.3, 1.0), DELTA)}
    # on evaluation runs pg-b is the luckier (its times scaled down by 30%)
    evaluation = {"pg-a": sc.Cell("b", 100, "pg-a", _exits(gen, 100, 1.0, 1.0), DELTA),
                  "pg-b": sc.Cell("b", 100, "pg-b", _exits(gen, 100, 1.3 * 0.7, 1.0), DELTA)}
    assert evaluation["pg-b"].quantile().estimate < evaluation["pg-a"].quantile().estimate
    pick = sc.select_best(tuning, evaluation)
    assert pick.agent == "pg-a" and pick.evaluation is evaluation["pg-a"]
    assert pick.ranking == ("pg-a", "pg-b")


def test_selection_order_measured_then_settled_share_then_smaller_bound_then_first():
    def cell(name, time, settled):
        return sc.Cell("b", 10, name, stats.ExitTimes(np.array(time, float),
                                                       np.array(settled, bool)), 0.2)

    cells = {"censored-more-settled": cell("c1", [1, 2, 9, 9], [1, 1, 0, 0]),
             "censored-bigger-bound": cell("c2", [1, 20, 20, 20], [1, 0, 0, 0]),
             "censored-smaller-bound": cell("c3", [1, 9, 9, 9], [1, 0, 0, 0]),
             "tie-second": cell("c5", [1, 9, 9, 9], [1, 0, 0, 0]),
             "measured-slow": cell("m1", [5, 6, 7, 8], [1, 1, 1, 1]),
             "measured-fast": cell("m2", [1, 2, 3, 4], [1, 1, 1, 1])}
    ranking = sc.select_best(cells, cells).ranking
    assert ranking == ("measured-fast", "measured-slow", "censored-more-settled",
                       "censored-smaller-bound", "tie-second", "censored-bigger-bound")


def test_choice_spread_spans_the_ratios_of_every_choice():
    gen = np.random.default_rng(15)
    pg = {f"pg{i}": sc.Cell("b", 10, f"pg{i}", _exits(gen, 10, 10.0 * (i + 1), 1.0, 100), DELTA)
          for i in range(3)}
    ce = {f"ce{i}": sc.Cell("b", 10, f"ce{i}", _exits(gen, 10, 1.0 + i, 1.0, 100), DELTA)
          for i in range(2)}
    spread = sc.choice_spread(pg, ce, "pg0", "ce0", resamples=200)
    est = [pg[n].quantile().estimate / ce["ce0"].quantile().estimate for n in pg]
    assert spread.pg_range == (pytest.approx(min(est)), pytest.approx(max(est)))
    est = [pg["pg0"].quantile().estimate / ce[n].quantile().estimate for n in ce]
    assert spread.ce_range == (pytest.approx(min(est)), pytest.approx(max(est)))


# --- verdict sentences -------------------------------------------------------------------

NUM = r"(-?[\d,]+(?:\.\d+)?)"


def _close(text: str, value: float) -> bool:
    """``text`` reads back as ``value`` to the 3 significant digits it is printed with (a
    relative error of at most 0.5%)."""
    return abs(float(text.replace(",", "")) - value) <= 5e-3 * abs(value)


@pytest.mark.parametrize("factor, supported", [(10.0, False), (300.0, True)])
def test_verdict_sentences_carry_the_computed_numbers(factor, supported):
    cells = _family(factor, 1.0, 1.0, 1.0, 2.0, 1.0, seed=16, sizes=(10, 30, 100, 300))
    res = sc.analyse_family(cells, "reinforce", "ucb", "ce-uniform", "K", resamples=RESAMPLES)
    text = " ".join(sc.verdict(res))
    m = re.search(rf"n\(0\.01, 0\.1\) of reinforce grows as K\^{NUM} \[{NUM}, {NUM}\]", text)
    fit = res.best_pg
    assert [float(g) for g in m.groups()] == [round(fit.estimate, 2), round(fit.low, 2),
                                              round(fit.high, 2)]
    m = re.search(rf"\(ucb\) grows as K\^{NUM} \[{NUM}, {NUM}\]", text)
    assert float(m.group(1)) == round(res.best_ce.estimate, 2)
    m = re.search(rf"The ratio at K = {NUM} is {NUM} \[{NUM}, {NUM}\], of which planning "
                  rf"{NUM} \[{NUM}, {NUM}\] and exploration {NUM} \[{NUM}, {NUM}\]", text)
    last = res.rows[-1]
    assert float(m.group(1).replace(",", "")) == last.size
    for g, v in zip(m.groups()[1:], [last.ratio.estimate, last.ratio.low, last.ratio.high,
                                     last.planning.estimate, last.planning.low,
                                     last.planning.high, last.exploration.estimate,
                                     last.exploration.low, last.exploration.high]):
        assert _close(g, v), (g, v)
    m = re.search(rf"The ratio grows as K\^{NUM} \[{NUM}, {NUM}\]", text)
    assert float(m.group(1)) == round(res.ratio.estimate, 2)
    # "not supported" exactly when the planted ratio is below the claim's 100
    assert ("is not supported here" in text) == (factor < 100)
    assert ("is supported here" in text) == supported
    if not supported:
        m = re.search(rf"the largest, {NUM}, at K = {NUM}", text)
        top = max(res.rows, key=lambda r: r.ratio.high)
        assert _close(m.group(1), top.ratio.high) and float(m.group(2)) == top.size


def test_verdict_states_censored_tail_as_bounds():
    # 1.3 times PG's true quantile at K = 200: censored from K = 500 on
    cap = 1.3 * 100.0 * 200**1.5 * math.exp(SIGMA * _z(1 - DELTA))
    cells = _family(100.0, 1.5, 10.0, 1.0, 20.0, 1.0, seed=17, cap=cap)
    res = sc.analyse_family(cells, "reinforce", "ucb", "ce-uniform", "K", resamples=RESAMPLES)
    text = " ".join(sc.verdict(res))
    tail = [r for r in res.rows if r.ratio.kind == "lower_bound"]
    assert [r.size for r in tail] == [500.0, 1000.0]
    m = re.search(rf"Censored from K = 500 on .*: the ratio is at least {NUM}x at K = 500, "
                  rf"{NUM}x at K = {NUM}", text)
    assert _close(m.group(1), tail[0].ratio.estimate)
    assert _close(m.group(2), tail[1].ratio.estimate)
    assert "grows at least as fast as K^" in text
    assert "is not supported here" not in text  # lower bounds cannot exclude the claim


# --- sensitivity and theory ----------------------------------------------------------------

def test_sensitivity_rows_recompute_the_ratio_for_every_rule_and_delta():
    gen = np.random.default_rng(18)
    base = {s: (_exits(gen, s, 10.0, 1.2, 100), _exits(gen, s, 1.0, 1.0, 100))
            for s in (10, 100, 1000)}

    def cells_for(rule, delta):
        return {s: (sc.Cell("b", s, "pg", stats.ExitTimes(p.time * rule, p.settled), delta),
                    sc.Cell("b", s, "ce", c, delta)) for s, (p, c) in base.items()}

    rows = sc.sensitivity(cells_for, rules=[1.0, 2.0], deltas=[0.1, 0.5], resamples=200)
    assert [(r.rule, r.delta) for r in rows] == [(1.0, 0.1), (1.0, 0.5), (2.0, 0.1),
                                                 (2.0, 0.5)]
    for r in rows:
        for k, (s, (num, den)) in enumerate(sorted(cells_for(r.rule, r.delta).items())):
            ref = stats.quantile_ratio(num.exits, den.exits, r.delta, seed=k, resamples=200)
            assert r.ratios[s] == ref
    # scaling PG's times by 2 scales every ratio by 2 and leaves the exponent
    assert rows[2].exponent.estimate == pytest.approx(rows[0].exponent.estimate, abs=1e-12)


def test_li_lower_bound_is_the_theorems_curve():
    gamma, eta = 0.97, 1e-5
    s = np.array([1e10, 1e12])
    ln_t = sc.li_lower_bound(s, gamma, eta, log=True)
    assert ln_t == pytest.approx(math.log(1 / eta) + 2 ** (1 / (1 - gamma)) * np.log(s))
    assert np.isnan(sc.li_lower_bound(s, 0.9, eta, log=True)).all()  # gamma <= 0.96
    assert np.isnan(sc.li_lower_bound(s, gamma, 1.0, log=True)).all()  # eta too large
    assert np.isnan(sc.li_lower_bound([10.0], gamma, eta, log=True)).all()  # |S| too small
    lv = sc.li_level_bound(np.arange(3, 10), 1e4, eta)
    assert lv[2] - lv[0] == pytest.approx((1.5**2 - 1.5) / 3 * math.log(1e4))  # s = 3, 5
    rows = sc.theory_rows(["K"])
    assert [r["exponents"] for r in rows] == [{"K": 1.0}]


def test_li_chain_curve_is_the_last_levels_bound_in_samples_anchored():
    """n(S) = anchor t(S) / t(S_0) H(S) / H(S_0), with ln t(S) = (2/3) ln S + (1/3) 1.5^floor(S/2)
    ln S (eta and c1 cancel; c2 = 1) and H = 5 S."""
    sizes = [4, 6, 8]
    curve = sc.li_chain_curve(sizes, 1000.0, lambda n: 5 * n)

    def ln_t(n):
        return (2 / 3) * np.log(n) + (1 / 3) * 1.5 ** (n // 2) * np.log(n)

    expected = [1000.0 * np.exp(ln_t(n) - ln_t(4)) * n / 4 for n in sizes]
    assert np.allclose(curve, expected, rtol=1e-12)
    assert curve[0] == 1000.0 and np.all(np.diff(curve) > 0)

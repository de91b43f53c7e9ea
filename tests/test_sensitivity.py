"""Sensitivity analysis against stand-in batch models with known answers.

The stand-ins follow the batch model contract (docs/ARCHITECTURE.md): dict of arrays (n,) in,
dict of metric arrays (n,) out.  ``cohort_model`` mimics the real kernel (monthly states over a
10-year horizon, break-even month with NaN = never); the linear models give exact answers.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mkba import sensitivity as S
from mkba.distributions import Dist
from mkba.errors import InputError

MONTHS = 120
BASE = {"baseline.work_exit_rate": 0.01, "effect.work_exit_added": 0.005, "benefit.cost_per_year": 14000.0,
        "programme.cost_per_participant": 3000.0, "cohort.initial_participants": 100.0, "discount.rate": 0.03,
        "horizon.months": 120.0}


def cohort_model(values, cycle_path=None):
    """Monthly hazards: participants leave benefit at h0 (+dh with the programme)."""
    h0, dh = values["baseline.work_exit_rate"], values["effect.work_exit_added"]
    B = values["benefit.cost_per_year"] / 12
    c, P = values["programme.cost_per_participant"], values["cohort.initial_participants"]
    d = (1 + values["discount.rate"]) ** (-1 / 12)
    n = h0.shape[0]
    s_c, s_t, disc = np.ones(n), np.ones(n), np.ones(n)
    npv, net, be = -c * P, -c * P, np.full(n, np.nan)
    for t in range(MONTHS):
        s_c, s_t, disc = s_c * (1 - h0), s_t * (1 - h0 - dh), disc * d
        saving = P * (s_c - s_t) * B
        npv, net = npv + saving * disc, net + saving
        be[np.isnan(be) & (npv >= 0)] = t
    with np.errstate(divide="ignore", invalid="ignore"):
        bcr = (npv + c * P) / (c * P)
    return {"npv_eur": npv, "net_result_eur": net, "break_even_month": be, "bcr": bcr}


def cohort_npv_closed_form(v):
    g = lambda x: x * (1 - x ** MONTHS) / (1 - x)   # noqa: E731  sum_{t=1..T} x^t
    d = (1 + v["discount.rate"]) ** (-1 / 12)
    P, B, h0, dh = v["cohort.initial_participants"], v["benefit.cost_per_year"] / 12, \
        v["baseline.work_exit_rate"], v["effect.work_exit_added"]
    return P * B * (g((1 - h0) * d) - g((1 - h0 - dh) * d)) - v["programme.cost_per_participant"] * P


COEF = {"a": 3.0, "b": -2.0, "c": 0.5}
LIN_BASE = {"a": 1.0, "b": 2.0, "c": 4.0}


class CountingLinear:
    """npv = 3a - 2b + 0.5c - 1, net = npv + 10, break_even = 10 + a (never when a > 3)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, v):
        self.calls += 1
        npv = sum(COEF[k] * v[k] for k in COEF) - 1.0
        be = np.where(v["a"] > 3, np.nan, 10 + v["a"])
        return {"npv_eur": npv, "net_result_eur": npv + 10.0, "break_even_month": be}


# ------------------------------------------------------------------------------ stand-in sanity
def test_cohort_stand_in_matches_closed_form():
    out = S.base_run(cohort_model, BASE)
    assert out["npv_eur"] == pytest.approx(cohort_npv_closed_form(BASE), rel=1e-9)


# ------------------------------------------------------------------------------ one-way
def test_one_way_linear_known_answer_in_one_model_call():
    m = CountingLinear()
    ranges = {"a": (0.5, 2.0, "survey"), "b": (1.0, 2.5, "expert"), "c": (0.0, 10.0, "guess")}
    df = S.one_way(m, LIN_BASE, ranges, bounds={})
    assert m.calls == 1                                  # 2p + 1 parameter sets in one batch
    npv = df[df.metric == "npv_eur"].set_index("parameter")
    for k, (lo, hi, reason) in ranges.items():
        assert npv.loc[k, "swing"] == pytest.approx(abs(COEF[k]) * (hi - lo), abs=1e-12)
        assert npv.loc[k, "reason"] == reason
    assert list(npv.index) == ["c", "a", "b"]            # sorted by swing: 5.0, 4.5, 3.0
    assert npv["swing"].is_monotonic_decreasing
    assert (npv["base_value"] == 3 * 1 - 2 * 2 + 0.5 * 4 - 1).all()
    assert list(df.metric.unique()) == list(S.DEFAULT_METRICS)


def test_one_way_at_base_value_equals_base_run():
    ranges = {k: (v, v, "point") for k, v in BASE.items() if k != "horizon.months"}
    base = S.base_run(cohort_model, BASE)
    df = S.one_way(cohort_model, BASE, ranges, metrics=("npv_eur", "net_result_eur", "break_even_month", "bcr"))
    for m, sub in df.groupby("metric"):
        for col in ("value_low", "value_high", "base_value"):
            np.testing.assert_allclose(sub[col].to_numpy(), base[m], rtol=1e-9, atol=1e-9)
        assert (sub["swing"] == 0).all()


def test_one_way_batch_equals_single_runs():
    df = S.one_way(cohort_model, BASE)
    for _, r in df[df.metric == "npv_eur"].iterrows():
        single = S.base_run(cohort_model, {**BASE, r.parameter: r.low})["npv_eur"]
        assert r.value_low == pytest.approx(single, rel=1e-9)
        assert r.value_low == pytest.approx(cohort_npv_closed_form({**BASE, r.parameter: r.low}), rel=1e-9)


def test_one_way_break_even_never_gets_infinite_swing():
    df = S.one_way(CountingLinear(), LIN_BASE, {"a": (0.5, 4.0)}, metrics="break_even_month", bounds={})
    r = df.set_index("parameter").loc["a"]
    assert math.isnan(r.value_high) and r.swing == math.inf and r.value_low == 10.5
    assert df.iloc[0].parameter == "a"


def test_default_range_rule():
    lo, hi, why = S.default_range("programme.cost_per_participant", 3000.0)
    assert (lo, hi) == (2250.0, 3750.0) and "25%" in why
    lo, hi, why = S.default_range("baseline.work_exit_rate", 0.8, bounds=(0.0, 1.0))
    assert (lo, hi) == (0.4, 1.0) and "clipped to the valid range [0, 1]" in why
    lo, hi, _ = S.default_range("some.unknown_rate", 0.2)         # name heuristic outside the schema
    assert (lo, hi) == pytest.approx((0.1, 0.3))
    lo, hi, _ = S.default_range("x.cost", 100.0, relative={"cost": 0.1})
    assert (lo, hi) == pytest.approx((90.0, 110.0))


def test_default_ranges_skip_structural_and_non_finite_and_use_custom_rule():
    base = {**BASE, "effect.decay_half_life_months": math.inf}
    rule = lambda name, v, b: (v * 0.9, v * 1.1, "ten percent")  # noqa: E731
    rng = S.resolve_ranges(base, rule=rule)
    assert "horizon.months" not in rng and "effect.decay_half_life_months" not in rng
    assert rng["discount.rate"] == pytest.approx((0.027, 0.033, "ten percent"))


def test_schema_bounds_clip_default_ranges():
    rng = S.resolve_ranges({"baseline.work_exit_rate": 0.9})
    assert rng["baseline.work_exit_rate"][:2] == (0.45, 1.0)


def test_ranges_fixed_automatically_with_exact_warnings():
    with pytest.warns(UserWarning, match=r"a: range low \(2\) was above high \(0.5\); swapped them: low=0.5, high=2"):
        S.resolve_ranges(LIN_BASE, {"a": (2.0, 0.5)}, bounds={})
    with pytest.warns(UserWarning, match=r"b: range \[3, 4\] excluded the base value 2; extended it to \[2, 4\]"):
        r = S.resolve_ranges(LIN_BASE, {"b": (3.0, 4.0)}, bounds={})
    assert r["b"][:2] == (2.0, 4.0)
    with pytest.warns(UserWarning, match=r"c: range \[0, 10\] reached outside the valid range \[1, 5\]; "
                                         r"clipped it to \[1, 5\]"):
        S.resolve_ranges(LIN_BASE, {"c": (0.0, 10.0)}, bounds={"c": (1.0, 5.0)})


def test_unknown_parameter_name_suggests_closest():
    with pytest.raises(InputError, match="did you mean 'baseline.work_exit_rate'"):
        S.one_way(cohort_model, BASE, {"baseline.work_exit_rte": (0.1, 0.2)})
    with pytest.raises(InputError, match="did you mean 'effect.work_exit_added'"):
        S.one_way(cohort_model, BASE, parameters=["effect.work_exit_add"])
    with pytest.raises(InputError, match="did you mean 'npv_eur'"):
        S.one_way(cohort_model, BASE, metrics=("npv",))


def test_ranges_from_case():
    class P:
        def __init__(self, low, high, why):
            self.low, self.high, self.range_reason = low, high, why

    class Case:
        parameters = {"benefit.cost_per_year": P(12000, 16000, "household mix"), "discount.rate": P(None, None, None)}

    assert S.ranges_from_case(Case()) == {"benefit.cost_per_year": (12000.0, 16000.0, "household mix")}


def test_switching_value_one_parameter():
    sv = S.switching_value(cohort_model, BASE, "programme.cost_per_participant", (0, 50_000))
    assert len(sv) == 1
    npv_without_cost = cohort_npv_closed_form({**BASE, "programme.cost_per_participant": 0.0})
    assert sv[0] == pytest.approx(npv_without_cost / BASE["cohort.initial_participants"], rel=1e-9)


# ------------------------------------------------------------------------------ two-way
def test_two_way_grid_and_switching_values_linear():
    m = CountingLinear()
    xs, ys = np.linspace(0, 2, 5), np.linspace(0, 4, 9)
    res = S.two_way(m, LIN_BASE, ("a", xs), ("c", ys), metrics=("npv_eur", "break_even_month"), bounds={})
    assert m.calls == 1
    X, Y = np.meshgrid(xs, ys)
    np.testing.assert_allclose(res["npv_eur"], 3 * X - 4 + 0.5 * Y - 1, rtol=1e-12)
    assert res["npv_eur"].shape == (9, 5)
    sw = res.switching_values()
    by_x = sw[sw.solved_for == "y"]
    # npv = 3a + 0.5c - 5 = 0  ->  c = (5 - 3a) / 0.5 (inside [0, 4] for a in [1.0, 1.5, ...])
    for _, r in by_x.iterrows():
        assert r["c"] == pytest.approx((5 - 3 * r["a"]) / 0.5, abs=1e-12)
    assert set(by_x["a"]) == {1.5} or len(by_x) >= 1
    long = res.to_frame()
    assert len(long) == 45 and set(long.columns) == {"a", "c", "npv_eur", "break_even_month"}


def test_two_way_equals_single_runs():
    xs, ys = [0.005, 0.01, 0.02], [0.0, 0.004, 0.008]
    res = S.two_way(cohort_model, BASE, ("baseline.work_exit_rate", xs), ("effect.work_exit_added", ys))
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            one = S.base_run(cohort_model, {**BASE, "baseline.work_exit_rate": x, "effect.work_exit_added": y})
            assert res["npv_eur"][i, j] == pytest.approx(one["npv_eur"], rel=1e-9, abs=1e-6)
            np.testing.assert_equal(res["break_even_month"][i, j], one["break_even_month"])


def test_two_way_bad_grids():
    with pytest.raises(InputError, match="the grid has no points"):
        S.two_way(cohort_model, BASE, ("baseline.work_exit_rate", []), ("effect.work_exit_added", [0.1]))
    with pytest.raises(InputError, match="different parameters"):
        S.two_way(cohort_model, BASE, ("discount.rate", [0.01]), ("discount.rate", [0.02]))
    with pytest.raises(InputError, match="did you mean 'discount.rate'"):
        S.two_way(cohort_model, BASE, ("discount.rat", [0.01]), ("effect.work_exit_added", [0.1]))
    with pytest.warns(UserWarning, match=r"sorted them and removed 1 duplicate\(s\): \[0.01, 0.02, 0.03\]"):
        res = S.two_way(cohort_model, BASE, ("baseline.work_exit_rate", [0.03, 0.01, 0.02, 0.01]),
                        ("effect.work_exit_added", [0.0, 0.01]))
    np.testing.assert_array_equal(res.x_values, [0.01, 0.02, 0.03])
    with pytest.warns(UserWarning, match=r"dropped grid values outside the valid range \[0, 1\]: \[1.5\]"):
        S.two_way(cohort_model, BASE, ("baseline.work_exit_rate", [0.01, 1.5]), ("effect.work_exit_added", [0.0]))


# ------------------------------------------------------------------------------ probabilistic
def linear_draw_model(v):
    """npv = x - k; break-even month = m (NaN when m > 40)."""
    npv = v["x"] - v["k"]
    return {"npv_eur": npv, "net_result_eur": 2 * npv, "break_even_month": np.where(v["m"] > 40, np.nan, v["m"])}


PBASE = {"x": 1.0, "k": 0.5, "m": 20.0}
PDISTS = {"x": Dist("normal", mean=1.0, sd=2.0), "m": Dist("uniform", low=0.0, high=48.0)}


def test_probabilistic_known_answers():
    n = 200_000
    r = S.probabilistic(linear_draw_model, PBASE, PDISTS, n=n, seed=42, bounds={})
    p_true = 1 - stats.norm.cdf(0.5, loc=1.0, scale=2.0)
    assert abs(r.p_positive - p_true) < 4 * math.sqrt(p_true * (1 - p_true) / n)
    for q in (5, 50, 95):
        assert r.percentiles.loc[q, "npv_eur"] == pytest.approx(stats.norm.ppf(q / 100, 0.5, 2.0), abs=0.03)
    for N, p in {12: 12 / 48, 24: 24 / 48, 36: 36 / 48}.items():
        assert abs(r.p_break_even[N] - p) < 4 * math.sqrt(p * (1 - p) / n)
    assert r.summary.loc["break_even_month", "share_nan"] == pytest.approx(8 / 48, abs=0.005)
    assert r.npv.shape == (n,)


def test_probabilistic_same_seed_identical_and_chunking_invariant():
    a = S.probabilistic(linear_draw_model, PBASE, PDISTS, n=10_000, seed=7, bounds={})
    b = S.probabilistic(linear_draw_model, PBASE, PDISTS, n=10_000, seed=7, chunk_size=999, bounds={})
    c = S.probabilistic(linear_draw_model, PBASE, PDISTS, n=10_000, seed=8, bounds={})
    np.testing.assert_array_equal(a.npv, b.npv)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    assert not np.array_equal(a.npv, c.npv)


def test_probabilistic_on_cohort_model():
    dists = {"effect.work_exit_added": {"kind": "triangular", "low": 0.0, "mode": 0.005, "high": 0.012},
             "benefit.cost_per_year": {"kind": "normal", "mean": 14000, "sd": 1500}}
    r = S.probabilistic(cohort_model, BASE, dists, n=2000, seed=1)
    one = S.base_run(cohort_model, {**BASE, "effect.work_exit_added": r.dists["effect.work_exit_added"].ppf(
        np.array([0.3]))[0]})
    assert np.isfinite(one["npv_eur"])
    assert 0 < r.p_positive <= 1 and set(r.p_break_even) == {12, 24, 36}


def test_probabilistic_bad_input():
    with pytest.raises(InputError, match="excludes the base value"):
        S.probabilistic(linear_draw_model, PBASE, {"x": Dist("uniform", low=2, high=3)}, n=10, bounds={})
    with pytest.raises(InputError, match="did you mean 'x'"):
        S.probabilistic(linear_draw_model, {"xx": 1.0, **PBASE}, {"xy": Dist("uniform", low=0, high=3)}, n=10)
    with pytest.raises(InputError, match="seed"):
        S.probabilistic(linear_draw_model, PBASE, PDISTS, n=10, seed=None)


def test_acceptability_curve_known_answer():
    dists = {"x": Dist("uniform", low=0.0, high=10_000.0)}
    base = {"x": 5000.0, "k": 3000.0, "m": 1.0}
    costs = [0, 2500, 5000, 7500, 10_000]
    df = S.acceptability_curve(linear_draw_model, base, dists, "k", costs, n=40_000, seed=3, bounds={})
    np.testing.assert_allclose(df["p_positive"], [1 - c / 10_000 for c in costs], atol=0.01)
    assert df["p_positive"].is_monotonic_decreasing          # common random numbers
    again = S.acceptability_curve(linear_draw_model, base, dists, "k", costs, n=40_000, seed=3, chunk_size=7777,
                                  bounds={})
    pd.testing.assert_frame_equal(df, again)


# ------------------------------------------------------------------------------ Sobol / Morris
def ishigami(v, a=7.0, b=0.1):
    x1, x2, x3 = v["x1"], v["x2"], v["x3"]
    return {"y": np.sin(x1) + a * np.sin(x2) ** 2 + b * x3 ** 4 * np.sin(x1)}


def ishigami_indices(a=7.0, b=0.1):
    V = a ** 2 / 8 + b * np.pi ** 4 / 5 + b ** 2 * np.pi ** 8 / 18 + 0.5
    V1, V2, V13 = 0.5 * (1 + b * np.pi ** 4 / 5) ** 2, a ** 2 / 8, b ** 2 * np.pi ** 8 * (1 / 18 - 1 / 50)
    return np.array([V1, V2, 0.0]) / V, np.array([V1 + V13, V2, V13]) / V


ISHI_BASE = {"x1": 0.0, "x2": 0.0, "x3": 0.0}
ISHI_RANGES = {k: (-np.pi, np.pi, "Ishigami") for k in ISHI_BASE}


def test_sobol_ishigami_against_analytic_values():
    S1, ST = ishigami_indices()
    df = S.sobol(ishigami, ISHI_BASE, ISHI_RANGES, N=2 ** 12, metric="y", seed=1, bounds={}).loc[["x1", "x2", "x3"]]
    np.testing.assert_allclose(df["S1"], S1, atol=0.01)
    np.testing.assert_allclose(df["ST"], ST, atol=0.01)
    assert (np.abs(df["ST"] - ST) <= df["ST_conf"] + 1e-3).all()
    assert df.attrs["runs"] == 2 ** 12 * 5


@pytest.mark.filterwarnings("ignore::mkba.sensitivity.UnstableIndicesWarning")
def test_sobol_same_seed_identical():
    a = S.sobol(ishigami, ISHI_BASE, ISHI_RANGES, N=512, metric="y", seed=5, bounds={})
    b = S.sobol(ishigami, ISHI_BASE, ISHI_RANGES, N=512, metric="y", seed=5, chunk_size=300, bounds={})
    pd.testing.assert_frame_equal(a, b)


def test_sobol_N_not_power_of_two_rounded_and_small_N_warned():
    with pytest.warns(UserWarning) as rec:
        df = S.sobol(ishigami, ISHI_BASE, ISHI_RANGES, N=200, metric="y", seed=0, bounds={})
    msgs = [str(w.message) for w in rec]
    assert any("N=200 is not a power of two" in m and "using N=256 instead" in m for m in msgs)
    assert any(issubclass(w.category, S.UnstableIndicesWarning) for w in rec)
    assert df.attrs["N"] == 256


def test_sobol_with_distributions_and_nan_metric_refused():
    # y = x1 + x2 with x1 ~ U(0,1), x2 ~ N(0, sd) : S_i = var_i / total
    model = lambda v: {"y": v["x1"] + v["x2"], "be": np.where(v["x1"] > .5, np.nan, 1.0)}  # noqa: E731
    base = {"x1": 0.5, "x2": 0.0}
    sd = math.sqrt(1 / 12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", S.UnstableIndicesWarning)
        df = S.sobol(model, base, {"x1": (0.0, 1.0)}, N=4096, metric="y", seed=2, bounds={},
                     dists={"x2": Dist("normal", mean=0.0, sd=sd)})
    np.testing.assert_allclose(df.loc[["x1", "x2"], "S1"], [0.5, 0.5], atol=0.02)
    with pytest.raises(InputError, match="NaN"):
        S.sobol(model, base, {"x1": (0.0, 1.0), "x2": (-1, 1)}, N=512, metric="be", seed=2, bounds={})


def test_morris_linear_known_answer():
    ranges = {"a": (0.0, 2.0), "b": (1.0, 3.0), "c": (0.0, 10.0)}
    df = S.morris(CountingLinear(), LIN_BASE, ranges, N=20, seed=3, bounds={})
    for k, (lo, hi) in ranges.items():
        assert df.loc[k, "mu_star"] == pytest.approx(abs(COEF[k]) * (hi - lo), rel=1e-9)
        assert df.loc[k, "sigma"] == pytest.approx(0.0, abs=1e-9)
    assert list(df.index) == ["a", "c", "b"]             # mu_star 6, 5, 4


# ------------------------------------------------------------------------------ plots
def test_plots_render(tmp_path):
    pytest.importorskip("matplotlib")
    from mkba import plots
    ow = S.one_way(cohort_model, BASE, {"effect.work_exit_added": (0.0, 0.01, "CI")})
    tw = S.two_way(cohort_model, BASE, ("baseline.work_exit_rate", np.linspace(0.002, 0.03, 8)),
                   ("effect.work_exit_added", np.linspace(0.0, 0.01, 6)))
    pr = S.probabilistic(cohort_model, BASE, {"effect.work_exit_added": Dist("uniform", low=0, high=0.01)},
                         n=500, seed=1)
    ac = S.acceptability_curve(cohort_model, BASE, {"effect.work_exit_added": Dist("uniform", low=0, high=0.01)},
                               "programme.cost_per_participant", np.linspace(0, 20000, 5), n=200, seed=1)
    figs = [plots.tornado(ow), plots.tornado(ow, "break_even_month"), plots.heatmap(tw),
            plots.heatmap(tw, "break_even_month"), plots.npv_histogram(pr), plots.acceptability_curve(ac)]
    for i, fig in enumerate(figs):
        fig.savefig(tmp_path / f"{i}.png", dpi=40)
        assert (tmp_path / f"{i}.png").stat().st_size > 1000
    assert any(len(ax.collections) > 1 for ax in figs[2].axes)        # the NPV = 0 contour is drawn
    with pytest.raises(InputError, match="did you mean 'npv_eur'"):
        plots.tornado(ow, "npv")


def test_whole_number_parameters_stay_whole():
    seen = []

    def model(v):
        seen.append(v["effect.lock_in_months"].copy())
        return {"npv_eur": v["effect.lock_in_months"] * 1.0 + v["discount.rate"]}

    base = {"effect.lock_in_months": 3.0, "discount.rate": 0.03}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", S.UnstableIndicesWarning)
        S.sobol(model, base, {"effect.lock_in_months": (1, 6)}, N=64, seed=1, parameters=["effect.lock_in_months"])
    assert set(np.unique(seen[-1])) == {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}
    with pytest.warns(UserWarning, match=r"draws of \['effect.lock_in_months'\] are rounded to whole numbers"):
        r = S.probabilistic(model, base, {"effect.lock_in_months": Dist("uniform", low=0, high=6)}, n=1000,
                            seed=1, metrics="npv_eur", break_even_within=())
    assert np.array_equal(np.rint(seen[-1]), seen[-1]) and r.n == 1000


# ============================================================================ case-led selection (issue 15 point 7)
def test_case_selection_uses_documented_ranges_only():
    from mkba.cases import load_case

    case = load_case("app_zaanstad")
    sel = S.case_selection(case)
    # data/parameters/base.yaml documents benefit.household_factor as 0.93 (singles) - 1.33 (couples):
    # that range, not the default 0.5-1.5
    assert sel.ranges["benefit.household_factor"][:2] == (0.93, 1.33)
    # scale is a choice, not an uncertainty
    for name in ("cohort.initial_participants", "cohort.inflow_per_month", "horizon.months"):
        assert name not in sel.ranges and sel.not_varied[name] == S.NOT_VARIED_SCALE
    # no documented range: left out and listed
    assert sel.not_varied["effect.work_exit_ratio"] == S.NOT_VARIED_NO_RANGE
    assert set(sel.ranges) | set(sel.not_varied) == set(case.values)
    for name, (lo, hi, _why) in sel.ranges.items():
        assert (lo, hi) == case.parameters[name].low_high() if hasattr(case.parameters[name], "low_high") \
            else (case.parameters[name].low, case.parameters[name].high), name


def test_case_selection_defaults_on_request_and_skips_what_changes_nothing():
    from mkba.cases import load_case

    case = load_case("app_zaanstad")   # APP has no programme jobs: jobs.* cannot change any output
    assert case.value("jobs.share") == 0
    sel = S.case_selection(case, include_defaults=True)
    assert sel.not_varied["jobs.wage_cost_per_year"] == S.NOT_VARIED_NO_EFFECT
    assert "jobs.wage_cost_per_year" not in sel.ranges
    assert "default" in sel.ranges["effect.work_exit_ratio"][2]            # the reason says the rule applied
    assert sel.not_varied["cohort.initial_participants"] == S.NOT_VARIED_SCALE   # never, even with defaults
    # every parameter left in really moves some output
    ow = S.case_one_way(case, include_defaults=True)
    assert "jobs.wage_cost_per_year" not in set(ow["parameter"])


def test_case_distributions_follow_the_selection():
    from mkba.cases import load_case
    from mkba.views import case_distributions

    case = load_case("app_zaanstad").with_overrides(
        {"cohort.initial_participants": {"value": 150, "unit": "persons", "date": 2024, "reference": "test",
                                         "low": 100, "high": 200, "range_reason": "test"}})
    d = case_distributions(case)
    assert "cohort.initial_participants" not in d                   # documented, but scale
    assert d["benefit.household_factor"].low == 0.93


def test_cli_tornado_fits_100_columns_top_15_and_lists_what_was_not_varied():
    from typer.testing import CliRunner

    from mkba.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["sweep", "app_zaanstad", "--one-way", "--include-defaults"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert max(len(l) for l in lines) <= 100
    block = lines[lines.index(next(l for l in lines if l.startswith("== one-way: npv_eur"))) + 2:]
    rows = block[:block.index("")]
    assert len(rows) == 15 and "--all for the rest" in r.output
    assert "not varied: scale of the case, not an uncertainty" in r.output
    r_all = runner.invoke(app, ["sweep", "app_zaanstad", "--one-way", "--include-defaults", "--all"])
    # 18 parameters change an output; work.net_wage_share only splits the wage between the participant
    # and the Rijk, a transfer that cancels exactly in every money row (it used to move the societal
    # rows by rounding noise, -w + ns w + (1 - ns) w booked flow by flow, and was listed with swing 0)
    assert r_all.exit_code == 0 and len(r_all.output.splitlines()) == len(lines) + 3 * (18 - 15)
    no_effect = r_all.output[r_all.output.index("does not change any output"):]
    assert "work.net_wage_share" in no_effect.split("not varied: scale")[0]
    r2 = runner.invoke(app, ["sweep", "app_zaanstad", "--one-way"])
    assert "not varied: no range documented" in r2.output and "effect.work_exit_ratio" in r2.output
    assert "household_factor                0.93      1.33" in r2.output


def test_many_cases_are_probed_in_one_batch_with_each_cases_own_answer(monkeypatch):
    """case_selections equals case_selection per case, with one model call when the cases share
    their parameters and settings; the second case's probe rows are its own (a parameter without
    effect in one case and with effect in the next)."""
    import mkba.model
    from mkba.cases import load_case

    def jobs(share):
        spec = {"value": 30000, "unit": "EUR/FTE-year", "date": 2024, "reference": "test", "low": 20000,
                "high": 40000, "range_reason": "test"}
        share_spec = {"value": share, "unit": "fraction", "date": 2024, "reference": "test"}
        end = {"value": 24, "unit": "months", "date": 2024, "reference": "test"}
        return load_case("app_zaanstad").with_overrides({"jobs.wage_cost_per_year": spec, "jobs.share": share_spec,
                                                         "jobs.end_month": end})

    cases = [jobs(0.0), jobs(0.3), jobs(0.0)]
    alone = [S.case_selection(c) for c in cases]
    # without programme jobs the wage cost changes nothing; with them it does
    assert alone[0].not_varied["jobs.wage_cost_per_year"] == S.NOT_VARIED_NO_EFFECT
    assert "jobs.wage_cost_per_year" in alone[1].ranges
    calls = []
    real = mkba.model.evaluate_batch
    monkeypatch.setattr(mkba.model, "evaluate_batch", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    together = S.case_selections(cases)
    assert len(calls) == 1
    assert [(s.ranges, s.not_varied) for s in together] == [(s.ranges, s.not_varied) for s in alone]
    # cases whose settings differ are probed one by one, with the same answers
    other = load_case("fip_sittard_geleen")
    calls.clear()
    mixed = S.case_selections([cases[1], other])
    assert len(calls) == 2
    assert (mixed[1].ranges, mixed[1].not_varied) == (S.case_selection(other).ranges,
                                                      S.case_selection(other).not_varied)

"""People over time: hazard conversion, conservation, and properties of the effect."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mkba.cases import load_case
from mkba.cohort import annual_probability, monthly_hazard, simulate
from mkba.model import evaluate_batch, parameter_arrays


def test_monthly_hazard_is_not_p_over_12():
    h = monthly_hazard(0.30)
    assert h == pytest.approx(1 - 0.7 ** (1 / 12), abs=1e-15)
    assert h != pytest.approx(0.30 / 12)
    assert (1 - h) ** 12 == pytest.approx(0.70, abs=1e-12)
    assert annual_probability(h) == pytest.approx(0.30, abs=1e-12)


def test_closed_cohort_survival_matches_hazard():
    # one exit route at 12 % a year: after 12 months 88 % remain on benefit
    case = load_case("fip_sittard_geleen")
    P, _ = parameter_arrays(case, {"baseline.other_exit_rate": 0.0, "effect.stock_share": 0.0,
                                   "baseline.work_exit_rate": 0.12, "baseline.return_rate": 0.0})
    S = simulate(P, 24)
    assert S.B_end[11, 1, 0] == pytest.approx(300 * 0.88, rel=1e-12)
    assert S.B_end[23, 1, 0] == pytest.approx(300 * 0.88 ** 2, rel=1e-12)


@pytest.mark.parametrize("name", ["fip_sittard_geleen", "app_zaanstad", "flextensie_zaanstad", "buurt_mv_dordrecht"])
def test_people_are_conserved_every_month(name):
    case = load_case(name)
    P, _ = parameter_arrays(case, {"baseline.part_time_share": 0.3, "cohort.inflow_per_month": 5.0,
                                   "cohort.inflow_months": 10})
    S = simulate(P, case.months)
    total = S.B_end + S.P_end + S.W_end + S.O_end + S.J_end
    assert np.allclose(total, S.cum_inflow, rtol=0, atol=1e-9)
    assert (S.B_end >= -1e-12).all() and (S.W_end >= -1e-12).all()


CASE = load_case("app_zaanstad")


@settings(max_examples=30, deadline=None)
@given(st.floats(0.0, 0.5), st.floats(0.0, 0.15), st.floats(0.0, 0.2))
def test_zero_effect_gives_zero_extra_exits_and_saving(work, other, ret):
    m = evaluate_batch(CASE, {"effect.work_exit_added": 0.0, "baseline.work_exit_rate": work,
                              "baseline.other_exit_rate": other, "baseline.return_rate": ret})
    assert abs(m["extra_ended_benefits"][0]) < 1e-9
    assert abs(m["gross_saving_eur"][0]) < 1e-6
    assert m["net_result_eur"][0] == pytest.approx(-90000.0)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.0, 0.4), st.floats(0.0, 0.2))
def test_larger_effect_never_lowers_saving(effect, extra):
    m = evaluate_batch(CASE, {"effect.work_exit_added": np.array([effect, effect + extra])})
    assert m["gross_saving_eur"][1] >= m["gross_saving_eur"][0] - 1e-6
    assert m["extra_ended_benefits"][1] >= m["extra_ended_benefits"][0] - 1e-9


@settings(max_examples=20, deadline=None)
@given(st.floats(0.0, 0.4))
def test_npv_at_zero_rate_equals_plain_sum(effect):
    m = evaluate_batch(CASE, {"effect.work_exit_added": effect, "discount.rate": 0.0})
    assert m["npv_eur"][0] == pytest.approx(m["net_result_eur"][0], abs=1e-6)


def test_lock_in_ramp_and_decay_shape_the_effect():
    from mkba.cohort import effect_weight

    P, _ = parameter_arrays(CASE, {"effect.lock_in_months": 3, "effect.ramp_months": 4,
                                   "effect.decay_start_month": 10, "effect.decay_half_life_months": 6})
    w = effect_weight(P, np.arange(30, dtype=float)[:, None])[:, 0]
    assert list(w[:3]) == [0, 0, 0]
    assert w[3] == pytest.approx(0.25) and w[6] == pytest.approx(1.0)
    assert w[16] == pytest.approx(0.5) and w[22] == pytest.approx(0.25)

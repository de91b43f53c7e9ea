"""Known-answer tests for discounting (closed forms, to 1e-9)."""
import numpy as np
import pytest

from mkba.discounting import annuity_factor, discount_factors, excel_npv, npv


@pytest.mark.parametrize("rate", [0.0225, 0.03, 0.055])
@pytest.mark.parametrize("years", [1, 5, 10])
def test_level_annuity_matches_closed_form(rate, years):
    # 1.000 a year paid as 12 equal monthly amounts; Excel convention discounts year k by (1+r)^-k
    flows = np.full(12 * years, 1000.0 / 12)
    expected = 1000.0 * (1 - (1 + rate) ** -years) / rate
    assert npv(flows, rate, "excel") == pytest.approx(expected, abs=1e-9)
    assert annuity_factor(rate, years) * 1000.0 == pytest.approx(expected, abs=1e-9)


def test_start_convention_is_excel_times_one_plus_r():
    flows = np.arange(36, dtype=float)
    r = 0.03
    assert npv(flows, r, "start") == pytest.approx(npv(flows, r, "excel") * (1 + r), abs=1e-9)
    assert annuity_factor(r, 4, "start") == pytest.approx((1 - 1.03 ** -4) / 0.03 * 1.03, abs=1e-12)


def test_excel_npv_of_yearly_sums_equals_monthly_excel_convention():
    rng = np.random.default_rng(1)
    monthly = rng.normal(size=60) * 1000
    yearly = monthly.reshape(5, 12).sum(axis=1)
    assert npv(monthly, 0.0225) == pytest.approx(excel_npv(0.0225, yearly), abs=1e-9)
    # Excel: NPV(10%, 100, 100) = 173,5537...
    assert excel_npv(0.10, [100, 100]) == pytest.approx(100 / 1.1 + 100 / 1.21, abs=1e-12)


def test_monthly_convention_closed_form():
    r = 0.055
    f = discount_factors(24, r, "monthly")
    assert f[11] == pytest.approx(1 / 1.055, abs=1e-12)
    assert f[23] == pytest.approx(1 / 1.055 ** 2, abs=1e-12)


def test_zero_rate_is_plain_sum():
    flows = np.linspace(-5, 7, 48)
    for conv in ("excel", "start", "monthly"):
        assert npv(flows, 0.0, conv) == pytest.approx(flows.sum(), abs=1e-9)
    assert annuity_factor(0.0, 7) == 7.0


def test_vector_of_rates():
    f = discount_factors(24, np.array([0.0, 0.03]), "excel")
    assert f.shape == (24, 2)
    assert np.allclose(f[:, 0], 1.0)
    assert f[12, 1] == pytest.approx(1.03 ** -2)


def test_unknown_convention_is_clear_error():
    from mkba.errors import InputError

    with pytest.raises(InputError, match="did you mean 'excel'"):
        discount_factors(12, 0.03, "exel")


# ---------------------------------------------------------------- the dated series of official rates
import datetime as _dt
import textwrap

from mkba.cases import load_case
from mkba.discounting import rate_in_force
from mkba.parameters import load_parameter_file, load_parameter_set


def _case_file(tmp_path, name, appraisal, extra=""):
    p = tmp_path / f"{name}.yaml"
    p.write_text(textwrap.dedent(f"""\
        name: {name}
        title: test case
        summary: a case appraised on {appraisal}
        start_date: {appraisal}
        appraisal_date: {appraisal}
        """) + textwrap.dedent(extra), encoding="utf-8")
    return p


def test_every_official_rate_has_its_own_source():
    s = load_parameter_set("base")["reference.discount_rates"]
    # 2,5 % + 3 % (Kamerstuk 29 352 nr. 3 / nr. 5); 0 % + 3 % (Werkgroep 2015); -1 % + 3,25 % (Werkgroep 2020)
    assert s.series == {"2007-03-08": 0.025 + 0.03, "2016-04-01": 0.0 + 0.03, "2021-01-01": -0.01 + 0.0325}
    assert set(s.sources) == set(s.series)
    assert "29 352 nr. 3" in s.sources["2007-03-08"] and "29 352 nr. 5" in s.sources["2007-03-08"]
    assert "werkgroep discontovoet 2015" in s.sources["2016-04-01"] and "1 april 2016" in s.sources["2016-04-01"]
    assert "werkgroep discontovoet 2020" in s.sources["2021-01-01"] and "1 januari 2021" in s.sources["2021-01-01"]


@pytest.mark.parametrize("when, rate, since", [
    ("2009-01-01", 0.055, "2007-03-08"), ("2011-05-01", 0.055, "2007-03-08"), ("2016-03-31", 0.055, "2007-03-08"),
    ("2016-04-01", 0.03, "2016-04-01"), ("2020-12-31", 0.03, "2016-04-01"), ("2021-01-01", 0.0225, "2021-01-01"),
    ("2025-06-30", 0.0225, "2021-01-01")])
def test_rate_in_force_on_a_date(when, rate, since):
    s = load_parameter_set("base")["reference.discount_rates"]
    got, got_since, ref = rate_in_force(s, _dt.date.fromisoformat(when))
    assert (got, got_since) == (rate, since)
    assert ref == s.sources[since]


def test_a_case_appraised_in_2011_runs_at_5_5_percent_with_its_source(tmp_path):
    from mkba.model import summarise

    case = load_case(_case_file(tmp_path, "appraised_2011", "2011-05-01"))
    assert case.value("discount.rate") == 0.055
    ref = case.parameters["discount.rate"].reference
    assert "29 352 nr. 3" in ref and "since 2007-03-08" in ref and "2011-05-01" in ref
    assert np.isfinite(summarise(case)["metrics"]["npv_eur"])   # and it runs


def test_a_case_before_the_first_official_rate_is_a_clear_error(tmp_path):
    from mkba.errors import InputError

    with pytest.raises(InputError) as e:
        load_case(_case_file(tmp_path, "appraised_2006", "2006-06-01"))
    msg = str(e.value)
    assert "before 2007-03-08" in msg and "2006-06-01" in msg and "reference.discount_rates" in msg
    assert "discount.rate" in msg   # the fix: give the rate with its source
    # ... and the fix works
    case = load_case(_case_file(tmp_path, "appraised_2006b", "2006-06-01", """\
        overrides:
          discount.rate: {value: 0.04, unit: 1/year (real), date: 2006, reference: "Ministerie van Financien 1995: 4 % real"}
        """))
    assert case.value("discount.rate") == 0.04


def test_series_sources_must_match_the_dates(tmp_path):
    from mkba.errors import InputError

    p = tmp_path / "p.yaml"
    p.write_text(textwrap.dedent("""\
        reference:
          rates:
            unit: 1/year (real)
            series: {2016-04-01: 0.03, 2021-01-01: 0.0225}
            reference: x
            sources: {2016-04-01: "werkgroep 2015"}
        """), encoding="utf-8")
    with pytest.raises(InputError, match="no source for the series value of 2021-01-01"):
        load_parameter_file(p)

"""All amounts in one price year (mkba.prices): CBS CPI 83131NED, all items, 2015 = 100.

CPI values written out from data/raw/cbs/83131NED_yearly.csv (CPI_1, "000000 Alle bestedingen"):
2006 85,82 · 2014 99,40 · 2015 100,00 · 2018 103,44 · 2019 106,16.
"""
import json
import textwrap

import pytest
from typer.testing import CliRunner

from mkba import prices
from mkba.cases import load_case, parse_set_values
from mkba.errors import InputError

CPI_2006, CPI_2014, CPI_2015, CPI_2018, CPI_2019 = 85.82, 99.40, 100.00, 103.44, 106.16


def _case(tmp_path, name, extra="", appraisal="2019-06-01", extends="base"):
    p = tmp_path / f"{name}.yaml"
    p.write_text(textwrap.dedent(f"""\
        name: {name}
        title: price test
        summary: a case for the price-year tests
        extends: {extends}
        start_date: {appraisal}
        appraisal_date: {appraisal}
        """) + textwrap.dedent(extra), encoding="utf-8")
    return p


def test_cpi_values_are_cbs_83131ned():
    index = prices.cpi()
    assert (index[2006], index[2014], index[2015], index[2018], index[2019]) == (
        CPI_2006, CPI_2014, CPI_2015, CPI_2018, CPI_2019)
    assert prices.cpi_years() == (1996, 2024)


def test_14000_of_2006_in_prices_of_2019_by_hand():
    assert prices.convert(14_000, 2006, 2019) == pytest.approx(14_000 * CPI_2019 / CPI_2006, rel=1e-12)  # 17.318,11
    assert 14_000 * CPI_2019 / CPI_2006 == pytest.approx(17_318.11, abs=0.01)   # 14.000 x 106,16 / 85,82
    assert prices.convert(14_000, 2019, 2019) == 14_000


def test_case_loading_converts_an_amount_dated_2006(tmp_path):
    case = load_case(_case(tmp_path, "dated_2006", """\
        price_year: 2019
        overrides:
          benefit.cost_per_year: {value: 14000, unit: EUR/person-year, date: 2006, reference: "test: an amount of 2006", low: 12000, high: 16000, range_reason: "test"}
        """))
    f = CPI_2019 / CPI_2006
    assert case.price_year == 2019
    assert case.value("benefit.cost_per_year") == pytest.approx(14_000 * f, rel=1e-12)
    p = case.parameters["benefit.cost_per_year"]
    assert (p.low, p.high) == (pytest.approx(12_000 * f), pytest.approx(16_000 * f))
    assert p.date == "2019" and "14000 EUR/person-year of 2006 in prices of 2019" in p.reference and "83131NED" in p.reference
    c = case.price_conversions["benefit.cost_per_year"]
    assert (c.from_year, c.to_year, c.cpi_from, c.cpi_to, c.value_before) == (2006, 2019, CPI_2006, CPI_2019, 14_000)
    assert c.factor == pytest.approx(f, rel=1e-12)
    # amounts dated in the price year stay as they are; rates are never converted
    assert case.value("programme.cost_per_fte_year") == 66_500          # base: 2019
    assert case.value("baseline.work_exit_rate") == 0.055               # base: dated 2016, a probability


def test_default_price_year_is_the_appraisal_year(tmp_path):
    case = load_case(_case(tmp_path, "appraised_2014", appraisal="2014-01-01"))
    assert case.price_year == 2014
    assert case.value("benefit.cost_per_year") == pytest.approx(14_000 * CPI_2014 / CPI_2019, rel=1e-12)  # 13.108,52


@pytest.mark.parametrize("extra, appraisal, words", [
    ("price_year: 1990\n", "2019-06-01", ["price year 1990", "1996-2024", "price_year"]),
    ("", "2026-03-01", ["by default the year of the appraisal date 2026-03-01", "1996-2024", "price_year"]),
])
def test_price_year_outside_the_cpi_data_is_a_clear_error(tmp_path, extra, appraisal, words):
    path = _case(tmp_path, "bad_year", extra, appraisal=appraisal)
    with pytest.raises(InputError) as e:
        load_case(path)
    msg = str(e.value)
    assert str(path) in msg and "choose a year from 1996 to 2024" in msg
    for w in words:
        assert w in msg


def test_an_amount_dated_outside_the_cpi_data_or_by_a_period_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match=r"benefit.cost_per_year.date.*year of the amount 1990 is outside"):
        load_case(_case(tmp_path, "old_amount", """\
            overrides:
              benefit.cost_per_year: {value: 14000, unit: EUR/person-year, date: 1990, reference: "test"}
            """))
    with pytest.raises(InputError, match="needs the year its prices are in"):
        load_case(_case(tmp_path, "period_amount", """\
            overrides:
              benefit.cost_per_year: {value: 14000, unit: EUR/person-year, date: 2017-2019, reference: "test"}
            """))


def test_set_values_are_in_the_price_year():
    case = load_case("app_zaanstad", parse_set_values(["benefit.cost_per_year=15000"]))
    assert case.price_year == 2018
    assert case.value("benefit.cost_per_year") == 15_000
    assert case.parameters["benefit.cost_per_year"].date == "2018"
    assert "benefit.cost_per_year" not in case.price_conversions


def test_variant_amounts_are_converted_by_their_date(tmp_path):
    case = load_case(_case(tmp_path, "with_variant", """\
        variants:
          old_benefit:
            title: benefit of 2006
            overrides:
              benefit.cost_per_year: {value: 14000, unit: EUR/person-year, date: 2006, reference: "test"}
        """), variant="old_benefit")
    assert case.value("benefit.cost_per_year") == pytest.approx(14_000 * CPI_2019 / CPI_2006, rel=1e-12)
    assert case.price_conversions["benefit.cost_per_year"].from_year == 2006


def test_a_case_extending_a_case_of_another_price_year(tmp_path):
    """APP is in prices of 2018; a copy in prices of 2019 gets the base € 14.000 (of 2019) back exactly and
    APP's € 56.250 per FTE-year of 2018 times 106,16 / 103,44."""
    child = load_case(_case(tmp_path, "app_2019", "price_year: 2019\n", appraisal="2019-06-01",
                            extends="app_zaanstad"))
    app = load_case("app_zaanstad")
    assert app.value("benefit.cost_per_year") == pytest.approx(14_000 * CPI_2018 / CPI_2019, rel=1e-12)
    assert child.value("benefit.cost_per_year") == pytest.approx(14_000, rel=1e-12)
    assert "benefit.cost_per_year" not in child.price_conversions         # 2019 -> 2018 -> 2019: none left
    assert child.value("programme.cost_per_fte_year") == pytest.approx(56_250 * CPI_2019 / CPI_2018, rel=1e-12)
    c = child.price_conversions["programme.cost_per_fte_year"]
    assert (c.from_year, c.to_year, c.value_before) == (2018, 2019, 56_250)


def test_conversion_is_idempotent():
    case = load_case("buurt_mv_dordrecht")
    again, done = prices.express_in_price_year(case.parameters, case.price_year)
    assert done == [] and again == case.parameters


def test_cpi_base_is_checked(tmp_path):
    import dataclasses

    params = dict(load_case("fip_sittard_geleen").parameters)
    ref = params[prices.CPI_REFERENCE]
    assert (ref.value, ref.date) == (100.0, "2015")
    params[prices.CPI_REFERENCE] = dataclasses.replace(ref, value=110.0)
    with pytest.raises(InputError, match="CPI file gives 100.0 for 2015"):
        prices.express_in_price_year(params, 2019)


def test_published_cases_state_their_price_year():
    """Where the published figures sit (see the case files): APP's year-1 figures 2018, Flextensie's 2015."""
    years = {n: load_case(n).price_year for n in ("fip_sittard_geleen", "app_zaanstad", "buurt_mv_dordrecht",
                                                  "flextensie_zaanstad", "unit_value_14000")}
    assert years == {"fip_sittard_geleen": 2019, "app_zaanstad": 2018, "buurt_mv_dordrecht": 2014,
                     "flextensie_zaanstad": 2015, "unit_value_14000": 2019}
    # FIP's 240.000 - 133.000 = 107.000 is one sum in one price level: nothing of FIP's own is converted
    fip = load_case("fip_sittard_geleen")
    assert fip.value("programme.cost_per_fte_year") == 66_500 and fip.value("benefit.cost_per_year") == 15_000


def test_run_json_and_tidy_table_carry_the_price_year():
    from mkba.cli import app
    from mkba.model import run

    out = json.loads(CliRunner().invoke(app, ["run", "app_zaanstad", "--format", "json"]).output)
    assert out["case"]["price_year"] == 2018 and out["prices"]["price_year"] == 2018
    assert out["prices"]["note_nl"].startswith("bedragen in prijzen van 2018")
    conv = {c["parameter"]: c for c in out["prices"]["conversions"]}
    assert conv["benefit.cost_per_year"]["factor"] == pytest.approx(CPI_2018 / CPI_2019, rel=1e-12)
    assert run(load_case("app_zaanstad")).attrs["price_year"] == 2018

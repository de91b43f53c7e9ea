"""Golden tests: the published business cases, rebuilt through the real model.

Each test states the published figure, the tolerance and the source line. The case files
in data/cases/ hold the same figures (``published:``); ``test_every_published_figure`` checks
all of them, the explicit tests below pin the headline figures independently of the files.
"""
import pytest

from mkba.cases import list_cases, load_case
from mkba.compare import published_vs_model, unit_value_reconciliation
from mkba.model import per_actor, summarise


def metrics(name, variant=None):
    return summarise(load_case(name, variant=variant))["metrics"]


# ---- FIP Sittard-Geleen (003_1cff8ea758d15861.txt:730-870, 1908-1910)
def test_fip_extra_ended_benefits():
    m = metrics("fip_sittard_geleen")
    assert m["extra_exit_events"] == pytest.approx(16, abs=0.5)         # 71 vs 55, 003_...txt:821-822
    assert m["exit_events_control"] == pytest.approx(55, abs=1.0)       # 003_...txt:822 (administrative count)
    # the stock effect's exits do not return: the 16 are also 16 extra people off benefit
    assert m["extra_ended_benefits"] == pytest.approx(16, abs=0.5)


def test_fip_saving_cost_and_net_per_year():
    m = metrics("fip_sittard_geleen")
    assert m["annual_saving_run_rate_eur"] == pytest.approx(240_000, rel=0.01)   # 003_...txt:832-833, 1908
    assert m["programme_cost_per_year_eur"] == pytest.approx(133_000, rel=0.01)  # 003_...txt:1909
    assert m["annual_net_run_rate_eur"] == pytest.approx(107_000, rel=0.01)      # 003_...txt:833-834, 1910


def test_fip_at_generic_14000():
    m = metrics("fip_sittard_geleen", "generic_14000")
    assert m["annual_saving_run_rate_eur"] == pytest.approx(224_000, rel=0.01)   # 16 x 14.000, 003_...txt:1946
    assert m["annual_net_run_rate_eur"] == pytest.approx(91_000, rel=0.01)


def test_fip_stock_effect_saving_shrinks_after_the_pilot():
    """'Deze besparing zal later minder worden' (003_...txt:834-835): a one-off stock effect
    stops adding exits, a flow effect keeps adding them."""
    stock = summarise(load_case("fip_sittard_geleen"))["per_year"].set_index("year")
    flow = summarise(load_case("fip_sittard_geleen", variant="flow_effect"))["per_year"].set_index("year")
    assert stock.loc[5, "gross_saving_eur"] < stock.loc[3, "gross_saving_eur"]
    assert stock.loc[5, "extra_ended_benefits"] < stock.loc[2, "extra_ended_benefits"]
    assert flow.loc[5, "gross_saving_eur"] > flow.loc[3, "gross_saving_eur"]


# ---- APP Zaanstad (003_1cff8ea758d15861.txt:874-1010, 1912-1914)
def test_app_year_one():
    m = metrics("app_zaanstad")
    assert m["exit_events_treatment_year1"] == pytest.approx(24, abs=0.5)        # 30 % of 80, 003_...txt:957-958
    assert m["returns_treatment_year1"] == pytest.approx(2, abs=0.5)             # 003_...txt:959-960
    assert m["programme_cost_year1_eur"] == pytest.approx(90_000, rel=0.01)      # 003_...txt:975
    # 'meer dan € 150.000' (003_...txt:975) is missed with entry spread over year 1 (the base, 003_...txt:957)
    # and met only with all 80 at month 0 (variant entry_at_month0); tests/test_published.py has the hand bound
    assert m["saving_counting_all_exits_year1_eur"] < 150_000
    month0 = metrics("app_zaanstad", "entry_at_month0")
    assert month0["exit_events_treatment_year1"] == pytest.approx(24, abs=0.5)
    assert month0["saving_counting_all_exits_year1_eur"] > 150_000
    assert month0["net_counting_all_exits_year1_eur"] > 60_000


def test_app_net_of_null_is_smaller_than_published():
    m = metrics("app_zaanstad")
    assert m["gross_saving_year1_eur"] < m["saving_counting_all_exits_year1_eur"]
    # deadweight in year 1: entrants spread over year 1 are exposed 6,5 months on average, so the null
    # alternative has 80 x (1 - (0,945 x 0,97) ** (6,5 / 12)) = 3,7 of the 24 exits, about 15 %
    hand = 80 * (1 - (0.945 * 0.97) ** (6.5 / 12)) / 24
    assert hand == pytest.approx(0.153, abs=0.001)
    assert 1 - m["gross_saving_year1_eur"] / m["saving_counting_all_exits_year1_eur"] == pytest.approx(hand, abs=0.03)


# ---- Buurt-m/v, MKBA Dordrecht (003_1cff8ea758d15861.txt:450-567)
def test_buurt_mv_mkba_totals():
    m = metrics("buurt_mv_dordrecht")
    assert m["societal_benefits_eur"] == pytest.approx(250_000, rel=0.01)   # 003_...txt:528-529
    assert m["societal_costs_eur"] == pytest.approx(166_000, rel=0.01)      # 003_...txt:529
    assert m["societal_net_eur"] == pytest.approx(84_000, rel=0.02)
    assert m["bcr"] == pytest.approx(1.51, abs=0.01)


def test_buurt_mv_per_actor_table_adds_up():
    res = summarise(load_case("buurt_mv_dordrecht"))
    table = per_actor(res["table"])
    assert table.loc["total", "total"] == pytest.approx(res["metrics"]["societal_net_eur"], abs=1e-6)
    assert table.drop(index="total").drop(columns="total").to_numpy().sum() == pytest.approx(84_000, rel=0.02)
    for transfer in ("benefit_payments", "job_wages"):
        assert table.loc[transfer, "total"] == pytest.approx(0.0, abs=1e-6)   # transfers cancel


# ---- Flextensie Zaanstad (000_7f82048ff02a2552.txt:618-690)
def test_flextensie_break_even_and_year_one_plus():
    m = metrics("flextensie_zaanstad")
    assert m["secondment_break_even_month"] == pytest.approx(7, abs=1)                    # 000_...txt:672-673
    assert m["secondment_surplus_after_benefit_year1_eur"] == pytest.approx(25_000, rel=0.05)  # 000_...txt:673-676


def test_flextensie_family_of_consistent_assumptions():
    import numpy as np

    from mkba.calibration import secondment_family

    case = load_case("flextensie_zaanstad")
    fam = secondment_family(case, np.array([110, 130, 150]), np.arange(10, 101, 10), target_year1=25_000,
                            break_even_month=7)
    assert len(fam) >= 5
    assert ((fam["break_even_month"] - 7).abs() <= 1).all()
    assert np.allclose(fam["surplus_year1_eur"], 25_000, rtol=0.05)
    # 30 people at 130 h and about 3.525 a month, with the benefit in prices of 2015 (was 40 people and 3.577
    # with the € 14.000 of 2019 unconverted; the case's price year is 2015): the grid's overheads (steps of € 100)
    # around the fitted value that keep the surplus within 5 %
    chosen = fam[(fam["hours_per_month"] == 130) & (fam["pool"] == 30)]
    assert len(chosen) >= 1 and chosen["overhead_per_month"].min() <= 3525 <= chosen["overhead_per_month"].max()


# ---- € 14.000 per ended benefit (003_1cff8ea758d15861.txt:1946)
def test_unit_value_reconciliation():
    rec = unit_value_reconciliation().set_index("source")
    assert rec.loc["generic rule", "model_eur"] == pytest.approx(14_000, rel=0.001)
    assert rec.loc["FIP Sittard-Geleen", "published_eur"] == 15_000                      # 240.000 / 16
    assert rec.loc["APP Zaanstad, year 1", "published_eur"] == 6_250                     # 150.000 / 24
    # partial first year: with entry spread over year 1 (the base) an exit saves about a third of a benefit-year
    # in year 1, less than the published 150.000 / 24 / 14.000 = 0,45 (which needs earlier entry)
    assert 0.25 < rec.loc["APP Zaanstad, year 1", "benefit_years"] < 0.4 < 150_000 / 24 / 14_000
    assert rec.loc["generic rule, net of the null alternative", "model_eur"] < 14_000


@pytest.mark.parametrize("name", [n for n, _ in list_cases()])
def test_every_published_figure(name):
    rows = published_vs_model(load_case(name))
    # a figure the case marks expect: missed (its reading is known to miss it, e.g. APP's '> € 150.000'
    # with entry spread over year 1) must be missed; every other figure must be met
    bad = [r for r in rows if r["ok"] != (r["expected"] == "met")]
    assert not bad, bad


def test_calibrated_values_in_the_case_files_are_re_derived():
    """mkba.calibration.solve reproduces the 'calibrated:' values in the case files from their targets."""
    from mkba.calibration import solve

    fip = load_case("fip_sittard_geleen")
    # control group: 55 ended benefits of 300 by month 20 (003_1cff8ea758d15861.txt:821-822)
    assert solve(fip, "baseline.other_exit_rate", "exit_events_control", 55, 0.0, 0.2) == pytest.approx(
        fip.value("baseline.other_exit_rate"), abs=5e-4)
    # 16 extra ended benefits by month 20 (003_1cff8ea758d15861.txt:821-822)
    assert solve(fip, "effect.stock_share", "extra_exit_events", 16, 0.0, 0.3) == pytest.approx(
        fip.value("effect.stock_share"), abs=5e-4)
    app = load_case("app_zaanstad")
    # 24 of 80 leave in year 1 (003_1cff8ea758d15861.txt:958)
    assert solve(app, "effect.work_exit_added", "exit_events_treatment_year1", 24, 0.0, 0.6) == pytest.approx(
        app.value("effect.work_exit_added"), abs=5e-4)
    flex = load_case("flextensie_zaanstad")
    # € 25.000 in year 1 after benefit, top-up and costs (000_7f82048ff02a2552.txt:673-676)
    assert solve(flex, "secondment.overhead_per_month", "secondment_surplus_after_benefit_year1_eur", 25_000,
                 0, 20_000) == pytest.approx(flex.value("secondment.overhead_per_month"), abs=1.0)
    buurt = load_case("buurt_mv_dordrecht")
    # costs € 166.000 in the PBL MKBA (003_1cff8ea758d15861.txt:529)
    assert solve(buurt, "programme.other_cost_per_month", "societal_costs_eur", 166_000, 0, 20_000) == pytest.approx(
        buurt.value("programme.other_cost_per_month"), abs=1.0)


def test_readings_table_keeps_topic_choice_and_why():
    from mkba.views import readings_table

    case = load_case("fip_sittard_geleen")
    table = readings_table(case, "nl")
    assert list(table.columns) == ["Vraag", "Gekozen lezing", "Waarom", "Bron"]
    assert len(table) == len(case.readings) and list(table.index) == list(range(1, len(case.readings) + 1))
    r = case.readings[0]                          # Dutch reports show the Dutch text (issue 10, point 5)
    assert table.iloc[0]["Vraag"] == r.topic_nl and table.iloc[0]["Waarom"] == r.why_nl
    assert table.iloc[0]["Bron"].startswith("Significant (2019), r. 1909")
    en = readings_table(case, "en")
    assert en.iloc[0]["Question"] == r.topic and en.iloc[0]["Why"] == r.why

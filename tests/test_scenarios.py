"""Cycle scenarios and historical replay applied to cases."""
import numpy as np
import pytest

from mkba import cycle
from mkba.cases import load_case
from mkba.cycle import multiplier_path, scenario_multiplier
from mkba.errors import InputError
from mkba.model import evaluate_batch
from mkba.scenarios import (REPLAY_YEARS, channel_sensitivities, channel_table, replay_table, scenario_case,
                            scenario_table)

CASES = ["app_zaanstad", "fip_sittard_geleen", "buurt_mv_dordrecht", "flextensie_zaanstad", "unit_value_14000"]


def test_scenario_multiplier_is_relative_to_measurement_year():
    case = load_case("app_zaanstad")            # measured in the 2018 boom
    sc = scenario_case(case, "laagconjunctuur")
    # hand: index(2013) / index(2018), the downturn year over the measured year
    assert sc.value("cycle.multiplier") == pytest.approx(cycle.index_for_year(2013) / cycle.index_for_year(2018), rel=1e-5)
    assert sc.value("cycle.multiplier") < 1.0
    assert "2013" in sc.parameters["cycle.multiplier"].reference


@pytest.mark.parametrize("name", CASES)
def test_scenarios_point_the_right_way_for_every_case(name):
    case = load_case(name)
    table = scenario_table(case).set_index("scenario")
    own = case.value("cycle.multiplier")
    assert table.loc["hoogconjunctuur", "multiplier"] >= own >= table.loc["laagconjunctuur", "multiplier"]
    assert (table["measured_in"] == case.measured_in).all()
    assert table.loc["gemiddeld", "multiplier"] == pytest.approx(own / cycle.index_for_year(case.measured_in))
    assert table.loc["laagconjunctuur", "years"] == "2013"
    # one batch equals one run per scenario
    for n, row in table.iterrows():
        single = evaluate_batch(scenario_case(case, n))
        assert row["npv_eur"] == pytest.approx(single["npv_eur"][0], rel=1e-9, abs=1e-6)


def test_downturn_costs_a_work_first_case():
    table = scenario_table(load_case("app_zaanstad")).set_index("scenario")
    # a work-first approach earns less in a downturn (003_1cff8ea758d15861.txt:2042-2044)
    assert table.loc["laagconjunctuur", "npv_eur"] < table.loc["gemiddeld", "npv_eur"] < table.loc["hoogconjunctuur", "npv_eur"]


def test_channel_table_reads_the_case_sensitivities():
    case = load_case("app_zaanstad")
    sens = channel_sensitivities(case)
    assert sens["baseline.work_exit_rate"] == 1.0
    assert "effect.cycle_sensitivity" in sens
    assert all(k == "baseline.work_exit_rate" or k.endswith("cycle_sensitivity") for k in sens)
    half = case.with_overrides({"effect.cycle_sensitivity": {"value": 0.5, "unit": "fraction", "date": 2018,
                                                             "reference": "test: half"}})
    t = channel_table(half, "en").set_index("channel")
    m = scenario_table(half).set_index("scenario")["multiplier"]
    # hand: 1 + s (m - 1) with s = 0.5
    assert t.loc["effect.cycle_sensitivity", "laagconjunctuur"] == pytest.approx(1 + 0.5 * (m["laagconjunctuur"] - 1))
    assert t.loc["baseline.work_exit_rate", "hoogconjunctuur"] == pytest.approx(m["hoogconjunctuur"])
    assert t.loc["effect.cycle_sensitivity", "why"] == "test: half"


def test_replay_default_years_and_single_runs():
    case = load_case("app_zaanstad")
    assert REPLAY_YEARS == tuple(range(2008, 2024))
    table = replay_table(case, years=[2008, 2013, 2023])
    for _, row in table.iterrows():
        path = multiplier_path(int(row["start_year"]), case.months, reference_year=case.measured_in)
        single = evaluate_batch(case, cycle_path=path)
        assert row["npv_eur"] == pytest.approx(single["npv_eur"][0], rel=1e-9)
    assert list(table["path_source"]) == ["quarterly"] * 3
    assert list(table["beyond_data"]) == [False, False, True]
    assert (table["measured_in"] == 2018).all()


def test_replay_2013_is_worse_than_2007():
    table = replay_table(load_case("app_zaanstad"), years=[2007, 2013]).set_index("start_year")
    assert table.loc[2013, "extra_ended_benefits"] < table.loc[2007, "extra_ended_benefits"]
    assert table.loc[2013, "first_year_multiplier"] < 1.0 < table.loc[2007, "first_year_multiplier"] * 1.2


@pytest.mark.parametrize("given, suggested", [("laag", "laagconjunctuur"), ("laagconjunctuu", "laagconjunctuur")])
def test_unknown_scenario_suggests(given, suggested):
    with pytest.raises(InputError, match=f"did you mean '{suggested}'"):
        scenario_case(load_case("app_zaanstad"), given)


def test_case_measured_outside_the_index_names_case_value_range_and_closest(tmp_path):
    import dataclasses

    case = dataclasses.replace(load_case("app_zaanstad"), measured_in=1998)
    for call in (lambda: scenario_table(case), lambda: scenario_case(case, "gemiddeld"),
                 lambda: replay_table(case, years=[2010])):
        with pytest.raises(InputError) as exc:
            call()
        msg = str(exc.value)
        assert "measured_in" in msg and "1998" in msg and "2002-2024" in msg and "closest: 2002" in msg
        assert "app_zaanstad" in msg


@pytest.mark.parametrize("channel, s, m, expected", [
    ("effect.cycle_sensitivity", 1.0, 0.45, 0.45),              # finds work: 1 + 1 (0.45 - 1)
    ("jobs.placement_cycle_sensitivity", 0.5, 0.45, 0.725),     # 1 + 0.5 (-0.55)
    ("baseline.return_cycle_sensitivity", 0.5, 0.45, 1.275),    # loses work: 1 - 0.5 (-0.55)
    ("jobs.dropout_cycle_sensitivity", 1.0, 1.08, 0.92),        # 1 - 1 (0.08)
    ("jobs.dropout_cycle_sensitivity", 1.0, 2.5, 0.0),          # floored at 0
    ("effect.stock_cycle_sensitivity", 0.0, 0.45, 1.0),         # s = 0: does not move
])
def test_channel_factor_direction(channel, s, m, expected):
    from mkba.scenarios import channel_factor

    assert channel_factor(channel, s, m) == pytest.approx(expected)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_report_views_show_index_source_years_and_measured_year(lang):
    from mkba import views

    case = load_case("app_zaanstad")
    caption, table, raw = views.cycle_scenario_view(case, lang)
    text = caption.data
    assert "**2018**" in text and "81574NED" in text and "82662NED" in text and "2022" in text and "2013" in text
    if lang == "nl":
        assert "Deze casus is gemeten in" in text and "1,29" in text           # Dutch decimal comma
        assert list(table.columns[:5]) == ["Bronjaren index", "Index scenario", "Gemeten in", "Index meetjaar",
                                           "Factor op uitstroom"]
        assert list(table.index) == ["hoogconjunctuur", "gemiddeld", "laagconjunctuur"]
        assert table.iloc[0, 2] == "2018" and table.iloc[0, 0] == "2022" and table.iloc[1, 0] == "2002-2024"
    else:
        assert "This case was measured in" in text and "1.29" in text
        assert "Measured in" in list(table.columns)
    caption, table, raw, fig = views.replay_view(case, lang)
    assert list(raw["start_year"]) == list(range(2008, 2024))
    titles = [fig.axes[0].get_title(loc) for loc in ("left", "center", "right")]   # report style: left titles
    assert any("2018" in t for t in titles) and "80590ned" in caption.data
    assert ("kwartaal" if lang == "nl" else "quarter") in caption.data
    caption, table, raw = views.cycle_channel_view(case, lang)
    assert ("1 − s × (factor − 1)" in caption.data) and len(table) == len(raw) >= 2

"""Cycle scenarios and historical replay applied to cases."""
import numpy as np
import pytest

from mkba.cases import load_case
from mkba.cycle import multiplier_path, scenario_multiplier
from mkba.model import evaluate_batch
from mkba.scenarios import replay_table, scenario_case, scenario_table


def test_scenario_multiplier_is_relative_to_measurement_year():
    case = load_case("app_zaanstad")            # measured in the 2018 boom
    sc = scenario_case(case, "laagconjunctuur")
    assert sc.value("cycle.multiplier") == pytest.approx(scenario_multiplier("laagconjunctuur", reference_year=2018), rel=1e-6)
    assert sc.value("cycle.multiplier") < 1.0


def test_scenarios_order_outflow_and_results():
    table = scenario_table(load_case("app_zaanstad")).set_index("scenario")
    assert table.loc["hoogconjunctuur", "multiplier"] > table.loc["gemiddeld", "multiplier"] > table.loc["laagconjunctuur", "multiplier"]
    # a work-first approach earns less in a downturn (003_1cff8ea758d15861.txt:2042-2044)
    assert table.loc["laagconjunctuur", "npv_eur"] < table.loc["hoogconjunctuur", "npv_eur"]


def test_replay_equals_single_runs_with_the_same_path():
    case = load_case("app_zaanstad")
    table = replay_table(case, years=[2008, 2013])
    for _, row in table.iterrows():
        path = multiplier_path(int(row["start_year"]), case.months, reference_year=case.measured_in)
        single = evaluate_batch(case, cycle_path=path)
        assert row["npv_eur"] == pytest.approx(single["npv_eur"][0], rel=1e-9)


def test_replay_2013_is_worse_than_2007():
    table = replay_table(load_case("app_zaanstad"), years=[2007, 2013]).set_index("start_year")
    assert table.loc[2013, "extra_ended_benefits"] < table.loc[2007, "extra_ended_benefits"]


def test_unknown_scenario_suggests():
    from mkba.errors import InputError

    with pytest.raises(InputError, match="laagconjunctuur"):
        scenario_case(load_case("app_zaanstad"), "laagconjunctuu")

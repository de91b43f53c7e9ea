"""Tests for mkba.cycle: the labour-market cycle index, composition, scenarios and replay."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from mkba import cbs, cycle
from mkba.errors import InputError

# Seed anchors: 000_7f82048ff02a2552.txt:112-114 -- 15 % (2007), 12 % (2008), 7 % (2013), 8 % (2014).
# They are a share of the WWB population; the model rate is on the 81574NED scale, so the fit
# tolerance is stated, not zero:
ANCHOR_RMSE_PP = 1.5        # root-mean-square error over the four anchors, percentage points
ANCHOR_MAX_ERROR_PP = 2.5   # largest single-year error (2007: model 12.7 % vs seed 15 %)
RATIO_TOLERANCE = 0.25      # boom/downturn ratio (2007+2008)/(2013+2014): seed 27/15 = 1.80

WORK_YEARS = list(range(2002, 2018))   # 81574NED windows 2002-2015 + municipal tables 2016, 2017
ALL_YEARS = list(range(2008, 2024))    # 82662NED / 83426NED
INDEX_YEARS = list(range(2002, 2025))


@pytest.fixture(scope="module")
def built() -> pd.DataFrame:
    return cycle.build_cycle_index(write=False)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return cycle.load_cycle_index()


@pytest.fixture(scope="module")
def prov() -> dict:
    return json.loads((cbs.processed_dir() / cycle.PROVENANCE_NAME).read_text(encoding="utf-8"))


def test_committed_files_match_a_fresh_build(built, table):
    assert list(table["year"]) == INDEX_YEARS
    for col in ("index", "composition_factor", "observed_work_rate", "modelled_work_rate", "modelled_work_rate_loo",
                "observed_all_rate", "modelled_all_rate", "modelled_all_rate_loo"):
        np.testing.assert_allclose(table[col].to_numpy(float), built[col].to_numpy(float), rtol=1e-5,
                                   equal_nan=True, err_msg=col)
    assert list(table["scenario"]) == list(built["scenario"])
    q = cycle.load_quarterly_index()
    np.testing.assert_allclose(q["index"], built.attrs["quarterly"]["index"], rtol=1e-5)


def test_observed_rates_from_cbs(table):
    t = table.set_index("year")
    # 81574NED Bijstandsuitkering_6, 'Inkomsten uit arbeid totaal', 2014/15 window: 37.6 (x1000)
    assert t.loc[2015, "outflow_to_work_k"] == pytest.approx(37.6)
    assert t.loc[2015, "caseload_window_k"] == pytest.approx(380.5, abs=0.05)   # 37789ksz mean Oct 2014-Sep 2015
    assert t.loc[2015, "observed_work_rate"] == pytest.approx(37.6 / 380.5, rel=1e-3)
    # 82662NED Uitstromers_3, 2008 quarters: 26060 + 24220 + 26050 + 22170
    assert t.loc[2008, "outflow_persons"] == 26060 + 24220 + 26050 + 22170
    # the same persons counted by 85617NED (ended benefits) within 0.1 %: 2012 109,610 vs 109,580
    assert t.loc[2012, "outflow_persons"] == pytest.approx(t.loc[2012, "ended_benefits"], rel=1e-3)
    # issue 11: all-reason outflow over the caseload 0.29 (2013-2015), 0.25 (2017-2018), 0.18 (2023)
    assert t.loc[2013:2015, "observed_all_rate"].mean() == pytest.approx(0.29, abs=0.005)
    assert t.loc[2017:2018, "observed_all_rate"].mean() == pytest.approx(0.25, abs=0.005)
    assert t.loc[2023, "observed_all_rate"] == pytest.approx(0.18, abs=0.005)
    # municipal tables (Nederland, 15+): 10.5 / 10.0 / 10.5 %, put on the 81574NED scale by the 2015 ratio
    ratio = 0.105 / t.loc[2015, "observed_rate_window"]
    assert t.loc[2016, "observed_work_rate"] == pytest.approx(0.100 / ratio)
    assert t.loc[2017, "observed_work_rate"] == pytest.approx(0.105 / ratio)
    assert t.loc[2013, "unemployment_rate"] == pytest.approx(8.2)
    assert t.loc[2002, "unemployment_source"].startswith("83752NED")


@pytest.mark.parametrize("year", WORK_YEARS)
def test_every_observed_to_work_year_reproduced(table, year):
    r = table.set_index("year").loc[year]
    assert abs(r.modelled_work_rate - r.observed_work_rate) * 100 <= cycle.TOLERANCE_WORK_PP
    assert abs(r.modelled_work_rate_loo - r.observed_work_rate) * 100 <= cycle.TOLERANCE_WORK_LOO_PP


@pytest.mark.parametrize("year", ALL_YEARS)
def test_every_observed_all_reason_year_reproduced(table, year):
    r = table.set_index("year").loc[year]
    assert abs(r.modelled_all_rate - r.observed_all_rate) * 100 <= cycle.TOLERANCE_ALL_PP
    assert abs(r.modelled_all_rate_loo - r.observed_all_rate) * 100 <= cycle.TOLERANCE_ALL_LOO_PP


def test_leave_one_year_out_is_a_real_refit(table, prov):
    """Redo the leave-one-year-out fit for 2017 by hand (OLS of log(rate/composition) on 1, u, du)."""
    obs = pd.DataFrame(prov["estimation_observations"])
    assert list(obs["year"]) == WORK_YEARS
    keep = obs[obs["year"] != 2017]
    X = np.column_stack([np.ones(len(keep)), keep["u"], keep["du"]])
    y = np.log(keep["observed_rate"] / keep["composition_factor"])
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    row = obs[obs["year"] == 2017].iloc[0]
    hand = math.exp(b[0] + b[1] * row["u"] + b[2] * row["du"]) * row["composition_factor"]
    t = table.set_index("year")
    assert t.loc[2017, "modelled_work_rate_loo"] == pytest.approx(hand, rel=1e-5)
    assert t.loc[2017, "modelled_work_rate_loo"] != pytest.approx(t.loc[2017, "modelled_work_rate"], rel=1e-3)
    assert all(c["ok"] for c in prov["checks"]["per_observation"])
    assert len(prov["checks"]["per_observation"]) == len(WORK_YEARS) + len(ALL_YEARS)


def test_index_is_the_cycle_only(table, prov):
    """index = exp(c1 u + c2 du) / mean: no composition in it; composition is its own column."""
    c = prov["model"]["coefficients"]
    raw = np.exp(c["u"] * table["unemployment_rate"] + c["du"] * table["unemployment_change"])
    np.testing.assert_allclose(table["index"], raw / raw.mean(), rtol=1e-5)
    assert table["index"].mean() == pytest.approx(1.0)
    comp = prov["composition"]
    s = table["recent_entrant_share"]
    hand = (comp["e_new"] * s + comp["e_long"] * (1 - s)) / (comp["e_new"] * comp["s_ref"] + comp["e_long"] * (1 - comp["s_ref"]))
    np.testing.assert_allclose(table["composition_factor"], hand, rtol=1e-5)
    # recent entrants leave faster than longer-term recipients (85617NED / 82662NED)
    assert comp["e_new"] > 2 * comp["e_long"]
    assert c["u"] < 0 and c["du"] < 0


def test_composition_carries_the_structural_fall(table, prov):
    t = table.set_index("year")
    # recent-entrant share halved 2013 -> 2022 while unemployment fell: composition down, cycle up
    assert t.loc[2022, "recent_entrant_share"] < 0.55 * t.loc[2013, "recent_entrant_share"]
    assert t.loc[2022, "composition_factor"] < t.loc[2013, "composition_factor"] - 0.15
    assert t.loc[2022, "index"] > t.loc[2013, "index"]
    # the all-reason check fits better with the composition term than without
    assert prov["all_reason_fit"]["rmse_pp"] < prov["all_reason_fit_without_composition"]["rmse_pp"]


def test_index_reproduces_seed_anchors_within_tolerance(table):
    fit = cycle.anchor_fit(table)
    assert fit["reference"] == "000_7f82048ff02a2552.txt:112-114"
    assert fit["rmse_pp_modelled"] <= ANCHOR_RMSE_PP
    for row in fit["per_year"]:
        assert abs(row["error_pp"]) <= ANCHOR_MAX_ERROR_PP, row
    assert fit["ratio_boom_downturn_seed"] == pytest.approx(1.8)
    assert abs(fit["ratio_boom_downturn_model"] - 1.8) <= RATIO_TOLERANCE
    # "een kleine 10 procent" per year 2007-2014 (000_7f82048ff02a2552.txt:110): within 1 pp of 10 %
    assert abs(fit["mean_2007_2014_modelled"] - 0.10) <= 0.01


def test_national_rates_2015_2017(prov):
    nat = prov["checks"]["national_outflow_to_work_municipal_tables"]
    # 83450NED / 83747NED / 84066NED, Nederland, 15+: 10.5 / 10.0 / 10.5 %
    assert [nat[y]["cbs_rate"] for y in ("2015", "2016", "2017")] == [0.105, 0.100, 0.105]
    ratio = prov["definition_ratio_municipal_to_81574_2015"]
    for y in ("2015", "2016", "2017"):
        assert abs(nat[y]["error_pp"]) <= cycle.TOLERANCE_WORK_PP * ratio, y


def test_model_spec_is_best_candidate_without_gdp(prov):
    loo = {tuple(c["spec"]): c["loo_rmse_pp"] for c in prov["candidates"]}
    no_gdp = {k: v for k, v in loo.items() if "g" not in k}
    assert min(no_gdp, key=no_gdp.get) == cycle.MODEL_SPEC
    tables = {s["table"] for s in prov["sources"]}
    assert {"81574NED", "37789ksz", "82662NED_totals", "83426NED", "85617NED", "80590ned", "83752NED"} <= tables
    for s in prov["sources"]:
        assert s["sha256"] == cbs.file_sha256(s["table"])
    assert "labour-market cycle" in prov["what_is_measured"]["index"]


def test_scenarios_defined_from_observed_years(table):
    sc = cycle.scenarios()
    assert list(sc) == ["hoogconjunctuur", "gemiddeld", "laagconjunctuur"]
    assert [s.label_en for s in sc.values()] == ["boom", "average", "downturn"]
    t = table.set_index("year")["index"]
    assert sc["hoogconjunctuur"].years == (int(t.idxmax()),)
    assert sc["laagconjunctuur"].years == (int(t.idxmin()),) == (2013,)   # u 8.2 %, +1.4 pp
    assert sc["hoogconjunctuur"].multiplier == pytest.approx(t.max())
    assert sc["gemiddeld"].multiplier == 1.0
    with pytest.raises(Exception):
        sc["gemiddeld"].multiplier = 2.0                        # frozen


@pytest.mark.parametrize("measured_in", INDEX_YEARS)
def test_boom_at_least_one_downturn_at_most_one_for_every_measured_year(measured_in):
    boom = cycle.scenario_multiplier("hoogconjunctuur", reference_year=measured_in)
    down = cycle.scenario_multiplier("laagconjunctuur", reference_year=measured_in)
    assert boom >= 1.0 >= down
    extremes = set(cycle.scenarios()["hoogconjunctuur"].years) | set(cycle.scenarios()["laagconjunctuur"].years)
    if measured_in not in extremes:
        assert boom > 1.0 > down


@pytest.mark.parametrize("given, suggested", [("laag", "laagconjunctuur"), ("hoog", "hoogconjunctuur"),
                                              ("gem", "gemiddeld"), ("hoogconjunctur", "hoogconjunctuur"),
                                              ("downtrun", "downturn")])
def test_unknown_scenario_names_the_closest(given, suggested):
    with pytest.raises(InputError) as exc:
        cycle.scenario_multiplier(given)
    msg = str(exc.value)
    assert f"did you mean '{suggested}'" in msg and repr(given) in msg and "laagconjunctuur" in msg


def test_scenario_multiplier_relative_to_measured_year():
    idx2018 = cycle.index_for_year(2018)
    assert cycle.scenario_multiplier("Boom") == cycle.scenarios()["hoogconjunctuur"].multiplier
    assert cycle.scenario_multiplier("gemiddeld", reference_year=2018) == pytest.approx(1 / idx2018)
    with pytest.raises(InputError, match=r"2002-2024.*closest: 2024"):
        cycle.scenario_multiplier("gemiddeld", reference_year=2030)


def test_multiplier_path_quarterly_from_2008(table):
    t = table.set_index("year")["index"]
    q = cycle.load_quarterly_index().set_index(["year", "quarter"])["index"]
    path = cycle.multiplier_path(2007, 30)
    np.testing.assert_allclose(path[:12], t[2007])                 # 2007: yearly
    np.testing.assert_allclose(path[12:15], q[(2008, 1)])          # 2008 Q1 onward: quarterly
    np.testing.assert_allclose(path[15:18], q[(2008, 2)])
    np.testing.assert_allclose(path[27:30], q[(2009, 2)])
    assert q[(2008, 1)] != pytest.approx(q[(2008, 2)])
    # quarterly path averages to about the yearly index (same drivers, seasonally adjusted)
    for y in (2009, 2013, 2018):
        assert np.mean([q[(y, k)] for k in range(1, 5)]) == pytest.approx(t[y], rel=0.06)
    rel = cycle.multiplier_path(2013, 12, reference_year=2018)
    np.testing.assert_allclose(rel, [q[(2013, (m // 3) + 1)] / t[2018] for m in range(12)])
    tail = cycle.multiplier_path(2023, 48)                         # 2023-2026: after the data -> 1.0
    last = max(q.index)
    n_data = (last[0] - 2023) * 12 + last[1] * 3
    np.testing.assert_allclose(tail[n_data:], 1.0)
    assert cycle.multiplier_path(np.int64(2010), np.int64(12)).shape == (12,)


@pytest.mark.parametrize("kwargs, match", [
    ({"start_year": 2001, "months": 12}, r"2002-2023.*closest: 2002"),
    ({"start_year": 2024, "months": 12}, r"2002-2023.*closest: 2023"),
    ({"start_year": "2010", "months": 12}, "whole number"),
    ({"start_year": 2010, "months": 0}, "positive"),
    ({"start_year": 2010, "months": 12.5}, "positive"),
    ({"start_year": 2010, "months": True}, "positive"),
    ({"start_year": 2010, "months": 12, "reference_year": 2030}, r"measured_in.*2002-2024.*closest: 2024"),
])
def test_multiplier_path_bad_inputs(kwargs, match):
    with pytest.raises(InputError, match=match):
        cycle.multiplier_path(**kwargs)


def test_load_builds_when_missing(tmp_path, monkeypatch):
    (tmp_path / "raw").symlink_to(cbs.repo_root() / "data" / "raw")
    monkeypatch.setenv("MKBA_DATA_DIR", str(tmp_path))
    df = cycle.load_cycle_index()
    assert (tmp_path / "processed" / cycle.CSV_NAME).exists()
    assert (tmp_path / "processed" / cycle.QUARTERLY_CSV_NAME).exists()
    prov = json.loads((tmp_path / "processed" / cycle.PROVENANCE_NAME).read_text(encoding="utf-8"))
    assert prov["reference_period"] == [2002, 2024] and "built" in prov
    assert {"year", "index", "composition_factor"} <= set(df.columns)

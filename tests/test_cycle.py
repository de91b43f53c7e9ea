"""Tests for mkba.cycle: the economic-cycle index, scenarios and historical replay."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mkba import cbs, cycle
from mkba.errors import InputError

# Seed anchors: 000_7f82048ff02a2552.txt:112-114 -- 15 % (2007), 12 % (2008), 7 % (2013), 8 % (2014).
# They are a share of the WWB population; the index rate is outflow to work (81574NED) per average
# benefit (37789ksz), so the fit tolerance is stated, not zero:
ANCHOR_RMSE_PP = 1.5        # root-mean-square error over the four anchors, percentage points
ANCHOR_MAX_ERROR_PP = 2.5   # largest single-year error (2008: model 14.3 % vs seed 12 %)
RATIO_TOLERANCE = 0.25      # boom/downturn ratio (2007+2008)/(2013+2014): seed 27/15 = 1.80


@pytest.fixture(scope="module")
def built() -> pd.DataFrame:
    return cycle.build_cycle_index(write=False)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return cycle.load_cycle_index()


def test_committed_file_matches_a_fresh_build(built, table):
    assert list(table["year"]) == list(range(2002, 2025))
    for col in ("outflow_to_work_rate", "index", "observed_rate_window", "modelled_rate"):
        np.testing.assert_allclose(table[col].to_numpy(float), built[col].to_numpy(float), rtol=1e-5,
                                   equal_nan=True, err_msg=col)
    assert list(table["scenario"]) == list(built["scenario"])


def test_observed_rates_from_cbs(table):
    t = table.set_index("year")
    # 81574NED Bijstandsuitkering_6, 'Inkomsten uit arbeid totaal', 2014/15 window: 37.6 (x1000)
    assert t.loc[2015, "outflow_to_work_k"] == pytest.approx(37.6)
    # 37789ksz BijstandsuitkeringenTotDeAOWLeeftijd_12, mean Oct 2014 - Sep 2015 (x1000)
    assert t.loc[2015, "caseload_window_k"] == pytest.approx(380.5, abs=0.05)
    assert t.loc[2015, "observed_rate_window"] == pytest.approx(37.6 / 380.5, rel=1e-3)
    # 2006/07 window: 43.8k to work
    assert t.loc[2007, "outflow_to_work_k"] == pytest.approx(43.8)
    # unemployment 80590ned NietSeizoengecorrigeerd_7: 2013 8.2 %, 2022 3.5 %
    assert t.loc[2013, "unemployment_rate"] == pytest.approx(8.2)
    assert t.loc[2022, "unemployment_rate"] == pytest.approx(3.5)
    assert t.loc[2002, "unemployment_source"].startswith("83752NED")
    # 85617NED ended benefits 2012: 109,580 (shared CBS README)
    assert t.loc[2012, "ended_benefits"] == 109_580


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


def test_index_shape_and_sanity(table):
    t = table.set_index("year")
    assert t.loc[2013, "index"] < t.loc[2007, "index"]          # downturn below pre-crisis boom
    assert t["index"].idxmin() == 2013                            # deepest year: unemployment 8.2 %, +1.4 pp
    assert t.loc[2009, "index"] < t.loc[2008, "index"]            # crisis year
    assert t["index"].mean() == pytest.approx(1.0)                # gemiddeld = mean of 2002-2024
    # seed "between 5 and 15 percent for decades" (000_7f82048ff02a2552.txt:4-5): observed windows inside
    obs = t["observed_rate_window"].dropna()
    assert obs.between(0.05, 0.16).all() and len(obs) == 14
    # 2016-2024 unemployment below the 2002-2015 range -> clipped, flagged
    assert t.loc[2022, "clipped"] and not t.loc[2007, "clipped"]


def test_model_spec_is_best_candidate():
    prov = json.loads((cbs.processed_dir() / cycle.PROVENANCE_NAME).read_text(encoding="utf-8"))
    loo = {tuple(c["spec"]): c["loo_rmse_pp"] for c in prov["candidates"]}
    assert min(loo, key=loo.get) == cycle.MODEL_SPEC
    assert prov["model"]["r2_log"] > 0.9
    assert prov["model"]["coefficients"]["u"] < 0 and prov["model"]["coefficients"]["du"] < 0
    tables = {s["table"] for s in prov["sources"]}
    assert {"81574NED", "37789ksz", "80590ned", "83752NED", "85880NED", "85617NED"} <= tables
    for s in prov["sources"]:
        assert s["sha256"] == cbs.file_sha256(s["table"])


def test_cross_check_national_outflow_2015(table):
    # 83450NED (Sociale zekerheid: gemeenten 2015), Nederland, UitstromersNaarWerk_9 = 10.5 %
    rates = cycle._regional_national_rates()
    assert rates[2015] == pytest.approx(0.105)
    assert abs(table.set_index("year").loc[2015, "modelled_rate"] - rates[2015]) < 0.01


def test_scenarios():
    sc = cycle.scenarios()
    assert list(sc) == ["hoogconjunctuur", "gemiddeld", "laagconjunctuur"]
    assert [s.label_en for s in sc.values()] == ["boom", "average", "downturn"]
    assert sc["gemiddeld"].multiplier == 1.0
    assert sc["hoogconjunctuur"].multiplier == pytest.approx(1.26, abs=0.01)
    assert sc["laagconjunctuur"].multiplier == pytest.approx(0.745, abs=0.01)
    years = [y for s in sc.values() for y in s.years]
    assert sorted(years) == list(range(2002, 2025))             # terciles partition the period
    assert [len(s.years) for s in sc.values()] == [8, 7, 8]
    # seed cycle positions: 2007 boom (002_9fee65b090f4ca9a.txt:38 'economische bloeiperiode', June 2007),
    # 2013 downturn (004_44507734c221607c.txt:60 'De werkloosheid stijgt'),
    # 2017-2019 high conjuncture (003_1cff8ea758d15861.txt:2042 'hoogconjunctuur')
    assert 2007 in sc["hoogconjunctuur"].years
    assert 2013 in sc["laagconjunctuur"].years
    assert {2017, 2018, 2019} <= set(sc["hoogconjunctuur"].years)
    with pytest.raises(Exception):
        sc["gemiddeld"].multiplier = 2.0                        # frozen


def test_scenario_multiplier_and_errors():
    idx2018 = cycle.index_for_year(2018)
    assert cycle.scenario_multiplier("laagconjunctuur") == cycle.scenarios()["laagconjunctuur"].multiplier
    assert cycle.scenario_multiplier("Boom") == cycle.scenarios()["hoogconjunctuur"].multiplier
    assert cycle.scenario_multiplier("gemiddeld", reference_year=2018) == pytest.approx(1 / idx2018)
    with pytest.raises(InputError, match="hoogconjunctuur"):
        cycle.scenario_multiplier("hoogconjunctur")
    with pytest.raises(InputError, match="2002-2024"):
        cycle.scenario_multiplier("gemiddeld", reference_year=1999)


def test_multiplier_path_values(table):
    t = table.set_index("year")["index"]
    path = cycle.multiplier_path(2008, 30)
    assert path.shape == (30,)
    assert np.all(path[:12] == t[2008]) and np.all(path[12:24] == t[2009]) and np.all(path[24:] == t[2010])
    rel = cycle.multiplier_path(2013, 24, reference_year=2018)
    np.testing.assert_allclose(rel[:12], t[2013] / t[2018])
    assert rel[0] < 0.5                                          # 2013 vs the 2018 boom: less than half
    tail = cycle.multiplier_path(2022, 60)                       # 2022-2026: beyond 2024 -> 1.0
    np.testing.assert_allclose(tail[:12], t[2022])
    np.testing.assert_allclose(tail[24:36], t[2024])
    np.testing.assert_allclose(tail[36:], 1.0)
    assert cycle.multiplier_path(2002, 1).shape == (1,)
    assert cycle.multiplier_path(np.int64(2010), np.int64(12)).shape == (12,)


@pytest.mark.parametrize("kwargs, match", [
    ({"start_year": 2001, "months": 12}, "2002-2022"),
    ({"start_year": 2023, "months": 12}, "2002-2022"),
    ({"start_year": "2010", "months": 12}, "whole number"),
    ({"start_year": 2010, "months": 0}, "positive"),
    ({"start_year": 2010, "months": 12.5}, "positive"),
    ({"start_year": 2010, "months": True}, "positive"),
    ({"start_year": 2010, "months": 12, "reference_year": 2030}, "2002-2024"),
])
def test_multiplier_path_bad_inputs(kwargs, match):
    with pytest.raises(InputError, match=match):
        cycle.multiplier_path(**kwargs)


def test_load_builds_when_missing(tmp_path, monkeypatch):
    (tmp_path / "raw").symlink_to(cbs.repo_root() / "data" / "raw")
    monkeypatch.setenv("MKBA_DATA_DIR", str(tmp_path))
    df = cycle.load_cycle_index()
    assert (tmp_path / "processed" / cycle.CSV_NAME).exists()
    prov = json.loads((tmp_path / "processed" / cycle.PROVENANCE_NAME).read_text(encoding="utf-8"))
    assert prov["reference_period"] == [2002, 2024] and "built" in prov
    assert {"year", "outflow_to_work_rate", "index"} <= set(df.columns)

"""Tests for mkba.local: a case scaled to a municipality, new case files, the municipal comparison."""
from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from mkba import cycle, local
from mkba.cases import load_case
from mkba.cli import app
from mkba.errors import InputError
from mkba.model import evaluate_batch
from mkba.municipalities import find_municipality
from mkba.schema import SCHEMA


@pytest.fixture(scope="module")
def fip():
    return load_case("fip_sittard_geleen")


@pytest.fixture(scope="module")
def app_case():
    return load_case("app_zaanstad")


# ------------------------------------------------------------------------------- localise
def test_participants_from_the_cbs_caseload(fip):
    # CBS 85383NED AlgemeneBijstand_23, Definitief 2024: Zaanstad 3.080, Sittard-Geleen 2.130 benefits
    assert find_municipality("GM0479")["bijstand_2024_algemeen"] == 3080
    case, facts = local.localise(fip, "GM0479", 0.10)
    assert case.value("cohort.initial_participants") == 308 == facts["participants"]
    ref = case.parameters["cohort.initial_participants"].reference
    assert "CBS 85383NED AlgemeneBijstand_23" in ref and "3.080" in ref and "Zaanstad" in ref
    assert case.name == "fip_sittard_geleen_gm0479" and "Zaanstad" in case.title
    assert case.published == [] and case.variants == {} and case.pilot is None
    assert facts["notes"] == []                                        # Zaanstad has every figure
    # by name, case-insensitive; 0.05 x 2.130 = 106,5 rounds half up
    case2, facts2 = local.localise(fip, "sittard-geleen", 0.05)
    assert facts2["gm_code"] == "GM1883" and case2.value("cohort.initial_participants") == 107


def test_default_share_is_documented(fip):
    _, facts = local.localise(fip, "Zaanstad")
    assert facts["share_reached"] == local.DEFAULT_SHARE_REACHED == 0.10
    assert "300" in local.DEFAULT_SHARE_REACHED_REFERENCE


def test_staff_scales_and_cost_per_participant_stays(app_case):
    case, facts = local.localise(app_case, "Zaanstad", 0.10)
    k = 308 / 80
    assert facts["scale"] == pytest.approx(k)
    assert case.value("programme.staff_fte") == pytest.approx(1.6 * k, rel=1e-9)
    assert case.value("programme.cost_per_fte_year") == app_case.value("programme.cost_per_fte_year")
    before = evaluate_batch(app_case)["programme_cost_eur"][0] / 80
    after = evaluate_batch(case)["programme_cost_eur"][0] / 308
    assert after == pytest.approx(before, rel=1e-9)


def test_fixed_running_costs_scale_too():
    buurt = load_case("buurt_mv_dordrecht")                             # 6 participants, other costs per month
    case, facts = local.localise(buurt, "Dordrecht", 0.01)
    k = facts["participants"] / 6
    assert case.value("programme.other_cost_per_month") == pytest.approx(7492 * k, rel=1e-9)
    p = case.parameters["programme.other_cost_per_month"]
    assert p.low == pytest.approx(6000 * k, rel=1e-9) and p.high == pytest.approx(9000 * k, rel=1e-9)


def test_work_exit_rate_follows_local_outflow(fip):
    # CBS outflow to work, % of recipients (15 jaar of ouder): Zaanstad 10.0 / 10.0 / 10.5,
    # Nederland 10.5 / 10.0 / 10.5 (83450NED, 83747NED, 84066NED)
    case, facts = local.localise(fip, "Zaanstad", 0.10)
    assert facts["outflow_national_pct"] == {2015: 10.5, 2016: 10.0, 2017: 10.5}
    ratio = np.mean([10.0, 10.0, 10.5]) / np.mean([10.5, 10.0, 10.5])
    assert facts["outflow_ratio"] == pytest.approx(ratio)
    assert case.value("baseline.work_exit_rate") == pytest.approx(0.055 * ratio, rel=1e-9)
    assert "84066NED UitstroomNaarWerk_9" in case.parameters["baseline.work_exit_rate"].reference


def test_missing_outflow_is_noted_and_rate_unchanged(fip):
    # Vlieland: CBS gives no outflow-to-work percentage in 2015-2017
    case, facts = local.localise(fip, "Vlieland")
    assert case.value("baseline.work_exit_rate") == fip.value("baseline.work_exit_rate")
    assert "baseline.work_exit_rate" not in facts["overrides"]
    assert any("no percentage" in n and "2015, 2016, 2017" in n for n in facts["notes"])
    assert any("left as in the case" in n for n in facts["notes"])
    assert any(r.topic == "Local data" for r in case.readings)
    assert math.isnan(facts["outflow_ratio"])
    # Meierijstad: 2017 missing (inconsistent CBS record) -> mean of 2015-2016, noted
    case, facts = local.localise(fip, "Meierijstad")
    assert facts["outflow_years_used"] == [2015, 2016]
    assert any("2017" in n and "left out of the mean" in n for n in facts["notes"])
    assert case.value("baseline.work_exit_rate") != fip.value("baseline.work_exit_rate")


def test_too_few_recipients_keeps_rate(fip):
    case, facts = local.localise(fip, "Zoeterwoude")                   # 70 recipients a year
    assert case.value("baseline.work_exit_rate") == fip.value("baseline.work_exit_rate")
    assert any(f"fewer than {local.MIN_RECIPIENTS_FOR_LOCAL_RATE}" in n for n in facts["notes"])


def test_unknown_municipality_gets_closest_matches(fip):
    with pytest.raises(InputError, match="Zaanstad"):
        local.localise(fip, "Zaanstadt")
    with pytest.raises(InputError, match="no municipality with this code in 2024"):
        local.localise(fip, "GM0480")   # numerically near codes are not suggested: they mean nothing
    with pytest.raises(InputError, match=r"merged into Maashorst \(GM1991\)"):
        local.localise(fip, "GM0856")
    with pytest.raises(InputError, match="Sittard-Geleen"):
        local.localise(fip, "Sittard Gelen")


def test_no_caseload_is_a_clear_error_not_a_zero(fip):
    with pytest.raises(InputError, match="0 algemene bijstand benefits") as exc:
        local.localise(fip, "Ameland")
    assert "participants" in exc.value.fix
    case, facts = local.localise(fip, "Ameland", participants=5)
    assert case.value("cohort.initial_participants") == 5 and facts["participants_rule"] == "given"


@pytest.mark.parametrize("bad", [10, 0, -0.1, "0.1", True, float("nan")])
def test_bad_share(fip, bad):
    with pytest.raises(InputError):
        local.localise(fip, "Zaanstad", bad)


def test_share_as_percentage_gets_a_fix(fip):
    with pytest.raises(InputError, match="write 0.1 for 10 %"):
        local.localise(fip, "Zaanstad", 10)


def test_count_date_reset_for_a_local_case(fip):
    case, _ = local.localise(fip, "Zaanstad")
    assert fip.value("evaluation.month") == 20 and case.value("evaluation.month") == 0


# ------------------------------------------------------------------------------- many municipalities
def test_evaluate_municipalities_matches_localise(app_case):
    df = local.evaluate_municipalities(app_case, ["Zaanstad", "GM1883", "Vlieland"], 0.10)
    ref = app_case.measured_in                                          # 2018: the labour market of APP's year 1
    mult = {n: cycle.scenario_multiplier(n, ref) for n in ("hoogconjunctuur", "gemiddeld", "laagconjunctuur")}
    assert df.attrs["reference_year"] == ref == local.measurement_year(app_case)
    assert df.attrs["scenario_multipliers"] == pytest.approx(mult)
    assert len(df) == 9 and set(df["scenario"]) == set(mult)
    for gm in ("GM0479", "GM1883", "GM0096"):
        case, facts = local.localise(app_case, gm, 0.10)
        for _, row in df[df["gm_code"] == gm].iterrows():
            m = evaluate_batch(case, {"cycle.multiplier": np.array([mult[row["scenario"]]])})
            for k in ("npv_eur", "net_result_eur", "extra_ended_benefits", "programme_cost_eur", "gross_saving_eur"):
                assert row[k] == pytest.approx(m[k][0], rel=1e-9, abs=1e-6), (gm, k)
            assert row["break_even_month"] == m["break_even_month"][0] or (
                math.isnan(row["break_even_month"]) and math.isnan(m["break_even_month"][0]))
            assert row["participants"] == facts["participants"]
            assert row["npv_per_participant_eur"] == pytest.approx(row["npv_eur"] / row["participants"])
    vl = df[df["gm_code"] == "GM0096"].iloc[0]
    assert "no percentage" in vl["notes"]
    # a boom helps an approach that adds job finding
    z = df[df["gm_code"] == "GM0479"].set_index("scenario")["npv_eur"]
    assert z["hoogconjunctuur"] > z["gemiddeld"] > z["laagconjunctuur"]


def test_evaluate_all_reports_municipalities_without_caseload(fip):
    df = local.evaluate_municipalities(fip, "all", 0.10, {"gemiddeld": 1.0})
    assert len(df) == 342
    ameland = df[df["name"] == "Ameland"].iloc[0]
    assert math.isnan(ameland["npv_eur"]) and "0 algemene bijstand" in ameland["notes"]
    assert df["npv_eur"].notna().sum() == 341


def test_peer_group_same_size_and_urbanisation():
    peers = local.peer_group("GM0479")
    me = find_municipality("GM0479")
    assert peers["is_self"].sum() == 1 and "GM0479" in set(peers["gm_code"])
    assert (peers["size_class_code"] == me["size_class_code"]).all()
    assert (peers["urbanisation_code"] == me["urbanisation_code"]).all()
    assert len(peers) == 10
    assert "note" in local.peer_group("Vlieland").attrs or len(local.peer_group("Vlieland")) >= 4


def test_compare_with_peers(app_case):
    res = local.compare_with_peers(app_case, "Zaanstad", 0.10, scenario="boom")
    assert res.attrs["scenario"] == "hoogconjunctuur"
    assert res.attrs["group_size"] == len(res) == 10
    me = res[res["is_self"]].iloc[0]
    assert res.attrs["rank"] == me["rank"] == 1 + (res["npv_per_participant_eur"] > me["npv_per_participant_eur"]).sum()
    with pytest.raises(InputError, match="did you mean"):
        local.compare_with_peers(app_case, "Zaanstad", scenario="hoogconjuctuur")


# ------------------------------------------------------------------------------- case files
def test_new_case_file_round_trip(tmp_path, fip):
    path = local.new_case_file("fip_zaanstad", "fip_sittard_geleen", "GM0479", out_dir=tmp_path, share_reached=0.1)
    assert path == tmp_path / "fip_zaanstad.yaml"
    loaded = load_case(path)
    expected, _ = local.localise(fip, "GM0479", 0.1)
    assert loaded.values == expected.values
    assert loaded.name == "fip_zaanstad" and loaded.published == [] and loaded.pilot is None and loaded.variants == {}
    assert loaded.measured_in == fip.measured_in and loaded.start_date == fip.start_date
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert raw["published"] == [] and raw["extends"] == "base"
    assert set(raw["overrides"]) == set(SCHEMA)                          # every assumption listed
    for name, leaf in raw["overrides"].items():
        assert {"value", "unit", "date", "reference"} <= set(leaf), name
        assert leaf["unit"] == SCHEMA[name].unit
    assert "CBS 85383NED" in raw["overrides"]["cohort.initial_participants"]["reference"]
    assert raw["overrides"]["benefit.cost_per_year"]["reference"] == fip.parameters["benefit.cost_per_year"].reference
    assert any("local figures" in r["choice"] for r in raw["readings"])
    assert len(loaded.readings) == len(expected.readings) + 1           # copied once, not inherited twice
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Case file written by `mkba new`") and "How to edit" in text
    # validates and runs unchanged through the CLI
    runner = CliRunner()
    r = runner.invoke(app, ["validate", str(path)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["run", str(path), "--format", "json"])
    assert r.exit_code == 0, r.output
    assert '"published": []' in r.output


def test_new_case_file_refuses_to_overwrite(tmp_path):
    path = local.new_case_file("app_here", "app_zaanstad", "Zaanstad", out_dir=tmp_path)
    before = path.read_text(encoding="utf-8")
    with pytest.raises(InputError, match="exists"):
        local.new_case_file("app_here", "app_zaanstad", "Sittard-Geleen", out_dir=tmp_path)
    assert path.read_text(encoding="utf-8") == before
    local.new_case_file("app_here", "app_zaanstad", "Sittard-Geleen", out_dir=tmp_path, overwrite=True)
    assert load_case(path).value("cohort.initial_participants") == 213
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app_here.yaml"]  # no temporary files left


@pytest.mark.parametrize("bad, hint", [("Zaanstad FIP", "zaanstad_fip"), ("9lives", "case_9lives"), ("base", "shadow")])
def test_new_case_file_bad_name(tmp_path, bad, hint):
    with pytest.raises(InputError, match=hint):
        local.new_case_file(bad, "app_zaanstad", "Zaanstad", out_dir=tmp_path)


def test_new_case_file_without_municipality_and_with_variant(tmp_path):
    p = local.new_case_file("flex_copy", "flextensie_zaanstad", out_dir=tmp_path)
    assert load_case(p).values == load_case("flextensie_zaanstad").values
    assert load_case(p).published == []
    p = local.new_case_file("fip_flow", "fip_sittard_geleen", "Zaanstad", out_dir=tmp_path, variant="flow_effect")
    c = load_case(p)
    assert c.value("effect.other_exit_added") == 0.0371 and c.value("effect.stock_share") == 0
    assert c.variants == {}


def test_new_case_file_unknown_municipality_writes_nothing(tmp_path):
    with pytest.raises(InputError, match="Zaanstad"):
        local.new_case_file("x_case", "fip_sittard_geleen", "Zaanstadt", out_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_case_with_inflow_keeps_its_split(app_case):
    leaf = {"unit": "persons/month", "date": 2019, "reference": "assumption: test"}
    case = app_case.with_overrides({
        "cohort.initial_participants": {"value": 40, "unit": "persons", "date": 2019, "reference": "assumption: test"},
        "cohort.inflow_per_month": {"value": 4, **leaf},
        "cohort.inflow_months": {"value": 10, "unit": "months", "date": 2019, "reference": "assumption: test"}})
    loc, facts = local.localise(case, "Zaanstad", 0.10)                # 80 -> 308 participants
    v = loc.values
    assert v["cohort.initial_participants"] == 154                    # half start at once, as in the case
    assert v["cohort.initial_participants"] + v["cohort.inflow_per_month"] * 10 == pytest.approx(308)
    assert v["programme.staff_fte"] == pytest.approx(1.6 * 308 / 80)

"""Tests for mkba.local: a case scaled to a municipality, new case files, the municipal comparison."""
from __future__ import annotations

import datetime
import math
import shutil

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


def test_fixed_running_costs_are_kept_and_say_what_they_would_be():
    # Buurt-m/v: EUR 7.492 a month for 6 people; scaled linearly to 240 it became EUR 299.680 (issue 15)
    buurt = load_case("buurt_mv_dordrecht")                             # 6 participants, other costs per month
    case, facts = local.localise(buurt, "Dordrecht", participants=240)
    assert case.value("programme.other_cost_per_month") == 7492
    sc = facts["scaling"]["programme.other_cost_per_month"]
    assert sc.kind == "fixed" and "299.680" in sc.why                   # 7.492 x 40, shown, not applied
    assert any(r.topic == "Fixed and one-off costs kept" and "programme.other_cost_per_month" in r.choice
               for r in case.readings)


def test_work_exit_rate_follows_local_outflow_in_the_years_of_the_case(fip):
    # FIP's exit chances describe 2017-2018 (start 2017-07, measured_in 2018); CBS has outflow to
    # work per municipality for 2015-2017 only, so 2017 is used: Zaanstad 10.5 %, Nederland 10.5 %
    # (84066NED UitstroomNaarWerk_9, 15 jaar of ouder) -> ratio 1
    case, facts = local.localise(fip, "Zaanstad", 0.10)
    assert facts["case_years"] == [2017, 2018] and facts["outflow_years_used"] == [2017]
    assert facts["outflow_national_pct"] == {2017: 10.5}
    assert facts["outflow_ratio"] == pytest.approx(10.5 / 10.5)
    # Leiden 2017: 9.5 % against 10.5 %
    case, facts = local.localise(fip, "Leiden", 0.05)
    assert facts["outflow_ratio"] == pytest.approx(9.5 / 10.5)
    assert case.value("baseline.work_exit_rate") == pytest.approx(0.055 * 9.5 / 10.5, rel=1e-9)
    p = case.parameters["baseline.work_exit_rate"]
    assert "84066NED UitstroomNaarWerk_9" in p.reference and str(p.date) == "2017"
    # Flextensie describes 2015: Zaanstad 10.0 % against 10.5 % (83450NED)
    flex = load_case("flextensie_zaanstad")
    _, f2 = local.localise(flex, "Zaanstad", 0.10)
    assert f2["outflow_years_used"] == [2015] and f2["outflow_ratio"] == pytest.approx(10.0 / 10.5)


def test_case_from_years_cbs_does_not_cover_keeps_the_national_rate(fip):
    # Buurt-m/v describes 2012-2013: CBS has no per-municipality outflow to work for those years
    buurt = load_case("buurt_mv_dordrecht")
    case, facts = local.localise(buurt, "Dordrecht", participants=20)
    assert case.value("baseline.work_exit_rate") == buurt.value("baseline.work_exit_rate")
    assert facts["outflow_years_used"] == [] and math.isnan(facts["outflow_ratio"])
    note = next(n for n in facts["notes"] if "kept at the national level" in n)
    assert "2015-2017" in note and "2012-2013" in note and "mix labour markets" in note


def test_missing_outflow_is_noted_and_rate_unchanged(fip):
    # Vlieland: CBS gives no outflow-to-work percentage in 2017
    case, facts = local.localise(fip, "Vlieland")
    assert case.value("baseline.work_exit_rate") == fip.value("baseline.work_exit_rate")
    assert "baseline.work_exit_rate" not in facts["overrides"]
    assert any("no percentage" in n and "2017" in n for n in facts["notes"])
    assert any("left as in the case" in n for n in facts["notes"])
    assert any(r.topic == "Local data" for r in case.readings)
    assert math.isnan(facts["outflow_ratio"])
    # Meierijstad: 2017 missing (inconsistent CBS record); Flextensie (2015) has its 2015 figure
    case, facts = local.localise(fip, "Meierijstad")
    assert facts["outflow_years_used"] == []
    case, facts = local.localise(load_case("flextensie_zaanstad"), "Meierijstad")
    assert facts["outflow_years_used"] == [2015]


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
    with pytest.raises(InputError, match=r"had no general social-assistance \(algemene bijstand\) benefits in 2024") as exc:
        local.localise(fip, "Ameland")
    assert "participants" in exc.value.fix
    # a municipal report says it in its own language (mkba.notes)
    assert exc.value.note.text("nl").startswith("Ameland (GM0060) had in 2024 geen uitkeringen algemene bijstand")
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
    assert math.isnan(ameland["npv_eur"]) and "no general social-assistance" in ameland["notes"]
    assert df["npv_eur"].notna().sum() == 341


def test_peer_group_same_size_and_urbanisation():
    peers = local.peer_group("GM0479")
    me = find_municipality("GM0479")
    assert peers["is_self"].sum() == 1 and "GM0479" in set(peers["gm_code"])
    assert (peers["size_class_code"] == me["size_class_code"]).all()
    assert (peers["urbanisation_code"] == me["urbanisation_code"]).all()
    assert len(peers) == 10
    assert "note" in local.peer_group("Vlieland").attrs or len(local.peer_group("Vlieland")) >= 4


def test_peer_group_reads_the_municipal_table_once_and_leaves_it_as_read(monkeypatch):
    """Every municipal report's peer table selects from one table per process (it read the CSV anew)."""
    import mkba.municipalities as mun

    reads = []
    real = mun.load_municipalities
    monkeypatch.setattr(mun, "load_municipalities", lambda: reads.append(1) or real())
    mun._cached_table.cache_clear()
    try:
        first = local.peer_group("GM0479")
        local.peer_group("GM0363")
        again = local.peer_group("GM0479")
        assert len(reads) == 1
        assert first.equals(again) and first.attrs == again.attrs
        assert mun.municipalities_table().equals(real())   # peer_group changed nothing in the shared table
    finally:
        mun._cached_table.cache_clear()


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
    # every value as localised, except the discount rate: the one in force today, not FIP's 3 %
    assert {k: v for k, v in loaded.values.items() if k != "discount.rate"} == \
        {k: v for k, v in expected.values.items() if k != "discount.rate"}
    assert loaded.value("discount.rate") == 0.0225 and fip.value("discount.rate") == 0.03
    assert loaded.name == "fip_zaanstad" and loaded.published == [] and loaded.pilot is None and loaded.variants == {}
    today = datetime.date.today()
    assert loaded.measured_in == fip.measured_in == 2018                # the year of the exit chances used
    assert loaded.start_date == today and loaded.appraisal_date == today
    assert local.placeholders(loaded) == ["title", "summary", "summary_nl"]
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert raw["published"] == [] and raw["extends"] == "base"
    assert set(raw["overrides"]) == set(SCHEMA) - {"discount.rate"}     # every other assumption listed
    for name, leaf in raw["overrides"].items():
        assert {"value", "unit", "date", "reference"} <= set(leaf), name
        assert leaf["unit"] == SCHEMA[name].unit
    assert "CBS 85383NED" in raw["overrides"]["cohort.initial_participants"]["reference"]
    assert raw["overrides"]["benefit.cost_per_year"]["reference"] == fip.parameters["benefit.cost_per_year"].reference
    assert any("local figures" in r["choice"] for r in raw["readings"])
    assert len(loaded.readings) == len(expected.readings) + 1           # copied once, not inherited twice
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Case file written by `mkba new`") and "How to edit" in text
    assert max(len(line) for line in text.splitlines()) <= 100           # block style, within 100 columns
    assert "{value:" not in text                                         # no flow-style leaves
    assert "# Kans per jaar dat iemand zonder de aanpak uitstroomt naar werk" in text   # Dutch description
    assert "# === Kosten van de aanpak (programme)" in text              # grouped by mechanism
    assert "discount.rate: not set here: the rate in force on appraisal_date applies (2.25 %" in text
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
    c = load_case(path)                # APP's 80 enter over year 1: the 213 are scaled inflow
    assert c.value("cohort.initial_participants") + c.value("cohort.inflow_per_month") * c.value("cohort.inflow_months") \
        == pytest.approx(213)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app_here.yaml"]  # no temporary files left


@pytest.mark.parametrize("bad, hint", [("Zaanstad FIP", "zaanstad_fip"), ("9lives", "case_9lives"), ("base", "shadow")])
def test_new_case_file_bad_name(tmp_path, bad, hint):
    with pytest.raises(InputError, match=hint):
        local.new_case_file(bad, "app_zaanstad", "Zaanstad", out_dir=tmp_path)


def test_new_case_file_without_municipality_and_with_variant(tmp_path):
    p = local.new_case_file("flex_copy", "flextensie_zaanstad", out_dir=tmp_path)
    flex = load_case("flextensie_zaanstad")
    assert {k: v for k, v in load_case(p).values.items() if k != "discount.rate"} == \
        {k: v for k, v in flex.values.items() if k != "discount.rate"}
    assert load_case(p).value("discount.rate") == 0.0225
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


# ------------------------------------------------------------------------------- walk-through (issue 15 point 9)
def _data_copy(tmp_path):
    """A data folder of our own (cases written there are renderable), sharing the CBS files."""
    from mkba.parameters import data_dir

    src = data_dir()
    dst = tmp_path / "data"
    dst.mkdir()
    for sub in ("parameters", "cases"):
        shutil.copytree(src / sub, dst / sub)
    for sub in ("raw", "processed", "templates"):
        if (src / sub).exists():
            (dst / sub).symlink_to(src / sub, target_is_directory=True)
    return dst


def test_walk_through_as_written(tmp_path, monkeypatch):
    """README 'A local business case in minutes': new -> edit with a script -> validate -> run -> render -> export."""
    import datetime as dt

    data = _data_copy(tmp_path)
    monkeypatch.setenv("MKBA_DATA_DIR", str(data))
    runner = CliRunner()
    fip = load_case("fip_sittard_geleen")
    r = runner.invoke(app, ["new", "leiden_fip", "--from", "fip_sittard_geleen", "--municipality", "Leiden",
                            "--share", "0.05"])
    assert r.exit_code == 0, r.output
    path = data / "cases" / "leiden_fip.yaml"
    text = path.read_text(encoding="utf-8")
    assert max(len(line) for line in text.splitlines()) <= 100
    r = runner.invoke(app, ["validate", str(path)])
    assert r.exit_code == 0 and "placeholder [invullen]" in r.output, r.output

    # the analyst's edits, by script: title and summary, two local values with their sources
    raw = yaml.safe_load(text)
    raw["title"] = "FIP in Leiden"
    raw["summary"] = "Intensive contact with 135 long-term recipients in Leiden"
    raw["summary_nl"] = "Intensief contact met 135 langdurig bijstandsgerechtigden in Leiden"
    # an amount is dated in the year of its prices; the CBS CPI in data/raw/cbs ends in 2024, so a 2025
    # amount cannot be expressed in the case's price year (mkba.prices refuses it by name): 2024 here
    raw["overrides"]["benefit.cost_per_year"].update(value=14500, date=2024,
                                                     reference="gemeente Leiden, begroting 2024 (test)")
    raw["overrides"]["baseline.work_exit_rate"].update(value=0.05, date=2025,
                                                       reference="gemeente Leiden, monitor 2025 (test)")
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    r = runner.invoke(app, ["validate", str(path)])
    assert r.exit_code == 0, r.output
    assert "written for other values" in r.output and "baseline.work_exit_rate" in r.output   # stale, named
    assert "placeholder" not in r.output
    # ... and rewrites the readings validate named (here: drops them)
    from mkba.readings import stale_readings

    stale = {s.topic for s in stale_readings(load_case(path))}
    assert stale, "the localised exit rate's reading must go stale when the rate is changed"
    raw["readings"] = [x for x in raw["readings"] if x["topic"] not in stale]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    r = runner.invoke(app, ["validate", str(path)])
    assert r.exit_code == 0 and "warning" not in r.output, r.output

    case = load_case(path)
    assert stale_readings(case) == []
    # nothing still carries FIP Sittard-Geleen's identity
    today = dt.date.today()
    assert case.start_date == today != fip.start_date and case.appraisal_date == today != fip.appraisal_date
    assert case.value("discount.rate") == 0.0225 != fip.value("discount.rate")   # in force since 2021-01-01
    assert case.title == "FIP in Leiden" and "Sittard" not in case.summary + (case.summary_nl or "")
    assert case.perspective == "municipality" and case.published == [] and case.pilot is None
    assert case.value("cohort.initial_participants") == 135 != fip.value("cohort.initial_participants")
    # € 14.500 of 2024 in the case's prices of 2019 (FIP's price year): x CPI 106,16 / 130,31 (CBS 83131NED)
    assert case.price_year == 2019
    assert case.value("benefit.cost_per_year") == pytest.approx(14500 * 106.16 / 130.31, rel=1e-12)

    r = runner.invoke(app, ["run", "leiden_fip", "--format", "json"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "reports"
    r = runner.invoke(app, ["render", "leiden_fip", "--out", str(out), "--workers", "1"])
    assert r.exit_code == 0, r.output
    html = (out / "leiden_fip.html").read_text(encoding="utf-8")
    assert "FIP in Leiden" in html and "VEROUDERD" not in html and "[invullen]" not in html
    r = runner.invoke(app, ["export", "leiden_fip", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / "leiden_fip.xlsx").stat().st_size > 0


# ------------------------------------------------------------------------------- bad input to `mkba new`
@pytest.mark.parametrize("args, words", [
    (["--share", "1.5"], ["--share", "1.5", "(0, 1]", "Fix:"]),
    (["--share", "0"], ["--share", "0", "(0, 1]", "Fix:"]),
    (["--share", "10"], ["--share", "write 0.1 for 10 %"]),
    # Leiden: 2.700 algemene bijstand benefits (CBS 85383NED, 2024)
    (["--participants", "5000"], ["--participants", "5000", "more than the whole", "2.700", "at most 2.700"]),
    (["--start", "2019-01-01"], ["--start", "2019-01-01", "before the caseload data", "2024-01-01",
                                 "--participants"]),
    (["--start", "2025-02-30"], ["--start", "2025-02-30", "YYYY-MM-DD"]),
    (["--perspective", "socety"], ["--perspective", "socety", "society"]),
    (["--from", "no_such_template"], ["--from", "no_such_template", "neither a case nor a template",
                                      "--list-templates"]),
    (["-m", "GM0788"], ["municipality", "GM0788", "Haaren", "split over", "Boxtel (GM0757)", "say which"]),
    (["-m", "GM0856"], ["municipality", "GM0856", "merged into Maashorst (GM1991)", "use 'Maashorst'"]),
    (["-m", "Bergen"], ["municipality", "Bergen", "Bergen (L.)", "Bergen (NH.)", "say which"]),
])
def test_new_bad_input_names_option_value_and_fix(tmp_path, args, words):
    base = ["new", "x_case", "--from", "fip_sittard_geleen", "-m", "Leiden", "--out-dir", str(tmp_path)]
    for opt in ("--from", "-m"):                        # the test's value replaces the default one
        if opt in args:
            k = base.index(opt)
            del base[k:k + 2]
    r = CliRunner().invoke(app, base + args)
    assert r.exit_code != 0 and r.exception is None or isinstance(r.exception, SystemExit), r.output
    assert "Traceback" not in r.output
    for w in words:
        assert w in r.output, (w, r.output)
    assert list(tmp_path.iterdir()) == []               # nothing written


def test_new_list_templates_reads_the_templates_own_descriptions(tmp_path, monkeypatch):
    data = _data_copy(tmp_path)
    (data / "templates").unlink() if (data / "templates").is_symlink() else None
    (data / "templates").mkdir(exist_ok=True)
    (data / "templates" / "intensive_contact.yaml").write_text(
        "title: Intensief contact\ndescription: Fits an approach of more frequent contact with a small caseload "
        "per consultant (FIP, APP).\n", encoding="utf-8")
    (data / "templates" / "secondment.yaml").write_text(
        "template:\n  title_nl: Detachering met behoud van uitkering\n  description_nl: Past bij werk via een "
        "detacheerder terwijl de uitkering doorloopt (Flextensie).\n", encoding="utf-8")
    monkeypatch.setenv("MKBA_DATA_DIR", str(data))
    r = CliRunner().invoke(app, ["new", "--list-templates"])
    assert r.exit_code == 0, r.output
    assert "intensive_contact: Intensief contact" in r.output and "small caseload" in r.output
    assert "secondment: Detachering met behoud van uitkering" in r.output and "Flextensie" in r.output
    assert max(len(l) for l in r.output.splitlines()) <= 100


def test_several_municipalities_and_a_region_are_summed():
    fip = load_case("fip_sittard_geleen")
    # CBS 85383NED 2024 algemene bijstand: Zaanstad 3.080 + Leiden 2.700 = 5.780 -> 10 % = 578
    case, facts = local.localise(fip, ["Zaanstad", "Leiden"], 0.10)
    assert facts["bijstand_2024_algemeen"] == 3080 + 2700 and facts["participants"] == 578
    assert [n for _c, n in facts["members"]] == ["Zaanstad", "Leiden"]
    # 2017 outflow to work, recipient-weighted: the mean lies between Leiden's 9.5 and Zaanstad's 10.5 %
    assert 9.5 < facts["outflow_local_pct"] < 10.5
    region, rf = local.localise(fip, "Rijnmond", 0.10)
    assert rf["gm_code"] == "AM22" and len(rf["members"]) == 14 and "arbeidsmarktregio Rijnmond" == rf["name"]
    assert rf["bijstand_2024_algemeen"] == sum(find_municipality(c)["bijstand_2024_algemeen"] for c, _n in rf["members"])


def test_readings_record_their_values_and_go_stale_when_they_change(tmp_path):
    from mkba import readings, views

    path = local.new_case_file("fip_leiden", "fip_sittard_geleen", "Leiden", out_dir=tmp_path, share_reached=0.05)
    case = load_case(path)
    assert readings.stale_readings(case) == []                          # fresh file: nothing stale
    rec = {r.topic: r.values for r in case.readings}
    assert rec["Exit to work without the approach"] == {"baseline.work_exit_rate": pytest.approx(0.055 * 9.5 / 10.5)}
    assert rec["Participants in Leiden"] == {"cohort.initial_participants": 135}
    changed = case.with_overrides({"baseline.work_exit_rate": {"value": 0.05, "unit": "1/year (probability)",
                                                               "date": 2025, "reference": "test"}})
    stale = readings.stale_readings(changed)
    assert {s.topic for s in stale} >= {"Exit to work without the approach", "Local figures"}
    assert "baseline.work_exit_rate 0.0497619 -> 0.05" in stale[0].describe()
    nl = views.readings_table(changed, "nl")
    marked = nl[nl.iloc[:, 1].str.startswith("VEROUDERD")]
    assert len(marked) == len(stale) and "baseline.work_exit_rate" in marked.iloc[0, 1]
    assert not views.readings_table(case, "en").iloc[:, 1].str.contains("OUT OF DATE").any()


def test_new_cli_takes_several_municipalities(tmp_path):
    r = CliRunner().invoke(app, ["new", "fip_two", "--from", "fip_sittard_geleen", "-m", "Zaanstad", "-m", "Leiden",
                                 "--out-dir", str(tmp_path), "--perspective", "society", "--start", "2026-03-01"])
    assert r.exit_code == 0, r.output
    c = load_case(tmp_path / "fip_two.yaml")
    assert c.value("cohort.initial_participants") == 578 and c.perspective == "society"
    assert c.start_date == datetime.date(2026, 3, 1)
    assert any(x.topic == "Area" and "Zaanstad, Leiden" in x.choice for x in c.readings)


def test_data_notes_are_written_in_the_report_language():
    """A Dutch municipal report showed the CBS data notes in English with '9.0%' and '46.127'; they are
    worded from their key and fields (mkba.notes): Amsterdam's 2018 figure sums Amsterdam 46.127 and
    Weesp 448 (84590NED), its 2015 outflow Amsterdam 4.720 of 48.850 recipients, 9,0 % (83450NED)."""
    from mkba import views

    _c, facts = views.municipality_case("GM0363", "fip_sittard_geleen", 0.1)
    nl, en = views.data_notes(facts, "nl"), views.data_notes(facts, "en")
    assert "uitstroom naar werk 2015 (83450NED): de som van de voorgangers (ontvangers / uitgestroomd naar werk / %) " \
           "Amsterdam 48.850 / 4.720 / 9,0 %, Weesp 490 / 40 / 7,0 %" in nl
    assert "sum of" not in nl and "predecessors" not in nl and "outflow_to_work" not in nl
    assert "Amsterdam 48,850 / 4,720 / 9.0%" in en
    # the persons-with-bijstand counts (84590NED: Amsterdam 46.127 + Weesp 448) are not in the report: nor their notes
    assert "46.127" not in nl and "personen met bijstand" not in nl
    assert "46,127" in str(facts["data_notes"])            # the table keeps them
    # no caseload: the reason in the report's language, and the CBS notes still shown
    _c, facts = views.municipality_case("GM0060", "fip_sittard_geleen", 0.1)
    assert _c is None
    assert "geen uitkeringen algemene bijstand" in views.data_notes(facts, "nl")
    assert "no general social-assistance" in views.data_notes(facts, "en")


def test_cbs_classes_are_in_the_report_language():
    """CBS 85755NED labels its classes in Dutch ('250 000 inwoners of meer', 'Zeer sterk stedelijk'); an
    English report showed them untranslated. Amsterdam: size class 8, urbanisation 1."""
    from mkba import views

    _c, facts = views.municipality_case("GM0363", "fip_sittard_geleen", 0.1)
    assert (facts["size_class_code"], facts["urbanisation_code"]) == (8, 1)
    en = views.local_facts_table(facts, "en").iloc[:, 0].tolist()
    nl = views.local_facts_table(facts, "nl").iloc[:, 0].tolist()
    assert "250,000 inhabitants or more" in en and "very highly urbanised" in en
    assert "250.000 inwoners of meer" in nl and "zeer sterk stedelijk" in nl


def test_the_outflow_rows_name_the_years_they_are_the_mean_of():
    """FIP's exit chances describe 2017-2019, of which CBS covers 2017: Tilburg's row showed 12,0 % (2017 only,
    84066NED) under the label '2015-2017', whose mean is 10,8 % (9,0; 11,5; 12,0)."""
    from mkba import views
    from mkba.formatting import pct

    _c, facts = views.municipality_case("GM0855", "fip_sittard_geleen", 0.1)
    assert facts["outflow_years_used"] == [2017]
    t = views.local_facts_table(facts, "nl").iloc[:, 0]
    assert t["Uitstroom naar werk 2017 (gemeente)"] == "12,0 %"
    assert t["Uitstroom naar werk 2017 (Nederland)"] == pct(local.national_outflow_to_work()[2017] / 100, "nl")
    en = views.local_facts_table(facts, "en").iloc[:, 0]
    assert en["Outflow to work 2017 (local)"] == "12.0%"

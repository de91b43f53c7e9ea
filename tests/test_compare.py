"""Both perspectives, always: run metrics and `mkba compare` show the municipal and the societal result.

Hand-computed: the € 14.000 case (one benefit ends in month 1, 12 months, 3 % real; appraisal
2019) plus a one-off set-up cost of € 1.200 in month 0 paid by the municipality. The benefit is a
transfer (the municipality saves what the participant loses), so for society only the € 1.200
remains: net -1.200, NPV -1.200 / 1,03 (Excel convention: year 1 discounted once), BCR 0. For the
municipality everything falls in year 1, so its BCR is the benefit saving over 1.200.
"""
import json

import pytest
from typer.testing import CliRunner

from mkba.cases import load_case, parse_set_values
from mkba.cli import app
from mkba.compare import COMPARE_PERSPECTIVES, compare_cases, comparison_overrides, on_footing
from mkba.model import summarise

runner = CliRunner()


@pytest.fixture(scope="module")
def unit_with_setup_cost():
    case = load_case("unit_value_14000", parse_set_values(["programme.setup_cost=1200"]))
    assert case.value("discount.rate") == 0.03
    return summarise(case)["metrics"]


def test_societal_figures_by_hand(unit_with_setup_cost):
    m = unit_with_setup_cost
    assert m["societal_net_result_eur"] == pytest.approx(-1200.0, abs=1e-9)
    assert m["societal_npv_eur"] == pytest.approx(-1200.0 / 1.03, abs=1e-9)       # -1.165,05
    assert m["societal_bcr"] == pytest.approx(0.0, abs=1e-12)


def test_municipal_figures_by_hand(unit_with_setup_cost):
    m = unit_with_setup_cost
    saving = m["gross_benefit_saving_eur"]                                         # about 11,5 months of 14.000
    assert 14000 * 11 / 12 < saving <= 14000
    assert m["municipal_net_result_eur"] == pytest.approx(saving - 1200.0, abs=1e-9)
    assert m["municipal_npv_eur"] == pytest.approx((saving - 1200.0) / 1.03, abs=1e-9)
    assert m["municipal_bcr"] == pytest.approx((saving / 1.03) / (1200.0 / 1.03), abs=1e-9)
    # the case's own perspective (municipality) stays in the unprefixed keys
    assert (m["net_result_eur"], m["npv_eur"], m["bcr"]) == (
        m["municipal_net_result_eur"], m["municipal_npv_eur"], m["municipal_bcr"])


def test_fip_says_municipal_plus_societal_minus():
    """FIP: the municipality gains, society loses (eligibility exits save benefits but produce nothing)."""
    m = summarise(load_case("fip_sittard_geleen"))["metrics"]
    assert m["municipal_npv_eur"] > 0 > m["societal_npv_eur"]
    assert m["municipal_bcr"] > 1 > m["societal_bcr"]
    buurt = summarise(load_case("buurt_mv_dordrecht"))["metrics"]   # a societal case: unprefixed = societal
    assert (buurt["npv_eur"], buurt["bcr"]) == (buurt["societal_npv_eur"], buurt["societal_bcr"])
    assert buurt["net_result_eur"] == buurt["societal_net_result_eur"]


def test_run_json_carries_both_perspectives():
    r = runner.invoke(app, ["run", "fip_sittard_geleen", "--format", "json"])
    assert r.exit_code == 0, r.output
    m = json.loads(r.output)["metrics"]
    for prefix in ("municipal", "societal"):
        for k in ("net_result_eur", "npv_eur", "bcr"):
            assert f"{prefix}_{k}" in m
    assert m["municipal_npv_eur"] > 0 > m["societal_npv_eur"]


@pytest.fixture(scope="module")
def compared():
    return compare_cases(["fip_sittard_geleen", "buurt_mv_dordrecht"])


def test_compare_has_one_block_per_perspective(compared):
    assert list(compared["perspective"]) == ["municipality", "municipality", "society", "society"]
    assert list(compared["case"]) == ["fip_sittard_geleen", "buurt_mv_dordrecht"] * 2
    assert list(compared["case_perspective"]) == ["municipality", "society"] * 2


def test_compare_bcr_is_the_bcr_of_its_own_block(compared):
    for name in ("fip_sittard_geleen", "buurt_mv_dordrecht"):
        m = summarise(on_footing(name))["metrics"]
        rows = compared[compared["case"] == name].set_index("perspective")
        assert rows.loc["municipality", "bcr"] == pytest.approx(m["municipal_bcr"], abs=1e-9)
        assert rows.loc["society", "bcr"] == pytest.approx(m["societal_bcr"], abs=1e-9)
        assert rows.loc["municipality", "npv_eur"] == pytest.approx(m["municipal_npv_eur"], abs=1e-6)
        assert rows.loc["society", "npv_eur"] == pytest.approx(m["societal_npv_eur"], abs=1e-6)
        assert rows.loc["municipality", "extra_ended_benefits"] == rows.loc["society", "extra_ended_benefits"]


def test_compare_cli_blocks_json_and_csv():
    r = runner.invoke(app, ["compare"])
    assert r.exit_code == 0, r.output
    heads = [line for line in r.output.splitlines() if line.startswith("== perspective:")]
    assert [h.split()[2] for h in heads] == list(COMPARE_PERSPECTIVES)
    rows = json.loads(runner.invoke(app, ["compare", "--format", "json"]).output)
    assert {row["perspective"] for row in rows} == set(COMPARE_PERSPECTIVES)
    fip = {row["perspective"]: row for row in rows if row["case"] == "fip_sittard_geleen"}
    assert fip["municipality"]["bcr"] > 1 > fip["society"]["bcr"]
    csv = runner.invoke(app, ["compare", "--format", "csv"]).output
    assert csv.splitlines()[0].startswith("perspective,case,")


def test_compare_unknown_perspective_is_clear_error():
    from mkba.errors import InputError

    with pytest.raises(InputError, match="did you mean 'society'"):
        compare_cases(["fip_sittard_geleen"], perspectives=("societty",))


def test_the_rule_of_thumb_is_checked_not_compared_with_the_approaches():
    """'Which approach pays off' compares approaches; the € 14.000 rule (kind: rule_of_thumb) is checked
    in its own section, not listed as a free approach with a positive NPV."""
    from mkba import views
    from mkba.compare import approaches, compare_cases
    from mkba.cases import load_case

    assert load_case("unit_value_14000").kind == "rule_of_thumb" and load_case("app_zaanstad").kind == "approach"
    assert "unit_value_14000" not in approaches() and "app_zaanstad" in approaches()
    assert "unit_value_14000" not in set(compare_cases()["case"])
    assert "14.000" not in views.compare_answer("nl", n_draws=0)


def test_a_case_kind_that_is_not_one_is_refused(tmp_path):
    from mkba.cases import load_case
    from mkba.errors import InputError

    src = load_case("app_zaanstad").source_file
    text = open(src, encoding="utf-8").read().replace("perspective: municipality", "perspective: municipality\nkind: rule", 1)
    p = tmp_path / "app_zaanstad.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_case(p)
    msg = str(e.value)
    assert "kind" in msg and "rule_of_thumb" in msg and str(p) in msg


def test_the_comparison_counts_people_at_one_moment_and_says_what_differs():
    """Costs per person compare when the people are counted at the same moment (FIP's own month 20 made
    its € 16.580 look cheaper than at the end of the five years); each line says how long the approach
    runs and in which prices, and the title page names the one price level they are converted to."""
    from mkba import views
    from mkba.compare import compare_cases
    from mkba.model import summarise

    df = compare_cases().set_index(["perspective", "case"])
    fip = load_case("fip_sittard_geleen").with_overrides(
        {"horizon.months": {"value": 60, "unit": "months", "date": 2021, "reference": "test"},
         "discount.rate": {"value": 0.0225, "unit": "1/year (real)", "date": 2021, "reference": "test"}})
    assert fip.value("evaluation.month") == 20
    own = summarise(fip)["metrics"]["extra_ended_benefits"]                  # counted in month 20
    at_end = df.loc[("municipality", "fip_sittard_geleen"), "extra_ended_benefits"]
    assert at_end < own - 1                                                   # the effect fades after the pilot
    answer = views.compare_answer("nl", n_draws=0)
    assert "geteld aan het eind van de vijf jaar" in answer
    assert "FIP Sittard\\-Geleen (aanpak loopt 24 maanden; in de casus zelf prijspeil 2019)" in answer
    assert "Flextensie Zaanstad (aanpak loopt 36 maanden; in de casus zelf prijspeil 2015)" in answer
    assert "bedragen in prijzen van 2024" in answer
    assert "prijspeil 2024 ·" in views.compare_title_page("nl").data


def test_the_comparison_states_every_amount_in_one_price_year():
    """FIP's euros are of 2019, Flextensie's of 2015, APP's of 2018: side by side they are expressed in
    prices of the latest CPI year, 2024. By hand, with the CBS 83131NED yearly CPI (2015 = 100;
    data/raw/cbs/83131NED_yearly.csv): 2015 100,0; 2018 103,44; 2019 106,16; 2024 130,31. Every amount
    of the model scales with its price level and the people do not, so each euro figure of the comparison
    is the same case's figure on the same footing in its own prices times CPI(2024) / CPI(own year)."""
    from mkba.compare import comparison_price_year, on_footing

    cpi = {2015: 100.0, 2018: 103.44, 2019: 106.16, 2024: 130.31}
    assert comparison_price_year() == 2024
    df = compare_cases(["fip_sittard_geleen", "flextensie_zaanstad", "app_zaanstad"]).set_index(["perspective", "case"])
    assert set(df["price_year"]) == {2024}
    for name, own_year in (("fip_sittard_geleen", 2019), ("flextensie_zaanstad", 2015), ("app_zaanstad", 2018)):
        own = load_case(name).with_overrides(comparison_overrides(), source="test")
        assert own.price_year == own_year and on_footing(name).price_year == 2024
        m = summarise(own)["metrics"]
        f = cpi[2024] / cpi[own_year]
        row = df.loc[("municipality", name)]
        assert row["case_price_year"] == own_year
        for k in ("npv_eur", "programme_cost_eur", "gross_saving_eur", "net_result_eur"):
            assert row[k] == pytest.approx(m[f"municipal_{k}" if k in ("npv_eur", "net_result_eur") else k] * f,
                                           rel=1e-9, abs=1e-6), (name, k)
        assert row["extra_ended_benefits"] == pytest.approx(m["extra_ended_benefits"], rel=1e-12)
    # Flextensie's 2015 euros gain the most: 30,3 % more than in its own report
    assert df.loc[("municipality", "flextensie_zaanstad"), "npv_eur"] == pytest.approx(
        summarise(load_case("flextensie_zaanstad").with_overrides(comparison_overrides(), source="test"))
        ["metrics"]["municipal_npv_eur"] * 1.3031, rel=1e-9)


def test_the_comparison_says_which_case_counts_displacement():
    """Only Flextensie books displaced regular work (50 % of its seconded hours); the comparison says so,
    since the others' societal results count none."""
    from mkba import views

    nl, en = views.compare_answer("nl", n_draws=0), views.compare_answer("en", n_draws=0)
    assert "Flextensie Zaanstad 50 % van de gedetacheerde uren" in nl and "de andere casussen rekenen geen verdringing" in nl
    assert "Flextensie Zaanstad counts 50% of the seconded hours" in en


def test_the_rule_of_thumb_table_says_why_in_the_report_language():
    """Each row of the € 14.000 reconciliation says why the figure differs, in Dutch or English (the
    explanations were English data the Dutch table dropped); the row header is not a second 'Bron'."""
    from mkba import views

    nl, en = views.unit_value_view("nl"), views.unit_value_view("en")
    assert list(nl.columns).count("Bron") == 1 and nl.index.name == "Rekenvoorbeeld"
    assert "derde uitkeringsjaar" in " ".join(nl["Waarom"]) and "third of a benefit-year" in " ".join(en["Why"])


def test_a_break_even_beyond_the_horizon_says_so_in_the_tables():
    """Buurt-m/v never earns its cost back for the municipality within the five years: the answer says
    'binnen de horizon niet terugverdiend', and the table said 'n.v.t.' as for a figure that does not exist."""
    from mkba import views

    row = views.compare_view("nl")["municipality"].loc["Terugverdienmaand"]
    assert row["Buurt-m/v, MKBA Dordrecht (PBL 2014)"] == "niet binnen de horizon"
    assert row["FIP Sittard-Geleen"] == "21"

"""Dutch/English number formats, labels and the notebook helpers in mkba.reporting."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from mkba import formatting as fmt
from mkba import reporting
from mkba.errors import InputError


# -- money ------------------------------------------------------------------------

@pytest.mark.parametrize("x, lang, decimals, expected", [
    (133000, "nl", 0, "€ 133.000"),
    (133000, "en", 0, "€133,000"),
    (-91000, "nl", 0, "€ -91.000"),
    (-91000, "en", 0, "-€91,000"),
    (1234.567, "nl", 2, "€ 1.234,57"),
    (1234.567, "en", 2, "€1,234.57"),
    (0.5, "nl", 0, "€ 1"),           # half up, not banker's rounding
    (2.5, "nl", 0, "€ 3"),
    (-0.4, "nl", 0, "€ 0"),          # no "€ -0"
    (np.float64(1e6), "nl", 0, "€ 1.000.000"),
    (np.int64(12), "en", 0, "€12"),
])
def test_eur(x, lang, decimals, expected):
    assert fmt.eur(x, lang, decimals) == expected


def test_eur_default_is_dutch():
    assert fmt.eur(133000) == "€ 133.000"


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA])
def test_missing_values(missing):
    assert fmt.eur(missing) == "n.v.t."
    assert fmt.eur(missing, "en") == "n/a"
    assert fmt.pct(missing) == "n.v.t."
    assert fmt.number(missing, "en") == "n/a"
    assert fmt.month_label(missing) == "n.v.t."


def test_missing_override():
    assert fmt.eur(None, missing="–") == "–"


# -- percentages and numbers ---------------------------------------------------------

@pytest.mark.parametrize("x, lang, decimals, expected", [
    (0.053, "nl", 1, "5,3 %"),
    (0.053, "en", 1, "5.3%"),
    (-0.1234, "nl", 2, "-12,34 %"),
    (1.5, "nl", 1, "150,0 %"),
    (12.3456, "nl", 1, "1.234,6 %"),
    (0.125, "en", 0, "13%"),
    (0.0005, "nl", 1, "0,1 %"),
])
def test_pct(x, lang, decimals, expected):
    assert fmt.pct(x, lang, decimals) == expected


def test_pp():
    assert fmt.pp(0.02) == "2,0 procentpunt"
    assert fmt.pp(0.02, "en") == "2.0 pp"


@pytest.mark.parametrize("x, lang, decimals, expected", [
    (1234567.891, "nl", 1, "1.234.567,9"),
    (1234567.891, "en", 2, "1,234,567.89"),
    (5, "nl", 0, "5"),
    (-0.04, "nl", 1, "0,0"),
    (float("inf"), "nl", 0, "∞"),
])
def test_number(x, lang, decimals, expected):
    assert fmt.number(x, lang, decimals) == expected


def test_month_label():
    assert fmt.month_label(18) == "maand 18"
    assert fmt.month_label(18, "en") == "month 18"
    assert fmt.month_label(np.int64(3)) == "maand 3"
    assert fmt.month_label(dt.date(2024, 3, 1)) == "maart 2024"
    assert fmt.month_label("2024-03", "en") == "March 2024"
    assert fmt.month_label(pd.Timestamp("2025-01-31")) == "januari 2025"
    assert fmt.month_label(pd.Period("2025-02", "M"), "en") == "February 2025"
    with pytest.raises(InputError):
        fmt.month_label("march")


def test_unknown_language_is_an_input_error():
    with pytest.raises(InputError) as e:
        fmt.eur(1, "de")
    assert "lang" in str(e.value)


# -- labels ----------------------------------------------------------------------------

def test_required_labels():
    nl = {
        "extra_ended_benefits": "Extra mensen uit de uitkering",
        "npv_eur": "Netto contante waarde",
        "bcr": "Baten-kostenverhouding",
        "break_even_month": "Terugverdienmaand",
        "programme_cost_eur": "Programmakosten",
        "gross_saving_eur": "Bruto besparing",
        "net_result_eur": "Netto resultaat",
        "benefit_months_saved": "Bespaarde uitkeringsmaanden",
        "cost_per_extra_ended_benefit_eur": "Kosten per extra persoon uit de uitkering",
        "municipality": "gemeente", "rijk": "Rijk", "participant": "deelnemer",
        "employer": "werkgever", "care": "zorg", "society": "overige maatschappij",
        "hoogconjunctuur": "hoogconjunctuur", "gemiddeld": "gemiddeld",
        "laagconjunctuur": "laagconjunctuur",
    }
    for key, text in nl.items():
        assert fmt.label(key) == text
        assert fmt.label(key, "en")  # an English text exists


def test_every_label_has_both_languages():
    from mkba import i18n

    keys = i18n.keys("label")
    assert len(keys) > 50
    for key in keys:
        assert fmt.has_label(key) and fmt.label(key, "nl") and fmt.label(key, "en"), key


def test_metric_names_of_the_model_have_labels():
    # the metrics promised by the batch model contract (docs/ARCHITECTURE.md)
    for key in ["npv_eur", "net_result_eur", "gross_saving_eur", "programme_cost_eur",
                "extra_ended_benefits", "benefit_months_saved", "bcr", "break_even_month",
                "societal_npv_eur"]:
        assert fmt.has_label(key), key


def test_unknown_label_names_the_key():
    with pytest.raises(KeyError) as e:
        fmt.label("npv_euro")
    assert "npv_euro" in str(e.value)
    assert "npv_eur" in str(e.value)  # did-you-mean
    assert fmt.label("npv_euro", default="x") == "x"


# -- tables ----------------------------------------------------------------------------

def test_format_table():
    df = pd.DataFrame(
        {"npv_eur": [133000.0, -91000.0], "bcr": [1.234, 0.8], "work_exit_rate": [0.053, 0.1],
         "extra_ended_benefits": [12.345, 3.0], "actor": ["municipality", "rijk"]},
        index=pd.Index(["gemiddeld", "laagconjunctuur"], name="scenario"))
    nl = fmt.format_table(df)
    assert list(nl.columns) == ["Netto contante waarde", "Baten-kostenverhouding", "work_exit_rate",
                                "Extra mensen uit de uitkering", "Actor"]
    assert nl.index.name == "Scenario"
    assert list(nl.index) == ["gemiddeld", "laagconjunctuur"]
    assert nl.iloc[0, 0] == "€ 133.000" and nl.iloc[1, 0] == "€ -91.000"
    assert nl.iloc[0, 1] == "1,23"
    assert nl.iloc[0, 2] == "5,3 %"
    assert nl.iloc[0, 3] == "12,3"
    assert list(nl["Actor"]) == ["gemeente", "Rijk"]
    en = fmt.format_table(df, "en")
    assert en.iloc[1, 0] == "-€91,000"
    assert list(en.index) == ["average", "recession"]
    raw = fmt.format_table(df, "nl", formats={"bcr": "number"}, translate=False)
    assert list(raw.columns) == list(df.columns)


# -- reporting helpers -------------------------------------------------------------------

def test_key_figures_are_made_json_safe():
    d = reporting.clean_key_figures({"npv_eur": np.float64(1.5), "n": np.int64(3),
                                     "break_even_month": float("nan"), "s": "x",
                                     "arr": np.array([1.0, np.inf])})
    assert d == {"npv_eur": 1.5, "n": 3, "break_even_month": None, "s": "x", "arr": [1.0, None]}
    json.dumps(d, allow_nan=False)
    assert reporting.emit_key_figures({"a": 1}) is None  # no Out[n] in a notebook
    with pytest.raises(TypeError):
        reporting.emit_key_figures([1, 2])


def test_read_and_strip_key_figures():
    mt = reporting.KEY_FIGURES_MIMETYPE
    nb = {"cells": [
        {"cell_type": "markdown", "source": "x"},
        {"cell_type": "code", "outputs": [
            {"output_type": "stream", "name": "stdout", "text": "hi"},
            {"output_type": "display_data", "data": {mt: {"a": 1, "b": 2}}, "metadata": {}}]},
        {"cell_type": "code", "outputs": [
            {"output_type": "display_data", "data": {mt: {"b": 3}}, "metadata": {}}]},
    ]}
    assert reporting.read_key_figures(nb) == {"a": 1, "b": 3}
    reporting.strip_key_figures(nb)
    assert reporting.read_key_figures(nb) == {}
    assert nb["cells"][1]["outputs"][0]["output_type"] == "stream"


def test_axis_formatters_use_dutch_decimal_comma():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reporting.setup_report("nl")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 150000])
    reporting.eur_axis(ax)
    assert ax.yaxis.get_major_formatter()(100000, 0) == "€ 100.000"
    reporting.pct_axis(ax, "nl", axis="x", decimals=1)
    assert ax.xaxis.get_major_formatter()(0.053, 0) == "5,3 %"
    reporting.number_axis(ax, "en", decimals=1)
    assert ax.yaxis.get_major_formatter()(1234.5, 0) == "1,234.5"
    reporting.eur_axis(ax, "nl", scale=1e6, decimals=1, suffix=" mln")
    assert ax.yaxis.get_major_formatter()(1.5e6, 0) == "€ 1,5 mln"
    plt.close(fig)
    assert reporting.report_lang() == "nl"
    reporting.setup_report("en")
    assert reporting.report_lang() == "en"
    reporting.setup_report("nl")
    with pytest.raises(InputError):
        reporting.setup_report("fr")


def test_import_mkba_formatting_stays_light():
    code = ("import sys, mkba.formatting, mkba.reporting, mkba.render, mkba.kernels, mkba.manifest; "
            "heavy = [m for m in ('nbformat', 'nbclient', 'nbconvert', 'papermill', 'jupyter_client', "
            "'zmq', 'matplotlib', 'pandas', 'babel.numbers', 'weasyprint', 'distributed') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_scenario_npv_and_probability_key_figures_are_formatted():
    from mkba.formatting import format_value, _kind_for

    assert _kind_for("npv_laagconjunctuur") == "eur" and _kind_for("p_npv_positive") == "pct"
    assert format_value(0.974, _kind_for("p_npv_positive"), "nl") == "97,4 %"


def test_index_shows_municipality_province_and_size_class():
    from mkba.manifest import render_index

    manifest = {"reports": {"GM0479_x": {"name": "GM0479_x", "title": "Zaanstad", "status": "ok",
                                         "key_figures": {"municipality": "Zaanstad", "province": "Noord-Holland",
                                                         "size_class": "100 000 tot 150 000 inwoners",
                                                         "npv_eur": 1.0, "case": "x"}}}}
    html = render_index(manifest, "nl")
    assert "<th>Provincie</th>" in html and "<th>Grootteklasse</th>" in html and "Noord-Holland" in html
    assert "<th>case</th>" not in html


# -- parameter labels, units and citations (issue 12, point 2) --------------------------

def test_every_schema_parameter_and_unit_has_a_dutch_and_an_english_label():
    from mkba.schema import SCHEMA

    missing = [k for k in SCHEMA if not fmt.has_param_label(k)]
    assert not missing, f"add nl and en param entries to src/mkba/locale/*/LC_MESSAGES/mkba.po for: {missing}"
    units = sorted({s.unit for s in SCHEMA.values()} - {u for u in {s.unit for s in SCHEMA.values()}
                                                         if fmt.has_unit_label(u)})
    assert not units, f"add nl and en unit entries to src/mkba/locale/*/LC_MESSAGES/mkba.po for: {units}"
    nl = [fmt.param_label(k, "nl") for k in SCHEMA]
    en = [fmt.param_label(k, "en") for k in SCHEMA]
    assert len(set(nl)) == len(nl) and len(set(en)) == len(en), "two parameters share a label"


def test_param_label_in_words_with_unit():
    assert fmt.param_label("baseline.work_exit_rate", "nl", with_unit=True) == \
        "Uitstroomkans naar werk zonder aanpak (kans per jaar)"
    assert fmt.param_label("benefit.cost_per_year", "en", with_unit=True) == "Benefit cost per benefit (euro per person-year)"
    assert fmt.param_label("not.a_parameter") == "not.a_parameter"   # a new parameter never breaks a report


@pytest.mark.parametrize("name, value, lang, expected", [
    ("baseline.work_exit_rate", 0.055, "nl", "5,5 %"),
    ("effect.work_exit_added", 0.10, "nl", "10,0 procentpunt"),
    ("effect.work_exit_added", 0.053, "en", "5.3 pp"),
    ("benefit.cost_per_year", 14000, "nl", "€ 14.000"),
    ("effect.work_exit_ratio", 1.5, "nl", "1,50"),
    ("cohort.initial_participants", 300, "nl", "300"),
    ("effect.decay_half_life_months", float("inf"), "nl", "∞"),
])
def test_param_value_in_the_units_people_think_in(name, value, lang, expected):
    assert fmt.param_value(name, value, lang) == expected


def test_citation_names_document_year_and_lines():
    cites = fmt.citations("003_1cff8ea758d15861.txt:1909 ('2 fte salarisschaal 9 = € 133.000')", short=True)
    assert cites == [("Significant (2019), r. 1909", "003_1cff8ea758d15861.txt:1909")]
    text, files = fmt.human_reference("calibrated: 16 more ended benefits (71 vs 55, 003_1cff8ea758d15861.txt:821-822); "
                                      "mostly eligibility, 003_1cff8ea758d15861.txt:776-777, 834-835", "nl", short=True)
    assert text == "gekalibreerd; Significant (2019), r. 821-822; Significant (2019), r. 776-777, 834-835"
    assert files == ["003_1cff8ea758d15861.txt:821-822", "003_1cff8ea758d15861.txt:776-777, 834-835"]
    # reports show neither the Dutch nor the English reader the analysts' remark (code names, seed lines,
    # numbers in one language's notation): kind and citations only; the command line keeps it in English
    assert "eligibility" not in text
    en, _ = fmt.human_reference("calibrated: 16 more ended benefits (71 vs 55, 003_1cff8ea758d15861.txt:821-822)",
                                "en", short=True)
    assert en == "calibrated; Significant (2019), l. 821-822"
    assert fmt.human_reference("assumption: set per case", "en")[0] == "assumption"
    assert fmt.human_reference("assumption: set per case", "en", remark=True)[0] == "assumption: set per case"
    assert fmt.human_reference("assumption: set per case", "nl")[0] == "aanname"


def test_a_source_cited_twice_in_one_reference_is_cited_once():
    ref = "003_1cff8ea758d15861.txt:526-530 the jobs, 003_1cff8ea758d15861.txt:526-530"
    assert fmt.citations(ref, short=True) == [("Significant (2019), r. 526-530", "003_1cff8ea758d15861.txt:526-530")]
    assert fmt.human_reference(ref, "nl", short=True)[0] == "Significant (2019), r. 526-530"


def test_every_seed_file_has_a_title_and_year():
    from pathlib import Path

    seeds = Path(__file__).resolve().parents[2] / "shared" / "seeds"   # shared/ lies beside the checkout
    names = sorted(p.name for p in seeds.glob("*.txt")) if seeds.exists() else []
    known = fmt.sources()
    for n in names:
        assert n in known and known[n]["title"] and known[n]["year"] and known[n]["short"]


def test_every_reading_of_every_case_has_dutch_text():
    from mkba.cases import list_cases, load_case

    missing = [(n, r.topic) for n, _ in list_cases() for r in load_case(n).readings
               if not (r.topic_nl and r.choice_nl and r.why_nl)]
    assert not missing, f"add topic_nl, choice_nl and why_nl to these readings: {missing}"


def test_index_says_whose_perspective_each_report_takes():
    """A report in the societal perspective shows its NPV beside the municipal one, says 'samenleving'
    in the perspective column, and the note under the table names the columns that follow it."""
    from mkba.manifest import render_index

    kf = {"case": "buurt", "perspective": "society", "npv_eur": 84010.0, "municipal_npv_eur": -239362.0,
          "societal_npv_eur": 84010.0, "societal_bcr": 1.51}
    manifest = {"reports": {"buurt": {"name": "buurt", "title": "Buurt", "status": "ok", "key_figures": kf}}}
    nl, en = render_index(manifest, "nl"), render_index(manifest, "en")
    assert "<th>Perspectief</th>" in nl and ">samenleving<" in nl and "<th>Netto contante waarde gemeente</th>" in nl
    assert "€ -239.362" in nl and "perspectief van het rapport" in nl
    assert "<th>Perspective</th>" in en and ">society<" in en and "<th>Municipal net present value</th>" in en
    assert "municipal_npv_eur" not in nl.split("<tbody>")[0] and "societal_bcr" not in en.split("<tbody>")[0]
    assert nl.index("<th>Netto contante waarde gemeente</th>") < nl.index("<th>Netto contante waarde</th>")
    # the columns in one perspective for all are named, and only those the index has
    assert "De kolommen Netto contante waarde gemeente, Maatschappelijke netto contante waarde, Maatschappelijke " \
           "baten-kostenverhouding gelden voor alle rapporten vanuit hetzelfde perspectief." in nl
    one = {"reports": {"b": {"name": "b", "title": "B", "status": "ok",
                             "key_figures": {"perspective": "municipality", "npv_eur": 1.0}}}}
    assert "hetzelfde perspectief" not in render_index(one, "nl")


def test_assumption_dates_read_as_dates():
    """A parameter dated to the day shows as '1 juni 2019' ('1 June 2019'), a year as the year; the ISO
    form 2019-06-01 is for files, not for a council."""
    from mkba import views
    from mkba.cases import load_case

    case = load_case("app_zaanstad")
    assert str(case.parameters["discount.rate"].date) == "2019-06-01"
    nl, en = views.assumptions_table(case, "nl"), views.assumptions_table(case, "en")
    assert "1 juni 2019" in nl.to_string() and "2019-06-01" not in nl.to_string()
    assert "1 June 2019" in en.to_string()
    assert fmt.date_words(2016, "nl") == "2016"


def test_index_formats_metrics_as_the_reports_do():
    """One format per metric in reports and index: benefit months and people with one decimal, any BCR
    with two, a missing cost per person as 'n.v.t.' (the index gave 871, 16,0 and 0,00 where the
    report gave 870,7, 15,99 and 0,0)."""
    from mkba.formatting import format_metric
    from mkba.manifest import render_index

    kf = {"benefit_months_saved": 870.66, "societal_bcr": 15.987, "extra_ended_benefits": 0.0,
          "cost_per_extra_ended_benefit_eur": None, "cases": 5}
    html = render_index({"reports": {"x": {"name": "x", "status": "ok", "key_figures": kf}}}, "nl")
    for shown in (">870,7<", ">15,99<", ">0,0<", ">n.v.t.<", ">5<"):
        assert shown in html, shown
    assert format_metric("benefit_months_saved", 870.66, "nl") == "870,7"
    assert format_metric("break_even_month", None, "nl") == "niet binnen de horizon"


def test_amounts_with_cents_keep_them():
    """Flextensie's € 1,50 top-up and € 11,75 tariff showed as € 2 and € 12; large amounts stay whole."""
    assert fmt.param_value("secondment.top_up_per_hour", 1.5, "nl") == "€ 1,50"
    assert fmt.param_value("secondment.tariff_per_hour", 11.75, "nl") == "€ 11,75"
    assert fmt.param_value("secondment.overhead_per_month", 3525.0, "nl") == "€ 3.525"
    assert fmt.param_value("benefit.cost_per_year", 13641.3, "nl") == "€ 13.641"


def test_index_times_read_as_dates():
    from mkba.manifest import render_index

    m = {"generated_at": "2026-12-04T02:06:14+00:00",
         "reports": {"x": {"name": "x", "status": "ok", "rendered_at": "2026-12-04T02:05:13+00:00", "key_figures": {}}}}
    nl, en = render_index(m, "nl"), render_index(m, "en")
    assert "4 december 2026 02:06 UTC" in nl and "4 december 2026 02:05 UTC" in nl and "2026-12-04 02" not in nl
    assert "4 December 2026 02:06 UTC" in en
    assert 'data-sort="2026-12-04T02:05:13+00:00"' in nl          # sorting keeps the exact time


def test_no_break_even_month_without_programme_cost():
    from mkba import views
    from mkba.cases import load_case

    case = load_case("unit_value_14000")
    res = views.results(case)
    assert views.headline_table(case, res, "nl").loc["Terugverdienmaand"].iloc[0] == "n.v.t. (geen programmakosten)"
    app = load_case("app_zaanstad")
    assert views.headline_table(app, views.results(app), "nl").loc["Terugverdienmaand"].iloc[0] == "12"


def test_the_discount_rate_names_its_documents():
    """The discount rate's row said only 'bron': its reference cites the 2015 working group and Kamerstuk
    29 352 nr. 6 and nr. 7, not a seed."""
    from mkba.cases import load_case

    ref = load_case("fip_sittard_geleen").parameters["discount.rate"].reference
    text, _files = fmt.human_reference(ref, "nl", short=True)
    assert text == "Werkgroep discontovoet 2015; Kamerstuk 29 352 nr. 6"

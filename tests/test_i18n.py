"""The report texts live in babel message catalogues (src/mkba/locale), one source for every label."""
from __future__ import annotations

import fnmatch
import shutil
import tomllib
from pathlib import Path

import pytest

from mkba import describe, formatting as fmt, i18n, views
from mkba.schema import SCHEMA

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "src" / "mkba" / "locale"


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_every_schema_parameter_has_a_label_and_a_description_in_the_catalogue(lang):
    cat = i18n.catalog(lang)
    for ctx in ("param", "param-desc"):
        missing = [k for k in SCHEMA if not (cat.get(k, context=ctx) and cat.get(k, context=ctx).string)]
        assert not missing, f"add {ctx} entries to src/mkba/locale/{lang}/LC_MESSAGES/mkba.po for: {missing}"
    units = [u for u in {s.unit for s in SCHEMA.values()} if not i18n.has_message("unit", u, (lang,))]
    assert not units, units
    groups = [g for g in {k.split(".")[0] for k in SCHEMA} if not i18n.has_message("group", g, (lang,))]
    assert not groups, groups


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_catalogues_have_no_fuzzy_or_empty_entries(lang):
    assert i18n.untranslated(lang) == []
    assert not i18n.catalog(lang).fuzzy, "the catalogue header is marked fuzzy"


def test_both_catalogues_and_the_template_hold_the_same_keys():
    from babel.messages.pofile import read_po

    def ids(cat):
        return {(m.context, m.id) for m in cat if m.id}

    with (LOCALE / "mkba.pot").open("rb") as fh:
        pot = read_po(fh)
    assert ids(i18n.catalog("nl")) == ids(i18n.catalog("en")) == ids(pot)


def test_every_literal_key_in_the_code_is_in_the_catalogue():
    """babel's extraction (babel.cfg) over src/mkba: each key the code names by a literal must exist."""
    _template, found = i18n.extract_template(ROOT)
    assert ("text", "title_case") in found and ("label", "npv_eur") in found and ("param", "discount.rate") in found
    missing = sorted(k for k in found if not i18n.has_message(*k))
    assert not missing, f"run tools/extract_messages.py and fill in: {missing}"


def test_extraction_picks_up_a_new_key(tmp_path):
    """A new text() call in a module shows up in the template (the extractor sees literal keys)."""
    shutil.copy(ROOT / "babel.cfg", tmp_path / "babel.cfg")
    pkg = tmp_path / "src" / "mkba"
    pkg.mkdir(parents=True)
    (pkg / "schema.py").write_text("")
    (pkg / "new_view.py").write_text('def f(lang):\n    return text("a_brand_new_key", lang) + text("kind_" + lang)\n')
    template, found = i18n.extract_template(tmp_path)
    assert ("text", "a_brand_new_key") in found
    assert not any(k.endswith("_") for _c, k in found), "a key prefix was extracted as a key"
    assert template.get("a_brand_new_key", context="text") is not None
    # keys already in the catalogue that extraction cannot see are kept
    assert template.get("perspective_word_municipality", context="text") is not None


def test_extract_tool_check_passes_on_the_committed_catalogues():
    import runpy

    tool = runpy.run_path(str(ROOT / "tools" / "extract_messages.py"))
    assert tool["main"](["--check"]) == 0


def test_no_report_texts_left_in_code():
    assert not any(hasattr(m, n) for m, n in ((views, "TEXTS"), (views, "CYCLE_TEXTS"), (fmt, "LABELS")))
    assert not hasattr(describe, "DESCRIPTIONS_NL") and not hasattr(describe, "GROUPS_NL")
    assert not (ROOT / "src" / "mkba" / "labels.yaml").exists()
    # no word chosen by language in code: `"Datum" if lang == "nl" else "Date"`
    import re

    for name in ("views.py", "formatting.py", "describe.py"):
        src = (ROOT / "src" / "mkba" / name).read_text(encoding="utf-8")
        found = re.findall(r"""["'](?!nl["'])[^"'\n]*["']\s+if\s+lang\s*==\s*["']nl["']\s+else\s+["']""", src)
        assert not found, f"{name}: {found}"


def test_known_texts_come_from_the_catalogue():
    assert views.text("headline", "nl") == "Kerncijfers" and views.text("headline", "en") == "Key figures"
    assert views.text("title_case", "nl", title="FIP") == "Businesscase: FIP"
    assert fmt.label("bcr", "nl") == "Baten-kostenverhouding"
    assert fmt.param_label("sharing.job_wages.rijk", "nl") == "Deel van de lonen van de programmabanen betaald door het Rijk"
    assert describe.parameter_description("discount.rate", "nl") == "Reële discontovoet per jaar"
    assert describe.parameter_description("discount.rate", "en") == SCHEMA["discount.rate"].description
    assert describe.group_heading("baseline", "nl") == "Zonder de aanpak (nulalternatief)"
    assert views.item_label("benefit_payments", "en") == "benefits"
    # one source: the Excel sheet, the case-file writer and the reports read the same entry
    assert fmt.param_label("baseline.work_exit_rate", "nl") == i18n.message("param", "baseline.work_exit_rate", "nl")


def test_lookups_go_through_the_catalogue_file(tmp_path, monkeypatch):
    """Edit a copy of the Dutch .po: the new text is what the reports get; a fuzzy entry is not used."""
    from babel.messages.pofile import read_po, write_po

    with (LOCALE / "nl" / "LC_MESSAGES" / "mkba.po").open("rb") as fh:
        cat = read_po(fh, locale="nl", domain="mkba")
    cat.get("headline", context="text").string = "Kerncijfers (gewijzigd)"
    cat.get("total", context="text").flags.add("fuzzy")
    path = tmp_path / "mkba.po"
    with path.open("wb") as fh:
        write_po(fh, cat)
    monkeypatch.setattr(i18n, "po_path", lambda lang: path)
    monkeypatch.setattr(i18n, "_CACHE", {})
    assert views.text("headline", "nl") == "Kerncijfers (gewijzigd)"
    assert i18n.untranslated("nl") == [("text", "total")]
    with pytest.raises(KeyError, match="total"):
        i18n.message("text", "total", "nl")


def test_unknown_key_names_the_key_the_file_and_close_matches():
    with pytest.raises(KeyError) as e:
        i18n.message("text", "headlin", "nl")
    assert "headlin" in str(e.value) and "'headline'" in str(e.value) and "mkba.po" in str(e.value)


def test_catalogues_are_package_data():
    """pyproject ships the .po files and the template, so a non-editable install has them."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["mkba"]
    files = [p.relative_to(ROOT / "src" / "mkba").as_posix() for p in LOCALE.rglob("*.po*")]
    assert len(files) == 3
    for f in files:
        assert any(fnmatch.fnmatch(f, pat) for pat in patterns), f
    assert "labels.yaml" not in patterns
    # and they are read as package resources, not from the source tree
    assert str(i18n.po_path("nl")).endswith("mkba/locale/nl/LC_MESSAGES/mkba.po")


def test_a_one_year_case_says_one_year():
    """The € 14.000 case runs 12 months: 'Computed over 1 year', not '1 years'."""
    from mkba import views
    from mkba.cases import load_case

    case = load_case("unit_value_14000")
    res = views.results(case)
    assert "Computed over 1 year (12 months)" in views.answer_markdown(case, res, "en")
    assert "Gerekend over 1 jaar (12 maanden)" in views.answer_markdown(case, res, "nl")


def test_the_other_readings_table_says_no_cost_as_the_key_figures_do():
    """The € 14.000 rule has no programme cost: its key figures say 'n.v.t. (geen programmakosten)' for the
    break-even month, and its other readings table said 'month 1'."""
    from mkba import views
    from mkba.cases import load_case

    t = views.variants_table(load_case("unit_value_14000"), "nl")
    assert set(t.iloc[:, -1]) == {"n.v.t. (geen programmakosten)"}
    assert "n.v.t." not in " ".join(views.variants_table(load_case("fip_sittard_geleen"), "nl").iloc[:, -1])

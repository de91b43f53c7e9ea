"""The Excel export's words and print setup (issue 12, point 5's cheap part)."""
from __future__ import annotations

import pytest

from mkba.cases import load_case
from mkba.export import export_xlsx
from mkba.model import summarise


def test_discounting_label_says_what_the_figures_do(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    case = load_case("fip_sittard_geleen")
    assert case.discount_convention == "excel"
    path = export_xlsx(case, tmp_path / "fip.xlsx")
    ws = openpyxl.load_workbook(path)["Samenvatting"]
    rows = {r[0].value: r[1].value for r in ws.iter_rows(min_row=2)}
    label = rows["Disconteringswijze"]
    assert "ongedisconteerd" not in label and "ook het eerste jaar" in label
    # what the label claims, by hand: year k of the per-year nets discounted by (1 + r)^-k, k = 1 ... 5
    res = summarise(case)
    r = case.value("discount.rate")
    by_hand = sum(net / (1 + r) ** k for k, net in enumerate(res["per_year"]["net_result_eur"], start=1))
    assert rows["Netto contante waarde"] == pytest.approx(by_hand, abs=0.5)


def test_every_sheet_prints_one_page_wide_with_dutch_assumption_names(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.load_workbook(export_xlsx("app_zaanstad", tmp_path / "app.xlsx"))
    for ws in wb.worksheets:
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1, ws.title
        assert ws.page_setup.fitToHeight == 0 and ws.page_setup.orientation == "landscape", ws.title
    ws = wb["Aannames"]
    header = [c.value for c in ws[1]]
    assert header[0] == "Aanname" and "Eenheid (woorden)" in header
    names = {row[0].value for row in ws.iter_rows(min_row=2)}
    assert "Uitstroomkans naar werk zonder aanpak" in names


def _every_flow_table():
    """A tidy table (the shape of mkba.model.run) with one euro for every (actor, item) flow of the
    kernel and every actor, so every item and actor label shows up in the per-actor tables."""
    import pandas as pd

    from mkba import fastkernel as fk

    pairs = list(dict.fromkeys((a, i) for a, i, _cat in fk.FLOWS))
    pairs += [(a, "benefit_payments") for a in fk.ACTORS if a not in {p[0] for p in pairs}]
    return pd.DataFrame({"month": 0, "group": "treatment", "actor": [a for a, _ in pairs],
                         "item": [i for _, i in pairs], "unit": "EUR", "discounted": 1.0, "nominal": 1.0})


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_export_item_and_actor_labels_are_the_reports(lang):
    """Issue 12 leftover: the Per actor sheet and the report's per-actor table use one label per item and
    actor in each language (the catalogues' item/label entries), for every item and actor of the kernel."""
    from mkba import export, fastkernel as fk, i18n, views

    assert not hasattr(export, "ITEM_LABELS") and not hasattr(export, "ACTOR_LABELS")
    table = _every_flow_table()
    report = views.per_actor_table({"table": table}, lang)
    sheet = export.per_actor_frame(table, lang)
    items = {i for _a, i, _c in fk.FLOWS}
    assert set(table["item"]) == items and set(table["actor"]) == set(fk.ACTORS)
    first = sheet.iloc[: len(report)]                                # the discounted half, in the report's order
    assert list(first[views.text("export_description", lang)]) == list(report.index)
    actor_cols = list(sheet.columns[3:])
    assert actor_cols == list(report.columns)
    # every item and actor has words of its own in this language (not the model's code shown as a label)
    for item in items:
        assert i18n.has_message("item", item, (lang,)), item
    for actor in fk.ACTORS:
        assert i18n.has_message("label", actor, (lang,)), actor
    if lang == "nl":     # (in English "wages", "employer" ... are both the code and the word)
        shown = set(report.index) | set(actor_cols)
        assert not (items | set(fk.ACTORS)) & shown, (items | set(fk.ACTORS)) & shown
    # by hand, from the catalogues
    want = {"nl": ("uitkeringen", "gemeente", "Rijk", "Waardering", "contante waarde"),
            "en": ("benefits", "municipality", "central government", "Valuation", "present value")}[lang]
    assert first.loc[first[views.text("item", lang)] == "benefit_payments", views.text("export_description", lang)].item() == want[0]
    assert want[1] in actor_cols and want[2] in actor_cols
    assert sheet.columns[0] == want[3] and sheet.iloc[0, 0] == want[4]


def test_english_per_actor_sheet_has_no_dutch_words():
    from mkba import export, fastkernel as fk, formatting

    sheet = export.per_actor_frame(_every_flow_table(), "en")
    dutch = {formatting.item_label(i, "nl") for _a, i, _c in fk.FLOWS} | {formatting.actor_label(a, "nl") for a in fk.ACTORS}
    dutch |= {"Waardering", "Omschrijving", "Post", "contante waarde", "nominaal", "Totaal"}
    shown = set(sheet.columns) | set(sheet.iloc[:, 0]) | set(sheet.iloc[:, 2])
    assert not dutch & shown, dutch & shown


def test_reading_alternatives_on_the_sources_sheet_are_dutch():
    """A reading's alternatives are English in the case files; one that names a variant is shown by the
    variant's Dutch title (the case file's title_nl), seed-file citations kept."""
    from mkba.export import sources_frame

    rows = sources_frame(load_case("app_zaanstad"))
    text = " ".join(rows.loc[rows["Soort"] == "Lezing", "Tekst"])
    assert ("variant entry_at_month0: alle 80 instromers in maand 0 (de lezing die de gepubliceerde "
            "'> € 150.000' haalt)") in text
    assert "variant exits_in_year2: uitstroom van het eerste cohort vooral in jaar 2 (003_1cff8ea758d15861.txt:1002-1003)" in text
    assert "the reading that meets" not in text and "the text also says" not in text

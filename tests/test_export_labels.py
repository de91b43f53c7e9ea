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

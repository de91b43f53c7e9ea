"""Tests for mkba.export: the Excel workbook for controllers."""
from __future__ import annotations

import math

import numpy as np
import openpyxl
import pandas as pd
import pytest

from mkba import export, local
from mkba.cases import load_case
from mkba.errors import InputError
from mkba.formatting import actor_label
from mkba.model import per_actor, run, summarise


@pytest.fixture(scope="module")
def fip():
    return load_case("fip_sittard_geleen")


@pytest.fixture(scope="module")
def written(tmp_path_factory, fip):
    path = export.export_xlsx(fip, tmp_path_factory.mktemp("x") / "fip.xlsx")
    return path, pd.read_excel(path, sheet_name=None)


def test_sheets(written):
    path, sheets = written
    assert path.name == "fip.xlsx" and tuple(sheets) == export.SHEETS


def test_summary_equals_the_model(written, fip):
    _, sheets = written
    m = summarise(fip)["metrics"]
    s = sheets["Samenvatting"].set_index("Code")
    for code, label, _unit, _fmt in export.SUMMARY_METRICS:
        assert s.loc[code, "Onderdeel"] == label
        got = s.loc[code, "Waarde"]
        if math.isnan(m[code]):
            assert pd.isna(got)
        else:
            assert float(got) == pytest.approx(m[code], rel=1e-12, abs=1e-9), code
    assert s.loc["title", "Waarde"] == fip.title
    assert float(s.loc["discount.rate", "Waarde"]) == fip.value("discount.rate")
    assert float(s.loc["participants", "Waarde"]) == 300
    assert s.loc["npv_eur", "Onderdeel"] == "Netto contante waarde"


def test_per_year_equals_the_model(written, fip):
    _, sheets = written
    py = summarise(fip)["per_year"]
    got = sheets["Per jaar"]
    assert list(got.columns) == [export.PER_YEAR_LABELS[c][0] for c in py.columns]
    for c in py.columns:
        col = got[export.PER_YEAR_LABELS[c][0]]
        assert pd.api.types.is_numeric_dtype(col), c                     # numbers, not text
        np.testing.assert_allclose(col.to_numpy(float), py[c].to_numpy(float), rtol=1e-12, atol=1e-9)


def test_per_actor_discounted_and_nominal(written, fip):
    _, sheets = written
    table = run(fip)
    got = sheets["Per actor"]
    for discounted, label in ((True, "contante waarde"), (False, "nominaal")):
        want = per_actor(table, discounted=discounted)
        part = got[got["Waardering"] == label].set_index("Post")
        assert list(part.index) == list(want.index)
        for actor in want.columns:
            np.testing.assert_allclose(part[actor_label(actor, "nl")].to_numpy(float), want[actor].to_numpy(float),
                                       rtol=1e-12, atol=1e-6)
    disc = got[got["Waardering"] == "contante waarde"].set_index("Post")
    assert disc.loc["total", "gemeente"] == pytest.approx(summarise(fip)["metrics"]["municipal_npv_eur"], rel=1e-9)


def test_assumptions_and_sources(written, fip):
    _, sheets = written
    a = sheets["Aannames"].set_index("Parameter")
    want = fip.assumptions_table().set_index("parameter")
    assert set(a.index) == set(want.index)
    for name, row in want.iterrows():
        v = a.loc[name, "Waarde"]
        if math.isinf(row["value"]):
            assert v == "inf" or v == float("inf")                       # written as text, pandas reads inf
        else:
            assert float(v) == row["value"], name
        assert a.loc[name, "Bron"] == row["reference"]
    bron = sheets["Bron"]
    assert (bron["Soort"] == "Lezing").sum() == len(fip.readings)
    assert (bron["Soort"] == "Gepubliceerd cijfer").sum() == len(fip.published)
    assert "003_1cff8ea758d15861.txt" in set(bron["Onderwerp"])


def test_number_formats_are_euro(written):
    path, _ = written
    wb = openpyxl.load_workbook(path)
    s = wb["Samenvatting"]
    rows = {s.cell(row=r, column=4).value: s.cell(row=r, column=2) for r in range(2, s.max_row + 1)}
    assert isinstance(rows["npv_eur"].value, float) and "€" in rows["npv_eur"].number_format
    assert rows["discount.rate"].number_format == export.FMT_PCT2
    py = wb["Per jaar"]
    header = [c.value for c in py[1]]
    cell = py.cell(row=2, column=header.index("Netto resultaat (EUR)") + 1)
    assert isinstance(cell.value, float) and cell.number_format == export.FMT_EUR


def test_break_even_never_is_empty_not_zero(tmp_path):
    case = load_case("fip_sittard_geleen", overrides={"effect.stock_share": {
        "value": 0.0, "unit": "fraction", "date": 2019, "reference": "assumption: test"}})
    assert math.isnan(summarise(case)["metrics"]["break_even_month"])
    s = pd.read_excel(export.export_xlsx(case, tmp_path / "never.xlsx"), sheet_name="Samenvatting").set_index("Code")
    assert pd.isna(s.loc["break_even_month", "Waarde"])


def test_local_case_cites_cbs(tmp_path, fip):
    case, _ = local.localise(fip, "Zaanstad")
    path = export.export_xlsx(case, tmp_path)                            # a folder: <case name>.xlsx
    assert path.name == "fip_sittard_geleen_gm0479.xlsx"
    bron = pd.read_excel(path, sheet_name="Bron")
    assert bron["Tekst"].str.contains("Bron: CBS StatLine, tabel 85383NED").any()
    assert bron["Soort"].eq("Gepubliceerd cijfer").sum() == 0


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path, fip, monkeypatch):
    target = tmp_path / "fip.xlsx"
    target.write_bytes(b"old")

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export, "per_actor_frame", boom)
    with pytest.raises(RuntimeError):
        export.export_xlsx(fip, target)
    assert target.read_bytes() == b"old"
    monkeypatch.undo()

    def fail_in_writer(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(export, "_format_sheet", fail_in_writer)
    with pytest.raises(OSError):
        export.export_xlsx(fip, target)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fip.xlsx"]     # no temporary file left


def test_bad_path(tmp_path, fip):
    with pytest.raises(InputError, match=".xlsx"):
        export.export_xlsx(fip, tmp_path / "fip.csv")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        export.export_xlsx(fip, tmp_path / "afile" / "fip.xlsx")


def test_out_folder_is_created_and_file_mode_is_the_reports_mode(tmp_path, fip):
    """issue 13: `-o reports/new/` creates the folder; the workbook is 0644 (umask 022) like the reports, not 0600."""
    import os
    import stat

    from typer.testing import CliRunner

    from mkba.cli import app

    old = os.umask(0o022)
    try:
        path = export.export_xlsx(fip, tmp_path / "nope" / "fip.xlsx")
        r = CliRunner().invoke(app, ["export", "unit_value_14000", "-o", str(tmp_path / "new" / "sub")])
    finally:
        os.umask(old)
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o644
    assert r.exit_code == 0, r.output
    made = tmp_path / "new" / "sub" / "unit_value_14000.xlsx"
    assert made.exists() and stat.S_IMODE(made.stat().st_mode) == 0o644


def test_case_by_name(tmp_path):
    path = export.export_xlsx("unit_value_14000", tmp_path / "u.xlsx")
    s = pd.read_excel(path, sheet_name="Samenvatting").set_index("Code")
    assert float(s.loc["annual_saving_run_rate_eur", "Waarde"]) == pytest.approx(14000, rel=1e-3)

"""Tests for mkba.cbs: reading raw CBS StatLine CSVs."""
from __future__ import annotations

import datetime as dt
import hashlib
import math
from pathlib import Path

import pytest

from mkba import cbs
from mkba.errors import InputError

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "cbs"   # shared/ lies beside the checkout


def test_period_year_month_quarter_range_and_provisional():
    p = cbs.parse_period("2019")
    assert (p.kind, p.year, p.start, p.end) == ("year", 2019, dt.date(2019, 1, 1), dt.date(2019, 12, 31))
    m = cbs.parse_period("2019 februari")
    assert (m.kind, m.month, m.end) == ("month", 2, dt.date(2019, 2, 28))
    q = cbs.parse_period("2024 4e kwartaal")
    assert (q.kind, q.quarter, q.start, q.end) == ("quarter", 4, dt.date(2024, 10, 1), dt.date(2024, 12, 31))
    r = cbs.parse_period("28 september 2001 tot 27 september 2002")
    assert (r.kind, r.year, r.start, r.end) == ("range", 2002, dt.date(2001, 9, 28), dt.date(2002, 9, 27))
    star = cbs.parse_period("2024*")
    assert star.provisional and star.year == 2024
    assert cbs.parse_period("  2024 december*  ").month == 12


@pytest.mark.parametrize("label", ["2019 smarch", "Q1 2019", "2019 5e kwartaal", "", "27 september 2003 tot 26 september 2002"])
def test_period_bad_labels_raise(label):
    with pytest.raises(InputError, match="Perioden"):
        cbs.parse_period(label)


def test_read_table_strips_bom_padding_and_converts_numbers():
    df = cbs.read_table("85755NED")
    assert df.columns[0] == "ID"                      # BOM stripped from the first header
    ams = df[df["Code_1"] == "GM0363"].iloc[0]        # 'GM0363    ' in the file: padding stripped
    assert ams["Naam_2"] == "Amsterdam"
    assert ams["Naam_29"] == "Noord-Holland"
    assert ams["Inwonertal_56"] == 931298             # Bron: CBS StatLine, tabel 85755NED
    assert df["Inwonertal_56"].dtype.kind == "f"
    assert df.attrs["source"] == "Bron: CBS StatLine, tabel 85755NED"
    assert not df.attrs["truncated"] and len(df) == 342


def test_read_table_empty_fields_are_nan_not_zero():
    df = cbs.read_table("85309NED")
    weesp = df[df["RegioS"] == "Weesp"].iloc[0]       # CBS leaves Weesp empty in 85309NED
    assert math.isnan(weesp["PersonenMetBijstand31122021_26"])
    nl = df[df["RegioS"] == "Nederland"].iloc[0]
    assert nl["PersonenMetBijstand31122021_26"] == 471460


def test_truncated_table_flagged_and_totals_read():
    df = cbs.read_table("81574ned")                  # case-insensitive id
    assert df.attrs["truncated"] and len(df) == cbs.CBS_PAGE_LIMIT
    tot = cbs.select(df, Geslacht="Totaal mannen en vrouwen", Leeftijd="Totaal leeftijd",
                     Herkomstgroepering="Totaal herkomst", InkomstenbronVoorInstrOfNaUitstr="Inkomsten uit arbeid totaal")
    last = tot[tot["Perioden"] == "26 september 2014 tot 25 september 2015"].iloc[0]
    # shared CBS README: 2014/15 37.6k left bijstand for work
    assert last["Bijstandsuitkering_6"] == pytest.approx(37.6)


def test_yearly_and_monthly_series():
    df = cbs.read_table("37789ksz")
    yearly = cbs.yearly(df, "TotaalBijstandsuitkeringen_11")
    assert yearly[2007] == pytest.approx(317.8)      # x1000 benefits, 37789ksz
    assert yearly[2024] == pytest.approx(395.2)      # '2024*' provisional row
    monthly = cbs.monthly(df, "BijstandsuitkeringenTotDeAOWLeeftijd_12")
    assert monthly[(1998, 1)] == pytest.approx(435.1)
    with pytest.raises(InputError, match="more than one row per year"):
        cbs.yearly(cbs.read_table("80590ned"), "NietSeizoengecorrigeerd_7")


def test_select_checks_labels_and_columns():
    df = cbs.read_table("85383NED")
    rows = cbs.select(df, StatusCijfer="Definitief", Perioden="2024")
    assert len(rows) == 399                           # NL + 4 LD + 12 PV + 40 CR + 342 GM
    with pytest.raises(InputError, match="Definitief"):
        cbs.select(df, StatusCijfer="Definitef")
    with pytest.raises(InputError, match="StatusCijfer"):
        cbs.select(df, StatusCijfers="Definitief")


def test_unknown_table_and_columns():
    with pytest.raises(InputError, match="did you mean 85383NED"):
        cbs.read_table("85383NEE")
    with pytest.raises(InputError, match="InwonersTotaal_1"):
        cbs.read_table("85383NED", usecols=["InwonersTotal_1"])


def test_data_dir_override(tmp_path, monkeypatch):
    (tmp_path / "raw" / "cbs").mkdir(parents=True)
    monkeypatch.setenv("MKBA_DATA_DIR", str(tmp_path))
    assert cbs.raw_dir() == tmp_path / "raw" / "cbs"
    with pytest.raises(InputError, match="not found"):
        cbs.read_table("85383NED")


def test_raw_copies_are_byte_identical_and_attributed():
    raw = cbs.repo_root() / "data" / "raw" / "cbs"
    readme = (raw / "README.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in readme and "Bron: CBS StatLine, tabel" in readme
    for f in sorted(raw.glob("*.csv")):
        assert f"`{f.name}`" in readme, f"{f.name} not described in data/raw/cbs/README.md"
        if SHARED.is_dir():
            original = SHARED / f.name
            assert hashlib.sha256(f.read_bytes()).digest() == hashlib.sha256(original.read_bytes()).digest()

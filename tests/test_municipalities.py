"""Tests for mkba.municipalities: data/processed/municipalities.csv and lookups."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from mkba import cbs, municipalities as mun
from mkba.errors import InputError


@pytest.fixture(scope="module")
def built() -> pd.DataFrame:
    return mun.build_municipalities(write=False)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return mun.load_municipalities()


@pytest.fixture(scope="module")
def prov() -> dict:
    return json.loads((cbs.processed_dir() / mun.PROVENANCE_NAME).read_text(encoding="utf-8"))


def row(df: pd.DataFrame, name: str) -> pd.Series:
    hit = df[df["name"] == name]
    assert len(hit) == 1, name
    return hit.iloc[0]


def test_committed_file_matches_a_fresh_build(built, table):
    assert list(table.columns) == list(built.columns)
    assert list(table["gm_code"]) == list(built["gm_code"])
    for col in built.columns:
        if built[col].dtype.kind == "f":
            pd.testing.assert_series_equal(table[col].astype(float), built[col], check_names=False, rtol=1e-9)
    assert list(table["notes"]) == list(built["notes"].fillna(""))


def test_342_unique_codes_no_missing(table):
    assert len(table) == 342                                     # municipalities on 1-1-2024 (85755NED)
    assert table["gm_code"].notna().all() and table["gm_code"].is_unique
    assert table["gm_code"].str.fullmatch(r"GM\d{4}").all()
    assert table["name"].is_unique
    assert table["province"].nunique() == 12
    assert table["arbeidsmarktregio"].nunique() == 35
    for col in ("population", "bijstand_2024_total", "bijstand_2024_algemeen", "persons_bijstand_2018",
                "persons_bijstand_2021", "outflow_to_work_2017"):
        assert table[col].notna().all(), col


def test_national_totals_match_cbs(table, prov):
    # 85383NED, Nederland, TotaalBijstandsuitkeringen_22, Definitief 2024: 375.990 benefits
    chk = prov["checks"]["bijstand_2024_total"]
    assert chk["cbs_national"] == 375_990 == mun.NATIONAL_BIJSTAND_2024
    # CBS rounds municipal values to tens: the sum of 342 values may differ by at most 342 x 5
    total = table["bijstand_2024_total"].sum()
    assert total == chk["sum_of_municipalities"] == 376_220
    assert abs(total - 375_990) <= 342 * 5
    # population: 85383NED InwonersTotaal_1 sums exactly to the national 17,942,942
    assert table["population"].sum() == prov["checks"]["population"]["cbs_national"] == 17_942_942


def test_linking_keeps_every_value(prov):
    # values of older tables end up in a 2024 municipality or in the listed unallocated splits
    for name, chk in prov["checks"].items():
        if "sum_of_source_municipalities" not in chk:
            continue
        kept = chk["sum_of_2024_municipalities"] + sum(chk["unallocated_splits"].values())
        assert kept == pytest.approx(chk["sum_of_source_municipalities"]), name
    # Haaren (GM0788, split 2021) had 119 persons with bijstand on 31-12-2018 (84590NED)
    assert prov["checks"]["persons_bijstand_2018"]["unallocated_splits"] == {"Haaren (GM0788)": 119.0}
    assert prov["checks"]["persons_bijstand_2018"]["cbs_national"] == 484_553


def test_known_municipality_values(table):
    ams = row(table, "Amsterdam")
    assert ams["gm_code"] == "GM0363" and ams["province"] == "Noord-Holland"
    assert ams["arbeidsmarktregio"] == "Groot Amsterdam"
    assert ams["size_class"] == "250 000 inwoners of meer" and ams["urbanisation"] == "Zeer sterk stedelijk"
    assert ams["population"] == 931_298                         # 85383NED InwonersTotaal_1
    assert ams["bijstand_2024_total"] == 35_420                  # 85383NED TotaalBijstandsuitkeringen_22
    assert ams["bijstand_2024_algemeen"] == 30_530               # 85383NED AlgemeneBijstand_23
    assert ams["outflow_to_work_2015"] == 4720 + 40              # 83450NED: Amsterdam 4.720 + Weesp 40
    sg = row(table, "Sittard-Geleen")                             # FIP case municipality (003_...:778)
    assert sg["gm_code"] == "GM1883" and sg["province"] == "Limburg"
    aah = row(table, "Aa en Hunze")
    assert aah["bijstand_2024_total"] == 320 and aah["persons_bijstand_2018"] == 453   # 85383NED, 84590NED
    assert aah["outflow_to_work_pct_2015"] == 17.5 and aah["notes"] == ""               # 83450NED, unchanged


def test_merger_2023_voorne_aan_zee(table):
    vaz = row(table, "Voorne aan Zee")                            # Brielle + Hellevoetsluis + Westvoorne, 1-1-2023
    assert vaz["gm_code"] == "GM1992"
    # 85309NED PersonenMetBijstand31122021_26 (boundaries 2022): sum of the three predecessors
    src = cbs.read_table("85309NED").set_index("RegioS")["PersonenMetBijstand31122021_26"]
    assert vaz["persons_bijstand_2021"] == src["Brielle"] + src["Hellevoetsluis"] + src["Westvoorne"]
    assert "Brielle (GM0501)" in vaz["notes"] and "Westvoorne (GM0614)" in vaz["notes"]


def test_merger_2022_weesp_and_missing_value_note(table):
    ams = row(table, "Amsterdam")
    # 84590NED: Amsterdam 46.127 + Weesp 448 on 31-12-2018
    assert ams["persons_bijstand_2018"] == 46_127 + 448
    # 85309NED gives no value for Weesp: left out (noted), never counted as 0 silently
    assert ams["persons_bijstand_2021"] == 50_490
    assert "no value for Weesp (GM0457)" in ams["notes"]


def test_split_haaren_is_noted_not_allocated(table):
    tilburg = row(table, "Tilburg")
    src = cbs.read_table("84590NED").set_index("RegioS")["PersonenMetBijstand31122018_26"]
    assert tilburg["persons_bijstand_2018"] == src["Tilburg"]     # Haaren part not added
    for name in ("Boxtel", "Oisterwijk", "Tilburg", "Vught"):
        assert "excludes the part of Haaren" in row(table, name)["notes"]


def test_missing_percentages_stay_nan_with_note(table):
    ameland = row(table, "Ameland")                                # 83450NED: count 0, no percentage
    assert math.isnan(ameland["outflow_to_work_pct_2015"]) and ameland["outflow_to_work_2015"] == 0
    assert "CBS gives no percentage" in ameland["notes"]
    pct_cols = [c for c in table.columns if c.startswith("outflow_to_work_pct")]
    for col in pct_cols:                  # each empty percentage has a note about that column and year
        year = int(col.rsplit("_", 1)[1])
        for idx in table.index[table[col].isna()]:
            notes = table.loc[idx, "notes"].items
            assert any(n.fields.get("column") == {"kind": "outflow_pct", "year": year}
                       or (n.key.startswith("outflow_summed") and n.fields["column"]["year"] == year) for n in notes), \
                (table.loc[idx, "name"], col, [n.key for n in notes])
    # 84066NED publishes Meierijstad 2017 as 0.0 % next to 120 leaving for work: left empty, noted
    mei = row(table, "Meierijstad")
    assert math.isnan(mei["outflow_to_work_pct_2017"]) and mei["outflow_to_work_2017"] == 120
    assert "inconsistent record" in mei["notes"]


def test_renamed_municipality_is_noted(table):
    bed = row(table, "Berg en Dal")                                # 83450NED still says Groesbeek (2015)
    assert bed["outflow_to_work_2015"] == 90
    assert "published as Groesbeek" in bed["notes"]


def test_boundary_changes_agree_with_cbs_lists():
    assert mun.check_boundary_changes() == []


def test_pre2019_boundary_changes_agree_with_older_tables():
    # every municipality of 2015-2017 missing from the 2019 list must be a dissolved predecessor
    names_2019 = {mun.normalise_name(n) for n in cbs.read_table("84378NED")["RegioS"]}
    dissolved = {mun.normalise_name(p) for c in mun.BOUNDARY_CHANGES for p in c.predecessors
                 if c.date.year <= 2019 and (c.kind == "split" or mun.normalise_name(p) != mun.normalise_name(c.successor))}
    for table_id, (_, byear, region, *_rest) in ((v[0], v) for v in mun.OUTFLOW.values()):
        df = cbs.read_table(table_id)
        names = {mun.normalise_name(n) for n in df[region].unique() if mun._is_municipality_label(n)}
        assert names - names_2019 <= dissolved, table_id
        for c in mun.BOUNDARY_CHANGES:
            if byear < c.date.year <= 2019:
                assert {mun.normalise_name(p) for p in c.predecessors} <= names, (table_id, c)


def test_provenance_names_table_and_column_for_every_value(table, prov):
    for col in table.columns:
        if col in ("notes",):
            continue
        src = prov["columns"][col]
        assert src["table"] in {s["table"] for s in prov["sources"]}, col
        assert src["column"] in cbs.read_table(src["table"]).columns, col
    for s in prov["sources"]:
        assert s["sha256"] == cbs.file_sha256(s["table"])


def test_find_municipality():
    assert mun.find_municipality("GM0363")["name"] == "Amsterdam"
    assert mun.find_municipality("0363")["name"] == "Amsterdam"
    assert mun.find_municipality("gm1883")["name"] == "Sittard-Geleen"
    assert mun.find_municipality("sittard-geleen")["gm_code"] == "GM1883"
    assert mun.find_municipality("SUDWEST-FRYSLAN")["name"] == "Súdwest-Fryslân"
    assert mun.find_municipality("Den Haag")["gm_code"] == "GM0518"
    assert mun.find_municipality("Utrecht")["gm_code"] == "GM0344"   # the municipality, not the province
    rec = mun.find_municipality("Zaanstad")
    assert rec["gm_code"] == "GM0479" and rec["bijstand_2024_total"] > 0


@pytest.mark.parametrize("query, match", [
    ("Amsterdm", "did you mean 'Amsterdam'"),
    ("Weesp", r"merged into Amsterdam \(GM0363\) on 2022-03-24"),
    ("Haaren", "split over Boxtel"),
    ("Groesbeek", "renamed Berg en Dal"),
    ("GM9999", "no municipality with this code"),
    ("", "GM code or a name"),
    (363, "GM code or a name"),
])
def test_find_municipality_errors(query, match):
    with pytest.raises(InputError, match=match):
        mun.find_municipality(query)


def test_select_municipalities():
    assert len(mun.select_municipalities("all")) == 342
    assert len(mun.select_municipalities(["Limburg"])) == 31      # 85755NED Naam_29 = Limburg
    assert len(mun.select_municipalities(["provincie Utrecht"])) == 26
    assert len(mun.select_municipalities(["Friesland"])) == len(mun.select_municipalities(["Fryslân"])) == 18
    assert len(mun.select_municipalities(["PV22"])) == 12          # Drenthe
    sel = mun.select_municipalities(["GM0363", "Utrecht", "Amsterdam", "Zaanstad"])
    assert list(sel["name"]) == ["Amsterdam", "Utrecht", "Zaanstad"]   # order kept, no duplicates
    both = mun.select_municipalities(["Zeeland", "Vlissingen"])
    assert len(both) == 13 and both["name"].is_unique


@pytest.mark.parametrize("spec, match", [
    ([], "empty"),
    (["Limbrug"], "Limburg"),
    (["provincie Zeeuw"], "unknown province"),
    ([""], "non-empty"),
])
def test_select_municipalities_errors(spec, match):
    with pytest.raises(InputError, match=match):
        mun.select_municipalities(spec)


# --- old codes, ambiguous names, arbeidsmarktregio's (issue 13, issue 15 point 6) -----------------
@pytest.mark.parametrize("query, words", [
    # GM0856 Uden is in the CBS lists 2019-2021 (84929NED) and merged with Landerd into Maashorst
    # (GM1991, in 85067NED) on 1-1-2022: not "the nearest codes Tilburg, Valkenswaard, Waterland"
    ("GM0856", ["GM0856 (Uden", "merged into Maashorst (GM1991) on 2022-01-01", "'Maashorst' or 'GM1991'"]),
    ("0856", ["merged into Maashorst (GM1991)"]),
    ("Uden", ["merged into Maashorst (GM1991)"]),
    # Haaren (GM0788) split over four municipalities on 1-1-2021: name them and ask which
    ("GM0788", ["GM0788 (Haaren", "split over Boxtel (GM0757), Oisterwijk (GM0824), Tilburg (GM0855), Vught (GM0865)",
                "say which one you mean"]),
    # Weesp (GM0457) joined Amsterdam on 24 March 2022
    ("GM0457", ["merged into Amsterdam (GM0363) on 2022-03-24"]),
    # "Bergen" is two municipalities: ask which, do not suggest Tubbergen
    ("Bergen", ["ambiguous", "'Bergen (L.)' (GM0893, Limburg)", "'Bergen (NH.)' (GM0373, Noord-Holland)", "say which"]),
])
def test_old_codes_and_ambiguous_names(query, words):
    with pytest.raises(InputError) as exc:
        mun.find_municipality(query)
    msg = str(exc.value)
    for w in words:
        assert w in msg, (w, msg)
    assert "Tubbergen" not in msg and "Tilburg or" not in msg and "nearest" not in msg


def test_former_codes_come_from_the_cbs_lists():
    old = mun.former_codes()
    assert old["GM0856"] == ("Uden", 2021) and old["GM1685"][0] == "Landerd"   # 84929NED rows
    assert "GM1991" not in old and "GM0363" not in old                          # 2024 codes are current
    # every former code resolves to a boundary change (nothing falls through to "unknown")
    for code, (name, _year) in old.items():
        with pytest.raises(InputError, match="not a municipality of 2024"):
            mun.find_municipality(code)


def test_unique_name_without_province_mark_is_found():
    assert mun.find_municipality("Hengelo")["name"] == "Hengelo (O.)"
    assert mun.find_municipality("Bergen (NH.)")["gm_code"] == "GM0373"


def test_select_arbeidsmarktregio():
    rijnmond = mun.select_municipalities(["Rijnmond"])
    assert len(rijnmond) == len(mun.select_municipalities(["AM22"])) == 14        # 85755NED Code_4 = AM22
    assert "Rotterdam" in set(rijnmond["name"])
    assert list(mun.select_municipalities(["Groningen"])["name"]) == ["Groningen"]   # the municipality
    assert "Assen" in set(mun.select_municipalities(["arbeidsmarktregio Groningen"])["name"])
    with pytest.raises(InputError, match="unknown arbeidsmarktregio.*Rijnmond"):
        mun.select_municipalities(["arbeidsmarktregio Rijnmund"])


def test_a_municipalities_file_of_an_older_version_is_a_clear_error(tmp_path, monkeypatch):
    """The notes column holds JSON (mkba.notes); a file written before, with English text there, says so
    and how to rebuild it."""
    import shutil

    from mkba.errors import InputError

    src = cbs.processed_dir() / mun.CSV_NAME
    dst = tmp_path / mun.CSV_NAME
    shutil.copy(src, dst)
    text = dst.read_text(encoding="utf-8")
    first = text.splitlines()[1]
    dst.write_text(text.replace(first, first.rsplit(",", 1)[0] + ",sum of predecessors Amsterdam 46.127", 1),
                   encoding="utf-8")
    monkeypatch.setattr(cbs, "processed_dir", lambda: tmp_path)
    with pytest.raises(InputError) as e:
        mun.load_municipalities()
    msg = str(e.value)
    assert str(dst) in msg and "notes" in msg and "build_municipalities(write=True)" in msg

"""The 342 municipalities of 2024 with their bijstand figures: ``data/processed/municipalities.csv``.

One row per municipality (gemeente) of 1 January 2024, keyed by its CBS code (``GM0363``).
Every value comes from a CBS StatLine table in ``data/raw/cbs/`` (column -> table/column in
:data:`COLUMN_SOURCES` and in ``data/processed/municipalities.provenance.json``):

* identity and classification from *Gebieden in Nederland 2024* (85755NED): name, province,
  arbeidsmarktregio, size class, urbanisation;
* population and bijstand for fund year 2024 from the Financiële-verhoudingswet measures
  (85383NED, ``StatusCijfer = Definitief``, ``Perioden = 2024``);
* persons with bijstand on 31 December 2018-2021 from the gemeentefonds measures
  84590NED / 84860NED / 85052NED / 85309NED (municipal boundaries of 2019 / 2020 / 2021 / 2022);
* bijstand recipients and outflow to work 2015-2017 from *Sociale zekerheid: gemeenten*
  83450NED / 83747NED / 84066NED (boundaries of 2015 / 2016 / 2017; age row 15 jaar of ouder).

Older figures are linked to the 2024 municipality through the boundary changes in
:data:`BOUNDARY_CHANGES` (source: CBS, *Gemeentelijke indeling op 1 januari*, years 2016-2023;
every change from 2020 on is checked against the CBS municipality lists 84378NED ... 85755NED,
and every name in the older tables must resolve, so nothing is dropped silently):

* a municipality that **merged** gets the **sum** of its predecessors, with a note naming them;
* a municipality that was **split** (Littenseradiel 2018, Winsum 2019, Haaren 2021) is not
  allocated: its value stays out of every 2024 municipality and each recipient gets a note
  saying what it excludes (the value is in the note);
* a value CBS does not give stays NaN with a note -- never 0.

Outflow-to-work percentages of merged municipalities are the stock-weighted mean of the
predecessors' CBS percentages (weights = bijstand recipients of the same table), noted as such.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable

from . import cbs
from .errors import InputError, closest
from .notes import Note, Notes

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

CSV_NAME = "municipalities.csv"
PROVENANCE_NAME = "municipalities.provenance.json"

#: Number of municipalities on 1 January 2024 (rows of 85755NED; Gemeenten in 85383NED 2024).
N_MUNICIPALITIES_2024 = 342
#: CBS national total of bijstand benefits, fund year 2024 (85383NED, Nederland row,
#: TotaalBijstandsuitkeringen_22, Definitief 2024).
NATIONAL_BIJSTAND_2024 = 375_990

TABLE_FVW = "85383NED"
FVW_FILTER = {"StatusCijfer": "Definitief", "Perioden": "2024"}

#: CBS "Gebieden in Nederland" lists by year (boundaries on 1 January).
GEBIEDEN = {2019: "84378NED", 2020: "84721NED", 2021: "84929NED", 2022: "85067NED",
            2023: "85385NED", 2024: "85755NED"}

#: Persons with bijstand on 31-12 of ``year``: (table, boundary year, column).
PERSONS_BIJSTAND = {
    2018: ("84590NED", 2019, "PersonenMetBijstand31122018_26"),
    2019: ("84860NED", 2020, "PersonenMetBijstand31122019_26"),
    2020: ("85052NED", 2021, "PersonenMetBijstand31122020_26"),
    2021: ("85309NED", 2022, "PersonenMetBijstand31122021_26"),
}

#: Outflow to work by municipality: table, boundary year, region column, recipients, outflow
#: to work (number), outflow to work (% as published). Age row "15 jaar of ouder".
OUTFLOW = {
    2015: ("83450NED", 2015, "RegioS", "Bijstandontvangers_2", "UitstromersNaarWerk_8", "UitstromersNaarWerk_9"),
    2016: ("83747NED", 2016, "Regiokenmerken", "Bijstandontvangers_2", "UitstroomNaarWerk_8", "UitstroomNaarWerk_9"),
    2017: ("84066NED", 2017, "Regiokenmerken", "Bijstandsontvangers_2", "UitstroomNaarWerk_8", "UitstroomNaarWerk_9"),
}
OUTFLOW_AGE = "15 jaar of ouder"

#: Columns of 85755NED (gebieden 2024) used, with the code prefix each must have.
GEBIEDEN_2024_COLUMNS = {
    "gm_code": ("Code_1", "GM"), "name": ("Naam_2", None),
    "arbeidsmarktregio_code": ("Code_4", "AM"), "arbeidsmarktregio": ("Naam_5", None),
    "province_code": ("Code_28", "PV"), "province": ("Naam_29", None),
    "size_class_code": ("Code_52", None), "size_class": ("Omschrijving_53", None),
    "urbanisation_code": ("Code_54", None), "urbanisation": ("Omschrijving_55", None),
}
FVW_COLUMNS = {
    "population": "InwonersTotaal_1",
    "bijstand_2024_total": "TotaalBijstandsuitkeringen_22",
    "bijstand_2024_algemeen": "AlgemeneBijstand_23",
    "bijstand_2024_bbz": "BBZ_24",
    "bijstand_2024_ioaw": "IOAW_25",
    "bijstand_2024_ioaz": "IOAZ_26",
}


@dataclass(frozen=True)
class BoundaryChange:
    """A municipal boundary change on ``date``.

    ``kind`` is ``"merge"`` (``predecessors`` -> ``successor``, the successor may be one of the
    predecessors that absorbs the others), ``"split"`` (``predecessors[0]`` dissolved over
    ``recipients``, parts not allocated here) or ``"rename"`` (``predecessors[0]`` ->
    ``successor``, same territory).
    """

    date: _dt.date
    kind: str
    predecessors: tuple[str, ...]
    successor: str | None = None
    recipients: tuple[str, ...] = ()


def _d(y: int, m: int = 1, d: int = 1) -> _dt.date:
    return _dt.date(y, m, d)


#: Boundary changes 2016-2023 (CBS, "Gemeentelijke indeling op 1 januari <jaar>"; Weesp
#: joined Amsterdam on 24 March 2022). Changes from 2020 on are verified against the CBS
#: lists in :data:`GEBIEDEN` (tests/test_municipalities.py); older ones against the names in
#: 83450NED/83747NED/84066NED versus 84378NED.
BOUNDARY_CHANGES: tuple[BoundaryChange, ...] = (
    BoundaryChange(_d(2016), "merge", ("Bussum", "Muiden", "Naarden"), "Gooise Meren"),
    BoundaryChange(_d(2016), "merge", ("Edam-Volendam", "Zeevang"), "Edam-Volendam"),
    BoundaryChange(_d(2016), "rename", ("Groesbeek",), "Berg en Dal"),
    BoundaryChange(_d(2016), "rename", ("De Friese Meren",), "De Fryske Marren"),
    BoundaryChange(_d(2017), "merge", ("Schijndel", "Sint-Oedenrode", "Veghel"), "Meierijstad"),
    BoundaryChange(_d(2018), "split", ("Littenseradiel",), None, ("Leeuwarden", "Súdwest-Fryslân", "Waadhoeke")),
    BoundaryChange(_d(2018), "merge", ("Hoogezand-Sappemeer", "Menterwolde", "Slochteren"), "Midden-Groningen"),
    BoundaryChange(_d(2018), "merge", ("Bellingwedde", "Vlagtwedde"), "Westerwolde"),
    BoundaryChange(_d(2018), "merge", ("Leeuwarden", "Leeuwarderadeel"), "Leeuwarden"),
    BoundaryChange(_d(2018), "merge", ("Franekeradeel", "het Bildt", "Menameradiel"), "Waadhoeke"),
    BoundaryChange(_d(2018), "merge", ("Zevenaar", "Rijnwaarden"), "Zevenaar"),
    BoundaryChange(_d(2019), "split", ("Winsum",), None, ("Het Hogeland", "Westerkwartier")),
    BoundaryChange(_d(2019), "merge", ("Groningen", "Haren", "Ten Boer"), "Groningen"),
    BoundaryChange(_d(2019), "merge", ("Bedum", "De Marne", "Eemsmond"), "Het Hogeland"),
    BoundaryChange(_d(2019), "merge", ("Grootegast", "Leek", "Marum", "Zuidhorn"), "Westerkwartier"),
    BoundaryChange(_d(2019), "merge", ("Dongeradeel", "Ferwerderadiel", "Kollumerland en Nieuwkruisland"),
                   "Noardeast-Fryslân"),
    BoundaryChange(_d(2019), "merge", ("Geldermalsen", "Lingewaal", "Neerijnen"), "West Betuwe"),
    BoundaryChange(_d(2019), "merge", ("Aalburg", "Werkendam", "Woudrichem"), "Altena"),
    BoundaryChange(_d(2019), "merge", ("Binnenmaas", "Cromstrijen", "Korendijk", "Oud-Beijerland", "Strijen"),
                   "Hoeksche Waard"),
    BoundaryChange(_d(2019), "merge", ("Giessenlanden", "Molenwaard"), "Molenlanden"),
    BoundaryChange(_d(2019), "merge", ("Leerdam", "Vianen", "Zederik"), "Vijfheerenlanden"),
    BoundaryChange(_d(2019), "merge", ("Haarlemmermeer", "Haarlemmerliede en Spaarnwoude"), "Haarlemmermeer"),
    BoundaryChange(_d(2019), "merge", ("Nuth", "Onderbanken", "Schinnen"), "Beekdaelen"),
    BoundaryChange(_d(2019), "merge", ("Noordwijk", "Noordwijkerhout"), "Noordwijk"),
    BoundaryChange(_d(2021), "merge", ("Appingedam", "Delfzijl", "Loppersum"), "Eemsdelta"),
    BoundaryChange(_d(2021), "split", ("Haaren",), None, ("Boxtel", "Oisterwijk", "Tilburg", "Vught")),
    BoundaryChange(_d(2022), "merge", ("Heerhugowaard", "Langedijk"), "Dijk en Waard"),
    BoundaryChange(_d(2022), "merge", ("Purmerend", "Beemster"), "Purmerend"),
    BoundaryChange(_d(2022), "merge", ("Landerd", "Uden"), "Maashorst"),
    BoundaryChange(_d(2022), "merge", ("Boxmeer", "Cuijk", "Grave", "Mill en Sint Hubert", "Sint Anthonis"),
                   "Land van Cuijk"),
    BoundaryChange(_d(2022, 3, 24), "merge", ("Amsterdam", "Weesp"), "Amsterdam"),
    BoundaryChange(_d(2023), "merge", ("Brielle", "Hellevoetsluis", "Westvoorne"), "Voorne aan Zee"),
)
BOUNDARY_CHANGES_SOURCE = ("CBS, 'Gemeentelijke indeling op 1 januari' 2016-2023 (boundary changes); "
                           "2020-2023 verified against CBS lists 84378NED, 84721NED, 84929NED, 85067NED, "
                           "85385NED, 85755NED")

_AGGREGATE_RE = re.compile(r"\([A-Z]{2}\)$")  # (LD), (PV), (CR), (AM): aggregates


# ---------------------------------------------------------------------------------------------
# names
# ---------------------------------------------------------------------------------------------
def normalise_name(name: str) -> str:
    """Matching key for a municipality name: stripped, ' (gemeente)' removed, case- and accent-free."""
    s = str(name).strip()
    s = re.sub(r"\s*\(gemeente\)$", "", s, flags=re.IGNORECASE)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return " ".join(s.casefold().split())


def _is_municipality_label(label: str) -> bool:
    return not (label == "Nederland" or _AGGREGATE_RE.search(label) or label.startswith("Gemeenten:"))


# ---------------------------------------------------------------------------------------------
# lineage: names of boundary year Y -> 2024 municipality
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Link:
    """Where a municipality of an older boundary year ended up in 2024."""

    name: str                  # name in the older table
    current: str | None        # name in 2024 (None if split)
    split: BoundaryChange | None = None


def lineage(boundary_year: int, names: Iterable[str]) -> dict[str, Link]:
    """Map municipality ``names`` of the boundaries of 1 January ``boundary_year`` to 2024 names.

    Applies every change in :data:`BOUNDARY_CHANGES` dated after 1 January ``boundary_year``.
    Names are compared with :func:`normalise_name`.
    """
    start = _d(boundary_year)
    cur = {n: normalise_name(n) for n in names}
    split: dict[str, BoundaryChange] = {}
    for ch in sorted(BOUNDARY_CHANGES, key=lambda c: c.date):
        if ch.date <= start:
            continue
        preds = {normalise_name(p) for p in ch.predecessors}
        for orig, now in cur.items():
            if now is None or now not in preds:
                continue
            if ch.kind == "split":
                cur[orig] = None
                split[orig] = ch
            else:
                cur[orig] = normalise_name(ch.successor)
    return {n: Link(n, cur[n], split.get(n)) for n in cur}


def check_boundary_changes() -> list[str]:
    """Check :data:`BOUNDARY_CHANGES` against consecutive CBS municipality lists (:data:`GEBIEDEN`).

    For each pair of years: every municipality code that disappears must be a dissolved
    predecessor of a change in between, every new code the successor of a merge in between,
    and every change in between must name municipalities of the two lists. Returns the
    problems found (empty = consistent).
    """
    problems: list[str] = []
    years = sorted(GEBIEDEN)
    lists = {y: _gebieden_codes(y) for y in years}
    for a, b in zip(years, years[1:]):
        A, B = lists[a], lists[b]
        changes = [c for c in BOUNDARY_CHANGES if _d(a) < c.date <= _d(b)]
        dissolved = {normalise_name(p) for c in changes for p in c.predecessors
                     if c.kind == "split" or normalise_name(p) != normalise_name(c.successor or "")}
        created = {normalise_name(c.successor) for c in changes if c.kind != "split"}
        codes_a, codes_b = set(A.values()), set(B.values())
        for name, code in A.items():
            if code not in codes_b and name not in dissolved:
                problems.append(f"{a}->{b}: {name} ({code}) disappears without a boundary change")
        for name, code in B.items():
            if code not in codes_a and name not in created:
                problems.append(f"{a}->{b}: {name} ({code}) appears without a boundary change")
        for c in changes:
            for p in c.predecessors:
                if normalise_name(p) not in A:
                    problems.append(f"{c.date}: predecessor {p} not in the CBS list of {a}")
            for s in ([c.successor] if c.successor else []) + list(c.recipients):
                if normalise_name(s) not in B:
                    problems.append(f"{c.date}: {s} not in the CBS list of {b}")
    return problems


# ---------------------------------------------------------------------------------------------
# reading the CBS tables
# ---------------------------------------------------------------------------------------------
def _gebieden_2024() -> "pd.DataFrame":
    import pandas as pd

    table = GEBIEDEN[2024]
    df = cbs.read_table(table)
    out = pd.DataFrame({"regio_label": df["RegioS"]})
    for col, (src, prefix) in GEBIEDEN_2024_COLUMNS.items():
        if src not in df.columns:
            raise InputError("column missing in CBS municipality list", file=table, field=src,
                             fix="use the byte-identical CBS export of 85755NED")
        vals = df[src]
        if prefix and not vals.astype(str).str.startswith(prefix).all():
            raise InputError(f"column does not hold {prefix} codes", file=table, field=src,
                             value=vals.iloc[0], fix="the CBS column layout changed; update GEBIEDEN_2024_COLUMNS")
        out[col] = vals
    for col in ("size_class_code", "urbanisation_code"):
        out[col] = pd.to_numeric(out[col]).astype("Int64")
    return out


def _gebieden_codes(year: int) -> dict[str, str]:
    """normalised name -> GM code in the CBS list of ``year``."""
    df = cbs.read_table(GEBIEDEN[year])
    return {normalise_name(n): c for n, c in zip(df["RegioS"], df["Code_1"])}


def _fvw_2024() -> "pd.DataFrame":
    df = cbs.select(cbs.read_table(TABLE_FVW), **FVW_FILTER)
    return df


def _older_values(table: str, boundary_year: int, region_col: str, columns: list[str],
                  extra: dict | None = None) -> "pd.DataFrame":
    """Municipality rows of an older table with the requested columns (index = name label)."""
    df = cbs.read_table(table)
    if extra:
        df = cbs.select(df, **extra)
    rows = df[[_is_municipality_label(str(x)) for x in df[region_col]]]
    out = rows.set_index(region_col)[columns]
    if out.index.duplicated().any():
        raise InputError("duplicate municipality rows", file=table, field=region_col,
                         value=list(out.index[out.index.duplicated()])[:3], fix="select one age/status row first")
    return out


def _national(table: str, region_col: str, column: str, extra: dict | None = None) -> float:
    df = cbs.read_table(table)
    if extra:
        df = cbs.select(df, **extra)
    row = cbs.select(df, **{region_col: "Nederland"})
    return float(row[column].iloc[0])


def _resolve(table: str, boundary_year: int, names: list[str], current_codes: dict[str, str]) -> dict[str, Link]:
    links = lineage(boundary_year, names)
    unknown = [l.name for l in links.values() if l.current is not None and l.current not in current_codes]
    if unknown:
        raise InputError("municipality of an older table does not resolve to a 2024 municipality",
                         file=table, field="RegioS", value=unknown[:5],
                         fix="add the missing boundary change to mkba.municipalities.BOUNDARY_CHANGES "
                             f"(closest 2024 names: {closest(normalise_name(unknown[0]), current_codes)})")
    return links


def _group(links: dict[str, Link], codes_by_name: dict[str, str]) -> tuple[dict[str, list[str]], dict[str, BoundaryChange]]:
    """(2024 code -> older names that make it up, split older name -> its change)."""
    groups: dict[str, list[str]] = {}
    splits: dict[str, BoundaryChange] = {}
    for name, link in links.items():
        if link.current is None:
            splits[name] = link.split
        else:
            groups.setdefault(codes_by_name[link.current], []).append(name)
    return {c: sorted(n) for c, n in groups.items()}, splits


def _sum(values: list[float]) -> float:
    present = [v for v in values if v == v]
    return float(sum(present)) if present else float("nan")


def _split_notes(splits: dict[str, BoundaryChange], codes_by_name: dict[str, str], key: str, column: dict,
                 table: str, described: dict[str, dict]) -> dict[str, list[Note]]:
    """Notes for the municipalities a split one went to: its figure is not allocated to them."""
    notes: dict[str, list[Note]] = {}
    for name, ch in splits.items():
        for r in ch.recipients:
            notes.setdefault(codes_by_name[normalise_name(r)], []).append(
                Note(key, column=column, table=table, name=name, date=ch.date.isoformat(), names=list(ch.recipients),
                     **described[name]))
    return notes


def _count(v: float) -> float | None:
    """A count for a note: None where CBS gives none (JSON has no NaN)."""
    return None if v != v else float(v)


# ---------------------------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------------------------
COLUMN_SOURCES: dict[str, dict[str, Any]] = {}


def _register(col: str, table: str, column: str, filt: dict | None = None, what: str = "") -> None:
    COLUMN_SOURCES[col] = {"table": table, "column": column, "filter": filt or {}, "description": what}


for _c, (_src, _p) in GEBIEDEN_2024_COLUMNS.items():
    _register(_c, GEBIEDEN[2024], _src, None, "Gebieden in Nederland 2024")
_register("population", TABLE_FVW, FVW_COLUMNS["population"], FVW_FILTER, "inhabitants (Fvw measure 2024)")
for _c in ("bijstand_2024_total", "bijstand_2024_algemeen", "bijstand_2024_bbz", "bijstand_2024_ioaw",
           "bijstand_2024_ioaz"):
    _register(_c, TABLE_FVW, FVW_COLUMNS[_c], FVW_FILTER, "bijstand benefits, Fvw measure for fund year 2024")
for _y, (_t, _b, _col) in PERSONS_BIJSTAND.items():
    _register(f"persons_bijstand_{_y}", _t, _col, None,
              f"persons with bijstand on 31-12-{_y} (boundaries {_b}); linked to 2024 via BOUNDARY_CHANGES")
for _y, (_t, _b, _rc, _stock, _n, _pct) in OUTFLOW.items():
    _register(f"bijstand_recipients_{_y}", _t, _stock, {"Leeftijd": OUTFLOW_AGE},
              f"bijstand recipients {_y} (boundaries {_b})")
    _register(f"outflow_to_work_{_y}", _t, _n, {"Leeftijd": OUTFLOW_AGE},
              f"persons leaving bijstand for work in {_y} (boundaries {_b})")
    _register(f"outflow_to_work_pct_{_y}", _t, _pct, {"Leeftijd": OUTFLOW_AGE},
              "outflow to work as % (CBS); merged municipalities: recipient-weighted mean of predecessors")
_register("notes", "-", "-", None, "merges, splits and missing values, by column year")


def build_municipalities(write: bool = True) -> "pd.DataFrame":
    """Build the municipality table (see module docstring); writes CSV + provenance if ``write``."""
    problems = check_boundary_changes()
    if problems:
        raise InputError("BOUNDARY_CHANGES disagree with the CBS municipality lists", field="BOUNDARY_CHANGES",
                         value=problems[:5], fix="correct mkba.municipalities.BOUNDARY_CHANGES")
    geb = _gebieden_2024()
    codes_2024 = {normalise_name(n): c for n, c in zip(geb["regio_label"], geb["gm_code"])}
    fvw = _fvw_2024()
    fvw_gm = fvw[fvw["Regiocode_73"].astype(str).str.startswith("GM")].set_index("Regiocode_73")
    df = geb.drop(columns=["regio_label"]).set_index("gm_code", drop=False)

    if set(fvw_gm.index) != set(df.index):
        raise InputError("85383NED and 85755NED disagree on the 2024 municipalities", file=TABLE_FVW,
                         field="Regiocode_73", value=sorted(set(fvw_gm.index) ^ set(df.index))[:5],
                         fix="use the CBS exports of the same boundary year (2024)")
    for col, src in FVW_COLUMNS.items():
        df[col] = fvw_gm.loc[df.index, src].to_numpy(float)
    notes: dict[str, list[Note]] = {c: [] for c in df.index}
    name_2024 = dict(zip(df["gm_code"], df["name"]))

    checks: dict[str, Any] = {}
    nl = cbs.select(fvw, RegioS="Nederland")
    nl_total = float(nl[FVW_COLUMNS["bijstand_2024_total"]].iloc[0])
    checks["bijstand_2024_total"] = {
        "cbs_national": nl_total, "sum_of_municipalities": float(df["bijstand_2024_total"].sum()),
        "note": "CBS rounds municipal figures to tens; the sum of 342 rounded values may differ from the "
                "national figure by at most 5 x 342"}
    checks["bijstand_2024_algemeen"] = {"cbs_national": float(nl[FVW_COLUMNS["bijstand_2024_algemeen"]].iloc[0]),
                                        "sum_of_municipalities": float(df["bijstand_2024_algemeen"].sum())}
    checks["population"] = {"cbs_national": float(nl[FVW_COLUMNS["population"]].iloc[0]),
                            "sum_of_municipalities": float(df["population"].sum())}

    # persons with bijstand 31-12-2018..2021 --------------------------------------------------
    for year, (table, byear, col) in PERSONS_BIJSTAND.items():
        vals = _older_values(table, byear, "RegioS", [col])[col]
        then = _gebieden_codes(byear)
        names_unknown = [n for n in vals.index if normalise_name(n) not in then]
        if names_unknown:
            raise InputError("municipality name not in the CBS list of its boundary year", file=table,
                             field="RegioS", value=names_unknown[:3], fix=f"compare with {GEBIEDEN[byear]}")
        links = _resolve(table, byear, list(vals.index), codes_2024)
        groups, splits = _group(links, codes_2024)
        name = f"persons_bijstand_{year}"
        column = {"kind": "persons", "year": year}
        tag = lambda n: f"{n} ({then[normalise_name(n)]})"  # noqa: E731
        df[name] = [_sum([float(vals[n]) for n in groups[c]]) if c in groups else float("nan") for c in df.index]
        for code, names in groups.items():
            if len(names) > 1:
                notes[code].append(Note("persons_summed", column=column, table=table,
                                        parts=[{"name": tag(n), "persons_n": _count(float(vals[n]))} for n in names]))
            missing = [n for n in names if float(vals[n]) != float(vals[n])]
            if missing:
                key = "persons_missing_left_out" if len(missing) < len(names) else "persons_missing"
                notes[code].append(Note(key, column=column, table=table, names=[tag(n) for n in missing]))
        for code, lst in _split_notes(splits, codes_2024, "split_persons", column, table,
                                      {n: {"persons_n": _count(float(vals[n]))} for n in splits}).items():
            notes[code].extend(lst)
        for c in df.index:
            if c not in groups:
                notes[c].append(Note("unmapped", column=column, year=byear))
        unalloc = {f"{n} ({then[normalise_name(n)]})": float(vals[n]) for n in splits}
        checks[name] = {"cbs_national": _national(table, "RegioS", col),
                        "sum_of_source_municipalities": float(vals.sum()),
                        "sum_of_2024_municipalities": float(df[name].sum()),
                        "unallocated_splits": unalloc}

    # outflow to work 2015-2017 -------------------------------------------------------------------
    for year, (table, byear, rc, stock_col, n_col, pct_col) in OUTFLOW.items():
        vals = _older_values(table, byear, rc, [stock_col, n_col, pct_col], {"Leeftijd": OUTFLOW_AGE})
        links = _resolve(table, byear, list(vals.index), codes_2024)
        groups, splits = _group(links, codes_2024)
        s_name, n_name, p_name = (f"bijstand_recipients_{year}", f"outflow_to_work_{year}",
                                  f"outflow_to_work_pct_{year}")
        column, pct_column = {"kind": "outflow", "year": year}, {"kind": "outflow_pct", "year": year}
        pct: dict[str, float] = {}
        # a published 0.0 % next to a positive outflow-to-work count cannot both be right
        inconsistent = set(vals.index[(vals[pct_col] == 0) & (vals[n_col] > 0)])
        for code, names in groups.items():
            sub = vals.loc[names]
            if len(names) == 1:
                pct[code] = float(sub[pct_col].iloc[0])
                if normalise_name(names[0]) != normalise_name(name_2024[code]):
                    notes[code].append(Note("renamed", column=column, table=table, old=names[0], new=name_2024[code]))
                if pct[code] != pct[code]:
                    notes[code].append(Note("no_percentage", column=pct_column, table=table,
                                            outflow_n=_count(float(sub[n_col].iloc[0]))))
                elif names[0] in inconsistent:
                    pct[code] = float("nan")
                    notes[code].append(Note("inconsistent_percentage", column=pct_column, table=table, zero_pct=0.0,
                                            outflow_n=_count(float(sub[n_col].iloc[0]))))
                continue
            ok = sub[pct_col].notna() & (sub[stock_col] > 0) & ~sub.index.isin(inconsistent)
            pct[code] = (float((sub.loc[ok, pct_col] * sub.loc[ok, stock_col]).sum() / sub.loc[ok, stock_col].sum())
                         if ok.any() else float("nan"))
            parts = [{"name": n, "recipients_n": _count(float(sub.loc[n, stock_col])),
                      "outflow_n": _count(float(sub.loc[n, n_col])), "outflow_pct": _count(float(sub.loc[n, pct_col]))}
                     for n in names]
            if ok.all():
                notes[code].append(Note("outflow_summed", column=column, table=table, parts=parts))
            else:
                notes[code].append(Note("outflow_summed_without", column=column, table=table, parts=parts,
                                        names=list(sub.index[~ok])))
        df[s_name] = [_sum(list(vals.loc[groups[c], stock_col])) if c in groups else float("nan") for c in df.index]
        df[n_name] = [_sum(list(vals.loc[groups[c], n_col])) if c in groups else float("nan") for c in df.index]
        df[p_name] = [pct.get(c, float("nan")) for c in df.index]
        described = {n: {"recipients_n": _count(float(vals.loc[n, stock_col])),
                         "outflow_n": _count(float(vals.loc[n, n_col]))} for n in splits}
        for code, lst in _split_notes(splits, codes_2024, "split_outflow", column, table, described).items():
            notes[code].extend(lst)
        for c in df.index:
            if c not in groups:
                notes[c].append(Note("unmapped", column=column, year=byear))
        un_n = {n: float(vals.loc[n, n_col]) for n in splits}
        un_s = {n: float(vals.loc[n, stock_col]) for n in splits}
        checks[n_name] = {"cbs_national": _national(table, rc, n_col, {"Leeftijd": OUTFLOW_AGE}),
                          "sum_of_source_municipalities": float(vals[n_col].sum()),
                          "sum_of_2024_municipalities": float(df[n_name].sum()),
                          "unallocated_splits": un_n}
        checks[s_name] = {"cbs_national": _national(table, rc, stock_col, {"Leeftijd": OUTFLOW_AGE}),
                          "sum_of_source_municipalities": float(vals[stock_col].sum()),
                          "sum_of_2024_municipalities": float(df[s_name].sum()),
                          "unallocated_splits": un_s}

    df["notes"] = [Notes(notes[c]) for c in df.index]
    df = df.reset_index(drop=True)
    df = df[["gm_code", "name", "province", "province_code", "arbeidsmarktregio", "arbeidsmarktregio_code",
             "size_class", "size_class_code", "urbanisation", "urbanisation_code"]
            + [c for c in COLUMN_SOURCES if c in df.columns and c not in GEBIEDEN_2024_COLUMNS and c != "notes"]
            + ["notes"]]
    _validate(df, checks)
    if write:
        out = cbs.processed_dir()
        out.mkdir(parents=True, exist_ok=True)
        df.assign(notes=[n.to_json() for n in df["notes"]]).to_csv(out / CSV_NAME, index=False, float_format="%.10g")
        (out / PROVENANCE_NAME).write_text(json.dumps(_provenance(df, checks), indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
        _cached_table.cache_clear()
    return df


def _validate(df: "pd.DataFrame", checks: dict) -> None:
    if len(df) != N_MUNICIPALITIES_2024:
        raise InputError(f"expected {N_MUNICIPALITIES_2024} municipalities", field="rows", value=len(df),
                         fix="use the 2024 CBS lists")
    if df["gm_code"].isna().any() or df["gm_code"].duplicated().any():
        raise InputError("missing or duplicate GM codes", field="gm_code",
                         value=list(df.loc[df["gm_code"].duplicated(), "gm_code"])[:5], fix="check 85755NED")
    if checks["bijstand_2024_total"]["cbs_national"] != NATIONAL_BIJSTAND_2024:
        raise InputError("CBS national bijstand total for 2024 changed", file=TABLE_FVW,
                         field=FVW_COLUMNS["bijstand_2024_total"], value=checks["bijstand_2024_total"]["cbs_national"],
                         fix=f"expected {NATIONAL_BIJSTAND_2024}; use the Definitief 2024 rows")
    bound = 5 * N_MUNICIPALITIES_2024
    diff = abs(checks["bijstand_2024_total"]["sum_of_municipalities"] - NATIONAL_BIJSTAND_2024)
    if diff > bound:
        raise InputError("sum of municipal bijstand 2024 is further from the CBS total than rounding allows",
                         file=TABLE_FVW, value=diff, fix="check for missing or duplicated municipalities")
    for name, chk in checks.items():
        if "sum_of_source_municipalities" in chk:
            kept = chk["sum_of_2024_municipalities"] + sum(chk["unallocated_splits"].values())
            if abs(kept - chk["sum_of_source_municipalities"]) > 1e-6:
                raise InputError("linking to 2024 municipalities lost or duplicated values", field=name,
                                 value=(kept, chk["sum_of_source_municipalities"]),
                                 fix="check BOUNDARY_CHANGES")


def _provenance(df: "pd.DataFrame", checks: dict) -> dict:
    tables = sorted({s["table"] for s in COLUMN_SOURCES.values() if s["table"] != "-"} | set(GEBIEDEN.values()))
    return {
        "output": f"data/processed/{CSV_NAME}",
        "built": _dt.datetime.now().isoformat(timespec="seconds"),
        "builder": "mkba.municipalities.build_municipalities",
        "rows": len(df),
        "licence": f"CBS data {cbs.LICENCE}; attribute as 'Bron: CBS StatLine, tabel <ID>'",
        "sources": [{"table": t, "attribution": cbs.source_label(t), "sha256": cbs.file_sha256(t)} for t in tables],
        "columns": COLUMN_SOURCES,
        "boundary_changes": {
            "source": BOUNDARY_CHANGES_SOURCE,
            "changes": [{"date": c.date.isoformat(), "kind": c.kind, "predecessors": list(c.predecessors),
                         "successor": c.successor, "recipients": list(c.recipients)} for c in BOUNDARY_CHANGES],
            "rules": "merged: sum of predecessors (noted); split: not allocated, recipients noted; "
                     "missing: NaN with a note, never 0",
        },
        "checks": checks,
        "missing_values": {c: int(df[c].isna().sum()) for c in df.columns if df[c].dtype.kind == "f"},
    }


# ---------------------------------------------------------------------------------------------
# loading and lookup
# ---------------------------------------------------------------------------------------------
def load_municipalities() -> "pd.DataFrame":
    """``data/processed/municipalities.csv`` as a DataFrame (built if missing)."""
    import pandas as pd

    path = cbs.processed_dir() / CSV_NAME
    if not path.exists():
        return build_municipalities(write=True)
    df = pd.read_csv(path, dtype={"gm_code": str, "province_code": str, "arbeidsmarktregio_code": str},
                     keep_default_na=True)
    try:
        df["notes"] = [Notes.from_json(n) for n in df["notes"]]    # JSON in the file (mkba.notes)
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"the notes column is not the JSON this version of mkba writes ({exc})", file=str(path),
                         field="notes", fix="rebuild the file: python -c \"from mkba import municipalities; "
                                            "municipalities.build_municipalities(write=True)\"") from None
    return df


@lru_cache(maxsize=2)
def _cached_table(path_key: str) -> "pd.DataFrame":
    return load_municipalities()


def municipalities_table() -> "pd.DataFrame":
    """:func:`load_municipalities`' table, read once per process and data folder and shared by every
    caller: select from it, never change it in place (a municipal report's peer table read the CSV
    anew each time: about 3 % of its kernel's time, py-spy, 2026-12-03)."""
    return _cached_table(str(cbs.processed_dir() / CSV_NAME))


_CODE_RE = re.compile(r"^(?:gm)?\s*(\d{1,4})$", re.IGNORECASE)

#: Everyday names that differ from the CBS name (not numbers; lookup convenience only).
ALIASES = {"den haag": "'s-Gravenhage", "the hague": "'s-Gravenhage", "den bosch": "'s-Hertogenbosch",
           "s-gravenhage": "'s-Gravenhage", "s-hertogenbosch": "'s-Hertogenbosch"}


def _former(query: str) -> BoundaryChange | None:
    key = normalise_name(query)
    for ch in BOUNDARY_CHANGES:
        if ch.kind == "rename" and normalise_name(ch.predecessors[0]) == key:
            return ch
        if ch.kind in ("merge", "split") and key in {normalise_name(p) for p in ch.predecessors}:
            if ch.kind == "merge" and normalise_name(ch.successor) == key:
                continue  # absorbing municipality keeps its name
            return ch
    return None


_PROVINCE_MARK_RE = re.compile(r"\s*\([a-z]{1,3}\.\)$")


@lru_cache(maxsize=1)
def former_codes() -> dict[str, tuple[str, int]]:
    """GM code -> (name, last year listed) for municipalities in the CBS lists of 2019-2023
    (:data:`GEBIEDEN`) that no longer exist in 2024 (e.g. ``GM0856`` -> ``("Uden", 2021)``)."""
    current = set(_gebieden_codes(2024).values())
    out: dict[str, tuple[str, int]] = {}
    for year in sorted(GEBIEDEN):
        if year == 2024:
            continue
        df = cbs.read_table(GEBIEDEN[year])
        for name, code in zip(df["Naam_2"], df["Code_1"]):
            code = str(code).strip()
            if code.startswith("GM") and code not in current:
                out[code] = (str(name).strip(), year)
    return out


def _raise_former(name: str, query: Any, codes: dict[str, str], label: str | None = None) -> None:
    """Raise the 'merged into / renamed / split over' error for a former municipality ``name``."""
    former = _former(name)
    if former is None:
        return
    what = label or f"'{name}'"

    def with_code(n: str) -> str:
        c = codes.get(normalise_name(n))
        return f"{n} ({c})" if c else n

    if former.kind == "split":
        target = ", ".join(with_code(r) for r in former.recipients)
        fix = ("its territory went to several municipalities: say which one you mean, one of "
               + ", ".join(f"'{r}'" for r in former.recipients))
    else:
        target = with_code(former.successor)
        c = codes.get(normalise_name(former.successor))
        fix = f"use '{former.successor}'" + (f" or '{c}'" if c else "")
    verb = {"merge": "merged into", "rename": "was renamed", "split": "was split over"}[former.kind]
    raise InputError(f"{what} is not a municipality of 2024: it {verb} {target} on {former.date.isoformat()}",
                     field="municipality", value=query, fix=fix)


_NAME_KEYS: dict[int, tuple] = {}


def _name_keys(df: "pd.DataFrame") -> tuple[list[str], dict[str, int]]:
    """``normalise_name`` of every name in ``df`` and each GM code's row position, computed once per
    table object (a report looks municipalities up hundreds of times: peers, scenarios, the batch's
    shared draws)."""
    hit = _NAME_KEYS.get(id(df))
    if hit is None or hit[0] is not df or len(hit[1]) != len(df):
        positions: dict[str, int] = {}
        for i, code in enumerate(df["gm_code"]):
            positions.setdefault(str(code), i)
        hit = (df, [normalise_name(n) for n in df["name"]], positions)
        _NAME_KEYS.clear()
        _NAME_KEYS[id(df)] = hit
    return hit[1], hit[2]


def _lookup_index(df: "pd.DataFrame", query: Any) -> int:
    if not isinstance(query, str) or not query.strip():
        raise InputError("a municipality must be given as a GM code or a name", field="municipality",
                         value=query, fix="e.g. 'GM0363', '0363' or 'Amsterdam'")
    q = query.strip()
    keys, positions = _name_keys(df)
    if m := _CODE_RE.match(q):
        code = f"GM{int(m.group(1)):04d}"
        if code in positions:
            return positions[code]
        codes = dict(zip(keys, df["gm_code"]))
        old = former_codes().get(code)
        if old is not None:
            _raise_former(old[0], query, codes, label=f"{code} ({old[0]}, CBS list {old[1]} {GEBIEDEN[old[1]]})")
        raise InputError("no municipality with this code in 2024", field="municipality", value=query,
                         fix="use a GM code of the 342 municipalities of 2024 (see data/processed/municipalities.csv);"
                             " codes of municipalities dissolved before 2019 are not in the CBS lists held: give the "
                             "name instead")
    key = normalise_name(q)
    key = normalise_name(ALIASES.get(key, key))
    if key in keys:
        return keys.index(key)
    # "Bergen" -> "Bergen (L.)" / "Bergen (NH.)": CBS adds a province mark to names that occur twice
    marked = [i for i, k in enumerate(keys) if _PROVINCE_MARK_RE.sub("", k) == key]
    if len(marked) == 1:
        return marked[0]
    if len(marked) > 1:
        opts = [f"'{df['name'].iloc[i]}' ({df['gm_code'].iloc[i]}, {df['province'].iloc[i]})" for i in marked]
        raise InputError(f"'{q}' is ambiguous: {' and '.join(opts)} are both municipalities", field="municipality",
                         value=query, fix="say which: give " + " or ".join(opts) + " (name or GM code)")
    _raise_former(q, query, dict(zip(keys, df["gm_code"])))
    hits = closest(key, keys)
    names = [df["name"].iloc[keys.index(h)] for h in hits]
    raise InputError("unknown municipality", field="municipality", value=query,
                     fix=("did you mean " + " or ".join(f"'{n}'" for n in names) + "?") if names
                     else "give a GM code (e.g. 'GM0363') or a 2024 municipality name")


def find_municipality(query: str) -> dict[str, Any]:
    """One municipality as a dict, by GM code (``"GM0363"``, ``"0363"``) or name (case- and accent-insensitive).

    Unknown input raises :class:`~mkba.errors.InputError` with the closest names; a former
    municipality (e.g. ``"Weesp"``) raises naming its successor.
    """
    df = municipalities_table()
    return df.iloc[_lookup_index(df, query)].to_dict()


def select_municipalities(spec: str | Iterable[str]) -> "pd.DataFrame":
    """Municipalities selected by a list of ``"all"``, GM codes, names, provinces and arbeidsmarktregio's.

    An arbeidsmarktregio is given as its ``AMxx`` code, ``"arbeidsmarktregio <name>"``,
    ``"<name> (AM)"`` or its bare name when no municipality or province has that name
    (``"Rijnmond"``; ``"Groningen"`` is the municipality, ``"arbeidsmarktregio Groningen"`` the region).

    Provinces are given as their name (``"Limburg"``), ``"provincie <name>"``, ``"<name> (PV)"``
    or a ``PVxx`` code. Groningen and Utrecht are both a municipality and a province: a bare
    name means the municipality; use ``"provincie Utrecht"`` for the province. The result keeps
    the order of ``spec`` and holds each municipality once.
    """
    df = municipalities_table()
    items = [spec] if isinstance(spec, str) else list(spec or [])
    if not items:
        raise InputError("empty municipality selection", field="municipalities", value=spec,
                         fix="give 'all', GM codes, names or provinces")
    prov_names = {normalise_name(p): p for p in df["province"].unique()}
    prov_names.setdefault(normalise_name("Friesland"), "Fryslân")
    prov_codes = {c.upper(): p for c, p in zip(df["province_code"], df["province"])}
    muni_keys = {normalise_name(n) for n in df["name"]}
    amr_names = {normalise_name(a): a for a in df["arbeidsmarktregio"].unique()}
    amr_codes = {c.upper(): a for c, a in zip(df["arbeidsmarktregio_code"], df["arbeidsmarktregio"])}
    order: list[int] = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise InputError("a selection item must be a non-empty text", field="municipalities", value=item,
                             fix="give 'all', GM codes, names or provinces")
        text = item.strip()
        low = normalise_name(text)
        if low == "all":
            rows = list(range(len(df)))
        elif text.upper() in prov_codes:
            rows = list(df.index[df["province"] == prov_codes[text.upper()]])
        elif text.upper() in amr_codes:
            rows = list(df.index[df["arbeidsmarktregio"] == amr_codes[text.upper()]])
        elif (am := re.match(r"^(?:arbeidsmarktregio|labour market region)\s+(.+)$", low)
              or re.match(r"^(.+?)\s*\(am\)$", low)) or (low in amr_names and low not in muni_keys
                                                         and low not in prov_names):
            akey = am.group(1) if am else low
            if akey not in amr_names:
                raise InputError("unknown arbeidsmarktregio", field="municipalities", value=item,
                                 fix="did you mean " + " or ".join(f"'{amr_names[h]}'" for h in closest(akey, amr_names))
                                     + "?" if closest(akey, amr_names) else "give an AM code, e.g. 'AM22'")
            rows = list(df.index[df["arbeidsmarktregio"] == amr_names[akey]])
        else:
            m = re.match(r"^(?:provincie|province)\s+(.+)$", low) or re.match(r"^(.+?)\s*\(pv\)$", low)
            pkey = m.group(1) if m else (low if low in prov_names and low not in muni_keys else None)
            if pkey is not None:
                if pkey not in prov_names:
                    raise InputError("unknown province", field="municipalities", value=item,
                                     fix=f"did you mean {closest(pkey, prov_names) or sorted(prov_names.values())}?")
                rows = list(df.index[df["province"] == prov_names[pkey]])
            else:
                try:
                    rows = [_lookup_index(df, text)]
                except InputError as exc:
                    prov_hits = [prov_names[h] for h in closest(low, prov_names)]
                    if not prov_hits or exc.problem != "unknown municipality":
                        raise
                    raise InputError("unknown municipality or province", field="municipalities", value=item,
                                     fix=f"{exc.fix}; provinces: did you mean "
                                         + " or ".join(f"'{p}'" for p in prov_hits) + "?") from None
        order.extend(r for r in rows if r not in order)
    return df.iloc[order].reset_index(drop=True)

"""Reading the raw CBS StatLine CSV exports in ``data/raw/cbs/``.

The files are byte-identical copies of CBS StatLine exports (see ``data/raw/cbs/README.md``
for attribution: "Bron: CBS StatLine, tabel <ID>", licence CC BY 4.0). Their format has a few
traps that every reader here handles:

* UTF-8 **with BOM**, ``;`` separated, ``.`` decimal, an empty field means "no value";
* dimension columns hold CBS *labels* (``RegioS = "Amsterdam"``), padded with spaces;
* measure columns end in ``_<n>`` (``TotaalBijstandsuitkeringen_22``); some measures are
  text (``Code_1 = "GM0363    "`` in the municipality lists) and stay text;
* ``Perioden`` labels come in several shapes: ``"2019"``, ``"2019 januari"``,
  ``"2019 1e kwartaal"``, ``"2024*"`` (provisional) and Sept-to-Sept windows
  ``"28 september 2001 tot 27 september 2002"``;
* files with exactly 10,000 data rows were cut at the CBS API page limit (TRUNCATED): only
  their leading (total) rows are complete. :func:`read_table` flags them in
  ``df.attrs["truncated"]`` and :func:`select` refuses to return rows past the cut that
  could be incomplete only when asked to (``complete=True``).

The data directory is ``<repo>/data`` or the directory named by the environment variable
``MKBA_DATA_DIR`` (which must point at a ``data/`` directory containing ``raw/cbs``).

pandas is imported inside the functions so that ``import mkba.cbs`` stays cheap.
"""
from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError, closest

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Row count at which CBS API exports were cut off (see data/raw/cbs/README.md).
CBS_PAGE_LIMIT = 10_000

#: Where the shared originals came from (data/raw/cbs/README.md, copied from the shared README).
ORIGIN = ("GitHub dump dertje/cbs_datasets, commit 388b47d2e085d621c290a4d8950942744b0bc0bf, "
          "path output_files/all_datasets/<TABLEID>.csv")
LICENCE = "CC BY 4.0"

MONTHS_NL = {
    "januari": 1, "februari": 2, "maart": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7,
    "augustus": 8, "september": 9, "oktober": 10, "november": 11, "december": 12,
}

_MEASURE_RE = re.compile(r"_\d+$")
_MISSING_TOKENS = {"", ".", "-", "x", "?"}


# ---------------------------------------------------------------------------------------------
# locations
# ---------------------------------------------------------------------------------------------
def repo_root() -> Path:
    """The repository root (``src/mkba/cbs.py`` -> two levels up from the package)."""
    return Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """``$MKBA_DATA_DIR`` if set, else ``<repo>/data``."""
    env = os.environ.get("MKBA_DATA_DIR")
    return Path(env).expanduser() if env else repo_root() / "data"


def raw_dir() -> Path:
    """Directory holding the raw CBS CSVs (``<data>/raw/cbs``)."""
    return data_dir() / "raw" / "cbs"


def processed_dir() -> Path:
    """Directory for derived data (``<data>/processed``)."""
    return data_dir() / "processed"


def available_tables() -> list[str]:
    """Table ids present in :func:`raw_dir` (file stems, as spelled on disk)."""
    d = raw_dir()
    if not d.is_dir():
        return []
    return sorted(p.stem for p in d.glob("*.csv"))


def table_path(table_id: str) -> Path:
    """Path of ``<table_id>.csv`` in :func:`raw_dir`, matched case-insensitively.

    CBS spells some ids in lower case (``80590ned``, ``37789ksz``); callers may use either.
    """
    if not isinstance(table_id, str) or not table_id.strip():
        raise InputError("a CBS table id must be a non-empty string", field="table_id",
                         value=table_id, fix="pass an id such as '85383NED'")
    want = table_id.strip().lower().removesuffix(".csv")
    tables = available_tables()
    for stem in tables:
        if stem.lower() == want:
            return raw_dir() / f"{stem}.csv"
    hits = closest(table_id, tables)
    hint = ("did you mean " + " or ".join(hits) + "?") if hits else (
        "copy the byte-identical CSV from ../shared/data/cbs/ (beside the checkout) into data/raw/cbs/ and list it "
        "in data/raw/cbs/README.md")
    raise InputError(f"CBS table '{table_id}' not found in {raw_dir()}", field="table_id",
                     value=table_id, fix=hint)


def source_label(table_id: str) -> str:
    """The attribution CBS asks for: ``"Bron: CBS StatLine, tabel <ID>"``."""
    return f"Bron: CBS StatLine, tabel {table_id}"


# ---------------------------------------------------------------------------------------------
# periods
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """A parsed CBS ``Perioden`` label.

    ``kind`` is ``"year"``, ``"quarter"``, ``"month"`` or ``"range"``. ``year`` is the calendar
    year for year/quarter/month labels and the *end* year for ranges (a Sept 2001 - Sept 2002
    window is year 2002: 9 of its 12 months fall in 2002). ``start``/``end`` are inclusive
    dates. ``provisional`` is True for labels marked ``*`` by CBS.
    """

    label: str
    kind: str
    year: int
    start: _dt.date
    end: _dt.date
    quarter: int | None = None
    month: int | None = None
    provisional: bool = False


_YEAR_RE = re.compile(r"^(\d{4})$")
_QUARTER_RE = re.compile(r"^(\d{4}) ([1-4])e kwartaal$")
_MONTH_RE = re.compile(r"^(\d{4}) ([a-z]+)$")
_DATE = r"(\d{1,2}) ([a-z]+) (\d{4})"
_RANGE_RE = re.compile(rf"^{_DATE} tot {_DATE}$")


def _date(day: str, month: str, year: str, label: str) -> _dt.date:
    if month not in MONTHS_NL:
        raise InputError("unknown Dutch month name in CBS period label", field="Perioden",
                         value=label, fix="months are spelled januari ... december")
    return _dt.date(int(year), MONTHS_NL[month], int(day))


@lru_cache(maxsize=4096)
def parse_period(label: str) -> Period:
    """Parse a CBS ``Perioden`` label (see :class:`Period`).

    >>> parse_period("2019 1e kwartaal").start
    datetime.date(2019, 1, 1)
    >>> parse_period("28 september 2001 tot 27 september 2002").year
    2002
    """
    if not isinstance(label, str):
        raise InputError("a CBS period label must be text", field="Perioden", value=label,
                         fix="pass e.g. '2019', '2019 januari', '2019 1e kwartaal'")
    raw = label
    text = " ".join(label.strip().lower().split())
    provisional = text.endswith("*")
    text = text.rstrip("*").strip()
    if m := _YEAR_RE.match(text):
        y = int(m.group(1))
        return Period(raw.strip(), "year", y, _dt.date(y, 1, 1), _dt.date(y, 12, 31),
                      provisional=provisional)
    if m := _QUARTER_RE.match(text):
        y, q = int(m.group(1)), int(m.group(2))
        start = _dt.date(y, 3 * q - 2, 1)
        end = (_dt.date(y + 1, 1, 1) if q == 4 else _dt.date(y, 3 * q + 1, 1)) - _dt.timedelta(days=1)
        return Period(raw.strip(), "quarter", y, start, end, quarter=q, provisional=provisional)
    if m := _MONTH_RE.match(text):
        y, name = int(m.group(1)), m.group(2)
        if name not in MONTHS_NL:
            raise InputError("unknown Dutch month name in CBS period label", field="Perioden",
                             value=raw, fix="months are spelled januari ... december")
        mo = MONTHS_NL[name]
        end = (_dt.date(y + 1, 1, 1) if mo == 12 else _dt.date(y, mo + 1, 1)) - _dt.timedelta(days=1)
        return Period(raw.strip(), "month", y, _dt.date(y, mo, 1), end, month=mo,
                      provisional=provisional)
    if m := _RANGE_RE.match(text):
        start = _date(m.group(1), m.group(2), m.group(3), raw)
        end = _date(m.group(4), m.group(5), m.group(6), raw)
        if end < start:
            raise InputError("CBS period range ends before it starts", field="Perioden",
                             value=raw, fix="check the label")
        return Period(raw.strip(), "range", end.year, start, end, provisional=provisional)
    raise InputError("unrecognised CBS period label", field="Perioden", value=raw,
                     fix="expected '2019', '2019 januari', '2019 1e kwartaal', '2024*' or "
                         "'28 september 2001 tot 27 september 2002'")


def add_period_columns(df: "pd.DataFrame", column: str = "Perioden") -> "pd.DataFrame":
    """Return ``df`` with parsed period columns added.

    Adds ``period_kind``, ``year``, ``quarter``, ``month``, ``period_start``, ``period_end``
    and ``provisional`` (quarter/month are NaN where they do not apply).
    """
    import pandas as pd

    if column not in df.columns:
        raise InputError("no period column in CBS table", field=column,
                         fix=f"columns are {list(df.columns)[:8]}...")
    parsed = [parse_period(v) for v in df[column].astype(str)]
    out = df.copy()
    out["period_kind"] = [p.kind for p in parsed]
    out["year"] = [p.year for p in parsed]
    out["quarter"] = pd.array([p.quarter for p in parsed], dtype="Int64")
    out["month"] = pd.array([p.month for p in parsed], dtype="Int64")
    out["period_start"] = pd.to_datetime([p.start for p in parsed])
    out["period_end"] = pd.to_datetime([p.end for p in parsed])
    out["provisional"] = [p.provisional for p in parsed]
    return out


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------
def is_measure(column: str) -> bool:
    """CBS measure columns end in ``_<n>``; dimension columns (and ``ID``) do not."""
    return bool(_MEASURE_RE.search(column))


def _to_number(series: "pd.Series") -> "pd.Series":
    """Convert a stripped text column to float if every filled value is a number."""
    import pandas as pd

    filled = series.notna() & ~series.isin(list(_MISSING_TOKENS))
    nums = pd.to_numeric(series.where(filled), errors="coerce")
    if bool((nums.isna() & filled).any()):
        return series  # real text (e.g. 'GM0363'); keep it
    return nums.astype(float)


def read_table(table_id: str, *, usecols: list[str] | None = None) -> "pd.DataFrame":
    """Read a raw CBS CSV into a clean DataFrame.

    * strips the BOM (``utf-8-sig``) and the padding of every text value;
    * converts measure columns (``..._<n>``) to float where they are numeric;
      empty fields (and CBS's ``.``/``-``/``x`` markers) become NaN, never 0;
    * keeps dimension columns (``Perioden``, ``RegioS``, ...) as stripped text;
    * ``df.attrs`` holds ``table_id``, ``path``, ``source`` (the attribution line) and
      ``truncated`` (True when the file has exactly 10,000 rows: the CBS page limit).

    Parsed tables are cached per file (path, size, modification time); every call returns a
    fresh copy. Bad ids raise :class:`~mkba.errors.InputError` with close matches; missing
    requested columns raise with the closest available ones.
    """
    path = table_path(table_id)
    st = path.stat()
    df = _read_cached(str(path), st.st_size, st.st_mtime_ns).copy()
    df.attrs = dict(df.attrs)
    if usecols is not None:
        missing = [c for c in usecols if c not in df.columns]
        if missing:
            hint = "; ".join(f"{m}: did you mean {closest(m, df.columns) or 'n/a'}" for m in missing)
            raise InputError("column(s) not in CBS table", file=str(path), field=", ".join(missing),
                             fix=hint)
        attrs = df.attrs
        df = df[list(usecols)].copy()
        df.attrs = attrs
    return df


@lru_cache(maxsize=64)
def _read_cached(path_str: str, size: int, mtime_ns: int) -> "pd.DataFrame":
    import pandas as pd

    path = Path(path_str)
    try:
        with path.open(encoding="utf-8-sig") as fh:
            header = [c.strip() for c in fh.readline().rstrip("\r\n").split(";")]
        text_cols = {c: str for c in header if not is_measure(c)}
        df = pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=text_cols, keep_default_na=False,
                         na_values=[""], skipinitialspace=True)
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"cannot parse CBS CSV ({exc.__class__.__name__}: {exc})", file=str(path),
                         fix="use the byte-identical CBS export (UTF-8 with BOM, ';' separated)") from exc
    df.columns = [c.strip() for c in df.columns]
    for col in df.columns:
        s = df[col]
        if s.dtype.kind in "biuf":
            df[col] = s.astype(float) if is_measure(col) else s
            continue
        s = s.astype("string").str.strip().astype(object)
        s = s.mask(s.isna() | (s == ""))
        if is_measure(col):
            s = _to_number(s)
        df[col] = s if s.dtype.kind == "f" else s.astype("str")
    if "ID" in df.columns:
        df["ID"] = pd.to_numeric(df["ID"], errors="coerce").astype("Int64")
    stem = path.stem
    df.attrs.update({"table_id": stem, "path": str(path), "source": source_label(stem),
                     "truncated": len(df) == CBS_PAGE_LIMIT, "rows": len(df)})
    return df


def select(df: "pd.DataFrame", **conditions: Any) -> "pd.DataFrame":
    """Rows of ``df`` where every ``column=label`` holds; labels are checked, not guessed.

    A condition value may be a single label or a list/tuple of labels. An unknown column or a
    label that does not occur raises :class:`~mkba.errors.InputError` with close matches, so a
    typo in a CBS label never yields a silently empty selection.
    """
    table = df.attrs.get("table_id", "CBS table")
    mask = None
    for col, want in conditions.items():
        if col not in df.columns:
            raise InputError("no such column in CBS table", file=table, field=col,
                             fix=f"did you mean {closest(col, df.columns) or list(df.columns)[:6]}?")
        labels = list(want) if isinstance(want, (list, tuple, set)) else [want]
        present = set(df[col].dropna().unique())
        for lab in labels:
            if lab not in present:
                raise InputError("label not found in CBS column", file=table, field=col,
                                 value=lab, fix=f"did you mean {closest(str(lab), map(str, present)) or 'one of ' + str(sorted(map(str, present))[:6])}?")
        m = df[col].isin(labels)
        mask = m if mask is None else (mask & m)
    out = df if mask is None else df[mask]
    out = out.copy()
    out.attrs = dict(df.attrs)
    return out


def _series(df: "pd.DataFrame", value: str, column: str, kind: str, levels: tuple[str, ...]) -> "pd.Series":
    """The rows of one period ``kind`` (``year``, ``month``, ``quarter``) of ``df`` as a sorted series
    indexed by ``levels`` (attributes of :func:`parse_period`); one row per period or an error."""
    import pandas as pd

    if value not in df.columns:
        raise InputError("no such column in CBS table", file=df.attrs.get("table_id"), field=value,
                         fix=f"did you mean {closest(value, df.columns)}?")
    parsed = [parse_period(p) for p in df[column]]
    keep = [p.kind == kind for p in parsed]
    keys = [tuple(getattr(p, lv) for lv in levels) for p, k in zip(parsed, keep) if k]
    idx = (pd.Index([k[0] for k in keys], name=levels[0]) if len(levels) == 1
           else pd.MultiIndex.from_tuples(keys, names=list(levels)))
    s = pd.Series(df.loc[keep, value].to_numpy(dtype=float), index=idx, name=value)
    if s.index.duplicated().any():
        raise InputError(f"more than one row per {kind}; select a single series first",
                         file=df.attrs.get("table_id"), field=value,
                         value=sorted(set(s.index[s.index.duplicated()]))[:5],
                         fix="filter the dimension columns with mkba.cbs.select(...)")
    return s.sort_index()


def yearly(df: "pd.DataFrame", value: str, column: str = "Perioden") -> "pd.Series":
    """Series ``year -> value`` from the calendar-year rows (``"2019"`` / ``"2024*"``) of ``df``.

    Duplicated years raise: the caller must first :func:`select` one row per year.
    """
    return _series(df, value, column, "year", ("year",))


def monthly(df: "pd.DataFrame", value: str, column: str = "Perioden") -> "pd.Series":
    """Series indexed by ``(year, month)`` from the monthly rows of ``df``."""
    return _series(df, value, column, "month", ("year", "month"))


def file_sha256(table_id: str) -> str:
    """SHA-256 of the raw CSV (for provenance files)."""
    import hashlib

    return hashlib.sha256(table_path(table_id).read_bytes()).hexdigest()


def quarterly(df: "pd.DataFrame", value: str, column: str = "Perioden") -> "pd.Series":
    """Series indexed by ``(year, quarter)`` from the quarterly rows (``"2019 1e kwartaal"``) of ``df``.

    Duplicated quarters raise: the caller must first :func:`select` one row per quarter.
    """
    return _series(df, value, column, "quarter", ("year", "quarter"))

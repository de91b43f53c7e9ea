"""All amounts in one stated price year, with CBS consumer prices.

A case states the year whose prices its euro amounts are in (``price_year:`` in the case file;
default: the year of its appraisal date). Every amount in euro (a model parameter whose unit
starts with ``EUR``) whose ``date`` lies in another year is expressed in prices of the price
year when the case is loaded::

    amount in prices of P = amount of year Y x CPI(P) / CPI(Y)

CPI is the yearly consumer price index, all items (2015 = 100) of CBS StatLine table 83131NED
("Consumentenprijzen; prijsindex 2015=100", ``Bestedingscategorieen = "000000 Alle
bestedingen"``, column ``CPI_1``), kept byte-identical in ``data/raw/cbs/83131NED_yearly.csv``
(Bron: CBS StatLine, tabel 83131NED, CC BY 4.0). ``reference.consumer_price_index`` in
``data/parameters/base.yaml`` names the series and its base (100 in 2015), which is checked
against the file, so a rebased file cannot slip in.

This module is the one place where euros of one year become euros of another
(:func:`convert`); :mod:`mkba.cases` calls :func:`express_in_price_year` on load. A converted
parameter is dated in the price year and its reference says what it was and by which factor,
so it is never converted twice; the case keeps the list (``case.price_conversions``) for the
report ("bedragen in prijzen van 2019").

Amounts typed on the command line (``--set``) are taken to be in the case's price year.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Mapping

from .errors import InputError

CPI_TABLE = "83131NED_yearly"           #: file stem in data/raw/cbs/
CPI_TABLE_ID = "83131NED"               #: the CBS table
CPI_CATEGORY = "000000 Alle bestedingen"
CPI_COLUMN = "CPI_1"
CPI_REFERENCE = "reference.consumer_price_index"   #: the base check in data/parameters/base.yaml
SOURCE = f"CBS StatLine {CPI_TABLE_ID}, CPI all items (2015 = 100)"
_YEAR_RE = re.compile(r"^(\d{4})(?:-\d{2}(?:-\d{2})?)?$")


@dataclass(frozen=True)
class PriceConversion:
    """One amount expressed in the price year: ``value_after = value_before * factor``."""

    parameter: str
    from_year: int
    to_year: int
    cpi_from: float
    cpi_to: float
    factor: float
    value_before: float
    value_after: float
    source: str = SOURCE

    def as_dict(self) -> dict:
        return {"parameter": self.parameter, "from_year": self.from_year, "to_year": self.to_year,
                "cpi_from": self.cpi_from, "cpi_to": self.cpi_to, "factor": self.factor,
                "value_before": self.value_before, "value_after": self.value_after, "source": self.source}


@lru_cache(maxsize=4)
def _cpi_cached(path: str, _size: int, _mtime_ns: int) -> dict[int, float]:
    from . import cbs

    df = cbs.select(cbs.read_table(CPI_TABLE, usecols=["Bestedingscategorieen", "Perioden", CPI_COLUMN]),
                    Bestedingscategorieen=CPI_CATEGORY)
    series = cbs.yearly(df, CPI_COLUMN).dropna()
    return {int(y): float(v) for y, v in series.items()}


def cpi() -> dict[int, float]:
    """Yearly CPI (2015 = 100), year -> index, from ``data/raw/cbs/83131NED_yearly.csv``."""
    from . import cbs

    path = cbs.table_path(CPI_TABLE)
    st = path.stat()
    return dict(_cpi_cached(str(path), st.st_size, st.st_mtime_ns))


def cpi_years() -> tuple[int, int]:
    years = sorted(cpi())
    return years[0], years[-1]


def check_year(year, *, file: str | None = None, field: str = "price_year", what: str = "price year") -> int:
    """``year`` as an int if the CPI covers it, else an error naming the field and the years covered."""
    lo, hi = cpi_years()
    if isinstance(year, bool) or not isinstance(year, int) or not lo <= year <= hi:
        raise InputError(f"the {what} {year!r} is outside the CBS consumer price data ({lo}-{hi})", file=file,
                         field=field, value=year,
                         fix=f"choose a year from {lo} to {hi} (CBS {CPI_TABLE_ID}, data/raw/cbs/{CPI_TABLE}.csv), "
                             "or add the newer yearly CPI rows to that file")
    return year


def factor(from_year: int, to_year: int) -> float:
    """CPI(to_year) / CPI(from_year): what one euro of ``from_year`` is in prices of ``to_year``."""
    check_year(from_year, field="from_year", what="year")
    check_year(to_year, field="to_year", what="year")
    index = cpi()
    return index[to_year] / index[from_year]


def convert(amount: float, from_year: int, to_year: int) -> float:
    """``amount`` euro of ``from_year`` in prices of ``to_year`` (CBS CPI, all items)."""
    return amount * factor(from_year, to_year)


def is_amount(unit: str) -> bool:
    """A parameter in euro (``EUR``, ``EUR/person-year``, ...): the ones a price year applies to."""
    return unit == "EUR" or unit.startswith("EUR/")


def amount_year(name: str, date: str | None, *, file: str | None = None) -> int:
    """The year whose prices an amount dated ``date`` is in (``2019`` or ``2016-04-01``)."""
    m = _YEAR_RE.match(str(date or "").strip())
    if not m:
        raise InputError(f"an amount in euro needs the year its prices are in, not the date {date!r}", file=file,
                         field=name, value=date,
                         fix="write date: <year> (e.g. date: 2019), the year whose price level the amount is in")
    return int(m.group(1))


def check_base(params: Mapping) -> None:
    """``reference.consumer_price_index`` (value = index in its base year) must match the CPI file."""
    ref = params.get(CPI_REFERENCE)
    if ref is None:
        return
    year = amount_year(CPI_REFERENCE, ref.date, file=ref.source_file)
    have = cpi().get(year)
    if have is None or abs(have - ref.value) > 1e-9:
        raise InputError(f"the CPI file gives {have} for {year}, the parameter set says {ref.value:g} (base of the index)",
                         file=ref.source_file, field=CPI_REFERENCE, value=have,
                         fix=f"use the byte-identical CBS {CPI_TABLE_ID} export (2015 = 100) in data/raw/cbs/{CPI_TABLE}.csv")


def express_in_price_year(params: Mapping, price_year: int, *, names=None, file: str | None = None):
    """``(params, conversions)``: every amount (of ``names``, default all) in prices of ``price_year``.

    Only model parameters in euro (:func:`is_amount`) dated in another year change; a converted
    parameter is dated ``price_year`` (so it is never converted twice), its value and sensitivity
    range are multiplied by the CPI factor, and its reference says from what and by how much.
    """
    from .schema import SCHEMA

    check_year(price_year, file=file)
    check_base(params)
    out = dict(params)
    done: list[PriceConversion] = []
    for name in (params if names is None else names):
        p = params.get(name)
        if p is None or name not in SCHEMA or p.value is None or not is_amount(p.unit):
            continue
        year = amount_year(name, p.date, file=p.source_file or file)
        if year == price_year:
            continue
        check_year(year, file=p.source_file or file, field=f"{name}.date", what="year of the amount")
        f = factor(year, price_year)
        index = cpi()
        conv = PriceConversion(parameter=name, from_year=year, to_year=price_year, cpi_from=index[year],
                               cpi_to=index[price_year], factor=f, value_before=p.value, value_after=p.value * f)
        out[name] = replace(
            p, value=p.value * f, date=str(price_year),
            low=None if p.low is None else p.low * f, high=None if p.high is None else p.high * f,
            reference=(f"{p.reference} [{p.value:g} {p.unit} of {year} in prices of {price_year}: x {f:.4f} = "
                       f"CPI {index[price_year]:g} / {index[year]:g}, {SOURCE}]"))
        done.append(conv)
    return out, done


def price_year_note(price_year: int, lang: str = "nl") -> str:
    """The sentence a report states its amounts with: "bedragen in prijzen van 2019"."""
    if lang == "nl":
        return f"bedragen in prijzen van {price_year} (CPI, CBS {CPI_TABLE_ID})"
    return f"amounts in prices of {price_year} (CPI, CBS {CPI_TABLE_ID})"

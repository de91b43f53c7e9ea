"""Dutch / English number formats and report labels.

Reports are Dutch by default (``lang="nl"``, locale nl_NL) and English with
``lang="en"`` (locale en_GB).  All numbers go through babel, rounded half up
(the way people round money by hand), and use plain ASCII spaces so the strings
are easy to compare in tests and spreadsheets.

>>> eur(133000)
'€ 133.000'
>>> eur(-91000)
'€ -91.000'
>>> eur(133000, "en")
'€133,000'
>>> pct(0.053)
'5,3 %'
>>> pct(0.053, "en")
'5.3%'
>>> number(float("nan"))
'n.v.t.'

Conventions (kept consistent everywhere):

* negative money: the sign sits after the euro sign in Dutch (``€ -91.000``,
  CLDR nl) and before it in English (``-€91,000``, CLDR en);
* missing values (``None``, NaN) print as ``n.v.t.`` / ``n/a``;
* ``pct`` takes a *fraction* (0.053 -> 5,3 %); ``pp`` takes a fraction too and
  prints percentage points (0.02 -> 2,0 procentpunt).

``label(key, lang)`` translates report headings, metric names, actor names and
scenario names; an unknown key raises ``KeyError`` naming the key.
"""
from __future__ import annotations

import datetime as _dt
import functools
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Mapping

__all__ = [
    "LANGS", "LOCALES", "MISSING", "check_lang", "eur", "pct", "pp", "number", "month_label",
    "label", "has_label", "labels", "format_value", "format_table",
]

from .i18n import LANGS, has_message, keys, message  # noqa: E402  (report texts: babel catalogues)

LOCALES = {"nl": "nl_NL", "en": "en_GB"}


class _Missing(Mapping):
    """``MISSING[lang]``: the word for a missing value (``n.v.t.`` / ``n/a``), from the catalogue (label ``missing``)."""

    def __getitem__(self, lang: str) -> str:
        return message("label", "missing", check_lang(lang))

    def __iter__(self):
        return iter(LANGS)

    def __len__(self) -> int:
        return len(LANGS)


MISSING: Mapping[str, str] = _Missing()

# Money patterns per language (CLDR standard patterns, with an ASCII space and no cents).
_EUR_PATTERN = {"nl": "¤ #,##0{d};¤ -#,##0{d}", "en": "¤#,##0{d}"}
_PCT_PATTERN = {"nl": "#,##0{d} %", "en": "#,##0{d}%"}


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported, else raise :class:`mkba.errors.InputError`."""
    if lang in LOCALES:
        return lang
    from mkba.errors import InputError, did_you_mean

    raise InputError("unsupported report language", field="lang", value=lang,
                     fix="use lang='nl' (Dutch, default) or lang='en' (English); "
                     + did_you_mean(str(lang), LANGS))


def _is_missing(x: Any) -> bool:
    if x is None:
        return True
    if isinstance(x, float):
        return math.isnan(x)
    if type(x).__name__ in ("NAType", "NaTType"):  # pandas NA / NaT
        return True
    try:
        return bool(x != x)  # NaN of numpy / Decimal
    except (TypeError, ValueError):
        return False


def _as_float(x: Any) -> float:
    # numpy scalars, Decimal, int, bool -> float
    return float(x)


def _quantize(x: float, decimals: int) -> Decimal:
    """Round half up to ``decimals`` places; normalise -0 to 0."""
    q = Decimal(1).scaleb(-decimals)
    d = Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP)
    if d == 0:
        d = abs(d)
    return d


#: formatted amounts kept per process (assumption: one report or one slider session formats a few thousand
#: distinct (value, language, decimals) triples -- the interactive view formats ~120 table cells and the
#: chart's tick labels per move, most of them unchanged; an evicted entry is only formatted again)
FORMAT_CACHE_SIZE = 8192


def _decimals_suffix(decimals: int) -> str:
    if decimals < 0:
        raise ValueError(f"decimals must be >= 0, got {decimals}")
    return "." + "0" * decimals if decimals else ""


def _missing(lang: str, missing: str | None) -> str:
    return MISSING[lang] if missing is None else missing


def eur(x: Any, lang: str = "nl", decimals: int = 0, *, missing: str | None = None) -> str:
    """Euro amount: ``€ 133.000`` (nl), ``€133,000`` (en); ``€ -91.000`` / ``-€91,000``."""
    check_lang(lang)
    if _is_missing(x):
        return _missing(lang, missing)
    v = _as_float(x)
    if math.isinf(v):
        return ("-" if v < 0 else "") + "∞"
    return _eur(v, lang, decimals)


@functools.lru_cache(maxsize=FORMAT_CACHE_SIZE)
def _eur(v: float, lang: str, decimals: int) -> str:
    from babel.numbers import format_currency

    pattern = _EUR_PATTERN[lang].format(d=_decimals_suffix(decimals))
    return format_currency(_quantize(v, decimals), "EUR", format=pattern, locale=LOCALES[lang],
                           currency_digits=False)


def pct(x: Any, lang: str = "nl", decimals: int = 1, *, missing: str | None = None) -> str:
    """Percentage from a fraction: 0.053 -> ``5,3 %`` (nl) / ``5.3%`` (en)."""
    check_lang(lang)
    if _is_missing(x):
        return _missing(lang, missing)
    v = _as_float(x)
    if math.isinf(v):
        return ("-" if v < 0 else "") + "∞"
    return _pct(v, lang, decimals)


@functools.lru_cache(maxsize=FORMAT_CACHE_SIZE)
def _pct(v: float, lang: str, decimals: int) -> str:
    from babel.numbers import format_decimal

    pattern = _PCT_PATTERN[lang].format(d=_decimals_suffix(decimals))
    # round the percentage half up ourselves; babel multiplies by 100 (exact on a Decimal)
    return format_decimal(_quantize(v * 100.0, decimals) / 100, format=pattern,
                          locale=LOCALES[lang])


def pp(x: Any, lang: str = "nl", decimals: int = 1, *, missing: str | None = None) -> str:
    """Percentage points from a fraction: 0.02 -> ``2,0 procentpunt`` / ``2.0 pp``."""
    check_lang(lang)
    if _is_missing(x):
        return _missing(lang, missing)
    return number(_as_float(x) * 100.0, lang, decimals) + " " + message("label", "pp_unit", lang)


def number(x: Any, lang: str = "nl", decimals: int = 0, *, missing: str | None = None) -> str:
    """Plain number with grouping: ``1.234,5`` (nl) / ``1,234.5`` (en)."""
    check_lang(lang)
    if _is_missing(x):
        return _missing(lang, missing)
    v = _as_float(x)
    if math.isinf(v):
        return ("-" if v < 0 else "") + "∞"
    return _number(v, lang, decimals)


@functools.lru_cache(maxsize=FORMAT_CACHE_SIZE)
def _number(v: float, lang: str, decimals: int) -> str:
    from babel.numbers import format_decimal

    pattern = "#,##0" + _decimals_suffix(decimals)
    return format_decimal(_quantize(v, decimals), format=pattern, locale=LOCALES[lang])


def month_label(m: Any, lang: str = "nl", *, missing: str | None = None) -> str:
    """A model month or a calendar month.

    * a number (months since the start of the programme, e.g. a break-even month)
      -> ``maand 18`` / ``month 18``;
    * a date, ``datetime``, pandas ``Timestamp``/``Period`` or ``"2024-03"``
      -> ``maart 2024`` / ``March 2024``;
    * ``None``/NaN -> ``n.v.t.`` / ``n/a`` (for a break-even month: never).
    """
    check_lang(lang)
    if _is_missing(m):
        return _missing(lang, missing)
    if isinstance(m, str):
        try:
            m = _dt.date.fromisoformat(m if len(m) > 7 else m + "-01")
        except ValueError:
            from mkba.errors import InputError

            raise InputError("not a month", field="month", value=m,
                             fix="give a month number or a date like '2024-03'") from None
    if hasattr(m, "to_timestamp"):  # pandas Period
        m = m.to_timestamp()
    if isinstance(m, (_dt.date, _dt.datetime)) or hasattr(m, "to_pydatetime"):
        from babel.dates import format_date

        d = m.to_pydatetime() if hasattr(m, "to_pydatetime") else m
        return format_date(d, "LLLL y", locale=LOCALES[lang])
    v = _as_float(m)
    word = message("label", "month_word", lang)
    if v == int(v):
        return f"{word} {int(v)}"
    return f"{word} {number(v, lang, 1)}"


# ---------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------

def label(key: str, lang: str = "nl", default: str | None = None) -> str:
    """Translated label for ``key`` (catalogue context ``label``); ``KeyError`` naming the key if unknown
    (unless ``default``)."""
    check_lang(lang)
    return message("label", key, lang, default)


def _ledger_label(context: str, key: str, lang: str) -> str:
    """Catalogue words for a row or column of the per-actor tables: ``total`` as the tables' total,
    anything else from ``context``, unknown keys as given."""
    check_lang(lang)
    if key == "total":
        return message("text", "total", lang)
    return message(context, key, lang, default=key)


def item_label(item: str, lang: str = "nl") -> str:
    """Words for a ledger item (``benefit_payments`` -> ``uitkeringen``; catalogue context ``item``).
    The reports' per-actor tables and the Excel export's ``Per actor`` sheet both use this (one
    label per item and language)."""
    return _ledger_label("item", item, lang)


def actor_label(actor: str, lang: str = "nl") -> str:
    """Words for an actor of the ledger (``municipality`` -> ``gemeente``; catalogue context ``label``).
    Shared by the reports and the export."""
    return _ledger_label("label", actor, lang)


def has_label(key: str) -> bool:
    return has_message("label", key)


def labels(lang: str = "nl") -> dict[str, str]:
    """All labels in one language (for notebooks that template many headings)."""
    check_lang(lang)
    return {k: label(k, lang) for k in keys("label", lang)}


# ---------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------

def _kind_for(name: str) -> str:
    n = str(name).lower()
    if n.endswith("_eur") or n == "eur" or n.startswith("npv_"):
        return "eur"
    if n.startswith("p_"):          # a probability, e.g. p_npv_positive
        return "pct"
    if n == "bcr" or n.endswith("_bcr") or n.endswith("_ratio"):
        return "ratio"
    if n.endswith("_month") or n == "month":
        return "month"
    if n.endswith("_pct") or n.endswith("_rate") or n.endswith("_share") or n.endswith("_frac"):
        return "pct"
    if n.endswith("_pp"):
        return "pp"
    return "number"


def join_words(items: list[str], lang: str = "nl") -> str:
    """``A, B en C`` / ``A, B and C``: the one way reports list things in a sentence."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {message('text', 'and_word', lang)} " + items[-1]


def capital(s: str) -> str:
    """``s`` with its first letter in capitals (a label that opens a sentence or a column)."""
    return s[:1].upper() + s[1:]


def format_metric(key: str, value: Any, lang: str = "nl") -> str:
    """A headline metric as reports, the CLI and the index show it: :func:`format_value` by the kind of
    its name (:func:`_kind_for`), people and benefit months with one decimal; a missing month is 'not
    within the horizon', any other missing value :data:`MISSING`."""
    from .i18n import message

    kind = _kind_for(key)
    if _is_missing(value):
        return message("text", "never_within_horizon", lang) if kind == "month" else MISSING[lang]
    return format_value(value, kind, lang, 1 if kind == "number" else None)


def date_long(d: Any, lang: str = "nl") -> str:
    """A day in words: ``1 juni 2019`` / ``1 June 2019``."""
    from babel.dates import format_date

    check_lang(lang)
    return format_date(d, "d MMMM y", locale=LOCALES[lang])


def date_words(d: Any, lang: str = "nl") -> str:
    """A parameter's date as readers write it: a year stays a year, a day (2019-06-01) in words."""
    if d is None:
        return ""
    if isinstance(d, _dt.date):
        return date_long(d, lang)
    try:
        return date_long(_dt.date.fromisoformat(str(d)), lang)
    except ValueError:
        return str(d)


def time_words(stamp: str, lang: str = "nl") -> str:
    """An ISO time stamp in words, in UTC (``4 december 2026 02:06 UTC``); as given if it is not one."""
    from babel.dates import format_datetime

    check_lang(lang)
    try:
        t = _dt.datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return str(stamp).replace("T", " ")[:19]
    if t.tzinfo is not None:
        t = t.astimezone(_dt.timezone.utc)
    return format_datetime(t.replace(tzinfo=None), "d MMMM y HH:mm", locale=LOCALES[lang]) + " UTC"


def format_value(x: Any, kind: str, lang: str = "nl", decimals: int | None = None) -> str:
    """Format one value by kind: ``eur``, ``pct``, ``pp``, ``ratio``, ``month``, ``number``, ``text``."""
    if kind == "eur":
        return eur(x, lang, 0 if decimals is None else decimals)
    if kind == "pct":
        return pct(x, lang, 1 if decimals is None else decimals)
    if kind == "pp":
        return pp(x, lang, 1 if decimals is None else decimals)
    if kind == "ratio":
        return number(x, lang, 2 if decimals is None else decimals)
    if kind == "month":
        # in a table the column header says "month": numbers stay numbers, dates get a name
        if _is_missing(x) or not isinstance(x, (int, float)) or isinstance(x, bool):
            return month_label(x, lang)
        return number(x, lang, 0 if decimals is None else decimals)
    if kind == "text":
        return _missing(lang, None) if _is_missing(x) else str(x)
    if kind == "number":
        if _is_missing(x):
            return _missing(lang, None)
        if isinstance(x, str):
            return x
        if decimals is None:
            v = _as_float(x)
            decimals = 0 if (v == int(v) if not math.isinf(v) else True) or abs(v) >= 100 else (
                1 if abs(v) >= 1 else 2)
        return number(x, lang, decimals)
    raise ValueError(f"unknown format kind {kind!r}; use eur, pct, pp, ratio, month, number or text")


def format_table(df: Any, lang: str = "nl", formats: Mapping[str, str] | None = None, *,
                 decimals: Mapping[str, int] | None = None, translate: bool = True) -> Any:
    """Format a DataFrame of numbers for display; returns a DataFrame of strings.

    The kind of each column comes from ``formats`` (column -> kind, see
    :func:`format_value`) or from its name: ``*_eur`` money, ``bcr``/``*_ratio``
    two decimals, ``*_rate``/``*_pct``/``*_share`` percentages (fractions in),
    ``*_pp`` percentage points, ``*_month`` months; text columns stay text.
    With ``translate`` (default) column names, index names and index values
    that are known label keys (metrics, actors, scenarios) are translated.
    """
    import pandas as pd

    check_lang(lang)
    formats = dict(formats or {})
    decimals = dict(decimals or {})
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = df[col]
        kind = formats.get(col)
        if kind is None:
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                kind = _kind_for(col)
            else:
                kind = "text"
        d = decimals.get(col)
        if kind == "text":
            vals = [label(v, lang, default=str(v)) if translate and isinstance(v, str) else
                    format_value(v, "text", lang) for v in s]
        elif kind == "month" and str(col).endswith("break_even_month"):   # missing: not reached, as format_metric says
            vals = [format_metric("break_even_month", v, lang) if _is_missing(v) else format_value(v, kind, lang, d)
                    for v in s]
        else:
            vals = [format_value(v, kind, lang, d) for v in s]
        out[col] = vals

    if translate:
        def tr(v: Any) -> Any:
            return label(v, lang, default=v) if isinstance(v, str) else v

        out.columns = [tr(c) for c in df.columns]
        if isinstance(out.index, pd.MultiIndex):
            out.index = pd.MultiIndex.from_tuples([tuple(tr(x) for x in t) for t in out.index],
                                                  names=[tr(n) for n in out.index.names])
        else:
            out.index = pd.Index([tr(x) for x in out.index], name=tr(out.index.name))
    return out


# ---------------------------------------------------------------------------
# parameter and unit labels, human citations (catalogue contexts param, unit, source-*)
# ---------------------------------------------------------------------------

def param_label(name: str, lang: str = "nl", *, with_unit: bool = False) -> str:
    """Words for a model parameter, e.g. ``Uitstroomkans naar werk zonder aanpak (kans per jaar)``.

    Unknown names (a parameter added to the schema without a label) fall back to the name
    itself, so a report never fails on it; tests/test_i18n.py requires every SCHEMA parameter
    to have both languages.
    """
    check_lang(lang)
    text_ = message("param", name, lang, default=name)
    if with_unit:
        from .schema import SCHEMA

        spec = SCHEMA.get(name)
        if spec is not None:
            text_ += f" ({unit_label(spec.unit, lang)})"
    return text_


def has_param_label(name: str) -> bool:
    return has_message("param", name)


def unit_label(unit: str, lang: str = "nl") -> str:
    """Words for a schema unit (``EUR/person-year`` -> ``euro per persoon per jaar``); unknown units as given."""
    check_lang(lang)
    return message("unit", str(unit), lang, default=str(unit))


def has_unit_label(unit: str) -> bool:
    return has_message("unit", str(unit))


def param_value(name: str, value: Any, lang: str = "nl") -> str:
    """A parameter value in the units people think in: 0.055 chance -> ``5,5 %``, 0.10 pp -> ``10,0 procentpunt``."""
    from .schema import SCHEMA

    if _is_missing(value):
        return _missing(lang, None)
    v = _as_float(value)
    if math.isinf(v):
        return "∞"
    spec = SCHEMA.get(name)
    if spec is None:
        return number(v, lang, 0 if v == int(v) else 2)
    if spec.unit == "fraction/year (pp/100)":
        return pp(v, lang, 1)
    if spec.kind in ("probability", "share") or spec.unit == "1/year (real)":
        return pct(v, lang, 2 if abs(v) < 0.01 and v != 0 else 1)
    if spec.kind == "eur":
        # whole euros, except an amount with cents that rounding would change (a tariff of € 11,75 an hour)
        return eur(v, lang, 0 if abs(v) >= 1000 or round(v) == round(v, 2) else 2)
    if spec.kind == "ratio":
        return number(v, lang, 2)
    return number(v, lang, 0 if v == int(v) else 1)


_SEED_REF_RE = None


def _seed_ref_re():
    global _SEED_REF_RE
    if _SEED_REF_RE is None:
        import re

        _SEED_REF_RE = re.compile(r"(\d{3}_[0-9a-f]{16}\.txt)(?::(\d+(?:\s*[-–]\s*\d+)?(?:\s*,\s*\d+(?:\s*[-–]\s*\d+)?)*))?")
    return _SEED_REF_RE


def source_title(seed_file: str, lang: str = "nl") -> dict | None:
    """``{"short": ..., "title": ..., "year": ...}`` for a seed document, or None."""
    if not has_message("source-title", seed_file):
        return None
    return {f: message(f"source-{f}", seed_file, lang) for f in ("short", "title", "year")}


def sources(lang: str = "nl") -> dict[str, dict]:
    """Every seed document the catalogue knows, ``{file: source_title(file)}``."""
    return {f: source_title(f, lang) for f in keys("source-title", lang)}


def citations(reference: str | None, *, short: bool = False, lang: str = "nl") -> list[tuple[str, str]]:
    """The seed references in a reference text as (human citation, file reference).

    ``"003_1cff8ea758d15861.txt:1909 ('2 fte ...')"`` ->
    ``[("Significant, Kansrijke ... (2019), r. 1909", "003_1cff8ea758d15861.txt:1909")]``
    ("r." for regel; in English "l." for line).
    """
    line_word = message("text", "cite_line", lang)
    out = []
    for m in _seed_ref_re().finditer(str(reference or "")):
        meta = source_title(m.group(1))
        lines = ", ".join(x.strip() for x in (m.group(2) or "").split(",") if x.strip())   # r. 68, 107
        name = (f"{meta['short'] if short else meta['title']} ({meta['year']})") if meta else m.group(1)
        human = name + (f", {line_word} {lines}" if lines else "")
        if (human, m.group(0)) not in out:        # a reading's source cited in its reason too: once
            out.append((human, m.group(0)))
    return out


def reference_kind(reference: str | None) -> str:
    """What a reference says a value is: ``calibrated``, ``assumption``, ``reading``, ``derived``, ``cbs``, ``guideline`` or ``source``."""
    r = str(reference or "").strip().lower()
    for k in ("calibrated", "assumption", "reading", "derived"):
        if r.startswith(k):
            return k
    if r.startswith("cbs") or "statline" in r:
        return "cbs"
    if r.startswith("model_brief") or "guideline" in r or "leidraad" in r:
        return "guideline"
    return "source"


#: official documents a reference may cite besides the seeds and CBS tables, named as they are titled
#: (Dutch in both languages): parliamentary papers and the discount-rate working groups
OFFICIAL_DOCUMENT_RE = re.compile(r"Kamerstuk \d{2} \d{3} nr\. \d+|[Ww]erkgroep discontovoet \d{4}")


def human_reference(reference: str | None, lang: str = "nl", *, short: bool = False,
                    remark: bool = False) -> tuple[str, list[str]]:
    """(citation text for a table cell, file references for footnotes).

    The kind of value and the cited documents. The free-text remark of the case or parameter file
    (written in English, for analysts: code names, seed lines) is not for a report's reader in either
    language; ``remark=True`` (the command line, in English) adds it after the kind.
    """
    check_lang(lang)
    kind = reference_kind(reference)
    cites = citations(reference, short=short, lang=lang)

    cbs = sorted(set(re.findall(r"\b\d{5}(?:NED|ned|ENG|eng)\b|\b37789ksz\b", str(reference or ""))))
    official = list(dict.fromkeys(capital(m.group(0)) for m in OFFICIAL_DOCUMENT_RE.finditer(str(reference or ""))))
    parts = [c[0] for c in cites] + [f"CBS {t}" for t in cbs] + official
    head = message("kind-word", kind, lang)
    if remark and lang == "en" and kind in ("assumption", "calibrated", "reading", "derived"):
        said = re.sub(r"^\w+:\s*", "", str(reference or "")).strip()
        said = _seed_ref_re().sub(lambda m: "", said)
        said = re.sub(r"\(\s*[,;]?\s*\)", "", said).strip(" ;,")
        head = f"{head}: {said}" if said else head
    if kind == "source" and parts:
        text_ = "; ".join(parts)
    elif kind == "guideline" and not parts:
        text_ = head
    else:
        text_ = head + ("; " + "; ".join(parts) if parts else "")
    return text_, [c[1] for c in cites]

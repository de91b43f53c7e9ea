"""Assumptions as data: strict loading of parameter YAML files.

A parameter is a leaf mapping with a value, a unit, the date or period it applies to and a
reference (``<seed file>:<line>``, a CBS table id, or ``assumption: <why>``)::

    benefit:
      cost_per_year:
        value: 14000
        unit: EUR/person-year
        date: 2019
        reference: "003_1cff8ea758d15861.txt:1946"

A dated series (a value that changes over time) uses ``series`` instead of ``value``::

    reference:
      discount_rates:
        unit: 1/year (real)
        series: {2013-07-01: 0.055, 2016-04-01: 0.03, 2021-01-01: 0.0225}
        reference: "..."

Loading is strict: duplicate keys, unknown keys, a missing unit/date/reference, a wrong type
or an out-of-range value is an :class:`~mkba.errors.InputError` naming the file and field.
YAML is read with the safe loader; nothing is evaluated as code.
"""
from __future__ import annotations

import datetime as _dt
import math
import re
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from .errors import InputError, did_you_mean
from .schema import SCHEMA, Spec

LEAF_KEYS = {"value", "series", "unit", "date", "period", "reference", "low", "high", "range_reason", "note",
             "sources"}
REFERENCE_SECTION = "reference"


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    import os

    env = os.environ.get("MKBA_DATA_DIR")
    return Path(env) if env else repo_root() / "data"


@dataclass(frozen=True)
class Parameter:
    """One assumption with its provenance."""

    name: str
    value: float | None
    unit: str
    reference: str
    date: str | None = None
    series: dict[str, float] | None = None
    low: float | None = None
    high: float | None = None
    range_reason: str | None = None
    note: str | None = None
    source_file: str | None = None
    sources: dict[str, str] | None = None   # a series' source per date (``sources:`` in YAML)


# ---------------------------------------------------------------- YAML reading
# A number written with Dutch thousands separators: '250.000', '1.500', '1.000.000' (not '0.055').
_DUTCH_THOUSANDS = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+$")
# YAML 1.1 (PyYAML) reads '1e5' as text; mkba reads it as the number it obviously is.
_EXPONENT_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*(\.[0-9_]*)?[eE][-+]?[0-9]+$")
#: Largest file mkba reads as parameters or a case (a real case file is a few kB).
MAX_YAML_BYTES = 2_000_000


class RawFloat(float):
    """A float that remembers how it was written in the file (to catch '250.000' read as 250.0)."""

    raw: str = ""

    def __new__(cls, value: float, raw: str = ""):
        obj = super().__new__(cls, value)
        obj.raw = raw
        return obj

    def __reduce__(self):
        return (RawFloat, (float(self), self.raw))


# a RawFloat dumps like any float (tools that read a file with read_yaml and write it back)
for _dumper in {yaml.SafeDumper, getattr(yaml, "CSafeDumper", yaml.SafeDumper), yaml.Dumper}:
    _dumper.add_representer(RawFloat, yaml.representer.SafeRepresenter.represent_float)


def raw_text(value: Any) -> str | None:
    """How a number was written in its YAML file, when the loader kept it."""
    return getattr(value, "raw", None) or None


def looks_like_thousands(text: str | None) -> bool:
    return bool(text) and bool(_DUTCH_THOUSANDS.match(str(text).strip()))


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe loader (libyaml's C parser when available) that rejects duplicate keys (PyYAML keeps the last one),
    anchors/aliases (unbounded expansion), invalid dates and a comma inside a number in flow style, and keeps
    the written text of every float."""


_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT_FLOAT, list("-+0123456789"))


def _where(loader, node) -> str:
    return f"line {node.start_mark.line + 1}"


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping: dict = {}
    file = getattr(loader, "_mkba_file", None)
    prev = None
    for key_node, value_node in node.value:
        if (node.flow_style and prev is not None and isinstance(key_node, yaml.ScalarNode) and not key_node.style
                and key_node.value.isdigit() and isinstance(value_node, yaml.ScalarNode) and value_node.value == ""
                and isinstance(prev[1], yaml.ScalarNode) and not prev[1].style
                and re.match(r"^[+-]?\d+$", prev[1].value or "")):
            written = f"{prev[1].value},{key_node.value}"
            decimal = written.replace(",", ".")
            if len(key_node.value) == 3 and prev[1].value.lstrip("+-") not in ("", "0"):
                fix = (f"write {written.replace(',', '')} without a thousands separator "
                       f"(or {decimal} if the comma is a decimal comma)")
            else:
                fix = f"write {decimal} with a decimal point (YAML has no decimal comma)"
            raise InputError(
                f"a comma inside {{...}} separates entries, so '{prev[0].value}: {written}' was read as "
                f"{prev[1].value} followed by a stray key {key_node.value} ({_where(loader, key_node)})",
                file=file, field=str(prev[0].value), value=written, fix=fix)
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise InputError(f"a key must be a name, not a {type(key).__name__} ({_where(loader, key_node)})",
                             file=file, value=key, fix="write 'name: value'") from None
        if key in mapping:
            raise InputError(
                f"duplicate key '{key}' (line {key_node.start_mark.line + 1}); YAML would silently keep only the last",
                file=file, field=str(key), fix="remove or rename one of the two entries")
        mapping[key] = loader.construct_object(value_node, deep=deep)
        prev = (key_node, value_node)
    return mapping


def _construct_float(loader: _StrictLoader, node: yaml.ScalarNode) -> float:
    value = yaml.constructor.SafeConstructor.construct_yaml_float(loader, node)
    return RawFloat(value, node.value)


def _construct_timestamp(loader: _StrictLoader, node: yaml.ScalarNode):
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise InputError(f"not a valid date: {exc} ({_where(loader, node)})", file=getattr(loader, "_mkba_file", None),
                         value=node.value, fix="give a date that exists, written YYYY-MM-DD (e.g. 2019-02-28)") from None


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def _refuse_aliases(root: yaml.Node, file: str | None) -> None:
    """Anchors and aliases (``&a`` / ``*a``) are refused: expanding them is unbounded (a 'billion laughs' file)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise InputError(f"YAML anchors and aliases (&name / *name) are not allowed (alias at "
                             f"line {node.start_mark.line + 1})", file=file, field="*alias",
                             fix="write each value out in full; mkba files are read as untrusted input")
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.extend((k, v))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def load_yaml_text(text: str, *, file: str | None = None) -> Any:
    """Parse YAML text strictly (see :class:`_StrictLoader`); errors name ``file``."""
    if "\x00" in text:
        raise InputError("this is a binary file, not YAML text", file=file,
                         fix="give a case or parameter file (.yaml text)")
    loader = _StrictLoader(text)
    loader._mkba_file = file  # type: ignore[attr-defined]
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _refuse_aliases(node, file)
        return loader.construct_document(node)
    except InputError:
        raise
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=file,
                         fix="check indentation and quoting near the line shown") from None
    except RecursionError:
        raise InputError("nested too deeply", file=file, fix="write a flat mapping of names to entries") from None
    finally:
        loader.dispose()


def read_text_file(path: str | Path, *, what: str = "file", option: str | None = None) -> str:
    """Read a UTF-8 text file; a missing file, a folder, binary or non-UTF-8 content is a named InputError."""
    path = Path(path)
    field = option
    if not path.exists():
        raise InputError(f"{what} not found", file=str(path), field=field,
                         fix="check the path or run `mkba cases`")
    if path.is_dir():
        raise InputError(f"this is a folder, not a {what}", file=str(path), field=field,
                         fix="give one .yaml file, e.g. data/cases/fip_sittard_geleen.yaml")
    if path.stat().st_size > MAX_YAML_BYTES:
        raise InputError(f"file is too large for a case or parameter file ({path.stat().st_size} bytes, "
                         f"at most {MAX_YAML_BYTES})", file=str(path), field=field, fix="give the right file")
    data = path.read_bytes()
    if b"\x00" in data:
        raise InputError("this is a binary file, not YAML text", file=str(path), field=field,
                         fix="give a case or parameter file (.yaml text)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line})", file=str(path), field=field,
                         fix="save the file as UTF-8 (in most editors: 'Save as' > encoding UTF-8)") from None


def read_yaml(path: str | Path) -> dict:
    """Read a YAML file safely and strictly; the top level must be a mapping.

    Parsed files are cached per (path, modification time, size); callers get their own copy.
    """
    import copy

    path = Path(path)
    if not path.exists() or path.is_dir():
        read_text_file(path)
    st = path.stat()
    return copy.deepcopy(_read_yaml_cached(str(path.resolve()), st.st_mtime_ns, st.st_size, str(path)))


@lru_cache(maxsize=256)
def _read_yaml_cached(resolved: str, _mtime_ns: int, _size: int, shown: str) -> dict:
    path = Path(shown)
    text = read_text_file(resolved)
    data = load_yaml_text(text, file=str(path))
    if not isinstance(data, dict):
        raise InputError(f"the top level must be a mapping of names to entries, not {type(data).__name__}",
                         file=str(path), value=data if not isinstance(data, (list, str)) else None,
                         fix="write 'name: {value: ..., unit: ..., date: ..., reference: ...}' entries")
    return data


# ---------------------------------------------------------------- plausibility (per parameter, not per unit)
#: Smallest plausible value of a parameter; anything below it is almost certainly a Dutch thousands
#: separator read as a decimal point (14.000 -> 14.0). Per parameter, because other amounts in the
#: same unit are legitimately small (a EUR 500 care saving per person-year).
PLAUSIBLE_MINIMUM: dict[str, tuple[float, str]] = {
    # a full year of bijstand is about EUR 14.000 (003_1cff8ea758d15861.txt:1946); no norm is below EUR 1.000
    "benefit.cost_per_year": (1000.0, "a year of bijstand costs about € 14.000 (003_1cff8ea758d15861.txt:1946)"),
    # employer cost of a full-time job: the statutory minimum wage alone is above EUR 20.000 a year
    "work.wage_cost_per_year": (1000.0, "a full-time job costs an employer more than € 20.000 a year (minimum wage)"),
    "jobs.wage_cost_per_year": (1000.0, "a full-time job costs an employer more than € 20.000 a year (minimum wage)"),
    # staff cost per FTE: base.yaml uses EUR 66.500 (003_1cff8ea758d15861.txt:1909)
    "programme.cost_per_fte_year": (1000.0, "one FTE of staff costs about € 66.500 a year (003_1cff8ea758d15861.txt:1909)"),
}

#: Largest plausible number of people in one case: all bijstand benefits in the Netherlands,
#: 376.220 in 2024 (CBS 85383NED, TotaalBijstandsuitkeringen_22 summed over the 342 municipalities
#: in data/processed/municipalities.csv; the largest municipality, Amsterdam, has 35.420).
NATIONAL_BIJSTAND_BENEFITS_2024 = 376_220
PLAUSIBLE_MAXIMUM: dict[str, tuple[float, str]] = {
    "cohort.initial_participants": (NATIONAL_BIJSTAND_BENEFITS_2024,
                                    "more than all 376.220 bijstand benefits in the Netherlands (CBS 85383NED, 2024)"),
    "cohort.inflow_per_month": (NATIONAL_BIJSTAND_BENEFITS_2024 / 12,
                                "more than all bijstand benefits in the Netherlands (376.220, CBS 85383NED) within a year"),
}

#: Reference series whose entries are checked like a model parameter.
SERIES_SPECS = {"reference.discount_rates": "discount.rate"}


def _is_money(spec: Spec | None) -> bool:
    return spec is not None and spec.unit.startswith("EUR")


def _is_count(spec: Spec | None) -> bool:
    return spec is not None and spec.unit.startswith("persons")


# ---------------------------------------------------------------- validation
def _is_leaf(node: Any) -> bool:
    return isinstance(node, dict) and ("value" in node or "series" in node)


def _as_date_str(value: Any, *, file: str, field: str) -> str:
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, bool):
        raise InputError("a date must be a year, YYYY-MM-DD or a period 'YYYY-YYYY'", file=file, field=field, value=value,
                         fix="write e.g. date: 2019")
    if isinstance(value, int) and 1900 <= value <= 2100:
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise InputError("a date must be a year, YYYY-MM-DD or a period 'YYYY-YYYY'", file=file, field=field, value=value,
                     fix="write e.g. date: 2019 or date: 2016-04-01")


def _number(value: Any, *, file: str, field: str, what: str = "value", spec: Spec | None = None) -> float:
    if isinstance(value, str) and looks_like_thousands(value):
        digits = value.strip().replace(".", "")
        raise InputError(f"{what} is written with a Dutch thousands separator, which YAML does not read as a number",
                         file=file, field=field, value=value, fix=f"write {digits} without separators")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fix = "write a plain number (decimal point, no thousands separator), e.g. 14000 or 0.3"
        if isinstance(value, str) and any(c in value for c in ",.%€"):
            fix = ("write the number without '€', '%' or a Dutch decimal comma: 14000 for € 14.000, 0.3 for 30 %, "
                   "0.0225 for 2,25 %")
        if value is None:
            fix = "give a number after the colon, e.g. value: 14000"
        raise InputError(f"{what} must be a number", file=file, field=field, value=value, has_value=True, fix=fix)
    raw = raw_text(value)
    if raw and (_is_money(spec) or _is_count(spec)) and looks_like_thousands(raw):
        digits = raw.strip().replace(".", "")
        raise InputError(f"'{raw}' looks like a Dutch thousands separator: YAML reads it as {float(value):g}, "
                         f"not {digits}", file=file, field=field, value=raw,
                         fix=f"write {digits} without a separator (or {float(value):.1f} if you really mean "
                             f"{float(value):g} {spec.unit})")
    return float(value)


def check_value(name: str, value: float, *, file: str | None, spec: Spec | None = None, what: str = "value") -> None:
    """Range and plausibility checks for a model parameter value, with a fix in the message."""
    spec = spec or SCHEMA.get(name)
    if math.isnan(value):
        raise InputError(f"{what} is not a number (NaN)", file=file, field=name, value=value,
                         fix="give a number (.nan is not allowed)")
    if spec is None:
        if math.isinf(value):
            raise InputError(f"{what} may not be infinite", file=file, field=name, value=value,
                             fix="give a finite number")
        return
    if math.isinf(value):
        if spec.allow_inf and value > 0:
            return
        raise InputError(f"{what} may not be infinite", file=file, field=name, value=value,
                         fix="give a finite number" + (" (.inf is allowed only for a lasting effect)" if spec.allow_inf
                                                       else ""))
    if spec.kind in ("probability", "share") and 1.0 < value <= 100.0:
        raise InputError(f"a {spec.kind} is a fraction between 0 and 1; this looks like a percentage",
                         file=file, field=name, value=value,
                         fix=f"write {value / 100:g} for {value:g} %")
    if spec.kind == "rate" and 1.0 < abs(value) <= 100.0 and spec.maximum <= 1.0:
        raise InputError("a rate or percentage-point effect is written as a fraction; this looks like a percentage",
                         file=file, field=name, value=value, fix=f"write {value / 100:g} for {value:g} %")
    if spec.kind == "rate" and spec.maximum < abs(value) <= 1.0 and name == "discount.rate":
        raise InputError(f"a real discount rate of {value * 100:g} % is not plausible; this looks like a percentage "
                         f"written as a fraction", file=file, field=name, value=value,
                         fix=f"write {value / 100:g} for {value:g} % (rates are fractions: 0.03 for 3 %)")
    floor = PLAUSIBLE_MINIMUM.get(name)
    if floor is not None and 0 < value < floor[0]:
        raise InputError(f"implausibly small ({floor[1]}); a Dutch thousands separator is not a YAML "
                         f"number ('14.000' is read as 14.0)", file=file, field=name, value=value,
                         fix=f"write {value * 1000:.0f} without a separator (e.g. 14000 for € 14.000)")
    ceiling = PLAUSIBLE_MAXIMUM.get(name)
    if ceiling is not None and value > ceiling[0]:
        raise InputError(f"implausibly large: {ceiling[1]}", file=file, field=name, value=value,
                         fix="give the number of people this case is about (e.g. 5 % of the municipality's caseload)")
    if name == "horizon.months" and value < spec.minimum:
        if 1 <= value <= 50 and float(value).is_integer():
            raise InputError(f"the horizon is in months and must be at least {spec.minimum:g}; this looks like years",
                             file=file, field=name, value=value, fix=f"write {value * 12:g} for {value:g} years")
        raise InputError(f"the horizon must be at least {spec.minimum:g} months", file=file, field=name, value=value,
                         fix=f"give the appraisal length in months, between {spec.minimum:g} and {spec.maximum:g} "
                             f"(60 = five years)")
    if value < spec.minimum or value > spec.maximum:
        fix = f"give a value between {spec.minimum:g} and {spec.maximum:g} {spec.unit}"
        if spec.kind in ("probability", "share"):
            fix = f"give a {spec.kind} between 0 and 1 (0.3 for 30 %)"
        elif spec.minimum >= 0 and value < 0:
            fix = f"costs and counts are positive amounts in {spec.unit}; the model applies the sign"
        raise InputError(f"{what} out of range for {spec.description.lower()}", file=file, field=name, value=value,
                         fix=fix)
    if spec.integer and not float(value).is_integer():
        raise InputError(f"must be a whole number of {spec.unit}", file=file, field=name, value=value,
                         fix=f"round to {round(value)}")


def parse_leaf(name: str, node: Mapping, *, file: str, require_date: bool = True) -> Parameter:
    unknown = set(node) - LEAF_KEYS
    if unknown:
        key = sorted(unknown, key=str)[0]
        if not isinstance(key, str):
            raise InputError(f"a stray entry '{key}' in a parameter entry (a comma or colon in the wrong place?)",
                             file=file, field=f"{name}", value=key,
                             fix="write value: 14500 without separators; quote text that contains a colon or comma")
        raise InputError(f"unknown key '{key}' in a parameter entry", file=file, field=f"{name}.{key}",
                         fix=did_you_mean(key, sorted(LEAF_KEYS)))
    for required in ("unit", "reference"):
        if not node.get(required) or not isinstance(node.get(required), str):
            raise InputError(f"missing '{required}'; every value carries its unit and source", file=file, field=name,
                             fix=("add unit: e.g. 'EUR/person-year', 'fraction', 'months'" if required == "unit" else
                                  "add reference: '<seed file>:<line>', a CBS table id, or 'assumption: <why>'"))
    date = node.get("date", node.get("period"))
    if require_date and date is None and "series" not in node:
        raise InputError("missing 'date' (the year, date or period the value applies to)", file=file, field=name,
                         fix="add date: e.g. 2019")
    date_str = _as_date_str(date, file=file, field=name) if date is not None else None
    spec = SCHEMA.get(name)
    if spec is not None and node["unit"] != spec.unit:
        fix = f"use unit '{spec.unit}'"
        if spec.unit == "months" and node["unit"].lower().startswith("year"):
            fix += " (multiply years by 12)"
        raise InputError(f"wrong unit '{node['unit']}'", file=file, field=name, fix=fix)
    if "series" in node and "value" in node:
        raise InputError("give either 'value' or 'series', not both (one of them would be ignored)", file=file,
                         field=name, fix="remove 'series' (a model parameter takes one value) or remove 'value'")
    if "series" in node and spec is not None:
        raise InputError("a model parameter takes one value; 'series' is only for dated reference data "
                         f"(e.g. {REFERENCE_SECTION}.discount_rates) and would be ignored here", file=file, field=name,
                         fix=f"write {name.rsplit('.', 1)[-1]}: {{value: ..., unit: '{spec.unit}', date: ..., "
                             f"reference: ...}}")
    series = None
    value = None
    if "series" in node:
        raw = node["series"]
        if not isinstance(raw, dict) or not raw:
            raise InputError("'series' must be a non-empty mapping of date -> value", file=file, field=name,
                             fix="write series: {2019: 0.1, 2020: 0.12}")
        series_spec_name = SERIES_SPECS.get(name)
        series = {}
        for k, v in raw.items():
            key = _as_date_str(k, file=file, field=name)
            num = _number(v, file=file, field=f"{name}.series.{key}",
                          spec=SCHEMA.get(series_spec_name) if series_spec_name else None)
            check_value(series_spec_name or f"{name}.series.{key}", num, file=file,
                        spec=SCHEMA.get(series_spec_name) if series_spec_name else None)
            series[key] = num
    else:
        value = _number(node["value"], file=file, field=name, spec=spec)
        check_value(name, value, file=file, spec=spec)
    sources = _series_sources(name, node, series, file=file)
    low = _number(node["low"], file=file, field=name, what="low", spec=spec) if "low" in node else None
    high = _number(node["high"], file=file, field=name, what="high", spec=spec) if "high" in node else None
    if (low is None) != (high is None):
        raise InputError("give both 'low' and 'high' for a sensitivity range", file=file, field=name,
                         fix="add the missing bound")
    if low is not None and high is not None:
        check_value(name, low, file=file, spec=spec, what="low")
        check_value(name, high, file=file, spec=spec, what="high")
        if low > high:
            raise InputError(f"sensitivity range is inverted (low {low:g} > high {high:g})", file=file, field=name,
                             fix="swap low and high")
        if value is not None and not (low <= value <= high):
            raise InputError(f"sensitivity range {low:g}..{high:g} excludes the value {value:g}", file=file,
                             field=name, fix="widen the range so it contains the value")
        floor = PLAUSIBLE_MINIMUM.get(name)
        if floor is not None and low < floor[0]:
            raise InputError(f"the sensitivity range's low end {low:g} is not a plausible value ({floor[1]})",
                             file=file, field=f"{name}.low", value=low,
                             fix=f"give a low of at least {floor[0]:g} {spec.unit if spec else ''}".rstrip())
        if not node.get("range_reason"):
            raise InputError("a sensitivity range needs a 'range_reason'", file=file, field=name,
                             fix="say where low and high come from")
    return Parameter(name=name, value=value, unit=node["unit"], reference=node["reference"], date=date_str,
                     series=series, low=low, high=high, range_reason=node.get("range_reason"),
                     note=node.get("note"), source_file=file, sources=sources)


def _series_sources(name: str, node: Mapping, series: dict[str, float] | None, *, file: str) -> dict[str, str] | None:
    """``sources:`` of a dated series: one non-empty reference per date of the series, no more, no less."""
    if "sources" not in node:
        return None
    raw = node["sources"]
    if series is None or not isinstance(raw, dict):
        raise InputError("'sources' gives a reference per date of a 'series'", file=file, field=f"{name}.sources",
                         fix="write sources: {2016-04-01: '<reference>'} next to series: {2016-04-01: 0.03}")
    out = {_as_date_str(k, file=file, field=f"{name}.sources"): v for k, v in raw.items()}
    for key in sorted(set(series) | set(out)):
        if key not in out or not isinstance(out[key], str) or not out[key].strip():
            raise InputError(f"no source for the series value of {key}", file=file, field=f"{name}.sources",
                             value=key, fix=f"add {key}: '<reference>' under sources")
        if key not in series:
            raise InputError(f"a source for {key}, which is not a date of the series", file=file,
                             field=f"{name}.sources", value=key, fix=f"remove it or add {key} to series")
    return out


def flatten(tree: Mapping, *, file: str, prefix: str = "") -> dict[str, Parameter]:
    """Flatten a nested parameter tree into dotted names, validating every leaf."""
    out: dict[str, Parameter] = {}
    for key, node in tree.items():
        if not isinstance(key, str):
            raise InputError("parameter names must be text", file=file, field=f"{prefix}{key}", value=key,
                             fix="quote the name")
        name = f"{prefix}{key}"
        if _is_leaf(node):
            out[name] = parse_leaf(name, node, file=file)
        elif isinstance(node, dict):
            out.update(flatten(node, file=file, prefix=name + "."))
        else:
            raise InputError("expected a parameter entry (value, unit, date, reference) or a group of them",
                             file=file, field=name, value=node,
                             fix=f"write {name}: {{value: {node!r}, unit: ..., date: ..., reference: ...}}")
    return out


def load_parameter_file(path: str | Path) -> dict[str, Parameter]:
    """Load one parameter file; model parameters must be known to the schema."""
    path = Path(path)
    params = flatten(read_yaml(path), file=str(path))
    for name in params:
        if name.startswith(REFERENCE_SECTION + "."):
            continue
        if name not in SCHEMA:
            raise InputError(f"unknown parameter '{name}'", file=str(path), field=name,
                             fix=did_you_mean(name, SCHEMA) + f" (reference data goes under '{REFERENCE_SECTION}:')")
    return params


def parameter_set_path(name: str) -> Path:
    return data_dir() / "parameters" / f"{name}.yaml"


def load_parameter_set(name: str = "base") -> dict[str, Parameter]:
    path = parameter_set_path(name)
    if not path.exists():
        options = sorted(p.stem for p in (data_dir() / "parameters").glob("*.yaml"))
        raise InputError(f"unknown parameter set '{name}'", field="extends", value=name,
                         fix=did_you_mean(name, options))
    return load_parameter_file(path)


def series_value_at(param: Parameter, when: str | int | _dt.date) -> float:
    """Value of a dated series in force at ``when`` (the latest entry not after it)."""
    if param.series is None:
        raise InputError("not a dated series", field=param.name, fix="use .value")
    when_s = _as_date_str(when, file=param.source_file or "", field=param.name)
    keys = sorted(param.series, key=_sort_key)
    chosen = None
    for k in keys:
        if _sort_key(k) <= _sort_key(when_s):
            chosen = k
    if chosen is None:
        raise InputError(f"no value in force at {when_s}; the series starts at {keys[0]}", file=param.source_file,
                         field=param.name, value=when_s, fix="choose a later date or extend the series")
    return param.series[chosen]


def _sort_key(date_str: str) -> tuple:
    parts = str(date_str)[:10].split("-")
    nums = [int(p) for p in parts if p.isdigit()]
    while len(nums) < 3:
        nums.append(1)
    return tuple(nums[:3])

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
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from .errors import InputError, did_you_mean
from .schema import IMPLAUSIBLE_ANNUAL_AMOUNT_EUR, SCHEMA, Spec

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
class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe loader (libyaml's C parser when available) that rejects duplicate keys (PyYAML keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise InputError(
                f"duplicate key '{key}' (line {key_node.start_mark.line + 1}); YAML would silently keep only the last",
                file=getattr(loader, "_mkba_file", None), field=str(key),
                fix="remove or rename one of the two entries")
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: str | Path) -> dict:
    """Read a YAML file safely and strictly; the top level must be a mapping.

    Parsed files are cached per (path, modification time, size); callers get their own copy.
    """
    import copy

    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=str(path), fix="check the path or run `mkba cases`")
    st = path.stat()
    return copy.deepcopy(_read_yaml_cached(str(path.resolve()), st.st_mtime_ns, st.st_size, str(path)))


@lru_cache(maxsize=256)
def _read_yaml_cached(resolved: str, _mtime_ns: int, _size: int, shown: str) -> dict:
    path = Path(shown)
    text = Path(resolved).read_text(encoding="utf-8")
    loader = _StrictLoader(text)
    loader._mkba_file = str(path)  # type: ignore[attr-defined]
    try:
        data = loader.get_single_data()
    except InputError:
        raise
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=str(path),
                         fix="check indentation and quoting near the line shown") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise InputError(f"the top level must be a mapping of names to entries, not {type(data).__name__}",
                         file=str(path), value=data if not isinstance(data, (list, str)) else None,
                         fix="write 'name: {value: ..., unit: ..., date: ..., reference: ...}' entries")
    return data


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


def _number(value: Any, *, file: str, field: str, what: str = "value") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fix = "write a plain number (decimal point, no thousands separator), e.g. 14000 or 0.3"
        if isinstance(value, str) and any(c in value for c in ",.%€"):
            fix = ("write the number without '€', '%' or a Dutch decimal comma: 14000 for € 14.000, 0.3 for 30 %, "
                   "0.0225 for 2,25 %")
        raise InputError(f"{what} must be a number", file=file, field=field, value=value, fix=fix)
    return float(value)


def check_value(name: str, value: float, *, file: str | None, spec: Spec | None = None) -> None:
    """Range and plausibility checks for a model parameter value, with a fix in the message."""
    spec = spec or SCHEMA.get(name)
    if spec is None:
        return
    if math.isnan(value):
        raise InputError("value is not a number (NaN)", file=file, field=name, value=value, fix="give a number")
    if math.isinf(value):
        if spec.allow_inf and value > 0:
            return
        raise InputError("value may not be infinite", file=file, field=name, value=value, fix="give a finite number")
    if spec.kind in ("probability", "share") and 1.0 < value <= 100.0:
        raise InputError(f"a {spec.kind} is a fraction between 0 and 1; this looks like a percentage",
                         file=file, field=name, value=value,
                         fix=f"write {value / 100:g} for {value:g} %")
    if spec.kind == "rate" and 1.0 < abs(value) <= 100.0 and spec.maximum <= 1.0:
        raise InputError("a rate or percentage-point effect is written as a fraction; this looks like a percentage",
                         file=file, field=name, value=value, fix=f"write {value / 100:g} for {value:g} %")
    if spec.unit in ("EUR/person-year", "EUR/FTE-year", "EUR/job-year") and 0 < value < IMPLAUSIBLE_ANNUAL_AMOUNT_EUR:
        raise InputError(f"implausibly small for an amount in {spec.unit}; a Dutch thousands separator is not a YAML "
                         f"number ('14.000' is read as 14.0)", file=file, field=name, value=value,
                         fix=f"write {value * 1000:.0f} without a separator (e.g. 14000 for € 14.000)")
    if spec.kind == "months" and name == "horizon.months" and value < spec.minimum:
        raise InputError(f"the horizon is in months and must be at least {spec.minimum:g}; this looks like years",
                         file=file, field=name, value=value, fix=f"write {value * 12:g} for {value:g} years")
    if value < spec.minimum or value > spec.maximum:
        fix = f"give a value between {spec.minimum:g} and {spec.maximum:g} {spec.unit}"
        if spec.minimum >= 0 and value < 0:
            fix = f"costs and counts are positive amounts in {spec.unit}; the model applies the sign"
        raise InputError(f"out of range for {spec.description.lower()}", file=file, field=name, value=value, fix=fix)
    if spec.integer and not float(value).is_integer():
        raise InputError(f"must be a whole number of {spec.unit}", file=file, field=name, value=value,
                         fix=f"round to {round(value)}")


def parse_leaf(name: str, node: Mapping, *, file: str, require_date: bool = True) -> Parameter:
    unknown = set(node) - LEAF_KEYS
    if unknown:
        key = sorted(unknown)[0]
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
    series = None
    value = None
    if "series" in node:
        raw = node["series"]
        if not isinstance(raw, dict) or not raw:
            raise InputError("'series' must be a non-empty mapping of date -> value", file=file, field=name,
                             fix="write series: {2019: 0.1, 2020: 0.12}")
        series = {_as_date_str(k, file=file, field=name): _number(v, file=file, field=f"{name}.series")
                  for k, v in raw.items()}
    else:
        value = _number(node["value"], file=file, field=name)
        check_value(name, value, file=file, spec=spec)
    sources = _series_sources(name, node, series, file=file)
    low = _number(node["low"], file=file, field=name, what="low") if "low" in node else None
    high = _number(node["high"], file=file, field=name, what="high") if "high" in node else None
    if (low is None) != (high is None):
        raise InputError("give both 'low' and 'high' for a sensitivity range", file=file, field=name,
                         fix="add the missing bound")
    if low is not None and high is not None:
        if low > high:
            raise InputError(f"sensitivity range is inverted (low {low:g} > high {high:g})", file=file, field=name,
                             fix="swap low and high")
        if value is not None and not (low <= value <= high):
            raise InputError(f"sensitivity range {low:g}..{high:g} excludes the value {value:g}", file=file,
                             field=name, fix="widen the range so it contains the value")
        check_value(name, low, file=file, spec=spec)
        check_value(name, high, file=file, spec=spec)
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

"""Cases as data: a case is a parameter set (or another case) plus named overrides.

A case file (``data/cases/<name>.yaml``)::

    name: fip_sittard_geleen
    title: FIP Sittard-Geleen
    summary: Intensive contact with 300 clients against a control group of 300
    extends: base                     # a parameter set in data/parameters/ or another case
    start_date: 2017-07-01
    perspective: municipality         # or: society
    overrides:
      cohort.initial_participants: {value: 300, unit: persons, date: 2017, reference: "003_...:778-780"}
    readings:                         # where the source is ambiguous: the reading chosen and why
      - {topic: ..., choice: ..., why: ..., reference: ...}
    published:                        # the figures the case must reproduce (golden tests)
      - {metric: extra_ended_benefits, value: 16, tolerance: 0.5, reference: "003_...:821-822"}

Nothing here evaluates code; ``--set key=value`` values are parsed as YAML scalars and must
be numbers.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import InputError, did_you_mean
from .parameters import (Parameter, _number, check_value, load_yaml_text, data_dir, parse_leaf, read_yaml, load_parameter_set,
                         series_value_at, parameter_set_path)
from .parameters import NATIONAL_BIJSTAND_BENEFITS_2024, PLAUSIBLE_MAXIMUM
from .schema import SCHEMA

DISCOUNT_SCHEDULE = "reference.discount_rates"


class Reading(BaseModel):
    model_config = ConfigDict(extra="forbid")
    topic: str
    choice: str
    why: str
    reference: str | None = None
    alternatives: list[str] = []
    topic_nl: str | None = None             # Dutch text for Dutch reports (issue 10, point 5)
    choice_nl: str | None = None
    why_nl: str | None = None
    values: dict[str, float] = {}           # the parameter values this reading explains (mkba.readings)
    # the case says why a downturn improves it (issue 9: "a downturn never improves a case unless the case
    # says why"; mkba.scenarios.downturn_check, mkba validate)
    downturn_improves: bool = False


class Published(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metric: str
    value: float
    tolerance: float | None = Field(default=None, ge=0)          # absolute
    tolerance_rel: float | None = Field(default=None, ge=0)      # relative (0.01 = 1 %)
    comparison: Literal["approx", "at_least", "at_most"] = "approx"
    reference: str
    quote: str | None = None
    variant: str | None = None              # evaluated on a named variant of the case
    note: str | None = None
    # "missed": the case's reading is known not to meet this figure (the note says why and which
    # variant does); the figure is still shown, marked missed, and tests expect it to be missed
    expect: Literal["met", "missed"] = "met"

    @model_validator(mode="after")
    def _missed_says_why(self) -> "Published":
        if self.expect == "missed" and not (self.note or "").strip():
            raise ValueError("a published figure marked expect: missed needs a note: why the reading misses it "
                             "and which variant meets it")
        return self

    def tolerance_abs(self) -> float:
        """The absolute tolerance of an ``approx`` figure (``tolerance``, else ``tolerance_rel`` x |value|)."""
        return self.tolerance if self.tolerance is not None else abs(self.value) * (self.tolerance_rel or 0.0)

    def holds(self, model):
        """Whether model value(s) meet the published figure (scalar or numpy array, elementwise)."""
        import numpy as np

        model = np.asarray(model, dtype=float)
        if self.comparison == "at_least":
            ok = model >= self.value
        elif self.comparison == "at_most":
            ok = model <= self.value
        else:
            ok = np.abs(model - self.value) <= self.tolerance_abs()
        return bool(ok) if ok.ndim == 0 else ok


PUBLISHED_KINDS = ("input", "calibrated", "derived")


class FreeParameter(BaseModel):
    """A parameter the published figures are used to pin down (``calibration.free``)."""
    model_config = ConfigDict(extra="forbid")
    low: float                              # plausible range searched by the fit and the identification grid
    high: float
    fit: bool = True                        # fitted by `mkba calibrate`; False: only varied in the identification
    points: int | None = None               # identification grid points over [low, high]
    why: str | None = None                  # where the plausible range comes from


class PublishedKind(BaseModel):
    """What a published figure is, when it is not a calibration target (those are 'calibrated')."""
    model_config = ConfigDict(extra="forbid")
    metric: str
    variant: str | None = None
    kind: Literal["input", "calibrated", "derived"]
    why: str


class Calibration(BaseModel):
    """What `mkba calibrate` fits (``free``) to which published figures (``targets``, metrics of
    ``published:`` entries of the case itself); ``kinds`` says what the other published figures are
    (default: derived, i.e. they follow from the inputs and are a check of the model)."""
    model_config = ConfigDict(extra="forbid")
    free: dict[str, FreeParameter] = {}
    targets: list[str] = []
    kinds: list[PublishedKind] = []
    max_grid: int = 250_000                 # cap on the identification grid (product of points)

    def kind_of(self, p: "Published") -> tuple[str, str]:
        """(kind, why) of a published figure."""
        if p.variant is None and p.metric in self.targets:
            fitted = [k for k, f in self.free.items() if f.fit]
            return "calibrated", "fitted: " + ", ".join(fitted)
        for k in self.kinds:
            if k.metric == p.metric and k.variant == p.variant:
                return k.kind, k.why
        return "derived", "follows from the inputs"


def published_kind(case: "Case", p: Published) -> tuple[str, str]:
    """(input | calibrated | derived, why) of a published figure of ``case``."""
    if case.calibration is None:
        return "derived", "follows from the inputs"
    return case.calibration.kind_of(p)


class Pilot(BaseModel):
    """A published pilot design (treatment against a control group), checked for consistency."""
    model_config = ConfigDict(extra="forbid")
    population: int | None = Field(default=None, ge=0)
    treatment_group: int = Field(ge=1)
    control_group: int = Field(ge=1)
    treatment_ended: int | None = Field(default=None, ge=0)
    control_ended: int | None = Field(default=None, ge=0)
    reference: str


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    title_nl: str | None = None             # the title in Dutch reports
    overrides: dict[str, Any]


class Group(BaseModel):
    """A sub-group of a case (a site, a placement type): its share of the participants and its own overrides."""
    model_config = ConfigDict(extra="forbid")
    share: float
    title: str | None = None
    title_nl: str | None = None
    overrides: dict[str, Any] = {}


@dataclass
class ResolvedGroup:
    share: float
    title: str | None
    values: dict[str, float]


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    title: str
    summary: str
    summary_nl: str | None = None           # the summary in Dutch reports
    title_nl: str | None = None             # the title in Dutch reports (default: title)
    extends: str = "base"
    start_date: _dt.date
    appraisal_date: _dt.date | None = None
    perspective: Literal["municipality", "society"] = "municipality"
    # an approach a municipality can take, or a rule of thumb the seeds quote (checked, not compared
    # with the approaches: `mkba compare` leaves it out of "which approach pays off")
    kind: Literal["approach", "rule_of_thumb"] = "approach"
    discount_convention: Literal["excel", "start", "monthly"] = "excel"
    measured_in: int | None = None          # year whose labour market the baseline rates reflect
    overrides: dict[str, Any] = {}
    readings: list[Reading] = []
    published: list[Published] = []
    variants: dict[str, Variant] = {}
    pilot: Pilot | None = None
    notes: list[str] = []
    groups: dict[str, Group] = {}
    calibration: Calibration | None = None  # what `mkba calibrate` fits to which published figures
    price_year: int | None = None           # year whose prices all amounts are in (default: the appraisal year)

    @field_validator("name")
    @classmethod
    def _name_ok(cls, v: str) -> str:
        if not v.replace("_", "").isalnum() or not v.islower():
            raise ValueError("use lower-case letters, digits and underscores")
        return v


@dataclass
class Case:
    """A resolved case: every model parameter has a value and a provenance."""

    name: str
    title: str
    summary: str
    start_date: _dt.date
    appraisal_date: _dt.date
    perspective: str
    discount_convention: str
    parameters: dict[str, Parameter]
    readings: list[Reading] = field(default_factory=list)
    published: list[Published] = field(default_factory=list)
    variants: dict[str, Variant] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    pilot: Pilot | None = None
    measured_in: int | None = None
    summary_nl: str | None = None
    title_nl: str | None = None
    source_file: str | None = None
    variant: str | None = None
    groups: dict[str, ResolvedGroup] = field(default_factory=dict)
    kind: str = "approach"
    calibration: Calibration | None = None
    price_year: int | None = None           # all amounts are in prices of this year (mkba.prices)
    price_conversions: dict = field(default_factory=dict)   # name -> mkba.prices.PriceConversion

    @property
    def values(self) -> dict[str, float]:
        return {k: p.value for k, p in self.parameters.items() if k in SCHEMA}

    @property
    def months(self) -> int:
        return int(self.values["horizon.months"])

    def value(self, name: str) -> float:
        return self.values[name]

    def assumptions_hash(self) -> str:
        """Hash of everything that determines the numbers (values, convention, dates)."""
        payload = {"values": {k: repr(v) for k, v in sorted(self.values.items())},
                   "convention": self.discount_convention, "perspective": self.perspective,
                   "start": self.start_date.isoformat()}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    def ranges(self) -> dict[str, tuple[float, float, str]]:
        """Sensitivity ranges kept in the data (low, high, reason)."""
        return {k: (p.low, p.high, p.range_reason or "") for k, p in self.parameters.items()
                if k in SCHEMA and p.low is not None}

    def with_overrides(self, overrides: dict[str, Any], *, source: str = "override", dated: bool = False) -> "Case":
        """A copy with ``overrides`` (leaf mappings) applied.

        Amounts in euro are taken to be in the case's price year and are dated in it (``--set``,
        sweeps, local figures), unless ``dated=True`` (case and variant files): then each amount is
        in prices of its own ``date`` and is converted to the price year (:mod:`mkba.prices`).
        """
        params = dict(self.parameters)
        _apply_overrides(params, overrides, file=source)
        conversions = {k: c for k, c in self.price_conversions.items() if k not in overrides}
        if self.price_year is not None:
            params, conversions = _in_price_year(params, self.price_year, conversions, list(overrides),
                                                 file=source, dated=dated)
        new = Case(**{**self.__dict__, "parameters": params, "price_conversions": conversions})
        check_consistency(new, file=source)
        return new

    def in_price_year(self, year: int, *, source: str = "price year") -> "Case":
        """A copy with every amount in euro in prices of ``year`` (CBS CPI, :mod:`mkba.prices`); the
        conversions are kept (composed with those made on load), so a report can say what was converted."""
        if year == self.price_year:
            return self
        params, conversions = _in_price_year(dict(self.parameters), year, self.price_conversions, list(self.parameters),
                                             file=source, dated=True)
        return Case(**{**self.__dict__, "parameters": params, "price_conversions": conversions, "price_year": year})

    def assumptions_table(self):
        import pandas as pd

        rows = [{"parameter": k, "value": p.value, "unit": p.unit, "date": p.date, "reference": p.reference,
                 "description": SCHEMA[k].description, "low": p.low, "high": p.high,
                 "source_file": Path(p.source_file).name if p.source_file else None}
                for k, p in sorted(self.parameters.items()) if k in SCHEMA]
        return pd.DataFrame(rows)


def _in_price_year(params: dict[str, Parameter], price_year: int, conversions: dict, names, *, file: str,
                   dated: bool = True, what: str = "price year") -> tuple[dict[str, Parameter], dict]:
    """Amounts of ``names`` in prices of ``price_year`` (``dated``: convert by their date; else re-date)."""
    import dataclasses

    from . import prices

    conversions = dict(conversions)
    if not dated:
        params = dict(params)
        for name in names:
            p = params.get(name)
            if p is not None and name in SCHEMA and prices.is_amount(p.unit) and p.date != str(price_year):
                params[name] = dataclasses.replace(p, date=str(price_year),
                                                   reference=f"{p.reference} (in prices of {price_year})")
        return params, conversions
    params, done = prices.express_in_price_year(params, price_year, names=names, file=file, what=what)
    for c in done:
        merged = prices.compose(conversions.get(c.parameter), c)
        if merged is None:
            conversions.pop(c.parameter, None)
        else:
            conversions[c.parameter] = merged
    return params, conversions


# ---------------------------------------------------------------- discovery
def cases_dir() -> Path:
    return data_dir() / "cases"


def list_cases() -> list[tuple[str, str]]:
    """(name, one-line summary) of every case file."""
    out = []
    for path in sorted(cases_dir().glob("*.yaml")):
        raw = read_yaml(path)
        out.append((path.stem, str(raw.get("summary", ""))))
    return out


def case_path(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") and p.exists():
        return p
    candidate = cases_dir() / f"{name_or_path}.yaml"
    if candidate.exists():
        return candidate
    if p.suffix in (".yaml", ".yml"):
        from .parameters import read_text_file

        read_text_file(p, what="case file")
    raise InputError(f"unknown case '{name_or_path}'", field="case", value=str(name_or_path),
                     fix=did_you_mean(str(name_or_path), case_names()) + " (run `mkba cases` for the list)")


def case_names() -> list[str]:
    """Names of the case files in data/cases (without reading them)."""
    return sorted(p.stem for p in cases_dir().glob("*.yaml"))


# ---------------------------------------------------------------- loading
def _parse_casefile(raw: dict, path: Path) -> CaseFile:
    try:
        cf = CaseFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        if err["type"] == "extra_forbidden":
            raise InputError(f"unknown key '{loc}' in a case file", file=str(path), field=loc,
                             fix=did_you_mean(str(err["loc"][-1]), CaseFile.model_fields)) from None
        raise InputError(err["msg"], file=str(path), field=loc, value=err.get("input"), has_value=True,
                         fix=_casefile_fix(err, loc)) from None
    if cf.name != path.stem:
        raise InputError(f"the case name must equal the file name '{path.stem}'", file=str(path), field="name",
                         value=cf.name, fix=f"write name: {path.stem}")
    return cf


def _casefile_fix(err: dict, loc: str) -> str:
    """A fix for a case-file field pydantic refused (the format is documented in this module and README.md)."""
    kind = err.get("type", "")
    if "date" in kind:
        return f"write {loc}: YYYY-MM-DD, a date that exists (e.g. 2019-07-01)"
    if kind == "missing":
        return f"add '{loc}: ...' (see an existing case in data/cases/, e.g. fip_sittard_geleen.yaml)"
    if kind in ("greater_than_equal", "greater_than"):
        return f"give a value of at least {err.get('ctx', {}).get('ge', err.get('ctx', {}).get('gt', 0))} for '{loc}'"
    if kind == "literal_error":
        return f"use one of the allowed values: {err.get('ctx', {}).get('expected', '')}"
    if kind in ("string_type", "float_type", "float_parsing", "int_type", "int_parsing", "list_type", "dict_type",
                "model_type", "bool_type"):
        want = {"string_type": "text (quote it)", "float_type": "a number", "float_parsing": "a number",
                "int_type": "a whole number", "int_parsing": "a whole number", "list_type": "a list ('- ...' lines)",
                "dict_type": "a mapping ('key: value' lines)", "model_type": "a mapping ('key: value' lines)",
                "bool_type": "true or false"}[kind]
        return f"give {want} for '{loc}' (see an existing case in data/cases/, e.g. fip_sittard_geleen.yaml)"
    return f"correct '{loc}' (see an existing case in data/cases/, e.g. fip_sittard_geleen.yaml)"


def _override_leaf(name: str, node: Any, *, file: str) -> Parameter:
    if name not in SCHEMA:
        raise InputError(f"unknown parameter '{name}'", file=file, field=f"overrides.{name}",
                         fix=did_you_mean(name, SCHEMA))
    if isinstance(node, dict):
        return parse_leaf(name, node, file=file)
    raise InputError("an override needs its value, unit, date and reference", file=file, field=f"overrides.{name}",
                     value=node, fix=f"write {name}: {{value: {node!r}, unit: '{SCHEMA[name].unit}', date: ..., "
                                     f"reference: '<seed file>:<line>' or 'assumption: <why>'}}")


def _apply_overrides(params: dict[str, Parameter], overrides: dict[str, Any], *, file: str) -> None:
    if not isinstance(overrides, dict):
        raise InputError("overrides must be a mapping of parameter name -> {value, unit, date, reference}", file=file,
                         field="overrides", value=overrides, has_value=True,
                         fix="write one 'name: {value: ..., unit: ..., date: ..., reference: ...}' per line")
    for name, node in overrides.items():
        params[name] = _override_leaf(name, node, file=file)


def _set_scalar(text: str) -> Any:
    """A ``--set`` value as a YAML scalar (with mkba's reader: '1e5' is a number, floats keep their text)."""
    try:
        value = load_yaml_text(text, file="--set")
    except InputError:
        return text
    return text if isinstance(value, (dict, list)) else value


def parse_set_values(pairs: list[str]) -> dict[str, Any]:
    """Parse ``--set key=value`` pairs into override leaves (numbers only; never evaluated)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise InputError("expected key=value", field="--set", value=pair, fix="write e.g. --set benefit.cost_per_year=15000")
        key, text = (s.strip() for s in pair.split("=", 1))
        if key not in SCHEMA:
            raise InputError(f"unknown parameter '{key}'", field="--set", value=pair, fix=did_you_mean(key, SCHEMA))
        value = _set_scalar(text)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fix = "give a plain number with a decimal point, e.g. 0.3 or 14000"
            if isinstance(value, str) and ("%" in value or "," in value):
                fix = "write 0.3 for 30 %, 14000 for € 14.000 (no '%', no Dutch separators)"
            raise InputError("value must be a number", file="--set", field=key, value=text, fix=fix)
        value = _number(value, file="--set", field=key, spec=SCHEMA[key])
        check_value(key, float(value), file="--set")
        out[key] = {"value": value, "unit": SCHEMA[key].unit, "date": _dt.date.today().isoformat(),
                    "reference": "assumption: set on the command line (--set)"}
    return out


#: resolved cases by (file, variant, stamp of the files they are read from): see :func:`load_case`
_LOADED: dict[tuple, Case] = {}
#: assumption: a batch or a notebook uses a handful of cases and variants; 64 keeps them all without
#: letting a long session grow without bound
_LOADED_MAX = 64


def _stamp(path: Path) -> tuple:
    """(file, size, modification time) of every file a case can be resolved from: the case files,
    the parameter sets, the case's own folder and the CPI table the amounts are converted with."""
    import os

    from . import cbs
    from .prices import CPI_TABLE

    entries: list = []
    for d in sorted({cases_dir(), data_dir() / "parameters", path.parent}):
        try:
            with os.scandir(d) as it:
                for e in it:
                    if e.name.endswith((".yaml", ".yml")):
                        st = e.stat()
                        entries.append((e.path, st.st_size, st.st_mtime_ns))
        except OSError:
            entries.append((str(d), None, None))
    try:
        st = cbs.table_path(CPI_TABLE).stat()
        entries.append(("cpi", st.st_size, st.st_mtime_ns))
    except OSError:
        entries.append(("cpi", None, None))
    return tuple(entries)


def _copy_case(case: Case) -> Case:
    """A copy whose lists and mappings (parameters, readings, published figures, variants, notes,
    groups, price conversions) are its own; the entries in them are shared (frozen parameters
    and conversions, parsed case-file records that nothing changes after loading)."""
    return Case(**{k: (type(v)(v) if isinstance(v, (list, dict)) else v) for k, v in case.__dict__.items()})


def load_case(name_or_path: str | Path, overrides: dict[str, Any] | None = None, *,
              variant: str | None = None, _seen: tuple = ()) -> Case:
    """Load and resolve a case; ``overrides`` are leaf mappings (see :func:`parse_set_values`).

    A case resolved before from the same files (unchanged since: same sizes and modification
    times) is not parsed again; every call returns its own copy.
    """
    path = case_path(name_or_path)
    if _seen:
        return _load_case(path, overrides, variant=variant, _seen=_seen)
    key = (str(path.resolve()), variant or None, _stamp(path))
    hit = _LOADED.get(key)
    if hit is None:
        hit = _load_case(path, None, variant=variant)
        if len(_LOADED) >= _LOADED_MAX:
            _LOADED.clear()
        _LOADED[key] = hit
    case = _copy_case(hit)
    if overrides:
        case = case.with_overrides(overrides, source="--set")
    return case


def _load_case(path: Path, overrides: dict[str, Any] | None = None, *,
               variant: str | None = None, _seen: tuple = ()) -> Case:
    if path.stem in _seen:
        raise InputError("cases extend each other in a loop", file=str(path), field="extends",
                         value=" -> ".join(_seen + (path.stem,)), fix="break the loop")
    raw = read_yaml(path)
    cf = _parse_casefile(raw, path)
    if parameter_set_path(cf.extends).exists() and not (cases_dir() / f"{cf.extends}.yaml").exists():
        params = dict(load_parameter_set(cf.extends))
        parent = None
    else:
        try:
            parent = load_case(cf.extends, _seen=_seen + (path.stem,))
        except InputError as exc:
            if "unknown case" in exc.problem:
                sets = sorted(p.stem for p in (data_dir() / "parameters").glob("*.yaml"))
                raise InputError(f"'{cf.extends}' is neither a parameter set nor a case", file=str(path),
                                 field="extends", value=cf.extends,
                                 fix=did_you_mean(cf.extends, sets + case_names())
                                 + f" (parameter sets: {', '.join(sets)}; cases: `mkba cases`)") from None
            raise
        params = dict(parent.parameters)
    _apply_overrides(params, cf.overrides, file=str(path))
    appraisal = cf.appraisal_date or cf.start_date
    if "discount.rate" not in params or (params["discount.rate"].source_file or "").endswith("base.yaml") \
            and "discount.rate" not in cf.overrides:
        schedule = params.get(DISCOUNT_SCHEDULE)
        if schedule is not None and schedule.series:
            from .discounting import rate_in_force

            rate, since, source = rate_in_force(schedule, appraisal)
            params["discount.rate"] = Parameter(
                name="discount.rate", value=rate, unit=SCHEMA["discount.rate"].unit, date=appraisal.isoformat(),
                reference=f"{source} (the rate in force since {since}, on the appraisal date {appraisal.isoformat()})",
                low=None, high=None, source_file=schedule.source_file)
    missing = sorted(set(SCHEMA) - set(params))
    if missing:
        raise InputError(f"missing parameters: {', '.join(missing)}", file=str(path), field=missing[0],
                         fix="add them to the parameter set or the case's overrides")
    price_year, conversions, what = _price_year_of(cf, parent, appraisal, path)
    params, conversions = _in_price_year(params, price_year, conversions, list(params), file=str(path), what=what)
    case = Case(name=cf.name, title=cf.title, summary=cf.summary, start_date=cf.start_date, appraisal_date=appraisal,
                perspective=cf.perspective, discount_convention=cf.discount_convention, parameters=params,
                readings=(parent.readings if parent else []) + cf.readings,
                published=cf.published if cf.published or parent is None else parent.published,
                variants={**(parent.variants if parent else {}), **cf.variants},
                notes=(parent.notes if parent else []) + cf.notes, source_file=str(path),
                pilot=cf.pilot or (parent.pilot if parent else None),
                measured_in=cf.measured_in or (parent.measured_in if parent else None) or cf.start_date.year,
                summary_nl=cf.summary_nl, title_nl=cf.title_nl, groups=_resolve_groups(cf.groups, file=str(path)) or
                (parent.groups if parent else {}),
                calibration=cf.calibration or (parent.calibration if parent else None),
                price_year=price_year, price_conversions=conversions, kind=cf.kind)
    check_calibration(case, file=str(path))
    if variant:
        if variant not in case.variants:
            raise InputError(f"unknown variant '{variant}' of case {case.name}", field="variant",
                             fix=did_you_mean(variant, case.variants) + f" (variants: {', '.join(case.variants) or 'none'})")
        case = case.with_overrides(case.variants[variant].overrides, source=f"{path}#variants.{variant}", dated=True)
        case.variant = variant
        case.title = f"{case.title} - {cf.variants[variant].title if variant in cf.variants else variant}"
    if overrides:
        case = case.with_overrides(overrides, source="--set")
    check_consistency(case, file=str(path))
    return case


def _price_year_of(cf: CaseFile, parent: Case | None, appraisal: _dt.date, path: Path) -> tuple[int, dict, str]:
    """The case's price year (stated, else the year of its appraisal date), checked against the CPI
    data, and the parent case's conversions of the amounts this case does not override."""
    from . import prices

    stated = cf.price_year
    year = stated if stated is not None else appraisal.year
    what = "price year" if stated is not None else f"price year (by default the year of the appraisal date {appraisal})"
    prices.check_price_year(year, file=str(path), what=what)
    conversions = {k: c for k, c in (parent.price_conversions if parent else {}).items() if k not in cf.overrides}
    return year, conversions, what


def _resolve_groups(groups: dict[str, Group], *, file: str) -> dict[str, ResolvedGroup]:
    """Sub-groups with their overrides parsed as parameter leaves; the shares must add up to 1."""
    if not groups:
        return {}
    out = {}
    for name, g in groups.items():
        if not 0.0 < g.share <= 1.0:
            raise InputError(f"group '{name}' has share {g.share:g}", file=file, field=f"groups.{name}.share",
                             value=g.share, fix="give each group a share between 0 and 1 (the shares add up to 1)")
        params: dict[str, Parameter] = {}
        _apply_overrides(params, g.overrides, file=f"{file}#groups.{name}")
        out[name] = ResolvedGroup(share=g.share, title=g.title, values={k: p.value for k, p in params.items()})
    total = sum(g.share for g in groups.values())
    if abs(total - 1.0) > 1e-6:
        raise InputError(f"the group shares add up to {total:g}, not 1 ("
                         + ", ".join(f"{n} {g.share:g}" for n, g in groups.items()) + ")", file=file,
                         field="groups", value=total, fix="make the shares of the groups add up to 1")
    return out


# ---------------------------------------------------------------- consistency
def check_consistency(case: Case, *, file: str | None = None) -> None:
    """Reject a case whose figures contradict each other, naming the figures."""
    v = case.values
    H = v["horizon.months"]
    people = v["cohort.initial_participants"] + v["cohort.inflow_per_month"] * min(v["cohort.inflow_months"], H)

    def fail(problem: str, field: str, fix: str):
        raise InputError(problem, file=file or case.source_file, field=field, fix=fix)

    if people > PLAUSIBLE_MAXIMUM["cohort.initial_participants"][0]:
        fail(f"the case has {people:,.0f} participants (initial participants plus inflow), more than all "
             f"{NATIONAL_BIJSTAND_BENEFITS_2024:,} bijstand benefits in the Netherlands (CBS 85383NED, 2024)",
             "cohort.initial_participants", "give the number of people this case is about")
    combined = {"treatment (baseline x ratio x cycle + added)":
                v["baseline.work_exit_rate"] * v.get("effect.work_exit_ratio", 1.0) * v.get("cycle.multiplier", 1.0)
                + v.get("effect.work_exit_added", 0.0),
                "control (baseline x cycle)": v["baseline.work_exit_rate"] * v.get("cycle.multiplier", 1.0)}
    for who, p in combined.items():
        if not (0.0 <= p <= 1.0):
            fail(f"the yearly chance of leaving benefit for work in the {who} is {p:g}, outside [0, 1]; the model "
                 f"would have to clip it", "effect.work_exit_added" if "treatment" in who else "cycle.multiplier",
                 "lower the effect, the ratio or the cycle multiplier so the chance stays between 0 and 1")
    other = v["baseline.other_exit_rate"] + v.get("effect.other_exit_added", 0.0)
    if not (0.0 <= other <= 1.0):
        fail(f"the yearly chance of other exits (baseline.other_exit_rate + effect.other_exit_added) is {other:g}, "
             f"outside [0, 1]; the model would have to clip it", "effect.other_exit_added",
             "keep baseline + added between 0 and 1")
    if people <= 0:
        fail("the case has no participants (initial participants and inflow are both 0)", "cohort.initial_participants",
             "give the number of participants")
    if v["jobs.share"] > 0:
        if v["jobs.start_month"] >= v["jobs.end_month"]:
            fail(f"the trial before the contracts (jobs.start_month = {v['jobs.start_month']:g}) is not shorter than the "
                 f"programme's contracts (jobs.end_month = {v['jobs.end_month']:g})", "jobs.start_month",
                 "start the contracts before they end")
        if v["jobs.start_month"] >= v["programme.months"]:
            fail(f"the trial (jobs.start_month = {v['jobs.start_month']:g} months) is longer than the programme "
                 f"(programme.months = {v['programme.months']:g})", "jobs.start_month",
                 "shorten the trial or lengthen the programme")
    if v["secondment.share"] > 0 and v["secondment.ramp_months"] > H:
        fail(f"the build-up (secondment.ramp_months = {v['secondment.ramp_months']:g}) is longer than the horizon "
             f"(horizon.months = {H:g})", "secondment.ramp_months", "lengthen the horizon or shorten the build-up")
    if v["effect.lock_in_months"] + v["effect.ramp_months"] > H:
        fail(f"the effect's lock-in + build-up ({v['effect.lock_in_months']:g} + {v['effect.ramp_months']:g} months) "
             f"is longer than the horizon ({H:g} months)", "effect.ramp_months", "lengthen the horizon or shorten the build-up")
    if v["evaluation.month"] > H:
        fail(f"the evaluation month ({v['evaluation.month']:g}) lies beyond the horizon ({H:g})", "evaluation.month",
             "read the result within the horizon")
    for p in case.published:
        if p.metric in ("extra_ended_benefits", "ended_benefits_treatment", "ended_benefits_control") \
                and p.value > people:
            fail(f"published {p.metric} = {p.value:g} is more exits than people in the case ({people:g})",
                 f"published.{p.metric}", "check the count or the number of participants")
    pilot = case.pilot
    if pilot is not None:
        if pilot.population is not None and pilot.treatment_group + pilot.control_group > pilot.population:
            fail(f"the control group ({pilot.control_group}) plus the treatment group ({pilot.treatment_group}) is larger "
                 f"than the population they were drawn from ({pilot.population})", "pilot.control_group",
                 "check the group sizes")
        for grp, ended, size in (("treatment", pilot.treatment_ended, pilot.treatment_group),
                                 ("control", pilot.control_ended, pilot.control_group)):
            if ended is not None and ended > size:
                fail(f"more exits than people: {ended} ended benefits in a {grp} group of {size}", f"pilot.{grp}_ended",
                     "check the counts")
    from .cohort import check_inputs   # the model's own checks on timing, cost shares and stated outcomes

    check_inputs(v, file=file or case.source_file)
    for name, g in case.groups.items():
        check_inputs({**v, **g.values}, file=f"{file or case.source_file}#groups.{name}")


def check_calibration(case: Case, *, file: str | None = None) -> None:
    """Reject a ``calibration:`` section that names unknown parameters or figures, naming the field."""
    cal = case.calibration
    if cal is None:
        return
    file = file or case.source_file

    def fail(problem: str, field: str, value, fix: str):
        raise InputError(problem, file=file, field=field, value=value, fix=fix)

    for name, fp in cal.free.items():
        if name not in SCHEMA:
            fail(f"unknown parameter '{name}'", f"calibration.free.{name}", None, did_you_mean(name, SCHEMA))
        if not fp.low < fp.high:
            fail(f"the plausible range of {name} is empty (low {fp.low:g}, high {fp.high:g})", f"calibration.free.{name}",
                 None, "give low < high")
        for bound in (fp.low, fp.high):
            check_value(name, bound, file=file)
        if fp.points is not None and fp.points < 1:
            fail("an identification grid needs at least one point", f"calibration.free.{name}.points", fp.points,
                 "give points >= 2")
    base = {p.metric for p in case.published if p.variant is None}
    for p in case.published:
        if p.expect == "missed" and p.metric in cal.targets and p.variant is None:
            fail(f"calibration target '{p.metric}' is marked expect: missed", "calibration.targets", p.metric,
                 "a fit cannot aim at a figure the reading is known to miss: remove one of the two")
    for t in cal.targets:
        if t not in base:
            where = [p.variant for p in case.published if p.metric == t]
            fix = (f"'{t}' is published only for variant {where[0]}; calibration fits the case itself" if where else
                   did_you_mean(t, sorted(base)) + " (a target is the metric of one of the case's published: entries)")
            fail(f"calibration target '{t}' is not a published figure of case {case.name}", "calibration.targets", t, fix)
    for k in cal.kinds:
        if not any(p.metric == k.metric and p.variant == k.variant for p in case.published):
            fail(f"no published figure '{k.metric}'" + (f" for variant {k.variant}" if k.variant else ""),
                 "calibration.kinds", k.metric, did_you_mean(k.metric, sorted({p.metric for p in case.published})))
        if k.variant is None and k.metric in cal.targets:
            fail(f"'{k.metric}' is a calibration target, so it is 'calibrated'", "calibration.kinds", k.metric,
                 "remove it from calibration.kinds")


# ---------------------------------------------------------------- full validation (mkba validate)
def check_published_metrics(case: Case, metrics: Mapping[str, Any], *, file: str | None = None) -> None:
    """Every ``published:`` entry must name a metric the model computes."""
    for i, p in enumerate(case.published):
        if p.metric not in metrics:
            raise InputError(f"unknown metric '{p.metric}' in published figure {i + 1}", file=file or case.source_file,
                             field=f"published[{i}].metric", value=p.metric,
                             fix=did_you_mean(p.metric, sorted(metrics)) + " (the metrics are listed by "
                                 "`mkba run <case> --format json`)")
        if p.variant is not None and p.variant not in case.variants:
            raise InputError(f"published figure {i + 1} refers to an unknown variant '{p.variant}'",
                             file=file or case.source_file, field=f"published[{i}].variant", value=p.variant,
                             fix=did_you_mean(p.variant, case.variants) + f" (variants: {', '.join(case.variants) or 'none'})")


def validate_case_fully(path: str | Path) -> tuple[Case, list[str]]:
    """Load a case, each of its variants, and check its published metrics (what ``mkba validate`` runs).

    Returns the case and the names of the variants checked.
    """
    from .model import summarise

    case = load_case(path)
    if case.measured_in is not None:
        from .cycle import _index_data

        years = _index_data()[0]
        if not min(years) <= case.measured_in <= max(years):
            raise InputError(f"measured_in {case.measured_in} lies outside the years of the economic-cycle index "
                             f"({min(years)}-{max(years)}); scenarios and replay scale relative to it",
                             file=case.source_file, field="measured_in", value=case.measured_in,
                             fix=f"give the year the baseline exit rates were measured, {min(years)}-{max(years)}")
    metrics = summarise(case)["metrics"]
    for name in case.variants:
        load_case(path, variant=name)
    check_published_metrics(case, metrics)
    return case, list(case.variants)

"""Sensitivity analysis on a batch model: one-way, two-way, probabilistic, Sobol and Morris.

Every function takes a *batch model* (docs/ARCHITECTURE.md, "The batch model contract")::

    model = functools.partial(mkba.model.evaluate_batch, case)   # values -> metrics, arrays (n,)
    base = case.values                                            # {name: float}

and evaluates all parameter sets of a sweep in as few model calls as possible (one call per
chunk of :data:`mkba.scaleout.DEFAULT_CHUNK` rows); there is no per-scenario Python loop.
Parameters a sweep does not vary are passed at their base value.  ``executor=`` runs the chunks
elsewhere, e.g. ``mkba.scaleout.DaskExecutor(address)``; results are identical.

Ranges for one-way, Sobol and Morris come from ``ranges={name: (low, high, reason)}`` (e.g.
:func:`ranges_from_case`); parameters without one get :func:`default_range` (overridable via
``rule=``), clipped to valid ``bounds={name: (min, max)}`` (default: the model schema,
:func:`schema_bounds`; pass ``bounds={}`` for none).

Bad input raises :class:`mkba.errors.InputError` (unknown names with a suggestion, empty grids,
distributions that exclude the base value, ...) or is fixed automatically with a warning that
says exactly what was changed (inverted ranges swapped, ranges extended to include the base
value, ranges clipped to bounds, unsorted grid values sorted, Sobol N rounded up to a power of 2).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from mkba.errors import InputError, closest
from mkba.scaleout import (DEFAULT_CHUNK, ArraySamples, Concat, DrawSamples, ProductSamples, call_model,
                           execute, require_metrics)

BatchModel = Callable[[dict], dict]
DEFAULT_METRICS: tuple[str, ...] = ("npv_eur", "net_result_eur", "break_even_month")

#: parameters left out of default one-way / Sobol / Morris sweeps (they set the time axis)
STRUCTURAL: frozenset[str] = frozenset({"horizon.months", "evaluation.month"})

#: relative half-widths of the default range rule, by kind of parameter
DEFAULT_RELATIVE: dict[str, float] = {"cost": 0.25, "rate": 0.50, "other": 0.25}

_RATE_WORDS = ("rate", "_pp", "pp_", "effect", "share", "fraction", "prob", "hazard", "ratio", "factor",
               "multiplier", "elasticity", "sensitivity", "added")
_COST_WORDS = ("cost", "eur", "price", "wage", "amount", "salary", "fee", "budget", "tariff", "saving",
               "per_year", "per_month", "per_hour", "wellbeing", "overhead", "top_up", "value")
_SCHEMA_KIND_CLASS = {"eur": "cost", "eur_small": "cost", "probability": "rate", "share": "rate", "ratio": "rate",
                      "rate": "rate", "months": "other", "persons": "other", "fte": "other", "hours": "other"}


class UnstableIndicesWarning(UserWarning):
    """Sobol/Morris sample size too small for stable indices."""


# ============================================================================ ranges and names
def _schema():
    try:
        from mkba.schema import SCHEMA
        return SCHEMA
    except Exception:  # pragma: no cover - schema is another module's concern
        return {}


def schema_bounds() -> dict[str, tuple[float, float]]:
    """Valid ``(min, max)`` per parameter from :mod:`mkba.schema` (empty if unavailable)."""
    return {k: (float(s.minimum), float(s.maximum)) for k, s in _schema().items()}


def integer_parameters() -> frozenset[str]:
    """Parameters the schema declares whole numbers (months, persons): sweeps keep them whole."""
    return frozenset(k for k, s in _schema().items() if getattr(s, "integer", False))


def _integer_draws(dists: Mapping[str, Any]) -> tuple[str, ...]:
    names = tuple(k for k in dists if k in integer_parameters())
    if names:
        warnings.warn(f"draws of {list(names)} are rounded to whole numbers (the schema says they are whole "
                      f"months/persons)", UserWarning, stacklevel=3)
    return names


def _param_class(name: str) -> str:
    spec = _schema().get(name)
    if spec is not None:
        return _SCHEMA_KIND_CLASS.get(spec.kind, "other")
    last = name.rsplit(".", 1)[-1].lower()
    for words, cls in ((_RATE_WORDS, "rate"), (_COST_WORDS, "cost")):
        if any(w in last for w in words):
            return cls
    low = name.lower()
    if any(w in low for w in _COST_WORDS):
        return "cost"
    if any(w in low for w in _RATE_WORDS):
        return "rate"
    return "other"


def default_range(name: str, value: float, bounds: tuple[float, float] | None = None,
                  relative: Mapping[str, float] | None = None) -> tuple[float, float, str]:
    """The default one-way range when the case file gives none.

    Money (costs, wages, benefits; schema kinds ``eur``) varies by +-25 %, rates, shares,
    probabilities, effects and ratios by +-50 %, anything else by +-25 % (``relative`` overrides
    these half-widths: ``{"cost": .., "rate": .., "other": ..}``).  The range is clipped to the
    valid ``bounds`` and rounded outward to whole numbers for integer schema parameters (months,
    persons).  Returns ``(low, high, reason)``; the reason says which rule applied.
    """
    rel = dict(DEFAULT_RELATIVE, **(relative or {}))
    cls = _param_class(name)
    r = rel[cls]
    v = float(value)
    lo, hi = sorted((v * (1 - r), v * (1 + r)))
    what = {"cost": "money", "rate": "rate/share/effect", "other": "other"}[cls]
    reason = f"default ±{r:.0%} ({what}); no range in the case file"
    if v == 0:
        reason = "default rule: base value is 0, so a relative range is empty; set low/high in the case file"
    spec = _schema().get(name)
    if spec is not None and getattr(spec, "integer", False):
        lo, hi = math.floor(lo), math.ceil(hi)
    if bounds is not None:
        blo, bhi = float(bounds[0]), float(bounds[1])
        clo, chi = min(max(lo, blo), bhi), max(min(hi, bhi), blo)
        if (clo, chi) != (lo, hi):
            reason += f", clipped to the valid range [{blo:g}, {bhi:g}]"
        lo, hi = clo, chi
    return lo, hi, reason


def ranges_from_case(case: Any) -> dict[str, tuple[float, float, str]]:
    """``{name: (low, high, reason)}`` for the model parameters (``case.values``) whose case file gives
    ``low``/``high``; parameters outside ``case.values`` (e.g. reference figures) are left out."""
    out = {}
    values = getattr(case, "values", None)
    for name, p in getattr(case, "parameters", {}).items():
        if values is not None and name not in values:
            continue
        lo, hi = getattr(p, "low", None), getattr(p, "high", None)
        if lo is not None and hi is not None:
            out[name] = (float(lo), float(hi), getattr(p, "range_reason", None) or "range in the case file")
    return out


#: Parameters that set the size or the time axis of a case. They are choices, not uncertainties:
#: a case-led sweep never varies them (a bigger programme is a different programme).
SCALE: frozenset[str] = frozenset({"cohort.initial_participants", "cohort.inflow_per_month", "cohort.inflow_months",
                                   "horizon.months", "evaluation.month"})

NOT_VARIED_SCALE = "not varied: scale of the case, not an uncertainty"
NOT_VARIED_NO_RANGE = "not varied: no range documented"
NOT_VARIED_NO_EFFECT = "not varied: does not change any output of the case"
NOT_VARIED_EMPTY = "not varied: documented range has no width"


@dataclass
class CaseSelection:
    """What a case-led sweep varies (``ranges``) and what it leaves out, with the reason (``not_varied``)."""

    ranges: dict[str, tuple[float, float, str]]
    not_varied: dict[str, str]

    def not_varied_table(self) -> pd.DataFrame:
        return pd.DataFrame([{"parameter": k, "reason": v} for k, v in sorted(self.not_varied.items())],
                            columns=["parameter", "reason"])


def case_selection(case: Any, *, include_defaults: bool = False, model: BatchModel | None = None,
                   probe: bool = True) -> CaseSelection:
    """The parameters a sweep of ``case`` varies, led by the uncertainty the data documents.

    * a parameter with ``low``/``high`` in the case file or the parameter set it extends is varied
      over that range (:func:`ranges_from_case`);
    * one without is left out and listed as "no range documented", unless ``include_defaults``
      (then :func:`default_range` applies, the reason says so);
    * :data:`SCALE` parameters (participants, inflow, horizon, count date) are never varied;
    * with ``probe`` (default) the candidates are run once at both ends of their range (one batch
      of ``2 p + 1`` rows on ``model``, default ``mkba.model.evaluate_batch`` on ``case``) and a
      parameter that changes none of the model's outputs is left out ("does not change any output").
    """
    ranges, not_varied = _candidates(case, include_defaults)
    if probe and ranges:
        if model is None:
            from functools import partial

            from mkba.model import evaluate_batch
            model = partial(evaluate_batch, case)
        rows, n = _probe_rows(case.values, ranges)
        _drop_no_effect(ranges, not_varied, call_model(model, rows, n), 0, n)
    return CaseSelection(ranges, not_varied)


def case_selections(cases: Sequence[Any]) -> list[CaseSelection]:
    """:func:`case_selection` (documented ranges, probed on ``mkba.model.evaluate_batch``) of many
    cases, with the probes of cases that share their parameters and non-numeric settings (the
    municipalities of one approach) in one batch.

    The batch model is element-wise per row, and a probe passes every numeric value as an array,
    so one call on the first case of such a group answers for the whole group. The answer equals
    :func:`case_selection` of each case (tested).
    """
    from functools import partial

    from mkba.model import evaluate_batch

    def signature(c):   # the numeric parameters (passed as arrays) and every other setting (from the case)
        return repr(sorted((k, "number" if _numeric(v) else repr(v)) for k, v in c.values.items()))

    cands = [_candidates(c, False) for c in cases]
    groups: dict[str, list[int]] = {}
    for i, (c, (ranges, _nv)) in enumerate(zip(cases, cands)):
        if ranges:
            groups.setdefault(signature(c), []).append(i)
    for members in groups.values():
        rows = {i: _probe_rows(cases[i].values, cands[i][0]) for i in members}
        stacked = {k: np.concatenate([rows[i][0][k] for i in members]) for k in rows[members[0]][0]}
        total = sum(rows[i][1] for i in members)
        out = call_model(partial(evaluate_batch, cases[members[0]]), stacked, total)
        lo = 0
        for i in members:
            _drop_no_effect(*cands[i], out, lo, rows[i][1])
            lo += rows[i][1]
    return [CaseSelection(r, nv) for r, nv in cands]


def _candidates(case: Any, include_defaults: bool) -> tuple[dict, dict]:
    """The ranges :func:`case_selection` would probe, and what it leaves out before probing (why)."""
    values = case.values
    documented = ranges_from_case(case)
    bounds = schema_bounds()
    ranges: dict[str, tuple[float, float, str]] = {}
    not_varied: dict[str, str] = {}
    for name, v in values.items():
        if not _numeric(v):
            continue
        if name in SCALE:
            not_varied[name] = NOT_VARIED_SCALE
        elif name in documented:
            lo, hi, why = documented[name]
            if hi > lo:
                ranges[name] = (lo, hi, why)
            else:
                not_varied[name] = NOT_VARIED_EMPTY
        elif include_defaults:
            lo, hi, why = default_range(name, float(v), bounds.get(name))
            if hi > lo:
                ranges[name] = (lo, hi, why)
            else:
                not_varied[name] = f"{NOT_VARIED_NO_RANGE} (and the default rule gives none: base value {v:g})"
        else:
            not_varied[name] = NOT_VARIED_NO_RANGE
    return ranges, not_varied


def _probe_rows(values: Mapping[str, Any], ranges: Mapping[str, tuple]) -> tuple[dict[str, np.ndarray], int]:
    """The probe batch: row 0 the case, then each candidate at its low and at its high end."""
    names = list(ranges)
    n = 2 * len(names) + 1
    arrays = {}
    for i, name in enumerate(names):
        a = np.full(n, float(values[name]))
        a[1 + 2 * i], a[2 + 2 * i] = ranges[name][0], ranges[name][1]
        arrays[name] = a
    fixed = {k: v for k, v in values.items() if _numeric(v) and k not in arrays}
    return {**{k: np.full(n, float(v)) for k, v in fixed.items()}, **arrays}, n


def _drop_no_effect(ranges: dict, not_varied: dict, out: Mapping[str, np.ndarray], lo: int, n: int) -> None:
    """Move the candidates whose probe rows ``lo .. lo + n`` of ``out`` change no output to ``not_varied``."""
    ys = [y[lo:lo + n] for y in out.values()]   # call_model: every output a float array of the batch
    for i, name in enumerate(list(ranges)):
        same = all(np.array_equal(y[[1 + 2 * i, 2 + 2 * i]], np.array([y[0], y[0]]), equal_nan=True)
                   for y in ys)
        if same:
            del ranges[name]
            not_varied[name] = NOT_VARIED_NO_EFFECT


def case_one_way(case: Any, metrics: str | Sequence[str] = DEFAULT_METRICS, *, include_defaults: bool = False,
                 chunk_size: int = DEFAULT_CHUNK, executor: Callable | None = None) -> pd.DataFrame:
    """:func:`one_way` over :func:`case_selection`; ``attrs["not_varied"]`` lists what was left out and why."""
    from functools import partial

    from mkba.model import evaluate_batch

    model = partial(evaluate_batch, case)
    sel = case_selection(case, include_defaults=include_defaults, model=model)
    if not sel.ranges:
        raise InputError("nothing to vary: no parameter of the case has a documented range (low/high)",
                         field="low/high", value=case.name, fix="document low/high for the uncertain parameters in "
                         "the case file, or pass include_defaults=True (--include-defaults)")
    df = one_way(model, case.values, sel.ranges, metrics, parameters=list(sel.ranges), chunk_size=chunk_size,
                 executor=executor)
    df.attrs["not_varied"] = dict(sel.not_varied)
    return df


def tornado_text(table: pd.DataFrame, *, top: int | None = 15, width: int = 100,
                 not_varied: Mapping[str, str] | None = None) -> str:
    """The one-way table as plain text within ``width`` columns: per metric the ``top`` largest swings
    (``None`` = all), then the parameters not varied grouped by reason."""
    import textwrap

    nv = dict(table.attrs.get("not_varied", {}) if not_varied is None else not_varied)
    lines: list[str] = []

    def num(x: float) -> str:
        if x != x:
            return "never"
        if math.isinf(x):
            return "inf"
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.4g}"

    pw = 34
    head = f"{'parameter':<{pw}} {'low':>9} {'high':>9} {'at low':>13} {'at high':>13} {'swing':>13}"
    for metric, grp in table.groupby("metric", sort=False):
        shown = grp if top is None else grp.head(top)
        lines.append(f"== one-way: {metric} (base {num(float(grp['base_value'].iloc[0]))}); "
                     f"{len(shown)} of {len(grp)} parameters" + ("" if len(shown) == len(grp) else ", --all for the rest"))
        lines.append(head)
        for r in shown.itertuples():
            name = r.parameter if len(r.parameter) <= pw else r.parameter[:pw - 1] + "~"
            lines.append(f"{name:<{pw}} {num(r.low):>9} {num(r.high):>9} {num(r.value_low):>13} "
                         f"{num(r.value_high):>13} {num(r.swing):>13}")
        lines.append("")
    by_reason: dict[str, list[str]] = {}
    for k, why in sorted(nv.items()):
        by_reason.setdefault(why, []).append(k)
    for why, names in by_reason.items():
        lines.extend(textwrap.wrap(f"{why} ({len(names)}): {', '.join(names)}", width=width,
                                   subsequent_indent="  ", break_on_hyphens=False))
    return "\n".join(lines).rstrip() + "\n"


def _check_names(names: Iterable[str], base: Mapping[str, Any], what: str) -> None:
    for n in names:
        if n not in base:
            hint = closest(n, list(base))
            raise InputError(f"unknown parameter name in {what}", field=n, value=n,
                             fix=(f"did you mean '{hint[0]}'?" if hint else
                                  "use one of the case's parameter names (case.values)"))


def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)) \
        and math.isfinite(float(v))


def _resolve_bounds(bounds: Mapping[str, tuple[float, float]] | None) -> dict[str, tuple[float, float]]:
    return schema_bounds() if bounds is None else dict(bounds)


def resolve_ranges(base: Mapping[str, float], ranges: Mapping[str, Sequence] | None = None,
                   parameters: Iterable[str] | None = None, bounds: Mapping[str, tuple[float, float]] | None = None,
                   rule: Callable[..., tuple[float, float, str]] = default_range
                   ) -> dict[str, tuple[float, float, str]]:
    """Final ``{name: (low, high, reason)}`` for a sweep.

    ``parameters`` defaults to every finite numeric base value except :data:`STRUCTURAL`.  Given
    ranges are checked: inverted ones are swapped, ones that exclude the base value are extended
    to it, ones beyond ``bounds`` are clipped - each with a warning naming the new values.
    """
    ranges = dict(ranges or {})
    _check_names(ranges, base, "ranges")
    if parameters is None:
        parameters = [k for k, v in base.items() if _numeric(v) and k not in STRUCTURAL]
    else:
        parameters = list(parameters)
        _check_names(parameters, base, "parameters")
        for p in parameters:
            if not _numeric(base[p]):
                raise InputError("this parameter has no finite numeric base value to vary", field=p,
                                 value=base[p], fix="leave it out of `parameters`")
    b = _resolve_bounds(bounds)
    out: dict[str, tuple[float, float, str]] = {}
    for p in parameters:
        v = float(base[p])
        if p not in ranges:
            out[p] = tuple(rule(p, v, b.get(p)))  # type: ignore[assignment]
            continue
        r = ranges[p]
        if len(r) not in (2, 3):
            raise InputError("a range must be (low, high) or (low, high, reason)", field=p, value=r,
                             fix="write e.g. (12000, 16000, 'household mix')")
        lo, hi = float(r[0]), float(r[1])
        reason = str(r[2]) if len(r) == 3 and r[2] else "given range"
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise InputError("range bounds must be finite numbers", field=p, value=(r[0], r[1]),
                             fix="give finite low and high")
        if lo > hi:
            warnings.warn(f"{p}: range low ({lo:g}) was above high ({hi:g}); swapped them: low={hi:g}, high={lo:g}",
                          UserWarning, stacklevel=3)
            lo, hi = hi, lo
        if not lo <= v <= hi:
            nlo, nhi = min(lo, v), max(hi, v)
            warnings.warn(f"{p}: range [{lo:g}, {hi:g}] excluded the base value {v:g}; extended it to "
                          f"[{nlo:g}, {nhi:g}]", UserWarning, stacklevel=3)
            lo, hi = nlo, nhi
        if p in b:
            blo, bhi = b[p]
            clo, chi = max(lo, blo), min(hi, bhi)
            if (clo, chi) != (lo, hi):
                warnings.warn(f"{p}: range [{lo:g}, {hi:g}] reached outside the valid range [{blo:g}, {bhi:g}]; "
                              f"clipped it to [{clo:g}, {chi:g}]", UserWarning, stacklevel=3)
                lo, hi = clo, chi
        out[p] = (lo, hi, reason)
    return out


def _metrics_tuple(metrics: str | Sequence[str]) -> tuple[str, ...]:
    return (metrics,) if isinstance(metrics, str) else tuple(metrics)


def _run(model, base, arrays: dict[str, np.ndarray], metrics, chunk_size, executor) -> dict[str, np.ndarray]:
    samples = ArraySamples(arrays, {k: v for k, v in base.items() if _numeric(v) and k not in arrays})
    return execute(executor, model, samples, chunk_size, Concat(list(metrics)))


# ============================================================================ base run / one-way
def base_run(model: BatchModel, base: Mapping[str, float], metrics: Sequence[str] | None = None) -> dict[str, float]:
    """The model at the base values (n = 1), as floats."""
    fixed = {k: v for k, v in base.items() if _numeric(v)}
    out = call_model(model, {k: np.array([float(v)]) for k, v in fixed.items()}, 1)
    if metrics is not None:
        require_metrics(out, metrics)
        out = {m: out[m] for m in metrics}
    return {k: float(v[0]) for k, v in out.items()}


def one_way(model: BatchModel, base: Mapping[str, float], ranges: Mapping[str, Sequence] | None = None,
            metrics: str | Sequence[str] = DEFAULT_METRICS, bounds: Mapping[str, tuple[float, float]] | None = None,
            *, parameters: Iterable[str] | None = None, rule: Callable = default_range,
            chunk_size: int = DEFAULT_CHUNK, executor: Callable | None = None) -> pd.DataFrame:
    """One-way sensitivity: each parameter at its low and high value, all others at base.

    All ``2 p + 1`` parameter sets go to the model in one batch.  Returns a tidy DataFrame with
    columns ``metric, parameter, param_base, low, high, reason, value_low, value_high, base_value,
    swing`` (``swing = |value_high - value_low|``), sorted by metric (in the given order) and
    swing, largest first.  For ``break_even_month`` NaN means never; a side that never breaks
    even while the other does gets ``swing = inf``.
    """
    metrics = _metrics_tuple(metrics)
    rng = resolve_ranges(base, ranges, parameters, bounds, rule)
    names = list(rng)
    p = len(names)
    if p == 0:
        raise InputError("nothing to vary: no numeric parameters", field="parameters", value=parameters,
                         has_value=True, fix="pass parameters=[...] with names from case.values")
    n = 2 * p + 1
    arrays = {}
    for i, name in enumerate(names):
        a = np.full(n, float(base[name]))
        a[1 + 2 * i] = rng[name][0]
        a[2 + 2 * i] = rng[name][1]
        arrays[name] = a
    out = _run(model, base, arrays, metrics, chunk_size, executor)
    rows = []
    for m in metrics:
        y = out[m]
        for i, name in enumerate(names):
            lo_v, hi_v = y[1 + 2 * i], y[2 + 2 * i]
            if np.isnan(lo_v) and np.isnan(hi_v):
                swing = 0.0
            elif np.isnan(lo_v) or np.isnan(hi_v):
                swing = math.inf
            else:
                swing = abs(hi_v - lo_v)
            rows.append({"metric": m, "parameter": name, "param_base": float(base[name]),
                         "low": rng[name][0], "high": rng[name][1], "reason": rng[name][2],
                         "value_low": lo_v, "value_high": hi_v, "base_value": y[0], "swing": swing})
    df = pd.DataFrame(rows)
    df["_m"] = df["metric"].map({m: i for i, m in enumerate(metrics)})
    df = df.sort_values(["_m", "swing"], ascending=[True, False], kind="stable").drop(columns="_m")
    return df.reset_index(drop=True)


def switching_value(model: BatchModel, base: Mapping[str, float], name: str, search: tuple[float, float],
                    metric: str = "npv_eur", level: float = 0.0, points: int = 1025) -> list[float]:
    """Values of ``name`` within ``search`` where ``metric`` crosses ``level`` (others at base).

    Two vectorised passes: a grid of ``points`` values, then a fine grid inside each bracketing
    cell (relative accuracy about ``1 / points**2`` of the search width).  Empty list: no crossing.
    """
    _check_names([name], base, "switching_value")
    lo, hi = sorted(float(s) for s in search)
    if not hi > lo:
        raise InputError("search interval has no width", field=name, value=search,
                         fix="give (low, high) with low < high")
    xs = np.linspace(lo, hi, points)
    y = _run(model, base, {name: xs}, [metric], DEFAULT_CHUNK, None)[metric] - level
    cells = np.nonzero(np.sign(y[:-1]) * np.sign(y[1:]) < 0)[0]
    exact = list(xs[y == 0])
    if not len(cells):
        return sorted(exact)
    fine = np.concatenate([np.linspace(xs[c], xs[c + 1], points) for c in cells])
    yf = _run(model, base, {name: fine}, [metric], DEFAULT_CHUNK, None)[metric] - level
    res = exact
    for k in range(len(cells)):
        seg_x, seg_y = fine[k * points:(k + 1) * points], yf[k * points:(k + 1) * points]
        j = np.nonzero(np.sign(seg_y[:-1]) * np.sign(seg_y[1:]) <= 0)[0]
        if len(j):
            j = j[0]
            x0, x1, y0, y1 = seg_x[j], seg_x[j + 1], seg_y[j], seg_y[j + 1]
            res.append(float(x0 - y0 * (x1 - x0) / (y1 - y0)) if y1 != y0 else float(x0))
    return sorted(res)


# ============================================================================ two-way
@dataclass
class TwoWayResult:
    """Grids ``values[metric]`` of shape ``(len(y_values), len(x_values))`` (rows = y)."""

    x_name: str
    x_values: np.ndarray
    y_name: str
    y_values: np.ndarray
    values: dict[str, np.ndarray]
    base: dict[str, float] = field(default_factory=dict)

    def __getitem__(self, metric: str) -> np.ndarray:
        return self.values[metric]

    def to_frame(self) -> pd.DataFrame:
        """Long form: one row per grid point, columns x_name, y_name and one per metric."""
        X, Y = np.meshgrid(self.x_values, self.y_values)
        d = {self.x_name: X.ravel(), self.y_name: Y.ravel()}
        d.update({m: v.ravel() for m, v in self.values.items()})
        return pd.DataFrame(d)

    def switching_values(self, metric: str = "npv_eur", level: float = 0.0) -> pd.DataFrame:
        return switching_values(self, metric, level)


def _grid(name: str, values: Any, bounds: Mapping[str, tuple[float, float]]) -> np.ndarray:
    v = np.atleast_1d(np.asarray(values, dtype=float)).ravel()
    if v.size == 0:
        raise InputError("the grid has no points", field=name, value=list(v),
                         fix="give at least one value, e.g. np.linspace(low, high, 21)")
    if not np.all(np.isfinite(v)):
        raise InputError("grid values must be finite numbers", field=name, value=v[~np.isfinite(v)].tolist(),
                         fix="remove NaN/inf from the grid")
    if name in bounds:
        blo, bhi = bounds[name]
        bad = (v < blo) | (v > bhi)
        if bad.all():
            raise InputError(f"every grid value lies outside the valid range [{blo:g}, {bhi:g}]", field=name,
                             value=v.tolist(), fix="choose values within the valid range")
        if bad.any():
            warnings.warn(f"{name}: dropped grid values outside the valid range [{blo:g}, {bhi:g}]: "
                          f"{v[bad].tolist()}", UserWarning, stacklevel=3)
            v = v[~bad]
    u = np.unique(v)
    if len(u) != len(v) or not np.array_equal(u, v):
        warnings.warn(f"{name}: grid values were not strictly increasing; sorted them and removed "
                      f"{len(v) - len(u)} duplicate(s): {u.tolist()}", UserWarning, stacklevel=3)
    return u


def two_way(model: BatchModel, base: Mapping[str, float], x: tuple[str, Any], y: tuple[str, Any],
            metrics: str | Sequence[str] = ("npv_eur", "break_even_month"),
            bounds: Mapping[str, tuple[float, float]] | None = None, *, chunk_size: int = DEFAULT_CHUNK,
            executor: Callable | None = None) -> TwoWayResult:
    """Two-way grid, e.g. ``x=("baseline.work_exit_rate", np.linspace(.03, .12, 31)),
    y=("cycle.multiplier", np.linspace(.6, 1.4, 33))``: every combination in one batch.

    Grid values are sorted (with a warning if they were not); values outside ``bounds`` are
    dropped with a warning.  Use :func:`switching_values` / :func:`mkba.plots.heatmap` for the
    NPV = 0 contour.
    """
    metrics = _metrics_tuple(metrics)
    (xn, xv), (yn, yv) = x, y
    _check_names([xn, yn], base, "two_way")
    if xn == yn:
        raise InputError("x and y must be different parameters", field="y", value=yn,
                         fix="pick a second parameter for y")
    b = _resolve_bounds(bounds)
    xs, ys = _grid(xn, xv, b), _grid(yn, yv, b)
    X, Y = np.meshgrid(xs, ys)
    out = _run(model, base, {xn: X.ravel(), yn: Y.ravel()}, metrics, chunk_size, executor)
    grids = {m: out[m].reshape(len(ys), len(xs)) for m in metrics}
    return TwoWayResult(xn, xs, yn, ys, grids, {k: float(v) for k, v in base.items() if _numeric(v)})


def switching_values(result: TwoWayResult, metric: str = "npv_eur", level: float = 0.0) -> pd.DataFrame:
    """Where ``metric`` crosses ``level`` on a two-way grid (linear interpolation between points).

    For each x value: the y values at which the metric crosses (``solved_for = y``); for each y
    value: the x values (``solved_for = x``).  Columns: ``x_name, y_name, solved_for``.
    """
    if metric not in result.values:
        hint = closest(metric, list(result.values))
        raise InputError("metric not in the two-way result", field="metric", value=metric,
                         fix=(f"did you mean '{hint[0]}'? " if hint else "") + "run two_way with this metric")
    Z = result.values[metric] - level
    rows = []

    def cross(axis_vals, z):
        s = np.sign(z)
        out = []
        for j in np.nonzero(s[:-1] * s[1:] < 0)[0]:
            out.append(axis_vals[j] - z[j] * (axis_vals[j + 1] - axis_vals[j]) / (z[j + 1] - z[j]))
        out += list(axis_vals[z == 0])
        return sorted(out)

    for i, xv in enumerate(result.x_values):
        for yv in cross(result.y_values, Z[:, i]):
            rows.append({result.x_name: float(xv), result.y_name: float(yv), "solved_for": "y"})
    for j, yv in enumerate(result.y_values):
        for xv in cross(result.x_values, Z[j, :]):
            rows.append({result.x_name: float(xv), result.y_name: float(yv), "solved_for": "x"})
    return pd.DataFrame(rows, columns=[result.x_name, result.y_name, "solved_for"])


# ============================================================================ probabilistic
@dataclass
class ProbResult:
    """Outcome of :func:`probabilistic`.  ``values[metric]`` holds every draw's metric (row order
    = draw index), so any statistic can be added later; ``summary`` is the headline table."""

    n: int
    seed: Any
    values: dict[str, np.ndarray]
    p_positive: float
    percentiles: pd.DataFrame
    p_break_even: dict[int, float]
    summary: pd.DataFrame
    dists: dict = field(default_factory=dict)

    @property
    def npv(self) -> np.ndarray:
        return self.values["npv_eur"]


def _prep_dists(base, dists, bounds):
    from mkba.distributions import Dist, apply_bounds, check_against_base
    dists = {k: (v if isinstance(v, Dist) else Dist.from_mapping(v, name=k)) for k, v in dists.items()}
    check_against_base(dists, base)
    return apply_bounds(dists, _resolve_bounds(bounds))


def probabilistic(model: BatchModel, base: Mapping[str, float], dists: Mapping[str, Any], n: int = 10_000,
                  seed: Any = 0, chunk_size: int = DEFAULT_CHUNK, break_even_within: Sequence[int] = (12, 24, 36),
                  *, metrics: str | Sequence[str] = DEFAULT_METRICS,
                  percentiles: Sequence[float] = (5, 10, 25, 50, 75, 90, 95),
                  bounds: Mapping[str, tuple[float, float]] | None = None,
                  executor: Callable | None = None) -> ProbResult:
    """Monte Carlo over ``dists`` (``{name: Dist or {kind: ..}}``), other parameters at base.

    Draws are generated per chunk from the seeded per-parameter streams, so the result is the
    same for any ``chunk_size`` and executor.  Memory: the kept metric arrays (8 bytes x n each)
    plus one chunk of model work.  ``P(NPV > 0)`` uses ``npv_eur``; ``P(break-even <= N)`` counts
    ``break_even_month <= N`` (NaN = never).  Percentiles are exact (``numpy.percentile``, linear).
    """
    design = probabilistic_design(base, dists, n, seed, break_even_within, metrics=metrics, bounds=bounds)
    vals = execute(executor, model, design.samples, chunk_size, Concat(design.metrics))
    return design.summary(vals, percentiles, break_even_within)


@dataclass
class ProbDesign:
    """What :func:`probabilistic` runs: the seeded draws (``samples``), the prepared ``dists`` and the
    ``metrics`` kept.  Lets a caller run many designs in one batch model call (the municipal batch,
    :func:`mkba.views.share_municipal_draws`) and summarise each exactly as :func:`probabilistic` does."""

    samples: DrawSamples
    dists: dict
    metrics: list

    def summary(self, vals: Mapping[str, np.ndarray], percentiles: Sequence[float] = (5, 10, 25, 50, 75, 90, 95),
                break_even_within: Sequence[int] = (12, 24, 36)) -> ProbResult:
        return _prob_summary(vals, self.samples.n, self.samples.seed, self.dists, self.metrics, percentiles,
                             break_even_within)


def probabilistic_design(base: Mapping[str, float], dists: Mapping[str, Any], n: int = 10_000, seed: Any = 0,
                         break_even_within: Sequence[int] = (12, 24, 36), *,
                         metrics: str | Sequence[str] = DEFAULT_METRICS,
                         bounds: Mapping[str, tuple[float, float]] | None = None) -> ProbDesign:
    """The draws and metrics of :func:`probabilistic` (same arguments), without running the model."""
    metrics = list(_metrics_tuple(metrics))
    if not dists:
        raise InputError("no distributions given", field="dists", value={}, has_value=True,
                         fix="give e.g. {'effect.work_exit_added': Dist('triangular', low=.., mode=.., high=..)}")
    dists = _prep_dists(base, dists, bounds)
    if "npv_eur" not in metrics:
        metrics.insert(0, "npv_eur")
    if break_even_within and "break_even_month" not in metrics:
        metrics.append("break_even_month")
    fixed = {k: float(v) for k, v in base.items() if _numeric(v) and k not in dists}
    return ProbDesign(DrawSamples(dists, int(n), seed, fixed, _integer_draws(dists)), dists, metrics)


def _prob_summary(vals, n, seed, dists, metrics, percentiles, break_even_within) -> ProbResult:
    npv = vals["npv_eur"]
    p_pos = float(np.mean(npv > 0)) if n else math.nan
    q = list(percentiles)
    rows, prow = [], {}
    for m in metrics:
        x = vals[m]
        ok = x[~np.isnan(x)]
        pct = np.percentile(ok, q) if ok.size else np.full(len(q), np.nan)
        prow[m] = pct
        row = {"metric": m, "mean": ok.mean() if ok.size else np.nan, "sd": ok.std(ddof=1) if ok.size > 1 else np.nan,
               "share_nan": 1 - ok.size / x.size if x.size else np.nan,
               "p_positive": float(np.mean(x > 0)) if x.size else np.nan}
        row.update({f"p{g:g}": v for g, v in zip(q, pct, strict=True)})
        rows.append(row)
    pbe = {}
    if break_even_within:
        be = vals["break_even_month"]
        pbe = {int(N): float(np.mean(be <= N)) for N in break_even_within}   # NaN compares False = never
    summary = pd.DataFrame(rows).set_index("metric")
    pct_df = pd.DataFrame(prow, index=pd.Index(q, name="percentile"))
    return ProbResult(n, seed, vals, p_pos, pct_df, pbe, summary, dict(dists))


def acceptability_curve(model: BatchModel, base: Mapping[str, float], dists: Mapping[str, Any], cost_param: str,
                        cost_values: Sequence[float], n: int = 10_000, seed: Any = 0, *, metric: str = "npv_eur",
                        threshold: float = 0.0, chunk_size: int = DEFAULT_CHUNK,
                        bounds: Mapping[str, tuple[float, float]] | None = None,
                        executor: Callable | None = None) -> pd.DataFrame:
    """Probability that the case pays off (``metric > threshold``) against ``cost_param``.

    Every cost value uses the *same* ``n`` draws of the other uncertain parameters (common random
    numbers), so the curve is smooth and monotone in cost for a model that is.  All
    ``len(cost_values) x n`` runs go through the chunked batch engine.  Columns: ``cost,
    p_positive, mean, p5, p50, p95``.
    """
    _check_names([cost_param], base, "acceptability_curve")
    costs = _grid(cost_param, cost_values, _resolve_bounds(bounds))
    dists = dict(dists)
    if cost_param in dists:
        warnings.warn(f"{cost_param}: its distribution is not used in the acceptability curve; the parameter is "
                      f"fixed at each cost value instead", UserWarning, stacklevel=2)
        dists.pop(cost_param)
    dists = _prep_dists(base, dists, bounds) if dists else {}
    fixed = {k: float(v) for k, v in base.items() if _numeric(v) and k not in dists}
    inner = DrawSamples(dists, int(n), seed, fixed, _integer_draws(dists))
    samples = ProductSamples({cost_param: costs}, inner)
    y = execute(executor, model, samples, chunk_size, Concat([metric]))[metric].reshape(len(costs), int(n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return pd.DataFrame({"cost": costs, "p_positive": np.mean(y > threshold, axis=1),
                             "mean": np.nanmean(y, axis=1), "p5": np.nanpercentile(y, 5, axis=1),
                             "p50": np.nanpercentile(y, 50, axis=1), "p95": np.nanpercentile(y, 95, axis=1)})


# ============================================================================ Sobol and Morris
SOBOL_MIN_N = 512


def _pow2(N: int, what: str = "N") -> int:
    if not isinstance(N, (int, np.integer)) or isinstance(N, bool) or N < 2:
        raise InputError(f"{what} must be an integer >= 2", field=what, value=N, fix=f"use e.g. {what}=1024")
    N = int(N)
    if N & (N - 1):
        up = 1 << (N - 1).bit_length()
        warnings.warn(f"Sobol {what}={N} is not a power of two (Sobol sequences are balanced only for 2^k "
                      f"points); using {what}={up} instead", UserWarning, stacklevel=3)
        return up
    return N


def _unit_to_values(U: np.ndarray, names: list[str], rng: Mapping[str, tuple], dists: Mapping[str, Any]) -> dict:
    """Map unit-cube samples to parameter values: uniform over the range, or through a
    distribution's inverse CDF; whole-number parameters become discrete uniform / rounded."""
    vals = {}
    ints = integer_parameters()
    for j, name in enumerate(names):
        u = U[:, j]
        if name in dists:
            v = dists[name].ppf(np.clip(u, 1e-12, 1 - 1e-12))
            vals[name] = np.rint(v) if name in ints else v
        else:
            lo, hi = rng[name][0], rng[name][1]
            if name in ints and math.ceil(lo) <= math.floor(hi):
                lo_i, hi_i = math.ceil(lo), math.floor(hi)
                vals[name] = np.minimum(lo_i + np.floor(u * (hi_i - lo_i + 1)), hi_i)
            else:
                vals[name] = lo + u * (hi - lo)
    return vals


def _gsa_setup(base, ranges, parameters, bounds, rule, dists):
    dists = _prep_dists(base, dists, bounds) if dists else {}
    if parameters is None and ranges is None and dists:
        parameters = list(dists)
    elif parameters is None and ranges is not None:
        parameters = list(dict.fromkeys(list(ranges) + list(dists)))
    rng = resolve_ranges(base, ranges, parameters, bounds, rule)
    names = list(rng)
    if not names:
        raise InputError("nothing to vary: no numeric parameters", field="parameters", value=parameters,
                         has_value=True, fix="pass parameters=[...] or ranges={...}")
    return names, rng, dists


def sobol(model: BatchModel, base: Mapping[str, float], ranges: Mapping[str, Sequence] | None = None, N: int = 1024,
          metric: str = "npv_eur", seed: Any = 0, *, parameters: Iterable[str] | None = None,
          dists: Mapping[str, Any] | None = None, calc_second_order: bool = False,
          bounds: Mapping[str, tuple[float, float]] | None = None, rule: Callable = default_range,
          num_resamples: int = 100, conf_level: float = 0.95, chunk_size: int = DEFAULT_CHUNK,
          executor: Callable | None = None) -> pd.DataFrame:
    """Sobol indices (SALib, Saltelli/Sobol sampling) of ``metric``.

    Varied parameters: ``parameters`` if given, else the names in ``ranges`` and ``dists``, else
    every numeric base value except :data:`STRUCTURAL` (ranges by ``rule``).  Each is uniform
    over its range, or follows ``dists[name]`` when given (mapped through its inverse CDF);
    whole-number parameters (:func:`integer_parameters`) are discrete uniform / rounded.
    ``N`` must be a power of two (otherwise rounded up, with a
    warning); ``N < 512`` and wide confidence intervals (> 0.1) raise an
    :class:`UnstableIndicesWarning`.  Costs ``N (D + 2)`` model runs (``N (2D + 2)`` with second
    order).  Returns a DataFrame indexed by parameter with ``S1, S1_conf, ST, ST_conf``; second
    order indices are in ``df.attrs["S2"]`` / ``df.attrs["S2_conf"]``.  NaN metric values (e.g.
    break-even never reached) are not allowed: pick a metric without NaN.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample
    from mkba.distributions import seed_entropy
    names, rng, dists = _gsa_setup(base, ranges, parameters, bounds, rule, dists or {})
    N = _pow2(N)
    if N < SOBOL_MIN_N:
        warnings.warn(f"Sobol N={N} is small: indices are usually unstable below N={SOBOL_MIN_N} "
                      f"(confidence intervals show how much); consider N={max(SOBOL_MIN_N, 4 * N)}",
                      UnstableIndicesWarning, stacklevel=2)
    ent, _ = seed_entropy(seed)
    s = int(np.random.SeedSequence(ent).generate_state(1)[0])
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    U = sobol_sample.sample(problem, N, calc_second_order=calc_second_order, scramble=True, seed=s)
    Y = _run(model, base, _unit_to_values(U, names, rng, dists), [metric], chunk_size, executor)[metric]
    if np.isnan(Y).any():
        raise InputError(f"metric '{metric}' is NaN for {int(np.isnan(Y).sum())} of {Y.size} runs; Sobol "
                         "indices need a value for every run", field="metric", value=metric,
                         fix="use a metric without NaN (e.g. npv_eur), or narrow the ranges")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        Si = sobol_analyze.analyze(problem, Y, calc_second_order=calc_second_order, num_resamples=num_resamples,
                                   conf_level=conf_level, seed=s + 1)
    df = pd.DataFrame({"S1": Si["S1"], "S1_conf": Si["S1_conf"], "ST": Si["ST"], "ST_conf": Si["ST_conf"]},
                      index=pd.Index(names, name="parameter"))
    df["low"] = [rng[k][0] for k in names]
    df["high"] = [rng[k][1] for k in names]
    df.attrs.update({"N": N, "runs": int(Y.size), "metric": metric, "seed": seed})
    if calc_second_order:
        df.attrs["S2"] = pd.DataFrame(Si["S2"], index=names, columns=names)
        df.attrs["S2_conf"] = pd.DataFrame(Si["S2_conf"], index=names, columns=names)
    wide = df.index[(df[["S1_conf", "ST_conf"]].max(axis=1) > 0.1)].tolist()
    if wide:
        warnings.warn(f"Sobol N={N}: confidence intervals wider than 0.1 for {wide}; indices are unstable, "
                      f"consider N={4 * N}", UnstableIndicesWarning, stacklevel=2)
    return df.sort_values("ST", ascending=False, kind="stable")


def morris(model: BatchModel, base: Mapping[str, float], ranges: Mapping[str, Sequence] | None = None,
           N: int = 100, metric: str = "npv_eur", seed: Any = 0, *, num_levels: int = 4,
           parameters: Iterable[str] | None = None, bounds: Mapping[str, tuple[float, float]] | None = None,
           rule: Callable = default_range, num_resamples: int = 100, conf_level: float = 0.95,
           chunk_size: int = DEFAULT_CHUNK, executor: Callable | None = None) -> pd.DataFrame:
    """Morris elementary effects (SALib) of ``metric`` with ``N`` trajectories (``N (D + 1)`` runs).

    Effects are per full range (a step of ``Delta`` in the unit cube scaled to the range), so
    ``mu_star`` is in the metric's units.  Returns ``mu, mu_star, sigma, mu_star_conf`` by parameter,
    sorted by ``mu_star``.  Fewer than 10 trajectories raises an :class:`UnstableIndicesWarning`.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample
    from mkba.distributions import seed_entropy
    names, rng, _ = _gsa_setup(base, ranges, parameters, bounds, rule, {})
    if not isinstance(N, (int, np.integer)) or N < 2:
        raise InputError("Morris N (trajectories) must be an integer >= 2", field="N", value=N, fix="use e.g. N=100")
    if N < 10:
        warnings.warn(f"Morris N={N} trajectories is small; use at least 10 (20-50 is common)",
                      UnstableIndicesWarning, stacklevel=2)
    ent, _ = seed_entropy(seed)
    s = int(np.random.SeedSequence(ent).generate_state(1)[0])
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    U = morris_sample.sample(problem, int(N), num_levels=num_levels, seed=s)
    Y = _run(model, base, _unit_to_values(U, names, rng, {}), [metric], chunk_size, executor)[metric]
    if np.isnan(Y).any():
        raise InputError(f"metric '{metric}' is NaN for some runs; Morris needs a value for every run",
                         field="metric", value=metric, fix="use a metric without NaN (e.g. npv_eur)")
    Si = morris_analyze.analyze(problem, U, Y, num_resamples=num_resamples, conf_level=conf_level,
                                num_levels=num_levels, seed=s + 1)
    df = pd.DataFrame({"mu": Si["mu"], "mu_star": Si["mu_star"], "sigma": Si["sigma"],
                       "mu_star_conf": Si["mu_star_conf"]}, index=pd.Index(names, name="parameter"))
    df["low"] = [rng[k][0] for k in names]
    df["high"] = [rng[k][1] for k in names]
    df.attrs.update({"N": int(N), "runs": int(Y.size), "metric": metric, "seed": seed})
    return df.sort_values("mu_star", ascending=False, kind="stable")


__all__ = ["DEFAULT_METRICS", "STRUCTURAL", "DEFAULT_RELATIVE", "UnstableIndicesWarning", "schema_bounds",
           "default_range", "integer_parameters", "ranges_from_case", "resolve_ranges", "base_run", "one_way",
           "switching_value",
           "TwoWayResult", "two_way", "switching_values", "ProbResult", "ProbDesign", "probabilistic",
           "probabilistic_design", "acceptability_curve",
           "sobol", "morris"]

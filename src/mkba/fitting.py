"""Calibration as one routine: fit named free parameters to named published figures, and show
how well those figures pin the answer down.

A case declares in its ``calibration:`` section which parameters are free (with a plausible
range) and which of its ``published:`` figures are targets::

    calibration:
      free:
        effect.stock_share: {low: 0.0, high: 0.3, why: ...}              # fitted
        baseline.work_exit_rate: {low: 0.04, high: 0.07, fit: false}     # only varied in the identification
      targets: [extra_exit_events, exit_events_control]
      kinds:                                                           # the other published figures
        - {metric: programme_cost_per_year_eur, kind: input, why: "2 FTE x 66.500 typed in"}

:func:`fit` minimises the target residuals, each scaled by its published tolerance, with
``scipy.optimize.least_squares`` (bounded trust region) over the fitted parameters; the
Jacobian is one vectorised :func:`mkba.model.evaluate_batch` call (forward differences of all
parameters in one batch). Targets are compared with their published figure by
:meth:`mkba.cases.Published.holds`, the same test ``published_vs_model`` applies.

:func:`identify` evaluates a grid over *all* free parameters' plausible ranges (fitted and
identification-only) in one batch and keeps every parameter set that meets every target within
its tolerance; across those sets it reports the range of the headline metrics (net result over
the horizon, NPV, BCR, break-even month) for the municipality and for society. A wide range
means the published figures do not decide the answer.

:func:`write_fitted` writes fitted values into the case file by replacing only the value
scalars (and a provenance ``note``) in the YAML text, so comments and layout stay.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .cases import Case, Published
from .errors import InputError, did_you_mean
from .model import evaluate_batch
from .schema import SCHEMA

#: forward-difference step in the unit cube of the fitted parameters (their plausible range = 1)
JACOBIAN_STEP = 1e-6
#: identification grid points per parameter when the case does not say (fitted / identification-only)
DEFAULT_POINTS_FIT = 41
DEFAULT_POINTS_OTHER = 5
#: coarse start grid per fitted parameter (the best point is a second start for the fit)
START_GRID_POINTS = 9
#: headline metrics whose range over the identified sets is reported, per perspective
HEADLINES = ("net_result_eur", "npv_eur", "bcr", "break_even_month")
PERSPECTIVES = ("municipality", "society")
#: significant digits tried when writing a fitted value (the first that keeps every target met)
WRITE_DIGITS = range(4, 13)


@dataclass(frozen=True)
class Target:
    """A figure to hit: ``metric`` of the batch model against ``value`` (published)."""

    metric: str
    value: float
    tolerance: float = 0.0               # absolute, for comparison "approx"
    comparison: str = "approx"           # approx | at_least | at_most
    reference: str = ""

    @classmethod
    def from_published(cls, p: Published) -> "Target":
        return cls(p.metric, float(p.value), float(p.tolerance_abs()), p.comparison, p.reference)

    def as_published(self) -> Published:
        return Published(metric=self.metric, value=self.value, tolerance=self.tolerance,
                         comparison=self.comparison, reference=self.reference or "-")

    def scale(self) -> float:
        """Residual unit: the tolerance (or a small share of the value if there is none)."""
        if self.comparison == "approx" and self.tolerance > 0:
            return self.tolerance
        return max(abs(self.value) * (0.01 if self.comparison != "approx" else 1e-6), 1e-9)

    def residual(self, model: np.ndarray) -> np.ndarray:
        """Scaled residual; one-sided targets count only on the wrong side."""
        d = (np.asarray(model, dtype=float) - self.value) / self.scale()
        if self.comparison == "at_least":
            d = np.minimum(d, 0.0)
        elif self.comparison == "at_most":
            d = np.maximum(d, 0.0)
        return np.where(np.isnan(d), 1e6, d)


@dataclass
class FitResult:
    case: str
    values: dict[str, float]             # fitted parameter -> value
    start: dict[str, float]              # the case's values before the fit
    bounds: dict[str, tuple[float, float]]
    targets: list[Target]
    model: dict[str, float]              # target metric -> model value at the fit
    ok: dict[str, bool]
    evaluations: int
    message: str

    def residual_table(self):
        import pandas as pd

        rows = [{"metric": t.metric, "published": t.value, "comparison": t.comparison, "tolerance": t.tolerance,
                 "model": self.model[t.metric], "residual": self.model[t.metric] - t.value, "ok": self.ok[t.metric],
                 "reference": t.reference} for t in self.targets]
        return pd.DataFrame(rows)


@dataclass
class Identification:
    case: str
    grid: dict[str, np.ndarray]          # parameter -> the values tried on its axis
    n_grid: int
    sets: Any                            # DataFrame: every parameter set meeting every target
    ranges: Any                          # DataFrame: metric x perspective -> min, max (over ``sets``)
    targets: list[Target] = field(default_factory=list)


# ------------------------------------------------------------------ what a case declares
def _case_error(case: Case, problem: str, field: str, fix: str, value=None) -> InputError:
    return InputError(f"case {case.name}: {problem}", file=case.source_file, field=field, value=value, fix=fix)


def case_targets(case: Case) -> list[Target]:
    """The case's calibration targets as :class:`Target` (from its ``published:`` entries)."""
    from .metrics import METRIC_NAMES

    cal = case.calibration
    if cal is None or not cal.targets:
        raise _case_error(case, "no calibration targets", "calibration.targets",
                          "add a calibration: section with targets: [<metric of a published: entry>, ...]")
    out = []
    for name in cal.targets:
        if name not in METRIC_NAMES:
            raise _case_error(case, f"target '{name}' is not a metric of the model", "calibration.targets",
                              did_you_mean(name, METRIC_NAMES), value=name)
        # on a variant its own published figure for the metric if it has one, else the case's
        pubs = ([p for p in case.published if p.metric == name and p.variant == case.variant and case.variant]
                or [p for p in case.published if p.metric == name and p.variant is None])
        if not pubs:
            raise _case_error(case, f"target '{name}' is not a published figure of the case", "calibration.targets",
                              "add it to published: or remove it from calibration.targets", value=name)
        out.append(Target.from_published(pubs[0]))
    return out


def case_free(case: Case, *, fitted_only: bool = False) -> dict[str, tuple[float, float]]:
    cal = case.calibration
    if cal is None or not cal.free:
        raise _case_error(case, "no free parameters to calibrate", "calibration.free",
                          "add calibration: free: {<parameter>: {low: ..., high: ...}}; a case whose published "
                          "figures are all inputs has nothing to calibrate")
    free = {k: (f.low, f.high) for k, f in cal.free.items() if f.fit or not fitted_only}
    if fitted_only and not free:
        raise _case_error(case, "every free parameter has fit: false", "calibration.free",
                          "let at least one free parameter be fitted (fit: true)")
    return free


# ------------------------------------------------------------------ fitting
def _metrics(case: Case, overrides: Mapping[str, np.ndarray], metrics: list[str]) -> dict[str, np.ndarray]:
    out = evaluate_batch(case, dict(overrides))
    return {m: out[m] for m in metrics}


def fit(case: Case, free: Mapping[str, tuple[float, float]], targets: list[Target], *,
        fixed: Mapping[str, float] | None = None, start: Mapping[str, float] | None = None,
        require: bool = True) -> FitResult:
    """Fit ``free`` (name -> (low, high)) so the model meets ``targets``; scipy least squares, bounded.

    ``fixed`` holds other parameters at given values; ``start`` is the first starting point (default
    the case's values, clipped into the ranges); the best point of a coarse grid is a second start.
    With ``require`` a fit that misses a target raises :class:`InputError` naming case, target and fix.
    """
    from scipy.optimize import least_squares

    from .metrics import METRIC_NAMES

    names = list(free)
    if not names:
        raise _case_error(case, "no free parameters to calibrate", "calibration.free",
                          "give at least one parameter with low and high")
    for t in targets:
        if t.metric not in METRIC_NAMES:
            raise _case_error(case, f"target '{t.metric}' is not a metric of the model", "calibration.targets",
                              did_you_mean(t.metric, METRIC_NAMES), value=t.metric)
    for n in names:
        if n not in SCHEMA:
            raise _case_error(case, f"unknown parameter '{n}'", "calibration.free", did_you_mean(n, SCHEMA))
    lo = np.array([free[n][0] for n in names], dtype=float)
    hi = np.array([free[n][1] for n in names], dtype=float)
    if np.any(hi <= lo):
        bad = names[int(np.argmax(hi <= lo))]
        raise _case_error(case, f"the range of {bad} is empty", f"calibration.free.{bad}", "give low < high")
    fixed = {k: float(v) for k, v in (fixed or {}).items()}
    metrics = [t.metric for t in targets]
    counter = {"n": 0}

    def evaluate(U: np.ndarray) -> np.ndarray:
        """Scaled residuals, shape (points, targets), for unit-cube points U (points, k)."""
        X = lo + U * (hi - lo)
        ov = {k: np.full(len(U), v) for k, v in fixed.items()}
        ov.update({n: X[:, j] for j, n in enumerate(names)})
        counter["n"] += len(U)
        out = _metrics(case, ov, metrics)
        return np.column_stack([t.residual(out[t.metric]) for t in targets])

    def fun(u):
        return evaluate(u[None, :])[0]

    def jac(u):
        k = len(u)
        steps = np.where(u + JACOBIAN_STEP <= 1.0, JACOBIAN_STEP, -JACOBIAN_STEP)
        U = np.vstack([u, u + np.diag(steps)])
        R = evaluate(np.clip(U, 0.0, 1.0))
        return ((R[1:] - R[0]) / steps[:, None]).T.reshape(len(targets), k)

    base = case.values
    x0 = np.array([(start or {}).get(n, base[n]) for n in names], dtype=float)
    starts = [np.clip((x0 - lo) / (hi - lo), 0.0, 1.0)]
    axes = np.meshgrid(*[np.linspace(0.0, 1.0, START_GRID_POINTS)] * len(names), indexing="ij")
    coarse = np.column_stack([a.ravel() for a in axes])
    cost = (evaluate(coarse) ** 2).sum(1)
    starts.append(coarse[int(np.argmin(cost))])
    best = None
    for u0 in starts:
        res = least_squares(fun, u0, jac=jac, bounds=(0.0, 1.0), method="trf", xtol=1e-12, ftol=1e-12, gtol=1e-12,
                            max_nfev=200)
        if best is None or res.cost < best.cost:
            best = res
    x = lo + best.x * (hi - lo)
    values = {n: float(v) for n, v in zip(names, x)}
    out = _metrics(case, {**{k: np.array([v]) for k, v in fixed.items()},
                          **{n: np.array([v]) for n, v in values.items()}}, metrics)
    model = {m: float(out[m][0]) for m in metrics}
    ok = {t.metric: bool(t.as_published().holds(model[t.metric])) for t in targets}
    result = FitResult(case=case.name, values=values, start={n: float(base[n]) for n in names},
                       bounds={n: (float(free[n][0]), float(free[n][1])) for n in names}, targets=list(targets),
                       model=model, ok=ok, evaluations=counter["n"], message=str(best.message))
    if require and not all(ok.values()):
        t = next(t for t in targets if not ok[t.metric])
        at_bound = [n for n, v in values.items() if math.isclose(v, free[n][0], abs_tol=1e-9 * (free[n][1] - free[n][0]))
                    or math.isclose(v, free[n][1], abs_tol=1e-9 * (free[n][1] - free[n][0]))]
        hint = (f"{', '.join(at_bound)} ended at the edge of its range: widen it in calibration.free"
                if at_bound else "free another parameter (calibration.free) or check the published figure")
        raise _case_error(case, f"the fit did not converge to target {t.metric} = {t.value:g} "
                                f"(model {model[t.metric]:g}, tolerance {t.tolerance:g}; fitted "
                                + ", ".join(f"{n} = {v:.6g}" for n, v in values.items()) + ")",
                          "calibration.targets", hint, value=t.metric)
    return result


def calibrate(case: Case) -> FitResult:
    """Fit the case's fitted free parameters to its targets (the case's ``calibration:`` section).

    On a variant (``load_case(name, variant=v)``) the same free parameters and targets are fitted with
    the variant's overrides in force; :func:`write_fitted` then writes into ``variants.<v>.overrides``.
    """
    free = case_free(case, fitted_only=True)
    return fit(case, free, case_targets(case))


# ------------------------------------------------------------------ identification
def _axis(name: str, low: float, high: float, points: int) -> np.ndarray:
    axis = np.linspace(low, high, points) if points > 1 else np.array([(low + high) / 2.0])
    if SCHEMA[name].integer:
        axis = np.unique(np.round(axis))
    return axis


def identify(case: Case, *, points: Mapping[str, int] | None = None, targets: list[Target] | None = None,
             free: Mapping[str, tuple[float, float]] | None = None, axes: Mapping[str, Any] | None = None,
             engine: str = "numpy") -> Identification:
    """Every grid point over the free parameters' plausible ranges that meets every target; headline ranges.

    By default the grid and targets come from the case's ``calibration:`` section; ``axes`` (name ->
    the values to try) gives the grid explicitly instead.
    """
    import pandas as pd

    targets = case_targets(case) if targets is None else targets
    cal = case.calibration
    if axes is not None:
        axes = {n: np.asarray(a, dtype=float) for n, a in axes.items()}
        free = {}
    elif free is None:
        free = case_free(case)
    points = dict(points or {})
    axes = dict(axes or {})
    for n, (lo, hi) in free.items():
        spec = cal.free.get(n) if cal is not None else None
        default = DEFAULT_POINTS_FIT if (spec is None or spec.fit) else DEFAULT_POINTS_OTHER
        p = points.get(n) or (spec.points if spec is not None and spec.points else default)
        axes[n] = _axis(n, lo, hi, int(p))
    n_grid = int(np.prod([len(a) for a in axes.values()]))
    cap = cal.max_grid if cal is not None else 250_000
    if n_grid > cap:
        raise _case_error(case, f"the identification grid has {n_grid} points, more than the cap of {cap}",
                          "calibration.free", "lower points: for some free parameters or raise calibration.max_grid")
    mesh = np.meshgrid(*axes.values(), indexing="ij")
    grid = {n: m.ravel() for n, m in zip(axes, mesh)}
    own = evaluate_batch(case, grid, engine=engine)
    keep = np.ones(n_grid, dtype=bool)
    for t in targets:
        keep &= t.as_published().holds(own[t.metric])
    sel = {n: v[keep] for n, v in grid.items()}
    frame = pd.DataFrame(sel)
    for t in targets:
        frame[t.metric] = own[t.metric][keep]
    rows = []
    for persp in PERSPECTIVES:
        if persp == case.perspective:
            view = {h: own[h][keep] for h in HEADLINES}
        elif keep.any():
            view = evaluate_batch(dataclasses.replace(case, perspective=persp), sel, engine=engine)
        else:
            view = {h: np.array([]) for h in HEADLINES}
        for h in HEADLINES:
            vals = np.asarray(view[h], dtype=float)
            frame[f"{persp}_{h}"] = vals
            finite = vals[np.isfinite(vals)]
            rows.append({"metric": h, "perspective": persp,
                         "min": float(finite.min()) if finite.size else math.nan,
                         "max": float(finite.max()) if finite.size else math.nan,
                         "never": int(np.sum(~np.isfinite(vals)))})
    return Identification(case=case.name, grid=axes, n_grid=n_grid, sets=frame.reset_index(drop=True),
                          ranges=pd.DataFrame(rows), targets=list(targets))


# ------------------------------------------------------------------ writing into the case file
def _rounded(case: Case, result: FitResult) -> dict[str, float]:
    """The shortest rounding (significant digits) of the fitted values that still meets every target."""
    for digits in WRITE_DIGITS:
        vals = {n: float(f"{v:.{digits}g}") for n, v in result.values.items()}
        if any(SCHEMA[n].integer for n in vals):
            vals = {n: (float(round(v)) if SCHEMA[n].integer else v) for n, v in vals.items()}
        out = _metrics(case, {n: np.array([v]) for n, v in vals.items()}, [t.metric for t in result.targets])
        if all(t.as_published().holds(float(out[t.metric][0])) for t in result.targets):
            return vals
    return dict(result.values)


def _format_value(v: float) -> str:
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return np.format_float_positional(v, unique=True, trim="-")


def _yaml_str(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


def provenance(result: FitResult, when: str | None = None) -> str:
    when = when or _dt.date.today().isoformat()
    others = [n for n in result.values]
    targets = "; ".join(f"{t.metric} {'>=' if t.comparison == 'at_least' else '='} {t.value:g} ({t.reference}), "
                        f"model {result.model[t.metric]:.6g}" for t in result.targets)
    return f"mkba calibrate {when}: fitted {', '.join(others)} to {targets}"


def _new_entry_year(case: Case, unit: str, when: str | None):
    """Date of a new fitted entry: an amount in euro is in the case's price year (mkba.prices), else today."""
    from .prices import is_amount

    if is_amount(unit) and getattr(case, "price_year", None) is not None:
        return case.price_year
    return _dt.date.today().year if when is None else when[:4]


def write_fitted(case: Case, result: FitResult, *, path: str | Path | None = None, when: str | None = None) -> dict:
    """Write the (rounded) fitted values with provenance into the case file; returns the values written.

    Only the ``value`` scalar of each fitted override (and its ``note``) is replaced in the text; a
    fitted parameter that the case does not override yet gets a new entry at the end of ``overrides:``.
    The file is replaced atomically, then re-loaded and checked.
    """
    import yaml

    from .cases import load_case

    path = Path(path or case.source_file)
    text = path.read_text(encoding="utf-8")
    values = _rounded(case, result)
    note = provenance(result, when)
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        raise InputError("a case file must be a mapping", file=str(path), fix="check the file")
    top = {k.value: v for k, v in root.value}
    edits: list[tuple[int, int, str]] = []       # (start, end, replacement) on ``text``
    overrides = top.get("overrides")
    if case.variant:                              # a calibrated variant: its own overrides mapping
        variants = top.get("variants")
        vnode = ({k.value: v for k, v in variants.value}.get(case.variant)
                 if isinstance(variants, yaml.MappingNode) else None)
        overrides = ({k.value: v for k, v in vnode.value}.get("overrides")
                     if isinstance(vnode, yaml.MappingNode) else None)
        if not isinstance(overrides, yaml.MappingNode):
            raise InputError(f"variant '{case.variant}' has no overrides mapping to write into", file=str(path),
                             field=f"variants.{case.variant}.overrides", fix="give the variant an overrides: block")
    present: dict[str, yaml.Node] = {}
    if isinstance(overrides, yaml.MappingNode):
        present = {k.value: v for k, v in overrides.value}
    additions = []
    for name, value in values.items():
        node = present.get(name)
        if node is None:
            spec = SCHEMA[name]
            additions.append(f"{name}: {{value: {_format_value(value)}, unit: {_yaml_str(spec.unit)}, "
                             f"date: {_new_entry_year(case, spec.unit, when)}, "
                             f"reference: {_yaml_str('calibrated: ' + note)}}}")
            continue
        if not isinstance(node, yaml.MappingNode):
            raise InputError("an override must be a mapping to be calibrated", file=str(path),
                             field=f"overrides.{name}", fix="write {value: ..., unit: ..., date: ..., reference: ...}")
        items = {k.value: (k, v) for k, v in node.value}
        vnode = items["value"][1]
        edits.append((vnode.start_mark.index, vnode.end_mark.index, _format_value(value)))
        if "note" in items:
            nnode = items["note"][1]
            edits.append((nnode.start_mark.index, nnode.end_mark.index, _yaml_str(note)))
        elif node.flow_style:
            close = node.end_mark.index - 1          # the closing '}'
            edits.append((close, close, f", note: {_yaml_str(note)}"))
        else:
            last = node.value[-1][1]
            indent = " " * node.value[0][0].start_mark.column
            edits.append((last.end_mark.index, last.end_mark.index, f"\n{indent}note: {_yaml_str(note)}"))
    if additions:
        if isinstance(overrides, yaml.MappingNode) and overrides.value and not overrides.flow_style:
            indent = " " * overrides.value[0][0].start_mark.column
            end = overrides.value[-1][1].end_mark.index
            edits.append((end, end, "".join(f"\n{indent}{a}" for a in additions)))
        elif overrides is None:
            tail = "" if text.endswith("\n") else "\n"
            edits.append((len(text), len(text), tail + "overrides:\n" + "".join(f"  {a}\n" for a in additions)))
        else:
            raise InputError("cannot add calibrated values to a flow-style or empty overrides mapping",
                             file=str(path), field="overrides", fix="write overrides: as a block mapping")
    new = text
    for start, end, rep in sorted(edits, key=lambda e: e[0], reverse=True):
        new = new[:start] + rep + new[end:]
    with tempfile.TemporaryDirectory(prefix="mkba-calibrate-") as d:
        candidate = Path(d) / path.name           # a case name must equal its file name
        candidate.write_text(new, encoding="utf-8")
        check = load_case(candidate, variant=case.variant)
        got = {n: check.value(n) for n in values}
        if any(not math.isclose(got[n], values[n], rel_tol=1e-12, abs_tol=1e-12) for n in values):
            raise RuntimeError(f"written case file does not hold the fitted values: {got} vs {values}")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(new)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return values


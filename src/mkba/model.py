"""The model: a pure function from a case to one tidy table, and its batch form.

``run(case)`` returns one tidy DataFrame with a row per month x group x actor x item::

    month  year  date  group  actor  item  category  unit  nominal  discounted

``group`` is ``treatment`` (project alternative) or ``control`` (null alternative). Money rows
have unit ``EUR``; people rows (actor ``participants``) have unit ``persons`` and hold the
states (on benefit, in work, off benefit, taking part, ...), so the caseload and the money come
from one table.

``evaluate_batch(case, {name: array})`` runs many parameter sets and returns the headline
metrics per set. Both go through the one compiled kernel (:mod:`mkba.fastkernel`): ``run``
in record mode (it also writes the monthly states and flows), ``evaluate_batch`` in metrics
mode; ``run(case)``'s metrics equal ``evaluate_batch`` with n = 1 exactly.

Sub-groups (``groups:`` in a case file): each group has a share of the participants and its own
overrides; people and the fixed programme costs are split by share unless a group sets its own;
results are per group (:func:`per_group`) and summed (everything else).
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from . import cohort
from . import fastkernel as fk
from . import metrics as mx
from .cases import Case
from .errors import InputError, did_you_mean
from .parameters import check_value
from .schema import SCHEMA

GROUPS = ("treatment", "control")
DEFAULT_CHUNK = 65536          # scenarios per kernel call (parameters: 8 bytes per varied parameter, scenario and group)
# There is one engine; "numpy" is still accepted (it names the same compiled kernel) so callers written for
# the former two engines keep working.
ENGINES = ("auto", "numba", "numpy")
# Split by a sub-group's share unless the group sets its own value: the people and the fixed costs.
GROUP_SCALED = ("cohort.initial_participants", "cohort.inflow_per_month", "programme.staff_fte",
                "programme.setup_cost", "programme.other_cost_per_month", "secondment.overhead_per_month")


# ------------------------------------------------------------------ parameters as arrays
def parameter_arrays(case: Case, overrides: Mapping[str, Any] | None = None, *,
                     compact: bool = False) -> tuple[dict[str, np.ndarray], int]:
    """Case values as arrays of shape (n,), with ``overrides`` (name -> scalar or array) applied.

    ``compact``: a value that does not vary keeps shape (1,) (it broadcasts; the kernel stores it once).
    """
    overrides = dict(overrides or {})
    n = 1
    for name, val in overrides.items():
        if name not in SCHEMA:
            raise InputError(f"unknown parameter '{name}'", field=name, fix=did_you_mean(name, SCHEMA))
        size = np.size(val)
        if np.ndim(val) > 1:
            raise InputError("batch values must be scalars or 1-D arrays", field=name, value=np.shape(val),
                             fix="pass an array of shape (n,)")
        if size != 1:
            if n not in (1, size):
                raise InputError(f"batch arrays have different lengths ({n} and {size})", field=name,
                                 fix="give every varied parameter the same number of values")
            n = size
    if "horizon.months" in overrides and np.unique(np.asarray(overrides["horizon.months"])).size > 1:
        raise InputError("the horizon cannot vary within one batch", field="horizon.months",
                         fix="run one batch per horizon")
    P = {}
    if compact:
        for name, base in case.values.items():
            P[name] = np.array(overrides.get(name, base), dtype=float).reshape(-1)
    else:
        for name, base in case.values.items():
            arr = np.asarray(overrides.get(name, base), dtype=float)
            P[name] = (np.broadcast_to(arr, (n,)).astype(float, copy=True) if arr.ndim == 0 or arr.size == 1
                       else arr.astype(float))
    for name in overrides:
        arr = P[name]
        ends = {float(arr[0])} if arr.size == 1 else {float(arr.min()), float(arr.max())}
        for v in ends:
            check_value(name, v, file="batch values")
    return P, n


def _months(case: Case, overrides: Mapping[str, Any] | None) -> int:
    if overrides and "horizon.months" in overrides:
        return int(np.asarray(overrides["horizon.months"]).flat[0])
    return case.months


def case_groups(case: Case) -> list[tuple[str, float, dict[str, float]]]:
    """The case's sub-groups as (name, share, the values the group sets itself); one group 'all' if none."""
    groups = getattr(case, "groups", None) or {}
    if not groups:
        return [("all", 1.0, {})]
    out = []
    for name, g in groups.items():
        own = {k: float(v) for k, v in g.values.items()}
        out.append((name, float(g.share), own))
    return out


def group_arrays(case: Case, P: dict[str, np.ndarray], n: int, only: str | None = None) -> list[dict[str, np.ndarray]]:
    """One parameter set per sub-group (people and fixed costs split by share unless the group sets them)."""
    out = []
    for name, share, own in case_groups(case):
        if only is not None and name != only:
            continue
        if share == 1.0 and not own:
            out.append(P)
            continue
        Pg = dict(P)
        for k, v in own.items():
            Pg[k] = np.full(1, v)
        for k in GROUP_SCALED:
            if k not in own:
                Pg[k] = P[k] * share
        out.append(Pg)
    return out


# what cohort.derive_stated_outcomes reads and writes
_STATED_INPUTS = ("outcome.work_count", "outcome.work_of", "outcome.work_share", "outcome.work_within_months",
                  "outcome.baseline_share", "outcome.baseline_within_months", "baseline.other_exit_rate",
                  "baseline.work_exit_rate", "effect.other_exit_added", "effect.work_exit_added",
                  "effect.work_exit_ratio")


def prepare(case: Case, P: dict[str, np.ndarray], n: int, months: int, *, group: str | None = None):
    """Parameter tensor for the kernel: stated outcomes converted, every group's set stacked."""
    sets = group_arrays(case, P, n, only=group)
    ready = []
    for Pg in sets:
        Pg = dict(Pg)
        if any(Pg[k].shape[0] != 1 for k in _STATED_INPUTS):
            for k in _STATED_INPUTS:   # the conversion works on arrays of one shape
                Pg[k] = np.broadcast_to(Pg[k], (n,)).copy()
        cohort.derive_stated_outcomes(Pg, file=case.source_file)
        ready.append(Pg)
    return fk.param_tensor(ready, n)


def _discount(P, months: int, convention: str) -> np.ndarray:
    from .discounting import discount_factors

    rate = P["discount.rate"]
    if bool(np.all(rate == rate[0])):
        return np.ascontiguousarray(discount_factors(months, float(rate[0]), convention)[None, :])
    return np.ascontiguousarray(discount_factors(months, rate, convention).T)   # (n, T): a scenario's contiguous


def _check_path(cycle_path, months: int):
    path = None if cycle_path is None else np.asarray(cycle_path, dtype=float)
    if path is not None and path.shape[0] != months:
        raise InputError(f"cycle path has {path.shape[0]} months but the horizon is {months}", field="cycle_path",
                         fix="give one multiplier per month of the horizon")
    return path


# ------------------------------------------------------------------ batch
def choose_engine(total_draws: int, engine: str = "auto") -> str:
    """The engine for a whole sweep of ``total_draws`` scenarios (there is one: the compiled kernel).

    Kept as the one place that decides, so a sweep decides once for all its chunks.
    """
    if engine not in ENGINES:
        raise InputError("unknown engine", field="engine", value=engine, fix=did_you_mean(engine, ENGINES))
    return "numba"


def evaluate_batch(case: Case, overrides: Mapping[str, Any] | None = None, *, cycle_path=None,
                   chunk_size: int = DEFAULT_CHUNK, threads: int | None = None,
                   engine: str = "auto", group: str | None = None) -> dict[str, np.ndarray]:
    """Headline metrics for many parameter sets, on the compiled kernel, in chunks of parameter sets.

    ``overrides`` maps parameter names to arrays of shape (n,) (others keep the case value);
    ``cycle_path`` is an optional multiplier per month on every cycle-sensitive channel, shape
    (T,) or (T, n). Only the metrics (8 bytes per metric and scenario) grow with the batch.
    ``group`` restricts the run to one sub-group.
    """
    choose_engine(0, engine)
    overrides = dict(overrides or {})
    arrays = {k: np.asarray(v) for k, v in overrides.items()}
    sizes = {a.size for a in arrays.values()} - {1}
    if len(sizes) > 1 or any(a.ndim > 1 for a in arrays.values()) or any(k not in SCHEMA for k in arrays):
        parameter_arrays(case, overrides)   # raises the model's own error, before building anything
    n = sizes.pop() if sizes else 1
    # a value broadcast over the batch (a stride-0 view, as sweeps pass their fixed parameters) is one value
    arrays = {k: (a[:1] if a.ndim == 1 and a.size > 1 and a.strides[0] == 0 else a) for k, a in arrays.items()}
    # names, horizon and ranges checked on (min, max) of each array
    parameter_arrays(case, {k: (a if a.size == 1 else np.array([np.min(a), np.max(a)])) for k, a in arrays.items()})
    # an override equal to the case's own value changes nothing (sweeps pass every fixed parameter)
    own = case.values
    arrays = {k: a for k, a in arrays.items()
              if not (a.size == 1 and k in own and float(a.reshape(-1)[0]) == float(own[k]))}
    months = _months(case, overrides)
    path = _check_path(cycle_path, months)
    municipality = case.perspective == "municipality"
    chunk = max(int(chunk_size), 1)
    # every chunk's metrics go straight into one (N_METRICS, n) array; the result's arrays are its rows
    res = np.empty((len(fk.METRIC_NAMES), n))
    for lo in range(0, n, chunk):
        sl = slice(lo, min(lo + chunk, n))
        m = sl.stop - sl.start
        P, _ = parameter_arrays(case, {k: (a if a.size == 1 else a[sl]) for k, a in arrays.items()}, compact=True)
        sub_path = path if path is None or path.ndim == 1 or path.shape[1] == 1 else path[:, sl]
        Pm = prepare(case, P, m, months, group=group)
        fk.launch(Pm, months, fk.path_2d(sub_path, months, m), _discount(P, months, case.discount_convention),
                  municipality, threads, out=res, offset=lo)
        del P, Pm
    return {k: res[i] for i, k in enumerate(fk.METRIC_NAMES)}


def batch_model(case: Case, *, cycle_path=None):
    """A ``values -> metrics`` callable for :mod:`mkba.sensitivity` (picklable for dask)."""
    import functools

    return functools.partial(evaluate_batch, case, cycle_path=cycle_path)


# ------------------------------------------------------------------ single run: record mode
def simulate_case(case: Case, *, cycle_path=None, group: str | None = None):
    """Record mode for the case itself: (metrics dict, flows (N_FLOWS, 2, T), people (N_PEOPLE, 2, T),
    ledger rows (N_ROWS, T), parameter arrays)."""
    P, _ = parameter_arrays(case)
    months = case.months
    path = _check_path(cycle_path, months)
    Pm = prepare(case, P, 1, months, group=group)
    out, F, PPL, LR = fk.record(Pm, months, fk.path_2d(path, months, 1), _discount(P, months, case.discount_convention),
                                case.perspective == "municipality")
    metrics = {k: float(out[i]) for i, k in enumerate(fk.METRIC_NAMES)}
    return metrics, F, PPL, LR, P


def _table(case: Case, F, PPL, P):
    import pandas as pd

    from .discounting import discount_factors

    months = case.months
    df = discount_factors(months, float(P["discount.rate"][0]), case.discount_convention)
    month = np.arange(months)
    dates = pd.period_range(pd.Timestamp(case.start_date), periods=months, freq="M").to_timestamp()
    keys: list[tuple[str, str, str, str, str]] = []   # group, actor, item, category, unit
    series: list[np.ndarray] = []
    for g, group in enumerate(GROUPS):
        for k, (actor, item, cat) in enumerate(fk.FLOWS):
            vals = F[k, g]
            if np.any(vals):
                keys.append((group, actor, item, cat, "EUR"))
                series.append(vals)
        for r, item in enumerate(fk.PEOPLE):
            if g == 1 and item in ("taking_part", "seconded", "programme_job"):
                if not np.any(PPL[r, 1]):
                    continue
            if item == "seconded" and not np.any(PPL[r, 0]):
                continue
            keys.append((group, "participants", item, "people", "persons"))
            series.append(PPL[r, g])
    k = len(keys)
    nominal = np.concatenate(series)
    is_money = np.repeat(np.array([key[4] == "EUR" for key in keys]), months)
    cols = list(zip(*keys))

    def cat(values):
        return pd.Categorical(np.repeat(np.array(values, dtype=object), months))

    table = pd.DataFrame({
        "month": np.tile(month, k), "group": cat(cols[0]), "actor": cat(cols[1]), "item": cat(cols[2]),
        "category": cat(cols[3]), "unit": cat(cols[4]), "nominal": nominal,
        "discounted": np.where(is_money, nominal * np.tile(df, k), np.nan)})
    table.insert(1, "year", table["month"] // 12 + 1)
    table.insert(2, "date", np.tile(dates.to_numpy(), k))
    table.attrs["case"] = case.name
    table.attrs["assumptions_hash"] = case.assumptions_hash()
    table.attrs["price_year"] = case.price_year      # every EUR row is in prices of this year (mkba.prices)
    return table


def run(case: Case, *, cycle_path=None):
    """Run one case: the tidy result table (see module docstring)."""
    _, F, PPL, _, P = simulate_case(case, cycle_path=cycle_path)
    return _table(case, F, PPL, P)


class Summary(dict):
    """What :func:`summarise` returns: ``metrics``, ``per_year``, ``ledger`` and ``table``; the tidy
    table is built from the run's flows when first read (two thirds of a run's time: a slider
    move or a municipal report that shows no tidy table does not pay for it)."""

    def __init__(self, build_table, **items):
        super().__init__(**items)
        self._build_table = build_table

    def __missing__(self, key):
        if key == "table" and self._build_table is not None:
            build, self._build_table = self._build_table, None
            self["table"] = build()
            return self["table"]
        raise KeyError(key)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def __contains__(self, key) -> bool:
        return super().__contains__(key) or (key == "table" and self._build_table is not None)

    def _complete(self) -> "Summary":
        self["table"]      # noqa: B018 - builds it
        return self

    def keys(self):
        return dict.keys(self._complete())

    def items(self):
        return dict.items(self._complete())

    def values(self):
        return dict.values(self._complete())

    def __iter__(self):
        return dict.__iter__(self._complete())

    def __len__(self) -> int:
        return dict.__len__(self._complete())

    def __reduce__(self):
        return (dict, (dict(self._complete()),))


def summarise(case: Case, table=None, *, cycle_path=None) -> dict:
    """Headline metrics (floats), the per-year table, the tidy table and the monthly ledger."""
    metrics, F, PPL, LR, P = simulate_case(case, cycle_path=cycle_path)
    ledger = mx.Ledger.from_rows(LR)
    py = mx.per_year(ledger, P, perspective=case.perspective, convention=case.discount_convention)
    if table is not None:
        return Summary(None, metrics=metrics, per_year=py, table=table, ledger=ledger)
    return Summary(lambda: _table(case, F, PPL, P), metrics=metrics, per_year=py, ledger=ledger)


def per_group(case: Case) -> "Any":
    """Headline metrics per sub-group and for the whole case (rows), as a DataFrame."""
    import pandas as pd

    rows = {}
    for name, share, _ in case_groups(case):
        m = evaluate_batch(case, group=name if len(case_groups(case)) > 1 else None)
        rows[name] = {"share": share, **{k: float(v[0]) for k, v in m.items()}}
    if len(rows) > 1:
        rows["total"] = {"share": sum(r["share"] for r in rows.values()),
                         **{k: float(v[0]) for k, v in evaluate_batch(case).items()}}
    return pd.DataFrame.from_dict(rows, orient="index")


def per_actor(table, *, discounted: bool = True):
    """Per-actor totals (treatment - control), by item; columns add up to the societal total."""
    col = "discounted" if discounted else "nominal"
    eur = table[table["unit"] == "EUR"]
    signed = eur.assign(value=np.where(eur["group"] == "treatment", eur[col], -eur[col]))
    pivot = signed.pivot_table(index="item", columns="actor", values="value", aggfunc="sum", fill_value=0.0,
                               observed=True)
    pivot = pivot.reindex(columns=[a for a in fk.ACTORS if a in pivot.columns])
    pivot["total"] = pivot.sum(axis=1)
    pivot.loc["total"] = pivot.sum(axis=0)
    return pivot


def case_warnings(case: Case, lang: str = "en") -> list[str]:
    """Warnings for ``mkba validate`` and the report (see :func:`mkba.cohort.warnings_for`)."""
    return cohort.warnings_for(case, lang)

"""The model: a pure function from a case to one tidy table (and its batch twin).

``run(case)`` returns one tidy DataFrame with a row per month x group x actor x item::

    month  year  date  group  actor  item  category  unit  nominal  discounted

``group`` is ``treatment`` (project alternative) or ``control`` (null alternative). Money rows
have unit ``EUR``; people rows (actor ``participants``) have unit ``persons`` and hold the
states (on benefit, in work, ...), so the caseload and the money come from one table.

``evaluate_batch(case, {name: array})`` runs many parameter sets in one numpy pass and returns
the headline metrics per set; ``summarise(case, table)`` computes the same metrics from the
tidy table. Both go through :mod:`mkba.metrics` on the same ledger, so they agree exactly.
"""
from __future__ import annotations

import os
from typing import Any, Mapping

import numpy as np

from . import cashflows as cf
from . import metrics as mx
from .cases import Case
from .cohort import MONTHS_PER_YEAR, simulate
from .errors import InputError, did_you_mean
from .parameters import check_value
from .schema import SCHEMA

GROUPS = ("treatment", "control")
PEOPLE_ITEMS = {
    "on_benefit": "B_end", "partial_benefit": "P_end", "in_work": "W_end", "other_exit": "O_end",
    "programme_job": "J_end", "cum_inflow": "cum_inflow", "cum_ended": "cum_ended", "cum_returns": "cum_returns",
}
DEFAULT_CHUNK = 4096


# ------------------------------------------------------------------ parameters as arrays
def parameter_arrays(case: Case, overrides: Mapping[str, Any] | None = None) -> tuple[dict[str, np.ndarray], int]:
    """Case values as arrays of shape (n,), with ``overrides`` (name -> scalar or array) applied."""
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
    for name, base in case.values.items():
        arr = np.asarray(overrides.get(name, base), dtype=float)
        P[name] = np.broadcast_to(arr, (n,)).astype(float, copy=True) if arr.ndim == 0 or arr.size == 1 else arr.astype(float)
    for name in overrides:
        arr = P[name]
        lo, hi = float(np.min(arr)), float(np.max(arr))
        for v in {lo, hi}:
            check_value(name, v, file="batch values")
    return P, n


def _months(case: Case, overrides: Mapping[str, Any] | None) -> int:
    if overrides and "horizon.months" in overrides:
        return int(np.asarray(overrides["horizon.months"]).flat[0])
    return case.months


# ------------------------------------------------------------------ ledger from the simulation
class _LedgerBuilder:
    """Books each month's flows into the ledger as the simulation goes (batch path)."""

    def __init__(self, P: dict[str, np.ndarray], months: int):
        n = P["baseline.work_exit_rate"].shape[0]
        self.P, self.T, self.n = P, months, n
        self.muni_net = np.zeros((months, n)); self.muni_cost = np.zeros((months, n))
        self.soc_net = np.zeros((months, n)); self.soc_cost = np.zeros((months, n))
        self.secondment = np.zeros((months, n))
        self.cum_ended = np.empty((months, 2, n)); self.cum_returns = np.empty((months, 2, n))
        self.cum_inflow = np.empty((months, 2, n)); self.beq = np.empty((months, 2, n))
        self.b_month = P["benefit.cost_per_year"] * P["benefit.household_factor"] / MONTHS_PER_YEAR
        self.has_secondment = bool(np.any(P["secondment.share"] > 0))

    def __call__(self, m: int, month, cum_ended, cum_returns, cum_inflow) -> None:
        flows = cf.flows(month, self.P, m)
        book_month(flows, m, self.muni_net, self.muni_cost, self.soc_net, self.soc_cost, self.secondment)
        if self.has_secondment:
            self.secondment[m] -= cf.secondment_activity(month, self.P, m)[1][0, 0] * self.b_month
        n = self.n
        self.cum_ended[m] = cum_ended.reshape(2, n)
        self.cum_returns[m] = cum_returns.reshape(2, n)
        self.cum_inflow[m] = cum_inflow.reshape(2, n)
        self.beq[m] = cf.benefit_equivalents(month, self.P)[0]

    def ledger(self) -> mx.Ledger:
        return mx.Ledger(muni_net=self.muni_net, muni_cost=self.muni_cost, soc_net=self.soc_net,
                         soc_cost=self.soc_cost, cum_ended=self.cum_ended, cum_returns=self.cum_returns,
                         beq=self.beq, cum_inflow=self.cum_inflow, b_month=self.b_month,
                         retention=self.P["benefit.retention_share"], secondment_surplus=self.secondment)


def book_month(flows: list[cf.Flow], m: int, muni_net, muni_cost, soc_net, soc_cost, secondment) -> None:
    """Add month ``m``'s treatment-minus-control flows (each of shape (1, 2, n)) to the ledger rows."""
    prog_items = {f.item for f in flows if f.category == "programme"}
    for f in flows:
        dd = f.values[0, 0, :] - f.values[0, 1, :]
        soc_net[m] += dd
        if f.actor == "municipality":
            muni_net[m] += dd
            if f.category == "programme":
                muni_cost[m] -= dd
            if f.item.startswith("secondment_"):
                secondment[m] += dd
        if f.item in prog_items:
            soc_cost[m] -= dd


def _evaluate_chunk(case: Case, P: dict[str, np.ndarray], months: int, cycle_path) -> dict[str, np.ndarray]:
    builder = _LedgerBuilder(P, months)
    simulate(P, months, cycle_path, on_month=builder, record=False)
    return mx.compute(builder.ledger(), P, perspective=case.perspective, convention=case.discount_convention)


# The compiled kernel (mkba.fastkernel) is used for batches of at least FAST_ENGINE_MIN_BATCH draws once it
# is loaded in the process. Loading it (importing numba, reading the cached machine code) costs about 1 s,
# which the numpy path spends on about 10.000 draws of a five-year case (measured: 2.000 draws in 0,23 s);
# so a process that has not loaded it yet only does so for batches of FAST_ENGINE_LOAD_BATCH or more.
FAST_ENGINE_MIN_BATCH = 256
FAST_ENGINE_LOAD_BATCH = 20_000
ENGINES = ("auto", "numpy", "numba")


def _use_fast_engine(engine: str, overrides) -> bool:
    """``engine="auto"``: the compiled kernel for large batches when numba is installed (see above)."""
    if engine not in ENGINES:
        raise InputError("unknown engine", field="engine", value=engine, fix=did_you_mean(engine, ENGINES))
    if engine != "auto":
        return engine == "numba"
    n = max((np.size(v) for v in (overrides or {}).values()), default=1)
    import sys

    threshold = FAST_ENGINE_MIN_BATCH if "mkba.fastkernel" in sys.modules else FAST_ENGINE_LOAD_BATCH
    if n < threshold:
        return False
    import importlib.util

    return importlib.util.find_spec("numba") is not None


def evaluate_batch(case: Case, overrides: Mapping[str, Any] | None = None, *, cycle_path=None,
                   chunk_size: int = DEFAULT_CHUNK, threads: int | None = None,
                   engine: str = "auto") -> dict[str, np.ndarray]:
    """Headline metrics for many parameter sets in one vectorised pass (chunked for memory).

    ``overrides`` maps parameter names to arrays of shape (n,) (others keep the case value);
    ``cycle_path`` is an optional exit-to-work multiplier per month, shape (T,) or (T, n).
    ``engine``: ``"numpy"`` (below), ``"numba"`` (the compiled kernel :mod:`mkba.fastkernel`,
    same results to rounding) or ``"auto"`` (numba for large batches if it is installed).
    """
    if _use_fast_engine(engine, overrides):
        from . import fastkernel

        return fastkernel.evaluate_batch(case, overrides, cycle_path=cycle_path, chunk_size=chunk_size,
                                         threads=threads)
    P, n = parameter_arrays(case, overrides)
    months = _months(case, overrides)
    path = None if cycle_path is None else np.asarray(cycle_path, dtype=float)
    if path is not None and path.shape[0] != months:
        raise InputError(f"cycle path has {path.shape[0]} months but the horizon is {months}", field="cycle_path",
                         fix="give one multiplier per month of the horizon")
    if n <= chunk_size:
        return _evaluate_chunk(case, P, months, path)
    slices = [slice(lo, min(lo + chunk_size, n)) for lo in range(0, n, chunk_size)]

    def one(sl):
        sub_path = path if path is None or path.ndim == 1 else path[:, sl]
        return _evaluate_chunk(case, {k: v[sl] for k, v in P.items()}, months, sub_path)

    if threads is None:
        threads = min(len(slices), os.cpu_count() or 1)
    if threads > 1:
        # numpy releases the GIL inside its loops: chunks run in parallel on the machine's cores
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=threads) as pool:
            parts = list(pool.map(one, slices))
    else:
        parts = [one(sl) for sl in slices]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def batch_model(case: Case, *, cycle_path=None):
    """A ``values -> metrics`` callable for :mod:`mkba.sensitivity` (picklable for dask)."""
    import functools

    return functools.partial(evaluate_batch, case, cycle_path=cycle_path)


# ------------------------------------------------------------------ the tidy table
def run(case: Case, *, cycle_path=None):
    """Run one case: the tidy result table (see module docstring)."""
    import pandas as pd

    P, _ = parameter_arrays(case)
    months = case.months
    S = simulate(P, months, None if cycle_path is None else np.asarray(cycle_path, dtype=float))
    flows = cf.flows(S, P)
    from .discounting import discount_factors

    df = discount_factors(months, float(P["discount.rate"][0]), case.discount_convention)
    month = np.arange(months)
    dates = pd.period_range(pd.Timestamp(case.start_date), periods=months, freq="M").to_timestamp()
    keys: list[tuple[str, str, str, str, str]] = []   # group, actor, item, category, unit
    series: list[np.ndarray] = []
    for g, group in enumerate(GROUPS):
        for f in flows:
            vals = f.values[:, g, 0]
            if np.any(vals):
                keys.append((group, f.actor, f.item, f.category, "EUR"))
                series.append(vals)
        people = {k: getattr(S, attr)[:, g, 0] for k, attr in PEOPLE_ITEMS.items()}
        people["benefit_equivalents"] = cf.benefit_equivalents(S, P)[:, g, 0]
        if P["secondment.share"][0] > 0 and g == 0:
            people["seconded"] = cf.secondment_activity(S, P)[1][:, 0, 0]
        for item, vals in people.items():
            keys.append((group, "participants", item, "people", "persons"))
            series.append(vals)
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
    return table


def ledger_from_table(table, case: Case) -> mx.Ledger:
    """Rebuild the metric ledger from the tidy table (n = 1)."""
    months = case.months
    P, _ = parameter_arrays(case)

    def money(group, mask):
        sub = table[(table["unit"] == "EUR") & (table["group"] == group) & mask]
        return sub.groupby("month")["nominal"].sum().reindex(range(months), fill_value=0.0).to_numpy()

    def diff(mask):
        return (money("treatment", mask) - money("control", mask))[:, None]

    eur = table[table["unit"] == "EUR"]
    muni = table["actor"] == "municipality"
    prog_items = set(eur.loc[eur["category"] == "programme", "item"])
    any_row = table["unit"] == "EUR"

    def people(item):
        out = np.zeros((months, 2, 1))
        for g, group in enumerate(GROUPS):
            sub = table[(table["item"] == item) & (table["group"] == group) & (table["unit"] == "persons")]
            out[:, g, 0] = sub.set_index("month")["nominal"].reindex(range(months), fill_value=0.0).to_numpy()
        return out

    b_month = P["benefit.cost_per_year"] * P["benefit.household_factor"] / MONTHS_PER_YEAR
    secondment = diff(muni & table["item"].str.startswith("secondment_"))
    if P["secondment.share"][0] > 0:
        secondment = secondment - people("seconded")[:, 0, :] * b_month
    return mx.Ledger(
        muni_net=diff(muni), muni_cost=-diff(muni & (table["category"] == "programme")),
        soc_net=diff(any_row), soc_cost=-diff(table["item"].isin(prog_items)),
        cum_ended=people("cum_ended"), cum_returns=people("cum_returns"), beq=people("benefit_equivalents"),
        cum_inflow=people("cum_inflow"),
        b_month=b_month, retention=P["benefit.retention_share"], secondment_surplus=secondment)


def summarise(case: Case, table=None, *, cycle_path=None) -> dict:
    """Headline metrics (floats), the per-year table and the monthly ledger, computed from the tidy table."""
    table = run(case, cycle_path=cycle_path) if table is None else table
    P, _ = parameter_arrays(case)
    ledger = ledger_from_table(table, case)
    m = mx.compute(ledger, P, perspective=case.perspective, convention=case.discount_convention)
    metrics = {k: float(v[0]) for k, v in m.items()}
    metrics.update({k: float(v[0]) for k, v in mx.both_perspectives(ledger, P, convention=case.discount_convention).items()})
    py = mx.per_year(ledger, P, perspective=case.perspective, convention=case.discount_convention)
    return {"metrics": metrics, "per_year": py, "table": table, "ledger": ledger}


def per_actor(table, *, discounted: bool = True):
    """Per-actor totals (treatment - control), by item; columns add up to the societal total."""
    col = "discounted" if discounted else "nominal"
    eur = table[table["unit"] == "EUR"]
    signed = eur.assign(value=np.where(eur["group"] == "treatment", eur[col], -eur[col]))
    pivot = signed.pivot_table(index="item", columns="actor", values="value", aggfunc="sum", fill_value=0.0)
    pivot = pivot.reindex(columns=[a for a in cf.ACTORS if a in pivot.columns])
    pivot["total"] = pivot.sum(axis=1)
    pivot.loc["total"] = pivot.sum(axis=0)
    return pivot

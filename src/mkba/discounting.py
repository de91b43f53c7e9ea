"""Real discounting: dated rates, discount factors and NPV timing conventions.

Conventions (``convention=``), for flows booked per month ``t = 0, 1, ...``:

``"excel"`` (default)
    Flows are summed per appraisal year and year ``k = 1, 2, ...`` is discounted by
    ``(1 + r) ** -k``: exactly Excel's ``NPV(r, year1, year2, ...)``, which discounts the first
    flow by one full period.  Controllers can check the figure in a spreadsheet.
``"start"``
    Year ``k`` is discounted by ``(1 + r) ** -(k - 1)``: the first year is not discounted
    (numpy-financial's ``npv``; Excel's ``NPV(...) * (1 + r)``).
``"monthly"``
    Month ``t`` is discounted by ``(1 + r) ** -((t + 1) / 12)`` (end of month, annual rate).

The discount rate in force on a date comes from ``reference.discount_rates`` in
``data/parameters/base.yaml`` (:func:`rate_in_force`), each rate with its own source:
5,5 % real from 2007-03-08 (2,5 % risk-free, Kamerstuk 29 352 nr. 3, + the standard 3 % risk
premium), 3 % from 2016-04-01 (Werkgroep discontovoet 2015), 2,25 % from 2021-01-01
(Werkgroep discontovoet 2020: -1 % + 3,25 %).
"""
from __future__ import annotations

from typing import Literal

import numpy as np

Convention = Literal["excel", "start", "monthly"]
CONVENTIONS: tuple[str, ...] = ("excel", "start", "monthly")
MONTHS_PER_YEAR = 12


def rate_in_force(schedule, when) -> tuple[float, str, str]:
    """``(rate, in force since, reference)`` of a dated rate ``schedule`` (a series Parameter) on ``when``.

    The reference is the source of that one rate (``sources:`` of the series) when the series has
    one, else the series' reference. A date before the first rate is an error that says so.
    """
    from .errors import InputError
    from .parameters import _sort_key, series_value_at

    keys = sorted(schedule.series, key=_sort_key)
    when_s = when.isoformat() if hasattr(when, "isoformat") else str(when)
    if _sort_key(when_s) < _sort_key(keys[0]):
        raise InputError(f"no official discount rate is on file before {keys[0]} (appraisal date {when_s})",
                         file=schedule.source_file, field=schedule.name, value=when_s,
                         fix="give discount.rate in the case's overrides with its source, or use a later appraisal_date")
    since = [k for k in keys if _sort_key(k) <= _sort_key(when_s)][-1]
    rate = series_value_at(schedule, when_s)
    reference = (schedule.sources or {}).get(since) or schedule.reference
    return rate, since, reference


def discount_factors(n_months: int, rate, convention: Convention = "excel") -> np.ndarray:
    """Discount factor per month, shape ``(n_months,)`` or ``(n_months, n)`` for an array of rates."""
    if convention not in CONVENTIONS:
        from .errors import InputError, did_you_mean

        raise InputError("unknown discount convention", field="discount_convention", value=convention,
                         fix=did_you_mean(convention, CONVENTIONS))
    t = np.arange(n_months, dtype=float)
    if convention == "monthly":
        exponent = (t + 1.0) / MONTHS_PER_YEAR
    else:
        year_index = np.floor(t / MONTHS_PER_YEAR) + 1.0  # 1 for months 0..11
        exponent = year_index if convention == "excel" else year_index - 1.0
    r = np.asarray(rate, dtype=float)
    if r.ndim == 0:
        return (1.0 + r) ** -exponent
    u, inv = np.unique(exponent, return_inverse=True)      # one power per distinct exponent (same values)
    return ((1.0 + r[None, :]) ** -u[:, None])[inv]


def npv(monthly_flows, rate, convention: Convention = "excel") -> np.ndarray | float:
    """Net present value of monthly flows (axis 0 = months)."""
    flows = np.asarray(monthly_flows, dtype=float)
    f = discount_factors(flows.shape[0], rate, convention)
    if flows.ndim == 2 and f.ndim == 1:
        f = f[:, None]
    out = (flows * f).sum(axis=0)
    return float(out) if np.ndim(out) == 0 else out


def excel_npv(rate: float, yearly_flows) -> float:
    """Excel's ``NPV(rate, v1, v2, ...)``: ``sum(v_k / (1 + rate) ** k)``, k from 1."""
    v = np.asarray(yearly_flows, dtype=float)
    k = np.arange(1, len(v) + 1)
    return float((v / (1.0 + rate) ** k).sum())


def annuity_factor(rate: float, years: int, convention: Convention = "excel") -> float:
    """Present value of 1 per year for ``years`` years (closed form).

    ``excel``: ``(1 - (1 + r) ** -n) / r``; ``start``: that times ``(1 + r)``; r = 0 gives ``n``.
    """
    if rate == 0:
        return float(years)
    base = (1.0 - (1.0 + rate) ** -years) / rate
    return base * (1.0 + rate) if convention == "start" else base

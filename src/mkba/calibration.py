"""Solve for unpublished assumptions with the real model.

Published business cases give results, not all their inputs. These helpers find the input
values that reproduce a published figure, using :func:`mkba.model.evaluate_batch` on a grid
(one vectorised pass per refinement), so every calibrated number in a case file can be
re-derived and is tested.
"""
from __future__ import annotations

import numpy as np

from .cases import Case
from .errors import InputError
from .model import evaluate_batch

GRID_POINTS = 65
REFINEMENTS = 8


def solve(case: Case, parameter: str, metric: str, target: float, low: float, high: float,
          fixed: dict | None = None) -> float:
    """Value of ``parameter`` in [low, high] at which ``metric`` equals ``target`` (monotone metric)."""
    fixed = dict(fixed or {})
    lo, hi = float(low), float(high)
    for _ in range(REFINEMENTS):
        grid = np.linspace(lo, hi, GRID_POINTS)
        vals = evaluate_batch(case, {**{k: np.full(GRID_POINTS, v) for k, v in fixed.items()}, parameter: grid})[metric]
        diff = vals - target
        sign = np.sign(diff)
        crossing = np.nonzero(sign[:-1] * sign[1:] <= 0)[0]
        if crossing.size == 0:
            raise InputError(f"{metric} does not reach {target:g} for {parameter} in [{low:g}, {high:g}] "
                             f"(range {np.nanmin(vals):g}..{np.nanmax(vals):g})", field=parameter,
                             fix="widen the search range or check the case")
        i = crossing[0]
        lo, hi = grid[i], grid[i + 1]
    d_lo = evaluate_batch(case, {**{k: np.array([v]) for k, v in fixed.items()}, parameter: np.array([lo])})[metric][0]
    d_hi = evaluate_batch(case, {**{k: np.array([v]) for k, v in fixed.items()}, parameter: np.array([hi])})[metric][0]
    if d_hi == d_lo:
        return float(lo)
    return float(lo + (target - d_lo) * (hi - lo) / (d_hi - d_lo))


def secondment_family(case: Case, hours: np.ndarray, pool_sizes: np.ndarray, *, target_year1: float,
                      break_even_month: float, break_even_tolerance: float = 1.0):
    """All (hours, pool, overhead) combinations consistent with a published secondment result.

    For every pair of hours per person-month and pool size, the fixed overhead per month that
    makes the year-1 surplus after benefit equal ``target_year1`` is solved exactly (the surplus
    is linear in the overhead); the combination is kept when the cumulative surplus breaks even
    within ``break_even_tolerance`` months of ``break_even_month`` and the overhead is not negative.
    """
    import pandas as pd

    H, N = np.meshgrid(np.asarray(hours, float), np.asarray(pool_sizes, float), indexing="ij")
    h, n = H.ravel(), N.ravel()
    base = {"secondment.hours_per_month": h, "cohort.initial_participants": n}
    at0 = evaluate_batch(case, {**base, "secondment.overhead_per_month": np.zeros_like(h)})
    at1 = evaluate_batch(case, {**base, "secondment.overhead_per_month": np.ones_like(h)})
    key = "secondment_surplus_after_benefit_year1_eur"
    slope = at1[key] - at0[key]
    overhead = np.where(slope < 0, (target_year1 - at0[key]) / np.where(slope < 0, slope, -1.0), np.nan)
    ok = overhead >= 0
    res = evaluate_batch(case, {"secondment.hours_per_month": h[ok], "cohort.initial_participants": n[ok],
                                "secondment.overhead_per_month": overhead[ok]})
    frame = pd.DataFrame({"hours_per_month": h[ok], "pool": n[ok], "overhead_per_month": overhead[ok],
                          "surplus_year1_eur": res[key], "break_even_month": res["secondment_break_even_month"],
                          "municipal_net_year1_eur": res["net_result_year1_eur"]})
    consistent = (frame["break_even_month"] - break_even_month).abs() <= break_even_tolerance
    return frame[consistent].reset_index(drop=True)

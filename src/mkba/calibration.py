"""Solve for unpublished assumptions with the real model.

Published business cases give results, not all their inputs. These helpers find the input
values that meet a published figure through the one fitting routine :mod:`mkba.fitting`
(``mkba calibrate``), so every calibrated number in a case file can be re-derived and is tested.
"""
from __future__ import annotations

import numpy as np

from .cases import Case
from .model import evaluate_batch

#: relative tolerance of a single-figure solve (the figure is hit, not approached within a published margin)
SOLVE_REL_TOLERANCE = 1e-7


def solve(case: Case, parameter: str, metric: str, target: float, low: float, high: float,
          fixed: dict | None = None) -> float:
    """Value of ``parameter`` in [low, high] at which ``metric`` equals ``target``.

    A one-parameter, one-target use of the general routine :func:`mkba.fitting.fit` (scipy least
    squares on the batch model); a target that cannot be reached in the range is an InputError.
    """
    from .fitting import Target, fit

    tol = SOLVE_REL_TOLERANCE * max(abs(float(target)), 1.0)
    res = fit(case, {parameter: (float(low), float(high))}, [Target(metric, float(target), tolerance=tol)],
              fixed=fixed)
    return res.values[parameter]


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

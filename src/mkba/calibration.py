"""Solve for unpublished assumptions with the real model.

Published business cases give results, not all their inputs. These helpers find the input
values that meet a published figure through the one fitting routine :mod:`mkba.fitting`
(``mkba calibrate``), so every calibrated number in a case file can be re-derived and is tested.
"""
from __future__ import annotations

import numpy as np

from .cases import Case

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
                      break_even_month: float, break_even_tolerance: float = 1.0,
                      overheads: np.ndarray | None = None, year1_tolerance_rel: float = 0.05):
    """All (hours, pool, overhead) combinations consistent with a published secondment result.

    The identification of :func:`mkba.fitting.identify` on the grid ``hours`` x ``pool_sizes`` x
    ``overheads`` (default € 0-10.000 a month in steps of € 100): the sets whose year-1 surplus after
    benefit is within ``year1_tolerance_rel`` of ``target_year1`` and whose cumulative surplus breaks even
    within ``break_even_tolerance`` months of ``break_even_month``.
    """
    from .fitting import Target, identify

    overheads = np.arange(0.0, 10_000.0 + 1.0, 100.0) if overheads is None else np.asarray(overheads, float)
    surplus, be = "secondment_surplus_after_benefit_year1_eur", "secondment_break_even_month"
    targets = [Target(surplus, float(target_year1), tolerance=abs(float(target_year1)) * year1_tolerance_rel),
               Target(be, float(break_even_month), tolerance=float(break_even_tolerance))]
    ident = identify(case, targets=targets, axes={"secondment.hours_per_month": hours,
                                                  "cohort.initial_participants": pool_sizes,
                                                  "secondment.overhead_per_month": overheads})
    sets = ident.sets
    return sets.rename(columns={"secondment.hours_per_month": "hours_per_month", "cohort.initial_participants": "pool",
                                "secondment.overhead_per_month": "overhead_per_month", surplus: "surplus_year1_eur",
                                be: "break_even_month"}).reset_index(drop=True)

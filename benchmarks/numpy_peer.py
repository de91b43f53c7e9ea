"""A plain numpy implementation of the same outline as mkba's kernel, for the benchmarks only.

What a competent analyst would write for a closed cohort (the ``app_zaanstad`` outline): monthly
hazards ``1 - (1 - p) ** (1/12)``, treatment and control vectorised over scenarios, exits to
work and to other reasons split as competing risks, returns from work, the effect for the
participation window after entry, fixed staff costs for ``programme.months``, the benefit saving
of the municipality, Excel-style NPV per appraisal year. It is not used by mkba; it is the named
peer ``benchmarks/bench_kernel.py`` prints ratios against (and checks it agrees with mkba).
"""
from __future__ import annotations

import numpy as np


def _h(p):
    p = np.clip(p, 0.0, 0.9999)
    return -np.expm1(np.log1p(-p) / 12.0)


def npv_closed_cohort(v: dict, added: np.ndarray, months: int) -> np.ndarray:
    """Municipal NPV per scenario for a closed cohort; ``v`` holds the case's scalar values."""
    n = added.shape[0]
    B = np.full((2, n), v["cohort.initial_participants"])
    W = np.zeros((2, n))
    ho = _h(np.full((2, n), v["baseline.other_exit_rate"]))
    hr = _h(v["baseline.return_rate"])
    window = v["participation.months"] + v["effect.persistence_months"]
    b_month = v["benefit.cost_per_year"] * v["benefit.household_factor"] / 12.0
    staff = v["programme.staff_fte"] * v["programme.cost_per_fte_year"] / 12.0
    yearly = np.zeros((months // 12 + 1, n))
    for m in range(months):
        p_t = v["baseline.work_exit_rate"] + np.where(m < window, added, 0.0)
        hw = np.stack([_h(p_t), np.full(n, _h(v["baseline.work_exit_rate"]))])
        q = 1.0 - (1.0 - hw) * (1.0 - ho)
        r = q / (hw + ho)
        ew, eo = B * hw * r, B * ho * r
        rw = W * hr
        B0 = B
        B = B - ew - eo + rw
        W = W + ew - rw
        saved = b_month * (0.5 * (B0[1] + B[1]) - 0.5 * (B0[0] + B[0]))
        cost = staff if m < v["programme.months"] else 0.0
        yearly[m // 12] += saved - cost
    k = np.arange(1, yearly.shape[0] + 1)[:, None]
    return (yearly / (1.0 + v["discount.rate"]) ** k).sum(0)

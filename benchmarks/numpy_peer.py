"""A plain numpy implementation of the same outline as mkba's kernel, for the benchmarks only.

What a competent analyst would write for a closed cohort (the ``app_zaanstad`` outline), vectorised
over scenarios: monthly hazards ``1 - (1 - p) ** (1/12)``; treatment and control as the two rows of
one ``(2, n)`` state array; exits to work and to other reasons split as competing risks; returns
from work; the added effect for the participation window after entry; fixed staff costs for
``programme.months``; the municipality's benefit saving; Excel-style NPV per appraisal year.

Everything that does not change from month to month is computed once before the month loop (the
competing-risk shares inside and outside the effect window), as a competent numpy user would: the
loop itself is a handful of array operations per month. It is not used by mkba; it is the named
peer ``benchmarks/bench_kernel.py`` prints ratios against (and checks it agrees with mkba).

What it does not do (mkba's kernel does, for every scenario): entry cohorts (inflow, refills),
part-time work, programme contracts, secondment, sub-groups, cost sharing, the cycle per channel,
lock-in, ramp-up and decay, the societal perspective and the other 43 headline metrics
(``benchmarks/numpy_peer_full.py`` is the peer that does the same work as mkba for this case).
"""
from __future__ import annotations

import numpy as np


def _h(p):
    """Monthly hazard from an annual probability (clipped as mkba does)."""
    p = np.clip(p, 0.0, 0.9999)
    return -np.expm1(np.log1p(-p) / 12.0)


def _shares(hw, ho):
    """Competing monthly hazards: the shares of the stock that leave for work and for other reasons."""
    r = (1.0 - (1.0 - hw) * (1.0 - ho)) / (hw + ho)
    return hw * r, ho * r


def npv_closed_cohort(v: dict, added: np.ndarray, months: int) -> np.ndarray:
    """Municipal NPV per scenario for a closed cohort; ``v`` holds the case's scalar values and
    ``added`` the added annual chance of work per scenario, shape (n,)."""
    added = np.asarray(added, dtype=float)
    n = added.shape[0]
    base = np.full(n, v["baseline.work_exit_rate"])
    ho = _h(np.full((2, n), v["baseline.other_exit_rate"]))
    hr = _h(v["baseline.return_rate"])
    window = v["participation.months"] + v["effect.persistence_months"]
    b_month = v["benefit.cost_per_year"] * v["benefit.household_factor"] / 12.0
    staff = v["programme.staff_fte"] * v["programme.cost_per_fte_year"] / 12.0
    # shares leaving per month, rows (treatment, control): inside and after the effect window
    fw_in, fo_in = _shares(np.stack([_h(base + added), _h(base)]), ho)
    fw_out, fo_out = _shares(np.stack([_h(base), _h(base)]), ho)
    B = np.full((2, n), v["cohort.initial_participants"])
    W = np.zeros((2, n))
    yearly = np.zeros((months // 12 + 1, n))
    for m in range(months):
        fw, fo = (fw_in, fo_in) if m < window else (fw_out, fo_out)
        ew = B * fw
        rw = W * hr
        B_new = B - ew - B * fo + rw
        W += ew - rw
        avg = B + B_new                               # twice the average stock of the month
        yearly[m // 12] += b_month * 0.5 * (avg[1] - avg[0]) - (staff if m < v["programme.months"] else 0.0)
        B = B_new
    k = np.arange(1, yearly.shape[0] + 1)[:, None]
    return (yearly / (1.0 + v["discount.rate"]) ** k).sum(0)

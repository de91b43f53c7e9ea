"""People over time: monthly states of a cohort with and without the approach.

States (persons, per month):

``B``  on full benefit            ``P``  working part-time beside a partial benefit
``W``  left benefit for work      ``O``  left benefit for other reasons (no return)
``J``  on a programme contract (benefit ended or reduced while the contract lasts)

Each month, in this order: new participants enter ``B``; programme contracts start or end;
then competing exits from ``B`` (to work, to other reasons, and the one-off "stock" exits found
by closer contact), part-time workers leave ``P``, and workers return from ``W`` to ``B``.
Annual probabilities become monthly hazards with ``h = 1 - (1 - p) ** (1/12)``; competing
hazards are combined as ``q = 1 - prod(1 - h_i)`` and split in proportion to ``h_i``, so
people are conserved exactly.

Everything is vectorised over scenarios: every parameter is an array of shape ``(n,)`` and the
treatment (project alternative) and control (null alternative) groups are stacked into one
array of shape ``(2n,)``, so one month is one numpy pass for all scenarios and both groups.
Effect timing (lock-in, ramp-up, decay, stock window) runs in programme time: months since
the programme started.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MONTHS_PER_YEAR = 12
# An annual probability of exactly 1 has no finite monthly hazard; effects that push a
# probability past this bound are capped (the cap only binds for extreme sweeps).
MAX_ANNUAL_PROBABILITY = 0.9999


def monthly_hazard(p_annual):
    """Monthly hazard from an annual probability: ``1 - (1 - p) ** (1/12)`` (never ``p / 12``)."""
    p = np.clip(np.asarray(p_annual, dtype=float), 0.0, MAX_ANNUAL_PROBABILITY)
    return -np.expm1(np.log1p(-p) / MONTHS_PER_YEAR)


def annual_probability(h_monthly):
    """Inverse of :func:`monthly_hazard`."""
    return 1.0 - (1.0 - np.asarray(h_monthly, dtype=float)) ** MONTHS_PER_YEAR


@dataclass
class States:
    """Monthly states, each of shape ``(T, 2, n)``: axis 1 is (treatment, control).

    ``*_avg`` are average persons during the month (what benefits and wages are paid on);
    ``*_end`` are persons at the end of the month.
    """

    B_avg: np.ndarray
    P_avg: np.ndarray
    W_avg: np.ndarray
    J_avg: np.ndarray
    B_end: np.ndarray
    P_end: np.ndarray
    W_end: np.ndarray
    O_end: np.ndarray
    J_end: np.ndarray
    cum_inflow: np.ndarray
    cum_ended: np.ndarray
    cum_returns: np.ndarray
    inflow: np.ndarray


def effect_weight(P: dict, t) -> np.ndarray:
    """Weight of the approach's effect in month(s) ``t``: 0 in lock-in, linear ramp, then decay.

    ``t`` is a scalar month (result shape (n,)) or a column of months (T, 1) (result (T, n)).
    """
    L = P["effect.lock_in_months"]
    R = P["effect.ramp_months"]
    ramp = np.where(R > 0, np.clip((t - L + 1.0) / np.maximum(R, 1.0), 0.0, 1.0), 1.0)
    w = np.where(t < L, 0.0, ramp)
    H = P["effect.decay_half_life_months"]
    if np.all(np.isinf(H)):
        return w
    D = P["effect.decay_start_month"]
    with np.errstate(invalid="ignore", divide="ignore"):
        decay = np.where(t >= D, np.exp2(-np.where(np.isinf(H), 0.0, (t - D) / H)), 1.0)
    return w * decay


def _split(*hazards):
    """Combine competing monthly hazards; return each destination's share of the stock."""
    survive = 1.0 - hazards[0]
    total = hazards[0]
    for h in hazards[1:]:
        survive = survive * (1.0 - h)
        total = total + h
    ratio = np.divide(1.0 - survive, total, out=np.zeros_like(total), where=total > 0)
    return [h * ratio for h in hazards]


@dataclass
class Month:
    """Average persons during one month, arrays of shape (1, 2, n), as :func:`mkba.cashflows.flows` reads them."""

    B_avg: np.ndarray
    P_avg: np.ndarray
    W_avg: np.ndarray
    J_avg: np.ndarray
    inflow: np.ndarray


def simulate(P: dict[str, np.ndarray], months: int, cycle_path: np.ndarray | None = None, *,
             on_month=None, record: bool = True) -> States | None:
    """Simulate treatment and control for every scenario, one month at a time.

    ``P`` maps parameter names to arrays of shape ``(n,)``. ``cycle_path`` is an optional
    multiplier on exit-to-work chances per month, shape ``(months,)`` or ``(months, n)``
    (historical replay); it multiplies ``cycle.multiplier``.

    Every month works on vectors of shape ``(2n,)`` (treatment then control), which stay in
    the processor's cache; ``on_month(m, month, cum_ended, cum_returns, cum_inflow)`` receives
    each month's average states (used by the batch evaluation to book money as it goes). With
    ``record=True`` the full monthly states are returned as :class:`States`.
    """
    T = int(months)
    n = P["baseline.work_exit_rate"].shape[0]
    N = 2 * n
    zeros = np.zeros(n)

    def both(a_treat, a_ctrl):
        return np.concatenate([np.broadcast_to(a_treat, (n,)), np.broadcast_to(a_ctrl, (n,))])

    path = None if cycle_path is None else np.asarray(cycle_path, dtype=float)
    mult = P["cycle.multiplier"]
    base_work = P["baseline.work_exit_rate"]
    ratio_m1 = P["effect.work_exit_ratio"] - 1.0
    added = P["effect.work_exit_added"]
    sens = P["effect.cycle_sensitivity"]
    lock_months, lock_factor = P["effect.lock_in_months"], P["effect.lock_in_factor"]
    p_other = P["baseline.other_exit_rate"]
    other_added = P["effect.other_exit_added"]
    has_other_effect = bool(np.any(other_added))
    h_other = monthly_hazard(p_other)
    ho_const = both(h_other, h_other)
    s, sm = P["effect.stock_share"], P["effect.stock_months"]
    has_stock = bool(np.any(s > 0))
    h_stock = 1.0 - (1.0 - np.minimum(s, MAX_ANNUAL_PROBABILITY)) ** (1.0 / sm) if has_stock else None
    hr = monthly_hazard(np.concatenate([P["baseline.return_rate"]] * 2))
    pt = np.concatenate([P["baseline.part_time_share"]] * 2)
    has_part_time = bool(np.any(pt > 0))
    p_partial = P["baseline.partial_to_work_rate"]

    def cycle_at(m):
        if path is None:
            return mult
        return mult * path[m]

    def control_work(cyc):
        return monthly_hazard(base_work * cyc)

    const_ctrl = path is None
    hw_ctrl_const = control_work(mult) if const_ctrl else None
    fpw_const = fpo_const = None
    if has_part_time and const_ctrl:
        h = monthly_hazard(p_partial * mult)
        fpw_const, fpo_const = _split(both(h, h), ho_const)

    infl_months, infl_per, initial = P["cohort.inflow_months"], P["cohort.inflow_per_month"], P["cohort.initial_participants"]
    j_share = np.concatenate([P["jobs.share"], zeros])
    j_start = np.concatenate([P["jobs.start_month"], np.full(n, -1.0)])
    j_end = np.concatenate([P["jobs.end_month"], np.full(n, -1.0)])
    j_to_work = np.concatenate([P["jobs.to_work_share"], zeros])
    j_saving = np.concatenate([P["jobs.benefit_saving"], zeros])
    has_jobs = bool(np.any(j_share > 0))

    B = np.zeros(N); Pp = np.zeros(N); W = np.zeros(N); O = np.zeros(N); J = np.zeros(N)
    cum = np.zeros(N); ret = np.zeros(N); cin = np.zeros(N)
    names = ("B_avg", "P_avg", "W_avg", "J_avg", "B_end", "P_end", "W_end", "O_end", "J_end",
             "cum_inflow", "cum_ended", "cum_returns", "inflow")
    rec = {k: np.empty((T, N)) for k in names} if record else None
    for m in range(T):
        inflow_t = np.where(m < infl_months, infl_per, 0.0)
        if m == 0:
            inflow_t = inflow_t + initial
        inflow = np.concatenate([inflow_t, inflow_t])
        cin = cin + inflow
        P_prev, W_prev = Pp, W
        B = B + inflow
        if has_jobs:
            start = j_start == m
            if start.any():
                hired = np.where(start, B * j_share, 0.0)
                B = B - hired
                J = J + hired
                cum = cum + hired * j_saving
            end = j_end == m
            if end.any():
                leaving = np.where(end, J, 0.0)
                J = J - leaving
                W = W + leaving * j_to_work
                back = leaving * (1.0 - j_to_work)
                B = B + back
                ret = ret + back * j_saving
                W_prev = W
        B_start, J_now = B, J
        # --- this month's hazards
        cyc = cycle_at(m)
        w = effect_weight(P, m)
        lock = np.where(m < lock_months, lock_factor, 1.0)
        p_work_t = base_work * cyc * lock * (1.0 + ratio_m1 * w) + added * w * (1.0 + sens * (cyc - 1.0))
        hw = both(monthly_hazard(p_work_t), hw_ctrl_const if const_ctrl else control_work(cyc))
        ho = both(monthly_hazard(p_other + other_added * w), h_other) if has_other_effect else ho_const
        if has_stock:
            hs = both(np.where(m < sm, h_stock, 0.0), zeros)
            fw, fo, fs = _split(hw, ho, hs)
            fo = fo + fs
        else:
            fw, fo = _split(hw, ho)
        # --- transitions
        ew = B * fw
        eo = B * fo
        rw = W * hr
        B = B - ew - eo + rw
        if has_part_time:
            if const_ctrl:
                fpw, fpo = fpw_const, fpo_const
            else:
                h = monthly_hazard(p_partial * cyc)
                fpw, fpo = _split(both(h, h), ho_const)
            pw = Pp * fpw
            po = Pp * fpo
            ew_part = ew * pt
            Pp = Pp + ew_part - pw - po
            W = W + ew - ew_part + pw - rw
            O = O + eo + po
            cum = cum + ew - ew_part + eo + pw + po
        else:
            W = W + ew - rw
            O = O + eo
            cum = cum + ew + eo
        ret = ret + rw
        B_avg = (B_start + B) * 0.5
        P_avg = (P_prev + Pp) * 0.5
        W_avg = (W_prev + W) * 0.5
        if on_month is not None:
            def cube(a):
                return a.reshape(1, 2, n)
            on_month(m, Month(cube(B_avg), cube(P_avg), cube(W_avg), cube(J_now), cube(inflow)), cum, ret, cin)
        if record:
            for k, v in (("B_avg", B_avg), ("P_avg", P_avg), ("W_avg", W_avg), ("J_avg", J_now), ("B_end", B),
                         ("P_end", Pp), ("W_end", W), ("O_end", O), ("J_end", J), ("cum_inflow", cin),
                         ("cum_ended", cum), ("cum_returns", ret), ("inflow", inflow)):
                rec[k][m] = v
    if not record:
        return None
    return States(**{k: v.reshape(T, 2, n) for k, v in rec.items()})

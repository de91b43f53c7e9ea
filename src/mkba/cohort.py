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

    @property
    def n(self) -> int:
        return self.B_end.shape[2]


def effect_weight(P: dict, t: np.ndarray) -> np.ndarray:
    """Weight of the approach's effect per month, shape (T, n): 0 in lock-in, linear ramp, then decay."""
    L = P["effect.lock_in_months"][None, :]
    R = P["effect.ramp_months"][None, :]
    ramp = np.where(R > 0, np.clip((t - L + 1.0) / np.maximum(R, 1.0), 0.0, 1.0), 1.0)
    w = np.where(t < L, 0.0, ramp)
    D = P["effect.decay_start_month"][None, :]
    H = P["effect.decay_half_life_months"][None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        decay = np.where(t >= D, 0.5 ** np.where(np.isinf(H), 0.0, (t - D) / H), 1.0)
    return w * decay


def _split(*hazards):
    """Combine competing monthly hazards; return each destination's share of the stock."""
    survive = 1.0 - hazards[0]
    total = hazards[0].copy()
    for h in hazards[1:]:
        survive = survive * (1.0 - h)
        total = total + h
    ratio = np.divide(1.0 - survive, total, out=np.zeros_like(total), where=total > 0)
    return [h * ratio for h in hazards]


def simulate(P: dict[str, np.ndarray], months: int, cycle_path: np.ndarray | None = None) -> States:
    """Simulate treatment and control for every scenario.

    ``P`` maps parameter names to arrays of shape ``(n,)``. ``cycle_path`` is an optional
    multiplier on exit-to-work chances per month, shape ``(months,)`` or ``(months, n)``
    (historical replay); it multiplies ``cycle.multiplier``.
    """
    T = int(months)
    n = P["baseline.work_exit_rate"].shape[0]
    t = np.arange(T, dtype=float)[:, None]                       # (T, 1)
    # Arrays are (1, n) when constant over time and (T, n) when not; numpy broadcasts.
    cyc = P["cycle.multiplier"][None, :]
    if cycle_path is not None:
        path = np.asarray(cycle_path, dtype=float)
        cyc = cyc * (path[:, None] if path.ndim == 1 else path)
    w = effect_weight(P, t)                                       # (T, n)
    lock = np.where(t < P["effect.lock_in_months"][None, :], P["effect.lock_in_factor"][None, :], 1.0)

    p_work = P["baseline.work_exit_rate"][None, :] * cyc
    cyc_eff = 1.0 + P["effect.cycle_sensitivity"][None, :] * (cyc - 1.0)
    p_work_t = (p_work * lock * (1.0 + (P["effect.work_exit_ratio"][None, :] - 1.0) * w)
                + P["effect.work_exit_added"][None, :] * w * cyc_eff)
    p_other = P["baseline.other_exit_rate"][None, :]
    p_other_t = p_other + P["effect.other_exit_added"][None, :] * w if np.any(P["effect.other_exit_added"]) else p_other
    s, sm = P["effect.stock_share"][None, :], P["effect.stock_months"][None, :]
    has_stock = bool(np.any(s > 0))

    def both(a_treat, a_ctrl):
        rows = max(a_treat.shape[0], a_ctrl.shape[0])
        return np.concatenate([np.broadcast_to(a_treat, (rows, n)), np.broadcast_to(a_ctrl, (rows, n))], axis=1)

    hw = both(monthly_hazard(p_work_t), monthly_hazard(p_work))
    ho = both(monthly_hazard(p_other_t), monthly_hazard(p_other))
    if has_stock:
        h_stock_t = np.where(t < sm, 1.0 - (1.0 - np.minimum(s, MAX_ANNUAL_PROBABILITY)) ** (1.0 / sm), 0.0)
        hs = both(h_stock_t, np.zeros((1, n)))
        fw, fo, fs = _split(hw, ho, hs)
        fo = fo + fs
    else:
        fw, fo = _split(hw, ho)
    h_pw = monthly_hazard(P["baseline.partial_to_work_rate"][None, :] * cyc)
    h_po = monthly_hazard(p_other)
    fpw, fpo = _split(both(h_pw, h_pw), both(h_po, h_po))
    hr = monthly_hazard(np.concatenate([P["baseline.return_rate"]] * 2))
    pt = np.concatenate([P["baseline.part_time_share"]] * 2)
    has_part_time = bool(np.any(pt > 0))

    inflow = np.where(t < P["cohort.inflow_months"][None, :], P["cohort.inflow_per_month"][None, :], 0.0)
    inflow[0] += P["cohort.initial_participants"]
    inflow2 = both(inflow, inflow)

    zeros = np.zeros(n)
    j_share = np.concatenate([P["jobs.share"], zeros])
    j_start = np.concatenate([P["jobs.start_month"], np.full(n, -1.0)])
    j_end = np.concatenate([P["jobs.end_month"], np.full(n, -1.0)])
    j_to_work = np.concatenate([P["jobs.to_work_share"], zeros])
    j_saving = np.concatenate([P["jobs.benefit_saving"], zeros])
    has_jobs = bool(np.any(j_share > 0))

    N = 2 * n
    B = np.zeros(N); Pp = np.zeros(N); W = np.zeros(N); O = np.zeros(N); J = np.zeros(N)
    cum = np.zeros(N); ret = np.zeros(N)
    rec = {k: np.empty((T, N)) for k in ("B_start", "B_end", "P_end", "W_end", "O_end", "J_end", "J_start",
                                         "cum_ended", "cum_returns")}
    tw, to, tp = fw.shape[0] > 1, fo.shape[0] > 1, fpw.shape[0] > 1
    for m in range(T):
        B = B + inflow2[m]
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
        rec["B_start"][m] = B
        rec["J_start"][m] = J
        ew = B * fw[m if tw else 0]
        eo = B * fo[m if to else 0]
        rw = W * hr
        B = B - ew - eo + rw
        if has_part_time:
            pw = Pp * fpw[m if tp else 0]
            po = Pp * fpo[m if tp else 0]
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
        rec["B_end"][m] = B
        rec["P_end"][m] = Pp
        rec["W_end"][m] = W
        rec["O_end"][m] = O
        rec["J_end"][m] = J
        rec["cum_ended"][m] = cum
        rec["cum_returns"][m] = ret

    def shape(a):
        return a.reshape(T, 2, n)

    def prev(a):  # end of previous month
        out = np.empty_like(a)
        out[0] = 0.0
        out[1:] = a[:-1]
        return out

    return States(
        B_avg=shape((rec["B_start"] + rec["B_end"]) / 2.0),
        P_avg=shape((prev(rec["P_end"]) + rec["P_end"]) / 2.0),
        W_avg=shape((prev(rec["W_end"]) + rec["W_end"]) / 2.0),
        J_avg=shape((rec["J_start"] + rec["J_end"]) / 2.0),
        B_end=shape(rec["B_end"]), P_end=shape(rec["P_end"]), W_end=shape(rec["W_end"]),
        O_end=shape(rec["O_end"]), J_end=shape(rec["J_end"]),
        cum_inflow=shape(np.cumsum(inflow2, axis=0)),
        cum_ended=shape(rec["cum_ended"]), cum_returns=shape(rec["cum_returns"]),
        inflow=shape(inflow2),
    )

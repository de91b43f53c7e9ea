"""Compiled batch engine: the whole batch model in one numba kernel, parallel over scenarios.

:func:`mkba.model.evaluate_batch` dispatches here for large batches when numba is installed
(``engine="auto"``, or ``engine="numba"``). The kernel is a scalar re-statement of the numpy
path and must stay in step with it:

* :func:`mkba.cohort.simulate` (inflow, programme jobs starting/ending, competing hazards split
  as in ``cohort._split``, one-off stock effect, part-time work, returns, the effect weight with
  lock-in, ramp-up and decay, the cycle multiplier, a cycle path ``(T,)`` or ``(T, n)`` and
  ``effect.cycle_sensitivity``);
* :func:`mkba.cashflows.flows`, in the same order, including the conditional flows;
* :func:`mkba.model.book_month` and ``_LedgerBuilder`` (municipal net and programme cost,
  societal net, societal programme cost = every flow of an item that carries a ``programme``
  flow, the secondment result minus the benefit of the seconded);
* :func:`mkba.metrics.compute`.

How the kernel runs: ``prange`` hands blocks of ``_BLOCK`` scenarios to the cores; each block
has a small scratch array of monthly rows (``_N_ROWS x T``, a few tens of kB). Per scenario:
:func:`_exit_shares` (hazards and ``_split`` of both groups for every month, first, so that the
libm calls of successive months overlap; kept from the block's previous scenario when their
inputs are the same), :func:`_states` (month by month), :func:`_flows` (flow by flow over all
months, in the order of ``cashflows.flows``, so every ledger row gets the same additions in the
same order as ``book_month``) and :func:`_metrics` (the sums of ``metrics.compute`` over the
months, in its order). Memory does not grow with the batch beyond the parameters of a chunk
and the metrics. The kernel does the same floating-point operations in the same order as the
numpy path, so results agree to rounding; here they are bit for bit the same (numpy and numba
both call the C library's ``log1p``, ``expm1``, ``exp2`` and ``pow``; on other platforms these
could differ in the last bit).

Conditional flows: the numpy path adds a flow only when its switch is on anywhere in the batch
(e.g. ``np.any(P["effects.care_saving_per_worker_year"])``), and ``book_month`` treats an item
as a programme item only if one of its flows in that list is a programme flow. Every item that
has a programme flow (staff, participants, other, secondment overhead, job wages) has it
whenever any flow of that item exists, and a scenario whose switch is off has flows that are
exactly zero, which change no ledger row. So the kernel decides per scenario: it skips the
flows whose switch is off for that scenario, and books the others (with their programme items)
as ``book_month`` does. The same holds for the batch-wide switches in ``simulate`` (stock
effect, other-exit effect, part-time work, programme jobs).

Two entry points share the kernel: :func:`ledger` returns the monthly :class:`mkba.metrics.Ledger`
(for :func:`mkba.metrics.compute`; used by the tests), :func:`metrics` and :func:`evaluate_batch`
compute the metrics inside the kernel (no ``(T, n)`` arrays at all; chunked parameter
matrices), which is what keeps a million scenarios well under 1 GiB.

numba is imported here, at module level; :mod:`mkba.model` imports this module only when it
dispatches to it, so ``import mkba`` and the CLI never load numba.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Mapping

import numpy as np

import numba
from numba import njit, prange

if "NUMBA_THREADING_LAYER" not in os.environ:
    # tbb if installed, else numba's own workqueue: both survive os.fork() (the notebook kernels'
    # fork server, process pools), GNU OpenMP (numba's other choice on Linux) does not. The
    # workqueue is not re-entrant, hence one launch at a time (_LOCK).
    numba.config.THREADING_LAYER = "forksafe"

from .cohort import MAX_ANNUAL_PROBABILITY, MONTHS_PER_YEAR
from .discounting import discount_factors
from .metrics import BREAK_EVEN_TOLERANCE_EUR, METRIC_NAMES, Ledger
from .schema import SCHEMA

__all__ = ["PARAM_NAMES", "KERNEL_METRICS", "param_matrix", "ledger", "metrics", "evaluate_batch",
           "FAST_CHUNK", "numba_version"]

#: rows of the parameter matrix passed to the kernel: the schema's names in the schema's order
PARAM_NAMES: tuple[str, ...] = tuple(SCHEMA)

#: scenarios per kernel call in :func:`evaluate_batch` (parameter matrix ~0.5 kB per scenario)
FAST_CHUNK = 65536

# Parameters the kernel reads, by a kernel-local number. The kernel gets ``ix`` (row of each in
# the parameter matrix) at run time, so a cached compiled kernel stays valid if the schema's
# order changes.
_KERNEL_PARAMS = (
    "baseline.work_exit_rate", "baseline.other_exit_rate", "baseline.return_rate", "baseline.part_time_share",
    "baseline.partial_benefit_saving", "baseline.partial_to_work_rate", "cycle.multiplier",
    "effect.work_exit_added", "effect.work_exit_ratio", "effect.other_exit_added", "effect.stock_share",
    "effect.stock_months", "effect.lock_in_months", "effect.lock_in_factor", "effect.ramp_months",
    "effect.decay_start_month", "effect.decay_half_life_months", "effect.cycle_sensitivity",
    "cohort.initial_participants", "cohort.inflow_per_month", "cohort.inflow_months",
    "programme.months", "programme.staff_fte", "programme.cost_per_fte_year", "programme.clients_per_fte",
    "programme.cost_per_participant", "programme.cost_per_participant_month", "programme.setup_cost",
    "programme.other_cost_per_month",
    "benefit.cost_per_year", "benefit.household_factor", "benefit.retention_share",
    "work.wage_cost_per_year", "work.hours_fraction", "work.net_wage_share", "work.production_ratio",
    "effects.care_saving_per_worker_year", "effects.wellbeing_per_worker_year",
    "effects.execution_saving_per_ended_year",
    "secondment.share", "secondment.hours_per_month", "secondment.ramp_months", "secondment.tariff_per_hour",
    "secondment.top_up_per_hour", "secondment.top_up_cap_per_month", "secondment.overhead_per_month",
    "secondment.overhead_per_hour",
    "jobs.share", "jobs.start_month", "jobs.end_month", "jobs.wage_cost_per_year", "jobs.hours_fraction",
    "jobs.benefit_saving", "jobs.production_value_per_year", "jobs.to_work_share",
    "evaluation.month",
)
(K_BASE_WORK, K_BASE_OTHER, K_RETURN, K_PT_SHARE, K_PARTIAL_SAVING, K_PARTIAL_TO_WORK, K_CYCLE,
 K_ADDED, K_RATIO, K_OTHER_ADDED, K_STOCK_SHARE, K_STOCK_MONTHS, K_LOCK_MONTHS, K_LOCK_FACTOR, K_RAMP,
 K_DECAY_START, K_HALF_LIFE, K_CYCLE_SENS,
 K_INITIAL, K_INFLOW, K_INFLOW_MONTHS,
 K_PROG_MONTHS, K_STAFF_FTE, K_COST_FTE, K_CLIENTS_FTE, K_COST_PART, K_COST_PART_MONTH, K_SETUP, K_OTHER_COST,
 K_BENEFIT, K_HOUSEHOLD, K_RETENTION,
 K_WAGE, K_HOURS, K_NET_SHARE, K_PRODUCTION,
 K_CARE, K_WELLBEING, K_EXECUTION,
 K_SEC_SHARE, K_SEC_HOURS, K_SEC_RAMP, K_SEC_TARIFF, K_SEC_TOPUP, K_SEC_CAP, K_SEC_OVH_MONTH, K_SEC_OVH_HOUR,
 K_JOB_SHARE, K_JOB_START, K_JOB_END, K_JOB_WAGE, K_JOB_HOURS, K_JOB_SAVING, K_JOB_PRODUCTION, K_JOB_TO_WORK,
 K_EVAL_MONTH) = range(len(_KERNEL_PARAMS))

#: metrics the kernel computes itself, in the order of its output rows
KERNEL_METRICS: tuple[str, ...] = (
    "extra_ended_benefits", "benefit_months_saved", "gross_saving_eur", "programme_cost_eur", "net_result_eur",
    "npv_eur", "bcr", "break_even_month", "monthly_break_even_month", "cost_per_extra_ended_benefit_eur",
    "annual_saving_run_rate_eur", "programme_cost_per_year_eur", "annual_net_run_rate_eur",
    "gross_benefit_saving_eur", "saving_counting_all_exits_eur", "deadweight_share",
    "ended_benefits_treatment", "ended_benefits_control",
    "municipal_net_result_eur", "municipal_npv_eur", "societal_benefits_eur", "societal_costs_eur",
    "societal_net_eur", "societal_npv_eur", "societal_bcr", "secondment_surplus_after_benefit_year1_eur",
    "secondment_break_even_month", "gross_saving_year1_eur", "programme_cost_year1_eur", "net_result_year1_eur",
    "saving_counting_all_exits_year1_eur", "net_counting_all_exits_year1_eur", "ended_benefits_treatment_year1",
    "returns_treatment_year1",
)
N_METRICS = len(KERNEL_METRICS)

# Constants of the numpy path, passed to the kernel at run time (a cached kernel only notices
# edits to this file, not to cohort.py or metrics.py).
_CONSTS = np.array([MAX_ANNUAL_PROBABILITY, BREAK_EVEN_TOLERANCE_EUR, float(MONTHS_PER_YEAR)])
_BLOCK = 256       # scenarios per parallel task (they share scratch rows)
(_R_W, _R_FW_T, _R_FO_T, _R_FW_C, _R_FO_C, _R_FPW, _R_FPO,
 _R_BA_T, _R_PA_T, _R_WA_T, _R_JA_T, _R_BA_C, _R_PA_C, _R_WA_C, _R_INFL, _R_CIN,
 _R_CUM_T, _R_CUM_C, _R_RET_T, _R_RET_C,
 _R_SN, _R_MN, _R_MC, _R_SC, _R_SEC, _R_BEQ_T, _R_BEQ_C, _R_PROD_T, _R_PROD_C) = range(29)
_N_ROWS = 29
_N_HKEY = 16       # inputs of the monthly exit shares
_LOCK = threading.Lock()   # one kernel launch at a time (the workqueue layer is not re-entrant)


def numba_version() -> str:
    return numba.__version__


# ------------------------------------------------------------------ the kernel
# Split into a few compiled functions (exit shares, states, flows, metrics), called per scenario
# by _scenario: smaller functions compile much faster than one large one.
@njit(cache=True)
def _hazard(p, maxp, mpy):
    """mkba.cohort.monthly_hazard for one value (np.clip keeps NaN, so does this)."""
    if p < 0.0:
        p = 0.0
    elif p > maxp:
        p = maxp
    return -np.expm1(np.log1p(-p) / mpy)


@njit(cache=True)
def _split2(h1, h2):
    """cohort._split for two hazards: each destination's share of the stock."""
    survive = (1.0 - h1) * (1.0 - h2)
    total = h1 + h2
    ratio = (1.0 - survive) / total if total > 0.0 else 0.0
    return h1 * ratio, h2 * ratio


@njit(cache=True)
def _safe_div(a, b):
    """mkba.metrics._safe_div for one value."""
    if b > 0.0:
        return a / b
    return np.nan


@njit(cache=True)
def _break_even(last_negative, T):
    """mkba.metrics.first_month_staying_nonnegative from the last negative month (-1 = none)."""
    if last_negative == T - 1:
        return np.nan
    return last_negative + 2.0


@njit(cache=True, error_model="numpy", nogil=True)
def _exit_shares(j, Pm, ix, consts, T, path, rows, wkey, hkey):
    """cohort.simulate's hazards and cohort._split for every month: rows W, FW_T, FO_T, FW_C, FO_C, FPW, FPO.

    Computed for all months before the states: they do not depend on them, so the libm calls
    of successive months overlap. Kept as they are when the block's previous scenario had the
    same inputs (``hkey``); the effect weight row likewise when its timing was the same (``wkey``).
    """
    maxp = consts[0]; mpy = consts[2]
    base_work = Pm[ix[K_BASE_WORK], j]
    p_other = Pm[ix[K_BASE_OTHER], j]
    pt = Pm[ix[K_PT_SHARE], j]
    p_partial = Pm[ix[K_PARTIAL_TO_WORK], j]
    mult = Pm[ix[K_CYCLE], j]
    added = Pm[ix[K_ADDED], j]
    ratio_m1 = Pm[ix[K_RATIO], j] - 1.0
    other_added = Pm[ix[K_OTHER_ADDED], j]
    s_share = Pm[ix[K_STOCK_SHARE], j]
    s_months = Pm[ix[K_STOCK_MONTHS], j]
    lock_months = Pm[ix[K_LOCK_MONTHS], j]
    lock_factor = Pm[ix[K_LOCK_FACTOR], j]
    R = Pm[ix[K_RAMP], j]
    D = Pm[ix[K_DECAY_START], j]
    H = Pm[ix[K_HALF_LIFE], j]
    sens = Pm[ix[K_CYCLE_SENS], j]
    has_path = path.shape[0] > 0
    per_scenario_path = path.shape[1] > 1
    pcol = j if per_scenario_path else 0

    hkey[0] = base_work; hkey[1] = mult; hkey[2] = ratio_m1; hkey[3] = added; hkey[4] = sens
    hkey[5] = lock_months; hkey[6] = lock_factor; hkey[7] = R; hkey[8] = D; hkey[9] = H
    hkey[10] = p_other; hkey[11] = other_added; hkey[12] = s_share; hkey[13] = s_months
    hkey[14] = p_partial; hkey[15] = pt
    same = hkey[_N_HKEY] == 1.0 and not per_scenario_path
    for i in range(_N_HKEY):
        same = same and hkey[i] == hkey[_N_HKEY + 1 + i]
    if same:
        return
    for i in range(_N_HKEY):
        hkey[_N_HKEY + 1 + i] = hkey[i]
    hkey[_N_HKEY] = 1.0

    # effect weight (cohort.effect_weight)
    if not (wkey[4] == 1.0 and wkey[0] == lock_months and wkey[1] == R and wkey[2] == D and wkey[3] == H):
        decays = not np.isinf(H)
        for m in range(T):
            t = float(m)
            if R > 0.0:
                w = (t - lock_months + 1.0) / max(R, 1.0)
                w = min(max(w, 0.0), 1.0)
            else:
                w = 1.0
            if t < lock_months:
                w = 0.0
            if decays and t >= D:
                w = w * np.exp2(-((t - D) / H))
            rows[_R_W, m] = w
        wkey[0] = lock_months; wkey[1] = R; wkey[2] = D; wkey[3] = H; wkey[4] = 1.0

    h_other = _hazard(p_other, maxp, mpy)
    h_stock = 0.0
    if s_share > 0.0:
        h_stock = 1.0 - (1.0 - min(s_share, maxp)) ** (1.0 / s_months)
    has_pt = pt > 0.0
    fw_c, fo_c = _split2(_hazard(base_work * mult, maxp, mpy), h_other)
    fpw = 0.0
    fpo = 0.0
    if has_pt:
        fpw, fpo = _split2(_hazard(p_partial * mult, maxp, mpy), h_other)
    last_p_work = np.nan
    hw_t = 0.0
    last_p_ctrl = np.nan
    hw_c = 0.0
    for m in range(T):
        t = float(m)
        w = rows[_R_W, m]
        cyc = mult * path[m, pcol] if has_path else mult
        lock = lock_factor if t < lock_months else 1.0
        p_work = base_work * cyc * lock * (1.0 + ratio_m1 * w) + added * w * (1.0 + sens * (cyc - 1.0))
        if p_work != last_p_work:
            hw_t = _hazard(p_work, maxp, mpy)
            last_p_work = p_work
        ho_t = h_other
        if other_added != 0.0:
            ho_t = _hazard(p_other + other_added * w, maxp, mpy)
        hs_t = h_stock if t < s_months else 0.0
        # treatment: cohort._split(hw, ho, hs), then fo + fs
        surv = 1.0 - hw_t
        tot = hw_t
        surv = surv * (1.0 - ho_t)
        tot = tot + ho_t
        surv = surv * (1.0 - hs_t)
        tot = tot + hs_t
        rat = (1.0 - surv) / tot if tot > 0.0 else 0.0
        rows[_R_FW_T, m] = hw_t * rat
        rows[_R_FO_T, m] = ho_t * rat + hs_t * rat
        # control (no effect, no stock) and part-time workers (both groups)
        if has_path:
            p_ctrl = base_work * cyc
            if p_ctrl != last_p_ctrl:
                hw_c = _hazard(p_ctrl, maxp, mpy)
                last_p_ctrl = p_ctrl
            fw_c, fo_c = _split2(hw_c, h_other)
            if has_pt:
                fpw, fpo = _split2(_hazard(p_partial * cyc, maxp, mpy), h_other)
        rows[_R_FW_C, m] = fw_c; rows[_R_FO_C, m] = fo_c
        rows[_R_FPW, m] = fpw; rows[_R_FPO, m] = fpo


@njit(cache=True, error_model="numpy", nogil=True)
def _states(j, Pm, ix, consts, T, rows):
    """cohort.simulate's states, month by month: average persons and cumulative counts per month."""
    maxp = consts[0]; mpy = consts[2]
    hr = _hazard(Pm[ix[K_RETURN], j], maxp, mpy)
    pt = Pm[ix[K_PT_SHARE], j]
    initial = Pm[ix[K_INITIAL], j]
    infl_per = Pm[ix[K_INFLOW], j]
    infl_months = Pm[ix[K_INFLOW_MONTHS], j]
    j_share = Pm[ix[K_JOB_SHARE], j]
    j_start = Pm[ix[K_JOB_START], j]
    j_end = Pm[ix[K_JOB_END], j]
    j_saving = Pm[ix[K_JOB_SAVING], j]
    j_to_work = Pm[ix[K_JOB_TO_WORK], j]
    has_pt = pt > 0.0
    Ba_t = rows[_R_BA_T]; Pa_t = rows[_R_PA_T]; Wa_t = rows[_R_WA_T]; Ja_t = rows[_R_JA_T]
    Ba_c = rows[_R_BA_C]; Pa_c = rows[_R_PA_C]; Wa_c = rows[_R_WA_C]
    INFL = rows[_R_INFL]; CIN = rows[_R_CIN]
    CUM_T = rows[_R_CUM_T]; CUM_C = rows[_R_CUM_C]; RET_T = rows[_R_RET_T]; RET_C = rows[_R_RET_C]
    FW_T = rows[_R_FW_T]; FO_T = rows[_R_FO_T]; FW_C = rows[_R_FW_C]; FO_C = rows[_R_FO_C]
    FPW = rows[_R_FPW]; FPO = rows[_R_FPO]
    Bt = 0.0; Pt = 0.0; Wt = 0.0; Jt = 0.0      # treatment
    Bc = 0.0; Pc = 0.0; Wc = 0.0                # control
    cum_t = 0.0; cum_c = 0.0; ret_t = 0.0; ret_c = 0.0; cin = 0.0
    for m in range(T):
        t = float(m)
        # ---- inflow
        infl = infl_per if t < infl_months else 0.0
        if m == 0:
            infl = infl + initial
        cin = cin + infl
        Pt_prev = Pt; Wt_prev = Wt; Pc_prev = Pc; Wc_prev = Wc
        Bt = Bt + infl
        Bc = Bc + infl
        # ---- programme contracts (treatment only)
        if j_start == t:
            hired = Bt * j_share
            Bt = Bt - hired
            Jt = Jt + hired
            cum_t = cum_t + hired * j_saving
        if j_end == t:
            leaving = Jt
            Jt = Jt - leaving
            Wt = Wt + leaving * j_to_work
            back = leaving * (1.0 - j_to_work)
            Bt = Bt + back
            ret_t = ret_t + back * j_saving
            Wt_prev = Wt
        Bt_start = Bt; Bc_start = Bc
        Ja_t[m] = Jt
        # ---- transitions
        ew = Bt * FW_T[m]; eo = Bt * FO_T[m]; rw = Wt * hr
        Bt = Bt - ew - eo + rw
        if has_pt:
            pw = Pt * FPW[m]; po = Pt * FPO[m]; ew_part = ew * pt
            Pt = Pt + ew_part - pw - po
            Wt = Wt + ew - ew_part + pw - rw
            cum_t = cum_t + ew - ew_part + eo + pw + po
        else:   # no part-time work: the terms above are exact zeros
            Wt = Wt + ew - rw
            cum_t = cum_t + ew + eo
        ret_t = ret_t + rw
        ew = Bc * FW_C[m]; eo = Bc * FO_C[m]; rw = Wc * hr
        Bc = Bc - ew - eo + rw
        if has_pt:
            pw = Pc * FPW[m]; po = Pc * FPO[m]; ew_part = ew * pt
            Pc = Pc + ew_part - pw - po
            Wc = Wc + ew - ew_part + pw - rw
            cum_c = cum_c + ew - ew_part + eo + pw + po
        else:
            Wc = Wc + ew - rw
            cum_c = cum_c + ew + eo
        ret_c = ret_c + rw
        Ba_t[m] = (Bt_start + Bt) * 0.5; Pa_t[m] = (Pt_prev + Pt) * 0.5; Wa_t[m] = (Wt_prev + Wt) * 0.5
        Ba_c[m] = (Bc_start + Bc) * 0.5; Pa_c[m] = (Pc_prev + Pc) * 0.5; Wa_c[m] = (Wc_prev + Wc) * 0.5
        INFL[m] = infl; CIN[m] = cin
        CUM_T[m] = cum_t; CUM_C[m] = cum_c; RET_T[m] = ret_t; RET_C[m] = ret_c


@njit(cache=True, error_model="numpy", nogil=True)
def _flows(j, Pm, ix, consts, T, rows):
    """cashflows.flows booked as treatment - control (model.book_month, _LedgerBuilder): ledger rows.

    Flow by flow, in the order of cashflows.flows, each over all months, so every ledger row
    gets the same additions in the same order as book_month. The control group has no programme
    jobs and no secondment. A flow whose switch is off for this scenario is exactly zero and skipped.
    """
    mpy = consts[2]
    pbs = Pm[ix[K_PARTIAL_SAVING], j]
    prog_months = Pm[ix[K_PROG_MONTHS], j]
    staff_fte = Pm[ix[K_STAFF_FTE], j]
    cost_fte = Pm[ix[K_COST_FTE], j]
    cpf = Pm[ix[K_CLIENTS_FTE], j]
    cpp = Pm[ix[K_COST_PART], j]
    cppm = Pm[ix[K_COST_PART_MONTH], j]
    setup = Pm[ix[K_SETUP], j]
    other_cost = Pm[ix[K_OTHER_COST], j]
    b_month = Pm[ix[K_BENEFIT], j] * Pm[ix[K_HOUSEHOLD], j] / mpy
    retention = Pm[ix[K_RETENTION], j]
    wage = Pm[ix[K_WAGE], j]
    hours_frac = Pm[ix[K_HOURS], j]
    ns = Pm[ix[K_NET_SHARE], j]
    prod_ratio = Pm[ix[K_PRODUCTION], j]
    care = Pm[ix[K_CARE], j]
    wellbeing = Pm[ix[K_WELLBEING], j]
    execution = Pm[ix[K_EXECUTION], j]
    sec_share = Pm[ix[K_SEC_SHARE], j]
    sec_hpm = Pm[ix[K_SEC_HOURS], j]
    sec_ramp = Pm[ix[K_SEC_RAMP], j]
    tariff = Pm[ix[K_SEC_TARIFF], j]
    top_up_hour = Pm[ix[K_SEC_TOPUP], j]
    top_up_cap = Pm[ix[K_SEC_CAP], j]
    ovh_month = Pm[ix[K_SEC_OVH_MONTH], j]
    ovh_hour = Pm[ix[K_SEC_OVH_HOUR], j]
    j_share = Pm[ix[K_JOB_SHARE], j]
    j_wage = Pm[ix[K_JOB_WAGE], j]
    j_hours = Pm[ix[K_JOB_HOURS], j]
    j_saving = Pm[ix[K_JOB_SAVING], j]
    j_prod = Pm[ix[K_JOB_PRODUCTION], j]

    net_div = ns if ns > 0.0 else 1.0
    wage_month = wage * hours_frac / mpy
    job_wage_month = j_wage * j_hours / mpy
    job_prod_month = j_prod / mpy
    care_month = care / mpy
    wellbeing_month = wellbeing / mpy
    execution_month = -execution / mpy
    top_up_rate = min(top_up_hour * sec_hpm, top_up_cap)
    one_m_ret = 1.0 - retention
    neg_one_m_ret = -one_m_ret
    one_m_ns = 1.0 - ns
    one_m_pbs = 1.0 - pbs
    one_m_jbs = 1.0 - j_saving

    Ba_t = rows[_R_BA_T]; Pa_t = rows[_R_PA_T]; Wa_t = rows[_R_WA_T]; Ja_t = rows[_R_JA_T]
    Ba_c = rows[_R_BA_C]; Pa_c = rows[_R_PA_C]; Wa_c = rows[_R_WA_C]
    INFL = rows[_R_INFL]
    SN = rows[_R_SN]; MN = rows[_R_MN]; MC = rows[_R_MC]; SC = rows[_R_SC]; SEC = rows[_R_SEC]
    BEQ_T = rows[_R_BEQ_T]; BEQ_C = rows[_R_BEQ_C]; PROD_T = rows[_R_PROD_T]; PROD_C = rows[_R_PROD_C]
    for m in range(T):                                        # cashflows.benefit_equivalents
        BEQ_T[m] = Ba_t[m] + Pa_t[m] * one_m_pbs + Ja_t[m] * one_m_jbs
        BEQ_C[m] = Ba_c[m] + Pa_c[m] * one_m_pbs + 0.0 * one_m_jbs
    for m in range(T):
        ben_t = b_month * BEQ_T[m]
        ben_c = b_month * BEQ_C[m]
        d = -ben_t - -ben_c                                   # municipality benefit_payments
        sn = 0.0 + d; mn = 0.0 + d
        sn += ben_t - ben_c                                   # participant benefit_payments
        d = one_m_ret * ben_t - one_m_ret * ben_c             # municipality buig_budget
        sn += d; mn += d
        sn += neg_one_m_ret * ben_t - neg_one_m_ret * ben_c   # rijk buig_budget
        gross_t = wage_month * Wa_t[m] + b_month * pbs * Pa_t[m] / net_div
        gross_c = wage_month * Wa_c[m] + b_month * pbs * Pa_c[m] / net_div
        sn += -gross_t - -gross_c                             # employer wages
        sn += ns * gross_t - ns * gross_c                     # participant wages
        sn += one_m_ns * gross_t - one_m_ns * gross_c         # rijk wages
        SN[m] = sn; MN[m] = mn; MC[m] = 0.0; SC[m] = 0.0; SEC[m] = 0.0
        PROD_T[m] = prod_ratio * gross_t
        PROD_C[m] = prod_ratio * gross_c
    if care != 0.0:                                           # care care_costs
        for m in range(T):
            SN[m] += care_month * (Wa_t[m] + Ja_t[m]) - care_month * (Wa_c[m] + 0.0)
    if wellbeing != 0.0:                                      # participant wellbeing
        for m in range(T):
            SN[m] += wellbeing_month * (Wa_t[m] + Ja_t[m]) - wellbeing_month * (Wa_c[m] + 0.0)
    if execution != 0.0:                                      # municipality execution_costs
        for m in range(T):
            d = execution_month * (Ba_t[m] + Pa_t[m]) - execution_month * (Ba_c[m] + Pa_c[m])
            SN[m] += d; MN[m] += d
    if staff_fte != 0.0 or cpf > 0.0:                         # municipality programme_staff (programme)
        for m in range(T):
            fte = staff_fte
            if cpf > 0.0:
                fte = fte + (Ba_t[m] + Pa_t[m]) / cpf
            staff = fte * cost_fte / mpy if prog_months > float(m) else 0.0
            d = -staff - -0.0
            SN[m] += d; MN[m] += d; MC[m] -= d; SC[m] -= d
    if cpp != 0.0 or cppm != 0.0:                             # municipality programme_participants (programme)
        for m in range(T):
            per_part = cpp * INFL[m] + (cppm * (Ba_t[m] + Pa_t[m]) if prog_months > float(m) else 0.0)
            d = -per_part - -0.0
            SN[m] += d; MN[m] += d; MC[m] -= d; SC[m] -= d
    if other_cost != 0.0 or setup != 0.0:                     # municipality programme_other (programme)
        for m in range(T):
            other = (other_cost if prog_months > float(m) else 0.0) + (setup if m == 0 else 0.0)
            d = -other - -0.0
            SN[m] += d; MN[m] += d; MC[m] -= d; SC[m] -= d
    if sec_share > 0.0:                                       # cashflows.secondment_activity: treatment only
        for m in range(T):
            t = float(m)
            if sec_ramp > 0.0:
                s_ramp = min(max(t / max(sec_ramp, 1.0), 0.0), 1.0)
            else:
                s_ramp = 1.0
            seconded = sec_share * (Ba_t[m] + Pa_t[m]) * s_ramp
            hours = seconded * sec_hpm
            fees = tariff * hours
            sn = SN[m]; mn = MN[m]; mc = MC[m]; sc = SC[m]; sec = SEC[m]
            sn += -fees - -0.0                                # employer secondment_fees
            d = fees - 0.0                                    # municipality secondment_fees
            sn += d; mn += d; sec += d
            PROD_T[m] = PROD_T[m] + prod_ratio * fees
            PROD_C[m] = PROD_C[m] + prod_ratio * 0.0
            top_up = top_up_rate * seconded
            d = -top_up - -0.0                                # municipality secondment_top_up
            sn += d; mn += d; sec += d
            sn += top_up - 0.0                                # participant secondment_top_up
            overhead = (ovh_month if prog_months > t else 0.0) * 1.0 + ovh_hour * hours
            d = -overhead - -0.0                              # municipality secondment_overhead (programme)
            sn += d; mn += d; mc -= d; sec += d; sc -= d
            # after book_month, _LedgerBuilder takes off the benefit of the seconded
            SN[m] = sn; MN[m] = mn; MC[m] = mc; SC[m] = sc; SEC[m] = sec - seconded * b_month
    for m in range(T):                                        # employer production
        SN[m] += PROD_T[m] - PROD_C[m]
    if j_share > 0.0:
        for m in range(T):
            jg_t = job_wage_month * Ja_t[m]
            jg_c = job_wage_month * 0.0
            sn = SN[m]; mn = MN[m]; mc = MC[m]; sc = SC[m]
            d = -jg_t - -jg_c                                 # municipality job_wages (programme)
            sn += d; mn += d; mc -= d; sc -= d
            d = ns * jg_t - ns * jg_c                         # participant job_wages
            sn += d; sc -= d
            d = one_m_ns * jg_t - one_m_ns * jg_c             # rijk job_wages
            sn += d; sc -= d
            sn += job_prod_month * Ja_t[m] - job_prod_month * 0.0   # society job_production
            SN[m] = sn; MN[m] = mn; MC[m] = mc; SC[m] = sc


@njit(cache=True, error_model="numpy", nogil=True)
def _metrics(j, Pm, ix, consts, T, df, municipality, rows, out):
    """metrics.compute for scenario j into out[:, j]: its sums over the months, in the same order."""
    tol = consts[1]; mpy = consts[2]
    b_month = Pm[ix[K_BENEFIT], j] * Pm[ix[K_HOUSEHOLD], j] / mpy
    retention = Pm[ix[K_RETENTION], j]
    prog_months = Pm[ix[K_PROG_MONTHS], j]
    em = int(Pm[ix[K_EVAL_MONTH], j])
    eval_idx = T - 1 if em <= 0 else min(max(em - 1, 0), T - 1)
    y1 = min(T, 12) - 1
    dcol = j if df.shape[1] > 1 else 0
    SN = rows[_R_SN]; MN = rows[_R_MN]; MC = rows[_R_MC]; SC = rows[_R_SC]; SEC = rows[_R_SEC]
    BEQ_T = rows[_R_BEQ_T]; BEQ_C = rows[_R_BEQ_C]; CIN = rows[_R_CIN]
    NET = MN if municipality else SN
    COST = MC if municipality else SC
    s_beq_saved = 0.0; s_gross = 0.0; s_cost = 0.0; s_net = 0.0
    pv_net = 0.0; pv_cost = 0.0; pv_gross = 0.0; soc_pv_cost = 0.0; soc_pv_net = 0.0
    cost_in_prog = 0.0; gbs = 0.0; all_exits = 0.0; all_exits_y1 = 0.0
    cum_net = 0.0; last_neg_cum = -1.0; last_neg_net = -1.0
    cum_sec = 0.0; last_neg_sec = -1.0
    muni_total = 0.0; muni_pv = 0.0; soc_benefits = 0.0
    sec_y1 = 0.0; gross_y1 = 0.0; cost_y1 = 0.0; net_y1 = 0.0
    prog_T = min(prog_months, float(T))
    for m in range(T):
        t = float(m)
        net = NET[m]; cost = COST[m]; sn = SN[m]; sc = SC[m]; mn = MN[m]; sec = SEC[m]
        beq_t = BEQ_T[m]; beq_c = BEQ_C[m]
        gross = net + cost
        f = df[m, dcol]
        s_beq_saved += beq_c - beq_t
        s_gross += gross; s_cost += cost; s_net += net
        pv_net += f * net; pv_cost += f * cost; pv_gross += f * gross
        soc_pv_cost += f * sc; soc_pv_net += f * sn
        if t < prog_T:
            cost_in_prog += cost
        gbs += (beq_c - beq_t) * b_month
        exits = (CIN[m] - beq_t) * b_month
        all_exits += exits
        cum_net = cum_net + net
        if cum_net < -tol:
            last_neg_cum = t
        if net < -tol:
            last_neg_net = t
        cum_sec = cum_sec + sec
        if cum_sec < -tol:
            last_neg_sec = t
        muni_total += mn; muni_pv += f * mn
        soc_benefits += f * (sn + sc)
        if m < 12:
            all_exits_y1 += exits
            sec_y1 += sec; gross_y1 += gross; cost_y1 += cost; net_y1 += net
    ended_t = rows[_R_CUM_T, eval_idx]; ended_c = rows[_R_CUM_C, eval_idx]
    extra = ended_t - ended_c
    run_rate = extra * b_month * 12.0 * (retention if municipality else 1.0)
    cost_per_year = _safe_div(cost_in_prog, prog_T / 12.0)
    out[0, j] = extra
    out[1, j] = s_beq_saved
    out[2, j] = s_gross
    out[3, j] = s_cost
    out[4, j] = s_net
    out[5, j] = pv_net
    out[6, j] = _safe_div(pv_gross, pv_cost)
    out[7, j] = _break_even(last_neg_cum, T)
    out[8, j] = _break_even(last_neg_net, T)
    out[9, j] = _safe_div(s_cost, extra)
    out[10, j] = run_rate
    out[11, j] = cost_per_year
    out[12, j] = run_rate - cost_per_year
    out[13, j] = gbs
    out[14, j] = all_exits
    out[15, j] = 1.0 - _safe_div(gbs, all_exits)
    out[16, j] = ended_t
    out[17, j] = ended_c
    out[18, j] = muni_total
    out[19, j] = muni_pv
    out[20, j] = soc_benefits
    out[21, j] = soc_pv_cost
    out[22, j] = soc_pv_net
    out[23, j] = soc_pv_net
    out[24, j] = _safe_div(soc_pv_net + soc_pv_cost, soc_pv_cost)
    out[25, j] = sec_y1
    out[26, j] = _break_even(last_neg_sec, T)
    out[27, j] = gross_y1
    out[28, j] = cost_y1
    out[29, j] = net_y1
    out[30, j] = all_exits_y1
    out[31, j] = all_exits_y1 - cost_y1
    out[32, j] = rows[_R_CUM_T, y1]
    out[33, j] = rows[_R_RET_T, y1]


@njit(cache=True, nogil=True)
def _write_ledger(j, T, rows, L_mn, L_mc, L_sn, L_sc, L_sec, L_ce, L_cr, L_ci, L_beq):
    for m in range(T):
        L_mn[m, j] = rows[_R_MN, m]; L_mc[m, j] = rows[_R_MC, m]; L_sn[m, j] = rows[_R_SN, m]
        L_sc[m, j] = rows[_R_SC, m]; L_sec[m, j] = rows[_R_SEC, m]
        L_ce[m, 0, j] = rows[_R_CUM_T, m]; L_ce[m, 1, j] = rows[_R_CUM_C, m]
        L_cr[m, 0, j] = rows[_R_RET_T, m]; L_cr[m, 1, j] = rows[_R_RET_C, m]
        L_ci[m, 0, j] = rows[_R_CIN, m]; L_ci[m, 1, j] = rows[_R_CIN, m]
        L_beq[m, 0, j] = rows[_R_BEQ_T, m]; L_beq[m, 1, j] = rows[_R_BEQ_C, m]


@njit(cache=True, nogil=True)
def _scenarios(lo, hi, Pm, ix, consts, T, path, df, municipality, out, write_ledger,
               L_mn, L_mc, L_sn, L_sc, L_sec, L_ce, L_cr, L_ci, L_beq):
    """Scenarios lo..hi-1, one after the other, sharing scratch rows (_N_ROWS x T)."""
    rows = np.empty((_N_ROWS, T))
    wkey = np.zeros(5)
    hkey = np.zeros(2 * _N_HKEY + 1)
    for j in range(lo, hi):
        _exit_shares(j, Pm, ix, consts, T, path, rows, wkey, hkey)
        _states(j, Pm, ix, consts, T, rows)
        _flows(j, Pm, ix, consts, T, rows)
        _metrics(j, Pm, ix, consts, T, df, municipality, rows, out)
        if write_ledger:
            _write_ledger(j, T, rows, L_mn, L_mc, L_sn, L_sc, L_sec, L_ce, L_cr, L_ci, L_beq)


@njit(parallel=True, cache=True, nogil=True)
def _kernel(Pm, ix, consts, T, path, df, municipality, out, write_ledger,
            L_mn, L_mc, L_sn, L_sc, L_sec, L_ce, L_cr, L_ci, L_beq):
    """All scenarios: blocks of _BLOCK scenarios spread over the cores with prange."""
    n = Pm.shape[1]
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    for b in prange(n_blocks):
        lo = np.int64(b) * _BLOCK
        _scenarios(lo, min(lo + _BLOCK, n), Pm, ix, consts, T, path, df, municipality, out, write_ledger,
                   L_mn, L_mc, L_sn, L_sc, L_sec, L_ce, L_cr, L_ci, L_beq)


# ------------------------------------------------------------------ Python side
_IX = np.array([PARAM_NAMES.index(k) for k in _KERNEL_PARAMS], dtype=np.int64)
_NO_PATH = np.empty((0, 1))
_NO_2D = np.empty((0, 0))
_NO_3D = np.empty((0, 2, 0))


def param_matrix(P: Mapping[str, np.ndarray], n: int | None = None) -> np.ndarray:
    """Parameters as one C-contiguous array ``(len(PARAM_NAMES), n)``, rows in schema order."""
    if n is None:
        n = int(np.shape(P["baseline.work_exit_rate"])[0])
    Pm = np.empty((len(PARAM_NAMES), n))
    for i, name in enumerate(PARAM_NAMES):
        if name in P:
            Pm[i] = P[name]
        else:
            Pm[i] = np.nan   # not read by the kernel
    return Pm


def _path_2d(cycle_path, months: int, n: int) -> np.ndarray:
    if cycle_path is None:
        return _NO_PATH
    path = np.asarray(cycle_path, dtype=float)
    if path.ndim == 1:
        path = path[:, None]
    if path.shape[0] != months or path.shape[1] not in (1, n):
        raise ValueError(f"cycle path of shape {np.shape(cycle_path)} does not fit {months} months x {n} scenarios")
    return np.ascontiguousarray(path)


def _discount(P, months: int, convention: str) -> np.ndarray:
    """Discount factors exactly as metrics.compute builds them: (T, 1) if one rate, else (T, n)."""
    rate = P["discount.rate"]
    if bool(np.all(rate == rate[0])):
        return np.ascontiguousarray(discount_factors(months, float(rate[0]), convention)[:, None])
    return np.ascontiguousarray(discount_factors(months, rate, convention))


def _launch(Pm, T, path, df, municipality, out, write_ledger, L, threads):
    with _LOCK:
        before = numba.get_num_threads()
        if threads is not None:
            numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
        # blocks are handed out one at a time (not split evenly up front), so a core that is
        # busy with something else does not hold up the others
        chunksize = numba.set_parallel_chunksize(1)
        try:
            _kernel(Pm, _IX, _CONSTS, np.int64(T), path, df, bool(municipality), out, bool(write_ledger), *L)
        finally:
            numba.set_parallel_chunksize(chunksize)
            if threads is not None:
                numba.set_num_threads(before)


def ledger(P: Mapping[str, np.ndarray], months: int, cycle_path=None, *, threads: int | None = None) -> Ledger:
    """The monthly ledger of :class:`mkba.model._LedgerBuilder`, computed by the kernel (one call, no chunking)."""
    Pm = param_matrix(P)
    n, T = Pm.shape[1], int(months)
    path = _path_2d(cycle_path, T, n)
    L = (np.zeros((T, n)), np.zeros((T, n)), np.zeros((T, n)), np.zeros((T, n)), np.zeros((T, n)),
         np.empty((T, 2, n)), np.empty((T, 2, n)), np.empty((T, 2, n)), np.empty((T, 2, n)))
    out = np.empty((N_METRICS, n))
    _launch(Pm, T, path, np.ones((T, 1)), True, out, True, L, threads)
    b_month = P["benefit.cost_per_year"] * P["benefit.household_factor"] / MONTHS_PER_YEAR
    return Ledger(muni_net=L[0], muni_cost=L[1], soc_net=L[2], soc_cost=L[3], cum_ended=L[5], cum_returns=L[6],
                  beq=L[8], cum_inflow=L[7], b_month=b_month, retention=P["benefit.retention_share"],
                  secondment_surplus=L[4])


def metrics(P: Mapping[str, np.ndarray], months: int, cycle_path=None, *, perspective: str, convention: str,
            threads: int | None = None) -> dict[str, np.ndarray]:
    """Headline metrics of :func:`mkba.metrics.compute`, computed inside the kernel (one call, no chunking).

    If the metric set of :mod:`mkba.metrics` has changed since the kernel was written, the
    kernel's ledger goes through :func:`mkba.metrics.compute` instead (slower, never stale).
    """
    if set(METRIC_NAMES) != set(KERNEL_METRICS):
        from .metrics import compute

        return compute(ledger(P, months, cycle_path, threads=threads), P, perspective=perspective,
                       convention=convention)
    Pm = param_matrix(P)
    n, T = Pm.shape[1], int(months)
    out = np.empty((N_METRICS, n))
    _launch(Pm, T, _path_2d(cycle_path, T, n), _discount(P, T, convention), perspective == "municipality", out,
            False, (_NO_2D,) * 5 + (_NO_3D,) * 4, threads)
    return {k: out[i] for i, k in enumerate(KERNEL_METRICS)}


def evaluate_batch(case, overrides: Mapping[str, Any] | None = None, *, cycle_path=None,
                   chunk_size: int = FAST_CHUNK, threads: int | None = None) -> dict[str, np.ndarray]:
    """:func:`mkba.model.evaluate_batch` on the compiled kernel, in chunks of parameter sets.

    Validation is :func:`mkba.model.parameter_arrays`'s own (same errors), but the ``(n,)``
    arrays of every parameter are never built for the whole batch: each chunk of
    ``max(chunk_size, FAST_CHUNK)`` scenarios gets its own, and only the metrics
    (34 x 8 bytes per scenario) are kept, so a million scenarios need about 300 MB.
    """
    from .errors import InputError
    from .model import _months, parameter_arrays

    overrides = dict(overrides or {})
    arrays = {k: np.asarray(v) for k, v in overrides.items()}
    sizes = {a.size for a in arrays.values()} - {1}
    if len(sizes) > 1 or any(a.ndim > 1 for a in arrays.values()) or any(k not in SCHEMA for k in arrays):
        parameter_arrays(case, overrides)   # raises the model's own error, before building anything
    n = sizes.pop() if sizes else 1
    # names, horizon and ranges checked on (min, max) of each array: the checks parameter_arrays makes
    parameter_arrays(case, {k: (a if a.size == 1 else np.array([np.min(a), np.max(a)])) for k, a in arrays.items()})
    months = _months(case, overrides)
    path = None if cycle_path is None else np.asarray(cycle_path, dtype=float)
    if path is not None and path.shape[0] != months:
        raise InputError(f"cycle path has {path.shape[0]} months but the horizon is {months}", field="cycle_path",
                         fix="give one multiplier per month of the horizon")
    chunk = max(int(chunk_size), FAST_CHUNK)
    out: dict[str, np.ndarray] | None = None
    for lo in range(0, n, chunk):
        sl = slice(lo, min(lo + chunk, n))
        P, _ = parameter_arrays(case, {k: (a if a.size == 1 else a[sl]) for k, a in arrays.items()})
        sub_path = path if path is None or path.ndim == 1 or path.shape[1] == 1 else path[:, sl]
        part = metrics(P, months, sub_path, perspective=case.perspective, convention=case.discount_convention,
                       threads=threads)
        if out is None:
            out = {k: np.empty(n) for k in part}
        for k, v in part.items():
            out[k][sl] = v
        del P, part
    return out

"""The model kernel: every mechanism of the model, written once, compiled by numba.

One scalar kernel simulates one scenario (treatment and control, every sub-group): first the people,
month by month, then the money per (actor, item, category). The money rows the metrics read are linear
in a few people series per month (benefit equivalents, people in work, costs per participant, ...):
each flow is a coefficient times one such series, and each money row receives, per series, the sum of
the coefficients of the flows booked on it (see ``_flow``). It serves both uses:

* **record mode** (``run``): it also writes the monthly people states and every flow into
  preallocated arrays, from which :mod:`mkba.model` builds the tidy table;
* **metrics mode** (``evaluate_batch``): it only keeps the ledger rows it needs and reduces
  them to the headline metrics inside the kernel, for blocks of scenarios spread over the
  cores with ``prange``; memory does not grow with the batch beyond the parameters of a chunk
  and the metrics.

There is no second implementation: :mod:`mkba.cohort`, :mod:`mkba.cashflows` and
:mod:`mkba.metrics` document the mechanisms and hold the Python-side helpers (hazard
conversions, the metric names, the per-year table), the numbers all come from here. Plain
numpy models (the outline of the model, and the same work for one case) are kept in
``benchmarks/`` only, as the peers the benchmark prints ratios against.

People (per scenario, per group; treatment by entry cohort, control aggregated)
------------------------------------------------------------------------------
States: ``B`` full benefit, ``P`` part-time work beside a partial benefit, ``W`` left benefit
for work, ``O`` left for other reasons (no return), ``J`` on a programme contract. Entrants of
month ``e`` form cohort ``e``; everything that depends on time in the programme runs on the
cohort's own age ``a = m - e``: lock-in, ramp-up, decay, the effect window (participation plus
persistence), the one-off stock effect, the trial period and the programme contract, the
participation months that are charged. Once a cohort is older than every one of these
(``age_mature``) its hazards no longer depend on age, so it joins one pooled "mature" cohort:
the cost per scenario grows with the number of age-dependent months, not with the horizon
squared. The control group has no age dependence and is one aggregate.

Each month, in order: entrants (and refills of places left early) join ``B``; contracts start
(at age ``jobs.start_month``, a share ``jobs.share`` of those on benefit) or end (at age
``jobs.end_month``, ``jobs.to_work_share`` to regular work, the rest back to benefit); then
competing monthly hazards move people: from ``B`` to work / other / stock exit; from ``P`` to
full work / other / back to full benefit; from ``W`` back to benefit; from ``J`` drop-out /
dismissal (back to benefit) / regular work. Competing hazards ``h_i`` leave a stock with
``q = 1 - prod(1 - h_i)``, split in proportion to ``h_i``, so people are conserved exactly.
Annual probabilities become monthly hazards ``h = 1 - (1 - p) ** (1/12)``.

The economic cycle ``c`` (``cycle.multiplier`` times the optional cycle path) acts on every
channel with its own sensitivity ``s``: channels that find work are multiplied by
``1 + s (c - 1)`` (baseline job finding by ``c`` itself), channels that lose it (returns,
drop-outs, dismissals) by ``1 - s (c - 1)``; both floored at 0.

Money: see :mod:`mkba.cashflows` (the catalogue ``FLOWS`` is defined here, where it is used).
"""
from __future__ import annotations

import math
import os
import threading
from typing import NamedTuple

import numpy as np

import numba
from numba import njit, prange

if "NUMBA_THREADING_LAYER" not in os.environ:
    # tbb if installed, else numba's own workqueue: both survive os.fork() (the notebook kernels'
    # fork server, process pools), GNU OpenMP does not. The workqueue is not re-entrant, hence
    # one launch at a time (_LOCK).
    numba.config.THREADING_LAYER = "forksafe"

from .schema import PAYERS, SCHEMA, SHARED_COST_ITEMS

MONTHS_PER_YEAR = 12
# An annual probability of exactly 1 has no finite monthly hazard; probabilities past this bound
# are capped (the cap only binds for extreme sweeps).
MAX_ANNUAL_PROBABILITY = 0.9999
BREAK_EVEN_TOLERANCE_EUR = 1e-6   # rounding noise when cumulative flows cross zero
PEOPLE_TOLERANCE = 1e-6           # persons: fewer extra people off benefit than this is rounding noise (no cost per person)

# ------------------------------------------------------------------ the flow catalogue
ACTORS = ("municipality", "rijk", "participant", "employer", "care", "society", "housing_corporation",
          "agency", "other")
CATEGORIES = ("transfer", "programme", "effect")
_FIXED_FLOWS = (
    ("municipality", "benefit_payments", "transfer"),   # 0
    ("participant", "benefit_payments", "transfer"),    # 1
    ("municipality", "buig_budget", "transfer"),        # 2
    ("rijk", "buig_budget", "transfer"),                # 3
    ("employer", "wages", "transfer"),                  # 4
    ("participant", "wages", "transfer"),               # 5
    ("rijk", "wages", "transfer"),                      # 6
    ("care", "care_costs", "effect"),                   # 7
    ("participant", "wellbeing", "effect"),             # 8
    ("municipality", "execution_costs", "effect"),      # 9
    ("employer", "production", "effect"),               # 10
    ("employer", "secondment_fees", "transfer"),        # 11
    ("municipality", "secondment_fees", "transfer"),    # 12
    ("municipality", "secondment_top_up", "transfer"),  # 13
    ("participant", "secondment_top_up", "transfer"),   # 14
    ("participant", "job_wages", "transfer"),           # 15
    ("rijk", "job_wages", "transfer"),                  # 16
    ("employer", "job_wages", "transfer"),              # 17 the employer's share of the wage
    ("society", "job_production", "effect"),            # 18
    ("employer", "job_fees", "transfer"),               # 19
    ("municipality", "job_fees", "transfer"),           # 20
    ("society", "displacement", "effect"),              # 21 seconded hours that replace regular work
)
(F_MUNI_BENEFIT, F_PART_BENEFIT, F_MUNI_BUIG, F_RIJK_BUIG, F_EMPL_WAGES, F_PART_WAGES, F_RIJK_WAGES, F_CARE,
 F_WELLBEING, F_EXECUTION, F_PRODUCTION, F_EMPL_SEC_FEES, F_MUNI_SEC_FEES, F_MUNI_TOPUP, F_PART_TOPUP,
 F_PART_JOB_WAGES, F_RIJK_JOB_WAGES, F_EMPL_JOB_WAGES, F_JOB_PRODUCTION, F_EMPL_JOB_FEES,
 F_MUNI_JOB_FEES, F_DISPLACEMENT) = range(len(_FIXED_FLOWS))
N_PAYERS = len(PAYERS)
# programme cost items, each split over the payers by sharing.<item>.<payer>
(S_STAFF, S_PARTICIPANTS, S_PLACEMENTS, S_OTHER, S_SEC_OVERHEAD, S_JOB_WAGES) = range(len(SHARED_COST_ITEMS))
F_SHARED = len(_FIXED_FLOWS)
#: every flow the kernel books: (actor, item, category), in the order of the record arrays
FLOWS: tuple[tuple[str, str, str], ...] = _FIXED_FLOWS + tuple(
    (payer, item, "programme") for item in SHARED_COST_ITEMS for payer in PAYERS)
N_FLOWS = len(FLOWS)
PROGRAMME_ITEMS = frozenset(item for _, item, cat in FLOWS if cat == "programme")

# ledger rows of a scenario (treatment minus control unless named _T/_C)
(R_MN, R_MC, R_SN, R_SC, R_SEC, R_BEQ_T, R_BEQ_C, R_OFF_T, R_OFF_C, R_EV_T, R_EV_C, R_RET_T, R_RET_C, R_CIN,
 R_GBS, R_ALLEX, R_RUN_M, R_RUN_S, R_TAKE, R_MG, R_SG) = range(21)
N_ROWS = 21
LEDGER_ROWS = ("muni_net", "muni_cost", "soc_net", "soc_cost", "secondment_surplus", "beq_t", "beq_c",
               "off_t", "off_c", "events_t", "events_c", "returns_t", "returns_c", "cum_inflow",
               "benefit_saving_eur", "all_exits_saving_eur", "run_rate_muni", "run_rate_soc", "taking_part",
               "muni_gross", "soc_gross")


def _coefficients() -> np.ndarray:
    """How each flow enters the money rows: municipal net and programme cost, societal net and
    programme cost (every flow of an item that carries a programme flow, netted over actors),
    the municipality's secondment result."""
    c = np.zeros((5, N_FLOWS))
    for k, (actor, item, cat) in enumerate(FLOWS):
        c[0, k] = 1.0 if actor == "municipality" else 0.0
        c[1, k] = -1.0 if (actor == "municipality" and cat == "programme") else 0.0
        c[2, k] = 1.0
        c[3, k] = -1.0 if item in PROGRAMME_ITEMS else 0.0
        c[4, k] = 1.0 if (actor == "municipality" and item.startswith("secondment_")) else 0.0
    return c


COEF = _coefficients()
# the same coefficients as tuples: compile-time constants in the kernel (a global array is not)
_C_MUNI = tuple(float(x) for x in COEF[0])
_C_MCOST = tuple(float(x) for x in COEF[1])
_C_SCOST = tuple(float(x) for x in COEF[3])
_C_SEC = tuple(float(x) for x in COEF[4])

# people rows recorded per month and arm (run mode)
PEOPLE = ("on_benefit", "partial_benefit", "in_work", "other_exit", "programme_job", "off_benefit",
          "cum_inflow", "cum_ended", "cum_returns", "benefit_equivalents", "taking_part", "seconded")
(P_B, P_P, P_W, P_O, P_J, P_OFF, P_CIN, P_EV, P_RET, P_BEQ, P_TAKE, P_SEC) = range(len(PEOPLE))
N_PEOPLE = len(PEOPLE)

# ------------------------------------------------------------------ parameters the kernel reads
_KERNEL_PARAMS = (
    "baseline.work_exit_rate", "baseline.other_exit_rate", "baseline.return_rate", "baseline.part_time_share",
    "baseline.partial_benefit_saving", "baseline.partial_to_work_rate", "baseline.partial_return_rate",
    "baseline.return_cycle_sensitivity", "baseline.partial_to_work_cycle_sensitivity", "cycle.multiplier",
    "effect.work_exit_added", "effect.work_exit_ratio", "effect.other_exit_added", "effect.stock_share",
    "effect.stock_months", "effect.stock_cycle_sensitivity", "effect.lock_in_months", "effect.lock_in_factor",
    "effect.ramp_months", "effect.decay_start_month", "effect.decay_half_life_months", "effect.cycle_sensitivity",
    "effect.persistence_months", "participation.months", "participation.stops_at_exit",
    "cohort.initial_participants", "cohort.inflow_per_month", "cohort.inflow_months",
    "programme.months", "programme.staff_fte", "programme.cost_per_fte_year", "programme.clients_per_fte",
    "programme.cost_per_participant", "programme.cost_per_participant_month", "programme.cost_per_placement",
    "programme.setup_cost", "programme.other_cost_per_month",
    "benefit.cost_per_year", "benefit.household_factor", "benefit.retention_share",
    "work.wage_cost_per_year", "work.hours_fraction", "work.net_wage_share", "work.production_ratio",
    "effects.care_saving_per_worker_year", "effects.wellbeing_per_worker_year",
    "effects.execution_saving_per_ended_year",
    "secondment.share", "secondment.hours_per_month", "secondment.ramp_months", "secondment.tariff_per_hour",
    "secondment.top_up_per_hour", "secondment.top_up_cap_per_month", "secondment.overhead_per_month",
    "secondment.overhead_per_hour",
    "jobs.share", "jobs.start_month", "jobs.end_month", "jobs.wage_cost_per_year", "jobs.hours_fraction",
    "jobs.benefit_saving", "jobs.production_value_per_year", "jobs.to_work_share", "jobs.dropout_rate",
    "jobs.dismissal_rate", "jobs.to_work_rate", "jobs.refill_share", "jobs.wage_benefit_ratio",
    "jobs.employer_share", "jobs.fee_per_month", "jobs.placement_cycle_sensitivity",
    "jobs.to_work_cycle_sensitivity", "jobs.dropout_cycle_sensitivity",
    "evaluation.month", "secondment.displacement_share",
) + tuple(f"sharing.{item}.{payer}" for item in SHARED_COST_ITEMS for payer in PAYERS)
(K_BASE_WORK, K_BASE_OTHER, K_RETURN, K_PT_SHARE, K_PARTIAL_SAVING, K_PARTIAL_TO_WORK, K_PARTIAL_RETURN,
 K_RETURN_SENS, K_PARTIAL_SENS, K_CYCLE,
 K_ADDED, K_RATIO, K_OTHER_ADDED, K_STOCK_SHARE, K_STOCK_MONTHS, K_STOCK_SENS, K_LOCK_MONTHS, K_LOCK_FACTOR,
 K_RAMP, K_DECAY_START, K_HALF_LIFE, K_CYCLE_SENS, K_PERSIST, K_PART_MONTHS, K_STOPS_AT_EXIT,
 K_INITIAL, K_INFLOW, K_INFLOW_MONTHS,
 K_PROG_MONTHS, K_STAFF_FTE, K_COST_FTE, K_CLIENTS_FTE, K_COST_PART, K_COST_PART_MONTH, K_COST_PLACEMENT,
 K_SETUP, K_OTHER_COST,
 K_BENEFIT, K_HOUSEHOLD, K_RETENTION,
 K_WAGE, K_HOURS, K_NET_SHARE, K_PRODUCTION,
 K_CARE, K_WELLBEING, K_EXECUTION,
 K_SEC_SHARE, K_SEC_HOURS, K_SEC_RAMP, K_SEC_TARIFF, K_SEC_TOPUP, K_SEC_CAP, K_SEC_OVH_MONTH, K_SEC_OVH_HOUR,
 K_JOB_SHARE, K_JOB_START, K_JOB_END, K_JOB_WAGE, K_JOB_HOURS, K_JOB_SAVING, K_JOB_PRODUCTION, K_JOB_TO_WORK,
 K_JOB_DROPOUT, K_JOB_DISMISSAL, K_JOB_TO_WORK_RATE, K_JOB_REFILL, K_JOB_WAGE_RATIO, K_JOB_EMPLOYER,
 K_JOB_FEE, K_JOB_PLACE_SENS, K_JOB_WORK_SENS, K_JOB_DROP_SENS,
 K_EVAL_MONTH, K_SEC_DISPLACEMENT) = range(len(_KERNEL_PARAMS) - len(SHARED_COST_ITEMS) * N_PAYERS)
K_SHARING = len(_KERNEL_PARAMS) - len(SHARED_COST_ITEMS) * N_PAYERS   # first sharing.* entry
N_KPARAMS = len(_KERNEL_PARAMS)
assert all(k in SCHEMA for k in _KERNEL_PARAMS)

#: headline metrics computed by the kernel, in the order of its output rows (see mkba.metrics)
METRIC_NAMES: tuple[str, ...] = (
    "extra_ended_benefits", "extra_people_off_benefit_avg", "benefit_months_saved", "extra_exit_events",
    "gross_saving_eur", "programme_cost_eur", "net_result_eur", "npv_eur", "bcr", "break_even_month",
    "monthly_break_even_month", "cost_per_extra_ended_benefit_eur", "cost_per_extra_person_off_benefit_eur",
    "annual_saving_run_rate_eur", "programme_cost_per_year_eur", "annual_net_run_rate_eur",
    "gross_benefit_saving_eur", "saving_counting_all_exits_eur", "deadweight_share",
    "ended_benefits_treatment", "ended_benefits_control", "exit_events_treatment", "exit_events_control",
    "municipal_net_result_eur", "municipal_npv_eur", "municipal_bcr", "municipal_programme_cost_eur",
    "societal_benefits_eur", "societal_costs_eur", "societal_net_eur", "societal_net_result_eur",
    "societal_npv_eur", "societal_bcr",
    "secondment_surplus_after_benefit_year1_eur", "secondment_break_even_month", "gross_saving_year1_eur",
    "programme_cost_year1_eur", "net_result_year1_eur", "saving_counting_all_exits_year1_eur",
    "net_counting_all_exits_year1_eur", "ended_benefits_treatment_year1", "exit_events_treatment_year1",
    "returns_treatment_year1", "participation_months_charged",
)
N_METRICS = len(METRIC_NAMES)
_BLOCK = 64          # scenarios per parallel task
# scratch rows of a group's simulation (see _group): 0..5 cohorts, 6 effect weight, 7 spare, then per month
(M_BEQ_T, M_BA_T, M_PA_T, M_WA_T, M_JA_T, M_BEQ_C, M_BA_C, M_PA_C, M_WA_C, M_NEW, M_TAKE, M_PLACED,
 M_SECONDED) = range(8, 21)
# flow values per month, computed just before they are booked (see _flow)
(M_BENEFIT, M_GROSS, M_PROD, M_WJ, M_BP, M_TMP, M_TMP2, M_ONES) = range(21, 29)
# people per month that only ledger rows derived after the people pass read (see _group)
(M_OFF_T, M_OFF_C, M_CIN) = range(29, 32)
N_SCRATCH = M_CIN + 1
# the five money rows each flow enters with its coefficients COEF[0..4] (see _flow)
_MONEY_ROWS = (R_MN, R_MC, R_SN, R_SC, R_SEC)
assert _MONEY_ROWS == tuple(range(5))
_LOCK = threading.Lock()


def numba_version() -> str:
    return numba.__version__


# ------------------------------------------------------------------ scalar helpers
@njit(cache=True, inline="always")
def _hazard(p):
    """Monthly hazard from an annual probability: 1 - (1 - p) ** (1/12), p clipped to [0, MAX]."""
    if p <= 0.0:
        return 0.0
    if p > MAX_ANNUAL_PROBABILITY:
        p = MAX_ANNUAL_PROBABILITY
    return -math.expm1(math.log1p(-p) / MONTHS_PER_YEAR)


@njit(cache=True, inline="always")
def _split3(h1, h2, h3):
    """Competing monthly hazards: each destination's share of the stock (people conserved)."""
    tot = h1 + h2 + h3
    if tot <= 0.0:
        return 0.0, 0.0, 0.0
    r = (1.0 - (1.0 - h1) * (1.0 - h2) * (1.0 - h3)) / tot
    return h1 * r, h2 * r, h3 * r


@njit(cache=True, inline="always")
def _up(s, c):
    """Cycle factor of a channel that finds work: 1 + s (c - 1), floored at 0."""
    f = 1.0 + s * (c - 1.0)
    return f if f > 0.0 else 0.0


@njit(cache=True, inline="always")
def _down(s, c):
    """Cycle factor of a channel that loses work: 1 - s (c - 1), floored at 0."""
    f = 1.0 - s * (c - 1.0)
    return f if f > 0.0 else 0.0


@njit(cache=True, inline="always")
def _safe_div(a, b):
    if b > 0.0:
        return a / b
    return np.nan


@njit(cache=True, inline="always")
def _bcr(benefits, costs):
    """Benefit-cost ratio of discounted benefits and costs (definition: mkba.metrics): negative benefits
    count as costs and negative costs as benefits, so the ratio is >= 0 and > 1 exactly when NPV > 0."""
    b = max(benefits, 0.0) + max(-costs, 0.0)
    c = max(costs, 0.0) + max(-benefits, 0.0)
    return _safe_div(b, c)


@njit(cache=True)
def effect_weight(a, lock, ramp, decay_start, half_life, window_end):
    """Weight of the effect at age ``a`` (months since the participant's entry).

    0 during lock-in, a linear ramp over ``ramp`` months, halving every ``half_life`` months from
    ``decay_start``, and 0 from ``window_end`` (participation plus persistence) on.
    """
    if a < lock or a >= window_end:
        return 0.0
    w = 1.0
    if ramp > 0.0:
        w = (a - lock + 1.0) / max(ramp, 1.0)
        if w > 1.0:
            w = 1.0
        elif w < 0.0:
            w = 0.0
    if a >= decay_start and not math.isinf(half_life):
        w *= 2.0 ** (-(a - decay_start) / half_life)
    return w


@njit(cache=True)
def age_mature(p, T):
    """Age from which nothing in a cohort depends on its age any more (at most T)."""
    lock = p[K_LOCK_MONTHS]; ramp = p[K_RAMP]
    window = p[K_PART_MONTHS] + p[K_PERSIST]
    A = max(lock + ramp, p[K_PART_MONTHS])
    if p[K_STOCK_SHARE] > 0.0:
        A = max(A, p[K_STOCK_MONTHS])
    if p[K_JOB_SHARE] > 0.0:
        A = max(A, p[K_JOB_END] + 1.0)
    if math.isinf(window):
        if not math.isinf(p[K_HALF_LIFE]):
            return T
    else:
        A = max(A, window)
    A = math.ceil(A) + 1.0
    return int(min(A, float(T)))


# ------------------------------------------------------------------ one group, one scenario
@njit(cache=True, inline="always")
def _coef(k, arm, s, c):
    """Coefficients ``c`` (municipal net, municipal programme cost, societal net, societal programme
    cost, secondment result) of a series after flow ``k`` of arm ``arm`` adds ``s`` times the series:
    treatment minus control, each flow with its coefficients COEF. ``k`` is a constant where the flow
    is named, so the tests fold away at compile time."""
    if arm != 0:
        s = -s
    c0, c1, c2, c3, c4 = c
    if _C_MUNI[k] != 0.0:
        c0 += _C_MUNI[k] * s
    if _C_MCOST[k] != 0.0:
        c1 += _C_MCOST[k] * s
    c2 += s
    if _C_SCOST[k] != 0.0:
        c3 += _C_SCOST[k] * s
    if _C_SEC[k] != 0.0:
        c4 += _C_SEC[k] * s
    return (c0, c1, c2, c3, c4)


@njit(cache=True, inline="always")
def _flow(k, arm, scale, V, lo, hi, F, record, c):
    """Flow ``k`` of arm (0 treatment, 1 control), valued ``scale * V[m]`` in months ``lo <= m < hi``:
    in record mode written into ``F``; its coefficient added to ``c``, the money rows' coefficients
    of the series ``V`` (see _coef, _apply). Returns the new ``c``.

    The money rows are linear in each month's people series, so each row receives, per series, the
    sum of the coefficients of every flow booked on it, once per scenario (_apply), instead of every
    flow one by one: the same figures up to rounding (transfers between actors cancel exactly in the
    societal row), and record mode and metrics mode share this code, so they agree to the bit.
    """
    if record:
        for m in range(lo, hi):
            F[k, arm, m] += scale * V[m]
    return _coef(k, arm, scale, c)


@njit(cache=True, inline="always")
def _flow_shared(item, arm, scale, V, lo, hi, p, F, record, c):
    """A programme cost (positive, ``scale * V[m]``) of ``item``, split over the payers by their
    shares: flow ``-share * cost`` per payer (a payer with no share books nothing)."""
    base = K_SHARING + item * N_PAYERS
    for q in range(N_PAYERS):
        share = p[base + q]
        if share != 0.0:
            k = F_SHARED + item * N_PAYERS + q
            if record:
                for m in range(lo, hi):
                    cost = scale * V[m]
                    if cost != 0.0:
                        F[k, arm, m] += -share * cost
            c = _coef(k, arm, -share * scale, c)
    return c


@njit(cache=True, inline="always")
def _apply(c, V, lo, hi, rows):
    """Add ``c[r] * V[m]`` to money row r (_MONEY_ROWS) in months ``lo <= m < hi``; a row whose
    coefficient is 0 (no flow of the series enters it, or they cancel) is left alone."""
    for r in range(5):
        cr = c[r]
        if cr != 0.0:
            for m in range(lo, hi):
                rows[r, m] += cr * V[m]


@njit(cache=True, error_model="numpy")
def _group(p, T, path, pcol, rows, F, PPL, record, C):
    """Simulate one group of one scenario (parameters ``p`` in kernel order), adding to ``rows``
    (and, in record mode, to the flows ``F`` (N_FLOWS, 2, T) and people ``PPL`` (N_PEOPLE, 2, T)).

    ``C`` is scratch (N_SCRATCH, T + 1): the treatment cohorts (B, P, W, O, J and entrants per entry
    month), the effect weight by age, and per month what the money reads (rows ``M_*``).

    Two passes over the months: first the people (the state carried from month to month), then the
    money of each month from the people of that month, series by series (see _flow). The split keeps
    the state of the first pass in registers.
    """
    has_path = path.shape[1] > 0
    mult = p[K_CYCLE]
    base_work = p[K_BASE_WORK]; p_other = p[K_BASE_OTHER]; p_ret = p[K_RETURN]
    pt = p[K_PT_SHARE]; psav = p[K_PARTIAL_SAVING]; p_pw = p[K_PARTIAL_TO_WORK]; p_pr = p[K_PARTIAL_RETURN]
    ret_sens = p[K_RETURN_SENS]; pw_sens = p[K_PARTIAL_SENS]
    added = p[K_ADDED]; ratio_m1 = p[K_RATIO] - 1.0; other_added = p[K_OTHER_ADDED]
    s_share = p[K_STOCK_SHARE]; s_months = p[K_STOCK_MONTHS]; s_sens = p[K_STOCK_SENS]
    lock = p[K_LOCK_MONTHS]; lock_f = p[K_LOCK_FACTOR]; ramp = p[K_RAMP]
    d_start = p[K_DECAY_START]; half = p[K_HALF_LIFE]; e_sens = p[K_CYCLE_SENS]
    part_m = p[K_PART_MONTHS]; window = part_m + p[K_PERSIST]; stops = p[K_STOPS_AT_EXIT]
    initial = p[K_INITIAL]; infl = p[K_INFLOW]; infl_m = p[K_INFLOW_MONTHS]
    prog_m = p[K_PROG_MONTHS]
    b_month = p[K_BENEFIT] * p[K_HOUSEHOLD] / MONTHS_PER_YEAR
    retention = p[K_RETENTION]
    ns = p[K_NET_SHARE]; prod_ratio = p[K_PRODUCTION]
    wage_month = p[K_WAGE] * p[K_HOURS] / MONTHS_PER_YEAR
    care = p[K_CARE] / MONTHS_PER_YEAR; wellbeing = p[K_WELLBEING] / MONTHS_PER_YEAR
    execution = p[K_EXECUTION] / MONTHS_PER_YEAR
    staff_fte = p[K_STAFF_FTE]; cost_fte = p[K_COST_FTE] / MONTHS_PER_YEAR; cpf = p[K_CLIENTS_FTE]
    cost_part = p[K_COST_PART]; cost_pm = p[K_COST_PART_MONTH]; cost_place = p[K_COST_PLACEMENT]
    setup = p[K_SETUP]; other_cost = p[K_OTHER_COST]
    sec_share = p[K_SEC_SHARE]; sec_hours = p[K_SEC_HOURS]; sec_ramp = p[K_SEC_RAMP]
    tariff = p[K_SEC_TARIFF]
    top_up_rate = min(p[K_SEC_TOPUP] * sec_hours, p[K_SEC_CAP])
    ovh_month = p[K_SEC_OVH_MONTH]; ovh_hour = p[K_SEC_OVH_HOUR]
    sec_disp = p[K_SEC_DISPLACEMENT]
    j_share = p[K_JOB_SHARE]; has_jobs = j_share > 0.0
    j_start = p[K_JOB_START]; j_end = p[K_JOB_END]; jsav = p[K_JOB_SAVING]
    j_to_work = p[K_JOB_TO_WORK]; j_refill = p[K_JOB_REFILL]
    j_drop = p[K_JOB_DROPOUT]; j_dism = p[K_JOB_DISMISSAL]; j_work_rate = p[K_JOB_TO_WORK_RATE]
    j_place_sens = p[K_JOB_PLACE_SENS]; j_work_sens = p[K_JOB_WORK_SENS]; j_drop_sens = p[K_JOB_DROP_SENS]
    if p[K_JOB_WAGE_RATIO] > 0.0:
        # net wage = ratio x benefit; the employer cost is that net wage over the net share
        job_wage_month = p[K_JOB_WAGE_RATIO] * b_month / (ns if ns > 0.0 else 1.0)
    else:
        job_wage_month = p[K_JOB_WAGE] * p[K_JOB_HOURS] / MONTHS_PER_YEAR
    j_empl = p[K_JOB_EMPLOYER]; j_fee = p[K_JOB_FEE]
    job_prod = p[K_JOB_PRODUCTION] / MONTHS_PER_YEAR
    A = age_mature(p, T)
    h_other = _hazard(p_other)
    last_cyc = np.nan; hr = 0.0; hpw = 0.0; hpr = 0.0; hw_c = 0.0; e_cyc = 1.0
    last_p_work = np.nan; last_hw = 0.0
    spw = 0.0; spo = 0.0; spr = 0.0; sjd = 0.0; sjx = 0.0; sjw = 0.0; scw = 0.0; sco = 0.0
    last_sw = np.nan; last_so = np.nan; last_ss = np.nan; last_fw = 0.0; last_fo = 0.0; last_fs = 0.0

    # cohort scratch: rows 0..4 = B, P, W, O, J of cohort e (entry month), row 5 = entrants
    for r in range(6):
        for e in range(T + 1):
            C[r, e] = 0.0
    mB = 0.0; mP = 0.0; mW = 0.0; mO = 0.0          # the mature pool (age >= A)
    cB = 0.0; cP = 0.0; cW = 0.0; cO = 0.0          # control
    ev_t = 0.0; ev_c = 0.0; ret_t = 0.0; ret_c = 0.0; cin = 0.0
    refill_next = 0.0
    w_mature = effect_weight(float(A), lock, ramp, d_start, half, window)
    # the effect weight by age, once per scenario (row 6 of the scratch)
    for a in range(A + 1):
        C[6, a] = effect_weight(float(a), lock, ramp, d_start, half, window)
    hs_cyc = 0.0; hd = 0.0; hx = 0.0; hj = 0.0
    e_first = -1; e_last = -1                       # first and last month with entrants so far
    for m in range(T):
        t = float(m)
        cyc = mult * path[pcol, m] if has_path else mult
        # --- entrants (both arms) and refills of places left early last month
        new = refill_next
        if m == 0:
            new += initial
        if t < infl_m:
            new += infl
        refill_next = 0.0
        C[5, m] += new
        C[0, m] += new
        if new != 0.0:
            if e_first < 0:
                e_first = m
            e_last = m
        cB += new
        cin += new
        # --- the cohort that reaches the mature age joins the pool
        e_old = m - A
        if e_old >= 0:
            mB += C[0, e_old]; mP += C[1, e_old]; mW += C[2, e_old]; mO += C[3, e_old]
            C[0, e_old] = 0.0; C[1, e_old] = 0.0; C[2, e_old] = 0.0; C[3, e_old] = 0.0; C[4, e_old] = 0.0
        # --- hazards that do not depend on age (recomputed only when the cycle moves)
        if cyc != last_cyc:
            hr = _hazard(p_ret * _down(ret_sens, cyc))
            hpw = _hazard(p_pw * _up(pw_sens, cyc)) if pt > 0.0 else 0.0
            hpr = _hazard(p_pr * _down(ret_sens, cyc)) if pt > 0.0 else 0.0
            hw_c = _hazard(base_work * cyc)
            e_cyc = _up(e_sens, cyc)
            if s_share > 0.0:
                hs_cyc = 1.0 - (1.0 - min(s_share * _up(s_sens, cyc), MAX_ANNUAL_PROBABILITY)) ** (1.0 / s_months)
            if has_jobs:
                hd = _hazard(j_drop * _down(j_drop_sens, cyc))
                hx = _hazard(j_dism * _down(j_drop_sens, cyc))
                hj = _hazard(j_work_rate * _up(j_work_sens, cyc))
            # the competing-risk splits of these hazards (the same for every cohort until the cycle moves)
            spw, spo, spr = _split3(hpw, h_other, hpr)
            sjd, sjx, sjw = _split3(hd, hx, hj)
            scw, sco, _unused = _split3(hw_c, h_other, 0.0)
            last_cyc = cyc
        base_cyc = base_work * cyc
        # --- treatment: cohorts by age, then the mature pool
        sB0 = 0.0; sB1 = 0.0; sP0 = 0.0; sP1 = 0.0; sW0 = 0.0; sW1 = 0.0; sJ0 = 0.0; sJ1 = 0.0
        take = 0.0; placed = 0.0; early = 0.0
        # cohorts younger than A that have entrants (k_lo..k_hi), then the mature pool (k = m + 1)
        k_lo = max(m - A + 1, e_first, 0)
        k_hi = min(m, e_last)
        if k_hi < k_lo:
            k_lo = 0; k_hi = -1
        for kk in range(k_lo, k_hi + 2):
            k = kk if kk <= k_hi else m + 1
            if k <= m:
                e = k
                a = float(m - e)
                B = C[0, e]; Pp = C[1, e]; W = C[2, e]; O = C[3, e]; J = C[4, e]
                if C[5, e] == 0.0:
                    continue
                w = C[6, m - e]
                lf = lock_f if a < lock else 1.0
                hs = hs_cyc if a < s_months else 0.0
                taking = a < part_m
                if has_jobs:
                    if a == j_start:
                        hired = B * min(j_share * _up(j_place_sens, cyc), 1.0)
                        B -= hired; J += hired
                        ev_t += hired * jsav
                    if a == j_end:
                        to_w = J * min(j_to_work * _up(j_work_sens, cyc), 1.0)
                        back = J - to_w
                        W += to_w; B += back; J = 0.0
                        ev_t += to_w * (1.0 - jsav)
                        ret_t += back * jsav
            else:
                B = mB; Pp = mP; W = mW; O = mO; J = 0.0
                a = float(A)
                w = w_mature
                lf = 1.0
                hs = 0.0
                taking = False
            if B == 0.0 and Pp == 0.0 and W == 0.0 and J == 0.0:
                continue
            B0 = B; P0 = Pp; W0 = W; J0 = J
            p_work = base_cyc * lf * (1.0 + ratio_m1 * w) + added * w * e_cyc
            if p_work != last_p_work:
                last_hw = _hazard(p_work)
                last_p_work = p_work
            hw = last_hw
            ho = _hazard(p_other + other_added * w) if other_added != 0.0 else h_other
            if hw != last_sw or ho != last_so or hs != last_ss:
                last_fw, last_fo, last_fs = _split3(hw, ho, hs)
                last_sw = hw; last_so = ho; last_ss = hs
            fw = last_fw; fo = last_fo; fs = last_fs
            ew = B * fw
            eo = B * (fo + fs)
            ew_part = ew * pt
            pw = 0.0; po = 0.0; pr = 0.0
            if Pp > 0.0:
                pw = Pp * spw; po = Pp * spo; pr = Pp * spr
            rw = W * hr
            jd = 0.0; jw = 0.0
            if J > 0.0:
                jd = J * (sjd + sjx); jw = J * sjw
            B = B - ew - eo + rw + pr + jd
            Pp = Pp + ew_part - pw - po - pr
            W = W + ew - ew_part + pw - rw + jw
            O = O + eo + po
            J = J - jd - jw
            ev_t += ew - ew_part + eo + pw + po + jw * (1.0 - jsav)
            ret_t += rw + jd * jsav
            early += jd + jw
            if taking:
                placed += ew
                take += 0.5 * (B0 + B + P0 + Pp + J0 + J + (1.0 - stops) * (W0 + W))
            sB0 += B0; sB1 += B; sP0 += P0; sP1 += Pp; sW0 += W0; sW1 += W; sJ0 += J0; sJ1 += J
            if k <= m:
                C[0, e] = B; C[1, e] = Pp; C[2, e] = W; C[3, e] = O; C[4, e] = J
            else:
                mB = B; mP = Pp; mW = W; mO = O
        if m < prog_m and j_refill > 0.0:
            refill_next = j_refill * early
        # --- control (aggregate, no effect)
        cB0 = cB; cP0 = cP; cW0 = cW
        ew = cB * scw; eo = cB * sco; ew_part = ew * pt
        pw = 0.0; po = 0.0; pr = 0.0
        if cP > 0.0:
            pw = cP * spw; po = cP * spo; pr = cP * spr
        rw = cW * hr
        cB = cB - ew - eo + rw + pr
        cP = cP + ew_part - pw - po - pr
        cW = cW + ew - ew_part + pw - rw
        cO = cO + eo + po
        ev_c += ew - ew_part + eo + pw + po
        ret_c += rw
        # --- people of the month (treatment: over cohorts; O is what is not in B, P, W, J)
        tB = sB1; tP = sP1; tW = sW1; tJ = sJ1
        tO = cin - tB - tP - tW - tJ
        Ba_t = 0.5 * (sB0 + sB1); Pa_t = 0.5 * (sP0 + sP1); Wa_t = 0.5 * (sW0 + sW1); Ja_t = 0.5 * (sJ0 + sJ1)
        Ba_c = 0.5 * (cB0 + cB); Pa_c = 0.5 * (cP0 + cP); Wa_c = 0.5 * (cW0 + cW)
        beq_t = Ba_t + Pa_t * (1.0 - psav) + Ja_t * (1.0 - jsav)
        beq_c = Ba_c + Pa_c * (1.0 - psav)
        off_t = tW + tO + tJ * jsav
        off_c = cW + cO
        rows[R_BEQ_T, m] += beq_t; rows[R_BEQ_C, m] += beq_c
        rows[R_OFF_T, m] += off_t; rows[R_OFF_C, m] += off_c
        rows[R_EV_T, m] += ev_t; rows[R_EV_C, m] += ev_c
        rows[R_RET_T, m] += ret_t; rows[R_RET_C, m] += ret_c
        rows[R_CIN, m] += cin
        C[M_OFF_T, m] = off_t; C[M_OFF_C, m] = off_c; C[M_CIN, m] = cin
        rows[R_TAKE, m] += take
        # --- secondment (programme time: the pool builds up over secondment.ramp_months, and is there
        # only while the programme runs: with its overhead no longer paid, no one is seconded)
        seconded = 0.0
        if sec_share > 0.0 and t < prog_m:
            s_r = min(max(t / max(sec_ramp, 1.0), 0.0), 1.0) if sec_ramp > 0.0 else 1.0
            seconded = sec_share * (Ba_t + Pa_t) * s_r
        if record:
            PPL[P_B, 0, m] += tB; PPL[P_P, 0, m] += tP; PPL[P_W, 0, m] += tW; PPL[P_O, 0, m] += tO
            PPL[P_J, 0, m] += tJ; PPL[P_OFF, 0, m] += off_t; PPL[P_CIN, 0, m] += cin; PPL[P_EV, 0, m] += ev_t
            PPL[P_RET, 0, m] += ret_t; PPL[P_BEQ, 0, m] += beq_t; PPL[P_TAKE, 0, m] += take
            PPL[P_SEC, 0, m] += seconded
            PPL[P_B, 1, m] += cB; PPL[P_P, 1, m] += cP; PPL[P_W, 1, m] += cW; PPL[P_O, 1, m] += cO
            PPL[P_OFF, 1, m] += off_c; PPL[P_CIN, 1, m] += cin; PPL[P_EV, 1, m] += ev_c
            PPL[P_RET, 1, m] += ret_c; PPL[P_BEQ, 1, m] += beq_c
        # what the money of the month reads, kept for the second pass
        C[M_BEQ_T, m] = beq_t; C[M_BA_T, m] = Ba_t; C[M_PA_T, m] = Pa_t; C[M_WA_T, m] = Wa_t; C[M_JA_T, m] = Ja_t
        C[M_BEQ_C, m] = beq_c; C[M_BA_C, m] = Ba_c; C[M_PA_C, m] = Pa_c; C[M_WA_C, m] = Wa_c
        C[M_NEW, m] = new; C[M_TAKE, m] = take; C[M_PLACED, m] = placed; C[M_SECONDED, m] = seconded
    # ledger rows that follow from the month's people alone: over all months at once, out of the
    # month-to-month loop (the same figures as in it, to the bit)
    for m in range(T):
        beq_t = C[M_BEQ_T, m]; beq_c = C[M_BEQ_C, m]; d_off = C[M_OFF_T, m] - C[M_OFF_C, m]
        rows[R_GBS, m] += (beq_c - beq_t) * b_month
        rows[R_ALLEX, m] += (C[M_CIN, m] - beq_t) * b_month
        rows[R_RUN_M, m] += d_off * b_month * MONTHS_PER_YEAR * retention
        rows[R_RUN_S, m] += d_off * b_month * MONTHS_PER_YEAR

    # ---- second pass: the money, series by series over all months (see _flow)
    for m in range(T):
        C[M_ONES, m] = 1.0
    n_act = 0                                       # months with the programme running (t < prog_m)
    while n_act < T and float(n_act) < prog_m:
        n_act += 1
    nsd = ns if ns > 0.0 else 1.0
    Z = (0.0, 0.0, 0.0, 0.0, 0.0)                   # no coefficients yet
    for arm in range(2):
        o = 0 if arm == 0 else M_BEQ_C - M_BEQ_T    # the arm's rows of people per month
        for m in range(T):
            Wa = C[M_WA_T + o, m]; Pa = C[M_PA_T + o, m]
            C[M_BENEFIT, m] = b_month * C[M_BEQ_T + o, m]
            # part-time earnings are offset against the benefit (S0:381-382): net earnings = benefit saved
            gross = wage_month * Wa + b_month * psav * Pa / nsd
            C[M_GROSS, m] = gross
            C[M_PROD, m] = prod_ratio * gross
            C[M_WJ, m] = Wa + (C[M_JA_T, m] if arm == 0 else 0.0)
            C[M_BP, m] = C[M_BA_T + o, m] + Pa
        V = C[M_BENEFIT]; NO = C[M_ONES]
        c = _flow(F_MUNI_BENEFIT, arm, -1.0, V, 0, T, F, record, Z)
        c = _flow(F_PART_BENEFIT, arm, 1.0, V, 0, T, F, record, c)
        c = _flow(F_MUNI_BUIG, arm, (1.0 - retention), V, 0, T, F, record, c)
        c = _flow(F_RIJK_BUIG, arm, -(1.0 - retention), V, 0, T, F, record, c)
        _apply(c, V, 0, T, rows)
        V = C[M_GROSS]
        c = _flow(F_EMPL_WAGES, arm, -1.0, V, 0, T, F, record, Z)
        c = _flow(F_PART_WAGES, arm, ns, V, 0, T, F, record, c)
        c = _flow(F_RIJK_WAGES, arm, (1.0 - ns), V, 0, T, F, record, c)
        _apply(c, V, 0, T, rows)
        V = C[M_WJ]
        c = _flow(F_CARE, arm, care, V, 0, T, F, record, Z)
        c = _flow(F_WELLBEING, arm, wellbeing, V, 0, T, F, record, c)
        _apply(c, V, 0, T, rows)
        V = C[M_BP]
        c = _flow(F_EXECUTION, arm, -execution, V, 0, T, F, record, Z)
        _apply(c, V, 0, T, rows)
        if arm == 0:
            # the approach's own costs (treatment only)
            X = C[M_TMP]
            for m in range(n_act):
                fte = staff_fte
                if cpf > 0.0:
                    fte += C[M_TAKE, m] / cpf
                X[m] = fte
            c = _flow_shared(S_STAFF, 0, cost_fte, X, 0, n_act, p, F, record, Z)
            _apply(c, X, 0, n_act, rows)
            c = _flow_shared(S_OTHER, 0, other_cost, NO, 0, n_act, p, F, record, Z)
            _apply(c, NO, 0, n_act, rows)
            c = _flow_shared(S_OTHER, 0, setup, NO, 0, min(T, 1), p, F, record, Z)
            _apply(c, NO, 0, min(T, 1), rows)
            for m in range(T):
                X[m] = cost_part * C[M_NEW, m] + cost_pm * C[M_TAKE, m]
            c = _flow_shared(S_PARTICIPANTS, 0, 1.0, X, 0, T, p, F, record, Z)
            _apply(c, X, 0, T, rows)
            V = C[M_PLACED]
            c = _flow_shared(S_PLACEMENTS, 0, cost_place, V, 0, T, p, F, record, Z)
            _apply(c, V, 0, T, rows)
            if sec_share > 0.0:
                for m in range(T):
                    X[m] = tariff * (C[M_SECONDED, m] * sec_hours)     # fees
                    C[M_PROD, m] += prod_ratio * X[m]
                c = _flow(F_EMPL_SEC_FEES, 0, -1.0, X, 0, T, F, record, Z)
                c = _flow(F_MUNI_SEC_FEES, 0, 1.0, X, 0, T, F, record, c)
                # the part of that work regular workers would have done anyway is no societal gain
                c = _flow(F_DISPLACEMENT, 0, -sec_disp * prod_ratio, X, 0, T, F, record, c)
                _apply(c, X, 0, T, rows)
                V = C[M_SECONDED]
                c = _flow(F_MUNI_TOPUP, 0, -top_up_rate, V, 0, T, F, record, Z)
                c = _flow(F_PART_TOPUP, 0, top_up_rate, V, 0, T, F, record, c)
                _apply(c, V, 0, T, rows)
                for m in range(T):
                    hours = C[M_SECONDED, m] * sec_hours
                    X[m] = (ovh_month if m < n_act else 0.0) + ovh_hour * hours
                c = _flow_shared(S_SEC_OVERHEAD, 0, 1.0, X, 0, T, p, F, record, Z)
                _apply(c, X, 0, T, rows)
                # the secondment result after the benefit of the seconded
                for m in range(T):
                    rows[R_SEC, m] -= C[M_SECONDED, m] * b_month
            if has_jobs:
                # the contracts' flows only in months with people on a contract
                Ja = C[M_TMP2]
                for m in range(T):
                    ja = C[M_JA_T, m]
                    Ja[m] = ja if ja > 0.0 else 0.0
                    X[m] = job_wage_month * ja if ja > 0.0 else 0.0
                c = _flow(F_EMPL_JOB_WAGES, 0, -j_empl, X, 0, T, F, record, Z)
                c = _flow_shared(S_JOB_WAGES, 0, (1.0 - j_empl), X, 0, T, p, F, record, c)
                c = _flow(F_PART_JOB_WAGES, 0, ns, X, 0, T, F, record, c)
                c = _flow(F_RIJK_JOB_WAGES, 0, (1.0 - ns), X, 0, T, F, record, c)
                _apply(c, X, 0, T, rows)
                c = _flow(F_JOB_PRODUCTION, 0, job_prod, Ja, 0, T, F, record, Z)
                c = _flow(F_EMPL_JOB_FEES, 0, -j_fee, Ja, 0, T, F, record, c)
                c = _flow(F_MUNI_JOB_FEES, 0, j_fee, Ja, 0, T, F, record, c)
                _apply(c, Ja, 0, T, rows)
        V = C[M_PROD]
        c = _flow(F_PRODUCTION, arm, 1.0, V, 0, T, F, record, Z)
        _apply(c, V, 0, T, rows)


# ------------------------------------------------------------------ metrics of one scenario
@njit(cache=True, error_model="numpy")
def _metrics(rows, T, df, municipality, prog_months, eval_month, out, j):
    """The headline metrics of scenario ``j`` from its ledger rows (definitions: mkba.metrics)."""
    tol = BREAK_EVEN_TOLERANCE_EUR
    em = int(eval_month)
    ei = T - 1 if em <= 0 else min(max(em - 1, 0), T - 1)
    y1 = min(T, 12) - 1
    prog_T = min(prog_months, float(T))
    s_saved = 0.0; s_extra = 0.0; s_gross = 0.0; s_cost = 0.0; s_net = 0.0
    pv_net = 0.0; pv_cost = 0.0; pv_gross = 0.0
    m_net = 0.0; m_cost = 0.0; m_pv = 0.0; m_pv_cost = 0.0
    s_soc = 0.0; soc_pv_cost = 0.0; soc_pv_net = 0.0
    cost_in_prog = 0.0; gbs = 0.0; allex = 0.0; allex_y1 = 0.0
    cum = 0.0; last_neg_cum = -1.0; last_neg_net = -1.0; cum_sec = 0.0; last_neg_sec = -1.0
    sec_y1 = 0.0; gross_y1 = 0.0; cost_y1 = 0.0; net_y1 = 0.0; take = 0.0
    for m in range(T):
        t = float(m)
        f = df[m]
        mn = rows[R_MN, m]; mc = rows[R_MC, m]; sn = rows[R_SN, m]; sc = rows[R_SC, m]
        net = mn if municipality else sn
        cost = mc if municipality else sc
        gross = net + cost
        s_saved += rows[R_BEQ_C, m] - rows[R_BEQ_T, m]
        s_extra += rows[R_OFF_T, m] - rows[R_OFF_C, m]
        s_gross += gross; s_cost += cost; s_net += net
        pv_net += f * net; pv_cost += f * cost; pv_gross += f * gross
        m_net += mn; m_cost += mc; m_pv += f * mn; m_pv_cost += f * mc
        s_soc += sn; soc_pv_cost += f * sc; soc_pv_net += f * sn
        if t < prog_T:
            cost_in_prog += cost
        gbs += rows[R_GBS, m]; allex += rows[R_ALLEX, m]
        cum += net
        if cum < -tol:
            last_neg_cum = t
        if net < -tol:
            last_neg_net = t
        cum_sec += rows[R_SEC, m]
        if cum_sec < -tol:
            last_neg_sec = t
        take += rows[R_TAKE, m]
        if m < 12:
            allex_y1 += rows[R_ALLEX, m]
            sec_y1 += rows[R_SEC, m]; gross_y1 += gross; cost_y1 += cost; net_y1 += net
    extra = rows[R_OFF_T, ei] - rows[R_OFF_C, ei]
    run_rate = rows[R_RUN_M, ei] if municipality else rows[R_RUN_S, ei]
    cost_per_year = _safe_div(cost_in_prog, prog_T / 12.0)
    be_cum = np.nan if last_neg_cum == T - 1 else last_neg_cum + 2.0
    be_net = np.nan if last_neg_net == T - 1 else last_neg_net + 2.0
    be_sec = np.nan if last_neg_sec == T - 1 else last_neg_sec + 2.0
    per_person = np.nan
    if extra > PEOPLE_TOLERANCE:
        per_person = s_cost / extra
    vals = (extra, s_extra / T, s_saved, rows[R_EV_T, ei] - rows[R_EV_C, ei],
            s_gross, s_cost, s_net, pv_net, _bcr(pv_net + pv_cost, pv_cost), be_cum,
            be_net, per_person, per_person,
            run_rate, cost_per_year, run_rate - cost_per_year,
            gbs, allex, 1.0 - _safe_div(gbs, allex),
            rows[R_OFF_T, ei], rows[R_OFF_C, ei], rows[R_EV_T, ei], rows[R_EV_C, ei],
            m_net, m_pv, _bcr(m_pv + m_pv_cost, m_pv_cost), m_cost,
            soc_pv_net + soc_pv_cost, soc_pv_cost, soc_pv_net, s_soc,
            soc_pv_net, _bcr(soc_pv_net + soc_pv_cost, soc_pv_cost),
            sec_y1, be_sec, gross_y1,
            cost_y1, net_y1, allex_y1,
            allex_y1 - cost_y1, rows[R_OFF_T, y1], rows[R_EV_T, y1],
            rows[R_RET_T, y1], take)
    i = 0
    for v in vals:
        out[i, j] = v
        i += 1


# ------------------------------------------------------------------ scenarios and batches
@njit(cache=True, error_model="numpy")
def _scenario(base, var, vk, j, T, path, df, municipality, out, j0, record, F, PPL, LR, rows, C, p):
    """Scenario ``j``: every group, then its metrics (and in record mode its ledger rows ``LR``).

    Parameters of group ``g``: ``base[g]`` (kernel order), with the columns that vary over the batch,
    ``vk``, taken from ``var[g, j]``. Its metrics go to column ``j0 + j`` of ``out``.
    """
    G = base.shape[0]
    for r in range(N_ROWS):
        for m in range(T):
            rows[r, m] = 0.0
    pcol = j if path.shape[0] > 1 else 0
    for g in range(G):
        for k in range(N_KPARAMS):
            p[k] = base[g, k]
        for v in range(vk.shape[0]):
            p[vk[v]] = var[g, j, v]
        _group(p, T, path, pcol, rows, F, PPL, record, C)
    dcol = j if df.shape[0] > 1 else 0
    prog_months = base[0, K_PROG_MONTHS]; eval_month = base[0, K_EVAL_MONTH]
    for v in range(vk.shape[0]):
        if vk[v] == K_PROG_MONTHS:
            prog_months = var[0, j, v]
        elif vk[v] == K_EVAL_MONTH:
            eval_month = var[0, j, v]
    _metrics(rows, T, df[dcol], municipality, prog_months, eval_month, out, j0 + j)
    if record:
        for r in range(N_ROWS):
            for m in range(T):
                LR[r, m] = rows[r, m]


@njit(cache=True, error_model="numpy")
def run_one(base, var, vk, T, path, df, municipality, out, F, PPL, LR):
    """Record mode for scenario 0: flows, people and ledger rows into the given arrays."""
    rows = np.empty((N_ROWS, T))
    C = np.empty((N_SCRATCH, T + 1))
    p = np.empty(N_KPARAMS)
    _scenario(base, var, vk, 0, T, path, df, municipality, out, 0, True, F, PPL, LR, rows, C, p)


@njit(cache=True, error_model="numpy")
def _block(lo, hi, base, var, vk, T, path, df, municipality, out, j0):
    rows = np.empty((N_ROWS, T))
    C = np.empty((N_SCRATCH, T + 1))
    p = np.empty(N_KPARAMS)
    F = np.empty((0, 2, 0)); PPL = np.empty((0, 2, 0)); LR = np.empty((0, 0))
    for j in range(lo, hi):
        _scenario(base, var, vk, j, T, path, df, municipality, out, j0, False, F, PPL, LR, rows, C, p)


@njit(parallel=True, cache=True)
def _batch(base, var, vk, T, path, df, municipality, out, j0):
    """Metrics mode: blocks of _BLOCK scenarios spread over the cores; scenario j's metrics go to
    column j0 + j of ``out`` (a chunk writes straight into the whole batch's result)."""
    n = var.shape[1]
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    for b in prange(n_blocks):
        lo = b * _BLOCK
        _block(lo, min(lo + _BLOCK, n), base, var, vk, T, path, df, municipality, out, j0)


@njit(cache=True)
def _serial(base, var, vk, T, path, df, municipality, out, j0):
    """Metrics mode on the calling thread (small batches: no thread start-up)."""
    _block(0, var.shape[1], base, var, vk, T, path, df, municipality, out, j0)


# ------------------------------------------------------------------ Python side
PARAM_NAMES: tuple[str, ...] = tuple(SCHEMA)
_NO_PATH = np.empty((1, 0))   # cycle paths and discount factors: (1 or n, T), a scenario's months contiguous
SERIAL_MAX = 2 * _BLOCK    # batches up to this size run on the calling thread


class Params(NamedTuple):
    """A batch's parameters for the kernel: ``base`` (groups, N_KPARAMS) in kernel order; the columns
    that vary over the batch, kernel indices ``vk``, in ``var`` (groups, n, len(vk)), so a scenario's
    values are contiguous and a parameter that does not vary is stored once."""
    base: np.ndarray
    var: np.ndarray
    vk: np.ndarray
    n: int


def param_tensor(groups: list[dict[str, np.ndarray]], n: int) -> Params:
    """The kernel's parameters from one dict per group (name -> array of shape (1,) or (n,))."""
    G = len(groups)
    cols = [[np.asarray(P[name], dtype=float).reshape(-1) for P in groups] for name in _KERNEL_PARAMS]
    vk = [k for k, arrs in enumerate(cols) if any(a.shape[0] != 1 for a in arrs)]
    base = np.empty((G, N_KPARAMS))
    for k, arrs in enumerate(cols):
        for g, a in enumerate(arrs):
            base[g, k] = a[0]
    var = np.empty((G, n, len(vk)))
    for v, k in enumerate(vk):
        for g, a in enumerate(cols[k]):
            var[g, :, v] = a
    return Params(base, var, np.array(vk, dtype=np.int64), n)


def path_2d(cycle_path, months: int, n: int) -> np.ndarray:
    """A cycle path (T,) or (T, n) as the kernel reads it: (1 or n, T)."""
    if cycle_path is None:
        return _NO_PATH
    path = np.asarray(cycle_path, dtype=float)
    if path.ndim == 1:
        path = path[:, None]
    if path.shape[0] != months or path.shape[1] not in (1, n):
        raise ValueError(f"cycle path of shape {np.shape(cycle_path)} does not fit {months} months x {n} scenarios")
    return np.ascontiguousarray(path.T)


def launch(Pm: Params, T: int, path: np.ndarray, df: np.ndarray, municipality: bool,
           threads: int | None = None, out: np.ndarray | None = None, offset: int = 0) -> np.ndarray:
    """Metrics mode for every scenario of ``Pm``: array (N_METRICS, n). ``path`` from :func:`path_2d`,
    discount factors ``df`` of shape (1 or n, T). With ``out`` (C-contiguous, N_METRICS rows) the
    metrics go to its columns ``offset .. offset + n`` (a chunk of a larger batch) and ``out`` is returned."""
    n = Pm.n
    if out is None:
        out = np.empty((N_METRICS, n))
        offset = 0
    if out.shape[0] != N_METRICS or not out.flags.c_contiguous or offset < 0 or offset + n > out.shape[1]:
        raise ValueError(f"out of shape {out.shape} cannot hold {n} scenarios from column {offset}")
    j0 = np.int64(offset)
    if n <= SERIAL_MAX or threads == 1:
        _serial(Pm.base, Pm.var, Pm.vk, np.int64(T), path, df, bool(municipality), out, j0)
        return out
    with _LOCK:
        before = numba.get_num_threads()
        if threads is not None:
            numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
        chunksize = numba.set_parallel_chunksize(1)
        try:
            _batch(Pm.base, Pm.var, Pm.vk, np.int64(T), path, df, bool(municipality), out, j0)
        finally:
            numba.set_parallel_chunksize(chunksize)
            if threads is not None:
                numba.set_num_threads(before)
    return out


def record(Pm: Params, T: int, path: np.ndarray, df: np.ndarray, municipality: bool):
    """Record mode for scenario 0: (metrics (N_METRICS,), flows (N_FLOWS, 2, T), people (N_PEOPLE, 2, T),
    ledger rows (N_ROWS, T))."""
    out = np.empty((N_METRICS, 1))
    F = np.zeros((N_FLOWS, 2, T)); PPL = np.zeros((N_PEOPLE, 2, T)); LR = np.zeros((N_ROWS, T))
    run_one(Pm.base, np.ascontiguousarray(Pm.var[:, :1, :]), Pm.vk, np.int64(T), path, df, bool(municipality),
            out, F, PPL, LR)
    return out[:, 0], F, PPL, LR


def preload() -> None:
    """Load the compiled kernel (numba's on-disk cache, compiling only if there is none) into this
    process without starting worker threads: report kernels' fork server and dask workers call it so
    their first sweep or run does not pay for loading. Safe to call more than once."""
    T = 12
    base = np.zeros((1, N_KPARAMS)); var = np.empty((1, 1, 0)); vk = np.empty(0, dtype=np.int64)
    df = np.ones((1, T)); out = np.empty((N_METRICS, 1))
    _serial(base, var, vk, np.int64(T), _NO_PATH, df, True, out, np.int64(0))
    for sig in _serial.signatures:
        if sig not in _batch.signatures:
            _batch.compile(sig)        # the parallel entry point, same argument types; not run here
    record(Params(base, var, vk, 1), T, _NO_PATH, df, True)

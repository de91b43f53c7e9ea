"""A plain numpy implementation of the mechanisms mkba's kernel runs for the benchmark case, with all
its headline metrics, for the benchmarks only.

``benchmarks/numpy_peer.py`` is the 50-line outline issue 14 describes: a closed cohort's municipal
NPV (2 states, 1 money flow, 1 metric). mkba's kernel does more for every scenario: this peer does
the same work as mkba does for ``app_zaanstad`` (variant ``entry_at_month0``) and returns the same
44 metrics (``mkba.fastkernel.METRIC_NAMES``), so the ratio ``benchmarks/bench_kernel.py`` prints
against it compares like with like:

* people: treatment and control with full benefit, work and other exits, returns from work; the
  effect by age (lock-in, ramp-up, decay, the effect window), its cycle factor; competing monthly
  hazards; participation (people taking part, placements, the cohort's mature age does not matter
  for a single cohort);
* money, treatment minus control: what each flow of the kernel's catalogue that the case can carry
  adds to the municipal and the societal row (benefit net of the BUIG budget, execution, care and
  wellbeing, production, and the programme's costs: staff with clients per FTE, other and set-up
  costs, per participant and per month, placements, each split over the payers by ``sharing.*``);
  transfers between actors (the benefit, the wage) cancel in the societal row, and the peer nets
  them there as mkba's rows do, instead of booking them actor by actor as mkba's kernel does;
* the metrics from the monthly rows, vectorised over scenarios, Excel-style discounting.

Written as a competent numpy user would: vectorised over scenarios, one loop over the months for
the people (the state carries), the money and metrics as whole-array operations, in chunks of
scenarios so that memory stays bounded. Mechanisms the case does not use (entry over time, part-time
work, programme contracts, secondment, the stock effect, an effect on other exits) are refused, not
approximated; sub-groups and a cycle path are not among its inputs. The constants that define the
model (the cap on annual probabilities, the tolerances of break-even and cost per person) are mkba's.
Not used by mkba.
"""
from __future__ import annotations

import numpy as np

from mkba.fastkernel import BREAK_EVEN_TOLERANCE_EUR as TOL_EUR
from mkba.fastkernel import MAX_ANNUAL_PROBABILITY as MAX_P
from mkba.fastkernel import PEOPLE_TOLERANCE as TOL_PEOPLE

# scenarios per chunk: the fastest of 500, 1.000, 2.000, 4.000 (1,62-1,73 s, 2,0-2,1 s; 100.000 draws,
# 2026-12-04 00:57 UTC) and of 5.000 to 100.000 (1,74-3,46 s); memory stays a few (120, 1.000) arrays
CHUNK = 1_000
ITEMS = ("programme_staff", "programme_participants", "programme_placements", "programme_other")
UNSUPPORTED = {"cohort.inflow_per_month": "entry over time", "baseline.part_time_share": "part-time work",
               "jobs.share": "programme contracts", "secondment.share": "secondment",
               "effect.stock_share": "the stock effect", "effect.other_exit_added": "an effect on other exits"}


def _h(p):
    p = np.minimum(p, MAX_P)
    return np.where(p > 0.0, -np.expm1(np.log1p(-np.maximum(p, 0.0)) / 12.0), 0.0)


def _split(h1, h2):
    tot = h1 + h2
    r = np.divide(1.0 - (1.0 - h1) * (1.0 - h2), tot, out=np.zeros_like(tot), where=tot > 0.0)
    return h1 * r, h2 * r


def _up(s, c):
    return np.maximum(1.0 + s * (c - 1.0), 0.0)


def _down(s, c):
    return np.maximum(1.0 - s * (c - 1.0), 0.0)


def _weight(a, lock, ramp, start, half, end):
    w = np.where(ramp > 0.0, np.clip((a - lock + 1.0) / np.maximum(ramp, 1.0), 0.0, 1.0), 1.0)
    w = np.where((a >= start) & ~np.isinf(half), w * 2.0 ** (-(a - start) / half), w)
    return np.where((a < lock) | (a >= end), 0.0, w)


def _bcr(b, c):
    num = np.maximum(b, 0.0) + np.maximum(-c, 0.0)
    den = np.maximum(c, 0.0) + np.maximum(-b, 0.0)
    return np.divide(num, den, out=np.full_like(num, np.nan), where=den > 0.0)


def _div(a, b):
    return np.divide(a, b, out=np.full_like(np.asarray(a, dtype=float), np.nan), where=b > 0.0)


def _last_below(x, tol):
    """1-based month after the last month with ``x < -tol`` (NaN if that is the last month)."""
    below = x < -tol
    T = x.shape[0]
    last = np.where(below.any(0), T - 1 - np.argmax(below[::-1], axis=0), -1).astype(float)
    return np.where(last == T - 1, np.nan, last + 2.0)


def metrics(v: dict, overrides: dict[str, np.ndarray], months: int, *, municipality: bool = True,
            chunk: int = CHUNK) -> dict[str, np.ndarray]:
    """All headline metrics per scenario; ``v``: the case's values, ``overrides``: arrays (n,)."""
    for key, what in UNSUPPORTED.items():
        if np.any(np.asarray(overrides.get(key, v.get(key, 0.0))) != 0.0):
            raise ValueError(f"the peer does not model {what} ({key})")
    n = max((np.size(a) for a in overrides.values()), default=1)
    out: dict[str, np.ndarray] = {}
    for lo in range(0, n, chunk):
        hi = min(lo + chunk, n)
        part = _chunk({**v, **{k: (np.asarray(a, float)[lo:hi] if np.size(a) > 1 else np.asarray(a, float))
                               for k, a in overrides.items()}}, hi - lo, months, municipality)
        for k, a in part.items():
            out.setdefault(k, np.empty(n))[lo:hi] = a
    return out


def _chunk(v, n, T, municipality):
    g = {k: np.broadcast_to(np.asarray(x, dtype=float), (n,)) for k, x in v.items()
         if isinstance(x, (int, float, np.ndarray)) and np.ndim(x) <= 1}
    cyc = g["cycle.multiplier"]
    b_month = g["benefit.cost_per_year"] * g["benefit.household_factor"] / 12.0
    retention = g["benefit.retention_share"]
    ns = g["work.net_wage_share"]
    wage_month = g["work.wage_cost_per_year"] * g["work.hours_fraction"] / 12.0
    lock, lock_f, ramp = g["effect.lock_in_months"], g["effect.lock_in_factor"], g["effect.ramp_months"]
    part_m = g["participation.months"]
    window = part_m + g["effect.persistence_months"]
    base_cyc = g["baseline.work_exit_rate"] * cyc
    e_cyc = _up(g["effect.cycle_sensitivity"], cyc)
    h_other = _h(g["baseline.other_exit_rate"])
    hr = _h(g["baseline.return_rate"] * _down(g["baseline.return_cycle_sensitivity"], cyc))
    scw, sco = _split(_h(base_cyc), h_other)
    stops = g["participation.stops_at_exit"]
    initial = g["cohort.initial_participants"]

    # --- people: only the states carry from month to month; the rest is whole-array work afterwards
    # the hazards depend on the cohort's age, not on its state: computed for every month at once
    age = np.arange(T, dtype=float)[:, None]
    w = _weight(age, lock, ramp, g["effect.decay_start_month"], g["effect.decay_half_life_months"], window)
    lf = np.where(age < lock, lock_f, 1.0)
    FW, FO = _split(_h(base_cyc * lf * (1.0 + (g["effect.work_exit_ratio"] - 1.0) * w)
                       + g["effect.work_exit_added"] * w * e_cyc), h_other)
    B, W, cB, cW = (np.empty((T + 1, n)) for _ in range(4))       # start of each month, and the end
    EW, EO, RW, cEW, cEO, cRW = (np.empty((T, n)) for _ in range(6))
    B[0] = initial; W[0] = 0.0; cB[0] = initial; cW[0] = 0.0
    for m in range(T):
        ew = np.multiply(B[m], FW[m], out=EW[m]); eo = np.multiply(B[m], FO[m], out=EO[m])
        rw = np.multiply(W[m], hr, out=RW[m])
        B[m + 1] = B[m] - ew - eo + rw; W[m + 1] = W[m] + ew - rw
        ew = np.multiply(cB[m], scw, out=cEW[m]); eo = np.multiply(cB[m], sco, out=cEO[m])
        rw = np.multiply(cW[m], hr, out=cRW[m])
        cB[m + 1] = cB[m] - ew - eo + rw; cW[m + 1] = cW[m] + ew - rw
    Ba_t = 0.5 * (B[:-1] + B[1:]); Wa_t = 0.5 * (W[:-1] + W[1:])
    Ba_c = 0.5 * (cB[:-1] + cB[1:]); Wa_c = 0.5 * (cW[:-1] + cW[1:])
    EV_T = np.cumsum(EW + EO, axis=0); EV_C = np.cumsum(cEW + cEO, axis=0); RET_T = np.cumsum(RW, axis=0)
    off_t = initial - B[1:]                     # left and not back: all who are not on benefit
    off_c = cW[1:] + np.cumsum(cEO, axis=0)
    taking = age < part_m
    PLACED = np.where(taking, EW, 0.0)
    TAKE = np.where(taking, 0.5 * (B[:-1] + B[1:] + (1.0 - stops) * (W[:-1] + W[1:])), 0.0)

    # --- money per month, treatment minus control: what each flow adds to the municipal and the
    # societal row (transfers between actors, the benefit and the wage, cancel in the societal row)
    ben = b_month * (Ba_t - Ba_c)                                   # benefit paid
    dWa = Wa_t - Wa_c
    execution = g["effects.execution_saving_per_ended_year"] / 12.0 * (Ba_t - Ba_c)
    t = age
    active = t < g["programme.months"]
    cpf = g["programme.clients_per_fte"]
    fte = g["programme.staff_fte"] + np.divide(TAKE, cpf, out=np.zeros((T, n)), where=cpf > 0.0)
    costs = {"programme_staff": np.where(active, g["programme.cost_per_fte_year"] / 12.0 * fte, 0.0),
             "programme_other": np.where(active, g["programme.other_cost_per_month"], 0.0)
             + np.where(t == 0.0, g["programme.setup_cost"], 0.0),
             "programme_participants": g["programme.cost_per_participant_month"] * TAKE,
             "programme_placements": g["programme.cost_per_placement"] * PLACED}
    costs["programme_participants"][0] += g["programme.cost_per_participant"] * initial   # entrants
    mc = sum(g[f"sharing.{i}.municipality"] * costs[i] for i in ITEMS)
    sc = sum(sum(a for k, a in g.items() if k.startswith(f"sharing.{i}.")) * costs[i] for i in ITEMS)
    mn = -retention * ben - execution - mc                           # benefit net of the BUIG budget
    sn = ((g["effects.care_saving_per_worker_year"] + g["effects.wellbeing_per_worker_year"]) / 12.0 * dWa
          + g["work.production_ratio"] * wage_month * dWa - execution - sc)
    beq_t, beq_c = Ba_t, Ba_c

    # --- metrics
    df = (1.0 + g["discount.rate"]) ** -(np.floor(t / 12.0) + 1.0)
    net, cost = (mn, mc) if municipality else (sn, sc)
    ei = T - 1 if g["evaluation.month"][0] <= 0 else min(max(int(g["evaluation.month"][0]) - 1, 0), T - 1)
    y1 = min(T, 12)
    gbs = (beq_c - beq_t) * b_month
    allex = (initial - beq_t) * b_month
    extra = off_t[ei] - off_c[ei]
    prog_T = np.minimum(g["programme.months"], float(T))
    s_cost = cost.sum(0)
    pv_net, pv_cost = (df * net).sum(0), (df * cost).sum(0)
    m_pv, m_pv_cost = (df * mn).sum(0), (df * mc).sum(0)
    s_pv, s_pv_cost = (df * sn).sum(0), (df * sc).sum(0)
    run_rate = (off_t[ei] - off_c[ei]) * b_month * 12.0 * (retention if municipality else 1.0)
    cost_per_year = _div(np.where(active, cost, 0.0).sum(0), prog_T / 12.0)
    per_person = np.where(extra > TOL_PEOPLE, s_cost / np.where(extra > TOL_PEOPLE, extra, 1.0), np.nan)
    zeros = np.zeros(n)
    return {
        "extra_ended_benefits": extra, "extra_people_off_benefit_avg": (off_t - off_c).sum(0) / T,
        "benefit_months_saved": (beq_c - beq_t).sum(0), "extra_exit_events": EV_T[ei] - EV_C[ei],
        "gross_saving_eur": (net + cost).sum(0), "programme_cost_eur": s_cost, "net_result_eur": net.sum(0),
        "npv_eur": pv_net, "bcr": _bcr(pv_net + pv_cost, pv_cost),
        "break_even_month": _last_below(np.cumsum(net, 0), TOL_EUR),
        "monthly_break_even_month": _last_below(net, TOL_EUR),
        "cost_per_extra_ended_benefit_eur": per_person, "cost_per_extra_person_off_benefit_eur": per_person,
        "annual_saving_run_rate_eur": run_rate, "programme_cost_per_year_eur": cost_per_year,
        "annual_net_run_rate_eur": run_rate - cost_per_year,
        "gross_benefit_saving_eur": gbs.sum(0), "saving_counting_all_exits_eur": allex.sum(0),
        "deadweight_share": 1.0 - _div(gbs.sum(0), allex.sum(0)),
        "ended_benefits_treatment": off_t[ei], "ended_benefits_control": off_c[ei],
        "exit_events_treatment": EV_T[ei], "exit_events_control": EV_C[ei],
        "municipal_net_result_eur": mn.sum(0), "municipal_npv_eur": m_pv,
        "municipal_bcr": _bcr(m_pv + m_pv_cost, m_pv_cost), "municipal_programme_cost_eur": mc.sum(0),
        "societal_benefits_eur": s_pv + s_pv_cost, "societal_costs_eur": s_pv_cost, "societal_net_eur": s_pv,
        "societal_net_result_eur": sn.sum(0), "societal_npv_eur": s_pv, "societal_bcr": _bcr(s_pv + s_pv_cost, s_pv_cost),
        "secondment_surplus_after_benefit_year1_eur": zeros, "secondment_break_even_month": zeros + 1.0,
        "gross_saving_year1_eur": (net + cost)[:y1].sum(0), "programme_cost_year1_eur": cost[:y1].sum(0),
        "net_result_year1_eur": net[:y1].sum(0), "saving_counting_all_exits_year1_eur": allex[:y1].sum(0),
        "net_counting_all_exits_year1_eur": allex[:y1].sum(0) - cost[:y1].sum(0),
        "ended_benefits_treatment_year1": off_t[y1 - 1], "exit_events_treatment_year1": EV_T[y1 - 1],
        "returns_treatment_year1": RET_T[y1 - 1], "participation_months_charged": TAKE.sum(0),
    }

"""A plain numpy implementation of the mechanisms mkba's kernel runs for the benchmark case, with all
its headline metrics, for the benchmarks only.

``benchmarks/numpy_peer.py`` is the 50-line outline issue 14 describes: a closed cohort's municipal
NPV (2 states, 1 money flow, 1 metric). This peer returns what mkba returns for ``app_zaanstad``
(variant ``entry_at_month0``): the same 44 metrics (``mkba.fastkernel.METRIC_NAMES``), both
perspectives, from the same mechanisms:

* people: treatment and control with full benefit, work and other exits, returns from work; the
  effect by age (lock-in, ramp-up, decay, the effect window) and its cycle factor; competing
  monthly hazards; participation (people taking part, placements);
* money, treatment minus control: what each flow the case can carry adds to the municipal and the
  societal row (benefit net of the BUIG budget, execution, care and wellbeing, production, the
  programme's costs: staff with clients per FTE, other and set-up costs, per participant and per
  month, placements, each split over the payers by ``sharing.*``); transfers between actors (the
  benefit, the wage) cancel in the societal row and are netted there, not booked actor by actor as
  mkba's kernel does;
* the metrics, Excel-style discounting.

Written as a numpy user who knows the model would write it for speed (a review of a first, plainer
version, 2026-12-04, found that one 5-6x slower than this one, and mkba's kernel about as fast as
this one on a sweep of one parameter):

* parameters that do not vary stay scalars (numpy broadcasting), so terms that depend on the month
  only are (T, 1), and a control arm none of whose parameters vary is simulated once per call;
* the hazards are computed once per distinct (effect weight, lock-in factor) row of months, as
  mkba's kernel caches the hazard of a repeated ``p_work``;
* the people loop does 6 ufunc calls per month and arm; exits and returns follow afterwards;
* every sum over months (plain, discounted, year 1, programme months, participation months) is a
  weighted reduction by one matrix product per state array, and the money rows' sums follow from
  them linearly; only the perspective's net row is built month by month (for the break-even months);
* terms whose coefficient is exactly zero are skipped (as mkba's kernel skips zero shares);
* chunks of scenarios keep memory bounded.

So the more parameters a sweep varies, the more of this work is done per scenario (a probabilistic
sweep varies many; ``benchmarks/bench_kernel.py`` times both kinds). Mechanisms the case does not use
(entry over time, part-time work, programme contracts, secondment, the stock effect, an effect on
other exits) and an evaluation month that varies are refused, not approximated; sub-groups and a
cycle path are not among its inputs. The constants that define the model (the cap on annual
probabilities, the tolerances of break-even and cost per person) are mkba's. Not used by mkba.
"""
from __future__ import annotations

import numpy as np

from mkba.fastkernel import BREAK_EVEN_TOLERANCE_EUR as TOL_EUR
from mkba.fastkernel import MAX_ANNUAL_PROBABILITY as MAX_P
from mkba.fastkernel import PEOPLE_TOLERANCE as TOL_PEOPLE

# scenarios per chunk: the fastest of 1.000 to 16.000 (100.000 draws of the one-parameter sweep,
# 2026-12-04 01:07 UTC: 1.000 gave 0,277 s, 8.000 0,245 s, 16.000 0,304 s)
CHUNK = 8_000
ITEMS = ("programme_staff", "programme_participants", "programme_placements", "programme_other")
UNSUPPORTED = {"cohort.inflow_per_month": "entry over time", "baseline.part_time_share": "part-time work",
               "jobs.share": "programme contracts", "secondment.share": "secondment",
               "effect.stock_share": "the stock effect", "effect.other_exit_added": "an effect on other exits"}


def _h(p):
    p = np.minimum(p, MAX_P)
    return np.where(p > 0.0, -np.expm1(np.log1p(-np.maximum(p, 0.0)) / 12.0), 0.0)


def _split(h1, h2):
    tot = h1 + h2
    tot_a = np.asarray(tot, float)
    r = np.divide(1.0 - (1.0 - h1) * (1.0 - h2), tot_a, out=np.zeros_like(tot_a), where=tot_a > 0.0)
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
    a = np.asarray(a, float); b = np.broadcast_to(np.asarray(b, float), a.shape)
    return np.divide(a, b, out=np.full_like(a, np.nan), where=b > 0.0)


def _last_below(x, tol, age_f):
    """1-based month after the last month with ``x < -tol`` (NaN if that is the last month)."""
    T = x.shape[0]
    last = np.where(x < -tol, age_f, -1.0).max(0)
    return np.where(last == T - 1, np.nan, last + 2.0)


def _people(initial, FWu, FOu, idx, hr, T):
    """B, W at the start of each month and the end (T+1, k), exits to work EW (T, k); the update
    B - ew - eo + rw in mkba's order of operations (so the rounding is the kernel's)."""
    k = np.broadcast_shapes(np.shape(initial), FWu.shape[1:], np.shape(hr))
    B = np.empty((T + 1,) + k); W = np.empty((T + 1,) + k); EW = np.empty((T,) + k)
    eo = np.empty(k); rw = np.empty(k)
    B[0] = initial; W[0] = 0.0
    for m in range(T):
        i = idx[m]
        ew = np.multiply(B[m], FWu[i], out=EW[m])
        np.multiply(B[m], FOu[i], out=eo)
        np.multiply(W[m], hr, out=rw)
        b = np.subtract(B[m], ew, out=B[m + 1]); b -= eo; b += rw
        w = np.add(W[m], ew, out=W[m + 1]); w -= rw
    return B, W, EW


def _unique_rows(*cols):
    """Rows of the stacked (T, k) arrays cols with consecutive repeats dropped (a month whose
    hazard inputs equal the previous month's reuses its hazards, as mkba's kernel does), and for
    each month the index of its row."""
    T = cols[0].shape[0]
    key = np.concatenate([np.broadcast_to(c, (T, c.shape[1])) for c in cols], axis=1)
    new = np.ones(T, dtype=bool)
    new[1:] = np.any(key[1:] != key[:-1], axis=1)
    return key[new], np.cumsum(new) - 1


def metrics(v: dict, overrides: dict[str, np.ndarray], months: int, *, municipality: bool = True,
            chunk: int = CHUNK) -> dict[str, np.ndarray]:
    """All headline metrics per scenario; ``v``: the case's values, ``overrides``: arrays (n,)."""
    for key, what in UNSUPPORTED.items():
        if np.any(np.asarray(overrides.get(key, v.get(key, 0.0))) != 0.0):
            raise ValueError(f"the peer does not model {what} ({key})")
    if np.size(np.unique(overrides.get("evaluation.month", 0.0))) > 1:
        raise ValueError("the peer reads one evaluation month for all scenarios (evaluation.month varies)")
    n = max((np.size(a) for a in overrides.values()), default=1)
    out: dict[str, np.ndarray] = {}
    control: dict = {}            # the control arm, once per call if none of its parameters varies
    base = {k: float(x) for k, x in v.items() if isinstance(x, (int, float))}
    for lo in range(0, n, chunk):
        hi = min(lo + chunk, n)
        g = dict(base)
        for k, a in overrides.items():
            a = np.asarray(a, float)
            g[k] = a[lo:hi] if a.size > 1 else float(a.reshape(-1)[0])
        part = _chunk(g, hi - lo, months, municipality, control)
        for k, a in part.items():
            out.setdefault(k, np.empty(n))[lo:hi] = a
    return out


def _chunk(g, n, T, municipality, control):
    cyc = g["cycle.multiplier"]
    b_month = g["benefit.cost_per_year"] * g["benefit.household_factor"] / 12.0
    retention = g["benefit.retention_share"]
    wage_month = g["work.wage_cost_per_year"] * g["work.hours_fraction"] / 12.0
    lock, lock_f, ramp = g["effect.lock_in_months"], g["effect.lock_in_factor"], g["effect.ramp_months"]
    part_m = g["participation.months"]
    window = part_m + g["effect.persistence_months"]
    base_cyc = g["baseline.work_exit_rate"] * cyc
    e_cyc = _up(g["effect.cycle_sensitivity"], cyc)
    h_other = _h(g["baseline.other_exit_rate"])
    hr = _h(g["baseline.return_rate"] * _down(g["baseline.return_cycle_sensitivity"], cyc))
    stops = g["participation.stops_at_exit"]
    initial = g["cohort.initial_participants"]
    age_f = np.arange(T, dtype=float)
    age = age_f[:, None]

    # --- people, treatment: hazards once per distinct (weight, lock-in factor) row
    w = np.atleast_2d(_weight(age, lock, ramp, g["effect.decay_start_month"], g["effect.decay_half_life_months"],
                              window))
    w = np.broadcast_to(w, (T, w.shape[1]))
    lf = np.where(age < lock, lock_f, 1.0)
    lf = np.atleast_2d(lf)
    u, idx = _unique_rows(w, lf)
    kw = w.shape[1]
    wu, lfu = u[:, :kw], u[:, kw:]
    FWu, FOu = _split(_h(base_cyc * lfu * (1.0 + (g["effect.work_exit_ratio"] - 1.0) * wu)
                         + g["effect.work_exit_added"] * wu * e_cyc), h_other)
    FWu, FOu = np.broadcast_arrays(np.atleast_2d(FWu), np.atleast_2d(FOu))
    B, W, EW = _people(initial, FWu, FOu, idx, hr, T)
    # --- control: no age dependence; computed once if none of its parameters varies
    scw, sco = _split(_h(base_cyc), h_other)
    ckey = tuple(np.asarray(a).tobytes() for a in (initial, scw, sco, hr)) + (T,)
    if ckey in control:
        cB, cW, cO, cEV = control[ckey]
    else:
        cFW, cFO = np.broadcast_arrays(np.reshape(scw, (1, -1)), np.reshape(sco, (1, -1)))
        cB, cW, cEW = _people(initial, cFW, cFO, np.zeros(T, dtype=np.intp), hr, T)
        cEO = cB[:-1] * cFO[0]
        cO = np.cumsum(cEO, 0); cEV = np.cumsum(cEW + cEO, 0)     # as the kernel accumulates them
        if all(np.ndim(a) == 0 for a in (initial, scw, sco, hr)):
            control[ckey] = (cB, cW, cO, cEV)

    # --- weights over months for every sum the metrics take
    ei = T - 1 if np.ravel(g["evaluation.month"])[0] <= 0 else min(max(int(np.ravel(g["evaluation.month"])[0]) - 1, 0), T - 1)
    y1 = min(T, 12)
    prog_T = np.minimum(g["programme.months"], float(T))
    df = (1.0 + np.asarray(g["discount.rate"])) ** -(np.floor(age / 12.0) + 1.0)     # (T, 1|n)
    active = age < g["programme.months"]
    taking = age < part_m
    in_prog = age < prog_T
    wts = {"all": np.ones((T, 1)), "df": df, "y1": (age < y1) * 1.0, "prog": in_prog * 1.0, "take": taking * 1.0}
    fixed = [k for k, a in wts.items() if a.shape[1] == 1]
    Wfix = np.concatenate([wts[k] for k in fixed], axis=1).T                           # (k, T)
    # sums over month pairs (start + end of month, i.e. 2x the month's average) from the states
    Wpair = np.zeros((len(fixed), T + 1)); Wpair[:, :-1] += Wfix; Wpair[:, 1:] += Wfix

    def pair_sums(X):
        """{weight: sum over months of weight * (X[m] + X[m+1])}, X (T+1, k)."""
        r = Wpair @ X
        s = {k: r[i] for i, k in enumerate(fixed)}
        if len(fixed) < len(wts):
            X2 = X[:-1] + X[1:]
            for k in wts:
                if k not in s:
                    s[k] = (wts[k] * X2).sum(0)
        return s

    def sums(X):
        """{weight: sum over months of weight * X[m]}, X (T, 1|k)."""
        X = np.asarray(X, float)
        X = np.broadcast_to(X, (T,) + X.shape[1:]) if X.ndim == 2 else np.broadcast_to(X, (T, 1))
        r = Wfix @ X
        s = {k: r[i] for i, k in enumerate(fixed)}
        for k in wts:
            if k not in s:
                s[k] = (wts[k] * X).sum(0)
        return s

    SB, SW = pair_sums(B), pair_sums(W)
    dBa = B[:-1] + B[1:]; dBa -= cB[:-1] + cB[1:]              # 2 (Ba_t - Ba_c), per month
    dWa = W[:-1] + W[1:]; dWa -= cW[:-1] + cW[1:]              # 2 (Wa_t - Wa_c)
    dB = {k: 0.5 * a for k, a in sums(dBa).items()}            # sums of Ba_t - Ba_c
    dW = {k: 0.5 * a for k, a in sums(dWa).items()}

    # --- programme costs per month, each with the parts that move with the people
    # TAKE = taking * (Ba_t + (1 - stops) Wa_t); PLACED = taking * EW
    cpf = g["programme.clients_per_fte"]
    inv_cpf = np.divide(1.0, cpf, out=np.zeros_like(np.asarray(cpf, float)), where=np.asarray(cpf) > 0.0)
    cost_fte_m = g["programme.cost_per_fte_year"] / 12.0
    first = (age == 0.0)
    item_fixed = {"programme_staff": active * (cost_fte_m * g["programme.staff_fte"]),
                  "programme_other": active * g["programme.other_cost_per_month"] + first * g["programme.setup_cost"],
                  "programme_participants": first * (g["programme.cost_per_participant"] * initial),
                  "programme_placements": 0.0}
    item_take = {"programme_staff": active * (cost_fte_m * inv_cpf), "programme_other": 0.0,
                 "programme_participants": g["programme.cost_per_participant_month"] * np.ones((T, 1)),
                 "programme_placements": 0.0}
    item_place = {"programme_placements": g["programme.cost_per_placement"]}
    payers = {}
    for k in g:
        if k.startswith("sharing."):
            payers.setdefault(k.split(".")[1], []).append(g[k])

    def cost_row(share_of):
        """(fixed part (T, 1|n), coefficient on TAKE (T, 1|n), coefficient on EW)."""
        f0 = 0.0; fT = 0.0; fE = 0.0
        for i in ITEMS:
            s = share_of(i)
            if np.all(np.asarray(s) == 0.0):
                continue
            f0 = f0 + s * item_fixed[i]
            fT = fT + s * item_take[i]
            if i in item_place:
                fE = fE + s * item_place[i]
        return f0, fT, fE

    mc_parts = cost_row(lambda i: g[f"sharing.{i}.municipality"])
    sc_parts = cost_row(lambda i: sum(payers[i]))
    need_take = any(np.any(np.asarray(p[1]) != 0.0) for p in (mc_parts, sc_parts))
    if need_take:
        TAKE = taking * (0.5 * ((B[:-1] + B[1:]) + (1.0 - stops) * (W[:-1] + W[1:])))

    def cost_monthly(parts):
        f0, fT, fE = parts
        row = np.broadcast_to(np.asarray(f0, float), (T, 1)) if np.ndim(f0) < 2 else f0
        if np.any(np.asarray(fT) != 0.0):
            row = row + fT * TAKE
        if np.any(np.asarray(fE) != 0.0):
            row = row + fE * taking * EW
        return row

    mc = cost_monthly(mc_parts); sc = cost_monthly(sc_parts)
    Smc, Ssc = sums(mc), sums(sc)
    execution = g["effects.execution_saving_per_ended_year"] / 12.0
    a_m = -(retention * b_month + execution)                  # municipal net per Ba_t - Ba_c
    a_sW = (g["effects.care_saving_per_worker_year"] + g["effects.wellbeing_per_worker_year"]) / 12.0 \
        + g["work.production_ratio"] * wage_month              # societal net per Wa_t - Wa_c
    Smn = {k: a_m * dB[k] - Smc[k] for k in dB}
    Ssn = {k: a_sW * dW[k] - execution * dB[k] - Ssc[k] for k in dB}

    # --- the perspective's net per month (break-even months)
    if municipality:
        net = dBa * (0.5 * a_m); net -= mc
    else:
        net = dWa * (0.5 * a_sW)
        if np.any(np.asarray(execution) != 0.0):
            net -= dBa * (0.5 * execution)
        net -= sc
    Snet, Scost = (Smn, Smc) if municipality else (Ssn, Ssc)

    # --- people at the evaluation month and year 1 (off benefit = not on full benefit)
    Sret_ei = np.asarray(hr) * W[:ei + 1].sum(0)               # returns up to ei (hr constant over months)
    Sret_y1 = np.asarray(hr) * W[:y1].sum(0)
    off_t = lambda m: initial - B[m + 1]                        # noqa: E731
    off_c = lambda m: cW[m + 1] + cO[m]                          # noqa: E731
    ev_t = lambda m, r: initial - B[m + 1] + r                  # noqa: E731  exits = left B + came back
    ev_c = cEV[ei]
    extra = off_t(ei) - off_c(ei)
    bm = np.asarray(b_month)
    gbs = -bm * dB["all"]
    allex = bm * (initial * T - 0.5 * SB["all"])
    allex_y1 = bm * (initial * y1 - 0.5 * SB["y1"])
    run_rate = extra * bm * 12.0 * (retention if municipality else 1.0)
    cost_per_year = _div(Scost["prog"], prog_T / 12.0)
    s_cost = Scost["all"]
    per_person = np.where(extra > TOL_PEOPLE, s_cost / np.where(extra > TOL_PEOPLE, extra, 1.0), np.nan)
    take_sum = 0.5 * (SB["take"] + (1.0 - stops) * SW["take"])
    ev_ei = ev_t(ei, Sret_ei)
    pv_net, pv_cost = Snet["df"], Scost["df"]
    res = {
        "extra_ended_benefits": extra,
        "extra_people_off_benefit_avg": (np.sum(cB[1:], 0) - np.sum(B[1:], 0)) / T,
        "benefit_months_saved": -dB["all"], "extra_exit_events": ev_ei - ev_c,
        "gross_saving_eur": Snet["all"] + s_cost, "programme_cost_eur": s_cost, "net_result_eur": Snet["all"],
        "npv_eur": pv_net, "bcr": _bcr(pv_net + pv_cost, pv_cost),
        "break_even_month": _last_below(np.cumsum(net, 0), TOL_EUR, age),
        "monthly_break_even_month": _last_below(net, TOL_EUR, age),
        "cost_per_extra_ended_benefit_eur": per_person, "cost_per_extra_person_off_benefit_eur": per_person,
        "annual_saving_run_rate_eur": run_rate, "programme_cost_per_year_eur": cost_per_year,
        "annual_net_run_rate_eur": run_rate - cost_per_year,
        "gross_benefit_saving_eur": gbs, "saving_counting_all_exits_eur": allex,
        "deadweight_share": 1.0 - _div(gbs, allex),
        "ended_benefits_treatment": off_t(ei), "ended_benefits_control": off_c(ei),
        "exit_events_treatment": ev_ei, "exit_events_control": ev_c,
        "municipal_net_result_eur": Smn["all"], "municipal_npv_eur": Smn["df"],
        "municipal_bcr": _bcr(Smn["df"] + Smc["df"], Smc["df"]), "municipal_programme_cost_eur": Smc["all"],
        "societal_benefits_eur": Ssn["df"] + Ssc["df"], "societal_costs_eur": Ssc["df"], "societal_net_eur": Ssn["df"],
        "societal_net_result_eur": Ssn["all"], "societal_npv_eur": Ssn["df"],
        "societal_bcr": _bcr(Ssn["df"] + Ssc["df"], Ssc["df"]),
        "secondment_surplus_after_benefit_year1_eur": 0.0, "secondment_break_even_month": 1.0,
        "gross_saving_year1_eur": Snet["y1"] + Scost["y1"], "programme_cost_year1_eur": Scost["y1"],
        "net_result_year1_eur": Snet["y1"], "saving_counting_all_exits_year1_eur": allex_y1,
        "net_counting_all_exits_year1_eur": allex_y1 - Scost["y1"],
        "ended_benefits_treatment_year1": off_t(y1 - 1), "exit_events_treatment_year1": ev_t(y1 - 1, Sret_y1),
        "returns_treatment_year1": Sret_y1, "participation_months_charged": take_sum,
    }
    return {k: np.broadcast_to(np.asarray(a, float).reshape(-1) if np.ndim(a) else a, (n,)) for k, a in res.items()}

"""Benchmark: vectorised probabilistic sweeps vs per-scenario Python and ema_workbench.

Prints figures measured in this one run (2-core machine):

1. 100,000 draws of a 10-year monthly case through ``mkba.sensitivity.probabilistic``
   (sampling + model + summaries), target <= 1 s;
2. the same model evaluated per scenario in a Python loop (measured on ``--loop-n`` scenarios,
   scaled to 100,000), target ratio >= 20x;
3. ema_workbench 2.5.x (``pip install -e .[bench]``) running the per-scenario function with a
   SequentialEvaluator (measured on ``--ema-n`` scenarios, scaled), target ratio >= 100x;
4. 1,000,000 draws in a fresh subprocess (chunked): peak RSS of that process
   (``resource.getrusage``; ``--tracemalloc`` adds the Python/numpy allocation peak), target <= 1 GiB.

Per-scenario results are checked against the vectorised ones (relative 1e-9) so the comparison
is like for like.  The model is mkba's own: ``mkba.model.batch_model(load_case(CASE))`` for
``--real CASE`` (default ``fip_sittard_geleen``). ``--standin`` times a stand-in with the shape of
the kernel's work instead (120 monthly steps of array updates over benefit/work/other states for
treatment and control), which says nothing about mkba's speed.

    python benchmarks/bench_sweep.py                  # mkba, case fip_sittard_geleen
    python benchmarks/bench_sweep.py --real app_zaanstad
    python benchmarks/bench_sweep.py --skip-ema --skip-mem
    python benchmarks/bench_sweep.py --standin        # the stand-in model
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import warnings

import numpy as np

MONTHS = 120
N_TARGET = 100_000

STANDIN_BASE = {
    "baseline.work_exit_rate": 0.055, "baseline.other_exit_rate": 0.06, "baseline.return_rate": 0.15,
    "cycle.multiplier": 1.0, "effect.work_exit_added": 0.053, "effect.lock_in_months": 3.0,
    "effect.ramp_months": 6.0, "programme.cost_per_participant": 1500.0,
    "programme.cost_per_participant_month": 60.0, "programme.months": 24.0, "benefit.cost_per_year": 14000.0,
    "cohort.initial_participants": 300.0, "discount.rate": 0.025,
}


def standin_dists():
    from mkba.distributions import Dist
    return {
        "baseline.work_exit_rate": Dist("beta", mean=0.055, sd=0.012),
        "baseline.return_rate": Dist("uniform", low=0.08, high=0.25),
        "cycle.multiplier": Dist("normal", mean=1.0, sd=0.12, low=0.5, high=1.5),
        "effect.work_exit_added": Dist("triangular", low=0.01, mode=0.053, high=0.09),
        "programme.cost_per_participant": Dist("lognormal", mean=1500.0, sd=400.0),
        "programme.cost_per_participant_month": Dist("triangular", low=40.0, mode=60.0, high=100.0),
        "benefit.cost_per_year": Dist("normal", mean=14000.0, sd=1200.0),
        "discount.rate": Dist("uniform", low=0.0, high=0.04),
    }


# ------------------------------------------------------------------------------ stand-in kernel
def _monthly(p):
    """Monthly hazard from an annual probability (as mkba.cohort.monthly_hazard)."""
    return -np.expm1(np.log1p(-p) / 12)


def standin_batch(values: dict, months: int = MONTHS) -> dict:
    """Vectorised stand-in: every month is one numpy pass over all scenarios (treatment and
    control benefit/work states, competing exits, returns, cash flows, discounting, break-even).
    Hazards are recomputed only while the effect ramps up (later months reuse them), as a
    well-vectorised kernel does with quantities that are constant over time."""
    g = {k: np.asarray(v, dtype=float) for k, v in values.items()}
    n = g["baseline.work_exit_rate"].shape[0]
    pw = g["baseline.work_exit_rate"] * g["cycle.multiplier"]
    ho = _monthly(g["baseline.other_exit_rate"])
    hr = _monthly(g["baseline.return_rate"])
    hw_c = _monthly(pw)
    qc = 1.0 - (1.0 - hw_c) * (1.0 - ho)
    fc = hw_c * (qc / (hw_c + ho))
    add, L, R = g["effect.work_exit_added"], g["effect.lock_in_months"], np.maximum(g["effect.ramp_months"], 1.0)
    ramp_end = float(np.max(L + R)) if n else 0.0
    N0, bm = g["cohort.initial_participants"], g["benefit.cost_per_year"] / 12
    run_cost, pm = N0 * g["programme.cost_per_participant_month"], g["programme.months"]
    dm = (1.0 + g["discount.rate"]) ** (-1.0 / 12)
    cost0 = g["programme.cost_per_participant"] * N0
    Bt, Bc, Wt, Wc = N0.copy(), N0.copy(), np.zeros(n), np.zeros(n)
    stay_c, keep_w, half_bm = 1.0 - qc, 1.0 - hr, 0.5 * bm
    gap = np.zeros(n)                                        # Bc - Bt at the start of the month
    disc = np.ones(n)
    npv, net, pv_sav, pv_cost = -cost0, -cost0, np.zeros(n), cost0.copy()
    be = np.full(n, np.nan)
    for t in range(months):
        if t <= ramp_end:
            w = np.where(t >= L, np.clip((t - L + 1.0) / R, 0.0, 1.0), 0.0)
            hw_t = _monthly(np.minimum(pw + add * w, 0.9999))
            qt = 1.0 - (1.0 - hw_t) * (1.0 - ho)
            ft = hw_t * (qt / (hw_t + ho))
            stay_t = 1.0 - qt
        Bt, Wt = Bt * stay_t + Wt * hr, Wt * keep_w + Bt * ft
        Bc, Wc = Bc * stay_c + Wc * hr, Wc * keep_w + Bc * fc
        new_gap = Bc - Bt
        saving = (gap + new_gap) * half_bm                   # benefit months saved x benefit, month average
        gap = new_gap
        cost = np.where(t < pm, run_cost, 0.0)
        disc = disc * dm
        flow = saving - cost
        pv_sav += saving * disc
        pv_cost += cost * disc
        net += flow
        npv += flow * disc
        be[np.isnan(be) & (npv >= 0.0)] = t
    return {"npv_eur": npv, "net_result_eur": net, "break_even_month": be, "bcr": pv_sav / pv_cost}


def _monthly_scalar(p):
    return -math.expm1(math.log1p(-p) / 12)


def standin_scalar(months: int = MONTHS, **p) -> dict:
    """The same stand-in for one scenario in plain Python floats (the per-scenario competitor)."""
    pw = p["baseline.work_exit_rate"] * p["cycle.multiplier"]
    ho = _monthly_scalar(p["baseline.other_exit_rate"])
    hr = _monthly_scalar(p["baseline.return_rate"])
    hw_c = _monthly_scalar(pw)
    qc = 1.0 - (1.0 - hw_c) * (1.0 - ho)
    fc = hw_c * (qc / (hw_c + ho))
    add, L, R = p["effect.work_exit_added"], p["effect.lock_in_months"], max(p["effect.ramp_months"], 1.0)
    ramp_end = L + R
    N0, bm = p["cohort.initial_participants"], p["benefit.cost_per_year"] / 12
    run_cost, pm = N0 * p["programme.cost_per_participant_month"], p["programme.months"]
    dm = (1.0 + p["discount.rate"]) ** (-1.0 / 12)
    cost0 = p["programme.cost_per_participant"] * N0
    Bt = Bc = N0
    Wt = Wc = 0.0
    stay_c, keep_w, half_bm = 1.0 - qc, 1.0 - hr, 0.5 * bm
    gap = 0.0
    disc = 1.0
    npv = net = -cost0
    pv_sav, pv_cost = 0.0, cost0
    be = math.nan
    for t in range(months):
        if t <= ramp_end:
            w = min(max((t - L + 1.0) / R, 0.0), 1.0) if t >= L else 0.0
            hw_t = _monthly_scalar(min(pw + add * w, 0.9999))
            qt = 1.0 - (1.0 - hw_t) * (1.0 - ho)
            ft = hw_t * (qt / (hw_t + ho))
            stay_t = 1.0 - qt
        Bt, Wt = Bt * stay_t + Wt * hr, Wt * keep_w + Bt * ft
        Bc, Wc = Bc * stay_c + Wc * hr, Wc * keep_w + Bc * fc
        new_gap = Bc - Bt
        saving = (gap + new_gap) * half_bm
        gap = new_gap
        cost = run_cost if t < pm else 0.0
        disc = disc * dm
        flow = saving - cost
        pv_sav += saving * disc
        pv_cost += cost * disc
        net += flow
        npv += flow * disc
        if math.isnan(be) and npv >= 0.0:
            be = float(t)
    return {"npv_eur": npv, "net_result_eur": net, "break_even_month": be, "bcr": pv_sav / pv_cost}


# ------------------------------------------------------------------------------ real model (lazy)
DEFAULT_CASE = "fip_sittard_geleen"
#: the uncertain parameters of the real-model sweep (those a case has, triangular around its values)
PSA_PARAMETERS = ("baseline.work_exit_rate", "baseline.return_rate", "cycle.multiplier", "effect.work_exit_added",
                  "effect.work_exit_ratio", "programme.cost_per_participant", "programme.cost_per_fte_year",
                  "benefit.cost_per_year", "benefit.retention_share", "discount.rate")


def real_setup(case_name: str):
    from mkba.cases import load_case
    from mkba.distributions import Dist
    from mkba.model import batch_model
    from mkba.sensitivity import default_range, integer_parameters, schema_bounds

    case = load_case(case_name)
    model = batch_model(case)
    base = {k: float(v) for k, v in case.values.items()}
    ints, bounds = integer_parameters(), schema_bounds()
    dists = {}
    for k in PSA_PARAMETERS:
        v = base.get(k)
        if v is None or not math.isfinite(v) or k in ints:
            continue
        lo, hi, _ = default_range(k, v, bounds.get(k))
        if hi > lo:
            dists[k] = Dist("triangular", low=lo, mode=v, high=hi, name=k)
    return model, base, dists, f"real model, case {case_name}"


def per_scenario_batch(model, base):
    """Per-scenario function built from the batch model itself (n = 1 arrays)."""
    def f(**p):
        vals = {k: np.array([float(p.get(k, v))]) for k, v in base.items()}
        return {k: float(v[0]) for k, v in model(vals).items()}
    return f


# ------------------------------------------------------------------------------ helpers
def rows_of(samples: dict, base: dict, k: int) -> list[dict]:
    return [{**base, **{n: float(a[i]) for n, a in samples.items()}} for i in range(k)]


def check_equal(name: str, vec: dict, rows: list[dict], metrics=("npv_eur", "net_result_eur", "break_even_month")):
    worst = 0.0
    for m in metrics:
        if m not in vec:
            continue
        a = np.array([r[m] for r in rows])
        b = vec[m][: len(rows)]
        both_nan = np.isnan(a) & np.isnan(b)
        assert np.array_equal(np.isnan(a), np.isnan(b)), f"{name}: NaN pattern differs for {m}"
        d = np.abs(a - b)[~both_nan] / np.maximum(1.0, np.abs(b[~both_nan]))
        worst = max(worst, float(d.max()) if d.size else 0.0)
    assert worst <= 1e-9, f"{name}: per-scenario results differ from the batch by {worst:.2e} (relative)"
    return worst


def mem_child(n: int, real: str | None, chunk: int, trace: bool) -> None:
    import resource
    import tracemalloc
    from mkba.sensitivity import probabilistic
    model, base, dists, _ = real_setup(real) if real else (standin_batch, STANDIN_BASE, standin_dists(), "")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = probabilistic(model, base, dists, n=n, seed=2024, chunk_size=chunk)
    dt = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"n": n, "seconds": dt, "rss_before_kib": rss0, "peak_rss_kib": rss, "tracemalloc_peak": peak,
                      "p_positive": res.p_positive}))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", metavar="CASE", default=DEFAULT_CASE,
                    help=f"benchmark mkba.model's batch model for this case (default {DEFAULT_CASE})")
    ap.add_argument("--standin", action="store_true", help="time the stand-in model instead of mkba's")
    ap.add_argument("--n", type=int, default=N_TARGET, help="draws for the vectorised timing (default 100000)")
    ap.add_argument("--repeat", type=int, default=3, help="vectorised timing: best of R runs")
    ap.add_argument("--loop-n", type=int, default=2000, help="scenarios timed in the per-scenario loop")
    ap.add_argument("--ema-n", type=int, default=1000, help="scenarios timed through ema_workbench")
    ap.add_argument("--mem-n", type=int, default=1_000_000, help="draws for the memory run")
    ap.add_argument("--chunk", type=int, default=None, help="chunk size (default mkba.scaleout.DEFAULT_CHUNK)")
    ap.add_argument("--workers", type=int, default=1, help="threads for in-process chunks (run_chunked workers)")
    ap.add_argument("--skip-ema", action="store_true")
    ap.add_argument("--skip-mem", action="store_true")
    ap.add_argument("--tracemalloc", action="store_true", help="memory run: also report the tracemalloc peak "
                    "(slows the run several-fold)")
    ap.add_argument("--mem-child", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.standin:
        a.real = None

    from mkba.scaleout import DEFAULT_CHUNK
    chunk = a.chunk or DEFAULT_CHUNK
    if a.mem_child:
        mem_child(a.mem_child, a.real, chunk, a.tracemalloc)
        return 0

    import functools
    from mkba.distributions import sample
    from mkba.scaleout import run_chunked
    from mkba.sensitivity import probabilistic
    executor = None if a.workers == 1 else functools.partial(run_chunked, workers=a.workers)

    if a.real:
        model, base, dists, label = real_setup(a.real)
        scalar = per_scenario_batch(model, base)
        scalar_label = "batch model called per scenario (n = 1)"
    else:
        model, base, dists, label = standin_batch, STANDIN_BASE, standin_dists(), "stand-in model"
        scalar = standin_scalar
        scalar_label = "plain-Python scalar kernel"
    months = int(base.get("horizon.months", MONTHS))
    print(f"# bench_sweep: {label}; {months} months; {len(dists)} uncertain parameters; chunk {chunk}; "
          f"{a.workers} worker thread(s); {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; "
          f"numpy {np.__version__}")
    failures = []

    # 1. vectorised -----------------------------------------------------------------------
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probabilistic(model, base, dists, n=1000, seed=1, chunk_size=chunk)       # warm-up
        times, cpus = [], []
        for _ in range(a.repeat):
            t = time.perf_counter(); c = time.process_time()
            res = probabilistic(model, base, dists, n=a.n, seed=1, chunk_size=chunk, executor=executor)
            times.append(time.perf_counter() - t); cpus.append(time.process_time() - c)
    t_vec = min(times)
    vec = res.values
    print(f"vectorised: {a.n:,} draws in {t_vec:.3f} s (best of {a.repeat}: "
          f"{', '.join(f'{x:.3f}' for x in times)}; CPU-seconds over all threads {min(cpus):.3f}); "
          f"{t_vec / a.n * 1e6:.2f} us/draw; P(NPV>0) = {res.p_positive:.3f}")
    if a.n == N_TARGET and t_vec > 1.0:
        failures.append(f"100k draws took {t_vec:.2f} s > 1 s")

    draws = sample(dists, max(a.loop_n, a.ema_n), seed=1)
    # 2. per-scenario Python ---------------------------------------------------------------
    rows = rows_of(draws, base, a.loop_n)
    t = time.perf_counter()
    loop_out = [scalar(**r) for r in rows]
    t_loop = (time.perf_counter() - t) / a.loop_n * a.n
    worst = check_equal("per-scenario", vec, loop_out)
    r_loop = t_loop / t_vec
    print(f"per-scenario Python ({scalar_label}): {a.loop_n:,} scenarios timed, scaled to {a.n:,}: {t_loop:.1f} s; "
          f"max rel. difference {worst:.1e}")
    if not a.real:
        nb = per_scenario_batch(model, base)
        k = max(200, a.loop_n // 10)
        t = time.perf_counter()
        nb_out = [nb(**r) for r in rows[:k]]
        t_nb = (time.perf_counter() - t) / k * a.n
        check_equal("n=1 batch", vec, nb_out)
        print(f"per-scenario numpy (batch model with n = 1): {k:,} timed, scaled to {a.n:,}: {t_nb:.1f} s "
              f"(ratio {t_nb / t_vec:.0f}x)")
    print(f"RATIO vectorised vs per-scenario Python: {r_loop:.0f}x (target >= 20x)")
    if r_loop < 20:
        failures.append(f"per-scenario ratio {r_loop:.1f} < 20")

    # 3. ema_workbench ----------------------------------------------------------------------
    if not a.skip_ema:
        try:
            import ema_workbench as ew
        except ImportError:
            print("ema_workbench: not installed (pip install -e '.[bench]'); skipped")
        else:
            import logging
            from ema_workbench import (Constant, Model, RealParameter, Scenario, ScalarOutcome,
                                       SequentialEvaluator, perform_experiments)
            logging.getLogger("EMA").setLevel(logging.WARNING)
            names = list(dists)
            keymap = {k: k.replace(".", "__") for k in base}       # ema wants identifiers
            inv = {v: k for k, v in keymap.items()}

            def ema_fn(**kw):
                return scalar(**{inv[k]: v for k, v in kw.items()})

            em = Model("mkba", function=ema_fn)
            em.uncertainties = [RealParameter(keymap[k], float(draws[k].min()) - 1e-12, float(draws[k].max()) + 1e-12)
                                for k in names]
            em.constants = [Constant(keymap[k], float(v)) for k, v in base.items() if k not in dists]
            em.outcomes = [ScalarOutcome(m) for m in ("npv_eur", "net_result_eur", "break_even_month")]
            scen = [Scenario(f"s{i}", **{keymap[k]: float(draws[k][i]) for k in names}) for i in range(a.ema_n)]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t = time.perf_counter()
                with SequentialEvaluator(em) as ev:
                    exps, outs = perform_experiments(em, scenarios=scen, evaluator=ev, log_progress=False)
                t_ema = (time.perf_counter() - t) / a.ema_n * a.n
            ema_rows = [{m: float(outs[m][i]) for m in outs} for i in range(a.ema_n)]
            ew_worst = check_equal("ema_workbench", vec, ema_rows)
            r_ema = t_ema / t_vec
            print(f"ema_workbench {ew.__version__} SequentialEvaluator ({scalar_label}): {a.ema_n:,} scenarios timed, "
                  f"scaled to {a.n:,}: {t_ema:.1f} s; max rel. difference {ew_worst:.1e}")
            print(f"RATIO vectorised vs ema_workbench: {r_ema:.0f}x (target >= 100x)")
            if r_ema < 100:
                failures.append(f"ema_workbench ratio {r_ema:.1f} < 100")

    # 4. memory ---------------------------------------------------------------------------
    if not a.skip_mem:
        cmd = [sys.executable, os.path.abspath(__file__), "--mem-child", str(a.mem_n), "--chunk", str(chunk)]
        cmd += ["--real", a.real] if a.real else ["--standin"]
        if a.tracemalloc:
            cmd += ["--tracemalloc"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        m = json.loads(out)
        gib = m["peak_rss_kib"] / 2 ** 20
        print(f"memory: {m['n']:,} draws in {m['seconds']:.2f} s; peak RSS {m['peak_rss_kib'] / 1024:.0f} MiB "
              f"(process after imports {m['rss_before_kib'] / 1024:.0f} MiB)"
              + (f"; numpy/python peak (tracemalloc) {m['tracemalloc_peak'] / 2 ** 20:.0f} MiB"
                 if m["tracemalloc_peak"] is not None else "") + f"; P(NPV>0) = {m['p_positive']:.4f}")
        print(f"RATIO peak RSS vs 1 GiB budget: {gib:.2f} (target <= 1.00)")
        if gib > 1.0:
            failures.append(f"peak RSS {gib:.2f} GiB > 1 GiB")

    print("RESULT: " + ("all targets met" if not failures else "MISSED: " + "; ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

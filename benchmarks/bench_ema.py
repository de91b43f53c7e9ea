"""Benchmark: mkba's batch engine against ema_workbench running an equivalent scalar model.

What a competent ema_workbench user would do for the ``app_zaanstad`` outline over a 10-year
horizon (120 monthly periods), one uncertainty (``effect.work_exit_added``, 0-30 pp a year),
outcome the municipal NPV:

* the scalar model is :func:`scalar_npv`, a plain-Python port (floats and ``math``, one
  scenario per call, no numpy overhead) of ``benchmarks/numpy_peer.py``; it is checked
  against ``mkba.model.evaluate_batch`` on every scenario ema ran (the two agree to ~1e-8 EUR);
* ema_workbench runs it with its ``SequentialEvaluator`` and its ``MultiprocessingEvaluator``
  (2 processes, pool start included); the faster of the two is "ema's best evaluator";
* mkba runs the very scenarios ema sampled (its Latin hypercube) in one ``evaluate_batch`` call.

The three are measured interleaved (the order rotates each round; medians compared).
ema_workbench is an optional dependency: ``pip install -e '.[bench]'``.

    .venv/bin/python benchmarks/bench_ema.py [--n 20000] [--rounds 3]
"""
from __future__ import annotations

import argparse
import logging
import math
import os
import statistics
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("TQDM_DISABLE", "1")     # ema's progress bar off: its own cost is not the model's

from bench_kernel import MONTHS, load  # noqa: E402  (the same case and horizon as bench_kernel)

NAME = "effect.work_exit_added"
LOW, HIGH = 0.0, 0.3


def _h(p: float) -> float:
    p = min(max(p, 0.0), 0.9999)
    return -math.expm1(math.log1p(-p) / 12.0)


def scalar_npv(v: dict, added: float, months: int = MONTHS) -> float:
    """``numpy_peer.npv_closed_cohort`` for one scenario, in plain Python floats."""
    base_w = v["baseline.work_exit_rate"]
    hw_c, ho, hr = _h(base_w), _h(v["baseline.other_exit_rate"]), _h(v["baseline.return_rate"])
    hw_t_on = _h(base_w + added)
    window = v["participation.months"] + v["effect.persistence_months"]
    b_month = v["benefit.cost_per_year"] * v["benefit.household_factor"] / 12.0
    staff = v["programme.staff_fte"] * v["programme.cost_per_fte_year"] / 12.0
    B_t = B_c = v["cohort.initial_participants"]
    W_t = W_c = 0.0
    yearly = [0.0] * (months // 12 + 1)
    for m in range(months):
        hw_t = hw_t_on if m < window else hw_c
        state = []
        for B, W, hw in ((B_t, W_t, hw_t), (B_c, W_c, hw_c)):
            q = 1.0 - (1.0 - hw) * (1.0 - ho)
            r = q / (hw + ho)
            ew, eo, rw = B * hw * r, B * ho * r, W * hr
            state.append((B - ew - eo + rw, W + ew - rw))
        (nB_t, W_t), (nB_c, W_c) = state
        saved = b_month * (0.5 * (B_c + nB_c) - 0.5 * (B_t + nB_t))
        B_t, B_c = nB_t, nB_c
        yearly[m // 12] += saved - (staff if m < v["programme.months"] else 0.0)
    rate = v["discount.rate"]
    return sum(y / (1.0 + rate) ** (k + 1) for k, y in enumerate(yearly))


_VALUES: dict = {}


def case_values() -> dict:
    """The case's scalar values (read once per process: ema's worker processes read them too)."""
    if not _VALUES:
        _VALUES.update({k: float(v) for k, v in load().values.items() if isinstance(v, (int, float))})
    return _VALUES


def ema_function(added: float = 0.1) -> dict:
    """The scalar model as ema_workbench calls it (module level, so its worker processes can load it)."""
    return {"npv": scalar_npv(case_values(), added)}


def _ema_model(values: dict):
    from ema_workbench import Model, RealParameter, ScalarOutcome

    m = Model("mkbaoutline", function=ema_function)
    m.uncertainties = [RealParameter("added", LOW, HIGH)]
    m.outcomes = [ScalarOutcome("npv")]
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20_000, help="scenarios per run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--processes", type=int, default=2)
    args = ap.parse_args()
    try:
        import ema_workbench as ew
    except ImportError:
        raise SystemExit("ema_workbench is not installed: pip install -e '.[bench]'") from None
    import numpy as np
    from ema_workbench import MultiprocessingEvaluator, SequentialEvaluator, perform_experiments

    from mkba.model import evaluate_batch

    logging.getLogger("EMA").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    case = load()
    values = case_values()
    model = _ema_model(values)
    evaluate_batch(case, {NAME: np.linspace(LOW, HIGH, 1000)})          # load the compiled kernel
    scalar_npv(values, 0.1)

    def ema(evaluator_cls, **kw):
        def run():
            with evaluator_cls(model, **kw) as ev:
                experiments, outcomes = perform_experiments(model, scenarios=args.n, evaluator=ev)
            return experiments["added"].to_numpy(float), np.asarray(outcomes["npv"], dtype=float)
        return run

    state: dict = {}

    def mkba():
        x = state["x"]                           # the scenarios ema sampled last
        return x, evaluate_batch(case, {NAME: x})["npv_eur"]

    methods = {"ema sequential": ema(SequentialEvaluator),
               f"ema multiprocessing ({args.processes})": ema(MultiprocessingEvaluator, n_processes=args.processes),
               "mkba evaluate_batch": mkba}
    times: dict = {k: [] for k in methods}
    worst = 0.0
    names = list(methods)
    for r in range(args.rounds):
        order = names[r % 2:] + names[:r % 2]     # mkba always after an ema run that gives it scenarios
        if "x" not in state:
            order = [n for n in names if n.startswith("ema")] + ["mkba evaluate_batch"]
        for name in order:
            t = time.perf_counter()
            x, y = methods[name]()
            times[name].append(time.perf_counter() - t)
            if name.startswith("ema"):
                state["x"] = x
                ref = evaluate_batch(case, {NAME: x})["npv_eur"]
                worst = max(worst, float(np.max(np.abs(ref - y))))
    med = {k: statistics.median(v) for k, v in times.items()}
    best_ema = min((k for k in med if k.startswith("ema")), key=med.get)
    print(f"ema_workbench {ew.__version__}; case app_zaanstad, {MONTHS} months, {args.n:,} scenarios, "
          f"{args.rounds} interleaved rounds; cpus {os.cpu_count()}, load {os.getloadavg()[0]:.1f}")
    for k, v in med.items():
        print(f"  {k:28s} {v:8.3f} s  ({v / args.n * 1e6:8.1f} us per scenario)")
    print(f"scalar model agrees with mkba to {worst:.1e} EUR (largest NPV difference)")
    print(f"ratio {best_ema} / mkba: {med[best_ema] / med['mkba evaluate_batch']:.0f}x")


if __name__ == "__main__":
    main()

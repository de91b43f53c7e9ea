"""Model engine speed and memory: mkba's one compiled kernel against a plain numpy peer.

Measured in one interleaved run, for ``app_zaanstad`` over a 10-year horizon (120 monthly
periods), sweeping ``effect.work_exit_added``:

* 100.000 draws: ``mkba.model.evaluate_batch`` (after a warm-up call that loads the cached
  kernel) and the plain numpy peer of the same outline (``benchmarks/numpy_peer.py``), their
  ratio and their agreement on the NPV;
* 1.000.000 draws in a fresh subprocess: wall time and peak memory (``ru_maxrss``), and the
  peer's memory for the same draws;
* single-run latency (n = 1): ``evaluate_batch(case)`` (model time: parameters, kernel, metrics)
  and ``run(case)`` (the tidy table on top).

Targets (issues 9 and 14): 100.000 draws <= 1 s on 2 cores, 1.000.000 draws <= 1 GiB, one run
<= 2 ms model time, >= 10x the plain numpy peer.
Usage: python benchmarks/bench_kernel.py [--draws 100000] [--big 1000000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

TARGET_S = 1.0
TARGET_BYTES = 1 << 30
TARGET_SINGLE_S = 0.002
CASE = "app_zaanstad"
MONTHS = 120
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def load():
    from mkba.cases import load_case

    return load_case(CASE).with_overrides({"horizon.months": {"value": MONTHS, "unit": "months", "date": 2019,
                                                              "reference": "benchmark: 10 years"}})


def sweep(n: int):
    import numpy as np

    return {"effect.work_exit_added": np.linspace(0.0, 0.3, n)}


def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def child(n: int, which: str) -> None:
    """In a fresh process: n draws with mkba (or the peer); time and peak memory as JSON."""
    case = load()
    if which == "mkba":
        from mkba.model import evaluate_batch

        evaluate_batch(case, sweep(1000))            # load the compiled kernel
        fn = lambda: evaluate_batch(case, sweep(n))  # noqa: E731
    else:
        from numpy_peer import npv_closed_cohort

        fn = lambda: npv_closed_cohort(case.values, sweep(n)["effect.work_exit_added"], MONTHS)  # noqa: E731
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t = time.perf_counter()
    fn()
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"n": n, "wall_s": wall, "peak_bytes": peak, "before_bytes": base}))


def _child(n: int, which: str) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", str(n), "--which", which]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--draws", type=int, default=100_000)
    ap.add_argument("--big", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--which", default="mkba", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        child(args.child, args.which)
        return
    big = _child(args.big, "mkba")
    big_peer = _child(args.big, "peer")

    import numba
    import numpy as np
    from numpy_peer import npv_closed_cohort

    from mkba import fastkernel
    from mkba.model import evaluate_batch, run

    case = load()
    x = sweep(args.draws)
    t = time.perf_counter()
    evaluate_batch(case, sweep(1000))
    warm = time.perf_counter() - t
    t_mkba = t_peer = float("inf")
    for _ in range(args.repeats):              # interleaved
        t = time.perf_counter(); a = evaluate_batch(case, x); t_mkba = min(t_mkba, time.perf_counter() - t)
        t = time.perf_counter(); b = npv_closed_cohort(case.values, x["effect.work_exit_added"], MONTHS)
        t_peer = min(t_peer, time.perf_counter() - t)
    diff = float(np.max(np.abs(a["npv_eur"] - b)))
    t_single = best_of(lambda: evaluate_batch(case), 50)
    t_run = best_of(lambda: run(case), 20)
    print(f"case {CASE}, {MONTHS} monthly periods, sweep of effect.work_exit_added; {os.cpu_count()} CPUs, "
          f"numba {fastkernel.numba_version()} ({numba.get_num_threads()} threads, layer {numba.threading_layer()}), "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"warm-up call (load the cached kernel)        {warm:8.2f} s")
    print(f"{args.draws:>9,} draws, mkba kernel              {t_mkba:8.3f} s   (target {TARGET_S:.1f} s, ratio {t_mkba / TARGET_S:.2f})")
    print(f"{args.draws:>9,} draws, plain numpy peer         {t_peer:8.3f} s   (peer / mkba = {t_peer / t_mkba:.1f}x; "
          f"NPV agrees to {diff:.1e} EUR)")
    print(f"{big['n']:>9,} draws, mkba kernel              {big['wall_s']:8.3f} s   peak memory {big['peak_bytes'] / 2**20:,.0f} MiB "
          f"(target {TARGET_BYTES / 2**20:,.0f} MiB, ratio {big['peak_bytes'] / TARGET_BYTES:.2f})")
    print(f"{big_peer['n']:>9,} draws, plain numpy peer         {big_peer['wall_s']:8.3f} s   peak memory "
          f"{big_peer['peak_bytes'] / 2**20:,.0f} MiB (peer / mkba = {big_peer['wall_s'] / big['wall_s']:.1f}x)")
    print(f"single run (n = 1), evaluate_batch          {t_single * 1000:8.3f} ms  (target {TARGET_SINGLE_S * 1000:.0f} ms, "
          f"ratio {t_single / TARGET_SINGLE_S:.2f})")
    print(f"single run with the tidy table, run()       {t_run * 1000:8.3f} ms")


if __name__ == "__main__":
    main()

"""Batch engine speed and memory: the compiled kernel (mkba.fastkernel) against the numpy engine.

Measured in this run, for ``app_zaanstad`` over a 10-year horizon (120 monthly periods),
sweeping ``effect.work_exit_added``:

* 100.000 draws with the numba engine (best of several, after a warm-up call that compiles or
  loads the cached kernel) and with the numpy engine, and their ratio;
* a per-scenario Python loop of single runs (``evaluate_batch`` with n = 1, numpy engine, timed
  over ``--singles`` calls) extrapolated to 100.000 draws, and its ratio to the numba engine;
* 1.000.000 draws with the numba engine in a fresh subprocess: wall time and peak memory
  (``ru_maxrss``); the engine works in chunks, so only the metrics grow with the batch.

Targets (issue): 100.000 draws at most 1 s; 1.000.000 draws at most 1 GiB peak memory.
Usage: python benchmarks/bench_kernel.py [--draws 100000] [--big 1000000] [--singles 200] [--skip-numpy]
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
CASE = "app_zaanstad"
MONTHS = 120


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


def child(n: int) -> None:
    """Run in a fresh process: n draws with the numba engine; report time and peak memory as JSON."""
    from mkba.model import evaluate_batch

    case = load()
    evaluate_batch(case, sweep(1000), engine="numba")           # load the compiled kernel
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    x = sweep(n)
    t = time.perf_counter()
    out = evaluate_batch(case, x, engine="numba")
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes
    print(json.dumps({"n": n, "wall_s": wall, "peak_bytes": peak, "before_bytes": base, "hwm_bytes": _vm_hwm(),
                      "metrics": len(out)}))


def _vm_hwm() -> int | None:
    """This process's own peak resident memory (VmHWM; Linux), not inherited from the parent."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--draws", type=int, default=100_000)
    ap.add_argument("--big", type=int, default=1_000_000)
    ap.add_argument("--singles", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-numpy", action="store_true", help="do not time the numpy engine on the full batch")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        child(args.child)
        return

    # the memory run first: a child's ru_maxrss starts from the parent's resident size at fork
    cmd = [sys.executable, os.path.abspath(__file__), "--child", str(args.big)]
    big = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    parent_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    import numba
    import numpy as np

    from mkba import fastkernel
    from mkba.model import evaluate_batch

    case = load()
    x = sweep(args.draws)
    t = time.perf_counter()
    evaluate_batch(case, sweep(1000), engine="numba")
    warm = time.perf_counter() - t
    t_numba = best_of(lambda: evaluate_batch(case, x, engine="numba"), args.repeats)
    a = evaluate_batch(case, x, engine="numba")
    if args.skip_numpy:
        t_numpy = float("nan")
        same = "not checked"
    else:
        t = time.perf_counter()
        b = evaluate_batch(case, x, engine="numpy")
        t_numpy = time.perf_counter() - t
        worst = max(float(np.nanmax(np.abs(a[k] - b[k]) / np.maximum(np.abs(b[k]), 1e-300), initial=0.0)) for k in b)
        identical = all(np.array_equal(a[k], b[k], equal_nan=True) for k in b)
        same = "bit-identical" if identical else f"max relative difference {worst:.1e}"

    values = np.linspace(0.0, 0.3, args.singles)
    evaluate_batch(case, {"effect.work_exit_added": float(values[0])}, engine="numpy")
    t = time.perf_counter()
    for v in values:
        evaluate_batch(case, {"effect.work_exit_added": float(v)}, engine="numpy")
    per_single = (time.perf_counter() - t) / args.singles
    t_loop = per_single * args.draws

    cpus = os.cpu_count()
    print(f"case {CASE}, {MONTHS} monthly periods, sweep of effect.work_exit_added; {cpus} CPUs, "
          f"numba {fastkernel.numba_version()} ({numba.get_num_threads()} threads, layer {numba.threading_layer()}), "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"warm-up call (compile or load cached kernel) {warm:8.2f} s")
    print(f"{args.draws:>9,} draws, numba engine          {t_numba:8.3f} s   (target {TARGET_S:.1f} s, ratio {t_numba / TARGET_S:.2f})")
    if args.skip_numpy:
        print(f"{args.draws:>9,} draws, numpy engine          skipped")
    else:
        print(f"{args.draws:>9,} draws, numpy engine          {t_numpy:8.3f} s   (numpy / numba = {t_numpy / t_numba:.1f}x; "
              f"results {same})")
    print(f"{args.draws:>9,} single runs, Python loop     {t_loop:8.1f} s   (extrapolated from {args.singles} runs of "
          f"{per_single * 1000:.2f} ms; loop / numba = {t_loop / t_numba:,.0f}x)")
    print(f"{big['n']:>9,} draws, numba engine          {big['wall_s']:8.3f} s   peak memory {big['peak_bytes'] / 2**20:,.0f} MiB "
          f"(ru_maxrss; target {TARGET_BYTES / 2**20:,.0f} MiB, ratio {big['peak_bytes'] / TARGET_BYTES:.2f})")
    hwm = big["hwm_bytes"]
    print(f"{'':>9}  before the call {big['before_bytes'] / 2**20:,.0f} MiB (imports + compiled kernel); "
          f"VmHWM {'n/a' if hwm is None else f'{hwm / 2**20:,.0f} MiB'}; parent at fork {parent_rss / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()

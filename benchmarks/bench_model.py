"""Model speed: one 10-year monthly run, and the CLI's cold start.

Prints times measured in this run (best of several) and the ratio to the targets of issue #2:
under 50 ms per model run and under 1,5 s for `mkba run CASE` from a cold start.
Usage: python benchmarks/bench_model.py [CASE]
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

TARGET_RUN_S = 0.050
TARGET_CLI_S = 1.5


def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    from mkba.cases import load_case
    from mkba.model import evaluate_batch, run, summarise

    name = sys.argv[1] if len(sys.argv) > 1 else "app_zaanstad"
    case = load_case(name).with_overrides({"horizon.months": {"value": 120, "unit": "months", "date": 2019,
                                                              "reference": "benchmark: 10 years"}})
    run(case)
    t_table = best_of(lambda: run(case), 10)
    t_kernel = best_of(lambda: evaluate_batch(case), 50)
    t_summary = best_of(lambda: summarise(case), 5)
    exe = Path(sys.executable).with_name("mkba")
    cli = [str(exe)] if exe.exists() else [sys.executable, "-m", "mkba.cli"]
    t_cli = best_of(lambda: subprocess.run(cli + ["run", name, "--format", "json"], check=True,
                                            capture_output=True), 3)
    print(f"case {name}, 120 monthly periods")
    print(f"model run -> tidy table     {t_table * 1000:7.1f} ms   (target {TARGET_RUN_S * 1000:.0f} ms, ratio {t_table / TARGET_RUN_S:.2f})")
    print(f"model kernel (metrics only) {t_kernel * 1000:7.3f} ms   (target 2 ms, ratio {t_kernel / 0.002:.2f})")
    print(f"run + metrics from table    {t_summary * 1000:7.1f} ms")
    print(f"`mkba run` cold start       {t_cli:7.2f} s    (target {TARGET_CLI_S:.1f} s, ratio {t_cli / TARGET_CLI_S:.2f})")


if __name__ == "__main__":
    main()

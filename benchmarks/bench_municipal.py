"""All municipal reports: time per report, and the naive papermill + nbconvert loop for comparison.

Renders one report per municipality (342 in 2024) for an approach with `mkba render`'s engine,
and times the naive way (a `papermill` CLI call plus a `jupyter nbconvert --to html` CLI call
per report) on a sample, extrapolated to the same number of reports. Prints both, measured in
this run, and the ratio. Targets (issue #6): all reports in at most 10 minutes, stretch 3.

Usage: python benchmarks/bench_municipal.py [--approach fip_sittard_geleen] [--n 342] [--naive-n 4]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_render import naive  # noqa: E402  (the same naive loop as the render benchmark)

TARGET_S = 600.0
STRETCH_S = 180.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--approach", default="fip_sittard_geleen")
    ap.add_argument("--n", type=int, default=None, help="municipalities (default: all)")
    ap.add_argument("--naive-n", type=int, default=4, help="naive reports to time (extrapolated)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    from mkba.cli import build_render_jobs
    from mkba.render import render_batch

    jobs = build_render_jobs([], all_cases=False, notebook=None, municipalities=["all"], approach=args.approach,
                             share=0.10, params={}, lang="nl")
    if args.n:
        jobs = jobs[: args.n]
    work = Path(tempfile.mkdtemp(prefix="mkba-bench-municipal-"))
    try:
        t = time.perf_counter()
        result = render_batch(jobs, work / "mkba", workers=args.workers)
        total = time.perf_counter() - t
        n = len(jobs)
        print(f"{n} municipal reports ({args.approach}), {args.workers} workers: {total:.1f} s, "
              f"{total / n:.2f} s per report; {len(result.ok)} ok, {len(result.failed)} failed")
        print(f"target {TARGET_S:.0f} s: ratio {total / TARGET_S:.2f}; stretch {STRETCH_S:.0f} s: ratio {total / STRETCH_S:.2f}")
        sample = jobs[: args.naive_n]
        (work / "naive").mkdir()
        times = naive(sample[0].notebook, [j.parameters for j in sample], work / "naive")
        per = sum(times) / len(times)
        print(f"naive papermill + nbconvert: {per:.2f} s per report (mean of {len(times)}), "
              f"{per * n:.0f} s for {n} (extrapolated); mkba render is {per * n / total:.1f}x faster")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""All municipal reports with `mkba render`, against the targets and against papermill's own pool.

1. Renders one report per municipality (342 in 2024) for an approach with ``render_batch``
   (one shared model call for all municipalities x scenarios in the fork server, forked
   kernels, one CSS file) and prints the total against the targets (issue 14: at most 60 s
   on 2 cores, must 120 s) and the per-stage timings from the manifest.
2. On a sample (``--compare-n``, default 20) the same reports are rendered interleaved with
   ``papermill.execute_notebook`` + nbconvert in a process pool and with the CLI loop
   (``bench_render.compare``), printing the ratios (goal: >= 5x the pool).

Usage: python benchmarks/bench_municipal.py [--approach fip_sittard_geleen] [--n 342] [--compare-n 20]
Wall-clock figures: run on a quiet machine.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_render import ROOT, compare, municipal_jobs  # noqa: E402

GOAL_S = 60.0
MUST_S = 120.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--approach", default="fip_sittard_geleen")
    ap.add_argument("--n", type=int, default=None, help="municipalities (default: all)")
    ap.add_argument("--compare-n", type=int, default=20, help="sample for the interleaved comparison (0: skip)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--workers", type=int, default=None, help="default: mkba.render.default_workers() (2 per CPU core + 1)")
    args = ap.parse_args()
    if args.workers is None:
        from mkba.render import default_workers

        args.workers = default_workers()
    os.chdir(ROOT)

    from mkba.render import render_batch

    jobs = municipal_jobs(args.n, args.approach)
    work = Path(tempfile.mkdtemp(prefix="mkba-bench-municipal-"))
    print(f"cpus: {os.cpu_count()}, load: {os.getloadavg()[0]:.1f}")
    try:
        t = time.perf_counter()
        result = render_batch(jobs, work / "all", workers=args.workers)
        total = time.perf_counter() - t
        n = len(jobs)
        print(f"{n} municipal reports ({args.approach}), {args.workers} workers: {total:.1f} s, "
              f"{total / n:.3f} s per report; {len(result.ok)} ok, {len(result.failed)} failed")
        print(f"goal {GOAL_S:.0f} s: {'MET' if total <= GOAL_S else 'MISSED'} (ratio {total / GOAL_S:.2f}); "
              f"must {MUST_S:.0f} s: {'MET' if total <= MUST_S else 'MISSED'} (ratio {total / MUST_S:.2f})")
        m = json.loads((work / "all" / "manifest.json").read_text())
        stages = sorted({k for e in m["reports"].values() for k in e.get("timings", {})})
        print("median per report: " + ", ".join(
            f"{k} {statistics.median(e['timings'].get(k, 0) for e in m['reports'].values()):.3f} s" for k in stages))
        sizes = [(work / "all" / e["outputs"]["html"]).stat().st_size for e in m["reports"].values()
                 if e.get("outputs", {}).get("html")]
        if sizes:
            print(f"median HTML size {statistics.median(sizes) / 1024:.0f} KB (+ one shared CSS file)\n")
        if args.compare_n:
            # the sample's own jobs (its shared work covers the sample, as from the CLI)
            compare("municipal", municipal_jobs(args.compare_n, args.approach), workers=args.workers,
                    rounds=args.rounds, cli_n=3,
                    work=work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

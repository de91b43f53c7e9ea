"""Benchmark: `mkba render` against what a papermill user would write, on the real notebooks.

Three ways to turn N parameter sets into N HTML reports, measured interleaved in one run
(round 1: A B C, round 2: B C A, ...; the median per method is compared):

``mkba``   ``render_batch(jobs, out, workers=W)`` (papermill on the ``mkba`` engine: pre-warmed
           forked kernels, shared batch work, one CSS file);
``pool``   ``papermill.execute_notebook`` (default nbclient engine) plus nbconvert's
           ``HTMLExporter`` in a ``ProcessPoolExecutor`` of the cores + 1 processes, its best
           (:func:`default_pool_workers`; pool start included);
``cli``    the ``papermill`` CLI then ``jupyter nbconvert --to html`` per report, one after
           another (on ``--cli-n`` reports, extrapolated to N).

    .venv/bin/python benchmarks/bench_render.py                      # 5 case reports + 20 municipal
    .venv/bin/python benchmarks/bench_render.py --suite municipal --n 20 --rounds 3

Prints seconds per report and the ratios pool/mkba and cli/mkba (goal: >= 5x the pool on
municipal reports). Timings are wall clock on this machine: run it on a quiet one.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
INLINE = "module://matplotlib_inline.backend_inline"
#: seconds per report the first render benchmark printed for FIXTURE, 20 reports on 2 cores
#: (README of 2026-11-25, commit b902877); issue 12: stay within 25 % of it
FIXTURE_BASELINE_S = 0.35


def case_jobs(n: int, lang: str = "nl"):
    from mkba.cases import list_cases
    from mkba.cli import build_render_jobs

    names = [c for c, _ in list_cases()]
    names = (names * (n // len(names) + 1))[:n]
    jobs = build_render_jobs(sorted(set(names)), all_cases=False, notebook=None, municipalities=[],
                             approach=None, share=0.1, params={}, lang=lang)
    return (jobs * (n // len(jobs) + 1))[:n]


#: the notebook of the first render benchmark (README, 2026-11-25: "20 reports take about 0,35 s
#: each"), which issue 12's speed clause refers to: a small report (one figure, one table)
FIXTURE = ROOT / "tests" / "fixtures" / "notebooks" / "report.ipynb"


def fixture_jobs(n: int):
    """``n`` reports of :data:`FIXTURE`, report i for municipality "Voorbeeldstad-i" (as the first
    benchmark varied them)."""
    from mkba.render import RenderJob

    return [RenderJob(name=f"fixture-{i}", notebook=FIXTURE, parameters={"municipality": f"Voorbeeldstad-{i}"},
                      output_stem=f"fixture-{i}") for i in range(n)]


def municipal_jobs(n: int | None, approach: str = "fip_sittard_geleen", lang: str = "nl"):
    """The jobs of ``mkba render --municipalities <the first n GM codes> --approach ...`` (all: None),
    so that the batch's shared work covers the municipalities rendered, as it does from the CLI."""
    from mkba.cli import build_render_jobs
    from mkba.municipalities import load_municipalities

    codes = ["all"] if n is None else list(load_municipalities()["gm_code"][:n])
    return build_render_jobs([], all_cases=False, notebook=None, municipalities=codes, approach=approach,
                             share=0.10, params={}, lang=lang)


def _unique(jobs):
    import dataclasses

    return [dataclasses.replace(j, name=f"{j.name}-{i}", output_stem=f"{j.output_stem}-{i}")
            for i, j in enumerate(jobs)]


# -- the three methods -----------------------------------------------------------------

def run_mkba(jobs, out: Path, workers: int) -> float:
    from mkba.render import render_batch

    t = time.perf_counter()
    res = render_batch(_unique(jobs), out, workers=workers)
    dt = time.perf_counter() - t
    if res.failed:
        raise SystemExit(f"mkba: {len(res.failed)} failed: {res.entry(res.failed[0])['error']['summary']}")
    return dt


def _pool_one(notebook: str, params: dict, out_nb: str, out_html: str, cwd: str) -> None:
    os.environ["MPLBACKEND"] = INLINE  # the kernel inherits this: figures must reach the notebook
    import papermill as pm
    from nbconvert import HTMLExporter

    nb = pm.execute_notebook(notebook, out_nb, parameters=params, progress_bar=False, kernel_name="python3",
                             cwd=cwd)
    body, _ = HTMLExporter(template_name="lab", exclude_input=True).from_notebook_node(nb)
    Path(out_html).write_text(body, encoding="utf-8")


def run_pool(jobs, out: Path, workers: int) -> float:
    from concurrent.futures import ProcessPoolExecutor

    out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    with ProcessPoolExecutor(workers) as ex:
        futs = [ex.submit(_pool_one, str(j.notebook), j.parameters, str(out / f"{i}.ipynb"),
                          str(out / f"{i}.html"), str(j.notebook.parent)) for i, j in enumerate(jobs)]
        for f in futs:
            f.result()
    return time.perf_counter() - t


def run_cli(jobs, out: Path) -> float:
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, MPLBACKEND=INLINE)
    t = time.perf_counter()
    for i, j in enumerate(jobs):
        pfile = out / f"p{i}.json"
        pfile.write_text(json.dumps(j.parameters))
        nb = out / f"{i}.ipynb"
        subprocess.run([str(BIN / "papermill"), str(j.notebook), str(nb), "-f", str(pfile), "--no-progress-bar",
                        "-k", "python3", "--cwd", str(j.notebook.parent)], check=True, env=env, capture_output=True)
        subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(nb)],
                       check=True, env=env, capture_output=True)
    return time.perf_counter() - t


def default_pool_workers() -> int:
    """The pool's processes: the CPU cores + 1, its best on 2 cores (20 municipal reports,
    2026-12-03, two interleaved rounds: 25,9 and 26,2 s with 2 processes, 25,4 and 23,4 s with 3,
    25,9 and 24,3 s with 5: each report's kernel keeps a core busy, so more processes do not pay)."""
    return (os.cpu_count() or 1) + 1


def compare(label: str, jobs, *, workers: int, rounds: int, cli_n: int, work: Path,
            pool_workers: int | None = None) -> dict:
    """Interleaved rounds; returns median seconds per report per method."""
    n = len(jobs)
    cli_jobs = jobs[:max(1, min(cli_n, n))]
    pool_workers = pool_workers or default_pool_workers()
    methods = {
        "mkba": lambda r: run_mkba(jobs, work / f"{label}-mkba-{r}", workers) / n,
        "pool": lambda r: run_pool(jobs, work / f"{label}-pool-{r}", pool_workers) / n,
        "cli": lambda r: run_cli(cli_jobs, work / f"{label}-cli-{r}") / len(cli_jobs),
    }
    times: dict[str, list[float]] = {m: [] for m in methods}
    order = list(methods)
    for r in range(rounds):
        for m in order[r % len(order):] + order[:r % len(order)]:
            times[m].append(methods[m](r))
            print(f"  {label} round {r + 1}: {m:<4} {times[m][-1]:.3f} s/report", flush=True)
    med = {m: statistics.median(v) for m, v in times.items()}
    print(f"{label}: {n} reports, mkba {workers} workers, pool {pool_workers} processes, {rounds} interleaved "
          f"rounds (cli on {len(cli_jobs)}):")
    for m in methods:
        print(f"  {m:<4} {med[m]:7.3f} s/report  ({med[m] * n:7.1f} s for {n})")
    print(f"  ratio pool/mkba = {med['pool'] / med['mkba']:.1f}x, cli/mkba = {med['cli'] / med['mkba']:.1f}x\n")
    return med


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", choices=["case", "municipal", "fixture", "all"], default="all",
                    help="fixture: the first benchmark's small notebook, 20 reports (issue 12: <= 0,44 s "
                         "per report, 25 %% above its 0,35 s)")
    ap.add_argument("--n", type=int, default=None,
                    help="reports per suite (default: 5 case, 20 municipal, 20 fixture)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--cli-n", type=int, default=3, help="reports for the CLI loop (extrapolated)")
    ap.add_argument("--workers", type=int, default=None, help="default: mkba.render.default_workers() (2 per CPU core + 1)")
    args = ap.parse_args()
    if args.workers is None:
        from mkba.render import default_workers

        args.workers = default_workers()
    os.chdir(ROOT)
    work = Path(tempfile.mkdtemp(prefix="mkba-bench-render-"))
    print(f"cpus: {os.cpu_count()}, load: {os.getloadavg()[0]:.1f}, python: {sys.executable}\n")
    try:
        if args.suite in ("case", "all"):
            compare("case", case_jobs(args.n or 5), workers=args.workers, rounds=args.rounds,
                    cli_n=args.cli_n, work=work)
        if args.suite in ("municipal", "all"):
            compare("municipal", municipal_jobs(args.n or 20), workers=args.workers, rounds=args.rounds,
                    cli_n=args.cli_n, work=work)
        if args.suite in ("fixture", "all"):
            med = compare("fixture", fixture_jobs(args.n or 20), workers=args.workers, rounds=args.rounds,
                          cli_n=args.cli_n, work=work)
            limit = FIXTURE_BASELINE_S * 1.25
            print(f"fixture: mkba {med['mkba']:.3f} s per report against the first benchmark's "
                  f"{FIXTURE_BASELINE_S:.2f} s + 25 % = {limit:.3f} s: "
                  f"{'MET' if med['mkba'] <= limit else 'MISSED'}\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

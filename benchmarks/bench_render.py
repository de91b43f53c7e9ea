"""Benchmark: `mkba render` (render_batch) against the naive papermill + nbconvert CLIs.

Renders the same N reports both ways in one run and prints per-report times and
the ratio.  Also prints `import nbformat` / `import mkba` times in fresh
interpreters.

    .venv/bin/python benchmarks/bench_render.py                       # fixture, 20 reports
    .venv/bin/python benchmarks/bench_render.py --n 20 --workers 2 \\
        --notebook notebooks/business_case.ipynb --params-file cases.json
    .venv/bin/python benchmarks/bench_render.py --naive-n 5            # quicker: naive on 5

--params-file: a JSON (or YAML) list with one parameter mapping per report.
Without it, report i gets {VARY: "<default>-i"} (--vary, default "municipality").
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
FIXTURE = HERE.parent / "tests" / "fixtures" / "notebooks" / "report.ipynb"
BIN = Path(sys.executable).parent


def fresh_import_time(module: str, repeat: int = 5) -> float:
    """Median wall time of `python -c "import MODULE"` minus a bare interpreter start."""
    def run(code: str) -> float:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - t

    base = statistics.median(run("pass") for _ in range(repeat))
    return statistics.median(run(f"import {module}") for _ in range(repeat)) - base


def load_params(args) -> list[dict]:
    if args.params_file:
        text = Path(args.params_file).read_text(encoding="utf-8")
        if args.params_file.endswith((".yaml", ".yml")):
            import yaml

            plist = yaml.safe_load(text)
        else:
            plist = json.loads(text)
        if not isinstance(plist, list) or not all(isinstance(p, dict) for p in plist):
            raise SystemExit("--params-file must hold a list of parameter mappings")
        reps = (args.n + len(plist) - 1) // len(plist)
        return (plist * reps)[: args.n]
    from mkba.render import notebook_parameters

    defaults = notebook_parameters(args.notebook)
    if args.vary not in defaults:
        raise SystemExit(f"--vary {args.vary!r} is not a parameter of {args.notebook}; "
                         f"parameters: {', '.join(defaults)}")
    return [{args.vary: f"{defaults[args.vary]}-{i}"} for i in range(args.n)]


def naive(notebook: Path, params: list[dict], work: Path) -> list[float]:
    """papermill CLI + `jupyter nbconvert --to html` CLI per report, one after another."""
    env = dict(os.environ, MPLBACKEND="module://matplotlib_inline.backend_inline")
    times = []
    for i, p in enumerate(params):
        pfile = work / f"p{i}.json"
        pfile.write_text(json.dumps(p))  # papermill reads JSON with its YAML loader
        out = work / f"naive{i}.ipynb"
        t = time.perf_counter()
        subprocess.run([str(BIN / "papermill"), str(notebook), str(out), "-f", str(pfile),
                        "--no-progress-bar", "-k", "python3", "--cwd", str(notebook.parent)],
                       check=True, env=env, capture_output=True)
        subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)],
                       check=True, env=env, capture_output=True)
        times.append(time.perf_counter() - t)
        print(f"  naive {i + 1:>3}/{len(params)}: {times[-1]:.2f} s", flush=True)
    return times


def with_mkba(notebook: Path, params: list[dict], out: Path, workers: int, mode: str) -> tuple[float, object]:
    from mkba.render import RenderJob, render_batch

    jobs = [RenderJob(name=f"r{i:03d}", notebook=notebook, parameters=p) for i, p in enumerate(params)]
    t = time.perf_counter()
    res = render_batch(jobs, out, workers=workers, kernel_mode=mode)
    return time.perf_counter() - t, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notebook", default=str(FIXTURE))
    ap.add_argument("--params-file")
    ap.add_argument("--vary", default="municipality")
    ap.add_argument("--n", type=int, default=20, help="reports per method (default 20)")
    ap.add_argument("--naive-n", type=int, default=None,
                    help="render only this many the naive way (per-report time is what is compared)")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--modes", default="auto,spawn", help="kernel modes to time, e.g. auto,spawn")
    ap.add_argument("--keep", action="store_true", help="keep the output directory")
    args = ap.parse_args()
    notebook = Path(args.notebook).resolve()
    params = load_params(args)
    work = Path(tempfile.mkdtemp(prefix="mkba-bench-"))
    print(f"notebook: {notebook}\nreports: {len(params)}, workers: {args.workers}, "
          f"cpus: {os.cpu_count()}, python: {sys.executable}\n")

    print("fresh-interpreter import times (median of 5, minus bare start-up):")
    for mod in ("nbformat", "nbclient", "papermill", "nbconvert", "mkba", "mkba.render",
                "mkba.formatting"):
        print(f"  import {mod:<16} {fresh_import_time(mod):6.3f} s")
    print()

    results = {}
    for mode in [m for m in args.modes.split(",") if m]:
        out = work / f"mkba-{mode}"
        total, res = with_mkba(notebook, params, out, args.workers, mode)
        per = total / len(params)
        execs = [e["timings"].get("execute_s", 0) for e in res.entries]
        print(f"mkba render_batch (kernel mode {res.kernel_mode}, {args.workers} workers): "
              f"{total:.2f} s for {len(params)} = {per:.3f} s/report "
              f"(ok {len(res.ok)}, failed {len(res.failed)}; median notebook execution "
              f"{statistics.median(execs):.3f} s)")
        if res.failed:
            print("  first error:", res.entry(res.failed[0])["error"]["summary"])
        results[mode] = per

    nn = args.naive_n or len(params)
    print(f"\nnaive: papermill CLI + jupyter nbconvert CLI, {nn} reports, sequential")
    nt = naive(notebook, params[:nn], work)
    naive_per = sum(nt) / len(nt)
    print(f"naive: {sum(nt):.2f} s for {nn} = {naive_per:.3f} s/report\n")

    print("summary (per report):")
    print(f"  naive                     {naive_per:7.3f} s")
    for mode, per in results.items():
        print(f"  mkba ({mode:<5})              {per:7.3f} s   ratio naive/mkba = {naive_per / per:5.1f}x")
    if args.keep:
        print(f"\noutputs kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

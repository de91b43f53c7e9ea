"""Benchmark: the interactive local case (notebooks/local_case.ipynb), one slider move to new figures.

Times the slider callback's work (``LocalCaseView.update``: apply the slider values to the case read
once, one model run, headline, key-figure table, assumptions table (the rows a move did not change
worded once), the chart's PNG from the one figure kept between moves (the parts no slider moves drawn
once, see ``CashChart.png``)) against the way the view used to refresh (``LocalCaseView.outputs``:
a new figure per move, rendered as the inline backend renders it, tables formatted as the kernel
formats them), interleaved move by move on the notebook's own parameters. Sending the new outputs
to the browser (a few kB over the kernel's websocket) is not included.

    .venv/bin/python benchmarks/bench_slider.py [--moves 40]

Goal (issue 14, point 4): <= 50 ms per move. Prints the median and p90 per method and the ratio;
wall-clock figures depend on the machine's load (printed), so the CPU time of this process (less
sensitive to other processes on the machine, not immune: they share caches and cores) is printed too.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_MS = 50.0


def notebook_view():
    from mkba import views
    from mkba.render import notebook_defaults

    p = notebook_defaults(ROOT / "notebooks" / "local_case.ipynb")
    local = {"cohort.initial_participants": p["participants"], "benefit.cost_per_year": p["benefit_cost_per_year"],
             "effect.work_exit_added": p["work_exit_added"], "programme.staff_fte": p["staff_fte"],
             "programme.cost_per_fte_year": p["cost_per_fte_year"]}
    views.setup(p["lang"])
    return views.LocalCaseView(p["case"], local, p["lang"]), local


def moves(view, local, n):
    """``n`` slider positions: each slider in turn, a few steps up and down within its range."""
    from mkba import views

    base = view.base_case()
    specs = {k: views.slider_spec(base, k, v) for k, v in local.items()}
    out, cur = [], dict(local)
    names = list(local)
    for i in range(n):
        k = names[i % len(names)]
        sp = specs[k]
        step = sp["step"] * (1 + i // len(names)) * (1 if (i // len(names)) % 2 == 0 else -1)
        v = min(max(cur[k] * sp["scale"] + step, sp["min"]), sp["max"])
        cur[k] = v / sp["scale"]
        out.append(dict(cur))
    return out


def old_refresh(view, values):
    """The refresh as it was: new figure, formatted by IPython's inline machinery, tables to HTML."""
    import pandas as pd
    from IPython.core.pylabtools import print_figure
    from matplotlib.figure import Figure

    from mkba.views import keep_amounts_together

    for o in view.outputs(values):
        if isinstance(o, Figure):
            print_figure(o, "png", bbox_inches="tight", base64=True)
        elif isinstance(o, pd.DataFrame):
            keep_amounts_together(o.to_html(notebook=True))
        elif hasattr(o, "_repr_html_"):
            o._repr_html_()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moves", type=int, default=40)
    args = ap.parse_args()
    os.environ.setdefault("MPLBACKEND", "agg")
    from mkba import model

    view, local = notebook_view()
    seq = moves(view, local, args.moves)
    view.update(local), old_refresh(view, local)          # first call: imports, font cache, figure
    runs = {"count": 0}
    real = model.simulate_case

    def counted(*a, **k):
        runs["count"] += 1
        return real(*a, **k)

    t_new, t_old, cpu_new, cpu_old = [], [], [], []
    for i, vals in enumerate(seq):
        pair = [("update", view.update), ("outputs", lambda v: old_refresh(view, v))]
        for name, f in (pair if i % 2 == 0 else pair[::-1]):   # interleaved, alternating order
            model.simulate_case = counted
            runs["count"] = 0
            t, c = time.perf_counter(), time.process_time()
            f(vals)
            dt, dc = (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000
            model.simulate_case = real
            if name == "update":
                t_new.append(dt), cpu_new.append(dc)
                assert runs["count"] <= 1, f"update ran the model {runs['count']} times"
            else:
                t_old.append(dt), cpu_old.append(dc)
    q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))]   # noqa: E731
    print(f"cpus: {os.cpu_count()}, load: {os.getloadavg()[0]:.1f}; case {view.case_name}, {len(seq)} slider moves")
    print(f"update (callback, figure kept):   median {statistics.median(t_new):6.1f} ms, p90 {q(t_new, .9):6.1f} ms; "
          f"model runs per move: 1")
    print(f"outputs (new figure, inline PNG): median {statistics.median(t_old):6.1f} ms, p90 {q(t_old, .9):6.1f} ms")
    print(f"ratio outputs/update: {statistics.median(t_old) / statistics.median(t_new):.2f}x")
    print(f"cpu time (this process), median: update {statistics.median(cpu_new):.1f} ms, "
          f"outputs {statistics.median(cpu_old):.1f} ms, ratio {statistics.median(cpu_old) / statistics.median(cpu_new):.2f}x")
    med = statistics.median(t_new)
    print(f"goal {GOAL_MS:.0f} ms per move: {'MET' if med <= GOAL_MS else 'MISSED'} (median {med:.1f} ms)")
    # where the time goes (one more pass of update, by stage)
    from mkba import views

    st = {"case": [], "model": [], "tables": [], "chart": []}
    for vals in seq[:10]:
        t0 = time.perf_counter(); c = view.case_for(vals)
        t1 = time.perf_counter(); res = views.results(c)
        t2 = time.perf_counter(); views.perspective_figures(c, res); views.both_perspectives_table(c, res, view.lang)
        views.assumptions_table(c, view.lang, cells=view._cells).to_html(notebook=True)
        t3 = time.perf_counter(); view._chart.update(c, res).png(view.LIVE_DPI)
        t4 = time.perf_counter()
        for k, a, b in (("case", t0, t1), ("model", t1, t2), ("tables", t2, t3), ("chart", t3, t4)):
            st[k].append((b - a) * 1000)
    print("update by stage (median ms): " + ", ".join(f"{k} {statistics.median(v):.1f}" for k, v in st.items()))


if __name__ == "__main__":
    sys.exit(main())

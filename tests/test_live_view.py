"""The interactive local case's slider update (LocalCaseView.update): one model run, one figure kept,
the same figures as a fresh static view. Its speed is shown by benchmarks/bench_slider.py, not here."""
from __future__ import annotations

import numpy as np


def test_a_slider_move_recomputes_everything_with_one_model_run_and_one_kept_figure(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from IPython.display import HTML, Image

    from mkba import model, views

    view = views.LocalCaseView("app_zaanstad", {"cohort.initial_participants": 80}, "nl")
    first = view.update({"cohort.initial_participants": 80})
    fig = view._chart.fig
    runs = []
    real = model.simulate_case
    monkeypatch.setattr(model, "simulate_case", lambda *a, **k: runs.append(1) or real(*a, **k))
    moved = view.update({"cohort.initial_participants": 120})
    assert len(runs) == 1                                   # one model run per move
    assert view._chart.fig is fig                           # the figure object is kept
    assert isinstance(moved[3], Image) and moved[3].data != first[3].data   # a new chart
    assert moved[1].data != first[1].data                   # a new headline ...
    monkeypatch.setattr(model, "simulate_case", real)
    # ... equal to what a static view computes for the same values (the base case is read once)
    static = view.outputs({"cohort.initial_participants": 120})
    assert moved[1].data == static[1].data
    assert isinstance(moved[2], HTML) and moved[2].data == views.keep_amounts_together(static[2].to_html(notebook=True))
    assert moved[5].data == views.keep_amounts_together(static[5].to_html(notebook=True))
    # the kept chart shows the same line as a newly drawn one
    np.testing.assert_array_equal(view._chart.line.get_ydata(), static[3].axes[0].lines[0].get_ydata())
    fresh = views.prepare_case("app_zaanstad", {"cohort.initial_participants": 120})
    assert view.case_for({"cohort.initial_participants": 120}).assumptions_hash() == fresh.assumptions_hash()

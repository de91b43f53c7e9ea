"""The interactive local case's slider update (LocalCaseView.update): one model run, one figure kept,
the same figures as a fresh static view. Its speed is shown by benchmarks/bench_slider.py, not here."""
from __future__ import annotations

import numpy as np
import pytest


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


def _pixels(png: bytes):
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _full_draw(chart):
    """The chart drawn whole (every artist, as a report draws it): the reference for the live PNG."""
    from PIL import Image

    canvas = chart.fig.canvas
    canvas.draw()
    return np.asarray(Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA",
                                       0, 1).convert("RGB"))


def _title(chart) -> str:
    return " ".join(chart.ax.get_title(loc) for loc in ("left", "center", "right"))


def test_the_live_chart_changes_on_every_move_and_is_never_stale():
    """The live chart draws the parts no slider moves once (CashChart.png): on every move its pixels are
    new and equal a full draw of the figure, its line and marker equal a newly drawn chart's, and moving
    back gives the first picture again."""
    import dataclasses

    import matplotlib

    matplotlib.use("Agg")
    from mkba import views

    start = {"cohort.initial_participants": 80, "effect.work_exit_added": 0.10}
    view = views.LocalCaseView("app_zaanstad", start, "nl")
    moves = [start,
             {**start, "cohort.initial_participants": 81},     # one step: a small change of the line
             {**start, "cohort.initial_participants": 160},    # the y axis grows
             {**start, "effect.work_exit_added": 0.0},         # no break-even: the marker goes
             {**start, "effect.work_exit_added": 0.20},        # and comes back elsewhere
             start]
    shots = []
    for values in moves:
        png = view.update(values)[3].data
        chart = view._chart
        shots.append(_pixels(png))
        np.testing.assert_array_equal(shots[-1], _full_draw(chart))          # not stale: a full draw
        c = view.case_for(values)
        fresh = views.CashChart("nl", live=True).update(c, views.results(c))
        np.testing.assert_array_equal(chart.line.get_ydata(), fresh.line.get_ydata())
        assert chart.ax.get_ylim() == pytest.approx(fresh.ax.get_ylim(), rel=1e-9)
        assert _title(chart) == _title(fresh)
        assert chart.be_line.get_visible() == fresh.be_line.get_visible()
        if fresh.be_line.get_visible():
            assert list(chart.be_line.get_xdata()) == list(fresh.be_line.get_xdata())
            assert chart.be_text.get_text() == fresh.be_text.get_text()
    for before, after in zip(shots, shots[1:-1]):
        assert (before != after).any(), "the chart did not change on a slider move"
    np.testing.assert_array_equal(shots[-1], shots[0])                        # back to the start: same picture
    # the fixed parts are drawn again when they change (here the title: another perspective)
    c = view.case_for(start)
    c = dataclasses.replace(c, perspective="society")
    chart = view._chart
    np.testing.assert_array_equal(_pixels(chart.update(c, views.results(c)).png(view.LIVE_DPI)), _full_draw(chart))
    assert "perspectief samenleving" in _title(chart)


def test_assumptions_table_is_the_same_with_the_views_kept_rows():
    from mkba import views

    view = views.LocalCaseView("app_zaanstad", {"cohort.initial_participants": 80}, "nl")
    for n in (80, 95, 80):
        c = view.case_for({"cohort.initial_participants": n})
        kept = views.assumptions_table(c, "nl", cells=view._cells)
        new = views.assumptions_table(c, "nl")
        assert kept.equals(new) and kept.attrs == new.attrs
        assert any(str(n) in v for v in kept.iloc[:, 0])          # the moved value is shown

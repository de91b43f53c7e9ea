"""Every report figure fits its picture: no title, label or tick text cut off at the edge, no two
tick labels on top of each other. Reports show figures as drawn (no cropping second pass,
views.setup), so a figure that does not lay itself out is cut off in the report."""
import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from mkba import views  # noqa: E402

CASES = ("fip_sittard_geleen", "app_zaanstad", "buurt_mv_dordrecht", "flextensie_zaanstad", "unit_value_14000")


def _drawn(axis):
    """The tick labels matplotlib draws: those of ticks inside the axis' view interval."""
    lo, hi = sorted(axis.get_view_interval())
    return [t.label1 for t in axis.get_major_ticks()
            if lo - 1e-9 * (hi - lo) <= t.get_loc() <= hi + 1e-9 * (hi - lo) and t.label1.get_visible()
            and t.label1.get_text()]


def _texts(fig):
    out = [fig._suptitle] if fig._suptitle is not None else []
    for ax in fig.axes:
        out += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        out += _drawn(ax.xaxis) + _drawn(ax.yaxis)
    return [t for t in out if t.get_visible() and t.get_text()]


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 - 0.5 and b.x0 < a.x1 - 0.5 and a.y0 < b.y1 - 0.5 and b.y0 < a.y1 - 0.5


def check_fits(fig, what):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not hasattr(fig.canvas, "get_renderer"):   # a pyplot-free Figure (mkba.plots): draw it as the report does
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    W, H = fig.canvas.get_width_height()
    for t in _texts(fig):
        bb = t.get_window_extent(r)
        assert bb.x0 >= -0.5 and bb.x1 <= W + 0.5 and bb.y0 >= -0.5 and bb.y1 <= H + 0.5, \
            f"{what}: text cut off at the figure's edge: {t.get_text()!r} {bb} in {W}x{H}"
    for ax in fig.axes:
        ticks = [t.get_window_extent(r) for t in _drawn(ax.xaxis)]
        for a, b in zip(ticks, ticks[1:]):
            assert not _overlap(a, b), f"{what}: x tick labels run into each other"


@pytest.mark.parametrize("case", CASES)
def test_every_case_report_figure_fits(case):
    import matplotlib.pyplot as plt

    c = views.prepare_case(case)
    res = views.results(c)
    figs = {"cash": views.cumulative_cash_figure(c, res, "nl"), "people": views.caseload_figure(c, res, "nl"),
            "tornado": views.tornado(c, "nl")[1], "scenarios": views.scenarios_view(c, "nl")[3],
            "probabilistic": views.probabilistic_view(c, 500, 1, "nl")[1]}
    try:
        for what, fig in figs.items():
            check_fits(fig, f"{case} {what}")
    finally:
        for fig in figs.values():
            plt.close(fig)


def _png(fig) -> bytes:
    """The PNG the inline backend makes of a report figure (bbox_inches=None, views.setup)."""
    import io

    buf = io.BytesIO()
    fig.canvas.print_figure(buf, format="png", dpi=100, bbox_inches=None)
    return buf.getvalue()


def _municipal_charts(n: int):
    from mkba.municipalities import load_municipalities

    out = []
    for gm in load_municipalities()["gm_code"]:
        c, _facts = views.municipality_case(gm, "fip_sittard_geleen", 0.1, "")
        if c is not None:
            out.append((c, views.results(c)))
        if len(out) == n:
            return out
    return out


def test_a_laid_out_report_figure_is_drawn_once_when_saved(monkeypatch):
    """reporting.tight_layout leaves no layout engine behind: saving draws the figure once, not twice
    (matplotlib's placeholder engine after fig.tight_layout() makes print_figure draw it first without
    output), and the pixels are those of matplotlib's own tight_layout."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    views.setup("nl")
    (c, res), = _municipal_charts(1)
    draws = []
    real = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, r: (draws.append(1), real(self, r))[1])
    fig = views.cumulative_cash_figure(c, res, "nl")
    draws.clear()
    mine = _png(fig)
    assert len(draws) == 1
    fig.tight_layout()                       # matplotlib's own: same layout, placeholder engine left behind
    draws.clear()
    assert _png(fig) == mine
    assert len(draws) == 2
    plt.close("all")


def test_a_restarted_chart_draws_what_a_new_chart_draws():
    """A municipal batch's kernels each update the chart the fork server drew once (report_cash_figure):
    after CashChart.restart, the PNG equals a new chart's byte for byte, whatever the chart drew before."""
    import matplotlib.pyplot as plt

    views.setup("nl")
    charts = _municipal_charts(12)
    assert len(charts) == 12
    used = views.CashChart("nl", live=True)
    for c, res in charts:                    # one chart, updated for every municipality in turn
        fresh = views.cumulative_cash_figure(c, res, "nl")
        assert _png(used.restart().update(c, res).fig) == _png(fresh), c.title
        plt.close(fresh)
    # tight_layout does not reach the same layout from every start: after an odd one, restart still helps
    c, res = charts[0]
    used.fig.subplots_adjust(left=0.45, right=0.6, bottom=0.4, top=0.6)
    fresh = views.cumulative_cash_figure(c, res, "nl")
    assert _png(used.restart().update(c, res).fig) == _png(fresh)
    plt.close(fresh)
    # the prepared chart is taken once; after that a report gets a new pyplot figure
    views._PREPARED_CHARTS["nl"] = used.restart()
    c, res = charts[0]
    assert views.report_cash_figure(c, res, "nl") is used.fig
    assert views.report_cash_figure(c, res, "nl") is not used.fig
    assert "nl" not in views._PREPARED_CHARTS
    plt.close("all")


def test_the_batch_rehearsal_prepares_the_chart_every_kernel_updates():
    """warm_municipal's rehearsal (in the fork server) leaves one restarted chart per language, drawn once,
    which report_cash_figure hands to the forked kernel."""
    import matplotlib.pyplot as plt

    views._PREPARED_CHARTS.clear()
    views.rehearse_municipal("fip_sittard_geleen", 0.1, "nl", n_draws=50, gm_codes=["GM0654"])
    chart = views._PREPARED_CHARTS.get("nl")
    assert isinstance(chart, views.CashChart) and chart._layout_key is None
    (c, res), = _municipal_charts(1)
    fresh = views.cumulative_cash_figure(c, res, "nl")
    assert _png(views.report_cash_figure(c, res, "nl")) == _png(fresh)
    assert not views._PREPARED_CHARTS
    plt.close("all")

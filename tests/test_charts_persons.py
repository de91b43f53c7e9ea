"""Point 8 of issue 15: the caseload chart shows persons as persons and benefit equivalents labelled as such."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np

from mkba import views
from mkba.cases import load_case
from mkba.model import run


def test_caseload_chart_shows_persons_and_labels_benefit_equivalents():
    case = load_case("app_zaanstad")
    table = run(case)
    fig = views.caseload_figure(case, {"table": table}, "nl")
    ax = fig.axes[0]
    lines = {l.get_label(): l for l in ax.get_lines()}
    persons = lines["met aanpak: personen met een (gedeeltelijke) uitkering"]
    beq = lines["met aanpak: uitkeringsequivalenten (volledige uitkeringen)"]
    t = table[table["group"] == "treatment"]
    want = t[t["item"].isin(["on_benefit", "partial_benefit"])].groupby("month")["nominal"].sum().to_numpy()
    np.testing.assert_allclose(persons.get_ydata(), want)
    np.testing.assert_allclose(beq.get_ydata(), t[t["item"] == "benefit_equivalents"].sort_values("month")["nominal"])
    np.testing.assert_allclose(persons.get_xdata(), np.arange(1, case.months + 1))      # end of month
    np.testing.assert_allclose(beq.get_xdata(), np.arange(case.months) + 0.5)          # average in the month
    assert "Personen met een uitkering" in ax.get_title() and "uitkeringsequivalenten" in ax.get_ylabel()


def _ticks(fig, axis="y", i=0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    ax = fig.axes[i]
    return [t.get_text() for t in (ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()) if t.get_text()]


def test_chart_numbers_are_written_in_the_report_language():
    """The € 14.000 case has one person on benefit: its caseload axis runs 0 to 1 in steps of 0,2; a Dutch
    report writes 0,2, an English one 0.2 (matplotlib's own labels were 0.2 in both)."""
    case = load_case("unit_value_14000")
    res = {"table": run(case)}
    nl = _ticks(views.caseload_figure(case, res, "nl"))
    en = _ticks(views.caseload_figure(case, res, "en"))
    assert "0,2" in nl and "1,0" in nl and not any("." in t for t in nl), nl
    assert "0.2" in en and "1.0" in en and not any("," in t for t in en), en


def test_an_english_tornado_writes_its_amounts_as_euros():
    """The English one-way chart showed '200k 300k' (no euro sign) where the Dutch one shows € 200.000."""
    case = load_case("app_zaanstad")
    _table, fig = views.tornado(case, "en", top=3)
    ticks = _ticks(fig, "x")
    assert ticks and all(t.lstrip("-−").startswith("€") for t in ticks), ticks
    assert not any(t.endswith(("k", "M")) for t in ticks), ticks


def test_years_on_an_axis_are_not_grouped():
    """Grouping every number broke the year axis of 'had the approach started in another year': 2.008 / 2,008."""
    case = load_case("fip_sittard_geleen")
    for lang in ("nl", "en"):
        *_rest, fig = views.scenarios_view(case, lang)
        ticks = _ticks(fig, "x")
        assert ticks and all(t.isdigit() and len(t) == 4 for t in ticks), ticks

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

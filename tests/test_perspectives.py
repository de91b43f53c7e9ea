"""Both perspectives carry every headline figure, each defined once (issue 12 point 3, issue 9 point 10).

The societal break-even month is recomputed here from the run's tidy table, by the rule written out
in the test (not by the kernel): societal net per month = the sum over every actor of the treatment
flows minus the control flows (transfers between actors cancel); break-even = the 1-based month after
the last month whose cumulative net is below zero, none if the cumulative net ends below zero.
"""
from __future__ import annotations

import math

import pytest

from mkba.cases import list_cases, load_case
from mkba.model import run, summarise
from mkba.views import perspective_figures


def _break_even_by_hand(table, actors=None) -> float:
    t = table if actors is None else table[table["actor"].isin(actors)]
    by = t.groupby(["month", "group"], observed=True)["nominal"].sum().unstack("group")
    net = (by["treatment"] - by.get("control", 0.0)).sort_index()
    cum, last_negative = 0.0, -1
    for month, x in enumerate(net):
        cum += x
        if cum < -1e-6:
            last_negative = month
    if last_negative == len(net) - 1:
        return math.nan
    return float(last_negative + 2)


@pytest.mark.parametrize("name", [n for n, _ in list_cases()])
def test_societal_break_even_follows_the_societal_cash_flows(name):
    case = load_case(name)
    figs = perspective_figures(case, summarise(case))
    want = _break_even_by_hand(run(case))
    got = figs["society"]["break_even_month"]
    assert (math.isnan(want) and math.isnan(got)) or got == want, (name, got, want)


def test_a_positive_societal_result_has_a_break_even_month():
    """Flextensie's societal NPV is positive: its break-even cannot be 'not within the horizon'."""
    case = load_case("flextensie_zaanstad")
    soc = perspective_figures(case, summarise(case))["society"]
    assert soc["npv_eur"] > 0
    assert not math.isnan(soc["break_even_month"])
    assert soc["programme_cost_eur"] > 0

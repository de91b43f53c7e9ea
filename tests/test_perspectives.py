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


def test_one_case_report_runs_the_other_perspective_once(monkeypatch):
    """A case report asks for both perspectives three times (views.answer, views.both_perspectives_table
    and the key figures at the end of notebooks/business_case.ipynb); the kernel runs for the
    other perspective once per case object, and again only for a changed case."""
    import dataclasses

    from mkba import model, views

    case = load_case("app_zaanstad")
    assert case.perspective == "municipality"
    res = views.results(case)
    runs: list[str] = []
    real = model.evaluate_batch

    def counting(c, *a, **k):
        if not (a and a[0]):               # the perspective runs; the calibration's grid runs are not counted here
            runs.append(c.perspective)
        return real(c, *a, **k)

    monkeypatch.setattr(model, "evaluate_batch", counting)
    # the view calls of notebooks/business_case.ipynb that need both perspectives, in order
    views.answer_markdown(case, res, "nl")
    table = views.both_perspectives_table(case, res, "nl")
    both = views.perspective_figures(case, res)
    views.answer_markdown(case, res, "en")
    assert runs.count("society") == 1, runs
    # the cached figures are the kernel's: the same as a run of the case with only its perspective changed
    fresh = real(dataclasses.replace(case, perspective="society"))
    assert both["society"]["npv_eur"] == float(fresh["npv_eur"][0])
    assert table.iloc[1, 1] == views.eur(float(fresh["npv_eur"][0]), "nl")
    assert both["municipality"]["npv_eur"] == res["metrics"]["npv_eur"]
    # a changed case (a new object, or the same object changed in place) is run again
    staff = case.parameters["programme.staff_fte"]
    other = case.with_overrides({"programme.staff_fte": {"value": staff.value * 2, "unit": staff.unit,
                                                         "date": staff.date, "reference": "assumption: test"}})
    changed = views.perspective_figures(other, views.results(other))["society"]["npv_eur"]
    assert runs.count("society") == 2 and changed != both["society"]["npv_eur"]
    case.parameters = other.parameters
    assert views.perspective_figures(case, res)["society"]["npv_eur"] == changed
    assert runs.count("society") == 3


def test_the_answer_says_when_the_extra_people_off_benefit_are_counted():
    """APP counts its people at the horizon's end (evaluation.month 0, 60 months), FIP in month 20 (its
    published moment): the answer says which, with the figure as the tables show it (one decimal)."""
    from mkba import views

    for name, nl_when, en_when in (("app_zaanstad", "aan het eind van de looptijd (maand 60)",
                                    "at the end of the horizon (month 60)"),
                                   ("fip_sittard_geleen", "in maand 20", "in month 20")):
        case = load_case(name)
        res = views.results(case)
        people = views.number(res["metrics"]["extra_ended_benefits"], "nl", 1)
        nl, en = views.answer_markdown(case, res, "nl"), views.answer_markdown(case, res, "en")
        assert f"{people} extra mensen uit de uitkering {nl_when}" in nl, nl
        assert f"extra people off benefit {en_when}" in en, en


def test_the_answer_names_the_readings_it_rests_on():
    """Next to the headline figures: which readings of an ambiguous source they rest on, by the readings'
    own topics, in the report's language (fails when the answer leaves them out)."""
    from mkba import views

    case = load_case("fip_sittard_geleen")
    res = views.results(case)
    nl, en = views.answer_markdown(case, res, "nl"), views.answer_markdown(case, res, "en")
    head_nl, head_en = nl.split("**Waarom dat verschilt.**")[0], en.split("**Why they differ.**")[0]
    assert f"rusten op {len(case.readings)} keuzes bij het lezen van de bron" in head_nl
    # the topics as the answer writes them: case text, Markdown-escaped (a '(' shows as '\\(')
    assert all(f"‘{views.safe_md(r.topic_nl)}’" in head_nl for r in case.readings)
    assert all(f"‘{views.safe_md(r.topic)}’" in head_en for r in case.readings)


def test_the_answer_says_how_many_of_the_people_are_on_jobs_the_approach_pays_for():
    """Buurt-m/v's extra people off benefit at month 24 are mostly on its own paid contracts (which end
    then): the answer says how many, from the people table; a case without programme contracts says nothing."""
    from mkba import views

    case = load_case("buurt_mv_dordrecht")
    res = views.results(case)
    t = res["table"]
    on_jobs = t[(t["unit"] == "persons") & (t["item"] == "programme_job") & (t["group"] == "treatment")
                & (t["month"] == case.months - 1)]["nominal"].sum()
    assert on_jobs > 5
    nl = views.answer_markdown(case, res, "nl")
    assert f"werken er op dat moment {views.number(on_jobs, 'nl', 1)} mensen op een baan die de aanpak betaalt" in nl
    app = load_case("app_zaanstad")
    assert "baan die de aanpak betaalt" not in views.answer_markdown(app, views.results(app), "nl")


def test_a_case_with_only_transfers_says_so_instead_of_listing_no_items():
    """The € 14.000 rule counts only the benefit, a transfer: the answer says society has no real costs or
    benefits here, not 'de grootste posten zijn –'."""
    from mkba import views

    case = load_case("unit_value_14000")
    nl = views.answer_markdown(case, views.results(case), "nl")
    assert "grootste posten zijn" not in nl and "–." not in nl
    assert "en die heeft deze casus niet" in nl
    fip = load_case("fip_sittard_geleen")
    assert "de grootste posten zijn personeelskosten van de aanpak" in views.answer_markdown(fip, views.results(fip), "nl")


def test_no_programme_cost_means_nothing_to_earn_back():
    """With no programme cost (the € 14.000 rule) the answer does not say 'terugverdiend in maand 1'."""
    from mkba import views

    case = load_case("unit_value_14000")
    nl = views.answer_markdown(case, views.results(case), "nl")
    assert "terugverdiend in maand" not in nl and nl.count("geen programmakosten om terug te verdienen") == 2
    app = load_case("app_zaanstad")
    assert "terugverdiend in maand 12" in views.answer_markdown(app, views.results(app), "nl")


def test_the_answer_says_what_each_other_reading_gives():
    """Next to the headline: the NPV under each other reading of the source (the case's variants), the
    same figure as the variant run on its own: FIP's pilot period alone gives € 26.333, not € 552.489."""
    from mkba import views
    from mkba.model import summarise

    case = load_case("fip_sittard_geleen")
    nl = views.answer_markdown(case, views.results(case), "nl")
    para = next(p for p in nl.split("\n\n") if p.startswith("**Wat een andere lezing geeft.**"))
    for k, v in case.variants.items():
        npv = summarise(load_case("fip_sittard_geleen", variant=k))["metrics"]["npv_eur"]
        assert views.eur(npv, "nl") in para, (k, para)
    assert "‘alleen de pilotperiode van 24 maanden’ € 26.333" in para
    buurt = load_case("buurt_mv_dordrecht")
    assert "**Wat een andere lezing geeft.**" not in views.answer_markdown(buurt, views.results(buurt), "nl")   # no variants


def test_the_variants_table_and_the_answer_read_each_variant_alike():
    """Both show a variant through views.variant_of: the table's row for FIP's pilot period is the € 26.333
    the answer names."""
    from mkba import views

    case = load_case("fip_sittard_geleen")
    table = views.variants_table(case, "nl")
    row = next(i for i in table.index if "pilotperiode" in i)
    assert views.eur(26333.37, "nl") in table.loc[row].to_list()


def test_a_case_that_stops_with_its_paid_jobs_says_what_happens_after():
    """Buurt-m/v runs 24 months, exactly as long as its paid jobs: 5,1 extra people off benefit at month 24,
    5,9 of them on those jobs. Over the comparison's five years the effect reverses (-0,55: the comparison's
    own figure), and the answer says so instead of leaving the month-24 figure as the effect."""
    from mkba import views
    from mkba.compare import compare_cases

    case = load_case("buurt_mv_dordrecht")
    after = float(compare_cases(["buurt_mv_dordrecht"])["extra_ended_benefits"].iloc[0])
    assert after == pytest.approx(-0.55, abs=0.01)
    nl = views.answer_markdown(case, views.results(case), "nl")
    assert "Over vijf jaar gerekend, dus ook na afloop daarvan (zoals in de vergelijking), zijn er dan 0,6 mensen " \
           "méér in de uitkering dan zonder de aanpak." in nl
    fip = load_case("fip_sittard_geleen")       # no paid jobs: nothing to say
    assert "Betaalde banen" not in views.answer_markdown(fip, views.results(fip), "nl")


def test_the_answer_says_how_likely_it_earns_back_while_it_runs():
    """FIP earns back in month 21 at the point estimate, but in under half of the draws within its own 24
    months; the answer gives that chance (draws whose break-even month is 24 or earlier, never = not)."""
    import numpy as np

    from mkba import views
    from mkba.formatting import pct

    case = load_case("fip_sittard_geleen")
    prob, _ = views.probabilistic_view(case, 300, 20191, "nl", figure=False)
    be = np.asarray(prob.values["break_even_month"], dtype=float)
    p = float(np.mean(be <= 24))
    assert 0.3 < p < 0.6 and np.isnan(be).sum() == 0
    nl = views.answer_markdown(case, views.results(case), "nl", prob=prob)
    assert f"De kans dat de aanpak (gemeente) is terugverdiend binnen de 24 maanden dat zij loopt, is {pct(p, 'nl', 0)}." in nl

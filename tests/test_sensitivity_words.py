"""The sensitivity report in words: labels instead of identifiers, no Python warnings printed."""
from __future__ import annotations

import warnings

from mkba import views
from mkba.sensitivity import UnstableIndicesWarning


def test_sobol_view_in_words_and_warnings_become_a_sentence():
    c = views.prepare_case("app_zaanstad")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnstableIndicesWarning)   # none may reach the report
        table = views.sobol_view(c, n=32, lang="nl", top=5)
    assert table.index.name == "Aanname"
    assert "Extra uitstroomkans naar werk door de aanpak" in table.index
    assert not any("." in i and "_" in i for i in table.index)                 # no identifiers
    row = table.loc["Extra uitstroomkans naar werk door de aanpak"]
    # APP's documented range of the added chance (entry spread over year 1: 25-60 pp, data/cases/app_zaanstad.yaml)
    assert row["Gevarieerd van – tot"] == "25,0 procentpunt – 60,0 procentpunt"
    assert " ± " in row["Totale index (ST)"] and "," in row["Totale index (ST)"]
    assert table.attrs["note"].startswith("Let op: met 32 trekkingen per aanname zijn de indices nog onzeker")
    en = views.sobol_view(c, n=32, lang="en", top=5)
    assert en.attrs["note"].startswith("Note: with 32 draws") and "Added chance of leaving for work" in en.index[0]


def test_channel_reasons_in_a_dutch_report_are_kind_and_source():
    c = views.prepare_case("fip_sittard_geleen")
    _cap, nl, raw = views.cycle_channel_view(c, "nl")
    why = nl["Waarom (bron)"].tolist()
    assert raw["why"].str.contains("no seed quantifies").sum() == 0       # the English remark is not shown
    assert all(w.startswith(("aanname", "gekalibreerd", "het model", "lezing", "bron", "afgeleid", "richtlijn",
                             "CBS", "Significant")) for w in why), why
    _cap, en, raw_en = views.cycle_channel_view(c, "en")
    assert raw_en["why"].str.contains("no seed quantifies").sum() == 0    # nor in an English one
    assert raw_en["why"].str.startswith("assumption").any()


def test_two_way_axes_are_labelled_in_words():
    c = views.prepare_case("app_zaanstad")
    figs = views.two_way_figures(c, points=3, lang="nl")
    labels = {ax.get_xlabel() for f in figs for ax in f.axes[:1]} | {ax.get_ylabel() for f in figs for ax in f.axes[:1]}
    assert "Extra uitstroomkans naar werk door de aanpak (procentpunt per jaar)" in labels
    assert not any("." in lab and "_" in lab for lab in labels), labels
    import matplotlib.pyplot as plt

    for f in figs:
        plt.close(f)


def test_two_way_grids_stay_within_the_valid_range_so_no_warning_reaches_the_report():
    """unit_value_14000 has effect.stock_share 1: twice that (2) lies outside [0, 1]; the grid stops at 1
    and the sensitivity report prints no UserWarning (it did, in English, with a file path)."""
    c = views.prepare_case("unit_value_14000")
    assert c.value("effect.stock_share") == 1.0 and not c.value("effect.work_exit_added")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figs = views.two_way_figures(c, points=3, lang="nl")
    assert len(figs) == 4


def test_no_chance_of_earning_back_beyond_the_horizon_is_shown():
    """Buurt-m/v runs 24 months: 'Kans terugverdiend binnen 36 maanden' would be a chance the model does
    not know (a break-even after month 24 is 'not within the horizon')."""
    from mkba import views
    from mkba.cases import load_case

    case = load_case("buurt_mv_dordrecht")
    assert case.months == 24
    res, _ = views.probabilistic_view(case, n=200, figure=False)
    rows = " ".join(res.chances.index)
    assert "binnen 24 maanden" in rows and "binnen 36 maanden" not in rows

"""One definition per figure (issue 12, point 3): the scenario and perspective behind every figure agree."""
from __future__ import annotations

import numpy as np
import pytest

from mkba import views
from mkba.formatting import eur


@pytest.mark.parametrize("scenario", ["", "laagconjunctuur"])
def test_peer_table_is_computed_in_the_headline_scenario(scenario):
    """Leiden (issue 12's example): its own row of the peer table has the headline's NCW."""
    c, facts = views.municipality_case("GM0546", "fip_sittard_geleen", 0.10, scenario)
    headline = views.results(c)["metrics"]["npv_eur"]
    peers, sentence, _table = views.peers_view("fip_sittard_geleen", facts["gm_code"], 0.10, "nl", scenario=scenario)
    assert peers[peers["is_self"]]["npv_eur"].iloc[0] == pytest.approx(headline, abs=1e-6)
    words = "conjunctuur zoals gemeten in 2018" if not scenario else "conjunctuurscenario laagconjunctuur"
    assert f"voor de gemeente, {words}" in sentence
    raw, table = views.municipal_scenarios("fip_sittard_geleen", facts["gm_code"], 0.10, "nl", scenario)
    assert words in table.attrs["note"] and "voor de gemeente" in table.attrs["note"]
    if scenario:   # a named scenario: the same figure in the scenario table too
        row = raw[raw["scenario"] == scenario]
        assert row["npv_eur"].iloc[0] == pytest.approx(headline, abs=1e-6)


def test_the_peer_rule_is_in_the_report_language():
    _p, nl, table = views.peers_view("fip_sittard_geleen", "GM0546", 0.10, "nl")
    assert table.index.name == "Gemeente"
    _p, en, _t = views.peers_view("fip_sittard_geleen", "GM0546", 0.10, "en")
    assert "grootteklasse ‘100.000 tot 150.000 inwoners’ en stedelijkheid" in nl and "size class" not in nl
    assert "size class ‘100,000 to 150,000 inhabitants’ and urbanisation" in en and "inwoners" not in en


def test_a_case_under_a_scenario_says_so_in_every_note():
    c = views.prepare_case("fip_sittard_geleen", scenario="laagconjunctuur")
    assert views.case_scenario(c) == "laagconjunctuur"
    assert views.case_scenario(views.prepare_case("fip_sittard_geleen")) == ""
    assert "conjunctuurscenario laagconjunctuur" in views.headline_note(c, "nl")
    note = views.figures_note(c, "nl")
    assert note.startswith("Perspectief: gemeente.") and "conjunctuurscenario laagconjunctuur" in note
    assert "economic-cycle scenario recession" in views.figures_note(c, "en")


def test_probabilistic_note_gives_point_and_mean_with_perspective_scenario_and_why():
    class Prob:      # draws skewed above the point estimate
        npv = np.array([100_000.0, 200_000.0, 300_000.0, 900_000.0])

    c = views.prepare_case("fip_sittard_geleen", scenario="hoogconjunctuur")
    res = views.results(c)
    note = views.probabilistic_note(c, res, Prob(), "nl")
    point = eur(res["metrics"]["npv_eur"])
    assert note.startswith(f"Netto contante waarde (gemeente, conjunctuurscenario hoogconjunctuur): puntschatting {point}, "
                           "gemiddelde van de trekkingen € 375.000; ")
    assert "het verschil komt doordat de bandbreedtes niet symmetrisch" in note


def _title(ax) -> str:
    """The title wherever the report style puts it (left, centre or right, or over the whole figure)."""
    return ax.figure.get_suptitle() + "".join(ax.get_title(loc) for loc in ("left", "center", "right"))


def test_charts_name_perspective_and_scenario_under_their_title():
    import matplotlib.pyplot as plt

    c = views.prepare_case("fip_sittard_geleen", scenario="laagconjunctuur")
    res = views.results(c)
    cash = views.cumulative_cash_figure(c, res, "nl")
    assert _title(cash.axes[0]) == ("Cumulatief netto resultaat\n"
                                        "perspectief gemeente, conjunctuurscenario laagconjunctuur")
    people = views.caseload_figure(c, res, "en")
    assert _title(people.axes[0]).endswith("\neconomic-cycle scenario recession")
    _t, torn = views.tornado(c, "nl")
    assert _title(torn.axes[0]).endswith("perspectief gemeente, conjunctuurscenario laagconjunctuur")
    for f in (cash, people, torn):
        plt.close(f)


def test_tables_name_perspective_and_scenario_under_them():
    """The per-year table is in the case's perspective, the per-actor table in none; both in one scenario."""
    c = views.prepare_case("fip_sittard_geleen", scenario="laagconjunctuur")
    assert views.table_context(c, "nl").data == "*Deze tabel: perspectief gemeente, conjunctuurscenario laagconjunctuur.*"
    assert views.table_context(c, "en", perspective=False).data == (
        "*This table: per actor (every perspective), economic-cycle scenario recession.*")
    import json
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / "business_case.ipynb").read_text())
    src = ["".join(cell["source"]) for cell in nb["cells"] if cell["cell_type"] == "code"]
    year = next(s for s in src if "per_year_table" in s)
    actor = next(s for s in src if "per_actor_table" in s)
    assert "views.table_context(c, lang)" in year
    assert "views.table_context(c, lang, perspective=False)" in actor

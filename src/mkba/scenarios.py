"""The economic cycle applied to a case: named scenarios and historical replay.

A case's exit chances were measured in one labour market (``measured_in``, e.g. FIP in the
boom of 2018: "in een tijd van hoogconjunctuur", 003_1cff8ea758d15861.txt:2042-2044). A
scenario scales the exit-to-work chances by the cycle index of the scenario relative to the
index of that year (:mod:`mkba.cycle`); a historical replay runs the case as if it had started
in January of a given year, month by month through the index of the years that followed.
"""
from __future__ import annotations

import numpy as np

from .cases import Case
from .model import evaluate_batch

REPLAY_YEARS = tuple(range(2002, 2023))   # start years with data for the index (mkba.cycle)
SCENARIO_ORDER = ("hoogconjunctuur", "gemiddeld", "laagconjunctuur")


def scenario_case(case: Case, name: str) -> Case:
    """The case under a named cycle scenario (multiplier relative to the year it was measured in)."""
    from .cycle import scenario_multiplier, scenarios

    mult = scenario_multiplier(name, reference_year=case.measured_in) * case.value("cycle.multiplier")
    scen = scenarios()[name] if name in scenarios() else None
    years = ", ".join(str(y) for y in scen.years) if scen else ""
    return case.with_overrides({"cycle.multiplier": {
        "value": round(mult, 6), "unit": "ratio", "date": str(case.measured_in),
        "reference": f"mkba.cycle scenario '{name}' (years {years}) relative to {case.measured_in}; "
                     "CBS 81574NED, 37789ksz, 80590ned (data/processed/cycle_index.provenance.json)"}},
        source=f"scenario {name}")


def scenario_table(case: Case):
    """Headline metrics under hoogconjunctuur / gemiddeld / laagconjunctuur (one batch)."""
    import pandas as pd

    from .cycle import scenario_multiplier, scenarios

    scen = scenarios()
    names = [n for n in SCENARIO_ORDER if n in scen]
    mult = np.array([scenario_multiplier(n, reference_year=case.measured_in) for n in names]) * case.value("cycle.multiplier")
    m = evaluate_batch(case, {"cycle.multiplier": mult})
    rows = []
    for i, n in enumerate(names):
        rows.append({"scenario": n, "years": ", ".join(map(str, scen[n].years)), "multiplier": mult[i],
                     **{k: float(m[k][i]) for k in ("extra_ended_benefits", "gross_saving_eur", "programme_cost_eur",
                                                     "net_result_eur", "npv_eur", "bcr", "break_even_month")}})
    return pd.DataFrame(rows)


def replay_table(case: Case, years=REPLAY_YEARS):
    """The case as if it had started in each year: one vectorised batch over start years."""
    import pandas as pd

    from .cycle import multiplier_path

    years = list(years)
    path = np.stack([multiplier_path(y, case.months, reference_year=case.measured_in) for y in years], axis=1)
    m = evaluate_batch(case, {"cycle.multiplier": np.full(len(years), case.value("cycle.multiplier"))}, cycle_path=path)
    frame = pd.DataFrame({"start_year": years, "mean_multiplier": path.mean(axis=0)})
    for k in ("extra_ended_benefits", "gross_saving_eur", "net_result_eur", "npv_eur", "bcr", "break_even_month"):
        frame[k] = m[k]
    return frame

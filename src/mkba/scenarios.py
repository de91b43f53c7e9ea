"""The economic cycle applied to a case: named scenarios, historical replay, and which channels move.

A case's exit chances were measured in one labour market (``measured_in``, e.g. FIP in the
boom of 2018: "in een tijd van hoogconjunctuur", 003_1cff8ea758d15861.txt:2042-2044). A
scenario scales the exit chances by the labour-market cycle index (:mod:`mkba.cycle`; the
composition of the caseload is not in it) of the scenario year relative to the index of that
year, through the model's ``cycle.multiplier`` parameter; a historical replay runs the case as
if it had started in January of a given year (2008-2023 by default), month by month through the
observed quarterly index, through the ``cycle_path`` argument of
:func:`mkba.model.evaluate_batch`. How far each exit channel follows the multiplier is the
model's business: every parameter ``*.cycle_sensitivity`` of the case is a channel's
sensitivity ``s``; a channel that finds work is scaled by ``1 + s (m - 1)``, one that loses it
(returns, drop-outs, dismissals) by ``1 - s (m - 1)`` (:func:`channel_table` shows them; the
exit-to-work chance of people on benefit follows ``m`` fully).
"""
from __future__ import annotations

import numpy as np

from .cases import Case
from .model import evaluate_batch

#: Default start years of the historical replay: the years with quarterly observed data (82662NED).
REPLAY_YEARS = tuple(range(2008, 2024))
SCENARIO_ORDER = ("hoogconjunctuur", "gemiddeld", "laagconjunctuur")
METRICS = ("extra_ended_benefits", "gross_saving_eur", "programme_cost_eur", "net_result_eur", "npv_eur", "bcr",
           "break_even_month")

#: The channel the cycle always acts on fully (the baseline and its multiplier in mkba.cohort).
BASE_CHANNEL = "baseline.work_exit_rate"
#: Channels that *lose* work (returns to benefit, drop-outs, dismissals) rise in a downturn: the
#: model scales them by ``1 - s (m - 1)`` instead of ``1 + s (m - 1)`` (both floored at 0). A
#: sensitivity whose name holds one of these words is such a channel.
LOSING_WORDS = ("return", "dropout", "dismiss")
#: Dutch/English descriptions of known channels; others are described by their schema text.
CHANNEL_TEXT = {
    BASE_CHANNEL: {"nl": "uitstroom naar werk vanuit de uitkering (nulalternatief en deelnemers)",
                   "en": "exit to work from benefit (null alternative and participants)"},
    "effect.cycle_sensitivity": {"nl": "extra uitstroom naar werk door de aanpak",
                                 "en": "added exit to work from the approach"},
    "effect.stock_cycle_sensitivity": {"nl": "eenmalig bestandseffect (onrechtmatigheid gevonden)",
                                       "en": "one-off stock effect (eligibility found)"},
    "baseline.return_cycle_sensitivity": {"nl": "terugval van werk naar uitkering",
                                          "en": "returns from work to benefit"},
    "baseline.partial_to_work_cycle_sensitivity": {"nl": "van deeltijdwerk naar volledig uit de uitkering",
                                                   "en": "from part-time work to fully off benefit"},
    "jobs.placement_cycle_sensitivity": {"nl": "plaatsing op een werkplek van de aanpak",
                                         "en": "placement in a programme job"},
    "jobs.to_work_cycle_sensitivity": {"nl": "doorstroom van werkplek naar regulier werk",
                                       "en": "move from a programme job to regular work"},
    "jobs.dropout_cycle_sensitivity": {"nl": "uitval en ontslag van een werkplek",
                                       "en": "drop-out and dismissal from a programme job"},
}


def loses_work(channel: str) -> bool:
    """True for a channel that loses work (returns, drop-outs, dismissals): it rises in a downturn."""
    return any(w in channel for w in LOSING_WORDS)


def channel_factor(channel: str, sensitivity: float, multiplier: float) -> float:
    """The factor on a channel's chance under cycle multiplier ``m``: ``1 + s (m - 1)`` for channels that
    find work, ``1 - s (m - 1)`` for channels that lose it, floored at 0 (as the model applies them)."""
    sign = -1.0 if loses_work(channel) else 1.0
    return max(0.0, 1.0 + sign * sensitivity * (multiplier - 1.0))


def _check_measured_in(case: Case) -> None:
    """A case whose ``measured_in`` lies outside the index: error naming the case file, value, range, closest."""
    from .cycle import index_for_year
    from .errors import InputError

    try:
        index_for_year(case.measured_in)
    except InputError as exc:
        raise InputError(exc.problem + " of the cycle index", file=case.source_file or case.name,
                         field="measured_in", value=case.measured_in, fix=exc.fix) from None


def scenario_multipliers(case: Case) -> dict[str, float]:
    """``{scenario: multiplier}`` for the case, relative to its ``measured_in`` year, times its own
    ``cycle.multiplier``."""
    from .cycle import scenario_multiplier

    _check_measured_in(case)
    own = case.value("cycle.multiplier")
    return {n: scenario_multiplier(n, reference_year=case.measured_in) * own for n in SCENARIO_ORDER}


def scenario_case(case: Case, name: str) -> Case:
    """The case under a named cycle scenario (multiplier relative to the year it was measured in)."""
    from .cycle import resolve_scenario, scenario_multiplier

    scen = resolve_scenario(name)
    _check_measured_in(case)
    mult = scenario_multiplier(scen.name, reference_year=case.measured_in) * case.value("cycle.multiplier")
    years = _years_text(scen.years)
    return case.with_overrides({"cycle.multiplier": {
        "value": float(mult), "unit": "ratio", "date": str(case.measured_in),
        "reference": f"mkba.cycle scenario '{scen.name}' (index of {years}) relative to {case.measured_in}; "
                     "CBS 81574NED, 37789ksz, 83450/83747/84066NED, 82662NED, 83426NED, 85617NED, 80590ned "
                     "(data/processed/cycle_index.provenance.json)"}},
        source=f"scenario {scen.name}")


def _years_text(years) -> str:
    years = list(years)
    if len(years) > 3 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}"
    return ", ".join(map(str, years))


def scenario_table(case: Case):
    """Headline metrics under hoogconjunctuur / gemiddeld / laagconjunctuur (one batch).

    Columns: scenario, years (source years of the scenario index), scenario_index, measured_in,
    measured_index (index of the case's measured year), multiplier (their ratio times the case's own
    ``cycle.multiplier``) and the headline metrics.
    """
    import pandas as pd

    from .cycle import index_for_year, scenarios

    scen = scenarios()
    mult = scenario_multipliers(case)
    names = list(mult)
    m = evaluate_batch(case, {"cycle.multiplier": np.array([mult[n] for n in names])})
    ref = index_for_year(case.measured_in) if case.measured_in is not None else 1.0
    rows = []
    for i, n in enumerate(names):
        rows.append({"scenario": n, "years": _years_text(scen[n].years), "scenario_index": scen[n].multiplier,
                     "measured_in": case.measured_in, "measured_index": ref, "multiplier": mult[n],
                     **{k: float(m[k][i]) for k in METRICS}})
    return pd.DataFrame(rows)


def channel_sensitivities(case: Case) -> dict[str, float]:
    """Every exit channel of the case with its cycle sensitivity: the baseline exit to work (1.0, by
    construction of the model) and every ``*.cycle_sensitivity`` parameter the case has."""
    out = {BASE_CHANNEL: 1.0}
    for key in sorted(case.values):
        if key.endswith("cycle_sensitivity"):
            out[key] = float(case.values[key])
    return out


def channel_table(case: Case, lang: str = "nl"):
    """Which exit channels move under each scenario, by how much, and why.

    One row per channel: parameter, description, sensitivity ``s``, the channel's factor under each
    scenario (:func:`channel_factor`), and the reference of ``s`` (why).
    """
    import pandas as pd

    mult = scenario_multipliers(case)
    rows = []
    for key, s in channel_sensitivities(case).items():
        text = CHANNEL_TEXT.get(key)
        if text is None:
            from .schema import SCHEMA

            spec = SCHEMA.get(key)
            desc = getattr(spec, "description", key) if spec is not None else key
        else:
            desc = text["nl" if lang == "nl" else "en"]
        if key == BASE_CHANNEL:
            why = ("het model vermenigvuldigt deze kans met de conjunctuurfactor" if lang == "nl"
                   else "the model multiplies this chance by the cycle factor")
        else:
            p = case.parameters.get(key)
            why = getattr(p, "reference", "") if p is not None else ""
        row = {"channel": key, "description": desc, "sensitivity": s}
        for n, m in mult.items():
            row[n] = channel_factor(key, s, m)
        row["why"] = why
        rows.append(row)
    return pd.DataFrame(rows)


def replay_table(case: Case, years=REPLAY_YEARS):
    """The case as if it had started in each year: one vectorised batch over start years.

    Columns: start_year, mean_multiplier (over the horizon), first_year_multiplier, measured_in,
    path_source (``quarterly`` from 2008, else ``yearly``), beyond_data (the horizon runs past
    the last data quarter, where the multiplier is 1.0) and the headline metrics.
    """
    import pandas as pd

    from .cycle import QUARTERLY_FROM, _quarter_data, multiplier_path

    years = [int(y) for y in years]
    _check_measured_in(case)
    path = np.stack([multiplier_path(y, case.months, reference_year=case.measured_in) for y in years], axis=1)
    m = evaluate_batch(case, {"cycle.multiplier": np.full(len(years), case.value("cycle.multiplier"))}, cycle_path=path)
    last_q = max(_quarter_data())
    frame = pd.DataFrame({"start_year": years, "mean_multiplier": path.mean(axis=0),
                          "first_year_multiplier": path[:12].mean(axis=0), "measured_in": case.measured_in,
                          "path_source": ["quarterly" if y >= QUARTERLY_FROM[0] else "yearly" for y in years],
                          "beyond_data": [(y + (case.months - 1) // 12, 4) > last_q for y in years]})
    for k in ("extra_ended_benefits", "gross_saving_eur", "net_result_eur", "npv_eur", "bcr", "break_even_month"):
        frame[k] = m[k]
    return frame


def downturn_gain(case: Case) -> dict[str, tuple[float, float]]:
    """``{perspective: (NPV gemiddeld, NPV laagconjunctuur)}`` for the municipality and society (one batch each)."""
    import dataclasses

    mult = scenario_multipliers(case)
    grid = {"cycle.multiplier": np.array([mult["gemiddeld"], mult["laagconjunctuur"]])}
    out = {}
    for persp in ("municipality", "society"):
        m = evaluate_batch(dataclasses.replace(case, perspective=persp), grid)
        out[persp] = (float(m["npv_eur"][0]), float(m["npv_eur"][1]))
    return out


#: NPV gains below this are rounding, not a downturn improving the case (EUR)
DOWNTURN_TOLERANCE_EUR = 1.0


def downturn_check(case: Case) -> str | None:
    """A warning when laagconjunctuur gives a higher NPV than gemiddeld (either perspective) and no reading
    of the case says why (``downturn_improves: true``); None otherwise. Issue 9: a downturn never
    improves a case unless the case says why."""
    if any(getattr(r, "downturn_improves", False) for r in case.readings):
        return None
    worse = {p: v for p, v in downturn_gain(case).items() if v[1] > v[0] + DOWNTURN_TOLERANCE_EUR}
    if not worse:
        return None
    parts = ", ".join(f"{p} NPV {v[1]:,.0f} under laagconjunctuur against {v[0]:,.0f} under gemiddeld"
                      for p, v in worse.items())
    return (f"a downturn improves the case ({parts}) and no reading says why: add a reading with "
            f"downturn_improves: true that explains the mechanism (e.g. an effect that does not depend on the "
            f"labour market against a null alternative that does), or give the channel a cycle sensitivity")

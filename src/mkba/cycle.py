"""Economic-cycle index for outflow from bijstand to work, scenarios and historical replay.

What is measured
----------------
Two things move the share of bijstand recipients who leave in a year, and this module keeps
them apart, in the method and in the data (``data/processed/cycle_index.csv``):

* the **labour-market cycle** -- what the exit chance of a *comparable* group (a caseload of
  fixed make-up) does in good and bad years. This is the ``index`` column, 1.0 in the average
  year; it is the only thing the model's ``cycle.multiplier`` / ``cycle_path`` carry;
* the **composition** of the caseload -- who is on benefit: a caseload with many recent
  entrants leaves faster than one of long-term recipients. This is the ``composition_factor``
  column (1.0 for the average make-up 2008-2023). It belongs to the case (its baseline rates
  were measured on its own caseload), so it is *not* in the scenarios or the replay.

Observed rate = level x composition_factor x cycle. Between 2013-2015 and 2023 the all-reason
outflow fell from 0.29 to 0.18 a year while unemployment fell: the share of recent entrants in
the caseload halved (0.36 -> 0.21), which the composition term carries, instead of the cycle.

Method (every step is code below; results in ``data/processed/cycle_index.csv``,
``cycle_index_quarterly.csv`` and ``cycle_index.provenance.json``)
-------------------------------------------------------------------------------------------
1. **Observed outflow-to-work rate** (persons leaving for work / caseload):
   (a) Sept-to-Sept windows 2001/02-2014/15: CBS 81574NED ``Bijstandsuitkering_6`` row
   *Inkomsten uit arbeid totaal* over the mean of the 12 monthly caseloads Oct(t-1)-Sep(t) of
   37789ksz ``BijstandsuitkeringenTotDeAOWLeeftijd_12`` (window labelled t);
   (b) calendar years 2015-2017: the Nederland rows of the municipal tables 83450NED /
   83747NED / 84066NED (``UitstroomNaarWerk_9``, % of recipients). Their definition differs,
   so they are put on the 81574NED scale by the ratio of the two in the one year both have
   (2015, :func:`_definition_ratio`); 2015 itself then checks the ratio, 2016-2017 are new
   observations.
2. **Observed all-reason outflow rate** 2008-2023, per quarter and per year: CBS 82662NED
   ``Uitstromers_3`` (persons up to AOW age leaving bijstand) over the mean stock of the
   months of the period in 83426NED ``BijstandsuitkeringTotDeAOWLeeftijd_6``.
3. **Composition** (duration mix, a shift-share with fixed group rates): ``s`` = recent-entrant
   share = inflow in the year (82662NED ``Instromers_1``) / mean stock (83426NED); for the
   windows before 2008 the 81574NED inflow (``Bijstandsuitkering_3``) over the window caseload,
   put on the 82662NED scale by the ratio of the means over the overlap 2008-2015. Group exit
   rates, fixed at their 2012-2023 mean: recent entrants ``e_new`` = persons whose benefit
   ended within a year of its start (85617NED, duration *0 tot 6* + *6 tot 12 maanden*) /
   inflow; longer-term ``e_long`` = the other ended benefits / (stock - inflow).
   ``composition_factor(t) = (e_new s_t + e_long (1 - s_t)) / (e_new s_ref + e_long (1 - s_ref))``
   with ``s_ref`` the mean of ``s`` over 2008-2023. Only the *shares* move; the group rates do
   not, so the factor holds no cycle. Assumption (stated in the provenance): recent entrants'
   advantage ``e_new / e_long`` applies to exits to work as to all exits.
4. **Cycle drivers.** Unemployment ``u`` (% of the labour force 15-75): CBS 80590ned
   ``NietSeizoengecorrigeerd_7`` yearly 2003-2024 (quarterly: ``Seizoengecorrigeerd_8``);
   before 2003 back-cast from 83752NED ``Werkloosheidspercentage_5`` (OLS on the overlap).
   ``du`` = change on a year earlier. Window drivers ``x_w(t) = 0.25 x(t-1) + 0.75 x(t)``.
   GDP growth (85880NED) is a candidate driver.
5. **Cycle fit.** ``log(rate_work / composition_factor) = c0 + c1 u + c2 du`` by OLS on every
   observed to-work year (14 windows + 2016, 2017). The specification (:data:`MODEL_SPEC`) has
   the lowest leave-one-year-out error of the candidates without GDP (:data:`CANDIDATE_SPECS`,
   table in the provenance). Specifications with GDP growth fit the estimation years somewhat
   better (``u+g``: 1.55 against 1.87 pp) but would carry the lockdown swings of 2020-2021
   (-3.9 %, +6.2 %) into the index, which bijstand outflow did not show (all-reason 0.20 and
   0.23); GDP stays a reported candidate.
6. **Index** ``= exp(c1 u + c2 du)`` over its mean over :data:`REFERENCE_PERIOD` (2002-2024),
   per calendar year and per quarter (quarterly seasonally adjusted ``u``, ``du`` on the same
   quarter a year earlier, same normaliser). No clipping: years whose drivers lie outside the
   estimation range are flagged ``extrapolated`` and checked by step 7.
7. **Checks against every observed year** (tolerances :data:`TOLERANCE_WORK_PP`,
   :data:`TOLERANCE_ALL_PP`, in the provenance ``checks``): the modelled to-work rate
   ``exp(c0) x composition_factor x cycle`` against each observed to-work year, in sample and
   leave-one-year-out (the fit redone without that year); the all-reason rate 2008-2023 against
   ``level x composition_factor x exp(g1 u + g2 du)`` (its own OLS, same drivers), in sample and
   leave-one-year-out; and the seeds' national rates 2007, 2008, 2013, 2014. Finding: all-reason
   outflow barely moves with unemployment once composition is in (``g1`` about +0.05): exits
   for other reasons (partner, moving, eligibility) dominate it and drifted down; this is why
   the index is fitted on exits *to work*, and why the all-reason check has a wider tolerance.

Scenarios (:func:`scenarios`)
-----------------------------
Defined from the observed years of the index (2002-2024): *hoogconjunctuur* (boom) = the year
with the highest index, *laagconjunctuur* (downturn) = the year with the lowest, *gemiddeld*
(average) = 1.0, the mean year. A case measured in year R gets ``index[scenario] / index[R]``,
so for every measured year boom >= 1 >= downturn (equality only if R is itself the extreme):
a boom never makes a case worse than the year it was measured in.

Historical replay (:func:`multiplier_path`)
-------------------------------------------
One multiplier per month for a case starting in January of a start year 2002-2023: months in
the quarters with quarterly data (2008 Q1 onward, :data:`QUARTERLY_FROM`) take the quarter's
index, earlier months their calendar year's; months after the last data quarter take 1.0 (the
long-run average: no forecast). Relative to the measured year as the scenarios are.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from . import cbs
from .errors import InputError, closest

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

# ---------------------------------------------------------------------------------------------
# constants, each with its home
# ---------------------------------------------------------------------------------------------
SEED_FILE = "000_7f82048ff02a2552.txt"

#: National outflow-to-work % per year as stated in the seed (share of the WWB population).
#: "In 2007 en 2008 ... bedroeg het uitstroompercentage 15 en 12 procent. In 2013 en 2014
#: daalde het uitstroompercentage naar 7 en 8 procent."
SEED_ANCHORS: dict[int, float] = {2007: 0.15, 2008: 0.12, 2013: 0.07, 2014: 0.08}
SEED_ANCHORS_REF = f"{SEED_FILE}:112-114"

#: "Tussen 2007 en 2014 stroomde jaarlijks een kleine 10 procent van de WWB-populatie uit naar
#: werk." ("een kleine" = slightly under).
SEED_AVERAGE_2007_2014 = 0.10
SEED_AVERAGE_REF = f"{SEED_FILE}:110"

#: Years the index covers and the average ("gemiddeld" = 1.0) is taken over.
REFERENCE_PERIOD = (2002, 2024)
#: Valid start years for a historical replay.
REPLAY_START_YEARS = (2002, 2023)
#: First quarter of the quarterly path (the quarterly flow data 82662NED start in 2008 Q1).
QUARTERLY_FROM = (2008, 1)
#: Years over which the composition reference (s_ref) and the group exit rates are averaged.
COMPOSITION_REFERENCE = (2008, 2023)
GROUP_RATE_YEARS = (2012, 2023)        # 85617NED by duration covers 2012-2023
#: Overlap years used to put the 81574NED inflow share on the 82662NED scale.
INFLOW_OVERLAP = (2008, 2015)

#: Share of a Sept(t-1)-Sept(t) window that lies in calendar year t (Jan-Sep = 9 of 12 months).
WINDOW_SHARE_END_YEAR = 9 / 12

#: Regression covariates (module docstring, step 5).
MODEL_SPEC: tuple[str, ...] = ("u", "du")
CANDIDATE_SPECS: tuple[tuple[str, ...], ...] = (("u",), ("g",), ("u", "g"), ("u", "du"), ("u", "g", "du"))

#: Stated tolerances for reproducing observed years (percentage points of the rate).
#: To-work rate (level 7-16 %): every observed year within 3.0 pp in sample and 4.0 pp
#: leave-one-year-out. Largest misses (build of Dec 2026): 2008 window -2.6 pp (a peak the
#: log-linear fit flattens) and 2017 +2.8 pp (+3.9 left out): the duration mix explains only
#: part of the 2016-2017 shortfall (the rest is make-up this data cannot split: age, origin).
TOLERANCE_WORK_PP = 3.0
TOLERANCE_WORK_LOO_PP = 4.0
#: All-reason rate (level 18-32 %): every year 2008-2023 within 7 pp in sample, 7.5 pp left
#: out. Largest: 2008 (-6.6 pp: pre-crisis outflow above any later year) and 2023 (+3.1 pp).
TOLERANCE_ALL_PP = 7.0
TOLERANCE_ALL_LOO_PP = 7.5

#: Scenario names and English labels.
SCENARIO_LABELS = {"hoogconjunctuur": "boom", "gemiddeld": "average", "laagconjunctuur": "downturn"}

CSV_NAME = "cycle_index.csv"
QUARTERLY_CSV_NAME = "cycle_index_quarterly.csv"
PROVENANCE_NAME = "cycle_index.provenance.json"

METHOD_STEPS = [
    "1. Observed outflow-to-work rate: (a) Sept(t-1)-Sept(t) windows 2002-2015 = 81574NED Bijstandsuitkering_6 "
    "('Inkomsten uit arbeid totaal') / mean of 37789ksz BijstandsuitkeringenTotDeAOWLeeftijd_12 Oct(t-1)-Sep(t); "
    "(b) calendar 2015-2017 = UitstroomNaarWerk_9 (Nederland, 15+) of 83450NED/83747NED/84066NED, divided by "
    "their ratio to (a) in 2015, the overlap year.",
    "2. Observed all-reason outflow rate 2008-2023 per quarter and year = 82662NED Uitstromers_3 / mean monthly "
    "stock 83426NED BijstandsuitkeringTotDeAOWLeeftijd_6.",
    "3. Composition (duration mix, shift-share at fixed group rates): s = inflow (82662NED Instromers_1; before "
    "2008 81574NED Bijstandsuitkering_3 over the window caseload, rescaled on 2008-2015) / mean stock; "
    "e_new = ended within a year (85617NED 0-6 + 6-12 months) / inflow, e_long = other ended / (stock - inflow), "
    "both averaged 2012-2023; composition_factor = (e_new s + e_long (1-s)) / (same at the 2008-2023 mean s).",
    "4. Unemployment u: 80590ned NietSeizoengecorrigeerd_7 (yearly) / Seizoengecorrigeerd_8 (quarterly), 15-75; "
    "before 2003 back-cast from 83752NED; du = change on a year earlier; window drivers 0.25 x(t-1) + 0.75 x(t).",
    "5. OLS log(rate_work / composition_factor) = c0 + c1 u + c2 du on every observed to-work year "
    "(lowest leave-one-year-out error of the candidates).",
    "6. index = exp(c1 u + c2 du) / its mean over 2002-2024 (gemiddeld = 1.0); per year and per quarter; "
    "no clipping, years outside the estimation range flagged 'extrapolated'.",
    "7. Checks: every observed to-work year and every all-reason year 2008-2023 (own OLS on the same drivers and "
    "the same composition factor) reproduced within the stated tolerance, in sample and leave-one-year-out; "
    "seed national rates 2007/2008/2013/2014.",
    "8. Scenarios: hoogconjunctuur = year with the highest index, laagconjunctuur = lowest, gemiddeld = 1.0; "
    "applied relative to the case's measured_in year.",
    "9. Replay: quarterly index from 2008 Q1, yearly before; after the last data quarter 1.0 (no forecast).",
]

# CBS sources: table id, row filter, column, unit, use.
SRC_OUTFLOW = {
    "table": "81574NED",
    "filter": {"Geslacht": "Totaal mannen en vrouwen", "Leeftijd": "Totaal leeftijd",
               "Herkomstgroepering": "Totaal herkomst"},
    "row_work": {"InkomstenbronVoorInstrOfNaUitstr": "Inkomsten uit arbeid totaal"},
    "row_all": {"InkomstenbronVoorInstrOfNaUitstr": "Inkomsten uit alle bronnen"},
    "column": "Bijstandsuitkering_6",
    "column_inflow": "Bijstandsuitkering_3",
    "unit": "x1000 persons entering (_3) / leaving (_6) bijstand per Sept-Sept window, by income source",
}
SRC_CASELOAD = {
    "table": "37789ksz",
    "column": "BijstandsuitkeringenTotDeAOWLeeftijd_12",
    "column_total": "TotaalBijstandsuitkeringen_11",
    "unit": "x1000 bijstand benefits (monthly rows; yearly rows = year average)",
}
SRC_FLOWS = {
    "table": "82662NED_totals",
    "filter": {"Geslacht": "Totaal mannen en vrouwen", "Leeftijd": "Totaal", "Migratieachtergrond": "Totaal"},
    "inflow": "Instromers_1", "reinflow": "HerinstromersBinnenEenJaar_2", "outflow": "Uitstromers_3",
    "unit": "persons per quarter entering / re-entering within a year / leaving bijstand, up to AOW age "
            "(2008 Q1-2023 Q4; 2022-2023 provisional); extract of 82662NED (totals rows only)",
}
SRC_STOCK = {
    "table": "83426NED",
    "column": "BijstandsuitkeringTotDeAOWLeeftijd_6",
    "unit": "persons with bijstand up to AOW age, monthly 2007-2024",
}
SRC_UNEMPLOYMENT = {
    "table": "80590ned",
    "filter": {"Geslacht": "Totaal", "Leeftijd": "52052"},
    "column": "NietSeizoengecorrigeerd_7",
    "column_quarterly": "Seizoengecorrigeerd_8",
    "unit": "% of labour force 15-75 (Leeftijd key 52052); yearly not seasonally adjusted, quarterly adjusted",
}
SRC_UNEMPLOYMENT_OLD = {
    "table": "83752NED",
    "filter": {"Geslacht": "Totaal mannen en vrouwen", "Persoonskenmerken": "Totaal personen"},
    "column": "Werkloosheidspercentage_5",
    "unit": "% of labour force (older definition), 1969-2021",
}
SRC_GDP = {
    "table": "85880NED",
    "filter": {"SoortMutaties": "Volume, t.o.v. zelfde periode vorig jaar"},
    "column": "BrutoBinnenlandsProduct_2",
    "unit": "% volume growth on the previous year",
}
SRC_ENDED = {
    "table": "85617NED",
    "filter": {"Geslacht": "Totaal mannen en vrouwen", "Leeftijd": "Totaal", "Herkomstland": "Totaal",
               "GeboortelandOuders": "Totaal"},
    "duration": "DuurVanDeUitkeringssituatie",
    "within_year": ("0 tot 6 maanden", "6 tot 12 maanden"),
    "column": "PersonenVanWieBijstandIsBeeindigd_1",
    "unit": "persons whose bijstand ended in the year, by duration; TRUNCATED file, rows used complete",
}
#: National outflow-to-work % in the municipal social-security tables (Nederland row).
SRC_REGIONAL_NL = {
    2015: {"table": "83450NED", "region_col": "RegioS", "column": "UitstromersNaarWerk_9"},
    2016: {"table": "83747NED", "region_col": "Regiokenmerken", "column": "UitstroomNaarWerk_9"},
    2017: {"table": "84066NED", "region_col": "Regiokenmerken", "column": "UitstroomNaarWerk_9"},
}

COLUMNS = {
    "year": "calendar year",
    "unemployment_rate": "unemployment % (80590ned NietSeizoengecorrigeerd_7; before 2003 back-cast from 83752NED)",
    "unemployment_source": "which table the unemployment figure comes from",
    "unemployment_change": "unemployment % minus the previous year's (pp)",
    "gdp_volume_growth": "GDP volume growth % (85880NED BrutoBinnenlandsProduct_2); candidate driver, not in the model",
    "index": "labour-market cycle: exp(c1 u + c2 du) / its 2002-2024 mean (gemiddeld = 1.0); what the model uses",
    "extrapolated": "True where u or du lies outside the range of the estimation years",
    "recent_entrant_share": "inflow in the year / mean stock (82662NED/83426NED; before 2008 81574NED rescaled)",
    "composition_factor": "exit chance of this year's caseload make-up at fixed group rates / the 2008-2023 mean make-up",
    "observed_work_rate": "observed outflow-to-work rate (window t for 2002-2015; municipal tables 2016-2017 "
                          "on the 81574NED scale)",
    "observed_work_source": "which observation observed_work_rate is",
    "modelled_work_rate": "exp(c0) x composition_factor x exp(c1 u + c2 du) with the observation's drivers",
    "modelled_work_rate_loo": "the same, fitted without this year (leave-one-year-out)",
    "modelled_work_rate_calendar": "modelled to-work rate with calendar-year drivers (the seed comparison)",
    "observed_all_rate": "all-reason outflow / mean stock in the calendar year (82662NED / 83426NED)",
    "modelled_all_rate": "level x composition_factor x exp(g1 u + g2 du) (own OLS, same drivers)",
    "modelled_all_rate_loo": "the same, fitted without this year",
    "outflow_to_work_k": "outflow to work in the Sept(t-1)-Sept(t) window, x1000 (81574NED Bijstandsuitkering_6)",
    "outflow_total_k": "all outflow in the window, x1000 (81574NED Bijstandsuitkering_6, all sources)",
    "inflow_window_k": "inflow in the window, x1000 (81574NED Bijstandsuitkering_3)",
    "caseload_window_k": "mean benefits below AOW age Oct(t-1)-Sep(t), x1000 (37789ksz)",
    "observed_rate_window": "outflow_to_work_k / caseload_window_k",
    "inflow_persons": "inflow in the calendar year (82662NED Instromers_1)",
    "outflow_persons": "outflow in the calendar year (82662NED Uitstromers_3)",
    "stock_persons": "mean monthly persons with bijstand up to AOW age (83426NED)",
    "ended_benefits": "persons whose bijstand ended (85617NED, all durations)",
    "ended_within_year": "of which within a year of the start (85617NED 0-6 + 6-12 months)",
    "scenario": "hoogconjunctuur / laagconjunctuur for the extreme years, else empty",
    "outflow_to_work_rate": "alias of modelled_work_rate_calendar divided by the composition factor at 1.0 "
                            "(comparable-group rate); kept for readers of the old file",
}
QUARTERLY_COLUMNS = {
    "year": "calendar year", "quarter": "quarter 1-4",
    "unemployment_sa": "unemployment % seasonally adjusted (80590ned Seizoengecorrigeerd_8)",
    "unemployment_change": "u minus u in the same quarter a year earlier (pp)",
    "index": "exp(c1 u + c2 du) / the yearly normaliser (same scale as the yearly index)",
    "observed_all_rate_q": "outflow in the quarter / mean stock of its months (82662NED / 83426NED), per quarter",
    "inflow_persons": "82662NED Instromers_1", "reinflow_persons": "82662NED HerinstromersBinnenEenJaar_2",
    "outflow_persons": "82662NED Uitstromers_3", "stock_persons": "mean of the quarter's months, 83426NED",
}


# ---------------------------------------------------------------------------------------------
# scenarios
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    """A named cycle scenario.

    ``multiplier`` is the index relative to gemiddeld = 1.0; ``years`` are the calendar years
    behind it; ``rule`` says how they were chosen.
    """

    name: str
    label_en: str
    multiplier: float
    years: tuple[int, ...]
    rule: str = field(default="", compare=False)


# ---------------------------------------------------------------------------------------------
# building blocks: observations
# ---------------------------------------------------------------------------------------------
def _window_rates() -> "pd.DataFrame":
    """Observed outflow-to-work and inflow per Sept-Sept window (step 1a, step 3 before 2008)."""
    import pandas as pd

    df = cbs.select(cbs.read_table(SRC_OUTFLOW["table"]), **SRC_OUTFLOW["filter"])

    def series(row: dict, col: str) -> pd.Series:
        part = cbs.select(df, **row)
        periods = [cbs.parse_period(p) for p in part["Perioden"]]
        if any(p.kind != "range" for p in periods):
            raise InputError("expected Sept-to-Sept windows", file=SRC_OUTFLOW["table"], field="Perioden",
                             fix="use the CBS export of 81574NED")
        return pd.Series(part[col].to_numpy(float), index=[p.year for p in periods])

    col = SRC_OUTFLOW["column"]
    work, total = series(SRC_OUTFLOW["row_work"], col), series(SRC_OUTFLOW["row_all"], col)
    inflow = series(SRC_OUTFLOW["row_all"], SRC_OUTFLOW["column_inflow"])
    case = cbs.monthly(cbs.read_table(SRC_CASELOAD["table"]), SRC_CASELOAD["column"])
    rows = []
    for year in sorted(work.index):
        months = [(year - 1, m) for m in (10, 11, 12)] + [(year, m) for m in range(1, 10)]
        missing = [m for m in months if m not in case.index or math.isnan(case[m])]
        if missing:
            raise InputError("monthly caseload missing for an outflow window", file=SRC_CASELOAD["table"],
                             field=SRC_CASELOAD["column"], value=missing[:3],
                             fix="use the complete CBS export of 37789ksz")
        avg = float(np.mean([case[m] for m in months]))
        rows.append({"year": int(year), "outflow_to_work_k": float(work[year]), "outflow_total_k": float(total[year]),
                     "inflow_window_k": float(inflow[year]), "caseload_window_k": avg})
    out = pd.DataFrame(rows)
    out["observed_rate_window"] = out["outflow_to_work_k"] / out["caseload_window_k"]
    out["inflow_share_window"] = out["inflow_window_k"] / out["caseload_window_k"]
    return out


def _stock_monthly() -> "pd.Series":
    return cbs.monthly(cbs.read_table(SRC_STOCK["table"]), SRC_STOCK["column"])


def _flows_quarterly() -> "pd.DataFrame":
    """Quarterly inflow / re-inflow / outflow (82662NED totals) with the mean stock of the quarter (step 2)."""
    import pandas as pd

    df = cbs.select(cbs.read_table(SRC_FLOWS["table"]), **SRC_FLOWS["filter"])
    stock = _stock_monthly()
    q = pd.DataFrame({k: cbs.quarterly(df, SRC_FLOWS[k]) for k in ("inflow", "reinflow", "outflow")})
    stocks = []
    for (y, qu) in q.index:
        months = [(y, m) for m in range(3 * qu - 2, 3 * qu + 1)]
        missing = [m for m in months if m not in stock.index or math.isnan(stock[m])]
        if missing:
            raise InputError("monthly stock missing for a flow quarter", file=SRC_STOCK["table"],
                             field=SRC_STOCK["column"], value=missing[:3],
                             fix="use the complete CBS export of 83426NED")
        stocks.append(float(np.mean([stock[m] for m in months])))
    q["stock"] = stocks
    if q[["inflow", "outflow"]].isna().any().any():
        raise InputError("quarterly flows have gaps", file=SRC_FLOWS["table"], field="Uitstromers_3/Instromers_1",
                         fix="use the extract described in data/raw/cbs/README.md")
    return q


def _flows_yearly(q: "pd.DataFrame") -> "pd.DataFrame":
    """Calendar-year flows: sums of the four quarters, stock = mean of the 12 months."""
    g = q.groupby(level="year")
    full = g.size() == 4
    out = g[["inflow", "reinflow", "outflow"]].sum()[full]
    out["stock"] = g["stock"].mean()[full]
    out["observed_all_rate"] = out["outflow"] / out["stock"]
    out["recent_entrant_share"] = out["inflow"] / out["stock"]
    return out


def _ended_by_duration() -> "pd.DataFrame":
    """Ended benefits per year: all durations and within a year of the start (85617NED)."""
    import pandas as pd

    df = cbs.select(cbs.read_table(SRC_ENDED["table"]), **SRC_ENDED["filter"])
    col, dim = SRC_ENDED["column"], SRC_ENDED["duration"]
    total = cbs.yearly(cbs.select(df, **{dim: "Totaal"}), col)
    within = sum(cbs.yearly(cbs.select(df, **{dim: d}), col) for d in SRC_ENDED["within_year"])
    return pd.DataFrame({"ended_benefits": total, "ended_within_year": within})
def _unemployment() -> tuple["pd.Series", "pd.Series", dict]:
    """Spliced unemployment rate by year, its source, and the splice coefficients (step 2)."""
    import pandas as pd

    new = cbs.yearly(cbs.select(cbs.read_table(SRC_UNEMPLOYMENT["table"]), **SRC_UNEMPLOYMENT["filter"]),
                     SRC_UNEMPLOYMENT["column"]).dropna()
    old = cbs.yearly(cbs.select(cbs.read_table(SRC_UNEMPLOYMENT_OLD["table"]), **SRC_UNEMPLOYMENT_OLD["filter"]),
                     SRC_UNEMPLOYMENT_OLD["column"]).dropna()
    overlap = sorted(set(new.index) & set(old.index))
    slope, intercept = np.polyfit(old[overlap].to_numpy(), new[overlap].to_numpy(), 1)
    resid = new[overlap].to_numpy() - (intercept + slope * old[overlap].to_numpy())
    u = new.copy()
    source = pd.Series(SRC_UNEMPLOYMENT["table"], index=new.index)
    for y in old.index:
        if y not in u.index:
            u[y] = intercept + slope * old[y]
            source[y] = f"{SRC_UNEMPLOYMENT_OLD['table']} (back-cast)"
    splice = {"intercept": float(intercept), "slope": float(slope), "overlap": [min(overlap), max(overlap)],
              "rmse_pp": float(np.sqrt(np.mean(resid ** 2))),
              "correlation": float(np.corrcoef(old[overlap], new[overlap])[0, 1])}
    return u.sort_index(), source.sort_index(), splice


def _unemployment_quarterly() -> "pd.Series":
    df = cbs.select(cbs.read_table(SRC_UNEMPLOYMENT["table"]), **SRC_UNEMPLOYMENT["filter"])
    return cbs.quarterly(df, SRC_UNEMPLOYMENT["column_quarterly"]).dropna()


def _gdp() -> "pd.Series":
    return cbs.yearly(cbs.select(cbs.read_table(SRC_GDP["table"]), **SRC_GDP["filter"]), SRC_GDP["column"])


def _regional_national_rates() -> dict[int, float]:
    """National outflow-to-work share (Nederland row, all ages 15+) from the 2015-2017 municipal tables."""
    out = {}
    for year, src in SRC_REGIONAL_NL.items():
        df = cbs.read_table(src["table"])
        row = cbs.select(df, Leeftijd="15 jaar of ouder", **{src["region_col"]: "Nederland"})
        out[year] = float(row[src["column"]].iloc[0]) / 100.0
    return out


def _definition_ratio(windows: "pd.DataFrame", national: dict[int, float]) -> float:
    """Municipal-table rate / 81574NED window rate in 2015, the one year both observe (step 1b)."""
    w = windows.set_index("year")["observed_rate_window"]
    return float(national[2015] / w[2015])


# ---------------------------------------------------------------------------------------------
# fitting
# ---------------------------------------------------------------------------------------------
def _ols(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    return beta


def _design(frame: "pd.DataFrame", spec: tuple[str, ...]) -> np.ndarray:
    return np.column_stack([np.ones(len(frame))] + [frame[c].to_numpy(float) for c in spec])


def _fit(frame: "pd.DataFrame", spec: tuple[str, ...], rate: str, comp: str = "composition_factor") -> dict:
    """OLS of log(rate / composition) on ``spec``: coefficients, fitted and leave-one-year-out rates."""
    X = _design(frame, spec)
    c = frame[comp].to_numpy(float)
    obs = frame[rate].to_numpy(float)
    y = np.log(obs / c)
    beta = _ols(X, y)
    fitted = np.exp(X @ beta) * c
    loo = np.empty(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        loo[i] = math.exp(X[i] @ _ols(X[keep], y[keep])) * c[i]
    r2 = 1 - np.sum((y - X @ beta) ** 2) / np.sum((y - y.mean()) ** 2)
    err = (fitted - obs) * 100
    err_loo = (loo - obs) * 100
    return {"spec": list(spec), "coefficients": {n: float(b) for n, b in zip(("const",) + spec, beta)},
            "r2_log": float(r2), "n": int(len(y)),
            "rmse_pp": float(np.sqrt(np.mean(err ** 2))), "max_abs_error_pp": float(np.max(np.abs(err))),
            "loo_rmse_pp": float(np.sqrt(np.mean(err_loo ** 2))),
            "loo_max_abs_error_pp": float(np.max(np.abs(err_loo))),
            "fitted": fitted, "loo": loo}


def _extreme_scenarios(years: np.ndarray, index: np.ndarray) -> dict[str, Scenario]:
    hi, lo = int(np.argmax(index)), int(np.argmin(index))
    span = f"{REFERENCE_PERIOD[0]}-{REFERENCE_PERIOD[1]}"
    return {
        "hoogconjunctuur": Scenario("hoogconjunctuur", "boom", float(index[hi]), (int(years[hi]),),
                                    f"the year with the highest cycle index of {span}"),
        "gemiddeld": Scenario("gemiddeld", "average", 1.0, tuple(int(y) for y in years),
                              f"the mean of the cycle index over {span} (= 1.0 by construction)"),
        "laagconjunctuur": Scenario("laagconjunctuur", "downturn", float(index[lo]), (int(years[lo]),),
                                    f"the year with the lowest cycle index of {span}"),
    }


# ---------------------------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------------------------
def _composition_params(windows: "pd.DataFrame", fy: "pd.DataFrame", ended: "pd.DataFrame") -> dict:
    """Group exit rates, the reference make-up and the 81574NED -> 82662NED inflow rescale (step 3)."""
    a, b = GROUP_RATE_YEARS
    yrs = [y for y in range(a, b + 1) if y in fy.index and y in ended.index]
    if len(yrs) < (b - a + 1):
        raise InputError("ended benefits or flows missing for the group-rate years", file=SRC_ENDED["table"],
                         field=SRC_ENDED["column"], value=sorted(set(range(a, b + 1)) - set(yrs)),
                         fix="use the complete CBS exports of 85617NED and 82662NED")
    e_new = [float(ended.loc[y, "ended_within_year"] / fy.loc[y, "inflow"]) for y in yrs]
    e_long = [float((ended.loc[y, "ended_benefits"] - ended.loc[y, "ended_within_year"])
                    / (fy.loc[y, "stock"] - fy.loc[y, "inflow"])) for y in yrs]
    r0, r1 = COMPOSITION_REFERENCE
    s_ref = float(fy.loc[r0:r1, "recent_entrant_share"].mean())
    o0, o1 = INFLOW_OVERLAP
    w = windows.set_index("year")["inflow_share_window"]
    rescale = float(fy.loc[o0:o1, "recent_entrant_share"].mean() / w.loc[o0:o1].mean())
    return {"e_new": float(np.mean(e_new)), "e_long": float(np.mean(e_long)), "s_ref": s_ref,
            "inflow_share_rescale_81574_to_82662": rescale, "group_rate_years": [a, b],
            "e_new_by_year": dict(zip(yrs, e_new)), "e_long_by_year": dict(zip(yrs, e_long)),
            "reference_years": [r0, r1], "rescale_overlap_years": [o0, o1]}


def composition_factor(share, params: dict) -> np.ndarray:
    """Shift-share composition factor for recent-entrant share(s) ``share`` (module docstring, step 3)."""
    s = np.asarray(share, dtype=float)
    e_new, e_long, s_ref = params["e_new"], params["e_long"], params["s_ref"]
    return (e_new * s + e_long * (1 - s)) / (e_new * s_ref + e_long * (1 - s_ref))


def build_cycle_index(write: bool = True) -> "pd.DataFrame":
    """Build the cycle index from the raw CBS tables (method in the module docstring).

    With ``write=True`` writes ``data/processed/cycle_index.csv``, ``cycle_index_quarterly.csv``
    and ``cycle_index.provenance.json``. Returns the yearly table; the quarterly table is in
    ``table.attrs["quarterly"]`` and the fit in ``table.attrs["fit"]``.
    """
    import pandas as pd

    windows = _window_rates()
    q = _flows_quarterly()
    fy = _flows_yearly(q)
    ended = _ended_by_duration()
    u, u_source, splice = _unemployment()
    uq = _unemployment_quarterly()
    g = _gdp()
    national = _regional_national_rates()
    ratio = _definition_ratio(windows, national)
    first, last = REFERENCE_PERIOD
    need = list(range(int(windows["year"].min()) - 2, last + 1))
    for name, s in (("unemployment", u), ("GDP growth", g)):
        gaps = [y for y in need if y not in s.index or math.isnan(s[y])]
        if name == "GDP growth":
            gaps = [y for y in gaps if y >= first]
        if gaps:
            raise InputError(f"{name} series has gaps in years the index needs", field=name, value=gaps[:5],
                             fix="use complete CBS exports (80590ned/83752NED, 85880NED)")
    comp = _composition_params(windows, fy, ended)

    # --- to-work observations (step 1) with drivers and composition
    w = WINDOW_SHARE_END_YEAR
    def wavg(s, t):  # noqa: E306
        return (1 - w) * s[t - 1] + w * s[t]
    obs = []
    for r in windows.itertuples():
        t = int(r.year)
        obs.append({"year": t, "source": f"{SRC_OUTFLOW['table']} window", "rate": r.observed_rate_window,
                    "u": wavg(u, t), "du": wavg(u, t) - wavg(u, t - 1), "g": wavg(g, t),
                    "share": r.inflow_share_window * comp["inflow_share_rescale_81574_to_82662"]})
    for t, rate in sorted(national.items()):
        if t == 2015:
            continue  # defines the definition ratio; checked below
        obs.append({"year": t, "source": f"{SRC_REGIONAL_NL[t]['table']} / ratio", "rate": rate / ratio,
                    "u": float(u[t]), "du": float(u[t] - u[t - 1]), "g": float(g[t]),
                    "share": float(fy.loc[t, "recent_entrant_share"])})
    work = pd.DataFrame(obs)
    work["composition_factor"] = composition_factor(work["share"], comp)
    candidates = [_fit(work, spec, "rate") for spec in CANDIDATE_SPECS]
    model = next(c for c in candidates if tuple(c["spec"]) == MODEL_SPEC)
    coef = model["coefficients"]
    ranges = {c: (float(work[c].min()), float(work[c].max())) for c in MODEL_SPEC}

    # --- yearly index (step 6)
    years = np.arange(first, last + 1)
    cal = pd.DataFrame({"year": years})
    cal["unemployment_rate"] = [float(u[y]) for y in years]
    cal["unemployment_source"] = [u_source[y] for y in years]
    cal["unemployment_change"] = [float(u[y] - u[y - 1]) for y in years]
    cal["gdp_volume_growth"] = [float(g[y]) if y in g.index else float("nan") for y in years]
    drivers = {"u": cal["unemployment_rate"].to_numpy(), "du": cal["unemployment_change"].to_numpy()}

    def cycle_raw(dr: dict) -> np.ndarray:
        return np.exp(sum(coef[c] * np.asarray(dr[c], float) for c in MODEL_SPEC))

    raw = cycle_raw(drivers)
    norm = float(raw.mean())
    cal["index"] = raw / norm
    cal["extrapolated"] = np.zeros(len(cal), dtype=bool)
    for c in MODEL_SPEC:
        lo, hi = ranges[c]
        cal["extrapolated"] |= (drivers[c] < lo - 1e-9) | (drivers[c] > hi + 1e-9)
    win = windows.set_index("year")
    share = [float(fy.loc[y, "recent_entrant_share"]) if y in fy.index else
             (float(win.loc[y, "inflow_share_window"]) * comp["inflow_share_rescale_81574_to_82662"]
              if y in win.index else float("nan")) for y in years]
    cal["recent_entrant_share"] = share
    cal["composition_factor"] = composition_factor(share, comp)
    wk = work.set_index("year")
    wk["fitted"], wk["loo"] = model["fitted"], model["loo"]
    cal["observed_work_rate"] = [float(wk.loc[y, "rate"]) if y in wk.index else float("nan") for y in years]
    cal["observed_work_source"] = [wk.loc[y, "source"] if y in wk.index else "" for y in years]
    cal["modelled_work_rate"] = [float(wk.loc[y, "fitted"]) if y in wk.index else float("nan") for y in years]
    cal["modelled_work_rate_loo"] = [float(wk.loc[y, "loo"]) if y in wk.index else float("nan") for y in years]
    cal["modelled_work_rate_calendar"] = math.exp(coef["const"]) * raw * cal["composition_factor"]

    # --- all-reason check (step 7)
    allr = pd.DataFrame({"year": fy.index.astype(int), "rate": fy["observed_all_rate"].to_numpy(),
                         "u": [float(u[y]) for y in fy.index], "du": [float(u[y] - u[y - 1]) for y in fy.index],
                         "composition_factor": composition_factor(fy["recent_entrant_share"], comp)})
    all_fit = _fit(allr, MODEL_SPEC, "rate")
    no_comp = _fit(allr.assign(composition_factor=1.0), MODEL_SPEC, "rate")
    ar = allr.set_index("year")
    ar["fitted"], ar["loo"] = all_fit["fitted"], all_fit["loo"]
    cal["observed_all_rate"] = [float(ar.loc[y, "rate"]) if y in ar.index else float("nan") for y in years]
    cal["modelled_all_rate"] = [float(ar.loc[y, "fitted"]) if y in ar.index else float("nan") for y in years]
    cal["modelled_all_rate_loo"] = [float(ar.loc[y, "loo"]) if y in ar.index else float("nan") for y in years]

    for c in ("outflow_to_work_k", "outflow_total_k", "inflow_window_k", "caseload_window_k", "observed_rate_window"):
        cal[c] = [float(win.loc[y, c]) if y in win.index else float("nan") for y in years]
    for c, src in (("inflow_persons", "inflow"), ("outflow_persons", "outflow"), ("stock_persons", "stock")):
        cal[c] = [float(fy.loc[y, src]) if y in fy.index else float("nan") for y in years]
    for c in ("ended_benefits", "ended_within_year"):
        cal[c] = [float(ended.loc[y, c]) if y in ended.index else float("nan") for y in years]
    scen = _extreme_scenarios(years, cal["index"].to_numpy())
    by_year = {scen["hoogconjunctuur"].years[0]: "hoogconjunctuur", scen["laagconjunctuur"].years[0]: "laagconjunctuur"}
    cal["scenario"] = [by_year.get(int(y), "") for y in years]
    cal["outflow_to_work_rate"] = math.exp(coef["const"]) * raw
    cal = cal[list(COLUMNS)]

    # --- quarterly index and observed quarterly all-reason rate
    qrows = []
    for (y, qu), val in uq.items():
        if (y - 1, qu) not in uq.index or (y, qu) < QUARTERLY_FROM:
            continue
        du = float(val - uq[(y - 1, qu)])
        row = {"year": int(y), "quarter": int(qu), "unemployment_sa": float(val), "unemployment_change": du,
               "index": float(np.exp(coef["u"] * val + coef["du"] * du) / norm)}
        if (y, qu) in q.index:
            fr = q.loc[(y, qu)]
            row.update({"observed_all_rate_q": float(fr["outflow"] / fr["stock"]), "inflow_persons": float(fr["inflow"]),
                        "reinflow_persons": float(fr["reinflow"]), "outflow_persons": float(fr["outflow"]),
                        "stock_persons": float(fr["stock"])})
        qrows.append(row)
    quarterly = pd.DataFrame(qrows).reindex(columns=list(QUARTERLY_COLUMNS))

    national_check = {str(t): {"cbs_rate": r, "table": SRC_REGIONAL_NL[t]["table"],
                               "modelled_rate": float(ratio * cal.set_index("year").loc[t, "modelled_work_rate_calendar"]),
                               "error_pp": float((ratio * cal.set_index("year").loc[t, "modelled_work_rate_calendar"] - r) * 100)}
                      for t, r in national.items()}
    fit_info = {"model": model, "candidates": candidates, "ranges": ranges, "all_reason": all_fit,
                "all_reason_without_composition": no_comp, "composition": comp, "definition_ratio": ratio,
                "normaliser": norm, "national": national_check}
    fit = anchor_fit(cal)
    cal.attrs["quarterly"] = quarterly
    cal.attrs["fit"] = fit_info
    if write:
        out_dir = cbs.processed_dir()
        out_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(out_dir / CSV_NAME, cal.to_csv(index=False, float_format="%.6g"))
        _atomic_write(out_dir / QUARTERLY_CSV_NAME, quarterly.to_csv(index=False, float_format="%.6g"))
        prov = _provenance(cal, quarterly, work, fit_info, splice, scen, fit)
        _atomic_write(out_dir / PROVENANCE_NAME, json.dumps(prov, indent=2, ensure_ascii=False) + "\n")
        _cached_index.cache_clear()
    return cal


def _atomic_write(path, text: str) -> None:
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.replace(tmp, path)


def observed_checks(table: "pd.DataFrame") -> list[dict]:
    """Every observed year against the model, in sample and leave-one-year-out (step 7).

    One row per observation: series (``work``/``all``), year, source, observed, modelled, left-out
    fit, errors in pp, tolerances and whether both are met.
    """
    rows = []
    for series, obs, mod, loo, tol, tol_loo in (
            ("work", "observed_work_rate", "modelled_work_rate", "modelled_work_rate_loo",
             TOLERANCE_WORK_PP, TOLERANCE_WORK_LOO_PP),
            ("all", "observed_all_rate", "modelled_all_rate", "modelled_all_rate_loo",
             TOLERANCE_ALL_PP, TOLERANCE_ALL_LOO_PP)):
        for r in table.dropna(subset=[obs]).itertuples():
            o, m, lo = getattr(r, obs), getattr(r, mod), getattr(r, loo)
            e, el = (m - o) * 100, (lo - o) * 100
            rows.append({"series": series, "year": int(r.year),
                         "source": r.observed_work_source if series == "work" else f"{SRC_FLOWS['table']} / {SRC_STOCK['table']}",
                         "observed": float(o), "modelled": float(m), "modelled_loo": float(lo),
                         "error_pp": float(e), "error_loo_pp": float(el), "tolerance_pp": tol,
                         "tolerance_loo_pp": tol_loo, "ok": bool(abs(e) <= tol and abs(el) <= tol_loo)})
    return rows


def _provenance(cal, quarterly, work, fit_info, splice, scen, fit) -> dict:
    from importlib import metadata

    try:
        version = metadata.version("mkba")
    except metadata.PackageNotFoundError:  # pragma: no cover
        version = "unknown"
    srcs = [SRC_OUTFLOW, SRC_CASELOAD, SRC_FLOWS, SRC_STOCK, SRC_ENDED, SRC_UNEMPLOYMENT, SRC_UNEMPLOYMENT_OLD, SRC_GDP]
    srcs += [dict(v, filter={"Leeftijd": "15 jaar of ouder", v["region_col"]: "Nederland"}, year=k,
                  unit="% of bijstand recipients who left for work") for k, v in SRC_REGIONAL_NL.items()]
    sources = []
    for s in srcs:
        entry = {k: v for k, v in s.items() if k != "region_col"}
        tid = s["table"].split("_")[0]
        entry["attribution"] = cbs.source_label(tid)
        entry["file"] = f"data/raw/cbs/{cbs.table_path(s['table']).name}"
        entry["sha256"] = cbs.file_sha256(s["table"])
        sources.append(entry)
    strip = lambda d: {k: v for k, v in d.items() if k not in ("fitted", "loo")}  # noqa: E731
    comp = dict(fit_info["composition"])
    comp["e_new_by_year"] = {str(k): v for k, v in comp["e_new_by_year"].items()}
    comp["e_long_by_year"] = {str(k): v for k, v in comp["e_long_by_year"].items()}
    comp["assumption"] = ("recent entrants' exit advantage e_new / e_long (all exits, 85617NED) applies to exits "
                          "to work as well: no CBS table here splits outflow to work by duration")
    checks = observed_checks(cal)
    return {
        "output": [f"data/processed/{CSV_NAME}", f"data/processed/{QUARTERLY_CSV_NAME}"],
        "built": _dt.datetime.now().isoformat(timespec="seconds"),
        "builder": "mkba.cycle.build_cycle_index", "mkba_version": version,
        "licence": f"CBS data {cbs.LICENCE}; attribute as 'Bron: CBS StatLine, tabel <ID>'",
        "what_is_measured": {
            "index": "labour-market cycle: exit-to-work chance of a caseload of fixed make-up, 1.0 = mean year "
                     "2002-2024; the only thing scenarios and replay pass to the model",
            "composition_factor": "who is on benefit (duration mix) at fixed group exit rates, 1.0 = mean make-up "
                                  "2008-2023; part of a case's own baseline, not of the cycle",
        },
        "sources": sources,
        "method": METHOD_STEPS,
        "columns": COLUMNS,
        "quarterly_columns": QUARTERLY_COLUMNS,
        "reference_period": list(REFERENCE_PERIOD),
        "quarterly_from": list(QUARTERLY_FROM),
        "beyond_data": "months after the last data quarter take index 1.0 (long-run mean; no forecast)",
        "window_weight_end_year": WINDOW_SHARE_END_YEAR,
        "unemployment_splice": splice,
        "definition_ratio_municipal_to_81574_2015": fit_info["definition_ratio"],
        "composition": comp,
        "model": strip(fit_info["model"]),
        "normaliser": fit_info["normaliser"],
        "driver_ranges_in_estimation": {k: list(v) for k, v in fit_info["ranges"].items()},
        "extrapolated_years": [int(y) for y, e in zip(cal["year"], cal["extrapolated"]) if e],
        "candidates": [strip(c) for c in fit_info["candidates"]],
        "estimation_observations": [
            {"year": int(r.year), "source": r.source, "observed_rate": float(r.rate), "u": float(r.u),
             "du": float(r.du), "recent_entrant_share": float(r.share),
             "composition_factor": float(r.composition_factor)} for r in work.itertuples()],
        "all_reason_fit": strip(fit_info["all_reason"]),
        "all_reason_fit_without_composition": strip(fit_info["all_reason_without_composition"]),
        "checks": {"tolerances_pp": {"work": TOLERANCE_WORK_PP, "work_leave_one_out": TOLERANCE_WORK_LOO_PP,
                                     "all": TOLERANCE_ALL_PP, "all_leave_one_out": TOLERANCE_ALL_LOO_PP},
                   "all_ok": all(c["ok"] for c in checks), "per_observation": checks,
                   "national_outflow_to_work_municipal_tables": fit_info["national"]},
        "scenarios": {k: {"label_en": s.label_en, "multiplier": s.multiplier,
                          "years": list(s.years), "rule": s.rule} for k, s in scen.items()},
        "anchor_fit": fit,
    }


# ---------------------------------------------------------------------------------------------
# fit against seeds
# ---------------------------------------------------------------------------------------------
def anchor_fit(table: "pd.DataFrame | None" = None) -> dict:
    """Fit of the modelled calendar-year to-work rate against the seed anchors (:data:`SEED_ANCHORS`).

    Returns per-year rows (seed, modelled, error in pp), the RMSE in percentage points, the RMSE
    after a single least-squares level factor (shape fit), the ratio boom/downturn
    ((2007+2008)/(2013+2014)) for seed and model, and the 2007-2014 mean against
    "een kleine 10 procent" (:data:`SEED_AVERAGE_REF`).
    """
    t = (load_cycle_index() if table is None else table).set_index("year")
    ys = sorted(SEED_ANCHORS)
    seed = np.array([SEED_ANCHORS[y] for y in ys])
    mod = t.loc[ys, "modelled_work_rate_calendar"].to_numpy(float)
    k = float(seed @ mod / (mod @ mod))
    rmse = lambda a: float(np.sqrt(np.mean((a - seed) ** 2)) * 100)  # noqa: E731
    boom, down = [2007, 2008], [2013, 2014]
    ratio = lambda s: float(sum(s[y] for y in boom) / sum(s[y] for y in down))  # noqa: E731
    return {
        "reference": SEED_ANCHORS_REF,
        "definition_note": "seed: share of the WWB population leaving for work (CBS, per calendar year); "
                           "model: level x composition x cycle with calendar-year drivers, on the 81574NED scale",
        "per_year": [{"year": y, "seed": float(s), "modelled": float(m), "error_pp": float((m - s) * 100),
                      "calibrated": float(k * m), "calibrated_error_pp": float((k * m - s) * 100)}
                     for y, s, m in zip(ys, seed, mod)],
        "rmse_pp_modelled": rmse(mod),
        "level_factor": k,
        "rmse_pp_after_level_calibration": rmse(k * mod),
        "ratio_boom_downturn_seed": ratio(SEED_ANCHORS),
        "ratio_boom_downturn_model": ratio(dict(zip(ys, mod))),
        "mean_2007_2014_modelled": float(t.loc[2007:2014, "modelled_work_rate_calendar"].mean()),
        "mean_2007_2014_seed": SEED_AVERAGE_2007_2014,
        "mean_2007_2014_reference": SEED_AVERAGE_REF,
    }


# ---------------------------------------------------------------------------------------------
# loading and public accessors
# ---------------------------------------------------------------------------------------------
def load_cycle_index() -> "pd.DataFrame":
    """The yearly cycle index table (``data/processed/cycle_index.csv``; built if missing).

    Columns in :data:`COLUMNS`; ``index`` is the labour-market cycle (1.0 = mean year).
    """
    import pandas as pd

    path = cbs.processed_dir() / CSV_NAME
    if not path.exists() or not (cbs.processed_dir() / QUARTERLY_CSV_NAME).exists():
        return build_cycle_index(write=True)
    df = pd.read_csv(path, keep_default_na=True)
    missing = [c for c in ("year", "index", "composition_factor") if c not in df.columns]
    if missing:
        raise InputError("cycle index file lacks required columns", file=str(path), field=", ".join(missing),
                         fix="rebuild it with mkba.cycle.build_cycle_index()")
    df["scenario"] = df["scenario"].fillna("")
    df["observed_work_source"] = df["observed_work_source"].fillna("")
    return df


def load_quarterly_index() -> "pd.DataFrame":
    """The quarterly cycle index (``data/processed/cycle_index_quarterly.csv``), columns :data:`QUARTERLY_COLUMNS`."""
    import pandas as pd

    path = cbs.processed_dir() / QUARTERLY_CSV_NAME
    if not path.exists():
        build_cycle_index(write=True)
    df = pd.read_csv(path)
    missing = [c for c in ("year", "quarter", "index") if c not in df.columns]
    if missing:
        raise InputError("quarterly cycle index file lacks required columns", file=str(path),
                         field=", ".join(missing), fix="rebuild it with mkba.cycle.build_cycle_index()")
    return df


@lru_cache(maxsize=4)
def _cached_index(path_key: str):
    df = load_cycle_index()
    qdf = load_quarterly_index()
    years = tuple(int(y) for y in df["year"])
    idx = tuple(float(v) for v in df["index"])
    quarters = tuple(((int(y), int(q)), float(v)) for y, q, v in zip(qdf["year"], qdf["quarter"], qdf["index"]))
    scen = _extreme_scenarios(np.array(years), np.array(idx))
    return years, idx, quarters, tuple(scen.values())


def _index_data() -> tuple[dict[int, float], dict[str, Scenario]]:
    years, idx, _, scen = _cached_index(str(cbs.processed_dir() / CSV_NAME))
    return dict(zip(years, idx)), {s.name: s for s in scen}


def _quarter_data() -> dict[tuple[int, int], float]:
    return dict(_cached_index(str(cbs.processed_dir() / CSV_NAME))[2])


def index_for_year(year: int) -> float:
    """Index of one calendar year in the data range; :class:`InputError` otherwise."""
    data, _ = _index_data()
    y = _check_year(year, "year", min(data), max(data))
    return data[y]


def scenarios() -> dict[str, Scenario]:
    """Named scenarios ``hoogconjunctuur``, ``gemiddeld``, ``laagconjunctuur`` (see module docstring)."""
    return dict(_index_data()[1])


def _check_year(value: Any, field_name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise InputError("year must be a whole number", field=field_name, value=value,
                             fix=f"use a year from {lo} to {hi}")
    value = int(value)
    if not lo <= value <= hi:
        nearest = min(max(value, lo), hi)
        raise InputError(f"year outside the available range {lo}-{hi}", field=field_name, value=value,
                         fix=f"use a year from {lo} to {hi} (closest: {nearest})")
    return value


def _reference_index(reference_year: int | None, field_name: str = "measured_in") -> float:
    if reference_year is None:
        return 1.0
    data, _ = _index_data()
    return data[_check_year(reference_year, field_name, min(data), max(data))]


def multiplier_path(start_year: int, months: int, reference_year: int | None = None) -> np.ndarray:
    """Monthly multipliers on exit-to-work hazards for a case starting in January of ``start_year``.

    Element ``m`` (0-based) applies to month ``m`` after the start. It is the index of that
    month's quarter (from :data:`QUARTERLY_FROM` while quarterly data last), else of its
    calendar year, else 1.0 after the data (no forecast); divided by ``index[reference_year]``
    (the case's ``measured_in``) when given, else relative to gemiddeld = 1.0.

    ``start_year`` must be in :data:`REPLAY_START_YEARS`; ``months`` a positive whole number;
    ``reference_year`` a year of the index (2002-2024).
    """
    y = _check_year(start_year, "replay start year", *REPLAY_START_YEARS)
    if isinstance(months, bool) or not isinstance(months, (int, np.integer)) or int(months) < 1:
        raise InputError("months must be a positive whole number", field="months", value=months,
                         fix="pass the case horizon in months, e.g. 120")
    data, _ = _index_data()
    quarters = _quarter_data()
    ref = _reference_index(reference_year)
    out = np.empty(int(months))
    for m in range(int(months)):
        year, month = y + m // 12, m % 12 + 1
        key = (year, (month - 1) // 3 + 1)
        out[m] = quarters[key] if key in quarters else data.get(year, 1.0)
    return out / ref


def resolve_scenario(name: Any) -> Scenario:
    """The scenario for a Dutch name, an English label or an unambiguous prefix of either
    (``"laag"`` -> laagconjunctuur); unknown names raise :class:`InputError` with the closest name."""
    _, scen = _index_data()
    options = list(scen) + [s.label_en for s in scen.values()]
    if not isinstance(name, str) or not name.strip():
        raise InputError("a cycle scenario name must be non-empty text", field="scenario", value=name,
                         fix=f"use one of {', '.join(options)}")
    key = name.strip().lower()
    by_label = {s.label_en: s for s in scen.values()}
    s = scen.get(key) or by_label.get(key)
    if s is not None:
        return s
    prefix = [o for o in options if o.startswith(key) or key.startswith(o[:4]) and len(key) >= 4]
    hits = prefix or closest(key, options)
    raise InputError("unknown cycle scenario", field="scenario", value=name,
                     fix=("did you mean " + " or ".join(f"'{h}'" for h in hits[:2]) + "? " if hits else "")
                     + f"Valid: {', '.join(options)}")


def scenario_multiplier(name: str, reference_year: int | None = None) -> float:
    """Multiplier of scenario ``name`` (Dutch name or English label), relative to ``reference_year``'s index
    if given, else to gemiddeld = 1.0. Unknown names raise :class:`InputError` with close matches."""
    return resolve_scenario(name).multiplier / _reference_index(reference_year)

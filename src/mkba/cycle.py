"""Economic-cycle index for outflow from bijstand to work, scenarios and historical replay.

What it is
----------
A yearly index (calendar years 2002-2024) of how easy it was to leave bijstand for work,
relative to the average year of the reference period (``index = 1.0`` is "gemiddeld").
The model uses it as a multiplier on exit-to-work hazards: a case whose hazards were measured
in year R and is replayed as if it ran in year Y gets ``index[Y] / index[R]``.

Method (every step is code below; numbers end up in ``data/processed/cycle_index.csv`` and
``data/processed/cycle_index.provenance.json``)
----------------------------------------------------------------------------------------
1. **Observed outflow-to-work rate, Sept-to-Sept windows 2001/02-2014/15.**
   Outflow to work = CBS 81574NED, column ``Bijstandsuitkering_6`` (uitstroom uit bijstand, x1000)
   in the row *Inkomsten uit arbeid totaal* (income from work after leaving), totals for sex,
   age and origin. Caseload = the average over the 12 months of the window (October of year
   t-1 to September of year t) of CBS 37789ksz ``BijstandsuitkeringenTotDeAOWLeeftijd_12``
   (bijstand benefits below state-pension age, x1000). Rate = outflow / average caseload.
   A window from September t-1 to September t is labelled t (9 of its 12 months are in t).
   (Outflow counts persons, the caseload counts benefits -- one per household -- so the level
   is somewhat high; the index only uses relative movements.)
2. **Cycle drivers.** Unemployment rate ``u`` (% of the labour force 15-75): CBS 80590ned
   ``NietSeizoengecorrigeerd_7`` (Geslacht *Totaal*, Leeftijd key ``52052`` = 15 tot 75 jaar),
   2003-2024. Years before 2003 are back-cast from CBS 83752NED ``Werkloosheidspercentage_5``
   (older definition, 1969-2021) with ``u = a + b * u_old`` fitted by OLS on the overlap
   2003-2021. ``du`` = change in ``u`` on the year before. GDP volume growth ``g`` (CBS 85880NED
   ``BrutoBinnenlandsProduct_2``, *Volume, t.o.v. zelfde periode vorig jaar*) is a candidate
   driver. For the Sept-to-Sept windows, drivers are window-weighted:
   ``x_w(t) = 0.25 x(t-1) + 0.75 x(t)``.
3. **Regression.** ``log(rate) = c0 + c1 * u + c2 * du`` by OLS on the 14 windows. This
   specification (:data:`MODEL_SPEC`) has the lowest leave-one-out error of the candidates
   ``u``, ``g``, ``u+g``, ``u+du``, ``u+g+du`` (table in the provenance file; GDP adds nothing
   once ``du`` is in, and its 2021 rebound of +6.3 % would dominate the index).
4. **Calendar-year modelled rate 2002-2024** from the calendar-year drivers. Drivers outside
   the range they had in the estimation years 2002-2015 are clipped to that range (no
   extrapolation of the exponential beyond the data; flagged in column ``clipped``). This
   matters for 2017-2024: unemployment was 3.5-4.4 % in 2019 and 2021-2024, below anything in
   2002-2015 (minimum 4.8 % in 2008), and fell faster in 2017-2018 (-1.1 and -1.0 pp) than in
   any estimation year (-0.9 pp in 2006).
5. **Index** = modelled rate / mean modelled rate over :data:`REFERENCE_PERIOD` (2002-2024),
   so the average year is 1.0. A single definition for every year (rather than observed
   rates where available) keeps the index a pure cycle signal: the observed series also
   holds policy and composition shifts (WWB 2004, Participatiewet 2015, refugee inflow
   2015-2017) that belong to the case, not to the cycle.

Scenarios
---------
Years of the reference period are ranked by index and split in terciles (23 years: 8 / 7 / 8).
*hoogconjunctuur* (boom) = top tercile, *laagconjunctuur* (downturn) = bottom tercile, each with
the mean index of its years as multiplier; *gemiddeld* (average) has multiplier 1.0 by
definition (the reference-period mean) and lists the middle-tercile years.

Historical replay
-----------------
:func:`multiplier_path` gives one multiplier per month for a case starting in January of a
start year 2002-2022 (the last start year leaves at least the two data years 2023-2024).
Months in a calendar year take that year's index (a step per year). Months after the last
data year (2024) take 1.0 -- the long-run average: no forecast is made.

Fit against the seed figures
----------------------------
The seed gives national outflow-to-work percentages of 15 % (2007), 12 % (2008), 7 % (2013) and
8 % (2014) (``000_7f82048ff02a2552.txt:112-114``), from CBS, as a share of the WWB population.
That definition (share of the stock, probably persons) differs from step 1, so
:func:`anchor_fit` reports both the raw error in percentage points and the error after a
single level calibration (which tests the shape, i.e. what the index uses).
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
#: Valid start years for a historical replay (each leaves >= 2 data years after the start).
REPLAY_START_YEARS = (2002, 2022)

#: Share of a Sept(t-1)-Sept(t) window that lies in calendar year t (Jan-Sep = 9 of 12 months).
WINDOW_SHARE_END_YEAR = 9 / 12

#: Regression covariates (see module docstring, step 3).
MODEL_SPEC: tuple[str, ...] = ("u", "du")
CANDIDATE_SPECS: tuple[tuple[str, ...], ...] = (("u",), ("g",), ("u", "g"), ("u", "du"), ("u", "g", "du"))

#: Scenario names, English labels and the tercile they take (0 = bottom).
SCENARIO_LABELS = {"hoogconjunctuur": "boom", "gemiddeld": "average", "laagconjunctuur": "downturn"}

#: Method summary written to the provenance file (details in the module docstring).
METHOD_STEPS = [
    "1. Observed rate per Sept(t-1)-Sept(t) window 2002-2015 = outflow to work (81574NED Bijstandsuitkering_6, "
    "row 'Inkomsten uit arbeid totaal') / mean of the 12 monthly caseloads Oct(t-1)-Sep(t) "
    "(37789ksz BijstandsuitkeringenTotDeAOWLeeftijd_12).",
    "2. Unemployment u: 80590ned NietSeizoengecorrigeerd_7 (15-75) 2003-2024; earlier years back-cast from "
    "83752NED Werkloosheidspercentage_5 with OLS u = a + b*u_old on the overlap. du = u - u(previous year). "
    "Window drivers x_w(t) = 0.25 x(t-1) + 0.75 x(t).",
    "3. OLS log(rate) = c0 + c1*u_w + c2*du_w on the 14 windows (lowest leave-one-out error of the candidates).",
    "4. Modelled calendar-year rate 2002-2024 from calendar drivers clipped to their 2002-2015 range.",
    "5. index = modelled rate / its mean over the reference period 2002-2024 (gemiddeld = 1.0).",
    "6. Scenarios: terciles of the index over 2002-2024; hoog/laag multiplier = mean index of the tercile, "
    "gemiddeld = 1.0.",
    "7. Beyond 2024 the replay uses index 1.0 (no forecast).",
]

CSV_NAME = "cycle_index.csv"
PROVENANCE_NAME = "cycle_index.provenance.json"

# CBS sources: table id, row filter, column, unit, use.
SRC_OUTFLOW = {
    "table": "81574NED",
    "filter": {"Geslacht": "Totaal mannen en vrouwen", "Leeftijd": "Totaal leeftijd",
               "Herkomstgroepering": "Totaal herkomst"},
    "row_work": {"InkomstenbronVoorInstrOfNaUitstr": "Inkomsten uit arbeid totaal"},
    "row_all": {"InkomstenbronVoorInstrOfNaUitstr": "Inkomsten uit alle bronnen"},
    "column": "Bijstandsuitkering_6",
    "unit": "x1000 persons leaving bijstand per Sept-Sept window, by income source afterwards",
}
SRC_CASELOAD = {
    "table": "37789ksz",
    "column": "BijstandsuitkeringenTotDeAOWLeeftijd_12",
    "column_total": "TotaalBijstandsuitkeringen_11",
    "unit": "x1000 bijstand benefits (monthly rows; yearly rows = year average)",
}
SRC_UNEMPLOYMENT = {
    "table": "80590ned",
    "filter": {"Geslacht": "Totaal", "Leeftijd": "52052"},
    "column": "NietSeizoengecorrigeerd_7",
    "unit": "% of labour force 15-75 (Leeftijd key 52052 = 15 tot 75 jaar), not seasonally adjusted",
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
               "GeboortelandOuders": "Totaal", "DuurVanDeUitkeringssituatie": "Totaal"},
    "column": "PersonenVanWieBijstandIsBeeindigd_1",
    "unit": "persons whose bijstand ended in the year (all reasons); TRUNCATED file, totals complete",
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
    "outflow_to_work_k": "outflow from bijstand to work in the Sept(t-1)-Sept(t) window, x1000 (81574NED Bijstandsuitkering_6)",
    "outflow_total_k": "all outflow from bijstand in the window, x1000 (81574NED Bijstandsuitkering_6, all sources)",
    "caseload_window_k": "average benefits below AOW age Oct(t-1)-Sep(t), x1000 (37789ksz BijstandsuitkeringenTotDeAOWLeeftijd_12)",
    "observed_rate_window": "outflow_to_work_k / caseload_window_k (Sept(t-1)-Sept(t) window labelled t)",
    "observed_rate_calendar": "0.75 * window(t) + 0.25 * window(t+1): observed rate aligned to calendar year t",
    "modelled_rate": "exp(c0 + c1*u + c2*du) with calendar-year drivers (clipped to the estimation range)",
    "outflow_to_work_rate": "rate the index is built on (= modelled_rate; one definition for all years)",
    "index": "outflow_to_work_rate / mean over the reference period (gemiddeld = 1.0)",
    "clipped": "True where a driver was outside the estimation range and was clipped",
    "scenario": "tercile of the index over the reference period",
    "ended_benefits": "persons whose bijstand ended (85617NED PersonenVanWieBijstandIsBeeindigd_1); cross-check",
    "caseload_year_k": "yearly average bijstand benefits, all ages, x1000 (37789ksz TotaalBijstandsuitkeringen_11)",
    "ended_rate": "ended_benefits / (caseload_year_k * 1000); cross-check (all exit reasons)",
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
# building blocks
# ---------------------------------------------------------------------------------------------
def _window_rates() -> "pd.DataFrame":
    """Observed outflow-to-work rate per Sept-Sept window (step 1)."""
    import pandas as pd

    df = cbs.select(cbs.read_table(SRC_OUTFLOW["table"]), **SRC_OUTFLOW["filter"])
    col = SRC_OUTFLOW["column"]

    def series(row: dict) -> pd.Series:
        part = cbs.select(df, **row)
        periods = [cbs.parse_period(p) for p in part["Perioden"]]
        if any(p.kind != "range" for p in periods):
            raise InputError("expected Sept-to-Sept windows", file=SRC_OUTFLOW["table"], field="Perioden",
                             fix="use the CBS export of 81574NED")
        return pd.Series(part[col].to_numpy(float), index=[p.year for p in periods])

    work, total = series(SRC_OUTFLOW["row_work"]), series(SRC_OUTFLOW["row_all"])
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
        rows.append({"year": int(year), "outflow_to_work_k": float(work[year]),
                     "outflow_total_k": float(total[year]), "caseload_window_k": avg})
    out = pd.DataFrame(rows)
    out["observed_rate_window"] = out["outflow_to_work_k"] / out["caseload_window_k"]
    return out


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


def _gdp() -> "pd.Series":
    return cbs.yearly(cbs.select(cbs.read_table(SRC_GDP["table"]), **SRC_GDP["filter"]), SRC_GDP["column"])


def _ended() -> "pd.Series":
    return cbs.yearly(cbs.select(cbs.read_table(SRC_ENDED["table"]), **SRC_ENDED["filter"]), SRC_ENDED["column"])


def _regional_national_rates() -> dict[int, float]:
    """National outflow-to-work % (Nederland row, all ages 15+) from the 2015-2017 municipal tables."""
    out = {}
    for year, src in SRC_REGIONAL_NL.items():
        df = cbs.read_table(src["table"])
        row = cbs.select(df, Leeftijd="15 jaar of ouder", **{src["region_col"]: "Nederland"})
        out[year] = float(row[src["column"]].iloc[0]) / 100.0
    return out


def _ols(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    return beta


def _design(frame: "pd.DataFrame", spec: tuple[str, ...]) -> np.ndarray:
    return np.column_stack([np.ones(len(frame))] + [frame[c].to_numpy(float) for c in spec])


def _fit_stats(frame: "pd.DataFrame", spec: tuple[str, ...]) -> dict:
    """OLS fit of log(rate) on ``spec`` with R2 (log scale), RMSE and leave-one-out RMSE (pp)."""
    X = _design(frame, spec)
    y = np.log(frame["observed_rate_window"].to_numpy(float))
    beta = _ols(X, y)
    fitted = X @ beta
    r2 = 1 - np.sum((y - fitted) ** 2) / np.sum((y - y.mean()) ** 2)
    loo = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        loo.append(math.exp(X[i] @ _ols(X[keep], y[keep])) - math.exp(y[i]))
    return {"spec": list(spec), "coefficients": {n: float(b) for n, b in zip(("const",) + spec, beta)},
            "r2_log": float(r2), "rmse_pp": float(np.sqrt(np.mean((np.exp(fitted) - np.exp(y)) ** 2)) * 100),
            "loo_rmse_pp": float(np.sqrt(np.mean(np.square(loo))) * 100), "n": int(len(y)),
            "fitted": np.exp(fitted)}


def _tercile_scenarios(years: np.ndarray, index: np.ndarray) -> dict[str, Scenario]:
    order = np.argsort(-index, kind="stable")  # high to low
    n = len(order)
    k = int(round(n / 3))
    top, bottom = order[:k], order[n - k:]
    middle = order[k:n - k]
    rule_tail = (f"years {REFERENCE_PERIOD[0]}-{REFERENCE_PERIOD[1]} ranked by index and split in terciles "
                 f"({len(top)}/{len(middle)}/{len(bottom)} years)")
    yrs = lambda ix: tuple(sorted(int(y) for y in years[ix]))  # noqa: E731
    return {
        "hoogconjunctuur": Scenario("hoogconjunctuur", "boom", float(np.mean(index[top])), yrs(top),
                                    "top tercile: " + rule_tail + "; multiplier = mean index of these years"),
        "gemiddeld": Scenario("gemiddeld", "average", 1.0, yrs(middle),
                              "middle tercile: " + rule_tail + "; multiplier = 1.0 = mean over the reference "
                              f"period (middle-tercile mean {float(np.mean(index[middle])):.3f})"),
        "laagconjunctuur": Scenario("laagconjunctuur", "downturn", float(np.mean(index[bottom])), yrs(bottom),
                                    "bottom tercile: " + rule_tail + "; multiplier = mean index of these years"),
    }


# ---------------------------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------------------------
def build_cycle_index(write: bool = True) -> "pd.DataFrame":
    """Build the cycle index from the raw CBS tables (method in the module docstring).

    With ``write=True`` writes ``data/processed/cycle_index.csv`` and
    ``data/processed/cycle_index.provenance.json``. Returns the table.
    """
    import pandas as pd

    windows = _window_rates()
    u, u_source, splice = _unemployment()
    g = _gdp()
    first, last = REFERENCE_PERIOD
    need = list(range(int(windows["year"].min()) - 2, last + 1))
    for name, s in (("unemployment", u), ("GDP growth", g)):
        gaps = [y for y in need if y not in s.index or math.isnan(s[y])]
        if name == "GDP growth":
            gaps = [y for y in gaps if y >= first]  # GDP is a candidate only; needs the estimation years
        if gaps:
            raise InputError(f"{name} series has gaps in years the index needs", field=name, value=gaps[:5],
                             fix="use complete CBS exports (80590ned/83752NED, 85880NED)")

    w = WINDOW_SHARE_END_YEAR
    def wavg(s, t):  # noqa: E306
        return (1 - w) * s[t - 1] + w * s[t]
    windows["u"] = [wavg(u, t) for t in windows["year"]]
    windows["du"] = [wavg(u, t) - wavg(u, t - 1) for t in windows["year"]]
    windows["g"] = [wavg(g, t) for t in windows["year"]]

    candidates = [_fit_stats(windows, spec) for spec in CANDIDATE_SPECS]
    model = next(c for c in candidates if tuple(c["spec"]) == MODEL_SPEC)
    # allowed driver range = calendar-year values over the estimation years (step 4)
    est_years = [int(y) for y in windows["year"]]
    cal_drivers = {"u": [float(u[y]) for y in est_years], "du": [float(u[y] - u[y - 1]) for y in est_years],
                   "g": [float(g[y]) for y in est_years]}
    ranges = {c: (min(cal_drivers[c]), max(cal_drivers[c])) for c in MODEL_SPEC}

    years = np.arange(first, last + 1)
    cal = pd.DataFrame({"year": years})
    cal["unemployment_rate"] = [float(u[y]) for y in years]
    cal["unemployment_source"] = [u_source[y] for y in years]
    cal["unemployment_change"] = [float(u[y] - u[y - 1]) for y in years]
    cal["gdp_volume_growth"] = [float(g[y]) if y in g.index else float("nan") for y in years]
    drivers = {"u": cal["unemployment_rate"].to_numpy(), "du": cal["unemployment_change"].to_numpy(),
               "g": cal["gdp_volume_growth"].to_numpy()}
    logr = np.full(len(cal), model["coefficients"]["const"])
    clipped = np.zeros(len(cal), dtype=bool)
    for c in MODEL_SPEC:
        lo, hi = ranges[c]
        x = drivers[c]
        clipped |= (x < lo) | (x > hi)
        logr = logr + model["coefficients"][c] * np.clip(x, lo, hi)
    cal["modelled_rate"] = np.exp(logr)
    cal["outflow_to_work_rate"] = cal["modelled_rate"]
    cal["index"] = cal["outflow_to_work_rate"] / cal["outflow_to_work_rate"].mean()
    cal["clipped"] = clipped

    win = windows.set_index("year")
    for c in ("outflow_to_work_k", "outflow_total_k", "caseload_window_k", "observed_rate_window"):
        cal[c] = [float(win.loc[y, c]) if y in win.index else float("nan") for y in years]
    ow = win["observed_rate_window"]
    cal["observed_rate_calendar"] = [w * ow[y] + (1 - w) * ow[y + 1] if (y in ow.index and y + 1 in ow.index)
                                     else float("nan") for y in years]

    ended = _ended()
    case_year = cbs.yearly(cbs.read_table(SRC_CASELOAD["table"]), SRC_CASELOAD["column_total"])
    cal["ended_benefits"] = [float(ended[y]) if y in ended.index else float("nan") for y in years]
    cal["caseload_year_k"] = [float(case_year[y]) if y in case_year.index else float("nan") for y in years]
    cal["ended_rate"] = cal["ended_benefits"] / (cal["caseload_year_k"] * 1000)

    scen = _tercile_scenarios(years, cal["index"].to_numpy())
    by_year = {y: s.name for s in scen.values() for y in s.years}
    cal["scenario"] = [by_year[y] for y in years]

    cal = cal[list(COLUMNS)]
    fit = anchor_fit(cal)
    if write:
        out_dir = cbs.processed_dir()
        out_dir.mkdir(parents=True, exist_ok=True)
        cal.to_csv(out_dir / CSV_NAME, index=False, float_format="%.6g")
        prov = _provenance(cal, windows, candidates, model, ranges, splice, scen, fit)
        (out_dir / PROVENANCE_NAME).write_text(json.dumps(prov, indent=2, ensure_ascii=False) + "\n",
                                               encoding="utf-8")
        _cached_index.cache_clear()
    return cal


def _provenance(cal, windows, candidates, model, ranges, splice, scen, fit) -> dict:
    from importlib import metadata

    try:
        version = metadata.version("mkba")
    except metadata.PackageNotFoundError:  # pragma: no cover
        version = "unknown"
    srcs = [SRC_OUTFLOW, SRC_CASELOAD, SRC_UNEMPLOYMENT, SRC_UNEMPLOYMENT_OLD, SRC_GDP, SRC_ENDED]
    srcs += [dict(v, filter={"Leeftijd": "15 jaar of ouder", v["region_col"]: "Nederland"}, year=k,
                  unit="% of bijstand recipients who left for work") for k, v in SRC_REGIONAL_NL.items()]
    sources = []
    for s in srcs:
        entry = {k: v for k, v in s.items() if k != "region_col"}
        entry["attribution"] = cbs.source_label(s["table"])
        entry["sha256"] = cbs.file_sha256(s["table"])
        sources.append(entry)
    cross = cal[["year", "index", "ended_rate"]].dropna()
    national = _regional_national_rates()
    modelled = cal.set_index("year")["modelled_rate"]
    return {
        "output": f"data/processed/{CSV_NAME}",
        "built": _dt.datetime.now().isoformat(timespec="seconds"),
        "builder": "mkba.cycle.build_cycle_index", "mkba_version": version,
        "licence": f"CBS data {cbs.LICENCE}; attribute as 'Bron: CBS StatLine, tabel <ID>'",
        "sources": sources,
        "method": METHOD_STEPS,
        "columns": COLUMNS,
        "reference_period": list(REFERENCE_PERIOD),
        "beyond_data": "months after the last data year take index 1.0 (long-run mean; no forecast)",
        "window_weight_end_year": WINDOW_SHARE_END_YEAR,
        "unemployment_splice": splice,
        "model": {k: v for k, v in model.items() if k != "fitted"},
        "driver_ranges_in_estimation": {k: list(v) for k, v in ranges.items()},
        "candidates": [{k: v for k, v in c.items() if k != "fitted"} for c in candidates],
        "estimation_windows": [
            {"year": int(r.year), "observed_rate": float(r.observed_rate_window), "fitted_rate": float(f),
             "u_w": float(r.u), "du_w": float(r.du)}
            for r, f in zip(windows.itertuples(), model["fitted"])],
        "scenarios": {k: {"label_en": s.label_en, "multiplier": s.multiplier, "years": list(s.years),
                          "rule": s.rule} for k, s in scen.items()},
        "anchor_fit": fit,
        "cross_checks": {
            "ended_benefits_85617NED": {
                "years": [int(cross.year.min()), int(cross.year.max())] if len(cross) else [],
                "correlation_index_vs_ended_rate": _corr(cross["index"], cross["ended_rate"]),
                "correlation_after_linear_detrending": _corr(_detrend(np.log(cross["index"])),
                                                             _detrend(np.log(cross["ended_rate"]))),
                "note": "ended benefits count every exit reason and fall 2016-2023 while unemployment "
                        "falls: a structural trend (Participatiewet population, long durations) the "
                        "cycle index deliberately leaves out",
            },
            "national_outflow_to_work_municipal_tables": {
                str(y): {"cbs_rate": r, "modelled_rate": float(modelled[y]),
                         "table": SRC_REGIONAL_NL[y]["table"]} for y, r in national.items()},
        },
    }


def _corr(a, b) -> float | None:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.corrcoef(a, b)[0, 1]) if len(a) > 2 else None


def _detrend(x) -> np.ndarray:
    x = np.asarray(x, float)
    t = np.arange(len(x))
    return x - np.polyval(np.polyfit(t, x, 1), t)


# ---------------------------------------------------------------------------------------------
# fit against seeds
# ---------------------------------------------------------------------------------------------
def anchor_fit(table: "pd.DataFrame | None" = None) -> dict:
    """Fit of the index table against the seed anchors (:data:`SEED_ANCHORS`).

    Returns per-year rows (seed, modelled, observed, error in pp), the RMSE in percentage
    points of the modelled and the calendar-aligned observed rate, the RMSE after a single
    least-squares level factor (shape fit), the ratio boom/downturn
    ((2007+2008)/(2013+2014)) for seed and model, and the 2007-2014 mean against
    "een kleine 10 procent" (:data:`SEED_AVERAGE_REF`).
    """
    t = (load_cycle_index() if table is None else table).set_index("year")
    ys = sorted(SEED_ANCHORS)
    seed = np.array([SEED_ANCHORS[y] for y in ys])
    mod = t.loc[ys, "modelled_rate"].to_numpy(float)
    obs = t.loc[ys, "observed_rate_calendar"].to_numpy(float)
    k = float(seed @ mod / (mod @ mod))
    rmse = lambda a: float(np.sqrt(np.mean((a - seed) ** 2)) * 100)  # noqa: E731
    boom, down = [2007, 2008], [2013, 2014]
    ratio = lambda s: float(sum(s[y] for y in boom) / sum(s[y] for y in down))  # noqa: E731
    return {
        "reference": SEED_ANCHORS_REF,
        "definition_note": "seed: share of the WWB population leaving for work (CBS, per calendar year); "
                           "model: outflow to work (81574NED) / average benefits (37789ksz)",
        "per_year": [{"year": y, "seed": float(s), "modelled": float(m), "observed_calendar": float(o),
                      "error_pp": float((m - s) * 100), "calibrated": float(k * m),
                      "calibrated_error_pp": float((k * m - s) * 100)}
                     for y, s, m, o in zip(ys, seed, mod, obs)],
        "rmse_pp_modelled": rmse(mod),
        "rmse_pp_observed_calendar": rmse(obs),
        "level_factor": k,
        "rmse_pp_after_level_calibration": rmse(k * mod),
        "ratio_boom_downturn_seed": ratio(SEED_ANCHORS),
        "ratio_boom_downturn_model": ratio(dict(zip(ys, mod))),
        "mean_2007_2014_modelled": float(t.loc[2007:2014, "modelled_rate"].mean()),
        "mean_2007_2014_seed": SEED_AVERAGE_2007_2014,
        "mean_2007_2014_reference": SEED_AVERAGE_REF,
    }


# ---------------------------------------------------------------------------------------------
# loading and public accessors
# ---------------------------------------------------------------------------------------------
def load_cycle_index() -> "pd.DataFrame":
    """The cycle index table (``data/processed/cycle_index.csv``; built if missing).

    Columns include ``year``, ``outflow_to_work_rate``, ``index``, ``observed_rate_window``,
    ``modelled_rate``, ``scenario`` (descriptions in :data:`COLUMNS`).
    """
    import pandas as pd

    path = cbs.processed_dir() / CSV_NAME
    if not path.exists():
        return build_cycle_index(write=True)
    df = pd.read_csv(path)
    missing = [c for c in ("year", "outflow_to_work_rate", "index") if c not in df.columns]
    if missing:
        raise InputError("cycle index file lacks required columns", file=str(path), field=", ".join(missing),
                         fix="rebuild it with mkba.cycle.build_cycle_index()")
    return df


@lru_cache(maxsize=4)
def _cached_index(path_key: str) -> tuple[tuple[int, ...], tuple[float, ...], tuple[Scenario, ...]]:
    df = load_cycle_index()
    years = tuple(int(y) for y in df["year"])
    idx = tuple(float(v) for v in df["index"])
    scen = _tercile_scenarios(np.array(years), np.array(idx))
    return years, idx, tuple(scen.values())


def _index_data() -> tuple[dict[int, float], dict[str, Scenario]]:
    years, idx, scen = _cached_index(str(cbs.processed_dir() / CSV_NAME))
    return dict(zip(years, idx)), {s.name: s for s in scen}


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
        raise InputError(f"year outside the valid range {lo}-{hi}", field=field_name, value=value,
                         fix=f"use a year from {lo} to {hi}")
    return value


def _reference_index(reference_year: int | None) -> float:
    if reference_year is None:
        return 1.0
    data, _ = _index_data()
    return data[_check_year(reference_year, "reference_year", min(data), max(data))]


def multiplier_path(start_year: int, months: int, reference_year: int | None = None) -> np.ndarray:
    """Monthly multipliers on exit-to-work hazards for a case starting in January of ``start_year``.

    Element ``m`` (0-based) applies to month ``m`` after the start, i.e. calendar year
    ``start_year + m // 12``, and equals ``index[year] / index[reference_year]`` (or
    ``index[year]`` when ``reference_year`` is None: relative to gemiddeld = 1.0). Months after
    the last data year (2024) take index 1.0 (long-run mean; no forecast).

    ``start_year`` must be in 2002-2022 (:data:`REPLAY_START_YEARS`); ``months`` a positive whole
    number; ``reference_year`` a year with data (2002-2024).
    """
    y = _check_year(start_year, "start_year", *REPLAY_START_YEARS)
    if isinstance(months, bool) or not isinstance(months, (int, np.integer)) or int(months) < 1:
        raise InputError("months must be a positive whole number", field="months", value=months,
                         fix="pass the case horizon in months, e.g. 120")
    data, _ = _index_data()
    ref = _reference_index(reference_year)
    per_year = np.array([data.get(y + k, 1.0) for k in range((int(months) - 1) // 12 + 1)])
    return np.repeat(per_year, 12)[: int(months)] / ref


def scenario_multiplier(name: str, reference_year: int | None = None) -> float:
    """Multiplier of scenario ``name`` (Dutch name or English label), relative to ``reference_year``'s index
    if given, else to gemiddeld = 1.0. Unknown names raise :class:`InputError` with close matches."""
    _, scen = _index_data()
    if not isinstance(name, str):
        raise InputError("a cycle scenario name must be text", field="scenario", value=name,
                         fix=f"use one of {', '.join(scen)}")
    key = name.strip().lower()
    by_label = {s.label_en: s for s in scen.values()}
    s = scen.get(key) or by_label.get(key)
    if s is None:
        options = list(scen) + list(by_label)
        hits = closest(str(name), options)
        raise InputError("unknown cycle scenario", field="scenario", value=name,
                         fix=("did you mean " + " or ".join(f"'{h}'" for h in hits) + "?") if hits
                         else f"use one of {', '.join(options)}")
    return s.multiplier / _reference_index(reference_year)

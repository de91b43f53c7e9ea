"""A case scaled to one municipality, new local case files, and the municipal comparison.

``localise(case, "Zaanstad", share_reached=0.10)`` returns the approach of ``case`` as it would
run in that municipality, plus a dict of the local facts and notes. ``new_case_file`` writes
the same thing as a case file that lists every assumption; ``evaluate_municipalities`` runs
many municipalities x cycle scenarios in one vectorised batch; ``peer_group`` and
``compare_with_peers`` place a municipality among similar ones.

Rules (each applied in :func:`localise` and, identically, in :func:`evaluate_municipalities`)
-------------------------------------------------------------------------------------------
1. **Participants** = ``share_reached x N`` rounded half up, with ``N`` = algemene bijstand benefits of
   the municipality for fund year 2024 (CBS 85383NED ``AlgemeneBijstand_23``, *Definitief*;
   column ``bijstand_2024_algemeen`` of ``data/processed/municipalities.csv``). A positive
   ``N`` whose share rounds to 0 gives 1 participant (noted). ``N`` = 0 or missing is an
   :class:`~mkba.errors.InputError` saying so (there is no caseload to scale to); pass
   ``participants=`` to size the case yourself. ``share_reached`` defaults to
   :data:`DEFAULT_SHARE_REACHED` = 0.10 (FIP Sittard-Geleen gave the approach to 300 of
   about 3.250 recipients, about 9 %; see :data:`DEFAULT_SHARE_REACHED_REFERENCE`).
   A closed cohort gets all participants at month 0; a case with inflow keeps its split
   between starters and monthly inflow (starters rounded, inflow per month takes the rest).
2. **Cost per participant stays as in the case.** Every fixed cost of the approach is
   multiplied by ``k = participants / participants of the case`` (participants of the case =
   initial + inflow per month x inflow months within the horizon): ``programme.staff_fte``,
   ``programme.setup_cost``, ``programme.other_cost_per_month`` and
   ``secondment.overhead_per_month``. Per-participant and per-hour costs are unchanged. No
   economies (or diseconomies) of scale are assumed. Sensitivity ranges are scaled with them.
3. **Exit to work without the approach** (``baseline.work_exit_rate``) is multiplied by the
   municipality's outflow to work relative to the Netherlands in the CBS tables *Sociale
   zekerheid: gemeenten* 2015-2017 (83450NED ``UitstromersNaarWerk_9``, 83747NED and 84066NED
   ``UitstroomNaarWerk_9``: % of bijstand recipients who left for work, age 15 jaar of ouder):
   ratio = mean of the municipality's available percentages / mean of the Nederland row of
   the same tables over the same years. Years without a CBS percentage are left out (noted).
   If no year has one, or the municipality had fewer than :data:`MIN_RECIPIENTS_FOR_LOCAL_RATE`
   recipients a year on average in the years used, the rate is left unchanged, with a note --
   never set to 0. A rate of 0 in the case (e.g. the € 14.000 rule) stays 0.
4. **Count date**: ``evaluation.month`` is reset to 0 (extra ended benefits read at the end
   of the horizon): the case's count date belongs to its publication, and a local case has
   no published figures.
5. Everything else (effect, benefit level, wages, horizon, dates, discount rate, perspective)
   is the case's own. The local case carries no published figures, no pilot design and no
   variants of the original; its readings are the original's plus the local ones.

Case files (:func:`new_case_file`)
---------------------------------
The written file lists every parameter of :data:`mkba.schema.SCHEMA` under ``overrides`` and
``extends`` the parameter set at the root of the from-case's chain (``base``), not the from-case:
:func:`mkba.cases.load_case` would otherwise inherit the original's published figures (an
empty ``published:`` falls back to the parent's), pilot and variants. The from-case is named in
the header and ``notes``; its readings are copied; ``measured_in`` and the dates are kept.

Economic cycle (:func:`default_scenario_multipliers`)
----------------------------------------------------
Scenario multipliers are ``mkba.cycle.scenario_multiplier(name, reference_year)`` with the
case's ``measured_in`` year as the reference year (the labour market its exit chances were
observed in; :func:`mkba.cases.load_case` falls back to the start year), exactly as
:mod:`mkba.scenarios` does for one case: ``gemiddeld`` rescales the chances from that year to an
average year. A reference year outside the index (2002-2024) falls back to the index relative
to gemiddeld = 1.0 (noted in ``DataFrame.attrs``). The multiplier multiplies ``cycle.multiplier``.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import os
import re
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .cases import Case, Reading, case_path, cases_dir, load_case
from .errors import InputError
from .parameters import Parameter, parameter_set_path, read_yaml
from .schema import SCHEMA

#: Share of the municipality's algemene bijstand caseload the approach reaches, by default.
DEFAULT_SHARE_REACHED = 0.10
DEFAULT_SHARE_REACHED_REFERENCE = (
    "FIP Sittard-Geleen gave the approach to 300 recipients (003_1cff8ea758d15861.txt:778-780) of 3.250 bijstand "
    "recipients in the municipality (CBS 84066NED Bijstandsontvangers_2, 2017): 9 %, rounded to 10 %")
#: Fewest bijstand recipients a year (mean over the years used) for a local exit-to-work rate.
MIN_RECIPIENTS_FOR_LOCAL_RATE = 100

PARTICIPANTS_TABLE = "85383NED"
PARTICIPANTS_COLUMN = "AlgemeneBijstand_23"
PARTICIPANTS_FIELD = "bijstand_2024_algemeen"
PARTICIPANTS_YEAR = 2024

#: Fixed costs that scale with the number of participants (rule 2).
SCALED_WITH_PARTICIPANTS = ("programme.staff_fte", "programme.setup_cost", "programme.other_cost_per_month",
                            "secondment.overhead_per_month")
#: Metrics returned per municipality and scenario by :func:`evaluate_municipalities`.
LOCAL_METRICS = ("extra_ended_benefits", "benefit_months_saved", "gross_saving_eur", "programme_cost_eur",
                 "net_result_eur", "npv_eur", "bcr", "break_even_month", "cost_per_extra_ended_benefit_eur",
                 "societal_npv_eur")

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


# ---------------------------------------------------------------------------------------------
# CBS figures
# ---------------------------------------------------------------------------------------------
def _outflow_sources() -> dict[int, tuple[str, str, str, str, str]]:
    """year -> (table, region column, recipients column, count column, % column)."""
    from .municipalities import OUTFLOW

    return {y: (t, rc, s, n, p) for y, (t, _b, rc, s, n, p) in OUTFLOW.items()}


@lru_cache(maxsize=1)
def national_outflow_to_work() -> dict[int, float]:
    """Nederland row of the outflow-to-work tables 2015-2017: year -> % of recipients who left for work."""
    from . import cbs
    from .municipalities import OUTFLOW_AGE

    out = {}
    for year, (table, rc, _s, _n, pct) in _outflow_sources().items():
        row = cbs.select(cbs.read_table(table), Leeftijd=OUTFLOW_AGE, **{rc: "Nederland"})
        out[year] = float(row[pct].iloc[0])
    return out


def _cite_outflow(years: Iterable[int]) -> str:
    src = _outflow_sources()
    return ", ".join(f"CBS {src[y][0]} {src[y][4]}" for y in years)


def _municipality(query: str) -> dict[str, Any]:
    """:func:`mkba.municipalities.find_municipality` (old codes and names name their successor)."""
    from .municipalities import find_municipality

    return find_municipality(query)


# ---------------------------------------------------------------------------------------------
# the plan: local values for one municipality
# ---------------------------------------------------------------------------------------------
@dataclasses.dataclass
class _Plan:
    leaves: dict[str, dict]
    facts: dict[str, Any]
    readings: list[dict]


def _check_share(share: Any) -> float:
    if isinstance(share, bool) or not isinstance(share, (int, float, np.floating, np.integer)):
        raise InputError("the share of the caseload reached must be a number", field="share_reached", value=share,
                         fix="write e.g. 0.1 for 10 %")
    share = float(share)
    if math.isnan(share) or share <= 0 or share > 1:
        fix = "give a fraction above 0 and at most 1 (0.1 = 10 % of the caseload)"
        if 1 < share <= 100:
            fix = f"write {share / 100:g} for {share:g} %"
        raise InputError("the share of the caseload reached must lie in (0, 1]", field="share_reached", value=share,
                         fix=fix)
    return share


def _num(x: float) -> float | int:
    """A value as written to YAML: whole numbers as int, others at 10 significant digits."""
    x = float(x)
    if math.isfinite(x) and x.is_integer() and abs(x) < 1e15:
        return int(x)
    return float(f"{x:.10g}") if math.isfinite(x) else x


def _exact(x: float) -> float | int:
    """A copied value as written to YAML: whole numbers as int, others unchanged (repr round-trips)."""
    x = float(x)
    return int(x) if math.isfinite(x) and x.is_integer() and abs(x) < 1e15 else x


def _fmt_int(x: float) -> str:
    return f"{x:,.0f}".replace(",", ".")


def _case_participants(values: Mapping[str, float]) -> float:
    H = values["horizon.months"]
    return values["cohort.initial_participants"] + values["cohort.inflow_per_month"] * min(values["cohort.inflow_months"], H)


def _scaled_leaf(p: Parameter, factor: float, why: str, date: str | None = None) -> dict:
    leaf = {"value": _num(p.value * factor), "unit": p.unit, "date": date or p.date or PARTICIPANTS_YEAR, "reference":
            f"{p.reference}; x {factor:.6g} ({why})"}
    if p.low is not None and p.high is not None:
        spec = SCHEMA[p.name]
        lo, hi = p.low * factor, p.high * factor
        lo, hi = max(lo, spec.minimum), min(hi, spec.maximum)
        v = leaf["value"]
        if lo <= v <= hi:
            leaf.update(low=_num(lo), high=_num(hi), range_reason=f"{p.range_reason or ''} (scaled x {factor:.4g})".strip())
    return leaf


def _plan(case: Case, muni: Mapping[str, Any], share: float, *, participants: int | None = None,
          national: Mapping[int, float] | None = None) -> _Plan:
    """Local override leaves, facts and readings for ``case`` in municipality ``muni`` (rules 1-4)."""
    v = case.values
    P_ = case.parameters
    name, gm = str(muni["name"]), str(muni["gm_code"])
    notes: list[str] = []
    readings: list[dict] = []
    leaves: dict[str, dict] = {}
    raw_n = muni.get(PARTICIPANTS_FIELD)
    N = float(raw_n) if raw_n is not None and not (isinstance(raw_n, float) and math.isnan(raw_n)) else float("nan")
    cite_n = f"CBS {PARTICIPANTS_TABLE} {PARTICIPANTS_COLUMN} ({PARTICIPANTS_YEAR}, Definitief)"
    facts: dict[str, Any] = {
        "gm_code": gm, "name": name, "province": muni.get("province"), "size_class": muni.get("size_class"),
        "urbanisation": muni.get("urbanisation"), "population": muni.get("population"),
        "bijstand_2024_algemeen": N, "bijstand_2024_total": muni.get("bijstand_2024_total"),
        "share_reached": share, "from_case": case.name, "from_variant": case.variant,
        "notes": notes, "data_notes": str(muni.get("notes") or ""),
        "sources": [f"Bron: CBS StatLine, tabel {PARTICIPANTS_TABLE}"],
    }

    # --- rule 1: participants
    if participants is not None:
        if isinstance(participants, bool) or not isinstance(participants, (int, np.integer)) or participants < 1:
            raise InputError("participants must be a positive whole number", field="participants", value=participants,
                             fix="e.g. participants=50")
        P = int(participants)
        p_ref = f"assumption: {P} participants given by the user for {name} ({gm})"
        if not math.isnan(N):
            p_ref += f"; for comparison {cite_n}: {_fmt_int(N)} benefits"
        notes.append(f"participants: {P}, given by the user (not share x caseload)")
        rule = "given"
    else:
        if math.isnan(N):
            raise InputError(f"no algemene bijstand figure for {name} ({gm}) in {cite_n}", field="municipality",
                             value=gm, fix="give the number of participants yourself (participants=... / --participants)")
        if N <= 0:
            raise InputError(f"{name} ({gm}) had 0 algemene bijstand benefits in {PARTICIPANTS_YEAR} ({cite_n}; CBS "
                             "rounds to tens): there is no caseload to scale the case to", field="municipality",
                             value=gm, fix="give the number of participants yourself (participants=... / --participants)")
        P = int(math.floor(share * N + 0.5))  # half up, not Python's half-to-even
        rule = "share x caseload"
        if P < 1:
            P = 1
            rule = "share x caseload, raised to 1"
            notes.append(f"participants: {share:g} x {_fmt_int(N)} rounds to 0; set to 1")
        p_ref = f"{cite_n}: {_fmt_int(N)} benefits in {name} x share reached {share:g} = {P}"
    P0 = _case_participants(v)
    k = P / P0
    facts.update(participants=P, participants_rule=rule, from_participants=P0, scale=k)
    inflow_m = min(v["cohort.inflow_months"], v["horizon.months"])
    if v["cohort.inflow_per_month"] > 0 and inflow_m > 0:
        start = int(round(P * v["cohort.initial_participants"] / P0))
        per_month = (P - start) / inflow_m
        leaves["cohort.initial_participants"] = {"value": start, "unit": SCHEMA["cohort.initial_participants"].unit,
                                                 "date": PARTICIPANTS_YEAR, "reference": p_ref + f"; starters as in "
                                                 f"{case.name} ({v['cohort.initial_participants']:g} of {P0:g})"}
        leaves["cohort.inflow_per_month"] = {"value": _num(per_month), "unit": SCHEMA["cohort.inflow_per_month"].unit,
                                             "date": PARTICIPANTS_YEAR, "reference": p_ref + f"; the rest enters over "
                                             f"{inflow_m:g} months as in {case.name}"}
    else:
        leaves["cohort.initial_participants"] = {"value": P, "unit": SCHEMA["cohort.initial_participants"].unit,
                                                 "date": PARTICIPANTS_YEAR, "reference": p_ref}
    readings.append({"topic": f"Participants in {name}",
                     "choice": (f"{P} participants = {share:g} x {_fmt_int(N)} algemene bijstand benefits"
                                if rule.startswith("share") else f"{P} participants, given by the user"),
                     "why": "the share of the caseload the approach reaches is a choice of the municipality; default "
                            f"{DEFAULT_SHARE_REACHED:g}: {DEFAULT_SHARE_REACHED_REFERENCE}",
                     "reference": cite_n})

    # --- rule 2: fixed costs scale with participants
    scaled = []
    for pname in SCALED_WITH_PARTICIPANTS:
        if v[pname] > 0:
            leaves[pname] = _scaled_leaf(P_[pname], k, f"participants {P} / {P0:g} in {case.name}: same cost per "
                                                       "participant, mkba.local rule 2")
            scaled.append(pname)
    facts["scaled"] = {p: (v[p], leaves[p]["value"]) for p in scaled}
    facts["staff_fte"] = float(leaves["programme.staff_fte"]["value"]) if "programme.staff_fte" in leaves \
        else v["programme.staff_fte"]
    if scaled:
        readings.append({"topic": "Staff and fixed costs",
                         "choice": f"{', '.join(scaled)} x {k:.4g} ({P} participants instead of {P0:g})",
                         "why": f"the cost per participant of {case.name} is the best evidence of what the approach "
                                "costs; no economies of scale are assumed"})

    # --- rule 3: exit to work without the approach
    national = dict(national if national is not None else national_outflow_to_work())
    pct = {y: muni.get(f"outflow_to_work_pct_{y}") for y in sorted(national)}
    pct = {y: (float(x) if x is not None and not (isinstance(x, float) and math.isnan(x)) else float("nan"))
           for y, x in pct.items()}
    used = [y for y, x in pct.items() if not math.isnan(x)]
    missing = [y for y, x in pct.items() if math.isnan(x)]
    recipients = [muni.get(f"bijstand_recipients_{y}") for y in used]
    mean_rec = float(np.mean([float(r) for r in recipients])) if used else float("nan")
    facts.update(outflow_to_work_pct=pct, outflow_years_used=used, outflow_recipients_mean=mean_rec,
                 outflow_national_pct={y: national[y] for y in national},
                 outflow_local_pct=float(np.mean([pct[y] for y in used])) if used else float("nan"),
                 outflow_ratio=float("nan"), work_exit_rate_from=v["baseline.work_exit_rate"],
                 work_exit_rate=v["baseline.work_exit_rate"])
    facts["sources"] += [f"Bron: CBS StatLine, tabel {_outflow_sources()[y][0]}" for y in sorted(national)]
    if missing:
        notes.append(f"outflow to work: CBS gives no percentage for {name} in {', '.join(map(str, missing))} "
                     f"({_cite_outflow(missing)}); " + ("left out of the mean" if used else "no local figure"))
    if not used:
        notes.append("baseline.work_exit_rate left as in the case: no local outflow-to-work figure")
    elif mean_rec < MIN_RECIPIENTS_FOR_LOCAL_RATE:
        notes.append(f"baseline.work_exit_rate left as in the case: {name} had {mean_rec:.0f} bijstand recipients a "
                     f"year on average ({', '.join(map(str, used))}), fewer than {MIN_RECIPIENTS_FOR_LOCAL_RATE}; "
                     "too few for a local rate")
    elif v["baseline.work_exit_rate"] == 0:
        notes.append(f"baseline.work_exit_rate stays 0 as in {case.name} (the case assumes no exits to work anyway)")
    else:
        local, nat = facts["outflow_local_pct"], float(np.mean([national[y] for y in used]))
        ratio = local / nat
        yrs = "-".join(str(y) for y in (used[0], used[-1])) if len(used) > 1 else str(used[0])
        leaf = _scaled_leaf(P_["baseline.work_exit_rate"], ratio,
                            f"local / national outflow to work: {name} {local:.2f} % / Nederland {nat:.2f} %, mean "
                            f"of {', '.join(map(str, used))} ({_cite_outflow(used)}; 15 jaar of ouder)", date=yrs)
        if leaf["value"] > 1:  # cannot happen with CBS percentages, but never write an impossible rate
            leaf["value"] = 1
            notes.append("baseline.work_exit_rate capped at 1")
        leaves["baseline.work_exit_rate"] = leaf
        facts.update(outflow_ratio=ratio, work_exit_rate=float(leaf["value"]))
        readings.append({"topic": "Exit to work without the approach",
                         "choice": f"baseline.work_exit_rate x {ratio:.3f}: {v['baseline.work_exit_rate']:g} -> "
                                   f"{float(leaf['value']):.4g} a year",
                         "why": f"{name}'s outflow to work ({local:.2f} % of recipients a year) against the Netherlands' "
                                f"({nat:.2f} %) in the same CBS tables and years; the case's own rate is kept as the "
                                "national level",
                         "reference": _cite_outflow(used)})

    # --- rule 4: count date
    if v["evaluation.month"] != 0:
        leaves["evaluation.month"] = {"value": 0, "unit": SCHEMA["evaluation.month"].unit, "date": PARTICIPANTS_YEAR,
                                      "reference": f"mkba.local rule 4: a local case has no published count date "
                                                   f"({case.name} counted at month {v['evaluation.month']:g}); extra "
                                                   "ended benefits are read at the end of the horizon"}
    for note in notes:
        readings.append({"topic": "Local data", "choice": note,
                         "why": "what CBS does not give (or gives for too few people) is reported, never taken as 0"})
    facts["overrides"] = {k2: (v[k2], float(leaf["value"])) for k2, leaf in leaves.items()}
    return _Plan(leaves=leaves, facts=facts, readings=readings)


def _local_meta(case: Case, facts: Mapping[str, Any]) -> dict[str, Any]:
    name, gm, P = facts["name"], facts["gm_code"], facts["participants"]
    if facts["participants_rule"] == "given":
        how = f"{P} participants"
    else:
        how = (f"{P} participants = {facts['share_reached'] * 100:g} % of {_fmt_int(facts['bijstand_2024_algemeen'])} "
               f"algemene bijstand benefits (CBS {PARTICIPANTS_TABLE}, {PARTICIPANTS_YEAR})")
    return {"title": f"{case.title} - {name}", "summary": f"{case.title} scaled to {name} ({gm}): {how}"}


def localise(case: Case, municipality: str, share_reached: float = DEFAULT_SHARE_REACHED, *,
             participants: int | None = None) -> tuple[Case, dict]:
    """``case`` scaled to ``municipality`` (GM code or name) by the rules in the module docstring.

    Returns ``(local_case, facts)``: the case (name ``<case>_<gm code>``, no published figures,
    pilot or variants) and a dict with the local figures used, ``notes`` (missing or thin data,
    never silently 0), ``overrides`` (name -> (case value, local value)) and ``sources``.
    An unknown code or a misspelt name raises :class:`InputError` with the closest names.
    """
    share = _check_share(share_reached)
    muni = _municipality(municipality)
    plan = _plan(case, muni, share, participants=participants)
    meta = _local_meta(case, plan.facts)
    base = dataclasses.replace(
        case, name=f"{case.name}_{plan.facts['gm_code'].lower()}", title=meta["title"], summary=meta["summary"],
        published=[], variants={}, pilot=None, variant=None, source_file=None,
        readings=list(case.readings) + [Reading(**r) for r in plan.readings], notes=list(case.notes))
    local = base.with_overrides(plan.leaves, source=f"mkba.local ({plan.facts['gm_code']})")
    plan.facts["case"] = local.name
    return local, plan.facts


# ---------------------------------------------------------------------------------------------
# many municipalities at once
# ---------------------------------------------------------------------------------------------
def measurement_year(case: Case) -> int:
    """The year whose labour market the case's exit chances reflect: ``measured_in``, else the start year."""
    return int(getattr(case, "measured_in", None) or case.start_date.year)


def default_scenario_multipliers(case: Case, reference_year: int | None = None) -> dict[str, float]:
    """``{scenario: multiplier}`` for the three cycle scenarios, relative to the case's measurement year."""
    from . import cycle

    ref = measurement_year(case) if reference_year is None else reference_year
    names = list(cycle.scenarios())
    try:
        return {n: cycle.scenario_multiplier(n, ref) for n in names}
    except InputError:
        if reference_year is not None:
            raise
        return {n: cycle.scenario_multiplier(n, None) for n in names}


def scenario_key(name: str) -> str:
    """The Dutch scenario name for a Dutch name or English label; unknown names raise with close matches."""
    from . import cycle

    cycle.scenario_multiplier(name)  # validates, with close matches
    key = name.strip().lower()
    return next(k for k, s in cycle.scenarios().items() if key in (k, s.label_en))


def evaluate_municipalities(case: Case, gm_codes: str | Iterable[str] = "all",
                            share_reached: float = DEFAULT_SHARE_REACHED,
                            scenario_multipliers: Mapping[str, float] | None = None, *,
                            reference_year: int | None = None, metrics: Sequence[str] = LOCAL_METRICS):
    """``case`` localised to each municipality, under each cycle scenario, in one vectorised batch.

    ``gm_codes``: anything :func:`mkba.municipalities.select_municipalities` takes ("all", GM codes,
    names, provinces). ``scenario_multipliers``: ``{name: multiplier on exit-to-work chances}``;
    default :func:`default_scenario_multipliers` (``reference_year`` = the case's start year).
    Returns one row per municipality x scenario: identity, local inputs, ``metrics``,
    ``npv_per_participant_eur``, ``pays_off`` (NPV > 0) and ``notes``. A municipality that
    cannot be localised (no caseload) gets NaN metrics and a note saying why.
    """
    import pandas as pd

    from .model import evaluate_batch
    from .municipalities import select_municipalities

    share = _check_share(share_reached)
    codes = _known_codes(gm_codes)  # exact GM codes of a shared batch table: no name lookup needed
    rows = select_municipalities(gm_codes) if codes is None else None
    attrs: dict[str, Any] = {"case": case.name, "share_reached": share}
    if scenario_multipliers is None:
        ref = measurement_year(case) if reference_year is None else reference_year
        scenario_multipliers = default_scenario_multipliers(case, reference_year)
        from . import cycle
        try:
            cycle.index_for_year(ref)
            attrs["reference_year"] = ref
        except InputError:
            attrs["reference_year"] = None
            attrs["note"] = f"reference year {ref} is outside the cycle index; multipliers relative to gemiddeld = 1.0"
    scen = {str(k): float(m) for k, m in scenario_multipliers.items()}
    if not scen:
        raise InputError("no scenarios given", field="scenario_multipliers", fix="e.g. {'gemiddeld': 1.0}")
    shared = _shared_table(case, share, scen, metrics)
    if shared is not None:  # computed once for the whole batch (share_municipal_batch)
        return _subset_of_shared(shared, codes if codes is not None else list(rows["gm_code"]), scen, attrs)
    if rows is None:
        rows = select_municipalities(gm_codes)
    national = national_outflow_to_work()
    plans: list[_Plan | None] = []
    errors: list[str] = []
    for rec in rows.to_dict("records"):
        try:
            plans.append(_plan(case, rec, share, national=national))
            errors.append("")
        except InputError as exc:
            plans.append(None)
            errors.append(exc.problem)
    ok = [i for i, p in enumerate(plans) if p is not None]
    S = len(scen)
    mults = np.array(list(scen.values()))
    results: dict[str, np.ndarray] = {}
    if ok:
        names = sorted({n for i in ok for n in plans[i].leaves})
        overrides = {n: np.repeat(np.array([float(plans[i].leaves[n]["value"]) if n in plans[i].leaves
                                            else case.values[n] for i in ok]), S) for n in names}
        overrides["cycle.multiplier"] = np.tile(mults * case.values["cycle.multiplier"], len(ok))
        results = evaluate_batch(case, overrides)
    out_rows = []
    pos = {i: j for j, i in enumerate(ok)}
    for i, rec in enumerate(rows.to_dict("records")):
        plan = plans[i]
        for s, (sname, mult) in enumerate(scen.items()):
            row = {"gm_code": rec["gm_code"], "name": rec["name"], "province": rec["province"],
                   "size_class": rec["size_class"], "size_class_code": rec["size_class_code"],
                   "urbanisation": rec["urbanisation"], "urbanisation_code": rec["urbanisation_code"],
                   "bijstand_2024_algemeen": rec[PARTICIPANTS_FIELD], "scenario": sname,
                   "cycle_multiplier": mult * case.values["cycle.multiplier"]}
            if plan is None:
                row.update(participants=np.nan, staff_fte=np.nan, work_exit_rate=np.nan, outflow_ratio=np.nan,
                           **{m: np.nan for m in metrics}, npv_per_participant_eur=np.nan, pays_off=np.nan,
                           notes=errors[i])
            else:
                j = pos[i] * S + s
                f = plan.facts
                row.update(participants=f["participants"], staff_fte=f["staff_fte"],
                           work_exit_rate=f["work_exit_rate"], outflow_ratio=f["outflow_ratio"],
                           **{m: float(results[m][j]) for m in metrics})
                npv = float(results["npv_eur"][j])
                row.update(npv_per_participant_eur=npv / f["participants"], pays_off=npv > 0,
                           notes="; ".join(f["notes"]))
            out_rows.append(row)
    df = pd.DataFrame(out_rows)
    df.attrs.update(attrs, scenario_multipliers=scen)
    return df


#: tables for all municipalities computed once per batch: (assumptions hash, share, scenarios, metrics) -> table
_SHARED_TABLES: dict = {}


def _shared_key(case: Case, share: float, scen: Mapping[str, float], metrics: Sequence[str]):
    return (case.assumptions_hash(), float(share), tuple(sorted(scen.items())), tuple(metrics))


def share_municipal_batch(case: Case, share_reached: float = DEFAULT_SHARE_REACHED, *,
                          metrics: Sequence[str] = LOCAL_METRICS):
    """Compute ``case`` for every municipality x default scenario in one batch, and keep it.

    Afterwards :func:`evaluate_municipalities` (and so :func:`compare_with_peers`) answers any
    subset of those municipalities and scenarios from this table instead of running the model
    again: the rows are the same computation (the batch model is element-wise per row). The
    renderer calls this in the fork server before kernels are forked, so every municipal
    report of a batch shares one model call.
    """
    share = _check_share(share_reached)
    scen = {str(k): float(m) for k, m in default_scenario_multipliers(case).items()}
    key = _shared_key(case, share, scen, metrics)
    if key not in _SHARED_TABLES:
        table = evaluate_municipalities(case, "all", share, metrics=metrics)
        _SHARED_TABLES[key] = {"table": table, "_codes": frozenset(table["gm_code"])}
    return _SHARED_TABLES[key]["table"]


def _known_codes(gm_codes: Any) -> list[str] | None:
    """``gm_codes`` as a list if every item is a GM code listed in a shared table (else None)."""
    if not _SHARED_TABLES or isinstance(gm_codes, str):
        return None
    try:
        codes = [str(c) for c in gm_codes]
    except TypeError:
        return None
    known = _SHARED_TABLES[next(iter(_SHARED_TABLES))].get("_codes")
    if known is None:
        return None
    return codes if codes and all(c in known for c in codes) else None


def _shared_table(case: Case, share: float, scen: Mapping[str, float], metrics: Sequence[str]):
    if not _SHARED_TABLES:
        return None
    h, m = case.assumptions_hash(), tuple(metrics)
    for (kh, ks, kscen, km), table in _SHARED_TABLES.items():
        if kh == h and ks == float(share) and km == m and set(scen.items()) <= set(kscen):
            return table["table"]
    return None


def _subset_of_shared(table, codes: list[str], scen: Mapping[str, float], attrs: Mapping[str, Any]):
    order = {c: i for i, c in enumerate(codes)}
    sorder = {s: i for i, s in enumerate(scen)}
    sub = table[table["gm_code"].isin(order) & table["scenario"].isin(sorder)]
    sub = sub.assign(_o=sub["gm_code"].map(order) * len(sorder) + sub["scenario"].map(sorder))
    sub = sub.sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)
    sub.attrs = {}
    sub.attrs.update(attrs, scenario_multipliers=dict(scen))
    return sub


def peer_group(gm_code: str):
    """Municipalities of the same size class and urbanisation as ``gm_code`` (code or name), itself included.

    Columns as in ``data/processed/municipalities.csv`` plus ``is_self``; sorted by population.
    ``attrs["note"]`` says when the group has fewer than 3 other members.
    """
    from .municipalities import load_municipalities

    me = _municipality(gm_code)
    df = load_municipalities()
    peers = df[(df["size_class_code"] == me["size_class_code"]) & (df["urbanisation_code"] == me["urbanisation_code"])]
    peers = peers.assign(is_self=peers["gm_code"] == me["gm_code"]).sort_values("population", ascending=False)
    peers = peers.reset_index(drop=True)
    peers.attrs["gm_code"] = me["gm_code"]
    peers.attrs["rule"] = f"size class '{me['size_class']}' and urbanisation '{me['urbanisation']}' (CBS 85755NED)"
    if len(peers) < 4:
        peers.attrs["note"] = (f"only {len(peers) - 1} other municipalities share {me['name']}'s size class and "
                               "urbanisation; compare with care")
    return peers


def compare_with_peers(case: Case, municipality: str, share_reached: float = DEFAULT_SHARE_REACHED,
                       scenario: str = "gemiddeld", metric: str = "npv_per_participant_eur", *,
                       reference_year: int | None = None):
    """Where ``municipality`` stands among its :func:`peer_group` for ``case`` under one cycle scenario.

    Returns the peers' rows of :func:`evaluate_municipalities` with ``rank`` (1 = highest
    ``metric``) and ``is_self``; ``attrs`` hold the municipality's rank, the group size and its
    percentile (share of peers with a lower value). The default metric is NPV per participant,
    which compares the approach rather than the size of the caseload.
    """
    peers = peer_group(municipality)
    key = scenario_key(scenario)
    mult = default_scenario_multipliers(case, reference_year)
    res = evaluate_municipalities(case, list(peers["gm_code"]), share_reached, {key: mult[key]})
    if metric not in res.columns:
        from .errors import did_you_mean

        raise InputError(f"unknown metric '{metric}'", field="metric", fix=did_you_mean(metric, list(res.columns)))
    res["is_self"] = res["gm_code"] == peers.attrs["gm_code"]
    res["rank"] = res[metric].rank(ascending=False, method="min")
    res = res.sort_values(["rank", "name"]).reset_index(drop=True)
    me = res[res["is_self"]].iloc[0]
    valid = res[metric].notna()
    res.attrs.update(peers.attrs)
    rank = int(me["rank"]) if me["rank"] == me["rank"] else None
    res.attrs.update(metric=metric, scenario=key, rank=rank, group_size=int(valid.sum()),
                     percentile=float((res.loc[valid, metric] < me[metric]).mean()) if valid.any() else float("nan"))
    return res


# ---------------------------------------------------------------------------------------------
# writing a case file
# ---------------------------------------------------------------------------------------------
def _root_parameter_set(from_case: str | Path) -> str:
    """The parameter set at the root of a case's ``extends`` chain."""
    seen: set[str] = set()
    path = case_path(from_case)
    while True:
        ext = str(read_yaml(path).get("extends", "base"))
        if parameter_set_path(ext).exists() and not (cases_dir() / f"{ext}.yaml").exists():
            return ext
        if ext in seen:
            raise InputError("cases extend each other in a loop", file=str(path), field="extends", value=ext,
                             fix="break the loop")
        seen.add(ext)
        path = case_path(ext)


def _slug(text: str) -> str:
    import unicodedata

    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    s = re.sub(r"[^a-z0-9]+", "_", s).strip("_")
    return s if s and s[0].isalpha() else f"case_{s}".strip("_")


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InputError("a case name uses lower-case letters, digits and underscores and starts with a letter",
                         field="name", value=name, fix=f"e.g. '{_slug(name) if isinstance(name, str) else 'my_case'}'")
    if parameter_set_path(name).exists():
        raise InputError(f"'{name}' is the name of a parameter set; a case of that name would shadow it",
                         field="name", value=name, fix=f"e.g. '{name}_local'")
    return name


def _leaf_from_parameter(p: Parameter, fallback_date: str) -> dict:
    leaf: dict[str, Any] = {"value": _exact(p.value), "unit": p.unit, "date": p.date or fallback_date,
                            "reference": p.reference}
    if p.low is not None and p.high is not None:
        leaf.update(low=_exact(p.low), high=_exact(p.high), range_reason=p.range_reason or "as in the case")
    if p.note:
        leaf["note"] = p.note
    return leaf


def _yaml_date(d: Any) -> Any:
    s = str(d)
    return int(s) if re.fullmatch(r"\d{4}", s) else s


def _dump_flow(obj: Any) -> str:
    import yaml

    return yaml.safe_dump(obj, default_flow_style=True, width=10 ** 9, allow_unicode=True, sort_keys=False).strip()


def _dump_block(obj: Any) -> str:
    import yaml

    return yaml.safe_dump(obj, default_flow_style=False, width=110, allow_unicode=True, sort_keys=False)


def _render_case_file(*, name: str, case: Case, extends: str, from_label: str, leaves: Mapping[str, dict],
                      local_names: set[str], readings: list[dict], notes: list[str], header: list[str]) -> str:
    lines = [f"# {h}" if h else "#" for h in header]
    meta = {"name": name, "title": case.title, "summary": case.summary, "extends": extends,
            "start_date": case.start_date, "appraisal_date": case.appraisal_date, "perspective": case.perspective,
            "discount_convention": case.discount_convention}
    if getattr(case, "measured_in", None) is not None:
        meta["measured_in"] = int(case.measured_in)
    lines.append(_dump_block(meta).rstrip())
    if notes:
        lines.append(_dump_block({"notes": notes}).rstrip())
    lines.append("overrides:")
    section = None
    for pname in SCHEMA:
        sec = pname.split(".", 1)[0]
        if sec != section:
            lines.append(f"  # --- {sec}")
            section = sec
        spec = SCHEMA[pname]
        tag = " LOCAL (from CBS data / scaled, see readings)." if pname in local_names else ""
        lines.append(f"  # {spec.description} [{spec.unit}].{tag}")
        leaf = dict(leaves[pname])
        leaf["date"] = _yaml_date(leaf["date"])
        lines.append(f"  {pname}: {_dump_flow(leaf)}")
    if readings:
        lines.append(_dump_block({"readings": readings}).rstrip())
    lines.append("# A local case has no published figures to reproduce.")
    lines.append("published: []")
    return "\n".join(lines) + "\n"


def _reading_dict(r: Reading) -> dict:
    return {k: v for k, v in r.model_dump().items() if v not in (None, [], "")}


def new_case_file(name: str, from_case: str | Path, municipality: str | None = None, out_dir: str | Path | None = None,
                  share_reached: float = DEFAULT_SHARE_REACHED, *, participants: int | None = None,
                  variant: str | None = None, overwrite: bool = False) -> Path:
    """Write ``<out_dir>/<name>.yaml``: ``from_case`` (optionally localised to ``municipality``) as a case file.

    Every model parameter (all of :data:`mkba.schema.SCHEMA`) is listed under ``overrides`` with its
    value, unit, date and reference (the resolved case's; local ones cite CBS). The file extends
    the parameter set at the root of ``from_case``'s chain (normally ``base``), not ``from_case``
    itself, so that the original's published figures, pilot and variants do not leak into it
    (``mkba.cases.load_case`` would inherit them); the from-case is named in ``notes`` and the
    header. Its readings are copied. ``published:`` is empty. ``variant`` bakes a variant of
    the from-case into the values. Without ``municipality`` the values are the from-case's.

    ``out_dir`` defaults to ``data/cases``. The file is written atomically after it has been
    loaded with :func:`mkba.cases.load_case` and its values checked against :func:`localise`.
    An existing file is kept unless ``overwrite=True``.
    """
    name = _check_name(name)
    out = Path(out_dir) if out_dir is not None else cases_dir()
    target = out / f"{name}.yaml"
    if target.exists() and not overwrite:
        raise InputError("a case file of this name exists", file=str(target), field="name", value=name,
                         fix="choose another name or pass overwrite=True (--overwrite)")
    src = load_case(from_case, variant=variant)
    extends = _root_parameter_set(from_case)
    from_label = src.name + (f" (variant {variant})" if variant else "")
    src_file = Path(src.source_file).name if src.source_file else str(from_case)
    today = _dt.date.today().isoformat()
    if municipality is not None:
        case, facts = localise(src, municipality, share_reached, participants=participants)
        local_names = set(facts["overrides"])
        where = f"for {facts['name']} ({facts['gm_code']}), " + (
            f"share of the caseload reached {facts['share_reached']:g}" if facts["participants_rule"] != "given"
            else f"{facts['participants']} participants")
        readings = [_reading_dict(r) for r in case.readings]
        readings.append({"topic": "Local figures", "choice": f"local figures for {facts['name']} ({facts['gm_code']}) "
                         f"from CBS data and the rules of mkba.local: {', '.join(sorted(local_names))}",
                         "why": "mkba.local rules 1-4 (see the module docstring of mkba.local)",
                         "reference": "; ".join(dict.fromkeys(facts["sources"]))})
    else:
        if participants is not None:
            raise InputError("participants needs a municipality", field="participants", value=participants,
                             fix="add --municipality, or edit cohort.initial_participants in the written file")
        case = dataclasses.replace(src, published=[], variants={}, pilot=None, variant=None,
                                   title=f"{src.title} (copy)", summary=src.summary)
        local_names = set()
        where = "unchanged (no municipality given)"
        readings = [_reading_dict(r) for r in case.readings]
    case = dataclasses.replace(case, name=name)
    notes = list(case.notes) + [f"Written by mkba new on {today} from case {from_label} ({src_file}) {where}."]
    fallback_date = str(case.start_date.year)
    leaves = {p: _leaf_from_parameter(case.parameters[p], fallback_date) for p in SCHEMA}
    header = [
        f"Case file written by `mkba new` on {today} from case '{from_label}' ({src_file})",
        f"{where}.",
        "",
        "How to edit:",
        "- Every model parameter is listed under `overrides:` with its value, unit, date and reference. Change a",
        "  value and update its date and reference (a source, or 'assumption: <why>'); keep the unit: it is checked.",
        "- Fractions are written as fractions (0.3 = 30 %), money without separators (14000 = EUR 14.000),",
        "  durations in months (60 = five years). Sensitivity ranges (low/high) must contain the value.",
        "- Entries marked LOCAL were computed from CBS data for this municipality; the readings say how.",
        "- discount.rate is fixed here; delete its entry to take the rate in force on appraisal_date.",
        "- This file stands on its own: it extends the parameter set, not the case it came from, so the",
        "  original's published figures, pilot and variants do not apply to it.",
        "- Check it with `mkba validate <this file>` and run it with `mkba run <this file>`.",
        "",
    ]
    text = _render_case_file(name=name, case=case, extends=extends, from_label=from_label, leaves=leaves,
                             local_names=local_names, readings=readings, notes=notes, header=header)
    out.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=".mkba-new-", dir=out))
    try:
        tmp = tmp_dir / target.name
        tmp.write_text(text, encoding="utf-8")
        loaded = load_case(tmp)
        if loaded.values != case.values:  # pragma: no cover - a bug here, not bad input
            diff = sorted(k for k in case.values if loaded.values.get(k) != case.values[k])
            raise RuntimeError(f"written case file does not reproduce the values: {diff}")
        if target.exists() and not overwrite:
            raise InputError("a case file of this name exists", file=str(target), field="name", value=name,
                             fix="choose another name or pass overwrite=True (--overwrite)")
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return target

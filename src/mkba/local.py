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
2. **Money and staff follow their scaling rule** (:mod:`mkba.scaling`, one rule per parameter):
   staff by the case's caseload ratio (FTE = participants / (participants of the case / FTE of
   the case); participants of the case = initial + inflow per month x inflow months within the
   horizon); per-participant amounts and prices stay (the model multiplies them by the people);
   fixed running costs and one-off set-up costs stay, and the file says what they would be if
   they grew with the participants. Sensitivity ranges of a scaled value are scaled with it.
3. **Exit to work without the approach** (``baseline.work_exit_rate``) is multiplied by the
   municipality's outflow to work relative to the Netherlands in the CBS tables *Sociale
   zekerheid: gemeenten* 2015-2017 (83450NED ``UitstromersNaarWerk_9``, 83747NED and 84066NED
   ``UitstroomNaarWerk_9``: % of bijstand recipients who left for work, age 15 jaar of ouder),
   **in the years of the case's own exit chances** (start year .. ``measured_in``) that CBS
   covers: ratio = mean of the municipality's percentages / mean of the Nederland row over the
   same years. A case from years CBS does not cover (Buurt-m/v 2012-2013) keeps its national
   rate, with the reason (a ratio from other years would mix labour markets). Years without a
   CBS percentage are left out (noted). If no year has one, or the municipality had fewer than
   :data:`MIN_RECIPIENTS_FOR_LOCAL_RATE` recipients a year on average in the years used, the
   rate is left unchanged, with a note -- never set to 0. A rate of 0 in the case stays 0.
   Several municipalities, a province or an arbeidsmarktregio (:func:`_area`) are summed:
   caseload and recipients added, percentages weighted by recipients.
4. **Count date**: ``evaluation.month`` is reset to 0 (extra ended benefits read at the end
   of the horizon): the case's count date belongs to its publication, and a local case has
   no published figures.
5. Everything else (effect, benefit level, wages, horizon, dates, discount rate, perspective)
   is the case's own. The local case carries no published figures, no pilot design and no
   variants of the original; its readings are the original's plus the local ones.

Case files (:func:`new_case_file`)
---------------------------------
The written file has its own identity (start today or ``--start``, appraisal date today and so
the discount rate in force, Dutch ``[invullen]`` title and summary that ``mkba validate`` flags,
the perspective asked for, ``measured_in`` = the year of the exit chances used), lists every
other parameter of :data:`mkba.schema.SCHEMA` under ``overrides`` in block style within 100
columns, grouped by mechanism with a Dutch description each, and ``extends`` the parameter set
at the root of the from-case's chain (``base``), not the from-case: :func:`mkba.cases.load_case`
would otherwise inherit the original's published figures, pilot and variants. Readings record
the values they explain (:mod:`mkba.readings`), so a changed value makes its reading stale.

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
from .notes import Note, Notes
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


#: Columns summed over the municipalities of an area (several names, a province, an arbeidsmarktregio).
_SUMMED = ("population", PARTICIPANTS_FIELD, "bijstand_2024_total")


def _area(spec: str | Sequence[str]) -> dict[str, Any]:
    """One municipality, or several summed into one record (names, GM codes, a province, an arbeidsmarktregio).

    A single name or code goes through :func:`mkba.municipalities.find_municipality` (old codes
    name their successor, ambiguous names ask which). Otherwise the municipalities of
    :func:`mkba.municipalities.select_municipalities` are summed: caseload and recipients are
    added, outflow-to-work percentages are the recipient-weighted mean of the members' (a year
    counts only if every member has a percentage for it), and ``members`` lists them.
    """
    from .municipalities import select_municipalities

    items = [spec] if isinstance(spec, str) else list(spec)
    items = [x.strip() for it in items for x in (it.split(",") if isinstance(it, str) else [it])
             if not isinstance(x, str) or x.strip()]
    if len(items) == 1:
        try:
            return _municipality(items[0])
        except InputError as exc:
            if not str(exc.problem).startswith("unknown municipality"):
                raise
            try:
                rows = select_municipalities(items)   # a province or an arbeidsmarktregio
            except InputError:
                raise exc from None
    else:
        rows = select_municipalities(items)
    if len(rows) == 1:
        return rows.iloc[0].to_dict()
    recs = rows.to_dict("records")
    label = items[0] if len(items) == 1 else None
    kind = ""
    if label is not None:
        if len(set(rows["arbeidsmarktregio"])) == 1 and len(rows) == int(
                (select_municipalities("all")["arbeidsmarktregio"] == rows["arbeidsmarktregio"].iloc[0]).sum()):
            kind, name, code = "arbeidsmarktregio", f"arbeidsmarktregio {rows['arbeidsmarktregio'].iloc[0]}", \
                str(rows["arbeidsmarktregio_code"].iloc[0])
        else:
            kind, name, code = "provincie", f"provincie {rows['province'].iloc[0]}", str(rows["province_code"].iloc[0])
    else:
        name = ", ".join(r["name"] for r in recs)
        code = "+".join(r["gm_code"] for r in recs)
    out: dict[str, Any] = {"name": name, "gm_code": code, "members": [(r["gm_code"], r["name"]) for r in recs],
                           "area_kind": kind or "municipalities", "province": ", ".join(dict.fromkeys(
                               str(r["province"]) for r in recs)), "size_class": None, "urbanisation": None}
    for col in _SUMMED:
        vals = [float(r[col]) for r in recs]
        out[col] = float(sum(vals)) if all(v == v for v in vals) else float("nan")
    from .municipalities import OUTFLOW

    for y in OUTFLOW:
        rec_n = [float(r.get(f"bijstand_recipients_{y}", float("nan"))) for r in recs]
        pct = [float(r.get(f"outflow_to_work_pct_{y}", float("nan"))) for r in recs]
        ok = all(a == a for a in rec_n) and all(b == b for b in pct)
        out[f"bijstand_recipients_{y}"] = float(sum(rec_n)) if ok else float("nan")
        out[f"outflow_to_work_pct_{y}"] = (sum(a * b for a, b in zip(rec_n, pct)) / sum(rec_n)
                                           if ok and sum(rec_n) > 0 else float("nan"))
    out["notes"] = Notes([Note("area_summed", municipalities_n=len(recs), names=[r["name"] for r in recs])])
    return out


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
    notes: list[Note] = []
    readings: list[dict] = []
    leaves: dict[str, dict] = {}
    raw_n = muni.get(PARTICIPANTS_FIELD)
    N = float(raw_n) if raw_n is not None and not (isinstance(raw_n, float) and math.isnan(raw_n)) else float("nan")
    cite_n = f"CBS {PARTICIPANTS_TABLE} {PARTICIPANTS_COLUMN} ({PARTICIPANTS_YEAR}, Definitief)"
    facts: dict[str, Any] = {
        "gm_code": gm, "name": name, "province": muni.get("province"), "size_class": muni.get("size_class"),
        "size_class_code": muni.get("size_class_code"), "urbanisation": muni.get("urbanisation"),
        "urbanisation_code": muni.get("urbanisation_code"), "population": muni.get("population"),
        "bijstand_2024_algemeen": N, "bijstand_2024_total": muni.get("bijstand_2024_total"),
        "share_reached": share, "from_case": case.name, "from_variant": case.variant,
        "notes": notes, "data_notes": muni.get("notes") or Notes(),
        "sources": [f"Bron: CBS StatLine, tabel {PARTICIPANTS_TABLE}"],
        "members": list(muni.get("members") or []), "area_kind": muni.get("area_kind", "municipality"),
    }

    # --- rule 1: participants
    if participants is not None:
        if isinstance(participants, bool) or not isinstance(participants, (int, np.integer)) or participants < 1:
            raise InputError("participants must be a positive whole number", field="participants", value=participants,
                             fix="e.g. participants=50")
        P = int(participants)
        if not math.isnan(N) and N > 0 and P > N:
            raise InputError(f"{P} participants is more than the whole algemene bijstand caseload of {name} "
                             f"({_fmt_int(N)} benefits in {PARTICIPANTS_YEAR}, {cite_n})", field="--participants",
                             value=P, fix=f"give at most {_fmt_int(N)} participants, or use --share (a fraction of "
                                          "the caseload)")
        p_ref = f"assumption: {P} participants given by the user for {name} ({gm})"
        if not math.isnan(N):
            p_ref += f"; for comparison {cite_n}: {_fmt_int(N)} benefits"
        notes.append(Note("participants_given", participants_n=P))
        rule = "given"
    else:
        if math.isnan(N) or N <= 0:
            # the note says it in a report's language (mkba.views: a municipality without a caseload)
            note = (Note("no_caseload_figure", name=f"{name} ({gm})", cites=cite_n) if math.isnan(N) else
                    Note("zero_caseload", name=f"{name} ({gm})", year=PARTICIPANTS_YEAR, cites=cite_n))
            exc = InputError(str(note), field="municipality", value=gm,
                             fix="give the number of participants yourself (participants=... / --participants)")
            exc.note = note
            raise exc
        P = int(math.floor(share * N + 0.5))  # half up, not Python's half-to-even
        rule = "share x caseload"
        if P < 1:
            P = 1
            rule = "share x caseload, raised to 1"
            notes.append(Note("participants_raised", share=share, caseload_n=N))
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
                     "reference": cite_n,
                     "values": {k2: float(leaves[k2]["value"]) for k2 in ("cohort.initial_participants",
                                                                        "cohort.inflow_per_month") if k2 in leaves}})

    # --- rule 2: each money/staff parameter by its scaling rule (mkba.scaling)
    from . import scaling

    outcome = scaling.apply(v, P0, P)
    scaled = []
    for pname, sc in outcome.items():
        if sc.changed:
            leaves[pname] = _scaled_leaf(P_[pname], sc.after / sc.before,
                                         f"was {sc.before:g} in {case.name} for {P0:g} participants, now {sc.after:.4g} "
                                         f"for {P}: {sc.why}")
            scaled.append(pname)
    facts["scaling"] = outcome
    facts["scaled"] = {p: (v[p], leaves[p]["value"]) for p in scaled}
    facts["staff_fte"] = float(leaves["programme.staff_fte"]["value"]) if "programme.staff_fte" in leaves \
        else v["programme.staff_fte"]
    kept = [sc for sc in outcome.values() if not sc.changed and sc.before > 0 and sc.kind in ("fixed", "one_off")]
    if scaled:
        readings.append({"topic": "Staff",
                         "choice": "; ".join(f"{p} {outcome[p].before:g} -> {float(leaves[p]['value']):.4g}"
                                             for p in scaled),
                         "why": "; ".join(outcome[p].why for p in scaled) + " (mkba.scaling)",
                         "values": {p: float(leaves[p]["value"]) for p in scaled}})
    if kept:
        readings.append({"topic": "Fixed and one-off costs kept",
                         "choice": "; ".join(f"{sc.name} kept at {sc.before:g}" for sc in kept),
                         "why": "; ".join(f"{sc.name}: {sc.why}" for sc in kept) + " (mkba.scaling)",
                         "values": {sc.name: sc.before for sc in kept}})

    # --- rule 3: exit to work without the approach
    national_all = dict(national if national is not None else national_outflow_to_work())
    first, last = case.start_date.year, measurement_year(case)
    case_years = list(range(min(first, last), max(first, last) + 1))
    national = {y: x for y, x in national_all.items() if y in case_years}
    facts["case_years"] = case_years
    if not national:
        cbs_years = sorted(national_all)
        notes.append(Note("rate_kept_national", parameters=("baseline.work_exit_rate",), case=case.title,
                          work_rate=v["baseline.work_exit_rate"], cbs_years=f"{cbs_years[0]}-{cbs_years[-1]}",
                          cites=_cite_outflow(cbs_years), years=(f"{case_years[0]}-{case_years[-1]}"
                                                                 if len(case_years) > 1 else str(case_years[0]))))
        facts.update(outflow_to_work_pct={}, outflow_years_used=[], outflow_recipients_mean=float("nan"),
                     outflow_national_pct={}, outflow_local_pct=float("nan"), outflow_ratio=float("nan"),
                     work_exit_rate_from=v["baseline.work_exit_rate"], work_exit_rate=v["baseline.work_exit_rate"])
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
    facts["outflow_years_cbs"] = sorted(national_all)
    if missing:
        key = "outflow_missing_left_out" if used else "outflow_missing"
        notes.append(Note(key, name=name, names=[str(y) for y in missing], cites=_cite_outflow(missing)))
    if not national:
        pass
    elif not used:
        notes.append(Note("rate_as_case_no_local", parameters=("baseline.work_exit_rate",)))
    elif mean_rec < MIN_RECIPIENTS_FOR_LOCAL_RATE:
        notes.append(Note("rate_as_case_few", parameters=("baseline.work_exit_rate",), name=name, recipients_n=mean_rec,
                          names=[str(y) for y in used], minimum_n=MIN_RECIPIENTS_FOR_LOCAL_RATE))
    elif v["baseline.work_exit_rate"] == 0:
        notes.append(Note("rate_stays_zero", parameters=("baseline.work_exit_rate",), case=case.title))
    else:
        local, nat = facts["outflow_local_pct"], float(np.mean([national[y] for y in used]))
        ratio = local / nat
        yrs = "-".join(str(y) for y in (used[0], used[-1])) if len(used) > 1 else str(used[0])
        leaf = _scaled_leaf(P_["baseline.work_exit_rate"], ratio,
                            f"local / national outflow to work: {name} {local:.2f} % / Nederland {nat:.2f} %, mean "
                            f"of {', '.join(map(str, used))} ({_cite_outflow(used)}; 15 jaar of ouder)", date=yrs)
        if leaf["value"] > 1:  # cannot happen with CBS percentages, but never write an impossible rate
            leaf["value"] = 1
            notes.append(Note("rate_capped", parameters=("baseline.work_exit_rate",)))
        leaves["baseline.work_exit_rate"] = leaf
        facts.update(outflow_ratio=ratio, work_exit_rate=float(leaf["value"]))
        readings.append({"topic": "Exit to work without the approach",
                         "choice": f"baseline.work_exit_rate x {ratio:.3f}: {v['baseline.work_exit_rate']:g} -> "
                                   f"{float(leaf['value']):.4g} a year",
                         "why": f"{name}'s outflow to work ({local:.2f} % of recipients a year) against the Netherlands' "
                                f"({nat:.2f} %) in the same CBS tables, in {yrs}: the years of {case.name}'s own "
                                f"exit chances ({case_years[0]}-{case_years[-1]}) that CBS covers; the case's rate is "
                                "kept as the national level",
                         "reference": _cite_outflow(used),
                         "values": {"baseline.work_exit_rate": float(leaf["value"])}})

    # --- rule 4: count date
    if v["evaluation.month"] != 0:
        leaves["evaluation.month"] = {"value": 0, "unit": SCHEMA["evaluation.month"].unit, "date": PARTICIPANTS_YEAR,
                                      "reference": f"mkba.local rule 4: a local case has no published count date "
                                                   f"({case.name} counted at month {v['evaluation.month']:g}); extra "
                                                   "ended benefits are read at the end of the horizon"}
    for note in notes:
        readings.append({"topic": "Local data", "choice": note,
                         "why": "what CBS does not give (or gives for too few people) is reported, never taken as 0",
                         "values": {k2: float(v[k2]) for k2 in note.parameters if k2 not in leaves}})
    facts["overrides"] = {k2: (v[k2], float(leaf["value"])) for k2, leaf in leaves.items()}
    return _Plan(leaves=leaves, facts=facts, readings=readings)


def _named(text: str) -> list[str]:
    from .readings import named_parameters

    return named_parameters(text)


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
    muni = _area(municipality)
    plan = _plan(case, muni, share, participants=participants)
    meta = _local_meta(case, plan.facts)
    base = dataclasses.replace(
        case, name=f"{case.name}_{plan.facts['gm_code'].lower().replace('+', '_')}", title=meta["title"], summary=meta["summary"],
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
    # and the cycle as measured ("", multiplier 1): the scenario of a report that names none, which
    # its peer table uses (compare_with_peers); without it every report computed its peers again
    scen.setdefault("", 1.0)
    key = _shared_key(case, share, scen, metrics)
    if key not in _SHARED_TABLES:
        table = evaluate_municipalities(case, "all", share, scen, metrics=metrics)
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
    from .municipalities import municipalities_table

    me = _municipality(gm_code)
    df = municipalities_table()
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
    which compares the approach rather than the size of the caseload. ``scenario=""`` is the cycle
    as measured (multiplier 1 on the case's own ``cycle.multiplier``), what a municipal report's
    headline uses when it names no scenario.
    """
    peers = peer_group(municipality)
    if not scenario:                    # as measured, like the headline of a report without a scenario
        key, mult = "", {"": 1.0}
    else:
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


def _yaml_date(d: Any) -> Any:
    s = str(d)
    return int(s) if re.fullmatch(r"\d{4}", s) else s


#: Marks a field ``mkba new`` cannot fill in; ``mkba validate`` warns until it is replaced.
PLACEHOLDER = "[invullen]"
#: Columns the written case file stays within.
FILE_WIDTH = 100
PERSPECTIVES = ("municipality", "society")


def placeholders(case_or_raw: Any) -> list[str]:
    """Fields of a case (or raw case mapping) that still hold the :data:`PLACEHOLDER` of ``mkba new``."""
    get = case_or_raw.get if isinstance(case_or_raw, Mapping) else (lambda k: getattr(case_or_raw, k, None))
    return [k for k in ("title", "summary", "summary_nl") if PLACEHOLDER in str(get(k) or "")]


def _wrap_comment(text: str, indent: str = "") -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=FILE_WIDTH, initial_indent=f"{indent}# ", subsequent_indent=f"{indent}#   ",
                         break_long_words=True, break_on_hyphens=False)


def _scalar(v: Any) -> str:
    import yaml

    text = yaml.safe_dump(v, default_flow_style=True, width=10 ** 9, allow_unicode=True)
    text = text.strip()
    return text[:-4].rstrip() if text.endswith("\n...") else text.removesuffix("...").rstrip()


def _foldable(v: str) -> bool:
    return bool(v) and v == v.strip() and "  " not in v and "\n" not in v and "\t" not in v


def _dump(obj: Any, indent: int = 0) -> list[str]:
    """Block-style YAML lines of ``obj``, indented, within :data:`FILE_WIDTH` columns where words allow.

    Long texts become folded block scalars (``>-``) broken at spaces; they read back exactly
    (the writer checks by loading the file)."""
    import textwrap

    pad = " " * indent
    lines: list[str] = []

    def emit_scalar(head: str, v: Any, indent: str) -> None:
        """``head value`` on one line, or a folded (``>-``) block within FILE_WIDTH for long text."""
        one = f"{head} {_scalar(v)}"
        if len(one) <= FILE_WIDTH or not (isinstance(v, str) and _foldable(v)):
            lines.append(one)
        else:
            lines.append(f"{head} >-")
            lines.extend(textwrap.wrap(v, width=FILE_WIDTH, initial_indent=indent, subsequent_indent=indent,
                                       break_long_words=False, break_on_hyphens=False))

    def emit_kv(prefix: str, key: Any, v: Any, cont: str) -> None:
        head = f"{prefix}{key}:"
        if isinstance(v, Mapping):
            if not v:
                lines.append(f"{head} {{}}")
                return
            lines.append(head)
            for k2, v2 in v.items():
                emit_kv(cont + "  ", k2, v2, cont + "  ")
        elif isinstance(v, (list, tuple)):
            if not v:
                lines.append(f"{head} []")
                return
            lines.append(head)
            emit_list(v, cont + "  ")
        else:
            emit_scalar(head, v, cont + "  ")

    def emit_list(items: Sequence[Any], ind: str) -> None:
        for item in items:
            if isinstance(item, Mapping) and item:
                first = True
                for k2, v2 in item.items():
                    emit_kv(ind + ("- " if first else "  "), k2, v2, ind + "  ")
                    first = False
            else:
                emit_scalar(f"{ind}-", item, ind + "  ")

    if isinstance(obj, Mapping):
        for k, v in obj.items():
            emit_kv(pad, k, v, pad)
    else:
        emit_list(obj, pad)
    return lines


# ---------------------------------------------------------------------------------------------
# templates
# ---------------------------------------------------------------------------------------------
def templates_dir() -> Path:
    from .parameters import data_dir

    return data_dir() / "templates"


def list_templates() -> list[dict[str, str]]:
    """Every template in ``data/templates/`` with its own title and description (read, never run).

    The text comes from the template file: ``title_nl``/``title``, and the first of
    ``description_nl``, ``description``, ``fits_nl``, ``fits``, ``summary_nl``, ``summary``, ``approach``.
    """
    out = []
    d = templates_dir()
    for path in sorted(d.glob("*.yaml")) if d.is_dir() else []:
        try:
            raw = read_yaml(path)
        except InputError as exc:
            out.append({"name": path.stem, "title": path.stem, "description": f"(unreadable: {exc.problem})",
                        "path": str(path)})
            continue
        raw = raw if isinstance(raw, Mapping) else {}
        meta = raw.get("template") if isinstance(raw.get("template"), Mapping) else {}

        def first(*keys: str) -> str:
            for k in keys:
                for src in (meta, raw):
                    v = src.get(k)
                    if isinstance(v, str) and v.strip():
                        return " ".join(v.split())
            return ""

        out.append({"name": path.stem, "title": first("title_nl", "title") or path.stem,
                    "description": first("description_nl", "description", "fits_nl", "fits", "when_nl", "when",
                                         "summary_nl", "summary", "approach") or "(no description in the file)",
                    "path": str(path)})
    return out


def templates_text(width: int = FILE_WIDTH) -> str:
    """What ``mkba new --list-templates`` prints: which template fits which approach, from the templates' text."""
    import textwrap

    items = list_templates()
    if not items:
        return (f"no templates in {templates_dir()} yet; start from a case instead "
                "(`mkba cases` lists them; `mkba new NAME --from CASE`)\n")
    lines = ["Templates (mkba new NAME --from TEMPLATE); which one fits your approach:", ""]
    for t in items:
        lines.append(f"{t['name']}: {t['title']}")
        lines.extend(textwrap.wrap(t["description"], width=width, initial_indent="    ", subsequent_indent="    "))
        lines.append("")
    lines.append("Cases can be a starting point too: `mkba cases`.")
    return "\n".join(lines) + "\n"


def _resolve_from(from_case: str | Path) -> tuple[Path, str]:
    """(path, 'case' | 'template') for ``--from``; an unknown name lists the cases and templates."""
    try:
        return case_path(from_case), "case"
    except InputError as exc:
        t = templates_dir() / f"{from_case}.yaml"
        if isinstance(from_case, str) and t.exists():
            return t, "template"
        if "unknown case" not in exc.problem:
            raise
        from .cases import case_names
        from .errors import did_you_mean

        templates = [x["name"] for x in list_templates()]
        raise InputError(f"'{from_case}' is neither a case nor a template", field="--from", value=str(from_case),
                         fix=did_you_mean(str(from_case), case_names() + templates)
                         + f" (cases: {', '.join(case_names())}; templates: {', '.join(templates) or 'none yet'}; "
                           "`mkba new --list-templates` says which fits which approach)") from None


def _parse_start(start: Any) -> _dt.date | None:
    if start is None or isinstance(start, _dt.date):
        return start
    try:
        return _dt.date.fromisoformat(str(start).strip())
    except ValueError:
        raise InputError("the start date must be a date that exists, written YYYY-MM-DD", field="--start",
                         value=start, fix="e.g. --start 2026-01-01") from None


def _check_perspective(perspective: Any) -> str:
    if perspective not in PERSPECTIVES:
        from .errors import did_you_mean

        raise InputError("unknown perspective", field="--perspective", value=perspective,
                         fix=did_you_mean(str(perspective), PERSPECTIVES) + " (municipality: the municipal budget; "
                             "society: all actors; both views are always shown)")
    return perspective


def _reading_dict(r: Reading, values: Mapping[str, float] | None = None, suffix: str = "") -> dict:
    d = {k: v for k, v in r.model_dump().items() if v not in (None, [], "", {})}
    if suffix:
        d["topic"] = f"{d['topic']} {suffix}"
    if values is not None and "values" in Reading.model_fields:
        named = _named(" ".join(str(d.get(k, "")) for k in ("topic", "choice", "why")))
        rec = dict(d.get("values") or {})
        rec.update({n: _exact(values[n]) for n in named if n in values and n not in rec})
        if rec:
            d["values"] = {k: _exact(v) for k, v in rec.items()}
    elif "values" in d and "values" not in Reading.model_fields:  # pragma: no cover
        del d["values"]
    return d


def _leaf_from_parameter(p: Parameter, fallback_date: str) -> dict:
    leaf: dict[str, Any] = {"value": _exact(p.value), "unit": p.unit, "date": p.date or fallback_date,
                            "reference": p.reference}
    if p.low is not None and p.high is not None:
        leaf.update(low=_exact(p.low), high=_exact(p.high), range_reason=p.range_reason or "as in the case")
    if p.note:
        leaf["note"] = p.note
    return leaf


def _render_case_file(*, meta: Mapping[str, Any], meta_comments: Mapping[str, str], leaves: Mapping[str, dict],
                      comments: Mapping[str, list[str]], omitted: Mapping[str, str], readings: list[dict],
                      notes: list[str], header: list[str]) -> str:
    from .describe import group_heading, parameter_description

    lines: list[str] = []
    for h in header:
        lines.extend(_wrap_comment(h) if h else ["#"])
    for key, val in meta.items():
        if key in meta_comments:
            lines.extend(_wrap_comment(meta_comments[key]))
        lines.extend(_dump({key: val}))
    if notes:
        lines.extend(_dump({"notes": notes}))
    lines.append("overrides:")
    section = None
    for pname in SCHEMA:
        sec = pname.split(".", 1)[0]
        if sec != section:
            lines.append("")
            lines.append(f"  # === {group_heading(sec)} ({sec})")
            section = sec
        lines.extend(_wrap_comment(f"{parameter_description(pname)} [{SCHEMA[pname].unit}]", "  "))
        for c in comments.get(pname, []):
            lines.extend(_wrap_comment(c, "  "))
        if pname in omitted:
            lines.extend(_wrap_comment(f"{pname}: not set here: {omitted[pname]}", "  "))
            continue
        leaf = dict(leaves[pname])
        leaf["date"] = _yaml_date(leaf["date"])
        lines.extend(_dump({pname: leaf}, indent=2))
    lines.append("")
    if readings:
        lines.extend(_wrap_comment("Readings: where a value is a choice, the choice and why. `values` records what "
                                   "each reading was written for: `mkba validate` warns when they change."))
        lines.extend(_dump({"readings": readings}))
    lines.append("# A local case has no published figures to reproduce.")
    lines.append("published: []")
    return "\n".join(lines) + "\n"


def new_case_file(name: str, from_case: str | Path, municipality: str | Sequence[str] | None = None,
                  out_dir: str | Path | None = None, share_reached: float = DEFAULT_SHARE_REACHED, *,
                  participants: int | None = None, variant: str | None = None, overwrite: bool = False,
                  start: str | _dt.date | None = None, perspective: str = "municipality",
                  today: _dt.date | None = None) -> Path:
    """Write ``<out_dir>/<name>.yaml``: a new case from ``from_case`` (a case or a template), optionally sized
    to ``municipality`` (one or several names/GM codes, a province or an arbeidsmarktregio).

    The new case gets its own identity: start date ``start`` (default today), appraisal date
    today and so the discount rate in force today (``discount.rate`` is not written: the
    schedule in the parameter set applies), Dutch :data:`PLACEHOLDER` title and summary that
    ``mkba validate`` flags until filled in, the ``perspective`` asked for, and ``measured_in``
    = the year of the exit chances it uses (the from-case's). Every other model parameter is
    listed under ``overrides`` (block style, grouped by mechanism, a Dutch one-line description
    each); money and staff follow :mod:`mkba.scaling` and the file says what each scaled value
    was, is and why. Readings record the values they explain (:mod:`mkba.readings`).

    The file extends the parameter set at the root of ``from_case``'s chain (``base``), so the
    original's published figures, pilot and variants do not leak in. It is written atomically
    after it has been loaded and its values checked. An existing file is kept unless ``overwrite``.
    """
    name = _check_name(name)
    perspective = _check_perspective(perspective)
    start_date = _parse_start(start)
    today = today or _dt.date.today()
    out = Path(out_dir) if out_dir is not None else cases_dir()
    target = out / f"{name}.yaml"
    if target.exists() and not overwrite:
        raise InputError("a case file of this name exists", file=str(target), field="name", value=name,
                         fix="choose another name or pass overwrite=True (--overwrite)")
    src_path, src_kind = _resolve_from(from_case)
    src = load_case(src_path, variant=variant)
    extends = _root_parameter_set(src_path)
    from_label = src.name + (f" (variant {variant})" if variant else "")
    src_file = src_path.name
    if start_date is None:
        start_date = today
    if municipality is not None and participants is None and start_date < _dt.date(PARTICIPANTS_YEAR, 1, 1):
        raise InputError(f"the start date {start_date.isoformat()} lies before the caseload data the case is sized "
                         f"with (CBS {PARTICIPANTS_TABLE}, {PARTICIPANTS_YEAR})", field="--start",
                         value=start_date.isoformat(), fix=f"start on or after {PARTICIPANTS_YEAR}-01-01, or size "
                         "the case yourself with --participants")
    if municipality is not None:
        case, facts = localise(src, municipality, share_reached, participants=participants)
        local_names = set(facts["overrides"])
        where_en = f"for {facts['name']} ({facts['gm_code']}), " + (
            f"share of the caseload reached {facts['share_reached']:g}" if facts["participants_rule"] != "given"
            else f"{facts['participants']} participants")
        place = facts["name"]
        n_src = len(src.readings)
        readings = [_reading_dict(r, case.values, f"(from {src.name})") for r in case.readings[:n_src]]
        readings += [_reading_dict(r, case.values) for r in case.readings[n_src:]]
        readings.append({"topic": "Local figures", "choice": f"local figures for {facts['name']} ({facts['gm_code']}) "
                         f"from CBS data and the rules of mkba.local: {', '.join(sorted(local_names))}",
                         "why": "mkba.local rules 1-4 and mkba.scaling (see their module docstrings)",
                         "reference": "; ".join(dict.fromkeys(facts["sources"])),
                         "values": {k: _exact(case.values[k]) for k in sorted(local_names)}})
        if facts.get("members"):
            readings.append({"topic": "Area", "choice": f"{facts['name']}: {len(facts['members'])} municipalities "
                             f"summed ({', '.join(n for _c, n in facts['members'])})",
                             "why": "caseload and recipients added, outflow-to-work percentages weighted by recipients"})
    else:
        if participants is not None:
            raise InputError("participants needs a municipality", field="--participants", value=participants,
                             fix="add --municipality, or edit cohort.initial_participants in the written file")
        case, facts = src, {}
        local_names = set()
        where_en = "values unchanged (no municipality given)"
        place = None
        readings = [_reading_dict(r, case.values, f"(from {src.name})") for r in case.readings]
    mi = measurement_year(src)
    case = dataclasses.replace(case, name=name, published=[], variants={}, pilot=None, variant=None,
                               start_date=start_date, appraisal_date=today, perspective=perspective, measured_in=mi)
    where_nl = f" in {place}" if place else ""
    meta = {"name": name,
            "title": f"{PLACEHOLDER} Titel van de aanpak{where_nl}",
            "summary": f"{PLACEHOLDER} In één zin: wat de aanpak doet, voor wie, met hoeveel deelnemers{where_nl}",
            "summary_nl": f"{PLACEHOLDER} In één zin: wat de aanpak doet, voor wie, met hoeveel deelnemers{where_nl}",
            "extends": extends, "start_date": start_date, "appraisal_date": today, "perspective": perspective,
            "discount_convention": case.discount_convention, "measured_in": int(mi)}
    if getattr(src, "price_year", None) is not None:
        meta["price_year"] = int(src.price_year)   # the amounts below are in prices of this year (mkba.prices)
    rate_in_force = load_case(src_path).parameters.get("reference.discount_rates")
    from .parameters import series_value_at

    rate_now = series_value_at(rate_in_force, today) if rate_in_force is not None and rate_in_force.series else None
    meta_comments = {
        "title": f"Fill in title, summary and summary_nl (Dutch): `mkba validate` warns while they hold {PLACEHOLDER}.",
        "start_date": "start of the programme (mkba new: today, or --start); appraisal_date: the day of this "
                      "appraisal, which sets the discount rate in force",
        "perspective": "municipality: the municipal budget decides; society: all actors. Reports always show both.",
        "price_year": "year whose prices every amount below is in (those of the case it was copied from); an amount "
                      "dated in another year is converted with the CBS consumer price index (mkba.prices)",
        "measured_in": f"year of the labour market behind the exit chances used: those of {src.name} "
                       f"(baseline.work_exit_rate{', rescaled with local CBS outflow' if 'baseline.work_exit_rate' in local_names else ''})",
    }
    omitted = {"discount.rate": "the rate in force on appraisal_date applies"
               + (f" ({rate_now * 100:.4g} % on {today.isoformat()}, from reference.discount_rates in "
                  f"data/parameters/{extends}.yaml)" if rate_now is not None else "")
               + "; to fix another rate, add an entry with value, unit, date and reference"}
    fallback_date = str(start_date.year)
    leaves = {p: _leaf_from_parameter(case.parameters[p], fallback_date) for p in SCHEMA if p not in omitted}
    comments: dict[str, list[str]] = {}
    for pname, sc in (facts.get("scaling") or {}).items():
        if sc.before == 0 and sc.after == 0:
            continue
        if sc.changed:
            comments.setdefault(pname, []).append(f"SCALED ({sc.kind}): was {sc.before:g} in {src.name} for "
                                                  f"{facts['from_participants']:g} participants, now {sc.after:.4g} "
                                                  f"for {facts['participants']}: {sc.why}")
        elif sc.kind in ("fixed", "one_off", "per_fte"):
            comments.setdefault(pname, []).append(f"kept ({sc.kind}) for {facts['participants']} participants "
                                                  f"instead of {facts['from_participants']:g}: {sc.why}")
    for pname in local_names - set(comments):
        comments.setdefault(pname, []).append(f"LOCAL: was {src.values[pname]:g} in {src.name}; from CBS data, "
                                              "see the readings")
    if src_kind == "template":
        t = next((x for x in list_templates() if x["name"] == src_path.stem), {})
        chosen = f"Template: '{src_path.stem}' ({t.get('title', '')}): {t.get('description', '')}"
    else:
        chosen = (f"Starting point: case '{from_label}' ({src.title}): {src.summary}. Other starting points: "
                  "`mkba new --list-templates` says which template fits which approach.")
    notes = [f"Written by mkba new on {today.isoformat()} from {src_kind} {from_label} ({src_file}), {where_en}."]
    header = [
        f"Case file written by `mkba new` on {today.isoformat()} from {src_kind} '{from_label}' ({src_file}), "
        f"{where_en}.",
        chosen,
        "",
        "How to edit: every model parameter is listed under `overrides:`, grouped by mechanism, with a Dutch "
        "description, its value, unit, date and reference. Change a value and update its date and reference "
        "(a source, or 'assumption: <why>'); keep the unit: it is checked. Fractions as fractions (0.3 = 30 %), "
        "money without separators (14000 = EUR 14.000), durations in months. low/high: the documented range "
        "that sensitivity analyses use (without one a parameter is not varied). Entries marked SCALED or LOCAL "
        "were computed for this municipality. The file extends the parameter set, not the case it came from. "
        "Check it with `mkba validate <this file>`; run it with `mkba run <this file>`.",
        "",
    ]
    text = _render_case_file(meta=meta, meta_comments=meta_comments, leaves=leaves, comments=comments,
                             omitted=omitted, readings=readings, notes=notes, header=header)
    out.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=".mkba-new-", dir=out))
    try:
        tmp = tmp_dir / target.name
        tmp.write_text(text, encoding="utf-8")
        loaded = load_case(tmp)
        diff = sorted(k for k in case.values if k not in omitted and loaded.values.get(k) != case.values[k])
        if diff:  # pragma: no cover - a bug here, not bad input
            raise RuntimeError(f"written case file does not reproduce the values: {diff}")
        if target.exists() and not overwrite:
            raise InputError("a case file of this name exists", file=str(target), field="name", value=name,
                             fix="choose another name or pass overwrite=True (--overwrite)")
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return target

"""The live Excel model: the case's calculation as Excel formulas, for controllers.

:func:`add_model_sheets` adds to an openpyxl workbook the sheets a controller works in:

``Resultaat``  the headline figures (people off benefit, costs, savings, NCW with Excel ``NPV``, BCR,
               break-even) as formulas, next to the value ``mkba run`` gave at export;
``Invoer``     every model input of the case (value in the case's price year, unit, source), each cell
               a defined name (``=benefit.cost_per_year``) so formulas read like the model;
``Afgeleid``   quantities derived from the inputs (monthly hazards, competing-risk splits, amounts
               per month), each a defined name ``afg.*``;
``Afleiding``  outcomes stated as "x of n" or "a share within N months" turned into an annual
               probability by bisection, in formulas (the same 60 halvings as :mod:`mkba.cohort`);
``Profiel``    one entrant, by months since entry: effect weight, hazards, contract start and end,
               the states B (full benefit), P (part-time), W (work), O (other exit), J (contract)
               and what the entrant costs and brings per month of age;
``Omgekeerd``  the profile columns the monthly sheet needs, in reverse age order (a mirror, so a
               month's total over entry cohorts is one ``SUMPRODUCT``);
``Maand``      per month: entrants (and refilled places), the treatment group as entrants x profile
               summed over entry cohorts, the control group (no age dependence), benefit
               equivalents, people off benefit, every money flow per arm, the net per actor, the
               municipal and societal net and programme cost, discount factors, cumulative result;
``Jaar``       per appraisal year sums (the rows Excel's ``NPV`` discounts).

The kernel (:mod:`mkba.fastkernel`) stays the one implementation the figures come from; this module
writes the same mechanisms as formulas, each mechanism's formula once (a column template filled
down, or one named cell), and ``tests/test_excel_model.py`` recalculates the workbook in LibreOffice
and checks it against the kernel per month and in total for every shipped case.

Not supported (a clear error, never a silently different figure): sub-groups (``groups:``) and a
cycle path (scenario replays); the horizon is fixed by the number of rows written.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from . import fastkernel as fk
from .errors import InputError
from .schema import PAYERS, SCHEMA, SHARED_COST_ITEMS

FMT_EUR = '"€" #,##0;[Red]"€" -#,##0'
FMT_EUR2 = '"€" #,##0.00;[Red]"€" -#,##0.00'
FMT_PEOPLE = "#,##0.00"
FMT_RATE = "0.000000"
FMT_NUM = "#,##0.####"
FMT_INT = "0"
FMT_RATIO = "0.00"
FMT_PCT2 = "0.00%"

INFINITE_TEXT = "oneindig"          # how an infinite half-life / persistence is written in a cell
BISECTION_STEPS = 60                # halvings, as mkba.cohort.work_rate_for_share (rows: the start + 60)
FIRST_ROW = 4                       # data rows of the table sheets start here (1 title, 2 header, 3 code)
PERSPECTIVE_TEXT = {"municipality": "gemeente", "society": "maatschappij"}
MUNICIPAL_TEXT = PERSPECTIVE_TEXT["municipality"]

#: model inputs on the Invoer sheet, in this order (kernel inputs, stated outcomes, discounting)
INPUTS: tuple[str, ...] = tuple(dict.fromkeys(
    ("horizon.months",) + fk._KERNEL_PARAMS
    + ("outcome.work_share", "outcome.work_within_months", "outcome.work_count", "outcome.work_of",
       "outcome.baseline_share", "outcome.baseline_within_months", "discount.rate")))
assert all(k in SCHEMA for k in INPUTS)


def unsupported(case) -> list[tuple[str, str]]:
    """(key, why) for every mechanism of ``case`` the formula workbook does not express."""
    out = []
    if getattr(case, "groups", None):
        out.append(("groups", "sub-groups with their own values (mkba.model.per_group)"))
    for k, v in case.values.items():
        if isinstance(v, float) and math.isinf(v) and not SCHEMA[k].allow_inf:
            out.append((k, "an infinite value"))
    return out


def check_supported(case) -> None:
    bad = unsupported(case)
    if bad:
        key, why = bad[0]
        raise InputError(f"the live Excel model of case '{case.name}' cannot express {why}", file=case.source_file,
                         field=key, fix="remove the key from the case (or export a variant without it); the formula "
                                        "workbook supports every other model mechanism")


# ------------------------------------------------------------------ formula snippets (each written once)
def haz(p: str) -> str:
    """Monthly hazard of an annual probability, clipped as the kernel does (mkba.fastkernel._hazard)."""
    return f"(1-(1-MIN(MAX({p},0),afg.max_p))^(1/12))"


def up(s: str) -> str:
    """Cycle factor of a channel that finds work: MAX(1 + s (c - 1), 0)."""
    return f"MAX(1+{s}*(cycle.multiplier-1),0)"


def down(s: str) -> str:
    """Cycle factor of a channel that loses work: MAX(1 - s (c - 1), 0)."""
    return f"MAX(1-{s}*(cycle.multiplier-1),0)"


def split_factor(*h: str) -> str:
    """Competing hazards: (1 - prod(1 - h)) / sum(h) (0 if no hazard), times h_i gives each destination."""
    tot = "+".join(h)
    prod = "*".join(f"(1-{x})" for x in h)
    return f"IF({tot}>0,(1-{prod})/({tot}),0)"


def share_within(p: str, p_other: str, months: str) -> str:
    """Share whose first exit is to work within ``months`` (mkba.cohort.share_within)."""
    hw, ho = haz(p), haz(p_other)
    q = f"(1-(1-{hw})*(1-{ho}))"
    return f"IF({hw}+{ho}>0,{hw}/({hw}+{ho}),0)*(1-(1-{q})^({months}))"


# ------------------------------------------------------------------ sheet layout helpers
@dataclass
class Col:
    code: str
    header: str
    fmt: str
    fn: Callable[["Row"], str | float | int]


class Layout:
    """Where each column of a table sheet lives (sheet name, code -> column letter, rows)."""

    def __init__(self, sheet: str, cols: list[Col], n: int):
        from openpyxl.utils import get_column_letter

        self.sheet, self.cols, self.n = sheet, cols, n
        self.letter = {c.code: get_column_letter(i + 1) for i, c in enumerate(cols)}
        assert len(self.letter) == len(cols), f"duplicate column code in {sheet}"

    def row(self, i: int) -> int:
        return FIRST_ROW + i

    @property
    def last(self) -> int:
        return FIRST_ROW + self.n - 1

    def ref(self, code: str, i: int, *, absolute: bool = False) -> str:
        d = "$" if absolute else ""
        return f"'{self.sheet}'!{d}{self.letter[code]}{d}{self.row(i)}"

    def rng(self, code: str, i0: int = 0, i1: int | None = None) -> str:
        i1 = self.n - 1 if i1 is None else i1
        c = self.letter[code]
        return f"'{self.sheet}'!${c}${self.row(i0)}:${c}${self.row(i1)}"


class Row:
    """What a column template sees: this row's cells, the previous row's, and the other sheets."""

    def __init__(self, layout: Layout, i: int, layouts: dict[str, Layout]):
        self.L, self.i, self.layouts = layout, i, layouts

    def __getitem__(self, code: str) -> str:
        return f"{self.L.letter[code]}{self.L.row(self.i)}"

    def prev(self, code: str, first: str = "0") -> str:
        return first if self.i == 0 else f"{self.L.letter[code]}{self.L.row(self.i - 1)}"

    def other(self, sheet: str) -> Layout:
        return self.layouts[sheet]


# ------------------------------------------------------------------ the derived quantities (sheet Afgeleid)
# (name, Dutch label, unit, formula, number format); formulas use input names and earlier afg.* names.
def _derived(T: int) -> list[tuple[str, str, str, str, str]]:
    shares = {item: "+".join(f"sharing.{item}.{q}" for q in PAYERS) for item in SHARED_COST_ITEMS}
    base = [
        ("afg.max_p", "Hoogste jaarkans die het model omzet (afkapgrens, mkba.fastkernel)", "kans per jaar",
         repr(fk.MAX_ANNUAL_PROBABILITY), FMT_RATE),
        ("afg.tolerance", "Afrondingsmarge bij de terugverdienmaand", "euro", repr(fk.BREAK_EVEN_TOLERANCE_EUR), FMT_RATE),
        ("afg.months", "Aantal maanden in deze werkmap (rijen op Maand)", "maanden", str(T), FMT_INT),
        # stated outcomes (sheet Afleiding)
        ("afg.stated_share", "Opgegeven aandeel naar werk (x van n of aandeel)", "aandeel",
         "IF(outcome.work_of>0,outcome.work_count/outcome.work_of,outcome.work_share)", FMT_RATE),
        ("afg.stated_months", "Binnen maanden (bij x van n: 12)", "maanden",
         "IF(outcome.work_of>0,12,outcome.work_within_months)", FMT_NUM),
        ("afg.base_work", "Uitstroomkans naar werk zonder aanpak (gebruikt)", "kans per jaar",
         "IF(outcome.baseline_share>0,afl.baseline_rate,baseline.work_exit_rate)", FMT_RATE),
        ("afg.added", "Extra uitstroomkans naar werk door de aanpak (gebruikt)", "procentpunt per jaar",
         "IF(AND(afg.stated_share>0,afg.stated_months>0),afl.total_rate-afg.base_work*effect.work_exit_ratio,"
         "effect.work_exit_added)", FMT_RATE),
        # hazards that do not depend on age
        ("afg.base_cyc", "Uitstroomkans naar werk zonder aanpak, met conjunctuur", "kans per jaar",
         "afg.base_work*cycle.multiplier", FMT_RATE),
        ("afg.e_cyc", "Conjunctuurfactor op het effect", "factor", up("effect.cycle_sensitivity"), FMT_RATE),
        ("afg.h_other", "Maandkans op andere uitstroom", "kans per maand", haz("baseline.other_exit_rate"), FMT_RATE),
        ("afg.hr", "Maandkans op terugval uit werk", "kans per maand",
         haz(f"baseline.return_rate*{down('baseline.return_cycle_sensitivity')}"), FMT_RATE),
        ("afg.hpw", "Maandkans deeltijd naar volledig werk", "kans per maand",
         f"IF(baseline.part_time_share>0,{haz('baseline.partial_to_work_rate*' + up('baseline.partial_to_work_cycle_sensitivity'))},0)",
         FMT_RATE),
        ("afg.hpr", "Maandkans deeltijd terug naar volledige uitkering", "kans per maand",
         f"IF(baseline.part_time_share>0,{haz('baseline.partial_return_rate*' + down('baseline.return_cycle_sensitivity'))},0)",
         FMT_RATE),
        ("afg.p_split", "Deeltijd: omrekenfactor concurrerende kansen", "factor",
         split_factor("afg.hpw", "afg.h_other", "afg.hpr"), FMT_RATE),
        ("afg.fpw", "Deeltijd: aandeel per maand naar volledig werk", "aandeel per maand", "afg.hpw*afg.p_split", FMT_RATE),
        ("afg.fpo", "Deeltijd: aandeel per maand naar andere uitstroom", "aandeel per maand", "afg.h_other*afg.p_split", FMT_RATE),
        ("afg.fpr", "Deeltijd: aandeel per maand terug naar volledige uitkering", "aandeel per maand",
         "afg.hpr*afg.p_split", FMT_RATE),
        ("afg.hw_c", "Nulalternatief: maandkans naar werk", "kans per maand", haz("afg.base_work*cycle.multiplier"), FMT_RATE),
        ("afg.c_split", "Nulalternatief: omrekenfactor concurrerende kansen", "factor",
         split_factor("afg.hw_c", "afg.h_other"), FMT_RATE),
        ("afg.fw_c", "Nulalternatief: aandeel per maand naar werk", "aandeel per maand", "afg.hw_c*afg.c_split", FMT_RATE),
        ("afg.fo_c", "Nulalternatief: aandeel per maand naar andere uitstroom", "aandeel per maand",
         "afg.h_other*afg.c_split", FMT_RATE),
        ("afg.hs", "Maandkans eenmalig bestandseffect (tijdens de zoekperiode)", "kans per maand",
         f"IF(AND(effect.stock_share>0,effect.stock_months>0),1-(1-MIN(effect.stock_share*"
         f"{up('effect.stock_cycle_sensitivity')},afg.max_p))^(1/effect.stock_months),0)", FMT_RATE),
        ("afg.window_finite", "Effect eindigt (deelname + nawerking eindig)", "waar/onwaar",
         "ISNUMBER(effect.persistence_months)", "General"),
        ("afg.window", "Effect werkt tot maand na instroom", "maanden",
         "IF(afg.window_finite,participation.months+effect.persistence_months,0)", FMT_NUM),
        ("afg.decay_finite", "Effect neemt af (eindige halveringstijd)", "waar/onwaar",
         "ISNUMBER(effect.decay_half_life_months)", "General"),
        # programme contracts
        ("afg.hire", "Programmabaan: aandeel van wie in de uitkering zit dat start", "aandeel",
         f"MIN(jobs.share*{up('jobs.placement_cycle_sensitivity')},1)", FMT_RATE),
        ("afg.to_work_end", "Programmabaan: aandeel naar regulier werk aan het eind", "aandeel",
         f"MIN(jobs.to_work_share*{up('jobs.to_work_cycle_sensitivity')},1)", FMT_RATE),
        ("afg.hd", "Programmabaan: maandkans op uitval", "kans per maand",
         haz(f"jobs.dropout_rate*{down('jobs.dropout_cycle_sensitivity')}"), FMT_RATE),
        ("afg.hx", "Programmabaan: maandkans op ontslag", "kans per maand",
         haz(f"jobs.dismissal_rate*{down('jobs.dropout_cycle_sensitivity')}"), FMT_RATE),
        ("afg.hj", "Programmabaan: maandkans naar regulier werk", "kans per maand",
         haz(f"jobs.to_work_rate*{up('jobs.to_work_cycle_sensitivity')}"), FMT_RATE),
        ("afg.j_split", "Programmabaan: omrekenfactor concurrerende kansen", "factor",
         split_factor("afg.hd", "afg.hx", "afg.hj"), FMT_RATE),
        ("afg.fjb", "Programmabaan: aandeel per maand terug naar de uitkering (uitval, ontslag)", "aandeel per maand",
         "(afg.hd+afg.hx)*afg.j_split", FMT_RATE),
        ("afg.fjw", "Programmabaan: aandeel per maand naar regulier werk", "aandeel per maand", "afg.hj*afg.j_split",
         FMT_RATE),
        # money per month
        ("afg.b_month", "Uitkering per maand", "euro per persoon per maand",
         "benefit.cost_per_year*benefit.household_factor/12", FMT_EUR2),
        ("afg.ns_div", "Netto aandeel van het loon (deler, 1 als 0)", "aandeel",
         "IF(work.net_wage_share>0,work.net_wage_share,1)", FMT_RATE),
        ("afg.wage_month", "Loonkosten per werkende per maand", "euro per persoon per maand",
         "work.wage_cost_per_year*work.hours_fraction/12", FMT_EUR2),
        ("afg.care_month", "Zorgbesparing per werkende per maand", "euro per persoon per maand",
         "effects.care_saving_per_worker_year/12", FMT_EUR2),
        ("afg.wellbeing_month", "Welzijn per werkende per maand", "euro per persoon per maand",
         "effects.wellbeing_per_worker_year/12", FMT_EUR2),
        ("afg.execution_month", "Uitvoeringskosten per uitkering per maand", "euro per persoon per maand",
         "effects.execution_saving_per_ended_year/12", FMT_EUR2),
        ("afg.cost_fte_month", "Loonkosten per fte per maand", "euro per fte per maand",
         "programme.cost_per_fte_year/12", FMT_EUR2),
        ("afg.top_up", "Detachering: premie per gedetacheerde per maand", "euro per persoon per maand",
         "MIN(secondment.top_up_per_hour*secondment.hours_per_month,secondment.top_up_cap_per_month)", FMT_EUR2),
        ("afg.job_wage_month", "Programmabaan: loonkosten per baan per maand", "euro per baan per maand",
         "IF(jobs.wage_benefit_ratio>0,jobs.wage_benefit_ratio*afg.b_month/afg.ns_div,"
         "jobs.wage_cost_per_year*jobs.hours_fraction/12)", FMT_EUR2),
        ("afg.job_prod_month", "Programmabaan: waarde van het werk per maand", "euro per baan per maand",
         "jobs.production_value_per_year/12", FMT_EUR2),
        ("afg.municipal", "Perspectief is de gemeente", "waar/onwaar", f'perspectief="{MUNICIPAL_TEXT}"', "General"),
        ("afg.eval_index", "Peilmaand (rij op Maand, 0 = eerste maand)", "maand",
         f"IF(evaluation.month<=0,{T - 1},MIN(MAX(evaluation.month-1,0),{T - 1}))", FMT_INT),
        ("afg.prog_T", "Maanden met programmakosten binnen de horizon", "maanden",
         f"MIN(programme.months,{T})", FMT_NUM),
    ]
    base += [(f"afg.share_sum.{item}", f"Som van de kostenverdeling: {item}", "aandeel", shares[item], FMT_RATE)
             for item in SHARED_COST_ITEMS]
    return base


# ------------------------------------------------------------------ Afleiding: bisection for stated outcomes
def _bisection_cols() -> list[Col]:
    """Two bisections side by side: the baseline rate (outcome.baseline_share), then the participants' total
    rate (the stated share to work), each ``lo, hi, mid, share(mid)`` per step."""
    def step(prefix: str, target: str, p_other: str, months: str) -> list[Col]:
        lo, hi, mid, sh = (f"{prefix}_{x}" for x in ("lo", "hi", "mid", "share"))
        return [
            Col(lo, f"{prefix}: ondergrens", FMT_RATE,
                lambda r: "0" if r.i == 0 else f"IF({r.prev(sh)}<{target},{r.prev(mid)},{r.prev(lo)})"),
            Col(hi, f"{prefix}: bovengrens", FMT_RATE,
                lambda r: "afg.max_p" if r.i == 0 else f"IF({r.prev(sh)}<{target},{r.prev(hi)},{r.prev(mid)})"),
            Col(mid, f"{prefix}: midden", FMT_RATE, lambda r: f"0.5*({r[lo]}+{r[hi]})"),
            Col(sh, f"{prefix}: aandeel naar werk bij het midden", FMT_RATE,
                lambda r: share_within(r[mid], p_other, months)),
        ]

    return ([Col("step", "Stap", FMT_INT, lambda r: r.i + 1)]
            + step("base", "outcome.baseline_share", "baseline.other_exit_rate", "MAX(outcome.baseline_within_months,1)")
            + step("total", "afg.stated_share", "baseline.other_exit_rate+effect.other_exit_added",
                   "IF(AND(afg.stated_share>0,afg.stated_months>0),afg.stated_months,12)"))


# ------------------------------------------------------------------ Profiel: one entrant by age
PROFILE_SUMS = ("B0", "B", "P0", "P", "W0", "W", "J0", "J", "ev", "ret", "early", "placed", "take")


def _profile_cols() -> list[Col]:
    ramp = "IF(effect.ramp_months>0,MIN(MAX(({a}-effect.lock_in_months+1)/MAX(effect.ramp_months,1),0),1),1)"
    decay = ("IF(AND(afg.decay_finite,{a}>=effect.decay_start_month),"
             "2^(-({a}-effect.decay_start_month)/effect.decay_half_life_months),1)")
    return [
        Col("a", "Maanden na instroom", FMT_INT, lambda r: r.i),
        Col("w", "Sterkte van het effect", FMT_RATE, lambda r: (
            f"IF(OR({r['a']}<effect.lock_in_months,AND(afg.window_finite,{r['a']}>=afg.window)),0,"
            f"{ramp.format(a=r['a'])}*{decay.format(a=r['a'])})")),
        Col("lf", "Factor opsluitperiode", FMT_RATE, lambda r: f"IF({r['a']}<effect.lock_in_months,effect.lock_in_factor,1)"),
        Col("hs", "Maandkans bestandseffect", FMT_RATE, lambda r: f"IF({r['a']}<effect.stock_months,afg.hs,0)"),
        Col("taking", "Neemt deel (1 = ja)", FMT_INT, lambda r: f"IF({r['a']}<participation.months,1,0)"),
        Col("pwork", "Jaarkans naar werk", FMT_RATE, lambda r: (
            f"afg.base_cyc*{r['lf']}*(1+(effect.work_exit_ratio-1)*{r['w']})+afg.added*{r['w']}*afg.e_cyc")),
        Col("hw", "Maandkans naar werk", FMT_RATE, lambda r: haz(r["pwork"])),
        Col("ho", "Maandkans andere uitstroom", FMT_RATE,
            lambda r: haz(f"baseline.other_exit_rate+effect.other_exit_added*{r['w']}")),
        Col("split", "Omrekenfactor concurrerende kansen", FMT_RATE, lambda r: split_factor(r["hw"], r["ho"], r["hs"])),
        Col("B_in", "Uitkering bij begin maand", FMT_RATE, lambda r: r.prev("B", "1")),
        Col("P_in", "Deeltijd bij begin maand", FMT_RATE, lambda r: r.prev("P")),
        Col("W_in", "Werk bij begin maand", FMT_RATE, lambda r: r.prev("W")),
        Col("O_in", "Andere uitstroom bij begin maand", FMT_RATE, lambda r: r.prev("O")),
        Col("J_in", "Programmabaan bij begin maand", FMT_RATE, lambda r: r.prev("J")),
        Col("hired", "Start programmabaan", FMT_RATE, lambda r: f"IF({r['a']}=jobs.start_month,{r['B_in']}*afg.hire,0)"),
        Col("J_h", "Programmabaan na start", FMT_RATE, lambda r: f"{r['J_in']}+{r['hired']}"),
        Col("to_w", "Einde programmabaan: naar werk", FMT_RATE,
            lambda r: f"IF({r['a']}=jobs.end_month,{r['J_h']}*afg.to_work_end,0)"),
        Col("back", "Einde programmabaan: terug in de uitkering", FMT_RATE,
            lambda r: f"IF({r['a']}=jobs.end_month,{r['J_h']}-{r['to_w']},0)"),
        Col("B0", "Uitkering (na start/einde baan)", FMT_RATE, lambda r: f"{r['B_in']}-{r['hired']}+{r['back']}"),
        Col("P0", "Deeltijd (begin)", FMT_RATE, lambda r: r["P_in"]),
        Col("W0", "Werk (na einde baan)", FMT_RATE, lambda r: f"{r['W_in']}+{r['to_w']}"),
        Col("J0", "Programmabaan (na start/einde)", FMT_RATE, lambda r: f"IF({r['a']}=jobs.end_month,0,{r['J_h']})"),
        Col("ew", "Uitkering naar werk", FMT_RATE, lambda r: f"{r['B0']}*{r['hw']}*{r['split']}"),
        Col("eo", "Uitkering naar andere uitstroom (incl. bestandseffect)", FMT_RATE,
            lambda r: f"{r['B0']}*({r['ho']}+{r['hs']})*{r['split']}"),
        Col("ew_part", "Waarvan deeltijd naast uitkering", FMT_RATE, lambda r: f"{r['ew']}*baseline.part_time_share"),
        Col("pw", "Deeltijd naar volledig werk", FMT_RATE, lambda r: f"{r['P0']}*afg.fpw"),
        Col("po", "Deeltijd naar andere uitstroom", FMT_RATE, lambda r: f"{r['P0']}*afg.fpo"),
        Col("pr", "Deeltijd terug naar volledige uitkering", FMT_RATE, lambda r: f"{r['P0']}*afg.fpr"),
        Col("rw", "Terugval uit werk", FMT_RATE, lambda r: f"{r['W0']}*afg.hr"),
        Col("jd", "Programmabaan: uitval en ontslag", FMT_RATE, lambda r: f"{r['J0']}*afg.fjb"),
        Col("jw", "Programmabaan: naar regulier werk", FMT_RATE, lambda r: f"{r['J0']}*afg.fjw"),
        Col("B", "Uitkering (eind maand)", FMT_RATE,
            lambda r: f"{r['B0']}-{r['ew']}-{r['eo']}+{r['rw']}+{r['pr']}+{r['jd']}"),
        Col("P", "Deeltijd (eind maand)", FMT_RATE,
            lambda r: f"{r['P0']}+{r['ew_part']}-{r['pw']}-{r['po']}-{r['pr']}"),
        Col("W", "Werk (eind maand)", FMT_RATE,
            lambda r: f"{r['W0']}+{r['ew']}-{r['ew_part']}+{r['pw']}-{r['rw']}+{r['jw']}"),
        Col("O", "Andere uitstroom (eind maand)", FMT_RATE, lambda r: f"{r['O_in']}+{r['eo']}+{r['po']}"),
        Col("J", "Programmabaan (eind maand)", FMT_RATE, lambda r: f"{r['J0']}-{r['jd']}-{r['jw']}"),
        Col("ev", "Uitstroommomenten deze maand", FMT_RATE, lambda r: (
            f"{r['hired']}*jobs.benefit_saving+{r['to_w']}*(1-jobs.benefit_saving)+{r['ew']}-{r['ew_part']}+{r['eo']}"
            f"+{r['pw']}+{r['po']}+{r['jw']}*(1-jobs.benefit_saving)")),
        Col("ret", "Terugvalmomenten deze maand", FMT_RATE,
            lambda r: f"{r['back']}*jobs.benefit_saving+{r['rw']}+{r['jd']}*jobs.benefit_saving"),
        Col("early", "Vroeg vertrokken uit programmabaan", FMT_RATE, lambda r: f"{r['jd']}+{r['jw']}"),
        Col("placed", "Geplaatst in werk tijdens deelname", FMT_RATE, lambda r: f"{r['taking']}*{r['ew']}"),
        Col("take", "Deelnemend (gemiddeld in de maand)", FMT_RATE, lambda r: (
            f"{r['taking']}*0.5*({r['B0']}+{r['B']}+{r['P0']}+{r['P']}+{r['J0']}+{r['J']}"
            f"+(1-participation.stops_at_exit)*({r['W0']}+{r['W']}))")),
    ]


def _mirror_cols(T: int) -> list[Col]:
    header = {c.code: c.header for c in _profile_cols()}
    cols = [Col("a", "Maanden na instroom", FMT_INT, lambda r: T - 1 - r.i)]
    for code in PROFILE_SUMS:
        cols.append(Col(code, header[code], FMT_RATE, lambda r, code=code: r.other("Profiel").ref(code, T - 1 - r.i)))
    return cols


# ------------------------------------------------------------------ Maand: per month
ITEM_COST = {   # shared programme cost item -> column on Maand holding its cost (treatment)
    "programme_staff": "staff", "programme_participants": "part_cost", "programme_placements": "place_cost",
    "programme_other": "other_cost", "secondment_overhead": "sec_ovh", "job_wages": "job_shared"}
assert set(ITEM_COST) == set(SHARED_COST_ITEMS)


def _payer_share(r: "Row", payer: str) -> str:
    """What ``payer`` bears of this month's shared programme costs."""
    return "(" + "+".join(f"sharing.{item}.{payer}*{r[col]}" for item, col in ITEM_COST.items()) + ")"


def _month_cols(T: int) -> list[Col]:
    def conv(code: str) -> Callable[[Row], str]:
        # a month's treatment total over entry cohorts: sum over e <= m of entrants(e) x profile(m - e)
        def f(r: Row) -> str:
            M = r.other("Omgekeerd")
            c = M.letter[code]
            first = f"'Maand'!${r.L.letter['N']}${r.L.row(0)}:{r['N']}"
            return f"SUMPRODUCT({first},'Omgekeerd'!{c}{M.row(T - 1 - r.i)}:{c}${M.row(T - 1)})"
        return f

    cols = [
        Col("month", "Maand", FMT_INT, lambda r: r.i + 1),
        Col("year", "Jaar", FMT_INT, lambda r: f"INT({r['t']}/12)+1"),
        Col("t", "Maand (vanaf 0)", FMT_INT, lambda r: r.i),
        Col("N", "Instroom (nieuwe deelnemers en heropgevulde plaatsen)", FMT_PEOPLE, lambda r: (
            f"IF({r['t']}=0,cohort.initial_participants,0)+IF({r['t']}<cohort.inflow_months,cohort.inflow_per_month,0)"
            + ("" if r.i == 0 else f"+IF({r['t']}-1<programme.months,jobs.refill_share*{r.prev('early')},0)"))),
        Col("cin", "Instroom cumulatief", FMT_PEOPLE, lambda r: f"{r.prev('cin')}+{r['N']}"),
    ]
    cols += [Col(code, f"Aanpak: {h}", FMT_PEOPLE, conv(code)) for code, h in (
        ("B0", "uitkering begin maand"), ("B", "uitkering eind maand"), ("P0", "deeltijd begin maand"),
        ("P", "deeltijd eind maand"), ("W0", "werk begin maand"), ("W", "werk eind maand"),
        ("J0", "programmabaan begin maand"), ("J", "programmabaan eind maand"), ("ev", "uitstroommomenten"),
        ("ret", "terugvalmomenten"), ("early", "vroeg uit programmabaan"), ("placed", "geplaatst tijdens deelname"),
        ("take", "deelnemend"))]
    cols += [
        Col("O", "Aanpak: andere uitstroom eind maand", FMT_PEOPLE,
            lambda r: f"{r['cin']}-{r['B']}-{r['P']}-{r['W']}-{r['J']}"),
        Col("ev_cum", "Aanpak: uitstroommomenten cumulatief", FMT_PEOPLE, lambda r: f"{r.prev('ev_cum')}+{r['ev']}"),
        Col("ret_cum", "Aanpak: terugval cumulatief", FMT_PEOPLE, lambda r: f"{r.prev('ret_cum')}+{r['ret']}"),
        # control: one aggregate, no age dependence
        Col("cB0", "Nulalternatief: uitkering begin maand", FMT_PEOPLE, lambda r: f"{r.prev('cB')}+{r['N']}"),
        Col("cP0", "Nulalternatief: deeltijd begin maand", FMT_PEOPLE, lambda r: r.prev("cP")),
        Col("cW0", "Nulalternatief: werk begin maand", FMT_PEOPLE, lambda r: r.prev("cW")),
        Col("c_ew", "Nulalternatief: naar werk", FMT_PEOPLE, lambda r: f"{r['cB0']}*afg.fw_c"),
        Col("c_eo", "Nulalternatief: andere uitstroom", FMT_PEOPLE, lambda r: f"{r['cB0']}*afg.fo_c"),
        Col("c_ewp", "Nulalternatief: waarvan deeltijd", FMT_PEOPLE, lambda r: f"{r['c_ew']}*baseline.part_time_share"),
        Col("c_pw", "Nulalternatief: deeltijd naar werk", FMT_PEOPLE, lambda r: f"{r['cP0']}*afg.fpw"),
        Col("c_po", "Nulalternatief: deeltijd andere uitstroom", FMT_PEOPLE, lambda r: f"{r['cP0']}*afg.fpo"),
        Col("c_pr", "Nulalternatief: deeltijd terug", FMT_PEOPLE, lambda r: f"{r['cP0']}*afg.fpr"),
        Col("c_rw", "Nulalternatief: terugval uit werk", FMT_PEOPLE, lambda r: f"{r['cW0']}*afg.hr"),
        Col("cB", "Nulalternatief: uitkering eind maand", FMT_PEOPLE,
            lambda r: f"{r['cB0']}-{r['c_ew']}-{r['c_eo']}+{r['c_rw']}+{r['c_pr']}"),
        Col("cP", "Nulalternatief: deeltijd eind maand", FMT_PEOPLE,
            lambda r: f"{r['cP0']}+{r['c_ewp']}-{r['c_pw']}-{r['c_po']}-{r['c_pr']}"),
        Col("cW", "Nulalternatief: werk eind maand", FMT_PEOPLE,
            lambda r: f"{r['cW0']}+{r['c_ew']}-{r['c_ewp']}+{r['c_pw']}-{r['c_rw']}"),
        Col("cO", "Nulalternatief: andere uitstroom eind maand", FMT_PEOPLE,
            lambda r: f"{r.prev('cO')}+{r['c_eo']}+{r['c_po']}"),
        Col("cev_cum", "Nulalternatief: uitstroommomenten cumulatief", FMT_PEOPLE,
            lambda r: f"{r.prev('cev_cum')}+{r['c_ew']}-{r['c_ewp']}+{r['c_eo']}+{r['c_pw']}+{r['c_po']}"),
        Col("cret_cum", "Nulalternatief: terugval cumulatief", FMT_PEOPLE, lambda r: f"{r.prev('cret_cum')}+{r['c_rw']}"),
        # averages over the month and benefit equivalents
        Col("Ba", "Aanpak: gemiddeld in de uitkering", FMT_PEOPLE, lambda r: f"0.5*({r['B0']}+{r['B']})"),
        Col("Pa", "Aanpak: gemiddeld deeltijd", FMT_PEOPLE, lambda r: f"0.5*({r['P0']}+{r['P']})"),
        Col("Wa", "Aanpak: gemiddeld aan het werk", FMT_PEOPLE, lambda r: f"0.5*({r['W0']}+{r['W']})"),
        Col("Ja", "Aanpak: gemiddeld in een programmabaan", FMT_PEOPLE, lambda r: f"0.5*({r['J0']}+{r['J']})"),
        Col("cBa", "Nulalternatief: gemiddeld in de uitkering", FMT_PEOPLE, lambda r: f"0.5*({r['cB0']}+{r['cB']})"),
        Col("cPa", "Nulalternatief: gemiddeld deeltijd", FMT_PEOPLE, lambda r: f"0.5*({r['cP0']}+{r['cP']})"),
        Col("cWa", "Nulalternatief: gemiddeld aan het werk", FMT_PEOPLE, lambda r: f"0.5*({r['cW0']}+{r['cW']})"),
        Col("beq_t", "Aanpak: uitkeringen (volledige equivalenten)", FMT_PEOPLE, lambda r: (
            f"{r['Ba']}+{r['Pa']}*(1-baseline.partial_benefit_saving)+{r['Ja']}*(1-jobs.benefit_saving)")),
        Col("beq_c", "Nulalternatief: uitkeringen (volledige equivalenten)", FMT_PEOPLE,
            lambda r: f"{r['cBa']}+{r['cPa']}*(1-baseline.partial_benefit_saving)"),
        Col("off_t", "Aanpak: mensen uit de uitkering", FMT_PEOPLE,
            lambda r: f"{r['W']}+{r['O']}+{r['J']}*jobs.benefit_saving"),
        Col("off_c", "Nulalternatief: mensen uit de uitkering", FMT_PEOPLE, lambda r: f"{r['cW']}+{r['cO']}"),
        Col("extra_off", "Extra mensen uit de uitkering", FMT_PEOPLE, lambda r: f"{r['off_t']}-{r['off_c']}"),
        Col("saved", "Bespaarde uitkeringsmaanden", FMT_PEOPLE, lambda r: f"{r['beq_c']}-{r['beq_t']}"),
        Col("seconded", "Gedetacheerd", FMT_PEOPLE, lambda r: (
            f"secondment.share*({r['Ba']}+{r['Pa']})*IF(secondment.ramp_months>0,"
            f"MIN(MAX({r['t']}/MAX(secondment.ramp_months,1),0),1),1)")),
        # money of both arms
        Col("benefit_t", "Aanpak: uitkeringen (EUR)", FMT_EUR, lambda r: f"afg.b_month*{r['beq_t']}"),
        Col("benefit_c", "Nulalternatief: uitkeringen (EUR)", FMT_EUR, lambda r: f"afg.b_month*{r['beq_c']}"),
        Col("gross_t", "Aanpak: brutoloon uit werk (EUR)", FMT_EUR, lambda r: (
            f"afg.wage_month*{r['Wa']}+afg.b_month*baseline.partial_benefit_saving*{r['Pa']}/afg.ns_div")),
        Col("gross_c", "Nulalternatief: brutoloon uit werk (EUR)", FMT_EUR, lambda r: (
            f"afg.wage_month*{r['cWa']}+afg.b_month*baseline.partial_benefit_saving*{r['cPa']}/afg.ns_div")),
        Col("care_t", "Aanpak: zorgbesparing (EUR)", FMT_EUR, lambda r: f"afg.care_month*({r['Wa']}+{r['Ja']})"),
        Col("care_c", "Nulalternatief: zorgbesparing (EUR)", FMT_EUR, lambda r: f"afg.care_month*{r['cWa']}"),
        Col("well_t", "Aanpak: welzijn (EUR)", FMT_EUR, lambda r: f"afg.wellbeing_month*({r['Wa']}+{r['Ja']})"),
        Col("well_c", "Nulalternatief: welzijn (EUR)", FMT_EUR, lambda r: f"afg.wellbeing_month*{r['cWa']}"),
        Col("exec_t", "Aanpak: uitvoeringskosten uitkering (EUR)", FMT_EUR,
            lambda r: f"afg.execution_month*({r['Ba']}+{r['Pa']})"),
        Col("exec_c", "Nulalternatief: uitvoeringskosten uitkering (EUR)", FMT_EUR,
            lambda r: f"afg.execution_month*({r['cBa']}+{r['cPa']})"),
        # the approach's own costs and the secondment and contract flows (treatment only)
        Col("staff", "Kosten personeel (EUR)", FMT_EUR, lambda r: (
            f"IF({r['t']}<programme.months,(programme.staff_fte+IF(programme.clients_per_fte>0,"
            f"{r['take']}/programme.clients_per_fte,0))*afg.cost_fte_month,0)")),
        Col("other_cost", "Overige en opstartkosten (EUR)", FMT_EUR, lambda r: (
            f"IF({r['t']}<programme.months,programme.other_cost_per_month,0)+IF({r['t']}=0,programme.setup_cost,0)")),
        Col("part_cost", "Kosten per deelnemer (EUR)", FMT_EUR, lambda r: (
            f"programme.cost_per_participant*{r['N']}+programme.cost_per_participant_month*{r['take']}")),
        Col("place_cost", "Kosten per plaatsing (EUR)", FMT_EUR,
            lambda r: f"programme.cost_per_placement*{r['placed']}"),
        Col("sec_hours", "Detachering: uren", FMT_NUM, lambda r: f"{r['seconded']}*secondment.hours_per_month"),
        Col("sec_fees", "Detachering: inleenvergoeding (EUR)", FMT_EUR,
            lambda r: f"secondment.tariff_per_hour*{r['sec_hours']}"),
        Col("top_up", "Detachering: premie deelnemer (EUR)", FMT_EUR, lambda r: f"afg.top_up*{r['seconded']}"),
        Col("sec_ovh", "Detachering: organisatiekosten (EUR)", FMT_EUR, lambda r: (
            f"IF(secondment.share>0,IF({r['t']}<programme.months,secondment.overhead_per_month,0)"
            f"+secondment.overhead_per_hour*{r['sec_hours']},0)")),
        Col("prod_t", "Aanpak: productie (EUR)", FMT_EUR,
            lambda r: f"work.production_ratio*({r['gross_t']}+{r['sec_fees']})"),
        Col("prod_c", "Nulalternatief: productie (EUR)", FMT_EUR, lambda r: f"work.production_ratio*{r['gross_c']}"),
        Col("job_wage", "Programmabanen: loonkosten (EUR)", FMT_EUR, lambda r: f"afg.job_wage_month*{r['Ja']}"),
        Col("job_shared", "Programmabanen: loonkostensubsidie (EUR)", FMT_EUR,
            lambda r: f"(1-jobs.employer_share)*{r['job_wage']}"),
        Col("job_prod", "Programmabanen: waarde van het werk (EUR)", FMT_EUR,
            lambda r: f"afg.job_prod_month*{r['Ja']}"),
        Col("job_fees", "Programmabanen: vergoeding werkgever (EUR)", FMT_EUR, lambda r: f"jobs.fee_per_month*{r['Ja']}"),
        # net per actor, treatment minus control
        Col("a_municipality", "Gemeente (EUR)", FMT_EUR, lambda r: (
            f"-({r['benefit_t']}-{r['benefit_c']})*benefit.retention_share-({r['exec_t']}-{r['exec_c']})"
            f"+{r['sec_fees']}-{r['top_up']}+{r['job_fees']}-{_payer_share(r, 'municipality')}")),
        Col("a_rijk", "Rijk (EUR)", FMT_EUR, lambda r: (
            f"-(1-benefit.retention_share)*({r['benefit_t']}-{r['benefit_c']})"
            f"+(1-work.net_wage_share)*({r['gross_t']}-{r['gross_c']}+{r['job_wage']})-{_payer_share(r, 'rijk')}")),
        Col("a_participant", "Deelnemer (EUR)", FMT_EUR, lambda r: (
            f"{r['benefit_t']}-{r['benefit_c']}+work.net_wage_share*({r['gross_t']}-{r['gross_c']}+{r['job_wage']})"
            f"+{r['well_t']}-{r['well_c']}+{r['top_up']}")),
        Col("a_employer", "Werkgever (EUR)", FMT_EUR, lambda r: (
            f"-({r['gross_t']}-{r['gross_c']})+{r['prod_t']}-{r['prod_c']}-{r['sec_fees']}"
            f"-jobs.employer_share*{r['job_wage']}-{r['job_fees']}-{_payer_share(r, 'employer')}")),
        Col("a_care", "Zorg (EUR)", FMT_EUR, lambda r: f"{r['care_t']}-{r['care_c']}"),
        # the value of programme work, minus the seconded hours that displace regular work (as the kernel books it)
        Col("a_society", "Overige maatschappij (EUR)", FMT_EUR, lambda r: (
            f"{r['job_prod']}-secondment.displacement_share*work.production_ratio*{r['sec_fees']}")),
        Col("a_housing", "Woningcorporatie (EUR)", FMT_EUR, lambda r: f"-{_payer_share(r, 'housing_corporation')}"),
        Col("a_agency", "Bureau (EUR)", FMT_EUR, lambda r: f"-{_payer_share(r, 'agency')}"),
        Col("a_other", "Overig (EUR)", FMT_EUR, lambda r: f"-{_payer_share(r, 'other')}"),
        # the two perspectives
        Col("muni_net", "Gemeente: netto (EUR)", FMT_EUR, lambda r: r["a_municipality"]),
        Col("muni_cost", "Gemeente: programmakosten (EUR)", FMT_EUR, lambda r: _payer_share(r, "municipality")),
        Col("soc_net", "Maatschappij: netto (EUR)", FMT_EUR, lambda r: (
            f"{r['a_municipality']}+{r['a_rijk']}+{r['a_participant']}+{r['a_employer']}+{r['a_care']}"
            f"+{r['a_society']}+{r['a_housing']}+{r['a_agency']}+{r['a_other']}")),
        Col("soc_cost", "Maatschappij: programmakosten (EUR)", FMT_EUR, lambda r: (
            "+".join(f"{r[col]}*afg.share_sum.{item}" for item, col in ITEM_COST.items())
            + f"+jobs.employer_share*{r['job_wage']}-{r['job_wage']}")),
        Col("sec_result", "Detachering: resultaat gemeente na uitkering (EUR)", FMT_EUR, lambda r: (
            f"{r['sec_fees']}-{r['top_up']}-sharing.secondment_overhead.municipality*{r['sec_ovh']}"
            f"-{r['seconded']}*afg.b_month")),
        Col("net", "Netto in het perspectief van de casus (EUR)", FMT_EUR,
            lambda r: f"IF(afg.municipal,{r['muni_net']},{r['soc_net']})"),
        Col("cost", "Programmakosten in het perspectief van de casus (EUR)", FMT_EUR,
            lambda r: f"IF(afg.municipal,{r['muni_cost']},{r['soc_cost']})"),
        Col("gross", "Bruto besparing in het perspectief van de casus (EUR)", FMT_EUR,
            lambda r: f"{r['net']}+{r['cost']}"),
        Col("cum_net", "Cumulatief netto (EUR)", FMT_EUR, lambda r: f"{r.prev('cum_net')}+{r['net']}"),
        Col("neg_cum", "Cumulatief nog negatief (maand, anders -1)", FMT_INT,
            lambda r: f"IF({r['cum_net']}<-afg.tolerance,{r['t']},-1)"),
        Col("neg_net", "Maandresultaat negatief (maand, anders -1)", FMT_INT,
            lambda r: f"IF({r['net']}<-afg.tolerance,{r['t']},-1)"),
        Col("cum_sec", "Detachering: cumulatief resultaat (EUR)", FMT_EUR,
            lambda r: f"{r.prev('cum_sec')}+{r['sec_result']}"),
        Col("neg_sec", "Detachering cumulatief negatief (maand, anders -1)", FMT_INT,
            lambda r: f"IF({r['cum_sec']}<-afg.tolerance,{r['t']},-1)"),
        Col("df", "Disconteringsfactor", FMT_RATE, lambda r: (
            f'IF(disconteringswijze="monthly",(1+discount.rate)^(-({r["t"]}+1)/12),'
            f'(1+discount.rate)^(-(INT({r["t"]}/12)+IF(disconteringswijze="excel",1,0))))')),
    ]
    return cols


def _year_cols(T: int) -> list[Col]:
    def sumif(code: str) -> Callable[[Row], str]:
        def f(r: Row) -> str:
            M = r.other("Maand")
            return f"SUMIF({M.rng('year')},{r['year']},{M.rng(code)})"
        return f

    def at_end(code: str) -> Callable[[Row], str]:
        def f(r: Row) -> str:
            M = r.other("Maand")
            return f"INDEX({M.rng(code)},MIN({r['year']}*12,{T}))"
        return f

    return [
        Col("year", "Jaar", FMT_INT, lambda r: r.i + 1),
        Col("months", "Maanden", FMT_INT, lambda r: f"MIN(12,{T}-12*({r['year']}-1))"),
        Col("gross", "Bruto besparing (EUR)", FMT_EUR, sumif("gross")),
        Col("cost", "Programmakosten (EUR)", FMT_EUR, sumif("cost")),
        Col("net", "Netto resultaat (EUR)", FMT_EUR, sumif("net")),
        Col("muni_net", "Gemeente: netto (EUR)", FMT_EUR, sumif("muni_net")),
        Col("muni_cost", "Gemeente: programmakosten (EUR)", FMT_EUR, sumif("muni_cost")),
        Col("soc_net", "Maatschappij: netto (EUR)", FMT_EUR, sumif("soc_net")),
        Col("soc_cost", "Maatschappij: programmakosten (EUR)", FMT_EUR, sumif("soc_cost")),
        Col("saved", "Bespaarde uitkeringsmaanden", FMT_PEOPLE, sumif("saved")),
        Col("extra_off_end", "Extra mensen uit de uitkering (eind jaar)", FMT_PEOPLE, at_end("extra_off")),
        Col("extra_off_avg", "Extra mensen uit de uitkering (gemiddeld)", FMT_PEOPLE,
            lambda r: f"{sumif('extra_off')(r)}/{r['months']}"),
        Col("cum_net", "Cumulatief netto resultaat (EUR)", FMT_EUR, lambda r: f"{r.prev('cum_net')}+{r['net']}"),
    ]


# ------------------------------------------------------------------ Resultaat
def _npv(code_year: str, code_month: str, Y: Layout, M: Layout) -> str:
    """NCW of a money row: Excel NPV over the appraisal years (convention excel; x (1 + r) for start),
    monthly discounting otherwise."""
    npv = f"NPV(discount.rate,{Y.rng(code_year)})"
    return (f'IF(disconteringswijze="excel",{npv},IF(disconteringswijze="start",{npv}*(1+discount.rate),'
            f"SUMPRODUCT({M.rng('df')},{M.rng(code_month)})))")


def _results(T: int, M: Layout, Y: Layout) -> list[tuple[str, str, str, str]]:
    """(metric code, Dutch label, formula, format); the code is the kernel's metric name."""
    def at(code: str) -> str:
        return f"INDEX({M.rng(code)},afg.eval_index+1)"

    def be(code: str) -> str:
        return f'IF(MAX({M.rng(code)})={T - 1},"",MAX({M.rng(code)})+2)'

    def bcr(pv_net: str, pv_cost: str) -> str:
        # as mkba.fastkernel._bcr: negative benefits count as costs, negative costs as benefits
        b, c = f"({pv_net}+{pv_cost})", f"({pv_cost})"
        num, den = f"(MAX({b},0)+MAX(-{c},0))", f"(MAX({c},0)+MAX(-{b},0))"
        return f'IF({den}>0,{num}/{den},"")'

    pv = {k: _npv(k, k, Y, M) for k in ("net", "cost", "muni_net", "muni_cost", "soc_net", "soc_cost")}
    extra = at("extra_off")
    s_cost = f"SUM({M.rng('cost')})"
    cost_in_prog = f'SUMIF({M.rng("t")},"<"&afg.prog_T,{M.rng("cost")})'
    cost_per_year = f'IF(afg.prog_T>0,{cost_in_prog}/(afg.prog_T/12),"")'
    run_rate = f"{extra}*afg.b_month*12*IF(afg.municipal,benefit.retention_share,1)"
    return [
        ("extra_ended_benefits", "Extra mensen uit de uitkering (peilmaand)", extra, FMT_PEOPLE),
        ("extra_people_off_benefit_avg", "Extra mensen uit de uitkering (gemiddeld over de horizon)",
         f"AVERAGE({M.rng('extra_off')})", FMT_PEOPLE),
        ("extra_exit_events", "Extra uitstroommomenten (peilmaand)", f"{at('ev_cum')}-{at('cev_cum')}", FMT_PEOPLE),
        ("ended_benefits_treatment", "Mensen uit de uitkering met aanpak (peilmaand)", at("off_t"), FMT_PEOPLE),
        ("ended_benefits_control", "Mensen uit de uitkering zonder aanpak (peilmaand)", at("off_c"), FMT_PEOPLE),
        ("benefit_months_saved", "Bespaarde uitkeringsmaanden", f"SUM({M.rng('saved')})", FMT_PEOPLE),
        ("participation_months_charged", "Deelnemersmaanden", f"SUM({M.rng('take')})", FMT_PEOPLE),
        ("gross_saving_eur", "Bruto besparing (perspectief casus, nominaal)", f"SUM({M.rng('gross')})", FMT_EUR),
        ("programme_cost_eur", "Programmakosten (perspectief casus, nominaal)", s_cost, FMT_EUR),
        ("net_result_eur", "Netto resultaat (perspectief casus, nominaal)", f"SUM({M.rng('net')})", FMT_EUR),
        ("npv_eur", "Netto contante waarde (perspectief casus)", pv["net"], FMT_EUR),
        ("bcr", "Baten-kostenverhouding (perspectief casus)", bcr(pv["net"], pv["cost"]), FMT_RATIO),
        ("break_even_month", "Terugverdienmaand (cumulatief resultaat blijft positief; leeg = niet binnen de horizon)",
         be("neg_cum"), FMT_INT),
        ("monthly_break_even_month", "Maand vanaf welke het maandresultaat positief blijft (leeg = nooit)",
         be("neg_net"), FMT_INT),
        ("cost_per_extra_person_off_benefit_eur", "Kosten per extra persoon uit de uitkering",
         f'IF({extra}>{fk.PEOPLE_TOLERANCE},{s_cost}/{extra},"")', FMT_EUR),
        ("annual_saving_run_rate_eur", "Besparing op jaarbasis (extra mensen uit de uitkering x uitkering per jaar)",
         run_rate, FMT_EUR),
        ("programme_cost_per_year_eur", "Programmakosten per jaar", cost_per_year, FMT_EUR),
        ("annual_net_run_rate_eur", "Netto resultaat op jaarbasis", f"{run_rate}-{cost_per_year}", FMT_EUR),
        ("municipal_net_result_eur", "Gemeente: netto resultaat (nominaal)", f"SUM({M.rng('muni_net')})", FMT_EUR),
        ("municipal_programme_cost_eur", "Gemeente: programmakosten (nominaal)", f"SUM({M.rng('muni_cost')})", FMT_EUR),
        ("municipal_npv_eur", "Gemeente: netto contante waarde (NCW)", pv["muni_net"], FMT_EUR),
        ("municipal_bcr", "Gemeente: baten-kostenverhouding", bcr(pv["muni_net"], pv["muni_cost"]), FMT_RATIO),
        ("societal_net_result_eur", "Maatschappij: netto resultaat (nominaal)", f"SUM({M.rng('soc_net')})", FMT_EUR),
        ("societal_costs_eur", "Maatschappij: programmakosten (contant)", pv["soc_cost"], FMT_EUR),
        ("societal_benefits_eur", "Maatschappij: baten (contant)", f"{pv['soc_net']}+{pv['soc_cost']}", FMT_EUR),
        ("societal_npv_eur", "Maatschappij: netto contante waarde (NCW)", pv["soc_net"], FMT_EUR),
        ("societal_bcr", "Maatschappij: baten-kostenverhouding", bcr(pv["soc_net"], pv["soc_cost"]), FMT_RATIO),
        ("secondment_surplus_after_benefit_year1_eur", "Detachering: resultaat gemeente na uitkering, eerste jaar",
         f"SUMIF({M.rng('t')},\"<12\",{M.rng('sec_result')})", FMT_EUR),
        ("secondment_break_even_month", "Detachering: terugverdienmaand (leeg = niet binnen de horizon)",
         be("neg_sec"), FMT_INT),
    ]


RESULT_CODES = tuple(code for code, *_ in _results(12, Layout("Maand", _month_cols(12), 12),
                                                    Layout("Jaar", _year_cols(12), 1)))


# ------------------------------------------------------------------ writing
def _title(ws, text: str, note: str = "") -> None:
    from openpyxl.styles import Font

    ws["A1"] = text
    ws["A1"].font = Font(bold=True, size=13)
    if note:
        ws["B1"] = note
        ws["B1"].font = Font(italic=True)


def _table(ws, layout: Layout, layouts: dict[str, Layout], title: str, note: str = "") -> None:
    from openpyxl.styles import Alignment, Font

    _title(ws, title, note)
    grey = Font(color="808080", size=8)
    for j, col in enumerate(layout.cols, start=1):
        h = ws.cell(row=2, column=j, value=col.header)
        h.font = Font(bold=True)
        h.alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(row=3, column=j, value=col.code).font = grey
        ws.column_dimensions[layout.letter[col.code]].width = 13
    for i in range(layout.n):
        r = Row(layout, i, layouts)
        for j, col in enumerate(layout.cols, start=1):
            v = col.fn(r)
            cell = ws.cell(row=FIRST_ROW + i, column=j, value=f"={v}" if isinstance(v, str) else v)
            cell.number_format = col.fmt
    ws.row_dimensions[2].height = 45
    ws.freeze_panes = ws.cell(row=FIRST_ROW, column=2)


def _define(wb, name: str, sheet: str, cell: str) -> None:
    from openpyxl.workbook.defined_name import DefinedName

    wb.defined_names[name] = DefinedName(name, attr_text=f"'{sheet}'!{cell}")


def _input_value(v: float):
    if isinstance(v, float) and math.isinf(v):
        return INFINITE_TEXT
    return v


def _source(case, key: str) -> str:
    from .formatting import human_reference

    p = case.parameters.get(key)
    if p is None:
        return ""
    text, refs = human_reference(p.reference, "nl")
    conv = case.price_conversions.get(key)
    if conv is not None:
        text += (f"; omgerekend van prijzen {conv.from_year} naar {conv.to_year} "
                 f"(CBS 83131NED, x {conv.factor:.6f})")
    if refs:
        text += " [" + "; ".join(refs) + "]"
    return text


def add_model_sheets(wb, case, metrics: dict[str, float], *, print_setup: Callable | None = None) -> list[str]:
    """Add the formula sheets of ``case`` to ``wb`` (an openpyxl Workbook); ``metrics`` = the kernel's metrics
    of the case (shown next to the formulas). Returns the sheet names added, in order."""
    from openpyxl.styles import Font, PatternFill

    from .formatting import param_label, unit_label

    check_supported(case)
    T = case.months
    n_years = (T + 11) // 12
    L = {
        "Afleiding": Layout("Afleiding", _bisection_cols(), BISECTION_STEPS + 1),
        "Profiel": Layout("Profiel", _profile_cols(), T),
        "Omgekeerd": Layout("Omgekeerd", _mirror_cols(T), T),
        "Maand": Layout("Maand", _month_cols(T), T),
        "Jaar": Layout("Jaar", _year_cols(T), n_years),
    }
    input_fill = PatternFill("solid", fgColor="FFF2CC")

    # --- Invoer
    ws = wb.create_sheet("Invoer")
    _title(ws, "Invoer: de aannames van de casus", "Gele cellen kunt u wijzigen; alle bladen rekenen mee. "
           f"Bedragen in prijzen van {case.price_year}. De tijdshorizon ligt vast (aantal rijen op Maand).")
    heads = ("Aanname", "Waarde", "Eenheid", "Bron", "Naam in formules")
    for j, h in enumerate(heads, start=1):
        ws.cell(row=2, column=j, value=h).font = Font(bold=True)
    row = 3
    text_inputs = [("perspectief", "Perspectief van de casus (gemeente of maatschappij)",
                    PERSPECTIVE_TEXT.get(case.perspective, case.perspective), "", "case file: perspective"),
                   ("disconteringswijze", "Disconteringswijze (excel = jaar 1 ook gedisconteerd, zoals NCW/NPV; "
                    "start = jaar 1 niet; monthly = per maand)", case.discount_convention, "", "case file: discount_convention")]
    for name, label, value, unit, src in text_inputs:
        for j, v in enumerate((label, value, unit, src, name), start=1):
            ws.cell(row=row, column=j, value=v)
        ws.cell(row=row, column=2).fill = input_fill
        _define(wb, name, "Invoer", f"$B${row}")
        row += 1
    for key in INPUTS:
        p = case.parameters.get(key)
        unit = p.unit if p is not None else SCHEMA[key].unit
        value = _input_value(case.values[key])
        cells = (param_label(key, "nl"), value, unit_label(unit, "nl"), _source(case, key), key)
        for j, v in enumerate(cells, start=1):
            ws.cell(row=row, column=j, value=v)
        c = ws.cell(row=row, column=2)
        if key != "horizon.months":
            c.fill = input_fill
        if isinstance(value, (int, float)):
            c.number_format = FMT_EUR2 if unit.startswith("EUR") else FMT_NUM
        _define(wb, key, "Invoer", f"$B${row}")
        row += 1
    for col, width in zip("ABCDE", (60, 16, 28, 90, 42)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "B3"

    # --- Afgeleid
    wd = wb.create_sheet("Afgeleid")
    _title(wd, "Afgeleide grootheden (formules op de invoer)")
    for j, h in enumerate(("Grootheid", "Waarde", "Eenheid", "Naam in formules"), start=1):
        wd.cell(row=2, column=j, value=h).font = Font(bold=True)
    for i, (name, label, unit, formula, fmt) in enumerate(_derived(T)):
        r = 3 + i
        wd.cell(row=r, column=1, value=label)
        c = wd.cell(row=r, column=2, value=f"={formula}")
        c.number_format = fmt
        wd.cell(row=r, column=3, value=unit)
        wd.cell(row=r, column=4, value=name)
        _define(wb, name, "Afgeleid", f"$B${r}")
    for col, width in zip("ABCD", (70, 16, 28, 30)):
        wd.column_dimensions[col].width = width

    # --- table sheets
    A = L["Afleiding"]
    _define(wb, "afl.baseline_rate", "Afleiding",
            f"${A.letter['base_mid']}${A.last}")
    _define(wb, "afl.total_rate", "Afleiding", f"${A.letter['total_mid']}${A.last}")
    notes = {
        "Afleiding": "Opgegeven uitkomsten omgezet in een jaarkans door halveren (60 stappen); het midden van de "
                     "laatste stap is de gebruikte kans.",
        "Profiel": "Eén deelnemer vanaf de instroom: per maand na instroom de kansen en de toestand "
                   "(uitkering, deeltijd, werk, andere uitstroom, programmabaan).",
        "Omgekeerd": "Hulpblad: de profielkolommen in omgekeerde volgorde, zodat een maandtotaal over alle "
                     "instroomcohorten één SOMPRODUCT is.",
        "Maand": "Per maand: aanpak (instroom x profiel, opgeteld over cohorten) tegenover het nulalternatief, "
                 "en alle geldstromen; bedragen in euro, aanpak min nulalternatief waar niet anders vermeld.",
        "Jaar": "Per jaar: sommen van Maand; de netto contante waarde is NCW/NPV over deze rijen.",
    }
    titles = {"Afleiding": "Afleiding van opgegeven uitkomsten", "Profiel": "Profiel per deelnemer",
              "Omgekeerd": "Profiel omgekeerd (hulpblad)", "Maand": "Berekening per maand", "Jaar": "Per jaar"}
    sheets = {}
    for name in ("Jaar", "Maand", "Profiel", "Omgekeerd", "Afleiding"):
        sheets[name] = wb.create_sheet(name)
        _table(sheets[name], L[name], L, titles[name], notes[name])

    # --- Resultaat (first of the model sheets)
    wr = wb.create_sheet("Resultaat")
    _title(wr, f"Resultaat: {getattr(case, 'title_nl', None) or case.title}",
           "Berekend met de formules van deze werkmap; kolom 'mkba' is de uitkomst van mkba run bij het maken "
           "van de werkmap.")
    for j, h in enumerate(("Onderdeel", "Waarde (formule)", "mkba (bij export)", "Code"), start=1):
        wr.cell(row=2, column=j, value=h).font = Font(bold=True)
    for i, (code, label, formula, fmt) in enumerate(_results(T, L["Maand"], L["Jaar"])):
        r = 3 + i
        wr.cell(row=r, column=1, value=label)
        c = wr.cell(row=r, column=2, value=f"={formula}")
        c.number_format = fmt
        v = metrics.get(code)
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            wr.cell(row=r, column=3, value=float(v)).number_format = fmt
        wr.cell(row=r, column=4, value=code)
    for col, width in zip("ABCD", (80, 20, 20, 44)):
        wr.column_dimensions[col].width = width
    wr.freeze_panes = "B3"

    added = ["Resultaat", "Invoer", "Afgeleid", "Jaar", "Maand", "Profiel", "Omgekeerd", "Afleiding"]
    if print_setup is not None:
        for name in added:
            print_setup(wb[name])
    return added

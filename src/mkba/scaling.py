"""How each money and staff parameter changes when a case is moved to another number of participants.

``mkba new --municipality`` sizes a case to a municipality (``mkba.local``); what happens to each
cost then depends on what the cost *is*, not on its unit alone. :data:`RULES` holds one rule per
parameter, keyed by name (the schema stays free of it):

``per_participant``
    an amount per participant (per person, person-month, person-year, hour of a participant's
    work): the value stays, the total follows the number of participants in the model.
``unit``
    a price or an amount per unit of something the model counts (FTE-year, job-year, ended
    benefit): the value stays.
``per_fte``
    staff: the number of FTE follows the participants through the case's caseload ratio
    (participants of the case per FTE; APP: 80 clients on 1,6 FTE = 50 per FTE,
    003_1cff8ea758d15861.txt:900-903), so FTE = participants / ratio. When the case already sets a
    caseload (``programme.clients_per_fte`` > 0), the model adds staff per participant itself and
    ``programme.staff_fte`` is the fixed core team: it stays.
``fixed``
    a running cost of the organisation (per month) that does not grow with the number of
    participants: the value stays. The file shows what it would be if it did.
``one_off``
    a set-up cost paid once: the value stays.
``rate``
    a rate or discount, not an amount: the value stays.

Nothing here is an assumption value; the rules are choices documented per parameter, and
``tests/test_scaling.py`` checks that every money (EUR) and FTE parameter of the schema has one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping

Kind = Literal["per_participant", "unit", "per_fte", "fixed", "one_off", "rate"]


@dataclass(frozen=True)
class Rule:
    kind: Kind
    why: str


_PP = "an amount per participant: the total follows the number of participants in the model"
_UNIT = "a price per unit the model counts: unchanged"

#: One scaling rule per money (EUR) or staff parameter of :data:`mkba.schema.SCHEMA`.
RULES: dict[str, Rule] = {
    "programme.staff_fte": Rule("per_fte", "staff follows the participants at the case's caseload ratio "
                                           "(participants per FTE)"),
    "programme.cost_per_fte_year": Rule("unit", "employer cost of one FTE: a price, unchanged"),
    "programme.cost_per_participant": Rule("per_participant", _PP),
    "programme.cost_per_participant_month": Rule("per_participant", _PP),
    "programme.cost_per_placement": Rule("per_participant", _PP),
    "jobs.fee_per_month": Rule("per_participant", _PP),
    "programme.setup_cost": Rule("one_off", "set-up cost paid once in month 0; it does not grow with the "
                                            "number of participants"),
    "programme.other_cost_per_month": Rule("fixed", "running cost of the organisation per month; assumed not to "
                                                    "grow with the number of participants"),
    "benefit.cost_per_year": Rule("per_participant", "benefit cost per person-year: " + _PP),
    "work.wage_cost_per_year": Rule("unit", "wage cost per FTE-year of a job: a price, unchanged"),
    "effects.care_saving_per_worker_year": Rule("per_participant", "per person in work: " + _PP),
    "effects.wellbeing_per_worker_year": Rule("per_participant", "per person in work: " + _PP),
    "effects.execution_saving_per_ended_year": Rule("per_participant", "per ended benefit: " + _PP),
    "secondment.tariff_per_hour": Rule("unit", "tariff per billable hour: a price, unchanged"),
    "secondment.top_up_per_hour": Rule("unit", "top-up per hour worked: a price, unchanged"),
    "secondment.top_up_cap_per_month": Rule("per_participant", "cap per participant per month: " + _PP),
    "secondment.overhead_per_month": Rule("fixed", "running cost of the secondment organisation per month; assumed "
                                                   "not to grow with the number of participants"),
    "secondment.overhead_per_hour": Rule("unit", "cost per billable hour: a price, unchanged"),
    "jobs.wage_cost_per_year": Rule("unit", "wage cost per FTE-year of a programme job: a price, unchanged"),
    "jobs.production_value_per_year": Rule("unit", "value per programme job-year: unchanged"),
}

#: Units whose parameters need a rule (money and staff).
RULED_UNIT_PREFIXES = ("EUR",)
RULED_KINDS = ("eur", "eur_small", "fte")


def needs_rule(name: str, spec) -> bool:
    """Whether a schema entry is a money or staff amount (and so needs a scaling rule)."""
    return spec.kind in RULED_KINDS or str(spec.unit).startswith(RULED_UNIT_PREFIXES)


#: the rule of a money/FTE parameter that has none in :data:`RULES`
NO_RULE = Rule("fixed", "no scaling rule recorded for this parameter (mkba.scaling.RULES): kept as in the case; check it")


def rule_for(name: str) -> Rule:
    """The scaling rule of ``name``; a money/FTE parameter without one keeps its value, saying so."""
    return RULES.get(name, NO_RULE)


@dataclass(frozen=True)
class Scaled:
    """The outcome of a rule for one parameter: value before and after, and the reason in words."""

    name: str
    kind: Kind
    before: float
    after: float
    why: str

    @property
    def changed(self) -> bool:
        return self.after != self.before


def apply(values: Mapping[str, float], participants_before: float, participants_after: float,
          names=None) -> dict[str, Scaled]:
    """Apply :data:`RULES` to the money/staff parameters in ``values`` (all of them, or ``names``)
    for a move from ``participants_before`` to ``participants_after`` participants."""
    k = participants_after / participants_before
    out: dict[str, Scaled] = {}
    for name in (names if names is not None else RULES):
        if name not in values:
            continue
        r = rule_for(name)
        v = float(values[name])
        after, why = v, r.why
        if r.kind == "per_fte" and v > 0:
            if float(values.get("programme.clients_per_fte", 0) or 0) > 0:
                why = ("fixed core team: the case sets a caseload (programme.clients_per_fte = "
                       f"{values['programme.clients_per_fte']:g}), so the model adds staff per participant itself")
            else:
                ratio = participants_before / v
                after = participants_after / ratio
                why = (f"caseload ratio of the case: {participants_before:g} participants / {v:g} FTE = "
                       f"{ratio:.4g} per FTE; {participants_after:g} participants / {ratio:.4g} = {after:.4g} FTE")
        elif r.kind == "fixed" and v > 0 and k != 1:
            why = (f"{r.why}; if it did grow with the participants it would be {v * k:,.0f}"
                   .replace(",", ".") + f" (x {k:.4g})")
        out[name] = Scaled(name, r.kind, v, after, why)
    return out

"""One-line descriptions of the model parameters, in Dutch, for files people edit (``mkba new``).

:func:`parameter_description` is the one place these come from. When the Dutch parameter labels
land in the babel catalogue (``mkba.formatting``), point this function at the catalogue and drop
the table below; English falls back to the schema's own description.
"""
from __future__ import annotations

from .schema import SCHEMA

#: Dutch group headings, by parameter prefix (the mechanism the parameters belong to).
GROUPS_NL: dict[str, str] = {
    "horizon": "Looptijd van de berekening",
    "cohort": "Wie doet mee (omvang; geen onzekerheid)",
    "baseline": "Zonder de aanpak (nulalternatief)",
    "cycle": "Economische conjunctuur",
    "effect": "Effect van de aanpak op de deelnemers",
    "programme": "Kosten van de aanpak",
    "benefit": "Uitkering en financiering",
    "work": "Werk",
    "effects": "Overige maatschappelijke effecten",
    "secondment": "Werken met behoud van uitkering (detachering)",
    "jobs": "Banen van het programma zelf",
    "discount": "Disconteren",
    "evaluation": "Telmoment",
}

DESCRIPTIONS_NL: dict[str, str] = {
    "horizon.months": "Looptijd van de berekening in maanden (60 = vijf jaar)",
    "cohort.initial_participants": "Deelnemers in de uitkering bij de start (maand 0)",
    "cohort.inflow_per_month": "Nieuwe deelnemers per maand",
    "cohort.inflow_months": "Aantal maanden waarin nieuwe deelnemers instromen",
    "baseline.work_exit_rate": "Kans per jaar dat iemand zonder de aanpak uitstroomt naar werk",
    "baseline.other_exit_rate": "Kans per jaar op uitstroom om andere redenen (verhuizing, rechtmatigheid, AOW)",
    "baseline.return_rate": "Kans per jaar dat wie naar werk ging terugkeert in de uitkering",
    "baseline.part_time_share": "Deel van de overgangen naar werk dat deeltijdwerk naast een gedeeltelijke uitkering is",
    "baseline.partial_benefit_saving": "Deel van de uitkering dat vervalt bij deeltijdwerk",
    "baseline.partial_to_work_rate": "Kans per jaar dat een deeltijdwerker de uitkering helemaal verlaat",
    "cycle.multiplier": "Vermenigvuldiger op de kans op werk ten opzichte van de conjunctuur van de meting",
    "effect.work_exit_added": "Extra kans per jaar op werk door de aanpak, in procentpunten als fractie (+5,3 pp = 0.053)",
    "effect.work_exit_ratio": "Vermenigvuldiger op de kans op werk door de aanpak (1 = geen effect)",
    "effect.other_exit_added": "Extra kans per jaar op andere uitstroom (bijv. rechtmatigheid door nauwer contact)",
    "effect.stock_share": "Eenmalig: deel van de deelnemers dat geen recht blijkt te hebben",
    "effect.stock_months": "Maanden waarin dat eenmalige effect wordt gevonden",
    "effect.lock_in_months": "Maanden aan het begin met minder kans op werk (lock-in) en nog geen effect",
    "effect.lock_in_factor": "Vermenigvuldiger op de kans op werk tijdens de lock-in (1 = geen lock-in)",
    "effect.ramp_months": "Maanden waarin het effect lineair opbouwt na de lock-in (0 = direct)",
    "effect.decay_start_month": "Maand vanaf wanneer het effect afneemt",
    "effect.decay_half_life_months": "Halveringstijd van het effect in maanden (.inf = blijvend)",
    "effect.cycle_sensitivity": "Hoe sterk het extra effect meebeweegt met de conjunctuur (1 = volledig)",
    "programme.months": "Maanden waarin de aanpak kosten maakt",
    "programme.staff_fte": "Vaste formatie voor de aanpak in fte",
    "programme.cost_per_fte_year": "Werkgeverslasten van één fte per jaar",
    "programme.clients_per_fte": "Klanten per extra fte (0 = vaste formatie)",
    "programme.cost_per_participant": "Eenmalige kosten per instromende deelnemer",
    "programme.cost_per_participant_month": "Kosten per deelnemer per maand in de aanpak",
    "programme.setup_cost": "Eenmalige opstartkosten in maand 0",
    "programme.other_cost_per_month": "Overige vaste kosten per maand (organisatie, coaching)",
    "benefit.cost_per_year": "Kosten van één volledige uitkering per jaar",
    "benefit.household_factor": "Uitkeringsniveau van deze groep ten opzichte van de gemiddelde mix (1 = gemiddeld)",
    "benefit.retention_share": "Deel van een besparing op de uitkering dat de gemeente houdt (BUIG)",
    "work.wage_cost_per_year": "Loonkosten van een voltijdbaan voor een deelnemer per jaar",
    "work.hours_fraction": "Gemiddelde baanomvang van wie gaat werken (1 = voltijd)",
    "work.net_wage_share": "Deel van de loonkosten dat de werknemer netto ontvangt",
    "work.production_ratio": "Waarde van de productie ten opzichte van de loonkosten",
    "effects.care_saving_per_worker_year": "Vermeden zorg- en ondersteuningskosten per werkende per jaar",
    "effects.wellbeing_per_worker_year": "Gewaardeerde welzijnswinst per werkende per jaar",
    "effects.execution_saving_per_ended_year": "Vermeden uitvoeringskosten per beëindigde uitkering per jaar",
    "secondment.share": "Deel van de deelnemers dat gedetacheerd werkt met behoud van uitkering",
    "secondment.hours_per_month": "Declarabele uren per gedetacheerde deelnemer per maand",
    "secondment.ramp_months": "Opbouw van de detacheringsuren in maanden",
    "secondment.tariff_per_hour": "All-in uurtarief dat werkgevers betalen",
    "secondment.top_up_per_hour": "Premie per uur voor de deelnemer bovenop de uitkering",
    "secondment.top_up_cap_per_month": "Maximale premie per deelnemer per maand",
    "secondment.overhead_per_month": "Vaste kosten van de detacheringsorganisatie per maand",
    "secondment.overhead_per_hour": "Variabele kosten per declarabel uur",
    "secondment.displacement_share": "Aandeel van de gedetacheerde uren dat regulier (uitzend)werk verdringt: telt niet als maatschappelijke productie",
    "jobs.share": "Deel van de deelnemers dat een baan bij het programma krijgt",
    "jobs.start_month": "Maand waarin de programmacontracten ingaan (na proef of training)",
    "jobs.end_month": "Maand waarin de programmacontracten eindigen",
    "jobs.wage_cost_per_year": "Loonkosten van een voltijd programmabaan per jaar",
    "jobs.hours_fraction": "Omvang van de programmacontracten (30 van 36 uur = 0.833)",
    "jobs.benefit_saving": "Deel van de uitkering dat vervalt tijdens een programmacontract",
    "jobs.production_value_per_year": "Waarde van het werk per programmabaan per jaar",
    "jobs.to_work_share": "Deel van de programmawerknemers dat daarna regulier gaat werken",
    "discount.rate": "Reële discontovoet per jaar",
    "evaluation.month": "Maand waarop de extra mensen uit de uitkering worden geteld (0 = einde looptijd)",
}


def parameter_description(name: str, lang: str = "nl") -> str:
    """A one-line description of parameter ``name`` (Dutch by default; the schema's English otherwise)."""
    if lang == "nl" and name in DESCRIPTIONS_NL:
        return DESCRIPTIONS_NL[name]
    spec = SCHEMA.get(name)
    return spec.description if spec is not None else name


def group_heading(prefix: str, lang: str = "nl") -> str:
    return GROUPS_NL.get(prefix, prefix) if lang == "nl" else prefix

"""The model's parameter schema: every numeric input, with unit, valid range and meaning.

This module holds *no assumption values* (those live in ``data/parameters/*.yaml`` and
``data/cases/*.yaml`` with their sources).  It only says which names exist, what unit they
are in and which values are physically or logically possible, so loading can reject a
rate written as 30 where 0.30 was meant, or a benefit of ``14.000`` that YAML read as 14.0.

Conventions
-----------
* Rates of leaving or returning are *annual probabilities* (0..1); the model converts them
  to monthly hazards with ``h = 1 - (1 - p) ** (1 / 12)``.
* Effects "in percentage points" are written as fractions: +5,3 pp is ``0.053``.
* Money is in euro of the case's price year; amounts "per year" are spread evenly over months.
* Time is in months since the programme starts (month 0 is the first month), except where a
  description says "after a participant's own entry": those run per entry cohort.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["probability", "share", "ratio", "eur", "eur_small", "months", "persons", "fte", "rate", "hours"]


@dataclass(frozen=True)
class Spec:
    unit: str
    kind: Kind
    minimum: float
    maximum: float
    description: str
    integer: bool = False
    allow_inf: bool = False


def _p(desc: str) -> Spec:
    return Spec("1/year (probability)", "probability", 0.0, 1.0, desc)


def _share(desc: str) -> Spec:
    return Spec("fraction", "share", 0.0, 1.0, desc)


def _eur(unit: str, desc: str, maximum: float = 1e9) -> Spec:
    return Spec(unit, "eur", 0.0, maximum, desc)


def _months(desc: str, minimum: float = 0.0, maximum: float = 600.0, allow_inf: bool = False) -> Spec:
    return Spec("months", "months", minimum, maximum, desc, integer=not allow_inf, allow_inf=allow_inf)


# Plausibility floor for "per person-year" benefit and wage amounts: anything below it is
# almost certainly a Dutch thousands separator read as a decimal point (14.000 -> 14.0).
# The lowest Participatiewet norm (a single person sharing costs) is far above 1.000 EUR/year.
IMPLAUSIBLE_ANNUAL_AMOUNT_EUR = 1000.0

SCHEMA: dict[str, Spec] = {
    # --- time
    "horizon.months": Spec("months", "months", 12, 600,
                           "Length of the appraisal in months (12 = one year). Written in months, not years.",
                           integer=True),
    # --- who takes part
    "cohort.initial_participants": Spec("persons", "persons", 0, 1e7, "Participants on benefit at month 0"),
    "cohort.inflow_per_month": Spec("persons/month", "persons", 0, 1e6, "New participants entering each month"),
    "cohort.inflow_months": _months("Months during which new participants enter (from month 0)"),
    # --- what happens without the approach (null alternative)
    "baseline.work_exit_rate": _p("Annual probability that a participant leaves benefit for work"),
    "baseline.other_exit_rate": _p("Annual probability of leaving benefit for other reasons (moving, eligibility, retirement)"),
    "baseline.return_rate": _p("Annual probability that someone who left for work returns to benefit"),
    "baseline.part_time_share": _share("Share of work transitions that are part-time work beside a partial benefit"),
    "baseline.partial_benefit_saving": _share("Share of the benefit saved while a participant works part-time"),
    "baseline.partial_to_work_rate": _p("Annual probability that a part-time worker on partial benefit leaves benefit fully"),
    # --- economic cycle
    "cycle.multiplier": Spec("ratio", "ratio", 0.0, 3.0,
                             "Multiplier on exit-to-work chances relative to the conditions the baseline was measured in"),
    # --- the approach's effect on participants
    "effect.work_exit_added": Spec("fraction/year (pp/100)", "rate", -1.0, 1.0,
                                   "Added annual probability of leaving for work, in percentage points as a fraction (+5,3 pp = 0.053)"),
    "effect.work_exit_ratio": Spec("ratio", "ratio", 0.0, 10.0, "Multiplier on the annual probability of leaving for work (1 = none)"),
    "effect.other_exit_added": Spec("fraction/year (pp/100)", "rate", -1.0, 1.0,
                                    "Added annual probability of other exits (e.g. eligibility found by closer contact)"),
    "effect.stock_share": _share("One-off: share of participants on benefit who leave it and do not return (stock effect; in FIP those found ineligible)"),
    "effect.stock_months": _months("Months after each participant's entry over which the one-off stock effect is found", minimum=1),
    "effect.lock_in_months": _months("Months after each participant's entry with lower exit chances (lock-in) and no effect yet"),
    "effect.lock_in_factor": Spec("ratio", "ratio", 0.0, 2.0, "Multiplier on participants' work chance during lock-in (1 = no lock-in)"),
    "effect.ramp_months": _months("Months over which the effect builds up linearly after a participant's lock-in (0 = at once)"),
    "effect.decay_start_month": _months("Months after a participant's own entry from which the effect decays"),
    "effect.decay_half_life_months": _months("Half-life of the effect's decay in months (.inf = lasting)", minimum=1e-9, allow_inf=True),
    "effect.cycle_sensitivity": _share("How far the added work effect moves with the economic cycle (1 = fully, 0 = not)"),
    # --- programme cost
    "programme.months": _months("Months (from the programme start) during which fixed programme costs (staff, running costs) are incurred"),
    "programme.staff_fte": Spec("FTE", "fte", 0, 1e4, "Fixed staff for the approach"),
    "programme.cost_per_fte_year": _eur("EUR/FTE-year", "Employer cost of one staff FTE per year", 1e6),
    "programme.clients_per_fte": Spec("persons/FTE", "persons", 0, 1e4, "Caseload per extra FTE (0 = staff is fixed)"),
    "programme.cost_per_participant": _eur("EUR/person", "One-off cost per entering participant", 1e6),
    "programme.cost_per_participant_month": _eur("EUR/person-month", "Cost per month of participation, charged on every participant taking part (see participation.*)", 1e5),
    "programme.setup_cost": _eur("EUR", "One-off set-up cost in month 0"),
    "programme.other_cost_per_month": _eur("EUR/month", "Other running cost per month (organisation, coaching)"),
    # --- benefit and its financing
    "benefit.cost_per_year": _eur("EUR/person-year", "Benefit cost of one benefit for a full year", 1e6),
    "benefit.household_factor": Spec("ratio", "ratio", 0.1, 3.0, "Benefit level of this group relative to the average mix (1 = average)"),
    "benefit.retention_share": _share("Share of a benefit saving that the municipality keeps (BUIG budget does not follow spending 1:1)"),
    # --- work
    "work.wage_cost_per_year": _eur("EUR/FTE-year", "Employer cost of a full-time job for a participant", 1e6),
    "work.hours_fraction": _share("Average job size of those who leave for work (1 = full time)"),
    "work.net_wage_share": _share("Share of the employer's wage cost the worker receives net (rest: taxes and premiums)"),
    "work.production_ratio": Spec("ratio", "ratio", 0.0, 5.0, "Value of production relative to wage cost"),
    # --- other societal effects per person-year
    "effects.care_saving_per_worker_year": _eur("EUR/person-year", "Avoided care and support costs per person in work", 1e6),
    "effects.wellbeing_per_worker_year": _eur("EUR/person-year", "Monetised wellbeing gain per person in work", 1e6),
    "effects.execution_saving_per_ended_year": _eur("EUR/person-year", "Avoided benefit administration per ended benefit", 1e6),
    # --- work with retained benefit (Flextensie-type secondment)
    "secondment.share": _share("Share of participants on benefit working via secondment while keeping the benefit"),
    "secondment.hours_per_month": Spec("hours/person-month", "hours", 0, 250, "Billable hours per seconded participant per month"),
    "secondment.ramp_months": _months("Build-up of secondment hours (linear) from month 0"),
    "secondment.tariff_per_hour": _eur("EUR/hour", "All-in tariff employers pay per hour", 1000),
    "secondment.top_up_per_hour": _eur("EUR/hour", "Top-up the participant receives per hour on top of the benefit", 1000),
    "secondment.top_up_cap_per_month": _eur("EUR/person-month", "Maximum top-up per participant per month", 1e5),
    "secondment.overhead_per_month": _eur("EUR/month", "Fixed running cost of the secondment organisation"),
    "secondment.overhead_per_hour": _eur("EUR/hour", "Variable cost per billable hour", 1000),
    "secondment.displacement_share": _share("Share of the seconded hours that displaces regular workers (work that would have been done anyway): not a societal gain"),
    # --- jobs created by the programme (Buurt-m/v-type)
    "jobs.share": _share("Share of participants on benefit hired by the programme"),
    "jobs.start_month": _months("Months after a participant's own entry at which the programme contract starts (trial/training on benefit before it)"),
    "jobs.end_month": _months("Months after a participant's own entry at which the programme contract ends"),
    "jobs.wage_cost_per_year": _eur("EUR/FTE-year", "Employer cost of a full-time programme job", 1e6),
    "jobs.hours_fraction": _share("Job size of the programme contracts (30 h of 36 h = 0.833)"),
    "jobs.benefit_saving": _share("Share of the benefit that ends while on a programme contract"),
    "jobs.production_value_per_year": _eur("EUR/job-year", "Value of the work done per programme job-year (for residents / society)", 1e6),
    "jobs.to_work_share": _share("Share of programme employees who move on to regular work when the contract ends"),
    # --- participation: how long people take part, and how long the effect lasts (per entrant)
    "participation.months": _months("Months each participant takes part, counted from their own entry month"),
    "participation.stops_at_exit": _share("Share of the per-participation-month cost that stops when a participant leaves the benefit for work (0 = charged for the whole participation period, 1 = only while on benefit or on a programme contract)"),
    "effect.persistence_months": _months("Months after participation ends during which the effect on exit chances lasts (0 = only while taking part; .inf = lasting, needs a source)", allow_inf=True),
    "effect.stock_cycle_sensitivity": _share("How far the one-off stock effect (eligibility found) moves with the economic cycle (0 = not)"),
    # --- part-time workers returning to full benefit
    "baseline.partial_return_rate": _p("Annual probability that a part-time worker on partial benefit loses the job and returns to full benefit"),
    "baseline.return_cycle_sensitivity": _share("How far returns from work to benefit rise in a downturn (0 = not; 1 = inversely to the cycle multiplier)"),
    "baseline.partial_to_work_cycle_sensitivity": _share("How far part-time workers' moves to full work move with the economic cycle (1 = like baseline job finding)"),
    # --- outcomes as stated in sources, converted exactly to hazards (0 = not stated)
    "outcome.work_share": _share("Stated: share of participants who leave the benefit for work within outcome.work_within_months of entry (0 = not stated; replaces effect.work_exit_added)"),
    "outcome.work_within_months": _months("Stated: months from entry over which outcome.work_share is measured (0 = not stated)"),
    "outcome.work_count": Spec("persons", "persons", 0, 1e7, "Stated: x participants of outcome.work_of left the benefit for work in their first year (0 = not stated)"),
    "outcome.work_of": Spec("persons", "persons", 0, 1e7, "Stated: the n of 'x of n to work in year 1' (0 = not stated)"),
    "outcome.baseline_share": _share("Stated: share of comparable non-participants who leave for work within outcome.baseline_within_months (0 = not stated; replaces baseline.work_exit_rate)"),
    "outcome.baseline_within_months": _months("Stated: months over which outcome.baseline_share is measured (0 = not stated)"),
    # --- programme contracts (subsidised, temporary, secondment, in-house jobs)
    "jobs.dropout_rate": _p("Annual probability that a programme employee drops out of the contract (back to benefit)"),
    "jobs.dismissal_rate": _p("Annual probability that a programme employee is dismissed (back to benefit)"),
    "jobs.to_work_rate": _p("Annual probability that a programme employee moves to regular work during the contract"),
    "jobs.refill_share": _share("Share of places left early that are refilled by a new participant while the programme runs"),
    "jobs.wage_benefit_ratio": Spec("ratio", "ratio", 0.0, 5.0, "Net contract wage relative to the benefit (1.1 = benefit + 10 %); 0 = use jobs.wage_cost_per_year"),
    "jobs.employer_share": _share("Share of the contract wage cost paid by the employer (the rest is a wage subsidy, shared as sharing.job_wages.*)"),
    "jobs.fee_per_month": _eur("EUR/person-month", "Fee the hirer pays the municipality per seconded programme employee per month", 1e5),
    "jobs.placement_cycle_sensitivity": _share("How far hiring into programme contracts moves with the economic cycle (0 = places are created by the programme)"),
    "jobs.to_work_cycle_sensitivity": _share("How far moves from programme contracts to regular work move with the economic cycle (1 = like baseline job finding)"),
    "jobs.dropout_cycle_sensitivity": _share("How far drop-outs and dismissals rise in a downturn (0 = not)"),
    "programme.cost_per_placement": _eur("EUR/placement", "Fee per participant placed in work during participation (no cure, less pay)", 1e6),
    # --- discounting
    "discount.rate": Spec("1/year (real)", "rate", -0.05, 0.2, "Real discount rate"),
    # --- when the published figure was measured
    "evaluation.month": _months("Month at which 'extra ended benefits' is read (published count date; 0 = end of horizon)"),
}

# --- cost sharing: who pays each cost item (shares over payers must sum to 1)
PAYERS = ("municipality", "rijk", "housing_corporation", "employer", "agency", "other")
SHARED_COST_ITEMS = ("programme_staff", "programme_participants", "programme_placements", "programme_other",
                     "secondment_overhead", "job_wages")
for _item in SHARED_COST_ITEMS:
    for _payer in PAYERS:
        SCHEMA[f"sharing.{_item}.{_payer}"] = _share(
            f"Share of the cost item '{_item}' paid by the {_payer.replace('_', ' ')} (the shares of an item sum to 1)")
del _item, _payer

# Parameters that must be whole months/persons are checked as such in the case loader.
RATE_KINDS = {"probability", "share"}


def spec(name: str) -> Spec:
    return SCHEMA[name]

"""Money per actor and item, from the people states.

Every flow is an array of shape ``(T, 2, n)`` (month x (treatment, control) x scenario) in
euro, signed from the actor's point of view (+ receives, - pays). Flows have a category:

``transfer``   money moving between actors (benefit, wages, taxes, fees, top-ups). Within an
               item the actors' flows add to zero, so transfers cancel in the societal total.
``programme``  the approach's own costs (staff, per participant, organisation, overhead).
``effect``     real gains or losses: production, avoided care, wellbeing, execution costs.

Actors: ``municipality`` (gemeente), ``rijk``, ``participant`` (deelnemer), ``employer``
(werkgever), ``care`` (zorg/verzekeraar), ``society`` (overige maatschappij).

The benefit is paid by the municipality out of its BUIG budget from the Rijk. The budget does
not follow spending one to one: of a change in benefit spending the municipality keeps
``benefit.retention_share`` and the rest flows back through next years' budgets
(``buig_budget`` item: municipality +, Rijk -). In the societal view this nets out.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cohort import MONTHS_PER_YEAR, States

ACTORS = ("municipality", "rijk", "participant", "employer", "care", "society")
CATEGORIES = ("transfer", "programme", "effect")


@dataclass(frozen=True)
class Flow:
    actor: str
    item: str
    category: str
    values: np.ndarray  # (T, 2, n)


def _col(P, name):
    """Parameter as a (1, 1, n) array for broadcasting over (T, 2, n)."""
    return P[name][None, None, :]


def _treatment_only(a: np.ndarray) -> np.ndarray:
    out = np.zeros(a.shape)
    out[:, 0, :] = a[:, 0, :]
    return out


def benefit_equivalents(S: States, P) -> np.ndarray:
    """Persons paid a full benefit, on average during each month (T, 2, n)."""
    return (S.B_avg + S.P_avg * (1.0 - _col(P, "baseline.partial_benefit_saving"))
            + S.J_avg * (1.0 - _col(P, "jobs.benefit_saving")))


def secondment_activity(S: States, P, month: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Billable hours and seconded persons per month (treatment only), shape (T, 2, n).

    The pool builds up linearly over ``secondment.ramp_months``: in month ``t`` (0-based) a share
    ``min(t / ramp, 1)`` of the eventual pool works, each ``secondment.hours_per_month`` hours.
    """
    T = S.B_avg.shape[0]
    t = np.arange(month, month + T, dtype=float)[:, None, None]
    R = _col(P, "secondment.ramp_months")
    ramp = np.where(R > 0, np.clip(t / np.maximum(R, 1.0), 0.0, 1.0), 1.0)
    seconded = _treatment_only(_col(P, "secondment.share") * (S.B_avg + S.P_avg) * ramp)
    return seconded * _col(P, "secondment.hours_per_month"), seconded


def flows(S: States, P, month: int = 0) -> list[Flow]:
    """All flows for the months in ``S`` (which start at programme month ``month``)."""
    T, _, n = S.B_avg.shape
    t = np.arange(month, month + T, dtype=float)[:, None, None]
    out: list[Flow] = []

    def add(actor, item, category, values):
        out.append(Flow(actor, item, category, np.broadcast_to(values, (T, 2, n))))

    # --- benefit and its financing
    b_month = _col(P, "benefit.cost_per_year") * _col(P, "benefit.household_factor") / MONTHS_PER_YEAR
    benefit = b_month * benefit_equivalents(S, P)
    retention = _col(P, "benefit.retention_share")
    add("municipality", "benefit_payments", "transfer", -benefit)
    add("participant", "benefit_payments", "transfer", benefit)
    add("municipality", "buig_budget", "transfer", (1.0 - retention) * benefit)
    add("rijk", "buig_budget", "transfer", -(1.0 - retention) * benefit)

    # --- regular work (full exits) and part-time work beside a partial benefit
    net_share = _col(P, "work.net_wage_share")
    gross_w = _col(P, "work.wage_cost_per_year") * _col(P, "work.hours_fraction") / MONTHS_PER_YEAR * S.W_avg
    # part-time earnings are offset against the benefit (S0:381-382): net earnings = benefit saved
    gross_p = b_month * _col(P, "baseline.partial_benefit_saving") * S.P_avg / np.where(net_share > 0, net_share, 1.0)
    gross = gross_w + gross_p
    add("employer", "wages", "transfer", -gross)
    add("participant", "wages", "transfer", net_share * gross)
    add("rijk", "wages", "transfer", (1.0 - net_share) * gross)
    production = _col(P, "work.production_ratio") * gross

    # --- other effects of work
    in_work = S.W_avg + S.J_avg
    if np.any(P["effects.care_saving_per_worker_year"]):
        add("care", "care_costs", "effect", _col(P, "effects.care_saving_per_worker_year") / MONTHS_PER_YEAR * in_work)
    if np.any(P["effects.wellbeing_per_worker_year"]):
        add("participant", "wellbeing", "effect", _col(P, "effects.wellbeing_per_worker_year") / MONTHS_PER_YEAR * in_work)
    if np.any(P["effects.execution_saving_per_ended_year"]):
        add("municipality", "execution_costs", "effect",
            -_col(P, "effects.execution_saving_per_ended_year") / MONTHS_PER_YEAR * (S.B_avg + S.P_avg))

    # --- programme costs (treatment only, during programme.months)
    active = _col(P, "programme.months") > t
    on_programme = S.B_avg + S.P_avg
    cpf = _col(P, "programme.clients_per_fte")
    caseload_based = bool(np.any(cpf > 0))
    if np.any(P["programme.staff_fte"]) or caseload_based:
        fte = _col(P, "programme.staff_fte")
        if caseload_based:
            fte = fte + np.where(cpf > 0, on_programme / np.where(cpf > 0, cpf, 1.0), 0.0)
        staff = np.where(active, fte * _col(P, "programme.cost_per_fte_year") / MONTHS_PER_YEAR, 0.0)
        add("municipality", "programme_staff", "programme", -_treatment_only(np.broadcast_to(staff, (T, 2, n))))
    if np.any(P["programme.cost_per_participant"]) or np.any(P["programme.cost_per_participant_month"]):
        per_participant = (_col(P, "programme.cost_per_participant") * S.inflow
                           + np.where(active, _col(P, "programme.cost_per_participant_month") * on_programme, 0.0))
        add("municipality", "programme_participants", "programme", -_treatment_only(per_participant))
    if np.any(P["programme.other_cost_per_month"]) or np.any(P["programme.setup_cost"]):
        other = (np.where(active, _col(P, "programme.other_cost_per_month"), 0.0)
                 + np.where(t == 0, _col(P, "programme.setup_cost"), 0.0))
        add("municipality", "programme_other", "programme", -_treatment_only(np.broadcast_to(other, (T, 2, n))))

    # --- work with retained benefit (secondment, Flextensie-type)
    share = _col(P, "secondment.share")
    if np.any(share > 0):
        hours, seconded = secondment_activity(S, P, month)
        fees = _col(P, "secondment.tariff_per_hour") * hours
        add("employer", "secondment_fees", "transfer", -fees)
        add("municipality", "secondment_fees", "transfer", fees)
        production = production + _col(P, "work.production_ratio") * fees
        top_up = np.minimum(_col(P, "secondment.top_up_per_hour") * _col(P, "secondment.hours_per_month"),
                            _col(P, "secondment.top_up_cap_per_month")) * seconded
        add("municipality", "secondment_top_up", "transfer", -top_up)
        add("participant", "secondment_top_up", "transfer", top_up)
        overhead = (np.where(active, _col(P, "secondment.overhead_per_month"), 0.0) * (share > 0)
                    + _col(P, "secondment.overhead_per_hour") * hours)
        add("municipality", "secondment_overhead", "programme", -_treatment_only(np.broadcast_to(overhead, (T, 2, n))))
    add("employer", "production", "effect", production)

    # --- jobs created by the programme (Buurt-m/v-type): wages paid by the municipality
    if np.any(P["jobs.share"] > 0):
        job_gross = _col(P, "jobs.wage_cost_per_year") * _col(P, "jobs.hours_fraction") / MONTHS_PER_YEAR * S.J_avg
        add("municipality", "job_wages", "programme", -job_gross)
        add("participant", "job_wages", "transfer", net_share * job_gross)
        add("rijk", "job_wages", "transfer", (1.0 - net_share) * job_gross)
        add("society", "job_production", "effect", _col(P, "jobs.production_value_per_year") / MONTHS_PER_YEAR * S.J_avg)
    return out

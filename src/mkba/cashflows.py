"""Money per actor and item, from the people states (the mechanics live in :mod:`mkba.fastkernel`).

Every flow is booked per month, per group (treatment, control) and per (actor, item, category),
in euro, signed from the actor's point of view (+ receives, - pays). Categories:

``transfer``   money moving between actors (benefit, wages, taxes, fees, top-ups). Within an
               item the actors' flows add to zero, so transfers cancel in the societal total.
``programme``  the approach's own costs (staff, per participant, placements, organisation,
               secondment overhead, the subsidised part of contract wages). Each programme cost
               item is split over the payers by ``sharing.<item>.<payer>`` (the shares sum to 1):
               municipality, rijk, housing_corporation, employer, agency, other.
``effect``     real gains or losses: production, avoided care, wellbeing, execution costs.

Actors: ``municipality`` (gemeente), ``rijk``, ``participant`` (deelnemer), ``employer``
(werkgever), ``care`` (zorg/verzekeraar), ``society`` (overige maatschappij), and as payers of
shared costs ``housing_corporation`` (woningcorporatie), ``agency`` (bureau) and ``other``.

What is booked (per month; treatment-only items marked T):

* benefit: ``benefit.cost_per_year x household_factor / 12`` per benefit equivalent (full benefit,
  the unpaid part of a partial benefit, the part a programme contract leaves); the municipality
  keeps ``benefit.retention_share`` of a change, the rest flows back through the BUIG budget.
* regular work: the employer's wage cost, net to the participant, the rest to the Rijk;
  production at ``work.production_ratio`` x wage cost. Part-time earnings are offset against the
  benefit (000_7f82048ff02a2552.txt:381-382).
* care, wellbeing (per person in work or on a contract), execution costs (per benefit).
* T programme: staff (fixed FTE plus caseload FTE on the participants taking part, in programme
  time), the one-off cost per entrant, the cost per participation month on every participant
  taking part (from their own entry, for ``participation.months``; ``participation.stops_at_exit``
  stops it at a move to work), a fee per placement in work during participation, running and
  set-up costs.
* T secondment with the benefit kept: fees (employer -> municipality), the top-up to the
  participant, the organisation's overhead (programme); only while the programme runs
  (``programme.months``): a pool whose costs are no longer paid seconds no one.
* T programme contracts: wage cost (``jobs.wage_cost_per_year`` or ``jobs.wage_benefit_ratio`` x the
  benefit, net), paid ``jobs.employer_share`` by the employer and the rest as a shared wage
  subsidy; net wage to the participant, taxes to the Rijk; the value of the work to society;
  secondment fees of contract workers (employer -> municipality).
"""
from __future__ import annotations

from .fastkernel import ACTORS, CATEGORIES, FLOWS, PROGRAMME_ITEMS  # noqa: F401  (the catalogue)

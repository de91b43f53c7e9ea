"""People over time: hazards, outcomes as sources state them, and the checks on a case's timing.

The cohort mechanics themselves (states, entry cohorts, competing hazards, the cycle on every
channel) are written once, in the compiled kernel :mod:`mkba.fastkernel` (see its docstring).
This module holds what is needed before the kernel runs, in plain numpy:

* :func:`monthly_hazard` / :func:`annual_probability`: ``h = 1 - (1 - p) ** (1/12)``;
* :func:`share_within`: the share of a group on benefit whose first exit to work falls within
  ``N`` months, given the annual probabilities of exits to work and of other (competing) exits,
  exactly as the kernel computes it month by month; :func:`work_rate_for_share` inverts it, so an
  outcome stated as "30 % placed within 12 months" or "24 of 80 to work in year 1" becomes the
  annual probability that reproduces it (:func:`derive_stated_outcomes` applies this to a
  parameter set);
* :func:`check_inputs` (errors) and :func:`warnings_for` (warnings) on a case's timing, cost
  sharing and stated outcomes.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from .errors import InputError
from .schema import PAYERS, SHARED_COST_ITEMS

MONTHS_PER_YEAR = 12
MAX_ANNUAL_PROBABILITY = 0.9999   # the kernel's cap (mkba.fastkernel)
SHARE_TOLERANCE = 1e-6            # cost shares and group shares must add up to 1 within this


def monthly_hazard(p_annual):
    """Monthly hazard from an annual probability: ``1 - (1 - p) ** (1/12)`` (never ``p / 12``)."""
    p = np.clip(np.asarray(p_annual, dtype=float), 0.0, MAX_ANNUAL_PROBABILITY)
    return -np.expm1(np.log1p(-p) / MONTHS_PER_YEAR)


def annual_probability(h_monthly):
    """Inverse of :func:`monthly_hazard`."""
    return 1.0 - (1.0 - np.asarray(h_monthly, dtype=float)) ** MONTHS_PER_YEAR


def share_within(p_work, p_other, months):
    """Share whose first exit is to work within ``months``, with competing other exits.

    Monthly hazards ``h_w``, ``h_o`` leave the stock with ``q = 1 - (1 - h_w)(1 - h_o)``, split in
    proportion, so ``share = h_w / (h_w + h_o) * (1 - (1 - q) ** months)``.
    """
    hw = monthly_hazard(p_work)
    ho = monthly_hazard(p_other)
    q = 1.0 - (1.0 - hw) * (1.0 - ho)
    tot = hw + ho
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(tot > 0, hw / np.where(tot > 0, tot, 1.0), 0.0)
    return frac * (1.0 - (1.0 - q) ** np.asarray(months, dtype=float))


def work_rate_for_share(share, p_other, months, *, field: str = "outcome.work_share", file: str | None = None):
    """Annual probability of exits to work at which :func:`share_within` equals ``share`` (bisection)."""
    share = np.asarray(share, dtype=float)
    p_other = np.broadcast_to(np.asarray(p_other, dtype=float), share.shape)
    months = np.broadcast_to(np.asarray(months, dtype=float), share.shape)
    top = share_within(np.full(share.shape, MAX_ANNUAL_PROBABILITY), p_other, months)
    if np.any(share > top + 1e-12):
        bad = float(share[share > top + 1e-12].flat[0])
        raise InputError(f"a share of {bad:g} cannot leave for work within the stated months while others leave for "
                         f"other reasons (at most {float(top.min()):.4g})", file=file, field=field, value=bad,
                         fix="check the stated share, its months, or baseline.other_exit_rate")
    lo = np.zeros(share.shape)
    hi = np.full(share.shape, MAX_ANNUAL_PROBABILITY)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        below = share_within(mid, p_other, months) < share
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def derive_stated_outcomes(P: dict[str, np.ndarray], *, file: str | None = None) -> None:
    """Replace ``baseline.work_exit_rate`` / ``effect.work_exit_added`` by the values that reproduce an
    outcome stated as a share within N months or as "x of n to work in year 1" (in place).

    The stated effect is read as the participants' total chance (baseline included) in the case's own
    conditions (cycle multiplier 1) with the effect at full strength from entry; lock-in and ramp-up,
    if the case has them, come on top (:func:`warnings_for` says so).
    """
    count, of = P["outcome.work_count"], P["outcome.work_of"]
    if np.any((count > 0) & (of <= 0)):
        raise InputError("an outcome 'x of n' needs its n", file=file, field="outcome.work_of", value=0,
                         fix="give outcome.work_of, the number of participants the count is out of")
    if np.any(count > of):
        i = int(np.argmax(count > of))
        raise InputError(f"outcome 'x of n' has x = {count[i]:g} > n = {of[i]:g}: more people to work than took part",
                         file=file, field="outcome.work_count", value=float(count[i]),
                         fix="check the count and the group size (x must not exceed n)")
    share, within = P["outcome.work_share"].copy(), P["outcome.work_within_months"].copy()
    by_count = of > 0
    if np.any(by_count):
        share = np.where(by_count, count / np.where(by_count, of, 1.0), share)
        within = np.where(by_count, 12.0, within)
    b_share, b_within = P["outcome.baseline_share"], P["outcome.baseline_within_months"]
    if np.any((b_share > 0) & (b_within <= 0)):
        raise InputError("a stated baseline share needs its months", file=file, field="outcome.baseline_within_months",
                         value=0, fix="give the months over which outcome.baseline_share was measured")
    if np.any(b_share > 0):
        rate = work_rate_for_share(b_share, P["baseline.other_exit_rate"], np.maximum(b_within, 1.0),
                                   field="outcome.baseline_share", file=file)
        P["baseline.work_exit_rate"] = np.where(b_share > 0, rate, P["baseline.work_exit_rate"])
    stated = (share > 0) & (within > 0)
    if np.any((share > 0) & (within <= 0)):
        raise InputError("a stated share to work needs its months", file=file, field="outcome.work_within_months",
                         value=0, fix="give the months from entry over which outcome.work_share was measured")
    if np.any(stated):
        p_other = P["baseline.other_exit_rate"] + P["effect.other_exit_added"]
        total = work_rate_for_share(np.where(stated, share, 0.0), p_other, np.where(stated, within, 12.0), file=file)
        added = total - P["baseline.work_exit_rate"] * P["effect.work_exit_ratio"]
        P["effect.work_exit_added"] = np.where(stated, added, P["effect.work_exit_added"])


def _first(a) -> float:
    return float(np.asarray(a).flat[0])


def check_inputs(values: Mapping[str, float], *, file: str | None = None) -> None:
    """Errors for a case whose timing, cost sharing or stated outcomes cannot be right (one scenario)."""
    H = values["horizon.months"]

    def fail(problem, field, value, fix):
        raise InputError(problem, file=file, field=field, value=value, fix=fix)

    if values["participation.months"] > H:
        fail(f"the participation period ({values['participation.months']:g} months) is longer than the horizon "
             f"({H:g} months)", "participation.months", values["participation.months"],
             "shorten participation.months or lengthen horizon.months")
    if values["jobs.share"] > 0 and values["jobs.end_month"] - values["jobs.start_month"] > H:
        fail(f"the programme contract ({values['jobs.end_month'] - values['jobs.start_month']:g} months, jobs.start_month "
             f"to jobs.end_month) is longer than the horizon ({H:g} months)", "jobs.end_month", values["jobs.end_month"],
             "shorten the contract or lengthen horizon.months")
    for item in SHARED_COST_ITEMS:
        total = sum(values[f"sharing.{item}.{payer}"] for payer in PAYERS)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            parts = ", ".join(f"{payer} {values[f'sharing.{item}.{payer}']:g}" for payer in PAYERS
                              if values[f"sharing.{item}.{payer}"])
            fail(f"the cost shares of '{item}' sum to {total:g}, not 1 ({parts or 'none'})", f"sharing.{item}", total,
                 f"make the shares of sharing.{item}.* add up to 1 (e.g. municipality 0.5, housing_corporation 0.5)")
    if values["outcome.work_count"] > values["outcome.work_of"] and values["outcome.work_count"] > 0:
        fail(f"outcome 'x of n' has x = {values['outcome.work_count']:g} > n = {values['outcome.work_of']:g}: more "
             "people to work than took part", "outcome.work_count", values["outcome.work_count"],
             "check the count and the group size (x must not exceed n)")


def effect_outlasts_payment(values: Mapping[str, float]) -> float:
    """Months by which the effect of the last entrant outlasts what is paid for (0 = it does not)."""
    persist = values["effect.persistence_months"]
    has_effect = (values["effect.work_exit_added"] != 0 or values["effect.work_exit_ratio"] != 1
                  or values["effect.other_exit_added"] != 0 or values["outcome.work_share"] > 0
                  or values["outcome.work_of"] > 0)
    return float(persist) if has_effect and persist > 0 else 0.0


def warnings_for(case, lang: str = "en") -> list[str]:
    """Warnings for ``mkba validate`` (English, with the fix) and the report (``lang="nl"``: Dutch, for the
    reader): an effect that outlasts paid participation without a stated source, and stated outcomes read
    with lock-in or ramp-up on top."""
    v = case.values
    out = []
    extra = effect_outlasts_payment(v)
    if extra > 0:
        ref = case.parameters["effect.persistence_months"].reference or ""
        sourced = (".txt:" in ref or "CBS" in ref) and not ref.startswith("assumption")
        if not sourced:
            months = f"{v['participation.months']:g}"
            if lang == "nl":
                span = "blijvend" if np.isinf(extra) else f"nog {extra:g} maanden".replace(".", ",")
                out.append(f"Let op: in deze berekening werkt het effect {span} door na de betaalde deelname "
                           f"({months} maanden), zonder bron die dat onderbouwt. De uitkomst rust op die aanname; "
                           "als het effect stopt wanneer de betaling stopt, is de uitkomst lager.")
            else:
                span = "lasting" if np.isinf(extra) else f"{extra:g} months"
                out.append(f"effect.persistence_months: the effect lasts {span} after the paid participation "
                           f"(participation.months = {months}) without a source for it "
                           f"(reference: '{ref}'). Fix: cite the source that shows the effect persisting, or set "
                           "effect.persistence_months to 0")
    if (v["outcome.work_share"] > 0 or v["outcome.work_of"] > 0) and (v["effect.lock_in_months"] > 0 or v["effect.ramp_months"] > 0):
        if lang == "nl":
            out.append("Let op: de opgegeven uitkomst is omgerekend alsof het effect vanaf de instroom volledig werkt; "
                       "de wachttijd en opbouw van het effect in deze casus verlagen de uitkomst die het model geeft.")
        else:
            out.append("outcome.*: the stated outcome is converted with the effect at full strength from entry; the case's "
                       "lock-in/ramp-up lower the outcome the model reproduces. Fix: set effect.lock_in_months and "
                       "effect.ramp_months to 0 or give the effect as effect.work_exit_added")
    return out

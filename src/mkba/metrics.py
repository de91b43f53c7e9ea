"""Headline metrics of a business case: definitions, the monthly ledger and the per-year table.

The metrics are computed once, inside the compiled kernel (:func:`mkba.fastkernel._metrics`),
from the scenario's monthly ledger rows; this module says what they mean and builds the
per-year table from the same rows.

All metrics compare the project alternative (treatment) with the null alternative (control:
what would have happened anyway), so deadweight is already taken out. ``view`` = the case's
perspective (the municipality's cash, or society); the ``municipal_*`` and ``societal_*``
metrics are always both there.

People
``extra_ended_benefits``       extra **people** off benefit (treatment minus control, net of returns) at
                               ``evaluation.month`` (0 = end of horizon): people who have left and not returned
                               (a programme contract that ends the benefit counts); never more than the cohort
``extra_people_off_benefit_avg``  the same, averaged over the months of the horizon
``extra_exit_events``          extra exit events at ``evaluation.month`` (someone who leaves twice counts twice)
``ended_benefits_treatment/control``  people off benefit at ``evaluation.month`` in each group
``exit_events_treatment/control``     exit events by ``evaluation.month`` in each group
``benefit_months_saved``       sum over months of (benefits paid in control - in treatment), in full-benefit months
``participation_months_charged``  participant-months charged at the cost per participation month
Money
``programme_cost_eur``         the approach's own costs borne in the view (nominal, whole horizon)
``gross_saving_eur``           everything else the view gains (nominal): net result + programme cost
``net_result_eur``             gross saving - programme cost; ``npv_eur`` discounted (``discount.rate``, case's convention)
``bcr``                        benefit-cost ratio: discounted gross saving (benefits) / discounted programme cost
                               (costs). As in an MKBA, a negative side is booked on the other side: negative
                               benefits count as costs and negative costs as benefits, so
                               ``bcr = (max(B, 0) + max(-C, 0)) / (max(C, 0) + max(-B, 0))``: never negative,
                               0 when the benefits are negative (FIP's societal view: the benefit saving is a
                               transfer and production is lost), and > 1 exactly when the NPV > 0; NaN when
                               there is nothing on the cost side. ``societal_benefits_eur`` and
                               ``societal_costs_eur`` stay the netted B and C.
``municipal_net_result_eur``, ``municipal_npv_eur``, ``municipal_bcr``, ``municipal_programme_cost_eur``
``societal_net_result_eur`` (nominal), ``societal_net_eur`` = ``societal_npv_eur`` (discounted),
``societal_benefits_eur``, ``societal_costs_eur``, ``societal_bcr``
``break_even_month``           first month (1 = first) from which the cumulative nominal net result stays >= 0; NaN = never
``monthly_break_even_month``   first month from which the monthly net result stays >= 0 ("draait break-even")
``cost_per_extra_person_off_benefit_eur`` programme cost / extra people off benefit
                               (``cost_per_extra_ended_benefit_eur`` is the same figure under its old key)
``annual_saving_run_rate_eur`` extra people off benefit x benefit per year (x retention in the municipal view):
                               the "per year" figure municipalities publish; ``annual_net_run_rate_eur``
                               subtracts the programme cost per year (``programme_cost_per_year_eur``)
``saving_counting_all_exits_eur``  benefit saving if every exit of the treatment group is counted (the
                               published habit); ``deadweight_share`` = 1 - net-of-null saving / that figure.

In the societal view transfers (benefit, wages, taxes, fees) cancel per item; programme
costs are the items that carry programme costs, netted over actors.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import fastkernel as fk
from .discounting import discount_factors
from .fastkernel import BREAK_EVEN_TOLERANCE_EUR, METRIC_NAMES  # noqa: F401  (re-exported)

TREATMENT, CONTROL = 0, 1


@dataclass
class Ledger:
    """Monthly rows of one scenario, each shape (T, 1) (the scenario axis kept for the views)."""

    muni_net: np.ndarray          # municipality, treatment - control
    muni_cost: np.ndarray         # municipality programme cost (positive), treatment - control
    soc_net: np.ndarray           # all actors, treatment - control
    soc_cost: np.ndarray          # programme items netted over actors (positive)
    off_benefit: np.ndarray       # people off benefit (T, 2, 1)
    cum_ended: np.ndarray         # exit events, cumulative (T, 2, 1)
    cum_returns: np.ndarray       # returns, cumulative (T, 2, 1)
    beq: np.ndarray               # benefit equivalents (T, 2, 1)
    cum_inflow: np.ndarray        # (T, 2, 1)
    secondment_surplus: np.ndarray  # (T, 1) municipal secondment result minus the benefit of the seconded
    taking_part: np.ndarray       # (T, 1) participants taking part (treatment)

    @classmethod
    def from_rows(cls, LR: np.ndarray) -> "Ledger":
        def col(r):
            return LR[r][:, None]

        def pair(rt, rc):
            return np.stack([LR[rt], LR[rc]], axis=1)[:, :, None]

        return cls(muni_net=col(fk.R_MN), muni_cost=col(fk.R_MC), soc_net=col(fk.R_SN), soc_cost=col(fk.R_SC),
                   off_benefit=pair(fk.R_OFF_T, fk.R_OFF_C), cum_ended=pair(fk.R_EV_T, fk.R_EV_C),
                   cum_returns=pair(fk.R_RET_T, fk.R_RET_C), beq=pair(fk.R_BEQ_T, fk.R_BEQ_C),
                   cum_inflow=pair(fk.R_CIN, fk.R_CIN), secondment_surplus=col(fk.R_SEC),
                   taking_part=col(fk.R_TAKE))

    def view(self, perspective: str) -> tuple[np.ndarray, np.ndarray]:
        """(net, programme cost) per month, (T, n), for the municipality's cash or for society."""
        if perspective == "municipality":
            return self.muni_net, self.muni_cost
        return self.soc_net, self.soc_cost


def per_year(ledger: Ledger, values: dict[str, np.ndarray], *, perspective: str, convention: str, col: int = 0):
    """Per appraisal year: gross, cost, net, cumulative, discounted, people off benefit, exit events."""
    import pandas as pd

    T = ledger.muni_net.shape[0]
    df = discount_factors(T, float(values["discount.rate"][col]), convention)
    net, cost = ledger.view(perspective)
    net, cost = net[:, col], cost[:, col]
    year = np.arange(T) // 12 + 1
    extra = ledger.off_benefit[:, TREATMENT, col] - ledger.off_benefit[:, CONTROL, col]
    events = ledger.cum_ended[:, TREATMENT, col] - ledger.cum_ended[:, CONTROL, col]
    saved = ledger.beq[:, CONTROL, col] - ledger.beq[:, TREATMENT, col]
    frame = pd.DataFrame({"year": year, "gross_saving_eur": net + cost, "programme_cost_eur": cost,
                          "net_result_eur": net, "discounted_net_eur": net * df, "benefit_months_saved": saved,
                          "municipal_net_eur": ledger.muni_net[:, col],
                          "societal_net_eur": ledger.soc_net[:, col],
                          "secondment_surplus_after_benefit_eur": ledger.secondment_surplus[:, col],
                          "extra_people_off_benefit_avg": extra})
    out = frame.groupby("year", as_index=False).sum()
    out["months"] = frame.groupby("year").size().values
    out["extra_people_off_benefit_avg"] = out["extra_people_off_benefit_avg"] / out["months"]
    out["cumulative_net_eur"] = out["net_result_eur"].cumsum()
    last = frame.groupby("year").tail(1).index
    out["extra_ended_benefits"] = extra[last]
    out["extra_exit_events"] = events[last]
    return out


def cumsum_months(x: np.ndarray) -> np.ndarray:
    """Cumulative sum over months (axis 0), for the views' cumulative figures."""
    return np.cumsum(x, axis=0)


# ------------------------------------------------------------------ both perspectives, always
#: (key prefix, Ledger.view name): every run reports both, whatever the case's own perspective.
PERSPECTIVES = (("municipal", "municipality"), ("societal", "society"))
#: Headline figures given per perspective as ``<prefix>_<name>`` (e.g. ``societal_bcr``); the kernel
#: computes them all (``municipal_net_result_eur``, ``municipal_npv_eur``, ``municipal_bcr``,
#: ``societal_net_result_eur``, ``societal_npv_eur``, ``societal_bcr``) next to the case's own view.
PERSPECTIVE_METRICS = ("net_result_eur", "npv_eur", "bcr")

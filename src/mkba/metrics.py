"""Headline metrics of a business case.

All metrics compare the project alternative (treatment) with the null alternative
(control: what would have happened anyway), so deadweight is already taken out.

Definitions (``view`` = the case's perspective: the municipality's cash, or society):

``extra_ended_benefits``       cumulative ended benefits, treatment minus control, at ``evaluation.month``
``benefit_months_saved``       sum over months of (benefits paid in control - in treatment), in full-benefit months
``programme_cost_eur``         the approach's own costs borne in the view (nominal, whole horizon)
``gross_saving_eur``           everything else the view gains (nominal): net result + programme cost
``net_result_eur``             gross saving - programme cost
``npv_eur``                    discounted net result (``discount.rate``, the case's convention; default Excel's)
``bcr``                        discounted gross saving / discounted programme cost
``break_even_month``           first month (1 = first) from which the cumulative nominal net result stays >= 0; NaN = never
``monthly_break_even_month``   first month from which the monthly net result stays >= 0 ("draait break-even")
``cost_per_extra_ended_benefit_eur``  programme cost / extra ended benefits
``annual_saving_run_rate_eur`` extra ended benefits x benefit per year x retention: the "per year" figure
                               municipalities publish; ``annual_net_run_rate_eur`` subtracts the programme cost per year.
``saving_counting_all_exits_eur``  benefit saving if every exit of the treatment group is counted (the
                               published habit); ``deadweight_share`` = 1 - net-of-null saving / that figure.

In the societal view transfers (benefit, wages, taxes, fees) cancel per item; programme
costs are the items that carry programme costs, netted over actors.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .discounting import discount_factors

TREATMENT, CONTROL = 0, 1
BREAK_EVEN_TOLERANCE_EUR = 1e-6  # rounding noise when cumulative flows cross zero

METRIC_NAMES = (
    "extra_ended_benefits", "benefit_months_saved", "gross_saving_eur", "programme_cost_eur", "net_result_eur",
    "npv_eur", "bcr", "break_even_month", "monthly_break_even_month", "cost_per_extra_ended_benefit_eur",
    "annual_saving_run_rate_eur", "programme_cost_per_year_eur", "annual_net_run_rate_eur",
    "gross_benefit_saving_eur", "saving_counting_all_exits_eur", "deadweight_share",
    "ended_benefits_treatment", "ended_benefits_control",
    "municipal_net_result_eur", "municipal_npv_eur", "societal_benefits_eur", "societal_costs_eur",
    "societal_net_eur", "societal_npv_eur", "societal_bcr", "secondment_surplus_after_benefit_year1_eur",
    "secondment_break_even_month", "gross_saving_year1_eur", "programme_cost_year1_eur", "net_result_year1_eur",
    "saving_counting_all_exits_year1_eur", "net_counting_all_exits_year1_eur", "ended_benefits_treatment_year1",
    "returns_treatment_year1",
)


@dataclass
class Ledger:
    """Monthly arrays, shape (T, n), that every metric is computed from."""

    muni_net: np.ndarray          # municipality, treatment - control
    muni_cost: np.ndarray         # municipality programme cost (positive), treatment - control
    soc_net: np.ndarray           # all actors, treatment - control
    soc_cost: np.ndarray          # programme items netted over actors (positive)
    cum_ended: np.ndarray         # (T, 2, n)
    cum_returns: np.ndarray       # (T, 2, n)
    beq: np.ndarray               # benefit equivalents (T, 2, n)
    cum_inflow: np.ndarray        # (T, 2, n)
    b_month: np.ndarray           # benefit per person-month (n,)
    retention: np.ndarray         # (n,)
    secondment_surplus: np.ndarray  # (T, n) municipal secondment result minus the benefit of the seconded

    def view(self, perspective: str) -> tuple[np.ndarray, np.ndarray]:
        """(net, programme cost) per month, (T, n), for the municipality's cash or for society."""
        if perspective == "municipality":
            return self.muni_net, self.muni_cost
        return self.soc_net, self.soc_cost


def _safe_div(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def cumsum_months(x: np.ndarray) -> np.ndarray:
    """Cumulative sum over months (axis 0), row by row (cache-friendly for wide batches)."""
    out = np.empty_like(x)
    acc = np.zeros(x.shape[1:])
    for t in range(x.shape[0]):
        acc = acc + x[t]
        out[t] = acc
    return out


def first_month_staying_nonnegative(x: np.ndarray) -> np.ndarray:
    """First month (1-based) from which ``x`` (T, n) stays >= 0 to the end; NaN if it ends negative."""
    T = x.shape[0]
    last_negative = np.full(x.shape[1:], -1.0)
    for t in range(T):
        last_negative = np.where(x[t] < -BREAK_EVEN_TOLERANCE_EUR, float(t), last_negative)
    return np.where(last_negative == T - 1, np.nan, last_negative + 2.0)


def compute(ledger: Ledger, values: dict[str, np.ndarray], *, perspective: str, convention: str) -> dict[str, np.ndarray]:
    """Headline metrics per scenario (arrays of shape (n,))."""
    T = ledger.muni_net.shape[0]
    rate = values["discount.rate"]
    uniform = bool(np.all(rate == rate[0]))
    df = discount_factors(T, float(rate[0]), convention)[:, None] if uniform else discount_factors(T, rate, convention)
    em = values["evaluation.month"].astype(int)
    eval_idx = np.where(em <= 0, T - 1, np.clip(em - 1, 0, T - 1))
    cols = np.arange(ledger.cum_ended.shape[2])
    ended_t = ledger.cum_ended[eval_idx, TREATMENT, cols]
    ended_c = ledger.cum_ended[eval_idx, CONTROL, cols]
    extra = ended_t - ended_c
    beq_saved = ledger.beq[:, CONTROL, :] - ledger.beq[:, TREATMENT, :]

    net, cost = ledger.view(perspective)
    gross = net + cost
    pv_net, pv_cost, pv_gross = (df * net).sum(0), (df * cost).sum(0), (df * gross).sum(0)
    soc_pv_cost = (df * ledger.soc_cost).sum(0)
    soc_pv_net = (df * ledger.soc_net).sum(0)

    prog_months = np.minimum(values["programme.months"], T)
    in_prog = np.arange(T)[:, None] < prog_months[None, :]
    cost_per_year = _safe_div((cost * in_prog).sum(0), prog_months / 12.0)
    run_rate = extra * ledger.b_month * 12.0 * (ledger.retention if perspective == "municipality" else 1.0)
    gross_benefit_saving = (beq_saved * ledger.b_month).sum(0)
    all_exits = ((ledger.cum_inflow[:, TREATMENT, :] - ledger.beq[:, TREATMENT, :]) * ledger.b_month).sum(0)
    year1 = (np.arange(T) < 12)[:, None]
    y1 = min(T, 12) - 1
    all_exits_y1 = (((ledger.cum_inflow[:, TREATMENT, :] - ledger.beq[:, TREATMENT, :]) * ledger.b_month) * year1).sum(0)

    return {
        "extra_ended_benefits": extra,
        "benefit_months_saved": beq_saved.sum(0),
        "gross_saving_eur": gross.sum(0),
        "programme_cost_eur": cost.sum(0),
        "net_result_eur": net.sum(0),
        "npv_eur": pv_net,
        "bcr": _safe_div(pv_gross, pv_cost),
        "break_even_month": first_month_staying_nonnegative(cumsum_months(net)),
        "monthly_break_even_month": first_month_staying_nonnegative(net),
        "cost_per_extra_ended_benefit_eur": _safe_div(cost.sum(0), extra),
        "annual_saving_run_rate_eur": run_rate,
        "programme_cost_per_year_eur": cost_per_year,
        "annual_net_run_rate_eur": run_rate - cost_per_year,
        "gross_benefit_saving_eur": gross_benefit_saving,
        "saving_counting_all_exits_eur": all_exits,
        "deadweight_share": 1.0 - _safe_div(gross_benefit_saving, all_exits),
        "ended_benefits_treatment": ended_t,
        "ended_benefits_control": ended_c,
        "municipal_net_result_eur": ledger.muni_net.sum(0),
        "municipal_npv_eur": (df * ledger.muni_net).sum(0),
        "societal_benefits_eur": (df * (ledger.soc_net + ledger.soc_cost)).sum(0),
        "societal_costs_eur": soc_pv_cost,
        "societal_net_eur": soc_pv_net,
        "societal_npv_eur": soc_pv_net,
        "societal_bcr": _safe_div(soc_pv_net + soc_pv_cost, soc_pv_cost),
        "secondment_surplus_after_benefit_year1_eur": (ledger.secondment_surplus * year1).sum(0),
        "secondment_break_even_month": first_month_staying_nonnegative(cumsum_months(ledger.secondment_surplus)),
        "gross_saving_year1_eur": (gross * year1).sum(0),
        "programme_cost_year1_eur": (cost * year1).sum(0),
        "net_result_year1_eur": (net * year1).sum(0),
        "saving_counting_all_exits_year1_eur": all_exits_y1,
        "net_counting_all_exits_year1_eur": all_exits_y1 - (cost * year1).sum(0),
        "ended_benefits_treatment_year1": ledger.cum_ended[y1, TREATMENT, :],
        "returns_treatment_year1": ledger.cum_returns[y1, TREATMENT, :],
    }


def per_year(ledger: Ledger, values: dict[str, np.ndarray], *, perspective: str, convention: str, col: int = 0):
    """Per appraisal year for one scenario: gross, cost, net, cumulative, discounted, extra ended."""
    import pandas as pd

    T = ledger.muni_net.shape[0]
    df = discount_factors(T, float(values["discount.rate"][col]), convention)
    net, cost = ledger.view(perspective)
    net, cost = net[:, col], cost[:, col]
    year = np.arange(T) // 12 + 1
    extra = ledger.cum_ended[:, TREATMENT, col] - ledger.cum_ended[:, CONTROL, col]
    saved = (ledger.beq[:, CONTROL, col] - ledger.beq[:, TREATMENT, col])
    frame = pd.DataFrame({"year": year, "gross_saving_eur": net + cost, "programme_cost_eur": cost,
                          "net_result_eur": net, "discounted_net_eur": net * df, "benefit_months_saved": saved,
                          "societal_net_eur": ledger.soc_net[:, col],
                          "secondment_surplus_after_benefit_eur": ledger.secondment_surplus[:, col]})
    out = frame.groupby("year", as_index=False).sum()
    out["cumulative_net_eur"] = out["net_result_eur"].cumsum()
    last = frame.groupby("year").tail(1).index
    out["extra_ended_benefits"] = extra[last]
    out["months"] = frame.groupby("year").size().values
    return out


# ------------------------------------------------------------------ both perspectives, always
#: (key prefix, Ledger.view name): every run reports both, whatever the case's own perspective.
PERSPECTIVES = (("municipal", "municipality"), ("societal", "society"))
#: Headline figures given per perspective as ``<prefix>_<name>`` (e.g. ``societal_bcr``).
PERSPECTIVE_METRICS = ("net_result_eur", "npv_eur", "bcr")


def both_perspectives(ledger: Ledger, values: dict[str, np.ndarray], *, convention: str) -> dict[str, np.ndarray]:
    """The municipal and the societal net result (nominal), NPV and BCR side by side.

    Computed by :func:`compute` with each view of the same ledger (one definition of each figure):
    ``municipal_net_result_eur``, ``municipal_npv_eur``, ``municipal_bcr``, ``societal_net_result_eur``,
    ``societal_npv_eur``, ``societal_bcr``. The case's own perspective stays in the unprefixed keys.
    """
    out: dict[str, np.ndarray] = {}
    for prefix, view in PERSPECTIVES:
        m = compute(ledger, values, perspective=view, convention=convention)
        out.update({f"{prefix}_{k}": m[k] for k in PERSPECTIVE_METRICS})
    return out

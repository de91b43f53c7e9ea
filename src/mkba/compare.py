"""Comparisons across cases: the headline table and the € 14.000 reconciliation."""
from __future__ import annotations

from .cases import Case, list_cases, load_case, published_kind
from .model import summarise
from .prices import cpi_years

COMPARE_METRICS = ("extra_ended_benefits", "programme_cost_eur", "gross_saving_eur", "net_result_eur",
                   "cost_per_extra_ended_benefit_eur", "bcr", "break_even_month", "npv_eur")
COMPARE_HORIZON_MONTHS = 60        # issue #3: NPV over 5 years ...
COMPARE_DISCOUNT_RATE = 0.0225     # ... at the 2,25 % in force from 2021-01-01 (data/parameters/base.yaml)


def comparison_overrides() -> dict:
    """The common footing of `mkba compare`: 5 years at 2,25 % (issue #3), people counted at the end."""
    return {
        "horizon.months": {"value": COMPARE_HORIZON_MONTHS, "unit": "months", "date": "2021-01-01",
                           "reference": "comparison footing: five years (issue #3)"},
        "discount.rate": {"value": COMPARE_DISCOUNT_RATE, "unit": "1/year (real)", "date": "2021-01-01",
                          "reference": "real discount rate for MKBAs from 2021-01-01 (data/parameters/base.yaml, reference.discount_rates)"},
        # people off benefit counted at one moment for all (FIP's own month 20 against APP's month 60 made
        # their costs per person incomparable)
        "evaluation.month": {"value": 0, "unit": "months", "date": "2021-01-01",
                             "reference": "comparison footing: people off benefit counted at the end of the five years"},
    }


def comparison_price_year() -> int:
    """The year whose prices the comparison states every amount in: the latest year of the CBS consumer
    price index in ``data/raw/cbs/`` (:mod:`mkba.prices`). Each case keeps its own price year in its own
    report; side by side, FIP's euros of 2019 and Flextensie's of 2015 would not add up."""
    return cpi_years()[1]


def on_footing(case: Case | str) -> Case:
    """A case (or case name) on the comparison's common footing: its horizon, discount rate and counting
    month (:func:`comparison_overrides`), and its amounts in prices of :func:`comparison_price_year`."""
    case = load_case(case) if isinstance(case, str) else case
    case = case.with_overrides(comparison_overrides(), source="mkba compare")
    return case.in_price_year(comparison_price_year(), source="mkba compare")


#: The blocks of `mkba compare`, in order: the municipality's cash, then society (all actors; transfers cancel).
COMPARE_PERSPECTIVES = ("municipality", "society")
#: Figures that do not depend on the perspective (people, and the benefit saving as published).
PERSPECTIVE_FREE = ("extra_ended_benefits", "saving_counting_all_exits_eur", "deadweight_share")


def approaches() -> list[str]:
    """The cases that are approaches (``kind: approach``), not rules of thumb: what `mkba compare` compares."""
    return [n for n, _ in list_cases() if load_case(n).kind == "approach"]


def compare_cases(names: list[str] | None = None, perspectives: tuple[str, ...] = COMPARE_PERSPECTIVES):
    """One row per perspective and case (the municipality's block first, then society's).

    Each row holds the headline metrics on the common footing in that perspective, so a BCR is
    always the BCR of its own block; ``perspective`` names the block and ``case_perspective``
    the view the case itself is published in; amounts are in prices of ``price_year`` (the same for
    every row), ``case_price_year`` is the one the case itself is stated in. Each case is run once;
    the perspectives are two readings of the same ledger (:meth:`mkba.metrics.Ledger.view`).
    """
    import dataclasses

    import pandas as pd

    unknown = [p for p in perspectives if p not in COMPARE_PERSPECTIVES]
    if unknown:
        from .errors import InputError, did_you_mean

        raise InputError("unknown perspective", field="perspective", value=unknown[0],
                         fix=did_you_mean(unknown[0], COMPARE_PERSPECTIVES))
    rows: dict[str, list[dict]] = {p: [] for p in perspectives}
    for name in names or approaches():
        own = load_case(name)
        own_year = own.price_year
        case = on_footing(own)
        table = None
        for view in perspectives:
            res = summarise(dataclasses.replace(case, perspective=view), table)
            table = res["table"]
            m = res["metrics"]
            row = {"perspective": view, "case": name, "title": case.title, "case_perspective": case.perspective,
                   "price_year": case.price_year, "case_price_year": own_year}
            row.update({k: m[k] for k in COMPARE_METRICS})
            row.update({k: m[k] for k in PERSPECTIVE_FREE if k not in row})
            rows[view].append(row)
    return pd.DataFrame([r for p in perspectives for r in rows[p]])


def published_vs_model(case: Case) -> list[dict]:
    """Each published figure next to the model's value (on the case's own horizon) and its source.

    ``kind`` says what the figure is: ``input`` (the published number was typed in), ``calibrated``
    (a parameter was fitted to it, see the case's ``calibration:``) or ``derived`` (it follows from the
    other inputs; only these are reproduced by the model), with ``kind_why``.
    """
    out = []
    cache: dict = {}
    for p in case.published:
        key = p.variant
        if key not in cache:
            c = case if key is None else load_case(case.source_file or case.name, variant=key)
            cache[key] = summarise(c)["metrics"]
        model = cache[key][p.metric]
        kind, why = published_kind(case, p)
        out.append({"metric": p.metric, "variant": p.variant, "published": p.value, "comparison": p.comparison,
                    "tolerance": p.tolerance, "tolerance_rel": p.tolerance_rel, "model": model, "ok": p.holds(model),
                    "kind": kind, "kind_why": why, "reference": p.reference, "quote": p.quote,
                    "expected": p.expect, "note": p.note})
    return out


def unit_value_reconciliation():
    """The € 14.000 per ended benefit against FIP's € 15.000 and APP's € 6.250 per exit in year 1; ``why``
    names each row's explanation in the message catalogues (context ``text``)."""
    import pandas as pd

    generic = load_case("unit_value_14000")
    net = load_case("unit_value_14000", variant="net_of_null")
    fip = load_case("fip_sittard_geleen")
    app = load_case("app_zaanstad")
    mg, mn = summarise(generic)["metrics"], summarise(net)["metrics"]
    ma = summarise(app)["metrics"]
    b = generic.value("benefit.cost_per_year")
    rows = [
        {"source": "generic rule", "reference": "003_1cff8ea758d15861.txt:1946", "published_eur": 14000.0,
         "model_eur": mg["annual_saving_run_rate_eur"], "benefit_years": 1.0,
         "why": "uv_why_generic"},
        {"source": "generic rule, net of the null alternative", "reference": "003_1cff8ea758d15861.txt:14-15",
         "published_eur": None, "model_eur": mn["gross_benefit_saving_eur"], "benefit_years": mn["gross_benefit_saving_eur"] / b,
         "why": "uv_why_net"},
        {"source": "FIP Sittard-Geleen", "reference": "003_1cff8ea758d15861.txt:1908", "published_eur": 240000 / 16,
         "model_eur": fip.value("benefit.cost_per_year"), "benefit_years": fip.value("benefit.cost_per_year") / b,
         "why": "uv_why_fip"},
        {"source": "APP Zaanstad, year 1", "reference": "003_1cff8ea758d15861.txt:957-958, 975",
         "published_eur": 150000 / 24,
         "model_eur": ma["saving_counting_all_exits_year1_eur"] / ma["exit_events_treatment_year1"],
         "benefit_years": ma["saving_counting_all_exits_year1_eur"] / ma["exit_events_treatment_year1"] / b,
         "why": "uv_why_app"},
    ]
    return pd.DataFrame(rows)

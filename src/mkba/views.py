"""What the report notebooks show: tables and figures built from the model's tidy table.

Notebooks stay thin views (a ``parameters`` cell, then calls into this module); nothing here
computes model results that the model does not (it formats, selects and plots). Every view
takes ``lang`` ("nl" by default, the reader is a Dutch council; or "en").
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from .cases import Case, load_case
from .formatting import eur, format_table, label, number, pct  # noqa: F401  (format_table is used by notebooks)
from .reporting import case_text, safe_markdown  # noqa: F401  (case_text is used by notebooks: untrusted case text)

# Report texts that are specific to these views (the shared vocabulary is mkba.formatting.LABELS).
TEXTS: dict[str, dict[str, str]] = {
    "title_case": {"nl": "Businesscase: {title}", "en": "Business case: {title}"},
    "headline": {"nl": "Kerncijfers", "en": "Key figures"},
    "published": {"nl": "Gepubliceerd en nagerekend", "en": "Published and rebuilt"},
    "published_col": {"nl": "Gepubliceerd", "en": "Published"},
    "model_col": {"nl": "Model", "en": "Model"},
    "ok_col": {"nl": "Binnen marge", "en": "Within tolerance"},
    "kind_col": {"nl": "Soort", "en": "Kind"},
    "kind_input": {"nl": "invoer", "en": "input"},
    "kind_calibrated": {"nl": "gekalibreerd", "en": "calibrated"},
    "kind_derived": {"nl": "afgeleid", "en": "derived"},
    "reproduced": {"nl": "gereproduceerd", "en": "reproduced"},
    "metric": {"nl": "Kengetal", "en": "Metric"},
    "cumulative_cash": {"nl": "Cumulatief netto resultaat", "en": "Cumulative net result"},
    "break_even_at": {"nl": "terugverdiend in maand {m}", "en": "break-even in month {m}"},
    "caseload": {"nl": "Personen in de uitkering: met en zonder aanpak", "en": "People on benefit: with and without the approach"},
    "treatment": {"nl": "met aanpak", "en": "with the approach"},
    "control": {"nl": "zonder aanpak (nulalternatief)", "en": "without (null alternative)"},
    "per_actor": {"nl": "Verdeling over actoren (contante waarde, met minus zonder aanpak)",
                  "en": "Distribution over actors (present value, with minus without)"},
    "item": {"nl": "Post", "en": "Item"},
    "total": {"nl": "Totaal", "en": "Total"},
    "tornado": {"nl": "Gevoeligheid van de netto contante waarde", "en": "Sensitivity of the net present value"},
    "scenarios": {"nl": "Conjunctuurscenario's", "en": "Economic-cycle scenarios"},
    "replay": {"nl": "Als de aanpak in een ander jaar was gestart", "en": "If the approach had started in another year"},
    "start_year": {"nl": "Startjaar", "en": "Start year"},
    "probabilistic": {"nl": "Kans dat de aanpak zich terugverdient", "en": "Chance the approach pays off"},
    "p_positive": {"nl": "Kans op een positieve netto contante waarde: {p}", "en": "Chance of a positive net present value: {p}"},
    "assumptions_sources": {"nl": "Aannames en bronnen", "en": "Assumptions and sources"},
    "readings": {"nl": "Gekozen lezing waar de bron dubbelzinnig is", "en": "Reading chosen where the source is ambiguous"},
    "reading_topic": {"nl": "Vraag", "en": "Question"},
    "reading_choice": {"nl": "Gekozen lezing", "en": "Reading chosen"},
    "reading_why": {"nl": "Waarom", "en": "Why"},
    "month_axis": {"nl": "Maand", "en": "Month"},
    "persons": {"nl": "Personen", "en": "People"},
    "caseload_persons": {"nl": "Personen met een uitkering: met en zonder aanpak",
                         "en": "People receiving a benefit: with and without the approach"},
    "persons_on_benefit": {"nl": "personen met een (gedeeltelijke) uitkering",
                           "en": "people with a (partial) benefit"},
    "benefit_equivalents": {"nl": "uitkeringsequivalenten (volledige uitkeringen)",
                            "en": "benefit equivalents (full benefits)"},
    "persons_and_equivalents": {"nl": "Personen / uitkeringsequivalenten", "en": "People / benefit equivalents"},
    "perspective_municipality": {"nl": "perspectief: gemeente (kasstromen)", "en": "perspective: municipality (cash)"},
    "perspective_society": {"nl": "perspectief: maatschappij (MKBA)", "en": "perspective: society (MKBA)"},
    "never_within_horizon": {"nl": "niet binnen de horizon", "en": "not within the horizon"},
    "compare": {"nl": "Alle gepubliceerde casussen naast elkaar (5 jaar, 2,25 %)",
                "en": "All published cases side by side (5 years, 2.25%)"},
    "unit_value": {"nl": "€ 14.000 per beëindigde uitkering, nagerekend", "en": "€14,000 per ended benefit, reconciled"},
    "two_way": {"nl": "Twee factoren tegelijk (lijn: netto contante waarde = 0)", "en": "Two factors at once (line: NPV = 0)"},
    "sobol": {"nl": "Welke aannames bepalen de uitkomst (Sobol-indices)", "en": "Which assumptions drive the result (Sobol indices)"},
    "deadweight_share": {"nl": "Aandeel dat toch was uitgestroomd", "en": "Share that would have left anyway"},
    "saving_counting_all_exits_eur": {"nl": "Besparing als elke uitstroom telt", "en": "Saving counting every exit"},
    "title": {"nl": "Casus", "en": "Case"},
    "source": {"nl": "Bron", "en": "Source"},
    "cumulative_net_eur": {"nl": "Cumulatief netto", "en": "Cumulative net"},
    "years": {"nl": "Jaren", "en": "Years"},
    "multiplier": {"nl": "Factor op uitstroom naar werk", "en": "Factor on exit to work"},
    "mean": {"nl": "Gemiddeld", "en": "Mean"},
    "p5": {"nl": "5e percentiel", "en": "5th percentile"},
    "p50": {"nl": "Mediaan", "en": "Median"},
    "p95": {"nl": "95e percentiel", "en": "95th percentile"},
    "p_break_even_within": {"nl": "Kans terugverdiend binnen {n} maanden", "en": "Chance of break-even within {n} months"},
    "ended_benefits_control": {"nl": "Beëindigde uitkeringen zonder aanpak", "en": "Benefits ended without the approach"},
    "ended_benefits_treatment_year1": {"nl": "Beëindigde uitkeringen in jaar 1", "en": "Benefits ended in year 1"},
    "returns_treatment_year1": {"nl": "Terug in de uitkering in jaar 1", "en": "Back on benefit in year 1"},
    "annual_saving_run_rate_eur": {"nl": "Besparing per jaar (op jaarbasis)", "en": "Saving per year (annualised)"},
    "programme_cost_per_year_eur": {"nl": "Programmakosten per jaar", "en": "Programme cost per year"},
    "annual_net_run_rate_eur": {"nl": "Netto besparing per jaar (op jaarbasis)", "en": "Net saving per year (annualised)"},
    "programme_cost_year1_eur": {"nl": "Programmakosten jaar 1", "en": "Programme cost, year 1"},
    "saving_counting_all_exits_year1_eur": {"nl": "Besparing jaar 1 als elke uitstroom telt", "en": "Saving in year 1 counting every exit"},
    "net_counting_all_exits_year1_eur": {"nl": "Netto jaar 1 als elke uitstroom telt", "en": "Net in year 1 counting every exit"},
    "societal_benefits_eur": {"nl": "Maatschappelijke baten", "en": "Societal benefits"},
    "societal_costs_eur": {"nl": "Maatschappelijke kosten", "en": "Societal costs"},
    "societal_net_eur": {"nl": "Maatschappelijk saldo", "en": "Societal net benefit"},
    "secondment_surplus_after_benefit_year1_eur": {"nl": "Plus jaar 1 na aftrek van uitkering, premie en kosten",
                                                  "en": "Year-1 surplus after benefit, top-up and costs"},
    "secondment_break_even_month": {"nl": "Break-even (maand)", "en": "Break-even (month)"},
    "title_municipality": {"nl": "{approach} in {name}", "en": "{approach} in {name}"},
    "local_facts": {"nl": "De gemeente in cijfers (CBS)", "en": "The municipality in figures (CBS)"},
    "local_result": {"nl": "Wat de aanpak hier zou doen", "en": "What the approach would do here"},
    "peers": {"nl": "Vergeleken met vergelijkbare gemeenten", "en": "Compared with similar municipalities"},
    "peer_rank_sentence": {"nl": "Plaats {rank} van {size} gemeenten van dezelfde grootteklasse en stedelijkheid ({rule}), gemeten in netto contante waarde per deelnemer.",
                  "en": "Rank {rank} of {size} municipalities of the same size class and urbanisation ({rule}), by net present value per participant."},
    "data_notes": {"nl": "Opmerkingen over de gegevens", "en": "Notes on the data"},
    "no_data_notes": {"nl": "Alle gebruikte CBS-gegevens zijn beschikbaar.", "en": "All CBS figures used are available."},
    "urbanisation": {"nl": "Stedelijkheid", "en": "Urbanisation"},
    "population": {"nl": "Inwoners", "en": "Population"},
    "bijstand_2024_algemeen": {"nl": "Algemene bijstand 2024", "en": "General social assistance 2024"},
    "participants_reached": {"nl": "Deelnemers (bereikt aandeel x bijstand)", "en": "Participants (share reached x caseload)"},
    "outflow_local_pct": {"nl": "Uitstroom naar werk 2015-2017 (gemeente)", "en": "Outflow to work 2015-2017 (local)"},
    "outflow_national": {"nl": "Uitstroom naar werk 2015-2017 (Nederland)", "en": "Outflow to work 2015-2017 (national)"},
    "work_exit_rate": {"nl": "Gebruikte kans op uitstroom naar werk per jaar", "en": "Exit-to-work chance used per year"},
    "name": {"nl": "Gemeente", "en": "Municipality"},
    "npv_per_participant_eur": {"nl": "NCW per deelnemer", "en": "NPV per participant"},
    "no_caseload": {"nl": "Voor deze gemeente geeft het CBS geen bijstandsbestand om de aanpak op te schalen, dus dit rapport rekent geen resultaten uit. Geef het aantal deelnemers zelf op (`mkba new ... --participants N`) om toch een businesscase te maken.",
                    "en": "CBS gives no caseload for this municipality to scale the approach to, so this report computes no results. Give the number of participants yourself (`mkba new ... --participants N`) to build a case anyway."},
    "variants": {"nl": "Andere lezingen van de bron", "en": "Other readings of the source"},
    "variant": {"nl": "Lezing", "en": "Reading"},
    "as_published": {"nl": "zoals gekozen (basis)", "en": "as chosen (base)"},
    "family": {"nl": "Combinaties die de gepubliceerde cijfers opleveren", "en": "Combinations consistent with the published figures"},
    "family_note": {"nl": "{n} combinaties van uren per maand, poolgrootte en vaste kosten geven break-even in maand {be} (±1) en {plus} in jaar 1. Gekozen: {h} uur per maand, {pool} deelnemers, {c} vaste kosten per maand (zie de aannames).",
                    "en": "{n} combinations of hours a month, pool size and fixed cost give break-even in month {be} (±1) and {plus} in year 1. Chosen: {h} hours a month, {pool} participants, {c} fixed cost a month (see the assumptions)."},
    "hours_per_month": {"nl": "Uren per deelnemer per maand", "en": "Hours per participant per month"},
    "pool": {"nl": "Poolgrootte", "en": "Pool size"},
    "overhead_per_month": {"nl": "Vaste kosten per maand", "en": "Fixed cost per month"},
    "acceptability": {"nl": "Hoeveel mag de aanpak per deelnemer extra kosten?", "en": "How much more may the approach cost per participant?"},
    "extra_cost_per_participant": {"nl": "Extra kosten per deelnemer", "en": "Extra cost per participant"},
    "p_pays_off": {"nl": "Kans op positieve NCW", "en": "Chance of positive NPV"},
    "baseline.work_exit_rate": {"nl": "Uitstroom naar werk zonder aanpak (per jaar)", "en": "Exit to work without the approach (per year)"},
    "cycle.multiplier": {"nl": "Conjunctuurfactor", "en": "Cycle factor"},
}

HEADLINE_METRICS = ("extra_ended_benefits", "benefit_months_saved", "gross_saving_eur", "programme_cost_eur",
                    "net_result_eur", "npv_eur", "bcr", "break_even_month", "cost_per_extra_ended_benefit_eur")
ITEM_LABELS: dict[str, dict[str, str]] = {
    "benefit_payments": {"nl": "uitkeringen", "en": "benefits"},
    "buig_budget": {"nl": "BUIG-budget", "en": "BUIG budget"},
    "wages": {"nl": "lonen", "en": "wages"},
    "production": {"nl": "productie", "en": "production"},
    "care_costs": {"nl": "zorgkosten", "en": "care costs"},
    "wellbeing": {"nl": "welzijn", "en": "wellbeing"},
    "execution_costs": {"nl": "uitvoeringskosten", "en": "administration"},
    "programme_staff": {"nl": "personeel aanpak", "en": "programme staff"},
    "programme_participants": {"nl": "kosten per deelnemer", "en": "cost per participant"},
    "programme_other": {"nl": "overige programmakosten", "en": "other programme costs"},
    "secondment_fees": {"nl": "detacheringsvergoedingen", "en": "secondment fees"},
    "secondment_top_up": {"nl": "premie deelnemer", "en": "participant top-up"},
    "secondment_overhead": {"nl": "kosten detachering", "en": "secondment costs"},
    "job_wages": {"nl": "lonen werkplekken aanpak", "en": "wages of programme jobs"},
    "job_production": {"nl": "waarde werk in de wijk", "en": "value of programme work"},
}


def text(key: str, lang: str = "nl", default: str | None = None, **fmt) -> str:
    entry = TEXTS.get(key)
    s = entry[lang] if entry else label(key, lang, default=default)
    return s.format(**fmt) if fmt else s


def setup(lang: str = "nl") -> None:
    """Report defaults: matplotlib style and tick formats, and pandas showing full source texts."""
    import pandas as pd

    from .reporting import setup_report

    setup_report(lang)
    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.max_rows", 200)


def _translate_columns(df, lang: str):
    return df.rename(columns=lambda c: text(c, lang, default=str(c)))


def heading(key: str, lang: str = "nl", level: int = 2, **fmt):
    """A Markdown heading in the report language (displayed in a code cell whose code is hidden)."""
    from IPython.display import HTML, Markdown

    if fmt:   # filled in with case text (a title, a name): untrusted, so rendered through safe_markdown
        return HTML(f"<h{level}>{safe_markdown(text(key, lang, **fmt), inline=True)}</h{level}>")
    return Markdown("#" * level + " " + text(key, lang, **fmt))


# ------------------------------------------------------------------ preparing a case
def prepare_case(case: str, overrides: Mapping[str, float] | None = None, variant: str | None = None,
                 scenario: str | None = None) -> Case:
    """Load a case with plain ``{name: number}`` overrides (as notebook parameters give them)."""
    from .cases import parse_set_values

    pairs = [f"{k}={v!r}" for k, v in (overrides or {}).items()]
    c = load_case(case, parse_set_values(pairs) if pairs else None, variant=variant or None)
    if scenario:
        from .scenarios import scenario_case

        c = scenario_case(c, scenario)
    return c


def results(case: Case) -> dict:
    from .model import summarise

    return summarise(case)


# ------------------------------------------------------------------ tables
def _fmt_metric(key: str, value: Any, lang: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return text("never_within_horizon", lang) if key.endswith("month") else "–"
    if key.endswith("_eur"):
        return eur(value, lang)
    if key == "bcr":
        return number(value, lang, 2)
    if key.endswith("month"):
        return number(value, lang, 0)
    if key.endswith("share") or key.startswith("p_"):
        return pct(value, lang)
    return number(value, lang, 1)


def headline_table(case: Case, res: dict, lang: str = "nl"):
    import pandas as pd

    m = res["metrics"]
    rows = [(label(k, lang), _fmt_metric(k, m[k], lang)) for k in HEADLINE_METRICS]
    rows.append((text("perspective_" + case.perspective, lang), ""))
    return pd.DataFrame(rows, columns=[text("metric", lang), label("value", lang)]).set_index(text("metric", lang))


def published_table(case: Case, lang: str = "nl"):
    import pandas as pd

    from .compare import published_vs_model

    rows = []
    for r in published_vs_model(case):
        name = text(r["metric"], lang, default=r["metric"].replace("_", " "))
        if r["variant"]:
            v = case.variants[r["variant"]]
            name += f" ({(v.title_nl or v.title) if lang == 'nl' else v.title})"
        pub = ("≥ " if r["comparison"] == "at_least" else "") + _fmt_metric(r["metric"], r["published"], lang)
        rows.append({text("metric", lang): name, text("published_col", lang): pub,
                     text("model_col", lang): _fmt_metric(r["metric"], r["model"], lang),
                     text("kind_col", lang): text("kind_" + r["kind"], lang),
                     # only a derived figure is reproduced; an input or calibrated one is met by construction
                     text("ok_col", lang): ("✓" if r["ok"] else "✗") + (" " + text("reproduced", lang)
                                                                         if r["ok"] and r["kind"] == "derived" else ""),
                     label("reference", lang): r["reference"]})
    return pd.DataFrame(rows).set_index(text("metric", lang))


def per_actor_table(res: dict, lang: str = "nl"):
    from .model import per_actor

    table = per_actor(res["table"])
    table = table.rename(index=lambda i: text("total", lang) if i == "total" else ITEM_LABELS.get(i, {}).get(lang, i))
    table.columns = [text("total", lang) if c == "total" else label(c, lang) for c in table.columns]
    table.index.name = text("item", lang)
    table.columns.name = None
    return table.apply(lambda col: [eur(v, lang) for v in col])


def per_year_table(res: dict, lang: str = "nl"):
    cols = ["year", "gross_saving_eur", "programme_cost_eur", "net_result_eur", "cumulative_net_eur",
            "extra_ended_benefits"]
    py = res["per_year"][cols].set_index("year")
    return _translate_columns(format_table(py, lang), lang)


def assumptions_table(case: Case, lang: str = "nl"):
    t = case.assumptions_table()[["parameter", "value", "unit", "date", "reference"]]
    t = t.assign(value=[("∞" if not np.isfinite(v) else number(v, lang, 0) if float(v).is_integer()
                         else number(v, lang, 4 if abs(v) < 1 else 2)) for v in t["value"]])
    t.columns = [label("parameters", lang), label("value", lang), label("unit", lang), "datum" if lang == "nl" else "date",
                 label("reference", lang)]
    return t.set_index(t.columns[0])


def readings_table(case: Case, lang: str = "nl"):
    import pandas as pd

    from .readings import mark

    cols = [text(k, lang) for k in ("reading_topic", "reading_choice", "reading_why")]
    return pd.DataFrame([dict(zip(cols, (r.topic, (f"{m}. " if (m := mark(case, r, lang)) else "") + r.choice, r.why)))
                         for r in case.readings], columns=cols)


# ------------------------------------------------------------------ figures
def _ax(figsize=(8, 3.6)):
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)


def cumulative_cash_figure(case: Case, res: dict, lang: str = "nl"):
    from .metrics import cumsum_months
    from .reporting import eur_axis

    net, _cost = res["ledger"].view(case.perspective)
    cum = cumsum_months(net)[:, 0]
    fig, ax = _ax()
    months = np.arange(1, case.months + 1)
    ax.plot(months, cum, color="#1f5f8b", lw=2)
    ax.axhline(0, color="grey", lw=0.8)
    be = res["metrics"]["break_even_month"]
    if be is not None and not math.isnan(be):
        ax.axvline(be, color="#c0392b", ls="--", lw=1)
        ax.annotate(text("break_even_at", lang, m=int(be)), (be, 0), xytext=(5, 10), textcoords="offset points",
                    color="#c0392b")
    ax.set_title(text("cumulative_cash", lang))
    ax.set_xlabel(text("month_axis", lang))
    eur_axis(ax, lang)
    fig.tight_layout()
    return fig


def caseload_figure(case: Case, res: dict, lang: str = "nl"):
    t = res["table"]
    fig, ax = _ax()
    # persons with a benefit (full or partial; end of month) as persons; full-benefit equivalents
    # (average during the month) labelled as such
    items = ["on_benefit", "partial_benefit"] + (["programme_job"] if case.value("jobs.benefit_saving") < 1 else [])
    for group, color in (("treatment", "#1f5f8b"), ("control", "#999999")):
        g = t[t["group"] == group]
        people = g[g["item"].isin(items)].groupby("month")["nominal"].sum().sort_index()
        beq = g[g["item"] == "benefit_equivalents"].set_index("month")["nominal"].sort_index()
        ax.plot(people.index + 1, people.to_numpy(), label=f"{text(group, lang)}: {text('persons_on_benefit', lang)}",
                color=color, lw=2)
        ax.plot(beq.index + 0.5, beq.to_numpy(), label=f"{text(group, lang)}: {text('benefit_equivalents', lang)}",
                color=color, lw=1.2, ls="--")
    ax.set_title(text("caseload_persons", lang))
    ax.set_xlabel(text("month_axis", lang))
    ax.set_ylabel(text("persons_and_equivalents", lang))
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def tornado(case: Case, lang: str = "nl", metric: str = "npv_eur", top: int = 12):
    """One-way sensitivity (table and figure) over every numeric assumption."""
    from functools import partial

    from . import plots
    from .model import evaluate_batch
    from .sensitivity import case_one_way

    table = case_one_way(case, metrics=(metric,))  # documented ranges only; not_varied in table.attrs
    fig = plots.tornado(table, metric, top=top, labels={metric: label(metric, lang)}, lang=lang)
    fig.axes[0].set_title(text("tornado", lang) if metric == "npv_eur" else label(metric, lang))
    return table, fig


def scenarios_view(case: Case, lang: str = "nl"):
    from .scenarios import replay_table, scenario_table

    scen = scenario_table(case)
    shown = scen[["scenario", "years", "multiplier", "extra_ended_benefits", "net_result_eur", "npv_eur",
                  "break_even_month"]].set_index("scenario")
    table = _translate_columns(format_table(shown, lang, formats={"years": "text", "multiplier": "ratio"}), lang)
    replay = replay_table(case)
    fig, ax = _ax()
    ax.bar(replay["start_year"], replay["npv_eur"], color=np.where(replay["npv_eur"] >= 0, "#1f5f8b", "#c0392b"))
    ax.set_title(text("replay", lang))
    ax.set_xlabel(text("start_year", lang))
    from .reporting import eur_axis

    eur_axis(ax, lang)
    fig.tight_layout()
    return table, scen, replay, fig


def case_distributions(case: Case) -> dict:
    """Triangular distributions (low, case value, high) for every assumption with a range in the data."""
    from .distributions import Dist

    from .sensitivity import case_selection

    return {k: Dist("triangular", low=lo, mode=case.value(k), high=hi, name=k)
            for k, (lo, hi, _why) in case_selection(case).ranges.items()}


def probabilistic_view(case: Case, n: int = 10_000, seed: int = 20191, lang: str = "nl", figure: bool = True):
    from functools import partial

    from .model import evaluate_batch
    from .sensitivity import probabilistic

    import pandas as pd

    dists = case_distributions(case)
    res = probabilistic(partial(evaluate_batch, case), case.values, dists, n=n, seed=seed)
    rows = []
    for metric in ("npv_eur", "net_result_eur", "break_even_month"):
        v = res.values[metric]
        finite = v[np.isfinite(v)]
        q = np.percentile(finite, [5, 50, 95]) if finite.size else [np.nan] * 3
        rows.append({text("metric", lang): label(metric, lang), text("mean", lang): _fmt_metric(metric, finite.mean() if finite.size else np.nan, lang),
                     text("p5", lang): _fmt_metric(metric, q[0], lang), text("p50", lang): _fmt_metric(metric, q[1], lang),
                     text("p95", lang): _fmt_metric(metric, q[2], lang)})
    res.table = pd.DataFrame(rows).set_index(text("metric", lang))
    res.chances = pd.Series({text("p_positive", lang, p="").rstrip(": "): pct(res.p_positive, lang),
                             **{text("p_break_even_within", lang, n=k): pct(p, lang) for k, p in res.p_break_even.items()}},
                            name=label("value", lang)).to_frame()
    if not figure:  # municipal reports: the chances table only
        return res, None
    fig, ax = _ax()
    ax.hist(res.npv, bins=50, color="#1f5f8b")
    ax.axvline(0, color="#c0392b", lw=1)
    ax.set_title(text("p_positive", lang, p=pct(res.p_positive, lang)))
    from .reporting import eur_axis

    eur_axis(ax, lang, axis="x")
    fig.tight_layout()
    return res, fig


def key_figures(case: Case, res: dict, **extra) -> dict:
    m = res["metrics"]
    out = {"case": case.name, "title": case.title, "perspective": case.perspective,
           "assumptions_hash": case.assumptions_hash()}
    out.update({k: m[k] for k in HEADLINE_METRICS})
    out.update(extra)
    return out


def in_live_kernel() -> bool:
    """True in an interactive Jupyter session (widgets can render), False under papermill/nbclient."""
    import os

    return bool(os.environ.get("JPY_SESSION_NAME") or os.environ.get("JUPYTERHUB_USER")) \
        and not os.environ.get("MKBA_RENDERING")


def sliders(case: str, local: Mapping[str, float], lang: str = "nl"):
    """ipywidgets sliders over the main assumptions; the headline table updates as they move."""
    import ipywidgets as w
    from IPython.display import display

    from .schema import SCHEMA

    controls = {}
    for name, value in local.items():
        spec = SCHEMA[name]
        hi = spec.maximum if spec.maximum < 1e5 else max(value * 3, 1.0)
        step = 1.0 if spec.integer else (0.005 if hi <= 1 else max(hi / 200, 1.0))
        controls[name] = w.FloatSlider(value=float(value), min=float(spec.minimum), max=float(hi), step=step,
                                       description=name.split(".")[-1], continuous_update=False,
                                       style={"description_width": "14em"}, layout=w.Layout(width="40em"))
    out = w.Output()

    def refresh(_=None):
        with out:
            out.clear_output(wait=True)
            c = prepare_case(case, {k: ctl.value for k, ctl in controls.items()})
            display(headline_table(c, results(c), lang))

    for ctl in controls.values():
        ctl.observe(refresh, names="value")
    refresh()
    return w.VBox(list(controls.values()) + [out])


def compare_view(lang: str = "nl"):
    from .compare import compare_cases

    df = compare_cases()
    df["perspective"] = [label(f"perspective_{p}", lang) for p in df["perspective"]]
    df = df.set_index(["perspective", "title"]).drop(columns=["case", "case_perspective"])
    return format_table(df, lang)


def unit_value_view(lang: str = "nl"):
    from .compare import unit_value_reconciliation

    df = unit_value_reconciliation().set_index("source")[["published_eur", "model_eur", "benefit_years", "reference"]]
    return format_table(df, lang, formats={"benefit_years": "ratio", "reference": "text"})


def two_way_figures(case: Case, points: int = 21, lang: str = "nl"):
    """Heatmaps of NPV: baseline outflow x economic cycle, and effect size x programme cost."""
    from functools import partial

    from . import plots
    from .model import evaluate_batch
    from .sensitivity import two_way

    model = partial(evaluate_batch, case)
    effect = "effect.work_exit_added" if case.value("effect.work_exit_added") else (
        "effect.stock_share" if case.value("effect.stock_share") else "effect.work_exit_added")
    cost = "programme.cost_per_fte_year" if case.value("programme.staff_fte") else "programme.other_cost_per_month"
    grids = [(("baseline.work_exit_rate", np.linspace(0.02, 0.15, points)), ("cycle.multiplier", np.linspace(0.5, 1.4, points))),
             ((effect, np.linspace(0.0, max(2 * case.value(effect), 0.1), points)),
              (cost, np.linspace(0.5 * max(case.value(cost), 1.0), 1.5 * max(case.value(cost), 1.0), points)))]
    figs = []
    for x, y in grids:
        res = two_way(model, case.values, x, y, metrics=("npv_eur", "break_even_month"))
        names = {"npv_eur": label("npv_eur", lang), "break_even_month": label("break_even_month", lang),
                 **{k: text(k, lang, default=k) for k in (res.x_name, res.y_name)}}
        for metric in ("npv_eur", "break_even_month"):
            figs.append(plots.heatmap(res, metric, labels=names, lang=lang))
    return figs


def variants_table(case: Case, lang: str = "nl"):
    """Headline metrics of the case and each named variant (the source's other readings)."""
    import pandas as pd

    from .model import summarise

    rows = [(text("as_published", lang), case)]
    rows += [((v.title_nl or v.title) if lang == "nl" else v.title, load_case(case.source_file or case.name, variant=k))
             for k, v in case.variants.items()]
    out = []
    for title, c in rows:
        m = summarise(c)["metrics"]
        out.append({text("variant", lang): title, **{k: m[k] for k in ("extra_ended_benefits", "gross_saving_eur",
                                                                     "programme_cost_eur", "net_result_eur", "npv_eur",
                                                                     "break_even_month")}})
    return format_table(pd.DataFrame(out).set_index(text("variant", lang)), lang)


def family_view(case: Case, lang: str = "nl"):
    """For a secondment case: the (hours, pool, overhead) combinations consistent with its published figures."""
    from .calibration import secondment_family

    pub = {p.metric: p for p in case.published}
    target = pub["secondment_surplus_after_benefit_year1_eur"].value
    be = pub["secondment_break_even_month"].value
    fam = secondment_family(case, np.arange(100, 171, 10), np.arange(10, 101, 5), target_year1=target,
                            break_even_month=be)
    note = text("family_note", lang, n=len(fam), be=int(be), plus=eur(target, lang),
                h=number(case.value("secondment.hours_per_month"), lang),
                pool=number(case.value("cohort.initial_participants"), lang),
                c=eur(case.value("secondment.overhead_per_month"), lang))
    shown = fam[["hours_per_month", "pool", "overhead_per_month", "break_even_month"]]
    table = _translate_columns(format_table(shown, lang, formats={"hours_per_month": "number", "pool": "number"}), lang)
    return fam, note, table


def acceptability_view(case: Case, n: int = 2000, seed: int = 20191, lang: str = "nl", points: int = 11):
    """P(NPV > 0) against an extra programme cost per participant (0 up to the NPV per participant)."""
    from functools import partial

    from . import plots
    from .model import evaluate_batch
    from .sensitivity import acceptability_curve

    dists = case_distributions(case)
    npv = float(evaluate_batch(case)["npv_eur"][0])
    people = max(case.value("cohort.initial_participants") + case.value("cohort.inflow_per_month")
                 * min(case.value("cohort.inflow_months"), case.months), 1.0)
    top = max(2.0 * npv / people, 1000.0)
    costs = np.linspace(0.0, top, points)
    curve = acceptability_curve(partial(evaluate_batch, case), case.values, dists, "programme.cost_per_participant",
                                costs, n=n, seed=seed)
    fig = plots.acceptability_curve(curve, cost_label=text("extra_cost_per_participant", lang))
    fig.axes[0].set_title(text("acceptability", lang))
    fig.axes[0].set_ylabel(text("p_pays_off", lang))
    return curve, fig



def sobol_view(case: Case, n: int = 256, seed: int = 20191, lang: str = "nl", top: int = 12):
    from functools import partial

    from .model import evaluate_batch
    from .sensitivity import case_selection, sobol

    ranges = case_selection(case).ranges
    table = sobol(partial(evaluate_batch, case), case.values, ranges, N=n, seed=seed, parameters=list(ranges))
    return table.head(top)


# ------------------------------------------------------------------ municipal reports
#: municipal reports: figures drawn once (no second tight-bbox pass) at this resolution
#: (assumption: 100 dpi PNG is sharp on screen for 7-inch figures and a third of 150 dpi's pixels)
MUNICIPAL_FIGURE_DPI = 100


def setup_municipal(lang: str = "nl") -> None:
    """Defaults for municipal reports (342 per batch): :func:`setup`, with cheap figures.

    Figures are laid out by ``tight_layout`` in the figure functions already, so the inline
    backend's second ``bbox_inches='tight'`` pass is skipped and PNGs use
    :data:`MUNICIPAL_FIGURE_DPI`.
    """
    setup(lang)
    from .reporting import in_kernel

    if in_kernel():
        import matplotlib

        matplotlib.rcParams["savefig.dpi"] = MUNICIPAL_FIGURE_DPI
        try:
            from matplotlib_inline.backend_inline import set_matplotlib_formats

            set_matplotlib_formats("png", bbox_inches=None)
        except Exception:  # pragma: no cover - very old matplotlib-inline
            pass


def warm_municipal(approach: str, share_reached: float) -> None:
    """What every municipal report of a batch shares, computed once (in the fork server).

    The model for all municipalities x scenarios (:func:`mkba.local.share_municipal_batch`),
    which each report's scenario and peer tables then read; a report rendered alone computes
    the same rows itself.
    """
    from .local import share_municipal_batch

    share_municipal_batch(load_case(approach), share_reached)


def municipality_case(gm_code: str, approach: str, share_reached: float, scenario: str = ""):
    """The approach localised to a municipality (mkba.local), optionally under a cycle scenario.

    A municipality whose caseload CBS does not give (or gives as 0) returns ``(None, facts)`` with
    a note saying so: its report shows the figures that exist and no invented results.
    """
    from .errors import InputError
    from .local import localise
    from .municipalities import find_municipality

    try:
        case, facts = localise(load_case(approach), gm_code, share_reached)
    except InputError as exc:
        row = dict(find_municipality(gm_code))       # an unknown municipality still raises here
        row.setdefault("name", gm_code)
        row["notes"] = [exc.problem]
        row["participants"] = None
        return None, row
    if scenario:
        from .scenarios import scenario_case

        case = scenario_case(case, scenario)
    return case, facts


def local_facts_table(facts: Mapping[str, Any], lang: str = "nl"):
    import pandas as pd

    nat = facts.get("outflow_national_pct") or {}
    nat_mean = float(np.mean(list(nat.values()))) / 100 if nat else float("nan")
    local = facts.get("outflow_local_pct")
    rows = [
        ("name", f"{facts['name']} ({facts['gm_code']})"), ("province", facts.get("province") or "–"),
        ("size_class", facts.get("size_class") or "–"), ("urbanisation", facts.get("urbanisation") or "–"),
        ("population", number(facts.get("population", facts.get("population_2024")), lang)),
        ("bijstand_2024_algemeen", number(facts.get("bijstand_2024_algemeen"), lang)),
        ("participants_reached", number(facts.get("participants"), lang)),
        ("outflow_local_pct", pct(None if local is None else local / 100, lang)),
        ("outflow_national", pct(nat_mean, lang)),
        ("work_exit_rate", pct(facts.get("work_exit_rate"), lang)),
    ]
    return pd.DataFrame([(text(k, lang), v) for k, v in rows], columns=["", label("value", lang)]).set_index("")


def data_notes(facts: Mapping[str, Any], lang: str = "nl") -> str:
    notes = list(facts.get("notes") or [])
    if facts.get("data_notes"):
        notes.append(str(facts["data_notes"]))
    if not notes:
        return text("no_data_notes", lang)
    return "\n".join(f"- {n}" for n in notes)


def municipal_scenarios(approach: str, gm_code: str, share_reached: float, lang: str = "nl"):
    from .local import evaluate_municipalities

    raw = evaluate_municipalities(load_case(approach), [gm_code], share_reached)
    shown = raw.set_index("scenario")[["cycle_multiplier", "extra_ended_benefits", "net_result_eur", "npv_eur",
                                       "break_even_month"]].rename(columns={"cycle_multiplier": "multiplier"})
    return raw, _translate_columns(format_table(shown, lang, formats={"multiplier": "ratio"}), lang)


def peers_view(approach: str, gm_code: str, share_reached: float, lang: str = "nl", top: int = 15):
    from .local import compare_with_peers

    peers = compare_with_peers(load_case(approach), gm_code, share_reached)
    a = peers.attrs
    sentence = text("peer_rank_sentence", lang, rank=a["rank"], size=a["group_size"], rule=a["rule"])
    shown = peers.head(top).set_index("name")[["province", "participants", "npv_eur", "npv_per_participant_eur",
                                                "break_even_month"]]
    table = _translate_columns(format_table(shown, lang, formats={"participants": "number", "province": "text"}), lang)
    return peers, sentence, table


def summary(case: Case, lang: str = "nl") -> str:
    """The case's one-line summary in the report language."""
    return (case.summary_nl or case.summary) if lang == "nl" else case.summary


# ------------------------------------------------------------------ economic cycle (sensitivity report)
CYCLE_TEXTS: dict[str, dict[str, str]] = {
    "cycle_caption": {
        "nl": "De conjunctuurindex meet de arbeidsmarkt: hoe de kans op uitstroom naar werk van een vergelijkbare "
              "groep meebeweegt met goede en slechte jaren (werkloosheid en de verandering daarvan; de veranderde "
              "samenstelling van het bijstandsbestand is eruit gehaald). Gemiddeld jaar {p0}-{p1} = 1,00. "
              "Bron: CBS StatLine, tabellen 81574NED, 37789ksz, 83450NED, 83747NED, 84066NED, 82662NED, 83426NED, "
              "85617NED en 80590ned. Deze casus is gemeten in **{year}** (index {idx}); "
              "hoogconjunctuur is het beste jaar ({hy}, index {hi}), laagconjunctuur het slechtste ({ly}, index {li}). "
              "De factor is de index van het scenario gedeeld door die van {year}.",
        "en": "The cycle index measures the labour market: how the chance of leaving for work of a comparable group "
              "moves with good and bad years (unemployment and its change; the changed make-up of the caseload is "
              "taken out). Average year {p0}-{p1} = 1.00. Source: CBS StatLine, tables 81574NED, 37789ksz, "
              "83450NED, 83747NED, 84066NED, 82662NED, 83426NED, 85617NED and 80590ned. This case was measured in "
              "**{year}** (index {idx}); boom is the best year ({hy}, index {hi}), downturn the worst ({ly}, index "
              "{li}). The factor is the scenario's index divided by that of {year}."},
    "channels_heading": {"nl": "Welke uitstroomkanalen bewegen mee, en waarom",
                         "en": "Which exit channels move, and why"},
    "channels_caption": {
        "nl": "Elk kanaal heeft een conjunctuurgevoeligheid s (uit de aannames van de casus). Kanalen naar werk "
              "worden vermenigvuldigd met 1 + s × (factor − 1), kanalen waarin werk verloren gaat (terugval, uitval, "
              "ontslag) met 1 − s × (factor − 1): die stijgen in laagconjunctuur. s = 1: beweegt volledig mee, "
              "s = 0: niet.",
        "en": "Each channel has a cycle sensitivity s (from the case's assumptions). Channels into work are "
              "multiplied by 1 + s × (factor − 1), channels that lose work (returns, drop-outs, dismissals) by "
              "1 − s × (factor − 1): those rise in a downturn. s = 1: moves fully, s = 0: not at all."},
    "replay_caption": {
        "nl": "Netto contante waarde als de aanpak in januari van het startjaar was begonnen, met de waargenomen "
              "conjunctuur per kwartaal vanaf 2008 (CBS 80590ned, werkloosheid seizoengecorrigeerd), ten opzichte "
              "van het meetjaar {year} van de casus (index {idx}). Na het laatste kwartaal met gegevens ({lq}) "
              "rekent het model met het gemiddelde jaar (index 1,00): er is geen voorspelling.",
        "en": "Net present value had the approach started in January of the start year, with the observed cycle "
              "per quarter from 2008 (CBS 80590ned, seasonally adjusted unemployment), relative to the case's "
              "measured year {year} (index {idx}). After the last quarter with data ({lq}) the model uses the "
              "average year (index 1.00): no forecast is made."},
    "replay_title": {"nl": "NCW per startjaar (meetjaar {year})", "en": "NPV by start year (measured in {year})"},
    "col_years": {"nl": "Bronjaren index", "en": "Index source years"},
    "col_scenario_index": {"nl": "Index scenario", "en": "Scenario index"},
    "col_measured_in": {"nl": "Gemeten in", "en": "Measured in"},
    "col_measured_index": {"nl": "Index meetjaar", "en": "Index of measured year"},
    "col_multiplier": {"nl": "Factor op uitstroom", "en": "Factor on exits"},
    "col_channel": {"nl": "Kanaal", "en": "Channel"},
    "col_sensitivity": {"nl": "Gevoeligheid s", "en": "Sensitivity s"},
    "col_why": {"nl": "Waarom (bron)", "en": "Why (source)"},
    "col_start_year": {"nl": "Startjaar", "en": "Start year"},
    "col_mean_multiplier": {"nl": "Gem. factor over de looptijd", "en": "Mean factor over the horizon"},
    "col_first_year_multiplier": {"nl": "Factor eerste jaar", "en": "Factor first year"},
    "col_path_source": {"nl": "Conjunctuur per", "en": "Cycle by"},
    "quarterly": {"nl": "kwartaal", "en": "quarter"},
    "yearly": {"nl": "jaar", "en": "year"},
    "quarterly_beyond": {"nl": "kwartaal, daarna 1,00", "en": "quarter, then 1.00"},
    "yearly_beyond": {"nl": "jaar, daarna 1,00", "en": "year, then 1.00"},
}


def _cycle_text(key: str, lang: str, **fmt) -> str:
    s = CYCLE_TEXTS[key]["nl" if lang == "nl" else "en"]
    return s.format(**fmt) if fmt else s


def _cycle_columns(columns, lang: str) -> list[str]:
    """Display names of the raw columns (cycle texts first, then the shared labels)."""
    return [_cycle_text(f"col_{c}", lang) if f"col_{c}" in CYCLE_TEXTS else text(c, lang, default=str(c))
            for c in columns]


def _cycle_facts(case: Case, lang: str) -> dict:
    from .cycle import REFERENCE_PERIOD, index_for_year, scenarios

    sc = scenarios()
    hi, lo = sc["hoogconjunctuur"], sc["laagconjunctuur"]
    return {"p0": REFERENCE_PERIOD[0], "p1": REFERENCE_PERIOD[1], "year": case.measured_in,
            "idx": number(index_for_year(case.measured_in), lang, 2),
            "hy": hi.years[0], "hi": number(hi.multiplier, lang, 2), "ly": lo.years[0], "li": number(lo.multiplier, lang, 2)}


def cycle_scenario_view(case: Case, lang: str = "nl"):
    """Scenario table for the sensitivity report: index used, its source years, the case's measured year.

    Returns ``(caption, table, raw)``: a Markdown caption, the formatted table and the raw
    :func:`mkba.scenarios.scenario_table`.
    """
    from IPython.display import Markdown

    from .scenarios import scenario_table

    raw = scenario_table(case)
    shown = raw.assign(scenario=[label(s, lang) for s in raw["scenario"]])[
        ["scenario", "years", "scenario_index", "measured_in", "measured_index", "multiplier",
         "extra_ended_benefits", "net_result_eur", "npv_eur", "break_even_month"]].set_index("scenario")
    table = format_table(shown, lang, formats={"years": "text", "scenario_index": "ratio", "measured_in": "text",
                                               "measured_index": "ratio", "multiplier": "ratio"})
    table.columns = _cycle_columns(shown.columns, lang)
    table.index.name = label("scenario", lang)
    return Markdown(_cycle_text("cycle_caption", lang, **_cycle_facts(case, lang))), table, raw


def cycle_channel_view(case: Case, lang: str = "nl"):
    """Which exit channels move under each scenario and why: ``(caption, table, raw)``."""
    from IPython.display import Markdown

    from .scenarios import SCENARIO_ORDER, channel_table

    raw = channel_table(case, lang)
    shown = raw.set_index("description")[["sensitivity", *SCENARIO_ORDER, "why"]]
    table = format_table(shown, lang, formats={"sensitivity": "ratio", **{n: "ratio" for n in SCENARIO_ORDER},
                                               "why": "text"})
    table.columns = _cycle_columns(shown.columns, lang)
    table.index.name = _cycle_text("col_channel", lang)
    return Markdown(_cycle_text("channels_caption", lang)), table, raw


def replay_view(case: Case, lang: str = "nl"):
    """Historical replay for the sensitivity report: ``(caption, table, raw, figure)``.

    The chart shows the NPV per start year 2008-2023 on the observed quarterly cycle, with the
    case's measured year in the title and the index source in the caption.
    """
    from IPython.display import Markdown

    from .cycle import _quarter_data
    from .reporting import eur_axis
    from .scenarios import replay_table

    raw = replay_table(case)
    lq = max(_quarter_data())
    facts = _cycle_facts(case, lang)
    src = [_cycle_text(f"{s}_beyond" if b else s, lang) for s, b in zip(raw["path_source"], raw["beyond_data"])]
    shown = raw.assign(path_source=src).set_index("start_year")[
        ["first_year_multiplier", "mean_multiplier", "path_source", "extra_ended_benefits", "net_result_eur",
         "npv_eur", "break_even_month"]]
    table = format_table(shown, lang, formats={"first_year_multiplier": "ratio", "mean_multiplier": "ratio",
                                               "path_source": "text"})
    table.columns = _cycle_columns(shown.columns, lang)
    table.index.name = _cycle_text("col_start_year", lang)
    fig, ax = _ax()
    ax.bar(raw["start_year"], raw["npv_eur"], color=np.where(raw["npv_eur"] >= 0, "#1f5f8b", "#c0392b"))
    ax.axhline(0, color="#555555", linewidth=0.8)
    ax.set_title(_cycle_text("replay_title", lang, year=case.measured_in))
    ax.set_xlabel(_cycle_text("col_start_year", lang))
    eur_axis(ax, lang)
    fig.tight_layout()
    caption = Markdown(_cycle_text("replay_caption", lang, year=facts["year"], idx=facts["idx"],
                                   lq=f"{lq[0]} K{lq[1]}" if lang == "nl" else f"{lq[0]} Q{lq[1]}"))
    return caption, table, raw, fig


def cycle_heading(key: str, lang: str = "nl", level: int = 3):
    """A Markdown heading from :data:`CYCLE_TEXTS`."""
    from IPython.display import Markdown

    return Markdown("#" * level + " " + _cycle_text(key, lang))

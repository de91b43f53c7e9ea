"""Excel export of one case for controllers: ``export_xlsx(case, "case.xlsx")``.

Sheets (labels in Dutch, numbers stored as numbers with euro / count / percentage formats):

``Samenvatting``  the case (title, perspective, dates, discount rate) and the headline metrics,
                  columns *Onderdeel*, *Waarde*, *Eenheid*, *Code* (``Code`` = the metric name
                  in :mod:`mkba.metrics`, so a figure can be traced to the model).
``Per jaar``      :func:`mkba.model.summarise` ``["per_year"]``, one row per appraisal year.
``Per actor``     :func:`mkba.model.per_actor` (treatment minus control per item and actor), first
                  discounted (*contante waarde*), then nominal (*nominaal*), stacked with a
                  column *Waardering*.
``Aannames``      :meth:`mkba.cases.Case.assumptions_table`: every parameter with value, unit,
                  date and source.
``Bron``          where everything comes from: case file, assumptions hash, mkba version,
                  readings, notes, published figures and the sources cited (CBS tables with
                  their attribution, seed files).

Between the summary and the values-only sheets sits the **live model** (:mod:`mkba.excel_model`):
``Resultaat``, ``Invoer`` (the assumptions as named input cells), ``Afgeleid``, ``Jaar``, ``Maand``,
``Profiel``, ``Omgekeerd``, ``Afleiding``: the same calculation in Excel formulas, so a controller
can change an input and see people, costs, savings, NCW, BCR and break-even recalculate.

A break-even month that is never reached is an empty cell (not 0). Infinite values (a lasting
effect's half-life) are written as the text ``inf``. The workbook is written to a temporary
file next to the target and moved into place (``os.replace``), so a reader never sees half a file.
"""
from __future__ import annotations

import datetime as _dt
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from .cases import Case, load_case
from .errors import InputError

VALUE_SHEETS = ("Samenvatting", "Per jaar", "Per actor", "Aannames", "Bron")
#: every sheet, in workbook order: the summary, the live model (formulas, mkba.excel_model), the values-only sheets
SHEETS = ("Samenvatting", "Resultaat", "Invoer", "Afgeleid", "Jaar", "Maand", "Profiel", "Omgekeerd", "Afleiding",
          "Per jaar", "Per actor", "Aannames", "Bron")

FMT_EUR = '"€" #,##0;[Red]"€" -#,##0'
FMT_EUR2 = '"€" #,##0.00;[Red]"€" -#,##0.00'
FMT_COUNT = "#,##0.0"
FMT_INT = "0"
FMT_RATIO = "0.00"
FMT_PCT = "0.0%"
FMT_PCT2 = "0.00%"
FMT_DATE = "dd-mm-yyyy"

#: Headline metrics on the summary sheet: code, Dutch label, unit, number format.
SUMMARY_METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("extra_ended_benefits", "Extra mensen uit de uitkering", "personen (t.o.v. nulalternatief, na terugval)", FMT_COUNT),
    ("benefit_months_saved", "Bespaarde uitkeringsmaanden", "maanden", FMT_COUNT),
    ("gross_saving_eur", "Bruto besparing", "EUR, nominaal", FMT_EUR),
    ("programme_cost_eur", "Programmakosten", "EUR, nominaal", FMT_EUR),
    ("net_result_eur", "Netto resultaat", "EUR, nominaal", FMT_EUR),
    ("npv_eur", "Netto contante waarde", "EUR, contant", FMT_EUR),
    ("bcr", "Baten-kostenverhouding", "verhouding (contant)", FMT_RATIO),
    ("break_even_month", "Terugverdienmaand (cumulatief resultaat blijft positief)",
     "maand (leeg = niet binnen de horizon)", FMT_INT),
    ("monthly_break_even_month", "Maand vanaf welke het maandresultaat positief blijft", "maand (leeg = nooit)", FMT_INT),
    ("cost_per_extra_ended_benefit_eur", "Kosten per extra persoon uit de uitkering", "EUR", FMT_EUR),
    ("annual_saving_run_rate_eur", "Besparing op jaarbasis (extra beëindigd x uitkering per jaar)", "EUR per jaar", FMT_EUR),
    ("programme_cost_per_year_eur", "Programmakosten per jaar", "EUR per jaar", FMT_EUR),
    ("annual_net_run_rate_eur", "Netto resultaat op jaarbasis", "EUR per jaar", FMT_EUR),
    ("saving_counting_all_exits_eur", "Besparing als elke uitstroom wordt meegeteld (zonder nulalternatief)",
     "EUR, nominaal", FMT_EUR),
    ("deadweight_share", "Deel van die besparing dat ook zonder aanpak was ontstaan", "fractie", FMT_PCT),
    ("municipal_npv_eur", "Netto contante waarde voor de gemeente", "EUR, contant", FMT_EUR),
    ("societal_npv_eur", "Maatschappelijke netto contante waarde", "EUR, contant", FMT_EUR),
    ("societal_bcr", "Maatschappelijke baten-kostenverhouding", "verhouding (contant)", FMT_RATIO),
)

#: Dutch column headers of the per-year sheet (model column -> header, format).
PER_YEAR_LABELS: dict[str, tuple[str, str]] = {
    "year": ("Jaar", FMT_INT),
    "gross_saving_eur": ("Bruto besparing (EUR)", FMT_EUR),
    "programme_cost_eur": ("Programmakosten (EUR)", FMT_EUR),
    "net_result_eur": ("Netto resultaat (EUR)", FMT_EUR),
    "discounted_net_eur": ("Netto resultaat contant (EUR)", FMT_EUR),
    "cumulative_net_eur": ("Cumulatief netto resultaat (EUR)", FMT_EUR),
    "benefit_months_saved": ("Bespaarde uitkeringsmaanden", FMT_COUNT),
    "extra_ended_benefits": ("Extra mensen uit de uitkering (eind jaar)", FMT_COUNT),
    "societal_net_eur": ("Maatschappelijk netto resultaat (EUR)", FMT_EUR),
    "secondment_surplus_after_benefit_eur": ("Detachering: overschot na uitkering (EUR)", FMT_EUR),
    "months": ("Maanden", FMT_INT),
    "municipal_net_eur": ("Gemeentelijk netto resultaat (EUR)", FMT_EUR),
    "extra_people_off_benefit_avg": ("Extra mensen uit de uitkering (gemiddeld over het jaar)", FMT_COUNT),
    "extra_exit_events": ("Extra uitstroommomenten (cumulatief, eind jaar)", FMT_COUNT),
}

ASSUMPTION_LABELS = {"parameter": "Parameter", "value": "Waarde", "unit": "Eenheid", "date": "Datum",
                     "reference": "Bron", "description": "Omschrijving", "low": "Laag", "high": "Hoog",
                     "source_file": "Bestand"}
PERSPECTIVE_NL = {"municipality": "gemeente", "society": "maatschappij"}
CONVENTION_NL = {"excel": "jaarlijks; jaar k gedisconteerd met (1 + r)^-k, ook het eerste jaar (zoals Excel NCW/NPV)",
                 "start": "jaarlijks; eerste jaar ongedisconteerd, jaar k met (1 + r)^-(k-1)",
                 "monthly": "maandelijks; maand m gedisconteerd met (1 + r)^-(m/12)"}

_CBS_RE = re.compile(r"\b(\d{5}(?:NED|ned|KSZ|ksz))\b")
_SEED_RE = re.compile(r"\b(\d{3}_[0-9a-f]{16}\.txt)\b")


# ---------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------
def _clean(x: Any) -> Any:
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


def summary_frame(case: Case, metrics: dict[str, float]):
    """The rows of the summary sheet (Onderdeel, Waarde, Eenheid, Code) and their number formats."""
    import pandas as pd

    from . import __version__

    persp = PERSPECTIVE_NL.get(case.perspective, case.perspective)
    v = case.values
    people = v["cohort.initial_participants"] + v["cohort.inflow_per_month"] * min(v["cohort.inflow_months"], v["horizon.months"])
    rows: list[tuple[str, Any, str, str, str | None]] = [
        ("Casus", getattr(case, "title_nl", None) or case.title, "", "title", None),
        ("Naam", case.name, "", "name", None),
        ("Rekenmodel", "bladen Resultaat en Invoer: het model in formules; wijzig een gele cel op Invoer en alles "
                       "rekent mee (deze samenvatting en de bladen Per jaar en Per actor zijn waarden bij export)",
         "", "live_model", None),
        ("Variant", case.variant or "", "", "variant", None),
        ("Perspectief", persp, "", "perspective", None),
        ("Startdatum", case.start_date, "", "start_date", FMT_DATE),
        ("Peildatum (discontovoet)", case.appraisal_date, "", "appraisal_date", FMT_DATE),
        ("Tijdshorizon", case.months, "maanden", "horizon.months", FMT_INT),
        ("Discontovoet (reëel)", v["discount.rate"], "per jaar", "discount.rate", FMT_PCT2),
        ("Disconteringswijze", CONVENTION_NL.get(case.discount_convention, case.discount_convention), "",
         "discount_convention", None),
        ("Deelnemers", people, "personen", "participants", FMT_COUNT),
    ]
    for code, label, unit, fmt in SUMMARY_METRICS:
        if code in metrics:
            if code in ("npv_eur", "net_result_eur", "gross_saving_eur", "programme_cost_eur", "bcr"):
                unit = f"{unit}; perspectief {persp}"
            rows.append((label, _clean(float(metrics[code])), unit, code, fmt))
    rows += [("Aannames (hash)", case.assumptions_hash(), "", "assumptions_hash", None),
             ("Gemaakt met", f"mkba {__version__}", "", "mkba_version", None)]
    frame = pd.DataFrame([r[:4] for r in rows], columns=["Onderdeel", "Waarde", "Eenheid", "Code"])
    return frame, [r[4] for r in rows]


def per_year_frame(per_year):
    frame = per_year.rename(columns={k: lab for k, (lab, _f) in PER_YEAR_LABELS.items()})
    formats = [PER_YEAR_LABELS.get(c, (c, None))[1] for c in per_year.columns]
    return frame, formats


def per_actor_frame(table, lang: str = "nl"):
    """Per-actor totals, discounted then nominal, stacked (columns Waardering, Post, Omschrijving, actors, Totaal).

    Item and actor words are the reports' (:func:`mkba.formatting.item_label`,
    :func:`mkba.formatting.actor_label`: one label per item and actor in the catalogues); ``Post``
    keeps the model's item code. ``lang="en"`` gives the sheet in English.
    """
    import pandas as pd

    from .formatting import actor_label, item_label
    from .model import per_actor
    from .views import text

    parts = []
    for discounted in (True, False):
        pa = per_actor(table, discounted=discounted)
        pa.columns = [actor_label(a, lang) for a in pa.columns]
        pa.columns.name = None
        pa.insert(0, text("export_description", lang), [item_label(i, lang) for i in pa.index])
        pa.insert(0, text("item", lang), list(pa.index))
        pa.insert(0, text("export_valuation", lang),
                  text("valuation_discounted", lang) if discounted else text("valuation_nominal", lang))
        parts.append(pa.reset_index(drop=True))
    return pd.concat(parts, ignore_index=True)


def assumptions_frame(case: Case):
    """Sheet ``Aannames``: every parameter with a Dutch name and description, value, unit and source."""
    from .formatting import param_label, unit_label

    try:
        from .describe import parameter_description
    except ImportError:  # pragma: no cover - older tree
        parameter_description = None
    t = case.assumptions_table()
    t = t.assign(description=[parameter_description(k, "nl") if parameter_description else d
                              for k, d in zip(t["parameter"], t["description"])])
    t.insert(0, "naam", [param_label(k, "nl") for k in t["parameter"]])
    t.insert(t.columns.get_loc("unit") + 1, "eenheid", [unit_label(u, "nl") for u in t["unit"]])
    return t.rename(columns={**ASSUMPTION_LABELS, "naam": "Aanname", "unit": "Eenheid", "eenheid": "Eenheid (woorden)"})


def _cited(case: Case) -> tuple[list[str], list[str]]:
    text = " ".join([p.reference for p in case.parameters.values()]
                    + [r.reference or "" for r in case.readings] + [p.reference for p in case.published])
    return sorted(set(_CBS_RE.findall(text)), key=str.upper), sorted(set(_SEED_RE.findall(text)))


_VARIANT_ALT_RE = re.compile(r"^variant (\w+):")
_SEED_LINES_RE = re.compile(r"\b\d{3}_[0-9a-f]{16}\.txt(?::[\d-]+)?")


def _alternative_nl(case: Case, alternative: str) -> str:
    """A reading's alternative in Dutch: readings have no Dutch alternatives, but one that names a variant
    (``variant cost_once: ...``) is that variant, so its ``title_nl`` says it (seed-file citations kept).
    Any other alternative is shown as written."""
    m = _VARIANT_ALT_RE.match(alternative)
    v = case.variants.get(m.group(1)) if m else None
    if v is None or not v.title_nl:
        return alternative
    cited = _SEED_LINES_RE.findall(alternative[m.end():])
    return f"variant {m.group(1)}: {v.title_nl}" + (f" ({', '.join(cited)})" if cited else "")


def sources_frame(case: Case):
    """Sheet ``Bron``: provenance rows (Soort, Onderwerp, Tekst, Bron)."""
    import pandas as pd

    from . import __version__

    rows: list[tuple[str, str, str, str]] = [
        ("Casus", "Bestand", case.source_file or "(in het geheugen gemaakt)", ""),
        ("Casus", "Omschrijving", getattr(case, "summary_nl", None) or case.summary, ""),
        ("Casus", "Aannames (hash)", case.assumptions_hash(), ""),
        ("Casus", "Gemaakt", f"mkba {__version__}, {_dt.datetime.now().isoformat(timespec='seconds')}", ""),
    ]
    for r in case.readings:
        text = f"{getattr(r, 'choice_nl', None) or r.choice}. Waarom: {getattr(r, 'why_nl', None) or r.why}"
        if r.alternatives:
            text += ". Alternatieven: " + "; ".join(_alternative_nl(case, a) for a in r.alternatives)
        rows.append(("Lezing", getattr(r, "topic_nl", None) or r.topic, text, r.reference or ""))
    for n in case.notes:
        rows.append(("Notitie", "", n, ""))
    for p in case.published:
        what = f"{p.metric} = {p.value:g}" + (f" (variant {p.variant})" if p.variant else "")
        rows.append(("Gepubliceerd cijfer", p.metric, what + (f": '{p.quote}'" if p.quote else ""), p.reference))
    cbs_tables, seeds = _cited(case)
    for t in cbs_tables:
        try:
            from .cbs import source_label

            label = source_label(t)
        except Exception:  # noqa: BLE001 - a missing raw file must not stop the export
            label = f"Bron: CBS StatLine, tabel {t}"
        rows.append(("Bron", f"CBS {t}", f"{label} (licentie CC BY 4.0)", t))
    for s in seeds:
        rows.append(("Bron", s, "brontekst (zie README.md van het project)", s))
    return pd.DataFrame(rows, columns=["Soort", "Onderwerp", "Tekst", "Bron"])


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------
def _format_sheet(ws, *, column_formats: dict[int, str] | None = None, row_formats: dict[int, str] | None = None,
                  row_format_cols: set[int] = frozenset(), widths: dict[int, int] | None = None,
                  wrap: set[int] = frozenset()) -> None:
    """Number formats by column (1-based) or by data row (1-based, header excluded) in one column."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for r in range(2, ws.max_row + 1):
        for c in range(1, ws.max_column + 1):
            cell = ws.cell(row=r, column=c)
            fmt = None
            if column_formats and c in column_formats:
                fmt = column_formats[c]
            if row_formats and c in row_format_cols and (r - 1) in row_formats:
                fmt = row_formats[r - 1]
            if fmt and isinstance(cell.value, (int, float, _dt.date)) and not isinstance(cell.value, bool):
                cell.number_format = fmt
            if c in wrap:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for c in range(1, ws.max_column + 1):
        letter = get_column_letter(c)
        if widths and c in widths:
            ws.column_dimensions[letter].width = widths[c]
        else:
            longest = max((len(str(ws.cell(row=r, column=c).value or "")) for r in range(1, min(ws.max_row, 200) + 1)),
                          default=8)
            ws.column_dimensions[letter].width = min(max(10, longest + 2), 60)


def _print_setup(ws) -> None:
    """Print on A4 landscape, fit to one page wide (as many pages tall as needed), header row repeated."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = "1:1"
    ws.print_options.gridLines = False
    ws.oddFooter.center.text = "&A – pagina &P van &N"


def _target(path: str | Path, case: Case) -> Path:
    p = Path(path)
    if p.is_dir():
        p = p / f"{case.name}.xlsx"
    if p.suffix.lower() != ".xlsx":
        raise InputError("an Excel export needs a .xlsx file name", field="path", value=str(path),
                         fix=f"e.g. {p.with_suffix('.xlsx').name}")
    if p.parent.exists() and not p.parent.is_dir():
        raise InputError("this is a file, not a folder", file=str(p.parent), field="--out",
                         fix="give a folder (it is created if missing) or a .xlsx file name")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)     # `-o reports/new/` creates the folder
    except OSError as exc:
        raise InputError(f"cannot create the folder: {exc.strerror}", file=str(p.parent), field="--out",
                         fix="give a folder you can write to") from None
    return p


def _file_mode() -> int:
    """The mode reports get (0666 less the umask, as :func:`mkba.manifest.atomic_write`), not mkstemp's 0600."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def export_xlsx(case: Case | str, path: str | Path, *, table=None, live: bool = True) -> Path:
    """Write the Excel workbook of ``case`` (a :class:`Case` or a case name/path) to ``path``.

    ``path`` may be a folder (the file is then ``<case name>.xlsx``). ``table`` is an already
    computed :func:`mkba.model.run` table of the case (computed when not given). ``live=False``
    leaves out the formula sheets (only :data:`VALUE_SHEETS`). Returns the path.
    """
    import pandas as pd

    from . import excel_model
    from .model import run, summarise

    if not isinstance(case, Case):
        case = load_case(case)
    if live:
        excel_model.check_supported(case)
    target = _target(path, case)
    table = run(case) if table is None else table
    res = summarise(case, table)

    summary, summary_formats = summary_frame(case, res["metrics"])
    per_year, per_year_formats = per_year_frame(res["per_year"])
    actors = per_actor_frame(table)
    assumptions = assumptions_frame(case)
    sources = sources_frame(case)

    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".xlsx", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, _file_mode())
    try:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            summary.to_excel(xw, sheet_name="Samenvatting", index=False)
            per_year.to_excel(xw, sheet_name="Per jaar", index=False)
            actors.to_excel(xw, sheet_name="Per actor", index=False)
            assumptions.to_excel(xw, sheet_name="Aannames", index=False)
            sources.to_excel(xw, sheet_name="Bron", index=False)

            _format_sheet(xw.sheets["Samenvatting"], row_formats={i + 1: f for i, f in enumerate(summary_formats) if f},
                          row_format_cols={2}, widths={1: 62, 2: 22, 3: 48, 4: 36})
            _format_sheet(xw.sheets["Per jaar"], column_formats={i + 1: f for i, f in enumerate(per_year_formats) if f})
            _format_sheet(xw.sheets["Per actor"], column_formats={c: FMT_EUR for c in range(4, actors.shape[1] + 1)})
            cols = list(assumptions.columns)
            eur_rows = {i + 1: FMT_EUR2 for i, u in enumerate(assumptions["Eenheid"]) if str(u).startswith("EUR")}
            widths = {cols.index("Bron") + 1: 80, cols.index("Omschrijving") + 1: 60}
            _format_sheet(xw.sheets["Aannames"], row_formats=eur_rows, widths=widths,
                          row_format_cols={cols.index(c) + 1 for c in ("Waarde", "Laag", "Hoog")})
            _format_sheet(xw.sheets["Bron"], widths={1: 20, 2: 40, 3: 100, 4: 40}, wrap={3})
            for ws in xw.sheets.values():
                _print_setup(ws)
            if live:
                wb = xw.book
                excel_model.add_model_sheets(wb, case, res["metrics"], print_setup=_print_setup)
                wb._sheets.sort(key=lambda ws: SHEETS.index(ws.title))
                wb.active = 0
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target

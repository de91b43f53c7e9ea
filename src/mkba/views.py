"""What the report notebooks show: tables and figures built from the model's tidy table.

Notebooks stay thin views (a ``parameters`` cell, then calls into this module); nothing here
computes model results that the model does not (it formats, selects and plots). Every view
takes ``lang`` ("nl" by default, the reader is a Dutch council; or "en").
"""
from __future__ import annotations

from html import escape as html_escape

import math
from typing import Any, Callable, Mapping

import numpy as np

from .cases import Case, load_case
from .formatting import (actor_label, date_long, date_words, eur, format_metric, format_table, item_label,  # noqa: F401
                         label, month_label, number, param_label, param_value, pct)
from .i18n import has_message, message
from .reporting import case_text, safe_markdown  # noqa: F401  (case_text is used by notebooks: untrusted case text)
from .reporting import tight_layout as _tight_layout

# Report texts live in the message catalogues (mkba.i18n, context "text"; src/mkba/locale/*/LC_MESSAGES/mkba.po).

HEADLINE_METRICS = ("extra_ended_benefits", "benefit_months_saved", "gross_saving_eur", "programme_cost_eur",
                    "net_result_eur", "npv_eur", "bcr", "break_even_month", "cost_per_extra_ended_benefit_eur")


def text(key: str, lang: str = "nl", default: str | None = None, **fmt) -> str:
    """Report text ``key`` (catalogue context ``text``, else a :func:`mkba.formatting.label`), ``{fields}`` filled."""
    if has_message("text", key, (lang,)):
        s = message("text", key, lang)
    else:
        s = label(key, lang, default=default)
    return s.format(**fmt) if fmt else s


def setup(lang: str = "nl", figure_format: str = "png") -> None:
    """Report defaults: matplotlib style and tick formats, and pandas showing full source texts.

    ``figure_format``: how figures are embedded, ``png`` or ``svg`` (:func:`mkba.reporting.setup_report`)."""
    import pandas as pd

    from .reporting import setup_report

    # figures shown as drawn: every figure function here lays its figure out (tight_layout or a
    # constrained layout), so the inline backend's cropping second draw is not needed (it cost a
    # case report 4 of its 8 figure draws; tests/test_figures_fit.py checks nothing is cut off)
    setup_report(lang, figure_format=figure_format, crop=False)
    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.max_rows", 200)
    _register_table_html()


def keep_amounts_together(html: str) -> str:
    """Non-breaking spaces inside amounts and percentages (``€ 133.000``, ``5,3 %``, ``€ -91.000``)
    so that table cells may wrap between words but never inside a figure."""
    import re

    html = re.sub(r"€ (?=-?\d)", "€\u00a0", html)
    html = re.sub(r"(?<=\d) (%|procentpunt|pp)\b", "\u00a0\\1", html)
    return html


#: the figure formats a report embeds (``setup(figure_format=...)``), each with its alt text
FIGURE_MIMETYPES = ("image/png", "image/svg+xml")


def _register_table_html() -> None:
    """Tables shown in a report notebook get their amounts kept together (see :func:`keep_amounts_together`)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    ip = get_ipython()
    if ip is None:
        return
    import pandas as pd

    fmt = ip.display_formatter.formatters["text/html"]
    fmt.for_type(pd.DataFrame, lambda df: keep_amounts_together(df.to_html(notebook=True)))
    from matplotlib.figure import Figure

    for mime in FIGURE_MIMETYPES:   # whichever format setup_report chose: the figure gets its alt text
        formatter = ip.display_formatter.formatters[mime]
        previous = formatter.type_printers.get(Figure)
        if previous is None or getattr(previous, "_mkba_alt", False):
            continue
        formatter.for_type(Figure, _printer_with_alt(previous))


def _printer_with_alt(printer):
    def with_alt(fig):
        return printer(fig), {"alt": figure_alt_text(fig, _state_lang())}

    with_alt._mkba_alt = True
    return with_alt


def _state_lang() -> str:
    from .reporting import report_lang

    return report_lang()


def figure_alt_text(fig, lang: str = "nl") -> str:
    """Alternative text for a chart in the report language, from its titles and axis labels."""
    parts = [fig.get_suptitle()] if fig.get_suptitle() else []
    for ax in fig.axes:
        bits = [ax.get_title(loc) for loc in ("left", "center", "right") if ax.get_title(loc)]
        axes = [x for x in (ax.get_xlabel(), ax.get_ylabel()) if x]
        if bits or axes:
            parts.append((" ".join(bits) + (f" ({', '.join(axes)})" if axes else "")).strip())
    word = text("chart_word", lang)
    return f"{word}: " + "; ".join(p for p in parts if p) if parts else word


def _translate_columns(df, lang: str):
    return df.rename(columns=lambda c: text(c, lang, default=str(c)))


def heading(key: str, lang: str = "nl", level: int = 2, **fmt):
    """A Markdown heading in the report language (displayed in a code cell whose code is hidden)."""
    from IPython.display import HTML, Markdown

    if fmt:   # filled in with case text (a title, a name): untrusted, so rendered through safe_markdown
        return HTML(f"<h{level}>{safe_markdown(text(key, lang, **fmt), inline=True)}</h{level}>")
    return Markdown("#" * level + " " + text(key, lang, **fmt))


def model_warnings(c: Case, lang: str = "nl"):
    """The model's warnings about the case (e.g. an effect that outlasts what is paid for), in the report
    language, shown next to the answer; ``None`` when there are none."""
    from IPython.display import Markdown

    from .model import case_warnings

    found = case_warnings(c, "nl" if lang == "nl" else "en")
    return Markdown("\n\n".join(f"**{w}**" for w in found)) if found else None


def figure_section(key: str, fig, lang: str = "nl", level: int = 2):
    """A heading and its figure as one block, so a page never ends with the heading alone.

    The figure is embedded as a PNG data URI with the alt text in the report language; the block
    carries ``mkba-keep`` (``break-inside: avoid`` in the print style).
    """
    import base64
    import io

    import matplotlib.pyplot as plt
    from IPython.display import HTML

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    alt = html_escape(figure_alt_text(fig, lang), quote=True)
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return HTML(f'<div class="mkba-keep"><h{level}>{html_escape(text(key, lang))}</h{level}>'
                f'<img src="data:image/png;base64,{data}" alt="{alt}"></div>')


# ------------------------------------------------------------------ preparing a case
def prepare_case(case: str, overrides: Mapping[str, float] | None = None, variant: str | None = None,
                 scenario: str | None = None, *, base: Case | None = None) -> Case:
    """Load a case with plain ``{name: number}`` overrides (as notebook parameters give them).

    ``base``: the case as loaded before (``load_case(case, variant=variant)``); the overrides are then
    applied to it as :func:`mkba.cases.load_case` applies them, without reading the files again
    (the interactive view, one slider move at a time).
    """
    from .cases import check_consistency, parse_set_values

    pairs = [f"{k}={v!r}" for k, v in (overrides or {}).items()]
    if base is not None:
        c = base.with_overrides(parse_set_values(pairs), source="--set") if pairs else base
        check_consistency(c, file=base.source_file)
    else:
        c = load_case(case, parse_set_values(pairs) if pairs else None, variant=variant or None)
    if scenario:
        from .scenarios import scenario_case

        c = scenario_case(c, scenario)
    return c


def results(case: Case) -> dict:
    from .model import summarise

    return summarise(case)


# ------------------------------------------------------------------ tables
def _nothing_to_earn_back(figures: Mapping[str, Any]) -> bool:
    """No programme cost, so no break-even month (the € 14.000 rule would show 'month 1')."""
    return not figures.get("programme_cost_eur")


def _metric_cell(key: str, figures: Mapping[str, Any], lang: str) -> str:
    """A metric of one perspective's figures, for a table."""
    if key.endswith("break_even_month") and _nothing_to_earn_back(figures):
        return text("no_cost_short", lang)
    return format_metric(key, figures.get(key), lang)


def headline_table(case: Case, res: dict, lang: str = "nl"):
    import pandas as pd

    m = res["metrics"]
    rows = [(label(k, lang), _metric_cell(k, m, lang)) for k in HEADLINE_METRICS]
    rows.append((text("perspective_" + case.perspective, lang), ""))
    return pd.DataFrame(rows, columns=[text("metric", lang), label("value", lang)]).set_index(text("metric", lang))


def published_table(case: Case, lang: str = "nl"):
    import pandas as pd

    from .compare import published_vs_model

    notes = _Footnotes()
    rows = []
    for r in published_vs_model(case):
        name = text(r["metric"], lang, default=r["metric"].replace("_", " "))
        if r["variant"]:
            v = case.variants[r["variant"]]
            name += f" ({(v.title_nl or v.title) if lang == 'nl' else v.title})"
        pub = ("≥ " if r["comparison"] == "at_least" else "") + format_metric(r["metric"], r["published"], lang)
        rows.append({text("metric", lang): name, text("published_col", lang): pub,
                     text("model_col", lang): format_metric(r["metric"], r["model"], lang),
                     text("kind_col", lang): text("kind_" + r["kind"], lang),
                     # only a derived figure is reproduced; an input or calibrated one is met by construction
                     text("ok_col", lang): ("✓" if r["ok"] else "✗")
                     + ((" " + text("reproduced", lang) if r["kind"] == "derived" else " " + text("by_construction", lang))
                        if r["ok"] else "")
                     + (" " + text("missed_expected", lang) if not r["ok"] and r.get("expected") == "missed" else ""),
                     label("reference", lang): notes.cite(r["reference"], lang)})
    out = pd.DataFrame(rows).set_index(text("metric", lang))
    out.attrs["footnotes"] = notes.files
    return out


def per_actor_table(res: dict, lang: str = "nl"):
    from .model import per_actor

    table = per_actor(res["table"])
    table = table.rename(index=lambda i: item_label(i, lang))
    table.columns = [actor_label(c, lang) for c in table.columns]
    table.index.name = text("item", lang)
    table.columns.name = None
    return table.apply(lambda col: [eur(v, lang) for v in col])


def per_year_table(res: dict, lang: str = "nl"):
    cols = ["year", "gross_saving_eur", "programme_cost_eur", "net_result_eur", "cumulative_net_eur",
            "extra_ended_benefits"]
    py = res["per_year"][cols].set_index("year")
    return _translate_columns(format_table(py, lang), lang)


class _Footnotes:
    """Numbers file references once per report table: ``cite(ref) -> "Significant (2019), r. 1909 ¹"``."""

    def __init__(self) -> None:
        self.files: list[str] = []

    def cite(self, reference: str | None, lang: str) -> str:
        return self.mark(*_cite_parts(reference, lang))

    def mark(self, text_: str, notes: list[str]) -> str:
        """``text_`` with the footnote numbers of ``notes`` (numbered in order of first citation)."""
        marks = []
        for note in notes:
            if note not in self.files:
                self.files.append(note)
            marks.append(_SUPERSCRIPT(self.files.index(note) + 1))
        return text_ + (" " + ",".join(marks) if marks else "")


def _cite_parts(reference: str | None, lang: str) -> tuple[str, list[str]]:
    """(citation text for a table cell, footnote texts ``<human citation> — <file reference>``)."""
    from .formatting import citations, human_reference

    text_, _files = human_reference(reference, lang, short=True)
    return text_, [f"{human} — {f}" for human, f in citations(reference, short=True, lang=lang)]


def _SUPERSCRIPT(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def assumptions_table(case: Case, lang: str = "nl", *, cells: dict | None = None):
    """Every assumption in words, with its value in the units people use, its date and a human citation.

    The file references (``<seed file>:<line>``) are numbered footnotes in ``table.attrs["footnotes"]``
    (show them with :func:`footnotes_markdown`). ``cells``: a dict the caller keeps between calls (the
    interactive view, one per view) in which the words of each row are kept, so that a slider move only
    words the rows it changed; the table is the same with or without it.
    """
    import pandas as pd

    from .formatting import unit_label

    notes = _Footnotes()
    t = case.assumptions_table()
    cols = [label("parameters", lang), label("value", lang), label("unit", lang), text("date_col", lang),
            label("reference", lang)]
    rows = []
    for r in t.itertuples():
        key = (r.parameter, r.value, r.unit, r.date, r.reference, lang)
        try:
            words = None if cells is None else cells.get(key)
        except TypeError:            # a value that cannot be a dict key: worded each time
            key, words = None, None
        if words is None:
            words = (param_label(r.parameter, lang), param_value(r.parameter, r.value, lang),
                     unit_label(r.unit, lang), date_words(r.date, lang), _cite_parts(r.reference, lang))
            if cells is not None and key is not None:
                cells[key] = words
        rows.append(words[:4] + (notes.mark(*words[4]),))
    out = pd.DataFrame(rows, columns=cols).set_index(cols[0])
    out.attrs["footnotes"] = notes.files
    return out


def readings_table(case: Case, lang: str = "nl"):
    """The reading chosen where the source is ambiguous, in the report language, with its source."""
    import pandas as pd

    from .readings import mark

    notes = _Footnotes()
    cols = [text(k, lang) for k in ("reading_topic", "reading_choice", "reading_why")] + [label("reference", lang)]
    rows = []
    for r in case.readings:
        nl = lang == "nl"
        topic = (getattr(r, "topic_nl", None) or r.topic) if nl else r.topic
        choice = (getattr(r, "choice_nl", None) or r.choice) if nl else r.choice
        choice = (f"{m}. " if (m := mark(case, r, lang)) else "") + choice
        why = (getattr(r, "why_nl", None) or r.why) if nl else r.why
        ref = " ".join(x for x in (r.reference, r.why) if x)
        cite = notes.cite(ref, lang) if "txt" in ref else ""
        cite = cite.split("; ", 1)[1] if cite.startswith(("bron; ", "source; ")) else cite
        rows.append(dict(zip(cols, (topic, choice, why, cite))))
    out = pd.DataFrame(rows, columns=cols)
    out.index = pd.RangeIndex(1, len(out) + 1)
    out.attrs["footnotes"] = notes.files
    return out


# ------------------------------------------------------------------ figures
#: size of the single-axes charts in inches (assumption: the size these charts have had since the first
#: reports; at the live view's 100 dpi it is 800 x 360 px, which JupyterLab shows unscaled in a window of
#: 1400 px, the browser test's)
CHART_FIGSIZE = (8, 3.6)


def _ax(lang: str, figsize=CHART_FIGSIZE):
    """A report chart's figure and axes, numbers on its axes written in ``lang`` (:func:`mkba.reporting.localise_axes`)."""
    import matplotlib.pyplot as plt

    from .reporting import localise_axes

    fig, ax = plt.subplots(figsize=figsize)
    localise_axes(fig, lang)
    return fig, ax


#: zlib level of the live chart's PNG (assumption: the chart is opaque, so RGB; at level 1 its 800 x 360 px
#: encode in ~5,3 ms to ~30 kB against ~7,6 ms and ~27 kB at PIL's default 6, and ~10 ms and ~30 kB for the
#: RGBA PNG at 6 that savefig gave before (one loaded 2-core machine); a few kB more over the kernel's local
#: websocket cost less than the time saved, and PNG is lossless at any level)
LIVE_PNG_COMPRESS_LEVEL = 1


class CashChart:
    """The cumulative net cash chart, drawn once and updated in place (:meth:`update`).

    Reports draw a new one per report (:func:`cumulative_cash_figure`, a pyplot figure the inline
    backend shows); the interactive view keeps one (``live=True``: its own Agg canvas, no pyplot)
    and only moves its line, break-even marker and axis limits on a slider move, laying the figure
    out again only when the tick labels change width. :meth:`png` draws the parts that do not move
    with a slider (background, title, x axis) once and only the rest on each move.
    """

    def __init__(self, lang: str = "nl", *, live: bool = False):
        from .reporting import eur_axis

        self.lang = lang
        if live:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure

            from .reporting import localise_axes

            self.fig = Figure(figsize=CHART_FIGSIZE)
            FigureCanvasAgg(self.fig)
            ax = self.fig.add_subplot()
            localise_axes(self.fig, lang)
        else:
            self.fig, ax = _ax(lang)
        self.ax = ax
        (self.line,) = ax.plot([], [], color="#1f5f8b", lw=2)
        ax.axhline(0, color="grey", lw=0.8)
        self.be_line = ax.axvline(0, color="#c0392b", ls="--", lw=1, visible=False)
        self.be_text = ax.annotate("", (0, 0), xytext=(5, 10), textcoords="offset points", color="#c0392b",
                                   visible=False)
        ax.set_title(text("cumulative_cash", lang))
        ax.set_xlabel(text("month_axis", lang))
        eur_axis(ax, lang)
        self._layout_key = None
        self._background = None     # (key, pixels of the parts that do not move), see png()
        sp = self.fig.subplotpars
        self._start_pars = {k: getattr(sp, k) for k in ("left", "right", "bottom", "top", "wspace", "hspace")}

    def restart(self) -> "CashChart":
        """Back to the layout of a new chart, so that the next :meth:`update` draws what a new chart
        would (tests/test_figures_fit.py: a restarted chart's PNG equals a new one's, byte for byte)."""
        self.fig.subplots_adjust(**self._start_pars)   # tight_layout's result depends on where it starts
        self._layout_key = None
        return self

    def update(self, case: Case, res: dict) -> "CashChart":
        from .metrics import cumsum_months

        net, _cost = res["ledger"].view(case.perspective)
        cum = cumsum_months(net)[:, 0]
        ax = self.ax
        ax.set_title(figure_title(case, text("cumulative_cash", self.lang), self.lang))
        self.line.set_data(np.arange(1, case.months + 1), cum)
        be = res["metrics"]["break_even_month"]
        shown = be is not None and not math.isnan(be)
        self.be_line.set_visible(shown)
        self.be_text.set_visible(shown)
        if shown:
            self.be_line.set_xdata([be, be])
            self.be_text.xy = (be, 0)
            self.be_text.set_text(text("break_even_at", self.lang, m=int(be)))
        ax.relim(visible_only=True)
        ax.autoscale_view()
        ticks = ax.yaxis.get_major_locator()()
        fmt = ax.yaxis.get_major_formatter()
        key = (max((len(fmt(t)) for t in ticks), default=0), shown)
        if key != self._layout_key:     # tick labels of another width: lay the figure out again
            _tight_layout(self.fig)
            self._layout_key = key
        return self

    def _fixed(self) -> list:
        """The artists that no slider moves: the figure and axes background, the titles and the x axis
        (the months of the case). Everything else (y axis and grid, lines, marker, spines) is redrawn."""
        ax = self.ax
        return [ax.patch, ax.xaxis, *self._titles()]

    def _titles(self) -> list:
        """The axes' title texts (centre, left, right; the last two are private to matplotlib: if a
        version lacks them they are redrawn with the moving parts, slower but never stale)."""
        ax = self.ax
        return [ax.title] + [getattr(ax, n) for n in ("_left_title", "_right_title") if hasattr(ax, n)]

    def _fixed_key(self) -> tuple:
        """What the fixed artists' pixels depend on; another key draws them again."""
        ax = self.ax
        return (tuple(t.get_text() for t in self._titles()), ax.get_xlabel(),
                ax.get_xlim(), ax.get_position().bounds, self.fig.dpi, self.fig.canvas.get_width_height(),
                tuple(self.fig.get_facecolor()), tuple(ax.get_facecolor()))

    def png(self, dpi: int = 100) -> bytes:
        """The chart as PNG bytes at ``dpi`` (a ``live=True`` chart: the fixed parts drawn once, see
        :meth:`_fixed`; the pixels equal a full draw of the figure, tests/test_live_view.py)."""
        import io

        buf = io.BytesIO()
        canvas = self.fig.canvas
        if not hasattr(canvas, "copy_from_bbox"):   # a report figure: the usual full draw
            self.fig.savefig(buf, format="png", dpi=dpi, pil_kwargs={"compress_level": LIVE_PNG_COMPRESS_LEVEL})
            return buf.getvalue()
        from PIL import Image

        if self.fig.dpi != dpi:
            self.fig.set_dpi(dpi)
        fixed = self._fixed()
        ax = self.ax
        key = self._fixed_key()
        if self._background is None or self._background[0] != key:
            moving = [a for a in ax.get_children() if a not in fixed]
            shown = [a.get_visible() for a in moving]
            for a in moving:
                a.set_visible(False)
            try:
                canvas.draw()
            finally:
                for a, v in zip(moving, shown):
                    a.set_visible(v)
            self._background = (key, canvas.copy_from_bbox(self.fig.bbox))
        else:
            canvas.restore_region(self._background[1])
        # the rest in the order Axes.draw uses (by zorder, stable)
        for a in sorted((a for a in ax.get_children() if a not in fixed and a.get_visible()),
                        key=lambda a: a.get_zorder()):
            ax.draw_artist(a)
        w, h = canvas.get_width_height(physical=True)
        img = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        if self.fig.get_facecolor()[3] == 1:        # opaque (the report style's white): no alpha to send
            img = img.convert("RGB")
        img.save(buf, format="png", compress_level=LIVE_PNG_COMPRESS_LEVEL)
        return buf.getvalue()


def cumulative_cash_figure(case: Case, res: dict, lang: str = "nl"):
    """The cumulative net cash chart as a new pyplot figure (shown by the inline backend at the end
    of the cell unless closed)."""
    return CashChart(lang).update(case, res).fig


#: charts a municipal batch made in the fork server (:func:`rehearse_municipal`), lang -> CashChart;
#: each forked kernel takes its copy once (:func:`report_cash_figure`)
_PREPARED_CHARTS: dict = {}


def report_cash_figure(case: Case, res: dict, lang: str = "nl"):
    """The cumulative net cash chart for a report that displays (and closes) the figure itself.

    In a municipal batch it is the chart the fork server made and drew once before forking: its
    fonts, ticks and canvas are there already, so a report only updates and draws it (55 ms against
    82 ms for a new chart at 100 dpi, measured in-process 2026-12-02 on 79 municipal charts). The
    chart is restarted (:meth:`CashChart.restart`), so the figure equals :func:`cumulative_cash_figure`'s pixel for
    pixel; it is not a pyplot figure, so it is only shown where the notebook displays it.
    """
    chart = _PREPARED_CHARTS.pop(lang, None)
    if chart is None:
        return cumulative_cash_figure(case, res, lang)
    return chart.restart().update(case, res).fig


def figure_title(case: Case, title: str, lang: str = "nl", *, perspective: bool = True,
                 scenario: str | None = None) -> str:
    """A chart title with, on a second line, the perspective and the cycle scenario its figures are in."""
    scen = _scenario_words(case, scenario, lang)
    return text("figure_context", lang, title=title, persp=_perspective_words(case, lang), scenario=scen) \
        if perspective else text("figure_context_scenario", lang, title=title, scenario=scen)


def table_context(case: Case, lang: str = "nl", *, perspective: bool = True, scenario: str | None = None):
    """The line under a table naming the perspective and the cycle scenario its figures are in."""
    from IPython.display import Markdown

    scen = _scenario_words(case, scenario, lang)
    words = (text("table_context", lang, persp=_perspective_words(case, lang), scenario=scen) if perspective
             else text("table_context_scenario", lang, scenario=scen))
    return Markdown(f"*{words}*")


def caseload_figure(case: Case, res: dict, lang: str = "nl"):
    t = res["table"]
    fig, ax = _ax(lang)
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
    ax.set_title(figure_title(case, text("caseload_persons", lang), lang, perspective=False))
    ax.set_xlabel(text("month_axis", lang))
    ax.set_ylabel(text("persons_and_equivalents", lang))
    ax.legend(frameon=False)
    _tight_layout(fig)
    return fig


def tornado(case: Case, lang: str = "nl", metric: str = "npv_eur", top: int = 12):
    """One-way sensitivity (table and figure) over every numeric assumption."""
    from functools import partial

    from . import plots
    from .model import evaluate_batch
    from .reporting import localise_axes
    from .sensitivity import case_one_way

    table = case_one_way(case, metrics=(metric,))  # documented ranges only; not_varied in table.attrs
    names = {k: param_label(k, lang) for k in set(table["parameter"])}
    fig = plots.tornado(table, metric, top=top, labels={**names, metric: label(metric, lang)}, lang=lang)
    localise_axes(fig, lang)
    import matplotlib

    # over the whole figure, from its left edge: over the bars only (right of the long parameter
    # names) the two title lines did not fit
    fig.axes[0].set_title("")
    fig.suptitle(figure_title(case, text("tornado", lang) if metric == "npv_eur" else label(metric, lang), lang),
                 x=0.01, ha="left", fontsize=matplotlib.rcParams["axes.titlesize"],
                 fontweight=matplotlib.rcParams["axes.titleweight"])
    return table, fig


def scenarios_view(case: Case, lang: str = "nl"):
    from .scenarios import replay_table, scenario_table

    scen = scenario_table(case)
    shown = scen[["scenario", "years", "multiplier", "extra_ended_benefits", "net_result_eur", "npv_eur",
                  "break_even_month"]].set_index("scenario")
    table = _translate_columns(format_table(shown, lang, formats={"years": "text", "multiplier": "ratio"}), lang)
    replay = replay_table(case)
    fig, ax = _ax(lang)
    ax.bar(replay["start_year"], replay["npv_eur"], color=np.where(replay["npv_eur"] >= 0, "#1f5f8b", "#c0392b"))
    ax.set_title(text("replay", lang))
    ax.set_xlabel(text("start_year", lang))
    from .reporting import eur_axis, year_axis

    eur_axis(ax, lang)
    year_axis(ax)
    _tight_layout(fig)
    return table, scen, replay, fig


def case_distributions(case: Case, selection: Any = None) -> dict:
    """Triangular distributions (low, case value, high) for every assumption with a range in the data
    (``selection``: the case's :func:`mkba.sensitivity.case_selection`, if already made)."""
    from .distributions import Dist

    from .sensitivity import case_selection

    sel = case_selection(case) if selection is None else selection
    return {k: Dist("triangular", low=lo, mode=case.value(k), high=hi, name=k)
            for k, (lo, hi, _why) in sel.ranges.items()}


def probabilistic_view(case: Case, n: int = 10_000, seed: int = 20191, lang: str = "nl", figure: bool = True):
    from functools import partial

    from .model import evaluate_batch
    from .sensitivity import probabilistic

    import pandas as pd

    shared = _MUNICIPAL_DRAWS.get((id(case), int(n), repr(seed)))
    if shared is not None and shared[0] is case:     # this case's draws, run in the batch's one model call
        res = shared[1].summary(shared[2])
    else:
        res = probabilistic(partial(evaluate_batch, case), case.values, case_distributions(case), n=n, seed=seed)
    rows = []
    for metric in ("npv_eur", "net_result_eur", "break_even_month"):
        v = res.values[metric]
        finite = v[np.isfinite(v)]
        q = np.percentile(finite, [5, 50, 95]) if finite.size else [np.nan] * 3
        rows.append({text("metric", lang): label(metric, lang), text("mean", lang): format_metric(metric, finite.mean() if finite.size else np.nan, lang),
                     text("p5", lang): format_metric(metric, q[0], lang), text("p50", lang): format_metric(metric, q[1], lang),
                     text("p95", lang): format_metric(metric, q[2], lang)})
    res.table = pd.DataFrame(rows).set_index(text("metric", lang))
    res.chances = pd.Series({text("p_positive", lang, p="").rstrip(": "): pct(res.p_positive, lang),
                             **{text("p_break_even_within", lang, n=k): pct(p, lang) for k, p in res.p_break_even.items()
                                if k <= case.months}},         # a chance beyond the horizon is not known
                            name=label("value", lang)).to_frame()
    if not figure:  # municipal reports: the chances table only
        return res, None
    fig, ax = _ax(lang)
    ax.hist(res.npv, bins=50, color="#1f5f8b")
    ax.axvline(0, color="#c0392b", lw=1)
    ax.set_title(text("p_positive", lang, p=pct(res.p_positive, lang)))
    from .reporting import eur_axis

    eur_axis(ax, lang, axis="x")
    _tight_layout(fig)
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


def compare_view(lang: str = "nl") -> dict:
    """All cases side by side on the common footing, one table per perspective (``{perspective: table}``),
    each with one column per case (fits a page's width)."""
    from .compare import compare_cases

    df = compare_cases()
    if "case_perspective" in df.columns:          # one block per perspective (mkba.compare)
        return {p: _compare_block(df[df["perspective"] == p], lang) for p in dict.fromkeys(df["perspective"])}
    return {"": _compare_block(df, lang)}


def _compare_block(df, lang: str):
    titles = [case_title(load_case(n), lang) for n in df["case"]]
    df = df.assign(title=titles).set_index("title").drop(columns=[c for c in ("case", "perspective", "case_perspective",
                                                                              "price_year", "case_price_year")
                                                                    if c in df.columns])
    out = format_table(df, lang).T
    out.index = [label(i, lang, default=text(i, lang, default=i)) if isinstance(i, str) else i for i in out.index]
    out.index.name = text("metric", lang)
    out.columns.name = None
    return out


def compare_answer(lang: str = "nl", n_draws: int = 1000, seed: int = 20191) -> str:
    """The comparison report's opening: the question, then one block per perspective with a line per case."""
    from functools import partial

    from .compare import (COMPARE_DISCOUNT_RATE, COMPARE_HORIZON_MONTHS, approaches, comparison_price_year,
                          on_footing)
    from .model import evaluate_batch, summarise
    from .sensitivity import probabilistic

    blocks = {"municipality": [], "society": []}
    displaced = []                 # the approaches that book displaced regular work
    for name in approaches():
        own = load_case(name)
        c = on_footing(own)
        res = summarise(c)
        figs = perspective_figures(c, res)
        sure = ""
        dists = case_distributions(c)
        if dists and n_draws:
            pr = probabilistic(partial(evaluate_batch, c), c.values, dists, n=n_draws, seed=seed,
                               metrics=("npv_eur", "break_even_month", "municipal_npv_eur", "societal_npv_eur"))
            sure = {p: text("compare_sure", lang, p=pct(float(np.mean(np.asarray(pr.values[k]) > 0)), lang, 0))
                    for p, k in (("municipality", "municipal_npv_eur"), ("society", "societal_npv_eur"))}
        title = text("compare_title_runs", lang, title=safe_md(case_title(c, lang)), m=int(c.value("programme.months")),
                     py=own.price_year)
        if c.value("secondment.share") > 0 and c.value("secondment.displacement_share") > 0:
            displaced.append(text("compare_displaced_case", lang, title=safe_md(case_title(c, lang)),
                                  pct=pct(c.value("secondment.displacement_share"), lang, 0)))
        for persp in blocks:
            f = figs[persp]
            blocks[persp].append(text("compare_line", lang, title=title, net=eur(f["net_result_eur"], lang),
                                      npv=eur(f["npv_eur"], lang), bcr=_ratio(f["bcr"], lang),
                                      be=_be_words(f["break_even_month"], lang))
                                 + (sure.get(persp, "") if isinstance(sure, dict) else ""))
    out = [text("compare_question", lang, years=COMPARE_HORIZON_MONTHS // 12, rate=rate_text(COMPARE_DISCOUNT_RATE, lang),
                py=comparison_price_year())]
    for persp, key in (("municipality", "compare_muni"), ("society", "compare_soc")):
        out.append(text(key, lang) + "\n\n" + "\n".join(f"- {line}" for line in blocks[persp]))
    out.append(text("compare_why", lang))
    if displaced:
        out.append(text("compare_displacement", lang, cases=_join(displaced, lang)))
    return keep_amounts_together("\n\n".join(out))




def unit_value_view(lang: str = "nl"):
    from .compare import unit_value_reconciliation

    df = unit_value_reconciliation()
    notes = _Footnotes()
    df = df.assign(source=[text(v, lang, default=v) for v in df["source"]],
                   reference=[notes.cite(r, lang) for r in df["reference"]],
                   why_col=[text(k, lang) for k in df["why"]])
    df = df.set_index("source")[["published_eur", "model_eur", "benefit_years", "why_col", "reference"]]
    out = format_table(df, lang, formats={"benefit_years": "ratio", "reference": "text", "why_col": "text"})
    out = _translate_columns(out, lang)
    out.index.name = text("uv_row", lang)
    out.attrs["footnotes"] = notes.files
    return out


def two_way_figures(case: Case, points: int = 21, lang: str = "nl"):
    """Heatmaps of NPV: baseline outflow x economic cycle, and effect size x programme cost."""
    from functools import partial

    from . import plots
    from .model import evaluate_batch
    from .reporting import localise_axes
    from .sensitivity import two_way

    model = partial(evaluate_batch, case)
    effect = "effect.work_exit_added" if case.value("effect.work_exit_added") else (
        "effect.stock_share" if case.value("effect.stock_share") else "effect.work_exit_added")
    cost = "programme.cost_per_fte_year" if case.value("programme.staff_fte") else "programme.other_cost_per_month"
    from .schema import SCHEMA

    # up to twice the case's effect, but never past the parameter's valid range (a stock share of 1
    # would ask for 2: sensitivity.two_way then drops those points with a warning printed in the report)
    effect_top = min(max(2 * case.value(effect), 0.1), SCHEMA[effect].maximum)
    grids = [(("baseline.work_exit_rate", np.linspace(0.02, 0.15, points)), ("cycle.multiplier", np.linspace(0.5, 1.4, points))),
             ((effect, np.linspace(0.0, effect_top, points)),
              (cost, np.linspace(0.5 * max(case.value(cost), 1.0), 1.5 * max(case.value(cost), 1.0), points)))]
    figs = []
    for x, y in grids:
        res = two_way(model, case.values, x, y, metrics=("npv_eur", "break_even_month"))
        names = {"npv_eur": label("npv_eur", lang), "break_even_month": label("break_even_month", lang),
                 **{k: text(k, lang) if has_message("text", k, (lang,)) else param_label(k, lang, with_unit=True)
                    for k in (res.x_name, res.y_name)}}
        for metric in ("npv_eur", "break_even_month"):
            figs.append(localise_axes(plots.heatmap(res, metric, labels=names, lang=lang), lang))
    return figs


def variant_of(case: Case, name: str) -> Case:
    """The case read the other way its variant ``name`` says, on top of everything else this case
    assumes (a report's scenario and overrides): what the answer and the variants table both show."""
    v = case.variants[name]
    return case.with_overrides(v.overrides, source=f"{case.source_file or case.name}#variants.{name}", dated=True)


def variants_table(case: Case, lang: str = "nl"):
    """Headline metrics of the case and each named variant (the source's other readings)."""
    import pandas as pd

    from .model import summarise

    rows = [(text("as_published", lang), case)]
    rows += [((v.title_nl or v.title) if lang == "nl" else v.title, variant_of(case, k)) for k, v in case.variants.items()]
    out, no_cost = [], []
    for title, c in rows:
        m = summarise(c)["metrics"]
        out.append({text("variant", lang): title, **{k: m[k] for k in ("extra_ended_benefits", "gross_saving_eur",
                                                                     "programme_cost_eur", "net_result_eur", "npv_eur",
                                                                     "break_even_month")}})
        no_cost.append(_nothing_to_earn_back(m))
    df = pd.DataFrame(out).set_index(text("variant", lang))
    table = format_table(df, lang)
    be = list(df.columns).index("break_even_month")
    for i, free in enumerate(no_cost):                       # the same no-cost rule as the key figures
        if free:
            table.iloc[i, be] = text("no_cost_short", lang)
    return table


def family_view(case: Case, lang: str = "nl"):
    """For a secondment case: the (hours, pool, overhead) combinations that meet its published figures as
    well as the chosen one: the identification of its ``calibration:`` section (:func:`mkba.fitting.identify`,
    what `mkba calibrate` prints and the answer's "equally good calibrations" sums up)."""
    import pandas as pd

    pub = {p.metric: p for p in case.published}
    ident = identification(case)
    fam = ident.sets.rename(columns={"secondment.hours_per_month": "hours_per_month", "cohort.initial_participants": "pool",
                                     "secondment.overhead_per_month": "overhead_per_month",
                                     "secondment_break_even_month": "break_even_month"}).reset_index(drop=True)
    note = text("family_note", lang, n=number(len(fam), lang), grid=number(ident.n_grid, lang),
                be=int(pub["secondment_break_even_month"].value),
                plus=eur(pub["secondment_surplus_after_benefit_year1_eur"].value, lang),
                h=number(case.value("secondment.hours_per_month"), lang),
                pool=number(case.value("cohort.initial_participants"), lang),
                c=eur(case.value("secondment.overhead_per_month"), lang))
    shown = fam[["hours_per_month", "pool", "overhead_per_month", "break_even_month"]]
    shown.index = pd.Index(range(1, len(shown) + 1), name=text("combination", lang))
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
    from .reporting import eur_axis, localise_axes, pct_axis

    fig = plots.acceptability_curve(curve, cost_label=text("extra_cost_per_participant", lang))
    fig.axes[0].set_title(text("acceptability", lang))
    fig.axes[0].set_ylabel(text("p_pays_off", lang))
    eur_axis(fig.axes[0], lang, axis="x")
    pct_axis(fig.axes[0], lang)
    localise_axes(fig, lang)
    return curve, fig



def sobol_view(case: Case, n: int = 256, seed: int = 20191, lang: str = "nl", top: int = 12):
    """Sobol indices of the NPV as a table in words (parameter labels, indices with their confidence,
    the range varied). SALib's warnings about unstable indices become one sentence in the report
    language in ``table.attrs["note"]`` instead of a Python warning printed in the report."""
    import warnings
    from functools import partial

    import pandas as pd

    from .model import evaluate_batch
    from .sensitivity import UnstableIndicesWarning, case_selection, sobol

    ranges = case_selection(case).ranges
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnstableIndicesWarning)
        raw = sobol(partial(evaluate_batch, case), case.values, ranges, N=n, seed=seed, parameters=list(ranges))
    raw = raw.head(top)
    rows = [{text("sobol_parameter", lang): param_label(k, lang),
             text("sobol_s1", lang): f"{number(r.S1, lang, 2)} ± {number(r.S1_conf, lang, 2)}",
             text("sobol_st", lang): f"{number(r.ST, lang, 2)} ± {number(r.ST_conf, lang, 2)}",
             text("sobol_range", lang): f"{param_value(k, r.low, lang)} – {param_value(k, r.high, lang)}"}
            for k, r in raw.iterrows()]
    table = pd.DataFrame(rows).set_index(text("sobol_parameter", lang))
    wide = raw.index[(raw[["S1_conf", "ST_conf"]].max(axis=1) > 0.1)].tolist()
    unstable = any(issubclass(w.category, UnstableIndicesWarning) for w in caught)
    table.attrs["raw"] = raw
    table.attrs["note"] = (text("sobol_unstable", lang, n=raw.attrs.get("N", n),
                                params=_join([param_label(k, lang) for k in wide], lang) or "–")
                           if unstable or wide else text("sobol_stable", lang, n=raw.attrs.get("N", n)))
    return table


# ------------------------------------------------------------------ municipal reports
#: municipal reports: figures drawn once (no second tight-bbox pass) at this resolution
#: (assumption: 100 dpi PNG is sharp on screen for 7-inch figures and a third of 150 dpi's pixels)
MUNICIPAL_FIGURE_DPI = 100
#: how a municipal report embeds its chart: SVG (text stays text, sharp at any zoom and in print). The
#: cumulative cash chart of 40 municipalities, updated and saved in-process (2026-12-03): SVG 25 ms and
#: 13 KB against 57 ms and 46 KB (61 KB as base64 in the page) for a 100 dpi PNG
MUNICIPAL_FIGURE_FORMAT = "svg"


def setup_municipal(lang: str = "nl") -> None:
    """Defaults for municipal reports (342 per batch): :func:`setup` (figures drawn once), figures as
    :data:`MUNICIPAL_FIGURE_FORMAT` (and PNGs at :data:`MUNICIPAL_FIGURE_DPI`)."""
    setup(lang, figure_format=MUNICIPAL_FIGURE_FORMAT)
    from .reporting import in_kernel

    if in_kernel():
        import matplotlib

        matplotlib.rcParams["savefig.dpi"] = MUNICIPAL_FIGURE_DPI


#: what a municipal batch computed once (:func:`warm_municipal`, in the fork server, inherited by every
#: forked report kernel): (gm_code, approach, share, scenario) -> (case, facts), and
#: (id(case), n, seed) -> (case, ProbDesign, metric values). Empty in a report rendered alone.
_MUNICIPAL_CASES: dict = {}
#: scenarios per kernel chunk in the batch's draws call (assumption: 8.192 ran 1,2-1,7x faster than the
#: model's 65.536 default for 198.000 municipal draws, measured 2026-12-02 at load 3,7 with
#: benchmarks/bench_municipal.py; smaller arrays stay in cache)
MUNICIPAL_DRAWS_CHUNK = 8192
_MUNICIPAL_DRAWS: dict = {}


def warm_municipal(approach: str, share_reached: float, lang: str = "nl", n_draws: int | None = None,
                   seed: Any = 20191, scenario: str = "", gm_codes: list[str] | None = None, *,
                   prepared: dict | None = None) -> None:
    """What every municipal report of a batch shares, computed once (in the fork server, before forking).

    * the model for all municipalities x cycle scenarios (:func:`mkba.local.share_municipal_batch`),
      which each report's scenario and peer tables read;
    * every municipality's (of ``gm_codes``, default all) local case (:func:`municipality_case`) and
      its ``n_draws`` probabilistic draws, all in one compiled model call (:func:`share_municipal_draws`);
    * one rehearsal of a report (:func:`rehearse_municipal`), so that every forked kernel inherits
      warm caches (matplotlib, pandas, babel) instead of filling them itself.

    The first two are :func:`prepare_municipal` (``warm_municipal.prepare``): the fork server runs
    them in a helper process while it imports the kernel's modules and passes their result as
    ``prepared`` (:func:`mkba.kernels.run_warm_call`); without it they run here.

    A report finds its shared results only when it asks for exactly the same computation (the
    same case object, ``n`` and ``seed``); otherwise, and when rendered alone, it computes them
    itself, with the same result (test_every_municipal_report_equals_a_solo_render).
    """
    if prepared is None:
        prepare_municipal(approach, share_reached, lang, n_draws, seed, scenario, gm_codes)
    else:
        install_municipal_state(prepared)
    rehearse_municipal(approach, share_reached, lang, int(n_draws or 100), seed, scenario, gm_codes)


def prepare_municipal(approach: str, share_reached: float, lang: str = "nl", n_draws: int | None = None,
                      seed: Any = 20191, scenario: str = "", gm_codes: list[str] | None = None) -> dict:
    """The model work of :func:`warm_municipal` (its arguments), returned as :func:`municipal_state`."""
    from .local import share_municipal_batch

    share_municipal_batch(load_case(approach), share_reached)
    if n_draws:
        share_municipal_draws(approach, share_reached, int(n_draws), seed, scenario, gm_codes)
    return municipal_state()


warm_municipal.prepare = prepare_municipal   # type: ignore[attr-defined]


def municipal_state() -> dict:
    """The batch's shared results in this process, picklable: local cases, draws, municipal tables.
    One object, so that pickling keeps a draw's case the very case :func:`municipality_case` returns."""
    from . import local

    cases = {id(c): c for c, _facts in _MUNICIPAL_CASES.values() if c is not None}
    other = [(cases[key], entry[1][0], entry[2]) for key, entry in _OTHER_PERSPECTIVE.items() if key in cases]
    return {"cases": dict(_MUNICIPAL_CASES), "tables": dict(local._SHARED_TABLES),
            "draws": [(key[1:], value) for key, value in _MUNICIPAL_DRAWS.items()], "other": other}


def install_municipal_state(state: dict) -> None:
    """Make ``state`` (:func:`municipal_state`, maybe from another process) this process's shared
    results. The draws are found by their case object's identity, so their keys are made anew."""
    from . import local

    _MUNICIPAL_CASES.update(state["cases"])
    local._SHARED_TABLES.update(state["tables"])
    for (n, seed), (case, design, values) in state["draws"]:
        _MUNICIPAL_DRAWS[(id(case), n, seed)] = (case, design, values)
    for case, persp, figures in state.get("other", ()):
        _per_case(_OTHER_PERSPECTIVE, case, persp, lambda figures=figures: figures)


def share_municipal_draws(approach: str, share_reached: float, n_draws: int, seed: Any = 20191,
                          scenario: str = "", gm_codes: list[str] | None = None) -> int:
    """Every municipality's probabilistic draws in one compiled :func:`mkba.model.evaluate_batch` call.

    For each municipality with a caseload: its local case (kept for :func:`municipality_case`), its
    distributions (:func:`case_distributions`; the probes that choose them, of all municipalities, in
    one batch: :func:`mkba.sensitivity.case_selections`) and seeded draws
    (:func:`mkba.sensitivity.probabilistic_design`, the same as :func:`probabilistic_view` makes).
    The draws of all municipalities are stacked into one batch (only the parameters that differ
    somewhere are passed as arrays; the others are equal everywhere and keep the case value); the
    batch model is element-wise per row, so each block equals the municipality's own run. Returns
    the number of rows evaluated.
    """
    from .model import evaluate_batch
    from .municipalities import load_municipalities
    from .sensitivity import case_selections, probabilistic_design

    local = {}
    for gm in (load_municipalities()["gm_code"] if gm_codes is None else gm_codes):
        c, _facts = municipality_case(gm, approach, share_reached, scenario, keep=True)
        if c is not None:
            local[gm] = c
    selections = case_selections(list(local.values()))   # every municipality's probe in one batch
    designs = {gm: (c, probabilistic_design(c.values, case_distributions(c, sel), n_draws, seed))
               for (gm, c), sel in zip(local.items(), selections)}
    if not designs:
        return 0
    chunks = {gm: d.samples.chunk(0, d.samples.n) for gm, (_c, d) in designs.items()}
    first = next(iter(chunks.values()))
    names = set().union(*chunks.values())
    if any(set(ch) != names for ch in chunks.values()):   # not one parameter list: no shared batch
        return 0
    varying = [k for k in first if any(not np.array_equal(ch[k], first[k]) for ch in chunks.values())
               or np.ptp(first[k]) > 0]
    c0 = next(iter(designs.values()))[0]
    stacked = {k: np.concatenate([ch[k] for ch in chunks.values()]) for k in varying}
    _share_other_perspective([c for c, _d in designs.values()])
    out = evaluate_batch(c0, stacked, chunk_size=MUNICIPAL_DRAWS_CHUNK)   # one compiled call: municipalities x draws
    lo = 0
    for gm, (c, d) in designs.items():
        n = d.samples.n
        _MUNICIPAL_DRAWS[(id(c), n, repr(seed))] = (c, d, {m: out[m][lo:lo + n].copy() for m in d.metrics})
        lo += n
    return lo


def _share_other_perspective(cases: list[Case]) -> None:
    """The headline figures of every municipal case in the perspective it is not published in (the
    answer states both), in one compiled call: a row per case, the parameters that differ between
    the cases passed as arrays (element-wise, so each row equals the case's own run); kept where
    :func:`_other_perspective` finds them."""
    import dataclasses

    from .model import evaluate_batch

    if not cases:
        return
    c0 = cases[0]
    if any(c.perspective != c0.perspective or c.groups or c.months != c0.months for c in cases):
        return                       # not one batch: each report computes its own
    persp = "society" if c0.perspective == "municipality" else "municipality"
    keys = [k for k, v in c0.values.items() if any(c.values[k] != v for c in cases)]
    out = evaluate_batch(dataclasses.replace(c0, perspective=persp),
                         {k: np.array([c.values[k] for c in cases], dtype=float) for k in keys})
    for i, c in enumerate(cases):
        figures = {k: float(np.asarray(v).ravel()[i]) for k, v in out.items()}
        _per_case(_OTHER_PERSPECTIVE, c, persp, lambda figures=figures: figures)


def rehearse_municipal(approach: str, share_reached: float, lang: str = "nl", n_draws: int = 100,
                       seed: Any = 20191, scenario: str = "", gm_codes: list[str] | None = None) -> None:
    """Run the municipal report's views once, outputs rendered as the kernel renders them and thrown
    away (fills the caches that every forked kernel would otherwise fill itself)."""
    import matplotlib.pyplot as plt
    import pandas as pd
    from matplotlib.figure import Figure

    def render(obj):
        if isinstance(obj, pd.DataFrame):
            keep_amounts_together(obj.to_html(notebook=True))
        elif isinstance(obj, Figure):
            from IPython.core.pylabtools import print_figure

            from .reporting import figure_save_options

            # as a municipal report's kernel saves it (setup_municipal): the format, the options, the dpi
            print_figure(obj, MUNICIPAL_FIGURE_FORMAT, bbox_inches=None, base64=True, dpi=MUNICIPAL_FIGURE_DPI,
                         **figure_save_options(MUNICIPAL_FIGURE_FORMAT))
            figure_alt_text(obj, lang)
        elif hasattr(obj, "_repr_html_"):
            obj._repr_html_()
        elif hasattr(obj, "_repr_markdown_"):
            obj._repr_markdown_()

    import os

    import matplotlib

    from .municipalities import load_municipalities

    backend = os.environ.get("MPLBACKEND")   # the kernels' inline backend: setup() outside a kernel picks Agg
    try:
        setup(lang)
        for gm in (gm_codes or load_municipalities()["gm_code"]):
            c, facts = municipality_case(gm, approach, share_reached, scenario)
            if c is not None:
                break
        else:
            return
        render(heading("title_municipality", lang, level=1, approach=load_case(approach).title, name=facts["name"]))
        res = results(c)
        prob, _ = probabilistic_view(c, n_draws, seed, lang, figure=False)
        answer_markdown(c, res, lang, prob=prob, scenario=scenario, source_case=load_case(approach))
        render(local_facts_table(facts, lang))
        render(case_text(data_notes(facts, lang)))
        render(headline_table(c, res, lang))
        figures_note(c, lang, scenario)
        chart = CashChart(lang, live=True).update(c, res)   # drawn once here; each kernel updates its copy
        render(chart.fig)
        _PREPARED_CHARTS[lang] = chart.restart()
        scen_raw, scen_table = municipal_scenarios(approach, facts["gm_code"], share_reached, lang, scenario)
        render(scen_table)
        render(prob.chances)
        probabilistic_note(c, res, prob, lang, scenario)
        peers, _sentence, peer_table = peers_view(approach, facts["gm_code"], share_reached, lang, scenario=scenario)
        render(peer_table)
        render(assumptions_table(c, lang))
        from .reporting import clean_key_figures

        clean_key_figures(key_figures(c, res, gm_code=facts["gm_code"], p_npv_positive=prob.p_positive,
                                      peer_rank=peers.attrs["rank"]))
    finally:
        plt.close("all")
        if backend:
            matplotlib.use(backend)
        try:   # nothing of the rehearsal may be shown by a forked kernel's inline backend
            from matplotlib_inline.backend_inline import show

            show._to_draw, show._draw_called = [], False
        except Exception:
            pass


def municipality_case(gm_code: str, approach: str, share_reached: float, scenario: str = "", *,
                      keep: bool = False):
    """The approach localised to a municipality (mkba.local), optionally under a cycle scenario.

    A municipality whose caseload CBS does not give (or gives as 0) returns ``(None, facts)`` with
    a note saying so: its report shows the figures that exist and no invented results.
    In a municipal batch the answer was computed once before forking (:func:`warm_municipal`,
    ``keep=True``); the same case object is returned (facts copied).
    """
    import copy

    key = (str(gm_code), str(approach), float(share_reached), str(scenario))
    if key in _MUNICIPAL_CASES:
        c, facts = _MUNICIPAL_CASES[key]
        return c, copy.deepcopy(facts)
    c, facts = _municipality_case(gm_code, approach, share_reached, scenario)
    if keep:
        _MUNICIPAL_CASES[key] = (c, copy.deepcopy(facts))
    return c, facts


def _municipality_case(gm_code: str, approach: str, share_reached: float, scenario: str = ""):
    from .errors import InputError
    from .local import localise
    from .municipalities import find_municipality

    try:
        case, facts = localise(load_case(approach), gm_code, share_reached)
    except InputError as exc:
        row = dict(find_municipality(gm_code))       # an unknown municipality still raises here
        row.setdefault("name", gm_code)
        row["data_notes"] = row.get("notes")          # the CBS data's own notes (mkba.notes.Notes)
        row["notes"] = [getattr(exc, "note", None) or exc.problem]    # a Note is worded in the report's language
        row["participants"] = None
        return None, row
    if scenario:
        from .scenarios import scenario_case

        case = scenario_case(case, scenario)
    return case, facts


def cbs_class(row: Mapping[str, Any], kind: str, lang: str = "nl") -> str:
    """A municipality's CBS size class or urbanisation (``kind``: ``size_class`` / ``urbanisation``, 85755NED)
    in the report's words, from its code (the CBS label is Dutch, with '250 000' for 250.000); '–' if none."""
    code = row.get(f"{kind}_code")
    raw = row.get(kind)
    try:
        code = int(code)
    except (TypeError, ValueError):
        return str(raw) if raw else "–"
    return label(f"{kind}_{code}", lang, default=str(raw) if raw else "–")


def local_facts_table(facts: Mapping[str, Any], lang: str = "nl"):
    import pandas as pd

    nat = facts.get("outflow_national_pct") or {}
    # the years the local figure is the mean of (the case's own years that CBS covers, where it gives one),
    # and the national figure of the same years
    years = list(facts.get("outflow_years_used") or []) or sorted(nat)
    in_both = [y for y in years if y in nat]
    nat_mean = float(np.mean([nat[y] for y in in_both])) / 100 if in_both else float("nan")
    if not years:
        years_txt = "–"
    elif years == list(range(years[0], years[-1] + 1)) and len(years) > 1:
        years_txt = f"{years[0]}-{years[-1]}"
    else:
        years_txt = _join([str(y) for y in years], lang)
    local = facts.get("outflow_local_pct")
    rows = [
        ("name", f"{facts['name']} ({facts['gm_code']})"), ("province", facts.get("province") or "–"),
        ("size_class", cbs_class(facts, "size_class", lang)), ("urbanisation", cbs_class(facts, "urbanisation", lang)),
        ("population", number(facts.get("population", facts.get("population_2024")), lang)),
        ("bijstand_2024_algemeen", number(facts.get("bijstand_2024_algemeen"), lang)),
        ("participants_reached", number(facts.get("participants"), lang)),
        ("outflow_local_pct", pct(None if local is None else local / 100, lang)),
        ("outflow_national", pct(nat_mean, lang)),
        ("work_exit_rate", pct(facts.get("work_exit_rate"), lang)),
    ]
    return pd.DataFrame([(text(k, lang, years=years_txt), v) for k, v in rows],
                        columns=["", label("value", lang)]).set_index("")


#: the CBS columns whose data notes a municipal report shows: those it uses (the outflow to work sets the
#: local exit rate; the 2024 caseload has no notes); the persons-with-bijstand counts of 2018-2021 are in
#: the municipalities table but not in the report
REPORT_NOTE_COLUMNS = frozenset({"outflow", "outflow_pct"})


def data_notes(facts: Mapping[str, Any], lang: str = "nl") -> str:
    """The notes on a municipality's data (:mod:`mkba.notes`) that concern what the report shows, one per
    line, in the report's language."""
    from .notes import Notes, words

    cbs = facts.get("data_notes") or Notes()
    if isinstance(cbs, Notes):       # a note about no column (an area's sum) concerns what the report shows
        cbs = Notes(n for n in cbs.items if "column" not in n.fields or n.fields["column"]["kind"] in REPORT_NOTE_COLUMNS)
    notes = words(list(facts.get("notes") or []) + [cbs], lang)
    if not notes:
        return text("no_data_notes", lang)
    return "\n".join(f"- {n}" for n in notes)


def municipal_scenarios(approach: str, gm_code: str, share_reached: float, lang: str = "nl", scenario: str = ""):
    """The municipality under each cycle scenario: ``(raw, table)``; ``table.attrs["note"]`` says which
    perspective the figures take and which scenario the rest of the report uses (``scenario``, "" = as measured)."""
    from .local import evaluate_municipalities, measurement_year

    case = load_case(approach)
    raw = evaluate_municipalities(case, [gm_code], share_reached)
    shown = raw.set_index("scenario")[["cycle_multiplier", "extra_ended_benefits", "net_result_eur", "npv_eur",
                                       "break_even_month"]].rename(columns={"cycle_multiplier": "multiplier"})
    table = _translate_columns(format_table(shown, lang, formats={"multiplier": "ratio"}), lang)
    table.attrs["note"] = text("municipal_scenarios_note", lang, persp=_perspective_words(case, lang),
                               year=measurement_year(case), scenario=_scenario_words(case, scenario, lang))
    return raw, table


def peers_view(approach: str, gm_code: str, share_reached: float, lang: str = "nl", top: int = 15,
               scenario: str = ""):
    """The municipality among its peers, under the same cycle scenario as the report's headline.

    ``scenario`` is the report's scenario ("" = the cycle as measured, as :func:`municipality_case`
    computes the headline without one); the sentence names it and the perspective.
    """
    from .local import compare_with_peers

    case = load_case(approach)
    peers = compare_with_peers(case, gm_code, share_reached, scenario=scenario or "")
    a = peers.attrs
    me = peers[peers["is_self"]].iloc[0]
    rule = text("peer_rule", lang, size_class=cbs_class(me, "size_class", lang),
                urbanisation=cbs_class(me, "urbanisation", lang))
    sentence = text("peer_rank_sentence", lang, rank=a["rank"], size=a["group_size"], rule=rule,
                    persp=_perspective_words(case, lang), scenario=_scenario_words(case, scenario, lang))
    shown = peers.head(top).set_index("name")[["province", "participants", "npv_eur", "npv_per_participant_eur",
                                                "break_even_month"]]
    table = _translate_columns(format_table(shown, lang, formats={"participants": "number", "province": "text"}), lang)
    table.index.name = text("name", lang)
    return peers, sentence, table


def case_title(case: Case, lang: str = "nl") -> str:
    """The case's title in the report language."""
    return (getattr(case, "title_nl", None) or case.title) if lang == "nl" else case.title


def rate_text(rate: float, lang: str = "nl") -> str:
    """A rate with as many decimals as it has (3 % -> ``3 %``, 2,25 % -> ``2,25 %``)."""
    v = round(float(rate) * 100, 6)
    return pct(rate, lang, 0 if v == int(v) else (1 if round(v, 1) == v else 2))


def summary(case: Case, lang: str = "nl") -> str:
    """The case's one-line summary in the report language."""
    return (case.summary_nl or case.summary) if lang == "nl" else case.summary


# ------------------------------------------------------------------ the answer first (issue 12, point 1)


def _get(m: Mapping[str, Any], *keys: str, default: float = float("nan")) -> float:
    """The first of ``keys`` present in metrics ``m`` (metric names differ between model versions)."""
    for k in keys:
        if k in m and m[k] is not None:
            try:
                return float(m[k])
            except (TypeError, ValueError):
                continue
    return default


def perspective_figures(case: Case, res: dict) -> dict[str, dict[str, float]]:
    """Headline figures for both perspectives, ``{"municipality": {...}, "society": {...}}``.

    Each has the kernel's headline metrics (``net_result_eur``, ``npv_eur``, ``bcr``,
    ``break_even_month``, ``programme_cost_eur``, ``gross_saving_eur``, ...) as that perspective
    defines them, plus ``people`` (extra people off benefit). The case's own perspective is read
    from ``res``; the other one is the same case run by the same kernel with only its perspective
    changed (one definition of every metric, break-even included, for both perspectives), run
    once per case object however often a report asks (:func:`_other_perspective`).
    """
    m = res["metrics"]
    out: dict[str, dict[str, float]] = {}
    for persp in ("municipality", "society"):
        if persp == case.perspective:
            out[persp] = {k: float(v) for k, v in m.items() if np.ndim(v) == 0}
        else:
            out[persp] = dict(_other_perspective(case, persp))
    people = _get(m, "extra_people_off_benefit", "extra_ended_benefits")
    for d in out.values():
        d["people"] = people
    return out


#: The other perspective's headline figures per case object: ``id(case) -> (weakref to the case,
#: fingerprint, figures)``. A case report asks for both perspectives three times (the answer, the
#: key-figure table, the key figures emitted at the end); the kernel runs for the other one once.
_OTHER_PERSPECTIVE: dict[int, tuple[Any, tuple[str, str, str], dict[str, float]]] = {}


def _per_case(store: dict, case: Case, tag: Any, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per case object (and ``tag``), kept in ``store``.

    Keyed on the object's identity and checked against its :meth:`~mkba.cases.Case.assumptions_hash`
    (values, convention, perspective, start) and its groups, so a case changed in place is computed
    again; the entry goes when the case object is garbage collected.
    """
    import weakref

    key = id(case)
    fingerprint = (tag, case.assumptions_hash(), repr(case.groups))
    hit = store.get(key)
    if hit is not None and hit[0]() is case and hit[1] == fingerprint:
        return hit[2]
    value = compute()

    def _forget(ref, key=key):
        entry = store.get(key)
        if entry is not None and entry[0] is ref:
            del store[key]

    store[key] = (weakref.ref(case, _forget), fingerprint, value)
    return value


def _other_perspective(case: Case, persp: str) -> dict[str, float]:
    """The kernel's headline metrics of ``case`` seen from ``persp``, computed once per case object."""
    import dataclasses

    from .model import evaluate_batch

    def compute():
        other = evaluate_batch(dataclasses.replace(case, perspective=persp))
        return {k: float(np.asarray(v).ravel()[0]) for k, v in other.items()}

    return _per_case(_OTHER_PERSPECTIVE, case, persp, compute)


#: The identification of a case's calibration per case object (the answer in both languages and the
#: family table read the same one)
_IDENTIFICATION: dict[int, tuple[Any, tuple, Any]] = {}


def identification(case: Case):
    """:func:`mkba.fitting.identify` of the case's ``calibration:`` section, once per case object."""
    from .fitting import identify

    return _per_case(_IDENTIFICATION, case, "identify", lambda: identify(case))


def case_scenario(case: Case) -> str:
    """The cycle scenario a case was put under by :func:`mkba.scenarios.scenario_case` ("" = as measured)."""
    p = case.parameters.get("cycle.multiplier")
    src = str(getattr(p, "source_file", "") or "")
    return src[len("scenario "):] if src.startswith("scenario ") else ""


def _perspective_words(case: Case, lang: str) -> str:
    return text("perspective_word_" + case.perspective, lang)


def _scenario_words(case: Case, scenario: str | None, lang: str) -> str:
    """The scenario in words; ``scenario=None`` reads it from the case (:func:`case_scenario`)."""
    if scenario is None:
        scenario = case_scenario(case)
    if scenario:
        return text("scenario_named", lang, name=label(scenario, lang, default=scenario))
    return text("scenario_measured", lang, year=case.measured_in or case.start_date.year)


def _price_year(case: Case) -> str:
    return str(case.price_year or case.appraisal_date.year)


def _on_programme_jobs(case: Case, res: dict) -> float | None:
    """People of the treatment group on a programme contract when the extra people off benefit are
    counted (they count as off benefit while the contract runs); None without programme contracts."""
    if case.value("jobs.share") <= 0:
        return None
    t = res["table"]
    rows = t[(t["unit"] == "persons") & (t["item"] == "programme_job") & (t["group"] == "treatment")]
    return float(rows.loc[rows["month"] == _counting_month(case) - 1, "nominal"].sum())


def _other_readings(case: Case, lang: str) -> list[str]:
    """What each of the case's named variants (another reading of the source) gives for the headline NPV,
    on top of everything else this report assumes (its scenario and overrides)."""
    from .model import summarise

    out = []
    for k, v in case.variants.items():
        title = (v.title_nl or v.title) if lang == "nl" else v.title
        npv = summarise(variant_of(case, k))["metrics"]["npv_eur"]
        out.append(text("answer_variant_item", lang, title=safe_md(title), npv=eur(npv, lang)))
    return out


def _counting_month(case: Case) -> int:
    """The month (1 = first) in which the extra people off benefit are counted: ``evaluation.month``,
    0 (or past the horizon) meaning its last month, as the kernel reads it."""
    m = int(case.value("evaluation.month") or 0)
    return case.months if m <= 0 or m >= case.months else m


def _counted_when(case: Case, lang: str) -> str:
    """When the extra people off benefit are counted, in words."""
    m = _counting_month(case)
    return text("counted_at_end", lang, m=m) if m == case.months else text("counted_in_month", lang, m=m)


def _be_words(be: float, lang: str) -> str:
    if be is None or not np.isfinite(be):
        return text("be_never", lang)
    return text("be_month", lang, m=int(be))


def _ratio(x: float, lang: str) -> str:
    from .formatting import MISSING

    return number(x, lang, 2) if x is not None and np.isfinite(x) else MISSING[lang]


def _join(items: list[str], lang: str) -> str:
    from .formatting import join_words

    return join_words(items, lang)


def _largest_societal_items(res: dict, lang: str, n: int = 3) -> str:
    from .model import per_actor

    t = per_actor(res["table"])
    tot = t["total"].drop("total", errors="ignore").dropna()
    tot = tot[tot.abs() > 0.5]
    tot = tot.reindex(tot.abs().sort_values(ascending=False).index).head(n)
    return _join([f"{item_label(i, lang)} {eur(v, lang)}" for i, v in tot.items()], lang)


def answer_markdown(case: Case, res: dict, lang: str = "nl", *, prob: Any = None, tornado_table: Any = None,
                    scenario: str | None = None, source_case: Case | None = None) -> str:
    """The opening of a case report, in prose generated from the figures (issue 12, point 1).

    ``source_case``: a municipal report's answer (the approach of ``source_case`` applied locally): the
    question, both perspectives, the people, how sure, and what it rests on; the source's readings,
    variants, calibrations and published figures belong to that case's own report, which it names."""
    figs = perspective_figures(case, res)
    years = case.months / 12
    years_txt = (text("one_year_word", lang) if years == 1
                 else text("years_word", lang, n=number(years, lang, 0 if years == int(years) else 1)))
    paras = [text("question", lang, title=safe_md(case_title(case, lang)), years=years_txt, months=case.months,
                  start=month_label(case.start_date, lang), price_year=_price_year(case),
                  rate=rate_text(case.value("discount.rate"), lang), scenario=_scenario_words(case, scenario, lang))]
    for key, persp in (("muni", "municipality"), ("soc", "society")):
        f = figs[persp]
        be = text("be_no_cost", lang) if _nothing_to_earn_back(f) else _be_words(f.get("break_even_month"), lang)
        paras.append(text(key, lang, net=eur(f.get("net_result_eur"), lang), npv=eur(f.get("npv_eur"), lang),
                          bcr=_ratio(f.get("bcr"), lang), be=be))
    paras.append(text("people", lang, people=number(figs["municipality"]["people"], lang, 1),
                      when=_counted_when(case, lang)))
    jobs = _on_programme_jobs(case, res)
    if jobs is not None:
        paras.append(text("people_on_jobs", lang, j=number(jobs, lang, 1), end=int(case.value("jobs.end_month"))))
        after = _people_after_paid_jobs(case)
        if after is not None:   # fewer off benefit than without the approach is said as such
            key = "people_after_jobs" if after >= 0 else "people_after_jobs_fewer"
            paras.append(text(key, lang, end=int(case.value("jobs.end_month")), p=number(abs(after), lang, 1)))
    if case.readings and source_case is None:
        topics = [text("quoted", lang, q=safe_md((r.topic_nl or r.topic) if lang == "nl" else r.topic))
                  for r in case.readings]
        paras.append(text("answer_readings", lang, n=len(topics), topics="; ".join(topics),
                          section=text("readings", lang)))
    persp = text("perspective_word_" + case.perspective, lang)
    others = _other_readings(case, lang) if source_case is None else []
    if others:
        paras.append(text("answer_variants", lang, persp=persp,
                          npv=eur(res["metrics"]["npv_eur"], lang), items="; ".join(others)))
    items = _largest_societal_items(res, lang)
    retention = pct(case.value("benefit.retention_share"), lang, 0)
    if items:
        paras.append(text("why_differ", lang, retention=retention, items=items))
    else:
        paras.append(text("why_differ_none", lang, retention=retention))
    if prob is not None:
        v = np.asarray(prob.npv, dtype=float)
        v = v[np.isfinite(v)]
        if v.size:
            p5, p95 = np.percentile(v, [5, 95])
            point = float(res["metrics"]["npv_eur"])
            paras.append(text("sure", lang, n=number(v.size, lang), persp=persp, p=pct(prob.p_positive, lang, 0),
                              p5=eur(p5, lang), p95=eur(p95, lang), mean=eur(v.mean(), lang), point=eur(point, lang),
                              why_mean=_why_mean(case, point, float(v.mean()), p5, p95, lang)))
        be = np.asarray((getattr(prob, "values", None) or {}).get("break_even_month", []), dtype=float)
        m = int(case.value("programme.months"))
        if be.size and 0 < m < case.months and not _nothing_to_earn_back(figs[case.perspective]):
            # NaN (never within the horizon) counts as not earned back
            paras.append(text("sure_break_even", lang, m=m, persp=persp, p=pct(float(np.mean(be <= m)), lang, 0)))
    if source_case is not None:
        paras.append(text("answer_local_source", lang, case=safe_md(case_title(source_case, lang))))
        return "\n\n".join(paras)
    fits = fits_sentence(case, lang)
    if fits:
        paras.append(fits)
    if tornado_table is not None and len(tornado_table):
        t = tornado_table[tornado_table["metric"] == "npv_eur"].head(3)
        items = [text("rests_item", lang, label=param_label(r.parameter, lang), lo=param_value(r.parameter, r.low, lang),
                      hi=param_value(r.parameter, r.high, lang), v_lo=eur(r.value_low, lang), v_hi=eur(r.value_high, lang))
                 for r in t.itertuples()]
        paras.append(text("rests_on", lang, persp=persp, items=_join(items, lang)))
    paras.append(text("published_intro", lang) + _published_sentence(case, lang))
    return "\n\n".join(paras)


def _people_after_paid_jobs(case: Case) -> float | None:
    """Extra people off benefit at the end of the comparison's five years, for a case whose own horizon
    stops (about) when its paid jobs end: whether the effect lasts once nobody pays for it. None when the
    case's horizon already runs that long past the jobs."""
    from .compare import COMPARE_HORIZON_MONTHS, on_footing

    if case.months >= COMPARE_HORIZON_MONTHS or case.months > case.value("jobs.end_month") + MONTHS_AFTER_JOBS:
        return None

    def compute():
        from .model import evaluate_batch

        return float(evaluate_batch(on_footing(case))["extra_ended_benefits"][0])

    return _per_case(_AFTER_JOBS, case, "after_jobs", compute)


#: a case horizon ending this many months or less after its paid jobs end says little about whether the
#: effect lasts (assumption: a year, the horizon of the shortest published case)
MONTHS_AFTER_JOBS = 12
_AFTER_JOBS: dict = {}


def _mid_sentence(label_: str) -> str:
    """A label inside a sentence: its capital dropped unless it starts an acronym (FTE, BUIG)."""
    return label_[:1].lower() + label_[1:] if label_[1:2].islower() else label_


def fits_sentence(case: Case, lang: str = "nl") -> str | None:
    """How far the answer moves over every fit that meets the published figures as well as the chosen
    one (:func:`mkba.fitting.identify` on the case's ``calibration:`` section, as `mkba calibrate`
    prints it); None for a case without calibration targets."""
    if case.calibration is None or not case.calibration.targets:
        return None
    ident = identification(case)
    if not len(ident.sets):
        return text("fits_none", lang, grid=number(ident.n_grid, lang))
    r = ident.ranges.set_index(["perspective", "metric"])

    def span(persp: str) -> tuple[str, str]:
        row = r.loc[(persp, "npv_eur")]
        return eur(float(row["min"]), lang), eur(float(row["max"]), lang)

    (m_lo, m_hi), (s_lo, s_hi) = span("municipality"), span("society")
    return text("fits", lang, n=number(len(ident.sets), lang), grid=number(ident.n_grid, lang),
                params=_join([_mid_sentence(param_label(k, lang)) for k in ident.grid], lang), m_lo=m_lo, m_hi=m_hi,
                s_lo=s_lo, s_hi=s_hi)


def _why_mean(case: Case, point: float, mean: float, p5: float, p95: float, lang: str) -> str:
    if abs(mean - point) <= 0.05 * max(abs(p95 - p5), 1.0):
        return text("why_mean_close", lang)
    skew = []
    for k, (lo, hi, _why) in case.ranges().items():
        v = case.value(k)
        if hi > lo:
            skew.append((abs((hi - v) - (v - lo)) / (hi - lo), k, lo, hi, v))
    if not skew:
        return text("why_mean_close", lang)
    _s, k, lo, hi, v = max(skew)
    return text("why_mean_skew", lang, param=_mid_sentence(param_label(k, lang)), lo=param_value(k, lo, lang),
                hi=param_value(k, hi, lang), val=param_value(k, v, lang))


def _published_sentence(case: Case, lang: str) -> str:
    from .compare import published_vs_model

    rows = [r for r in published_vs_model(case) if not r.get("variant")]
    if not rows:
        return text("published_none", lang)
    items = []
    for r in rows:
        kind = str(r.get("kind") or r.get("provenance") or r.get("status") or "unknown")
        kind = kind if has_message("text", f"kind_{kind}") else "unknown"
        pub = ("≥ " if r["comparison"] == "at_least" else "") + format_metric(r["metric"], r["published"], lang)
        items.append(text("published_item", lang, metric=text(r["metric"], lang, default=r["metric"]).lower()
                          if lang == "nl" else text(r["metric"], lang, default=r["metric"]),
                          pub=pub, model=format_metric(r["metric"], r["model"], lang),
                          kind=text("kind_" + kind, lang) + ", " + (text("within", lang) if r["ok"] else text("outside", lang))
                          + (" " + text("missed_expected", lang) if not r["ok"] and r.get("expected") == "missed" else "")))
    from .formatting import capital

    return capital("; ".join(items) + ".")    # it opens a sentence (the labels are lower case mid-sentence)


def answer(case: Case, res: dict, lang: str = "nl", **kw):
    """The opening answer as displayable Markdown (heading + prose)."""
    from IPython.display import Markdown

    return Markdown("## " + text("answer", lang) + "\n\n" + keep_amounts_together(answer_markdown(case, res, lang, **kw)))


def both_perspectives_table(case: Case, res: dict, lang: str = "nl"):
    """Key figures side by side for the municipality and for society (one definition per figure)."""
    import pandas as pd

    figs = perspective_figures(case, res)
    keys = ("net_result_eur", "npv_eur", "bcr", "break_even_month", "programme_cost_eur", "gross_saving_eur")
    rows = []
    for k in keys:
        rows.append({text("metric", lang): label(k, lang),
                     text("muni_col", lang): _metric_cell(k, figs["municipality"], lang),
                     text("soc_col", lang): _metric_cell(k, figs["society"], lang)})
    rows.append({text("metric", lang): label("extra_ended_benefits", lang),
                 text("muni_col", lang): number(figs["municipality"]["people"], lang, 1),
                 text("soc_col", lang): number(figs["society"]["people"], lang, 1)})
    return pd.DataFrame(rows).set_index(text("metric", lang))


def headline_note(case: Case, lang: str = "nl", scenario: str | None = None) -> str:
    note = text("headline_note", lang, months=case.months, scenario=_scenario_words(case, scenario, lang))
    extra = gross_saving_note(case, lang)
    return note + (" " + extra if extra else "")


def gross_saving_note(case: Case, lang: str = "nl") -> str | None:
    """Why a secondment case shows a gross saving next to (about) zero extra people off benefit."""
    if case.value("secondment.share") <= 0:
        return None
    return text("gross_saving_secondment_note", lang,
                displacement=pct(case.value("secondment.displacement_share"), lang, 0))


def figures_note(case: Case, lang: str = "nl", scenario: str | None = None) -> str:
    """Perspective, horizon, scenario and break-even definition of a one-perspective table of figures."""
    return text("figures_note", lang, persp=_perspective_words(case, lang), months=case.months,
                scenario=_scenario_words(case, scenario, lang))


def title_page(case: Case, lang: str = "nl"):
    """A title block (a page of its own in the PDF: class ``mkba-title-page``)."""
    return _title_block(text("title_case", lang, title=""), case_title(case, lang), summary(case, lang),
                        _price_year(case), lang)


def compare_title_page(lang: str = "nl"):
    """The comparison report's title block (every case's amounts in the comparison's one price year)."""
    from .compare import comparison_price_year

    return _title_block(text("compare_kicker", lang), text("compare", lang), text("compare_subtitle", lang),
                        str(comparison_price_year()), lang)


def _title_block(kicker: str, title: str, subtitle: str, price_year: str, lang: str):
    import datetime as dt
    import html

    from IPython.display import HTML

    from . import __version__

    meta = text("title_page_meta", lang, date=date_long(dt.date.today(), lang),
                price_year=price_year, version=__version__)
    return HTML(f'<div class="mkba-title-page"><p class="mkba-kicker">{html.escape(kicker)}'
                f'</p><h1 class="mkba-title">{html.escape(title)}</h1>'
                f'<p class="mkba-subtitle">{html.escape(subtitle)}</p>'
                f'<p class="mkba-meta">{html.escape(meta)}</p></div>')


def footnotes_markdown(footnotes: list[str], lang: str = "nl") -> str:
    if not footnotes:
        return ""
    return f"**{text('footnotes', lang)}.** " + " ".join(
        f"<sup>{i}</sup> {f.rsplit(' — ', 1)[0]} (`{f.rsplit(' — ', 1)[-1]}`)." for i, f in enumerate(footnotes, start=1))


def probabilistic_note(case: Case, res: dict, prob: Any, lang: str = "nl", scenario: str | None = None) -> str:
    """One sentence on the point estimate against the probabilistic mean (and why they differ), with the
    perspective and scenario both are computed in."""
    v = np.asarray(prob.npv, dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return ""
    p5, p95 = np.percentile(v, [5, 95])
    point = float(res["metrics"]["npv_eur"])
    persp = text("perspective_word_" + case.perspective, lang)
    return text("prob_note", lang, persp=persp, scenario=_scenario_words(case, scenario, lang),
                point=eur(point, lang), mean=eur(v.mean(), lang),
                why=_why_mean(case, point, float(v.mean()), p5, p95, lang))




def readings_markdown(case: Case, lang: str = "nl") -> str:
    """The readings as a numbered list (long texts read better as prose than as table cells)."""
    t = readings_table(case, lang)
    cols = list(t.columns)      # question, reading chosen, why, source
    lines = []
    for i, row in t.iterrows():
        src = f" *{cols[3]}: {row[cols[3]]}*" if row[cols[3]] else ""
        lines.append(f"{i}. **{safe_md(row[cols[0]])}** {cols[1]}: {safe_md(row[cols[1]])}. "
                     f"{cols[2]}: {safe_md(row[cols[2]])}.{src}")
    notes = footnotes_markdown(t.attrs["footnotes"], lang)
    return "\n".join(lines) + ("\n\n" + notes if notes else "")


def sources_markdown(lang: str = "nl") -> str:
    """The documents cited, with their full titles (the footnotes use short names)."""
    from .formatting import sources

    items = [f"- **{m['short']} ({m['year']})**: {m['title']}, {m['year']} (`{f}`)"
             for f, m in sorted(sources(lang).items())]
    return f"**{label('sources', lang)}**\n\n" + "\n".join(items)


def safe_md(s: Any) -> str:
    """Case-file text (untrusted) as literal text inside a Markdown cell this module composes.

    HTML is escaped and every Markdown metacharacter is backslash-escaped, so a link, image, emphasis
    or raw HTML in a case file shows as the characters it is, never as markup (the Markdown is rendered
    once more by the exporter, so :func:`mkba.reporting.safe_markdown`'s HTML cannot be used here).
    """
    import html
    import re

    text_ = html.escape("" if s is None else str(s), quote=False)
    return re.sub(r"([\\`*_{}\[\]()#+!|~>:-])", r"\\\1", text_)


# ------------------------------------------------------------------ economic cycle (sensitivity report)
def _cycle_text(key: str, lang: str, **fmt) -> str:
    s = message("cycle", key, lang)
    return s.format(**fmt) if fmt else s


def _cycle_columns(columns, lang: str) -> list[str]:
    """Display names of the raw columns (cycle texts first, then the shared labels)."""
    return [_cycle_text(f"col_{c}", lang) if has_message("cycle", f"col_{c}") else text(c, lang, default=str(c))
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

    from .formatting import human_reference
    from .scenarios import BASE_CHANNEL

    raw = channel_table(case, lang)
    # the case file's reason is written for analysts: show its kind and sources, as the assumptions table does
    raw = raw.assign(why=[w if ch == BASE_CHANNEL else human_reference(w, lang, short=True)[0]
                          for ch, w in zip(raw["channel"], raw["why"])])
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
    from .reporting import eur_axis, year_axis
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
    fig, ax = _ax(lang)
    ax.bar(raw["start_year"], raw["npv_eur"], color=np.where(raw["npv_eur"] >= 0, "#1f5f8b", "#c0392b"))
    ax.axhline(0, color="#555555", linewidth=0.8)
    ax.set_title(_cycle_text("replay_title", lang, year=case.measured_in))
    ax.set_xlabel(_cycle_text("col_start_year", lang))
    eur_axis(ax, lang)
    year_axis(ax)
    _tight_layout(fig)
    caption = Markdown(_cycle_text("replay_caption", lang, year=facts["year"], idx=facts["idx"],
                                   lq=f"{lq[0]} {text('quarter_abbr', lang)}{lq[1]}"))
    return caption, table, raw, fig


def cycle_heading(key: str, lang: str = "nl", level: int = 3):
    """A Markdown heading from the catalogue's cycle texts (context ``cycle``)."""
    from IPython.display import Markdown

    return Markdown("#" * level + " " + _cycle_text(key, lang))


# ------------------------------------------------------------------ the interactive local case (issue 12, point 6)
#: Sliders of the local-case notebook: parameter -> (scale shown to people, unit word key).
#: Effects are shown in percentage points, money in whole euros, participants as whole persons.
SLIDER_SCALE = {"effect.work_exit_added": 100.0, "effect.other_exit_added": 100.0}


def slider_spec(case: Case, name: str, value: float | None = None) -> dict:
    """Range, step and scale of a slider in the units people think in.

    The range is the parameter's documented low/high in ``case`` when it has one (widened to include
    ``value``), otherwise half to one and a half times the value (0 to twice it for effects and staff);
    always inside the schema's valid range. Effects are shown in percentage points (scale 100),
    participants as whole persons, money in whole euros.
    """
    from .schema import SCHEMA

    spec = SCHEMA[name]
    v = float(case.value(name) if value is None else value)
    rng = case.ranges().get(name)
    if rng and rng[0] < rng[1]:
        lo, hi = min(rng[0], v), max(rng[1], v)
    elif spec.kind in ("eur", "persons") and v > 0:
        lo, hi = 0.5 * v, 1.5 * v
    else:
        lo, hi = 0.0, max(2.0 * v, 1.0 if spec.kind in ("persons", "fte") else 0.1)
    lo, hi = max(lo, spec.minimum), min(hi, spec.maximum)
    if spec.kind == "persons":
        lo = max(lo, 1.0)
    scale = SLIDER_SCALE.get(name, 1.0)
    integer = spec.integer or spec.kind in ("persons", "eur")
    if spec.kind == "persons":
        step = 1.0
    elif spec.kind == "eur":
        step = 100.0 if hi >= 10_000 else 10.0
    else:
        raw = (hi - lo) * scale / 40
        step = min((0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0), key=lambda s_: abs(s_ - raw))
    if integer:
        lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
    return {"min": lo * scale, "max": hi * scale, "value": v * scale, "step": step, "scale": scale,
            "integer": integer}


class LocalCaseView:
    """The local case in one view: headline, key-figure table, cash chart and assumptions, all recomputed
    from the same case on every slider change (``widget()``), or shown once (``static()``)."""

    #: resolution of the live chart (assumption: 100 dpi is sharp on screen for an 8-inch chart and
    #: draws in half the time of the reports' 150 dpi)
    LIVE_DPI = 100

    def __init__(self, case: str, local: Mapping[str, float], lang: str = "nl") -> None:
        self.case_name, self.local, self.lang = case, dict(local), lang
        self._base: Case | None = None
        self._chart: CashChart | None = None
        self._cells: dict = {}      # the assumptions table's worded rows, see assumptions_table(cells=)

    def base_case(self) -> Case:
        """The documented case, read once (every slider move applies its values to it)."""
        if self._base is None:
            self._base = load_case(self.case_name)
        return self._base

    def case_for(self, values: Mapping[str, float]) -> Case:
        return prepare_case(self.case_name, values, base=self.base_case())

    def _compute(self, values: Mapping[str, float]):
        """One model run for ``values``: (case, results, headline text, key-figure table, assumptions table)."""
        c = self.case_for(values)
        res = results(c)
        figs = perspective_figures(c, res)
        lang = self.lang
        m, s = figs["municipality"], figs["society"]
        headline = text("local_headline", lang, muni=eur(m["npv_eur"], lang), soc=eur(s["npv_eur"], lang),
                        be=_be_words(m["break_even_month"], lang), people=number(m["people"], lang, 1),
                        when=_counted_when(c, lang))
        return c, res, headline, both_perspectives_table(c, res, lang), assumptions_table(c, lang, cells=self._cells)

    def outputs(self, values: Mapping[str, float]) -> list:
        """Everything the view shows, in order (IPython displayables; a new figure each time)."""
        from IPython.display import HTML, Markdown

        import matplotlib.pyplot as plt

        c, res, headline, key_table, table = self._compute(values)
        lang = self.lang
        fig = cumulative_cash_figure(c, res, lang)
        plt.close(fig)
        return [heading("title_case", lang, level=1, title=case_title(c, lang)),
                HTML(f'<p class="mkba-headline">{keep_amounts_together(headline)}</p>'),
                key_table, fig,
                heading("assumptions_sources", lang), table,
                Markdown(footnotes_markdown(table.attrs["footnotes"], lang))]

    def update(self, values: Mapping[str, float]) -> list:
        """What a slider move shows, ready to display: the same content as :meth:`outputs`, with
        the tables as HTML and the chart as PNG bytes of one figure kept between moves (its line
        and limits updated, see :class:`CashChart`). One model run."""
        from IPython.display import HTML, Image, Markdown

        c, res, headline, key_table, table = self._compute(values)
        lang = self.lang
        if self._chart is None:
            self._chart = CashChart(lang, live=True)     # kept by this view, not by pyplot (never shown twice)
        png = self._chart.update(c, res).png(self.LIVE_DPI)
        html = keep_amounts_together
        return [heading("title_case", lang, level=1, title=case_title(c, lang)),
                HTML(f'<p class="mkba-headline">{html(headline)}</p>'),
                HTML(html(key_table.to_html(notebook=True))),
                Image(data=png, format="png", metadata={"alt": figure_alt_text(self._chart.fig, lang)}),
                heading("assumptions_sources", lang), HTML(html(table.to_html(notebook=True))),
                Markdown(footnotes_markdown(table.attrs["footnotes"], lang))]

    def static(self) -> None:
        from IPython.display import display

        for o in self.outputs(self.local):
            display(o)

    def widget(self):
        import ipywidgets as w
        from IPython.display import display

        from .formatting import param_label, param_value

        base = load_case(self.case_name)          # the documented ranges of the case
        controls, readouts, rows = {}, {}, []
        for name in self.local:
            sp = slider_spec(base, name, self.local[name])
            cls = w.IntSlider if sp["integer"] and sp["step"] >= 1 else w.FloatSlider
            kw = dict(value=sp["value"], min=sp["min"], max=sp["max"], step=sp["step"], readout=False,
                      continuous_update=False, layout=w.Layout(width="18em"))
            ctl = cls(**{k: (int(round(v)) if cls is w.IntSlider and k != "layout" and isinstance(v, float) else v)
                         for k, v in kw.items()})
            ctl.add_class("mkba-slider")
            controls[name] = (ctl, sp["scale"])
            readouts[name] = w.Label(param_value(name, self.local[name], self.lang), layout=w.Layout(width="10em"))
            rows.append(w.HBox([w.Label(param_label(name, self.lang, with_unit=True), layout=w.Layout(width="32em")),
                                ctl, readouts[name]]))
        out = w.Output()

        def values():
            return {k: (ctl.value / scale) for k, (ctl, scale) in controls.items()}

        def refresh(_=None):
            vals = values()
            for k, lab in readouts.items():
                lab.value = param_value(k, vals[k], self.lang)
            shown = self.update(vals)     # computed before the old view is cleared
            with out:
                out.clear_output(wait=True)
                for o in shown:
                    display(o)

        for ctl, _scale in controls.values():
            ctl.observe(refresh, names="value")
        refresh()
        return w.VBox(rows + [out])



"""Plots for sensitivity results: tornado, two-way heatmap with the NPV = 0 contour, NPV
histogram and acceptability curve.

matplotlib is imported inside the functions.  Each function draws on ``ax`` when given, otherwise
on a new :class:`matplotlib.figure.Figure` (no pyplot state, safe in batch rendering), and
returns the Figure.  Labels default to the parameter/metric names; pass ``labels={name: text}``
for report wording.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from mkba.errors import InputError, closest

_METRIC_LABELS = {"npv_eur": "NPV (EUR)", "net_result_eur": "Net result (EUR)",
                  "break_even_month": "Break-even month", "bcr": "Benefit-cost ratio",
                  "societal_npv_eur": "Societal NPV (EUR)"}


_WORDS = {
    "low": {"nl": "aanname op laag", "en": "parameter at low"},
    "high": {"nl": "aanname op hoog", "en": "parameter at high"},
    "never": {"nl": "nooit", "en": "never"},
    "no value": {"nl": "geen waarde", "en": "no value"},
    "base case": {"nl": "basisscenario", "en": "base case"},
}


def _w(word: str, lang: str) -> str:
    return _WORDS[word].get(lang, word)


def _fig_ax(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _label(name: str, labels: Mapping[str, str] | None) -> str:
    return (labels or {}).get(name, _METRIC_LABELS.get(name, name))


def _eur_formatter(ax_axis, lang: str | None = None):
    from matplotlib.ticker import FuncFormatter

    if lang is not None:
        from matplotlib.ticker import MaxNLocator

        from mkba.formatting import eur

        ax_axis.set_major_locator(MaxNLocator(nbins=5))   # full Dutch amounts are wide: fewer ticks
        ax_axis.set_major_formatter(FuncFormatter(lambda v, _pos: eur(v, lang)))
        return

    def fmt(v, _pos):
        a = abs(v)
        if a >= 1e6:
            return f"{v / 1e6:.1f}M"
        if a >= 1e3:
            return f"{v / 1e3:.0f}k"
        return f"{v:.0f}"
    ax_axis.set_major_formatter(FuncFormatter(fmt))


#: characters per line of a tornado's parameter labels (wrapped beyond). Assumption: at font size 8
#: about 2,6 in of the 8 in figure, which leaves the bars room for their amounts and the title (two
#: lines) room over them; unwrapped, the longest label (75 characters) took 5 in and the title and
#: the axis amounts were cut off or ran into each other
TORNADO_LABEL_CHARS = 40


def tornado(table: Any, metric: str = "npv_eur", *, top: int | None = 15, ax: Any = None,
            labels: Mapping[str, str] | None = None, figsize: tuple[float, float] = (8, 5), lang: str = "en"):
    """Tornado chart from :func:`mkba.sensitivity.one_way`'s table for one ``metric``.

    Bars run from the base value to the value at the parameter's low (blue) and high (orange)
    end; the widest swing is on top.  A side where break-even is never reached (NaN) is drawn to
    the axis edge and marked "never".
    """
    df = table[table["metric"] == metric]
    if df.empty:
        opts = sorted(set(table["metric"]))
        hint = closest(metric, opts)
        raise InputError("metric not in the one-way table", field="metric", value=metric,
                         fix=(f"did you mean '{hint[0]}'? " if hint else "") + "available: " + ", ".join(opts))
    df = df.sort_values("swing", ascending=False, kind="stable")
    if top:
        df = df.head(top)
    df = df.iloc[::-1]  # widest on top
    fig, ax = _fig_ax(ax, figsize)
    base = float(df["base_value"].iloc[0])
    finite = np.concatenate([df["value_low"].to_numpy(float), df["value_high"].to_numpy(float), [base]])
    finite = finite[np.isfinite(finite)]
    span = (finite.max() - finite.min()) or max(abs(base), 1.0)
    edge_hi = finite.max() + 0.08 * span
    y = np.arange(len(df))
    any_never = False
    for col, colour, name in (("value_low", "#4C72B0", "low"), ("value_high", "#DD8452", "high")):
        vals = df[col].to_numpy(float)
        never = np.isnan(vals)
        shown = np.where(never, edge_hi, vals)
        ax.barh(y, shown - base, left=base, color=colour, height=0.6, label=_w(name, lang))
        for yi in y[never]:
            ax.text(edge_hi, yi, " " + _w("never", lang), va="center", ha="left", fontsize=8)
        any_never = any_never or bool(never.any())
    if any_never:
        ax.set_xlim(right=edge_hi + 0.15 * span)
    ax.axvline(base, color="black", lw=1)
    ax.set_yticks(y)
    from mkba.formatting import param_value

    import textwrap

    def range_text(p, lo, hi):   # on a line of its own, never broken inside
        return f"[{param_value(p, lo, lang)} – {param_value(p, hi, lang)}]".replace(" ", "\u00a0")

    ax.set_yticklabels([textwrap.fill(_label(p, labels), TORNADO_LABEL_CHARS, break_long_words=False)
                        + "\n" + range_text(p, lo, hi)
                        for p, lo, hi in zip(df["parameter"], df["low"], df["high"], strict=True)], fontsize=8)
    ax.set_xlabel(_label(metric, labels))
    if metric.endswith("_eur"):
        _eur_formatter(ax.xaxis, lang)
    from mkba.formatting import format_value

    base_txt = format_value(base, "eur" if metric.endswith("_eur") else "number", lang)
    ax.set_title(("Gevoeligheid per aanname: {m} (basis {b})" if lang == "nl" else
                  "One-way sensitivity: {m} (base {b})").format(m=_label(metric, labels), b=base_txt))
    ax.legend(loc="lower right", fontsize=8)
    return fig


def heatmap(result: Any, metric: str = "npv_eur", *, contour_metric: str = "npv_eur", level: float = 0.0,
            ax: Any = None, labels: Mapping[str, str] | None = None, cmap: str | None = None,
            figsize: tuple[float, float] = (7, 5.5), lang: str = "en"):
    """Heatmap of ``metric`` on a :class:`mkba.sensitivity.TwoWayResult` grid, with the
    ``contour_metric = level`` line (default NPV = 0, the switching values) drawn on top.
    Break-even "never" (NaN) cells are grey.  A star marks the base case when it lies in the grid.
    """
    if metric not in result.values:
        hint = closest(metric, list(result.values))
        raise InputError("metric not in the two-way result", field="metric", value=metric,
                         fix=(f"did you mean '{hint[0]}'? " if hint else "") + "run two_way with this metric")
    import matplotlib as mpl
    fig, ax = _fig_ax(ax, figsize)
    Z = np.ma.masked_invalid(result.values[metric])
    if cmap is None:
        cmap = "RdYlGn" if metric.endswith("_eur") or metric == "bcr" else "viridis_r"
    cm = mpl.colormaps[cmap].with_extremes(bad="#BBBBBB")
    x, y = result.x_values, result.y_values
    norm = None
    if metric.endswith("_eur") and Z.count() and Z.min() < 0 < Z.max():
        norm = mpl.colors.TwoSlopeNorm(vcenter=0.0, vmin=float(Z.min()), vmax=float(Z.max()))
    shading = "nearest" if len(x) > 1 and len(y) > 1 else "auto"
    mesh = ax.pcolormesh(x, y, Z, cmap=cm, norm=norm, shading=shading)
    cb = fig.colorbar(mesh, ax=ax)
    cb.set_label(_label(metric, labels))
    if contour_metric in result.values and len(x) > 1 and len(y) > 1:
        C = result.values[contour_metric]
        finite = C[np.isfinite(C)]
        if finite.size and finite.min() < level < finite.max():
            cs = ax.contour(x, y, C, levels=[level], colors="black", linewidths=2)
            ax.clabel(cs, fmt={level: f"{_label(contour_metric, labels)} = {level:g}"}, fontsize=8)
    if metric.endswith("_eur"):
        _eur_formatter(cb.ax.yaxis, lang)
    handles = []
    if np.ma.is_masked(Z) and Z.mask.any():
        from matplotlib.patches import Patch
        handles.append(Patch(color="#BBBBBB", label=_w("never" if metric == "break_even_month" else "no value", lang)))
    bx, by = result.base.get(result.x_name), result.base.get(result.y_name)
    if bx is not None and by is not None and x.min() <= bx <= x.max() and y.min() <= by <= y.max():
        handles += ax.plot([bx], [by], ls="none", marker="*", color="white", markeredgecolor="black",
                           markersize=14, label=_w("base case", lang))
    if handles:
        ax.legend(handles=handles, loc="upper right", fontsize=8)
    ax.set_xlabel(_label(result.x_name, labels))
    ax.set_ylabel(_label(result.y_name, labels))
    ax.set_title(f"{_label(metric, labels)}")
    return fig


def npv_histogram(result: Any, metric: str = "npv_eur", *, bins: int = 60, ax: Any = None,
                  labels: Mapping[str, str] | None = None, percentiles: Sequence[float] = (5, 50, 95),
                  figsize: tuple[float, float] = (7, 4.5)):
    """Histogram of a :class:`mkba.sensitivity.ProbResult` metric with P(> 0) and percentiles."""
    x = np.asarray(result.values[metric], dtype=float)
    x = x[np.isfinite(x)]
    fig, ax = _fig_ax(ax, figsize)
    counts, edges = np.histogram(x, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    colours = np.where(centres >= 0, "#55A868", "#C44E52")
    ax.bar(centres, counts, width=np.diff(edges), color=colours, align="center", edgecolor="none")
    ax.axvline(0, color="black", lw=1)
    for q in percentiles:
        v = float(np.percentile(x, q)) if x.size else math.nan
        ax.axvline(v, color="grey", ls="--", lw=1)
        ax.text(v, ax.get_ylim()[1] * 0.95, f" p{q:g}", fontsize=8, va="top")
    p = float(np.mean(np.asarray(result.values[metric]) > 0))
    ax.set_title(f"{_label(metric, labels)}: P(> 0) = {p:.1%}  (n = {result.n:,}, seed {result.seed})")
    ax.set_xlabel(_label(metric, labels))
    ax.set_ylabel("draws")
    if metric.endswith("_eur"):
        _eur_formatter(ax.xaxis)
    return fig


def acceptability_curve(curve: Any, *, cost_label: str = "Programme cost per participant (EUR)", ax: Any = None,
                        base_cost: float | None = None, figsize: tuple[float, float] = (7, 4.5)):
    """Acceptability curve from :func:`mkba.sensitivity.acceptability_curve` (P(pays off) vs cost)."""
    fig, ax = _fig_ax(ax, figsize)
    ax.plot(curve["cost"], curve["p_positive"], marker="o", ms=3, color="#4C72B0")
    ax.axhline(0.5, color="grey", ls=":", lw=1)
    if base_cost is not None:
        ax.axvline(base_cost, color="black", ls="--", lw=1, label="base case")
        ax.legend(fontsize=8)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(cost_label)
    ax.set_ylabel("P(NPV > 0)")
    ax.set_title("Acceptability curve")
    from matplotlib.ticker import PercentFormatter
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    return fig


__all__ = ["tornado", "heatmap", "npv_histogram", "acceptability_curve"]

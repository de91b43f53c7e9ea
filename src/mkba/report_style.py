"""The report stylesheet (screen and WeasyPrint print CSS), kept in ``report_style.css``.

:func:`css` returns its text; the HTML exporter in :mod:`mkba.render` appends it to the
template's style block. Print rules: page numbers ("3 / 12") at the page foot, the title block on a
page of its own, no heading left alone at the bottom of a page (``break-after: avoid``), tables
as wide as the page with small type, amounts never broken across lines (``white-space: nowrap``).
"""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def css() -> str:
    from importlib.resources import files

    return files("mkba").joinpath("report_style.css").read_text(encoding="utf-8")


def jinja_block() -> str:
    """The stylesheet wrapped for inclusion in a Jinja template (``{% raw %}`` keeps ``{#`` literal)."""
    return "{% raw %}\n" + css() + "\n{% endraw %}"


def _with_alt(block: str, mime: str) -> str:
    """A template block that puts the output's ``alt`` metadata on the ``<img>`` its parent block writes."""
    return ("{% block " + block + " scoped %}"
            "{%- set alttext = output | get_metadata('alt', '" + mime + "') -%}"
            "{%- if alttext %}{{ super() | replace('<img ', '<img alt=\"' ~ (alttext | escape_html) ~ '\" ', 1) }}"
            "{%- else %}{{ super() }}{%- endif %}"
            "{% endblock " + block + " %}\n")


#: PNG and SVG figures with their alt texts (nbconvert embeds an SVG as an ``<img>`` data URI: no
#: script in it can run, and it keeps the page's own markup out of the picture)
_FIGURES_WITH_ALT = _with_alt("data_png", "image/png") + _with_alt("data_svg", "image/svg+xml")


def template(base: str) -> str:
    """The report template with this stylesheet and alt texts on figures (from the output's ``alt`` metadata)."""
    end = "</style>\n{% endblock extra_css %}"
    if end not in base:  # pragma: no cover - the template changed shape; keep it usable
        return base
    return base.replace(end, jinja_block() + end) + _FIGURES_WITH_ALT

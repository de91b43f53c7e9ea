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


_PNG_WITH_ALT = (
    "{% block data_png scoped %}"
    "{%- set alttext = output | get_metadata('alt', 'image/png') -%}"
    "{%- if alttext %}{{ super() | replace('<img ', '<img alt=\"' ~ (alttext | escape_html) ~ '\" ', 1) }}"
    "{%- else %}{{ super() }}{%- endif %}"
    "{% endblock data_png %}\n")


def template(base: str) -> str:
    """The report template with this stylesheet and alt texts on figures (from the output's ``alt`` metadata)."""
    end = "</style>\n{% endblock extra_css %}"
    if end not in base:  # pragma: no cover - the template changed shape; keep it usable
        return base
    return base.replace(end, jinja_block() + end) + _PNG_WITH_ALT

"""Report texts in gettext message catalogues (babel), Dutch and English.

The catalogues are ``src/mkba/locale/{nl,en}/LC_MESSAGES/mkba.po`` (template ``locale/mkba.pot``),
shipped as package data and read at run time with :func:`babel.messages.pofile.read_po`, compiled
in memory with :func:`babel.messages.mofile.write_mo` and looked up through
:class:`babel.support.Translations` (``pgettext``). No ``.mo`` file is built or committed.

Message ids are **stable keys**, not English source strings, each in a context (``msgctxt``) that
says what kind of text it is; the English catalogue holds the English text like any other language:

=================  ==========================================================================
context            msgid                                  used by
=================  ==========================================================================
``label``          metric, actor, scenario, heading key   :func:`mkba.formatting.label`, ``actor_label``
``text``           report text key (``{field}`` slots)     :func:`mkba.views.text`
``cycle``          sensitivity-report cycle texts         :func:`mkba.views.cycle_heading`
``item``           ledger item (``benefit_payments``)      :func:`mkba.formatting.item_label` (reports, export)
``param``          schema parameter name                  :func:`mkba.formatting.param_label`
``param-desc``     schema parameter name                  :func:`mkba.describe.parameter_description`
``unit``           schema unit (``EUR/person-year``)      :func:`mkba.formatting.unit_label`
``group``          parameter prefix (``baseline``)        :func:`mkba.describe.group_heading`
``kind-word``      kind of value (``calibrated``)          :func:`mkba.formatting.human_reference`
``note``           a data note (``renamed``)               :class:`mkba.notes.Note`
``source-short``,  seed file name                         :func:`mkba.formatting.source_title`
``source-title``,
``source-year``
=================  ==========================================================================

Keys were chosen over English source strings because the same English word often needs two
Dutch renderings (a table heading and a phrase), because the schema's parameter names are
already stable identifiers, and because a reworded English text then does not orphan its
Dutch translation. ``tests/test_i18n.py`` checks that every schema parameter has a label and a
description in both catalogues, that no entry is fuzzy or empty, and that every key the code
asks for by a literal exists.

New strings: write ``text("my_key", lang)`` (or ``label``/``message``) in the code, run
``python tools/extract_messages.py``: babel's extraction (``babel.cfg``, with the two extractors
below) adds the key to ``mkba.pot`` and, empty, to both ``.po`` files; fill in the Dutch and
English text. The test fails while an entry is empty.
"""
from __future__ import annotations

import io
from importlib.resources import files
from typing import Any, Iterator

LANGS = ("nl", "en")
DOMAIN = "mkba"

_CACHE: dict[str, Any] = {}


def po_path(lang: str):
    """The catalogue file of ``lang`` inside the installed package."""
    return files("mkba").joinpath("locale", lang, "LC_MESSAGES", f"{DOMAIN}.po")


def catalog(lang: str):
    """The :class:`babel.messages.catalog.Catalog` of ``lang`` (read once per process)."""
    key = "catalog:" + lang
    cat = _CACHE.get(key)
    if cat is None:
        from babel.messages.pofile import read_po

        if lang not in LANGS:
            from .errors import InputError, did_you_mean

            raise InputError("unsupported report language", field="lang", value=lang,
                             fix="use lang='nl' (Dutch, default) or lang='en' (English); " + did_you_mean(str(lang), LANGS))
        with po_path(lang).open("rb") as fh:
            cat = read_po(fh, locale=lang, domain=DOMAIN)
        _CACHE[key] = cat
    return cat


def translations(lang: str):
    """:class:`babel.support.Translations` for ``lang``, compiled in memory from the ``.po`` file."""
    key = "tr:" + lang
    tr = _CACHE.get(key)
    if tr is None:
        from babel.messages.mofile import write_mo
        from babel.support import Translations

        buf = io.BytesIO()
        write_mo(buf, catalog(lang))         # fuzzy entries are left out, as gettext does
        buf.seek(0)
        tr = Translations(buf, domain=DOMAIN)
        _CACHE[key] = tr
        _CACHE["known:" + lang] = frozenset((m.context, m.id) for m in catalog(lang) if m.id and m.string
                                            and not m.fuzzy)
    return tr


def has_message(context: str, key: str, langs: tuple[str, ...] = LANGS) -> bool:
    """Whether ``key`` has a (non-empty, non-fuzzy) text in ``context`` in every language of ``langs``."""
    for lang in langs:
        translations(lang)
        if (context, key) not in _CACHE["known:" + lang]:
            return False
    return True


def message(context: str, key: str, lang: str = "nl", default: str | None = None) -> str:
    """The text of ``key`` in ``context`` for ``lang``.

    An unknown key returns ``default`` if given, else raises ``KeyError`` naming the key, the
    catalogue file and the closest known keys.
    """
    tr = translations(lang)
    if (context, key) in _CACHE["known:" + lang]:
        return tr.pgettext(context, key)
    if default is not None:
        return default
    from .errors import closest

    hint = closest(str(key), keys(context, lang))
    raise KeyError(f"no {context!r} text for {key!r} in src/mkba/locale/{lang}/LC_MESSAGES/{DOMAIN}.po"
                   + (f"; did you mean {', '.join(repr(h) for h in hint)}?" if hint else
                      "; add it there (tools/extract_messages.py adds new keys to both catalogues)"))


def keys(context: str, lang: str = "nl") -> list[str]:
    """The keys of ``context``, in catalogue order."""
    return [m.id for m in catalog(lang) if m.id and m.context == context]


# ---------------------------------------------------------------------------------------------
# babel extractors (babel.cfg; run by tools/extract_messages.py or `pybabel extract -F babel.cfg`)
# ---------------------------------------------------------------------------------------------

#: functions whose first argument is a literal message key, and the context it lives in.
#: ``text`` falls back to the ``label`` context (see :func:`mkba.views.text`).
#: (Parameter labels and units come from the schema extractor; babel's Python extractor mixes up the
#: arguments of a ``param_label`` call nested inside a ``text`` call, so those are not listed.)
KEY_FUNCTIONS = {"text": "text", "heading": "text", "label": "label", "_cycle_text": "cycle",
                 "cycle_heading": "cycle", "Note": "note"}


def extract_keys(fileobj, keywords, comment_tags, options) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """Babel extractor for Python files: literal keys passed to :data:`KEY_FUNCTIONS`.

    Wraps :func:`babel.messages.extract.extract_python` and yields each key as
    ``pgettext(context, key)``, so babel files it under its ``msgctxt``. Keys built at run
    time (``text("kind_" + kind)``) cannot be seen; tools/extract_messages.py keeps the
    catalogue entries that extraction does not find.
    """
    import contextlib

    from babel.messages.extract import extract_python

    kw = {name: None for name in KEY_FUNCTIONS}
    with contextlib.redirect_stderr(io.StringIO()):      # babel's notes on f-string keys: built at run time
        found = list(extract_python(fileobj, kw, comment_tags, options))
    for lineno, funcname, messages, comments in found:
        first = messages[0] if isinstance(messages, (tuple, list)) else messages
        # a literal ending in "_" is the prefix of a key built at run time ("kind_" + kind)
        if isinstance(first, str) and first and not first.endswith("_"):
            yield lineno, "pgettext", (KEY_FUNCTIONS[funcname], first), comments


def extract_schema(fileobj, keywords, comment_tags, options) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """Babel extractor for ``schema.py``: a label and a description per parameter, a word per unit.

    It reads :data:`mkba.schema.SCHEMA` itself (the file object is not parsed), so parameters made
    by a rule (``sharing.<item>.<payer>``) are included; the schema's English description is
    given to translators as a comment.
    """
    from .schema import SCHEMA

    for name, spec in SCHEMA.items():
        yield 0, "pgettext", ("param", name), [f"unit: {spec.unit}"]
        yield 0, "pgettext", ("param-desc", name), [f"unit: {spec.unit}", spec.description]
        yield 0, "pgettext", ("group", name.split(".")[0]), []
    for unit in dict.fromkeys(spec.unit for spec in SCHEMA.values()):
        yield 0, "pgettext", ("unit", unit), []


def extract_template(root, existing=None):
    """The message template of the source tree at ``root``, by babel's extraction with ``root/babel.cfg``.

    Returns ``(template, found)``: a :class:`~babel.messages.catalog.Catalog` with every key babel
    finds plus every key already in ``existing`` (default: the Dutch catalogue), so keys built at
    run time are kept; ``found`` is the set of ``(context, key)`` that extraction itself found.
    A literal ``text(key)`` that names a ``label`` is filed under ``label`` (the fallback of
    :func:`mkba.views.text`).
    """
    from pathlib import Path

    from babel.messages.catalog import Catalog
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    root = Path(root)
    existing = catalog("nl") if existing is None else existing
    have = {(m.context, m.id) for m in existing if m.id}
    with (root / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(root / "babel.cfg"))
    template = Catalog(domain=DOMAIN, project="mkba", charset="utf-8", fuzzy=False,
                       creation_date=existing.creation_date)
    for m in existing:                  # the catalogue's order first, so merging appends new keys at the end
        if m.id:
            template.add(m.id, "", context=m.context, auto_comments=m.auto_comments)
    found: set[tuple[str, str]] = set()
    for _file, _line, msgid, comments, context in extract_from_dir(root, method_map, options_map,
                                                                   keywords=DEFAULT_KEYWORDS):
        if context == "text" and ("text", msgid) not in have and ("label", msgid) in have:
            context = "label"
        found.add((context, msgid))
        if template.get(msgid, context=context) is None:
            template.add(msgid, "", context=context, auto_comments=comments)
    return template, found


def untranslated(lang: str) -> list[tuple[str, str]]:
    """``(context, key)`` of the entries of ``lang`` that are empty or fuzzy (must be none)."""
    return [(m.context, m.id) for m in catalog(lang) if m.id and (not m.string or m.fuzzy)]

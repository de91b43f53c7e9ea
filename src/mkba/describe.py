"""One-line descriptions and group headings of the model parameters, for files people edit (``mkba new``).

The texts live in the message catalogues (:mod:`mkba.i18n`, contexts ``param-desc`` and ``group``),
the same place as the parameter labels the reports use, in Dutch and English.
"""
from __future__ import annotations

from .i18n import message
from .schema import SCHEMA


def parameter_description(name: str, lang: str = "nl") -> str:
    """A one-line description of parameter ``name`` (Dutch by default).

    A parameter without a catalogue entry falls back to the schema's English description
    (tests/test_i18n.py requires an entry in both languages for every schema parameter).
    """
    spec = SCHEMA.get(name)
    return message("param-desc", name, lang, default=spec.description if spec is not None else name)


def group_heading(prefix: str, lang: str = "nl") -> str:
    """The heading of a group of parameters (``baseline`` -> ``Zonder de aanpak (nulalternatief)``)."""
    return message("group", prefix, lang, default=prefix)

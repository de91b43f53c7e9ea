"""Data notes in the reader's language: what the CBS data of a municipality do not give, and how
boundary changes and thin figures were handled.

A :class:`Note` is a message key (context ``note`` in the catalogues, :mod:`mkba.i18n`) with its
fields, worded in either language by :meth:`Note.text`. It *is* its English text (a ``str``), so
the command line, case files and logs read it as before; a report words it in its own language.
:class:`Notes` is the notes of one municipality, kept as JSON in the ``notes`` column of
``data/processed/municipalities.csv`` (:func:`Notes.to_json`, :func:`Notes.from_json`).

Fields are formatted by name, so every number is written in the reader's notation:

===============  =====================================================  ==================
field            holds                                                  nl / en
===============  =====================================================  ==================
``*_n``          a count                                                ``46.127`` / ``46,127``
``*_pct``        a CBS percentage (percent units)                       ``9,0 %`` / ``9.0%``
``*_rate``       an annual probability (fraction)                       ``5,5 %`` / ``5.5%``
``share``        a share (fraction)                                     ``10 %`` / ``10%``
``date``         an ISO date                                            ``1 januari 2022``
``names``        a list of names                                        ``A, B en C``
``parts``        a list of field dicts, each worded by ``<key>_part``
``column``       ``{"kind": ..., "year": ...}``: a CBS column, worded by ``column_<kind>``
===============  =====================================================  ==================
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from .i18n import message

CONTEXT = "note"


def note_text(key: str, fields: Mapping[str, Any], lang: str = "en") -> str:
    """The note ``key`` with ``fields`` in ``lang``."""
    return message(CONTEXT, key, lang).format(**{k: _field(key, k, v, lang) for k, v in fields.items()})


def _field(key: str, name: str, v: Any, lang: str) -> str:
    from .formatting import date_long, join_words, number, pct

    if name == "parts":
        return ", ".join(note_text(key + "_part", part, lang) for part in v)
    if name == "column":
        return message(CONTEXT, "column_" + v["kind"], lang).format(year=v["year"])
    if name == "names":
        return join_words([str(x) for x in v], lang)
    if name == "date":
        import datetime as dt

        return date_long(dt.date.fromisoformat(str(v)), lang)
    if name.endswith("_n"):
        return number(v, lang, 0)
    if name.endswith("_pct"):
        return pct(None if v is None else float(v) / 100.0, lang, 1)
    if name.endswith("_rate"):
        return pct(v, lang, 1)
    if name == "share":
        return pct(v, lang, 0)
    return str(v)


class Note(str):
    """One data note: its English text, with the key, fields and the model parameters it concerns."""

    key: str
    fields: dict
    parameters: tuple[str, ...]

    def __new__(cls, key: str, *, parameters: Iterable[str] = (), **fields: Any) -> "Note":
        self = super().__new__(cls, note_text(key, fields, "en"))
        self.key, self.fields, self.parameters = key, dict(fields), tuple(parameters)
        return self

    def text(self, lang: str = "en") -> str:
        return note_text(self.key, self.fields, lang)

    def as_dict(self) -> dict:
        out = {"key": self.key, "fields": self.fields}
        if self.parameters:
            out["parameters"] = list(self.parameters)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Note":
        return cls(d["key"], parameters=d.get("parameters", ()), **d.get("fields", {}))

    def __reduce__(self):                     # copies and pickles rebuild from the key, not the text
        return (_rebuild, (self.as_dict(),))


def _rebuild(d: Mapping[str, Any]) -> Note:
    return Note.from_dict(d)


class Notes(str):
    """The notes of one municipality: their English texts joined by "; ", with the notes themselves."""

    items: tuple[Note, ...]

    def __new__(cls, items: Iterable[Note] = ()) -> "Notes":
        items = tuple(items)
        self = super().__new__(cls, "; ".join(items))
        self.items = items
        return self

    def text(self, lang: str = "en") -> list[str]:
        return [n.text(lang) for n in self.items]

    def to_json(self) -> str:
        return json.dumps([n.as_dict() for n in self.items], ensure_ascii=False, sort_keys=True) if self.items else ""

    @classmethod
    def from_json(cls, s: Any) -> "Notes":
        if s is None or (isinstance(s, float) and s != s) or not str(s).strip():
            return cls()
        return cls(Note.from_dict(d) for d in json.loads(str(s)))

    def __reduce__(self):
        return (Notes.from_json, (self.to_json(),))


def words(notes: Iterable[Any], lang: str) -> list[str]:
    """Each note (a :class:`Note`, a :class:`Notes`, or a plain string) in ``lang``."""
    out: list[str] = []
    for n in notes:
        if isinstance(n, Notes):
            out.extend(n.text(lang))
        elif isinstance(n, Note):
            out.append(n.text(lang))
        elif str(n).strip():
            out.append(str(n))
    return out

"""Readings that cannot go stale: a reading records the parameter values it explains.

A reading in a case file (``readings:``) may carry ``values: {parameter: value}``: the values it
was written for (``mkba new`` writes them for every reading it generates, and for copied readings
that name parameters). When a parameter it records no longer has that value, the reading
explains something the file no longer says: it is *stale*. ``mkba validate`` warns about it
and the report marks it (:func:`mark`).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from .schema import SCHEMA

_NAME_RE = re.compile(r"\b[a-z]+\.[a-z_]+\b")
#: relative tolerance when comparing a recorded value with the case's (YAML round-trip at 10 digits)
REL_TOL = 1e-9


@dataclass(frozen=True)
class Stale:
    topic: str
    changed: dict[str, tuple[float, float | None]]   # name -> (recorded, now; None = no such parameter)

    def describe(self) -> str:
        parts = [f"{k} {rec:g} -> {'(no such parameter)' if now is None else format(now, 'g')}"
                 for k, (rec, now) in self.changed.items()]
        return f"reading '{self.topic}' was written for other values: {', '.join(parts)}"


def recorded_values(reading: Any) -> dict[str, float]:
    vals = getattr(reading, "values", None)
    if vals is None and isinstance(reading, Mapping):
        vals = reading.get("values")
    return {str(k): float(v) for k, v in (vals or {}).items()}


def named_parameters(text: str) -> list[str]:
    """Model parameter names that occur in ``text`` (in order, once each)."""
    return list(dict.fromkeys(n for n in _NAME_RE.findall(text or "") if n in SCHEMA))


def _same(a: float, b: float) -> bool:
    return a == b or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=0.0)


def stale_readings(case: Any) -> list[Stale]:
    """The readings of ``case`` whose recorded values differ from the case's values."""
    values = case.values
    out = []
    for r in case.readings:
        changed = {}
        for name, rec in recorded_values(r).items():
            now = values.get(name)
            if now is None or not _same(rec, float(now)):
                changed[name] = (rec, None if now is None else float(now))
        if changed:
            out.append(Stale(r.topic, changed))
    return out


def is_stale(case: Any, reading: Any) -> bool:
    values = case.values
    return any(values.get(k) is None or not _same(v, float(values[k])) for k, v in recorded_values(reading).items())


MARK = {"nl": "VEROUDERD: geschreven voor andere waarden ({changes})",
        "en": "OUT OF DATE: written for other values ({changes})"}


def mark(case: Any, reading: Any, lang: str = "nl") -> str:
    """The text a report adds to a stale reading ('' when it is current)."""
    vals = case.values
    changes = [f"{k} {v:g} → {vals[k]:g}" if k in vals else f"{k} {v:g}"
               for k, v in recorded_values(reading).items() if k not in vals or not _same(v, float(vals[k]))]
    return MARK.get(lang, MARK["en"]).format(changes="; ".join(changes)) if changes else ""

"""Helpers for tests that read rendered reports as a reader would (visible text, PDF layout)."""
from __future__ import annotations

import html as _html
import re

#: English words that have no place in a Dutch report (none of them is also a Dutch word).
ENGLISH_WORDS = (
    "the", "and", "with", "without", "which", "from", "into", "that", "this", "these", "those", "would", "should",
    "benefit", "benefits", "cost", "costs", "saving", "savings", "month", "months", "year", "years", "people",
    "person", "persons", "share", "rate", "ratio", "fraction", "calibrated", "assumption", "assumptions",
    "reading", "readings", "chosen", "source", "sources", "warning", "warnings", "traceback", "error",
    "participants", "participant", "programme", "municipality", "society", "ended", "exit", "exits",
    "published", "rebuilt", "sensitivity", "probability", "chance", "value", "values", "total",
    "break-even month", "recession", "average", "none", "never", "description",
    "userwarning", "runtimewarning", "futurewarning", "deprecationwarning", "pp/100", "eur/", "per person",
    "per year", "case", "cases", "report", "figure", "chart", "image", "provided",
)

_WORD_RE = re.compile(r"(?<![\w/.-])(" + "|".join(re.escape(w) for w in sorted(ENGLISH_WORDS, key=len, reverse=True))
                      + r")(?![\w-])", re.IGNORECASE)


def visible_text(html: str) -> str:
    """The text a reader sees (and a screen reader reads: alt texts), without scripts, styles and code."""
    html = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", html, flags=re.S | re.I)
    alts = " ".join(re.findall(r'\balt="([^"]*)"', html))
    body = re.sub(r"<code\b.*?</code\s*>", " ", html, flags=re.S | re.I)  # file references in footnotes
    text = _html.unescape(re.sub(r"<[^>]+>", " ", body)) + " " + _html.unescape(alts)
    return re.sub(r"\s+", " ", text.replace("\xa0", " "))


def english_words(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """English words (from :data:`ENGLISH_WORDS`) in ``text``, each with a little context."""
    for a in allowed:
        text = text.replace(a, " ")
    return [text[max(0, m.start() - 40):m.end() + 40] for m in _WORD_RE.finditer(text)]

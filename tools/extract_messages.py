#!/usr/bin/env python
"""Extract the report message keys and merge them into the nl and en catalogues.

    python tools/extract_messages.py           # write src/mkba/locale/mkba.pot, add new keys to both .po files
    python tools/extract_messages.py --check   # change nothing; exit 1 listing keys missing or untranslated

Babel's extraction (``babel.cfg``: the schema's parameters and units, and literal keys passed to
``text()``, ``label()``, ``heading()`` ... in ``src/mkba``) gives the template; keys that only
exist at run time stay as they are. New keys land in both ``.po`` files with an empty text: fill
in Dutch and English (``tests/test_i18n.py`` fails while an entry is empty or fuzzy).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from babel.messages.pofile import read_po, write_po  # noqa: E402

from mkba import i18n  # noqa: E402

LOCALE = ROOT / "src" / "mkba" / "locale"
WRITE = dict(width=100, no_location=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if a key is missing or empty")
    args = ap.parse_args(argv)
    with (LOCALE / "nl" / "LC_MESSAGES" / "mkba.po").open("rb") as fh:
        nl = read_po(fh, locale="nl", domain=i18n.DOMAIN)
    template, _found = i18n.extract_template(ROOT, nl)
    problems = []
    for lang in i18n.LANGS:
        path = LOCALE / lang / "LC_MESSAGES" / "mkba.po"
        with path.open("rb") as fh:
            cat = read_po(fh, locale=lang, domain=i18n.DOMAIN)
        new = [(m.context, m.id) for m in template if m.id and cat.get(m.id, context=m.context) is None]
        cat.update(template, no_fuzzy_matching=True, update_creation_date=False)
        empty = [(m.context, m.id) for m in cat if m.id and (not m.string or m.fuzzy)]
        problems += [f"{lang}: {'new' if k in new else 'empty or fuzzy'} {k[0]} {k[1]!r}" for k in empty]
        if not args.check and new:
            with path.open("wb") as fh:
                write_po(fh, cat, **WRITE)
            print(f"{path.relative_to(ROOT)}: added {len(new)} keys")
    if not args.check:
        with (LOCALE / "mkba.pot").open("wb") as fh:
            write_po(fh, template, **WRITE)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} entries to fill in (Dutch and English) in src/mkba/locale/*/LC_MESSAGES/mkba.po")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

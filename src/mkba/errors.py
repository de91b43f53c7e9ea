"""Errors that name the file, the field, the value and the fix.

Every user-facing input problem in mkba raises :class:`InputError` (or a
subclass).  The message is meant to be read by a municipal analyst, so it
always says *where* (file and field), *what* (the offending value) and *how to
fix it*.
"""
from __future__ import annotations

import difflib
from typing import Any, Iterable


class InputError(ValueError):
    """Bad input, with enough context to fix it."""

    def __init__(self, problem: str, *, file: str | None = None, field: str | None = None,
                 value: Any = None, fix: str | None = None, has_value: bool | None = None):
        self.problem = problem
        self.file = str(file) if file is not None else None
        self.field = field
        self.value = value
        self.fix = fix
        self.has_value = has_value if has_value is not None else value is not None
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.field:
            where.append(f"field '{self.field}'")
        head = ": ".join([", ".join(where), self.problem]) if where else self.problem
        if self.has_value:
            head += f" (got {self.value!r})"
        if self.fix:
            head += f". Fix: {self.fix}"
        return head

    def with_file(self, file: str) -> "InputError":
        """Return a copy that names ``file`` (used when a nested loader did not know it)."""
        if self.file:
            return self
        return type(self)(self.problem, file=file, field=self.field, value=self.value,
                          fix=self.fix, has_value=self.has_value)


def closest(name: str, options: Iterable[str], n: int = 3) -> list[str]:
    """Closest valid names to ``name`` (for 'did you mean' hints)."""
    options = list(options)
    hits = difflib.get_close_matches(name, options, n=n, cutoff=0.5)
    if not hits:
        # also match on the last dotted component (e.g. 'work_exit_rate' -> 'baseline.work_exit_rate')
        tail = {o.rsplit(".", 1)[-1]: o for o in options}
        hits = [tail[h] for h in difflib.get_close_matches(name.rsplit(".", 1)[-1], list(tail), n=n, cutoff=0.6)]
    return hits


def did_you_mean(name: str, options: Iterable[str]) -> str:
    hits = closest(name, options)
    if hits:
        return "did you mean " + " or ".join(f"'{h}'" for h in hits) + "?"
    return "see `mkba cases` / the parameter schema for valid names"

"""Progress bars (rich) for long command-line runs: sweeps and batch renders.

Shown on stderr, only when stderr is a terminal (pipes, CI logs and tests stay clean). The
sweep bar counts model evaluations through the scale-out executor seam
(:func:`mkba.scaleout.execute` calls ``executor(model, samples, chunk_size, reducer)``), so no
analysis code changes to report progress.
"""
from __future__ import annotations

from typing import Any


def make_progress(*, force: bool | None = None):
    """A rich ``Progress`` with description, bar, done/total, elapsed and time left (stderr)."""
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    console = Console(stderr=True)
    enabled = console.is_terminal if force is None else force
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("left"), TimeRemainingColumn(), console=console, disable=not enabled,
                    transient=False)


class ProgressExecutor:
    """An executor for :mod:`mkba.sensitivity` that runs chunks in this process and advances a bar."""

    def __init__(self, progress: Any, label: str = "draws") -> None:
        self.progress = progress
        self.label = label

    def __call__(self, model, samples, chunk_size, reducer):
        from .scaleout import as_samples, run_chunked

        samples = as_samples(samples)
        task = self.progress.add_task(self.label, total=samples.n)

        def counted(inputs):
            out = model(inputs)
            n = len(next(iter(out.values()))) if out else 0
            self.progress.advance(task, n)
            return out

        return run_chunked(counted, samples, chunk_size, reducer)

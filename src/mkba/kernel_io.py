"""The report kernels' output streams (loaded inside the kernel, through ipykernel's own option).

Every ``display()`` in an ipykernel first flushes ``sys.stdout`` and ``sys.stderr``
(``ZMQDisplayPublisher._flush_streams``), and every flush of an
:class:`ipykernel.iostream.OutStream` hands two callbacks to the IOPub thread and waits for
the second: two thread switches per stream, four per ``display()``, even when nothing was
written. A municipal report displays about twenty objects and prints nothing.

:class:`ReportOutStream` is that stream with one change: a flush when nothing was written
since the last one returns at once. Text that was written is flushed exactly as ipykernel
flushes it, and the IOPub thread sends every message in the order it was scheduled, so
stream output still arrives before the display that follows it. The report kernels get
it through ipykernel's ``--IPKernelApp.outstream_class`` option
(:data:`mkba.kernels.KERNEL_OPTIONS`).
"""
from __future__ import annotations

from ipykernel.iostream import OutStream

__all__ = ["ReportOutStream"]


class ReportOutStream(OutStream):
    """:class:`~ipykernel.iostream.OutStream` whose flush costs nothing when nothing is waiting."""

    def flush(self) -> None:
        lock, buffers = getattr(self, "_buffer_lock", None), getattr(self, "_buffers", None)
        if lock is not None and buffers is not None and self.echo is None:
            with lock:
                waiting = any(b.tell() for b in self._buffers.values())
            if not waiting:
                return
        super().flush()

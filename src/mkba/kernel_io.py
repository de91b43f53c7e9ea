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
        # ipykernel 7 keeps unsent text per parent header in ``_buffers`` (guarded by
        # ``_buffer_lock``); another layout, or an echo stream, gets ipykernel's flush unchanged
        if hasattr(self, "_buffers") and hasattr(self, "_buffer_lock") and self.echo is None:
            with self._buffer_lock:
                waiting = any(b.tell() for b in self._buffers.values())
            if not waiting:
                return
        super().flush()

"""Report kernels: their output streams and how a finished report's kernel ends.

* ``mkba.kernel_io.ReportOutStream`` (ipykernel's ``outstream_class`` option): a flush with
  nothing written costs no trip to the IOPub thread, and printed text still arrives before
  the display that follows it, on both kernel modes.
* The papermill engine kills a finished report's kernel (nbclient's
  ``shutdown_kernel="immediate"``), shuts it down politely on request (``"graceful"``) and
  refuses any other value before papermill writes anything or a kernel is handed out.
"""
from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

NB_DIR = Path(__file__).parent / "fixtures" / "notebooks"

#: prints and displays interleaved, then counts the IOPub-thread callbacks of five displays with
#: nothing printed (ipykernel's own OutStream schedules 2 per stream per display: 20)
ORDER_AND_COUNT = textwrap.dedent("""
    import sys
    from IPython.display import display, Markdown
    print("one")
    display(Markdown("two"))
    print("three", file=sys.stderr)
    display(Markdown("four"))
    sys.stdout.flush(); sys.stderr.flush()
    calls = []
    pub = sys.stdout.pub_thread
    real = pub.schedule
    pub.schedule = lambda f: (calls.append(f), real(f))[1]
    try:
        for _ in range(5):
            display(Markdown("quiet"))
    finally:
        pub.schedule = real
    display(Markdown(f"stream={type(sys.stdout).__name__} scheduled={len(calls) - 5}"))
""")


async def _outputs(mode: str) -> list[tuple[str, str]]:
    """(kind, text) of every output of ORDER_AND_COUNT in a pool kernel of ``mode``."""
    from mkba.kernels import KernelPool

    pool = KernelPool(size=1, limit=1, mode=mode, preload=("IPython.display",))
    await pool.start()
    try:
        k = await pool.acquire()
        try:
            msg_id = k.kc.execute(ORDER_AND_COUNT)
            seen: list[tuple[str, str]] = []
            while True:
                m = await k.kc.get_iopub_msg(timeout=60)
                if m["parent_header"].get("msg_id") != msg_id:
                    continue
                c = m["content"]
                if m["msg_type"] == "stream":
                    seen.append((c["name"], c["text"].strip()))
                elif m["msg_type"] == "display_data":
                    seen.append(("display", c["data"]["text/markdown"]))
                elif m["msg_type"] == "error":
                    raise AssertionError("\n".join(c["traceback"]))
                elif m["msg_type"] == "status" and c["execution_state"] == "idle":
                    return seen
        finally:
            await pool.release(k, now=True)
    finally:
        await pool.close()


@pytest.mark.parametrize("mode", ["fork", "spawn"])
def test_report_kernels_flush_nothing_for_free_and_keep_output_order(mode):
    seen = asyncio.run(_outputs(mode))
    assert seen[:4] == [("stdout", "one"), ("display", "two"), ("stderr", "three"), ("display", "four")]
    # the five quiet displays (and the summary) went out; the callbacks the displays themselves
    # scheduled (one send each, the 5 subtracted) were all: no flush handshakes
    assert seen[4:9] == [("display", "quiet")] * 5
    assert seen[9] == ("display", "stream=ReportOutStream scheduled=0")


class _Recording:
    """A KernelSource that records how each kernel is released."""

    def __init__(self):
        from mkba.pm_engine import KernelSource

        self.source = KernelSource(size=1)
        self.released: list[bool] = []

    def __getattr__(self, name):
        return getattr(self.source, name)

    def release(self, k, *, now: bool = False) -> None:
        self.released.append(now)
        self.source.release(k, now=now)


def _run(out, kernels, **kw):
    import papermill as pm

    return pm.execute_notebook(str(NB_DIR / "report.ipynb"), str(out),
                               parameters={"municipality": "Alphen"}, engine_name="mkba",
                               progress_bar=False, mkba_kernels=kernels, **kw)


def test_a_finished_reports_kernel_is_killed_unless_asked_to_shut_down_gracefully(tmp_path):
    from mkba.errors import InputError

    rec = _Recording()
    try:
        _run(tmp_path / "default.ipynb", rec)
        _run(tmp_path / "graceful.ipynb", rec, shutdown_kernel="graceful")
        _run(tmp_path / "immediate.ipynb", rec, shutdown_kernel="immediate")
        with pytest.raises(InputError, match=r"field 'shutdown_kernel'.*'politely'.*Fix: 'graceful' or 'immediate'"):
            _run(tmp_path / "refused.ipynb", rec, shutdown_kernel="politely")
    finally:
        rec.source.close()
    assert rec.released == [True, False, True]   # the refused run got no kernel
    assert not (tmp_path / "refused.ipynb").exists()
    for name in ("default", "graceful", "immediate"):   # every output arrived before the kill
        assert "REPORT-MARKER Alphen" in (tmp_path / f"{name}.ipynb").read_text()


def test_report_kernels_keep_no_input_history_and_import_nothing_the_fork_server_has_not():
    """No SQLite history (not even in memory); the modules a kernel needs to start are preloaded."""
    code = textwrap.dedent("""
        import sys
        from IPython.core.history import DummyDB
        from IPython.display import display, Markdown
        import mkba.kernels
        hm = get_ipython().history_manager
        new = sorted(set(sys.modules) - mkba.kernels._FORK_SERVER_MODULES)
        display(Markdown(f"db={type(hm.db).__name__} new={new}"))
    """)

    async def run():
        from mkba.kernels import KernelPool

        pool = KernelPool(size=1, limit=1, mode="fork")
        await pool.start()
        try:
            k = await pool.acquire()
            try:
                msg_id = k.kc.execute(code)
                while True:
                    m = await k.kc.get_iopub_msg(timeout=60)
                    if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "display_data":
                        return m["content"]["data"]["text/markdown"]
                    if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "error":
                        raise AssertionError("\\n".join(m["content"]["traceback"]))
            finally:
                await pool.release(k, now=True)
        finally:
            await pool.close()

    assert asyncio.run(run()) == "db=DummyDB new=[]"

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


# -- the report kernels' client: jupyter_client's readiness check without its fixed waits --------

class _Channel:
    """A channel that hands out queued messages; an empty queue (or None in it) times out."""

    def __init__(self):
        self.queue: list = []
        self.timeouts: list[float] = []

    async def get_msg(self, timeout=None):
        from queue import Empty

        self.timeouts.append(timeout)
        item = self.queue.pop(0) if self.queue else None
        if item is None:
            raise Empty
        return item


def _msg(msg_type, parent, **content):
    return {"msg_type": msg_type, "parent_header": {"msg_id": parent}, "content": content}


class _FakeClient:
    """What ``wait_for_ready`` uses of a client: a new IOPub subscription that misses the status
    messages of the first ``kernel_info`` and receives those of the second."""

    def __init__(self):
        self.shell_channel, self.iopub_channel = _Channel(), _Channel()
        self.asked: list[str] = []
        self.handled: list[dict] = []

    def kernel_info(self):
        msg_id = f"ki-{len(self.asked) + 1}"
        self.asked.append(msg_id)
        self.shell_channel.queue.append(_msg("kernel_info_reply", msg_id, status="ok"))
        if msg_id == "ki-1":
            self.iopub_channel.queue.append(None)        # published before the subscription arrived
        else:
            self.iopub_channel.queue += [_msg("status", "ki-1", execution_state="idle"),   # a late one
                                         _msg("status", msg_id, execution_state="busy"),
                                         _msg("status", msg_id, execution_state="idle"),
                                         _msg("stream", "later", name="stdout", text="after")]
        return msg_id

    def _handle_kernel_info_reply(self, msg):
        self.handled.append(msg)

    async def _async_is_alive(self):
        return True


def test_the_report_client_asks_again_until_iopub_answers_and_reads_it_up_to_its_own_idle():
    """Hand-worked: the first ``kernel_info``'s status is lost (the subscription was late), so the
    client waits 0,02 s on IOPub and asks again, now waiting 0,04 s; it reads IOPub up to and
    including the ``idle`` of its second request (a late status of the first is passed over, not
    taken for it) and leaves what the kernel published after it. jupyter_client's own client would
    instead wait for 0,2 s of IOPub silence after every successful check."""
    from mkba.kernels import IOPUB_PROBE_S, _client_class

    c = _FakeClient()
    asyncio.run(_client_class().wait_for_ready(c, timeout=10))
    assert c.asked == ["ki-1", "ki-2"]
    assert [m["parent_header"]["msg_id"] for m in c.handled] == ["ki-2"]
    assert c.iopub_channel.queue == [_msg("stream", "later", name="stdout", text="after")]
    assert IOPUB_PROBE_S == 0.02 and c.iopub_channel.timeouts[0] == pytest.approx(0.02, abs=1e-3)
    assert all(t <= 0.04 for t in c.iopub_channel.timeouts[1:])
    assert c.iopub_channel.timeouts[1] == pytest.approx(0.04, abs=5e-3)


def test_the_report_client_gives_up_when_the_kernel_never_answers():
    from mkba.kernels import _client_class

    c = _FakeClient()
    c.kernel_info = lambda: "ki-silent"         # nothing ever comes back
    with pytest.raises(RuntimeError, match="Kernel didn't respond in 0 seconds"):
        asyncio.run(_client_class().wait_for_ready(c, timeout=0.05))


def test_a_report_kernels_new_client_is_the_report_client_and_starts_clean():
    """A report's notebook client opens its own client on the pool's kernel (as nbclient does): it
    is the report client (through jupyter_client's ``client_factory``), ready, with nothing left
    on IOPub from before, and runs code."""
    from mkba.kernels import KernelPool, _client_class

    async def run():
        pool = KernelPool(size=1, limit=1, mode="fork", preload=("IPython.display",))
        await pool.start()
        try:
            k = await pool.acquire()
            try:
                kc = k.km.client()
                kc.start_channels()
                try:
                    await kc.wait_for_ready(timeout=60)
                    assert type(kc) is _client_class() and type(k.kc) is _client_class()
                    assert not await kc.iopub_channel.msg_ready()
                    msg_id = kc.execute("from IPython.display import display, Markdown; display(Markdown('ok'))")
                    while True:
                        m = await kc.get_iopub_msg(timeout=60)
                        assert m["parent_header"].get("msg_id") == msg_id   # nothing stale before it
                        if m["msg_type"] == "display_data":
                            return m["content"]["data"]["text/markdown"]
                finally:
                    kc.stop_channels()
            finally:
                await pool.release(k, now=True)
        finally:
            await pool.close()

    assert asyncio.run(run()) == "ok"

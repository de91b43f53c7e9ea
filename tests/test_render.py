"""The batch renderer on small fixture notebooks (no mkba model needed).

Kernel-starting tests share a few renders (module-scoped fixtures) to keep the
whole file well under a minute.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from mkba import manifest as mf
from mkba.errors import InputError
from mkba.render import (BatchResult, NonLiteral, RenderJob, notebook_parameters, render_batch,
                         resolve_notebook, validate_jobs)

pytestmark = pytest.mark.slow

NB_DIR = Path(__file__).parent / "fixtures" / "notebooks"
REPORT = NB_DIR / "report.ipynb"
PNG = NB_DIR / "figure_png.ipynb"
MISBEHAVE = NB_DIR / "misbehave.ipynb"
NO_PARAMS = NB_DIR / "no_parameters.ipynb"


def job(name, **params):
    return RenderJob(name=name, notebook=REPORT, parameters=params, title=f"Rapport {name}")


def data_uri_payloads(html: str) -> list[str]:
    """Decoded text of every base64 data URI (SVG figures are embedded this way)."""
    out = []
    for m in re.finditer(r'data:image/(?:svg\+xml|png);base64,([A-Za-z0-9+/=]+)', html):
        out.append(base64.b64decode(m.group(1)).decode("latin-1"))
    return out


def no_temp_files(d: Path) -> bool:
    return not [p for p in d.rglob(f"*{mf.TMP_SUFFIX}")]


@pytest.fixture
def no_kernels(monkeypatch):
    """Fail the test if anything tries to start a kernel."""
    import mkba.kernels

    async def boom(self):  # pragma: no cover - only runs on a bug
        raise AssertionError("a kernel pool was started")

    monkeypatch.setattr(mkba.kernels.KernelPool, "start", boom)
    monkeypatch.setattr(mkba.kernels.ForkServer, "start", lambda self: (_ for _ in ()).throw(
        AssertionError("a fork server was started")))


# ---------------------------------------------------------------------------
# parameters cell
# ---------------------------------------------------------------------------

def test_notebook_parameters_from_fixture():
    p = notebook_parameters(REPORT)
    assert p == {"municipality": "Voorbeeldstad", "participants": 120, "effect_pp": 0.05,
                 "cost_per_participant": 4500.0, "lang": "nl", "scenarios": ["gemiddeld"],
                 "fail": False, "note": None}
    assert notebook_parameters(NO_PARAMS) == {}


def test_notebook_parameters_never_executes(tmp_path):
    import nbformat

    src = ("import numpy as np\nx: float = 1.5  # help\na, b = 1, 'two'\nc = np.nan\n"
           "d = open('/should/not/run')\n%matplotlib inline\ne = -3\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src, metadata={"tags": ["parameters"]})])
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    p = notebook_parameters(path)
    assert p["x"] == 1.5 and p["a"] == 1 and p["b"] == "two" and p["e"] == -3
    assert p["c"] == NonLiteral("np.nan")
    assert isinstance(p["d"], NonLiteral)


def test_resolve_notebook():
    assert resolve_notebook("report", NB_DIR) == NB_DIR / "report.ipynb"
    with pytest.raises(InputError) as e:
        resolve_notebook("reprot", NB_DIR)
    assert "report" in str(e.value)


def test_kernel_is_this_interpreter():
    from mkba.kernels import _spec_manager, kernel_argv

    assert kernel_argv()[0] == sys.executable
    spec = _spec_manager().get_kernel_spec("python3")
    assert spec.argv[0] == sys.executable and spec.language == "python"


# ---------------------------------------------------------------------------
# papermill semantics
# ---------------------------------------------------------------------------

def test_reports_run_through_papermill_on_the_mkba_engine(batch):
    """papermill itself parameterised and ran the notebook: its injected cell and metadata."""
    pm = pytest.importorskip("papermill")
    from papermill.engines import papermill_engines

    from mkba.pm_engine import MkbaEngine

    assert papermill_engines.get_engine("mkba") is MkbaEngine  # the entry point
    _, out, _ = batch
    nb = json.loads((out / "notebooks" / "alpha.ipynb").read_text())
    meta = nb["metadata"]["papermill"]
    assert meta["version"] == pm.__version__
    assert meta["parameters"] == {"municipality": "Alphen", "participants": 100}
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and 'municipality = "Alphen"' in "".join(injected[0]["source"])
    failed = json.loads((out / "failed" / "gamma.ipynb").read_text())
    assert "papermill-error-cell-tag" in failed["cells"][0]["metadata"]["tags"]


def test_papermill_engine_refuses_bad_parameters_before_any_kernel(tmp_path, no_kernels):
    """`--engine mkba` gives mkba render's errors for what papermill only warns about."""
    pm = pytest.importorskip("papermill")

    from mkba.pm_engine import NotebookParameterError

    with pytest.raises(NotebookParameterError, match="no cell tagged 'parameters'"):
        pm.execute_notebook(str(NO_PARAMS), str(tmp_path / "o.ipynb"), parameters={"x": 1},
                            engine_name="mkba", progress_bar=False)
    with pytest.raises(NotebookParameterError, match="unknown parameter.*did you mean 'participants'"):
        pm.execute_notebook(str(REPORT), str(tmp_path / "o.ipynb"), parameters={"participant": 1},
                            engine_name="mkba", progress_bar=False)
    with pytest.raises(NotebookParameterError, match="wrong type"):
        pm.execute_notebook(str(REPORT), str(tmp_path / "o.ipynb"), parameters={"participants": "x"},
                            engine_name="mkba", progress_bar=False)
    assert list(tmp_path.iterdir()) == []  # nothing written


# ---------------------------------------------------------------------------
# bad input: clear errors before any kernel starts, nothing touched
# ---------------------------------------------------------------------------

def test_unknown_parameter_is_an_error(tmp_path, no_kernels):
    with pytest.raises(InputError) as e:
        render_batch([job("a", participant=3)], tmp_path / "out")
    msg = str(e.value)
    assert "unknown parameter" in msg and "participant" in msg and "'participants'" in msg
    assert e.value.file == str(REPORT)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("params, expected", [
    ({"participants": "120"}, "expected whole number"),
    ({"participants": 120.5}, "expected whole number"),
    ({"effect_pp": True}, "expected number"),
    ({"fail": "no"}, "expected true/false"),
    ({"municipality": 42}, "expected text"),
    ({"scenarios": "gemiddeld"}, "expected list"),
    ({"participants": None}, "got None"),
    ({"municipality": object()}, "cannot be passed"),
])
def test_wrong_type_is_an_error(tmp_path, no_kernels, params, expected):
    with pytest.raises(InputError) as e:
        validate_jobs([job("a", **params)], tmp_path)
    assert expected in str(e.value)
    assert e.value.field == next(iter(params))


def test_compatible_types_are_accepted(no_kernels):
    import numpy as np

    validate_jobs([job("a", participants=np.int64(3), effect_pp=1, cost_per_participant=np.float64(2),
                       scenarios=("x", "y"), note="anything", lang="en")])


def test_unknown_notebook_is_an_error(tmp_path, no_kernels):
    bad = RenderJob(name="x", notebook=NB_DIR / "reprot.ipynb")
    with pytest.raises(InputError) as e:
        render_batch([bad], tmp_path / "out")
    assert "not found" in str(e.value) and "report.ipynb" in str(e.value)
    assert not (tmp_path / "out").exists()


def test_parameters_for_notebook_without_parameters_cell(tmp_path, no_kernels):
    with pytest.raises(InputError) as e:
        validate_jobs([RenderJob(name="x", notebook=NO_PARAMS, parameters={"a": 1})])
    assert "no cell tagged 'parameters'" in str(e.value)


def test_duplicate_and_reserved_names(no_kernels):
    with pytest.raises(InputError, match="same name"):
        validate_jobs([job("a"), job("a")])
    with pytest.raises(InputError, match="same file"):
        validate_jobs([RenderJob("a", REPORT, output_stem="x"), RenderJob("b", REPORT, output_stem="X")])
    with pytest.raises(InputError, match="output file name"):
        validate_jobs([RenderJob("a", REPORT, output_stem="index")])
    with pytest.raises(InputError, match="output file name"):
        validate_jobs([RenderJob("a", REPORT, output_stem="../escape")])


def test_unwritable_out_dir(tmp_path, no_kernels):
    f = tmp_path / "a_file"
    f.write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        render_batch([job("a")], f / "out")
    with pytest.raises(InputError, match="not a directory"):
        render_batch([job("a")], f)
    assert f.read_text() == "x"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_out_dir(tmp_path, no_kernels):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(InputError, match="cannot be written"):
            render_batch([job("a")], ro)
    finally:
        ro.chmod(0o700)


def test_bad_options(tmp_path, no_kernels, monkeypatch):
    with pytest.raises(InputError, match="workers"):
        render_batch([job("a")], tmp_path, workers=0)
    with pytest.raises(InputError, match="lang"):
        render_batch([job("a")], tmp_path, lang="fr")
    import mkba.render

    monkeypatch.setattr(mkba.render, "_WEASYPRINT_OK", None)
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails
    with pytest.raises(InputError, match="WeasyPrint"):
        render_batch([job("a")], tmp_path, pdf=True)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------
# one real batch, inspected by several tests
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    events = []
    jobs = [job("alpha", municipality="Alphen", participants=100),
            job("beta", municipality="Bergen", participants=200, effect_pp=0.1),
            job("gamma", municipality="Goes", fail=True),
            RenderJob(name="png", notebook=PNG, parameters={"title": "PNG-figuur"}),
            RenderJob(name="dies", notebook=MISBEHAVE, parameters={"mode": "exit"}),
            RenderJob(name="state1", notebook=MISBEHAVE),
            RenderJob(name="state2", notebook=MISBEHAVE)]
    res = render_batch(jobs, out, workers=2, progress=lambda ev, e: events.append((ev, e["name"])),
                       assumptions_hash=lambda j: f"hash-{j.name}")
    return res, out, events


def test_batch_result(batch):
    res, out, events = batch
    assert isinstance(res, BatchResult)
    assert sorted(res.ok) == ["alpha", "beta", "png", "state1", "state2"]
    assert res.failed == ["gamma", "dies"]
    assert res.exit_code == 1
    assert {(ev, n) for ev, n in events} >= {("start", "alpha"), ("done", "alpha"), ("done", "gamma")}
    for name in ("alpha", "beta", "png"):
        assert (out / f"{name}.html").is_file()
        assert (out / "notebooks" / f"{name}.ipynb").is_file()
    assert not (out / "gamma.html").exists()
    assert (out / "failed" / "gamma.ipynb").is_file()
    assert no_temp_files(out)


def test_dead_kernel_is_recorded_and_batch_goes_on(batch):
    res, out, _ = batch
    err = res.entry("dies")["error"]
    assert err["type"] == "DeadKernelError"
    assert (out / "state1.html").exists() and (out / "state2.html").exists()


def test_each_report_has_a_fresh_kernel(batch):
    """No globals from another report; a fresh random state; the notebook's directory as cwd."""
    _, out, _ = batch
    seen = []
    for name in ("state1", "state2"):
        html = (out / f"{name}.html").read_text(encoding="utf-8")
        assert "GLOBAL clean" in html
        assert f"CWD {NB_DIR.resolve()}" in html
        seen.append(re.search(r"RNG ([0-9.]+)", html).group(1))
    assert seen[0] != seen[1]


def test_reports_are_isolated(batch):
    _, out, _ = batch
    a = (out / "alpha.html").read_text(encoding="utf-8")
    b = (out / "beta.html").read_text(encoding="utf-8")
    assert "REPORT-MARKER Alphen" in a and "Bergen" not in a
    assert "REPORT-MARKER Bergen" in b and "Alphen" not in b
    fa, fb = "".join(data_uri_payloads(a)), "".join(data_uri_payloads(b))
    assert "FIGURE-TITLE Alphen" in fa and "FIGURE-TITLE Bergen" not in fa
    assert "FIGURE-TITLE Bergen" in fb and "FIGURE-TITLE Alphen" not in fb
    # values computed from the report's own parameters
    assert "€ -372.000" not in a  # the default-parameter result
    assert "Netto contante waarde: € -310.000" in a  # 100 participants
    assert "Netto contante waarde: € -340.000" in b  # 200 participants, 10 pp effect


def test_html_is_self_contained_without_code(batch):
    _, out, _ = batch
    for name in ("alpha", "png"):
        html = (out / f"{name}.html").read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]*\bsrc=", html)
        assert not re.search(r"""<link[^>]*href=["']?(https?:)?//""", html)
        assert "cdnjs" not in html and "mathjax" not in html.lower().replace("mathjax_", "")
        for code in ("import matplotlib", "participants = ", "emit_key_figures", "# Parameters"):
            assert code not in html, code
        assert re.search(r'<html lang="nl"', html)
        assert "vnd.mkba.key-figures" not in html
    png = (out / "png.html").read_text(encoding="utf-8")
    assert 'src="data:image/png;base64,' in png
    assert "<title>Rapport alpha</title>" in (out / "alpha.html").read_text(encoding="utf-8")


def test_manifest(batch):
    res, out, _ = batch
    m = json.loads((out / "manifest.json").read_text())
    assert m["mkba_version"]
    assert set(m["reports"]) == {"alpha", "beta", "gamma", "png", "dies", "state1", "state2"}
    a = m["reports"]["alpha"]
    assert a["status"] == "ok" and a["error"] is None
    assert a["parameters"] == {"municipality": "Alphen", "participants": 100}
    assert a["assumptions_hash"] == "hash-alpha"
    assert a["key_figures"]["npv_eur"] == -310000.0
    assert a["key_figures"]["municipality"] == "Alphen"
    assert a["outputs"]["html"] == "alpha.html"
    assert "git_commit" in a and "mkba_version" in a
    for k in ("kernel_wait_s", "execute_s", "export_s", "total_s"):
        assert a["timings"][k] >= 0
    g = m["reports"]["gamma"]
    assert g["status"] == "failed"
    assert g["error"]["type"] == "RuntimeError"
    assert "deliberate failure for Goes" in g["error"]["summary"]
    assert "RuntimeError" in g["error"]["traceback"]
    assert m["batch"]["failed"] == 2 and m["batch"]["ok"] == 5


def test_index(batch):
    _, out, _ = batch
    html = (out / "index.html").read_text(encoding="utf-8")
    assert '<html lang="nl">' in html
    assert "Netto contante waarde" in html and "€ -310.000" in html
    assert "mislukt" in html and "geslaagd" in html
    assert 'href="alpha.html"' in html and 'href="gamma.html"' not in html
    assert "deliberate failure for Goes" in html
    assert not re.search(r"<script[^>]*\bsrc=", html) and "<script>" in html  # inline JS only


def test_executed_notebook_matches_papermill(batch, tmp_path, monkeypatch):
    """Same cells and outputs as running papermill itself on the same parameters."""
    pm = pytest.importorskip("papermill")
    # tests run with MPLBACKEND=Agg (conftest); a papermill kernel would inherit it and lose
    # every figure. The renderer always gives kernels the inline backend; do the same here.
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    _, out, _ = batch
    ref = pm.execute_notebook(str(REPORT), str(tmp_path / "pm.ipynb"), progress_bar=False,
                              parameters={"municipality": "Alphen", "participants": 100},
                              kernel_name="python3", cwd=str(REPORT.parent))
    mine = json.loads((out / "notebooks" / "alpha.ipynb").read_text())

    def text_outputs(cells):
        res = []
        for c in cells:
            src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            outs = []
            for o in c.get("outputs", []):
                if o["output_type"] == "stream":
                    outs.append(("stream", "".join(o["text"])))
                else:
                    data = o.get("data", {})
                    outs.append((o["output_type"], tuple(sorted(data)),
                                 json.dumps(data.get("application/vnd.mkba.key-figures+json"),
                                            sort_keys=True)))
            res.append((c["cell_type"], src, c.get("execution_count"), outs))
        return res

    assert text_outputs(mine["cells"]) == text_outputs(ref["cells"])
    assert set(mine["metadata"]["papermill"]) == set(ref.metadata.papermill)
    for c in mine["cells"]:
        assert c["metadata"]["papermill"]["status"] == "completed"


def test_no_kernel_processes_left(batch):
    psutil = pytest.importorskip("psutil")
    kids = psutil.Process().children(recursive=True)
    assert not [k for k in kids if "python" in " ".join(k.cmdline())], kids


# ---------------------------------------------------------------------------
# resume, failures after success, atomic writes (reuse a copy of the batch output)
# ---------------------------------------------------------------------------

@pytest.fixture
def out_copy(batch, tmp_path):
    _, out, _ = batch
    dst = tmp_path / "out"
    shutil.copytree(out, dst)
    return dst


def test_resume_skips_unchanged(out_copy):
    before = (out_copy / "alpha.html").read_bytes()
    jobs = [job("alpha", municipality="Alphen", participants=100),
            job("beta", municipality="Bergen", participants=201, effect_pp=0.1)]
    res = render_batch(jobs, out_copy, resume=True)
    assert res.skipped == ["alpha"] and res.ok == ["beta"]
    assert (out_copy / "alpha.html").read_bytes() == before
    m = json.loads((out_copy / "manifest.json").read_text())
    assert m["reports"]["alpha"]["status"] == "skipped"
    assert m["reports"]["beta"]["parameters"]["participants"] == 201
    # earlier reports of other batches stay in the index
    assert {"gamma", "png"} <= set(m["reports"])
    # a changed data fingerprint re-renders (here also asking for a PDF)
    pdf = pytest.importorskip("weasyprint") is not None
    res = render_batch(jobs[:1], out_copy, resume=True, pdf=pdf, data_fingerprint=lambda j: "new data")
    assert res.ok == ["alpha"], res.entries[0]["error"]
    assert (out_copy / "alpha.pdf").read_bytes().startswith(b"%PDF")
    assert res.entry("alpha")["outputs"]["pdf"] == "alpha.pdf"
    res = render_batch(jobs[:1], out_copy, resume=True, pdf=True, data_fingerprint=lambda j: "new data")
    assert res.skipped == ["alpha"]


def test_failures_keep_previous_good_reports(out_copy, monkeypatch):
    """A report that fails to execute, and one whose HTML write dies half-way (disk full),
    both leave the earlier good report untouched, and no temporary files."""
    before = {n: (out_copy / f"{n}.html").read_bytes() for n in ("alpha", "beta")}
    real = mf._write_all

    def half_then_crash(f, data):
        if b"REPORT-MARKER Bergen" in data and b"<html" in data[:2000]:
            f.write(data[: len(data) // 2])
            raise OSError(28, "No space left on device (simulated)")
        real(f, data)

    monkeypatch.setattr(mf, "_write_all", half_then_crash)
    res = render_batch([job("alpha", municipality="Alphen", fail=True),
                        job("beta", municipality="Bergen", participants=7)], out_copy, workers=2)
    assert sorted(res.failed) == ["alpha", "beta"] and res.exit_code == 1
    assert "No space left" in res.entry("beta")["error"]["summary"]
    for n in ("alpha", "beta"):
        assert (out_copy / f"{n}.html").read_bytes() == before[n]
    e = json.loads((out_copy / "manifest.json").read_text())["reports"]["alpha"]
    assert e["status"] == "failed" and e["previous_outputs"]["html"] == "alpha.html"
    assert "vorige versie" in (out_copy / "index.html").read_text(encoding="utf-8")
    assert no_temp_files(out_copy)


def test_atomic_write_unit(tmp_path, monkeypatch):
    p = tmp_path / "f.txt"
    mf.atomic_write(p, "old")

    def crash(f, data):
        f.write(data[:2])
        raise KeyboardInterrupt

    monkeypatch.setattr(mf, "_write_all", crash)
    with pytest.raises(KeyboardInterrupt):
        mf.atomic_write(p, "new content")
    assert p.read_text() == "old"
    assert no_temp_files(tmp_path)


def test_stale_temp_files_of_dead_processes_are_removed(tmp_path):
    dead = tmp_path / f".r.html.999999999.abcd{mf.TMP_SUFFIX}"
    live = tmp_path / f".r.html.{os.getpid()}.abcd{mf.TMP_SUFFIX}"
    dead.write_text("x")
    live.write_text("x")
    assert mf.clean_stale_temp_files(tmp_path) == [dead]
    assert live.exists()


# ---------------------------------------------------------------------------
# other modes
# ---------------------------------------------------------------------------

def test_spawn_mode_english_and_timeout(tmp_path):
    slow = RenderJob(name="slow", notebook=MISBEHAVE, parameters={"mode": "sleep", "seconds": 60})
    res = render_batch([job("en", municipality="Elst"), slow], tmp_path, lang="en",
                       kernel_mode="spawn", workers=2, timeout=4)
    assert res.ok == ["en"], res.entries[0].get("error")
    assert res.entry("slow")["error"]["type"] == "ReportTimeout"  # per report, recorded as failed
    html = (tmp_path / "en.html").read_text(encoding="utf-8")
    assert "Net present value: -€" in html  # the notebook's `lang` parameter got "en"
    assert '<html lang="en"' in html
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Net present value" in index and '<html lang="en">' in index


def test_dask(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster:
        res = render_batch([job("d1", municipality="Delft"), job("d2", municipality="Dongen", fail=True)],
                           tmp_path, dask_address=cluster.scheduler_address)
    assert res.ok == ["d1"] and res.failed == ["d2"]
    html = (tmp_path / "d1.html").read_text(encoding="utf-8")
    assert "REPORT-MARKER Delft" in html and "Dongen" not in html
    assert json.loads((tmp_path / "manifest.json").read_text())["reports"]["d1"]["key_figures"]


# ---------------------------------------------------------------------------
# offline headless Chromium: no console errors, no network requests
# ---------------------------------------------------------------------------

class _Chromium:
    """Minimal Chrome DevTools Protocol client over --remote-debugging-pipe (no extra packages).

    The browser has no network (unresolvable hosts, dead proxy): any request to
    the outside shows up as a request and as a console error.
    """

    def __init__(self, exe: str):
        import subprocess
        import tempfile

        self.profile = tempfile.mkdtemp(prefix="mkba-chromium-")
        r_cmd, self.w_cmd = os.pipe()
        self.r_out, w_out = os.pipe()

        def fds():  # chromium reads commands on fd 3 and answers on fd 4
            a, b = os.dup(r_cmd), os.dup(w_out)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
             f"--user-data-dir={self.profile}", "--no-first-run", "--disable-extensions",
             "--disable-background-networking", "about:blank"],
            preexec_fn=fds, close_fds=False, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(r_cmd)
        os.close(w_out)
        self.buf, self.msgs, self.n = b"", [], 0
        tid = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.sid = self.call("Target.attachToTarget", {"targetId": tid, "flatten": True})["sessionId"]
        for m in ("Runtime.enable", "Log.enable", "Network.enable", "Page.enable"):
            self.call(m, session=True)

    def _pump(self, until, seconds: float):
        import select
        import time as _t

        deadline = _t.monotonic() + seconds
        while True:
            for i, m in enumerate(self.msgs):
                if until(m):
                    return self.msgs.pop(i)
            left = deadline - _t.monotonic()
            if left <= 0:
                return None
            if select.select([self.r_out], [], [], min(left, 0.1))[0]:
                chunk = os.read(self.r_out, 1 << 16)
                if not chunk:
                    raise RuntimeError("chromium exited")
                self.buf += chunk
                while b"\0" in self.buf:
                    raw, self.buf = self.buf.split(b"\0", 1)
                    self.msgs.append(json.loads(raw))

    def call(self, method, params=None, session=False, timeout=30.0):
        self.n += 1
        msg = {"id": self.n, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.sid
        os.write(self.w_cmd, json.dumps(msg).encode() + b"\0")
        n = self.n
        reply = self._pump(lambda m: m.get("id") == n, timeout)
        if reply is None or "error" in reply:
            raise RuntimeError(f"{method}: {reply}")
        return reply["result"]

    def open(self, url: str) -> list:
        """Load ``url``; return console errors/warnings, exceptions, failed loads, outside requests."""
        self.msgs.clear()
        self.call("Page.navigate", {"url": url}, session=True)
        self._pump(lambda m: m.get("method") == "Page.loadEventFired", 30)
        self._pump(lambda m: False, 0.5)  # late errors
        problems = []
        for m in self.msgs:
            meth, p = m.get("method"), m.get("params", {})
            if m.get("sessionId") != self.sid:
                continue
            if meth == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                problems.append(("console." + p["type"], [a.get("value") for a in p.get("args", [])]))
            elif meth == "Runtime.exceptionThrown":
                problems.append(("exception", p["exceptionDetails"].get("text")))
            elif meth == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                problems.append(("log." + p["entry"]["level"], p["entry"]["text"]))
            elif meth == "Network.requestWillBeSent" and \
                    not p["request"]["url"].startswith(("file:", "data:", "about:")):
                problems.append(("request", p["request"]["url"]))
            elif meth == "Network.loadingFailed":
                problems.append(("load-failed", p.get("errorText")))
        return problems

    def eval(self, expr: str):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=True)
        return r["result"].get("value")

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        os.close(self.w_cmd)
        os.close(self.r_out)
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not exe:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    c = _Chromium(exe)
    yield c
    c.close()


def test_offline_chromium_no_console_errors(batch, chromium, tmp_path):
    _, out, _ = batch
    # the checker itself catches what nbconvert's default HTML would do offline
    bad = tmp_path / "bad.html"
    bad.write_text('<html><head><script src="https://cdnjs.cloudflare.com/x.js"></script></head>'
                   '<body><script>undefinedFn()</script></body></html>')
    assert {k for k, _ in chromium.open(bad.as_uri())} >= {"request", "exception"}
    for name in ("alpha.html", "png.html", "index.html"):
        assert chromium.open((out / name).as_uri()) == [], name


def test_index_sorts_and_filters_in_a_browser(batch, chromium):
    _, out, _ = batch
    assert chromium.open((out / "index.html").as_uri()) == []
    rows = "Array.from(document.querySelectorAll('#reports tbody tr'))"
    # column 3 = first key figure (npv_eur); click twice -> descending
    col = chromium.eval("Array.from(document.querySelectorAll('#reports th')).map(t => t.textContent)"
                        ".indexOf('Netto contante waarde')")
    assert col >= 2
    chromium.eval(f"document.querySelectorAll('#reports th')[{col}].click()")
    asc = chromium.eval(f"{rows}.map(r => r.cells[{col}].getAttribute('data-sort'))"
                        ".filter(v => v !== '').map(Number)")
    assert asc == sorted(asc) and len(asc) >= 2
    chromium.eval(f"document.querySelectorAll('#reports th')[{col}].click()")
    desc = chromium.eval(f"{rows}.map(r => r.cells[{col}].getAttribute('data-sort'))"
                         ".filter(v => v !== '').map(Number)")
    assert desc == sorted(desc, reverse=True)
    chromium.eval("var q = document.getElementById('filter'); q.value = 'BETA';"
                  "q.dispatchEvent(new Event('input'))")
    visible = chromium.eval(f"{rows}.filter(r => !r.classList.contains('hidden')).length")
    assert visible == 1
    chromium.eval("var q = document.getElementById('filter'); q.value = '';"
                  "q.dispatchEvent(new Event('input'));"
                  "var s = document.getElementById('status-filter'); s.value = 'failed';"
                  "s.dispatchEvent(new Event('change'))")
    failed = chromium.eval(f"{rows}.filter(r => !r.classList.contains('hidden'))"
                           ".map(r => r.getAttribute('data-status'))")
    assert failed and set(failed) == {"failed"}


# ---------------------------------------------------------------------------
# batch bookkeeping (issue 13): concurrent batches, corrupt manifest, resume, SIGTERM
# ---------------------------------------------------------------------------

def test_a_batch_keeps_entries_another_batch_wrote_meanwhile(out_copy):
    """Re-read + merge: an entry written to manifest.json while this batch runs survives."""
    def other_batch_finishes(event, entry):
        if event == "start":
            m = json.loads((out_copy / "manifest.json").read_text())
            m["reports"]["from_other_batch"] = dict(m["reports"]["alpha"], name="from_other_batch")
            mf.write_manifest(out_copy, m)

    res = render_batch([job("delta", municipality="Delft")], out_copy, progress=other_batch_finishes)
    assert res.ok == ["delta"]
    m = json.loads((out_copy / "manifest.json").read_text())
    assert {"from_other_batch", "delta", "alpha", "gamma"} <= set(m["reports"])
    assert "from_other_batch" in (out_copy / "index.html").read_text(encoding="utf-8")


_BATCH_SCRIPT = """
import sys, json
from pathlib import Path
from mkba.render import RenderJob, render_batch, Terminated
nb = Path(sys.argv[1]); out = sys.argv[2]; jobs = json.loads(sys.argv[3])
try:
    r = render_batch([RenderJob(name=n, notebook=nb / f, parameters=p) for n, f, p in jobs], out,
                     workers=int(sys.argv[4]) if len(sys.argv) > 4 else 1)
except Terminated:
    sys.exit(143)
sys.exit(r.exit_code)
"""


def _batch_proc(out, jobs, workers=1):
    import subprocess

    return subprocess.Popen([sys.executable, "-c", _BATCH_SCRIPT, str(NB_DIR), str(out), json.dumps(jobs),
                             str(workers)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_concurrent_batches_into_one_out_keep_both_manifests(tmp_path):
    a = [[f"a{i}", "report.ipynb", {"municipality": f"Aa{i}"}] for i in range(3)]
    b = [[f"b{i}", "report.ipynb", {"municipality": f"Bb{i}"}] for i in range(3)]
    pa, pb = _batch_proc(tmp_path, a), _batch_proc(tmp_path, b)
    for p in (pa, pb):
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
    m = json.loads((tmp_path / "manifest.json").read_text())
    names = {f"a{i}" for i in range(3)} | {f"b{i}" for i in range(3)}
    assert names <= set(m["reports"]) and all(m["reports"][n]["status"] == "ok" for n in names)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{n}.html"' in index for n in names)


def test_corrupt_manifest_is_kept_aside_and_rebuilt_from_disk(out_copy):
    (out_copy / "manifest.json").write_text('{"reports": {"alpha": ')  # cut off mid-write by hand
    res = render_batch([job("delta", municipality="Delft")], out_copy)
    assert any("manifest.json" in n and "rebuilt" in n for n in res.notes), res.notes
    aside = list(out_copy.glob("manifest.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == '{"reports": {"alpha": '
    m = json.loads((out_copy / "manifest.json").read_text())
    on_disk = {"alpha", "beta", "png", "state1", "state2"}
    assert on_disk | {"delta", "gamma"} <= set(m["reports"])
    assert m["reports"]["alpha"]["parameters"] == {"municipality": "Alphen", "participants": 100}
    assert m["reports"]["alpha"]["key_figures"] and m["reports"]["gamma"]["status"] == "failed"
    index = (out_copy / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{n}.html"' in index for n in on_disk | {"delta"})


def test_resume_checks_the_output_files_and_the_code(out_copy, monkeypatch):
    jobs = [job("alpha", municipality="Alphen", participants=100),
            job("beta", municipality="Bergen", participants=200, effect_pp=0.1)]
    res = render_batch(jobs, out_copy, resume=True)
    assert res.skipped == ["alpha", "beta"]
    good = (out_copy / "alpha.html").read_bytes()
    (out_copy / "alpha.html").write_bytes(good[:1000])  # truncated behind our back
    b = bytearray((out_copy / "beta.html").read_bytes())
    b[-20] ^= 1  # same size, one bit changed
    (out_copy / "beta.html").write_bytes(bytes(b))
    res = render_batch(jobs, out_copy, resume=True)
    assert res.ok == ["alpha", "beta"] and not res.skipped
    html = (out_copy / "alpha.html").read_text(encoding="utf-8")
    assert len(html) > 1000 and "REPORT-MARKER Alphen" in html and html.rstrip().endswith("</html>")
    # a change to mkba's code renders everything again
    assert render_batch(jobs, out_copy, resume=True).skipped == ["alpha", "beta"]
    monkeypatch.setattr(mf, "_CODE_FP", ["0.1.0+changed"])
    assert render_batch(jobs, out_copy, resume=True).ok == ["alpha", "beta"]


def test_sigterm_is_handled_like_ctrl_c(tmp_path):
    import signal
    import time

    jobs = [["quick", "report.ipynb", {"municipality": "Vlist"}],
            ["slow", "misbehave.ipynb", {"mode": "sleep", "seconds": 120}]]
    p = _batch_proc(tmp_path, jobs, workers=2)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if json.loads((tmp_path / "manifest.json").read_text())["reports"]["quick"]["status"] == "ok":
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    else:
        p.kill()
        pytest.fail("the quick report never finished")
    time.sleep(0.5)  # the slow report is running now
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 143, err[-2000:]
    m = json.loads((tmp_path / "manifest.json").read_text())
    assert m["reports"]["quick"]["status"] == "ok" and "slow" not in m["reports"]
    assert (tmp_path / "quick.html").is_file() and not (tmp_path / "slow.html").exists()
    assert no_temp_files(tmp_path)


def test_manifest_writes_wait_for_the_lock(tmp_path):
    """While another batch holds OUT/.manifest.lock, a finished report waits to be recorded."""
    import threading
    import time

    started = threading.Event()
    res = {}

    def run():
        res["r"] = render_batch([job("l1", municipality="Lisse")], tmp_path,
                                progress=lambda ev, e: started.set() if ev == "start" else None)

    t = threading.Thread(target=run)
    t.start()
    assert started.wait(120)
    with mf.manifest_lock(tmp_path):
        deadline = time.monotonic() + 120
        while not (tmp_path / "l1.html").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (tmp_path / "l1.html").exists()
        time.sleep(1.0)
        assert not (tmp_path / "manifest.json").exists()  # waiting for the lock
    t.join(120)
    assert res["r"].ok == ["l1"]
    assert json.loads((tmp_path / "manifest.json").read_text())["reports"]["l1"]["status"] == "ok"


def test_report_export_adds_what_nbconvert_html_exporter_adds_without_reparsing_the_page():
    """The report exporter skips HTMLExporter's BeautifulSoup pass (0,145 s of a municipal report's
    0,17 s export) and adds the same attributes by pattern: the page reads the same as nbconvert's
    own exporter makes it (same text, same alt texts, output areas focusable)."""
    import copy

    import nbformat
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    from mkba.render import _exporter

    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("display_data", data={"text/markdown": "**Kort antwoord**: € 133.000"}),
        nbformat.v4.new_output("display_data", data={"image/png": png}),                    # no alt text
        nbformat.v4.new_output("display_data", data={"image/png": png}, metadata={"image/png": {"alt": "grafiek"}}),
        nbformat.v4.new_output("display_data", data={"text/html": "<table><tr><td>1</td></tr></table>"}),
    ])]
    ours = _exporter("nl")
    theirs = HTMLExporter(config=ours.config, template_name="lab", extra_loaders=ours.extra_loaders,
                          template_file=ours.template_file, exclude_input=True, exclude_input_prompt=True,
                          exclude_output_prompt=True, embed_images=True, language_code="nl")
    a = BeautifulSoup(ours.from_notebook_node(copy.deepcopy(nb), resources={"metadata": {"name": "t"}})[0],
                      "html.parser")
    b = BeautifulSoup(theirs.from_notebook_node(copy.deepcopy(nb), resources={"metadata": {"name": "t"}})[0],
                      "html.parser")
    assert a.get_text() == b.get_text()
    assert [i.get("alt") for i in a.find_all("img")] == [i.get("alt") for i in b.find_all("img")] \
        == ["No description has been provided for this image", "grafiek"]
    focus = lambda s: [d.get("tabindex") for d in s.select("div.jp-OutputArea-output")]  # noqa: E731
    assert focus(a) == focus(b) == ["0"] * 4


def test_mkba_processes_start_jsonschema_without_the_iri_checker_and_notebooks_still_validate():
    """The CLI (and the export/PDF workers) mark jsonschema's optional IRI checker absent before
    nbformat imports jsonschema (its Lark grammar costs 1,2 s per process); notebooks validate as
    before, and a process that already imported jsonschema is left alone."""
    import subprocess

    code = textwrap.dedent(f"""
        import sys
        from mkba import cli
        sys.argv = ["mkba", "--version"]
        try:
            cli.main()
        except SystemExit:
            pass
        import jsonschema, nbformat
        assert "rfc3987_syntax" in sys.modules and sys.modules["rfc3987_syntax"] is None
        assert "iri" not in jsonschema.FormatChecker().checkers
        nbformat.validate(nbformat.read({str(REPORT)!r}, as_version=4))
        from mkba.render import without_iri_format_checker
        assert without_iri_format_checker() is False      # jsonschema is imported now: nothing to do
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr


def test_manifest_and_index_are_written_at_most_once_a_second_but_always_at_the_end(tmp_path, monkeypatch):
    """Writing manifest and index after every report grows with the square of the batch (49 ms per
    write at 344 entries); the batch writes the first finished report at once, then at most every
    MANIFEST_WRITE_INTERVAL_S, and always at the end: every report is in both."""
    import mkba.render as R

    calls = []
    real = R._Batch.write_manifest

    def counting(self, final=False):
        calls.append(final)
        return real(self, final)

    monkeypatch.setattr(R._Batch, "write_manifest", counting)
    monkeypatch.setattr(R, "MANIFEST_WRITE_INTERVAL_S", 3600.0)
    res = render_batch([job(f"m{i}", municipality=f"M{i}") for i in range(4)], tmp_path / "a", workers=2)
    assert sorted(res.ok) == ["m0", "m1", "m2", "m3"]
    assert calls == [False, True]            # the first finished report, then the end of the batch
    m = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert sorted(m["reports"]) == ["m0", "m1", "m2", "m3"]
    index = (tmp_path / "a" / "index.html").read_text(encoding="utf-8")
    assert all(f"m{i}.html" in index for i in range(4))
    calls.clear()
    monkeypatch.setattr(R, "MANIFEST_WRITE_INTERVAL_S", 0.0)
    render_batch([job(f"n{i}", municipality=f"N{i}") for i in range(3)], tmp_path / "b", workers=1)
    assert calls == [False, False, False, True]   # no interval: after every report, as before


def test_batch_sizes_its_worker_pools_from_the_cores():
    """Two reports per core plus one (the batch process's round trips leave gaps), one HTML export
    process per REPORTS_PER_EXPORT_PROCESS report workers (each costs ~0,5 s of CPU to start)."""
    from unittest import mock

    import mkba.render as r

    with mock.patch("os.cpu_count", return_value=2):
        assert r.default_workers() == 5
    with mock.patch("os.cpu_count", return_value=None):
        assert r.default_workers() == 3
    per = r.REPORTS_PER_EXPORT_PROCESS
    assert r.export_processes(1) == 1
    assert r.export_processes(per) == 1
    assert r.export_processes(per + 1) == 2
    assert r.export_processes(5) == 1       # the 2-core default: one export process

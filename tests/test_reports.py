"""Rendering the real report notebooks: isolation, failures, bad input, and a browser check."""
import json
import os
import shutil

import pytest
from typer.testing import CliRunner

from mkba.cases import load_case
from mkba.cli import app, build_render_jobs
from mkba.errors import InputError
from mkba.model import summarise
from mkba.render import RenderJob, render_batch

runner = CliRunner()
SMALL = {"n_draws": 200}


def job(name, case, **params):
    nb = build_render_jobs([case], all_cases=False, notebook=None, municipalities=[], approach=None, share=0.1,
                           params={}, lang="nl")[0].notebook
    return RenderJob(name=name, notebook=nb, parameters={"case": case, **SMALL, **params}, title=name)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    jobs = [job("a", "app_zaanstad", overrides={"benefit.cost_per_year": 15000}),
            job("b", "fip_sittard_geleen"),
            job("broken", "app_zaanstad", overrides={"horizon.months": 5})]   # fails inside the kernel
    result = render_batch(jobs, out, workers=2)
    return out, result


@pytest.mark.slow
def test_each_report_shows_its_own_numbers(batch):
    out, result = batch
    manifest = json.loads((out / "manifest.json").read_text())
    entries = {e["name"]: e for e in manifest["reports"]} if isinstance(manifest.get("reports"), list) else manifest["reports"]
    a = summarise(load_case("app_zaanstad", {"benefit.cost_per_year": {"value": 15000, "unit": "EUR/person-year",
                                                                        "date": 2019, "reference": "test"}}))["metrics"]
    b = summarise(load_case("fip_sittard_geleen"))["metrics"]
    assert entries["a"]["key_figures"]["npv_eur"] == pytest.approx(a["npv_eur"], rel=1e-9)
    assert entries["b"]["key_figures"]["npv_eur"] == pytest.approx(b["npv_eur"], rel=1e-9)
    html_a, html_b = (out / "a.html").read_text(), (out / "b.html").read_text()
    assert "APP Zaanstad" in html_a and "FIP Sittard-Geleen" not in html_a
    assert "FIP Sittard-Geleen" in html_b and "APP Zaanstad" not in html_b


@pytest.mark.slow
def test_a_broken_report_does_not_stop_the_batch(batch):
    out, result = batch
    assert sorted(result.ok) == ["a", "b"] and result.failed == ["broken"]
    assert result.exit_code != 0
    entry = result.entry("broken")
    assert entry["status"] == "failed" and "horizon" in json.dumps(entry["error"])
    assert not (out / "broken.html").exists()
    assert not list(out.glob("*.tmp*"))


@pytest.mark.slow
def test_a_municipality_without_caseload_gets_a_report_that_says_so(tmp_path):
    result = render_batch(build_render_jobs([], all_cases=False, notebook=None, municipalities=["GM0060"],
                                            approach="fip_sittard_geleen", share=0.1, params={"n_draws": 100},
                                            lang="nl"), tmp_path)
    assert result.ok == ["GM0060_fip_sittard_geleen"]
    html = (tmp_path / "GM0060_fip_sittard_geleen.html").read_text()
    assert "Ameland" in html and "geen bijstandsbestand" in html and "Netto contante waarde" not in html


def test_bad_input_fails_before_any_kernel(tmp_path):
    r = runner.invoke(app, ["render", "fip_sittard", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "did you mean 'fip_sittard_geleen'" in r.output
    r = runner.invoke(app, ["render", "app_zaanstad", "--notebook", "busines_case", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "business_case" in r.output
    r = runner.invoke(app, ["render", "app_zaanstad", "--param", "n_drawz=5", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "n_draws" in r.output
    r = runner.invoke(app, ["render", "app_zaanstad", "--param", "n_draws=many", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "n_draws" in r.output
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = runner.invoke(app, ["render", "app_zaanstad", "--out", str(blocker)])
    assert r.exit_code == 2
    r = runner.invoke(app, ["render", "--municipalities", "Zaanstadt", "--approach", "app_zaanstad", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "Zaanstad" in r.output
    assert not list(tmp_path.glob("*.html"))


def test_municipal_jobs_select_by_province_and_code():
    jobs = build_render_jobs([], all_cases=False, notebook=None, municipalities=["GM0479", "Zeeland"],
                             approach="fip_sittard_geleen", share=0.1, params={}, lang="nl")
    names = {j.name for j in jobs}
    assert "GM0479_fip_sittard_geleen" in names and len(jobs) == 1 + 13   # Zeeland has 13 municipalities
    # `--municipalities GM0479 "Den Haag"`: the words after the option arrive as positional arguments
    more = build_render_jobs(["Den Haag"], all_cases=False, notebook=None, municipalities=["GM0479,GM0060"],
                             approach="fip_sittard_geleen", share=0.1, params={}, lang="nl")
    assert {j.parameters["gm_code"] for j in more} == {"GM0479", "GM0060", "GM0518"}
    with pytest.raises(InputError, match="--approach"):
        build_render_jobs([], all_cases=False, notebook=None, municipalities=["all"], approach=None, share=0.1,
                          params={}, lang="nl")


@pytest.fixture(scope="module")
def browser():
    from test_render import _Chromium

    exe = shutil.which("chromium")
    if not exe:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium")
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    c = _Chromium(exe)
    yield c
    c.close()


@pytest.mark.slow
def test_report_and_index_in_a_browser(batch, browser):
    out, _ = batch
    from mkba.formatting import eur

    assert browser.open((out / "index.html").as_uri()) == []
    assert browser.open((out / "b.html").as_uri()) == []
    images = browser.eval("Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
    assert images and all(images)
    page = browser.eval("document.body.innerText").replace("\xa0", " ")   # amounts are joined by non-breaking spaces
    m = summarise(load_case("fip_sittard_geleen"))["metrics"]
    assert eur(m["npv_eur"], "nl") in page and "Netto contante waarde" in page
    assert eur(m["programme_cost_eur"], "nl") in page


@pytest.mark.slow
def test_papermill_cli_with_mkba_engine_gives_the_same_figures_as_mkba_render(batch, tmp_path):
    """`papermill notebooks/business_case.ipynb out.ipynb -p case ... --engine mkba`."""
    import subprocess
    import sys
    from pathlib import Path

    from mkba.reporting import read_key_figures

    import nbformat

    out, _ = batch
    nb = job("x", "fip_sittard_geleen").notebook
    papermill = Path(sys.executable).with_name("papermill")
    dst = tmp_path / "pm.ipynb"
    r = subprocess.run([str(papermill), str(nb), str(dst), "-p", "case", "fip_sittard_geleen",
                        "-p", "n_draws", str(SMALL["n_draws"]), "--engine", "mkba", "--no-progress-bar"],
                       capture_output=True, text=True, timeout=300, cwd=nb.parent)
    assert r.returncode == 0, r.stderr[-2000:]
    mine = read_key_figures(nbformat.read(dst, as_version=4))
    rendered = json.loads((out / "manifest.json").read_text())["reports"]["b"]["key_figures"]
    assert mine and mine == rendered
    # ... and the same error as `mkba render` for an unknown parameter, before any kernel starts
    r = subprocess.run([str(papermill), str(nb), str(tmp_path / "bad.ipynb"), "-p", "cas", "x",
                        "--engine", "mkba"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "field 'cas': unknown parameter" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "bad.ipynb").exists()


@pytest.mark.parametrize("args, words", [
    (["fip_sittard_geleen", "--param", "case=app_zaanstad"], ["--param", "case=app_zaanstad", "names the report"]),
    (["--municipalities", "GM0654", "--approach", "fip_sittard_geleen", "--param", "gm_code=GM0363"],
     ["--param", "gm_code=GM0363", "--municipalities"]),
    (["--municipalities", "GM0654", "--approach", "fip_sittard_geleen", "--param", "approach=app_zaanstad"],
     ["approach=app_zaanstad", "--approach"]),
    (["--municipalities", "GM0654", "--approach", "fip_sittard_geleen", "--param", "share_reached=0.5"],
     ["share_reached", "--share"]),
    (["--municipalities", "Zeeland", "--approach", "fip_sittard_geleen", "--share", "10"], ["--share", "10", "at most 1"]),
    (["--municipalities", "Zeeland", "--approach", "fip_sittard_geleen", "--share", "-1"], ["--share", "-1"]),
    (["--municipalities", "Zeeland", "--approach", "fip_sittard_geleen", "--share", "0"], ["--share"]),
    (["app_zaanstad", "--param", "n_draws=0"], ["n_draws=0", "at least 1"]),
    (["app_zaanstad", "--param", "n_draws=-5"], ["n_draws=-5"]),
    (["app_zaanstad", "--timeout", "0"], ["--timeout"]),
])
def test_a_report_identity_and_ranges_cannot_be_overridden(tmp_path, args, words):
    """`--param case=...` once wrote fip_sittard_geleen.html with APP's figures (issue 13)."""
    r = runner.invoke(app, ["render", *args, "--out", str(tmp_path / "out")])
    assert r.exit_code == 2, r.output
    for w in words:
        assert w in r.output
    assert "Traceback" not in r.output and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_manifest_records_the_assumptions_hash_of_what_was_computed(batch):
    out, _ = batch
    entry = json.loads((out / "manifest.json").read_text())["reports"]["a"]
    computed = load_case("app_zaanstad", {"benefit.cost_per_year": {"value": 15000, "unit": "EUR/person-year",
                                                                     "date": 2019, "reference": "test"}})
    assert entry["assumptions_hash"] != load_case("app_zaanstad").assumptions_hash()
    assert entry["assumptions_hash"] == entry["key_figures"]["assumptions_hash"]
    assert entry["assumptions_hash"] == computed.assumptions_hash()


@pytest.fixture(scope="module")
def municipal(tmp_path_factory):
    """A municipal batch sharing one model call (warm-up in the fork server), its HTML exported in
    worker processes, and the same reports rendered one by one without either."""
    import dataclasses

    base = tmp_path_factory.mktemp("municipal")
    jobs = build_render_jobs([], all_cases=False, notebook=None, municipalities=["GM0654", "GM0718", "GM0060"],
                             approach="fip_sittard_geleen", share=0.1, params={"n_draws": 300}, lang="nl")
    assert all(j.warm for j in jobs)
    import mkba.render

    pools = []   # (kind, processes) of every worker pool the batch starts
    real_init = mkba.render._PdfWorkers.__init__

    def recording_init(self, n, kind="pdf", lang="nl"):
        pools.append((kind, n))
        real_init(self, n, kind, lang)

    with pytest.MonkeyPatch.context() as m:   # as a large batch: HTML exported in worker processes
        m.setattr(mkba.render, "EXPORT_PROCESSES_FROM", 1)
        m.setattr(mkba.render._PdfWorkers, "__init__", recording_init)
        batch = render_batch(jobs, base / "batch", workers=2)
    batch.pools = pools
    solo = [render_batch([dataclasses.replace(j, warm=[])], base / f"solo-{j.name}") for j in jobs]
    return base, jobs, batch, solo


@pytest.mark.slow
def test_municipal_batch_exports_in_as_few_processes_as_keep_up(municipal):
    """Two report workers share one HTML export process (render.export_processes), not one each."""
    _, _, batch, _ = municipal
    assert batch.pools == [("html", 1)]


@pytest.mark.slow
def test_every_municipal_report_equals_a_solo_render(municipal):
    base, jobs, batch, solo = municipal
    assert sorted(batch.ok) == sorted(j.name for j in jobs)
    for j, r in zip(jobs, solo):
        assert r.ok == [j.name]
        mine = (base / "batch" / f"{j.output_stem}.html").read_bytes()
        alone = (base / f"solo-{j.name}" / f"{j.output_stem}.html").read_bytes()
        assert mine == alone, j.name
        assert batch.entry(j.name)["key_figures"] == r.entry(j.name)["key_figures"]


@pytest.mark.slow
def test_municipal_figures_keep_their_alt_text(municipal):
    """setup_municipal swaps the PNG formatter for cheap figures; the chart keeps its Dutch alt text."""
    base, jobs, batch, _ = municipal
    with_caseload = [j for j in jobs if batch.entry(j.name)["key_figures"].get("status") != "no caseload data"]
    assert with_caseload
    for j in with_caseload:
        html = (base / "batch" / f"{j.output_stem}.html").read_text(encoding="utf-8")
        assert 'alt="Grafiek: Cumulatief netto resultaat' in html, j.name
        assert "No description has been provided" not in html, j.name
        # the chart is an SVG picture (views.MUNICIPAL_FIGURE_FORMAT), its alt text on the <img>
        import re

        imgs = re.findall(r"<img\b[^>]*>", html)
        assert len(imgs) == 1 and 'src="data:image/svg+xml;base64,' in imgs[0], imgs
        assert 'alt="Grafiek: Cumulatief netto resultaat' in imgs[0]


@pytest.mark.slow
def test_municipal_chart_is_the_same_file_every_render(municipal):
    """The SVG carries no creation date and no random element ids: a report rendered twice (or in a
    batch and alone, test above) is the same file, and a resumed batch can tell it is unchanged."""
    import base64
    import re

    base, jobs, batch, _ = municipal
    html = (base / "batch" / f"{jobs[0].output_stem}.html").read_text(encoding="utf-8")
    svg = base64.b64decode(re.search(r'data:image/svg\+xml;base64,([^"]+)"', html).group(1)).decode("utf-8")
    assert "<dc:date>" not in svg
    assert "<text" in svg                       # text stays text (svg.fonttype none): searchable, sharp
    # element ids come from matplotlib's hash salt, fixed in the report style (random by default)
    assert re.findall(r'id="([^"]+)"', svg)


@pytest.mark.slow
def test_reports_share_one_css_file_and_stay_small(municipal):
    from mkba.render import REPORT_CSS_NAME, report_css

    base, jobs, batch, _ = municipal
    out = base / "batch"
    css = (out / REPORT_CSS_NAME).read_text(encoding="utf-8")
    assert css == report_css("nl") and ".jp-OutputArea" in css and len(css) > 100_000
    for j in jobs:
        html = (out / f"{j.output_stem}.html").read_text(encoding="utf-8")
        import re

        assert re.search(rf'<link[^>]*href="{REPORT_CSS_NAME}"[^>]*>', html), html[:3000]
        assert 'rel="stylesheet"' in html
        assert len(html) < len(css)  # the theme is no longer embedded in every report


@pytest.mark.slow
def test_municipal_report_with_shared_css_opens_offline(municipal, browser):
    base, jobs, _, _ = municipal
    page = base / "batch" / f"{jobs[0].output_stem}.html"
    assert browser.open(page.as_uri()) == []  # no failed load (the CSS file is there), no network
    # the shared stylesheet applied: a JupyterLab theme variable is defined on the page
    assert browser.eval("getComputedStyle(document.documentElement)"
                        ".getPropertyValue('--jp-cell-padding').trim() !== ''")


def _index_headers(path) -> list[str]:
    import html as _html
    import re

    head = re.search(r"<thead>(.*?)</thead>", path.read_text(encoding="utf-8"), re.S).group(1)
    return [_html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", head)]


@pytest.mark.slow
def test_the_index_names_every_column_in_words(batch, municipal):
    """Every column header of a batch's index is a catalogue label, not a key figure's code name
    (fails when a key figure the notebooks emit has no label: municipal_npv_eur, societal_bcr did)."""
    out, _ = batch
    base, *_ = municipal
    for index in (out / "index.html", base / "batch" / "index.html"):
        manifest = json.loads((index.parent / "manifest.json").read_text())
        reports = manifest["reports"].values() if isinstance(manifest["reports"], dict) else manifest["reports"]
        codes = {k for r in reports for k in (r.get("key_figures") or {})}
        headers = _index_headers(index)
        assert not codes & set(headers), f"{index}: headers shown as code names: {sorted(codes & set(headers))}"
    assert "Perspectief" in _index_headers(out / "index.html")

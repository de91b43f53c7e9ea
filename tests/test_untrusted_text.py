"""Case files are untrusted: their text reaches reports only escaped or sanitised (issue 13).

A case full of payloads (script tags, event handlers, javascript: links, CSS @import / url(),
<video src>, meta refresh, iframes, images from the network) is rendered into a report; the
report's HTML must carry none of them as markup, and opened in headless chromium (offline,
every outside request recorded) no script may run and no request may leave the machine.
"""
from __future__ import annotations

import os
import re
import shutil

import pytest

from mkba.parameters import data_dir
from mkba.reporting import safe_markdown

PAYLOADS = [
    "<script>window.__pwned = 'script'</script>",
    "<img src=x onerror=\"window.__pwned = 'onerror'\">",
    "<svg onload=\"window.__pwned = 'svg'\"></svg>",
    "[klik hier](javascript:window.__pwned='link')",
    "<a href=\"javascript:window.__pwned='a'\">klik</a>",
    "<style>@import url(https://evil.example/a.css); body {background: url(https://evil.example/b.png)}</style>",
    "<p style=\"background:url(https://evil.example/c.png)\">gestyled</p>",
    "<video src=\"https://evil.example/v.mp4\" autoplay></video>",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example/\">",
    "<iframe src=\"https://evil.example/\"></iframe>",
    "![plaatje](https://evil.example/i.png)",
    "<link rel=stylesheet href=https://evil.example/d.css>",
    "<object data=\"https://evil.example/o.swf\"></object>",
    "<base href=\"https://evil.example/\">",
    "</title></h1></td><script>window.__pwned = 'breakout'</script>",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_safe_markdown_neutralises_payload(payload):
    """Every tag left in the output is an allowed text tag; links only go to http(s) or mailto."""
    from mkba.reporting import SAFE_TAGS

    html = safe_markdown(f"Tekst voor {payload} en na")
    assert "Tekst voor" in html and "en na" in html
    for tag in re.findall(r"<[^>]*>", html):
        m = re.match(r"</?\s*([a-zA-Z0-9]+)(.*?)/?>$", tag, re.S)
        assert m and m.group(1).lower() in SAFE_TAGS, tag
        attrs = dict(re.findall(r'([a-zA-Z-]+)="([^"]*)"', m.group(2)))
        assert set(attrs) <= {"href", "rel", "title"}, tag
        assert not attrs.get("href") or attrs["href"].startswith(("https://", "http://", "mailto:")), tag


def test_safe_markdown_keeps_ordinary_formatting():
    html = safe_markdown("**vet**, *schuin* en een [bron](https://www.cbs.nl/)")
    assert "<strong>vet</strong>" in html and "<em>schuin</em>" in html
    assert '<a href="https://www.cbs.nl/" rel="noopener noreferrer nofollow">bron</a>' in html
    assert safe_markdown("kop", inline=True) == "kop"


def _evil_case() -> str:
    lines = "\\n".join(PAYLOADS).replace('"', '\\"')
    q = lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'   # noqa: E731
    return f"""name: evil
title: {q("Kwaadaardig " + PAYLOADS[0] + PAYLOADS[-1])}
summary: {q("Evil " + " ".join(PAYLOADS))}
summary_nl: {q("Kwaad " + " ".join(PAYLOADS))}
extends: fip_sittard_geleen
start_date: 2017-07-01
appraisal_date: 2019-09-01
overrides:
  benefit.cost_per_year: {{value: 15000, unit: EUR/person-year, date: 2019, reference: {q(PAYLOADS[3] + PAYLOADS[5])}}}
readings:
""" + "".join(f"""  - topic: {q(p)}
    choice: {q(p)}
    why: {q(p)}
    reference: {q(p)}
""" for p in PAYLOADS) + f"""variants:
  evil_variant:
    title: {q(PAYLOADS[1])}
    title_nl: {q(PAYLOADS[7])}
    overrides:
      benefit.cost_per_year: {{value: 14000, unit: EUR/person-year, date: 2019, reference: {q(PAYLOADS[2])}}}
notes:
""" + "".join(f"  - {q(p)}\n" for p in PAYLOADS)


@pytest.fixture(scope="module")
def evil_report(tmp_path_factory):
    from mkba.cli import build_render_jobs
    from mkba.render import render_batch

    data = tmp_path_factory.mktemp("data")
    (data / "cases").mkdir()
    for p in (data_dir() / "cases").glob("*.yaml"):
        shutil.copy(p, data / "cases" / p.name)
    (data / "parameters").symlink_to(data_dir() / "parameters")
    for sub in ("processed", "raw"):
        (data / sub).symlink_to(data_dir() / sub)
    (data / "cases" / "evil.yaml").write_text(_evil_case(), encoding="utf-8")
    out = tmp_path_factory.mktemp("evil_reports")
    old = os.environ.get("MKBA_DATA_DIR")
    os.environ["MKBA_DATA_DIR"] = str(data)
    try:
        jobs = build_render_jobs(["evil"], all_cases=False, notebook=None, municipalities=[], approach=None,
                                 share=0.1, params={"n_draws": 200}, lang="nl")
        result = render_batch(jobs, out, workers=1)
    finally:
        if old is None:
            os.environ.pop("MKBA_DATA_DIR", None)
        else:
            os.environ["MKBA_DATA_DIR"] = old
    assert result.ok == ["evil"], result.entry("evil")
    return out / "evil.html"


class _Tags(__import__("html.parser").parser.HTMLParser):
    """Every real start tag of a page with its attributes (escaped text is not a tag)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


@pytest.mark.slow
def test_report_html_carries_no_payload_as_markup(evil_report):
    html = evil_report.read_text(encoding="utf-8")
    assert "Kwaadaardig" in html and "Kwaad " in html          # the text is there ...
    assert "&lt;script&gt;" in html                            # ... escaped
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag not in ("script", "iframe", "video", "audio", "object", "embed", "base", "form"), (tag, attrs)
        if tag == "link":       # the template's own empty favicon and the batch's shared stylesheet
            from mkba.render import REPORT_CSS_NAME

            assert attrs.get("href", "").startswith("data:") or attrs.get("href") == REPORT_CSS_NAME, (tag, attrs)
        assert not [k for k in attrs if k.startswith("on")], (tag, attrs)
        assert not attrs.get("href", "").lower().startswith("javascript:"), (tag, attrs)
        assert "http-equiv" not in attrs, (tag, attrs)
        for k in ("src", "data", "poster"):
            assert not attrs.get(k, "").startswith(("http:", "https:", "//")), (tag, attrs)
        assert "evil.example" not in attrs.get("style", "") and "evil.example" not in attrs.get("src", ""), (tag, attrs)
    assert not any("evil.example" in css for css in parser.styles)


@pytest.mark.slow
def test_report_in_headless_chromium_runs_no_script_and_stays_offline(evil_report):
    from test_render import _Chromium

    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not exe:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium")
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    browser = _Chromium(exe)
    try:
        problems = browser.open(evil_report.as_uri())
        assert problems == []                                   # no request left the machine, no script error
        assert browser.eval("typeof window.__pwned") == "undefined"
        assert browser.eval("location.href") == evil_report.as_uri()          # no meta refresh, no <base>
        assert browser.eval("document.querySelectorAll('script, iframe, video, object, embed, meta[http-equiv], "
                            "base, link[href^=http], img[src^=http]').length") == 0
        assert browser.eval("Array.from(document.querySelectorAll('a')).filter("
                            "a => a.href.startsWith('javascript:')).length") == 0
        page = browser.eval("document.body.innerText")
        assert "<script>window.__pwned = 'script'</script>" in page      # shown as text, not run
        index = evil_report.parent / "index.html"                         # the index lists the title too
        assert browser.open(index.as_uri()) == []
        assert browser.eval("typeof window.__pwned") == "undefined"
        assert "Kwaadaardig <script>" in browser.eval("document.body.innerText")
    finally:
        browser.close()

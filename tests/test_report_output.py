"""Rendered reports read as a reader would: the answer first, all Dutch (or all English), a PDF to hand out.

One batch renders every case report, the comparison report and one English report (with PDFs);
the tests then read the HTML text, the alt texts and the PDF layout.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from report_text import english_words, visible_text  # noqa: E402

from mkba.cases import list_cases, load_case  # noqa: E402
from mkba.formatting import eur  # noqa: E402
from mkba.model import summarise  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CASES = [n for n, _ in list_cases()]
# Proper names and quotes that are allowed in a Dutch report even though they contain English words.
ALLOWED = ("Samen werken aan werk: lessons learned",)
#: the municipal report of issue 12's example (Leiden, FIP applied there)
MUNICIPAL = "gemeente_leiden_fip"
#: a sensitivity report (small grids and Sobol N: the words are what is checked)
SENSITIVITY = "app_zaanstad_sensitivity"


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    pytest.importorskip("weasyprint")
    from mkba.render import RenderJob, render_batch

    out = tmp_path_factory.mktemp("rendered")
    jobs = [RenderJob(name=c, notebook=NOTEBOOKS / "business_case.ipynb",
                      parameters={"case": c, "n_draws": 300, "lang": "nl"}, title=c) for c in CASES]
    jobs.append(RenderJob(name="vergelijking", notebook=NOTEBOOKS / "compare_cases.ipynb",
                          parameters={"lang": "nl"}, title="vergelijking"))
    jobs.append(RenderJob(name=MUNICIPAL, notebook=NOTEBOOKS / "municipality.ipynb",
                          parameters={"gm_code": "GM0546", "approach": "fip_sittard_geleen", "n_draws": 300,
                                      "lang": "nl"}, title=MUNICIPAL))
    jobs.append(RenderJob(name=SENSITIVITY, notebook=NOTEBOOKS / "sensitivity.ipynb",
                          parameters={"case": "app_zaanstad", "grid_points": 5, "sobol_n": 32, "lang": "nl"},
                          title=SENSITIVITY))
    jobs.append(RenderJob(name="fip_en", notebook=NOTEBOOKS / "business_case.ipynb",
                          parameters={"case": "fip_sittard_geleen", "n_draws": 300, "lang": "en"}, title="fip_en"))
    jobs += [RenderJob(name=name, notebook=NOTEBOOKS / nb, parameters={**params, "lang": "en"}, title=name)
             for name, nb, params in ENGLISH_EXTRA]
    result = render_batch(jobs, out, workers=2, pdf=True)
    assert not result.failed, json.dumps([result.entry(n) for n in result.failed], default=str)[:3000]
    return out


DUTCH_REPORTS = CASES + ["vergelijking"]
#: English reports besides fip_en: the one whose source texts carry most numbers (Flextensie), and a
#: municipality with merger notes in its CBS data (Amsterdam, with Weesp)
ENGLISH_EXTRA = (("flextensie_en", "business_case.ipynb", {"case": "flextensie_zaanstad", "n_draws": 300}),
                 ("amsterdam_en", "municipality.ipynb", {"gm_code": "GM0363", "approach": "fip_sittard_geleen",
                                                         "n_draws": 300}))
ENGLISH_REPORTS = ["fip_en"] + [name for name, _nb, _p in ENGLISH_EXTRA]
#: a code name (snake_case: a metric, a parameter key, a variant or column name) shown to the reader
CODE_NAME_RE = re.compile(r"(?<![\w/-])[a-z]+(?:[._][a-z0-9]+)*_[a-z0-9]+(?:[._][a-z0-9]+)*(?![\w-])")
#: numbers in the other language's notation
DUTCH_NUMBER_RE = re.compile(r"€ ?-?\d{1,3}(?:\.\d{3})+(?![\d,])|(?<![\d.,])\d+,\d+ ?%|(?<![\d.,])\d+,\d+ (?:FTE|pp)\b")
ENGLISH_NUMBER_RE = re.compile(r"€-?\d{1,3}(?:,\d{3})+(?![\d.])|(?<![\d.,])\d+\.\d+%")


def _around(text: str, pattern: re.Pattern) -> list[str]:
    return [text[max(0, m.start() - 40):m.end() + 40] for m in pattern.finditer(text)]


def _body_text(name: str, reports) -> str:
    """The visible text of the report's body (the tab title is the job title these tests give)."""
    html = (reports / f"{name}.html").read_text(encoding="utf-8")
    return visible_text(re.sub(r"<head\b.*?</head\s*>", " ", html, flags=re.S | re.I))


@pytest.mark.slow
@pytest.mark.parametrize("name", DUTCH_REPORTS + [MUNICIPAL, SENSITIVITY] + ENGLISH_REPORTS)
def test_no_code_names_reach_the_reader(reports, name):
    """Metric names, parameter keys, variant and CBS column names are for analysts; a reader gets words."""
    from mkba.schema import SCHEMA

    text = _body_text(name, reports)
    found = _around(text, CODE_NAME_RE)
    found += [k for k in SCHEMA if re.search(r"(?<![\w.])" + re.escape(k) + r"(?![\w])", text)]   # cycle.multiplier
    assert not found, f"{len(found)} code name(s) in {name}: {found[:8]}"


@pytest.mark.slow
@pytest.mark.parametrize("name", DUTCH_REPORTS + [MUNICIPAL, SENSITIVITY] + ENGLISH_REPORTS)
def test_numbers_are_written_in_the_report_language(reports, name):
    """€ 133.000 and 5,3 % in Dutch; €133,000 and 5.3% in English, in prose, tables and notes alike."""
    text = _body_text(name, reports)
    if name in ENGLISH_REPORTS:   # a quote from a Dutch source keeps its notation; its translation follows it
        text = re.sub(r"'[^']+' \(", "(", text)
    found = _around(text, DUTCH_NUMBER_RE if name in ENGLISH_REPORTS else ENGLISH_NUMBER_RE)
    assert not found, f"{len(found)} number(s) in the other language's notation in {name}: {found[:8]}"


@pytest.mark.slow
@pytest.mark.parametrize("name", DUTCH_REPORTS + [MUNICIPAL, SENSITIVITY])
def test_dutch_report_has_no_english_words(reports, name):
    text = visible_text((reports / f"{name}.html").read_text(encoding="utf-8"))
    found = english_words(text, ALLOWED)
    assert not found, f"{len(found)} English word(s) in the Dutch report {name}: {found[:10]}"
    assert "Warning" not in text and "site-packages" not in text and ".py:" not in text


@pytest.mark.slow
def test_english_report_has_english_headings_and_labels(reports):
    html = (reports / "fip_en.html").read_text(encoding="utf-8")
    heads = " ".join(re.findall(r"<h[1-4][^>]*>(.*?)</h[1-4]>", html, flags=re.S)) + " " + \
        " ".join(re.findall(r"<th[^>]*>(.*?)</th>", html, flags=re.S))
    heads = visible_text(heads)
    for nl in ("Kerncijfers", "Aannames", "Gemeente", "Samenleving", "Netto contante waarde", "Terugverdienmaand",
               "Kengetal", "Waarde", "Eenheid", "Uitstroomkans", "kans per jaar"):
        assert nl not in heads, f"Dutch {nl!r} in the English report's headings/table headers"
    assert "The answer" in heads and "Net present value" in heads


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fip_sittard_geleen", "app_zaanstad"])
def test_report_opens_with_the_answer_for_both_perspectives(reports, name):
    text = visible_text((reports / f"{name}.html").read_text(encoding="utf-8"))
    i = text.index("Het antwoord")
    assert i < text.index("Kerncijfers")                 # the answer comes before the detail
    opening = text[i:text.index("Kerncijfers")]
    # the figures in the opening are the model's, for both perspectives (the societal one read from
    # the per-actor table, another route through the tidy table than the ledger)
    from mkba.model import per_actor

    res = summarise(load_case(name))
    soc = per_actor(res["table"]).loc["total", "total"]
    assert f"netto contante waarde {eur(res['metrics']['municipal_npv_eur'])}" in opening
    assert f"netto contante waarde {eur(soc)}" in opening
    for phrase in ("Vraag.", "Voor de gemeente", "Voor de samenleving", "Waarom dat verschilt", "Hoe zeker",
                   "Waar het op rust", "Wat de bron publiceerde", "kans op een positieve netto contante waarde"):
        assert phrase in opening, phrase


@pytest.mark.slow
def test_a_municipal_report_opens_with_the_answer(reports):
    """A council member of Leiden reads first whether FIP would pay off there, for the municipality and for
    society, how sure, and what it rests on; before, the report opened with the CBS facts."""
    from mkba import views

    text = visible_text((reports / f"{MUNICIPAL}.html").read_text(encoding="utf-8"))
    i = text.index("Het antwoord")
    assert i < text.index(views.text("local_facts", "nl"))          # before the CBS facts
    opening = text[i:text.index(views.text("local_facts", "nl"))]
    c, _facts = views.municipality_case("GM0546", "fip_sittard_geleen", 0.10)
    m = summarise(c)["metrics"]
    assert f"netto contante waarde {eur(m['municipal_npv_eur'])}" in opening
    assert f"netto contante waarde {eur(m['societal_npv_eur'])}" in opening
    for phrase in ("Vraag.", "prijspeil", "discontovoet", "Voor de gemeente", "Voor de samenleving", "Hoe zeker",
                   "Waar dit op rust", "FIP Sittard-Geleen"):
        assert phrase in opening, phrase


@pytest.mark.slow
def test_comparison_report_opens_with_one_block_per_perspective(reports):
    text = visible_text((reports / "vergelijking.html").read_text(encoding="utf-8"))
    muni, soc = text.index("Voor de gemeente"), text.index("Voor de samenleving")
    end = text.index("Waarom gemeente en samenleving verschillen")        # the blocks' lines end there
    assert muni < soc < end < text.index("Kerncijfers")
    for c in CASES:
        case = load_case(c)
        title = case.title_nl or case.title
        n = 1 if case.kind == "approach" else 0         # a rule of thumb is checked, not compared
        assert text[muni:soc].count(title) == n and text[soc:end].count(title) == n


@pytest.mark.slow
def test_sensitivity_report_names_assumptions_in_words(reports):
    from mkba.schema import SCHEMA

    text = visible_text((reports / f"{SENSITIVITY}.html").read_text(encoding="utf-8"))
    assert not [k for k in SCHEMA if k in text], "parameter identifiers in the sensitivity report"
    assert "Welke aannames bepalen de uitkomst" in text and "trekkingen per aanname" in text


# -- one definition per figure (issue 12, point 3) ----------------------------------------------

@pytest.mark.slow
def test_municipal_peer_table_uses_the_headline_scenario(reports):
    """Leiden's NCW at the top is the NCW in its own row of the peer table (same scenario), and both
    the figures and the peer sentence say which perspective and scenario they are in."""
    from mkba import views
    from mkba.local import compare_with_peers

    c, _facts = views.municipality_case("GM0546", "fip_sittard_geleen", 0.10, "")
    headline = eur(summarise(c)["metrics"]["npv_eur"])
    gemiddeld = compare_with_peers(load_case("fip_sittard_geleen"), "GM0546", 0.10, scenario="gemiddeld")
    other = eur(gemiddeld[gemiddeld["is_self"]]["npv_eur"].iloc[0])
    assert headline != other                     # the average-year scenario gives another NCW
    text = visible_text((reports / f"{MUNICIPAL}.html").read_text(encoding="utf-8"))
    top, peers = text.index("Wat de aanpak hier zou doen"), text.index("Vergeleken met vergelijkbare gemeenten")
    assert headline in text[top:text.index("Conjunctuurscenario")]
    peer_part = text[peers:text.index("Aannames en bronnen")]
    leiden_row = peer_part[peer_part.index("Leiden"):][:200]
    assert headline in leiden_row and other not in peer_part
    assert "voor de gemeente, conjunctuur zoals gemeten in 2018 (zoals de cijfers bovenaan)" in peer_part
    assert "Perspectief: gemeente. Alle bedragen over" in text[top:peers]
    assert "De cijfers bovenaan en de vergelijking met andere gemeenten rekenen met conjunctuur zoals gemeten" in text


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fip_sittard_geleen", MUNICIPAL])
def test_point_estimate_and_probabilistic_mean_are_both_shown_with_why(reports, name):
    text = visible_text((reports / f"{name}.html").read_text(encoding="utf-8"))
    m = re.search(r"Netto contante waarde \((gemeente|samenleving), ([^)]*)\): puntschatting (€ -?[\d.]+), "
                  r"gemiddelde van de trekkingen (€ -?[\d.]+); (het verschil komt doordat|die liggen dicht bij elkaar)",
                  text)
    assert m, "no sentence with the point estimate, the mean of the draws and why they differ"
    assert m.group(2) == "conjunctuur zoals gemeten in 2018"
    c = load_case("fip_sittard_geleen") if name != MUNICIPAL else None
    if c is not None:
        assert m.group(3) == eur(summarise(c)["metrics"]["npv_eur"])


# -- PDF layout ---------------------------------------------------------------------------------

def _pdf_pages(path: Path):
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(str(path))
    pages = []
    for page in reader.pages:
        width = float(page.mediabox.width)
        xs: list[tuple[float, str]] = []

        def visit(text, cm, tm, _font, _size, xs=xs):
            if text.strip():
                xs.append((cm[4] + tm[4] * cm[0], text))
        lines = [ln.strip() for ln in page.extract_text(visitor_text=visit).splitlines() if ln.strip()]
        pages.append({"lines": lines, "width": width, "xs": xs})
    return pages


def _headings(html: str) -> set[str]:
    return {visible_text(h).replace("¶", "").strip() for h in re.findall(r"<h[1-4][^>]*>(.*?)</h[1-4]>", html, flags=re.S)}


@pytest.mark.slow
@pytest.mark.parametrize("name", DUTCH_REPORTS)
def test_pdf_has_page_numbers_a_title_page_and_no_heading_alone_at_a_page_bottom(reports, name):
    pages = _pdf_pages(reports / f"{name}.pdf")
    n = len(pages)
    assert n >= 2
    for i, p in enumerate(pages[1:], start=2):                 # the title page has no number
        assert any(ln.endswith(f"{i} / {n}") for ln in p["lines"]), f"page {i} of {name}.pdf has no page number"
    html = (reports / f"{name}.html").read_text(encoding="utf-8")
    heads = _headings(html)
    running = visible_text(re.search(r'<h1 class="mkba-title">(.*?)</h1>', html, flags=re.S).group(1)).strip()
    for i, p in enumerate(pages[:-1], start=1):
        body = [ln for ln in p["lines"] if not re.search(r"\d+ / \d+$", ln) and ln != running]
        if body:
            assert body[-1] not in heads, f"page {i} of {name}.pdf ends with the heading {body[-1]!r}"


@pytest.mark.slow
@pytest.mark.parametrize("name", DUTCH_REPORTS + [MUNICIPAL])
def test_pdf_tables_fit_the_page_width(reports, name):
    for i, p in enumerate(_pdf_pages(reports / f"{name}.pdf"), start=1):
        over = [t for x, t in p["xs"] if x > p["width"] - 5]
        assert not over, f"text beyond the right edge of page {i} of {name}.pdf: {over[:5]}"


@pytest.mark.slow
def test_comparison_pdf_shows_every_npv(reports):
    from mkba.compare import compare_cases

    text = " ".join(" ".join(p["lines"]) for p in _pdf_pages(reports / "vergelijking.pdf")).replace("\xa0", " ")
    for v in compare_cases()["npv_eur"]:
        assert eur(v) in text

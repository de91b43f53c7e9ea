"""The command line speaks to people (issue 12, point 7): labelled Dutch figures, both perspectives, 100 columns."""
from __future__ import annotations

import re

from typer.testing import CliRunner

from mkba.cases import load_case
from mkba.cli import app, build_render_jobs
from mkba.formatting import eur
from mkba.model import per_actor, summarise

runner = CliRunner()


def test_run_shows_both_perspectives_the_dutch_way_within_100_columns():
    r = runner.invoke(app, ["run", "fip_sittard_geleen"])
    assert r.exit_code == 0, r.output
    out = r.output
    assert max(len(line) for line in out.splitlines()) <= 100
    res = summarise(load_case("fip_sittard_geleen"))
    societal = per_actor(res["table"]).loc["total", "total"]       # another route than the ledger
    assert "Gemeente (kasstromen)" in out and "Samenleving (MKBA)" in out
    assert eur(res["metrics"]["npv_eur"]) in out and eur(societal) in out
    assert "conjunctuur zoals gemeten in 2018" in out
    assert "EUR " not in out and "npv_eur" not in out and not re.search(r"\d,\d{3}\b", out)   # no English numbers


def test_run_in_english_and_under_a_scenario():
    r = runner.invoke(app, ["run", "app_zaanstad", "--lang", "en", "--scenario", "laagconjunctuur"])
    assert r.exit_code == 0, r.output
    assert "Municipality (cash)" in r.output and "economic-cycle scenario recession" in r.output
    assert "€" in r.output and "Netto" not in r.output


def test_run_unknown_language_is_a_clear_error():
    r = runner.invoke(app, ["run", "app_zaanstad", "--lang", "de"])
    assert r.exit_code == 2 and "lang" in r.output and "nl" in r.output


def test_version():
    from mkba import __version__

    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.output.strip() == f"mkba {__version__}"


def test_one_output_option_everywhere_old_names_hidden():
    for cmd in ("render", "sweep", "export", "new"):
        help_ = runner.invoke(app, [cmd, "--help"]).output
        assert "--out" in help_ and "-o" in help_, cmd
        assert "--out-dir" not in help_, cmd


def test_new_accepts_the_old_out_dir_name(tmp_path):
    r = runner.invoke(app, ["new", "mijn_casus", "--from", "app_zaanstad", "--out-dir", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "mijn_casus.yaml").exists()


def test_a_non_default_notebook_gets_its_own_report_name():
    kw = dict(all_cases=False, municipalities=[], approach=None, share=0.1, params={}, lang="nl")
    default = build_render_jobs(["fip_sittard_geleen"], notebook=None, **kw)[0]
    sens = build_render_jobs(["fip_sittard_geleen"], notebook="sensitivity", **kw)[0]
    assert default.name == "fip_sittard_geleen" and sens.name == "fip_sittard_geleen_sensitivity"
    assert build_render_jobs(["unit_value_14000"], notebook=None, **kw)[0].title == "€ 14.000 per beëindigde uitkering"

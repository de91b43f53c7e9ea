"""A downturn never improves a case unless the case says why (issue 9, point 8).

For every shipped case and template: NPV under laagconjunctuur <= NPV under gemiddeld, for the
municipality and for society, unless one of its readings carries ``downturn_improves: true`` and
says why. The readings that do are checked to explain a gain the model really shows (so a stale
excuse is caught too), and removing one makes ``mkba validate`` warn.
"""
import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mkba.cases import cases_dir, load_case
from mkba.cli import app
from mkba.parameters import data_dir
from mkba.scenarios import downturn_check, downturn_gain

PATHS = sorted(cases_dir().glob("*.yaml")) + sorted((data_dir() / "templates").glob("*.yaml"))


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_a_downturn_improves_no_case_unless_it_says_why(path):
    case = load_case(path)
    gains = downturn_gain(case)
    reasons = [r for r in case.readings if r.downturn_improves]
    improves = {p: v for p, v in gains.items() if v[1] > v[0] + 1.0}
    if reasons:
        # the excuse must explain something the model shows, in English and Dutch, with a source
        assert improves, f"{path.name}: a reading says why a downturn improves the case, but it does not: {gains}"
        for r in reasons:
            assert r.why and r.why_nl and r.choice_nl and r.reference
    else:
        assert not improves, f"{path.name}: NPV(laagconjunctuur) > NPV(gemiddeld) without a reason: {gains}"
    assert downturn_check(case) is None


def test_the_fip_reason_removed_makes_the_check_warn(tmp_path):
    """FIP's stock effect improves in a downturn (less deadweight); without its reading the check warns,
    in mkba validate as well."""
    case = load_case("fip_sittard_geleen")
    bare = dataclasses.replace(case, readings=[r for r in case.readings if not r.downturn_improves])
    warning = downturn_check(bare)
    assert warning is not None and "municipality NPV" in warning and "downturn_improves: true" in warning
    text = Path(case.source_file).read_text(encoding="utf-8").replace("    downturn_improves: true\n", "")
    copy = tmp_path / "fip_sittard_geleen.yaml"
    copy.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(app, ["validate", str(copy)])
    assert r.exit_code == 0, r.output
    assert "a downturn improves the case" in r.output


def test_fip_stock_effect_following_the_cycle_falls_in_a_downturn():
    """The reason FIP states: with effect.stock_cycle_sensitivity 1 the municipal NPV falls in a downturn."""
    case = load_case("fip_sittard_geleen").with_overrides(
        {"effect.stock_cycle_sensitivity": {"value": 1.0, "unit": "fraction", "date": 2019, "reference": "test"}},
        source="test")
    avg, down = downturn_gain(case)["municipality"]
    assert down < avg

"""Scaling rules per parameter (mkba.scaling): hand-computed answers, and every money/FTE parameter has a rule."""
from __future__ import annotations

import pytest

from mkba import scaling
from mkba.schema import SCHEMA


def test_every_money_and_staff_parameter_has_a_rule():
    needed = {n for n, s in SCHEMA.items() if scaling.needs_rule(n, s)}
    assert needed, "the schema has money parameters"
    missing = sorted(needed - set(scaling.RULES))
    assert not missing, f"add a scaling rule to mkba.scaling.RULES for: {missing}"
    assert set(scaling.RULES) <= set(SCHEMA), sorted(set(scaling.RULES) - set(SCHEMA))
    for name, rule in scaling.RULES.items():
        assert rule.kind in ("per_participant", "unit", "per_fte", "fixed", "one_off", "rate") and rule.why, name


def test_staff_follows_the_caseload_ratio():
    # APP Zaanstad: 80 entrants on 1,6 FTE = 50 clients per FTE (003_1cff8ea758d15861.txt:900-903).
    # 240 participants at 50 per FTE = 4,8 FTE.
    out = scaling.apply({"programme.staff_fte": 1.6, "programme.clients_per_fte": 0}, 80, 240)
    s = out["programme.staff_fte"]
    assert s.kind == "per_fte" and s.before == 1.6 and s.after == pytest.approx(4.8)
    assert "80 participants / 1.6 FTE = 50 per FTE" in s.why


def test_core_team_stays_when_the_case_sets_a_caseload():
    out = scaling.apply({"programme.staff_fte": 1.0, "programme.clients_per_fte": 40}, 80, 240)
    assert out["programme.staff_fte"].after == 1.0 and "core team" in out["programme.staff_fte"].why


def test_fixed_one_off_and_per_participant_costs_keep_their_value():
    # Buurt-m/v: EUR 7.492 a month for 6 people must not become EUR 299.680 for 240 (issue 15)
    vals = {"programme.other_cost_per_month": 7492, "programme.setup_cost": 25000,
            "programme.cost_per_participant_month": 300, "benefit.cost_per_year": 14000}
    out = scaling.apply(vals, 6, 240)
    assert out["programme.other_cost_per_month"].after == 7492
    assert "299.680" in out["programme.other_cost_per_month"].why     # what it would be if it did grow (x 40)
    assert out["programme.setup_cost"].after == 25000 and out["programme.setup_cost"].kind == "one_off"
    assert out["programme.cost_per_participant_month"].after == 300
    assert out["benefit.cost_per_year"].after == 14000
    assert not any(s.changed for s in out.values())

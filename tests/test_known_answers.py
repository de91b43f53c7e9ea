"""Known answers that do not depend on calibration: small synthetic cases worked out by hand.

Each test writes the calculation out (spreadsheet style) and checks the model against it. The
mechanisms they pin down, and the deliberate mistakes they catch (recorded in the closing note of issue 9):
costs charged over the wrong period, the retention share ignored, decay ignored, ramp-up ignored,
returns not subtracted, the effect timed from the programme start instead of each entry, a cycle
applied to only one channel.
"""
import math
import textwrap

import numpy as np
import pytest

from mkba.cases import load_case
from mkba.model import evaluate_batch, per_actor, run, summarise

BENEFIT_PER_MONTH = 1000.0          # 12.000 a year
H_12 = 1.0 - 0.88 ** (1.0 / 12.0)   # monthly hazard of a 12 % annual chance


def synthetic(tmp_path, extra: str = "", name: str = "synthetic", horizon: int = 24):
    """100 people on benefit, nobody leaves without the approach, no returns; the approach adds 12 % a year
    to the chance of leaving for work for 12 months of participation; costs: EUR 50 per participation
    month for everyone taking part, 1 FTE at EUR 60.000 a year for 6 months; benefit EUR 12.000 a year,
    the municipality keeps all of it; 3 % real discount rate, Excel's NPV per year."""
    leaf = 'date: 2019, reference: "test: synthetic"'
    body = textwrap.dedent(f"""
        name: {name}
        title: synthetic
        summary: hand-computed case
        start_date: 2019-01-01
        perspective: municipality
        overrides:
          horizon.months: {{value: {horizon}, unit: months, {leaf}}}
          cohort.initial_participants: {{value: 100, unit: persons, {leaf}}}
          baseline.work_exit_rate: {{value: 0.0, unit: 1/year (probability), {leaf}}}
          baseline.other_exit_rate: {{value: 0.0, unit: 1/year (probability), {leaf}}}
          baseline.return_rate: {{value: 0.0, unit: 1/year (probability), {leaf}}}
          effect.work_exit_added: {{value: 0.12, unit: fraction/year (pp/100), {leaf}}}
          participation.months: {{value: 12, unit: months, {leaf}}}
          programme.months: {{value: 6, unit: months, {leaf}}}
          programme.staff_fte: {{value: 1, unit: FTE, {leaf}}}
          programme.cost_per_fte_year: {{value: 60000, unit: EUR/FTE-year, {leaf}}}
          programme.cost_per_participant_month: {{value: 50, unit: EUR/person-month, {leaf}}}
          benefit.cost_per_year: {{value: 12000, unit: EUR/person-year, {leaf}}}
          benefit.retention_share: {{value: 1.0, unit: fraction, {leaf}}}
          discount.rate: {{value: 0.03, unit: 1/year (real), {leaf}}}
    """)
    # an extra line replaces the base line of the same parameter
    lines = body.rstrip("\n").split("\n")
    for line in textwrap.dedent(extra).strip("\n").split("\n") if extra.strip() else []:
        key = line.split(":", 1)[0].strip()
        lines = [x for x in lines if x.strip().split(":", 1)[0] != key] + ["  " + line.strip()]
    p = tmp_path / f"{name}.yaml"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_case(p)


def hand_path(months, weight=lambda t: 1.0, added=0.12, ret=0.0):
    """On benefit (start, end) per month and in work, for 100 entrants, written out month by month."""
    B, W, rows = 100.0, 0.0, []
    hr = 1.0 - (1.0 - ret) ** (1.0 / 12.0)
    for t in range(months):
        h = 1.0 - (1.0 - added * weight(t)) ** (1.0 / 12.0)
        exits, returns = B * h, W * hr
        B0 = B
        B, W = B - exits + returns, W + exits - returns
        rows.append((B0, B, W))
    return rows


# ---------------------------------------------------------------- people off benefit
def test_people_off_benefit_and_benefit_months(tmp_path):
    """Treatment: 100 x 0,88 = 88 left on benefit after the 12 participation months, then no more exits:
    12 extra people off benefit from month 12 to 24. Benefit months saved = sum over months of
    (100 - average on benefit during the month)."""
    m = evaluate_batch(synthetic(tmp_path))
    assert m["extra_ended_benefits"][0] == pytest.approx(12.0, abs=1e-9)          # 100 - 88
    path = hand_path(24, weight=lambda t: 1.0 if t < 12 else 0.0)
    saved = sum(100.0 - 0.5 * (b0 + b1) for b0, b1, _ in path)
    # year 2 alone: 12 people x 12 months = 144 benefit-months
    assert sum(100.0 - 0.5 * (b0 + b1) for b0, b1, _ in path[12:]) == pytest.approx(144.0, abs=1e-9)
    assert m["benefit_months_saved"][0] == pytest.approx(saved, rel=1e-12)
    # average over the horizon of the extra people off benefit (end of month)
    avg = sum(100.0 - b1 for _, b1, _ in path) / 24
    assert m["extra_people_off_benefit_avg"][0] == pytest.approx(avg, rel=1e-12)


def test_returns_are_subtracted_from_people_but_not_from_exit_events(tmp_path):
    """With 50 % a year returning: people off benefit = exits - returns, exit events count every exit."""
    case = synthetic(tmp_path, """
        baseline.return_rate: {value: 0.5, unit: 1/year (probability), date: 2019, reference: "test"}
    """)
    path = hand_path(24, weight=lambda t: 1.0 if t < 12 else 0.0, ret=0.5)
    m = evaluate_batch(case)
    assert m["extra_ended_benefits"][0] == pytest.approx(path[-1][2], rel=1e-12)       # in work at month 24
    assert m["extra_ended_benefits"][0] < m["extra_exit_events"][0]
    # exit events: every month's exits, including people who left again after returning
    events = 0.0
    B, W = 100.0, 0.0
    hr = 1.0 - 0.5 ** (1.0 / 12.0)
    for t in range(24):
        h = H_12 if t < 12 else 0.0
        e, r = B * h, W * hr
        events += e
        B, W = B - e + r, W + e - r
    assert m["extra_exit_events"][0] == pytest.approx(events, rel=1e-12)


# ---------------------------------------------------------------- costs per period
def test_costs_per_period(tmp_path):
    """Participation: 100 people x 12 months x EUR 50 = EUR 60.000, all in year 1 (charged on everyone taking
    part, also after they found work); staff: 1 FTE x 60.000 / 12 x 6 months = EUR 30.000, months 1-6 only."""
    res = summarise(synthetic(tmp_path))
    py = res["per_year"].set_index("year")
    assert py.loc[1, "programme_cost_eur"] == pytest.approx(60_000 + 30_000, abs=1e-6)
    assert py.loc[2, "programme_cost_eur"] == pytest.approx(0.0, abs=1e-9)
    assert res["metrics"]["participation_months_charged"] == pytest.approx(1200.0, abs=1e-9)
    t = res["table"]
    staff = t[(t["item"] == "programme_staff") & (t["group"] == "treatment")].sort_values("month")["nominal"]
    assert np.allclose(staff.to_numpy()[:6], -5000.0) and len(staff) == 24 and np.allclose(staff.to_numpy()[6:], 0)


def test_per_participation_month_cost_can_stop_at_exit(tmp_path):
    """participation.stops_at_exit = 1: charged only while on benefit: EUR 50 x sum of the average number on
    benefit over months 0-11."""
    case = synthetic(tmp_path, """
        participation.stops_at_exit: {value: 1, unit: fraction, date: 2019, reference: "test"}
    """)
    path = hand_path(12)
    months_on_benefit = sum(0.5 * (b0 + b1) for b0, b1, _ in path)
    assert evaluate_batch(case)["programme_cost_eur"][0] == pytest.approx(30_000 + 50 * months_on_benefit, rel=1e-12)


# ---------------------------------------------------------------- NPV, BCR, break-even
def test_npv_bcr_and_break_even(tmp_path):
    """Municipal net per month = EUR 1.000 x (100 - average on benefit) - costs; NPV = year 1 / 1,03 +
    year 2 / 1,03^2 (Excel); BCR = PV(saving) / PV(cost); break-even = first month from which the cumulative
    net stays >= 0."""
    m = evaluate_batch(synthetic(tmp_path))
    path = hand_path(24, weight=lambda t: 1.0 if t < 12 else 0.0)
    saving = [BENEFIT_PER_MONTH * (100.0 - 0.5 * (b0 + b1)) for b0, b1, _ in path]
    cost = [(5000.0 if t < 6 else 0.0) + (50.0 * 100 if t < 12 else 0.0) for t in range(24)]
    net = [s - c for s, c in zip(saving, cost)]
    y = [sum(net[:12]), sum(net[12:])]
    npv = y[0] / 1.03 + y[1] / 1.03 ** 2
    pv_saving = sum(saving[:12]) / 1.03 + sum(saving[12:]) / 1.03 ** 2
    pv_cost = sum(cost[:12]) / 1.03
    cum, last_negative = 0.0, -1
    for t, x in enumerate(net):
        cum += x
        if cum < 0:
            last_negative = t
    assert m["npv_eur"][0] == pytest.approx(npv, rel=1e-12)
    assert m["bcr"][0] == pytest.approx(pv_saving / pv_cost, rel=1e-12)
    assert m["break_even_month"][0] == last_negative + 2          # 1-based month after the last negative
    assert m["municipal_npv_eur"][0] == pytest.approx(npv, rel=1e-12)
    # society: the benefit is a transfer, so only the costs remain (no production from the work here...)
    assert m["societal_costs_eur"][0] == pytest.approx(pv_cost, rel=1e-12)


def test_retention_share_halves_the_municipal_saving(tmp_path):
    """benefit.retention_share 0,5: the municipality keeps half of the benefit saving, the Rijk the rest."""
    case = synthetic(tmp_path, """
        benefit.retention_share: {value: 0.5, unit: fraction, date: 2019, reference: "test"}
    """)
    m = evaluate_batch(case)
    path = hand_path(24, weight=lambda t: 1.0 if t < 12 else 0.0)
    saving = sum(BENEFIT_PER_MONTH * (100.0 - 0.5 * (b0 + b1)) for b0, b1, _ in path)
    assert m["gross_saving_eur"][0] == pytest.approx(0.5 * saving, rel=1e-12)
    assert m["annual_saving_run_rate_eur"][0] == pytest.approx(12 * 12_000 * 0.5, rel=1e-9)


# ---------------------------------------------------------------- timing of the effect
def test_decay_and_ramp_up_written_out(tmp_path):
    """Ramp-up over 4 months (weight (t + 1) / 4), decay from month 6 with a 3-month half-life
    (weight x 2^-((t - 6) / 3)), effect until month 12 (participation)."""
    case = synthetic(tmp_path, """
        effect.ramp_months: {value: 4, unit: months, date: 2019, reference: "test"}
        effect.decay_start_month: {value: 6, unit: months, date: 2019, reference: "test"}
        effect.decay_half_life_months: {value: 3, unit: months, date: 2019, reference: "test"}
    """)

    def weight(t):
        if t >= 12:
            return 0.0
        w = min((t + 1) / 4.0, 1.0)
        return w * 2.0 ** (-(t - 6) / 3.0) if t >= 6 else w

    path = hand_path(24, weight=weight)
    m = evaluate_batch(case)
    assert m["extra_ended_benefits"][0] == pytest.approx(100.0 - path[-1][1], rel=1e-12)
    assert m["extra_ended_benefits"][0] < 12.0 - 3.0     # clearly less than without ramp and decay


def test_effect_persists_only_when_stated(tmp_path):
    """effect.persistence_months 6: the added chance continues for 6 months after participation (18 in all):
    100 x (1 - 0,88 ** (18 / 12)) people off benefit."""
    case = synthetic(tmp_path, """
        effect.persistence_months: {value: 6, unit: months, date: 2019, reference: "test"}
    """)
    assert evaluate_batch(case)["extra_ended_benefits"][0] == pytest.approx(100 * (1 - 0.88 ** 1.5), rel=1e-12)
    from mkba.model import case_warnings

    assert any("persistence" in w for w in case_warnings(case))


def test_each_entrant_has_its_own_participation_window(tmp_path):
    """10 people enter every month for 3 months (months 0, 1, 2); each gets 12 months of effect from their own
    entry, so each entry cohort ends with 10 x 0,88 on benefit: 3 x 1,2 = 3,6 people off benefit."""
    case = synthetic(tmp_path, """
        cohort.initial_participants: {value: 0, unit: persons, date: 2019, reference: "test"}
        cohort.inflow_per_month: {value: 10, unit: persons/month, date: 2019, reference: "test"}
        cohort.inflow_months: {value: 3, unit: months, date: 2019, reference: "test"}
    """)
    assert evaluate_batch(case)["extra_ended_benefits"][0] == pytest.approx(3 * 10 * 0.12, rel=1e-12)


# ---------------------------------------------------------------- the cycle acts on every channel
CHANNELS = {
    "the added effect": "",
    "moves from a contract to regular work": """
        effect.work_exit_added: {value: 0.0, unit: fraction/year (pp/100), date: 2019, reference: "test"}
        jobs.share: {value: 1.0, unit: fraction, date: 2019, reference: "test"}
        jobs.start_month: {value: 1, unit: months, date: 2019, reference: "test"}
        jobs.end_month: {value: 12, unit: months, date: 2019, reference: "test"}
        jobs.to_work_rate: {value: 0.3, unit: 1/year (probability), date: 2019, reference: "test"}
        jobs.to_work_share: {value: 0.5, unit: fraction, date: 2019, reference: "test"}
    """,
    "drop-outs from a contract": """
        effect.work_exit_added: {value: 0.0, unit: fraction/year (pp/100), date: 2019, reference: "test"}
        jobs.share: {value: 1.0, unit: fraction, date: 2019, reference: "test"}
        jobs.start_month: {value: 1, unit: months, date: 2019, reference: "test"}
        jobs.end_month: {value: 12, unit: months, date: 2019, reference: "test"}
        jobs.dropout_rate: {value: 0.3, unit: 1/year (probability), date: 2019, reference: "test"}
        jobs.dropout_cycle_sensitivity: {value: 1.0, unit: fraction, date: 2019, reference: "test"}
    """,
    "part-time to full work": """
        baseline.part_time_share: {value: 1.0, unit: fraction, date: 2019, reference: "test"}
        baseline.partial_to_work_rate: {value: 0.5, unit: 1/year (probability), date: 2019, reference: "test"}
        baseline.partial_return_rate: {value: 0.0, unit: 1/year (probability), date: 2019, reference: "test"}
    """,
    "returns to benefit": """
        baseline.return_rate: {value: 0.3, unit: 1/year (probability), date: 2019, reference: "test"}
        baseline.return_cycle_sensitivity: {value: 1.0, unit: fraction, date: 2019, reference: "test"}
    """,
}


@pytest.mark.parametrize("channel", list(CHANNELS))
def test_a_downturn_lowers_every_channel(tmp_path, channel):
    """cycle.multiplier 0,7 (a downturn) with the channel's sensitivity 1: fewer benefit months saved than at
    1,0 in every channel, so a downturn never improves the case through an untouched channel."""
    case = synthetic(tmp_path, CHANNELS[channel], name="synthetic_" + str(abs(hash(channel)) % 10_000))
    m = evaluate_batch(case, {"cycle.multiplier": np.array([1.0, 0.7])})
    assert m["benefit_months_saved"][1] < m["benefit_months_saved"][0] - 1e-6, channel


# ---------------------------------------------------------------- contracts, cost sharing, groups
def test_contract_wage_is_paid_by_employer_and_subsidy_and_transfers_cancel(tmp_path):
    """A contract from month 0 to 12 for all 100, wage = benefit x 1,1 net (net share 0,7: employer cost
    1.000 x 1,1 / 0,7 a month), employer pays 40 %: per month the employer pays 0,4 x 100 x 1.571,43 and the
    municipality 0,6 x it; the participant gets 0,7 of the wage cost, the Rijk 0,3; the item nets to 0."""
    case = synthetic(tmp_path, """
        effect.work_exit_added: {value: 0.0, unit: fraction/year (pp/100), date: 2019, reference: "test"}
        jobs.share: {value: 1.0, unit: fraction, date: 2019, reference: "test"}
        jobs.start_month: {value: 0, unit: months, date: 2019, reference: "test"}
        jobs.end_month: {value: 12, unit: months, date: 2019, reference: "test"}
        jobs.wage_benefit_ratio: {value: 1.1, unit: ratio, date: 2019, reference: "test"}
        jobs.employer_share: {value: 0.4, unit: fraction, date: 2019, reference: "test"}
        work.net_wage_share: {value: 0.7, unit: fraction, date: 2019, reference: "test"}
    """)
    pa = per_actor(run(case), discounted=False)
    wage_month = 1000.0 * 1.1 / 0.7
    # month 0: hired at the start of the month, all 100 on contract for months 0..11
    assert pa.loc["job_wages", "employer"] == pytest.approx(-0.4 * 100 * wage_month * 12, rel=1e-9)
    assert pa.loc["job_wages", "municipality"] == pytest.approx(-0.6 * 100 * wage_month * 12, rel=1e-9)
    assert pa.loc["job_wages", "participant"] == pytest.approx(0.7 * 100 * wage_month * 12, rel=1e-9)
    assert pa.loc["job_wages", "total"] == pytest.approx(0.0, abs=1e-6)


def test_cost_sharing_splits_an_item_over_actors(tmp_path):
    case = synthetic(tmp_path, """
        sharing.programme_staff.municipality: {value: 0.5, unit: fraction, date: 2019, reference: "test"}
        sharing.programme_staff.housing_corporation: {value: 0.5, unit: fraction, date: 2019, reference: "test"}
    """)
    pa = per_actor(run(case), discounted=False)
    assert pa.loc["programme_staff", "municipality"] == pytest.approx(-15_000, rel=1e-12)
    assert pa.loc["programme_staff", "housing_corporation"] == pytest.approx(-15_000, rel=1e-12)
    m = evaluate_batch(case)
    assert m["programme_cost_eur"][0] == pytest.approx(60_000 + 15_000, rel=1e-12)    # the municipal part
    assert m["societal_costs_eur"][0] == pytest.approx(evaluate_batch(synthetic(tmp_path, name="s2"))[
        "societal_costs_eur"][0], rel=1e-12)                                          # society pays it all


def test_cost_shares_that_do_not_add_up_are_an_error(tmp_path):
    from mkba.errors import InputError

    with pytest.raises(InputError, match="sum to 1.2.*sharing.programme_staff"):
        synthetic(tmp_path, """
            sharing.programme_staff.rijk: {value: 0.2, unit: fraction, date: 2019, reference: "test"}
        """)


def test_sub_groups_add_up_to_the_whole(tmp_path):
    """Two identical groups of 50 % give the undivided case; a group with its own effect is its own."""
    same = synthetic(tmp_path, name="whole")
    synthetic(tmp_path, name="split")
    p = tmp_path / "split.yaml"
    p.write_text(p.read_text() + textwrap.dedent("""
        groups:
          site_a: {share: 0.5}
          site_b: {share: 0.5, overrides: {effect.work_exit_added: {value: 0.0, unit: fraction/year (pp/100), date: 2019, reference: "test"}}}
    """), encoding="utf-8")
    split = load_case(p)
    whole = evaluate_batch(same)
    both = evaluate_batch(split)
    # site_b has no effect: extra people = half of the whole case's 12
    assert both["extra_ended_benefits"][0] == pytest.approx(6.0, abs=1e-9)
    assert both["programme_cost_eur"][0] == pytest.approx(whole["programme_cost_eur"][0], rel=1e-12)
    a = evaluate_batch(split, group="site_a")
    assert a["extra_ended_benefits"][0] == pytest.approx(6.0, abs=1e-9)


def test_group_shares_that_do_not_add_up_are_an_error(tmp_path):
    from mkba.errors import InputError

    synthetic(tmp_path, name="bad_groups")
    p = tmp_path / "bad_groups.yaml"
    p.write_text(p.read_text() + "groups:\n  a: {share: 0.5}\n  b: {share: 0.6}\n", encoding="utf-8")
    with pytest.raises(InputError, match="add up to 1.1"):
        load_case(p)


def test_participation_longer_than_the_horizon_is_an_error(tmp_path):
    from mkba.errors import InputError

    with pytest.raises(InputError, match="participation.months"):
        synthetic(tmp_path, """
            participation.months: {value: 30, unit: months, date: 2019, reference: "test"}
        """)


def test_a_secondment_pool_stops_with_the_programme_that_pays_for_it():
    """Flextensie's pool runs for programme.months = 36. Carried to 60 months (as `mkba compare` does), no
    one is seconded after month 36 (its overhead is no longer paid), so months 37-60 add no fees, top-ups
    or overhead, and the pool's people stay on benefit in both arms (0 extra people off benefit): the
    60-month net result equals the 36-month one. Before the fix the pool kept earning its margin for two
    more years without costs (€ 1.776.107 against € 1.048.439)."""
    case = load_case("flextensie_zaanstad")
    assert case.months == 36 and case.value("programme.months") == 36
    longer = case.with_overrides({"horizon.months": {"value": 60, "unit": "months", "date": 2015, "reference": "test"}})
    assert summarise(longer)["metrics"]["net_result_eur"] == pytest.approx(
        summarise(case)["metrics"]["net_result_eur"], rel=1e-12)
    t = run(longer)
    after = t[(t["month"] >= 36) & t["item"].str.startswith("secondment") & (t["unit"] == "EUR")]
    assert len(after) and float(after["nominal"].abs().max()) == 0.0


# ---------------------------------------------------------------- effects beyond the benefit
def test_execution_care_and_wellbeing_follow_the_people_off_benefit(tmp_path):
    """No case in data/cases/ books these three effects (all zero), so they are pinned here by hand.

    The synthetic case has nobody leaving without the approach, no returns and no other exits: every
    benefit-month saved is a month someone is in work. With execution costs of EUR 1.200 per benefit-year,
    care savings of EUR 600 and wellbeing of EUR 2.400 per worker-year, each saved benefit-month adds
    EUR 100 for the municipality (execution) and EUR 100 + 50 + 200 = 350 for society (execution, care,
    wellbeing; the benefit itself is a transfer). Saved benefit-months = sum over 24 months of
    (100 - average on benefit during the month), from the hand-written path."""
    path = hand_path(24, weight=lambda t: 1.0 if t < 12 else 0.0)
    saved = sum(100.0 - 0.5 * (b0 + b1) for b0, b1, _ in path)
    leaf = 'date: 2019, reference: "test"'
    base = summarise(synthetic(tmp_path))["metrics"]
    case = synthetic(tmp_path, f"""
        effects.execution_saving_per_ended_year: {{value: 1200, unit: EUR/person-year, {leaf}}}
        effects.care_saving_per_worker_year: {{value: 600, unit: EUR/person-year, {leaf}}}
        effects.wellbeing_per_worker_year: {{value: 2400, unit: EUR/person-year, {leaf}}}
    """, name="effects")
    res = summarise(case)
    m = res["metrics"]
    assert m["municipal_net_result_eur"] - base["municipal_net_result_eur"] == pytest.approx(100.0 * saved, rel=1e-9)
    assert m["societal_net_result_eur"] - base["societal_net_result_eur"] == pytest.approx(350.0 * saved, rel=1e-9)
    t = res["table"]
    for actor, item, per_month in (("municipality", "execution_costs", 100.0), ("care", "care_costs", 50.0),
                                   ("participant", "wellbeing", 200.0)):
        rows = t[(t["actor"] == actor) & (t["item"] == item)]
        net = rows[rows["group"] == "treatment"]["nominal"].sum() - rows[rows["group"] == "control"]["nominal"].sum()
        assert net == pytest.approx(per_month * saved, rel=1e-9), (actor, item)

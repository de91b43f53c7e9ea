"""The model: one tidy table; batch evaluation equals single runs."""
import numpy as np
import pytest

from mkba.cases import load_case
from mkba.model import evaluate_batch, per_actor, run, summarise


@pytest.mark.parametrize("name", ["fip_sittard_geleen", "app_zaanstad", "flextensie_zaanstad", "buurt_mv_dordrecht"])
def test_batch_equals_single_runs(name):
    case = load_case(name)
    rates = np.array([0.02, 0.055, 0.09])
    costs = np.array([50000.0, 66500.0, 80000.0])
    batch = evaluate_batch(case, {"baseline.work_exit_rate": rates, "programme.cost_per_fte_year": costs})
    for i in range(3):
        single = case.with_overrides({
            "baseline.work_exit_rate": {"value": float(rates[i]), "unit": "1/year (probability)", "date": 2019, "reference": "t"},
            "programme.cost_per_fte_year": {"value": float(costs[i]), "unit": "EUR/FTE-year", "date": 2019, "reference": "t"}})
        m = summarise(single)["metrics"]
        for k in batch:   # every batch metric; single runs also carry both perspectives (mkba.metrics.both_perspectives)
            assert batch[k][i] == pytest.approx(m[k], rel=1e-9, abs=1e-9, nan_ok=True), k


def test_chunked_batch_equals_unchunked():
    case = load_case("app_zaanstad")
    x = {"effect.work_exit_added": np.linspace(0, 0.3, 50)}
    a = evaluate_batch(case, x, chunk_size=7)
    b = evaluate_batch(case, x)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-12, equal_nan=True)


def test_tidy_table_shape_and_columns():
    case = load_case("fip_sittard_geleen")
    t = run(case)
    assert list(t.columns) == ["month", "year", "date", "group", "actor", "item", "category", "unit", "nominal", "discounted"]
    assert set(t["group"]) == {"treatment", "control"}
    assert t["month"].max() == case.months - 1
    money = t[t["unit"] == "EUR"]
    assert money["discounted"].notna().all()
    assert (money["discounted"].abs() <= money["nominal"].abs() + 1e-9).all()


def test_transfers_cancel_in_societal_total():
    case = load_case("app_zaanstad").with_overrides({"benefit.retention_share": {
        "value": 0.6, "unit": "fraction", "date": 2019, "reference": "test"}})
    table = per_actor(run(case), discounted=False)
    assert table.loc["benefit_payments", "total"] == pytest.approx(0, abs=1e-6)
    assert table.loc["buig_budget", "total"] == pytest.approx(0, abs=1e-6)
    assert table.loc["wages", "total"] == pytest.approx(0, abs=1e-6)


def test_retention_share_splits_saving_between_municipality_and_rijk():
    case = load_case("app_zaanstad")
    full = evaluate_batch(case)
    half = evaluate_batch(case, {"benefit.retention_share": 0.5})
    assert half["gross_saving_eur"][0] == pytest.approx(0.5 * full["gross_saving_eur"][0], rel=1e-9)
    assert half["societal_net_eur"][0] == pytest.approx(full["societal_net_eur"][0], rel=1e-9)


def test_cycle_multiplier_lowers_work_exits():
    case = load_case("app_zaanstad")
    m = evaluate_batch(case, {"cycle.multiplier": np.array([0.5, 1.0, 1.3])})
    assert m["extra_ended_benefits"][0] < m["extra_ended_benefits"][1] < m["extra_ended_benefits"][2]
    path = np.full(case.months, 0.5)
    assert evaluate_batch(case, cycle_path=path)["npv_eur"][0] == pytest.approx(m["npv_eur"][0], rel=1e-12)


def test_part_time_work_saves_part_of_the_benefit():
    case = load_case("app_zaanstad")
    m = evaluate_batch(case, {"baseline.part_time_share": np.array([0.0, 0.5])})
    assert m["extra_ended_benefits"][1] < m["extra_ended_benefits"][0]
    assert 0 < m["benefit_months_saved"][1] < m["benefit_months_saved"][0]


def test_batch_rejects_unknown_and_out_of_range():
    from mkba.errors import InputError

    case = load_case("app_zaanstad")
    with pytest.raises(InputError, match="did you mean 'baseline.work_exit_rate'"):
        evaluate_batch(case, {"baseline.work_exit_rat": np.array([0.1])})
    with pytest.raises(InputError, match="0.3 for 30 %"):
        evaluate_batch(case, {"baseline.work_exit_rate": np.array([0.1, 30.0])})


def test_summary_builds_the_tidy_table_only_when_read_and_it_equals_an_eager_build():
    """summarise leaves the tidy table (two thirds of a run's time) to its first reader: a slider
    move reads metrics and ledger only. Read, it is the same table as built at once."""
    import pandas as pd

    from mkba import model

    c = load_case("app_zaanstad")
    lazy = model.summarise(c)
    _ = lazy["metrics"], lazy["ledger"], lazy["per_year"]
    assert lazy._build_table is not None                      # not built by reading the rest
    metrics, F, PPL, LR, P = model.simulate_case(c)
    pd.testing.assert_frame_equal(lazy["table"], model._table(c, F, PPL, P))
    assert lazy._build_table is None and "table" in lazy
    assert sorted(model.summarise(c)) == ["ledger", "metrics", "per_year", "table"]

"""The CLI, through typer's runner (same code path as the console script)."""
import json

from typer.testing import CliRunner

from mkba.cli import app

runner = CliRunner()


def test_cases_lists_descriptions():
    r = runner.invoke(app, ["cases"])
    assert r.exit_code == 0
    assert "fip_sittard_geleen" in r.output and "71 vs 55" in r.output


def test_run_json_has_contract_keys():
    r = runner.invoke(app, ["run", "fip_sittard_geleen", "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert {"case", "metrics", "per_year", "assumptions_hash"} <= set(data)
    for k in ("extra_ended_benefits", "benefit_months_saved", "gross_saving_eur", "programme_cost_eur", "net_result_eur",
              "npv_eur", "bcr", "break_even_month", "cost_per_extra_ended_benefit_eur"):
        assert k in data["metrics"]
    assert abs(data["metrics"]["annual_saving_run_rate_eur"] - 240000) < 2400
    assert all(p["ok"] for p in data["published"])
    assert len(data["per_year"]) == 5


def test_run_set_changes_result_and_hash():
    a = json.loads(runner.invoke(app, ["run", "app_zaanstad", "--format", "json"]).output)
    b = json.loads(runner.invoke(app, ["run", "app_zaanstad", "--format", "json", "--set", "benefit.cost_per_year=16000"]).output)
    assert b["metrics"]["gross_saving_eur"] > a["metrics"]["gross_saving_eur"]
    assert a["assumptions_hash"] != b["assumptions_hash"]


def test_run_bad_set_is_clear_error():
    r = runner.invoke(app, ["run", "app_zaanstad", "--set", "benefit.cost_per_year=14.000"])
    assert r.exit_code == 2
    assert "write 14000" in r.output


def test_run_csv_and_table():
    r = runner.invoke(app, ["run", "buurt_mv_dordrecht", "--format", "csv"])
    assert r.exit_code == 0 and r.output.startswith("metric,value")
    r = runner.invoke(app, ["run", "buurt_mv_dordrecht"])
    assert r.exit_code == 0 and "Buurt-m/v" in r.output


def test_validate(tmp_path):
    assert runner.invoke(app, ["validate", "data/cases/app_zaanstad.yaml"]).exit_code == 0
    assert runner.invoke(app, ["validate", "data/parameters/base.yaml"]).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("benefit:\n  cost_per_year: {value: 14.000, unit: EUR/person-year, date: 2019, reference: x}\n")
    r = runner.invoke(app, ["validate", str(bad)])
    assert r.exit_code == 2 and "bad.yaml" in r.output and "benefit.cost_per_year" in r.output


def test_compare_table_has_all_cases():
    r = runner.invoke(app, ["compare", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert {row["case"] for row in rows} >= {"fip_sittard_geleen", "app_zaanstad", "flextensie_zaanstad"}
    for row in rows:
        for k in ("extra_ended_benefits", "programme_cost_eur", "gross_saving_eur", "net_result_eur",
                  "cost_per_extra_ended_benefit_eur", "bcr", "break_even_month", "npv_eur"):
            assert k in row


def test_sweep_one_way_and_scenarios_json():
    r = runner.invoke(app, ["sweep", "app_zaanstad", "--one-way", "--scenarios", "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    npv = [row for row in data["one_way"] if row["metric"] == "npv_eur"]
    swings = [row["swing"] for row in npv]
    assert swings == sorted(swings, reverse=True)
    assert {row["scenario"] for row in data["scenarios"]} == {"hoogconjunctuur", "gemiddeld", "laagconjunctuur"}


def test_sweep_probabilistic_is_reproducible_with_seed():
    a = runner.invoke(app, ["sweep", "app_zaanstad", "--prob", "2000", "--seed", "7", "--format", "json"]).output
    b = runner.invoke(app, ["sweep", "app_zaanstad", "--prob", "2000", "--seed", "7", "--format", "json"]).output
    assert a == b
    assert "p_positive" in json.loads(a)["probabilistic"][0]


def test_sweep_bad_grid_and_nothing_to_do():
    r = runner.invoke(app, ["sweep", "app_zaanstad", "--two-way", "baseline.work_exit_rate:0.02:0.1:0",
                            "--two-way", "cycle.multiplier:0.5:1.5:5"])
    assert r.exit_code == 2 and "at least one point" in r.output
    r = runner.invoke(app, ["sweep", "app_zaanstad"])
    assert r.exit_code == 2 and "nothing to do" in r.output
    r = runner.invoke(app, ["sweep", "app_zaanstad", "--two-way", "baseline.work_exit_rte:0.02:0.1:3",
                            "--two-way", "cycle.multiplier:0.5:1.5:5"])
    assert r.exit_code == 2 and "baseline.work_exit_rate" in r.output


def test_run_scenario_and_replay_errors_name_value_range_and_closest():
    r = runner.invoke(app, ["run", "app_zaanstad", "--scenario", "laag"])
    assert r.exit_code != 0
    out = r.output + (r.stderr if r.stderr_bytes is not None else "")
    assert "--scenario" in out and "'laag'" in out and "did you mean 'laagconjunctuur'?" in out and "average'?" not in out
    r = runner.invoke(app, ["run", "app_zaanstad", "--replay", "2024"])
    out = r.output + (r.stderr if r.stderr_bytes is not None else "")
    assert r.exit_code != 0 and "--replay" in out and "2024" in out and "2002-2023" in out and "closest: 2023" in out

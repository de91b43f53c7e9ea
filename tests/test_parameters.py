"""Strict loading: one test per validation error, each naming file, field, value and fix."""
import textwrap

import pytest

from mkba.cases import load_case, parse_set_values
from mkba.errors import InputError
from mkba.parameters import load_parameter_file, load_parameter_set


def write(tmp_path, text, name="p.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_base_parameters_load_with_provenance():
    params = load_parameter_set("base")
    b = params["benefit.cost_per_year"]
    assert (b.value, b.unit, b.date) == (14000.0, "EUR/person-year", "2019")
    assert b.reference.startswith("003_1cff8ea758d15861.txt:1946")
    assert params["reference.discount_rates"].series == {"2007-03-08": 0.055, "2016-04-01": 0.03, "2021-01-01": 0.0225}
    assert params["programme.cost_per_fte_year"].value == 66500
    for p in params.values():
        assert p.unit and p.reference


def test_discount_rate_by_date():
    assert load_case("fip_sittard_geleen").value("discount.rate") == 0.03         # appraisal 2019
    assert load_case("buurt_mv_dordrecht").value("discount.rate") == 0.055        # appraisal 2014


def test_dutch_thousands_separator_is_rejected(tmp_path):
    p = write(tmp_path, """
        benefit:
          cost_per_year: {value: 14.000, unit: EUR/person-year, date: 2019, reference: x}
    """)
    with pytest.raises(InputError) as e:
        load_parameter_file(p)
    msg = str(e.value)
    assert str(p) in msg and "benefit.cost_per_year" in msg and "14.0" in msg and "write 14000" in msg


def test_rate_written_as_percentage(tmp_path):
    p = write(tmp_path, """
        baseline:
          work_exit_rate: {value: 30, unit: 1/year (probability), date: 2019, reference: x}
    """)
    with pytest.raises(InputError, match=r"write 0.3 for 30 %"):
        load_parameter_file(p)


def test_negative_cost(tmp_path):
    p = write(tmp_path, """
        programme:
          setup_cost: {value: -5000, unit: EUR, date: 2019, reference: x}
    """)
    with pytest.raises(InputError, match="programme.setup_cost.*positive amounts"):
        load_parameter_file(p)


def test_horizon_in_years(tmp_path):
    p = write(tmp_path, """
        horizon:
          months: {value: 5, unit: months, date: 2019, reference: x}
    """)
    with pytest.raises(InputError, match="write 60 for 5 years"):
        load_parameter_file(p)
    p2 = write(tmp_path, """
        horizon:
          months: {value: 5, unit: years, date: 2019, reference: x}
    """, "q.yaml")
    with pytest.raises(InputError, match="multiply years by 12"):
        load_parameter_file(p2)


def test_unknown_key_suggests_closest(tmp_path):
    p = write(tmp_path, """
        baseline:
          work_exit_rte: {value: 0.1, unit: 1/year (probability), date: 2019, reference: x}
    """)
    with pytest.raises(InputError, match="did you mean 'baseline.work_exit_rate'"):
        load_parameter_file(p)


def test_unknown_leaf_key(tmp_path):
    p = write(tmp_path, """
        baseline:
          work_exit_rate: {value: 0.1, unit: 1/year (probability), date: 2019, reference: x, sorce: y}
    """)
    with pytest.raises(InputError, match="unknown key 'sorce'"):
        load_parameter_file(p)


def test_duplicate_key(tmp_path):
    p = write(tmp_path, """
        baseline:
          work_exit_rate: {value: 0.1, unit: 1/year (probability), date: 2019, reference: x}
          work_exit_rate: {value: 0.2, unit: 1/year (probability), date: 2019, reference: x}
    """)
    with pytest.raises(InputError, match="duplicate key 'work_exit_rate'"):
        load_parameter_file(p)


@pytest.mark.parametrize("missing", ["unit", "reference", "date"])
def test_missing_unit_reference_or_date(tmp_path, missing):
    fields = {"value": "0.1", "unit": "1/year (probability)", "date": "2019", "reference": "x"}
    del fields[missing]
    body = ", ".join(f"{k}: {v}" for k, v in fields.items())
    p = write(tmp_path, f"baseline:\n  work_exit_rate: {{{body}}}\n")
    with pytest.raises(InputError, match=f"missing '{missing}'"):
        load_parameter_file(p)


def test_wrong_type(tmp_path):
    p = write(tmp_path, """
        baseline:
          work_exit_rate: {value: "5,5 %", unit: 1/year (probability), date: 2019, reference: x}
    """)
    with pytest.raises(InputError, match="must be a number.*0.3 for 30 %"):
        load_parameter_file(p)


def test_out_of_range(tmp_path):
    p = write(tmp_path, """
        cycle:
          multiplier: {value: 7, unit: ratio, date: 2019, reference: x}
    """)
    with pytest.raises(InputError, match="cycle.multiplier.*between 0 and 3"):
        load_parameter_file(p)


def test_not_a_mapping(tmp_path):
    p = write(tmp_path, "- just\n- a list\n")
    with pytest.raises(InputError, match="top level must be a mapping"):
        load_parameter_file(p)


def test_yaml_is_not_evaluated(tmp_path):
    p = write(tmp_path, "x: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_parameter_file(p)


def test_inverted_or_excluding_range(tmp_path):
    p = write(tmp_path, """
        baseline:
          work_exit_rate: {value: 0.05, unit: 1/year (probability), date: 2019, reference: x, low: 0.07, high: 0.04, range_reason: r}
    """)
    with pytest.raises(InputError, match="inverted"):
        load_parameter_file(p)


def test_set_values_are_parsed_not_evaluated():
    assert parse_set_values(["benefit.cost_per_year=15000"])["benefit.cost_per_year"]["value"] == 15000
    with pytest.raises(InputError, match="must be a number"):
        parse_set_values(["benefit.cost_per_year=__import__('os')"])
    with pytest.raises(InputError, match="0.3 for 30 %"):
        parse_set_values(["baseline.work_exit_rate=30%"])
    with pytest.raises(InputError, match="did you mean"):
        parse_set_values(["benefit.cost_per_yer=1"])


def test_override_without_provenance_is_rejected(tmp_path):
    (tmp_path / "cases").mkdir()
    p = write(tmp_path / "cases", """
        name: bad
        title: t
        summary: s
        start_date: 2019-01-01
        overrides:
          baseline.work_exit_rate: 0.1
    """, "bad.yaml")
    with pytest.raises(InputError, match="needs its value, unit, date and reference"):
        load_case(p)


def test_case_unknown_top_level_key(tmp_path):
    p = write(tmp_path, """
        name: bad
        title: t
        summary: s
        start_date: 2019-01-01
        overide: {}
    """, "bad.yaml")
    with pytest.raises(InputError, match="unknown key 'overide'.*did you mean 'overrides'"):
        load_case(p)


# ---------------------------------------------------------------- issue 13: reading what was written
def test_exponent_notation_is_a_number(tmp_path):
    """YAML 1.1 reads 1e5 as text; mkba reads it as 100000 (in files and in --set)."""
    p = write(tmp_path, """
        programme:
          setup_cost: {value: 1e5, unit: EUR, date: 2019, reference: x}
    """)
    assert load_parameter_file(p)["programme.setup_cost"].value == 100000.0
    assert parse_set_values(["programme.setup_cost=2.5e4"])["programme.setup_cost"]["value"] == 25000.0


def test_small_yearly_amount_that_is_legitimate_is_accepted(tmp_path):
    """A EUR 500 care saving per person-year is plausible: the plausibility floor is per parameter, not per unit."""
    p = write(tmp_path, """
        effects:
          care_saving_per_worker_year: {value: 500, unit: EUR/person-year, date: 2019, reference: x}
    """)
    assert load_parameter_file(p)["effects.care_saving_per_worker_year"].value == 500.0
    with pytest.raises(InputError, match="write 500000"):
        parse_set_values(["benefit.cost_per_year=500"])


def test_plausibility_mappings_name_real_parameters():
    from mkba.parameters import PLAUSIBLE_MAXIMUM, PLAUSIBLE_MINIMUM, SERIES_SPECS
    from mkba.schema import SCHEMA

    assert set(PLAUSIBLE_MINIMUM) <= set(SCHEMA)
    assert set(PLAUSIBLE_MAXIMUM) <= set(SCHEMA)
    assert set(SERIES_SPECS.values()) <= set(SCHEMA)


def test_thousands_separator_is_caught_from_the_written_text_not_the_value(tmp_path):
    """'250.000' and '250.0' are the same float; only the first is refused (in a money field)."""
    bad = write(tmp_path, """
        programme:
          setup_cost: {value: 250.000, unit: EUR, date: 2019, reference: x}
    """)
    with pytest.raises(InputError, match="write 250000"):
        load_parameter_file(bad)
    ok = write(tmp_path, """
        programme:
          setup_cost: {value: 250.0, unit: EUR, date: 2019, reference: x}
        cycle:
          multiplier: {value: 1.125, unit: ratio, date: 2019, reference: x}
        baseline:
          work_exit_rate: {value: 0.055, unit: 1/year (probability), date: 2019, reference: x}
    """, "ok.yaml")
    params = load_parameter_file(ok)
    assert params["programme.setup_cost"].value == 250.0            # written as a decimal: meant as 250
    assert params["cycle.multiplier"].value == 1.125                 # three decimals in a ratio are fine
    assert params["baseline.work_exit_rate"].value == 0.055


def test_billion_laughs_is_refused_before_expansion(tmp_path):
    import time

    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)]
    p = write(tmp_path, "\n".join(lines) + "\n")
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="aliases"):
        load_parameter_file(p)
    assert time.perf_counter() - t0 < 30   # a hang guard, not a speed test: expanding it needs GBs and minutes


def test_every_shipped_case_passes_validate():
    """`mkba validate` also loads every variant and checks the published metric names."""
    from typer.testing import CliRunner

    from mkba.cases import cases_dir
    from mkba.cli import app

    for path in sorted(cases_dir().glob("*.yaml")):
        r = CliRunner().invoke(app, ["validate", str(path)])
        assert r.exit_code == 0, r.output
        assert r.output.startswith("ok: case")


def test_series_override_of_model_parameter_is_refused(tmp_path):
    p = write(tmp_path, """
        programme:
          setup_cost: {series: {2019: 100000}, unit: EUR, reference: x}
    """)
    with pytest.raises(InputError, match="takes one value"):
        load_parameter_file(p)


def test_numbers_read_from_a_file_dump_and_pickle_as_plain_floats(tmp_path):
    import pickle

    import yaml

    from mkba.parameters import read_yaml

    p = write(tmp_path, """
        programme:
          setup_cost: {value: 2500.5, unit: EUR, date: 2019, reference: x}
    """)
    raw = read_yaml(p)
    assert yaml.safe_load(yaml.safe_dump(raw)) == raw
    assert pickle.loads(pickle.dumps(raw)) == raw

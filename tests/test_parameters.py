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

"""Case loading, variants and self-contradicting cases."""
import json
import textwrap
from pathlib import Path

import pytest

from mkba.cases import list_cases, load_case
from mkba.errors import InputError


def case_file(tmp_path, body, name="bad"):
    p = tmp_path / f"{name}.yaml"
    p.write_text(textwrap.dedent(f"""
        name: {name}
        title: t
        summary: s
        start_date: 2019-01-01
    """) + textwrap.dedent(body), encoding="utf-8")
    return p


PUBLISHED_CASES = ("fip_sittard_geleen", "app_zaanstad", "buurt_mv_dordrecht", "flextensie_zaanstad", "unit_value_14000")


def test_all_cases_listed_and_load():
    names = [n for n, _ in list_cases()]
    assert set(PUBLISHED_CASES) <= set(names)
    for n in names:
        load_case(n)
    for n in PUBLISHED_CASES:
        c = load_case(n)
        assert c.readings, f"{n} states no reading of its ambiguities"
        assert c.published, f"{n} has no published figure"


def test_unknown_case_suggests():
    with pytest.raises(InputError, match="did you mean 'fip_sittard_geleen'"):
        load_case("fip_sittard")


def test_variant_changes_only_its_overrides():
    a = load_case("fip_sittard_geleen")
    b = load_case("fip_sittard_geleen", variant="generic_14000")
    diff = {k for k in a.values if a.values[k] != b.values[k]}
    assert diff == {"benefit.cost_per_year"}
    assert a.assumptions_hash() != b.assumptions_hash()


def test_control_group_larger_than_population(tmp_path):
    p = case_file(tmp_path, """
        pilot: {population: 500, treatment_group: 300, control_group: 300, reference: x}
    """)
    with pytest.raises(InputError, match=r"control group \(300\) plus the treatment group \(300\).*\(500\)"):
        load_case(p)


def test_more_exits_than_people(tmp_path):
    p = case_file(tmp_path, """
        pilot: {treatment_group: 300, control_group: 300, treatment_ended: 310, reference: x}
    """)
    with pytest.raises(InputError, match="more exits than people: 310"):
        load_case(p)


def test_trial_longer_than_programme(tmp_path):
    p = case_file(tmp_path, """
        overrides:
          jobs.share: {value: 1, unit: fraction, date: 2019, reference: x}
          jobs.start_month: {value: 30, unit: months, date: 2019, reference: x}
          jobs.end_month: {value: 40, unit: months, date: 2019, reference: x}
    """)
    with pytest.raises(InputError, match=r"trial \(jobs.start_month = 30 months\) is longer than the programme \(programme.months = 24\)"):
        load_case(p)


def test_build_up_longer_than_horizon(tmp_path):
    p = case_file(tmp_path, """
        overrides:
          horizon.months: {value: 12, unit: months, date: 2019, reference: x}
          secondment.share: {value: 1, unit: fraction, date: 2019, reference: x}
          secondment.ramp_months: {value: 18, unit: months, date: 2019, reference: x}
    """)
    with pytest.raises(InputError, match=r"build-up \(secondment.ramp_months = 18\) is longer than the horizon \(horizon.months = 12\)"):
        load_case(p)


def _templates():
    from mkba.parameters import data_dir

    return sorted((data_dir() / "templates").glob("*.yaml"))


def test_the_cookbook_templates_exist():
    names = {p.stem for p in _templates()}
    assert {"intensive_case_management", "subsidised_job", "secondment_benefit_kept", "training_part_time",
            "placement_agency"} <= names


@pytest.mark.parametrize("path", _templates(), ids=lambda p: p.stem)
def test_every_template_validates_runs_and_makes_a_new_case(path, tmp_path):
    """Each template (docs/cookbook.md) is a case that loads, runs and is a valid --from for `mkba new`."""
    import math

    from mkba.local import new_case_file
    from mkba.model import case_warnings, evaluate_batch, summarise

    case = load_case(path)
    m = summarise(case)["metrics"]
    assert all(math.isfinite(m[k]) for k in ("npv_eur", "municipal_npv_eur", "societal_npv_eur"))
    assert m["extra_ended_benefits"] <= case.value("cohort.initial_participants") + case.value(
        "cohort.inflow_per_month") * case.value("cohort.inflow_months") + 1e-9
    assert not case_warnings(case), case_warnings(case)
    out = new_case_file(f"my_{path.stem}", path.stem, out_dir=tmp_path)
    new = load_case(out)
    assert evaluate_batch(new)["npv_eur"][0] == pytest.approx(evaluate_batch(new)["npv_eur"][0])


def test_validate_names_an_effect_that_outlasts_paid_participation(tmp_path):
    """APP's variant effect_as_published lets the effect run on after the paid year without a source."""
    from typer.testing import CliRunner

    from mkba.cli import app
    from mkba.model import case_warnings

    warn = case_warnings(load_case("app_zaanstad", variant="effect_as_published"))
    assert warn and "effect.persistence_months" in warn[0] and "participation.months = 12" in warn[0]
    assert not case_warnings(load_case("app_zaanstad"))
    src = load_case("app_zaanstad").source_file
    text = open(src, encoding="utf-8").read().replace(
        "  participation.months: {value: 12,",
        "  effect.persistence_months: {value: 6, unit: months, date: 2018, reference: \"assumption: test\"}\n"
        "  participation.months: {value: 12,")
    p = tmp_path / "app_zaanstad.yaml"
    p.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(app, ["validate", str(p)])
    assert "warning:" in r.output and "effect.persistence_months" in r.output, r.output


def test_report_names_an_effect_that_outlasts_paid_participation_next_to_the_answer():
    """The report says, in the reader's language, that the figure rests on an effect nobody pays for."""
    from mkba import views

    warned = views.model_warnings(views.prepare_case("app_zaanstad", variant="effect_as_published"), "nl")
    assert warned is not None
    text = warned.data
    assert "Let op" in text and "blijvend" in text and "na de betaalde deelname (12 maanden)" in text
    assert "persistence" not in text and "Fix" not in text           # Dutch for the reader, no identifiers
    en = views.model_warnings(views.prepare_case("app_zaanstad", variant="effect_as_published"), "en").data
    assert "lasting after the paid participation" in en
    assert views.model_warnings(views.prepare_case("app_zaanstad"), "nl") is None
    nb = (Path(__file__).parents[1] / "notebooks" / "business_case.ipynb").read_text(encoding="utf-8")
    answer_cell = next(c for c in json.loads(nb)["cells"] if "views.answer(" in "".join(c["source"]))
    assert "views.model_warnings(c, lang)" in "".join(answer_cell["source"])


def test_a_loaded_case_is_not_parsed_again_but_an_edited_file_is_read_anew(tmp_path):
    """load_case keeps resolved cases (a batch asks for the same one hundreds of times): a call
    returns its own copy, and editing the file (or the parameter set) is seen at once."""
    import time

    p = case_file(tmp_path, """
        extends: base
        overrides:
          cohort.initial_participants: {value: 40, unit: persons, date: 2019, reference: "assumption: test"}
    """, name="memo")
    a = load_case(p)
    assert a.value("cohort.initial_participants") == 40
    a.parameters.pop("cohort.initial_participants")       # a caller changing its copy ...
    a.notes.append("changed by a caller")
    b = load_case(p)
    assert b.value("cohort.initial_participants") == 40   # ... does not change the next one
    assert "changed by a caller" not in b.notes
    text = p.read_text(encoding="utf-8").replace("value: 40", "value: 41")
    time.sleep(0.01)
    p.write_text(text, encoding="utf-8")
    assert load_case(p).value("cohort.initial_participants") == 41
    assert load_case(p, {"cohort.initial_participants": {"value": 7, "unit": "persons", "date": 2019,
                                                          "reference": "assumption: test"}}
                     ).value("cohort.initial_participants") == 7
    assert load_case(p).value("cohort.initial_participants") == 41

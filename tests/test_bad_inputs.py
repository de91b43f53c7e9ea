"""The catalogue of bad inputs: one parametrised test over everything a careful tester tried.

Each entry is (id, files, command, expected exit code, words the message must contain). ``files``
maps file names (in a temporary folder) to their text; ``{tmp}`` in the command is that folder.
Every bad input must end with a non-zero exit code and a message naming the file or option, the
field, the value and a fix ("Fix: ..."); a Python traceback or an exit code 0 fails the test.

``{case}`` in a file text is a minimal valid case (extends the base parameters) whose
``overrides:`` / extra keys are filled in by the entry; see :func:`case_text`.
Add new bad inputs here, not in separate tests.
"""
from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass, field

import pytest
from typer.testing import CliRunner

from mkba.cli import app
from mkba.parameters import data_dir

runner = CliRunner()


def case_text(name: str = "t", overrides: str = "", extra: str = "", start: str = "2019-01-01",
              head: str = "") -> str:
    """A minimal case file; ``overrides`` are lines under ``overrides:``, ``extra`` more top-level keys."""
    ovr = textwrap.indent(textwrap.dedent(overrides).strip("\n"), "  ") if overrides.strip() else "  {}"
    lines = [f"name: {name}", "title: Test case", "summary: A case for the bad-input catalogue", head.strip(),
             "extends: base", f"start_date: {start}", "overrides:" + ("" if overrides.strip() else " {}")]
    if overrides.strip():
        lines.append(ovr)
    lines.append(textwrap.dedent(extra).strip("\n"))
    return "\n".join(x for x in lines if x) + "\n"


def ovr(name: str, value: str, unit: str, more: str = "") -> str:
    """One override line in the flow style every shipped case uses."""
    return f"{name}: {{value: {value}, unit: '{unit}', date: 2019, reference: 'assumption: test'{more}}}"


P = "1/year (probability)"
BILLION_LAUGHS = "\n".join(
    ["a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)]) + "\n"
PARAM_FILE_HEAD = "# a parameter file\n"


@dataclass
class Bad:
    id: str
    files: dict
    cmd: list
    words: list
    code: int = 2
    data_cases: dict = field(default_factory=dict)   # extra files in a copy of data/cases (MKBA_DATA_DIR)


def V(id, text, words, name="t.yaml", code=2):
    """`mkba validate` on one file."""
    return Bad(id, {name: text}, ["validate", "{tmp}/" + name], words, code)


CATALOGUE = [
    # ---- Dutch thousands separator, in every money unit and in counts (read from the written text)
    V("thousands-eur", case_text(overrides=ovr("programme.setup_cost", "250.000", "EUR")),
      ["t.yaml", "programme.setup_cost", "250.000", "write 250000"]),
    V("thousands-eur-month", case_text(overrides=ovr("programme.other_cost_per_month", "5.000", "EUR/month")),
      ["t.yaml", "programme.other_cost_per_month", "5.000", "write 5000"]),
    V("thousands-eur-person", case_text(overrides=ovr("programme.cost_per_participant", "1.200", "EUR/person")),
      ["programme.cost_per_participant", "1.200", "write 1200"]),
    V("thousands-eur-person-month",
      case_text(overrides=ovr("programme.cost_per_participant_month", "1.500", "EUR/person-month")),
      ["programme.cost_per_participant_month", "1.500", "write 1500"]),
    V("thousands-eur-hour", case_text(overrides=ovr("secondment.tariff_per_hour", "1.000", "EUR/hour")),
      ["secondment.tariff_per_hour", "1.000", "write 1000"]),
    V("thousands-eur-person-year", case_text(overrides=ovr("benefit.cost_per_year", "14.000", "EUR/person-year")),
      ["benefit.cost_per_year", "14.000", "write 14000"]),
    V("thousands-eur-fte-year", case_text(overrides=ovr("work.wage_cost_per_year", "30.000", "EUR/FTE-year")),
      ["work.wage_cost_per_year", "30.000", "write 30000"]),
    V("thousands-small-amount", case_text(overrides=ovr("effects.care_saving_per_worker_year", "1.500",
                                                        "EUR/person-year")),
      ["effects.care_saving_per_worker_year", "1.500", "write 1500"]),
    V("thousands-persons", case_text(overrides=ovr("cohort.initial_participants", "1.500", "persons")),
      ["cohort.initial_participants", "1.500", "write 1500"]),
    V("thousands-persons-two-dots", case_text(overrides=ovr("cohort.initial_participants", "1.000.000", "persons")),
      ["cohort.initial_participants", "1.000.000", "write 1000000"]),
    V("thousands-in-low", case_text(overrides=ovr("benefit.cost_per_year", "14000", "EUR/person-year",
                                                  ", low: 12.000, high: 16000, range_reason: x")),
      ["benefit.cost_per_year", "12.000", "write 12000"]),
    V("thousands-in-high", case_text(overrides=ovr("programme.setup_cost", "1000", "EUR",
                                                   ", low: 0, high: 20.000, range_reason: x")),
      ["programme.setup_cost", "20.000", "write 20000"]),
    V("flow-comma-thousands", case_text(overrides=ovr("benefit.cost_per_year", "14,500", "EUR/person-year")),
      ["t.yaml", "value", "14,500", "write 14500"]),
    V("flow-comma-decimal", case_text(overrides=ovr("baseline.work_exit_rate", "0,3", P)),
      ["t.yaml", "value", "0,3", "write 0.3"]),
    V("block-comma", case_text(overrides="benefit.cost_per_year:\n  value: 14,500\n  unit: EUR/person-year\n"
                                         "  date: 2019\n  reference: x"),
      ["benefit.cost_per_year", "14,500", "14000"]),
    Bad("set-thousands", {}, ["run", "app_zaanstad", "--set", "programme.setup_cost=250.000"],
        ["--set", "programme.setup_cost", "250.000", "write 250000"]),
    Bad("set-comma", {}, ["run", "app_zaanstad", "--set", "benefit.cost_per_year=14,5"],
        ["benefit.cost_per_year", "14,5", "14000"]),
    Bad("set-text", {}, ["run", "app_zaanstad", "--set", "benefit.cost_per_year=veel"],
        ["benefit.cost_per_year", "veel", "number"]),
    # ---- leaf keys that would silently do nothing, or zero a value
    V("series-on-model-parameter",
      case_text(overrides="programme.setup_cost: {series: {2019: 100000}, unit: EUR, reference: x}"),
      ["programme.setup_cost", "series", "value"]),
    V("value-and-series",
      PARAM_FILE_HEAD + "reference:\n  discount_rates: {value: 0.03, series: {2016-04-01: 0.03}, unit: 1/year (real),"
                        " reference: x}\n",
      ["reference.discount_rates", "value", "series", "not both"]),
    # ---- out of range, NaN, infinity, percentages
    V("discount-series-percent",
      PARAM_FILE_HEAD + "reference:\n  discount_rates: {series: {2016-04-01: 3}, unit: 1/year (real), reference: x}\n",
      ["discount.rate", "3", "0.03"]),
    V("discount-rate-30pct", case_text(overrides=ovr("discount.rate", "0.3", "1/year (real)")),
      ["discount.rate", "0.3", "0.003"]),
    V("discount-series-nan",
      PARAM_FILE_HEAD + "reference:\n  discount_rates: {series: {2016-04-01: .nan}, unit: 1/year (real), reference: x}\n",
      ["discount", "nan", "number"]),
    V("nan-probability", case_text(overrides=ovr("baseline.work_exit_rate", ".nan", P)),
      ["baseline.work_exit_rate", "nan", "give a number"]),
    V("inf-cost", case_text(overrides=ovr("programme.setup_cost", ".inf", "EUR")),
      ["programme.setup_cost", "inf", "finite"]),
    V("inf-low", case_text(overrides=ovr("programme.setup_cost", "1000", "EUR", ", low: -.inf, high: 2000, range_reason: x")),
      ["programme.setup_cost", "inf", "finite"]),
    V("nan-reference-value", PARAM_FILE_HEAD + "reference:\n  x: {value: .nan, unit: EUR, date: 2019, reference: x}\n",
      ["reference.x", "nan", "give a number"]),
    V("probability-negative", case_text(overrides=ovr("baseline.work_exit_rate", "-0.1", P)),
      ["baseline.work_exit_rate", "-0.1", "between 0 and 1"]),
    V("probability-above-100", case_text(overrides=ovr("baseline.work_exit_rate", "150", P)),
      ["baseline.work_exit_rate", "150", "between 0 and 1"]),
    V("probability-percent", case_text(overrides=ovr("baseline.work_exit_rate", "30", P)),
      ["baseline.work_exit_rate", "30", "write 0.3"]),
    V("combined-probability-above-1",
      case_text(overrides=ovr("baseline.work_exit_rate", "0.9", P) + "\n"
                + ovr("effect.work_exit_added", "0.3", "fraction/year (pp/100)")),
      ["t.yaml", "effect.work_exit_added", "1.2", "between 0 and 1"]),
    V("combined-probability-below-0",
      case_text(overrides=ovr("baseline.work_exit_rate", "0.02", P) + "\n"
                + ovr("effect.work_exit_added", "-0.05", "fraction/year (pp/100)")),
      ["effect.work_exit_added", "-0.03", "between 0 and 1"]),
    V("participants-implausible", case_text(overrides=ovr("cohort.initial_participants", "1000000", "persons")),
      ["cohort.initial_participants", "1000000", "376.220"]),
    V("inflow-implausible", case_text(overrides=ovr("cohort.inflow_per_month", "50000", "persons/month")),
      ["cohort.inflow_per_month", "50000", "bijstand"]),
    V("negative-cost", case_text(overrides=ovr("programme.setup_cost", "-5000", "EUR")),
      ["programme.setup_cost", "-5000", "positive"]),
    V("horizon-zero", case_text(overrides=ovr("horizon.months", "0", "months")),
      ["horizon.months", "0", "at least 12 months", "60 = five years"]),
    V("horizon-years", case_text(overrides=ovr("horizon.months", "5", "months")),
      ["horizon.months", "5", "write 60 for 5 years"]),
    V("horizon-fraction", case_text(overrides=ovr("horizon.months", "60.5", "months")),
      ["horizon.months", "60.5", "round to"]),
    V("benefit-low-zero", case_text(overrides=ovr("benefit.cost_per_year", "14000", "EUR/person-year",
                                                  ", low: 0, high: 16000, range_reason: x")),
      ["benefit.cost_per_year.low", "0", "at least 1000"]),
    V("benefit-implausibly-small", case_text(overrides=ovr("benefit.cost_per_year", "14", "EUR/person-year")),
      ["benefit.cost_per_year", "14", "write 14000"]),
    V("range-inverted", case_text(overrides=ovr("programme.setup_cost", "1000", "EUR",
                                                ", low: 2000, high: 500, range_reason: x")),
      ["programme.setup_cost", "low", "swap"]),
    V("range-excludes-value", case_text(overrides=ovr("programme.setup_cost", "1000", "EUR",
                                                      ", low: 2000, high: 5000, range_reason: x")),
      ["programme.setup_cost", "excludes", "widen"]),
    V("range-without-reason", case_text(overrides=ovr("programme.setup_cost", "1000", "EUR", ", low: 500, high: 5000")),
      ["programme.setup_cost", "range_reason"]),
    # ---- YAML structure: aliases, duplicates, dates, encodings, files and folders
    V("billion-laughs", BILLION_LAUGHS, ["t.yaml", "alias", "write each value out in full"]),
    V("alias-in-case", case_text(overrides="benefit.cost_per_year: &b {value: 14000, unit: EUR/person-year, date: 2019,"
                                           " reference: x}\nwork.wage_cost_per_year: *b"),
      ["t.yaml", "alias", "line"]),
    V("duplicate-key", case_text(overrides=ovr("programme.setup_cost", "1000", "EUR") + "\n"
                                 + ovr("programme.setup_cost", "2000", "EUR")),
      ["t.yaml", "duplicate key", "programme.setup_cost", "remove"]),
    V("invalid-start-date", case_text(start="2019-02-30"), ["t.yaml", "2019-02-30", "date that exists"]),
    V("invalid-leaf-date", case_text(overrides="programme.setup_cost: {value: 1000, unit: EUR, date: 2019-13-01, "
                                               "reference: x}"),
      ["t.yaml", "2019-13-01", "date"]),
    V("start-date-text", case_text(start="juli 2019"), ["t.yaml", "start_date", "juli 2019", "YYYY-MM-DD"]),
    Bad("latin1-file", {"t.yaml": case_text(extra="notes: ['beëindigd']").encode("latin-1")},
        ["validate", "{tmp}/t.yaml"], ["t.yaml", "UTF-8", "0xeb", "save the file as UTF-8"]),
    Bad("binary-file", {"t.yaml": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"}, ["validate", "{tmp}/t.yaml"],
        ["t.yaml", "binary", "give a case"]),
    Bad("validate-folder", {"sub/x.txt": "x"}, ["validate", "{tmp}/sub"], ["sub", "folder", "one .yaml file"]),
    Bad("validate-missing", {}, ["validate", "{tmp}/nope.yaml"], ["nope.yaml", "not found", "check the path"]),
    V("not-yaml", "name: t\n  title: [unclosed\n", ["t.yaml", "not valid YAML", "indentation"]),
    V("top-level-list", "- a\n- b\n", ["t.yaml", "top level", "mapping"]),
    V("empty-file", "", ["t.yaml", "top level", "mapping"]),
    V("unknown-case-key", case_text(extra="sumary: typo"), ["t.yaml", "sumary", "summary"]),
    V("unknown-parameter", case_text(overrides=ovr("benefit.cost_per_yaer", "14000", "EUR/person-year")),
      ["t.yaml", "benefit.cost_per_yaer", "benefit.cost_per_year"]),
    V("override-bare-number", case_text(overrides="benefit.cost_per_year: 14000"),
      ["overrides.benefit.cost_per_year", "14000", "unit"]),
    V("override-wrong-unit", case_text(overrides=ovr("horizon.months", "5", "years")),
      ["horizon.months", "years", "multiply years by 12"]),
    V("override-missing-reference", case_text(overrides="programme.setup_cost: {value: 1000, unit: EUR, date: 2019}"),
      ["programme.setup_cost", "reference", "assumption"]),
    V("overrides-not-mapping", case_text(extra="").replace("overrides: {}", "overrides: [1, 2]"),
      ["t.yaml", "overrides", "mapping"]),
    V("name-not-file-name", case_text(name="other"), ["t.yaml", "name", "other", "write name: t"]),
    V("perspective-invalid", case_text(head="perspective: gemeente"), ["t.yaml", "perspective", "gemeente",
                                                                        "municipality"]),
    V("title-missing", case_text().replace("title: Test case\n", ""), ["t.yaml", "title", "add"]),
    V("published-unknown-metric",
      case_text(extra="published:\n  - {metric: npv, value: 1000, tolerance: 1, reference: x}"),
      ["t.yaml", "published[0].metric", "npv", "npv_eur"]),
    Bad("run-json-published-unknown-metric",
        {"t.yaml": case_text(extra="published:\n  - {metric: npv, value: 1000, tolerance: 1, reference: x}")},
        ["run", "{tmp}/t.yaml", "--format", "json"], ["t.yaml", "published[0].metric", "npv", "npv_eur"]),
    Bad("run-table-published-unknown-metric",
        {"t.yaml": case_text(extra="published:\n  - {metric: npv, value: 1000, tolerance: 1, reference: x}")},
        ["run", "{tmp}/t.yaml"], ["t.yaml", "published[0].metric", "npv", "npv_eur"]),
    V("published-unknown-variant",
      case_text(extra="published:\n  - {metric: npv_eur, value: 1000, tolerance: 1, reference: x, variant: nope}"),
      ["t.yaml", "published[0].variant", "nope", "variants"]),
    V("variant-bad-override",
      case_text(extra="variants:\n  v1:\n    title: V\n    overrides:\n      "
                      + ovr("baseline.work_exit_rate", "30", P)),
      ["variants.v1", "baseline.work_exit_rate", "30", "write 0.3"]),
    V("variant-unknown-parameter",
      case_text(extra="variants:\n  v1:\n    title: V\n    overrides:\n      "
                      + ovr("baseline.work_exit_rte", "0.1", P)),
      ["variants.v1", "baseline.work_exit_rte", "baseline.work_exit_rate"]),
    V("variant-thousands",
      case_text(extra="variants:\n  v1:\n    title: V\n    overrides:\n      "
                      + ovr("programme.setup_cost", "250.000", "EUR")),
      ["variants.v1", "programme.setup_cost", "250.000", "write 250000"]),
    V("measured-in-outside-cycle-data", case_text(head="measured_in: 1990"), ["t.yaml", "measured_in", "1990", "2002"]),
    V("published-negative-tolerance",
      case_text(extra="published:\n  - {metric: npv_eur, value: 1000, tolerance: -5, reference: x}"),
      ["t.yaml", "published.0.tolerance", "-5", "at least 0"]),
    V("pilot-negative-group",
      case_text(extra="pilot: {treatment_group: -3, control_group: 300, reference: x}"),
      ["t.yaml", "pilot.treatment_group", "-3", "at least 1"]),
    V("pilot-more-exits-than-people",
      case_text(extra="pilot: {treatment_group: 10, control_group: 10, treatment_ended: 20, reference: x}"),
      ["t.yaml", "pilot.treatment_ended", "more exits than people"]),
    V("extends-unknown", case_text().replace("extends: base", "extends: bsae"), ["t.yaml", "extends", "base"]),
    Bad("extends-loop", {"a.yaml": case_text(name="a").replace("extends: base", "extends: {tmp}/b.yaml"),
                         "b.yaml": case_text(name="b").replace("extends: base", "extends: {tmp}/a.yaml")},
        ["validate", "{tmp}/a.yaml"], ["a.yaml", "extends", "loop", "break the loop"]),
    V("parameter-file-unknown", PARAM_FILE_HEAD + "baseline:\n  work_exit_rte: {value: 0.1, unit: " + P
      + ", date: 2019, reference: x}\n", ["t.yaml", "baseline.work_exit_rte", "baseline.work_exit_rate"]),
    V("parameter-missing-date", PARAM_FILE_HEAD + "programme:\n  setup_cost: {value: 1, unit: EUR, reference: x}\n",
      ["programme.setup_cost", "date", "add date"]),
    V("parameter-stray-value", PARAM_FILE_HEAD + "programme:\n  setup_cost: 1000\n",
      ["programme.setup_cost", "1000", "unit"]),
    # ---- command-line options
    Bad("compare-format-xml", {}, ["compare", "--format", "xml"], ["--format", "xml", "table, json or csv"]),
    Bad("sweep-format-xml", {}, ["sweep", "app_zaanstad", "--one-way", "--format", "xml"],
        ["--format", "xml", "table, json or csv"]),
    Bad("run-format-xml", {}, ["run", "app_zaanstad", "--format", "xml"], ["--format", "xml", "table, json or csv"]),
    Bad("prob-negative", {}, ["sweep", "app_zaanstad", "--prob", "-5"], ["--prob", "-5", "--prob 10000"]),
    Bad("sobol-not-power-of-two", {}, ["sweep", "app_zaanstad", "--sobol", "1000"], ["--sobol", "1000", "1024"]),
    Bad("morris-one", {}, ["sweep", "app_zaanstad", "--morris", "1"], ["--morris", "1", "50"]),
    Bad("seed-negative", {}, ["sweep", "app_zaanstad", "--prob", "10", "--seed", "-1"], ["--seed", "-1", "--seed 1"]),
    Bad("dists-missing", {}, ["sweep", "app_zaanstad", "--prob", "10", "--dists", "{tmp}/d.yaml"],
        ["d.yaml", "--dists", "not found", "check the path"]),
    Bad("dists-folder", {"sub/x.txt": "x"}, ["sweep", "app_zaanstad", "--prob", "10", "--dists", "{tmp}/sub"],
        ["sub", "--dists", "folder"]),
    Bad("dists-duplicate-key", {"d.yaml": "benefit.cost_per_year: {kind: uniform, low: 13000, high: 15000}\n"
                                          "benefit.cost_per_year: {kind: uniform, low: 12000, high: 16000}\n"},
        ["sweep", "app_zaanstad", "--prob", "10", "--dists", "{tmp}/d.yaml"],
        ["d.yaml", "duplicate key", "benefit.cost_per_year", "remove"]),
    Bad("dists-alias", {"d.yaml": "a: &x {kind: uniform, low: 0.01, high: 0.1}\nbaseline.work_exit_rate: *x\n"},
        ["sweep", "app_zaanstad", "--prob", "10", "--dists", "{tmp}/d.yaml"], ["d.yaml", "alias", "in full"]),
    Bad("dists-unknown-kind", {"d.yaml": "benefit.cost_per_year: {kind: unifrom, low: 13000, high: 15000}\n"},
        ["sweep", "app_zaanstad", "--prob", "10", "--dists", "{tmp}/d.yaml"], ["d.yaml", "kind", "unifrom", "uniform"]),
    Bad("dists-not-mapping", {"d.yaml": "- a\n- b\n"}, ["sweep", "app_zaanstad", "--prob", "10", "--dists", "{tmp}/d.yaml"],
        ["d.yaml", "mapping", "list"]),
    Bad("dists-unknown-parameter", {"d.yaml": "benefit.cost_per_yar: {kind: uniform, low: 13000, high: 15000}\n"},
        ["sweep", "app_zaanstad", "--prob", "10", "--dists", "{tmp}/d.yaml"],
        ["d.yaml", "benefit.cost_per_yar", "benefit.cost_per_year"]),
    Bad("dists-thousands", {"d.yaml": "benefit.cost_per_year: {kind: uniform, low: 13.000, high: 15000}\n"},
        ["sweep", "app_zaanstad", "--prob", "10", "--dists", "{tmp}/d.yaml"],
        ["d.yaml", "benefit.cost_per_year.low", "13.000", "write 13000"]),
    Bad("dists-probability-outside-0-1", {"d.yaml": "baseline.work_exit_rate: {kind: uniform, low: -0.5, high: 1.5}\n"},
        ["sweep", "app_zaanstad", "--prob", "10", "--dists", "{tmp}/d.yaml"],
        ["d.yaml", "baseline.work_exit_rate", "-0.5", "within [0, 1]"]),
    Bad("dists-triangular-outside", {"d.yaml": "baseline.work_exit_rate: {kind: triangular, low: 0.01, mode: 0.05, "
                                               "high: 1.5}\n"},
        ["sweep", "app_zaanstad", "--prob", "10", "--dists", "{tmp}/d.yaml"],
        ["d.yaml", "baseline.work_exit_rate", "1.5", "within [0, 1]"]),
    Bad("dists-bare-number", {"d.yaml": "baseline.work_exit_rate: 0.05\n"},
        ["sweep", "app_zaanstad", "--prob", "10", "--dists", "{tmp}/d.yaml"],
        ["d.yaml", "baseline.work_exit_rate", "0.05", "kind"]),
    Bad("dists-nan", {"d.yaml": "baseline.work_exit_rate: {kind: normal, mean: .nan, sd: 0.01}\n"},
        ["sweep", "app_zaanstad", "--prob", "10", "--dists", "{tmp}/d.yaml"],
        ["d.yaml", "baseline.work_exit_rate.mean", "nan", "plain number"]),
    Bad("dists-base-outside", {"d.yaml": "benefit.cost_per_year: {kind: uniform, low: 15000, high: 16000}\n"},
        ["sweep", "app_zaanstad", "--prob", "10", "--dists", "{tmp}/d.yaml"],
        ["d.yaml", "benefit.cost_per_year", "excludes the base value", "widen"]),
    Bad("set-infinite", {}, ["run", "app_zaanstad", "--set", "horizon.months=1e400"],
        ["--set", "horizon.months", "inf", "finite"]),
    Bad("set-nan", {}, ["run", "app_zaanstad", "--set", "horizon.months=.nan"], ["--set", "horizon.months", "nan"]),
    Bad("set-horizon-too-long", {}, ["run", "app_zaanstad", "--set", "horizon.months=6000"],
        ["--set", "horizon.months", "6000", "between 12 and 600"]),
    Bad("set-no-participants", {}, ["run", "fip_sittard_geleen", "--set", "cohort.initial_participants=0"],
        ["--set", "cohort.initial_participants", "give the number"]),
    Bad("replay-out-of-range", {}, ["run", "app_zaanstad", "--replay", "1800"], ["--replay", "1800", "2002"]),
    Bad("two-way-one-grid", {}, ["sweep", "app_zaanstad", "--two-way", "baseline.work_exit_rate:0.02:0.1:5"],
        ["--two-way", "exactly two"]),
    Bad("two-way-not-numbers", {}, ["sweep", "app_zaanstad", "--two-way", "a:b:c:d", "--two-way", "x:1:2:3"],
        ["--two-way", "a:b:c:d", "numbers"]),
    Bad("two-way-inverted", {}, ["sweep", "app_zaanstad", "--two-way", "baseline.work_exit_rate:0.1:0.02:5",
                                 "--two-way", "cycle.multiplier:0.5:1.5:5"],
        ["--two-way", "baseline.work_exit_rate", "below its high end"]),
    Bad("sweep-nothing-to-do", {}, ["sweep", "app_zaanstad"], ["sweep", "nothing to do", "--one-way"]),
    Bad("export-unknown-variant", {}, ["export", "app_zaanstad", "--variant", "nope", "-o", "{tmp}"],
        ["variant", "nope", "variants:"]),
    Bad("run-missing-case-file", {}, ["run", "{tmp}/nope.yaml"], ["nope.yaml", "not found"]),
    Bad("sweep-out-is-file", {"f.txt": "x"}, ["sweep", "app_zaanstad", "--one-way", "--out", "{tmp}/f.txt"],
        ["f.txt", "--out", "not a folder"]),
    Bad("two-way-probability-above-1", {},
        ["sweep", "app_zaanstad", "--two-way", "baseline.work_exit_rate:0.02:1.5:5", "--two-way",
         "cycle.multiplier:0.5:1.5:5"], ["--two-way", "baseline.work_exit_rate", "1.5"]),
    Bad("two-way-unknown-parameter", {},
        ["sweep", "app_zaanstad", "--two-way", "baseline.work_rate:0.02:0.1:5", "--two-way",
         "cycle.multiplier:0.5:1.5:5"], ["--two-way", "baseline.work_rate", "baseline.work_exit_rate"]),
    Bad("export-bad-suffix", {}, ["export", "app_zaanstad", "-o", "{tmp}/out.txt"], ["out.txt", "--out", ".xlsx"]),
    Bad("export-out-is-file", {"f": "x"}, ["export", "app_zaanstad", "-o", "{tmp}/f"], ["--out", "not a folder"]),
    Bad("run-unknown-case", {}, ["run", "fip_sittard"], ["case", "fip_sittard", "fip_sittard_geleen"]),
    Bad("run-unknown-variant", {}, ["run", "fip_sittard_geleen", "--variant", "generic"],
        ["variant", "generic", "generic_14000"]),
    Bad("set-unknown-parameter", {}, ["run", "app_zaanstad", "--set", "benefit.cost=1"],
        ["--set", "benefit.cost", "benefit.cost_per_year"]),
    Bad("set-no-equals", {}, ["run", "app_zaanstad", "--set", "benefit.cost_per_year"],
        ["--set", "benefit.cost_per_year", "key=value"]),
    Bad("set-probability-out-of-range", {}, ["run", "app_zaanstad", "--set", "baseline.work_exit_rate=-0.2"],
        ["--set", "baseline.work_exit_rate", "-0.2", "between 0 and 1"]),
    # ---- one broken file in data/cases: the others are listed, the broken one named
    Bad("cases-with-broken-file", {}, ["cases"], ["fip_sittard_geleen", "broken.yaml", "not valid YAML"],
        data_cases={"broken.yaml": "name: broken\n  title: [\n"}),
    Bad("compare-case-inconsistent-on-common-footing", {}, ["compare"],
        ["fip_sittard_geleen", "long.yaml", "effect.ramp_months", "common footing", "lengthen the horizon"],
        data_cases={"long.yaml": case_text(name="long", overrides=ovr("horizon.months", "120", "months") + "\n"
                                           + ovr("effect.ramp_months", "70", "months"))}),
    Bad("compare-with-broken-file", {}, ["compare", "--format", "csv"],
        ["fip_sittard_geleen", "broken.yaml", "programme.setup_cost", "write 250000"],
        data_cases={"broken.yaml": case_text(name="broken", overrides=ovr("programme.setup_cost", "250.000", "EUR"))}),
]


def _materialise(bad: Bad, tmp_path, monkeypatch) -> list[str]:
    for name, content in bad.files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content.replace("{tmp}", str(tmp_path)), encoding="utf-8")
    if bad.data_cases:
        data = tmp_path / "data"
        (data / "cases").mkdir(parents=True)
        for p in (data_dir() / "cases").glob("*.yaml"):
            shutil.copy(p, data / "cases" / p.name)
        (data / "parameters").symlink_to(data_dir() / "parameters")
        (data / "raw").symlink_to(data_dir() / "raw")      # CBS tables, e.g. the CPI of mkba.prices
        for name, content in bad.data_cases.items():
            (data / "cases" / name).write_text(content, encoding="utf-8")
        monkeypatch.setenv("MKBA_DATA_DIR", str(data))
    return [a.replace("{tmp}", str(tmp_path)) for a in bad.cmd]


def test_catalogue_is_large_and_ids_unique():
    ids = [b.id for b in CATALOGUE]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 60


@pytest.mark.parametrize("bad", CATALOGUE, ids=[b.id for b in CATALOGUE])
def test_bad_input(bad: Bad, tmp_path, monkeypatch):
    args = _materialise(bad, tmp_path, monkeypatch)
    r = runner.invoke(app, args)
    out = r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), \
        f"traceback instead of a message: {r.exception!r}"
    assert "Traceback" not in out
    assert r.exit_code == bad.code, out
    assert "error:" in out and "Fix:" in out, out
    missing = [w for w in bad.words if w.lower() not in out.lower()]
    assert not missing, f"message lacks {missing}: {out}"

"""The live Excel model (mkba.excel_model): recalculated by LibreOffice, it must give what the kernel gives.

Every shipped case (data/cases, base scenario; the default variant and every named variant) and every
template is exported,
recalculated with ``soffice --headless --convert-to xlsx`` (its own user profile, so parallel
runs do not clash) and read back with openpyxl ``data_only=True``. The workbook's formulas are
compared with mkba's own metrics (to the euro, in fact to 1e-6) and month by month with the
kernel's ledger (people off benefit in both arms, benefit equivalents, exit events, municipal and
societal net and programme cost), so a broken mechanism fails here even where totals might agree.
Then a controller's change (an assumption edited in the workbook) must move the workbook exactly
as ``mkba run --set`` moves the model.
"""
from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from mkba import excel_model, export
from mkba import fastkernel as fk
from mkba.cases import case_names, load_case, parse_set_values
from mkba.errors import InputError
from mkba.local import templates_dir
from mkba.model import simulate_case

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed: "
                                   "apt-get install libreoffice-calc-nogui (.ci/run installs it)")

CASES = sorted(case_names())
TEMPLATES = sorted(p.stem for p in templates_dir().glob("*.yaml"))
VARIANTS = [(n, v) for n in CASES for v in load_case(n).variants]
ALL = ([("case", n) for n in CASES] + [("template", n) for n in TEMPLATES]
       + [("variant", f"{n}@{v}") for n, v in VARIANTS])

# the controller's edits: (workbook, input name, new value); each is checked against mkba with the same --set
EDITS = (
    ("fip_sittard_geleen", {"benefit.cost_per_year": 16500.0, "programme.staff_fte": 2.5, "effect.stock_share": 0.05}),
    ("app_zaanstad", {"effect.work_exit_added": 0.15, "baseline.return_rate": 0.25, "discount.rate": 0.0225}),
    ("subsidised_job", {"jobs.share": 0.6, "jobs.refill_share": 0.5, "jobs.employer_share": 0.3,
                        "cycle.multiplier": 0.7}),
    ("training_part_time", {"outcome.work_share": 0.3, "baseline.part_time_share": 0.4, "cycle.multiplier": 1.25}),
    ("placement_agency", {"outcome.work_count": 30.0, "sharing.programme_placements.rijk": 0.25,
                          "sharing.programme_placements.municipality": 0.75}),
    ("flextensie_zaanstad", {"secondment.tariff_per_hour": 14.0, "secondment.ramp_months": 3.0}),
)
MONEY_TOL_EUR = 1e-4          # far below "to the euro": the formulas are the kernel's mechanisms, not a fit
PEOPLE_TOL = 1e-8


def _load(kind: str, name: str, overrides=None):
    if kind == "variant":
        case, variant = name.split("@")
        return load_case(case, overrides, variant=variant)
    src = templates_dir() / f"{name}.yaml" if kind == "template" else name
    return load_case(src, overrides)


def _recalculate(paths: list[Path], out: Path, profile: Path, processes: int = 2) -> None:
    """Recalculate (convert) ``paths`` into ``out`` with LibreOffice headless: ``processes`` soffice instances
    side by side, each with its own user profile (instances sharing a profile would clash)."""
    out.mkdir(parents=True, exist_ok=True)
    procs = []
    for k in range(processes):
        part = paths[k::processes]
        if not part:
            continue
        cmd = [SOFFICE, f"-env:UserInstallation={(profile.parent / f'{profile.name}-{k}').resolve().as_uri()}",
               "--headless", "--norestore", "--convert-to", "xlsx", "--outdir", str(out), *map(str, part)]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    logs = [p.communicate(timeout=600) for p in procs]
    missing = [p.name for p in paths if not (out / p.name).exists()]
    assert not missing, f"LibreOffice did not convert {missing}: {logs}"


def _set_inputs(path: Path, values: dict[str, float]) -> None:
    """Change input cells the way a controller would (by the defined name of the cell)."""
    wb = openpyxl.load_workbook(path)
    for name, value in values.items():
        dn = wb.defined_names[name]
        (sheet, ref), = list(dn.destinations)
        wb[sheet][ref.replace("$", "")].value = value
    wb.save(path)


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    base = tmp_path_factory.mktemp("excel_model")
    written = {}
    for kind, name in ALL:
        written[name] = export.export_xlsx(_load(kind, name), base / "in" / f"{name.replace('@', '--')}.xlsx")
    for name, values in EDITS:
        p = base / "in" / f"{name}__edited.xlsx"
        shutil.copyfile(written[name], p)
        _set_inputs(p, values)
        written[f"{name}__edited"] = p
    _recalculate(list(written.values()), base / "out", base / "lo-profile")
    return {name: openpyxl.load_workbook(base / "out" / p.name, data_only=True) for name, p in written.items()}


def results(wb) -> dict[str, object]:
    ws = wb["Resultaat"]
    return {row[3]: row[1] for row in ws.iter_rows(min_row=3, values_only=True) if row[3]}


def month_column(wb, code: str, sheet: str = "Maand") -> np.ndarray:
    ws = wb[sheet]
    codes = [c.value for c in ws[excel_model.FIRST_ROW - 1]]
    j = codes.index(code)
    return np.array([r[j] for r in ws.iter_rows(min_row=excel_model.FIRST_ROW, values_only=True)], dtype=float)


def assert_results_equal(got: dict, metrics: dict, label: str) -> None:
    assert set(got) == set(excel_model.RESULT_CODES)
    for code, value in got.items():
        want = metrics[code]
        if code == "cost_per_extra_person_off_benefit_eur" and abs(metrics["extra_ended_benefits"]) < 1e-9:
            # no extra people: undefined (the workbook leaves it empty; the kernel divides by rounding noise)
            assert value in (None, "") or abs(float(value)) > 1e12, (label, code, value)
            continue
        if math.isnan(want):
            assert value in (None, ""), (label, code, value, "mkba: not defined")
            continue
        assert isinstance(value, (int, float)), (label, code, value)
        if code.endswith("_eur"):
            assert round(value) == round(want) or abs(value - want) < 0.01, (label, code, value, want)
            assert value == pytest.approx(want, abs=MONEY_TOL_EUR, rel=1e-9), (label, code)
        else:
            assert value == pytest.approx(want, abs=PEOPLE_TOL, rel=1e-9), (label, code, value, want)


@needs_soffice
@pytest.mark.parametrize("kind,name", ALL, ids=[n for _, n in ALL])
def test_recalculated_workbook_equals_mkba_run(recalculated, kind, name):
    """The headline figures of both perspectives, people, NCW (Excel NPV), BCR and break-even."""
    metrics, *_ = simulate_case(_load(kind, name))
    got = results(recalculated[name])
    assert_results_equal(got, metrics, name)
    # the value written next to the formula at export is mkba's own
    ws = recalculated[name]["Resultaat"]
    for row in ws.iter_rows(min_row=3, values_only=True):
        if row[3] == "municipal_npv_eur":
            assert row[2] == pytest.approx(metrics["municipal_npv_eur"], rel=1e-12)


@needs_soffice
@pytest.mark.parametrize("kind,name", ALL, ids=[n for _, n in ALL])
def test_recalculated_workbook_equals_the_kernel_month_by_month(recalculated, kind, name):
    """People off benefit, benefit equivalents, exit events, municipal and societal net and cost, per month."""
    _, _F, PPL, LR, _P = simulate_case(_load(kind, name))
    wb = recalculated[name]
    people = {"off_t": fk.R_OFF_T, "off_c": fk.R_OFF_C, "beq_t": fk.R_BEQ_T, "beq_c": fk.R_BEQ_C,
              "ev_cum": fk.R_EV_T, "cev_cum": fk.R_EV_C, "ret_cum": fk.R_RET_T, "take": fk.R_TAKE, "cin": fk.R_CIN}
    money = {"muni_net": fk.R_MN, "muni_cost": fk.R_MC, "soc_net": fk.R_SN, "soc_cost": fk.R_SC,
             "sec_result": fk.R_SEC}
    for code, r in people.items():
        np.testing.assert_allclose(month_column(wb, code), LR[r], atol=PEOPLE_TOL, rtol=1e-9, err_msg=f"{name} {code}")
    for code, r in money.items():
        np.testing.assert_allclose(month_column(wb, code), LR[r], atol=MONEY_TOL_EUR, rtol=1e-9, err_msg=f"{name} {code}")
    for code, p in (("B", fk.P_B), ("P", fk.P_P), ("W", fk.P_W), ("O", fk.P_O), ("J", fk.P_J)):
        np.testing.assert_allclose(month_column(wb, code), PPL[p, 0], atol=PEOPLE_TOL, rtol=1e-9,
                                   err_msg=f"{name} treatment {code}")
    for code, p in (("cB", fk.P_B), ("cP", fk.P_P), ("cW", fk.P_W), ("cO", fk.P_O)):
        np.testing.assert_allclose(month_column(wb, code), PPL[p, 1], atol=PEOPLE_TOL, rtol=1e-9,
                                   err_msg=f"{name} control {code}")
    # per year, municipal and societal net
    year = np.arange(LR.shape[1]) // 12
    for code, r in (("muni_net", fk.R_MN), ("soc_net", fk.R_SN)):
        want = np.bincount(year, weights=LR[r])
        np.testing.assert_allclose(month_column(wb, code, "Jaar"), want, atol=MONEY_TOL_EUR, rtol=1e-9,
                                   err_msg=f"{name} per year {code}")


@needs_soffice
@pytest.mark.parametrize("kind,name", ALL, ids=[n for _, n in ALL])
def test_no_cell_of_the_recalculated_model_is_an_error(recalculated, kind, name):
    """Not only the compared columns: no #DIV/0!, #NAME?, #VALUE! or Err:5xx anywhere in the formula sheets."""
    wb = recalculated[name]
    for sheet in export.SHEETS[1:9]:
        bad = [(c.coordinate, c.value) for row in wb[sheet].iter_rows() for c in row
               if isinstance(c.value, str) and (c.value.startswith("#") or c.value.startswith("Err:"))]
        assert not bad, (name, sheet, bad[:5])


@needs_soffice
@pytest.mark.parametrize("name,values", EDITS, ids=[n for n, _ in EDITS])
def test_a_controllers_change_recalculates_like_mkba_set(recalculated, name, values):
    """Edit assumptions in the workbook: after recalculation it equals mkba with the same --set values."""
    kind = "template" if name in TEMPLATES else "case"
    before = results(recalculated[name])
    metrics, *_ = simulate_case(_load(kind, name, parse_set_values([f"{k}={v!r}" for k, v in values.items()])))
    got = results(recalculated[f"{name}__edited"])
    assert_results_equal(got, metrics, f"{name} edited")
    assert got["municipal_npv_eur"] != pytest.approx(before["municipal_npv_eur"], abs=1.0)


def test_the_workbook_is_formulas_with_named_inputs(tmp_path):
    case = load_case("fip_sittard_geleen")
    path = export.export_xlsx(case, tmp_path / "fip.xlsx")
    assert (path.stat().st_mode & 0o777) == 0o644 or (path.stat().st_mode & 0o022) == 0   # the umask's mode
    wb = openpyxl.load_workbook(path)
    assert tuple(wb.sheetnames) == export.SHEETS
    formulas = sum(1 for name in ("Resultaat", "Maand", "Profiel", "Jaar") for row in wb[name].iter_rows()
                   for c in row if isinstance(c.value, str) and c.value.startswith("="))
    assert formulas > 60 * 80
    res = {r[3].value: r[1].value for r in wb["Resultaat"].iter_rows(min_row=3) if r[3].value}
    assert res["municipal_npv_eur"].startswith('=IF(disconteringswijze="excel",NPV(discount.rate,')
    assert set(res) == set(excel_model.RESULT_CODES)
    # inputs: value in the price year, Dutch label and unit, source; one defined name each
    inv = {r[4].value: r for r in wb["Invoer"].iter_rows(min_row=3) if r[4].value}
    assert inv["benefit.cost_per_year"][1].value == case.value("benefit.cost_per_year")
    assert inv["benefit.cost_per_year"][0].value == "Uitkeringslasten per uitkering"
    assert inv["benefit.cost_per_year"][2].value == "euro per persoon per jaar"
    assert "003_1cff8ea758d15861.txt:1908" in inv["benefit.cost_per_year"][3].value
    assert inv["effect.decay_half_life_months"][1].value == excel_model.INFINITE_TEXT
    for key in excel_model.INPUTS:
        assert key in wb.defined_names
    # Dutch headers, fit to one page wide
    assert wb["Maand"].cell(row=2, column=1).value == "Maand"
    assert wb["Maand"].page_setup.fitToWidth == 1 and wb["Maand"].sheet_properties.pageSetUpPr.fitToPage


def test_price_converted_amounts_are_in_the_workbook_with_their_conversion(tmp_path):
    case = load_case("app_zaanstad")
    assert case.price_conversions, "APP converts its amounts to its price year"
    key, conv = next(iter(case.price_conversions.items()))
    wb = openpyxl.load_workbook(export.export_xlsx(case, tmp_path / "app.xlsx"))
    inv = {r[4].value: r for r in wb["Invoer"].iter_rows(min_row=3) if r[4].value}
    assert inv[key][1].value == pytest.approx(conv.value_after, rel=1e-12)
    assert f"omgerekend van prijzen {conv.from_year} naar {conv.to_year}" in inv[key][3].value


def test_a_mechanism_the_workbook_cannot_express_is_an_error_naming_case_and_key(tmp_path):
    src = Path(load_case("fip_sittard_geleen").source_file)
    p = tmp_path / "fip_groups.yaml"
    text = src.read_text(encoding="utf-8").replace("name: fip_sittard_geleen", "name: fip_groups")
    p.write_text(text + "\ngroups:\n  site_a: {share: 0.5}\n  site_b: {share: 0.5}\n", encoding="utf-8")
    case = load_case(p)
    with pytest.raises(InputError) as err:
        export.export_xlsx(case, tmp_path / "x.xlsx")
    msg = str(err.value)
    assert "fip_groups" in msg and "groups" in msg and "Fix:" in msg
    assert not (tmp_path / "x.xlsx").exists()

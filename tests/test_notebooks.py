"""Every report notebook executes with small parameters and has no stored outputs."""
import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SMALL = {
    "business_case.ipynb": {"case": "app_zaanstad", "n_draws": 300},
    "compare_cases.ipynb": {},
    "sensitivity.ipynb": {"case": "fip_sittard_geleen", "grid_points": 4, "sobol_n": 64},
    "local_case.ipynb": {"participants": 40},
    "municipality.ipynb": {"n_draws": 200},
}


def all_notebooks():
    return sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("name", all_notebooks())
def test_stored_without_outputs_and_with_parameters_cell(name):
    nb = json.loads((NOTEBOOKS / name).read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert any("parameters" in c["metadata"].get("tags", []) for c in code)


@pytest.mark.slow
@pytest.mark.parametrize("name", all_notebooks())
def test_notebook_executes(name, tmp_path, monkeypatch):
    import papermill as pm

    monkeypatch.setenv("MKBA_RENDERING", "1")
    params = {k: v for k, v in SMALL.get(name, {}).items()}
    out = tmp_path / name
    pm.execute_notebook(str(NOTEBOOKS / name), str(out), parameters=params, kernel_name="python3", progress_bar=False,
                        cwd=str(NOTEBOOKS.parent))
    nb = json.loads(out.read_text())
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


# -- the interactive local case (issue 12, point 6) ----------------------------------------------

def test_slider_ranges_are_in_the_units_people_think_in():
    from mkba.cases import load_case
    from mkba.views import slider_spec

    app = load_case("app_zaanstad", variant="entry_at_month0")      # 80 at month 0, effect range 10-30 pp
    people = slider_spec(app, "cohort.initial_participants", 80)
    assert people["integer"] and people["step"] == 1 and people["min"] >= 1 and people["value"] == 80
    effect = slider_spec(app, "effect.work_exit_added", 0.10)
    lo, hi, _why = app.ranges()["effect.work_exit_added"]
    # percentage points, within the documented range of the case (10-30 pp), not the schema's -100..+100
    assert effect["scale"] == 100 and (effect["min"], effect["max"]) == pytest.approx((lo * 100, hi * 100))
    assert effect["value"] == pytest.approx(10.0) and effect["min"] >= 0
    money = slider_spec(app, "benefit.cost_per_year", 14000)
    assert money["integer"] and money["step"] == 100 and money["min"] <= 14000 <= money["max"]


def test_local_view_recomputes_every_output_from_one_case():
    from mkba.views import LocalCaseView, perspective_figures, results
    from mkba.formatting import eur

    view = LocalCaseView("app_zaanstad", {"cohort.initial_participants": 80}, "nl")
    a = view.outputs({"cohort.initial_participants": 80})
    b = view.outputs({"cohort.initial_participants": 120})
    head_a, head_b = a[1].data, b[1].data
    assert head_a != head_b
    c = view.case_for({"cohort.initial_participants": 120})
    npv = perspective_figures(c, results(c))["municipality"]["npv_eur"]
    assert eur(npv).replace(" ", "\u00a0") in head_b          # the headline shows the recomputed figure
    assert a[2].equals(a[2]) and not a[2].equals(b[2])           # the key-figure table follows
    import numpy as np
    ya, yb = a[3].axes[0].lines[0].get_ydata(), b[3].axes[0].lines[0].get_ydata()
    assert not np.allclose(ya, yb)                               # and so does the chart
    assert any("120" in str(v) for v in b[5].iloc[:, 0]) or "120" in b[5].to_string()   # and the assumptions

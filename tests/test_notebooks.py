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

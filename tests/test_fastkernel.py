"""The one engine (mkba.fastkernel): record mode (run) equals metrics mode (evaluate_batch); chunks,
threads and block boundaries do not change a figure; cycle paths per scenario."""
import numpy as np
import pytest

from mkba.cases import list_cases, load_case
from mkba.model import evaluate_batch, summarise


def assert_same(a, b, msg=""):
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-12, atol=1e-9, equal_nan=True, err_msg=f"{msg} {k}")


@pytest.mark.parametrize("name", [n for n, _ in list_cases()])
def test_run_equals_batch_of_one(name):
    case = load_case(name)
    single = summarise(case)["metrics"]
    batch = evaluate_batch(case)
    for k, v in single.items():
        assert batch[k][0] == pytest.approx(v, rel=1e-12, abs=1e-9, nan_ok=True), k


def test_parallel_blocks_chunks_and_threads_agree():
    case = load_case("app_zaanstad")
    n = 1000                      # many blocks of 64 scenarios over the cores
    rng = np.random.default_rng(1)
    x = {"effect.work_exit_added": rng.uniform(0, 0.3, n), "baseline.return_rate": rng.uniform(0, 0.3, n),
         "effect.lock_in_months": rng.integers(0, 6, n).astype(float)}
    ref = evaluate_batch(case, x, threads=1)
    assert_same(ref, evaluate_batch(case, x), "parallel")
    assert_same(ref, evaluate_batch(case, x, chunk_size=97), "chunked")
    for i in (0, 63, 64, 999):
        one = evaluate_batch(case, {k: v[i] for k, v in x.items()})
        for k in ref:
            assert one[k][0] == pytest.approx(ref[k][i], rel=1e-12, abs=1e-9, nan_ok=True), (i, k)


def test_cycle_path_per_scenario_equals_single_paths():
    case = load_case("buurt_mv_dordrecht")
    T = case.months
    paths = np.stack([np.full(T, 0.7), np.linspace(0.8, 1.2, T), np.full(T, 1.0)], axis=1)
    batch = evaluate_batch(case, {"cycle.multiplier": np.ones(3)}, cycle_path=paths)
    for i in range(3):
        one = evaluate_batch(case, cycle_path=paths[:, i])
        for k in batch:
            assert one[k][0] == pytest.approx(batch[k][i], rel=1e-12, abs=1e-9, nan_ok=True), (i, k)


def test_no_second_copy_of_the_model_in_src():
    """Every mechanism is written once: no numpy re-statement of the kernel in the package."""
    import pathlib

    import mkba

    src = pathlib.Path(mkba.__file__).parent
    for mod in ("cohort.py", "cashflows.py", "metrics.py", "model.py"):
        text = (src / mod).read_text(encoding="utf-8")
        assert "def simulate(" not in text and "def flows(" not in text and "def compute(" not in text, mod


@pytest.mark.parametrize("name", [n for n, _ in list_cases()])
def test_ledger_rows_are_the_booked_flows(name):
    """The money rows the metrics read are every booked flow with its coefficient (fastkernel.COEF),
    treatment minus control, month by month: municipal net and programme cost, societal net and
    programme cost, and the secondment result (less the benefit of the seconded). The kernel adds, per
    people series, the summed coefficients of the flows booked on it; this adds the recorded flows up
    again one by one, in the catalogue's order (the same figures up to rounding)."""
    from mkba import fastkernel as fk
    from mkba.model import simulate_case

    case = load_case(name)
    _, F, PPL, LR, P = simulate_case(case)
    diff = F[:, 0, :] - F[:, 1, :]                      # (flow, month), treatment minus control
    scale = max(1.0, float(np.abs(F).max()))
    for row, c in ((fk.R_MN, 0), (fk.R_MC, 1), (fk.R_SN, 2), (fk.R_SC, 3)):
        np.testing.assert_allclose(LR[row], fk.COEF[c] @ diff, rtol=1e-12, atol=1e-12 * scale, err_msg=fk.LEDGER_ROWS[row])
    b_month = P["benefit.cost_per_year"][0] * P["benefit.household_factor"][0] / 12
    np.testing.assert_allclose(LR[fk.R_SEC], fk.COEF[4] @ diff - PPL[fk.P_SEC, 0] * b_month, rtol=1e-12,
                               atol=1e-12 * scale, err_msg="secondment_surplus")
    assert np.any(LR[fk.R_MN] != 0.0)               # not trivially true

"""The compiled batch engine (mkba.fastkernel) equals the numpy engine, case by case and draw by draw."""
import dataclasses
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("numba")

from mkba import fastkernel as fk  # noqa: E402
from mkba import metrics as mx  # noqa: E402
from mkba import model  # noqa: E402
from mkba.cases import cases_dir, list_cases, load_case  # noqa: E402
from mkba.cohort import simulate  # noqa: E402
from mkba.errors import InputError  # noqa: E402
from mkba.model import evaluate_batch, parameter_arrays  # noqa: E402
from mkba.schema import SCHEMA  # noqa: E402

RTOL, ATOL = 1e-9, 1e-6
LEDGER_FIELDS = ("muni_net", "muni_cost", "soc_net", "soc_cost", "secondment_surplus", "cum_ended", "cum_returns",
                 "cum_inflow", "beq", "b_month", "retention")
CASES = [(name, None) for name, _ in list_cases()]
CASES += [(name, v) for name, _ in list_cases() for v in load_case(name).variants]


def assert_metrics_equal(expected: dict, got: dict, what: str = "") -> None:
    assert set(got) == set(expected)
    for k in expected:
        np.testing.assert_allclose(got[k], expected[k], rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=f"{what} {k}")


def numpy_ledger(P, months, path=None) -> mx.Ledger:
    builder = model._LedgerBuilder(P, months)
    simulate(P, months, path, on_month=builder, record=False)
    return builder.ledger()


def assert_ledgers_equal(expected: mx.Ledger, got: mx.Ledger) -> None:
    for f in LEDGER_FIELDS:
        a, b = getattr(expected, f), getattr(got, f)
        assert a.shape == b.shape, f
        np.testing.assert_allclose(b, a, rtol=RTOL, atol=ATOL, err_msg=f)


def with_horizon(case, months):
    return case.with_overrides({"horizon.months": {"value": months, "unit": "months", "date": 2019, "reference": "test"}})


# ------------------------------------------------------------------ random parameter draws
SWITCHES = {  # mechanisms that are off (exactly 0) in part of the draws: conditional flows and branches
    "effects.care_saving_per_worker_year", "effects.wellbeing_per_worker_year", "effects.execution_saving_per_ended_year",
    "programme.staff_fte", "programme.clients_per_fte", "programme.cost_per_participant",
    "programme.cost_per_participant_month", "programme.setup_cost", "programme.other_cost_per_month",
    "secondment.share", "jobs.share", "effect.stock_share", "effect.other_exit_added", "baseline.part_time_share",
    "cohort.inflow_per_month", "cohort.initial_participants", "effect.lock_in_months", "effect.ramp_months",
}


def draw(rng, n: int, T: int, *, one_rate: bool) -> dict[str, np.ndarray]:
    """Parameter sets across the schema's valid ranges (amounts capped to sensible magnitudes)."""
    out = {}
    for name, spec in SCHEMA.items():
        if name == "horizon.months":
            continue
        if name == "effect.decay_half_life_months":
            v = np.where(rng.random(n) < 0.5, np.inf, rng.uniform(0.5, 60.0, n))
        elif name == "discount.rate":
            v = np.full(n, rng.uniform(spec.minimum, spec.maximum)) if one_rate else rng.uniform(spec.minimum, spec.maximum, n)
        elif spec.kind == "months":
            lo = int(np.ceil(spec.minimum))
            v = rng.integers(lo, max(lo + 1, T + 6), n).astype(float)
        elif spec.kind in ("probability", "share"):
            v = rng.uniform(0.0, 1.0, n)
        elif spec.kind in ("ratio", "rate"):
            v = rng.uniform(spec.minimum, min(spec.maximum, 3.0), n)
        elif spec.unit in ("EUR/person-year", "EUR/FTE-year", "EUR/job-year"):
            v = rng.uniform(1000.0, 80000.0, n)
        elif spec.kind == "eur":
            v = rng.uniform(0.0, min(spec.maximum, 20000.0), n)
        elif spec.kind == "persons":
            v = rng.uniform(0.0, min(spec.maximum, 500.0), n)
        elif spec.kind == "fte":
            v = rng.uniform(0.0, 5.0, n)
        elif spec.kind == "hours":
            v = rng.uniform(0.0, spec.maximum, n)
        else:  # pragma: no cover - a new kind needs a generator here
            raise AssertionError(f"no generator for {name} ({spec.kind})")
        if name in SWITCHES:
            v = np.where(rng.random(n) < 0.35, 0.0, v)
        out[name] = v
    out["evaluation.month"] = np.minimum(out["evaluation.month"], T)
    return out


@pytest.mark.parametrize("seed,T,path_kind,perspective,convention", [
    (1, 120, None, "municipality", "excel"),
    (2, 60, "shared", "society", "excel"),
    (3, 36, "per_scenario", "municipality", "monthly"),
    (4, 24, None, "society", "start"),
    (5, 12, "per_scenario", "society", "excel"),
    (6, 90, "shared", "municipality", "start"),
])
def test_random_draws_equal_numpy_engine(seed, T, path_kind, perspective, convention):
    rng = np.random.default_rng(seed)
    n = 300
    case = dataclasses.replace(with_horizon(load_case("app_zaanstad"), T), perspective=perspective,
                               discount_convention=convention)
    x = draw(rng, n, T, one_rate=seed % 2 == 0)
    path = {None: None, "shared": rng.uniform(0.4, 1.6, T), "per_scenario": rng.uniform(0.4, 1.6, (T, n))}[path_kind]
    expected = evaluate_batch(case, x, cycle_path=path, engine="numpy")
    got = evaluate_batch(case, x, cycle_path=path, engine="numba")
    assert_metrics_equal(expected, got, f"seed {seed}")
    # the ledger itself, and metrics.compute on the kernel's ledger
    P, _ = parameter_arrays(case, x)
    ledger = fk.ledger(P, T, path)
    assert_ledgers_equal(numpy_ledger(P, T, path), ledger)
    assert_metrics_equal(expected, mx.compute(ledger, P, perspective=perspective, convention=convention))


def test_scenarios_sharing_their_exit_chances():
    """Consecutive scenarios with the same hazard inputs reuse the kernel's monthly exit shares."""
    rng = np.random.default_rng(11)
    T, n = 60, 300
    case = with_horizon(load_case("fip_sittard_geleen"), T)
    x = draw(rng, n // 3, T, one_rate=True)
    x = {k: np.repeat(v, 3) for k, v in x.items()}          # runs of three equal parameter sets ...
    for k in ("programme.cost_per_fte_year", "benefit.cost_per_year", "work.production_ratio"):
        x[k] = draw(rng, n, T, one_rate=True)[k]              # ... that differ in money only
    for path in (None, rng.uniform(0.5, 1.5, T)):
        assert_metrics_equal(evaluate_batch(case, x, cycle_path=path, engine="numpy"),
                             evaluate_batch(case, x, cycle_path=path, engine="numba"))


def test_random_draws_cover_every_mechanism():
    """The draws above switch every conditional flow and branch on in some scenarios and off in others."""
    x = draw(np.random.default_rng(1), 300, 120, one_rate=False)
    for name in SWITCHES:
        assert (x[name] > 0).any() and (x[name] == 0).any(), name
    assert (x["benefit.retention_share"] < 1).all()
    assert np.isinf(x["effect.decay_half_life_months"]).any() and np.isfinite(x["effect.decay_half_life_months"]).any()
    assert ((x["jobs.start_month"] < x["jobs.end_month"]) & (x["jobs.end_month"] < 120) & (x["jobs.share"] > 0)).any()


@pytest.mark.parametrize("name,variant", CASES, ids=[f"{n}-{v}" if v else n for n, v in CASES])
def test_cases_and_variants_equal_numpy_engine(name, variant):
    if not (cases_dir() / f"{name}.yaml").exists():
        pytest.skip(f"case {name} was removed after collection")
    case = load_case(name, variant=variant)
    P, _ = parameter_arrays(case)
    assert_ledgers_equal(numpy_ledger(P, case.months), fk.ledger(P, case.months))
    assert_metrics_equal(evaluate_batch(case, engine="numpy"), evaluate_batch(case, engine="numba"))
    # a sweep over the case's own sensitivity ranges, large enough for engine="auto" to pick numba
    n = 300
    rng = np.random.default_rng(0)
    x = {k: rng.uniform(lo, hi, n) if not SCHEMA[k].integer else rng.integers(int(lo), int(hi) + 1, n).astype(float)
         for k, (lo, hi, _) in case.ranges().items() if k != "horizon.months"}
    x["effect.work_exit_added"] = np.linspace(-0.05, 0.3, n)
    assert_metrics_equal(evaluate_batch(case, x, engine="numpy"), evaluate_batch(case, x), f"{name} sweep")


def test_ten_year_sweep_of_the_issue():
    case = with_horizon(load_case("app_zaanstad"), 120)
    x = {"effect.work_exit_added": np.linspace(0, 0.3, 2000)}
    assert_metrics_equal(evaluate_batch(case, x, engine="numpy"), evaluate_batch(case, x, engine="numba"))


def test_chunks_and_threads_do_not_change_results(monkeypatch):
    T, n = 48, 700
    rng = np.random.default_rng(7)
    case = with_horizon(load_case("flextensie_zaanstad"), T)
    rate = np.full(n, 0.03)
    rate[400:] = rng.uniform(0.0, 0.1, n - 400)  # one rate in the first chunk, many in the others
    x = {"discount.rate": rate, "secondment.hours_per_month": rng.uniform(80, 160, n),
         "baseline.part_time_share": rng.uniform(0, 0.5, n)}
    path = rng.uniform(0.5, 1.5, (T, n))
    expected = evaluate_batch(case, x, cycle_path=path, engine="numpy")
    monkeypatch.setattr(fk, "FAST_CHUNK", 128)
    assert_metrics_equal(expected, evaluate_batch(case, x, cycle_path=path, engine="numba", chunk_size=1))
    assert_metrics_equal(expected, evaluate_batch(case, x, cycle_path=path, engine="numba", threads=1))


def test_auto_engine_dispatches_large_batches_only(monkeypatch):
    case = load_case("app_zaanstad")
    calls = []
    real = fk.evaluate_batch
    monkeypatch.setattr(fk, "evaluate_batch", lambda *a, **k: calls.append(1) or real(*a, **k))
    evaluate_batch(case, {"effect.work_exit_added": np.linspace(0, 0.3, model.FAST_ENGINE_MIN_BATCH - 1)})
    assert not calls
    evaluate_batch(case, {"effect.work_exit_added": np.linspace(0, 0.3, model.FAST_ENGINE_MIN_BATCH)})
    assert calls
    evaluate_batch(case, {"effect.work_exit_added": np.linspace(0, 0.3, 1000)}, engine="numpy")
    assert len(calls) == 1


@pytest.mark.parametrize("overrides,kwargs,match", [
    ({"baseline.work_exit_rat": np.zeros(300)}, {}, "did you mean 'baseline.work_exit_rate'"),
    ({"baseline.work_exit_rate": np.r_[np.full(299, 0.1), 30.0]}, {}, "0.3 for 30 %"),
    ({"baseline.work_exit_rate": np.full(300, 0.1), "discount.rate": np.zeros(299)}, {}, "different lengths"),
    ({"horizon.months": np.r_[np.full(299, 60.0), 48.0]}, {}, "cannot vary"),
    ({"baseline.work_exit_rate": np.full(300, 0.1)}, {"cycle_path": np.ones(7)}, "cycle path has 7 months"),
    ({}, {"engine": "numbaa"}, "unknown engine"),
])
def test_invalid_input_gives_the_same_errors(overrides, kwargs, match):
    case = load_case("app_zaanstad")
    engines = ("numpy", "numba") if "engine" not in kwargs else (None,)
    for engine in engines:
        kw = dict(kwargs) if engine is None else {**kwargs, "engine": engine}
        with pytest.raises(InputError, match=match):
            evaluate_batch(case, overrides, **kw)


def test_parameter_matrix_rows_follow_the_schema():
    P, n = parameter_arrays(load_case("buurt_mv_dordrecht"), {"discount.rate": np.array([0.01, 0.02])})
    Pm = fk.param_matrix(P)
    assert Pm.shape == (len(SCHEMA), n) and Pm.flags.c_contiguous
    for i, name in enumerate(SCHEMA):
        np.testing.assert_array_equal(Pm[i], P[name])
    assert set(fk.KERNEL_METRICS) == set(mx.METRIC_NAMES)


def test_importing_mkba_does_not_load_numba():
    code = "import sys, mkba, mkba.model, mkba.cli; print('numba' in sys.modules, 'mkba.fastkernel' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_a_fresh_process_loads_the_kernel_only_for_large_batches():
    import subprocess
    import sys

    code = ("import sys, numpy as np; from mkba.cases import load_case; from mkba.model import evaluate_batch;"
            "c = load_case('app_zaanstad');"
            "evaluate_batch(c, {'effect.work_exit_added': np.linspace(0, 0.3, 2000)});"
            "print('mkba.fastkernel' in sys.modules, end=' ');"
            "evaluate_batch(c, {'effect.work_exit_added': np.linspace(0, 0.3, 20000)});"
            "print('mkba.fastkernel' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]

"""Chunked sweeps: chunking never changes results; dask (LocalCluster) equals the in-process run."""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pytest

from mkba import sensitivity as S
from mkba.distributions import Dist
from mkba.errors import InputError
from mkba.scaleout import (ArraySamples, Concat, ConstantFactory, DaskExecutor, DrawSamples, ProductSamples,
                           Summary, chunk_bounds, run_chunked, run_on_dask)


@dataclass
class FakeCase:
    """Stands in for a loaded case: the model closes over it and must pickle for dask."""

    name: str
    values: dict
    months: int = 120


def evaluate_batch(case: FakeCase, values: dict, cycle_path=None) -> dict:
    """Same shape of work as the real kernel: monthly state updates over the horizon."""
    v = {**{k: np.full(len(next(iter(values.values()))), x) for k, x in case.values.items()}, **values}
    h, dh, cost = v["baseline.work_exit_rate"], v["effect.work_exit_added"], v["programme.cost_per_participant"]
    n = h.shape[0]
    s_c, s_t, npv = np.ones(n), np.ones(n), -cost
    be = np.full(n, np.nan)
    cyc = np.ones(case.months) if cycle_path is None else cycle_path
    for t in range(case.months):
        s_c = s_c * (1 - h * cyc[t])
        s_t = s_t * (1 - (h + dh) * cyc[t])
        npv = npv + (s_c - s_t) * 1000.0
        be[np.isnan(be) & (npv >= 0)] = t
    return {"npv_eur": npv, "break_even_month": be}


CASE = FakeCase("toy", {"baseline.work_exit_rate": 0.01, "effect.work_exit_added": 0.004,
                        "programme.cost_per_participant": 3000.0})
MODEL = functools.partial(evaluate_batch, CASE)
DISTS = {"effect.work_exit_added": Dist("triangular", low=0.0, mode=0.004, high=0.01),
         "programme.cost_per_participant": Dist("lognormal", mean=3000.0, sd=500.0)}


def make_model(case_name: str):
    """A model factory as a worker would use it (here: builds the toy case by name)."""
    return functools.partial(evaluate_batch, FakeCase(case_name, dict(CASE.values)))


# ------------------------------------------------------------------------------ in-process
def test_chunk_bounds():
    assert chunk_bounds(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert chunk_bounds(0, 4) == []
    with pytest.raises(InputError, match="chunk_size"):
        chunk_bounds(10, 0)


@pytest.mark.parametrize("chunk", [1, 7, 256, 5000])
def test_run_chunked_equals_one_batch(chunk):
    s = DrawSamples(DISTS, 300, seed=9, fixed=CASE.values)
    one = MODEL(s.chunk(0, 300))
    got = run_chunked(MODEL, s, chunk)
    for k in one:
        np.testing.assert_array_equal(got[k], one[k])


def test_array_samples_and_fixed_base_values():
    calls = []

    def model(v):
        calls.append({k: a.shape for k, a in v.items()})
        return {"y": v["a"] + v["b"]}

    out = run_chunked(model, {"a": np.arange(5.0)}, chunk_size=2, fixed={"b": 10.0})
    np.testing.assert_array_equal(out["y"], np.arange(5.0) + 10)
    assert calls == [{"b": (2,), "a": (2,)}, {"b": (2,), "a": (2,)}, {"b": (1,), "a": (1,)}]
    with pytest.raises(InputError, match="same length"):
        ArraySamples({"a": np.zeros(3), "b": np.zeros(4)})


def test_product_samples_rows_and_wrapping_chunks():
    inner = DrawSamples({"x": Dist("uniform", low=0, high=1)}, 7, seed=1, fixed={"k": 0.0})
    prod = ProductSamples({"k": np.array([10.0, 20.0, 30.0])}, inner)
    full_inner = inner.chunk(0, 7)["x"]
    expect_x, expect_k = np.tile(full_inner, 3), np.repeat([10.0, 20.0, 30.0], 7)
    for chunk in (1, 3, 5, 7, 9, 21, 50):
        parts = [prod.chunk(a, b) for a, b in chunk_bounds(prod.n, chunk)]
        np.testing.assert_array_equal(np.concatenate([p["x"] for p in parts]), expect_x)
        np.testing.assert_array_equal(np.concatenate([p["k"] for p in parts]), expect_k)


def test_summary_reducer_matches_numpy_and_is_chunk_invariant():
    s = DrawSamples(DISTS, 20_000, seed=4, fixed=CASE.values)
    full = run_chunked(MODEL, s, 20_000)["npv_eur"]
    edges = np.linspace(full.min(), full.max(), 2001)
    r1 = run_chunked(MODEL, s, 3000, Summary("npv_eur", edges))
    r2 = run_chunked(MODEL, s, 20_000, Summary("npv_eur", edges))
    assert r1["n"] == 20_000 and r1["p_above"] == np.mean(full > 0)
    assert r1["mean"] == pytest.approx(full.mean(), rel=1e-9)
    assert r1["sd"] == pytest.approx(full.std(ddof=1), rel=1e-6)
    np.testing.assert_array_equal(r1["hist"], r2["hist"])
    width = edges[1] - edges[0]
    for q in (5, 50, 95):
        assert abs(Summary.percentile(r1, q) - np.percentile(full, q)) <= 2 * width


def test_model_contract_violations_are_reported():
    with pytest.raises(ValueError, match=r"metric 'y' with shape \(\); expected \(3,\)"):
        run_chunked(lambda v: {"y": 1.0}, {"a": np.zeros(3)}, 10)
    with pytest.raises(InputError, match="did you mean 'npv_eur'"):
        run_chunked(MODEL, DrawSamples(DISTS, 10, 0, CASE.values), 10, Concat(["npv"]))


def test_model_closed_over_case_pickles():
    import cloudpickle
    clone = cloudpickle.loads(cloudpickle.dumps(ConstantFactory(MODEL)))()
    v = DrawSamples(DISTS, 50, 0, CASE.values).chunk(0, 50)
    np.testing.assert_array_equal(clone(v)["npv_eur"], MODEL(v)["npv_eur"])


# ------------------------------------------------------------------------------ dask
@pytest.fixture(scope="module")
def client():
    pytest.importorskip("dask.distributed")
    from dask.distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0")
    cl = Client(cluster)
    yield cl
    cl.close()
    cluster.close()


def test_dask_equals_in_process_draws(client):
    s = DrawSamples(DISTS, 50_000, seed=123, fixed=CASE.values)
    local = run_chunked(MODEL, s, 4096)
    remote = run_on_dask(functools.partial(make_model, "toy"), s, 4096, client=client)
    assert set(remote) == set(local)
    for k in local:
        np.testing.assert_array_equal(remote[k], local[k])


def test_dask_equals_in_process_arrays_and_summary(client):
    rng = np.random.default_rng(0)
    arrays = {"baseline.work_exit_rate": rng.uniform(0.005, 0.02, 3000)}
    local = run_chunked(MODEL, arrays, 1000, fixed=CASE.values)
    remote = run_on_dask(ConstantFactory(MODEL), arrays, 1000, client=client, fixed=CASE.values)
    np.testing.assert_array_equal(remote["npv_eur"], local["npv_eur"])
    edges = np.linspace(-4000, 4000, 81)
    s = DrawSamples(DISTS, 10_000, seed=5, fixed=CASE.values)
    assert run_on_dask(ConstantFactory(MODEL), s, 999, reducer=Summary("npv_eur", edges), client=client).keys() \
        == run_chunked(MODEL, s, 999, Summary("npv_eur", edges)).keys()
    a = run_on_dask(ConstantFactory(MODEL), s, 999, reducer=Summary("npv_eur", edges), client=client)
    b = run_chunked(MODEL, s, 999, Summary("npv_eur", edges))
    np.testing.assert_array_equal(a.pop("hist"), b.pop("hist"))
    np.testing.assert_array_equal(a.pop("edges"), b.pop("edges"))
    assert a == b


def test_dask_many_municipalities_times_scenarios_times_draws(client):
    factories = {m: functools.partial(make_model, m) for m in ("sittard_geleen", "venlo", "heerlen")}
    inner = DrawSamples(DISTS, 2000, seed=77, fixed=CASE.values)
    design = ProductSamples({"baseline.work_exit_rate": np.array([0.006, 0.01, 0.014])}, inner)
    remote = run_on_dask(factories, design, 1500, client=client)
    local = run_chunked({m: f() for m, f in factories.items()}, design, 1500)
    assert set(remote) == set(factories)
    for m in factories:
        np.testing.assert_array_equal(remote[m]["npv_eur"], local[m]["npv_eur"])
        assert remote[m]["npv_eur"].shape == (6000,)


def test_sweep_api_through_dask_executor(client):
    ex = DaskExecutor(client=client)
    kw = dict(n=20_000, seed=3, chunk_size=4096, bounds={}, metrics=("npv_eur", "break_even_month"))
    local = S.probabilistic(MODEL, CASE.values, DISTS, **kw)
    remote = S.probabilistic(MODEL, CASE.values, DISTS, executor=ex, **kw)
    np.testing.assert_array_equal(remote.npv, local.npv)
    assert remote.p_positive == local.p_positive and remote.p_break_even == local.p_break_even
    ow_l = S.one_way(MODEL, CASE.values, bounds={}, metrics=("npv_eur", "break_even_month"))
    ow_r = S.one_way(MODEL, CASE.values, bounds={}, metrics=("npv_eur", "break_even_month"), executor=ex)
    assert ow_l.equals(ow_r)


def test_dask_bad_factory():
    with pytest.raises(InputError, match="zero-argument callable"):
        run_on_dask({"x": 42}, {"a": np.zeros(2)}, 1)


def test_dask_process_workers_equal_in_process():
    """Real pickling: the model factory and the samples travel to 2 worker processes."""
    pytest.importorskip("dask.distributed")
    s = DrawSamples(DISTS, 20_000, seed=11, fixed=CASE.values)
    remote = run_on_dask(functools.partial(make_model, "toy"), s, 5000, n_workers=2, processes=True)
    local = run_chunked(MODEL, s, 5000)
    np.testing.assert_array_equal(remote["npv_eur"], local["npv_eur"])


def test_one_dask_cluster_per_executor_across_sweeps(monkeypatch):
    """`mkba sweep --one-way --prob ... --dask local` starts one cluster, not one per sweep."""
    pytest.importorskip("dask.distributed")
    import mkba.scaleout as so

    opened = []
    real = so._open_client

    def counting(address, client, *a, **kw):
        if client is None:  # a new client (and cluster)
            opened.append(address)
        return real(address, client, *a, **kw)

    monkeypatch.setattr(so, "_open_client", counting)
    ex = DaskExecutor(n_workers=1, threads_per_worker=2, processes=False)
    kw = dict(n=4000, seed=3, chunk_size=2000, bounds={}, metrics=("npv_eur",))
    a = S.probabilistic(MODEL, CASE.values, DISTS, executor=ex, **kw)
    b = S.one_way(MODEL, CASE.values, bounds={}, metrics=("npv_eur",), executor=ex)
    c = S.probabilistic(MODEL, CASE.values, DISTS, executor=ex, **kw)
    assert len(opened) == 1 and ex.client is not None
    np.testing.assert_array_equal(a.npv, c.npv)
    assert b.equals(S.one_way(MODEL, CASE.values, bounds={}, metrics=("npv_eur",)))
    ex.close()
    assert ex.client is None

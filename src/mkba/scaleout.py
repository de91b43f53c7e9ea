"""Chunked sweeps: in-process (:func:`run_chunked`) and on dask.distributed (:func:`run_on_dask`).

A sweep is *a batch model* (see docs/ARCHITECTURE.md, "The batch model contract"), *samples*
(which parameter sets to evaluate) and a *reducer* (what to keep of each chunk's metric arrays).

Samples are specs that can produce any slice ``[start, stop)`` on demand, so inputs for a
million draws never exist at once and a worker can build its own chunk:

* :class:`ArraySamples` - explicit arrays (sliced per chunk);
* :class:`DrawSamples`  - seeded draws from :class:`mkba.distributions.Dist` (generated per chunk,
  identical whatever the chunking, see the reproducibility contract in :mod:`mkba.distributions`);
* :class:`ProductSamples` - every row of an outer design (municipality x scenario parameter
  sets) crossed with the same inner draws (common random numbers).

Parameters that a spec does not vary are passed as the base value, broadcast to shape ``(n,)``
without copying (read-only views).

Reducers turn a chunk into a small partial result and combine partials in chunk order, so the
in-process and the dask run give identical results: :class:`Concat` keeps metric arrays,
:class:`Summary` keeps only counts, moments and a fixed-edge histogram (national sweeps).

``run_on_dask`` takes a *model factory* (a zero-argument callable returning the batch model,
e.g. ``functools.partial(build_model, "fip_sittard_geleen")``) so that workers build the model
themselves; the factory is sent once per worker and the model is cached there.  A dict of
factories (e.g. one per municipality) runs all of them in one submission and returns a dict.
"""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol, Sequence

import numpy as np

from mkba.errors import InputError, closest

BatchModel = Callable[[dict], dict]
#: default number of parameter sets per model call.  Small enough that a kernel's working arrays
#: stay in the CPU caches (16384 x 8 bytes = 128 KiB per array; larger chunks are slower for a
#: 120-month kernel, see benchmarks/bench_sweep.py), large enough that numpy's per-call overhead
#: is negligible.
DEFAULT_CHUNK = 2 ** 14


def default_workers() -> int:
    """Threads for in-process chunks when ``workers=None``: the machine's cores, at most 4."""
    import os
    return max(1, min(4, os.cpu_count() or 1))


# ---------------------------------------------------------------------------- samples
def _broadcast_fixed(fixed: Mapping[str, float], n: int, skip: Any = ()) -> dict[str, np.ndarray]:
    return {k: np.broadcast_to(np.float64(v), (n,)) for k, v in fixed.items() if k not in skip}


class Samples(Protocol):
    n: int

    def chunk(self, start: int, stop: int) -> dict[str, np.ndarray]: ...


@dataclass
class ArraySamples:
    """Explicit parameter arrays ``{name: shape (n,)}``, plus base values for everything else."""

    arrays: dict[str, np.ndarray]
    fixed: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.arrays = {k: np.asarray(v, dtype=float) for k, v in self.arrays.items()}
        lengths = {k: v.shape for k, v in self.arrays.items()}
        shapes = set(lengths.values())
        if any(len(s) != 1 for s in shapes) or len(shapes) > 1:
            raise InputError("sample arrays must all be 1-D with the same length", field="samples",
                             value=lengths, fix="pass {name: array of shape (n,)} with one n")
        self.n = next(iter(shapes))[0] if shapes else 0

    def chunk(self, start: int, stop: int) -> dict[str, np.ndarray]:
        out = _broadcast_fixed(self.fixed, stop - start, self.arrays)
        out.update({k: v[start:stop] for k, v in self.arrays.items()})
        return out

    def names(self) -> list[str]:
        return list(self.arrays)


@dataclass
class DrawSamples:
    """``n`` seeded draws from ``dists``; chunk ``[a, b)`` equals rows a..b-1 of one big draw.
    Draws of the parameters named in ``integers`` are rounded to whole numbers."""

    dists: dict
    n: int
    seed: Any = 0
    fixed: dict[str, float] = field(default_factory=dict)
    integers: tuple[str, ...] = ()

    def chunk(self, start: int, stop: int) -> dict[str, np.ndarray]:
        from mkba.distributions import sample_range
        out = _broadcast_fixed(self.fixed, stop - start, self.dists)
        draws = sample_range(self.dists, start, stop, self.seed)
        for k in self.integers:
            if k in draws:
                draws[k] = np.rint(draws[k])
        out.update(draws)
        return out

    def names(self) -> list[str]:
        return list(self.dists)


@dataclass
class ProductSamples:
    """Outer rows (``{name: shape (m,)}``) x inner samples: row ``i`` is outer ``i // n_inner``
    with inner ``i % n_inner``.  Outer values override inner ones of the same name."""

    outer: dict[str, np.ndarray]
    inner: Any

    def __post_init__(self) -> None:
        self.outer = {k: np.asarray(v, dtype=float) for k, v in self.outer.items()}
        lens = {len(v) for v in self.outer.values()}
        if len(lens) != 1 or 0 in lens:
            raise InputError("outer design arrays must be non-empty and of one length", field="outer",
                             value={k: len(v) for k, v in self.outer.items()},
                             fix="give every outer parameter the same number of rows")
        self.m = lens.pop()
        self.n_inner = int(self.inner.n)
        self.n = self.m * self.n_inner

    def chunk(self, start: int, stop: int) -> dict[str, np.ndarray]:
        ni = self.n_inner
        if stop <= start:
            return {k: v[:0] for k, v in self.inner.chunk(0, 0).items()} | {k: v[:0] for k, v in self.outer.items()}
        idx = np.arange(start, stop)
        o = idx // ni
        j0, j1 = start % ni, (stop - 1) % ni + 1
        if stop - start >= ni:              # the chunk covers every inner row at least once
            full = self.inner.chunk(0, ni)
            inner = {k: np.asarray(v)[idx % ni] for k, v in full.items()}
        elif o[0] == o[-1]:                 # one contiguous inner slice
            inner = self.inner.chunk(j0, j1)
        else:                               # wraps once: tail of one outer row, head of the next
            a, b = self.inner.chunk(j0, ni), self.inner.chunk(0, j1)
            inner = {k: np.concatenate([a[k], b[k]]) for k in a}
        inner = dict(inner)
        inner.update({k: v[o] for k, v in self.outer.items()})
        return inner

    def names(self) -> list[str]:
        return list(self.outer) + [k for k in self.inner.names() if k not in self.outer]


def as_samples(samples: Any, fixed: Mapping[str, float] | None = None) -> Any:
    """Accept a samples spec or a plain ``{name: array}`` dict."""
    if hasattr(samples, "chunk") and hasattr(samples, "n"):
        return samples
    if isinstance(samples, Mapping):
        return ArraySamples(dict(samples), dict(fixed or {}))
    raise InputError("samples must be a dict of arrays or a samples spec (ArraySamples, DrawSamples, "
                     "ProductSamples)", field="samples", value=type(samples).__name__,
                     fix="pass {name: np.ndarray of shape (n,)}")


def chunk_bounds(n: int, chunk_size: int) -> list[tuple[int, int]]:
    """``[(0, c), (c, 2c), ...]`` covering ``range(n)``."""
    if not isinstance(chunk_size, (int, np.integer)) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise InputError("chunk_size must be a positive integer", field="chunk_size", value=chunk_size,
                         fix=f"use e.g. chunk_size={DEFAULT_CHUNK}")
    return [(a, min(a + int(chunk_size), n)) for a in range(0, n, int(chunk_size))]


# ---------------------------------------------------------------------------- model calls
def call_model(model: BatchModel, inputs: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """Call a batch model and check its answer against the contract (metric -> shape (n,))."""
    out = model(inputs)
    if not isinstance(out, Mapping):
        raise TypeError(f"batch model returned {type(out).__name__}; the contract is dict metric -> array (n,)")
    res = {}
    for k, v in out.items():
        a = np.asarray(v, dtype=float)
        if a.shape != (n,):
            raise ValueError(f"batch model returned metric '{k}' with shape {a.shape}; expected ({n},)")
        res[k] = a
    return res


def require_metrics(out: Mapping[str, Any], metrics: Sequence[str]) -> None:
    for m in metrics:
        if m not in out:
            hint = closest(m, list(out))
            raise InputError("the model has no such metric", field="metric", value=m,
                             fix=(f"did you mean '{hint[0]}'? " if hint else "")
                             + "available: " + ", ".join(sorted(out)))


# ---------------------------------------------------------------------------- reducers
class Reducer(Protocol):
    def map(self, inputs: dict, outputs: dict, start: int, stop: int) -> Any: ...

    def combine(self, partials: list) -> Any: ...


@dataclass
class Concat:
    """Keep metric arrays (``metrics=None``: all) and optionally input arrays, in row order."""

    metrics: Sequence[str] | None = None
    inputs: Sequence[str] = ()

    def map(self, inputs, outputs, start, stop):
        if self.metrics is not None:
            require_metrics(outputs, self.metrics)
        keys = list(outputs) if self.metrics is None else list(self.metrics)
        part = {k: np.array(outputs[k], dtype=float, copy=True) for k in keys}
        for k in self.inputs:
            part[f"input:{k}"] = np.array(inputs[k], dtype=float, copy=True)
        return part

    def combine(self, partials):
        if not partials:
            return {}
        return {k: np.concatenate([p[k] for p in partials]) for k in partials[0]}


@dataclass
class Summary:
    """Streaming summary of one metric: count, mean, sd, min, max, NaN count, share above
    ``threshold`` and a histogram on fixed ``edges`` (values outside land in the end bins).
    Percentiles come from the histogram (linear within a bin), so choose edges fine enough."""

    metric: str = "npv_eur"
    edges: Sequence[float] | None = None
    threshold: float = 0.0

    def map(self, inputs, outputs, start, stop):
        require_metrics(outputs, [self.metric])
        x = np.asarray(outputs[self.metric], dtype=float)
        ok = x[~np.isnan(x)]
        part = {"n": x.size, "nan": int(x.size - ok.size), "sum": float(ok.sum()),
                "sumsq": float((ok * ok).sum()), "min": float(ok.min()) if ok.size else math.inf,
                "max": float(ok.max()) if ok.size else -math.inf, "above": int((ok > self.threshold).sum())}
        if self.edges is not None:
            e = np.asarray(self.edges, dtype=float)
            part["hist"] = np.histogram(np.clip(ok, e[0], e[-1]), bins=e)[0]
        return part

    def combine(self, partials):
        tot = {"n": 0, "nan": 0, "sum": 0.0, "sumsq": 0.0, "min": math.inf, "max": -math.inf, "above": 0}
        hist = None
        for p in partials:
            for k in ("n", "nan", "sum", "sumsq", "above"):
                tot[k] += p[k]
            tot["min"] = min(tot["min"], p["min"])
            tot["max"] = max(tot["max"], p["max"])
            if "hist" in p:
                hist = p["hist"].copy() if hist is None else hist + p["hist"]
        k = tot["n"] - tot["nan"]
        mean = tot["sum"] / k if k else math.nan
        var = max(tot["sumsq"] / k - mean ** 2, 0.0) * k / (k - 1) if k > 1 else math.nan
        res = {"metric": self.metric, "n": tot["n"], "n_nan": tot["nan"], "mean": mean, "sd": math.sqrt(var),
               "min": tot["min"], "max": tot["max"], "p_above": tot["above"] / tot["n"] if tot["n"] else math.nan,
               "threshold": self.threshold}
        if hist is not None:
            res["edges"] = np.asarray(self.edges, dtype=float)
            res["hist"] = hist
        return res

    @staticmethod
    def percentile(result: Mapping[str, Any], q: float) -> float:
        """Approximate percentile ``q`` (0..100) from a combined result's histogram."""
        hist, edges = result["hist"], result["edges"]
        cum = np.concatenate([[0], np.cumsum(hist)]) / hist.sum()
        return float(np.interp(q / 100.0, cum, edges))


# ---------------------------------------------------------------------------- in-process
def _one_chunk(model, samples, reducer, a, b):
    inputs = samples.chunk(a, b)
    outputs = call_model(model, inputs, b - a)
    return reducer.map(inputs, outputs, a, b)


def run_chunked(model: BatchModel | Mapping[Any, BatchModel], samples: Any, chunk_size: int = DEFAULT_CHUNK,
                reducer: Reducer | None = None, fixed: Mapping[str, float] | None = None,
                workers: int | None = 1) -> Any:
    """Evaluate ``samples`` with ``model`` chunk by chunk in this process and reduce.

    ``model`` may be a dict of models (e.g. per municipality): the result is then a dict too.
    ``fixed`` gives base values for parameters the samples do not vary (plain-dict samples only).
    Default reducer: :class:`Concat` (all metrics, in row order).  ``workers`` threads evaluate
    chunks concurrently (``1``, the default: sequential; ``None``: :func:`default_workers`); the
    model must then be thread-safe (a pure numpy function is).  Use it as an executor with
    ``functools.partial(run_chunked, workers=2)``.  Partials are combined in row order, so the result
    does not depend on ``workers``.  At most ``2 x workers`` chunks are in flight at a time.
    """
    if isinstance(model, Mapping):
        return {k: run_chunked(m, samples, chunk_size, reducer, fixed, workers) for k, m in model.items()}
    samples = as_samples(samples, fixed)
    reducer = reducer if reducer is not None else Concat()
    bounds = chunk_bounds(samples.n, chunk_size)
    workers = default_workers() if workers is None else int(workers)
    if workers <= 1 or len(bounds) <= 1:
        return reducer.combine([_one_chunk(model, samples, reducer, a, b) for a, b in bounds])
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor
    partials, pending = [], deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mkba-chunk") as pool:
        for a, b in bounds:
            if len(pending) >= 2 * workers:
                partials.append(pending.popleft().result())
            pending.append(pool.submit(_one_chunk, model, samples, reducer, a, b))
        while pending:
            partials.append(pending.popleft().result())
    return reducer.combine(partials)


# ---------------------------------------------------------------------------- dask
@dataclass(frozen=True)
class ConstantFactory:
    """Factory that returns an existing model (it must pickle to reach process workers)."""

    model: Any

    def __call__(self):
        return self.model


_MODEL_CACHE: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def _model_from(factory: Callable[[], BatchModel]) -> BatchModel:
    try:
        return _MODEL_CACHE[factory]
    except (KeyError, TypeError):
        pass
    model = factory()
    try:
        _MODEL_CACHE[factory] = model
    except TypeError:       # not weak-referenceable: build per chunk
        pass
    return model


def _dask_chunk(factory, samples, start, stop, reducer):
    return _one_chunk(_model_from(factory), samples, reducer, start, stop)


def _open_client(address: str | None, client: Any, n_workers: int, threads_per_worker: int, processes: bool):
    from dask.distributed import Client, LocalCluster
    if client is not None:
        return client, None, False
    if address is not None:
        return Client(address), None, True
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, processes=processes,
                           dashboard_address=":0")
    client = Client(cluster)
    _preload_workers(client)
    return client, cluster, True


def _preload_workers(client) -> None:
    """Load mkba's compiled kernel in every worker before the first chunk (mkba.fastkernel.preload)."""
    try:
        from mkba.fastkernel import preload
        client.run(preload)
    except Exception:   # a worker that cannot preload loads the kernel at its first chunk
        pass


def run_on_dask(model_factory: Callable[[], BatchModel] | Mapping[Any, Callable[[], BatchModel]], samples: Any,
                chunk_size: int = DEFAULT_CHUNK, address: str | None = None, reducer: Reducer | None = None, *,
                client: Any = None, n_workers: int = 2, threads_per_worker: int = 1, processes: bool = True,
                fixed: Mapping[str, float] | None = None) -> Any:
    """Same as :func:`run_chunked`, with chunks evaluated on a dask.distributed cluster.

    ``address``: a scheduler address (``"tcp://host:8786"``); ``None`` starts a LocalCluster with
    ``n_workers`` x ``threads_per_worker`` (``processes=False`` keeps workers in this process) and
    closes it afterwards.  ``client``: use an existing Client instead.  Results equal the
    in-process run with the same ``chunk_size`` and reducer (chunks are combined in row order).
    """
    from dask.distributed import as_completed
    factories = dict(model_factory) if isinstance(model_factory, Mapping) else {None: model_factory}
    for f in factories.values():
        if not callable(f):
            raise InputError("model_factory must be a zero-argument callable returning the batch model",
                             field="model_factory", value=type(f).__name__,
                             fix="wrap a ready model with mkba.scaleout.ConstantFactory(model)")
    samples = as_samples(samples, fixed)
    reducer = reducer if reducer is not None else Concat()
    bounds = chunk_bounds(samples.n, chunk_size)
    cl, cluster, own = _open_client(address, client, n_workers, threads_per_worker, processes)
    try:
        explicit = isinstance(samples, ArraySamples)
        s_fut = None if explicit else cl.scatter(samples, broadcast=True, hash=False)
        futures = {}
        for key, factory in factories.items():
            f_fut = cl.scatter(factory, broadcast=True, hash=False)
            for i, (a, b) in enumerate(bounds):
                if explicit:   # ship only this chunk's rows
                    piece = ArraySamples({k: v[a:b] for k, v in samples.arrays.items()}, samples.fixed)
                    fut = cl.submit(_dask_chunk, f_fut, piece, 0, b - a, reducer, pure=False)
                else:
                    fut = cl.submit(_dask_chunk, f_fut, s_fut, a, b, reducer, pure=False)
                futures[fut] = (key, i)
        partials: dict[Any, list] = {key: [None] * len(bounds) for key in factories}
        for fut in as_completed(list(futures)):
            key, i = futures.pop(fut)
            partials[key][i] = fut.result()
            fut.release()
        results = {key: reducer.combine(parts) for key, parts in partials.items()}
    finally:
        if own:
            cl.close()
            if cluster is not None:
                cluster.close()
    return results if isinstance(model_factory, Mapping) else results[None]


def _close_client(client: Any, cluster: Any) -> None:
    try:
        client.close()
    finally:
        if cluster is not None:
            cluster.close()


class DaskExecutor:
    """Executor for the sweep functions in :mod:`mkba.sensitivity` (``executor=DaskExecutor(...)``).

    One cluster per executor: it is started at the first sweep and reused by every later sweep
    until :meth:`close` (or the end of a ``with`` block, or of the program), so a command that
    runs several sweeps (``mkba sweep --one-way --prob ... --dask local``) starts one cluster::

        with DaskExecutor(address=None, n_workers=2) as ex:
            res = probabilistic(model, base, dists, n=1_000_000, seed=1, executor=ex)
            tab = one_way(model, base, ranges, executor=ex)          # same cluster

    When dask pays: with more cores than this machine's or several machines (``address`` of a
    scheduler), for sweeps of 1e6+ draws. On 2 cores it does not: the compiled kernel already
    uses both cores in-process, and a local cluster adds seconds of start-up and data transfer.
    """

    def __init__(self, address: str | None = None, *, client: Any = None, n_workers: int = 2,
                 threads_per_worker: int = 1, processes: bool = True):
        self.address, self.client = address, client
        self.n_workers, self.threads_per_worker, self.processes = n_workers, threads_per_worker, processes
        self._cluster = None
        self._own = False
        self._finalizer = None
        self.clusters_started = 0

    def _ensure_client(self) -> None:
        if self.client is None:
            self.client, self._cluster, self._own = _open_client(self.address, None, self.n_workers,
                                                                 self.threads_per_worker, self.processes)
            self.clusters_started += 1
            if self._own:  # closed at the latest when the executor goes away
                self._finalizer = weakref.finalize(self, _close_client, self.client, self._cluster)

    def __enter__(self) -> "DaskExecutor":
        self._ensure_client()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if self._own and self.client is not None:
            _close_client(self.client, self._cluster)
        if self._own:
            self.client, self._cluster, self._own = None, None, False

    def __call__(self, model: BatchModel, samples: Any, chunk_size: int = DEFAULT_CHUNK,
                 reducer: Reducer | None = None) -> Any:
        self._ensure_client()
        return run_on_dask(ConstantFactory(model), samples, chunk_size, self.address, reducer,
                           client=self.client, n_workers=self.n_workers,
                           threads_per_worker=self.threads_per_worker, processes=self.processes)


def execute(executor: Callable | None, model: BatchModel, samples: Any, chunk_size: int,
            reducer: Reducer | None) -> Any:
    """Run through ``executor`` (``None``: in this process)."""
    if executor is None:
        return run_chunked(model, samples, chunk_size, reducer)
    return executor(model, samples, chunk_size, reducer)


__all__ = ["DEFAULT_CHUNK", "default_workers", "ArraySamples", "DrawSamples", "ProductSamples", "as_samples",
           "chunk_bounds",
           "call_model", "Concat", "Summary", "run_chunked", "run_on_dask", "ConstantFactory", "DaskExecutor",
           "execute"]

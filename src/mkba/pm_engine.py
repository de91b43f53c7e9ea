"""mkba's kernels as a papermill engine (``--engine mkba``).

papermill does the parameterising, the ``papermill`` metadata, the error
markers and the output notebook; this engine only decides *where* the cells
run: on a kernel forked from a process that has already imported mkba, pandas
and matplotlib (:class:`mkba.kernels.KernelPool`), one kernel per report,
never reused.  Registered through the ``papermill.engine`` entry point, so it
works from papermill's own CLI and Python API::

    papermill notebooks/business_case.ipynb out.ipynb -p case app_zaanstad --engine mkba

    import papermill as pm
    from mkba.pm_engine import KernelSource
    with KernelSource(size=3) as kernels:          # optional: share warm kernels across reports
        pm.execute_notebook("notebooks/business_case.ipynb", "out.ipynb",
                            parameters={"case": "app_zaanstad"}, engine_name="mkba",
                            mkba_kernels=kernels)

Without ``mkba_kernels`` each call starts its own fork server and kernel.

Before any kernel starts the parameters papermill injected are checked against
the notebook's ``parameters`` cell (:func:`mkba.render.check_parameters`): a
notebook without one, an unknown parameter (papermill itself only warns) or a
value of the wrong type raises :class:`NotebookParameterError`, an
:class:`~mkba.errors.InputError` that papermill's CLI prints as a one-line
``Error: ...``.

Engine keyword arguments (``execute_notebook(..., **engine_kwargs)``):

``mkba_kernels``
    a :class:`KernelSource` to take the kernel from;
``mkba_cwd``
    the kernel's working directory (default: the current directory, which is
    where papermill's ``cwd=`` puts the process);
``mkba_report_timeout``
    seconds for the whole notebook; past it the kernel is killed and the run
    fails with a :class:`ReportTimeout`;
``mkba_run``
    a dict the engine fills with timings and the executing notebook (so the
    caller can keep the notebook with its traceback when papermill raises);
``shutdown_kernel``
    nbclient's choice of how the kernel ends after the last cell: ``"immediate"``
    (this engine's default: the kernel is killed; every output is already in the
    notebook, so only the kernel's own clean-up is skipped) or ``"graceful"``
    (a shutdown request, as nbclient does by default). Anything else is refused
    before papermill writes the output notebook.
"""
from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

import click

from mkba.errors import InputError

__all__ = ["MkbaEngine", "KernelSource", "NotebookParameterError", "ReportTimeout"]


class NotebookParameterError(InputError, click.ClickException):
    """Bad parameters for a notebook (also a ``click.ClickException`` for papermill's CLI)."""

    exit_code = 2

    def __init__(self, problem: str, **kw: Any):
        InputError.__init__(self, problem, **kw)
        click.ClickException.__init__(self, self._message())  # what click prints after "Error: "

    def format_message(self) -> str:
        return self.message

    @classmethod
    def from_input_error(cls, e: InputError) -> "NotebookParameterError":
        return cls(e.problem, file=e.file, field=e.field, value=e.value, fix=e.fix,
                   has_value=e.has_value)


class ReportTimeout(TimeoutError):
    """The whole notebook took longer than ``mkba_report_timeout`` seconds."""


class KernelSource:
    """Warm kernels for papermill runs, thread-safe: a :class:`~mkba.kernels.KernelPool`
    living on its own event loop thread.

    :meth:`acquire` hands out a started kernel nobody used before; :meth:`release`
    shuts it down.  Use as a context manager (or call :meth:`close`).
    """

    def __init__(self, size: int = 2, *, limit: int | None = None, mode: str = "auto",
                 preload: Any = None, forkserver: Any = None, warm: Any = ()):
        from mkba.kernels import KernelPool

        kw: dict[str, Any] = {}
        if preload is not None:
            kw["preload"] = preload
        self.pool = KernelPool(size=size, mode=mode, limit=limit, forkserver=forkserver,
                               warm=warm, **kw)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="mkba-kernels",
                                        daemon=True)
        self._thread.start()
        self._closed = False
        self._active: set = set()
        self._lock = threading.Lock()
        self.call(self.pool.start())

    @property
    def mode(self) -> str:
        return self.pool.mode

    def call(self, coro, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def acquire(self, timeout: float | None = None):
        """A :class:`~mkba.kernels.PooledKernel` (started, imports done)."""
        if self._closed:
            raise RuntimeError("the kernel source is closed")
        k = self.call(self.pool.acquire(), timeout)
        with self._lock:
            self._active.add(id(k))
            self._active_k = getattr(self, "_active_k", {})
            self._active_k[id(k)] = k
        return k

    def run_silent(self, k, code: str, timeout: float = 30.0) -> None:
        from mkba.kernels import execute_silent

        self.call(execute_silent(k.kc, code, timeout=timeout), timeout + 5)

    def release(self, k, *, now: bool = False) -> None:
        """Shut ``k`` down in the background (it is never handed out again)."""
        with self._lock:
            self._active.discard(id(k))
            getattr(self, "_active_k", {}).pop(id(k), None)
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(lambda: self.pool.release_soon(k, now=now))

    def kill(self, k) -> None:
        """Kill the kernel process at once (timeouts, interrupts)."""
        import signal

        prov = getattr(k.km, "provisioner", None)
        pid = getattr(prov, "pid", None) or getattr(getattr(prov, "process", None), "pid", None)
        if pid:
            for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
                try:
                    target()
                    break
                except (ProcessLookupError, PermissionError, OSError):
                    continue

    def kill_all(self) -> None:
        """Kill every kernel handed out and not yet released (Ctrl-C, SIGTERM)."""
        with self._lock:
            ks = list(getattr(self, "_active_k", {}).values())
        for k in ks:
            self.kill(k)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.call(self.pool.close(), 120)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()

    def __enter__(self) -> "KernelSource":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _input_path(kwargs: dict, nb) -> str:
    p = kwargs.get("input_path") or (nb.metadata.get("papermill") or {}).get("input_path")
    return p if isinstance(p, str) else "<notebook>"


def check_papermill_notebook(nb, input_path: str) -> None:
    """NotebookParameterError if the parameters papermill injected do not fit the notebook."""
    from mkba.render import check_parameters, parameter_cell_source, parse_parameter_cell

    params = dict((nb.metadata.get("papermill") or {}).get("parameters") or {})
    src = parameter_cell_source(nb)
    try:
        defaults = None if src is None else parse_parameter_cell(src, input_path)
        check_parameters(params, defaults, input_path)
    except InputError as e:
        raise NotebookParameterError.from_input_error(e) from None


#: how the mkba engine ends a finished report's kernel unless told otherwise (nbclient's ``shutdown_kernel``)
DEFAULT_SHUTDOWN = "immediate"


def check_shutdown_kernel(value: Any) -> None:
    """InputError unless ``value`` is one of nbclient's ``shutdown_kernel`` choices."""
    from nbclient import NotebookClient

    choices = NotebookClient.class_traits()["shutdown_kernel"].values
    if value not in choices:
        raise InputError("not a way to end a report's kernel", field="shutdown_kernel", value=value,
                         fix=" or ".join(repr(c) for c in choices) + " (nbclient's choices; the mkba "
                         f"engine's default is {DEFAULT_SHUTDOWN!r})")


_ENGINE: list = []


def __getattr__(name: str):
    # papermill loads its entry points while ``papermill.engines`` is being imported, and
    # this module may be what imported papermill: build the class lazily (PEP 562), from
    # the NBClientEngine that is already defined at that point.
    if name == "MkbaEngine":
        return _engine_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _engine_class():
    if _ENGINE:
        return _ENGINE[0]
    from papermill.engines import NBClientEngine
    from papermill.utils import merge_kwargs, remove_args

    class MkbaEngine(NBClientEngine):  # noqa: F811
        """papermill engine: nbclient on a pre-warmed, forked kernel (one per notebook run)."""

        @classmethod
        def execute_notebook(cls, nb, kernel_name, **kwargs):
            # before papermill's execution manager writes anything and before any kernel starts
            check_papermill_notebook(nb, _input_path(kwargs, nb))
            check_shutdown_kernel(kwargs.get("shutdown_kernel", DEFAULT_SHUTDOWN))
            return super().execute_notebook(nb, kernel_name, **kwargs)

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None,
                                     mkba_kernels: KernelSource | None = None, mkba_cwd: str | None = None,
                                     mkba_report_timeout: float | None = None,
                                     mkba_run: dict | None = None, shutdown_kernel: str = DEFAULT_SHUTDOWN,
                                     **kwargs):
            from papermill.clientwrap import PapermillNotebookClient
            from papermill.log import logger

            run = mkba_run if mkba_run is not None else {}
            run["nb"] = nb_man.nb
            timings = run.setdefault("timings", {})
            own = mkba_kernels is None
            source = KernelSource(size=1, limit=1) if own else mkba_kernels
            t0 = time.perf_counter()
            try:
                k = source.acquire(timeout=max(start_timeout, 1) * 2)
                timings["kernel_wait_s"] = time.perf_counter() - t0
                timings["kernel_start_s"] = k.started_s
                run["kernel_mode"] = k.mode
                timer = None
                try:
                    cwd = os.path.abspath(mkba_cwd or os.getcwd())
                    # the kernel was started in a neutral directory: run where papermill runs
                    source.run_silent(k, f"__import__('os').chdir({cwd!r})")
                    if mkba_report_timeout:
                        def expire() -> None:
                            run["timed_out"] = True
                            source.kill(k)

                        timer = threading.Timer(float(mkba_report_timeout), expire)
                        timer.daemon = True
                        timer.start()
                    kwargs = remove_args(["input_path"], **kwargs)
                    safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
                    final_kwargs = merge_kwargs(
                        safe_kwargs,
                        timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                        startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
                        log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
                        resources={"metadata": {"path": cwd}})
                    client = PapermillNotebookClient(nb_man, km=k.km, **final_kwargs)
                    t1 = time.perf_counter()
                    try:
                        client.execute()
                    except BaseException as e:
                        if run.get("timed_out"):
                            raise ReportTimeout(f"the report took longer than {mkba_report_timeout:g} s "
                                                "and was stopped") from e
                        raise
                    finally:
                        timings["execute_s"] = time.perf_counter() - t1
                        kc = client.kc
                        if kc is not None:
                            try:
                                kc.stop_channels()
                            except Exception:
                                pass
                        if run.get("timed_out") and not isinstance(nb_man.nb.metadata.papermill.get("exception"), bool):
                            nb_man.nb.metadata.papermill["exception"] = True
                    if run.get("timed_out"):
                        raise ReportTimeout(f"the report took longer than {mkba_report_timeout:g} s "
                                            "and was stopped")
                finally:
                    if timer is not None:
                        timer.cancel()
                    # a finished report's kernel is killed, not shut down politely (nbclient's
                    # shutdown_kernel="immediate"; "graceful" on request): every output is in
                    # the notebook once the last cell has replied
                    source.release(k, now=bool(run.get("timed_out")) or shutdown_kernel == "immediate")
                return nb_man.nb
            finally:
                if own:
                    source.close()

    _ENGINE.append(MkbaEngine)
    return MkbaEngine

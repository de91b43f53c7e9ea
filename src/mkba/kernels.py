"""Kernels for report rendering: always this interpreter, started ahead of time.

Two ways to get a fresh IPython kernel, both giving **one kernel per report**
(a kernel is never reused):

``fork`` (default on Linux)
    A *fork server* ("zygote") process imports ipykernel, IPython, numpy,
    pandas, matplotlib and mkba once.  Each kernel is an ``os.fork()`` of that
    clean process which then runs ``IPKernelApp`` exactly like
    ``python -m ipykernel_launcher -f CONNECTION_FILE`` would.  A kernel is
    ready in ~0.1 s instead of ~2 s and shares no state with other kernels
    (separate processes; numpy's global RNG is re-seeded from OS entropy after
    the fork, like a new process; matplotlib drops its font handles at fork).

``spawn``
    Plain ``python -m ipykernel_launcher`` subprocesses (the jupyter_client
    default), warmed up by silently importing the same modules before use.

Both use this interpreter (``sys.executable``) through an in-memory kernel spec,
so no ``jupyter kernelspec install`` is needed and a stray user-level
``python3`` kernel spec can never redirect reports to another environment.
Kernels talk over the ``ipc`` transport (unix sockets in a private temporary
directory): no TCP ports, so parallel renders cannot race for ports
(nteract/papermill#511, #239).

:class:`KernelPool` keeps ``size`` kernels started and warm; :meth:`acquire`
hands one out and starts a replacement in the background.
"""
from __future__ import annotations

import asyncio
import functools
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

__all__ = ["DEFAULT_PRELOAD", "KERNEL_OPTIONS", "KernelPool", "PooledKernel", "ForkServer", "kernel_argv",
           "default_mode", "INLINE_BACKEND"]

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"

#: modules imported ahead of time (fork server) or right after start (spawn)
DEFAULT_PRELOAD: tuple[str, ...] = (
    "numpy", "pandas", "matplotlib", "matplotlib.pyplot", "matplotlib_inline.backend_inline",
    "mkba", "mkba.formatting", "mkba.reporting", "mkba.views", "mkba.model", "mkba.cases", "mkba.scenarios",
    "mkba.sensitivity", "mkba.local", "mkba.municipalities", "mkba.cycle", "mkba.plots", "IPython.display",
)


#: command-line options of every report kernel (fork and spawn): no input history (a report kernel
#: keeps none; IPython then opens no SQLite database, which was about 15 % of a forked kernel's start)
#: and output streams whose empty flushes are free (:class:`mkba.kernel_io.ReportOutStream`, through
#: ipykernel's own option)
KERNEL_OPTIONS: tuple[str, ...] = (
    "--HistoryManager.enabled=False",
    "--IPKernelApp.outstream_class=mkba.kernel_io.ReportOutStream",
)


def kernel_argv() -> list[str]:
    """The kernel command line: always the interpreter running mkba."""
    return [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


def default_mode() -> str:
    """``fork`` where it is safe and available (Linux), else ``spawn``."""
    if sys.platform.startswith("linux") and hasattr(os, "fork"):
        return "fork"
    return "spawn"


def _spec_manager():
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    class _ThisPythonSpecManager(KernelSpecManager):
        """Every kernel name resolves to ``sys.executable -m ipykernel_launcher``."""

        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:  # noqa: ARG002
            return KernelSpec(argv=kernel_argv(), name="python3", language="python",
                              display_name=f"Python {sys.version_info[0]}.{sys.version_info[1]} (mkba)",
                              interrupt_mode="signal", env={}, metadata={})

        def find_kernel_specs(self) -> dict[str, str]:
            return {"python3": ""}

    return _ThisPythonSpecManager()


# ---------------------------------------------------------------------------
# fork server
# ---------------------------------------------------------------------------

_ZYGOTE_CODE = "import mkba.kernels as _k; _k._zygote_main()"


class ForkServerError(RuntimeError):
    pass


class ForkServer:
    """A pre-imported Python process that forks fresh kernel processes on request.

    Protocol: one JSON object per line on the zygote's stdin/stdout.
    """

    def __init__(self, preload: Sequence[str] = DEFAULT_PRELOAD, *, cwd: str | None = None,
                 env: dict[str, str] | None = None, log_path: str | None = None,
                 warm: Sequence[tuple[str, dict]] = ()):
        self.preload = list(preload)
        self.warm = [(str(t), dict(kw)) for t, kw in warm]
        self.log_path = log_path
        self.cwd = cwd
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.info: dict[str, Any] = {}
        self._lock = threading.RLock()

    def start(self) -> "ForkServer":
        """Start the zygote (returns at once; :meth:`wait_ready` blocks until imports are done)."""
        env = dict(os.environ if self.env is None else self.env)
        env["MKBA_ZYGOTE_PRELOAD"] = json.dumps(self.preload)
        env["MKBA_ZYGOTE_WARM"] = json.dumps(self.warm)
        env["MPLBACKEND"] = INLINE_BACKEND
        env.pop("PYTHONSTARTUP", None)
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _ZYGOTE_CODE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=log, cwd=self.cwd, env=env, close_fds=True, start_new_session=True)
        finally:
            if self.log_path:
                log.close()
        return self

    def log_tail(self, n: int = 3000) -> str:
        if not self.log_path:
            return ""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, 2)
                f.seek(max(0, f.tell() - n))
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 120.0) -> dict[str, Any]:
        with self._lock:
            return self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> dict[str, Any]:
        if self.info:
            return self.info
        if self.proc is None:
            raise ForkServerError("fork server is not running")
        line = self._readline(timeout)
        msg = json.loads(line)
        if not msg.get("ready"):
            raise ForkServerError(f"fork server failed to start: {msg}")
        self.info = msg
        return msg

    def _readline(self, timeout: float) -> str:
        if self.proc is None or self.proc.stdout is None:
            raise ForkServerError("fork server is not running")
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            if not sel.select(timeout):
                raise ForkServerError(f"fork server did not answer within {timeout:.0f} s")
        finally:
            sel.close()
        line = self.proc.stdout.readline()
        if not line:
            raise ForkServerError(f"fork server exited (code {self.proc.wait()}): {self.log_tail()}")
        return line.decode()

    def fork(self, argv: Sequence[str], *, cwd: str | None, env: dict[str, str] | None,
             log_path: str | None) -> int:
        """Fork a kernel running ``IPKernelApp`` with ``argv`` (e.g. ``["-f", conn]``); return its pid."""
        with self._lock:
            self.wait_ready()
            assert self.proc is not None and self.proc.stdin is not None
            req = {"cmd": "fork", "argv": list(argv), "cwd": cwd, "env": env, "log": log_path}
            try:
                self.proc.stdin.write((json.dumps(req) + "\n").encode())
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError) as e:
                raise ForkServerError(f"fork server is gone: {e}") from None
            msg = json.loads(self._readline(30.0))
        if "pid" not in msg:
            raise ForkServerError(f"fork failed: {msg.get('error')}")
        return int(msg["pid"])

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()  # EOF ends the zygote loop
            proc.wait(timeout=5)
        except Exception:
            try:   # the zygote and a helper it may still be waiting for (kernels have their own sessions)
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                proc.kill()
            proc.wait()
        finally:
            if proc.stdout:
                proc.stdout.close()


#: the modules the fork server had loaded when it began forking (in a forked kernel; else empty)
_FORK_SERVER_MODULES: frozenset[str] = frozenset()


def _zygote_main() -> None:  # pragma: no cover - runs in the zygote process
    """Entry point of the fork server process."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    # nothing else may write to the protocol pipe
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    sys.stdout = open(1, "w", buffering=1, closefd=False)
    # like ipykernel_launcher: don't import from the current directory while loading
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    preload = json.loads(os.environ.pop("MKBA_ZYGOTE_PRELOAD", "[]"))
    warm = json.loads(os.environ.pop("MKBA_ZYGOTE_WARM", "[]"))
    t0 = time.perf_counter()
    import importlib

    loaded, failed, prepared = [], {}, []

    def load(mods) -> None:
        for mod in mods:
            try:
                importlib.import_module(mod)
                loaded.append(mod)
            except BaseException as e:  # noqa: BLE001 - report, keep going
                failed[mod] = f"{type(e).__name__}: {e}"

    # first what the warm calls' model work needs (mkba, its model and views) and the compiled model;
    # then that work starts in helper processes forked from here (_prepare_in_helper) and runs while
    # this process imports the kernel's own modules (ipykernel, IPython) and fills its caches
    phases = {}
    load(preload)
    _preload_model()
    phases["preload_s"] = round(time.perf_counter() - t0, 3)
    helpers = []
    for target, kwargs in warm:
        try:
            helpers.append(_prepare_in_helper(target, kwargs))
        except BaseException as e:  # noqa: BLE001 - the warm call then does all its work here
            helpers.append(None)
            failed[f"{target} (helper)"] = f"{type(e).__name__}: {e}"
    # psutil: every kernel's shutdown imports it (ipykernel.kernelbase._get_psutil): about 4 % of the
    # kernels' samples in a py-spy profile of a municipal batch (2026-12-02) when each imports it itself
    # sqlite3 ... ipykernel_launcher: what a forked kernel still imported while it started (py-spy,
    # municipal batch, 2026-12-02: about 1 % of the kernels' samples); a kernel now imports nothing
    # to start (test_kernel_io)
    load(["ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell",
          "ipykernel.debugger", "IPython", "psutil", "mkba.kernel_io", "sqlite3",
          "IPython.core.oinspect", "IPython.core.completerlib", "IPython.extensions.storemagic",
          "IPython.core.debugger", "IPython.core.logger", "faulthandler", "ipykernel_launcher",
          "tornado.platform.asyncio"])
    phases["kernel_modules_s"] = round(time.perf_counter() - t0, 3)
    _warm_caches()
    phases["caches_s"] = round(time.perf_counter() - t0, 3)
    for (target, kwargs), helper in zip(warm, helpers):
        state = None
        if helper is not None:
            try:
                state = _prepared(*helper)
                phases[f"{target} helper_s"] = round(time.perf_counter() - t0, 3)
            except BaseException as e:  # noqa: BLE001 - the warm call then does all its work here
                failed[f"{target} (helper)"] = f"{type(e).__name__}: {e}"
        try:
            run_warm_call(target, kwargs, state)
            loaded.append(target)
            if state is not None:
                prepared.append(target)
        except BaseException as e:  # noqa: BLE001 - a failed warm-up only costs time
            failed[target] = f"{type(e).__name__}: {e}"
    global _FORK_SERVER_MODULES
    _FORK_SERVER_MODULES = frozenset(sys.modules)   # a kernel's start should need no other (tested)
    stdin = sys.stdin.buffer
    sys.stdin = open(os.devnull)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels are reaped automatically
    out.write(json.dumps({"ready": True, "pid": os.getpid(), "loaded": loaded, "failed": failed,
                          "prepared": prepared, "phases": phases,
                          "import_s": round(time.perf_counter() - t0, 3),
                          "threads": threading.active_count()}) + "\n")
    while True:
        line = stdin.readline()
        if not line:
            break
        try:
            req = json.loads(line)
        except ValueError:
            continue
        if req.get("cmd") == "exit":
            break
        if req.get("cmd") != "fork":
            out.write(json.dumps({"error": f"unknown command {req.get('cmd')!r}"}) + "\n")
            continue
        try:
            pid = os.fork()
        except OSError as e:
            out.write(json.dumps({"error": str(e)}) + "\n")
            continue
        if pid == 0:
            try:
                out.close()
            except Exception:
                pass
            _kernel_child(req, stdin_fd=stdin.fileno())
            os._exit(0)  # never reached
        out.write(json.dumps({"pid": pid}) + "\n")
    os._exit(0)


def _warm_function(target: str) -> Callable[..., Any]:
    import importlib

    mod, _, func = target.partition(":")
    return getattr(importlib.import_module(mod), func)


def run_warm_call(target: str, kwargs: dict, prepared: Any = None) -> Any:
    """Call ``"module:function"`` with ``kwargs`` (work every report of a batch shares); ``prepared``:
    what the function's ``prepare`` returned in a helper process (:func:`_prepare_in_helper`)."""
    func = _warm_function(target)
    return func(**kwargs) if prepared is None else func(**kwargs, prepared=prepared)


def _prepare_in_helper(target: str, kwargs: dict) -> tuple[int, int] | None:  # pragma: no cover - zygote
    """Start the model work of a warm call in a process forked from the fork server now.

    A warm function may name that work as its ``prepare`` attribute (same arguments, returns a
    picklable state): the fork server then runs it in a child while it imports and warms the rest,
    reads the pickled state from a pipe (:func:`_prepared`) and calls the warm function with it.
    The child is this process's own fork, so what it sends back is trusted like this process's
    memory. Returns ``(pid, read end)``, or None if the function has no ``prepare``.
    """
    prepare = getattr(_warm_function(target), "prepare", None)
    if prepare is None:
        return None
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            data = pickle.dumps(prepare(**kwargs), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(w, "wb") as f:
                f.write(data)
            code = 0
        except BaseException:  # noqa: BLE001 - told to the parent by the exit code, logged here
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(w)
    return pid, r


def _prepared(pid: int, fd: int) -> Any:  # pragma: no cover - zygote
    """The state a :func:`_prepare_in_helper` child sent; raises if the child failed."""
    with os.fdopen(fd, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        raise RuntimeError(f"the helper process failed (wait status {status}; see the fork server's log)")
    return pickle.loads(data)


def _preload_model() -> None:  # pragma: no cover - zygote
    """The compiled model kernel: loaded once here (no threads started), inherited by every kernel
    and by the warm calls' helpers."""
    try:
        from mkba.fastkernel import preload

        preload()
    except Exception:
        pass


def _warm_caches() -> None:  # pragma: no cover - zygote
    """Load data that every report needs once (font list, babel locale data)."""
    try:
        import io

        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(2, 1))
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1])
        ax.set_title("€ 1.000")
        fig.savefig(io.BytesIO(), format="png")
        fig.savefig(io.BytesIO(), format="svg")
    except Exception:
        pass
    try:
        from mkba.formatting import eur, month_label, pct

        for lang in ("nl", "en"):
            eur(1.5, lang), pct(0.5, lang), month_label("2024-01", lang)
    except Exception:
        pass
    try:  # the report message catalogues (mkba.i18n): read and compiled once, inherited by every kernel
        from mkba.i18n import translations

        for lang in ("nl", "en"):
            translations(lang)
    except Exception:
        pass
    try:  # data every report reads: parsed once here, inherited by every forked kernel
        from mkba.cycle import load_cycle_index, scenarios
        from mkba.municipalities import municipalities_table
        from mkba.parameters import load_parameter_set

        load_parameter_set("base"), load_cycle_index(), scenarios(), municipalities_table()
    except Exception:
        pass


def _kernel_child(req: dict, stdin_fd: int) -> None:  # pragma: no cover - forked kernel
    code = 1
    try:
        os.setsid()  # own process group: interrupts/kills reach the kernel and its children
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        log = req.get("log") or os.devnull
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        nul = os.open(os.devnull, os.O_RDONLY)
        os.dup2(nul, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.close(nul)
        if stdin_fd > 2:
            try:
                os.close(stdin_fd)
            except OSError:
                pass
        sys.stdin = open(0, "r", closefd=False)
        sys.stdout = sys.__stdout__ = open(1, "w", buffering=1, closefd=False)
        sys.stderr = sys.__stderr__ = open(2, "w", buffering=1, closefd=False)
        env = req.get("env")
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        os.environ["JPY_PARENT_PID"] = str(os.getppid())  # kernel exits if the zygote dies
        if req.get("cwd"):
            os.chdir(req["cwd"])
        if "numpy" in sys.modules:  # a new process would have a fresh global RNG
            sys.modules["numpy"].random.seed()
        import ipykernel_launcher  # noqa: F401 - only for its path, like a launched kernel
        from ipykernel.kernelapp import IPKernelApp

        argv = list(req["argv"])
        sys.argv = [ipykernel_launcher.__file__, *argv]
        # IPKernelApp reads JPY_PARENT_PID when ipykernel is imported (in the zygote, too
        # early): pass it explicitly so the kernel exits if the zygote goes away
        argv.append(f"--IPKernelApp.parent_handle={os.getppid()}")
        app = IPKernelApp.instance()
        app.initialize(argv)
        bi = sys.modules.get("matplotlib_inline.backend_inline")
        if bi is not None:
            # a fresh kernel wires the inline backend when pyplot first loads it; here it
            # was loaded before the shell existed, so wire it now
            bi._enable_matplotlib_integration()
        app.start()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 0
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        os._exit(code)


# ---------------------------------------------------------------------------
# jupyter_client glue
# ---------------------------------------------------------------------------

class _ForkedProcess:
    """Popen-like handle for a process forked by the zygote (reaped by the zygote)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        self.stdin = self.stdout = self.stderr = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
            except PermissionError:  # pid reused by someone else's process
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.01)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


#: seconds a report client first waits on IOPub for the ``idle`` status of its ``kernel_info``
#: request before asking again (doubling up to :data:`IOPUB_PROBE_MAX_S`). assumption: over the
#: ipc transport the status follows the reply within a few ms; the wait only runs out while a new
#: client's IOPub subscription has not reached the kernel yet, and then asking again is cheap
IOPUB_PROBE_S = 0.02
#: jupyter_client's own wait on IOPub (``KernelClient.wait_for_ready``), the upper bound of the probe
IOPUB_PROBE_MAX_S = 0.2


async def _first(channel: Any, match: Callable[[dict], bool], timeout: float) -> dict | None:
    """Read ``channel`` up to and including the first message ``match`` accepts (those before it
    are dropped); None if none comes within ``timeout`` s."""
    from queue import Empty

    deadline = time.monotonic() + timeout
    while True:
        try:
            msg = await channel.get_msg(timeout=max(0.0, deadline - time.monotonic()))
        except Empty:
            return None
        if match(msg):
            return msg


def _reply_of(msg_id: str) -> Callable[[dict], bool]:
    return lambda msg: msg.get("parent_header", {}).get("msg_id") == msg_id


def _idle_after(msg_id: str) -> Callable[[dict], bool]:
    """The kernel's ``idle`` status for ``msg_id``: once read, everything the kernel published on
    IOPub before it has been read too."""
    return lambda msg: (msg.get("msg_type") == "status" and _reply_of(msg_id)(msg)
                        and msg.get("content", {}).get("execution_state") == "idle")


@functools.lru_cache(maxsize=None)
def _client_class():
    from jupyter_client.asynchronous.client import AsyncKernelClient

    class ReportKernelClient(AsyncKernelClient):
        """jupyter_client's asynchronous client with an exact ``wait_for_ready``.

        jupyter_client's ``wait_for_ready`` checks that the kernel answers ``kernel_info`` on the
        shell channel and that IOPub is connected, then flushes IOPub until it has been silent
        for 0,2 s: every client waits at least 0,2 s, however fast its kernel is (and a report's
        notebook client opens a second one). Measured in a 20-report municipal batch
        (2026-12-03): each of the 40 calls took 0,21-0,50 s. This client makes the same two
        checks without a fixed wait: after the reply it reads IOPub up to the kernel's ``idle``
        status for that very request (so everything published before it has been read: the
        flush), and asks again while the new IOPub subscription has not reached the kernel.
        """

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            probe = IOPUB_PROBE_S
            while True:
                msg_id = self.kernel_info()
                reply = await _first(self.shell_channel, _reply_of(msg_id),
                                     min(1.0, max(0.0, deadline - time.monotonic())))
                if reply is not None:
                    if await _first(self.iopub_channel, _idle_after(msg_id), probe) is not None:
                        self._handle_kernel_info_reply(reply)
                        return
                    probe = min(2 * probe, IOPUB_PROBE_MAX_S)
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")

    return ReportKernelClient


@functools.lru_cache(maxsize=None)
def _manager_classes():
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning.local_provisioner import LocalProvisioner
    from traitlets import default

    class ForkProvisioner(LocalProvisioner):
        forkserver: ForkServer | None = None
        log_path: str | None = None

        async def launch_kernel(self, cmd: list[str], **kwargs: Any):
            fs = self.forkserver
            assert fs is not None
            try:
                i = cmd.index("ipykernel_launcher")
            except ValueError:
                raise ForkServerError(f"not an ipykernel command: {cmd}") from None
            argv = cmd[i + 1:]
            cwd = kwargs.get("cwd")
            pid = await asyncio.get_running_loop().run_in_executor(
                None, lambda: fs.fork(argv, cwd=str(cwd) if cwd else None,
                                      env=kwargs.get("env"), log_path=self.log_path))
            self.process = _ForkedProcess(pid)  # type: ignore[assignment]
            self.pid = pid
            self.pgid = pid
            self.cwd = cwd
            return self.connection_info

    class PoolKernelManager(AsyncKernelManager):
        """AsyncKernelManager that can launch through a fork server."""

        forkserver: ForkServer | None = None
        log_path: str | None = None

        @default("client_factory")
        def _report_client(self) -> type:   # jupyter_client's seam for the client class
            return _client_class()

        async def _async_pre_start_kernel(self, **kw: Any):
            if self.provisioner is None and self.forkserver is not None:
                prov = ForkProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec,
                                       parent=self)
                prov.forkserver = self.forkserver
                prov.log_path = self.log_path
                self.provisioner = prov
            elif self.provisioner is None:
                prov = LocalProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec,
                                        parent=self)
                self.provisioner = prov
            return await super()._async_pre_start_kernel(**kw)

    return PoolKernelManager


@dataclass
class PooledKernel:
    km: Any
    kc: Any
    log_path: str
    started_s: float  # time to start and warm this kernel
    mode: str
    created: float = field(default_factory=time.monotonic)

    def log_tail(self, n: int = 2000) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, 2)
                size = f.tell()
                f.seek(max(0, size - n))
                return f.read().decode(errors="replace")
        except OSError:
            return ""


class KernelPool:
    """``size`` kernels started ahead; each handed out once, then replaced.

    Use inside one asyncio event loop::

        pool = KernelPool(size=3)
        await pool.start()
        k = await pool.acquire()       # PooledKernel (km, kc)
        ...
        await pool.release(k)          # shuts it down (in the background)
        await pool.close()
    """

    def __init__(self, size: int = 2, *, mode: str = "auto",
                 preload: Iterable[str] = DEFAULT_PRELOAD, startup_timeout: float = 60.0,
                 limit: int | None = None, kernel_env: dict[str, str] | None = None,
                 forkserver: "ForkServer | None" = None, warm: Sequence[tuple[str, dict]] = ()):
        self.size = max(1, int(size))
        self.mode = default_mode() if mode == "auto" else mode
        if self.mode not in ("fork", "spawn"):
            raise ValueError(f"kernel mode must be 'auto', 'fork' or 'spawn', got {mode!r}")
        self.preload = list(preload)
        self.warm = [(str(t), dict(kw)) for t, kw in warm]
        self.startup_timeout = startup_timeout
        self.limit = limit  # total kernels this pool will ever start (None = unlimited)
        self.kernel_env = kernel_env
        self.tmpdir = tempfile.mkdtemp(prefix="mkba-kernels-")
        os.chmod(self.tmpdir, 0o700)
        self.forkserver: ForkServer | None = forkserver  # given = shared, not closed here
        self._owns_forkserver = forkserver is None
        self.fork_fallback_reason: str | None = None
        self._queue: asyncio.Queue | None = None
        self._tasks: set[asyncio.Task] = set()
        self._started = 0
        self._context = None
        self._closed = False

    # -- lifecycle -----------------------------------------------------------
    async def start(self) -> None:
        import zmq.asyncio

        self._context = zmq.asyncio.Context()
        self._queue = asyncio.Queue()
        if self.mode == "fork" and self.forkserver is None:
            try:
                self.forkserver = ForkServer(self.preload, cwd=self.tmpdir,
                                             log_path=os.path.join(self.tmpdir, "forkserver.log"),
                                             warm=self.warm).start()
            except Exception as e:  # pragma: no cover
                self._fallback(f"cannot start fork server: {e}")
        for _ in range(self.size):
            self._spawn_one()

    async def wait_forkserver(self) -> None:
        if self.forkserver is not None:
            loop = asyncio.get_running_loop()
            try:
                await loop.run_in_executor(None, self.forkserver.wait_ready, 120.0)
            except Exception as e:
                self._fallback(f"fork server failed: {e}")

    def _fallback(self, reason: str) -> None:
        self.fork_fallback_reason = reason
        self.mode = "spawn"
        if self.forkserver is not None:
            if self._owns_forkserver:
                self.forkserver.close()
            self.forkserver = None

    def _spawn_one(self) -> None:
        if self._closed or (self.limit is not None and self._started >= self.limit):
            return
        self._started += 1
        task = asyncio.ensure_future(self._start_kernel())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _start_kernel(self) -> None:
        assert self._queue is not None
        try:
            try:
                k = await self._new_kernel()
            except ForkServerError as e:
                # the fork server is gone (killed, out of memory): carry on with plain kernels
                self._fallback(f"fork server failed: {e}")
                k = await self._new_kernel()
        except BaseException as e:  # hand the error to whoever acquires next
            await self._queue.put(e)
            return
        await self._queue.put(k)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ if self.kernel_env is None else self.kernel_env)
        # figures must go to the notebook: never let an inherited MPLBACKEND=Agg hide them
        env["MPLBACKEND"] = INLINE_BACKEND
        env.pop("PYDEVD_USE_FRAME_EVAL", None)
        return env

    async def _new_kernel(self) -> PooledKernel:
        t0 = time.perf_counter()
        if self.mode == "fork":
            await self.wait_forkserver()
        mode = self.mode
        PoolKernelManager = _manager_classes()
        kid = uuid.uuid4().hex[:12]
        km = PoolKernelManager(kernel_name="python3", kernel_spec_manager=_spec_manager(),
                               transport="ipc", ip=os.path.join(self.tmpdir, f"k{kid}"),
                               connection_file=os.path.join(self.tmpdir, f"kernel-{kid}.json"),
                               context=self._context, kernel_id=kid)
        km.log_path = os.path.join(self.tmpdir, f"kernel-{kid}.log")
        km.forkserver = self.forkserver if mode == "fork" else None
        # cwd: a neutral directory; the renderer changes into the job's directory before running
        kwargs: dict[str, Any] = {"cwd": self.tmpdir, "env": self._env(),
                                  "extra_arguments": list(KERNEL_OPTIONS)}
        log = None
        if mode == "spawn":
            log = open(km.log_path, "ab")
            kwargs.update(stdout=log, stderr=log)
        try:
            await km.start_kernel(**kwargs)
            kc = km.client()
            kc.start_channels()
            await kc.wait_for_ready(timeout=self.startup_timeout)
            if mode == "spawn" and self.preload:
                code = "\n".join(f"try:\n    import {m}\nexcept Exception:\n    pass"
                                 for m in self.preload)
                await execute_silent(kc, code, timeout=self.startup_timeout)
            for target, kw in self.warm if mode == "spawn" else ():
                await execute_silent(kc, f"import mkba.kernels as _k; _k.run_warm_call({target!r}, {kw!r})",
                                     timeout=self.startup_timeout)
        except BaseException:
            try:
                await km.shutdown_kernel(now=True)
            except Exception:
                pass
            raise
        finally:
            if log is not None:
                log.close()
        return PooledKernel(km=km, kc=kc, log_path=km.log_path,
                            started_s=time.perf_counter() - t0, mode=mode)

    async def acquire(self) -> PooledKernel:
        """A started, warm kernel used by nobody before; a replacement starts in the background."""
        assert self._queue is not None, "call start() first"
        if self._queue.empty() and not self._tasks:
            self._spawn_one()
        item = await self._queue.get()
        self._spawn_one()
        if isinstance(item, BaseException):
            raise item
        return item

    async def release(self, k: PooledKernel, *, now: bool = False) -> None:
        """Shut the kernel down (it is never handed out again)."""
        try:
            k.kc.stop_channels()
        except Exception:
            pass
        try:
            await k.km.shutdown_kernel(now=now)
        except Exception:
            try:
                await k.km.shutdown_kernel(now=True)
            except Exception:
                pass
        for p in (k.log_path,):
            try:
                os.unlink(p)
            except OSError:
                pass

    def release_soon(self, k: PooledKernel, *, now: bool = False) -> None:
        task = asyncio.ensure_future(self.release(k, now=now))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        self._closed = True
        # wait for kernels being started / shut down, then shut down the unused ones
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._queue is not None:
            leftovers = []
            while not self._queue.empty():
                item = self._queue.get_nowait()
                if isinstance(item, PooledKernel):
                    leftovers.append(self.release(item, now=True))
            if leftovers:
                await asyncio.gather(*leftovers, return_exceptions=True)
        if self.forkserver is not None and self._owns_forkserver:
            fs, self.forkserver = self.forkserver, None
            await asyncio.get_running_loop().run_in_executor(None, fs.close)
        if self._context is not None:
            self._context.destroy(linger=0)
            self._context = None
        shutil.rmtree(self.tmpdir, ignore_errors=True)


async def execute_silent(kc: Any, code: str, *, timeout: float = 60.0) -> dict:
    """Run ``code`` without output, history or execution count; raise on error."""
    msg_id = kc.execute(code, silent=True, store_history=False, allow_stdin=False)
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"kernel did not answer within {timeout:.0f} s")
        reply = await kc.get_shell_msg(timeout=remaining)
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            break
    content = reply["content"]
    if content.get("status") != "ok":
        raise RuntimeError(f"{content.get('ename')}: {content.get('evalue')}")
    return content

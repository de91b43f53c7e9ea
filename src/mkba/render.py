"""Batch rendering of parametrised notebooks into self-contained reports.

The CLI (``mkba render``) is a thin layer over three functions::

    from mkba.render import RenderJob, validate_jobs, render_batch

    jobs = [RenderJob(name="fip_sittard_geleen", notebook=Path("notebooks/business_case.ipynb"),
                      parameters={"case": "fip_sittard_geleen"}, title="FIP Sittard-Geleen",
                      extra={"assumptions_hash": "..."})]
    validate_jobs(jobs, out_dir="reports")          # InputError before any kernel starts
    result = render_batch(jobs, "reports", workers=2, resume=True)
    raise SystemExit(result.exit_code)              # 1 if any report failed

What happens per report (each in its own, fresh kernel):

1. ``papermill.execute_notebook`` parameterises the notebook (papermill's own
   injected cell and ``papermill`` metadata) and runs it on the ``mkba``
   papermill engine (:mod:`mkba.pm_engine`): a kernel from
   :class:`mkba.kernels.KernelPool` (forked ahead, imports done, used for this
   report only, then shut down), in the notebook's directory (``RenderJob.cwd``
   to override); a report running longer than ``timeout`` is stopped;
2. the executed notebook is written to ``OUT/notebooks/STEM.ipynb``; the key
   figures (:func:`mkba.reporting.emit_key_figures`) are read from it;
3. HTML (``OUT/STEM.html``) is exported with code hidden, images embedded as
   data URIs and no external scripts (no require.js / MathJax / CDN), so the
   report opens offline; optionally a PDF (WeasyPrint);
4. ``OUT/manifest.json`` and ``OUT/index.html`` are updated (atomically) after
   every report, so an interrupted batch still has a correct manifest.

A failing report is recorded (status ``failed``, error summary, the executed
notebook with the traceback in ``OUT/failed/STEM.ipynb``); its previous good
HTML is left in place and the batch goes on.
"""
from __future__ import annotations

import ast
import json
import math
import numbers
import os
import re
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from mkba.errors import InputError, closest, did_you_mean

__all__ = [
    "RenderJob", "BatchResult", "NonLiteral", "notebook_parameters", "resolve_notebook",
    "validate_jobs", "check_out_dir", "render_batch", "parameter_cell_source", "RENDER_VERSION",
]

#: bump when the output of the renderer changes, so ``--resume`` re-renders everything
RENDER_VERSION = "1"

_STEM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$")
_RESERVED_STEMS = {"index", "manifest", "notebooks", "failed"}
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# ---------------------------------------------------------------------------
# jobs and results
# ---------------------------------------------------------------------------

@dataclass
class RenderJob:
    """One report: a notebook and the parameters to inject.

    ``output_stem`` names the files (``STEM.html``, ``STEM.pdf``; default: ``name``).
    ``extra`` is stored in the manifest; ``extra["assumptions_hash"]`` is used as
    the report's assumptions hash.  ``cwd`` is the kernel's working directory
    (default: the notebook's directory, as in Jupyter).
    """

    name: str
    notebook: Path
    parameters: dict = field(default_factory=dict)
    output_stem: str = ""
    title: str = ""
    extra: dict = field(default_factory=dict)
    cwd: Path | None = None
    #: ``[("module:function", kwargs)]`` run once in the kernels' fork server before any kernel
    #: is forked: work the batch's reports share (e.g. the model for all municipalities); it must
    #: not change any report's figures, only how fast they come
    warm: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.notebook = Path(self.notebook)
        if not self.output_stem:
            self.output_stem = self.name
        if self.cwd is not None:
            self.cwd = Path(self.cwd)


@dataclass
class BatchResult:
    """What :func:`render_batch` did. ``entries`` are the manifest entries of this batch."""

    entries: list[dict]
    out_dir: Path
    manifest_path: Path
    index_path: Path
    duration_s: float
    kernel_mode: str = ""
    notes: list[str] = field(default_factory=list)

    def _names(self, status: str) -> list[str]:
        return [e["name"] for e in self.entries if e.get("status") == status]

    @property
    def ok(self) -> list[str]:
        return self._names("ok")

    @property
    def failed(self) -> list[str]:
        return self._names("failed")

    @property
    def skipped(self) -> list[str]:
        return self._names("skipped")

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def entry(self, name: str) -> dict:
        for e in self.entries:
            if e["name"] == name:
                return e
        raise KeyError(name)


# ---------------------------------------------------------------------------
# the parameters cell
# ---------------------------------------------------------------------------

class NonLiteral:
    """A default in the parameters cell that is not a literal (e.g. ``np.nan``): any type is accepted."""

    def __init__(self, source: str):
        self.source = source

    def __repr__(self) -> str:
        return f"NonLiteral({self.source!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NonLiteral) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)


def _read_notebook_json(path: Path) -> dict:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError("notebook not found", file=str(path),
                         fix=_notebook_hint(path)) from None
    except OSError as e:
        raise InputError(f"notebook cannot be read ({e.strerror})", file=str(path)) from None
    return _parse_notebook_bytes(raw, path)


def _parse_notebook_bytes(raw: bytes, path: Path) -> dict:
    try:
        nb = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise InputError(f"not a Jupyter notebook (invalid JSON: {e})", file=str(path),
                         fix="open and save it in Jupyter, or check the path") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells", None), list):
        if isinstance(nb, dict) and "worksheets" in nb:  # nbformat 3
            return nb
        raise InputError("not a Jupyter notebook (no 'cells')", file=str(path),
                         fix="give an .ipynb file saved by Jupyter")
    return nb


def _cells(nb: Mapping) -> list:
    if "cells" in nb:
        return nb["cells"]
    return [c for ws in nb.get("worksheets", []) for c in ws.get("cells", [])]


def _source(cell: Mapping) -> str:
    src = cell.get("source", cell.get("input", ""))
    return "".join(src) if isinstance(src, list) else str(src)


def _tags(cell: Mapping) -> list:
    return list((cell.get("metadata") or {}).get("tags") or [])


def parameter_cell_source(nb: Mapping) -> str | None:
    """Source of the first cell tagged ``parameters`` (None if there is none)."""
    for cell in _cells(nb):
        if "parameters" in _tags(cell):
            return _source(cell)
    return None


def notebook_defaults(path: str | os.PathLike) -> dict[str, Any]:
    """The literal defaults of a notebook's ``parameters`` cell (``{}`` without one)."""
    path = Path(path)
    src = parameter_cell_source(_read_notebook_json(path))
    if src is None:
        return {}
    return {k: v for k, v in parse_parameter_cell(src, path).items() if not isinstance(v, NonLiteral)}


def parse_parameter_cell(source: str, path: str | os.PathLike) -> dict[str, Any]:
    # IPython magics / shell lines cannot be parsed; blank them out
    lines = ["" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError as e:
        raise InputError(f"the 'parameters' cell is not valid Python (line {e.lineno}: {e.msg})",
                         file=str(path), fix="fix the cell tagged 'parameters' in the notebook") from None
    out: dict[str, Any] = {}

    def value_of(node: ast.AST) -> Any:
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return NonLiteral(ast.get_source_segment("\n".join(lines), node) or ast.dump(node))

    def assign(target: ast.AST, value: ast.AST | None) -> None:
        if isinstance(target, ast.Name):
            out[target.id] = value_of(value) if value is not None else NonLiteral("")
        elif isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                for t, v in zip(target.elts, value.elts):
                    assign(t, v)
            else:
                for t in target.elts:
                    assign(t, None)

    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                assign(target, node.value)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            assign(node.target, node.value)
    return out


def notebook_parameters(path: str | os.PathLike) -> dict[str, Any]:
    """Parameters and their defaults from the notebook's ``parameters`` cell.

    Parsed with :mod:`ast` (never executed): literal defaults come back as
    Python values, anything else (``np.nan``, ``date.today()``) as
    :class:`NonLiteral`.  A notebook without a ``parameters`` cell gives ``{}``.
    """
    path = Path(path)
    src = parameter_cell_source(_read_notebook_json(path))
    return {} if src is None else parse_parameter_cell(src, path)


def _notebook_hint(path: Path) -> str:
    d = path.parent if str(path.parent) else Path(".")
    try:
        names = sorted(p.name for p in d.glob("*.ipynb"))
    except OSError:
        names = []
    hits = closest(path.name, names)
    if hits:
        return "did you mean " + " or ".join(f"'{d / h}'" for h in hits) + "?"
    if names:
        return f"notebooks in {d}: " + ", ".join(names[:12])
    return f"no notebooks in {d}; check the path"


def resolve_notebook(name: str | os.PathLike, notebooks_dir: str | os.PathLike = "notebooks") -> Path:
    """``--notebook NAME`` -> path: an existing path, or ``NAME[.ipynb]`` in ``notebooks_dir``."""
    p = Path(name)
    if p.suffix == ".ipynb" and p.exists():
        return p
    d = Path(notebooks_dir)
    for cand in (d / p, d / f"{p}.ipynb", p.with_suffix(".ipynb")):
        if cand.is_file():
            return cand
    names = sorted(q.stem for q in d.glob("*.ipynb")) if d.is_dir() else []
    raise InputError("unknown notebook", field="notebook", value=str(name),
                     fix=(did_you_mean(p.stem, names) if closest(p.stem, names) else
                          (f"available notebooks in {d}: {', '.join(names)}" if names else
                           f"no notebooks found in {d}")))


# ---------------------------------------------------------------------------
# parameter values
# ---------------------------------------------------------------------------

_TYPE_NAMES = {bool: "true/false (bool)", int: "whole number (int)", float: "number (float)",
               str: "text (str)", list: "list", dict: "mapping (dict)"}


def _plain(value: Any, path: Path, name: str) -> Any:
    """Plain JSON-like Python value (numpy scalars -> Python, tuples -> lists) or InputError."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # numpy 0-d / scalar
        return _plain(value.item(), path, name)
    if isinstance(value, (list, tuple)):
        return [_plain(v, path, name) for v in value]
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise InputError("a mapping parameter must have text keys", file=str(path),
                                 field=name, value=value, fix="use strings as keys")
            out[k] = _plain(v, path, name)
        return out
    raise InputError(f"a {type(value).__name__} cannot be passed to a notebook", file=str(path),
                     field=name, value=value,
                     fix="pass None, true/false, numbers, text, lists or mappings of those")


def _check_type(name: str, default: Any, value: Any, path: Path) -> None:
    if isinstance(default, NonLiteral) or default is None:
        return
    if isinstance(default, bool):
        ok, expected = isinstance(value, bool), bool
    elif isinstance(default, int):
        ok, expected = isinstance(value, int) and not isinstance(value, bool), int
    elif isinstance(default, float):
        ok, expected = isinstance(value, (int, float)) and not isinstance(value, bool), float
    elif isinstance(default, str):
        ok, expected = isinstance(value, str), str
    elif isinstance(default, (list, tuple)):
        ok, expected = isinstance(value, list), list
    elif isinstance(default, dict):
        ok, expected = isinstance(value, dict), dict
    else:  # complex, bytes, set ... : no check
        return
    if value is None:
        ok = False
    if not ok:
        got = "None" if value is None else type(value).__name__
        fix = f"give a {_TYPE_NAMES[expected]}; the notebook's default is {default!r}"
        if expected is int and isinstance(value, float) and float(value).is_integer():
            fix = f"write {int(value)} instead of {value!r}"
        raise InputError(f"parameter has the wrong type: expected {_TYPE_NAMES[expected]}, got {got}",
                         file=str(path), field=name, value=value, fix=fix)


def check_parameters(params: Mapping[str, Any], defaults: Mapping[str, Any] | None,
                     path: str | os.PathLike) -> dict:
    """Check ``params`` against the notebook's ``parameters`` cell; the plain values, or InputError.

    ``defaults`` is what :func:`parse_parameter_cell` found (None: the notebook has
    no cell tagged ``parameters``).  Used by ``mkba render`` and by the papermill
    engine (``--engine mkba``), before any kernel starts.
    """
    path = Path(path)
    params = dict(params or {})
    if params and defaults is None:
        first = next(iter(params))
        raise InputError("the notebook has no cell tagged 'parameters', so it takes no parameters",
                         file=str(path), field=first, value=params[first],
                         fix="tag the cell with the defaults as 'parameters' "
                             "(View > Cell Toolbar > Tags) or pass no parameters")
    defaults = defaults or {}
    for name, value in list(params.items()):
        if not isinstance(name, str) or not name.isidentifier():
            raise InputError("not a valid parameter name", file=str(path), field=str(name))
        if name not in defaults:
            hint = did_you_mean(name, defaults) if closest(name, defaults) else ""
            known = ", ".join(defaults) or "(none)"
            raise InputError("unknown parameter (not in the notebook's 'parameters' cell)",
                             file=str(path), field=name, value=value,
                             fix=(hint + " " if hint else "") + f"the notebook's parameters are: {known}")
        value = _plain(value, path, name)
        _check_type(name, defaults[name], value, path)
        params[name] = value
    return params


# ---------------------------------------------------------------------------
# validation (no kernel, no side effects)
# ---------------------------------------------------------------------------

@dataclass
class _Prepared:
    job: RenderJob
    raw: bytes
    nb: dict
    parameters: dict
    defaults: dict
    cwd: Path
    title: str


def check_out_dir(out_dir: str | os.PathLike) -> Path:
    """InputError if ``out_dir`` cannot be created or written (nothing is created here)."""
    out = Path(out_dir)
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise InputError("output path is not a directory", file=str(probe),
                         fix="give a directory with --out")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError("output directory cannot be written", file=str(out),
                         fix=f"choose another --out directory or fix the permissions of {probe}")
    if probe == out:
        # access() can lie (read-only mounts, ACLs): try a real file
        try:
            fd, tmp = tempfile.mkstemp(prefix=".mkba-write-test-", dir=out)
            os.close(fd)
            os.unlink(tmp)
        except OSError as e:
            raise InputError(f"output directory cannot be written ({e.strerror})", file=str(out),
                             fix="choose another --out directory or fix its permissions") from None
        for sub in ("notebooks", "failed"):
            s = out / sub
            if s.exists() and (not s.is_dir() or not os.access(s, os.W_OK | os.X_OK)):
                raise InputError("output sub-directory cannot be written", file=str(s),
                                 fix="fix its permissions or remove it")
    return out


def _prepare(jobs: Sequence[RenderJob], lang: str, inject_lang: bool = True) -> list[_Prepared]:
    from mkba.formatting import check_lang

    check_lang(lang)
    jobs = list(jobs)
    seen_names: dict[str, RenderJob] = {}
    seen_stems: dict[str, RenderJob] = {}
    prepared = []
    cache: dict[Path, tuple[bytes, dict, bool, dict]] = {}
    for job in jobs:
        if not isinstance(job, RenderJob):
            raise TypeError(f"expected RenderJob, got {type(job).__name__}")
        if not job.name or not isinstance(job.name, str):
            raise InputError("a report needs a name", field="name", value=job.name)
        if job.name in seen_names:
            raise InputError("two reports have the same name", field="name", value=job.name,
                             fix="give every report a unique name")
        seen_names[job.name] = job
        stem = job.output_stem
        if not _STEM_RE.match(stem) or stem.lower() in _RESERVED_STEMS:
            raise InputError("not a usable output file name", field="output_stem", value=stem,
                             fix="use letters, digits, '.', '_' or '-', not starting with '.', "
                                 "and not index/manifest/notebooks/failed")
        if stem.lower() in seen_stems:
            raise InputError("two reports would write the same file", field="output_stem",
                             value=stem, fix=f"'{seen_stems[stem.lower()].name}' and '{job.name}' "
                                             "need different output stems")
        seen_stems[stem.lower()] = job

        path = job.notebook
        if path.suffix != ".ipynb":
            raise InputError("not a notebook file (expected .ipynb)", file=str(path),
                             fix=_notebook_hint(path))
        key = path.resolve()
        if key not in cache:
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                raise InputError("notebook not found", file=str(path),
                                 fix=_notebook_hint(path)) from None
            except OSError as e:
                raise InputError(f"notebook cannot be read ({e.strerror})", file=str(path)) from None
            nb = _parse_notebook_bytes(raw, path)
            lang_name = ((nb.get("metadata") or {}).get("kernelspec") or {}).get("language") or \
                ((nb.get("metadata") or {}).get("language_info") or {}).get("name") or "python"
            if str(lang_name).lower() != "python":
                raise InputError("only Python notebooks can be rendered", file=str(path),
                                 field="metadata.kernelspec.language", value=lang_name)
            src = parameter_cell_source(nb)
            defaults = {} if src is None else parse_parameter_cell(src, path)
            cache[key] = (raw, nb, src is not None, defaults)
        raw, nb, has_cell, defaults = cache[key]

        if job.parameters is not None and not isinstance(job.parameters, Mapping):
            raise InputError("parameters must be a mapping of name -> value", field="parameters",
                             value=job.parameters)
        params = check_parameters(job.parameters or {}, defaults if has_cell else None, path)
        if inject_lang and "lang" in defaults and "lang" not in params and \
                isinstance(defaults["lang"], (str, NonLiteral)) and defaults["lang"] != lang:
            params["lang"] = lang
        cwd = job.cwd if job.cwd is not None else path.resolve().parent
        if not Path(cwd).is_dir():
            raise InputError("working directory does not exist", field="cwd", value=str(cwd))
        prepared.append(_Prepared(job=job, raw=raw, nb=nb, parameters=params, defaults=defaults,
                                  cwd=Path(cwd).resolve(), title=job.title or job.name))
    return prepared


def validate_jobs(jobs: Sequence[RenderJob], out_dir: str | os.PathLike | None = None, *,
                  lang: str = "nl", pdf: bool = False, dask_address: str | None = None,
                  workers: int = 1) -> None:
    """Check everything that can be checked without a kernel; raise :class:`InputError`.

    Unknown or missing notebook, a notebook without a ``parameters`` cell given
    parameters, an unknown (mistyped) parameter, a value of the wrong type,
    duplicate names/output files, an output directory that cannot be written,
    ``pdf`` without WeasyPrint, ``dask_address`` without dask.distributed.
    """
    _check_options(workers=workers, pdf=pdf, dask_address=dask_address)
    _prepare(jobs, lang)
    if out_dir is not None:
        check_out_dir(out_dir)


def _check_options(*, workers: int, pdf: bool, dask_address: str | None) -> None:
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise InputError("workers must be a whole number of at least 1", field="workers",
                         value=workers, fix="e.g. --workers 2")
    if pdf:
        _check_weasyprint()
    if dask_address is not None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise InputError("--dask needs dask.distributed, which is not installed",
                             field="dask", value=dask_address,
                             fix="pip install 'mkba[dask]'") from None


_WEASYPRINT_OK: bool | None = None


def _check_weasyprint() -> None:
    global _WEASYPRINT_OK
    if _WEASYPRINT_OK:
        return
    try:
        import weasyprint  # noqa: F401
    except ImportError:
        raise InputError("PDF output needs WeasyPrint, which is not installed", field="pdf",
                         fix="pip install 'mkba[pdf]' (WeasyPrint also needs the Pango library), "
                             "or leave out --pdf") from None
    except OSError as e:  # missing system libraries (pango, gobject)
        raise InputError(f"WeasyPrint cannot load its system libraries ({e})", field="pdf",
                         fix="install Pango (e.g. apt-get install libpango-1.0-0 libpangoft2-1.0-0) "
                             "or leave out --pdf") from None
    _WEASYPRINT_OK = True


# ---------------------------------------------------------------------------
# running one report: papermill.execute_notebook on the mkba engine
# ---------------------------------------------------------------------------

def _error_dict(ename: str, evalue: str, index: int | None, exec_count: Any, tb: list[str]) -> dict:
    where = f" (cell In [{exec_count}])" if exec_count is not None else (
        f" (cell {index})" if index is not None else "")
    text = "\n".join(_ANSI_RE.sub("", str(line)) for line in tb)
    lines = text.splitlines()
    return {"type": ename, "message": evalue, "cell_index": index, "execution_count": exec_count,
            "summary": f"{ename}: {(str(evalue).strip().splitlines() or [''])[0]}{where}".strip(),
            "traceback": "\n".join(lines[-40:])}


def _error_from_exception(e: BaseException) -> dict:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(e, PapermillExecutionError):
        return _error_dict(e.ename, e.evalue, e.cell_index, e.exec_count, list(e.traceback or []))
    return _error_dict(type(e).__name__, str(e), None, None,
                       traceback.format_exception_only(type(e), e))


def run_report(notebook: str | os.PathLike, parameters: Mapping[str, Any], *, cwd: str | os.PathLike,
               kernels: Any = None, timeout: float | None = None,
               output_path: str | None = None) -> tuple[Any, dict | None, dict]:
    """Execute one notebook with ``papermill.execute_notebook`` on the ``mkba`` engine.

    Returns ``(executed notebook or None, error dict or None, timings)``; never
    raises for a failing notebook (the notebook then carries papermill's error
    markers).  ``kernels``: a :class:`mkba.pm_engine.KernelSource` to share warm
    kernels between reports.
    """
    import papermill as pm

    run: dict[str, Any] = {}
    try:
        nb = pm.execute_notebook(str(notebook), output_path, parameters=dict(parameters),
                                 engine_name="mkba", progress_bar=False,
                                 request_save_on_cell_execute=False, mkba_kernels=kernels,
                                 mkba_cwd=str(cwd), mkba_report_timeout=timeout, mkba_run=run)
        return nb, None, run.get("timings", {})
    except InputError:
        raise
    except Exception as e:  # failing cell, dead kernel, timeout
        return run.get("nb"), _error_from_exception(e), run.get("timings", {})


# ---------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------

_TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{#- mkba: the lab template without anything loaded from the network -#}
{%- block html_head_js -%}<link rel="icon" href="data:,">{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block notebook_css %}{% if resources.mkba_css_href %}<link rel="stylesheet" type="text/css" href="{{ resources.mkba_css_href }}">{% else %}{{ super() }}{% endif %}{% endblock notebook_css %}
{% block extra_css %}
<style type="text/css">
body.jp-Notebook { max-width: 60rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
.jp-Cell { padding: 0; }
.jp-OutputArea-output table { font-variant-numeric: tabular-nums; }
.jp-OutputArea-output td, .jp-OutputArea-output th { white-space: nowrap; }
.jp-RenderedImage img, .jp-RenderedSVG img { max-width: 100%; height: auto; }
.jp-InputPrompt, .jp-OutputPrompt { display: none; }
@media print { body.jp-Notebook { max-width: none; padding: 0; } }
</style>
{% endblock extra_css %}
"""
_TEMPLATE = __import__("mkba.report_style").report_style.template(_TEMPLATE)  # report CSS and figure alt texts

#: renders only the CSS the report template embeds (for the shared CSS file)
_CSS_TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block header -%}{{ self.notebook_css() }}{%- endblock header -%}
{%- block body_header -%}{%- endblock body_header -%}
{%- block body_loop -%}{%- endblock body_loop -%}
{%- block body_footer -%}{%- endblock body_footer -%}
{%- block footer -%}{%- endblock footer -%}
"""

#: the report CSS shared by every report in an output folder (instead of ~264 KB in each file)
REPORT_CSS_NAME = "mkba-report.css"

_EXTERNAL_RE = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>.*?</script\s*>"
    r"|<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//[^>]*>"
    r"|<(?:iframe|embed|object)\b[^>]*\b(?:src|data)\s*=\s*[\"']?(?:https?:)?//[^>]*>",
    re.IGNORECASE | re.DOTALL)
_EXTERNAL_IMG_RE = re.compile(r"(<img\b[^>]*\bsrc\s*=\s*)([\"'])(?:https?:)?//[^\"']*\2",
                              re.IGNORECASE)
_DROP_MIMETYPES = ("application/javascript", "application/vnd.jupyter.widget-view+json",
                   "text/vnd.mermaid")

_exporters = threading.local()

#: nbconvert's default alt text for an image that has none (``HTMLExporter.from_notebook_node``)
_DEFAULT_ALT = "No description has been provided for this image"
_IMG_WITHOUT_ALT_RE = re.compile(r"<img\b(?![^>]*\balt\s*=)", re.IGNORECASE)
_OUTPUT_DIV_RE = re.compile(r'<div class="([^"]*\bjp-OutputArea-output\b[^"]*)"(?![^>]*\btabindex)')


def _accessible(html: str) -> str:
    """What nbconvert's HTMLExporter adds to a finished page, by pattern: an alt text on every
    image without one, and ``tabindex="0"`` on output areas (keyboard focus; reports show no
    input areas, the exporter excludes them)."""
    html = _IMG_WITHOUT_ALT_RE.sub(f'<img alt="{_DEFAULT_ALT}"', html)
    return _OUTPUT_DIV_RE.sub(r'<div class="\1" tabindex="0"', html)


_REPORT_EXPORTER: list = []


def _report_exporter_class():
    """nbconvert's ``HTMLExporter`` without its second pass over the finished page.

    ``HTMLExporter.from_notebook_node`` renders the template, then parses the whole page with
    BeautifulSoup only to add default alt texts and ``tabindex`` attributes, and serialises it
    again: 0,145 s of a municipal report's 0,17 s export (cProfile, 2026-12-02). The report
    template gives every figure its own alt text; :func:`_accessible` adds the two attributes by
    pattern. Everything else is nbconvert's own code path (filters, resources, template).
    """
    if _REPORT_EXPORTER:
        return _REPORT_EXPORTER[0]
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return _accessible(html), resources

    _REPORT_EXPORTER.append(ReportExporter)
    return ReportExporter


def _exporter(lang: str):
    ex = getattr(_exporters, lang, None)
    if ex is None:
        from jinja2 import DictLoader
        from traitlets.config import Config

        c = Config()
        c.TagRemovePreprocessor.enabled = True
        c.TagRemovePreprocessor.remove_cell_tags = {"remove-cell", "remove_cell", "parameters",
                                                    "injected-parameters"}
        c.TagRemovePreprocessor.remove_input_tags = {"remove-input", "remove_input"}
        c.TagRemovePreprocessor.remove_all_outputs_tags = {"remove-output", "remove_output"}
        ex = _report_exporter_class()(config=c, template_name="lab",
                          extra_loaders=[DictLoader({"mkba_report.html.j2": _TEMPLATE,
                                                     "mkba_css.html.j2": _CSS_TEMPLATE})],
                          template_file="mkba_report.html.j2", exclude_input=True,
                          exclude_input_prompt=True, exclude_output_prompt=True,
                          embed_images=True, language_code=lang)
        import logging

        ex.log.setLevel(logging.ERROR)  # "alternative text missing", unknown mimetype chatter
        setattr(_exporters, lang, ex)
    return ex


def report_css(lang: str = "nl") -> str:
    """The CSS the report template would embed (nbconvert's lab theme), as one stylesheet."""
    import nbformat
    from nbconvert import HTMLExporter

    ex = _exporter(lang)
    css_ex = HTMLExporter(config=ex.config, template_name="lab", extra_loaders=ex.extra_loaders,
                          template_file="mkba_css.html.j2")
    body, _ = css_ex.from_notebook_node(nbformat.v4.new_notebook(), resources={"metadata": {"name": "css"}})
    parts = re.findall(r"<style[^>]*>(.*?)</style\s*>", body, flags=re.DOTALL | re.IGNORECASE)
    return "\n".join(p.strip() for p in parts) + "\n"


def export_html(nb, *, title: str, lang: str = "nl", path: str | None = None,
                css_href: str | None = None) -> tuple[str, list[str]]:
    """HTML of an executed notebook (input hidden). Returns (html, warnings).

    ``css_href``: link this stylesheet (relative, e.g. :data:`REPORT_CSS_NAME` next to the
    report, written by :func:`report_css`) instead of embedding the theme CSS.

    Key-figure outputs and JavaScript/widget outputs are dropped; anything that
    would still load from the network is removed (and reported in warnings).
    """
    import warnings as _w

    from mkba.reporting import strip_key_figures

    strip_key_figures(nb)
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data and any(m in data for m in _DROP_MIMETYPES):
                for m in _DROP_MIMETYPES:
                    data.pop(m, None)
    nb.metadata.pop("widgets", None)
    nb.metadata["title"] = title
    with _w.catch_warnings():
        _w.simplefilter("ignore")
        body, _ = _exporter(lang).from_notebook_node(
            nb, resources={"metadata": {"name": title, "path": path or os.getcwd()},
                           "mkba_css_href": css_href})
    notes = []
    n_ext = len(_EXTERNAL_RE.findall(body))
    if n_ext:
        body = _EXTERNAL_RE.sub("", body)
        notes.append(f"removed {n_ext} external script/link/frame reference(s)")
    n_img = len(_EXTERNAL_IMG_RE.findall(body))
    if n_img:
        body = _EXTERNAL_IMG_RE.sub(r'\1\2\2 data-mkba-removed="external image"', body)
        notes.append(f"removed {n_img} external image(s); put images next to the notebook instead")
    return body, notes


def html_to_pdf(html: str, base_url: str | None = None) -> bytes:
    """PDF from report HTML with WeasyPrint (optional extra ``mkba[pdf]``)."""
    _check_weasyprint()
    import logging

    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return weasyprint.HTML(string=html, base_url=base_url).write_pdf()


#: jsonschema's optional checker of the "iri" formats: built from a Lark grammar when imported
#: (1,2 s CPU per process on this machine, 2026-12-02; python-jsonschema/jsonschema#1428); no
#: notebook schema uses those formats
_IRI_CHECKER_MODULE = "rfc3987_syntax"


def without_iri_format_checker() -> bool:
    """In a process of mkba's own (the CLI, export and PDF workers): let jsonschema, which nbformat
    imports, start without its optional IRI format checker (:data:`_IRI_CHECKER_MODULE`).

    jsonschema imports that module only if it can (``with suppress(ImportError)``); marking it as
    absent in ``sys.modules`` takes that path. Nothing changes once jsonschema is imported, or in
    a process that imports mkba as a library. Returns whether the checker was left out.
    """
    if "jsonschema" in sys.modules or _IRI_CHECKER_MODULE in sys.modules:
        return False
    sys.modules[_IRI_CHECKER_MODULE] = None  # type: ignore[assignment]
    return True


def _pdf_worker_main(kind: str = "pdf", lang: str = "nl") -> None:  # pragma: no cover - worker process
    """PDF or HTML-export worker: length-prefixed requests on stdin, ``status + length + bytes`` on stdout.

    ``pdf``: the request body is report HTML, the answer the PDF. ``html``: the body is an executed
    notebook's JSON, the answer JSON ``{html, key_figures, notes}`` (:func:`_export_and_serialize`).
    """
    import struct

    without_iri_format_checker()
    out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing but the protocol goes to the parent
    inp = sys.stdin.buffer
    try:
        if kind == "pdf":
            _check_weasyprint()
            import weasyprint  # noqa: F401 - import now, while kernels run
        else:
            _warm_exporter(lang)
    except Exception:
        pass
    while True:
        hdr = inp.read(8)
        if len(hdr) < 8:
            break
        n_meta, n_body = struct.unpack(">II", hdr)
        meta = json.loads(inp.read(n_meta))
        body = inp.read(n_body).decode("utf-8")
        try:
            if kind == "pdf":
                data = html_to_pdf(body, meta.get("base_url"))
            else:
                import nbformat

                _json, html, kf, notes = _export_and_serialize(nbformat.reads(body, as_version=4), meta["title"],
                                                               meta["lang"], meta["path"], meta.get("css_href"))
                data = json.dumps({"html": html, "key_figures": kf, "notes": notes}).encode("utf-8")
            status = 0
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            data, status = f"{type(e).__name__}: {e}".encode(), 1
        out.write(bytes([status]) + struct.pack(">I", len(data)) + data)
        out.flush()


#: reports rendered at once per CPU core (plus one), see :func:`default_workers`
WORKERS_PER_CORE = 2


def default_workers() -> int:
    """Reports rendered at once by default: two per CPU core, plus one. Each report waits on a round
    trip between its notebook client and its kernel after every cell, and the batch process serves
    every report's client; more reports in flight fill those gaps. 342 municipal reports on 2 cores
    (2026-12-03, interleaved): 56,2 and 56,5 s with 3 workers, 50,8, 50,2 and 47,8 s with 5, 50,2 s
    twice with 7 (on 2026-12-02, on a slower machine: 3 workers 36,8 s against 2 workers 41,5 s per
    100 reports)."""
    return WORKERS_PER_CORE * (os.cpu_count() or 1) + 1


#: seconds between two writes of the manifest and index while a batch runs (and at its end, or when
#: it is interrupted, always). Assumption: an index at most a second behind the files on disk is as
#: good to a reader; writing both after every report cost the batch process 49 ms per report at 344
#: entries (8,5 s of its CPU over 342 municipal reports, growing with the square of the batch)
MANIFEST_WRITE_INTERVAL_S = 1.0

#: batches of at least this many reports export their HTML in worker processes (nbconvert's export is
#: pure Python, 0,1-0,25 s per report, and in the batch process it holds the GIL that every report's
#: papermill thread needs; assumption: below 8 reports the workers' start, ~1-2 s, does not pay)
EXPORT_PROCESSES_FROM = 8

#: report workers that one HTML export process serves. A municipal report's export costs about 35 ms
#: of CPU against about 160 ms for its kernel (2026-12-03), so one process keeps up with several report
#: workers, and each process costs about 0,5 s of CPU to start (imports, the compiled templates, one
#: warm-up export: `time`, 2026-12-03), paid on the cores the reports need. Assumption: 8 leaves room
#: for reports that export slower (long tables); 20 municipal reports with 5 workers took 4,52 / 4,89 /
#: 4,64 s with one process against 4,69 / 4,88 / 4,70 s with two (interleaved, 2026-12-03)
REPORTS_PER_EXPORT_PROCESS = 8


def export_processes(workers: int) -> int:
    """HTML export processes for ``workers`` report workers (:data:`REPORTS_PER_EXPORT_PROCESS`)."""
    return max(1, -(-workers // REPORTS_PER_EXPORT_PROCESS))


class _PdfWorkers:
    """A few long-lived ``python -c`` processes running WeasyPrint (``kind="pdf"``) or the HTML export
    (``kind="html"``) in parallel.

    (Not multiprocessing: its spawn start method re-runs an unguarded ``__main__``.)
    """

    def __init__(self, n: int, kind: str = "pdf", lang: str = "nl"):
        self.n = max(1, n)
        self.kind, self.lang = kind, lang
        self.procs: list = []
        self.idle = None

    async def start(self) -> None:
        import asyncio

        self.idle = asyncio.Queue()
        for _ in range(self.n):
            self.idle.put_nowait(await self._spawn())

    async def _spawn(self):
        import asyncio

        p = await asyncio.create_subprocess_exec(
            sys.executable, "-c", f"import mkba.render as r; r._pdf_worker_main({self.kind!r}, {self.lang!r})",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL)
        self.procs.append(p)
        return p

    async def export(self, nb_json: str, title: str, lang: str, path: str, css_href: str | None):
        """(html, key figures, notes) of an executed notebook, as :func:`_export_and_serialize` gives them."""
        out = json.loads(await self.render(nb_json, None, meta={"title": title, "lang": lang, "path": path,
                                                                 "css_href": css_href}))
        return out["html"], out["key_figures"], out["notes"]

    async def render(self, html: str, base_url: str | None, meta: dict | None = None) -> bytes:
        import asyncio
        import struct

        p = await self.idle.get()
        try:
            meta = json.dumps(meta if meta is not None else {"base_url": base_url}).encode()
            body = html.encode("utf-8")
            p.stdin.write(struct.pack(">II", len(meta), len(body)) + meta + body)
            await p.stdin.drain()
            hdr = await p.stdout.readexactly(5)
            data = await p.stdout.readexactly(struct.unpack(">I", hdr[1:])[0])
        except (asyncio.IncompleteReadError, BrokenPipeError, ConnectionResetError):
            p = await self._spawn()  # replace the dead worker
            raise RuntimeError(f"the {self.kind.upper()} worker process died") from None
        finally:
            self.idle.put_nowait(p)
        if hdr[0] != 0:
            raise RuntimeError(data.decode("utf-8", "replace"))
        return data

    async def close(self) -> None:
        for p in self.procs:
            try:
                p.stdin.close()
            except Exception:
                pass
        for p in self.procs:
            try:
                import asyncio

                await asyncio.wait_for(p.wait(), 10)
            except Exception:
                p.kill()
                await p.wait()


def _warm_exporter(lang: str) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("warm-up")])
    export_html(nb, title="warm-up", lang=lang)


def _notebook_json(nb) -> str:
    from nbformat.v4.nbjson import writes

    return writes(nb) + "\n"


# ---------------------------------------------------------------------------
# the batch
# ---------------------------------------------------------------------------

def _fingerprint(prep: _Prepared, data_fp: str | None, lang: str, pdf: bool,
                 version: str | None = None) -> str:
    from mkba.manifest import canonical_json, code_fingerprint, sha256_bytes

    return sha256_bytes(RENDER_VERSION, version or "", code_fingerprint(), prep.raw, canonical_json(prep.parameters),
                        data_fp or "", lang, "pdf" if pdf else "", prep.title, str(prep.cwd))


def _can_skip(prev: Mapping | None, fp: str, out_dir: Path, pdf: bool) -> bool:
    if not prev or prev.get("fingerprint") != fp or prev.get("status") not in ("ok", "skipped"):
        return False
    outs = prev.get("outputs") or {}
    if not outs.get("html") or (pdf and not outs.get("pdf")):
        return False
    # the files must be the ones this batch wrote: same size and hash (a truncated or
    # edited report is rendered again)
    from mkba.manifest import file_fingerprint

    files = prev.get("output_files") or {}
    for rel in outs.values():
        if not rel:
            continue
        if rel not in files or not (out_dir / rel).is_file():
            return False
        try:
            if (out_dir / rel).stat().st_size != files[rel].get("size") or \
                    file_fingerprint(out_dir / rel) != files[rel]:
                return False
        except OSError:
            return False
    return True


class _Batch:
    def __init__(self, preps: list[_Prepared], out_dir: Path, *, workers: int, pdf: bool,
                 resume: bool, lang: str, progress: Callable | None, data_fingerprint: Any,
                 assumptions_hash: Callable | None, keep_notebooks: bool, timeout: float | None,
                 kernel_mode: str, preload: Sequence[str] | None, index_title: str | None):
        from mkba.manifest import git_commit, load_manifest, manifest_lock, mkba_version, now_iso

        self.preps = preps
        self.out_dir = out_dir
        self.workers = workers
        self.pdf = pdf
        self.resume = resume
        self.lang = lang
        self.progress = progress
        self.keep_notebooks = keep_notebooks
        self.timeout = timeout
        self.kernel_mode = kernel_mode
        self.preload = preload
        self.index_title = index_title
        self.notes: list[str] = []
        with manifest_lock(out_dir):
            self.manifest = load_manifest(out_dir, notes=self.notes)
        self.version = mkba_version()
        self.commit = git_commit(preps[0].job.notebook.resolve().parent) if preps else git_commit()
        self.started_at = now_iso()
        self.entries: dict[str, dict] = {}
        self.fps: dict[str, str] = {}
        self.hashes: dict[str, Any] = {}
        self.lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._last_write = -math.inf     # the first finished report is written at once
        self._dirty = False
        self.cancelled = False
        for p in preps:
            dfp = data_fingerprint(p.job) if callable(data_fingerprint) else data_fingerprint
            self.fps[p.job.name] = _fingerprint(p, dfp, lang, pdf, self.version)
            ah = p.job.extra.get("assumptions_hash") if p.job.extra else None
            if ah is None and assumptions_hash is not None:
                ah = assumptions_hash(p.job)
            self.hashes[p.job.name] = ah

    # -- entries ---------------------------------------------------------------
    def emit(self, event: str, entry: dict) -> None:
        if self.progress is not None:
            try:
                with self.lock:
                    self.progress(event, entry)
            except Exception:  # a broken progress bar must not break the batch
                pass

    def complete(self, p: _Prepared, entry: dict, t0: float, nb_json: str | None, html: str | None,
                 pdf_bytes: bytes | None, error: dict | None, key_figures: dict,
                 notes: list[str]) -> None:
        """Write the report's files and record its entry (thread-safe)."""
        entry["timings"]["total_s"] = time.perf_counter() - t0
        with self.lock:
            try:
                self.finish(p, entry, nb_json, html if error is None else None, pdf_bytes, error,
                            key_figures, notes)
            except OSError as e:  # disk full, permissions changed mid-batch ...
                entry["status"] = "failed"
                entry["error"] = _error_dict(type(e).__name__, f"writing output: {e}", None, None, [])
            entry["timings"]["total_s"] = time.perf_counter() - t0
            self.record(entry)

    def base_entry(self, p: _Prepared) -> dict:
        from mkba.manifest import now_iso

        return {
            "name": p.job.name, "title": p.title,
            "notebook": str(p.job.notebook), "output_stem": p.job.output_stem,
            "parameters": p.parameters, "assumptions_hash": self.hashes[p.job.name],
            "fingerprint": self.fps[p.job.name], "mkba_version": self.version,
            "git_commit": self.commit, "lang": self.lang, "status": "running", "error": None,
            "key_figures": {}, "outputs": {}, "timings": {}, "rendered_at": now_iso(),
            "extra": _jsonable(p.job.extra), "notes": [],
        }

    def record(self, entry: dict, *, write: bool = True) -> None:
        """Keep ``entry``; with ``write``, write the manifest and index now, or, if they were
        written less than :data:`MANIFEST_WRITE_INTERVAL_S` ago, at the next :meth:`flush`."""
        self.entries[entry["name"]] = entry
        self.manifest["reports"][entry["name"]] = entry
        if write:
            with self._write_lock:
                due = time.monotonic() - self._last_write >= MANIFEST_WRITE_INTERVAL_S
                self._dirty = not due
            if due:
                self.write_manifest()
        if self.progress is not None and entry.get("status") != "running":
            try:
                self.progress("done", entry)
            except Exception:  # a broken progress bar must not break the batch
                pass

    def flush(self, force: bool = False) -> None:
        """Write the manifest and index if an entry is waiting for it and the interval is over
        (``force``: now); see :meth:`record`."""
        with self._write_lock:
            due = force or time.monotonic() - self._last_write >= MANIFEST_WRITE_INTERVAL_S
            write = self._dirty and due
            if write:
                self._dirty = False
        if write:
            self.write_manifest()

    def write_manifest(self, final: bool = False) -> None:
        """Re-read the manifest under the lock, merge this batch's entries, write it and the index.

        Another batch writing into the same directory at the same time keeps its
        entries: each batch only replaces the entries of its own reports.
        """
        from mkba.manifest import (INDEX_NAME, atomic_write, load_manifest, manifest_lock, now_iso,
                                   render_index, write_manifest)

        with manifest_lock(self.out_dir):
            m = load_manifest(self.out_dir, notes=self.notes)
            m["reports"].update(self.entries)
            m["schema"] = 1
            m["generated_at"] = now_iso()
            m["mkba_version"] = self.version
            m["git_commit"] = self.commit
            m["lang"] = self.lang
            m["batch"] = {
                "started_at": self.started_at, "finished_at": now_iso() if final else None,
                "workers": self.workers, "pdf": self.pdf, "resume": self.resume,
                "kernel_mode": getattr(self, "mode", self.kernel_mode),
                "reports": [p.job.name for p in self.preps],
                "ok": sum(1 for e in self.entries.values() if e["status"] == "ok"),
                "failed": sum(1 for e in self.entries.values() if e["status"] == "failed"),
                "skipped": sum(1 for e in self.entries.values() if e["status"] == "skipped"),
            }
            if final:  # stable order: earlier reports first, then this batch in job order
                mine = [p.job.name for p in self.preps if p.job.name in m["reports"]]
                others = [n for n in m["reports"] if n not in set(mine)]
                m["reports"] = {n: m["reports"][n] for n in others + mine}
            # reports from earlier batches whose files are gone are dropped from the index
            for name in list(m["reports"]):
                e = m["reports"][name]
                files = list((e.get("outputs") or {}).values()) + [e.get("failed_notebook")]
                if name not in self.entries and not any((self.out_dir / r).exists() for r in files if r):
                    del m["reports"][name]
            write_manifest(self.out_dir, m)
            atomic_write(self.out_dir / INDEX_NAME, render_index(m, self.lang, title=self.index_title))
            self.manifest = m
            self._last_write = time.monotonic()

    # -- per report: files ------------------------------------------------------
    def finish(self, p: _Prepared, entry: dict, nb_json: str | None, html: str | None,
               pdf_bytes: bytes | None, error: dict | None, key_figures: dict,
               notes: list[str]) -> dict:
        from mkba.manifest import atomic_write

        t0 = time.perf_counter()
        stem = p.job.output_stem
        prev = self.manifest["reports"].get(p.job.name) or {}
        entry["key_figures"] = key_figures
        entry["notes"] = notes
        computed = key_figures.get("assumptions_hash") if isinstance(key_figures, dict) else None
        if computed:  # what the notebook actually computed (with its overrides)
            entry["assumptions_hash"] = computed
        if error is None and html is not None:
            outs = {"html": f"{stem}.html"}
            atomic_write(self.out_dir / outs["html"], html)
            if pdf_bytes is not None:
                outs["pdf"] = f"{stem}.pdf"
                atomic_write(self.out_dir / outs["pdf"], pdf_bytes)
            if nb_json is not None and self.keep_notebooks:
                (self.out_dir / "notebooks").mkdir(exist_ok=True)
                outs["notebook"] = f"notebooks/{stem}.ipynb"
                atomic_write(self.out_dir / outs["notebook"], nb_json)
            stale = self.out_dir / "failed" / f"{stem}.ipynb"
            if stale.exists():
                stale.unlink()
            from mkba.manifest import file_fingerprint

            entry["outputs"] = outs
            entry["output_files"] = {rel: file_fingerprint(self.out_dir / rel) for rel in outs.values()}
            entry["status"] = "ok"
        else:
            entry["status"] = "failed"
            entry["error"] = error or {"type": "Error", "message": "unknown error",
                                       "summary": "unknown error"}
            if nb_json is not None:
                (self.out_dir / "failed").mkdir(exist_ok=True)
                atomic_write(self.out_dir / "failed" / f"{stem}.ipynb", nb_json)
                entry["failed_notebook"] = f"failed/{stem}.ipynb"
            # the earlier good report stays; the index links to it as "previous version"
            prev_outs = prev.get("outputs") or {}
            if prev_outs and all((self.out_dir / r).exists() for r in prev_outs.values() if r):
                entry["previous_outputs"] = prev_outs
                entry["previous_rendered_at"] = prev.get("rendered_at")
            elif prev.get("previous_outputs"):
                entry["previous_outputs"] = prev["previous_outputs"]
                entry["previous_rendered_at"] = prev.get("previous_rendered_at")
        entry["timings"]["write_s"] = time.perf_counter() - t0
        return entry

    # -- run ------------------------------------------------------------------------
    def split_resume(self) -> list[_Prepared]:
        from mkba.manifest import now_iso

        todo = []
        for p in self.preps:
            prev = self.manifest["reports"].get(p.job.name)
            if self.resume and _can_skip(prev, self.fps[p.job.name], self.out_dir, self.pdf):
                e = dict(prev)  # type: ignore[arg-type]
                e["status"] = "skipped"
                e["skipped_at"] = now_iso()
                e.setdefault("timings", {})
                self.record(e, write=False)
            else:
                todo.append(p)
        return todo


def _jsonable(x: Any) -> Any:
    from mkba.reporting import _jsonable as j

    return j(x)


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: stop the batch like Ctrl-C (finished reports are kept and recorded)."""


def _export_and_serialize(nb, title: str, lang: str, path: str,
                          css_href: str | None = None) -> tuple[str, str, dict, list]:
    """(executed notebook JSON, html, key figures, notes)."""
    from mkba.reporting import read_key_figures

    nb_json = _notebook_json(nb)
    kf = read_key_figures(nb)
    html, notes = export_html(nb, title=title, lang=lang, path=path, css_href=css_href)
    return nb_json, html, kf, notes


def _safe_warm_exporter(lang: str) -> None:
    try:
        _warm_exporter(lang)
    except Exception:  # only a warm-up
        pass


def _one_report(batch: "_Batch", p: _Prepared, kernels, pdf_render, export=None) -> None:
    """One report in a worker thread: papermill run, export, files, manifest entry."""
    from mkba.reporting import read_key_figures

    if batch.cancelled:
        return
    t0 = time.perf_counter()
    entry = batch.base_entry(p)
    batch.emit("start", entry)
    nb_json = html = pdf_bytes = None
    kf: dict = {}
    notes: list[str] = []
    try:
        nb, error, timings = run_report(p.job.notebook, p.parameters, cwd=p.cwd, kernels=kernels,
                                        timeout=batch.timeout)
        entry["timings"].update(timings)
        if nb is not None:  # lets a lost manifest be rebuilt from the notebooks on disk
            nb.metadata["mkba"] = {"report": p.job.name, "title": p.title}
        if batch.cancelled:  # interrupted: the kernel was killed, nothing to record
            return
        if error is None:
            t1 = time.perf_counter()
            if export is not None:    # in an export worker process (large batches)
                nb_json = _notebook_json(nb)
                html, kf, notes = export(nb_json, p.title, batch.lang, str(p.cwd), REPORT_CSS_NAME)
            else:
                nb_json, html, kf, notes = _export_and_serialize(nb, p.title, batch.lang, str(p.cwd),
                                                                 css_href=REPORT_CSS_NAME)
            entry["timings"]["export_s"] = time.perf_counter() - t1
            if pdf_render is not None:
                t2 = time.perf_counter()
                try:  # relative to the output folder: the shared CSS file lives there
                    pdf_bytes = pdf_render(html, str(batch.out_dir.resolve()) + os.sep)
                except Exception as e:  # a PDF failure fails the report
                    error = _error_dict(type(e).__name__, f"PDF: {e}", None, None,
                                        traceback.format_exception_only(type(e), e))
                entry["timings"]["pdf_s"] = time.perf_counter() - t2
        elif nb is not None:
            nb_json = _notebook_json(nb)
            kf = read_key_figures(nb)
    except InputError:
        raise
    except Exception as e:  # renderer bug or I/O problem: record it, keep going
        error = _error_dict(type(e).__name__, str(e), None, None,
                            traceback.format_exception(type(e), e, e.__traceback__)[-8:])
    batch.complete(p, entry, t0, nb_json, html, pdf_bytes, error, kf, notes)


def _run_local(batch: "_Batch", todo: list[_Prepared], before: Callable[[], Any] | None = None) -> None:
    """The reports on kernels forked here; ``before()`` runs once the fork server is starting
    and before any report (work that can overlap with its start, such as the shared CSS file)."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    from mkba.pm_engine import KernelSource

    import logging

    n = len(todo)
    workers = min(batch.workers, n)
    # failures are recorded per report; papermill/nbclient's log lines would only repeat them
    pm_log = logging.getLogger("papermill")
    pm_level = pm_log.level
    pm_log.setLevel(logging.CRITICAL)
    warm: list = []
    for p in todo:
        for call in p.job.warm or []:
            t, kw = call
            if (t, kw) not in warm:
                warm.append((t, kw))
    kernels = KernelSource(size=min(n, workers + 1), limit=n, mode=batch.kernel_mode,
                           preload=batch.preload, warm=warm)
    batch.mode = kernels.mode
    if before is not None:
        try:
            before()
        except BaseException:
            kernels.close()
            raise
    pdf_pool = pdf_render = export_pool = export = None
    ex = None
    futures: list = []
    try:
        if batch.pdf:
            pdf_pool = _PdfWorkers(max(1, workers))
            kernels.call(pdf_pool.start())
            pdf_render = lambda html, base: kernels.call(pdf_pool.render(html, base))  # noqa: E731
        in_workers = n >= EXPORT_PROCESSES_FROM
        # each worker thread builds its HTML exporter while the fork server imports, unless the
        # export runs in worker processes (then this process never exports)
        ex = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mkba-report",
                                initializer=None if in_workers else _safe_warm_exporter,
                                initargs=(batch.lang,))
        if in_workers:
            export_pool = _PdfWorkers(export_processes(workers), kind="html", lang=batch.lang)
            kernels.call(export_pool.start())
            export = lambda *a: kernels.call(export_pool.export(*a))  # noqa: E731
        futures = [ex.submit(_one_report, batch, p, kernels, pdf_render, export) for p in todo]
        pending = set(futures)
        while pending:   # reports finish in the worker threads; waiting entries are written here
            done, pending = wait(pending, timeout=MANIFEST_WRITE_INTERVAL_S, return_when=FIRST_COMPLETED)
            for fut in done:
                fut.result()
            batch.flush()
    except BaseException:
        batch.cancelled = True
        for fut in futures:
            fut.cancel()
        kernels.kill_all()
        raise
    finally:
        if ex is not None:
            ex.shutdown(wait=True, cancel_futures=True)
        if kernels.pool.fork_fallback_reason:
            batch.notes.append(f"kernels started without fork server: {kernels.pool.fork_fallback_reason}")
        batch.mode = kernels.mode
        try:
            for pool in (pdf_pool, export_pool):
                if pool is not None:
                    kernels.call(pool.close())
        finally:
            kernels.close()
            pm_log.setLevel(pm_level)


# -- dask -----------------------------------------------------------------------

_WORKER_STATE: dict[str, Any] = {}
_WORKER_LOCK = threading.Lock()


def _worker_forkserver(mode: str, preload: Sequence[str] | None):
    """One fork server per dask worker process (started on first use)."""
    from mkba.kernels import DEFAULT_PRELOAD, ForkServer, default_mode

    if (default_mode() if mode == "auto" else mode) != "fork":
        return None
    with _WORKER_LOCK:
        fs = _WORKER_STATE.get("forkserver")
        if fs is None or not fs.alive:
            fs = ForkServer(list(preload) if preload is not None else DEFAULT_PRELOAD,
                            cwd=tempfile.gettempdir()).start()
            fs.wait_ready()
            _WORKER_STATE["forkserver"] = fs
        return fs


def _render_remote(payload: dict) -> dict:
    """Run one report on a dask worker; returns files as strings/bytes for the client to write."""
    from mkba.pm_engine import KernelSource
    from mkba.reporting import read_key_figures

    t0 = time.perf_counter()
    cwd = payload["cwd"] if os.path.isdir(payload["cwd"]) else tempfile.gettempdir()
    out: dict[str, Any] = {"timings": {}, "notes": [], "worker_pid": os.getpid()}
    nb_path, tmp = payload["notebook"], None
    if not os.path.isfile(nb_path) or sha256_file(nb_path) != payload["notebook_sha256"]:
        # the worker does not see the client's files: run the bytes the client checked
        fd, tmp = tempfile.mkstemp(suffix=".ipynb")
        with os.fdopen(fd, "wb") as f:
            f.write(payload["raw"])
        nb_path = tmp
    fs = _worker_forkserver(payload["kernel_mode"], payload.get("preload"))
    try:
        with KernelSource(size=1, limit=1, mode="fork" if fs is not None else "spawn",
                          forkserver=fs, preload=payload.get("preload")) as kernels:
            nb, error, timings = run_report(nb_path, payload["parameters"], cwd=cwd,
                                            kernels=kernels, timeout=payload["timeout"])
    finally:
        if tmp:
            os.unlink(tmp)
    if nb is not None:
        nb.metadata.papermill["input_path"] = payload["notebook"]
        nb.metadata["mkba"] = {"report": payload["name"], "title": payload["title"]}
    out["timings"].update(timings)
    if error is None:
        t1 = time.perf_counter()
        out["nb_json"], out["html"], out["key_figures"], out["notes"] = _export_and_serialize(
            nb, payload["title"], payload["lang"], cwd, css_href=None)  # self-contained: no shared CSS there
        out["timings"]["export_s"] = time.perf_counter() - t1
        if payload["pdf"]:
            t2 = time.perf_counter()
            try:
                out["pdf"] = html_to_pdf(out["html"], cwd + os.sep)
            except Exception as e:
                error = _error_dict(type(e).__name__, f"PDF: {e}", None, None, [])
            out["timings"]["pdf_s"] = time.perf_counter() - t2
    elif nb is not None:
        out["nb_json"] = _notebook_json(nb)
        out["key_figures"] = read_key_figures(nb)
    out["error"] = error
    out["timings"]["worker_total_s"] = time.perf_counter() - t0
    return out


def sha256_file(path: str | os.PathLike) -> str:
    import hashlib

    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _run_dask(batch: "_Batch", todo: list[_Prepared], address: str) -> None:
    import hashlib

    try:
        from distributed import Client, as_completed
    except ImportError:  # checked in validation; keep a clear message anyway
        raise InputError("--dask needs dask.distributed", fix="pip install 'mkba[dask]'") from None
    try:
        client = Client(address, timeout="20s")
    except Exception as e:
        raise InputError(f"cannot connect to the dask scheduler ({e})", field="dask",
                         value=address, fix="check the address (tcp://HOST:8786) and that the "
                                            "scheduler is running") from None
    batch.mode = f"dask:{batch.kernel_mode}"
    try:
        futures = {}
        entries = {}
        for p in todo:
            payload = {"name": p.job.name, "notebook": str(p.job.notebook.resolve()), "raw": p.raw,
                       "notebook_sha256": hashlib.sha256(p.raw).hexdigest(),
                       "parameters": p.parameters, "cwd": str(p.cwd), "title": p.title,
                       "lang": batch.lang, "pdf": batch.pdf, "timeout": batch.timeout,
                       "kernel_mode": batch.kernel_mode,
                       "preload": list(batch.preload) if batch.preload is not None else None}
            entry = batch.base_entry(p)
            entry["_t0"] = time.perf_counter()
            batch.emit("start", entry)
            fut = client.submit(_render_remote, payload, pure=False,
                                key=f"mkba-render-{p.job.name}-{os.getpid()}-{time.time_ns()}")
            futures[fut] = p
            entries[p.job.name] = entry
        for fut in as_completed(list(futures)):
            p = futures[fut]
            entry = entries[p.job.name]
            t0 = entry.pop("_t0")
            try:
                r = fut.result()
                error = r.get("error")
                entry["timings"].update(r.get("timings", {}))
                entry["worker_pid"] = r.get("worker_pid")
                batch.complete(p, entry, t0, r.get("nb_json"), r.get("html") if error is None else None,
                               r.get("pdf"), error, r.get("key_figures") or {}, r.get("notes") or [])
            except Exception as e:
                batch.complete(p, entry, t0, None, None, None,
                               _error_dict(type(e).__name__, str(e), None, None,
                                           traceback.format_exception_only(type(e), e)), {}, [])
    finally:
        client.close()


# -- entry point -------------------------------------------------------------------

#: per report, seconds; a real report takes seconds, so this only stops a hanging one
DEFAULT_TIMEOUT_S = 600.0


def write_report_css(out_dir: Path, lang: str = "nl") -> Path:
    """``OUT/mkba-report.css``: the theme CSS every report links to (written when it changed)."""
    from mkba.manifest import atomic_write

    path = Path(out_dir) / REPORT_CSS_NAME
    css = report_css(lang).encode("utf-8")
    try:
        if path.read_bytes() == css:
            return path
    except OSError:
        pass
    return atomic_write(path, css)


class _sigterm_as_interrupt:
    """SIGTERM raises :class:`Terminated` (a KeyboardInterrupt) in the main thread meanwhile."""

    def __enter__(self):
        import signal

        self.prev = None
        if threading.current_thread() is threading.main_thread():
            def handler(signum, frame):
                raise Terminated("SIGTERM")

            self.prev = signal.signal(signal.SIGTERM, handler)
        return self

    def __exit__(self, *exc):
        import signal

        if self.prev is not None:
            signal.signal(signal.SIGTERM, self.prev)
        return False


def render_batch(jobs: Sequence[RenderJob], out_dir: str | os.PathLike, *, workers: int = 1,
                 pdf: bool = False, resume: bool = False, dask_address: str | None = None,
                 lang: str = "nl", progress: Callable[[str, dict], Any] | None = None,
                 data_fingerprint: Callable[[RenderJob], str] | str | None = None,
                 assumptions_hash: Callable[[RenderJob], Any] | None = None,
                 keep_notebooks: bool = True, timeout: float | None = DEFAULT_TIMEOUT_S,
                 kernel_mode: str = "auto", preload: Sequence[str] | None = None,
                 index_title: str | None = None) -> BatchResult:
    """Render ``jobs`` into ``out_dir``; never raises for a failing report (see ``result.failed``).

    Raises :class:`InputError` (before any kernel starts, with nothing written)
    for bad input: see :func:`validate_jobs`.

    ``workers``: reports rendered at the same time (kernels run in parallel
    processes; one or two per CPU core).  ``resume``: skip a report whose
    notebook bytes, parameters, title, language, ``data_fingerprint`` and
    renderer version are unchanged and whose files exist.  ``progress(event,
    entry)`` is called with ``"start"`` and ``"done"``.  ``timeout``: seconds
    per report (the kernel is killed and the report recorded as failed; None = no limit).  ``kernel_mode``: ``auto`` (fork server on
    Linux), ``fork`` or ``spawn``.  ``preload``: modules imported in kernels
    ahead of time (default :data:`mkba.kernels.DEFAULT_PRELOAD`).
    """
    t0 = time.perf_counter()
    _check_options(workers=workers, pdf=pdf, dask_address=dask_address)
    if kernel_mode not in ("auto", "fork", "spawn"):
        raise InputError("unknown kernel mode", field="kernel_mode", value=kernel_mode,
                         fix="use 'auto', 'fork' or 'spawn'")
    preps = _prepare(jobs, lang)
    out = check_out_dir(out_dir)
    # ---- from here on we write ----
    from mkba.manifest import INDEX_NAME, MANIFEST_NAME, clean_stale_temp_files

    out.mkdir(parents=True, exist_ok=True)
    clean_stale_temp_files(out)
    batch = _Batch(preps, out, workers=workers, pdf=pdf, resume=resume, lang=lang,
                   progress=progress, data_fingerprint=data_fingerprint,
                   assumptions_hash=assumptions_hash, keep_notebooks=keep_notebooks,
                   timeout=timeout, kernel_mode=kernel_mode, preload=preload,
                   index_title=index_title)
    batch.mode = kernel_mode
    todo = batch.split_resume()
    css = lambda: write_report_css(out, lang)  # noqa: E731
    try:
        if todo and not dask_address:   # written while the fork server starts (before any report)
            with _sigterm_as_interrupt():
                _run_local(batch, todo, before=css)
        else:
            css()
            if todo:
                with _sigterm_as_interrupt():
                    _run_dask(batch, todo, dask_address)
    except BaseException:
        batch.flush(force=True)   # interrupted: the reports that finished are in the manifest and index
        raise
    batch.write_manifest(final=True)
    entries = [batch.entries[p.job.name] for p in preps if p.job.name in batch.entries]
    return BatchResult(entries=entries, out_dir=out, manifest_path=out / MANIFEST_NAME,
                       index_path=out / INDEX_NAME, duration_s=time.perf_counter() - t0,
                       kernel_mode=str(batch.mode), notes=batch.notes)

"""Batch bookkeeping for ``mkba render``: atomic files, fingerprints, manifest.json, index.html.

Every file is written atomically: the bytes go to a hidden temporary file in the
same directory (``.NAME.PID.RANDOM.mkba-tmp``), are flushed to disk and then
renamed over the target (``os.replace``).  A crash or Ctrl-C leaves either the
old file or the new one, never half a file; temporary files of processes that
no longer exist are removed by :func:`clean_stale_temp_files` at the next batch.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import html
import json
import os
import secrets
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any, Mapping

__all__ = [
    "TMP_SUFFIX", "atomic_write", "clean_stale_temp_files", "sha256_bytes", "canonical_json",
    "fingerprint_paths", "git_commit", "mkba_version", "load_manifest", "write_manifest",
    "render_index", "MANIFEST_NAME", "INDEX_NAME", "manifest_lock", "rebuild_entries",
    "file_fingerprint", "code_fingerprint",
]

TMP_SUFFIX = ".mkba-tmp"
MANIFEST_NAME = "manifest.json"
INDEX_NAME = "index.html"
MANIFEST_SCHEMA = 1


# ---------------------------------------------------------------------------
# atomic files
# ---------------------------------------------------------------------------

def atomic_write(path: str | os.PathLike, data: bytes | str, *, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` atomically (temporary file + fsync + rename)."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode(encoding)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{TMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # respects umask
    try:
        with os.fdopen(fd, "wb") as f:
            _write_all(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def _write_all(f, data: bytes) -> None:
    # separate function so tests can simulate a failure in the middle of a write
    view = memoryview(data)
    step = 1 << 20
    for i in range(0, len(view), step):
        f.write(view[i:i + step])


def clean_stale_temp_files(directory: str | os.PathLike) -> list[Path]:
    """Remove temporary files left by processes that are gone (never those of live ones)."""
    removed = []
    d = Path(directory)
    if not d.is_dir():
        return removed
    for p in list(d.glob(f".*{TMP_SUFFIX}")) + list(d.glob(f"*/.*{TMP_SUFFIX}")):
        parts = p.name[: -len(TMP_SUFFIX)].rsplit(".", 2)
        try:
            pid = int(parts[-2])
        except (ValueError, IndexError):
            continue
        if pid == os.getpid() or _pid_alive(pid):
            continue
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---------------------------------------------------------------------------
# fingerprints and provenance
# ---------------------------------------------------------------------------

def sha256_bytes(*chunks: bytes | str) -> str:
    h = hashlib.sha256()
    for c in chunks:
        h.update(c.encode() if isinstance(c, str) else c)
        h.update(b"\x00")
    return h.hexdigest()


def _json_default(o: Any) -> Any:
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    if isinstance(o, os.PathLike):
        return os.fspath(o)
    return repr(o)


def canonical_json(obj: Any) -> str:
    """Stable JSON (sorted keys, no whitespace) for hashing."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default,
                      ensure_ascii=False)


def fingerprint_paths(*paths: str | os.PathLike, pattern: str = "**/*") -> str:
    """SHA-256 over the names and bytes of files (directories are walked, sorted).

    Use as the data fingerprint for ``--resume``, e.g.
    ``data_fingerprint=lambda job: fingerprint_paths("data/parameters", "data/cases")``
    (compute it once and return the same string for every job).
    """
    h = hashlib.sha256()
    for p in paths:
        p = Path(p)
        files = sorted(f for f in p.glob(pattern) if f.is_file()) if p.is_dir() else [p]
        for f in files:
            h.update(str(f.relative_to(p) if p.is_dir() else f.name).encode())
            h.update(b"\x00")
            try:
                h.update(hashlib.sha256(f.read_bytes()).digest())
            except FileNotFoundError:
                h.update(b"<missing>")
    return h.hexdigest()


def git_commit(cwd: str | os.PathLike | None = None) -> str | None:
    """``git rev-parse HEAD`` (with ``-dirty`` if the work tree has changes), or None."""
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True,
                           timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if r.returncode != 0:
        return None
    commit = r.stdout.strip() or None
    if commit:
        try:
            d = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10)
            if d.returncode == 0 and d.stdout.strip():
                commit += "-dirty"
        except (OSError, subprocess.SubprocessError):
            pass
    return commit


def mkba_version() -> str | None:
    try:
        import mkba

        v = getattr(mkba, "__version__", None)
        if v:
            return str(v)
    except Exception:  # pragma: no cover
        pass
    try:
        from importlib.metadata import version

        return version("mkba")
    except Exception:
        return None


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds")


# ---------------------------------------------------------------------------
# manifest
# ---------------------------------------------------------------------------

LOCK_NAME = ".manifest.lock"


class manifest_lock:
    """Exclusive lock on ``OUT/.manifest.lock`` (``fcntl.flock``): one batch at a time
    re-reads, merges and writes ``manifest.json`` and ``index.html``."""

    def __init__(self, out_dir: str | os.PathLike):
        self.path = Path(out_dir) / LOCK_NAME
        self.fd: int | None = None

    def __enter__(self) -> "manifest_lock":
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            import fcntl

            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - not on Windows
            pass
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.fd is not None:
            try:
                import fcntl

                fcntl.flock(self.fd, fcntl.LOCK_UN)
            except ImportError:  # pragma: no cover
                pass
            os.close(self.fd)
            self.fd = None


def _empty_manifest() -> dict:
    return {"schema": MANIFEST_SCHEMA, "reports": {}}


def load_manifest(out_dir: str | os.PathLike, *, notes: list | None = None) -> dict:
    """The manifest of ``out_dir`` (empty skeleton if there is none).

    A manifest that cannot be read (broken JSON, wrong shape) is not silently
    replaced: it is moved aside to ``manifest.json.corrupt-TIMESTAMP``, a warning
    is appended to ``notes`` (``BatchResult.notes``; the CLI prints them), and the entries
    are rebuilt from the reports on disk (:func:`rebuild_entries`).
    """
    p = Path(out_dir) / MANIFEST_NAME
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        return _empty_manifest()
    except OSError as e:
        raise OSError(f"{p}: manifest cannot be read ({e.strerror})") from None
    problem = None
    try:
        m = json.loads(raw.decode("utf-8"))
        if isinstance(m, dict) and isinstance(m.get("reports"), dict) and \
                all(isinstance(v, dict) for v in m["reports"].values()):
            return m
        problem = "not an mkba manifest (no 'reports' mapping)"
    except (UnicodeDecodeError, ValueError) as e:
        problem = f"invalid JSON ({e})"
    stamp = _dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    aside = p.with_name(f"{MANIFEST_NAME}.corrupt-{stamp}-{os.getpid()}")
    os.replace(p, aside)
    m = _empty_manifest()
    m["reports"] = rebuild_entries(out_dir)
    write_manifest(out_dir, m)  # the next reader (this batch or another) merges into it
    msg = (f"{p}: {problem}; kept it as {aside.name} and rebuilt {len(m['reports'])} "
           "entries from the reports on disk")
    if notes is not None:
        notes.append(msg)
    return m


def rebuild_entries(out_dir: str | os.PathLike) -> dict:
    """Manifest entries recovered from the files in ``out_dir``.

    Every ``notebooks/STEM.ipynb`` (executed notebook) gives an ``ok`` entry with
    the parameters papermill recorded and the key figures; every
    ``failed/STEM.ipynb`` a ``failed`` one; an ``STEM.html`` without a notebook an
    entry with only its file.  Rebuilt entries have no fingerprint, so
    ``--resume`` renders them again.
    """
    out = Path(out_dir)
    entries: dict[str, dict] = {}

    def from_notebook(path: Path, status: str) -> None:
        stem = path.stem
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
            meta = nb.get("metadata") or {}
        except (OSError, ValueError):
            return
        from mkba.reporting import read_key_figures

        mk = meta.get("mkba") or {}
        pm = meta.get("papermill") or {}
        name = str(mk.get("report") or stem)
        if name in entries and status == "failed":
            return
        try:
            kf = read_key_figures(nb)
        except Exception:
            kf = {}
        outs = {}
        if status == "ok":
            for kind, rel in (("html", f"{stem}.html"), ("pdf", f"{stem}.pdf"),
                              ("notebook", f"notebooks/{stem}.ipynb")):
                if (out / rel).is_file():
                    outs[kind] = rel
        entries[name] = {
            "name": name, "title": mk.get("title") or name, "output_stem": stem,
            "notebook": pm.get("input_path"), "parameters": pm.get("parameters") or {},
            "assumptions_hash": kf.get("assumptions_hash") if isinstance(kf, dict) else None,
            "fingerprint": None, "status": status, "error": None if status == "ok" else
            {"type": "Unknown", "message": "", "summary": "failed (recovered from disk)"},
            "key_figures": kf, "outputs": outs, "timings": {},
            "rendered_at": pm.get("end_time"), "notes": ["entry rebuilt from the files on disk"],
            **({"failed_notebook": f"failed/{stem}.ipynb"} if status == "failed" else {}),
        }

    for nbp in sorted(out.glob("notebooks/*.ipynb")):
        from_notebook(nbp, "ok")
    for nbp in sorted(out.glob("failed/*.ipynb")):
        from_notebook(nbp, "failed")
    known = {e["output_stem"] for e in entries.values()}
    for html_path in sorted(out.glob("*.html")):
        stem = html_path.stem
        if stem in known or html_path.name == INDEX_NAME:
            continue
        entries[stem] = {"name": stem, "title": stem, "output_stem": stem, "parameters": {},
                         "fingerprint": None, "status": "ok", "error": None, "key_figures": {},
                         "outputs": {"html": html_path.name}, "timings": {},
                         "notes": ["entry rebuilt from the files on disk"]}
    return entries


def file_fingerprint(path: str | os.PathLike) -> dict:
    """``{"size": bytes, "sha256": hex}`` of a written report file (checked by ``--resume``)."""
    data = Path(path).read_bytes()
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


_CODE_FP: list = []


def code_fingerprint() -> str:
    """mkba's version and a SHA-256 over its source files (a code change re-renders on ``--resume``)."""
    if not _CODE_FP:
        pkg = Path(__file__).resolve().parent
        h = hashlib.sha256((mkba_version() or "").encode())
        for f in sorted(pkg.rglob("*.py")):
            h.update(f.relative_to(pkg).as_posix().encode() + b"\x00")
            h.update(f.read_bytes())
        _CODE_FP.append(f"{mkba_version()}+{h.hexdigest()[:16]}")
    return _CODE_FP[0]


def write_manifest(out_dir: str | os.PathLike, manifest: Mapping) -> Path:
    text = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False,
                      default=_json_default, allow_nan=False) + "\n"
    return atomic_write(Path(out_dir) / MANIFEST_NAME, text)


# ---------------------------------------------------------------------------
# index.html
# ---------------------------------------------------------------------------

_PREFERRED_ORDER = [
    "municipal_npv_eur", "societal_npv_eur", "npv_eur", "net_result_eur", "bcr", "break_even_month",
    "programme_cost_eur", "gross_saving_eur", "extra_ended_benefits", "benefit_months_saved",
    "cost_per_extra_ended_benefit_eur",
]

_INDEX_CSS = """
:root{--fg:#1b1b1b;--muted:#666;--line:#d9d9d9;--head:#01689b;--ok:#39870c;--fail:#d52b1e;--skip:#8a6d00}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--fg);margin:2rem;line-height:1.4}
h1{color:var(--head);font-size:1.5rem;margin:0 0 .25rem}
.meta{color:var(--muted);font-size:.85rem;margin:0 0 1rem}
.controls{display:flex;gap:.75rem;align-items:center;margin:0 0 .75rem;flex-wrap:wrap}
input,select{font:inherit;padding:.3rem .5rem;border:1px solid var(--line);border-radius:4px}
input{min-width:18rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid var(--line);padding:.35rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f6f8;cursor:pointer;user-select:none;white-space:nowrap;position:sticky;top:0}
th[aria-sort=ascending]::after{content:" \\25B2";font-size:.7em}
th[aria-sort=descending]::after{content:" \\25BC";font-size:.7em}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.status{font-weight:600;white-space:nowrap}
.status-ok{color:var(--ok)}.status-failed{color:var(--fail)}.status-skipped{color:var(--skip)}
.err{color:var(--fail);font-size:.8rem;white-space:pre-wrap;min-width:16rem;max-width:40rem}
.small{color:var(--muted);font-size:.8rem}
tr.hidden{display:none}
"""

_INDEX_JS = """
(function(){
  var table=document.getElementById('reports');
  if(!table){return;}
  var tbody=table.tBodies[0];
  var heads=table.tHead.rows[0].cells;
  function key(td){var v=td.getAttribute('data-sort');if(v===null){v=td.textContent;}
    var n=parseFloat(v);return (v!==''&&!isNaN(n)&&isFinite(v))?[0,n]:[1,v.toLowerCase()];}
  function cmp(a,b){if(a[0]!==b[0]){return a[0]-b[0];}return a[1]<b[1]?-1:(a[1]>b[1]?1:0);}
  Array.prototype.forEach.call(heads,function(th,i){
    th.setAttribute('tabindex','0');
    function sort(){
      var asc=th.getAttribute('aria-sort')!=='ascending';
      Array.prototype.forEach.call(heads,function(h){h.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort',asc?'ascending':'descending');
      var rows=Array.prototype.slice.call(tbody.rows);
      rows.sort(function(r1,r2){var c=cmp(key(r1.cells[i]),key(r2.cells[i]));return asc?c:-c;});
      rows.forEach(function(r){tbody.appendChild(r);});
    }
    th.addEventListener('click',sort);
    th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sort();}});
  });
  var q=document.getElementById('filter'), s=document.getElementById('status-filter');
  function apply(){
    var text=(q.value||'').toLowerCase(), st=s.value;
    Array.prototype.forEach.call(tbody.rows,function(r){
      var show=(!text||r.textContent.toLowerCase().indexOf(text)>=0)&&(!st||r.getAttribute('data-status')===st);
      r.classList.toggle('hidden',!show);
    });
  }
  q.addEventListener('input',apply); s.addEventListener('change',apply);
})();
"""


def _fmt_key_figure(key: str, value: Any, lang: str) -> tuple[str, str, bool]:
    """(display text, sort value, numeric?)"""
    from mkba.formatting import _kind_for, format_value

    if value is None:
        from mkba.formatting import MISSING

        return MISSING[lang], "", True
    if key == "perspective" and value in ("municipality", "society"):
        from mkba.i18n import message

        word = message("text", f"perspective_word_{value}", lang)
        return word, word, False
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value), str(value), False
    if _is_metric(key):          # as the reports show it (mkba.formatting.format_metric)
        from mkba.formatting import format_metric

        return format_metric(key, value, lang), repr(float(value)), True
    return format_value(value, _kind_for(key), lang), repr(float(value)), True


def _is_metric(key: str) -> bool:
    """A headline metric of the model, or one seen from a perspective or a scenario (key figures of the
    case reports: municipal_npv_eur, societal_bcr, npv_laagconjunctuur, p_npv_positive)."""
    from mkba.fastkernel import METRIC_NAMES

    return key in METRIC_NAMES or key.startswith(("npv_", "p_")) or \
        key.removeprefix("municipal_").removeprefix("societal_") in METRIC_NAMES


#: text key figures shown as index columns (sortable, and matched by the filter box)
_TEXT_KEYS: tuple[str, ...] = ("perspective", "municipality", "province", "size_class")
#: key figures in the report's own perspective (the index says so under the table)
_PERSPECTIVE_KEYS = frozenset({"npv_eur", "net_result_eur", "bcr", "break_even_month", "programme_cost_eur",
                               "gross_saving_eur", "npv_gemiddeld", "npv_hoogconjunctuur", "npv_laagconjunctuur",
                               "p_npv_positive"})


def render_index(manifest: Mapping, lang: str = "nl", *, title: str | None = None) -> str:
    """Self-contained index.html (inline CSS and JS, no external resources)."""
    from mkba.formatting import capital, label, time_words

    esc = html.escape
    reports = list(manifest.get("reports", {}).values())
    keys: list[str] = []
    for r in reports:
        for k, v in (r.get("key_figures") or {}).items():
            numeric = (v is None or isinstance(v, (int, float))) and not isinstance(v, bool)
            if k not in keys and (numeric or k in _TEXT_KEYS):
                keys.append(k)
    keys.sort(key=lambda k: (-1 if k in _TEXT_KEYS else 0,
                             _TEXT_KEYS.index(k) if k in _TEXT_KEYS else 0,
                             _PREFERRED_ORDER.index(k) if k in _PREFERRED_ORDER else 999, k))
    counts = {s: sum(1 for r in reports if r.get("status") == s) for s in ("ok", "failed", "skipped")}
    title = title or label("index_title", lang)

    head_cells = [label("report", lang), label("status", lang)]
    head_cells += [capital(label(k, lang, default=k)) for k in keys]   # 'gemeente' is lower case mid-sentence
    head_cells += [label("rendered_at", lang), label("duration_s", lang)]

    rows = []
    shared_titles = Counter(str(r.get("title") or r.get("name")) for r in reports)
    for r in sorted(reports, key=lambda r: str(r.get("title") or r.get("name"))):
        status = r.get("status", "failed")
        out = r.get("outputs") or {}
        link_target = out.get("html") or (r.get("previous_outputs") or {}).get("html")
        name = esc(str(r.get("title") or r.get("name")))
        if link_target:
            cell = f'<a href="{esc(link_target)}">{name}</a>'
        else:
            cell = name
        if out.get("pdf"):
            cell += f' <span class="small">(<a href="{esc(out["pdf"])}">{label("pdf", lang)}</a>)</span>'
        if status == "failed" and link_target:
            cell += f' <span class="small">({esc(label("stale_report", lang))})</span>'
        if shared_titles[str(r.get("title") or r.get("name"))] > 1:   # two reports, one title: which is which
            cell += f'<div class="small">{esc(str(r.get("name")))}</div>'
        st = f'<span class="status status-{esc(status)}">{esc(label(status, lang, default=status))}</span>'
        err = r.get("error")
        if status == "failed" and err:
            msg = err.get("summary") if isinstance(err, Mapping) else str(err)
            st += f'<div class="err">{esc(str(msg))[:600]}</div>'
        tds = [f"<td>{cell}</td>", f'<td data-sort="{esc(status)}">{st}</td>']
        kf = r.get("key_figures") or {}
        for k in keys:
            if k in kf:
                text, sort, numeric = _fmt_key_figure(k, kf[k], lang)
                tds.append(f'<td class="{"num" if numeric else ""}" data-sort="{esc(sort)}">{esc(text)}</td>')
            else:
                tds.append('<td data-sort=""></td>')
        when = r.get("rendered_at") or ""
        tds.append(f'<td data-sort="{esc(when)}" class="small">{esc(time_words(when, lang))}</td>')
        dur = (r.get("timings") or {}).get("total_s")
        if isinstance(dur, (int, float)):
            from mkba.formatting import number

            tds.append(f'<td class="num" data-sort="{dur!r}">{esc(number(dur, lang, 1))}</td>')
        else:
            tds.append('<td data-sort=""></td>')
        rows.append(f'<tr data-status="{esc(status)}">' + "".join(tds) + "</tr>")

    summary = label("batch_summary", lang).format(**counts)
    meta = []
    if manifest.get("generated_at"):
        meta.append(f'{esc(label("rendered_at", lang))}: {esc(time_words(str(manifest["generated_at"]), lang))}')
    if manifest.get("mkba_version"):
        meta.append(f"mkba {esc(str(manifest['mkba_version']))}")
    if manifest.get("git_commit"):
        meta.append(f"git {esc(str(manifest['git_commit'])[:12])}")
    options = "".join(f'<option value="{s}">{esc(label(s, lang))}</option>' for s in ("ok", "failed", "skipped"))
    all_label = label("status_all", lang)
    note = ""
    if "perspective" in keys and any(k in _PERSPECTIVE_KEYS for k in keys):
        from mkba.i18n import message

        shown = ", ".join(capital(label(k, lang, default=k)) for k in keys if k in _PERSPECTIVE_KEYS)
        fixed = [capital(label(k, lang, default=k)) for k in keys if k.startswith(("municipal_", "societal_"))]
        note = message("text", "index_perspective_note", lang).format(figures=shown)
        if fixed:
            note += " " + message("text", "index_fixed_perspective_note", lang).format(figures=", ".join(fixed))
        note = f'<p class="meta">{esc(note)}</p>'
    return f"""<!DOCTYPE html>
<html lang="{esc(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{esc(title)}</title>
<style>{_INDEX_CSS}</style>
</head>
<body>
<h1>{esc(title)}</h1>
<p class="meta">{esc(summary)}{" &middot; " if meta else ""}{" &middot; ".join(meta)}</p>
<div class="controls">
<input id="filter" type="search" placeholder="{esc(label("filter_placeholder", lang))}" aria-label="{esc(label("filter", lang))}">
<select id="status-filter" aria-label="{esc(label("status", lang))}"><option value="">{esc(label("status", lang))}: {all_label}</option>{options}</select>
</div>
<table id="reports">
<thead><tr>{"".join(f"<th>{esc(h)}</th>" for h in head_cells)}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
{note}
<script>{_INDEX_JS}</script>
</body>
</html>
"""


"""The `mkba` command line. Heavy imports stay inside commands so start-up stays fast."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import List, Optional

import typer

from .errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Municipal business cases (MKBA) for re-integration of long-term bijstand recipients.")

HEADLINE = ("extra_ended_benefits", "benefit_months_saved", "gross_saving_eur", "programme_cost_eur", "net_result_eur",
            "npv_eur", "bcr", "break_even_month", "cost_per_extra_ended_benefit_eur")


def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"mkba {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="show the mkba version and exit")) -> None:
    pass


def _fail(exc: InputError) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


def _clean(v):
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


def _prices_payload(c) -> dict:
    """The price year of a run's amounts and every amount converted to it (mkba.prices)."""
    from .prices import SOURCE, price_year_note

    return {"price_year": c.price_year, "note_nl": price_year_note(c.price_year, "nl"),
            "note_en": price_year_note(c.price_year, "en"), "index": SOURCE,
            "conversions": [v.as_dict() for _, v in sorted(c.price_conversions.items())]}


@app.command("cases")
def cases_cmd() -> None:
    """List the cases with a one-line description."""
    from .cases import cases_dir
    from .parameters import read_yaml

    broken = []
    for path in sorted(cases_dir().glob("*.yaml")):
        try:
            raw = read_yaml(path)
        except InputError as exc:
            broken.append(exc)
            typer.echo(f"{path.stem:<24} (broken: see the error below)")
            continue
        typer.echo(f"{path.stem:<24} {raw.get('summary', '')}")
    _report_broken(broken)


def _report_broken(broken: list) -> None:
    """Name every broken case file after the good ones were listed; exit 2 if there was one."""
    for exc in broken:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    if broken:
        raise typer.Exit(code=2)


def _check_format(fmt: str, allowed: tuple[str, ...]) -> None:
    if fmt not in allowed:
        raise InputError("unknown format", field="--format", value=fmt, fix="use " + ", ".join(allowed[:-1])
                         + f" or {allowed[-1]}")


def _check_out_dir(out: Path | None, option: str = "--out") -> None:
    """An output folder option must not name an existing file."""
    if out is not None and out.exists() and not out.is_dir():
        raise InputError("this is a file, not a folder", file=str(out), field=option,
                         fix=f"give a folder for {option} (it is created if missing)")


@app.command("run")
def run_cmd(case: str = typer.Argument(..., help="case name or path to a case YAML"),
            set_: List[str] = typer.Option([], "--set", help="override: key=value (repeatable)"),
            variant: Optional[str] = typer.Option(None, "--variant", help="a named variant of the case"),
            scenario: Optional[str] = typer.Option(None, "--scenario", help="hoogconjunctuur | gemiddeld | laagconjunctuur"),
            replay: Optional[int] = typer.Option(None, "--replay", help="run as if the case started in this year (2002-2023; quarterly cycle from 2008)"),
            fmt: str = typer.Option("table", "--format", help="table | json | csv"),
            lang: str = typer.Option("nl", "--lang", help="nl | en: language and number format of the table")) -> None:
    """Run one case and print its headline metrics and per-year table."""
    try:
        from .cases import load_case, parse_set_values
        from .formatting import check_lang
        from .model import summarise

        check_lang(lang)
        if fmt not in ("table", "json", "csv"):
            raise InputError("unknown format", field="--format", value=fmt, fix="use table, json or csv")
        c = load_case(case, parse_set_values(set_), variant=variant)
        path = None
        if scenario:
            from .cycle import resolve_scenario
            from .scenarios import scenario_case

            try:
                resolve_scenario(scenario)
            except InputError as exc:
                raise InputError(exc.problem, field="--scenario", value=scenario, fix=exc.fix) from None
            c = scenario_case(c, scenario)
        if replay is not None:
            from .cycle import REPLAY_START_YEARS, _check_year, multiplier_path

            _check_year(replay, "--replay", *REPLAY_START_YEARS)
            path = multiplier_path(replay, c.months, reference_year=c.measured_in)
        res = summarise(c, cycle_path=path)
        from .cases import check_published_metrics

        check_published_metrics(c, res["metrics"])     # a published figure naming no metric: say so, no KeyError
    except InputError as exc:
        _fail(exc)
        return
    metrics = {k: _clean(v) for k, v in res["metrics"].items()}
    per_year = [{k: _clean(float(v)) if k not in ("year", "months") else int(v) for k, v in row.items()}
                for row in res["per_year"].to_dict("records")]
    if fmt == "json":
        from .compare import published_vs_model

        payload = {"case": {"name": c.name, "title": c.title, "variant": c.variant, "perspective": c.perspective,
                            "start_date": c.start_date.isoformat(), "horizon_months": c.months,
                            "discount_rate": c.value("discount.rate"), "discount_convention": c.discount_convention,
                            "price_year": c.price_year},
                   "prices": _prices_payload(c),
                   "assumptions_hash": c.assumptions_hash(), "metrics": metrics, "per_year": per_year,
                   "scenario": scenario, "replay_start_year": replay,
                   "published": [{k: _clean(v) for k, v in r.items()} for r in published_vs_model(c)]
                   if not (set_ or variant or scenario or replay) else []}
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        typer.echo("metric,value")
        for k, v in metrics.items():
            typer.echo(f"{k},{'' if v is None else v}")
    else:
        typer.echo(run_text(c, res, lang, scenario=scenario, replay=replay, show_published=not set_), nl=False)


def run_text(c, res, lang: str = "nl", *, scenario: str | None = None, replay: int | None = None,
             width: int = 100, show_published: bool = True) -> str:
    """`mkba run`'s table for people: both perspectives, labelled, the scenario, numbers the Dutch way."""
    import textwrap

    from . import views
    from .formatting import format_table

    T = {"nl": {"scenario": "Scenario", "replay": "startjaar {y} (historische conjunctuur)", "per_year":
                "Per jaar ({persp}, nominaal)", "hash": "aannames", "horizon": "{m} maanden vanaf {start}",
                "rate": "discontovoet {r}"},
         "en": {"scenario": "Scenario", "replay": "start year {y} (historical economic cycle)", "per_year":
                "Per year ({persp}, nominal)", "hash": "assumptions", "horizon": "{m} months from {start}",
                "rate": "discount rate {r}"}}[lang]
    scen = T["replay"].format(y=replay) if replay is not None else views._scenario_words(c, scenario, lang)
    head = [views.case_title(c, lang) + (f" ({c.variant})" if c.variant else ""),
            ", ".join([T["horizon"].format(m=c.months, start=views.month_label(c.start_date, lang)),
                       T["rate"].format(r=views.rate_text(c.value("discount.rate"), lang)), scen,
                       f"{T['hash']} {c.assumptions_hash()}"])]
    lines = []
    for h in head:
        lines += textwrap.wrap(h, width)
    both = views.both_perspectives_table(c, res, lang)
    extra = views.headline_table(c, res, lang)
    for k in ("benefit_months_saved", "cost_per_extra_ended_benefit_eur"):
        name = views.label(k, lang)
        if name in extra.index:
            v = extra.loc[name].iloc[0]
            both.loc[name] = [v, ""] if c.perspective == "municipality" else ["", v]
    lines += ["", both.to_string(max_colwidth=40), ""]
    note = views.gross_saving_note(c, lang)
    if note:
        lines += textwrap.wrap(note, width) + [""]
    persp = views.text("perspective_word_" + c.perspective, lang)
    lines.append(T["per_year"].format(persp=persp))
    cols = ["year", "gross_saving_eur", "programme_cost_eur", "net_result_eur", "cumulative_net_eur"]
    py = format_table(res["per_year"][cols].set_index("year"), lang)
    py.columns = [views.text(k, lang, default=str(k)) for k in py.columns]
    lines.append(py.to_string())
    if c.published and not (c.variant or scenario or replay is not None) and show_published:
        lines += [""] + _published_lines(c, lang, width)
    return "\n".join(ln.rstrip() for ln in lines) + "\n"


def _published_lines(c, lang: str, width: int) -> list[str]:
    """Published figures against the model, each marked input / calibrated / derived (issue 10)."""
    import textwrap

    from . import views
    from .compare import published_vs_model
    from .formatting import format_metric, human_reference

    head = {"nl": "Gepubliceerde cijfers (invoer: overgenomen; gekalibreerd: een aanname is erop afgestemd; "
                  "afgeleid: volgt uit de andere aannames):",
            "en": "Published figures (input: typed in; calibrated: a parameter was fitted to it; "
                  "derived: follows from the other inputs):"}[lang]
    status = {"nl": {"derived": "gereproduceerd", "other": "gehaald", "missed": "GEMIST"},
              "en": {"derived": "reproduced", "other": "met", "missed": "MISSED"}}[lang]
    out = textwrap.wrap(head, width)
    for r in published_vs_model(c):
        kind = views.text("kind_" + r.get("kind", "unknown"), lang, default=r.get("kind", ""))
        sign = "≥" if r["comparison"] == "at_least" else ("≤" if r["comparison"] == "at_most" else "=")
        name = views.text(r["metric"], lang, default=r["metric"])
        if r["variant"]:
            name += f" [{r['variant']}]"
        st = (status["derived"] if r.get("kind") == "derived" else status["other"]) if r["ok"] else status["missed"]
        if not r["ok"] and r.get("expected") == "missed":
            st += " " + views.text("missed_expected", lang)
        cite = human_reference(r["reference"], lang, short=True, remark=True)[0]
        line = (f"  {kind.split(':')[0]:<12} {name}: {sign} {format_metric(r['metric'], r['published'], lang)}, "
                f"model {format_metric(r['metric'], r['model'], lang)}, {st} ({cite})")
        out += textwrap.wrap(line, width, subsequent_indent=" " * 15)
    return out


@app.command("compare")
def compare_cmd(fmt: str = typer.Option("table", "--format", help="table | json | csv")) -> None:
    """All cases on a common footing (5 years, 2,25 %, amounts in the latest CPI year's prices): one block per
    perspective (municipality, society)."""
    try:
        _check_format(fmt, ("table", "json", "csv"))
    except InputError as exc:
        _fail(exc)
    from .cases import cases_dir, load_case
    from .compare import COMPARE_PERSPECTIVES, compare_cases
    from .formatting import label

    import pandas as pd

    frames, broken = [], []
    for path in sorted(cases_dir().glob("*.yaml")):
        try:                 # one broken case is named after the others are compared
            load_case(path.stem)
        except InputError as exc:
            broken.append(exc.with_file(str(path)))
            continue
        try:
            frames.append(compare_cases([path.stem]))
        except InputError as exc:
            broken.append(InputError(f"{exc.problem} (on the comparison's common footing: 5 years at 2,25 %)",
                                     file=str(path), field=exc.field, value=exc.value, has_value=exc.has_value,
                                     fix=exc.fix))
    df = pd.concat(frames, ignore_index=True) if frames else None
    if df is not None and "perspective" in df:       # same row order as compare_cases over all cases
        order = {p: i for i, p in enumerate(COMPARE_PERSPECTIVES)}
        df = df.sort_values("perspective", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    if df is None:
        _report_broken(broken or [InputError("no case files", file=str(cases_dir()),
                                             fix="add a case (see `mkba new --help`)")])
    if fmt == "json":
        typer.echo(json.dumps([{k: _clean(v) for k, v in r.items()} for r in df.to_dict("records")], indent=2,
                              ensure_ascii=False))
    elif fmt == "csv":
        typer.echo(df.to_csv(index=False))
    else:
        import pandas as pd

        from .prices import price_year_note

        with pd.option_context("display.width", 200, "display.max_columns", 20):
            typer.echo(price_year_note(int(df["price_year"].iloc[0]), "en")
                       + "; case_price_year: the prices the case itself is stated in")
            for i, view in enumerate(COMPARE_PERSPECTIVES):
                block = df[df["perspective"] == view].drop(columns=["title", "perspective", "price_year"])
                typer.echo(("\n" if i else "") + f"== perspective: {view} - {label(f'perspective_{view}', 'en')} ==")
                typer.echo(block.round(2).to_string(index=False))
    _report_broken(broken)


#: Largest grid per axis of a two-way sweep (a 1.000 x 1.000 grid is a million model runs).
MAX_GRID_POINTS = 1000
#: Largest number of probabilistic draws on one machine (one million fit in 0,5 GiB, README).
MAX_DRAWS = 10_000_000


def _check_sweep_options(prob: int, sobol: int, morris: int, seed: int) -> None:
    if prob < 0 or prob > MAX_DRAWS:
        raise InputError(f"the number of draws must be between 1 and {MAX_DRAWS:,} (0 = no probabilistic run)",
                         field="--prob", value=prob, fix="give e.g. --prob 10000")
    if sobol < 0 or (sobol and sobol & (sobol - 1)):
        raise InputError("Sobol needs a power of two base samples", field="--sobol", value=sobol,
                         fix="give e.g. --sobol 1024")
    if morris < 0 or morris == 1:
        raise InputError("Morris screening needs at least 2 trajectories", field="--morris", value=morris,
                         fix="give e.g. --morris 50")
    if seed < 0:
        raise InputError("the seed must be a non-negative whole number", field="--seed", value=seed,
                         fix="give e.g. --seed 1")


def _grid_spec(spec: str):
    """'name:low:high:points' -> (name, numpy grid)."""
    import numpy as np

    parts = spec.split(":")
    if len(parts) != 4:
        raise InputError("a grid is name:low:high:points", field="--two-way", value=spec,
                         fix="write e.g. baseline.work_exit_rate:0.02:0.12:21")
    name, lo, hi, pts = parts
    try:
        lo_f, hi_f, n = float(lo), float(hi), int(pts)
    except ValueError:
        raise InputError("low and high must be numbers and points a whole number", field="--two-way", value=spec,
                         fix="write e.g. cycle.multiplier:0.5:1.4:19") from None
    if n < 1:
        raise InputError("a grid needs at least one point", field="--two-way", value=spec, fix="give points >= 2")
    if n > MAX_GRID_POINTS:
        raise InputError(f"a grid has at most {MAX_GRID_POINTS} points per axis", field="--two-way", value=spec,
                         fix="give e.g. 21 points")
    from .parameters import check_value
    from .schema import SCHEMA
    from .errors import did_you_mean

    if name not in SCHEMA:
        raise InputError(f"unknown parameter '{name}'", field="--two-way", value=spec, fix=did_you_mean(name, SCHEMA))
    for what, v in (("low", lo_f), ("high", hi_f)):
        check_value(name, v, file="--two-way", what=what)
    if lo_f > hi_f or (lo_f == hi_f and n > 1):
        raise InputError("the grid's low end must be below its high end", field="--two-way", value=spec,
                         fix=f"write {name}:{hi_f:g}:{lo_f:g}:{n}" if lo_f > hi_f else "widen the grid")
    return name, np.linspace(lo_f, hi_f, n)


@app.command("sweep")
def sweep_cmd(case: str = typer.Argument(..., help="case name or path"),
              one_way: bool = typer.Option(False, "--one-way", help="tornado table over every numeric assumption"),
              two_way: List[str] = typer.Option([], "--two-way", help="two grids X Y as name:low:high:points (give twice)"),
              prob: int = typer.Option(0, "--prob", help="probabilistic analysis with this many draws"),
              dists: Optional[Path] = typer.Option(None, "--dists", help="YAML of distributions (default: triangular over the case's ranges)"),
              sobol: int = typer.Option(0, "--sobol", help="Sobol indices with N base samples (a power of two)"),
              morris: int = typer.Option(0, "--morris", help="Morris screening with this many trajectories"),
              scenarios: bool = typer.Option(False, "--scenarios", help="hoogconjunctuur / gemiddeld / laagconjunctuur"),
              replay: bool = typer.Option(False, "--replay", help="historical replay: start years 2008-2023 (observed quarterly cycle)"),
              seed: int = typer.Option(20191, "--seed", help="random seed (draws, Sobol, Morris)"),
              dask: Optional[str] = typer.Option(None, "--dask", help="dask.distributed scheduler address, or 'local'"),
              out: Optional[Path] = typer.Option(None, "--out", "-o", help="also write tables (CSV) and figures (PNG) here"),
              fmt: str = typer.Option("table", "--format", help="table | json | csv"),
              include_defaults: bool = typer.Option(False, "--include-defaults", help="also vary parameters without a documented low/high (default rule)"),
              all_rows: bool = typer.Option(False, "--all", help="one-way table: every parameter, not the top 15"),
              perspective: Optional[str] = typer.Option(None, "--perspective",
                                                        help="municipality | society (default: the case's own)")) -> None:
    """Sensitivity sweeps of a case: one-way, two-way, probabilistic, Sobol, Morris, cycle."""
    import functools

    try:
        from . import sensitivity as sa
        from .cases import load_case
        from .model import evaluate_batch

        _check_format(fmt, ("table", "json", "csv"))
        _check_sweep_options(prob, sobol, morris, seed)
        _check_out_dir(out)
        if dists is not None:
            from .parameters import read_text_file

            if not dists.exists() or dists.is_dir():
                read_text_file(dists, what="distributions file", option="--dists")
        c = load_case(case)
        if perspective is not None:             # e.g. the societal view of Flextensie's displacement
            import dataclasses

            if perspective not in ("municipality", "society"):
                raise InputError("unknown perspective", field="--perspective", value=perspective,
                                 fix="use municipality or society")
            c = dataclasses.replace(c, perspective=perspective)
        model = functools.partial(evaluate_batch, c)
        base = c.values
        selection = sa.case_selection(c, include_defaults=include_defaults) if (one_way or sobol or morris) else None
        ranges = selection.ranges if selection is not None else {}
        executor = None
        from .progress import ProgressExecutor, make_progress

        bar = make_progress()
        if dask:
            from .scaleout import DaskExecutor

            executor = DaskExecutor(None if dask == "local" else dask)
        elif not bar.disable:
            executor = ProgressExecutor(bar, f"{c.name}: model runs")
        bar.start()
        tables: dict = {}
        if one_way:
            if not ranges:
                raise InputError("nothing to vary: no parameter of the case has a documented range (low/high)",
                                 field="--one-way", value=c.name, fix="document low/high in the case file, or add "
                                 "--include-defaults")
            tables["one_way"] = sa.one_way(model, base, ranges, parameters=list(ranges), executor=executor)
            tables["one_way"].attrs["not_varied"] = dict(selection.not_varied)
        if two_way:
            if len(two_way) != 2:
                raise InputError("--two-way needs exactly two grids", field="--two-way", value=two_way,
                                 fix="give --two-way X:lo:hi:n --two-way Y:lo:hi:n")
            res = sa.two_way(model, base, _grid_spec(two_way[0]), _grid_spec(two_way[1]), executor=executor)
            tables["two_way"] = res.to_frame() if hasattr(res, "to_frame") else None
            tables["switching_values"] = sa.switching_values(res)
            if out:
                from .plots import heatmap

                out.mkdir(parents=True, exist_ok=True)
                heatmap(res, "npv_eur").savefig(out / "two_way_npv.png", dpi=110)
        if prob:
            from .views import case_distributions

            d = case_distributions(c)
            if dists:
                from .distributions import check_file_dists, from_yaml

                d = from_yaml(dists)
                check_file_dists(d, base, file=str(dists))
            pr = sa.probabilistic(model, base, d, n=prob, seed=seed, executor=executor)
            tables["probabilistic"] = pr.summary
        if sobol:
            tables["sobol"] = sa.sobol(model, base, ranges, N=sobol, seed=seed, parameters=list(ranges) or None,
                                       executor=executor)
        if morris:
            tables["morris"] = sa.morris(model, base, ranges, N=morris, seed=seed, parameters=list(ranges) or None,
                                         executor=executor)
        if scenarios or replay:
            from .scenarios import replay_table, scenario_table

            if scenarios:
                tables["scenarios"] = scenario_table(c)
            if replay:
                tables["replay"] = replay_table(c)
        if not tables:
            raise InputError("nothing to do", field="sweep", fix="add --one-way, --two-way, --prob N, --sobol N, "
                                                                  "--morris N, --scenarios or --replay")
    except InputError as exc:
        _fail(exc)
        return
    finally:
        if "bar" in locals():
            bar.stop()
    import pandas as pd

    not_varied = tables["one_way"].attrs.get("not_varied", {}) if "one_way" in tables else {}
    tables = {k: (v if isinstance(v.index, pd.RangeIndex) else v.reset_index()) for k, v in tables.items()
              if v is not None}
    if selection is not None and selection.not_varied:
        tables["not_varied"] = selection.not_varied_table()
    if out:
        out.mkdir(parents=True, exist_ok=True)
        for k, v in tables.items():
            v.to_csv(out / f"{c.name}_{k}.csv", index=False)
    if fmt == "json":
        payload = {k: json.loads(v.to_json(orient="records")) for k, v in tables.items()}
        typer.echo(json.dumps({"case": c.name, "assumptions_hash": c.assumptions_hash(), "seed": seed, **payload},
                              indent=2, ensure_ascii=False))
    else:
        with pd.option_context("display.width", 200, "display.max_columns", 30, "display.max_rows", 100):
            for k, v in tables.items():
                if fmt != "csv" and k == "one_way":
                    typer.echo(sa.tornado_text(v, top=None if all_rows else 15, not_varied=not_varied), nl=False)
                    continue
                if fmt != "csv" and k == "not_varied":
                    continue  # listed under the one-way table
                typer.echo(f"== {k}")
                typer.echo(v.to_csv(index=False) if fmt == "csv" else v.round(4).to_string(index=False))


def _parse_params(pairs: list[str]) -> dict:
    """Notebook parameters from key=value (YAML scalars, never evaluated)."""
    import yaml

    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise InputError("expected key=value", field="--param", value=pair, fix="write e.g. --param n_draws=2000")
        key, text = (x.strip() for x in pair.split("=", 1))
        try:
            out[key] = yaml.safe_load(text)
        except yaml.YAMLError:
            out[key] = text
    return out


def build_render_jobs(cases: list[str], *, all_cases: bool, notebook: str | None, municipalities: list[str],
                      approach: str | None, share: float, params: dict, lang: str) -> list:
    """The reports to render, checked before any kernel starts (unknown case, municipality, notebook)."""
    from .cases import list_cases, load_case
    from .parameters import repo_root
    from .render import RenderJob, resolve_notebook

    nb_dir = repo_root() / "notebooks"
    jobs = []
    _check_render_params(params, municipal=bool(municipalities), share=share)
    if municipalities:
        # `--municipalities Zeeland GM0479 "Den Haag"`: words after the option arrive as positional
        # arguments; commas also separate (`--municipalities GM0479,GM0363`)
        municipalities = [m.strip() for spec in [*municipalities, *cases] for m in spec.split(",") if m.strip()]
        from .municipalities import select_municipalities

        if not approach:
            raise InputError("municipal reports need an approach", field="--approach",
                             fix="add --approach <case>, e.g. --approach fip_sittard_geleen")
        base = load_case(approach)
        nb = resolve_notebook(notebook or "municipality", nb_dir)
        from .render import notebook_defaults

        # what every report of the batch shares, computed once before the kernels fork (the report's
        # own parameters decide which draws it needs; a report that differs computes its own)
        eff = {**notebook_defaults(nb), **params}
        rows = list(select_municipalities(municipalities).itertuples())
        warm = [("mkba.views:warm_municipal",
                 {"approach": base.name, "share_reached": share, "lang": params.get("lang", lang),
                  "gm_codes": [row.gm_code for row in rows],
                  **{k: eff[k] for k in ("n_draws", "seed", "scenario") if k in eff}})]
        for row in rows:
            suffix = "" if Path(nb).stem == "municipality" else f"_{Path(nb).stem}"   # never overwrite another report
            jobs.append(RenderJob(name=f"{row.gm_code}_{base.name}{suffix}", notebook=nb,
                                  parameters={"gm_code": row.gm_code, "approach": base.name, "share_reached": share,
                                              **params},
                                  title=f"{row.name}: {base.title}",
                                  extra={"assumptions_hash": base.assumptions_hash(), "gm_code": row.gm_code},
                                  warm=warm))
        return jobs
    names = [n for n, _ in list_cases()] if all_cases else list(cases)
    if not names:
        raise InputError("nothing to render", field="render", fix="name cases, or use --all or --municipalities ...")
    nb = resolve_notebook(notebook or "business_case", nb_dir)
    for name in names:
        c = load_case(name)
        suffix = "" if Path(nb).stem == "business_case" else f"_{Path(nb).stem}"   # never overwrite another report
        title = (c.title_nl or c.title) if lang == "nl" else c.title
        jobs.append(RenderJob(name=c.name + suffix, notebook=nb, parameters={"case": c.name, **params}, title=title,
                              extra={"assumptions_hash": c.assumptions_hash()}))
    if all_cases and notebook is None:
        jobs.append(RenderJob(name="vergelijking", notebook=resolve_notebook("compare_cases", nb_dir), parameters={},
                              title="Alle casussen naast elkaar" if lang == "nl" else "All cases side by side"))
    return jobs


#: notebook parameters that say which report it is: set by the command, never by --param
_IDENTITY_PARAMS = {"case": "name the case as an argument (mkba render CASE)",
                    "gm_code": "choose municipalities with --municipalities",
                    "approach": "use --approach",
                    "share_reached": "use --share"}


def _check_render_params(params: dict, *, municipal: bool, share: float) -> None:
    """Refuse --param values that would give a report another report's figures, and bad ranges."""
    for key, fix in _IDENTITY_PARAMS.items():
        if key in params:
            raise InputError("this parameter names the report (its file name, title and index entry) "
                             "and cannot be overridden", field="--param", value=f"{key}={params[key]}",
                             fix=fix)
    if municipal and not (isinstance(share, (int, float)) and 0 < share <= 1):
        raise InputError("the share of the caseload reached must be a fraction above 0 and at most 1",
                         field="--share", value=share, fix="e.g. --share 0.05 for 5 %")
    if "n_draws" in params:
        n = params["n_draws"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError("the number of random draws must be a whole number of at least 1",
                             field="--param", value=f"n_draws={n}", fix="e.g. --param n_draws=2000")


@app.command("render")
def render_cmd(cases: List[str] = typer.Argument(None, help="cases to render (see `mkba cases`)"),
               all_: bool = typer.Option(False, "--all", help="every case, plus the comparison report"),
               notebook: Optional[str] = typer.Option(None, "--notebook", help="notebook in notebooks/ (default business_case)"),
               municipalities: List[str] = typer.Option([], "--municipalities", help="'all', GM codes, names or provinces (more may follow, or separate with commas)"),
               approach: Optional[str] = typer.Option(None, "--approach", help="the case to apply per municipality"),
               share: float = typer.Option(0.10, "--share", help="share of the caseload reached (municipal reports)"),
               param: List[str] = typer.Option([], "--param", help="notebook parameter key=value (repeatable)"),
               workers: Optional[int] = typer.Option(None, "--workers", help="reports rendered at once (default: 2 per CPU core + 1)"),
               pdf: bool = typer.Option(False, "--pdf", help="also write PDFs (WeasyPrint)"),
               out: Path = typer.Option(Path("reports"), "--out", "-o", help="output directory"),
               resume: bool = typer.Option(False, "--resume", help="skip reports whose notebook, parameters and data are unchanged"),
               dask: Optional[str] = typer.Option(None, "--dask", help="dask.distributed scheduler address"),
               lang: str = typer.Option("nl", "--lang", help="nl | en"),
               timeout: float = typer.Option(600.0, "--timeout", help="seconds per report; a report still running then is stopped and recorded as failed")) -> None:
    """Render reports (HTML, optionally PDF) with index.html and manifest.json."""
    try:
        from .manifest import fingerprint_paths
        from .parameters import data_dir
        from .render import render_batch, validate_jobs

        jobs = build_render_jobs(cases or [], all_cases=all_, notebook=notebook, municipalities=municipalities,
                                 approach=approach, share=share, params=_parse_params(param), lang=lang)
        if workers is None:
            from mkba.render import default_workers

            workers = default_workers()
        validate_jobs(jobs, out, lang=lang, pdf=pdf, dask_address=dask, workers=workers)
        if not timeout > 0:
            raise InputError("the timeout must be a positive number of seconds", field="--timeout",
                             value=timeout, fix="e.g. --timeout 600")
    except InputError as exc:
        _fail(exc)
        return
    fp = fingerprint_paths(data_dir())
    from .progress import make_progress

    bar = make_progress()
    task = bar.add_task("reports", total=len(jobs))

    def progress(event, entry):
        if event == "done":
            bar.advance(task)
            status = entry.get("status")
            secs = entry.get("timings", {}).get("total_s") if isinstance(entry.get("timings"), dict) else None
            extra = f" ({secs:.1f} s)" if isinstance(secs, (int, float)) else ""
            err = f": {entry.get('error', {}).get('summary', '')}" if status == "failed" and isinstance(entry.get("error"), dict) else ""
            typer.echo(f"{status:>8}  {entry.get('name')}{extra}{err}")

    try:
        with bar:
            result = render_batch(jobs, out, workers=workers, pdf=pdf, resume=resume, dask_address=dask, lang=lang,
                                  progress=progress, data_fingerprint=fp, timeout=timeout)
    except InputError as exc:
        _fail(exc)
        return
    except KeyboardInterrupt as exc:
        from .render import Terminated

        typer.echo("interrupted: finished reports are kept", err=True)
        raise typer.Exit(code=143 if isinstance(exc, Terminated) else 130)
    for note in result.notes:
        typer.echo(f"warning: {note}", err=True)
    typer.echo(f"{len(result.ok)} rendered, {len(result.failed)} failed, {len(result.skipped)} unchanged -> {result.index_path}")
    raise typer.Exit(code=result.exit_code)


@app.command("new")
def new_cmd(name: Optional[str] = typer.Argument(None, help="name of the new case: lower-case letters, digits, underscores"),
            from_case: Optional[str] = typer.Option(None, "--from", help="the case or template to start from (name or path)"),
            municipality: List[str] = typer.Option([], "--municipality", "-m", help="GM code or name (repeat, or separate with commas, for several), a province or an arbeidsmarktregio: local figures from CBS, summed"),
            share: float = typer.Option(0.10, "--share", help="share of the algemene bijstand caseload reached, in (0, 1] (0.1 = 10 %)"),
            participants: Optional[int] = typer.Option(None, "--participants", help="number of participants (instead of --share)"),
            start: Optional[str] = typer.Option(None, "--start", help="start date YYYY-MM-DD (default today)"),
            perspective: str = typer.Option("municipality", "--perspective", help="municipality | society (reports show both)"),
            variant: Optional[str] = typer.Option(None, "--variant", help="bake a variant of the from-case into the values"),
            out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="folder to write to (default data/cases)"),
            out_dir_old: Optional[Path] = typer.Option(None, "--out-dir", hidden=True, help="old name of --out"),
            overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing case file"),
            list_templates: bool = typer.Option(False, "--list-templates", help="say which template fits which approach, and stop")) -> None:
    """Write a case file listing every assumption, with local figures from CBS for a municipality."""
    out_dir = out_dir if out_dir is not None else out_dir_old
    try:
        from .local import new_case_file, templates_text, _check_share

        if list_templates:
            typer.echo(templates_text(), nl=False)
            return
        if not name:
            raise InputError("a name for the new case is missing", field="NAME", fix="e.g. `mkba new fip_zaanstad "
                             "--from fip_sittard_geleen -m Zaanstad`")
        if not from_case:
            raise InputError("--from is missing: the case or template to start from", field="--from",
                             fix="give a case (`mkba cases`) or a template (`mkba new --list-templates`)")
        try:
            _check_share(share)
        except InputError as exc:
            raise InputError(exc.problem, field="--share", value=share, fix=exc.fix) from None
        path = new_case_file(name, from_case, municipality or None, out_dir, share, participants=participants,
                             variant=variant, overwrite=overwrite, start=start, perspective=perspective)
    except InputError as exc:
        _fail(exc)
        return
    typer.echo(f"wrote {path}")
    typer.echo(f"fill in title and summary, then check it with `mkba validate {path}`; run it with "
               f"`mkba run {name if out_dir is None else path}`")


@app.command("export")
def export_cmd(case: str = typer.Argument(..., help="case name or path to a case YAML"),
               xlsx: bool = typer.Option(True, "--xlsx", help="write an Excel workbook (the only format so far)"),
               out: Optional[Path] = typer.Option(None, "--out", "-o", help="file or folder (default ./<case>.xlsx)"),
               set_: List[str] = typer.Option([], "--set", help="override: key=value (repeatable)"),
               variant: Optional[str] = typer.Option(None, "--variant", help="a named variant of the case")) -> None:
    """Write the live Excel model (formulas: inputs, per month, results) and the summary, per-year and per-actor
    tables, assumptions and sources to Excel (for controllers)."""
    try:
        from .cases import load_case, parse_set_values
        from .export import export_xlsx

        c = load_case(case, parse_set_values(set_), variant=variant)
        fname = f"{c.name}{'-' + variant if variant else ''}.xlsx"
        if out is not None and out.suffix.lower() not in ("", ".xlsx") and not out.is_dir():
            raise InputError("the export is an Excel workbook", file=str(out), field="--out",
                             value=out.suffix, fix=f"give a folder or a file name ending in .xlsx, e.g. {fname}")
        if out is not None and out.exists() and not out.is_dir() and out.suffix.lower() != ".xlsx":
            raise InputError("this is a file, not a folder", file=str(out), field="--out",
                             fix="give a folder (it is created if missing) or a .xlsx file name")
        is_file = out is not None and out.suffix.lower() == ".xlsx" and not out.is_dir()
        target = out if is_file else (out or Path.cwd()) / fname
        path = export_xlsx(c, target)
    except InputError as exc:
        _fail(exc)
        return
    typer.echo(f"wrote {path}")


@app.command("calibrate")
def calibrate_cmd(case: str = typer.Argument(..., help="case name or path to a case YAML"),
                  write: bool = typer.Option(False, "--write", help="write the fitted values with provenance into the case file"),
                  identify: bool = typer.Option(True, "--identify/--no-identify",
                                                help="also search the plausible ranges for every parameter set that meets the targets"),
                  fmt: str = typer.Option("table", "--format", help="table | json"),
                  variant: str | None = typer.Option(None, "--variant",
                                                     help="fit a named variant (--write writes into its overrides)")) -> None:
    """Fit the case's free parameters to its published targets (calibration: section), print the
    residuals and how well the published figures pin down the headline results."""
    try:
        from . import fitting
        from .cases import load_case

        if fmt not in ("table", "json"):
            raise InputError("unknown format", field="--format", value=fmt, fix="use table or json")
        c = load_case(case, variant=variant)
        result = fitting.calibrate(c)
        ident = fitting.identify(c) if identify else None
        written = fitting.write_fitted(c, result) if write else None
    except InputError as exc:
        _fail(exc)
        return
    if fmt == "json":
        payload = {"case": c.name, "fitted": result.values, "start": result.start,
                   "bounds": {k: list(v) for k, v in result.bounds.items()},
                   "targets": [{k: _clean(v) for k, v in r.items()} for r in result.residual_table().to_dict("records")],
                   "evaluations": result.evaluations, "written": written}
        if ident is not None:
            payload["identification"] = {
                "grid_points": ident.n_grid, "sets": len(ident.sets),
                "free": {k: [float(v.min()), float(v.max()), len(v)] for k, v in ident.grid.items()},
                "ranges": [{k: _clean(v) for k, v in r.items()} for r in ident.ranges.to_dict("records")]}
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    typer.echo(f"{c.title}: calibration ({c.perspective} view, {c.months} months)")
    typer.echo(f"fitted with scipy.optimize.least_squares ({result.evaluations} model evaluations):")
    for n, v in result.values.items():
        lo, hi = result.bounds[n]
        typer.echo(f"  {n:<36} {result.start[n]:>14.6g} -> {v:<14.6g} range [{lo:g}, {hi:g}]")
    typer.echo("targets (published figure, model at the fit, residual):")
    for r in result.residual_table().to_dict("records"):
        sign = ">=" if r["comparison"] == "at_least" else ("<=" if r["comparison"] == "at_most" else "=")
        tol = f" +- {r['tolerance']:g}" if r["comparison"] == "approx" else ""
        typer.echo(f"  {r['metric']:<44} {sign} {r['published']:<12g}{tol:<10} model {r['model']:<14.6g} "
                   f"residual {r['residual']:+.3g}  {'ok' if r['ok'] else 'MISSED'}  ({r['reference']})")
    if ident is not None:
        axes = ", ".join(f"{k} {v.min():g}..{v.max():g} ({len(v)})" for k, v in ident.grid.items())
        typer.echo(f"identification: {len(ident.sets)} of {ident.n_grid} parameter sets on the grid over the plausible "
                   f"ranges ({axes}) meet every target within its tolerance")
        if len(ident.sets):
            for k in ident.grid:
                typer.echo(f"  {k:<36} {ident.sets[k].min():g} .. {ident.sets[k].max():g}")
            typer.echo("headline ranges across them:")
            for r in ident.ranges.to_dict("records"):
                lo, hi = r["min"], r["max"]
                money = r["metric"].endswith("_eur")
                fmt_ = (lambda x: f"EUR {x:,.0f}") if money else (lambda x: f"{x:,.2f}")
                never = f" (never in {r['never']} sets)" if r["never"] else ""
                span = "n/a" if math.isnan(lo) else f"{fmt_(lo)} .. {fmt_(hi)}"
                typer.echo(f"  {r['perspective']:<13} {r['metric']:<18} {span}{never}")
    if written is not None:
        typer.echo(f"wrote {', '.join(f'{k} = {v:g}' for k, v in written.items())} with provenance to {c.source_file}")


@app.command("validate")
def validate_cmd(file: Path = typer.Argument(..., help="a case or parameter YAML file")) -> None:
    """Check a case or parameter file; print what is wrong and how to fix it."""
    try:
        from .parameters import load_parameter_file, read_yaml

        raw = read_yaml(file)
        if "name" in raw or "start_date" in raw or "extends" in raw or "overrides" in raw:
            from .cases import validate_case_fully

            c, variants = validate_case_fully(file)
            from .local import PLACEHOLDER, placeholders
            from .readings import stale_readings

            for fld in placeholders(c):
                typer.echo(f"warning: {file}: field '{fld}' still holds the placeholder {PLACEHOLDER} of mkba new "
                           f"(got '{getattr(c, fld)}'). Fix: write the {fld} (Dutch) in the file")
            for st in stale_readings(c):
                typer.echo(f"warning: {file}: {st.describe()}. Fix: rewrite the reading for the new values "
                           "(and its 'values:'), or delete it")
            from .model import case_warnings

            for w in case_warnings(c):
                typer.echo(f"warning: {file}: {w}")
            from .scenarios import downturn_check

            if (w := downturn_check(c)) is not None:
                typer.echo(f"warning: {file}: {w}")
            checked = f", variants {', '.join(variants)}" if variants else ""
            typer.echo(f"ok: case {c.name} ({len(c.values)} parameters, assumptions {c.assumptions_hash()}"
                       f"{checked}; {len(c.published)} published figures name known metrics)")
        else:
            params = load_parameter_file(file)
            typer.echo(f"ok: parameter file with {len(params)} entries")
    except InputError as exc:
        _fail(exc)


def main() -> None:  # console-script entry point
    from mkba.render import without_iri_format_checker

    without_iri_format_checker()   # a second less before the first report (see its docstring)
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

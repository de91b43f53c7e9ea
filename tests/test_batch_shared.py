"""The municipal batch's shared work (computed once in the fork server) equals each report's own.

No timings here (speed is shown in benchmarks/bench_municipal.py); these tests check that what the
batch hands to its reports is the same computation a report rendered alone makes.
"""
from __future__ import annotations

import numpy as np
import pytest

from mkba import views

APPROACH, SHARE = "fip_sittard_geleen", 0.1
CODES = ["GM0654", "GM0060", "GM0718"]   # two with a caseload, GM0060 without (CBS gives none)


@pytest.fixture
def clean_shared():
    """Empty batch caches; afterwards the caches, matplotlib's rcParams and pandas' display options
    (the rehearsal runs views.setup) as they were."""
    import matplotlib
    import pandas as pd

    from mkba import local

    saved = (dict(views._MUNICIPAL_CASES), dict(views._MUNICIPAL_DRAWS), dict(local._SHARED_TABLES))
    views._MUNICIPAL_CASES.clear(), views._MUNICIPAL_DRAWS.clear(), local._SHARED_TABLES.clear()
    options = {k: pd.get_option(k) for k in ("display.max_colwidth", "display.max_rows")}
    with matplotlib.rc_context():
        yield
    for k, v in options.items():
        pd.set_option(k, v)
    views._MUNICIPAL_CASES.clear(), views._MUNICIPAL_DRAWS.clear(), local._SHARED_TABLES.clear()
    views._MUNICIPAL_CASES.update(saved[0]), views._MUNICIPAL_DRAWS.update(saved[1])
    local._SHARED_TABLES.update(saved[2])


def test_all_municipalities_draws_in_one_call_equal_each_municipality_alone(clean_shared, monkeypatch):
    from mkba import model

    calls = []
    real = model.evaluate_batch

    def counting(case, overrides=None, **kw):
        calls.append(max((np.size(v) for v in (overrides or {}).values()), default=1))
        return real(case, overrides, **kw)

    monkeypatch.setattr(model, "evaluate_batch", counting)
    n = 250
    rows = views.share_municipal_draws(APPROACH, SHARE, n, 7, gm_codes=CODES)
    # two municipalities with a caseload: 2 x 250 draws in ONE model call (after the small probes)
    assert rows == 2 * n and calls[-1] == 2 * n and calls.count(2 * n) == 1
    monkeypatch.setattr(model, "evaluate_batch", real)

    def no_model_run(*a, **k):
        raise AssertionError("the report ran the draws itself although the batch computed them")

    for gm in CODES:
        c, facts = views.municipality_case(gm, APPROACH, SHARE)
        alone, alone_facts = views._municipality_case(gm, APPROACH, SHARE)
        assert repr(facts) == repr(alone_facts)   # (NaN fields: compare the written form)
        if c is not None:   # the answer's other perspective, shared: equal to the case's own run
            import dataclasses

            shared = views._OTHER_PERSPECTIVE[id(c)][2]
            own = model.evaluate_batch(dataclasses.replace(alone, perspective="society"))
            assert shared["npv_eur"] == pytest.approx(float(own["npv_eur"][0]), rel=1e-12, abs=1e-6)
            assert shared["break_even_month"] == float(own["break_even_month"][0]) or (
                np.isnan(shared["break_even_month"]) and np.isnan(own["break_even_month"][0]))
        if gm == "GM0060":
            assert c is None and alone is None
            continue
        assert c is not alone and c.assumptions_hash() == alone.assumptions_hash()
        with monkeypatch.context() as m:
            m.setattr("mkba.sensitivity.probabilistic", no_model_run)
            shared, _ = views.probabilistic_view(c, n, 7, "nl", figure=False)
        own, _ = views.probabilistic_view(alone, n, 7, "nl", figure=False)
        for metric in own.values:
            np.testing.assert_array_equal(shared.values[metric], own.values[metric], err_msg=f"{gm} {metric}")
        assert shared.p_positive == own.p_positive and shared.p_break_even == own.p_break_even
        assert shared.chances.equals(own.chances)
    # other draws (n, seed) or another case object: computed by the report itself
    c, _ = views.municipality_case(CODES[0], APPROACH, SHARE)
    with monkeypatch.context() as m:
        m.setattr("mkba.sensitivity.probabilistic", no_model_run)
        with pytest.raises(AssertionError, match="ran the draws itself"):
            views.probabilistic_view(c, n, 8, "nl", figure=False)


def test_the_rehearsal_leaves_no_figure_and_keeps_the_backend(clean_shared, monkeypatch):
    import matplotlib
    import matplotlib.pyplot as plt

    monkeypatch.setenv("MPLBACKEND", "agg")
    views.rehearse_municipal(APPROACH, SHARE, "nl", 50, 1, gm_codes=CODES[:1])
    assert plt.get_fignums() == []
    assert matplotlib.get_backend().lower() == "agg"


def test_peer_table_of_a_report_without_scenario_comes_from_the_shared_batch(clean_shared, monkeypatch):
    """A report that names no cycle scenario shows its peers as measured (""); the batch computes
    that scenario for all municipalities too, so the report runs no model for its peers, and the
    table equals the one computed alone."""
    from mkba import local, model

    alone = views.peers_view(APPROACH, "GM0654", SHARE, "nl", scenario="")[0]
    local.share_municipal_batch(views.load_case(APPROACH), SHARE)

    def no_model_run(*a, **k):
        raise AssertionError("the report computed its peers itself although the batch computed them")

    monkeypatch.setattr(model, "evaluate_batch", no_model_run)
    shared = views.peers_view(APPROACH, "GM0654", SHARE, "nl", scenario="")[0]
    assert list(shared["gm_code"]) == list(alone["gm_code"]) and len(shared) > 3
    for col in ("npv_eur", "npv_per_participant_eur", "rank"):
        np.testing.assert_array_equal(shared[col].to_numpy(float), alone[col].to_numpy(float), err_msg=col)
    assert shared.attrs["rank"] == alone.attrs["rank"]


def test_shared_results_made_in_another_process_are_found_by_the_reports(clean_shared, monkeypatch):
    """The fork server gets the batch's model work from a helper process, pickled
    (views.prepare_municipal, views.install_municipal_state): afterwards a report finds its draws
    (keyed by its case object, so the keys are made anew) and its peer table without running the
    model, with the figures of a report computed alone."""
    import pickle

    from mkba import model

    n, seed = 120, 5
    state = pickle.loads(pickle.dumps(views.prepare_municipal(APPROACH, SHARE, "nl", n, seed, gm_codes=CODES)))
    alone = {gm: views._municipality_case(gm, APPROACH, SHARE)[0] for gm in CODES}
    own = {gm: views.probabilistic_view(c, n, seed, "nl", figure=False)[0] for gm, c in alone.items() if c}
    own_peers = views.peers_view(APPROACH, "GM0654", SHARE, "nl", scenario="")[0]
    views._MUNICIPAL_CASES.clear(), views._MUNICIPAL_DRAWS.clear()
    from mkba import local

    local._SHARED_TABLES.clear()
    views.install_municipal_state(state)

    def no_model_run(*a, **k):
        raise AssertionError("the report ran the model although the batch computed it")

    monkeypatch.setattr("mkba.sensitivity.probabilistic", no_model_run)
    monkeypatch.setattr(model, "evaluate_batch", no_model_run)
    for gm, mine in own.items():
        c, _ = views.municipality_case(gm, APPROACH, SHARE)
        shared, _ = views.probabilistic_view(c, n, seed, "nl", figure=False)
        for metric in mine.values:
            np.testing.assert_array_equal(shared.values[metric], mine.values[metric], err_msg=f"{gm} {metric}")
        assert shared.chances.equals(mine.chances)
    peers = views.peers_view(APPROACH, "GM0654", SHARE, "nl", scenario="")[0]
    np.testing.assert_array_equal(peers["npv_eur"].to_numpy(float), own_peers["npv_eur"].to_numpy(float))


@pytest.mark.slow
def test_the_fork_server_takes_the_batch_work_from_its_helper_and_does_it_itself_if_that_fails(tmp_path):
    from mkba.kernels import DEFAULT_PRELOAD, ForkServer

    kw = {"approach": APPROACH, "share_reached": SHARE, "lang": "nl", "gm_codes": CODES[:1], "n_draws": 50}
    good = ForkServer(DEFAULT_PRELOAD, cwd=str(tmp_path), warm=[("mkba.views:warm_municipal", kw)]).start()
    bad = ForkServer(DEFAULT_PRELOAD, cwd=str(tmp_path),
                     warm=[("mkba.views:warm_municipal", dict(kw, approach="no_such_case"))]).start()
    try:
        info = good.wait_ready()
        assert info["failed"] == {} and info["prepared"] == ["mkba.views:warm_municipal"]
        assert "mkba.views:warm_municipal" in info["loaded"]
        info = bad.wait_ready()   # the helper failed; the fork server tried the work itself and is ready
        assert info["prepared"] == [] and "mkba.views:warm_municipal" not in info["loaded"]
        assert set(info["failed"]) == {"mkba.views:warm_municipal (helper)", "mkba.views:warm_municipal"}
        assert "no_such_case" in info["failed"]["mkba.views:warm_municipal"]
    finally:
        good.close(), bad.close()


def test_warming_with_a_prepared_state_runs_no_model_for_what_it_holds(clean_shared, monkeypatch):
    """warm_municipal(prepared=...) installs the helper's results instead of computing them again."""
    import pickle

    from mkba import model

    kw = dict(approach=APPROACH, share_reached=SHARE, lang="nl", n_draws=80, seed=3, gm_codes=CODES)
    state = pickle.loads(pickle.dumps(views.prepare_municipal(**kw)))
    views._MUNICIPAL_CASES.clear(), views._MUNICIPAL_DRAWS.clear()
    from mkba import local

    local._SHARED_TABLES.clear()
    calls = []
    real = model.evaluate_batch
    monkeypatch.setattr(model, "evaluate_batch", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    monkeypatch.setattr("mkba.sensitivity.probabilistic", lambda *a, **k: (calls.append(2), None)[1])
    monkeypatch.setenv("MPLBACKEND", "agg")
    views.warm_municipal(**kw, prepared=state)
    assert calls == [] and len(views._MUNICIPAL_DRAWS) == 2


def _gone(pid: int) -> bool:
    """The process has exited (a zombie left for its new parent to reap counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.slow
def test_closing_a_fork_server_that_is_still_warming_kills_its_helper_too(tmp_path):
    """A batch stopped while the fork server waits for its helper leaves no process behind (close
    kills the fork server's process group); fails when close kills the fork server alone."""
    import os
    import time

    from mkba.kernels import ForkServer

    (tmp_path / "slowwarm.py").write_text(
        "import os, time\n"
        "def warm(**kw):\n    pass\n"
        "def _prepare(pidfile):\n"
        "    open(pidfile + '.tmp', 'w').write(str(os.getpid())); os.replace(pidfile + '.tmp', pidfile)\n"
        "    time.sleep(600)\n"
        "warm.prepare = _prepare\n")
    pidfile = str(tmp_path / "helper.pid")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    server = ForkServer([], cwd=str(tmp_path), env=env, warm=[("slowwarm:warm", {"pidfile": pidfile})]).start()
    try:
        deadline = time.monotonic() + 120
        while not os.path.exists(pidfile):
            assert server.alive and time.monotonic() < deadline, "the helper never started"
            time.sleep(0.05)
        helper, zygote = int(open(pidfile).read()), server.proc.pid
        assert not _gone(helper)
    finally:
        server.close()
    deadline = time.monotonic() + 10
    while not (_gone(helper) and _gone(zygote)) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in (zygote, helper) if not _gone(pid)]
    for pid in left:                  # leave nothing running when the test fails
        os.kill(pid, 9)
    assert zygote not in left, "the fork server is still running"
    assert helper not in left, "the fork server's helper outlived close()"

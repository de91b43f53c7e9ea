"""JupyterLab in a real browser (issue 12, point 6): run all cells of local_case.ipynb, move a slider,
and see the headline and the chart change in the same view.

Needs Debian's chromium and chromium-driver (installed by .ci/run), selenium and jupyterlab (the test
extra). Skipped with the reason when one of them is missing outside CI.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _need(what: str, ok: bool):
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing; .ci/run installs it")
        pytest.skip(f"{what} is missing (apt-get install chromium chromium-driver; pip install -e '.[test]')")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    _need("chromium", bool(shutil.which("chromium")))
    _need("chromedriver (chromium-driver)", bool(shutil.which("chromedriver")))
    for mod in ("selenium", "jupyterlab"):
        try:
            __import__(mod)
        except ImportError:
            _need(mod, False)
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOKS / "local_case.ipynb", root / "local_case.ipynb")
    port, token = _free_port(), "mkba-test-token"
    env = {k: v for k, v in os.environ.items() if k != "MKBA_RENDERING"}
    env["JUPYTER_CONFIG_DIR"] = str(root / ".jupyter")          # no user settings, no news/announcements
    proc = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                             f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}",
                             "--LabApp.expose_app_in_browser=True", "--ServerApp.disable_check_xsrf=True",
                             "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
                            + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("JupyterLab did not start on 127.0.0.1 within 60 s")
        yield f"http://127.0.0.1:{port}/lab/tree/local_case.ipynb?token={token}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1800"):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    yield d
    d.quit()


def _wait(driver, fn, timeout=60.0, what="condition"):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = fn()
            if last:
                return last
        except Exception as exc:  # noqa: BLE001 - the page is still building
            last = exc
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


HEADLINE_JS = "const e = document.querySelectorAll('.mkba-headline'); return e.length ? e[e.length - 1].innerText : null;"
CHART_JS = ("const o = document.querySelector('.widget-output'); if (!o) return null;"
            "const i = o.querySelector('img'); return i ? i.src.length + ':' + i.src.slice(-200) : null;")


@pytest.mark.slow
def test_sliders_update_headline_and_chart_in_jupyterlab(lab, driver):
    from selenium.webdriver.common.keys import Keys

    driver.get(lab)
    _wait(driver, lambda: driver.execute_script(
        "return !!(window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.connectionStatus === 'connected')"),
        what="the notebook and its kernel")
    driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    before = _wait(driver, lambda: driver.execute_script(HEADLINE_JS), 90, "the headline")
    chart_before = _wait(driver, lambda: driver.execute_script(CHART_JS), 30, "the chart in the widget view")
    sliders = driver.find_elements("css selector", ".mkba-slider .noUi-handle")
    assert len(sliders) >= 3, "sliders not shown"
    labels = driver.execute_script("return Array.from(document.querySelectorAll('.widget-hbox .widget-label'))"
                                   ".map(e => e.innerText)")
    assert any("Deelnemers bij de start" in t for t in labels), labels   # Dutch labels, not identifiers
    handle = sliders[0]                                                  # participants, whole persons
    handle.click()
    for _ in range(5):
        handle.send_keys(Keys.ARROW_RIGHT)
    after = _wait(driver, lambda: (lambda t: t if t and t != before else None)(driver.execute_script(HEADLINE_JS)),
                  60, "the headline to change")
    chart_after = _wait(driver, lambda: (lambda t: t if t and t != chart_before else None)(
        driver.execute_script(CHART_JS)), 30, "the chart to change")
    assert after != before and chart_after != chart_before
    if os.environ.get("MKBA_SCREENSHOT_DIR"):                            # for a reader's look
        driver.save_screenshot(str(Path(os.environ["MKBA_SCREENSHOT_DIR"]) / "jupyterlab_local_case.png"))
    # one view: the headline shown once, no stale copy next to it
    assert driver.execute_script("return document.querySelectorAll('.widget-output .mkba-headline').length") == 1

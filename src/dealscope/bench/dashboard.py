"""How fast the dashboard draws: from navigating to the executive summary to its charts drawn
in a real browser (Debian's Chromium, driven by Playwright), on a generated brokerage served
by the API and the Streamlit app on loopback ports.

The browser helpers here are shared with the dashboard's browser test."""

from __future__ import annotations

import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from dealscope.api.app import create_app
from dealscope.config import Environment, Settings
from dealscope.dashboard import APP_PATH
from dealscope.demo.generator import BrokerageSpec, generate_brokerage
from dealscope.demo.loader import load_brokerage
from dealscope.demo.users import create_demo_users
from dealscope.errors import ConfigurationError
from dealscope.kit.crypto import PiiCipher
from dealscope.kit.processes import http_status, wait_until
from dealscope.warehouse.engine import open_warehouse
from dealscope.warehouse.migrate import upgrade

CHROMIUM = Path("/usr/bin/chromium")
TARGET_SECONDS = 2.0
SUMMARY_TITLE = "Executive summary"
SUMMARY_CHARTS = 3  # revenue to date, pipeline health, top agents (the demo has closings)

# Per visible Plotly chart, how many drawn marks it holds (bars, points, slices, gauges...).
DRAWN_MARKS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')]
  .filter(p => p.offsetParent !== null)
  .map(p => p.querySelectorAll(
     'g.trace, .indicatorlayer g, g.sankey, g.slice, .hm image, g.point, path.surface').length)"""
ALL_DRAWN_JS = (
    f"() => (d => d.length > 0 && d.every(n => n > 0))(({DRAWN_MARKS_JS})())"
    " && !document.querySelector('[data-testid=\"stSkeleton\"]')"
    " && !document.querySelector('[data-testid=\"stSpinner\"]')"
)


def require_chromium() -> Path:
    """Debian's Chromium, or ConfigurationError saying how to install it."""
    if not CHROMIUM.exists():
        raise ConfigurationError(
            f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium); "
            "the dashboard is never tested in a downloaded browser"
        )
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- browser steps ------------------------------------------------------------------------


def sign_in(page: Any, url: str, email: str, password: str, title: str) -> None:
    """Open `url` (any page's address), sign in, and wait for the page titled `title`."""
    page.goto(url)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=30_000)


def open_sidebar(page: Any) -> None:
    """Unfold the sidebar when it is folded (always, at first, on a phone)."""
    expand = page.locator('[data-testid="stExpandSidebarButton"]')
    if expand.is_visible():
        expand.click()
        page.wait_for_timeout(300)  # the slide-in animation


def open_page(page: Any, title: str) -> None:
    """Click `title` in the navigation (opening the collapsed sidebar on a phone)."""
    open_sidebar(page)
    link = page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title)
    link.click()
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=30_000)


def close_sidebar(page: Any) -> None:
    """On a phone the sidebar covers the page after navigating: fold it away."""
    collapse = page.locator('[data-testid="stSidebarCollapseButton"] button')
    if page.viewport_size["width"] < 640 and collapse.count() and collapse.first.is_visible():
        collapse.first.click()
        page.wait_for_timeout(400)  # the slide-out animation


def screenshot_whole(page: Any, path: Path) -> None:
    """The whole page, not just the viewport: Streamlit scrolls inside its main block, so
    the viewport is stretched to the content's height for the shot."""
    size = page.viewport_size
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
        " return m ? m.scrollHeight : document.body.scrollHeight }"
    )
    page.set_viewport_size(
        {"width": size["width"], "height": min(max(height, size["height"]), 8000)}
    )
    page.wait_for_timeout(500)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)


def wait_drawn(page: Any, timeout_ms: int = 30_000, at_least: int = 1) -> list[int]:
    """Wait until at least `at_least` Plotly charts are on the page and every visible one
    has drawn marks; the marks per chart."""
    page.wait_for_function(
        f"() => ({DRAWN_MARKS_JS})().length >= {at_least} && ({ALL_DRAWN_JS})()",
        timeout=timeout_ms,
        polling=25,
    )
    marks: list[int] = page.evaluate(DRAWN_MARKS_JS)
    return marks


def wait_settled(page: Any, timeout_ms: int = 30_000) -> list[int]:
    """Wait until the page's script has finished (Streamlit's script state, and the same
    elements twice in a row 400 ms apart) and every visible chart has drawn; the marks per
    chart."""
    count = "() => document.querySelectorAll('[data-testid=\"stElementContainer\"]').length"
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"stApp\"]')"
            "?.getAttribute('data-test-script-state') !== 'running'"
            f" && (({DRAWN_MARKS_JS})().length === 0 || ({ALL_DRAWN_JS})())",
            timeout=timeout_ms,
            polling=50,
        )
        before = page.evaluate(count)
        page.wait_for_timeout(400)
        if page.evaluate(count) == before or time.monotonic() > deadline:
            marks: list[int] = page.evaluate(DRAWN_MARKS_JS)
            return marks


# --- the servers ------------------------------------------------------------------------


@contextmanager
def served_dashboard(data_dir: Path, leads: int, seed: int) -> Iterator[tuple[str, str, str]]:
    """A generated brokerage (ending today) behind the API and the dashboard on loopback
    ports; yields the dashboard's URL and the admin's email and password."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment=Environment.TEST,
        data_dir=data_dir,
        rate_limit_per_minute=1_000_000,
    )
    from cryptography.fernet import Fernet

    with open_warehouse(settings.resolved_database_url) as warehouse:
        upgrade(warehouse)
        today = dt.datetime.now(dt.UTC).date()
        brokerage = generate_brokerage(BrokerageSpec(leads=leads, seed=seed, end=today))
        cipher = PiiCipher([Fernet.generate_key()], os.urandom(32))
        loaded = load_brokerage(warehouse, brokerage, "bench-dashboard", cipher=cipher)
        admin = next(x for x in create_demo_users(warehouse, loaded.tenant_id) if x.role == "admin")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    api_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    port = free_port()
    log = (data_dir / "streamlit.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP_PATH), "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=APP_PATH.parent, env=os.environ | {"DEALSCOPE_API_URL": api_url},
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until(lambda: server.started, lambda: not thread.is_alive(), 60):
            raise RuntimeError("the API did not start")
        ready = wait_until(
            lambda: http_status(f"{url}/_stcore/health") == 200,
            lambda: process.poll() is not None,
            60,
        )
        if not ready:
            raise RuntimeError(f"the dashboard did not start; see {data_dir / 'streamlit.log'}")
        yield url, admin.email, admin.password
    finally:
        process.terminate()
        process.wait(20)
        log.close()
        server.should_exit = True
        thread.join(10)


# --- the benchmark ------------------------------------------------------------------------


def time_summary(page: Any, runs: int) -> list[float]:
    """Seconds from clicking "Executive summary" (coming from another page) to its charts
    drawn, `runs` times."""
    samples = []
    for _ in range(runs):
        open_page(page, "Pipeline")
        wait_settled(page)
        started = time.perf_counter()
        open_page(page, SUMMARY_TITLE)
        wait_drawn(page, at_least=SUMMARY_CHARTS)
        samples.append(time.perf_counter() - started)
    return samples


def bench_dashboard(leads: int, runs: int, seed: int = 42) -> dict[str, Any]:
    """Median and spread of navigation-to-charts-drawn for the executive summary, at laptop
    (1366x768) and phone (390x844) sizes, plus the first load after signing in."""
    from playwright.sync_api import sync_playwright

    chromium = require_chromium()
    viewports: dict[str, dict[str, Any]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="dealscope-bench-dashboard-") as tmp,
        served_dashboard(Path(tmp), leads, seed) as (url, email, password),
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            for width, height in ((1366, 768), (390, 844)):
                page = browser.new_page(viewport={"width": width, "height": height})
                started = time.perf_counter()
                sign_in(page, url, email, password, SUMMARY_TITLE)
                charts = wait_drawn(page, at_least=SUMMARY_CHARTS)
                first = time.perf_counter() - started
                samples = time_summary(page, runs)
                viewports[f"{width}x{height}"] = {
                    "first_load_after_sign_in_s": round(first, 3),
                    "median_s": round(statistics.median(samples), 3),
                    "min_s": round(min(samples), 3),
                    "max_s": round(max(samples), 3),
                    "runs": [round(s, 3) for s in samples],
                    "charts": len(charts),
                    "met": statistics.median(samples) < TARGET_SECONDS,
                }
                page.close()
        finally:
            browser.close()
    return {
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "leads": leads,
        "seed": seed,
        "runs": runs,
        "target_median_s": TARGET_SECONDS,
        "measure": "click on 'Executive summary' in the navigation (from the Pipeline page) "
        "until every visible Plotly chart of the summary has drawn marks",
        "viewports": viewports,
    }

"""The dashboard in Debian's Chromium (Playwright): sign in, visit every page at laptop and
phone sizes, no Streamlit error, every visible Plotly chart drawn; screenshots are kept."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_served import ServedTenant

from dealscope.dashboard import APP_PATH
from dealscope.dashboard.navigation import ANALYTICS, SETTINGS
from dealscope.kit.processes import http_status, wait_until

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORTS = [(1366, 768), (390, 844)]
DRAWN = """() => [...document.querySelectorAll('.js-plotly-plot')]
    .filter(p => p.offsetParent !== null)
    .map(p => p.querySelectorAll('g.trace, .indicatorlayer g, g.sankey, g.slice, .hm image, g.point, path.surface').length)"""


@pytest.fixture(scope="module")
def dashboard_url(
    served_tenant: ServedTenant, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (tmp_path_factory.mktemp("streamlit") / "streamlit.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP_PATH), "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=APP_PATH.parent, env=os.environ | {"DEALSCOPE_API_URL": served_tenant.url},
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: http_status(f"{url}/_stcore/health") == 200, lambda: False, 60)
        yield url
    finally:
        process.terminate()
        process.wait(20)
        log.close()


def test_every_page_draws_at_laptop_and_phone_sizes(
    dashboard_url: str, served_tenant: ServedTenant, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)"
        )
    from playwright.sync_api import sync_playwright

    shots = tmp_path_factory.mktemp("screenshots")
    login = served_tenant.logins["admin"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            for width, height in VIEWPORTS:
                page = browser.new_page(viewport={"width": width, "height": height})
                for spec in (*ANALYTICS, SETTINGS):
                    page.goto(f"{dashboard_url}/{spec.url_path}")
                    page.get_by_label("Email").fill(login.email)
                    page.get_by_label("Password", exact=True).fill(login.password)
                    page.get_by_role("button", name="Sign in").click()
                    page.get_by_role("heading", name=spec.title, level=1).wait_for(timeout=30_000)
                    if spec.url_path != "settings":
                        page.wait_for_function(
                            f"() => (d => d.length > 0 && d.every(n => n > 0))(({DRAWN})()) && !document.querySelector('[data-testid=\"stSkeleton\"]')",
                            timeout=30_000,
                        )
                    page.wait_for_timeout(300)
                    page.screenshot(
                        path=str(shots / f"{spec.url_path}-{width}.png"), full_page=True
                    )
                    assert page.locator('[data-testid="stException"]').count() == 0, spec.url_path
                    errors = page.locator('[data-testid="stAlertContentError"]')
                    assert errors.count() == 0, errors.all_inner_texts()
                    drawn = page.evaluate(DRAWN)
                    if spec.url_path != "settings":
                        assert drawn and all(n > 0 for n in drawn), (spec.url_path, drawn)
                page.close()
        finally:
            browser.close()
    print(f"screenshots in {shots}")

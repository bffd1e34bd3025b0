"""The dashboard in Debian's Chromium (Playwright): sign in, visit every page at laptop and
phone sizes, no Streamlit error, every visible Plotly chart drawn; screenshots are kept
(under DEALSCOPE_TEST_SCREENSHOTS when set, else a pytest tmp folder)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_served import ServedTenant

from dealscope.bench.dashboard import (
    CHROMIUM,
    close_sidebar,
    free_port,
    open_page,
    open_sidebar,
    screenshot_whole,
    sign_in,
    wait_drawn,
    wait_settled,
)
from dealscope.dashboard import APP_PATH
from dealscope.dashboard.navigation import ANALYTICS, OPERATIONS, SETTINGS
from dealscope.kit.processes import http_status, wait_until

VIEWPORTS = [(1366, 768), (390, 844)]


@pytest.fixture(scope="module")
def dashboard_url(
    served_tenant: ServedTenant, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = free_port()
    log = (tmp_path_factory.mktemp("streamlit") / "streamlit.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP_PATH), "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=APP_PATH.parent, env=os.environ | {"DEALSCOPE_API_URL": served_tenant.url},
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        started = wait_until(
            lambda: http_status(f"{url}/_stcore/health") == 200,
            lambda: process.poll() is not None,
            60,
        )
        assert started, f"the dashboard did not start; see {log.name}"
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
            f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium); "
            "the browser test never downloads a browser",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    wanted = os.environ.get("DEALSCOPE_TEST_SCREENSHOTS")
    shots = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    login = served_tenant.logins["admin"]
    first, *others = [ANALYTICS[1], ANALYTICS[0], *ANALYTICS[2:], *OPERATIONS, SETTINGS]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            for width, height in VIEWPORTS:
                page = browser.new_page(viewport={"width": width, "height": height})
                # A link to a page opens the sign-in there, then the page itself.
                sign_in(page, f"{dashboard_url}/{first.url_path}", login.email, login.password,
                        first.title)  # fmt: skip
                for spec in (first, *others):
                    if spec is not first:
                        open_page(page, spec.title)
                    if spec in ANALYTICS:
                        wait_drawn(page)
                    marks = wait_settled(page)
                    if spec in ANALYTICS:
                        assert marks and all(n > 0 for n in marks), (spec.url_path, marks)
                    close_sidebar(page)
                    screenshot_whole(page, shots / f"{spec.url_path}-{width}.png")
                    assert page.locator('[data-testid="stException"]').count() == 0, spec.url_path
                    errors = page.locator('[data-testid="stAlertContentError"]')
                    assert errors.count() == 0, (spec.url_path, errors.all_inner_texts())
                # Signing out leads back to the sign-in form.
                open_sidebar(page)
                page.get_by_role("button", name="Sign out").click()
                page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
                page.close()
        finally:
            browser.close()

"""The dashboard's home page, run headless by AppTest against a real API (or none)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dealscope.client import DealScopeClient
from dealscope.config import Settings
from dealscope.dashboard import APP_PATH
from dealscope.warehouse.engine import open_warehouse
from dealscope.warehouse.migrate import head_revision, upgrade


def _run_page(api_url: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("DEALSCOPE_API_URL", api_url)
    page = AppTest.from_file(str(APP_PATH), default_timeout=30)
    page.run()
    assert not page.exception, page.exception
    return page


def test_the_page_shows_what_the_api_reports(
    tmp_path: Path, serve_api: Callable[[Settings], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(_env_file=None, environment="test", data_dir=tmp_path)
    with open_warehouse(settings.resolved_database_url) as warehouse:
        upgrade(warehouse)
    api_url = serve_api(settings)
    with DealScopeClient(api_url) as client:
        reported = client.health()

    page = _run_page(api_url, monkeypatch)

    metrics = {metric.label: metric.value for metric in page.metric}
    assert metrics == {
        "Warehouse backend": reported.backend,
        "Schema revision": reported.schema_revision,
        "API version": reported.version,
        "Data reachable": "yes",
    }
    assert (reported.backend, reported.schema_revision) == ("duckdb", head_revision())
    assert [s.value for s in page.success] == ["The API and its warehouse are answering."]
    assert page.title[0].value == "DealScope"
    assert "arrive with the next issues" in page.info[0].value
    assert not page.error


def test_an_unreachable_api_tells_the_user_what_to_do(
    free_port: Callable[[], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    api_url = f"http://127.0.0.1:{free_port()}"

    page = _run_page(api_url, monkeypatch)

    assert len(page.error) == 1
    message = page.error[0].value
    assert f"cannot reach the DealScope API at **{api_url}**" in message
    assert "dealscope serve" in message
    assert "DEALSCOPE_API_URL" in message
    assert not page.metric
    assert page.button[0].label == "Retry"

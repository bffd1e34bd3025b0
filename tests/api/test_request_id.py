"""X-Request-ID is echoed (or made up) and bound to the log context of the request."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import structlog
from fastapi.testclient import TestClient

from dealscope.api.app import create_app
from dealscope.config import Settings


@pytest.fixture
def client(tmp_path: object) -> Iterator[TestClient]:
    app = create_app(Settings(_env_file=None, environment="test", data_dir=tmp_path))

    @app.get("/context")
    def context() -> dict[str, str]:
        # A sync handler runs in a worker thread: the binding must have followed it there.
        return {k: str(v) for k, v in structlog.contextvars.get_contextvars().items()}

    yield TestClient(app)


def test_a_callers_request_id_is_echoed_and_bound_to_the_log_context(client: TestClient) -> None:
    response = client.get("/context", headers={"X-Request-ID": "abc-123"})

    assert response.headers["X-Request-ID"] == "abc-123"
    assert response.json() == {"request_id": "abc-123", "method": "GET", "path": "/context"}


def test_a_request_id_is_generated_when_none_is_sent(client: TestClient) -> None:
    first = client.get("/context").headers["X-Request-ID"]
    second = client.get("/context").headers["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_an_unsafe_request_id_is_replaced(client: TestClient) -> None:
    response = client.get("/context", headers={"X-Request-ID": "x" * 200})

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_error_responses_carry_the_request_id_too(client: TestClient) -> None:
    response = client.get("/missing", headers={"X-Request-ID": "lost-1"})

    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "lost-1"


def test_the_context_does_not_leak_out_of_the_request(client: TestClient) -> None:
    client.get("/context", headers={"X-Request-ID": "abc-123"})

    assert "request_id" not in structlog.contextvars.get_contextvars()

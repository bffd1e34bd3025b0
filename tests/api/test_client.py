"""DealScopeClient against the real API served by uvicorn on a loopback port."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from pydantic import BaseModel

from dealscope import __version__
from dealscope.api.schemas import HealthRead as ServerHealthRead
from dealscope.client import ApiError, ApiUnavailable, DealScopeClient, HealthRead
from dealscope.config import Settings
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.migrate import head_revision


def test_health_over_http(
    warehouse: Warehouse,
    settings_for: Callable[..., Settings],
    serve_api: Callable[[Settings], str],
) -> None:
    base_url = serve_api(settings_for(warehouse))

    with DealScopeClient(base_url) as client:
        health = client.health()

    assert health == HealthRead(
        status="ok",
        version=__version__,
        backend=warehouse.backend,
        schema_revision=head_revision(),
        schema_current=True,
        database="ok",
        redis="not configured",
        problems=[],
    )


def test_unreachable_api_names_the_url(free_port: Callable[[], int]) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(ApiUnavailable) as raised, DealScopeClient(url, timeout=2) as client:
        client.health()

    assert raised.value.url == f"{url}/health"
    assert str(raised.value).startswith(f"the DealScope API at {url}/health is not reachable")


class _Canned(BaseHTTPRequestHandler):
    """A stand-in server answering every GET with a fixed status and body."""

    status = 500
    body = b""
    content_type = "application/json"

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def canned() -> Iterator[Callable[[int, bytes, str], str]]:
    servers: list[HTTPServer] = []

    def serve(status: int, body: bytes, content_type: str = "application/json") -> str:
        canned_reply = {"status": status, "body": body, "content_type": content_type}
        handler = type("Handler", (_Canned,), canned_reply)
        server = HTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_an_error_body_becomes_api_error_with_its_code_and_detail(
    canned: Callable[..., str],
) -> None:
    body = json.dumps({"error": "schema_out_of_date", "detail": "run `dealscope db upgrade`"})
    url = canned(500, body.encode())

    with pytest.raises(ApiError) as raised, DealScopeClient(url) as client:
        client.health()

    assert (raised.value.status_code, raised.value.code) == (500, "schema_out_of_date")
    assert raised.value.detail == "run `dealscope db upgrade`"


def test_a_foreign_error_page_still_becomes_a_readable_api_error(
    canned: Callable[..., str],
) -> None:
    url = canned(502, b"<html><body>Bad   gateway</body></html>", "text/html")

    with pytest.raises(ApiError) as raised, DealScopeClient(url) as client:
        client.health()

    assert (raised.value.status_code, raised.value.code) == (502, "http_502")
    assert raised.value.detail == "<html><body>Bad gateway</body></html>"


def test_something_else_on_the_port_is_reported_as_not_an_api(
    canned: Callable[..., str],
) -> None:
    url = canned(200, b'{"hello": "world"}')

    with pytest.raises(ApiError) as raised, DealScopeClient(url) as client:
        client.health()

    assert raised.value.code == "unexpected_response"
    assert "did not answer like a DealScope API" in raised.value.detail


def test_the_token_is_sent_as_a_bearer_header() -> None:
    with DealScopeClient("http://127.0.0.1:1", token="t0k3n") as client:
        assert client._http.headers["Authorization"] == "Bearer t0k3n"


def test_client_and_server_agree_on_the_health_model() -> None:
    def fields(model: type[BaseModel]) -> dict[str, tuple[object, bool]]:
        return {n: (f.annotation, f.is_required()) for n, f in model.model_fields.items()}

    assert fields(HealthRead) == fields(ServerHealthRead)

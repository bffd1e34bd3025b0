"""Every error leaves the API as {"error": code, "detail": message} with the table's status."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from dealscope import errors
from dealscope.api.app import API_PREFIX, create_app
from dealscope.api.errors import ERROR_TABLE
from dealscope.config import Settings
from dealscope.warehouse import tenancy


class LeadCreate(BaseModel):
    email: str
    budget: int


def _domain_errors() -> list[type[Exception]]:
    found = {
        obj
        for module in (errors, tenancy)
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, errors.DealScopeError)
    }
    return sorted(found, key=lambda cls: cls.__name__)


@pytest.fixture
def app_with_routes(tmp_path: object) -> Iterator[TestClient]:
    """The real app plus test-only routes that raise what handlers will raise."""
    app: FastAPI = create_app(Settings(_env_file=None, environment="test", data_dir=tmp_path))

    @app.get(f"{API_PREFIX}/raise/{{name}}")
    def raise_error(name: str) -> None:
        error_class = {cls.__name__: cls for cls in _domain_errors()}[name]
        raise error_class(f"{name} happened here")

    @app.post(f"{API_PREFIX}/leads")
    def create_lead(lead: LeadCreate) -> LeadCreate:
        return lead

    @app.get(f"{API_PREFIX}/crash")
    def crash() -> None:
        raise RuntimeError("a bug")

    # Only the error shapes are under test here, so no warehouse is opened (no lifespan).
    yield TestClient(app, raise_server_exceptions=False)


def test_every_domain_error_has_its_own_line_in_the_table() -> None:
    assert set(_domain_errors()) <= set(ERROR_TABLE)


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("NotFound", 404, "not_found"),
        ("ValidationFailed", 400, "validation_failed"),
        ("ScopeViolation", 403, "scope_violation"),
        ("WarehouseBusy", 503, "warehouse_busy"),
        ("SchemaOutOfDate", 503, "schema_out_of_date"),
        ("ConfigurationError", 503, "misconfigured"),
    ],
)
def test_domain_errors_map_to_their_status_and_code(
    app_with_routes: TestClient, name: str, status: int, code: str
) -> None:
    response = app_with_routes.get(f"{API_PREFIX}/raise/{name}")

    assert response.status_code == status
    assert response.json() == {"error": code, "detail": f"{name} happened here"}


def test_payload_validation_is_422_in_the_same_shape(app_with_routes: TestClient) -> None:
    response = app_with_routes.post(f"{API_PREFIX}/leads", json={"email": "a@b.c", "budget": "x"})

    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid_request",
        "detail": "body.budget: Input should be a valid integer, unable to parse string as an "
        "integer",
    }


def test_unknown_routes_are_404_in_the_same_shape(app_with_routes: TestClient) -> None:
    response = app_with_routes.get(f"{API_PREFIX}/nothing-here")

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "Not Found"}


def test_an_unexpected_exception_is_a_500_naming_the_request(app_with_routes: TestClient) -> None:
    response = app_with_routes.get(f"{API_PREFIX}/crash", headers={"X-Request-ID": "req-42"})

    assert response.status_code == 500
    assert response.json() == {
        "error": "internal_error",
        "detail": "an unexpected error occurred; the server log has the details "
        "(request id req-42)",
    }
    # Rendered inside the middleware stack, so it carries what every response carries.
    assert response.headers["X-Request-ID"] == "req-42"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("warehouse", ["duckdb"], indirect=True)
def test_openapi_documents_the_error_shape(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()

    assert schema["components"]["schemas"]["ErrorRead"]["required"] == ["error", "detail"]
    assert "503" in schema["paths"]["/health"]["get"]["responses"]
    assert api.get("/docs").status_code == 200

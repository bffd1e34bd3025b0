"""GET /health against real databases and a real (or absent) Redis."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dealscope import __version__
from dealscope.api.app import create_app
from dealscope.api.deps import get_warehouse
from dealscope.config import Settings
from dealscope.errors import SchemaOutOfDate
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.migrate import downgrade, head_revision


def test_health_reports_backend_revision_and_version(api: TestClient, warehouse: Warehouse) -> None:
    response = api.get("/health")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "version": __version__,
        "backend": warehouse.backend,
        "schema_revision": head_revision(),
        "schema_current": True,
        "database": "ok",
        "redis": "not configured",
        "problems": [],
    }


@pytest.mark.parametrize("warehouse", ["duckdb"], indirect=True)  # the app's own backend is moot
def test_health_is_503_when_the_database_does_not_answer(
    api: TestClient, free_port: Callable[[], int]
) -> None:
    # A PostgreSQL engine aimed at a closed port: a real connection refusal.
    gone = Warehouse(
        url="postgresql+psycopg://nobody@127.0.0.1:1/none",
        backend="postgres",
        engine=sa.create_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"),
    )
    api.app.dependency_overrides[get_warehouse] = lambda: gone  # type: ignore[attr-defined]

    response = api.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == "unreachable"
    assert body["schema_revision"] is None
    assert body["problems"] == ["the postgres warehouse did not answer (OperationalError)"]


@pytest.mark.redis
def test_health_pings_the_configured_redis(
    warehouse: Warehouse, settings_for: Callable[..., Settings], redis_url: str
) -> None:
    with TestClient(create_app(settings_for(warehouse, redis_url=redis_url))) as client:
        body = client.get("/health").json()

    assert (body["status"], body["redis"], body["problems"]) == ("ok", "ok", [])


def test_health_is_degraded_but_200_when_redis_does_not_answer(
    warehouse: Warehouse, settings_for: Callable[..., Settings], free_port: Callable[[], int]
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    with TestClient(create_app(settings_for(warehouse, redis_url=closed))) as client:
        response = client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"], body["redis"]) == ("degraded", "ok", "unreachable")
    assert body["problems"] == ["redis did not answer (ConnectionError)"]


def test_the_app_refuses_to_start_on_an_unmigrated_warehouse(
    warehouse: Warehouse, settings_for: Callable[..., Settings]
) -> None:
    downgrade(warehouse, "base")

    app = create_app(settings_for(warehouse))
    with pytest.raises(SchemaOutOfDate, match="run `dealscope db upgrade`"), TestClient(app):
        pass

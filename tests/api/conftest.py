"""Fixtures for API tests: apps over the `warehouse` fixture's database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dealscope.api.app import create_app
from dealscope.config import Settings
from dealscope.warehouse.engine import Warehouse


@pytest.fixture
def settings_for(tmp_path: Any) -> Callable[..., Settings]:
    """Settings of a test app over `warehouse`'s database (extra fields as keywords)."""

    def make(warehouse: Warehouse, **overrides: Any) -> Settings:
        return Settings(
            _env_file=None,
            environment="test",
            data_dir=tmp_path,
            database_url=warehouse.url,
            **overrides,
        )

    return make


@pytest.fixture
def api(warehouse: Warehouse, settings_for: Callable[..., Settings]) -> Iterator[TestClient]:
    """A started app (lifespan run) over the migrated `warehouse`, on each backend."""
    with TestClient(create_app(settings_for(warehouse))) as client:
        yield client

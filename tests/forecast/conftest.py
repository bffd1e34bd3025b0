"""Fixtures of the forecast tests: an app over the `warehouse` fixture's database, and the
account helpers of the API tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dealscope.api.app import create_app
from dealscope.config import Settings
from dealscope.warehouse.engine import Warehouse

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))  # accounts.py


@pytest.fixture
def api(warehouse: Warehouse, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        _env_file=None, environment="test", data_dir=tmp_path, database_url=warehouse.url
    )
    with TestClient(create_app(settings)) as client:
        yield client

"""Shared fixtures.

- `warehouse`: a migrated, empty `Warehouse`, parametrized over ["duckdb", "postgres"].
  DuckDB: a file in tmp_path (copied from one migrated per session). PostgreSQL: the
  session database with its `public` schema dropped, re-created and migrated per test.
  The postgres case carries the `postgres` marker (deselect with `-m "not postgres"`).
- `postgres_url`: a fresh database for the test session (`dealscope_test_<random>`, created
  through the database named in DEALSCOPE_TEST_POSTGRES_URL and dropped at the end).
- `redis_url`: the Redis of DEALSCOPE_TEST_REDIS_URL; `redis_prefix`: a key prefix unique
  to this session; keys under it are deleted at the end, nothing else is touched.
- `free_port()`: a free loopback TCP port. `serve_api(settings)`: the API served by uvicorn
  in a background thread on a free loopback port; returns its base URL.

Without DEALSCOPE_TEST_POSTGRES_URL / DEALSCOPE_TEST_REDIS_URL the tests that need them
skip; with the variable set and the server not answering, they fail.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
import uvicorn

from dealscope.api.app import create_app
from dealscope.config import Settings, get_settings
from dealscope.warehouse.engine import Warehouse, describe_url, open_warehouse
from dealscope.warehouse.migrate import upgrade

POSTGRES_ENV = "DEALSCOPE_TEST_POSTGRES_URL"
REDIS_ENV = "DEALSCOPE_TEST_REDIS_URL"


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No DEALSCOPE_* setting of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("DEALSCOPE_") and not name.startswith("DEALSCOPE_TEST_"):
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


# --- PostgreSQL ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(
            f"needs PostgreSQL: set {POSTGRES_ENV}="
            "postgresql+psycopg://postgres@127.0.0.1:5432/test (a database the tests may use "
            "to create and drop their own)"
        )
    admin = sa.create_engine(
        sa.engine.make_url(base).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    name = f"dealscope_test_{secrets.token_hex(4)}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.fail(
            f"{POSTGRES_ENV} is set but PostgreSQL at {describe_url(base)} does not answer: "
            f"{exc.orig}",
            pytrace=False,
        )
    try:
        yield sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _reset_postgres(url: str) -> Warehouse:
    warehouse = open_warehouse(url)
    with warehouse.engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    upgrade(warehouse)
    return warehouse


# --- DuckDB ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _migrated_duckdb_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("duckdb-template") / "warehouse.duckdb"
    with open_warehouse(f"duckdb:///{path}") as warehouse:
        upgrade(warehouse)
    return path


@pytest.fixture(
    params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """A migrated, empty warehouse on each backend."""
    if request.param == "duckdb":
        path = tmp_path / "warehouse.duckdb"
        shutil.copyfile(request.getfixturevalue("_migrated_duckdb_file"), path)
        opened = open_warehouse(f"duckdb:///{path}")
    else:
        opened = _reset_postgres(request.getfixturevalue("postgres_url"))
    try:
        yield opened
    finally:
        opened.close()


# --- Redis -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"needs Redis: set {REDIS_ENV}=redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        pytest.fail(f"{REDIS_ENV} is set but Redis at {url} does not answer: {exc}", pytrace=False)
    try:
        yield url
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this session; every key under it is deleted afterwards."""
    prefix = f"dealscope-test:{secrets.token_hex(4)}:"
    yield prefix
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)


# --- servers ---------------------------------------------------------------------------


@pytest.fixture
def free_port() -> Callable[[], int]:
    def pick() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    return pick


@pytest.fixture
def serve_api() -> Iterator[Callable[[Settings], str]]:
    """Start `create_app(settings)` under uvicorn in a thread; stopped after the test."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(settings: Settings) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        servers.append((server, thread))
        for _ in range(200):
            if server.started:
                return f"http://127.0.0.1:{port}"
            if not thread.is_alive():
                break
            thread.join(0.05)
        raise RuntimeError("the API did not start; its log above says why")

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(10)

"""Fixtures: real servers on loopback for the channels (see alert_sinks)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alert_sinks import HttpSink, MailKeeper, SmtpSink, serve_http

from dealscope.warehouse.engine import Warehouse, open_warehouse


@pytest.fixture
def http_sink() -> Iterator[HttpSink]:
    with serve_http() as sink:
        yield sink


@pytest.fixture
def smtp_sink(free_port: Callable[[], int]) -> Iterator[SmtpSink]:
    """An SMTP server on a loopback port, not started: call `start()` (an outage is the time
    before)."""
    sink = SmtpSink(port=free_port(), keeper=MailKeeper())
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def duckdb_warehouse(_migrated_duckdb_file: Path, tmp_path: Path) -> Iterator[Warehouse]:
    """A migrated DuckDB warehouse only, for slow tests whose SQL the parametrized ones
    already run on both backends."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(_migrated_duckdb_file, path)
    opened = open_warehouse(f"duckdb:///{path}")
    try:
        yield opened
    finally:
        opened.close()

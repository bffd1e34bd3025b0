"""Fixtures: real servers on loopback for the channels (see alert_sinks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from alert_sinks import HttpSink, MailKeeper, SmtpSink, serve_http


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

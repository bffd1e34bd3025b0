"""One API on loopback over a small generated brokerage, shared by the dashboard tests of a
module (generation, migration and serving cost a few seconds; every test only reads)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dashboard_served import ServedTenant, build_tenant, serve


@pytest.fixture(scope="module")
def served_tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedTenant]:
    settings, logins = build_tenant(tmp_path_factory.mktemp("dashboard-api"))
    url, server, thread = serve(settings)
    try:
        yield ServedTenant(url, logins)
    finally:
        server.should_exit = True
        thread.join(10)

"""Helpers of the import, RESO and FRED tests: a small brokerage, reading rows back, and a
loopback HTTP server whose answers a test scripts."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from cryptography.fernet import Fernet

from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import agents, offices, teams, tenants
from dealscope.warehouse.unit_of_work import unit_of_work

CIPHER = PiiCipher([Fernet.generate_key()], b"import-tests-hash-key")
CREATED = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Shop:
    tenant_id: int
    office_id: int
    team_id: int
    ada: int  # Ada Agent, ada@shop.example, 70% split
    bo: int  # Bo Broker, bo@shop.example, external id U-BO, no split


def add_shop(warehouse: Warehouse, slug: str = "shop") -> Shop:
    with unit_of_work(warehouse) as uow:
        conn = uow.connection
        tenant_id = uow.next_id(tenants)
        conn.execute(
            tenants.insert().values(id=tenant_id, slug=slug, name="Shop Realty", created_at=CREATED)
        )
        office_id, team_id = uow.next_id(offices), uow.next_id(teams)
        conn.execute(offices.insert().values(id=office_id, tenant_id=tenant_id, name="Downtown"))
        conn.execute(
            teams.insert().values(id=team_id, tenant_id=tenant_id, office_id=office_id, name="A")
        )
        ada, bo = uow.next_id(agents), uow.next_id(agents)
        common = {"tenant_id": tenant_id, "office_id": office_id, "team_id": team_id}
        conn.execute(
            agents.insert(),
            [
                {
                    **common,
                    "id": ada,
                    "first_name": "Ada",
                    "last_name": "Agent",
                    "email": "ada@shop.example",
                    "external_id": None,
                    "agent_split": Decimal("0.7"),
                    "created_at": CREATED,
                },
                {
                    **common,
                    "id": bo,
                    "first_name": "Bo",
                    "last_name": "Broker",
                    "email": "bo@shop.example",
                    "external_id": "U-BO",
                    "agent_split": None,
                    "created_at": CREATED,
                },
            ],
        )
    return Shop(tenant_id, office_id, team_id, ada, bo)


def rows(warehouse: Warehouse, table: sa.Table, *columns: str, order: str = "id") -> list[tuple]:
    query = sa.select(*(table.c[c] for c in columns)).order_by(table.c[order])
    with warehouse.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query)]


def count(warehouse: Warehouse, table: sa.Table) -> int:
    with warehouse.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def data_version(warehouse: Warehouse, tenant_id: int) -> int:
    with warehouse.engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(tenants.c.data_version).where(tenants.c.id == tenant_id)
            ).scalar_one()
        )


# --- a loopback HTTP server --------------------------------------------------------------


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


Handler = Callable[[Request], tuple[int, dict[str, str], Any]]


@dataclass
class FakeServer:
    """Answers each GET with `handler(request)` -> (status, headers, JSON body); keeps every
    request it saw."""

    handler: Handler
    requests: list[Request] = field(default_factory=list)
    url: str = ""


@contextmanager
def serve(handler: Handler) -> Iterator[FakeServer]:
    fake = FakeServer(handler)

    class _Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            request = Request(parts.path, parse_qs(parts.query), dict(self.headers.items()))
            fake.requests.append(request)
            status, headers, body = fake.handler(request)
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

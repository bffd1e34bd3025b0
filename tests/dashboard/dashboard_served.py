"""A small generated brokerage served by the API on a loopback port (for the dashboard tests
and the browser test)."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from dealscope.api.app import create_app
from dealscope.bench.generate import throwaway_cipher
from dealscope.config import Settings
from dealscope.demo.generator import BrokerageSpec, generate_brokerage
from dealscope.demo.loader import load_brokerage
from dealscope.demo.users import DemoLogin, create_demo_users
from dealscope.warehouse.engine import open_warehouse
from dealscope.warehouse.migrate import upgrade

LEADS = 1500
SEED = 11


@dataclass(frozen=True)
class ServedTenant:
    url: str
    logins: dict[str, DemoLogin]  # by role


def serve(settings: Settings) -> tuple[str, uvicorn.Server, threading.Thread]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(400):
        if server.started:
            return f"http://127.0.0.1:{port}", server, thread
        if not thread.is_alive():
            break
        thread.join(0.05)
    raise RuntimeError("the API did not start; its log above says why")


def build_tenant(
    data_dir: Path, leads: int = LEADS, seed: int = SEED
) -> tuple[Settings, dict[str, DemoLogin]]:
    """A migrated DuckDB warehouse in `data_dir` with a brokerage ending today (UTC) and one
    demo login per role."""
    settings = Settings(
        _env_file=None, environment="test", data_dir=data_dir, rate_limit_per_minute=100_000
    )
    today = dt.datetime.now(dt.UTC).date()
    with open_warehouse(settings.resolved_database_url) as warehouse:
        upgrade(warehouse)
        brokerage = generate_brokerage(BrokerageSpec(leads=leads, seed=seed, end=today, years=1.0))
        loaded = load_brokerage(warehouse, brokerage, "dash", cipher=throwaway_cipher())
        logins = {login.role: login for login in create_demo_users(warehouse, loaded.tenant_id)}
    return settings, logins

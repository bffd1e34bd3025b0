"""How fast the analytics API answers, on a generated brokerage in a temporary DuckDB file,
served in process through the full app (auth, rate limit, middleware, serialization).

Three figures per endpoint: `first_call_ms`, one call with nothing cached (a fresh process:
expressions built and compiled to SQL, then run); `cold`, the response cache cleared before
every call, as after a write bumps the data version (the compiled SQL is kept, the queries
run on the data); `warm`, answered from the response cache."""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dealscope.analytics.periods import Compare, RangeName
from dealscope.analytics.service import AnalyticsService
from dealscope.analytics.sources import Sources, clear_sql_cache
from dealscope.analytics.summary import compute_summary
from dealscope.api.analytics_deps import tenant_timezone
from dealscope.api.app import create_app
from dealscope.api.auth.schemas import UserCreate
from dealscope.api.auth.users import create_user
from dealscope.api.cache import ResponseCache
from dealscope.bench.generate import BENCH_END, throwaway_cipher
from dealscope.config import Settings
from dealscope.demo.generator import BrokerageSpec, generate_brokerage
from dealscope.demo.loader import load_brokerage
from dealscope.kit.roles import Role
from dealscope.warehouse import schema
from dealscope.warehouse.engine import Warehouse, open_warehouse
from dealscope.warehouse.migrate import upgrade
from dealscope.warehouse.tenancy import TenantScope
from dealscope.warehouse.unit_of_work import unit_of_work

TARGET_COLD_P95_MS = 200.0
TARGET_WARM_P95_MS = 20.0
TENANT_SLUG = "bench-api"
ADMIN_EMAIL = "admin@bench.example"
ADMIN_PASSWORD = "a benchmark passphrase 42"  # a throwaway tenant in a temporary file

AS_OF = BENCH_END.isoformat()
METRIC_QUERY = {
    "metrics": ["new_leads", "gci", "deals_won", "win_rate"],
    "dimensions": ["agent"],
    "range": "90d",
    "as_of": AS_OF,
}


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    data: dict[str, Any]


QTD = {"as_of": AS_OF, "range": "qtd"}
# Paths name the bench tenant's busiest agent and its team as {agent_id} and {team_id}.
ENDPOINTS = (
    Endpoint("summary", "GET", "/api/v1/dashboard/summary", {"as_of": AS_OF}),
    Endpoint("pipeline", "GET", "/api/v1/dashboard/pipeline", {"as_of": AS_OF, "range": "90d"}),
    Endpoint("funnel", "GET", "/api/v1/dashboard/funnel", {"as_of": AS_OF, "range": "90d"}),
    Endpoint("speed_to_lead", "GET", "/api/v1/dashboard/speed-to-lead", {"as_of": AS_OF}),
    Endpoint("revenue", "GET", "/api/v1/dashboard/revenue", QTD),
    Endpoint("agents", "GET", "/api/v1/dashboard/agents", QTD),
    Endpoint("agent_detail", "GET", "/api/v1/dashboard/agents/{agent_id}", QTD),
    Endpoint("teams", "GET", "/api/v1/dashboard/teams", QTD),
    Endpoint("team_detail", "GET", "/api/v1/dashboard/teams/{team_id}", QTD),
    Endpoint("metrics_query", "POST", "/api/v1/metrics/query", METRIC_QUERY),
)


def _millis(samples: list[float]) -> dict[str, float]:
    values = np.array(samples) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p95_ms": round(float(np.percentile(values, 95)), 2),
        "min_ms": round(float(values.min()), 2),
        "max_ms": round(float(values.max()), 2),
    }


def _timed(call: Callable[[], object], repeat: int, before: Callable[[], None]) -> list[float]:
    samples = []
    for _ in range(repeat):
        before()
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def _busiest(warehouse: Warehouse, tenant_id: int) -> dict[str, int]:
    """The agent with most closings in the tenant, and its team: what the paths name."""
    with warehouse.engine.connect() as conn:
        row = conn.execute(
            sa.select(schema.agents.c.id, schema.agents.c.team_id)
            .join(schema.transactions, schema.transactions.c.agent_id == schema.agents.c.id)
            .where(schema.agents.c.tenant_id == tenant_id, schema.agents.c.team_id.is_not(None))
            .group_by(schema.agents.c.id, schema.agents.c.team_id)
            .order_by(sa.func.count().desc(), schema.agents.c.id)
            .limit(1)
        ).one()
    return {"agent_id": int(row.id), "team_id": int(row.team_id)}


def _load(url: str, leads: int, seed: int) -> int:
    """The brokerage and an admin user written into a fresh warehouse; the tenant's id."""
    with open_warehouse(url) as warehouse:
        upgrade(warehouse)
        brokerage = generate_brokerage(BrokerageSpec(leads=leads, seed=seed, end=BENCH_END))
        loaded = load_brokerage(warehouse, brokerage, TENANT_SLUG, cipher=throwaway_cipher())
        with unit_of_work(warehouse) as uow:
            uow.connection.execute(
                sa.update(schema.tenants)
                .where(schema.tenants.c.id == loaded.tenant_id)
                .values(name=_bench_name(leads, seed))
            )
            admin = UserCreate(
                email=ADMIN_EMAIL, full_name="Bench Admin", password=ADMIN_PASSWORD, role=Role.ADMIN
            )
            create_user(uow, loaded.tenant_id, admin, dt.datetime.now(dt.UTC))
        return loaded.tenant_id


def _request(client: TestClient, headers: dict[str, str], endpoint: Endpoint) -> str:
    """Call `endpoint`; its X-Cache header (hit or miss)."""
    if endpoint.method == "POST":
        response = client.post(endpoint.path, headers=headers, json=endpoint.data)
    else:
        response = client.get(endpoint.path, headers=headers, params=endpoint.data)
    if response.status_code != 200:
        raise RuntimeError(f"{endpoint.path} answered {response.status_code}: {response.text}")
    return response.headers.get("X-Cache", "")


def _first(call: Callable[[], object], cache: ResponseCache) -> float:
    """One call with nothing cached: no response, no compiled SQL (a new process's first)."""
    cache.clear()
    clear_sql_cache()
    started = time.perf_counter()
    call()
    return round((time.perf_counter() - started) * 1000.0, 2)


def _raw_summary(warehouse: Warehouse, tenant_id: int, timezone: str) -> None:
    """The summary's figures computed straight through the service (no HTTP, auth or cache)."""
    service = AnalyticsService(Sources(warehouse, TenantScope(tenant_id)), BENCH_END, timezone)
    compute_summary(service, RangeName.LAST_30_DAYS, Compare.PREVIOUS_PERIOD, None, None)


def _bench_name(leads: int, seed: int) -> str:
    """The bench tenant's name: what a kept warehouse was generated with."""
    return f"Bench API: {leads:,} leads, seed {seed}"


def _existing_tenant(url: str, leads: int, seed: int) -> int | None:
    """The bench tenant of a warehouse an earlier run kept (None when it has none); refuses
    one generated with another number of leads or seed."""
    with open_warehouse(url) as warehouse:
        upgrade(warehouse)
        with warehouse.engine.connect() as conn:
            tenant = conn.execute(
                sa.select(schema.tenants.c.id, schema.tenants.c.name).where(
                    schema.tenants.c.slug == TENANT_SLUG
                )
            ).first()
    if tenant is None:
        return None
    if tenant.name != _bench_name(leads, seed):
        raise ValueError(
            f"the kept warehouse holds {tenant.name!r}, not {leads:,} leads of seed {seed}: "
            "pass another --warehouse path or remove the file"
        )
    return int(tenant.id)


def bench_api(
    leads: int, repeat: int, seed: int = 42, warehouse_path: Path | None = None
) -> dict[str, Any]:
    """p50/p95 latency of each analytics endpoint cold and warm, `repeat` calls each, and the
    summary's cold API time over its raw service time; with the targets and whether each is
    met. With `warehouse_path` the generated brokerage is kept in that DuckDB file and a later
    run with the same file reuses it (generating 1,000,000 leads takes minutes)."""
    with tempfile.TemporaryDirectory(prefix="dealscope-bench-api-") as tmp:
        path = warehouse_path or Path(tmp) / "bench.duckdb"
        url = f"duckdb:///{path}"
        loading = time.perf_counter()
        kept = _existing_tenant(url, leads, seed) if path.exists() else None
        tenant_id = kept if kept is not None else _load(url, leads, seed)
        load_seconds = time.perf_counter() - loading
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=Path(tmp),
            database_url=url,
            rate_limit_per_minute=1_000_000,
        )
        with TestClient(create_app(settings)) as client:
            token = client.post(
                "/api/v1/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
            )
            token.raise_for_status()
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            app_state = client.app.state  # type: ignore[attr-defined]
            cache: ResponseCache = app_state.response_cache
            endpoints: dict[str, dict[str, Any]] = {}
            ids = _busiest(app_state.warehouse, tenant_id)
            for template in ENDPOINTS:
                endpoint = replace(template, path=template.path.format(**ids))
                call = partial(_request, client, headers, endpoint)
                first = _first(call, cache)  # also warms connections and compiled SQL
                seen: list[str] = []

                def counted(call: Callable[[], str] = call, seen: list[str] = seen) -> None:
                    seen.append(call())

                cold = _millis(_timed(counted, repeat, cache.clear))
                cold_misses = seen.count("miss")
                seen.clear()
                warm = _millis(
                    _timed(counted, repeat, lambda: None)
                )  # the last cold call cached it
                warm_hits = seen.count("hit")
                endpoints[endpoint.name] = {
                    "method": endpoint.method,
                    "path": endpoint.path,
                    "parameters": endpoint.data,
                    "first_call_ms": first,
                    "cold": cold,
                    "cold_cache_misses": cold_misses,
                    "warm_cache_hits": warm_hits,
                    "warm": warm,
                    "cold_p95_met": cold["p95_ms"] < TARGET_COLD_P95_MS,
                    "warm_p95_met": warm["p95_ms"] < TARGET_WARM_P95_MS,
                }
            warehouse: Warehouse = app_state.warehouse
            timezone = tenant_timezone(warehouse, tenant_id)
            raw = _millis(
                _timed(lambda: _raw_summary(warehouse, tenant_id, timezone), repeat, lambda: None)
            )
    summary_cold = endpoints["summary"]["cold"]
    return {
        "leads": leads,
        "repeat": repeat,
        "seed": seed,
        "as_of": AS_OF,
        "backend": "duckdb",
        "load_seconds": round(load_seconds, 1),
        "reused_warehouse": kept is not None,
        "endpoints": endpoints,
        "summary_overhead": {
            "definition": "p50 of GET /dashboard/summary with the response cache cleared "
            "(HTTP in process, auth, rate limit, data-version read, serialization) divided by "
            "p50 of the same figures computed directly through AnalyticsService and "
            "compute_summary on the same DuckDB warehouse (no HTTP, no auth, no cache)",
            "api_cold_p50_ms": summary_cold["p50_ms"],
            "raw_duckdb": raw,
            "ratio": round(summary_cold["p50_ms"] / raw["p50_ms"], 2),
        },
        "targets": {"cold_p95_ms": TARGET_COLD_P95_MS, "warm_p95_ms": TARGET_WARM_P95_MS},
        "all_targets_met": all(e["cold_p95_met"] and e["warm_p95_met"] for e in endpoints.values()),
    }

"""The FastAPI application factory and its lifespan (warehouse and Redis opened once)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis
import structlog
from fastapi import FastAPI
from starlette.types import ASGIApp

from dealscope import __version__
from dealscope.api.cache import ResponseCache
from dealscope.api.errors import UnexpectedErrorMiddleware, install_error_handlers
from dealscope.api.middleware import RequestIdMiddleware
from dealscope.api.ratelimit import RateLimiter
from dealscope.api.routers import agents as agent_routes
from dealscope.api.routers import alerts as alert_routes
from dealscope.api.routers import anomalies as anomaly_routes
from dealscope.api.routers import (
    api_keys,
    audit,
    auth,
    config,
    funnel,
    health,
    pipeline,
    speed,
    users,
    webhook_admin,
    webhooks,
)
from dealscope.api.routers import forecast as forecast_routes
from dealscope.api.routers import ingest as ingest_routes
from dealscope.api.routers import leaderboard as leaderboard_routes
from dealscope.api.routers import metrics as metric_routes
from dealscope.api.routers import reports as report_routes
from dealscope.api.routers import revenue as revenue_routes
from dealscope.api.routers import summary as summary_routes
from dealscope.api.scheduling import start_scheduler
from dealscope.api.schemas import ErrorRead
from dealscope.api.security import install_security_middleware
from dealscope.config import Settings, get_settings
from dealscope.ingest.service import WebhookIngest
from dealscope.warehouse.engine import describe_url, open_warehouse
from dealscope.warehouse.migrate import ensure_current

API_PREFIX = "/api/v1"

# Short timeouts: a Redis that does not answer must not hold a request for long.
_REDIS_TIMEOUT_SECONDS = 1.0

log = structlog.get_logger(__name__)


def _open_redis(url: str | None) -> redis.Redis | None:
    if url is None:
        return None
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
        socket_timeout=_REDIS_TIMEOUT_SECONDS,
    )


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    warehouse = open_warehouse(settings.resolved_database_url)
    try:
        ensure_current(warehouse)
    except BaseException:
        warehouse.close()
        raise
    app.state.warehouse = warehouse
    app.state.redis = _open_redis(settings.redis_url)
    app.state.rate_limiter = RateLimiter.from_settings(settings, warehouse, app.state.redis)
    app.state.response_cache = ResponseCache.from_settings(settings, app.state.redis)
    app.state.scheduler = start_scheduler(settings, warehouse)  # reports and alerts
    app.state.webhook_ingest = WebhookIngest.for_settings(settings, warehouse)
    log.info(
        "api.started",
        warehouse=describe_url(warehouse.url),
        backend=warehouse.backend,
        redis="configured" if settings.redis_url else "not configured",
    )
    try:
        yield
    finally:
        if app.state.scheduler is not None:
            app.state.scheduler.shutdown()
        app.state.webhook_ingest.stop()
        if app.state.redis is not None:
            app.state.redis.close()
        warehouse.close()
        log.info("api.stopped")


def served_app(settings: Settings | None = None) -> ASGIApp:
    """`create_app` as `dealscope serve` runs it: webhook deliveries are answered in front of
    FastAPI's own layers too (its telemetry check, body limit and error wrappers, which cost
    a webhook flood about a tenth of its time); the fast path inside the app stays for the
    servers that run `create_app` directly (tests, benches). Ibis's backend for the
    warehouse is imported now rather than by the first analytics request (a second or more
    of a busy machine, in the middle of whatever arrives first)."""
    app = create_app(settings)
    _import_query_backend(app.state.settings.resolved_database_url)
    return webhooks.WebhookFastPath(app, prefix=API_PREFIX, owner=app)


def _import_query_backend(url: str) -> None:
    import ibis

    getattr(ibis, "postgres" if url.startswith("postgresql") else "duckdb")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API, configured by `settings` (default: the process's DEALSCOPE_* environment).

    Nothing connects here; the warehouse opens when the app starts serving."""
    app = FastAPI(
        title="DealScope API",
        version=__version__,
        summary="Revenue intelligence for real-estate brokerages.",
        lifespan=_lifespan,
        responses={"4XX": {"model": ErrorRead}, "5XX": {"model": ErrorRead}},
    )
    app.state.settings = settings or get_settings()
    app.add_middleware(UnexpectedErrorMiddleware)  # innermost: see its docstring
    install_security_middleware(app, app.state.settings, API_PREFIX)
    app.add_middleware(RequestIdMiddleware)  # outermost: its id is on every log line
    app.add_middleware(webhooks.WebhookFastPath, prefix=API_PREFIX)  # ahead of all: see its doc
    install_error_handlers(app)
    app.include_router(health.router)  # outside API_PREFIX: load balancers probe it bare
    for router in (auth.router, users.router, api_keys.router, audit.router, config.router):
        app.include_router(router, prefix=API_PREFIX)
    for router in (pipeline.router, funnel.router, speed.router):
        app.include_router(router, prefix=API_PREFIX)
    for router in (metric_routes.router, summary_routes.router, revenue_routes.router):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(leaderboard_routes.router, prefix=API_PREFIX)
    app.include_router(alert_routes.router, prefix=API_PREFIX)
    app.include_router(ingest_routes.router, prefix=API_PREFIX)
    for router in (webhooks.router, webhook_admin.router):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(agent_routes.router, prefix=API_PREFIX)
    app.include_router(report_routes.router, prefix=API_PREFIX)
    app.include_router(forecast_routes.router, prefix=API_PREFIX)
    app.include_router(anomaly_routes.router, prefix=API_PREFIX)
    return app

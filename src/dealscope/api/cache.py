"""The response cache of the analytics endpoints: serialized JSON bodies, keyed on the tenant's
data version (DESIGN.md §6), so any write that bumps it is seen on the next request.

Two levels: an in-process L1 (bounded in size and age) and, when DEALSCOPE_REDIS_URL is set,
a shared Redis L2 (keys under `<redis_key_prefix>:cache:`, with a TTL). A Redis error never
fails a request: it is logged and the response is computed (and kept in L1).

A key is the endpoint, the tenant, its data version, the caller's data scope (tenant-wide or
the sorted agent ids it may see) and a hash of the normalized parameters, `as_of` resolved:
two callers share an entry only when they would be shown the same rows.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import redis
import sqlalchemy as sa
import structlog
from cachetools import TTLCache
from fastapi import Depends, Request, Response
from pydantic import BaseModel

from dealscope.api.auth.principal import Principal
from dealscope.config import Settings
from dealscope.errors import NotFound
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import tenants
from dealscope.warehouse.tenancy import TenantScope

L1_MAX_ENTRIES = 512
L1_TTL_SECONDS = 300.0
L2_TTL_SECONDS = 3600

DATA_VERSION_HEADER = "X-Data-Version"
CACHE_HEADER = "X-Cache"

log = structlog.get_logger(__name__)


def read_data_version(warehouse: Warehouse, tenant_id: int) -> int:
    """The tenant's data version: it moves on with every committed write to its data."""
    with warehouse.engine.connect() as connection:
        version = connection.execute(
            sa.select(tenants.c.data_version).where(tenants.c.id == tenant_id)
        ).scalar_one_or_none()
    if version is None:
        raise NotFound(f"no tenant with the id {tenant_id}")
    return int(version)


def scope_label(scope: TenantScope) -> str:
    """`all` for a tenant-wide scope, else `agents:<sorted ids>` (`agents:` for none)."""
    if scope.agent_ids is None:
        return "all"
    return "agents:" + ",".join(str(a) for a in sorted(scope.agent_ids))


def params_digest(params: Mapping[str, Any]) -> str:
    """A hash of the parameters, independent of their order (dates as ISO strings)."""
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class CacheKey:
    endpoint: str
    tenant_id: int
    data_version: int
    scope: str
    params: str

    def __str__(self) -> str:
        return f"{self.endpoint}:t{self.tenant_id}:v{self.data_version}:{self.scope}:{self.params}"


class ResponseCache:
    """Serialized responses in a bounded, expiring L1, with an optional Redis L2."""

    def __init__(
        self,
        redis_client: redis.Redis | None = None,
        key_prefix: str = "dealscope",
        max_entries: int = L1_MAX_ENTRIES,
        ttl_seconds: float = L1_TTL_SECONDS,
        redis_ttl_seconds: int = L2_TTL_SECONDS,
    ) -> None:
        self._l1: TTLCache[str, bytes] = TTLCache(maxsize=max_entries, ttl=ttl_seconds)
        self._lock = threading.Lock()  # TTLCache is not thread-safe; handlers run in threads
        self._redis = redis_client
        self._redis_prefix = f"{key_prefix}:cache:"
        self._redis_ttl = redis_ttl_seconds

    @classmethod
    def from_settings(cls, settings: Settings, redis_client: redis.Redis | None) -> ResponseCache:
        return cls(redis_client, settings.redis_key_prefix)

    def get(self, key: CacheKey) -> bytes | None:
        """The cached body, from L1, else from L2 (then kept in L1 too); None on a miss."""
        name = str(key)
        with self._lock:
            body = self._l1.get(name)
        if body is not None or self._redis is None:
            return body
        try:
            found = self._redis.get(self._redis_prefix + name)
        except redis.RedisError as exc:
            log.warning("cache.redis_unavailable", operation="get", error=str(exc))
            return None
        if not isinstance(found, bytes):
            return None
        with self._lock:
            self._l1[name] = found
        return found

    def put(self, key: CacheKey, body: bytes) -> None:
        name = str(key)
        with self._lock:
            self._l1[name] = body
        if self._redis is None:
            return
        try:
            self._redis.set(self._redis_prefix + name, body, ex=self._redis_ttl)
        except redis.RedisError as exc:
            log.warning("cache.redis_unavailable", operation="set", error=str(exc))

    def clear(self) -> None:
        """Forget every entry: L1, and this installation's keys in L2."""
        with self._lock:
            self._l1.clear()
        if self._redis is None:
            return
        try:
            keys = list(self._redis.scan_iter(match=f"{self._redis_prefix}*", count=500))
            if keys:
                self._redis.delete(*keys)
        except redis.RedisError as exc:
            log.warning("cache.redis_unavailable", operation="clear", error=str(exc))


def get_response_cache(request: Request) -> ResponseCache:
    cache: ResponseCache = request.app.state.response_cache
    return cache


ResponseCacheDep = Annotated[ResponseCache, Depends(get_response_cache)]


def cached_response(
    cache: ResponseCache,
    warehouse: Warehouse,
    principal: Principal,
    endpoint: str,
    params: Mapping[str, Any],
    compute: Callable[[], BaseModel],
) -> Response:
    """The JSON response of `endpoint` for the caller and `params` (with `as_of` resolved):
    from the cache when its tenant's data has not changed since, else `compute()`d and kept.
    Carries `X-Data-Version` and `X-Cache: hit|miss`. Errors of `compute` are not cached."""
    version = read_data_version(warehouse, principal.tenant_id)
    key = CacheKey(
        endpoint, principal.tenant_id, version, scope_label(principal.scope), params_digest(params)
    )
    body = cache.get(key)
    status = "hit"
    if body is None:
        status = "miss"
        model = compute()
        body = json.dumps(
            model.model_dump(mode="json", by_alias=True),
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
        ).encode()
        cache.put(key, body)
    return Response(
        content=body,
        media_type="application/json",
        headers={DATA_VERSION_HEADER: str(version), CACHE_HEADER: status},
    )

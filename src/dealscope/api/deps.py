"""Dependencies for route handlers, as `Annotated` aliases: `def f(warehouse: WarehouseDep)`."""

from __future__ import annotations

from typing import Annotated

import redis
from fastapi import Depends, Request

from dealscope.config import Settings
from dealscope.warehouse.engine import Warehouse


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_warehouse(request: Request) -> Warehouse:
    warehouse: Warehouse = request.app.state.warehouse
    return warehouse


def get_redis(request: Request) -> redis.Redis | None:
    """The shared Redis client, or None when DEALSCOPE_REDIS_URL is not set."""
    client: redis.Redis | None = request.app.state.redis
    return client


SettingsDep = Annotated[Settings, Depends(get_settings)]
WarehouseDep = Annotated[Warehouse, Depends(get_warehouse)]
RedisDep = Annotated[redis.Redis | None, Depends(get_redis)]

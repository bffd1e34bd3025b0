"""Typed HTTP client of the DealScope API, used by the dashboard and the CLI."""

from dealscope.client.client import DealScopeClient, Snapshot
from dealscope.client.enums import (
    Compare,
    Dimension,
    FunnelBreakdown,
    FunnelOrder,
    Grain,
    RangeName,
    SortBy,
    Unit,
)
from dealscope.client.errors import ApiError, ApiUnavailable, ClientError, SessionExpired
from dealscope.client.models import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    HealthRead,
    MeRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from dealscope.client.queries import MetricQuery, PeriodQuery
from dealscope.client.transport import Tokens

__all__ = [
    "ApiError",
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyRead",
    "ApiUnavailable",
    "ClientError",
    "Compare",
    "DealScopeClient",
    "Dimension",
    "FunnelBreakdown",
    "FunnelOrder",
    "Grain",
    "HealthRead",
    "MeRead",
    "MetricQuery",
    "PeriodQuery",
    "RangeName",
    "SessionExpired",
    "Snapshot",
    "SortBy",
    "Tokens",
    "Unit",
    "UserCreate",
    "UserRead",
    "UserUpdate",
]

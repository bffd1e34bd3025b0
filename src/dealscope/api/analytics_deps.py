"""The metric service of a request: the caller's scoped sources, in the tenant's calendar.

`as_of` defaults to today in the tenant's time zone (tenants.timezone): the API is the one
layer that reads the clock; the service and everything below receive the day.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from dealscope.analytics.service import AnalyticsService
from dealscope.analytics.sources import Sources
from dealscope.api.auth.principal import Principal
from dealscope.api.auth.tenants import get_tenant
from dealscope.warehouse.engine import Warehouse


def tenant_timezone(warehouse: Warehouse, tenant_id: int) -> str:
    with warehouse.engine.connect() as connection:
        return get_tenant(connection, tenant_id).timezone


def tenant_today(timezone: str) -> dt.date:
    """Today's date in `timezone`: the one place analytics requests read the clock."""
    return dt.datetime.now(ZoneInfo(timezone)).date()


def analytics_service(
    warehouse: Warehouse, principal: Principal, as_of: dt.date | None = None
) -> AnalyticsService:
    """The metric service for `principal` (its data scope applies to every read) on `as_of`
    (default: today in the tenant's time zone)."""
    timezone = tenant_timezone(warehouse, principal.tenant_id)
    return scoped_service(warehouse, principal, as_of or tenant_today(timezone), timezone)


def scoped_service(
    warehouse: Warehouse, principal: Principal, as_of: dt.date, timezone: str
) -> AnalyticsService:
    """The metric service for `principal`'s data scope, when the calendar is already known
    (an `Observation` carries it), so the tenant is not read again."""
    return AnalyticsService(Sources(warehouse, principal.scope), as_of, timezone)

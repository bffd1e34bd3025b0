"""Query parameters every dashboard takes: the period (`range`, `start`, `end`) and `as_of`.

`as_of` defaults to today in the tenant's time zone: the one place the wall clock is read
for these dashboards; everything below receives it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Query

from dealscope.analytics.observation import Observation
from dealscope.analytics.periods import RangeName, resolve_range
from dealscope.api.analytics_deps import tenant_timezone, tenant_today
from dealscope.api.deps import PrincipalDep, WarehouseDep

RangeQuery = Annotated[
    RangeName,
    Query(
        alias="range",
        description="The period: today, the last 7/30/90 days, month/quarter/year to date, "
        "or custom (with start and end).",
    ),
]
StartQuery = Annotated[
    dt.date | None, Query(description="First day of a custom range (YYYY-MM-DD).")
]
EndQuery = Annotated[
    dt.date | None, Query(description="Last day (inclusive) of a custom range (YYYY-MM-DD).")
]
AsOfQuery = Annotated[
    dt.date | None,
    Query(
        description="The day the figures are seen from (default: today in the tenant's time "
        "zone); nothing after its end is counted."
    ),
]


def observation(
    principal: PrincipalDep,
    warehouse: WarehouseDep,
    range_name: RangeQuery = RangeName.LAST_30_DAYS,
    start: StartQuery = None,
    end: EndQuery = None,
    as_of: AsOfQuery = None,
) -> Observation:
    """The caller's period in their tenant's calendar, seen on `as_of`."""
    timezone = tenant_timezone(warehouse, principal.tenant_id)
    day = as_of or tenant_today(timezone)
    return Observation(resolve_range(range_name, day, start, end), day, timezone)


ObservationDep = Annotated[Observation, Depends(observation)]


def observation_params(observation: Observation) -> dict[str, object]:
    """The observation as cache-key parameters: the resolved period, `as_of` and time zone."""
    return {
        "start": observation.period.start,
        "end": observation.period.end,
        "as_of": observation.as_of,
        "timezone": observation.timezone,
    }

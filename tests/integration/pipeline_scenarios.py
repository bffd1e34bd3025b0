"""Hand-built deals for the pipeline, funnel and speed-to-lead tests.

`Scenario` writes a tenant, then deals with their stage history and activities, straight
into the warehouse with SQLAlchemy, so each test states its data next to its expectations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

from dealscope.analytics.observation import Observation
from dealscope.analytics.periods import Period
from dealscope.analytics.sources import Sources
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import activities, opportunities, stage_history, tenants
from dealscope.warehouse.tenancy import TenantScope

MARCH = Period(dt.date(2025, 3, 1), dt.date(2025, 4, 1))
AS_OF = dt.date(2025, 3, 31)


def at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2025) -> dt.datetime:
    """A UTC instant."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


class Scenario:
    def __init__(self, warehouse: Warehouse, timezone: str = "UTC") -> None:
        self.warehouse = warehouse
        self.timezone = timezone
        self.tenant_id = warehouse.ids.next_id("tenants")
        with warehouse.engine.begin() as conn:
            conn.execute(
                tenants.insert().values(
                    id=self.tenant_id,
                    slug=f"t{self.tenant_id}",
                    name="Scenario Realty",
                    timezone=timezone,
                    created_at=at(1, 1, year=2024),
                )
            )

    def deal(
        self,
        created: dt.datetime,
        moves: Sequence[tuple[str, dt.datetime]] = (),
        source: str = "zillow",
        agent: int | None = 1,
        status: str | None = None,
        closed_at: dt.datetime | None = None,
    ) -> int:
        """A deal created into "new", then moved to each (stage, when) of `moves`. Its status
        follows its last move unless given (a deal lost after as_of, say)."""
        deal_id = self.warehouse.ids.next_id("opportunities")
        last = moves[-1][0] if moves else "new"
        derived = {"closed_won": "won", "lost": "lost"}.get(last, "open")
        rows = [("new", created), *moves]
        ended = rows[-1][1] if derived != "open" else None
        with self.warehouse.engine.begin() as conn:
            conn.execute(
                opportunities.insert().values(
                    id=deal_id,
                    tenant_id=self.tenant_id,
                    contact_id=deal_id,
                    stage_key=rows[-2][0] if last == "lost" else last,
                    status=status or derived,
                    source=source,
                    assigned_agent_id=agent,
                    created_at=created,
                    closed_at=closed_at or ended,
                )
            )
            for stage, when in rows:
                conn.execute(
                    stage_history.insert().values(
                        id=self.warehouse.ids.next_id("stage_history"),
                        tenant_id=self.tenant_id,
                        opportunity_id=deal_id,
                        to_stage=stage,
                        status="open",
                        agent_id=agent,
                        changed_at=when,
                        recorded_from="import",
                    )
                )
        return deal_id

    def activity(
        self,
        deal: int,
        when: dt.datetime,
        kind: str = "call",
        direction: str = "outbound",
        agent: int | None = 1,
    ) -> None:
        with self.warehouse.engine.begin() as conn:
            conn.execute(
                activities.insert().values(
                    id=self.warehouse.ids.next_id("activities"),
                    tenant_id=self.tenant_id,
                    contact_id=deal,
                    opportunity_id=deal,
                    agent_id=agent,
                    activity_type=kind,
                    direction=direction,
                    occurred_at=when,
                )
            )

    def sources(self, agents: Sequence[int] | None = None) -> Sources:
        scope = (
            TenantScope(self.tenant_id)
            if agents is None
            else TenantScope.for_agents(self.tenant_id, agents)
        )
        return Sources(self.warehouse, scope)

    def observation(self, period: Period = MARCH, as_of: dt.date = AS_OF) -> Observation:
        return Observation(period, as_of, self.timezone)


T = TypeVar("T")


def by(items: Sequence[T], field: str) -> dict[Any, T]:
    """Items keyed by one of their attributes."""
    return {getattr(item, field): item for item in items}

"""The deals the funnel and speed dashboards start from: one Ibis expression over `Sources`
(so tenant and agent scope apply), filtered in the database. Deleted deals are never read.
(The pipeline dashboard builds its own: `pipeline_queries`.)"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from dealscope.analytics.sources import Sources

if TYPE_CHECKING:
    import ibis.expr.types as ir

# What counts as a person reaching out (an outbound call, text or email logged by an agent,
# not an automation): the start of speed to lead.
PERSONAL_OUTREACH = ("call", "sms", "email")


def build_leads(
    sources: Sources, before: dt.datetime, created_from: dt.datetime | None = None
) -> ir.Table:
    """Deals created in `[created_from, before)` (from the beginning when None), not deleted:
    opportunity_id, created_at, source, agent_id, status."""
    opp = sources.table("opportunities")
    expr = opp.filter(opp.deleted_at.isnull(), opp.created_at < before)
    if created_from is not None:
        expr = expr.filter(expr.created_at >= created_from)
    return expr.select(
        opportunity_id=expr.id,
        created_at=expr.created_at,
        source=expr.source,
        agent_id=expr.assigned_agent_id,
        status=expr.status,
    )

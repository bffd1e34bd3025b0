"""Stage history from observations: GHL sends a deal's current stage, never the previous one.

Every time we learn a deal's state (a webhook, a sync) we keep an observation: when, which
stage, which status. The deal's `stage_history` rows (those we record: webhook and sync) are
the observations in time order with repeats collapsed: one row each time the effective stage
(the stage; `closed_won` when won; `lost` when lost or abandoned) changes. So duplicates and
deliveries in any order give the same history as the same events delivered once in order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from dealscope.warehouse.schema import stage_history, stage_observations
from dealscope.warehouse.stages import LOST, WON
from dealscope.warehouse.unit_of_work import UnitOfWork

RECORDED_BY_US = ("webhook", "sync")


@dataclass(frozen=True)
class Observation:
    observed_at: dt.datetime
    stage_key: str
    status: str  # open|won|lost|abandoned
    agent_id: int | None
    recorded_from: str

    @property
    def effective_stage(self) -> str:
        if self.status == "won":
            return WON
        if self.status in ("lost", "abandoned"):
            return LOST
        return self.stage_key


def history_rows(observations: list[Observation]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    previous: str | None = None
    for obs in observations:
        stage = obs.effective_stage
        if stage == previous:
            continue
        rows.append(
            {
                "from_stage": previous,
                "to_stage": stage,
                "status": obs.status,
                "agent_id": obs.agent_id,
                "changed_at": obs.observed_at,
                "recorded_from": obs.recorded_from,
            }
        )
        previous = stage
    return rows


def record_observation(
    uow: UnitOfWork, tenant_id: int, opportunity_id: int, obs: Observation
) -> None:
    """Keep `obs` and bring the deal's stage history in line with every observation so far."""
    conn = uow.connection
    where = (stage_observations.c.tenant_id == tenant_id) & (
        stage_observations.c.opportunity_id == opportunity_id
    )
    latest = conn.execute(sa.select(sa.func.max(stage_observations.c.observed_at)).where(where))
    latest_at = latest.scalar()
    inserted = conn.execute(
        pg_insert(stage_observations)
        .values(
            id=uow.next_id(stage_observations),
            tenant_id=tenant_id,
            opportunity_id=opportunity_id,
            observed_at=obs.observed_at,
            stage_key=obs.stage_key,
            status=obs.status,
            agent_id=obs.agent_id,
            recorded_from=obs.recorded_from,
        )
        .on_conflict_do_nothing(
            index_elements=["tenant_id", "opportunity_id", "observed_at", "stage_key", "status"]
        )
        .returning(stage_observations.c.id)  # rowcount is -1 here on both backends
    )
    if inserted.first() is None:
        return  # seen before: nothing changes
    if latest_at is None or obs.observed_at > _aware(latest_at):  # first, or newest: append
        _append_if_changed(uow, tenant_id, opportunity_id, obs)
    else:
        rebuild(uow, tenant_id, opportunity_id)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _insert_rows(
    uow: UnitOfWork, tenant_id: int, opportunity_id: int, rows: list[dict[str, object]]
) -> None:
    for row in rows:
        uow.connection.execute(
            sa.insert(stage_history).values(
                id=uow.next_id(stage_history),
                tenant_id=tenant_id,
                opportunity_id=opportunity_id,
                **row,
            )
        )


def _append_if_changed(
    uow: UnitOfWork, tenant_id: int, opportunity_id: int, obs: Observation
) -> None:
    """The fast path: `obs` is newer than every other observation of the deal."""
    last = uow.connection.execute(
        sa.select(stage_history.c.to_stage)
        .where(
            stage_history.c.tenant_id == tenant_id,
            stage_history.c.opportunity_id == opportunity_id,
            stage_history.c.recorded_from.in_(RECORDED_BY_US),
        )
        .order_by(stage_history.c.changed_at.desc(), stage_history.c.id.desc())
        .limit(1)
    ).scalar()
    if last == obs.effective_stage:
        return
    rows = history_rows([obs])
    rows[0]["from_stage"] = last
    _insert_rows(uow, tenant_id, opportunity_id, rows)


def rebuild(uow: UnitOfWork, tenant_id: int, opportunity_id: int) -> None:
    """An observation arrived out of order: recompute the deal's history from all of them."""
    conn = uow.connection
    found = conn.execute(
        sa.select(
            stage_observations.c.observed_at,
            stage_observations.c.stage_key,
            stage_observations.c.status,
            stage_observations.c.agent_id,
            stage_observations.c.recorded_from,
        )
        .where(
            stage_observations.c.tenant_id == tenant_id,
            stage_observations.c.opportunity_id == opportunity_id,
        )
        .order_by(
            stage_observations.c.observed_at,
            stage_observations.c.stage_key,
            stage_observations.c.status,
        )
    ).all()
    observations = [
        Observation(_aware(r.observed_at), r.stage_key, r.status, r.agent_id, r.recorded_from)
        for r in found
    ]
    conn.execute(
        sa.delete(stage_history).where(
            stage_history.c.tenant_id == tenant_id,
            stage_history.c.opportunity_id == opportunity_id,
            stage_history.c.recorded_from.in_(RECORDED_BY_US),
        )
    )
    _insert_rows(uow, tenant_id, opportunity_id, history_rows(observations))

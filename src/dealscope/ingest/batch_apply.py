"""Stored deliveries of one tenant applied as a batch, with the REST sync's page writers.

The ingest worker claims up to a few hundred events at once. Applied one by one, each costs
several statements (look up the record, its contact, write it, ...). Here a tenant's events
are applied in three phases, each reading what it needs with one query per table and
writing contacts, messages and their activities with one statement per table:

1. contact events (GHL Contact*, workflow contacts, generic `contact.*`): `ContactPage`;
2. deal events (Opportunity*, generic `deal.*`): `OpportunityPage` (the deals, stages,
   pipelines, contacts, observations and last recorded stages read once; new observations
   and stage-history rows written at the end, a deal's history rebuilt from all its
   observations when one arrived out of order, as `history.record_observation` does),
   the deals' times and their contacts' activity links recomputed once at the end;
3. message events (Inbound/OutboundMessage, generic `message.*`): `MessagePage`, with the
   deals of their contacts read once to link each call, text or email to its deal;

then every other event (appointments, tasks, notes, users, types we do not process) through
`GhlRecords`. Within a phase events keep their claimed order (event time). Reordering across
phases changes nothing stored: every upsert converges whatever the order of deliveries
(stale snapshots change nothing, placeholders are dated by their earliest mention, activity
and appointment links and stage history are recomputed), which the tests pin.

A payload that cannot be read goes to the last phase, where applying it raises as it would
alone: the worker then rolls the batch back and applies its events one at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from dealscope.errors import ValidationFailed
from dealscope.ingest.generic import apply_generic
from dealscope.ingest.ghl import links
from dealscope.ingest.ghl.batch import BulkWrites, ContactPage, MessagePage, OpportunityPage
from dealscope.ingest.ghl.events import (
    CONTACT_EVENTS,
    MESSAGE_EVENTS,
    OPPORTUNITY_EVENTS,
    WORKFLOW_EVENT,
    _workflow_contact,
    apply_event,
    parse_body,
    parse_envelope,
)
from dealscope.ingest.ghl.history import RECORDED_BY_US, Observation, history_rows, rebuild
from dealscope.ingest.ghl.records import GhlRecords, Outcome
from dealscope.ingest.ghl.values import text
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.schema import contacts, opportunities, stage_history, stage_observations
from dealscope.warehouse.unit_of_work import UnitOfWork

CONTACT, DEAL, MESSAGE, OTHER = "contact", "deal", "message", "other"
_GENERIC_PHASE = {"contact": CONTACT, "deal": DEAL, "message": MESSAGE}


@dataclass(frozen=True)
class StoredEvent:
    id: int
    tenant_id: int
    source: str
    body: str
    received_at: dt.datetime


def apply_stored(records: GhlRecords, event: StoredEvent) -> Outcome | None:
    """Apply one stored delivery by its source; None when its type is not processed."""
    if event.source == "generic":
        return apply_generic(records, event.body, event.received_at)
    return apply_event(
        records, event.body, event.received_at, workflow=event.source == "ghl_workflow"
    )


def _phase(event: StoredEvent) -> tuple[str, Mapping[str, Any] | None]:
    """The phase an event belongs to and the record it carries (for the prefetch)."""
    raw = event.body.encode()
    try:
        if event.source == "generic":
            document = parse_body(raw)
            phase = _GENERIC_PHASE.get(str(document.get("type") or "").partition(".")[0], OTHER)
            record = document.get("data")
        else:
            envelope = parse_envelope(raw, workflow=event.source == "ghl_workflow")
            kind = envelope.event_type or ""
            record = envelope.payload
            if kind == WORKFLOW_EVENT:
                phase, record = CONTACT, _workflow_contact(envelope.payload)
            elif kind in CONTACT_EVENTS:
                phase = CONTACT
            elif kind in OPPORTUNITY_EVENTS:
                phase = DEAL
            elif kind in MESSAGE_EVENTS:
                phase = MESSAGE
            else:
                phase = OTHER
    except ValidationFailed:
        return OTHER, None
    if phase != OTHER and not isinstance(record, Mapping):
        return OTHER, None
    return phase, record


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


@dataclass
class _DealState:
    """What `record_observation` reads of a deal, kept up to date through a batch."""

    keys: set[tuple[dt.datetime, str, str]] = field(default_factory=set)
    latest_at: dt.datetime | None = None
    last_stage: str | None = None  # the last stage-history row we recorded


class _BatchContacts:
    """The contacts a batch's deal and message events name, read once after its contact
    phase, and kept as `GhlRecords.contact_id` would find and write them: a placeholder for
    one not stored, dated by its earliest mention (new placeholders and those dates written
    at `flush`, before the events applied one by one; nothing before reads them from the
    warehouse: the deal and message phases take them from here)."""

    def __init__(self, uow: UnitOfWork, tenant_id: int) -> None:
        self.uow = uow
        self.tenant_id = tenant_id
        self.known: dict[str, list[Any]] = {}  # external id: [id, created_at, placeholder]
        self.loaded: set[str] = set()
        self.earlier: dict[int, dt.datetime] = {}
        self.new: dict[int, dict[str, Any]] = {}  # placeholders made, not written yet

    def add(self, external_id: str, at: dt.datetime) -> int:
        """A placeholder for a contact not stored (written at `flush`)."""
        self.uow.touch(self.tenant_id)
        new_id = self.uow.next_id(contacts)
        self.new[new_id] = {
            "id": new_id,
            "tenant_id": self.tenant_id,
            "external_id": external_id,
            "source": "other",
            "created_at": at,
        }
        self.known[external_id] = [new_id, at, True]
        return new_id

    def load(self, externals: Iterable[str | None]) -> None:
        wanted = sorted({e for e in externals if e} - self.loaded)
        if not wanted:
            return
        found = self.uow.connection.execute(
            sa.select(
                contacts.c.external_id, contacts.c.id, contacts.c.created_at, contacts.c.updated_at
            ).where(contacts.c.tenant_id == self.tenant_id, contacts.c.external_id.in_(wanted))
        ).all()
        for r in found:
            created = None if r.created_at is None else _utc(r.created_at)
            self.known[r.external_id] = [int(r.id), created, r.updated_at is None]
        self.loaded.update(wanted)

    def flush(self) -> None:
        if not self.earlier and not self.new:
            return
        writes = BulkWrites(self.uow.connection, contacts)
        for contact_id, at in self.earlier.items():
            if contact_id in self.new:
                self.new[contact_id]["created_at"] = at
            else:
                writes.update(contact_id, {"created_at": at})
        for row in self.new.values():
            writes.insert(row)
        writes.flush()
        self.earlier.clear()
        self.new.clear()


class _KnownContacts(GhlRecords):
    """`contact_id` from the batch's `_BatchContacts` (the same rows, no query each): the
    pages below need not read their contacts."""

    batch_contacts: _BatchContacts
    reads_contacts = False

    def contact_id(self, external: Any, at: dt.datetime) -> int:
        external_id = text(external, 128)
        known = self.batch_contacts
        if external_id is None or external_id not in known.loaded:
            return super().contact_id(external, at)
        entry = known.known.get(external_id)
        if entry is None:
            return known.add(external_id, at)
        if entry[2] and entry[1] is not None and at < entry[1]:  # a placeholder dated earlier
            entry[1] = known.earlier[entry[0]] = at
        return int(entry[0])


def _contact_of(row: Mapping[str, Any]) -> str | None:
    nested = row.get("contact")
    return text(
        row.get("contactId") or (nested.get("id") if isinstance(nested, Mapping) else None), 128
    )


class _DealPhase(_KnownContacts, OpportunityPage):
    """`OpportunityPage` whose deals are written at `flush` (one statement per group of rows),
    and that brings the deals' times and their contacts' activity links in line then, once,
    rather than after each event: both are recomputed from what is stored, so the result is
    the same. Nothing in the phase reads the deals back from the warehouse but the page's own
    cache of them."""

    def __init__(self, uow: UnitOfWork, tenant_id: int, cipher: PiiCipher) -> None:
        super().__init__(uow, tenant_id, cipher, "webhook")
        self._timed: set[int] = set()
        self._relink: set[int] = set()
        self._deal_writes = BulkWrites(uow.connection, opportunities)
        self._states: dict[int, _DealState] = {}
        self._observation_writes = BulkWrites(uow.connection, stage_observations)
        self._history_writes = BulkWrites(uow.connection, stage_history)
        self._rebuild: set[int] = set()

    def prefetch(self, rows: Iterable[dict[str, Any]]) -> None:
        super().prefetch(rows)
        self._load_deal_states([int(row.id) for row in self._deals.values()])

    def _load_deal_states(self, deal_ids: list[int]) -> None:
        """Each deal's observations (their keys, the latest time) and its last recorded stage."""
        for deal_id in deal_ids:
            self._states[deal_id] = _DealState()
        if not deal_ids:
            return
        found = self.conn.execute(
            sa.select(
                stage_observations.c.opportunity_id,
                stage_observations.c.observed_at,
                stage_observations.c.stage_key,
                stage_observations.c.status,
            ).where(
                stage_observations.c.tenant_id == self.tenant_id,
                stage_observations.c.opportunity_id.in_(deal_ids),
            )
        ).all()
        for o in found:
            state = self._states[int(o.opportunity_id)]
            when = _utc(o.observed_at)
            state.keys.add((when, o.stage_key, o.status))
            state.latest_at = when if state.latest_at is None else max(state.latest_at, when)
        recorded = self.conn.execute(
            sa.select(
                stage_history.c.opportunity_id,
                stage_history.c.changed_at,
                stage_history.c.id,
                stage_history.c.to_stage,
            ).where(
                stage_history.c.tenant_id == self.tenant_id,
                stage_history.c.opportunity_id.in_(deal_ids),
                stage_history.c.recorded_from.in_(RECORDED_BY_US),
            )
        ).all()
        last: dict[int, tuple[dt.datetime, int]] = {}
        for h in recorded:
            deal_id, key = int(h.opportunity_id), (_utc(h.changed_at), int(h.id))
            if deal_id not in last or key > last[deal_id]:
                last[deal_id] = key
                self._states[deal_id].last_stage = h.to_stage

    def _observe(self, opportunity_id: int, observation: Observation, new: bool = False) -> None:
        """`record_observation` in memory: the observation and any history row it appends
        are written at `flush`; one older than the deal's latest makes its history rebuilt
        from all observations then."""
        if new:
            self._states.setdefault(opportunity_id, _DealState())
        elif opportunity_id not in self._states:
            self._load_deal_states([opportunity_id])  # a deal not read with the page
        state = self._states[opportunity_id]
        when = _utc(observation.observed_at)
        key = (when, observation.stage_key, observation.status)
        if key in state.keys:
            return  # seen before: nothing changes
        state.keys.add(key)
        self._observation_writes.insert(
            {
                "id": self.uow.next_id(stage_observations),
                "tenant_id": self.tenant_id,
                "opportunity_id": opportunity_id,
                "observed_at": observation.observed_at,
                "stage_key": observation.stage_key,
                "status": observation.status,
                "agent_id": observation.agent_id,
                "recorded_from": observation.recorded_from,
            }
        )
        if state.latest_at is not None and when <= state.latest_at:
            self._rebuild.add(opportunity_id)
            return
        state.latest_at = when
        if state.last_stage == observation.effective_stage:
            return
        (row,) = history_rows([observation])
        row["from_stage"] = state.last_stage
        state.last_stage = observation.effective_stage
        self._history_writes.insert(
            {
                "id": self.uow.next_id(stage_history),
                "tenant_id": self.tenant_id,
                "opportunity_id": opportunity_id,
                **row,
            }
        )

    def _write_deal(
        self, row: Any, opportunity_id: int, external: str, values: dict[str, Any]
    ) -> None:
        if row is None:
            self._deal_writes.insert(
                {"id": opportunity_id, "tenant_id": self.tenant_id, "external_id": external}
                | values
            )
        else:
            self._deal_writes.update(opportunity_id, values)
        self._remember_deal(row, opportunity_id, external, values)

    def _sync_deal_times(self, opportunity_id: int, status: str) -> None:
        self._timed.add(opportunity_id)

    def _relink_contact(self, contact_id: int) -> None:
        self._relink.add(contact_id)

    def flush(self) -> None:
        self._deal_writes.flush()
        self._observation_writes.flush()
        self._history_writes.flush()
        for deal_id in sorted(self._rebuild):
            rebuild(self.uow, self.tenant_id, deal_id)
        changes = links.deal_times(self.uow, self.tenant_id, self._timed)
        if changes:
            writes = BulkWrites(self.conn, opportunities)
            for deal_id, values in changes.items():
                writes.update(deal_id, values)
            writes.flush()
        links.relink_contacts(self.uow, self.tenant_id, self._relink)


class _MessagePhase(_KnownContacts, MessagePage):
    """`MessagePage` that also reads the deals of the batch's contacts at once (no deal is
    written while messages are applied, so an activity's deal is picked from them)."""

    def prefetch(self, rows: Iterable[dict[str, Any]]) -> None:
        super().prefetch(rows)
        self._deal_lists = links.deals_of_contacts(
            self.uow,
            self.tenant_id,
            [*self._contacts.values(), *(e[0] for e in self.batch_contacts.known.values())],
        )

    def _deal_at(self, contact_id: int, at: dt.datetime) -> int | None:
        deals = self._deal_lists.get(contact_id)
        if deals is None and contact_id in self.batch_contacts.new:
            return None  # a placeholder made in this phase: a new id, no deal names it
        if deals is None:  # a placeholder found in this batch: read its deals
            return super()._deal_at(contact_id, at)
        return links.pick_deal(deals, at)


def _text_id(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def apply_batch(
    uow: UnitOfWork, tenant_id: int, cipher: PiiCipher, events: Sequence[StoredEvent]
) -> dict[int, Outcome | None]:
    """Apply `events` (all of `tenant_id`, in event-time order) inside `uow`; returns each
    event's outcome (None: a type we do not process). Raises as the first failing event
    does; the caller rolls back."""
    phases: dict[str, list[tuple[StoredEvent, Mapping[str, Any]]]] = {
        CONTACT: [],
        DEAL: [],
        MESSAGE: [],
        OTHER: [],
    }
    for event in events:
        name, record = _phase(event)
        phases[name].append((event, record or {}))
    outcomes: dict[int, Outcome | None] = {}
    shared = GhlRecords(uow, tenant_id, cipher, "webhook")  # its caches serve every phase
    shared.prefetch_agents(
        record.get("userId" if name == MESSAGE else "assignedTo")
        for name in (CONTACT, DEAL, MESSAGE)
        for _, record in phases[name]
    )

    def run(records: GhlRecords, batch: list[tuple[StoredEvent, Mapping[str, Any]]]) -> None:
        for event, _ in batch:
            outcomes[event.id] = apply_stored(records, event)

    def phase(
        name: str,
        make: Callable[[], ContactPage | _DealPhase | _MessagePhase],
    ) -> None:
        batch = phases[name]
        if not batch:
            return
        page = make()
        page._agents = shared._agents
        page._agent_rows = shared._agent_rows
        page._stages = shared._stages
        page._pipeline_names = shared._pipeline_names
        if isinstance(page, _KnownContacts):
            page.batch_contacts = known_contacts
        rows = [dict(record) for _, record in batch]
        if isinstance(page, ContactPage):
            page.prefetch(i for i in (_text_id(r.get("id")) for r in rows) if i)
        else:
            page.prefetch(rows)
        run(page, batch)
        page.flush()

    phase(CONTACT, lambda: ContactPage(uow, tenant_id, cipher, "webhook"))
    known_contacts = _BatchContacts(uow, tenant_id)
    known_contacts.load(_contact_of(record) for _, record in phases[DEAL] + phases[MESSAGE])
    phase(DEAL, lambda: _DealPhase(uow, tenant_id, cipher))
    phase(MESSAGE, lambda: _MessagePhase(uow, tenant_id, cipher, "webhook"))
    known_contacts.flush()  # before other events read contacts one by one
    run(shared, phases[OTHER])
    return {event.id: outcomes[event.id] for event in events}

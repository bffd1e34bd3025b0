"""GHL records into the warehouse: idempotent upserts shared by the webhook worker and the
REST sync.

How to call (one writer per unit of work; every call marks the tenant's data as changed, so
its data version moves on at commit and caches refresh):

    from dealscope.ingest.ghl.records import GhlRecords
    from dealscope.warehouse.unit_of_work import unit_of_work

    with unit_of_work(warehouse) as uow:
        records = GhlRecords(uow, tenant_id, cipher, recorded_from="sync")  # or "webhook"
        records.upsert_pipeline(pipeline)          # GET /opportunities/pipelines item
        records.upsert_user(user)                  # REST user or UserCreate
        records.upsert_contact(contact)            # REST contact or Contact* event
        records.upsert_opportunity(opportunity)    # REST opportunity or Opportunity* event
        records.upsert_message(message, contact_id=..., conversation_id=...)
        records.upsert_appointment(appointment)    # the `appointment` object of the event
        records.upsert_task(task)
        records.upsert_note(note)

Each takes the GHL-shaped dict (camelCase keys: REST v2 and marketplace webhooks share them)
and an optional `observed_at`, the time the dict describes the record as of. Without it:
`dateUpdated`/`updatedAt`, else `dateAdded`. A dict older than what is stored changes nothing
(deliveries in any order converge); repeating one changes nothing. Pass `deleted=True` for a
*Delete event. Each returns an `Outcome` ("created", "updated" or "stale").

Rules worth knowing:
- A record is a snapshot: fields it lacks become empty (GHL sends whole records), except the
  contact's attribution, kept until a dict carrying `attributionSource`/`attributions` comes.
- Contact email and phone are stored encrypted (`kit.crypto.PiiCipher`) with a keyed email
  hash; a contact, agent or deal named before it is seen gets a placeholder row that the
  record fills when it arrives.
- A deal's stage comes from `pipelineStageId` through `pipeline_stages.external_id`: an
  unknown stage raises `UnknownReference` (sync the pipelines, then replay). Every state seen
  is kept as an observation and `stage_history` follows them (see `history.py`).
- An activity or appointment belongs to its contact's newest deal created at or before it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import sqlalchemy as sa

from dealscope.errors import ValidationFailed
from dealscope.ingest.ghl import links
from dealscope.ingest.ghl.history import Observation, record_observation
from dealscope.ingest.ghl.values import (
    ACTIVITY_OF_CHANNEL,
    WON,
    guess_stage_key,
    message_channel,
    normalise_source,
    parse_money,
    parse_time,
    text,
)
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.schema import (
    activities,
    agents,
    appointments,
    contacts,
    messages,
    opportunities,
    pipeline_stages,
    pipelines,
)
from dealscope.warehouse.unit_of_work import UnitOfWork

Outcome = Literal["created", "updated", "stale"]
Payload = Mapping[str, Any]

LEAD_TYPES = ("buyer", "seller", "both", "renter", "investor")
OPPORTUNITY_STATUSES = ("open", "won", "lost", "abandoned")
AUTOMATED_SOURCES = ("workflow", "bulk_actions", "campaign", "api")
_APPOINTMENT_STATUS = {
    "confirmed": "confirmed",
    "new": "confirmed",
    "booked": "confirmed",
    "showed": "showed",
    "noshow": "noshow",
    "no_show": "noshow",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "invalid": "cancelled",
}


class UnknownReference(ValidationFailed):
    """A record names something we cannot place (a pipeline stage never synced)."""


def _required(payload: Payload, key: str, what: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(f"{what}: '{key}' is missing or not a string")
    return value.strip()


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


class GhlRecords:
    """Upserts of GHL records for one tenant inside one unit of work (see the module doc)."""

    def __init__(
        self, uow: UnitOfWork, tenant_id: int, cipher: PiiCipher, recorded_from: str = "webhook"
    ) -> None:
        self.uow = uow
        self.conn = uow.connection
        self.tenant_id = tenant_id
        self.cipher = cipher
        self.recorded_from = recorded_from
        self._agents: dict[str, int] = {}
        self._agent_rows: dict[str, Any] = {}  # read ahead by `prefetch_agents` (None: absent)
        self._stages: dict[str, tuple[int | None, str]] = {}
        self._pipeline_names: dict[int, str | None] = {}

    # --- shared ------------------------------------------------------------------------

    def _version(self, payload: Payload, observed_at: dt.datetime | None) -> dt.datetime:
        when = (
            observed_at
            or parse_time(payload.get("dateUpdated") or payload.get("updatedAt"), "dateUpdated")
            or parse_time(payload.get("dateAdded") or payload.get("createdAt"), "dateAdded")
        )
        if when is None:
            raise ValidationFailed("no time to order this record by (timestamp or dateUpdated)")
        return when

    def _find(self, table: sa.Table, external_id: str) -> sa.Row[Any] | None:
        return self.conn.execute(
            sa.select(table).where(
                table.c.tenant_id == self.tenant_id, table.c.external_id == external_id
            )
        ).first()

    def _write(
        self, table: sa.Table, row: sa.Row[Any] | None, values: dict[str, Any]
    ) -> tuple[int, Outcome]:
        self.uow.touch(self.tenant_id)
        if row is None:
            new_id = self.uow.next_id(table)
            self.conn.execute(
                sa.insert(table).values(id=new_id, tenant_id=self.tenant_id, **values)
            )
            return new_id, "created"
        self.conn.execute(sa.update(table).where(table.c.id == row.id).values(**values))
        return int(row.id), "updated"

    def _keep_earliest(
        self, table: sa.Table, row_id: int, stored: dt.datetime | None, at: dt.datetime | None
    ) -> None:
        """A placeholder's creation time is its earliest mention, whatever the order."""
        if at is not None and stored is not None and at < stored:
            self.conn.execute(sa.update(table).where(table.c.id == row_id).values(created_at=at))

    def _deal_at(self, contact_id: int, at: dt.datetime) -> int | None:
        """The deal an activity or appointment of the contact at `at` belongs to."""
        return links.deal_at(self.uow, self.tenant_id, contact_id, at)

    @staticmethod
    def _is_stale(row: sa.Row[Any] | None, version: dt.datetime) -> bool:
        stored = None if row is None else _aware(row.updated_at)
        return stored is not None and version < stored

    # --- agents ------------------------------------------------------------------------

    def agent_id(self, user_id: Any, at: dt.datetime | None = None) -> int | None:
        """Our agent for a GHL user id (`assignedTo`, `userId`), made as a placeholder when
        unknown; None for no user."""
        external = text(user_id, 128)
        if external is None:
            return None
        if external in self._agents:
            return self._agents[external]
        if external in self._agent_rows:
            row = self._agent_rows.pop(external)
        else:
            row = self.conn.execute(
                sa.select(agents.c.id, agents.c.created_at).where(
                    agents.c.tenant_id == self.tenant_id, agents.c.external_id == external
                )
            ).first()
        if row is None:
            found, _ = self._write(
                agents,
                None,
                {
                    "external_id": external,
                    "first_name": "GHL user",
                    "last_name": external[:100],
                    "is_active": True,
                    "created_at": at or dt.datetime.now(dt.UTC),
                },
            )
        else:
            found = int(row.id)
            self._keep_earliest(agents, found, _aware(row.created_at), at)
        self._agents[external] = found
        return found

    def prefetch_agents(self, user_ids: Iterable[Any]) -> None:
        """Read the agents of several GHL user ids with one query, for `agent_id` (which
        then finds or makes each as it would have with a query of its own)."""
        wanted = sorted({e for e in (text(u, 128) for u in user_ids) if e} - set(self._agents))
        if not wanted:
            return
        found = self.conn.execute(
            sa.select(agents.c.external_id, agents.c.id, agents.c.created_at).where(
                agents.c.tenant_id == self.tenant_id, agents.c.external_id.in_(wanted)
            )
        ).all()
        self._agent_rows.update(dict.fromkeys(wanted))
        self._agent_rows.update({r.external_id: r for r in found})

    def upsert_user(
        self, user: Payload, observed_at: dt.datetime | None = None, deleted: bool = False
    ) -> Outcome:
        external = _required(user, "id", "user")
        first, last = user.get("firstName"), user.get("lastName")
        if not first and not last and user.get("name"):
            first, _, last = str(user["name"]).partition(" ")
        row = self._find(agents, external)
        values: dict[str, Any] = {
            "external_id": external,
            "first_name": text(first, 100) or "GHL user",
            "last_name": text(last, 100) or "",
            "email": text(user.get("email"), 254),
            "phone": text(user.get("phone"), 32),
            "is_active": not (deleted or bool(user.get("deleted"))),
        }
        since = parse_time(user.get("dateAdded"), "dateAdded") or observed_at
        if row is None:
            values["created_at"] = since or dt.datetime.now(dt.UTC)
        elif since is not None and since < (_aware(row.created_at) or since):
            values["created_at"] = since  # a placeholder dated by a later mention
        agent, outcome = self._write(agents, row, values)
        self._agents[external] = agent
        return outcome

    # --- pipelines ---------------------------------------------------------------------

    def upsert_pipeline(self, pipeline: Payload) -> Outcome:
        """A pipeline and its stages. A new stage's canonical key is guessed from its name and
        place; a stored stage keeps its key (an admin may have corrected it)."""
        external = _required(pipeline, "id", "pipeline")
        pipeline_id, outcome = self._write(
            pipelines,
            self._find(pipelines, external),
            {"external_id": external, "name": text(pipeline.get("name"), 200) or external},
        )
        self._stages.clear()
        self._pipeline_names.clear()
        stages = pipeline.get("stages") or []
        if not isinstance(stages, list):
            raise ValidationFailed("pipeline: 'stages' must be a list")
        for index, stage in enumerate(stages):
            stage_external = _required(stage, "id", "pipeline stage")
            name = text(stage.get("name"), 200) or stage_external
            position = int(stage.get("position", index))
            row = self._find(pipeline_stages, stage_external)
            values: dict[str, Any] = {
                "external_id": stage_external,
                "pipeline_id": pipeline_id,
                "name": name,
                "position": position,
            }
            if row is None:
                values["stage_key"] = guess_stage_key(name, index, len(stages))
            self._write(pipeline_stages, row, values)
        return outcome

    def _stage(self, stage_external: str | None) -> tuple[int | None, str]:
        if stage_external is None:
            raise ValidationFailed("opportunity: 'pipelineStageId' is missing")
        if stage_external in self._stages:
            return self._stages[stage_external]
        row = self.conn.execute(
            sa.select(pipeline_stages.c.pipeline_id, pipeline_stages.c.stage_key).where(
                pipeline_stages.c.tenant_id == self.tenant_id,
                pipeline_stages.c.external_id == stage_external,
            )
        ).first()
        if row is None:
            raise UnknownReference(
                f"pipeline stage {stage_external!r} is not known: sync the pipelines "
                "(dealscope sync ghl), then replay this event (dealscope ingest replay)"
            )
        self._stages[stage_external] = (row.pipeline_id, str(row.stage_key))
        return self._stages[stage_external]

    # --- contacts ----------------------------------------------------------------------

    def contact_id(self, external: Any, at: dt.datetime) -> int:
        """Our contact for a GHL contact id, made as a placeholder when not seen yet."""
        external_id = text(external, 128)
        if external_id is None:
            raise ValidationFailed("'contactId' is missing")
        row = self.conn.execute(
            sa.select(contacts.c.id, contacts.c.created_at, contacts.c.updated_at).where(
                contacts.c.tenant_id == self.tenant_id, contacts.c.external_id == external_id
            )
        ).first()
        if row is not None:
            if row.updated_at is None:  # still a placeholder: dated by its earliest mention
                self._keep_earliest(contacts, int(row.id), _aware(row.created_at), at)
            return int(row.id)
        new_id, _ = self._write(
            contacts, None, {"external_id": external_id, "source": "other", "created_at": at}
        )
        return new_id

    def upsert_contact(
        self, contact: Payload, observed_at: dt.datetime | None = None, deleted: bool = False
    ) -> Outcome:
        external = _required(contact, "id", "contact")
        version = self._version(contact, observed_at)
        row = self._find(contacts, external)
        agent = self.agent_id(contact.get("assignedTo"), version)  # a mention, even if stale
        if self._is_stale(row, version):
            return "stale"
        first, last = contact.get("firstName"), contact.get("lastName")
        if not first and not last and contact.get("name"):
            first, _, last = str(contact["name"]).partition(" ")
        email, phone = text(contact.get("email"), 254), text(contact.get("phone"), 32)
        tags = [str(t) for t in contact.get("tags") or [] if t is not None]
        lowered = {t.strip().lower() for t in tags}
        values: dict[str, Any] = {
            "external_id": external,
            "first_name": text(first, 100),
            "last_name": text(last, 100),
            "email_encrypted": self.cipher.encrypt(email),
            "phone_encrypted": self.cipher.encrypt(phone),
            "email_hash": self.cipher.email_hash(email),
            "source_detail": text(contact.get("source"), 200),
            "assigned_agent_id": agent,
            "lead_type": next((t for t in LEAD_TYPES if t in lowered), None),
            "postal_code": text(contact.get("postalCode"), 10),
            "city": text(contact.get("city"), 100),
            "tags": tags,
            "created_at": parse_time(contact.get("dateAdded"), "dateAdded")
            or (row.created_at if row is not None else version),
            "updated_at": version,
            "deleted_at": version if deleted else None,
        }
        attribution = _attribution(contact)
        if attribution is not None:
            values.update(attribution)
        source_hint = (attribution or {}).get("utm_source") or (
            row.utm_source if row is not None else None
        )
        values["source"] = normalise_source(contact.get("source"), source_hint)
        _, outcome = self._write(contacts, row, values)
        return outcome

    # --- opportunities -----------------------------------------------------------------

    def upsert_opportunity(
        self, opportunity: Payload, observed_at: dt.datetime | None = None, deleted: bool = False
    ) -> Outcome:
        external = _required(opportunity, "id", "opportunity")
        version = self._version(opportunity, observed_at)
        status = str(opportunity.get("status") or "open").lower()
        if status not in OPPORTUNITY_STATUSES:
            raise ValidationFailed(
                f"opportunity: status {status!r} is not one of {', '.join(OPPORTUNITY_STATUSES)}"
            )
        pipeline_id, stage_key = self._stage(text(opportunity.get("pipelineStageId"), 128))
        if status == "won":
            stage_key = WON
        contact_ref = opportunity.get("contactId") or (opportunity.get("contact") or {}).get("id")
        contact_id = self.contact_id(contact_ref, version)
        agent = self.agent_id(opportunity.get("assignedTo"), version)
        row = self._find(opportunities, external)
        created_at = parse_time(
            opportunity.get("dateAdded") or opportunity.get("createdAt"), "dateAdded"
        ) or (_aware(row.created_at) if row is not None else version)
        outcome: Outcome
        if row is None:  # inserted below, whole
            opportunity_id, outcome, row_created = self.uow.next_id(opportunities), "created", None
        else:
            opportunity_id, outcome = int(row.id), "updated"
            row_created = _aware(row.created_at)
        stage_changed_at = parse_time(opportunity.get("lastStageChangeAt")) or version
        self._observe(
            opportunity_id,
            Observation(stage_changed_at, stage_key, status, agent, self.recorded_from),
            new=row is None,
        )
        if row is not None and self._is_stale(row, version):
            self._sync_deal_times(opportunity_id, row.status)
            return "stale"
        pipeline_name = self._pipeline_name(pipeline_id)
        values = {
            "contact_id": contact_id,
            "pipeline_id": pipeline_id,
            "name": text(opportunity.get("name"), 200),
            "stage_key": stage_key,
            "status": status,
            "value": parse_money(opportunity.get("monetaryValue")),
            "source": normalise_source(opportunity.get("source")),
            "assigned_agent_id": agent,
            "lead_type": _lead_type_of_pipeline(pipeline_name),
            "lost_reason": text(opportunity.get("lostReasonId"), 64)
            if status in ("lost", "abandoned")
            else None,
            "created_at": created_at,
            "updated_at": version,
            "deleted_at": version if deleted else None,
        }
        self.uow.touch(self.tenant_id)
        self._write_deal(row, opportunity_id, external, values)
        self._sync_deal_times(opportunity_id, status)
        if row_created != created_at:
            self._relink_contact(contact_id)
        return outcome

    def _observe(self, opportunity_id: int, observation: Observation, new: bool = False) -> None:
        """Keep what we learnt of the deal's state (`new`: a deal not stored yet); its stage
        history follows."""
        record_observation(self.uow, self.tenant_id, opportunity_id, observation)

    def _write_deal(
        self, row: Any, opportunity_id: int, external: str, values: dict[str, Any]
    ) -> None:
        """Insert the deal (`row` None) or update the stored `row` with `values`."""
        if row is None:
            self.conn.execute(
                sa.insert(opportunities).values(
                    id=opportunity_id, tenant_id=self.tenant_id, external_id=external, **values
                )
            )
        else:
            self.conn.execute(
                sa.update(opportunities)
                .where(opportunities.c.id == opportunity_id)
                .values(**values)
            )

    def _sync_deal_times(self, opportunity_id: int, status: str) -> None:
        links.sync_deal_times(self.uow, self.tenant_id, opportunity_id, status)

    def _relink_contact(self, contact_id: int) -> None:
        links.relink_contact(self.uow, self.tenant_id, contact_id)

    def _pipeline_name(self, pipeline_id: int | None) -> str | None:
        if pipeline_id is None:
            return None
        if pipeline_id not in self._pipeline_names:
            self._pipeline_names[pipeline_id] = self.conn.execute(
                sa.select(pipelines.c.name).where(pipelines.c.id == pipeline_id)
            ).scalar()
        return self._pipeline_names[pipeline_id]

    # --- messages, appointments, tasks, notes ------------------------------------------

    def upsert_message(
        self,
        message: Payload,
        contact_id: Any = None,
        conversation_id: Any = None,
        observed_at: dt.datetime | None = None,
    ) -> Outcome:
        """A message (InboundMessage/OutboundMessage or a REST message), kept as sent, and
        an activity for calls, texts and emails (an agent's, unless sent by an automation)."""
        external = text(message.get("messageId") or message.get("id"), 128)
        if external is None:
            raise ValidationFailed("message: 'messageId' is missing")
        sent_at = parse_time(message.get("dateAdded"), "dateAdded") or observed_at
        if sent_at is None:
            raise ValidationFailed("message: 'dateAdded' is missing")
        direction = str(message.get("direction") or "").lower()
        if direction not in ("inbound", "outbound"):
            raise ValidationFailed(f"message: direction {direction!r} is not inbound or outbound")
        contact = self.contact_id(contact_id or message.get("contactId"), sent_at)
        channel = message_channel(message.get("messageType") or message.get("type"))
        user = self.agent_id(message.get("userId"), sent_at)
        if self._find(messages, external) is not None:
            return "stale"  # messages do not change once sent
        self._write(
            messages,
            None,
            {
                "external_id": external,
                "conversation_id": text(conversation_id or message.get("conversationId"), 128),
                "contact_id": contact,
                "agent_id": user,
                "channel": channel,
                "direction": direction,
                "body": message.get("body") if isinstance(message.get("body"), str) else None,
                "sent_at": sent_at,
            },
        )
        activity_type = ACTIVITY_OF_CHANNEL.get(channel)
        if activity_type is not None:
            automated = str(message.get("source") or "").lower() in AUTOMATED_SOURCES
            duration = message.get("callDuration")
            self._write(
                activities,
                None,
                {
                    "external_id": f"message:{external}",
                    "contact_id": contact,
                    "opportunity_id": self._deal_at(contact, sent_at),
                    "agent_id": None if automated and direction == "outbound" else user,
                    "activity_type": activity_type,
                    "direction": direction,
                    "outcome": text(message.get("callStatus") or message.get("status"), 32),
                    "duration_seconds": int(duration)
                    if isinstance(duration, int | float)
                    else None,
                    "occurred_at": sent_at,
                },
            )
        return "created"

    def upsert_appointment(
        self, appointment: Payload, observed_at: dt.datetime | None = None, deleted: bool = False
    ) -> Outcome:
        external = _required(appointment, "id", "appointment")
        version = self._version(appointment, observed_at)
        row = self._find(appointments, external)
        contact = self.contact_id(appointment.get("contactId"), version)
        agent = self.agent_id(appointment.get("assignedUserId"), version)
        if self._is_stale(row, version):
            return "stale"
        starts_at = parse_time(appointment.get("startTime"), "startTime")
        if starts_at is None:
            raise ValidationFailed("appointment: 'startTime' is missing")
        raw_status = str(appointment.get("appointmentStatus") or "confirmed").lower()
        title = text(appointment.get("title"), 200)
        _, outcome = self._write(
            appointments,
            row,
            {
                "external_id": external,
                "contact_id": contact,
                "opportunity_id": self._deal_at(contact, starts_at),
                "agent_id": agent,
                "title": title,
                "appointment_type": _appointment_type(title),
                "status": "cancelled"
                if deleted
                else _APPOINTMENT_STATUS.get(raw_status, "confirmed"),
                "starts_at": starts_at,
                "ends_at": parse_time(appointment.get("endTime"), "endTime"),
                "created_at": parse_time(appointment.get("dateAdded")) or version,
                "updated_at": version,
            },
        )
        return outcome

    def upsert_task(
        self,
        task: Payload,
        observed_at: dt.datetime | None = None,
        completed: bool | None = None,
        deleted: bool = False,
    ) -> Outcome:
        done = completed if completed is not None else bool(task.get("completed"))
        return self._activity(
            "task", task, observed_at, "completed" if done else "open", "assignedTo", deleted
        )

    def upsert_note(
        self, note: Payload, observed_at: dt.datetime | None = None, deleted: bool = False
    ) -> Outcome:
        return self._activity("note", note, observed_at, None, "userId", deleted)

    def _activity(
        self,
        kind: str,
        payload: Payload,
        observed_at: dt.datetime | None,
        outcome_text: str | None,
        agent_key: str,
        deleted: bool,
    ) -> Outcome:
        external = f"{kind}:{_required(payload, 'id', kind)}"
        version = self._version(payload, observed_at)
        row = self._find(activities, external)
        contact = self.contact_id(payload.get("contactId"), version)
        agent = self.agent_id(payload.get(agent_key), version)
        if self._is_stale(row, version):
            return "stale"
        occurred_at = parse_time(payload.get("dateAdded"), "dateAdded") or version
        _, outcome = self._write(
            activities,
            row,
            {
                "external_id": external,
                "contact_id": contact,
                "opportunity_id": self._deal_at(contact, occurred_at),
                "agent_id": agent,
                "activity_type": kind,
                "outcome": outcome_text,
                "occurred_at": occurred_at,
                "updated_at": version,
                "deleted_at": version if deleted else None,
            },
        )
        return outcome


def _attribution(contact: Payload) -> dict[str, Any] | None:
    """UTM fields and click id from `attributionSource` (first touch) or `attributions[0]`."""
    source = contact.get("attributionSource")
    if source is None and isinstance(contact.get("attributions"), list) and contact["attributions"]:
        source = contact["attributions"][0]
    if not isinstance(source, Mapping):
        return None
    click_type, click_id = None, None
    for key, name in (("gclid", "gclid"), ("fbclid", "fbclid"), ("msclikid", "msclkid")):
        if source.get(key):
            click_type, click_id = name, text(source[key], 200)
            break
    return {
        "utm_source": text(source.get("utmSource"), 100),
        "utm_medium": text(source.get("utmMedium") or source.get("medium"), 100),
        "utm_campaign": text(source.get("campaign"), 200),
        "utm_term": text(source.get("utmTerm") or source.get("utmKeyword"), 200),
        "utm_content": text(source.get("utmContent"), 200),
        "click_id_type": click_type,
        "click_id": click_id,
    }


def _lead_type_of_pipeline(name: str | None) -> str | None:
    lowered = (name or "").lower()
    if "buy" in lowered:
        return "buyer"
    if "sell" in lowered or "listing" in lowered:
        return "seller"
    if "rent" in lowered or "lease" in lowered:
        return "renter"
    return None


def _appointment_type(title: str | None) -> str | None:
    lowered = (title or "").lower()
    for words, kind in (
        (("listing", "presentation", "cma"), "listing_presentation"),
        (("showing", "tour", "viewing"), "showing"),
        (("consult", "buyer"), "buyer_consultation"),
    ):
        if any(w in lowered for w in words):
            return kind
    return None

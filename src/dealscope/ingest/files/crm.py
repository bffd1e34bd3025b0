"""Writers of contacts, opportunities and agents."""

from __future__ import annotations

from typing import Any

from dealscope.ingest.files.base import ImportContext, stable_id
from dealscope.ingest.files.refs import AgentDirectory, ContactDirectory, names_of
from dealscope.ingest.files.store import Counts, Key, load_existing, upsert_for
from dealscope.ingest.files.validate import BadRow, GoodRow
from dealscope.ingest.files.values import BadValue
from dealscope.ingest.ghl.values import normalise_source
from dealscope.warehouse.schema import (
    agents,
    contacts,
    offices,
    opportunities,
    stage_history,
    teams,
)
from dealscope.warehouse.stages import LOST, WON

_CONTACT_COLUMNS = (
    "external_id", "first_name", "last_name", "email_encrypted", "phone_encrypted", "email_hash",
    "source", "source_detail", "utm_source", "utm_medium", "utm_campaign", "utm_term",
    "utm_content", "assigned_agent_id", "lead_type", "postal_code", "city", "tags", "score",
    "is_past_client", "created_at",
)  # fmt: skip
_PLAIN_CONTACT = ("first_name", "last_name", "utm_source", "utm_medium", "utm_campaign",
                  "utm_term", "utm_content", "lead_type", "postal_code", "city", "tags", "score",
                  "is_past_client", "created_at")  # fmt: skip


def _source_values(values: dict[str, Any]) -> dict[str, Any]:
    raw = values.get("source")
    if not (raw or values.get("utm_source") or values.get("utm_medium")):
        return {}
    key = normalise_source(raw, values.get("utm_source"), values.get("utm_medium"))
    return {"source": key, **({"source_detail": raw[:200]} if raw else {})}


class ContactsWriter:
    key_label = "contact (id, email, or name and phone)"

    def key(self, values: dict[str, Any]) -> Key | None:
        if values.get("external_id"):
            return ("id", values["external_id"])
        if values.get("email"):
            return ("email", values["email"])
        return ("who", values.get("first_name"), values.get("last_name"), values.get("phone"))

    def prepare(self, ctx: ImportContext, rows: list[GoodRow]) -> list[BadRow]:
        conn = ctx.uow.connection
        self.agents = AgentDirectory.load(conn, ctx.tenant_id)
        self.directory = ContactDirectory.load(conn, ctx.tenant_id, ctx.cipher)
        self.rows: list[tuple[GoodRow, int | None]] = []
        bad: list[BadRow] = []
        for row in rows:
            agent_id = None
            if row.values.get("agent"):
                try:
                    agent_id = self.agents.resolve(row.values["agent"])
                except BadValue as exc:
                    bad.append(BadRow(row.line, str(exc), row.cells))
                    continue
            self.rows.append((row, agent_id))
        return bad

    def apply(self, ctx: ImportContext) -> Counts:
        existing = load_existing(ctx.uow, contacts, ctx.tenant_id, ["id"], _CONTACT_COLUMNS)
        plan = upsert_for(ctx.uow, contacts, ctx.tenant_id, existing, len(self.rows))
        cipher = ctx.cipher
        for row, agent_id in self.rows:
            v = row.values
            external = v.get("external_id")
            if not external and not v.get("email"):
                external = stable_id(v.get("first_name"), v.get("last_name"), v.get("phone"))
            found = self.directory.find(external, v.get("email"))
            stored = existing.get((found,)) if found is not None else None
            values: dict[str, Any] = {k: v[k] for k in _PLAIN_CONTACT if k in v}
            values.update(_source_values(v))
            if external and not (stored and stored.get("external_id")):
                values["external_id"] = external  # never replaces the CRM's own id
            if agent_id is not None:
                values["assigned_agent_id"] = agent_id
            if v.get("email"):
                digest = cipher.email_hash(v["email"])
                values["email_hash"] = digest
                same = stored is not None and stored.get("email_hash") == digest
                values["email_encrypted"] = (
                    stored["email_encrypted"] if same and stored else cipher.encrypt(v["email"])
                )
            if v.get("phone"):
                old = stored.get("phone_encrypted") if stored else None
                same = old is not None and cipher.decrypt(old) == v["phone"]
                values["phone_encrypted"] = old if same else cipher.encrypt(v["phone"])
            row_id, _ = plan.add(
                (found,) if found is not None else None,
                values,
                create_only={"source": "other", "created_at": ctx.now, "is_past_client": False},
                on_change={"updated_at": ctx.now},
            )
            if found is None:  # later rows of this file find it too
                if external:
                    self.directory.by_external[external] = row_id
                if values.get("email_hash"):
                    self.directory.by_email_hash[values["email_hash"]] = row_id
                existing[(row_id,)] = {"id": row_id, **values}
        return plan.flush(ctx.uow)


_OPPORTUNITY_PLAIN = (
    "name", "stage_key", "status", "value", "lead_type", "property_type", "postal_code",
    "expected_close_date", "lost_reason", "created_at",
)  # fmt: skip


def _effective(stage: str, status: str) -> str:
    """The stage a deal's history shows: closed_won when won, lost when lost or abandoned."""
    if status == "won":
        return WON
    if status in ("lost", "abandoned"):
        return LOST
    return stage


class OpportunitiesWriter:
    key_label = "opportunity id"

    def key(self, values: dict[str, Any]) -> Key | None:
        return (self._external(values),)

    @staticmethod
    def _external(v: dict[str, Any]) -> str:
        if v.get("external_id"):
            return str(v["external_id"])
        contact = v.get("contact_external_id") or v.get("contact_email")
        return stable_id(contact, v.get("name"), v.get("created_at"))

    def prepare(self, ctx: ImportContext, rows: list[GoodRow]) -> list[BadRow]:
        conn = ctx.uow.connection
        agents_ = AgentDirectory.load(conn, ctx.tenant_id)
        directory = ContactDirectory.load(conn, ctx.tenant_id, ctx.cipher)
        self.rows: list[tuple[GoodRow, int, int | None]] = []
        bad: list[BadRow] = []
        for row in rows:
            v = row.values
            try:
                contact_id = directory.resolve(v.get("contact_external_id"), v.get("contact_email"))
                agent_id = agents_.resolve(v["agent"]) if v.get("agent") else None
            except BadValue as exc:
                bad.append(BadRow(row.line, str(exc), row.cells))
                continue
            self.rows.append((row, contact_id, agent_id))
        return bad

    def apply(self, ctx: ImportContext) -> Counts:
        columns = (*_OPPORTUNITY_PLAIN, "contact_id", "assigned_agent_id", "source", "closed_at")
        existing = load_existing(ctx.uow, opportunities, ctx.tenant_id, ["external_id"], columns)
        plan = upsert_for(ctx.uow, opportunities, ctx.tenant_id, existing, len(self.rows))
        history: list[dict[str, Any]] = []
        for row, contact_id, agent_id in self.rows:
            v = row.values
            external = self._external(v)
            values: dict[str, Any] = {k: v[k] for k in _OPPORTUNITY_PLAIN if k in v}
            values["contact_id"] = contact_id
            if agent_id is not None:
                values["assigned_agent_id"] = agent_id
            if v.get("source"):
                values["source"] = normalise_source(v["source"])
            key = (external,)
            stored = existing.get(key)
            if stored is None:
                values.setdefault("status", "open")
                values.setdefault("stage_key", WON if values["status"] == "won" else "new")
            kept: dict[str, Any] = stored or {}
            stage = str(values.get("stage_key", kept.get("stage_key")))
            status = str(values.get("status", kept.get("status")))
            before = None if stored is None else _effective(kept["stage_key"], kept["status"])
            after = _effective(stage, status)
            moved = after != before
            when = v.get("created_at", ctx.now) if stored is None else ctx.now
            on_change: dict[str, Any] = {"updated_at": ctx.now}
            if moved:
                on_change["last_stage_change_at"] = when
                if after in (WON, LOST):
                    on_change["closed_at"] = when
            row_id, _ = plan.add(
                key, values, create_only={"created_at": ctx.now, "external_id": external},
                on_change=on_change,
            )  # fmt: skip
            if moved:
                history.append(
                    {
                        "id": ctx.uow.next_id(stage_history),
                        "tenant_id": ctx.tenant_id,
                        "opportunity_id": row_id,
                        "from_stage": before,
                        "to_stage": after,
                        "status": status,
                        "agent_id": agent_id,
                        "changed_at": when,
                        "recorded_from": "import",
                    }
                )
        counts = plan.flush(ctx.uow)
        if history:
            ctx.uow.connection.execute(stage_history.insert(), history)
        return counts


_AGENT_PLAIN = ("first_name", "last_name", "email", "phone", "license_number", "hired_on",
                "departed_on", "split_plan", "agent_split", "annual_cap", "is_active")  # fmt: skip


class AgentsWriter:
    key_label = "agent (id, email or name)"

    def key(self, values: dict[str, Any]) -> Key | None:
        if values.get("external_id"):
            return ("id", values["external_id"])
        if values.get("email"):
            return ("email", values["email"])
        return ("name", f"{values['first_name']} {values['last_name']}".strip().lower())

    def prepare(self, ctx: ImportContext, rows: list[GoodRow]) -> list[BadRow]:
        known_teams = names_of(ctx.uow.connection, teams, ctx.tenant_id)
        self.rows: list[GoodRow] = []
        bad: list[BadRow] = []
        for row in rows:
            team = row.values.get("team")
            if team and team.lower() not in known_teams and not row.values.get("office"):
                bad.append(
                    BadRow(row.line, f"team {team!r} is new: give its office too", row.cells)
                )
            else:
                self.rows.append(row)
        return bad

    def _place(self, ctx: ImportContext, v: dict[str, Any]) -> dict[str, Any]:
        """office_id and team_id, creating an office or team named for the first time."""
        conn, found = ctx.uow.connection, {}
        office_id = None
        if v.get("office"):
            office_id = self.offices.get(v["office"].lower())
            if office_id is None:
                office_id = ctx.uow.next_id(offices)
                conn.execute(
                    offices.insert().values(id=office_id, tenant_id=ctx.tenant_id, name=v["office"])
                )
                self.offices[v["office"].lower()] = office_id
            found["office_id"] = office_id
        if v.get("team"):
            team_id = self.teams.get(v["team"].lower())
            if team_id is None:
                assert office_id is not None  # prepare() refused new teams without one
                team_id = ctx.uow.next_id(teams)
                conn.execute(
                    teams.insert().values(
                        id=team_id, tenant_id=ctx.tenant_id, office_id=office_id, name=v["team"]
                    )
                )
                self.teams[v["team"].lower()] = team_id
            found["team_id"] = team_id
        return found

    def apply(self, ctx: ImportContext) -> Counts:
        conn = ctx.uow.connection
        directory = AgentDirectory.load(conn, ctx.tenant_id)
        self.offices = names_of(conn, offices, ctx.tenant_id)
        self.teams = names_of(conn, teams, ctx.tenant_id)
        columns = (*_AGENT_PLAIN, "external_id", "office_id", "team_id")
        existing = load_existing(ctx.uow, agents, ctx.tenant_id, ["id"], columns)
        plan = upsert_for(ctx.uow, agents, ctx.tenant_id, existing, len(self.rows))
        for row in self.rows:
            v = row.values
            found: int | None = None
            for ref in (
                v.get("external_id"),
                v.get("email"),
                f"{v['first_name']} {v['last_name']}",
            ):
                if ref:
                    try:
                        found = directory.resolve(ref)
                        break
                    except BadValue:
                        continue
            values = {k: v[k] for k in _AGENT_PLAIN if k in v}
            if v.get("external_id"):
                values["external_id"] = v["external_id"]
            values.update(self._place(ctx, v))
            plan.add(
                (found,) if found is not None else None,
                values,
                create_only={"created_at": ctx.now, "is_active": True},
            )
        return plan.flush(ctx.uow)

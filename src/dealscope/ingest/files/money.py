"""Writers of transactions, marketing spend, operating costs and targets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dealscope.ingest.files.base import ImportContext, stable_id
from dealscope.ingest.files.refs import AgentDirectory, ContactDirectory, names_of
from dealscope.ingest.files.store import Counts, Key, load_existing, upsert_for
from dealscope.ingest.files.validate import BadRow, GoodRow
from dealscope.ingest.files.values import BadValue, cents
from dealscope.ingest.ghl.values import normalise_source
from dealscope.warehouse.schema import (
    marketing_spend,
    offices,
    operating_costs,
    targets,
    teams,
    transactions,
)

_TRANSACTION_PLAIN = (
    "side", "property_type", "postal_code", "city", "contract_date", "close_date",
    "list_price", "sale_price", "commission_rate", "gci", "referral_fee", "agent_commission",
    "company_dollar", "listing_key",
)  # fmt: skip


class TransactionsWriter:
    key_label = "transaction id"

    def key(self, values: dict[str, Any]) -> Key | None:
        return (self._external(values),)

    @staticmethod
    def _external(v: dict[str, Any]) -> str:
        if v.get("external_id"):
            return str(v["external_id"])
        return stable_id(
            v.get("agent"), v["close_date"], v["sale_price"], v["side"], v.get("listing_key"),
            v.get("postal_code"),
        )  # fmt: skip

    def prepare(self, ctx: ImportContext, rows: list[GoodRow]) -> list[BadRow]:
        conn = ctx.uow.connection
        directory = AgentDirectory.load(conn, ctx.tenant_id)
        contacts_ = ContactDirectory.load(conn, ctx.tenant_id, ctx.cipher)
        self.rows: list[tuple[GoodRow, int, int | None]] = []
        bad: list[BadRow] = []
        for row in rows:
            v = row.values
            try:
                agent_id = directory.resolve(v["agent"])
                contact_id = None
                if v.get("contact_email"):
                    contact_id = contacts_.resolve(None, v["contact_email"])
                if v.get("agent_commission") is None:
                    split: Decimal | None = directory.split.get(agent_id)
                    if split is None:
                        raise BadValue(
                            f"no agent commission or company dollar given, and agent "
                            f"{v['agent']!r} has no split on file to work it out"
                        )
                    net = v["gci"] - v["referral_fee"]
                    v["agent_commission"] = cents(net * split)
                    v["company_dollar"] = net - v["agent_commission"]
            except BadValue as exc:
                bad.append(BadRow(row.line, str(exc), row.cells))
                continue
            self.rows.append((row, agent_id, contact_id))
        return bad

    def apply(self, ctx: ImportContext) -> Counts:
        columns = (*_TRANSACTION_PLAIN, "agent_id", "contact_id", "source")
        existing = load_existing(ctx.uow, transactions, ctx.tenant_id, ["external_id"], columns)
        plan = upsert_for(ctx.uow, transactions, ctx.tenant_id, existing, len(self.rows))
        for row, agent_id, contact_id in self.rows:
            v = row.values
            values = {k: v[k] for k in _TRANSACTION_PLAIN if k in v}
            values["agent_id"] = agent_id
            if contact_id is not None:
                values["contact_id"] = contact_id
            if v.get("source"):
                values["source"] = normalise_source(v["source"])
            external = self._external(v)
            plan.add(
                (external,), values, create_only={"created_at": ctx.now, "external_id": external}
            )
        return plan.flush(ctx.uow)


class SpendWriter:
    key_label = "month, source, medium and campaign"

    def key(self, values: dict[str, Any]) -> Key | None:
        return (
            values["spend_month"],
            values["source"],
            values.get("medium"),
            values.get("campaign"),
        )

    def prepare(self, ctx: ImportContext, rows: list[GoodRow]) -> list[BadRow]:
        self.rows = rows
        return []

    def apply(self, ctx: ImportContext) -> Counts:
        keys = ["spend_month", "source", "medium", "campaign"]
        existing = load_existing(
            ctx.uow, marketing_spend, ctx.tenant_id, keys, ["amount", "impressions", "clicks"]
        )
        plan = upsert_for(ctx.uow, marketing_spend, ctx.tenant_id, existing, len(self.rows))
        for row in self.rows:
            v = row.values
            values: dict[str, Any] = {
                k: v[k] for k in ("amount", "impressions", "clicks") if k in v
            }
            plan.add(self.key(v), values, create_only={k: v.get(k) for k in keys})
        return plan.flush(ctx.uow)


class CostsWriter:
    key_label = "office, month, category and description"

    def key(self, values: dict[str, Any]) -> Key | None:
        return (
            (values.get("office") or "").lower(), values["cost_month"], values["category"],
            values.get("description"),
        )  # fmt: skip

    def prepare(self, ctx: ImportContext, rows: list[GoodRow]) -> list[BadRow]:
        self.offices = names_of(ctx.uow.connection, offices, ctx.tenant_id)
        self.rows: list[tuple[GoodRow, int | None]] = []
        bad: list[BadRow] = []
        for row in rows:
            office = row.values.get("office")
            if office and office.lower() not in self.offices:
                known = ", ".join(sorted(self.offices)) or "none yet"
                bad.append(BadRow(row.line, f"no office {office!r} (offices: {known})", row.cells))
                continue
            self.rows.append((row, self.offices.get(office.lower()) if office else None))
        return bad

    def apply(self, ctx: ImportContext) -> Counts:
        keys = ["office_id", "cost_month", "category", "description"]
        existing = load_existing(ctx.uow, operating_costs, ctx.tenant_id, keys, ["amount"])
        plan = upsert_for(ctx.uow, operating_costs, ctx.tenant_id, existing, len(self.rows))
        for row, office_id in self.rows:
            v = row.values
            key = (office_id, v["cost_month"], v["category"], v.get("description"))
            plan.add(key, {"amount": v["amount"]}, create_only=dict(zip(keys, key, strict=True)))
        return plan.flush(ctx.uow)


class TargetsWriter:
    key_label = "scope, metric, grain and period"

    def key(self, values: dict[str, Any]) -> Key | None:
        return (
            values["scope"], (values.get("scope_name") or "").lower(), values["metric"],
            values["grain"], values["period_start"],
        )  # fmt: skip

    def prepare(self, ctx: ImportContext, rows: list[GoodRow]) -> list[BadRow]:
        conn = ctx.uow.connection
        directory = AgentDirectory.load(conn, ctx.tenant_id)
        team_names = names_of(conn, teams, ctx.tenant_id)
        self.rows: list[tuple[GoodRow, int | None]] = []
        bad: list[BadRow] = []
        for row in rows:
            v = row.values
            scope_id = None
            try:
                if v["scope"] == "agent":
                    scope_id = directory.resolve(v["scope_name"])
                elif v["scope"] == "team":
                    scope_id = team_names.get(v["scope_name"].lower())
                    if scope_id is None:
                        raise BadValue(f"no team {v['scope_name']!r}")
            except BadValue as exc:
                bad.append(BadRow(row.line, str(exc), row.cells))
                continue
            self.rows.append((row, scope_id))
        return bad

    def apply(self, ctx: ImportContext) -> Counts:
        keys = ["scope", "scope_id", "metric", "grain", "period_start"]
        existing = load_existing(ctx.uow, targets, ctx.tenant_id, keys, ["value"])
        plan = upsert_for(ctx.uow, targets, ctx.tenant_id, existing, len(self.rows))
        for row, scope_id in self.rows:
            v = row.values
            key = (v["scope"], scope_id, v["metric"], v["grain"], v["period_start"])
            plan.add(key, {"value": v["value"]}, create_only=dict(zip(keys, key, strict=True)))
        return plan.flush(ctx.uow)

"""The CRM and money kinds of file import: their fields, header synonyms and row checks."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from functools import partial
from typing import Any

from dealscope.ingest.files import values as v
from dealscope.ingest.files.spec import Field, ImportKind, KindSpec
from dealscope.ingest.files.values import BadValue, cents
from dealscope.ingest.ghl.values import guess_stage_key
from dealscope.warehouse.stages import LOST, PIPELINE_STAGES, WON

T = partial  # T(v.text, limit=100): a text field of at most 100 characters


def _tags(value: Any) -> list[str]:
    return [t.strip() for t in re.split(r"[;,|]", str(value)) if t.strip()]


def _score(value: Any) -> int:
    number = v.integer(value)
    if not 0 <= number <= 100:
        raise BadValue(f"{value!r} is not a score from 0 to 100")
    return number


_LEAD_TYPES = {"buyer": "buyer", "buy": "buyer", "seller": "seller", "sell": "seller",
               "both": "both", "buyerseller": "both", "renter": "renter", "rent": "renter",
               "tenant": "renter", "investor": "investor"}  # fmt: skip
_SIDES = {"buy": "buy", "buyer": "buy", "buyside": "buy", "sell": "sell", "seller": "sell",
          "listing": "sell", "list": "sell", "listside": "sell", "sellside": "sell",
          "dual": "dual", "both": "dual", "double": "dual"}  # fmt: skip
_STATUSES = {"open": "open", "won": "won", "lost": "lost", "abandoned": "abandoned",
             "closed": "won", "closedwon": "won", "dead": "lost"}  # fmt: skip
_SCOPES = {"company": "company", "brokerage": "company", "team": "team", "agent": "agent"}
_GRAINS = {"month": "month", "monthly": "month", "quarter": "quarter", "quarterly": "quarter",
           "year": "year", "yearly": "year", "annual": "year"}  # fmt: skip

_AGENT_REF = ("agent", "agent email", "agent name", "assigned to", "assigned agent", "owner",
              "agent id", "user", "assigned user")  # fmt: skip


def _lead_type(value: Any) -> str:
    return v.choice(value, _LEAD_TYPES)


def _stage(value: Any) -> str:
    raw = v.text(value, 200)
    key = raw.lower().replace(" ", "_")
    if key in PIPELINE_STAGES or key == LOST:
        return key
    return guess_stage_key(raw, 0, 1)


def _slug(value: Any) -> str:
    raw = v.text(value, 64).lower()
    if not re.fullmatch(r"[a-z][a-z0-9_]*", raw):
        raise BadValue(f"{value!r} is not a metric slug (e.g. gci, closed_deals)")
    return raw


def _finish_contact(row: dict[str, Any]) -> dict[str, Any]:
    full = row.pop("full_name", None)
    if full and not (row.get("first_name") or row.get("last_name")):
        first, _, last = full.partition(" ")
        row["first_name"], row["last_name"] = first or None, last or None
    if not any(row.get(k) for k in ("external_id", "email", "phone", "first_name", "last_name")):
        raise BadValue("a contact needs an id, an email, a phone or a name")
    return row


def _finish_opportunity(row: dict[str, Any]) -> dict[str, Any]:
    """Stage and status agree. A lost deal keeps the stage it was lost at (status lost); a
    stage without a status implies one (closed_won: won, lost: lost, else open)."""
    if not (row.get("contact_external_id") or row.get("contact_email")):
        raise BadValue("an opportunity needs its contact (contact id or contact email)")
    stage, status = row.get("stage_key"), row.get("status")
    if stage == WON and status not in (None, "won"):
        raise BadValue(f"stage closed_won with status {status}")
    if stage == LOST and status not in (None, "lost", "abandoned"):
        raise BadValue(f"stage lost with status {status}")
    if stage is not None and status is None:
        row["status"] = {WON: "won", LOST: "lost"}.get(stage, "open")
    return row


def _finish_transaction(row: dict[str, Any]) -> dict[str, Any]:
    price: Decimal = row["sale_price"]
    if price <= 0:
        raise BadValue("sale price must be above zero")
    rate, gci = row.get("commission_rate"), row.get("gci")
    if gci is None and rate is None:
        raise BadValue("give the GCI or the commission rate")
    if gci is None:
        assert rate is not None
        gci = cents(price * rate)
    if rate is None:
        rate = (gci / price).quantize(Decimal("0.00001"))
    referral = row.get("referral_fee") or Decimal("0.00")
    if referral > gci:
        raise BadValue(f"referral fee {referral} is more than the GCI {gci}")
    row.update(gci=gci, commission_rate=rate, referral_fee=referral)
    agent_commission, company = row.get("agent_commission"), row.get("company_dollar")
    if agent_commission is not None and company is None:
        row["company_dollar"] = gci - referral - agent_commission
    elif agent_commission is None and company is not None:
        row["agent_commission"] = gci - referral - company
    elif agent_commission is not None and agent_commission + company + referral != gci:
        raise BadValue(
            f"agent commission {agent_commission} + company dollar {company} + referral fee "
            f"{referral} is not the GCI {gci}"
        )
    # Neither given: the agent's split fills them when the agent is resolved (writers).
    return row


def _finish_agent(row: dict[str, Any]) -> dict[str, Any]:
    full = row.pop("full_name", None)
    if full and not (row.get("first_name") and row.get("last_name")):
        first, _, last = full.strip().partition(" ")
        row["first_name"], row["last_name"] = first, last or row.get("last_name") or ""
    if not row.get("first_name"):
        raise BadValue("an agent needs a name (first name, or full name)")
    row["last_name"] = row.get("last_name") or ""
    return row


def _finish_target(row: dict[str, Any]) -> dict[str, Any]:
    scope = row.get("scope") or "company"
    row["scope"] = scope
    row["grain"] = row.get("grain") or "month"
    if scope != "company" and not row.get("scope_name"):
        raise BadValue(f"a {scope} target needs the {scope} (its name, or the agent's email)")
    start = row["period_start"]
    if row["grain"] == "quarter":
        start = start.replace(month=(start.month - 1) // 3 * 3 + 1, day=1)
    elif row["grain"] == "year":
        start = start.replace(month=1, day=1)
    else:
        start = start.replace(day=1)
    row["period_start"] = start
    return row


def _finish_cost(row: dict[str, Any]) -> dict[str, Any]:
    row["category"] = row["category"].lower().replace(" ", "_")
    return row


def _finish_spend(row: dict[str, Any]) -> dict[str, Any]:
    row["source"] = row["source"].lower().replace(" ", "_").replace(".", "_")
    return row


_AGENT_FIELD = Field("agent", T(v.text, limit=254), synonyms=_AGENT_REF,
                     help="the agent: their email, id (external id) or full name")  # fmt: skip

CONTACTS = KindSpec(
    ImportKind.CONTACTS,
    (
        Field(
            "external_id", T(v.text, limit=128), synonyms=("id", "contact id", "crm id", "ghl id")
        ),
        Field("first_name", T(v.text, limit=100), synonyms=("first", "given name", "firstname")),
        Field("last_name", T(v.text, limit=100), synonyms=("last", "surname", "family name")),
        Field("full_name", T(v.text, limit=200), synonyms=("name", "contact name", "full name")),
        Field("email", v.email, synonyms=("e-mail", "email address", "mail")),
        Field("phone", v.phone, synonyms=("phone number", "mobile", "cell", "telephone")),
        Field("source", T(v.text, limit=200), synonyms=("lead source", "source detail", "channel")),
        Field("utm_source", T(v.text, limit=100)),
        Field("utm_medium", T(v.text, limit=100)),
        Field("utm_campaign", T(v.text, limit=200), synonyms=("campaign",)),
        Field("utm_term", T(v.text, limit=200)),
        Field("utm_content", T(v.text, limit=200)),
        _AGENT_FIELD,
        Field("lead_type", _lead_type, synonyms=("type", "contact type")),
        Field("postal_code", T(v.text, limit=10), synonyms=("zip", "zip code", "postcode")),
        Field("city", T(v.text, limit=100)),
        Field("tags", _tags),
        Field("score", _score, synonyms=("lead score",)),
        Field("is_past_client", v.flag, synonyms=("past client",)),
        Field("created_at", v.timestamp, synonyms=("date added", "created", "created date")),
    ),
    finish=_finish_contact,
)

OPPORTUNITIES = KindSpec(
    ImportKind.OPPORTUNITIES,
    (
        Field("external_id", T(v.text, limit=128), synonyms=("id", "opportunity id", "deal id")),
        Field("contact_external_id", T(v.text, limit=128), synonyms=("contact id",)),
        Field("contact_email", v.email, synonyms=("email", "e-mail", "contact e-mail")),
        Field("name", T(v.text, limit=200), synonyms=("opportunity name", "deal name", "title")),
        Field("stage_key", _stage, synonyms=("stage", "pipeline stage", "stage name")),
        Field("status", T(v.choice, allowed=_STATUSES), synonyms=("deal status",)),
        Field("value", v.non_negative_money, synonyms=("monetary value", "amount", "price")),
        Field("source", T(v.text, limit=200), synonyms=("lead source",)),
        _AGENT_FIELD,
        Field("lead_type", _lead_type, synonyms=("type",)),
        Field("property_type", T(v.text, limit=32)),
        Field("postal_code", T(v.text, limit=10), synonyms=("zip", "zip code")),
        Field("expected_close_date", v.date, synonyms=("close date", "expected close")),
        Field("lost_reason", T(v.text, limit=64)),
        Field("created_at", v.timestamp, synonyms=("date added", "created")),
    ),
    finish=_finish_opportunity,
    needs_one_of=(("contact_external_id", "contact_email"),),
)

TRANSACTIONS = KindSpec(
    ImportKind.TRANSACTIONS,
    (
        Field(
            "external_id", T(v.text, limit=128), synonyms=("id", "transaction id", "file number")
        ),
        replace(_AGENT_FIELD, required=True),
        Field("side", T(v.choice, allowed=_SIDES), required=True, synonyms=("represented",)),
        Field("close_date", v.date, required=True, synonyms=("closed", "closing date")),
        Field(
            "sale_price",
            v.money,
            required=True,
            synonyms=("close price", "sold price", "sales price", "price"),
        ),
        Field("list_price", v.non_negative_money),
        Field("commission_rate", v.rate, synonyms=("commission", "commission %", "rate")),
        Field(
            "gci", v.non_negative_money, synonyms=("gross commission", "gross commission income")
        ),
        Field("referral_fee", v.non_negative_money, synonyms=("referral",)),
        Field("agent_commission", v.non_negative_money, synonyms=("agent split", "agent net")),
        Field("company_dollar", v.money, synonyms=("company dollars", "company net")),
        Field("contract_date", v.date, synonyms=("under contract date",)),
        Field("listing_key", T(v.text, limit=255), synonyms=("mls number", "mls", "listing id")),
        Field("property_type", T(v.text, limit=32)),
        Field("postal_code", T(v.text, limit=10), synonyms=("zip", "zip code")),
        Field("city", T(v.text, limit=100)),
        Field("source", T(v.text, limit=200), synonyms=("lead source",)),
        Field("contact_email", v.email, synonyms=("client email",)),
    ),
    finish=_finish_transaction,
)

AGENTS = KindSpec(
    ImportKind.AGENTS,
    (
        Field("external_id", T(v.text, limit=128), synonyms=("id", "user id", "agent id")),
        Field("first_name", T(v.text, limit=100), synonyms=("first",)),
        Field("last_name", T(v.text, limit=100), synonyms=("last", "surname")),
        Field("full_name", T(v.text, limit=200), synonyms=("name", "agent name", "agent")),
        Field("email", v.email, synonyms=("e-mail", "email address")),
        Field("phone", v.phone, synonyms=("phone number", "mobile", "cell")),
        Field("license_number", T(v.text, limit=32), synonyms=("license", "license no")),
        Field("office", T(v.text, limit=200), synonyms=("office name", "branch")),
        Field("team", T(v.text, limit=200), synonyms=("team name",)),
        Field("hired_on", v.date, synonyms=("hire date", "start date", "joined")),
        Field("departed_on", v.date, synonyms=("end date", "left", "departure date")),
        Field("split_plan", T(v.text, limit=32), synonyms=("plan", "commission plan")),
        Field("agent_split", v.rate, synonyms=("split", "agent share")),
        Field("annual_cap", v.non_negative_money, synonyms=("cap",)),
        Field("is_active", v.flag, synonyms=("active",)),
    ),
    finish=_finish_agent,
    needs_one_of=(("first_name", "full_name"),),
)

MARKETING_SPEND = KindSpec(
    ImportKind.MARKETING_SPEND,
    (
        Field("spend_month", v.month, required=True, synonyms=("month", "date", "period")),
        Field("source", T(v.text, limit=32), required=True, synonyms=("channel", "platform")),
        Field("medium", T(v.text, limit=32)),
        Field("campaign", T(v.text, limit=200), synonyms=("campaign name",)),
        Field("amount", v.non_negative_money, required=True, synonyms=("spend", "cost")),
        Field("impressions", v.integer),
        Field("clicks", v.integer),
    ),
    finish=_finish_spend,
)

OPERATING_COSTS = KindSpec(
    ImportKind.OPERATING_COSTS,
    (
        Field("cost_month", v.month, required=True, synonyms=("month", "date", "period")),
        Field("category", T(v.text, limit=32), required=True, synonyms=("expense type", "account")),
        Field("amount", v.money, required=True, synonyms=("cost", "expense")),
        Field("office", T(v.text, limit=200), synonyms=("office name", "branch")),
        Field("description", T(v.text, limit=200), synonyms=("memo", "notes")),
    ),
    finish=_finish_cost,
)

TARGETS = KindSpec(
    ImportKind.TARGETS,
    (
        Field("scope", T(v.choice, allowed=_SCOPES), synonyms=("level",)),
        Field("scope_name", T(v.text, limit=254), synonyms=("team", "agent", "who", "name")),
        Field("metric", _slug, required=True, synonyms=("kpi",)),
        Field("grain", T(v.choice, allowed=_GRAINS), synonyms=("period type",)),
        Field("period_start", v.date, required=True, synonyms=("period", "month", "start")),
        Field("value", T(v.decimal, places=2), required=True, synonyms=("target", "goal")),
    ),
    finish=_finish_target,
)

CRM_SPECS: dict[ImportKind, KindSpec] = {
    s.kind: s
    for s in (
        CONTACTS,
        OPPORTUNITIES,
        TRANSACTIONS,
        AGENTS,
        MARKETING_SPEND,
        OPERATING_COSTS,
        TARGETS,
    )
}

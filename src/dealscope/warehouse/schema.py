"""Every table of the warehouse, defined once as SQLAlchemy Core.

Conventions (DESIGN.md §4):
- ids are BIGINT assigned by us (`warehouse.ids`), so bulk loads and single writes share
  one id space on DuckDB (no SERIAL) and PostgreSQL alike;
- every business row has `tenant_id`; external ids (GHL, MLS) sit beside ours;
- timestamps are UTC (`TIMESTAMP WITH TIME ZONE`), money is DECIMAL(14, 2) in the tenant's
  currency, rates are DECIMAL with enough scale to be exact for commission maths;
- no foreign-key constraints: DuckDB cannot update a row other rows reference, and bulk loads
  are faster without them. Relationships are named `<entity>_id` and kept by our writers.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Money = sa.Numeric(14, 2)
Rate = sa.Numeric(7, 5)
UtcDateTime = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False)


def _tenant() -> sa.Column[int]:
    return sa.Column("tenant_id", sa.BigInteger, nullable=False, index=True)


def _ref(name: str, nullable: bool = True) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger, nullable=nullable)


def _external_id() -> sa.Column[str]:
    return sa.Column("external_id", sa.String(128))


def _created_at() -> sa.Column[object]:
    return sa.Column("created_at", UtcDateTime, nullable=False)


# --- tenancy, people, organisation ---------------------------------------------------

id_allocator = sa.Table(
    "id_allocator",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("next_id", sa.BigInteger, nullable=False),
)

tenants = sa.Table(
    "tenants",
    metadata,
    _id(),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False, server_default="USD"),
    sa.Column("timezone", sa.String(64), nullable=False, server_default="America/New_York"),
    # Bumped by every write to the tenant's data; caches key on it.
    sa.Column("data_version", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    # Requests per minute per user or API key; null means the server default.
    sa.Column("rate_limit_per_minute", sa.Integer),
    _created_at(),
)

users = sa.Table(
    "users",
    metadata,
    _id(),
    _tenant(),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("full_name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # admin|manager|analyst|agent|viewer
    _ref("agent_id"),  # the agent a user with role agent is
    _ref("team_id"),  # the team a manager manages
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", UtcDateTime),
    sa.Column("last_login_at", UtcDateTime),
    _created_at(),
    sa.UniqueConstraint("tenant_id", "email"),
)

offices = sa.Table(
    "offices",
    metadata,
    _id(),
    _tenant(),
    _external_id(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("city", sa.String(100)),
    sa.Column("state", sa.String(2)),
    sa.Column("opened_on", sa.Date),
)

teams = sa.Table(
    "teams",
    metadata,
    _id(),
    _tenant(),
    _ref("office_id", nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    _ref("leader_agent_id"),
)

agents = sa.Table(
    "agents",
    metadata,
    _id(),
    _tenant(),
    _external_id(),  # the GHL user id
    _ref("office_id"),
    _ref("team_id"),
    sa.Column("first_name", sa.String(100), nullable=False),
    sa.Column("last_name", sa.String(100), nullable=False),
    sa.Column("email", sa.String(254)),
    sa.Column("phone", sa.String(32)),
    sa.Column("license_number", sa.String(32)),
    sa.Column("hired_on", sa.Date),
    sa.Column("departed_on", sa.Date),
    sa.Column("split_plan", sa.String(32)),  # e.g. "70/30 to $24k cap"
    sa.Column("agent_split", Rate),  # agent's share of GCI after referral fees
    sa.Column("annual_cap", Money),  # company dollar after which the agent keeps 100%
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    _created_at(),
    sa.UniqueConstraint("tenant_id", "external_id"),
)

# --- CRM: leads, deals and what happens to them ---------------------------------------

pipelines = sa.Table(
    "pipelines",
    metadata,
    _id(),
    _tenant(),
    _external_id(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.UniqueConstraint("tenant_id", "external_id"),
)

pipeline_stages = sa.Table(
    "pipeline_stages",
    metadata,
    _id(),
    _tenant(),
    _ref("pipeline_id", nullable=False),
    _external_id(),
    sa.Column("name", sa.String(200), nullable=False),
    # Our canonical stage (new ... under_contract, closed_won, lost) a CRM stage maps to.
    sa.Column("stage_key", sa.String(32), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.UniqueConstraint("tenant_id", "external_id"),
)

contacts = sa.Table(
    "contacts",
    metadata,
    _id(),
    _tenant(),
    _external_id(),
    sa.Column("first_name", sa.String(100)),
    sa.Column("last_name", sa.String(100)),
    # PII at rest: Fernet ciphertext (kit.crypto), and a keyed hash to find a contact by
    # email without decrypting; analytics never reads either.
    sa.Column("email_encrypted", sa.Text),
    sa.Column("phone_encrypted", sa.Text),
    sa.Column("email_hash", sa.String(64), index=True),
    sa.Column("source", sa.String(32), nullable=False),  # normalised channel key
    sa.Column("source_detail", sa.String(200)),  # the CRM's free text, kept as sent
    sa.Column("utm_source", sa.String(100)),
    sa.Column("utm_medium", sa.String(100)),
    sa.Column("utm_campaign", sa.String(200)),
    sa.Column("utm_term", sa.String(200)),
    sa.Column("utm_content", sa.String(200)),
    sa.Column("click_id_type", sa.String(16)),
    sa.Column("click_id", sa.String(200)),
    _ref("assigned_agent_id"),
    sa.Column("lead_type", sa.String(16)),  # buyer|seller|both|renter|investor
    sa.Column("postal_code", sa.String(10)),
    sa.Column("city", sa.String(100)),
    sa.Column("tags", sa.JSON),
    sa.Column("score", sa.SmallInteger),
    sa.Column("is_past_client", sa.Boolean, nullable=False, server_default=sa.false()),
    _ref("referred_by_contact_id"),
    _created_at(),
    sa.Column("updated_at", UtcDateTime),
    sa.Column("deleted_at", UtcDateTime),
    sa.UniqueConstraint("tenant_id", "external_id"),
)

opportunities = sa.Table(
    "opportunities",
    metadata,
    _id(),
    _tenant(),
    _external_id(),
    _ref("contact_id", nullable=False),
    _ref("pipeline_id"),
    sa.Column("name", sa.String(200)),
    sa.Column("stage_key", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open|won|lost|abandoned
    sa.Column("value", Money),  # expected sale price of the property
    sa.Column("source", sa.String(32)),
    _ref("assigned_agent_id"),
    sa.Column("lead_type", sa.String(16)),
    sa.Column("property_type", sa.String(32)),
    sa.Column("postal_code", sa.String(10)),
    sa.Column("is_repeat", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("expected_close_date", sa.Date),
    sa.Column("lost_reason", sa.String(64)),
    _created_at(),
    sa.Column("updated_at", UtcDateTime),
    sa.Column("last_stage_change_at", UtcDateTime),
    sa.Column("closed_at", UtcDateTime),
    sa.Column("deleted_at", UtcDateTime),
    sa.UniqueConstraint("tenant_id", "external_id"),
)

stage_history = sa.Table(
    "stage_history",
    metadata,
    _id(),
    _tenant(),
    _ref("opportunity_id", nullable=False),
    sa.Column("from_stage", sa.String(32)),  # null for the first row of a deal
    sa.Column("to_stage", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    _ref("agent_id"),
    sa.Column("changed_at", UtcDateTime, nullable=False),
    sa.Column("recorded_from", sa.String(16), nullable=False),  # generator|webhook|sync|import
)
sa.Index(
    "ix_stage_history_opportunity_changed",
    stage_history.c.opportunity_id,
    stage_history.c.changed_at,
)

touchpoints = sa.Table(
    "touchpoints",
    metadata,
    _id(),
    _tenant(),
    _ref("contact_id", nullable=False),
    sa.Column("occurred_at", UtcDateTime, nullable=False),
    sa.Column("touch_type", sa.String(32), nullable=False),  # page_view|form_submit|call|...
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("utm_source", sa.String(100)),
    sa.Column("utm_medium", sa.String(100)),
    sa.Column("utm_campaign", sa.String(200)),
    sa.Column("utm_term", sa.String(200)),
    sa.Column("utm_content", sa.String(200)),
    sa.Column("utm_id", sa.String(64)),
    sa.Column("click_id_type", sa.String(16)),
    sa.Column("click_id", sa.String(200)),
    sa.Column("landing_url", sa.String(500)),
    sa.Column("referrer", sa.String(500)),
    sa.Column("is_conversion", sa.Boolean, nullable=False, server_default=sa.false()),
)

activities = sa.Table(
    "activities",
    metadata,
    _id(),
    _tenant(),
    _external_id(),
    _ref("contact_id", nullable=False),
    _ref("opportunity_id"),
    _ref("agent_id"),
    sa.Column(
        "activity_type", sa.String(16), nullable=False
    ),  # call|email|sms|meeting|showing|task|note
    sa.Column("direction", sa.String(8)),  # inbound|outbound
    sa.Column("outcome", sa.String(32)),  # connected|voicemail|no_answer|delivered|completed|...
    sa.Column("duration_seconds", sa.Integer),
    sa.Column("occurred_at", UtcDateTime, nullable=False),
    # The source's time of the state stored (older deliveries change nothing), and deletion.
    sa.Column("updated_at", UtcDateTime),
    sa.Column("deleted_at", UtcDateTime),
)

messages = sa.Table(
    "messages",
    metadata,
    _id(),
    _tenant(),
    _external_id(),
    sa.Column("conversation_id", sa.String(128)),
    _ref("contact_id", nullable=False),
    _ref("agent_id"),
    sa.Column("channel", sa.String(16), nullable=False),  # sms|email|call|chat|...
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("body", sa.Text),
    sa.Column("sent_at", UtcDateTime, nullable=False),
    # Filled by the sentiment model, never by a writer of raw data.
    sa.Column("sentiment_score", sa.Float),
    sa.Column("sentiment_label", sa.String(8)),
    sa.UniqueConstraint("tenant_id", "external_id"),
)

appointments = sa.Table(
    "appointments",
    metadata,
    _id(),
    _tenant(),
    _external_id(),
    _ref("contact_id", nullable=False),
    _ref("opportunity_id"),
    _ref("agent_id"),
    sa.Column("title", sa.String(200)),
    sa.Column("appointment_type", sa.String(32)),  # buyer_consultation|listing_presentation|...
    sa.Column("status", sa.String(16), nullable=False),  # confirmed|showed|noshow|cancelled
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("ends_at", UtcDateTime),
    _created_at(),
    sa.UniqueConstraint("tenant_id", "external_id"),
    sa.Column("updated_at", UtcDateTime),  # the source's time of the state stored
)

transactions = sa.Table(
    "transactions",
    metadata,
    _id(),
    _tenant(),
    _external_id(),
    _ref("opportunity_id"),
    _ref("contact_id"),
    _ref("agent_id", nullable=False),
    sa.Column("listing_key", sa.String(255)),
    sa.Column("side", sa.String(8), nullable=False),  # buy|sell|dual
    sa.Column("property_type", sa.String(32)),
    sa.Column("postal_code", sa.String(10)),
    sa.Column("city", sa.String(100)),
    sa.Column("source", sa.String(32)),
    sa.Column("contract_date", sa.Date),
    sa.Column("close_date", sa.Date, nullable=False),
    sa.Column("list_price", Money),
    sa.Column("sale_price", Money, nullable=False),
    sa.Column("commission_rate", Rate, nullable=False),
    sa.Column("gci", Money, nullable=False),  # gross commission income to the brokerage
    sa.Column("referral_fee", Money, nullable=False),  # paid out to a referrer or lead portal
    sa.Column("agent_commission", Money, nullable=False),  # the agent's split
    sa.Column("company_dollar", Money, nullable=False),  # gci - referral_fee - agent_commission
    _created_at(),
    sa.UniqueConstraint("tenant_id", "external_id"),
)

# --- market, money, plans ---------------------------------------------------------------

listings = sa.Table(
    "listings",
    metadata,
    _id(),
    _tenant(),
    # RESO Data Dictionary 2.0 Property fields, in snake_case.
    sa.Column("listing_key", sa.String(255), nullable=False),
    sa.Column("listing_id", sa.String(255)),
    sa.Column("originating_system_name", sa.String(100)),
    sa.Column("standard_status", sa.String(32), nullable=False),
    sa.Column("mls_status", sa.String(64)),
    sa.Column("property_type", sa.String(32)),
    sa.Column("property_sub_type", sa.String(32)),
    sa.Column("list_price", Money),
    sa.Column("original_list_price", Money),
    sa.Column("close_price", Money),
    sa.Column("listing_contract_date", sa.Date),
    sa.Column("on_market_date", sa.Date),
    sa.Column("purchase_contract_date", sa.Date),
    sa.Column("close_date", sa.Date),
    sa.Column("off_market_date", sa.Date),
    sa.Column("days_on_market", sa.Integer),
    sa.Column("unparsed_address", sa.String(255)),
    sa.Column("city", sa.String(100)),
    sa.Column("state_or_province", sa.String(2)),
    sa.Column("postal_code", sa.String(10)),
    sa.Column("latitude", sa.Numeric(12, 8)),
    sa.Column("longitude", sa.Numeric(12, 8)),
    sa.Column("living_area", sa.Numeric(14, 2)),
    sa.Column("bedrooms_total", sa.Integer),
    sa.Column("bathrooms_total_integer", sa.Integer),
    sa.Column("year_built", sa.Integer),
    sa.Column("list_agent_full_name", sa.String(200)),
    sa.Column("list_office_name", sa.String(200)),
    sa.Column("buyer_agent_full_name", sa.String(200)),
    sa.Column("buyer_office_name", sa.String(200)),
    sa.Column("modification_timestamp", UtcDateTime, nullable=False),
    sa.UniqueConstraint("tenant_id", "listing_key"),
    # Derived on ingest (RESO has no such field): close price, else list price, per square
    # foot of living area (square metres converted).
    sa.Column("price_per_square_foot", Money),
)

market_series = sa.Table(
    "market_series",
    metadata,
    _id(),
    _tenant(),
    sa.Column("series_id", sa.String(64), nullable=False),  # e.g. FRED MORTGAGE30US
    sa.Column("observed_on", sa.Date, nullable=False),
    sa.Column("value", sa.Numeric(16, 4)),  # null where the source says "missing"
    sa.Column("source", sa.String(16), nullable=False),
    sa.UniqueConstraint("tenant_id", "series_id", "observed_on"),
)

marketing_spend = sa.Table(
    "marketing_spend",
    metadata,
    _id(),
    _tenant(),
    sa.Column("spend_month", sa.Date, nullable=False),  # first day of the month
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("medium", sa.String(32)),
    sa.Column("campaign", sa.String(200)),
    sa.Column("amount", Money, nullable=False),
    sa.Column("impressions", sa.BigInteger),
    sa.Column("clicks", sa.BigInteger),
)

operating_costs = sa.Table(
    "operating_costs",
    metadata,
    _id(),
    _tenant(),
    _ref("office_id"),
    sa.Column("cost_month", sa.Date, nullable=False),
    sa.Column("category", sa.String(32), nullable=False),
    sa.Column("amount", Money, nullable=False),
    sa.Column("description", sa.String(200)),
)

targets = sa.Table(
    "targets",
    metadata,
    _id(),
    _tenant(),
    sa.Column("scope", sa.String(8), nullable=False),  # company|team|agent
    _ref("scope_id"),  # team or agent id; null for the company
    sa.Column("metric", sa.String(64), nullable=False),  # a metric slug
    sa.Column("grain", sa.String(8), nullable=False),  # month|quarter|year
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("value", sa.Numeric(16, 2), nullable=False),
    sa.UniqueConstraint("tenant_id", "scope", "scope_id", "metric", "grain", "period_start"),
)

recommendations = sa.Table(
    "recommendations",
    metadata,
    _id(),
    _tenant(),
    _ref("contact_id", nullable=False),
    _ref("agent_id"),
    sa.Column("listing_key", sa.String(255), nullable=False),
    sa.Column("recommended_at", UtcDateTime, nullable=False),
    sa.Column("channel", sa.String(16)),
    sa.Column(
        "outcome", sa.String(16), nullable=False
    ),  # sent|opened|saved|showing|offer|purchased|dismissed
    sa.Column("outcome_at", UtcDateTime),
)

# --- access: sessions, refresh tokens, API keys ----------------------------------------

# A login session: the family of refresh tokens issued from one password sign-in. Access
# tokens name their session, so logging out (revoking it) ends them too.
auth_sessions = sa.Table(
    "auth_sessions",
    metadata,
    _id(),
    _tenant(),
    _ref("user_id", nullable=False),
    _created_at(),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime),
    sa.Column("revoked_reason", sa.String(32)),  # logout|reuse_detected|disabled|...
    sa.Column("ip", sa.String(64)),
    sa.Column("user_agent", sa.String(300)),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    _id(),
    _tenant(),
    _ref("session_id", nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),  # sha256 hex
    sa.Column("issued_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("used_at", UtcDateTime),  # set when rotated; a second use revokes the session
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    _id(),
    _tenant(),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False, unique=True),  # shown in lists
    sa.Column("key_hash", sa.String(64), nullable=False),  # sha256 hex of the secret part
    sa.Column("role", sa.String(16), nullable=False),
    _ref("created_by"),
    _created_at(),
    sa.Column("last_used_at", UtcDateTime),
    sa.Column("revoked_at", UtcDateTime),
)

# --- ingestion, configuration, results, audit -------------------------------------------

# Versioned settings documents per tenant (dashboard, alerts, attribution): every change
# is a new version; the newest is in force.
config_documents = sa.Table(
    "config_documents",
    metadata,
    _id(),
    _tenant(),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    _ref("created_by"),
    _created_at(),
    sa.UniqueConstraint("tenant_id", "kind", "version"),
)

raw_events = sa.Table(
    "raw_events",
    metadata,
    _id(),
    _tenant(),
    sa.Column("source", sa.String(32), nullable=False),  # ghl|ghl_workflow|generic
    sa.Column("event_type", sa.String(64)),
    sa.Column("dedupe_key", sa.String(128), nullable=False),  # webhookId or a body hash
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("headers", sa.JSON),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # received|processed|ignored|dead_letter
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("processed_at", UtcDateTime),
    sa.Column("latency_ms", sa.Float),
    sa.Column("error", sa.Text),
    sa.UniqueConstraint("tenant_id", "source", "dedupe_key"),
    # The event's own time (its `timestamp`, else receipt): the order events are applied in.
    sa.Column("occurred_at", UtcDateTime),
)

# Every state of a deal we were told of (webhook or sync: stage, status, when). GHL never
# sends the previous stage, so the stage history we record is derived from these, which
# makes it the same whatever order the deliveries came in (ingest/ghl/history.py).
stage_observations = sa.Table(
    "stage_observations",
    metadata,
    _id(),
    _tenant(),
    _ref("opportunity_id", nullable=False),
    sa.Column("observed_at", UtcDateTime, nullable=False),
    sa.Column("stage_key", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    _ref("agent_id"),
    sa.Column("recorded_from", sa.String(16), nullable=False),  # webhook|sync
    sa.UniqueConstraint(
        "tenant_id",
        "opportunity_id",
        "observed_at",
        "stage_key",
        "status",
        name="uq_stage_observations_state",
    ),
)

# How a tenant's incoming webhooks authenticate: GHL's public keys (Ed25519 for
# x-ghl-signature, RSA for x-wh-signature; PEM, or raw/hex/base64 for Ed25519), a hash of
# the shared secret of workflow webhooks, the HMAC secret of the generic JSON webhook, and
# the GHL location ids accepted (none: any).
webhook_settings = sa.Table(
    "webhook_settings",
    metadata,
    _id(),
    sa.Column("tenant_id", sa.BigInteger, nullable=False, unique=True),
    sa.Column("ghl_ed25519_public_key", sa.Text),
    sa.Column("ghl_rsa_public_key", sa.Text),
    sa.Column("workflow_secret_sha256", sa.String(64)),
    sa.Column("generic_secret", sa.Text),
    sa.Column("location_ids", sa.JSON),
    _ref("updated_by"),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Where each tenant's REST sync of each resource of an outside account stopped, and how
# its last run went. `cursor` is the source's own resumption point (e.g. the newest
# `dateUpdated` and id stored), advanced only after the rows before it are committed.
sync_cursors = sa.Table(
    "sync_cursors",
    metadata,
    _id(),
    _tenant(),
    sa.Column("source", sa.String(32), nullable=False),  # ghl
    sa.Column("account", sa.String(128), nullable=False),  # e.g. the GHL location id
    sa.Column("resource", sa.String(32), nullable=False),  # contacts|opportunities|...
    sa.Column("cursor", sa.JSON),
    sa.Column("status", sa.String(16), nullable=False),  # running|ok|failed
    sa.Column("mode", sa.String(16)),  # full|incremental
    sa.Column("started_at", UtcDateTime),
    sa.Column("finished_at", UtcDateTime),
    sa.Column("rows_fetched", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.UniqueConstraint("tenant_id", "source", "account", "resource"),
)

# One row per import (file, upload, RESO or FRED run): what it read, wrote and rejected.
# `cursor` is where a feed stopped (RESO: the highest ModificationTimestamp stored), so the
# next run continues from the last committed one.
import_runs = sa.Table(
    "import_runs",
    metadata,
    _id(),
    _tenant(),
    sa.Column("kind", sa.String(32), nullable=False),  # contacts|...|listings|series
    sa.Column("source", sa.String(16), nullable=False),  # file|upload|reso|fred
    sa.Column("source_name", sa.String(500), nullable=False),  # file name or feed URL
    sa.Column("content_sha256", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),  # imported|rejected|failed
    sa.Column("rows_read", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_inserted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_unchanged", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_rejected", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reject_path", sa.String(500)),
    sa.Column("cursor", sa.String(64)),
    sa.Column("actor", sa.String(254)),
    sa.Column("error", sa.Text),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime),
)

alert_rules = sa.Table(
    "alert_rules",
    metadata,
    _id(),
    _tenant(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),  # threshold|change|anomaly|feed_health|...
    sa.Column("metric", sa.String(64)),
    sa.Column("condition", sa.JSON, nullable=False),
    sa.Column("severity", sa.String(8), nullable=False),  # info|warning|critical
    sa.Column("channels", sa.JSON, nullable=False),
    sa.Column("cooldown_minutes", sa.Integer, nullable=False, server_default="60"),
    sa.Column("is_enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    _ref("created_by"),
    _created_at(),
    sa.Column("updated_at", UtcDateTime),
)

alerts = sa.Table(
    "alerts",
    metadata,
    _id(),
    _tenant(),
    _ref("rule_id"),
    sa.Column("fired_at", UtcDateTime, nullable=False),
    sa.Column("severity", sa.String(8), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("detail", sa.JSON),
    sa.Column("value", sa.Float),
    sa.Column("status", sa.String(16), nullable=False),  # open|acknowledged|resolved
    _ref("acknowledged_by"),
    sa.Column("acknowledged_at", UtcDateTime),
    sa.Column("resolved_at", UtcDateTime),
    sa.Column("dedupe_key", sa.String(128)),
)

saved_reports = sa.Table(
    "saved_reports",
    metadata,
    _id(),
    _tenant(),
    _ref("owner_user_id", nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("shared_with_roles", sa.JSON),
    _created_at(),
    sa.Column("updated_at", UtcDateTime),
)

report_schedules = sa.Table(
    "report_schedules",
    metadata,
    _id(),
    _tenant(),
    _ref("report_id", nullable=False),
    sa.Column("cron", sa.String(64), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("recipients", sa.JSON, nullable=False),
    sa.Column("formats", sa.JSON, nullable=False),
    sa.Column("slack_webhook_url", sa.String(500)),
    sa.Column("is_enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("next_run_at", UtcDateTime),
    sa.Column("last_run_at", UtcDateTime),
    _ref("created_by"),
    _created_at(),
)

report_deliveries = sa.Table(
    "report_deliveries",
    metadata,
    _id(),
    _tenant(),
    _ref("schedule_id"),
    _ref("report_id", nullable=False),
    sa.Column("scheduled_for", UtcDateTime),
    sa.Column("attempted_at", UtcDateTime),
    sa.Column("status", sa.String(16), nullable=False),  # pending|sent|failed|retrying
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Column("file_path", sa.String(500)),
    sa.Column("recipients", sa.JSON),
    sa.UniqueConstraint("tenant_id", "schedule_id", "scheduled_for"),
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    _id(),
    _tenant(),
    sa.Column("model_name", sa.String(64), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("trained_at", UtcDateTime, nullable=False),
    sa.Column("params", sa.JSON),
    sa.Column("metrics", sa.JSON),
    sa.Column("artifact", sa.LargeBinary),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("tenant_id", "model_name", "version"),
)

forecasts = sa.Table(
    "forecasts",
    metadata,
    _id(),
    _tenant(),
    sa.Column("method", sa.String(32), nullable=False),  # monte_carlo|timeseries
    sa.Column("metric", sa.String(64), nullable=False),
    sa.Column("issued_at", UtcDateTime, nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("p10", sa.Numeric(16, 2)),
    sa.Column("p50", sa.Numeric(16, 2)),
    sa.Column("p90", sa.Numeric(16, 2)),
    sa.Column("mean", sa.Numeric(16, 2)),
    sa.Column("target", sa.Numeric(16, 2)),
    sa.Column("prob_hit_target", sa.Float),
    sa.Column("params", sa.JSON),
    _ref("model_version_id"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    _id(),
    sa.Column("tenant_id", sa.BigInteger, index=True),  # null for failed logins to no tenant
    _ref("user_id"),
    sa.Column("actor", sa.String(254)),  # email or API key name
    sa.Column("action", sa.String(64), nullable=False),  # read|create|update|delete|login|...
    sa.Column("resource", sa.String(128), nullable=False),
    sa.Column("resource_id", sa.String(128)),
    sa.Column("method", sa.String(8)),
    sa.Column("path", sa.String(500)),
    sa.Column("status_code", sa.Integer),
    sa.Column("outcome", sa.String(16), nullable=False),  # success|denied|error
    sa.Column("ip", sa.String(64)),
    sa.Column("user_agent", sa.String(300)),
    sa.Column("request_id", sa.String(64)),
    sa.Column("occurred_at", UtcDateTime, nullable=False),
    sa.Column("detail", sa.JSON),
)

# Tables that carry tenant data; the tenancy helper refuses any other.
TENANT_TABLES: frozenset[str] = frozenset(
    name for name, table in metadata.tables.items() if "tenant_id" in table.c
)

"""Reading GHL values: times (ISO-8601 or epoch milliseconds), money, channels, sources."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from dealscope.errors import ValidationFailed
from dealscope.warehouse.stages import PIPELINE_STAGES
from dealscope.warehouse.stages import WON as WON  # re-exported: records.py reads it here


def parse_time(value: Any, field: str = "time") -> dt.datetime | None:
    """A GHL time as an aware UTC datetime: ISO-8601 (`...Z` or with an offset; a naive one
    is taken as UTC) or epoch milliseconds (some REST lists). None or "" gives None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationFailed(f"{field}: expected a time, got {value!r}")
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return dt.datetime.fromtimestamp(int(text) / 1000, dt.UTC)
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationFailed(f"{field}: {value!r} is not an ISO-8601 time") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.astimezone(dt.UTC)
    raise ValidationFailed(f"{field}: expected a time, got {type(value).__name__}")


def parse_money(value: Any, field: str = "monetaryValue") -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationFailed(f"{field}: expected a number, got {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(f"{field}: {value!r} is not a number") from None
    if not amount.is_finite() or abs(amount) >= Decimal("1e12"):
        raise ValidationFailed(f"{field}: {value!r} is out of range")
    return amount.quantize(Decimal("0.01"))


def text(value: Any, limit: int) -> str | None:
    """A string field cut to the column's width; None for absent or blank."""
    if value is None:
        return None
    result = str(value).strip()
    return result[:limit] or None


# messageType spellings (webhooks: "SMS", "Email", "CALL", "Live Chat"; REST: "TYPE_SMS").
_CHANNELS = {
    "sms": "sms",
    "email": "email",
    "call": "call",
    "voicemail": "call",
    "ivr": "call",
    "gmb": "gmb",
    "fb": "facebook",
    "facebook": "facebook",
    "ig": "instagram",
    "instagram": "instagram",
    "whatsapp": "whatsapp",
    "livechat": "chat",
    "live_chat": "chat",
    "webchat": "chat",
    "chat": "chat",
}


def message_channel(message_type: Any) -> str:
    """Our channel key for a GHL messageType, case- and spelling-insensitive."""
    key = re.sub(r"[\s-]+", "", str(message_type or "")).lower()
    key = key.removeprefix("type_")
    return _CHANNELS.get(key, "other")


# Activity type of a channel, for the activities table (speed to lead reads it).
ACTIVITY_OF_CHANNEL = {"sms": "sms", "email": "email", "call": "call"}

# Free-text lead sources to our channel keys (demo.catalog SOURCES), first match wins.
_SOURCE_RULES: tuple[tuple[str, str], ...] = (
    (r"zillow|trulia|premier agent", "zillow"),
    (r"realtor\.?com|realtor_com|move\.com", "realtor_com"),
    (r"open.?house", "open_house"),
    (r"sphere|past client|friends|family|repeat", "sphere"),
    (r"referr", "referral"),
    (r"facebook|instagram|meta|fb\b|ig\b|tiktok|paid.?social|linkedin", "paid_social"),
    (r"google ads|adwords|ppc|cpc|paid.?search|bing|gclid", "paid_search"),
    (r"website|web form|landing|valuation|idx|seo|organic|form|chat", "website"),
)


def normalise_source(*candidates: Any) -> str:
    """Our source key for the first candidate (free text, UTM source or medium) that names a
    known channel; "other" when none does."""
    for candidate in candidates:
        if not candidate:
            continue
        lowered = str(candidate).lower()
        for pattern, key in _SOURCE_RULES:
            if re.search(pattern, lowered):
                return key
    return "other"


_STAGE_RULES: tuple[tuple[str, str], ...] = (
    (r"lost|dead|junk|disqualif|not interested|cancel", "lost"),
    (r"closed|won|sold|funded", "closed_won"),
    (r"contract|pending|escrow", "under_contract"),
    (r"offer", "offer"),
    (r"show|tour|viewing", "showing"),
    (r"appoint|consult|meeting|presentation", "appointment"),
    (r"qualif|pre.?approv|nurtur", "qualified"),
    (r"contact|attempt|respond|engag", "contacted"),
    (r"new|lead|inquir|incoming", "new"),
)


def guess_stage_key(name: str, position: int, count: int) -> str:
    """Our canonical stage for a CRM stage, from its name, else from its place in the pipeline
    (an admin can correct `pipeline_stages.stage_key` afterwards; syncs keep the correction)."""
    lowered = name.lower()
    for pattern, key in _STAGE_RULES:
        if re.search(pattern, lowered):
            return key
    if count <= 1:
        return PIPELINE_STAGES[0]
    index = round(position * (len(PIPELINE_STAGES) - 2) / (count - 1))
    return PIPELINE_STAGES[min(index, len(PIPELINE_STAGES) - 2)]

"""A small brokerage written row by row, whose metric values are worked out by hand in
tests/integration/test_metrics.py. Times are UTC; the tenant's calendar is UTC unless a test
says otherwise. February 2024 is the period of interest (29 days: a leap year)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from dealscope.warehouse import schema
from dealscope.warehouse.engine import Warehouse

TENANT = 1
OTHER_TENANT = 2
D = dt.date
A100, A101 = 100, 101  # agent 100 on team 20, agent 101 on team 21, both in office 10


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, minute, tzinfo=dt.UTC)


def _rows(table: sa.Table, rows: list[dict[str, Any]]) -> tuple[sa.Table, list[dict[str, Any]]]:
    return table, [{"tenant_id": TENANT, **r} for r in rows]


def _contact(
    cid: int,
    created: dt.datetime,
    agent: int,
    source: str,
    medium: str | None,
    campaign: str | None,
    zip_code: str,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": cid,
        "created_at": created,
        "assigned_agent_id": agent,
        "source": source,
        "utm_medium": medium,
        "utm_campaign": campaign,
        "postal_code": zip_code,
        **extra,
    }


def _act(
    aid: int, contact: int, agent: int, kind: str, when: dt.datetime, direction: str = "outbound"
) -> dict[str, Any]:
    return {
        "id": aid,
        "contact_id": contact,
        "agent_id": agent,
        "activity_type": kind,
        "direction": direction,
        "occurred_at": when,
    }


def _opp(
    oid: int,
    contact: int,
    agent: int,
    created: dt.datetime,
    value: int,
    status: str,
    stage: str,
    source: str,
    ptype: str,
    zip_code: str,
    closed: dt.datetime | None = None,
) -> dict[str, Any]:
    return {
        "id": oid,
        "contact_id": contact,
        "assigned_agent_id": agent,
        "created_at": created,
        "value": value,
        "status": status,
        "stage_key": stage,
        "source": source,
        "property_type": ptype,
        "postal_code": zip_code,
        "closed_at": closed,
        "last_stage_change_at": closed or created,
    }


def _moves(
    first_id: int, opp: int, agent: int, steps: list[tuple[str | None, str, dt.datetime]]
) -> list[dict[str, Any]]:
    return [
        {
            "id": first_id + i,
            "opportunity_id": opp,
            "agent_id": agent,
            "from_stage": f,
            "to_stage": t,
            "status": "lost" if t == "lost" else "won" if t == "closed_won" else "open",
            "changed_at": when,
            "recorded_from": "import",
        }
        for i, (f, t, when) in enumerate(steps)
    ]


def _tx(
    tid: int,
    agent: int,
    contact: int | None,
    opp: int | None,
    day: dt.date,
    price: int,
    gci: int,
    referral: int,
    agent_part: int,
    source: str,
    ptype: str,
    zip_code: str,
) -> dict[str, Any]:
    return {
        "id": tid,
        "agent_id": agent,
        "contact_id": contact,
        "opportunity_id": opp,
        "side": "buy",
        "close_date": day,
        "sale_price": price,
        "commission_rate": 0.03,
        "gci": gci,
        "referral_fee": referral,
        "agent_commission": agent_part,
        "company_dollar": gci - referral - agent_part,
        "source": source,
        "property_type": ptype,
        "postal_code": zip_code,
        "created_at": at(3, 31),
    }


def load_scenario(warehouse: Warehouse, timezone: str = "UTC") -> None:
    tables = [
        _rows(schema.offices, [{"id": 10, "name": "Main"}]),
        _rows(
            schema.teams,
            [
                {"id": 20, "office_id": 10, "name": "Apex"},
                {"id": 21, "office_id": 10, "name": "Zilker"},
            ],
        ),
        _rows(
            schema.agents,
            [
                {
                    "id": A100,
                    "office_id": 10,
                    "team_id": 20,
                    "first_name": "Ada",
                    "last_name": "Lovelace",
                    "created_at": at(1, 1),
                },
                {
                    "id": A101,
                    "office_id": 10,
                    "team_id": 21,
                    "first_name": "Bob",
                    "last_name": "Builder",
                    "created_at": at(1, 1),
                },
            ],
        ),
        _rows(
            schema.contacts,
            [
                _contact(1, at(2, 1, 9), A100, "zillow", "portal", "za", "78701"),
                _contact(2, at(2, 10, 12), A100, "website", "organic", "w", "78702"),
                _contact(3, at(2, 29, 23), A101, "zillow", "portal", "za", "78701"),
                _contact(4, at(1, 15, 10), A101, "zillow", "portal", "za", "78701"),
                _contact(5, at(3, 1, 0), A100, "website", "organic", "w", "78702"),
                _contact(6, at(2, 5), A100, "zillow", "portal", "za", "78701", deleted_at=at(2, 6)),
            ],
        ),
        _rows(
            schema.activities,
            [
                _act(1, 1, A100, "call", at(2, 1, 9, 10)),
                _act(2, 1, A100, "email", at(2, 2, 9)),
                _act(3, 1, A100, "sms", at(2, 5, 9)),
                _act(4, 1, A100, "call", at(2, 20, 9)),
                _act(5, 2, A100, "call", at(2, 10, 12, 5), direction="inbound"),
                _act(6, 2, A100, "email", at(2, 10, 13)),
                _act(7, 4, A101, "call", at(1, 15, 10, 30)),
                _act(8, 1, A100, "meeting", at(2, 12, 15)),
                _act(9, 1, A100, "showing", at(2, 14, 16)),
            ],
        ),
        _rows(
            schema.opportunities,
            [
                _opp(
                    1,
                    1,
                    A100,
                    at(2, 1, 10),
                    400_000,
                    "won",
                    "closed_won",
                    "zillow",
                    "single_family",
                    "78701",
                    at(2, 20, 10),
                ),
                _opp(
                    2,
                    2,
                    A100,
                    at(2, 10, 13),
                    300_000,
                    "lost",
                    "qualified",
                    "website",
                    "condo",
                    "78702",
                    at(2, 25, 13),
                ),
                _opp(
                    3,
                    3,
                    A101,
                    at(2, 29, 23, 30),
                    500_000,
                    "open",
                    "new",
                    "zillow",
                    "single_family",
                    "78701",
                ),
                _opp(
                    4,
                    4,
                    A101,
                    at(1, 15, 11),
                    200_000,
                    "open",
                    "showing",
                    "zillow",
                    "townhouse",
                    "78701",
                ),
                _opp(
                    5,
                    4,
                    A101,
                    at(1, 16),
                    250_000,
                    "lost",
                    "contacted",
                    "zillow",
                    "townhouse",
                    "78701",
                    at(1, 20),
                ),
            ],
        ),
        _rows(
            schema.stage_history,
            [
                *_moves(
                    1,
                    1,
                    A100,
                    [
                        (None, "new", at(2, 1, 10)),
                        ("new", "contacted", at(2, 2, 10)),
                        ("contacted", "qualified", at(2, 4, 10)),
                        ("qualified", "appointment", at(2, 6, 10)),
                        ("appointment", "showing", at(2, 10, 10)),
                        ("showing", "offer", at(2, 14, 10)),
                        ("offer", "under_contract", at(2, 16, 10)),
                        ("under_contract", "closed_won", at(2, 20, 10)),
                    ],
                ),
                *_moves(
                    20,
                    2,
                    A100,
                    [
                        (None, "new", at(2, 10, 13)),
                        ("new", "contacted", at(2, 11, 13)),
                        ("contacted", "qualified", at(2, 13, 13)),
                        ("qualified", "lost", at(2, 25, 13)),
                    ],
                ),
                *_moves(30, 3, A101, [(None, "new", at(2, 29, 23, 30))]),
                *_moves(
                    40,
                    4,
                    A101,
                    [
                        (None, "new", at(1, 15, 11)),
                        ("new", "contacted", at(1, 16, 11)),
                        ("contacted", "qualified", at(1, 20, 11)),
                        ("qualified", "appointment", at(1, 25, 11)),
                        ("appointment", "showing", at(2, 15, 11)),
                    ],
                ),
                *_moves(
                    50,
                    5,
                    A101,
                    [
                        (None, "new", at(1, 16)),
                        ("new", "contacted", at(1, 17)),
                        ("contacted", "lost", at(1, 20)),
                    ],
                ),
            ],
        ),
        _rows(
            schema.appointments,
            [
                {
                    "id": 1,
                    "contact_id": 1,
                    "agent_id": A100,
                    "opportunity_id": 1,
                    "status": "showed",
                    "created_at": at(2, 3),
                    "starts_at": at(2, 6, 10),
                },
                {
                    "id": 2,
                    "contact_id": 2,
                    "agent_id": A100,
                    "status": "confirmed",
                    "created_at": at(2, 12),
                    "starts_at": at(3, 2, 10),
                },
                {
                    "id": 3,
                    "contact_id": 4,
                    "agent_id": A101,
                    "status": "noshow",
                    "created_at": at(1, 20),
                    "starts_at": at(2, 8, 10),
                },
            ],
        ),
        _rows(
            schema.transactions,
            [
                _tx(
                    1,
                    A100,
                    1,
                    1,
                    D(2024, 2, 20),
                    400_000,
                    12_000,
                    4_000,
                    5_600,
                    "zillow",
                    "single_family",
                    "78701",
                ),
                _tx(
                    2,
                    A101,
                    2,
                    None,
                    D(2024, 2, 29),
                    250_000,
                    7_500,
                    0,
                    5_250,
                    "website",
                    "condo",
                    "78702",
                ),
                _tx(
                    3,
                    A101,
                    3,
                    None,
                    D(2024, 3, 1),
                    999_000,
                    29_970,
                    0,
                    20_000,
                    "zillow",
                    "single_family",
                    "78701",
                ),
                _tx(
                    4,
                    A100,
                    None,
                    None,
                    D(2024, 1, 31),
                    300_000,
                    9_000,
                    0,
                    6_300,
                    "sphere",
                    "single_family",
                    "78704",
                ),
            ],
        ),
        _rows(
            schema.marketing_spend,
            [
                {
                    "id": 1,
                    "spend_month": D(2024, 2, 1),
                    "source": "zillow",
                    "medium": "portal",
                    "campaign": "za",
                    "amount": 2_900,
                },
                {
                    "id": 2,
                    "spend_month": D(2024, 2, 1),
                    "source": "website",
                    "medium": "organic",
                    "campaign": "w",
                    "amount": 1_450,
                },
                {
                    "id": 3,
                    "spend_month": D(2024, 1, 1),
                    "source": "zillow",
                    "medium": "portal",
                    "campaign": "za",
                    "amount": 3_100,
                },
            ],
        ),
        _rows(
            schema.targets,
            [
                {
                    "id": 1,
                    "scope": "company",
                    "scope_id": None,
                    "metric": "gci",
                    "grain": "month",
                    "period_start": D(2024, 2, 1),
                    "value": 26_000,
                },
                {
                    "id": 2,
                    "scope": "company",
                    "scope_id": None,
                    "metric": "gci",
                    "grain": "month",
                    "period_start": D(2024, 1, 1),
                    "value": 31_000,
                },
                {
                    "id": 3,
                    "scope": "agent",
                    "scope_id": A100,
                    "metric": "gci",
                    "grain": "month",
                    "period_start": D(2024, 2, 1),
                    "value": 12_000,
                },
                {
                    "id": 4,
                    "scope": "agent",
                    "scope_id": A101,
                    "metric": "gci",
                    "grain": "month",
                    "period_start": D(2024, 2, 1),
                    "value": 10_000,
                },
                {
                    "id": 5,
                    "scope": "company",
                    "scope_id": None,
                    "metric": "deals_won",
                    "grain": "month",
                    "period_start": D(2024, 2, 1),
                    "value": 2,
                },
                {
                    "id": 6,
                    "scope": "company",
                    "scope_id": None,
                    "metric": "gci",
                    "grain": "quarter",
                    "period_start": D(2024, 1, 1),
                    "value": 999_999,
                },
            ],
        ),
    ]
    with warehouse.engine.begin() as conn:
        for tenant_id, slug in ((TENANT, "scenario"), (OTHER_TENANT, "other")):
            conn.execute(
                schema.tenants.insert().values(
                    id=tenant_id, slug=slug, name=slug, timezone=timezone, created_at=at(1, 1)
                )
            )
        for table, rows in tables:
            for row in rows:  # rows differ in the columns they set
                conn.execute(table.insert().values(**row))
        # Another tenant's lead and closing in the same days: never counted for TENANT.
        conn.execute(
            schema.contacts.insert().values(
                id=900, tenant_id=OTHER_TENANT, source="zillow", created_at=at(2, 2)
            )
        )
        conn.execute(
            schema.transactions.insert().values(
                **{
                    **_tx(900, A100, None, None, D(2024, 2, 2), 1, 1, 0, 0, "zillow", "land", "1"),
                    "tenant_id": OTHER_TENANT,
                }
            )
        )

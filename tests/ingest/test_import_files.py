"""File imports on DuckDB and PostgreSQL: a bulk file with bad rows imports nothing, then the
good rows with --skip-bad-rows; re-imports change nothing; every stored value checked."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from import_kit import CIPHER, add_shop, count, data_version, rows
from openpyxl import Workbook

from dealscope.errors import ValidationFailed
from dealscope.ingest.files.service import ImportRejected, import_file
from dealscope.ingest.files.spec import ImportKind
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import (
    agents,
    contacts,
    import_runs,
    marketing_spend,
    offices,
    operating_costs,
    opportunities,
    stage_history,
    targets,
    teams,
    transactions,
)

NOW = dt.datetime(2025, 4, 1, 12, 0, tzinfo=dt.UTC)
UTC = dt.UTC

CONTACTS_CSV = b"""Contact ID,First Name,Last Name,E-mail,Phone Number,Lead Source,Assigned To,Zip,Tags,Date Added,Notes
C-1,Ann,Lee,Ann@Example.com,(512) 555-0101,Zillow Premier Agent,ada@shop.example,78704,buyer;hot,2025-03-01,called twice
C-2,Ben,Ng,ben@example,512-555-0102,Facebook,,78701,,2025-03-02,
C-3,Cy,Day,cy@example.com,,Referral,Nobody Here,78702,,2025-03-03,
,Dee,Fox,,555 0104 777,open house,U-BO,,,03/04/2025,
C-5,Eve,Ng,eve@example.com,,google ads,Bo Broker,78705,,not a date,
C-1,Ann,Again,ann2@example.com,,,,,,,
"""  # noqa: E501

BAD_CONTACTS = [
    (3, "E-mail: 'ben@example' is not an email address"),
    (4, "no agent 'Nobody Here' (looked up by id, email and full name)"),
    (6, "Date Added: 'not a date' is not a date-time (use ISO-8601)"),
    (7, "same contact (id, email, or name and phone) as line 2"),
]


def _import(warehouse: Warehouse, tenant_id: int, kind: ImportKind, name: str, data: bytes,
            **options: object):  # fmt: skip
    return import_file(
        warehouse,
        tenant_id,
        kind,
        name,
        data,
        CIPHER,
        now=NOW,
        **options,  # type: ignore[arg-type]
    )


def _tags(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def test_a_bulk_file_with_bad_rows(warehouse: Warehouse, tmp_path: Path) -> None:
    shop = add_shop(warehouse)
    # 1. Bad rows and no skipping: nothing is written, every bad row is named.
    with pytest.raises(ImportRejected) as rejected:
        _import(warehouse, shop.tenant_id, ImportKind.CONTACTS, "leads.csv", CONTACTS_CSV)
    assert [(b.line, b.reason) for b in rejected.value.bad_rows] == BAD_CONTACTS
    assert "4 of 6 rows are bad, so nothing was imported" in str(rejected.value)
    assert count(warehouse, contacts) == 0
    assert data_version(warehouse, shop.tenant_id) == 0
    assert rows(warehouse, import_runs, "kind", "status", "rows_read", "rows_inserted",
                "rows_rejected") == [("contacts", "rejected", 6, 0, 4)]  # fmt: skip

    # 2. Skipping them: the two good rows, exactly; the bad ones in the reject file.
    result = _import(warehouse, shop.tenant_id, ImportKind.CONTACTS, "leads.csv", CONTACTS_CSV,
                     skip_bad_rows=True, reject_dir=tmp_path)  # fmt: skip
    assert (result.counts.inserted, result.counts.updated, result.counts.unchanged) == (2, 0, 0)
    assert [(b.line, b.reason) for b in result.bad_rows] == BAD_CONTACTS
    assert result.mapping is not None and result.mapping.ignored == ["Notes"]
    stored = rows(warehouse, contacts, "external_id", "first_name", "last_name", "source",
                  "source_detail", "assigned_agent_id", "postal_code", "created_at",
                  "email_hash", "is_past_client")  # fmt: skip
    dee_id = stored[1][0]
    assert dee_id.startswith("import:")
    assert stored == [
        ("C-1", "Ann", "Lee", "zillow", "Zillow Premier Agent", shop.ada, "78704",
         dt.datetime(2025, 3, 1, tzinfo=UTC), CIPHER.email_hash("ann@example.com"), False),
        (dee_id, "Dee", "Fox", "open_house", "open house", shop.bo, None,
         dt.datetime(2025, 3, 4, tzinfo=UTC), None, False),
    ]  # fmt: skip
    pii = rows(warehouse, contacts, "email_encrypted", "phone_encrypted", "tags")
    assert [(CIPHER.decrypt(e), CIPHER.decrypt(p), _tags(t)) for e, p, t in pii] == [
        ("ann@example.com", "+15125550101", ["buyer", "hot"]),
        (None, "+15550104777", None),
    ]
    assert result.reject_path is not None and result.reject_path.parent == tmp_path
    lines = result.reject_path.read_text().splitlines()
    assert lines[0] == (
        "line,reason,Contact ID,First Name,Last Name,E-mail,Phone Number,Lead Source,"
        "Assigned To,Zip,Tags,Date Added,Notes"
    )
    assert lines[1] == (
        "3,E-mail: 'ben@example' is not an email address,C-2,Ben,Ng,ben@example,512-555-0102,"
        "Facebook,,78701,,2025-03-02,"
    )
    assert [line.split(",", 1)[0] for line in lines[1:]] == ["3", "4", "6", "7"]
    assert data_version(warehouse, shop.tenant_id) == 1
    assert result.data_version == 1

    # 3. The same file again: nothing new, nothing changed, the data version stays.
    again = _import(warehouse, shop.tenant_id, ImportKind.CONTACTS, "leads.csv", CONTACTS_CSV,
                    skip_bad_rows=True, reject_dir=tmp_path)  # fmt: skip
    assert (again.counts.inserted, again.counts.updated, again.counts.unchanged) == (0, 0, 2)
    assert count(warehouse, contacts) == 2
    assert data_version(warehouse, shop.tenant_id) == 1

    # 4. A correction: only the columns in the file change; a blank cell keeps what is stored.
    fix = b"Contact ID,E-mail,Zip,Lead Source\nC-1,ann@example.com,78745,\n"
    fixed = _import(warehouse, shop.tenant_id, ImportKind.CONTACTS, "fix.csv", fix)
    assert (fixed.counts.inserted, fixed.counts.updated, fixed.counts.unchanged) == (0, 1, 0)
    assert rows(warehouse, contacts, "first_name", "postal_code", "source")[0] == (
        "Ann", "78745", "zillow",
    )  # fmt: skip
    assert data_version(warehouse, shop.tenant_id) == 2
    # Found by email under another id: the stored (CRM) id stays.
    other_id = b"Contact ID,E-mail,City\nX-9,ann@example.com,Austin\n"
    _import(warehouse, shop.tenant_id, ImportKind.CONTACTS, "other.csv", other_id)
    assert rows(warehouse, contacts, "external_id", "city")[0] == ("C-1", "Austin")
    assert count(warehouse, contacts) == 2
    assert rows(warehouse, import_runs, "status", "rows_inserted", "rows_updated",
                "rows_unchanged", "rows_rejected") == [
        ("rejected", 0, 0, 0, 4), ("imported", 2, 0, 0, 4), ("imported", 0, 0, 2, 4),
        ("imported", 0, 1, 0, 0), ("imported", 0, 1, 0, 0),
    ]  # fmt: skip


TRANSACTIONS_CSV = b"""Transaction ID,Agent,Side,Close Price,Commission %,GCI,Referral Fee,Agent Commission,Company Dollar,Close Date,Zip
T-1,ada@shop.example,Buy,"$482,500.00",3%,,0,,,2025-03-03,78704
T-2,Bo Broker,listing,610000,,18300,4575,9607.50,,3/20/2025,78745
T-3,Ada Agent,dual,355000,2.5%,,1000,,,2025-03-28,
T-4,U-BO,sell,400000,3%,,,,,2025-03-30,
T-5,Ada Agent,buy,300000,,9000,0,6000,2000,2025-03-31,
"""  # noqa: E501


def test_transactions_money_to_the_cent(warehouse: Warehouse, tmp_path: Path) -> None:
    shop = add_shop(warehouse)
    result = _import(warehouse, shop.tenant_id, ImportKind.TRANSACTIONS, "closings.csv",
                     TRANSACTIONS_CSV, skip_bad_rows=True, reject_dir=tmp_path)  # fmt: skip
    assert [(b.line, b.reason) for b in result.bad_rows] == [
        (5, "no agent commission or company dollar given, and agent 'U-BO' has no split on "
            "file to work it out"),
        (6, "agent commission 6000.00 + company dollar 2000.00 + referral fee 0.00 is not the "
            "GCI 9000.00"),
    ]  # fmt: skip
    assert rows(warehouse, transactions, "external_id", "agent_id", "side", "close_date",
                "sale_price", "commission_rate", "gci", "referral_fee", "agent_commission",
                "company_dollar", "postal_code") == [
        ("T-1", shop.ada, "buy", dt.date(2025, 3, 3), Decimal("482500.00"), Decimal("0.03000"),
         Decimal("14475.00"), Decimal("0.00"), Decimal("10132.50"), Decimal("4342.50"), "78704"),
        ("T-2", shop.bo, "sell", dt.date(2025, 3, 20), Decimal("610000.00"), Decimal("0.03000"),
         Decimal("18300.00"), Decimal("4575.00"), Decimal("9607.50"), Decimal("4117.50"), "78745"),
        ("T-3", shop.ada, "dual", dt.date(2025, 3, 28), Decimal("355000.00"), Decimal("0.02500"),
         Decimal("8875.00"), Decimal("1000.00"), Decimal("5512.50"), Decimal("2362.50"), None),
    ]  # fmt: skip
    again = _import(warehouse, shop.tenant_id, ImportKind.TRANSACTIONS, "closings.csv",
                    TRANSACTIONS_CSV, skip_bad_rows=True, reject_dir=tmp_path)  # fmt: skip
    assert (again.counts.inserted, again.counts.unchanged) == (0, 3)
    assert count(warehouse, transactions) == 3


def test_opportunities_keep_their_stage_history(warehouse: Warehouse, tmp_path: Path) -> None:
    shop = add_shop(warehouse)
    _import(warehouse, shop.tenant_id, ImportKind.CONTACTS, "c.csv",
            b"id,email\nC-1,ann@example.com\n")  # fmt: skip
    deals = (b"Opportunity ID,Contact Email,Name,Stage,Value,Assigned To,Created\n"
             b'O-1,ann@example.com,Lee purchase,Showing Scheduled,"450,000",Ada Agent,2025-03-05\n'
             b"O-2,ghost@example.com,Ghost,New Lead,1000,,2025-03-05\n")  # fmt: skip
    with pytest.raises(ImportRejected) as rejected:
        _import(warehouse, shop.tenant_id, ImportKind.OPPORTUNITIES, "deals.csv", deals)
    assert [(b.line, b.reason) for b in rejected.value.bad_rows] == [
        (3, "no contact 'ghost@example.com'; import the contacts first")
    ]
    _import(warehouse, shop.tenant_id, ImportKind.OPPORTUNITIES, "deals.csv", deals,
            skip_bad_rows=True, reject_dir=tmp_path)  # fmt: skip
    contact_id = rows(warehouse, contacts, "id")[0][0]
    assert rows(warehouse, opportunities, "external_id", "contact_id", "name", "stage_key",
                "status", "value", "assigned_agent_id", "created_at") == [
        ("O-1", contact_id, "Lee purchase", "showing", "open", Decimal("450000.00"), shop.ada,
         dt.datetime(2025, 3, 5, tzinfo=UTC)),
    ]  # fmt: skip
    moved = b"Opportunity ID,Contact Email,Stage\nO-1,ann@example.com,Under Contract\n"
    result = _import(warehouse, shop.tenant_id, ImportKind.OPPORTUNITIES, "moved.csv", moved)
    assert result.counts.updated == 1
    assert rows(warehouse, stage_history, "from_stage", "to_stage", "status", "changed_at",
                "recorded_from") == [
        (None, "showing", "open", dt.datetime(2025, 3, 5, tzinfo=UTC), "import"),
        ("showing", "under_contract", "open", NOW, "import"),
    ]  # fmt: skip
    _import(warehouse, shop.tenant_id, ImportKind.OPPORTUNITIES, "moved.csv", moved)
    assert count(warehouse, stage_history) == 2  # the same stage again is no move
    # A file without a stage column leaves the stage alone.
    priced = b"Opportunity ID,Contact Email,Value\nO-1,ann@example.com,460000\n"
    result = _import(warehouse, shop.tenant_id, ImportKind.OPPORTUNITIES, "priced.csv", priced)
    assert result.counts.updated == 1
    assert count(warehouse, stage_history) == 2
    # Lost: the deal keeps the stage it was lost at; its history shows the loss.
    lost = b"Opportunity ID,Contact Email,Status,Lost Reason\nO-1,ann@example.com,Lost,financing\n"
    _import(warehouse, shop.tenant_id, ImportKind.OPPORTUNITIES, "lost.csv", lost)
    assert rows(warehouse, opportunities, "stage_key", "status", "value", "lost_reason",
                "closed_at") == [
        ("under_contract", "lost", Decimal("460000.00"), "financing", NOW),
    ]  # fmt: skip
    assert rows(warehouse, stage_history, "from_stage", "to_stage", "status")[-1] == (
        "under_contract", "lost", "lost",
    )  # fmt: skip


def _xlsx(*records: tuple[object, ...]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for record in records:
        sheet.append(list(record))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_spend_from_xlsx_costs_from_parquet_targets_from_csv(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    shop = add_shop(warehouse)
    spend = _xlsx(
        ("Month", "Source", "Medium", "Campaign", "Spend", "Clicks"),
        ("2025-03", "Zillow", "portal", None, 1250.5, 40),
        (dt.datetime(2025, 3, 15), "Facebook", "paid_social", "spring", "$2,000", None),
    )
    first = _import(warehouse, shop.tenant_id, ImportKind.MARKETING_SPEND, "spend.xlsx", spend)
    assert first.counts.inserted == 2
    assert rows(warehouse, marketing_spend, "spend_month", "source", "medium", "campaign",
                "amount", "clicks") == [
        (dt.date(2025, 3, 1), "zillow", "portal", None, Decimal("1250.50"), 40),
        (dt.date(2025, 3, 1), "facebook", "paid_social", "spring", Decimal("2000.00"), None),
    ]  # fmt: skip
    changed = _xlsx(("month", "source", "medium", "amount"), ("2025-03", "zillow", "portal", 1300))
    second = _import(warehouse, shop.tenant_id, ImportKind.MARKETING_SPEND, "s.xlsx", changed)
    assert (second.counts.inserted, second.counts.updated) == (0, 1)
    assert rows(warehouse, marketing_spend, "amount")[0] == (Decimal("1300.00"),)

    buffer = io.BytesIO()
    pq.write_table(
        pa.table({
            "Month": ["2025-03-01", "2025-03-01", "2025-03-01"],
            "Expense Type": ["Rent", "Software", "Rent"],
            "Amount": [4500.0, 389.99, 1200.0],
            "Office": ["Downtown", None, "Uptown"],
            "Memo": ["HQ lease", None, None],
        }),
        buffer,
    )  # fmt: skip
    with pytest.raises(ImportRejected) as rejected:
        _import(warehouse, shop.tenant_id, ImportKind.OPERATING_COSTS, "costs.parquet",
                buffer.getvalue())  # fmt: skip
    assert [(b.line, b.reason) for b in rejected.value.bad_rows] == [
        (4, "no office 'Uptown' (offices: downtown)")
    ]
    assert count(warehouse, operating_costs) == 0

    plan = (b"Scope,Who,Metric,Grain,Period,Target\n"
            b"company,,gci,month,2025-03-15,100000\n"
            b"agent,ada@shop.example,closed_deals,quarter,2025-05-10,6\n"
            b"team,A,gci,year,2025-06-01,1200000\n"
            b"team,Z,gci,year,2025-06-01,1\n")  # fmt: skip
    result = _import(warehouse, shop.tenant_id, ImportKind.TARGETS, "plan.csv", plan,
                     skip_bad_rows=True, reject_dir=tmp_path)  # fmt: skip
    assert [(b.line, b.reason) for b in result.bad_rows] == [(5, "no team 'Z'")]
    assert rows(warehouse, targets, "scope", "scope_id", "metric", "grain", "period_start",
                "value") == [
        ("company", None, "gci", "month", dt.date(2025, 3, 1), Decimal("100000.00")),
        ("agent", shop.ada, "closed_deals", "quarter", dt.date(2025, 4, 1), Decimal("6.00")),
        ("team", shop.team_id, "gci", "year", dt.date(2025, 1, 1), Decimal("1200000.00")),
    ]  # fmt: skip


def test_agents_create_offices_and_teams(warehouse: Warehouse, tmp_path: Path) -> None:
    shop = add_shop(warehouse)
    roster = (b"Name,E-mail,Office,Team,Split,Cap,Hire Date\n"
              b"Ada Agent,ada@shop.example,Downtown,A,75%,,2020-02-01\n"
              b"Cal Closer,cal@shop.example,Uptown,B,80/20,24000,2025-01-15\n"
              b"Dot Doer,dot@shop.example,,C,0.6,,\n")  # fmt: skip
    result = _import(warehouse, shop.tenant_id, ImportKind.AGENTS, "roster.csv", roster,
                     skip_bad_rows=True, reject_dir=tmp_path)  # fmt: skip
    assert [(b.line, b.reason) for b in result.bad_rows] == [
        (4, "team 'C' is new: give its office too")
    ]
    assert (result.counts.inserted, result.counts.updated) == (1, 1)
    uptown = next(i for i, name in rows(warehouse, offices, "id", "name") if name == "Uptown")
    team_b = next(i for i, name in rows(warehouse, teams, "id", "name") if name == "B")
    assert rows(warehouse, agents, "first_name", "last_name", "email", "office_id", "team_id",
                "agent_split", "annual_cap", "hired_on") == [
        ("Ada", "Agent", "ada@shop.example", shop.office_id, shop.team_id, Decimal("0.75000"),
         None, dt.date(2020, 2, 1)),
        ("Bo", "Broker", "bo@shop.example", shop.office_id, shop.team_id, None, None, None),
        ("Cal", "Closer", "cal@shop.example", uptown, team_b, Decimal("0.80000"),
         Decimal("24000.00"), dt.date(2025, 1, 15)),
    ]  # fmt: skip


def test_column_mapping_detection_and_overrides(warehouse: Warehouse) -> None:
    shop = add_shop(warehouse)
    two_emails = b"E-mail,Email Address,First,Work Phone\nw@example.com,h@example.com,Ann,1\n"
    with pytest.raises(ValidationFailed, match="both look like 'email'"):
        _import(warehouse, shop.tenant_id, ImportKind.CONTACTS, "c.csv", two_emails)
    # Mapped by hand, the look-alike is left out; an unknown header is ignored and named.
    result = _import(warehouse, shop.tenant_id, ImportKind.CONTACTS, "c.csv", two_emails,
                     overrides={"E-mail": "email"})  # fmt: skip
    assert result.mapping is not None
    assert result.mapping.fields == {"email": "E-mail", "first_name": "First"}
    assert result.mapping.ignored == ["Email Address", "Work Phone"]
    assert rows(warehouse, contacts, "email_hash") == [(CIPHER.email_hash("w@example.com"),)]
    with pytest.raises(ValidationFailed, match="no column for required field"):
        _import(warehouse, shop.tenant_id, ImportKind.TRANSACTIONS, "t.csv", b"Agent,Side\nx,buy\n")
    with pytest.raises(ValidationFailed, match="has no field 'emial'"):
        _import(warehouse, shop.tenant_id, ImportKind.CONTACTS, "c.csv", two_emails,
                overrides={"E-mail": "emial"})  # fmt: skip
    assert count(warehouse, contacts) == 1

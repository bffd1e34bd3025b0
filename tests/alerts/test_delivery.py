"""Scheduled reports: rendered from generated data, mailed to a real SMTP server on loopback
with the right attachments and recipients, exactly once, through restarts and an SMTP outage
(retried with backoff), and a missed run after downtime runs once."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import sqlalchemy as sa
from alert_sinks import HttpSink, SmtpSink
from alerting_data import add_tenant
from cryptography.fernet import Fernet
from openpyxl import load_workbook
from pypdf import PdfReader

from dealscope.alerts.channels import SmtpConfig
from dealscope.alerts.delivery import DeliveryPolicy
from dealscope.alerts.scheduler import Runner, tick_reports
from dealscope.alerts.settings import Outbox
from dealscope.api.scheduling import ReportsProducer, load_alert_settings
from dealscope.demo.generator import BrokerageSpec, generate_brokerage
from dealscope.demo.loader import load_brokerage
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse import schema
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import report_deliveries, report_schedules, saved_reports
from dealscope.warehouse.unit_of_work import unit_of_work

END = dt.date(2025, 3, 30)
CIPHER = PiiCipher([Fernet.generate_key()], b"delivery-hash-key")
# Monday 31 March 2025, 07:00 in Chicago (CDT) is 12:00 UTC.
RUN = dt.datetime(2025, 3, 31, 12, 0, tzinfo=dt.UTC)
SENDER = "DealScope Reports <reports@dealscope.test>"


def _brokerage(warehouse: Warehouse) -> int:
    spec = BrokerageSpec(leads=400, seed=7, end=END, years=0.5, agents=5, name="Lakeside Realty")
    return load_brokerage(warehouse, generate_brokerage(spec), "lakeside", cipher=CIPHER).tenant_id


def _schedule(
    warehouse: Warehouse,
    tenant_id: int,
    formats: list[str],
    cron: str = "0 7 * * 1",
    slack: str | None = None,
    next_run_at: dt.datetime | None = None,
) -> int:
    with unit_of_work(warehouse) as uow:
        report_id = uow.next_id(saved_reports)
        uow.connection.execute(
            saved_reports.insert().values(
                id=report_id,
                tenant_id=tenant_id,
                owner_user_id=1,
                name="Weekly",
                spec={"template": "weekly_performance"},
                shared_with_roles=[],
                created_at=RUN - dt.timedelta(days=3),
            )
        )
        schedule_id = uow.next_id(report_schedules)
        uow.connection.execute(
            report_schedules.insert().values(
                id=schedule_id,
                tenant_id=tenant_id,
                report_id=report_id,
                cron=cron,
                timezone="America/Chicago",
                recipients=["owner@lakeside.example", "sales@lakeside.example"],
                formats=formats,
                slack_webhook_url=slack,
                next_run_at=next_run_at,
                created_at=RUN - dt.timedelta(days=3),
            )
        )
    return schedule_id


def _runner(warehouse: Warehouse, smtp: SmtpSink, data_dir: Path) -> Runner:
    return Runner(
        warehouse=warehouse,
        outbox=Outbox(SmtpConfig.from_url(smtp.url), SENDER),
        policy=DeliveryPolicy(data_dir=data_dir, max_attempts=4, retry_seconds=60),
        producer=ReportsProducer(),
        load_settings=load_alert_settings,
    )


def _deliveries(warehouse: Warehouse) -> list[sa.Row[tuple[object, ...]]]:
    with warehouse.engine.connect() as conn:
        return list(conn.execute(sa.select(report_deliveries).order_by(report_deliveries.c.id)))


def _next_run(warehouse: Warehouse, schedule_id: int) -> dt.datetime:
    with warehouse.engine.connect() as conn:
        value = conn.execute(
            sa.select(report_schedules.c.next_run_at).where(report_schedules.c.id == schedule_id)
        ).scalar_one()
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def test_a_scheduled_report_is_mailed_once_with_its_files(
    warehouse: Warehouse, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    tenant = _brokerage(warehouse)
    schedule = _schedule(warehouse, tenant, ["pdf", "xlsx"])
    smtp_sink.start()

    assert (
        tick_reports(_runner(warehouse, smtp_sink, tmp_path), RUN - dt.timedelta(minutes=1)) == []
    )
    assert _next_run(warehouse, schedule) == RUN

    (outcome,) = tick_reports(
        _runner(warehouse, smtp_sink, tmp_path), RUN + dt.timedelta(seconds=20)
    )
    assert outcome.status == "sent" and outcome.attempts == 1 and outcome.error is None
    # The server restarts (a new runner over the same warehouse) and ticks again: no resend.
    assert (
        tick_reports(_runner(warehouse, smtp_sink, tmp_path), RUN + dt.timedelta(minutes=1)) == []
    )
    assert (
        tick_reports(_runner(warehouse, smtp_sink, tmp_path), RUN + dt.timedelta(minutes=2)) == []
    )

    (mail,) = smtp_sink.mails
    assert sorted(mail.recipients) == ["owner@lakeside.example", "sales@lakeside.example"]
    assert mail.sender == "reports@dealscope.test"
    message = mail.message
    assert message["Subject"].startswith("Weekly performance: 2025-03-31 07:00 CDT")
    files = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    # The run of Monday morning reports on the week up to Sunday 30 March (as_of).
    assert sorted(files) == [
        "weekly-performance-2025-03-30.pdf",
        "weekly-performance-2025-03-30.xlsx",
    ]
    pdf_text = "".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(files["weekly-performance-2025-03-30.pdf"])).pages
    )
    assert "Weekly performance" in pdf_text and "Lakeside Realty" in pdf_text
    workbook = load_workbook(io.BytesIO(files["weekly-performance-2025-03-30.xlsx"]))
    assert len(workbook.sheetnames) >= 2
    body = message.get_body(preferencelist=("html",))
    assert body is not None
    html = body.get_content()
    assert "Weekly performance" in html and "Attached: weekly-performance-2025-03-30.pdf" in html

    (row,) = _deliveries(warehouse)
    assert row.status == "sent" and row.attempts == 1 and row.schedule_id == schedule
    scheduled_for = (
        row.scheduled_for if row.scheduled_for.tzinfo else row.scheduled_for.replace(tzinfo=dt.UTC)
    )
    assert scheduled_for == RUN
    assert [t["status"] for t in row.recipients["targets"]] == ["sent"]
    assert Path(row.file_path).is_dir()
    assert _next_run(warehouse, schedule) == RUN + dt.timedelta(days=7)


def test_an_smtp_outage_is_retried_with_backoff_then_delivered_once(
    warehouse: Warehouse, smtp_sink: SmtpSink, http_sink: HttpSink, tmp_path: Path
) -> None:
    tenant = add_tenant(warehouse, "lakeside")  # no data: the report's figures are zeros
    _schedule(warehouse, tenant, ["csv"], slack=f"{http_sink.url}/services/T/B/x")
    runner = _runner(warehouse, smtp_sink, tmp_path)

    # SMTP is down: Slack hears about it, the mail is left for a retry.
    (first,) = tick_reports(runner, RUN + dt.timedelta(seconds=5))
    assert first.status == "retrying" and first.attempts == 1
    assert first.error is not None and "email via 127.0.0.1" in first.error
    assert len(http_sink.requests) == 1
    assert "*Weekly performance*" in http_sink.requests[0].json()["text"]
    (row,) = _deliveries(warehouse)
    stored = next(Path(row.file_path).glob("all/*.zip"))
    rendered = stored.read_bytes()

    # Within the backoff (60 s after the first try) nothing is tried.
    assert tick_reports(runner, RUN + dt.timedelta(seconds=50)) == []
    # Still down at the second try; the wait doubles to 120 s.
    (second,) = tick_reports(runner, RUN + dt.timedelta(seconds=70))
    assert second.status == "retrying" and second.attempts == 2
    assert tick_reports(runner, RUN + dt.timedelta(seconds=150)) == []

    smtp_sink.start()
    (third,) = tick_reports(runner, RUN + dt.timedelta(seconds=200))
    assert third.status == "sent" and third.attempts == 3 and third.error is None
    assert tick_reports(runner, RUN + dt.timedelta(minutes=10)) == []
    (mail,) = smtp_sink.mails
    assert sorted(mail.recipients) == ["owner@lakeside.example", "sales@lakeside.example"]
    (attachment,) = list(mail.message.iter_attachments())
    # The same bytes as rendered on the first try: the retry did not render again.
    assert attachment.get_content() == rendered
    assert zipfile.ZipFile(io.BytesIO(rendered)).namelist()  # one CSV per section, zipped
    assert len(http_sink.requests) == 1  # Slack was not told twice
    (row,) = _deliveries(warehouse)
    assert row.status == "sent" and row.attempts == 3 and row.error is None


def test_retries_give_up_after_the_last_attempt(
    warehouse: Warehouse, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    tenant = add_tenant(warehouse, "lakeside")
    _schedule(warehouse, tenant, ["csv"])
    runner = _runner(warehouse, smtp_sink, tmp_path)
    runner = Runner(
        runner.warehouse,
        runner.outbox,
        DeliveryPolicy(tmp_path, max_attempts=2, retry_seconds=1),
        runner.producer,
        runner.load_settings,
    )
    assert [o.status for o in tick_reports(runner, RUN)] == ["retrying"]
    assert [o.status for o in tick_reports(runner, RUN + dt.timedelta(seconds=5))] == ["failed"]
    assert tick_reports(runner, RUN + dt.timedelta(hours=1)) == []
    (row,) = _deliveries(warehouse)
    assert row.status == "failed" and row.attempts == 2 and "email via" in row.error


def test_an_agent_scorecard_goes_to_each_agent_with_their_own_figures(
    duckdb_warehouse: Warehouse, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    warehouse = duckdb_warehouse
    tenant = _brokerage(warehouse)
    with unit_of_work(warehouse) as uow:
        agents = uow.connection.execute(
            sa.select(schema.agents.c.id, schema.agents.c.first_name, schema.agents.c.last_name)
            .where(schema.agents.c.tenant_id == tenant)
            .order_by(schema.agents.c.id)
            .limit(2)
        ).all()
        for agent in agents:
            uow.connection.execute(
                schema.users.insert().values(
                    id=uow.next_id(schema.users),
                    tenant_id=tenant,
                    email=f"agent{agent.id}@lakeside.example",
                    full_name=agent.first_name,
                    password_hash="x",
                    role="agent",
                    agent_id=agent.id,
                    created_at=RUN,
                )
            )
        report_id = uow.next_id(saved_reports)
        uow.connection.execute(
            saved_reports.insert().values(
                id=report_id,
                tenant_id=tenant,
                owner_user_id=1,
                name="Scorecards",
                spec={"template": "agent_scorecard"},
                created_at=RUN,
            )
        )
        uow.connection.execute(
            report_schedules.insert().values(
                id=uow.next_id(report_schedules),
                tenant_id=tenant,
                report_id=report_id,
                cron="0 7 * * 1",
                timezone="America/Chicago",
                recipients=[],  # each agent gets their own
                formats=["xlsx"],
                next_run_at=RUN,
                created_at=RUN - dt.timedelta(days=1),
            )
        )
    smtp_sink.start()
    (outcome,) = tick_reports(_runner(warehouse, smtp_sink, tmp_path), RUN)
    assert outcome.status == "sent"
    by_recipient = {tuple(m.recipients): m.message for m in smtp_sink.mails}
    assert sorted(by_recipient) == sorted((f"agent{a.id}@lakeside.example",) for a in agents)
    for agent in agents:
        message = by_recipient[(f"agent{agent.id}@lakeside.example",)]
        (attachment,) = list(message.iter_attachments())
        workbook = load_workbook(io.BytesIO(attachment.get_content()))
        cells = " ".join(
            str(c.value) for ws in workbook.worksheets for row in ws.iter_rows() for c in row
        )
        others = [a for a in agents if a.id != agent.id]
        # Each workbook names its own agent and not the other one.
        assert f"{agent.first_name} {agent.last_name}" in cells + attachment.get_filename()
        assert all(f"{o.first_name} {o.last_name}" not in cells for o in others)

"""Delivering a claimed report run: render once, keep the files, mail them, retry with backoff.

A run (a `report_deliveries` row, claimed by `schedules.claim_due_runs`) goes through:
1. rendering, through a `ReportProducer` the API layer provides (this package sits beside
   `reports`, not above it): one or more audiences (the schedule's recipients, or each agent
   with their own figures), each with its files and an HTML summary. The files are written
   under `<data_dir>/deliveries/<tenant>/<delivery>/` (`file_path`), so a retry mails the
   same bytes instead of rendering again;
2. sending: one email per audience with every format attached and the summary as its body,
   and a Slack message when the schedule has a webhook. Each target's result is kept in
   `recipients.targets`; a retry sends only what has not gone out, so an SMTP outage ends
   with every recipient getting the report once;
3. the log: status `sent`, or `retrying` (attempts so far, the error, and `attempted_at`;
   the next try waits `retry_seconds * 2^(attempts-1)`), or `failed` after `max_attempts`.

A run is worked on by one process: it is taken with a conditional update to `sending`. A
process that dies while sending leaves the row `sending`; after `STALE_SENDING` it is taken
up again (targets already marked sent are not repeated).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog

from dealscope.alerts.channels import Attachment, DeliveryFailed, Email, post_slack, send_email
from dealscope.alerts.settings import Outbox
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import report_deliveries, report_schedules
from dealscope.warehouse.tenancy import TenantScope, scope_select
from dealscope.warehouse.unit_of_work import unit_of_work

STALE_SENDING = dt.timedelta(minutes=30)
SUMMARY_FILE = "summary.html"
META_FILE = "meta.json"

log = structlog.get_logger(__name__)

_d = report_deliveries.c
_s = report_schedules.c


@dataclass(frozen=True)
class ScheduleRow:
    """What a producer needs to know about the schedule being run."""

    id: int
    tenant_id: int
    report_id: int
    timezone: str
    recipients: tuple[str, ...]
    formats: tuple[str, ...]
    slack_webhook_url: str | None
    created_by: int | None


@dataclass(frozen=True)
class RenderedFile:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class AudienceReport:
    """One audience's rendering: who gets it and what."""

    key: str  # "all", or e.g. "agent-17"; a folder name
    recipients: tuple[str, ...]
    title: str
    summary_html: str
    files: tuple[RenderedFile, ...]


class ReportProducer(Protocol):
    def produce(
        self,
        warehouse: Warehouse,
        schedule: ScheduleRow,
        as_of: dt.date,
        generated_at: dt.datetime,
    ) -> list[AudienceReport]:
        """Render the schedule's report for each of its audiences (raise on failure)."""
        ...


@dataclass(frozen=True)
class DeliveryPolicy:
    data_dir: Path
    max_attempts: int = 5
    retry_seconds: float = 60.0

    def wait_after(self, attempts: int) -> dt.timedelta:
        """How long after the `attempts`-th failed try the next one may start."""
        return dt.timedelta(seconds=self.retry_seconds * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class DeliveryOutcome:
    delivery_id: int
    status: str
    attempts: int
    error: str | None


def run_day(scheduled_for: dt.datetime, timezone: str) -> dt.date:
    """The `as_of` of a run: the day before the run's local date (the last complete day)."""
    return scheduled_for.astimezone(ZoneInfo(timezone)).date() - dt.timedelta(days=1)


# --- files -------------------------------------------------------------------------------

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _write(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    temporary.write_bytes(content)
    temporary.replace(path)


def _store(folder: Path, reports: Sequence[AudienceReport]) -> None:
    """Write every audience's files, then its meta.json last (a folder with meta.json is
    complete)."""
    for report in reports:
        target = folder / _SAFE.sub("-", report.key)
        target.mkdir(parents=True, exist_ok=True)
        names = []
        for item in report.files:
            name = _SAFE.sub("-", item.filename)
            _write(target / name, item.content)
            names.append({"file": name, "content_type": item.content_type})
        _write(target / SUMMARY_FILE, report.summary_html.encode())
        meta = {
            "key": report.key,
            "recipients": list(report.recipients),
            "title": report.title,
            "files": names,
        }
        _write(target / META_FILE, json.dumps(meta).encode())


@dataclass(frozen=True)
class StoredAudience:
    key: str
    recipients: list[str]
    title: str
    summary_html: str
    attachments: list[Attachment]


def _load(folder: Path) -> list[StoredAudience] | None:
    metas = sorted(folder.glob(f"*/{META_FILE}")) if folder.is_dir() else []
    if not metas:
        return None
    loaded = []
    for meta_path in metas:
        meta = json.loads(meta_path.read_text())
        base = meta_path.parent
        attachments = [
            Attachment(f["file"], f["content_type"], (base / f["file"]).read_bytes())
            for f in meta["files"]
        ]
        summary = (base / SUMMARY_FILE).read_text()
        loaded.append(
            StoredAudience(meta["key"], meta["recipients"], meta["title"], summary, attachments)
        )
    return loaded


# --- the run -----------------------------------------------------------------------------


def _schedule(connection: sa.Connection, tenant_id: int, schedule_id: int) -> ScheduleRow | None:
    stmt = scope_select(sa.select(report_schedules), report_schedules, TenantScope(tenant_id))
    row = connection.execute(stmt.where(_s.id == schedule_id)).first()
    if row is None:
        return None
    return ScheduleRow(
        id=int(row.id),
        tenant_id=int(row.tenant_id),
        report_id=int(row.report_id),
        timezone=row.timezone,
        recipients=tuple(row.recipients or ()),
        formats=tuple(row.formats or ()),
        slack_webhook_url=row.slack_webhook_url,
        created_by=row.created_by,
    )


def _email_body(audience: StoredAudience, when: str) -> tuple[str, str]:
    names = ", ".join(a.filename for a in audience.attachments)
    footer = (
        "<p style='font-family:Helvetica,Arial,sans-serif;font-size:12px;color:#57606a'>"
        f"Attached: {escape(names)}. Sent by DealScope for the run of {escape(when)}.</p>"
    )
    html = audience.summary_html + footer
    text = f"{audience.title}\nAttached: {names}\nRun of {when}.\n"
    return html, text


def _slack_message(audiences: list[StoredAudience], when: str) -> dict[str, Any]:
    title = audiences[0].title
    sent_to = sum(len(a.recipients) for a in audiences)
    files = ", ".join(a.filename for a in audiences[0].attachments)
    text = f":bar_chart: *{title}* ({when}) was emailed to {sent_to} recipient(s): {files}"
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def _targets(audiences: list[StoredAudience], schedule: ScheduleRow) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = [
        {"channel": "email", "audience": a.key, "to": a.recipients, "status": "pending"}
        for a in audiences
        if a.recipients
    ]
    if schedule.slack_webhook_url:
        targets.append({"channel": "slack", "audience": "all", "status": "pending"})
    return targets


def _send_targets(
    targets: list[dict[str, Any]],
    audiences: list[StoredAudience],
    schedule: ScheduleRow,
    outbox: Outbox,
    when: str,
) -> list[str]:
    """Send every pending target; returns the errors (targets are updated in place)."""
    by_key = {a.key: a for a in audiences}
    errors = []
    for target in targets:
        if target["status"] == "sent":
            continue
        try:
            if target["channel"] == "email":
                audience = by_key[target["audience"]]
                if outbox.smtp is None:
                    raise DeliveryFailed("email: DEALSCOPE_SMTP_URL is not set")
                html, text = _email_body(audience, when)
                email = Email(
                    to=target["to"],
                    subject=f"{audience.title}: {when}",
                    html=html,
                    text=text,
                    attachments=audience.attachments,
                )
                send_email(outbox.smtp, outbox.sender, email)
            else:
                assert schedule.slack_webhook_url is not None
                post_slack(schedule.slack_webhook_url, _slack_message(audiences, when))
        except DeliveryFailed as exc:
            target["status"], target["error"] = "failed", str(exc)
            errors.append(str(exc))
            continue
        target["status"] = "sent"
        target.pop("error", None)
    return errors


def _take(warehouse: Warehouse, delivery_id: int, tenant_id: int, now: dt.datetime) -> Any:
    """Take the delivery for this process (status -> sending) or None if someone has it."""
    with unit_of_work(warehouse) as uow:
        row = uow.connection.execute(
            scope_select(
                sa.select(report_deliveries), report_deliveries, TenantScope(tenant_id)
            ).where(_d.id == delivery_id)
        ).first()
        if row is None:
            return None
        taken = uow.connection.execute(
            sa.update(report_deliveries)
            .where(
                _d.id == delivery_id,
                _d.tenant_id == tenant_id,
                _d.status == row.status,
                _d.attempts == row.attempts,
            )
            .values(status="sending", attempted_at=now)
        )
        return row if taken.rowcount == 1 else None


def deliver(
    warehouse: Warehouse,
    delivery_id: int,
    tenant_id: int,
    now: dt.datetime,
    producer: ReportProducer,
    outbox: Outbox,
    policy: DeliveryPolicy,
) -> DeliveryOutcome | None:
    """Work on one delivery now (render if not yet, send what is pending, log the result);
    None when another process has it."""
    row = _take(warehouse, delivery_id, tenant_id, now)
    if row is None:
        return None
    attempts = int(row.attempts) + 1
    state: dict[str, Any] = dict(row.recipients or {})
    folder = policy.data_dir / "deliveries" / str(tenant_id) / str(delivery_id)
    error: str | None = None
    try:
        with warehouse.engine.connect() as connection:
            schedule = _schedule(connection, tenant_id, int(row.schedule_id))
        if schedule is None:
            raise DeliveryFailed("the schedule was deleted before its run was delivered")
        scheduled_for = row.scheduled_for
        if scheduled_for.tzinfo is None:
            scheduled_for = scheduled_for.replace(tzinfo=dt.UTC)
        when = scheduled_for.astimezone(ZoneInfo(schedule.timezone)).strftime("%Y-%m-%d %H:%M %Z")
        audiences = _load(folder)
        if audiences is None:
            if folder.exists():
                shutil.rmtree(folder)  # a rendering cut short: start it again
            as_of = run_day(scheduled_for, schedule.timezone)
            _store(folder, producer.produce(warehouse, schedule, as_of, now))
            audiences = _load(folder) or []
        if not state.get("targets"):
            state["targets"] = _targets(audiences, schedule)
        if not state["targets"]:
            raise DeliveryFailed("nobody to send to: no recipients and no Slack webhook")
        errors = _send_targets(state["targets"], audiences, schedule, outbox, when)
        error = "; ".join(errors) or None
    except Exception as exc:  # the task boundary: record, retry later
        log.warning("reports.delivery_failed", delivery_id=delivery_id, error=str(exc))
        error = str(exc) if isinstance(exc, DeliveryFailed) else f"{type(exc).__name__}: {exc}"
    status = "sent" if error is None else "retrying"
    if error is not None and attempts >= policy.max_attempts:
        status = "failed"
    with unit_of_work(warehouse) as uow:
        uow.connection.execute(
            sa.update(report_deliveries)
            .where(_d.id == delivery_id, _d.tenant_id == tenant_id)
            .values(
                status=status,
                attempts=attempts,
                attempted_at=now,
                error=error,
                file_path=str(folder) if folder.exists() else None,
                recipients=state,
            )
        )
    return DeliveryOutcome(delivery_id, status, attempts, error)


def due_deliveries(
    warehouse: Warehouse, tenant_id: int, now: dt.datetime, policy: DeliveryPolicy
) -> list[int]:
    """Deliveries of the tenant to work on now: new ones, retries whose wait is over, and
    ones left `sending` by a process that stopped."""
    stmt = scope_select(
        sa.select(_d.id, _d.status, _d.attempts, _d.attempted_at),
        report_deliveries,
        TenantScope(tenant_id),
    ).where(_d.status.in_(("pending", "retrying", "sending")))
    with warehouse.engine.connect() as connection:
        rows = connection.execute(stmt.order_by(_d.scheduled_for, _d.id)).all()
    due = []
    for row in rows:
        at = row.attempted_at
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        waited = at is None or now >= at + policy.wait_after(int(row.attempts))
        stale = at is not None and now - at >= STALE_SENDING
        if (
            row.status == "pending"
            or (row.status == "retrying" and waited)
            or (row.status == "sending" and stale)
        ):
            due.append(int(row.id))
    return due


@dataclass(frozen=True)
class DeliveryRecord:
    id: int
    schedule_id: int | None
    report_id: int
    scheduled_for: dt.datetime | None
    status: str
    attempts: int
    attempted_at: dt.datetime | None
    error: str | None
    skipped_runs: int
    targets: list[dict[str, Any]]


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def list_deliveries(
    connection: sa.Connection,
    tenant_id: int,
    schedule_id: int | None = None,
    limit: int = 100,
) -> list[DeliveryRecord]:
    """The delivery log, newest run first."""
    stmt = scope_select(sa.select(report_deliveries), report_deliveries, TenantScope(tenant_id))
    if schedule_id is not None:
        stmt = stmt.where(_d.schedule_id == schedule_id)
    rows = connection.execute(stmt.order_by(_d.scheduled_for.desc(), _d.id.desc()).limit(limit))
    found = []
    for row in rows:
        state = dict(row.recipients or {})
        found.append(
            DeliveryRecord(
                id=int(row.id),
                schedule_id=row.schedule_id,
                report_id=int(row.report_id),
                scheduled_for=_aware(row.scheduled_for),
                status=row.status,
                attempts=int(row.attempts),
                attempted_at=_aware(row.attempted_at),
                error=row.error,
                skipped_runs=int(state.get("skipped_runs", 0)),
                targets=list(state.get("targets", [])),
            )
        )
    return found

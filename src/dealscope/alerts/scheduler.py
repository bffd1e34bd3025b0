"""The background runner inside the API process: report schedules and alert evaluation.

APScheduler 3's BackgroundScheduler runs two interval jobs (coalesced, one instance at a
time): `reports` every `scheduler_tick_seconds` claims due report runs and delivers them
(`schedules`, `delivery`), and `alerts` every `alert_interval_minutes` evaluates every active
tenant's rules and sends their notifications (`evaluate`), and `after_ingest` (on the report
tick) evaluates a tenant whose data version moved since its last evaluation: every ingest
path (webhooks, imports, syncs) bumps it, so new data is judged within a tick, at most once
a minute per tenant. `request_alerts(tenant_id)` runs one tenant's rules at once. All state
is in the warehouse (see `schedules` for why not in APScheduler's job store), so the runner
keeps nothing worth saving.

The `tick_*` functions do one pass at a given `now` and are what tests drive.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from dealscope.alerts.delivery import (
    DeliveryOutcome,
    DeliveryPolicy,
    ReportProducer,
    deliver,
    due_deliveries,
)
from dealscope.alerts.evaluate import DispatchReport, EvaluationReport, run_alerts
from dealscope.alerts.schedules import claim_due_runs
from dealscope.alerts.settings import Outbox, SettingsLoader
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import tenants

log = structlog.get_logger(__name__)

Clock = Callable[[], dt.datetime]
AFTER_INGEST_GAP = dt.timedelta(minutes=1)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Runner:
    """Everything a pass needs: where the data is, how to render and send, tenant prefs."""

    warehouse: Warehouse
    outbox: Outbox
    policy: DeliveryPolicy
    producer: ReportProducer
    load_settings: SettingsLoader


def _tenant_ids(warehouse: Warehouse) -> list[int]:
    with warehouse.engine.connect() as connection:
        stmt = sa.select(tenants.c.id).where(tenants.c.is_active.is_(True)).order_by(tenants.c.id)
        return [int(t) for t in connection.execute(stmt).scalars()]


def data_versions(warehouse: Warehouse) -> dict[int, int]:
    """Every active tenant's data version (it moves on with every write to its data)."""
    with warehouse.engine.connect() as connection:
        stmt = sa.select(tenants.c.id, tenants.c.data_version).where(tenants.c.is_active.is_(True))
        return {int(r.id): int(r.data_version) for r in connection.execute(stmt)}


def tick_reports(runner: Runner, now: dt.datetime) -> list[DeliveryOutcome]:
    """Claim the report runs due at `now`, then work on every delivery that is due."""
    claim_due_runs(runner.warehouse, now)
    outcomes = []
    for tenant_id in _tenant_ids(runner.warehouse):
        try:
            due = due_deliveries(runner.warehouse, tenant_id, now, runner.policy)
            for delivery_id in due:
                outcome = deliver(
                    runner.warehouse,
                    delivery_id,
                    tenant_id,
                    now,
                    runner.producer,
                    runner.outbox,
                    runner.policy,
                )
                if outcome is not None:
                    outcomes.append(outcome)
        except Exception as exc:  # the database refused: the next tick tries again
            log.warning("reports.tenant_failed", tenant_id=tenant_id, error=str(exc))
    return outcomes


def tick_alerts(
    runner: Runner, now: dt.datetime, tenant_ids: list[int] | None = None
) -> list[tuple[EvaluationReport, DispatchReport]]:
    """Evaluate and notify every active tenant (or `tenant_ids`) at `now`."""
    done = []
    for tenant_id in tenant_ids or _tenant_ids(runner.warehouse):
        try:
            with runner.warehouse.engine.connect() as connection:
                prefs = runner.load_settings(connection, tenant_id)
            result = run_alerts(runner.warehouse, tenant_id, now, prefs, runner.outbox)
        except Exception as exc:  # one tenant's failure stops no other tenant's alerts
            log.warning("alerts.tenant_failed", tenant_id=tenant_id, error=str(exc))
            continue
        if result is not None:
            done.append(result)
    return done


class Scheduler:
    """The runner's jobs on an APScheduler BackgroundScheduler (threads, UTC)."""

    def __init__(
        self,
        runner: Runner,
        tick_seconds: int,
        alert_minutes: int,
        clock: Clock = utc_now,
    ) -> None:
        self.runner = runner
        self.clock = clock
        self._tick_seconds = tick_seconds
        self._alert_minutes = alert_minutes
        # APScheduler logs every run at INFO (every tick); our jobs log what they did.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        self._seen: dict[int, int] = {}
        self._evaluated_at: dict[int, dt.datetime] = {}
        self._scheduler = BackgroundScheduler(
            timezone=dt.UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    def _reports(self) -> None:
        self._after_ingest()
        try:
            outcomes = tick_reports(self.runner, self.clock())
        except Exception:  # a job must not die: log and wait for the next tick
            log.exception("scheduler.reports_failed")
            return
        for outcome in outcomes:
            log.info(
                "scheduler.report_delivery",
                delivery_id=outcome.delivery_id,
                status=outcome.status,
                attempts=outcome.attempts,
                error=outcome.error,
            )

    def _alerts(self, tenant_ids: list[int] | None = None) -> None:
        try:
            versions = data_versions(self.runner.warehouse)
            now = self.clock()
            results = tick_alerts(self.runner, now, tenant_ids)
            after = data_versions(self.runner.warehouse)  # alerts that fired moved it too
        except Exception:
            log.exception("scheduler.alerts_failed")
            return
        for tenant_id in tenant_ids or list(versions):
            self._seen[tenant_id] = after.get(tenant_id, versions.get(tenant_id, 0))
            self._evaluated_at[tenant_id] = now
        for evaluation, dispatch in results:
            if evaluation.fired or evaluation.resolved or evaluation.failed or dispatch.failed:
                log.info(
                    "scheduler.alerts",
                    tenant_id=evaluation.tenant_id,
                    fired=list(evaluation.fired),
                    resolved=list(evaluation.resolved),
                    failed=evaluation.failed,
                    notifications_sent=len(dispatch.sent),
                    notifications_failed=len(dispatch.failed),
                )

    def _after_ingest(self) -> None:
        """Evaluate tenants whose data changed since their last evaluation."""
        try:
            versions = data_versions(self.runner.warehouse)
        except Exception:
            log.exception("scheduler.versions_failed")
            return
        now = self.clock()
        changed = [
            tenant_id
            for tenant_id, version in versions.items()
            if version != self._seen.setdefault(tenant_id, version)
            and now - self._evaluated_at.get(tenant_id, dt.datetime.min.replace(tzinfo=dt.UTC))
            >= AFTER_INGEST_GAP
        ]
        if changed:
            self._alerts(changed)

    def remember_versions(self) -> None:
        """Data as it is now counts as judged: only later changes trigger an evaluation."""
        self._seen = data_versions(self.runner.warehouse)

    def start(self) -> None:
        now = self.clock()
        self.remember_versions()
        self._scheduler.add_job(
            self._reports,
            IntervalTrigger(seconds=self._tick_seconds),
            id="reports",
            next_run_time=now + dt.timedelta(seconds=1),
        )
        self._scheduler.add_job(
            self._alerts,
            IntervalTrigger(minutes=self._alert_minutes),
            id="alerts",
            next_run_time=now + dt.timedelta(seconds=5),
        )
        self._scheduler.start()
        log.info(
            "scheduler.started",
            tick_seconds=self._tick_seconds,
            alert_minutes=self._alert_minutes,
        )

    def request_alerts(self, tenant_id: int) -> None:
        """Evaluate one tenant's rules as soon as possible (after an ingest)."""
        self._scheduler.add_job(
            self._alerts,
            "date",
            run_date=self.clock(),
            args=[[tenant_id]],
            id=f"alerts-{tenant_id}",
            replace_existing=True,
        )

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
            log.info("scheduler.stopped")

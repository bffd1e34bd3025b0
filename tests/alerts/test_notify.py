"""Fired and resolved alerts reach a real SMTP server and real HTTP servers on loopback, in
Slack's incoming-webhook format and as signed webhooks; a channel that is down is retried
without sending the others twice; quiet hours hold non-critical alerts."""

from __future__ import annotations

import datetime as dt
import hmac

from alert_sinks import HttpSink, SmtpSink
from alerting_data import add_events, add_rule, add_tenant

from dealscope.alerts.channels import SIGNATURE_HEADER, TIMESTAMP_HEADER, SmtpConfig, signature
from dealscope.alerts.evaluate import dispatch_notifications, evaluate_tenant, run_alerts
from dealscope.alerts.repository import list_alerts
from dealscope.alerts.settings import Outbox, TenantAlertSettings
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.tenancy import TenantScope

T0 = dt.datetime(2025, 2, 4, 15, 0, tzinfo=dt.UTC)  # 09:00 in Chicago
SECRET = "whsec-0123456789abcdef"
FEED_RULE = {
    "kind": "feed_health",
    "window_minutes": 60,
    "max_failure_rate": 0.2,
    "min_events": 10,
}


def _failing_feed(warehouse: Warehouse, tenant: int) -> None:
    add_events(warehouse, tenant, T0 - dt.timedelta(minutes=20), 6)
    add_events(warehouse, tenant, T0 - dt.timedelta(minutes=10), 4, status="dead_letter")


def test_fired_and_resolved_reach_mail_slack_and_a_signed_webhook(
    warehouse: Warehouse, http_sink: HttpSink, smtp_sink: SmtpSink
) -> None:
    tenant = add_tenant(warehouse)
    _failing_feed(warehouse, tenant)
    rule = add_rule(
        warehouse,
        tenant,
        {
            "name": "feed",
            "severity": "warning",
            "condition": FEED_RULE,
            "channels": [
                {"type": "email"},
                {"type": "slack", "webhook_url": f"{http_sink.url}/services/T0/B0/x"},
                {"type": "webhook", "url": f"{http_sink.url}/hooks/alerts", "secret": SECRET},
            ],
        },
    )
    prefs = TenantAlertSettings(email_recipients=("ops@acme.example", "broker@acme.example"))
    outbox = Outbox(SmtpConfig.from_url(smtp_sink.url), "DealScope <alerts@dealscope.test>")

    # The SMTP server is down: Slack and the webhook get it, mail waits for the next run.
    evaluation, dispatch = run_alerts(warehouse, tenant, T0, prefs, outbox) or (None, None)
    assert evaluation is not None and dispatch is not None
    assert list(evaluation.fired) == [rule.id]
    assert sorted(c for _, _, c in dispatch.sent) == ["slack", "webhook"]
    assert [c for _, _, c, _ in dispatch.failed] == ["email"]
    assert "email via 127.0.0.1" in dispatch.failed[0][3]

    slack, hook = http_sink.requests
    assert slack.path == "/services/T0/B0/x"
    message = slack.json()
    assert message["text"].startswith(":warning: WARNING: webhooks: 4 of 10 events failed")
    assert message["blocks"][0]["type"] == "section"
    assert "Acme Realty" in message["blocks"][1]["elements"][0]["text"]

    assert hook.path == "/hooks/alerts"
    timestamp = int(hook.headers[TIMESTAMP_HEADER])
    assert timestamp == int(T0.timestamp())
    expected = signature(SECRET, timestamp, hook.body)
    assert hmac.compare_digest(hook.headers[SIGNATURE_HEADER], expected)
    payload = hook.json()
    assert payload["event"] == "alert.fired" and payload["tenant_id"] == tenant
    assert payload["alert"]["value"] == 0.4 and payload["alert"]["severity"] == "warning"
    assert "pending" not in payload["alert"]["detail"]

    smtp_sink.start()
    second = dispatch_notifications(warehouse, tenant, T0 + dt.timedelta(minutes=5), prefs, outbox)
    assert [c for _, _, c in second.sent] == ["email"] and not second.failed
    assert len(http_sink.requests) == 2  # Slack and the webhook were not sent again
    (mail,) = smtp_sink.mails
    assert sorted(mail.recipients) == ["broker@acme.example", "ops@acme.example"]
    assert mail.sender == "alerts@dealscope.test"
    assert mail.message["Subject"].startswith("[DealScope warning] Acme Realty: webhooks: 4 of")
    html = mail.message.get_body(preferencelist=("html",))
    assert html is not None and "4 of 10 events failed" in html.get_content()

    # Nothing more to send.
    third = dispatch_notifications(warehouse, tenant, T0 + dt.timedelta(minutes=6), prefs, outbox)
    assert not third.sent and not third.failed

    # Good events arrive, the alert resolves itself and all three channels hear it.
    add_events(warehouse, tenant, T0 + dt.timedelta(minutes=40), 30)
    later = T0 + dt.timedelta(minutes=75)
    evaluation, dispatch = run_alerts(warehouse, tenant, later, prefs, outbox) or (None, None)
    assert evaluation is not None and dispatch is not None
    assert list(evaluation.resolved) == [rule.id]
    assert sorted(c for _, e, c in dispatch.sent if e == "resolved") == [
        "email",
        "slack",
        "webhook",
    ]
    assert http_sink.requests[2].json()["text"].startswith(":white_check_mark: Resolved")
    assert http_sink.requests[3].json()["event"] == "alert.resolved"
    assert smtp_sink.mails[1].message["Subject"].startswith("[DealScope resolved]")
    with warehouse.engine.connect() as conn:
        (alert,) = list_alerts(conn, TenantScope(tenant))
    assert alert.status == "resolved" and alert.detail["pending"] == []
    assert [n["event"] for n in alert.detail["notifications"]] == ["fired", "fired", "resolved"]


def test_quiet_hours_hold_warnings_but_not_critical_alerts(
    warehouse: Warehouse, http_sink: HttpSink
) -> None:
    tenant = add_tenant(warehouse)
    _failing_feed(warehouse, tenant)
    channels = [{"type": "slack", "webhook_url": f"{http_sink.url}/slack"}]
    warning = add_rule(
        warehouse, tenant, {"name": "w", "condition": FEED_RULE, "channels": channels}
    )
    critical = add_rule(
        warehouse,
        tenant,
        {"name": "c", "severity": "critical", "condition": FEED_RULE, "channels": channels},
    )
    # 22:00-07:00 in Chicago; T0 - 10 h is 23:00 there.
    prefs = TenantAlertSettings(quiet_start=dt.time(22), quiet_end=dt.time(7))
    night = T0 - dt.timedelta(hours=10)
    add_events(warehouse, tenant, night - dt.timedelta(minutes=5), 3, status="dead_letter")
    add_events(warehouse, tenant, night - dt.timedelta(minutes=4), 7)
    evaluate_tenant(warehouse, tenant, night)
    outbox = Outbox(None, "DealScope <alerts@dealscope.test>")
    report = dispatch_notifications(warehouse, tenant, night, prefs, outbox)
    assert [c for _, _, c in report.sent] == ["slack"] and len(report.waiting) == 1
    assert len(http_sink.requests) == 1 and "CRITICAL" in http_sink.requests[0].json()["text"]
    # 07:30 in Chicago: the warning goes out.
    morning = night + dt.timedelta(hours=8, minutes=30)
    report = dispatch_notifications(warehouse, tenant, morning, prefs, outbox)
    assert [c for _, _, c in report.sent] == ["slack"] and not report.waiting
    assert "WARNING" in http_sink.requests[1].json()["text"]
    assert warning.id != critical.id

"""The client's calls for running the brokerage: the alert centre, reports, users, API keys
and file imports (mixed into `DealScopeClient`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dealscope.client.errors import ApiError
from dealscope.client.ingest_models import BadRowRead, ImportRead, ImportRejectedError
from dealscope.client.models import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from dealscope.client.ops_models import (
    AlertList,
    AlertRead,
    AlertRuleRead,
    AnomaliesRead,
    DeliveryRead,
    ReportFile,
    ReportGenerated,
    ReportList,
    ReportRead,
    ScheduleRead,
)
from dealscope.client.parsing import drop_none as _drop_none
from dealscope.client.parsing import parse as _parse
from dealscope.client.parsing import parse_list as _parse_list
from dealscope.client.transport import Transport

API = "/api/v1"


class OperationsCalls:
    """Alerts, reports, users, API keys and imports."""

    _transport: Transport

    # --- alerts ----------------------------------------------------------------------------

    def alerts(
        self, status: str = "active", severity: str | None = None, limit: int = 100
    ) -> AlertList:
        """The alert centre: `status` active (open and acknowledged), open, acknowledged,
        resolved or all; newest first."""
        params = _drop_none({"status": status, "severity": severity, "limit": limit})
        return _parse(
            AlertList, self._transport.call("GET", f"{API}/dashboard/alerts", params=params)
        )

    def acknowledge_alert(self, alert_id: int) -> AlertRead:
        path = f"{API}/dashboard/alerts/{alert_id}/acknowledge"
        return _parse(AlertRead, self._transport.call("POST", path))

    def resolve_alert(self, alert_id: int) -> AlertRead:
        path = f"{API}/dashboard/alerts/{alert_id}/resolve"
        return _parse(AlertRead, self._transport.call("POST", path))

    def alert_rules(self) -> list[AlertRuleRead]:
        return _parse_list(AlertRuleRead, self._transport.call("GET", f"{API}/config/alerts/rules"))

    def create_alert_rule(self, rule: dict[str, Any]) -> AlertRuleRead:
        """Add a rule (admins): `rule` is the definition (name, condition, severity,
        channels, cooldown_minutes, is_enabled); ApiError 422 names what is wrong."""
        path = f"{API}/config/alerts/rules"
        response = self._transport.call("POST", path, json=rule, ok=frozenset({201}))
        return _parse(AlertRuleRead, response)

    def update_alert_rule(self, rule_id: int, rule: dict[str, Any]) -> AlertRuleRead:
        """Replace a rule's definition (disabling it resolves its open alerts)."""
        path = f"{API}/config/alerts/rules/{rule_id}"
        return _parse(AlertRuleRead, self._transport.call("PUT", path, json=rule))

    def delete_alert_rule(self, rule_id: int) -> None:
        path = f"{API}/config/alerts/rules/{rule_id}"
        self._transport.call("DELETE", path, ok=frozenset({204}))

    def anomalies(
        self,
        metrics: list[str] | None = None,
        days: int = 30,
        lookback_days: int = 91,
        threshold: float = 3.5,
        as_of: dt.date | None = None,
    ) -> AnomaliesRead:
        """Unusual days of the caller's daily series, newest first, each with the range
        its trend and weekday pattern expected."""
        params = _drop_none(
            {
                "metrics": metrics or None,
                "days": days,
                "lookback_days": lookback_days,
                "threshold": threshold,
                "as_of": as_of.isoformat() if as_of else None,
            }
        )
        path = f"{API}/analytics/anomalies"
        return _parse(AnomaliesRead, self._transport.call("GET", path, params=params))

    # --- reports ---------------------------------------------------------------------------

    def reports(self) -> ReportList:
        """Saved reports shared with the caller, and the built-in templates."""
        return _parse(ReportList, self._transport.call("GET", f"{API}/reports/list"))

    def report_schedules(self) -> list[ScheduleRead]:
        return _parse_list(ScheduleRead, self._transport.call("GET", f"{API}/reports/schedules"))

    def save_report(
        self, name: str, spec: dict[str, Any], shared_with_roles: list[str] | None = None
    ) -> ReportRead:
        """Save a report spec (title, sections) under `name`; ApiError 422 names the first
        section that cannot be drawn as asked."""
        body = {"name": name, "spec": spec, "shared_with_roles": shared_with_roles or []}
        response = self._transport.call("POST", f"{API}/reports", json=body, ok=frozenset({201}))
        return _parse(ReportRead, response)

    def update_report(
        self, report_id: int, name: str, spec: dict[str, Any], shared_with_roles: list[str]
    ) -> ReportRead:
        body = {"name": name, "spec": spec, "shared_with_roles": shared_with_roles}
        path = f"{API}/reports/{report_id}"
        return _parse(ReportRead, self._transport.call("PUT", path, json=body))

    def schedule_report(
        self,
        *,
        cron: str,
        report_id: int | None = None,
        template: str | None = None,
        timezone: str | None = None,
        recipients: list[str] | None = None,
        formats: list[str] | None = None,
    ) -> ScheduleRead:
        """Mail a saved report or a template on `cron` (in `timezone`, default the
        tenant's) to `recipients`, as each of `formats`."""
        body = _drop_none(
            {
                "report_id": report_id,
                "template": template,
                "cron": cron,
                "timezone": timezone,
                "recipients": recipients or [],
                "formats": formats or ["pdf"],
            }
        )
        path = f"{API}/reports/schedule"
        response = self._transport.call("POST", path, json=body, ok=frozenset({201}))
        return _parse(ScheduleRead, response)

    def delete_schedule(self, schedule_id: int) -> None:
        path = f"{API}/reports/schedules/{schedule_id}"
        self._transport.call("DELETE", path, ok=frozenset({204}))

    def report_deliveries(
        self, schedule_id: int | None = None, limit: int = 100
    ) -> list[DeliveryRead]:
        """The delivery log of scheduled reports, newest run first."""
        params = _drop_none({"schedule_id": schedule_id, "limit": limit})
        response = self._transport.call("GET", f"{API}/report-deliveries", params=params)
        return _parse_list(DeliveryRead, response)

    def generate_report(
        self,
        *,
        template: str | None = None,
        report_id: int | None = None,
        spec: dict[str, Any] | None = None,
        format: str = "pdf",
        as_of: dt.date | None = None,
    ) -> ReportGenerated:
        """Render a template, a saved report or a spec; the answer says where to download
        it."""
        body = _drop_none(
            {
                "template": template,
                "report_id": report_id,
                "spec": spec,
                "format": format,
                "as_of": as_of.isoformat() if as_of else None,
                "download": False,
            }
        )
        response = self._transport.call("POST", f"{API}/reports/generate", json=body)
        return _parse(ReportGenerated, response)

    def download_report(self, generated: ReportGenerated) -> ReportFile:
        """The rendered file's bytes (while the download has not expired)."""
        response = self._transport.call("GET", generated.download_url)
        return ReportFile(
            filename=generated.filename,
            content_type=response.headers.get("content-type", generated.content_type),
            content=response.content,
        )

    # --- users and API keys (admins) -----------------------------------------------------

    def list_users(self) -> list[UserRead]:
        return _parse_list(UserRead, self._transport.call("GET", f"{API}/users"))

    def create_user(self, user: UserCreate) -> UserRead:
        body = user.model_dump(mode="json")
        response = self._transport.call("POST", f"{API}/users", json=body, ok=frozenset({201}))
        return _parse(UserRead, response)

    def update_user(self, user_id: int, change: UserUpdate) -> UserRead:
        body = change.model_dump(mode="json", exclude_unset=True)
        return _parse(UserRead, self._transport.call("PATCH", f"{API}/users/{user_id}", json=body))

    def disable_user(self, user_id: int) -> UserRead:
        return _parse(UserRead, self._transport.call("POST", f"{API}/users/{user_id}/disable"))

    def unlock_user(self, user_id: int) -> UserRead:
        return _parse(UserRead, self._transport.call("POST", f"{API}/users/{user_id}/unlock"))

    def list_api_keys(self) -> list[ApiKeyRead]:
        return _parse_list(ApiKeyRead, self._transport.call("GET", f"{API}/api-keys"))

    def create_api_key(self, key: ApiKeyCreate) -> ApiKeyCreated:
        body = key.model_dump(mode="json")
        response = self._transport.call("POST", f"{API}/api-keys", json=body, ok=frozenset({201}))
        return _parse(ApiKeyCreated, response)

    def revoke_api_key(self, key_id: int) -> None:
        self._transport.call("DELETE", f"{API}/api-keys/{key_id}", ok=frozenset({204}))

    def ingest(
        self,
        kind: str,
        file_name: str,
        content: bytes,
        *,
        skip_bad_rows: bool = False,
        mappings: list[str] | None = None,
    ) -> ImportRead:
        """Import a file (admins). Bad rows without `skip_bad_rows`: ImportRejectedError,
        nothing imported; with it, the answer names the server-side reject file."""
        params: dict[str, Any] = {"skip_bad_rows": str(skip_bad_rows).lower()}
        if mappings:
            params["map"] = mappings
        response = self._transport.call(
            "POST",
            f"{API}/ingest/{kind}",
            params=params,
            files={"file": (file_name, content)},
            ok=frozenset({200, 422}),
        )
        if response.status_code == 422:
            body = response.json()
            if body.get("error") != "import_rejected":
                raise ApiError(422, str(body.get("error")), str(body.get("detail", "")))
            rows = [BadRowRead.model_validate(r) for r in body.get("bad_rows", [])]
            raise ImportRejectedError(str(body["detail"]), int(body["rows_read"]), rows)
        return _parse(ImportRead, response)

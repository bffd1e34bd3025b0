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
    ReportFile,
    ReportGenerated,
    ReportList,
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

    # --- reports ---------------------------------------------------------------------------

    def reports(self) -> ReportList:
        """Saved reports shared with the caller, and the built-in templates."""
        return _parse(ReportList, self._transport.call("GET", f"{API}/reports/list"))

    def report_schedules(self) -> list[ScheduleRead]:
        return _parse_list(ScheduleRead, self._transport.call("GET", f"{API}/reports/schedules"))

    def generate_report(
        self,
        *,
        template: str | None = None,
        report_id: int | None = None,
        format: str = "pdf",
        as_of: dt.date | None = None,
    ) -> ReportGenerated:
        """Render a template or a saved report; the answer says where to download it."""
        body = _drop_none(
            {
                "template": template,
                "report_id": report_id,
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

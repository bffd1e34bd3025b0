"""What an audit entry says about a request: who, what, on which resource, and how it ended.

Built from the ASGI scope after the response went out, never from bodies, query strings or
credentials. Handlers add to it through `add_audit_detail` and, for a sign-in attempt,
`note_audit_actor`; the authenticated principal (set on `request.state.principal` by the
auth dependency) says who the caller was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.requests import Request
from starlette.routing import replace_params
from starlette.types import Scope

from dealscope.api.auth.principal import Principal

Outcome = Literal["success", "denied", "error"]

ACTIONS_BY_METHOD: dict[str, str] = {
    "GET": "read",
    "HEAD": "read",
    "POST": "create",
    "PUT": "update",
    "PATCH": "update",
    "DELETE": "delete",
}
# 423: a sign-in refused because the account is locked after failed attempts.
DENIED_STATUSES = frozenset({401, 403, 423, 429})

# Path parameters whose values are never recorded (a webhook's shared secret in its URL).
SECRET_PARAM_SUFFIXES = ("secret", "token", "password")
REDACTED = "***"

# Column widths of `audit_log`; longer values are cut, never refused.
_WIDTHS = {"actor": 254, "resource": 128, "resource_id": 128, "path": 500, "user_agent": 300}


@dataclass(frozen=True)
class AuditRecord:
    """One row of `audit_log`, before it has an id."""

    action: str
    resource: str
    outcome: Outcome
    occurred_at: dt.datetime
    tenant_id: int | None = None
    user_id: int | None = None
    actor: str | None = None
    resource_id: str | None = None
    method: str | None = None
    path: str | None = None
    status_code: int | None = None
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "tenant_id": self.tenant_id,
            "user_id": self.user_id,
            "actor": self.actor,
            "action": self.action,
            "resource": self.resource,
            "resource_id": self.resource_id,
            "method": self.method,
            "path": self.path,
            "status_code": self.status_code,
            "outcome": self.outcome,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "request_id": self.request_id,
            "occurred_at": self.occurred_at,
            "detail": self.detail or None,
        }
        for name, width in _WIDTHS.items():
            if values[name] is not None:
                values[name] = values[name][:width]
        return values


def outcome_for(status_code: int) -> Outcome:
    """success below 400; denied for 401, 403, 423 and 429; error for anything else."""
    if status_code < 400:
        return "success"
    return "denied" if status_code in DENIED_STATUSES else "error"


def action_for(method: str, resource: str, named_actions: dict[str, str]) -> str:
    """The action of a request: a named one for special routes (sign-in), else by method."""
    return named_actions.get(resource) or ACTIONS_BY_METHOD.get(method, method.lower())


@dataclass(frozen=True)
class Target:
    """What a request was about: the route template, its parameters' values, the path."""

    resource: str
    resource_id: str | None
    path: str


def _is_secret(param: str) -> bool:
    return param.lower().endswith(SECRET_PARAM_SUFFIXES)


def target_of(scope: Scope) -> Target:
    """The route's path template, the values of its path parameters and the path, with the
    values of parameters named like secrets (`..._token`, `..._secret`) replaced by `***`.

    A request that matched no route is named by its path."""
    path: str = scope["path"]
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if not isinstance(template, str):
        return Target(path, None, path)
    convertors = getattr(route, "param_convertors", {})
    params: dict[str, Any] = dict(scope.get("path_params") or {})
    rendered, _ = replace_params(template, convertors, dict(params))
    # A route of an included router knows only its own part of the path (FastAPI matches
    # included routers by their prefix): the prefix is what the path has before that part.
    prefix = path[: len(path) - len(rendered)] if path.endswith(rendered) else ""
    if any(_is_secret(name) for name in params):
        params = {name: REDACTED if _is_secret(name) else v for name, v in params.items()}
        path = prefix + template
        for name, value in params.items():
            path = path.replace("{" + name + "}", str(value))
    resource_id = "/".join(str(value) for value in params.values()) or None
    return Target(prefix + template, resource_id, path)


def user_agent_of(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"user-agent":
            return str(value.decode("latin-1"))
    return None


def principal_of(scope: Scope) -> Principal | None:
    principal = scope.get("state", {}).get("principal")
    return principal if isinstance(principal, Principal) else None


def add_audit_detail(request: Request, **detail: Any) -> None:
    """Add JSON-serialisable facts to this request's audit entry (old and new versions of a
    changed document, say). Never pass secrets or personal data."""
    current: dict[str, Any] = getattr(request.state, "audit_detail", {})
    request.state.audit_detail = {**current, **detail}


def note_audit_actor(request: Request, actor: str) -> None:
    """Name who a request claimed to be when no principal exists (a sign-in attempt's
    username, successful or not). Never a password."""
    request.state.audit_actor = actor

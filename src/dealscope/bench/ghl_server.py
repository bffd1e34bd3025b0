"""A loopback HTTP server that speaks the GHL REST v2 endpoints the sync reads, for
`dealscope bench ghl-sync` and the sync's tests (nothing outside this machine is reached).

Real sockets (`http.server` on 127.0.0.1, HTTP/1.1 keep-alive); the data lives in a
`FakeGhl` the caller fills and changes between runs. It checks what HighLevel checks (bearer
token, `Version` header, location, page limits, `page` xor `searchAfter`), pages the way
each endpoint pages, sends the rate-limit headers and enforces its burst window with 429,
and can be told to fail the next matching requests (429 with Retry-After, 503, ...). It
logs every request and counts the records it served per resource, so a test can assert
what a run fetched.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

VERSION_CRM = "2021-07-28"
VERSION_CONVERSATIONS = "2021-04-15"


def ms(value: str) -> int:
    """Epoch milliseconds of an ISO time (`...Z`)."""
    return int(dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


@dataclass
class Fault:
    """Answer `times` requests whose path starts with `path` with this instead, after letting
    the first `after` of them through."""

    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    times: int = 1
    after: int = 0


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    at: float


@dataclass
class FakeGhl:
    location_id: str = "LOC_test"
    token: str = "pit-test-token"
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    opportunities: dict[str, dict[str, Any]] = field(default_factory=dict)
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by conversation
    faults: list[Fault] = field(default_factory=list)
    log: list[LoggedRequest] = field(default_factory=list)
    served: Counter[str] = field(default_factory=Counter)
    burst_max: int = 100
    interval_ms: int = 10_000
    daily_limit: int = 200_000
    daily_used: int = 0
    search_window: int = 10_000  # page * limit beyond this needs searchAfter
    _window_start: float = 0.0
    _window_count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- test helpers ------------------------------------------------------------------

    def requests_to(self, path: str) -> list[LoggedRequest]:
        return [r for r in self.log if r.path == path]

    def reset_counts(self) -> None:
        with self.lock:
            self.log.clear()
            self.served.clear()

    # --- rate limits -------------------------------------------------------------------

    def _rate_headers(self) -> tuple[dict[str, str], bool]:
        """Count this request in the burst window; (headers, over the limit)."""
        now = time.monotonic()
        if now - self._window_start >= self.interval_ms / 1000:
            self._window_start, self._window_count = now, 0
        self._window_count += 1
        self.daily_used += 1
        over = self._window_count > self.burst_max
        headers = {
            "X-RateLimit-Max": str(self.burst_max),
            "X-RateLimit-Remaining": str(max(0, self.burst_max - self._window_count)),
            "X-RateLimit-Interval-Milliseconds": str(self.interval_ms),
            "X-RateLimit-Limit-Daily": str(self.daily_limit),
            "X-RateLimit-Daily-Remaining": str(max(0, self.daily_limit - self.daily_used)),
        }
        return headers, over

    # --- dispatch ----------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            rate, over = self._rate_headers()
            status, extra, answer = self._answer(method, path, query, headers, body, over)
            self.log.append(LoggedRequest(method, path, query, body, status, time.monotonic()))
            return status, {**rate, **extra}, answer

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: Any,
        over: bool,
    ) -> tuple[int, dict[str, str], Any]:
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {}, {"statusCode": 401, "message": "Invalid JWT"}
        for fault in self.faults:
            if fault.times > 0 and path.startswith(fault.path):
                if fault.after > 0:
                    fault.after -= 1
                    continue
                fault.times -= 1
                return fault.status, fault.headers, fault.body or {"message": "injected"}
        if over:
            return 429, {}, {"statusCode": 429, "message": "Too many requests"}
        conversations = path.startswith("/conversations")
        wanted = VERSION_CONVERSATIONS if conversations else VERSION_CRM
        if headers.get("version") != wanted:
            return 400, {}, {"statusCode": 400, "message": f"Version header must be {wanted}"}
        try:
            if method == "POST" and path == "/contacts/search":
                return 200, {}, self._search(body, "contacts", self.contacts, "dateUpdated")
            if method == "POST" and path == "/opportunities/search":
                return 200, {}, self._search(body, "opportunities", self.opportunities, "updatedAt")
            if method == "GET" and path == "/opportunities/pipelines":
                self._location(query.get("locationId"))
                self.served["pipelines"] += len(self.pipelines)
                return 200, {}, {"pipelines": self.pipelines}
            if method == "GET" and path == "/users/":
                self._location(query.get("locationId"))
                self.served["users"] += len(self.users)
                return 200, {}, {"users": self.users}
            if method == "GET" and path == "/conversations/messages/export":
                return 200, {}, self._export(query)
        except _BadRequest as exc:
            return exc.status, {}, {"statusCode": exc.status, "message": [str(exc)]}
        return 404, {}, {"statusCode": 404, "message": f"Cannot {method} {path}"}

    def _location(self, location_id: Any) -> None:
        if location_id != self.location_id:
            raise _BadRequest(403, "The token does not have access to this location")

    def _search(
        self, body: Any, key: str, store: dict[str, dict[str, Any]], time_field: str
    ) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _BadRequest(400, "body must be an object")
        self._location(body.get("locationId"))
        limit = body.get("pageLimit" if key == "contacts" else "limit")
        if not isinstance(limit, int) or not 1 <= limit <= 500:
            raise _BadRequest(400, "page limit must be between 1 and 500")
        if "page" in body and "searchAfter" in body:
            raise _BadRequest(400, "page should not be provided with searchAfter")
        sort_field = "dateUpdated" if key == "contacts" else "date_updated"
        if body.get("sort") != [{"field": sort_field, "direction": "asc"}]:
            raise _BadRequest(400, f"this fake sorts by {sort_field} ascending only")
        rows = sorted(store.values(), key=lambda r: (ms(r[time_field]), r["id"]))
        for flt in body.get("filters") or []:
            if flt.get("field") != sort_field or flt.get("operator") != "range":
                raise _BadRequest(400, f"unsupported filter {flt!r}")
            gte = ms(flt["value"]["gte"])
            rows = [r for r in rows if ms(r[time_field]) >= gte]
        total = len(rows)
        if "searchAfter" in body:
            after = tuple(body["searchAfter"])
            page_rows = [r for r in rows if (ms(r[time_field]), r["id"]) > after][:limit]
        else:
            page = body.get("page", 1)
            if page * limit > self.search_window:
                raise _BadRequest(400, "use searchAfter beyond 10000 records")
            page_rows = rows[(page - 1) * limit : page * limit]
        self.served[key] += len(page_rows)
        out = [{**r, "searchAfter": [ms(r[time_field]), r["id"]]} for r in page_rows]
        return {key: out, "total": total}

    def _export(self, query: dict[str, str]) -> dict[str, Any]:
        self._location(query.get("locationId"))
        if query.get("sortBy") != "createdAt" or query.get("sortOrder", "asc") != "asc":
            raise _BadRequest(400, "this fake sorts by createdAt ascending only")
        limit = int(query.get("limit", 100))
        if not 1 <= limit <= 100:
            raise _BadRequest(400, "limit must be between 1 and 100")
        rows = sorted(
            (m for ms_ in self.messages.values() for m in ms_),
            key=lambda m: (ms(m["dateAdded"]), m["id"]),
        )
        if "startDate" in query:
            start = ms(query["startDate"])
            rows = [m for m in rows if ms(m["dateAdded"]) >= start]
        total = len(rows)
        if query.get("cursor"):
            try:
                after = tuple(json.loads(base64.urlsafe_b64decode(query["cursor"])))
            except ValueError:
                raise _BadRequest(400, "invalid cursor") from None
            rows = [m for m in rows if (ms(m["dateAdded"]), m["id"]) > after]
        page = rows[:limit]
        self.served["messages"] += len(page)
        next_cursor = None
        if len(rows) > limit:
            last = page[-1]
            key = json.dumps([ms(last["dateAdded"]), last["id"]]).encode()
            next_cursor = base64.urlsafe_b64encode(key).decode()
        return {"messages": page, "nextCursor": next_cursor, "total": total}


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeGhl  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, answer = self.fake.handle(method, parts.path, query, headers, body)
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")


class FakeGhlServer:
    """`FakeGhl` served on a free loopback port in a background thread."""

    def __init__(self, fake: FakeGhl) -> None:
        self.fake = fake
        handler = type("Handler", (_Handler,), {"fake": fake})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def __enter__(self) -> FakeGhlServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

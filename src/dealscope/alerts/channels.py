"""Where messages go: SMTP mail (with attachments), Slack incoming webhooks, and generic JSON
webhooks signed with HMAC-SHA256. Every failure is a `DeliveryFailed` naming the channel and
the cause, so callers can record it and retry.

Signed webhooks: the body is JSON; `X-DealScope-Timestamp` is the send time in Unix seconds
and `X-DealScope-Signature` is `sha256=` + hex(HMAC-SHA256(secret, f"{timestamp}.{body}")).
A receiver recomputes it with `signature(secret, timestamp, body)` and refuses old
timestamps, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from dealscope.errors import ConfigurationError, DealScopeError

SIGNATURE_HEADER = "X-DealScope-Signature"
TIMESTAMP_HEADER = "X-DealScope-Timestamp"
HTTP_TIMEOUT_SECONDS = 10.0
SMTP_TIMEOUT_SECONDS = 20.0


class DeliveryFailed(DealScopeError):
    """A message could not be handed over (server down, refused, bad answer)."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False  # TLS from the first byte (smtps)
    starttls: str = "auto"  # auto: when the server offers it; true: required; false: never

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        """smtp://user:password@host:587, smtps://host:465, smtp://host:25?starttls=false."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigurationError(
                "DEALSCOPE_SMTP_URL must look like smtp://user:password@host:587 or "
                f"smtps://host:465, not {parts.scheme or 'no scheme'}://..."
            )
        starttls = parse_qs(parts.query).get("starttls", ["auto"])[0].lower()
        if starttls not in ("auto", "true", "false"):
            raise ConfigurationError(f"starttls must be auto, true or false, not {starttls!r}")
        tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
            starttls="false" if tls else starttls,
        )


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Email:
    to: Sequence[str]
    subject: str
    html: str
    text: str
    attachments: Sequence[Attachment] = field(default_factory=tuple)


def build_message(email: Email, sender: str) -> EmailMessage:
    """The MIME message: text and HTML alternatives, then the attachments."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(email.to)
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].partition("@")[2] or None)
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    for item in email.attachments:
        maintype, _, subtype = item.content_type.partition("/")
        message.add_attachment(
            item.data,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=item.filename,
        )
    return message


def send_email(config: SmtpConfig, sender: str, email: Email) -> None:
    """Hand `email` to the SMTP server; DeliveryFailed on any refusal or network error."""
    if not email.to:
        raise DeliveryFailed("email: no recipients")
    message = build_message(email, sender)
    server: smtplib.SMTP | None = None
    try:
        if config.tls:
            context = ssl.create_default_context()
            server = smtplib.SMTP_SSL(
                config.host, config.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
            )
        else:
            server = smtplib.SMTP(config.host, config.port, timeout=SMTP_TIMEOUT_SECONDS)
            server.ehlo()
            offered = server.has_extn("starttls")
            if config.starttls == "true" or (config.starttls == "auto" and offered):
                server.starttls(context=ssl.create_default_context())
                server.ehlo()
        if config.username:
            server.login(config.username, config.password or "")
        refused = server.send_message(message, from_addr=parseaddr(sender)[1], to_addrs=email.to)
        if refused:
            raise DeliveryFailed(f"email: the server refused {', '.join(sorted(refused))}")
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(
            f"email via {config.host}:{config.port} failed: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        if server is not None:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                server.close()


def _post(url: str, body: bytes, headers: dict[str, str], what: str) -> None:
    try:
        response = httpx.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", **headers},
            timeout=HTTP_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{what}: {type(exc).__name__}: {exc}") from exc
    if response.status_code >= 300:
        raise DeliveryFailed(f"{what}: HTTP {response.status_code}: {response.text[:200]}")


def post_slack(webhook_url: str, payload: dict[str, Any]) -> None:
    """POST a Slack incoming-webhook message (`text`, optional `blocks`)."""
    host = urlsplit(webhook_url).hostname
    _post(webhook_url, json.dumps(payload).encode(), {}, f"slack webhook at {host}")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The value of X-DealScope-Signature for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def post_signed_webhook(url: str, secret: str, payload: dict[str, Any], timestamp: int) -> None:
    """POST `payload` as JSON with the timestamp and signature headers."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        "User-Agent": "DealScope-Webhook/1",
    }
    _post(url, body, headers, f"webhook at {urlsplit(url).hostname}")

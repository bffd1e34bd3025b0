"""Domain errors. They carry no HTTP codes: the API maps them in one table."""

import datetime as dt


class DealScopeError(Exception):
    """Base of every error DealScope raises on purpose."""


class ConfigurationError(DealScopeError):
    """The settings cannot be used as given (a default secret in production, a bad URL)."""


class NotFound(DealScopeError):
    """A named thing does not exist (or is outside the caller's tenant)."""


class ValidationFailed(DealScopeError):
    """Input was understood but is not acceptable; the message says which field and why."""


class WarehouseBusy(DealScopeError):
    """Another process holds the embedded warehouse file (DuckDB allows one writer)."""


class SchemaOutOfDate(DealScopeError):
    """The warehouse has not been migrated to the revision this code expects."""


class Conflict(DealScopeError):
    """The change was based on a state that no longer holds (a stale version number)."""


class RateLimited(DealScopeError):
    """The caller made more requests than its limit allows; it may retry after a while."""

    def __init__(self, retry_after_seconds: int, limit: int, window: str = "minute") -> None:
        self.retry_after_seconds = retry_after_seconds
        self.limit = limit
        super().__init__(
            f"rate limit of {limit} requests per {window} exceeded; "
            f"retry after {retry_after_seconds} s"
        )


class AlreadyExists(DealScopeError):
    """Something with the same unique name exists already (a tenant slug, a user's email)."""


class AuthenticationFailed(DealScopeError):
    """The caller could not be identified: no, wrong, expired or revoked credentials."""


class AccountLocked(AuthenticationFailed):
    """Too many failed sign-ins in a row: the account refuses passwords until `until`."""

    def __init__(self, until: dt.datetime, failed_logins: int) -> None:
        self.until = until
        self.failed_logins = failed_logins
        when = until.astimezone(dt.UTC).strftime("%H:%M")
        super().__init__(
            f"account locked after {failed_logins} failed sign-ins; "
            f"try again after {when} UTC or ask an admin"
        )


class PermissionDenied(DealScopeError):
    """The caller is identified, but its role may not do what it asked."""

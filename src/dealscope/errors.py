"""Domain errors. They carry no HTTP codes: the API maps them in one table."""


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

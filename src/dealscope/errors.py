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

"""Typed HTTP client of the DealScope API, used by the dashboard and the CLI."""

from dealscope.client.client import DealScopeClient
from dealscope.client.errors import ApiError, ApiUnavailable, ClientError
from dealscope.client.models import HealthRead

__all__ = ["ApiError", "ApiUnavailable", "ClientError", "DealScopeClient", "HealthRead"]

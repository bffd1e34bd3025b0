"""Turning the API's answers into the client's models, with errors that name what is off."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from dealscope.client.errors import ApiError

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], response: httpx.Response) -> M:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise ApiError(
            response.status_code,
            "unexpected_response",
            f"{response.request.url} did not answer like a DealScope API: "
            f"{exc.error_count()} field error(s), first: {exc.errors()[0]['msg']}",
        ) from exc


def parse_list(model: type[M], response: httpx.Response) -> list[M]:
    try:
        return TypeAdapter(list[model]).validate_json(response.content)  # type: ignore[valid-type]
    except ValidationError as exc:
        raise ApiError(
            response.status_code,
            "unexpected_response",
            f"{response.request.url} did not answer with a list of {model.__name__}: "
            f"{exc.errors()[0]['msg']}",
        ) from exc


def drop_none(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}

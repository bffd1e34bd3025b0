"""What every kind's writer gets and gives: the import's context and its plan."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

from dealscope.ingest.files.store import Counts, Key
from dealscope.ingest.files.validate import BadRow, GoodRow
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.unit_of_work import UnitOfWork


@dataclass
class ImportContext:
    uow: UnitOfWork
    tenant_id: int
    cipher: PiiCipher
    now: dt.datetime


class Writer(Protocol):
    """Writes one kind: `prepare` resolves references (a row naming an unknown agent is
    bad) without writing; `apply` writes the rows `prepare` kept."""

    key_label: str

    def key(self, values: dict[str, Any]) -> Key | None:
        """The row's natural key inside one file (duplicates are bad rows)."""
        ...

    def prepare(self, ctx: ImportContext, rows: list[GoodRow]) -> list[BadRow]: ...

    def apply(self, ctx: ImportContext) -> Counts: ...


def stable_id(*parts: Any) -> str:
    """An external id for a row that came without one: a hash of what identifies it, so the
    same row imported again is found again."""
    text = "\x1f".join("" if p is None else str(p).strip().lower() for p in parts)
    return "import:" + hashlib.sha256(text.encode()).hexdigest()[:32]

"""What an import kind reads: its fields, their types, the headers that name them.

A `KindSpec` lists fields; each has a parser (`values`), whether every row needs it, and
synonyms a spreadsheet might use for its header. Headers match fields after dropping case,
spaces and punctuation, so "E-mail", "email_address" and "Email Address" all name `email`.
A kind's `finish` hook checks a whole row (fields that depend on each other) and fills
derived values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ImportKind(StrEnum):
    CONTACTS = "contacts"
    OPPORTUNITIES = "opportunities"
    TRANSACTIONS = "transactions"
    AGENTS = "agents"
    MARKETING_SPEND = "marketing_spend"
    OPERATING_COSTS = "operating_costs"
    TARGETS = "targets"
    LISTINGS = "listings"
    SERIES = "series"


def header_key(header: str) -> str:
    """A header reduced to lower-case letters and digits: "E-mail " -> "email"."""
    return re.sub(r"[^a-z0-9]", "", header.lower())


@dataclass(frozen=True)
class Field:
    name: str
    parse: Callable[[Any], Any]
    required: bool = False
    synonyms: tuple[str, ...] = ()
    help: str = ""

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(header_key(h) for h in (self.name, *self.synonyms))


@dataclass(frozen=True)
class KindSpec:
    kind: ImportKind
    fields: tuple[Field, ...]
    # Checks and derivations over a whole parsed row; raises values.BadValue.
    finish: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # Groups of fields of which at least one column must be in the file.
    needs_one_of: tuple[tuple[str, ...], ...] = field(default_factory=tuple)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

"""Our ids: BIGINTs handed out in blocks from a counter table.

DuckDB has no SERIAL, and bulk loads need millions of ids at once, so each table draws from
a named counter in `id_allocator`. A block is reserved in its own short transaction (a row
lock on PostgreSQL, a process lock on DuckDB's single writer) so concurrent writers never
share an id; ids lost to a rolled-back write leave harmless gaps.
"""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from dealscope.warehouse.schema import id_allocator

_CACHE_BLOCK = 64  # ids reserved at once for single-row writers
# A block used up within _HOT_SECONDS of its reservation makes the next one twice as large,
# up to _MAX_CACHE_BLOCK: the webhook worker draws hundreds of ids a second per table, and
# each block costs a transaction of its own (a fifth of the worker's time with 64).
_MAX_CACHE_BLOCK = 4096
_HOT_SECONDS = 10.0


class IdAllocator:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._cached: dict[str, tuple[int, int]] = {}  # name -> (next, end)
        self._blocks: dict[str, tuple[int, float]] = {}  # name -> (last block's size, when)

    def reserve(self, name: str, count: int) -> int:
        """Reserve `count` consecutive ids for `name`; returns the first."""
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        with self._lock, self._engine.begin() as conn:
            conn.execute(
                pg_insert(id_allocator)
                .values(name=name, next_id=1)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            end = conn.execute(
                sa.update(id_allocator)
                .where(id_allocator.c.name == name)
                .values(next_id=id_allocator.c.next_id + count)
                .returning(id_allocator.c.next_id)
            ).scalar_one()
        return int(end) - count

    def next_id(self, name: str) -> int:
        """One id for `name`, served from a small cached block."""
        with self._lock:
            start, end = self._cached.get(name, (0, 0))
            if start < end:
                self._cached[name] = (start + 1, end)
                return start
        now = time.monotonic()
        size, reserved_at = self._blocks.get(name, (0, 0.0))
        hot = size and now - reserved_at < _HOT_SECONDS
        size = min(2 * size, _MAX_CACHE_BLOCK) if hot else _CACHE_BLOCK
        first = self.reserve(name, size)
        with self._lock:
            self._cached[name] = (first + 1, first + size)
            self._blocks[name] = (size, now)
        return first

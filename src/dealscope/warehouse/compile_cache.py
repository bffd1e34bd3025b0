"""Compiled SQL kept per Ibis expression, for the Ibis backends `Warehouse.ibis()` hands out.

Compiling an expression to SQL (Ibis -> sqlglot -> text) costs 5 to 30 ms for a dashboard's
statements, often more than running them, and every request rebuilds the same expressions
(new objects, equal trees). Ibis operations are immutable, hash their whole tree once when
built and compare structurally, so an expression rebuilt from the same inputs finds the SQL
compiled for its twin. The SQL depends on no data, so it stays right when the data change.

Each backend is used by one thread (`Warehouse.ibis`), so its cache needs no lock.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from cachetools import LRUCache

if TYPE_CHECKING:
    from ibis.backends.sql import SQLBackend

COMPILED_ENTRIES = 512


def remember_compiled(backend: SQLBackend, entries: int = COMPILED_ENTRIES) -> SQLBackend:
    """`backend` with its `compile` answering an expression it has compiled before from
    memory (expressions with query parameters are always compiled)."""
    compile_sql: Callable[..., str] = backend.compile
    compiled: LRUCache[Hashable, str] = LRUCache(maxsize=entries)

    def compile_remembered(expr: Any, /, *, params: Any = None, **options: Any) -> str:
        if params:
            return compile_sql(expr, params=params, **options)
        key = (expr.op(), tuple(sorted(options.items())))
        sql = compiled.get(key)
        if sql is None:
            sql = compile_sql(expr, **options)
            compiled[key] = sql
        return sql

    backend.compile = compile_remembered
    return backend

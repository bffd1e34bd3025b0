"""The warehouse tables an analytics query may read, already narrowed to the caller's scope.

Every analytics read starts here, so tenant and agent scoping (warehouse.tenancy) is applied
once, before any metric or dashboard logic sees a row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

import pandas as pd
from cachetools import LRUCache

from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.tenancy import TenantScope, scope_table

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa


SQL_CACHE_ENTRIES = 2048
_compiled: LRUCache[Hashable, str] = LRUCache(maxsize=SQL_CACHE_ENTRIES)
_compiled_lock = threading.Lock()


def clear_sql_cache() -> None:
    """Forget every compiled statement (benchmarks measure the first compile with it)."""
    with _compiled_lock:
        _compiled.clear()


class Sources:
    """Scoped Ibis tables of one warehouse for one caller."""

    def __init__(self, warehouse: Warehouse, scope: TenantScope) -> None:
        self.warehouse = warehouse
        self.scope = scope
        self._tables: dict[str, ir.Table] = {}

    def table(self, name: str) -> ir.Table:
        """Table `name` with only the rows the scope may see (raises ScopeViolation for a
        table the scope may not read at all)."""
        if name not in self._tables:
            raw = self.warehouse.ibis().table(name)
            self._tables[name] = scope_table(raw, name, self.scope)
        return self._tables[name]

    def execute(self, expr: ir.Expr) -> object:
        """Run an expression on the warehouse's backend."""
        return self.warehouse.ibis().execute(expr)

    def frame(self, expr: ir.Table) -> pd.DataFrame:
        """Run a table expression; its rows as a DataFrame."""
        result = self.execute(expr)
        assert isinstance(result, pd.DataFrame)
        return result

    def arrow(self, expr: ir.Table) -> pa.Table:
        """Run a table expression; its rows as an Arrow table. Faster than `frame` for many
        rows with nulls, which Ibis's pandas conversion turns into Python objects one by one;
        `to_pandas()` on the result gives NaN/NaT for them."""
        return self.warehouse.ibis().to_pyarrow(expr)

    def cache_key(self) -> Hashable:
        """What the tables of these sources depend on: the warehouse and the scope."""
        return (type(self).__name__, self.warehouse.url, self.scope)

    def fetch(
        self, build: Callable[[], ir.Table], key: Hashable | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Column names and rows of the table `build()` returns, run as SQL. With a `key`
        (what the expression depends on, beside `cache_key`) the compiled statement is kept:
        building and compiling an expression costs more than running it on small tables, and
        the same dashboard is asked for again after every write (a new data version).
        The statement depends on no data, so it stays valid when the data change. On DuckDB
        it runs prepared (`warehouse.prepared`): planning it again is spared too."""
        backend = self.warehouse.ibis()
        full = None if key is None else (backend.name, self.cache_key(), key)
        sql = None
        if full is not None:
            with _compiled_lock:
                sql = _compiled.get(full)
        if sql is None:
            sql = str(backend.compile(build()))
            if full is not None:
                with _compiled_lock:
                    _compiled[full] = sql
        if backend.name == "duckdb":
            cursor = self.warehouse.prepared().execute(sql)
            names = [d[0] for d in cursor.description]
            return names, cursor.fetchall()
        con = backend.con
        with con.cursor() as cur, con.transaction():
            cur.execute(sql)
            names = [d[0] for d in cur.description]
            return names, cur.fetchall()

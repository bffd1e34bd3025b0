"""DuckDB statements kept prepared on a connection, by their text.

A dashboard's stacked statement (tens of kilobytes of SQL: a union of dozens of aggregates)
spends 10-20 ms being parsed, bound and optimized before it reads a row, on every request.
The dashboards send the same text again after every write (compiled SQL is kept per query
shape, literals included), so it is prepared once per connection and executed by name after.
A prepared statement reads the data as they are when it is executed; DuckDB binds it again
if the tables it reads have changed shape.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict

import duckdb

PREPARED_ENTRIES = 256


class PreparedStatements:
    """The statements prepared on one DuckDB connection (used by one thread), least recently
    used first; beyond `entries` the oldest is deallocated."""

    _numbers = itertools.count()

    def __init__(self, connection: duckdb.DuckDBPyConnection, entries: int = PREPARED_ENTRIES):
        self._connection = connection
        self._entries = entries
        self._names: OrderedDict[str, str] = OrderedDict()

    def execute(self, sql: str) -> duckdb.DuckDBPyConnection:
        """Run `sql` (one statement without parameters); the connection, to fetch from."""
        name = self._names.get(sql)
        if name is not None:
            self._names.move_to_end(sql)
            try:
                return self._connection.execute(f"EXECUTE {name}")
            except duckdb.Error:
                # Could not be run as prepared (a table it reads was replaced, say): prepare
                # it again, which reports the statement's own error if it has one now.
                self._forget(sql)
        name = f"dealscope_statement_{next(self._numbers)}"
        self._connection.execute(f"PREPARE {name} AS {sql}")
        self._names[sql] = name
        while len(self._names) > self._entries:
            self._forget(next(iter(self._names)))
        return self._connection.execute(f"EXECUTE {name}")

    def _forget(self, sql: str) -> None:
        name = self._names.pop(sql)
        self._connection.execute(f"DEALLOCATE {name}")

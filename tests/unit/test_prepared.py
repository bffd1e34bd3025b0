"""DuckDB statements kept prepared by their text (warehouse.prepared)."""

from __future__ import annotations

import duckdb
import pytest

from dealscope.warehouse.prepared import PreparedStatements

TOTAL = "select count(*), sum(amount) from deals"


@pytest.fixture
def connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("create table deals (id integer, amount decimal(12, 2))")
    con.execute("insert into deals values (1, 10.50), (2, 20.25)")
    return con


def test_a_statement_is_prepared_once_and_reads_the_data_of_the_moment(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    kept = PreparedStatements(connection)
    assert kept.execute(TOTAL).fetchall() == [(2, 30.75)]
    connection.execute("insert into deals values (3, 1.00)")
    assert kept.execute(TOTAL).fetchall() == [(3, 31.75)]
    (name,) = kept._names.values()  # one statement, prepared on the connection itself
    assert connection.execute(f"execute {name}").fetchall() == [(3, 31.75)]


def test_the_least_recently_used_statement_is_deallocated_beyond_the_limit(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    kept = PreparedStatements(connection, entries=2)
    first = "select count(*) from deals"
    second = "select max(id) from deals"
    third = "select min(id) from deals"
    kept.execute(first)
    first_name = kept._names[first]
    kept.execute(second)
    kept.execute(first)  # used again: `second` is now the oldest
    second_name = kept._names[second]
    assert kept.execute(third).fetchall() == [(1,)]
    assert list(kept._names) == [first, third]
    with pytest.raises(duckdb.Error):
        connection.execute(f"execute {second_name}")
    assert connection.execute(f"execute {first_name}").fetchall() == [(2,)]


def test_a_replaced_table_is_read_in_its_new_shape(connection: duckdb.DuckDBPyConnection) -> None:
    kept = PreparedStatements(connection)
    assert kept.execute("select * from deals order by id").fetchall()[0] == (1, 10.5)
    connection.execute("drop table deals")
    connection.execute("create table deals (id integer, amount double, stage varchar)")
    connection.execute("insert into deals values (7, 1.5, 'offer')")
    assert kept.execute("select * from deals order by id").fetchall() == [(7, 1.5, "offer")]


def test_a_statement_that_cannot_run_raises_its_own_error(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    kept = PreparedStatements(connection)
    with pytest.raises(duckdb.CatalogException, match="missing_table"):
        kept.execute("select * from missing_table")
    assert kept._names == {}

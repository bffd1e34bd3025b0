"""The compiled-SQL memory of the warehouse's Ibis backends (warehouse.compile_cache)."""

from __future__ import annotations

import ibis
from ibis.backends.duckdb import Backend

from dealscope.warehouse.compile_cache import remember_compiled


def _counting_backend() -> tuple[Backend, list[object]]:
    backend = ibis.duckdb.connect()
    backend.raw_sql("create table deals (id integer, amount double, stage varchar)")
    backend.raw_sql("insert into deals values (1, 10, 'offer'), (2, 20, 'new'), (3, 30, 'offer')")
    calls: list[object] = []
    real = backend.compile

    def counted(expr: object, /, **options: object) -> str:
        calls.append(expr)
        return real(expr, **options)

    backend.compile = counted
    remember_compiled(backend)
    return backend, calls


def _offers(backend: Backend, stage: str) -> ibis.Table:
    deals = backend.table("deals")
    return deals.filter(deals.stage == stage).aggregate(total=deals.amount.sum())


def test_an_equal_expression_rebuilt_is_compiled_once_and_still_runs_on_new_data() -> None:
    backend, calls = _counting_backend()
    first = backend.execute(_offers(backend, "offer"))
    backend.raw_sql("insert into deals values (4, 5, 'offer')")
    again = backend.execute(_offers(backend, "offer"))
    assert len(calls) == 1
    assert first["total"].tolist() == [40.0]
    assert again["total"].tolist() == [45.0]  # the kept SQL reads today's rows


def test_a_different_literal_or_limit_is_compiled_again() -> None:
    backend, calls = _counting_backend()
    new = backend.execute(_offers(backend, "new"))
    offer = backend.execute(_offers(backend, "offer"))
    assert (new["total"].tolist(), offer["total"].tolist()) == ([20.0], [40.0])
    deals = backend.table("deals")
    assert len(backend.execute(deals, limit=1)) == 1
    assert len(backend.execute(deals)) == 3
    assert len(calls) == 4


def test_expressions_with_parameters_are_always_compiled() -> None:
    backend, calls = _counting_backend()
    deals = backend.table("deals")
    floor = ibis.param("double")
    expr = deals.filter(deals.amount >= floor).aggregate(n=deals.id.count())
    low = backend.execute(expr, params={floor: 15.0})
    high = backend.execute(expr, params={floor: 25.0})
    assert (low["n"].tolist(), high["n"].tolist()) == ([2], [1])
    assert len(calls) == 2

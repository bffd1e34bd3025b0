"""Opening the warehouse: one SQLAlchemy engine for writes and Ibis for reads, on one database.

With the embedded DuckDB file the process opens the file exactly once and hands cursors of
that connection to SQLAlchemy and Ibis (opening it twice with different settings fails).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import duckdb
import sqlalchemy as sa
from duckdb_engine import ConnectionWrapper

from dealscope.errors import ConfigurationError, WarehouseBusy
from dealscope.warehouse.compile_cache import remember_compiled
from dealscope.warehouse.ids import IdAllocator
from dealscope.warehouse.prepared import PreparedStatements

if TYPE_CHECKING:
    from ibis.backends.sql import SQLBackend

Backend = Literal["duckdb", "postgres"]

# PostgreSQL's JIT compiles a query whose estimated cost is high, and a dashboard's stacked
# statement over a misjudged join is estimated in the millions: a second of LLVM work for a
# query that runs in 0.2 s. Our statements are many and short; JIT does not pay for them.
POSTGRES_OPTIONS = "-c jit=off"


@dataclass
class Warehouse:
    """An open warehouse. Create with `open_warehouse`; close when done."""

    url: str
    backend: Backend
    engine: sa.Engine
    duckdb_connection: duckdb.DuckDBPyConnection | None = None
    _local: threading.local = field(default_factory=threading.local, repr=False)
    ids: IdAllocator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.ids = IdAllocator(self.engine)

    def ibis(self) -> SQLBackend:
        """An Ibis backend over the same database, one per thread (connections are not shared
        across threads), keeping the SQL it compiles (`compile_cache`)."""
        backend: SQLBackend | None = getattr(self._local, "ibis", None)
        if backend is None:
            import ibis

            if self.duckdb_connection is not None:
                backend = ibis.duckdb.from_connection(self.duckdb_connection.cursor())
            else:
                url = sa.engine.make_url(self.url)
                backend = ibis.postgres.connect(
                    host=url.host or "localhost",
                    port=url.port or 5432,
                    user=url.username,
                    password=url.password,
                    database=url.database,
                    options=POSTGRES_OPTIONS,
                )
            self._local.ibis = remember_compiled(backend)
        return self._local.ibis

    def prepared(self) -> PreparedStatements:
        """This thread's prepared DuckDB statements, on the connection of its Ibis backend
        (DuckDB warehouses only)."""
        kept: PreparedStatements | None = getattr(self._local, "prepared", None)
        if kept is None:
            con = self.ibis().con
            if not isinstance(con, duckdb.DuckDBPyConnection):
                raise TypeError("prepared statements are kept for DuckDB warehouses only")
            kept = self._local.prepared = PreparedStatements(con)
        return kept

    def close(self) -> None:
        self.engine.dispose()
        if self.duckdb_connection is not None:
            self.duckdb_connection.close()
            self.duckdb_connection = None

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def describe_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def open_duckdb_file(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the embedded warehouse file, with a clear error when another process holds it."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusy(
                f"the warehouse file {path} is in use by another DealScope process "
                "(DuckDB allows one writer). Stop `dealscope serve`/`dealscope demo` first, "
                "or point DEALSCOPE_DATABASE_URL at PostgreSQL for several processes."
            ) from exc
        raise
    con.execute("SET TimeZone = 'UTC'")  # date_trunc and friends in UTC on every machine
    return con


def open_warehouse(url: str, read_only: bool = False) -> Warehouse:
    """Open the warehouse at `url` (`duckdb:///path`, `duckdb:///:memory:` or PostgreSQL)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "duckdb":
        database = parsed.database or ":memory:"
        if database == ":memory:":
            con = duckdb.connect(":memory:")
            con.execute("SET TimeZone = 'UTC'")
        else:
            con = open_duckdb_file(Path(database), read_only=read_only)
        engine = sa.create_engine(
            "duckdb://",
            creator=lambda: ConnectionWrapper(con.cursor()),
            poolclass=sa.pool.QueuePool,
            pool_size=8,
        )
        return Warehouse(url=url, backend="duckdb", engine=engine, duckdb_connection=con)
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername != "postgresql+psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        connect_args: dict[str, object] = {"options": f"-c timezone=UTC {POSTGRES_OPTIONS}"}
        if "connect_timeout" not in parsed.query:  # a dropped host should not hang a request
            connect_args["connect_timeout"] = 10
        engine = sa.create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
        return Warehouse(
            url=parsed.render_as_string(hide_password=False), backend="postgres", engine=engine
        )
    raise ConfigurationError(
        f"unsupported DEALSCOPE_DATABASE_URL {describe_url(url)!r}: use "
        "duckdb:///path/to/file.duckdb or postgresql+psycopg://user:password@host:5432/database"
    )

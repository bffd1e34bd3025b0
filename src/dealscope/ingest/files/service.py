"""Importing a file: read, map, validate every row, then write all of it in one transaction.

A file with bad rows writes nothing and raises `ImportRejected` listing every bad row with
its line and reason, unless `skip_bad_rows`: then the good rows are written and the bad ones
go to a reject file (CSV: line, reason, then the row as read). Every run, accepted or not, is
recorded in `import_runs`; a run that changed something bumps the tenant's data version.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from dealscope.errors import ValidationFailed
from dealscope.ingest.files.base import ImportContext, Writer
from dealscope.ingest.files.crm import AgentsWriter, ContactsWriter, OpportunitiesWriter
from dealscope.ingest.files.kinds import CRM_SPECS
from dealscope.ingest.files.listings import LISTINGS_SPEC, ListingsWriter
from dealscope.ingest.files.mapping import ColumnMapping, map_columns
from dealscope.ingest.files.money import CostsWriter, SpendWriter, TargetsWriter, TransactionsWriter
from dealscope.ingest.files.readers import RawTable, read_table
from dealscope.ingest.files.series import SERIES_SPEC, SeriesWriter, widen_fred_download
from dealscope.ingest.files.spec import ImportKind, KindSpec
from dealscope.ingest.files.store import Counts
from dealscope.ingest.files.validate import BadRow, drop_duplicates, validate_rows
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import import_runs
from dealscope.warehouse.unit_of_work import unit_of_work

Progress = Callable[[str, int, int], None]  # (phase, done, total)

_WRITERS: dict[ImportKind, Callable[[], Writer]] = {
    ImportKind.CONTACTS: ContactsWriter,
    ImportKind.OPPORTUNITIES: OpportunitiesWriter,
    ImportKind.TRANSACTIONS: TransactionsWriter,
    ImportKind.AGENTS: AgentsWriter,
    ImportKind.MARKETING_SPEND: SpendWriter,
    ImportKind.OPERATING_COSTS: CostsWriter,
    ImportKind.TARGETS: TargetsWriter,
    ImportKind.LISTINGS: ListingsWriter,
    ImportKind.SERIES: SeriesWriter,
}


def spec_of(kind: ImportKind) -> KindSpec:
    if kind == ImportKind.LISTINGS:
        return LISTINGS_SPEC
    if kind == ImportKind.SERIES:
        return SERIES_SPEC
    return CRM_SPECS[kind]


@dataclass
class ImportResult:
    run_id: int
    kind: ImportKind
    source_name: str
    rows_read: int
    counts: Counts
    bad_rows: list[BadRow] = field(default_factory=list)
    reject_path: Path | None = None
    mapping: ColumnMapping | None = None
    data_version: int | None = None


class ImportRejected(ValidationFailed):
    """The file has bad rows and skipping them was not asked for: nothing was written."""

    def __init__(self, source_name: str, rows_read: int, bad_rows: list[BadRow]) -> None:
        self.source_name = source_name
        self.rows_read = rows_read
        self.bad_rows = bad_rows
        first = "; ".join(f"line {b.line}: {b.reason}" for b in bad_rows[:3])
        more = f" (and {len(bad_rows) - 3} more)" if len(bad_rows) > 3 else ""
        super().__init__(
            f"{source_name}: {len(bad_rows)} of {rows_read} rows are bad, so nothing was "
            f"imported: {first}{more}. Fix them, or import the rest with --skip-bad-rows"
        )


def write_rejects(path: Path, headers: list[str], bad_rows: list[BadRow]) -> Path:
    """The bad rows as CSV: line, reason, then the row's cells as read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "reason", *headers])
        for bad in sorted(bad_rows, key=lambda b: b.line):
            writer.writerow([bad.line, bad.reason, *(bad.cells.get(h, "") for h in headers)])
    return path


def _record_run(connection: sa.Connection, warehouse: Warehouse, **values: Any) -> int:
    run_id = warehouse.ids.next_id(import_runs.name)
    connection.execute(import_runs.insert().values(id=run_id, **values))
    return run_id


def import_file(
    warehouse: Warehouse,
    tenant_id: int,
    kind: ImportKind,
    source_name: str,
    content: bytes,
    cipher: PiiCipher,
    *,
    overrides: Mapping[str, str] | None = None,
    skip_bad_rows: bool = False,
    reject_dir: Path | None = None,
    source: str = "file",
    actor: str | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> ImportResult:
    """Import `content` (the bytes of file `source_name`) as rows of `kind` for the tenant."""
    table = read_table(source_name, content)
    if kind == ImportKind.SERIES:
        table = widen_fred_download(table)
    return import_table(
        warehouse, tenant_id, kind, source_name, table, cipher,
        content_sha256=hashlib.sha256(content).hexdigest(), overrides=overrides,
        skip_bad_rows=skip_bad_rows, reject_dir=reject_dir, source=source, actor=actor,
        progress=progress, now=now,
    )  # fmt: skip


def import_table(
    warehouse: Warehouse,
    tenant_id: int,
    kind: ImportKind,
    source_name: str,
    table: RawTable,
    cipher: PiiCipher,
    *,
    content_sha256: str | None = None,
    overrides: Mapping[str, str] | None = None,
    skip_bad_rows: bool = False,
    reject_dir: Path | None = None,
    source: str = "file",
    actor: str | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
    writer: Writer | None = None,
) -> ImportResult:
    """Import rows already read (a file's, or a feed's records) as rows of `kind`."""
    started = now or dt.datetime.now(dt.UTC)
    digest = content_sha256
    spec = spec_of(kind)
    mapping = map_columns(spec, table.headers, overrides)
    total = len(table.rows)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress("checking", done, total)

    good, bad = validate_rows(spec, table, mapping, advance)
    writer = writer or _WRITERS[kind]()
    good, duplicates = drop_duplicates(good, writer.key, writer.key_label)
    bad.extend(duplicates)
    run = {
        "tenant_id": tenant_id, "kind": kind.value, "source": source,
        "source_name": source_name[:500], "content_sha256": digest, "rows_read": total,
        "actor": actor, "started_at": started,
    }  # fmt: skip
    reject_path: Path | None = None
    rejected: ImportRejected | None = None
    with unit_of_work(warehouse) as uow:
        ctx = ImportContext(uow, tenant_id, cipher, started)
        bad.extend(writer.prepare(ctx, good))
        bad.sort(key=lambda b: b.line)
        if bad and not skip_bad_rows:
            rejected = ImportRejected(source_name, total, bad)
            counts = Counts()
        else:
            if progress is not None:
                progress("writing", 0, 1)
            counts = writer.apply(ctx)
            if bad:
                stem = Path(source_name).stem or "import"
                stamp = started.strftime("%Y%m%dT%H%M%S")
                folder = reject_dir or Path.cwd()
                reject_path = write_rejects(
                    folder / f"{stem}.rejects-{stamp}.csv", table.headers, bad
                )
            if counts.changed:
                uow.touch(tenant_id)
            run_id = _record_run(
                uow.connection, warehouse, **run, status="imported",
                rows_inserted=counts.inserted, rows_updated=counts.updated,
                rows_unchanged=counts.unchanged, rows_rejected=len(bad),
                reject_path=None if reject_path is None else str(reject_path),
                finished_at=dt.datetime.now(dt.UTC),
            )  # fmt: skip
            if progress is not None:
                progress("writing", 1, 1)
    if rejected is not None:
        with warehouse.engine.begin() as connection:
            _record_run(
                connection, warehouse, **run, status="rejected", rows_rejected=len(bad),
                error=str(rejected)[:4000], finished_at=dt.datetime.now(dt.UTC),
            )  # fmt: skip
        raise rejected
    return ImportResult(
        run_id, kind, source_name, total, counts, bad, reject_path, mapping,
        data_version=_data_version(warehouse, tenant_id),
    )  # fmt: skip


def _data_version(warehouse: Warehouse, tenant_id: int) -> int:
    from dealscope.warehouse.schema import tenants

    with warehouse.engine.connect() as connection:
        version = connection.execute(
            sa.select(tenants.c.data_version).where(tenants.c.id == tenant_id)
        ).scalar_one_or_none()
    if version is None:
        raise ValidationFailed(f"no tenant with id {tenant_id}")
    return int(version)

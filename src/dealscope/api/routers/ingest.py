"""POST /ingest/{kind}: import an uploaded file (CSV, XLSX, Parquet; JSON for listings).

All or nothing: a file with bad rows imports nothing and answers 422 `import_rejected` with
every bad row (line and reason), unless `skip_bad_rows=true`: then the good rows are
imported and the bad ones are written to a reject file on the server, named in the answer.
Admins only (ingest:write).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from dealscope.api.audit.records import add_audit_detail
from dealscope.api.auth.principal import Principal
from dealscope.api.deps import SettingsDep, WarehouseDep, require
from dealscope.errors import ValidationFailed
from dealscope.ingest.files.mapping import parse_overrides
from dealscope.ingest.files.service import ImportRejected, import_file
from dealscope.ingest.files.spec import ImportKind
from dealscope.kit.crypto import load_cipher
from dealscope.kit.roles import Permission
from dealscope.warehouse.schema import import_runs
from dealscope.warehouse.tenancy import scope_select

router = APIRouter(prefix="/ingest", tags=["ingest"])

Importer = Annotated[Principal, Depends(require(Permission.WRITE_INGEST))]
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class BadRowRead(BaseModel):
    line: int = Field(description="The row's line in the file (the header is line 1).")
    reason: str = Field(description="Every problem of the row, column by column.")


class ImportRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "run_id": 12,
                    "kind": "contacts",
                    "file_name": "leads.csv",
                    "rows_read": 3,
                    "inserted": 2,
                    "updated": 0,
                    "unchanged": 0,
                    "rejected": 1,
                    "bad_rows": [{"line": 3, "reason": "E-mail: 'ann@' is not an email address"}],
                    "reject_file": "/var/lib/dealscope/rejects/1/leads.rejects-20250314T101500.csv",
                    "columns": {"E-mail": "email", "Phone Number": "phone"},
                    "ignored_columns": ["Notes"],
                    "data_version": 8,
                }
            ]
        }
    )

    run_id: int
    kind: ImportKind
    file_name: str
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    bad_rows: list[BadRowRead]
    reject_file: str | None = Field(description="Where the skipped rows were written.")
    columns: dict[str, str] = Field(description="Each imported column and the field it fed.")
    ignored_columns: list[str]
    data_version: int | None


class ImportRejectedRead(BaseModel):
    error: str = Field(examples=["import_rejected"])
    detail: str
    rows_read: int
    bad_rows: list[BadRowRead]


class ImportRunRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 12, "kind": "contacts", "source": "upload", "source_name": "leads.csv",
                    "status": "imported", "rows_read": 3, "rows_inserted": 2, "rows_updated": 0,
                    "rows_unchanged": 0, "rows_rejected": 1,
                    "reject_path": "/var/lib/dealscope/rejects/1/leads.rejects-20250314T101500.csv",
                    "cursor": None, "actor": "admin@brokerage.example", "error": None,
                    "started_at": "2025-03-14T10:15:00Z", "finished_at": "2025-03-14T10:15:01Z",
                }
            ]
        }
    )  # fmt: skip

    id: int
    kind: str
    source: str = Field(description="file (CLI), upload (API), reso or fred.")
    source_name: str
    status: str = Field(description="imported, or rejected (bad rows; nothing written).")
    rows_read: int
    rows_inserted: int
    rows_updated: int
    rows_unchanged: int
    rows_rejected: int
    reject_path: str | None
    cursor: str | None = Field(description="RESO: the ModificationTimestamp replicated to.")
    actor: str | None
    error: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None


@router.get("/runs", summary="Recent imports of the tenant, newest first")
def list_import_runs(
    principal: Importer,
    warehouse: WarehouseDep,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many runs.")] = 50,
) -> list[ImportRunRead]:
    columns = sa.select(*(c for c in import_runs.c if c.name != "tenant_id"))
    query = (
        scope_select(columns, import_runs, principal.scope)
        .order_by(import_runs.c.id.desc())
        .limit(limit)
    )
    with warehouse.engine.connect() as connection:
        return [ImportRunRead.model_validate(dict(r)) for r in connection.execute(query).mappings()]


def _read_upload(file: UploadFile) -> bytes:
    content = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    if not content:
        raise ValidationFailed("the uploaded file is empty")
    return content


@router.post(
    "/{kind}",
    summary="Import a file of contacts, deals, transactions, agents, spend, costs, targets, "
    "listings or series",
    responses={
        422: {"model": ImportRejectedRead, "description": "Bad rows; nothing was imported."}
    },
)
def import_upload(
    kind: ImportKind,
    file: UploadFile,
    request: Request,
    principal: Importer,
    warehouse: WarehouseDep,
    settings: SettingsDep,
    skip_bad_rows: Annotated[
        bool, Query(description="Import the good rows; write the bad ones to a reject file.")
    ] = False,
    map: Annotated[
        list[str] | None,
        Query(description="COLUMN=FIELD overrides of the detected mapping (COLUMN= skips it)."),
    ] = None,
) -> Any:
    content = _read_upload(file)
    name = file.filename or f"upload.{kind.value}"
    try:
        result = import_file(
            warehouse, principal.tenant_id, kind, name, content, load_cipher(settings),
            overrides=parse_overrides(map or []), skip_bad_rows=skip_bad_rows,
            reject_dir=settings.data_dir / "rejects" / str(principal.tenant_id),
            source="upload", actor=principal.display,
        )  # fmt: skip
    except ImportRejected as exc:
        add_audit_detail(request, kind=kind.value, file=name, rejected=len(exc.bad_rows))
        body = ImportRejectedRead(
            error="import_rejected",
            detail=str(exc),
            rows_read=exc.rows_read,
            bad_rows=[BadRowRead(line=b.line, reason=b.reason) for b in exc.bad_rows],
        )
        return JSONResponse(body.model_dump(), status_code=422)
    counts = result.counts
    add_audit_detail(
        request, kind=kind.value, file=name, inserted=counts.inserted, updated=counts.updated
    )
    return ImportRead(
        run_id=result.run_id,
        kind=kind,
        file_name=name,
        rows_read=result.rows_read,
        inserted=counts.inserted,
        updated=counts.updated,
        unchanged=counts.unchanged,
        rejected=len(result.bad_rows),
        bad_rows=[BadRowRead(line=b.line, reason=b.reason) for b in result.bad_rows],
        reject_file=None if result.reject_path is None else str(result.reject_path),
        columns={
            column: field
            for field, column in (result.mapping.fields.items() if result.mapping else [])
        },
        ignored_columns=result.mapping.ignored if result.mapping else [],
        data_version=result.data_version,
    )

"""What the file import endpoint answers (`POST /api/v1/ingest/{kind}`)."""

from __future__ import annotations

from pydantic import BaseModel

from dealscope.client.errors import ApiError


class BadRowRead(BaseModel):
    line: int
    reason: str


class ImportRead(BaseModel):
    run_id: int
    kind: str
    file_name: str
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    bad_rows: list[BadRowRead]
    reject_file: str | None
    columns: dict[str, str]
    ignored_columns: list[str]
    data_version: int | None


class ImportRejectedError(ApiError):
    """The file had bad rows and nothing was imported; `bad_rows` lists every one."""

    def __init__(self, detail: str, rows_read: int, bad_rows: list[BadRowRead]) -> None:
        super().__init__(422, "import_rejected", detail)
        self.rows_read = rows_read
        self.bad_rows = bad_rows

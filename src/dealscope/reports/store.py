"""Rendered report files under `<data_dir>/reports/<tenant_id>/`, fetched by download id.

Each rendering is two files: `<id>.bin` (the content) and `<id>.json` (file name, content
type, size, who made it, when). Both are written to a temporary name and renamed, the
metadata last, so a download never sees a half-written file. Only the caller who rendered a
file may download it (its figures are of that caller's scope). Files older than
`RETENTION` are removed when new ones are stored.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from dealscope.errors import NotFound
from dealscope.reports.service import RenderedReport

RETENTION = dt.timedelta(days=7)
_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class StoredReport:
    download_id: str
    tenant_id: int
    owner: str  # the caller's subject: user:<id> or api_key:<id>
    filename: str
    content_type: str
    size_bytes: int
    title: str
    created_at: str  # ISO 8601, UTC

    @property
    def expires_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.created_at) + RETENTION


def tenant_folder(data_dir: Path, tenant_id: int) -> Path:
    return data_dir / "reports" / str(int(tenant_id))


def _write_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    temporary.write_bytes(content)
    temporary.replace(path)


def purge_expired(folder: Path, now: dt.datetime) -> int:
    """Remove renderings older than RETENTION; how many were removed."""
    removed = 0
    if not folder.is_dir():
        return 0
    cutoff = (now - RETENTION).timestamp()
    for meta in folder.glob("*.json"):
        if meta.stat().st_mtime < cutoff:
            meta.unlink(missing_ok=True)
            meta.with_suffix(".bin").unlink(missing_ok=True)
            removed += 1
    return removed


def store_report(
    data_dir: Path, tenant_id: int, owner: str, rendered: RenderedReport, now: dt.datetime
) -> StoredReport:
    """Keep `rendered` for download by `owner`; its metadata with a new download id."""
    folder = tenant_folder(data_dir, tenant_id)
    folder.mkdir(parents=True, exist_ok=True)
    purge_expired(folder, now)
    stored = StoredReport(
        download_id=secrets.token_hex(16),
        tenant_id=tenant_id,
        owner=owner,
        filename=rendered.filename,
        content_type=rendered.content_type,
        size_bytes=len(rendered.content),
        title=rendered.title,
        created_at=now.astimezone(dt.UTC).isoformat(),
    )
    _write_atomically(folder / f"{stored.download_id}.bin", rendered.content)
    _write_atomically(folder / f"{stored.download_id}.json", json.dumps(asdict(stored)).encode())
    return stored


def get_stored_report(
    data_dir: Path, tenant_id: int, download_id: str, owner: str
) -> tuple[StoredReport, Path]:
    """The rendering `download_id` of the tenant made by `owner`, and its content's path;
    NotFound for anything else (another caller's, another tenant's, expired, malformed)."""
    missing = NotFound(f"no report to download with id {download_id!r} (it may have expired)")
    if not _ID.fullmatch(download_id):
        raise missing
    folder = tenant_folder(data_dir, tenant_id)
    meta, content = folder / f"{download_id}.json", folder / f"{download_id}.bin"
    if not meta.is_file() or not content.is_file():
        raise missing
    stored = StoredReport(**json.loads(meta.read_text()))
    if stored.owner != owner or stored.tenant_id != tenant_id:
        raise missing
    return stored, content

"""Contact email and phone are stored encrypted, found by keyed hash, and survive rotation."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from dealscope.cli import app
from dealscope.config import Environment, Settings
from dealscope.demo.generator import BrokerageSpec, generate_brokerage
from dealscope.demo.loader import load_brokerage
from dealscope.errors import ConfigurationError
from dealscope.kit.crypto import DecryptionFailed, PiiCipher, key_file, load_cipher
from dealscope.warehouse.engine import Warehouse, open_warehouse
from dealscope.warehouse.pii import reencrypt_contacts
from dealscope.warehouse.schema import contacts

END = dt.date(2025, 3, 31)
OLD, NEW = Fernet.generate_key(), Fernet.generate_key()
HASH_KEY = b"a-stable-hash-key"


def _contact_rows(warehouse: Warehouse) -> list[sa.Row[tuple[object, ...]]]:
    with warehouse.engine.connect() as conn:
        return list(conn.execute(sa.select(contacts).order_by(contacts.c.id)))


def test_warehouse_keeps_no_plaintext_and_finds_by_hash(warehouse: Warehouse) -> None:
    brokerage = generate_brokerage(BrokerageSpec(leads=300, seed=2, end=END, years=1, agents=5))
    cipher = PiiCipher([OLD], HASH_KEY)
    load_brokerage(warehouse, brokerage, "alpha", cipher=cipher)
    rows = _contact_rows(warehouse)
    generated = brokerage.tables["contacts"].to_pylist()
    assert len(rows) == len(generated)
    for row in rows:
        assert not any(isinstance(v, str) and "@" in v for v in row)  # no address in clear
    for row, original in zip(rows, generated, strict=True):  # ids keep the generated order
        assert cipher.decrypt(row.email_encrypted) == original["email"]
        assert cipher.decrypt(row.phone_encrypted) == original["phone"]
        assert row.email_hash == cipher.email_hash(original["email"].upper())
    wanted = generated[7]["email"]
    with warehouse.engine.connect() as conn:
        found = (
            conn.execute(
                sa.select(contacts.c.first_name).where(
                    contacts.c.email_hash == cipher.email_hash(f"  {wanted} ")
                )
            )
            .scalars()
            .all()
        )
    assert found == [generated[7]["first_name"]]


def test_reencryption_moves_every_row_to_the_new_key(warehouse: Warehouse) -> None:
    brokerage = generate_brokerage(BrokerageSpec(leads=200, seed=3, end=END, years=1, agents=4))
    load_brokerage(warehouse, brokerage, "alpha", cipher=PiiCipher([OLD], HASH_KEY))
    before = _contact_rows(warehouse)
    seen: list[tuple[int, int]] = []
    rewritten = reencrypt_contacts(
        warehouse,
        PiiCipher([NEW, OLD], HASH_KEY),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert rewritten == len(before) and seen[-1] == (len(before), len(before))
    after = _contact_rows(warehouse)
    only_new, only_old = PiiCipher([NEW], HASH_KEY), PiiCipher([OLD], HASH_KEY)
    for old_row, new_row in zip(before, after, strict=True):
        assert new_row.email_encrypted != old_row.email_encrypted
        assert only_new.decrypt(new_row.email_encrypted) == only_old.decrypt(
            old_row.email_encrypted
        )
        assert new_row.email_hash == old_row.email_hash
    with pytest.raises(DecryptionFailed, match="could not be decrypted"):
        only_old.decrypt(after[0].email_encrypted)


def test_keys_rotate_command_with_the_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEALSCOPE_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    generated = runner.invoke(
        app, ["generate", "--leads", "200", "--seed", "4", "--years", "1", "--end", "2025-03-31"]
    )
    assert generated.exit_code == 0, generated.output
    settings = Settings(data_dir=tmp_path)
    path = key_file(settings)
    first = json.loads(path.read_text())
    assert len(first["keys"]) == 1 and path.stat().st_mode & 0o077 == 0  # private file
    old = load_cipher(settings)

    rotated = runner.invoke(app, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert "Re-encrypted" in rotated.output
    second = json.loads(path.read_text())
    assert len(second["keys"]) == 1 and second["keys"] != first["keys"]
    assert second["hash_key"] == first["hash_key"]
    new = load_cipher(settings)
    with open_warehouse(settings.resolved_database_url) as warehouse:
        rows = _contact_rows(warehouse)
    assert rows and all("@" in (new.decrypt(r.email_encrypted) or "") for r in rows)
    with pytest.raises(DecryptionFailed):
        old.decrypt(rows[0].email_encrypted)


def test_production_needs_configured_keys(tmp_path: Path) -> None:
    settings = Settings(
        environment=Environment.PRODUCTION,
        data_dir=tmp_path,
        jwt_secret="j" * 40,
        webhook_secret="w" * 40,
    )
    with pytest.raises(ConfigurationError, match="DEALSCOPE_PII_KEYS"):
        load_cipher(settings)
    configured = settings.model_copy(
        update={
            "pii_keys": Settings(pii_keys=f"{NEW.decode()},{OLD.decode()}").pii_keys,
            "pii_hash_key": Settings(pii_hash_key="h" * 32).pii_hash_key,
        }
    )
    cipher = load_cipher(configured)
    assert cipher.keys == [NEW, OLD]
    token = PiiCipher([OLD], b"x").encrypt("a@b.example")
    assert cipher.decrypt(token) == "a@b.example"  # old keys still read
    with pytest.raises(ConfigurationError, match="Fernet keys"):
        load_cipher(
            configured.model_copy(update={"pii_keys": Settings(pii_keys="not-a-key").pii_keys})
        )

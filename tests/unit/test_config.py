"""Settings: where the warehouse is by default, and refusal of weak secrets in production."""

from __future__ import annotations

from pathlib import Path

import pytest

from dealscope.config import DEFAULT_JWT_SECRET, Environment, Settings
from dealscope.errors import ConfigurationError

STRONG = "k" * 48


def test_default_warehouse_is_a_duckdb_file_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)

    assert settings.duckdb_path == tmp_path / "warehouse.duckdb"
    assert settings.resolved_database_url == f"duckdb:///{tmp_path}/warehouse.duckdb"


def test_data_dir_and_database_url_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEALSCOPE_DATA_DIR", str(tmp_path / "elsewhere"))
    assert Settings(_env_file=None).resolved_database_url == (
        f"duckdb:///{tmp_path}/elsewhere/warehouse.duckdb"
    )

    url = "postgresql+psycopg://dealscope:s3cret@db.internal:5432/dealscope"
    monkeypatch.setenv("DEALSCOPE_DATABASE_URL", url)
    assert Settings(_env_file=None).resolved_database_url == url


def test_api_url_defaults_to_a_reachable_address_of_the_api() -> None:
    assert Settings(_env_file=None).resolved_api_url == "http://127.0.0.1:8000"
    wildcard = Settings(_env_file=None, api_host="0.0.0.0", api_port=9000)
    assert wildcard.resolved_api_url == "http://127.0.0.1:9000"
    explicit = Settings(_env_file=None, api_url="https://api.example.com")
    assert explicit.resolved_api_url == "https://api.example.com"


@pytest.mark.parametrize(
    ("jwt", "webhook", "named"),
    [
        (None, STRONG, "DEALSCOPE_JWT_SECRET"),  # None: the shipped default
        (STRONG, None, "DEALSCOPE_WEBHOOK_SECRET"),
        ("short-but-not-default", STRONG, "DEALSCOPE_JWT_SECRET"),
    ],
)
def test_production_refuses_default_or_short_secrets_naming_the_variable(
    jwt: str | None, webhook: str | None, named: str
) -> None:
    secrets = {k: v for k, v in {"jwt_secret": jwt, "webhook_secret": webhook}.items() if v}

    with pytest.raises(ConfigurationError) as raised:
        Settings(_env_file=None, environment=Environment.PRODUCTION, **secrets)

    assert named in str(raised.value)
    assert "production" in str(raised.value)


def test_production_accepts_long_random_secrets() -> None:
    settings = Settings(
        _env_file=None, environment="production", jwt_secret=STRONG, webhook_secret=STRONG[::-1]
    )
    assert settings.jwt_secret.get_secret_value() == STRONG


@pytest.mark.parametrize("environment", ["demo", "dev", "test"])
def test_demo_and_development_accept_the_shipped_secrets(environment: str) -> None:
    settings = Settings(_env_file=None, environment=environment)
    assert settings.jwt_secret.get_secret_value() == DEFAULT_JWT_SECRET


def test_secrets_are_not_shown_in_reprs() -> None:
    assert DEFAULT_JWT_SECRET not in repr(Settings(_env_file=None))

"""The one-machine host's home: created private with its key, refused when others can read it,
configured from config.toml and CERTPUSH_* variables; one serve per home; a database from a newer
certpush refused; webhook bodies signed as documented."""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from certpush.errors import ConfigurationError
from certpush.models.domain import TargetKey
from certpush_cli.host import serve_lock
from certpush_cli.host.database import Database
from certpush_cli.host.home import Home, default_home
from certpush_cli.host.records import SqliteRecordsRepository
from certpush_cli.host.schema import MIGRATIONS, SCHEMA_VERSION
from certpush_cli.host.webhooks import signature

pytestmark = pytest.mark.unit


def test_a_new_home_is_private_with_a_key_of_its_own(tmp_path: Path) -> None:
    home = Home.open(tmp_path / "home")

    assert stat.S_IMODE(home.path.stat().st_mode) == 0o700
    assert stat.S_IMODE(home.key_file.stat().st_mode) == 0o600
    assert len(home.key()) == 32
    assert Home.open(home.path).key() == home.key()  # opened again: the same key
    assert Home.open(tmp_path / "other").key() != home.key()


@pytest.mark.parametrize("loose", ["home", "key"])
def test_a_home_others_can_read_is_refused_with_the_chmod_that_fixes_it(tmp_path: Path, loose: str) -> None:
    home = Home.open(tmp_path / "home")
    path, mode = (home.path, "700") if loose == "home" else (home.key_file, "600")
    os.chmod(path, 0o755 if loose == "home" else 0o644)

    with pytest.raises(ConfigurationError, match=f"chmod {mode} {path}"):
        Home.open(home.path)


def test_a_home_without_its_key_is_never_given_a_new_one(tmp_path: Path) -> None:
    home = Home.open(tmp_path / "home")
    Database(home.database_file).close()
    home.key_file.unlink()

    with pytest.raises(ConfigurationError, match="restore the key file"):
        Home.open(home.path)


def test_the_default_home_follows_certpush_home_then_the_xdg_state_directory() -> None:
    assert default_home({"CERTPUSH_HOME": "/srv/certpush"}) == Path("/srv/certpush")
    assert default_home({"XDG_STATE_HOME": "/state"}) == Path("/state/certpush")


def test_config_toml_is_read_and_certpush_variables_override_it(tmp_path: Path) -> None:
    home = Home.open(tmp_path / "home")
    home.config_file.write_text("push_concurrency = 4\nsimulate = true\n")

    assert home.config(environ={}).push_concurrency == 4
    assert home.config(environ={"CERTPUSH_PUSH_CONCURRENCY": "7"}).push_concurrency == 7
    with pytest.raises(ConfigurationError, match="push_concurrency"):
        home.config(environ={"CERTPUSH_PUSH_CONCURRENCY": "1000"})
    home.config_file.write_text("push_concurrency = [\n")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        home.config(environ={})


def test_webhook_secrets_in_a_config_others_can_read_are_refused(tmp_path: Path) -> None:
    home = Home.open(tmp_path / "home")
    home.config_file.write_text(
        '[[webhooks]]\nname = "ops"\nurl = "https://example.com/h"\nsecret = "0123456789abcdef"\n'
    )
    os.chmod(home.config_file, 0o644)

    with pytest.raises(ConfigurationError, match="chmod 600"):
        home.config(environ={})
    os.chmod(home.config_file, 0o600)
    assert [w.name for w in home.config(environ={}).webhooks] == ["ops"]


def test_simulate_marks_the_home_once_and_keeps_its_settings(tmp_path: Path) -> None:
    home = Home.open(tmp_path / "home")
    home.config_file.write_text("push_concurrency = 3\n")

    assert home.mark_simulated() is True
    assert home.mark_simulated() is False
    config = home.config(environ={})
    assert (config.simulate, config.push_concurrency) == (True, 3)


def test_one_serve_per_home(tmp_path: Path) -> None:
    home = Home.open(tmp_path / "home")
    assert serve_lock.serve_pid(home) is None

    held = serve_lock.acquire(home)
    try:
        assert serve_lock.serve_pid(home) == os.getpid()
        with pytest.raises(ConfigurationError, match="another certpush serve"):
            serve_lock.acquire(home)
    finally:
        held.close()
    assert serve_lock.serve_pid(home) is None


def test_a_database_of_a_newer_certpush_is_refused(tmp_path: Path) -> None:
    database = Database(tmp_path / "certpush.db")
    with database.transaction() as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    database.close()

    with pytest.raises(ConfigurationError, match="upgrade certpush"):
        Database(tmp_path / "certpush.db")


def test_a_webhook_body_is_signed_with_its_timestamp() -> None:
    expected = hmac.new(b"s3cret-s3cret-16", b"1700000000.{}", hashlib.sha256).hexdigest()

    assert signature("s3cret-s3cret-16", "1700000000", b"{}") == f"sha256={expected}"


def test_a_database_of_the_first_schema_is_migrated_with_its_rows_kept(tmp_path: Path) -> None:
    """Schema 2 adds the settle wait ("not before") to pushes and bindings: a home written by schema 1
    opens with its bindings as they were and no wait on them."""
    path = tmp_path / "certpush.db"
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    old.execute(
        "INSERT INTO bindings (certificate_id, provider, service, region, target_id, version) "
        "VALUES ('shop', 'aws', 'elb', 'us-east-1', 'arn:1', 3)"
    )
    old.commit()
    old.close()

    database = Database(path)
    binding = SqliteRecordsRepository(database).binding(
        "shop", TargetKey(provider="aws", service="elb", region="us-east-1")
    )
    database.close()

    assert binding is not None and (binding.target_id, binding.version, binding.settle_until) == ("arn:1", 3, None)

"""TOTP seeds are sealed at rest (AES-256-GCM, key in a 0600 file outside the store): the store
file never holds them in plaintext, a sealed seed does not open anywhere else, and stores
written before sealing are migrated."""

from __future__ import annotations

import base64
import sqlite3
from contextlib import closing
from pathlib import Path

import pyotp
import pytest

from tenantry.errors import DataIntegrityError, KeyMaterialError
from tenantry.governance import GovernanceRules, UnsafeFastPasswordHashing
from tenantry.service import Service
from tests.helpers.clock import FakeClock
from tests.helpers.people import PASSWORD, add_person, log_in

RULES = GovernanceRules(password_hashing=UnsafeFastPasswordHashing())


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "private" / "secrets-key"
    monkeypatch.setenv("TENANTRY_SECRETS_KEY", str(path))
    return path


def _open(tmp_path: Path, clock: FakeClock) -> Service:
    return Service.open(f"sqlite:///{tmp_path / 't.db'}", rules=RULES, clock=clock)


def _store_bytes(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp_path.glob("t.db*"))


def _enrol(service: Service, clock: FakeClock, name: str) -> str:
    actor = log_in(service, name)
    secret, _ = service.accounts.begin_mfa(actor)
    service.accounts.confirm_mfa(actor, pyotp.TOTP(secret).at(clock.now))
    return secret


def test_totp_seed_is_not_in_the_store_file_and_login_still_needs_it(
    tmp_path: Path, key_file: Path
) -> None:
    """grep the SQLite file (and its WAL) for the seed, raw and decoded: not there; the key
    file is 0600; and a login with a code from the seed works."""
    clock = FakeClock()
    service = _open(tmp_path, clock)
    add_person(service, "alice")
    add_person(service, "carol")
    secret = _enrol(service, clock, "alice")
    pending = service.accounts.begin_mfa(log_in(service, "carol"))[0]  # not confirmed yet
    clock.advance(seconds=30)
    code = pyotp.TOTP(secret).at(clock.now)
    assert service.sessions.login(None, "alice", PASSWORD, code=code, source="10.0.0.1")
    service.close()
    stored = _store_bytes(tmp_path)
    for seed in (secret, pending):
        assert seed.encode() not in stored
        assert base64.b32decode(seed) not in stored
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.read_bytes() not in stored


def test_sealed_seed_copied_to_another_user_does_not_open(tmp_path: Path, key_file: Path) -> None:
    """Swapping sealed values between rows (someone with write access to the store) is caught."""
    clock = FakeClock()
    service = _open(tmp_path, clock)
    add_person(service, "alice")
    add_person(service, "carol")
    _enrol(service, clock, "alice")
    service.close()
    with closing(sqlite3.connect(tmp_path / "t.db")) as db, db:
        db.execute(
            "UPDATE users SET totp_secret = (SELECT totp_secret FROM users WHERE name = 'alice')"
            " WHERE name = 'carol'"
        )
    service = _open(tmp_path, clock)
    try:
        with pytest.raises(DataIntegrityError, match="does not open"):
            service.sessions.login(None, "carol", PASSWORD, code="000000", source="10.0.0.1")
    finally:
        service.close()


def test_secrets_key_readable_by_others_is_refused(tmp_path: Path, key_file: Path) -> None:
    """A world-readable key file is refused, like the audit signing key."""
    clock = FakeClock()
    service = _open(tmp_path, clock)
    add_person(service, "alice")
    _enrol(service, clock, "alice")
    service.close()
    key_file.chmod(0o644)
    service = _open(tmp_path, clock)
    try:
        with pytest.raises(KeyMaterialError, match="accessible to other users"):
            service.sessions.login(None, "alice", PASSWORD, code="000000", source="10.0.0.1")
    finally:
        service.close()


def test_plaintext_seeds_of_an_older_store_are_sealed_by_the_migration(
    tmp_path: Path, key_file: Path
) -> None:
    """A store at the previous revision with a plaintext seed: opening it migrates the seed,
    which then still verifies codes and is gone from the file."""
    clock = FakeClock()
    service = _open(tmp_path, clock)
    add_person(service, "alice")
    service.close()
    legacy = pyotp.random_base32()
    with closing(sqlite3.connect(tmp_path / "t.db")) as db, db:
        db.execute("UPDATE users SET totp_secret = ? WHERE name = 'alice'", (legacy,))
        # the store as it was at that revision: without the later leaf-hash pages either
        db.execute("DROP TABLE audit_leaf_pages")
        db.execute("UPDATE alembic_version SET version_num = 'governance'")
    service = _open(tmp_path, clock)  # runs the totp_sealed migration
    try:
        code = pyotp.TOTP(legacy).at(clock.now)
        assert service.sessions.login(None, "alice", PASSWORD, code=code, source="10.0.0.1")
    finally:
        service.close()
    with closing(sqlite3.connect(tmp_path / "t.db")) as db, db:
        (stored,) = db.execute("SELECT totp_secret FROM users WHERE name = 'alice'").fetchone()
    assert stored.startswith("aesgcm1:")
    assert legacy.encode() not in _store_bytes(tmp_path)

"""The audit signing key: a 0600 file outside the store, created once, refused when exposed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tenantry.errors import KeyMaterialError
from tenantry.service.signing import load_signing_key


def test_the_key_is_created_on_first_use_readable_only_by_its_owner(tmp_path: Path) -> None:
    """First use writes a PEM key with mode 0600 in a 0700 directory."""
    path = tmp_path / "keys" / "audit.pem"
    signer = load_signing_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert b"PRIVATE KEY" in path.read_bytes()
    assert len(signer.public_key()) == 32


def test_the_same_key_is_used_on_every_later_start(tmp_path: Path) -> None:
    """Reloading gives the same log identity, so old heads keep verifying."""
    path = tmp_path / "audit.pem"
    assert load_signing_key(path).public_key() == load_signing_key(path).public_key()


def test_a_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    """The attack: a world-readable key could be copied; tenantry refuses to sign with it."""
    path = tmp_path / "audit.pem"
    load_signing_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyMaterialError, match="accessible to other users"):
        load_signing_key(path)


def test_a_file_that_is_not_a_key_is_refused(tmp_path: Path) -> None:
    """Garbage in the key file is a clear KeyMaterialError, never a crash or a new key."""
    path = tmp_path / "audit.pem"
    path.write_bytes(b"not a key")
    os.chmod(path, 0o600)
    with pytest.raises(KeyMaterialError):
        load_signing_key(path)
    assert path.read_bytes() == b"not a key"


def test_a_missing_key_is_not_created_when_creation_is_off(tmp_path: Path) -> None:
    """Verification-only callers never mint a key by accident."""
    with pytest.raises(KeyMaterialError, match="no audit signing key"):
        load_signing_key(tmp_path / "absent.pem", create=False)


def test_an_unwritable_key_place_is_a_clear_error(tmp_path: Path) -> None:
    """Where the key cannot be created, the error says where and what to set."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(KeyMaterialError, match=r"audit signing key .*file/audit.pem"):
        load_signing_key(blocker / "audit.pem")

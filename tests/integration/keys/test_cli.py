"""``tenantry keys`` and ``tenantry disk`` end to end, against the SoftHSM2 token."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tenantry.cli import app
from tenantry.keys.disk import read_header
from tests.helpers.specs import ASSETS
from tests.integration.keys.conftest import SoftHsm, wipe_tenant_keys

SECRET = "acme: launch date is the 14th"


@pytest.fixture
def run(softhsm: SoftHsm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vault):  # type: ignore[no-untyped-def]
    for name, value in softhsm.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TENANTRY_DATASTORES", str(tmp_path / "datastores"))
    runner = CliRunner()
    store = f"sqlite:///{tmp_path / 'tenantry.db'}"

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["--store", store, *args])

    assert invoke("apply", str(ASSETS / "specs" / "two-tenants.yaml")).exit_code == 0
    yield invoke
    wipe_tenant_keys(softhsm)


def _onboard(run, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    assert run("keys", "wrapping-key", "-o", str(tmp_path / "hsm.pem")).exit_code == 0
    assert run("keys", "generate", "-o", str(tmp_path / "tenant.key")).exit_code == 0
    wrapped = run(
        "keys",
        "wrap",
        "-w",
        str(tmp_path / "hsm.pem"),
        "-k",
        str(tmp_path / "tenant.key"),
        "-o",
        str(tmp_path / "acme.wrapped"),
    )
    assert wrapped.exit_code == 0, wrapped.output
    imported = run("keys", "import", "acme", str(tmp_path / "acme.wrapped"))
    assert imported.exit_code == 0 and "imported key v1" in imported.output
    created = run("disk", "create", "acme/web", "root", "--size", "1MiB")
    assert created.exit_code == 0, created.output
    return next((tmp_path / "datastores").rglob("root.tdisk"))


def test_tenant_onboarding_and_guest_io_through_the_cli(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """wrapping-key, generate, wrap, import, create; a write refused until the host is trusted,
    then written, read back, seen as ciphertext by the provider, and verified."""
    image = _onboard(run, tmp_path)
    guest = ("--guest", "acme/web", "--host", "h1")
    refused = run("disk", "write", str(image), *guest, "--data", SECRET)
    assert refused.exit_code == 10 and "not trusted" in refused.output
    written = run(
        "disk",
        "write",
        str(image),
        *guest,
        "--data",
        SECRET,
        "--offset",
        "4090",
        "--unsafe-trust-host",
    )
    assert written.exit_code == 0, written.output
    assert "sealed generation 1" in written.output
    plain = run(
        "disk",
        "read",
        str(image),
        *guest,
        "--offset",
        "4090",
        "--length",
        str(len(SECRET)),
        "--unsafe-trust-host",
    )
    assert plain.exit_code == 0 and plain.stdout_bytes == SECRET.encode()
    raw = run("disk", "read", str(image), "--raw", "--offset", "0", "--length", "8192")
    assert (
        raw.exit_code == 0
        and SECRET.encode() not in raw.stdout_bytes
        and len(raw.stdout_bytes) == 8192
    )

    assert run("keys", "signing-key", "acme", "-o", str(tmp_path / "acme.pem")).exit_code == 0
    offline = run("disk", "verify", str(image), "--public-key", str(tmp_path / "acme.pem"))
    assert (
        offline.exit_code == 0
        and "OK acme/web/root generation 1: 2 written blocks" in offline.output
    )
    full = run("disk", "verify", str(image), *guest, "--unsafe-trust-host")
    assert full.exit_code == 0 and "2 authenticated" in full.output
    status = run("keys", "status", "acme")
    assert status.exit_code == 0 and "active" in status.output and "web/root" in status.output


def test_tampered_image_fails_verify_with_exit_1(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A flipped byte in a written block is reported by verify with the key (exit 1)."""
    image = _onboard(run, tmp_path)
    guest = ("--guest", "acme/web", "--host", "h1", "--unsafe-trust-host")
    assert run("disk", "write", str(image), *guest, "--data", SECRET).exit_code == 0
    with image.open("r+b") as file:
        file.seek(read_header(image).geometry.slot_offset(0) + 1)
        file.write(b"\x00")
    result = run("disk", "verify", str(image), *guest)
    assert result.exit_code == 1 and "FAIL block 0 fails authentication" in result.output


def test_rotate_through_the_cli_keeps_the_data_readable(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A second tenant key, wrapped on the tenant side, replaces the first; data still reads."""
    image = _onboard(run, tmp_path)
    guest = ("--guest", "acme/web", "--host", "h1", "--unsafe-trust-host")
    assert run("disk", "write", str(image), *guest, "--data", SECRET).exit_code == 0
    assert run("keys", "generate", "-o", str(tmp_path / "next.key")).exit_code == 0
    wrap = ("keys", "wrap", "-w", str(tmp_path / "hsm.pem"), "-k", str(tmp_path / "next.key"))
    assert run(*wrap, "-o", str(tmp_path / "next.wrapped")).exit_code == 0
    rotated = run("keys", "rotate", "acme", str(tmp_path / "next.wrapped"))
    assert rotated.exit_code == 0 and "to key v2" in rotated.output
    plain = run("disk", "read", str(image), *guest, "--length", str(len(SECRET)))
    assert plain.exit_code == 0 and plain.stdout_bytes == SECRET.encode()


def test_revoke_needs_confirmation_then_shreds(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Without --yes nothing happens (exit 3); with it every later read is refused (exit 10)."""
    image = _onboard(run, tmp_path)
    guest = ("--guest", "acme/web", "--host", "h1", "--unsafe-trust-host")
    assert run("disk", "write", str(image), *guest, "--data", SECRET).exit_code == 0
    unconfirmed = run("keys", "revoke", "acme")
    assert unconfirmed.exit_code == 3 and "--yes" in unconfirmed.output
    assert run("disk", "read", str(image), *guest, "--length", "4").exit_code == 0
    revoked = run("keys", "revoke", "acme", "--yes")
    assert revoked.exit_code == 0 and "1 disk key(s) shredded" in revoked.output
    after = run("disk", "read", str(image), *guest, "--length", "4")
    assert after.exit_code == 10 and "crypto.revoked" in after.output


def test_bad_key_files_are_named_and_change_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A truncated wrapped key, a short tenant key, an existing key file: exit 3 or 5."""
    assert run("keys", "wrapping-key", "-o", str(tmp_path / "hsm.pem")).exit_code == 0
    (tmp_path / "short.key").write_bytes(b"\x01" * 16)
    short = run("keys", "wrap", "-w", str(tmp_path / "hsm.pem"), "-k", str(tmp_path / "short.key"))
    assert short.exit_code == 3 and "short.key: 16 bytes" in short.output
    (tmp_path / "cut.wrapped").write_text("-----BEGIN TENANTRY WRAPPED KEY-----\nVFdLMQ==\n")
    cut = run("keys", "import", "acme", str(tmp_path / "cut.wrapped"))
    assert cut.exit_code == 3 and "cut.wrapped" in cut.output and "no END line" in cut.output
    assert run("keys", "generate", "-o", str(tmp_path / "t.key")).exit_code == 0
    again = run("keys", "generate", "-o", str(tmp_path / "t.key"))
    assert again.exit_code == 5 and "never overwritten" in again.output
    status = run("keys", "status", "acme")
    assert "kek" not in status.output

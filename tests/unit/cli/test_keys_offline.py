"""``tenantry keys generate`` and ``keys wrap`` run on a tenant's machine: no store, no HSM."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from tenantry.keys import OaepHash, WrappedKey, WrappingKey
from tenantry.keys.envelope import oaep_padding

ROOT = Path(__file__).parents[3]
# The tenant's machine has no PKCS#11 library: importing it must not even be attempted.
NO_PKCS11 = (
    "import sys; sys.modules['pkcs11'] = None; "
    "from tenantry.cli import main; sys.argv[0] = 'tenantry'; main()"
)


def _tenantry(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT / "src"),
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "TENANTRY_STORE": f"sqlite:///{tmp_path / 'must-not-exist.db'}",
    }
    return subprocess.run(
        [sys.executable, "-c", NO_PKCS11, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_tenant_generates_and_wraps_without_server_or_pkcs11(tmp_path: Path) -> None:
    """The blob unwraps with the HSM's private key to the generated key; nothing else is touched."""
    hsm = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    (tmp_path / "hsm.pem").write_text(WrappingKey(hsm.public_key(), OaepHash.SHA1).to_pem())
    generated = _tenantry(tmp_path, "keys", "generate", "-o", str(tmp_path / "tenant.key"))
    assert generated.returncode == 0, generated.stderr
    assert (tmp_path / "tenant.key").stat().st_mode & 0o777 == 0o600
    wrapped = _tenantry(
        tmp_path,
        "keys",
        "wrap",
        "-w",
        str(tmp_path / "hsm.pem"),
        "-k",
        str(tmp_path / "tenant.key"),
    )
    assert wrapped.returncode == 0, wrapped.stderr
    assert "compare it with the provider's" in wrapped.stderr
    blob = WrappedKey.from_pem(wrapped.stdout)
    key = bytes.fromhex((tmp_path / "tenant.key").read_text().strip())
    assert hsm.decrypt(blob.ciphertext, oaep_padding(blob.oaep_hash)) == key
    assert not (tmp_path / "must-not-exist.db").exists()
    assert not (tmp_path / "data").exists()


def test_wrap_with_a_bad_wrapping_key_exits_3_and_names_the_file(tmp_path: Path) -> None:
    """A certificate instead of a public key is an input error that says what it found."""
    (tmp_path / "hsm.pem").write_text(
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    )
    (tmp_path / "tenant.key").write_bytes(os.urandom(32))
    result = _tenantry(
        tmp_path,
        "keys",
        "wrap",
        "-w",
        str(tmp_path / "hsm.pem"),
        "-k",
        str(tmp_path / "tenant.key"),
    )
    assert result.returncode == 3
    assert "hsm.pem: expected a '-----BEGIN PUBLIC KEY-----' block" in result.stderr

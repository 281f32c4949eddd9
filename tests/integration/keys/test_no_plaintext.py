"""No plaintext key or data on the provider side (THREATS row 43).

A provider process imports the tenant's key, allocates a disk, releases its key to the
guest, signs the guest's headers, rotates, reads the image and finally revokes. The guest
(this test) writes a secret through it. Then the provider's SQLite store, its DEBUG log, the
HSM's token files and a ``gcore`` dump of the live process are searched for the tenant keys,
the data key, the derived block keys and the secret.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tenantry.keys import (
    DataKey,
    OaepHash,
    RecipientKey,
    ReleasedKey,
    WrappingKey,
    generate_tenant_key,
    wrap_tenant_key,
)
from tenantry.keys.disk import DiskHeader, DiskIdentity, EncryptedDisk
from tenantry.keys.disk.image import block_key
from tenantry.keys.pkcs11 import Pkcs11Vault
from tenantry.service import Service
from tests.helpers.specs import estate_from
from tests.integration.keys.conftest import OPERATOR, SoftHsm, require_tool, wipe_tenant_keys

ROOT = Path(__file__).parents[3]
SECRET = b"PLAINTEXT-MARKER acme: the recipe is 3 parts gin, 1 part vermouth"


class ProviderProcess:
    """The provider's key service in a child process."""

    def __init__(self, store: str, log: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("provider_process.py")), store, str(log)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **env, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"},
            cwd=ROOT,
        )

    def call(self, op: str, **arguments: Any) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
        self.process.stdin.flush()
        reply: dict[str, Any] = json.loads(self.process.stdout.readline())
        assert "error" not in reply or op in {"release", "seal"}, reply
        return reply

    def core(self, directory: Path) -> bytes:
        prefix = directory / "core"
        subprocess.run(
            ["gcore", "-o", str(prefix), str(self.process.pid)], check=True, capture_output=True
        )
        return Path(f"{prefix}.{self.process.pid}").read_bytes()

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def provider_process(
    softhsm: SoftHsm, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[ProviderProcess, Path]]:
    require_tool(request, "gcore", "gdb")
    store = f"sqlite:///{tmp_path / 'provider.db'}"
    service = Service.open(store)
    service.apply(OPERATOR, estate_from())
    service.close()
    process = ProviderProcess(store, tmp_path / "provider.log", softhsm.env())
    yield process, tmp_path
    process.stop()
    vault = Pkcs11Vault(softhsm.module, softhsm.token, softhsm.pin)
    vault.wrapping_key()
    wipe_tenant_keys(softhsm)
    vault.close()


class _RemoteSealer:
    def __init__(self, provider: ProviderProcess, recipient: RecipientKey) -> None:
        self.provider = provider
        self.recipient = recipient

    def sign_header(self, header: DiskHeader) -> bytes:
        reply = self.provider.call(
            "seal",
            guest="acme/web",
            host="h1",
            recipient=self.recipient.public_der.hex(),
            header=header.model_dump_json(),
        )
        return bytes.fromhex(reply["signature"])


def _open_as_guest(
    provider: ProviderProcess, path: Path, disk_id: str, writable: bool
) -> tuple[EncryptedDisk, DataKey]:
    recipient = RecipientKey.generate()
    provider.call("trust", host="h1", recipient=recipient.fingerprint)
    reply = provider.call(
        "release",
        disk_id=disk_id,
        guest="acme/web",
        host="h1",
        recipient=recipient.public_der.hex(),
    )
    released = ReleasedKey(
        disk_id=disk_id,
        tenant=reply["tenant"],
        guest=reply["guest"],
        disk=reply["disk"],
        wrapped=bytes.fromhex(reply["wrapped"]),
        oaep_hash=OaepHash(reply["oaep_hash"]),
        recipient=reply["recipient"],
        generation=reply["generation"],
        signing_key=bytes.fromhex(reply["signing_key"]),
    )
    key = recipient.open(released)
    disk = EncryptedDisk.open(
        path,
        key=key,
        identity=DiskIdentity("acme", "web", "root", disk_id),
        signing_key=released.signing_key,
        min_generation=released.generation,
        signer=_RemoteSealer(provider, recipient) if writable else None,
    )
    return disk, key


def _forms(secret: bytes) -> list[bytes]:
    return [secret, secret.hex().encode(), secret.hex().upper().encode()]


def test_provider_side_never_holds_a_plaintext_key_or_data(
    provider_process: tuple[ProviderProcess, Path], softhsm: SoftHsm
) -> None:
    """Store file, log, token files and a core dump of the provider hold no key and no data."""
    provider, tmp = provider_process
    wrapping = WrappingKey.from_pem(provider.call("wrapping-key")["pem"])
    first, second = generate_tenant_key(), generate_tenant_key()
    provider.call("import", tenant="acme", blob=wrap_tenant_key(wrapping, first).to_pem())
    created = provider.call(
        "create-disk", guest="acme/web", disk="root", datastores=str(tmp / "ds"), size=1 << 20
    )
    path, disk_id = Path(created["path"]), created["disk_id"]

    disk, key = _open_as_guest(provider, path, disk_id, writable=True)
    with disk:
        disk.write(8192, SECRET)
        disk.flush()
    provider.call("rotate", tenant="acme", blob=wrap_tenant_key(wrapping, second).to_pem())
    disk, _ = _open_as_guest(provider, path, disk_id, writable=False)
    with disk:
        assert disk.read(8192, len(SECRET)) == SECRET
    assert provider.call("provider-reads", path=str(path), tenant="acme") == {
        "size": path.stat().st_size,
        "ok": True,
    }
    assert provider.call(
        "admin-attempts", tenant="acme", blob=wrap_tenant_key(wrapping, first).to_pem()
    ) == {"refused": 2}
    assert provider.call("revoke", tenant="acme") == {"shredded": 1}
    assert provider.call(
        "release",
        disk_id=disk_id,
        guest="acme/web",
        host="h1",
        recipient=RecipientKey.generate().public_der.hex(),
    ) == {"refused": "revoked"}

    secrets = {
        "tenant key v1": first,
        "tenant key v2": second,
        "data key": key.secret_bytes(),
        "block key": block_key(key, disk_id, 0),
        "secret data": SECRET,
    }
    places = {
        "core dump": provider.core(tmp),
        "store": b"".join(p.read_bytes() for p in tmp.glob("provider.db*")),
        "log": (tmp / "provider.log").read_bytes(),
        "token files": b"".join(p.read_bytes() for p in softhsm.tokens.rglob("*") if p.is_file()),
        "disk image": path.read_bytes(),
    }
    assert len(places["core dump"]) > 1 << 20 and b"tenantry" in places["core dump"]
    assert b"keys.release" in places["store"] and b"DEBUG" in places["log"]
    found = [
        f"{name} in {place}"
        for name, secret in secrets.items()
        for place, data in places.items()
        for form in _forms(secret)
        if form in data
    ]
    assert found == []
    # Positive control: the dump does hold what the process handled (the disk's id).
    assert disk_id.encode() in places["core dump"]

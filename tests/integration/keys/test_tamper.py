"""Tampering with a disk the HSM provisioned and signs: every attack is caught on reopen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tenantry.errors import DataIntegrityError
from tenantry.keys import RecipientKey
from tenantry.keys.disk import Geometry, read_header, verify_image
from tenantry.service import open_guest_disk
from tests.integration.keys.conftest import ACME_WEB, OPERATOR, Provider, TrustFor

BS = 4096
BLOCKS = {b: bytes([65 + b]) * BS for b in range(4)}


def _guest_write(
    provider: Provider, trust_h1: TrustFor, path: Path, blocks: dict[int, bytes]
) -> None:
    recipient = RecipientKey.generate()
    keys = provider.keys(trust_h1(recipient))
    with open_guest_disk(keys, path, ACME_WEB, "h1", recipient, writable=True) as disk:
        for block, data in blocks.items():
            disk.write_block(block, data)
        disk.flush()


def _guest_read_all(provider: Provider, trust_h1: TrustFor, path: Path) -> list[bytes]:
    recipient = RecipientKey.generate()
    keys = provider.keys(trust_h1(recipient))
    with open_guest_disk(keys, path, ACME_WEB, "h1", recipient, writable=False) as disk:
        return [disk.read_block(b) for b in BLOCKS]


def _flip_ciphertext(path: Path, g: Geometry, _old: bytes) -> None:
    raw = bytearray(path.read_bytes())
    raw[g.slot_offset(1) + 100] ^= 0x80
    path.write_bytes(bytes(raw))


def _swap_blocks(path: Path, g: Geometry, _old: bytes) -> None:
    raw = bytearray(path.read_bytes())
    s1, s2, n = g.slot_offset(1), g.slot_offset(2), g.slot_size
    raw[s1 : s1 + n], raw[s2 : s2 + n] = raw[s2 : s2 + n], raw[s1 : s1 + n]
    e1, e2 = g.table_offset + 36, g.table_offset + 72
    raw[e1 : e1 + 36], raw[e2 : e2 + 36] = raw[e2 : e2 + 36], raw[e1 : e1 + 36]
    path.write_bytes(bytes(raw))


def _replay_block(path: Path, g: Geometry, old: bytes) -> None:
    raw = bytearray(path.read_bytes())
    s, e = g.slot_offset(1), g.table_offset + 36
    raw[s : s + g.slot_size] = old[s : s + g.slot_size]
    raw[e : e + 36] = old[e : e + 36]
    path.write_bytes(bytes(raw))


def _truncate(path: Path, g: Geometry, _old: bytes) -> None:
    with path.open("r+b") as file:
        file.truncate(g.file_size - 1)


ATTACKS: dict[str, Callable[[Path, Geometry, bytes], None]] = {
    "tampered": _flip_ciphertext,
    "swapped": _swap_blocks,
    "replayed": _replay_block,
    "truncated": _truncate,
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_attack_on_a_sealed_disk_is_detected(
    provider: Provider, trust_h1: TrustFor, attack: str
) -> None:
    """The untouched disk reads back; after the attack the guest's read fails and verify
    reports a problem."""
    provider.onboard("acme")
    path = provider.create_disk(size=16 * BS)
    _guest_write(provider, trust_h1, path, BLOCKS)
    old = path.read_bytes()
    _guest_write(provider, trust_h1, path, {1: b"z" * BS})
    assert _guest_read_all(provider, trust_h1, path)[1] == b"z" * BS
    ATTACKS[attack](path, read_header(path).geometry, old)
    with pytest.raises(DataIntegrityError):
        _guest_read_all(provider, trust_h1, path)
    public = provider.keys().signing_key(OPERATOR, "acme")
    report = verify_image(path, signing_key=public)
    if attack == "tampered":  # only the data key can tell altered ciphertext
        assert report.ok
    else:
        assert not report.ok

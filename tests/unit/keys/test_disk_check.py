"""Whole-image verification: a clean image passes; each kind of damage is named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tenantry.keys import DataKey
from tenantry.keys.disk import read_header, verify_image
from tests.helpers.disks import SampleDisk, SoftSigner, make_disk

BS = 4096


@pytest.fixture
def disk(tmp_path: Path) -> SampleDisk:
    made = make_disk(tmp_path, size=1024 * BS)
    with made.open() as opened:
        for block in (0, 1, 2, 300, 1023):
            opened.write_block(block, os.urandom(BS))
        opened.flush()
    return made


def _poke(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b") as file:
        file.seek(offset)
        file.write(data)


def test_clean_image_verifies_with_and_without_the_key(disk: SampleDisk) -> None:
    """Signature, root, tree and zeros check out; with the key every block authenticates."""
    without = verify_image(disk.path, signing_key=disk.signer.public)
    assert without.ok and without.written == 5 and without.authenticated == 0
    full = verify_image(disk.path, signing_key=disk.signer.public, key=disk.key)
    assert full.ok and full.authenticated == 5


def test_changed_table_entry_fails_the_root(disk: SampleDisk) -> None:
    """A changed GCM tag in the block table does not match the signed root."""
    geometry = read_header(disk.path).geometry
    _poke(disk.path, geometry.table_offset + 300 * 36 + 30, b"\xff")
    report = verify_image(disk.path, signing_key=disk.signer.public)
    assert "the block table does not match the signed root" in report.problems


def test_changed_stored_tree_node_is_reported(disk: SampleDisk) -> None:
    """A corrupted cached Merkle node is found, though the root itself still matches."""
    geometry = read_header(disk.path).geometry
    level = geometry.chunk_level
    _poke(disk.path, geometry.node_offset(level, 0), b"\x01" * 32)
    report = verify_image(disk.path, signing_key=disk.signer.public)
    assert report.problems == ("1 stored Merkle nodes do not match the block table",)


def test_bytes_in_never_written_blocks_are_reported(disk: SampleDisk) -> None:
    """Residual or planted bytes where nothing was written are not what the guest wrote."""
    geometry = read_header(disk.path).geometry
    _poke(disk.path, geometry.slot_offset(500), b"\xa5" * 16)
    report = verify_image(disk.path, signing_key=disk.signer.public)
    assert report.problems == ("1 never-written blocks hold non-zero bytes",)


def test_changed_ciphertext_is_found_only_with_the_key(disk: SampleDisk) -> None:
    """Without the key ciphertext cannot be checked; with it the block is named."""
    geometry = read_header(disk.path).geometry
    _poke(disk.path, geometry.slot_offset(2), b"\x00\x01")
    assert verify_image(disk.path, signing_key=disk.signer.public).ok
    report = verify_image(disk.path, signing_key=disk.signer.public, key=disk.key)
    assert any("block 2 fails authentication" in p for p in report.problems)


def test_wrong_key_fails_every_written_block(disk: SampleDisk) -> None:
    """Another data key authenticates nothing."""
    report = verify_image(disk.path, signing_key=disk.signer.public, key=DataKey(os.urandom(32)))
    assert report.authenticated == 0 and len(report.problems) == 5


def test_truncated_and_foreign_images_are_reported(disk: SampleDisk, tmp_path: Path) -> None:
    """Truncation, another signer and a file that is no image at all each give one problem."""
    with disk.path.open("r+b") as file:
        file.truncate(disk.path.stat().st_size - 1)
    assert "truncated" in verify_image(disk.path, signing_key=disk.signer.public).problems[0]
    assert "signed by" in verify_image(disk.path, signing_key=SoftSigner().public).problems[0]
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x7fELF" + bytes(5000))
    assert "bad magic" in verify_image(junk, signing_key=disk.signer.public).problems[0]


def test_rolled_back_image_is_reported(disk: SampleDisk) -> None:
    """An image older than the newest sealed generation is reported as rolled back."""
    report = verify_image(disk.path, signing_key=disk.signer.public, min_generation=2)
    assert "rolled back" in report.problems[0]

"""Encrypted disk images: what a guest wrote reads back; anything else is detected."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenantry.errors import DataIntegrityError, InputError
from tenantry.keys import DataKey
from tenantry.keys.disk import DiskIdentity, EncryptedDisk, Geometry, read_header
from tests.helpers.disks import SampleDisk, SoftSigner, make_disk

BS = 4096
SECRET = b"tenant secret: the quarterly numbers"


def _flip(path: Path, offset: int) -> None:
    with path.open("r+b") as file:
        file.seek(offset)
        byte = file.read(1)
        file.seek(offset)
        file.write(bytes([byte[0] ^ 0x01]))


def _copy_range(
    src: Path, dst: Path, offset: int, length: int, dst_offset: int | None = None
) -> None:
    with src.open("rb") as file:
        file.seek(offset)
        data = file.read(length)
    with dst.open("r+b") as file:
        file.seek(offset if dst_offset is None else dst_offset)
        file.write(data)


def _written(disk: SampleDisk, blocks: dict[int, bytes]) -> None:
    with disk.open() as opened:
        for block, data in blocks.items():
            opened.write(block * BS, data)
        opened.flush()


@pytest.fixture(params=[True, False], ids=["mapped", "pread"])
def disk(tmp_path: Path, request: pytest.FixtureRequest) -> SampleDisk:
    """A 256-block disk, opened with each of the two block I/O paths."""
    made = make_disk(tmp_path, size=256 * BS)
    made.mapped = request.param
    return made


def test_written_bytes_read_back_after_reopening(disk: SampleDisk) -> None:
    """Bytes written at any offset, across block boundaries, read back after a reopen."""
    payload = os.urandom(3 * BS + 100)
    with disk.open() as opened:
        opened.write(BS - 50, payload)
        header = opened.flush()
    assert header.generation == 1
    assert header.writes == 5
    with disk.open(writable=False) as opened:
        assert opened.read(BS - 50, len(payload)) == payload
        assert opened.read(0, BS - 50) == bytes(BS - 50)


def test_never_written_blocks_read_as_zeros(disk: SampleDisk) -> None:
    """A new disk reads as zeros everywhere, without touching any key."""
    with disk.open(writable=False) as opened:
        assert opened.read(0, opened.size) == bytes(opened.size)


def test_ciphertext_on_disk_holds_no_plaintext(disk: SampleDisk) -> None:
    """The image file never contains what the guest wrote."""
    _written(disk, {3: SECRET * 10})
    assert SECRET not in disk.path.read_bytes()


def test_tampered_ciphertext_byte_fails_authentication(disk: SampleDisk) -> None:
    """Flipping one bit of a block's ciphertext makes that block unreadable."""
    _written(disk, {7: SECRET})
    geometry = read_header(disk.path).geometry
    _flip(disk.path, geometry.slot_offset(7) + 3)
    with disk.open(writable=False) as opened:
        with pytest.raises(DataIntegrityError, match="block 7 fails authentication"):
            opened.read_block(7)
        assert opened.read_block(8) == bytes(BS)


def test_swapped_blocks_are_detected(disk: SampleDisk) -> None:
    """Exchanging two blocks (data and table entries) breaks the signed root."""
    _written(disk, {1: b"A" * BS, 2: b"B" * BS})
    geometry = read_header(disk.path).geometry
    raw = bytearray(disk.path.read_bytes())
    d1, d2, slot = geometry.slot_offset(1), geometry.slot_offset(2), geometry.slot_size
    raw[d1 : d1 + slot], raw[d2 : d2 + slot] = raw[d2 : d2 + slot], raw[d1 : d1 + slot]
    t1, t2 = geometry.table_offset + 36, geometry.table_offset + 72
    raw[t1 : t1 + 36], raw[t2 : t2 + 36] = raw[t2 : t2 + 36], raw[t1 : t1 + 36]
    disk.path.write_bytes(bytes(raw))
    with (
        disk.open(writable=False) as opened,
        pytest.raises(DataIntegrityError, match="signed root"),
    ):
        opened.read_block(1)


def test_swapped_ciphertext_only_fails_authentication(disk: SampleDisk) -> None:
    """Moving only the ciphertext to another position fails GCM (block number in the AAD)."""
    _written(disk, {1: b"A" * BS, 2: b"B" * BS})
    geometry = read_header(disk.path).geometry
    _copy_range(
        disk.path, disk.path, geometry.slot_offset(1), geometry.slot_size, geometry.slot_offset(2)
    )
    with disk.open(writable=False) as opened:
        assert opened.read_block(1) == b"A" * BS
        with pytest.raises(DataIntegrityError, match="block 2"):
            opened.read_block(2)


def test_block_copied_from_another_disk_of_the_same_key_fails(tmp_path: Path) -> None:
    """Even under the same data key, a block from another disk fails (disk id in the AAD)."""
    key = DataKey(os.urandom(32))
    signer = SoftSigner()
    first = make_disk(tmp_path, "first", size=16 * BS, key=key, signer=signer)
    second = make_disk(tmp_path, "second", size=16 * BS, key=key, signer=signer)
    _written(first, {0: SECRET.ljust(BS, b".")})
    _written(second, {0: b"x" * BS})
    geometry = read_header(first.path).geometry
    _copy_range(first.path, second.path, geometry.slot_offset(0), geometry.slot_size)
    _copy_range(first.path, second.path, geometry.table_offset, 36)
    with second.open(writable=False) as opened, pytest.raises(DataIntegrityError):
        opened.read_block(0)


def test_replayed_older_block_is_detected(disk: SampleDisk) -> None:
    """Restoring an older version of a block (data and entry) breaks the signed root."""
    _written(disk, {5: b"old!" * (BS // 4)})
    geometry = read_header(disk.path).geometry
    raw = disk.path.read_bytes()
    old_data = raw[geometry.slot_offset(5) : geometry.slot_offset(6)]
    old_entry = raw[geometry.table_offset + 5 * 36 : geometry.table_offset + 6 * 36]
    _written(disk, {5: b"new!" * (BS // 4)})
    with disk.path.open("r+b") as file:
        file.seek(geometry.slot_offset(5))
        file.write(old_data)
        file.seek(geometry.table_offset + 5 * 36)
        file.write(old_entry)
    with disk.open(writable=False) as opened, pytest.raises(DataIntegrityError, match="replayed"):
        opened.read_block(5)


def test_whole_image_rollback_is_detected_by_generation(disk: SampleDisk) -> None:
    """An older, correctly signed image is refused when a newer generation was sealed."""
    _written(disk, {0: b"v1".ljust(BS, b"\0")})
    old = disk.path.read_bytes()
    _written(disk, {0: b"v2".ljust(BS, b"\0")})
    disk.path.write_bytes(old)
    with pytest.raises(DataIntegrityError, match="rolled back"):
        disk.open(writable=False, min_generation=2)
    with disk.open(writable=False, min_generation=1) as opened:
        assert opened.read(0, 2) == b"v1"


def test_truncated_image_is_refused(disk: SampleDisk) -> None:
    """A file shorter than its geometry says is refused at open."""
    _written(disk, {255: SECRET})
    with disk.path.open("r+b") as file:
        file.truncate(disk.path.stat().st_size - BS)
    with pytest.raises(DataIntegrityError, match="truncated"):
        disk.open(writable=False)


def test_extended_image_is_refused(disk: SampleDisk) -> None:
    """A file longer than its geometry says is refused at open."""
    with disk.path.open("ab") as file:
        file.write(b"\0" * BS)
    with pytest.raises(DataIntegrityError, match="extended"):
        disk.open(writable=False)


def test_image_of_another_disk_is_refused(tmp_path: Path) -> None:
    """Opening an image under another disk's identity fails, even with a valid signature."""
    disk = make_disk(tmp_path)
    other = DiskIdentity("acme", "web", "root", "0" * 32)
    with pytest.raises(DataIntegrityError, match="not acme/web/root"):
        EncryptedDisk.open(disk.path, key=disk.key, identity=other, signing_key=disk.signer.public)


def test_header_signed_by_another_key_is_refused(disk: SampleDisk) -> None:
    """A header signed by anyone but the tenant's key is refused."""
    with pytest.raises(DataIntegrityError, match="signed by"):
        EncryptedDisk.open(
            disk.path, key=disk.key, identity=disk.identity, signing_key=SoftSigner().public
        )


def test_edited_header_field_breaks_the_signature(disk: SampleDisk) -> None:
    """Changing the block count in the header (and fixing the JSON) fails the signature."""
    raw = disk.path.read_bytes()
    edited = raw.replace(b'"block_count":256', b'"block_count":128', 1)
    assert edited != raw
    disk.path.write_bytes(edited)
    with pytest.raises(DataIntegrityError, match="signature"):
        disk.open(writable=False)


def test_wrong_data_key_reads_nothing(disk: SampleDisk) -> None:
    """With another data key every written block fails; unwritten ones stay zeros."""
    _written(disk, {0: SECRET.ljust(BS, b"\0")})
    wrong = SampleDisk(disk.path, disk.identity, DataKey(os.urandom(32)), disk.signer, disk.mapped)
    with wrong.open(writable=False) as opened:
        with pytest.raises(DataIntegrityError):
            opened.read_block(0)
        assert opened.read_block(1) == bytes(BS)


def test_read_only_disk_refuses_writes(disk: SampleDisk) -> None:
    """Without a header signer the disk cannot be changed."""
    with disk.open(writable=False) as opened, pytest.raises(InputError, match="read-only"):
        opened.write(0, b"x")


def test_out_of_range_io_is_refused(disk: SampleDisk) -> None:
    """Reads and writes past the end are input errors and change nothing."""
    with disk.open() as opened:
        with pytest.raises(InputError, match="outside the disk"):
            opened.write(opened.size - 1, b"xy")
        with pytest.raises(InputError, match="outside the disk"):
            opened.read(-1, 1)
    assert read_header(disk.path).generation == 0


def test_large_sparse_disk_opens_without_reading_its_table(tmp_path: Path) -> None:
    """A 1 TiB image is allocated sparse and its last block is usable at once."""
    disk = make_disk(tmp_path, size=1 << 40, block_size=1 << 16)
    assert disk.path.stat().st_blocks * 512 < 1 << 20
    with disk.open() as opened:
        opened.write(opened.size - 10, b"0123456789")
        opened.flush()
    with disk.open(writable=False) as opened:
        assert opened.read(opened.size - 10, 10) == b"0123456789"
    assert Geometry(1 << 16, 1 << 24).height == 24


@settings(max_examples=60, deadline=None)
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_any_flipped_bit_never_yields_wrong_plaintext(
    tmp_path_factory: pytest.TempPathFactory, position: int, bit: int
) -> None:
    """Flip any bit of a written image: open or read fails, or the data reads back unchanged."""
    directory = tmp_path_factory.mktemp("flip")
    disk = make_disk(directory, size=8 * BS)
    blocks = {0: os.urandom(BS), 5: os.urandom(BS)}
    _written(disk, blocks)
    raw = bytearray(disk.path.read_bytes())
    raw[position % len(raw)] ^= 1 << bit
    disk.path.write_bytes(bytes(raw))
    try:
        with disk.open(writable=False) as opened:
            contents = [opened.read_block(b) for b in range(8)]
    except DataIntegrityError:
        return
    assert contents == [blocks.get(b, bytes(BS)) for b in range(8)]

"""No residual data on allocation (THREATS row 44, FDP_RIP_EXT.2).

On a loop-mounted ext4 filled past half with 0xA5 and then emptied, a tenant disk of that
size allocated through tenantry (sparse, and thick with posix_fallocate) reads as zeros
everywhere except its header.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tenantry.keys.disk import read_header
from tenantry.keys.disk.layout import HEADER_SIZE
from tests.integration.keys.conftest import ACME_WEB, OPERATOR, Provider

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(
        shutil.which("mkfs.ext4") is None or shutil.which("mount") is None,
        reason="mkfs.ext4 and mount are needed: apt-get install e2fsprogs mount",
    ),
]
FILESYSTEM = 64 << 20
MARK = 0xA5


@pytest.fixture
def dirty_filesystem(tmp_path: Path) -> Iterator[Path]:
    """An ext4 on a loop device whose free blocks hold 0xA5 from a deleted file."""
    backing = tmp_path / "ext4.img"
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    with backing.open("wb") as file:
        file.truncate(FILESYSTEM)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(backing)], check=True)
    subprocess.run(["mount", "-o", "loop", str(backing), str(mountpoint)], check=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)


def _fill_and_delete(mountpoint: Path) -> int:
    free = shutil.disk_usage(mountpoint).free
    size = int(free * 0.8) // (1 << 20) << 20
    assert size > FILESYSTEM // 2
    junk = mountpoint / "previous-tenant.bin"
    chunk = bytes([MARK]) * (1 << 20)
    with junk.open("wb") as file:
        for _ in range(size >> 20):
            file.write(chunk)
        file.flush()
        os.fsync(file.fileno())
    junk.unlink()
    os.sync()
    return size


def _scan(path: Path) -> tuple[int, int]:
    """(bytes equal to the mark, non-zero bytes) after the header."""
    marks = nonzero = 0
    with path.open("rb") as file:
        file.seek(HEADER_SIZE)
        while chunk := file.read(1 << 20):
            marks += chunk.count(MARK)
            nonzero += len(chunk) - chunk.count(0)
    return marks, nonzero


@pytest.mark.parametrize("thick", [False, True], ids=["sparse", "thick"])
def test_new_disk_exposes_no_residual_bytes(
    provider: Provider, dirty_filesystem: Path, tmp_path: Path, thick: bool
) -> None:
    """Every byte after the header of a new disk is zero, on blocks that held 0xA5."""
    size = _fill_and_delete(dirty_filesystem)
    backing = (tmp_path / "ext4.img").read_bytes()
    assert backing.count(bytes([MARK]) * 4096) > (FILESYSTEM // 2) // 4096  # the residue is there
    provider.onboard("acme")
    datastores = dirty_filesystem / "datastores"
    path, header = provider.keys().create_disk(
        OPERATOR, ACME_WEB, "root", datastores, size=size - (2 << 20), preallocate=thick
    )
    assert read_header(path) == header
    if thick:
        assert path.stat().st_blocks * 512 >= header.geometry.file_size
    assert _scan(path) == (0, 0)

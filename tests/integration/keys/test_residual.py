"""No residual data on allocation (THREATS row 44, FDP_RIP_EXT.2).

On a loop-mounted ext4 filled past half with 0xA5 and then emptied, a tenant disk of that
size allocated through tenantry (sparse, and thick with posix_fallocate) reads as zeros
everywhere except its header.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tenantry.keys.disk import read_header
from tenantry.keys.disk.layout import HEADER_SIZE
from tests.integration.keys.conftest import ACME_WEB, OPERATOR, Provider, require_tool

pytestmark = pytest.mark.root
FILESYSTEM = 64 << 20
MARK = 0xA5


@pytest.fixture
def dirty_filesystem(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """An ext4 on a loop device whose free blocks hold 0xA5 from a deleted file."""
    require_tool(request, "mkfs.ext4", "e2fsprogs")
    require_tool(request, "mount", "mount")
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


FILL_SPARSE_DISK = """
import os, sys
from pathlib import Path
from tenantry.errors import UnavailableError
from tests.helpers.disks import make_disk

disk = make_disk(Path(sys.argv[1]), size=int(sys.argv[2]), block_size=1 << 16)
disk.mapped = sys.argv[3] == "mapped"
opened = disk.open()
try:
    for block in range(opened.block_count):
        opened.write_block(block, os.urandom(1 << 16))
except UnavailableError as exc:
    print("refused:", exc)
    sys.exit(0)
print("no error")
sys.exit(1)
"""


@pytest.mark.parametrize("mode", ["mapped", "pread"])
def test_full_datastore_is_an_error_not_a_crash(dirty_filesystem: Path, mode: str) -> None:
    """Writing a sparse disk larger than the free space fails with UnavailableError (never
    SIGBUS through the mapping)."""
    size = shutil.disk_usage(dirty_filesystem).free * 2
    root = Path(__file__).parents[3]
    result = subprocess.run(
        [sys.executable, "-c", FILL_SPARSE_DISK, str(dirty_filesystem), str(size), mode],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": f"{root / 'src'}:{root}"},
        timeout=300,
    )
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr[-2000:])
    assert "no space" in result.stdout

"""Where a block's ciphertext and tag live, and how they are moved: mapped or by syscalls.

Each block occupies a slot of ``block_size + 16`` bytes (ciphertext, then GCM tag). Mapped
slots let AES-GCM encrypt straight into, and decrypt straight out of, the page cache; they
are pre-faulted with ``MADV_POPULATE_WRITE``/``_READ`` so that a full datastore or an I/O
error is an error, not a SIGBUS. Where that is unavailable (older kernels, mappings too
large) ``pread``/``pwrite`` through one scratch buffer do the same job a copy slower.
"""

from __future__ import annotations

import errno
import mmap
import os
import sys
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tenantry.errors import DataIntegrityError, UnavailableError
from tenantry.keys.disk.layout import Geometry

__all__ = ["TAG_SIZE", "FileSlots", "MappedSlots", "Slots", "open_slots"]

TAG_SIZE = 16
# Linux >= 5.14; Python 3.11's mmap module does not name them yet.
_POPULATE_READ = getattr(mmap, "MADV_POPULATE_READ", 22)
_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23)


class Slots(Protocol):
    """Encrypts into and decrypts out of block slots."""

    def seal(self, block: int, cipher: AESGCM, nonce: bytes, aad: bytes, data: memoryview) -> bytes:
        """Encrypt ``data`` into the block's slot; returns the tag."""
        ...

    def open(self, block: int, cipher: AESGCM, nonce: bytes, aad: bytes, out: memoryview) -> bytes:
        """Decrypt the block's slot into ``out`` (InvalidTag if it does not authenticate);
        returns the tag stored in the slot."""
        ...

    def sync(self) -> None: ...

    def close(self) -> None: ...


class FileSlots:
    """Slots moved with pread/pwrite through one scratch buffer."""

    def __init__(self, fd: int, geometry: Geometry, source: str) -> None:
        self._fd = fd
        self._geometry = geometry
        self._source = source
        self._slot = geometry.block_size + TAG_SIZE
        self._scratch = bytearray(self._slot)

    def _offset(self, block: int) -> int:
        return self._geometry.data_offset + block * self._slot

    def seal(self, block: int, cipher: AESGCM, nonce: bytes, aad: bytes, data: memoryview) -> bytes:
        cipher.encrypt_into(nonce, data, aad, self._scratch)
        try:
            written = os.pwrite(self._fd, self._scratch, self._offset(block))
        except OSError as exc:
            raise _io_error(self._source, block, exc) from exc
        if written != self._slot:
            raise UnavailableError(f"{self._source}: no space for block {block} (short write)")
        return bytes(self._scratch[-TAG_SIZE:])

    def open(self, block: int, cipher: AESGCM, nonce: bytes, aad: bytes, out: memoryview) -> bytes:
        try:
            got = os.preadv(self._fd, [self._scratch], self._offset(block))
        except OSError as exc:
            raise _io_error(self._source, block, exc) from exc
        if got != self._slot:
            raise DataIntegrityError(f"{self._source}: block {block} is cut short (truncated)")
        cipher.decrypt_into(nonce, self._scratch, aad, out)
        return bytes(self._scratch[-TAG_SIZE:])

    def sync(self) -> None:
        os.fsync(self._fd)

    def close(self) -> None:
        return


class MappedSlots:
    """Slots in a shared mapping of the data region, pre-faulted before each access."""

    def __init__(self, fd: int, geometry: Geometry, source: str, *, writable: bool) -> None:
        self._geometry = geometry
        self._source = source
        self._slot = geometry.block_size + TAG_SIZE
        access = mmap.ACCESS_WRITE if writable else mmap.ACCESS_READ
        length = geometry.block_count * self._slot
        self._map = mmap.mmap(fd, length, access=access, offset=geometry.data_offset)
        self._view = memoryview(self._map)
        self._fd = fd
        # Prove once that pre-faulting works here; open_slots falls back to FileSlots if not.
        self._map.madvise(_POPULATE_READ, 0, min(length, mmap.PAGESIZE))

    def _slot_view(self, block: int, advice: int) -> memoryview:
        start = block * self._slot
        page = start - start % mmap.PAGESIZE
        try:
            self._map.madvise(advice, page, start + self._slot - page)
        except OSError as exc:
            raise _io_error(self._source, block, exc) from exc
        return self._view[start : start + self._slot]

    def seal(self, block: int, cipher: AESGCM, nonce: bytes, aad: bytes, data: memoryview) -> bytes:
        # Released on the way out, even on error: a live slice would keep the map open.
        with self._slot_view(block, _POPULATE_WRITE) as slot:
            cipher.encrypt_into(nonce, data, aad, slot)
            return bytes(slot[-TAG_SIZE:])

    def open(self, block: int, cipher: AESGCM, nonce: bytes, aad: bytes, out: memoryview) -> bytes:
        with self._slot_view(block, _POPULATE_READ) as slot:
            cipher.decrypt_into(nonce, slot, aad, out)
            return bytes(slot[-TAG_SIZE:])

    def sync(self) -> None:
        self._map.flush()
        os.fsync(self._fd)

    def close(self) -> None:
        self._view.release()
        self._map.close()


def open_slots(
    fd: int, geometry: Geometry, source: str, *, writable: bool, mapped: bool | None
) -> Slots:
    """Mapped slots where the platform allows (``mapped=None``), else file slots."""
    if mapped is False or sys.platform != "linux":
        return FileSlots(fd, geometry, source)
    try:
        return MappedSlots(fd, geometry, source, writable=writable)
    except (OSError, ValueError, OverflowError):
        if mapped:
            raise
        return FileSlots(fd, geometry, source)


def _io_error(source: str, block: int, exc: OSError) -> UnavailableError:
    # EFAULT is how MADV_POPULATE_* reports what would otherwise have been a SIGBUS.
    if exc.errno in {errno.ENOSPC, errno.ENOMEM, errno.EDQUOT, errno.EFAULT}:
        return UnavailableError(
            f"{source}: no space (or an I/O error) on block {block}",
            hint="Free space on the datastore, or allocate disks thick (--thick).",
        )
    return UnavailableError(f"{source}: I/O error on block {block}: {exc.strerror}")

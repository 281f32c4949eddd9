"""Allocating a new disk image: a signed empty header, and nothing but zeros after it.

A new image never exposes bytes a previous user left on the datastore (THREATS row 44):
the file is created empty and extended with ``ftruncate`` (a sparse file reads as zeros) or,
when space must be reserved, with ``posix_fallocate`` (unwritten extents read as zeros).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from tenantry.errors import ConflictError, InputError, UnavailableError
from tenantry.keys.disk.layout import (
    MAX_BLOCK_SIZE,
    MIN_BLOCK_SIZE,
    DiskHeader,
    DiskIdentity,
    Geometry,
    encode_header,
)
from tenantry.keys.disk.tree import default_nodes

__all__ = ["DEFAULT_BLOCK_SIZE", "allocate_image", "empty_header", "new_disk_id"]

DEFAULT_BLOCK_SIZE = 4096


def new_disk_id() -> str:
    """128 random bits, hex: the identity no other disk shares."""
    return secrets.token_hex(16)


def empty_header(identity: DiskIdentity, *, size: int, block_size: int, signer: str) -> DiskHeader:
    """The unsigned generation-0 header of an empty disk of at least ``size`` bytes."""
    if block_size & (block_size - 1) or not MIN_BLOCK_SIZE <= block_size <= MAX_BLOCK_SIZE:
        raise InputError(
            f"block size {block_size} is not a power of two from {MIN_BLOCK_SIZE} to "
            f"{MAX_BLOCK_SIZE}"
        )
    if size <= 0:
        raise InputError(f"disk size {size} must be positive")
    count = -(-size // block_size)
    root = default_nodes(Geometry(block_size, count).height)[-1]
    return DiskHeader(
        tenant=identity.tenant,
        guest=identity.guest,
        disk=identity.disk,
        disk_id=identity.disk_id,
        block_size=block_size,
        block_count=count,
        generation=0,
        writes=0,
        root=root.hex(),
        signer=signer,
    )


def allocate_image(path: Path, header: DiskHeader, *, preallocate: bool = False) -> None:
    """Create ``path`` (which must not exist) holding ``header`` and zeros."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError as exc:
        raise ConflictError(f"{path} already exists; a disk image is never overwritten") from exc
    try:
        size = header.geometry.file_size
        if preallocate:
            os.posix_fallocate(fd, 0, size)
        else:
            os.ftruncate(fd, size)
        os.pwrite(fd, encode_header(header), 0)
        os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise UnavailableError(
            f"cannot allocate {size} bytes for {path}: {exc.strerror}",
            hint="Free space on the datastore or pick another one.",
        ) from exc
    os.close(fd)
    directory = os.open(path.parent, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)

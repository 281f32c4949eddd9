"""Encrypted, signed virtual disks: the file format, allocation, block I/O and verification."""

from tenantry.keys.disk.allocate import (
    DEFAULT_BLOCK_SIZE,
    allocate_image,
    empty_header,
    new_disk_id,
)
from tenantry.keys.disk.check import DiskReport, verify_image
from tenantry.keys.disk.image import EncryptedDisk, HeaderSigner, read_header
from tenantry.keys.disk.layout import DiskHeader, DiskIdentity, Geometry

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "DiskHeader",
    "DiskIdentity",
    "DiskReport",
    "EncryptedDisk",
    "Geometry",
    "HeaderSigner",
    "allocate_image",
    "empty_header",
    "new_disk_id",
    "read_header",
    "verify_image",
]

"""The encrypted disk file format: the signed header and where everything else lives.

::

    0                 header: magic "TNTYDSK" + format byte, u32 length, canonical JSON, zeros
    4096              block table: per block u64 write sequence | 96-bit nonce | GCM tag (36 B)
    tree_offset       Merkle nodes of the upper tree levels (32 B each; zeros = untouched)
    data_offset       one slot per block, in block order: ciphertext (block_size) | GCM tag

The header names the disk (tenant, guest, disk, random disk id), its geometry, its sealed
generation and the Merkle root over the block table, and is signed by the tenant's Ed25519
key. A block that was never written has an all-zero table entry and reads as zeros.
"""

from __future__ import annotations

import hmac
import json
import re
import struct
from dataclasses import dataclass
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tenantry.errors import DataIntegrityError
from tenantry.keys.material import fingerprint
from tenantry.model import Name

__all__ = [
    "ENTRY_SIZE",
    "HEADER_SIZE",
    "DiskHeader",
    "DiskIdentity",
    "Geometry",
    "decode_header",
    "encode_header",
    "verify_header",
]

HEADER_SIZE = 4096
ENTRY_SIZE = 36
PAGE = 4096
MAGIC = b"TNTYDSK\x01"
MIN_BLOCK_SIZE = 4096
MAX_BLOCK_SIZE = 1 << 20
MAX_BLOCKS = 1 << 40
CHUNK_LEVEL = 7
"""Leaves are authenticated in aligned chunks of 2**7 = 128 blocks (one table read)."""
_SIGNING_CONTEXT = b"tenantry disk header v1\n"
_HEX_RE = re.compile(r"^[0-9a-f]*$")


@dataclass(frozen=True)
class DiskIdentity:
    """Whose disk this is: the names, and a random id that no other disk shares."""

    tenant: str
    guest: str
    disk: str
    disk_id: str

    def __str__(self) -> str:
        return f"{self.tenant}/{self.guest}/{self.disk} ({self.disk_id})"


class DiskHeader(BaseModel):
    """The header fields; ``signature`` covers all the others (see ``signed_message``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    format: Literal[1] = 1
    tenant: Name
    guest: Name
    disk: Name
    disk_id: str = Field(min_length=32, max_length=32)
    block_size: int
    block_count: int = Field(ge=1, le=MAX_BLOCKS)
    generation: int = Field(ge=0)
    writes: int = Field(ge=0)
    root: str = Field(min_length=64, max_length=64)
    signer: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    signature: str = Field("", max_length=128)

    @field_validator("disk_id", "root", "signature")
    @classmethod
    def _lower_hex(cls, value: str) -> str:
        if not _HEX_RE.match(value):
            raise ValueError("must be lower-case hex")
        return value

    @field_validator("block_size")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if not MIN_BLOCK_SIZE <= value <= MAX_BLOCK_SIZE or value & (value - 1):
            raise ValueError(f"must be a power of two from {MIN_BLOCK_SIZE} to {MAX_BLOCK_SIZE}")
        return value

    @property
    def identity(self) -> DiskIdentity:
        return DiskIdentity(self.tenant, self.guest, self.disk, self.disk_id)

    @property
    def geometry(self) -> Geometry:
        return Geometry(self.block_size, self.block_count)

    def signed_message(self) -> bytes:
        """Exactly the bytes the tenant's key signs: a context line and the other fields."""
        fields = self.model_dump(exclude={"signature"})
        return _SIGNING_CONTEXT + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Geometry:
    """Where the table, the tree and the data are, for a block size and count."""

    block_size: int
    block_count: int

    @property
    def height(self) -> int:
        """Levels above the leaves; the tree is padded to 2**height leaves."""
        return max(1, (self.block_count - 1).bit_length())

    @property
    def chunk_level(self) -> int:
        return min(CHUNK_LEVEL, self.height)

    @property
    def table_offset(self) -> int:
        return HEADER_SIZE

    @property
    def tree_offset(self) -> int:
        return self.table_offset + _align(self.block_count * ENTRY_SIZE, PAGE)

    def node_offset(self, level: int, index: int) -> int:
        """File offset of a stored tree node (levels chunk_level .. height-1)."""
        before = sum(1 << (self.height - lvl) for lvl in range(self.chunk_level, level))
        return self.tree_offset + (before + index) * 32

    @property
    def stored_levels(self) -> range:
        return range(self.chunk_level, self.height)

    @property
    def data_offset(self) -> int:
        nodes = sum(1 << (self.height - lvl) for lvl in self.stored_levels)
        return _align(self.tree_offset + nodes * 32, self.block_size)

    @property
    def slot_size(self) -> int:
        """Ciphertext and tag of one block, adjacent so that GCM works in place."""
        return self.block_size + 16

    def slot_offset(self, block: int) -> int:
        return self.data_offset + block * self.slot_size

    @property
    def file_size(self) -> int:
        return self.data_offset + self.block_count * self.slot_size


def _align(value: int, to: int) -> int:
    return -(-value // to) * to


def encode_header(header: DiskHeader) -> bytes:
    """The 4096 header bytes."""
    body = json.dumps(header.model_dump(), sort_keys=True, separators=(",", ":")).encode()
    raw = MAGIC + struct.pack(">I", len(body)) + body
    if len(raw) > HEADER_SIZE:  # pragma: no cover - names are at most 63 characters
        raise ValueError("header does not fit in 4096 bytes")
    return raw + bytes(HEADER_SIZE - len(raw))


def decode_header(raw: bytes, *, source: str) -> DiskHeader:
    """Parse and check the header bytes; DataIntegrityError says what is wrong."""
    if len(raw) < HEADER_SIZE:
        raise DataIntegrityError(f"{source}: {len(raw)} bytes, shorter than the header")
    if raw[: len(MAGIC) - 1] != MAGIC[:-1]:
        raise DataIntegrityError(f"{source}: not a tenantry disk image (bad magic)")
    if raw[len(MAGIC) - 1] != MAGIC[-1]:
        raise DataIntegrityError(f"{source}: disk format {raw[len(MAGIC) - 1]} is not supported")
    (length,) = struct.unpack_from(">I", raw, len(MAGIC))
    start = len(MAGIC) + 4
    if length > HEADER_SIZE - start:
        raise DataIntegrityError(f"{source}: header length {length} overruns the header")
    body = raw[start : start + length]
    if any(raw[start + length : HEADER_SIZE]):
        raise DataIntegrityError(f"{source}: bytes after the header body are not zero")
    try:
        header = DiskHeader.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        what = (
            "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3])
            if isinstance(exc, ValidationError)
            else "not JSON"
        )
        raise DataIntegrityError(f"{source}: header fields are invalid ({what})") from exc
    if encode_header(header)[: start + length] != raw[: start + length]:
        raise DataIntegrityError(f"{source}: header is not in canonical form")
    return header


def verify_header(header: DiskHeader, public_key: bytes, *, source: str) -> None:
    """Check the tenant's signature over the header; DataIntegrityError if it does not hold."""
    if not hmac.compare_digest(header.signer, fingerprint(public_key)):
        raise DataIntegrityError(
            f"{source}: signed by {header.signer}, "
            f"not by the tenant's key {fingerprint(public_key)}"
        )
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            bytes.fromhex(header.signature), header.signed_message()
        )
    except (InvalidSignature, ValueError) as exc:
        raise DataIntegrityError(f"{source}: the header signature does not verify") from exc

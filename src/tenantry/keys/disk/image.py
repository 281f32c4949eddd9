"""An open encrypted disk: authenticated per-block reads and writes, sealed by a signed header.

Each block is AES-256-GCM with associated data = disk id ‖ block number ‖ write sequence, so
a block moved to another disk or position, or an older version of it, fails to decrypt or
to match the signed Merkle root. The nonce is 96 random bits per write, stored in the block
table: unlike a counter it cannot repeat after a crash, a restored snapshot or a rollback of
the header, and a repeated GCM nonce would leak plaintext and the authentication key.
Random nonces stay within NIST SP 800-38D's bound (2**32 uses of a key) because every
2**31 writes switch to a fresh subkey derived from the data key (HKDF-SHA256, salted with
the disk id).
"""

from __future__ import annotations

import hmac
import os
from pathlib import Path
from typing import Protocol, Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tenantry.errors import DataIntegrityError, InputError
from tenantry.keys.disk.layout import (
    ENTRY_SIZE,
    HEADER_SIZE,
    DiskHeader,
    DiskIdentity,
    decode_header,
    encode_header,
    verify_header,
)
from tenantry.keys.disk.slots import Slots, open_slots
from tenantry.keys.disk.tree import EMPTY_ENTRY, BlockTree
from tenantry.keys.material import DataKey

__all__ = ["EncryptedDisk", "HeaderSigner", "read_header"]

NONCE_SIZE = 12
EPOCH_WRITES = 1 << 31
_AAD_CONTEXT = b"TNTYBLK1"


class HeaderSigner(Protocol):
    """Signs a sealed header with the tenant's key (through the key service's release rules)."""

    def sign_header(self, header: DiskHeader) -> bytes: ...


def read_header(path: Path) -> DiskHeader:
    """The header of an image, parsed but not verified (for tools and provider views)."""
    with path.open("rb") as file:
        return decode_header(file.read(HEADER_SIZE), source=str(path))


def block_key(key: DataKey, disk_id: str, epoch: int) -> bytes:
    """The AES-256-GCM key for one epoch of 2**31 writes of one disk (HKDF-SHA256)."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=bytes.fromhex(disk_id),
        info=b"tenantry disk blocks, epoch " + epoch.to_bytes(4, "big"),
    ).derive(key.secret_bytes())


class EncryptedDisk:
    """A disk image opened with its released data key; not thread-safe."""

    def __init__(
        self,
        path: Path,
        fd: int,
        header: DiskHeader,
        key: DataKey,
        signer: HeaderSigner | None,
        *,
        slots: Slots,
    ) -> None:
        self.path = path
        self._fd = fd
        self._header = header
        self._key = key
        self._signer = signer
        self._geometry = header.geometry
        self._disk_id = bytes.fromhex(header.disk_id)
        self._writes = header.writes
        self._ciphers: dict[int, AESGCM] = {}
        self._tree = BlockTree(
            self._geometry, bytes.fromhex(header.root), self._read_entries, self._read_node
        )
        self._slots = slots
        self._dirty = False

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        key: DataKey,
        identity: DiskIdentity,
        signing_key: bytes,
        min_generation: int = 0,
        signer: HeaderSigner | None = None,
        mapped: bool | None = None,
    ) -> Self:
        """Open ``path`` if it is exactly ``identity``, signed by ``signing_key``, not rolled
        back below ``min_generation`` and not truncated. Without ``signer`` it is read-only.
        ``mapped`` forces (True) or forbids (False) memory-mapped block I/O."""
        flags = os.O_RDWR if signer is not None else os.O_RDONLY
        fd = os.open(path, flags | os.O_CLOEXEC)
        try:
            header = _admit(fd, str(path), identity, signing_key, min_generation)
            slots = open_slots(
                fd, header.geometry, str(path), writable=signer is not None, mapped=mapped
            )
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd, header, key, signer, slots=slots)

    # ------------------------------------------------------------------ properties

    @property
    def header(self) -> DiskHeader:
        return self._header

    @property
    def size(self) -> int:
        return self._geometry.block_count * self._geometry.block_size

    @property
    def block_size(self) -> int:
        return self._geometry.block_size

    @property
    def block_count(self) -> int:
        return self._geometry.block_count

    # ------------------------------------------------------------------ blocks

    def read_block(self, block: int) -> bytes:
        """The plaintext of one block (zeros if never written)."""
        out = bytearray(self.block_size)
        self._read_into(block, memoryview(out))
        return bytes(out)

    def write_block(self, block: int, data: bytes | bytearray | memoryview) -> None:
        """Encrypt and write one whole block."""
        self._check_block(block)
        if len(data) != self.block_size:
            raise InputError(
                f"block {block}: {len(data)} bytes, the block size is {self.block_size}"
            )
        if self._signer is None:
            raise InputError(f"{self.path}: opened read-only (no header signer)")
        seq = self._writes + 1
        nonce = os.urandom(NONCE_SIZE)
        tag = self._slots.seal(
            block, self._cipher(seq), nonce, self._aad(block, seq), memoryview(data).cast("B")
        )
        self._writes = seq
        self._tree.set_entry(block, seq.to_bytes(8, "big") + nonce + tag)
        self._dirty = True

    def _read_into(self, block: int, out: memoryview) -> None:
        self._check_block(block)
        entry = self._tree.entry(block)
        if entry == EMPTY_ENTRY:
            out[:] = bytes(len(out))
            return
        seq = int.from_bytes(entry[:8], "big")
        nonce, tag = entry[8 : 8 + NONCE_SIZE], entry[8 + NONCE_SIZE :]
        try:
            stored = self._slots.open(block, self._cipher(seq), nonce, self._aad(block, seq), out)
        except InvalidTag as exc:
            raise DataIntegrityError(
                f"{self.path}: block {block} fails authentication (altered, or moved from "
                "another disk or position)"
            ) from exc
        if not hmac.compare_digest(stored, tag):  # pragma: no cover - GCM failed first
            raise DataIntegrityError(f"{self.path}: block {block} carries another tag")

    # ------------------------------------------------------------------ bytes

    def read(self, offset: int, length: int) -> bytes:
        """``length`` plaintext bytes from ``offset``."""
        out = bytearray(length)
        self.readinto(offset, out)
        return bytes(out)

    def readinto(self, offset: int, out: bytearray | memoryview) -> int:
        """Fill ``out`` with plaintext from ``offset`` (whole blocks are decrypted in place)."""
        view = memoryview(out).cast("B")
        length = len(view)
        self._check_range(offset, length)
        bs = self.block_size
        position = offset
        while position < offset + length:
            block, skip = divmod(position, bs)
            take = min(bs - skip, offset + length - position)
            target = view[position - offset : position - offset + take]
            if skip == 0 and take == bs:
                self._read_into(block, target)
            else:
                target[:] = self.read_block(block)[skip : skip + take]
            position += take
        return length

    def write(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        """Write ``data`` at ``offset`` (partial blocks are read, patched and rewritten)."""
        view = memoryview(data).cast("B")
        self._check_range(offset, len(view))
        bs = self.block_size
        position = offset
        while position < offset + len(view):
            block, skip = divmod(position, bs)
            take = min(bs - skip, offset + len(view) - position)
            part = view[position - offset : position - offset + take]
            if skip == 0 and take == bs:
                self.write_block(block, part)
            else:
                whole = bytearray(self.read_block(block))
                whole[skip : skip + take] = part
                self.write_block(block, whole)
            position += take

    # ------------------------------------------------------------------ sealing

    def flush(self) -> DiskHeader:
        """Write the block table and tree back, then seal a new generation with a signed header."""
        if not self._dirty:
            return self._header
        if self._signer is None:  # pragma: no cover - writes are refused without a signer
            raise InputError(f"{self.path}: opened read-only")
        root = self._tree.root()
        entries, nodes = self._tree.take_dirty()
        geometry = self._geometry
        table = {geometry.table_offset + b * ENTRY_SIZE: e for b, e in entries.items()}
        for first, run in _runs(table, ENTRY_SIZE):
            os.pwrite(self._fd, b"".join(run), first)
        by_offset = {geometry.node_offset(lvl, idx): value for (lvl, idx), value in nodes.items()}
        for first, run in _runs(by_offset, 32):
            os.pwrite(self._fd, b"".join(run), first)
        # Data, table and tree are durable before the header that commits to them.
        self._slots.sync()
        unsigned = self._header.model_copy(
            update={
                "generation": self._header.generation + 1,
                "writes": self._writes,
                "root": root.hex(),
                "signature": "",
            }
        )
        signature = self._signer.sign_header(unsigned)
        header = unsigned.model_copy(update={"signature": signature.hex()})
        os.pwrite(self._fd, encode_header(header), 0)
        os.fsync(self._fd)
        self._header = header
        self._dirty = False
        return header

    def close(self) -> None:
        """Flush pending writes and close the file."""
        if self._fd < 0:
            return
        try:
            if self._dirty:
                self.flush()
        finally:
            self._slots.close()
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EncryptedDisk({self.path}, {self._header.identity})"

    # ------------------------------------------------------------------ internals

    def _cipher(self, seq: int) -> AESGCM:
        epoch = seq // EPOCH_WRITES
        cipher = self._ciphers.get(epoch)
        if cipher is None:
            cipher = self._ciphers[epoch] = AESGCM(
                block_key(self._key, self._header.disk_id, epoch)
            )
        return cipher

    def _aad(self, block: int, seq: int) -> bytes:
        return _AAD_CONTEXT + self._disk_id + block.to_bytes(8, "big") + seq.to_bytes(8, "big")

    def _read_entries(self, first: int, count: int) -> bytes:
        available = max(0, min(count, self.block_count - first))
        raw = os.pread(
            self._fd, available * ENTRY_SIZE, self._geometry.table_offset + first * ENTRY_SIZE
        )
        if len(raw) != available * ENTRY_SIZE:
            raise DataIntegrityError(f"{self.path}: the block table is cut short")
        return raw + bytes((count - available) * ENTRY_SIZE)

    def _read_node(self, level: int, index: int) -> bytes:
        raw = os.pread(self._fd, 32, self._geometry.node_offset(level, index))
        if len(raw) != 32:
            raise DataIntegrityError(f"{self.path}: the Merkle tree is cut short")
        return raw

    def _check_block(self, block: int) -> None:
        if not 0 <= block < self.block_count:
            raise InputError(f"block {block} is outside the disk (0-{self.block_count - 1})")

    def _check_range(self, offset: int, length: int) -> None:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise InputError(
                f"{length} bytes at offset {offset} run outside the disk (size {self.size})"
            )


def _admit(
    fd: int, source: str, identity: DiskIdentity, signing_key: bytes, min_generation: int
) -> DiskHeader:
    header = decode_header(os.pread(fd, HEADER_SIZE, 0), source=source)
    if header.identity != identity:
        raise DataIntegrityError(f"{source}: this image is {header.identity}, not {identity}")
    verify_header(header, signing_key, source=source)
    if header.generation < min_generation:
        raise DataIntegrityError(
            f"{source}: generation {header.generation} is older than the newest sealed "
            f"generation {min_generation} (rolled back)"
        )
    size = os.fstat(fd).st_size
    if size != header.geometry.file_size:
        what = "truncated" if size < header.geometry.file_size else "extended"
        raise DataIntegrityError(
            f"{source}: {size} bytes, expected {header.geometry.file_size} ({what})"
        )
    return header


def _runs(chunks: dict[int, bytes], size: int) -> list[tuple[int, list[bytes]]]:
    """Fixed-size chunks keyed by file offset, grouped into contiguous runs (one write each)."""
    runs: list[tuple[int, list[bytes]]] = []
    for offset in sorted(chunks):
        if runs and runs[-1][0] + len(runs[-1][1]) * size == offset:
            runs[-1][1].append(chunks[offset])
        else:
            runs.append((offset, [chunks[offset]]))
    return runs

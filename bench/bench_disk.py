"""Encrypted disk throughput against raw AES-GCM on the same buffers, in the same run.

    PYTHONPATH=src /work/venv/bin/python bench/bench_disk.py [--dir /dev/shm] [--mib 128]

For each block size the same random buffers are (interleaved, best of 5)
  * encrypted with ``cryptography``'s AESGCM: ``encrypt`` (a new bytes object per block, the
    plain API) and ``encrypt_into`` one reused buffer (the cost of the cipher alone);
  * written to an encrypted disk image (``EncryptedDisk.write_block``) and read back
    (``readinto`` a reused buffer), with nonces, the block table and the Merkle tree.
Sealing (table and tree write-back, fsync, one Ed25519 signature) is timed separately.
Nothing is asserted: the numbers go to stdout as a table and to --json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tenantry.keys import DataKey, fingerprint
from tenantry.keys.disk import (
    DiskHeader,
    DiskIdentity,
    EncryptedDisk,
    allocate_image,
    empty_header,
    new_disk_id,
)

REPEATS = 5


class _Signer:
    def __init__(self) -> None:
        self._key = Ed25519PrivateKey.generate()
        self.public = self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def sign_header(self, header: DiskHeader) -> bytes:
        return self._key.sign(header.signed_message())


def bench_block_size(directory: Path, block_size: int, total: int) -> dict[str, float]:
    count = total // block_size
    buffers = [os.urandom(block_size) for _ in range(count)]
    key = DataKey(os.urandom(32))
    cipher = AESGCM(key.secret_bytes())
    nonce, aad = os.urandom(12), os.urandom(40)
    scratch = bytearray(block_size + 16)
    plain = bytearray(block_size)
    sealed = [cipher.encrypt(nonce, b, aad) for b in buffers]

    def raw_encrypt() -> None:
        for b in buffers:
            cipher.encrypt(nonce, b, aad)

    def raw_encrypt_into() -> None:
        for b in buffers:
            cipher.encrypt_into(nonce, b, aad, scratch)

    def raw_decrypt_into() -> None:
        for c in sealed:
            cipher.decrypt_into(nonce, c, aad, plain)

    signer = _Signer()
    identity = DiskIdentity("bench", "guest", f"disk-{block_size}", new_disk_id())
    header = empty_header(
        identity, size=count * block_size, block_size=block_size, signer=fingerprint(signer.public)
    )
    header = header.model_copy(update={"signature": signer.sign_header(header).hex()})
    path = directory / f"bench-{block_size}.tdisk"
    path.unlink(missing_ok=True)
    allocate_image(path, header)
    disk = EncryptedDisk.open(
        path, key=key, identity=identity, signing_key=signer.public, signer=signer
    )

    def disk_write() -> None:
        for i, b in enumerate(buffers):
            disk.write_block(i, b)

    out = bytearray(block_size)

    def disk_read() -> None:
        for i in range(count):
            disk.readinto(i * block_size, out)

    disk_write()  # first touch allocates the file's pages; measure the steady state
    # Interleaved, best of REPEATS: on a shared machine each peer sees the same contention.
    runs = {
        "raw_encrypt": raw_encrypt,
        "raw_encrypt_into": raw_encrypt_into,
        "disk_write": disk_write,
        "raw_decrypt_into": raw_decrypt_into,
        "disk_read": disk_read,
    }
    results = dict.fromkeys(runs, float("inf"))
    for _ in range(REPEATS):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            results[name] = min(results[name], time.perf_counter() - start)
    start = time.perf_counter()
    disk.flush()
    results["seal"] = time.perf_counter() - start
    disk.close()
    with EncryptedDisk.open(path, key=key, identity=identity, signing_key=signer.public) as again:
        start = time.perf_counter()
        for i in range(count):
            again.readinto(i * block_size, out)
        results["disk_read_cold_tree"] = time.perf_counter() - start
    path.unlink()
    results["bytes"] = float(count * block_size)
    results["blocks"] = float(count)
    return results


COLUMNS = (
    ("block", 8),
    ("raw enc", 9),
    ("raw into", 9),
    ("disk wr", 9),
    ("wr/enc", 7),
    ("wr/into", 8),
    ("raw dec", 9),
    ("disk rd", 9),
    ("rd/dec", 7),
    ("us/blk wr", 10),
    ("us/blk rd", 10),
    ("seal ms", 8),
)


def row(size: int, r: dict[str, float]) -> str:
    """One line of the table for one block size."""
    rate = {
        k: r["bytes"] / r[k] / 1e9
        for k in ("raw_encrypt", "raw_encrypt_into", "raw_decrypt_into", "disk_write", "disk_read")
    }
    cells = [
        str(size),
        f"{rate['raw_encrypt']:.2f}GB",
        f"{rate['raw_encrypt_into']:.2f}GB",
        f"{rate['disk_write']:.2f}GB",
        f"{rate['disk_write'] / rate['raw_encrypt']:.0%}",
        f"{rate['disk_write'] / rate['raw_encrypt_into']:.0%}",
        f"{rate['raw_decrypt_into']:.2f}GB",
        f"{rate['disk_read']:.2f}GB",
        f"{rate['disk_read'] / rate['raw_decrypt_into']:.0%}",
        f"{r['disk_write'] / r['blocks'] * 1e6:.1f}",
        f"{r['disk_read'] / r['blocks'] * 1e6:.1f}",
        f"{r['seal'] * 1e3:.1f}",
    ]
    return " ".join(cell.rjust(width) for cell, (_, width) in zip(cells, COLUMNS, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    # tmpfs by default: the page cache without a device behind it (a private temp dir in it)
    parser.add_argument("--dir", type=Path, default=Path("/dev/shm"), help="where the image goes")  # noqa: S108
    parser.add_argument("--mib", type=int, default=128, help="data per block size (MiB)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(dir=args.dir))
    results: dict[str, dict[str, float]] = {}
    print(f"image directory: {args.dir}; {args.mib} MiB per block size; best of {REPEATS}")
    print(" ".join(name.rjust(width) for name, width in COLUMNS))
    for size in (1 << 20, 1 << 16, 1 << 12):
        results[str(size)] = bench_block_size(directory, size, args.mib << 20)
        print(row(size, results[str(size)]))
    os.rmdir(directory)
    if args.json:
        machine = {
            "cpu": platform.processor() or platform.machine(),
            "python": platform.python_version(),
        }
        report = {"machine": machine, "dir": str(args.dir), "results": results}
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

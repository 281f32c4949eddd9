"""Rebuilding a directory as a power cut would leave it, from what the LD_PRELOAD shim
tests/e2e/assets/power_loss.c recorded (THREATS row 49).

The directory holds, after the cut: the entries of its last synced listing (or, never synced
since the baseline, the baseline's); each file as of its last fsync (else as in the baseline,
else empty: created, never synced). With ``rng``, some of the writes made after a file's last
sync reached the disk anyway: for every 4 KiB page, a random prefix of the writes that touched
it (what write-back of that page at a random moment keeps), independently of other pages and
files. That is how a kernel's page cache reorders unsynced writes; it does not tear a page.
"""

from __future__ import annotations

import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PAGE", "Baseline", "build_shim", "rebuild"]

PAGE = 4096
SHIM = Path(__file__).resolve().parents[1] / "e2e" / "assets" / "power_loss.c"


def build_shim(directory: Path) -> Path:
    """The shim, compiled into ``directory``."""
    library = directory / "power_loss.so"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-O2", "-o", str(library), str(SHIM), "-ldl"], check=True
    )
    return library


@dataclass(frozen=True)
class Baseline:
    """The watched directory before the crashing process started (all of it durable)."""

    inode: int
    entries: dict[str, int]
    contents: dict[int, bytes]

    @classmethod
    def take(cls, root: Path) -> Baseline:
        """Record ``root``'s files (a flat directory) as they are now."""
        files = [p for p in root.iterdir() if p.is_file()]
        return cls(
            inode=root.stat().st_ino,
            entries={p.name: p.stat().st_ino for p in files},
            contents={p.stat().st_ino: p.read_bytes() for p in files},
        )


def rebuild(
    baseline: Baseline, shadow: Path, target: Path, rng: random.Random | None = None
) -> dict[str, int]:
    """Write the post-crash state of the watched directory into ``target``; for each file,
    how many unsynced bytes were kept."""
    target.mkdir(parents=True)
    listing = shadow / "dirs" / str(baseline.inode)
    entries = _listing(listing.read_text()) if listing.exists() else baseline.entries
    kept = {}
    for name, inode in entries.items():
        synced = shadow / "files" / str(inode)
        content = synced.read_bytes() if synced.exists() else baseline.contents.get(inode, b"")
        pending = shadow / "pending" / str(inode)
        if rng is not None and pending.exists():
            content, kept[name] = _replay_some(content, _operations(pending.read_bytes()), rng)
        (target / name).write_bytes(content)
    return kept


def _listing(text: str) -> dict[str, int]:
    entries = {}
    for line in text.splitlines():
        inode, name = line.split(" ", 1)
        entries[name] = int(inode)
    return entries


def _operations(log: bytes) -> list[tuple[int, bytes]]:
    """The pending writes, in order, up to the first truncation (a truncation and what
    follows it are dropped whole: the model keeps no unsynced change of a file's length
    downwards)."""
    writes = []
    at = 0
    while at < len(log):
        end = log.index(b"\n", at)
        op, *numbers = log[at:end].split(b" ")
        at = end + 1
        if op == b"T":
            break
        offset, length = int(numbers[0]), int(numbers[1])
        writes.append((offset, log[at : at + length]))
        at += length
    return writes


def _replay_some(
    content: bytes, writes: list[tuple[int, bytes]], rng: random.Random
) -> tuple[bytes, int]:
    """Apply, page by page, a random prefix of the writes that touched each page."""
    touching: dict[int, int] = {}
    pieces = []  # (page, rank of this write on the page, offset, data)
    for offset, data in writes:
        start = offset
        while start < offset + len(data):
            page = start // PAGE
            end = min((page + 1) * PAGE, offset + len(data))
            rank = touching.get(page, 0)
            touching[page] = rank + 1
            pieces.append((page, rank, start, data[start - offset : end - offset]))
            start = end
    # Each page keeps none, all, or some of its writes: the extremes are the likeliest bugs.
    keep = {page: rng.choice((0, count, rng.randint(0, count))) for page, count in touching.items()}
    result = bytearray(content)
    kept = 0
    for page, rank, start, data in pieces:
        if rank < keep[page]:
            if len(result) < start:
                result += bytes(start - len(result))
            result[start : start + len(data)] = data
            kept += len(data)
    return bytes(result), kept

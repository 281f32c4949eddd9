"""Packet captures (pcap and pcapng, as tcpdump writes them) read with dpkt.

dpkt stays in this module; a broken capture becomes a CaptureError saying what and where.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from struct import error as struct_error

import dpkt

from tenantry.errors import CaptureError

__all__ = ["CapturedFrame", "read_capture"]

DLT_EN10MB = 1
"""The only link type a vNIC capture has: Ethernet."""


@dataclass(frozen=True, slots=True)
class CapturedFrame:
    """One frame of a capture: its position (1-based), timestamp and bytes."""

    number: int
    timestamp: float
    data: bytes


class _ShortReadDetector(io.RawIOBase):
    """A file wrapper that notices a read cut short by the end of the file."""

    def __init__(self, raw: io.BufferedReader) -> None:
        super().__init__()
        self._raw = raw
        self.short = False

    def read(self, size: int | None = -1) -> bytes:
        data = self._raw.read(size)
        if size is not None and size > 0 and 0 < len(data) < size:
            self.short = True
        return data

    def readable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


def read_capture(path: str | Path) -> Iterator[CapturedFrame]:
    """The frames of a pcap or pcapng file, in order; CaptureError if the file is broken."""
    where = str(path)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    except OSError as exc:
        raise CaptureError(f"{where}: cannot open: {exc.strerror}") from exc
    try:
        wrapped = _ShortReadDetector(handle)
        try:
            reader = dpkt.pcap.UniversalReader(wrapped)
        except (ValueError, dpkt.dpkt.Error) as exc:
            raise CaptureError(f"{where}: not a pcap or pcapng file ({exc})") from exc
        link = reader.datalink()
        if link != DLT_EN10MB:
            raise CaptureError(f"{where}: link type {link} is not Ethernet (1)")
        number = 0
        try:
            for timestamp, data in reader:
                if wrapped.short:
                    raise CaptureError(
                        f"{where}: packet {number + 1} is truncated (file cut short)"
                    )
                number += 1
                yield CapturedFrame(number, float(timestamp), bytes(data))
        except (dpkt.dpkt.Error, ValueError, struct_error) as exc:
            raise CaptureError(f"{where}: record {number + 1} is malformed ({exc})") from exc
    finally:
        handle.close()

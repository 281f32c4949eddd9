"""Frames on the wire of the lab: send from inside a guest, and watch every other port.

Sockets are opened with the calling thread inside the guest's namespace and keep working
after it leaves, so one process sends and sniffs for every guest. The observatory is the
oracle of the attacks: one scapy layer-2 socket per watched interface (every guest vNIC, the
fabric's ports), read by one thread into a time-stamped log; an attack asks what arrived
where after it sent.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from scapy.config import conf
from scapy.layers.l2 import Ether
from scapy.packet import Packet

from tenantry.dataplane.lab.namespaces import inside
from tenantry.errors import BackendUnavailableError

__all__ = ["Observatory", "Sender", "Sighting", "WatchPoint"]

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)


@dataclass(frozen=True)
class WatchPoint:
    """An interface to watch: a label (a port name, ``fabric:hv1``), namespace, device."""

    label: str
    netns: str | None
    ifname: str


@dataclass(frozen=True)
class Sighting:
    """A frame that arrived at a watch point."""

    label: str
    raw: bytes
    at: float

    def packet(self) -> Packet:
        return Ether(self.raw)


def _open(netns: str | None, ifname: str) -> Any:
    try:
        with inside(netns):
            return conf.L2socket(iface=ifname, promisc=False)
    except OSError as exc:
        raise BackendUnavailableError(
            f"cannot open a socket on {ifname} in {netns}: {exc}"
        ) from exc


class Observatory:
    """Watches many interfaces at once; ``mark`` then ``since`` gives what arrived meanwhile."""

    def __init__(self, points: Sequence[WatchPoint]) -> None:
        self.points = tuple(points)
        self._sockets = {point.label: _open(point.netns, point.ifname) for point in self.points}
        self._by_fd = {sock.ins.fileno(): label for label, sock in self._sockets.items()}
        self._log: list[Sighting] = []
        self._lock = threading.Lock()
        self._running = True
        self._thread = threading.Thread(target=self._read, name="lab-observatory", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        fds = list(self._by_fd)
        while self._running:
            ready, _, _ = select.select(fds, [], [], 0.05)
            for fd in ready:
                label = self._by_fd[fd]
                try:
                    _, raw, _ = self._sockets[label].recv_raw()
                except OSError:
                    continue
                if raw:
                    with self._lock:
                        self._log.append(Sighting(label, bytes(raw), time.monotonic()))

    def mark(self) -> int:
        with self._lock:
            return len(self._log)

    def since(self, mark: int, settle: float = 0.4) -> list[Sighting]:
        """What arrived after ``mark``, once the wire has been quiet for a moment."""
        time.sleep(settle)
        with self._lock:
            return list(self._log[mark:])

    def close(self) -> None:
        self._running = False
        self._thread.join(timeout=2)
        for sock in self._sockets.values():
            sock.close()


class Sender:
    """Layer-2 sockets inside guests, opened once per interface."""

    def __init__(self) -> None:
        self._sockets: dict[tuple[str | None, str], Any] = {}

    def send(
        self, netns: str | None, ifname: str, frames: Iterable[Packet | bytes], gap: float = 0.0
    ) -> int:
        key = (netns, ifname)
        if key not in self._sockets:
            self._sockets[key] = _open(netns, ifname)
        sock = self._sockets[key]
        sent = 0
        for frame in frames:
            if sent and gap:
                time.sleep(gap)
            sock.send(frame)
            sent += 1
        return sent

    def close(self) -> None:
        for sock in self._sockets.values():
            sock.close()
        self._sockets = {}

"""Connection tracking: an allowed packet opens a connection whose replies pass, until it idles
out. Fragments of a judged first fragment follow its verdict."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["TIMEOUTS", "ConnTrack", "Connection", "FlowKey"]

FlowKey = tuple[int, int, int, int, int, int]
"""(version, source, destination, protocol, source port or ICMP id, destination port)."""

TIMEOUTS = {6: 3600.0, 17: 60.0, 1: 30.0, 58: 30.0}
"""Idle timeouts in seconds by IP protocol; others use DEFAULT_TIMEOUT."""
DEFAULT_TIMEOUT = 60.0
FRAGMENT_TIMEOUT = 30.0
ECHO_REPLY = {8: 0, 128: 129}
"""ICMP echo request type -> its reply type (v4, v6)."""


@dataclass(slots=True)
class Connection:
    """One tracked connection: its original direction, the ports it ran between, its expiry."""

    original: FlowKey
    ingress: int
    egress: tuple[int, ...]
    expires: float
    timeout: float
    facts: object = None
    """What the backend needs to re-judge the connection when the programs change."""


@dataclass
class ConnTrack:
    """Connections by flow key (both directions), and first-fragment verdicts."""

    clock: Callable[[], float] = time.monotonic
    connections: dict[FlowKey, Connection] = field(default_factory=dict)
    fragments: dict[tuple[int, int, int, int], tuple[float, object]] = field(default_factory=dict)

    def lookup(self, key: FlowKey) -> Connection | None:
        """The live connection this packet belongs to (either direction), refreshed."""
        conn = self.connections.get(key)
        if conn is None:
            return None
        now = self.clock()
        if conn.expires < now:
            self._forget(conn)
            return None
        conn.expires = now + conn.timeout
        return conn

    def commit(
        self, key: FlowKey, ingress: int, egress: tuple[int, ...], facts: object = None
    ) -> Connection:
        """Track an allowed packet's connection (its reply key maps to the same entry)."""
        timeout = TIMEOUTS.get(key[3], DEFAULT_TIMEOUT)
        conn = Connection(key, ingress, egress, self.clock() + timeout, timeout, facts)
        self.connections[key] = conn
        self.connections[reply_key(key)] = conn
        return conn

    def _forget(self, conn: Connection) -> None:
        self.connections.pop(conn.original, None)
        self.connections.pop(reply_key(conn.original), None)

    def flush(self, keep: Callable[[Connection], bool]) -> int:
        """Drop every connection ``keep`` refuses (the programs changed); returns how many."""
        dropped = 0
        for conn in {id(c): c for c in self.connections.values()}.values():
            if not keep(conn):
                self._forget(conn)
                dropped += 1
        return dropped

    def remember_fragment(self, key: tuple[int, int, int, int], verdict: object) -> None:
        """The verdict of a first fragment, for the fragments that follow it."""
        self.fragments[key] = (self.clock() + FRAGMENT_TIMEOUT, verdict)

    def fragment_verdict(self, key: tuple[int, int, int, int]) -> object | None:
        """The verdict of this fragment's first fragment, if it was seen and is recent."""
        found = self.fragments.get(key)
        if found is None:
            return None
        if found[0] < self.clock():
            del self.fragments[key]
            return None
        return found[1]

    def __len__(self) -> int:
        return len({id(c) for c in self.connections.values()})


def reply_key(key: FlowKey) -> FlowKey:
    """The key of the reply direction (ICMP echo requests expect echo replies)."""
    version, src, dst, proto, sport, dport = key
    if proto in (1, 58):
        return (version, dst, src, proto, sport, ECHO_REPLY.get(dport, dport))
    return (version, dst, src, proto, dport, sport)

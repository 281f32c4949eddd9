"""Live traffic: real TCP connections between guests agree with the reference verdicts."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tenantry.dataplane.attackrun import lab_topology
from tenantry.dataplane.lab.namespaces import inside
from tenantry.dataplane.lab.topology import Endpoint
from tests.integration.dataplane.lab.conftest import RunningLab

PORTS = (22, 443, 5432, 8443, 80)


@pytest.fixture(scope="module")
def listeners(lab: RunningLab) -> Iterator[None]:
    """A TCP listener on every guest address and port of the sample (in the guests)."""
    sockets = []
    for endpoint in lab_topology(lab.env, lab.programs).endpoints:
        if endpoint.trunk:
            continue  # its addresses live on VLAN subinterfaces (absent without 802.1Q)
        for address in endpoint.ipv4:
            for port in PORTS:
                with inside(endpoint.netns):
                    sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((address, port))
                sock.listen(16)
                sockets.append(sock)
    stop = threading.Event()

    def accept(sock: socket.socket) -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                conn.close()
            except OSError:
                continue

    threads = [threading.Thread(target=accept, args=(s,), daemon=True) for s in sockets]
    for thread in threads:
        thread.start()
    yield
    stop.set()
    for sock in sockets:
        sock.close()


def _socket_in(src: Endpoint) -> socket.socket:
    # Namespaces are entered from this (the main) thread only: pyroute2 keeps one stack.
    with inside(src.netns):
        sock = socket.socket()
    sock.settimeout(2.0)
    sock.bind((src.ipv4[0], 0))
    return sock


def _connects(sock: socket.socket, dst: Endpoint, port: int) -> bool:
    try:
        sock.connect((dst.ipv4[0], port))
        return True
    except OSError:
        return False
    finally:
        sock.close()


@pytest.mark.usefixtures("listeners")
def test_live_connections_match_the_reference_verdicts(lab: RunningLab) -> None:
    """For a sample of guest pairs and ports (same and cross chassis, routed, cross tenant),
    a real TCP connection succeeds exactly when the reference allows the flow."""
    topology = lab_topology(lab.env, lab.programs)
    ordinary = [e for e in topology.endpoints if e.ipv4 and not e.trunk and not e.relaxed]
    cases = [
        (src, dst, port, topology.judge(src, dst, "tcp", port, 4))
        for src in ordinary
        for dst in ordinary
        if src.guest != dst.guest
        for port in (443, 5432, 22)
    ]
    # unrouted pairs of one tenant teach nothing (no path); keep everything else
    cases = [c for c in cases if c[3] or c[0].segment == c[1].segment or c[0].owner != c[1].owner]
    sockets = [_socket_in(src) for src, *_ in cases]
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(
            pool.map(lambda c: _connects(c[0], c[1][1], c[1][2]), zip(sockets, cases, strict=True))
        )
    mismatches = [
        f"{src.name} -> {dst.name}:{port} live {got} reference {expected}"
        for (src, dst, port, expected), got in zip(cases, results, strict=True)
        if got != expected
    ]
    assert len(cases) > 20
    assert any(expected for *_, expected in cases)
    assert mismatches == []

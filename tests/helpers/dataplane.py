"""pybatfish-style assertions over a backend, and frames built from port names."""

from __future__ import annotations

from dataclasses import dataclass

from tenantry.compiler import Programs
from tenantry.dataplane import Disposition, Reason, Verdict, packets
from tenantry.dataplane.reference import ReferenceBackend

__all__ = ["Ports", "assert_denies", "assert_permits"]


def _explain(backend: ReferenceBackend, verdict: Verdict) -> str:
    lines = [str(verdict)]
    lines += [f"  {s.stage}: {s.outcome} {s.detail}" for s in verdict.steps]
    names = [backend.programs.port_name(r) for r in verdict.egress]
    return "\n".join([*lines, f"  egress: {names}"])


def assert_denies(
    backend: ReferenceBackend, frame: bytes, *, ingress: str, reason: Reason | None = None
) -> Verdict:
    """The frame is dropped (with ``reason`` if given); on failure print the trace."""
    __tracebackhide__ = True
    verdict = backend.classify(frame, ingress)
    if verdict.action is not Disposition.DROP:
        raise AssertionError("expected a drop, got:\n" + _explain(backend, verdict))
    if reason is not None and verdict.reason is not reason:
        raise AssertionError(f"expected a drop for {reason}, got:\n" + _explain(backend, verdict))
    return verdict


def assert_permits(
    backend: ReferenceBackend, frame: bytes, *, ingress: str, to: str | None = None
) -> Verdict:
    """The frame is delivered (to port ``to`` if given) or answered by a router."""
    __tracebackhide__ = True
    verdict = backend.classify(frame, ingress)
    if verdict.action is Disposition.DROP:
        raise AssertionError("expected delivery, got:\n" + _explain(backend, verdict))
    if to is not None:
        names = [backend.programs.port_name(r) for r in verdict.egress]
        if to not in names:
            raise AssertionError(f"expected delivery to {to}, got:\n" + _explain(backend, verdict))
    return verdict


@dataclass(frozen=True)
class Port:
    """A port's locked MAC and first address of each family, by name."""

    name: str
    mac: str
    ip: str
    ip6: str | None


class Ports:
    """Frames between named ports of compiled programs."""

    def __init__(self, programs: Programs) -> None:
        self.programs = programs

    def __getitem__(self, name: str) -> Port:
        row = self.programs.port_row(name)
        assert row is not None, name
        addresses = self.programs.ports.addresses(row)
        v4 = [str(a) for a in addresses if a.version == 4]
        v6 = [str(a) for a in addresses if a.version == 6]
        return Port(
            name, self.programs.port_mac(row), v4[0] if v4 else "0.0.0.0", v6[0] if v6 else None
        )

    def tcp(
        self, src: str, dst: str, dport: int, *, sport: int = 40000, flags: int = 0x02, **over: str
    ) -> bytes:
        """A TCP segment from port ``src`` to port ``dst``; ``over`` replaces mac/ip fields."""
        a, b = self[src], self[dst]
        src_ip = over.get("src_ip", a.ip)
        dst_ip = over.get("dst_ip", b.ip)
        l4 = packets.tcp(src_ip, dst_ip, sport, dport, flags=flags)
        return packets.ethernet(
            over.get("dst_mac", b.mac),
            over.get("src_mac", a.mac),
            0x0800,
            packets.ipv4(src_ip, dst_ip, 6, l4),
        )

    def udp(self, src: str, dst: str, dport: int, *, sport: int = 40000, **over: str) -> bytes:
        """A UDP datagram from port ``src`` to port ``dst``."""
        a, b = self[src], self[dst]
        src_ip = over.get("src_ip", a.ip)
        dst_ip = over.get("dst_ip", b.ip)
        l4 = packets.udp(src_ip, dst_ip, sport, dport)
        return packets.ethernet(
            over.get("dst_mac", b.mac),
            over.get("src_mac", a.mac),
            0x0800,
            packets.ipv4(src_ip, dst_ip, 17, l4),
        )

    def ping(
        self, src: str, dst: str, *, reply: bool = False, ident: int = 7, **over: str
    ) -> bytes:
        """An ICMP echo request (or reply) from ``src`` to ``dst``."""
        a, b = self[src], self[dst]
        src_ip = over.get("src_ip", a.ip)
        dst_ip = over.get("dst_ip", b.ip)
        return packets.ethernet(
            over.get("dst_mac", b.mac),
            over.get("src_mac", a.mac),
            0x0800,
            packets.ipv4(src_ip, dst_ip, 1, packets.icmp_echo(ident, reply=reply)),
        )

"""What the switch maps addresses to, per domain (the reference tables' rule, restated)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

from tenantry.compiler import Programs

__all__ = ["Address", "address_map", "domain_subnets", "gateways", "segment_name"]

Address = IPv4Address | IPv6Address


def domain_subnets(programs: Programs, members: list[int]) -> list[object]:
    """Every subnet of the segments of a domain."""
    out: list[object] = []
    for seg in members:
        found = programs.segments[seg]
        if found is not None:
            out.extend(found.subnets)
    return out


def address_map(
    programs: Programs, receivers: list[int], subnets: list[object]
) -> dict[Address, int]:
    """Address -> port in one domain: locked addresses (a trunk's only inside the domain's
    subnets), later ports winning; each port's link-local only where nothing holds it."""
    ports = programs.ports
    found: dict[Address, int] = {}
    for row in sorted(receivers):
        own = int(ports.segment[row]) >= 0
        for address in ports.addresses(row):
            if own or any(address.version == n.version and address in n for n in subnets):  # type: ignore[attr-defined,operator]
                found[address] = row
        found.setdefault(ports.link_local(row), row)
    return found


def gateways(programs: Programs, dom_of: object) -> set[tuple[int, Address]]:
    """(domain, address) of every router gateway."""
    out: set[tuple[int, Address]] = set()
    for leg in programs.routers:
        domain = int(dom_of[leg.segment])  # type: ignore[index]
        out.update((domain, ip_address(g)) for g in leg.gateways)
    return out


def segment_name(programs: Programs, members: list[int]) -> str:
    names = [str(s.network) for seg in members if (s := programs.segments[seg]) is not None]
    return " + ".join(names) if names else "?"

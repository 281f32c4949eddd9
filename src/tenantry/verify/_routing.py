"""Layer 3: routers whose interfaces sit in domains of two tenants.

The reference router forwards a packet sent to its MAC on one leg to the port holding the
destination address on the leg whose subnet contains it. Policy judges routed packets, but
DHCP client and neighbour-discovery messages are exempt from policy (docs/semantics.md), so
a router joining two tenants' domains always carries something between them. The
counterexample therefore prefers a packet class that both chains allow (found by judging one
member of each rule-boundary class) and falls back to the exempt message.
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv6Address

from tenantry.compiler import Programs, RouterInterface
from tenantry.model import Direction, Ref
from tenantry.verify._addresses import Address, address_map, domain_subnets, gateways, segment_name
from tenantry.verify._layout import Layout
from tenantry.verify.counterexample import Counterexample, Hop, routed_frame
from tenantry.verify.domains import Domains
from tenantry.verify.policy import PacketClass, allows, packet_classes
from tenantry.verify.report import Leak, LeakKind

__all__ = ["RouteFinder"]


class RouteFinder:
    """Finds routed leaks, one router at a time."""

    def __init__(self, layout: Layout, domains: Domains) -> None:
        self.layout = layout
        self.domains = domains
        programs = layout.programs
        self.legs: dict[Ref, list[RouterInterface]] = {}
        self.by_domain: dict[int, set[Ref]] = {}
        for leg in programs.routers:
            self.legs.setdefault(leg.router, []).append(leg)
            self.by_domain.setdefault(int(domains.of[leg.segment]), set()).add(leg.router)
        self.gateways = gateways(programs, domains.of)

    def dom(self, leg: RouterInterface) -> int:
        return int(self.domains.of[leg.segment])

    def tenants_near(self, router: Ref) -> set[int]:
        """Tenants with ports in any domain the router has an interface in."""
        found: set[int] = set()
        for leg in self.legs.get(router, ()):
            found.update(self.layout.census(self.dom(leg))[0])
        return found

    def reachable(self, router: Ref) -> Iterator[tuple[Address, int, int]]:
        """(destination address, out domain, port) for everything the router delivers to."""
        programs = self.layout.programs
        legs = self.legs[router]
        routes = [(self.dom(leg), net) for leg in legs for net in leg.subnets]
        maps = {}
        for leg in legs:
            domain = self.dom(leg)
            if domain not in maps:
                subnets = domain_subnets(programs, self.domains.members(domain))
                maps[domain] = address_map(programs, self.layout.receivers(domain), subnets)
        seen: set[Address] = set()
        for held in maps.values():
            for address in held:
                if address in seen:
                    continue
                seen.add(address)
                out = next(
                    (d for d, net in routes if net.version == address.version and address in net),
                    None,
                )
                if out is None or out not in maps:
                    continue
                row = maps[out].get(address)
                if row is not None:
                    yield address, out, row

    def router_leaks(self, router: Ref, limit: int) -> list[Leak]:
        """Directed leaks between tenants through one router (at most ``limit``)."""
        layout = self.layout
        owners = layout.programs.owners
        if len(self.tenants_near(router)) < 2:
            return []
        targets: dict[int, list[tuple[Address, int, int]]] = {}
        for address, out, row in self.reachable(router):
            if layout.is_tenant(row):
                targets.setdefault(layout.owner(row), []).append((address, out, row))
        done: set[tuple[int, int]] = set()
        leaks: list[Leak] = []
        for leg in self.legs[router]:
            domain = self.dom(leg)
            for sender in layout.senders(domain):
                if not layout.is_tenant(sender):
                    continue
                a = layout.owner(sender)
                for b, found in sorted(targets.items()):
                    if a == b or (a, b) in done:
                        continue
                    pick = next(
                        ((d, o, r) for d, o, r in found if (domain, d) not in self.gateways), None
                    )
                    if pick is None:
                        continue
                    done.add((a, b))
                    hop = self.hop(router, leg, domain, sender, pick)
                    cause = (
                        f"router {router} has interfaces in {owners[a]}'s and {owners[b]}'s "
                        "domains and forwards between them"
                    )
                    example = Counterexample(
                        (hop,), f"{hop.sender} reaches {hop.receiver} via router {router}"
                    )
                    leaks.append(Leak(LeakKind.ROUTED, owners[a], owners[b], cause, example))
                    if len(leaks) >= limit:
                        return leaks
        return leaks

    def hop(
        self,
        router: Ref,
        leg: RouterInterface,
        domain: int,
        sender: int,
        pick: tuple[Address, int, int],
    ) -> Hop:
        programs = self.layout.programs
        dst, out, receiver = pick
        cls, src = self._allowed(programs, domain, sender, pick)
        vlan = next(
            (v for v, s in programs.ports.trunk_of(sender) if int(self.domains.of[s]) == domain),
            None,
        )
        frame, summary = routed_frame(
            src_mac=programs.port_mac(sender),
            dst_mac=leg.mac,
            src=src,
            dst=dst,
            cls=cls,
            vlan=vlan,
            link_local=programs.ports.link_local(sender),
        )
        path = (
            programs.port_name(sender),
            f"segment {segment_name(programs, self.domains.members(domain))}",
            f"router {router}",
            f"segment {segment_name(programs, self.domains.members(out))}",
            programs.port_name(receiver),
        )
        return Hop(
            programs.port_name(sender),
            programs.port_name(receiver),
            sender,
            receiver,
            frame,
            summary,
            path,
        )

    def _allowed(
        self, programs: Programs, domain: int, sender: int, pick: tuple[Address, int, int]
    ) -> tuple[PacketClass | None, Address | None]:
        """A class both chains allow and a source the sender may use, else (None, None)."""
        dst, out, receiver = pick
        subnets = domain_subnets(programs, self.domains.members(domain))
        held = address_map(programs, self.layout.receivers(domain), subnets)
        sources: list[Address] = [
            a for a, r in held.items() if r == sender and a.version == dst.version
        ]
        if dst.version == 6:
            sources.append(IPv6Address(programs.ports.link_local(sender)))
        for src in sources:
            for cls in packet_classes(programs, (sender, receiver), dst.version):
                if allows(
                    programs, sender, direction=Direction.EGRESS, cls=cls, peer=dst, segment=domain
                ) and allows(
                    programs, receiver, direction=Direction.INGRESS, cls=cls, peer=src, segment=out
                ):
                    return cls, src
        return None, None

"""Layer 2: tenants sharing a broadcast domain, and guests that bridge domains."""

from __future__ import annotations

from tenantry.compiler import PortFlag, Programs
from tenantry.verify._addresses import address_map, domain_subnets, segment_name
from tenantry.verify._layout import Layout
from tenantry.verify.counterexample import Counterexample, Hop, arp_probe
from tenantry.verify.domains import Domains
from tenantry.verify.report import Leak, LeakKind

__all__ = ["LinkFinder"]


class LinkFinder:
    """Finds L2 and bridging leaks of one layout, one domain or guest at a time."""

    def __init__(self, layout: Layout, domains: Domains) -> None:
        self.layout = layout
        self.domains = domains

    @property
    def programs(self) -> Programs:
        return self.layout.programs

    # ------------------------------------------------------------------ hops

    def _vlan(self, row: int, domain: int) -> int | None:
        for vlan, seg in self.programs.ports.trunk_of(row):
            if int(self.domains.of[seg]) == domain:
                return vlan
        return None

    def hop(self, sender: int, receiver: int, domain: int) -> Hop:
        """A broadcast ARP announcement from ``sender`` that the domain delivers to ``receiver``.

        It asks for the sender's own address (gratuitous ARP): a request for an address the
        receiver holds would be answered by OVN's ARP responder instead of being delivered,
        so the same frame crosses the reference data plane and OVN alike.
        """
        programs = self.programs
        members = self.domains.members(domain)
        held = address_map(
            programs, self.layout.receivers(domain), domain_subnets(programs, members)
        )
        mine = [a for a, r in held.items() if r == sender and a.version == 4]
        own = str(mine[0]) if mine else None
        frame, summary = arp_probe(programs.port_mac(sender), own, own, self._vlan(sender, domain))
        path = (
            programs.port_name(sender),
            f"segment {segment_name(programs, members)}",
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

    def _cause(self, sender: int, receiver: int, domain: int) -> str:
        programs = self.programs
        members = self.domains.members(domain)
        name = segment_name(programs, members)
        merged = self.domains.causes.get(domain)
        if merged:
            return f"one broadcast domain on the wire: {merged}"
        segment = programs.segments[domain]
        for row in (sender, receiver):
            vlan = self._vlan(row, domain)
            if vlan is not None:
                group = programs.port_groups[int(programs.ports.port_group[row])]
                return (
                    f"port {programs.port_name(row)} is a VGT trunk (port group {group}) "
                    f"carrying VLAN {vlan} of {name}"
                )
        if segment is not None and segment.management:
            return f"both have management interfaces on the management network {name}"
        if segment is not None and segment.service is not None:
            open_row = receiver if not self.layout.is_consumer(receiver) else sender
            return (
                f"on the shared-service segment {name} ({segment.service}), "
                f"{programs.port_name(open_row)} is not isolated as a service consumer"
            )
        return f"segment {name} carries ports of both"

    # ------------------------------------------------------------------ layer 2

    def domain_leaks(self, domain: int, limit: int) -> list[Leak]:
        """Directed leaks between tenants sharing ``domain`` (at most ``limit``)."""
        layout = self.layout
        everyone, open_ports = layout.census(domain)
        if len(everyone) < 2 or not open_ports:
            # consumers of a shared service never reach each other: only an open port leaks
            return []
        owners = layout.programs.owners
        send: dict[int, list[int | None]] = {}
        recv: dict[int, list[int | None]] = {}
        for table, rows in ((send, layout.senders(domain)), (recv, layout.receivers(domain))):
            for row in rows:
                if not layout.is_tenant(row):
                    continue
                slot = table.setdefault(layout.owner(row), [None, None])
                index = 1 if layout.is_consumer(row) else 0
                if slot[index] is None:
                    slot[index] = row
        pairs: dict[tuple[int, int], tuple[int, int]] = {}
        for a, (open_s, _) in send.items():
            if open_s is None:
                continue
            for b, (open_r, cons_r) in recv.items():
                target = open_r if open_r is not None else cons_r
                if a != b and target is not None:
                    pairs[(a, b)] = (open_s, target)
        for b, (open_r, _) in recv.items():
            if open_r is None:
                continue
            for a, (open_s, cons_s) in send.items():
                source = open_s if open_s is not None else cons_s
                if a != b and source is not None:
                    pairs.setdefault((a, b), (source, open_r))
        leaks: list[Leak] = []
        for (a, b), (sender, receiver) in sorted(pairs.items()):
            hop = self.hop(sender, receiver, domain)
            cause = self._cause(sender, receiver, domain)
            example = Counterexample((hop,), f"{hop.sender} reaches {hop.receiver} at layer 2")
            leaks.append(Leak(LeakKind.L2, owners[a], owners[b], cause, example))
            if len(leaks) >= limit:
                break
        return leaks

    # ------------------------------------------------------------------ bridging

    def is_endpoint(self, guest: int) -> bool:
        """A provider's service endpoint: the declared service itself, not a bridge."""
        return any(
            self.layout.flags(r) & PortFlag.SERVICE_PROVIDER for r in self.layout.guest_ports(guest)
        )

    def reach(self, guest: int) -> set[int]:
        """Tenants a guest's ports exchange frames with (and its owner, if a tenant)."""
        layout = self.layout
        rows = layout.guest_ports(guest)
        found: set[int] = set()
        for row in rows:
            if layout.is_tenant(row):
                found.add(layout.owner(row))
            for domain in layout.member_of(row):
                everyone, open_ports = layout.census(domain)
                found.update(open_ports if layout.is_consumer(row) else everyone)
        return found

    def _meeting(self, guest: int, tenant: int, inbound: bool) -> tuple[int, int, int] | None:
        """(tenant's port, guest's port, domain) for a frame between them."""
        layout = self.layout
        for port in layout.guest_ports(guest):
            domains = layout.receives(port) if inbound else layout.sends(port)
            for domain in domains:
                others = layout.senders(domain) if inbound else layout.receivers(domain)
                for row in others:
                    if row == port or not layout.is_tenant(row) or layout.owner(row) != tenant:
                        continue
                    if layout.is_consumer(row) and layout.is_consumer(port):
                        continue
                    return (row, port, domain)
        return None

    def guest_leaks(self, guest: int, direct: set[tuple[str, str]], limit: int) -> list[Leak]:
        """Leaks through a guest whose vNICs reach two tenants (skipping direct pairs)."""
        tenants = sorted(self.reach(guest))
        if len(tenants) < 2 or self.is_endpoint(guest):
            return []
        owners = self.programs.owners
        name = str(self.programs.guests[guest])
        leaks: list[Leak] = []
        for a in tenants:
            for b in tenants:
                if a == b or (owners[a], owners[b]) in direct:
                    continue
                into = self._meeting(guest, a, inbound=True)
                out = self._meeting(guest, b, inbound=False)
                if into is None or out is None:
                    continue
                first = self.hop(into[0], into[1], into[2])
                second = self.hop(out[1], out[0], out[2])
                example = Counterexample(
                    (first, second),
                    f"{first.sender} reaches {second.receiver} through guest {name}, "
                    "which forwards between its vNICs",
                )
                cause = f"guest {name} has vNICs reaching both {owners[a]} and {owners[b]}"
                leaks.append(Leak(LeakKind.BRIDGED, owners[a], owners[b], cause, example))
                if len(leaks) >= limit:
                    return leaks
        return leaks

"""Physical facts that no data plane holds, taken from the model estate.

The verifier proves isolation on programs (what is enforced). Three things are not in any
program: which host NICs each virtual switch uses (two switches sharing one NIC bridge their
physical networks), where disks live and which hosts see which LUNs, and which tenants a
provider has dedicated hosts and datastores to. This module reads exactly those from an
estate and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenantry.model import PROVIDER, Estate

__all__ = ["DatastoreFact", "PhysicalFacts", "UplinkBridge", "physical_facts"]


@dataclass(frozen=True, slots=True)
class UplinkBridge:
    """Two physical networks joined on the wire, and the host NIC that joins them."""

    first: str
    second: str
    why: str


@dataclass(frozen=True, slots=True)
class DatastoreFact:
    """A datastore: its LUN, the hosts it is masked to, its tags and the disks it holds."""

    name: str
    lun: str
    masked_to: tuple[str, ...]
    tags: tuple[str, ...]
    disks: tuple[tuple[str, str, str], ...]
    """(owner, guest, disk) of every disk placed on it."""


@dataclass(frozen=True, slots=True)
class PhysicalFacts:
    """What the wire and the storage fabric do that programs cannot say."""

    bridges: tuple[UplinkBridge, ...] = ()
    datastores: tuple[DatastoreFact, ...] = ()
    host_guests: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    """(host, ((owner, guest), ...)): the guests each host runs."""
    host_tags: tuple[tuple[str, tuple[str, ...]], ...] = ()
    placement_tags: tuple[tuple[str, str], ...] = ()
    """(tenant, tag) for tenants with dedicated hosts and storage."""


def physical_facts(estate: Estate) -> PhysicalFacts:
    """The physical facts of an estate (uplinks, LUN masking, disk and guest placement)."""
    return PhysicalFacts(
        bridges=_bridges(estate),
        datastores=_datastores(estate),
        host_guests=_host_guests(estate),
        host_tags=tuple(sorted((h.name, tuple(sorted(h.tags))) for h in estate.hosts.values())),
        placement_tags=tuple(
            sorted((t.name, t.placement_tag) for t in estate.tenants.values() if t.placement_tag)
        ),
    )


def _bridges(estate: Estate) -> tuple[UplinkBridge, ...]:
    """Physical networks joined by a host NIC: shared by switches of two physical networks,
    or cabled to another physical network than the switch using it believes."""
    found: list[UplinkBridge] = []
    users: dict[tuple[str, str], tuple[str, str]] = {}
    for switch in sorted(estate.switches.values(), key=lambda s: s.name):
        if switch.physical_network is None:
            continue
        for host in sorted(estate.hosts.values(), key=lambda h: h.name):
            if host.cluster not in switch.clusters:
                continue
            for nic in host.uplinks:
                if nic.name not in switch.uplinks:
                    continue
                where = f"uplink {nic.name} of host {host.name}"
                if nic.physical_network != switch.physical_network:
                    found.append(
                        UplinkBridge(
                            switch.physical_network,
                            nic.physical_network,
                            f"{where} is cabled to {nic.physical_network} but switch "
                            f"{switch.name} sends {switch.physical_network} over it",
                        )
                    )
                other = users.setdefault(
                    (host.name, nic.name), (switch.name, switch.physical_network)
                )
                if other[1] != switch.physical_network:
                    found.append(
                        UplinkBridge(
                            other[1],
                            switch.physical_network,
                            f"{where} is shared by switches {other[0]} and {switch.name}",
                        )
                    )
    return tuple(found)


def _datastores(estate: Estate) -> tuple[DatastoreFact, ...]:
    disks: dict[str, list[tuple[str, str, str]]] = {}
    for ref, guest in estate.guests.items():
        for disk in guest.disks:
            disks.setdefault(disk.datastore, []).append((ref.owner, ref.name, disk.name))
    out = []
    for store in sorted(estate.datastores.values(), key=lambda d: d.name):
        lun = f"{store.lun.target} LUN {store.lun.id}" if store.lun is not None else "(no LUN)"
        out.append(
            DatastoreFact(
                store.name,
                lun,
                tuple(store.masked_to),
                tuple(store.tags),
                tuple(sorted(disks.get(store.name, ()))),
            )
        )
    return tuple(out)


def _host_guests(estate: Estate) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    by_host: dict[str, list[tuple[str, str]]] = {}
    for ref, guest in estate.guests.items():
        if guest.host is not None and ref.owner != PROVIDER:
            by_host.setdefault(guest.host, []).append((ref.owner, ref.name))
    return tuple(sorted((h, tuple(sorted(g))) for h, g in by_host.items()))

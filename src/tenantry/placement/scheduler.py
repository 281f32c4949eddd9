"""Choosing a host for a guest: tenant tags, switch span, LUN masking, remaining capacity."""

from __future__ import annotations

from tenantry.model import PROVIDER, Estate, Guest, Host, Ref
from tenantry.placement.capacity import host_demand

__all__ = ["candidate_hosts", "place"]


def candidate_hosts(estate: Estate, owner: str, guest: Guest) -> list[Host]:
    """Hosts where the guest may run, best first (most free memory, then name)."""
    tenant = estate.tenant(owner)
    mine = tenant.placement_tag if tenant is not None else None
    tenant_tags = {t.placement_tag for t in estate.tenants.values() if t.placement_tag}
    demand = host_demand(estate)
    clusters_needed: list[set[str]] = []
    for vnic in guest.vnics:
        group = estate.port_groups.get(Ref(PROVIDER, vnic.port_group))
        switch = estate.switches.get(Ref(PROVIDER, group.switch)) if group else None
        if switch is not None:
            clusters_needed.append(set(switch.clusters))
    masked: list[set[str]] = []
    for disk in guest.disks:
        store = estate.datastores.get(Ref(PROVIDER, disk.datastore))
        if store is not None:
            masked.append(set(store.masked_to))
    found = []
    for host in estate.hosts.values():
        tags = set(host.tags)
        if mine is not None and mine not in tags:
            continue
        if (tags & tenant_tags) - {mine}:
            continue
        if any(host.cluster not in clusters for clusters in clusters_needed):
            continue
        if any(host.name not in hosts for hosts in masked):
            continue
        used = demand.get(host.name)
        free_cpu = host.cpus - (used.cpu if used else 0)
        free_memory = host.memory - (used.memory if used else 0)
        if free_cpu < guest.cpu.reservation or free_memory < guest.memory.reservation:
            continue
        found.append((free_memory, host))
    found.sort(key=lambda item: (-item[0], item[1].name))
    return [host for _, host in found]


def place(estate: Estate, owner: str, guest: Guest) -> str | None:
    """The best host for the guest, or None when no host qualifies."""
    hosts = candidate_hosts(estate, owner, guest)
    return hosts[0].name if hosts else None

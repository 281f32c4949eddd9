"""Reservations never exceed capacity: hosts, datastores, the pool tree, tenants' bounds."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from tenantry.errors import Violation
from tenantry.model import PROVIDER, Estate, Kind, Ref, format_bytes

__all__ = ["Demand", "check_capacity", "host_demand"]

RULE_HOST = "capacity-host"
RULE_POOL = "capacity-pool"
RULE_TENANT = "capacity-tenant"
RULE_DATASTORE = "capacity-datastore"
RULE_GUARANTEE = "capacity-guarantee"


@dataclass
class Demand:
    """Reserved vCPUs and memory bytes."""

    cpu: int = 0
    memory: int = 0

    def add(self, cpu: int, memory: int) -> None:
        self.cpu += cpu
        self.memory += memory


def host_demand(estate: Estate) -> dict[str, Demand]:
    """Reserved resources per host name."""
    demand: dict[str, Demand] = defaultdict(Demand)
    for guest in estate.guests.values():
        if guest.host is not None:
            demand[guest.host].add(guest.cpu.reservation, guest.memory.reservation)
    return demand


def check_capacity(estate: Estate) -> list[Violation]:
    """Every capacity rule broken by the estate's reservations."""
    found: list[Violation] = []
    _hosts(estate, found)
    _datastores(estate, found)
    _pools(estate, found)
    _tenants(estate, found)
    return found


def _hosts(estate: Estate, found: list[Violation]) -> None:
    for name, demand in sorted(host_demand(estate).items()):
        host = estate.hosts.get(Ref(PROVIDER, name))
        if host is None:
            continue
        if demand.cpu > host.cpus:
            found.append(
                Violation(
                    RULE_HOST,
                    f"guests reserve {demand.cpu} vCPUs on host {name}, which has {host.cpus}",
                    (f"host {name}",),
                    str(Kind.HOST),
                    name,
                    "cpus",
                )
            )
        if demand.memory > host.memory:
            found.append(
                Violation(
                    RULE_HOST,
                    f"guests reserve {format_bytes(demand.memory)} of "
                    f"memory on host {name}, which has {format_bytes(host.memory)}",
                    (f"host {name}",),
                    str(Kind.HOST),
                    name,
                    "memory",
                )
            )


def _datastores(estate: Estate, found: list[Violation]) -> None:
    used: dict[str, int] = defaultdict(int)
    for guest in estate.guests.values():
        for disk in guest.disks:
            used[disk.datastore] += disk.size
    for name, size in sorted(used.items()):
        store = estate.datastores.get(Ref(PROVIDER, name))
        if store is not None and size > store.capacity:
            found.append(
                Violation(
                    RULE_DATASTORE,
                    f"disks on datastore {name} need "
                    f"{format_bytes(size)}, it holds {format_bytes(store.capacity)}",
                    (f"datastore {name}",),
                    str(Kind.DATASTORE),
                    name,
                    "capacity",
                )
            )


def _pools(estate: Estate, found: list[Violation]) -> None:
    """VMware semantics: a pool's children are carved from its reservation; an expandable
    pool may borrow the excess from its parent, up to the cluster's capacity."""
    direct: dict[Ref, Demand] = defaultdict(Demand)
    for ref, guest in estate.guests.items():
        if guest.pool is not None:
            pool_ref = estate.resolve_pool(ref.owner, guest.pool)
            direct[pool_ref].add(guest.cpu.reservation, guest.memory.reservation)
    children: dict[Ref, list[Ref]] = defaultdict(list)
    roots: dict[str, list[Ref]] = defaultdict(list)
    for ref, pool in estate.resource_pools.items():
        if pool.parent is not None:
            children[estate.resolve_pool(ref.owner, pool.parent)].append(ref)
        elif pool.cluster is not None:
            roots[pool.cluster].append(ref)

    def need(ref: Ref, depth: int = 0) -> Demand:
        pool = estate.resource_pools[ref]
        used = Demand(direct[ref].cpu, direct[ref].memory)
        if depth < 64:  # cycles are reported by the model rules; do not recurse forever
            for child in children[ref]:
                if child in estate.resource_pools:
                    sub = need(child, depth + 1)
                    used.add(sub.cpu, sub.memory)
        for label, want, allocation in (
            ("vCPUs", used.cpu, pool.cpu),
            ("memory", used.memory, pool.memory),
        ):
            shown = want if label == "vCPUs" else format_bytes(want)
            if allocation.limit is not None and want > allocation.limit:
                found.append(
                    Violation(
                        RULE_POOL,
                        f"pool {ref} would reserve {shown} {label} above its limit",
                        (f"resource-pool {ref}",),
                        str(Kind.RESOURCE_POOL),
                        str(ref),
                    )
                )
            if want > allocation.reservation and not allocation.expandable_reservation:
                found.append(
                    Violation(
                        RULE_POOL,
                        f"pool {ref} would reserve {shown} {label} but "
                        "its reservation is smaller and not expandable",
                        (f"resource-pool {ref}",),
                        str(Kind.RESOURCE_POOL),
                        str(ref),
                    )
                )
        return Demand(
            max(used.cpu, pool.cpu.reservation), max(used.memory, pool.memory.reservation)
        )

    for cluster, pools in sorted(roots.items()):
        total = Demand()
        for ref in pools:
            sub = need(ref)
            total.add(sub.cpu, sub.memory)
        hosts = [h for h in estate.hosts.values() if h.cluster == cluster]
        cpus = sum(h.cpus for h in hosts)
        memory = sum(h.memory for h in hosts)
        if total.cpu > cpus or total.memory > memory:
            found.append(
                Violation(
                    RULE_POOL,
                    f"pools of cluster {cluster} reserve more than its "
                    f"hosts hold ({total.cpu}/{cpus} vCPUs, "
                    f"{format_bytes(total.memory)}/{format_bytes(memory)})",
                    (f"cluster {cluster}",),
                    str(Kind.CLUSTER),
                    cluster,
                )
            )


def _tenants(estate: Estate, found: list[Violation]) -> None:
    cpu: dict[str, int] = defaultdict(int)
    memory: dict[str, int] = defaultdict(int)
    storage: dict[str, int] = defaultdict(int)
    bandwidth: dict[str, int] = defaultdict(int)
    for ref, guest in estate.guests.items():
        cpu[ref.owner] += guest.cpu.reservation
        memory[ref.owner] += guest.memory.reservation
        storage[ref.owner] += sum(d.size for d in guest.disks)
        for vnic in guest.vnics:
            group = estate.port_groups.get(Ref(PROVIDER, vnic.port_group))
            if group is not None and group.shaping is not None:
                bandwidth[ref.owner] += group.shaping.average
    for ref, tenant in sorted(estate.tenants.items()):
        bounds = tenant.resources
        for label, used, high, show in (
            ("vCPUs", cpu[ref.name], bounds.vcpu.max, str),
            ("memory", memory[ref.name], bounds.memory.max, format_bytes),
            ("storage", storage[ref.name], bounds.storage.max, format_bytes),
            ("bandwidth", bandwidth[ref.name], bounds.bandwidth.max, lambda v: f"{v}bit/s"),
        ):
            if high is not None and used > high:
                found.append(
                    Violation(
                        RULE_TENANT,
                        f"tenant {ref.name} would reserve "
                        f"{show(used)} of {label}, above its upper bound {show(high)}",
                        (f"tenant {ref.name}",),
                        str(Kind.TENANT),
                        ref.name,
                        "resources",
                    )
                )
    total_cpu = sum(h.cpus for h in estate.hosts.values())
    total_memory = sum(h.memory for h in estate.hosts.values())
    total_storage = sum(d.capacity for d in estate.datastores.values())
    for label, promised, available in (
        ("vCPUs", sum(t.resources.vcpu.min for t in estate.tenants.values()), total_cpu),
        ("memory", sum(t.resources.memory.min for t in estate.tenants.values()), total_memory),
        ("storage", sum(t.resources.storage.min for t in estate.tenants.values()), total_storage),
    ):
        if promised > available:
            found.append(
                Violation(
                    RULE_GUARANTEE,
                    f"tenants are guaranteed more {label} than the estate has",
                    ("provider",),
                )
            )

"""The estate: every object of the provider's infrastructure, keyed by kind and reference."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar, cast

from tenantry.model._base import Model
from tenantry.model.compute import Cluster, Datacenter, Datastore, Guest, Host, Image, ResourcePool
from tenantry.model.ids import PROVIDER, Ref
from tenantry.model.kinds import KIND_INFO, Kind
from tenantry.model.network import (
    Network,
    PhysicalNetwork,
    PortGroup,
    Router,
    SharedService,
    VirtualSwitch,
    Vnic,
)
from tenantry.model.policy import Policy
from tenantry.model.tenancy import Provider, Tenant

if TYPE_CHECKING:
    from tenantry.model.changes import ChangeSet

__all__ = ["PROVIDER_REF", "Estate", "VnicEntry", "vnic_ref"]

T = TypeVar("T", bound=Model)

PROVIDER_REF = Ref(PROVIDER, PROVIDER)
"""The key of the provider singleton."""


def vnic_ref(owner: str, guest: str, vnic: str) -> Ref:
    """The reference of a vNIC: ``owner/guest/vnic`` (``guest/vnic`` for the provider's)."""
    return Ref(owner, f"{guest}/{vnic}")


@dataclass(frozen=True)
class VnicEntry:
    """A vNIC with its place: owner, guest, and the network it is attached to."""

    ref: Ref
    guest_ref: Ref
    guest: Guest
    vnic: Vnic
    network: Ref | None
    """The segment's network (own network, or the shared service's provider network)."""

    @property
    def owner(self) -> str:
        return self.ref.owner


@dataclass(frozen=True, eq=False)
class Estate:
    """An immutable estate; derived indexes are computed on first use."""

    objects: Mapping[Kind, Mapping[Ref, Model]] = field(default_factory=dict)

    @classmethod
    def build(cls, items: Iterable[tuple[Kind, Ref, Model]]) -> Estate:
        """An estate from (kind, ref, object) triples; later duplicates replace earlier ones."""
        objects: dict[Kind, dict[Ref, Model]] = {kind: {} for kind in Kind}
        for kind, ref, obj in items:
            objects[kind][ref] = obj
        return cls(_freeze(objects))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Estate):
            return NotImplemented
        return all(
            dict(self.objects.get(kind, {})) == dict(other.objects.get(kind, {})) for kind in Kind
        )

    __hash__ = None  # type: ignore[assignment]  # mutable-looking equality: not hashable

    def items(self, kind: Kind) -> Iterator[tuple[Ref, Model]]:
        """Every (ref, object) of one kind."""
        return iter(self.objects.get(kind, {}).items())

    def get(self, kind: Kind, ref: Ref) -> Model | None:
        """One object, or None."""
        return self.objects.get(kind, {}).get(ref)

    def count(self) -> int:
        """The number of objects of every kind."""
        return sum(len(m) for m in self.objects.values())

    def with_changes(self, changes: ChangeSet) -> Estate:
        """The estate after applying a change set."""
        objects = {kind: dict(self.objects.get(kind, {})) for kind in Kind}
        for change in changes:
            if change.after is None:
                objects[change.kind].pop(change.ref, None)
            else:
                objects[change.kind][change.ref] = change.after
        return Estate(_freeze(objects))

    def _typed(self, kind: Kind, cls: type[T]) -> Mapping[Ref, T]:
        del cls  # only for the type checker
        return cast("Mapping[Ref, T]", self.objects.get(kind, MappingProxyType({})))

    @property
    def provider(self) -> Provider:
        found = self.objects.get(Kind.PROVIDER, {}).get(PROVIDER_REF)
        return cast("Provider", found) if found is not None else Provider()

    @property
    def physical_networks(self) -> Mapping[Ref, PhysicalNetwork]:
        return self._typed(Kind.PHYSICAL_NETWORK, PhysicalNetwork)

    @property
    def datacenters(self) -> Mapping[Ref, Datacenter]:
        return self._typed(Kind.DATACENTER, Datacenter)

    @property
    def clusters(self) -> Mapping[Ref, Cluster]:
        return self._typed(Kind.CLUSTER, Cluster)

    @property
    def hosts(self) -> Mapping[Ref, Host]:
        return self._typed(Kind.HOST, Host)

    @property
    def datastores(self) -> Mapping[Ref, Datastore]:
        return self._typed(Kind.DATASTORE, Datastore)

    @property
    def images(self) -> Mapping[Ref, Image]:
        return self._typed(Kind.IMAGE, Image)

    @property
    def switches(self) -> Mapping[Ref, VirtualSwitch]:
        return self._typed(Kind.VIRTUAL_SWITCH, VirtualSwitch)

    @property
    def port_groups(self) -> Mapping[Ref, PortGroup]:
        return self._typed(Kind.PORT_GROUP, PortGroup)

    @property
    def tenants(self) -> Mapping[Ref, Tenant]:
        return self._typed(Kind.TENANT, Tenant)

    @property
    def shared_services(self) -> Mapping[Ref, SharedService]:
        return self._typed(Kind.SHARED_SERVICE, SharedService)

    @property
    def resource_pools(self) -> Mapping[Ref, ResourcePool]:
        return self._typed(Kind.RESOURCE_POOL, ResourcePool)

    @property
    def networks(self) -> Mapping[Ref, Network]:
        return self._typed(Kind.NETWORK, Network)

    @property
    def routers(self) -> Mapping[Ref, Router]:
        return self._typed(Kind.ROUTER, Router)

    @property
    def guests(self) -> Mapping[Ref, Guest]:
        return self._typed(Kind.GUEST, Guest)

    @property
    def policies(self) -> Mapping[Ref, Policy]:
        return self._typed(Kind.POLICY, Policy)

    # ------------------------------------------------------------------ derived views

    def tenant(self, name: str) -> Tenant | None:
        """A tenant by name."""
        return self.tenants.get(Ref(PROVIDER, name))

    def owners(self) -> list[str]:
        """``provider`` and every tenant name."""
        return [PROVIDER, *sorted(ref.name for ref in self.tenants)]

    def service_network(self, service: str) -> Ref | None:
        """The provider network behind a shared service."""
        svc = self.shared_services.get(Ref(PROVIDER, service))
        return None if svc is None else Ref(PROVIDER, svc.network)

    def resolve_pool(self, owner: str, name: str) -> Ref:
        """A pool name seen from ``owner``: its own pool first, then the provider's."""
        own = Ref(owner, name)
        return own if own in self.resource_pools else Ref(PROVIDER, name)

    @cached_property
    def vnics(self) -> Mapping[Ref, VnicEntry]:
        """Every vNIC in the estate, with its guest and network."""
        found: dict[Ref, VnicEntry] = {}
        for guest_ref, guest in self.guests.items():
            for vnic in guest.vnics:
                if vnic.network is not None:
                    network: Ref | None = Ref(guest_ref.owner, vnic.network)
                elif vnic.service is not None:
                    network = self.service_network(vnic.service)
                else:
                    network = None
                ref = vnic_ref(guest_ref.owner, guest_ref.name, vnic.name)
                found[ref] = VnicEntry(ref, guest_ref, guest, vnic, network)
        return MappingProxyType(found)

    def port_group_of(self, entry: VnicEntry) -> PortGroup | None:
        """The port group a vNIC is plugged into."""
        return self.port_groups.get(Ref(PROVIDER, entry.vnic.port_group))

    def segment_networks(self, entry: VnicEntry) -> tuple[Ref, ...]:
        """Every network a vNIC reaches at layer 2: its own, or each VLAN of its trunk.

        Trunk VLANs resolve to whichever network holds that VLAN on the switch's physical
        network, whoever owns it: this is what the data plane does, so verify sees it too.
        """
        group = self.port_group_of(entry)
        if group is None or group.vlan.mode != "vgt":
            return () if entry.network is None else (entry.network,)
        switch = self.switches.get(Ref(PROVIDER, group.switch))
        if switch is None or switch.physical_network is None:
            return ()
        found = []
        for ref, network in self.networks.items():
            segment = network.segment
            if (
                segment.type == "vlan"
                and segment.physical_network == switch.physical_network
                and any(low <= segment.vlan <= high for low, high in group.vlan.trunk)
            ):
                found.append(ref)
        return tuple(sorted(found))

    @cached_property
    def vnics_by_network(self) -> Mapping[Ref, tuple[VnicEntry, ...]]:
        """The vNICs attached to each network (trunk ports under each VLAN they carry)."""
        grouped: dict[Ref, list[VnicEntry]] = {}
        for entry in self.vnics.values():
            for network in self.segment_networks(entry):
                grouped.setdefault(network, []).append(entry)
        return MappingProxyType({k: tuple(v) for k, v in grouped.items()})


def _freeze(objects: dict[Kind, dict[Ref, Model]]) -> Mapping[Kind, Mapping[Ref, Model]]:
    return MappingProxyType({kind: MappingProxyType(objects.get(kind, {})) for kind in KIND_INFO})

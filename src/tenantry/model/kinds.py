"""The kinds of objects in an estate, who owns them, and how the spec names them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tenantry.model._base import Model
from tenantry.model.compute import Cluster, Datacenter, Datastore, Guest, Host, Image, ResourcePool
from tenantry.model.network import Network as NetworkModel
from tenantry.model.network import PhysicalNetwork, PortGroup, Router, SharedService, VirtualSwitch
from tenantry.model.policy import Policy
from tenantry.model.tenancy import Provider, Tenant

__all__ = ["KIND_INFO", "Kind", "KindInfo", "kind_of"]


class Kind(StrEnum):
    """Object kinds, as spelt on the CLI and in the API (``tenantry get port-group``)."""

    PROVIDER = "provider"
    PHYSICAL_NETWORK = "physical-network"
    DATACENTER = "datacenter"
    CLUSTER = "cluster"
    HOST = "host"
    DATASTORE = "datastore"
    IMAGE = "image"
    VIRTUAL_SWITCH = "virtual-switch"
    PORT_GROUP = "port-group"
    TENANT = "tenant"
    SHARED_SERVICE = "shared-service"
    RESOURCE_POOL = "resource-pool"
    NETWORK = "network"
    ROUTER = "router"
    GUEST = "guest"
    POLICY = "policy"


@dataclass(frozen=True)
class KindInfo:
    """How a kind is stored and written: its class, whether tenants own it, its spec section."""

    kind: Kind
    model: type[Model]
    owned: bool
    section: str


KIND_INFO: dict[Kind, KindInfo] = {
    info.kind: info
    for info in (
        KindInfo(Kind.PROVIDER, Provider, owned=False, section="provider"),
        KindInfo(Kind.PHYSICAL_NETWORK, PhysicalNetwork, owned=False, section="physical_networks"),
        KindInfo(Kind.DATACENTER, Datacenter, owned=False, section="datacenters"),
        KindInfo(Kind.CLUSTER, Cluster, owned=False, section="clusters"),
        KindInfo(Kind.HOST, Host, owned=False, section="hosts"),
        KindInfo(Kind.DATASTORE, Datastore, owned=False, section="datastores"),
        KindInfo(Kind.IMAGE, Image, owned=False, section="images"),
        KindInfo(Kind.VIRTUAL_SWITCH, VirtualSwitch, owned=False, section="virtual_switches"),
        KindInfo(Kind.PORT_GROUP, PortGroup, owned=False, section="port_groups"),
        KindInfo(Kind.TENANT, Tenant, owned=False, section="tenants"),
        KindInfo(Kind.SHARED_SERVICE, SharedService, owned=False, section="shared_services"),
        KindInfo(Kind.RESOURCE_POOL, ResourcePool, owned=True, section="resource_pools"),
        KindInfo(Kind.NETWORK, NetworkModel, owned=True, section="networks"),
        KindInfo(Kind.ROUTER, Router, owned=True, section="routers"),
        KindInfo(Kind.GUEST, Guest, owned=True, section="guests"),
        KindInfo(Kind.POLICY, Policy, owned=True, section="policies"),
    )
}

_BY_CLASS = {info.model: info.kind for info in KIND_INFO.values()}


def kind_of(obj: Model) -> Kind:
    """The kind of a domain object."""
    return _BY_CLASS[type(obj)]

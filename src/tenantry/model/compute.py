"""Compute and storage: datacenters, clusters, hosts, resource pools, images, datastores, guests."""

from __future__ import annotations

import re
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address

from pydantic import Field, field_validator, model_validator

from tenantry.model._base import Model
from tenantry.model.ids import ByteSize, MacAddress, Name
from tenantry.model.network import Vnic

__all__ = [
    "Cluster",
    "CpuAllocation",
    "Datacenter",
    "Datastore",
    "Disk",
    "Guest",
    "Host",
    "HostUplink",
    "HyperThreading",
    "Image",
    "Lun",
    "ManagementAccess",
    "MemoryAllocation",
    "PoolCpu",
    "PoolMemory",
    "PowerState",
    "ResourcePool",
]

DEFAULT_SHARES = 1000


class Datacenter(Model):
    """A datacenter: the root of the inventory."""

    name: Name
    description: str = ""


class Cluster(Model):
    """A cluster of hosts in one datacenter; the root of its resource pools."""

    name: Name
    datacenter: Name
    description: str = ""


class HostUplink(Model):
    """A physical NIC of a host and the physical network it is cabled to."""

    name: Name
    physical_network: Name


class Host(Model):
    """A hypervisor host: capacity for reservations, uplinks, and placement tags."""

    name: Name
    cluster: Name
    cpus: int = Field(gt=0, description="vCPUs that can be reserved on this host")
    memory: ByteSize = Field(description="memory that can be reserved on this host")
    uplinks: tuple[HostUplink, ...] = ()
    tags: tuple[Name, ...] = ()
    description: str = ""


class PoolCpu(Model):
    """CPU allocation of a resource pool, in vCPUs."""

    reservation: int = Field(0, ge=0)
    limit: int | None = Field(None, ge=0)
    shares: int = Field(DEFAULT_SHARES, gt=0)
    expandable_reservation: bool = False

    @model_validator(mode="after")
    def _reservation_within_limit(self) -> PoolCpu:
        if self.limit is not None and self.reservation > self.limit:
            raise ValueError(f"reservation ({self.reservation}) exceeds limit ({self.limit})")
        return self


class PoolMemory(Model):
    """Memory allocation of a resource pool, in bytes."""

    reservation: ByteSize = 0
    limit: ByteSize | None = None
    shares: int = Field(DEFAULT_SHARES, gt=0)
    expandable_reservation: bool = False

    @model_validator(mode="after")
    def _reservation_within_limit(self) -> PoolMemory:
        if self.limit is not None and self.reservation > self.limit:
            raise ValueError(f"reservation ({self.reservation}) exceeds limit ({self.limit})")
        return self


class ResourcePool(Model):
    """A node of the resource-pool tree: rooted at a cluster, optionally delegated to a tenant."""

    name: Name
    cluster: Name | None = Field(None, description="for a root pool: the cluster it divides")
    parent: Name | None = Field(
        None, description="for a child pool: the parent pool (own, or delegated to the owner)"
    )
    cpu: PoolCpu = PoolCpu()
    memory: PoolMemory = PoolMemory()
    delegate_to: Name | None = Field(
        None, description="provider pools only: the tenant that may create child pools in it"
    )

    @model_validator(mode="after")
    def _one_root(self) -> ResourcePool:
        if (self.cluster is None) == (self.parent is None):
            raise ValueError("a resource pool has exactly one of cluster (root) or parent (child)")
        return self


_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


class Image(Model):
    """An approved guest image, identified by digest and signer (vCMP: approved images only)."""

    name: Name
    digest: str = Field(description="sha256:<64 hex digits> of the image contents")
    signer: Name
    description: str = ""

    @field_validator("digest")
    @classmethod
    def _digest_format(cls, value: str) -> str:
        if not _DIGEST_RE.match(value):
            raise ValueError("digest must be 'sha256:' followed by 64 lower-case hex digits")
        return value


class Lun(Model):
    """The storage-array logical unit behind a datastore."""

    target: str = Field(description="the array's target name, e.g. an iSCSI IQN")
    id: int = Field(ge=0, le=16383)


class Datastore(Model):
    """A datastore on a LUN that is masked to the listed hosts only."""

    name: Name
    capacity: ByteSize
    lun: Lun | None = None
    masked_to: tuple[Name, ...] = Field((), description="the hosts that can see this LUN")
    tags: tuple[Name, ...] = ()
    description: str = ""


class Disk(Model):
    """A virtual disk owned by exactly one guest (the guest that lists it)."""

    name: Name
    datastore: Name
    size: ByteSize
    iops_limit: int | None = Field(None, gt=0)
    bandwidth_limit: ByteSize | None = Field(None, description="bytes per second")


class CpuAllocation(Model):
    """A guest's vCPUs and its reservation, limit and shares (in vCPUs)."""

    count: int = Field(1, gt=0, le=768)
    reservation: int = Field(0, ge=0)
    limit: int | None = Field(None, gt=0)
    shares: int = Field(DEFAULT_SHARES, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> CpuAllocation:
        if self.reservation > self.count:
            raise ValueError(f"reservation ({self.reservation}) exceeds count ({self.count})")
        if self.limit is not None and self.reservation > self.limit:
            raise ValueError(f"reservation ({self.reservation}) exceeds limit ({self.limit})")
        return self


class MemoryAllocation(Model):
    """A guest's memory size and its reservation, limit and shares."""

    size: ByteSize = Field(gt=0)
    reservation: ByteSize = 0
    limit: ByteSize | None = None
    shares: int = Field(DEFAULT_SHARES, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> MemoryAllocation:
        if self.reservation > self.size:
            raise ValueError(f"reservation ({self.reservation}) exceeds size ({self.size})")
        if self.limit is not None and self.reservation > self.limit:
            raise ValueError(f"reservation ({self.reservation}) exceeds limit ({self.limit})")
        return self


class ManagementAccess(Model):
    """How a guest is managed (vCMP Isolation Mode): isolated, or on the management network."""

    isolation: bool = Field(
        True,
        description="true: no interface on the management network; manage the guest only "
        "through its own data-plane address (SSH/HTTPS)",
    )
    mac: MacAddress | None = None
    address: IPv4Address | IPv6Address | None = None

    @model_validator(mode="after")
    def _interface_only_when_bridged(self) -> ManagementAccess:
        if self.isolation and (self.mac or self.address):
            raise ValueError("an isolated guest has no management interface: drop mac/address")
        if not self.isolation and not (self.mac and self.address):
            raise ValueError("a guest without isolation needs a management mac and address")
        return self


class HyperThreading(StrEnum):
    """Core sharing with other guests' vCPUs."""

    ANY = "any"
    INTERNAL = "internal"
    NONE = "none"


class PowerState(StrEnum):
    """Whether the guest runs (keys are released only to running guests)."""

    RUNNING = "running"
    STOPPED = "stopped"


class Guest(Model):
    """A virtual machine: image, resources, placement, vNICs and disks."""

    name: Name
    image: Name
    host: Name | None = Field(None, description="set to pin; otherwise placement picks one")
    pool: Name | None = None
    cpu: CpuAllocation = CpuAllocation()
    memory: MemoryAllocation
    tags: tuple[Name, ...] = ()
    management: ManagementAccess = ManagementAccess()
    appliance_mode: bool = Field(False, description="no shell; everything through the API")
    hyperthreading: HyperThreading = HyperThreading.INTERNAL
    page_sharing: bool = Field(False, description="copy-on-write page sharing with other guests")
    power: PowerState = PowerState.RUNNING
    vnics: tuple[Vnic, ...] = ()
    disks: tuple[Disk, ...] = ()
    description: str = ""

    @field_validator("vnics")
    @classmethod
    def _unique_vnic_names(cls, value: tuple[Vnic, ...]) -> tuple[Vnic, ...]:
        _require_unique([v.name for v in value], "vNIC")
        return value

    @field_validator("disks")
    @classmethod
    def _unique_disk_names(cls, value: tuple[Disk, ...]) -> tuple[Disk, ...]:
        _require_unique([d.name for d in value], "disk")
        return value


def _require_unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"two {what}s are named {name!r}")
        seen.add(name)

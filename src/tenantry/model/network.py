"""Networking: physical networks, virtual switches, port groups, segments, routers, vNICs."""

from __future__ import annotations

import re
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from tenantry.model._base import Model
from tenantry.model.ids import BitRate, ByteSize, MacAddress, Name, OverlayId, VlanId

__all__ = [
    "DefaultAction",
    "IpAddress",
    "IpNetwork",
    "L2Security",
    "Network",
    "OverlaySegment",
    "PhysicalNetwork",
    "PortGroup",
    "Router",
    "Segment",
    "SharedService",
    "Subnet",
    "Toggle",
    "TrafficShaping",
    "VirtualSwitch",
    "VlanMode",
    "VlanPolicy",
    "VlanRange",
    "VlanSegment",
    "Vnic",
]

IpAddress = IPv4Address | IPv6Address
IpNetwork = IPv4Network | IPv6Network

_RANGE_RE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")


def _parse_vlan_range(value: Any) -> tuple[int, int]:
    if isinstance(value, bool):
        raise ValueError("expected a VLAN id or range such as 100-199")
    if isinstance(value, int):
        low = high = value
    elif isinstance(value, str) and (match := _RANGE_RE.match(value)):
        low = int(match.group(1))
        high = int(match.group(2) or low)
    elif (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        # Only two whole numbers: int() of anything else raises TypeError, which pydantic
        # does not turn into a located validation error (found by schemathesis).
        low, high = value[0], value[1]
    else:
        raise ValueError(f"{value!r} is not a VLAN id or range (write 100 or 100-199)")
    if not 1 <= low <= high <= 4094:
        raise ValueError(f"{value!r}: VLAN ranges lie within 1-4094, low end first")
    return (low, high)


def _format_vlan_range(value: tuple[int, int]) -> str | int:
    return value[0] if value[0] == value[1] else f"{value[0]}-{value[1]}"


VlanRange = Annotated[
    tuple[int, int],
    BeforeValidator(_parse_vlan_range),
    PlainSerializer(_format_vlan_range, when_used="json"),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "integer", "minimum": 1, "maximum": 4094},
                {"type": "string", "pattern": r"^\d+(-\d+)?$"},
            ],
            "description": "a VLAN id (100) or an inclusive range (100-199)",
        }
    ),
]


def vlan_in(ranges: tuple[tuple[int, int], ...], vlan: int) -> bool:
    """Whether ``vlan`` lies in one of the inclusive ranges."""
    return any(low <= vlan <= high for low, high in ranges)


class PhysicalNetwork(Model):
    """A physical network and the VLAN ids the provider may hand out on it."""

    name: Name
    vlan_ranges: tuple[VlanRange, ...] = ()
    mtu: int = Field(1500, ge=576, le=9216)
    description: str = ""


class VirtualSwitch(Model):
    """A virtual switch spanning the hosts of its clusters; it never learns MAC addresses."""

    name: Name
    clusters: tuple[Name, ...] = Field(description="the switch exists on every host of these")
    physical_network: Name | None = Field(
        None, description="the physical network its uplinks reach; none: an internal switch"
    )
    uplinks: tuple[Name, ...] = Field((), description="host uplink (NIC) names it uses")
    tags: tuple[Name, ...] = ()
    description: str = ""

    @model_validator(mode="after")
    def _uplinks_need_network(self) -> VirtualSwitch:
        if self.uplinks and self.physical_network is None:
            raise ValueError("a switch with uplinks must name its physical_network")
        return self


class VlanMode(StrEnum):
    """How VLAN tags are handled on a port group (seed 003)."""

    VST = "vst"  # the switch tags and strips; guests send untagged frames
    EST = "est"  # the external switch tags; one segment per port group
    VGT = "vgt"  # guest tagging on a trunk restricted to an explicit VLAN list


class VlanPolicy(Model):
    """A port group's VLAN mode; VST carries one id, VGT an explicit trunk list."""

    mode: VlanMode
    id: VlanId | None = None
    trunk: tuple[VlanRange, ...] = ()

    @model_validator(mode="after")
    def _fields_match_mode(self) -> VlanPolicy:
        if self.mode is VlanMode.VST and (self.id is None or self.trunk):
            raise ValueError("vst needs an id and no trunk list")
        if self.mode is VlanMode.EST and (self.id is not None or self.trunk):
            raise ValueError("est takes neither id nor trunk (the external switch tags)")
        if self.mode is VlanMode.VGT and (self.id is not None or not self.trunk):
            raise ValueError("vgt needs an explicit trunk list and no id (there is no native VLAN)")
        return self


class Toggle(StrEnum):
    """An L2 security setting: ``reject`` (the secure default) or ``accept``."""

    REJECT = "reject"
    ACCEPT = "accept"


class L2Security(Model):
    """Provider-owned L2 security of a port group; every relaxation is explicit."""

    promiscuous: Toggle = Toggle.REJECT
    mac_changes: Toggle = Toggle.REJECT
    forged_transmits: Toggle = Toggle.REJECT
    dhcp_server: Toggle = Field(Toggle.REJECT, description="accept: may send DHCP replies")
    router_advertisements: Toggle = Field(Toggle.REJECT, description="accept: may send IPv6 RAs")

    def relaxations(self) -> tuple[str, ...]:
        """Names of the settings that are relaxed from their secure default."""
        return tuple(name for name, value in self if value is Toggle.ACCEPT)


class TrafficShaping(Model):
    """Egress shaping of each port: average and peak rate, burst size."""

    average: BitRate
    peak: BitRate
    burst: ByteSize

    @model_validator(mode="after")
    def _peak_not_below_average(self) -> TrafficShaping:
        if self.peak < self.average:
            raise ValueError("peak must be at least average")
        return self


class PortGroup(Model):
    """A provider-owned port template: switch, VLAN mode, L2 security, shaping."""

    name: Name
    switch: Name
    vlan: VlanPolicy
    security: L2Security = L2Security()
    shaping: TrafficShaping | None = None
    tags: tuple[Name, ...] = ()
    description: str = ""


class VlanSegment(Model):
    """A segment carried as a VLAN on a physical network."""

    type: Literal["vlan"] = "vlan"
    physical_network: Name
    vlan: VlanId


class OverlaySegment(Model):
    """A segment carried in an overlay (Geneve/VXLAN) id."""

    type: Literal["overlay"] = "overlay"
    overlay: OverlayId


def _segment_type(value: Any) -> str:
    """The segment's kind: explicit ``type``, else ``overlay`` if an overlay id is given."""
    if isinstance(value, dict):
        return str(value.get("type") or ("overlay" if "overlay" in value else "vlan"))
    return str(getattr(value, "type", "vlan"))


Segment = Annotated[
    Annotated[VlanSegment, Tag("vlan")] | Annotated[OverlaySegment, Tag("overlay")],
    Discriminator(_segment_type),
]


class Subnet(Model):
    """An IPv4 or IPv6 subnet of a segment, with the gateway address its router answers on."""

    cidr: IpNetwork
    gateway: IpAddress | None = None

    @field_validator("cidr", mode="before")
    @classmethod
    def _strict_cidr(cls, value: Any) -> Any:
        if isinstance(value, str):
            from ipaddress import ip_network  # noqa: PLC0415 - local: only parsing needs it

            try:
                ip_network(value, strict=True)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a network address with prefix: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _gateway_inside(self) -> Subnet:
        if self.gateway is not None:
            if self.gateway.version != self.cidr.version or self.gateway not in self.cidr:
                raise ValueError(f"gateway {self.gateway} is outside {self.cidr}")
            if (
                self.cidr.version == 4
                and self.cidr.prefixlen < 31
                and self.gateway
                in (
                    self.cidr.network_address,
                    self.cidr.broadcast_address,
                )
            ):
                raise ValueError(f"gateway {self.gateway} is not a host address of {self.cidr}")
        return self


class DefaultAction(StrEnum):
    """What happens to traffic that no policy decided."""

    DENY = "deny"
    ALLOW = "allow"


class Network(Model):
    """A tenant network: one segment, its subnets and its default action."""

    name: Name
    segment: Segment = Field(description="provider-owned: the VLAN or overlay id")
    subnets: tuple[Subnet, ...] = ()
    default_action: DefaultAction = DefaultAction.DENY
    description: str = ""


class Router(Model):
    """A router joining its owner's networks, answering on each network's subnet gateways."""

    name: Name
    networks: tuple[Name, ...] = Field(min_length=1)
    description: str = ""


class SharedService(Model):
    """A provider network offered to named tenants (DNS, backup, an external network)."""

    name: Name
    network: Name = Field(description="the provider network that carries the service")
    granted_to: tuple[Name, ...] = ()
    description: str = ""


class Vnic(Model):
    """A virtual NIC locked to one MAC and a list of addresses, on a port group."""

    name: Name
    port_group: Name
    network: Name | None = Field(None, description="one of the owner's own networks")
    service: Name | None = Field(None, description="a shared service granted to the owner")
    mac: MacAddress
    addresses: tuple[IpAddress, ...] = ()
    tags: tuple[Name, ...] = ()

    @model_validator(mode="after")
    def _one_attachment(self) -> Vnic:
        if self.network is not None and self.service is not None:
            raise ValueError("a vNIC attaches to a network or a shared service, not both")
        return self

    @field_validator("addresses")
    @classmethod
    def _unique_addresses(cls, value: tuple[IpAddress, ...]) -> tuple[IpAddress, ...]:
        if len(set(value)) != len(value):
            raise ValueError("an address is listed twice")
        for address in value:
            if address.is_multicast or address.is_unspecified:
                raise ValueError(f"{address} cannot be locked to a vNIC")
        return value

"""The compiled form of an estate ("programs"): the contract between the compiler and every
backend, the verifier and ``tenantry trace``.

``compile_estate(estate)`` produces one :class:`Programs`. It holds everything a data plane
enforces and nothing it does not (physical facts such as shared uplinks and LUN masking stay in
the model). docs/semantics.md says what each part means on the wire; this docstring says how
it is laid out.

Identifiers are dense integers. ``Programs.segments[i].id == i``, ``Programs.policies[i].id ==
i``, and so on: ids are positions, assigned when an object is first compiled and kept by
:func:`tenantry.compiler.recompile` while the object lives, so that an incremental change
touches only what changed. Ids are therefore *not* canonical across two compiles of the same
estate; compare programs with :meth:`Programs.canonical` (names, not ids). A deleted object
leaves a tombstone (``None``) at its id, or a port row whose ``live`` is false.

Segments (:class:`Segment`)
    One per network: a VLAN on a physical network or an overlay id, its owner, its subnets and
    gateways, its default action, and whether it carries a shared service or is the provider's
    management network.

Ports (:class:`PortTable`, columnar: one row per port, numpy arrays)
    A row per vNIC, plus a row per management interface of a guest with ``management.isolation:
    false`` (``kind == PortKind.MANAGEMENT``, on the provider's management segment). Columns:
    owner (index into ``Programs.owners``), guest (index into ``Programs.guests``), vNIC name
    (index into ``Programs.vnic_names``), host (index into ``Programs.hosts``, -1: not placed),
    port group (index into ``Programs.port_groups``, -1 for management ports), segment (-1 for a
    VGT trunk: see the trunk CSR), VLAN mode, locked MAC (48-bit int), L2 flags
    (:class:`PortFlag`), shaping profile (index into ``Programs.shapings``, -1: none), tag set
    (index into ``Programs.tagsets``), policy chain (index into ``Programs.chains``) and
    ``live``. Host, vNIC-name and shaping indices are int16 (at most 32,767 of each; the
    compiler refuses more), CSR offsets int32. Locked addresses are CSR arrays:
    ``v4_offsets``/``v4`` (uint32) and ``v6_offsets``/``v6`` (rows of two uint64 halves). The
    EUI-64 link-local address is derived from the MAC (:meth:`PortTable.link_local`), not
    stored. A VGT trunk's VLAN -> segment map
    is the CSR ``trunk_offsets``/``trunk_vlans``/``trunk_segments``.

Router interfaces (:class:`RouterInterface`)
    One per (router, joined network): the segment, the interface MAC (``model.router_mac``),
    the gateway addresses it answers ARP/ND for, and the subnets it routes.

Policies (:class:`CompiledPolicy`, :class:`CompiledRule`)
    Each policy of the estate compiled once (host-independent content; a host installs the
    policies that its ports' chains name). Rules keep their tier, action, direction, IP
    protocol number, destination ports as a merged set of ranges, the peer
    (:class:`CompiledPeer`: any, CIDRs, an address set, or a shared service's address set), log,
    and their origin (policy reference and rule index) for explanations.

Address sets (:class:`AddressSet`)
    Selector peers resolved to the selected ports' locked addresses, and service peers
    resolved to the service network's subnets; each a :class:`PrefixSet` (stays a set at any
    size) plus, for selectors, the member port rows.

Chains (:class:`Chain`)
    The policies that apply to a port, in evaluation order (tier, order, name, owner). Ports
    with the same owner and tag set share one chain; a port row names its chain.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass, field
from enum import IntEnum, IntFlag, StrEnum
from functools import cached_property
from ipaddress import IPv4Address, IPv6Address
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from tenantry.compiler.addresses import PrefixSet, format_mac, link_local_halves
from tenantry.model import (
    PROVIDER,
    TIER_ORDER,
    Action,
    DefaultAction,
    Direction,
    IpAddress,
    IpNetwork,
    Ref,
    Tier,
    TrafficShaping,
)

if TYPE_CHECKING:
    from tenantry.compiler._rule_columns import RuleColumns

__all__ = [
    "AddressSet",
    "AddressSetKey",
    "Chain",
    "CompiledPeer",
    "CompiledPolicy",
    "CompiledRule",
    "PeerKind",
    "PortFlag",
    "PortKind",
    "PortTable",
    "Programs",
    "RouterInterface",
    "RuleOrigin",
    "Segment",
    "SegmentKind",
    "VlanModeCode",
]

NO_PORTS: npt.NDArray[np.int32] = np.zeros(0, np.int32)
NO_PORTS.flags.writeable = False
ANY_PROTOCOL = -1
"""``CompiledRule.protocol`` for rules that match every IP protocol."""


class SegmentKind(StrEnum):
    """How a segment is carried: a VLAN on a physical network, or an overlay id."""

    VLAN = "vlan"
    OVERLAY = "overlay"


@dataclass(frozen=True, slots=True)
class Segment:
    """One network's segment: its wire key, owner, subnets and what it is for."""

    id: int
    network: Ref
    kind: SegmentKind
    physical_network: str
    """The physical network of a VLAN segment; empty for overlays."""
    tag: int
    """The VLAN id or the overlay id."""
    subnets: tuple[IpNetwork, ...]
    gateways: tuple[IpAddress, ...]
    default_action: DefaultAction
    service: str | None = None
    """The shared service this provider segment carries (tenant ports on it are isolated)."""
    management: bool = False
    """Whether this is the provider's management network."""
    mtu: int = 1500

    @property
    def owner(self) -> str:
        return self.network.owner

    @property
    def key(self) -> tuple[str, str, int]:
        """What identifies the segment on the wire (``model.segment_key``)."""
        return (str(self.kind), self.physical_network, self.tag)


class PortKind(IntEnum):
    """A vNIC, or a guest's management interface on the provider's management network."""

    VNIC = 0
    MANAGEMENT = 1


class VlanModeCode(IntEnum):
    """The port group's VLAN mode, as stored in ``PortTable.vlan_mode``."""

    VST = 0
    EST = 1
    VGT = 2


class PortFlag(IntFlag):
    """L2 security relaxations of the port group, and the port's role on a shared service."""

    NONE = 0
    PROMISCUOUS = 1
    MAC_CHANGES = 2
    FORGED_TRANSMITS = 4
    DHCP_SERVER = 8
    """May send DHCP server replies (UDP source port 67, or 547 for DHCPv6)."""
    ROUTER_ADVERTISEMENTS = 16
    """May send IPv6 router advertisements."""
    SERVICE_CONSUMER = 32
    """A non-provider port on a shared-service segment: isolated from other non-provider ports."""
    SERVICE_PROVIDER = 64
    """A provider-owned port on a shared-service segment: a service endpoint, reaches everyone."""


def _frozen(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class PortTable:
    """Every port as columns (numpy arrays, one row per port); see the module docstring."""

    owner: npt.NDArray[np.int32]
    guest: npt.NDArray[np.int32]
    vnic_name: npt.NDArray[np.int16]
    kind: npt.NDArray[np.uint8]
    host: npt.NDArray[np.int16]
    port_group: npt.NDArray[np.int32]
    segment: npt.NDArray[np.int32]
    vlan_mode: npt.NDArray[np.uint8]
    mac: npt.NDArray[np.uint64]
    flags: npt.NDArray[np.uint8]
    shaping: npt.NDArray[np.int16]
    tagset: npt.NDArray[np.int32]
    chain: npt.NDArray[np.int32]
    live: npt.NDArray[np.bool_]
    v4_offsets: npt.NDArray[np.int32]
    v4: npt.NDArray[np.uint32]
    v6_offsets: npt.NDArray[np.int32]
    v6: npt.NDArray[np.uint64]
    """Shape (n, 2): high and low 64 bits of each locked IPv6 address."""
    trunk_offsets: npt.NDArray[np.int32]
    trunk_vlans: npt.NDArray[np.uint16]
    trunk_segments: npt.NDArray[np.int32]

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            _frozen(getattr(self, name))

    def __len__(self) -> int:
        return int(self.owner.shape[0])

    def v4_of(self, row: int) -> npt.NDArray[np.uint32]:
        """The locked IPv4 addresses of a port (as integers)."""
        return self.v4[self.v4_offsets[row] : self.v4_offsets[row + 1]]

    def v6_of(self, row: int) -> npt.NDArray[np.uint64]:
        """The locked IPv6 addresses of a port (rows of two halves)."""
        return self.v6[self.v6_offsets[row] : self.v6_offsets[row + 1]]

    def addresses(self, row: int) -> tuple[IpAddress, ...]:
        """The locked addresses of a port as ipaddress objects (link-local not included)."""
        out: list[IpAddress] = [IPv4Address(int(a)) for a in self.v4_of(row)]
        out.extend(IPv6Address((int(hi) << 64) | int(lo)) for hi, lo in self.v6_of(row))
        return tuple(out)

    def link_local(self, row: int) -> IPv6Address:
        """The EUI-64 link-local address derived from the port's MAC (always allowed)."""
        hi, lo = link_local_halves(int(self.mac[row]))
        return IPv6Address((hi << 64) | lo)

    def trunk_of(self, row: int) -> tuple[tuple[int, int], ...]:
        """A VGT trunk's (VLAN, segment id) pairs; empty for other ports."""
        start, end = int(self.trunk_offsets[row]), int(self.trunk_offsets[row + 1])
        return tuple(
            zip(
                self.trunk_vlans[start:end].tolist(),
                self.trunk_segments[start:end].tolist(),
                strict=True,
            )
        )

    def segments_of(self, row: int) -> tuple[int, ...]:
        """Every segment a port reaches at layer 2: its own, or each of its trunk's."""
        own = int(self.segment[row])
        if own >= 0:
            return (own,)
        return tuple(seg for _, seg in self.trunk_of(row))

    def nbytes(self) -> int:
        """Bytes held by the columns."""
        return sum(int(getattr(self, name).nbytes) for name in self.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class RouterInterface:
    """A router's leg on one of its owner's networks."""

    router: Ref
    segment: int
    mac: str
    gateways: tuple[IpAddress, ...]
    subnets: tuple[IpNetwork, ...]

    @property
    def owner(self) -> str:
        return self.router.owner


class PeerKind(StrEnum):
    """What a rule's peer is."""

    ANY = "any"
    CIDR = "cidr"
    SELECTOR = "selector"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class CompiledPeer:
    """The other end of a rule: any address, CIDRs, or an address set (selector or service)."""

    kind: PeerKind
    cidrs: tuple[IpNetwork, ...] = ()
    address_set: int = -1
    service: str | None = None


@dataclass(frozen=True, slots=True)
class RuleOrigin:
    """Where a compiled rule comes from: the policy and the rule's index in it."""

    policy: Ref
    rule: int

    def __str__(self) -> str:
        return f"policy {self.policy} rule {self.rule}"


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """One rule, ready to match: first match in its tier decides."""

    origin: RuleOrigin
    tier: Tier
    action: Action
    direction: Direction
    protocol: int
    """IP protocol number (6 tcp, 17 udp, 1 icmp, 58 icmpv6); ANY_PROTOCOL (-1) for any."""
    ports: tuple[tuple[int, int], ...]
    """Destination port ranges, merged and sorted; empty: every port."""
    peer: CompiledPeer
    log: bool = False


class CompiledPolicy:
    """A policy compiled once, whatever the number of ports it applies to.

    Immutable, compared by value like the other IR types. ``rules`` is a tuple of
    :class:`CompiledRule`; a full compile keeps them as columns (``compiler._rule_columns``)
    and builds the tuple on each access, so callers that use ``rules`` often keep it."""

    __slots__ = ("_rules", "applies_to", "id", "order", "ref", "tier")
    __match_args__ = ("id", "ref", "tier", "order", "applies_to", "rules")

    id: int
    ref: Ref
    tier: Tier
    order: int
    applies_to: AddressSetKey
    """The ports it applies to: the owner's (or, for the provider, the named tenants') ports
    carrying every tag listed."""
    _rules: tuple[CompiledRule, ...] | RuleColumns

    def __init__(  # noqa: PLR0917 - the signature of the dataclass it replaced
        self,
        id: int,  # noqa: A002 - the IR's field name
        ref: Ref,
        tier: Tier,
        order: int,
        applies_to: AddressSetKey,
        rules: tuple[CompiledRule, ...] | RuleColumns = (),
    ) -> None:
        for name, value in (
            ("id", id),
            ("ref", ref),
            ("tier", tier),
            ("order", order),
            ("applies_to", applies_to),
            ("_rules", rules),
        ):
            object.__setattr__(self, name, value)

    @property
    def rules(self) -> tuple[CompiledRule, ...]:
        """The rules, in order: first match in the tier decides."""
        rules = self._rules
        if isinstance(rules, tuple):
            return rules
        return rules.rules_of(self)

    @property
    def rule_count(self) -> int:
        """``len(self.rules)`` without building the rules."""
        rules = self._rules
        return len(rules) if isinstance(rules, tuple) else rules.count(self.id)

    @property
    def sort_key(self) -> tuple[int, int, str, str]:
        """Evaluation order inside a chain: tier, order, name, owner."""
        return (TIER_ORDER.index(self.tier), self.order, self.ref.name, self.ref.owner)

    def _fields(self) -> tuple[object, ...]:
        return (self.id, self.ref, self.tier, self.order, self.applies_to, self.rules)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not CompiledPolicy:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((self.id, self.ref, self.tier, self.order, self.applies_to))

    def __repr__(self) -> str:
        return (
            f"CompiledPolicy(id={self.id!r}, ref={self.ref!r}, tier={self.tier!r}, "
            f"order={self.order!r}, applies_to={self.applies_to!r}, rules={self.rules!r})"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (
            CompiledPolicy,
            (self.id, self.ref, self.tier, self.order, self.applies_to, self._rules),
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


@dataclass(frozen=True, slots=True)
class AddressSetKey:
    """What an address set stands for: a selector in an owner's scope, or a shared service."""

    owner: str
    tags: tuple[str, ...] = ()
    tenants: tuple[str, ...] | None = None
    service: str | None = None

    def __str__(self) -> str:
        if self.service is not None:
            return f"service {self.service}"
        scope = self.owner if self.tenants is None else ",".join(self.tenants)
        if self.owner == PROVIDER and self.tenants is None:
            scope = "*"
        return f"{scope}:[{','.join(self.tags)}]"


@dataclass(frozen=True, eq=False, slots=True)
class AddressSet:
    """Addresses a peer stands for, as a prefix set; for selectors, the member port rows too."""

    id: int
    key: AddressSetKey
    prefixes: PrefixSet
    ports: npt.NDArray[np.int32] = field(default_factory=lambda: NO_PORTS)


@dataclass(frozen=True, slots=True)
class Chain:
    """The policies applying to a set of ports, in evaluation order (ids into policies)."""

    id: int
    policies: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class Programs:
    """Everything the data plane enforces, for every host (see the module docstring)."""

    owners: tuple[str, ...]
    hosts: tuple[str, ...]
    guests: tuple[Ref, ...]
    vnic_names: tuple[str, ...]
    port_groups: tuple[str, ...]
    shapings: tuple[TrafficShaping, ...]
    tagsets: tuple[frozenset[str], ...]
    segments: tuple[Segment | None, ...]
    ports: PortTable
    routers: tuple[RouterInterface, ...]
    policies: tuple[CompiledPolicy | None, ...]
    address_sets: tuple[AddressSet | None, ...]
    chains: tuple[Chain | None, ...]
    index: object = field(default=None, compare=False, repr=False)
    """Private to the compiler: the id maps that let ``recompile`` keep ids (may be None)."""

    # ------------------------------------------------------------------ names and lookups

    def port_name(self, row: int) -> str:
        """``owner/guest/vnic`` (``guest/vnic`` for the provider); management ports end in
        ``/.management``."""
        ports = self.ports
        guest = self.guests[int(ports.guest[row])]
        if int(ports.kind[row]) == PortKind.MANAGEMENT:
            return str(Ref(guest.owner, f"{guest.name}/.management"))
        return str(Ref(guest.owner, f"{guest.name}/{self.vnic_names[int(ports.vnic_name[row])]}"))

    @cached_property
    def _rows_by_name(self) -> dict[str, int]:
        return {
            self.port_name(row): row
            for row in np.flatnonzero(self.ports.live).tolist()  # only live rows have names
        }

    def port_row(self, name: str) -> int | None:
        """The row of a live port by name (``tenant/guest/vnic``), or None."""
        return self._rows_by_name.get(name)

    @cached_property
    def _segments_by_network(self) -> dict[Ref, int]:
        return {s.network: s.id for s in self.segments if s is not None}

    def segment_of(self, network: Ref) -> Segment | None:
        """The segment of a network."""
        found = self._segments_by_network.get(network)
        return None if found is None else self.segments[found]

    def port_mac(self, row: int) -> str:
        """The port's locked MAC as text."""
        return format_mac(int(self.ports.mac[row]))

    def owner_of(self, row: int) -> str:
        """The owner (tenant or provider) of a port."""
        return self.owners[int(self.ports.owner[row])]

    def chain_policies(self, row: int) -> tuple[CompiledPolicy, ...]:
        """The compiled policies applying to a port, in evaluation order."""
        chain = self.chains[int(self.ports.chain[row])]
        if chain is None:
            return ()
        return tuple(p for pid in chain.policies if (p := self.policies[pid]) is not None)

    def live_rows(self) -> npt.NDArray[np.intp]:
        """The rows of every live port."""
        return np.flatnonzero(self.ports.live)

    # ------------------------------------------------------------------ per host

    def host_rows(self, host: str) -> npt.NDArray[np.intp]:
        """The live ports on a host."""
        try:
            index = self.hosts.index(host)
        except ValueError:
            return np.zeros(0, np.intp)
        return np.flatnonzero(self.ports.live & (self.ports.host == index))

    def host_chains(self, host: str) -> tuple[int, ...]:
        """The chains a host's ports use (each installed once on that host)."""
        rows = self.host_rows(host)
        return tuple(np.unique(self.ports.chain[rows]).tolist())

    def host_policies(self, host: str) -> tuple[int, ...]:
        """The policies a host installs: each once, however many of its ports use it."""
        found: set[int] = set()
        for chain_id in self.host_chains(host):
            chain = self.chains[chain_id]
            if chain is not None:
                found.update(chain.policies)
        return tuple(sorted(found))

    def host_segments(self, host: str) -> tuple[int, ...]:
        """The segments with at least one port on the host."""
        found: set[int] = set()
        for row in self.host_rows(host).tolist():
            found.update(self.ports.segments_of(row))
        return tuple(sorted(found))

    def ports_of_policy(self, policy: int) -> npt.NDArray[np.intp]:
        """The live ports a policy applies to (an OVN port group)."""
        chains = [c.id for c in self.chains if c is not None and policy in c.policies]
        return np.flatnonzero(self.ports.live & np.isin(self.ports.chain, chains))

    def rule_count(self) -> int:
        """Compiled rules, each counted once (not per port)."""
        return sum(p.rule_count for p in self.policies if p is not None)

    # ------------------------------------------------------------------ comparison

    def canonical(self) -> dict[str, Any]:
        """The programs by name, without ids: equal for equal estates, however compiled."""
        from tenantry.compiler._canonical import canonical_form  # noqa: PLC0415 - a cycle

        return canonical_form(self)

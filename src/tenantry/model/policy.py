"""Hierarchical security policies: tiers, order, selectors, peers, rules (DESIGN 'Policy')."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema, model_validator

from tenantry.model._base import Model
from tenantry.model.ids import Name
from tenantry.model.network import IpNetwork

__all__ = [
    "TIER_ORDER",
    "Action",
    "Direction",
    "Peer",
    "Policy",
    "PortRange",
    "Protocol",
    "Rule",
    "Selector",
    "Tier",
]


class Tier(StrEnum):
    """Evaluated in this order; ``provider`` and ``baseline`` are written by the provider only."""

    PROVIDER = "provider"
    TENANT = "tenant"
    APPLICATION = "application"
    BASELINE = "baseline"


TIER_ORDER: tuple[Tier, ...] = (Tier.PROVIDER, Tier.TENANT, Tier.APPLICATION, Tier.BASELINE)
PROVIDER_TIERS = frozenset({Tier.PROVIDER, Tier.BASELINE})


class Action(StrEnum):
    """What a matching rule decides; ``pass`` skips the rest of its tier."""

    ALLOW = "allow"
    DENY = "deny"
    PASS = "pass"  # noqa: S105 - the policy action, not a password


class Direction(StrEnum):
    """Seen from the vNICs the policy applies to."""

    INGRESS = "ingress"
    EGRESS = "egress"


class Protocol(StrEnum):
    """The IP protocols rules can name."""

    ANY = "any"
    TCP = "tcp"
    UDP = "udp"
    ICMP = "icmp"
    ICMPV6 = "icmpv6"


PROTOCOL_NUMBERS = {Protocol.TCP: 6, Protocol.UDP: 17, Protocol.ICMP: 1, Protocol.ICMPV6: 58}


def _parse_port_range(value: Any) -> tuple[int, int]:
    if isinstance(value, bool):
        raise ValueError("expected a port or range such as 443 or 8000-8080")
    if isinstance(value, int):
        low = high = value
    elif isinstance(value, str):
        text = value.strip()
        first, sep, last = text.partition("-")
        if not first.isdigit() or (sep and not last.isdigit()):
            raise ValueError(f"{value!r} is not a port or range (write 443 or 8000-8080)")
        low = int(first)
        high = int(last) if sep else low
    else:
        raise ValueError(f"{value!r} is not a port or range (write 443 or 8000-8080)")
    if not 0 <= low <= high <= 65535:
        raise ValueError(f"{value!r}: ports lie within 0-65535, low end first")
    return (low, high)


PortRange = Annotated[
    tuple[int, int],
    BeforeValidator(_parse_port_range),
    PlainSerializer(lambda v: v[0] if v[0] == v[1] else f"{v[0]}-{v[1]}", when_used="json"),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "integer", "minimum": 0, "maximum": 65535},
                {"type": "string", "pattern": r"^\d+(-\d+)?$"},
            ],
            "description": "a port (443) or an inclusive range (8000-8080)",
        }
    ),
]


class Selector(Model):
    """Picks vNICs by tags (all listed tags must be present) inside the owner's scope.

    A tenant's selector only ever sees that tenant's vNICs; a provider selector may narrow
    to some tenants. No tags means every vNIC in scope.
    """

    tags: tuple[Name, ...] = ()
    tenants: tuple[Name, ...] | None = Field(
        None, description="provider policies only: limit to these tenants"
    )


class Peer(Model):
    """The other end of a rule: any address, a CIDR, a selector, or a shared service."""

    any: bool = False
    cidr: IpNetwork | None = None
    selector: Selector | None = None
    service: Name | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Peer:
        chosen = [self.any, self.cidr is not None, self.selector is not None, bool(self.service)]
        if sum(chosen) != 1:
            raise ValueError("a peer is exactly one of any: true, cidr, selector or service")
        return self


ANY_PEER = Peer(any=True)


class Rule(Model):
    """One rule: first match in its tier decides."""

    action: Action
    direction: Direction
    peer: Peer = ANY_PEER
    protocol: Protocol = Protocol.ANY
    ports: tuple[PortRange, ...] = Field((), description="destination ports (tcp/udp only)")
    log: bool = False
    description: str = ""

    @model_validator(mode="after")
    def _ports_need_transport(self) -> Rule:
        if self.ports and self.protocol not in (Protocol.TCP, Protocol.UDP):
            raise ValueError("ports need protocol tcp or udp")
        return self


class Policy(Model):
    """An ordered list of rules applied, within one tier, to the vNICs a selector picks."""

    name: Name
    tier: Tier
    order: int = Field(1000, ge=0, le=9999, description="lower runs first within the tier")
    applies_to: Selector = Selector()
    rules: tuple[Rule, ...] = ()
    description: str = ""

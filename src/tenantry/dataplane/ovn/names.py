"""Deterministic Northbound names and keys for every object tenantry writes.

A row's key (``external_ids:tenantry-id``) says what it stands for and starts with a category
(``seg/``, ``pol/<owner>/``, ``as/``...), so a scoped reconcile can address "every policy of
one owner". Port groups and address sets are referred to inside ACL matches (``@name``,
``$name``), where names must be identifiers: those names are a readable slug plus a short
hash of the key, so distinct keys never collide.
"""

from __future__ import annotations

import hashlib
import re

from tenantry.compiler import AddressSetKey
from tenantry.model import Ref

__all__ = [
    "INFRA_GROUPS",
    "LOG_METER",
    "address_set_base",
    "address_set_key",
    "address_set_name",
    "group_name",
    "localnet_port",
    "policy_key",
    "router_key",
    "router_port",
    "router_switch_port",
    "segment_group_key",
    "segment_key",
    "shaping_group_key",
    "trunk_child",
    "trunk_switch_key",
]

LOG_METER = "tenantry_acl_log"

#: Port groups of the fixed guard ACLs: key → what the members are.
INFRA_GROUPS = {
    "infra/vifs": "every guest-facing port (vNICs, trunk VLANs, management interfaces)",
    "infra/uplinks": "router and localnet ports: policy is judged at the vNIC edges",
    "infra/dhcp-servers": "ports designated to send DHCP server replies",
    "infra/no-dhcp-server": "every other guest-facing port",
    "infra/no-router-advertisement": "ports not designated to send router advertisements",
    "infra/service-consumers": "tenant ports on shared-service segments (isolated from each other)",
}


def _slug(text: str, limit: int = 40) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:limit] or "x"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def group_name(key: str) -> str:
    """The port group name (an identifier) for a key."""
    return f"tnt_{_slug(key)}_{_digest(key)}"


def address_set_base(key: str) -> str:
    """The name shared by a set's two address sets (``<base>_ip4``, ``<base>_ip6``)."""
    return group_name(key)  # both are OVN identifiers, in separate tables


def address_set_name(key: str, family: int) -> str:
    """The address set name (an identifier) for a key and an IP family."""
    return f"{address_set_base(key)}_ip{family}"


def segment_key(network: Ref) -> str:
    return f"seg/{network.owner}/{network.name}"


def segment_group_key(network: Ref) -> str:
    """The port group of a segment's guest-facing ports (its default action)."""
    return f"segports/{network.owner}/{network.name}"


def trunk_switch_key(port: str) -> str:
    """The switch that holds a VGT trunk's parent port alone (untagged frames go nowhere)."""
    return f"trunk/{port}"


def trunk_child(port: str, vlan: int) -> str:
    return f"{port}@{vlan}"


def localnet_port(network: Ref) -> str:
    return f"ln/{network.owner}/{network.name}"


def router_key(router: Ref) -> str:
    return f"router/{router.owner}/{router.name}"


def router_port(router: Ref, network: Ref) -> str:
    return f"lrp/{router.owner}/{router.name}/{network.owner}/{network.name}"


def router_switch_port(router: Ref, network: Ref) -> str:
    return f"rp/{router.owner}/{router.name}/{network.owner}/{network.name}"


def policy_key(policy: Ref) -> str:
    return f"pol/{policy.owner}/{policy.name}"


def shaping_group_key(average: int, peak: int, burst: int) -> str:
    return f"shape/{average}-{peak}-{burst}"


def address_set_key(key: AddressSetKey) -> str:
    if key.service is not None:
        return f"as/service/{key.service}"
    tenants = "*" if key.tenants is None else ",".join(key.tenants)
    return f"as/{key.owner}/{tenants}/{','.join(key.tags)}"

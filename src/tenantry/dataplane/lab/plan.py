"""What the lab builds: guests with their vNICs, and the hypervisors they plug into.

A plan is plain data, made by the caller from the compiled estate (see ``tenantry.cli.lab``);
the lab knows nothing of tenants or policies. A :class:`Hypervisor` is whatever can plug a
device into a chassis' integration bridge with an ``iface-id``; the OVN backend provides one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "GuestPlan",
    "Hypervisor",
    "LabPlan",
    "NicPlan",
    "VlanPlan",
    "host_device_name",
    "slug",
]

_IFNAMSIZ = 15


@dataclass(frozen=True)
class VlanPlan:
    """A VLAN the guest tags itself on a trunk vNIC (a subinterface ``<nic>.<vlan>``)."""

    vlan: int
    addresses: tuple[str, ...] = ()
    gateways: tuple[str, ...] = ()


@dataclass(frozen=True)
class NicPlan:
    """One vNIC: its name inside the guest, OVN port (``iface-id``), MAC and addresses.

    ``addresses`` are ``ip/prefix``; ``gateways`` become default routes (one per family).
    A trunk vNIC has no addresses of its own but ``vlans``.
    """

    ifname: str
    iface_id: str
    mac: str
    addresses: tuple[str, ...] = ()
    gateways: tuple[str, ...] = ()
    vlans: tuple[VlanPlan, ...] = ()


@dataclass(frozen=True)
class GuestPlan:
    """One guest: a network namespace on a chassis, with CPU (cores) and memory (bytes) limits."""

    name: str
    chassis: str
    nics: tuple[NicPlan, ...]
    cpu_limit: float | None = None
    memory_limit: int | None = None


@dataclass(frozen=True)
class LabPlan:
    """Every guest of one lab; ``prefix`` starts the name of everything the lab creates."""

    prefix: str
    guests: tuple[GuestPlan, ...]

    def guest(self, name: str) -> GuestPlan:
        for guest in self.guests:
            if guest.name == name:
                return guest
        raise KeyError(name)


class Hypervisor(Protocol):
    """A chassis as the lab sees it: a namespace holding ``br-int``, and port plumbing."""

    @property
    def name(self) -> str: ...

    @property
    def netns(self) -> str | None: ...

    def plug(self, ports: Mapping[str, str]) -> None:
        """Add devices (name → ``iface-id``) to the integration bridge, in one transaction."""
        ...

    def unplug(self, ports: Iterable[str]) -> None:
        """Remove these devices from the integration bridge; missing ones are ignored."""
        ...


def slug(name: str) -> str:
    """A name usable in namespace and cgroup names (``finance/web-1`` → ``finance-web-1``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "x"


def host_device_name(prefix: str, iface_id: str) -> str:
    """The hypervisor-side veth of a vNIC: short (IFNAMSIZ) and stable for its ``iface-id``."""
    digest = hashlib.sha256(iface_id.encode()).hexdigest()
    head = slug(prefix)[:4]
    return f"{head}{digest}"[:_IFNAMSIZ]

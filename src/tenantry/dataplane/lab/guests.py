"""Lab guests: build them from a plan, record exactly what was made, remove exactly that.

Everything created is written to ``guests.json`` in the lab directory *before* the next thing
is created, so ``down`` after a crash half-way through still removes what exists and nothing
that the lab did not make (a namespace of the same name made by someone else is refused).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tenantry.dataplane.lab import cgroups, namespaces
from tenantry.dataplane.lab.plan import GuestPlan, Hypervisor, LabPlan, host_device_name, slug
from tenantry.errors import BackendUnavailableError, ConflictError, NotFoundError

__all__ = ["GuestRecord", "Lab", "NicRecord"]

_INVENTORY = "guests.json"


@dataclass
class NicRecord:
    """A vNIC as built: guest device, hypervisor device and where that one lives."""

    ifname: str
    iface_id: str
    mac: str
    addresses: list[str]
    host_dev: str
    chassis: str
    chassis_netns: str | None
    plugged: bool = False


@dataclass
class GuestRecord:
    """A guest as built: its namespace, cgroups and vNICs."""

    name: str
    netns: str
    chassis: str
    nics: list[NicRecord] = field(default_factory=list)
    cgroups: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def nic(self, ifname: str) -> NicRecord:
        for nic in self.nics:
            if nic.ifname == ifname:
                return nic
        raise NotFoundError(f"guest {self.name} has no vNIC {ifname}")


class Lab:
    """The lab guests under one state directory."""

    def __init__(self, statedir: Path) -> None:
        self.statedir = Path(statedir)
        self.prefix = "tl"
        self.guests: dict[str, GuestRecord] = {}
        self._load()

    # ------------------------------------------------------------------ build
    def up(self, plan: LabPlan, hypervisors: Mapping[str, Hypervisor]) -> None:
        """Create every planned guest that does not exist yet, and plug its vNICs."""
        self.statedir.mkdir(parents=True, exist_ok=True)
        self.prefix = plan.prefix
        for guest in plan.guests:
            if guest.name not in self.guests:
                self._build(guest, hypervisors)
        self._plug(hypervisors)

    def _build(self, plan: GuestPlan, hypervisors: Mapping[str, Hypervisor]) -> None:
        hypervisor = hypervisors.get(plan.chassis)
        if hypervisor is None:
            raise NotFoundError(f"guest {plan.name} is planned on unknown chassis {plan.chassis}")
        name = f"{self.prefix}-{slug(plan.name)}"
        if namespaces.namespace_exists(name):
            raise ConflictError(
                f"network namespace {name} exists but the lab did not create it; refusing to "
                "reuse it",
                hint=f"Remove it (ip netns del {name}) if it is a leftover, then retry.",
            )
        record = GuestRecord(plan.name, name, plan.chassis)
        self.guests[plan.name] = record
        self._save()
        namespaces.create_namespace(name)
        limits = cgroups.CgroupLimits(f"tenantry-{name}", plan.cpu_limit, plan.memory_limit)
        record.cgroups = [str(path) for path in limits.directories()]
        self._save()
        cgroups.create(limits)
        for nic in plan.nics:
            ifname = nic.ifname if len(nic.ifname) <= 15 else f"nic{len(record.nics)}"
            host_dev = host_device_name(self.prefix, nic.iface_id)
            record.nics.append(
                NicRecord(
                    ifname,
                    nic.iface_id,
                    nic.mac,
                    list(nic.addresses),
                    host_dev,
                    plan.chassis,
                    hypervisor.netns,
                )
            )
            self._save()
            namespaces.create_veth(hypervisor.netns, host_dev, name, ifname)
            namespaces.configure_guest_nic(name, ifname, nic.mac, nic.addresses, nic.gateways)
            for vlan in nic.vlans:
                try:
                    namespaces.add_vlan(name, ifname, vlan.vlan, vlan.addresses, vlan.gateways)
                except BackendUnavailableError as exc:
                    # Kernels without 802.1Q (some microVMs) cannot make the subinterface;
                    # the guest still sends tagged frames through raw sockets.
                    record.notes.append(str(exc))
                    self._save()

    def _plug(self, hypervisors: Mapping[str, Hypervisor]) -> None:
        for chassis, hypervisor in hypervisors.items():
            pending = {
                nic.host_dev: nic.iface_id
                for guest in self.guests.values()
                for nic in guest.nics
                if nic.chassis == chassis and not nic.plugged
            }
            if not pending:
                continue
            hypervisor.plug(pending)
            for guest in self.guests.values():
                for nic in guest.nics:
                    if nic.host_dev in pending:
                        nic.plugged = True
            self._save()

    # ------------------------------------------------------------------ remove
    def down(self, hypervisors: Mapping[str, Hypervisor] | None = None) -> list[str]:
        """Remove every guest the lab created (and only those); what was removed."""
        removed: list[str] = []
        for name in list(self.guests):
            record = self.guests[name]
            hypervisor = (hypervisors or {}).get(record.chassis)
            plugged = [nic.host_dev for nic in record.nics if nic.plugged]
            if hypervisor is not None and plugged:
                hypervisor.unplug(plugged)
            for nic in record.nics:
                namespaces.delete_link(nic.chassis_netns, nic.host_dev)
            namespaces.delete_namespace(record.netns)
            cgroups.remove([Path(path) for path in record.cgroups])
            del self.guests[name]
            self._save()
            removed.append(name)
        return removed

    # ------------------------------------------------------------------ use
    def guest(self, name: str) -> GuestRecord:
        try:
            return self.guests[name]
        except KeyError:
            raise NotFoundError(
                f"no lab guest {name!r}", hint="List them with `tenantry lab status`."
            ) from None

    def spawn(self, name: str, argv: Sequence[str], **popen: object) -> subprocess.Popen[bytes]:
        """Start a process inside the guest: its namespace and its cgroups."""
        record = self.guest(name)
        directories = [Path(path) for path in record.cgroups]

        def enter_cgroups() -> None:
            cgroups.attach(directories, os.getpid())

        try:
            return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
                ["ip", "netns", "exec", record.netns, *argv],
                preexec_fn=enter_cgroups,  # noqa: PLW1509 - runs before exec, no threads used
                **popen,
            )
        except OSError as exc:
            raise BackendUnavailableError(f"cannot start {argv[0]} in {name}: {exc}") from exc

    # ------------------------------------------------------------------ state
    def _load(self) -> None:
        path = self.statedir / _INVENTORY
        if not path.exists():
            return
        data = json.loads(path.read_text())
        self.prefix = data.get("prefix", self.prefix)
        for entry in data.get("guests", []):
            nics = [NicRecord(**nic) for nic in entry.pop("nics")]
            self.guests[entry["name"]] = GuestRecord(**entry, nics=nics)

    def _save(self) -> None:
        self.statedir.mkdir(parents=True, exist_ok=True)
        data = {"prefix": self.prefix, "guests": [asdict(g) for g in self.guests.values()]}
        tmp = self.statedir / (_INVENTORY + ".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        tmp.replace(self.statedir / _INVENTORY)

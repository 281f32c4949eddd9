"""The lab environment: a real OVS/OVN deployment on this machine, enforcing an estate, with
its guests as network namespaces. Ties the OVN backend and the lab together (neither knows
the other): ``tenantry lab up/down/status``, the attack runner and the root-only tests use it.

Two chassis by default (``hv1``, ``hv2``), each in its own namespace, joined by a fabric; the
estate's hosts are split between them in name order (h1, h2 → hv1; h3, h4 → hv2), which gives
both same-chassis and cross-chassis paths. Everything lives under one directory and is
recorded there, so ``down`` (even from another process) removes exactly what ``up`` made.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from tenantry.compiler import PortFlag, Programs, compile_estate
from tenantry.dataplane.lab import Lab, plan_lab
from tenantry.dataplane.ovn import ChassisConfig, ChassisPorts, OvnBackend, OvnDeployment
from tenantry.dataplane.ovn.chassis import install_router_advertisement_guard
from tenantry.errors import BackendUnavailableError
from tenantry.model import Estate

__all__ = ["LabEnvironment", "LabLayout", "require_root"]

_LAYOUT = "lab.json"
_UNDERLAY = "172.31.255.{}/24"


def require_root(what: str = "the lab") -> None:
    """Refuse clearly when not root (namespaces, OVS and cgroups need it)."""
    missing = [
        tool for tool in ("ovs-vswitchd", "ovn-northd", "ovn-controller") if not shutil.which(tool)
    ]
    if os.geteuid() != 0:
        raise BackendUnavailableError(
            f"{what} needs root: it creates network namespaces, veths, cgroups and runs "
            "ovs-vswitchd/ovn-controller",
            hint="Run it as root (sudo), or in CI where the runner is root.",
        )
    if missing:
        raise BackendUnavailableError(
            f"{what} needs Open vSwitch and OVN: {', '.join(missing)} not found",
            hint="apt-get install openvswitch-switch ovn-central ovn-host",
        )


@dataclass
class LabLayout:
    """Names and addresses of one lab, kept in ``lab.json``."""

    prefix: str = "tnt"
    chassis: int = 2
    chassis_of_host: dict[str, str] = field(default_factory=dict)

    def chassis_configs(self, physical_networks: tuple[str, ...]) -> list[ChassisConfig]:
        return [
            ChassisConfig(f"hv{i}", f"{self.prefix}-hv{i}", _UNDERLAY.format(i), physical_networks)
            for i in range(1, self.chassis + 1)
        ]


class LabEnvironment:
    """OVS/OVN, the estate enforced on it, and the estate's guests, under ``directory``."""

    def __init__(self, directory: Path, *, prefix: str = "tnt", chassis: int = 2) -> None:
        self.directory = Path(directory)
        path = self.directory / _LAYOUT
        if path.exists():
            self.layout = LabLayout(**json.loads(path.read_text()))
        else:
            self.layout = LabLayout(prefix, chassis)
        self.lab = Lab(self.directory / "guests")
        self._deployment: OvnDeployment | None = None
        self._backend: OvnBackend | None = None
        self._ports: dict[str, ChassisPorts] = {}

    # ------------------------------------------------------------------ parts
    @property
    def ovn_dir(self) -> Path:
        return self.directory / "ovn"

    def deployment(self) -> OvnDeployment:
        if self._deployment is None:
            self._deployment = OvnDeployment.load(self.ovn_dir)
        return self._deployment

    def backend(self) -> OvnBackend:
        if self._backend is None:
            self._backend = OvnBackend(
                self.deployment().nb_remote, chassis_of_host=self.layout.chassis_of_host
            )
            self._backend.datapath_barrier = self.deployment().wait_for_datapaths
        return self._backend

    def hypervisors(self) -> dict[str, ChassisPorts]:
        if not self._ports:
            deployment = self.deployment()
            self._ports = {c.name: ChassisPorts(deployment, c.name) for c in deployment.chassis}
        return self._ports

    def liveness(self) -> dict[str, int | None]:
        return self.deployment().liveness()

    # ------------------------------------------------------------------ lifecycle
    def up(self, estate: Estate) -> Programs:
        """Start OVS/OVN if needed, enforce the estate, create its guests; the programs."""
        require_root()
        self.directory.mkdir(parents=True, exist_ok=True)
        hosts = sorted(ref.name for ref in estate.hosts)
        per_chassis = max(1, -(-len(hosts) // self.layout.chassis))
        self.layout.chassis_of_host = {
            host: f"hv{1 + index // per_chassis}" for index, host in enumerate(hosts)
        }
        self._save_layout()
        networks = tuple(sorted(ref.name for ref in estate.physical_networks))
        if (self.ovn_dir / "deployment.json").exists():
            deployment = OvnDeployment.load(self.ovn_dir)
        else:
            deployment = OvnDeployment(
                self.ovn_dir,
                self.layout.chassis_configs(networks),
                clustered=True,
                fabric_netns=f"{self.layout.prefix}-fabric",
            )
        deployment.start()  # starts only what is not running
        deployment.wait_for_chassis()
        self._deployment = deployment
        programs = compile_estate(estate)
        self.backend().apply(programs)
        plan = plan_lab(programs, estate, self.layout.chassis_of_host, self.layout.prefix)
        self.lab.up(plan, self.hypervisors())
        self.wait_until_ports_up()
        self.guard(programs)
        return programs

    def guard(self, programs: Programs) -> int:
        """(Re)install the router-advertisement guard on every chassis; flows installed."""
        no_ra = {
            programs.port_name(row)
            for row in programs.live_rows().tolist()
            if not int(programs.ports.flags[row]) & PortFlag.ROUTER_ADVERTISEMENTS
        }
        deployment = self.deployment()
        return sum(
            install_router_advertisement_guard(deployment, chassis.name, no_ra)
            for chassis in deployment.chassis
        )

    def wait_until_ports_up(self, timeout: float = 30.0) -> None:
        """Until OVN reports every plugged guest port ``up`` (flows installed on its chassis)."""
        wanted = {nic.iface_id for guest in self.lab.guests.values() for nic in guest.nics}
        client = self.backend().client
        deadline = time.monotonic() + timeout
        while True:
            waiting = wanted - client.ports_up()
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise BackendUnavailableError(
                    f"{len(waiting)} lab port(s) not up after {timeout} s: "
                    + ", ".join(sorted(waiting)[:5])
                )
            time.sleep(0.1)

    def down(self) -> list[str]:
        """Remove the guests, stop the daemons, delete the namespaces: what ``up`` made."""
        require_root()
        hypervisors = self.hypervisors() if (self.ovn_dir / "deployment.json").exists() else {}
        removed = self.lab.down(hypervisors)
        self.close()
        if (self.ovn_dir / "deployment.json").exists():
            self.deployment().stop()
            shutil.rmtree(self.ovn_dir, ignore_errors=True)
        (self.directory / _LAYOUT).unlink(missing_ok=True)
        return removed

    def close(self) -> None:
        for ports in self._ports.values():
            ports.close()
        self._ports = {}
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    def _save_layout(self) -> None:
        state = {
            "prefix": self.layout.prefix,
            "chassis": self.layout.chassis,
            "chassis_of_host": self.layout.chassis_of_host,
        }
        (self.directory / _LAYOUT).write_text(json.dumps(state, indent=2) + "\n")

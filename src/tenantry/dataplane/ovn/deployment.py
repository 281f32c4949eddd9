"""A complete OVS/OVN deployment under one run directory: central databases, northd, chassis.

Central: ``ovsdb-server`` for the Northbound and Southbound databases (unix sockets; the
Northbound optionally a one-member Raft cluster, whose commits are durable) and ``ovn-northd``.
Each chassis: its own ``ovsdb-server`` (local ``Open_vSwitch`` database), ``ovs-vswitchd`` under
its monitor and ``ovn-controller``, optionally inside a network namespace so that several
chassis share one machine. ``br-int`` is ``datapath_type=netdev`` (no kernel module) and
``fail_mode=secure`` (never a learning switch). A chassis may have a provider bridge
``br-phys`` carrying its uplink: VLAN-backed segments leave through it (``ovn-bridge-mappings``)
and so does Geneve when the encapsulation address lives on its local port.

The layout is written to ``deployment.json`` so that another process (``tenantry lab down``,
``tenantry attack run``) can find and stop exactly these daemons.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from tenantry.dataplane.ovn import fabric
from tenantry.dataplane.ovn.daemons import Daemon, run_tool
from tenantry.errors import BackendUnavailableError, NotFoundError

__all__ = ["PROVIDER_BRIDGE", "ChassisConfig", "OvnDeployment"]

PROVIDER_BRIDGE = "br-phys"

_NB_SCHEMA = Path("/usr/share/ovn/ovn-nb.ovsschema")
_SB_SCHEMA = Path("/usr/share/ovn/ovn-sb.ovsschema")
_VSWITCH_SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
_STATE_FILE = "deployment.json"


@dataclass(frozen=True)
class ChassisConfig:
    """One hypervisor: OVN system-id, namespace, tunnel address and physical networks.

    ``encap`` is ``address/prefix``; with ``physical_networks`` the chassis gets ``br-phys``
    (mapped to each of them) with its fabric uplink, and the address lives there.
    """

    name: str
    netns: str | None = None
    encap: str = "127.0.0.1/8"
    physical_networks: tuple[str, ...] = ()

    @property
    def encap_ip(self) -> str:
        return self.encap.split("/", 1)[0]

    @property
    def bridge_mappings(self) -> dict[str, str]:
        return dict.fromkeys(self.physical_networks, PROVIDER_BRIDGE)


class OvnDeployment:
    """OVS and OVN daemons under ``rundir``; start, stop, restart and check them."""

    def __init__(
        self,
        rundir: Path,
        chassis: Sequence[ChassisConfig] = (),
        *,
        clustered: bool = False,
        fabric_netns: str | None = None,
    ) -> None:
        self.rundir = Path(rundir)
        self.chassis = tuple(chassis)
        self.clustered = clustered
        self.fabric_netns = fabric_netns
        self.created_namespaces: list[str] = []

    # ------------------------------------------------------------------ addresses
    @property
    def nb_remote(self) -> str:
        return f"unix:{self.rundir / 'nb.sock'}"

    @property
    def sb_remote(self) -> str:
        return f"unix:{self.rundir / 'sb.sock'}"

    def chassis_dir(self, name: str) -> Path:
        return self.rundir / name

    def chassis_env(self, name: str) -> dict[str, str]:
        """Environment under which ``ovs-vsctl``, ``ovs-appctl`` etc. address this chassis."""
        path = str(self.chassis_dir(name))
        return {
            "OVS_RUNDIR": path,
            "OVS_DBDIR": path,
            "OVS_LOGDIR": path,
            "OVS_SYSCONFDIR": path,
            "OVN_RUNDIR": path,
            "OVN_LOGDIR": path,
            "OVS_SYSTEM_ID": name,
        }

    def ovs_remote(self, name: str) -> str:
        return f"unix:{self.chassis_dir(name) / 'db.sock'}"

    def config(self, name: str) -> ChassisConfig:
        for chassis in self.chassis:
            if chassis.name == name:
                return chassis
        raise NotFoundError(f"chassis {name!r} is not part of the deployment in {self.rundir}")

    # ------------------------------------------------------------------ daemons
    def central_daemons(self) -> list[Daemon]:
        run = self.rundir
        return [
            Daemon(
                "ovsdb-nb",
                (
                    "ovsdb-server",
                    f"--remote=punix:{run / 'nb.sock'}",
                    f"--unixctl={run / 'nb.ctl'}",
                    str(run / "nb.db"),
                ),
                run / "nb.pid",
                run / "nb.log",
            ),
            Daemon(
                "ovsdb-sb",
                (
                    "ovsdb-server",
                    f"--remote=punix:{run / 'sb.sock'}",
                    f"--unixctl={run / 'sb.ctl'}",
                    str(run / "sb.db"),
                ),
                run / "sb.pid",
                run / "sb.log",
            ),
            Daemon(
                "ovn-northd",
                (
                    "ovn-northd",
                    f"--ovnnb-db={self.nb_remote}",
                    f"--ovnsb-db={self.sb_remote}",
                    f"--unixctl={run / 'northd.ctl'}",
                ),
                run / "northd.pid",
                run / "northd.log",
            ),
        ]

    def chassis_daemons(self, name: str) -> list[Daemon]:
        chassis = self.config(name)
        path = self.chassis_dir(name)
        env = self.chassis_env(name)
        db = self.ovs_remote(name)

        def daemon(short: str, argv: tuple[str, ...]) -> Daemon:
            return Daemon(
                f"{name}/{short}",
                argv,
                path / f"{short}.pid",
                path / f"{short}.log",
                netns=chassis.netns,
                env=env,
            )

        return [
            daemon(
                "ovsdb-server",
                (
                    "ovsdb-server",
                    f"--remote=punix:{path / 'db.sock'}",
                    "--remote=db:Open_vSwitch,Open_vSwitch,manager_options",
                    f"--unixctl={path / 'ovsdb-server.ctl'}",
                    str(path / "conf.db"),
                ),
            ),
            daemon(
                "ovs-vswitchd",
                ("ovs-vswitchd", "--monitor", f"--unixctl={path / 'ovs-vswitchd.ctl'}", db),
            ),
            daemon(
                "ovn-controller",
                # ovn-controller 23.03 has no --unixctl; its socket is found via OVN_RUNDIR.
                ("ovn-controller", db),
            ),
        ]

    def daemons(self) -> list[Daemon]:
        found = self.central_daemons()
        for chassis in self.chassis:
            found.extend(self.chassis_daemons(chassis.name))
        return found

    def daemon(self, name: str) -> Daemon:
        for candidate in self.daemons():
            if candidate.name == name:
                return candidate
        raise NotFoundError(f"no daemon {name!r} in the deployment in {self.rundir}")

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Create the databases and start every daemon; idempotent for running daemons."""
        for tool in ("ovsdb-server", "ovs-vswitchd", "ovn-northd", "ovn-controller"):
            if shutil.which(tool) is None:
                raise BackendUnavailableError(
                    f"{tool} not found on PATH",
                    hint="apt-get install openvswitch-switch ovn-central ovn-host",
                )
        self.rundir.mkdir(parents=True, exist_ok=True)
        self.save()
        try:
            self._create_central_databases()
            for daemon in self.central_daemons():
                if daemon.pid() is None:
                    daemon.start()
            run_tool(["ovn-nbctl", f"--db={self.nb_remote}", "--no-wait", "init"])
            run_tool(["ovn-sbctl", f"--db={self.sb_remote}", "init"])
            self._create_namespaces()
            for chassis in self.chassis:
                self._start_chassis(chassis)
            self.save()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every daemon of this deployment (chassis first); leaves the files."""
        for chassis in reversed(self.chassis):
            server, vswitchd, controller = self.chassis_daemons(chassis.name)
            controller.stop()
            if vswitchd.pid() is not None:
                # A netdev datapath's tap devices outlive the process unless it releases them.
                ctl = self.chassis_dir(chassis.name) / "ovs-vswitchd.ctl"
                run_tool(["ovs-appctl", "-t", str(ctl), "exit", "--cleanup"], check=False)
            vswitchd.stop()
            server.stop()
        for daemon in reversed(self.central_daemons()):
            daemon.stop()
        for netns in reversed(self.created_namespaces):
            fabric.delete_namespace(netns)
        self.created_namespaces = []
        if (self.rundir / _STATE_FILE).exists():
            self.save()

    def restart(self, name: str) -> int:
        """Stop and start one daemon (by name, e.g. ``ovn-northd``); its new pid."""
        daemon = self.daemon(name)
        daemon.stop()
        return daemon.start()

    def liveness(self) -> dict[str, int | None]:
        """Each daemon's pid, or None for a daemon that is not running."""
        return {daemon.name: daemon.pid() for daemon in self.daemons()}

    def wait_for_datapaths(self) -> None:
        """Wait until every chassis' ovs-vswitchd has revalidated its datapath flows.

        ``hv_cfg`` says the OpenFlow tables are installed; flows already cached in the
        datapath keep forwarding until the revalidators have gone over them (measured: up to
        ~50 ms of packets of a just-removed group member). This closes that window.
        """
        for chassis in self.chassis:
            ctl = self.chassis_dir(chassis.name) / "ovs-vswitchd.ctl"
            run_tool(["ovs-appctl", "-t", str(ctl), "revalidator/wait"], check=False)

    def wait_for_chassis(self, timeout: float = 20.0) -> None:
        """Wait until every chassis has registered itself in the Southbound database."""
        wanted = {chassis.name for chassis in self.chassis}
        deadline = time.monotonic() + timeout
        while True:
            listed = run_tool(
                [
                    "ovn-sbctl",
                    f"--db={self.sb_remote}",
                    "--bare",
                    "--columns=name",
                    "list",
                    "Chassis",
                ]
            )
            if wanted <= set(listed.split()):
                return
            if time.monotonic() > deadline:
                missing = ", ".join(sorted(wanted - set(listed.split())))
                raise BackendUnavailableError(f"chassis {missing} did not register in {timeout} s")
            time.sleep(0.1)

    # ------------------------------------------------------------------ persistence
    def save(self) -> None:
        state = {
            "clustered": self.clustered,
            "fabric_netns": self.fabric_netns,
            "created_namespaces": self.created_namespaces,
            "chassis": [asdict(chassis) for chassis in self.chassis],
        }
        (self.rundir / _STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")

    @classmethod
    def load(cls, rundir: Path) -> OvnDeployment:
        """The deployment recorded in ``rundir`` by an earlier :meth:`start`."""
        try:
            state = json.loads((Path(rundir) / _STATE_FILE).read_text())
        except (OSError, ValueError) as exc:
            raise NotFoundError(
                f"no OVN deployment recorded in {rundir}", hint="Start one with `tenantry lab up`."
            ) from exc
        chassis = [
            ChassisConfig(**{**entry, "physical_networks": tuple(entry["physical_networks"])})
            for entry in state["chassis"]
        ]
        found = cls(
            Path(rundir),
            chassis,
            clustered=bool(state["clustered"]),
            fabric_netns=state["fabric_netns"],
        )
        found.created_namespaces = list(state["created_namespaces"])
        return found

    # ------------------------------------------------------------------ internals
    def _create_central_databases(self) -> None:
        nb = self.rundir / "nb.db"
        if not nb.exists():
            if self.clustered:
                address = f"tcp:127.0.0.1:{_free_port()}"
                run_tool(["ovsdb-tool", "create-cluster", str(nb), str(_NB_SCHEMA), address])
            else:
                run_tool(["ovsdb-tool", "create", str(nb), str(_NB_SCHEMA)])
        sb = self.rundir / "sb.db"
        if not sb.exists():
            run_tool(["ovsdb-tool", "create", str(sb), str(_SB_SCHEMA)])

    def _create_namespaces(self) -> None:
        if self.fabric_netns is not None and fabric.create_fabric(self.fabric_netns):
            self.created_namespaces.append(self.fabric_netns)
        for chassis in self.chassis:
            if chassis.netns is None:
                continue
            if fabric.create_namespace(chassis.netns):
                self.created_namespaces.append(chassis.netns)
            if self.fabric_netns is not None and chassis.physical_networks:
                fabric.link_to_fabric(chassis.name, chassis.netns, self.fabric_netns)

    def _start_chassis(self, chassis: ChassisConfig) -> None:
        path = self.chassis_dir(chassis.name)
        path.mkdir(parents=True, exist_ok=True)
        conf = path / "conf.db"
        if not conf.exists():
            run_tool(["ovsdb-tool", "create", str(conf), str(_VSWITCH_SCHEMA)])
        server, vswitchd, controller = self.chassis_daemons(chassis.name)
        if server.pid() is None:
            server.start()
        self._configure_chassis(chassis)
        if vswitchd.pid() is None:
            vswitchd.start()
        if chassis.physical_networks:
            # The tap device of br-phys exists once ovs-vswitchd has created the bridge.
            run_tool(
                [
                    "ovs-vsctl",
                    f"--db={self.ovs_remote(chassis.name)}",
                    "--timeout=10",
                    "wait-until",
                    "Interface",
                    PROVIDER_BRIDGE,
                    "ofport>0",
                ],
                env=self.chassis_env(chassis.name),
            )
            fabric.address_provider_bridge(chassis.netns, PROVIDER_BRIDGE, chassis.encap)
        if controller.pid() is None:
            controller.start()

    def _configure_chassis(self, chassis: ChassisConfig) -> None:
        mappings = ",".join(f"{net}:{bridge}" for net, bridge in chassis.bridge_mappings.items())
        # Routed packets leave a VLAN switch with this chassis' own MAC, not the router's,
        # so the physical network never sees one router MAC behind several hypervisors.
        digest = hashlib.sha256(chassis.name.encode()).digest()
        chassis_mac = "0e:" + ":".join(f"{b:02x}" for b in digest[:5])
        mac_mappings = ",".join(f"{net}:{chassis_mac}" for net in chassis.physical_networks)
        argv = [
            "ovs-vsctl",
            f"--db={self.ovs_remote(chassis.name)}",
            "--no-wait",
            "--",
            "init",
            "--",
            "set",
            "Open_vSwitch",
            ".",
            f"external_ids:system-id={chassis.name}",
            f"external_ids:hostname={chassis.name}",
            f"external_ids:ovn-remote={self.sb_remote}",
            "external_ids:ovn-encap-type=geneve",
            f"external_ids:ovn-encap-ip={chassis.encap_ip}",
            "external_ids:ovn-bridge=br-int",
            "external_ids:ovn-bridge-datapath-type=netdev",
            f'external_ids:ovn-bridge-mappings="{mappings}"',
            f'external_ids:ovn-chassis-mac-mappings="{mac_mappings}"',
            # Revalidation cycles every 100 ms (default 500): wait_for_datapaths is that fast.
            "other_config:max-revalidator=100",
            "--",
            "--may-exist",
            "add-br",
            "br-int",
            "--",
            "set",
            "Bridge",
            "br-int",
            "datapath_type=netdev",
            "fail_mode=secure",
            "other_config:disable-in-band=true",
        ]
        if chassis.physical_networks:
            argv += ["--", "--may-exist", "add-br", PROVIDER_BRIDGE]
            argv += ["--", "set", "Bridge", PROVIDER_BRIDGE, "datapath_type=netdev"]
            if self.fabric_netns is not None and chassis.netns is not None:
                argv += ["--", "--may-exist", "add-port", PROVIDER_BRIDGE, fabric.UPLINK]
        run_tool(argv, env=self.chassis_env(chassis.name))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

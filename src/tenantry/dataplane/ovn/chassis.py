"""A chassis' integration bridge through ovsdbapp: plug and unplug guest devices.

Plugging a device with ``external_ids:iface-id`` is what binds it to its logical switch port;
``ovn-controller`` then installs that port's flows. This is the lab's ``Hypervisor``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ovsdbapp.backend.ovs_idl import connection as ovsdbapp_connection
from ovsdbapp.schema.open_vswitch import impl_idl

from tenantry.dataplane.ovn.daemons import run_tool
from tenantry.dataplane.ovn.deployment import OvnDeployment
from tenantry.errors import BackendUnavailableError

__all__ = [
    "GUARD_COOKIE",
    "INTEGRATION_BRIDGE",
    "ChassisPorts",
    "guard_flows",
    "install_router_advertisement_guard",
]

INTEGRATION_BRIDGE = "br-int"


class ChassisPorts:
    """Ports of one chassis' ``br-int`` (connects on first use)."""

    def __init__(self, deployment: OvnDeployment, name: str) -> None:
        self._config = deployment.config(name)
        self._remote = deployment.ovs_remote(name)
        self._api: Any = None

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def netns(self) -> str | None:
        return self._config.netns

    def _connect(self) -> Any:
        if self._api is None:
            try:
                idl = ovsdbapp_connection.OvsdbIdl.from_server(self._remote, "Open_vSwitch")
                conn = ovsdbapp_connection.Connection(idl=idl, timeout=30)
                api_class = type("TenantryOpenVswitch", (impl_idl.OvsdbIdl,), {})
                self._api = api_class(conn)
            except Exception as exc:  # ovsdbapp raises bare exceptions on connect
                raise BackendUnavailableError(
                    f"cannot connect to chassis {self.name}'s database at {self._remote}: {exc}"
                ) from exc
        return self._api

    def plug(self, ports: Mapping[str, str]) -> None:
        api = self._connect()
        try:
            with api.transaction(check_error=True) as txn:
                for device, iface_id in sorted(ports.items()):
                    txn.add(api.add_port(INTEGRATION_BRIDGE, device, may_exist=True))
                    txn.add(
                        api.db_set("Interface", device, ("external_ids", {"iface-id": iface_id}))
                    )
        except Exception as exc:  # ovsdbapp wraps server errors in RuntimeError
            raise BackendUnavailableError(f"cannot plug ports on {self.name}: {exc}") from exc

    def unplug(self, ports: Iterable[str]) -> None:
        api = self._connect()
        try:
            with api.transaction(check_error=True) as txn:
                for device in sorted(ports):
                    txn.add(api.del_port(device, bridge=INTEGRATION_BRIDGE, if_exists=True))
        except Exception as exc:  # ovsdbapp wraps server errors in RuntimeError
            raise BackendUnavailableError(f"cannot unplug ports on {self.name}: {exc}") from exc

    def interface_ofport(self, device: str) -> int | None:
        """The OpenFlow port of a plugged device (None until ovs-vswitchd opened it)."""
        api = self._connect()
        with api.ovsdb_connection.lock:
            for row in api.idl.tables["Interface"].rows.values():
                if row.name == device:
                    ofport = list(row.ofport)
                    return int(ofport[0]) if ofport and ofport[0] > 0 else None
        return None

    def close(self) -> None:
        if self._api is not None:
            self._api.ovsdb_connection.stop(timeout=5)
            self._api = None


GUARD_COOKIE = 0x7E7A0001
"""OpenFlow cookie of tenantry's router-advertisement guard flows on ``br-int``."""
_GUARD_PRIORITY = 200


def guard_flows(ofports: list[int]) -> list[str]:
    """Table-0 drops for router advertisements and redirects (and later ICMPv6 fragments,
    which could carry them) from these guest ports.

    OVN 23.03 exempts neighbour discovery with hop limit 255 from ACLs on every switch with
    stateful ACLs, so no ACL can stop a guest's router advertisement; these flows run before
    OVN's own ingress flows for the port. ovn-controller does not remove flows it did not
    install, but ovs-vswitchd forgets all flows when it restarts: install them again then.
    """
    flows = []
    for port in sorted(ofports):
        head = f"cookie={GUARD_COOKIE:#x},table=0,priority={_GUARD_PRIORITY},in_port={port}"
        flows.append(f"{head},icmp6,icmp_type=134,actions=drop")
        flows.append(f"{head},icmp6,icmp_type=137,actions=drop")
        flows.append(f"{head},ipv6,nw_frag=later,nw_proto=58,actions=drop")
    return flows


def install_router_advertisement_guard(
    deployment: OvnDeployment, chassis: str, iface_ids: set[str]
) -> int:
    """Install the guard on a chassis for the plugged ports whose ``iface-id`` is listed; the
    number of flows now present."""
    ports = ChassisPorts(deployment, chassis)
    try:
        api = ports._connect()
        with api.ovsdb_connection.lock:
            ofports = [
                port
                for row in api.idl.tables["Interface"].rows.values()
                if row.external_ids.get("iface-id") in iface_ids
                for port in row.ofport
                if port > 0
            ]
    finally:
        ports.close()
    env = deployment.chassis_env(chassis)
    bridge = str(deployment.chassis_dir(chassis) / f"{INTEGRATION_BRIDGE}.mgmt")
    run_tool(["ovs-ofctl", "del-flows", bridge, f"cookie={GUARD_COOKIE:#x}/-1"], env=env)
    flows = guard_flows(ofports)
    if flows:
        run_tool(["ovs-ofctl", "add-flows", bridge, "-"], env=env, stdin="\n".join(flows) + "\n")
    dump = run_tool(["ovs-ofctl", "dump-flows", bridge, f"cookie={GUARD_COOKIE:#x}/-1"], env=env)
    return sum(1 for line in dump.splitlines() if "cookie=" in line)

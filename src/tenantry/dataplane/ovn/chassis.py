"""A chassis' integration bridge through ovsdbapp: plug and unplug guest devices.

Plugging a device with ``external_ids:iface-id`` is what binds it to its logical switch port;
``ovn-controller`` then installs that port's flows. This is the lab's ``Hypervisor``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ovsdbapp.backend.ovs_idl import connection as ovsdbapp_connection
from ovsdbapp.schema.open_vswitch import impl_idl

from tenantry.dataplane.ovn.deployment import OvnDeployment
from tenantry.errors import BackendUnavailableError

__all__ = ["INTEGRATION_BRIDGE", "ChassisPorts"]

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

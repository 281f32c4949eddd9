"""The Northbound database through ovsdbapp: connect, reconcile in one transaction, wait for hv.

ovsdbapp keeps an IDL replica of the database current in a background thread; a reconcile
compares desired rows with the replica (see ``sync``) and sends the difference as one raw
OVSDB ``transact`` on a connection of its own (see ``transact``), so one round trip per
intent; the replica catches up in the background, and every later read first waits until it
has seen the client's own last write (``settle``). ``wait_for_chassis`` is
``ovn-nbctl --wait=hv``: it bumps ``nb_cfg`` and waits until every chassis reports ``hv_cfg``
at least that high, which is when the flows are installed (admit a port only then).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ovsdbapp.backend.ovs_idl import connection as ovsdbapp_connection
from ovsdbapp.backend.ovs_idl import idlutils
from ovsdbapp.schema.ovn_northbound import impl_idl

from tenantry.dataplane.ovn._jsonparser import use_c_parser
from tenantry.dataplane.ovn.daemons import run_tool
from tenantry.dataplane.ovn.rows import NAMED_TABLES, Change, Ref, Row
from tenantry.dataplane.ovn.sync import Scope, Sync
from tenantry.dataplane.ovn.transact import RawTransaction, TransactConnection
from tenantry.errors import BackendUnavailableError

__all__ = ["DEFAULT_OWNER", "NorthboundClient"]

DEFAULT_OWNER = "tenantry"


_UNWATCHED = {"Logical_Switch_Port": frozenset({"up", "dynamic_addresses"})}
"""Status columns northd writes back: not replicated (they are not ours to compare, and
watching them doubles the update traffic of every bulk write); see ``ports_up``."""


class _Idl(ovsdbapp_connection.OvsdbIdl):  # type: ignore[misc]
    """The IDL replica, without ovsdbapp's per-row ``sleep(0)`` (a yield to green threads we
    do not have, which costs more than the row on a busy machine)."""

    def cooperative_yield(self) -> None:
        return None

    def notify(self, event: str, row: Any, updates: Any = None) -> None:
        """Called by the IDL thread for every row the database changed: wake the watchers."""
        super().notify(event, row, updates)
        for watcher in tuple(getattr(self, "tenantry_watchers", ())):
            watcher.set()


class NorthboundClient:
    """One ovsdbapp connection to a Northbound database, owning rows under ``owner``."""

    def __init__(self, remote: str, *, owner: str = DEFAULT_OWNER, timeout: float = 30.0) -> None:
        self.remote = remote
        self.owner = owner
        self.timeout = timeout
        use_c_parser()
        try:
            helper = idlutils.get_schema_helper(remote, "OVN_Northbound")
            for table, schema in helper.schema_json["tables"].items():
                skip = _UNWATCHED.get(table, frozenset())
                helper.register_columns(table, [c for c in schema["columns"] if c not in skip])
            idl = _Idl(remote, helper)
            conn = ovsdbapp_connection.Connection(idl=idl, timeout=timeout)
            # ovsdbapp keeps the connection on the class: a class per client keeps them apart.
            api_class = type("TenantryNorthbound", (impl_idl.OvnNbApiIdlImpl,), {})
            self.api = api_class(conn, start=False, auto_index=False)
            # Indexes exist before the first rows arrive, so every row is indexed.
            for table in NAMED_TABLES:
                self.api.create_index(table, "name")
            self.api.start_connection(conn)
        except Exception as exc:  # ovsdbapp raises bare Exception/TimeoutException on connect
            raise BackendUnavailableError(
                f"cannot connect to the Northbound database at {remote}: {exc}"
            ) from exc
        self._writer = TransactConnection(remote, timeout)
        self._mark_key = f"tenantry-txn-{owner}"
        self._pending: str | None = None

    def watch(self) -> threading.Event:
        """An event the replica sets whenever any Northbound row changes (clear it yourself)."""
        event = threading.Event()
        watchers: list[threading.Event] = getattr(self.api.idl, "tenantry_watchers", [])
        watchers.append(event)
        self.api.idl.tenantry_watchers = watchers
        return event

    def close(self) -> None:
        self._writer.close()
        self.api.ovsdb_connection.stop(timeout=5)

    def settle(self, timeout: float | None = None) -> None:
        """Wait until the replica holds this client's last write (its token in NB_Global)."""
        token = self._pending
        if token is None:
            return
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            with self.lock:
                rows = list(self.api.idl.tables["NB_Global"].rows.values())
                seen = not rows or rows[0].external_ids.get(self._mark_key) == token
            if seen:
                self._pending = None
                return
            if time.monotonic() > deadline:
                raise BackendUnavailableError(
                    f"the Northbound replica did not show tenantry's last write within {limit} s",
                    hint="Check the Northbound ovsdb-server (`tenantry lab status`).",
                )
            time.sleep(0.001)

    # ------------------------------------------------------------------ reading
    def drift(
        self,
        desired: Sequence[Row],
        *,
        options: Mapping[str, str] | None = None,
        full: bool = True,
        scope: Scope | None = None,
    ) -> list[Change]:
        """What a reconcile would change, without writing."""
        self.settle()
        with self.api.ovsdb_connection.lock:
            sync = Sync(self.api.idl, self.owner)
            sync.global_options(options or {})
            sync.roots(desired, full=full, scope=scope)
        return sync.changes

    def ports_up(self) -> set[str]:
        """Names of the logical switch ports OVN reports ``up`` (bound, flows installed)."""
        out = run_tool(
            [
                "ovn-nbctl",
                f"--db={self.remote}",
                "--bare",
                "--columns=name",
                "find",
                "Logical_Switch_Port",
                "up=true",
            ]
        )
        return set(out.split())

    def rows(self, table: str) -> list[Any]:
        """The replica's rows of one table (read under the connection lock; do not keep)."""
        self.settle()
        with self.api.ovsdb_connection.lock:
            return list(self.api.idl.tables[table].rows.values())

    @property
    def idl(self) -> Any:
        return self.api.idl

    @property
    def lock(self) -> Any:
        return self.api.ovsdb_connection.lock

    # ------------------------------------------------------------------ writing
    def reconcile(
        self,
        desired: Sequence[Row],
        *,
        full: bool = True,
        removed: Iterable[Ref] = (),
        options: Mapping[str, str] | None = None,
        bump_nb_cfg: bool = True,
        scope: Scope | None = None,
    ) -> list[Change]:
        """Make the owned rows match ``desired`` in one transaction; what was changed."""
        arguments: dict[str, Any] = {
            "desired": desired,
            "full": full,
            "removed": tuple(removed),
            "options": options,
            "bump_nb_cfg": bump_nb_cfg,
            "scope": scope,
        }
        try:
            return self._reconcile_once(**arguments)
        except BackendUnavailableError:
            if not self._writer.lost:
                raise
        # The connection went away (a restarted ovsdb-server): compare again once the replica
        # has resynchronised, so a write that did land is not made twice.
        self._wait_for_replica()
        return self._reconcile_once(**arguments)

    def _reconcile_once(
        self,
        *,
        desired: Sequence[Row],
        full: bool,
        removed: Sequence[Ref],
        options: Mapping[str, str] | None,
        bump_nb_cfg: bool,
        scope: Scope | None,
    ) -> list[Change]:
        self.settle()
        txn = RawTransaction()
        with self.lock:
            sync = Sync(self.api.idl, self.owner, txn)
            sync.global_options(options or {})
            sync.roots(desired, full=full, removed=removed, scope=scope)
        if not sync.changes:
            return []
        if bump_nb_cfg:
            # As ovn-nbctl --wait does: a new nb_cfg that northd and chassis acknowledge.
            txn.mutate_all("NB_Global", [["nb_cfg", "+=", 1]])
        token = uuid.uuid4().hex
        txn.mark("NB_Global", "external_ids", self._mark_key, token)
        self._writer.transact(txn.ops)
        self._pending = token
        return sync.changes

    def _wait_for_replica(self) -> None:
        """Until the IDL is connected and monitoring again (its contents are then current)."""
        self._pending = None
        idl = self.api.idl
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            with self.lock:
                if idl.state == idl.IDL_S_MONITORING and idl._session.is_connected():
                    return
            time.sleep(0.01)

    def wait_for_chassis(self, timeout: float = 30.0) -> None:
        """Wait until every chassis has applied the current ``nb_cfg`` (``--wait=hv``)."""
        self.settle(timeout)
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                rows = list(self.api.idl.tables["NB_Global"].rows.values())
                done = bool(rows) and rows[0].hv_cfg >= rows[0].nb_cfg
            if done:
                return
            if time.monotonic() > deadline:
                raise BackendUnavailableError(
                    f"chassis did not apply the Northbound changes within {timeout} s",
                    hint="Check ovn-northd and ovn-controller (`tenantry lab status`).",
                )
            time.sleep(0.01)

"""The Northbound database through ovsdbapp: connect, reconcile in one transaction, wait for hv.

ovsdbapp keeps an IDL replica of the database current in a background thread; a reconcile is
one ovsdbapp command that compares and writes inside one OVSDB transaction (see ``sync``), so
at most one round trip per intent. ``wait_for_chassis`` is ``ovn-nbctl --wait=hv``: it bumps
``nb_cfg`` and waits until every chassis reports ``hv_cfg`` at least that high, which is when
the flows are installed (admit a port only then).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ovsdbapp.backend.ovs_idl import command as ovsdbapp_command
from ovsdbapp.backend.ovs_idl import connection as ovsdbapp_connection
from ovsdbapp.backend.ovs_idl import idlutils
from ovsdbapp.schema.ovn_northbound import impl_idl

from tenantry.dataplane.ovn._jsonparser import use_c_parser
from tenantry.dataplane.ovn.daemons import run_tool
from tenantry.dataplane.ovn.rows import NAMED_TABLES, Change, Ref, Row
from tenantry.dataplane.ovn.sync import Scope, Sync
from tenantry.errors import BackendUnavailableError, ConflictError, TenantryError

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


class _ReconcileCommand(ovsdbapp_command.BaseCommand):  # type: ignore[misc]
    """Compare and write inside the transaction (re-run from scratch on TRY_AGAIN)."""

    def __init__(
        self,
        api: Any,
        *,
        owner: str,
        desired: Sequence[Row],
        full: bool,
        removed: Sequence[Ref],
        options: Mapping[str, str],
        bump_nb_cfg: bool,
        scope: Scope | None = None,
    ) -> None:
        super().__init__(api)
        self.owner = owner
        self.desired = desired
        self.full = full
        self.removed = removed
        self.options = options
        self.bump_nb_cfg = bump_nb_cfg
        self.scope = scope

    def run_idl(self, txn: Any) -> None:
        sync = Sync(self.api.idl, self.owner, txn)
        sync.global_options(self.options)
        sync.roots(self.desired, full=self.full, removed=self.removed, scope=self.scope)
        if self.bump_nb_cfg and sync.changes:
            # As ovn-nbctl --wait does: a new nb_cfg that northd and chassis acknowledge.
            for row in self.api.idl.tables["NB_Global"].rows.values():
                row.increment("nb_cfg")
        self.result = sync.changes


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

    def close(self) -> None:
        self.api.ovsdb_connection.stop(timeout=5)

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
        command = _ReconcileCommand(
            self.api,
            owner=self.owner,
            desired=desired,
            full=full,
            removed=tuple(removed),
            options=options or {},
            bump_nb_cfg=bump_nb_cfg,
            scope=scope,
        )
        try:
            with self.api.transaction(check_error=True) as txn:
                txn.add(command)
        except TenantryError:
            raise
        except idlutils.RowNotFound as exc:
            raise ConflictError(f"Northbound row vanished during the transaction: {exc}") from exc
        except Exception as exc:  # ovsdbapp wraps server errors in RuntimeError/TimeoutException
            raise BackendUnavailableError(f"Northbound transaction failed: {exc}") from exc
        return list(command.result or [])

    def wait_for_chassis(self, timeout: float = 30.0) -> None:
        """Wait until every chassis has applied the current ``nb_cfg`` (``--wait=hv``)."""
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

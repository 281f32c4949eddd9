"""Raw transactions against a real Northbound database: errors are clear and change nothing."""

from __future__ import annotations

import pytest

from tenantry.dataplane.ovn import OvnDeployment
from tenantry.dataplane.ovn.daemons import run_tool
from tenantry.dataplane.ovn.rows import ColumnKind
from tenantry.dataplane.ovn.transact import RawTransaction, TransactConnection
from tenantry.errors import BackendUnavailableError, ConflictError


def _groups(central: OvnDeployment) -> list[str]:
    out = run_tool(["ovn-nbctl", f"--db={central.nb_remote}", "--bare", "--columns=name",
                    "list", "Port_Group"])  # fmt: skip
    return sorted(out.split())


def test_a_duplicate_name_is_a_conflict_and_nothing_is_written(
    ovn_central: OvnDeployment,
) -> None:
    """Two port groups of one name in one transaction: ConflictError, and neither exists."""
    connection = TransactConnection(ovn_central.nb_remote, timeout=10)
    before = _groups(ovn_central)
    txn = RawTransaction()
    for _ in range(2):
        group = txn.insert("Port_Group")
        txn.set("Port_Group", group, "name", ColumnKind.SCALAR, "pg_duplicate")
    try:
        with pytest.raises(ConflictError, match="constraint violation"):
            connection.transact(txn.ops)
        assert _groups(ovn_central) == before
        ok = RawTransaction()
        group = ok.insert("Port_Group")
        ok.set("Port_Group", group, "name", ColumnKind.SCALAR, "pg_single")
        (result,) = connection.transact(ok.ops)
        assert "uuid" in result
        assert "pg_single" in _groups(ovn_central)
    finally:
        if "pg_single" in _groups(ovn_central):
            run_tool(["ovn-nbctl", f"--db={ovn_central.nb_remote}", "pg-del", "pg_single"])
        connection.close()


def test_an_unreachable_database_is_reported_as_unavailable() -> None:
    """No server at the address: BackendUnavailableError naming it."""
    connection = TransactConnection("unix:/nonexistent/nb.sock", timeout=2)
    with pytest.raises(BackendUnavailableError, match="nonexistent"):
        connection.transact([])

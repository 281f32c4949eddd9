"""Raw OVSDB operations built for one reconcile transaction (RFC 7047 section 5.2)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from tenantry.dataplane.ovn.rows import ColumnKind
from tenantry.dataplane.ovn.transact import RawTransaction


@dataclass
class ReplicaRow:
    """Stands in for an IDL row: only its uuid is read."""

    uuid: uuid.UUID


def test_raw_transaction_inserts_by_uuid_name_and_refers_to_new_rows_by_it() -> None:
    """A new row is an insert with a uuid-name; references to it are named-uuids."""
    txn = RawTransaction()
    port = txn.insert("Logical_Switch_Port")
    txn.set("Logical_Switch_Port", port, "name", ColumnKind.SCALAR, "p1")
    txn.set(
        "Logical_Switch_Port", port, "addresses", ColumnKind.SET, ["02:00:00:00:00:01 10.0.0.1"]
    )
    switch = txn.insert("Logical_Switch")
    txn.set("Logical_Switch", switch, "ports", ColumnKind.SET, [port])
    txn.set("Logical_Switch", switch, "external_ids", ColumnKind.MAP, {"b": "2", "a": "1"})
    assert txn.ops == [
        {
            "op": "insert",
            "table": "Logical_Switch_Port",
            "uuid-name": port.name,
            "row": {"name": "p1", "addresses": ["set", ["02:00:00:00:00:01 10.0.0.1"]]},
        },
        {
            "op": "insert",
            "table": "Logical_Switch",
            "uuid-name": switch.name,
            "row": {
                "ports": ["set", [["named-uuid", port.name]]],
                "external_ids": ["map", [["a", "1"], ["b", "2"]]],
            },
        },
    ]
    assert port.name != switch.name


def test_raw_transaction_coalesces_updates_and_deletes_by_uuid() -> None:
    """Two columns of one existing row are one update; a delete names the row's uuid."""
    row, other = ReplicaRow(uuid.uuid4()), ReplicaRow(uuid.uuid4())
    txn = RawTransaction()
    txn.set("Logical_Switch_Port", row, "port_security", ColumnKind.SET, ["02:00:00:00:00:01"])
    txn.set("Logical_Switch_Port", row, "enabled", ColumnKind.SET, [True])
    txn.delete("Port_Group", other)
    where = [["_uuid", "==", ["uuid", str(row.uuid)]]]
    assert txn.ops == [
        {
            "op": "update",
            "table": "Logical_Switch_Port",
            "where": where,
            "row": {"port_security": ["set", ["02:00:00:00:00:01"]], "enabled": ["set", [True]]},
        },
        {
            "op": "delete",
            "table": "Port_Group",
            "where": [["_uuid", "==", ["uuid", str(other.uuid)]]],
        },
    ]


def test_raw_transaction_marks_by_replacing_one_key() -> None:
    """The settle token replaces its key only (other keys of the map are not touched)."""
    txn = RawTransaction()
    index = txn.mark("NB_Global", "external_ids", "tenantry-txn-x", "t1")
    assert txn.ops[index]["mutations"] == [
        ["external_ids", "delete", ["set", ["tenantry-txn-x"]]],
        ["external_ids", "insert", ["map", [["tenantry-txn-x", "t1"]]]],
    ]

"""One Northbound write as raw OVSDB ``transact`` operations, on a JSON-RPC connection of its own.

Building thousands of rows through the Python IDL (and then waiting for the IDL to parse its
own update back) bounded bulk writes at under 2,000 rows/s. Here the comparison still reads
the IDL replica, but the writes become plain JSON operations (RFC 7047 section 5.2) sent in one
``transact`` on a separate ``ovs.jsonrpc`` connection; the replica receives the update in the
background. Each transaction also writes a fresh token to ``NB_Global:external_ids``, so the
client knows when its replica has caught up with its own last write (a monitor update carries
a whole transaction at once).
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import ovs.jsonrpc
import ovs.poller
import ovs.stream

from tenantry.dataplane.ovn.rows import ColumnKind
from tenantry.errors import BackendUnavailableError, ConflictError

__all__ = ["DATABASE", "NewRow", "RawTransaction", "TransactConnection"]

DATABASE = "OVN_Northbound"

#: Server errors that mean "the data disagrees" (a duplicate name, a dangling reference),
#: not "the database is unreachable".
_CONFLICTS = frozenset({"constraint violation", "referential integrity violation"})


class NewRow:
    """A row inserted by this transaction, referred to by its ``uuid-name`` until committed."""

    __slots__ = ("name", "row", "table")

    def __init__(self, table: str, name: str) -> None:
        self.table = table
        self.name = name
        self.row: dict[str, Any] = {}


def _where(row: Any) -> list[Any]:
    return [["_uuid", "==", ["uuid", str(row.uuid)]]]


def _atom(value: Any) -> Any:
    if isinstance(value, NewRow):
        return ["named-uuid", value.name]
    if isinstance(value, str | int | float | bool):
        return value
    return ["uuid", str(value.uuid)]  # an IDL row of the replica


def _datum(kind: ColumnKind, value: Any) -> Any:
    if kind is ColumnKind.MAP:
        return ["map", [[k, _atom(v)] for k, v in sorted(dict(value).items())]]
    if kind is ColumnKind.SET:
        return ["set", [_atom(item) for item in value]]
    return _atom(value)


class RawTransaction:
    """The operations of one transaction, built by ``Sync`` (inserts, updates, deletes)."""

    def __init__(self) -> None:
        self.ops: list[dict[str, Any]] = []
        self._updates: dict[str, dict[str, Any]] = {}

    def insert(self, table: str) -> NewRow:
        new = NewRow(table, f"row{len(self.ops)}")
        self.ops.append({"op": "insert", "table": table, "uuid-name": new.name, "row": new.row})
        return new

    def set(self, table: str, row: Any, column: str, kind: ColumnKind, value: Any) -> None:
        """Set one column of a new row or of a replica row (one update op per row)."""
        if isinstance(row, NewRow):
            row.row[column] = _datum(kind, value)
            return
        key = str(row.uuid)
        update = self._updates.get(key)
        if update is None:
            update = {}
            self._updates[key] = update
            self.ops.append({"op": "update", "table": table, "where": _where(row), "row": update})
        update[column] = _datum(kind, value)

    def delete(self, table: str, row: Any) -> None:
        self.ops.append({"op": "delete", "table": table, "where": _where(row)})

    def mutate_all(self, table: str, mutations: Sequence[list[Any]]) -> int:
        """Mutate every row of a table (``NB_Global`` has one); the op's index."""
        self.ops.append({"op": "mutate", "table": table, "where": [], "mutations": list(mutations)})
        return len(self.ops) - 1

    def mark(self, table: str, column: str, key: str, token: str) -> int:
        """Set ``column:key`` to ``token`` in every row of ``table``; the op's index."""
        return self.mutate_all(
            table,
            [[column, "delete", ["set", [key]]], [column, "insert", ["map", [[key, token]]]]],
        )


class TransactConnection:
    """A JSON-RPC connection that only sends ``transact`` requests (reconnects when lost)."""

    def __init__(self, remote: str, timeout: float) -> None:
        self.remote = remote
        self.timeout = timeout
        self._conn: Any = None
        self.lost = False
        """Whether the last ``transact`` failed because the connection was lost."""

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def transact(self, ops: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Commit the operations in one transaction; their results, or an error."""
        request = ovs.jsonrpc.Message.create_request("transact", [DATABASE, *ops])
        reply = self._exchange(request)
        if reply.error is not None:
            raise BackendUnavailableError(f"Northbound refused the transaction: {reply.error}")
        results: list[Any] = list(reply.result or [])
        for index, result in enumerate(results):
            if isinstance(result, dict) and "error" in result:
                what = ops[index]["op"] if index < len(ops) else "commit"
                message = (
                    f"Northbound {what} failed: {result['error']}: {result.get('details', '')}"
                )
                if result["error"] in _CONFLICTS:
                    raise ConflictError(message)
                raise BackendUnavailableError(message)
        return results

    def _connect(self) -> Any:
        if self._conn is None:
            error, stream = ovs.stream.Stream.open_block(
                ovs.stream.Stream.open(self.remote), int(self.timeout * 1000)
            )
            if error:
                raise BackendUnavailableError(
                    f"cannot connect to the Northbound database at {self.remote}: "
                    f"{os.strerror(error)}"
                )
            self._conn = ovs.jsonrpc.Connection(stream)
        return self._conn

    def _exchange(self, request: Any) -> Any:
        self.lost = False
        try:
            return self._send_and_wait(self._connect(), request)
        except BackendUnavailableError:
            self.close()
            raise

    def _send_and_wait(self, conn: Any, request: Any) -> Any:
        deadline = time.monotonic() + self.timeout
        error = conn.send(request)
        while not error:
            conn.run()
            error, message = conn.recv()
            if error == errno.EAGAIN:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise BackendUnavailableError(
                        f"Northbound transaction timed out after {self.timeout} s"
                    )
                poller = ovs.poller.Poller()
                conn.wait(poller)
                conn.recv_wait(poller)
                poller.timer_wait(int(remaining * 1000) + 1)
                poller.block()
                error = 0
                continue
            if error:
                break
            if message.type == ovs.jsonrpc.Message.T_REQUEST and message.method == "echo":
                error = conn.send(ovs.jsonrpc.Message.create_reply(message.params, message.id))
            elif message.id == request.id:
                return message
        self.lost = True
        reason = "closed by the server" if error == ovs.jsonrpc.EOF else os.strerror(error)
        raise BackendUnavailableError(f"lost the Northbound connection at {self.remote}: {reason}")

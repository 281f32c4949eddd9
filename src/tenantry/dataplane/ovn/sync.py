"""Compare desired rows with the rows an OVSDB IDL replica holds, and write the difference.

This reads the ``ovs.db.idl`` replica that ovsdbapp keeps (under its lock) and writes the
difference into one ``RawTransaction`` (see ``transact``), sent as a single OVSDB
``transact``. Only rows carrying ``external_ids:tenantry-owner=<owner>`` are ever updated or
deleted; a foreign row in one of ours (a port plugged into our switch, an ACL attached to our
port group) is reported and dropped from our row, and the foreign row itself is left alone.
Every column of an owned row is compared, so a hand edit anywhere (an emptied ``port_security``,
an extra map key) is found; only status columns that OVN itself writes are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from tenantry.dataplane.ovn.rows import (
    KEY_ID,
    KEY_OWNER,
    NAMED_TABLES,
    ROOT_ORDER,
    Change,
    ChangeKind,
    ColumnKind,
    ForeignRef,
    Ref,
    Row,
    Value,
    canonical,
)
from tenantry.dataplane.ovn.transact import RawTransaction
from tenantry.errors import ConflictError

__all__ = ["Scope", "Sync", "external_ids"]

Scope = Callable[[str, str, Mapping[str, str]], bool]
"""Which owned roots (table, key, external_ids) a partial reconcile is about."""

#: Columns OVN writes itself; comparing them would report northd as drift.
_STATUS_COLUMNS = {
    "Logical_Switch_Port": frozenset({"up", "dynamic_addresses"}),
    "Logical_Router_Port": frozenset({"status"}),
}


_SCALAR_DEFAULTS: dict[str, Value] = {"integer": 0, "real": 0.0, "boolean": False, "string": ""}


_ALWAYS_SET = frozenset({"external_ids", "name"})


def external_ids(row: Any) -> dict[str, str]:
    """A replica row's ``external_ids``, read from its datum directly.

    The IDL's attribute access rebuilds and revalidates the whole datum on every read (about
    0.1 ms a row); scanning a table for owned rows did that thousands of times per reconcile.
    Nothing writes through the replica (writes are raw transactions), so its data is current.
    """
    data = row._data
    if data is None or row._changes or row._mutations:
        return dict(row.external_ids)
    datum = data.get("external_ids")
    if datum is None:
        return {}
    return {key.value: value.value for key, value in datum.values.items()}


def _kind(column: Any) -> ColumnKind:
    """The column's kind, kept on the column schema object (it is asked for every row)."""
    found: ColumnKind | None = getattr(column, "_tenantry_kind", None)
    if found is None:
        if column.type.is_map():
            found = ColumnKind.MAP
        elif column.type.is_scalar():
            found = ColumnKind.SCALAR
        else:
            found = ColumnKind.SET
        column._tenantry_kind = found
    return found


class Sync:
    """One comparison (and, given a transaction, one write) of desired rows against the IDL."""

    def __init__(self, idl: Any, owner: str, txn: RawTransaction | None = None) -> None:
        self.idl = idl
        self.owner = owner
        self.txn = txn
        # Inserts happen only when writing; comparing alone fills a transaction nobody sends.
        self._writer = txn if txn is not None else RawTransaction()
        self.changes: list[Change] = []
        self._inserted: dict[tuple[str, str], Any] = {}
        self._scanned: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ entry points
    def roots(
        self,
        desired: Sequence[Row],
        *,
        full: bool,
        removed: Iterable[Ref] = (),
        scope: Scope | None = None,
    ) -> None:
        """Bring the given roots in line; with ``full``, delete every other owned root too
        (only those ``scope`` accepts, when given: a reconcile of one part of the state)."""
        by_key = {(row.table, row.key): row for row in desired}
        wanted: list[tuple[str, str]] = sorted(by_key, key=_root_rank)
        extra = [(ref.table, ref.key) for ref in removed]
        if full:
            for table in ROOT_ORDER:
                extra.extend(
                    (table, key)
                    for key, row in self._owned_roots(table).items()
                    if scope is None or scope(table, key, external_ids(row))
                )
        for table, key in wanted:
            self._root(by_key[(table, key)], self._find(table, key))
        unwanted = {entry for entry in extra if entry not in by_key}
        for table, key in sorted(unwanted, key=_root_rank, reverse=True):
            actual = self._find(table, key)
            if actual is not None:
                self._delete(table, key, actual)

    def global_options(self, options: Mapping[str, str]) -> None:
        """Make sure ``NB_Global:options`` holds these keys (other keys are not ours)."""
        rows = list(self.idl.tables["NB_Global"].rows.values())
        if not rows:
            return
        row = rows[0]
        current = dict(row.options)
        merged = dict(current)
        for key, value in sorted(options.items()):
            if current.get(key) != value:
                self.changes.append(
                    Change(
                        ChangeKind.UPDATE,
                        "NB_Global",
                        ".",
                        f"options:{key}",
                        value,
                        current.get(key),
                    )
                )
                merged[key] = value
        if self.txn is not None and merged != current:
            self.txn.set("NB_Global", row, "options", ColumnKind.MAP, merged)

    # ------------------------------------------------------------------ one row
    def _root(self, desired: Row, actual: Any) -> None:
        if actual is None:
            self.changes.append(Change(ChangeKind.CREATE, desired.table, desired.key))
            if self.txn is not None:
                self._insert(desired)
            return
        self._update(desired, actual)

    def _insert(self, desired: Row) -> Any:
        row = self._writer.insert(desired.table)
        self._inserted[(desired.table, desired.key)] = row
        schema = self.idl.tables[desired.table].columns
        for name, column in schema.items():
            if name in desired.children:
                children = [self._place(child) for child in desired.children[name]]
                self._writer.set(desired.table, row, name, _kind(column), children)
                continue
            if name not in desired.columns and name not in _ALWAYS_SET:
                continue  # a new row starts with every column at its default
            kind = _kind(column)
            value = self._to_idl(kind, self._desired_value(desired, name, column))
            self._writer.set(desired.table, row, name, kind, value)
        return row

    def _place(self, desired: Row) -> Any:
        """A child of a new row: adopted if a row of that name is already ours, else new."""
        if desired.table in NAMED_TABLES and (found := self._find(desired.table, desired.key)):
            self._update(desired, found)
            return found
        return self._insert(desired)

    def _update(self, desired: Row, actual: Any) -> None:
        schema = self.idl.tables[desired.table].columns
        ignored = _STATUS_COLUMNS.get(desired.table, frozenset())
        for name, column in schema.items():
            if name in ignored:
                continue
            if self._is_child_column(column):
                self._children(desired, actual, name, column)
                continue
            want = self._desired_value(desired, name, column)
            have = self._actual_value(actual, name, column)
            if want != have:
                self.changes.append(
                    Change(ChangeKind.UPDATE, desired.table, desired.key, name, want, have)
                )
                if self.txn is not None:
                    kind = _kind(column)
                    self.txn.set(desired.table, actual, name, kind, self._to_idl(kind, want))

    def _children(self, desired: Row, actual: Any, name: str, column: Any) -> None:
        child_table = column.type.key.ref_table_name
        wanted = {child.key: child for child in desired.children.get(name, ())}
        kept: list[Any] = []
        changed = False
        for child in getattr(actual, name):
            key = self._owned_key(child)
            if key is None or key not in wanted:
                label = key if key is not None else f"foreign:{child.uuid}"
                self.changes.append(Change(ChangeKind.DELETE, child_table, label))
                changed = True
                continue
            self._update(wanted.pop(key), child)
            kept.append(child)
        for key in sorted(wanted):
            changed = True
            # A named row may exist under another parent (a port moved between switches):
            # it is adopted, not inserted twice; a foreign row of that name is refused.
            elsewhere = self._find(child_table, key) if child_table in NAMED_TABLES else None
            if elsewhere is not None:
                self.changes.append(Change(ChangeKind.UPDATE, child_table, key, "parent"))
                self._update(wanted[key], elsewhere)
                kept.append(elsewhere)
                continue
            self.changes.append(Change(ChangeKind.CREATE, child_table, key))
            if self.txn is not None:
                kept.append(self._insert(wanted[key]))
        if changed and self.txn is not None:
            self.txn.set(desired.table, actual, name, _kind(column), kept)

    def _delete(self, table: str, key: str, actual: Any) -> None:
        self.changes.append(Change(ChangeKind.DELETE, table, key))
        if self.txn is not None:
            self.txn.delete(table, actual)

    # ------------------------------------------------------------------ values
    def _desired_value(self, desired: Row, name: str, column: Any) -> Value:
        kind = _kind(column)
        if name == "external_ids":
            return canonical(kind, desired.external_ids(self.owner))
        if name == "name" and desired.table in NAMED_TABLES:
            return desired.key
        if name in desired.columns:
            return canonical(kind, desired.columns[name])
        if kind is ColumnKind.SCALAR:
            return _SCALAR_DEFAULTS.get(column.type.key.type.name, "")
        return canonical(kind, None)

    def _actual_value(self, row: Any, name: str, column: Any) -> Value:
        kind = _kind(column)
        value = getattr(row, name)
        ref_table = column.type.key.ref_table_name
        if ref_table is None:
            return canonical(kind, value)
        if kind is ColumnKind.SCALAR:
            return self._as_ref(ref_table, value)
        return canonical(kind, [self._as_ref(ref_table, item) for item in value])

    def _as_ref(self, table: str, row: Any) -> Ref | ForeignRef:
        key = self._owned_key(row)
        return ForeignRef(table, str(row.uuid)) if key is None else Ref(table, key)

    def _to_idl(self, kind: ColumnKind, value: Value) -> Any:
        if kind is ColumnKind.MAP:
            return dict(value)  # type: ignore[arg-type]
        if kind is ColumnKind.SET:
            return [self._resolve(item) for item in value]  # type: ignore[union-attr]
        return self._resolve(value)

    def _resolve(self, value: Any) -> Any:
        if not isinstance(value, Ref):
            return value
        row = self._inserted.get((value.table, value.key)) or self._find(value.table, value.key)
        if row is None:
            raise ConflictError(f"{value.table} {value.key!r} is referenced but does not exist")
        return row

    # ------------------------------------------------------------------ finding rows
    def _owned_key(self, row: Any) -> str | None:
        ids = external_ids(row)
        if ids.get(KEY_OWNER) != self.owner:
            return None
        key = ids.get(KEY_ID)
        return str(key) if key is not None else None

    def _find(self, table: str, key: str) -> Any:
        if table not in NAMED_TABLES:
            return self._owned_roots(table).get(key)
        rows = self.idl.tables[table].rows
        index = getattr(rows, "indexes", {}).get("name")
        if index is not None:
            search = rows.IndexEntry(name=key)
            matches = list(index.irange(search, search))
        else:
            matches = [row for row in rows.values() if row.name == key]
        return self._check_owner(table, key, matches[0]) if matches else None

    def _check_owner(self, table: str, key: str, row: Any) -> Any:
        if self._owned_key(row) != key:
            raise ConflictError(
                f"{table} {key!r} exists in the Northbound database but tenantry does not own "
                "it; refusing to touch it",
                hint="Rename or remove the foreign row, or change tenantry's names.",
            )
        return row

    def _owned_roots(self, table: str) -> dict[str, Any]:
        if table not in self._scanned:
            found: dict[str, Any] = {}
            for row in self.idl.tables[table].rows.values():
                key = self._owned_key(row)
                if key is not None:
                    found[key] = row
            self._scanned[table] = found
        return self._scanned[table]

    def _is_child_column(self, column: Any) -> bool:
        """Strong references to a non-root table: rows that live only inside this one."""
        ref = column.type.key.ref_table_name
        return bool(ref) and column.type.key.is_strong_ref() and not self.idl.tables[ref].is_root


def _root_rank(entry: tuple[str, str]) -> tuple[int, str]:
    table, key = entry
    rank = ROOT_ORDER.index(table) if table in ROOT_ORDER else len(ROOT_ORDER)
    return (rank, key)

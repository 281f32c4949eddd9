"""Northbound rows as tenantry wants them, and the differences from what the database holds.

Pure data: no database access here. A desired state is a set of *root* rows (tables that exist
on their own, like ``Logical_Switch`` or ``Port_Group``), each carrying its *child* rows (tables
that exist only while referenced, like ``Logical_Switch_Port`` or ``ACL``) under the reference
column that holds them. Every row is identified by its table and a stable ``key``, which is
written to ``external_ids:tenantry-id`` next to ``external_ids:tenantry-owner``; in tables with
a unique ``name`` the name is the key too. Columns hold canonical values (see :func:`canonical`)
so that desired and actual rows compare with ``==``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "KEY_ID",
    "KEY_OWNER",
    "NAMED_TABLES",
    "ROOT_ORDER",
    "Change",
    "ChangeKind",
    "ColumnKind",
    "ForeignRef",
    "Ref",
    "Row",
    "Value",
    "canonical",
    "walk",
]

KEY_OWNER = "tenantry-owner"
KEY_ID = "tenantry-id"

#: Tables whose ``name`` column is unique: a row's name is its key.
NAMED_TABLES = frozenset(
    {
        "Logical_Switch_Port",
        "Port_Group",
        "Address_Set",
        "Meter",
        "Logical_Router_Port",
    }
)

#: Root tables in the order a transaction fills them (a row refers only to earlier ones).
ROOT_ORDER = (
    "Meter",
    "Address_Set",
    "DHCP_Options",
    "Logical_Switch",
    "Logical_Router",
    "Port_Group",
)


@dataclass(frozen=True, order=True)
class Ref:
    """A reference to another tenantry row (a uuid column in the database)."""

    table: str
    key: str


@dataclass(frozen=True, order=True)
class ForeignRef:
    """A reference to a row tenantry does not own (never equal to anything desired)."""

    table: str
    uuid: str


Scalar = str | int | float | bool | Ref | ForeignRef
Value = Scalar | tuple[Any, ...]


class ColumnKind(StrEnum):
    """How a column holds values: one value, a set (or optional value), or a map."""

    SCALAR = "scalar"
    SET = "set"
    MAP = "map"


def canonical(kind: ColumnKind, value: Any) -> Value:
    """The comparable form of a column value: sets and maps as sorted tuples."""
    if kind is ColumnKind.MAP:
        items = dict(value or {})
        return tuple(sorted((str(k), v) for k, v in items.items()))
    if kind is ColumnKind.SET:
        if value is None:
            return ()
        if isinstance(value, str | int | float | bool | Ref | ForeignRef):
            return (value,)
        return tuple(sorted(value, key=_sort_key))
    return value  # type: ignore[no-any-return]


def _sort_key(value: Any) -> tuple[str, str]:
    return (type(value).__name__, repr(value))


@dataclass(frozen=True)
class Row:
    """One desired row: table, key, columns (``external_ids`` ownership is added for you)."""

    table: str
    key: str
    columns: Mapping[str, Any] = field(default_factory=dict)
    children: Mapping[str, tuple[Row, ...]] = field(default_factory=dict)

    def external_ids(self, owner: str) -> dict[str, str]:
        extra = dict(self.columns.get("external_ids", {}))
        return {**extra, KEY_OWNER: owner, KEY_ID: self.key}


def walk(rows: Iterable[Row]) -> Iterator[Row]:
    """Every row and, depth first, its children."""
    for row in rows:
        yield row
        for children in row.children.values():
            yield from walk(children)


class ChangeKind(StrEnum):
    """What a reconciliation does to a row (or found wrong with it, for drift)."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Change:
    """One difference between desired and actual: a missing, different or unwanted row."""

    kind: ChangeKind
    table: str
    key: str
    column: str = ""
    expected: Value | None = None
    actual: Value | None = None

    def __str__(self) -> str:
        where = f"{self.table} {self.key}"
        if self.kind is ChangeKind.UPDATE:
            return (
                f"{where}: {self.column} is {_show(self.actual)}, expected {_show(self.expected)}"
            )
        if self.kind is ChangeKind.CREATE:
            return f"{where}: missing"
        return f"{where}: not wanted"

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": str(self.kind),
            "table": self.table,
            "key": self.key,
            "column": self.column,
            "expected": _show(self.expected) if self.expected is not None else None,
            "actual": _show(self.actual) if self.actual is not None else None,
        }


def _show(value: Value | None, limit: int = 200) -> str:
    if isinstance(value, Ref):
        text = f"{value.table}:{value.key}"
    elif isinstance(value, ForeignRef):
        text = f"foreign {value.table}:{value.uuid}"
    elif isinstance(value, tuple):
        text = "[" + ", ".join(_show(v) for v in value) + "]"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""Rendering shared by commands: plans, object tables, YAML/JSON output."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tenantry.model import ChangeSet, Model, Op, Ref

__all__ = ["render_objects", "render_plan"]

_OP_STYLE = {Op.CREATE: ("+", "green"), Op.UPDATE: ("~", "yellow"), Op.DELETE: ("-", "red")}


def render_plan(console: Console, changes: ChangeSet, placements: dict[Ref, str]) -> None:
    """A terraform-like listing of a change set."""
    if not changes:
        console.print("No changes: the store already holds this state.")
        return
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("")
    table.add_column("kind")
    table.add_column("object")
    table.add_column("detail")
    for change in changes:
        sign, style = _OP_STYLE[change.op]
        detail = ", ".join(change.changed_fields())
        if change.ref in placements:
            detail = f"placed on host {placements[change.ref]}" + (f"; {detail}" if detail else "")
        table.add_row(
            f"[{style}]{sign}[/]", str(change.kind), escape(str(change.ref)), escape(detail)
        )
    console.print(table)
    counts = changes.counts()
    console.print(
        f"Plan: {counts[Op.CREATE]} to create, {counts[Op.UPDATE]} to update, "
        f"{counts[Op.DELETE]} to delete."
    )


def render_objects(console: Console, rows: Sequence[tuple[Ref, Model]], kind: str) -> None:
    """A table of objects: reference and a few telling fields."""
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column(kind)
    table.add_column("summary")
    for ref, obj in rows:
        data = obj.model_dump(mode="json", exclude_defaults=True)
        data.pop("name", None)
        summary = ", ".join(f"{k}={_short(v)}" for k, v in list(data.items())[:4])
        table.add_row(escape(str(ref)), escape(summary))
    console.print(table)


def _short(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":")) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "..."

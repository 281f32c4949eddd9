"""``get`` and ``delete``: objects one at a time."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from tenantry.cli.context import state
from tenantry.cli.main import app
from tenantry.cli.render import render_objects
from tenantry.model import PROVIDER_REF, Kind, Ref
from tenantry.spec import dump_yaml


class Output(StrEnum):
    TABLE = "table"
    YAML = "yaml"
    JSON = "json"


def _ref(kind: Kind, name: str) -> Ref:
    return PROVIDER_REF if kind is Kind.PROVIDER else Ref.parse(name)


@app.command()
def get(
    kind: Annotated[Kind, typer.Argument(help="Object kind.", case_sensitive=False)],
    name: Annotated[str | None, typer.Argument(help="Name; tenant objects as tenant/name.")] = None,
    output: Annotated[Output, typer.Option("--output", "-o")] = Output.TABLE,
) -> None:
    """List objects of a kind, or show one."""
    service = state.service()
    actor = state.actor()
    data: object
    if name is None and kind is not Kind.PROVIDER:
        rows = service.list(actor, kind)
        if output is Output.TABLE:
            render_objects(state.out, rows, str(kind))
            return
        data = [{"ref": str(r), **o.model_dump(mode="json")} for r, o in rows]
    else:
        obj, revision = service.get(actor, kind, _ref(kind, name or ""))
        data = {"revision": revision, **obj.model_dump(mode="json")}
        if output is Output.TABLE:
            output = Output.YAML
    if output is Output.JSON:
        state.out.print_json(json.dumps(data))
    else:
        state.out.print(dump_yaml(data), end="", markup=False)


@app.command()
def delete(
    kind: Annotated[Kind, typer.Argument(help="Object kind.", case_sensitive=False)],
    name: Annotated[str, typer.Argument(help="Name; tenant objects as tenant/name.")],
) -> None:
    """Delete one object (refused while other objects use it)."""
    service = state.service()
    result = service.delete(state.actor(), kind, _ref(kind, name))
    state.out.print(f"deleted {kind} {name} (generation {result.generation}).", markup=False)

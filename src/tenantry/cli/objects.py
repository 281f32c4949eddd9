"""``get`` and ``delete``: objects one at a time."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from tenantry.cli.context import state
from tenantry.cli.main import app
from tenantry.cli.render import render_objects
from tenantry.model import KIND_INFO, PROVIDER_REF, Kind, Ref
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
    if state.is_remote:
        _get_remote(kind, name, output)
        return
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


def _get_remote(kind: Kind, name: str | None, output: Output) -> None:
    client = state.client()
    data: object
    if name is None and kind is not Kind.PROVIDER:
        items = client.list_objects(kind)
        if output is Output.TABLE:
            model = KIND_INFO[kind].model
            rows = [(Ref(i["owner"], i["name"]), model.model_validate(i["body"])) for i in items]
            render_objects(state.out, rows, str(kind))
            return
        data = [{"ref": str(Ref(i["owner"], i["name"])), **i["body"]} for i in items]
    else:
        found = client.get_object(kind, name or "")
        data = {"revision": found["revision"], **found["body"]}
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
    if state.is_remote:
        state.client().delete_object(kind, name)
        state.out.print(f"deleted {kind} {name}.", markup=False)
        return
    service = state.service()
    result = service.delete(state.actor(), kind, _ref(kind, name))
    state.out.print(f"deleted {kind} {name} (generation {result.generation}).", markup=False)

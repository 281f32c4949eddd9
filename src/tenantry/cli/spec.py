"""``schema``, ``validate``, ``plan``, ``apply``, ``export``: the declarative workflow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from tenantry.cli.context import state
from tenantry.cli.main import app
from tenantry.cli.render import render_plan, render_rows
from tenantry.dataplane.enforcement import EnforcementHook, EnforcementReport
from tenantry.dataplane.reference import ReferenceBackend
from tenantry.spec import dump_spec, load_specs, spec_json_schema

Files = Annotated[
    list[Path],
    typer.Argument(
        help="Spec files (YAML); together they declare the desired state.",
        exists=False,
        dir_okay=False,
    ),
]
Prune = Annotated[
    bool,
    typer.Option("--prune", help="Also delete objects the files do not declare."),
]
OverrideIsolation = Annotated[
    bool,
    typer.Option(
        "--override-isolation",
        help="Ask to admit a change that opens a leak between tenants: it waits for a second "
        "person's approval (provider users over the API only).",
    ),
]


@app.command()
def schema() -> None:
    """Print the JSON Schema of spec files."""
    state.out.print_json(json.dumps(spec_json_schema()))


@app.command()
def validate(files: Files) -> None:
    """Check spec files: syntax, schema, references and every structural rule; no store needed."""
    loaded = load_specs(files)
    state.out.print(f"valid: {loaded.estate.count()} objects in {len(files)} file(s)")


@app.command()
def plan(files: Files, prune: Prune = False) -> None:
    """Show what `apply` would change in the store, and refuse what admission would refuse."""
    if state.is_remote:
        _render_remote(state.client().plan(_spec_text(files), prune=prune))
        return
    loaded = load_specs(files)
    service = state.service()
    result = service.plan(state.actor(), loaded.estate, prune=prune)
    render_plan(state.out, result.changes, result.placements)


@app.command()
def apply(files: Files, prune: Prune = False, override: OverrideIsolation = False) -> None:
    """Make the store hold the declared state: atomic, audited, idempotent."""
    if state.is_remote:
        answer = state.client().apply(_spec_text(files), prune=prune, override_isolation=override)
        _render_remote(answer)
        if answer["applied"]:
            state.out.print(f"Applied (generation {answer['generation']}).")
        if answer.get("enforcement"):
            state.out.print(str(EnforcementReport(**answer["enforcement"])))
        for error in answer.get("enforcement_errors", []):
            state.err.print(f"[yellow]warning[/]: {escape(error)}", markup=True)
        return
    loaded = load_specs(files)
    service = state.service()
    enforcement = EnforcementHook(ReferenceBackend())
    service.add_hook(enforcement)
    result = service.apply(state.actor(), loaded.estate, prune=prune, override_isolation=override)
    render_plan(state.out, result.plan.changes, result.plan.placements)
    if result.changed:
        state.out.print(f"Applied (generation {result.generation}).")
    if enforcement.report is not None:
        state.out.print(str(enforcement.report))
    for error in result.hook_errors:
        state.err.print(f"[yellow]warning[/]: {escape(error)}", markup=True)


@app.command()
def export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.")
    ] = None,
) -> None:
    """Print the stored estate as a spec (which applies back to the same state)."""
    if state.is_remote:
        text = state.client().export()
    else:
        text = dump_spec(state.service().estate(state.actor()))
    if output is None:
        state.out.print(text, end="", markup=False)
    else:
        output.write_text(text, encoding="utf-8")
        state.err.print(f"wrote {output}", markup=False)


def _spec_text(files: list[Path]) -> str:
    """One document to send: the file as written, or the files merged (not checked here: a
    tenant's part refers to provider objects only the server knows)."""
    if len(files) == 1 and files[0].is_file():
        return files[0].read_text(encoding="utf-8")
    return dump_spec(load_specs(files, check=False).estate)


def _render_remote(result: dict[str, Any]) -> None:
    changes = result["changes"]
    if not changes:
        state.out.print("No changes: the store already holds this state.")
        return
    signs = {"create": "+", "update": "~", "delete": "-"}
    rows = [
        {
            "": signs.get(c["op"], "?"),
            "kind": c["kind"],
            "object": c["ref"],
            "detail": ", ".join(c["fields"])
            + (
                f" (needs approval: {'; '.join(c['needs_approval'])})"
                if c["needs_approval"]
                else ""
            ),
        }
        for c in changes
    ]
    render_rows(state.out, rows, ["", "kind", "object", "detail"])

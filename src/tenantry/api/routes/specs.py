"""``/v1/plan``, ``/v1/apply``, ``/v1/export``, ``/v1/schema``: the declarative workflow.

A spec arrives as YAML or JSON text and goes through ``tenantry.spec``, so errors come back
with JSON pointers (and line and column) exactly as the CLI reports them.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from tenantry.api.deps import ActorDep, ServiceDep
from tenantry.api.enforcement import ServedEnforcement
from tenantry.api.schemas import PlanOut
from tenantry.errors import AdmissionError, SpecError, SpecIssue
from tenantry.governance import Actor, sensitive_reasons
from tenantry.service import Plan, Service
from tenantry.spec import LoadedSpec, dump_spec, issues_for, load_spec_text, spec_json_schema

__all__ = ["router"]

router = APIRouter(tags=["specs"])
T = TypeVar("T")

Prune = Annotated[bool, Query(description="also delete visible objects the spec omits")]
OverrideIsolation = Annotated[
    bool,
    Query(
        description="ask to admit a change that opens a leak between tenants: it waits (202) "
        "for a second person's approval"
    ),
]

_SPEC_BODY = {
    "requestBody": {
        "required": True,
        "description": "a tenantry spec (GET /v1/schema), as YAML or JSON",
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


async def _spec_text(request: Request) -> str:
    raw = await request.body()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError([SpecIssue("", f"the body is not UTF-8 text (byte {exc.start})")]) from exc


def _plan_out(plan: Plan, generation: int, *, applied: bool, actor: Actor) -> dict[str, Any]:
    gated = actor.is_provider and not actor.system
    return {
        "changes": [
            {
                "op": str(change.op),
                "kind": str(change.kind),
                "ref": str(change.ref),
                "fields": list(change.changed_fields()),
                "needs_approval": sensitive_reasons(change) if gated else [],
            }
            for change in plan.changes
        ],
        "placements": {str(ref): host for ref, host in plan.placements.items()},
        "generation": generation,
        "applied": applied,
    }


def _located(loaded: LoadedSpec, run: Callable[[], T]) -> T:
    # A spec may be partial (a tenant's own part): references are checked against the whole
    # estate by admission, whose refusals are then pointed back into the submitted text.
    try:
        return run()
    except AdmissionError as exc:
        exc.locate(issues_for(exc.violations, loaded.origins))
        raise


def _plan(service: Service, actor: Actor, text: str, prune: bool) -> dict[str, Any]:
    loaded = load_spec_text(text, "request", check=False)
    plan = _located(loaded, lambda: service.plan(actor, loaded.estate, prune=prune))
    return _plan_out(plan, plan.generation, applied=False, actor=actor)


def _apply(
    service: Service,
    actor: Actor,
    text: str,
    prune: bool,
    enforcement: ServedEnforcement | None,
    *,
    override: bool = False,
) -> dict[str, Any]:
    loaded = load_spec_text(text, "request", check=False)
    result = _located(
        loaded,
        lambda: service.apply(actor, loaded.estate, prune=prune, override_isolation=override),
    )
    out = _plan_out(result.plan, result.generation, applied=result.changed, actor=actor)
    report = None
    if enforcement is not None and result.changed:
        report = enforcement.report(result.generation)
    out["enforcement"] = None if report is None else dataclasses.asdict(report)
    out["enforcement_errors"] = list(result.hook_errors)
    return out


@router.post(
    "/v1/plan",
    response_model=PlanOut,
    operation_id="plan",
    summary="What applying a spec would change",
    openapi_extra=_SPEC_BODY,
)
async def plan(request: Request, service: ServiceDep, actor: ActorDep, prune: Prune = False) -> Any:
    """Plan a spec: nothing is written; refusals come back as apply would raise them."""
    text = await _spec_text(request)
    return await run_in_threadpool(_plan, service, actor, text, prune)


@router.post(
    "/v1/apply",
    response_model=PlanOut,
    operation_id="apply",
    summary="Make the store hold a spec",
    openapi_extra=_SPEC_BODY,
)
async def apply(
    request: Request,
    service: ServiceDep,
    actor: ActorDep,
    prune: Prune = False,
    override_isolation: OverrideIsolation = False,
) -> Any:
    """Apply a spec: atomic, audited, idempotent (202 when a second approver is needed)."""
    text = await _spec_text(request)
    enforcement = request.app.state.enforcement
    return await run_in_threadpool(
        functools.partial(_apply, override=override_isolation),
        service,
        actor,
        text,
        prune,
        enforcement,
    )


@router.get(
    "/v1/export",
    response_class=PlainTextResponse,
    operation_id="export",
    summary="The estate you may see, as a spec",
    responses={
        200: {
            "description": "a spec (see GET /v1/schema) as YAML",
            "content": {"application/yaml": {"schema": {"type": "object"}}},
        }
    },
)
def export(service: ServiceDep, actor: ActorDep) -> PlainTextResponse:
    """Only what the caller may read is exported."""
    return PlainTextResponse(dump_spec(service.estate(actor)), media_type="application/yaml")


@router.get("/v1/schema", operation_id="spec_schema", summary="The JSON Schema of spec files")
def schema(actor: ActorDep) -> dict[str, Any]:
    """The spec format (the same as `tenantry schema`)."""
    del actor
    return spec_json_schema()

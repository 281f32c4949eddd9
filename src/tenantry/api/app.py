"""The FastAPI application over one service: routers, limits, problem handlers, OpenAPI."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from tenantry import __version__
from tenantry.api.enforcement import ServedEnforcement
from tenantry.api.limits import BodySizeLimit, RateLimiter
from tenantry.api.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from tenantry.api.routes import ROUTERS
from tenantry.api.schemas import Problem
from tenantry.service import GuestDiskReader, Service

__all__ = ["ApiLimits", "create_app"]

_PUBLIC = {("/healthz", "get"), ("/v1/auth/login", "post")}
"""The only operations that need no bearer token."""


class ApiLimits:
    """Rates and sizes the application enforces."""

    def __init__(
        self,
        *,
        tenant_rate: float = 50.0,
        tenant_burst: int = 100,
        login_rate: float = 5.0,
        login_burst: int = 20,
        max_request_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        self.tenant_rate = tenant_rate
        self.tenant_burst = tenant_burst
        self.login_rate = login_rate
        self.login_burst = login_burst
        self.max_request_bytes = max_request_bytes


def create_app(
    service: Service,
    limits: ApiLimits | None = None,
    *,
    disks: GuestDiskReader | None = None,
    enforcement: ServedEnforcement | None = None,
) -> FastAPI:
    """The REST API over ``service``; every route goes through it (no other door). Without
    ``disks`` (no HSM configured) disk read and export answer 503 once authorized; with
    ``enforcement`` (a hook of ``service``) an apply reports what it enforced."""
    limits = limits or ApiLimits()
    app = FastAPI(
        title="tenantry",
        version=__version__,
        summary="Secure multi-tenancy: declare the estate, enforce isolation, prove it, audit it.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.service = service
    app.state.disks = disks
    app.state.enforcement = enforcement
    app.state.tenant_limiter = RateLimiter(limits.tenant_rate, limits.tenant_burst)
    app.state.login_limiter = RateLimiter(limits.login_rate, limits.login_burst)
    for router in ROUTERS:
        app.include_router(router)
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, limit=limits.max_request_bytes)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with every error documented as an RFC 9457 problem."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi  # noqa: PLC0415 - built once, on demand

    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        routes=app.routes,
    )
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    problem = {
        "description": "An RFC 9457 problem document (see docs/errors.md for the codes)",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses["default"] = problem
            if (path, method) not in _PUBLIC:
                operation["security"] = [{"bearer": []}]
    app.openapi_schema = document
    return document

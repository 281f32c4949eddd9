"""The one place errors become responses: RFC 9457 problem documents.

Status, code and hint come from the error class itself (``tenantry.errors``); this module keeps
no table of its own. Request-validation errors carry JSON pointers to the offending fields.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tenantry.errors import (
    ApprovalRequiredError,
    AuthenticationError,
    InputError,
    TenantryError,
    ThrottledError,
)

__all__ = ["PROBLEM_MEDIA_TYPE", "install_problem_handlers", "problem_response"]

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger(__name__)


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    hint: str = "",
    errors: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "hint": hint,
        "instance": request.url.path,
        "errors": list(errors),
        **(extra or {}),
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _title(exc: type[BaseException]) -> str:
    doc = (exc.__doc__ or exc.__name__).strip().splitlines()[0]
    return doc.rstrip(".")


async def _tenantry_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, TenantryError):  # pragma: no cover - registered for TenantryError
        raise exc
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = 'Bearer realm="tenantry"'
    if isinstance(exc, ThrottledError):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    if isinstance(exc, ApprovalRequiredError):
        headers["Location"] = f"/v1/approvals/{exc.approval_id}"
        extra["approval_id"] = exc.approval_id
    if exc.http_status >= 500:
        log.warning("%s on %s: %s", exc.code, request.url.path, exc)
    return problem_response(
        request,
        status=exc.http_status,
        code=exc.code,
        title=_title(type(exc)),
        detail=str(exc),
        hint=exc.diagnostics(),
        errors=exc.details(),
        headers=headers,
        extra=extra,
    )


def _pointer(location: Sequence[int | str]) -> dict[str, Any]:
    where, *path = location
    if where == "body":
        return {"pointer": "/" + "/".join(str(p) for p in path)}
    return {"parameter": ".".join(str(p) for p in path), "in": str(where)}


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover - registered for it
        raise exc
    errors = [
        {**_pointer(error.get("loc", ("body",))), "detail": str(error.get("msg", ""))[:500]}
        for error in exc.errors()
    ]
    return problem_response(
        request,
        status=InputError.http_status,
        code=InputError.code,
        title=_title(InputError),
        detail=f"{len(errors)} problem(s) in the request",
        hint=InputError.hint,
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover - registered for it
        raise exc
    code = "not_found" if exc.status_code == 404 else f"http.{exc.status_code}"
    return problem_response(
        request,
        status=exc.status_code,
        code=code,
        title=str(exc.detail),
        detail=f"{request.method} {request.url.path}: {exc.detail}",
        headers=dict(exc.headers or {}),
    )


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    # A bug: say so without echoing anything that might hold a secret.
    log.exception("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request,
        status=500,
        code="internal",
        title="Internal error",
        detail="an unexpected error happened; it was logged",
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error a problem document."""
    app.add_exception_handler(TenantryError, _tenantry_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _internal_error)

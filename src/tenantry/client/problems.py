"""Problem documents back into the errors they came from (same class, code and exit code)."""

from __future__ import annotations

from typing import Any

from tenantry.errors import (
    AdmissionError,
    ApprovalRequiredError,
    FrameError,
    NotFoundError,
    SpecError,
    SpecIssue,
    TenantryError,
    ThrottledError,
    UnavailableError,
    Violation,
    all_error_classes,
)

__all__ = ["error_from_problem"]

_BY_CODE = {cls.code: cls for cls in all_error_classes()}


def error_from_problem(
    problem: dict[str, Any], status: int, retry_after: str | None = None
) -> TenantryError:
    """The TenantryError a problem document stands for."""
    code = str(problem.get("code") or problem.get("type") or "")
    detail = str(problem.get("detail") or f"HTTP {status}")
    hint = str(problem.get("hint") or "") or None
    errors = problem.get("errors") or []
    cls = _BY_CODE.get(code)
    if cls is None:
        if status == 404:
            return NotFoundError(detail, hint=hint)
        if status >= 500:
            return UnavailableError(f"the server failed: {detail}", hint=hint)
        return TenantryError(detail, hint=hint)
    if issubclass(cls, SpecError):
        issues = [
            SpecIssue(
                str(e.get("path", "")),
                str(e.get("detail", "")),
                e.get("file"),
                e.get("line"),
                e.get("column"),
            )
            for e in errors
            if isinstance(e, dict)
        ]
        return cls(issues or [SpecIssue("", detail)], hint=hint)
    if issubclass(cls, AdmissionError):
        violations = [
            Violation(str(e.get("rule", "")), str(e.get("detail", "")), tuple(e.get("objects", ())))
            for e in errors
            if isinstance(e, dict)
        ]
        return cls(violations or [Violation("refused", detail)], hint=hint)
    if issubclass(cls, ApprovalRequiredError):
        return cls(detail, approval_id=str(problem.get("approval_id", "")))
    if issubclass(cls, ThrottledError):
        wait = float(retry_after) if retry_after and retry_after.isdigit() else 1.0
        return cls(detail, retry_after=wait)
    if issubclass(cls, FrameError):
        return cls(detail, 0)
    return cls(detail, hint=hint)

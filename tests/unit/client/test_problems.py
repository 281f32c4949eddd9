"""Problem documents turn back into the very error classes the server raised."""

from __future__ import annotations

from tenantry.client import error_from_problem
from tenantry.errors import (
    AdmissionError,
    ApprovalRequiredError,
    NotFoundError,
    RateLimitedError,
    SpecError,
    TenantryError,
    UnavailableError,
)


def test_spec_error_keeps_its_issues() -> None:
    """Located issues survive the trip (exit code 3 on the CLI)."""
    error = error_from_problem(
        {
            "code": "spec.invalid",
            "detail": "x",
            "errors": [{"path": "tenants[0].name", "detail": "bad", "line": 3, "column": 5}],
        },
        422,
    )
    assert isinstance(error, SpecError) and error.exit_code == 3
    assert error.issues[0].line == 3


def test_admission_and_quota_keep_their_class() -> None:
    """admission.quota comes back as QuotaExceededError with its rule."""
    error = error_from_problem(
        {
            "code": "admission.quota",
            "detail": "x",
            "errors": [{"rule": "quota-objects", "detail": "d"}],
        },
        429,
    )
    assert isinstance(error, AdmissionError) and error.code == "admission.quota"
    assert error.violations[0].rule == "quota-objects"


def test_approval_and_throttle_keep_their_fields() -> None:
    """The approval id and the wait survive."""
    pending = error_from_problem({"code": "approval.required", "approval_id": "abc"}, 202)
    assert isinstance(pending, ApprovalRequiredError) and pending.approval_id == "abc"
    limited = error_from_problem({"code": "auth.rate_limited", "detail": "slow"}, 429, "7")
    assert isinstance(limited, RateLimitedError) and limited.retry_after == 7


def test_unknown_codes_fall_back_by_status() -> None:
    """A code this client does not know still maps sensibly."""
    assert isinstance(error_from_problem({"code": "http.404"}, 404), NotFoundError)
    assert isinstance(error_from_problem({"code": "internal"}, 500), UnavailableError)
    assert type(error_from_problem({"code": "http.405"}, 405)) is TenantryError

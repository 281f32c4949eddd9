"""`tenantry serve` enforces what it commits, like `tenantry apply`: an apply through the API is
compiled and applied on the reference backend, and the response reports it."""

from __future__ import annotations

import json
import uuid

from tests.helpers.server import RunningServer


def _tenant_spec(server: RunningServer, description: str) -> str:
    with server.as_user("tadmin", "acme") as tenant:
        policy = tenant.get("/v1/policy/acme/web-in").json()["body"]
        body = tenant.get("/v1/tenant/acme").json()["body"]
    policy["description"] = description
    return json.dumps({"version": 1, "tenants": [{**body, "policies": [policy]}]})


def test_apply_through_the_api_is_enforced_and_reported(server: RunningServer) -> None:
    """A tenant's change commits, the reference backend enforces that very generation, and
    applying the same spec again changes and enforces nothing."""
    spec = _tenant_spec(server, f"enforced {uuid.uuid4().hex}")
    headers = {"Content-Type": "application/json"}
    with server.as_user("tadmin", "acme") as tenant:
        first = tenant.post("/v1/apply", content=spec, headers=headers)
        again = tenant.post("/v1/apply", content=spec, headers=headers)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["applied"] is True
    enforcement = answer["enforcement"]
    assert enforcement["backend"] == "reference"
    assert enforcement["generation"] == answer["generation"]
    assert enforcement["ports"] > 0 and enforcement["policies"] > 0
    assert answer["enforcement_errors"] == []
    assert again.json()["applied"] is False and again.json()["enforcement"] is None

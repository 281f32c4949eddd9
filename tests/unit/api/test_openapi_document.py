"""The published OpenAPI document: kept in docs/, every error a problem, every route secured."""

from __future__ import annotations

import json
from typing import cast

from tenantry.api import create_app
from tenantry.service import Service
from tests.helpers.docs import DOCS
from tests.helpers.openapi_doc import openapi_json

DOCUMENT = create_app(cast(Service, None)).openapi()
PUBLIC = {("get", "/healthz"), ("post", "/v1/auth/login")}


def test_docs_openapi_json_is_current() -> None:
    """docs/openapi.json equals what the server publishes (run scripts/gen-docs after a change)."""
    assert (DOCS / "openapi.json").read_text() == openapi_json()


def test_every_operation_documents_problem_responses() -> None:
    """Any error status is described by the RFC 9457 Problem schema."""
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            default = operation["responses"]["default"]
            assert "application/problem+json" in default["content"], (method, path)
            assert "422" not in operation["responses"], (method, path)


def test_every_operation_but_two_requires_a_bearer() -> None:
    """Only /healthz and login are reachable without a token."""
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            expected = [] if (method, path) in PUBLIC else [{"bearer": []}]
            assert operation.get("security", []) == expected, (method, path)


def test_operation_ids_are_unique() -> None:
    """The role matrix and schemathesis key operations by id."""
    ids = [op["operationId"] for ops in DOCUMENT["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert json.dumps(DOCUMENT)

"""Row 50: schemathesis against the server's own OpenAPI document, over HTTPS, as a provider
administrator and as a tenant administrator: no 5xx, no response outside the documented
schemas, status codes and media types, and no operation that ignores authentication.

The default run keeps to a few examples per operation; ``slow`` runs many more. Logging out
is left out: it would end the very credential the run uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)

from tenantry.api import create_app
from tenantry.service import Service
from tests.helpers.server import RunningServer, running_server
from tests.helpers.softhsm import SoftHsm

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    ignored_auth,
]
QUICK = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
THOROUGH = settings(QUICK, max_examples=150, derandomize=False)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory, softhsm: SoftHsm) -> Iterator[RunningServer]:
    """A server of its own: generated logins must not lock other tests out of 127.0.0.1. It
    reads disks through SoftHSM2 like a real deployment (no 503 for want of an HSM)."""
    env = {"TENANTRY_ADDRESS_MAX_FAILURES": "1000000", "TENANTRY_LOGIN_MAX_FAILURES": "1000000"}
    with running_server(tmp_path_factory.mktemp("fuzz"), env=env, hsm=softhsm) as running:
        yield running


@pytest.fixture(scope="module")
def api_schema(fuzzed: RunningServer) -> Any:
    with fuzzed.client() as client:
        document = client.get("/openapi.json").json()
    return schemathesis.openapi.from_dict(document)


@pytest.fixture(scope="module")
def credentials(fuzzed: RunningServer) -> list[dict[str, Any]]:
    """API tokens (not sessions: no idle timeout while hypothesis shrinks) of a provider
    administrator and of a tenant administrator."""
    found = []
    for name, tenant in (("padmin", None), ("tadmin", "acme")):
        with fuzzed.client(fuzzed.login(name, tenant)) as client:
            token = client.post(
                "/v1/tokens", json={"name": "schemathesis", "expires_in": 3600}
            ).json()["token"]
        found.append(
            {
                "base_url": fuzzed.url,
                "headers": {"Authorization": f"Bearer {token}"},
                "verify": str(fuzzed.cert),
            }
        )
    return found


def _operation_ids() -> list[str]:
    # The document is static (it does not depend on the data): build it here to name the tests.
    document = create_app(cast(Service, None)).openapi()
    return sorted(
        operation["operationId"]
        for operations in document["paths"].values()
        for operation in operations.values()
        if operation["operationId"] != "logout"
    )


def _fuzz(api_schema: Any, operation_id: str, roles: list[dict[str, Any]], rules: settings) -> None:
    operation = api_schema.find_operation_by_id(operation_id)
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=strategy)
    @rules
    def run(case: Any) -> None:
        for role in roles:
            case.call_and_validate(checks=CHECKS, **role)

    run()


@pytest.mark.parametrize("operation_id", _operation_ids())
def test_api_conforms_to_its_openapi_document(
    api_schema: Any, credentials: list[dict[str, Any]], operation_id: str
) -> None:
    """A few generated requests (valid and invalid) per operation and role: no 5xx, no
    response outside the document, no ignored authentication."""
    _fuzz(api_schema, operation_id, credentials, QUICK)


@pytest.mark.slow
@pytest.mark.parametrize("operation_id", _operation_ids())
def test_api_conforms_to_its_openapi_document_thoroughly(
    api_schema: Any, credentials: list[dict[str, Any]], operation_id: str
) -> None:
    """Many generated requests per operation and role (slow)."""
    _fuzz(api_schema, operation_id, credentials, THOROUGH)

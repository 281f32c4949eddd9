"""Without an HSM the server has no disk reader: disk read and export are authorized and
audited first, then answer 503 unavailable.hsm (never plaintext, never a crash)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tenantry.api import create_app
from tenantry.governance import Actor, GovernanceRules, UnsafeFastPasswordHashing
from tenantry.service import Service
from tests.helpers.asgi import InProcessClient, in_process_client
from tests.helpers.people import PASSWORD, add_person
from tests.helpers.specs import estate_from

DISK = "/v1/guest/acme/web/disks/root"


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[tuple[Service, InProcessClient]]:
    svc = Service.open(
        f"sqlite:///{tmp_path / 't.db'}",
        rules=GovernanceRules(password_hashing=UnsafeFastPasswordHashing()),
    )
    svc.apply(Actor.local_operator(), estate_from())
    add_person(svc, "ta", tenant="acme")
    add_person(svc, "pa")
    with in_process_client(create_app(svc)) as client:
        yield svc, client
    svc.close()


def _as(client: InProcessClient, name: str, tenant: str | None) -> dict[str, str]:
    body = {"username": name, "tenant": tenant, "password": PASSWORD}
    return {"Authorization": f"Bearer {client.post('/v1/auth/login', json=body).json()['token']}"}


@pytest.mark.parametrize("operation", ["read", "export"])
def test_disk_plaintext_without_an_hsm_is_503_for_the_authorized(
    app_client: tuple[Service, InProcessClient], operation: str
) -> None:
    """The tenant's administrator is authorized (and audited) but gets 503 unavailable.hsm."""
    service, client = app_client
    response = client.post(f"{DISK}/{operation}", headers=_as(client, "ta", "acme"))
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "unavailable.hsm"
    last = [e.record() for e in service.store.audit_entries(tenant="acme")][-1]
    assert (last.action, str(last.outcome)) == (f"data.disk.{operation}", "succeeded")


@pytest.mark.parametrize("operation", ["read", "export"])
def test_disk_plaintext_without_an_hsm_is_still_403_for_the_provider(
    app_client: tuple[Service, InProcessClient], operation: str
) -> None:
    """The refusal comes first: a provider administrator learns nothing about the HSM."""
    _, client = app_client
    response = client.post(f"{DISK}/{operation}", headers=_as(client, "pa", None))
    assert response.status_code == 403, response.text

"""What several API replicas over one store share: login lockouts (in the store) are shared,
request-rate buckets (in each process's memory) are not; docs/api.md says so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tenantry.api import ApiLimits, create_app
from tenantry.governance import Actor, GovernanceRules, ThrottleRule, UnsafeFastPasswordHashing
from tenantry.service import Service
from tests.helpers.asgi import in_process_client
from tests.helpers.people import PASSWORD, add_person
from tests.helpers.specs import estate_from

RULES = GovernanceRules(
    password_hashing=UnsafeFastPasswordHashing(),
    account_throttle=ThrottleRule(3, GovernanceRules().account_throttle.lockout),
)


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[tuple[Service, Service]]:
    """Two services (two API replicas) over the same SQLite store."""
    url = f"sqlite:///{tmp_path / 't.db'}"
    first = Service.open(url, rules=RULES)
    first.apply(Actor.local_operator(), estate_from())
    add_person(first, "bob", tenant="acme")
    second = Service.open(url, rules=RULES)
    yield first, second
    first.close()
    second.close()


def _login(client, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(
        "/v1/auth/login", json={"username": "bob", "tenant": "acme", "password": password}
    )


def test_account_lockout_reached_on_one_replica_holds_on_another(
    replicas: tuple[Service, Service],
) -> None:
    """Failures counted by replica A lock the account on replica B (the count is stored)."""
    first, second = replicas
    with (
        in_process_client(create_app(first)) as a,
        in_process_client(create_app(second)) as b,
    ):
        assert _login(b).status_code == 200  # positive control before the attack
        for _ in range(3):
            assert _login(a, "wrong password, wrong").status_code == 401
        refused = _login(b)
    assert refused.status_code == 429, refused.text
    assert "retry-after" in refused.headers


def test_request_rate_bucket_is_per_replica(replicas: tuple[Service, Service]) -> None:
    """A tenant that spent its bucket on replica A still has replica B's: the documented limit."""
    first, second = replicas
    limits = ApiLimits(tenant_rate=0.001, tenant_burst=3)
    with (
        in_process_client(create_app(first, limits)) as a,
        in_process_client(create_app(second, limits)) as b,
    ):
        token = _login(a).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        statuses = [a.get("/v1/guest", headers=headers).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert b.get("/v1/guest", headers=headers).status_code == 200

"""THREATS row 42 on real stores: a tenant's view holds every event on its objects (provider
actions included) and no event of any other tenant, whatever happened in between."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest

from tenantry.audit import Ed25519Signer, Outcome, verify_inclusion
from tenantry.audit.bundle_check import verify_bundle
from tenantry.audit.merkle import leaf_hash
from tenantry.errors import NotFoundError
from tests.helpers.audit import (
    TENANTS,
    demo_estate,
    describe_tenant,
    open_service,
    operator,
    tenant_actor,
)

SIGNER = Ed25519Signer.generate()


def _names(text: str, tenant: str) -> bool:
    return any(
        p in text for p in (f'"{tenant}"', f'"{tenant}/', f" {tenant}/", f'tenant {tenant}"')
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_views_hold_exactly_each_tenants_events(store_url: str, seed: int) -> None:
    """A random mix of provider changes, tenant changes, cross-tenant attempts and events."""
    rng = random.Random(seed)
    service = open_service(store_url, SIGNER)
    service.apply(operator(), demo_estate())
    expected: dict[str, int] = defaultdict(int)
    for tenant in TENANTS:
        expected[tenant] += 1  # the demo apply
    for step in range(40):
        tenant, other = rng.sample(TENANTS, 2)
        kind = rng.choice(["provider", "own", "cross", "event"])
        if kind == "provider":
            describe_tenant(service, operator(), tenant, f"provider step {step}")
            expected[tenant] += 1
        elif kind == "own":
            describe_tenant(service, tenant_actor(tenant), tenant, f"own step {step}")
            expected[tenant] += 1
        elif kind == "cross":
            with pytest.raises(NotFoundError):
                describe_tenant(service, tenant_actor(tenant), other, f"attack {step}")
            expected[tenant] += 1  # the attacker's own tenant sees its user's attempt
            expected[other] += 1  # the target sees that someone tried
        else:
            service.record(tenant_actor(tenant), "login", Outcome.SUCCEEDED,
                           targets=(f"user {tenant}-admin",), tenant=tenant)  # fmt: skip
            expected[tenant] += 1

    head = service.audit.head(operator())
    for tenant in TENANTS:
        view = service.audit.entries(tenant_actor(tenant))
        assert len(view) == expected[tenant]
        for entry in view:
            assert entry.record().tenants == (tenant,)
            for other in TENANTS:
                if other != tenant:
                    assert not _names(entry.body.decode(), other), (tenant, other, entry.body)
        bundle = service.audit.bundle(tenant_actor(tenant))
        assert [e.seq for e in bundle.entries] == [e.seq for e in view]
        assert verify_bundle(bundle, public_key=SIGNER.public_key()).ok
        for entry in bundle.entries:
            assert entry.proof is not None
            assert verify_inclusion(
                leaf_hash(entry.body), entry.seq, head.size, entry.proof, head.root
            )
    service.close()


def test_a_large_tenant_view_is_proven_from_one_scan(store_url: str) -> None:
    """Past the bulk threshold the proofs come from one read of every leaf hash; all verify."""
    from tenantry.audit import AuditRecord

    service = open_service(store_url, SIGNER)
    with service.audit.appender(batch_size=100) as appender:
        for i in range(300):
            record = AuditRecord(actor="svc", action="login", outcome=Outcome.SUCCEEDED,
                                 targets=(f"user {i}",), tenants=(TENANTS[i % 4],))  # fmt: skip
            appender.add(record)
    bundle = service.audit.bundle(tenant_actor("hr"))
    assert len(bundle.entries) == 75
    assert verify_bundle(bundle, public_key=SIGNER.public_key()).ok
    service.close()

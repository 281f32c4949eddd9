"""Row 33: the provider's own administrators reach tenant data only through a grant the tenant
creates, approved by a second provider person, for a limited time; everything is audited
for the tenant."""

from __future__ import annotations

import time

import pytest

from tests.helpers.server import RunningServer

GUEST = "/v1/guest/acme/web"
DATA_OPERATIONS = {
    "guest.console": f"{GUEST}/console",
    "memory.dump": f"{GUEST}/memory-dump",
    "snapshot.export": f"{GUEST}/snapshot-export",
    "disk.read": f"{GUEST}/disks/root/read",
    "disk.export": f"{GUEST}/disks/root/export",
    "traffic.mirror": f"{GUEST}/vnics/eth0/mirror",
    "traffic.capture": f"{GUEST}/vnics/eth0/capture",
}


def _tenant_audit(server: RunningServer) -> list[dict]:
    with server.as_user("tadmin", "acme") as tenant:
        page = tenant.get("/v1/audit", params={"limit": 1000}).json()
    return [item["record"] for item in page["items"]]


@pytest.mark.parametrize("privilege", sorted(DATA_OPERATIONS))
def test_provider_admin_is_refused_every_tenant_data_operation(
    server: RunningServer, privilege: str
) -> None:
    """No provider role carries tenant-data privileges: 403, and the tenant sees the attempt."""
    with server.as_user("padmin") as admin:
        response = admin.post(DATA_OPERATIONS[privilege])
    assert response.status_code == 403, response.text
    refused = [
        r
        for r in _tenant_audit(server)
        if r["action"] == f"data.{privilege}" and r["outcome"] == "refused"
    ]
    assert refused and refused[-1]["actor"] == "padmin"


@pytest.mark.parametrize("privilege", sorted(DATA_OPERATIONS))
def test_tenant_admin_uses_its_own_tenant_data(server: RunningServer, privilege: str) -> None:
    """The positive control: inside the tenant, the administrator holds them."""
    with server.as_user("tadmin", "acme") as tenant:
        response = tenant.post(DATA_OPERATIONS[privilege])
    assert response.status_code == 200, response.text
    if privilege == "disk.export":  # the plaintext itself (tests/e2e/api/test_disk_reads.py)
        assert response.headers["tenantry-access-via"] == "role"
    else:
        assert response.json()["via"] == "role"


def test_provider_admin_cannot_alter_tenant_policies(server: RunningServer) -> None:
    """A tenant-controlled tenant's firewall policy is the tenant's alone."""
    with server.as_user("padmin") as admin:
        current = admin.get("/v1/policy/acme/web-in")
        body = dict(current.json()["body"], description="provider edit")
        response = admin.put(
            "/v1/policy/acme/web-in", json=body, headers={"If-Match": current.headers["etag"]}
        )
    assert response.status_code == 403, response.text


def test_grant_lets_one_operator_in_for_a_while_after_a_second_approval(
    server: RunningServer,
) -> None:
    """Refused before; pending after the tenant's grant; the grantee cannot approve it; active
    after a second provider person approves; refused again once it expires; all audited."""
    operator = server.login("grantee")
    with server.client(operator) as grantee:
        assert grantee.post(DATA_OPERATIONS["disk.read"]).status_code == 403
        with server.as_user("tadmin", "acme") as tenant:
            created = tenant.post(
                "/v1/grants",
                json={
                    "grantee": "grantee",
                    "guest": "acme/web",
                    "privilege": "disk.read",
                    "expires_in": 3,
                },
            )
        assert created.status_code == 202, created.text
        approval = created.json()["approval_id"]
        assert grantee.post(DATA_OPERATIONS["disk.read"]).status_code == 403
        assert grantee.post(f"/v1/approvals/{approval}/approve").status_code in (403, 404)
        with server.as_user("padmin") as approver:
            decided = approver.post(f"/v1/approvals/{approval}/approve")
        assert decided.status_code == 200, decided.text
        used = grantee.post(DATA_OPERATIONS["disk.read"])
        assert used.status_code == 200, used.text
        assert used.json()["via"].startswith("grant ")
        assert grantee.post(DATA_OPERATIONS["memory.dump"]).status_code == 403
        assert grantee.post("/v1/guest/globex/web/disks/root/read").status_code == 403
        time.sleep(3.5)
        assert grantee.post(DATA_OPERATIONS["disk.read"]).status_code == 403
    actions = [(r["action"], r["outcome"]) for r in _tenant_audit(server)]
    for expected in (
        ("grant.request", "applied"),
        ("approval.approve", "applied"),
        ("grant.activate", "applied"),
        ("data.disk.read", "succeeded"),
        ("grant.expire", "applied"),
        ("data.disk.read", "refused"),
    ):
        assert expected in actions, expected
    with server.as_user("tadmin", "acme") as tenant:
        grants = tenant.get("/v1/grants").json()
    assert any(g["approval_id"] == approval and g["status"] == "expired" for g in grants)


def test_tenant_revokes_a_grant_at_once(server: RunningServer) -> None:
    """After the tenant revokes, the operator is refused on its next call."""
    operator = server.login("grantee")
    with server.as_user("tadmin", "acme") as tenant:
        created = tenant.post(
            "/v1/grants",
            json={
                "grantee": "grantee",
                "guest": "acme/web",
                "privilege": "guest.console",
                "expires_in": 600,
            },
        )
        approval = created.json()["approval_id"]
        with server.as_user("padmin2") as approver:
            assert approver.post(f"/v1/approvals/{approval}/approve").status_code == 200
        with server.client(operator) as grantee:
            assert grantee.post(DATA_OPERATIONS["guest.console"]).status_code == 200
        grant = next(g for g in tenant.get("/v1/grants").json() if g["approval_id"] == approval)
        assert tenant.delete(f"/v1/grants/{grant['id']}").status_code == 200
    with server.client(operator) as grantee:
        assert grantee.post(DATA_OPERATIONS["guest.console"]).status_code == 403


def test_another_tenant_cannot_grant_access_to_a_guest_it_does_not_own(
    server: RunningServer,
) -> None:
    """globex cannot grant anyone acme's guest: it does not exist for globex."""
    with server.as_user("gadmin", "globex") as other:
        response = other.post(
            "/v1/grants",
            json={
                "grantee": "grantee",
                "guest": "acme/web",
                "privilege": "disk.read",
                "expires_in": 60,
            },
        )
    assert response.status_code == 404, response.text


def test_no_response_carries_a_secret_of_another_user(server: RunningServer) -> None:
    """Listings of users, sessions and tokens never hold hashes, TOTP secrets or tokens."""
    with server.as_user("padmin") as admin:
        bodies = [
            admin.get("/v1/users").text,
            admin.get("/v1/sessions", params={"everyone": "true"}).text,
            admin.get("/v1/tokens").text,
        ]
    for body in bodies:
        assert "$argon2" not in body and "tnt_" not in body and "totp" not in body.lower()

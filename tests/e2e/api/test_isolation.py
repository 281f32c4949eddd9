"""Row 31: with one tenant's credentials, another tenant's objects do not exist (BOLA/IDOR)."""

from __future__ import annotations

import json

import pytest

from tenantry.model import KIND_INFO, Kind
from tests.helpers.server import RunningServer

GLOBEX = {Kind.GUEST: "web", Kind.NETWORK: "app"}
OWNED = [kind for kind, info in KIND_INFO.items() if info.owned]


def _normalised(problem: dict, name: str) -> dict:
    """The problem with the probed name blanked out (it only echoes the request)."""
    return {k: str(v).replace(name, "<name>") for k, v in problem.items()}


@pytest.mark.parametrize("kind", [Kind.GUEST, Kind.NETWORK])
def test_other_tenants_object_reads_exactly_like_a_missing_one(
    server: RunningServer, kind: Kind
) -> None:
    """GET of globex's object and of a name nobody uses give the same 404 document."""
    with server.as_user("tadmin", "acme") as acme:
        existing = acme.get(f"/v1/{kind}/globex/{GLOBEX[kind]}")
        missing = acme.get(f"/v1/{kind}/globex/no-such-thing")
    assert existing.status_code == missing.status_code == 404
    assert _normalised(existing.json(), GLOBEX[kind]) == _normalised(
        missing.json(), "no-such-thing"
    )
    assert set(existing.headers) == set(missing.headers)
    assert "etag" not in existing.headers


def test_tenant_reads_its_own_object(server: RunningServer) -> None:
    """The positive control: acme's admin reads acme's guest, with its ETag."""
    with server.as_user("tadmin", "acme") as acme:
        response = acme.get("/v1/guest/acme/web")
    assert response.status_code == 200
    assert response.json()["body"]["name"] == "web"
    assert response.headers["etag"].strip('"').isdigit()


def test_other_tenants_object_cannot_be_written_or_deleted(server: RunningServer) -> None:
    """PUT and DELETE of globex's guest get the same 404, and nothing changes."""
    with server.as_user("gadmin", "globex") as globex:
        before = globex.get("/v1/guest/globex/web").json()
    body = dict(before["body"], description="written by acme")
    with server.as_user("tadmin", "acme") as acme:
        put = acme.put("/v1/guest/globex/web", json=body, headers={"If-Match": '"1"'})
        create = acme.put(
            "/v1/guest/globex/evil", json=dict(body, name="evil"), headers={"If-None-Match": "*"}
        )
        delete = acme.delete("/v1/guest/globex/web", headers={"If-Match": '"1"'})
    assert [put.status_code, create.status_code, delete.status_code] == [404, 404, 404]
    with server.as_user("gadmin", "globex") as globex:
        assert globex.get("/v1/guest/globex/web").json() == before


@pytest.mark.parametrize("kind", OWNED)
def test_listing_never_reveals_another_tenants_names(server: RunningServer, kind: Kind) -> None:
    """Lists (with or without an owner filter) hold only the caller's own objects."""
    with server.as_user("tadmin", "acme") as acme:
        plain = acme.get(f"/v1/{kind}").json()["items"]
        filtered = acme.get(f"/v1/{kind}", params={"owner": "globex"}).json()["items"]
        exported = acme.get("/v1/export").text
    assert all(item["owner"] == "acme" for item in plain)
    assert filtered == []
    assert "globex" not in exported


def test_tenant_never_sees_provider_or_other_tenants_through_tenants_list(
    server: RunningServer,
) -> None:
    """The tenants list of a tenant holds itself only."""
    with server.as_user("tadmin", "acme") as acme:
        names = [item["name"] for item in acme.get("/v1/tenant").json()["items"]]
    assert names == ["acme"]


def test_deleted_object_id_is_gone(server: RunningServer) -> None:
    """use-after-free: a deleted policy's URL answers 404 to its own tenant."""
    with server.as_user("tadmin", "acme") as acme:
        policy = acme.get("/v1/policy/acme/web-in").json()["body"]
        created = acme.put(
            "/v1/policy/acme/doomed",
            json=dict(policy, name="doomed"),
            headers={"If-None-Match": "*"},
        )
        assert created.status_code == 201, created.text
        gone = acme.delete("/v1/policy/acme/doomed", headers={"If-Match": created.headers["etag"]})
        assert gone.status_code == 204
        assert acme.get("/v1/policy/acme/doomed").status_code == 404
        assert acme.delete("/v1/policy/acme/doomed", headers={"If-Match": '"1"'}).status_code == 404


def test_cross_tenant_attempts_are_audited_for_the_target_tenant(server: RunningServer) -> None:
    """globex's own audit view shows acme's refused attempt on its guest."""
    with server.as_user("tadmin", "acme") as acme:
        body = acme.get("/v1/guest/acme/web").json()["body"]
        acme.put("/v1/guest/globex/web", json=dict(body, name="web"), headers={"If-Match": '"1"'})
    with server.as_user("gadmin", "globex") as globex:
        records = [
            i["record"] for i in globex.get("/v1/audit", params={"limit": 1000}).json()["items"]
        ]
    refused = [
        r
        for r in records
        if r["outcome"] == "refused" and "guest globex/web" in " ".join(r["targets"])
    ]
    # globex learns that a user of another tenant tried, never which tenant (no name leaks
    # across the boundary, not even the attacker's).
    assert refused and refused[-1]["actor"] == "(a user of another tenant)"
    assert all("acme" not in json.dumps(r) for r in records)
    assert all(r["tenants"] == ["globex"] for r in records)

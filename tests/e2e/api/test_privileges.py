"""For every privilege of the catalogue: a request it allows, and the same request refused to a
user holding every other privilege of the domain but that one."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tenantry.errors import ApprovalRequiredError
from tenantry.governance import PRIVILEGES, Actor, Privilege, privileges_for
from tenantry.model import Kind, Ref
from tenantry.service import Service
from tests.helpers.people import PASSWORD
from tests.helpers.server import RunningServer

_names = itertools.count()


@dataclass(frozen=True)
class Probe:
    """A request needing one privilege, in one domain (None: the provider)."""

    tenant: str | None
    send: Callable[[httpx.Client, Service], httpx.Response]


def _put_description(kind: Kind, ref: Ref) -> Callable[[httpx.Client, Service], httpx.Response]:
    def send(client: httpx.Client, service: Service) -> httpx.Response:
        snapshot = service.snapshot()
        obj = snapshot.estate.get(kind, ref)
        assert obj is not None
        body: dict[str, Any] = obj.model_dump(mode="json")
        body["description"] = f"probe {next(_names)}"
        path = (
            f"/v1/{kind}/{ref.name}"
            if not ref.owner or ref.owner == "provider"
            else (f"/v1/{kind}/{ref.owner}/{ref.name}")
        )
        if kind is Kind.TENANT:
            path = f"/v1/tenant/{ref.name}"
        revision = snapshot.revisions[(kind, ref)]
        return client.put(path, json=body, headers={"If-Match": f'"{revision}"'})

    return send


def _get(path: str, **params: Any) -> Callable[[httpx.Client, Service], httpx.Response]:
    return lambda client, service: client.get(path, params=params)


def _post(path: str, body: Any = None) -> Callable[[httpx.Client, Service], httpx.Response]:
    return lambda client, service: client.post(path, json=body)


def _approve(client: httpx.Client, service: Service) -> httpx.Response:
    found = service.store.identities.user("provider", "padmin2")
    assert found is not None
    requester = service.sessions.actor_for(found[0].id, source="probe")
    with pytest.raises(ApprovalRequiredError) as pending:
        service.accounts.disable_mfa(requester, None, "target-p")
    return client.post(f"/v1/approvals/{pending.value.approval_id}/approve")


def _add_resource_pool(service: Service) -> None:
    operator = Actor.local_operator()
    if service.snapshot().estate.get(Kind.RESOURCE_POOL, Ref("acme", "probe-pool")) is not None:
        return
    from tenantry.model import ResourcePool

    service.put(
        operator,
        Kind.RESOURCE_POOL,
        Ref("provider", "probe-root"),
        ResourcePool(name="probe-root", cluster="c1", delegate_to="acme"),
        expected_revision=0,
    )
    service.put(
        operator,
        Kind.RESOURCE_POOL,
        Ref("acme", "probe-pool"),
        ResourcePool(name="probe-pool", parent="probe-root"),
        expected_revision=0,
    )


def _put_pool(client: httpx.Client, service: Service) -> httpx.Response:
    _add_resource_pool(service)
    snapshot = service.snapshot()
    ref = Ref("acme", "probe-pool")
    pool = snapshot.estate.get(Kind.RESOURCE_POOL, ref)
    assert pool is not None
    body = pool.model_dump(mode="json")
    body["cpu"]["shares"] = 2000 + next(_names)
    revision = snapshot.revisions[(Kind.RESOURCE_POOL, ref)]
    return client.put(
        "/v1/resource-pool/acme/probe-pool", json=body, headers={"If-Match": f'"{revision}"'}
    )


def _put_router(client: httpx.Client, service: Service) -> httpx.Response:
    # A network joins one router only: reuse acme's router if another test made one.
    routers = [r for r, _ in service.snapshot().estate.items(Kind.ROUTER) if r.owner == "acme"]
    ref = routers[0] if routers else Ref("acme", "probe-r")
    if not routers:
        from tenantry.model import Router

        router = Router(name="probe-r", networks=("app",))
        service.put(Actor.local_operator(), Kind.ROUTER, ref, router, expected_revision=0)
    return _put_description(Kind.ROUTER, ref)(client, service)


GUEST = "/v1/guest/acme/web"
PROBES: dict[Privilege, Probe] = {
    Privilege.INVENTORY_READ: Probe("acme", _get(GUEST)),
    Privilege.INFRASTRUCTURE_WRITE: Probe(None, _put_description(Kind.HOST, Ref("provider", "h1"))),
    Privilege.TENANT_WRITE: Probe(None, _put_description(Kind.TENANT, Ref("provider", "globex"))),
    Privilege.RESOURCE_POOL_WRITE: Probe("acme", _put_pool),
    Privilege.NETWORK_WRITE: Probe("acme", _put_description(Kind.NETWORK, Ref("acme", "app"))),
    Privilege.ROUTER_WRITE: Probe("acme", _put_router),
    Privilege.GUEST_WRITE: Probe("acme", _put_description(Kind.GUEST, Ref("acme", "web"))),
    Privilege.POLICY_WRITE: Probe("acme", _put_description(Kind.POLICY, Ref("acme", "web-in"))),
    Privilege.AUDIT_READ: Probe("acme", _get("/v1/audit")),
    Privilege.USERS_MANAGE: Probe("acme", _get("/v1/users")),
    Privilege.ROLES_MANAGE: Probe("acme", _get("/v1/roles")),
    Privilege.PERMISSIONS_MANAGE: Probe("acme", _get("/v1/permissions")),
    Privilege.SESSIONS_MANAGE: Probe("acme", _get("/v1/sessions", everyone="true")),
    Privilege.APPROVALS_DECIDE: Probe(None, _approve),
    Privilege.GRANTS_MANAGE: Probe(
        "acme",
        _post(
            "/v1/grants",
            {"grantee": "grantee", "guest": "acme/web", "privilege": "disk.read", "expires_in": 60},
        ),
    ),
    Privilege.GUEST_CONSOLE: Probe("acme", _post(f"{GUEST}/console")),
    Privilege.DISK_READ: Probe("acme", _post(f"{GUEST}/disks/root/read")),
    Privilege.DISK_EXPORT: Probe("acme", _post(f"{GUEST}/disks/root/export")),
    Privilege.SNAPSHOT_EXPORT: Probe("acme", _post(f"{GUEST}/snapshot-export")),
    Privilege.MEMORY_DUMP: Probe("acme", _post(f"{GUEST}/memory-dump")),
    Privilege.TRAFFIC_MIRROR: Probe("acme", _post(f"{GUEST}/vnics/eth0/mirror")),
    Privilege.TRAFFIC_CAPTURE: Probe("acme", _post(f"{GUEST}/vnics/eth0/capture")),
}


def _user_with(server: RunningServer, tenant: str | None, privileges: set[Privilege]) -> str:
    """A new user holding exactly ``privileges`` on its domain's root; its session token."""
    name = f"p{next(_names)}"
    operator = Actor.local_operator()
    with closing(server.service()) as service:
        service.accounts.create_user(operator, tenant, name, password=PASSWORD)
        service.access.create_role(operator, tenant, f"r-{name}", [str(p) for p in privileges])
        service.access.grant(operator, tenant, f"user:{name}", f"r-{name}", "/")
    return server.login(name, tenant)


def test_every_privilege_has_a_probe() -> None:
    """The catalogue and the probes name the same privileges."""
    assert set(PROBES) == set(PRIVILEGES)


@pytest.mark.parametrize("privilege", sorted(PRIVILEGES), ids=str)
def test_privilege_allows_its_request_and_its_absence_refuses_it(
    server: RunningServer, privilege: Privilege
) -> None:
    """Holding only P: allowed. Holding everything but P: refused (401/403/404)."""
    probe = PROBES[privilege]
    holder = _user_with(server, probe.tenant, {privilege})
    others = _user_with(server, probe.tenant, set(privileges_for(probe.tenant)) - {privilege})
    with closing(server.service()) as service:
        with server.client(holder) as client:
            allowed = probe.send(client, service)
        with server.client(others) as client:
            refused = probe.send(client, service)
    assert 200 <= allowed.status_code < 300, allowed.text
    assert refused.status_code in (403, 404), refused.text


def test_tenant_data_privileges_exist_only_inside_tenants(server: RunningServer) -> None:
    """The catalogue the API publishes marks them, and no provider role can be made with one."""
    with server.as_user("padmin") as admin:
        catalogue = admin.get("/v1/privileges").json()
        data = [p["name"] for p in catalogue if p["tenant_data"]]
        assert set(data) == {
            "guest.console",
            "disk.read",
            "disk.export",
            "snapshot.export",
            "memory.dump",
            "traffic.mirror",
            "traffic.capture",
        }
        for name in data:
            response = admin.post(
                "/v1/roles", json={"domain": "provider", "name": "peek", "privileges": [name]}
            )
            assert response.status_code == 403, response.text


def test_token_scoped_below_a_privilege_cannot_use_it(server: RunningServer) -> None:
    """An API token limited to inventory.read cannot read a disk, even for a tenant admin."""
    with server.as_user("tadmin", "acme") as admin:
        token = admin.post(
            "/v1/tokens",
            json={"name": "ro", "expires_in": 600, "privileges": ["inventory.read"]},
        ).json()["token"]
    with server.client(token) as scoped:
        assert scoped.get(GUEST).status_code == 200
        assert scoped.post(f"{GUEST}/disks/root/read").status_code == 403

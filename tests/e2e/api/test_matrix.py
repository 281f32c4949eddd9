"""Row 32: every operation of the OpenAPI document x every role; observed == policy, exactly.

The policy is written down here, operation by operation; the test walks the server's own
OpenAPI document, so an operation without a row in the policy fails the run. Allowed means
the request got past authorization (2xx, or 409 for a deliberately stale ETag); denied means
401, 403 or 404 (another tenant's objects do not exist for a tenant). Anonymous callers and
expired tokens get 401 everywhere but /healthz and login.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pyotp
import pytest

from tenantry.errors import ApprovalRequiredError
from tenantry.governance import Actor, DirectoryConfig
from tenantry.model import KIND_INFO, Kind, Ref
from tenantry.service import Service
from tests.helpers.server import PASSWORD, RunningServer

PA, PO, AU, TA, TM = "padmin", "pop", "auditor", "tadmin", "tmember"
PEOPLE = {PA: None, PO: None, AU: None, TA: "acme", TM: "acme"}
EVERYONE = frozenset(PEOPLE)
PROVIDER_SIDE = frozenset({PA, PO, AU})
ROLES = (*PEOPLE, "anonymous", "expired")
DENIED = {401, 403, 404}

TARGETS: dict[Kind, str] = {
    Kind.PHYSICAL_NETWORK: "physnet1",
    Kind.DATACENTER: "dc1",
    Kind.CLUSTER: "c1",
    Kind.HOST: "h1",
    Kind.DATASTORE: "ds1",
    Kind.IMAGE: "base",
    Kind.VIRTUAL_SWITCH: "vs1",
    Kind.PORT_GROUP: "pg-acme",
    Kind.TENANT: "acme",
    Kind.SHARED_SERVICE: "dns",
    Kind.RESOURCE_POOL: "acme/a-pool",
    Kind.NETWORK: "acme/app",
    Kind.ROUTER: "acme/r1",
    Kind.GUEST: "acme/web",
    Kind.POLICY: "acme/web-in",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    json: Any = None
    content: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """Who may call an operation, and how to call it as a given role."""

    allowed: frozenset[str]
    build: Callable[[Harness, str], Request]
    public: bool = False
    after: Callable[[Harness, str], None] | None = None
    """Put back what a successful call changed that other rows rely on."""


class Harness:
    """The server, a local service for set-up, tokens per role, unique names."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.service: Service = server.service()
        self.counter = itertools.count()
        self.tokens = {role: server.login(role, tenant) for role, tenant in PEOPLE.items()}
        self.tokens["anonymous"] = ""
        self.tokens["expired"] = self._expired_token()

    def _expired_token(self) -> str:
        issued = self.service.sessions.create_token(
            self.server.actor(TA, "acme"), "short", lifetime=timedelta(seconds=1)
        )
        time.sleep(1.2)
        return issued.secret

    def unique(self, stem: str) -> str:
        return f"{stem}-{next(self.counter)}"

    def domain(self, role: str) -> str:
        return PEOPLE.get(role) or "provider"

    def actor(self, name: str, tenant: str | None = None) -> Actor:
        return self.server.actor(name, tenant)

    def send(self, role: str, request: Request) -> httpx.Response:
        token = self.tokens[role] or None
        with self.server.client(token) as client:
            return client.request(
                request.method,
                request.path,
                json=request.json,
                content=request.content,
                headers=request.headers,
            )

    def current(self, kind: Kind, ref: Ref) -> tuple[dict[str, Any], int]:
        snapshot = self.service.snapshot()
        obj = snapshot.estate.get(kind, ref)
        assert obj is not None, (kind, ref)
        return obj.model_dump(mode="json"), snapshot.revisions[(kind, ref)]


# ---------------------------------------------------------------- per-kind cases


def _path(kind: Kind) -> str:
    if kind is Kind.PROVIDER:
        return "/v1/provider"
    return f"/v1/{kind}/{TARGETS[kind]}"


def _ref(kind: Kind) -> Ref:
    if kind is Kind.PROVIDER:
        return Ref("provider", "provider")
    return Ref.parse(TARGETS[kind])


def _changed_put(kind: Kind) -> Callable[[Harness, str], Request]:
    def build(harness: Harness, role: str) -> Request:
        body, revision = harness.current(kind, _ref(kind))
        if kind is Kind.RESOURCE_POOL:
            body["cpu"]["shares"] = 1000 + next(harness.counter)
        else:
            body["description"] = harness.unique(f"touched by {role}")
        return Request("PUT", _path(kind), json=body, headers={"If-Match": f'"{revision}"'})

    return build


def _stale_delete(kind: Kind) -> Callable[[Harness, str], Request]:
    def build(harness: Harness, role: str) -> Request:
        return Request("DELETE", _path(kind), headers={"If-Match": '"999999"'})

    return build


def kind_cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for kind, info in KIND_INFO.items():
        snake = str(kind).replace("-", "_")
        tenant_sees = info.owned or kind is Kind.TENANT
        cases[f"get_{snake}"] = Case(
            EVERYONE if tenant_sees else PROVIDER_SIDE,
            lambda h, r, k=kind: Request("GET", _path(k)),
        )
        if info.owned:
            writers = {Kind.GUEST: {TA, TM}}.get(kind, {TA})
            deleters = {PA, PO} if kind is Kind.NETWORK else writers
        elif kind is Kind.TENANT:
            writers, deleters = {PA, PO, TA}, {PA, PO}
        else:
            writers = deleters = {PA, PO}
        cases[f"put_{snake}"] = Case(frozenset(writers), _changed_put(kind))
        if kind is not Kind.PROVIDER:
            cases[f"list_{snake}"] = Case(EVERYONE, lambda h, r, k=kind: Request("GET", f"/v1/{k}"))
            cases[f"delete_{snake}"] = Case(frozenset(deleters), _stale_delete(kind))
    return cases


# ---------------------------------------------------------------- governance cases


def _target(harness: Harness, role: str) -> str:
    return "acme/target-a" if PEOPLE.get(role) else "provider/target-p"


def _mfa_approval(harness: Harness, role: str) -> str:
    requester = harness.actor("padmin2")
    try:
        harness.service.accounts.disable_mfa(requester, None, "target-p")
    except ApprovalRequiredError as exc:
        return exc.approval_id
    raise AssertionError("disabling a provider user's MFA must need an approval")


def _grant(harness: Harness, role: str) -> str:
    with pytest.raises(ApprovalRequiredError):
        harness.service.data_access.request_grant(
            harness.actor(TA, "acme"),
            grantee="grantee",
            guest=Ref("acme", "web"),
            privilege="disk.read",
            lifetime=timedelta(minutes=5),
        )
    return harness.service.store.authority.grants(tenant="acme")[0].id


def _directory(harness: Harness, role: str) -> str:
    domain = harness.domain(role)
    config = DirectoryConfig("ldap://127.0.0.1:9", "uid={username},dc=x", "dc=x")
    tenant = None if domain == "provider" else domain
    harness.service.accounts.set_directory(Actor.local_operator(), tenant, config)
    return f"/v1/directories/{domain}"


def _spec(harness: Harness, role: str) -> str:
    policy, _ = harness.current(Kind.POLICY, Ref("acme", "web-in"))
    tenant, _ = harness.current(Kind.TENANT, Ref("provider", "acme"))
    policy["description"] = harness.unique("planned")
    import json

    return json.dumps({"version": 1, "tenants": [{**tenant, "policies": [policy]}]})


def _fresh_session(harness: Harness, role: str) -> None:
    if role in PEOPLE:
        harness.tokens[role] = harness.server.login(role, PEOPLE.get(role))


def _logout(harness: Harness, role: str) -> Request:
    _fresh_session(harness, role)
    return Request("POST", "/v1/auth/logout")


def _mfa_confirm(harness: Harness, role: str) -> Request:
    code = "000000"
    if role in PEOPLE:
        response = harness.send(role, Request("POST", "/v1/auth/mfa"))
        code = pyotp.TOTP(response.json()["secret"]).now()
    return Request("POST", "/v1/auth/mfa/confirm", json={"code": code})


def _mfa_off(harness: Harness, role: str) -> None:
    if role in PEOPLE:
        harness.service.accounts.disable_mfa(Actor.local_operator(), PEOPLE[role], role)


def _own_credential(harness: Harness, role: str, kind: str) -> str:
    if role not in PEOPLE:
        return "no-such-credential"
    if kind == "session":
        old = harness.tokens[role]
        _fresh_session(harness, role)
        actor = harness.service.sessions.authenticate(old, "test")
        return str(actor.session_id)
    issued = harness.service.sessions.create_token(
        harness.actor(role, PEOPLE.get(role)), "doomed", lifetime=timedelta(minutes=5)
    )
    return issued.credential.id


def governance_cases() -> dict[str, Case]:
    admins = frozenset({PA, TA})
    R = Request  # noqa: N806 - short alias for the table below
    cases = {
        "healthz": Case(EVERYONE, lambda h, r: R("GET", "/healthz"), public=True),
        "login": Case(
            EVERYONE,
            lambda h, r: R(
                "POST",
                "/v1/auth/login",
                json={"username": "auditor", "password": PASSWORD},
            ),
            public=True,
        ),
        "logout": Case(EVERYONE, _logout, after=_fresh_session),
        "whoami": Case(EVERYONE, lambda h, r: R("GET", "/v1/auth/whoami")),
        "mfa_enroll": Case(EVERYONE, lambda h, r: R("POST", "/v1/auth/mfa")),
        "mfa_confirm": Case(EVERYONE, _mfa_confirm, after=_mfa_off),
        "own_password": Case(
            EVERYONE,
            lambda h, r: R(
                "PUT",
                "/v1/auth/password",
                json={"current_password": PASSWORD, "new_password": PASSWORD},
            ),
        ),
        "list_users": Case(admins, lambda h, r: R("GET", "/v1/users")),
        "create_user": Case(
            admins,
            lambda h, r: R(
                "POST",
                "/v1/users",
                json={"domain": h.domain(r), "name": h.unique("new"), "password": PASSWORD},
            ),
        ),
        "get_user": Case(admins, lambda h, r: R("GET", f"/v1/users/{_target(h, r)}")),
        "disable_user": Case(admins, lambda h, r: R("POST", f"/v1/users/{_target(h, r)}/disable")),
        "enable_user": Case(admins, lambda h, r: R("POST", f"/v1/users/{_target(h, r)}/enable")),
        "unlock_user": Case(admins, lambda h, r: R("POST", f"/v1/users/{_target(h, r)}/unlock")),
        "reset_password": Case(
            admins,
            lambda h, r: R(
                "PUT", f"/v1/users/{_target(h, r)}/password", json={"password": PASSWORD}
            ),
        ),
        "disable_mfa": Case(admins, lambda h, r: R("DELETE", f"/v1/users/{_target(h, r)}/mfa")),
        "list_user_sessions": Case(
            admins, lambda h, r: R("GET", f"/v1/users/{_target(h, r)}/sessions")
        ),
        "end_user_sessions": Case(
            admins, lambda h, r: R("DELETE", f"/v1/users/{_target(h, r)}/sessions")
        ),
        "list_privileges": Case(EVERYONE, lambda h, r: R("GET", "/v1/privileges")),
        "list_roles": Case(admins, lambda h, r: R("GET", "/v1/roles")),
        "create_role": Case(
            admins,
            lambda h, r: R(
                "POST",
                "/v1/roles",
                json={"domain": h.domain(r), "name": h.unique("role"), "privileges": []},
            ),
        ),
        "delete_role": Case(admins, _delete_role),
        "list_permissions": Case(admins, lambda h, r: R("GET", "/v1/permissions")),
        "grant_role": Case(
            admins,
            lambda h, r: R(
                "POST",
                "/v1/permissions",
                json={
                    "domain": h.domain(r),
                    "principal": f"group:{h.unique('g')}",
                    "role": "read-only",
                },
            ),
        ),
        "revoke_role": Case(admins, _revoke_permission),
        "list_tokens": Case(EVERYONE, lambda h, r: R("GET", "/v1/tokens")),
        "create_token": Case(
            EVERYONE,
            lambda h, r: R("POST", "/v1/tokens", json={"name": "t", "expires_in": 60}),
        ),
        "revoke_token": Case(
            EVERYONE, lambda h, r: R("DELETE", f"/v1/tokens/{_own_credential(h, r, 'token')}")
        ),
        "list_sessions": Case(EVERYONE, lambda h, r: R("GET", "/v1/sessions")),
        "end_session": Case(
            EVERYONE, lambda h, r: R("DELETE", f"/v1/sessions/{_own_credential(h, r, 'session')}")
        ),
        "list_approvals": Case(EVERYONE, lambda h, r: R("GET", "/v1/approvals")),
        "get_approval": Case(
            frozenset({PA}), lambda h, r: R("GET", f"/v1/approvals/{_mfa_approval(h, r)}")
        ),
        "approve": Case(
            frozenset({PA}),
            lambda h, r: R("POST", f"/v1/approvals/{_mfa_approval(h, r)}/approve"),
        ),
        "reject": Case(
            frozenset({PA}), lambda h, r: R("POST", f"/v1/approvals/{_mfa_approval(h, r)}/reject")
        ),
        "list_grants": Case(frozenset({PA, PO, AU, TA}), lambda h, r: R("GET", "/v1/grants")),
        "create_grant": Case(
            frozenset({TA}),
            lambda h, r: R(
                "POST",
                "/v1/grants",
                json={
                    "grantee": "grantee",
                    "guest": "acme/web",
                    "privilege": "disk.read",
                    "expires_in": 60,
                },
            ),
        ),
        "revoke_grant": Case(
            frozenset({TA}), lambda h, r: R("DELETE", f"/v1/grants/{_grant(h, r)}")
        ),
        "get_directory": Case(admins, lambda h, r: R("GET", _directory(h, r))),
        "set_directory": Case(
            admins,
            lambda h, r: R(
                "PUT",
                f"/v1/directories/{h.domain(r)}",
                json={
                    "url": "ldap://127.0.0.1:9",
                    "user_dn_template": "uid={username},dc=x",
                    "group_base": "dc=x",
                },
            ),
        ),
        "remove_directory": Case(admins, lambda h, r: R("DELETE", _directory(h, r))),
        "read_audit": Case(frozenset({PA, AU, TA}), lambda h, r: R("GET", "/v1/audit")),
        "plan": Case(
            frozenset({TA}),
            lambda h, r: R(
                "POST",
                "/v1/plan",
                content=_spec(h, r),
                headers={"Content-Type": "application/json"},
            ),
        ),
        "apply": Case(
            frozenset({TA}),
            lambda h, r: R(
                "POST",
                "/v1/apply",
                content=_spec(h, r),
                headers={"Content-Type": "application/json"},
            ),
        ),
        "export": Case(EVERYONE, lambda h, r: R("GET", "/v1/export")),
        "spec_schema": Case(EVERYONE, lambda h, r: R("GET", "/v1/schema")),
    }
    base = "/v1/guest/acme/web"
    data_ops = {
        "guest_console": (f"{base}/console", {TA, TM}),
        "memory_dump": (f"{base}/memory-dump", {TA}),
        "snapshot_export": (f"{base}/snapshot-export", {TA}),
        "disk_read": (f"{base}/disks/root/read", {TA}),
        "disk_export": (f"{base}/disks/root/export", {TA}),
        "traffic_mirror": (f"{base}/vnics/eth0/mirror", {TA}),
        "traffic_capture": (f"{base}/vnics/eth0/capture", {TA}),
    }
    for operation, (path, allowed) in data_ops.items():
        cases[operation] = Case(frozenset(allowed), lambda h, r, p=path: R("POST", p))
    return cases


def _delete_role(harness: Harness, role: str) -> Request:
    domain = harness.domain(role)
    name = harness.unique("doomed")
    tenant = None if domain == "provider" else domain
    harness.service.access.create_role(Actor.local_operator(), tenant, name, [])
    return Request("DELETE", f"/v1/roles/{domain}/{name}")


def _revoke_permission(harness: Harness, role: str) -> Request:
    domain = harness.domain(role)
    tenant = None if domain == "provider" else domain
    permission = harness.service.access.grant(
        Actor.local_operator(), tenant, f"group:{harness.unique('doomed')}", "read-only", "/"
    )
    return Request("DELETE", f"/v1/permissions/{permission.id}")


POLICY = {**kind_cases(), **governance_cases()}


@pytest.fixture(scope="module")
def harness(server: RunningServer) -> Harness:
    with closing(server.service()) as service:
        operator = Actor.local_operator()
        service.put(
            operator,
            Kind.RESOURCE_POOL,
            Ref("provider", "p-acme"),
            KIND_INFO[Kind.RESOURCE_POOL].model.model_validate(
                {"name": "p-acme", "cluster": "c1", "delegate_to": "acme"}
            ),
            expected_revision=0,
        )
        service.put(
            operator,
            Kind.RESOURCE_POOL,
            Ref("acme", "a-pool"),
            KIND_INFO[Kind.RESOURCE_POOL].model.model_validate(
                {"name": "a-pool", "parent": "p-acme"}
            ),
            expected_revision=0,
        )
        # A network joins one router only: take over a router another test may have made.
        for ref, _ in list(service.snapshot().estate.items(Kind.ROUTER)):
            if ref.owner == "acme":
                service.delete(operator, Kind.ROUTER, ref)
        service.put(
            operator,
            Kind.ROUTER,
            Ref("acme", "r1"),
            KIND_INFO[Kind.ROUTER].model.model_validate({"name": "r1", "networks": ["app"]}),
            expected_revision=0,
        )
    built = Harness(server)
    yield built
    built.service.close()


def operations(server: RunningServer) -> list[tuple[str, str, str]]:
    with server.client() as client:
        document = client.get("/openapi.json").json()
    return [
        (operation["operationId"], method.upper(), path)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_operation_has_a_policy_row(server: RunningServer) -> None:
    """The policy names exactly the operations the server publishes."""
    published = {operation_id for operation_id, _, _ in operations(server)}
    assert published == set(POLICY), {
        "without a policy row": sorted(published - set(POLICY)),
        "not published": sorted(set(POLICY) - published),
    }


def test_observed_matrix_equals_the_policy_matrix(harness: Harness) -> None:
    """Every operation x every role: allowed exactly where the policy says."""
    mismatches = []
    for operation_id, _method, _path in operations(harness.server):
        case = POLICY[operation_id]
        for role in ROLES:
            request = case.build(harness, role)
            response = harness.send(role, request)
            if case.after is not None:
                case.after(harness, role)
            status = response.status_code
            if role in ("anonymous", "expired") and not case.public:
                expected_ok = status == 401
            elif role in case.allowed or (case.public and role in ("anonymous", "expired")):
                expected_ok = 200 <= status < 300 or status == 409
            else:
                expected_ok = status in DENIED
            if not expected_ok:
                allowed = role in case.allowed or case.public
                mismatches.append(
                    f"{operation_id} as {role}: {status} (policy: "
                    f"{'allow' if allowed else 'deny'}) {response.text[:200]}"
                )
    assert not mismatches, "\n".join(mismatches)

"""Governance through the service: logins, lockouts, sessions, RBAC, two-person, data grants."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyotp
import pytest

from tenantry.errors import (
    ApprovalRequiredError,
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    ThrottledError,
)
from tenantry.governance import (
    Actor,
    GovernanceRules,
    Privilege,
    ThrottleRule,
    UnsafeFastPasswordHashing,
)
from tenantry.model import Kind, Ref, Toggle
from tenantry.service import Service
from tests.helpers.clock import FakeClock
from tests.helpers.people import PASSWORD, add_person, log_in
from tests.helpers.specs import estate_from

OPERATOR = Actor.local_operator()
WEB = Ref("acme", "web")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(tmp_path: Path, clock: FakeClock) -> Service:
    rules = GovernanceRules(
        session_idle=timedelta(minutes=15),
        account_throttle=ThrottleRule(3, timedelta(minutes=5)),
        address_throttle=ThrottleRule(10, timedelta(minutes=5)),
        password_hashing=UnsafeFastPasswordHashing(),
    )
    svc = Service.open(f"sqlite:///{tmp_path / 't.db'}", rules=rules, clock=clock)
    svc.apply(OPERATOR, estate_from())
    add_person(svc, "alice")
    add_person(svc, "carol")
    add_person(svc, "bob", tenant="acme")
    yield svc
    svc.close()


def audit_actions(service: Service, tenant: str | None = None) -> list[tuple[str, str, str]]:
    return [
        (r.action, str(r.outcome), r.source)
        for r in (e.record() for e in service.store.audit_entries(tenant=tenant))
    ]


# ---------------------------------------------------------------- logins and lockouts


def test_login_with_the_right_password_opens_a_session(service: Service) -> None:
    """The session's secret authenticates as the user, inside its domain."""
    actor = log_in(service, "bob", tenant="acme")
    assert actor.tenant == "acme" and actor.name == "bob" and not actor.system


def test_wrong_password_and_unknown_user_get_the_same_refusal(service: Service) -> None:
    """No oracle: a wrong password and a missing user read alike."""
    with pytest.raises(AuthenticationError) as wrong:
        service.sessions.login(None, "alice", "not the password!", source="10.0.0.9")
    with pytest.raises(AuthenticationError) as missing:
        service.sessions.login(None, "mallory", "not the password!", source="10.0.0.9")
    assert str(wrong.value) == str(missing.value)


def test_n_minus_one_failures_then_the_right_password_succeeds(service: Service) -> None:
    """FIA_AFL_EXT.1: (n-1) bad then good logs in."""
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            service.sessions.login(None, "alice", "wrong password!!", source="10.0.0.9")
    assert service.sessions.login(None, "alice", PASSWORD, source="10.0.0.9").secret


def test_n_failures_lock_the_account_until_the_lockout_ends(
    service: Service, clock: FakeClock
) -> None:
    """n bad then good is refused, from any address, until T; then it logs in."""
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            service.sessions.login(None, "alice", "wrong password!!", source="10.0.0.9")
    for source in ("10.0.0.9", "10.0.0.10"):
        with pytest.raises(ThrottledError):
            service.sessions.login(None, "alice", PASSWORD, source=source)
    clock.advance(minutes=5, seconds=-1)
    with pytest.raises(ThrottledError):
        service.sessions.login(None, "alice", PASSWORD, source="10.0.0.10")
    clock.advance(seconds=2)
    assert service.sessions.login(None, "alice", PASSWORD, source="10.0.0.10").secret
    lockouts = [a for a in audit_actions(service) if a[0] == "login.lockout"]
    assert lockouts == [("login.lockout", "applied", "10.0.0.9")]


def test_a_locked_account_does_not_lock_other_administrators(service: Service) -> None:
    """Per account, not global: carol still logs in while alice is locked."""
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            service.sessions.login(None, "alice", "wrong password!!", source="10.0.0.9")
    assert service.sessions.login(None, "carol", PASSWORD, source="10.0.0.9").secret


def test_an_administrator_unlocks_a_locked_account(service: Service) -> None:
    """Unlocking is audited with the administrator's address, and the user gets in."""
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            service.sessions.login(None, "alice", "wrong password!!", source="10.0.0.9")
    carol = log_in(service, "carol", source="192.0.2.7")
    service.accounts.unlock_user(carol, None, "alice")
    assert service.sessions.login(None, "alice", PASSWORD, source="10.0.0.9").secret
    assert ("user.unlock", "applied", "192.0.2.7") in audit_actions(service)


def test_a_spray_from_one_address_is_throttled_at_that_address(service: Service) -> None:
    """Many accounts tried from one address lock the address, not the accounts elsewhere."""
    for i in range(10):
        with pytest.raises(AuthenticationError):
            service.sessions.login(None, f"guess{i}", "wrong password!!", source="198.51.100.1")
    with pytest.raises(ThrottledError):
        service.sessions.login(None, "carol", PASSWORD, source="198.51.100.1")
    assert service.sessions.login(None, "carol", PASSWORD, source="10.0.0.1").secret


def test_second_factor_is_required_once_enrolled_and_codes_are_not_replayable(
    service: Service, clock: FakeClock
) -> None:
    """After enrolment a login needs a fresh code; the same code twice is refused."""
    alice = log_in(service, "alice")
    secret, uri = service.accounts.begin_mfa(alice)
    assert uri.startswith("otpauth://totp/")
    service.accounts.confirm_mfa(alice, pyotp.TOTP(secret).at(clock.now))
    clock.advance(seconds=30)
    with pytest.raises(AuthenticationError):
        service.sessions.login(None, "alice", PASSWORD, source="10.0.0.1")
    code = pyotp.TOTP(secret).at(clock.now)
    assert service.sessions.login(None, "alice", PASSWORD, code=code, source="10.0.0.1")
    with pytest.raises(AuthenticationError):
        service.sessions.login(None, "alice", PASSWORD, code=code, source="10.0.0.1")


# ---------------------------------------------------------------- sessions and tokens


def test_idle_session_is_refused_and_its_end_audited(service: Service, clock: FakeClock) -> None:
    """Past the idle timeout the next call gets 401; the end is recorded."""
    issued = service.sessions.login(None, "alice", PASSWORD, source="10.0.0.1")
    clock.advance(minutes=14)
    service.sessions.authenticate(issued.secret, "10.0.0.1")
    clock.advance(minutes=16)
    with pytest.raises(AuthenticationError):
        service.sessions.authenticate(issued.secret, "10.0.0.1")
    assert ("session.end", "applied", "10.0.0.1") in audit_actions(service)


def test_logout_ends_the_session(service: Service) -> None:
    """A logged-out session's secret is refused on its next use."""
    issued = service.sessions.login(None, "alice", PASSWORD, source="10.0.0.1")
    actor = service.sessions.authenticate(issued.secret, "10.0.0.1")
    service.sessions.end(actor, issued.credential.id)
    with pytest.raises(AuthenticationError):
        service.sessions.authenticate(issued.secret, "10.0.0.1")


def test_disabling_a_user_ends_its_sessions_and_tokens_at_once(service: Service) -> None:
    """Row 36/6: the session and the API token both stop working immediately."""
    bob = log_in(service, "bob", tenant="acme")
    session = service.sessions.login("acme", "bob", PASSWORD, source="10.0.0.1")
    token = service.sessions.create_token(bob, "ci", lifetime=timedelta(days=1))
    add_person(service, "dora", tenant="acme")
    dora = log_in(service, "dora", tenant="acme")
    assert service.accounts.disable_user(dora, "acme", "bob") == 3
    for secret in (session.secret, token.secret):
        with pytest.raises(AuthenticationError):
            service.sessions.authenticate(secret, "10.0.0.1")


def test_token_limited_to_reading_cannot_write(service: Service) -> None:
    """A token's privileges cap its user's roles."""
    bob = log_in(service, "bob", tenant="acme")
    token = service.sessions.create_token(
        bob, "reader", lifetime=timedelta(hours=1), privileges=["inventory.read"]
    )
    reader = service.sessions.authenticate(token.secret, "10.0.0.1")
    guest, revision = service.get(reader, Kind.GUEST, WEB)
    with pytest.raises(PermissionDeniedError):
        service.put(reader, Kind.GUEST, WEB, guest, expected_revision=revision)


def test_expired_token_is_refused(service: Service, clock: FakeClock) -> None:
    """A token past its expiry authenticates no one."""
    bob = log_in(service, "bob", tenant="acme")
    token = service.sessions.create_token(bob, "short", lifetime=timedelta(minutes=1))
    clock.advance(minutes=2)
    with pytest.raises(AuthenticationError):
        service.sessions.authenticate(token.secret, "10.0.0.1")


# ---------------------------------------------------------------- domains and roles


def test_provider_cannot_create_users_in_a_tenant_domain(service: Service) -> None:
    """A compromised provider account cannot mint a tenant identity."""
    alice = log_in(service, "alice")
    with pytest.raises(PermissionDeniedError):
        service.accounts.create_user(alice, "acme", "mole", password=PASSWORD)


def test_tenant_admin_creates_users_in_its_own_domain(service: Service) -> None:
    """The positive control: the tenant's administrator does."""
    bob = log_in(service, "bob", tenant="acme")
    user = service.accounts.create_user(bob, "acme", "erin", password=PASSWORD)
    assert user.tenant == "acme"


def test_tenant_admin_cannot_see_another_tenants_domain(service: Service) -> None:
    """Another tenant's users do not exist for it."""
    bob = log_in(service, "bob", tenant="acme")
    with pytest.raises(NotFoundError):
        service.accounts.users(bob, "globex")


def test_permission_cannot_cross_the_tenant_boundary(service: Service) -> None:
    """A tenant grant on another tenant's object is refused as if it did not exist."""
    bob = log_in(service, "bob", tenant="acme")
    with pytest.raises(NotFoundError):
        service.access.grant(bob, "acme", "user:bob", "read-only", "guest/globex/web")


def test_permission_manager_cannot_grant_more_than_it_holds(service: Service) -> None:
    """No escalation: holding permissions.manage does not let one hand out administrator."""
    add_person(
        service,
        "pm",
        tenant="acme",
        privileges=["permissions.manage", "inventory.read", "audit.read"],
    )
    pm = log_in(service, "pm", tenant="acme")
    with pytest.raises(PermissionDeniedError, match="lacks"):
        service.access.grant(pm, "acme", "user:pm", "administrator", "/")
    service.access.grant(pm, "acme", "group:viewers", "read-only", "/")


def test_read_only_tenant_user_sees_its_tenant_only(service: Service) -> None:
    """Listing never reveals another tenant's names."""
    add_person(service, "viewer", tenant="acme", role="read-only")
    viewer = log_in(service, "viewer", tenant="acme")
    assert [str(r) for r, _ in service.list(viewer, Kind.GUEST)] == ["acme/web"]
    with pytest.raises(NotFoundError):
        service.get(viewer, Kind.GUEST, Ref("globex", "web"))


def test_user_without_read_privilege_is_refused_a_listing(service: Service) -> None:
    """no-access holds nothing: listing is refused, not silently empty."""
    add_person(service, "nobody", tenant="acme", role="no-access")
    nobody = log_in(service, "nobody", tenant="acme")
    with pytest.raises(PermissionDeniedError):
        service.list(nobody, Kind.GUEST)


def test_tenant_quota_refuses_the_object_beyond_it(tmp_path: Path) -> None:
    """Row 30: creating past the tenant's quota is a 4xx quota error; deleting still works."""
    svc = Service.open(
        f"sqlite:///{tmp_path / 'q.db'}",
        rules=GovernanceRules(tenant_object_quota=3, password_hashing=UnsafeFastPasswordHashing()),
    )
    svc.apply(OPERATOR, estate_from())
    add_person(svc, "bob", tenant="acme")
    bob = log_in(svc, "bob", tenant="acme")
    policy, _ = svc.get(bob, Kind.POLICY, Ref("acme", "web-in"))
    with pytest.raises(QuotaExceededError):
        svc.put(
            bob,
            Kind.POLICY,
            Ref("acme", "p2"),
            policy.model_copy(update={"name": "p2"}),
            expected_revision=0,
        )
    svc.delete(bob, Kind.POLICY, Ref("acme", "web-in"))
    svc.close()


# ---------------------------------------------------------------- two-person rule


def test_deleting_a_tenant_waits_for_a_second_person(service: Service) -> None:
    """The requester cannot approve its own request; a second administrator can."""
    service.delete(OPERATOR, Kind.GUEST, Ref("globex", "web"))
    service.delete(OPERATOR, Kind.NETWORK, Ref("globex", "app"))
    alice, carol = log_in(service, "alice"), log_in(service, "carol")
    with pytest.raises(ApprovalRequiredError) as pending:
        service.delete(alice, Kind.TENANT, Ref("provider", "globex"))
    approval_id = pending.value.approval_id
    assert service.snapshot().estate.tenant("globex") is not None
    with pytest.raises(PermissionDeniedError, match="own request"):
        service.approvals.approve(alice, approval_id)
    done = service.approvals.approve(carol, approval_id)
    assert done.status == "approved"
    assert service.snapshot().estate.tenant("globex") is None


def relax_port_group(service: Service, actor: Actor) -> str:
    """Ask to relax promiscuous mode on pg-dns; returns the approval id."""
    group, revision = service.get(actor, Kind.PORT_GROUP, Ref("provider", "pg-dns"))
    relaxed = group.model_copy(
        update={"security": group.security.model_copy(update={"promiscuous": Toggle.ACCEPT})}
    )
    with pytest.raises(ApprovalRequiredError) as pending:
        service.put(
            actor, Kind.PORT_GROUP, Ref("provider", "pg-dns"), relaxed, expected_revision=revision
        )
    return pending.value.approval_id


def test_relaxing_l2_security_applies_only_after_a_second_approval(service: Service) -> None:
    """The port group stays strict until carol approves alice's request."""
    alice, carol = log_in(service, "alice"), log_in(service, "carol")
    approval_id = relax_port_group(service, alice)
    group, _ = service.get(alice, Kind.PORT_GROUP, Ref("provider", "pg-dns"))
    assert not group.security.relaxations()
    service.approvals.approve(carol, approval_id)
    group, _ = service.get(alice, Kind.PORT_GROUP, Ref("provider", "pg-dns"))
    assert group.security.relaxations() == ("promiscuous",)


def test_expired_request_cannot_be_approved(service: Service, clock: FakeClock) -> None:
    """Requests expire; an expired one stays unapproved."""
    approval_id = relax_port_group(service, log_in(service, "alice"))
    clock.advance(hours=25)
    carol = log_in(service, "carol")
    with pytest.raises(ConflictError, match="expired"):
        service.approvals.approve(carol, approval_id)


def test_tenant_cannot_decide_provider_approvals(service: Service) -> None:
    """Approving is a provider privilege."""
    approval_id = relax_port_group(service, log_in(service, "alice"))
    bob = log_in(service, "bob", tenant="acme")
    with pytest.raises(NotFoundError):
        service.approvals.approve(bob, approval_id)


# ---------------------------------------------------------------- data-access grants


def test_provider_admin_reads_tenant_data_only_under_an_active_grant(
    service: Service, clock: FakeClock
) -> None:
    """Refused before the grant, allowed while it is active, refused after it expires."""
    alice, carol = log_in(service, "alice"), log_in(service, "carol")
    bob = log_in(service, "bob", tenant="acme")
    with pytest.raises(PermissionDeniedError):
        service.data_access.use(alice, Privilege.DISK_READ, WEB, disk="root")
    with pytest.raises(ApprovalRequiredError) as pending:
        service.data_access.request_grant(
            bob, grantee="alice", guest=WEB, privilege="disk.read", lifetime=timedelta(hours=1)
        )
    with pytest.raises(PermissionDeniedError):
        service.data_access.use(alice, Privilege.DISK_READ, WEB, disk="root")
    with pytest.raises(PermissionDeniedError, match="beneficiary"):
        service.approvals.approve(alice, pending.value.approval_id)
    service.approvals.approve(carol, pending.value.approval_id)
    alice = log_in(service, "alice")
    seen = service.data_access.use(alice, Privilege.DISK_READ, WEB, disk="root")
    assert seen["disk"]["name"] == "root" and seen["via"].startswith("grant ")
    with pytest.raises(PermissionDeniedError):
        service.data_access.use(alice, Privilege.MEMORY_DUMP, WEB)
    clock.advance(hours=1, seconds=1)
    alice = log_in(service, "alice")
    with pytest.raises(PermissionDeniedError):
        service.data_access.use(alice, Privilege.DISK_READ, WEB, disk="root")
    seen_by_tenant = [a for a, _, _ in audit_actions(service, tenant="acme")]
    for action in ("grant.request", "grant.activate", "data.disk.read", "grant.expire"):
        assert action in seen_by_tenant


def test_tenant_admin_reads_its_own_data_by_role(service: Service) -> None:
    """Inside the tenant, the administrator role carries disk.read."""
    bob = log_in(service, "bob", tenant="acme")
    assert service.data_access.use(bob, Privilege.DISK_READ, WEB, disk="root")["via"] == "role"


def test_tenant_cannot_reach_another_tenants_data(service: Service) -> None:
    """Another tenant's guest does not exist for it."""
    bob = log_in(service, "bob", tenant="acme")
    with pytest.raises(NotFoundError):
        service.data_access.use(bob, Privilege.GUEST_CONSOLE, Ref("globex", "web"))


def test_grant_carries_only_tenant_data_privileges(service: Service) -> None:
    """A grant cannot smuggle in a write privilege."""
    bob = log_in(service, "bob", tenant="acme")
    with pytest.raises(InputError):
        service.data_access.request_grant(
            bob, grantee="alice", guest=WEB, privilege="guest.write", lifetime=timedelta(hours=1)
        )


def test_a_deleted_tenants_domain_is_forgotten_with_it(service: Service) -> None:
    """Recreating a tenant under the same name never revives the old tenant's accounts."""
    bob = service.sessions.login("acme", "bob", PASSWORD, source="10.0.0.1")
    estate = service.snapshot().estate
    for kind in (Kind.GUEST, Kind.POLICY, Kind.NETWORK):
        for ref, _ in list(estate.items(kind)):
            if ref.owner == "acme":
                service.delete(OPERATOR, kind, ref)
    dns, _ = service.get(OPERATOR, Kind.SHARED_SERVICE, Ref("provider", "dns"))
    service.put(
        OPERATOR,
        Kind.SHARED_SERVICE,
        Ref("provider", "dns"),
        dns.model_copy(update={"granted_to": ()}),
        expected_revision=None,
    )
    tenant = service.snapshot().estate.tenant("acme")
    service.delete(OPERATOR, Kind.TENANT, Ref("provider", "acme"))
    service.put(OPERATOR, Kind.TENANT, Ref("provider", "acme"), tenant, expected_revision=0)
    with pytest.raises(AuthenticationError):
        service.sessions.authenticate(bob.secret, "10.0.0.1")
    with pytest.raises(AuthenticationError):
        service.sessions.login("acme", "bob", PASSWORD, source="10.0.0.1")
    assert service.accounts.users(OPERATOR, "acme") == []
    assert service.access.permissions(OPERATOR, "acme") == []

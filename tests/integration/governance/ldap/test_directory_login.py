"""LDAP logins against a real OpenLDAP slapd: bind as the user, groups map to roles through
permissions, and the traps of LDAP (empty-password binds, DN injection) are closed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tenantry.errors import (
    AuthenticationError,
    DirectoryHostRefusedError,
    DirectoryUnavailableError,
    PermissionDeniedError,
)
from tenantry.governance import (
    ROOT,
    Actor,
    DirectoryConfig,
    GovernanceRules,
    Privilege,
    UnsafeFastPasswordHashing,
    may,
)
from tenantry.model import Kind, Ref
from tenantry.service import Service
from tests.helpers.people import PASSWORD, add_person
from tests.helpers.slapd import BASE, Directory, throwaway_slapd
from tests.helpers.specs import estate_from

OPERATOR = Actor.local_operator()
ALICE_PASSWORD = "alice directory password"
BOB_PASSWORD = "bob directory password"


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Directory]:
    """slapd with alice (group netops) and bob (groups auditors); carol (acme-ops) for acme."""
    with throwaway_slapd(tmp_path_factory.mktemp("slapd")) as running:
        alice = running.add_user("alice", ALICE_PASSWORD)
        bob = running.add_user("bob", BOB_PASSWORD)
        carol = running.add_user("carol", "carol directory password")
        running.add_group("netops", [alice])
        running.add_group("auditors", [bob])
        running.add_group("acme-ops", [carol])
        yield running


def _config(url: str) -> DirectoryConfig:
    return DirectoryConfig(
        url=url,
        user_dn_template=f"uid={{username}},ou=people,{BASE}",
        group_base=f"ou=groups,{BASE}",
    )


@pytest.fixture
def service(tmp_path: Path, directory: Directory) -> Iterator[Service]:
    svc = Service.open(
        f"sqlite:///{tmp_path / 't.db'}",
        rules=GovernanceRules(
            password_hashing=UnsafeFastPasswordHashing(), directory_hosts=("127.0.0.1",)
        ),
    )
    svc.apply(OPERATOR, estate_from())
    svc.accounts.set_directory(OPERATOR, None, _config(directory.url))
    svc.access.grant(OPERATOR, None, "group:netops", "administrator", "/")
    svc.access.grant(OPERATOR, None, "group:auditors", "read-only", "/")
    yield svc
    svc.close()


def _actor(service: Service, name: str, password: str, tenant: str | None = None) -> Actor:
    issued = service.sessions.login(tenant, name, password, source="10.0.0.7")
    return service.sessions.authenticate(issued.secret, "10.0.0.7")


def test_directory_user_logs_in_and_its_group_maps_to_a_role(service: Service) -> None:
    """alice binds; her group netops holds administrator on the root."""
    alice = _actor(service, "alice", ALICE_PASSWORD)
    assert alice.tenant is None and "administrator" in alice.roles
    assert may(alice, Privilege.INFRASTRUCTURE_WRITE, ROOT)
    user = service.accounts.user(OPERATOR, None, "alice")
    assert user.source == "ldap" and user.groups == ("netops",)


def test_another_group_maps_to_another_role(service: Service) -> None:
    """bob's auditors group gives read-only: he reads but cannot write."""
    bob = _actor(service, "bob", BOB_PASSWORD)
    assert service.list(bob, Kind.HOST)
    host, revision = service.get(bob, Kind.HOST, Ref("provider", "h1"))
    with pytest.raises(PermissionDeniedError):
        service.put(
            bob,
            Kind.HOST,
            Ref("provider", "h1"),
            host.model_copy(update={"description": "x"}),
            expected_revision=revision,
        )


def test_wrong_directory_password_is_refused(service: Service) -> None:
    """The directory says no: the same refusal as any wrong password."""
    with pytest.raises(AuthenticationError):
        service.sessions.login(None, "alice", "not alice's password", source="10.0.0.7")


def test_empty_password_never_reaches_the_directory(service: Service) -> None:
    """An empty password would be an unauthenticated bind: refused before binding."""
    with pytest.raises(AuthenticationError):
        service.sessions.login(None, "alice", "", source="10.0.0.7")


@pytest.mark.parametrize(
    "name",
    ["*", "alice,ou=people", "alice)(uid=*", "uid=alice,ou=people,dc=example,dc=org", "alice\\"],
)
def test_dn_and_filter_injection_in_the_user_name_is_refused(service: Service, name: str) -> None:
    """Special characters are escaped into the DN: no other entry can be bound to."""
    with pytest.raises(AuthenticationError):
        service.sessions.login(None, name, ALICE_PASSWORD, source="10.0.0.7")


def test_disabled_directory_user_is_refused_despite_a_good_password(service: Service) -> None:
    """Disabling the local shadow of a directory user locks it out."""
    _actor(service, "alice", ALICE_PASSWORD)
    service.accounts.disable_user(OPERATOR, None, "alice")
    with pytest.raises(AuthenticationError):
        service.sessions.login(None, "alice", ALICE_PASSWORD, source="10.0.0.7")


def test_leaving_a_group_in_the_directory_drops_the_role_at_next_login(
    service: Service, directory: Directory
) -> None:
    """Groups are read at every login: out of netops, alice is no administrator."""
    alice_dn = f"uid=alice,ou=people,{BASE}"
    directory.remove_member("netops", alice_dn)
    try:
        alice = _actor(service, "alice", ALICE_PASSWORD)
        assert not may(alice, Privilege.INFRASTRUCTURE_WRITE, ROOT)
    finally:
        directory.add_member("netops", alice_dn)


def test_tenant_directory_users_stay_inside_their_tenant(
    service: Service, directory: Directory
) -> None:
    """acme's directory group maps to acme's administrator, which never reaches globex."""
    service.accounts.set_directory(OPERATOR, "acme", _config(directory.url))
    service.access.grant(OPERATOR, "acme", "group:acme-ops", "administrator", "/")
    carol = _actor(service, "carol", "carol directory password", tenant="acme")
    assert carol.tenant == "acme"
    assert service.get(carol, Kind.GUEST, Ref("acme", "web"))
    from tenantry.errors import NotFoundError

    with pytest.raises(NotFoundError):
        service.get(carol, Kind.GUEST, Ref("globex", "web"))


def test_unreachable_directory_is_unavailable_and_local_users_still_log_in(
    tmp_path: Path,
) -> None:
    """A dead directory answers 503; a local account of the same domain is unaffected."""
    svc = Service.open(
        f"sqlite:///{tmp_path / 'd.db'}",
        rules=GovernanceRules(password_hashing=UnsafeFastPasswordHashing()),
    )
    svc.accounts.set_directory(OPERATOR, None, _config("ldap://127.0.0.1:9"))
    add_person(svc, "local-admin")
    with pytest.raises(DirectoryUnavailableError):
        svc.sessions.login(None, "someone", "a directory password", source="10.0.0.7")
    assert svc.sessions.login(None, "local-admin", PASSWORD, source="10.0.0.7").secret
    svc.close()


def test_tenant_directory_outside_the_allow_list_is_refused(
    service: Service, directory: Directory
) -> None:
    """acme's administrator cannot point acme's directory at a host the provider did not list;
    nothing changes, the attempt is audited for acme, and an allowed host still works."""
    add_person(service, "ta", tenant="acme")
    ta = service.sessions.authenticate(
        service.sessions.login("acme", "ta", PASSWORD, source="10.0.0.7").secret, "10.0.0.7"
    )
    for url in ("ldap://attacker.example:389", "ldap://127.0.0.2:389", "ldaps://localhost"):
        with pytest.raises(DirectoryHostRefusedError, match="allow-list"):
            service.accounts.set_directory(ta, "acme", _config(url))
    assert service.accounts.directory(ta, "acme") is None
    refused = [
        r
        for r in (e.record() for e in service.store.audit_entries(tenant="acme"))
        if r.action == "directory.set" and r.outcome == "refused"
    ]
    assert len(refused) == 3
    service.accounts.set_directory(ta, "acme", _config(directory.url))
    assert service.accounts.directory(ta, "acme") == _config(directory.url)


def test_stored_directory_no_longer_allowed_gets_no_password(
    tmp_path: Path, service: Service, directory: Directory
) -> None:
    """A tenant directory set before the provider shrank the list: its users cannot log in."""
    service.accounts.set_directory(OPERATOR, "acme", _config(directory.url))
    service.access.grant(OPERATOR, "acme", "group:acme-ops", "administrator", "/")
    assert _actor(service, "carol", "carol directory password", tenant="acme").tenant == "acme"
    narrowed = Service.open(
        f"sqlite:///{tmp_path / 't.db'}",
        rules=GovernanceRules(
            password_hashing=UnsafeFastPasswordHashing(), directory_hosts=("ldap.example",)
        ),
    )
    try:
        with pytest.raises(AuthenticationError):
            narrowed.sessions.login("acme", "carol", "carol directory password", source="10.0.0.7")
    finally:
        narrowed.close()

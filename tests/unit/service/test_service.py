"""The service layer: idempotent apply, atomic refusals, tenant boundaries, sticky placement."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantry.errors import AdmissionError, CapacityError, NotFoundError, PermissionDeniedError
from tenantry.governance import Actor
from tenantry.model import DefaultAction, Kind, Op, Ref
from tenantry.service import Service
from tenantry.spec import dump_spec, load_spec_text
from tests.helpers.specs import base_data, estate_from, tenant_section

OPERATOR = Actor.local_operator()
PROVIDER_ADMIN = Actor("alice", roles=frozenset({"administrator"}))
ACME_ADMIN = Actor("bob", tenant="acme", roles=frozenset({"administrator"}))


@pytest.fixture
def service(tmp_path: Path) -> Service:
    svc = Service.open(f"sqlite:///{tmp_path / 'tenantry.db'}")
    yield svc
    svc.close()


@pytest.fixture
def applied(service: Service) -> Service:
    service.apply(OPERATOR, estate_from())
    return service


def test_apply_then_apply_again_changes_nothing(service: Service) -> None:
    """A second apply of the same spec plans nothing, writes nothing, audits nothing."""
    first = service.apply(OPERATOR, estate_from())
    entries = service.store.audit_size()
    second = service.apply(OPERATOR, estate_from())
    assert first.changed and not second.changed
    assert second.generation == first.generation
    assert service.store.audit_size() == entries


def test_export_applies_back_to_the_same_state(applied: Service) -> None:
    """The exported spec, applied again, changes nothing."""
    text = dump_spec(applied.estate(OPERATOR))
    assert not applied.apply(OPERATOR, load_spec_text(text).estate).changed


def test_apply_writes_one_audit_entry_per_change_set_and_tenant(service: Service) -> None:
    """One transaction writes the change set's audit: one entry per tenant concerned (and one
    for provider objects), sharing one operation id, together naming every object and tenant;
    no entry names two tenants (tenant views, docs/audit.md)."""
    service.apply(OPERATOR, estate_from())
    records = [e.record() for e in service.store.audit_entries()]
    assert {r.outcome for r in records} == {"applied"}
    assert len({r.details["operation"] for r in records}) == 1
    assert "create guest acme/web" in {t for r in records for t in r.targets}
    assert {t for r in records for t in r.tenants} == {"acme", "globex"}
    assert all(len(r.tenants) <= 1 for r in records)


def test_refused_change_writes_nothing_but_its_audit_record(applied: Service) -> None:
    """Admission refuses a duplicate MAC; the store is unchanged, the refusal is audited."""
    before = applied.snapshot()

    def clash(data: dict) -> None:
        vnic = tenant_section(data, "globex")["guests"][0]["vnics"][0]
        vnic["mac"] = tenant_section(data, "acme")["guests"][0]["vnics"][0]["mac"]

    with pytest.raises(AdmissionError, match="mac-unique"):
        applied.apply(OPERATOR, estate_from(change=clash, check=False))
    after = applied.snapshot()
    assert after.estate == before.estate and after.generation == before.generation
    last = applied.store.audit_entries()[-1].record()
    assert last.outcome == "refused" and "mac-unique" in last.reason


def test_capacity_refusal_is_a_capacity_error(applied: Service) -> None:
    """Over-reserving a host raises CapacityError (exit 8, HTTP 422)."""

    def greedy(data: dict) -> None:
        tenant_section(data, "acme")["resources"]["vcpu"]["max"] = 100
        tenant_section(data, "acme")["guests"][0]["cpu"] = {"count": 64, "reservation": 40}

    with pytest.raises(CapacityError):
        applied.apply(OPERATOR, estate_from(change=greedy, check=False))


def test_unplaced_guest_is_placed_once_and_stays(service: Service) -> None:
    """A guest without a host gets one, and re-applying the same spec keeps it there."""

    def unpin(data: dict) -> None:
        del tenant_section(data, "globex")["guests"][0]["host"]

    result = service.apply(OPERATOR, estate_from(change=unpin))
    host = result.plan.placements[Ref("globex", "web")]
    assert host in {"h1", "h2"}
    assert not service.apply(OPERATOR, estate_from(change=unpin)).changed
    assert service.snapshot().estate.guests[Ref("globex", "web")].host == host


def test_prune_deletes_what_the_spec_no_longer_declares(applied: Service) -> None:
    """--prune removes undeclared objects; without it they stay."""

    def drop_globex_guest(data: dict) -> None:
        tenant_section(data, "globex")["guests"] = []

    declared = estate_from(change=drop_globex_guest)
    assert not applied.apply(OPERATOR, declared).changed
    pruned = applied.apply(OPERATOR, declared, prune=True)
    assert [str(c) for c in pruned.plan.changes] == ["delete guest globex/web"]


def test_tenant_cannot_move_its_segment_to_another_vlan(applied: Service) -> None:
    """The VLAN id belongs to the provider."""
    network, revision = applied.get(ACME_ADMIN, Kind.NETWORK, Ref("acme", "app"))
    moved = network.model_copy(update={"segment": network.segment.model_copy(update={"vlan": 103})})
    with pytest.raises(PermissionDeniedError, match="VLAN"):
        applied.put(ACME_ADMIN, Kind.NETWORK, Ref("acme", "app"), moved, expected_revision=revision)


def test_tenant_may_change_its_networks_default_action(applied: Service) -> None:
    """The rest of the network is the tenant's."""
    network, revision = applied.get(ACME_ADMIN, Kind.NETWORK, Ref("acme", "app"))
    opened = network.model_copy(update={"default_action": DefaultAction.ALLOW})
    result = applied.put(
        ACME_ADMIN, Kind.NETWORK, Ref("acme", "app"), opened, expected_revision=revision
    )
    assert [c.op for c in result.plan.changes] == [Op.UPDATE]


def test_tenant_cannot_set_its_own_placement_tag(applied: Service) -> None:
    """Placement tags are the provider's."""
    tenant, revision = applied.get(ACME_ADMIN, Kind.TENANT, Ref("provider", "acme"))
    tagged = tenant.model_copy(update={"placement_tag": "gold"})
    with pytest.raises(PermissionDeniedError, match="placement_tag"):
        applied.put(
            ACME_ADMIN, Kind.TENANT, Ref("provider", "acme"), tagged, expected_revision=revision
        )


def test_tenant_cannot_touch_a_port_group(applied: Service) -> None:
    """Trunk lists and L2-security relaxations live in provider-only port groups."""
    group, revision = applied.get(PROVIDER_ADMIN, Kind.PORT_GROUP, Ref("provider", "pg-acme"))
    relaxed = group.model_copy(
        update={"security": group.security.model_copy(update={"promiscuous": "accept"})}
    )
    with pytest.raises(PermissionDeniedError):
        applied.put(
            ACME_ADMIN,
            Kind.PORT_GROUP,
            Ref("provider", "pg-acme"),
            relaxed,
            expected_revision=revision,
        )


def test_tenant_never_sees_another_tenants_objects(applied: Service) -> None:
    """globex's guest is 'not found' for acme, exactly like a guest that does not exist."""
    with pytest.raises(NotFoundError) as hidden:
        applied.get(ACME_ADMIN, Kind.GUEST, Ref("globex", "web"))
    with pytest.raises(NotFoundError) as missing:
        applied.get(ACME_ADMIN, Kind.GUEST, Ref("acme", "nope"))
    assert str(hidden.value).replace("globex/web", "X") == str(missing.value).replace(
        "acme/nope", "X"
    )
    assert [str(r) for r, _ in applied.list(ACME_ADMIN, Kind.GUEST)] == ["acme/web"]
    assert [str(r) for r in applied.estate(ACME_ADMIN).tenants] == ["acme"]


def test_tenant_cannot_change_another_tenants_guest(applied: Service) -> None:
    """Writing across the boundary gets the 404 of a missing object (no existence oracle), and
    the refusal is audited for both tenants."""
    guest = applied.snapshot().estate.guests[Ref("globex", "web")]
    with pytest.raises(NotFoundError, match="not found"):
        applied.put(ACME_ADMIN, Kind.GUEST, Ref("globex", "web"), guest, expected_revision=None)
    # Audited for both tenants: one entry each, the same operation, neither naming the other.
    acme, globex = (applied.store.audit_entries(tenant=t)[-1].record() for t in ("acme", "globex"))
    assert acme.outcome == globex.outcome == "refused"
    assert acme.details["operation"] == globex.details["operation"]
    assert "globex" not in " ".join(acme.targets) and "acme" not in globex.actor


def test_provider_admin_cannot_manage_a_tenant_controlled_tenants_guests(applied: Service) -> None:
    """tenant-controlled: only the tenant manages its guests."""
    guest = applied.snapshot().estate.guests[Ref("acme", "web")]
    renamed = guest.model_copy(update={"description": "touched by the provider"})
    with pytest.raises(PermissionDeniedError, match="delegated"):
        applied.put(PROVIDER_ADMIN, Kind.GUEST, Ref("acme", "web"), renamed, expected_revision=None)


def test_provider_operator_may_do_a_delegated_task(applied: Service) -> None:
    """tenant-assisted with 'guests' delegated: the provider may manage the tenant's guests."""

    def assisted(data: dict) -> None:
        acme = tenant_section(data, "acme")
        acme["administration"] = "tenant-assisted"
        acme["delegated_tasks"] = ["guests"]

    applied.apply(OPERATOR, estate_from(change=assisted))
    guest = applied.snapshot().estate.guests[Ref("acme", "web")]
    touched = guest.model_copy(update={"description": "patched by the provider"})
    result = applied.put(
        PROVIDER_ADMIN, Kind.GUEST, Ref("acme", "web"), touched, expected_revision=None
    )
    assert result.changed


def test_stale_revision_is_refused(applied: Service) -> None:
    """A put based on an old revision gets a conflict, never a silent overwrite."""
    from tenantry.errors import StaleRevisionError

    network, revision = applied.get(ACME_ADMIN, Kind.NETWORK, Ref("acme", "app"))
    applied.put(
        ACME_ADMIN,
        Kind.NETWORK,
        Ref("acme", "app"),
        network.model_copy(update={"description": "first"}),
        expected_revision=revision,
    )
    with pytest.raises(StaleRevisionError):
        applied.put(
            ACME_ADMIN,
            Kind.NETWORK,
            Ref("acme", "app"),
            network.model_copy(update={"description": "second"}),
            expected_revision=revision,
        )


def test_delete_of_something_in_use_is_refused(applied: Service) -> None:
    """Deleting a port group that a vNIC uses would leave a dangling reference."""
    with pytest.raises(AdmissionError, match="pg-acme"):
        applied.delete(OPERATOR, Kind.PORT_GROUP, Ref("provider", "pg-acme"))
    assert Ref("provider", "pg-acme") in applied.snapshot().estate.port_groups


def test_plan_writes_nothing(applied: Service) -> None:
    """plan only reads."""
    before = applied.snapshot()
    data = base_data()
    tenant_section(data, "acme")["guests"][0]["description"] = "changed"
    plan = applied.plan(OPERATOR, estate_from(data))
    assert len(plan.changes) == 1
    assert applied.snapshot().generation == before.generation

"""Which changes need a second approver: each sensitive change flagged, its benign twin not."""

from __future__ import annotations

from tenantry.governance import sensitive_reasons
from tenantry.model import Change, Kind, Op, Ref, Toggle
from tests.helpers.specs import estate_from

ESTATE = estate_from()
ACME = ESTATE.tenant("acme")
NET = ESTATE.networks[Ref("acme", "app")]
PG = ESTATE.port_groups[Ref("provider", "pg-acme")]


def test_deleting_a_tenant_is_sensitive() -> None:
    """Delete tenant needs a second person."""
    assert sensitive_reasons(Change(Op.DELETE, Kind.TENANT, Ref("provider", "acme"), ACME, None))


def test_describing_a_tenant_is_not_sensitive() -> None:
    """Changing a tenant's description does not."""
    after = ACME.model_copy(update={"description": "new"})
    change = Change(Op.UPDATE, Kind.TENANT, Ref("provider", "acme"), ACME, after)
    assert not sensitive_reasons(change)


def test_changing_a_placement_tag_is_sensitive() -> None:
    """Moving a tenant to other hosts needs a second person."""
    after = ACME.model_copy(update={"placement_tag": "gold"})
    change = Change(Op.UPDATE, Kind.TENANT, Ref("provider", "acme"), ACME, after)
    assert sensitive_reasons(change) == ["change the placement tag of tenant acme"]


def test_moving_a_segment_is_sensitive() -> None:
    """A new VLAN id for a network needs a second person; other edits do not."""
    moved = NET.model_copy(update={"segment": NET.segment.model_copy(update={"vlan": 199})})
    assert sensitive_reasons(Change(Op.UPDATE, Kind.NETWORK, Ref("acme", "app"), NET, moved))
    described = NET.model_copy(update={"description": "x"})
    assert not sensitive_reasons(
        Change(Op.UPDATE, Kind.NETWORK, Ref("acme", "app"), NET, described)
    )


def test_relaxing_l2_security_is_sensitive_and_tightening_is_not() -> None:
    """reject -> accept needs a second person; accept -> reject does not."""
    relaxed = PG.model_copy(
        update={"security": PG.security.model_copy(update={"promiscuous": Toggle.ACCEPT})}
    )
    ref = Ref("provider", "pg-acme")
    assert sensitive_reasons(Change(Op.UPDATE, Kind.PORT_GROUP, ref, PG, relaxed)) == [
        "relax promiscuous on port group pg-acme"
    ]
    assert not sensitive_reasons(Change(Op.UPDATE, Kind.PORT_GROUP, ref, relaxed, PG))

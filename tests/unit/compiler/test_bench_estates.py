"""The benchmark generator makes estates the model accepts, and they compile."""

from __future__ import annotations

from bench.estates import estate_of_shape

from tenantry.compiler import compile_estate
from tenantry.model import Tier, check_estate


def test_generated_estate_passes_every_structural_rule() -> None:
    """A small estate of the seed's shape has no violations (so the benchmarks measure a
    valid estate)."""
    estate = estate_of_shape(tenants=12, hosts=3, guests_per_host=8)
    assert check_estate(estate) == []


def test_generated_estate_has_policies_in_every_tier_and_compiles() -> None:
    """All four tiers are present; each vNIC becomes a port."""
    estate = estate_of_shape(tenants=12, hosts=3, guests_per_host=8)
    assert {p.tier for p in estate.policies.values()} == set(Tier)
    programs = compile_estate(estate)
    vnics = sum(len(g.vnics) for g in estate.guests.values())
    bridged = sum(1 for g in estate.guests.values() if not g.management.isolation)
    assert len(programs.live_rows()) == vnics + bridged

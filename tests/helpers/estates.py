"""Estates for tests: the example specs, and small edits of them stated in YAML."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from tenantry.model import Change, ChangeSet, Estate, Kind, Op, Policy, Ref
from tenantry.spec import load_specs

__all__ = ["EXAMPLES", "example_estate", "with_policies"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "specs"


@cache
def example_estate(name: str = "two-tenants") -> Estate:
    """An example spec from examples/specs, loaded and checked (cached: estates are immutable)."""
    return load_specs([EXAMPLES / f"{name}.yaml"]).estate


def with_policies(estate: Estate, *policies: tuple[str, Policy]) -> Estate:
    """The estate with these (owner, policy) added or replaced."""
    changes = []
    for owner, policy in policies:
        ref = Ref(owner, policy.name)
        before = estate.policies.get(ref)
        op = Op.CREATE if before is None else Op.UPDATE
        changes.append(Change(op, Kind.POLICY, ref, before, policy))
    return estate.with_changes(ChangeSet(tuple(changes)))

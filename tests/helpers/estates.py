"""Estates for tests: the example specs, and small edits of them stated in YAML."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from tenantry.model import Estate
from tenantry.spec import load_specs

__all__ = ["EXAMPLES", "example_estate"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "specs"


@cache
def example_estate(name: str = "two-tenants") -> Estate:
    """An example spec from examples/specs, loaded and checked (cached: estates are immutable)."""
    return load_specs([EXAMPLES / f"{name}.yaml"]).estate

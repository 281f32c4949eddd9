"""Spec builders: load a base spec as plain data, change what a test is about, load it back."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tenantry.model import Estate
from tenantry.spec import dump_yaml, load_spec_text

__all__ = ["ASSETS", "base_data", "estate_from", "tenant_section", "text_from"]

ASSETS = Path(__file__).parent.parent / "assets"
_cache: dict[str, Any] = {}


def base_data(name: str = "two-tenants") -> dict[str, Any]:
    """A fresh deep copy of an asset spec as plain Python data."""
    if name not in _cache:
        yaml = YAML(typ="safe", pure=True)
        _cache[name] = yaml.load((ASSETS / "specs" / f"{name}.yaml").read_text())
    return copy.deepcopy(_cache[name])


def text_from(data: dict[str, Any]) -> str:
    """Spec text for plain data."""
    return dump_yaml(data)


def estate_from(
    data: dict[str, Any] | None = None,
    change: Callable[[dict[str, Any]], None] | None = None,
    *,
    check: bool = True,
) -> Estate:
    """The estate for ``data`` (default: the two-tenants asset) after ``change`` edits it."""
    data = base_data() if data is None else data
    if change is not None:
        change(data)
    return load_spec_text(text_from(data), "test.yaml", check=check).estate


def tenant_section(data: dict[str, Any], name: str) -> dict[str, Any]:
    """The tenant section called ``name`` in spec data."""
    return next(t for t in data["tenants"] if t["name"] == name)

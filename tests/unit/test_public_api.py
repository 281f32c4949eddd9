"""Each package's public surface is exactly its __all__ (pinned, httpx style)."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

import tenantry


def packages() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(tenantry.__path__, "tenantry.")
        if info.ispkg and ".migrations" not in info.name
    )


@pytest.mark.parametrize("name", packages())
def test_package_exports_exactly_its_public_names(name: str) -> None:
    """Everything in __all__ exists; every public non-module attribute is in __all__."""
    module = importlib.import_module(name)
    exported = set(getattr(module, "__all__", []))
    for item in exported:
        assert hasattr(module, item), f"{name}.__all__ names missing {item}"
    public = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and not isinstance(value, types.ModuleType)
        and attr not in {"annotations"}
    }
    assert public <= exported, f"{name} exposes {sorted(public - exported)} outside __all__"

"""The public names of the compiler and data-plane packages are exactly their ``__all__``."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = ["tenantry.compiler", "tenantry.dataplane", "tenantry.dataplane.reference"]


@pytest.mark.parametrize("name", PACKAGES)
def test_package_exports_exactly_its_all(name: str) -> None:
    """Every name in __all__ exists, and no other public name is defined at package level."""
    module = importlib.import_module(name)
    exported = set(module.__all__)
    public = {
        n
        for n, value in vars(module).items()
        if not n.startswith("_") and not (hasattr(value, "__path__") and n not in exported)
    }
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing
    # submodules imported for their side effects are not public API
    submodules = {n for n in public - exported if n in {"annotations"} or _is_module(module, n)}
    assert public - exported - submodules == set()


def _is_module(module: object, name: str) -> bool:
    return type(getattr(module, name)).__name__ == "module"

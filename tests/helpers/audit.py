"""Builders for audit tests: services over real stores with a known key, tenant actors, edits."""

from __future__ import annotations

from pathlib import Path

from tenantry.audit import Ed25519Signer
from tenantry.governance import Actor
from tenantry.model import PROVIDER, Estate, Kind, Ref, Tenant
from tenantry.service import Service
from tenantry.spec import load_specs

__all__ = [
    "DEMO",
    "TENANTS",
    "demo_estate",
    "describe_tenant",
    "open_service",
    "operator",
    "tenant_actor",
]

DEMO = Path(__file__).resolve().parents[2] / "examples" / "specs" / "demo.yaml"
TENANTS = ("finance", "hr", "sales", "web")


def demo_estate() -> Estate:
    """The example estate: four tenants on four hosts."""
    return load_specs([DEMO]).estate


def open_service(url: str, signer: Ed25519Signer) -> Service:
    """A service over the store at ``url`` that signs with ``signer``."""
    return Service.open(url, signer=signer)


def operator() -> Actor:
    """The local operator (provider side, all privileges, every action audited)."""
    return Actor.local_operator()


def tenant_actor(tenant: str, name: str = "alice") -> Actor:
    """An administrator of ``tenant`` calling from a known address."""
    return Actor(name=name, tenant=tenant, roles=frozenset({"administrator"}), source="192.0.2.7")


def describe_tenant(service: Service, actor: Actor, tenant: str, text: str) -> int:
    """Change a tenant's description (a change a tenant may make); returns the generation."""
    ref = Ref(PROVIDER, tenant)
    current, revision = service.get(operator(), Kind.TENANT, ref)
    assert isinstance(current, Tenant)
    updated = current.model_copy(update={"description": text})
    return service.put(actor, Kind.TENANT, ref, updated, expected_revision=revision).generation

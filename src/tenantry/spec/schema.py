"""The file format: the model's objects, with tenant-owned objects nested under their tenant."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field

from tenantry.model import (
    Cluster,
    Datacenter,
    Datastore,
    Guest,
    Host,
    Image,
    Model,
    Network,
    PhysicalNetwork,
    Policy,
    PortGroup,
    Provider,
    ResourcePool,
    Router,
    SharedService,
    Tenant,
    VirtualSwitch,
)

__all__ = ["OWNED_SECTIONS", "EstateSpec", "TenantSection", "spec_json_schema"]

OWNED_SECTIONS = ("resource_pools", "networks", "routers", "guests", "policies")
"""Sections that exist both at the top level (the provider's) and inside each tenant."""


class TenantSection(Tenant):
    """A tenant and everything it owns."""

    resource_pools: tuple[ResourcePool, ...] = ()
    networks: tuple[Network, ...] = ()
    routers: tuple[Router, ...] = ()
    guests: tuple[Guest, ...] = ()
    policies: tuple[Policy, ...] = ()


class EstateSpec(Model):
    """A tenantry spec file: the desired state of (part of) an estate."""

    version: Literal[1] = Field(1, description="the spec format version")
    provider: Provider | None = None
    physical_networks: tuple[PhysicalNetwork, ...] = ()
    datacenters: tuple[Datacenter, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    hosts: tuple[Host, ...] = ()
    datastores: tuple[Datastore, ...] = ()
    images: tuple[Image, ...] = ()
    virtual_switches: tuple[VirtualSwitch, ...] = ()
    port_groups: tuple[PortGroup, ...] = ()
    shared_services: tuple[SharedService, ...] = ()
    resource_pools: tuple[ResourcePool, ...] = Field((), description="the provider's pools")
    networks: tuple[Network, ...] = Field((), description="the provider's networks")
    routers: tuple[Router, ...] = Field((), description="the provider's routers")
    guests: tuple[Guest, ...] = Field((), description="the provider's guests (service appliances)")
    policies: tuple[Policy, ...] = Field((), description="provider and baseline tier policies")
    tenants: tuple[TenantSection, ...] = ()


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a spec file."""
    schema = EstateSpec.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://tenantry.dev/schema/spec-v1.json"
    schema["title"] = "tenantry spec, version 1"
    normalised: dict[str, Any] = json.loads(json.dumps(schema))
    return normalised

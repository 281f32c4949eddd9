"""The provider and its tenants: the legal owners of their data, with reserved resources."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from tenantry.model._base import Model
from tenantry.model.ids import BitRate, ByteSize, Name

__all__ = [
    "AdministrationModel",
    "BandwidthBounds",
    "ByteBounds",
    "CountBounds",
    "Provider",
    "ResourceBounds",
    "Tenant",
]


class AdministrationModel(StrEnum):
    """Who administers a tenant's objects (seed 001)."""

    TENANT_CONTROLLED = "tenant-controlled"
    TENANT_ASSISTED = "tenant-assisted"


class _Bounds(Model):
    min: int = 0
    max: int | None = None

    @model_validator(mode="after")
    def _min_not_above_max(self) -> _Bounds:
        low, high = self.min, self.max
        if high is not None and low > high:
            raise ValueError(f"min ({low}) is above max ({high})")
        return self


class CountBounds(_Bounds):
    """A lower (guaranteed) and upper (never exceeded) bound on a count, e.g. vCPUs."""

    min: int = Field(0, ge=0)
    max: int | None = Field(None, ge=0)


class ByteBounds(_Bounds):
    """Lower and upper bounds on a size in bytes (memory, storage)."""

    min: ByteSize = 0
    max: ByteSize | None = None


class BandwidthBounds(_Bounds):
    """Lower and upper bounds on a rate in bits per second."""

    min: BitRate = 0
    max: BitRate | None = None


class ResourceBounds(Model):
    """A tenant's reserved resources: its 'system' in the sense of seed 001."""

    vcpu: CountBounds = CountBounds()
    memory: ByteBounds = ByteBounds()
    storage: ByteBounds = ByteBounds()
    bandwidth: BandwidthBounds = BandwidthBounds()


class Tenant(Model):
    """A tenant: the legal owner of its data, administered by itself or with the provider's help."""

    name: Name
    description: str = ""
    administration: AdministrationModel = AdministrationModel.TENANT_CONTROLLED
    placement_tag: Name | None = Field(
        None,
        description="Set by the provider only: the tenant's guests land only on hosts, "
        "datastores and switches carrying this tag, and tagged resources serve only it.",
    )
    resources: ResourceBounds = ResourceBounds()
    delegated_tasks: tuple[Name, ...] = Field(
        (),
        description="tenant-assisted only: the named tasks provider operators may perform",
    )

    @model_validator(mode="after")
    def _delegation_needs_assisted(self) -> Tenant:
        if self.delegated_tasks and self.administration is not AdministrationModel.TENANT_ASSISTED:
            raise ValueError("delegated_tasks needs administration: tenant-assisted")
        return self


class Provider(Model):
    """The provider: owner of the infrastructure, never of tenant data."""

    name: Name = "provider"
    description: str = ""
    management_network: Name | None = Field(
        None,
        description="the provider network that carries guest management interfaces "
        "(guests in management isolation mode get none)",
    )

"""Spec files to an estate (with each object's origin) and back."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML

from tenantry.errors import SpecError, SpecIssue, Violation
from tenantry.model import (
    KIND_INFO,
    PROVIDER,
    PROVIDER_REF,
    Estate,
    Kind,
    Model,
    Ref,
    Tenant,
)
from tenantry.spec.loader import ParsedFile, locate
from tenantry.spec.schema import OWNED_SECTIONS, EstateSpec, TenantSection

__all__ = [
    "Origin",
    "Origins",
    "build_estate",
    "dump_spec",
    "dump_yaml",
    "estate_to_spec",
    "issues_for",
]


@dataclass(frozen=True)
class Origin:
    """Where an object was declared: the file and its path inside the file."""

    file: str
    path: str
    tree: Any

    def issue(self, field: str, message: str) -> SpecIssue:
        """A located issue about ``field`` of this object."""
        path = f"{self.path}.{field}" if field else self.path
        line, column = locate(self.tree, path)
        return SpecIssue(path, message, self.file, line, column)


Origins = dict[tuple[Kind, Ref], Origin]

_OWNED_KIND = {KIND_INFO[k].section: k for k in KIND_INFO if KIND_INFO[k].owned}
_PROVIDER_KIND = {info.section: kind for kind, info in KIND_INFO.items() if not info.owned}


def _objects(parsed: ParsedFile) -> Iterator[tuple[Kind, Ref, Model, Origin]]:
    spec, name, tree = parsed.spec, parsed.name, parsed.tree
    if spec.provider is not None:
        yield Kind.PROVIDER, PROVIDER_REF, spec.provider, Origin(name, "provider", tree)
    for section, kind in _PROVIDER_KIND.items():
        if kind in (Kind.PROVIDER, Kind.TENANT):
            continue
        for i, obj in enumerate(getattr(spec, section)):
            yield kind, Ref(PROVIDER, obj.name), obj, Origin(name, f"{section}[{i}]", tree)
    for section, kind in _OWNED_KIND.items():
        for i, obj in enumerate(getattr(spec, section)):
            yield kind, Ref(PROVIDER, obj.name), obj, Origin(name, f"{section}[{i}]", tree)
    for t, tenant_section in enumerate(spec.tenants):
        fields = {f: getattr(tenant_section, f) for f in Tenant.model_fields}
        tenant = Tenant.model_validate(fields)
        here = f"tenants[{t}]"
        yield Kind.TENANT, Ref(PROVIDER, tenant.name), tenant, Origin(name, here, tree)
        for section, kind in _OWNED_KIND.items():
            for i, obj in enumerate(getattr(tenant_section, section)):
                origin = Origin(name, f"{here}.{section}[{i}]", tree)
                yield kind, Ref(tenant.name, obj.name), obj, origin


def build_estate(files: Sequence[ParsedFile]) -> tuple[Estate, Origins]:
    """Merge spec files into one estate; an object declared twice is an error at both places."""
    origins: Origins = {}
    items: list[tuple[Kind, Ref, Model]] = []
    issues: list[SpecIssue] = []
    for parsed in files:
        for kind, ref, obj, origin in _objects(parsed):
            first = origins.get((kind, ref))
            if first is not None:
                where = first.issue("", "")
                issues.append(
                    origin.issue(
                        "name" if kind is not Kind.PROVIDER else "",
                        f"{kind} {ref} is declared twice (first at {where.file}:{where.line})",
                    )
                )
                continue
            origins[(kind, ref)] = origin
            items.append((kind, ref, obj))
    if issues:
        raise SpecError(issues)
    return Estate.build(items), origins


def issues_for(violations: Sequence[Violation], origins: Origins) -> list[SpecIssue]:
    """Violations of model rules, located in the files that declared the objects."""
    issues = []
    for violation in violations:
        message = f"{violation.message} [{violation.rule}]"
        origin = None
        if violation.kind:
            kind = Kind(violation.kind)
            ref = PROVIDER_REF if kind is Kind.PROVIDER else Ref.parse(violation.ref)
            origin = origins.get((kind, ref))
        if origin is None:
            issues.append(SpecIssue(violation.path, message))
        else:
            issues.append(origin.issue(violation.field, message))
    return issues


def estate_to_spec(estate: Estate) -> EstateSpec:
    """The spec that declares exactly this estate."""
    provider_parts: dict[str, list[Model]] = {}
    tenant_parts: dict[str, dict[str, list[Model]]] = {}
    for kind, info in KIND_INFO.items():
        if kind in (Kind.PROVIDER, Kind.TENANT):
            continue
        for ref, obj in sorted(estate.items(kind)):
            if ref.owner == PROVIDER:
                provider_parts.setdefault(info.section, []).append(obj)
            else:
                tenant_parts.setdefault(ref.owner, {}).setdefault(info.section, []).append(obj)
    tenants = []
    for ref, tenant in sorted(estate.tenants.items()):
        nested = tenant_parts.get(ref.name, {})
        tenants.append(
            TenantSection.model_validate(
                {**dict(tenant), **{s: tuple(nested.get(s, ())) for s in OWNED_SECTIONS}}
            )
        )
    provider = estate.get(Kind.PROVIDER, PROVIDER_REF)
    return EstateSpec.model_validate(
        {
            "provider": provider,
            **{k: tuple(v) for k, v in provider_parts.items()},
            "tenants": tuple(tenants),
        }
    )


def dump_spec(estate: Estate) -> str:
    """The estate as spec YAML; loading it gives back an equal estate."""
    spec = estate_to_spec(estate)
    data = spec.model_dump(mode="json", exclude_defaults=True)
    return dump_yaml({"version": 1, **data})


def dump_yaml(data: Any) -> str:
    """Plain data as block-style YAML."""
    yaml = YAML(typ="rt", pure=True)
    yaml.default_flow_style = False
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()

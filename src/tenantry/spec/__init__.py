"""The YAML desired state: files to a validated estate (errors name file, line and field), and back.

``load_specs`` checks syntax, the schema, duplicates and every structural rule of the model;
``dump_spec`` writes an estate as a spec that loads back to an equal estate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tenantry.errors import SpecError
from tenantry.model import Estate, check_estate
from tenantry.spec.convert import (
    Origin,
    Origins,
    build_estate,
    dump_spec,
    dump_yaml,
    estate_to_spec,
    issues_for,
)
from tenantry.spec.loader import ParsedFile, parse_file, parse_text
from tenantry.spec.schema import EstateSpec, TenantSection, spec_json_schema

__all__ = [
    "EstateSpec",
    "LoadedSpec",
    "Origin",
    "Origins",
    "ParsedFile",
    "TenantSection",
    "dump_spec",
    "dump_yaml",
    "estate_to_spec",
    "issues_for",
    "load_spec_text",
    "load_specs",
    "spec_json_schema",
]


@dataclass(frozen=True)
class LoadedSpec:
    """The estate that spec files declare, and where each object came from."""

    estate: Estate
    origins: Origins


def _load(files: Sequence[ParsedFile], *, check: bool) -> LoadedSpec:
    estate, origins = build_estate(files)
    if check:
        violations = check_estate(estate)
        if violations:
            raise SpecError(issues_for(violations, origins))
    return LoadedSpec(estate, origins)


def load_specs(paths: Sequence[str | Path], *, check: bool = True) -> LoadedSpec:
    """Read, validate and merge spec files; ``check`` also applies the estate's rules."""
    if not paths:
        raise SpecError([])
    return _load([parse_file(Path(p)) for p in paths], check=check)


def load_spec_text(text: str, name: str = "<spec>", *, check: bool = True) -> LoadedSpec:
    """The same as ``load_specs`` for one document held in memory."""
    return _load([parse_text(text, name)], check=check)

"""Loading spec files: parse, validate, merge, and apply the model's structural rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tenantry.errors import SpecError
from tenantry.model import Estate, check_estate
from tenantry.spec.convert import Origins, build_estate, issues_for
from tenantry.spec.loader import ParsedFile, parse_file, parse_text

__all__ = ["LoadedSpec", "load_spec_text", "load_specs"]


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

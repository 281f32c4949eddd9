"""All structural rules of an estate, in one call (admission adds capacity and isolation)."""

from __future__ import annotations

from tenantry.errors import Violation
from tenantry.model.addressing import check_addressing
from tenantry.model.attachment import check_attachment
from tenantry.model.estate import Estate
from tenantry.model.ownership import check_ownership
from tenantry.model.references import check_references

__all__ = ["check_estate"]


def check_estate(estate: Estate) -> list[Violation]:
    """Every structural violation in the estate (references first: later rules assume them)."""
    dangling = check_references(estate)
    return [
        *dangling,
        *check_addressing(estate),
        *check_attachment(estate),
        *check_ownership(estate),
    ]

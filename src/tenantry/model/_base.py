"""The base of every domain object: immutable, strict, no unknown fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Model"]


class Model(BaseModel):
    """An immutable, validated domain object; unknown fields are errors."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=False,
        validate_default=False,
        use_enum_values=False,
        str_strip_whitespace=True,
    )

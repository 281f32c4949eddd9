"""Value types shared by the domain: names, references, MAC addresses, VLAN ids, quantities."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, NamedTuple

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema

__all__ = [
    "PROVIDER",
    "BitRate",
    "ByteSize",
    "MacAddress",
    "Name",
    "OverlayId",
    "Ref",
    "VlanId",
    "format_bytes",
    "parse_bytes",
]

PROVIDER = "provider"
"""The owner name of everything the provider owns; no tenant may take this name."""

_NAME_RE = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"

# Names are DNS labels: they end up inside OVN match expressions, interface names and paths,
# so nothing outside [a-z0-9-] may ever get through (THREATS row 50, match injection).
Name = Annotated[
    str,
    Field(
        pattern=_NAME_RE,
        min_length=1,
        max_length=63,
        description="a DNS label: lower-case letters, digits and '-', 1-63 characters",
    ),
]


class Ref(NamedTuple):
    """The identity of an object: its owner (a tenant, or ``provider``) and its name."""

    owner: str
    name: str

    def __str__(self) -> str:
        return self.name if self.owner == PROVIDER else f"{self.owner}/{self.name}"

    @classmethod
    def parse(cls, text: str, *, default_owner: str = PROVIDER) -> Ref:
        """``tenant/name`` or ``name`` (owned by ``default_owner``)."""
        owner, sep, name = text.partition("/")
        return cls(owner, name) if sep else cls(default_owner, owner)


_MAC_RE = re.compile(r"^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$")


def _check_mac(value: str) -> str:
    text = value.strip().lower()
    if not _MAC_RE.match(text):
        raise ValueError(f"{value!r} is not a MAC address (write it as 02:00:00:00:00:01)")
    text = text.replace("-", ":")
    first = int(text[:2], 16)
    if first & 1:
        raise ValueError(f"{value!r} is a multicast MAC; a vNIC needs a unicast address")
    if text == "00:00:00:00:00:00":
        raise ValueError("00:00:00:00:00:00 is not a usable vNIC address")
    return text


MacAddress = Annotated[
    str,
    AfterValidator(_check_mac),
    WithJsonSchema({"type": "string", "pattern": "^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$"}),
]

VlanId = Annotated[int, Field(ge=1, le=4094, description="an 802.1Q VLAN id, 1-4094")]
OverlayId = Annotated[
    int, Field(ge=1, le=16_777_215, description="a 24-bit overlay (VXLAN/Geneve) id")
]

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "ki": 1024,
    "kib": 1024,
    "mi": 1024**2,
    "mib": 1024**2,
    "gi": 1024**3,
    "gib": 1024**3,
    "ti": 1024**4,
    "tib": 1024**4,
    "pi": 1024**5,
    "pib": 1024**5,
}
_QUANTITY_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def _parse_quantity(
    value: Any, units: dict[str, int], pattern: re.Pattern[str], what: str, example: str
) -> int:
    """An int, or a decimal number with a unit, to an exact whole number of base units."""
    if isinstance(value, bool):
        raise ValueError(f"expected a {what} such as {example}, not a boolean")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a {what} cannot be negative")
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a {what} such as {example}, got {type(value).__name__}")
    match = pattern.match(value)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in units:
        names = ", ".join(sorted({u for u in units if u}))
        raise ValueError(f"{value!r} is not a {what} (units: {names}; e.g. {example})")
    # Decimal, not float: quantities beyond 2**53 must round-trip exactly.
    amount = Decimal(match.group(1)) * units[unit]
    if amount != amount.to_integral_value():
        raise ValueError(f"{value!r} is not a whole number of base units")
    return int(amount)


def parse_bytes(value: Any) -> int:
    """``512GiB``, ``1.5TiB``, ``100MB`` or an int of bytes, to bytes."""
    return _parse_quantity(value, _UNITS, _QUANTITY_RE, "size", "16GiB")


def format_bytes(value: int) -> str:
    """The shortest exact binary-unit spelling of a byte count (round-trips through parse)."""
    for unit, factor in (("PiB", 1024**5), ("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2)):
        if value and value % factor == 0:
            return f"{value // factor}{unit}"
    if value and value % 1024 == 0:
        return f"{value // 1024}KiB"
    return str(value)


ByteSize = Annotated[
    int,
    BeforeValidator(parse_bytes),
    PlainSerializer(format_bytes, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": r"^\d+(\.\d+)?\s*([KMGTP]i?B?|B)?$"},
            ],
            "description": "bytes, or a size such as 16GiB",
        }
    ),
]

_RATE_UNITS = {"bit": 1, "kbit": 1000, "mbit": 1000**2, "gbit": 1000**3, "tbit": 1000**4}
_RATE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)(?:/s|ps)?\s*$")


def _parse_rate(value: Any) -> int:
    return _parse_quantity(value, _RATE_UNITS, _RATE_RE, "rate", "100Mbit")


def _format_rate(value: int) -> str:
    for unit, factor in (("Tbit", 1000**4), ("Gbit", 1000**3), ("Mbit", 1000**2), ("Kbit", 1000)):
        if value and value % factor == 0:
            return f"{value // factor}{unit}"
    return f"{value}bit"


BitRate = Annotated[
    int,
    BeforeValidator(_parse_rate),
    PlainSerializer(_format_rate, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": r"^\d+(\.\d+)?\s*[KMGT]?bit(/s|ps)?$"},
            ],
            "description": "bits per second, or a rate such as 100Mbit",
        }
    ),
]

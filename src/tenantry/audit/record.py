"""An audit record: who did what to which objects, for which tenants, with what outcome."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from json.encoder import encode_basestring
from typing import Any

from tenantry.audit._parse import field as required
from tenantry.audit._parse import integer, obj, seq, text
from tenantry.audit.merkle import leaf_hash
from tenantry.errors import InputError

__all__ = ["ENTRY_SCHEMA", "AuditRecord", "Outcome", "leaf_hash"]

# One encoder for every record: building a JSONEncoder per call costs as much as encoding.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Outcome(StrEnum):
    """How a recorded operation ended."""

    APPLIED = "applied"
    REFUSED = "refused"
    FAILED = "failed"
    SUCCEEDED = "succeeded"


_UTC_MICROSECONDS = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$"
ENTRY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "tenantry audit entry",
    "description": "One entry of the Merkle log, as its canonical JSON (the leaf input).",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "time", "actor", "source", "action", "outcome", "reason", "targets", "tenants",
        "tenant_seq", "details",
    ],
    "properties": {
        "time": {"type": "string", "pattern": _UTC_MICROSECONDS},
        "actor": {"type": "string", "minLength": 1, "description": "who (the subject)"},
        "source": {"type": "string", "description": "origin address, or local"},
        "action": {"type": "string", "minLength": 1, "description": "the type of event"},
        "outcome": {"enum": [str(o) for o in Outcome]},
        "reason": {"type": "string", "description": "why it was refused or failed"},
        "targets": {"type": "array", "items": {"type": "string"}, "description": "objects"},
        "tenants": {"type": "array", "items": {"type": "string"}, "maxItems": 1},
        "tenant_seq": {
            "type": ["integer", "null"],
            "minimum": 0,
            "description": "the entry's number among its tenant's entries",
        },
        "details": {"type": "object"},
    },
}  # fmt: skip
"""JSON Schema of an entry's canonical JSON (for SIEMs and the completeness tests)."""


@dataclass(frozen=True)
class AuditRecord:
    """One entry of the trail; ``canonical()`` is exactly what the Merkle leaf hashes."""

    actor: str
    action: str
    outcome: Outcome
    source: str = "local"
    targets: tuple[str, ...] = ()
    tenants: tuple[str, ...] = ()
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    tenant_seq: int | None = None
    """The entry's number among its tenant's entries (0, 1, 2, ...), given by the log when it
    is appended: a tenant whose view skips a number knows an entry was kept from it."""

    @property
    def iso_time(self) -> str:
        """The time in UTC, ISO 8601 with microseconds (as the canonical bytes hold it)."""
        t = self.time if self.time.tzinfo is UTC else self.time.astimezone(UTC)
        # Same text as isoformat(timespec="microseconds"), at two thirds of the cost.
        return "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00" % (  # noqa: UP031
            t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond,
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with a fixed key set."""
        return {
            "time": self.iso_time,
            "actor": self.actor,
            "source": self.source,
            "action": self.action,
            "outcome": str(self.outcome),
            "reason": self.reason,
            "targets": list(self.targets),
            "tenants": sorted(self.tenants),
            "tenant_seq": self.tenant_seq,
            "details": self.details,
        }

    def canonical(self) -> bytes:
        """Canonical JSON bytes (sorted keys, no spaces): the Merkle leaf input."""
        return self.encode()[0].encode()

    def encode(self, *, tenant_seq: int | None = None) -> tuple[str, str]:
        """The canonical JSON as text (with ``tenant_seq`` if given, else the record's), and
        the UTC time in it.

        The text is exactly ``json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"),
        ensure_ascii=False)``, written out field by field because appends are hashed at
        10^5 per second and the generic encoder spends most of its time sorting keys.
        """
        text = encode_basestring
        number = self.tenant_seq if tenant_seq is None else tenant_seq
        iso = self.iso_time
        details = _encode_details(self.details)
        tenants = self.tenants if len(self.tenants) < 2 else sorted(self.tenants)
        body = (
            f'{{"action":{text(self.action)},"actor":{text(self.actor)},"details":{details},'
            f'"outcome":{text(str(self.outcome))},"reason":{text(self.reason)},'
            f'"source":{text(self.source)},"targets":[{",".join(map(text, self.targets))}],'
            f'"tenant_seq":{"null" if number is None else int(number)},'
            f'"tenants":[{",".join(map(text, tenants))}],"time":{text(iso)}}}'
        )
        return body, iso

    @classmethod
    def from_json(cls, data: object, *, where: str = "entry") -> AuditRecord:
        """The record back from ``to_json()`` output; InputError naming ``where`` if malformed."""
        fields = obj(data, where)
        try:
            outcome = Outcome(text(required(fields, "outcome", where), f"{where}.outcome"))
        except ValueError as exc:
            raise InputError(f"{where}.outcome: not one of {', '.join(Outcome)}") from exc
        try:
            time = datetime.fromisoformat(text(required(fields, "time", where), f"{where}.time"))
        except ValueError as exc:
            raise InputError(f"{where}.time: not an ISO 8601 time") from exc
        return cls(
            actor=text(required(fields, "actor", where), f"{where}.actor"),
            action=text(required(fields, "action", where), f"{where}.action"),
            outcome=outcome,
            source=text(required(fields, "source", where), f"{where}.source"),
            targets=_texts(required(fields, "targets", where), f"{where}.targets"),
            tenants=_texts(required(fields, "tenants", where), f"{where}.tenants"),
            reason=text(required(fields, "reason", where), f"{where}.reason"),
            details=dict(obj(required(fields, "details", where), f"{where}.details")),
            time=time,
            tenant_seq=_number(fields.get("tenant_seq"), f"{where}.tenant_seq"),
        )

    @classmethod
    def from_canonical(cls, body: bytes, *, where: str = "entry") -> AuditRecord:
        """The record from its canonical bytes; InputError if they are not a record."""
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise InputError(f"{where}: not JSON") from exc
        return cls.from_json(data, where=where)


def _encode_details(details: dict[str, Any]) -> str:
    # Most details are a few text or integer fields: write those out directly; anything else
    # goes through the generic canonical encoder (same bytes either way).
    if not details:
        return "{}"
    text = encode_basestring
    parts = []
    for key in sorted(details):
        value = details[key]
        kind = type(value)
        if type(key) is not str or (kind is not str and kind is not int):
            return _CANONICAL.encode(details)
        parts.append(f"{text(key)}:{text(value) if kind is str else value}")
    return "{" + ",".join(parts) + "}"


def _number(value: object, where: str) -> int | None:
    return None if value is None else integer(value, where)


def _texts(value: object, where: str) -> tuple[str, ...]:
    return tuple(text(item, f"{where}[{i}]") for i, item in enumerate(seq(value, where)))

"""An audit record: who did what to which objects, for which tenants, with what outcome."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

__all__ = ["AuditRecord", "Outcome", "leaf_hash"]


class Outcome(StrEnum):
    """How a recorded operation ended."""

    APPLIED = "applied"
    REFUSED = "refused"
    FAILED = "failed"
    SUCCEEDED = "succeeded"


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256 over 0x00 and the entry bytes."""
    return hashlib.sha256(b"\x00" + data).digest()


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

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with a fixed key set."""
        return {
            "time": self.time.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": self.actor,
            "source": self.source,
            "action": self.action,
            "outcome": str(self.outcome),
            "reason": self.reason,
            "targets": list(self.targets),
            "tenants": sorted(self.tenants),
            "details": self.details,
        }

    def canonical(self) -> bytes:
        """Canonical JSON bytes (sorted keys, no spaces): the Merkle leaf input."""
        return json.dumps(
            self.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AuditRecord:
        """The record back from ``to_json()`` output."""
        return cls(
            actor=data["actor"],
            action=data["action"],
            outcome=Outcome(data["outcome"]),
            source=data["source"],
            targets=tuple(data["targets"]),
            tenants=tuple(data["tenants"]),
            reason=data["reason"],
            details=dict(data["details"]),
            time=datetime.fromisoformat(data["time"]),
        )

"""The trail for other tools: JSON lines, CSV, and DMTF CADF events for SIEMs.

Every exported event carries its position in the log and its leaf hash, so a SIEM record can
be tied back to the Merkle log and proven with ``tenantry audit prove``.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any

from tenantry.audit.merkle import leaf_hash
from tenantry.audit.record import AuditRecord, Outcome

__all__ = ["CSV_COLUMNS", "ExportFormat", "cadf_event", "export_lines", "jsonl_line"]

CSV_COLUMNS = (
    "seq", "time", "actor", "source", "action", "outcome", "tenants", "targets", "reason",
    "details", "leaf_hash",
)  # fmt: skip

_CADF_EVENT = "http://schemas.dmtf.org/cloud/audit/1.0/event"
_NAMESPACE = uuid.UUID("6f1d3b52-6c1e-4f7e-9d3e-2b7a1c9e5a10")
_CADF_ACTIONS = {
    "apply": "update",
    "put": "update",
    "delete": "delete",
    "login": "authenticate/login",
    "logout": "authenticate/logout",
    "approve": "allow",
    "reject": "deny",
    "read": "read",
}
# Cells starting with these run as formulas in spreadsheets (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportFormat(StrEnum):
    """The export formats."""

    JSONL = "jsonl"
    CSV = "csv"
    CADF = "cadf"


def jsonl_line(seq: int, body: bytes) -> str:
    """One JSON line: the record with its position and leaf hash."""
    record = json.loads(body)
    return json.dumps(
        {"seq": seq, "leaf_hash": leaf_hash(body).hex(), **record},
        sort_keys=True,
        ensure_ascii=False,
    )


def cadf_event(seq: int, body: bytes, log_id: str) -> dict[str, Any]:
    """The entry as a CADF event (DMTF DSP0262)."""
    record = AuditRecord.from_canonical(body)
    refused = record.outcome in (Outcome.REFUSED, Outcome.FAILED)
    initiator: dict[str, Any] = {
        "id": f"tenantry:actor:{record.actor}",
        "typeURI": "service/security/account/user",
        "name": record.actor,
    }
    if record.source:
        initiator["host"] = {"address": record.source}
    event: dict[str, Any] = {
        "typeURI": _CADF_EVENT,
        "id": str(uuid.uuid5(_NAMESPACE, f"{log_id}:{seq}")),
        "eventType": "control" if record.outcome is Outcome.REFUSED else "activity",
        "eventTime": record.time.isoformat(timespec="microseconds"),
        "action": _CADF_ACTIONS.get(record.action, "unknown"),
        "outcome": "failure" if refused else "success",
        "initiator": initiator,
        "target": {
            "id": f"tenantry:targets:{leaf_hash(body).hex()[:32]}",
            "typeURI": "service/tenantry/estate",
            "name": ", ".join(record.targets)[:1000] or record.action,
        },
        "observer": {
            "id": f"tenantry:audit-log:{log_id}",
            "typeURI": "service/security",
            "name": "tenantry",
        },
        "tags": [f"tenantry/action/{record.action}"]
        + [f"tenantry/tenant/{tenant}" for tenant in record.tenants],
        "attachments": [
            {"typeURI": "tenantry/log-position", "name": "seq", "content": seq},
            {
                "typeURI": "tenantry/leaf-hash",
                "name": "leaf_hash",
                "content": leaf_hash(body).hex(),
            },
            {"typeURI": "tenantry/targets", "name": "targets", "content": list(record.targets)},
            {"typeURI": "tenantry/details", "name": "details", "content": record.details},
        ],
    }
    if record.reason or record.outcome is Outcome.REFUSED:
        code = record.reason.split(":", 1)[0] or record.outcome
        event["reason"] = {"reasonType": "tenantry/error-code", "reasonCode": code}
    return event


def export_lines(
    entries: Iterable[tuple[int, bytes]], fmt: ExportFormat, *, log_id: str
) -> Iterator[str]:
    """The entries as lines of text in ``fmt`` (CSV starts with its header line)."""
    if fmt is ExportFormat.JSONL:
        for seq, body in entries:
            yield jsonl_line(seq, body) + "\n"
    elif fmt is ExportFormat.CADF:
        for seq, body in entries:
            yield json.dumps(cadf_event(seq, body, log_id), sort_keys=True, ensure_ascii=False)
            yield "\n"
    else:
        yield _csv_line(CSV_COLUMNS)
        for seq, body in entries:
            record = AuditRecord.from_canonical(body)
            yield _csv_line(
                (
                    str(seq),
                    record.time.isoformat(timespec="microseconds"),
                    record.actor,
                    record.source,
                    record.action,
                    str(record.outcome),
                    ";".join(record.tenants),
                    ";".join(record.targets),
                    record.reason,
                    json.dumps(record.details, sort_keys=True, ensure_ascii=False),
                    leaf_hash(body).hex(),
                )
            )


def _csv_line(cells: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(
        "'" + cell if cell.startswith(_FORMULA_START) else cell for cell in cells
    )
    return buffer.getvalue()

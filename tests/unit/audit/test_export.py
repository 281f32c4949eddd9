"""Exports: JSON lines, CSV (safe in spreadsheets) and CADF events a SIEM accepts."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from tenantry.audit import AuditRecord, Outcome, leaf_hash
from tenantry.audit.export import CSV_COLUMNS, ExportFormat, cadf_event, export_lines

APPLIED = AuditRecord(
    actor="alice",
    source="10.0.0.7",
    action="apply",
    outcome=Outcome.APPLIED,
    targets=("create guest acme/web-1",),
    tenants=("acme",),
    details={"generation": 3},
    time=datetime(2024, 5, 1, 12, tzinfo=UTC),
).canonical()
REFUSED = AuditRecord(
    actor='=HYPERLINK("http://evil")',
    action="delete",
    outcome=Outcome.REFUSED,
    targets=("delete tenant acme",),
    tenants=("acme",),
    reason="auth.denied: may not delete tenant acme",
    time=datetime(2024, 5, 1, 12, 1, tzinfo=UTC),
).canonical()
ENTRIES = [(0, APPLIED), (1, REFUSED)]
LOG_ID = "ab" * 32


def test_jsonl_has_one_record_per_line_with_its_position_and_leaf_hash() -> None:
    """Each line is the record plus seq and leaf hash, to tie it back to the Merkle log."""
    lines = list(export_lines(ENTRIES, ExportFormat.JSONL, log_id=LOG_ID))
    first = json.loads(lines[0])
    assert first["seq"] == 0
    assert first["leaf_hash"] == leaf_hash(APPLIED).hex()
    assert first["targets"] == ["create guest acme/web-1"]
    assert len(lines) == 2


def test_csv_has_a_header_and_neutralises_formulas() -> None:
    """A cell that a spreadsheet would run as a formula is prefixed with a quote."""
    rows = list(
        csv.reader(io.StringIO("".join(export_lines(ENTRIES, ExportFormat.CSV, log_id=LOG_ID))))
    )
    assert tuple(rows[0]) == CSV_COLUMNS
    actor = rows[2][CSV_COLUMNS.index("actor")]
    assert actor.startswith("'=")
    assert rows[1][CSV_COLUMNS.index("outcome")] == "applied"


def test_cadf_events_carry_every_required_field() -> None:
    """DSP0262 requires id, typeURI, eventType, eventTime, action, outcome, initiator, target,
    observer; a control event also a reason."""
    applied = cadf_event(0, APPLIED, LOG_ID)
    refused = cadf_event(1, REFUSED, LOG_ID)
    for event in (applied, refused):
        for key in ("id", "typeURI", "eventType", "eventTime", "action", "outcome",
                    "initiator", "target", "observer"):  # fmt: skip
            assert key in event, key
        for resource in ("initiator", "target", "observer"):
            assert {"id", "typeURI"} <= set(event[resource])
    assert applied["outcome"] == "success"
    assert applied["initiator"]["host"] == {"address": "10.0.0.7"}
    assert applied["action"] == "update"
    assert refused["eventType"] == "control"
    assert refused["outcome"] == "failure"
    assert refused["reason"]["reasonCode"] == "auth.denied"
    assert refused["action"] == "delete"


def test_cadf_ids_are_stable_per_log_position() -> None:
    """Exporting twice gives the same event ids, so a SIEM can deduplicate."""
    assert cadf_event(1, REFUSED, LOG_ID)["id"] == cadf_event(1, REFUSED, LOG_ID)["id"]
    assert cadf_event(0, APPLIED, LOG_ID)["id"] != cadf_event(1, REFUSED, LOG_ID)["id"]

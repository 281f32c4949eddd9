"""Audit records: canonical bytes are stable and exact, and malformed input says where."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from tenantry.audit import AuditRecord, Outcome
from tenantry.errors import InputError

TEXT = st.text(max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
RECORDS = st.builds(
    AuditRecord,
    actor=TEXT,
    action=TEXT,
    outcome=st.sampled_from(Outcome),
    source=TEXT,
    targets=st.lists(TEXT, max_size=3).map(tuple),
    tenants=st.lists(TEXT, max_size=2).map(tuple),
    reason=TEXT,
    details=st.dictionaries(TEXT, JSON_VALUES, max_size=3),
    time=st.datetimes(
        min_value=datetime(1970, 1, 2),  # noqa: DTZ001 - hypothesis bounds are naive
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7)), timezone(timedelta(0))]),
    ),
    tenant_seq=st.none() | st.integers(0, 2**62),
)


@settings(max_examples=300, deadline=None)
@given(record=RECORDS)
def test_canonical_bytes_are_exactly_sorted_compact_json(record: AuditRecord) -> None:
    """The hand-written encoder gives byte for byte what json.dumps with sorted keys gives."""
    expected = json.dumps(
        record.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    assert record.canonical() == expected


@settings(max_examples=200, deadline=None)
@given(record=RECORDS)
def test_a_record_survives_its_canonical_form(record: AuditRecord) -> None:
    """Decoding the canonical bytes and encoding again gives the same bytes."""
    again = AuditRecord.from_canonical(record.canonical())
    assert again.canonical() == record.canonical()


def test_the_time_is_kept_in_utc_with_microseconds() -> None:
    """Times from any zone are written in UTC, so equal instants hash alike."""
    local = datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    record = AuditRecord(actor="a", action="login", outcome=Outcome.SUCCEEDED, time=local)
    assert record.iso_time == "2024-05-01T12:00:00.000000+00:00"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b"not json", "entry: not JSON"),
        (b"[]", "entry: expected an object"),
        (b'{"actor": "a"}', "missing field"),
        (
            b'{"actor":"a","action":"x","outcome":"maybe","source":"","targets":[],'
            b'"tenants":[],"reason":"","details":{},"time":"2024-01-01T00:00:00+00:00"}',
            "entry.outcome",
        ),
        (
            b'{"actor":"a","action":"x","outcome":"applied","source":"","targets":[1],'
            b'"tenants":[],"reason":"","details":{},"time":"2024-01-01T00:00:00+00:00"}',
            "entry.targets[0]",
        ),
        (
            b'{"actor":"a","action":"x","outcome":"applied","source":"","targets":[],'
            b'"tenants":[],"reason":"","details":{},"time":"yesterday"}',
            "entry.time",
        ),
    ],
)
def test_a_malformed_entry_is_refused_with_its_place(body: bytes, where: str) -> None:
    """Bodies that are not records raise InputError naming the field, never another error."""
    with pytest.raises(InputError, match=where.replace("[", r"\[").replace("]", r"\]")):
        AuditRecord.from_canonical(body)

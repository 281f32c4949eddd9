"""Key records in the store, on SQLite and PostgreSQL: saved, updated in place, read back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from tenantry.keys import DiskKeyRecord, DiskKeyState, KekRecord, KekState, SigningKeyRecord
from tenantry.store import Store, StoreKeyRecords

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_key_records_round_trip_and_upsert(store_url: str) -> None:
    """One save writes KEKs, disks and the signing key; a second save updates them in place."""
    store = Store.open(store_url)
    try:
        records = StoreKeyRecords(store)
        kek = KekRecord("acme", 1, KekState.ACTIVE, "sha256:" + "ab" * 32, NOW, NOW)
        disk = DiskKeyRecord(
            "d" * 32,
            "acme",
            "web",
            "root",
            4096,
            256,
            1,
            b"w" * 40,
            DiskKeyState.ACTIVE,
            0,
            NOW,
            NOW,
        )
        signing = SigningKeyRecord("acme", b"p" * 32, True, NOW, NOW)
        records.save(keks=[kek], disks=[disk], signing=signing)
        assert [(k.version, k.state) for k in records.keks("acme")] == [(1, KekState.ACTIVE)]
        assert records.disk_key("d" * 32) is not None
        assert records.signing_key("acme") is not None
        assert records.disk_keys("globex") == [] and records.signing_key("globex") is None

        records.save(
            keks=[replace(kek, state=KekState.REVOKED)],
            disks=[replace(disk, state=DiskKeyState.SHREDDED, wrapped_dek=b"", generation=4)],
            signing=replace(signing, active=False),
        )
        (stored,) = records.disk_keys("acme")
        assert (stored.state, stored.wrapped_dek, stored.generation) == (
            DiskKeyState.SHREDDED,
            b"",
            4,
        )
        assert records.keks("acme")[0].state is KekState.REVOKED
        signing_after = records.signing_key("acme")
        assert signing_after is not None and not signing_after.active
    finally:
        store.close()

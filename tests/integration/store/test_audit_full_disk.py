"""THREATS row 41: when the audit log cannot be written, nothing is committed (fail closed),
and once storage is back the first entry records the outage and what it refused.

The store lives on a 4 MiB tmpfs mounted for the test (as root); the signing key elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tenantry.audit import Ed25519Signer, Outcome
from tenantry.errors import AuditUnavailableError, NotFoundError
from tests.helpers.audit import demo_estate, describe_tenant, open_service, operator, tenant_actor

pytestmark = pytest.mark.root

SIGNER = Ed25519Signer.generate()


@pytest.fixture
def small_volume(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs, unmounted afterwards."""
    mountpoint = tmp_path / "volume"
    mountpoint.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mountpoint)], check=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def _fill(volume: Path) -> Path:
    """Write zeros until the filesystem refuses another byte (unbuffered, so nothing is left
    to flush on close)."""
    filler = volume / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (b"\0" * 65536, b"\0"):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, chunk)
    finally:
        os.close(fd)
    return filler


def test_a_full_store_refuses_changes_and_records_the_gap_afterwards(small_volume: Path) -> None:
    """Fill the store's volume: changes fail with AuditUnavailableError and change nothing;
    free it: the next write starts with an audit.unavailable entry, and the log verifies."""
    url = f"sqlite:///{small_volume / 'tenantry.db'}"
    service = open_service(url, SIGNER)
    service.apply(operator(), demo_estate())
    with service.store._engine.connect() as connection:  # the WAL must grow for any write
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    generation, size = service.store.generation(), service.store.audit_size()
    filler = _fill(small_volume)

    with pytest.raises(AuditUnavailableError):
        describe_tenant(service, operator(), "web", "written while full")
    with pytest.raises(NotFoundError):  # a refusal stands even when it cannot be logged
        describe_tenant(service, tenant_actor("hr"), "web", "attack while full")
    with pytest.raises(AuditUnavailableError):
        service.record(operator(), "login", Outcome.SUCCEEDED)
    assert (service.store.generation(), service.store.audit_size()) == (generation, size)

    filler.unlink()
    describe_tenant(service, operator(), "web", "written after the outage")

    entries = [e.record() for e in service.audit.entries(operator(), start=size)]
    gap = entries[0]
    assert (gap.action, gap.outcome) == ("audit.unavailable", Outcome.FAILED)
    assert gap.details["operations_refused"] == 3
    assert "full" in gap.reason
    assert entries[1].targets == ("update tenant web",)
    assert service.store.load().estate.tenant("web").description == "written after the outage"  # type: ignore[union-attr]
    assert service.audit.verify().ok
    service.close()

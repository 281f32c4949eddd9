"""THREATS row 49: after an fsync fails with EIO, the process acknowledges no further write
(even when later fsyncs succeed), and the log still verifies with every acknowledged change.

An LD_PRELOAD shim (tests/e2e/assets/fail_fsync.c, built with gcc) fails the Nth fsync.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tenantry.model import Kind
from tenantry.service.signing import load_signing_key
from tests.helpers.audit import demo_estate, open_service, operator

ROOT = Path(__file__).resolve().parents[2]
SHIM = Path(__file__).parent / "assets" / "fail_fsync.c"


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shim, compiled for this run."""
    library = tmp_path_factory.mktemp("shim") / "fail_fsync.so"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-O2", "-o", str(library), str(SHIM), "-ldl"], check=True
    )
    return library


# Sync calls of a fresh worker: 1 is the new WAL file, 2 its directory (SQLite ignores a
# failed directory sync, by design), then one WAL sync per commit.
@pytest.mark.parametrize("fail_at", [1, 3, 6, 11])
def test_no_acknowledgement_after_a_failed_fsync(shim: Path, tmp_path: Path, fail_at: int) -> None:
    """The Nth fsync fails: that write is refused, every later one too; the log verifies."""
    url = f"sqlite:///{tmp_path / 'tenantry.db'}"
    key = tmp_path / "audit.pem"
    signer = load_signing_key(key)
    service = open_service(url, signer)
    service.apply(operator(), demo_estate())
    service.close()

    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        "LD_PRELOAD": str(shim),
        "FAIL_FSYNC_AT": str(fail_at),
    }
    worker = subprocess.run(
        [sys.executable, "-m", "tests.e2e.crash_worker", "persist", url, str(key), "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    lines = worker.stdout.splitlines()[1:]  # after "ready"
    refused = [i for i, line in enumerate(lines) if line.startswith("refused")]
    assert refused, lines
    assert all(line.startswith("refused unavailable.store") for line in lines[refused[0] :])
    acknowledged = lines[: refused[0]]

    service = open_service(url, signer)
    assert service.audit.verify().ok
    for line in acknowledged:
        generation, text = line.split(" ", 1)
        snapshot = service.store.snapshot_at(int(generation))
        assert text in [b.get("description") for k, _, b in snapshot if k is Kind.TENANT]
    service.close()

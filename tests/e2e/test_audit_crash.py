"""THREATS rows 47/49 for the audit log: kill -9 the writer at random points, several times;
every acknowledged change is in the log and the estate, and the log still verifies."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tenantry.audit import Outcome
from tenantry.model import Kind
from tenantry.service.signing import load_signing_key
from tests.helpers.audit import demo_estate, open_service, operator

ROOT = Path(__file__).resolve().parents[2]
KILLS = 5


def _run_and_kill(mode: str, url: str, key: Path, run: int, rng: random.Random) -> list[str]:
    """Start a worker, let it write for a random while, SIGKILL it; what it acknowledged."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.crash_worker", mode, url, str(key), str(run)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "ready"
    time.sleep(rng.uniform(0.1, 1.2))
    worker.kill()  # SIGKILL: no cleanup, no flush, wherever it is
    worker.wait(timeout=30)
    acknowledged = worker.stdout.read().splitlines()
    worker.stdout.close()
    return acknowledged


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["apply", "bulk"])
def test_kill_9_during_writes_loses_no_acknowledged_entry(
    store_url: str, tmp_path: Path, mode: str, request: pytest.FixtureRequest
) -> None:
    """Five SIGKILLs at random points: acknowledged work survives, the log verifies."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    request.node.user_properties.append(("seed", seed))
    url = store_url
    key = tmp_path / "audit.pem"
    signer = load_signing_key(key)
    service = open_service(url, signer)
    service.apply(operator(), demo_estate())
    service.close()

    acknowledged: list[str] = []
    for run in range(KILLS):
        acknowledged += _run_and_kill(mode, url, key, run, rng)

    service = open_service(url, signer)
    verdict = service.audit.verify()
    assert verdict.ok, (seed, verdict.findings)
    assert acknowledged, "the workers acknowledged nothing before being killed"
    if mode == "apply":
        applied = {
            record.details["generation"]: record
            for record in (e.record() for e in service.audit.entries(operator()))
            if record.outcome is Outcome.APPLIED
        }
        for line in acknowledged:
            generation, text = line.split(" ", 1)
            assert int(generation) in applied, (seed, line)
            snapshot = service.store.snapshot_at(int(generation))
            described = [b.get("description") for k, _, b in snapshot if k is Kind.TENANT]
            assert text in described, (seed, line)
        # Nothing half-done: every committed generation has its audit entry.
        assert set(range(1, service.store.generation() + 1)) <= set(applied)
    else:
        assert service.store.audit_size() >= max(int(line) for line in acknowledged)
    service.close()

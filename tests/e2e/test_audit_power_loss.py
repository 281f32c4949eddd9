"""THREATS row 49, the power-loss half: the machine loses power while the store is written;
every write not yet fsynced is gone (or, in the reordering variant, any per-page part of it
survives). The store still opens, holds every acknowledged change, and its log verifies.

An LD_PRELOAD shim (tests/e2e/assets/power_loss.c) copies each file as of its every fsync,
and each directory's entries as of its every sync, into a shadow directory; the writer is
killed (by the shim at its Nth sync, or with SIGKILL at a random moment) and the store is
rebuilt from the shadows only (tests/helpers/power_loss.py). See docs/audit.md "Durability".
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tenantry.audit import Outcome, public_key_pem
from tenantry.cli import app
from tenantry.model import Kind
from tenantry.service.signing import load_signing_key
from tests.helpers.audit import demo_estate, open_service, operator
from tests.helpers.power_loss import Baseline, build_shim, rebuild

ROOT = Path(__file__).resolve().parents[2]
DB = "tenantry.db"


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shim, compiled for this run."""
    return build_shim(tmp_path_factory.mktemp("shim"))


def _crash(
    shim: Path, mode: str, data: Path, *, shadow: Path, key: Path, crash: str, rng: random.Random
) -> list[str]:
    """Run the writer over ``data`` until it dies; what it acknowledged before."""
    for part in ("files", "dirs", "pending"):
        (shadow / part).mkdir(parents=True)
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        "LD_PRELOAD": str(shim),
        "POWER_LOSS_ROOT": str(data),
        "POWER_LOSS_SHADOW": str(shadow),
    }
    if crash.startswith("sync"):
        env["POWER_LOSS_CRASH_AT"] = crash.removeprefix("sync")
    url = f"sqlite:///{data / DB}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.crash_worker", mode, url, str(key), "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert worker.stdout is not None
    if crash == "random":
        assert worker.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.2, 1.5))
        worker.kill()
    try:
        worker.wait(timeout=120)
    finally:
        worker.kill()
    assert worker.returncode == -9, f"the writer ended by itself ({worker.returncode})"
    lines = worker.stdout.read().splitlines()
    worker.stdout.close()
    return [line for line in lines if line != "ready"]


def _check(url: str, key: Path, mode: str, acknowledged: list[str], tmp_path: Path) -> None:
    """The rebuilt store opens, holds every acknowledged change, and verifies (also through
    the CLI); its newest signed head covers exactly the log."""
    signer = load_signing_key(key, create=False)
    service = open_service(url, signer)
    store = service.store
    verdict = service.audit.verify()
    assert verdict.ok, verdict.findings
    head = store.latest_audit_head()
    assert head is not None
    assert head.is_signed_by(signer.public_key())
    assert head.size == store.audit_size() == verdict.size
    if mode == "apply":
        applied = {
            record.details["generation"]
            for record in (e.record() for e in service.audit.entries(operator()))
            if record.outcome is Outcome.APPLIED
        }
        for line in acknowledged:
            generation, text = line.split(" ", 1)
            assert int(generation) in applied, line
            snapshot = store.snapshot_at(int(generation))
            assert text in [b.get("description") for k, _, b in snapshot if k is Kind.TENANT]
        # Nothing half-done: every generation that survived has its audit entry.
        assert set(range(1, store.generation() + 1)) <= applied
    else:
        assert store.audit_size() >= max((int(line) for line in acknowledged), default=0)
    service.close()

    tmp_path.mkdir()
    public = tmp_path / "public.pem"
    public.write_text(public_key_pem(signer.public_key()))
    env = {"TENANTRY_STORE": url, "TENANTRY_HOME": str(tmp_path / "home")}
    cli = CliRunner().invoke(app, ["audit", "verify", "--key", str(public)], env=env)
    assert cli.exit_code == 0, cli.output
    assert "verified" in cli.output


# Syncs of a fresh writer (the shim lists them in <shadow>/syncs): 1 the new WAL, 2 its
# directory (both in the write that opening the service makes), then one WAL sync per commit
# (3 is the first change's); a checkpoint syncs the WAL, then the database file
# (apply: sync 78 is the first database sync, bulk: 21): a crash there loses the copied pages.
@pytest.mark.parametrize(
    ("mode", "crash"),
    [
        ("apply", "sync1"),
        ("apply", "sync2"),
        ("apply", "sync3"),
        ("apply", "sync9"),
        ("apply", "sync78"),
        ("apply", "sync79"),
        ("apply", "random"),
        ("bulk", "sync4"),
        ("bulk", "sync21"),
        ("bulk", "random"),
    ],
)
def test_power_loss_keeps_every_acknowledged_change_and_a_verifying_log(
    shim: Path, tmp_path: Path, mode: str, crash: str, request: pytest.FixtureRequest
) -> None:
    """Power cut at a sync or at a random moment: whatever reached the disk by fsync, with
    none or any part of the rest, is a store that opens, verifies and lost nothing acknowledged."""
    seed = random.randrange(1 << 30)
    request.node.user_properties.append(("seed", seed))
    rng = random.Random(seed)
    data = (tmp_path / "data").resolve()
    data.mkdir()
    key = tmp_path / "audit.pem"
    service = open_service(f"sqlite:///{data / DB}", load_signing_key(key))
    service.apply(operator(), demo_estate())
    service.close()
    baseline = Baseline.take(data)

    acknowledged = _crash(
        shim, mode, data, shadow=tmp_path / "shadow", key=key, crash=crash, rng=rng
    )
    if crash not in ("sync1", "sync2", "sync3", "random"):
        assert acknowledged, "the writer died before its first commit returned"

    dropped = tmp_path / "dropped"
    rebuild(baseline, tmp_path / "shadow", dropped)
    _check(f"sqlite:///{dropped / DB}", key, mode, acknowledged, tmp_path / "a")
    reordered = tmp_path / "reordered"
    kept = rebuild(baseline, tmp_path / "shadow", reordered, rng)
    request.node.user_properties.append(("unsynced bytes kept", kept))
    _check(f"sqlite:///{reordered / DB}", key, mode, acknowledged, tmp_path / "b")

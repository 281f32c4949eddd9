"""`tenantry drift` on the running lab: reports hand edits, repairs them, audits both."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from tenantry.cli import app
from tenantry.dataplane.ovn.daemons import run_tool
from tests.helpers.estates import EXAMPLES
from tests.integration.dataplane.lab.conftest import RunningLab


def _drift(store: str, lab: RunningLab, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        ["--store", store, "drift", "--dir", str(lab.env.directory),
         "--spec", str(EXAMPLES / "two-tenants.yaml"), *extra],
    )  # fmt: skip
    return result.exit_code, " ".join(result.output.split())


def test_drift_is_reported_repaired_and_audited(lab: RunningLab, tmp_path: Path) -> None:
    """Emptied port security is drift (exit 1); --repair restores it; both are audited."""
    store = f"sqlite:///{tmp_path / 'audit.db'}"
    assert _drift(store, lab)[0] == 0
    nb = lab.env.deployment().nb_remote
    run_tool(["ovn-nbctl", f"--db={nb}", "lsp-set-port-security", "acme/a2/eth0"])
    deadline = time.monotonic() + 5
    code, output = _drift(store, lab)
    while code == 0 and time.monotonic() < deadline:  # the edit reaches the replica async
        code, output = _drift(store, lab)
    assert code == 1
    assert "acme/a2/eth0: port_security is []" in output
    code, output = _drift(store, lab, "--repair")
    assert code == 0
    assert "Repaired" in output
    assert _drift(store, lab)[0] == 0
    engine = create_engine(store)
    with engine.connect() as conn:
        actions = [
            json.loads(row[0])["action"]
            for row in conn.execute(text("select body from audit_entries"))
        ]
    engine.dispose()
    assert "dataplane.drift.detected" in actions
    assert "dataplane.drift.repaired" in actions


def test_watch_repairs_within_seconds(lab: RunningLab, tmp_path: Path) -> None:
    """With --watch and --repair, a hand edit is undone on the next round (row 10: ≤ 5 s)."""
    store = f"sqlite:///{tmp_path / 'audit.db'}"
    nb = lab.env.deployment().nb_remote
    run_tool(["ovn-nbctl", f"--db={nb}", "set", "NB_Global", ".", "options:default_acl_drop=false"])
    start = time.monotonic()
    code, output = _drift(store, lab, "--repair", "--watch", "0.5", "--rounds", "4")
    assert code == 0
    assert "Repaired" in output
    assert time.monotonic() - start < 5
    value = run_tool(
        ["ovn-nbctl", f"--db={nb}", "get", "NB_Global", ".", "options:default_acl_drop"]
    )
    assert value.strip() == '"true"'

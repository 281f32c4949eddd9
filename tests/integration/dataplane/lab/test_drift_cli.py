"""`tenantry drift` on the running lab: reports hand edits, repairs them, audits both."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
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


def test_reconcile_watch_repairs_a_hand_edit_within_the_sla(
    lab: RunningLab, tmp_path: Path
) -> None:
    """`tenantry reconcile --watch`, a separate long-running process, undoes a hand edit in
    under 5 s from the edit (measured) and audits it; nobody runs `drift` (row 10)."""
    store = f"sqlite:///{tmp_path / 'audit.db'}"
    nb = lab.env.deployment().nb_remote
    daemon = subprocess.Popen(
        [sys.executable, "-m", "tenantry", "--store", store, "reconcile", "--watch",
         "--dir", str(lab.env.directory), "--spec", str(EXAMPLES / "two-tenants.yaml"),
         "--duration", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    try:
        assert daemon.stdout is not None
        banner = daemon.stdout.readline()
        assert "Reconciling" in banner, banner
        get = ["ovn-nbctl", f"--db={nb}", "get", "Logical_Switch_Port", "acme/a2/eth0",
               "port_security"]  # fmt: skip
        before = run_tool(get)
        run_tool(["ovn-nbctl", f"--db={nb}", "lsp-set-port-security", "acme/a2/eth0"])
        edited = time.monotonic()
        while run_tool(get) != before and time.monotonic() - edited < 5:
            time.sleep(0.01)
        took = time.monotonic() - edited
        assert run_tool(get) == before, "not repaired within 5 s"
        assert took < 5
    finally:
        daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, output
    assert "Repaired" in output and "Stopped after 1 repair(s)" in output, output
    engine = create_engine(store)
    with engine.connect() as conn:
        actions = [
            json.loads(row[0])["action"]
            for row in conn.execute(text("select body from audit_entries"))
        ]
    engine.dispose()
    assert actions.count("dataplane.drift.repaired") == 1

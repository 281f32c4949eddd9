"""`tenantry apply` enforces on the reference backend and says so."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tenantry.cli import app
from tests.helpers.estates import EXAMPLES


def test_apply_reports_what_the_reference_backend_enforces(tmp_path: Path) -> None:
    """The apply output ends with the enforcement summary (demo.yaml: two-tenants.yaml leaks on
    purpose, through its bridged guests, and admission refuses it)."""
    store = f"sqlite:///{tmp_path / 't.db'}"
    result = CliRunner().invoke(app, ["--store", store, "apply", str(EXAMPLES / "demo.yaml")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Enforced on the reference backend" in text
    assert "16 ports" in text

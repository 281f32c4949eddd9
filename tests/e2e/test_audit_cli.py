"""The auditor's and the tenant's workflows through `tenantry audit ...`.

Operator applies the demo estate; a tenant pins the key, takes its bundle and verifies it
offline; an auditor exports, publishes checkpoints and verifies the stored log. Tampering
with the store or a bundle makes `verify` exit 1 and name the first bad entry.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tenantry.cli import app
from tests.helpers.audit import DEMO
from tests.integration.store.tampering import dba, restore, rewrite, snapshot


@pytest.fixture
def cli(tmp_path: Path) -> tuple[CliRunner, dict[str, str], str]:
    """A runner with its own home (signing key) and a SQLite store holding the demo estate."""
    url = f"sqlite:///{tmp_path / 'tenantry.db'}"
    env = {"TENANTRY_HOME": str(tmp_path / "home"), "TENANTRY_STORE": url}
    runner = CliRunner()
    result = runner.invoke(app, ["apply", str(DEMO)], env=env)
    assert result.exit_code == 0, result.output
    for i in range(3):
        spec = DEMO.read_text().replace(
            "description: Public web shop", f"description: Public web shop v{i}"
        )
        changed = tmp_path / f"demo-{i}.yaml"
        changed.write_text(spec)
        assert runner.invoke(app, ["apply", str(changed)], env=env).exit_code == 0
    return runner, env, url


def _run(cli: tuple[CliRunner, dict[str, str], str], *args: str) -> tuple[int, str]:
    runner, env, _ = cli
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_the_stored_log_verifies_and_shows_its_head(
    cli: tuple[CliRunner, dict[str, str], str],
) -> None:
    """`audit verify` exits 0 on an untouched log; `audit head` shows the signed size."""
    code, output = _run(cli, "audit", "verify")
    assert code == 0, output
    assert "verified: 8 entries" in output
    code, output = _run(cli, "audit", "head", "-o", "json")
    assert json.loads(output)["size"] == 8


def test_a_tenant_verifies_its_bundle_offline_with_the_pinned_key(
    cli: tuple[CliRunner, dict[str, str], str], tmp_path: Path
) -> None:
    """The tenant's flow: get the key, take a bundle at a generation, verify it, exit 0."""
    key, bundle = tmp_path / "provider.pem", tmp_path / "web.json"
    assert _run(cli, "audit", "key", "-o", str(key))[0] == 0
    code, output = _run(cli, "audit", "bundle", "--at", "2", "--tenant", "web", "-o", str(bundle))
    assert code == 0, output
    data = json.loads(bundle.read_text())
    assert data["scope"] == "web"
    assert all("hr/" not in e["body"] and "finance" not in e["body"] for e in data["entries"])
    code, output = _run(cli, "audit", "verify", str(bundle), "--key", str(key))
    assert code == 0, output
    assert "verified" in output


def test_a_doctored_bundle_fails_offline_naming_the_entry(
    cli: tuple[CliRunner, dict[str, str], str], tmp_path: Path
) -> None:
    """Editing an entry in the bundle file: exit 1, and the entry is named."""
    key, bundle = tmp_path / "provider.pem", tmp_path / "web.json"
    _run(cli, "audit", "key", "-o", str(key))
    _run(cli, "audit", "bundle", "--tenant", "web", "-o", str(bundle))
    data = json.loads(bundle.read_text())
    seq = data["entries"][1]["seq"]
    data["entries"][1]["body"] = data["entries"][1]["body"].replace("update", "delete")
    bundle.write_text(json.dumps(data))
    code, output = _run(cli, "audit", "verify", str(bundle), "--key", str(key))
    assert code == 1
    assert f"first bad entry: {seq}" in output


def test_a_bundle_checked_against_another_key_fails(
    cli: tuple[CliRunner, dict[str, str], str], tmp_path: Path
) -> None:
    """Pinning a different key (a swapped signer) fails the bundle: exit 1."""
    from tenantry.audit import Ed25519Signer, public_key_pem

    other, bundle = tmp_path / "other.pem", tmp_path / "b.json"
    other.write_text(public_key_pem(Ed25519Signer.generate().public_key()))
    _run(cli, "audit", "bundle", "-o", str(bundle))
    code, output = _run(cli, "audit", "verify", str(bundle), "--key", str(other))
    assert code == 1
    assert "wrong-key" in output


def test_a_tampered_store_fails_verify_naming_the_first_bad_entry(
    cli: tuple[CliRunner, dict[str, str], str],
) -> None:
    """An UPDATE straight into the database: `audit verify` exits 1 and names entry 6."""
    _, _, url = cli
    with dba(url) as sql:
        rewrite(sql, 6, "update tenant web", "delete tenant web", rehash=True)
    code, output = _run(cli, "audit", "verify")
    assert code == 1
    assert "first bad entry: 6" in output


def test_exports_in_every_format(cli: tuple[CliRunner, dict[str, str], str]) -> None:
    """JSON lines, CSV and CADF for the whole log, and only its own entries for a tenant."""
    code, output = _run(cli, "audit", "export", "-f", "jsonl")
    assert code == 0
    assert [json.loads(line)["seq"] for line in output.splitlines()] == list(range(8))
    code, output = _run(cli, "audit", "export", "-f", "csv", "--tenant", "hr")
    rows = list(csv.DictReader(io.StringIO(output)))
    assert [r["tenants"] for r in rows] == ["hr"]
    code, output = _run(cli, "audit", "export", "-f", "cadf")
    events = [json.loads(line) for line in output.splitlines()]
    assert {e["typeURI"] for e in events} == {"http://schemas.dmtf.org/cloud/audit/1.0/event"}


def test_tail_prove_and_consistency(cli: tuple[CliRunner, dict[str, str], str]) -> None:
    """A tenant tails its entries and proves one; a proof of another's entry is not found."""
    code, output = _run(cli, "audit", "tail", "--tenant", "web", "-n", "2")
    assert code == 0
    assert len(output.splitlines()) == 2
    code, output = _run(cli, "audit", "prove", "7", "--tenant", "web")
    assert code == 0
    assert json.loads(output)["verified"] is True
    code, output = _run(cli, "audit", "prove", "1", "--tenant", "web")
    assert code == 4  # entry 1 is finance's: same answer as a missing one
    code, output = _run(cli, "audit", "consistency", "5")
    assert code == 0
    assert json.loads(output)["proof"]["new_size"] == 8


def test_checkpoints_flag_a_rollback_and_rewrite(
    cli: tuple[CliRunner, dict[str, str], str], tmp_path: Path
) -> None:
    """Publish to a witness, restore an older backup and write again: check and verify exit 1."""
    runner, env, url = cli
    witness = tmp_path / "witness"
    snapshot(url, "backup")
    assert runner.invoke(app, ["apply", str(tmp_path / "demo-0.yaml")], env=env).exit_code == 0
    code, output = _run(cli, "audit", "checkpoint", "publish", str(witness))
    assert code == 0, output
    assert _run(cli, "audit", "checkpoint", "check", str(witness))[0] == 0
    restore(url, "backup")
    for i in (1, 2):
        assert (
            runner.invoke(app, ["apply", str(tmp_path / f"demo-{i}.yaml")], env=env).exit_code == 0
        )
    code, output = _run(cli, "audit", "checkpoint", "check", str(witness))
    assert code == 1
    assert "fork" in output
    code, output = _run(cli, "audit", "verify", "--witness", str(witness))
    assert code == 1
    assert _run(cli, "audit", "checkpoint", "publish", str(witness))[0] == 1


def test_bad_input_is_a_clear_error(
    cli: tuple[CliRunner, dict[str, str], str], tmp_path: Path
) -> None:
    """A file that is not a bundle, or a key that is not a key: exit 3 with what and where."""
    garbage = tmp_path / "garbage.json"
    garbage.write_text('{"format": "tenantry-audit-bundle/1", "entries": 3}')
    code, output = _run(cli, "audit", "verify", str(garbage))
    assert code == 3
    assert "bundle" in output
    bad_key = tmp_path / "key.pem"
    bad_key.write_text("hello")
    code, output = _run(cli, "audit", "verify", "--key", str(bad_key))
    assert code == 3
    _, _, url = cli
    with dba(url) as sql:
        assert sql.execute(text("SELECT count(*) FROM audit_entries")).scalar() == 8


def test_a_tenant_without_a_key_must_pin_the_log_somehow(
    cli: tuple[CliRunner, dict[str, str], str], tmp_path: Path
) -> None:
    """On a machine without the provider's key, a bundle is refused until something pins the
    log (exit 3); the tenant's own witness directory pins it by log id (exit 0). No key is
    ever created just to verify."""
    runner, env, _ = cli
    bundle, witness = tmp_path / "web.json", tmp_path / "witness"
    _run(cli, "audit", "bundle", "--tenant", "web", "-o", str(bundle))
    _run(cli, "audit", "checkpoint", "publish", str(witness))
    tenant_home = tmp_path / "tenant-home"
    tenant: dict[str, str | None] = {
        "TENANTRY_HOME": str(tenant_home),
        "TENANTRY_STORE": env["TENANTRY_STORE"],
        "TENANTRY_AUDIT_KEY": None,  # the tenant's machine has no provider key
    }

    result = runner.invoke(app, ["audit", "verify", str(bundle)], env=tenant)
    assert result.exit_code == 3
    assert "nothing to pin" in result.output
    result = runner.invoke(
        app, ["audit", "verify", str(bundle), "--witness", str(witness)], env=tenant
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["audit", "verify"], env=tenant)
    assert result.exit_code == 3
    assert "no audit signing key" in result.output
    assert not (tenant_home / "audit-signing-key.pem").exists()

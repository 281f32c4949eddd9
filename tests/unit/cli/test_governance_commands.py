"""Governance commands on the local store: the bootstrap of each domain's first administrator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tenantry.cli import app
from tests.helpers.specs import ASSETS

SPEC = ASSETS / "specs" / "two-tenants.yaml"
PASSWORD = "correct horse battery staple\n"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TENANTRY_SERVER", raising=False)
    runner = CliRunner()
    store = f"sqlite:///{tmp_path / 'tenantry.db'}"

    def invoke(*args: str, stdin: str | None = None) -> Any:
        return runner.invoke(app, ["--store", store, *args], input=stdin)

    assert invoke("apply", str(SPEC)).exit_code == 0
    return invoke


def test_local_operator_bootstraps_a_tenant_administrator(run: Any) -> None:
    """users create acme/bob --role administrator; bob is listed in acme's domain."""
    created = run(
        "users", "create", "acme/bob", "--role", "administrator", "--password-stdin", stdin=PASSWORD
    )
    assert created.exit_code == 0, created.output
    listed = run("users", "list", "--domain", "acme")
    assert "bob" in listed.output and listed.exit_code == 0


def test_user_in_a_missing_tenant_is_refused(run: Any) -> None:
    """A domain is a tenant that exists, or the provider (exit 4 otherwise)."""
    result = run("users", "create", "nowhere/bob", "--password-stdin", stdin=PASSWORD)
    assert result.exit_code == 4, result.output


def test_short_password_is_refused(run: Any) -> None:
    """Password rules hold for the local operator too (exit 3)."""
    result = run("users", "create", "alice", "--password-stdin", stdin="short\n")
    assert result.exit_code == 3, result.output


def test_disable_and_unlock_a_user(run: Any) -> None:
    """The local operator disables and unlocks users of any domain."""
    run("users", "create", "alice", "--password-stdin", stdin=PASSWORD)
    assert run("users", "disable", "provider/alice").exit_code == 0
    assert "true" in run("users", "list").output
    assert run("users", "enable", "alice").exit_code == 0
    assert run("users", "unlock", "alice").exit_code == 0


def test_grant_gives_a_group_a_role(run: Any) -> None:
    """users grant maps a directory group to a role on a node."""
    result = run("users", "grant", "group:netops", "read-only", "--scope", "tenant/acme")
    assert result.exit_code == 0 and "tenant/acme" in result.output, result.output


def test_tokens_need_a_logged_in_user(run: Any) -> None:
    """The local operator has no API tokens of its own (exit 3)."""
    assert run("tokens", "list").exit_code == 3


def test_login_needs_a_server(run: Any) -> None:
    """login without --server is a usage error of the input kind (exit 3)."""
    assert run("login", "alice", "--password-stdin", stdin=PASSWORD).exit_code == 3


def test_approvals_and_grants_list_locally(run: Any) -> None:
    """Empty lists print an empty table and exit 0."""
    assert run("approvals", "list").exit_code == 0
    assert run("grants", "list").exit_code == 0
    assert run("sessions", "list").exit_code == 0


def test_serve_refuses_half_a_tls_identity(run: Any, tmp_path: Path) -> None:
    """--cert without --key is refused before anything listens."""
    cert = tmp_path / "c.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\n")
    result = run("serve", "--cert", str(cert), "--port", "1")
    assert result.exit_code == 3, result.output
